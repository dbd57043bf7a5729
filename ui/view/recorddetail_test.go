// Tests of the RecordDetail: the field tree, selection and the bytes it highlights, descriptions, tooltips and copy, resizable columns, the colours of the dump.

package view_test

import (
	"bytes"
	"image/color"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"fcgiscope/fcgi"
	"fcgiscope/session/dissect"
	"fcgiscope/ui/view"
)

// written runs f on a Writer and decodes the records it wrote.
func written(t *testing.T, f func(w *fcgi.Writer) error) []*fcgi.Record {
	t.Helper()
	var buf bytes.Buffer
	if err := f(fcgi.NewWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	r := fcgi.NewReader(&buf)
	var out []*fcgi.Record
	for {
		rec, err := r.ReadRecord()
		if rec == nil {
			return out
		}
		if err != nil {
			t.Fatalf("record %d: %v", len(out), err)
		}
		c := *rec
		c.Raw = bytes.Clone(rec.Raw)
		out = append(out, &c)
	}
}

// paramsRecord returns the PARAMS record of pairs.
func paramsRecord(t *testing.T, pairs []fcgi.Pair) *fcgi.Record {
	t.Helper()
	return written(t, func(w *fcgi.Writer) error { return w.WriteParams(3, pairs) })[0]
}

// detailWindow shows a RecordDetail in a test window of the given size.
func detailWindow(t *testing.T, w, h float32) (*view.RecordDetail, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	d := view.NewRecordDetail()
	win := test.NewWindow(d)
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(w, h))
	return d, win
}

// treeNames lists the rows of the tree, a part of a group after "  ".
func treeNames(d *view.RecordDetail) []string {
	var out []string
	for i := range d.Rows() {
		f, depth := d.Row(i)
		out = append(out, strings.Repeat("  ", depth)+f.Name)
	}
	return out
}

var threePairs = []fcgi.Pair{
	{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php"},
	{Name: "REQUEST_METHOD", Value: "POST"},
	{Name: "HTTP_X_LONG", Value: strings.Repeat("long value ", 40)},
}

func TestRecordDetailRenders(t *testing.T) {
	d, w := detailWindow(t, 640, 480)
	rec := written(t, func(w *fcgi.Writer) error { return w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn) })[0]
	d.SetRecord(rec)
	d.SelectField("flags")
	test.AssertRendersToMarkup(t, "recorddetail/begin_request.xml", w.Canvas())
	d.SetRecord(paramsRecord(t, threePairs))
	d.SelectPair(3)
	test.AssertRendersToMarkup(t, "recorddetail/params.xml", w.Canvas())

	d.SetRecord(nil)
	if d.HexView().Len() != 0 || d.Record() != nil || d.Rows() != 0 {
		t.Error("SetRecord(nil) left a record shown")
	}
}

