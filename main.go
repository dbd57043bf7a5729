// fcgiscope: with no subcommand, the window; with one, the headless command line.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"fyne.io/fyne/v2/app"
	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
	"fcgiscope/ui"
	"fcgiscope/ui/cli"
	// Before Fyne's init reads the locale: see the package.
	_ "fcgiscope/ui/fynelocale"
)

// appID matches FyneApp.toml; preferences are stored under it.
const appID = "io.github.fcgiscope"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && cli.IsCommand(os.Args[1]) {
		code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	log := windowLogger()
	os.Exit(runWindow(ctx, log))
}

// windowLogger builds the window's logger from the global log flags and
// their environment variables; a bad flag exits with the usage.
func windowLogger() *logrus.Logger {
	fs := flag.NewFlagSet("fcgiscope", flag.ExitOnError)
	var lf cli.LogFlags
	lf.Register(fs, "info", os.Getenv)
	_ = fs.Parse(os.Args[1:]) // ExitOnError: exits with usage on a bad flag
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "fcgiscope: unknown subcommand %q (run 'fcgiscope help')\n", fs.Arg(0))
		os.Exit(cli.ExitUsage)
	}
	log, err := cli.NewLogger(os.Stderr, lf.Level, lf.Format)
	if err != nil {
		fmt.Fprintf(os.Stderr, "fcgiscope: %v\n", err)
		os.Exit(cli.ExitUsage)
	}
	return log
}

// runWindow starts the demo backend and the engine, logging every record and
// exchange at debug level, and runs the window until it is closed or ctx is
// cancelled (Ctrl+C in the terminal).
func runWindow(ctx context.Context, log *logrus.Logger) int {
	a := app.NewWithID(appID)
	log.WithField("version", a.Metadata().Version).Info("fcgiscope window starting")

	deps := ui.Deps{Warn: func(msg string) { log.Warn(msg) }}
	// The backend outlives ctx: it stops once the window is gone.
	if backend, err := demo.Start(context.Background(), "127.0.0.1:0"); err != nil {
		deps.DemoErr = err
	} else {
		defer backend.Close()
		deps.DemoAddr = backend.Addr()
	}
	pool := session.NewPool(session.PoolOptions{Client: fcgi.ClientOptions{Options: fcgi.Options{Trace: cli.TraceLogger(log)}}})
	defer pool.Close()
	deps.Engine = session.NewEngine(pool, session.EngineOptions{OnExchange: cli.ExchangeLogger(log)})

	ui.Run(ctx, a, deps, ui.Options{OnFirstFrame: func() { log.Info("first frame") }})
	log.Info("fcgiscope window closed")
	return 0
}
