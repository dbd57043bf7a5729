// The table under RecordList and RecordDetail: dense rows laid out a screenful at a time, resizable columns, a tree of expandable rows, keys, tooltips and copy.

package view

import (
	"image/color"
	"math"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// column describes a text column of a table.
type column struct {
	title string
	// sample holds the widest texts the column expects, alternatives
	// separated by "|": they give the column its width until the user
	// drags its edge.
	sample string
	align  fyne.TextAlign
	mono   bool
	// keep: the column never gets narrower than its default width (a
	// record number cut short would be a wrong number).
	keep bool
}

// expander is the state of a row that has rows under it.
type expander uint8

const (
	noExpander expander = iota // a row with nothing under it
	collapsed                  // rows under it, hidden
	expanded                   // rows under it, shown after it
)

// rowData is what a table row shows.
type rowData struct {
	cells    []string // one per column; a table reuses the slice
	level    int      // indentation of the first column, in steps
	expander expander
	mark     string // when set, a warning icon whose tooltip is this text
	tip      string // the tooltip of the row's cells that are not cut
	bold     bool
}

// tableModel gives a table its rows. A table reads only the rows on screen.
type tableModel interface {
	rowCount() int
	fillRow(i int, r *rowData)
}

// table is a virtual table: a header whose column edges drag, then rows of
// one height, only those on screen laid out, scrolled by whole rows. It may
// have an expander column (a tree) and a mark column (warnings). A long
// cell ends in an ellipsis; pointing at it shows it whole in a tooltip, and
// Copy (the context menu, or Ctrl+C on the selected row) copies it whole.
//
// Keys, when it has the focus (a tap gives it): Up, Down, Page Up, Page
// Down, Home and End move the selection; Right opens a row's children and
// Left closes them or goes to the parent; Enter and Space open or close.
// Other keys and shortcuts go on to the window.
type table struct {
	widget.BaseWidget

	cols    []column
	stretch int       // the column that takes the width the others leave
	widths  []float32 // widths the user dragged to; 0 for a column at its default
	tree    bool      // an expander column leads
	marks   bool      // a mark column follows it
	model   tableModel

	onSelect func(row int) // row was selected (by a tap, a key or selectRow)
	onToggle func(row int) // row's expander was used
	onRune   func(r rune)  // a character was typed while the table has the focus
	// cellText returns a cell whole, for its tooltip and Copy; nil: the
	// cell's text.
	cellText func(row, col int) string
	// rowText returns a row whole, for Ctrl+C; nil: its cells.
	rowText func(row int) string
	// fit returns the widest text column c holds now, for its default
	// width in place of its sample ("" or nil: the sample): a column sized
	// for what the rows hold leaves the width to the stretch column.
	fit func(c int) string

	top, shown int
	scrollRest float32
	selected   int // -1 for none
	hovered    int // row under the pointer, -1 for none
	focused    bool
	pos        []colPos // where the text columns are, set by layout

	header *tableHeader
	bar    *rowBar
	tip    *tooltip
}

// colPos is where a text column lies in a row.
type colPos struct{ x, w float32 }

var (
	_ fyne.Focusable    = (*table)(nil)
	_ fyne.Shortcutable = (*table)(nil)
	_ fyne.Scrollable   = (*table)(nil)
	_ rowScroller       = (*table)(nil)
)

func newTable(model tableModel, tree, marks bool, cols ...column) *table {
	t := &table{cols: cols, stretch: len(cols) - 1, widths: make([]float32, len(cols)), tree: tree, marks: marks,
		model: model, selected: -1, hovered: -1}
	t.header = newTableHeader(t)
	t.bar = newRowBar(t)
	t.tip = newTooltip()
	t.ExtendBaseWidget(t)
	return t
}

// tableMetrics is the geometry of a row, from the theme.
type tableMetrics struct {
	textSize, textH float32
	rowH            float32
	icon            float32 // side of the expander and mark icons
	pad             float32 // inside a cell, each side
	indent          float32 // per level of the first column
}

func (t *table) metrics() tableMetrics {
	th := t.Theme()
	m := tableMetrics{textSize: th.Size(theme.SizeNameText), icon: th.Size(theme.SizeNameInlineIcon),
		pad: th.Size(theme.SizeNameInnerPadding) / 2}
	m.textH = fyne.MeasureText("M", m.textSize, fyne.TextStyle{}).Height
	m.rowH = float32(math.Ceil(float64(max(m.textH, m.icon) + th.Size(theme.SizeNamePadding)*1.5)))
	m.indent = m.icon
	return m
}

// lead returns the width of the icon columns before the text.
func (t *table) lead(m tableMetrics) float32 {
	var w float32
	if t.tree {
		w += m.icon + m.pad
	}
	if t.marks {
		w += m.icon + m.pad
	}
	return w
}

// defaultWidth is the width column c has until the user drags its edge:
// its widest text (fit's, else the sample's) in the rows or its title in
// bold, whichever is wider.
func (t *table) defaultWidth(c int, m tableMetrics) float32 {
	col := t.cols[c]
	w := fyne.MeasureText(col.title, m.textSize, fyne.TextStyle{Bold: true}).Width
	sample := col.sample
	if t.fit != nil {
		if s := t.fit(c); s != "" {
			sample = s
		}
	}
	for s := range strings.SplitSeq(sample, "|") {
		w = max(w, fyne.MeasureText(s, m.textSize, fyne.TextStyle{Monospace: col.mono}).Width)
	}
	return float32(math.Ceil(float64(w + 2*m.pad + 2)))
}

// minColWidth is the narrowest a column gets: room for a few characters.
func minColWidth(m tableMetrics) float32 { return 3*m.textSize + 2*m.pad }

// layoutCols places the text columns in a row of the given width: each at
// the width the user gave it, or its default; the stretch column takes
// what is left. When they do not fit, the columns that may shrink (not
// keep, not stretch) give up width in proportion down to their minimum,
// then the stretch column down to its own, so that what matters most
// stays whole and nothing is drawn past the edge.
func (t *table) layoutCols(width float32, m tableMetrics) []colPos {
	n := len(t.cols)
	if cap(t.pos) < n {
		t.pos = make([]colPos, n)
	}
	pos := t.pos[:n]
	lead := t.lead(m)
	avail := max(width-lead, 0)
	minW := minColWidth(m)
	var sum, give float32 // widths wanted, and what shrinking columns can give
	for i := range n {
		pos[i].w = t.widths[i]
		if pos[i].w == 0 {
			pos[i].w = t.defaultWidth(i, m)
		}
		if i == t.stretch {
			pos[i].w = max(pos[i].w, minW)
		} else if !t.cols[i].keep {
			give += max(pos[i].w-minW, 0)
		}
		sum += pos[i].w
	}
	if over := sum - avail; over > 0 && give > 0 {
		f := min(over/give, 1)
		for i := range n {
			if i != t.stretch && !t.cols[i].keep && pos[i].w > minW {
				pos[i].w -= float32(math.Ceil(float64((pos[i].w - minW) * f)))
			}
		}
	}
	var others float32
	for i := range n {
		if i != t.stretch {
			others += pos[i].w
		}
	}
	pos[t.stretch].w = max(avail-others, minW)
	x := lead
	for i := range n {
		pos[i].x = x
		x += pos[i].w
	}
	t.pos = pos
	return pos
}

// rowSpan reports the rows in all, on screen, and the first on screen.
func (t *table) rowSpan() (total, shown, top int) { return t.model.rowCount(), t.shown, t.top }

// setTop scrolls so that row top is the first on screen.
func (t *table) setTop(top int) {
	top, moved := clampTop(t, top)
	if !moved {
		return
	}
	t.top = top
	t.tip.Hide()
	t.Refresh()
}

// ensureVisible scrolls as little as needed to show row i.
func (t *table) ensureVisible(i int) {
	shown := max(t.shown, 1)
	switch {
	case i < t.top:
		t.setTop(i)
	case i >= t.top+shown:
		t.setTop(i - shown + 1)
	}
}

// reveal scrolls row i into view a third down the screen, unless it is
// on screen already: a row jumped to comes with some of what precedes it.
func (t *table) reveal(i int) {
	if shown := max(t.shown, 1); i < t.top || i >= t.top+shown {
		t.setTop(i - shown/3)
	}
}

// scrollToEnd shows the last rows.
func (t *table) scrollToEnd() { t.setTop(maxTop(t)) }

// selectRow selects row i (-1: none), scrolls it into view, and calls
// onSelect when the selection moved to a row.
func (t *table) selectRow(i int) {
	if i >= t.model.rowCount() {
		return
	}
	if i < 0 {
		t.setSelected(-1)
		return
	}
	t.ensureVisible(i)
	if i == t.selected {
		return
	}
	t.setSelected(i)
	if t.onSelect != nil {
		t.onSelect(i)
	}
}

// setSelected marks row i selected without telling anyone; the owner uses
// it when its rows moved under the selection.
func (t *table) setSelected(i int) {
	if i == t.selected {
		return
	}
	t.selected = i
	t.Refresh()
}

// Scrolled scrolls the rows (fyne.Scrollable).
func (t *table) Scrolled(ev *fyne.ScrollEvent) {
	scrollBy(t, &t.scrollRest, ev.Scrolled.DY, t.metrics().rowH)
}

// FocusGained marks the table focused.
func (t *table) FocusGained() {
	t.focused = true
	t.Refresh()
}

// FocusLost marks the table not focused.
func (t *table) FocusLost() {
	t.focused = false
	t.Refresh()
}

// TypedRune hands a typed character to the owner.
func (t *table) TypedRune(r rune) {
	if t.onRune != nil {
		t.onRune(r)
	}
}

// TypedKey moves the selection and opens or closes rows; other keys go on
// to the window.
func (t *table) TypedKey(ev *fyne.KeyEvent) {
	n := t.model.rowCount()
	sel := t.selected
	page := max(t.shown-1, 1)
	switch ev.Name {
	case fyne.KeyUp:
		t.selectRow(max(min(sel-1, n-1), 0))
	case fyne.KeyDown:
		t.selectRow(min(sel+1, n-1))
	case fyne.KeyPageUp:
		t.selectRow(max(min(sel-page, n-1), 0))
	case fyne.KeyPageDown:
		t.selectRow(min(max(sel, 0)+page, n-1))
	case fyne.KeyHome:
		t.selectRow(min(0, n-1))
	case fyne.KeyEnd:
		t.selectRow(n - 1)
	case fyne.KeyRight, fyne.KeyLeft, fyne.KeyReturn, fyne.KeyEnter, fyne.KeySpace:
		if sel >= 0 && sel < n {
			t.treeKey(ev.Name, sel)
		}
	default:
		if c := t.canvas(); c != nil && c.OnTypedKey() != nil {
			c.OnTypedKey()(ev)
		}
	}
}

// data returns what row i shows.
func (t *table) data(i int) rowData {
	rd := rowData{cells: make([]string, len(t.cols))}
	t.model.fillRow(i, &rd)
	return rd
}

// shownCells returns row i's cells as they are drawn at the columns'
// widths of the last layout: a cell cut short ends in an ellipsis; nil
// before the first layout or for no such row.
func (t *table) shownCells(i int) []string {
	if i < 0 || i >= t.model.rowCount() || len(t.pos) != len(t.cols) {
		return nil
	}
	m := t.metrics()
	d := t.data(i)
	out := make([]string, len(t.cols))
	for c := range t.cols {
		indent := float32(0)
		if c == 0 {
			indent = float32(d.level) * m.indent
		}
		w := max(t.pos[c].w-2*m.pad-indent, 0)
		out[c], _ = fitText(d.cells[c], w, m.textSize, fyne.TextStyle{Monospace: t.cols[c].mono, Bold: d.bold})
	}
	return out
}

// treeKey opens, closes or climbs the tree from row sel.
func (t *table) treeKey(key fyne.KeyName, sel int) {
	rd := t.data(sel)
	switch {
	case key == fyne.KeyRight && rd.expander == collapsed,
		key == fyne.KeyLeft && rd.expander == expanded,
		key != fyne.KeyRight && key != fyne.KeyLeft && rd.expander != noExpander:
		t.toggle(sel)
	case key == fyne.KeyRight && rd.expander == expanded:
		t.selectRow(sel + 1)
	case key == fyne.KeyLeft && rd.level > 0:
		for i := sel - 1; i >= 0; i-- {
			if t.data(i).level < rd.level {
				t.selectRow(i)
				return
			}
		}
	}
}

// toggle opens or closes the children of row i.
func (t *table) toggle(i int) {
	if t.onToggle != nil {
		t.onToggle(i)
	}
}

// TypedShortcut copies the selected row on Copy; other shortcuts go on to
// the window.
func (t *table) TypedShortcut(s fyne.Shortcut) {
	if _, ok := s.(*fyne.ShortcutCopy); ok {
		if t.selected >= 0 {
			copyText(t.copyOfRow(t.selected))
		}
		return
	}
	if c, ok := t.canvas().(interface{ TypedShortcut(fyne.Shortcut) }); ok {
		c.TypedShortcut(s)
	}
}

func (t *table) canvas() fyne.Canvas {
	if app := fyne.CurrentApp(); app != nil {
		return app.Driver().CanvasForObject(t)
	}
	return nil
}

// focus gives the table the keyboard focus.
func (t *table) focus() {
	if c := t.canvas(); c != nil && c.Focused() != fyne.Focusable(t) {
		c.Focus(t)
	}
}

// copyOfRow returns the text Copy takes of row i.
func (t *table) copyOfRow(i int) string {
	if t.rowText != nil {
		return t.rowText(i)
	}
	return strings.Join(t.data(i).cells, "\t")
}

// copyOfCell returns the whole text of a cell.
func (t *table) copyOfCell(row, col int) string {
	if t.cellText != nil {
		return t.cellText(row, col)
	}
	return t.data(row).cells[col]
}

func copyText(s string) {
	if app := fyne.CurrentApp(); app != nil {
		app.Clipboard().SetContent(s)
	}
}

// TooltipText returns the text of the tooltip on screen, "" when none is.
func (t *table) tooltipText() string { return t.tip.text() }

// CreateRenderer links the table to its renderer.
func (t *table) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	r := &tableRenderer{t: t, sep: canvas.NewRectangle(color.Transparent)}
	r.rebuildObjects()
	return r
}

