// Tests of the main menu on the real window: every item does something, the view toggles, and quitting asks about unsaved changes.

package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
)

// menuItems returns every item with an action, by its path ("File/Export/HAR 1.2 file…").
func menuItems(m *fyne.MainMenu) map[string]*fyne.MenuItem {
	out := map[string]*fyne.MenuItem{}
	var walk func(prefix string, items []*fyne.MenuItem)
	walk = func(prefix string, items []*fyne.MenuItem) {
		for _, it := range items {
			if it.IsSeparator {
				continue
			}
			if it.ChildMenu != nil {
				walk(prefix+it.Label+"/", it.ChildMenu.Items)
				continue
			}
			out[prefix+it.Label] = it
		}
	}
	for _, menu := range m.Items {
		walk(menu.Label+"/", menu.Items)
	}
	return out
}

func TestMainMenuItemsAllWork(t *testing.T) {
	f := newWBFixture(t)
	menu := f.wb.Menu()
	if len(menu.Items) < 3 || menu.Items[0].Label != "File" || menu.Items[len(menu.Items)-1].Label != "Help" {
		t.Fatalf("menus %v", menu.Items)
	}
	f.send(t) // so that the exports and copies have an exchange
	f.waitHistory(t, 1)
	c := f.in.Window().Canvas()
	items := menuItems(menu)
	for _, want := range []string{"File/New request", "File/Open preset folder…", "File/Save preset", "File/Save preset as…",
		"File/Import/nginx fastcgi_params…", "File/Import/cgi-fcgi command line…", "File/Export/cgi-fcgi command…",
		"File/Export/HAR 1.2 file…", "File/Export/Exchange file (JSON)…", "File/Open Exchange file…", "File/Quit",
		"View/Presets", "View/History", "View/Clear history…", "Help/About fcgiscope", "Help/Keyboard shortcuts", "Edit/Copy params (NAME=VALUE lines)"} {
		if items[want] == nil {
			t.Errorf("no menu item %s", want)
		}
	}
	for path, it := range items {
		if it.Action == nil || it.Disabled {
			t.Errorf("%s does nothing", path)
			continue
		}
		if path == "File/Quit" || path == "File/New request" || (strings.HasPrefix(path, "View/") && path != "View/Clear history…") ||
			strings.HasPrefix(path, "Edit/") {
			continue // tested below
		}
		before := len(c.Overlays().List())
		it.Action()
		f.q.settle()
		if len(c.Overlays().List()) <= before {
			t.Errorf("%s opened no dialog", path)
		}
		for len(c.Overlays().List()) > 0 {
			c.Overlays().Top().Hide()
			c.Overlays().Remove(c.Overlays().Top())
		}
	}

	// Copy puts text on the clipboard.
	items["Edit/Copy params (NAME=VALUE lines)"].Action()
	if got := f.app.Clipboard().Content(); !strings.Contains(got, "REQUEST_METHOD=GET\n") {
		t.Errorf("Copy params put %q on the clipboard", got)
	}

	// The view toggles show and hide the panels, and are remembered.
	presets := items["View/Presets"]
	if presets.Checked || f.wb.PresetsShown() {
		t.Error("the presets are shown at first launch")
	}
	presets.Action()
	if !presets.Checked || !f.wb.lists.Leading.Visible() || !f.wb.Sidebar().Visible() {
		t.Error("View/Presets did not show the presets")
	}
	if !f.app.Preferences().Bool(PrefViewPresets) {
		t.Error("the presets toggle is not remembered")
	}
	presets.Action()
	if presets.Checked || f.wb.Sidebar().Visible() {
		t.Error("View/Presets did not hide the sidebar")
	}
	items["View/History"].Action()
	if !f.wb.lists.Trailing.Visible() || f.wb.lists.Leading.Visible() || !f.wb.Sidebar().Visible() {
		t.Error("View/History did not show the history alone")
	}
	test.Tap(f.wb.presetsBtn)
	if !f.wb.PresetsShown() {
		t.Error("the activity bar's presets button did not show the presets")
	}

	// Quit with unsaved changes asks; Cancel keeps the window.
	f.setURL(t, "/echo?unsaved")
	f.q.settle()
	items["File/Quit"].Action()
	g := f.wb.Presets.guardDlg
	if g == nil {
		t.Fatal("Quit with unsaved changes did not ask")
	}
	test.Tap(g.cancel)
	found := false
	for _, w := range f.app.Driver().AllWindows() {
		found = found || w == f.in.Window()
	}
	if !found {
		t.Fatal("Cancel closed the window")
	}
	// New request asks as well, and Discard resets the form.
	items["File/New request"].Action()
	test.Tap(f.wb.Presets.guardDlg.discard)
	if got := f.in.Compose().HTTP().url.Text; got != DefaultURL {
		t.Errorf("New request left URL %q", got)
	}
}

func TestShortcutsListed(t *testing.T) {
	keys := map[string]bool{}
	for _, s := range Shortcuts() {
		if keys[s[0]] {
			t.Errorf("shortcut %s listed twice", s[0])
		}
		keys[s[0]] = true
	}
	for _, want := range []string{"Ctrl+Enter", "Ctrl+S", "Ctrl+Shift+S", "Ctrl+N", "Ctrl+O", "Esc"} {
		if !keys[want] {
			t.Errorf("shortcut %s not listed (have %v)", want, keys)
		}
	}
}
