// Memory benchmark of the window on the headless driver: the live Go heap and the RSS idle, after one 3 MiB response, after 50 and after clearing the history (the README's "Memory" figures; scripts/memory measures the real window).

package ui

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/session/history"
)

// Memory benchmark parameters: the 3 MB response, 50 times.
const (
	memPayload = 3 << 20
	memSends   = 50
)

// envMemProfiles names a folder where BenchmarkMemoryWindow writes a heap
// profile at each step (heap-idle.pprof, heap-1.pprof, heap-50.pprof,
// heap-cleared.pprof), for `go tool pprof -sample_index=inuse_space`.
const envMemProfiles = "FCGISCOPE_MEMPROFILES"

// memMark is the process's memory at one step of the benchmark.
type memMark struct {
	heap int64 // live Go heap after a full collection, bytes
	rss  int64 // RSS after the freed memory went back to the system, bytes
}

// markMemory lets Fyne's caches drop what the window no longer shows
// (expireCaches), collects until the heap is only what is live, hands the
// free memory back to the system, and reads both, writing a heap profile
// named after step when envMemProfiles is set.
func markMemory(b *testing.B, c fyne.Canvas, step string) memMark {
	b.Helper()
	if c != nil {
		expireCaches(c)
	}
	runtime.GC()
	debug.FreeOSMemory() // a second full collection, then the scavenger
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	m := memMark{heap: int64(s[0].Value.Uint64()), rss: procStatus(b, "VmRSS")}
	if dir := os.Getenv(envMemProfiles); dir != "" {
		f, err := os.Create(filepath.Join(dir, "heap-"+step+".pprof"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%-8s heap %6.1f MiB  RSS %6.1f MiB", step, mib(m.heap), mib(m.rss))
	return m
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// expireCaches lets Fyne's caches drop what c no longer shows, as they do
// in the real window: a widget's renderer is kept for FYNE_CACHE (a minute
// by default) after it was last drawn, and a paint, at most every 10
// seconds, drops the expired ones. The headless driver does not paint by
// itself, so the widgets that Fyne's lists let go (their item pools are
// emptied by each collection) would stay for good. So this waits that
// long, touches the renderers of what c shows, as a paint would, and has
// an empty canvas painted: the clean-up is global. Set FYNE_CACHE=1s to
// wait 11 s instead of a minute.
func expireCaches(c fyne.Canvas) {
	valid := time.Minute
	if d, err := time.ParseDuration(os.Getenv("FYNE_CACHE")); err == nil {
		valid = d
	}
	time.Sleep(max(valid, 10*time.Second) + time.Second)
	touchShown(c.Content())
	for _, o := range c.Overlays().List() {
		touchShown(o)
	}
	test.NewCanvas().Capture()
}

// touchShown asks Fyne's cache for the renderer of every widget o shows.
func touchShown(o fyne.CanvasObject) {
	if o == nil || !o.Visible() {
		return
	}
	switch o := o.(type) {
	case fyne.Widget:
		for _, child := range test.WidgetRenderer(o).Objects() {
			touchShown(child)
		}
	case *fyne.Container:
		for _, child := range o.Objects {
			touchShown(child)
		}
	}
}

// BenchmarkMemoryWindow opens the window on the demo backend, sends
// /large?bytes=3MiB once, then 49 more times, each shown as it arrives and
// kept by the history, then clears the history. Run it once (about a
// minute; without FYNE_CACHE=1s, four):
//
//	FYNE_CACHE=1s go test -run '^$' -bench MemoryWindow -benchtime 1x ./ui/
//
// Metrics, in MiB: heap-idle, heap-1, heap-50 and heap-cleared, the live
// Go heap at each step; rss-* the same for the RSS (of the test process:
// the headless driver draws nothing, so scripts/memory measures the real
// window's); history-kept, what the history's index holds in memory for
// the 50 entries (the heap an opened store of them takes); and the goals'
// terms: growth-50, heap-50 − heap-idle, to stay within history-kept +
// 20 MiB; cleared-over-idle, heap-cleared − heap-idle, within 20 MiB.
func BenchmarkMemoryWindow(b *testing.B) {
	var idle, one, fifty, cleared memMark
	var kept int64
	for b.Loop() {
		f := newScaleFixture(b)
		q := f.q
		h := f.in.Workbench().History
		c := f.in.Window().Canvas()
		q.waitFor(b, "the history to open", scaleWait, func() bool { return h.History() != nil })
		f.setURL(b, "/large?bytes="+strconv.Itoa(memPayload))
		q.settle()
		q.reset() // the UI goroutine calls timed so far: heap too
		idle = markMemory(b, c, "idle")
		for i := 1; i <= memSends; i++ {
			f.send(b)
			q.reset()
			q.waitFor(b, "the history to list the send", scaleWait, func() bool { return len(h.Entries()) == i })
			if i == 1 {
				one = markMemory(b, c, "1")
			}
		}
		fifty = markMemory(b, c, strconv.Itoa(memSends))
		kept = historyKept(b, h.History())
		h.Clear()
		q.waitFor(b, "the history to clear", scaleWait, func() bool { return h.History().Len() == 0 && len(h.Entries()) == 0 })
		q.settle()
		cleared = markMemory(b, c, "cleared")
	}
	for _, m := range []struct {
		name string
		v    int64
	}{
		{"heap-idle", idle.heap}, {"heap-1", one.heap}, {"heap-50", fifty.heap}, {"heap-cleared", cleared.heap},
		{"rss-idle", idle.rss}, {"rss-1", one.rss}, {"rss-50", fifty.rss}, {"rss-cleared", cleared.rss},
		{"history-kept", kept}, {"growth-50", fifty.heap - idle.heap}, {"cleared-over-idle", cleared.heap - idle.heap},
	} {
		b.ReportMetric(mib(m.v), m.name+"-MiB")
	}
}

// historyKept returns the live heap an opened history store of the same
// folder takes: what the history keeps in memory for its entries.
func historyKept(b *testing.B, h *history.Store) int64 {
	b.Helper()
	before := markMemory(b, nil, "before-index").heap
	again, err := history.Open(h.Dir(), h.Limits())
	if err != nil {
		b.Fatal(err)
	}
	after := markMemory(b, nil, "index").heap
	runtime.KeepAlive(again)
	return after - before
}
