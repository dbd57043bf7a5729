// Fault matrix, window side: the real inspector window meets each misbehaving backend — it names the cause, lists the records that came, goes idle, and never holds the UI goroutine for long.

package ui

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// Timeouts of the window's client in the fault suite (see fcgi's
// faults_test.go): short, so a silent backend costs well under a second.
const (
	winFaultDial      = 300 * time.Millisecond
	winFaultIdle      = 300 * time.Millisecond
	winFaultAbortWait = 100 * time.Millisecond
	winFaultEngine    = 60 * time.Second // Engine timeout: the stderr flood's bound
	winFaultWait      = 60 * time.Second // bound of every wait in these tests
)

// uiBlockLimit is the longest the UI goroutine may be held: 100 ms. Under
// the race detector, whose instrumentation slows code 2 to 20 times (Go's
// race detector documentation), it is 10 times that: there it catches real
// blocking (waiting on the network or a lock, laying out megabytes), and
// the 100 ms budget itself is checked by a plain `go test`.
func uiBlockLimit() time.Duration {
	if fcgitest.RaceEnabled {
		return 10 * 100 * time.Millisecond
	}
	return 100 * time.Millisecond
}

// faultQueue stands in for fyne.Do and measures how long the UI goroutine is
// held while a fault plays out.
//
// Method. Workers queue functions with Do, stamped with the time. The test
// goroutine plays the UI goroutine: it drains the queue in pump, waking on
// every Do (or every 10 ms), locked to its OS thread while it does. It
// measures
//   - run: for each queued function, how long it held the UI goroutine;
//     functions the test runs on the UI goroutine itself (tapping Send)
//     count too (timeUI);
//   - gap: for each drain, how long the queue had held work without being
//     drained: from the later of the previous drain's end and the queueing
//     of the batch's first function, to the start of this drain.
//
// A run counts the function's time on a CPU plus the time it was blocked (a
// lock, a channel, I/O), sampled from its stack (see measure); a gap is
// wall-clock time minus the UI thread's run-queue delay (from
// /proc/thread-self/schedstat). Either way, time spent runnable while the
// machine was busy with other processes does not count: this measures the
// UI code, not the load. Both maxima must stay under uiBlockLimit. A
// fault whose measure is over the limit is played once more, and fails only
// if it is over again: a loaded machine can delay the hand-off of a lock
// between threads, and a real block repeats.
type faultQueue struct {
	*queue

	// Touched by the pumping goroutine only.
	maxRun, maxGap     time.Duration
	maxRunAt, maxGapAt string
	runs               int
	prevEnd            time.Time     // end of the last drain, 0 before the first
	prevEndDelay       time.Duration // run-queue delay of the thread then
	phase              string        // what the test is doing, for the report
}

// newFaultQueue returns a queue whose pump measures each drain's gap and
// each function's run (see measure); the caller of pump locks its OS
// thread.
func newFaultQueue() *faultQueue {
	q := &faultQueue{queue: newQueue(), phase: "setup"}
	q.before = q.gap
	q.each = func(f func(), i, n int) {
		q.measure(fmt.Sprintf("%s, queued function %d of %d", q.phase, i+1, n), f)
	}
	q.after = func() { q.prevEnd, q.prevEndDelay = time.Now(), runQueueDelay() }
	return q
}

// runQueueDelay returns how long the calling thread has waited for a CPU
// while runnable, or 0 where the kernel does not say.
func runQueueDelay() time.Duration {
	_, delay, _ := threadSched()
	return delay
}

// threadSched returns the calling thread's time on a CPU and its run-queue
// delay; ok is false where the kernel does not say (no schedstat).
func threadSched() (onCPU, delay time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, 0, false
	}
	cpu, err1 := strconv.ParseInt(f[0], 10, 64)
	ns, err2 := strconv.ParseInt(f[1], 10, 64)
	return time.Duration(cpu), time.Duration(ns), err1 == nil && err2 == nil
}

