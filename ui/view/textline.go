// TextLine: one line of text cut with an ellipsis when its space is too narrow, whose whole text a tooltip shows on hover and a right-click copies; TipLayer: the layer of the window that draws the tooltips.

package view

import (
	"image/color"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// TipDelay is how long the pointer rests on a cut TextLine before its
// tooltip shows.
const TipDelay = 400 * time.Millisecond

// TextLine is one line of text. When its space is too narrow the text is
// cut with an ellipsis, and the whole of it stays in reach: resting the
// pointer on the line shows it in a tooltip (when the window's content is
// a TipLayer), and the right-click menu copies it. Line breaks and tabs
// are shown as ⏎ and ⇥ so that the text stays on one line.
//
// Its minimum width is small, whatever the text: a TextLine never makes
// its container, or the window, wider.
type TextLine struct {
	widget.BaseWidget

	Text      string
	TextStyle fyne.TextStyle
	Alignment fyne.TextAlign
	// Importance colours the text: LowImportance is secondary text, in the
	// placeholder colour; Danger, Warning and Success their colours.
	Importance widget.Importance
	// SizeName is the text's size; empty means the theme's text size.
	SizeName fyne.ThemeSizeName
	// OnTapped is called when the line is tapped. A TextLine takes the
	// right-click (to copy), so a desktop click lands on it rather than on
	// what it is drawn in: a list or table whose cells are TextLines sets
	// OnTapped to select the cell's row.
	OnTapped func()

	rich    *widget.RichText
	hoverID int // counts pointer entries, so that a late tooltip timer is dropped
	tipAt   fyne.Position
}

// NewTextLine returns a line showing text.
func NewTextLine(text string) *TextLine {
	l := &TextLine{Text: text}
	l.ExtendBaseWidget(l)
	return l
}

// SetText changes the text.
func (l *TextLine) SetText(text string) {
	if text == l.Text {
		return
	}
	l.Text = text
	l.Refresh()
}

// TextWidth returns the width the line needs to show its whole text.
func (l *TextLine) TextWidth() float32 {
	if l.Text == "" {
		return 0
	}
	pad := l.Theme().Size(theme.SizeNameInnerPadding)
	return fyne.MeasureText(oneLine(l.Text), l.textSize(), l.TextStyle).Width + 2*pad + 1
}

// Cut reports whether the text is cut at the line's present width.
func (l *TextLine) Cut() bool {
	if l.Text == "" {
		return false
	}
	pad := l.Theme().Size(theme.SizeNameInnerPadding)
	return fyne.MeasureText(oneLine(l.Text), l.textSize(), l.TextStyle).Width > l.Size().Width-2*pad+0.5
}

func (l *TextLine) textSize() float32 {
	name := l.SizeName
	if name == "" {
		name = theme.SizeNameText
	}
	return l.Theme().Size(name)
}

// CreateRenderer draws the line with a RichText.
func (l *TextLine) CreateRenderer() fyne.WidgetRenderer {
	l.rich = widget.NewRichText(&widget.TextSegment{Style: widget.RichTextStyle{Inline: true}})
	l.rich.Truncation = fyne.TextTruncateEllipsis
	l.update()
	return &textLineRenderer{l: l}
}

// update copies the fields into the RichText's segment.
func (l *TextLine) update() {
	seg := l.rich.Segments[0].(*widget.TextSegment)
	seg.Text = oneLine(l.Text)
	seg.Style.TextStyle = l.TextStyle
	seg.Style.Alignment = l.Alignment
	seg.Style.SizeName = l.SizeName
	if seg.Style.SizeName == "" {
		seg.Style.SizeName = theme.SizeNameText
	}
	seg.Style.ColorName = importanceColor(l.Importance)
}

// importanceColor is the colour of text of importance imp.
func importanceColor(imp widget.Importance) fyne.ThemeColorName {
	switch imp {
	case widget.LowImportance:
		return theme.ColorNamePlaceHolder
	case widget.HighImportance:
		return theme.ColorNamePrimary
	case widget.DangerImportance:
		return theme.ColorNameError
	case widget.WarningImportance:
		return theme.ColorNameWarning
	case widget.SuccessImportance:
		return theme.ColorNameSuccess
	}
	return theme.ColorNameForeground
}

// MouseIn starts the tooltip's delay when the text is cut.
func (l *TextLine) MouseIn(e *desktop.MouseEvent) {
	l.hoverID++
	l.tipAt = e.AbsolutePosition
	if !l.Cut() {
		return
	}
	id := l.hoverID
	time.AfterFunc(TipDelay, func() {
		fyne.Do(func() {
			if id == l.hoverID {
				l.showTip()
			}
		})
	})
}

// MouseMoved follows the pointer, for where the tooltip shows.
func (l *TextLine) MouseMoved(e *desktop.MouseEvent) { l.tipAt = e.AbsolutePosition }

// MouseOut hides the tooltip.
func (l *TextLine) MouseOut() {
	l.hoverID++
	if layer := l.tipLayer(); layer != nil {
		layer.HideTip(l)
	}
}

// ShowTip shows the whole text in the window's tooltip layer now, under
// where the pointer last was (or under the line), when the text is cut.
func (l *TextLine) ShowTip() {
	if l.tipAt.IsZero() {
		if d := fyne.CurrentApp().Driver(); d != nil {
			l.tipAt = d.AbsolutePositionForObject(l).AddXY(0, l.Size().Height/2)
		}
	}
	if l.Cut() {
		l.showTip()
	}
}

func (l *TextLine) showTip() {
	if layer := l.tipLayer(); layer != nil && l.Visible() {
		layer.ShowTip(l, l.Text, l.TextStyle, l.tipAt)
	}
}

// tipLayer returns the TipLayer that is the content of the line's window,
// nil when there is none (or the line is on no canvas).
func (l *TextLine) tipLayer() *TipLayer {
	c := fyne.CurrentApp().Driver().CanvasForObject(l)
	if c == nil {
		return nil
	}
	layer, _ := c.Content().(*TipLayer)
	return layer
}

// Tapped calls OnTapped.
func (l *TextLine) Tapped(*fyne.PointEvent) {
	if l.OnTapped != nil {
		l.OnTapped()
	}
}

// TappedSecondary offers to copy the whole text.
func (l *TextLine) TappedSecondary(e *fyne.PointEvent) {
	c := fyne.CurrentApp().Driver().CanvasForObject(l)
	if c == nil || l.Text == "" { // detached from its window: no pop-up (Fyne issue 5965)
		return
	}
	text := l.Text
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", fyne.NewMenuItem("Copy", func() {
		fyne.CurrentApp().Clipboard().SetContent(text)
	})), c, e.AbsolutePosition)
}

