// Tests of Help > About: the build's description and its Copy button.

package ui

import (
	"runtime"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/buildinfo"
)

func TestAboutShowsTheBuildAndCopiesIt(t *testing.T) {
	f := newWBFixture(t)
	c := f.in.Window().Canvas()
	f.wb.ShowAbout()
	f.q.settle()
	top := c.Overlays().Top()
	if top == nil {
		t.Fatal("About opened no dialog")
	}
	texts := labelTexts(top)
	// The test app has no metadata: no version, and a test binary records
	// neither its commit nor its modules, so the rows say so; Go is this
	// test binary's.
	want := buildinfo.Read("", 0)
	if want.Go != runtime.Version() {
		t.Fatalf("the test binary's build: %+v", want)
	}
	for _, field := range want.Fields() {
		i := slices.Index(texts, field[0])
		if i < 0 || i+1 >= len(texts) || texts[i+1] != field[1] {
			t.Errorf("no %q row showing %q in %q", field[0], field[1], texts)
		}
	}
	if !slices.ContainsFunc(texts, func(s string) bool { return strings.HasPrefix(s, "Presets: ") }) {
		t.Errorf("no presets folder in %q", texts)
	}

	var copyBtn *widget.Button
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Copy" {
			copyBtn = b
		}
	}
	if copyBtn == nil {
		t.Fatal("no Copy button")
	}
	test.Tap(copyBtn)
	got := f.app.Clipboard().Content()
	for _, line := range []string{"fcgiscope\n" + want.String(), "Go:       " + runtime.Version() + "\n",
		"Presets:  " + f.wb.Presets.Store().Dir() + "\n"} {
		if !strings.Contains(got, line) {
			t.Errorf("the clipboard has no %q:\n%s", line, got)
		}
	}
	if copyBtn.Text != "Copied" {
		t.Errorf("the button says %q after copying", copyBtn.Text)
	}
}
