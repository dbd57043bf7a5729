// Scale tests of the window: a 100 MiB response and 100,000 tiny records from the demo backend, with every function the UI goroutine runs timed and the process's peak RSS read in bytes.

package ui

import (
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/ui/view"
)

// scaleWait bounds the waits of the scale tests; the bound only stops a
// broken test (a 100 MiB send takes well under a second here).
const scaleWait = 60 * time.Second

// scalePayload is the body of the large-response tests: 100 MiB.
const scalePayload = 100 << 20

// Records of the many-records tests: /misbehave/dribble writes records of
// 1, 2, …, 8 bytes in turn (36 bytes per 8 records), its 45-byte header
// block included, so this body makes exactly scaleRecords STDOUT records.
const (
	scaleRecords    = 100_000
	scaleDribbleLen = scaleRecords/8*36 - 45
)

// uiCall is one function the UI goroutine ran, how long it took, and how
// much of that the UI goroutine's thread spent on a CPU (the rest it waited:
// for a CPU the backend and the client were using, or for the GC).
type uiCall struct {
	name string
	d    time.Duration
	cpu  time.Duration
}

// scaleQueue is the queue of the scale tests: it times every function it
// runs on the test goroutine, which plays the UI goroutine, and counts what
// workers queue; the test's own actions on the window (a tap, a selection)
// are timed through run. So the longest time the UI goroutine was blocked
// is known.
type scaleQueue struct {
	*queue
	calls []uiCall // UI goroutine only
}

func newScaleQueue() *scaleQueue {
	q := &scaleQueue{queue: newQueue()}
	q.each = func(f func(), _, _ int) { q.run(funcName(f), f) }
	return q
}

// run runs f as UI goroutine work, timed under name.
func (q *scaleQueue) run(name string, f func()) time.Duration {
	cpu0 := threadCPU()
	start := time.Now()
	f()
	d := time.Since(start)
	q.calls = append(q.calls, uiCall{name, d, threadCPU() - cpu0})
	return d
}

// threadCPU returns the CPU time of the calling thread, read from
// /proc/thread-self/schedstat (0 where there is none). The goroutine that
// plays the UI goroutine locks its thread (lockUIThread), so this is its
// own CPU time.
func threadCPU() time.Duration {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	ns, _ := strconv.ParseInt(f, 10, 64)
	return time.Duration(ns)
}

// lockUIThread keeps the calling goroutine, which plays the UI goroutine,
// on its own thread until the test ends, so that threadCPU measures it.
func lockUIThread(tb testing.TB) {
	runtime.LockOSThread()
	tb.Cleanup(runtime.UnlockOSThread)
}

// reset forgets the calls timed and the functions queued so far.
func (q *scaleQueue) reset() {
	q.calls = nil
	q.resetCount()
}

// longest returns the longest call since the last reset, and the call
// that spent the most CPU.
func (q *scaleQueue) longest() (wall, cpu uiCall) {
	for _, c := range q.calls {
		if c.d > wall.d {
			wall = c
		}
		if c.cpu > cpu.cpu {
			cpu = c
		}
	}
	return wall, cpu
}

// funcName names a queued function by where it was written, e.g.
// "(*Inspector).Send.func3.1".
func funcName(f func()) string {
	name := "?"
	if fn := runtime.FuncForPC(reflect.ValueOf(f).Pointer()); fn != nil {
		name = fn.Name()
	}
	return strings.TrimPrefix(name, "fcgiscope/ui.")
}

// scaleFixture is the window wired to the demo backend, its functions
// queued through a scaleQueue.
type scaleFixture struct {
	*window
	q *scaleQueue
}

// newScaleFixture opens the window as it ships, its presets and history
// in a temporary configuration directory.
func newScaleFixture(tb testing.TB) *scaleFixture {
	tb.Helper()
	q := newScaleQueue()
	return &scaleFixture{window: openWindow(tb, q, windowOptions{}), q: q}
}

