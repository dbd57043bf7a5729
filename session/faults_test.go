// Fault matrix, session side: each misbehaving backend through Engine.Send — the Exchange keeps what arrived, names the cause and flags the anomaly.

package session

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// Client timeouts of the session's fault suite, as in fcgi's.
const (
	sessFaultIdle      = 300 * time.Millisecond
	sessFaultAbortWait = 100 * time.Millisecond
	sessFaultSlack     = time.Second
)

// faultEngine returns an Engine with the fault suite's short timeouts and
// its own pool, closed at the end.
func faultEngine(t *testing.T, idle time.Duration) *Engine {
	t.Helper()
	pool := NewPool(PoolOptions{Client: fcgi.ClientOptions{Options: fcgi.Options{DialTimeout: 300 * time.Millisecond, IdleTimeout: idle, AbortWait: sessFaultAbortWait}}})
	t.Cleanup(func() { pool.Close() })
	return NewEngine(pool, EngineOptions{Timeout: time.Minute})
}

// anomalyKinds lists the kinds of x's anomalies.
func anomalyKinds(x *Exchange) []AnomalyKind {
	var out []AnomalyKind
	for _, a := range Anomalies(x) {
		out = append(out, a.Kind)
	}
	return out
}

// TestFaultExchange sends to each misbehaving backend through Engine.Send
// and checks the Exchange: the error (its sentinel and its words), the
// records kept (a cut one marked Partial, with its bytes), the anomaly
// flagged, END_REQUEST, and that Send returns within the timeouts.
func TestFaultExchange(t *testing.T) {
	for _, tc := range []struct {
		name     string
		backend  func(t *testing.T) string
		path     string
		want     error    // sentinel; nil: success
		says     []string // ErrorText says these
		received int      // received records kept, at least
		// partial: bytes of the record marked Partial; 0: none; -1: some,
		// how many depending on timing.
		partial int
		anomaly AnomalyKind
		end     fcgi.ProtocolStatus // wanted END_REQUEST status when one came
		ended   bool
		check   func(t *testing.T, x *Exchange)
	}{
		{name: "refused", backend: func(t *testing.T) string { return fcgitest.RefusedAddr(t, "tcp") },
			want: fcgi.ErrConnect, says: []string{"cannot connect", "connection refused"}},
		{name: "never-answers", backend: hostile(fcgitest.Silent()), want: fcgi.ErrTimeout,
			says: []string{"timed out", "no record for 300ms (IdleTimeout)"}},
		{name: "close-mid-header", backend: hostile(fcgitest.CloseMidHeader(3)), want: fcgi.ErrProtocol,
			says: []string{"protocol error", "header cut after 3 of 8 bytes"}, received: 1, partial: 3},
		{name: "close-mid-record", backend: hostile(fcgitest.CloseMidRecord(10)), want: fcgi.ErrProtocol,
			says: []string{"cut after 18 of 72 bytes"}, received: 2, partial: 18, anomaly: AnomalyShortContent},
		{name: "close-before-end-request", backend: hostile(fcgitest.CloseBeforeEnd("body\n")), want: fcgi.ErrConnClosed,
			says: []string{"connection closed before END_REQUEST", "closed by the application"}, received: 2},
		{name: "wrong-request-id", backend: hostile(fcgitest.WrongID()), want: fcgi.ErrTimeout,
			says: []string{"no record for 300ms"}, received: 3, anomaly: AnomalyInactiveID},
		{name: "version-2", backend: hostile(fcgitest.BadVersion(2)), want: fcgi.ErrProtocol,
			says: []string{"unsupported protocol version 2"}, received: 1, anomaly: AnomalyVersion,
			check: func(t *testing.T, x *Exchange) {
				// The client stops at the header: its 8 bytes are kept,
				// the content it claims was never read.
				for i, ri := range x.Records() {
					if ri.Dir == fcgi.Received && ri.Version == 2 {
						if raw := x.RecordRaw(i); len(raw) != fcgi.HeaderLen || raw[0] != 2 || ri.Err == "" {
							t.Errorf("version 2 record %+v kept %d bytes, want its header alone, with the error", ri, len(raw))
						}
						return
					}
				}
				t.Errorf("no version 2 record kept: %+v", x.Records())
			}},
		{name: "lying-content-length/demo", backend: func(t *testing.T) string { return fcgitest.StartDemo(t) }, path: "/misbehave/short-content", want: fcgi.ErrProtocol,
			says: []string{"content length 100", "cut after 18 of 112 bytes"}, received: 1, partial: 18, anomaly: AnomalyShortContent},
		{name: "unknown-type", backend: hostile(fcgitest.UnknownType(42)), received: 4, anomaly: AnomalyUnknownType, ended: true},
		// The idle timeout ends these with a record unfinished: what
		// arrived of it is kept, marked Partial.
		{name: "dribble", backend: hostile(fcgitest.Dribble(100*time.Millisecond, "ok")), want: fcgi.ErrTimeout,
			says: []string{"no record for 300ms"}, received: 2, partial: -1},
		{name: "lying-content-length/stays-open", backend: hostile(fcgitest.ShorterThanClaimed(0)), want: fcgi.ErrTimeout,
			says: []string{"no record for 300ms"}, received: 1, partial: 58, anomaly: AnomalyShortContent},
		{name: "cant-mpx-conn", backend: hostile(fcgitest.EndWith(byte(fcgi.StatusCantMpxConn))),
			says: []string{"the application refused the request", "CANT_MPX_CONN"}, received: 1, end: fcgi.StatusCantMpxConn, ended: true},
		{name: "overloaded", backend: hostile(fcgitest.EndWith(byte(fcgi.StatusOverloaded))),
			says: []string{"OVERLOADED"}, received: 1, end: fcgi.StatusOverloaded, ended: true},
		{name: "unknown-role", backend: hostile(fcgitest.EndWith(byte(fcgi.StatusUnknownRole))),
			says: []string{"UNKNOWN_ROLE"}, received: 1, end: fcgi.StatusUnknownRole, ended: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			current := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, current) })
			fcgitest.NoFDLeak(t)
			target := tc.backend(t)
			e := faultEngine(t, sessFaultIdle)
			x := NewExchange(Input{})
			path := tc.path
			if path == "" {
				path = "/fault"
			}
			start := time.Now()
			err := e.Send(t.Context(), target, &Request{Params: Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: path}}}, x)
			if el, bound := time.Since(start), sessFaultIdle+sessFaultAbortWait+sessFaultSlack; el > bound {
				t.Errorf("Send took %v, want at most %v", el, bound)
			}
			var ere *fcgi.EndRequestError
			switch {
			case tc.end != fcgi.StatusRequestComplete:
				if !errors.As(err, &ere) || ere.ProtocolStatus != tc.end {
					t.Fatalf("Send = %v, want an *EndRequestError with %s", err, tc.end)
				}
			case tc.want == nil:
				if err != nil {
					t.Fatalf("Send = %v, want success", err)
				}
			case !errors.Is(err, tc.want):
				t.Fatalf("Send = %v, want %v", err, tc.want)
			}
			if !x.Finished() || (err == nil) != (x.ErrorText() == "") || err != nil && x.ErrorText() != err.Error() {
				t.Errorf("finished %v, ErrorText %q; want the exchange closed with Send's error", x.Finished(), x.ErrorText())
			}
			for _, s := range tc.says {
				if !strings.Contains(x.ErrorText(), s) {
					t.Errorf("ErrorText %q does not say %q", x.ErrorText(), s)
				}
			}
			received, partial := 0, 0
			for i, ri := range x.Records() {
				if ri.Dir == fcgi.Received {
					received++
				}
				if ri.Partial {
					partial = len(x.RecordRaw(i))
					if ri.Err == "" {
						t.Errorf("record %d is marked Partial without saying why", i)
					}
				}
			}
			if tc.partial < 0 && partial > 0 {
				partial = tc.partial
			}
			if received < tc.received || partial != tc.partial {
				t.Errorf("kept %d received records, a partial one of %d bytes; want at least %d and %d", received, partial, tc.received, tc.partial)
			}
			if kinds := anomalyKinds(x); tc.anomaly != "" && !containsKind(kinds, tc.anomaly) {
				t.Errorf("anomalies %v, want %s", kinds, tc.anomaly)
			}
			if end := x.End(); (end != nil) != tc.ended || end != nil && end.ProtocolStatus != tc.end {
				t.Errorf("END_REQUEST %+v, want ended %v with %s", end, tc.ended, tc.end)
			}
			if tc.check != nil {
				tc.check(t, x)
			}
		})
	}
}

