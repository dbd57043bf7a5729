package history

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"

	"fcgiscope/fcgi"
)

// histServer is the demo backend on loopback with an engine to send to it.
type histServer struct {
	t    *testing.T
	addr string
	eng  *session.Engine
}

// histBackend starts the demo backend and returns a function that sends a
// responder request for a demo path to it and returns the finished
// Exchange.
func histBackend(t *testing.T) func(path, query string, extra ...session.Param) *session.Exchange {
	return newHistServer(t).send
}

func newHistServer(t *testing.T) *histServer {
	t.Helper()
	// Registered first, so checked last: after the backend and the pool
	// are closed, no goroutine they started may remain.
	sessiontest.NoLeaks(t)
	return &histServer{t: t, addr: fcgitest.StartDemo(t), eng: sessiontest.Engine(t, session.EngineOptions{Timeout: 10 * time.Second})}
}

// send sends a request for a demo path, the params recorded as the input.
func (s *histServer) send(path, query string, extra ...session.Param) *session.Exchange {
	s.t.Helper()
	ps := session.Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: path},
		{Name: "QUERY_STRING", Value: query}, {Name: "REQUEST_URI", Value: path + "?" + query}}
	ps = append(ps, extra...)
	in := session.Input{Mode: session.ModeRaw, Role: fcgi.RoleResponder}
	for _, p := range ps {
		in.Params = append(in.Params, session.RawParam{Name: p.Name, Value: p.Value, Enabled: true})
	}
	return s.do(&session.Request{Params: ps}, in)
}

// do sends req, recording in as the input.
func (s *histServer) do(req *session.Request, in session.Input) *session.Exchange {
	s.t.Helper()
	in.Target = s.addr
	x := session.NewExchange(in)
	if err := s.eng.Send(context.Background(), s.addr, req, x); err != nil {
		s.t.Fatalf("send: %v", err)
	}
	return x
}

// isolateConfig points the user's configuration folders at a temporary
// home, so that the default history folder is the test's own.
func isolateConfig(t *testing.T) (home string) {
	home = t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return home
}

