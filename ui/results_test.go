// Tests of the records pane against the demo backend: hundreds of records folded into a line, the filter menu, Go to #, keys, and the room it asks for.

package ui

import (
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/ui/view"
)

// menuItem returns the item of items labelled label.
func menuItem(t *testing.T, items []*fyne.MenuItem, label string) *fyne.MenuItem {
	t.Helper()
	var labels []string
	for _, it := range items {
		if it.Label == label {
			return it
		}
		labels = append(labels, it.Label)
	}
	t.Fatalf("no menu item %q in %q", label, labels)
	return nil
}

// TestRecordsPaneAsAnAnalyser sends /misbehave/dribble, whose body comes
// in hundreds of STDOUT records of 1 to 8 bytes, and uses the pane as a
// protocol analyser's: the run folded into one line, the filter menu, Go
// to #, the keys.
func TestRecordsPaneAsAnAnalyser(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/misbehave/dribble?n=1700")
	f.q.settle()
	x := f.send(t)
	r := f.in.Results()
	list := r.List()
	n := x.Len()
	stdout := 0
	for _, info := range x.Records() {
		if info.Type == fcgi.TypeStdout {
			stdout++
		}
	}
	if n < 300 || list.Len() != n {
		t.Fatalf("%d records, the list holds %d", n, list.Len())
	}
	// BEGIN_REQUEST, PARAMS, PARAMS, STDIN, the STDOUT line, END_REQUEST.
	if list.Rows() != 6 {
		t.Errorf("%d records in %d rows, want the %d STDOUT records on one line", n, list.Rows(), stdout)
	}
	if first, k := list.RowRecords(4); x.Records()[first].Type != fcgi.TypeStdout || k != stdout {
		t.Errorf("row 4 stands for %d records from %d, want the %d STDOUT", k, first, stdout)
	}

	// The filter menu offers the types present, with their counts.
	items := r.FilterMenu()
	menuItem(t, items, "STDOUT ("+strconv.Itoa(stdout)+")").Action()
	if list.Filter() != (view.RecordFilter{Type: fcgi.TypeStdout}) || list.Rows() != 1 || r.filterBtn.Text != "STDOUT" ||
		!strings.Contains(r.summary.Text, strconv.Itoa(stdout)+" shown") {
		t.Errorf("STDOUT only: filter %+v, %d rows, button %q, summary %q", list.Filter(), list.Rows(), r.filterBtn.Text, r.summary.Text)
	}
	menuItem(t, r.FilterMenu(), "→ Sent only").Action()
	if list.Filter() != (view.RecordFilter{Type: fcgi.TypeStdout, Dir: fcgi.Sent}) || list.Rows() != 0 {
		t.Errorf("sent STDOUT: filter %+v, %d rows", list.Filter(), list.Rows())
	}
	if it := menuItem(t, r.FilterMenu(), "→ Sent only"); !it.Checked {
		t.Error("the filter in force is not checked in the menu")
	}
	menuItem(t, r.FilterMenu(), "Every type").Action()
	if list.Filter() != (view.RecordFilter{Dir: fcgi.Sent}) || list.Rows() != 4 {
		t.Errorf("sent records: filter %+v, %d rows", list.Filter(), list.Rows())
	}

	// Go to # selects a record whatever the filter, and the list takes the focus.
	test.Type(r.goTo, "#"+strconv.Itoa(n-1))
	r.goTo.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if list.Selected() != n-1 || list.Filter() != (view.RecordFilter{}) || r.filterBtn.Text != "All records" {
		t.Errorf("Go to #%d: selected %d, filter %+v, button %q", n-1, list.Selected(), list.Filter(), r.filterBtn.Text)
	}
	if d := r.Detail().Record(); d == nil || d.Type != fcgi.TypeEndRequest {
		t.Errorf("the detail shows %+v, want END_REQUEST", d)
	}
	c := f.in.Window().Canvas()
	if !list.HasFocus() {
		t.Errorf("after Go to, the focus is on %v", c.Focused())
	}
	if r.goTo.Text != "" {
		t.Errorf("the Go to entry still holds %q", r.goTo.Text)
	}
	if r.GoTo("100000") || !strings.Contains(r.goNote.Text, "#0 to #"+strconv.Itoa(n-1)) || r.GoTo("x") {
		t.Errorf("a record out of range: %q", r.goNote.Text)
	}

	// Keys: Home, then Down into the run's line, Right opens it, Down goes in.
	for _, k := range []fyne.KeyName{fyne.KeyHome, fyne.KeyDown, fyne.KeyDown, fyne.KeyDown, fyne.KeyDown, fyne.KeyRight, fyne.KeyDown, fyne.KeyDown} {
		c.Focused().TypedKey(&fyne.KeyEvent{Name: k})
	}
	if d := r.Detail().Record(); d == nil || d.Type != fcgi.TypeStdout || d.Index != 5 || list.Rows() != 6+stdout {
		t.Errorf("after the keys the detail shows %+v, %d rows", d, list.Rows())
	}
	// A digit typed in the list starts a record number in Go to.
	c.Focused().TypedRune('3')
	if c.Focused() != r.goTo || r.goTo.Text != "3" {
		t.Fatalf("after typing 3 in the list: focus %v, Go to holds %q", c.Focused(), r.goTo.Text)
	}
	test.Type(r.goTo, "9")
	r.goTo.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	if list.Selected() != 39 || !list.HasFocus() {
		t.Errorf("typing 3, 9, Return: selected %d, list focused %v", list.Selected(), list.HasFocus())
	}

	// Fold runs off: a row per record.
	test.Tap(r.fold)
	if list.Folded() || list.Rows() != n {
		t.Errorf("unfolded: %d rows of %d records", list.Rows(), n)
	}
	// Escape in the list still reaches the window (it cancels a send).
	c.Focused().TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})

	// A new exchange: the filter goes, the folding stays as the user left it.
	menuItem(t, r.FilterMenu(), "← Received only").Action()
	f.setURL(t, "/echo")
	f.send(t)
	if list.Filter() != (view.RecordFilter{}) || list.Folded() {
		t.Errorf("the next exchange: filter %+v, folded %v", list.Filter(), list.Folded())
	}
}

// TestRecordsPaneRoom: the pane asks for little room, so that the window
// fits a small screen; the list and the detail bend to what they get.
func TestRecordsPaneRoom(t *testing.T) {
	test.NewTempApp(t)
	r := newResultsPanel(nil)
	t.Logf("the records pane asks for %v, its detail %v", r.Content().MinSize(), r.Detail().MinSize())
	if ms := r.Content().MinSize(); ms.Width > 420 || ms.Height > 520 {
		t.Errorf("the records pane asks for %v", ms)
	}
	if ms := r.Detail().MinSize(); ms.Height > 300 {
		t.Errorf("the record detail asks for %v", ms)
	}
}
