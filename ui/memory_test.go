// Tests of what the window does for its memory: the releaser hands the heap's spare memory back once it exceeds the slack, and only then; the Learn panel lets go of the exchanges its checks no longer need.

package ui

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
	"weak"

	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
)

func TestReleaseMemoryOnlyPastTheSlack(t *testing.T) {
	spares := []int64{10, 40, 32, 33, 0}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var seen []int64
	var released []int64
	releaseMemory(ctx, time.Millisecond, 32, func() int64 {
		s := spares[len(seen)]
		seen = append(seen, s)
		if len(seen) == len(spares) {
			cancel()
		}
		return s
	}, func() { released = append(released, seen[len(seen)-1]) })
	if len(released) != 2 || released[0] != 40 || released[1] != 33 {
		t.Errorf("released at spare %v, want at 40 and 33 only (slack 32)", released)
	}
}

func TestReleaseMemoryHandsTheHeapBack(t *testing.T) {
	const garbage = 64 << 20
	keep := make([]byte, garbage)
	for i := range keep {
		keep[i] = byte(i)
	}
	runtime.KeepAlive(keep)
	keep = nil
	runtime.GC() // the 64 MiB are free now, the heap still holds them
	before := heapSpare()
	if before < garbage/2 {
		t.Skipf("the runtime handed the memory back by itself (spare %d MiB)", before>>20)
	}
	ctx, cancel := context.WithCancel(context.Background())
	releases := 0
	releaseMemory(ctx, time.Millisecond, releaseSlack, heapSpare, func() {
		releases++
		debug.FreeOSMemory()
		cancel()
	})
	// The other tests of this process leave garbage of their own about:
	// what counts is that the 64 MiB went back.
	if s := heapSpare(); releases == 0 || before-s < garbage*3/4 {
		t.Errorf("after %d releases the heap holds %d MiB beyond the live heap, %d MiB before: want a release handing back most of the %d MiB",
			releases, s>>20, before>>20, garbage>>20)
	}
}

func TestLearnKeepsOnlyTheExchangesItsChecksNeed(t *testing.T) {
	test.NewTempApp(t)
	l := newLearnShell(context.Background(), LearnDeps{Do: func(f func()) { f() }})
	var seen []weak.Pointer[session.Exchange]
	for i := range recentKept + 4 {
		x := session.NewExchange(session.Input{})
		seen = append(seen, weak.Make(x))
		l.Observe(x)
		if want := min(i+1, recentKept); len(l.recent) != want {
			t.Fatalf("after %d exchanges the panel keeps %d, want %d", i+1, len(l.recent), want)
		}
		runtime.GC()
		for j, p := range seen[:max(i+1-recentKept, 0)] {
			if p.Value() != nil {
				t.Errorf("after %d exchanges, exchange %d, no longer among the recent ones, is still reachable", i+1, j+1)
			}
		}
	}
}
