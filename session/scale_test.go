// Scale tests: what recording a large response or a response of very many records costs in heap, measured in bytes.

package session

import (
	"bytes"
	"context"
	"net"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// scalePayload is the response body of the large-response tests: 100 MiB.
const scalePayload = 100 << 20

// dribbleRecords is the number of STDOUT records of the many-records
// tests, and dribbleBody the /misbehave/dribble body that makes exactly
// that many: the demo writes records of 1, 2, …, 8 bytes in turn (36 bytes
// per 8 records), headers included ("Content-Type: text/plain;
// charset=utf-8", CRLF, CRLF: 45 bytes).
const (
	dribbleRecords = 100_000
	dribbleBody    = dribbleRecords/8*36 - 45
)

// heapStats reads the live heap (as marked by the last GC) and the bytes
// allocated so far, after a full GC.
func heapStats() (live, allocated uint64) {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// heapCost is what recording one exchange cost, per payload byte.
type heapCost struct {
	live  float64 // heap still held with the exchange, / payload
	alloc float64 // bytes allocated while sending and recording, / payload
}

// measureSend sends req to target and records it into a new Exchange,
// measuring the heap around it; the exchange is returned alive.
func measureSend(tb testing.TB, e *Engine, target string, req *Request, payload int) (*Exchange, heapCost) {
	tb.Helper()
	live0, alloc0 := heapStats()
	x := NewExchange(Input{})
	if err := e.Send(context.Background(), target, req, x); err != nil {
		tb.Fatalf("Send: %v", err)
	}
	_, alloc1 := heapStats() // the allocations end with the send
	live1, _ := heapStats()
	runtime.KeepAlive(x)
	return x, heapCost{
		live:  (float64(live1) - float64(live0)) / float64(payload),
		alloc: float64(alloc1-alloc0) / float64(payload),
	}
}

// checkLargeBody checks that body is the demo's /large body of n bytes: its
// 64 KiB chunk of numbered lines, repeated.
func checkLargeBody(t *testing.T, body []byte, n int) {
	t.Helper()
	if len(body) != n {
		t.Fatalf("body is %d bytes, want %d", len(body), n)
	}
	const chunk = 64 << 10
	if !bytes.HasPrefix(body, []byte("fcgiscope demo line 000000 ")) {
		t.Fatalf("body starts %q", body[:min(len(body), 64)])
	}
	for _, at := range []int{chunk, n/2 - n/2%chunk, n - n%chunk - chunk} {
		if !bytes.Equal(body[at:at+chunk], body[:chunk]) {
			t.Fatalf("body bytes at %d differ from the first chunk", at)
		}
	}
}

// TestScaleLargeResponseHeap records a 100 MiB response from the demo
// backend: the exchange holds it once, in one allocation (the response
// announces its Content-Length), so both the heap it keeps and the bytes
// allocated to record it stay under 1.3 times the payload.
func TestScaleLargeResponseHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 100 MiB")
	}
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	x, cost := measureSend(t, e, addr, demoReq("/large", "bytes="+strconv.Itoa(scalePayload)), scalePayload)
	t.Logf("100 MiB response: heap kept %.3f× the payload, allocated %.3f×, %d records", cost.live, cost.alloc, x.Len())
	resp := x.Response()
	if resp == nil || resp.Status != 200 {
		t.Fatalf("response %+v, warnings %q", resp, x.Warnings())
	}
	checkLargeBody(t, resp.Body, scalePayload)
	if len(x.Warnings()) != 0 {
		t.Errorf("warnings %q", x.Warnings())
	}
	if got := x.Sizes().Stdout; got != int64(len(x.Stdout())) {
		t.Errorf("Sizes().Stdout %d, Stdout() %d bytes", got, len(x.Stdout()))
	}
	// One allocation of the announced size: no slack behind the body.
	if s := x.recv.stream[slotStdout]; cap(s) != len(s) {
		t.Errorf("stdout kept in %d bytes of array for %d bytes", cap(s), len(s))
	}
	if cost.live >= 1.3 {
		t.Errorf("the exchange keeps %.3f× the payload in heap, want < 1.3", cost.live)
	}
	if cost.alloc >= 1.3 {
		t.Errorf("recording allocated %.3f× the payload, want < 1.3", cost.alloc)
	}
	if cost.live < 0.99 {
		t.Errorf("the exchange keeps %.3f× the payload: the measurement missed the body", cost.live)
	}
}

