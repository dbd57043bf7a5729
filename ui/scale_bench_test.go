// Benchmarks of the window at scale on the headless driver: a 100 MiB response and 100,000 tiny records, with the longest UI goroutine call, the time to every pane shown and the peak RSS as metrics.

package ui

import (
	"context"
	"strconv"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// reportUI reports the longest UI goroutine call of the last iteration,
// wall-clock and CPU (the wall clock includes waiting for a CPU that the
// in-process backend and client, or other processes, were using).
func reportUI(b *testing.B, q *scaleQueue) {
	wall, cpu := q.longest()
	b.ReportMetric(float64(wall.d)/1e6, "ui-max-ms")
	b.ReportMetric(float64(cpu.cpu)/1e6, "ui-max-cpu-ms")
	b.Logf("longest UI goroutine call %.1f ms (%s); most CPU %.1f ms (%s)",
		float64(wall.d)/1e6, wall.name, float64(cpu.cpu)/1e6, cpu.name)
}

// BenchmarkScaleWindowLargeResponse sends /large?bytes=100MiB from the
// window and shows every pane. Metrics: ui-max-ms and ui-max-cpu-ms, the
// longest UI goroutine call; usable-ms, END_REQUEST → every pane shown;
// rss-growth/payload, the peak RSS growth over the payload.
func BenchmarkScaleWindowLargeResponse(b *testing.B) {
	lockUIThread(b)
	f := newScaleFixture(b)
	f.setURL(b, "/large?bytes="+strconv.Itoa(scalePayload))
	b.SetBytes(scalePayload)
	var rss float64
	var usable time.Duration
	for b.Loop() {
		f.q.settle()
		base := rssMark(b)
		f.q.reset()
		x := f.send(b)
		usable = f.showPanes(b, x).usable
		f.q.settle() // workers the send started (history, anomalies) finish
		rss = float64(procStatus(b, "VmHWM")-base) / scalePayload
	}
	reportUI(b, f.q)
	b.ReportMetric(float64(usable)/1e6, "usable-ms")
	b.ReportMetric(rss, "rss-growth/payload")
}

// BenchmarkScaleWindowManyRecords sends /misbehave/dribble from the window:
// 100,000 STDOUT records of 1 to 8 bytes. Metrics: ui-max-ms,
// ui-max-cpu-ms, usable-ms as above, and ui-calls, the functions queued for
// the UI goroutine during the send (ticks, not records).
func BenchmarkScaleWindowManyRecords(b *testing.B) {
	lockUIThread(b)
	f := newScaleFixture(b)
	f.setURL(b, "/misbehave/dribble?n="+strconv.Itoa(scaleDribbleLen))
	var usable time.Duration
	var calls int
	for b.Loop() {
		f.q.settle()
		f.q.reset()
		x := f.send(b)
		calls = f.q.queuedCount()
		usable = f.showPanes(b, x).usable
	}
	reportUI(b, f.q)
	b.ReportMetric(float64(usable)/1e6, "usable-ms")
	b.ReportMetric(float64(calls), "ui-calls")
}

// recordScale records an exchange from the demo backend, outside the
// window: path with its query.
func recordScale(b *testing.B, path, query string) *session.Exchange {
	b.Helper()
	addr := fcgitest.StartDemo(b)
	pool := session.NewPool(session.PoolOptions{})
	defer pool.Close()
	req := &session.Request{Params: session.Params{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: query}}}
	x := session.NewExchange(session.Input{})
	if err := session.NewEngine(pool, session.EngineOptions{}).Send(context.Background(), addr, req, x); err != nil {
		b.Fatal(err)
	}
	return x
}

