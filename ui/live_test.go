package ui

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
)

// liveWait bounds the waits of the Live tests: the tap, its decoders and
// the list on a busy machine.
const liveWait = 30 * time.Second

// liveFixture is the window with its Live panel open.
type liveFixture struct {
	*inspFixture
	lp *LivePanel
	wb *Workbench
}

func newLiveFixture(t *testing.T) *liveFixture {
	t.Helper()
	f := newInspFixture(t)
	wb := f.in.Workbench()
	f.q.waitFor(t, "the presets folder and the history to open", liveWait, func() bool {
		return wb.Presets.Store() != nil && wb.History.History() != nil
	})
	test.Tap(wb.liveBtn)
	if !wb.LiveShown() {
		t.Fatal("the activity bar's Live button did not open the Live panel")
	}
	f.q.settle()
	return &liveFixture{inspFixture: f, lp: wb.Live, wb: wb}
}

// startTap starts the tap from the panel on a unix socket in a temp dir,
// forwarding to upstream, and returns its address.
func (f *liveFixture) startTap(t *testing.T, upstream string) string {
	t.Helper()
	f.lp.listen.SetText("unix:" + filepath.Join(t.TempDir(), "tap.sock"))
	f.lp.upstream.SetText(upstream)
	test.Tap(f.lp.startBtn)
	f.q.waitFor(t, "the tap to listen", liveWait, func() bool { return f.lp.Addr() != "" || !f.lp.Running() })
	if f.lp.Addr() == "" {
		t.Fatalf("the tap did not start: %q", f.lp.Note())
	}
	return f.lp.Addr()
}

// through sends an HTTP request for url (with body when not nil) to addr,
// as a web server in front of the tap would.
func (f *liveFixture) through(t *testing.T, addr, method, url string, body []byte) {
	t.Helper()
	in := newRequestInput()
	in.Target = addr
	in.HTTP.Method, in.HTTP.URL = method, url
	if body != nil {
		in.HTTP.ContentType = "application/x-www-form-urlencoded"
		in.Body = body
	}
	sendInput(t, context.Background(), f.in.deps.Engine, in)
}

func (f *liveFixture) find(t *testing.T, uriPart string) int {
	t.Helper()
	for i := range f.lp.Shown() {
		if strings.Contains(f.lp.RowText(i), uriPart) {
			return i
		}
	}
	t.Fatalf("no row with %q among %d", uriPart, len(f.lp.Shown()))
	return -1
}

