// RecordList: the records of an exchange as a protocol analyser lists them, one dense row each, runs of one kind folded, filtered, keyed.

package view

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// RecordRow is what the RecordList shows of one record.
type RecordRow struct {
	Index         int            // the record's number in the exchange
	Dir           fcgi.Direction // sent to or received from the application
	Type          fcgi.RecordType
	RequestID     uint16
	ContentLength uint16
	PaddingLength uint8
	T             time.Duration // time since the exchange started
	Anomaly       string        // when set, the row is marked and this text is its tooltip
}

// Arrow returns the direction as an arrow: "→" for sent, "←" for received.
func (r RecordRow) Arrow() string { return arrow(r.Dir) }

func arrow(d fcgi.Direction) string {
	switch d {
	case fcgi.Sent:
		return "→"
	case fcgi.Received:
		return "←"
	}
	return "?"
}

// TimeText returns the time since the exchange started, e.g. "+1.234 ms".
func (r RecordRow) TimeText() string {
	if r.T < time.Second {
		return fmt.Sprintf("+%.3f ms", float64(r.T)/float64(time.Millisecond))
	}
	return fmt.Sprintf("+%.3f s", r.T.Seconds())
}

// msText returns the time since the exchange started in milliseconds, as
// the time column shows it, e.g. "1.234".
func (r RecordRow) msText() string {
	return strconv.FormatFloat(float64(r.T)/float64(time.Millisecond), 'f', 3, 64)
}

// Cells returns the texts of the row's columns: #, direction, type,
// request id, content length, padding length, and the time since the
// exchange started in milliseconds.
func (r RecordRow) Cells() [RecordColumns]string {
	return [RecordColumns]string{
		strconv.Itoa(r.Index), r.Arrow(), r.Type.String(), strconv.Itoa(int(r.RequestID)),
		strconv.Itoa(int(r.ContentLength)), strconv.Itoa(int(r.PaddingLength)), r.msText(),
	}
}

// RecordColumns is the number of text columns of a RecordList.
const RecordColumns = 7

// The columns of a RecordList; the type column takes the width left.
const (
	colIndex = 0
	colType  = 2
	colID    = 3
	colTime  = 6
)

func recordColumns() []column {
	return []column{
		{title: "#", sample: "000000", align: fyne.TextAlignTrailing, keep: true},
		{title: "", sample: "←", align: fyne.TextAlignCenter, keep: true},
		{title: "type", sample: "GET_VALUES_RESULT", align: fyne.TextAlignLeading},
		{title: "id", sample: "65535", align: fyne.TextAlignTrailing, keep: true},
		{title: "content", sample: "65535|999.9 KiB", align: fyne.TextAlignTrailing},
		{title: "pad", sample: "pad|2040", align: fyne.TextAlignTrailing},
		{title: "ms", sample: "9999.999", align: fyne.TextAlignTrailing},
	}
}

// RecordList shows the records of an exchange as a table: a warning mark,
// #, direction, type, request id, content length, padding, and the time
// since the exchange started in milliseconds. It reads
// rows from a data source when they come on screen, so that 100,000
// records cost what ten do.
//
// Runs of FoldMin or more consecutive records of one type, direction and
// request fold into one line that says how many records and bytes it
// holds (384 STDOUT records in one line); the line opens to show them. A
// filter shows only the records of one type, or one direction. Keys move
// the selection when the list has the focus (Up, Down, Page Up, Page
// Down, Home, End; Right and Left open and close a run; Ctrl+C copies the
// row; "#" or a digit starts a record number, see OnGoTo); pointing at a
// mark, or at a cell cut short, shows it whole.
type RecordList struct {
	widget.BaseWidget

	// OnSelected is called with the record's index when the user selects
	// a row, or Select selects another record. A folded run's line stands
	// for its first record.
	OnSelected func(i int)
	// OnFilterChanged is called when the list changes its filter by
	// itself: Select clears a filter that hides the record it selects.
	OnFilterChanged func(f RecordFilter)
	// OnGoTo is called when "#" or a digit is typed while the list has the
	// focus: the start of a record number to go to.
	OnGoTo func(typed rune)

	get     func(i int) RecordRow
	m       *runRows
	t       *table
	sel     int  // the selected record, -1 for none
	selLine bool // the selection is the line of the folded run sel begins
	maxID   uint16
}

