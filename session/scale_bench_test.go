// Benchmarks of recording at scale: a 100 MiB response and 100,000 tiny records from the demo backend, with their heap cost per payload byte or per record.

package session

import (
	"context"
	"fcgiscope/fcgi/fcgitest"
	"strconv"
	"testing"
)

// BenchmarkScaleCaptureLarge sends /large?bytes=100MiB to the demo backend
// and records it. Metrics: heap-kept/payload (the live heap the exchange
// holds, after GC) and alloc/payload (bytes allocated to send and record
// it, the backend's own included, since it runs in process).
func BenchmarkScaleCaptureLarge(b *testing.B) {
	addr, e := benchDemo(b)
	req := func() *Request { return demoReq("/large", "bytes="+strconv.Itoa(scalePayload)) }
	_, cost := measureSend(b, e, addr, req(), scalePayload)
	b.SetBytes(scalePayload)
	b.ReportAllocs()
	for b.Loop() {
		x := NewExchange(Input{})
		if err := e.Send(context.Background(), addr, req(), x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(cost.live, "heap-kept/payload")
	b.ReportMetric(cost.alloc, "alloc/payload")
}

// BenchmarkScaleCaptureManyRecords records /misbehave/dribble: 100,000
// STDOUT records of 1 to 8 bytes. Metrics: ns/record and heap-B/record
// (live heap the exchange holds per record).
func BenchmarkScaleCaptureManyRecords(b *testing.B) {
	addr, e := benchDemo(b)
	req := func() *Request { return demoReq("/misbehave/dribble", "n="+strconv.Itoa(dribbleBody)) }
	x, cost := measureSend(b, e, addr, req(), dribbleRecords)
	records := x.Len()
	b.ReportAllocs()
	for b.Loop() {
		x := NewExchange(Input{})
		if err := e.Send(context.Background(), addr, req(), x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(records), "ns/record")
	b.ReportMetric(cost.live, "heap-B/record")
}

// BenchmarkScaleDecodeLastRecord decodes the last of 100,000 records, the
// worst case for Decode (it walks the records before the target).
func BenchmarkScaleDecodeLastRecord(b *testing.B) {
	addr, e := benchDemo(b)
	x := NewExchange(Input{})
	if err := e.Send(context.Background(), addr, demoReq("/misbehave/dribble", "n="+strconv.Itoa(dribbleBody)), x); err != nil {
		b.Fatal(err)
	}
	last := x.Len() - 2
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Decode(last); err != nil {
			b.Fatal(err)
		}
	}
}

// benchDemo starts the demo backend and an engine for a benchmark.
func benchDemo(b *testing.B) (string, *Engine) {
	b.Helper()
	addr := fcgitest.StartDemo(b)
	pool := NewPool(PoolOptions{})
	b.Cleanup(func() { pool.Close() })
	return addr, NewEngine(pool, EngineOptions{})
}
