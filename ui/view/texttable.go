// TextTable: a read-only, virtualized table of text rows under a header whose column borders drag; a cut cell shows its whole text on hover, and a selected row is shown whole under the table.

package view

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TextColumn is one column of a TextTable.
type TextColumn struct {
	Title string
	// Width is the column's width; 0 makes it the flexible column, which
	// takes the width the others leave. Dragging a column's border changes
	// the width of the fixed column beside it.
	Width float32
	Mono  bool // monospace text
	Muted bool // secondary text
}

// minColumnWidth bounds the width a drag leaves a column.
const minColumnWidth = 40

// TextTable shows rows of text under a header. A cell too narrow for its
// text cuts it with an ellipsis and shows it whole in a tooltip; selecting
// a row shows the whole row, wrapped and selectable, under the table (at
// most detailLines high, scrolling beyond). Only the rows on screen are
// laid out.
type TextTable struct {
	widget.BaseWidget

	// Columns are the table's columns; set them before it is shown.
	Columns []TextColumn
	// Empty is shown while the table has no rows.
	Empty string
	// OnSelected is called with the row the user selected.
	OnSelected func(row int)

	rows   [][]string
	widths []float32 // the columns' widths, 0 for the flexible one

	list   *widget.List
	shows  map[*fyne.Container]int // the row each row widget shows
	header *fyne.Container
	hint   *widget.RichText
	detail *widget.Label
	bottom *fyne.Container
}

// detailLines is how many lines of the selected row show under the table
// before it scrolls.
const detailLines = 3

// NewTextTable returns a table without rows.
func NewTextTable(empty string, cols ...TextColumn) *TextTable {
	t := &TextTable{Columns: cols, Empty: empty}
	t.ExtendBaseWidget(t)
	return t
}

// SetRows replaces the rows; the table keeps rows, which the caller must
// not modify afterwards. The selection is cleared.
func (t *TextTable) SetRows(rows [][]string) {
	t.rows = rows
	if t.list == nil {
		return
	}
	t.list.UnselectAll()
	t.bottom.Hide()
	t.hint.Hidden = len(rows) > 0
	t.hint.Refresh()
	t.list.Refresh()
	t.BaseWidget.Refresh()
}

// Rows returns the rows shown.
func (t *TextTable) Rows() [][]string { return t.rows }

// Select selects row i, showing it whole under the table.
func (t *TextTable) Select(i int) {
	t.ensure()
	t.list.Select(i)
}

// Detail returns the selected row as shown whole under the table, "" when
// none is selected.
func (t *TextTable) Detail() string {
	if t.bottom == nil || t.bottom.Hidden {
		return ""
	}
	return t.detail.Text
}

// ColumnWidth returns the width of column i (of the flexible one, what
// the others leave it).
func (t *TextTable) ColumnWidth(i int) float32 {
	t.ensure()
	return columnWidths(t.widths, t.Size().Width)[i]
}

// SetColumnWidth sets the width of fixed column i.
func (t *TextTable) SetColumnWidth(i int, w float32) {
	t.ensure()
	if i < 0 || i >= len(t.widths) || t.widths[i] == 0 {
		return
	}
	t.widths[i] = max(w, minColumnWidth)
	t.header.Refresh()
	t.list.Refresh()
}

func (t *TextTable) ensure() {
	if t.list != nil {
		return
	}
	t.widths = make([]float32, len(t.Columns))
	for i, c := range t.Columns {
		t.widths[i] = c.Width
	}
	heads := make([]fyne.CanvasObject, 0, 2*len(t.Columns))
	for i, c := range t.Columns {
		h := NewTextLine(c.Title)
		h.TextStyle = fyne.TextStyle{Bold: true}
		h.Importance = widget.LowImportance
		heads = append(heads, h)
		if i < len(t.Columns)-1 {
			border := i
			heads = append(heads, newColumnHandle(func(dx float32) { t.dragBorder(border, dx) }))
		}
	}
	t.header = container.New(&rowLayout{t: t, handles: true}, heads...)
	t.shows = map[*fyne.Container]int{}
	t.list = widget.NewList(
		func() int { return len(t.rows) },
		func() fyne.CanvasObject {
			cells := make([]fyne.CanvasObject, len(t.Columns))
			row := container.New(&rowLayout{t: t})
			for i, c := range t.Columns {
				l := NewTextLine("")
				l.TextStyle = fyne.TextStyle{Monospace: c.Mono}
				if c.Muted {
					l.Importance = widget.LowImportance
				}
				// The cell, not the list's row, gets the click: it selects
				// the row the cell shows now.
				l.OnTapped = func() {
					if id, ok := t.shows[row]; ok && id < len(t.rows) {
						t.list.Select(id)
					}
				}
				cells[i] = l
			}
			row.Objects = cells
			return row
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(t.rows) {
				return
			}
			t.shows[o.(*fyne.Container)] = id
			row := t.rows[id]
			for i, c := range o.(*fyne.Container).Objects {
				text := ""
				if i < len(row) {
					text = row[i]
				}
				c.(*TextLine).SetText(text)
			}
		})
	t.list.OnSelected = func(id widget.ListItemID) {
		if id >= len(t.rows) {
			return
		}
		t.detail.SetText(strings.Join(t.rows[id], "  ·  "))
		t.bottom.Show()
		t.list.ScrollTo(id) // the detail takes room from the rows: keep the selected one in view
		if t.OnSelected != nil {
			t.OnSelected(id)
		}
	}
	t.hint = mutedText(t.Empty, fyne.TextStyle{}, fyne.TextAlignCenter)
	t.hint.Wrapping = fyne.TextWrapWord
	t.hint.Hidden = len(t.rows) > 0
	t.detail = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapWord, Selectable: true}
	lineHeight := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height
	t.bottom = container.NewBorder(widget.NewSeparator(), nil, nil, nil,
		NewCappedScroll(t.detail, detailLines*lineHeight+2*theme.InnerPadding()))
	t.bottom.Hide()
}

