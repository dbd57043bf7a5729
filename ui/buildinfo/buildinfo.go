// Package buildinfo says which fcgiscope a binary is: the version and build
// number of FyneApp.toml (main embeds the file), the commit it was built
// from, and the Go and Fyne releases it was built with. The window's Help >
// About and the command line's version command show it. It does not import
// Fyne: the headless build uses it too.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// FyneModule is the module path of Fyne: a binary that links it has the
// window.
const FyneModule = "fyne.io/fyne/v2"

// App is what FyneApp.toml says of the app: [Details] and [Migrations].
// main hands it to Fyne as the app's metadata, so a binary built with go
// build has the same ID, version and migrations as one built by fyne
// package.
type App struct {
	ID      string
	Name    string
	Version string // e.g. 0.1.0
	Build   int    // the build number, raised by fyne release
	// Icon is the icon's path relative to the module root (assets/icon.png).
	Icon       string
	Migrations map[string]bool
}

// ParseApp reads FyneApp.toml. ID, Name and Version must be set.
func ParseApp(data []byte) (App, error) {
	var f struct {
		Details struct {
			ID, Name, Version, Icon string
			Build                   int
		}
		Migrations map[string]bool
	}
	if _, err := toml.Decode(string(data), &f); err != nil {
		return App{}, fmt.Errorf("buildinfo: FyneApp.toml: %w", err)
	}
	d := f.Details
	var missing []string
	for _, field := range []struct{ name, value string }{{"ID", d.ID}, {"Name", d.Name}, {"Version", d.Version}} {
		if strings.TrimSpace(field.value) == "" {
			missing = append(missing, field.name)
		}
	}
	if len(missing) > 0 {
		return App{}, fmt.Errorf("buildinfo: FyneApp.toml: [Details] has no %s", strings.Join(missing, ", "))
	}
	return App{ID: d.ID, Name: d.Name, Version: d.Version, Build: d.Build, Icon: d.Icon, Migrations: f.Migrations}, nil
}

// Info describes one binary.
type Info struct {
	Version string // FyneApp.toml's Version
	Build   int    // FyneApp.toml's Build
	// Revision is the commit the binary was built from (vcs.revision, the
	// full hash); "" when the build had no version control information:
	// built outside a git checkout, or with -buildvcs=false.
	Revision string
	// Modified says that the checkout had changes not committed
	// (vcs.modified).
	Modified bool
	// Time is the commit's time (vcs.time); zero when unknown.
	Time time.Time
	// Module is the main module's version when it is known (go install
	// fcgiscope@version); "" for a build in a checkout.
	Module string
	// Go is the Go release that built the binary (go1.27.4).
	Go string
	// Fyne is the version of Fyne linked in (v2.7.1); "" in a binary built
	// without the window (-tags headless).
	Fyne     string
	Platform string // GOOS/GOARCH
	// Tags are the build tags given to go build (e.g. headless), if any.
	Tags string
}

// Read describes the running binary, whose FyneApp.toml said version and
// build.
func Read(version string, build int) Info {
	bi, _ := debug.ReadBuildInfo()
	return From(version, build, bi)
}

// From describes a binary from its build information (nil: none, as in a
// binary built without module support).
func From(version string, build int, bi *debug.BuildInfo) Info {
	i := Info{Version: version, Build: build, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return i
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		i.Module = v
	}
	for _, d := range bi.Deps {
		if d.Path == FyneModule {
			i.Fyne = d.Version
			if r := d.Replace; r != nil {
				i.Fyne += " replaced by " + strings.TrimSpace(r.Path+" "+r.Version)
			}
		}
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		case "vcs.time":
			i.Time, _ = time.Parse(time.RFC3339, s.Value) // zero when malformed
		case "-tags":
			i.Tags = s.Value
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		i.Platform = goos + "/" + goarch
	}
	return i
}

// HasWindow reports whether the binary links Fyne, that is, has the window.
func (i Info) HasWindow() bool { return i.Fyne != "" }

// Commit says which commit the binary was built from, as people quote it:
// the first 12 hex digits and the commit's date, "with changes not
// committed" when the checkout had some; without version control
// information, the module version if known, else why it is unknown.
func (i Info) Commit() string {
	if i.Revision == "" {
		if i.Module != "" {
			return "unknown (module version " + i.Module + ")"
		}
		return "unknown (built outside a git checkout, or with -buildvcs=false)"
	}
	c := i.Revision
	if len(c) > 12 {
		c = c[:12]
	}
	if !i.Time.IsZero() {
		c += " of " + i.Time.UTC().Format(time.DateOnly)
	}
	if i.Modified {
		c += ", with changes not committed"
	}
	return c
}

// Fields returns what to show, as label and value pairs: version, commit,
// Go, Fyne (or that there is no window), platform.
func (i Info) Fields() [][2]string {
	version := i.Version
	if version == "" {
		version = "unknown"
	}
	if i.Build > 0 {
		version += fmt.Sprintf(" (build %d)", i.Build)
	}
	fyne := i.Fyne
	if fyne == "" {
		fyne = "none: built without the window"
		if i.Tags != "" {
			fyne += " (-tags " + i.Tags + ")"
		}
	}
	return [][2]string{
		{"Version", version},
		{"Commit", i.Commit()},
		{"Go", i.Go},
		{"Fyne", fyne},
		{"Platform", i.Platform},
	}
}

// String returns the fields one per line, "Label:  value", for a terminal
// or a bug report.
func (i Info) String() string {
	var b strings.Builder
	for _, f := range i.Fields() {
		fmt.Fprintf(&b, "%-9s %s\n", f[0]+":", f[1])
	}
	return b.String()
}