func containsKind(kinds []AnomalyKind, k AnomalyKind) bool {
	for _, c := range kinds {
		if c == k {
			return true
		}
	}
	return false
}

func hostile(b fcgitest.Behaviour) func(t *testing.T) string {
	return func(t *testing.T) string { return fcgitest.StartHostile(t, "tcp", b).Target() }
}

// TestFaultExchangeStderrFlood: a stderr flood (100 MiB; 16 MiB under
// -race, see fcgitest.FloodBytes) is recorded whole and counted. The idle
// timeout is 5 s here: it counts silence between records, and on a loaded
// machine the reading goroutine itself (tracing into the Exchange) can be
// off a CPU for longer than the suite's 300 ms.
func TestFaultExchangeStderrFlood(t *testing.T) {
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
	fcgitest.NoFDLeak(t)
	target := fcgitest.StartDemo(t)
	e := faultEngine(t, 5*time.Second)
	x := NewExchange(Input{})
	start := time.Now()
	err := e.Send(t.Context(), target, &Request{Params: Params{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: "/misbehave/huge-stderr"}, {Name: "QUERY_STRING", Value: "bytes=" + strconv.Itoa(fcgitest.FloodBytes)}}}, x)
	t.Logf("%d MiB of stderr in %v", fcgitest.FloodBytes>>20, time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("Send = %v, want success", err)
	}
	if got := int64(len(x.Stderr())); got != fcgitest.FloodBytes || x.Sizes().Stderr != fcgitest.FloodBytes {
		t.Fatalf("kept %d bytes of stderr (counted %d), want %d", got, x.Sizes().Stderr, fcgitest.FloodBytes)
	}
	if resp := x.Response(); resp == nil || !strings.Contains(string(resp.Body), "wrote "+strconv.Itoa(fcgitest.FloodBytes)+" bytes to STDERR") {
		t.Errorf("response %+v, want the demo's summary", resp)
	}
	if x.Truncated() || len(x.Warnings()) > 0 {
		t.Errorf("truncated %v, warnings %q; want the flood kept whole (under the capture limit)", x.Truncated(), x.Warnings())
	}
}