// CreateRenderer lays out the header, the rows and the selected row.
func (t *TextTable) CreateRenderer() fyne.WidgetRenderer {
	t.ensure()
	body := container.NewStack(t.list, container.NewVBox(layout.NewSpacer(), t.hint, layout.NewSpacer()))
	top := container.NewVBox(t.header, widget.NewSeparator())
	return widget.NewSimpleRenderer(container.NewBorder(top, t.bottom, nil, nil, body))
}

// columnGap is the room between two columns, where the header's handle is.
func columnGap() float32 { return 2 * theme.Padding() }

// columnWidths returns the width of each column in a row of width total:
// the fixed ones as set, the flexible one what they leave.
func columnWidths(widths []float32, total float32) []float32 {
	pad := columnGap()
	out := make([]float32, len(widths))
	fixed, flex := float32(0), 0
	for _, w := range widths {
		if w == 0 {
			flex++
		}
		fixed += w
	}
	fixed += pad * float32(max(len(widths)-1, 0))
	share := float32(0)
	if flex > 0 {
		share = max(total-fixed, minColumnWidth) / float32(flex)
	}
	for i, w := range widths {
		out[i] = w
		if w == 0 {
			out[i] = share
		}
	}
	return out
}

// rowLayout lays out a row's cells (and, in the header, the column
// handles between them) at the table's column widths.
type rowLayout struct {
	t       *TextTable
	handles bool
}

func (l *rowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := columnGap()
	widths := columnWidths(l.t.widths, size.Width)
	x := float32(0)
	col := 0
	for _, o := range objs {
		if h, ok := o.(*columnHandle); ok {
			h.Move(fyne.NewPos(x-pad, 0))
			h.Resize(fyne.NewSize(pad, size.Height))
			continue
		}
		if col >= len(widths) {
			o.Hide()
			continue
		}
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(widths[col], size.Height))
		x += widths[col] + pad
		col++
	}
}

func (l *rowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for _, cw := range l.t.widths {
		if cw == 0 {
			cw = minColumnWidth
		}
		w += cw
	}
	w += columnGap() * float32(max(len(l.t.widths)-1, 0))
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}

// dragBorder moves the border after column i by dx: the fixed column
// beside it grows or shrinks.
func (t *TextTable) dragBorder(i int, dx float32) {
	switch {
	case t.widths[i] > 0:
		t.SetColumnWidth(i, t.widths[i]+dx)
	case i+1 < len(t.widths) && t.widths[i+1] > 0:
		t.SetColumnWidth(i+1, t.widths[i+1]-dx)
	}
}

// columnHandle is a draggable border between two columns, drawn as a
// short line in the gap between them; dragging it calls drag with how far
// it moved.
type columnHandle struct {
	widget.BaseWidget
	drag func(dx float32)
}

func newColumnHandle(drag func(dx float32)) *columnHandle {
	h := &columnHandle{drag: drag}
	h.ExtendBaseWidget(h)
	return h
}

// Cursor shows the resize cursor over the border.
func (h *columnHandle) Cursor() desktop.Cursor { return desktop.HResizeCursor }

// Dragged moves the border.
func (h *columnHandle) Dragged(e *fyne.DragEvent) { h.drag(e.Dragged.DX) }

// DragEnd does nothing: the width is set as the border moves.
func (h *columnHandle) DragEnd() {}

func (h *columnHandle) CreateRenderer() fyne.WidgetRenderer {
	line := canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))
	return &handleRenderer{line: line}
}

type handleRenderer struct{ line *canvas.Rectangle }

func (r *handleRenderer) Layout(size fyne.Size) {
	r.line.Move(fyne.NewPos(size.Width/2-0.5, size.Height/4))
	r.line.Resize(fyne.NewSize(1, size.Height/2))
}
func (r *handleRenderer) MinSize() fyne.Size { return fyne.NewSize(columnGap(), 1) }
func (r *handleRenderer) Refresh() {
	r.line.FillColor = theme.Color(theme.ColorNameSeparator)
	r.line.Refresh()
}
func (r *handleRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.line} }
func (r *handleRenderer) Destroy()                     {}
