// Tests of the anomalies pane: the demo's misbehaviour scenarios show their anomalies, tapping one selects its record.

package ui

import (
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/teach"
	"fcgiscope/ui/view"
)

func TestAnomalyPanelListsTheScenariosAnomalies(t *testing.T) {
	k := newTeachKit(t)
	p := NewAnomalyPanel(k.q.Do)
	w := test.NewWindow(p.Content())
	w.Resize(fyne.NewSize(700, 300))
	defer w.Close()
	var selected []int
	p.OnSelect = func(i int) { selected = append(selected, i) }
	changed := 0
	p.OnChanged = func() { changed++ }

	for _, s := range teach.Scenarios() {
		if s.ID == "slow-first-byte" || s.ID == "huge-stderr" {
			continue // slow or large, and no anomaly: the window tests cover them
		}
		t.Run(s.ID, func(t *testing.T) {
			x, _ := teach.RunScenario(k.ctx, k.engine, k.demo, s, 0)
			want := session.Anomalies(x)
			before := changed
			p.Update(x)
			k.q.waitFor(t, "the anomalies", teachWait, func() bool { return changed > before })
			if p.Exchange() != x || len(p.Anomalies()) != len(want) {
				t.Fatalf("%d anomalies shown, want %d", len(p.Anomalies()), len(want))
			}
			if len(want) == 0 {
				if p.Content().Visible() {
					t.Error("the pane is shown without anomalies")
				}
				return
			}
			if !p.Content().Visible() || !strings.HasPrefix(p.title.Text, "Anomalies (") {
				t.Fatalf("the pane is hidden or untitled: %q", p.title.Text)
			}
			warn := false
			for _, a := range want {
				warn = warn || !a.Kind.Informational()
			}
			if p.Expanded() != warn {
				t.Errorf("the list is unfolded %v with departures from the spec %v", p.Expanded(), warn)
			}
			for _, a := range want {
				text := p.RecordText(a.Record)
				if text == "" || !strings.Contains(strings.ToLower(text), strings.ToLower(a.Text[:20])) {
					t.Errorf("record %d carries %q, want its anomaly %q", a.Record, text, a.Text)
				}
				if a.Kind.Informational() != strings.Contains(text, "Note:") {
					t.Errorf("record %d: informational %v, text %q", a.Record, a.Kind.Informational(), text)
				}
			}
			selected = nil
			last := len(want) - 1
			if !p.Tap(last) || len(selected) != 1 || selected[0] != want[last].Record {
				t.Errorf("tapping line %d selected %v, want record %d", last, selected, want[last].Record)
			}
			if p.Tap(len(want)) {
				t.Error("a tap past the last line")
			}
		})
	}
}

func TestAnomalyTextsJoinPerRecord(t *testing.T) {
	as := []session.Anomaly{
		{Record: 2, Kind: session.AnomalyReserved, Text: "the header's reserved byte is 0x01"},
		{Record: 2, Kind: session.AnomalyPadding, Text: "odd padding"},
		{Record: 5, Kind: session.AnomalyVersion, Text: "version 2"},
	}
	got := AnomalyTexts(as)
	if len(got) != 2 || got[2] != "The header's reserved byte is 0x01; Note: Odd padding" || got[5] != "Version 2" {
		t.Errorf("AnomalyTexts = %v", got)
	}
}

// uiProbe measures how long functions handed to the UI goroutine wait:
// a ticker goroutine queues a round trip every few milliseconds and the UI
// goroutine (the test's pump) notes when it was sent and how long it
// waited.
type uiProbe struct {
	stop  chan struct{}
	done  chan struct{}
	trips []uiTrip // UI goroutine only
}

type uiTrip struct {
	sent   time.Time
	waited time.Duration
}

func startUIProbe(q *uiQueue) *uiProbe {
	p := &uiProbe{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case sent := <-tick.C:
				sent = time.Now() // when it is queued: FIFO from here
				q.Do(func() { p.trips = append(p.trips, uiTrip{sent, time.Since(sent)}) })
			}
		}
	}()
	return p
}

