package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// TestExplain: the sentence for each kind of failure, from errors built as
// package fcgi builds them.
func TestExplain(t *testing.T) {
	refused := fmt.Errorf("session: cannot connect to x: %w", fmt.Errorf("fcgi: dial tcp x: %w: %w", fcgi.ErrConnect,
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}))
	tests := []struct {
		err         error
		title, text string
	}{
		{refused, "Cannot connect to x", "Cannot connect to x: connection refused"},
		{fmt.Errorf("session: aborted: %w", fcgi.ErrAborted), "Aborted: ABORT_REQUEST sent", "Aborted: ABORT_REQUEST sent to x"},
		{fmt.Errorf("fcgi: dial tcp x: %w: %w", fcgi.ErrConnect, context.Canceled), "Aborted: ABORT_REQUEST sent", "Aborted: ABORT_REQUEST sent to x"},
		{fmt.Errorf("session: %w", &fcgi.EndRequestError{AppStatus: 3, ProtocolStatus: fcgi.StatusOverloaded}),
			"Refused: END_REQUEST OVERLOADED", "The application refused the request: END_REQUEST OVERLOADED, app status 3"},
		{fmt.Errorf("session: timed out: %w: %w", fcgi.ErrTimeout, context.DeadlineExceeded), "Timed out",
			"Timed out: the request's time limit passed before the request was sent to x"},
		{fmt.Errorf("session: timed out to x: %w", fmt.Errorf("fcgi: GET_VALUES on tcp x: %w: no GET_VALUES_RESULT within 300ms (IdleTimeout)", fcgi.ErrTimeout)),
			"Timed out", "Timed out waiting for x: no GET_VALUES_RESULT within 300ms (IdleTimeout)"},
		{fmt.Errorf("session: timed out: %w", fcgi.ErrTimeout), "Timed out", "Timed out waiting for x: timeout"},
		{fmt.Errorf("session: timed out to x: %w", fmt.Errorf("fcgi: dial tcp x: %w: %w",
			&fcgi.TimeoutError{Limit: fcgi.LimitDial, Phase: fcgi.PhaseDialing, After: 300 * time.Millisecond},
			&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded})),
			"Timed out", "Timed out connecting to x: no answer within 300ms (dial timeout)"},
		{fmt.Errorf("fcgi: unexpected thing: %w", fcgi.ErrProtocol), "Protocol error", "Protocol error: unexpected thing"},
		{errors.New("session: router: no document root"), "Request failed", "Request failed: no document root"},
	}
	for _, tt := range tests {
		f := Explain(tt.err, "x")
		if f.Title != tt.title || f.Text != tt.text || f.Record != -1 {
			t.Errorf("Explain(%v) = %+v\nwant title %q, text %q, no record", tt.err, f, tt.title, tt.text)
		}
	}
}

