// Tests of the history panel on the real window against the demo backend: every send kept, kept across windows, reopened exactly, filtered, loaded back, compared, deleted and bounded.

package ui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
)

// waitHistory waits until the history lists n entries.
func (f *wbFixture) waitHistory(t *testing.T, n int) {
	t.Helper()
	h := f.wb.History
	f.q.waitFor(t, "the history to list entries", inspWait, func() bool { return len(h.Entries()) == n })
}

func TestHistoryKeepsEverySend(t *testing.T) {
	f := newWBFixture(t)
	h := f.wb.History
	if n := len(h.Entries()); n != 0 {
		t.Fatalf("a new config dir has %d history entries", n)
	}
	f.setURL(t, "/echo?first=1")
	x1 := f.send(t)
	f.waitHistory(t, 1)
	f.setURL(t, "/status?code=404")
	x2 := f.send(t)
	f.waitHistory(t, 2)

	e := h.Entries()
	if e[0].URL != "/status?code=404" || e[0].Status != 404 || e[1].URL != "/echo?first=1" || e[1].Status != 200 {
		t.Fatalf("entries %+v, want the 404 first (newest), then the echo", e)
	}
	row := h.RowText(0)
	for _, want := range []string{"GET /status?code=404", "404", f.demo, "Responder"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}

	// Reopen the first send: the panes show it exactly as it was.
	h.Select(1)
	f.q.waitFor(t, "the entry to be shown", inspWait, func() bool {
		x := f.in.Exchange()
		return x != nil && x != x1 && x != x2 && x.Start().Equal(x1.Start())
	})
	shown := f.in.Exchange()
	if shown.Len() != x1.Len() || string(shown.Stdout()) != string(x1.Stdout()) {
		t.Errorf("reopened exchange: %d records, stdout %q; want %d records, stdout %q", shown.Len(), shown.Stdout(), x1.Len(), x1.Stdout())
	}
	if got := f.in.Results().Len(); got != x1.Len() {
		t.Errorf("record list shows %d records, want %d", got, x1.Len())
	}
	if got := f.in.Response().Status(); got != "200 OK" {
		t.Errorf("response pane status %q, want 200 OK", got)
	}
	if !strings.Contains(f.in.State(), "history") {
		t.Errorf("state %q does not say the exchange comes from the history", f.in.State())
	}

	// Filter by a param value, by status, by stderr.
	h.Filter().SetText("first=1")
	f.waitHistory(t, 1)
	// The status with its reason: a bare 404 could also be in the demo's
	// random port.
	h.Filter().SetText(`"404 not found"`)
	f.q.waitFor(t, "the 404 filter", inspWait, func() bool { return len(h.Entries()) == 1 && h.Entries()[0].Status == 404 })
	h.Filter().SetText("")
	f.waitHistory(t, 2)

	// Load into compose puts the request back.
	f.setURL(t, "/somewhere/else")
	f.q.settle()
	h.Select(1)
	f.q.settle()
	h.LoadSelected()
	f.q.settle()
	if g := f.wb.Presets.guardDlg; g != nil {
		g.discard.OnTapped()
		f.q.settle()
	}
	f.q.waitFor(t, "the request to come back", inspWait, func() bool { return f.in.Compose().HTTP().url.Text == "/echo?first=1" })

	// A new window on the same config dir sees the same history.
	f2 := newInspFixtureSameConfig(t)
	wb2 := f2.in.Workbench()
	f2.q.waitFor(t, "the second window's history", inspWait, func() bool {
		return wb2.History.History() != nil && len(wb2.History.Entries()) == 2
	})

	// Delete one, then clear.
	h.Select(0)
	f.q.settle()
	h.DeleteSelected()
	f.waitHistory(t, 1)
	h.Clear()
	f.waitHistory(t, 0)
}

// newInspFixtureSameConfig opens a second window with the same HOME and
// XDG_CONFIG_HOME as the first (set by newInspFixture with t.Setenv).
func newInspFixtureSameConfig(t *testing.T) *inspFixture {
	t.Helper()
	q := newQueue()
	pool := session.NewPool(session.PoolOptions{})
	in := NewInspector(fyne.CurrentApp(), Deps{Engine: session.NewEngine(pool, session.EngineOptions{}), Do: q.Do})
	t.Cleanup(func() {
		in.Window().Close()
		q.settle()
		pool.Close()
	})
	return &inspFixture{window: &window{in: in, app: fyne.CurrentApp()}, q: q}
}

