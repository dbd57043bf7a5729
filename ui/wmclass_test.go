// The window's title until the app runs (its X11 class comes from it).

package ui

import (
	"strings"
	"testing"
)

func TestWindowIsCreatedUnderTheAppsName(t *testing.T) {
	f := newWBFixture(t)
	win := f.in.Window()
	if !strings.HasPrefix(win.Title(), windowTitle+" — ") {
		t.Fatalf("title %q: want the preset's name after %q", win.Title(), windowTitle)
	}
	f.in.classAsApp(f.app)
	if got := win.Title(); got != windowTitle {
		t.Errorf("title before the app runs %q, want %q (the desktop entry's StartupWMClass)", got, windowTitle)
	}
	f.in.updateTitle() // what the app's start does
	if !strings.HasPrefix(win.Title(), windowTitle+" — ") {
		t.Errorf("title %q once started", win.Title())
	}
}
