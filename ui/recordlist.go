// RecordList: a virtualized table of the records of an exchange, one row per record.

package ui

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
)

// RecordRow is what the RecordList shows of one record.
type RecordRow struct {
	Index         int            // the record's number in the exchange
	Dir           fcgi.Direction // sent to or received from the application
	Type          fcgi.RecordType
	RequestID     uint16
	ContentLength uint16
	PaddingLength uint8
	T             time.Duration // time since the exchange started
	Anomaly       string        // when set, the row is marked and this text is its tooltip
}

// Arrow returns the direction as an arrow: "→" for sent, "←" for received.
func (r RecordRow) Arrow() string {
	switch r.Dir {
	case fcgi.Sent:
		return "→"
	case fcgi.Received:
		return "←"
	}
	return "?"
}

// TimeText returns the time offset for display, e.g. "+1.234 ms".
func (r RecordRow) TimeText() string {
	if r.T < time.Second {
		return fmt.Sprintf("+%.3f ms", float64(r.T)/float64(time.Millisecond))
	}
	return fmt.Sprintf("+%.3f s", r.T.Seconds())
}

// cells returns the texts of the row's columns after the anomaly mark.
func (r RecordRow) cells() [recordCells]string {
	return [recordCells]string{
		strconv.Itoa(r.Index), r.Arrow(), r.Type.String(), strconv.Itoa(int(r.RequestID)),
		strconv.Itoa(int(r.ContentLength)), strconv.Itoa(int(r.PaddingLength)), r.TimeText(),
	}
}

// recordCells is the number of text columns of a RecordList row.
const recordCells = 7

// column describes a text column of a table: its title, the widest texts it
// expects (which size it; alternatives separated by "|") and its alignment.
type column struct {
	title  string
	sample string
	align  fyne.TextAlign
}

func recordColumns() [recordCells]column {
	return [recordCells]column{
		{"#", "000000", fyne.TextAlignTrailing},
		{"", "←", fyne.TextAlignCenter},
		{"type", "GET_VALUES_RESULT", fyne.TextAlignLeading},
		{"id", "65535", fyne.TextAlignTrailing},
		{"content", "content", fyne.TextAlignTrailing},
		{"pad", "pad", fyne.TextAlignTrailing},
		{"time", "+9999.999 ms", fyne.TextAlignTrailing},
	}
}

// RecordList shows records as a table: mark, #, direction, type, request
// id, content length, padding, time. It reads rows from a data source on
// demand, so that only the rows on screen cost anything: 100,000 records
// are as cheap as ten. Rows with an anomaly carry a warning icon whose
// tooltip says what is wrong. All methods must be called on the UI
// goroutine.
type RecordList struct {
	widget.BaseWidget

	// OnSelected is called with the row index when the user selects a row.
	OnSelected func(i int)

	n        int
	get      func(i int) RecordRow
	selected int

	header *recordRowView
	list   *widget.List
	tip    *tooltip
}

// NewRecordList returns an empty RecordList.
func NewRecordList() *RecordList {
	l := &RecordList{selected: -1}
	l.header = newRecordRowView(l, true)
	l.tip = newTooltip()
	l.list = widget.NewList(
		func() int { return l.n },
		func() fyne.CanvasObject { return newRecordRowView(l, false) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if l.get != nil && id < l.n {
				o.(*recordRowView).set(l.get(id))
			}
		})
	l.list.OnSelected = func(id widget.ListItemID) {
		l.selected = id
		if l.OnSelected != nil {
			l.OnSelected(id)
		}
	}
	l.list.OnUnselected = func(id widget.ListItemID) {
		if l.selected == id {
			l.selected = -1
		}
	}
	l.ExtendBaseWidget(l)
	return l
}

// SetRecords replaces the rows: n rows, row i read from get(i) when it
// comes on screen (get may be called again for the same row at any time).
// It clears the selection.
func (l *RecordList) SetRecords(n int, get func(i int) RecordRow) {
	l.list.UnselectAll()
	l.selected = -1
	l.n, l.get = max(n, 0), get
	l.hideTip()
	l.list.Refresh()
	l.list.ScrollToTop()
}