type tableRenderer struct {
	t       *table
	sep     *canvas.Rectangle
	rows    []*tableRowView
	objects []fyne.CanvasObject
	size    fyne.Size
}

func (r *tableRenderer) rebuildObjects() {
	r.objects = append(r.objects[:0], r.t.header, r.sep)
	for _, row := range r.rows {
		r.objects = append(r.objects, row)
	}
	r.objects = append(r.objects, r.t.bar, r.t.tip)
}

func (r *tableRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *tableRenderer) Destroy()                     {}

// MinSize is room for the header and two rows, and for every column at
// its narrowest.
func (r *tableRenderer) MinSize() fyne.Size {
	t := r.t
	m := t.metrics()
	w := t.lead(m) + float32(len(t.cols))*minColWidth(m) + t.Theme().Size(theme.SizeNameScrollBar)
	return fyne.NewSize(w, m.rowH*3+1)
}

func (r *tableRenderer) Layout(size fyne.Size) {
	r.size = size
	t := r.t
	m := t.metrics()
	th := t.Theme()
	barW := th.Size(theme.SizeNameScrollBar)
	t.layoutCols(size.Width-barW, m)
	t.header.Move(fyne.NewPos(0, 0))
	t.header.Resize(fyne.NewSize(size.Width-barW, m.rowH))
	st := th.Size(theme.SizeNameSeparatorThickness)
	r.sep.FillColor = th.Color(theme.ColorNameSeparator, fyne.CurrentApp().Settings().ThemeVariant())
	r.sep.Move(fyne.NewPos(0, m.rowH))
	r.sep.Resize(fyne.NewSize(size.Width, st))
	area := max(size.Height-m.rowH-st, 0)
	n := int(area / m.rowH)
	t.shown = n
	if len(r.rows) < n {
		for len(r.rows) < n {
			r.rows = append(r.rows, newTableRowView(t))
		}
		r.rebuildObjects()
	}
	y0 := m.rowH + st
	for i, row := range r.rows {
		if i >= n {
			row.Hide()
			continue
		}
		row.Move(fyne.NewPos(0, y0+float32(i)*m.rowH))
		row.Resize(fyne.NewSize(size.Width-barW, m.rowH))
	}
	t.bar.Move(fyne.NewPos(size.Width-barW, y0))
	t.bar.Resize(fyne.NewSize(barW, area))
	if t.top > maxTop(t) {
		t.top = maxTop(t)
	}
	r.refreshRows()
}

