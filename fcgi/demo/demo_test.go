// Demo backend tests: every route and role through a raw client over real sockets.

package demo_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/png"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const ioTimeout = 10 * time.Second

// result is one request's answer, split into the CGI header block and body.
type result struct {
	stdout, stderr []byte
	stdoutRecs     []int // content length of each STDOUT record
	end            *fcgi.EndRequest
	head, body     string
}

// header returns the values of the CGI header name (case-insensitive).
func (r *result) header(name string) []string {
	var out []string
	for _, line := range strings.Split(r.head, "\r\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(k, name) {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}

type request struct {
	role        fcgi.Role
	id          uint16
	params      []fcgi.Pair
	stdin, data []byte
}

// do sends req on a new connection (KEEP_CONN=0) and reads the answer.
func do(t *testing.T, network, addr string, req request) *result {
	t.Helper()
	nc, err := net.DialTimeout(network, addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(ioTimeout))
	if req.role == 0 {
		req.role = fcgi.RoleResponder
	}
	if req.id == 0 {
		req.id = 1
	}
	w := fcgi.NewWriter(nc)
	errc := make(chan error, 1)
	go func() {
		err := w.WriteBeginRequest(req.id, req.role, 0)
		if err == nil {
			err = w.WriteParams(req.id, req.params)
		}
		if err == nil {
			err = w.WriteStream(fcgi.TypeStdin, req.id, req.stdin)
		}
		if err == nil {
			err = w.CloseStream(fcgi.TypeStdin, req.id)
		}
		if err == nil && req.data != nil {
			err = w.WriteStream(fcgi.TypeData, req.id, req.data)
			if err == nil {
				err = w.CloseStream(fcgi.TypeData, req.id)
			}
		}
		errc <- err
	}()
	res := &result{}
	r := fcgi.NewReader(nc)
	for res.end == nil {
		rec, err := r.ReadRecord()
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if rec.RequestID != req.id {
			t.Fatalf("%s record for request %d, want %d", rec.Type, rec.RequestID, req.id)
		}
		if rec.PaddingLength != fcgi.PaddingFor(int(rec.ContentLength)) {
			t.Errorf("%s record: padding %d for %d bytes", rec.Type, rec.PaddingLength, rec.ContentLength)
		}
		switch rec.Type {
		case fcgi.TypeStdout:
			res.stdout = append(res.stdout, rec.Content()...)
			res.stdoutRecs = append(res.stdoutRecs, int(rec.ContentLength))
		case fcgi.TypeStderr:
			res.stderr = append(res.stderr, rec.Content()...)
		case fcgi.TypeEndRequest:
			res.end = rec.Body.(*fcgi.EndRequest)
		default:
			t.Fatalf("unexpected %s record", rec.Type)
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("sending: %v", err)
	}
	if _, err := r.ReadRecord(); !errors.Is(err, io.EOF) {
		t.Errorf("after END_REQUEST of a KEEP_CONN=0 request: %v, want EOF", err)
	}
	if res.end.ProtocolStatus != fcgi.StatusRequestComplete {
		t.Errorf("END_REQUEST protocol status %s", res.end.ProtocolStatus)
	}
	head, body, ok := strings.Cut(string(res.stdout), "\r\n\r\n")
	if !ok {
		t.Fatalf("no CGI header block in %q", res.stdout)
	}
	res.head, res.body = head, body
	return res
}

// get runs a RESPONDER request for path?query.
func get(t *testing.T, addr, path, query string) *result {
	t.Helper()
	return do(t, "tcp", addr, request{params: []fcgi.Pair{
		{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: query}}})
}

func checkStatus(t *testing.T, r *result, want string) {
	t.Helper()
	got := r.header("Status")
	if want == "" && len(got) != 0 || want != "" && (len(got) != 1 || got[0] != want) {
		t.Errorf("Status %q, want %q", got, want)
	}
}

func checkType(t *testing.T, r *result, want string) {
	t.Helper()
	if got := r.header("Content-Type"); len(got) != 1 || !strings.HasPrefix(got[0], want) {
		t.Errorf("Content-Type %q, want %s", got, want)
	}
}

func TestIndex(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("Addr %q", addr)
	}
	for _, path := range []string{"/", "/index"} {
		r := get(t, addr, path, "")
		checkStatus(t, r, "")
		checkType(t, r, "text/html")
		for _, rt := range demo.Routes() {
			if !strings.Contains(r.body, "<code>"+rt.Path+"</code>") || !strings.Contains(r.body, html.EscapeString(rt.Summary)) {
				t.Errorf("%s: index lacks route %s", path, rt.Path)
			}
		}
	}
}

type echo struct {
	Role        string      `json:"role"`
	RequestID   int         `json:"request_id"`
	KeepConn    bool        `json:"keep_conn"`
	Params      []fcgi.Pair `json:"params"`
	StdinLength int         `json:"stdin_length"`
	Stdin       *string     `json:"stdin"`
	StdinBase64 *string     `json:"stdin_base64"`
	DataLength  *int        `json:"data_length"`
}

func decodeEcho(t *testing.T, r *result) echo {
	t.Helper()
	checkType(t, r, "application/json")
	var e echo
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("decoding %q: %v", r.body, err)
	}
	return e
}

func TestEcho(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	params := []fcgi.Pair{{Name: "SCRIPT_NAME", Value: "/echo"}, {Name: "B", Value: "2"}, {Name: "A", Value: "1"}, {Name: "B", Value: "3"}, {Name: "EMPTY", Value: ""},
		{Name: "LONG", Value: strings.Repeat("v", 300)}}

	r := do(t, "tcp", addr, request{id: 7, params: params, stdin: []byte("héllo")})
	e := decodeEcho(t, r)
	if e.Role != "RESPONDER" || e.RequestID != 7 || e.KeepConn || e.StdinLength != 6 ||
		e.Stdin == nil || *e.Stdin != "héllo" || e.StdinBase64 != nil || e.DataLength != nil {
		t.Errorf("echo %+v", e)
	}
	if fmt.Sprint(e.Params) != fmt.Sprint(params) {
		t.Errorf("params %v, want %v in order", e.Params, params)
	}
	// Field order follows the brief.
	keys := []string{`"role"`, `"request_id"`, `"keep_conn"`, `"params"`, `"stdin_length"`, `"stdin"`}
	for i := 1; i < len(keys); i++ {
		if strings.Index(r.body, keys[i-1]) > strings.Index(r.body, keys[i]) {
			t.Errorf("%s comes after %s", keys[i-1], keys[i])
		}
	}

	bin := []byte{0xff, 0x00, 0xfe, 'a'}
	e = decodeEcho(t, do(t, "tcp", addr, request{params: params[:1], stdin: bin}))
	if e.Stdin != nil || e.StdinBase64 == nil || *e.StdinBase64 != base64.StdEncoding.EncodeToString(bin) || e.StdinLength != 4 {
		t.Errorf("binary stdin: %+v", e)
	}

	big := bytes.Repeat([]byte("z"), 200000)
	e = decodeEcho(t, do(t, "tcp", addr, request{params: params[:1], stdin: big}))
	if e.StdinLength != len(big) {
		t.Errorf("stdin_length %d, want %d", e.StdinLength, len(big))
	}

	// /echo answers the other roles too.
	e = decodeEcho(t, do(t, "tcp", addr, request{role: fcgi.RoleFilter, params: params[:1], stdin: []byte("in"), data: []byte("12345")}))
	if e.Role != "FILTER" || e.DataLength == nil || *e.DataLength != 5 || *e.Stdin != "in" {
		t.Errorf("filter echo: %+v", e)
	}
	e = decodeEcho(t, do(t, "tcp", addr, request{role: fcgi.RoleAuthorizer, params: params[:1]}))
	if e.Role != "AUTHORIZER" {
		t.Errorf("authorizer echo: %+v", e)
	}
}

func TestPathAndQuerySources(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	for _, tc := range []struct {
		params []fcgi.Pair
		want   string // first line of the body
	}{
		{[]fcgi.Pair{{Name: "DOCUMENT_URI", Value: "/status"}, {Name: "QUERY_STRING", Value: "code=410"}}, "status 410: Gone"},
		{[]fcgi.Pair{{Name: "REQUEST_URI", Value: "/status?code=418"}}, "status 418: I'm a teapot"},
		{[]fcgi.Pair{{Name: "SCRIPT_NAME", Value: "/status"}, {Name: "DOCUMENT_URI", Value: "/echo"}, {Name: "QUERY_STRING", Value: "code=503"}}, "status 503: Service Unavailable"},
		{[]fcgi.Pair{{Name: "REQUEST_URI", Value: "/status?code=404"}, {Name: "QUERY_STRING", Value: "code=402"}}, "status 402: Payment Required"},
	} {
		r := do(t, "tcp", addr, request{params: tc.params})
		if got, _, _ := strings.Cut(r.body, "\n"); got != tc.want {
			t.Errorf("%v: body %q, want %q", tc.params, got, tc.want)
		}
	}
}

func TestStderr(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	for _, tc := range []struct {
		query  string
		lines  int
		status uint32
	}{
		{"", 3, 0},
		{"lines=5&app_status=3", 5, 3},
		{"lines=0", 0, 0},
	} {
		r := get(t, addr, "/stderr", tc.query)
		checkStatus(t, r, "")
		checkType(t, r, "text/plain")
		if got := strings.Count(string(r.stderr), "\n"); got != tc.lines {
			t.Errorf("%q: %d stderr lines (%q), want %d", tc.query, got, r.stderr, tc.lines)
		}
		if r.end.AppStatus != tc.status {
			t.Errorf("%q: app status %d, want %d", tc.query, r.end.AppStatus, tc.status)
		}
		if r.body == "" {
			t.Errorf("%q: empty body", tc.query)
		}
	}
}

func TestStatusAndRedirect(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := get(t, addr, "/status", "code=503")
	checkStatus(t, r, "503 Service Unavailable")
	checkType(t, r, "text/plain")
	r = get(t, addr, "/status", "")
	checkStatus(t, r, "")

	r = get(t, addr, "/redirect", "to="+"https%3A%2F%2Fexample.org%2Fx%3Fy%3D1")
	checkStatus(t, r, "302 Found")
	if got := r.header("Location"); len(got) != 1 || got[0] != "https://example.org/x?y=1" {
		t.Errorf("Location %q", got)
	}
	r = get(t, addr, "/redirect", "")
	if got := r.header("Location"); len(got) != 1 || got[0] != "/echo" {
		t.Errorf("default Location %q", got)
	}
	r = get(t, addr, "/redirect", "to=%2Fa%0D%0AX-Evil:%201")
	checkStatus(t, r, "400 Bad Request")
	if len(r.header("X-Evil")) != 0 || len(r.header("Location")) != 0 {
		t.Errorf("header injection through ?to=: %q", r.head)
	}
}

func TestSlow(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := get(t, addr, "/slow", "ms=1&chunks=4")
	if n := strings.Count(r.body, "chunk "); n != 4 {
		t.Errorf("%d chunks in %q, want 4", n, r.body)
	}
	// Header block and each chunk are separate records, then the empty one.
	if len(r.stdoutRecs) != 6 {
		t.Errorf("STDOUT records %v, want 6 (header, 4 chunks, end)", r.stdoutRecs)
	}
}

func TestLarge(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	for _, tc := range []struct {
		query string
		n     int
	}{{"bytes=200000", 200000}, {"", 1 << 20}, {"bytes=0", 0}} {
		r := get(t, addr, "/large", tc.query)
		if len(r.body) != tc.n {
			t.Errorf("%q: body of %d bytes, want %d", tc.query, len(r.body), tc.n)
		}
		if got := r.header("Content-Length"); len(got) != 1 || got[0] != fmt.Sprint(tc.n) {
			t.Errorf("%q: Content-Length %q", tc.query, got)
		}
		for _, n := range r.stdoutRecs {
			if n > fcgi.MaxContent {
				t.Errorf("record of %d bytes", n)
			}
		}
		if tc.n > 0 && !strings.HasPrefix(r.body, "fcgiscope demo line 000000 ") {
			t.Errorf("body starts %q", r.body[:min(40, len(r.body))])
		}
	}
}

func TestCookieImageHTML(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := get(t, addr, "/cookie", "")
	if got := r.header("Set-Cookie"); len(got) != 2 || got[0] == got[1] {
		t.Errorf("Set-Cookie %q, want two different cookies", got)
	}

	r = get(t, addr, "/image", "")
	checkType(t, r, "image/png")
	img, err := png.Decode(strings.NewReader(r.body))
	if err != nil {
		t.Fatalf("decoding the PNG: %v", err)
	}
	if img.Bounds().Dx() == 0 {
		t.Error("empty image")
	}

	r = get(t, addr, "/html", "")
	checkType(t, r, "text/html")
	if !strings.Contains(r.body, "<html>") {
		t.Errorf("body %q", r.body)
	}
}

func TestNotFound(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := get(t, addr, "/nope", "")
	checkStatus(t, r, "404 Not Found")
	checkType(t, r, "text/plain")
	if !strings.Contains(string(r.stderr), `unknown path "/nope"`) {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestAuthorizer(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := do(t, "tcp", addr, request{role: fcgi.RoleAuthorizer, params: []fcgi.Pair{
		{Name: "REQUEST_URI", Value: "/private"}, {Name: "HTTP_AUTHORIZATION", Value: "Basic ZGVtbzpkZW1v"}}})
	checkStatus(t, r, "")
	if u, l := r.header("Variable-AUTH_USER"), r.header("Variable-AUTH_LEVEL"); len(u) != 1 || u[0] != "demo" || len(l) != 1 || l[0] != "admin" {
		t.Errorf("variables %q %q", u, l)
	}
	r = do(t, "tcp", addr, request{role: fcgi.RoleAuthorizer, params: []fcgi.Pair{{Name: "REQUEST_URI", Value: "/private"}}})
	checkStatus(t, r, "403 Forbidden")
	if len(r.header("Variable-AUTH_USER")) != 0 {
		t.Errorf("403 carries variables: %q", r.head)
	}
}

func TestFilter(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	file := []byte("<p>file to filter</p>\n")
	r := do(t, "tcp", addr, request{role: fcgi.RoleFilter, params: []fcgi.Pair{
		{Name: "SCRIPT_NAME", Value: "/page.html"}, {Name: "FCGI_DATA_LENGTH", Value: fmt.Sprint(len(file))}, {Name: "FCGI_DATA_LAST_MOD", Value: "1700000000"}},
		stdin: []byte("ignored"), data: file})
	want := fmt.Sprintf("FCGI_DATA_LENGTH=%d FCGI_DATA_LAST_MOD=1700000000 received=%d\n%s", len(file), len(file), file)
	if r.body != want {
		t.Errorf("body %q, want %q", r.body, want)
	}
	if len(r.stderr) != 0 {
		t.Errorf("stderr %q for a matching length", r.stderr)
	}
	r = do(t, "tcp", addr, request{role: fcgi.RoleFilter, params: []fcgi.Pair{
		{Name: "SCRIPT_NAME", Value: "/page.html"}, {Name: "FCGI_DATA_LENGTH", Value: "99"}}, data: file})
	if !strings.Contains(string(r.stderr), `FCGI_DATA_LENGTH is "99" but 22 bytes`) {
		t.Errorf("stderr %q, want a length mismatch", r.stderr)
	}
}

func TestGetValuesAndMultiplexing(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(ioTimeout))
	w, r := fcgi.NewWriter(nc), fcgi.NewReader(nc)
	if err := w.WriteGetValues([]string{fcgi.ValueMaxConns, fcgi.ValueMaxReqs, fcgi.ValueMpxsConns}); err != nil {
		t.Fatal(err)
	}
	rec, err := r.ReadRecord()
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Body.(*fcgi.Pairs).List()
	want := []fcgi.Pair{{Name: fcgi.ValueMaxConns, Value: "16"}, {Name: fcgi.ValueMaxReqs, Value: "64"}, {Name: fcgi.ValueMpxsConns, Value: "1"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GET_VALUES_RESULT %v, want %v", got, want)
	}
	// A slow request and a quick one on the same connection: the quick one
	// ends first.
	for i, path := range []string{"/slow", "/html"} {
		id := uint16(i + 1)
		err := w.WriteBeginRequest(id, fcgi.RoleResponder, fcgi.FlagKeepConn)
		if err == nil {
			err = w.WriteParams(id, []fcgi.Pair{{Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: "ms=50&chunks=2"}})
		}
		if err == nil {
			err = w.CloseStream(fcgi.TypeStdin, id)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	var ended []uint16
	for len(ended) < 2 {
		rec, err := r.ReadRecord()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type == fcgi.TypeEndRequest {
			ended = append(ended, rec.RequestID)
		}
	}
	if ended[0] != 2 {
		t.Errorf("END_REQUEST order %v, want the quick request 2 first", ended)
	}
}

func TestUnixSocketAndContext(t *testing.T) {
	dir, err := os.MkdirTemp("", "demo")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "d.sock")
	ctx, cancel := context.WithCancel(context.Background())
	b, err := demo.Start(ctx, "unix:"+sock)
	if err != nil {
		t.Fatal(err)
	}
	if b.Addr() != sock {
		t.Errorf("Addr %q, want %q", b.Addr(), sock)
	}
	r := do(t, "unix", sock, request{params: []fcgi.Pair{{Name: "SCRIPT_NAME", Value: "/html"}}})
	checkType(t, r, "text/html")
	// Cancelling the context stops the backend.
	cancel()
	deadline := time.Now().Add(ioTimeout)
	for {
		nc, err := net.Dial("unix", sock)
		if err != nil {
			break
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("the backend still accepts after its context was cancelled")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := b.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestStartBadAddress(t *testing.T) {
	if _, err := demo.Start(context.Background(), "127.0.0.1:notaport"); err == nil || !strings.HasPrefix(err.Error(), "demo: ") {
		t.Errorf("Start with a bad address: %v", err)
	}
}
