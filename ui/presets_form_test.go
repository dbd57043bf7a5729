// Tests that a preset holds exactly what the form shows: every field through the file and back, a click on the open preset loading it, a save that says so.

package ui

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
)

// formState is what the compose form and the target show, field by field,
// read from the widgets.
type formState struct {
	Target, Mode, Role, KeepConn, RequestID, DataFile string
	Method, URL, DocumentRoot, Index, SplitPath       string
	Headers, Params                                   []session.RawParam
	Body, BodyFrom, ContentType                       string
}

// readForm reads what the window's form shows.
func readForm(in *Inspector) formState {
	c := in.Compose()
	h := c.HTTP()
	return formState{
		Target: in.Target().Address(), Mode: c.Mode(), Role: c.role.Selected, KeepConn: fmt.Sprint(c.keep.Checked),
		RequestID: c.reqID.Text, DataFile: c.dataFile.Text,
		Method: h.method.Selected, URL: h.url.Text, DocumentRoot: h.docRoot.Text, Index: h.index.Text, SplitPath: h.split.Text,
		Headers: h.headers.Items(), Params: c.raw.Items(),
		Body: c.body.Text, BodyFrom: c.bodyName, ContentType: c.ctype.Text,
	}
}

// fillForm types a request into every field of the form, none of them
// at its default.
func fillForm(t *testing.T, in *Inspector, mode string) {
	t.Helper()
	c := in.Compose()
	h := c.HTTP()
	in.Target().SetAddress("127.0.0.1:9000")
	c.role.SetSelected(RoleFilter)
	test.Tap(c.keep)
	for e, s := range map[*hookEntry]string{c.reqID: "7", c.dataFile: "/srv/data.txt", h.url: "/cart.php/add?qty=2",
		h.docRoot: "/srv/shop", h.index: "main.php", h.split: `^(.+?\.php)(/.*)$`, c.ctype: "application/x-www-form-urlencoded"} {
		e.SetText("")
		test.Type(e, s)
	}
	h.method.SetSelected("POST")
	h.headers.SetItems([]session.RawParam{{Name: "Accept", Value: "text/html", Enabled: true},
		{Name: "X-Dup", Value: "1", Enabled: true}, {Name: "X-Dup", Value: "2", Enabled: true}, {Name: "X-Empty", Enabled: true}})
	c.raw.SetItems([]session.RawParam{{Name: "A", Value: "1", Enabled: true}, {Name: "B", Value: "off", Enabled: false}})
	c.SetBody("")
	test.Type(c.body, "sku=A-1&note=quote+'")
	c.SetMode(mode)
}