func TestHistoryCompareAndLimits(t *testing.T) {
	f := newWBFixture(t)
	h := f.wb.History
	f.setURL(t, "/echo?v=1")
	f.send(t)
	f.waitHistory(t, 1)
	f.setURL(t, "/echo?v=2")
	f.send(t)
	f.waitHistory(t, 2)

	f.wb.ShowHistory(true) // lays out the rows, so that their checks can be tapped
	f.q.settle()
	tick := func(i int) {
		t.Helper()
		for _, r := range h.rows {
			if r.id == h.Entries()[i].ID {
				test.Tap(r.check)
				return
			}
		}
		t.Fatalf("entry %d has no row on screen", i)
	}
	tick(0)
	if h.cmpBtn.Disabled() == false {
		t.Error("Compare is enabled with one entry ticked")
	}
	tick(1)
	if h.cmpBtn.Disabled() {
		t.Fatal("Compare is disabled with two entries ticked")
	}
	before := len(f.app.Driver().AllWindows())
	h.CompareChecked()
	f.q.waitFor(t, "the compare window", inspWait, func() bool { return len(f.app.Driver().AllWindows()) == before+1 })
	var cw fyne.Window
	for _, w := range f.app.Driver().AllWindows() {
		if strings.HasPrefix(w.Title(), "Compare") {
			cw = w
		}
	}
	if cw == nil {
		t.Fatal("no Compare window")
	}
	defer func() { cw.Close() }() // the window open at the end
	// The older (v=1) is on the left.
	if !strings.Contains(cw.Title(), "/echo?v=1 ↔ GET /echo?v=2") {
		t.Errorf("compare title %q, want v=1 on the left", cw.Title())
	}

	// Compare again, another pair: the same window shows it.
	f.setURL(t, "/echo?v=3")
	f.send(t)
	f.waitHistory(t, 3)
	h.checked = []string{h.Entries()[0].ID, h.Entries()[2].ID}
	h.CompareChecked()
	f.q.waitFor(t, "the new comparison", inspWait, func() bool { return strings.Contains(cw.Title(), "/echo?v=1 ↔ GET /echo?v=3") })
	if n := len(f.app.Driver().AllWindows()); n != before+1 {
		t.Errorf("%d windows after a second Compare, want the one comparison window reused (%d)", n, before+1)
	}
	cw.Close()
	h.CompareChecked()
	f.q.waitFor(t, "a comparison window again", inspWait, func() bool { return len(f.app.Driver().AllWindows()) == before+1 })
	for _, w := range f.app.Driver().AllWindows() {
		if strings.HasPrefix(w.Title(), "Compare") {
			cw = w
		}
	}

	// Limits: keep one entry.
	h.SetLimits(1, 64)
	f.waitHistory(t, 1)
	if got := f.app.Preferences().Int(PrefHistoryMaxEntries); got != 1 {
		t.Errorf("limit remembered as %d", got)
	}
	if h.History().Limits().MaxEntries != 1 {
		t.Errorf("limits in force %+v", h.History().Limits())
	}
}

func TestCompareShowsDifferences(t *testing.T) {
	f := newWBFixture(t)
	f.setURL(t, "/echo?v=1")
	a := f.send(t)
	f.setURL(t, "/status?code=500")
	b := f.send(t)
	cw := showCompare(f.app, nil, a, b, nil)
	defer cw.win.Close()
	if got := countDiffs(cw.diff.Params); got == 0 {
		t.Error("no param differences between two URLs")
	}
	if cw.tabs.Items[0].Text == "Params (same)" {
		t.Errorf("params tab %q", cw.tabs.Items[0].Text)
	}
	if !strings.HasPrefix(cw.tabs.Items[1].Text, "Headers (") || strings.HasSuffix(cw.tabs.Items[1].Text, "(same)") {
		t.Errorf("headers tab %q, want a count (200 vs 500)", cw.tabs.Items[1].Text)
	}
	v := cw.views[CompareParams]
	n := len(v.rows)
	cw.only.SetChecked(true)
	if len(v.rows) >= n || len(v.rows) != countDiffs(v.all) {
		t.Errorf("only differences: %d rows of %d, want %d", len(v.rows), n, countDiffs(v.all))
	}
	same := showCompare(f.app, nil, a, a, nil)
	defer same.win.Close()
	if !same.diff.Equal() {
		t.Error("an exchange differs from itself")
	}
	_ = context.Background
}

// TestHistoryOpensWithTheNewestInSight: sends made while the history is
// closed, then the history opened: the newest entry, selected as the
// exchange shown, is at the top and in sight, not scrolled away (a list
// scrolled to an item while it had no height puts the item above its top).
func TestHistoryOpensWithTheNewestInSight(t *testing.T) {
	f := newWBFixture(t)
	h := f.wb.History
	if f.wb.HistoryShown() {
		t.Fatal("the history is open at the first launch")
	}
	for i := range 3 {
		f.setURL(t, "/echo?n="+string(rune('1'+i)))
		f.send(t)
		f.waitHistory(t, i+1)
	}
	f.wb.ShowHistory(true)
	f.q.settle()
	f.in.Window().Resize(f.in.Window().Canvas().Size()) // laid out as a frame would
	if h.list.GetScrollOffset() != 0 || h.Entries()[0].URL != "/echo?n=3" || h.selected != h.Entries()[0].ID {
		t.Errorf("history opened scrolled by %v, selected %q; want the newest (%s) at the top, selected",
			h.list.GetScrollOffset(), h.selected, h.Entries()[0].ID)
	}
}