func (r *tableRenderer) Refresh() {
	r.Layout(r.size)
	r.t.header.Refresh()
	canvas.Refresh(r.t)
}

// refreshRows points each row on screen at its model row and redraws it.
func (r *tableRenderer) refreshRows() {
	t := r.t
	total := t.model.rowCount()
	for i, row := range r.rows {
		if i >= t.shown {
			continue
		}
		row.row = -1
		if t.top+i < total {
			row.row = t.top + i
		}
		row.update()
	}
	t.bar.Refresh()
}

// tableRowView is one row on screen: backgrounds, the expander and mark
// icons, and the cells.
type tableRowView struct {
	widget.BaseWidget
	t   *table
	row int // model row shown, -1 for none

	data    rowData
	cut     []bool // which cells are cut with an ellipsis
	bg      *canvas.Rectangle
	focus   *canvas.Rectangle
	guide   *canvas.Rectangle // the line that ties a child row to its parent
	exp     *canvas.Image
	mark    *canvas.Image
	texts   []*canvas.Text
	objects []fyne.CanvasObject
}

var (
	_ fyne.Tappable          = (*tableRowView)(nil)
	_ fyne.SecondaryTappable = (*tableRowView)(nil)
	_ desktop.Hoverable      = (*tableRowView)(nil)
)