// TestScaleLargeResponseWithoutLength records a 32 MiB response that
// announces no Content-Length (as most PHP output): the store grows as
// append grows it, and still keeps under 1.3 times the payload.
func TestScaleLargeResponseWithoutLength(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 32 MiB")
	}
	const n = 32 << 20
	body := bytes.Repeat([]byte("0123456789abcdef"), n/16)
	addr := startScaleServer(t, fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		w.Write([]byte("Content-Type: application/octet-stream\r\n\r\n"))
		for rest := body; len(rest) > 0; {
			k := min(len(rest), 64<<10)
			if _, err := w.Write(rest[:k]); err != nil {
				return
			}
			rest = rest[k:]
		}
	}))
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	x, cost := measureSend(t, e, addr, demoReq("/", ""), n)
	t.Logf("32 MiB, no Content-Length: heap kept %.3f× the payload, allocated %.3f×", cost.live, cost.alloc)
	if resp := x.Response(); resp == nil || !bytes.Equal(resp.Body, body) {
		t.Fatalf("the body did not arrive whole")
	}
	if cost.live >= 1.3 {
		t.Errorf("the exchange keeps %.3f× the payload in heap, want < 1.3", cost.live)
	}
}

// startScaleServer serves h on loopback until the test ends.
func startScaleServer(t *testing.T, h fcgi.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fcgi.Server{Handler: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return l.Addr().String()
}

// TestScaleManyRecords records 100,000 STDOUT records of 1 to 8 bytes from
// the demo backend: every one is kept, stdout is whole, and the exchange
// holds under 256 bytes of heap per record (summary, header, padding).
func TestScaleManyRecords(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	x, cost := measureSend(t, e, addr, demoReq("/misbehave/dribble", "n="+strconv.Itoa(dribbleBody)), dribbleRecords)
	t.Logf("%d records: heap kept %.0f bytes per record, allocated %.0f", x.Len(), cost.live, cost.alloc)
	stdout := 0
	for _, r := range x.Records() {
		if r.Type == fcgi.TypeStdout && r.Dir == fcgi.Received && r.ContentLength > 0 {
			stdout++
		}
	}
	if stdout != dribbleRecords {
		t.Fatalf("%d STDOUT records with content, want %d", stdout, dribbleRecords)
	}
	resp := x.Response()
	if resp == nil || resp.Status != 200 || len(resp.Body) != dribbleBody {
		t.Fatalf("response %v with %d body bytes, want %d; warnings %q", resp != nil, len(resp.Body), dribbleBody, x.Warnings())
	}
	for i, c := range resp.Body {
		if c != 'a'+byte(i%26) {
			t.Fatalf("body byte %d is %q", i, c)
		}
	}
	if cost.live >= 256 {
		t.Errorf("the exchange keeps %.0f bytes of heap per record, want < 256", cost.live)
	}
	// Any record decodes, the last as well as the first.
	last := x.Len() - 2 // the last STDOUT record, before END_REQUEST
	rec, err := x.Decode(last)
	if err != nil || rec.Type != fcgi.TypeStdout || rec.Index != last {
		t.Fatalf("Decode(%d) = %+v, %v", last, rec, err)
	}
}

// feedStdout records, into a begun exchange, STDOUT records of request 1
// carrying out in pieces of the given size, then END_REQUEST, and
// completes it.
func feedStdout(t *testing.T, x *Exchange, out []byte, piece int) {
	t.Helper()
	var recv bytes.Buffer
	w := fcgi.NewWriter(&recv)
	for rest := out; len(rest) > 0; {
		k := min(piece, len(rest))
		must(t, w.WriteRecord(fcgi.TypeStdout, 1, rest[:k]))
		rest = rest[k:]
	}
	must(t, w.WriteEndRequest(1, 0, fcgi.StatusRequestComplete))
	rd := fcgi.NewReader(&recv)
	for {
		rec, err := rd.ReadRecord()
		if err != nil {
			break
		}
		x.add(fcgi.Received, rec.Header, rec.Raw, time.Millisecond, "", false)
	}
	x.Complete(Outcome{Ended: true})
}

// TestCaptureReservesAnnouncedLength: the Content-Length of the CGI
// response sizes the stdout store once its header block has arrived,
// whatever the record sizes; a length that is not one number, or not
// reached, or beyond the capture limit, costs nothing more than append.
func TestCaptureReservesAnnouncedLength(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3<<20)
	tests := []struct {
		name    string
		header  string
		body    []byte
		piece   int   // record content size
		limit   int64 // capture limit (0: default)
		wantCap func(n int) (lo, hi int)
	}{
		{"announced, big records", "Content-Length: 3145728\r\n\r\n", body, 65535, 0,
			func(n int) (int, int) { return n, n }},
		{"announced, one-byte header records", "Status: 200\r\ncontent-length:3145728\r\n\r\n", body[:4096], 1, 0,
			// Only 4 KiB arrive: the reservation is given back at the end.
			func(n int) (int, int) { return n, n + n/4 }},
		{"announced in LF lines", "Content-Type: text/plain\nContent-Length: 3145728\n\n", body, 8000, 0,
			func(n int) (int, int) { return n, n }},
		{"not a number", "Content-Length: lots\r\n\r\n", body, 65535, 0,
			func(n int) (int, int) { return n, n + n/4 + 64<<10 }},
		{"two values", "Content-Length: 3145728\r\nContent-Length: 12\r\n\r\n", body, 65535, 0,
			func(n int) (int, int) { return n, n + n/4 + 64<<10 }},
		{"lying, far too big", "Content-Length: 9223372036854775807\r\n\r\n", body[:10], 65535, 0,
			func(n int) (int, int) { return n, n + 1<<20 }},
		{"beyond the capture limit", "Content-Length: 3145728\r\n\r\n", body, 65535, 1 << 20,
			func(int) (int, int) { return 0, 1 << 20 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := NewExchange(Input{})
			x.CaptureLimit = tt.limit
			x.Begin("t", &Request{ID: 1}, time.Now())
			out := append([]byte(tt.header), tt.body...)
			feedStdout(t, x, out, tt.piece)
			s := x.recv.stream[slotStdout]
			if lo, hi := tt.wantCap(len(s)); cap(s) < lo || cap(s) > hi {
				t.Errorf("stdout of %d bytes kept in an array of %d, want %d–%d", len(s), cap(s), lo, hi)
			}
			if tt.limit == 0 && !bytes.Equal(x.Stdout(), out) {
				t.Errorf("stdout differs from what was sent")
			}
		})
	}
}

