package buildinfo

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func TestParseAppReadsTheRepositorysFyneAppToml(t *testing.T) {
	data, err := os.ReadFile("../../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseApp(data)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "io.github.fcgiscope" || a.Name != "fcgiscope" || a.Icon != "assets/icon.png" {
		t.Errorf("details %+v", a)
	}
	if parts := strings.Split(a.Version, "."); len(parts) != 3 || a.Build < 1 {
		t.Errorf("version %q build %d: want MAJOR.MINOR.PATCH and a build number", a.Version, a.Build)
	}
	if !a.Migrations["fyneDo"] {
		t.Errorf("migrations %v: want fyneDo", a.Migrations)
	}
}

func TestParseAppSaysWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ name, toml, want string }{
		{"syntax", "[Details\n", "FyneApp.toml: toml:"},
		{"no version", "[Details]\nID = \"a.b\"\nName = \"n\"\n", "[Details] has no Version"},
		{"nothing", "", "[Details] has no ID, Name, Version"},
		{"blank name", "[Details]\nID = \"a.b\"\nName = \" \"\nVersion = \"1.0.0\"\n", "has no Name"},
	} {
		_, err := ParseApp([]byte(tc.toml))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestFromBuildInfo(t *testing.T) {
	rev := "0123456789abcdef0123456789abcdef01234567"
	fyneDep := &debug.Module{Path: FyneModule, Version: "v2.7.1"}
	for _, tc := range []struct {
		name       string
		bi         *debug.BuildInfo
		commit     string
		fyne       string
		platform   string
		hasWindow  bool
		fyneString string
	}{
		{
			name: "git checkout, window",
			bi: &debug.BuildInfo{GoVersion: "go1.27.4", Main: debug.Module{Path: "fcgiscope", Version: "(devel)"},
				Deps: []*debug.Module{{Path: "github.com/sirupsen/logrus", Version: "v1.10.2"}, fyneDep},
				Settings: []debug.BuildSetting{{Key: "GOOS", Value: "windows"}, {Key: "GOARCH", Value: "amd64"},
					{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: "2026-12-07T20:47:32Z"}, {Key: "vcs.modified", Value: "false"}}},
			commit: "0123456789ab of 2026-12-07", fyne: "v2.7.1", platform: "windows/amd64", hasWindow: true, fyneString: "v2.7.1",
		},
		{
			name: "changes not committed, headless",
			bi: &debug.BuildInfo{GoVersion: "go1.27.4", Main: debug.Module{Path: "fcgiscope", Version: "(devel)"},
				Settings: []debug.BuildSetting{{Key: "-tags", Value: "headless"}, {Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
					{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}},
			commit: "0123456789ab, with changes not committed", platform: "linux/arm64",
			fyneString: "none: built without the window (-tags headless)",
		},
		{
			name:   "outside git",
			bi:     &debug.BuildInfo{GoVersion: "go1.27.4", Main: debug.Module{Path: "fcgiscope", Version: "(devel)"}, Deps: []*debug.Module{fyneDep}},
			commit: "unknown (built outside a git checkout, or with -buildvcs=false)", fyne: "v2.7.1", hasWindow: true, fyneString: "v2.7.1",
		},
		{
			name:   "go install at a version",
			bi:     &debug.BuildInfo{GoVersion: "go1.27.4", Main: debug.Module{Path: "fcgiscope", Version: "v0.1.0"}},
			commit: "unknown (module version v0.1.0)", fyneString: "none: built without the window",
		},
		{
			name: "Fyne replaced",
			bi: &debug.BuildInfo{GoVersion: "go1.27.4", Deps: []*debug.Module{{Path: FyneModule, Version: "v2.7.1",
				Replace: &debug.Module{Path: "../fyne", Version: ""}}}},
			commit: "unknown (built outside a git checkout, or with -buildvcs=false)", fyne: "v2.7.1 replaced by ../fyne", hasWindow: true,
			fyneString: "v2.7.1 replaced by ../fyne",
		},
		{
			name:   "no build information",
			commit: "unknown (built outside a git checkout, or with -buildvcs=false)", fyneString: "none: built without the window",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := From("0.1.0", 3, tc.bi)
			if got := i.Commit(); got != tc.commit {
				t.Errorf("Commit() = %q, want %q", got, tc.commit)
			}
			if i.Fyne != tc.fyne || i.HasWindow() != tc.hasWindow {
				t.Errorf("Fyne %q, HasWindow %v; want %q, %v", i.Fyne, i.HasWindow(), tc.fyne, tc.hasWindow)
			}
			platform := tc.platform
			if platform == "" {
				platform = runtime.GOOS + "/" + runtime.GOARCH
			}
			want := [][2]string{{"Version", "0.1.0 (build 3)"}, {"Commit", tc.commit}, {"Go", "go1.27.4"},
				{"Fyne", tc.fyneString}, {"Platform", platform}}
			if tc.bi == nil {
				want[2][1] = runtime.Version()
			}
			got := i.Fields()
			if len(got) != len(want) {
				t.Fatalf("Fields() = %q, want %q", got, want)
			}
			for k := range want {
				if got[k] != want[k] {
					t.Errorf("field %d = %q, want %q", k, got[k], want[k])
				}
			}
		})
	}
}

func TestTimeIsTheCommitsInUTC(t *testing.T) {
	i := From("1.0.0", 0, &debug.BuildInfo{Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.time", Value: "2026-12-07T23:30:00-05:00"}}})
	if !i.Time.Equal(time.Date(2026, 12, 8, 4, 30, 0, 0, time.UTC)) {
		t.Errorf("time %v", i.Time)
	}
	if got := i.Commit(); got != "abc of 2026-12-08" {
		t.Errorf("Commit() = %q", got)
	}
	if got := i.Fields()[0][1]; got != "1.0.0" {
		t.Errorf("version without a build number: %q", got)
	}
}

func TestStringIsOneFieldPerLine(t *testing.T) {
	s := From("", 0, &debug.BuildInfo{GoVersion: "go1.27.4"}).String()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if len(lines) != 5 || lines[0] != "Version:  unknown" || lines[2] != "Go:       go1.27.4" {
		t.Errorf("String() =\n%s", s)
	}
}

// The test binary itself: Read gets its build information.
func TestReadDescribesThisBinary(t *testing.T) {
	i := Read("9.9.9", 1)
	if i.Go != runtime.Version() || i.Version != "9.9.9" {
		t.Errorf("Read = %+v", i)
	}
	if i.HasWindow() {
		t.Errorf("this package's test binary links no Fyne, yet Fyne = %q", i.Fyne)
	}
}