// gap notes how long the batch about to be drained, whose first function
// was queued at first, waited for the drain.
func (q *faultQueue) gap(first time.Time) {
	if q.prevEnd.IsZero() {
		return
	}
	from := q.prevEnd
	if first.After(from) {
		from = first
	}
	if gap := time.Since(from) - (runQueueDelay() - q.prevEndDelay); gap > q.maxGap {
		q.maxGap, q.maxGapAt = gap, q.phase
	}
}

// measure runs f and records how long it held the UI goroutine: its time
// on a CPU (from the thread's schedstat) plus the time it spent blocked,
// sampled every 10 ms from 20 ms on by taking its stack and reading its
// state ("sync.Mutex.Lock", "chan receive", "IO wait", ...; "running" and
// "runnable" are not blocked). Time runnable but off a CPU is not counted:
// on a loaded machine, and with the goroutine locked to its thread, it
// measures the machine, not the UI code. The stack of the first blocked
// sample, or of the last sample, goes into the report.
func (q *faultQueue) measure(what string, f func()) {
	id := goroutineID()
	done := make(chan struct{})
	var blocked atomic.Int64 // sampled blocked time, ns
	var stack atomic.Pointer[string]
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		const every = 10 * time.Millisecond
		t := time.NewTimer(2 * every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			state, s := goroutineStack(id)
			if state != "" && state != "running" && state != "runnable" {
				blocked.Add(int64(every))
				if old := stack.Load(); old == nil || !strings.Contains(*old, "blocked") {
					s = "blocked in " + s
					stack.Store(&s)
				}
			} else if old := stack.Load(); old == nil || !strings.Contains(*old, "blocked") {
				stack.Store(&s)
			}
			t.Reset(every)
		}
	}()
	cpu0, _, ok0 := threadSched()
	start := time.Now()
	f()
	wall := time.Since(start)
	cpu1, _, ok1 := threadSched()
	close(done)
	<-sampled
	cpu := cpu1 - cpu0
	if !ok0 || !ok1 {
		cpu = wall // no schedstat: count the wall clock, blocked time included
		blocked.Store(0)
	}
	held := cpu + time.Duration(blocked.Load())
	q.runs++
	if held > q.maxRun {
		q.maxRun = held
		q.maxRunAt = fmt.Sprintf("%s; %v on a CPU, about %v blocked, %v wall clock",
			what, cpu.Round(time.Millisecond), time.Duration(blocked.Load()), wall.Round(time.Millisecond))
		if s := stack.Load(); s != nil && held > uiBlockLimit() {
			q.maxRunAt += "; it was " + *s
		}
	}
}

// goroutineID returns the calling goroutine's id, from its stack header
// ("goroutine 7 [running]:").
func goroutineID() string {
	b := make([]byte, 64)
	b = b[:runtime.Stack(b, false)]
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return ""
	}
	return f[1]
}

// goroutineStack returns the state of goroutine id ("running",
// "sync.Mutex.Lock", ...) and its stack, function names only, or "", ""
// when it is gone.
func goroutineStack(id string) (state, stack string) {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.HasPrefix(g, "goroutine "+id+" [") {
			continue
		}
		lines := strings.Split(g, "\n")
		state = strings.TrimPrefix(lines[0], "goroutine "+id+" [")
		if i := strings.IndexAny(state, ",]"); i >= 0 {
			state = state[:i]
		}
		out := []string{state + ":"}
		for i := 1; i+1 < len(lines) && len(out) < 12; i += 2 {
			fn := lines[i]
			if j := strings.LastIndex(fn, "("); j > 0 {
				fn = fn[:j]
			}
			out = append(out, "  "+fn)
		}
		return state, strings.Join(out, "\n")
	}
	return "", ""
}

// timeUI runs f on the UI goroutine (the caller), measured like a queued
// function.
func (q *faultQueue) timeUI(what string, f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	q.measure(what, f)
}

// reset forgets the measurements, to measure one phase on its own.
func (q *faultQueue) reset(phase string) {
	q.maxRun, q.maxGap, q.runs = 0, 0, 0
	q.maxRunAt, q.maxGapAt = "", ""
	q.phase = phase
}

