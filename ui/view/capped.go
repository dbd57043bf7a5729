// Capped scroll: content in a vertical scroll as tall as the content up to a bound, so that a long message never makes its panel, or the window, taller.

package view

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
)

// NewCappedScroll returns content in a vertical scroll whose minimum
// height is the content's, up to maxHeight: shorter content shows whole,
// taller content scrolls. Text that wraps (a word-wrapped label) is
// measured at the scroll's width.
func NewCappedScroll(content fyne.CanvasObject, maxHeight float32) *fyne.Container {
	s := container.NewVScroll(content)
	return container.New(&cappedLayout{max: maxHeight, content: content}, s)
}

type cappedLayout struct {
	max     float32
	content fyne.CanvasObject
}

func (l *cappedLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *cappedLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w float32
	for _, o := range objs {
		w = max(w, o.MinSize().Width)
	}
	if !l.content.Visible() {
		return fyne.NewSize(w, 0)
	}
	return fyne.NewSize(w, min(l.content.MinSize().Height, l.max))
}