// end stops the ticker; the UI goroutine must pump once more afterwards.
func (p *uiProbe) end() {
	close(p.stop)
	<-p.done
}

// worst returns the round trips sent in [from, to) and the longest wait
// among them.
func (p *uiProbe) worst(from, to time.Time) (n int, worst time.Duration) {
	for _, tr := range p.trips {
		if !tr.sent.Before(from) && tr.sent.Before(to) {
			n++
			worst = max(worst, tr.waited)
		}
	}
	return n, worst
}

// scenarioShows is what the window shows of each misbehaviour besides its
// anomalies: a text that must appear in the status line, the response
// pane or the stderr pane.
var scenarioShows = map[string]string{
	"slow-first-byte":      "200 OK",
	"dribble":              "200 OK",
	"huge-stderr":          "Stderr (",
	"status/cant-mpx-conn": "CANT_MPX_CONN",
	"status/overloaded":    "OVERLOADED",
	"status/unknown-role":  "UNKNOWN_ROLE",
	"status/app":           "app status 3",
	"close-early":          "END_REQUEST: not received",
	"odd-padding":          "200 OK",
	"unknown-type":         "200 OK",
	"wrong-id":             "200 OK",
	"version2":             "",
	"short-content":        "END_REQUEST: not received",
	"after-end":            "200 OK",
	"stderr-unclosed":      "200 OK",
}

// scenarioAnomalies are the kinds of anomaly each misbehaviour shows.
var scenarioAnomalies = map[string][]session.AnomalyKind{
	"odd-padding":     {session.AnomalyPadding},
	"unknown-type":    {session.AnomalyUnknownType},
	"wrong-id":        {session.AnomalyInactiveID},
	"version2":        {session.AnomalyVersion},
	"short-content":   {session.AnomalyShortContent},
	"after-end":       {session.AnomalyAfterEnd},
	"stderr-unclosed": {session.AnomalyUnclosedStream},
}

// windowText is what the window says about the exchange shown: status
// line, response status, END_REQUEST line, error and stderr title.
func windowText(in *Inspector) string {
	resp := in.Response()
	return strings.Join([]string{in.State(), resp.Status(), resp.end.Text, resp.ErrorText(), in.Stderr().Title()}, "\n")
}

