package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"fcgiscope/fcgi/demo"
)

// TestRecordTypesAndEndWholeOnLaptops: in the window as it opens on a
// 1280×720, 1366×768 and 1920×1080 screen, without dragging a split, the
// records list shows every record type of an exchange whole (at 1280×720
// it showed "BEGIN_REQU…": the number, id and time columns kept room for
// 100,000 records, request 65535 and 9999 ms) and the response pane shows
// END_REQUEST's statuses whole.
func TestRecordTypesAndEndWholeOnLaptops(t *testing.T) {
	f := newInspFixture(t)
	win := f.in.Window()
	f.setURL(t, "/stderr?lines=2")
	x := f.send(t)
	list := f.in.results.List()
	list.SetFolded(false)
	for _, screen := range []fyne.Size{{Width: 1280, Height: 720}, {Width: 1366, Height: 768}, {Width: 1920, Height: 1080}} {
		t.Run(fmt.Sprintf("%.0fx%.0f", screen.Width, screen.Height), func(t *testing.T) {
			size := fitWindow(fyne.NewSize(defaultWindowWidth, defaultWindowHeight), screen).SubtractWidthHeight(0, menuHeight)
			win.Resize(size.SubtractWidthHeight(10, 10))
			f.q.settle()
			win.Resize(size)
			f.q.settle()
			if list.Rows() != len(x.Records()) {
				t.Fatalf("%d rows for %d records", list.Rows(), len(x.Records()))
			}
			for j := range list.Rows() {
				cells := list.ShownCells(j)
				if cells == nil {
					t.Fatalf("row %d: not laid out", j)
				}
				want := x.Records()[j].Type.String()
				if cells[2] != want {
					t.Errorf("row %d shows type %q, want %q whole (cells %q)", j, cells[2], want, cells)
				}
				for c, s := range cells {
					if c != 2 && strings.HasSuffix(s, "…") {
						t.Errorf("row %d column %d cut: %q", j, c, s)
					}
				}
			}
			end := f.in.Response().end
			if !strings.Contains(end.Text, "REQUEST_COMPLETE") || end.Cut() {
				t.Errorf("END_REQUEST line %q, cut %v (%.0f wide, text %.0f)", end.Text, end.Cut(), end.Size().Width, end.TextWidth())
			}
		})
	}
}

// TestRecordsListRowsWithAnomaliesAndStepThrough: at 1366×768, with the
// anomalies of an exchange and Step through both open, the records list
// shows 5 rows (it showed 3: the strip's title row and the unfolded
// anomalies took them); the anomalies fold under their title line while
// the strip is shown, unfold when it closes, and the toggle still unfolds
// them.
func TestRecordsListRowsWithAnomaliesAndStepThrough(t *testing.T) {
	f := newInspFixture(t)
	win := f.in.Window()
	size, layOut := laptopWindow(f)
	list := f.in.results.List()
	rows := func() int { return int(list.Size().Height/list.RowHeight()) - 1 } // less the header
	win.Resize(size)
	f.setURL(t, demo.MisbehavePrefix+"unknown-type")
	f.send(t)
	an := f.in.teach.Anomalies
	f.q.waitFor(t, "the anomalies", inspWait, func() bool { return len(an.Anomalies()) > 0 })
	layOut()
	if !an.Expanded() {
		t.Fatal("a departure from the spec does not unfold the anomalies")
	}
	f.in.teach.ShowPlayback(true)
	layOut()
	if got := rows(); got < 5 {
		t.Errorf("with the anomalies and Step through the records list shows %d rows, want 5", got)
	}
	if an.Expanded() || !an.Content().Visible() {
		t.Errorf("with Step through the anomalies are unfolded %v, shown %v: want their title line only", an.Expanded(), an.Content().Visible())
	}
	room := size.Subtract(fyne.NewSquareSize(2 * theme.Padding()))
	if min := f.in.panes.MinSize(); min.Height > room.Height {
		t.Errorf("the panes need %v, more than the window's %v", min, room)
	}
	// A new exchange with anomalies keeps them folded while stepping.
	f.send(t)
	f.q.waitFor(t, "the anomalies again", inspWait, func() bool { return len(an.Anomalies()) > 0 })
	if an.Expanded() {
		t.Error("a new exchange unfolded the anomalies under the strip")
	}
	test.Tap(an.toggle)
	if !an.Expanded() {
		t.Error("the toggle does not unfold the anomalies while stepping")
	}
	test.Tap(an.toggle)
	f.in.teach.ShowPlayback(false)
	layOut()
	if !an.Expanded() {
		t.Error("Step through closed, the anomalies stay folded")
	}
}
