// Test that Show more on a big body changes what the Text view shows, in sight.

package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestShowMoreShowsIt: after Show more the Text view holds one page more
// and has moved to it: the first line is scrolled away and the last line
// laid out is in sight, where before the click the view did not move.
func TestShowMoreShowsIt(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/large?bytes=3000000")
	f.send(t)
	r := f.in.Response()
	r.SelectView(ViewText)
	f.q.settle()
	v := r.views[ViewText]
	shown, total := v.Shown()
	if total != 3000000 || shown >= total || v.bar.Hidden {
		t.Fatalf("the Text view shows %d of %d bytes, bar hidden %v: want the first page and Show more", shown, total, v.bar.Hidden)
	}
	if y := v.grid.PositionForCursorLocation(0, 0).Y; y != 0 {
		t.Fatalf("before Show more the first line is at %v, want the top", y)
	}
	before := v.more.Text
	test.Tap(v.moreBtn)
	more, _ := v.Shown()
	last := len(v.grid.Rows) - 1
	y := v.grid.PositionForCursorLocation(last, 0).Y
	if more <= shown || v.more.Text == before || !strings.Contains(v.more.Text, "of 2.9 MiB") {
		t.Errorf("Show more: %d → %d bytes, bar %q → %q", shown, more, before, v.more.Text)
	}
	if top := v.grid.PositionForCursorLocation(0, 0).Y; top >= 0 || y < 0 || y >= v.grid.Size().Height {
		t.Errorf("after Show more the first line is at %v and the last (%d) at %v in a view %v high: want the new text in sight",
			top, last, y, v.grid.Size().Height)
	}
}
