package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// wire drives an Exchange through a real fcgi.Writer (sent records) and a
// real fcgi.Reader (received records), keeping every byte that went each
// way so that tests can compare the capture with the stream.
type wire struct {
	t     *testing.T
	x     *Exchange
	start time.Time
	out   bytes.Buffer // everything sent
	in    bytes.Buffer // everything received
	w     *fcgi.Writer
}

func newWire(t *testing.T, x *Exchange, req *Request) *wire {
	t.Helper()
	wr := &wire{t: t, x: x, start: time.Now()}
	x.Begin("127.0.0.1:9000", req, wr.start)
	wr.w = fcgi.NewWriter(&wr.out)
	wr.w.Trace = x.Trace(wr.start)
	return wr
}

// receive encodes records with f and reads them back through a Reader
// traced into the exchange, like a client's reading goroutine.
func (wr *wire) receive(f func(w *fcgi.Writer)) {
	wr.t.Helper()
	var b bytes.Buffer
	f(fcgi.NewWriter(&b))
	wr.in.Write(b.Bytes())
	rd := fcgi.NewReader(&b)
	rd.Trace = wr.x.Trace(wr.start)
	for {
		rec, err := rd.ReadRecord()
		if err == io.EOF {
			return
		}
		var re *fcgi.RecordError
		if rec == nil && errors.As(err, &re) {
			wr.x.addPartial(fcgi.Received, re, time.Since(wr.start))
			return
		}
		if rec == nil {
			wr.t.Fatalf("reading back: %v", err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sampleExchange builds an exchange with a PARAMS pair straddling two
// records, a body, stdout in two records, stderr, a stray record for
// another request id, a record of an unknown type and END_REQUEST.
func sampleExchange(t *testing.T) (*Exchange, *wire) {
	t.Helper()
	x := NewExchange(Input{Mode: ModeRaw, Target: "127.0.0.1:9000", Role: fcgi.RoleResponder, KeepConn: true,
		Params: []RawParam{{"SCRIPT_FILENAME", "/x.php", true}, {"OFF", "1", false}},
		HTTP:   &HTTPInput{Method: "POST", URL: "/x.php", Headers: []Header{{"Host", "a"}}, DocumentRoot: "/srv"}, Body: []byte("hello body")})
	req := &Request{Role: fcgi.RoleResponder, KeepConn: true,
		Params: Params{{Name: "SCRIPT_FILENAME", Value: "/x.php", Origin: "user"},
			{Name: "LONG", Value: strings.Repeat("v", 300), Origin: "test"}}}
	wr := newWire(t, x, req)
	w := wr.w
	must(t, w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn))
	pairs := fcgi.AppendPairs(nil, req.Params.Pairs())
	cut := len(pairs) - 100 // inside LONG's value
	must(t, w.WriteRecord(fcgi.TypeParams, 1, pairs[:cut]))
	must(t, w.WriteRecord(fcgi.TypeParams, 1, pairs[cut:]))
	must(t, w.CloseStream(fcgi.TypeParams, 1))
	must(t, w.WriteStream(fcgi.TypeStdin, 1, []byte("hello body")))
	must(t, w.CloseStream(fcgi.TypeStdin, 1))
	wr.receive(func(p *fcgi.Writer) {
		must(t, p.WriteStream(fcgi.TypeStdout, 1, []byte("Content-Type: text/plain\r\nSet-Cookie: a=1\r\n\r\nhel")))
		must(t, p.WriteStream(fcgi.TypeStderr, 1, []byte("oops\n")))
		must(t, p.WriteStream(fcgi.TypeStdout, 7, []byte("stray")))
		must(t, p.WriteRecord(fcgi.RecordType(42), 1, []byte{1, 2, 3}))
		must(t, p.WriteStream(fcgi.TypeStdout, 1, []byte("lo")))
		must(t, p.WriteEndRequest(1, 3, fcgi.StatusRequestComplete))
	})
	x.Complete(Outcome{Connect: time.Millisecond, Total: 5 * time.Millisecond, Ended: true})
	return x, wr
}

func TestExchangeCapture(t *testing.T) {
	x, wr := sampleExchange(t)

	if got := string(x.Stdout()); got != "Content-Type: text/plain\r\nSet-Cookie: a=1\r\n\r\nhello" {
		t.Errorf("Stdout = %q", got)
	}
	if got := string(x.Stderr()); got != "oops\n" {
		t.Errorf("Stderr = %q", got)
	}
	if got := string(x.Stdin()); got != "hello body" {
		t.Errorf("Stdin = %q", got)
	}
	if e := x.End(); e == nil || *e != (EndStatus{AppStatus: 3}) {
		t.Errorf("End = %+v, want app status 3, REQUEST_COMPLETE", e)
	}
	resp := x.Response()
	if resp == nil || resp.Status != 200 || string(resp.Body) != "hello" {
		t.Fatalf("Response = %+v", resp)
	}
	if v, _ := resp.Get("set-cookie"); v != "a=1" {
		t.Errorf("Set-Cookie = %q", v)
	}
	// Stdout is a view, not a copy: the body and two calls share memory.
	s1, s2 := x.Stdout(), x.Stdout()
	if &s1[0] != &s2[0] || &resp.Body[0] != &s1[resp.HeaderLen] {
		t.Error("Stdout or the response body is a copy of the capture")
	}

	// Every byte that crossed the wire, in order, is in the records.
	var sent, recv []byte
	for _, r := range x.Records() {
		raw := x.RecordRaw(r.Index)
		if len(raw) != fcgi.HeaderLen+int(r.ContentLength)+int(r.PaddingLength) {
			t.Errorf("record %d: raw is %d bytes, header says %d", r.Index, len(raw),
				fcgi.HeaderLen+int(r.ContentLength)+int(r.PaddingLength))
		}
		if r.Dir == fcgi.Sent {
			if r.Offset != int64(len(sent)) {
				t.Errorf("sent record %d: offset %d, want %d", r.Index, r.Offset, len(sent))
			}
			sent = append(sent, raw...)
		} else {
			if r.Offset != int64(len(recv)) {
				t.Errorf("received record %d: offset %d, want %d", r.Index, r.Offset, len(recv))
			}
			recv = append(recv, raw...)
		}
	}
	if !bytes.Equal(sent, wr.out.Bytes()) {
		t.Error("sent records do not add up to the bytes written")
	}
	if !bytes.Equal(recv, wr.in.Bytes()) {
		t.Error("received records do not add up to the bytes read")
	}

	recs := x.Records()
	types := make([]string, len(recs))
	for i, r := range recs {
		types[i] = r.Dir.String() + ":" + r.Type.String()
	}
	want := []string{"sent:BEGIN_REQUEST", "sent:PARAMS", "sent:PARAMS", "sent:PARAMS", "sent:STDIN", "sent:STDIN",
		"received:STDOUT", "received:STDERR", "received:STDOUT", "received:UNKNOWN_42", "received:STDOUT",
		"received:END_REQUEST"}
	if !slices.Equal(types, want) {
		t.Errorf("records = %q\nwant %q", types, want)
	}
	if x.RequestID() != 1 {
		t.Errorf("RequestID = %d, want 1 (learned from BEGIN_REQUEST)", x.RequestID())
	}
	sz := x.Sizes()
	if sz.Stdout != 48+2 || sz.Stderr != 5 || sz.Stdin != 10 || sz.Sent != int64(wr.out.Len()) ||
		sz.Received != int64(wr.in.Len()) || sz.Dropped != 0 {
		t.Errorf("Sizes = %+v", sz)
	}
	if !x.Finished() || x.ErrorText() != "" || x.Truncated() {
		t.Errorf("Finished %v, ErrorText %q, Truncated %v", x.Finished(), x.ErrorText(), x.Truncated())
	}
	if ts := x.Timings(); ts.Connect != time.Millisecond || ts.Total != 5*time.Millisecond || ts.FirstByte <= 0 {
		t.Errorf("Timings = %+v", ts)
	}
}

func TestExchangeDecode(t *testing.T) {
	x, _ := sampleExchange(t)
	// Record 2 is the second PARAMS record: it completes LONG, begun in record 1.
	rec, err := x.Decode(2)
	if err != nil {
		t.Fatal(err)
	}
	ps, ok := rec.Body.(*fcgi.Pairs)
	if !ok || len(ps.Fields) != 1 || ps.Fields[0].Name != "LONG" || ps.Fields[0].Value != strings.Repeat("v", 300) {
		t.Fatalf("Decode(2) body = %#v, want the straddling pair LONG", rec.Body)
	}
	if ps.Fields[0].Offset >= 0 || ps.Carried != 100 {
		t.Errorf("straddling pair: offset %d, carried %d; want negative offset, 100 carried", ps.Fields[0].Offset, ps.Carried)
	}
	if rec.Index != 2 || rec.Offset != x.Records()[2].Offset || !bytes.Equal(rec.Raw, x.RecordRaw(2)) {
		t.Errorf("Decode(2): index %d offset %d", rec.Index, rec.Offset)
	}
	rec, err = x.Decode(0)
	if b, ok := rec.Body.(*fcgi.BeginRequest); err != nil || !ok || b.Role != fcgi.RoleResponder || b.Flags != fcgi.FlagKeepConn {
		t.Errorf("Decode(0) = %#v, %v", rec.Body, err)
	}
	last := x.Len() - 1
	rec, err = x.Decode(last)
	if e, ok := rec.Body.(*fcgi.EndRequest); err != nil || !ok || e.AppStatus != 3 {
		t.Errorf("Decode(%d) = %#v, %v", last, rec.Body, err)
	}
	if _, err := x.Decode(last + 1); err == nil {
		t.Error("Decode past the end: no error")
	}
}

func TestExchangeJSONRoundTrip(t *testing.T) {
	x, _ := sampleExchange(t)
	x.warn("a warning of our own")
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var y Exchange
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(x, &y) {
		t.Errorf("round trip differs:\n%+v\n%+v", x, &y)
	}
	b2, err := json.Marshal(&y)
	if err != nil || !bytes.Equal(b, b2) {
		t.Errorf("second encoding differs (err %v)", err)
	}
	// The restored exchange answers like the original.
	if !bytes.Equal(y.RecordRaw(2), x.RecordRaw(2)) || string(y.Response().Body) != "hello" {
		t.Error("restored exchange gives other bytes")
	}
	if rec, err := y.Decode(2); err != nil || rec.Body.(*fcgi.Pairs).Fields[0].Name != "LONG" {
		t.Errorf("restored Decode(2): %v", err)
	}

	// An exchange that failed before any record round-trips too.
	z := NewExchange(Input{Mode: ModeHTTP})
	z.Begin("unix:/nowhere", &Request{}, time.Now())
	z.Complete(Outcome{Total: time.Second, Err: errors.New("fcgi: dial unix /nowhere: no such file")})
	b, _ = json.Marshal(z)
	var z2 Exchange
	must(t, json.Unmarshal(b, &z2))
	if !reflect.DeepEqual(z, &z2) || z2.Response() != nil || z2.ErrorText() == "" {
		t.Errorf("failed exchange round trip differs:\n%+v\n%+v", z, &z2)
	}
}

func TestExchangeJSONRejectsBadRanges(t *testing.T) {
	x, _ := sampleExchange(t)
	b, _ := json.Marshal(x)
	var v map[string]any
	must(t, json.Unmarshal(b, &v))
	cases := map[string]func(){
		"frame_len": func() { v["records"].([]any)[0].(map[string]any)["frame_len"] = 1e9 },
		"frame_off": func() { v["records"].([]any)[0].(map[string]any)["frame_off"] = -1 },
		"data_len":  func() { v["records"].([]any)[6].(map[string]any)["data_len"] = 1e6 },
		"stream":    func() { v["records"].([]any)[6].(map[string]any)["stream"] = "nope" },
		"dir":       func() { v["records"].([]any)[0].(map[string]any)["dir"] = "up" },
		"response":  func() { v["response"].(map[string]any)["header_len"] = 1e6 },
	}
	for name, damage := range cases {
		must(t, json.Unmarshal(b, &v))
		damage()
		bad, _ := json.Marshal(v)
		var y Exchange
		if err := json.Unmarshal(bad, &y); err == nil || !strings.Contains(err.Error(), "session: ") {
			t.Errorf("%s: damaged JSON accepted (err %v)", name, err)
		}
	}
}

func TestExchangeCaptureLimit(t *testing.T) {
	x := NewExchange(Input{})
	x.CaptureLimit = 2000
	wr := newWire(t, x, &Request{ID: 1})
	must(t, wr.w.WriteBeginRequest(1, fcgi.RoleResponder, 0))
	chunk := bytes.Repeat([]byte("z"), 500)
	wr.receive(func(p *fcgi.Writer) {
		must(t, p.WriteStream(fcgi.TypeStdout, 1, []byte("Content-Type: text/plain\r\n\r\n")))
		for range 10 {
			must(t, p.WriteStream(fcgi.TypeStdout, 1, chunk))
		}
		must(t, p.WriteEndRequest(1, 0, fcgi.StatusRequestComplete))
	})
	x.Complete(Outcome{Ended: true, Counted: true, StdoutBytes: 28 + 5000})

	recs := x.Records()
	if len(recs) != 13 {
		t.Fatalf("%d records, want 13: headers are kept past the limit", len(recs))
	}
	var truncated int
	for _, r := range recs {
		raw := x.RecordRaw(r.Index)
		if r.Truncated {
			truncated++
			if len(raw) != fcgi.HeaderLen {
				t.Errorf("truncated record %d: %d raw bytes, want the 8-byte header", r.Index, len(raw))
			}
			if h, _ := fcgi.ParseHeader(raw); h.ContentLength != r.ContentLength || h.Type != r.Type {
				t.Errorf("truncated record %d: header bytes %+v do not match %+v", r.Index, h, r)
			}
			if _, err := x.Decode(r.Index); err == nil || !strings.Contains(err.Error(), "not captured") {
				t.Errorf("Decode(%d) of a truncated record: %v", r.Index, err)
			}
		} else if len(raw) != r.RecordLenForTest() {
			t.Errorf("record %d: %d raw bytes, want %d", r.Index, len(raw), r.RecordLenForTest())
		}
	}
	// Once content is dropped, every later STDOUT record is cut too, but a
	// small END_REQUEST that still fits is kept whole.
	if truncated != 7 || recs[len(recs)-1].Truncated || !recs[len(recs)-2].Truncated {
		t.Errorf("%d truncated records, END_REQUEST truncated %v", truncated, recs[len(recs)-1].Truncated)
	}
	full := append([]byte("Content-Type: text/plain\r\n\r\n"), bytes.Repeat(chunk, 10)...)
	if got := x.Stdout(); !bytes.HasPrefix(full, got) || len(got) != 28+3*500 {
		t.Errorf("captured stdout (%d bytes) is not the first %d bytes of the response", len(got), 28+3*500)
	}
	sz := x.Sizes()
	if !x.Truncated() || sz.Dropped == 0 || sz.Captured > 2000+int64(len(recs))*fcgi.HeaderLen {
		t.Errorf("Truncated %v, sizes %+v", x.Truncated(), sz)
	}
	if sz.Stdout != 5028 || int64(len(x.Stdout())) >= sz.Stdout {
		t.Errorf("stdout: counted %d, captured %d", sz.Stdout, len(x.Stdout()))
	}
	if ws := strings.Join(x.Warnings(), "\n"); !strings.Contains(ws, "capture limit of 2000 bytes reached") {
		t.Errorf("warnings %q do not report the truncation", ws)
	}
	if e := x.End(); e == nil {
		t.Error("END_REQUEST status lost past the capture limit")
	}
	b, _ := json.Marshal(x)
	var y Exchange
	must(t, json.Unmarshal(b, &y))
	if !reflect.DeepEqual(x, &y) || !y.Truncated() {
		t.Error("truncated exchange does not round-trip")
	}
}

// RecordLenForTest is the length the header announces.
func (r RecordInfo) RecordLenForTest() int {
	return fcgi.HeaderLen + int(r.ContentLength) + int(r.PaddingLength)
}

func TestExchangePartialRecord(t *testing.T) {
	x := NewExchange(Input{})
	wr := newWire(t, x, &Request{ID: 1})
	must(t, wr.w.WriteBeginRequest(1, fcgi.RoleResponder, 0))
	wr.receive(func(p *fcgi.Writer) {
		must(t, p.WriteStream(fcgi.TypeStdout, 1, []byte("Content-Type: text/plain\r\n\r\nok")))
		// A header that promises 100 bytes, then only 5.
		p.AllowIllegalWrites = true
		must(t, p.WriteRaw(fcgi.Header{Version: 1, Type: fcgi.TypeStdout, RequestID: 1, ContentLength: 100}, []byte("short"), nil))
	})
	x.Complete(Outcome{Err: errors.New("fcgi: connection closed")})
	recs := x.Records()
	last := recs[len(recs)-1]
	if !last.Partial || !strings.Contains(last.Err, "stream ended inside a record") {
		t.Fatalf("last record %+v, want partial", last)
	}
	if got := x.RecordRaw(last.Index); len(got) != 13 || string(got[8:]) != "short" {
		t.Errorf("partial raw = %q", got)
	}
	if string(x.Stdout()) != "Content-Type: text/plain\r\n\r\nok" {
		t.Errorf("Stdout = %q: a partial record must not join stdout", x.Stdout())
	}
	if _, err := x.Decode(last.Index); err == nil {
		t.Error("Decode of a partial record: no error")
	}
	if r := x.Response(); r == nil || string(r.Body) != "ok" {
		t.Errorf("response of a failed request = %+v", r)
	}
	if ws := strings.Join(x.Warnings(), "\n"); !strings.Contains(ws, "the request failed") {
		t.Errorf("warnings = %q", ws)
	}
}

func TestExchangeConcurrentReadersAndOnRecord(t *testing.T) {
	x := NewExchange(Input{})
	var mu sync.Mutex
	var seen []int
	x.OnRecord = func(r RecordInfo) {
		_ = x.Len() // allowed from the callback
		mu.Lock()
		seen = append(seen, r.Index)
		mu.Unlock()
	}
	wr := newWire(t, x, &Request{ID: 1})
	must(t, wr.w.WriteBeginRequest(1, fcgi.RoleResponder, 0))

	const n = 200
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // a UI goroutine reading while records arrive
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, r := range x.Records() {
				_ = x.RecordRaw(r.Index)
			}
			_ = x.Stdout()
			_, _ = json.Marshal(x)
		}
	}()
	var writers sync.WaitGroup
	for g := range 2 { // reader and writer goroutines of a client
		writers.Add(1)
		go func() {
			defer writers.Done()
			var b bytes.Buffer
			w := fcgi.NewWriter(&b)
			for range n {
				_ = w.WriteStream(fcgi.TypeStdout, 1, []byte{byte('a' + g)})
			}
			rd := fcgi.NewReader(&b)
			rd.Trace = x.Trace(wr.start)
			for {
				if _, err := rd.ReadRecord(); err != nil {
					return
				}
			}
		}()
	}
	writers.Wait()
	close(stop)
	wg.Wait()

	if len(seen) != 2*n+1 || !slices.IsSorted(seen) {
		t.Errorf("OnRecord saw %d records, sorted %v; want %d in order", len(seen), slices.IsSorted(seen), 2*n+1)
	}
	if got := len(x.Stdout()); got != 2*n {
		t.Errorf("stdout %d bytes, want %d", got, 2*n)
	}
}

// TestExchangeReadersNeverWaitForGrowth: a record's bytes are copied into
// the capture holding only its direction's writer lock (see Exchange.add),
// never the lock readers take, so a reader (the UI) does not wait while a
// stream of 100 MiB is copied into a bigger array. Every reader returns
// while a writer is mid-copy (here: while the test holds that lock), and
// what readers see while both directions grow is always a prefix of the
// final streams.
func TestExchangeReadersNeverWaitForGrowth(t *testing.T) {
	x := NewExchange(Input{})
	x.Begin("t", &Request{ID: 1}, time.Now())
	const n = 4 << 20
	stdin := bytes.Repeat([]byte("request body. "), n/14)
	stderr := bytes.Repeat([]byte("PHP Warning: flood\n"), n/19)
	records := func(t fcgi.RecordType, b []byte) *bytes.Buffer {
		var out bytes.Buffer
		w := fcgi.NewWriter(&out)
		for rest := b; len(rest) > 0; {
			k := min(len(rest), 32<<10)
			_ = w.WriteRecord(t, 1, rest[:k])
			rest = rest[k:]
		}
		return &out
	}
	feed := func(dir fcgi.Direction, b *bytes.Buffer) {
		rd := fcgi.NewReader(b)
		rd.Trace = func(ev fcgi.Event) { x.add(dir, ev.Record.Header, ev.Record.Raw, time.Millisecond, "", false) }
		for {
			if _, err := rd.ReadRecord(); err != nil {
				return
			}
		}
	}
	feed(fcgi.Received, records(fcgi.TypeStderr, stderr[:1000]))

	// A writer mid-copy.
	w := x.writerOf(fcgi.Received)
	w.Lock()
	read := make(chan struct{})
	go func() {
		defer close(read)
		_, _, _ = x.Stderr(), x.Stdout(), x.Stdin()
		_, _, _ = x.Records(), x.RecordRaw(0), x.Sizes()
		_, _ = x.Decode(0)
		_, _ = json.Marshal(x)
		_, _ = x.CLIJSON()
	}()
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		t.Fatal("a reader waits for the lock of a writer copying into the capture")
	}
	w.Unlock()

	// Both directions grow while a reader looks.
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Add(1)
	go func() {
		defer reader.Done()
		for views := 0; ; views++ {
			select {
			case <-stop:
				t.Logf("%d rounds of views while the streams grew", views)
				return
			default:
			}
			if in := x.Stdin(); !bytes.Equal(in, stdin[:len(in)]) {
				t.Errorf("a view of %d stdin bytes is not a prefix of the body", len(in))
				return
			}
			if e := x.Stderr(); !bytes.Equal(e, stderr[:len(e)]) {
				t.Errorf("a view of %d stderr bytes is not a prefix of stderr", len(e))
				return
			}
			for i, r := range x.Records() {
				if r.Index != i {
					t.Errorf("record %d has Index %d", i, r.Index)
					return
				}
			}
		}
	}()
	var writers sync.WaitGroup
	for _, d := range []struct {
		dir fcgi.Direction
		b   *bytes.Buffer
	}{{fcgi.Sent, records(fcgi.TypeStdin, stdin)}, {fcgi.Received, records(fcgi.TypeStderr, stderr[1000:])}} {
		writers.Add(1)
		go func() {
			defer writers.Done()
			feed(d.dir, d.b)
		}()
	}
	writers.Wait()
	close(stop)
	reader.Wait()
	x.Complete(Outcome{Counted: true, StderrBytes: int64(len(stderr))})

	if !bytes.Equal(x.Stdin(), stdin) || !bytes.Equal(x.Stderr(), stderr) {
		t.Errorf("captured %d stdin and %d stderr bytes, want %d and %d, equal", len(x.Stdin()), len(x.Stderr()), len(stdin), len(stderr))
	}
	if ws := x.Warnings(); len(ws) > 0 {
		t.Errorf("warnings %q", ws)
	}
	var offset [3]int64
	for i, r := range x.Records() {
		raw := x.RecordRaw(i)
		if r.Offset != offset[r.Dir] || len(raw) != r.RecordLenForTest() {
			t.Fatalf("record %d (%s): offset %d, %d bytes; want offset %d, %d bytes", i, r.Dir, r.Offset, len(raw), offset[r.Dir], r.RecordLenForTest())
		}
		offset[r.Dir] += int64(len(raw))
	}
}

