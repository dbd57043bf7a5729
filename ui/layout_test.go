// The headless layout test: the real window, after a request to the demo backend, at the screen sizes people use, has no widget drawn smaller than it needs and no two widgets on each other.

package ui

import (
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// placed is an object the walk reached, where it is drawn on the canvas
// and the part of it that is not clipped away by a scroll.
type placed struct {
	obj  fyne.CanvasObject
	path string
	pos  fyne.Position // top left, on the canvas
	clip rect          // the visible part, on the canvas
	atom bool          // a leaf widget: drawn by one widget, not laid out by us
}

type rect struct{ x0, y0, x1, y1 float32 }

func (r rect) empty() bool { return r.x1-r.x0 < 1 || r.y1-r.y0 < 1 }

func (r rect) intersect(o rect) rect {
	return rect{max(r.x0, o.x0), max(r.y0, o.y0), min(r.x1, o.x1), min(r.y1, o.y1)}
}

func (r rect) String() string {
	return fmt.Sprintf("(%.0f,%.0f %.0f×%.0f)", r.x0, r.y0, r.x1-r.x0, r.y1-r.y0)
}

// layoutWalk collects the visible objects of a canvas with where they are
// drawn. It enters containers, the content of scrolls, both sides of
// splits, and the renderers of widgets that lay out other widgets (lists,
// tabs, our own composite widgets); the standard widgets of Fyne that draw
// one thing (a label, an entry, a button…) are atoms: their insides are
// Fyne's business.
type layoutWalk struct {
	out []placed
}

func (w *layoutWalk) walk(o fyne.CanvasObject, path string, origin fyne.Position, clip rect) {
	if o == nil || !o.Visible() {
		return
	}
	pos := origin.Add(o.Position())
	size := o.Size()
	box := rect{pos.X, pos.Y, pos.X + size.Width, pos.Y + size.Height}
	vis := box.intersect(clip)
	if vis.empty() {
		return
	}
	name := path + "/" + typeName(o)
	p := placed{obj: o, path: name, pos: pos, clip: vis}
	switch o := o.(type) {
	case *container.Scroll:
		w.out = append(w.out, p)
		if o.Content != nil {
			w.walk(o.Content, name, pos.Subtract(o.Offset), vis)
		}
		return
	case *container.Split:
		w.out = append(w.out, p)
		w.walk(o.Leading, name+"[lead]", pos, vis)
		w.walk(o.Trailing, name+"[trail]", pos, vis)
		return
	case *fyne.Container:
		w.out = append(w.out, p)
		for i, c := range o.Objects {
			w.walk(c, fmt.Sprintf("%s[%d]", name, i), pos, vis)
		}
		return
	case fyne.Widget:
		kids := test.WidgetRenderer(o).Objects()
		if isAtom(o) {
			p.atom = true
			w.out = append(w.out, p)
			return
		}
		w.out = append(w.out, p)
		for i, c := range kids {
			w.walk(c, fmt.Sprintf("%s[%d]", name, i), pos, vis)
		}
	}
}

// isAtom reports whether w is a leaf of the walk: one of Fyne's widgets
// that draw one thing, or a widget of ours with no widget inside.
func isAtom(w fyne.Widget) bool {
	t := reflect.TypeOf(w)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.PkgPath() {
	case "fyne.io/fyne/v2/container":
		return false
	case "fyne.io/fyne/v2/widget":
		switch t.Name() {
		case "List", "Table", "Tree", "GridWrap", "Accordion", "Form", "Card", "PopUp":
			return false
		}
		return true
	}
	// Ours: a leaf unless it lays out widgets; an embedded standard
	// widget (hookEntry, mutedText…) is a leaf.
	if t.Kind() == reflect.Struct && t.NumField() > 0 && t.Field(0).Anonymous {
		if f := t.Field(0).Type; f.PkgPath() == "fyne.io/fyne/v2/widget" && f.Name() != "BaseWidget" {
			return isAtom(reflect.New(f).Interface().(fyne.Widget))
		}
	}
	return !holdsWidget(test.WidgetRenderer(w).Objects())
}

func holdsWidget(objs []fyne.CanvasObject) bool {
	for _, o := range objs {
		switch o := o.(type) {
		case fyne.Widget:
			return true
		case *fyne.Container:
			if holdsWidget(o.Objects) {
				return true
			}
		}
	}
	return false
}

func typeName(o fyne.CanvasObject) string {
	t := reflect.TypeOf(o)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.Name()
	switch o := o.(type) {
	case *widget.Label:
		name += fmt.Sprintf("%q", clipText(o.Text))
	case *widget.Button:
		name += fmt.Sprintf("%q", clipText(o.Text))
	case *mutedText:
		name += fmt.Sprintf("%q", clipText(o.Text()))
	case *hookEntry:
		name += fmt.Sprintf("%q", clipText(o.Text))
	}
	return name
}

func clipText(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// drawsNothing reports whether an atom draws nothing at present (an empty
// label or text grid): such a widget cannot be cut or cover another.
func drawsNothing(o fyne.CanvasObject) bool {
	switch o := o.(type) {
	case *widget.Label:
		return o.Text == ""
	case *mutedText:
		return o.Text() == ""
	case *widget.RichText:
		return o.String() == ""
	case *widget.TextGrid:
		return o.Text() == ""
	case *widget.Separator:
		return true
	case fyne.Widget:
		return paintsNothing(test.WidgetRenderer(o).Objects())
	}
	return false
}

// paintsNothing reports whether objs are all hidden, transparent or empty
// (a scroll bar with nothing to scroll hides its parts).
func paintsNothing(objs []fyne.CanvasObject) bool {
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		switch o := o.(type) {
		case *canvas.Rectangle:
			if _, _, _, a := o.FillColor.RGBA(); a != 0 || o.StrokeWidth > 0 && o.StrokeColor != nil {
				return false
			}
		case *canvas.Text:
			if o.Text != "" {
				return false
			}
		case *fyne.Container:
			if !paintsNothing(o.Objects) {
				return false
			}
		case fyne.Widget:
			if !paintsNothing(test.WidgetRenderer(o).Objects()) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// layoutProblems walks what c shows and returns every widget drawn
// smaller than its minimum size and every two atoms drawn on each other.
func layoutProblems(c fyne.Canvas) []string {
	size := c.Size()
	w := &layoutWalk{}
	w.walk(c.Content(), "", fyne.NewPos(0, 0), rect{0, 0, size.Width, size.Height})
	var problems []string
	const slack = 0.5
	for _, p := range w.out {
		if _, isWidget := p.obj.(fyne.Widget); !isWidget {
			continue
		}
		min, got := p.obj.MinSize(), p.obj.Size()
		if got.Width+slack < min.Width || got.Height+slack < min.Height {
			problems = append(problems, fmt.Sprintf("%s: drawn %.0f×%.0f, needs %.0f×%.0f", p.path, got.Width, got.Height, min.Width, min.Height))
		}
	}
	var atoms []placed
	for _, p := range w.out {
		if p.atom && !drawsNothing(p.obj) {
			atoms = append(atoms, p)
		}
	}
	for i, a := range atoms {
		for _, b := range atoms[i+1:] {
			if ov := a.clip.intersect(b.clip); !ov.empty() {
				problems = append(problems, fmt.Sprintf("%s %v and %s %v overlap", a.path, a.clip, b.path, b.clip))
			}
		}
	}
	return problems
}

// dumpLayout writes every visible object with its size and minimum size.
func dumpLayout(c fyne.Canvas) string {
	size := c.Size()
	w := &layoutWalk{}
	w.walk(c.Content(), "", fyne.NewPos(0, 0), rect{0, 0, size.Width, size.Height})
	var b strings.Builder
	for _, p := range w.out {
		min, got := p.obj.MinSize(), p.obj.Size()
		fmt.Fprintf(&b, "%s pos %.0f,%.0f size %.0f×%.0f min %.0f×%.0f\n", p.path, p.pos.X, p.pos.Y, got.Width, got.Height, min.Width, min.Height)
	}
	return b.String()
}

// layoutScreens are the screens the window is laid out for, and the
// smallest window.
var layoutScreens = []fyne.Size{{Width: 1280, Height: 720}, {Width: 1366, Height: 768}, {Width: 1920, Height: 1080},
	{Width: minWindowWidth, Height: minWindowHeight}}

func TestLayoutFitsScreens(t *testing.T) {
	f := newInspFixture(t)
	f.send(t)
	win := f.in.Window()
	for _, screen := range layoutScreens {
		t.Run(fmt.Sprintf("%.0fx%.0f", screen.Width, screen.Height), func(t *testing.T) {
			size := fyne.NewSize(screen.Width, screen.Height-menuHeight)
			win.Resize(size)
			f.q.settle()
			if dir := os.Getenv("FCGISCOPE_LAYOUT_DUMP"); dir != "" {
				name := fmt.Sprintf("%s/layout-%.0fx%.0f.txt", dir, screen.Width, screen.Height)
				if err := os.WriteFile(name, []byte(dumpLayout(win.Canvas())), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// The panes fit without the root scroll; the window asks for
			// no more than the smallest window.
			room := size.Subtract(fyne.NewSquareSize(2 * theme.Padding()))
			if min := f.in.panes.MinSize(); min.Width > room.Width || min.Height > room.Height {
				t.Errorf("the panes need %v, more than the window's %v", min, room)
			}
			if min := win.Content().MinSize().Add(fyne.NewSquareSize(2 * theme.Padding())); min.Width > minWindowWidth || min.Height > minWindowHeight-menuHeight {
				t.Errorf("the window asks for %v", min)
			}
			for _, p := range layoutProblems(win.Canvas()) {
				t.Error(p)
			}
		})
	}
}

// TestLayoutHoldsAfterHardExchanges: what a response brings — 3 MB of
// body, anomalies, a long error, stderr, the GET_VALUES answer, a long
// header line — never makes the panes need more than the window, at the
// smallest window and at 1280×720.
func TestLayoutHoldsAfterHardExchanges(t *testing.T) {
	f := newInspFixture(t)
	win := f.in.Window()
	long := strings.Repeat("a-long-header-value-", 40)
	steps := []struct {
		name string
		do   func()
	}{
		{"a 3 MB body", func() { f.setURL(t, "/large?bytes=3000000"); f.send(t) }},
		{"an unknown record type", func() { f.setURL(t, demo.MisbehavePrefix+"unknown-type"); f.send(t) }},
		{"a stream cut inside a record", func() { f.setURL(t, demo.MisbehavePrefix+"short-content"); f.send(t) }},
		{"stderr", func() { f.setURL(t, "/stderr?lines=300"); f.send(t) }},
		{"a long header line", func() {
			f.in.Compose().HTTP().headers.Add(session.RawParam{Name: "X-Long", Value: long, Enabled: true})
			f.setURL(t, "/echo")
			f.send(t)
		}},
		{"GET_VALUES", func() {
			test.Tap(f.in.Target().probe)
			f.q.waitFor(t, "the GET_VALUES answer", inspWait, func() bool { return f.in.Target().Values() != "" })
		}},
		{"a refused connection", func() { f.in.Target().SetAddress(fcgitest.RefusedAddr(t, "tcp")); f.send(t) }},
		// The step-through strip over the records (290 high) once made the
		// panes need 761 at 1366x768 (with the Learn panel open; 700
		// without): the status line and Send went off the window's bottom.
		{"Step through", func() {
			f.in.Target().SetAddress(f.in.deps.DemoAddr)
			f.setURL(t, "/echo")
			f.send(t)
			f.in.teach.ShowPlayback(true)
		}},
	}
	for _, s := range steps {
		s.do()
		f.q.settle()
		for _, screen := range []fyne.Size{{Width: minWindowWidth, Height: minWindowHeight}, {Width: 1280, Height: 720}} {
			size := fyne.NewSize(screen.Width, screen.Height-menuHeight)
			win.Resize(size)
			f.q.settle()
			room := size.Subtract(fyne.NewSquareSize(2 * theme.Padding()))
			if min := f.in.panes.MinSize(); min.Width > room.Width || min.Height > room.Height {
				t.Errorf("after %s, at %v the panes need %v", s.name, screen, min)
			}
			if s.name == "Step through" {
				// The panes' size only: the strip's state cells pack their
				// text boxes with a negative padding, by design, which the
				// overlap check would count.
				continue
			}
			for _, p := range layoutProblems(win.Canvas()) {
				t.Errorf("after %s, at %v: %s", s.name, screen, p)
			}
		}
	}
}

func TestWindowFitsScreen(t *testing.T) {
	tests := []struct {
		want, area fyne.Size
		size       fyne.Size // the window
		bound      fyne.Size // the most its content may ask for
	}{
		// A laptop: the first window takes the screen less room for a
		// frame; the content may ask for the smallest window.
		{fyne.NewSize(defaultWindowWidth, defaultWindowHeight), fyne.NewSize(1366, 768),
			fyne.NewSize(1366-frameWidth, 768-frameHeight), fyne.NewSize(1024-8, 640-menuHeight-8)},
		// A large screen: the default size.
		{fyne.NewSize(defaultWindowWidth, defaultWindowHeight), fyne.NewSize(2560, 1440),
			fyne.NewSize(defaultWindowWidth, defaultWindowHeight), fyne.NewSize(1024-8, 640-menuHeight-8)},
		// 1366×768 at scale 1.5 has room for less than the smallest
		// window: the content may ask for no more than the screen.
		{fyne.NewSize(1200, 800), fyne.NewSize(910, 512),
			fyne.NewSize(910-frameWidth, 512-frameHeight), fyne.NewSize(910-frameWidth-8, 512-frameHeight-menuHeight-8)},
	}
	for _, tt := range tests {
		if got := fitWindow(tt.want, tt.area); got != tt.size {
			t.Errorf("fitWindow(%v, %v) = %v, want %v", tt.want, tt.area, got, tt.size)
		}
		if got := minBound(tt.area); got != tt.bound {
			t.Errorf("minBound(%v) = %v, want %v", tt.area, got, tt.bound)
		}
	}
}

// TestRecordsListKeepsRowsAt1366x768: in the window as it opens on a
// 1366×768 screen, the records list keeps rows beside what else the pane
// shows: 4 with the anomalies of the exchange or the step-through strip,
// 5 with both, the anomalies folded under their title (it had 2
// or 3, and 2 with both: the anomalies sat under the list, the strip over
// the pane, each taking its height from the list's share of the split).
func TestRecordsListKeepsRowsAt1366x768(t *testing.T) {
	f := newInspFixture(t)
	win := f.in.Window()
	size, layOut := laptopWindow(f)
	list := f.in.results.List()
	check := func(what string, want int) {
		t.Helper()
		layOut()
		if got := int(list.Size().Height/list.RowHeight()) - 1; got < want { // less the header
			t.Errorf("with %s the records list shows %d rows (%v high), want %d", what, got, list.Size().Height, want)
		}
		room := size.Subtract(fyne.NewSquareSize(2 * theme.Padding()))
		if min := f.in.panes.MinSize(); min.Height > room.Height {
			t.Errorf("with %s the panes need %v, more than the window's %v", what, min, room)
		}
	}
	win.Resize(size)
	f.setURL(t, demo.MisbehavePrefix+"unknown-type")
	f.send(t)
	f.q.waitFor(t, "the anomalies", inspWait, func() bool { return len(f.in.teach.Anomalies.Anomalies()) > 0 })
	layOut()
	if !f.in.teach.Anomalies.Content().Visible() {
		t.Fatal("the anomalies are not shown")
	}
	check("the anomalies shown", 4)
	f.in.teach.ShowPlayback(true)
	check("the anomalies shown and Step through open", 5) // the anomalies fold under their title
	f.in.teach.ShowPlayback(false)
	f.setURL(t, "/echo")
	f.send(t)
	f.q.waitFor(t, "no anomalies", inspWait, func() bool { return !f.in.teach.Anomalies.Content().Visible() })
	f.in.teach.ShowPlayback(true)
	check("Step through open", 4)
}

// laptopWindow returns the window's size as it opens on a 1366×768 screen
// (less its menu bar), and a function that lays the window out again at
// that size as a frame would after panes were shown or hidden.
func laptopWindow(f *inspFixture) (fyne.Size, func()) {
	win := f.in.Window()
	size := fitWindow(fyne.NewSize(defaultWindowWidth, defaultWindowHeight), fyne.NewSize(1366, 768)).SubtractWidthHeight(0, menuHeight)
	return size, func() {
		win.Resize(size.SubtractWidthHeight(10, 10))
		f.q.settle()
		win.Resize(size)
		f.q.settle()
	}
}
