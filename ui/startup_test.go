// Tests of what the window leaves out of its first frame: the Learn panel built when first shown, secondary text drawn without theme overrides, the collector relaxed until the first frame.

package ui

import (
	"bytes"
	"image"
	"image/color"
	"runtime/debug"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/session/teach"
)

func TestLearnPanelIsBuiltWhenFirstShown(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	if l.sections != nil || len(l.stack.Objects) != 0 {
		t.Fatal("the Learn panel's sections are built before it is shown")
	}

	// A request sent before the tab is first selected is one the lesson's
	// checks look at, as when the panel is built up front.
	ls := teach.Lessons()[0]
	in := ls.Input
	in.Target, in.Params = w.demo, slices.Clone(in.Params)
	w.in.wbSetInput(in)
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
	w.q.settle()
	if l.sections != nil {
		t.Fatal("sending a request built the Learn panel")
	}

	minLearn := l.Content().MinSize()
	test.Tap(w.teach.LearnButton()) // as a click on the activity bar
	if l.sections == nil || len(l.stack.Objects) != 3 {
		t.Fatal("showing the Learn panel did not build its sections")
	}
	if !w.teach.LearnShown() || !w.teach.Panel().Visible() {
		t.Fatal("the Learn panel is not shown")
	}
	// The section buttons, there from the start, set the panel's width.
	if got := l.Content().MinSize(); got.Width != minLearn.Width {
		t.Errorf("building the Learn panel changed its minimum width from %v to %v", minLearn.Width, got.Width)
	}
	if l.Section() != LearnLessons || l.Lesson() != ls.ID {
		t.Errorf("section %q, lesson %q; want %q, %q", l.Section(), l.Lesson(), LearnLessons, ls.ID)
	}
	if s := l.lessonList.Size(); !l.lessonList.Visible() || s.Width == 0 || s.Height == 0 {
		t.Errorf("the lesson list is not laid out in the panel: visible %v, size %v", l.lessonList.Visible(), s)
	}
	w.waitPassed(t)

	// Built, the panel works: Try it on a scenario shows its exchange.
	l.ShowSection(LearnMisbehaviour)
	before := w.in.Exchange()
	test.Tap(l.TryButton())
	w.q.waitFor(t, "the scenario", teachWait, func() bool { return !l.Running() })
	if x := w.in.Exchange(); x == nil || x == before || l.ScenarioResult() == "" {
		t.Errorf("Try it: exchange %v, result %q", x, l.ScenarioResult())
	}

	// Showing the panel again builds nothing more.
	sections := l.sections[LearnLessons]
	test.Tap(w.teach.LearnButton())
	if w.teach.LearnShown() {
		t.Error("the Learn button did not hide the panel")
	}
	w.teach.ShowLearn()
	if l.sections[LearnLessons] != sections || len(l.stack.Objects) != 3 {
		t.Error("showing the Learn panel again rebuilt its sections")
	}
}

func TestLearnPanelBuildsOnFirstUse(t *testing.T) {
	k := newTeachKit(t)
	l := newLearnShell(k.ctx, LearnDeps{Engine: k.engine, DemoAddr: k.demo, Do: k.q.Do})
	// Observing does not build; any method that shows something does.
	l.Observe(session.NewExchange(session.Input{}))
	if l.sections != nil {
		t.Fatal("Observe built the Learn panel")
	}
	if got := l.RunState(); l.sections == nil || got == "" {
		t.Fatalf("RunState %q: the panel was not built on first use", got)
	}
	if l.Lesson() != teach.Lessons()[0].ID || l.Section() != LearnLessons {
		t.Errorf("after building: lesson %q, section %q", l.Lesson(), l.Section())
	}
	k.q.settle()
	l.Close()
}

// capture renders o alone in a window of the given size.
func capture(o fyne.CanvasObject, size fyne.Size) image.Image {
	w := test.NewWindow(o)
	defer w.Close()
	w.SetPadded(false)
	w.Resize(size)
	return w.Canvas().Capture()
}

func samePixels(a, b image.Image) bool {
	ra, ok1 := a.(*image.NRGBA)
	rb, ok2 := b.(*image.NRGBA)
	if !ok1 || !ok2 {
		return false
	}
	return ra.Rect == rb.Rect && bytes.Equal(ra.Pix, rb.Pix)
}

