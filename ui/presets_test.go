// Tests of the presets sidebar on the real window against the demo backend: save, unsaved-change mark, the switch question, exact reload, delete with undo, unreadable files.

package ui

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
	"fcgiscope/session/preset"
)

// wbFixture is the window with its workbench, folders open.
type wbFixture struct {
	*inspFixture
	wb *Workbench
}

func newWBFixture(t *testing.T) *wbFixture {
	t.Helper()
	f := newInspFixture(t)
	wb := f.in.Workbench()
	f.q.waitFor(t, "the presets folder and the history to open", inspWait, func() bool {
		return wb.Presets.Store() != nil && wb.History.History() != nil
	})
	f.q.settle()
	return &wbFixture{inspFixture: f, wb: wb}
}

// saveAs saves the compose form as name through the Save as dialog.
func (f *wbFixture) saveAs(t *testing.T, name string) {
	t.Helper()
	p := f.wb.Presets
	p.SaveAs()
	if p.nameDlg == nil {
		t.Fatal("Save as did not ask for a name")
	}
	p.nameDlg.entry.SetText(name)
	p.nameDlg.dlg.Submit()
	f.q.waitFor(t, "the preset "+name+" to be saved", inspWait, func() bool {
		return p.Current() == name && !p.Dirty() && hasPreset(p, name)
	})
}

func hasPreset(p *PresetsPanel, name string) bool {
	for _, e := range p.Entries() {
		if e.FullName() == name {
			return true
		}
	}
	return false
}