func newTableRowView(t *table) *tableRowView {
	v := &tableRowView{t: t, row: -1, bg: canvas.NewRectangle(color.Transparent), focus: canvas.NewRectangle(color.Transparent),
		guide: canvas.NewRectangle(color.Transparent), exp: canvas.NewImageFromResource(nil),
		mark: canvas.NewImageFromResource(theme.NewWarningThemedResource(theme.WarningIcon()))}
	v.exp.FillMode = canvas.ImageFillContain
	v.mark.FillMode = canvas.ImageFillContain
	v.objects = []fyne.CanvasObject{v.bg, v.focus, v.guide, v.exp, v.mark}
	for _, c := range t.cols {
		tx := canvas.NewText("", color.Black)
		tx.TextStyle.Monospace = c.mono
		v.texts = append(v.texts, tx)
		v.objects = append(v.objects, tx)
	}
	v.cut = make([]bool, len(t.cols))
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer links the row to its renderer.
func (v *tableRowView) CreateRenderer() fyne.WidgetRenderer {
	v.ExtendBaseWidget(v)
	return &tableRowRenderer{v: v}
}

type tableRowRenderer struct{ v *tableRowView }

func (r *tableRowRenderer) Objects() []fyne.CanvasObject { return r.v.objects }
func (r *tableRowRenderer) Destroy()                     {}
func (r *tableRowRenderer) Layout(fyne.Size)             { r.v.update() }
func (r *tableRowRenderer) MinSize() fyne.Size           { return fyne.NewSize(0, r.v.t.metrics().rowH) }
func (r *tableRowRenderer) Refresh()                     { r.v.update() }

// update fills the row from the model and places its objects.
func (v *tableRowView) update() {
	t := v.t
	if v.row < 0 || v.row >= t.model.rowCount() {
		v.Hide()
		return
	}
	v.Show()
	d := &v.data
	if len(d.cells) < len(t.cols) {
		d.cells = make([]string, len(t.cols))
	}
	for i := range d.cells {
		d.cells[i] = ""
	}
	d.level, d.expander, d.mark, d.tip, d.bold = 0, noExpander, "", "", false
	t.model.fillRow(v.row, d)

	th := t.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	m := t.metrics()
	size := v.Size()

	switch {
	case v.row == t.selected:
		v.bg.FillColor = th.Color(theme.ColorNameSelection, variant)
	case v.row == t.hovered:
		v.bg.FillColor = th.Color(theme.ColorNameHover, variant)
	default:
		v.bg.FillColor = color.Transparent
	}
	v.bg.Resize(size)
	v.bg.Refresh()
	if v.row == t.selected && t.focused {
		v.focus.FillColor = th.Color(theme.ColorNamePrimary, variant)
		v.focus.Resize(fyne.NewSize(2, size.Height))
		v.focus.Show()
	} else {
		v.focus.Hide()
	}

	iy := (size.Height - m.icon) / 2
	x := float32(0)
	if t.tree && d.level > 0 {
		v.guide.FillColor = th.Color(theme.ColorNameSeparator, variant)
		v.guide.Move(fyne.NewPos(m.pad/2+float32(d.level-1)*m.indent+m.icon/2, 0))
		v.guide.Resize(fyne.NewSize(max(th.Size(theme.SizeNameSeparatorThickness), 1), size.Height))
		v.guide.Show()
		v.guide.Refresh()
	} else {
		v.guide.Hide()
	}
	if t.tree {
		switch d.expander {
		case collapsed:
			v.exp.Resource = theme.MenuExpandIcon()
		case expanded:
			v.exp.Resource = theme.MenuDropDownIcon()
		}
		if d.expander == noExpander {
			v.exp.Hide()
		} else {
			v.exp.Move(fyne.NewPos(x+m.pad/2+float32(d.level)*m.indent, iy))
			v.exp.Resize(fyne.NewSquareSize(m.icon))
			v.exp.Show()
			v.exp.Refresh()
		}
		x += m.icon + m.pad
	} else {
		v.exp.Hide()
	}
	if t.marks && d.mark != "" {
		v.mark.Move(fyne.NewPos(x+m.pad/2, iy))
		v.mark.Resize(fyne.NewSquareSize(m.icon))
		v.mark.Show()
	} else {
		v.mark.Hide()
	}

	fg := th.Color(theme.ColorNameForeground, variant)
	for i, tx := range v.texts {
		p := t.pos[i]
		indent := float32(0)
		if i == 0 {
			indent = float32(d.level) * m.indent
		}
		w := max(p.w-2*m.pad-indent, 0)
		tx.TextSize = m.textSize
		tx.TextStyle.Bold = d.bold
		tx.Color = fg
		tx.Text, v.cut[i] = fitText(d.cells[i], w, m.textSize, tx.TextStyle)
		tw := tx.MinSize().Width
		tx.Alignment = fyne.TextAlignLeading
		tx.Move(fyne.NewPos(p.x+m.pad+indent+alignOffset(t.cols[i].align, w, tw), (size.Height-m.textH)/2))
		tx.Resize(fyne.NewSize(tw, m.textH))
		tx.Refresh()
	}
}

// alignOffset returns where text of width tw starts in a cell of width w.
func alignOffset(a fyne.TextAlign, w, tw float32) float32 {
	switch a {
	case fyne.TextAlignTrailing:
		return max(w-tw, 0)
	case fyne.TextAlignCenter:
		return max((w-tw)/2, 0)
	}
	return 0
}

// Tapped selects the row and gives the table the focus; a tap on the
// expander opens or closes the row.
func (v *tableRowView) Tapped(ev *fyne.PointEvent) {
	t := v.t
	if v.row < 0 {
		return
	}
	t.focus()
	row := v.row
	t.selectRow(row)
	if t.tree && v.data.expander != noExpander {
		m := t.metrics()
		x0 := float32(v.data.level) * m.indent
		if ev.Position.X >= x0 && ev.Position.X < x0+m.icon+m.pad {
			t.toggle(row)
		}
	}
}

// TappedSecondary offers to copy the cell under the pointer, or the row.
func (v *tableRowView) TappedSecondary(ev *fyne.PointEvent) {
	t := v.t
	c := t.canvas()
	if v.row < 0 || c == nil {
		return
	}
	row, col := v.row, v.colAt(ev.Position.X)
	t.tip.Hide()
	items := []*fyne.MenuItem{}
	if col >= 0 {
		title := "Copy " + t.cols[col].title
		if t.cols[col].title == "" {
			title = "Copy cell"
		}
		items = append(items, fyne.NewMenuItem(title, func() { copyText(t.copyOfCell(row, col)) }))
	}
	items = append(items, fyne.NewMenuItem("Copy row", func() { copyText(t.copyOfRow(row)) }))
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, ev.AbsolutePosition)
}

