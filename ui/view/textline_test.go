package view_test

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/view"
)

const longLine = "In-process demo backend on loopback: try /echo, /stderr, /slow, /large, /image, /html"

// lineWindow shows l, w wide, in a window whose content is a tip layer.
func lineWindow(t *testing.T, l *view.TextLine, w float32) (*view.TipLayer, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	layer := view.NewTipLayer(container.NewVBox(container.NewGridWrap(fyne.NewSize(w, l.MinSize().Height), l)))
	win := test.NewTempWindow(t, layer)
	win.Resize(fyne.NewSize(800, 300))
	return layer, win
}

func TestTextLineCutsAndShowsWhole(t *testing.T) {
	l := view.NewTextLine(longLine)
	layer, win := lineWindow(t, l, 200)
	if min := l.MinSize().Width; min > 40 {
		t.Errorf("minimum width %v: a long text makes the line wide", min)
	}
	if !l.Cut() || l.TextWidth() <= 200 {
		t.Fatalf("200 wide, the line is cut %v (text width %v)", l.Cut(), l.TextWidth())
	}
	test.AssertRendersToMarkup(t, "textline/cut.xml", win.Canvas())

	l.ShowTip()
	if got := layer.Tip(); got != longLine {
		t.Fatalf("tooltip %q, want the whole text", got)
	}
	test.AssertRendersToMarkup(t, "textline/tip.xml", win.Canvas())
	// Another's MouseOut leaves it; the line's own hides it.
	layer.HideTip(view.NewTextLine("other"))
	if layer.Tip() == "" {
		t.Error("another object's MouseOut hid the tooltip")
	}
	l.MouseOut()
	if layer.Tip() != "" {
		t.Error("the tooltip stays after the pointer left")
	}

	// A short text is not cut and has no tooltip.
	l.SetText("short")
	if l.Cut() {
		t.Error("a short text is cut")
	}
	l.ShowTip()
	if layer.Tip() != "" {
		t.Error("a whole text shows a tooltip")
	}
}

func TestTextLineKeepsOneLine(t *testing.T) {
	l := view.NewTextLine("two\nlines\tand a tab")
	lineWindow(t, l, 600)
	h := view.NewTextLine("x").MinSize().Height
	if l.MinSize().Height != h {
		t.Errorf("a text with a line break is %v high, one line is %v", l.MinSize().Height, h)
	}
	var shown string
	for _, o := range test.LaidOutObjects(l) {
		if r, ok := o.(*widget.RichText); ok {
			shown = r.String()
		}
	}
	if shown != "two⏎lines⇥and a tab" {
		t.Errorf("shown %q", shown)
	}
}

func TestTextLineCopies(t *testing.T) {
	l := view.NewTextLine(longLine)
	_, win := lineWindow(t, l, 200)
	test.TapSecondary(l)
	top := win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("a right click shows no menu")
	}
	// One item, Copy.
	var items []fyne.Tappable
	for _, o := range test.LaidOutObjects(top) {
		if fmt.Sprintf("%T", o) == "*widget.menuItem" {
			items = append(items, o.(fyne.Tappable))
		}
	}
	if len(items) != 1 {
		t.Fatalf("the menu has %d items, want Copy alone", len(items))
	}
	test.Tap(items[0])
	if got := fyne.CurrentApp().Clipboard().Content(); got != longLine {
		t.Errorf("copied %q", got)
	}
}

func TestTextLineOffWindow(t *testing.T) {
	test.NewTempApp(t)
	l := view.NewTextLine(longLine)
	l.Resize(fyne.NewSize(50, 30))
	// Not on a window: no pop-up, no tooltip, no crash.
	test.TapSecondary(l)
	l.ShowTip()
	l.MouseOut()
}

func TestTipLayerKeepsTheTipInside(t *testing.T) {
	test.NewTempApp(t)
	layer := view.NewTipLayer(widget.NewLabel("content"))
	win := test.NewTempWindow(t, layer)
	win.Resize(fyne.NewSize(300, 200))
	text := strings.Repeat("a long tooltip text ", 20)
	layer.ShowTip(nil, text, fyne.TextStyle{}, fyne.NewPos(280, 190))
	if layer.Tip() != text {
		t.Fatalf("tip %q", layer.Tip())
	}
	for _, o := range test.LaidOutObjects(layer) {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			d := fyne.CurrentApp().Driver()
			pos := d.AbsolutePositionForObject(l).Subtract(d.AbsolutePositionForObject(layer))
			size := layer.Size()
			if pos.X < 0 || pos.Y < 0 || pos.X+l.Size().Width > size.Width+1 || pos.Y+l.Size().Height > size.Height+1 {
				t.Errorf("the tip at %v, %v is outside the %v layer", pos, l.Size(), size)
			}
			return
		}
	}
	t.Error("the tip's text is not drawn")
}

// TestTipLayerShowsEveryRowOfALongTip: a tooltip too long for one row is
// as tall as all its rows, each drawn inside it, and wraps between words:
// a long anomaly's tip showed 2 of its 3 rows, cut mid-word.
func TestTipLayerShowsEveryRowOfALongTip(t *testing.T) {
	test.NewTempApp(t)
	layer := view.NewTipLayer(widget.NewLabel("content"))
	win := test.NewTempWindow(t, layer)
	win.Resize(fyne.NewSize(1350, 680))
	text := "The application sent a record of type 42, which the spec does not define (types 1 to 11); " +
		"an application answers an unknown management record with UNKNOWN_TYPE, anything else is ignored " +
		"by a server that follows the spec, and a strict one closes the connection"
	layer.ShowTip(nil, text, fyne.TextStyle{}, fyne.NewPos(800, 350))
	var label *widget.Label
	for _, o := range test.LaidOutObjects(layer) {
		if l, ok := o.(*widget.Label); ok && l.Text == text {
			label = l
		}
	}
	if label == nil {
		t.Fatal("the tip's text is not drawn")
	}
	words := map[string]bool{}
	for _, w := range strings.Fields(text) {
		words[w] = true
	}
	var rows []string
	for _, o := range test.LaidOutObjects(label) {
		c, ok := o.(*canvas.Text)
		if !ok || c.Text == "" {
			continue
		}
		rows = append(rows, c.Text)
		if bottom := c.Position().Y + c.MinSize().Height; bottom > label.Size().Height+1 {
			t.Errorf("the tip's row %q ends at %v, under the tip's %v", c.Text, bottom, label.Size().Height)
		}
		for _, w := range strings.Fields(c.Text) {
			if !words[w] {
				t.Errorf("the tip's row %q cuts the word %q", c.Text, w)
			}
		}
	}
	if got := strings.Join(strings.Fields(strings.Join(rows, " ")), " "); got != text {
		t.Errorf("the tip's rows %q do not make its whole text", rows)
	}
}
