package view_test

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
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

// walkDrawn calls f with each visible object drawn in c, in drawing
// order (an object before the objects drawn over it), and where it is.
func walkDrawn(c fyne.Canvas, f func(o fyne.CanvasObject, at fyne.Position)) {
	var walk func(o fyne.CanvasObject, origin fyne.Position)
	walk = func(o fyne.CanvasObject, origin fyne.Position) {
		if o == nil || !o.Visible() {
			return
		}
		p := origin.Add(o.Position())
		f(o, p)
		switch w := o.(type) {
		case fyne.Widget:
			for _, child := range test.WidgetRenderer(w).Objects() {
				walk(child, p)
			}
		case *fyne.Container:
			for _, child := range w.Objects {
				walk(child, p)
			}
		}
	}
	walk(c.Content(), fyne.Position{})
}

// clickAt clicks pos on c as the desktop driver does: the click goes to
// the object drawn on top at pos among those that take any tap, focus or
// mouse button (fyne.Tappable alone is what test.TapCanvas looks for, and
// misses a cell that takes only the right-click). It fails when that
// object does not take the click.
func clickAt(t *testing.T, c fyne.Canvas, pos fyne.Position) {
	t.Helper()
	var hit fyne.CanvasObject
	var at fyne.Position
	walkDrawn(c, func(o fyne.CanvasObject, p fyne.Position) {
		s := o.Size()
		if pos.X < p.X || pos.Y < p.Y || pos.X >= p.X+s.Width || pos.Y >= p.Y+s.Height {
			return
		}
		switch o.(type) {
		case fyne.Tappable, fyne.SecondaryTappable, fyne.DoubleTappable, fyne.Focusable, desktop.Mouseable:
			hit, at = o, pos.Subtract(p)
		}
	})
	tap, ok := hit.(fyne.Tappable)
	if !ok {
		t.Fatalf("a click at %v lands on %T, which takes no click", pos, hit)
	}
	tap.Tapped(&fyne.PointEvent{Position: at, AbsolutePosition: pos})
}

// cellAt returns the middle of the cell of c showing text.
func cellAt(t *testing.T, c fyne.Canvas, text string) fyne.Position {
	t.Helper()
	var pos fyne.Position
	found := false
	walkDrawn(c, func(o fyne.CanvasObject, p fyne.Position) {
		if l, ok := o.(*view.TextLine); ok && l.Text == text {
			pos, found = p.AddXY(l.Size().Width/2, l.Size().Height/2), true
		}
	})
	if !found {
		t.Fatalf("no cell shows %q", text)
	}
	return pos
}

// A click on a cell selects its row, whichever cell it is, and shows the
// row whole under the table.
func TestTextTableClickSelects(t *testing.T) {
	tbl, w := newPreview(t)
	tbl.SetRows(previewRows)
	selected := -1
	tbl.OnSelected = func(i int) { selected = i }
	pos := cellAt(t, w.Canvas(), previewRows[1][1])
	clickAt(t, w.Canvas(), pos)
	if selected != 1 || !strings.Contains(tbl.Detail(), "/a/very/long/path/that/is/cut") {
		t.Errorf("a click on the second row's value at %v: selected %d, detail %q", pos, selected, tbl.Detail())
	}
	// The rows are reused as the table scrolls: a click selects the row
	// the cell shows now.
	tbl.SetRows([][]string{previewRows[2], previewRows[0], previewRows[1]})
	clickAt(t, w.Canvas(), pos)
	if selected != 1 || !strings.Contains(tbl.Detail(), "hello=world") {
		t.Errorf("after new rows the same click selected %d, detail %q", selected, tbl.Detail())
	}
}

// TestTextTableDetailWrapsAtWords: the selected row's whole text under the
// table wraps between words, not in the middle of one.
func TestTextTableDetailWrapsAtWords(t *testing.T) {
	tbl, _ := newPreview(t)
	long := "theme=dark; lang=en; session=abcdef0123456789; region=eu-west-1; consent=yes; seen=2026-12-07"
	tbl.SetRows([][]string{{"HTTP_COOKIE", long, "header"}})
	tbl.Select(0)
	var detail *widget.Label
	for _, o := range test.LaidOutObjects(tbl) {
		if l, ok := o.(*widget.Label); ok && l.Visible() && l.Text == tbl.Detail() {
			detail = l
		}
	}
	if detail == nil {
		t.Fatalf("no label shows the detail %q", tbl.Detail())
	}
	words := map[string]bool{}
	for _, w := range strings.Fields(tbl.Detail()) {
		words[w] = true
	}
	var rows []string
	for _, o := range test.LaidOutObjects(detail) {
		if c, ok := o.(*canvas.Text); ok && c.Visible() && c.Text != "" {
			rows = append(rows, c.Text)
		}
	}
	if len(rows) < 2 {
		t.Fatalf("the detail is drawn in %d rows %q: it was to wrap", len(rows), rows)
	}
	for _, r := range rows {
		for _, w := range strings.Fields(r) {
			if !words[w] {
				t.Errorf("the detail's rows %q cut the word %q", rows, w)
			}
		}
	}
}