// waitFor pumps, locked to its OS thread, until cond holds, failing the
// test after timeout. The wait before its first drain is not a gap.
func (q *faultQueue) waitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	q.prevEnd = time.Time{}
	q.queue.waitFor(t, what, timeout, cond)
}

// settle pumps, locked to its OS thread, until nothing has been queued for
// a little while. The wait before its first drain is not a gap.
func (q *faultQueue) settle() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	q.prevEnd = time.Time{}
	q.queue.settle()
}

// report says how long the UI goroutine was held, and returns problems
// when over uiBlockLimit.
func (q *faultQueue) report(t *testing.T) []string {
	t.Helper()
	t.Logf("UI goroutine: %d functions, longest held %v (%s), longest gap with work queued %v (%s)",
		q.runs, q.maxRun.Round(time.Microsecond), q.maxRunAt, q.maxGap.Round(time.Microsecond), q.maxGapAt)
	var out []string
	if limit := uiBlockLimit(); q.maxRun > limit {
		out = append(out, fmt.Sprintf("a function held the UI goroutine for %v (%s), over %v", q.maxRun.Round(time.Millisecond), q.maxRunAt, limit))
	}
	if limit := uiBlockLimit(); q.maxGap > limit {
		out = append(out, fmt.Sprintf("queued work waited %v for a drain (%s), over %v", q.maxGap.Round(time.Millisecond), q.maxGapAt, limit))
	}
	return out
}

// faultWindow is an inspector window whose targets are misbehaving backends.
type faultWindow struct {
	*window
	q *faultQueue
}

// newFaultWindow builds the real window, with the fault suite's short
// client timeouts. One window serves a whole table: building one costs more
// than most faults.
func newFaultWindow(t *testing.T, opts fcgi.Options) *faultWindow {
	t.Helper()
	q := newFaultQueue()
	w := openWindow(t, q, windowOptions{
		pool:   session.PoolOptions{Client: fcgi.ClientOptions{Options: opts}},
		engine: session.EngineOptions{Timeout: winFaultEngine},
		noDemo: true,
	})
	return &faultWindow{window: w, q: q}
}

// aim points the window at target with url as the request's URL.
func (w *faultWindow) aim(t *testing.T, target, url string) {
	t.Helper()
	w.in.Target().SetAddress(target)
	w.in.Compose().HTTP().SetURL(url)
	w.q.settle()
	if got := w.in.Target().Address(); got != target {
		t.Fatalf("window targets %q, want %q", got, target)
	}
}

// sendResponsive sends like send and fails the test if the UI goroutine
// was held too long, after playing the request a second time (see
// faultQueue). It returns the last exchange.
func (w *faultWindow) sendResponsive(t *testing.T) *session.Exchange {
	t.Helper()
	x := w.send(t)
	problems := w.q.report(t)
	if len(problems) == 0 {
		return x
	}
	t.Logf("over the limit, playing the request once more: %s", strings.Join(problems, "; "))
	x = w.send(t)
	for _, p := range w.q.report(t) {
		t.Error(p)
	}
	return x
}

// send taps Send and pumps until the request is over, measuring the UI
// goroutine throughout.
func (w *faultWindow) send(t *testing.T) *session.Exchange {
	t.Helper()
	w.q.settle()
	w.q.reset("sending")
	w.q.timeUI("Send (tap)", func() { test.Tap(w.in.SendButton()) })
	if !w.in.Busy() {
		t.Fatalf("Send did not start a request; state %q", w.in.State())
	}
	w.q.waitFor(t, "the request to end", winFaultWait, func() bool { return !w.in.Busy() })
	w.q.settle()
	return w.in.Exchange()
}

// errorShown returns the error box: the sentence and its detail.
func (w *faultWindow) errorShown() string {
	r := w.in.Response()
	if r.ErrorText() == "" {
		return ""
	}
	return r.errText.Text + "\n" + r.errDetail.Text
}

