// Tests of the RecordList: rows, 100,000-record data sources, selection, live appends, folded runs, filters, keys, anomaly tooltips.

package view_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/ui/view"
)

// rowsSource returns a data source of n records, sent STDIN and received
// STDOUT in turn (so nothing folds), and a counter of the reads.
func rowsSource(n int) (func(i int) view.RecordRow, *int) {
	calls := 0
	return func(i int) view.RecordRow {
		calls++
		r := view.RecordRow{Index: i, Dir: fcgi.Sent, Type: fcgi.TypeStdin, RequestID: 1,
			ContentLength: uint16(i % 65536), PaddingLength: uint8(i % 8), T: time.Duration(i) * time.Microsecond}
		if i%2 == 1 {
			r.Dir, r.Type = fcgi.Received, fcgi.TypeStdout
		}
		if i%1000 == 3 {
			r.Anomaly = "record " + strconv.Itoa(i) + ": request id 9 is not active"
		}
		return r
	}, &calls
}

// exchangeRows is a responder's exchange: BEGIN_REQUEST, two PARAMS,
// STDIN, then stdout STDOUT records of 1000 bytes (one cut, marked), the
// empty STDOUT and END_REQUEST.
func exchangeRows(stdout int) []view.RecordRow {
	rows := []view.RecordRow{
		{Dir: fcgi.Sent, Type: fcgi.TypeBeginRequest, ContentLength: 8},
		{Dir: fcgi.Sent, Type: fcgi.TypeParams, ContentLength: 500, PaddingLength: 4},
		{Dir: fcgi.Sent, Type: fcgi.TypeParams},
		{Dir: fcgi.Sent, Type: fcgi.TypeStdin},
	}
	for i := range stdout {
		r := view.RecordRow{Dir: fcgi.Received, Type: fcgi.TypeStdout, ContentLength: 1000}
		if i == 7 {
			r.Anomaly = "the connection ended inside this record"
		}
		rows = append(rows, r)
	}
	rows = append(rows, view.RecordRow{Dir: fcgi.Received, Type: fcgi.TypeStdout},
		view.RecordRow{Dir: fcgi.Received, Type: fcgi.TypeEndRequest, ContentLength: 8})
	for i := range rows {
		rows[i].Index, rows[i].RequestID = i, 1
		rows[i].T = time.Duration(i) * time.Millisecond
	}
	return rows
}

// listWindow shows a RecordList of the given rows in a test window.
func listWindow(t *testing.T, rows []view.RecordRow, w, h float32) (*view.RecordList, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	l := view.NewRecordList()
	win := test.NewWindow(l)
	t.Cleanup(win.Close)
	win.Resize(fyne.NewSize(w, h))
	l.SetRecords(len(rows), func(i int) view.RecordRow { return rows[i] })
	return l, win
}

// shownRecords returns the # cell of every row on screen, in order.
func shownRecords(l *view.RecordList) []string {
	top, shown := view.TableTop(l)
	var out []string
	for j := top; j < top+shown; j++ {
		row := view.TableRow(l, j)
		if row == nil {
			break
		}
		cells, _, _ := view.RowCells(row)
		out = append(out, cells[0])
	}
	return out
}

// onScreen reports whether row j is drawn.
func onScreen(l *view.RecordList, j int) bool { return view.TableRow(l, j) != nil }

// key types a key into the list, which has the focus.
func key(t *testing.T, w fyne.Window, k fyne.KeyName) {
	t.Helper()
	f := w.Canvas().Focused()
	if f == nil {
		t.Fatalf("nothing has the focus for %s", k)
	}
	f.TypedKey(&fyne.KeyEvent{Name: k})
}