// colAt returns the text column under x, or -1.
func (v *tableRowView) colAt(x float32) int {
	for i, p := range v.t.pos {
		if x >= p.x && x < p.x+p.w {
			return i
		}
	}
	return -1
}

// MouseIn marks the row hovered and shows the tooltip under the pointer.
func (v *tableRowView) MouseIn(ev *desktop.MouseEvent) { v.hover(ev) }

// MouseMoved shows the tooltip of what is under the pointer.
func (v *tableRowView) MouseMoved(ev *desktop.MouseEvent) { v.hover(ev) }

// MouseOut hides the tooltip.
func (v *tableRowView) MouseOut() {
	t := v.t
	if t.hovered == v.row {
		t.hovered = -1
		v.update()
	}
	t.tip.Hide()
}

// hover shows the mark's text over the mark icon, a cut cell whole over
// the cell, the row's tip over its other cells.
func (v *tableRowView) hover(ev *desktop.MouseEvent) {
	t := v.t
	if v.row < 0 {
		return
	}
	if t.hovered != v.row {
		t.hovered = v.row
		v.update()
	}
	text := ""
	var at, size fyne.Position
	if v.mark.Visible() && ev.Position.X >= v.mark.Position().X && ev.Position.X < v.mark.Position().X+v.mark.Size().Width {
		text = v.data.mark
		at, size = v.mark.Position(), fyne.NewPos(v.mark.Size().Width, v.mark.Size().Height)
	} else if col := v.colAt(ev.Position.X); col >= 0 && v.cut[col] {
		text = t.copyOfCell(v.row, col)
		at, size = fyne.NewPos(t.pos[col].x, 0), fyne.NewPos(0, v.Size().Height)
	} else if col >= 0 && v.data.tip != "" {
		text = v.data.tip
		at, size = fyne.NewPos(t.pos[col].x, 0), fyne.NewPos(0, v.Size().Height)
	}
	if text == "" {
		t.tip.Hide()
		return
	}
	if t.tip.Visible() && t.tip.label.Text == text {
		return
	}
	abs := ev.AbsolutePosition.Subtract(ev.Position).Add(at)
	if d := fyne.CurrentApp().Driver(); d != nil {
		abs = abs.Subtract(d.AbsolutePositionForObject(t))
	}
	t.tip.show(text, abs, fyne.NewSize(size.X, size.Y), t.Size())
}

