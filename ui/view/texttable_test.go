package view_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/view"
)

func newPreview(t *testing.T) (*view.TextTable, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	tbl := view.NewTextTable("Nothing to preview yet",
		view.TextColumn{Title: "Name", Width: 150, Mono: true},
		view.TextColumn{Title: "Value", Mono: true},
		view.TextColumn{Title: "Origin", Width: 60, Muted: true})
	w := test.NewTempWindow(t, tbl)
	w.Resize(fyne.NewSize(420, 260))
	return tbl, w
}

var previewRows = [][]string{
	{"QUERY_STRING", "hello=world", "cgi"},
	{"SCRIPT_FILENAME", "/var/www/html/echo.php/a/very/long/path/that/is/cut", "router"},
	{"HTTP_COOKIE", "theme=dark; lang=en", "header"},
}

func TestTextTableRows(t *testing.T) {
	tbl, w := newPreview(t)
	test.AssertRendersToMarkup(t, "texttable/empty.xml", w.Canvas())
	tbl.SetRows(previewRows)
	test.AssertRendersToMarkup(t, "texttable/rows.xml", w.Canvas())

	// A selected row is shown whole under the table.
	selected := -1
	tbl.OnSelected = func(i int) { selected = i }
	tbl.Select(1)
	if selected != 1 || !strings.Contains(tbl.Detail(), "/a/very/long/path/that/is/cut") {
		t.Errorf("selected %d, detail %q", selected, tbl.Detail())
	}
	// New rows clear the selection.
	tbl.SetRows(previewRows[:1])
	if tbl.Detail() != "" {
		t.Errorf("detail %q after new rows", tbl.Detail())
	}
	// The long value is cut, its whole text in reach.
	tbl.SetRows(previewRows)
	var cell *view.TextLine
	for _, o := range test.LaidOutObjects(tbl) {
		if l, ok := o.(*view.TextLine); ok && l.Visible() && l.Text == previewRows[1][1] {
			cell = l
		}
	}
	if cell == nil || !cell.Cut() {
		t.Fatalf("the long value's cell %v is not cut", cell)
	}
}

func TestTextTableColumnsDrag(t *testing.T) {
	tbl, w := newPreview(t)
	tbl.SetRows(previewRows)
	name, value := tbl.ColumnWidth(0), tbl.ColumnWidth(1)
	// The border between Name and Value is in the gap after Name.
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(tbl).AddXY(name+2, 10)
	test.Drag(w.Canvas(), pos, 40, 0)
	if got := tbl.ColumnWidth(0); got != name+40 {
		t.Errorf("after dragging the border 40 to the right Name is %v wide, want %v", got, name+40)
	}
	if got := tbl.ColumnWidth(1); got != value-40 {
		t.Errorf("the flexible Value column is %v wide, want %v", got, value-40)
	}
	// The border after the flexible column changes the fixed one after it.
	origin := tbl.ColumnWidth(2)
	pos = fyne.CurrentApp().Driver().AbsolutePositionForObject(tbl).AddXY(tbl.ColumnWidth(0)+tbl.ColumnWidth(1)+3*4+2, 10)
	test.Drag(w.Canvas(), pos, -20, 0)
	if got := tbl.ColumnWidth(2); got != origin+20 {
		t.Errorf("after dragging the last border 20 to the left Origin is %v wide, want %v", got, origin+20)
	}
	// Never narrower than a few letters.
	tbl.SetColumnWidth(0, 1)
	if got := tbl.ColumnWidth(0); got < 40 {
		t.Errorf("Name can be made %v wide", got)
	}
}

func TestCappedScroll(t *testing.T) {
	test.NewTempApp(t)
	box := container.NewVBox(widget.NewLabel("one line"))
	capped := view.NewCappedScroll(box, 100)
	w := test.NewTempWindow(t, container.NewBorder(nil, capped, nil, nil, widget.NewLabel("above")))
	w.Resize(fyne.NewSize(300, 400))
	one := capped.MinSize().Height
	if one < 30 || one > 50 {
		t.Errorf("one line: %v high", one)
	}
	for range 10 {
		box.Add(widget.NewLabel("another line"))
	}
	if got := capped.MinSize().Height; got != 100 {
		t.Errorf("eleven lines: %v high, want the cap 100", got)
	}
	box.Hide()
	if got := capped.MinSize().Height; got != 0 {
		t.Errorf("hidden content: %v high", got)
	}
}

func TestSelectOpensOnlyOnAWindow(t *testing.T) {
	test.NewTempApp(t)
	chosen := ""
	s := view.NewSelect([]string{"GET", "POST"}, func(v string) { chosen = v })
	// Off any window, as a select its panel has just dropped: no pop-up,
	// no crash (Fyne issue 5965).
	test.Tap(s)
	s.TypedKey(&fyne.KeyEvent{Name: fyne.KeySpace})

	w := test.NewTempWindow(t, s)
	test.Tap(s)
	if w.Canvas().Overlays().Top() == nil {
		t.Fatal("tapped on a window, the select opened no list")
	}
	w.Canvas().Overlays().Top().Hide()
	s.TypedKey(&fyne.KeyEvent{Name: fyne.KeyRight})
	if chosen != "GET" {
		t.Errorf("Right chose %q", chosen)
	}

	e := widget.NewSelectEntry(nil)
	e.SetOptions([]string{"127.0.0.1:9000"}) // makes the drop-down button
	view.GuardDropDown(e, e)
	drop := e.ActionItem.(*widget.Button)
	test.Tap(drop) // off any window
	w2 := test.NewTempWindow(t, e)
	test.Tap(drop)
	if w2.Canvas().Overlays().Top() == nil {
		t.Error("on a window, the entry's drop-down opened no list")
	}
}