func TestRecordRowTexts(t *testing.T) {
	r := view.RecordRow{Index: 12, Dir: fcgi.Received, Type: fcgi.TypeGetValuesResult, RequestID: 0,
		ContentLength: 65535, PaddingLength: 1, T: 1234567 * time.Nanosecond}
	want := [view.RecordColumns]string{"12", "←", "GET_VALUES_RESULT", "0", "65535", "1", "1.235"}
	if got := r.Cells(); got != want {
		t.Errorf("cells = %q, want %q", got, want)
	}
	r.Dir, r.T = fcgi.Sent, 2500*time.Millisecond
	if r.Arrow() != "→" || r.TimeText() != "+2.500 s" {
		t.Errorf("sent row shows %q %q", r.Arrow(), r.TimeText())
	}
}

func TestRecordListRenders(t *testing.T) {
	rows := exchangeRows(5)
	l, w := listWindow(t, rows, 640, 300)
	test.AssertRendersToMarkup(t, "recordlist/rows.xml", w.Canvas())
	l.Select(1)
	test.AssertRendersToMarkup(t, "recordlist/selected.xml", w.Canvas())
}

func TestRecordListRendersFoldedRun(t *testing.T) {
	l, w := listWindow(t, exchangeRows(384), 640, 300)
	if l.Len() != 390 || l.Rows() != 6 {
		t.Fatalf("%d records in %d rows, want 390 in 6: the 385 STDOUT records on one line", l.Len(), l.Rows())
	}
	test.AssertRendersToMarkup(t, "recordlist/folded.xml", w.Canvas())
	cells, mark, exp := view.RowCells(view.TableRow(l, 4))
	if cells[0] != "4" || cells[2] != "STDOUT × 385" || cells[4] != "375.0 KiB" || !mark || !exp {
		t.Errorf("the run's line shows %q, mark %v, expander %v", cells, mark, exp)
	}
	if first, n := l.RowRecords(4); first != 4 || n != 385 {
		t.Errorf("the line stands for %d records from %d", n, first)
	}
	if first, n := l.RowRecords(5); first != 389 || n != 1 {
		t.Errorf("the row after the line stands for %d records from %d, want END_REQUEST", n, first)
	}
}

func TestRecordList100000Rows(t *testing.T) {
	test.NewTempApp(t)
	l := view.NewRecordList()
	var selected []int
	l.OnSelected = func(i int) { selected = append(selected, i) }
	w := test.NewWindow(l)
	defer w.Close()
	w.Resize(fyne.NewSize(640, 480))

	get, calls := rowsSource(100000)
	l.SetRecords(100000, get)
	if *calls > 100000+200 {
		t.Errorf("showing 100,000 rows read %d of them", *calls)
	}
	shown := shownRecords(l)
	if len(shown) < 10 || len(shown) > 50 || shown[0] != "0" || shown[1] != "1" {
		t.Fatalf("rows on screen: %q", shown)
	}
	cells, _, _ := view.RowCells(view.TableRow(l, 1))
	if cells[1] != "←" || cells[2] != "STDOUT" || cells[6] != "0.001" {
		t.Errorf("row 1 shows %q", cells)
	}

	*calls = 0
	l.Select(99999)
	if len(selected) != 1 || selected[0] != 99999 || l.Selected() != 99999 {
		t.Fatalf("OnSelected calls %v, Selected %d", selected, l.Selected())
	}
	if !onScreen(l, 99999) {
		t.Error("the selected last row is not on screen")
	}
	if *calls > 200 {
		t.Errorf("jumping to the end read %d rows", *calls)
	}
	l.Select(99999)
	if len(selected) != 1 {
		t.Errorf("selecting the selected record again called OnSelected: %v", selected)
	}

	// Live updates keep the selection and do not scroll away from it.
	l.Append(0)
	l.Append(10)
	if l.Len() != 100010 || l.Selected() != 99999 {
		t.Errorf("after Append: %d rows, selected %d", l.Len(), l.Selected())
	}
	if !onScreen(l, 99999) {
		t.Error("Append scrolled the selected row away")
	}

	// Without a selection the list follows the newest row.
	l.UnselectAll()
	l.ScrollTo(0)
	if !onScreen(l, 0) {
		t.Error("ScrollTo(0) did not show the first row")
	}
	l.Append(5)
	if !onScreen(l, 100014) {
		t.Error("Append without a selection does not show the newest row")
	}

	// New records replace everything, selection included.
	get2, _ := rowsSource(3)
	l.Select(100)
	l.SetRecords(3, get2)
	if l.Selected() != -1 || len(shownRecords(l)) != 3 {
		t.Errorf("after SetRecords: selected %d, rows shown %q", l.Selected(), shownRecords(l))
	}
}