// composed returns the compose form as a preset holds it.
func (f *wbFixture) composed(t *testing.T) session.Input {
	t.Helper()
	in, err := f.in.wbInput()
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func TestPresetSaveMarkSwitchReload(t *testing.T) {
	f := newWBFixture(t)
	p := f.wb.Presets
	if p.Current() != "" || p.Dirty() {
		t.Fatalf("at start: current %q dirty %v, want a clean new request", p.Current(), p.Dirty())
	}
	if !strings.HasPrefix(p.Store().Dir(), os.Getenv("XDG_CONFIG_HOME")) {
		t.Fatalf("presets folder %s is not under the test's config dir", p.Store().Dir())
	}

	// Compose something particular and save it in a group.
	f.setURL(t, "/echo?cart=add&qty=2")
	f.in.Compose().HTTP().SetMethod("POST")
	f.in.Compose().SetBody(`{"sku":"A-1","note":"quote ' and \"double\""}`)
	f.in.Compose().keep.SetChecked(true)
	f.in.Compose().reqID.SetText("7")
	f.q.settle()
	if !p.Dirty() {
		t.Fatal("editing the new request did not mark it as changed")
	}
	f.saveAs(t, "shop/cart add")
	saved := f.composed(t)
	if saved.Target != PresetDemoTarget {
		t.Errorf("the demo backend was saved as %q, want %q (its port changes every launch)", saved.Target, PresetDemoTarget)
	}
	if got := f.in.Window().Title(); !strings.Contains(got, "shop/cart add") || strings.Contains(got, "•") {
		t.Errorf("title %q, want the preset's name without the unsaved mark", got)
	}
	disk, err := p.Store().Load("shop/cart add")
	if err != nil {
		t.Fatal(err)
	}
	if !presetsEqual(disk, preset.FromInput(saved)) {
		t.Errorf("the file holds\n%+v\nwant the compose form\n%+v", disk.Input(), saved)
	}

	// A second preset from a new request.
	p.NewRequest()
	f.q.settle()
	if p.Current() != "" || f.in.Compose().HTTP().url.Text != DefaultURL {
		t.Fatalf("New request: current %q, URL %q", p.Current(), f.in.Compose().HTTP().url.Text)
	}
	f.setURL(t, "/status?code=404")
	f.saveAs(t, "login")

	// Open the first: the form is exactly as saved.
	p.OpenPreset("shop/cart add")
	f.q.waitFor(t, "the preset to open", inspWait, func() bool { return p.Current() == "shop/cart add" })
	if got := f.composed(t); !reflect.DeepEqual(normalInput(got), normalInput(saved)) {
		t.Fatalf("reopened form\n%+v\nwant\n%+v", got, saved)
	}
	if p.Dirty() {
		t.Fatal("a preset just opened is marked as changed")
	}

	// Change it: the mark appears in the tree and the title.
	f.setURL(t, "/echo?cart=remove")
	f.q.settle()
	if !p.Dirty() {
		t.Fatal("editing the preset did not mark it as changed")
	}
	if got := p.NodeText(nodePreset + "shop/cart add"); got != "• cart add" {
		t.Errorf("tree shows %q, want the unsaved mark", got)
	}
	if got := f.in.Window().Title(); !strings.Contains(got, "• shop/cart add") {
		t.Errorf("title %q, want the unsaved mark", got)
	}

	// Switching asks; Cancel keeps everything.
	p.OpenPreset("login")
	if p.guardDlg == nil {
		t.Fatal("switching with unsaved changes did not ask")
	}
	test.Tap(p.guardDlg.cancel)
	f.q.settle()
	if p.Current() != "shop/cart add" || f.in.Compose().HTTP().url.Text != "/echo?cart=remove" {
		t.Fatalf("after Cancel: current %q URL %q, want the edit kept", p.Current(), f.in.Compose().HTTP().url.Text)
	}

	// Discard switches and leaves the file alone.
	p.OpenPreset("login")
	test.Tap(p.guardDlg.discard)
	f.q.waitFor(t, "login to open", inspWait, func() bool { return p.Current() == "login" })
	if got := f.in.Compose().HTTP().url.Text; got != "/status?code=404" {
		t.Errorf("login opened with URL %q", got)
	}
	p.OpenPreset("shop/cart add")
	f.q.waitFor(t, "the preset to open again", inspWait, func() bool { return p.Current() == "shop/cart add" })
	if got := f.composed(t); !reflect.DeepEqual(normalInput(got), normalInput(saved)) {
		t.Fatalf("after Discard the preset reads\n%+v\nwant\n%+v", got, saved)
	}

	// Save from the question writes the edit, then switches.
	f.setURL(t, "/echo?cart=saved")
	f.q.settle()
	p.OpenPreset("login")
	test.Tap(p.guardDlg.save)
	f.q.waitFor(t, "save then switch", inspWait, func() bool { return p.Current() == "login" })
	disk, err = p.Store().Load("shop/cart add")
	if err != nil {
		t.Fatal(err)
	}
	if disk.HTTP == nil || disk.HTTP.URL != "/echo?cart=saved" {
		t.Errorf("Save in the question did not write the edit: %+v", disk.HTTP)
	}

	// Ctrl+S saves to the open preset without asking.
	f.setURL(t, "/status?code=401")
	f.q.settle()
	p.Save()
	f.q.waitFor(t, "Save", inspWait, func() bool { return !p.Dirty() })
	if disk, _ = p.Store().Load("login"); disk.HTTP.URL != "/status?code=401" {
		t.Errorf("Save wrote URL %q", disk.HTTP.URL)
	}
}

// normalInput drops the differences that do not matter to the wire: an
// empty body and an empty list are the same as none.
func normalInput(in session.Input) session.Input {
	if len(in.Body) == 0 {
		in.Body = nil
	}
	if len(in.Params) == 0 {
		in.Params = nil
	}
	if in.HTTP != nil {
		h := *in.HTTP
		if len(h.Headers) == 0 {
			h.Headers = nil
		}
		if len(h.Body) == 0 {
			h.Body = nil
		}
		in.HTTP = &h
	}
	return in
}

func TestPresetDeleteUndoAndUnreadableFiles(t *testing.T) {
	f := newWBFixture(t)
	p := f.wb.Presets
	f.saveAs(t, "keep")
	p.NewRequest()
	f.q.settle()
	f.setURL(t, "/stderr")
	f.saveAs(t, "tmp/gone")

	// A file that is not a preset is listed as an error and left alone.
	bad := filepath.Join(p.Store().Dir(), "broken.toml")
	if err := os.WriteFile(bad, []byte("format = 1\nmode = [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.Reload()
	f.q.waitFor(t, "the unreadable file to be listed", inspWait, func() bool { return len(p.Problems()) == 1 })
	if got := p.Problems()[0]; !strings.Contains(got, "broken.toml") {
		t.Errorf("problem %q does not name the file", got)
	}
	if ids := p.childIDs(""); !strings.Contains(strings.Join(ids, ","), nodeProblems) {
		t.Errorf("tree top %v has no unreadable-files group", ids)
	}
	if got := p.NodeText(nodeProblem + "0"); got != "broken.toml" {
		t.Errorf("unreadable file shown as %q", got)
	}
	if _, err := os.Stat(bad); err != nil {
		t.Errorf("the unreadable file was touched: %v", err)
	}

	// Search narrows the tree to matching names.
	p.search.SetText("gon")
	if ids := p.childIDs(""); len(ids) != 2 || ids[0] != nodeGroup+"tmp" {
		t.Errorf("search 'gon' shows %v, want the tmp group (and the errors)", ids)
	}
	p.search.SetText("")

	// Delete the open preset: it goes to the trash, and Undo brings it back.
	p.Delete()
	f.q.waitFor(t, "the delete", inspWait, func() bool { return !hasPreset(p, "tmp/gone") })
	if got := p.UndoText(); got != "Deleted “tmp/gone”" {
		t.Errorf("undo bar %q", got)
	}
	if p.Current() != "" {
		t.Errorf("the deleted preset is still open as %q", p.Current())
	}
	p.Undo()
	f.q.waitFor(t, "the undo", inspWait, func() bool { return hasPreset(p, "tmp/gone") })
	if p.Current() != "tmp/gone" || p.UndoText() != "" {
		t.Errorf("after Undo: current %q, undo bar %q", p.Current(), p.UndoText())
	}

	// Duplicate and rename.
	p.Duplicate()
	f.q.waitFor(t, "the duplicate", inspWait, func() bool { return hasPreset(p, "tmp/gone copy") })
	p.Rename()
	p.nameDlg.entry.SetText("tmp/back")
	p.nameDlg.dlg.Submit()
	f.q.waitFor(t, "the rename", inspWait, func() bool { return hasPreset(p, "tmp/back") && !hasPreset(p, "tmp/gone") })
	if p.Current() != "tmp/back" {
		t.Errorf("renamed preset open as %q", p.Current())
	}
}

func TestPresetFolderIsRemembered(t *testing.T) {
	f := newWBFixture(t)
	p := f.wb.Presets
	dir := filepath.Join(t.TempDir(), "repo", "presets")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := preset.WriteFile(filepath.Join(dir, "shared.toml"), preset.FromInput(newRequestInput())); err != nil {
		t.Fatal(err)
	}
	p.OpenFolder(dir)
	f.q.waitFor(t, "the folder to open", inspWait, func() bool { return p.Store() != nil && p.Store().Dir() == dir && hasPreset(p, "shared") })
	if got := f.app.Preferences().String(PrefPresetDir); got != dir {
		t.Errorf("remembered folder %q, want %q", got, dir)
	}
}

func TestPresetKeepsFieldsTheFormDoesNotShow(t *testing.T) {
	f := newWBFixture(t)
	p := f.wb.Presets
	in := newRequestInput()
	in.Target = PresetDemoTarget
	h := *in.HTTP
	h.ServerName, h.ServerPort, h.HTTPS, h.RemoteAddr = "shop.example", 8443, true, "203.0.113.9"
	in.HTTP = &h
	in.Role, in.KeepConn = 1, true
	if err := p.Store().Save(preset.FromInput(in), "tls"); err != nil {
		t.Fatal(err)
	}
	p.Reload()
	f.q.waitFor(t, "the preset to be listed", inspWait, func() bool { return hasPreset(p, "tls") })
	p.OpenPreset("tls")
	f.q.waitFor(t, "the preset to open", inspWait, func() bool { return p.Current() == "tls" })
	if p.Dirty() {
		got := f.composed(t)
		t.Fatalf("opened preset marked as changed; form reads %+v", *got.HTTP)
	}
	x := f.send(t)
	for name, want := range map[string]string{"SERVER_NAME": "shop.example", "SERVER_PORT": "8443", "HTTPS": "on", "REMOTE_ADDR": "203.0.113.9"} {
		if got, _ := x.Params().Get(name); got != want {
			t.Errorf("sent %s=%q, want %q", name, got, want)
		}
	}
}