// reportCPU reports the CPU time the benchmark's thread (locked, see
// lockUIThread) spent per iteration since cpu0: unlike ns/op, it leaves
// out the time spent waiting for a CPU on a busy machine.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu := threadCPU(); cpu > 0 {
		b.ReportMetric(float64(cpu-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// resultsWindow shows a records pane in a window of the test app; the
// calling goroutine plays the UI goroutine on a locked thread.
func resultsWindow(b *testing.B) *ResultsPanel {
	b.Helper()
	lockUIThread(b)
	b.Setenv("HOME", b.TempDir())
	a := test.NewTempApp(b)
	r := newResultsPanel(nil)
	w := a.NewWindow("records")
	w.SetContent(r.Content())
	w.Resize(fyne.NewSize(900, 1000))
	w.Show()
	b.Cleanup(w.Close)
	return r
}

// BenchmarkScaleRecordListBuild builds the records pane of an exchange of
// 100,000 records at once, as when a finished exchange is opened: Reset,
// Sync, and the list laid out. Metric: ns/op is the time to build it.
func BenchmarkScaleRecordListBuild(b *testing.B) {
	x := recordScale(b, "/misbehave/dribble", "n="+strconv.Itoa(scaleDribbleLen))
	r := resultsWindow(b)
	b.ReportAllocs()
	cpu0 := threadCPU()
	for b.Loop() {
		r.Reset(x)
		if r.Sync() != x.Len() {
			b.Fatal("not every record was listed")
		}
		test.WidgetRenderer(r.list).Layout(r.list.Size())
		r.list.Refresh()
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(x.Len()), "records")
}

// BenchmarkScaleRecordSelect selects records all over a list of 100,000:
// the record is decoded and shown in the detail. Metric: ns/op is the time
// to select one.
func BenchmarkScaleRecordSelect(b *testing.B) {
	x := recordScale(b, "/misbehave/dribble", "n="+strconv.Itoa(scaleDribbleLen))
	r := resultsWindow(b)
	r.Reset(x)
	r.Sync()
	n := x.Len()
	i := 0
	b.ReportAllocs()
	cpu0 := threadCPU()
	for b.Loop() {
		i = (i + 7919) % n
		r.list.Select(i)
		if d := r.detail.Record(); d == nil || d.Index != i {
			b.Fatalf("record %d selected shows %+v", i, d)
		}
	}
	reportCPU(b, cpu0)
}

// BenchmarkScaleRecordListScroll scrolls a list of 100,000 records to
// rows all over it, unfolded (folded, the run of STDOUT records is one
// line). Metric: ns/op is the time to scroll once.
func BenchmarkScaleRecordListScroll(b *testing.B) {
	x := recordScale(b, "/misbehave/dribble", "n="+strconv.Itoa(scaleDribbleLen))
	r := resultsWindow(b)
	r.Reset(x)
	r.Sync()
	r.list.SetFolded(false)
	n := x.Len()
	i := 0
	cpu0 := threadCPU()
	for b.Loop() {
		i = (i + 7919) % n
		r.list.ScrollTo(i)
	}
	reportCPU(b, cpu0)
}

// BenchmarkScaleBodyViews shows a 100 MiB text body in each body view:
// the Text view's first page, a page more, and the Hex view scrolled to the
// end. Metrics: ns/op for all of them.
func BenchmarkScaleBodyViews(b *testing.B) {
	x := recordScale(b, "/large", "bytes="+strconv.Itoa(scalePayload))
	lockUIThread(b)
	b.Setenv("HOME", b.TempDir())
	a := test.NewTempApp(b)
	p := newResponsePanel()
	w := a.NewWindow("response")
	w.SetContent(p.Content())
	w.Resize(fyne.NewSize(900, 1000))
	w.Show()
	b.Cleanup(w.Close)
	b.SetBytes(scalePayload)
	cpu0 := threadCPU()
	defer func() { reportCPU(b, cpu0) }()
	for b.Loop() {
		p.Show(x, "", "")
		p.SelectView(ViewText)
		p.ShowMore(ViewText)
		p.SelectView(ViewHex)
		p.bodyHex.ScrollToOffset(scalePayload - 1)
	}
}
