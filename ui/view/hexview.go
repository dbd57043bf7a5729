// HexView: a virtualized hex dump whose byte ranges are coloured by protocol field.

package view

import (
	"fmt"
	"image/color"
	"math"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session/dissect"
)

// A row of the dump shows wideRow bytes when the view is wide enough,
// else 8, else narrowRow, so that the dump bends to a narrow pane.
const (
	wideRow   = 16
	narrowRow = 4
)

// hexCols returns the width of the hex column in characters for rows of n
// bytes: two digits a byte, a space between bytes, and one more between
// the two halves of a 16-byte row.
func hexCols(n int) int {
	if n == wideRow {
		return n*3 - 1 + 1
	}
	return n*3 - 1
}

// HexView shows bytes as a classic hex dump: offset, 16 bytes in hex (8
// or 4 when it is too narrow for 16), the same bytes as ASCII. Byte ranges (spans) get background colours by kind,
// a highlighted range is outlined, and pointing at a byte names its field in
// a status line under the dump.
//
// Only the rows that fit on screen exist as objects, so the data may be
// large (a 100 MiB body costs no more to show than a 16-byte record).
// HexView keeps the slice given to SetData: the caller must not modify it
// afterwards. All methods must be called on the UI goroutine.
type HexView struct {
	widget.BaseWidget

	// OnHover is called when the pointer moves onto another span, with
	// nil when it leaves the spans. The pointer stays valid until the
	// next SetData.
	OnHover func(span *dissect.Span)
	// OnTapped is called with the offset of a tapped byte.
	OnTapped func(offset int)

	data   []byte
	spans  []dissect.Span // sorted by Start, clipped to data
	perRow int            // bytes a row, set by the renderer's Layout

	top        int     // first data row on screen
	shown      int     // rows that fit on screen, set by the renderer's Layout
	scrollRest float32 // scroll distance not yet worth a whole row

	hlStart, hlEnd int // highlighted range [hlStart, hlEnd); hlStart < 0: none
	hoverOff       int // byte under the pointer, -1 for none
	hoverSpan      int // index in spans of the span under the pointer, -1 for none

	status *widget.Label
}

// NewHexView returns an empty HexView.
func NewHexView() *HexView {
	v := &HexView{hlStart: -1, hlEnd: -1, hoverOff: -1, hoverSpan: -1, perRow: wideRow}
	v.status = widget.NewLabel("")
	v.status.Wrapping = fyne.TextWrapWord
	v.ExtendBaseWidget(v)
	v.updateStatus()
	return v
}

// SetData shows b with the given spans (byte ranges of b; they are copied,
// sorted and clipped to b, and should not overlap). It scrolls to the top
// and clears the highlight.
func (v *HexView) SetData(b []byte, spans []dissect.Span) {
	v.data = b
	v.spans = v.spans[:0]
	for _, s := range spans {
		s.Start, s.End = max(s.Start, 0), min(s.End, len(b))
		if s.Start < s.End {
			v.spans = append(v.spans, s)
		}
	}
	sort.SliceStable(v.spans, func(i, j int) bool { return v.spans[i].Start < v.spans[j].Start })
	v.top, v.scrollRest = 0, 0
	v.hlStart, v.hlEnd = -1, -1
	v.hoverOff, v.hoverSpan = -1, -1
	v.updateStatus()
	v.Refresh()
}

// Len returns the number of bytes shown.
func (v *HexView) Len() int { return len(v.data) }

// Highlight outlines the bytes [start, end) and scrolls them into view. An
// empty or out-of-range span clears the highlight.
func (v *HexView) Highlight(start, end int) {
	start, end = max(start, 0), min(end, len(v.data))
	if start >= end {
		v.hlStart, v.hlEnd = -1, -1
		v.updateStatus()
		v.Refresh()
		return
	}
	v.hlStart, v.hlEnd = start, end
	v.updateStatus()
	v.ScrollToOffset(start)
	v.Refresh()
}

// Highlighted returns the highlighted range, or -1, -1 when there is none.
func (v *HexView) Highlighted() (start, end int) { return v.hlStart, v.hlEnd }

// ScrollToOffset scrolls so that the row holding byte off is on screen; a
// row that is already visible does not move.
func (v *HexView) ScrollToOffset(off int) {
	row := off / v.perRow
	shown := max(v.shown, 1)
	if row >= v.top && row < v.top+shown {
		return
	}
	v.setTop(row - shown/3)
}