var _ tableModel = (*recordListModel)(nil)

// NewRecordList returns an empty RecordList that folds runs.
func NewRecordList() *RecordList {
	l := &RecordList{m: newRunRows(), sel: -1}
	l.t = newTable((*recordListModel)(l), true, true, recordColumns()...)
	l.t.stretch = colType
	l.t.fit = l.fit
	l.t.onSelect = l.onRow
	l.t.onToggle = l.toggle
	l.t.onRune = func(r rune) {
		if (r == '#' || r >= '0' && r <= '9') && l.OnGoTo != nil {
			l.OnGoTo(r)
		}
	}
	l.ExtendBaseWidget(l)
	return l
}

// RowHeight returns the height of one row of the list (and of its header).
func (l *RecordList) RowHeight() float32 { return l.t.metrics().rowH }

// SetRecords replaces the rows: n records, record i read from get(i) when
// its row comes on screen (get may be called again for the same record at
// any time). It clears the selection and scrolls to the top; the filter
// and folding stay as they are.
func (l *RecordList) SetRecords(n int, get func(i int) RecordRow) {
	l.get = get
	l.m.reset()
	l.sel, l.selLine, l.maxID = -1, false, 0
	l.add(0, max(n, 0))
	l.t.selected = -1
	l.t.tip.Hide()
	l.t.top = 0
	l.t.Refresh()
}

// fit sizes the number, request id and time columns for the records the
// list holds, not for the largest the protocol allows: at 1280 pixels
// the type column then shows BEGIN_REQUEST whole. Empty, they keep their
// samples.
func (l *RecordList) fit(c int) string {
	n := l.Len()
	if n == 0 {
		return ""
	}
	digits := func(s string) string { // digits as zeros: the widest the font has for them
		return strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return '0'
			}
			return r
		}, s)
	}
	switch c {
	case colIndex:
		return digits(strconv.Itoa(n - 1))
	case colID:
		return digits(strconv.Itoa(int(l.maxID)))
	case colTime: // records come in time order: the last is the latest
		return digits(l.get(n - 1).msText())
	}
	return ""
}

// add reads records from to to-1 into the rows.
func (l *RecordList) add(from, to int) {
	for i := from; i < to; i++ {
		r := l.get(i)
		l.maxID = max(l.maxID, r.RequestID)
		l.m.add(recKey{typ: r.Type, dir: r.Dir, id: r.RequestID, content: r.ContentLength, pad: r.PaddingLength,
			marked: r.Anomaly != ""})
	}
}

// Append tells the list that count more records are available from the
// data source given to SetRecords, after the existing ones. The selection
// is kept; without one, the list follows the newest row.
func (l *RecordList) Append(count int) {
	if count <= 0 || l.get == nil {
		return
	}
	n := l.Len()
	l.add(n, n+count)
	l.syncSelection()
	if l.sel < 0 {
		l.t.scrollToEnd()
	}
	l.t.Refresh()
}

// ShownCells returns row j's cells as they are drawn at the columns'
// widths (#, direction, type, id, content, padding, ms): a cell cut short
// ends in "…". Nil before the list is laid out, or for no such row.
func (l *RecordList) ShownCells(j int) []string { return l.t.shownCells(j) }

// Len returns the number of records.
func (l *RecordList) Len() int { return len(l.m.keys) }

// Rows returns the number of rows: the records the filter lets through,
// with each folded run one line (and its records, when it is open).
func (l *RecordList) Rows() int { return len(l.m.rows) }

// RowRecords returns what row j stands for: one record (first, 1), or the
// first record of a folded run's line and how many records it holds.
func (l *RecordList) RowRecords(j int) (first, n int) {
	if j < 0 || j >= len(l.m.rows) {
		return -1, 0
	}
	if l.m.isLine(j) {
		return l.m.record(j), int(l.m.runAt(j).n)
	}
	return l.m.record(j), 1
}