// setURL types the request target into the URL entry.
func (f *scaleFixture) setURL(tb testing.TB, u string) {
	tb.Helper()
	e := f.in.Compose().HTTP().url
	e.SetText("")
	test.Type(e, u)
	if e.Text != u {
		tb.Fatalf("URL entry holds %q after typing %q", e.Text, u)
	}
	f.q.settle()
}

// send taps Send, as the UI goroutine, and pumps until the exchange is
// finished and shown.
func (f *scaleFixture) send(tb testing.TB) *session.Exchange {
	tb.Helper()
	f.q.run("tap Send", func() { test.Tap(f.in.SendButton()) })
	if !f.in.Busy() {
		tb.Fatalf("Send did not start a request; state %q", f.in.State())
	}
	f.q.waitFor(tb, "the request to finish", scaleWait, func() bool { return !f.in.Busy() })
	return f.in.Exchange()
}

// endRequestAt returns the wall time END_REQUEST was received.
func endRequestAt(tb testing.TB, x *session.Exchange) time.Time {
	tb.Helper()
	for i := x.Len() - 1; i >= 0; i-- {
		if r, _ := x.Record(i); r.Type == fcgi.TypeEndRequest && r.Dir == fcgi.Received {
			return x.Start().Add(r.T)
		}
	}
	tb.Fatal("no END_REQUEST received")
	return time.Time{}
}

// procStatus reads a field of /proc/self/status in bytes, e.g. "VmHWM".
func procStatus(tb testing.TB, field string) int64 {
	tb.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				tb.Fatalf("/proc/self/status %s: %v", field, err)
			}
			return kb << 10
		}
	}
	tb.Skipf("/proc/self/status has no %s", field)
	return 0
}

// rssMark returns the process's RSS after returning free memory to the
// system, and resets the peak RSS (VmHWM) to it, so that a later VmHWM is
// the peak since this call.
func rssMark(tb testing.TB) int64 {
	tb.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Skipf("cannot reset the peak RSS: %v", err)
	}
	return procStatus(tb, "VmRSS")
}

// paneTimes is how long showing each pane of a finished exchange took on
// the UI goroutine.
type paneTimes struct {
	usable time.Duration // from END_REQUEST to every pane shown
}

// showPanes brings every body view to the front and selects a record in
// the middle of the list and the last one, timing each as UI goroutine
// work, then paints the window once.
func (f *scaleFixture) showPanes(tb testing.TB, x *session.Exchange) paneTimes {
	tb.Helper()
	end := endRequestAt(tb, x)
	var pt paneTimes
	step := func(name string, fn func()) { f.q.run(name, fn) }
	for _, v := range []string{ViewText, ViewHex, ViewStdout, ViewJSON, ViewHTML, ViewImage, bodyView("text/plain", nil)} {
		step("view "+v, func() { f.in.Response().SelectView(v) })
	}
	list := f.in.Results().List()
	step("select middle record", func() { list.Select(list.Len() / 2) })
	step("select last record", func() { list.Select(list.Len() - 1) })
	step("scroll the list to the top", func() { list.ScrollTo(0) })
	pt.usable = time.Since(end)
	return pt
}

// logCalls logs the n longest calls.
func logCalls(tb testing.TB, calls []uiCall, n int) {
	tb.Helper()
	s := slices.Clone(calls)
	slices.SortFunc(s, func(a, b uiCall) int { return int(b.d - a.d) })
	var b strings.Builder
	for _, c := range s[:min(n, len(s))] {
		fmt.Fprintf(&b, "\n  %8.2f ms (CPU %6.2f ms)  %s", float64(c.d)/1e6, float64(c.cpu)/1e6, c.name)
	}
	tb.Logf("longest UI goroutine calls of %d:%s", len(calls), b.String())
}

// largeWindow is the window after a 100 MiB response was sent and every
// pane shown, with what it cost.
type largeWindow struct {
	f      *scaleFixture
	x      *session.Exchange
	usable time.Duration // END_REQUEST → every pane shown
	rss    float64       // peak RSS growth / payload
	wall   uiCall        // the longest UI goroutine call
	cpu    uiCall        // the UI goroutine call that used the most CPU
}

