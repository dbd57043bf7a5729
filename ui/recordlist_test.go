// Tests of the RecordList: rows, 100,000-row data sources, selection, live appends, anomaly tooltips.

package ui

import (
	"strconv"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
)

// rowsSource returns a data source of n rows and a counter of the rows it
// was asked for.
func rowsSource(n int) (func(i int) RecordRow, *int) {
	calls := 0
	return func(i int) RecordRow {
		calls++
		r := RecordRow{Index: i, Dir: fcgi.Sent, Type: fcgi.TypeStdin, RequestID: 1,
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

// shownRows returns the row views on screen, by the Index they show.
func shownRows(l *RecordList) map[int]*recordRowView {
	out := map[int]*recordRowView{}
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *recordRowView:
			if x != l.header {
				if i, err := strconv.Atoi(x.cells[0].Text); err == nil {
					out[i] = x
				}
			}
			return
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(l)
	return out
}

func TestRecordRowTexts(t *testing.T) {
	r := RecordRow{Index: 12, Dir: fcgi.Received, Type: fcgi.TypeGetValuesResult, RequestID: 0,
		ContentLength: 65535, PaddingLength: 1, T: 1234567 * time.Nanosecond}
	want := [recordCells]string{"12", "←", "GET_VALUES_RESULT", "0", "65535", "1", "+1.235 ms"}
	if got := r.cells(); got != want {
		t.Errorf("cells = %q, want %q", got, want)
	}
	r.Dir, r.T = fcgi.Sent, 2500*time.Millisecond
	if r.Arrow() != "→" || r.TimeText() != "+2.500 s" {
		t.Errorf("sent row shows %q %q", r.Arrow(), r.TimeText())
	}
}

func TestRecordListRenders(t *testing.T) {
	test.NewTempApp(t)
	l := NewRecordList()
	w := test.NewWindow(l)
	defer w.Close()
	w.Resize(fyne.NewSize(640, 260))
	get, _ := rowsSource(5)
	l.SetRecords(5, get)
	test.AssertRendersToMarkup(t, "recordlist/rows.xml", w.Canvas())
}

func TestRecordList100000Rows(t *testing.T) {
	test.NewTempApp(t)
	l := NewRecordList()
	var selected []int
	l.OnSelected = func(i int) { selected = append(selected, i) }
	w := test.NewWindow(l)
	defer w.Close()
	w.Resize(fyne.NewSize(640, 480))

	get, calls := rowsSource(100000)
	l.SetRecords(100000, get)
	if *calls > 200 {
		t.Errorf("showing 100,000 rows read %d of them", *calls)
	}
	shown := shownRows(l)
	if len(shown) == 0 || len(shown) > 50 {
		t.Fatalf("%d rows on screen", len(shown))
	}
	if r := shown[1]; r == nil || r.cells[1].Text != "←" || r.cells[2].Text != "STDOUT" || r.cells[6].Text != "+0.001 ms" {
		t.Errorf("row 1 shows %v", r)
	}

	*calls = 0
	l.Select(99999)
	if len(selected) != 1 || selected[0] != 99999 || l.Selected() != 99999 {
		t.Fatalf("OnSelected calls %v, Selected %d", selected, l.Selected())
	}
	if shownRows(l)[99999] == nil {
		t.Error("the selected last row is not on screen")
	}
	if *calls > 200 {
		t.Errorf("jumping to the end read %d rows", *calls)
	}

	// Live updates keep the selection and do not scroll away from it.
	l.Append(0)
	l.Append(10)
	if l.Len() != 100010 || l.Selected() != 99999 {
		t.Errorf("after Append: %d rows, selected %d", l.Len(), l.Selected())
	}
	if shownRows(l)[99999] == nil {
		t.Error("Append scrolled the selected row away")
	}

	// Without a selection the list follows the newest row.
	l.UnselectAll()
	l.ScrollTo(0)
	l.Append(5)
	if shownRows(l)[100014] == nil {
		t.Error("Append without a selection does not show the newest row")
	}

	// New records replace everything, selection included.
	get2, _ := rowsSource(3)
	l.Select(100)
	l.SetRecords(3, get2)
	if l.Selected() != -1 || len(shownRows(l)) != 3 {
		t.Errorf("after SetRecords: selected %d, %d rows shown", l.Selected(), len(shownRows(l)))
	}
}

func TestRecordListAnomalyTooltip(t *testing.T) {
	test.NewTempApp(t)
	l := NewRecordList()
	w := test.NewWindow(l)
	defer w.Close()
	w.Resize(fyne.NewSize(640, 400))
	get, _ := rowsSource(10)
	l.SetRecords(10, get)

	rows := shownRows(l)
	for i, r := range rows {
		if marked := r.icon.icon.Visible(); marked != (i == 3) {
			t.Errorf("row %d warning icon visible = %v", i, marked)
		}
	}
	icon := rows[3].icon
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(icon)
	test.MoveMouse(w.Canvas(), abs.Add(fyne.NewPos(icon.Size().Width/2, icon.Size().Height/2)))
	want := "record 3: request id 9 is not active"
	if got := l.TooltipText(); got != want {
		t.Fatalf("tooltip = %q, want %q", got, want)
	}
	tip := l.tip
	if p, s := tip.Position(), tip.Size(); p.X < 0 || p.Y < 0 || p.X+s.Width > l.Size().Width || p.Y+s.Height > l.Size().Height {
		t.Errorf("tooltip at %v size %v leaves the list of size %v", p, s, l.Size())
	}
	if tip.Position().Y < abs.Y-fyne.CurrentApp().Driver().AbsolutePositionForObject(l).Y {
		t.Errorf("tooltip at %v is above the icon at %v", tip.Position(), abs)
	}
	// The tooltip takes no events: the pointer still reaches the row under it.
	test.MoveMouse(w.Canvas(), abs.Add(fyne.NewPos(icon.Size().Width/2, icon.Size().Height/2+1)))
	if l.TooltipText() != want {
		t.Error("moving on the icon hid the tooltip")
	}
	test.MoveMouse(w.Canvas(), abs.Add(fyne.NewPos(200, 0)))
	if got := l.TooltipText(); got != "" {
		t.Errorf("tooltip after leaving the icon = %q", got)
	}
	// A row without an anomaly shows no tooltip.
	other := rows[4].icon
	test.MoveMouse(w.Canvas(), fyne.CurrentApp().Driver().AbsolutePositionForObject(other).Add(fyne.NewPos(2, 2)))
	if got := l.TooltipText(); got != "" {
		t.Errorf("tooltip on a plain row = %q", got)
	}
}