func TestRecordDetailShowsPairsOfParams(t *testing.T) {
	d, _ := detailWindow(t, 900, 700)
	d.SetRecord(paramsRecord(t, threePairs))
	if got := strings.Join(treeNames(d), ","); got != "header,SCRIPT_FILENAME,REQUEST_METHOD,HTTP_X_LONG,paddingData" {
		t.Errorf("tree: %s", got)
	}

	// Selecting pair 2 highlights its bytes: it starts after pair 1 (1+1+15+18 bytes).
	if !d.SelectPair(2) {
		t.Fatal("SelectPair(2) found no row")
	}
	if start, end := d.HexView().Highlighted(); start != 8+35 || end != 8+35+2+14+4 {
		t.Errorf("pair 2 highlights [%d,%d), want [43,63)", start, end)
	}
	if !strings.Contains(d.Explanation(), `"REQUEST_METHOD" = "POST"`) || !strings.Contains(d.Explanation(), "take 1+1 bytes") {
		t.Errorf("explanation = %q", d.Explanation())
	}

	// Selecting a header field opens the header and highlights both of its bytes.
	if !d.SelectField("requestId") {
		t.Fatal("no requestId field")
	}
	if s, e := d.HexView().Highlighted(); s != 2 || e != 4 {
		t.Errorf("requestId highlights [%d,%d), want [2,4)", s, e)
	}
	if !strings.Contains(d.Explanation(), "requestId = 3") {
		t.Errorf("explanation = %q", d.Explanation())
	}
	if got := treeNames(d); len(got) != 11 || got[3] != "  requestId" {
		t.Errorf("tree with the header open: %q", got)
	}

	// The header stays open for the next record, as the user left it.
	d.SetRecord(written(t, func(w *fcgi.Writer) error { return w.WriteEndRequest(1, 0, fcgi.StatusRequestComplete) })[0])
	if got := strings.Join(treeNames(d), ","); got != "header,  version,  type,  requestId,  contentLength,  paddingLength,  reserved,appStatus,protocolStatus,reserved" {
		t.Errorf("END_REQUEST tree: %s", got)
	}

	// Tapping a byte of the third pair's value selects that pair; with its
	// group open, the value itself.
	d.SetRecord(paramsRecord(t, threePairs))
	d.HexView().OnTapped(8 + 35 + 20 + 30)
	if s, _ := d.HexView().Highlighted(); s != 8+35+20 {
		t.Errorf("tapping pair 3 highlights from %d, want %d", s, 8+35+20)
	}
	d.SetOpen(3, true)
	d.HexView().OnTapped(8 + 35 + 20 + 30)
	if s, _ := d.HexView().Highlighted(); s != 8+35+20+5+11 {
		t.Errorf("tapping pair 3's value highlights from %d, want %d", s, 8+35+20+5+11)
	}
	if !strings.HasPrefix(d.Explanation(), `valueData = "long value long value`) {
		t.Errorf("explanation = %q", d.Explanation())
	}
}

func TestRecordDetailTreeKeys(t *testing.T) {
	d, w := detailWindow(t, 640, 480)
	d.SetRecord(paramsRecord(t, threePairs))
	row := view.TableRow(d, 0)
	test.TapCanvas(w.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(row).Add(view.CellPos(row, 0)))
	if w.Canvas().Focused() != view.TableOf(d) {
		t.Fatal("a tap on the tree does not give it the focus")
	}
	for i, s := range []struct {
		key  fyne.KeyName
		name string
		rows int
	}{
		{fyne.KeyRight, "header", 11},
		{fyne.KeyRight, "version", 11},
		{fyne.KeyDown, "type", 11},
		{fyne.KeyLeft, "header", 11},
		{fyne.KeyLeft, "header", 5},
		{fyne.KeyEnd, "paddingData", 5},
		{fyne.KeyUp, "HTTP_X_LONG", 5},
		{fyne.KeyReturn, "HTTP_X_LONG", 9},
	} {
		w.Canvas().Focused().TypedKey(&fyne.KeyEvent{Name: s.key})
		if !strings.HasPrefix(d.Explanation(), s.name) && !strings.Contains(d.Explanation(), `"`+s.name+`"`) || d.Rows() != s.rows {
			t.Fatalf("step %d (%s): %d rows, %q; want %s, %d rows", i, s.key, d.Rows(), d.Explanation(), s.name, s.rows)
		}
	}
}

func TestRecordDetailStatusesInSight(t *testing.T) {
	// A small pane still shows END_REQUEST's statuses without scrolling.
	d, _ := detailWindow(t, 540, 340)
	d.SetRecord(written(t, func(w *fcgi.Writer) error { return w.WriteEndRequest(1, 7, fcgi.StatusOverloaded) })[0])
	var shown []string
	for j := range d.Rows() {
		if row := view.TableRow(d, j); row != nil {
			cells, _, _ := view.RowCells(row)
			shown = append(shown, cells[0]+"="+cells[2])
		}
	}
	if got := strings.Join(shown, ","); !strings.Contains(got, "appStatus=7") || !strings.Contains(got, "protocolStatus=2 (OVERLOADED)") {
		t.Errorf("a 540×340 detail shows %s", got)
	}
	if ms := d.MinSize(); ms.Width > 400 || ms.Height > 300 {
		t.Errorf("the detail asks for %v", ms)
	}
}