// sendLarge sends /large?bytes=100MiB from the window and shows every pane.
func sendLarge(tb testing.TB) *largeWindow {
	tb.Helper()
	lockUIThread(tb)
	f := newScaleFixture(tb)
	f.setURL(tb, "/large?bytes="+strconv.Itoa(scalePayload))
	base := rssMark(tb)
	f.q.reset()
	x := f.send(tb)
	pt := f.showPanes(tb, x)
	f.q.settle() // workers the send started (history, anomalies) finish
	w := &largeWindow{f: f, x: x, usable: pt.usable,
		rss: float64(procStatus(tb, "VmHWM")-base) / scalePayload}
	w.wall, w.cpu = f.q.longest()
	return w
}

// TestScaleWindowLargeResponse sends /large?bytes=100MiB from the window:
// every pane shows it — the
// text views the first page (maxTextShown) with Show more and Save body…, the hex
// views the whole body with only the rows on screen laid out, the record
// list every record — and the process's peak RSS grows by less than 3
// times the payload. The longest UI goroutine calls are logged;
// BenchmarkScaleWindowLargeResponse reports them.
func TestScaleWindowLargeResponse(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 100 MiB")
	}
	w := sendLarge(t)
	f, x := w.f, w.x
	t.Logf("100 MiB response: %d records; peak RSS grew %.2f× the payload; every pane shown %.0f ms after END_REQUEST",
		x.Len(), w.rss, float64(w.usable)/1e6)
	logCalls(t, f.q.calls, 8)

	r := f.in.Response()
	if r.Status() != "200 OK" || len(x.Response().Body) != scalePayload {
		t.Fatalf("status %q, body %d bytes", r.Status(), len(x.Response().Body))
	}
	if got := f.in.Results().Len(); got != x.Len() || got < scalePayload/65535 {
		t.Errorf("the record list shows %d records, the exchange has %d", got, x.Len())
	}
	if d := f.in.Results().Detail().Record(); d == nil || d.Index != x.Len()-1 {
		t.Errorf("the last record selected shows %+v", d)
	}

	// The Text view: the first page, and a bar to see more or save.
	shown, total := r.TextShown(ViewText)
	if total != scalePayload || shown > maxTextShown || shown < maxTextShown-64 {
		t.Errorf("the Text view lays out %d of %d bytes, want the first page of %d", shown, total, maxTextShown)
	}
	text := r.views[ViewText]
	if text.bar.Hidden || !strings.Contains(text.more.Text, "of 100.0 MiB") || text.moreBtn.Disabled() {
		t.Errorf("the Text view's bar: hidden %v, %q, Show more disabled %v", text.bar.Hidden, text.more.Text, text.moreBtn.Disabled())
	}
	if got := r.ViewText(ViewText); !strings.HasPrefix(string(x.Response().Body), got) || len(got) != shown {
		t.Errorf("the Text view shows %d bytes that are not the start of the body", len(got))
	}
	f.q.run("Show more", func() { test.Tap(text.moreBtn) })
	if more, _ := r.TextShown(ViewText); more <= shown || more > shown+maxTextShown {
		t.Errorf("Show more went from %d to %d bytes, want one page more", shown, more)
	}
	if got := r.ViewText(ViewText); !strings.HasPrefix(string(x.Response().Body), got) {
		t.Error("after Show more the Text view is not the start of the body")
	}
	for range maxTextTotal / maxTextShown {
		f.q.run("Show more", func() { test.Tap(text.moreBtn) })
	}
	if shown, _ := r.TextShown(ViewText); shown > maxTextTotal || !text.moreBtn.Disabled() {
		t.Errorf("the Text view lays out %d bytes after many Show more (at most %d), button disabled %v",
			shown, maxTextTotal, text.moreBtn.Disabled())
	}
	logCalls(t, f.q.calls[len(f.q.calls)-2:], 1)

	// The hex views hold the whole body and lay out only the rows on screen.
	for name, hv := range map[string]*view.HexView{ViewHex: r.bodyHex, ViewStdout: r.stdout} {
		want := scalePayload
		if name == ViewStdout {
			want = len(x.Stdout())
		}
		r.SelectView(name)
		if hv.Len() != want {
			t.Errorf("the %s view shows %d bytes, want %d", name, hv.Len(), want)
		}
		hv.ScrollToOffset(scalePayload - 1)
		if objs := countVisible(hv); objs == 0 || objs > 200*40 {
			t.Errorf("the %s view lays out %d objects for %d bytes", name, objs, hv.Len())
		}
	}
	checkObjects(t, f)
	switch {
	case fcgitest.RaceEnabled:
		t.Log("the race detector's shadow memory counts in RSS: the bound is not checked")
	case w.rss >= 3:
		t.Errorf("peak RSS grew by %.2f× the payload, want < 3", w.rss)
	}
}