// TestExchangeFailure: an Exchange that failed says why once, in a user's
// words, numbering the record at fault as its list does: the demo
// backend's misbehaviours and a dial that is refused, sent through the
// Engine.
func TestExchangeFailure(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	refused := fcgitest.RefusedAddr(t, "tcp")
	checkLeaks(t)
	pool := NewPool(PoolOptions{})
	defer pool.Close()
	e := NewEngine(pool, EngineOptions{})
	send := func(target, url string) *Exchange {
		t.Helper()
		req, err := BuildHTTP(HTTPInput{URL: url, DocumentRoot: "/srv"})
		if err != nil {
			t.Fatal(err)
		}
		x := NewExchange(Input{})
		if err := e.Send(context.Background(), target, req, x); err == nil {
			t.Fatalf("%s: the request succeeded", url)
		}
		return x
	}
	for _, tc := range []struct {
		target, url string
		kind, text  string // text: %d is the record at fault, %s the target
		received    bool   // the record at fault is the first one received
	}{
		{refused, "/x.php", FailConnect, "Cannot connect to %s: connection refused", false},
		{addr, "/misbehave/version2", FailProtocol,
			"Protocol error in record #%d: unsupported protocol version 2 (want 1): the 27 content and 5 padding bytes the header claims were not read", true},
		{addr, "/misbehave/short-content", FailProtocol,
			"Protocol error in record #%d: stream ended inside a record: STDOUT record with content length 100 and padding 4 cut after 18 of 112 bytes", true},
		{addr, "/misbehave/status/overloaded", FailRefused,
			"The application refused the request: END_REQUEST OVERLOADED, app status 0 (record #%d)", true},
		{addr, "/misbehave/close-early", FailClosed, "The connection closed before END_REQUEST, after record #%d (STDOUT)", true},
	} {
		x := send(tc.target, tc.url)
		f := x.Failure()
		if f == nil {
			t.Fatalf("%s: no Failure; error %q", tc.url, x.ErrorText())
		}
		want := tc.text
		first := -1
		for _, ri := range x.Records() {
			if ri.Dir == fcgi.Received {
				first = ri.Index
				break
			}
		}
		if tc.received {
			if first < 0 {
				t.Fatalf("%s: no record received", tc.url)
			}
			want = fmt.Sprintf(want, first)
		} else {
			want = fmt.Sprintf(want, tc.target)
		}
		if f.Kind != tc.kind || f.Text != want {
			t.Errorf("%s: failure %+v\nwant kind %q, text %q", tc.url, f, tc.kind, want)
		}
		if tc.kind != FailClosed && tc.received && f.Record != first {
			t.Errorf("%s: record at fault %d, want %d, the first received", tc.url, f.Record, first)
		}
		// Said once: no layer's prefix, no word of the kind twice.
		for _, s := range []string{"fcgi:", "session:", "request 1 on", "record 0 "} {
			if strings.Contains(f.Text, s) {
				t.Errorf("%s: %q says %q", tc.url, f.Text, s)
			}
		}
		if n := strings.Count(strings.ToLower(f.Text), strings.ToLower(tc.kind)); n > 1 {
			t.Errorf("%s: %q says %q %d times", tc.url, f.Text, tc.kind, n)
		}
		// The Exchange file keeps it.
		b, err := x.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var y Exchange
		if err := y.UnmarshalJSON(b); err != nil {
			t.Fatal(err)
		}
		if g := y.Failure(); g == nil || *g != *f {
			t.Errorf("%s: failure after a JSON round trip %+v, want %+v", tc.url, g, f)
		}
	}
	// A refusal with no output leaves nginx nothing to pass on: its 502,
	// said as nginx's, not as a partial response of the application.
	if x := send(addr, "/misbehave/status/cant-mpx-conn"); x.Response() == nil || x.Response().Status != 502 ||
		StatusText(x) != "502 Bad Gateway (as nginx answers)" {
		t.Errorf("a request refused with CANT_MPX_CONN: response %+v, status %q", x.Response(), StatusText(x))
	}
}

// TestFailureFromOldFile: an Exchange file written before exchanges kept
// their Failure gets one from its error text.
func TestFailureFromOldFile(t *testing.T) {
	f := failureFromText("session: cannot connect to 127.0.0.1:1: fcgi: dial tcp 127.0.0.1:1: cannot connect: dial tcp 127.0.0.1:1: connect: connection refused", "127.0.0.1:1")
	if f.Kind != FailConnect || f.Text != "Cannot connect to 127.0.0.1:1: connection refused" {
		t.Errorf("failure from an old file: %+v", f)
	}
}

