// Tests of the HexView: rendering, hover and tap, highlight, scrolling, virtualization.

package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
)

// beginRequest returns a decoded BEGIN_REQUEST record for request 1.
func beginRequest() *fcgi.Record {
	raw := []byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}
	h, _ := fcgi.ParseHeader(raw)
	body, _ := fcgi.ParseBeginRequest(raw[8:])
	return &fcgi.Record{Header: h, Raw: raw, Body: body}
}

// newHexWindow shows v in a test window of the given size.
func newHexWindow(t *testing.T, v fyne.CanvasObject, w, h float32) fyne.Window {
	t.Helper()
	win := test.NewWindow(v)
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(w, h))
	return win
}

// rowOf returns the row widget showing data row line, or nil.
func rowOf(v *HexView, line int) *hexRow {
	r := test.WidgetRenderer(v).(*hexRenderer)
	for _, row := range r.rows {
		if row.Visible() && row.line == line {
			return row
		}
	}
	return nil
}

// bytePos returns the canvas position of the middle of byte off in the hex
// column (ascii false) or the ASCII column.
func bytePos(t *testing.T, v *HexView, off int, ascii bool) fyne.Position {
	t.Helper()
	row := rowOf(v, off/bytesPerRow)
	if row == nil {
		t.Fatalf("row of byte %d is not on screen", off)
	}
	m := v.metrics()
	i := off % bytesPerRow
	x0, x1 := m.hexSpanX(i, i)
	if ascii {
		x0, x1 = m.asciiSpanX(i, i)
	}
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(row)
	return abs.Add(fyne.NewPos((x0+x1)/2, m.rowH/2))
}

func TestHexLine(t *testing.T) {
	b := make([]byte, 17)
	for i := range b {
		b[i] = byte(i * 17)
	}
	if got, want := hexLine(b[:16]), "00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff"; got != want {
		t.Errorf("hexLine = %q, want %q", got, want)
	}
	if got, want := hexLine(b[:3]), "00 11 22"; got != want {
		t.Errorf("hexLine(3 bytes) = %q, want %q", got, want)
	}
	if got, want := asciiLine([]byte("a\x00~\x7f\xff ")), "a.~.. "; got != want {
		t.Errorf("asciiLine = %q, want %q", got, want)
	}
	if offsetDigits(1<<32) != 8 || offsetDigits(1<<32+1) != 9 {
		t.Errorf("offsetDigits: %d, %d", offsetDigits(1<<32), offsetDigits(1<<32+1))
	}
}

func TestHexViewRendersSpans(t *testing.T) {
	test.NewTempApp(t)
	rec := beginRequest()
	v := NewHexView()
	win := newHexWindow(t, v, 760, 240)
	v.SetData(rec.Raw, Spans(rec))
	test.AssertRendersToMarkup(t, "hexview/begin_request.xml", win.Canvas())

	v.Highlight(2, 4)
	test.MoveMouse(win.Canvas(), bytePos(t, v, 9, false))
	test.AssertRendersToMarkup(t, "hexview/hover_highlight.xml", win.Canvas())
}

func TestHexViewHoverNamesField(t *testing.T) {
	test.NewTempApp(t)
	rec := beginRequest()
	v := NewHexView()
	var hovered []string
	v.OnHover = func(s *Span) {
		if s == nil {
			hovered = append(hovered, "<nil>")
			return
		}
		hovered = append(hovered, s.Name)
	}
	win := newHexWindow(t, v, 760, 240)
	v.SetData(rec.Raw, Spans(rec))

	test.MoveMouse(win.Canvas(), bytePos(t, v, 2, false))
	if s := v.status.Text; !strings.Contains(s, "requestIdB1 = 0x00, part of requestId = 1") || !strings.Contains(s, "spec §3.3") {
		t.Errorf("status after hovering byte 2 = %q", s)
	}
	test.MoveMouse(win.Canvas(), bytePos(t, v, 9, true)) // the ASCII column names the same fields
	if s := v.status.Text; !strings.Contains(s, "roleB0") {
		t.Errorf("status after hovering ASCII byte 9 = %q", s)
	}
	test.MoveMouse(win.Canvas(), bytePos(t, v, 12, false)) // reserved: bytes 11..15 are one span
	test.MoveMouse(win.Canvas(), bytePos(t, v, 13, false))
	test.MoveMouse(win.Canvas(), fyne.NewPos(1, 1)) // the offset column names nothing
	want := []string{"requestIdB1", "roleB0", "reserved", "<nil>"}
	if strings.Join(hovered, ",") != strings.Join(want, ",") {
		t.Errorf("OnHover calls = %v, want %v", hovered, want)
	}
	if s := v.status.Text; !strings.HasPrefix(s, "16 bytes.") {
		t.Errorf("status after leaving = %q", s)
	}
}