func TestRecordDetailLongValues(t *testing.T) {
	d, w := detailWindow(t, 640, 480)
	d.SetRecord(paramsRecord(t, threePairs))
	long := `"` + strings.Repeat("long value ", 40) + `"`
	dr := fyne.CurrentApp().Driver()

	// The value is cut in its cell, and whole in a tooltip when pointed at.
	row := view.TableRow(d, 3)
	cells, _, _ := view.RowCells(row)
	if !strings.HasSuffix(cells[2], "…") || len(cells[2]) >= len(long) {
		t.Fatalf("the long value's cell shows %q", cells[2])
	}
	test.MoveMouse(w.Canvas(), dr.AbsolutePositionForObject(row).Add(view.CellPos(row, 2)))
	if got := d.TooltipText(); got != long {
		t.Errorf("tooltip %q, want the value whole", got)
	}
	// A cell that is whole has no tooltip.
	short := view.TableRow(d, 2)
	test.MoveMouse(w.Canvas(), dr.AbsolutePositionForObject(short).Add(view.CellPos(short, 2)))
	if got := d.TooltipText(); got != "" {
		t.Errorf("tooltip on a whole cell: %q", got)
	}

	// Selected, it is described whole, and Copy takes it whole.
	d.SelectPair(3)
	if !strings.Contains(d.Explanation(), long) {
		t.Errorf("explanation %q lacks the whole value", d.Explanation())
	}
	view.TableOf(d).(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{})
	if got := fyne.CurrentApp().Clipboard().Content(); got != long {
		t.Errorf("Copy took %q", got)
	}
}

func TestRecordDetailColumnsResize(t *testing.T) {
	d, w := detailWindow(t, 640, 480)
	d.SetRecord(paramsRecord(t, threePairs))
	xs, ws := view.ColumnX(d)
	edge := view.ColumnEdge(d, 0)
	at := fyne.CurrentApp().Driver().AbsolutePositionForObject(edge).Add(fyne.NewPos(edge.Size().Width/2, edge.Size().Height/2))
	test.Drag(w.Canvas(), at, 60, 0)
	xs2, ws2 := view.ColumnX(d)
	if ws2[0] != ws[0]+60 || xs2[1] != xs[1]+60 || ws2[2] != ws[2]-60 {
		t.Errorf("after dragging the field column's edge 60 right: x %v w %v (before x %v w %v)", xs2, ws2, xs, ws)
	}
	// The edge of the value column's left neighbour narrows bytes when dragged right.
	edge = view.ColumnEdge(d, 1)
	at = fyne.CurrentApp().Driver().AbsolutePositionForObject(edge).Add(fyne.NewPos(edge.Size().Width/2, edge.Size().Height/2))
	test.Drag(w.Canvas(), at, -1000, 0)
	if _, ws3 := view.ColumnX(d); ws3[1] >= ws2[1] || ws3[1] <= 0 {
		t.Errorf("dragging the bytes column's edge far left: widths %v (before %v)", ws3, ws2)
	}
	// Narrowed, the window's columns fit its width.
	w.Resize(fyne.NewSize(300, 480))
	xs4, ws4 := view.ColumnX(d)
	if end := xs4[2] + ws4[2]; end > d.Size().Width {
		t.Errorf("the columns end at %v in a detail %v wide", end, d.Size().Width)
	}
}