// windowFault is one row of the window's matrix.
type windowFault struct {
	name    string
	backend func(testing.TB) string // the target; the backend is closed in a cleanup
	url     string                  // the request's URL (demo routes); "" for DefaultURL
	// state: the status line says these (the kind of failure, or "Done"
	// for a success); cause: the error box says these, naming the cause.
	state, cause []string
	// types: the record types listed, in order, at least these (a prefix
	// of the list); received: how many received records at least.
	types    []string
	received int
	partial  bool // a listed record is marked cut short
	check    func(t *testing.T, w *faultWindow, x *session.Exchange)
}

func hostileTarget(b fcgitest.Behaviour) func(testing.TB) string {
	return func(tb testing.TB) string { return fcgitest.StartHostile(tb, "tcp", b).Target() }
}

// sentTypes are the records the window's default GET sends.
var sentTypes = []string{"BEGIN_REQUEST", "PARAMS", "PARAMS", "STDIN"}

// Texts the window shows for the kinds of failure (session.Failure).
const (
	sayTimeout  = "Timed out"
	sayIdle     = "for 300ms (idle timeout)" // the error box, for the idle timeout
	sayProtocol = "Protocol error"
	sayClosed   = "Connection closed before END_REQUEST"
	sayRefused  = "Refused: END_REQUEST "
	sayDone     = "Done: 200 OK"
)

