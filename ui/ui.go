// Entry point of the window: Run starts the demo backend and the engine, then shows the inspector until it is closed.

package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"

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
	// Save before the app writes its preferences out on the way down,
	// whether the window was closed or the app told to quit.
	a.Lifecycle().SetOnStopped(in.SavePrefs)
	in.Window().ShowAndRun()
	in.Close()
}
