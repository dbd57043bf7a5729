// Fault matrix, client side: every way a backend can fail, met by fcgi.Client with short timeouts — the error names the cause, what arrived is traced, and nothing hangs, panics or leaks.

package fcgi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// Timeouts of the fault suite: short, so that the whole matrix runs in
// seconds. faultSlack is what a call may take beyond the bound its timeouts
// set (scheduling on 2 busy cores under -race): a correctness bound that
// catches a hang, not a performance assertion.
const (
	faultDial      = 300 * time.Millisecond
	faultIdle      = 300 * time.Millisecond
	faultAbortWait = 100 * time.Millisecond
	faultCtx       = 5 * time.Second
	faultSlack     = time.Second
	faultFloodCtx  = 60 * time.Second // the stderr flood: IdleTimeout restarts with every record
)

// faultOptions are the client options of every fault case.
func faultOptions() fcgi.Options {
	return fcgi.Options{DialTimeout: faultDial, IdleTimeout: faultIdle, AbortWait: faultAbortWait}
}

// sentinels are the client's sentinel errors; a failure wraps exactly one.
var sentinels = []error{fcgi.ErrConnect, fcgi.ErrTimeout, fcgi.ErrAborted, fcgi.ErrConnClosed, fcgi.ErrProtocol}

// faultGuard checks, once the test and all its cleanups registered later
// are done, that the test left no goroutine and no file descriptor behind.
// Call it first in a test, before any backend or client is started: its
// cleanup then runs last, after they are all closed.
func faultGuard(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	fcgitest.NoFDLeak(t)
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// faultEvent is a copy of what a Trace saw of one record.
type faultEvent struct {
	Dir    fcgi.Direction
	Header fcgi.Header
	Raw    []byte
	Err    error
}

// faultTrace collects trace events; safe for concurrent use.
type faultTrace struct {
	mu  sync.Mutex
	evs []faultEvent
}

func (ft *faultTrace) add(ev fcgi.Event) {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	raw := ev.Record.Raw
	if len(raw) > 256 {
		raw = raw[:256] // the stderr flood: the head is enough
	}
	ft.evs = append(ft.evs, faultEvent{Dir: ev.Dir, Header: ev.Record.Header, Raw: bytes.Clone(raw), Err: ev.Err})
}

func (ft *faultTrace) list() []faultEvent {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return slices.Clone(ft.evs)
}

// received returns the received events.
func (ft *faultTrace) received() []faultEvent {
	var out []faultEvent
	for _, e := range ft.list() {
		if e.Dir == fcgi.Received {
			out = append(out, e)
		}
	}
	return out
}

// find returns the events for which match holds.
func (ft *faultTrace) find(match func(faultEvent) bool) []faultEvent {
	var out []faultEvent
	for _, e := range ft.list() {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// summary lists the events, for failure messages.
func (ft *faultTrace) summary() string {
	var b strings.Builder
	for _, e := range ft.list() {
		fmt.Fprintf(&b, "\n  %s %s id=%d len=%d raw=%d", e.Dir, e.Header.Type, e.Header.RequestID, e.Header.ContentLength, len(e.Raw))
		if e.Err != nil {
			fmt.Fprintf(&b, " err=%v", e.Err)
		}
	}
	return b.String()
}

// sentBegin reports whether BEGIN_REQUEST is among the events.
func (ft *faultTrace) sentBegin() bool {
	return len(ft.find(func(e faultEvent) bool { return e.Dir == fcgi.Sent && e.Header.Type == fcgi.TypeBeginRequest })) > 0
}

// countWriter counts what it is given and keeps the first 4 KiB: the flood
// is not held in memory.
type countWriter struct {
	mu   sync.Mutex
	n    int64
	head []byte
}

func (w *countWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n += int64(len(p))
	if room := 4096 - len(w.head); room > 0 {
		w.head = append(w.head, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (w *countWriter) count() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *countWriter) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.head)
}

// faultBackend starts a backend for one case, closed in t.Cleanup, and
// returns the client's target; h is set for a hostile backend.
type faultBackend func(t *testing.T) (target string, h *fcgitest.Hostile)

func hostileOn(network string, b fcgitest.Behaviour) faultBackend {
	return func(t *testing.T) (string, *fcgitest.Hostile) {
		h := fcgitest.StartHostile(t, network, b)
		return h.Target(), h
	}
}

func hostileTCP(b fcgitest.Behaviour) faultBackend { return hostileOn("tcp", b) }

// demoBackend is the demo backend, whose /misbehave/ routes misbehave on
// purpose.
func demoBackend(t *testing.T) (string, *fcgitest.Hostile) {
	return fcgitest.StartDemo(t), nil
}

// refusedOn is an address where nothing listens.
func refusedOn(network string) faultBackend {
	return func(t *testing.T) (string, *fcgitest.Hostile) { return fcgitest.RefusedAddr(t, network), nil }
}

// missingSocket is a unix socket path that does not exist.
func missingSocket(t *testing.T) (string, *fcgitest.Hostile) {
	return "unix:" + t.TempDir() + "/gone.sock", nil
}

// faultCase is one row of the matrix.
type faultCase struct {
	name    string
	backend faultBackend
	path    string // SCRIPT_NAME for the demo backend
	query   string
	opts    func(o *fcgi.Options)
	req     func(r *fcgi.Request)
	ctx     time.Duration // bound of the context; 0: faultCtx
	// within bounds how long the call may take; 0: IdleTimeout +
	// AbortWait (a silent backend costs both) + faultSlack.
	within time.Duration
	// want is the sentinel the error wraps, nil for success; status, when
	// not REQUEST_COMPLETE, wants an *EndRequestError with it instead.
	want   error
	status fcgi.ProtocolStatus
	also   []error  // further errors.Is targets: the cause
	msg    []string // the error text says these: what and where
	check  func(t *testing.T, r *faultRun)
	// bug, when set, describes a known client bug: if the error is not
	// what the case wants, the case skips with "BUG: " and this text
	// after the checks that do hold (time, leaks) instead of failing.
	bug string
}

// faultRun is what one case produced.
type faultRun struct {
	target    string
	resp      *fcgi.Response
	err       error
	elapsed   time.Duration
	req, conn *faultTrace // Request.Trace and Options.Trace
	stdout    *countWriter
	stderr    *countWriter
	h         *fcgitest.Hostile
}

// faultRequest is a GET of path on the demo backend, a plain GET anywhere else.
func faultRequest(path, query string) *fcgi.Request {
	if path == "" {
		path = "/fault"
	}
	return &fcgi.Request{Params: []fcgi.Pair{
		{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: path},
		{Name: "QUERY_STRING", Value: query},
		{Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"},
	}}
}

// runFault runs one case through a Client and checks what every fault must
// satisfy: the bound on time, the sentinel, the message, the Response
// (nil only when no connection was made), and no leak (faultGuard).
func runFault(t *testing.T, tc faultCase) *faultRun {
	t.Helper()
	faultGuard(t)
	r := &faultRun{req: &faultTrace{}, conn: &faultTrace{}, stdout: &countWriter{}, stderr: &countWriter{}}
	r.target, r.h = tc.backend(t)
	opts := faultOptions()
	if tc.opts != nil {
		tc.opts(&opts)
	}
	within := tc.within
	if within == 0 {
		within = opts.IdleTimeout + opts.AbortWait + faultSlack
	}
	if tc.want != fcgi.ErrTimeout && tc.want != fcgi.ErrConnect && tc.opts == nil {
		// The outcome is not a time limit's: the short IdleTimeout and the
		// tight bound would only measure how fast a busy machine schedules
		// a backend that answers at once (such rows failed under load).
		// They guard against a hang, with the context's bound.
		opts.IdleTimeout, within = orDefault(tc.ctx, faultCtx), max(within, orDefault(tc.ctx, faultCtx))
	}
	opts.Trace = r.conn.add
	c := fcgi.NewClient(r.target, fcgi.ClientOptions{Options: opts})
	t.Cleanup(func() { c.Close() })

	req := faultRequest(tc.path, tc.query)
	req.Stdout, req.Stderr, req.Trace = r.stdout, r.stderr, r.req.add
	if tc.req != nil {
		tc.req(req)
	}
	bound := orDefault(tc.ctx, faultCtx)
	ctx, cancel := context.WithTimeout(t.Context(), bound)
	defer cancel()
	start := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Do panicked: %v", p)
			}
		}()
		r.resp, r.err = c.Do(ctx, req)
	}()
	r.elapsed = time.Since(start)

	if r.elapsed > within {
		t.Errorf("Do took %v, want at most %v (the timeouts plus %v of slack): it hung", r.elapsed, within, faultSlack)
	}
	if r.err != nil {
		t.Logf("Do after %v: %v", r.elapsed.Round(time.Millisecond), r.err)
	}

	if problems := errorProblems(tc, r); len(problems) > 0 {
		if tc.bug != "" {
			t.Skipf("BUG: %s; got after %v: %v", tc.bug, r.elapsed.Round(time.Millisecond), r.err)
		}
		t.Fatalf("%s\ntrace:%s", strings.Join(problems, "\n"), r.req.summary())
	}
	if r.err != nil && !strings.HasPrefix(r.err.Error(), "fcgi: ") {
		t.Errorf("error %q lacks the package prefix", r.err)
	}
	if tc.want == fcgi.ErrConnect {
		if r.resp != nil {
			t.Errorf("Response = %+v after a failed dial, want nil", r.resp)
		}
		if evs := r.req.list(); len(evs) > 0 {
			t.Errorf("trace saw records without a connection:%s", r.req.summary())
		}
	} else {
		if r.resp == nil {
			t.Fatal("Response is nil although a connection was made: what arrived is lost")
		}
		if !r.req.sentBegin() {
			t.Errorf("the request's trace lacks the BEGIN_REQUEST sent:%s", r.req.summary())
		}
		if r.resp.StdoutBytes != r.stdout.count() || r.resp.StderrBytes != r.stderr.count() {
			t.Errorf("Response counts stdout %d, stderr %d; the writers got %d, %d",
				r.resp.StdoutBytes, r.resp.StderrBytes, r.stdout.count(), r.stderr.count())
		}
	}
	if tc.check != nil {
		tc.check(t, r)
	}
	return r
}

// errorProblems says how r's error differs from what tc wants: the kind
// (one sentinel, or an *EndRequestError), the causes and the message.
func errorProblems(tc faultCase, r *faultRun) []string {
	var out []string
	var ere *fcgi.EndRequestError
	switch {
	case tc.status != fcgi.StatusRequestComplete:
		if !errors.As(r.err, &ere) || ere.ProtocolStatus != tc.status {
			return []string{fmt.Sprintf("Do = %v; want an *EndRequestError with %s", r.err, tc.status)}
		}
		for _, s := range sentinels {
			if errors.Is(r.err, s) {
				out = append(out, fmt.Sprintf("a protocol status is the application's answer, not a failure of the client, yet the error wraps %v", s))
			}
		}
	case tc.want == nil:
		if r.err != nil {
			return []string{fmt.Sprintf("Do = %v; want success", r.err)}
		}
	default:
		var kinds []error
		for _, s := range sentinels {
			if errors.Is(r.err, s) {
				kinds = append(kinds, s)
			}
		}
		if len(kinds) != 1 || kinds[0] != tc.want {
			return []string{fmt.Sprintf("Do = %v\nwraps %v; want exactly %v", r.err, kinds, tc.want)}
		}
	}
	for _, e := range tc.also {
		if !errors.Is(r.err, e) {
			out = append(out, fmt.Sprintf("error %q does not wrap %v", r.err, e))
		}
	}
	for _, m := range tc.msg {
		if r.err == nil || !strings.Contains(r.err.Error(), m) {
			out = append(out, fmt.Sprintf("error %q does not say %q", r.err, m))
		}
	}
	return out
}

// orDefault returns d, or def when d is 0.
func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// partialReceived returns the received events of the request that were cut
// short by the end of the stream.
func partialReceived(r *faultRun) []faultEvent {
	return r.req.find(func(e faultEvent) bool { return e.Dir == fcgi.Received && errors.Is(e.Err, fcgi.ErrShortRecord) })
}

// wantStdout checks the bytes delivered on Stdout.
func wantStdout(t *testing.T, r *faultRun, n int64, contains string) {
	t.Helper()
	if got := r.stdout.count(); got != n || !strings.Contains(r.stdout.text(), contains) {
		t.Errorf("stdout got %d bytes %q, want %d bytes with %q", got, r.stdout.text(), n, contains)
	}
}

// hostileBody is the STDOUT content of a hostile response with body.
func hostileBody(body string) int64 { return int64(len(fcgitest.HostileHeaders + body)) }

// TestFaultMatrix runs every fault of the matrix against the client; see
// the README's fault table.
func TestFaultMatrix(t *testing.T) {
	dribbleBody := "ok"
	for _, tc := range []faultCase{
		// Refused: no listener. The dial fails at once, naming the address.
		{name: "refused/tcp", backend: refusedOn("tcp"), want: fcgi.ErrConnect, within: faultDial + faultSlack,
			msg: []string{"dial tcp 127.0.0.1:", "connection refused"}},
		{name: "refused/unix-stale-socket", backend: refusedOn("unix"), want: fcgi.ErrConnect, within: faultDial + faultSlack,
			msg: []string{"dial unix /", "stale.sock", "connection refused"}},
		{name: "refused/unix-no-socket", backend: missingSocket, want: fcgi.ErrConnect, within: faultDial + faultSlack,
			msg: []string{"dial unix /", "gone.sock", "no such file or directory"}},

		// Accepts and never answers: the idle timeout ends the wait,
		// ABORT_REQUEST goes out, and the connection is closed.
		{name: "silent/idle-timeout", backend: hostileTCP(fcgitest.Silent()), want: fcgi.ErrTimeout,
			msg: []string{"request 1 on tcp 127.0.0.1:", "no record for 300ms (IdleTimeout)", "ABORT_REQUEST sent", "connection closed"},
			check: func(t *testing.T, r *faultRun) {
				if r.resp.Ended || len(r.req.received()) != 0 {
					t.Errorf("Ended %v, received %d records from a silent backend", r.resp.Ended, len(r.req.received()))
				}
				if r.elapsed < faultIdle {
					t.Errorf("gave up after %v, before the idle timeout of %v", r.elapsed, faultIdle)
				}
				waitHostile(t, r.h, func() bool { return r.h.SawType(byte(fcgi.TypeAbortRequest)) }, "ABORT_REQUEST to reach the backend")
			}},
		{name: "silent/unix", backend: hostileOn("unix", fcgitest.Silent()), want: fcgi.ErrTimeout,
			msg: []string{"on unix /", "no record for 300ms (IdleTimeout)"}},
		{name: "silent/context-deadline", backend: hostileTCP(fcgitest.Silent()), want: fcgi.ErrTimeout,
			opts: func(o *fcgi.Options) { o.IdleTimeout = -1 }, ctx: faultIdle, within: faultIdle + faultAbortWait + faultSlack,
			also: []error{context.DeadlineExceeded}, msg: []string{"timeout: the time limit passed while waiting; ABORT_REQUEST sent"},
			check: func(t *testing.T, r *faultRun) {
				if strings.Contains(r.err.Error(), "context deadline exceeded") {
					t.Errorf("error %q repeats the context's words", r.err)
				}
			}},
		{name: "silent/never-reads-the-body", backend: hostileTCP(fcgitest.NeverRead()), want: fcgi.ErrTimeout,
			req: func(r *fcgi.Request) { r.Stdin = io.LimitReader(zeros{}, 64<<20) },
			msg: []string{"writing a record of request 1 stalled for 300ms"},
			check: func(t *testing.T, r *faultRun) {
				if n := len(r.req.find(func(e faultEvent) bool { return e.Header.Type == fcgi.TypeStdin })); n == 0 {
					t.Errorf("no STDIN record was traced before the stall:%s", r.req.summary())
				}
			}},

		// Closes the connection inside a header: a protocol error at byte 0,
		// with the 3 bytes that came.
		{name: "close/mid-header", backend: hostileTCP(fcgitest.CloseMidHeader(3)), want: fcgi.ErrProtocol,
			also: []error{fcgi.ErrShortRecord}, within: faultSlack,
			msg: []string{"before END_REQUEST", "record 0 at byte 0", "header cut after 3 of 8 bytes"},
			check: func(t *testing.T, r *faultRun) {
				if p := partialReceived(r); len(p) != 1 || len(p[0].Raw) != 3 {
					t.Errorf("trace has %d partial records, want the 3 bytes of the header:%s", len(p), r.req.summary())
				}
			}},
		// Closes inside a record's content: the whole records before it are
		// delivered, the cut one traced with what arrived.
		{name: "close/mid-record", backend: hostileTCP(fcgitest.CloseMidRecord(10)), want: fcgi.ErrProtocol,
			also: []error{fcgi.ErrShortRecord}, within: faultSlack,
			msg: []string{"record 1 at byte 40", "STDOUT record with content length 64 and padding 0 cut after 18 of 72 bytes"},
			check: func(t *testing.T, r *faultRun) {
				wantStdout(t, r, hostileBody(""), "Content-Type: text/plain")
				if p := partialReceived(r); len(p) != 1 || len(p[0].Raw) != 18 || p[0].Header.Type != fcgi.TypeStdout {
					t.Errorf("trace has partial records %d, want the 18 bytes of the cut STDOUT record:%s", len(p), r.req.summary())
				}
			}},
		// Closes after the whole response but before END_REQUEST: the
		// response is delivered, the request reported failed.
		{name: "close/before-end-request", backend: hostileTCP(fcgitest.CloseBeforeEnd("all but the end\n")), want: fcgi.ErrConnClosed,
			within: faultSlack,
			msg:    []string{"before END_REQUEST", "closed by the application at byte 64, after 2 records"},
			check: func(t *testing.T, r *faultRun) {
				wantStdout(t, r, hostileBody("all but the end\n"), "all but the end")
				if r.resp.Ended || len(r.req.received()) != 2 {
					t.Errorf("Ended %v with %d records received, want false and 2:%s", r.resp.Ended, len(r.req.received()), r.req.summary())
				}
			}},
		{name: "close/before-end-request/demo", backend: demoBackend, path: "/misbehave/close-early", want: fcgi.ErrConnClosed,
			within: faultSlack, msg: []string{"before END_REQUEST", "closed by the application"},
			check: func(t *testing.T, r *faultRun) {
				if r.stdout.count() == 0 || r.resp.Ended {
					t.Errorf("stdout %d bytes, Ended %v; want the headers and no END_REQUEST", r.stdout.count(), r.resp.Ended)
				}
			}},

		// Answers on another request id: nothing reaches the request; the
		// strays are traced, and the request times out.
		{name: "wrong-id/only", backend: hostileTCP(fcgitest.WrongID()), want: fcgi.ErrTimeout,
			msg: []string{"no record for 300ms (IdleTimeout)"},
			check: func(t *testing.T, r *faultRun) {
				stray := r.req.find(func(e faultEvent) bool { return errors.Is(e.Err, fcgi.ErrUnknownRequestID) })
				if len(stray) != 3 || stray[0].Header.RequestID != 2 {
					t.Errorf("trace has %d strays, want STDOUT, STDOUT, END_REQUEST for request 2:%s", len(stray), r.req.summary())
				}
				if r.stdout.count() != 0 || r.resp.Ended {
					t.Errorf("a stray reached the request: stdout %d bytes, Ended %v", r.stdout.count(), r.resp.Ended)
				}
			}},
		{name: "wrong-id/then-real/demo", backend: demoBackend, path: "/misbehave/wrong-id", within: faultSlack,
			check: func(t *testing.T, r *faultRun) {
				stray := r.req.find(func(e faultEvent) bool { return errors.Is(e.Err, fcgi.ErrUnknownRequestID) })
				if len(stray) != 1 || !strings.Contains(string(stray[0].Raw), "stray output for request 2") {
					t.Errorf("want the stray STDOUT record in the trace:%s", r.req.summary())
				}
				if strings.Contains(r.stdout.text(), "stray") || !strings.Contains(r.stdout.text(), "the real response of request 1") {
					t.Errorf("stdout %q: want the real response only", r.stdout.text())
				}
			}},

		// Version 2 in a header: the connection cannot be trusted past it.
		{name: "version/2", backend: hostileTCP(fcgitest.BadVersion(2)), want: fcgi.ErrProtocol, also: []error{fcgi.ErrVersion},
			within: faultSlack, msg: []string{"record 0 at byte 0", "unsupported protocol version 2 (want 1)"},
			check: func(t *testing.T, r *faultRun) {
				// Rejected at its header: the content is not read.
				bad := r.req.find(func(e faultEvent) bool { return e.Dir == fcgi.Received && e.Header.Version == 2 })
				if len(bad) != 1 || !errors.Is(bad[0].Err, fcgi.ErrVersion) || len(bad[0].Raw) != fcgi.HeaderLen {
					t.Errorf("trace lacks the 8 header bytes of the version 2 record:%s", r.req.summary())
				}
				if r.stdout.count() != 0 {
					t.Errorf("stdout got %d bytes of a record with version 2", r.stdout.count())
				}
			}},
		{name: "version/0", backend: hostileTCP(fcgitest.BadVersion(0)), want: fcgi.ErrProtocol, also: []error{fcgi.ErrVersion},
			within: faultSlack, msg: []string{"unsupported protocol version 0 (want 1)"}},
		{name: "version/2/demo", backend: demoBackend, path: "/misbehave/version2", want: fcgi.ErrProtocol, also: []error{fcgi.ErrVersion},
			within: faultSlack, msg: []string{"unsupported protocol version 2"}},

		// Content length lies. Claiming more than is sent, then closing:
		// the stream ends inside the record.
		{name: "lying-length/claims-more-then-closes/demo", backend: demoBackend, path: "/misbehave/short-content",
			want: fcgi.ErrProtocol, also: []error{fcgi.ErrShortRecord}, within: faultSlack,
			msg: []string{"STDOUT record with content length 100 and padding 4 cut after 18 of 112 bytes"},
			check: func(t *testing.T, r *faultRun) {
				if p := partialReceived(r); len(p) != 1 || len(p[0].Raw) != 18 {
					t.Errorf("want the 18 bytes of the cut record in the trace:%s", r.req.summary())
				}
			}},
		// Claiming more than is sent and keeping the connection open: only
		// the idle timeout can tell; the bytes of the unfinished record must
		// still be kept.
		{name: "lying-length/claims-more-stays-open", backend: hostileTCP(fcgitest.ShorterThanClaimed(0)), want: fcgi.ErrTimeout,
			msg: []string{"no record for 300ms (IdleTimeout)"},
			check: func(t *testing.T, r *faultRun) {
				// 8 + 34 bytes of the STDOUT record, then END_REQUEST's 16,
				// swallowed as content: in the request's trace when Do
				// returns, and on the connection's.
				const arrived = 58
				got := r.req.received()
				if len(got) != 1 || len(got[0].Raw) != arrived || got[0].Header.Type != fcgi.TypeStdout ||
					len(r.conn.find(func(e faultEvent) bool { return e.Dir == fcgi.Received && len(e.Raw) == arrived })) != 1 {
					t.Fatalf("want the %d bytes of the unfinished STDOUT record once in each trace; request:%s\nconn:%s",
						arrived, r.req.summary(), r.conn.summary())
				}
				wantUnfinished(t, got[0], "record 0 at byte 0", "cut after 58 of 74 bytes", "closed by the client")
			}},
		// Claiming less than is sent: the client frames the rest of the
		// content as the next header, whose version byte is 'e' (101).
		{name: "lying-length/claims-less", backend: hostileTCP(fcgitest.LongerThanClaimed(4)), want: fcgi.ErrProtocol,
			also: []error{fcgi.ErrVersion}, msg: []string{"record 1 at byte 12", "unsupported protocol version 101"},
			within: faultSlack,
			check: func(t *testing.T, r *faultRun) {
				wantStdout(t, r, 4, "Cont")
				// "ent-Type" is framed as a header of version 101 claiming
				// 11604 content bytes: rejected at once, its 8 bytes kept.
				bad := r.req.find(func(e faultEvent) bool { return e.Dir == fcgi.Received && e.Header.Version == 'e' })
				if len(bad) != 1 || string(bad[0].Raw) != "ent-Type" || !errors.Is(bad[0].Err, fcgi.ErrVersion) {
					t.Errorf("want the 8 bytes of the version 101 header in the trace:%s", r.req.summary())
				}
			}},

		// A record of a type the spec does not define: flagged in the
		// trace, kept out of stdout; the request completes.
		{name: "unknown-type/42", backend: hostileTCP(fcgitest.UnknownType(42)), within: faultSlack,
			check: func(t *testing.T, r *faultRun) {
				u := r.req.find(func(e faultEvent) bool { return e.Header.Type == 42 })
				if len(u) != 1 || !errors.Is(u[0].Err, fcgi.ErrProtocol) || !strings.Contains(u[0].Err.Error(), "unexpected UNKNOWN_42 record") {
					t.Errorf("want the type 42 record flagged in the trace:%s", r.req.summary())
				}
				wantStdout(t, r, hostileBody("after a record of type 42\n"), "after a record of type 42")
			}},
		{name: "unknown-type/42/demo", backend: demoBackend, path: "/misbehave/unknown-type", within: faultSlack,
			check: func(t *testing.T, r *faultRun) {
				if u := r.req.find(func(e faultEvent) bool { return e.Header.Type == 42 && e.Err != nil }); len(u) != 1 {
					t.Errorf("want the type 42 record flagged in the trace:%s", r.req.summary())
				}
				if strings.Contains(r.stdout.text(), "type 42?") {
					t.Errorf("the unknown record's content reached stdout: %q", r.stdout.text())
				}
			}},

		// A stderr flood: all of it counted and delivered, nothing held
		// back, no timeout while records keep coming.
		{name: "stderr-flood/demo", backend: demoBackend, path: "/misbehave/huge-stderr",
			query: "bytes=" + strconv.Itoa(fcgitest.FloodBytes), ctx: faultFloodCtx, within: faultFloodCtx,
			check: func(t *testing.T, r *faultRun) {
				if r.resp.StderrBytes != fcgitest.FloodBytes || !r.resp.Ended {
					t.Errorf("stderr %d bytes, Ended %v; want %d and true", r.resp.StderrBytes, r.resp.Ended, fcgitest.FloodBytes)
				}
				if want := fmt.Sprintf("wrote %d bytes to STDERR", fcgitest.FloodBytes); !strings.Contains(r.stdout.text(), want) {
					t.Errorf("stdout %q, want %q", r.stdout.text(), want)
				}
				t.Logf("%d MiB of stderr in %v", fcgitest.FloodBytes>>20, r.elapsed.Round(time.Millisecond))
			}},
		{name: "stderr-flood/hostile", backend: hostileTCP(fcgitest.HugeStderr(4 << 20)), within: faultCtx,
			check: func(t *testing.T, r *faultRun) {
				if r.resp.StderrBytes != 4<<20 || !strings.HasPrefix(r.stderr.text(), "hostile: stderr flood") {
					t.Errorf("stderr %d bytes %.40q, want 4 MiB of the flood", r.resp.StderrBytes, r.stderr.text())
				}
			}},

		// Dribbling one byte every 100 ms. The idle timeout counts silence
		// between records, so a 10-byte record dribbled over a second times
		// out at 300 ms, keeping the records before it...
		{name: "dribble/slower-than-idle-timeout", backend: hostileTCP(fcgitest.Dribble(100*time.Millisecond, dribbleBody)),
			want: fcgi.ErrTimeout, msg: []string{"no record for 300ms (IdleTimeout)"},
			check: func(t *testing.T, r *faultRun) {
				wantStdout(t, r, hostileBody(""), "Content-Type")
				// The dribbled bytes that came are in the request's trace
				// when Do returns, and on the connection's.
				dribbled := func(e faultEvent) bool {
					return e.Dir == fcgi.Received && e.Err != nil && len(e.Raw) > 0 && len(e.Raw) < 10
				}
				got := r.req.find(dribbled)
				if len(got) != 1 || len(r.conn.find(dribbled)) != 1 {
					t.Fatalf("want the dribbled bytes of the unfinished record once in each trace; request:%s\nconn:%s",
						r.req.summary(), r.conn.summary())
				}
				wantUnfinished(t, got[0], "record 1 at byte 40", "header cut after", "closed by the client")
			}},
		// ... and completes when the idle timeout allows a record's worth.
		{name: "dribble/within-idle-timeout", backend: hostileTCP(fcgitest.Dribble(100*time.Millisecond, dribbleBody)),
			opts: func(o *fcgi.Options) { o.IdleTimeout = 3 * time.Second }, within: 10*100*time.Millisecond + faultSlack,
			check: func(t *testing.T, r *faultRun) {
				wantStdout(t, r, hostileBody(dribbleBody), "\r\n\r\nok")
				if r.elapsed < 10*100*time.Millisecond {
					t.Errorf("done in %v, before the 10 dribbled bytes could arrive", r.elapsed)
				}
			}},
		{name: "dribble/tiny-records/demo", backend: demoBackend, path: "/misbehave/dribble", query: "n=40", within: faultSlack,
			check: func(t *testing.T, r *faultRun) {
				if n := len(r.req.find(func(e faultEvent) bool { return e.Header.Type == fcgi.TypeStdout })); n < 10 {
					t.Errorf("%d STDOUT records, want the many tiny ones", n)
				}
				if !strings.HasSuffix(r.stdout.text(), "\r\n\r\nabcdefghijklmnopqrstuvwxyzabcdefghijklmn") {
					t.Errorf("stdout %q: the tiny records did not join up", r.stdout.text())
				}
			}},

		// END_REQUEST with a protocol status other than REQUEST_COMPLETE.
		{name: "end-request/cant-mpx-conn", backend: hostileTCP(fcgitest.EndWith(byte(fcgi.StatusCantMpxConn))), within: faultSlack,
			status: fcgi.StatusCantMpxConn, msg: []string{"request 1 on tcp 127.0.0.1:", "END_REQUEST with protocol status CANT_MPX_CONN (app status 0)"},
			check: wantEnded(fcgi.StatusCantMpxConn)},
		{name: "end-request/overloaded", backend: hostileTCP(fcgitest.EndWith(byte(fcgi.StatusOverloaded))), within: faultSlack,
			status: fcgi.StatusOverloaded, msg: []string{"END_REQUEST with protocol status OVERLOADED"},
			check: wantEnded(fcgi.StatusOverloaded)},
		{name: "end-request/unknown-role", backend: hostileTCP(fcgitest.EndWith(byte(fcgi.StatusUnknownRole))), within: faultSlack,
			status: fcgi.StatusUnknownRole, msg: []string{"END_REQUEST with protocol status UNKNOWN_ROLE"},
			check: wantEnded(fcgi.StatusUnknownRole)},
		{name: "end-request/overloaded/demo", backend: demoBackend, path: "/misbehave/status/overloaded", within: faultSlack,
			status: fcgi.StatusOverloaded, msg: []string{"OVERLOADED"}, check: wantEnded(fcgi.StatusOverloaded)},
		{name: "end-request/cant-mpx-conn/demo", backend: demoBackend, path: "/misbehave/status/cant-mpx-conn", within: faultSlack,
			status: fcgi.StatusCantMpxConn, msg: []string{"CANT_MPX_CONN"}, check: wantEnded(fcgi.StatusCantMpxConn)},
		{name: "end-request/unknown-role/demo", backend: demoBackend, path: "/misbehave/status/unknown-role", within: faultSlack,
			status: fcgi.StatusUnknownRole, msg: []string{"UNKNOWN_ROLE"}, check: wantEnded(fcgi.StatusUnknownRole)},
	} {
		t.Run(tc.name, func(t *testing.T) { runFault(t, tc) })
	}
}

// wantEnded checks a Response that ended with status.
func wantEnded(status fcgi.ProtocolStatus) func(t *testing.T, r *faultRun) {
	return func(t *testing.T, r *faultRun) {
		if !r.resp.Ended || r.resp.ProtocolStatus != status || r.resp.AppStatus != 0 {
			t.Errorf("Response ended %v with %s, app status %d; want %s", r.resp.Ended, r.resp.ProtocolStatus, r.resp.AppStatus, status)
		}
	}
}

// wantUnfinished checks the event of a record whose reading the death of
// the connection cut: a *RecordError with the bytes that arrived, wrapping
// ErrShortRecord and why the connection ended, saying what arrived.
func wantUnfinished(t *testing.T, e faultEvent, says ...string) {
	t.Helper()
	var re *fcgi.RecordError
	if !errors.As(e.Err, &re) || !bytes.Equal(re.Partial, e.Raw) || !errors.Is(e.Err, fcgi.ErrShortRecord) ||
		!errors.Is(e.Err, fcgi.ErrConnClosed) {
		t.Errorf("event error %v: want a *RecordError with the bytes, wrapping ErrShortRecord and ErrConnClosed", e.Err)
	}
	for _, s := range says {
		if e.Err == nil || !strings.Contains(e.Err.Error(), s) {
			t.Errorf("event error %v does not say %q", e.Err, s)
		}
	}
}

// waitHostile waits until cond holds for the hostile backend.
func waitHostile(t *testing.T, h *fcgitest.Hostile, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s; the backend saw %+v", what, h.Seen())
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// keepGET is a GET with KEEP_CONN; post is a POST with a body, which the
// client must never send twice.
func keepGET() *fcgi.Request {
	r := faultRequest("/hello.php", "")
	r.KeepConn = true
	return r
}

func keepPOST(body string) *fcgi.Request {
	r := faultRequest("/post.php", "")
	r.Params[0].Value = "POST"
	r.Params = append(r.Params, fcgi.Pair{Name: "CONTENT_LENGTH", Value: strconv.Itoa(len(body))})
	r.KeepConn = true
	r.Stdin = strings.NewReader(body)
	return r
}

// doFault runs one request with the fault bounds and returns what came.
func doFault(t *testing.T, c *fcgi.Client, req *fcgi.Request) (*fcgi.Response, string, error) {
	t.Helper()
	return doFaultWithin(t, c, req, faultIdle+faultAbortWait+faultSlack)
}

// doFaultWithin is doFault with a bound of its own.
func doFaultWithin(t *testing.T, c *fcgi.Client, req *fcgi.Request, bound time.Duration) (*fcgi.Response, string, error) {
	t.Helper()
	var out bytes.Buffer
	req.Stdout = &out
	ctx, cancel := context.WithTimeout(t.Context(), faultCtx)
	defer cancel()
	start := time.Now()
	resp, err := c.Do(ctx, req)
	if el := time.Since(start); el > bound {
		t.Errorf("Do took %v, want at most %v", el, bound)
	}
	return resp, out.String(), err
}

// TestFaultIdleConnClosed: the backend closes an idle KEEP_CONN connection
// before the client's next request — php-fpm recycling a worker at
// pm.max_requests, or restarting. A GET is retried on a fresh connection;
// a POST with a body is never sent twice, and fails naming the closed
// connection only when the close raced with its writing.
func TestFaultIdleConnClosed(t *testing.T) {
	t.Run("closed-while-idle", func(t *testing.T) {
		faultGuard(t)
		h := fcgitest.StartHostile(t, "tcp", fcgitest.CloseWhenIdle(0, "first\n"))
		c := fcgi.NewClient(h.Target(), fcgi.ClientOptions{Options: faultOptions()})
		t.Cleanup(func() { c.Close() })
		if _, _, err := doFault(t, c, keepGET()); err != nil {
			t.Fatal(err)
		}
		for i, req := range []*fcgi.Request{keepGET(), keepGET(), keepPOST("a body")} {
			// The backend closes its end of the idle connection; the
			// client's reading goroutine sees EOF and the pool drops it.
			waitHostile(t, h, func() bool { return h.Open() == 0 }, "the backend to close the idle connection")
			time.Sleep(20 * time.Millisecond)
			resp, out, err := doFault(t, c, req)
			switch {
			case err == nil:
				if resp.Conn.Reused || !strings.HasSuffix(out, "first\n") {
					t.Errorf("request %d: Reused %v, stdout %q; want a fresh connection's answer", i, resp.Conn.Reused, out)
				}
			case req.Stdin != nil && errors.Is(err, fcgi.ErrConnClosed) && resp.Conn.Reused && !resp.Ended:
				// The POST lost the race with the close: not sent again.
				t.Logf("request %d met the closing connection: %v", i, err)
			default:
				t.Errorf("request %d: %v; want success on a fresh connection", i, err)
			}
		}
		if got := h.Accepted(); got != 4 {
			t.Errorf("backend accepted %d connections, want 4 (each idle one was dropped)", got)
		}
	})

	t.Run("closed-on-next-request", func(t *testing.T) {
		faultGuard(t)
		h := fcgitest.StartHostile(t, "tcp", fcgitest.CloseOnNextRequest("fresh\n"))
		c := fcgi.NewClient(h.Target(), fcgi.ClientOptions{Options: faultOptions()})
		t.Cleanup(func() { c.Close() })
		if _, _, err := doFault(t, c, keepGET()); err != nil {
			t.Fatal(err)
		}
		// The GET was written on the idle connection, which then closed
		// without an answer: retried once, on a fresh connection.
		resp, out, err := doFault(t, c, keepGET())
		if err != nil || resp.Conn.Reused || !strings.HasSuffix(out, "fresh\n") {
			t.Fatalf("GET = %+v, %q, %v; want the answer of a fresh connection", resp, out, err)
		}
		begins := 0
		for _, s := range h.Seen() {
			if s.Type == byte(fcgi.TypeBeginRequest) && s.Conn == 0 {
				begins++
			}
		}
		if begins != 2 || h.Accepted() != 2 {
			t.Errorf("first connection saw %d BEGIN_REQUEST, backend accepted %d; want 2 and 2", begins, h.Accepted())
		}
		// The POST is written on the (now idle, fresh) connection, which
		// closes too: not retried, and the error says why.
		resp, _, err = doFault(t, c, keepPOST("once only"))
		if !errors.Is(err, fcgi.ErrConnClosed) || !strings.Contains(err.Error(), "closed by the application") {
			t.Fatalf("POST = %v; want ErrConnClosed saying the application closed the connection", err)
		}
		if resp == nil || !resp.Conn.Reused || resp.Ended || resp.StdoutBytes != 0 {
			t.Errorf("POST Response %+v; want a reused connection that answered nothing", resp)
		}
		if h.Accepted() != 2 {
			t.Errorf("the POST was sent again: the backend accepted %d connections", h.Accepted())
		}
	})

	// php-fpm forks a new worker for each one recycled; on a loaded machine
	// that can take longer than the suite's 300 ms idle timeout.
	phpOpts := faultOptions()
	phpOpts.IdleTimeout = 5 * time.Second
	doFault := func(t *testing.T, c *fcgi.Client, req *fcgi.Request) (*fcgi.Response, string, error) {
		t.Helper()
		return doFaultWithin(t, c, req, phpOpts.IdleTimeout+faultAbortWait+faultSlack)
	}

	t.Run("php-fpm/max-requests=1", func(t *testing.T) {
		faultGuard(t)
		fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix, MaxRequests: 1})
		c := fcgi.NewClient("unix:"+fpm.Addr, fcgi.ClientOptions{Options: phpOpts})
		t.Cleanup(func() { c.Close() })
		for i := range 6 {
			req := phpFault(fpm, keepGET(), "hello.php")
			resp, out, err := doFault(t, c, req)
			if err != nil || !strings.HasSuffix(out, "\r\n\r\nhello") {
				t.Fatalf("GET %d after a recycled worker: %+v, %q, %v", i, resp, out, err)
			}
		}
		for i := range 6 {
			body := fmt.Sprint("body ", i)
			resp, out, err := doFault(t, c, phpFault(fpm, keepPOST(body), "post.php"))
			switch {
			case err == nil:
				if !strings.HasSuffix(out, fcgitest.PostDigest([]byte(body))) {
					t.Errorf("POST %d: stdout %q", i, out)
				}
			case errors.Is(err, fcgi.ErrConnClosed) && resp.Conn.Reused && !resp.Ended && resp.StdoutBytes == 0:
				if !strings.Contains(err.Error(), "closed by the application") {
					t.Errorf("POST %d: %v; want it to say the application closed the connection", i, err)
				}
			default:
				t.Errorf("POST %d: %+v, %v", i, resp, err)
			}
		}
	})

	t.Run("php-fpm/restart", func(t *testing.T) {
		faultGuard(t)
		fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix})
		c := fcgi.NewClient("unix:"+fpm.Addr, fcgi.ClientOptions{Options: phpOpts})
		t.Cleanup(func() { c.Close() })
		if _, out, err := doFault(t, c, phpFault(fpm, keepGET(), "hello.php")); err != nil || !strings.HasSuffix(out, "hello") {
			t.Fatalf("before the restart: %q, %v", out, err)
		}
		fpm.Stop()
		// Stopped: the idle connection is gone and nothing listens.
		resp, _, err := doFault(t, c, phpFault(fpm, keepGET(), "hello.php"))
		if !errors.Is(err, fcgi.ErrConnect) || !strings.Contains(err.Error(), fpm.Addr) || resp != nil {
			t.Fatalf("while stopped: %+v, %v; want ErrConnect naming %s", resp, err, fpm.Addr)
		}
		t.Logf("while stopped: %v", err)
		fpm.Start(t)
		for i := range 3 {
			if _, out, err := doFault(t, c, phpFault(fpm, keepGET(), "hello.php")); err != nil || !strings.HasSuffix(out, "hello") {
				t.Fatalf("request %d after the restart: %q, %v", i, out, err)
			}
		}
		// A restart under an idle connection: the next GET goes through.
		fpm.Stop()
		fpm.Start(t)
		if _, out, err := doFault(t, c, phpFault(fpm, keepGET(), "hello.php")); err != nil || !strings.HasSuffix(out, "hello") {
			t.Fatalf("after a restart under an idle connection: %q, %v", out, err)
		}
	})
}