// TestCaptureReserveKeepsViews: a view of stdout taken before the
// reservation (the UI shows stdout live) keeps its bytes, and the bytes
// stored after it land in the reserved array without moving it again.
func TestCaptureReserveKeepsViews(t *testing.T) {
	x := NewExchange(Input{})
	x.Begin("t", &Request{ID: 1}, time.Now())
	hdr := "Content-Length: 200000\r\n\r\n"
	var recv bytes.Buffer
	w := fcgi.NewWriter(&recv)
	must(t, w.WriteRecord(fcgi.TypeStdout, 1, []byte(hdr)))
	for range 4 {
		must(t, w.WriteRecord(fcgi.TypeStdout, 1, bytes.Repeat([]byte("b"), 50000)))
	}
	rd := fcgi.NewReader(&recv)
	var early, first []byte
	for i := 0; ; i++ {
		rec, err := rd.ReadRecord()
		if err != nil {
			break
		}
		x.add(fcgi.Received, rec.Header, rec.Raw, time.Millisecond, "", false)
		switch i {
		case 0:
			early = x.Stdout()
		case 1:
			first = x.Stdout()
		}
	}
	if string(early) != hdr {
		t.Errorf("the view taken before the reservation reads %q", early)
	}
	all := x.Stdout()
	if &all[0] != &first[0] {
		t.Error("stdout moved after the reservation")
	}
	if len(all) != len(hdr)+200000 || cap(x.recv.stream[slotStdout]) != len(all) {
		t.Errorf("stdout %d bytes in an array of %d", len(all), cap(x.recv.stream[slotStdout]))
	}
}

// TestCaptureReservesRequestBody: CONTENT_LENGTH sizes the captured
// request body, sent through the engine to the demo backend.
func TestCaptureReservesRequestBody(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})
	const n = 3 << 20
	req := demoReq("/echo", "", Param{Name: "CONTENT_LENGTH", Value: strconv.Itoa(n)})
	req.Body = strings.NewReader(strings.Repeat("q", n))
	x := sendOK(t, e, addr, req)
	if in := x.Stdin(); len(in) != n || cap(x.sent.stream[slotStdin]) != n {
		t.Errorf("stdin %d bytes in an array of %d, want %d in %d", len(in), cap(x.sent.stream[slotStdin]), n, n)
	}
	if !strings.Contains(string(x.Response().Body), `"stdin_length": 3145728`) {
		t.Errorf("the backend did not get the whole body: %.200s", x.Response().Body)
	}
}
