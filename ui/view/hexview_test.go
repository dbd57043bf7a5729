// Tests of the HexView: rendering, hover and tap, highlight, scrolling, rows that bend to the width, virtualization.

package view_test

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/session/dissect"
	"fcgiscope/ui/view"
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
	test.NewTempApp(t)
	win := test.NewWindow(v)
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(w, h))
	return win
}

// bytePos returns the canvas position of the middle of byte off in the hex
// column (ascii false) or the ASCII column.
func bytePos(t *testing.T, v *view.HexView, off int, ascii bool) fyne.Position {
	t.Helper()
	p, _, ok := view.HexGeometry(v, off, ascii)
	if !ok {
		t.Fatalf("the row of byte %d is not on screen", off)
	}
	return fyne.CurrentApp().Driver().AbsolutePositionForObject(v).Add(p)
}

func TestHexLine(t *testing.T) {
	b := make([]byte, 17)
	for i := range b {
		b[i] = byte(i * 17)
	}
	if got, want := view.HexLine(b[:16], 16), "00 11 22 33 44 55 66 77  88 99 aa bb cc dd ee ff"; got != want {
		t.Errorf("hexLine = %q, want %q", got, want)
	}
	if got, want := view.HexLine(b[:8], 8), "00 11 22 33 44 55 66 77"; got != want {
		t.Errorf("hexLine(8 a row) = %q, want %q", got, want)
	}
	if got, want := view.HexLine(b[:3], 16), "00 11 22"; got != want {
		t.Errorf("hexLine(3 bytes) = %q, want %q", got, want)
	}
	if got, want := view.AsciiLine([]byte("a\x00~\x7f\xff ")), "a.~.. "; got != want {
		t.Errorf("asciiLine = %q, want %q", got, want)
	}
	for n, want := range map[int]int{0: 4, 1 << 16: 4, 1<<16 + 1: 5, 8 << 20: 6, 1 << 32: 8, 1<<32 + 1: 9} {
		if got := view.OffsetDigits(n); got != want {
			t.Errorf("offsetDigits(%#x) = %d, want %d", n, got, want)
		}
	}
}

func TestHexViewRendersSpans(t *testing.T) {
	rec := beginRequest()
	v := view.NewHexView()
	win := newHexWindow(t, v, 760, 240)
	v.SetData(rec.Raw, dissect.Spans(rec))
	test.AssertRendersToMarkup(t, "hexview/begin_request.xml", win.Canvas())

	v.Highlight(2, 4)
	test.MoveMouse(win.Canvas(), bytePos(t, v, 9, false))
	test.AssertRendersToMarkup(t, "hexview/hover_highlight.xml", win.Canvas())
}

func TestHexViewBendsToItsWidth(t *testing.T) {
	data := make([]byte, 100)
	for i := range data {
		data[i] = byte(i)
	}
	v := view.NewHexView()
	win := newHexWindow(t, v, 760, 300)
	v.SetData(data, nil)
	tapped := -1
	v.OnTapped = func(off int) { tapped = off }
	for _, w := range []struct {
		width  float32
		perRow int
	}{{760, 16}, {420, 8}, {300, 4}, {760, 16}} {
		win.Resize(fyne.NewSize(w.width, 300))
		if v.BytesPerRow() != w.perRow {
			t.Errorf("%v wide: %d bytes a row, want %d", w.width, v.BytesPerRow(), w.perRow)
			continue
		}
		if v.MinSize().Width > 300 {
			t.Errorf("the dump asks for %v, more than the narrowest width tried", v.MinSize().Width)
		}
		_, offs, hexes := view.HexRows(v)
		if want := fmt.Sprintf("%04x", w.perRow); offs[1] != want {
			t.Errorf("%d a row: second row at %q, want %q", w.perRow, offs[1], want)
		}
		if got := len(strings.Fields(hexes[0])); got != w.perRow {
			t.Errorf("%d a row: first row shows %d bytes: %q", w.perRow, got, hexes[0])
		}
		// Taps name the right byte whatever the row width.
		for _, off := range []int{0, w.perRow - 1, w.perRow + 1, 37} {
			tapped = -1
			test.TapCanvas(win.Canvas(), bytePos(t, v, off, false))
			if tapped != off {
				t.Errorf("%d a row: tap on byte %d reported %d", w.perRow, off, tapped)
			}
		}
	}
}