// Select selects record i, opening its folded run and clearing a filter
// that hides it, scrolls it into view (a third down the list when it was
// off screen) and calls OnSelected.
func (l *RecordList) Select(i int) {
	if i < 0 || i >= l.Len() {
		return
	}
	row := l.m.rowOf(i)
	if row < 0 {
		l.m.setFilter(RecordFilter{})
		if l.OnFilterChanged != nil {
			l.OnFilterChanged(l.m.filter)
		}
		row = l.m.rowOf(i)
	}
	l.t.reveal(row)
	if l.sel == i && !l.selLine {
		l.t.setSelected(row)
		l.t.Refresh()
		return
	}
	l.sel, l.selLine = i, false
	l.t.setSelected(row)
	l.t.Refresh()
	if l.OnSelected != nil {
		l.OnSelected(i)
	}
}

// Selected returns the selected record (the first of a folded run when its
// line is selected), or -1.
func (l *RecordList) Selected() int { return l.sel }

// SelectedRow returns the selected row, or -1.
func (l *RecordList) SelectedRow() int { return l.t.selected }

// UnselectAll clears the selection.
func (l *RecordList) UnselectAll() {
	l.sel, l.selLine = -1, false
	l.t.setSelected(-1)
}

// ScrollTo scrolls the row that stands for record i into view without
// selecting it or opening its run.
func (l *RecordList) ScrollTo(i int) {
	if row := l.m.lineOf(i); row >= 0 {
		l.t.ensureVisible(row)
	}
}

// TopRow returns the first row on screen.
func (l *RecordList) TopRow() int { return l.t.top }

// SetFilter shows only the records f lets through. A selected record the
// filter hides is no longer selected.
func (l *RecordList) SetFilter(f RecordFilter) {
	if f == l.m.filter {
		return
	}
	l.m.setFilter(f)
	l.syncSelection()
	l.afterChange()
}

// Filter returns the filter in force.
func (l *RecordList) Filter() RecordFilter { return l.m.filter }

// SetFolded turns the folding of runs on or off.
func (l *RecordList) SetFolded(on bool) {
	if on == l.m.fold {
		return
	}
	l.m.setFold(on)
	l.syncSelection()
	l.afterChange()
}

// Folded reports whether runs are folded.
func (l *RecordList) Folded() bool { return l.m.fold }

// SetOpen opens or closes the folded run that holds record i.
func (l *RecordList) SetOpen(i int, open bool) {
	if ri, _ := l.m.locate(i); ri >= 0 {
		l.m.setOpen(ri, open)
		l.syncSelection()
		l.afterChange()
	}
}

// RefreshMarks reads every record's anomaly again (its mark, and the marks
// its folded run sums up), then redraws.
func (l *RecordList) RefreshMarks() {
	if l.get == nil {
		return
	}
	l.m.remark(func(i int) bool { return l.get(i).Anomaly != "" })
	l.t.Refresh()
}

// Focus gives the list the keyboard focus.
func (l *RecordList) Focus() { l.t.focus() }

// HasFocus reports whether the list has the keyboard focus.
func (l *RecordList) HasFocus() bool { return l.t.focused }

// TooltipText returns the text of the tooltip on screen, "" when none is.
func (l *RecordList) TooltipText() string { return l.t.tooltipText() }

// Refresh redraws the rows on screen, reading them again.
func (l *RecordList) Refresh() {
	l.t.Refresh()
	l.BaseWidget.Refresh()
}

// CreateRenderer links the widget to its renderer.
func (l *RecordList) CreateRenderer() fyne.WidgetRenderer {
	l.ExtendBaseWidget(l)
	return widget.NewSimpleRenderer(l.t)
}

