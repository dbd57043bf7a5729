// The scroll bar of the virtual views: it scrolls by whole rows, so that positions stay exact however many rows there are.

package view

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// rowScroller is a view that shows a window of rows, scrolled by whole rows.
type rowScroller interface {
	// rowSpan returns the rows in all, the rows on screen and the first
	// row on screen.
	rowSpan() (total, shown, top int)
	// setTop scrolls so that row top is the first on screen (clamped).
	setTop(top int)
}

// maxTop returns the largest first row that still fills the screen.
func maxTop(s rowScroller) int {
	total, shown, _ := s.rowSpan()
	return max(0, total-max(shown, 1))
}

// clampTop returns top kept within the rows of s, and whether it is not
// the first row on screen already.
func clampTop(s rowScroller, top int) (int, bool) {
	_, _, cur := s.rowSpan()
	top = min(max(top, 0), maxTop(s))
	return top, top != cur
}

// scrollBy scrolls s by a wheel or touchpad event of dy pixels over rows
// of height rowH; rest keeps the distance not yet worth a whole row.
func scrollBy(s rowScroller, rest *float32, dy, rowH float32) {
	if rowH <= 0 {
		return
	}
	*rest -= dy / rowH
	n := int(*rest)
	*rest -= float32(n)
	if n != 0 {
		_, _, top := s.rowSpan()
		s.setTop(top + n)
	}
}

// rowBar is the scroll bar of a rowScroller: drag the thumb, or tap the
// track to page towards the tap. It hides when every row is on screen.
type rowBar struct {
	widget.BaseWidget
	view     rowScroller
	dragRest float32
}

var (
	_ fyne.Draggable = (*rowBar)(nil)
	_ fyne.Tappable  = (*rowBar)(nil)
)

func newRowBar(v rowScroller) *rowBar {
	b := &rowBar{view: v}
	b.ExtendBaseWidget(b)
	return b
}

// thumb returns the position and height of the thumb in a track of height h.
func (b *rowBar) thumb(h float32) (y, th float32) {
	total, shown, top := b.view.rowSpan()
	if total <= shown || total == 0 {
		return 0, h
	}
	th = max(h*float32(shown)/float32(total), 2*b.Theme().Size(theme.SizeNameScrollBar))
	th = min(th, h)
	if mt := maxTop(b.view); mt > 0 {
		y = (h - th) * float32(min(top, mt)) / float32(mt)
	}
	return y, th
}

// Dragged moves the thumb with the pointer.
func (b *rowBar) Dragged(ev *fyne.DragEvent) {
	h := b.Size().Height
	_, th := b.thumb(h)
	if h-th <= 0 {
		return
	}
	b.dragRest += ev.Dragged.DY * float32(maxTop(b.view)) / (h - th)
	n := int(b.dragRest)
	b.dragRest -= float32(n)
	if n != 0 {
		_, _, top := b.view.rowSpan()
		b.view.setTop(top + n)
	}
}

// DragEnd ends a drag.
func (b *rowBar) DragEnd() { b.dragRest = 0 }

// Tapped pages up or down, towards the tap.
func (b *rowBar) Tapped(ev *fyne.PointEvent) {
	y, th := b.thumb(b.Size().Height)
	_, shown, top := b.view.rowSpan()
	page := max(shown-1, 1)
	switch {
	case ev.Position.Y < y:
		b.view.setTop(top - page)
	case ev.Position.Y > y+th:
		b.view.setTop(top + page)
	}
}

// CreateRenderer links the bar to its renderer.
func (b *rowBar) CreateRenderer() fyne.WidgetRenderer {
	b.ExtendBaseWidget(b)
	r := &rowBarRenderer{bar: b, track: canvas.NewRectangle(color.Transparent), thumb: canvas.NewRectangle(color.Transparent)}
	r.update()
	return r
}

type rowBarRenderer struct {
	bar          *rowBar
	track, thumb *canvas.Rectangle
}

func (r *rowBarRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.track, r.thumb}
}
func (r *rowBarRenderer) Destroy()         {}
func (r *rowBarRenderer) Layout(fyne.Size) { r.update() }
func (r *rowBarRenderer) MinSize() fyne.Size {
	return fyne.NewSquareSize(r.bar.Theme().Size(theme.SizeNameScrollBar))
}
func (r *rowBarRenderer) Refresh() {
	r.update()
	canvas.Refresh(r.bar)
}

func (r *rowBarRenderer) update() {
	th := r.bar.Theme()
	variant := fyne.CurrentApp().Settings().ThemeVariant()
	size := r.bar.Size()
	if total, shown, _ := r.bar.view.rowSpan(); total <= shown {
		r.track.Hide()
		r.thumb.Hide()
		return
	}
	r.track.FillColor = th.Color(theme.ColorNameScrollBarBackground, variant)
	r.track.Resize(size)
	r.track.Show()
	y, h := r.bar.thumb(size.Height)
	pad := th.Size(theme.SizeNameScrollBarSmall)
	r.thumb.FillColor = th.Color(theme.ColorNameScrollBar, variant)
	r.thumb.CornerRadius = th.Size(theme.SizeNameScrollBarRadius)
	r.thumb.Move(fyne.NewPos(pad, y))
	r.thumb.Resize(fyne.NewSize(max(size.Width-2*pad, 1), h))
	r.thumb.Show()
	r.track.Refresh()
	r.thumb.Refresh()
}