// Append tells the list that count more rows are available from the data
// source given to SetRecords, after the existing ones. The selection is
// kept; without one, the list follows the newest row.
func (l *RecordList) Append(count int) {
	if count <= 0 {
		return
	}
	l.n += count
	l.list.Refresh()
	if l.selected < 0 {
		l.list.ScrollToBottom()
	}
}

// Len returns the number of rows.
func (l *RecordList) Len() int { return l.n }

// Select selects row i, scrolls it into view and calls OnSelected.
func (l *RecordList) Select(i int) {
	if i >= 0 && i < l.n {
		l.list.Select(i)
	}
}

// Selected returns the selected row, or -1.
func (l *RecordList) Selected() int { return l.selected }

// UnselectAll clears the selection.
func (l *RecordList) UnselectAll() {
	l.list.UnselectAll()
	l.selected = -1
}

// ScrollTo scrolls row i into view without selecting it.
func (l *RecordList) ScrollTo(i int) { l.list.ScrollTo(i) }

// showTip shows text next to the anomaly icon at abs (absolute position)
// of the given size.
func (l *RecordList) showTip(text string, abs fyne.Position, size fyne.Size) {
	d := fyne.CurrentApp().Driver()
	pos := abs.Subtract(d.AbsolutePositionForObject(l))
	l.tip.setText(text)
	bounds := l.Size()
	pad := l.Theme().Size(theme.SizeNamePadding)
	w := min(l.tip.singleLineWidth(), max(bounds.Width-2*pad, 1))
	l.tip.Resize(fyne.NewSize(w, l.tip.MinSize().Height))
	h := l.tip.heightFor(w)
	l.tip.Resize(fyne.NewSize(w, h))
	x := min(pos.X+size.Width, bounds.Width-w-pad)
	y := pos.Y + size.Height
	if y+h > bounds.Height {
		y = pos.Y - h
	}
	l.tip.Move(fyne.NewPos(max(x, pad), max(y, 0)))
	l.tip.Show()
	l.tip.Refresh()
}

func (l *RecordList) hideTip() {
	if l.tip.Visible() {
		l.tip.Hide()
	}
}

// TooltipText returns the text of the tooltip on screen, "" when none is.
func (l *RecordList) TooltipText() string {
	if !l.tip.Visible() {
		return ""
	}
	return l.tip.label.Text
}

// CreateRenderer links the widget to its renderer.
func (l *RecordList) CreateRenderer() fyne.WidgetRenderer {
	l.ExtendBaseWidget(l)
	l.tip.Hide()
	return &recordListRenderer{l: l, sep: widget.NewSeparator()}
}

type recordListRenderer struct {
	l   *RecordList
	sep *widget.Separator
}

func (r *recordListRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.l.header, r.sep, r.l.list, r.l.tip}
}
func (r *recordListRenderer) Destroy() {}

func (r *recordListRenderer) Layout(size fyne.Size) {
	hh := r.l.header.MinSize().Height
	st := r.l.Theme().Size(theme.SizeNameSeparatorThickness)
	r.l.header.Move(fyne.NewPos(0, 0))
	r.l.header.Resize(fyne.NewSize(size.Width, hh))
	r.sep.Move(fyne.NewPos(0, hh))
	r.sep.Resize(fyne.NewSize(size.Width, st))
	r.l.list.Move(fyne.NewPos(0, hh+st))
	r.l.list.Resize(fyne.NewSize(size.Width, max(size.Height-hh-st, 0)))
}

func (r *recordListRenderer) MinSize() fyne.Size {
	h := r.l.header.MinSize()
	lm := r.l.list.MinSize()
	return fyne.NewSize(max(h.Width, lm.Width), h.Height+lm.Height)
}

func (r *recordListRenderer) Refresh() {
	r.l.header.Refresh()
	r.l.list.Refresh()
	canvas.Refresh(r.l)
}

