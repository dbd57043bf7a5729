// Misbehaviour tests: every /misbehave/ route through the fcgi client, with
// what the client reports and the records it saw.

package demo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
)

// seen is one record a trace saw, copied.
type seen struct {
	dir fcgi.Direction
	fcgi.Header
	raw []byte
	err error
}

func (s seen) content() []byte {
	return s.raw[min(fcgi.HeaderLen, len(s.raw)):min(fcgi.HeaderLen+int(s.ContentLength), len(s.raw))]
}

// recorder collects trace events; safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	recs []seen
	// stray receives a copy of each record whose Err wraps
	// fcgi.ErrUnknownRequestID.
	stray chan seen
}

func newRecorder() *recorder { return &recorder{stray: make(chan seen, 16)} }

func (r *recorder) trace(ev fcgi.Event) {
	s := seen{dir: ev.Dir, Header: ev.Record.Header, raw: bytes.Clone(ev.Record.Raw), err: ev.Err}
	r.mu.Lock()
	r.recs = append(r.recs, s)
	r.mu.Unlock()
	if errors.Is(ev.Err, fcgi.ErrUnknownRequestID) {
		select {
		case r.stray <- s:
		default:
		}
	}
}

func (r *recorder) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.recs...)
}

// received returns the received records of type t (any type if t is 0).
func (r *recorder) received(t fcgi.RecordType) []seen {
	var out []seen
	for _, s := range r.all() {
		if s.dir == fcgi.Received && (t == 0 || s.Type == t) {
			out = append(out, s)
		}
	}
	return out
}

// outcome is what the client reported for one misbehaving request.
type outcome struct {
	resp           *fcgi.Response
	err            error
	req            *recorder // the request's trace
	conn           *recorder // the connection's trace
	stdout, stderr bytes.Buffer
	c              *fcgi.Conn
}

func misbehaveReq(path, query string) *fcgi.Request {
	return &fcgi.Request{Params: []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: query}}}
}

// misbehave sends path?query on a connection of its own, bounded by
// ioTimeout, and returns what the client saw. The connection is left open
// (and closed at the end of the test) so callers can use it again.
func misbehave(t *testing.T, addr string, opts fcgi.Options, req *fcgi.Request) *outcome {
	t.Helper()
	o := &outcome{req: newRecorder(), conn: newRecorder()}
	opts.Trace = o.conn.trace
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, err := fcgi.Dial(ctx, addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	o.c = c
	req.Trace, req.Stdout, req.Stderr = o.req.trace, &o.stdout, &o.stderr
	start := time.Now()
	o.resp, o.err = c.Do(ctx, req)
	if time.Since(start) >= ioTimeout {
		t.Fatalf("%v: the request hung until the test's deadline", req.Params)
	}
	if o.resp == nil {
		t.Fatalf("no Response (error %v)", o.err)
	}
	return o
}

func path(name string) string { return demo.MisbehavePrefix + name }

func TestMisbehavioursAreRoutes(t *testing.T) {
	routes := map[string]string{}
	for _, r := range demo.Routes() {
		routes[r.Path] = r.Summary
	}
	ms := demo.Misbehaviours()
	if len(ms) < 15 {
		t.Errorf("%d misbehaviours, want at least 15", len(ms))
	}
	for _, m := range ms {
		if !strings.HasPrefix(m.Path, demo.MisbehavePrefix) {
			t.Errorf("%s does not start with %s", m.Path, demo.MisbehavePrefix)
		}
		if routes[m.Path] != m.Summary {
			t.Errorf("%s is not in Routes() with its summary", m.Path)
		}
		if len(m.Summary) < 40 {
			t.Errorf("%s: summary %q is too short to document the scenario", m.Path, m.Summary)
		}
	}
}

func TestMisbehaveSlowFirstByte(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("slow-first-byte"), "ms=300"))
	if o.err != nil {
		t.Fatal(o.err)
	}
	if o.resp.Timing.FirstByte < 300*time.Millisecond {
		t.Errorf("first byte after %v, want at least 300ms", o.resp.Timing.FirstByte)
	}
	if !strings.Contains(o.stdout.String(), "first byte after 300 ms") {
		t.Errorf("stdout %q", o.stdout.String())
	}

	// An idle timeout shorter than the wait: the client gives up, sends
	// ABORT_REQUEST, and the backend's handler stops.
	o = misbehave(t, addr, fcgi.Options{IdleTimeout: 100 * time.Millisecond}, misbehaveReq(path("slow-first-byte"), "ms=20000"))
	if !errors.Is(o.err, fcgi.ErrTimeout) {
		t.Fatalf("error %v, want ErrTimeout", o.err)
	}
	var aborts int
	for _, s := range o.req.all() {
		if s.dir == fcgi.Sent && s.Type == fcgi.TypeAbortRequest {
			aborts++
		}
	}
	if aborts != 1 {
		t.Errorf("%d ABORT_REQUEST records sent, want 1", aborts)
	}
	if !o.resp.Ended {
		t.Errorf("no END_REQUEST after ABORT_REQUEST: %v", o.err)
	}
}