func TestHexViewHoverNamesField(t *testing.T) {
	rec := beginRequest()
	v := view.NewHexView()
	var hovered []string
	v.OnHover = func(s *dissect.Span) {
		if s == nil {
			hovered = append(hovered, "<nil>")
			return
		}
		hovered = append(hovered, s.Name)
	}
	win := newHexWindow(t, v, 760, 240)
	v.SetData(rec.Raw, dissect.Spans(rec))

	test.MoveMouse(win.Canvas(), bytePos(t, v, 2, false))
	if s := view.HexStatus(v); !strings.Contains(s, "requestIdB1 = 0x00, part of requestId = 1") || !strings.Contains(s, "spec §3.3") {
		t.Errorf("status after hovering byte 2 = %q", s)
	}
	test.MoveMouse(win.Canvas(), bytePos(t, v, 9, true)) // the ASCII column names the same fields
	if s := view.HexStatus(v); !strings.Contains(s, "roleB0") {
		t.Errorf("status after hovering ASCII byte 9 = %q", s)
	}
	test.MoveMouse(win.Canvas(), bytePos(t, v, 12, false)) // reserved: bytes 11..15 are one span
	test.MoveMouse(win.Canvas(), bytePos(t, v, 13, false))
	test.MoveMouse(win.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(v).AddXY(1, 1)) // the offset column names nothing
	want := []string{"requestIdB1", "roleB0", "reserved", "<nil>"}
	if strings.Join(hovered, ",") != strings.Join(want, ",") {
		t.Errorf("OnHover calls = %v, want %v", hovered, want)
	}
	if s := view.HexStatus(v); !strings.HasPrefix(s, "16 bytes.") {
		t.Errorf("status after leaving = %q", s)
	}
}

func TestHexViewTapReportsOffset(t *testing.T) {
	data := make([]byte, 100)
	v := view.NewHexView()
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
	p := bytePos(t, v, 96, false)
	x0, _ := view.HexSpanX(v, 0, 0)
	x1, _ := view.HexSpanX(v, 10, 10)
	test.TapCanvas(win.Canvas(), p.AddXY(x1-x0, 0))
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
	v := view.NewHexView()
	newHexWindow(t, v, 760, 400)
	v.SetData(make([]byte, 160), nil)
	small := countObjects(v)

	big := make([]byte, 8<<20) // 524,288 rows
	for i := range big {
		big[i] = byte(i)
	}
	v.SetData(big, []dissect.Span{{Start: 0, End: len(big), Kind: dissect.KindContent, Name: "stdout data"}})
	if _, shown := view.HexTop(v); shown < 5 {
		t.Fatalf("%d rows on screen", shown)
	}
	if got := countObjects(v); got != small {
		t.Errorf("8 MiB of data made %d objects, 160 bytes made %d: objects must not grow with the data", got, small)
	}

	// The last rows are reachable and show the right offsets.
	v.ScrollToOffset(len(big) - 1)
	lines, offs, hexes := view.HexRows(v)
	last := len(lines) - 1
	if lines[last] != len(big)/16-1 || offs[last] != "7ffff0" || hexes[last] != "f0 f1 f2 f3 f4 f5 f6 f7  f8 f9 fa fb fc fd fe ff" {
		t.Errorf("last row %d shows %q %q", lines[last], offs[last], hexes[last])
	}
}