// tableHeader is the row of column titles; dragging the edge between two
// columns resizes the one on its left.
type tableHeader struct {
	widget.BaseWidget
	t      *table
	titles []*canvas.Text
	edges  []*colEdge
}

func newTableHeader(t *table) *tableHeader {
	h := &tableHeader{t: t}
	for i, c := range t.cols {
		tx := canvas.NewText(c.title, color.Black)
		tx.TextStyle.Bold = true
		h.titles = append(h.titles, tx)
		if i < len(t.cols)-1 {
			h.edges = append(h.edges, newColEdge(t, i))
		}
	}
	h.ExtendBaseWidget(h)
	return h
}

// CreateRenderer links the header to its renderer.
func (h *tableHeader) CreateRenderer() fyne.WidgetRenderer {
	h.ExtendBaseWidget(h)
	objs := []fyne.CanvasObject{}
	for _, tx := range h.titles {
		objs = append(objs, tx)
	}
	for _, e := range h.edges {
		objs = append(objs, e)
	}
	return &tableHeaderRenderer{h: h, objects: objs}
}

type tableHeaderRenderer struct {
	h       *tableHeader
	objects []fyne.CanvasObject
}

func (r *tableHeaderRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *tableHeaderRenderer) Destroy()                     {}
func (r *tableHeaderRenderer) MinSize() fyne.Size           { return fyne.NewSize(0, r.h.t.metrics().rowH) }
func (r *tableHeaderRenderer) Refresh()                     { r.Layout(r.h.Size()) }