// TestLiveTapListFilterSelectResend: a tap started from the Live panel in
// front of the demo backend lists the requests sent through it, filters
// them, shows the one selected in the result panes, loads it into compose
// in Raw mode for sending again, and keeps it in the history and as a
// preset; Stop removes the socket.
func TestLiveTapListFilterSelectResend(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	addr := f.startTap(t, f.demo)
	if got := f.in.prefs.String(PrefLiveUpstream); got != f.demo {
		t.Errorf("upstream remembered as %q, want %q", got, f.demo)
	}
	if !strings.Contains(lp.Note(), "Listening on "+addr) {
		t.Errorf("note %q does not say where the tap listens", lp.Note())
	}

	f.through(t, addr, "GET", "/echo?a=1", nil)
	f.through(t, addr, "POST", "/echo?form", []byte("hello=world"))
	f.through(t, addr, "GET", "/stderr?lines=2", nil)
	f.through(t, addr, "GET", "/status?code=404", nil)
	f.q.waitFor(t, "4 exchanges in the list", liveWait, func() bool { return lp.Len() == 4 })
	if r := lp.RowText(0); !strings.Contains(r, "GET /status?code=404 | 404 |") {
		t.Errorf("newest row %q, want the 404 first", r)
	}
	if r := lp.RowText(f.find(t, "/stderr")); !strings.Contains(r, "stderr 2") {
		t.Errorf("row %q has no stderr badge", r)
	}

	// The filter.
	cases := []struct {
		text, status, slower string
		stderr               bool
		want                 int
	}{
		{"echo", StatusAny, "", false, 2},
		{"", Status4xx, "", false, 1},
		{"", Status2xx, "", false, 3},
		{"", StatusAny, "", true, 1},
		{"", StatusAny, "60000", false, 0},
		{"", StatusAny, "", false, 4},
	}
	for _, c := range cases {
		lp.SetFilter(c.text, c.status, c.slower, c.stderr, false)
		if n := len(lp.Shown()); n != c.want {
			t.Errorf("filter %+v: %d shown, want %d", c, n, c.want)
		}
	}
	lp.SetFilter("", StatusAny, "", true, false)
	if !strings.Contains(lp.RowText(0), "/stderr") {
		t.Errorf("stderr filter shows %q", lp.RowText(0))
	}
	lp.SetFilter("", StatusAny, "", false, false)

	// Selecting shows the exchange in the panes.
	lp.Select(f.find(t, "/stderr"))
	f.q.settle()
	if x := f.in.Exchange(); x == nil || x != lp.Selected() {
		t.Fatal("the selected exchange is not the one the panes show")
	}
	if got := f.in.Stderr().Lines(); got != 2 {
		t.Errorf("stderr pane shows %d lines, want 2", got)
	}
	if f.in.Results().Len() == 0 {
		t.Error("the records pane is empty")
	}

	// Edit and resend: raw params as sent, the body, target the upstream.
	post := f.find(t, "POST /echo?form")
	lp.Select(post)
	f.q.settle()
	x := lp.Selected()
	test.Tap(lp.resendBtn)
	f.q.settle()
	inp, err := f.in.Compose().Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if f.in.Compose().Mode() != session.ModeRaw {
		t.Errorf("compose mode %q, want raw", f.in.Compose().Mode())
	}
	var got, want []string
	for _, p := range inp.Params {
		got = append(got, p.Name+"="+p.Value)
	}
	for _, p := range x.Params() {
		want = append(want, p.Name+"="+p.Value)
	}
	if !slices.Equal(got, want) {
		t.Errorf("compose params\n%v\nwant as the web server sent them\n%v", got, want)
	}
	if string(inp.Body) != "hello=world" {
		t.Errorf("compose body %q", inp.Body)
	}
	if a := f.in.Target().Address(); a != f.demo {
		t.Errorf("target %q, want the upstream %q", a, f.demo)
	}
	sent := f.send(t)
	if r := sent.Response(); r == nil || r.Status != 200 || !bytes.Contains(r.Body, []byte("hello=world")) {
		t.Errorf("resent: %v", sent.ErrorText())
	}

	// Save to history and as a preset.
	lp.Select(f.find(t, "/status?code=404"))
	f.q.settle()
	before := len(f.wb.History.Entries())
	test.Tap(lp.historyBtn)
	f.q.waitFor(t, "the exchange in the history", liveWait, func() bool { return len(f.wb.History.Entries()) == before+1 })
	test.Tap(lp.presetBtn)
	p := f.wb.Presets
	if p.nameDlg == nil {
		t.Fatal("Save as preset did not ask for a name")
	}
	p.nameDlg.entry.SetText("live/status 404")
	p.nameDlg.dlg.Submit()
	f.q.waitFor(t, "the preset saved", liveWait, func() bool { return hasPreset(p, "live/status 404") })

	// Pause holds new exchanges back; Clear empties.
	test.Tap(lp.pauseBtn)
	f.through(t, addr, "GET", "/echo?paused", nil)
	f.q.waitFor(t, "one exchange waiting", liveWait, func() bool { return lp.waiting == 1 })
	if lp.Len() != 4 {
		t.Errorf("paused list grew to %d", lp.Len())
	}
	test.Tap(lp.pauseBtn)
	if lp.Len() != 5 {
		t.Errorf("resumed list has %d, want 5", lp.Len())
	}
	test.Tap(lp.clearBtn)
	if lp.Len() != 0 || len(lp.Shown()) != 0 {
		t.Errorf("Clear left %d", lp.Len())
	}

	test.Tap(lp.stopBtn)
	f.q.waitFor(t, "the tap to stop", liveWait, func() bool { return !lp.Running() })
	path := strings.TrimPrefix(addr, "unix:")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the socket %s is still there after Stop: %v", path, err)
	}
	if lp.Note() != "Stopped" {
		t.Errorf("note %q after Stop", lp.Note())
	}
}