func TestCLIJSON(t *testing.T) {
	x, _ := sampleExchange(t)
	b, err := x.CLIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	must(t, json.Unmarshal(b, &v))
	wantKeys := []string{"end_request", "error", "framing", "params", "records", "request_id", "response", "role",
		"stderr", "stderr_b64", "stdout_b64", "target", "timings_us", "warnings"}
	if got := keys(v); !slices.Equal(got, wantKeys) {
		t.Errorf("keys = %q\nwant %q", got, wantKeys)
	}
	rec0 := v["records"].([]any)[0].(map[string]any)
	if got := keys(rec0); !slices.Equal(got, []string{"content_length", "dir", "offset", "padding_length",
		"request_id", "t_us", "type", "type_code"}) {
		t.Errorf("record keys = %q", got)
	}
	if rec0["type"] != "BEGIN_REQUEST" || rec0["type_code"] != 1.0 || rec0["dir"] != "sent" {
		t.Errorf("record 0 = %v", rec0)
	}
	if r := v["records"].([]any)[9].(map[string]any); r["type"] != "UNKNOWN_42" || r["dir"] != "received" {
		t.Errorf("record 9 = %v", r)
	}
	end := v["end_request"].(map[string]any)
	if end["app_status"] != 3.0 || end["protocol_status"] != "REQUEST_COMPLETE" {
		t.Errorf("end_request = %v", end)
	}
	resp := v["response"].(map[string]any)
	if got := keys(resp); !slices.Equal(got, []string{"body_b64", "headers", "reason", "status"}) || resp["status"] != 200.0 ||
		resp["body_b64"] != "aGVsbG8=" {
		t.Errorf("response = %v", resp)
	}
	if v["role"] != "RESPONDER" || v["stderr"] != "oops\n" || v["error"] != nil || v["request_id"] != 1.0 ||
		v["target"] != "127.0.0.1:9000" {
		t.Errorf("top level = %v", v)
	}
	if ps := v["params"].([]any); len(ps) != 2 || keys(ps[0].(map[string]any))[0] != "name" {
		t.Errorf("params = %v", ps)
	}
	if got := keys(v["timings_us"].(map[string]any)); !slices.Equal(got, []string{"connect", "first_byte", "total"}) {
		t.Errorf("timings keys = %q", got)
	}

	// A failed exchange: error set, end_request and response null, lists empty not null.
	z := NewExchange(Input{})
	z.Begin("127.0.0.1:1", &Request{}, time.Now())
	z.Complete(Outcome{Err: errors.New("fcgi: connect refused")})
	b, _ = z.CLIJSON()
	for _, want := range []string{`"error":"fcgi: connect refused"`, `"end_request":null`, `"response":null`,
		`"warnings":[]`, `"records":[]`, `"params":[]`, `"stdout_b64":""`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("failed exchange CLI JSON lacks %s: %s", want, b)
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// recordSource produces STDOUT records of request 1 on the fly, so that a
// large response can be fed without holding its stream in memory.
type recordSource struct {
	left  int
	chunk []byte
	buf   bytes.Buffer
	w     *fcgi.Writer
}

func (s *recordSource) Read(p []byte) (int, error) {
	if s.buf.Len() == 0 {
		if s.left == 0 {
			return 0, io.EOF
		}
		n := min(s.left, len(s.chunk))
		if s.w == nil {
			s.w = fcgi.NewWriter(&s.buf)
		}
		_ = s.w.WriteRecord(fcgi.TypeStdout, 1, s.chunk[:n])
		s.left -= n
	}
	return s.buf.Read(p)
}

func TestExchangeLargeStdoutHeapCost(t *testing.T) {
	if testing.Short() {
		t.Skip("feeds 64 MiB")
	}
	const payload = 64 << 20
	x := NewExchange(Input{})
	x.Begin("t", &Request{ID: 1}, time.Now())

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rd := fcgi.NewReader(&recordSource{left: payload, chunk: bytes.Repeat([]byte("0123456789abcdef"), 65528/16)})
	rd.Trace = x.Trace(time.Now())
	for {
		if _, err := rd.ReadRecord(); err != nil {
			break
		}
	}
	x.Complete(Outcome{Ended: true, Counted: true, StdoutBytes: payload})
	rd = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := len(x.Stdout()); got != payload {
		t.Fatalf("stdout %d bytes, want %d", got, payload)
	}
	cost := float64(after.HeapAlloc-before.HeapAlloc) / payload
	t.Logf("heap cost %.3f× payload", cost)
	if cost >= 1.3 {
		t.Errorf("a %d-byte response costs %.2f× its size in heap, want < 1.3×", payload, cost)
	}
	runtime.KeepAlive(x)
}

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if updateGolden() {
		must(t, os.MkdirAll(filepath.Dir(path), 0o755))
		must(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it):\n%s", path, got)
	}
}

// fixedExchange is an exchange with fixed times: a GET with one param, a
// response in two STDOUT records, one STDERR record and END_REQUEST.
func fixedExchange(t *testing.T) *Exchange {
	t.Helper()
	x := NewExchange(Input{Mode: ModeRaw, Target: "127.0.0.1:9000", Role: fcgi.RoleResponder,
		Params: []RawParam{{"SCRIPT_FILENAME", "/srv/www/index.php", true}}})
	start := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	x.Begin("127.0.0.1:9000", &Request{Params: Params{{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php", Origin: "user"}}}, start)
	var sent, recv bytes.Buffer
	w := fcgi.NewWriter(&sent)
	must(t, w.WriteBeginRequest(1, fcgi.RoleResponder, 0))
	must(t, w.WriteParams(1, x.Params().Pairs())) // closes the PARAMS stream
	must(t, w.CloseStream(fcgi.TypeStdin, 1))
	w = fcgi.NewWriter(&recv)
	must(t, w.WriteStream(fcgi.TypeStdout, 1, []byte("Status: 201 Created\r\nContent-Type: text/plain\r\n")))
	must(t, w.WriteStream(fcgi.TypeStderr, 1, []byte("PHP message: hi\n")))
	must(t, w.WriteStream(fcgi.TypeStdout, 1, []byte("\r\nmade\n")))
	must(t, w.WriteEndRequest(1, 0, fcgi.StatusRequestComplete))
	step := time.Duration(0)
	feed := func(dir fcgi.Direction, b *bytes.Buffer) {
		rd := fcgi.NewReader(b)
		for {
			rec, err := rd.ReadRecord()
			if err != nil {
				return
			}
			step += 250 * time.Microsecond
			x.add(dir, rec.Header, rec.Raw, step, "", false)
		}
	}
	feed(fcgi.Sent, &sent)
	feed(fcgi.Received, &recv)
	x.Complete(Outcome{Connect: 100 * time.Microsecond, Total: 3 * time.Millisecond, Ended: true,
		Conn: fcgi.ConnInfo{Network: "tcp", Addr: "127.0.0.1:9000"}})
	x.timings.FirstByte = 1500 * time.Microsecond
	return x
}

func TestExchangeGolden(t *testing.T) {
	x := fixedExchange(t)
	cli, err := x.CLIJSON()
	must(t, err)
	var indented bytes.Buffer
	must(t, json.Indent(&indented, cli, "", "  "))
	indented.WriteByte('\n')
	checkGolden(t, "exchange/cli.json", indented.Bytes())

	full, err := json.MarshalIndent(x, "", "  ")
	must(t, err)
	checkGolden(t, "exchange/exchange.json", append(full, '\n'))

	// The golden file decodes to the same exchange.
	var y Exchange
	must(t, json.Unmarshal(full, &y))
	if !reflect.DeepEqual(x, &y) {
		t.Error("the golden exchange does not round-trip")
	}
}

func TestRecordInfoNote(t *testing.T) {
	for _, tc := range []struct {
		info RecordInfo
		want string
	}{
		{RecordInfo{}, ""},
		{RecordInfo{Err: "fcgi: record 3: version 2"}, "fcgi: record 3: version 2"},
		{RecordInfo{Partial: true}, "the connection ended inside this record: only the bytes that arrived are shown"},
		{RecordInfo{Truncated: true}, "capture limit reached: only the header was kept"},
		{RecordInfo{Err: "bad", Partial: true}, "bad; the connection ended inside this record: only the bytes that arrived are shown"},
	} {
		if got := tc.info.Note(); got != tc.want {
			t.Errorf("%+v: Note() = %q, want %q", tc.info, got, tc.want)
		}
	}
}