// recordRowView is one row of the table, or its header.
type recordRowView struct {
	widget.BaseWidget
	icon  *anomalyIcon
	cells [recordCells]*widget.Label
	box   *fyne.Container
}

func newRecordRowView(l *RecordList, header bool) *recordRowView {
	v := &recordRowView{icon: newAnomalyIcon(l)}
	cols := recordColumns()
	objs := []fyne.CanvasObject{v.icon}
	for i, c := range cols {
		lb := widget.NewLabel("")
		lb.Alignment = c.align
		lb.Truncation = fyne.TextTruncateEllipsis
		if header {
			lb.TextStyle.Bold = true
			lb.SetText(c.title)
		}
		v.cells[i] = lb
		objs = append(objs, lb)
	}
	v.box = container.New(newColumnsLayout(func(th fyne.Theme) []float32 {
		ws := []float32{th.Size(theme.SizeNameInlineIcon) + th.Size(theme.SizeNameInnerPadding)}
		for _, c := range cols {
			ws = append(ws, columnWidth(th, c))
		}
		return ws
	}), objs...)
	v.ExtendBaseWidget(v)
	return v
}

// set shows row r.
func (v *recordRowView) set(r RecordRow) {
	for i, s := range r.cells() {
		if v.cells[i].Text != s {
			v.cells[i].SetText(s)
		}
	}
	v.icon.setText(r.Anomaly)
}

// CreateRenderer links the row to its renderer.
func (v *recordRowView) CreateRenderer() fyne.WidgetRenderer {
	v.ExtendBaseWidget(v)
	return widget.NewSimpleRenderer(v.box)
}

// textColumnWidth returns the width a label needs to show whole the widest
// of the samples, which are separated by "|".
func textColumnWidth(th fyne.Theme, samples string, bold bool) float32 {
	var w float32
	for _, s := range strings.Split(samples, "|") {
		w = max(w, fyne.MeasureText(s, th.Size(theme.SizeNameText), fyne.TextStyle{Bold: bold}).Width)
	}
	return w + 2*th.Size(theme.SizeNameInnerPadding)
}

// columnWidth returns the width of column c, the same in the header (bold
// title) and in the rows (regular sample), with room to spare so that
// rounding never truncates the widest expected text.
func columnWidth(th fyne.Theme, c column) float32 {
	return max(textColumnWidth(th, c.sample, false), textColumnWidth(th, c.title, true)) + th.Size(theme.SizeNamePadding)
}

// columnsLayout places objects side by side in columns of fixed widths,
// with the theme's padding between them; the last column takes what width
// is left. Objects beyond the widths given share nothing: they are hidden.
type columnsLayout struct {
	widths func(th fyne.Theme) []float32
}

func newColumnsLayout(widths func(th fyne.Theme) []float32) *columnsLayout {
	return &columnsLayout{widths: widths}
}

func (c *columnsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	th := fyne.CurrentApp().Settings().Theme()
	ws := c.widths(th)
	pad := th.Size(theme.SizeNamePadding)
	x := float32(0)
	for i, o := range objs {
		if i >= len(ws) {
			o.Hide()
			continue
		}
		w := ws[i]
		if i == len(objs)-1 || i == len(ws)-1 {
			w = max(size.Width-x, 0)
		}
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + pad
	}
}

func (c *columnsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	th := fyne.CurrentApp().Settings().Theme()
	ws := c.widths(th)
	pad := th.Size(theme.SizeNamePadding)
	var w, h float32
	for i, o := range objs {
		if i >= len(ws) {
			break
		}
		if i > 0 {
			w += pad
		}
		w += ws[i]
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(w, h)
}

// anomalyIcon is the warning mark of a row; pointing at it shows the
// anomaly as a tooltip in the RecordList.
type anomalyIcon struct {
	widget.BaseWidget
	list *RecordList
	text string
	icon *widget.Icon
}

var _ desktop.Hoverable = (*anomalyIcon)(nil)

func newAnomalyIcon(l *RecordList) *anomalyIcon {
	a := &anomalyIcon{list: l, icon: widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))}
	a.icon.Hide()
	a.ExtendBaseWidget(a)
	return a
}

