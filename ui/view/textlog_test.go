// Tests of the TextLog: soft wrapping at word boundaries, the true count of lines, wrapping again on resize, following the end, long texts.

package view_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/ui/view"
)

func TestWrapAtWordBoundaries(t *testing.T) {
	for _, tc := range []struct {
		text string
		cols int
		want []string // rows as drawn; "¶" begins a line of the text
	}{
		{"", 10, []string{"¶"}},
		{"short", 10, []string{"¶short"}},
		{"exactly 10", 10, []string{"¶exactly 10"}},
		{"the quick brown fox", 10, []string{"¶the quick", "brown fox"}},
		{"the quick brown fox jumps", 9, []string{"¶the quick", "brown fox", "jumps"}},
		{"averyveryverylongword and more", 8, []string{"¶averyver", "yverylon", "gword", "and more"}},
		{"one\ntwo three four\n\nfive", 9, []string{"¶one", "¶two three", "four", "¶", "¶five"}},
		{"tab\there x", 10, []string{"¶tab", "here x"}},
		{"tab\tx", 10, []string{"¶tab     x"}},
		{"a\x00b\x1bc", 10, []string{"¶a·b·c"}},
		{"héllo wörld ünïcode", 11, []string{"¶héllo wörld", "ünïcode"}},
		{"no wrap at all, however long", 0, []string{"¶no wrap at all, however long"}},
	} {
		if got := view.Wrap(tc.text, tc.cols); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrap(%q, %d) = %q, want %q", tc.text, tc.cols, got, tc.want)
		}
	}
}

// logWindow shows a TextLog in a test window of the given size.
func logWindow(t *testing.T, w, h float32) (*view.TextLog, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	l := view.NewTextLog()
	win := test.NewWindow(l)
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(w, h))
	return l, win
}

func TestTextLogWrapsToItsWidth(t *testing.T) {
	l, w := logWindow(t, 400, 200)
	line := strings.Repeat("word ", 60) // 300 columns of words
	l.SetText("first\n" + line + "\nlast")
	test.AssertRendersToMarkup(t, "textlog/wrapped.xml", w.Canvas())

	if l.Lines() != 3 {
		t.Errorf("Lines = %d, want 3: wrapping is no line", l.Lines())
	}
	narrow := l.Rows()
	if narrow < 6 {
		t.Fatalf("%d rows for a 300-column line in 400 px", narrow)
	}
	for i := range narrow {
		row := l.RowText(i)
		if strings.HasPrefix(row, "ord") || strings.HasSuffix(row, " wor") {
			t.Errorf("row %d is cut inside a word: %q", i, row)
		}
	}
	// Wider, the same text takes fewer rows; its lines stay three.
	w.Resize(fyne.NewSize(800, 200))
	if wide := l.Rows(); wide >= narrow || l.Lines() != 3 {
		t.Errorf("800 px wide: %d rows (was %d at 400), %d lines", wide, narrow, l.Lines())
	}
	if got := strings.Join([]string{l.RowText(0), l.RowText(l.Rows() - 1)}, "|"); got != "first|last" {
		t.Errorf("first and last rows %q", got)
	}
}

func TestTextLogFollowsTheEnd(t *testing.T) {
	l, _ := logWindow(t, 400, 200)
	var b strings.Builder
	for i := range 100 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	l.SetText(strings.TrimSuffix(b.String(), "\n"))
	l.ScrollToBottom()
	if l.TopRow() == 0 || l.RowText(l.Rows()-1) != "line 99" {
		t.Fatalf("at the bottom: top row %d", l.TopRow())
	}
	// More text: still at the end.
	l.SetText(b.String() + "line 100")
	if top := l.TopRow(); top != l.Rows()-(l.Rows()-top) || l.RowText(l.Rows()-1) != "line 100" {
		t.Errorf("after more text: top %d of %d rows", top, l.Rows())
	}
	l.ScrollToTop()
	if l.TopRow() != 0 {
		t.Errorf("ScrollToTop: top %d", l.TopRow())
	}
	l.SetText(b.String() + "line 100\nline 101")
	if l.TopRow() != 0 {
		t.Errorf("scrolled away from the end, more text scrolled to %d", l.TopRow())
	}
	if l.MinSize().Height > 100 || l.MinSize().Width > 200 {
		t.Errorf("MinSize %v", l.MinSize())
	}
}

func TestTextLogLongText(t *testing.T) {
	l, w := logWindow(t, 600, 300)
	text := strings.Repeat("PHP Warning:  Undefined variable $x in /srv/www/index.php on line 12\n", 4000) // 280 KB
	start := time.Now()
	l.SetText(text)
	l.ScrollToBottom()
	took := time.Since(start)
	t.Logf("%d KiB wrapped into %d rows in %v", len(text)>>10, l.Rows(), took)
	if l.Lines() != 4001 {
		t.Errorf("Lines = %d", l.Lines())
	}
	if got := countObjects(w.Canvas().Content()); got > 200 {
		t.Errorf("%d objects for %d rows: only the rows on screen are laid out", got, l.Rows())
	}
}
