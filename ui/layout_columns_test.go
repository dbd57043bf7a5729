package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
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
