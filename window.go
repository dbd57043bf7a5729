//go:build !headless

// The window: Fyne's app with FyneApp.toml's metadata, the demo backend, the
// engine, logged at debug level.

package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
	"fcgiscope/ui"
	"fcgiscope/ui/buildinfo"
	"fcgiscope/ui/cli"
	// Before Fyne's init reads the locale: see the package. Only the window
	// needs it, so the build without the window leaves the environment alone.
	_ "fcgiscope/ui/fynelocale"
)

// hasWindow: this build opens the window when no subcommand is given.
const hasWindow = true

// iconPNG is FyneApp.toml's icon (assets/icon.png), the window's icon.
//
//go:embed assets/icon.png
var iconPNG []byte

// noCommand opens the window.
func noCommand(ctx context.Context, meta buildinfo.App) int {
	return runWindow(ctx, windowLogger(), meta)
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
func runWindow(ctx context.Context, log *logrus.Logger, meta buildinfo.App) int {
	// FyneApp.toml's metadata whoever built the binary: fyne package sets
	// the same, go build nothing (Fyne would look for the file beside the
	// binary), and it carries the fyneDo migration.
	app.SetMetadata(fyne.AppMetadata{ID: meta.ID, Name: meta.Name, Version: meta.Version, Build: meta.Build,
		Icon: fyne.NewStaticResource("icon.png", iconPNG), Migrations: meta.Migrations})
	a := app.NewWithID(meta.ID)
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
