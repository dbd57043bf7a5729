// Tests of the program as a whole: what a headless command prints, run as
// the real binary would be (this test binary, re-run as fcgiscope).

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
)

// mainArgs, when set in the environment, makes the test binary run main
// with these arguments (separated by newlines) instead of the tests.
const mainArgs = "FCGISCOPE_TEST_MAIN_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(mainArgs); args != "" {
		os.Args = append([]string{"fcgiscope"}, strings.Split(args, "\n")...)
		main()
		return
	}
	os.Exit(m.Run())
}

// TestHeadlessPrintsNothingOfFyne: the headless commands print nothing of
// Fyne's, whatever the locale (issue 13, defect 8: "Fyne error: Error
// parsing user locale C" three times under LANG=C.UTF-8, Debian's and CI's
// default, which broke --log-format json). Fyne's lang package reads the
// locale in its init, before main; package ui/fynelocale gives it one it
// can read first.
func TestHeadlessPrintsNothingOfFyne(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	home := t.TempDir()
	locales := [][]string{
		{"LANG=C.UTF-8"}, {"LANG=C.utf8"}, {"LC_ALL=C.UTF-8", "LANG=en_US.UTF-8"}, {"LC_MESSAGES=C.UTF-8"},
		{"LANGUAGE=C.UTF-8", "LANG=en_US.UTF-8"}, {"LANG=de_DE@euro"}, {"LANG=1.UTF-8"}, {"LANG=C"}, {},
	}
	commands := [][]string{
		{"help"},
		{"values", "--addr", addr, "--log-format", "json", "--log-level", "debug"},
		{"send", "--addr", addr, "--param", "SCRIPT_NAME=/echo", "--json", "--log-format", "json", "--log-level", "debug"},
	}
	for i, loc := range locales {
		for j, args := range commands {
			if j > 0 && i > 1 {
				continue // every locale with help, the JSON logs under the first two
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = append([]string{"HOME=" + home, "XDG_CONFIG_HOME=" + home, "PATH=" + os.Getenv("PATH"),
				mainArgs + "=" + strings.Join(args, "\n")}, loc...)
			_, errOut, code := fcgitest.RunCmd(t, cmd, time.Minute)
			stderr := string(errOut)
			if code != 0 {
				t.Errorf("%v %v: exit %d\nstderr:\n%s", loc, args, code, stderr)
				continue
			}
			if strings.Contains(stderr, "Fyne") {
				t.Errorf("%v %v: stderr has Fyne's words:\n%s", loc, args, stderr)
			}
			if args[0] == "help" {
				continue
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if line != "" && !json.Valid([]byte(line)) {
					t.Errorf("%v %v: --log-format json, but stderr has a line that is not JSON: %q", loc, args, line)
				}
			}
		}
	}
}
