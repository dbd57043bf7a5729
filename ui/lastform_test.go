// Tests of the last request form: all of it comes back at the next launch, the open preset with it; a file that cannot be read leaves the defaults and says why.

package ui

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
	"fcgiscope/session/preset"
)

// relaunch opens a second window on the same app and configuration, as
// the next launch would, and returns it with the warnings it logged.
func relaunch(t *testing.T) (*inspFixture, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var warned []string
	q := newQueue()
	pool := session.NewPool(session.PoolOptions{})
	in := NewInspector(fyne.CurrentApp(), Deps{Engine: session.NewEngine(pool, session.EngineOptions{}), Do: q.Do,
		Warn: func(s string) { mu.Lock(); warned = append(warned, s); mu.Unlock() }})
	t.Cleanup(func() {
		in.Window().Close()
		q.settle()
		pool.Close()
	})
	f := &inspFixture{window: &window{in: in, app: fyne.CurrentApp()}, q: q}
	f.q.waitFor(t, "the presets folder", inspWait, func() bool { return in.Workbench().Presets.Store() != nil })
	f.q.settle()
	return f, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), warned...) }
}

// TestRelaunchRestoresTheForm: every field of the form comes back at the
// next launch (the target is chosen as before: the last one that
// answered); so does the open preset, with its unsaved changes marked.
func TestRelaunchRestoresTheForm(t *testing.T) {
	for _, mode := range []string{session.ModeHTTP, session.ModeRaw} {
		t.Run(mode, func(t *testing.T) {
			f := newWBFixture(t)
			fillForm(t, f.in, mode)
			f.saveAs(t, "kept")
			f.in.Compose().HTTP().url.SetText("/edited?after=save")
			f.q.settle()
			want := readForm(f.in)
			f.in.Window().Close()
			f.q.settle()

			g, warned := relaunch(t)
			got := readForm(g.in)
			got.Target, want.Target = "", ""
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the form at the next launch\n%+v\nwant\n%+v", got, want)
			}
			p := g.in.Workbench().Presets
			g.q.waitFor(t, "the preset to be open again", inspWait, func() bool { return p.Current() == "kept" })
			if !p.Dirty() || readForm(g.in).URL != "/edited?after=save" {
				t.Errorf("the preset open again: dirty %v, URL %q; want the edit kept and marked", p.Dirty(), readForm(g.in).URL)
			}
			if w := warned(); len(w) > 0 {
				t.Errorf("warnings %q", w)
			}
		})
	}
}

// TestRelaunchWithAnUnreadableForm: a last form file that is damaged, or
// written by a newer fcgiscope, leaves the form at its defaults, is moved
// aside rather than lost, and the log says so.
func TestRelaunchWithAnUnreadableForm(t *testing.T) {
	for name, content := range map[string]string{
		"damaged": "format = 1\nmode = [\n",
		"newer":   "format = 99\nmode = \"http\"\n",
	} {
		t.Run(name, func(t *testing.T) {
			f := newWBFixture(t)    // the test's app and configuration folder
			f.saveAs(t, "was open") // open when the form was kept
			f.in.Window().Close()
			f.q.settle()
			path, err := preset.LastFormPath()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(path, os.Getenv("XDG_CONFIG_HOME")) {
				t.Fatalf("the last form is kept at %s, outside the test's configuration", path)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			g, warned := relaunch(t)
			c := g.in.Compose()
			if c.Mode() != session.ModeHTTP || c.HTTP().url.Text != DefaultURL || c.body.Text != "" {
				t.Errorf("the form after an unreadable last form: mode %q, URL %q, body %q; want the defaults",
					c.Mode(), c.HTTP().url.Text, c.body.Text)
			}
			if p := g.in.Workbench().Presets; p.Current() != "" {
				t.Errorf("the preset %q is open again over the default form", p.Current())
			}
			w := warned()
			if len(w) != 1 || !strings.Contains(w[0], "last request form cannot be read") || !strings.Contains(w[0], path+".unreadable") {
				t.Errorf("warnings %q, want one saying the file cannot be read and where it went", w)
			}
			if kept, err := os.ReadFile(path + ".unreadable"); err != nil || string(kept) != content {
				t.Errorf("the unreadable file was not kept aside: %v", err)
			}
		})
	}
}

// TestQuitDiscardingKeepsTheSaved: changes discarded when the window
// closes do not come back at the next launch: the preset as saved does.
func TestQuitDiscardingKeepsTheSaved(t *testing.T) {
	f := newWBFixture(t)
	f.setURL(t, "/echo?saved=1")
	f.saveAs(t, "quit")
	f.setURL(t, "/echo?discarded=1")
	f.q.settle()
	p := f.wb.Presets
	f.wb.Quit()
	if p.guardDlg == nil {
		t.Fatal("quitting with unsaved changes did not ask")
	}
	test.Tap(p.guardDlg.discard)
	f.q.settle()
	g, _ := relaunch(t)
	if got := g.in.Compose().HTTP().url.Text; got != "/echo?saved=1" {
		t.Errorf("after quitting with Discard the next launch shows %q, want the saved /echo?saved=1", got)
	}
}