func TestMisbehaviourScenariosInTheWindow(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	l.ShowSection(LearnMisbehaviour)
	measured := 0 // round trips made while scenarios ran, all together
	for _, s := range teach.Scenarios() {
		t.Run(s.ID, func(t *testing.T) {
			shows, ok := scenarioShows[s.ID]
			if !ok {
				t.Fatalf("no expectation for scenario %s", s.ID)
			}
			if !l.SelectScenario(s.ID) || !strings.Contains(l.scenDoc.Text, strings.Fields(s.Doc)[1]) {
				t.Fatalf("scenario %s not selectable or undocumented: %q", s.ID, l.scenDoc.Text)
			}
			// The form first holds the request (Load only, then Try it,
			// which leaves it alone), so that the form's own checks are
			// done before the run starts.
			l.LoadScenario()
			w.q.settle()
			before := w.in.Exchange()
			// The panel's results come back through do: note when the
			// scenario's result is handed over, the end of its run.
			var resultAt time.Time
			l.do = func(f func()) {
				at := time.Now()
				w.q.Do(func() {
					resultAt = at
					f()
				})
			}
			probe := startUIProbe(w.q)
			test.Tap(l.TryButton())
			started := time.Now()
			if !l.Running() || !l.TryButton().Disabled() {
				t.Fatal("Try it did not start a run on a worker")
			}
			if in, _ := w.in.Compose().Snapshot(); rawParam(in, "SCRIPT_NAME") != s.Path || w.in.Target().Address() != w.demo {
				t.Errorf("Try it did not load the request: SCRIPT_NAME %q, target %q", rawParam(in, "SCRIPT_NAME"), w.in.Target().Address())
			}
			w.q.waitFor(t, "the scenario", teachWait, func() bool { return !l.Running() })
			x := w.in.Exchange()
			if x == nil || x == before {
				t.Fatal("the window does not show the scenario's exchange")
			}
			w.q.waitFor(t, "the anomalies", teachWait, func() bool { return w.teach.Anomalies.Exchange() == x })
			probe.end()
			w.q.pump()
			// While the scenario ran, the UI goroutine answered at once.
			// (Loading the form before and showing the exchange after are
			// UI work of their own.)
			ran := resultAt.Sub(started)
			n, worst := probe.worst(started, resultAt)
			measured += n
			if worst > 100*time.Millisecond {
				t.Errorf("while the scenario ran (%v), the UI goroutine was blocked: %d round trips, the longest waited %v; slow UI work:%s",
					ran, n, worst, w.q.slowSince(started))
			}

			var kinds []session.AnomalyKind
			for _, a := range w.teach.Anomalies.Anomalies() {
				if !slices.Contains(kinds, a.Kind) {
					kinds = append(kinds, a.Kind)
				}
				row := w.in.Results().row(a.Record)
				if !strings.Contains(row.Anomaly, upperFirst(a.Text)) {
					t.Errorf("record %d's row is not marked with %q: %q", a.Record, a.Text, row.Anomaly)
				}
			}
			if !slices.Equal(kinds, scenarioAnomalies[s.ID]) {
				t.Errorf("anomalies %v, want %v", kinds, scenarioAnomalies[s.ID])
			}
			if as := w.teach.Anomalies.Anomalies(); len(as) > 0 {
				if !w.teach.Anomalies.Content().Visible() {
					t.Error("the anomalies pane is hidden")
				}
				w.teach.Anomalies.Tap(0)
				if got := w.in.Results().List().Selected(); got != as[0].Record {
					t.Errorf("tapping the anomaly selected record %d, want %d", got, as[0].Record)
				}
				rec := w.in.Results().Detail().Record()
				switch {
				case as[0].Kind == session.AnomalyShortContent:
					// A record cut short does not decode: the detail shows the
					// bytes that arrived and says why.
					if rec == nil || rec.Index != as[0].Record || len(rec.Raw) == 0 || !w.in.Results().decodeErr.Visible() {
						t.Errorf("record %d, cut short: detail %+v, decode error shown %v", as[0].Record, rec, w.in.Results().decodeErr.Visible())
					}
				case rec == nil || rec.Index != as[0].Record:
					t.Errorf("the detail does not show record %d: %+v", as[0].Record, rec)
				case !strings.Contains(w.in.Results().Detail().Explanation(), upperFirst(as[0].Text)):
					t.Errorf("the detail does not explain the anomaly: %q", w.in.Results().Detail().Explanation())
				}
				if !strings.Contains(l.ScenarioResult(), "anomal") {
					t.Errorf("the scenario's result does not mention its anomalies: %q", l.ScenarioResult())
				}
			}
			if text := windowText(w.in); !strings.Contains(text, shows) {
				t.Errorf("the window does not show %q:\n%s", shows, text)
			}
		})
	}
	// slow-first-byte alone runs 2 s: the probe cannot have missed them all.
	if measured < 20 {
		t.Errorf("only %d round trips were made while the scenarios ran", measured)
	}
}