// TestFailureTimeouts: a failure names which timeout fired, read from
// the error each kind really produces through the Engine: the idle timeout
// while waiting for a record or while writing one, and the request's time
// limit while connecting, sending, waiting, or waiting for a free
// connection. (The dial timeout itself needs a listener that never accepts:
// fcgi's TestTimeoutErrorSaysWhich; its text is in TestExplain.)
func TestFailureTimeouts(t *testing.T) {
	checkLeaks(t)
	silent := fcgitest.StartHostile(t, "tcp", fcgitest.Silent()).Target()
	deaf := fcgitest.StartHostile(t, "tcp", fcgitest.NeverRead()).Target()
	busy := fcgitest.StartHostile(t, "tcp", fcgitest.Silent())
	idle := fcgi.ClientOptions{Options: fcgi.Options{DialTimeout: 300 * time.Millisecond, IdleTimeout: 300 * time.Millisecond, AbortWait: 100 * time.Millisecond}}
	patient := fcgi.ClientOptions{Options: fcgi.Options{DialTimeout: 300 * time.Millisecond, IdleTimeout: 60 * time.Second, AbortWait: 100 * time.Millisecond}}
	oneConn := patient
	oneConn.MaxConns = 1
	const limit = 300 * time.Millisecond
	request := func(body bool) *Request {
		req := &Request{Params: Params{{Name: "SCRIPT_FILENAME", Value: "/srv/index.php"}}}
		if body { // more than the socket buffers hold
			req.Body = bytes.NewReader(make([]byte, 32<<20))
		}
		return req
	}
	for _, tc := range []struct {
		name   string
		target string
		opts   fcgi.ClientOptions
		limit  time.Duration // the Engine's time limit
		body   bool          // send a body the backend never reads
		want   string        // %s: the target
	}{
		{"time limit, connecting", silent, idle, time.Nanosecond, false, "Timed out: the request's time limit passed while connecting to %s"},
		{"idle", silent, idle, 0, false, "Timed out: no record from %s for 300ms (idle timeout)"},
		{"idle, writing", deaf, idle, 0, true, "Timed out sending to %s: the application read nothing for 300ms (idle timeout)"},
		{"time limit, waiting", silent, patient, limit, false,
			"Timed out: the request's time limit passed while waiting for END_REQUEST from %s"},
		{"time limit, sending", deaf, patient, limit, true, "Timed out: the request's time limit passed while sending to %s"},
		{"time limit, no free connection", busy.Target(), oneConn, limit, false,
			"Timed out: the request's time limit passed before the request was sent to %s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pool := NewPool(PoolOptions{Client: tc.opts})
			defer pool.Close()
			if tc.target == busy.Target() { // another request holds the only connection
				ctx, cancel := context.WithCancel(context.Background())
				held := make(chan struct{})
				go func() {
					defer close(held)
					_ = NewEngine(pool, EngineOptions{}).Send(ctx, tc.target, request(false), NewExchange(Input{}))
				}()
				defer func() { cancel(); <-held }()
				for deadline := time.Now().Add(60 * time.Second); busy.Accepted() == 0; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("the first request never connected")
					}
				}
			}
			e := NewEngine(pool, EngineOptions{Timeout: tc.limit})
			err := e.Send(context.Background(), tc.target, request(tc.body), NewExchange(Input{}))
			if err == nil {
				t.Fatal("the request succeeded, want a timeout")
			}
			if got, want := Explain(err, tc.target).Text, fmt.Sprintf(tc.want, tc.target); got != want {
				t.Errorf("failure = %q\nwant          %q\nfor the error %q", got, want, err)
			}
		})
	}
}

// TestAbortedExchangeSays: a request aborted once its first chunk arrived
// (the ABORT_REQUEST lesson) reads as aborted everywhere: the status is a
// partial one, END_REQUEST is the answer to ABORT_REQUEST, and the warning
// says it was aborted, not that it failed.
func TestAbortedExchangeSays(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	pool := NewPool(PoolOptions{})
	defer pool.Close()
	req, err := BuildHTTP(HTTPInput{URL: "/slow?ms=300&chunks=20", DocumentRoot: "/srv"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	x := NewExchange(Input{})
	x.OnRecord = func(ri RecordInfo) {
		if ri.Dir == fcgi.Received && ri.Type == fcgi.TypeStdout {
			cancel()
		}
	}
	if err := NewEngine(pool, EngineOptions{}).Send(ctx, addr, req, x); err == nil {
		t.Fatal("the aborted request succeeded")
	}
	if f := x.Failure(); f == nil || f.Kind != FailAborted || f.Text != "Aborted: ABORT_REQUEST sent to "+addr {
		t.Errorf("failure %+v", f)
	}
	if got := StatusText(x); got != "Partial 200 OK" {
		t.Errorf("status %q, want Partial 200 OK", got)
	}
	if got := EndText(x); got != "END_REQUEST: app status 0 · REQUEST_COMPLETE, the answer to ABORT_REQUEST" {
		t.Errorf("END_REQUEST line %q", got)
	}
	ws := strings.Join(x.Warnings(), "\n")
	if !strings.Contains(ws, "the request was aborted") || strings.Contains(ws, "failed") {
		t.Errorf("warnings %q: want the abort told as an abort", ws)
	}
}