// TestFaultWindow runs the fault matrix through one inspector window (see
// the README's fault table): for each fault it checks the status
// line and the error box name the cause, every record captured is listed
// (the cut one marked), the window is idle and ready again, the layout
// still fits, and the UI goroutine was never held over uiBlockLimit.
func TestFaultWindow(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last
	w := newFaultWindow(t, fcgi.Options{DialTimeout: winFaultDial, IdleTimeout: winFaultIdle, AbortWait: winFaultAbortWait})
	for _, tc := range []windowFault{
		{name: "refused", backend: func(tb testing.TB) string { return fcgitest.RefusedAddr(tb, "tcp") },
			state: []string{"Cannot connect to 127.0.0.1:"}, cause: []string{"connection refused"},
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				if x.Len() != 0 || w.in.Response().Status() != "No response" {
					t.Errorf("%d records, status %q after a refused dial", x.Len(), w.in.Response().Status())
				}
			}},
		{name: "never-answers", backend: hostileTarget(fcgitest.Silent()),
			state: []string{sayTimeout}, cause: []string{"Timed out: no record from 127.0.0.1:", sayIdle},
			types: append(slices.Clone(sentTypes), "ABORT_REQUEST")},
		{name: "close-mid-header", backend: hostileTarget(fcgitest.CloseMidHeader(3)),
			state: []string{sayProtocol}, cause: []string{"Protocol error in record #4: ", "header cut after 3 of 8 bytes"}, received: 1, partial: true},
		{name: "close-mid-record", backend: hostileTarget(fcgitest.CloseMidRecord(10)),
			state: []string{sayProtocol}, cause: []string{"STDOUT record with content length 64", "cut after 18 of 72 bytes"},
			types: append(slices.Clone(sentTypes), "STDOUT", "STDOUT"), received: 2, partial: true},
		{name: "close-before-end-request", backend: hostileTarget(fcgitest.CloseBeforeEnd("the body\n")),
			state: []string{sayClosed}, cause: []string{"after record #5 (STDOUT)"},
			types: append(slices.Clone(sentTypes), "STDOUT", "STDOUT"), received: 2,
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				// What arrived is shown as the response, with a warning.
				if got := w.in.Response().ViewText(ViewText); !strings.Contains(got, "the body") {
					t.Errorf("body view %q, want the body that arrived", got)
				}
				if !slices.ContainsFunc(w.in.Response().Warnings(), func(s string) bool { return strings.Contains(s, "the request failed") }) {
					t.Errorf("warnings %q, want one saying the response is what arrived before the failure", w.in.Response().Warnings())
				}
			}},
		{name: "wrong-request-id", backend: hostileTarget(fcgitest.WrongID()),
			state: []string{sayTimeout}, cause: []string{sayIdle}, received: 3,
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				for i := range w.in.Results().Len() {
					if r := w.in.Results().row(i); r.Dir == fcgi.Received && (r.RequestID != 2 || !strings.Contains(r.Anomaly, "not active")) {
						t.Errorf("row %d: %+v; want it marked as a record for request 2, which is not active", i, r)
					}
				}
			}},
		{name: "wrong-request-id/then-real/demo", backend: fcgitest.StartDemo, url: "/misbehave/wrong-id", state: []string{sayDone}, received: 3,
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				if got := w.in.Response().ViewText(ViewText); strings.Contains(got, "stray") || !strings.Contains(got, "the real response") {
					t.Errorf("body %q: want the real response without the stray record", got)
				}
			}},
		{name: "version-2", backend: hostileTarget(fcgitest.BadVersion(2)),
			state: []string{sayProtocol}, cause: []string{"Protocol error in record #4: ", "unsupported protocol version 2 (want 1)"}, received: 1},
		{name: "lying-content-length/demo", backend: fcgitest.StartDemo, url: "/misbehave/short-content",
			state: []string{sayProtocol}, cause: []string{"STDOUT record with content length 100", "cut after 18 of 112 bytes"},
			received: 1, partial: true},
		{name: "lying-content-length/stays-open", backend: hostileTarget(fcgitest.ShorterThanClaimed(0)),
			state: []string{sayTimeout}, cause: []string{sayIdle}, received: 1, partial: true},
		{name: "unknown-record-type", backend: hostileTarget(fcgitest.UnknownType(42)), state: []string{sayDone},
			types: append(slices.Clone(sentTypes), "UNKNOWN_42", "STDOUT", "STDOUT", "END_REQUEST"),
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				if r := w.in.Results().row(4); !strings.Contains(r.Anomaly, "unexpected UNKNOWN_42 record") {
					t.Errorf("the type 42 row is marked %q, want the protocol error", r.Anomaly)
				}
			}},
		{name: "dribble/slower-than-idle-timeout", backend: hostileTarget(fcgitest.Dribble(100*time.Millisecond, "ok")),
			state: []string{sayTimeout}, cause: []string{sayIdle}, received: 2, partial: true},
		// 10 bytes 5 ms apart: a record well within the 300 ms idle
		// timeout (25 ms apart, a busy machine stretched it past 300 ms).
		{name: "dribble/within-idle-timeout", backend: hostileTarget(fcgitest.Dribble(5*time.Millisecond, "ok")),
			state: []string{sayDone}, received: 4,
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				if got := w.in.Response().ViewText(ViewText); got != "ok" {
					t.Errorf("body %q, want the dribbled %q", got, "ok")
				}
			}},
		{name: "end-request/cant-mpx-conn", backend: hostileTarget(fcgitest.EndWith(byte(fcgi.StatusCantMpxConn))),
			state: []string{sayRefused + "CANT_MPX_CONN"}, cause: []string{"CANT_MPX_CONN"}, received: 1, check: wantEndLine("CANT_MPX_CONN")},
		{name: "end-request/overloaded", backend: hostileTarget(fcgitest.EndWith(byte(fcgi.StatusOverloaded))),
			state: []string{sayRefused + "OVERLOADED"}, cause: []string{"OVERLOADED"}, received: 1, check: wantEndLine("OVERLOADED")},
		{name: "end-request/unknown-role", backend: hostileTarget(fcgitest.EndWith(byte(fcgi.StatusUnknownRole))),
			state: []string{sayRefused + "UNKNOWN_ROLE"}, cause: []string{"UNKNOWN_ROLE"}, received: 1, check: wantEndLine("UNKNOWN_ROLE")},
		{name: "idle-keep-alive-closed", backend: hostileTarget(fcgitest.CloseWhenIdle(0, "fresh\n")), state: []string{sayDone},
			check: func(t *testing.T, w *faultWindow, x *session.Exchange) {
				// Requests after the backend closed the idle KEEP_CONN
				// connection go through on a fresh one.
				keep := w.in.Compose().keep
				keep.SetChecked(true)
				defer keep.SetChecked(false)
				for i := range 2 {
					time.Sleep(50 * time.Millisecond) // the backend closes the idle connection
					x := w.sendResponsive(t)
					if x.ErrorText() != "" || !strings.HasPrefix(w.in.State(), sayDone) || !x.KeepConn() || x.Conn().Reused {
						t.Errorf("request %d: state %q, error %q, keep_conn %v, reused %v", i, w.in.State(), x.ErrorText(), x.KeepConn(), x.Conn().Reused)
					}
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ignore := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last
			fcgitest.NoFDLeak(t)
			w.aim(t, tc.backend(t), cmpStr(tc.url, DefaultURL))
			x := w.sendResponsive(t)
			checkFaultWindow(t, w, x, tc)
			if tc.check != nil {
				tc.check(t, w, x)
			}
		})
	}
}