func TestTryItLoadsTheRequestAndMarksTheRecords(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	l.ShowSection(LearnMisbehaviour)
	l.SelectScenario("wrong-id")
	if in, _ := w.in.Compose().Snapshot(); in.Mode == session.ModeRaw {
		t.Fatal("the form starts in raw mode")
	}
	test.Tap(l.TryButton())
	in, _ := w.in.Compose().Snapshot()
	if in.Mode != session.ModeRaw || rawParam(in, "SCRIPT_NAME") != "/misbehave/wrong-id" || w.in.Target().Address() != w.demo {
		t.Fatalf("Try it loaded mode %q, SCRIPT_NAME %q, target %q", in.Mode, rawParam(in, "SCRIPT_NAME"), w.in.Target().Address())
	}
	w.q.waitFor(t, "the scenario", teachWait, func() bool { return !l.Running() })
	w.q.waitFor(t, "the anomalies", teachWait, func() bool { return w.teach.Anomalies.Exchange() == w.in.Exchange() })
	as := w.teach.Anomalies.Anomalies()
	if len(as) != 1 || as[0].Kind != session.AnomalyInactiveID {
		t.Fatalf("anomalies %+v", as)
	}
	// The record list marks the stray record; pointing at the mark shows why.
	row := w.in.Results().row(as[0].Record)
	if row.Type != fcgi.TypeStdout || !strings.Contains(row.Anomaly, "not active") {
		t.Errorf("row %+v", row)
	}
	if !strings.Contains(w.in.State(), "Learn panel") {
		t.Errorf("status line %q", w.in.State())
	}
	// Sending it again through the form: the pooled send sees the stray
	// record too, and the anomalies follow the new exchange.
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
	w.q.waitFor(t, "the anomalies", teachWait, func() bool { return w.teach.Anomalies.Exchange() == w.in.Exchange() })
	if as := w.teach.Anomalies.Anomalies(); len(as) != 1 || as[0].Kind != session.AnomalyInactiveID {
		t.Errorf("after Send: anomalies %+v", as)
	}
}

// The title line gives the summary the width the title and the toggle
// leave: folded (notes alone), it is all the pane says.
func TestAnomalyPanelSummaryIsReadable(t *testing.T) {
	test.NewTempApp(t)
	p := NewAnomalyPanel(nil)
	w := test.NewTempWindow(t, p.Content())
	w.Resize(fyne.NewSize(480, 200))
	p.Set(nil, []session.Anomaly{
		{Record: 1, Kind: session.AnomalyPadding, Text: "770 content bytes with 0 of padding"},
		{Record: 3, Kind: session.AnomalyPadding, Text: "7 content bytes with 0 of padding"},
	})
	if p.summary.Text == "" || p.summary.Cut() {
		t.Errorf("the summary %q is cut at %v wide in a pane %v wide", p.summary.Text, p.summary.Size().Width, p.Content().Size().Width)
	}
	if p.title.Size().Width < p.title.MinSize().Width {
		t.Errorf("the title %q is %v wide, needs %v", p.title.Text, p.title.Size().Width, p.title.MinSize().Width)
	}
}

// TestAnomalyRowShowsItsWholeText: a line too long for the pane is cut, and
// its whole text is in reach: the window's tooltip shows it, and a click
// on the text still selects the line's record.
func TestAnomalyRowShowsItsWholeText(t *testing.T) {
	test.NewTempApp(t)
	p := NewAnomalyPanel(nil)
	layer := view.NewTipLayer(p.Content())
	w := test.NewTempWindow(t, layer)
	w.Resize(fyne.NewSize(420, 200))
	long := "the application sent 1 STDOUT record of 0 bytes before STDERR, then 4 more after END_REQUEST on the same request ID"
	p.Set(nil, []session.Anomaly{{Record: 7, Kind: session.AnomalyPadding, Text: long}})
	var selected []int
	p.OnSelect = func(i int) { selected = append(selected, i) }
	var line *view.TextLine
	for _, o := range test.LaidOutObjects(p.Content()) {
		if l, ok := o.(*view.TextLine); ok && l.Visible() && strings.HasSuffix(l.Text, long[1:]) {
			line = l
		}
	}
	if line == nil {
		t.Fatal("no line of the pane shows the anomaly as a TextLine")
	}
	if !line.Cut() {
		t.Fatalf("the line is not cut at %v wide: the test needs a narrower pane", line.Size().Width)
	}
	line.ShowTip()
	if got := layer.Tip(); got != upperFirst(long) {
		t.Errorf("the tooltip of the cut line reads %q, want the whole text", got)
	}
	test.Tap(line)
	if !slices.Equal(selected, []int{7}) {
		t.Errorf("a click on the line's text selected %v, want record 7", selected)
	}
}