// checkObjects checks that the window, every renderer created, holds a
// bounded number of visible objects: the large views lay out what is on
// screen only (a text grid showing one 450 KB line unwrapped would hold
// millions).
func checkObjects(tb testing.TB, f *scaleFixture) {
	tb.Helper()
	n := countVisible(f.in.Window().Canvas().Content())
	tb.Logf("the window holds %d visible objects", n)
	if n > 100_000 {
		tb.Errorf("the window holds %d objects, want the large views to lay out only what is on screen", n)
	}
}

// countVisible counts the visible objects of the tree under o.
func countVisible(o fyne.CanvasObject) int {
	if o == nil || !o.Visible() {
		return 0
	}
	n := 1
	switch v := o.(type) {
	case *fyne.Container:
		for _, c := range v.Objects {
			n += countVisible(c)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(v).Objects() {
			n += countVisible(c)
		}
	}
	return n
}

// TestScaleWindowManyRecords sends /misbehave/dribble from the window:
// 100,000 STDOUT records of 1 to 8 bytes, the body one 450 KB line. The
// records reach the UI goroutine in batches, one per tick (not one
// function per record); the list holds every record and lays out only the
// rows on screen; any record can be selected and decoded, the last as well
// as the first; the text views wrap the line.
func TestScaleWindowManyRecords(t *testing.T) {
	lockUIThread(t)
	f := newScaleFixture(t)
	f.setURL(t, "/misbehave/dribble?n="+strconv.Itoa(scaleDribbleLen))
	f.q.reset()
	start := time.Now()
	x := f.send(t)
	elapsed := time.Since(start)
	queued := f.q.queuedCount()
	pt := f.showPanes(t, x)
	t.Logf("%d records in %v: %d functions queued for the UI goroutine; every pane shown %.0f ms after END_REQUEST",
		x.Len(), elapsed.Round(time.Millisecond), queued, float64(pt.usable)/1e6)
	logCalls(t, f.q.calls, 8)

	if x.Len() < scaleRecords {
		t.Fatalf("the exchange has %d records, want over %d", x.Len(), scaleRecords)
	}
	list := f.in.Results().List()
	if list.Len() != x.Len() {
		t.Errorf("the list shows %d records, the exchange has %d", list.Len(), x.Len())
	}
	// One tick per liveInterval and the end: never one call per record.
	if limit := int(elapsed/liveInterval) + 3; queued > limit {
		t.Errorf("%d functions queued for the UI goroutine in %v, want at most %d (one per %v tick)", queued, elapsed, limit, liveInterval)
	}
	if d := f.in.Results().Detail().Record(); d == nil || d.Index != x.Len()-1 || d.Type != fcgi.TypeEndRequest {
		t.Errorf("the last record selected shows %+v", d)
	}
	mid := x.Len() / 2
	f.q.run("select a record", func() { list.Select(mid) })
	d := f.in.Results().Detail().Record()
	if d == nil || d.Index != mid || d.Type != fcgi.TypeStdout {
		t.Fatalf("record %d selected shows %+v", mid, d)
	}
	rs, re, ok := f.in.Results().StdoutRange(mid)
	if hs, he := f.in.Response().stdout.Highlighted(); !ok || hs != rs || he != re || re-rs != int(d.ContentLength) {
		t.Errorf("raw stdout highlight [%d, %d), want record %d's [%d, %d)", hs, he, mid, rs, re)
	}
	// Virtualized: the rows on screen exist, not 100,000.
	if rows := countRows(list); rows == 0 || rows > 200 {
		t.Errorf("the list lays out %d rows for %d records", rows, list.Len())
	}
	// The text views wrap the single long line, its first page laid out
	// (Show more adds the next), the whole body counted.
	r := f.in.Response()
	r.SelectView(ViewText)
	if got := r.ViewText(ViewText); !strings.HasPrefix(got, "abcdefghijklmnopqrstuvwxyzabc") || len(got) != min(maxTextShown, scaleDribbleLen) {
		t.Errorf("the Text view holds %d bytes starting %.30q, want its first %d", len(got), got, maxTextShown)
	}
	if shown, total := r.TextShown(ViewText); shown != min(maxTextShown, scaleDribbleLen) || total != scaleDribbleLen {
		t.Errorf("the Text view shows %d of %d bytes, want %d of %d", shown, total, min(maxTextShown, scaleDribbleLen), scaleDribbleLen)
	}
	for i, row := range r.views[ViewText].grid.Rows {
		if len(row.Cells) > maxGridCols {
			t.Fatalf("text grid row %d has %d columns, want at most %d", i, len(row.Cells), maxGridCols)
		}
	}
	checkObjects(t, f)
}

// countRows counts the rows the record list has laid out: the objects
// drawn under it that take events (its rows, header edges and bar).
func countRows(l *view.RecordList) int {
	var n int
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			if _, ok := v.(fyne.Tappable); ok {
				n++
			}
			for _, c := range test.WidgetRenderer(v).Objects() {
				walk(c)
			}
		}
	}
	walk(l)
	return n
}