// TestLiveTapErrors: a missing upstream and a listen path that exists are
// said in the panel, and the tap can be started again.
func TestLiveTapErrors(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	dir := t.TempDir()
	lp.listen.SetText("unix:" + filepath.Join(dir, "tap.sock"))
	lp.upstream.SetText("unix:" + filepath.Join(dir, "no-fpm.sock"))
	test.Tap(lp.startBtn)
	f.q.waitFor(t, "the start to fail", liveWait, func() bool { return !lp.Running() })
	if !strings.Contains(lp.Note(), "does not exist") || !strings.HasPrefix(lp.Note(), "Cannot tap:") {
		t.Errorf("missing upstream said %q", lp.Note())
	}
	if lp.startBtn.Disabled() {
		t.Error("Start stays disabled after a failure")
	}

	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	lp.listen.SetText("unix:" + file)
	lp.upstream.SetText(f.demo)
	test.Tap(lp.startBtn)
	f.q.waitFor(t, "the start to fail", liveWait, func() bool { return !lp.Running() })
	if !strings.Contains(lp.Note(), "exists and is not a socket") {
		t.Errorf("existing listen path said %q", lp.Note())
	}
	if b, _ := os.ReadFile(file); string(b) != "x" {
		t.Error("the file at the listen path was touched")
	}

	lp.upstream.SetText("")
	test.Tap(lp.startBtn)
	if lp.Running() || !strings.Contains(lp.Note(), "give the upstream") {
		t.Errorf("empty upstream: running %v, note %q", lp.Running(), lp.Note())
	}
}

// TestLiveTapUpstreamDown: when the application goes away under a
// running tap, the web server's connections are closed, and the panel says
// so and counts them.
func TestLiveTapUpstreamDown(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	b, err := demo.Start(context.Background(), "unix:"+filepath.Join(t.TempDir(), "app.sock"))
	must(t, err)
	addr := f.startTap(t, "unix:"+b.Addr())
	f.through(t, addr, "GET", "/echo?before", nil)
	f.q.waitFor(t, "the exchange before", liveWait, func() bool { return lp.Len() == 1 })
	must(t, b.Close())

	in := newRequestInput()
	in.Target = addr
	req, err := buildRequest(context.Background(), in)
	must(t, err)
	if err := f.in.deps.Engine.Send(context.Background(), addr, req, session.NewExchange(in)); err == nil {
		t.Error("a request through the tap to a closed application succeeded")
	}
	f.q.waitFor(t, "the upstream failure said", liveWait, func() bool {
		return strings.Contains(lp.Note(), "Upstream down") && strings.Contains(lp.LostText(), "1 connection not forwarded (upstream down)")
	})
	if !lp.Running() {
		t.Error("the tap stopped when the upstream went away")
	}
}