func (r *tableHeaderRenderer) Layout(size fyne.Size) {
	t := r.h.t
	if len(t.pos) != len(t.cols) {
		return
	}
	m := t.metrics()
	th := t.Theme()
	fg := th.Color(theme.ColorNameForeground, fyne.CurrentApp().Settings().ThemeVariant())
	for i, tx := range r.h.titles {
		p := t.pos[i]
		w := max(p.w-2*m.pad, 0)
		tx.Text, _ = fitText(t.cols[i].title, w, m.textSize, tx.TextStyle)
		tx.TextSize = m.textSize
		tx.Color = fg
		tw := tx.MinSize().Width
		tx.Move(fyne.NewPos(p.x+m.pad+alignOffset(t.cols[i].align, w, tw), (size.Height-m.textH)/2))
		tx.Resize(fyne.NewSize(tw, m.textH))
		tx.Refresh()
	}
	ew := 2 * m.pad
	for i, e := range r.h.edges {
		p := t.pos[i]
		e.Move(fyne.NewPos(p.x+p.w-ew/2, 0))
		e.Resize(fyne.NewSize(ew, size.Height))
		e.Refresh()
	}
}

// colEdge is the draggable edge on the right of a column in the header.
type colEdge struct {
	widget.BaseWidget
	t    *table
	col  int
	line *canvas.Rectangle
}

