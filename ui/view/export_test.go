// The few internals the black-box tests look at: where rows and bytes are drawn, the pure text helpers, the colours of span kinds.

package view

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/session/dissect"
)

// HexLine, AsciiLine and OffsetDigits are the dump's text helpers.
var (
	HexLine      = hexLine
	AsciiLine    = asciiLine
	OffsetDigits = offsetDigits
)

// SpanColor is the background of a span kind.
func SpanColor(th fyne.Theme, v fyne.ThemeVariant, k dissect.Kind) color.Color {
	return spanColor(th, v, k)
}

// Wrap wraps text at cols columns and returns its rows as drawn, each
// marked with "¶" when it begins a line of the text.
func Wrap(text string, cols int) []string {
	var out []string
	for _, r := range wrapText(nil, text, cols) {
		s := displayRow(text[r.start:r.end])
		if r.first {
			s = "¶" + s
		}
		out = append(out, s)
	}
	return out
}

// FitText cuts s with an ellipsis to fit w at the theme's text size.
func FitText(s string, w float32) (string, bool) {
	return fitText(s, w, 14, fyne.TextStyle{})
}

// HexGeometry is where the dump draws byte i of row line, relative to the
// view, and the height of a row; ok is false when the row is not on screen.
func HexGeometry(v *HexView, off int, ascii bool) (pos fyne.Position, rowH float32, ok bool) {
	r := test.WidgetRenderer(v).(*hexRenderer)
	line := off / v.perRow
	for _, row := range r.rows {
		if !row.Visible() || row.line != line {
			continue
		}
		m := v.metrics()
		i := off % v.perRow
		x0, x1 := m.hexSpanX(i, i)
		if ascii {
			x0, x1 = m.asciiSpanX(i, i)
		}
		return row.Position().Add(fyne.NewPos((x0+x1)/2, m.rowH/2)), m.rowH, true
	}
	return fyne.Position{}, 0, false
}

// HexRows returns the rows of the dump on screen: the data row each shows
// (-1 for none), its offset text and hex text.
func HexRows(v *HexView) (lines []int, offs, hexes []string) {
	r := test.WidgetRenderer(v).(*hexRenderer)
	for _, row := range r.rows {
		if !row.Visible() {
			continue
		}
		rr := test.WidgetRenderer(row).(*hexRowRenderer)
		lines = append(lines, row.line)
		offs = append(offs, rr.off.Text)
		hexes = append(hexes, rr.hex.Text)
	}
	return lines, offs, hexes
}

// HexMarks returns, for each row on screen, the x extents of its highlight
// in the hex column ([2]float32{-1, -1} when not highlighted) and the
// expected extents of bytes a..b of a row.
func HexMarks(v *HexView) map[int][2]float32 {
	r := test.WidgetRenderer(v).(*hexRenderer)
	out := map[int][2]float32{}
	for _, row := range r.rows {
		if !row.Visible() || row.line < 0 {
			continue
		}
		rr := test.WidgetRenderer(row).(*hexRowRenderer)
		if !rr.hl[0].Visible() {
			out[row.line] = [2]float32{-1, -1}
			continue
		}
		p, s := rr.hl[0].Position(), rr.hl[0].Size()
		out[row.line] = [2]float32{p.X, p.X + s.Width}
	}
	return out
}

// HexSpanX is where the background of bytes a..b of a row lies in the hex column.
func HexSpanX(v *HexView, a, b int) (x0, x1 float32) { return v.metrics().hexSpanX(a, b) }

// HexTop returns the first data row on screen and the rows on screen.
func HexTop(v *HexView) (top, shown int) { return v.top, v.shown }

// HexStatus returns the status line under the dump.
func HexStatus(v *HexView) string { return v.status.Text }

// HexBar returns the dump's scroll bar.
func HexBar(v *HexView) fyne.CanvasObject { return test.WidgetRenderer(v).(*hexRenderer).bar }

// TableOf returns the table under a RecordList or a RecordDetail's tree.
func TableOf(o fyne.CanvasObject) fyne.Focusable {
	switch w := o.(type) {
	case *RecordList:
		return w.t
	case *RecordDetail:
		return w.tree
	}
	return nil
}

// TableRow returns the row widget on screen that shows row j of the table
// of o, nil when it is not on screen.
func TableRow(o fyne.CanvasObject, j int) fyne.CanvasObject {
	t := TableOf(o).(*table)
	for _, obj := range test.WidgetRenderer(t).Objects() {
		if row, ok := obj.(*tableRowView); ok && row.Visible() && row.row == j {
			return row
		}
	}
	return nil
}

// RowCells returns the texts the row widget draws, a cut one with its
// ellipsis, and whether its mark and expander icons show.
func RowCells(row fyne.CanvasObject) (cells []string, mark, expander bool) {
	v := row.(*tableRowView)
	for _, tx := range v.texts {
		cells = append(cells, tx.Text)
	}
	return cells, v.mark.Visible(), v.exp.Visible()
}

// MarkPos is the middle of a row's mark icon, relative to the row.
func MarkPos(row fyne.CanvasObject) fyne.Position {
	m := row.(*tableRowView).mark
	return m.Position().Add(fyne.NewPos(m.Size().Width/2, m.Size().Height/2))
}

// CellPos is the middle of the text of column col in a row, relative to the row.
func CellPos(row fyne.CanvasObject, col int) fyne.Position {
	v := row.(*tableRowView)
	p := v.t.pos[col]
	return fyne.NewPos(p.x+p.w/2, v.Size().Height/2)
}

// ExpanderPos is the middle of a row's expander icon, relative to the row.
func ExpanderPos(row fyne.CanvasObject) fyne.Position {
	e := row.(*tableRowView).exp
	return e.Position().Add(fyne.NewPos(e.Size().Width/2, e.Size().Height/2))
}

// ColumnX returns where each column of the table of o starts, and its width.
func ColumnX(o fyne.CanvasObject) (xs, ws []float32) {
	for _, p := range TableOf(o).(*table).pos {
		xs, ws = append(xs, p.x), append(ws, p.w)
	}
	return xs, ws
}

// ColumnEdge returns the draggable edge on the right of column col.
func ColumnEdge(o fyne.CanvasObject, col int) fyne.CanvasObject {
	return TableOf(o).(*table).header.edges[col]
}

// TableTop returns the first row on screen and how many rows fit.
func TableTop(o fyne.CanvasObject) (top, shown int) {
	t := TableOf(o).(*table)
	return t.top, t.shown
}

// TooltipOf returns the tooltip of the table of o.
func TooltipOf(o fyne.CanvasObject) fyne.CanvasObject { return TableOf(o).(*table).tip }