func TestDetailAndHexViewExplainPairsAndPadding(t *testing.T) {
	d, w := detailWindow(t, 900, 700)
	long := strings.Repeat("n", 200)
	params := paramsRecord(t, []fcgi.Pair{{Name: "AB", Value: "1"}, {Name: "B", Value: long}, {Name: long, Value: "v"}, {Name: long, Value: long}})
	d.SetRecord(params)

	for i, want := range []string{"1+1", "1+4", "4+1", "4+4"} {
		if !d.SelectPair(i+1) || !strings.Contains(d.Explanation(), "take "+want+" bytes") || !strings.Contains(d.Explanation(), "spec §3.4") {
			t.Errorf("pair %d: %q", i+1, d.Explanation())
		}
	}
	if !d.SelectField("paddingData") || !strings.Contains(d.Explanation(), "multiple of 8") || !strings.Contains(d.Explanation(), "spec §3.3") {
		t.Errorf("padding: %q", d.Explanation())
	}

	// Pointing at bytes names them under the dump, length forms included.
	hv := d.HexView()
	spans := dissect.Spans(params)
	for _, kind := range []dissect.Kind{dissect.KindHeader, dissect.KindNameLen1, dissect.KindNameLen4, dissect.KindValueLen1,
		dissect.KindValueLen4, dissect.KindName, dissect.KindValue, dissect.KindPadding} {
		var sp *dissect.Span
		for i := range spans {
			if spans[i].Kind == kind {
				sp = &spans[i]
				break
			}
		}
		if sp == nil {
			t.Errorf("no %s span in the PARAMS record", kind)
			continue
		}
		hv.ScrollToOffset(sp.Start)
		test.MoveMouse(w.Canvas(), bytePos(t, hv, sp.Start, false))
		status := view.HexStatus(hv)
		if !strings.Contains(status, sp.Name) || !strings.Contains(status, sp.Value) || !strings.Contains(status, "spec §") {
			t.Errorf("pointing at a %s byte: %q", kind, status)
		}
		switch kind {
		case dissect.KindNameLen4, dissect.KindValueLen4:
			if !strings.Contains(status, "4-byte form") || !strings.Contains(status, "long form") {
				t.Errorf("a 4-byte length is not called one: %q", status)
			}
		case dissect.KindNameLen1, dissect.KindValueLen1:
			if !strings.Contains(status, "1-byte form") || !strings.Contains(status, "short form") {
				t.Errorf("a 1-byte length is not called one: %q", status)
			}
		}
	}

	// The dump colours header, body fields, content and padding apart, and
	// the two length forms apart.
	th := theme.Current()
	distinct := [][2]dissect.Kind{{dissect.KindHeader, dissect.KindContent}, {dissect.KindHeader, dissect.KindPadding},
		{dissect.KindContent, dissect.KindPadding}, {dissect.KindHeader, dissect.KindBodyField}, {dissect.KindNameLen1, dissect.KindNameLen4},
		{dissect.KindValueLen1, dissect.KindValueLen4}, {dissect.KindName, dissect.KindValue}}
	for _, variant := range []fyne.ThemeVariant{theme.VariantDark, theme.VariantLight} {
		for _, p := range distinct {
			a, b := view.SpanColor(th, variant, p[0]), view.SpanColor(th, variant, p[1])
			if colorEqual(a, b) {
				t.Errorf("variant %d: %s and %s share the colour %v", variant, p[0], p[1], a)
			}
		}
	}
}

func colorEqual(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	return r1 == r2 && g1 == g2 && b1 == b2 && a1 == a2
}

func TestRecordDetailNote(t *testing.T) {
	d, _ := detailWindow(t, 640, 480)
	d.SetRecord(paramsRecord(t, threePairs))
	d.SelectPair(1)
	d.ShowNote("Anomaly: odd padding.")
	if d.Explanation() != "Anomaly: odd padding." {
		t.Errorf("explanation %q", d.Explanation())
	}
	if s, _ := d.HexView().Highlighted(); s >= 0 {
		t.Error("the note left a field highlighted")
	}
	d.SelectPair(2)
	if !strings.Contains(d.Explanation(), "REQUEST_METHOD") {
		t.Errorf("selecting after a note: %q", d.Explanation())
	}
}
