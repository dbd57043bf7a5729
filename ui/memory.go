// Memory: Run hands the heap the window no longer uses back to the system while it is idle, rather than keep its peak.

package ui

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Between sends the window holds what it shows and little more, but the Go
// runtime keeps the heap it grew to — up to twice the live heap, four
// times while the first frame is built (relaxGC) — and hands the rest back
// to the system slowly or not at all: after a few 3 MB responses the RSS
// stayed hundreds of MiB above what was live, idle or not. So Run looks
// every releaseEvery, and when the heap holds more than releaseSlack beyond
// what the last collection found live, it collects and hands what is free
// back (debug.FreeOSMemory): a collection at most every releaseEvery, on a
// goroutine of its own, and only after the heap grew by releaseSlack.
const (
	releaseEvery = 5 * time.Second
	releaseSlack = 16 << 20
)

// heapSpare returns how many bytes the heap holds beyond what the last
// collection found live: garbage not yet collected, and free memory not
// yet handed back to the system.
func heapSpare() int64 {
	s := []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},                // live at the last collection
		{Name: "/memory/classes/heap/objects:bytes"}, // live and not yet collected
		{Name: "/memory/classes/heap/free:bytes"},    // free, not handed back
		{Name: "/memory/classes/heap/unused:bytes"},  // reserved for objects, unused
	}
	metrics.Read(s)
	held := int64(s[1].Value.Uint64() + s[2].Value.Uint64() + s[3].Value.Uint64())
	return held - int64(s[0].Value.Uint64())
}

// releaseMemory calls release every every until ctx is done: when spare
// reports more than slack, release hands the heap's spare memory back.
func releaseMemory(ctx context.Context, every time.Duration, slack int64, spare func() int64, release func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if spare() > slack {
				release()
			}
		}
	}
}

// startReleasing runs releaseMemory with the window's settings on a
// goroutine until the returned function is called.
func startReleasing() (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		releaseMemory(ctx, releaseEvery, releaseSlack, heapSpare, debug.FreeOSMemory)
	}()
	return func() {
		cancel()
		<-done
	}
}