func TestMisbehaveDribble(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("dribble"), "n=100"))
	if o.err != nil {
		t.Fatal(o.err)
	}
	recs := o.req.received(fcgi.TypeStdout)
	total := 0
	for i, s := range recs {
		n := int(s.ContentLength)
		last := i == len(recs)-1
		if last && n != 0 || !last && (n < 1 || n > 8) {
			t.Errorf("STDOUT record %d of %d carries %d bytes", i, len(recs), n)
		}
		total += n
	}
	_, body, ok := strings.Cut(o.stdout.String(), "\r\n\r\n")
	if !ok || len(body) != 100 {
		t.Errorf("body %q (%d bytes), want 100 bytes after the header block", body, len(body))
	}
	if total != o.stdout.Len() || len(recs) < total/8 {
		t.Errorf("%d records, %d bytes; stdout %d bytes", len(recs), total, o.stdout.Len())
	}
}

func TestMisbehaveHugeStderr(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	req := misbehaveReq(path("huge-stderr"), "")
	o := misbehave(t, addr, fcgi.Options{}, req)
	if o.err != nil {
		t.Fatal(o.err)
	}
	const want = 10 << 20
	if o.resp.StderrBytes != want || o.stderr.Len() != want {
		t.Errorf("stderr: %d bytes counted, %d delivered, want %d", o.resp.StderrBytes, o.stderr.Len(), want)
	}
	if !strings.Contains(o.stdout.String(), fmt.Sprintf("wrote %d bytes to STDERR", want)) {
		t.Errorf("stdout %q", o.stdout.String())
	}
	recs := o.req.received(fcgi.TypeStderr)
	if len(recs) < want/fcgi.MaxContent || recs[len(recs)-1].ContentLength != 0 {
		t.Errorf("%d STDERR records, want at least %d closed by an empty one", len(recs), want/fcgi.MaxContent)
	}
}

func TestMisbehaveProtocolStatus(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	for name, want := range map[string]fcgi.ProtocolStatus{
		"status/cant-mpx-conn": fcgi.StatusCantMpxConn,
		"status/overloaded":    fcgi.StatusOverloaded,
		"status/unknown-role":  fcgi.StatusUnknownRole,
	} {
		t.Run(name, func(t *testing.T) {
			o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path(name), ""))
			var ere *fcgi.EndRequestError
			if !errors.As(o.err, &ere) || ere.ProtocolStatus != want {
				t.Fatalf("error %v, want an EndRequestError with %s", o.err, want)
			}
			if !o.resp.Ended || o.resp.ProtocolStatus != want || o.resp.StdoutBytes != 0 {
				t.Errorf("response %+v", o.resp)
			}
		})
	}
	t.Run("status/app", func(t *testing.T) {
		o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("status/app"), "code=7"))
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.resp.AppStatus != 7 || o.resp.ProtocolStatus != fcgi.StatusRequestComplete {
			t.Errorf("app status %d, protocol status %s", o.resp.AppStatus, o.resp.ProtocolStatus)
		}
		if !strings.HasPrefix(o.stdout.String(), "Status: 500") {
			t.Errorf("stdout %q", o.stdout.String())
		}
	})
}

func TestMisbehaveCloseEarly(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("close-early"), ""))
	if !errors.Is(o.err, fcgi.ErrConnClosed) {
		t.Fatalf("error %v, want ErrConnClosed", o.err)
	}
	if o.resp.Ended || len(o.req.received(fcgi.TypeEndRequest)) != 0 {
		t.Error("END_REQUEST reported")
	}
	if !strings.HasPrefix(o.stdout.String(), "Content-Type: text/plain") {
		t.Errorf("stdout before the close %q", o.stdout.String())
	}
}

func TestMisbehaveOddPadding(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("odd-padding"), ""))
	if o.err != nil {
		t.Fatal(o.err)
	}
	odd := 0
	for _, s := range o.req.received(fcgi.TypeStdout) {
		if s.ContentLength > 0 {
			if (int(s.ContentLength)+int(s.PaddingLength))%8 == 0 || s.PaddingLength < 3 {
				t.Errorf("STDOUT of %d bytes padded with %d", s.ContentLength, s.PaddingLength)
			}
			odd++
		}
	}
	if odd != 3 {
		t.Errorf("%d odd records, want 3", odd)
	}
	if want := "Content-Type: text/plain; charset=utf-8\r\n\r\npadded records\ndo not align to 8 bytes\n"; o.stdout.String() != want {
		t.Errorf("stdout %q, want %q", o.stdout.String(), want)
	}
}