type textLineRenderer struct{ l *TextLine }

func (r *textLineRenderer) Layout(size fyne.Size) { r.l.rich.Resize(size) }

// MinSize is as tall as the text and as wide as an ellipsis.
func (r *textLineRenderer) MinSize() fyne.Size { return r.l.rich.MinSize() }

func (r *textLineRenderer) Refresh() {
	r.l.update()
	r.l.rich.Refresh()
}

func (r *textLineRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.l.rich} }
func (r *textLineRenderer) Destroy()                     {}

// oneLine replaces line breaks and tabs so that a value stays on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎", "\t", "⇥").Replace(s)
}

// TipLayer is a window's content with a layer over it where tooltips are
// drawn. Unlike a pop-up, a tooltip takes no events: a click goes to what
// is under it. Set a TipLayer as the window's content for the TextLines in
// it to show their tooltips.
type TipLayer struct {
	widget.BaseWidget

	Content fyne.CanvasObject

	owner fyne.CanvasObject // whose tooltip is shown, nil when none
	bg    *canvas.Rectangle
	text  *widget.Label
	tip   *fyne.Container
}

// NewTipLayer returns content with a tooltip layer over it.
func NewTipLayer(content fyne.CanvasObject) *TipLayer {
	t := &TipLayer{Content: content}
	t.ExtendBaseWidget(t)
	return t
}