func TestMutedTextLooksLikeASecondaryLabel(t *testing.T) {
	a := test.NewTempApp(t)
	const long = "Press Send (Ctrl+Enter) to see every record of the exchange, both ways"
	type textCase struct {
		name     string
		text     string
		style    fyne.TextStyle
		wrap     fyne.TextWrap
		trunc    fyne.TextTruncation
		align    fyne.TextAlign
		sizeName fyne.ThemeSizeName
		size     fyne.Size
	}
	muted := func(c textCase) fyne.CanvasObject {
		m := newMutedText(c.text)
		m.setStyle(c.style)
		m.setAlign(c.align)
		if c.sizeName != "" {
			m.setSize(c.sizeName)
		}
		m.Wrapping, m.Truncation = c.wrap, c.trunc
		return m
	}
	label := func(c textCase) *widget.Label {
		return &widget.Label{Text: c.text, TextStyle: c.style, Wrapping: c.wrap, Truncation: c.trunc, Alignment: c.align,
			SizeName: c.sizeName, Importance: widget.LowImportance}
	}
	cases := []textCase{
		{name: "plain", text: "Content type", size: fyne.NewSize(160, 40)},
		{name: "bold", text: "Name", style: fyne.TextStyle{Bold: true}, size: fyne.NewSize(80, 40)},
		{name: "mono truncated", text: "SCRIPT_FILENAME=/var/www/html/index.php", style: fyne.TextStyle{Monospace: true},
			trunc: fyne.TextTruncateEllipsis, size: fyne.NewSize(120, 40)},
		{name: "hint", text: long, wrap: fyne.TextWrapWord, align: fyne.TextAlignCenter, size: fyne.NewSize(220, 120)},
		{name: "caption", text: "STDIN (body)", style: fyne.TextStyle{Bold: true}, trunc: fyne.TextTruncateEllipsis,
			sizeName: theme.SizeNameCaptionText, size: fyne.NewSize(60, 30)},
	}
	for _, v := range []struct {
		name    string
		variant fyne.ThemeVariant
	}{{"light", theme.VariantLight}, {"dark", theme.VariantDark}} {
		a.Settings().SetTheme(variantTheme{theme.DefaultTheme(), v.variant})
		for _, c := range cases {
			t.Run(v.name+"/"+c.name, func(t *testing.T) {
				m, s := muted(c), secondary(label(c))
				if m.MinSize() != s.MinSize() {
					t.Errorf("minimum size %v, a secondary label's %v", m.MinSize(), s.MinSize())
				}
				if !samePixels(capture(m, c.size), capture(s, c.size)) {
					t.Error("drawn unlike a secondary label")
				}
				// The comparison sees colours: a label outside secondary()
				// is drawn in the disabled colour, not the placeholder's.
				if samePixels(capture(muted(c), c.size), capture(label(c), c.size)) {
					t.Error("drawn like a label outside secondary()")
				}
			})
		}
	}

	m := newMutedText("one")
	m.SetText("two")
	if m.Text() != "two" || m.String() != "two" {
		t.Errorf("after SetText: %q", m.Text())
	}
}

// variantTheme is th in one variant, whatever the system's.
type variantTheme struct {
	fyne.Theme
	variant fyne.ThemeVariant
}

func (t variantTheme) Color(n fyne.ThemeColorName, _ fyne.ThemeVariant) color.Color {
	return t.Theme.Color(n, t.variant)
}

func TestRelaxGCUntilRestored(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	restore := relaxGC(400)
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("relaxed: GC percent %d, want 400", got)
	}
	restore()
	restore() // a second call changes nothing
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("restored: GC percent %d, want 100", got)
	}

	// GOGC=off or higher is left alone.
	for _, gogc := range []int{-1, 800} {
		debug.SetGCPercent(gogc)
		restore := relaxGC(400)
		if got := debug.SetGCPercent(gogc); got != gogc {
			t.Errorf("GOGC=%d: relaxed to %d", gogc, got)
		}
		restore()
		if got := debug.SetGCPercent(gogc); got != gogc {
			t.Errorf("GOGC=%d: restored to %d", gogc, got)
		}
	}
}

// TestLearnOpensWithTheSelectedLessonInSight: the Learn panel, opened for
// the first time, shows the selected first lesson (and, in its
// misbehaviour section, the selected first scenario) at the top of its
// list, not scrolled above it: the lists were scrolled to their selection
// while they had no height yet.
func TestLearnOpensWithTheSelectedLessonInSight(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	test.Tap(w.teach.LearnButton())
	w.q.settle()
	w.in.Window().Resize(w.in.Window().Canvas().Size()) // laid out as a frame would
	if l.Lesson() != teach.Lessons()[0].ID || l.lessonList.GetScrollOffset() != 0 {
		t.Errorf("the lesson list opened scrolled by %v with lesson %q selected; want lesson 1 at the top",
			l.lessonList.GetScrollOffset(), l.Lesson())
	}
	l.ShowSection(LearnMisbehaviour)
	w.in.Window().Resize(w.in.Window().Canvas().Size())
	if l.scenList.GetScrollOffset() != 0 {
		t.Errorf("the scenario list opened scrolled by %v; want the first, selected, at the top", l.scenList.GetScrollOffset())
	}
}
