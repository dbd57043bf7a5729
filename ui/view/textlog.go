// TextLog: a long text in monospace, soft-wrapped at word boundaries to the width it is given, a screenful of rows laid out at a time.

package view

import (
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TextLog shows a text in a monospace font, its lines soft-wrapped at word
// boundaries to the view's width (a word longer than a row is cut where
// the row is full), a thin bar in the margin beside each row that goes on
// with the line above; resizing the view wraps them again. Wrapping never
// changes the text: Lines counts the text's own lines, Rows the rows they
// take. Only the rows on screen are laid out, so the text may be long (a
// few hundred KiB wrap in milliseconds; the caller bounds it).
type TextLog struct {
	widget.BaseWidget

	text    string
	lines   int
	rows    []span // the text wrapped at cols columns
	cols    int    // 0: not at all (the view has no width yet)
	wrapped bool   // rows are up to date

	top, shown int
	scrollRest float32
	follow     bool // stay at the last row as the text changes
}

var (
	_ fyne.Scrollable = (*TextLog)(nil)
	_ rowScroller     = (*TextLog)(nil)
)

// NewTextLog returns an empty TextLog.
func NewTextLog() *TextLog {
	t := &TextLog{}
	t.ExtendBaseWidget(t)
	return t
}

// SetText shows s, wrapped again, scrolled as it was (or at the end after
// ScrollToBottom).
func (t *TextLog) SetText(s string) {
	t.text = s
	t.lines = 0
	if s != "" {
		t.lines = 1
		for i := 0; i < len(s); i++ {
			if s[i] == '\n' {
				t.lines++
			}
		}
	}
	t.wrapped = false
	t.Refresh()
}

// Text returns the text shown.
func (t *TextLog) Text() string { return t.text }

// Lines returns the number of lines of the text: newlines plus one, 0 for
// no text.
func (t *TextLog) Lines() int { return t.lines }

// Rows returns the number of rows the text takes, wrapped at the view's
// width.
func (t *TextLog) Rows() int {
	t.wrap(t.metrics())
	return len(t.rows)
}

// RowText returns row i as drawn.
func (t *TextLog) RowText(i int) string {
	t.wrap(t.metrics())
	if i < 0 || i >= len(t.rows) {
		return ""
	}
	return displayRow(t.text[t.rows[i].start:t.rows[i].end])
}

// TopRow returns the first row on screen.
func (t *TextLog) TopRow() int { return t.top }

// ScrollToBottom shows the last rows, and keeps them shown as the text
// changes until the user scrolls away.
func (t *TextLog) ScrollToBottom() {
	t.follow = true
	t.setTop(maxTop(t))
}

// ScrollToTop shows the first rows.
func (t *TextLog) ScrollToTop() {
	t.follow = false
	t.setTop(0)
}

// Scrolled scrolls by whole rows (fyne.Scrollable).
func (t *TextLog) Scrolled(ev *fyne.ScrollEvent) {
	scrollBy(t, &t.scrollRest, ev.Scrolled.DY, t.metrics().rowH)
	t.follow = t.top >= maxTop(t)
}

// rowSpan reports the rows in all, on screen, and the first on screen.
func (t *TextLog) rowSpan() (total, shown, top int) { return len(t.rows), t.shown, t.top }

// setTop scrolls so that row top is the first on screen.
func (t *TextLog) setTop(top int) {
	top, moved := clampTop(t, top)
	if !moved {
		return
	}
	t.top = top
	t.Refresh()
}

// textLogMetrics is the geometry of the rows, from the theme.
type textLogMetrics struct {
	textSize, cw, textH, rowH float32
	inset                     float32
	cols                      int // columns that fit the width; 0 before the view has one
}

func (t *TextLog) metrics() textLogMetrics {
	th := t.Theme()
	m := textLogMetrics{textSize: th.Size(theme.SizeNameText), inset: th.Size(theme.SizeNameInnerPadding)}
	c := fyne.MeasureText("M", m.textSize, fyne.TextStyle{Monospace: true})
	m.cw, m.textH = c.Width, c.Height
	m.rowH = float32(math.Ceil(float64(m.textH + th.Size(theme.SizeNameLineSpacing))))
	if w := t.Size().Width; w > 0 && m.cw > 0 {
		m.cols = max(int((w-th.Size(theme.SizeNameScrollBar)-2*m.inset)/m.cw), 1)
	}
	return m
}

// wrap wraps the text at the columns that fit, when they changed.
func (t *TextLog) wrap(m textLogMetrics) {
	if t.wrapped && m.cols == t.cols {
		return
	}
	t.cols, t.wrapped = m.cols, true
	t.rows = t.rows[:0]
	if t.text != "" {
		t.rows = wrapText(t.rows, t.text, t.cols)
	}
}

// CreateRenderer links the view to its renderer.
func (t *TextLog) CreateRenderer() fyne.WidgetRenderer {
	t.ExtendBaseWidget(t)
	r := &textLogRenderer{t: t, bar: newRowBar(t)}
	r.objects = []fyne.CanvasObject{r.bar}
	return r
}

type textLogRenderer struct {
	t       *TextLog
	bar     *rowBar
	texts   []*canvas.Text
	marks   []*canvas.Rectangle // beside a row that goes on with a wrapped line
	objects []fyne.CanvasObject
	size    fyne.Size
}

func (r *textLogRenderer) Objects() []fyne.CanvasObject { return r.objects }
func (r *textLogRenderer) Destroy()                     {}

// MinSize is room for two rows of a dozen characters.
func (r *textLogRenderer) MinSize() fyne.Size {
	m := r.t.metrics()
	return fyne.NewSize(12*m.cw+2*m.inset+r.t.Theme().Size(theme.SizeNameScrollBar), 2*m.rowH+2*m.inset)
}

func (r *textLogRenderer) Layout(size fyne.Size) {
	r.size = size
	t := r.t
	m := t.metrics()
	t.wrap(m)
	barW := t.Theme().Size(theme.SizeNameScrollBar)
	n := 0
	if m.rowH > 0 {
		n = int(max(size.Height-2*m.inset, 0) / m.rowH)
	}
	t.shown = n
	if t.follow || t.top > maxTop(t) {
		t.top = maxTop(t)
	}
	for len(r.texts) < n {
		tx := canvas.NewText("", color.Black)
		tx.TextStyle.Monospace = true
		mark := canvas.NewRectangle(color.Transparent)
		r.texts = append(r.texts, tx)
		r.marks = append(r.marks, mark)
		r.objects = append(r.objects, mark, tx)
	}
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	fg := t.Theme().Color(theme.ColorNameForeground, variant)
	muted := t.Theme().Color(theme.ColorNamePlaceHolder, variant)
	for i, tx := range r.texts {
		row := t.top + i
		mark := r.marks[i]
		if i >= n || row >= len(t.rows) {
			tx.Hide()
			mark.Hide()
			continue
		}
		if t.rows[row].first {
			mark.Hide()
		} else { // a thin bar in the margin: this row goes on with the line above
			mark.FillColor = muted
			mark.Move(fyne.NewPos(m.inset/2-1, m.inset+float32(i)*m.rowH))
			mark.Resize(fyne.NewSize(2, m.rowH))
			mark.Show()
			mark.Refresh()
		}
		tx.Text = displayRow(t.text[t.rows[row].start:t.rows[row].end])
		tx.TextSize = m.textSize
		tx.Color = fg
		tx.Move(fyne.NewPos(m.inset, m.inset+float32(i)*m.rowH+(m.rowH-m.textH)/2))
		tx.Resize(fyne.NewSize(size.Width-barW-2*m.inset, m.textH))
		tx.Show()
		tx.Refresh()
	}
	r.bar.Move(fyne.NewPos(size.Width-barW, 0))
	r.bar.Resize(fyne.NewSize(barW, size.Height))
	r.bar.Refresh()
}

func (r *textLogRenderer) Refresh() {
	r.Layout(r.size)
	canvas.Refresh(r.t)
}
