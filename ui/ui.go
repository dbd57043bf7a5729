// Entry point of the window: Run shows the inspector on the engine and demo backend main.go made, until it is closed.

package ui

import (
	"image"
	"runtime/debug"
	"sync"
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
}

// Run builds the inspector window on a with deps and runs the app until the
// window closes; then it cancels what is in flight. The caller owns the
// engine and the demo backend and closes them after Run returns.
func Run(a fyne.App, deps Deps, opts Options) {
	endStartup := relaxGC(startupGCPercent)
	guard := time.AfterFunc(startupGCLimit, endStartup)
	defer guard.Stop()
	firstFrame := func() {
		if opts.OnFirstFrame != nil {
			opts.OnFirstFrame()
		}
		endStartup()
	}
	in := newInspector(a, deps, firstFrameMark(firstFrame))
	// Save before the app writes its preferences out on the way down,
	// whether the window was closed or the app told to quit.
	a.Lifecycle().SetOnStopped(in.SavePrefs)
	in.classAsApp(a)
	in.Window().ShowAndRun()
	in.Close()
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