func (a *anomalyIcon) setText(s string) {
	if s == a.text {
		return
	}
	a.text = s
	if s == "" {
		a.icon.Hide()
	} else {
		a.icon.Show()
	}
}

// MouseIn shows the tooltip.
func (a *anomalyIcon) MouseIn(ev *desktop.MouseEvent) {
	if a.text != "" {
		a.list.showTip(a.text, ev.AbsolutePosition.Subtract(ev.Position), a.Size())
	}
}

// MouseMoved does nothing: the tooltip stays while the pointer is on the icon.
func (a *anomalyIcon) MouseMoved(*desktop.MouseEvent) {}

// MouseOut hides the tooltip.
func (a *anomalyIcon) MouseOut() { a.list.hideTip() }

// CreateRenderer links the icon to its renderer.
func (a *anomalyIcon) CreateRenderer() fyne.WidgetRenderer {
	a.ExtendBaseWidget(a)
	return &anomalyIconRenderer{a: a}
}

type anomalyIconRenderer struct{ a *anomalyIcon }

func (r *anomalyIconRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.a.icon} }
func (r *anomalyIconRenderer) Destroy()                     {}
func (r *anomalyIconRenderer) Refresh()                     { r.a.icon.Refresh() }

func (r *anomalyIconRenderer) MinSize() fyne.Size {
	return fyne.NewSquareSize(r.a.Theme().Size(theme.SizeNameInlineIcon))
}

func (r *anomalyIconRenderer) Layout(size fyne.Size) {
	s := r.a.Theme().Size(theme.SizeNameInlineIcon)
	r.a.icon.Resize(fyne.NewSquareSize(s))
	r.a.icon.Move(fyne.NewPos((size.Width-s)/2, (size.Height-s)/2))
}

// tooltip is a bubble of text drawn above other content of its parent
// widget. It takes no events, so it never steals the pointer from the
// object it describes.
type tooltip struct {
	widget.BaseWidget
	bg    *canvas.Rectangle
	label *widget.Label
}

func newTooltip() *tooltip {
	t := &tooltip{bg: canvas.NewRectangle(color.Transparent), label: widget.NewLabel("")}
	t.label.Wrapping = fyne.TextWrapWord
	t.ExtendBaseWidget(t)
	return t
}

func (t *tooltip) setText(s string) { t.label.SetText(s) }

// singleLineWidth is the width the text needs on one line.
func (t *tooltip) singleLineWidth() float32 {
	th := t.Theme()
	w := fyne.MeasureText(t.label.Text, th.Size(theme.SizeNameText), fyne.TextStyle{}).Width
	return w + 2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
}

// heightFor returns the height the text needs when wrapped at width w.
func (t *tooltip) heightFor(w float32) float32 {
	t.label.Resize(fyne.NewSize(w, t.label.MinSize().Height))
	return t.label.MinSize().Height
}

// CreateRenderer links the tooltip to its renderer.
func (t *tooltip) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	r := &tooltipRenderer{t: t}
	r.Refresh()
	return r
}

type tooltipRenderer struct{ t *tooltip }

func (r *tooltipRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.t.bg, r.t.label}
}
func (r *tooltipRenderer) Destroy()           {}
func (r *tooltipRenderer) MinSize() fyne.Size { return r.t.label.MinSize() }

func (r *tooltipRenderer) Layout(size fyne.Size) {
	r.t.bg.Resize(size)
	r.t.label.Resize(size)
}

func (r *tooltipRenderer) Refresh() {
	th := r.t.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.t.bg.FillColor = th.Color(theme.ColorNameOverlayBackground, v)
	r.t.bg.StrokeColor = th.Color(theme.ColorNameInputBorder, v)
	r.t.bg.StrokeWidth = th.Size(theme.SizeNameInputBorder)
	r.t.bg.CornerRadius = th.Size(theme.SizeNameInputRadius)
	r.t.bg.Refresh()
	r.t.label.Refresh()
}