// TestPageEndAndWrapText: pages end at a line end in their second half,
// else at a rune boundary; long lines are wrapped, short ones kept.
func TestPageEndAndWrapText(t *testing.T) {
	pages := []struct {
		b           string
		start, n    int
		end, next   int
		description string
	}{
		{"abc", 0, 10, 3, 3, "all of it"},
		{"aaaa\nbbbb\ncc", 0, 8, 4, 5, "at the line end, the newline skipped"},
		{"aaaaaaaaa\nb", 0, 8, 8, 8, "no line end in the second half: cut"},
		{"a\nbbbbbbbbbb", 0, 8, 8, 8, "a line end in the first half only: cut"},
		{"aaaaaaé", 0, 7, 6, 6, "not inside a rune"},
		{"\xff\xfe\xfd\xfc", 0, 2, 2, 2, "not UTF-8: anywhere"},
		{"xx\nyyyy\nzz", 3, 6, 7, 8, "from a later start"},
	}
	for _, p := range pages {
		end, next := pageEnd([]byte(p.b), p.start, p.n)
		if end != p.end || next != p.next {
			t.Errorf("%s: pageEnd(%q, %d, %d) = %d, %d, want %d, %d", p.description, p.b, p.start, p.n, end, next, p.end, p.next)
		}
	}
	wraps := map[string]string{
		"abc\nabcd":     "abc\nabcd",
		"abcdefgh\nij":  "abcd\nefgh\nij",
		"éééééé":        "éééé\néé",
		"abcd\nefghi\n": "abcd\nefgh\ni\n",
	}
	for in, want := range wraps {
		if got := wrapText(in, 4); got != want {
			t.Errorf("wrapText(%q, 4) = %q, want %q", in, got, want)
		}
	}
}

// TestFirstFrameMark: the mark scripts/startup waits for calls its function
// when the window is painted, once however often it is painted, and not
// before.
func TestFirstFrameMark(t *testing.T) {
	a := test.NewTempApp(t)
	calls := 0
	w := a.NewWindow("mark")
	w.SetContent(container.NewStack(widget.NewLabel("content"), firstFrameMark(func() { calls++ })))
	w.Resize(fyne.NewSize(200, 100))
	if calls != 0 {
		t.Fatalf("called %d times before any paint", calls)
	}
	w.Canvas().Capture()
	w.Canvas().Capture()
	if calls != 1 {
		t.Errorf("called %d times after two paints, want once", calls)
	}
}
