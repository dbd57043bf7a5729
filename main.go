// fcgiscope: with no subcommand, the window; with one, the headless command line.
// The window is window.go's; headless.go stands in for it in the build without
// it (go build -tags headless: no Fyne, no cgo, one static binary).
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"fcgiscope/ui/buildinfo"
	"fcgiscope/ui/cli"
)

// fyneAppTOML is FyneApp.toml: the app's ID, name, version and build number
// for both builds, and the window's metadata.
//
//go:embed FyneApp.toml
var fyneAppTOML []byte

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	meta, err := buildinfo.ParseApp(fyneAppTOML)
	if err != nil { // a defect of the build: the file is embedded
		fmt.Fprintf(os.Stderr, "fcgiscope: %v\n", err)
		os.Exit(cli.ExitFailure)
	}
	if len(os.Args) > 1 && cli.IsCommand(os.Args[1]) {
		code := runner(meta).Run(ctx, os.Args[1:])
		stop()
		os.Exit(code)
	}
	os.Exit(noCommand(ctx, meta))
}

// runner is the command line of this build.
func runner(meta buildinfo.App) *cli.Runner {
	return &cli.Runner{Stdout: os.Stdout, Stderr: os.Stderr, Stdin: os.Stdin,
		Build: buildinfo.Read(meta.Version, meta.Build), NoWindow: !hasWindow}
}
