// Tests of the stderr pane: line counting and its badge.

package ui

import (
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestCountLines(t *testing.T) {
	for in, want := range map[string]int{"": 0, "a": 1, "a\n": 1, "a\nb": 2, "a\nb\n": 2, "\n\n": 2} {
		if got := countLines([]byte(in)); got != want {
			t.Errorf("countLines(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestStderrPanelBadge(t *testing.T) {
	test.NewTempApp(t)
	p := newStderrPanel()
	if p.Title() != "Stderr" {
		t.Errorf("empty title = %q", p.Title())
	}
	p.Update([]byte("one\n"))
	if p.Title() != "Stderr (1 line)" {
		t.Errorf("title = %q", p.Title())
	}
	p.Update([]byte("one\ntwo\nthree, still arriving"))
	if p.Title() != "Stderr (3 lines)" || p.Text() != "one\ntwo\nthree, still arriving" {
		t.Errorf("title %q text %q", p.Title(), p.Text())
	}
	p.Reset()
	if p.Title() != "Stderr" || p.Text() != "" {
		t.Errorf("after reset: %q %q", p.Title(), p.Text())
	}
}