// TopOffset returns the offset of the first byte on screen.
func (v *HexView) TopOffset() int { return v.top * v.perRow }

// BytesPerRow returns how many bytes a row of the dump shows: 16, or 8 or
// 4 when the view is too narrow for 16.
func (v *HexView) BytesPerRow() int { return v.perRow }

// SpanAt returns the span holding byte off, or nil.
func (v *HexView) SpanAt(off int) *dissect.Span {
	if i := v.spanIndex(off); i >= 0 {
		return &v.spans[i]
	}
	return nil
}

// Scrolled scrolls the dump by whole rows (fyne.Scrollable).
func (v *HexView) Scrolled(ev *fyne.ScrollEvent) {
	scrollBy(v, &v.scrollRest, ev.Scrolled.DY, v.metrics().rowH)
}

// CreateRenderer links the widget to its renderer.
func (v *HexView) CreateRenderer() fyne.WidgetRenderer {
	v.ExtendBaseWidget(v)
	r := &hexRenderer{v: v, bar: newRowBar(v)}
	r.rebuildObjects()
	return r
}

// rows returns the number of rows of the whole dump.
func (v *HexView) rows() int { return (len(v.data) + v.perRow - 1) / v.perRow }

// rowSpan reports the rows in all, on screen, and the first on screen.
func (v *HexView) rowSpan() (total, shown, top int) { return v.rows(), v.shown, v.top }

// setTop scrolls so that row top is the first on screen.
func (v *HexView) setTop(top int) {
	top, moved := clampTop(v, top)
	if !moved {
		return
	}
	v.top = top
	v.Refresh()
}

// spanIndex returns the index of the span holding byte off, or -1.
func (v *HexView) spanIndex(off int) int {
	if off < 0 {
		return -1
	}
	i := sort.Search(len(v.spans), func(i int) bool { return v.spans[i].End > off })
	if i < len(v.spans) && v.spans[i].Start <= off {
		return i
	}
	return -1
}

// setHover records the byte under the pointer (-1: none).
func (v *HexView) setHover(off int) {
	if off >= len(v.data) {
		off = -1
	}
	if off == v.hoverOff {
		return
	}
	v.hoverOff = off
	si := v.spanIndex(off)
	changed := si != v.hoverSpan
	v.hoverSpan = si
	v.updateStatus()
	if !changed {
		return
	}
	v.Refresh()
	if v.OnHover != nil {
		if si < 0 {
			v.OnHover(nil)
		} else {
			v.OnHover(&v.spans[si])
		}
	}
}

// tapped reports a tap on byte off.
func (v *HexView) tapped(off int) {
	if off >= 0 && off < len(v.data) && v.OnTapped != nil {
		v.OnTapped(off)
	}
}

// updateStatus writes the status line under the dump.
func (v *HexView) updateStatus() {
	v.status.SetText(v.statusText())
}

func (v *HexView) statusText() string {
	digits := offsetDigits(len(v.data))
	if v.hoverOff >= 0 {
		head := fmt.Sprintf("0x%0*x = 0x%02x", digits, v.hoverOff, v.data[v.hoverOff])
		if v.hoverSpan < 0 {
			return head
		}
		s := v.spans[v.hoverSpan]
		name := s.Name
		if s.Pair > 0 {
			name = fmt.Sprintf("pair %d %s", s.Pair, s.Name)
		}
		return fmt.Sprintf("%s · %s = %s — %s", head, name, s.Value, s.Explain)
	}
	switch {
	case len(v.data) == 0:
		return "No bytes to show."
	case v.hlStart >= 0:
		return fmt.Sprintf("Selected bytes 0x%0*x–0x%0*x (%d of %d). Point at a byte to name its field.",
			digits, v.hlStart, digits, v.hlEnd-1, v.hlEnd-v.hlStart, len(v.data))
	}
	return fmt.Sprintf("%d bytes. Point at a byte to name its field.", len(v.data))
}

// offsetDigits returns how many hex digits the offsets of n bytes need,
// at least 4: a record (at most 65,807 bytes) needs 4 or 5.
func offsetDigits(n int) int {
	d := 4
	for m := uint64(max(n-1, 0)) >> 16; m > 0; m >>= 4 {
		d++
	}
	return d
}

