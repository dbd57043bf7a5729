// Fit: the window's size on its screen, the root of its content (which never asks for more than the smallest window), and the status line's layout.

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/view"
)

// windowSize returns the size of the first window: the size it had when
// it was last closed, else defaultWindowWidth × defaultWindowHeight, made
// small enough for the screen it opens on.
func (in *Inspector) windowSize() fyne.Size {
	want := fyne.NewSize(
		float32(in.prefs.FloatWithFallback(PrefWindowWidth, defaultWindowWidth)),
		float32(in.prefs.FloatWithFallback(PrefWindowHeight, defaultWindowHeight)))
	if want.Width < minWindowWidth || want.Height < minWindowHeight {
		want = want.Max(fyne.NewSize(minWindowWidth, minWindowHeight))
	}
	if area, ok := screenArea(in.win, 0); ok {
		want = fitWindow(want, area)
		in.bound = minBound(area)
	}
	return want
}

// fitShown makes the shown window small enough for its screen, now that
// its canvas has its scale: the scale windowSize estimated may be off.
// It must run on the UI goroutine after the window is shown.
func (in *Inspector) fitShown() {
	area, ok := screenArea(in.win, in.win.Canvas().Scale())
	if !ok {
		return
	}
	if bound := minBound(area); bound != in.bound {
		in.bound = bound
		in.tips.Refresh()
	}
	size := in.win.Canvas().Size()
	if fit := fitWindow(size, area); fit != size {
		in.win.Resize(fit)
	}
}

// fitScreen returns the root of the window's content: content in a
// scroll, asking for content's minimum size up to *bound (see minBound).
// The layout is made so that content needs no more; should some content
// need more all the same, or the screen be smaller than the smallest
// window, the window scrolls rather than grows past the screen.
func fitScreen(content fyne.CanvasObject, bound *fyne.Size) fyne.CanvasObject {
	s := container.NewScroll(content)
	return container.New(rootLayout{content: content, bound: bound}, s)
}

// rootLayout sizes the root scroll to the window and asks for the
// content's minimum size bounded by *bound.
type rootLayout struct {
	content fyne.CanvasObject
	bound   *fyne.Size
}

func (l rootLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l rootLayout) MinSize([]fyne.CanvasObject) fyne.Size { return l.content.MinSize().Min(*l.bound) }

// newStatusLine lays out the status line: the activity indicator, the
// state (what happened) and the statistics, right-aligned.
func newStatusLine(activity fyne.CanvasObject, state, stats *view.TextLine) *fyne.Container {
	return container.New(statusLayout{}, activity, natural(state), natural(stats))
}

// statusLayout gives each text of the status line its whole width while
// both fit; when not, the state keeps at least 60% and both are cut, their
// whole text in their tooltips.
type statusLayout struct{}

func (statusLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	activity, state, stats := objs[0], objs[1], objs[2]
	pad := theme.Padding()
	x := float32(0)
	if activity.Visible() {
		a := activity.MinSize()
		activity.Move(fyne.NewPos(0, (size.Height-a.Height)/2))
		activity.Resize(a)
		x = a.Width + pad
	}
	room := max(size.Width-x-pad, 0)
	sw, tw := state.MinSize().Width, stats.MinSize().Width
	if sw+tw > room {
		tw = min(tw, max(room-sw, room*0.4))
		sw = room - tw
	} else {
		sw = room - tw
	}
	state.Move(fyne.NewPos(x, 0))
	state.Resize(fyne.NewSize(sw, size.Height))
	stats.Move(fyne.NewPos(x+sw+pad, 0))
	stats.Resize(fyne.NewSize(tw, size.Height))
}

// MinSize is the height of a line, whatever the texts' widths.
func (statusLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(100, h)
}

// natural returns l in a container that asks for the width of l's whole
// text, for a layout that shares its room by what each text needs (and
// asks for no more itself). A change of text changes that minimum size,
// and the window then lays the container's parent out again.
func natural(l *view.TextLine) fyne.CanvasObject {
	return container.New(naturalLayout{l}, l)
}

type naturalLayout struct{ l *view.TextLine }

func (n naturalLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	n.l.Move(fyne.NewPos(0, 0))
	n.l.Resize(size)
}

func (n naturalLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(n.l.TextWidth(), n.l.MinSize().Height)
}

// sideColumn is the sidebar: a split of its panels, shown while one of
// them is (the window's split then gives it no room when all are closed).
// It is at least sideMinWidth wide; a panel that needs more scrolls
// sideways rather than widen the window.
type sideColumn struct {
	widget.BaseWidget
	split *container.Split
}

func newSideColumn(split *container.Split) *sideColumn {
	s := &sideColumn{split: split}
	s.ExtendBaseWidget(s)
	return s
}

// Visible reports whether a panel of the sidebar is shown.
func (s *sideColumn) Visible() bool {
	return !s.Hidden && (s.split.Leading.Visible() || s.split.Trailing.Visible())
}

// fitSidebar lays the window out again after a panel of the sidebar was
// opened or closed, and widens the sidebar, when it is narrower, to the
// width its open panels need (what the window can spare: at most half),
// so that a panel opens readable rather than scrolled sideways.
func (in *Inspector) fitSidebar() {
	split := in.splits[PrefSplitSide]
	defer split.Refresh()
	total := split.Size().Width
	if total <= 0 || !split.Leading.Visible() {
		return
	}
	pad := 2 * theme.Padding()
	need := float32(sideMinWidth)
	if in.wb.PresetsShown() {
		need = max(need, in.wb.Presets.Content().MinSize().Width+pad)
	}
	if in.wb.HistoryShown() {
		need = max(need, in.wb.History.Content().MinSize().Width+pad)
	}
	if in.teach.LearnShown() {
		need = max(need, in.teach.Learn.Content().MinSize().Width+2*pad)
	}
	if want := float64(min(need/total, 0.5)); split.Offset < want {
		split.Offset = want
	}
}

// sideMinWidth is the sidebar's smallest width.
const sideMinWidth = 200

func (s *sideColumn) MinSize() fyne.Size {
	return fyne.NewSize(sideMinWidth, s.split.MinSize().Height)
}

func (s *sideColumn) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(s.split) }