func exchangeJSONOf(t *testing.T, x *session.Exchange) string {
	t.Helper()
	b, err := x.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func historyIDs(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestHistoryAddListLoadRestart(t *testing.T) {
	home := isolateConfig(t)
	send := histBackend(t)
	h, err := Open("", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.Dir(), home) || filepath.Base(h.Dir()) != "history" {
		t.Fatalf("history in %s", h.Dir())
	}
	x1 := send("/status", "code=404")
	x2 := send("/stderr", "lines=2")
	x3 := send("/echo", "a=1", session.Param{Name: "HTTP_X_MARKER", Value: "needle-in-params"})
	var ids []string
	for _, x := range []*session.Exchange{x1, x2, x3} {
		id, err := h.Add(x)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}

	list := h.List("")
	if got := historyIDs(list); !slices.Equal(got, []string{ids[2], ids[1], ids[0]}) {
		t.Fatalf("List = %v, want newest first %v", got, ids)
	}
	e := list[2]
	if e.Status != 404 || e.Reason != "Not Found" || e.Method != "GET" || e.URL != "/status?code=404" ||
		e.Target != x1.Target() || e.Role != fcgi.RoleResponder || e.Duration != x1.Timings().Total || e.Size <= 0 ||
		!e.Time.Equal(x1.Start()) {
		t.Errorf("entry = %+v", e)
	}
	if fi, err := os.Stat(filepath.Join(h.Dir(), ids[0]+".json")); err != nil || fi.Size() != e.Size {
		t.Errorf("entry file: %v, size %d vs %d", err, fi.Size(), e.Size)
	}

	got, err := h.Load(ids[2])
	if err != nil {
		t.Fatal(err)
	}
	if exchangeJSONOf(t, got) != exchangeJSONOf(t, x3) {
		t.Error("Load did not give back the exchange that was added")
	}

	// A new History on the same folder (the app restarted) sees the same.
	h2, err := Open(h.Dir(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(h2.Problems()) != 0 {
		t.Errorf("problems: %v", h2.Problems())
	}
	if !slices.Equal(historyIDs(h2.List("")), historyIDs(list)) {
		t.Errorf("after restart: %v", historyIDs(h2.List("")))
	}
	// Without the index, too: it is rebuilt from the files.
	if err := os.Remove(filepath.Join(h.Dir(), "index.json")); err != nil {
		t.Fatal(err)
	}
	h3, err := Open(h.Dir(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(historyIDs(h3.List("")), historyIDs(list)) || h3.List("")[2].Status != 404 {
		t.Errorf("rebuilt: %+v", h3.List(""))
	}
	if _, err := os.Stat(filepath.Join(h.Dir(), "index.json")); err != nil {
		t.Errorf("index not rewritten: %v", err)
	}

	// Delete and Clear.
	if err := h3.Delete(ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := h3.Load(ids[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("deleted entry loads: %v", err)
	}
	if err := h3.Delete(ids[1]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second delete: %v", err)
	}
	if h4, _ := Open(h.Dir(), Limits{}); h4.Len() != 2 {
		t.Errorf("after delete, a reopened history has %d entries", h4.Len())
	}
	if err := h3.Clear(); err != nil {
		t.Fatal(err)
	}
	if h3.Len() != 0 {
		t.Error("Clear left entries")
	}
	if h5, _ := Open(h.Dir(), Limits{}); h5.Len() != 0 {
		t.Errorf("after Clear, a reopened history has %d entries", h5.Len())
	}
	for _, bad := range []string{"../x", "", "a/b", ".index"} {
		if _, err := h3.Load(bad); err == nil {
			t.Errorf("Load(%q) worked", bad)
		}
	}
}

func TestHistoryFilter(t *testing.T) {
	isolateConfig(t)
	send := histBackend(t)
	h, err := Open(t.TempDir(), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	add := func(x *session.Exchange) string {
		id, err := h.Add(x)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	notFound := add(send("/status", "code=404"))
	teapot := add(send("/status", "code=418"))
	marked := add(send("/echo", "", session.Param{Name: "HTTP_X_MARKER", Value: "Needle-In-Params"}))
	stderr := add(send("/stderr", "lines=3"))
	// Over 16 KiB of stderr: the index keeps only its start, the end is
	// searched in the file.
	long := add(send("/stderr", "lines=900"))

	// The backend's port is random: the filters avoid bare numbers, which
	// could match the target.
	for filter, want := range map[string][]string{
		"":                           {long, stderr, marked, teapot, notFound},
		`"404 Not Found"`:            {notFound},
		"teapot":                     {teapot},
		"not found":                  {notFound},
		"needle-in-params":           {marked},
		"http_x_marker":              {marked},
		"/echo":                      {marked},
		"code=418":                   {teapot},
		"stderr line":                {long, stderr}, // every word somewhere
		`"line 2 of 3"`:              {stderr},       // a phrase
		`"of 3" stderr`:              {stderr},
		`"line 404 of 900`:           {long}, // unterminated: to the end
		`"line 899 of 900"`:          {long}, // beyond the indexed part
		`"LINE 899 OF 900"`:          {long},
		"status code=404":            {notFound},
		"no such text anywhere":      nil,
		`"line 899 of 900" teapot`:   nil,
		"  teapot  code=418 ":        {teapot},
		`"demo: stderr line 1 of 9"`: {long},
	} {
		if got := historyIDs(h.List(filter)); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %v, want %v", filter, got, want)
		}
	}
}

func TestHistoryLimits(t *testing.T) {
	isolateConfig(t)
	send := histBackend(t)
	dir := t.TempDir()
	h, err := Open(dir, Limits{MaxEntries: 3})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 5 {
		id, err := h.Add(send("/status", fmt.Sprintf("code=%d", 200+i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if got := historyIDs(h.List("")); !slices.Equal(got, []string{ids[4], ids[3], ids[2]}) {
		t.Errorf("by count: %v", got)
	}
	for _, old := range ids[:2] {
		if _, err := os.Stat(filepath.Join(dir, old+".json")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("evicted entry %s still on disk: %v", old, err)
		}
	}

	// By size: room for about two entries.
	size := h.List("")[0].Size
	if err := h.SetLimits(Limits{MaxEntries: -1, MaxBytes: 2*size + size/2}); err != nil {
		t.Fatal(err)
	}
	if got := historyIDs(h.List("")); !slices.Equal(got, []string{ids[4], ids[3]}) {
		t.Errorf("by size: %v", got)
	}
	// A reopened history applies its own limits.
	h2, err := Open(dir, Limits{MaxEntries: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := historyIDs(h2.List("")); !slices.Equal(got, []string{ids[4]}) {
		t.Errorf("reopened with 1: %v", got)
	}
	// The newest entry is kept even alone above the size limit.
	if err := h2.SetLimits(Limits{MaxBytes: 1}); err != nil {
		t.Fatal(err)
	}
	id, err := h2.Add(send("/large", "bytes=100000"))
	if err != nil {
		t.Fatal(err)
	}
	if got := historyIDs(h2.List("")); !slices.Equal(got, []string{id}) {
		t.Errorf("size 1: %v", got)
	}
	if x, err := h2.Load(id); err != nil || len(x.Response().Body) != 100000 {
		t.Errorf("large entry: %v", err)
	}
}

// TestHistoryCrashAndCorruption simulates a crash between writing an entry
// and its index, a crash inside a write (stray temporary file), a
// truncated entry, a corrupt index and a file of a newer format.
func TestHistoryCrashAndCorruption(t *testing.T) {
	isolateConfig(t)
	send := histBackend(t)
	dir := t.TempDir()
	h, err := Open(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := h.Add(send("/status", "code=201"))
	if err != nil {
		t.Fatal(err)
	}
	victim, err := h.Add(send("/status", "code=202"))
	if err != nil {
		t.Fatal(err)
	}
	index, _ := os.ReadFile(filepath.Join(dir, "index.json"))

	// An entry written just before a crash, the index not yet updated.
	late := send("/status", "code=203")
	lateData, err := session.EncodeExchangeFile(late, true)
	if err != nil {
		t.Fatal(err)
	}
	lateID := newID(late.Start())
	if err := os.WriteFile(filepath.Join(dir, lateID+".json"), lateData, 0o600); err != nil {
		t.Fatal(err)
	}
	// A crash inside a write: a stray temporary file.
	stray := filepath.Join(dir, "."+lateID+".json.999.tmp")
	if err := os.WriteFile(stray, lateData[:100], 0o600); err != nil {
		t.Fatal(err)
	}
	// A truncated entry.
	victimPath := filepath.Join(dir, victim+".json")
	full, _ := os.ReadFile(victimPath)
	truncated := full[:len(full)/2]
	if err := os.WriteFile(victimPath, truncated, 0o600); err != nil {
		t.Fatal(err)
	}
	// An entry of a future format.
	futureID := "20990101T000000.000000000Z-00000000"
	futurePath := filepath.Join(dir, futureID+".json")
	future := []byte(`{"kind":"fcgiscope-exchange","format":9,"exchange":{}}`)
	if err := os.WriteFile(futurePath, future, 0o600); err != nil {
		t.Fatal(err)
	}
	// And a corrupt index.
	if err := os.WriteFile(filepath.Join(dir, "index.json"), index[:len(index)-5], 0o600); err != nil {
		t.Fatal(err)
	}

	h2, err := Open(dir, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := historyIDs(h2.List("")); !slices.Equal(got, []string{lateID, keep}) {
		t.Errorf("List = %v, want the late entry and the intact one", got)
	}
	probs := errors.Join(h2.Problems()...)
	if len(h2.Problems()) != 3 || !strings.Contains(probs.Error(), victimPath) || !strings.Contains(probs.Error(), futurePath) ||
		!strings.Contains(probs.Error(), "index") || !strings.Contains(probs.Error(), "newer") {
		t.Errorf("problems = %v", probs)
	}
	// The damaged files are left as they were, never overwritten.
	if b, _ := os.ReadFile(victimPath); !bytes.Equal(b, truncated) {
		t.Error("truncated entry changed")
	}
	if b, _ := os.ReadFile(futurePath); !bytes.Equal(b, future) {
		t.Error("future entry changed")
	}
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("stray file: %v", err)
	}
	if _, err := h2.Load(victim); err == nil || !strings.Contains(err.Error(), victimPath) {
		t.Errorf("Load of a truncated entry: %v", err)
	}
	// Clear removes what the history knows and leaves the rest.
	if err := h2.Clear(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{victimPath, futurePath, stray} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("Clear removed %s: %v", p, err)
		}
	}
}

func TestCompare(t *testing.T) {
	isolateConfig(t)
	send := histBackend(t)
	a := send("/echo", "x=1", session.Param{Name: "HTTP_X_A", Value: "1"}, session.Param{Name: "HTTP_X_SAME", Value: "s"})
	b := send("/echo", "x=2", session.Param{Name: "HTTP_X_SAME", Value: "s"}, session.Param{Name: "HTTP_X_B", Value: "2"})
	d := Compare(a, b)
	if d.Equal() {
		t.Fatal("different exchanges compare equal")
	}
	kinds := func(rows []DiffRow) map[string]DiffKind {
		m := map[string]DiffKind{}
		for _, r := range rows {
			k := r.Left
			if k == "" {
				k = r.Right
			}
			m[k] = r.Kind
		}
		return m
	}
	pk := kinds(d.Params)
	if pk["REQUEST_METHOD=GET"] != DiffSame || pk["QUERY_STRING=x=1"] != DiffChanged || pk["HTTP_X_A=1"] != DiffRemoved ||
		pk["HTTP_X_B=2"] != DiffAdded || pk["HTTP_X_SAME=s"] != DiffSame {
		t.Errorf("params diff: %+v", d.Params)
	}
	for _, r := range d.Params {
		ln, _, _ := strings.Cut(r.Left, "=")
		rn, _, _ := strings.Cut(r.Right, "=")
		if r.Kind == DiffChanged && ln != rn {
			t.Errorf("changed row pairs %q with %q", r.Left, r.Right)
		}
	}
	if pk["REQUEST_URI=/echo?x=1"] != DiffChanged {
		t.Errorf("REQUEST_URI not changed: %+v", d.Params)
	}
	if hk := kinds(d.Headers); hk["Status: 200 OK"] != DiffSame || hk["Content-Type: application/json"] != DiffSame {
		t.Errorf("headers diff: %+v", d.Headers)
	}
	if d.BodyBinary {
		t.Error("JSON body taken for binary")
	}
	// The echo bodies differ in the query string and the marker params.
	var changed []string
	for _, r := range d.Body {
		if r.Kind != DiffSame {
			changed = append(changed, r.Kind.String()+" "+r.Left+" | "+r.Right)
		}
		if r.Kind == DiffSame && (r.LeftLine == 0 || r.RightLine == 0) {
			t.Errorf("same row without line numbers: %+v", r)
		}
	}
	if len(changed) == 0 || !strings.Contains(strings.Join(changed, "\n"), "x=2") {
		t.Errorf("body diff: %q", changed)
	}
	// An exchange equals itself, and a copy from its JSON.
	var c session.Exchange
	if err := json.Unmarshal([]byte(exchangeJSONOf(t, a)), &c); err != nil {
		t.Fatal(err)
	}
	if d := Compare(a, &c); !d.Equal() {
		t.Errorf("a copy differs: %+v", d)
	}
	// Binary bodies are summarized.
	img := send("/image", "")
	d2 := Compare(a, img)
	if !d2.BodyBinary || len(d2.Body) != 1 || d2.Body[0].Kind != DiffChanged || !strings.Contains(d2.Body[0].Right, "binary") {
		t.Errorf("binary diff: %+v", d2.Body)
	}
}

func TestDiffLines(t *testing.T) {
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, " ")
	}
	render := func(rows []DiffRow) string {
		var b strings.Builder
		for _, r := range rows {
			switch r.Kind {
			case DiffSame:
				fmt.Fprintf(&b, "=%s ", r.Left)
			case DiffChanged:
				fmt.Fprintf(&b, "~%s>%s ", r.Left, r.Right)
			case DiffRemoved:
				fmt.Fprintf(&b, "-%s ", r.Left)
			case DiffAdded:
				fmt.Fprintf(&b, "+%s ", r.Right)
			}
		}
		return strings.TrimSpace(b.String())
	}
	for _, tc := range []struct{ a, b, want string }{
		{"", "", ""},
		{"a b c", "a b c", "=a =b =c"},
		{"a b c", "a c", "=a -b =c"},
		{"a c", "a b c", "=a +b =c"},
		{"a b c", "a x c", "=a ~b>x =c"},
		{"", "a b", "+a +b"},
		{"a b", "", "-a -b"},
		{"a b c d e", "a c b d e", "=a -b =c +b =d =e"},
		{"x y", "y x", "-x =y +x"},
	} {
		if got := render(DiffLines(split(tc.a), split(tc.b), nil)); got != tc.want {
			t.Errorf("DiffLines(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
	// Line numbers follow each side.
	rows := DiffLines([]string{"a", "b", "c"}, []string{"b", "c", "d"}, nil)
	want := []DiffRow{{DiffRemoved, "a", "", 1, 0}, {DiffSame, "b", "b", 2, 1}, {DiffSame, "c", "c", 3, 2}, {DiffAdded, "", "d", 0, 3}}
	if !slices.Equal(rows, want) {
		t.Errorf("rows = %+v", rows)
	}
	// Keyed pairing matches by name, not by position.
	rows = DiffLines([]string{"A=1", "B=2"}, []string{"B=3"}, lineKey("="))
	if render(rows) != "-A=1 ~B=2>B=3" {
		t.Errorf("keyed = %q", render(rows))
	}
	// Beyond the table limit the middle is shown as removed then added,
	// paired by position.
	big := make([]string, 3000)
	big2 := make([]string, 3000)
	for i := range big {
		big[i], big2[i] = fmt.Sprint("l", i), fmt.Sprint("r", i)
	}
	rows = DiffLines(append([]string{"head"}, big...), append([]string{"head"}, big2...), nil)
	if len(rows) != 3001 || rows[0].Kind != DiffSame || rows[1].Kind != DiffChanged || rows[3000].Right != "r2999" {
		t.Errorf("large diff: %d rows, %+v", len(rows), rows[:2])
	}
}
