package ui

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
)

// TestLiveSocketPermissions: the Live panel's socket owner, group and mode
// reach the tap (the unix socket it makes has them), are remembered, are
// checked before anything starts with an error saying which field and why,
// and say in the folded section's title what is set.
func TestLiveSocketPermissions(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	owner, group, mode, section := lp.SocketFields()
	if owner == nil || section == nil {
		t.Fatal("the Live panel has no socket permission fields")
	}
	if got := section.Items[0].Title; got != "Socket: as the upstream's" {
		t.Errorf("section title %q with nothing set", got)
	}
	section.Open(0)
	f.q.settle()

	// A mode that is no mode: said, nothing started.
	sock := filepath.Join(t.TempDir(), "tap.sock")
	lp.listen.SetText("unix:" + sock)
	lp.upstream.SetText(f.demo)
	mode.SetText("0999")
	if !strings.Contains(lp.Note(), `Socket mode "0999": want octal`) {
		t.Errorf("typing mode 0999: note %q", lp.Note())
	}
	test.Tap(lp.startBtn)
	if lp.Running() || !strings.Contains(lp.Note(), `Cannot start: socket mode "0999": want octal permission bits such as 0660`) {
		t.Errorf("running %v, note %q", lp.Running(), lp.Note())
	}
	mode.SetText("0640")
	if lp.Note() != liveNoteIdle {
		t.Errorf("the mode put right, the note still says %q", lp.Note())
	}
	owner.SetText("www data")
	test.Tap(lp.startBtn)
	if lp.Running() || !strings.Contains(lp.Note(), `Cannot start: socket owner "www data": a user or group name, or a numeric id`) {
		t.Errorf("owner with a space: running %v, note %q", lp.Running(), lp.Note())
	}
	owner.SetText("")
	// The ? explains the fields in place.
	test.Tap(lp.permHelp)
	if h := lp.SocketHelp(); !strings.Contains(h, "listen.owner") || !strings.Contains(h, "www-data") {
		t.Errorf("the socket help says %q", h)
	}
	lp.helpPop.Hide()
	// Owner, group and mode are for a unix socket.
	mode.SetText("0640")
	lp.listen.SetText("127.0.0.1:0")
	test.Tap(lp.startBtn)
	if lp.Running() || !strings.Contains(lp.Note(), "apply to a unix socket") {
		t.Errorf("TCP listen with a mode: running %v, note %q", lp.Running(), lp.Note())
	}
	// An owner that does not exist: the tap says so.
	lp.listen.SetText("unix:" + sock)
	owner.SetText("no-such-user-fcgiscope")
	test.Tap(lp.startBtn)
	f.q.waitFor(t, "the tap to fail", liveWait, func() bool { return !lp.Running() })
	if !strings.Contains(lp.Note(), `no-such-user-fcgiscope`) || !strings.Contains(lp.Note(), "Cannot tap") {
		t.Errorf("unknown owner: note %q", lp.Note())
	}

	// This process's own user and group (which it may give a socket
	// without privileges), mode 0640.
	uid, gid := strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
	owner.SetText(uid)
	group.SetText(gid)
	test.Tap(lp.startBtn)
	f.q.waitFor(t, "the tap to listen", liveWait, func() bool { return lp.Addr() != "" || !lp.Running() })
	if lp.Addr() == "" {
		t.Fatalf("the tap did not start: %q", lp.Note())
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o640 || strconv.Itoa(int(st.Uid)) != uid || strconv.Itoa(int(st.Gid)) != gid {
		t.Errorf("socket %v owned %d:%d, want -rw-r----- %s:%s", fi.Mode(), st.Uid, st.Gid, uid, gid)
	}
	for _, e := range []interface{ Disabled() bool }{owner, group, mode} {
		if !e.Disabled() {
			t.Error("a socket field can be edited while the tap runs")
		}
	}
	if got, want := section.Items[0].Title, "Socket "+uid+" "+gid+" 0640"; got != want {
		t.Errorf("section title %q, want %q", got, want)
	}
	test.Tap(lp.stopBtn)
	f.q.waitFor(t, "the tap to stop", liveWait, func() bool { return !lp.Running() })
	if owner.Disabled() || mode.Disabled() {
		t.Error("the socket fields stay disabled after Stop")
	}

	// Remembered: a panel built again (the next launch) has them.
	for key, want := range map[string]string{PrefLiveOwner: uid, PrefLiveGroup: gid, PrefLiveMode: "0640"} {
		if got := f.in.prefs.String(key); got != want {
			t.Errorf("%s remembered as %q, want %q", key, got, want)
		}
	}
	again := newLivePanel(context.Background(), f.in.win, f.in.prefs, f.q.Do, liveLink{})
	o2, g2, m2, s2 := again.SocketFields()
	if o2.Text != uid || g2.Text != gid || m2.Text != "0640" || !strings.HasSuffix(s2.Items[0].Title, " 0640") {
		t.Errorf("next launch: owner %q group %q mode %q title %q", o2.Text, g2.Text, m2.Text, s2.Items[0].Title)
	}
}

// TestLiveSocketFieldsFit: the Live panel with its socket section open
// fits the window as it opens on a 1280×720 and a 1366×768 screen: the
// panes need no more than the window, and no control overlaps another.
func TestLiveSocketFieldsFit(t *testing.T) {
	f := newLiveFixture(t)
	win := f.in.Window()
	_, _, _, section := f.lp.SocketFields()
	section.Open(0)
	for _, screen := range []fyne.Size{{Width: 1280, Height: 720}, {Width: 1366, Height: 768}} {
		size := fitWindow(fyne.NewSize(defaultWindowWidth, defaultWindowHeight), screen).SubtractWidthHeight(0, menuHeight)
		win.Resize(size)
		f.q.settle()
		room := size.Subtract(fyne.NewSquareSize(2 * theme.Padding()))
		if min := f.in.panes.MinSize(); min.Width > room.Width || min.Height > room.Height {
			t.Errorf("at %v with the socket section open the panes need %v, more than the window's %v", screen, min, room)
		}
		for _, p := range layoutProblems(win.Canvas()) {
			t.Errorf("at %v: %s", screen, p)
		}
	}
}
