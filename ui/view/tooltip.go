// The tooltip of the tables: a bubble of text drawn over its widget's own content, and the ellipsis that says a cell has more.

package view

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// tooltip is a bubble of text drawn above other content of its parent
// widget. It takes no events, so it never steals the pointer from the
// object it describes.
type tooltip struct {
	widget.BaseWidget
	bg    *canvas.Rectangle
	label *widget.Label
}

// maxTipText bounds the text a tooltip shows.
const maxTipText = 600

func newTooltip() *tooltip {
	t := &tooltip{bg: canvas.NewRectangle(color.Transparent), label: widget.NewLabel("")}
	t.label.Wrapping = fyne.TextWrapWord
	t.ExtendBaseWidget(t)
	t.Hide()
	return t
}

// text returns the text shown, "" when hidden.
func (t *tooltip) text() string {
	if !t.Visible() {
		return ""
	}
	return t.label.Text
}

// show places the tooltip with text s in a parent of size bounds, beside
// the object at pos of size size (both relative to the parent): under it,
// or above it when there is no room under.
func (t *tooltip) show(s string, pos fyne.Position, size, bounds fyne.Size) {
	if len(s) > maxTipText {
		s = s[:maxTipText] + "…"
	}
	t.label.SetText(s)
	th := t.Theme()
	pad := th.Size(theme.SizeNamePadding)
	one := fyne.MeasureText(s, th.Size(theme.SizeNameText), fyne.TextStyle{}).Width +
		2*th.Size(theme.SizeNameInnerPadding) + pad
	w := max(min(one, bounds.Width-2*pad, 60*th.Size(theme.SizeNameText)), 1)
	t.label.Resize(fyne.NewSize(w, t.label.MinSize().Height))
	h := t.label.MinSize().Height
	t.Resize(fyne.NewSize(w, h))
	x := min(pos.X, bounds.Width-w-pad)
	y := pos.Y + size.Height
	if y+h > bounds.Height {
		y = pos.Y - h
	}
	t.Move(fyne.NewPos(max(x, pad), max(y, 0)))
	t.Show()
	t.Refresh()
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

// ellipsis ends a text cut to fit its cell.
const ellipsis = "…"

// fitText returns s cut with an ellipsis so that it measures at most w
// wide, and whether it was cut. It measures O(log len(s)) prefixes.
func fitText(s string, w, size float32, style fyne.TextStyle) (string, bool) {
	if s == "" || fyne.MeasureText(s, size, style).Width <= w {
		return s, false
	}
	rs := []rune(s)
	lo, hi := 0, len(rs) // the longest prefix that fits lies in [lo, hi)
	for lo < hi-1 {
		mid := (lo + hi) / 2
		if fyne.MeasureText(string(rs[:mid])+ellipsis, size, style).Width <= w {
			lo = mid
		} else {
			hi = mid
		}
	}
	return strings.TrimRight(string(rs[:lo]), " ") + ellipsis, true
}