func TestMisbehaveUnknownType(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("unknown-type"), ""))
	if o.err != nil {
		t.Fatal(o.err)
	}
	odd := o.req.received(42)
	if len(odd) != 1 || string(odd[0].content()) != "type 42?" {
		t.Fatalf("type 42 records: %+v", odd)
	}
	if !errors.Is(odd[0].err, fcgi.ErrProtocol) {
		t.Errorf("type 42 record reported with %v, want ErrProtocol", odd[0].err)
	}
	if strings.Contains(o.stdout.String(), "type 42?") || !strings.Contains(o.stdout.String(), "came first") {
		t.Errorf("stdout %q", o.stdout.String())
	}
}

func TestMisbehaveWrongID(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("wrong-id"), ""))
	if o.err != nil {
		t.Fatal(o.err)
	}
	var stray []seen
	for _, s := range o.req.received(fcgi.TypeStdout) {
		if s.RequestID != o.resp.ID {
			stray = append(stray, s)
		}
	}
	if len(stray) != 1 || stray[0].RequestID != o.resp.ID+1 || !errors.Is(stray[0].err, fcgi.ErrUnknownRequestID) {
		t.Fatalf("stray records %+v", stray)
	}
	if strings.Contains(o.stdout.String(), "stray") || !strings.Contains(o.stdout.String(), "the real response") {
		t.Errorf("stdout %q", o.stdout.String())
	}
}

func TestMisbehaveVersion2(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("version2"), ""))
	if !errors.Is(o.err, fcgi.ErrProtocol) || !errors.Is(o.err, fcgi.ErrVersion) {
		t.Fatalf("error %v, want ErrProtocol and ErrVersion", o.err)
	}
	v2 := o.req.received(fcgi.TypeStdout)
	if len(v2) != 1 || v2[0].Version != 2 || len(v2[0].raw) != fcgi.HeaderLen {
		t.Fatalf("received STDOUT %+v, want the header of one record of version 2, its content unread", v2)
	}
	if o.resp.Ended || o.stdout.Len() != 0 {
		t.Errorf("after the version 2 record: ended %v, stdout %q", o.resp.Ended, o.stdout.String())
	}
	if o.c.Err() == nil {
		t.Error("the connection is still alive")
	}
}

func TestMisbehaveShortContent(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("short-content"), ""))
	if !errors.Is(o.err, fcgi.ErrProtocol) || !errors.Is(o.err, fcgi.ErrShortRecord) {
		t.Fatalf("error %v, want ErrProtocol and ErrShortRecord", o.err)
	}
	recs := o.req.received(fcgi.TypeStdout)
	if len(recs) != 1 || recs[0].ContentLength != 100 || len(recs[0].raw) != fcgi.HeaderLen+10 {
		t.Fatalf("received %+v, want the 18 bytes of a record claiming 100", recs)
	}
}

func TestMisbehaveAfterEnd(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	for _, keep := range []bool{true, false} {
		t.Run(fmt.Sprintf("keep_conn=%v", keep), func(t *testing.T) {
			req := misbehaveReq(path("after-end"), "")
			req.KeepConn = keep
			o := misbehave(t, addr, fcgi.Options{}, req)
			if o.err != nil {
				t.Fatal(o.err)
			}
			select {
			case s := <-o.conn.stray:
				if s.Type != fcgi.TypeStdout || s.RequestID != o.resp.ID || !strings.Contains(string(s.content()), "late output") {
					t.Errorf("stray %+v", s)
				}
			case <-time.After(ioTimeout):
				t.Fatal("no late STDOUT record")
			}
			if strings.Contains(o.stdout.String(), "late") {
				t.Errorf("late output reached the response: %q", o.stdout.String())
			}
			if !keep {
				return
			}
			// The connection is still usable.
			ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
			defer cancel()
			var out bytes.Buffer
			next := misbehaveReq("/status", "code=204")
			next.Stdout = &out
			if _, err := o.c.Do(ctx, next); err != nil || !strings.HasPrefix(out.String(), "Status: 204") {
				t.Errorf("next request on the connection: %v, %q", err, out.String())
			}
		})
	}
}

func TestMisbehaveStderrUnclosed(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	o := misbehave(t, addr, fcgi.Options{}, misbehaveReq(path("stderr-unclosed"), ""))
	if o.err != nil {
		t.Fatal(o.err)
	}
	var kinds []string
	for _, s := range o.req.received(0) {
		k := s.Type.String()
		if s.ContentLength == 0 {
			k += "(empty)"
		}
		kinds = append(kinds, k)
	}
	if got, want := strings.Join(kinds, " "), "STDERR STDOUT STDOUT(empty) END_REQUEST"; got != want {
		t.Errorf("received %s, want %s", got, want)
	}
	if !strings.Contains(o.stderr.String(), "never closed") {
		t.Errorf("stderr %q", o.stderr.String())
	}
}