// TestPresetRoundTripsTheForm: form → preset → file → preset → form shows
// every field as it was, in both modes, the Content type field included
// (it came back as an extra Content-Type header, the field empty); Revert
// to saved and a click on the open preset load the file again.
func TestPresetRoundTripsTheForm(t *testing.T) {
	for _, mode := range []string{session.ModeHTTP, session.ModeRaw} {
		t.Run(mode, func(t *testing.T) {
			f := newWBFixture(t)
			p := f.wb.Presets
			fillForm(t, f.in, mode)
			f.q.settle()
			want := readForm(f.in)
			f.saveAs(t, "round/trip")

			file, err := os.ReadFile(p.Store().Path("round/trip"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(file), `content_type = "application/x-www-form-urlencoded"`) || strings.Contains(string(file), "Content-Type") {
				t.Errorf("the file does not keep the Content type field apart from the headers:\n%s", file)
			}

			// Change every field, then Revert to saved.
			changeForm(t, f)
			p.Revert()
			f.q.waitFor(t, "the preset to load again", inspWait, func() bool { return !p.Dirty() })
			if got := readForm(f.in); !reflect.DeepEqual(got, want) {
				t.Errorf("after Revert to saved the form shows\n%+v\nwant\n%+v", got, want)
			}

			// A click on the open preset, the form changed: asked, then loaded.
			f.wb.ShowPresets(true)
			f.q.settle()
			changeForm(t, f)
			node := p.node(nodePreset + "round/trip")
			if node == nil || p.selected != nodePreset+"round/trip" {
				t.Fatalf("the open preset has no row, or is not selected (%q)", p.selected)
			}
			test.Tap(node)
			if p.guardDlg == nil {
				t.Fatal("a click on the open preset with unsaved changes did not ask")
			}
			test.Tap(p.guardDlg.discard)
			f.q.waitFor(t, "the click to load the preset", inspWait, func() bool { return !p.Dirty() })
			if got := readForm(f.in); !reflect.DeepEqual(got, want) {
				t.Errorf("after a click on the preset the form shows\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// changeForm changes every field of the form (the preset is then dirty).
func changeForm(t *testing.T, f *wbFixture) {
	t.Helper()
	c := f.in.Compose()
	h := c.HTTP()
	f.in.Target().SetAddress("127.0.0.1:9001")
	c.role.SetSelected(RoleResponder)
	c.keep.SetChecked(false)
	for _, e := range []*hookEntry{c.reqID, c.dataFile, h.url, h.docRoot, h.index, h.split, c.ctype} {
		e.SetText("")
	}
	h.method.SetSelected("GET")
	h.headers.SetItems(nil)
	c.raw.SetItems(nil)
	c.SetBody("changed")
	c.SetMode(session.ModeHTTP)
	f.q.settle()
	if !f.wb.Presets.Dirty() {
		t.Fatal("changing every field did not mark the preset as changed")
	}
}

// TestPresetClickLoadsFile: a click on the open, unchanged preset loads
// it from its file again (here changed on disk behind the window's back).
func TestPresetClickLoadsFile(t *testing.T) {
	f := newWBFixture(t)
	p := f.wb.Presets
	f.setURL(t, "/echo?v=1")
	f.saveAs(t, "click")
	f.wb.ShowPresets(true)
	f.q.settle()
	pr, err := p.Store().Load("click")
	if err != nil {
		t.Fatal(err)
	}
	pr.HTTP.URL = "/echo?v=2"
	if err := p.Store().Save(pr, "click"); err != nil {
		t.Fatal(err)
	}
	node := p.node(nodePreset + "click")
	if node == nil {
		t.Fatal("the preset has no row")
	}
	test.Tap(node)
	if p.guardDlg != nil {
		t.Fatal("a click on an unchanged preset asked about unsaved changes")
	}
	f.q.waitFor(t, "the click to load the file", inspWait, func() bool { return f.in.Compose().HTTP().url.Text == "/echo?v=2" })
	if p.Dirty() || p.Current() != "click" {
		t.Errorf("after the click: current %q, dirty %v", p.Current(), p.Dirty())
	}
}

// TestPresetSaveSaysSo: Ctrl+S on a changed preset says it saved, on the
// status line (the sidebar may be closed) and under the tree, and the
// unsaved marks go from the tree and the title.
func TestPresetSaveSaysSo(t *testing.T) {
	f := newWBFixture(t)
	p := f.wb.Presets
	f.saveAs(t, "said")
	f.setURL(t, "/echo?said=1")
	f.q.settle()
	if !p.Dirty() || p.NodeText(nodePreset+"said") != "• said" {
		t.Fatalf("an edit is not marked: dirty %v, tree %q", p.Dirty(), p.NodeText(nodePreset+"said"))
	}
	menuAction(t, f.wb, shortcutSave)() // Ctrl+S
	f.q.waitFor(t, "the save", inspWait, func() bool { return !p.Dirty() })
	if got := f.in.State(); !strings.HasPrefix(got, "Saved “said” at ") || !strings.Contains(got, "said.toml") {
		t.Errorf("status line %q does not say the preset was saved", got)
	}
	if !p.detail.Visible() || !strings.HasPrefix(p.detail.Text, "Saved “said”") {
		t.Errorf("under the tree: %q (shown %v)", p.detail.Text, p.detail.Visible())
	}
	if got := p.NodeText(nodePreset + "said"); got != "said" {
		t.Errorf("tree shows %q after the save", got)
	}
	if got := f.in.Window().Title(); strings.Contains(got, "•") {
		t.Errorf("title %q after the save", got)
	}
}

// menuAction returns the action of the main menu's item with shortcut sc.
func menuAction(t *testing.T, w *Workbench, sc fyne.Shortcut) func() {
	t.Helper()
	for _, m := range w.Menu().Items {
		for _, it := range m.Items {
			if it.Shortcut != nil && it.Shortcut.ShortcutName() == sc.ShortcutName() {
				return it.Action
			}
		}
	}
	t.Fatalf("no menu item for %s", sc.ShortcutName())
	return nil
}

// TestRawRequestKeepsAnHTTPForm: a request with no HTTP fields (a raw
// lesson, an import) leaves the HTTP form as a new request has it, so
// that switching to HTTP mode shows a request that can be sent, not blank
// fields.
func TestRawRequestKeepsAnHTTPForm(t *testing.T) {
	f := newInspFixture(t)
	f.in.wbSetInput(session.Input{Mode: session.ModeRaw, Params: []session.RawParam{{Name: "A", Value: "1", Enabled: true}}})
	f.q.settle()
	h := f.in.Compose().HTTP()
	if f.in.Compose().Mode() != session.ModeRaw || h.url.Text != DefaultURL || h.docRoot.Text != session.DefaultDocumentRoot || h.method.Selected != "GET" {
		t.Errorf("after a raw request: mode %q, HTTP form %q %q %q", f.in.Compose().Mode(), h.method.Selected, h.url.Text, h.docRoot.Text)
	}
}