// hexMetrics is the geometry of one row, from the theme's text size.
type hexMetrics struct {
	perRow    int // bytes a row
	textSize  float32
	cw, textH float32 // width and height of one monospace character
	rowH      float32
	digits    int
	offX      float32 // offset column
	hexX      float32 // first hex digit
	asciiX    float32 // first ASCII character
	width     float32 // whole row
}

var monospace = fyne.TextStyle{Monospace: true}

func (v *HexView) metrics() hexMetrics { return v.metricsFor(v.perRow) }

// metricsFor returns the geometry of rows of perRow bytes.
func (v *HexView) metricsFor(perRow int) hexMetrics {
	th := v.Theme()
	m := hexMetrics{perRow: perRow, textSize: th.Size(theme.SizeNameText), digits: offsetDigits(len(v.data))}
	ch := fyne.MeasureText("0", m.textSize, monospace)
	m.cw, m.textH = ch.Width, ch.Height
	m.rowH = float32(math.Ceil(float64(m.textH + th.Size(theme.SizeNameLineSpacing)/2)))
	m.offX = th.Size(theme.SizeNameInnerPadding)
	m.hexX = m.offX + float32(m.digits+2)*m.cw
	m.asciiX = m.hexX + float32(hexCols(perRow)+2)*m.cw
	m.width = m.asciiX + float32(perRow)*m.cw + m.offX
	return m
}

// hexCol returns the character column of byte i of a row in the hex column.
func (m hexMetrics) hexCol(i int) int {
	if m.perRow == wideRow && i >= wideRow/2 {
		return 3*i + 1
	}
	return 3 * i
}

// hexSpanX returns where the background of bytes a..b (inclusive) of a row
// begins and ends in the hex column: a quarter character beyond the digits,
// so that neighbouring spans stay apart.
func (m hexMetrics) hexSpanX(a, b int) (x0, x1 float32) {
	return m.hexX + float32(m.hexCol(a))*m.cw - m.cw/4, m.hexX + float32(m.hexCol(b)+2)*m.cw + m.cw/4
}

// asciiSpanX returns where bytes a..b (inclusive) lie in the ASCII column.
func (m hexMetrics) asciiSpanX(a, b int) (x0, x1 float32) {
	return m.asciiX + float32(a)*m.cw, m.asciiX + float32(b+1)*m.cw
}

// byteAt returns the byte of a row under x, or -1.
func (m hexMetrics) byteAt(x float32) int {
	if m.cw <= 0 {
		return -1
	}
	if x >= m.asciiX && x < m.asciiX+float32(m.perRow)*m.cw {
		return int((x - m.asciiX) / m.cw)
	}
	col := (x-m.hexX)/m.cw + 0.5 // columns from half a character before the first digit
	if col < 0 || col >= float32(hexCols(m.perRow))+1 {
		return -1
	}
	if m.perRow != wideRow {
		return min(int(col/3), m.perRow-1)
	}
	half := float32(m.hexCol(wideRow / 2))
	if col >= half {
		return min(wideRow/2+int((col-half)/3), wideRow-1)
	}
	return min(int(col/3), wideRow/2-1)
}