func TestHexViewHighlightSetsRows(t *testing.T) {
	v := view.NewHexView()
	newHexWindow(t, v, 760, 400)
	v.SetData(make([]byte, 8<<20), nil)

	const start, end = 0x400008, 0x400028 // the second half of row 0x40000, row 0x40001, the first half of 0x40002
	v.Highlight(start, end)
	if s, e := v.Highlighted(); s != start || e != end {
		t.Fatalf("Highlighted = %#x, %#x", s, e)
	}
	if top, shown := view.HexTop(v); top > 0x40000 || top+shown <= 0x40002 {
		t.Fatalf("top row %#x with %d rows shown does not show rows 0x40000..0x40002", top, shown)
	}
	wantX := map[int][2]int{0x40000: {8, 15}, 0x40001: {0, 15}, 0x40002: {0, 7}}
	for line, got := range view.HexMarks(v) {
		want, ok := wantX[line]
		if !ok {
			if got[0] >= 0 {
				t.Errorf("row %#x is highlighted", line)
			}
			continue
		}
		x0, x1 := view.HexSpanX(v, want[0], want[1])
		if got != [2]float32{x0, x1} {
			t.Errorf("row %#x highlight spans x %v, want %v..%v", line, got, x0, x1)
		}
	}

	// A highlight already on screen does not scroll; clearing removes the marks.
	top, _ := view.HexTop(v)
	v.Highlight(start+16, start+17)
	if now, _ := view.HexTop(v); now != top {
		t.Errorf("highlighting a visible byte scrolled from %#x to %#x", top, now)
	}
	v.Highlight(-1, -1)
	for line, got := range view.HexMarks(v) {
		if got[0] >= 0 {
			t.Errorf("row %#x still highlighted after clearing", line)
		}
	}
}

func TestHexViewScrolls(t *testing.T) {
	v := view.NewHexView()
	win := newHexWindow(t, v, 760, 400)
	v.SetData(make([]byte, 1000), nil) // 63 rows
	_, rowH, _ := view.HexGeometry(v, 0, false)
	top := func() int { t, _ := view.HexTop(v); return t }
	_, shown := view.HexTop(v)

	test.Scroll(win.Canvas(), fyne.NewPos(50, 50), 0, -3*rowH)
	if top() != 3 {
		t.Errorf("after scrolling 3 rows down top = %d", top())
	}
	test.Scroll(win.Canvas(), fyne.NewPos(50, 50), 0, rowH*100)
	if top() != 0 {
		t.Errorf("after scrolling far up top = %d", top())
	}
	test.Scroll(win.Canvas(), fyne.NewPos(50, 50), 0, -rowH*1000)
	if top() != 63-shown {
		t.Errorf("after scrolling far down top = %d, want %d", top(), 63-shown)
	}
	if lines, _, _ := view.HexRows(v); lines[len(lines)-1] != 62 {
		t.Error("last row not on screen at the bottom")
	}

	// The scroll bar: dragging the thumb to the top, tapping the track pages.
	bar := view.HexBar(v)
	test.Drag(win.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(bar).Add(fyne.NewPos(4, bar.Size().Height-4)), 0, -bar.Size().Height)
	if top() != 0 {
		t.Errorf("after dragging the thumb up top = %d", top())
	}
	test.TapAt(bar.(fyne.Tappable), fyne.NewPos(4, bar.Size().Height-4)) // below the thumb
	if top() != shown-1 {
		t.Errorf("after paging down top = %d, want %d", top(), shown-1)
	}
}

func TestHexViewStatusLine(t *testing.T) {
	v := view.NewHexView()
	newHexWindow(t, v, 760, 240)
	if s := view.HexStatus(v); s != "No bytes to show." {
		t.Errorf("empty status = %q", s)
	}
	v.SetData([]byte("abc"), nil)
	v.Highlight(1, 3)
	if s := view.HexStatus(v); !strings.Contains(s, "0x0001–0x0002 (2 of 3)") {
		t.Errorf("status with highlight = %q", s)
	}
	if v.SpanAt(1) != nil {
		t.Error("SpanAt found a span where none was given")
	}
}
