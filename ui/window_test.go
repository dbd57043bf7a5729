// Tests of the inspector window against the real demo backend over loopback, on the headless test driver.

package ui

import (
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// inspWait bounds every wait for the demo backend; the requests take
// milliseconds, the bound only stops a broken test.
const inspWait = 10 * time.Second

// inspFixture is a window wired to a demo backend on loopback.
type inspFixture struct {
	*window
	q *queue
}

func newInspFixture(t *testing.T) *inspFixture {
	t.Helper()
	q := newQueue()
	return &inspFixture{window: openWindow(t, q, windowOptions{}), q: q}
}

// send taps Send and waits for the exchange to finish.
func (f *inspFixture) send(t *testing.T) *session.Exchange {
	t.Helper()
	test.Tap(f.in.SendButton())
	if !f.in.Busy() {
		t.Fatalf("Send did not start a request; state %q", f.in.State())
	}
	f.waitIdle(t)
	return f.in.Exchange()
}

// waitIdle waits for the request in flight to finish.
func (f *inspFixture) waitIdle(t *testing.T) {
	t.Helper()
	f.q.waitFor(t, "the request to finish", inspWait, func() bool { return !f.in.Busy() })
}

// setURL types a new request target into the URL entry.
func (f *inspFixture) setURL(t *testing.T, u string) {
	t.Helper()
	e := f.in.Compose().HTTP().url
	e.SetText("")
	test.Type(e, u)
	if e.Text != u {
		t.Fatalf("URL entry holds %q after typing %q", e.Text, u)
	}
}

// recordTypes lists the types the record list shows, in order.
func recordTypes(r *ResultsPanel) []string {
	out := make([]string, r.Len())
	for i := range out {
		out[i] = r.row(i).Type.String()
	}
	return out
}

func TestFirstLaunchUsesDemoBackend(t *testing.T) {
	f := newInspFixture(t)
	in := f.in
	if got := in.Target().Address(); got != f.demo {
		t.Errorf("target = %q, want the demo backend at %q", got, f.demo)
	}
	if !in.Target().IsDemo() || !strings.Contains(in.Target().Info(), "demo backend") {
		t.Errorf("target info = %q, want it to name the demo backend", in.Target().Info())
	}
	c := in.Compose()
	if c.Mode() != session.ModeHTTP || c.HTTP().url.Text != DefaultURL || c.HTTP().method.Selected != "GET" {
		t.Errorf("compose = %s %s %s, want HTTP mode, GET %s", c.Mode(), c.HTTP().method.Selected, c.HTTP().url.Text, DefaultURL)
	}
	if n := len(c.HTTP().Input().Headers); n < 2 {
		t.Errorf("default request has %d headers, want a couple", n)
	}
	// The preview shows the final params, each with the middleware that set it.
	rows := c.HTTP().preview.Rows()
	origin := map[string]string{}
	for _, r := range rows {
		origin[r[0]] = r[2]
	}
	for name, want := range map[string]string{
		"QUERY_STRING": session.OriginCGI, "HTTP_ACCEPT": session.OriginHeaders,
		"REMOTE_ADDR": session.OriginRemote, "SCRIPT_FILENAME": session.OriginRouter,
	} {
		if origin[name] != want {
			t.Errorf("preview: %s origin = %q, want %q (rows %q)", name, origin[name], want, rows)
		}
	}
	if errs, warns := c.Problems(); len(errs)+len(warns) > 0 {
		t.Errorf("default request has problems: %q %q", errs, warns)
	}
}

func TestSendShowsRecordsStderrAndResponse(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/stderr?lines=3")
	f.q.settle()
	x := f.send(t)
	in := f.in

	types := recordTypes(in.Results())
	if len(types) < 5 || types[0] != "BEGIN_REQUEST" || types[len(types)-1] != "END_REQUEST" {
		t.Fatalf("records = %v, want BEGIN_REQUEST … END_REQUEST", types)
	}
	for _, want := range []string{"PARAMS", "STDOUT", "STDERR"} {
		if !slices.Contains(types, want) {
			t.Errorf("records = %v, want a %s record", types, want)
		}
	}
	if got := in.Stderr().Title(); got != "Stderr (3 lines)" {
		t.Errorf("stderr title = %q, want %q", got, "Stderr (3 lines)")
	}
	if got := in.Stderr().Text(); !strings.Contains(got, "demo: stderr line 3 of 3") {
		t.Errorf("stderr = %q, want the demo's third line", got)
	}
	r := in.Response()
	if r.Status() != "200 OK" {
		t.Errorf("status = %q, want 200 OK", r.Status())
	}
	if r.View() != ViewText || !strings.Contains(r.ViewText(ViewText), "wrote 3 lines to STDERR") {
		t.Errorf("body view %s shows %q, want the demo's text", r.View(), r.ViewText(ViewText))
	}
	if !slices.ContainsFunc(r.Headers(), func(h []string) bool { return h[0] == "Content-Type" && strings.HasPrefix(h[1], "text/plain") }) {
		t.Errorf("headers = %q, want Content-Type text/plain", r.Headers())
	}
	if !strings.Contains(r.end.Text, "app status 0 · REQUEST_COMPLETE") {
		t.Errorf("END_REQUEST line = %q", r.end.Text)
	}
	if !strings.HasPrefix(in.State(), "Done: 200 OK") {
		t.Errorf("state = %q, want Done: 200 OK", in.State())
	}
	if !strings.Contains(in.stats.Text, "records") || !strings.Contains(in.stats.Text, "received") {
		t.Errorf("progress line = %q", in.stats.Text)
	}
	if x.End() == nil {
		t.Error("the exchange has no END_REQUEST")
	}
}

func TestEchoShowsPrettyJSON(t *testing.T) {
	f := newInspFixture(t)
	f.send(t) // the default request: GET /echo?hello=world
	r := f.in.Response()
	if r.View() != ViewJSON {
		t.Fatalf("view = %s, want JSON for application/json", r.View())
	}
	text := r.ViewText(ViewJSON)
	if !strings.Contains(text, "\n  \"params\": [") || !strings.Contains(text, "hello=world") {
		t.Errorf("JSON view is not the pretty-printed echo:\n%s", text)
	}
}

func TestImageAndHTMLViews(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/image")
	f.send(t)
	r := f.in.Response()
	if r.View() != ViewImage || r.image.Image == nil || r.image.Image.Bounds().Dx() != 16 {
		t.Errorf("view = %s, image %v; want the demo's 16×16 PNG", r.View(), r.image.Image)
	}
	f.setURL(t, "/html")
	f.send(t)
	if r.View() != ViewHTML || !strings.Contains(r.ViewText(ViewHTML), "<") {
		t.Errorf("view = %s showing %q, want HTML source", r.View(), r.ViewText(ViewHTML))
	}
	r.SelectView(ViewHex)
	if r.bodyHex.Len() != len(f.in.Exchange().Response().Body) {
		t.Errorf("hex view holds %d bytes, want the %d of the body", r.bodyHex.Len(), len(f.in.Exchange().Response().Body))
	}
}

func TestSelectingStdoutRecordHighlightsRawStdout(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/slow?ms=1&chunks=3")
	x := f.send(t)
	res := f.in.Results()
	var stdoutRecs []int
	for _, info := range x.Records() {
		if info.Type == fcgi.TypeStdout && info.ContentLength > 0 {
			stdoutRecs = append(stdoutRecs, info.Index)
		}
	}
	if len(stdoutRecs) < 2 {
		t.Fatalf("want several STDOUT records from /slow, got %v", recordTypes(res))
	}
	last := stdoutRecs[len(stdoutRecs)-1]
	res.List().Select(last)
	if got := res.Detail().Record(); got == nil || got.Index != last || got.Type != fcgi.TypeStdout {
		t.Fatalf("detail shows %+v, want record %d", got, last)
	}
	info, _ := x.Record(last)
	stdout := x.Stdout()
	wantEnd := len(stdout)
	wantStart := wantEnd - int(info.ContentLength)
	r := f.in.Response()
	if r.View() != ViewStdout {
		t.Errorf("view = %s, want the raw stdout", r.View())
	}
	if s, e := r.stdout.Highlighted(); s != wantStart || e != wantEnd {
		t.Errorf("raw stdout highlight = [%d, %d), want [%d, %d)", s, e, wantStart, wantEnd)
	}
	if !strings.HasPrefix(string(stdout[wantStart:wantEnd]), "chunk 3 of 3") {
		t.Errorf("highlighted bytes %q are not the last chunk", stdout[wantStart:wantEnd])
	}
}

func TestRecordsArriveLive(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/slow?ms=150&chunks=4")
	test.Tap(f.in.SendButton())
	// While the request runs, the records so far are already listed.
	f.q.waitFor(t, "a STDOUT record while sending", inspWait, func() bool {
		return slices.Contains(recordTypes(f.in.Results()), "STDOUT")
	})
	if !f.in.Busy() {
		t.Fatal("the request ended before its chunks were shown live")
	}
	if f.in.SendButton().Disabled() == false || f.in.CancelButton().Disabled() {
		t.Error("while sending, Send should be disabled and Cancel enabled")
	}
	f.waitIdle(t)
	if got := strings.Count(f.in.Response().ViewText(ViewText), "chunk "); got != 4 {
		t.Errorf("body has %d chunks, want 4", got)
	}
}

func TestCancelKeepsRecordsAndSaysAborted(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/slow?ms=200&chunks=50")
	test.Tap(f.in.SendButton())
	f.q.waitFor(t, "the first STDOUT record", inspWait, func() bool {
		return slices.Contains(recordTypes(f.in.Results()), "STDOUT")
	})
	test.Tap(f.in.CancelButton())
	f.waitIdle(t)
	types := recordTypes(f.in.Results())
	if types[0] != "BEGIN_REQUEST" || !slices.Contains(types, "STDOUT") || !slices.Contains(types, "ABORT_REQUEST") {
		t.Errorf("records after cancel = %v, want what arrived plus ABORT_REQUEST", types)
	}
	if got := f.in.Response().ErrorText(); !strings.Contains(got, "Aborted") {
		t.Errorf("response error = %q, want it to say aborted", got)
	}
	if !strings.Contains(f.in.State(), "Aborted") {
		t.Errorf("state = %q, want it to say aborted", f.in.State())
	}
	if f.in.SendButton().Disabled() || !f.in.CancelButton().Disabled() {
		t.Error("after the cancel, Send should be enabled and Cancel disabled")
	}
}

func TestEscapeCancels(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/slow?ms=200&chunks=50")
	// Escape reaches the window when no entry has the focus ...
	f.in.Window().Canvas().Unfocus()
	test.Tap(f.in.SendButton())
	f.in.Window().Canvas().(interface{ OnTypedKey() func(*fyne.KeyEvent) }).OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	f.waitIdle(t)
	wantAborted(t, f.in, "Escape")
	// ... and through a focused entry.
	test.Tap(f.in.SendButton())
	f.in.Compose().HTTP().url.TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	f.waitIdle(t)
	wantAborted(t, f.in, "Escape in an entry")
}

// wantAborted checks that the exchange shown was aborted and the status
// line says so: "Aborted: ABORT_REQUEST sent", or, when the cancel came
// before anything was sent, "Cancelled before the request was sent".
func wantAborted(t *testing.T, in *Inspector, after string) {
	t.Helper()
	fail := in.Exchange().Failure()
	if fail == nil || fail.Kind != session.FailAborted || !strings.HasPrefix(in.State(), fail.Title) {
		t.Errorf("after %s: state %q, failure %+v; want an abort, said on the status line", after, in.State(), fail)
	}
}

func TestRefusedConnectionShowsError(t *testing.T) {
	f := newInspFixture(t)
	addr := fcgitest.RefusedAddr(t, "tcp")
	f.in.Target().SetAddress(addr)
	f.send(t)
	r := f.in.Response()
	if got := r.ErrorText(); got != "Cannot connect to "+addr+": connection refused" {
		t.Errorf("response error = %q, want it to say it cannot connect to %s", got, addr)
	}
	if r.Status() != "No response" {
		t.Errorf("status = %q, want No response", r.Status())
	}
	if !strings.Contains(f.in.State(), "Cannot connect") {
		t.Errorf("state = %q", f.in.State())
	}
	// A target that never answered is not remembered.
	if slices.Contains(recentTargets(f.app.Preferences()), addr) {
		t.Errorf("recent targets %q remember the refused %s", recentTargets(f.app.Preferences()), addr)
	}
}

func TestBadTargetIsRefusedBeforeSending(t *testing.T) {
	f := newInspFixture(t)
	f.in.Target().SetAddress("not an address")
	if !strings.Contains(f.in.Target().Info(), "host:port") {
		t.Errorf("target info = %q, want it to say what an address looks like", f.in.Target().Info())
	}
	test.Tap(f.in.SendButton())
	if f.in.Busy() || !strings.HasPrefix(f.in.State(), "Cannot send") {
		t.Errorf("busy %v, state %q; want the send refused", f.in.Busy(), f.in.State())
	}
}

func TestModeSwitchKeepsInput(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	f.setURL(t, "/status?code=404")
	f.q.settle()
	test.Tap(c.modeBtns[session.ModeRaw])
	if c.Mode() != session.ModeRaw {
		t.Fatalf("mode = %s after tapping Raw params", c.Mode())
	}
	// The first visit to Raw mode starts from the HTTP preview.
	items := c.Raw().Items()
	if !slices.ContainsFunc(items, func(p session.RawParam) bool { return p.Name == "QUERY_STRING" && p.Value == "code=404" }) {
		t.Fatalf("raw params = %v, want the HTTP preview's", items)
	}
	n := c.Raw().Len()
	c.Raw().Add(session.RawParam{Enabled: true})
	test.Type(c.Raw().NameEntry(n), "X_CUSTOM")
	test.Type(c.Raw().ValueEntry(n), "kept")

	test.Tap(c.modeBtns[session.ModeHTTP])
	if got := c.HTTP().url.Text; got != "/status?code=404" {
		t.Errorf("URL after switching back = %q", got)
	}
	test.Tap(c.modeBtns[session.ModeRaw])
	items = c.Raw().Items()
	if len(items) != n+1 || items[n] != (session.RawParam{Name: "X_CUSTOM", Value: "kept", Enabled: true}) {
		t.Errorf("raw params after two switches = %v, want the edit kept", items[max(0, len(items)-2):])
	}
	// And Raw mode sends exactly those params.
	f.q.settle()
	x := f.send(t)
	if v, ok := x.Params().Get("X_CUSTOM"); !ok || v != "kept" {
		t.Errorf("sent params %v lack X_CUSTOM=kept", x.Params())
	}
	if f.in.Response().Status() != "404 Not Found" {
		t.Errorf("status = %q, want 404 Not Found", f.in.Response().Status())
	}
	if f.in.Response().status.Importance != statusImportance(404) {
		t.Error("a 404 is not shown in the error colour")
	}
}

func TestRawModeEditing(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	c.SetMode(session.ModeRaw)
	c.Raw().SetItems(nil)
	added, bad := c.PasteParams("SCRIPT_NAME=/echo\n# comment\nREQUEST_METHOD=POST\nnot a param\nSCRIPT_FILENAME=echo.php\n")
	if added != 3 || len(bad) != 1 || !strings.Contains(bad[0], "line 4") {
		t.Fatalf("paste added %d, bad %q", added, bad)
	}
	c.SetBody("hello")
	f.q.settle()
	_, warns := c.Problems()
	if len(warns) != 2 || !strings.Contains(warns[0], "relative") || !strings.Contains(warns[1], "CONTENT_LENGTH is not set") {
		t.Errorf("warnings = %q, want relative SCRIPT_FILENAME and body without CONTENT_LENGTH", warns)
	}
	c.FillContentParams()
	items := c.Raw().Items()
	items[2].Value = "/var/www/html/echo.php"
	c.Raw().SetItems(items)
	f.q.settle()
	if errs, warns := c.Problems(); len(errs)+len(warns) != 0 {
		t.Errorf("after the fixes: %q %q", errs, warns)
	}
	// Move the last param up, disable one, remove one (the editor's
	// buttons are tested in package view).
	last := c.Raw().Len() - 1
	c.Raw().MoveRow(last, -1)
	if got := c.Raw().Items()[last-1].Name; got != "CONTENT_LENGTH" {
		t.Errorf("after move up, row %d is %q", last-1, got)
	}
	items = c.Raw().Items()
	items[1].Enabled = false // REQUEST_METHOD
	c.Raw().SetItems(items)
	c.Raw().Remove(0)
	names := []string{}
	for _, p := range c.Raw().Items() {
		names = append(names, p.Name)
	}
	if want := []string{"REQUEST_METHOD", "CONTENT_LENGTH", "SCRIPT_FILENAME"}; !slices.Equal(names, want) {
		t.Errorf("rows = %v, want %v", names, want)
	}
	x := f.send(t)
	if _, ok := x.Params().Get("REQUEST_METHOD"); ok {
		t.Error("a disabled param was sent")
	}
	if got, _ := x.Params().Get("CONTENT_LENGTH"); got != "5" {
		t.Errorf("CONTENT_LENGTH sent = %q, want 5", got)
	}
	if string(x.Stdin()) != "hello" {
		t.Errorf("STDIN = %q, want the body", x.Stdin())
	}
}

func TestCtrlEnterSends(t *testing.T) {
	f := newInspFixture(t)
	// On the window canvas ...
	f.in.Window().Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(sendShortcut)
	if !f.in.Busy() {
		t.Fatal("Ctrl+Enter on the canvas did not send")
	}
	f.waitIdle(t)
	if f.in.Response().Status() != "200 OK" {
		t.Errorf("status = %q", f.in.Response().Status())
	}
	// ... and from an entry that has the focus (the body editor).
	body := f.in.Compose().body
	f.in.Window().Canvas().Focus(body)
	body.TypedShortcut(sendShortcut)
	if !f.in.Busy() {
		t.Fatal("Ctrl+Enter in the body editor did not send")
	}
	f.waitIdle(t)
	// Other shortcuts still reach the entry.
	body.SetText("abc")
	body.TypedShortcut(&fyne.ShortcutSelectAll{})
	if body.SelectedText() != "abc" {
		t.Errorf("select all in the body selected %q", body.SelectedText())
	}
}

func TestGetValuesProbe(t *testing.T) {
	f := newInspFixture(t)
	test.Tap(f.in.Target().probe)
	f.q.waitFor(t, "the GET_VALUES answer", inspWait, func() bool { return strings.Contains(f.in.Target().Values(), "MAX_CONNS") })
	want := "MAX_CONNS 16 · MAX_REQS 64 · MPXS_CONNS 1"
	if got := f.in.Target().Values(); got != want {
		t.Errorf("values = %q, want %q", got, want)
	}
	f.in.Target().SetAddress(fcgitest.RefusedAddr(t, "tcp"))
	test.Tap(f.in.Target().probe)
	f.q.waitFor(t, "the GET_VALUES failure", inspWait, func() bool { return strings.Contains(f.in.Target().Values(), "failed") })
}

func TestFilterRoleSendsDataFile(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	c.role.SetSelected(RoleFilter)
	if c.dataRow.Hidden {
		t.Fatal("the data file row is hidden for the Filter role")
	}
	f.q.settle()
	if errs, _ := c.Problems(); len(errs) == 0 || !strings.Contains(errs[0], "data file") {
		t.Errorf("problems without a data file = %q", errs)
	}
	path := t.TempDir() + "/data.txt"
	if err := os.WriteFile(path, []byte("filtered data"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.dataFile.SetText(path)
	f.q.settle()
	x := f.send(t)
	if x.Role() != fcgi.RoleFilter || string(x.Data()) != "filtered data" {
		t.Errorf("role %v, DATA %q; want FILTER with the file", x.Role(), x.Data())
	}
	if got, _ := x.Params().Get("FCGI_DATA_LENGTH"); got != "13" {
		t.Errorf("FCGI_DATA_LENGTH = %q", got)
	}
}

func TestRequestIDAndKeepConn(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	test.Type(c.reqID, "70000")
	f.q.settle()
	if errs, _ := c.Problems(); len(errs) == 0 || !strings.Contains(errs[0], "1 to 65535") {
		t.Errorf("problems = %q, want the request id refused", errs)
	}
	test.Tap(f.in.SendButton())
	if f.in.Busy() {
		t.Fatal("sent with a bad request id")
	}
	c.reqID.SetText("7")
	c.keep.SetChecked(true)
	x := f.send(t)
	if x.RequestID() != 7 || !x.KeepConn() {
		t.Errorf("request id %d keep_conn %v, want 7 and true", x.RequestID(), x.KeepConn())
	}
}

func TestPrefsRememberWindowAndTargets(t *testing.T) {
	f := newInspFixture(t)
	in := f.in
	in.splits[PrefSplitMain].SetOffset(0.4)
	in.Window().Resize(fyne.NewSize(1500, 900))
	in.SavePrefs()
	p := f.app.Preferences()
	if w, h := p.Float(PrefWindowWidth), p.Float(PrefWindowHeight); w != 1500 || h != 900 {
		t.Errorf("window size saved as %v×%v", w, h)
	}
	if got := p.Float(PrefSplitMain); got < 0.39 || got > 0.41 {
		t.Errorf("main split saved as %v", got)
	}
	// A target that answered is remembered, the demo's port is not.
	other := fcgitest.StartDemo(t)
	f.send(t)
	in.Target().SetAddress(other)
	f.send(t)
	if got := recentTargets(p); !slices.Equal(got, []string{other}) {
		t.Errorf("recent targets = %q, want only %s", got, other)
	}
	if got := p.String(PrefLastTarget); got != other {
		t.Errorf("last target = %q", got)
	}
	if !slices.Contains(in.Target().Options(), other) {
		t.Errorf("drop-down %q lacks the remembered target", in.Target().Options())
	}
	// The next window starts where this one was left.
	next := NewInspector(f.app, Deps{Engine: in.deps.Engine, DemoAddr: f.demo, Do: f.q.Do})
	defer next.Close()
	if got := next.Target().Address(); got != other {
		t.Errorf("next launch target = %q, want %q", got, other)
	}
	if got := next.splits[PrefSplitMain].Offset; got < 0.39 || got > 0.41 {
		t.Errorf("next launch main split = %v", got)
	}
	f.q.settle()
}

func TestLongValuesKeepLayout(t *testing.T) {
	f := newInspFixture(t)
	long := strings.Repeat("very-long-value-", 400)
	c := f.in.Compose()
	c.HTTP().SetURL("/echo?q=" + long)
	c.HTTP().headers.Add(session.RawParam{Name: "X-Long", Value: long, Enabled: true})
	c.SetBody(strings.Repeat("word ", 800))
	f.q.settle()
	f.send(t)
	c.SetMode(session.ModeRaw)
	f.q.settle()
	if got := f.in.Window().Content().MinSize(); got.Width > 1600 || got.Height > 1000 {
		t.Errorf("window content asks for %v after long values; want it to fit 1600×1000", got)
	}
	if got := f.in.Compose().HTTP().preview.Rows(); !slices.ContainsFunc(got, func(r []string) bool { return r[0] == "HTTP_X_LONG" && r[1] == long }) {
		t.Error("the long header is not in the preview")
	}
}

func TestLiveUpdatesAreBatched(t *testing.T) {
	f := newInspFixture(t)
	var calls atomic.Int64
	do := f.in.do
	f.in.do = func(fn func()) { calls.Add(1); do(fn) }
	f.setURL(t, "/slow?ms=0&chunks=1000")
	f.q.settle()
	start := time.Now()
	x := f.send(t)
	elapsed := time.Since(start)
	records := x.Len()
	if records < 1000 {
		t.Fatalf("got %d records, want over 1000 (one STDOUT record per chunk)", records)
	}
	// One hand-over per tick plus the final one: never one per record.
	if max := int64(elapsed/liveInterval) + 3; calls.Load() > max {
		t.Errorf("%d hand-overs to the UI goroutine for %d records in %v, want at most %d", calls.Load(), records, elapsed, max)
	}
	if f.in.Results().Len() != records {
		t.Errorf("list shows %d of %d records", f.in.Results().Len(), records)
	}
}

func TestClosingWindowCancelsSend(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/slow?ms=200&chunks=100")
	test.Tap(f.in.SendButton())
	f.q.waitFor(t, "the first record", inspWait, func() bool { return f.in.Results().Len() > 0 })
	f.in.Window().Close()
	f.q.waitFor(t, "the cancelled request to end", inspWait, func() bool { return !f.in.Busy() })
	if got := f.in.Exchange().ErrorText(); !strings.Contains(got, "aborted") {
		t.Errorf("exchange error = %q, want aborted", got)
	}
	test.Tap(f.in.SendButton())
	if f.in.Busy() {
		t.Error("a closed window sent a request")
	}
}

func TestBodyFromFile(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	c.applyBodyFile("note.txt", []byte("text body"), nil)
	if c.body.Text != "text body" || c.body.Disabled() {
		t.Errorf("text file: editor %q disabled %v", c.body.Text, c.body.Disabled())
	}
	bin := []byte{0, 1, 2, 0xff, 0xfe}
	c.applyBodyFile("blob.bin", bin, nil)
	if !c.body.Disabled() || !strings.Contains(c.bodySize.Text, "blob.bin") {
		t.Errorf("binary file: editor disabled %v, size %q", c.body.Disabled(), c.bodySize.Text)
	}
	c.SetMode(session.ModeRaw)
	c.FillContentParams()
	f.q.settle()
	x := f.send(t)
	if string(x.Stdin()) != string(bin) {
		t.Errorf("STDIN = %q, want the binary file", x.Stdin())
	}
	test.Tap(c.bodyClear)
	if c.body.Disabled() || c.bodySize.Text != "empty" {
		t.Errorf("after Clear: disabled %v size %q", c.body.Disabled(), c.bodySize.Text)
	}
}

func TestAuthorizerRole(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	c.role.SetSelected(RoleAuthorizer)
	c.SetBody("ignored")
	f.q.settle()
	x := f.send(t) // GET /echo answers every role with its JSON
	if x.Role() != fcgi.RoleAuthorizer || len(x.Stdin()) != 0 {
		t.Errorf("role %v stdin %q; want AUTHORIZER without a body", x.Role(), x.Stdin())
	}
	if !strings.Contains(f.in.Response().ViewText(ViewJSON), `"role": "AUTHORIZER"`) {
		t.Errorf("echo = %s", f.in.Response().ViewText(ViewJSON))
	}
}