// maxTipWidth bounds a tooltip's width; longer text wraps.
const maxTipWidth = 640

// ShowTip shows text for owner near pos (on the canvas), wrapped when
// long, kept inside the layer.
func (t *TipLayer) ShowTip(owner fyne.CanvasObject, text string, style fyne.TextStyle, pos fyne.Position) {
	t.ensure()
	if d := fyne.CurrentApp().Driver(); d.CanvasForObject(t) != nil {
		pos = pos.Subtract(d.AbsolutePositionForObject(t))
	}
	t.owner = owner
	t.text.TextStyle = style
	t.text.Text = text
	t.text.Refresh()
	th := t.Theme()
	pad := th.Size(theme.SizeNameInnerPadding)
	width := min(fyne.MeasureText(text, th.Size(theme.SizeNameText), style).Width+2*pad+1, maxTipWidth, t.Size().Width)
	// Wrapped at this width, with room to be as tall as it needs.
	t.text.Resize(fyne.NewSize(width, max(t.Size().Height, 1)))
	height := min(t.text.MinSize().Height, t.Size().Height) // never past the window
	x := min(pos.X, t.Size().Width-width)
	y := pos.Y + 20 // under the pointer
	if y+height > t.Size().Height {
		y = max(pos.Y-height-8, 0) // over it
	}
	y = max(min(y, t.Size().Height-height), 0)
	t.tip.Move(fyne.NewPos(max(x, 0), y))
	t.tip.Resize(fyne.NewSize(width, height))
	t.bg.Resize(fyne.NewSize(width, height))
	t.text.Resize(fyne.NewSize(width, height))
	t.bg.FillColor = th.Color(theme.ColorNameOverlayBackground, fyne.CurrentApp().Settings().ThemeVariant())
	t.bg.StrokeColor = th.Color(theme.ColorNameSeparator, fyne.CurrentApp().Settings().ThemeVariant())
	t.tip.Show()
	t.tip.Refresh()
}

// HideTip hides the tooltip if owner's is shown.
func (t *TipLayer) HideTip(owner fyne.CanvasObject) {
	if t.tip == nil || t.owner != owner {
		return
	}
	t.owner = nil
	t.tip.Hide()
}

// Tip returns the text of the tooltip shown, "" when none is.
func (t *TipLayer) Tip() string {
	if t.tip == nil || t.tip.Hidden {
		return ""
	}
	return t.text.Text
}

func (t *TipLayer) ensure() {
	if t.tip != nil {
		return
	}
	t.bg = canvas.NewRectangle(color.Transparent)
	t.bg.StrokeWidth = 1
	t.bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	t.text = &widget.Label{Wrapping: fyne.TextWrapWord}
	// Its renderer made now, so that the first tip's text is wrapped when
	// it is set: made by the first Resize, it measured one row of three.
	t.text.MinSize()
	t.tip = &fyne.Container{Objects: []fyne.CanvasObject{t.bg, t.text}}
	t.tip.Hide()
}

// CreateRenderer stacks the tooltip over the content.
func (t *TipLayer) CreateRenderer() fyne.WidgetRenderer {
	t.ensure()
	return &tipLayerRenderer{t: t}
}

type tipLayerRenderer struct{ t *TipLayer }

func (r *tipLayerRenderer) Layout(size fyne.Size) {
	r.t.Content.Move(fyne.NewPos(0, 0))
	r.t.Content.Resize(size)
}

func (r *tipLayerRenderer) MinSize() fyne.Size { return r.t.Content.MinSize() }
func (r *tipLayerRenderer) Refresh()           { r.t.Content.Refresh() }
func (r *tipLayerRenderer) Destroy()           {}

func (r *tipLayerRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.t.Content, r.t.tip}
}
