// Entry point of the window: Run shows the inspector on the engine and demo backend main.go made until it is closed, quit or signalled, and takes it down the same way each time.

package ui

import (
	"context"
	"image"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"fcgiscope/session"
)

// Options configures Run.
type Options struct {
	// OnFirstFrame, when set, is called once, on the UI goroutine, as the
	// window's first frame is painted (scripts/startup times it).
	OnFirstFrame func()
}

// Deps are what an Inspector works with.
type Deps struct {
	// Engine sends requests; required.
	Engine *session.Engine
	// DemoAddr is the address of the demo backend, "" when it is not
	// running; DemoErr says why it did not start.
	DemoAddr string
	DemoErr  error
	// Target is the address selected at start. Empty: the target of the
	// last send, or the demo backend on first launch.
	Target string
	// Do runs f on the UI goroutine; nil means fyne.Do. Workers hand
	// their results to the widgets through it.
	Do func(f func())
	// Warn logs a problem the window works around, such as a last request
	// form that cannot be read; nil means Fyne's log.
	Warn func(msg string)
}

// Run builds the inspector window on a with deps and runs the app until the
// window is closed, the app quits or ctx is cancelled (main cancels it on
// SIGINT and SIGTERM); the inspector is closed (what is in flight
// cancelled, the preferences saved) on the way out. The caller owns the
// engine and the demo backend and closes them after Run returns.
//
// Fyne v2.7.1's way out of its loop has races that users met as a crash and
// as a hang; every way out of Run avoids them (see shutdown).
func Run(ctx context.Context, a fyne.App, deps Deps, opts Options) {
	stopReleasing := startReleasing() // see releaseEvery
	defer stopReleasing()
	endStartup := relaxGC(startupGCPercent)
	guard := time.AfterFunc(startupGCLimit, endStartup)
	defer guard.Stop()
	firstFrame := func() {
		if opts.OnFirstFrame != nil {
			opts.OnFirstFrame()
		}
		endStartup()
	}
	s := &shutdown{app: a, gate: &doGate{do: deps.Do}}
	if s.gate.do == nil {
		s.gate.do = fyne.Do
	}
	deps.Do = s.gate.Do
	overlay := firstFrameMark(firstFrame)
	var report *layoutReporter
	if path := os.Getenv(LayoutFileEnv); path != "" {
		report = newLayoutReporter(path)
		overlay = container.NewStack(overlay, report.mark)
	}
	s.in = newInspector(a, deps, overlay)
	s.in.endApp = s.stop
	s.hooks = takeStopHooks(a.Lifecycle())
	// The signal's goroutine shuts the gate at once; the rest waits for the
	// UI goroutine (for the loop's start, when the signal came first).
	cancelled := context.AfterFunc(ctx, func() {
		s.gate.shut()
		fyne.Do(s.stop)
	})
	if ctx.Err() == nil { // else cancelled while the window was built: not shown
		s.in.classAsApp(a)
		s.in.Window().Show()
		s.in.fitShown()
		if report != nil {
			report.start(s.in)
		}
		a.Run()
	}
	cancelled()
	// The loop may have stopped another way: Fyne's own SIGINT and SIGTERM
	// handler stops it, often before s.stop gets its turn.
	s.finish()
}

// shutdown is Run's way out. Each way out — the close button and File ▸
// Quit (Inspector.quit), SIGINT and SIGTERM (Run's ctx) — closes the
// inspector on the UI goroutine and then stops the app's loop without
// closing the window (stop); when the loop stopped first, Run does the same
// on the main goroutine after it (finish). It works around two races of
// Fyne v2.7.1:
//   - A window being closed (Window.Close, App.Quit) has no native window
//     any more, yet the loop goes on handling its events until the next
//     turn; a pointer motion that changes the cursor over it in between
//     dereferences nil (glfw SetInputMode in processMouseMoved). fcgiscope
//     crashed that way on SIGTERM just after its first frame, main.go
//     having called App.Quit. The loop's end destroys the window anyway.
//   - The app's stop hooks, left in its lifecycle, would be queued as an
//     event on the loop's way out and lost, or hang the app (takeStopHooks).
type shutdown struct {
	app   fyne.App
	in    *Inspector
	gate  *doGate
	hooks func() // the app's stop hooks (takeStopHooks)

	mu   sync.Mutex
	done bool
}