// phpFault points req at a script of fpm.
func phpFault(fpm *fcgitest.PHPFPMServer, req *fcgi.Request, script string) *fcgi.Request {
	req.Params = append(req.Params,
		fcgi.Pair{Name: "SCRIPT_FILENAME", Value: fpm.Script(script)},
		fcgi.Pair{Name: "CONTENT_TYPE", Value: "text/plain"})
	req.Params[1].Value = "/" + script
	return req
}

// TestTimeoutErrorSaysWhich: every timeout of a request carries a
// *fcgi.TimeoutError naming the limit that passed and where the request
// was, while its text stays that of a plain ErrTimeout.
func TestTimeoutErrorSaysWhich(t *testing.T) {
	faultGuard(t)
	silent := fcgitest.StartHostile(t, "tcp", fcgitest.Silent()).Target()
	deaf := fcgitest.StartHostile(t, "tcp", fcgitest.NeverRead()).Target()
	hanging := hangingTarget(t)
	idle := faultOptions()
	patient := faultOptions()
	patient.IdleTimeout = faultCtx
	quickDial := faultOptions()
	quickDial.DialTimeout = 50 * time.Millisecond
	slowDial := faultOptions()
	slowDial.DialTimeout = faultCtx
	for _, tc := range []struct {
		name   string
		target string
		opts   fcgi.Options
		ctx    time.Duration // the context's deadline; 0 none, < 0 passed before Conn.Do
		body   bool          // send a body the backend never reads
		want   fcgi.TimeoutError
	}{
		{"dial timeout", hanging, quickDial, 0, false, fcgi.TimeoutError{Limit: fcgi.LimitDial, Phase: fcgi.PhaseDialing, After: 50 * time.Millisecond}},
		{"deadline, dialing", hanging, slowDial, 50 * time.Millisecond, false,
			fcgi.TimeoutError{Limit: fcgi.LimitDeadline, Phase: fcgi.PhaseDialing, After: 50 * time.Millisecond}},
		{"idle, waiting", silent, idle, 0, false, fcgi.TimeoutError{Limit: fcgi.LimitIdle, Phase: fcgi.PhaseWaiting, After: faultIdle}},
		{"idle, write stalled", deaf, idle, 0, true, fcgi.TimeoutError{Limit: fcgi.LimitIdle, Phase: fcgi.PhaseSending, After: faultIdle}},
		{"deadline, not sent", silent, patient, -1, false, fcgi.TimeoutError{Limit: fcgi.LimitDeadline, Phase: fcgi.PhaseNotSent}},
		{"deadline, sending", deaf, patient, faultIdle, true, fcgi.TimeoutError{Limit: fcgi.LimitDeadline, Phase: fcgi.PhaseSending, After: faultIdle}},
		{"deadline, waiting", silent, patient, faultIdle, false, fcgi.TimeoutError{Limit: fcgi.LimitDeadline, Phase: fcgi.PhaseWaiting, After: faultIdle}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			req := &fcgi.Request{Params: []fcgi.Pair{{Name: "SCRIPT_FILENAME", Value: "/srv/index.php"}}}
			if tc.body {
				req.Stdin = io.LimitReader(zeros{}, 64<<20)
			}
			var err error
			if tc.ctx != 0 && tc.want.Phase != fcgi.PhaseDialing {
				// Dialed first, so that the deadline's distance is all
				// Conn.Do's: on a busy machine a dial inside the call
				// took part of it and After came out under the bound.
				cn, derr := fcgi.Dial(ctx, tc.target, tc.opts)
				if derr != nil {
					t.Fatal(derr)
				}
				defer cn.Close()
				deadline := time.Now().Add(tc.ctx)
				if tc.ctx < 0 {
					deadline = time.Now().Add(-time.Second)
				}
				c, cancel := context.WithDeadline(ctx, deadline)
				defer cancel()
				_, err = cn.Do(c, req)
			} else {
				if tc.ctx > 0 {
					c, cancel := context.WithTimeout(ctx, tc.ctx)
					defer cancel()
					ctx = c
				}
				c := fcgi.NewClient(tc.target, fcgi.ClientOptions{Options: tc.opts})
				defer c.Close()
				_, err = c.Do(ctx, req)
			}
			if tc.target == hanging && !errors.Is(err, fcgi.ErrTimeout) {
				t.Skipf("a dial to a full accept queue does not hang here: %v", err)
			}
			var te *fcgi.TimeoutError
			if !errors.As(err, &te) {
				t.Fatalf("error %v (%T), want a *fcgi.TimeoutError", err, err)
			}
			if !errors.Is(err, fcgi.ErrTimeout) || strings.Contains(err.Error(), "TimeoutError") {
				t.Errorf("error %q: want it to wrap ErrTimeout with ErrTimeout's text", err)
			}
			if te.Limit != tc.want.Limit || te.Phase != tc.want.Phase {
				t.Errorf("limit %v, phase %v, want %v, %v (error %q)", te.Limit, te.Phase, tc.want.Limit, tc.want.Phase, err)
			}
			switch te.Limit {
			case fcgi.LimitDeadline: // how long the call ran: at least the deadline's distance,
				// less the tenth given to the wait after ABORT_REQUEST (Conn.Do)
				if lo := tc.want.After * 9 / 10; te.After < lo || te.After > tc.want.After+faultSlack {
					t.Errorf("After = %v, want %v to %v", te.After, lo, tc.want.After+faultSlack)
				}
			default:
				if te.After != tc.want.After {
					t.Errorf("After = %v, want the limit %v", te.After, tc.want.After)
				}
			}
		})
	}
}

// hangingTarget returns the address of a listener whose accept queue is
// full (backlog 0, never accepted), so that Linux drops further SYNs and a
// dial to it hangs until its time limit.
func hangingTarget(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 4 { // fill the queue
		nc, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			break
		}
		t.Cleanup(func() { nc.Close() })
	}
	return addr
}