func TestRecordListFoldsRuns(t *testing.T) {
	rows := exchangeRows(384)
	l, _ := listWindow(t, rows, 640, 300)
	var selected []int
	l.OnSelected = func(i int) { selected = append(selected, i) }

	// Selecting a record inside the run opens it and selects the record.
	l.Select(200)
	if l.Rows() != 6+385 || l.Selected() != 200 || l.SelectedRow() != 5+196 || !onScreen(l, l.SelectedRow()) {
		t.Fatalf("after Select(200): %d rows, selected %d at row %d", l.Rows(), l.Selected(), l.SelectedRow())
	}
	if first, n := l.RowRecords(l.SelectedRow()); first != 200 || n != 1 {
		t.Errorf("the selected row stands for %d records from %d", n, first)
	}
	// Closing the run moves the selection to its line, which stands for its first record.
	l.SetOpen(200, false)
	if l.Rows() != 6 || l.SelectedRow() != 4 || l.Selected() != 4 {
		t.Errorf("after closing: %d rows, selected record %d at row %d", l.Rows(), l.Selected(), l.SelectedRow())
	}
	// Unfolded, every record has its row; folded again, the run is one line.
	l.SetFolded(false)
	if l.Rows() != len(rows) || l.SelectedRow() != 4 {
		t.Errorf("unfolded: %d rows, selected row %d", l.Rows(), l.SelectedRow())
	}
	l.SetFolded(true)
	if l.Rows() != 6 || !l.Folded() {
		t.Errorf("folded again: %d rows", l.Rows())
	}
	if len(selected) != 1 || selected[0] != 200 {
		t.Errorf("OnSelected calls %v, want only the Select", selected)
	}
}

func TestRecordListFoldsLiveRuns(t *testing.T) {
	rows := exchangeRows(10) // 4 sent, 10 STDOUT, the empty STDOUT, END_REQUEST
	l, _ := listWindow(t, nil, 640, 300)
	get := func(i int) view.RecordRow { return rows[i] }
	l.SetRecords(4, get)
	// Three STDOUT records show as rows; the fourth folds them into a line.
	want := []int{5, 6, 7, 5, 5, 5, 5, 5, 5, 5, 5, 6}
	for n := 5; n <= len(rows); n++ {
		l.Append(1)
		if got := l.Rows(); got != want[n-5] {
			t.Fatalf("%d records: %d rows, want %d", n, got, want[n-5])
		}
	}
	if first, n := l.RowRecords(4); first != 4 || n != 11 {
		t.Errorf("the line stands for %d records from %d, want the 11 STDOUT", n, first)
	}
	// An open run grows by rows.
	l.SetRecords(14, get)
	l.SetOpen(4, true)
	if l.Rows() != 4+1+10 {
		t.Fatalf("the open run: %d rows", l.Rows())
	}
	l.Append(1)
	l.Append(1)
	if l.Rows() != 4+1+11+1 {
		t.Errorf("the open run grew to %d rows, want 17", l.Rows())
	}
}

