// The test harness of the window tests: a queue that stands in for fyne.Do, played by the test goroutine, and the inspector window on the demo backend.

package ui

import (
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"go.uber.org/goleak"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// queue stands in for fyne.Do: workers queue functions with Do, and the
// test goroutine, which plays the UI goroutine, runs them in pump. So
// widgets are only ever touched by one goroutine, as in the app.
//
// The hooks, set before the first Do and called on the pumping goroutine,
// let a test measure what the UI goroutine does: before and after each
// batch pump drains, and around each function (each runs it; nil means
// the function is simply called).
type queue struct {
	mu     sync.Mutex
	fns    []queued
	count  int // functions queued since the last resetCount
	signal chan struct{}

	before func(first time.Time)    // first: when the batch's first function was queued
	each   func(f func(), i, n int) // runs f, the i-th function of a batch of n
	after  func()
}

// queued is a function Do queued, and when.
type queued struct {
	f  func()
	at time.Time
}

// queueTick is how long waitFor waits for a Do before it looks again,
// and how long settle waits between drains.
const queueTick = 10 * time.Millisecond

func newQueue() *queue { return &queue{signal: make(chan struct{}, 1)} }

// Do queues f; safe from any goroutine.
func (q *queue) Do(f func()) {
	q.mu.Lock()
	q.fns = append(q.fns, queued{f: f, at: time.Now()})
	q.count++
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pump runs what is queued, through the hooks, and returns how many
// functions ran.
func (q *queue) pump() int {
	q.mu.Lock()
	fns := q.fns
	q.fns = nil
	q.mu.Unlock()
	if len(fns) == 0 {
		return 0
	}
	if q.before != nil {
		q.before(fns[0].at)
	}
	for i, fn := range fns {
		if q.each != nil {
			q.each(fn.f, i, len(fns))
		} else {
			fn.f()
		}
	}
	if q.after != nil {
		q.after()
	}
	return len(fns)
}

// waitFor pumps until cond holds, failing the test after timeout.
func (q *queue) waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.After(timeout)
	for {
		q.pump()
		if cond() {
			return
		}
		select {
		case <-q.signal:
		case <-time.After(queueTick):
		case <-deadline:
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// settle pumps until nothing has been queued for a little while.
func (q *queue) settle() {
	for quiet := 0; quiet < 5; {
		if q.pump() == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(queueTick)
	}
}

// queuedCount returns how many functions were queued since the last
// resetCount.
func (q *queue) queuedCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}

// resetCount starts queuedCount again from 0.
func (q *queue) resetCount() {
	q.mu.Lock()
	q.count = 0
	q.mu.Unlock()
}

// uiLoop is what plays the UI goroutine for a window: a queue, or a
// variant of it that measures.
type uiLoop interface {
	Do(f func())
	settle()
}

// window is the inspector window on the headless test app.
type window struct {
	in   *Inspector
	app  fyne.App
	demo string // the demo backend's address; "" for a window opened with windowOptions.noDemo
}

// windowOptions say how openWindow builds the window; the zero value is
// the window as it ships, on the demo backend.
type windowOptions struct {
	pool   session.PoolOptions
	engine session.EngineOptions
	noDemo bool // no demo backend: the test brings its own targets
}

// testEnv is what the window tests stand on: a headless app with its
// configuration in temporary directories, the demo backend on loopback
// (unless noDemo), a pool and an engine; and a check for leaked goroutines
// when the test ends.
type testEnv struct {
	app    fyne.App
	demo   string // the demo backend's address; "" with windowOptions.noDemo
	engine *session.Engine
}

func newTestEnv(tb testing.TB, loop uiLoop, o windowOptions) *testEnv {
	tb.Helper()
	// Registered first, so it runs after every other cleanup; goroutines
	// that were running before the test are not its leaks.
	before := goleak.IgnoreCurrent()
	tb.Cleanup(func() { goleak.VerifyNone(tb, before) })
	tb.Setenv("HOME", tb.TempDir())
	tb.Setenv("XDG_CONFIG_HOME", tb.TempDir())
	e := &testEnv{app: test.NewTempApp(tb)}
	if !o.noDemo {
		// Closed by a cleanup registered before the one below, so after
		// it: the workers settle and the pool closes first.
		e.demo = fcgitest.StartDemo(tb)
	}
	pool := session.NewPool(o.pool)
	e.engine = session.NewEngine(pool, o.engine)
	tb.Cleanup(func() {
		loop.settle()
		pool.Close()
	})
	return e
}

// open shows the inspector window, 1600×1000, its fyne.Do played by loop;
// it is closed when the test ends, before the environment goes.
func (e *testEnv) open(tb testing.TB, loop uiLoop) *Inspector {
	tb.Helper()
	in := NewInspector(e.app, Deps{Engine: e.engine, DemoAddr: e.demo, Do: loop.Do})
	in.Window().Resize(fyne.NewSize(1600, 1000))
	in.Window().Show()
	tb.Cleanup(func() {
		if slices.Contains(e.app.Driver().AllWindows(), in.Window()) {
			in.Window().Close()
		}
		loop.settle()
	})
	loop.settle()
	return in
}

// openWindow opens the inspector window on a fresh testEnv.
func openWindow(tb testing.TB, loop uiLoop, o windowOptions) *window {
	tb.Helper()
	e := newTestEnv(tb, loop, o)
	return &window{in: e.open(tb, loop), app: e.app, demo: e.demo}
}