// TestFaultWindowStderrFlood: a backend floods stderr (100 MiB; 16 MiB
// under -race, see fcgitest.FloodBytes). The window must stay responsive
// while it arrives, and the stderr pane must show the end of it, capped,
// with a note, instead of laying out the whole flood. Its client's idle
// timeout is 10 s: records arrive back to back, but on a loaded machine the
// client's reading goroutine (which records every record into the
// Exchange) can be off a CPU for longer than the suite's 300 ms.
//
// Responsive means that no function holds the UI goroutine longer than
// uiBlockLimit while the flood arrives, measured by faultQueue and played
// once more when over it, as every fault is. The live refresh reads the
// Exchange every tick while the client's goroutine appends to it: the
// capture grows outside the Exchange's lock (session's Exchange.add), so
// the UI never waits while megabytes of stderr are copied.
func TestFaultWindowStderrFlood(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // runs last
	w := newFaultWindow(t, fcgi.Options{DialTimeout: winFaultDial, IdleTimeout: 10 * time.Second})
	w.aim(t, fcgitest.StartDemo(t), "/misbehave/huge-stderr?bytes="+strconv.Itoa(fcgitest.FloodBytes))
	flood := func() *session.Exchange {
		start := time.Now()
		x := w.send(t)
		t.Logf("%d MiB of stderr shown in %v", fcgitest.FloodBytes>>20, time.Since(start).Round(time.Millisecond))
		return x
	}
	x := flood()
	if slow := w.q.report(t); len(slow) > 0 {
		t.Logf("over the limit, flooding once more: %s", strings.Join(slow, "; "))
		x = flood()
		for _, p := range w.q.report(t) {
			t.Errorf("a stderr flood of %d MiB holds the UI goroutine: %s", fcgitest.FloodBytes>>20, p)
		}
	}
	checkFaultWindow(t, w, x, windowFault{state: []string{sayDone}, received: 3})
	checkFlood(t, w, x)
}