func TestRecordListFilters(t *testing.T) {
	rows := exchangeRows(384)
	l, _ := listWindow(t, rows, 640, 300)
	var changed []view.RecordFilter
	l.OnFilterChanged = func(f view.RecordFilter) { changed = append(changed, f) }

	l.SetFilter(view.RecordFilter{Dir: fcgi.Sent})
	if l.Rows() != 4 {
		t.Errorf("sent records: %d rows, want 4", l.Rows())
	}
	l.SetFilter(view.RecordFilter{Type: fcgi.TypeParams})
	if l.Rows() != 2 || shownRecords(l)[0] != "1" || shownRecords(l)[1] != "2" {
		t.Errorf("PARAMS records: %d rows %q", l.Rows(), shownRecords(l))
	}
	l.SetFilter(view.RecordFilter{Type: fcgi.TypeStdout, Dir: fcgi.Received})
	if l.Rows() != 1 {
		t.Errorf("received STDOUT: %d rows, want the run's line", l.Rows())
	}
	l.SetFilter(view.RecordFilter{Type: fcgi.TypeStdout, Dir: fcgi.Sent})
	if l.Rows() != 0 {
		t.Errorf("sent STDOUT: %d rows, want none", l.Rows())
	}
	// Selecting a record the filter hides clears the filter, and says so.
	l.Select(389)
	if l.Filter() != (view.RecordFilter{}) || len(changed) != 1 || changed[0] != (view.RecordFilter{}) || l.Selected() != 389 {
		t.Errorf("after selecting a hidden record: filter %+v, changes %v, selected %d", l.Filter(), changed, l.Selected())
	}
	// A filter that hides the selected record unselects it.
	l.SetFilter(view.RecordFilter{Type: fcgi.TypeParams})
	if l.Selected() != -1 || l.SelectedRow() != -1 {
		t.Errorf("the hidden END_REQUEST is still selected: %d", l.Selected())
	}
}

func TestRecordListKeys(t *testing.T) {
	rows := exchangeRows(384)
	l, w := listWindow(t, rows, 640, 300)
	var selected []int
	l.OnSelected = func(i int) { selected = append(selected, i) }
	var passed []fyne.KeyName
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) { passed = append(passed, k.Name) })

	// A tap on a row selects it and gives the list the focus.
	row := view.TableRow(l, 1)
	test.TapCanvas(w.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(row).Add(view.CellPos(row, 2)))
	if l.Selected() != 1 || w.Canvas().Focused() != view.TableOf(l) {
		t.Fatalf("after a tap on row 1: selected %d, focus %v", l.Selected(), w.Canvas().Focused())
	}
	steps := []struct {
		key    fyne.KeyName
		record int // selected after the key
		rows   int
	}{
		{fyne.KeyDown, 2, 6},
		{fyne.KeyEnd, 389, 6},
		{fyne.KeyHome, 0, 6},
		{fyne.KeyDown, 1, 6},
		{fyne.KeyUp, 0, 6},
		{fyne.KeyUp, 0, 6},         // at the top already
		{fyne.KeyPageDown, 389, 6}, // a page down is past the end of 6 rows: END_REQUEST
		{fyne.KeyUp, 4, 6},         // the run's line
		{fyne.KeyRight, 4, 6 + 385},
		{fyne.KeyRight, 4, 6 + 385}, // into the run: its first record
		{fyne.KeyPageDown, -1, 6 + 385},
		{fyne.KeyLeft, 4, 6 + 385}, // back to the run's line
		{fyne.KeyLeft, 4, 6},       // closed
		{fyne.KeyReturn, 4, 6 + 385},
		{fyne.KeySpace, 4, 6},
	}
	for i, s := range steps {
		key(t, w, s.key)
		if s.record >= 0 && l.Selected() != s.record || l.Rows() != s.rows {
			t.Fatalf("step %d (%s): selected %d, %d rows; want %d, %d", i, s.key, l.Selected(), l.Rows(), s.record, s.rows)
		}
		if !onScreen(l, l.SelectedRow()) {
			t.Errorf("step %d (%s): the selected row %d is not on screen", i, s.key, l.SelectedRow())
		}
	}
	if len(selected) < 2 || selected[0] != 1 || selected[1] != 2 {
		t.Errorf("OnSelected calls %v", selected)
	}
	// Keys the list does not use go on to the window; Copy copies the row.
	key(t, w, fyne.KeyEscape)
	if len(passed) != 1 || passed[0] != fyne.KeyEscape {
		t.Errorf("keys passed on to the window: %v", passed)
	}
	view.TableOf(l).(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{})
	if got := fyne.CurrentApp().Clipboard().Content(); !strings.Contains(got, "STDOUT × 385") {
		t.Errorf("Copy took %q", got)
	}
}