func TestHexViewTapReportsOffset(t *testing.T) {
	test.NewTempApp(t)
	data := make([]byte, 100)
	v := NewHexView()
	tapped := -1
	v.OnTapped = func(off int) { tapped = off }
	win := newHexWindow(t, v, 760, 300)
	v.SetData(data, nil)
	for _, off := range []int{0, 7, 8, 15, 17, 99} {
		for _, ascii := range []bool{false, true} {
			tapped = -1
			test.TapCanvas(win.Canvas(), bytePos(t, v, off, ascii))
			if tapped != off {
				t.Errorf("tap on byte %d (ascii %v) reported %d", off, ascii, tapped)
			}
		}
	}
	// Past the last byte of a short last row there is nothing to tap.
	tapped = -1
	m := v.metrics()
	x0, x1 := m.hexSpanX(10, 10)
	row := rowOf(v, 6)
	test.TapCanvas(win.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(row).Add(fyne.NewPos((x0+x1)/2, m.rowH/2)))
	if tapped != -1 {
		t.Errorf("tap past the end reported %d", tapped)
	}
}

// countObjects counts the canvas objects in the tree under o.
func countObjects(o fyne.CanvasObject) int {
	n := 1
	switch x := o.(type) {
	case *fyne.Container:
		for _, c := range x.Objects {
			n += countObjects(c)
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			n += countObjects(c)
		}
	}
	return n
}

func TestHexViewVirtualizes(t *testing.T) {
	test.NewTempApp(t)
	v := NewHexView()
	newHexWindow(t, v, 760, 400)
	v.SetData(make([]byte, 160), nil)
	small := countObjects(v)

	big := make([]byte, 8<<20) // 524,288 rows
	for i := range big {
		big[i] = byte(i)
	}
	v.SetData(big, []Span{{Start: 0, End: len(big), Kind: KindContent, Name: "stdout data"}})
	r := test.WidgetRenderer(v).(*hexRenderer)
	if v.shown < 5 || len(r.rows) != v.shown {
		t.Fatalf("%d rows on screen, %d row widgets", v.shown, len(r.rows))
	}
	if got := countObjects(v); got != small {
		t.Errorf("8 MiB of data made %d objects, 160 bytes made %d: objects must not grow with the data", got, small)
	}
	if per := countObjects(r.rows[0]); small > (v.shown+1)*per+50 {
		t.Errorf("%d objects for %d rows of %d objects each", small, v.shown, per)
	}

	// The last rows are reachable and show the right offsets.
	v.ScrollToOffset(len(big) - 1)
	last := rowOf(v, len(big)/bytesPerRow-1)
	if last == nil {
		t.Fatalf("last row not on screen after scrolling to it (top %d)", v.top)
	}
	rr := test.WidgetRenderer(last).(*hexRowRenderer)
	if rr.off.Text != "007ffff0" || rr.hex.Text != "f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff" {
		t.Errorf("last row shows %q %q", rr.off.Text, rr.hex.Text)
	}
}

