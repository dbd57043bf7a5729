// Tests of the version subcommand and of the command line of the build
// without the window.

package cli

import (
	"context"
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/ui/buildinfo"
)

// runBuild runs a command line with build as the binary's description.
func runBuild(t *testing.T, b buildinfo.Info, noWindow bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut fcgitest.SyncBuffer
	r := &Runner{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }, Build: b, NoWindow: noWindow}
	code := r.Run(ctx, args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestVersion(t *testing.T) {
	b := buildinfo.From("0.1.0", 2, &debug.BuildInfo{GoVersion: "go1.27.4",
		Deps: []*debug.Module{{Path: buildinfo.FyneModule, Version: "v2.7.1"}},
		Settings: []debug.BuildSetting{{Key: "GOOS", Value: "windows"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-07T20:47:32Z"}, {Key: "vcs.modified", Value: "true"}}})

	r := runBuild(t, b, false, "version")
	want := "Version:  0.1.0 (build 2)\nCommit:   0123456789ab of 2026-12-07, with changes not committed\n" +
		"Go:       go1.27.4\nFyne:     v2.7.1\nPlatform: windows/amd64\n"
	if r.code != ExitOK || r.stdout != want || r.stderr != "" {
		t.Errorf("version: exit %d, stdout\n%s\nstderr %q; want stdout\n%s", r.code, r.stdout, r.stderr, want)
	}

	r = runBuild(t, b, false, "version", "--json")
	var got map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != ExitOK {
		t.Fatalf("version --json: exit %d, %v: %q", r.code, err, r.stdout)
	}
	for k, v := range map[string]any{"version": "0.1.0", "build": 2.0, "commit": "0123456789abcdef0123456789abcdef01234567",
		"modified": true, "commit_time": "2026-12-07T20:47:32Z", "go": "go1.27.4", "fyne": "v2.7.1", "window": true,
		"platform": "windows/amd64"} {
		if got[k] != v {
			t.Errorf("version --json: %s = %#v, want %#v", k, got[k], v)
		}
	}

	r = runBuild(t, buildinfo.From("0.1.0", 1, &debug.BuildInfo{GoVersion: "go1.27.4",
		Settings: []debug.BuildSetting{{Key: "-tags", Value: "headless"}}}), true, "version", "--json")
	got = nil
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if got["window"] != false || got["fyne"] != "" || got["commit"] != "" || got["commit_time"] != nil {
		t.Errorf("headless version --json: %v", got)
	}

	if r := runBuild(t, b, false, "version", "extra"); r.code != ExitUsage {
		t.Errorf("version extra: exit %d, want %d", r.code, ExitUsage)
	}
}

func TestNoWindowBuildListsTheCommands(t *testing.T) {
	r := runBuild(t, buildinfo.Info{}, true)
	if r.code != ExitUsage || r.stdout != "" {
		t.Errorf("no subcommand: exit %d, stdout %q", r.code, r.stdout)
	}
	if !strings.HasPrefix(r.stderr, "fcgiscope: this build has no window") {
		t.Errorf("stderr does not start by saying there is no window:\n%s", r.stderr)
	}
	for _, c := range commands() {
		if !strings.Contains(r.stderr, "\n  "+c.name+" ") {
			t.Errorf("command %s not listed:\n%s", c.name, r.stderr)
		}
	}

	help := runBuild(t, buildinfo.Info{}, true, "help")
	if help.code != ExitOK || !strings.Contains(help.stdout, "(this build has no window") || strings.Contains(help.stdout, "open the window") {
		t.Errorf("help of the build without the window: exit %d\n%s", help.code, help.stdout)
	}
	help = runBuild(t, buildinfo.Info{}, false, "help")
	if !strings.Contains(help.stdout, "open the window") || strings.Contains(help.stdout, "no window") {
		t.Errorf("help of the build with the window:\n%s", help.stdout)
	}
	if r := runBuild(t, buildinfo.Info{}, false); r.code != ExitUsage || !strings.HasPrefix(r.stderr, "fcgiscope: no subcommand") {
		t.Errorf("no subcommand with a window: exit %d, %q", r.code, r.stderr)
	}
}