func TestRecordListAnomalyTooltip(t *testing.T) {
	test.NewTempApp(t)
	l := view.NewRecordList()
	w := test.NewWindow(l)
	defer w.Close()
	w.Resize(fyne.NewSize(640, 400))
	get, _ := rowsSource(10)
	l.SetRecords(10, get)

	for j := range 10 {
		if _, mark, _ := view.RowCells(view.TableRow(l, j)); mark != (j == 3) {
			t.Errorf("row %d warning icon visible = %v", j, mark)
		}
	}
	d := fyne.CurrentApp().Driver()
	row := view.TableRow(l, 3)
	at := d.AbsolutePositionForObject(row).Add(view.MarkPos(row))
	test.MoveMouse(w.Canvas(), at)
	want := "record 3: request id 9 is not active"
	if got := l.TooltipText(); got != want {
		t.Fatalf("tooltip = %q, want %q", got, want)
	}
	// The tooltip stays inside the list, under the icon, and takes no
	// events: the pointer still reaches the row under it.
	tip := view.TooltipOf(l)
	lp := d.AbsolutePositionForObject(l)
	if p, s := d.AbsolutePositionForObject(tip).Subtract(lp), tip.Size(); p.X < 0 || p.Y < 0 || p.X+s.Width > l.Size().Width || p.Y+s.Height > l.Size().Height {
		t.Errorf("tooltip at %v size %v leaves the list of size %v", p, s, l.Size())
	}
	if d.AbsolutePositionForObject(tip).Y < at.Y {
		t.Errorf("tooltip at %v is above the icon at %v", d.AbsolutePositionForObject(tip), at)
	}
	test.MoveMouse(w.Canvas(), at.AddXY(0, 1))
	if l.TooltipText() != want {
		t.Error("moving on the icon hid the tooltip")
	}
	test.MoveMouse(w.Canvas(), at.AddXY(200, 0))
	if got := l.TooltipText(); got != "" {
		t.Errorf("tooltip after leaving the icon = %q", got)
	}
	// A row without an anomaly shows no tooltip.
	other := view.TableRow(l, 4)
	test.MoveMouse(w.Canvas(), d.AbsolutePositionForObject(other).Add(view.MarkPos(other)))
	if got := l.TooltipText(); got != "" {
		t.Errorf("tooltip on a plain row = %q", got)
	}
}

func TestRecordListRunTooltipAndMarks(t *testing.T) {
	rows := exchangeRows(384)
	l, w := listWindow(t, rows, 640, 300)
	d := fyne.CurrentApp().Driver()
	line := view.TableRow(l, 4)
	test.MoveMouse(w.Canvas(), d.AbsolutePositionForObject(line).Add(view.MarkPos(line)))
	if got := l.TooltipText(); !strings.Contains(got, "One of these records is marked; the first, #11: the connection ended") {
		t.Errorf("the run's mark says %q", got)
	}
	test.MoveMouse(w.Canvas(), d.AbsolutePositionForObject(line).Add(view.CellPos(line, 3)))
	if got := l.TooltipText(); !strings.Contains(got, "385 STDOUT records received, #4 to #388, request 1, from +4.000 ms: 384000 content bytes") {
		t.Errorf("the run's line says %q", got)
	}
	// Marks read again: the run's mark follows its records.
	rows[11].Anomaly = ""
	l.RefreshMarks()
	if _, mark, _ := view.RowCells(view.TableRow(l, 4)); mark {
		t.Error("the run is still marked after its only mark went")
	}
	// The expander opens the run.
	test.TapCanvas(w.Canvas(), d.AbsolutePositionForObject(line).Add(view.ExpanderPos(line)))
	if l.Rows() != 6+385 || l.Selected() != 4 {
		t.Errorf("after a tap on the expander: %d rows, selected %d", l.Rows(), l.Selected())
	}
}