// spanColor returns the background of a span kind, derived from the theme
// so that it reads in light and dark variants alike.
func spanColor(th fyne.Theme, variant fyne.ThemeVariant, k dissect.Kind) color.Color {
	c := func(n fyne.ThemeColorName) color.NRGBA {
		return color.NRGBAModel.Convert(th.Color(n, variant)).(color.NRGBA)
	}
	switch k {
	case dissect.KindHeader:
		return withAlpha(c(theme.ColorNamePrimary), 0x60)
	case dissect.KindBodyField:
		return withAlpha(mix(c(theme.ColorNamePrimary), c(theme.ColorNameError)), 0x60)
	case dissect.KindNameLen1:
		return withAlpha(c(theme.ColorNameWarning), 0x50)
	case dissect.KindNameLen4:
		return withAlpha(c(theme.ColorNameWarning), 0xa0)
	case dissect.KindValueLen1:
		return withAlpha(mix(c(theme.ColorNameSuccess), c(theme.ColorNamePrimary)), 0x50)
	case dissect.KindValueLen4:
		return withAlpha(mix(c(theme.ColorNameSuccess), c(theme.ColorNamePrimary)), 0xa0)
	case dissect.KindName:
		return withAlpha(c(theme.ColorNameSuccess), 0x50)
	case dissect.KindValue:
		return withAlpha(mix(c(theme.ColorNameWarning), c(theme.ColorNameSuccess)), 0x60)
	case dissect.KindFragment:
		return withAlpha(c(theme.ColorNameError), 0x50)
	case dissect.KindPadding:
		return withAlpha(c(theme.ColorNameForeground), 0x40)
	}
	return withAlpha(c(theme.ColorNameForeground), 0x14)
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA {
	c.A = a
	return c
}

// mix returns the colour halfway between a and b.
func mix(a, b color.NRGBA) color.NRGBA {
	return color.NRGBA{R: uint8((int(a.R) + int(b.R)) / 2), G: uint8((int(a.G) + int(b.G)) / 2),
		B: uint8((int(a.B) + int(b.B)) / 2), A: 0xff}
}

// hexRenderer lays out the visible rows, the scroll bar and the status line.
type hexRenderer struct {
	v       *HexView
	rows    []*hexRow
	bar     *rowBar
	objects []fyne.CanvasObject
	size    fyne.Size
}

func (r *hexRenderer) rebuildObjects() {
	r.objects = r.objects[:0]
	for _, row := range r.rows {
		r.objects = append(r.objects, row)
	}
	r.objects = append(r.objects, r.bar, r.v.status)
}

func (r *hexRenderer) Objects() []fyne.CanvasObject { return r.objects }

func (r *hexRenderer) Destroy() {}

// MinSize is room for two rows of four bytes and the status line.
func (r *hexRenderer) MinSize() fyne.Size {
	m := r.v.metricsFor(narrowRow)
	barW := r.v.Theme().Size(theme.SizeNameScrollBar)
	return fyne.NewSize(m.width+barW, 2*m.rowH+r.statusMin(m))
}

// statusMin is the height kept for the status line: two lines of text.
func (r *hexRenderer) statusMin(m hexMetrics) float32 {
	return 2*m.textH + 2*r.v.Theme().Size(theme.SizeNameInnerPadding)
}

func (r *hexRenderer) Layout(size fyne.Size) {
	r.size = size
	v := r.v
	barW := v.Theme().Size(theme.SizeNameScrollBar)
	per := wideRow
	for per > narrowRow && v.metricsFor(per).width+barW > size.Width {
		per /= 2
	}
	if per != v.perRow { // the same bytes stay on top
		v.top = v.top * v.perRow / per
		v.perRow = per
	}
	m := v.metrics()

	v.status.Resize(fyne.NewSize(size.Width, v.status.MinSize().Height))
	statusH := max(v.status.MinSize().Height, r.statusMin(m))
	area := max(size.Height-statusH, 0)
	n := 0
	if m.rowH > 0 {
		n = int(area / m.rowH)
	}
	v.shown = n
	if len(r.rows) < n {
		for len(r.rows) < n {
			r.rows = append(r.rows, newHexRow(v))
		}
		r.rebuildObjects()
	}
	for i, row := range r.rows {
		if i >= n {
			row.Hide()
			continue
		}
		row.Move(fyne.NewPos(0, float32(i)*m.rowH))
		row.Resize(fyne.NewSize(size.Width-barW, m.rowH))
		row.Show()
	}
	r.bar.Move(fyne.NewPos(size.Width-barW, 0))
	r.bar.Resize(fyne.NewSize(barW, area))
	v.status.Move(fyne.NewPos(0, area))
	v.status.Resize(fyne.NewSize(size.Width, statusH))
	if v.top > maxTop(v) {
		v.top = maxTop(v)
	}
	r.refreshRows()
}

func (r *hexRenderer) Refresh() {
	r.Layout(r.size) // the status line may have changed height
	r.v.status.Refresh()
	canvas.Refresh(r.v)
}

// refreshRows points each visible row at its data row and redraws it.
func (r *hexRenderer) refreshRows() {
	for i, row := range r.rows {
		line := -1
		if i < r.v.shown && (r.v.top+i)*r.v.perRow < len(r.v.data) {
			line = r.v.top + i
		}
		row.line = line
		row.Refresh()
	}
	r.bar.Refresh()
}

// hexRow is one line of the dump; it names the byte under the pointer and
// reports taps.
type hexRow struct {
	widget.BaseWidget
	view *HexView
	line int // data row shown, -1 for none
}

var (
	_ desktop.Hoverable = (*hexRow)(nil)
	_ fyne.Tappable     = (*hexRow)(nil)
)

func newHexRow(v *HexView) *hexRow {
	row := &hexRow{view: v, line: -1}
	row.ExtendBaseWidget(row)
	return row
}

// offsetAt returns the data offset under a position in the row, or -1.
func (row *hexRow) offsetAt(pos fyne.Position) int {
	if row.line < 0 {
		return -1
	}
	i := row.view.metrics().byteAt(pos.X)
	if i < 0 {
		return -1
	}
	off := row.line*row.view.perRow + i
	if off >= len(row.view.data) {
		return -1
	}
	return off
}

// MouseIn names the byte under the pointer.
func (row *hexRow) MouseIn(ev *desktop.MouseEvent) { row.view.setHover(row.offsetAt(ev.Position)) }

// MouseMoved names the byte under the pointer.
func (row *hexRow) MouseMoved(ev *desktop.MouseEvent) { row.view.setHover(row.offsetAt(ev.Position)) }

// MouseOut forgets the byte under the pointer.
func (row *hexRow) MouseOut() {
	if off := row.view.hoverOff; off >= 0 && off/row.view.perRow == row.line {
		row.view.setHover(-1)
	}
}

// Tapped reports the tapped byte.
func (row *hexRow) Tapped(ev *fyne.PointEvent) { row.view.tapped(row.offsetAt(ev.Position)) }

// CreateRenderer links the row to its renderer.
func (row *hexRow) CreateRenderer() fyne.WidgetRenderer {
	row.ExtendBaseWidget(row)
	r := &hexRowRenderer{row: row}
	for i := range r.bgs {
		r.bgs[i] = canvas.NewRectangle(color.Transparent)
		r.objects = append(r.objects, r.bgs[i])
	}
	for i := range r.hover {
		r.hover[i] = canvas.NewRectangle(color.Transparent)
		r.objects = append(r.objects, r.hover[i])
	}
	for i := range r.hl {
		r.hl[i] = canvas.NewRectangle(color.Transparent)
		r.objects = append(r.objects, r.hl[i])
	}
	r.off = canvas.NewText("", color.Black)
	r.hex = canvas.NewText("", color.Black)
	r.ascii = canvas.NewText("", color.Black)
	for _, t := range []*canvas.Text{r.off, r.hex, r.ascii} {
		t.TextStyle = monospace
		r.objects = append(r.objects, t)
	}
	r.update()
	return r
}

// hexRowRenderer draws one row: span backgrounds (one rectangle per run of
// bytes in the same span, in both columns), the hover and highlight marks,
// then the three texts.
type hexRowRenderer struct {
	row       *hexRow
	bgs       [2 * wideRow]*canvas.Rectangle
	hover, hl [2]*canvas.Rectangle
	off       *canvas.Text
	hex       *canvas.Text
	ascii     *canvas.Text
	objects   []fyne.CanvasObject
}

func (r *hexRowRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *hexRowRenderer) Destroy()                     {}
func (r *hexRowRenderer) Layout(fyne.Size)             { r.update() }

func (r *hexRowRenderer) MinSize() fyne.Size {
	m := r.row.view.metrics()
	return fyne.NewSize(m.width, m.rowH)
}

func (r *hexRowRenderer) Refresh() {
	r.update()
	canvas.Refresh(r.row)
}

// update fills the row from the view's data, spans, hover and highlight.
func (r *hexRowRenderer) update() {
	v := r.row.view
	th := v.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	m := v.metrics()
	fg := th.Color(theme.ColorNameForeground, variant)
	dim := th.Color(theme.ColorNamePlaceHolder, variant)

	line := r.row.line
	start := line * m.perRow
	var b []byte
	if line >= 0 && start < len(v.data) {
		b = v.data[start:min(start+m.perRow, len(v.data))]
	}
	if b == nil {
		for _, o := range r.objects {
			o.Hide()
		}
		return
	}

	r.off.Text = fmt.Sprintf("%0*x", m.digits, start)
	r.hex.Text = hexLine(b, m.perRow)
	r.ascii.Text = asciiLine(b)
	for i, t := range []*canvas.Text{r.off, r.hex, r.ascii} {
		t.TextSize = m.textSize
		t.Color = fg
		if i == 0 {
			t.Color = dim
		}
		t.Show()
	}
	ty := (m.rowH - m.textH) / 2
	r.off.Move(fyne.NewPos(m.offX, ty))
	r.hex.Move(fyne.NewPos(m.hexX, ty))
	r.ascii.Move(fyne.NewPos(m.asciiX, ty))
	for _, t := range []*canvas.Text{r.off, r.hex, r.ascii} {
		t.Resize(t.MinSize())
		t.Refresh()
	}

	// Span backgrounds: one run per span met on this row.
	used := 0
	si := sort.Search(len(v.spans), func(i int) bool { return v.spans[i].End > start })
	for i := 0; i < len(b); {
		off := start + i
		for si < len(v.spans) && v.spans[si].End <= off {
			si++
		}
		if si >= len(v.spans) || v.spans[si].Start > off {
			i++ // a byte no span claims keeps the plain background
			continue
		}
		last := min(v.spans[si].End-start, len(b)) - 1
		col := spanColor(th, variant, v.spans[si].Kind)
		x0, x1 := m.hexSpanX(i, last)
		placeRect(r.bgs[used], col, x0, x1, m.rowH)
		x0, x1 = m.asciiSpanX(i, last)
		placeRect(r.bgs[used+1], col, x0, x1, m.rowH)
		used += 2
		i = last + 1
	}
	for ; used < len(r.bgs); used++ {
		r.bgs[used].Hide()
	}

	// The span under the pointer: a thin frame.
	r.mark(r.hover, m, start, len(b), v.hoverSpanRange(), color.Transparent,
		th.Color(theme.ColorNameForeground, variant), th.Size(theme.SizeNameSeparatorThickness))
	// The highlighted range: the selection colour and a primary frame.
	r.mark(r.hl, m, start, len(b), [2]int{v.hlStart, v.hlEnd}, th.Color(theme.ColorNameSelection, variant),
		th.Color(theme.ColorNamePrimary, variant), 2*th.Size(theme.SizeNameSeparatorThickness))
}

// mark frames the part of rng that falls on this row, in both columns.
func (r *hexRowRenderer) mark(rects [2]*canvas.Rectangle, m hexMetrics, start, n int, rng [2]int, fill, stroke color.Color, width float32) {
	a, b := max(rng[0], start)-start, min(rng[1], start+n)-start-1
	if rng[0] < 0 || a > b {
		rects[0].Hide()
		rects[1].Hide()
		return
	}
	for i, rect := range rects {
		x0, x1 := m.hexSpanX(a, b)
		if i == 1 {
			x0, x1 = m.asciiSpanX(a, b)
		}
		rect.StrokeColor = stroke
		rect.StrokeWidth = width
		placeRect(rect, fill, x0, x1, m.rowH)
	}
}

// hoverSpanRange returns the bytes of the span under the pointer, or -1, -1.
func (v *HexView) hoverSpanRange() [2]int {
	if v.hoverSpan < 0 {
		return [2]int{-1, -1}
	}
	return [2]int{v.spans[v.hoverSpan].Start, v.spans[v.hoverSpan].End}
}

func placeRect(rect *canvas.Rectangle, fill color.Color, x0, x1, h float32) {
	rect.FillColor = fill
	rect.Move(fyne.NewPos(x0, 0))
	rect.Resize(fyne.NewSize(x1-x0, h))
	rect.Show()
	rect.Refresh()
}

const hexDigits = "0123456789abcdef"

// hexLine formats up to perRow bytes as "00 01 … 07  08 … 0f" (the
// halves of a 16-byte row apart), trailing spaces trimmed.
func hexLine(b []byte, perRow int) string {
	var sb strings.Builder
	sb.Grow(hexCols(perRow))
	for i := range perRow {
		if i > 0 {
			sb.WriteByte(' ')
			if perRow == wideRow && i == wideRow/2 {
				sb.WriteByte(' ')
			}
		}
		if i < len(b) {
			sb.WriteByte(hexDigits[b[i]>>4])
			sb.WriteByte(hexDigits[b[i]&0xf])
		} else {
			sb.WriteString("  ")
		}
	}
	return strings.TrimRight(sb.String(), " ")
}

// asciiLine shows printable ASCII bytes as themselves and others as '.'.
func asciiLine(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 0x20 && c < 0x7f {
			out[i] = c
		} else {
			out[i] = '.'
		}
	}
	return string(out)
}