// checkFlood checks the stderr pane after a flood, and that the window
// serves the next request.
func checkFlood(t *testing.T, w *faultWindow, x *session.Exchange) {
	t.Helper()
	in := w.in
	if got := int64(len(x.Stderr())); got != fcgitest.FloodBytes {
		t.Fatalf("the exchange holds %d bytes of stderr, want %d", got, fcgitest.FloodBytes)
	}
	// The pane holds at most maxStderrShown bytes of text plus its note.
	shown := in.Stderr().Shown()
	note := fmt.Sprintf("… %d earlier bytes not shown\n", fcgitest.FloodBytes-maxStderrShown)
	if len(shown) > maxStderrShown+len(note) {
		t.Errorf("the stderr pane lays out %d bytes of text for %d of stderr; want at most %d and a note",
			len(shown), fcgitest.FloodBytes, maxStderrShown+len(note))
	}
	if !strings.HasPrefix(shown, note) {
		t.Errorf("the stderr pane starts %.80q, want the note %q", shown, note)
	}
	if tail := x.Stderr()[fcgitest.FloodBytes-1000 : fcgitest.FloodBytes-1]; !strings.HasSuffix(shown, string(tail)) {
		t.Errorf("the stderr pane does not end with the end of stderr")
	}
	lines := bytes.Count(x.Stderr(), []byte("\n"))
	if want := fmt.Sprintf("Stderr (%d lines)", lines); in.Stderr().Title() != want {
		t.Errorf("stderr title %q, want %q", in.Stderr().Title(), want)
	}
	// Still usable: the next request goes through and resets the pane.
	in.Compose().HTTP().SetURL("/stderr?lines=2")
	w.q.settle()
	w.sendResponsive(t)
	if in.Stderr().Lines() != 2 || !strings.HasPrefix(in.State(), sayDone) || len(in.Stderr().Shown()) > 100 {
		t.Errorf("after the flood: state %q, %d stderr lines, pane %.80q", in.State(), in.Stderr().Lines(), in.Stderr().Shown())
	}
}

// checkFaultWindow checks what every fault must leave on screen.
func checkFaultWindow(t *testing.T, w *faultWindow, x *session.Exchange, tc windowFault) {
	t.Helper()
	in := w.in
	shown := w.errorShown()
	t.Logf("status line %q\nerror box %q", in.State(), shown)
	if in.Busy() || in.SendButton().Disabled() || !in.CancelButton().Disabled() {
		t.Errorf("busy %v, Send disabled %v, Cancel disabled %v; want an idle window ready to send again",
			in.Busy(), in.SendButton().Disabled(), in.CancelButton().Disabled())
	}
	for _, s := range tc.state {
		if !strings.Contains(in.State(), s) {
			t.Errorf("status line %q does not say %q", in.State(), s)
		}
	}
	for _, s := range tc.cause {
		if !strings.Contains(shown, s) {
			t.Errorf("error box %q does not say %q", shown, s)
		}
	}
	if success := len(tc.cause) == 0; success != (x.ErrorText() == "") || success != (shown == "") {
		t.Errorf("exchange error %q, error box %q; want both exactly when the request failed", x.ErrorText(), shown)
	}
	// Every record captured is listed.
	listed := recordTypes(in.Results())
	if len(listed) != x.Len() {
		t.Errorf("the list shows %d records, the exchange holds %d", len(listed), x.Len())
	}
	if len(tc.types) > 0 && (len(listed) < len(tc.types) || !slices.Equal(listed[:len(tc.types)], tc.types)) {
		t.Errorf("records listed %v, want %v first", listed, tc.types)
	}
	received, partial := 0, -1
	for i, ri := range x.Records() {
		if ri.Dir == fcgi.Received {
			received++
		}
		if ri.Partial && partial < 0 {
			partial = i
		}
	}
	if received < tc.received {
		t.Errorf("%d received records listed, want at least %d: %v", received, tc.received, listed)
	}
	if (partial >= 0) != tc.partial {
		t.Errorf("a record marked cut short: %v, want %v: %v", partial >= 0, tc.partial, listed)
	}
	if partial >= 0 {
		if r := in.Results().row(partial); !strings.Contains(r.Anomaly, "the connection ended inside this record") {
			t.Errorf("the cut record's row is marked %q", r.Anomaly)
		}
	}
	if got := in.Window().Content().MinSize(); got.Width > 1600 || got.Height > 1000 {
		t.Errorf("the window asks for %v after the fault; want it to fit 1600×1000", got)
	}
}

// wantEndLine checks the END_REQUEST line of the response pane.
func wantEndLine(status string) func(t *testing.T, w *faultWindow, x *session.Exchange) {
	return func(t *testing.T, w *faultWindow, x *session.Exchange) {
		if got := w.in.Response().end.Text; got != "END_REQUEST: app status 0 · "+status {
			t.Errorf("END_REQUEST line %q, want status %s", got, status)
		}
	}
}

// cmpStr returns s, or def when s is "".
func cmpStr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