// stop finishes and stops the app's loop; on the UI goroutine.
func (s *shutdown) stop() {
	s.finish()
	s.app.Driver().Quit()
}

// finish, the first time it is called, shuts the gate, closes the inspector
// and runs the app's stop hooks (Fyne's writes the preferences out): on the
// UI goroutine from stop, or on the main goroutine once the loop has
// stopped.
func (s *shutdown) finish() {
	s.gate.shut()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	s.in.Close()
	s.hooks()
}

// takeStopHooks takes the app's stop hooks (its OnStopped and Fyne's own,
// which writes the preferences out) from the lifecycle l and returns them
// for shutdown.finish to call. Left in place, Fyne v2.7.1's loop queues them
// on its way out as a lifecycle event, which its lifecycle goroutine hands
// back to the main goroutine while the main goroutine stops taking
// functions, then waits for the lifecycle goroutine to finish its events.
// Handed back before the main goroutine looks for the last functions, the
// event is dropped (the window's size and splits were sometimes lost);
// handed back just after it looked and just before it marked itself
// stopped, nobody runs it: the lifecycle goroutine waits for it forever and
// the main goroutine for the lifecycle goroutine (the hang on SIGTERM, once
// in nine launches). With no hook there is no event. A driver whose
// lifecycle lacks the two methods keeps its hooks.
func takeStopHooks(l fyne.Lifecycle) (run func()) {
	h, ok := l.(interface {
		OnStopped() func()
		SetOnStoppedHookExecuted(func())
	})
	if !ok {
		return func() {}
	}
	hooks := h.OnStopped()
	l.SetOnStopped(nil)
	h.SetOnStoppedHookExecuted(nil)
	if hooks == nil {
		return func() {}
	}
	return hooks
}

// doGate passes the workers' functions to the UI goroutine (do) until it is
// shut, then drops them: a function handed to Fyne v2.7.1 while its loop
// stops (its queue closing) can panic, and once the loop has stopped Fyne
// runs it at once on the worker's goroutine, beside Run's own work on the
// main goroutine. Shut before the inspector closes, the gate keeps the
// workers out of both.
type doGate struct {
	do     func(func())
	closed atomic.Bool
}

// Do hands f to the UI goroutine unless the gate is shut.
func (g *doGate) Do(f func()) {
	if !g.closed.Load() {
		g.do(f)
	}
}

// shut drops every later Do; safe from any goroutine.
func (g *doGate) shut() { g.closed.Store(true) }

// quit ends the window once the user has answered for unsaved changes (the
// window's close button, File ▸ Quit): under Run, the inspector closes and
// the app's loop stops (shutdown.stop); an inspector built on its own, as
// the tests build it, closes its window.
func (in *Inspector) quit() {
	if in.endApp != nil {
		in.endApp()
		return
	}
	in.win.Close()
}

// Until the first frame, building the window allocates much short-lived
// memory (Fyne parses its fonts to measure text and to paint it):
// collecting at 400% rather than 100% growth runs 3 collections instead of
// 8 and saves some 15 ms, 5% of the CPU time to the first frame
// (scripts/startup), for 15 MB more at the peak. startupGCLimit bounds that
// time should no frame be painted.
const (
	startupGCPercent = 400
	startupGCLimit   = 10 * time.Second
)

// relaxGC sets the garbage collector's percentage to percent, unless it is
// off or already higher (GOGC), and returns the function that sets it back,
// which may be called more than once and from any goroutine.
func relaxGC(percent int) (restore func()) {
	prev := debug.SetGCPercent(percent)
	if prev < 0 || prev >= percent {
		debug.SetGCPercent(prev)
		return func() {}
	}
	return sync.OnceFunc(func() { debug.SetGCPercent(prev) })
}

// firstFrameMark returns an invisible 1×1 raster that calls f the first
// time it is painted: the painter draws it with the rest of the frame.
func firstFrameMark(f func()) fyne.CanvasObject {
	var once sync.Once
	mark := canvas.NewRaster(func(int, int) image.Image {
		once.Do(f)
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	mark.Resize(fyne.NewSize(1, 1))
	return container.NewWithoutLayout(mark)
}