// writeCapture writes a pcapng (or pcap) capture of n requests to the port 9000,
// each on its own connection, and returns its bytes and its start time.
func writeCapture(t *testing.T, n int, pcap bool) ([]byte, time.Time) {
	t.Helper()
	var file bytes.Buffer
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	newWriter := sessiontest.NewCaptureWriter
	if pcap {
		newWriter = sessiontest.NewPcapWriter
	}
	cw, err := newWriter(&file, start)
	must(t, err)
	for i := range n {
		var rq, rs bytes.Buffer
		w := fcgi.NewWriter(&rq)
		uri := "/captured/" + string(rune('a'+i)) + ".php"
		must(t, w.WriteBeginRequest(1, fcgi.RoleResponder, 0))
		must(t, w.WriteParams(1, []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "REQUEST_URI", Value: uri}}))
		must(t, w.CloseStream(fcgi.TypeStdin, 1))
		ws := fcgi.NewWriter(&rs)
		must(t, ws.WriteStream(fcgi.TypeStdout, 1, []byte("Status: 201 Created\r\nContent-Type: text/plain\r\n\r\nok")))
		must(t, ws.WriteStream(fcgi.TypeStderr, 1, []byte("a warning\n")))
		must(t, ws.WriteEndRequest(1, 0, fcgi.StatusRequestComplete))
		c, err := cw.Conn(uint16(40000+i), 9000)
		must(t, err)
		must(t, c.Write(true, rq.Bytes(), 1448))
		must(t, c.Write(false, rs.Bytes(), 1448))
		must(t, c.Close())
	}
	must(t, cw.Flush())
	return file.Bytes(), start
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLiveOpenCapture: File ▸ Open capture reads a pcapng into the Live
// list with the capture's timestamps; a cut file keeps what was read and
// says where it is damaged; a file that is no capture is said so; a
// capture of another port finds no FastCGI.
func TestLiveOpenCapture(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	data, start := writeCapture(t, 3, false)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pcapng")
	must(t, os.WriteFile(good, data, 0o600))

	f.wb.OpenCapture()
	path, port, all, open, _, status := lp.CaptureDialog()
	if path == nil {
		t.Fatal("Open capture opened no dialog")
	}
	if port.Text != "9000" || all.Checked {
		t.Errorf("port %q all %v, want 9000 by default", port.Text, all.Checked)
	}
	path.SetText(good)
	test.Tap(open)
	f.q.waitFor(t, "the capture read", liveWait, func() bool { return !lp.Reading() })
	f.q.settle()
	if lp.Len() != 3 {
		t.Fatalf("%d exchanges listed, want 3; status %q", lp.Len(), status.Text)
	}
	if !strings.HasPrefix(status.Text, "Read 3 exchanges from good.pcapng") {
		t.Errorf("status %q", status.Text)
	}
	for _, x := range lp.Shown() {
		if d := x.Start().Sub(start); d < 0 || d > time.Second {
			t.Errorf("exchange at %v, not the capture's time %v", x.Start(), start)
		}
	}
	if r := lp.RowText(f.find(t, "/captured/a.php")); !strings.Contains(r, "| 201 |") || !strings.Contains(r, "stderr 1") {
		t.Errorf("captured row %q", r)
	}
	lp.Select(f.find(t, "/captured/b.php"))
	f.q.settle()
	if f.in.Exchange() != lp.Selected() || f.in.Stderr().Lines() != 1 {
		t.Error("the captured exchange selected is not shown in the panes")
	}
	if !strings.Contains(f.in.State(), "capture good.pcapng") {
		t.Errorf("status line %q does not name the capture", f.in.State())
	}

	// Cut in the third connection: the first two are kept, the error
	// says where.
	test.Tap(lp.clearBtn)
	cut := filepath.Join(dir, "cut.pcap")
	pcap, _ := writeCapture(t, 3, true)
	must(t, os.WriteFile(cut, pcap[:len(pcap)*5/6], 0o600))
	path.SetText(cut)
	test.Tap(open)
	f.q.waitFor(t, "the cut capture read", liveWait, func() bool { return !lp.Reading() })
	f.q.settle()
	if !strings.Contains(status.Text, "cut.pcap is damaged after packet") || !strings.Contains(status.Text, "read before are listed") {
		t.Errorf("cut capture said %q", status.Text)
	}
	if lp.Len() < 2 {
		t.Errorf("%d exchanges kept from the cut capture, want at least 2", lp.Len())
	}

	junk := filepath.Join(dir, "junk.pcapng")
	must(t, os.WriteFile(junk, []byte("this is not a capture file at all, not even close"), 0o600))
	path.SetText(junk)
	test.Tap(open)
	f.q.waitFor(t, "the junk read", liveWait, func() bool { return !lp.Reading() })
	if !strings.Contains(status.Text, "junk.pcapng: not a capture that can be read") {
		t.Errorf("junk said %q", status.Text)
	}

	path.SetText(good)
	port.SetText("8080")
	test.Tap(open)
	f.q.waitFor(t, "the read on port 8080", liveWait, func() bool { return !lp.Reading() })
	if !strings.Contains(status.Text, "No FastCGI found on port 8080") {
		t.Errorf("other port said %q", status.Text)
	}
	all.SetChecked(true)
	before := lp.Len()
	test.Tap(open)
	f.q.waitFor(t, "the read on all ports", liveWait, func() bool { return !lp.Reading() })
	f.q.settle()
	if lp.Len() != before+3 {
		t.Errorf("all ports: %d listed, want %d; %q", lp.Len(), before+3, status.Text)
	}
}