func TestHexViewHighlightSetsRows(t *testing.T) {
	test.NewTempApp(t)
	v := NewHexView()
	newHexWindow(t, v, 760, 400)
	v.SetData(make([]byte, 8<<20), nil)

	const start, end = 0x400008, 0x400028 // the second half of row 0x40000, row 0x40001, the first half of 0x40002
	v.Highlight(start, end)
	if s, e := v.Highlighted(); s != start || e != end {
		t.Fatalf("Highlighted = %#x, %#x", s, e)
	}
	if top := v.top; top > 0x40000 || top+v.shown <= 0x40002 {
		t.Fatalf("top row %#x with %d rows shown does not show rows 0x40000..0x40002", top, v.shown)
	}
	m := v.metrics()
	wantX := map[int][2]int{0x40000: {8, 15}, 0x40001: {0, 15}, 0x40002: {0, 7}}
	r := test.WidgetRenderer(v).(*hexRenderer)
	for _, row := range r.rows {
		rr := test.WidgetRenderer(row).(*hexRowRenderer)
		want, ok := wantX[row.line]
		if !ok {
			if rr.hl[0].Visible() || rr.hl[1].Visible() {
				t.Errorf("row %#x is highlighted", row.line)
			}
			continue
		}
		if !rr.hl[0].Visible() || !rr.hl[1].Visible() {
			t.Errorf("row %#x is not highlighted", row.line)
			continue
		}
		x0, x1 := m.hexSpanX(want[0], want[1])
		if p, s := rr.hl[0].Position(), rr.hl[0].Size(); p.X != x0 || p.X+s.Width != x1 {
			t.Errorf("row %#x hex highlight spans x %v..%v, want %v..%v", row.line, p.X, p.X+s.Width, x0, x1)
		}
		a0, a1 := m.asciiSpanX(want[0], want[1])
		if p, s := rr.hl[1].Position(), rr.hl[1].Size(); p.X != a0 || p.X+s.Width != a1 {
			t.Errorf("row %#x ASCII highlight spans x %v..%v, want %v..%v", row.line, p.X, p.X+s.Width, a0, a1)
		}
	}

	// A highlight already on screen does not scroll; clearing removes the marks.
	top := v.top
	v.Highlight(start+16, start+17)
	if v.top != top {
		t.Errorf("highlighting a visible byte scrolled from %#x to %#x", top, v.top)
	}
	v.Highlight(-1, -1)
	for _, row := range r.rows {
		if rr := test.WidgetRenderer(row).(*hexRowRenderer); rr.hl[0].Visible() {
			t.Errorf("row %#x still highlighted after clearing", row.line)
		}
	}
}

func TestHexViewScrolls(t *testing.T) {
	test.NewTempApp(t)
	v := NewHexView()
	win := newHexWindow(t, v, 760, 400)
	v.SetData(make([]byte, 1000), nil) // 63 rows
	rowH := v.metrics().rowH

	test.Scroll(win.Canvas(), fyne.NewPos(50, 50), 0, -3*rowH)
	if v.top != 3 {
		t.Errorf("after scrolling 3 rows down top = %d", v.top)
	}
	test.Scroll(win.Canvas(), fyne.NewPos(50, 50), 0, rowH*100)
	if v.top != 0 {
		t.Errorf("after scrolling far up top = %d", v.top)
	}
	test.Scroll(win.Canvas(), fyne.NewPos(50, 50), 0, -rowH*1000)
	if v.top != v.maxTop() || v.top != 63-v.shown {
		t.Errorf("after scrolling far down top = %d, want %d", v.top, 63-v.shown)
	}
	if rowOf(v, 62) == nil {
		t.Error("last row not on screen at the bottom")
	}

	// The scroll bar: dragging the thumb to the top, tapping the track pages.
	r := test.WidgetRenderer(v).(*hexRenderer)
	test.Drag(win.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(r.bar).Add(fyne.NewPos(4, r.bar.Size().Height-4)), 0, -r.bar.Size().Height)
	if v.top != 0 {
		t.Errorf("after dragging the thumb up top = %d", v.top)
	}
	test.TapAt(r.bar, fyne.NewPos(4, r.bar.Size().Height-4)) // below the thumb
	if v.top != v.shown-1 {
		t.Errorf("after paging down top = %d, want %d", v.top, v.shown-1)
	}
}

func TestHexViewStatusLine(t *testing.T) {
	test.NewTempApp(t)
	v := NewHexView()
	newHexWindow(t, v, 760, 240)
	if v.status.Text != "No bytes to show." {
		t.Errorf("empty status = %q", v.status.Text)
	}
	v.SetData([]byte("abc"), nil)
	v.Highlight(1, 3)
	if s := v.status.Text; !strings.Contains(s, "0x00000001–0x00000002 (2 of 3)") {
		t.Errorf("status with highlight = %q", s)
	}
	if v.SpanAt(1) != nil {
		t.Error("SpanAt found a span where none was given")
	}
}