var (
	_ fyne.Draggable     = (*colEdge)(nil)
	_ desktop.Cursorable = (*colEdge)(nil)
)

func newColEdge(t *table, col int) *colEdge {
	e := &colEdge{t: t, col: col, line: canvas.NewRectangle(color.Transparent)}
	e.ExtendBaseWidget(e)
	return e
}

// Cursor is the resize cursor.
func (e *colEdge) Cursor() desktop.Cursor { return desktop.HResizeCursor }

// Dragged resizes the column on the left of the edge, or the one on its
// right when the left one is the stretch column, which takes what is left.
func (e *colEdge) Dragged(ev *fyne.DragEvent) {
	t := e.t
	m := t.metrics()
	if c := e.col; c == t.stretch {
		t.widths[c+1] = max(t.pos[c+1].w-ev.Dragged.DX, minColWidth(m))
	} else {
		t.widths[c] = max(t.pos[c].w+ev.Dragged.DX, minColWidth(m))
	}
	t.Refresh()
}

// DragEnd ends a drag.
func (e *colEdge) DragEnd() {}

// CreateRenderer links the edge to its renderer.
func (e *colEdge) CreateRenderer() fyne.WidgetRenderer {
	e.ExtendBaseWidget(e)
	return &colEdgeRenderer{e: e}
}

type colEdgeRenderer struct{ e *colEdge }

func (r *colEdgeRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.e.line} }
func (r *colEdgeRenderer) Destroy()                     {}
func (r *colEdgeRenderer) MinSize() fyne.Size           { return fyne.NewSize(1, 1) }
func (r *colEdgeRenderer) Refresh()                     { r.Layout(r.e.Size()) }

func (r *colEdgeRenderer) Layout(size fyne.Size) {
	th := r.e.t.Theme()
	st := th.Size(theme.SizeNameSeparatorThickness)
	r.e.line.FillColor = th.Color(theme.ColorNameSeparator, fyne.CurrentApp().Settings().ThemeVariant())
	r.e.line.Move(fyne.NewPos((size.Width-st)/2, size.Height/5))
	r.e.line.Resize(fyne.NewSize(st, size.Height*3/5))
	r.e.line.Refresh()
}