// syncSelection finds the selected record's row after the rows changed:
// its own, or the line of the closed run that now holds it; a record the
// filter hides is no longer selected.
func (l *RecordList) syncSelection() {
	if l.sel < 0 {
		l.t.selected = -1
		return
	}
	if l.selLine { // the line stays selected while its run folds
		if ri, _ := l.m.locate(l.sel); ri >= 0 && l.m.folded(&l.m.runs[ri]) {
			l.t.selected = int(l.m.runs[ri].row)
			return
		}
	}
	row := l.m.lineOf(l.sel)
	if row < 0 {
		l.sel, l.selLine = -1, false
		l.t.selected = -1
		return
	}
	l.selLine = l.m.isLine(row)
	if l.selLine {
		l.sel = l.m.record(row)
	}
	l.t.selected = row
}

// afterChange keeps the selection in view and redraws.
func (l *RecordList) afterChange() {
	l.t.tip.Hide()
	if l.t.selected >= 0 {
		l.t.ensureVisible(l.t.selected)
	}
	l.t.Refresh()
}

// onRow follows a row the user selected.
func (l *RecordList) onRow(row int) {
	i, line := l.m.record(row), l.m.isLine(row)
	same := i == l.sel
	l.sel, l.selLine = i, line
	if !same && l.OnSelected != nil {
		l.OnSelected(i)
	}
}

// toggle opens or closes the run of row j.
func (l *RecordList) toggle(j int) {
	ref := l.m.rows[j]
	r := l.m.runAt(j)
	if !l.m.folded(r) {
		return
	}
	open := !l.m.isOpen(r)
	l.m.setOpen(ref.run, open)
	if !open && l.sel >= 0 {
		// A record of the closed run: its line is selected now.
		if ri, _ := l.m.locate(l.sel); ri == ref.run {
			l.sel, l.selLine = int(l.m.shown[r.pos]), true
		}
	}
	l.syncSelection()
	l.afterChange()
}

// recordListModel is the RecordList seen as its table's model.
type recordListModel RecordList

func (lm *recordListModel) rowCount() int { return len(lm.m.rows) }

func (lm *recordListModel) fillRow(j int, d *rowData) {
	l := (*RecordList)(lm)
	m := l.m
	ref := m.rows[j]
	r := m.runAt(j)
	if ref.member < 0 {
		l.fillLine(r, d)
		return
	}
	row := l.get(m.record(j))
	cells := row.Cells()
	copy(d.cells, cells[:])
	d.mark = row.Anomaly
	if m.folded(r) {
		d.level = 1
	}
}

// fillLine fills the line of a folded run.
func (l *RecordList) fillLine(r *run, d *rowData) {
	m := l.m
	first := int(m.shown[r.pos])
	last := int(m.shown[r.pos+r.n-1])
	row := l.get(first)
	d.cells[0] = strconv.Itoa(first)
	d.cells[1] = row.Arrow()
	d.cells[2] = fmt.Sprintf("%s × %d", row.Type, r.n)
	d.cells[3] = strconv.Itoa(int(row.RequestID))
	d.cells[4] = sumText(r.content)
	d.cells[5] = sumText(r.pad)
	d.cells[6] = row.msText()
	d.expander = collapsed
	how := "Right arrow or ▸ opens the run"
	if m.isOpen(r) {
		d.expander = expanded
		how = "Left arrow or ▾ closes the run"
	}
	d.tip = fmt.Sprintf("%d %s records %s, #%d to #%d, request %d, from %s: %d content bytes, %d padding bytes. %s.",
		r.n, row.Type, dirWord(row.Dir), first, last, row.RequestID, row.TimeText(), r.content, r.pad, how)
	if r.marked > 0 {
		what := fmt.Sprintf("%d of these records are marked", r.marked)
		if r.marked == 1 {
			what = "One of these records is marked"
		}
		d.mark = fmt.Sprintf("%s; the first, #%d: %s", what, r.firstMrk, l.get(int(r.firstMrk)).Anomaly)
	}
}

// dirWord says which way records went.
func dirWord(d fcgi.Direction) string {
	if d == fcgi.Sent {
		return "sent"
	}
	return "received"
}

// sumText shows a byte count: exact up to 99,999, then in KiB, MiB, GiB.
func sumText(n int64) string {
	if n < 100_000 {
		return strconv.FormatInt(n, 10)
	}
	return session.FormatBytes(n)
}
