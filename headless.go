//go:build headless

// The build without the window (go build -tags headless): no Fyne, so no
// cgo, OpenGL or X11; every subcommand of ui/cli is there.

package main

import (
	"context"
	"os"

	"fcgiscope/ui/buildinfo"
)

// hasWindow: this build has none; the command line says so.
const hasWindow = false

// noCommand: without a subcommand this build says that it has no window and
// lists the commands (exit 2); an unknown one is the command line's usage
// error.
func noCommand(ctx context.Context, meta buildinfo.App) int {
	return runner(meta).Run(ctx, os.Args[1:])
}
