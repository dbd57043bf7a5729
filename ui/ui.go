// Entry point of the window: Run starts the demo backend and the engine, then shows the inspector until it is closed.

package ui

import (
	"context"
	"image"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
)

// Options configures Run.
type Options struct {
	// Target is the address selected at start. Empty: the target of the
	// last send, or the demo backend on first launch.
	Target string
	// NoDemo: do not start the in-process demo backend.
	NoDemo bool
	// Timeout bounds a whole request (0: only the client's idle timeout
	// and the Cancel button).
	Timeout time.Duration
	// Client configures the FastCGI clients (dial and idle timeouts).
	Client fcgi.Options
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
	// Target is the address selected at start (see Options.Target).
	Target string
	// Do runs f on the UI goroutine; nil means fyne.Do. Workers hand
	// their results to the widgets through it.
	Do func(f func())
}

// Run starts the demo backend on a loopback port, builds the inspector
// window on a and runs the app until the window closes; then it cancels
// what is in flight and stops the backend.
func Run(a fyne.App, opts Options) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	deps := Deps{Target: opts.Target}
	if !opts.NoDemo {
		b, err := demo.Start(ctx, "127.0.0.1:0")
		if err != nil {
			deps.DemoErr = err
		} else {
			defer b.Close()
			deps.DemoAddr = b.Addr()
		}
	}
	pool := session.NewPool(session.PoolOptions{Client: opts.Client})
	defer pool.Close()
	deps.Engine = session.NewEngine(pool, session.EngineOptions{Timeout: opts.Timeout})
	in := NewInspector(a, deps)
	if opts.OnFirstFrame != nil {
		w := in.Window()
		w.SetContent(container.NewStack(w.Content(), firstFrameMark(opts.OnFirstFrame)))
	}
	// Save before the app writes its preferences out on the way down,
	// whether the window was closed or the app told to quit.
	a.Lifecycle().SetOnStopped(in.SavePrefs)
	in.Window().ShowAndRun()
	in.Close()
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
