// The version subcommand: which fcgiscope this binary is.

package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"time"
)

// versionJSON is the version subcommand's --json output. Its fields are a
// contract: add, never rename.
type versionJSON struct {
	Version  string `json:"version"`
	Build    int    `json:"build"`
	Commit   string `json:"commit"` // the full hash; "" when unknown
	Modified bool   `json:"modified"`
	Time     string `json:"commit_time,omitempty"` // RFC 3339
	Go       string `json:"go"`
	Fyne     string `json:"fyne"` // "" without the window
	Window   bool   `json:"window"`
	Platform string `json:"platform"`
}

func setupVersion(fs *flag.FlagSet) func(context.Context, *env) error {
	asJSON := fs.Bool("json", false, "print one JSON object: {version, build, commit, modified, commit_time, go, fyne, window, platform}")
	return func(_ context.Context, e *env) error {
		b := e.Build
		if !*asJSON {
			if _, err := fmt.Fprint(e.Stdout, b.String()); err != nil {
				return fmt.Errorf("cli: version: writing output: %w", err)
			}
			return nil
		}
		out := versionJSON{Version: b.Version, Build: b.Build, Commit: b.Revision, Modified: b.Modified,
			Go: b.Go, Fyne: b.Fyne, Window: !e.NoWindow, Platform: b.Platform}
		if !b.Time.IsZero() {
			out.Time = b.Time.UTC().Format(time.RFC3339)
		}
		data, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("cli: version: encoding JSON: %w", err)
		}
		if _, err := fmt.Fprintf(e.Stdout, "%s\n", data); err != nil {
			return fmt.Errorf("cli: version: writing output: %w", err)
		}
		return nil
	}
}
