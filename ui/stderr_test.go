// Tests of the stderr pane: the count of the stream's lines, soft wrapping that does not change it, the cap on what is laid out.

package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
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

// TestStderrPanelSoftWraps: a long line wraps at word boundaries to the
// pane's width, and still counts as one line; narrower, it takes more rows
// and the count stays.
func TestStderrPanelSoftWraps(t *testing.T) {
	test.NewTempApp(t)
	p := newStderrPanel()
	w := test.NewWindow(p.Content())
	defer w.Close()
	w.Resize(fyne.NewSize(700, 300))
	long := "PHP Fatal error:  Uncaught Exception: " + strings.Repeat("the message goes on ", 20) + "in /srv/www/index.php:12"
	p.Update([]byte("PHP Notice:  a short one\n" + long + "\n"))
	if p.Title() != "Stderr (2 lines)" {
		t.Errorf("title %q, want 2 lines", p.Title())
	}
	log := p.Log()
	wide := log.Rows()
	if wide < 4 {
		t.Fatalf("a %d-character line takes %d rows in 700 px", len(long), wide)
	}
	var joined []string
	for i := 1; i < wide; i++ {
		row := log.RowText(i)
		if strings.HasPrefix(row, "he ") || strings.HasSuffix(row, " th") {
			t.Errorf("row %d is cut inside a word: %q", i, row)
		}
		joined = append(joined, row)
	}
	if got := strings.Join(joined, " "); got != long {
		t.Errorf("the rows of the long line do not make it up:\n%q\n%q", got, long)
	}
	w.Resize(fyne.NewSize(400, 300))
	if narrow := log.Rows(); narrow <= wide || p.Title() != "Stderr (2 lines)" {
		t.Errorf("narrower: %d rows (was %d), title %q", narrow, wide, p.Title())
	}
	// The end is in sight as stderr grows.
	var more strings.Builder
	for i := range 200 {
		fmt.Fprintf(&more, "line %d\n", i)
	}
	p.Update([]byte("PHP Notice:  a short one\n" + long + "\n" + more.String()))
	if p.Title() != "Stderr (202 lines)" || log.RowText(log.Rows()-1) != "line 199" || log.TopRow() == 0 {
		t.Errorf("after 200 more lines: %q, last row %q, top %d", p.Title(), log.RowText(log.Rows()-1), log.TopRow())
	}
}
