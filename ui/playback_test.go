// Tests of the playback panel: stepping through real exchanges from the demo backend shows the right side, state and narration.

package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/teach"
)

// newTestPlayback returns a panel on screen replaying x, loaded.
func newTestPlayback(t *testing.T, k *teachKit, x *session.Exchange) *PlaybackPanel {
	t.Helper()
	p := NewPlaybackPanel(k.ctx, k.q.Do)
	w := test.NewWindow(p.Content())
	w.Resize(fyne.NewSize(700, 260))
	t.Cleanup(func() { p.Close(); w.Close() })
	p.SetExchange(x)
	if p.Loaded() {
		t.Fatal("the replay was built on the UI goroutine")
	}
	k.q.waitFor(t, "the replay", teachWait, p.Loaded)
	return p
}

func TestPlaybackStepsThroughABodySplitAcrossRecords(t *testing.T) {
	k := newTeachKit(t)
	x := k.lessonExchanges(t, teach.LessonSplitBody)[0]
	p := newTestPlayback(t, k, x)
	var stepped []int
	p.OnStep = func(i int) { stepped = append(stepped, i) }

	if p.Position() != -1 || p.Side() != "" || !containsFold(p.Narration(), "nothing has been sent") {
		t.Fatalf("before the first record: position %d, side %q, narration %q", p.Position(), p.Side(), p.Narration())
	}
	if p.Len() != x.Len() || p.Len() < 8 {
		t.Fatalf("replay of %d records, exchange has %d", p.Len(), x.Len())
	}
	want := teach.NewPlayback(x)
	seenStdinOpen, seenParamsDone := false, false
	for i := 0; i < x.Len(); i++ {
		if !p.Next() {
			t.Fatalf("Next stopped at %d of %d", i, x.Len())
		}
		ri, _ := x.Record(i)
		st := want.Step(i)
		if p.Position() != i || p.State().Index != i {
			t.Fatalf("step %d: position %d", i, p.Position())
		}
		side := SideLabelReceived
		if ri.Dir == fcgi.Sent {
			side = SideLabelSent
		}
		if p.Side() != side {
			t.Errorf("record %d (%s): side %q, want %q", i, ri.Type, p.Side(), side)
		}
		if !strings.Contains(p.Narration(), ri.Type.String()) || !strings.Contains(strings.ToLower(p.Narration()), strings.ToLower(st.Narration)) {
			t.Errorf("record %d: narration %q, want the session's %q", i, p.Narration(), st.Narration)
		}
		switch {
		case ri.Type == fcgi.TypeBeginRequest:
			if p.Cell(cellRequest) != "active · request id 1" {
				t.Errorf("after BEGIN_REQUEST the request is %q", p.Cell(cellRequest))
			}
		case ri.Type == fcgi.TypeParams && ri.ContentLength == 0:
			seenParamsDone = true
			if !strings.HasPrefix(p.Cell(cellParams), "complete · ") || !strings.Contains(p.Cell(cellParams), " pairs · 2 records") {
				t.Errorf("after the empty PARAMS record: PARAMS %q", p.Cell(cellParams))
			}
			if p.Cell(cellStdin) != "not begun" {
				t.Errorf("after PARAMS: STDIN %q", p.Cell(cellStdin))
			}
		case ri.Type == fcgi.TypeParams:
			if !strings.HasPrefix(p.Cell(cellParams), "open") {
				t.Errorf("after a PARAMS record: PARAMS %q", p.Cell(cellParams))
			}
		case ri.Type == fcgi.TypeStdin && ri.ContentLength > 0:
			seenStdinOpen = true
			if !strings.HasPrefix(p.Cell(cellStdin), "open") {
				t.Errorf("after a STDIN record: STDIN %q", p.Cell(cellStdin))
			}
		case ri.Type == fcgi.TypeStdin:
			if !strings.HasPrefix(p.Cell(cellStdin), "complete") || !strings.Contains(p.Cell(cellStdin), session.FormatBytes(x.Sizes().Stdin)) {
				t.Errorf("after the empty STDIN record: STDIN %q", p.Cell(cellStdin))
			}
		case ri.Type == fcgi.TypeEndRequest:
			if p.Cell(cellEnd) != "REQUEST_COMPLETE · app status 0" || p.Cell(cellRequest) != "ended · request id 1" {
				t.Errorf("after END_REQUEST: %q, request %q", p.Cell(cellEnd), p.Cell(cellRequest))
			}
		}
	}
	if !seenStdinOpen || !seenParamsDone {
		t.Fatalf("the exchange lacks the records the test is about: %v", x.Records())
	}
	if p.Next() {
		t.Error("Next went past the last record")
	}
	if len(stepped) != x.Len() || stepped[0] != 0 || stepped[len(stepped)-1] != x.Len()-1 {
		t.Errorf("OnStep saw %v", stepped)
	}
	if got := p.Cell(cellCount); !strings.Contains(got, "received") {
		t.Errorf("records cell %q", got)
	}

	// The slider and Prev move both ways; before the first record again.
	p.slider.SetValue(3)
	if p.Position() != 2 || stepped[len(stepped)-1] != 2 {
		t.Errorf("slider to 3: position %d, last step %d", p.Position(), stepped[len(stepped)-1])
	}
	p.Prev()
	p.Prev()
	p.Prev()
	if p.Position() != -1 || !containsFold(p.Narration(), "nothing has been sent") || p.Cell(cellRequest) != "not begun" {
		t.Errorf("back at the start: position %d, narration %q, request %q", p.Position(), p.Narration(), p.Cell(cellRequest))
	}
	if p.prev.Disabled() != true || p.next.Disabled() {
		t.Errorf("at the start: prev disabled %v, next disabled %v", p.prev.Disabled(), p.next.Disabled())
	}
}

func TestPlaybackShowsStderrAndAppStatus(t *testing.T) {
	k := newTeachKit(t)
	x := k.lessonExchanges(t, teach.LessonStderr)[0]
	p := newTestPlayback(t, k, x)
	p.Step(x.Len() - 1)
	if c := p.Cell(cellStderr); !strings.HasPrefix(c, "complete · ") && !strings.HasPrefix(c, "ended by END_REQUEST · ") {
		t.Errorf("STDERR at the end: %q", p.Cell(cellStderr))
	}
	if p.Cell(cellEnd) != "REQUEST_COMPLETE · app status 3" {
		t.Errorf("END_REQUEST cell %q", p.Cell(cellEnd))
	}
	if p.Side() != SideLabelReceived || !strings.Contains(p.Narration(), "app status 3") {
		t.Errorf("last record: side %q, narration %q", p.Side(), p.Narration())
	}
}

func TestPlaybackPlaysAndStops(t *testing.T) {
	k := newTeachKit(t)
	x := k.lessonExchanges(t, teach.LessonNoBody)[0]
	p := newTestPlayback(t, k, x)
	p.speed.SetSelected(playbackSpeeds()[0].label)
	var stepped []int
	p.OnStep = func(i int) { stepped = append(stepped, i) }

	test.Tap(p.play)
	if !p.Playing() || p.play.Text != "Pause" {
		t.Fatalf("Play did not start: playing %v, button %q", p.Playing(), p.play.Text)
	}
	if p.Position() != -1 {
		t.Fatalf("Play moved on the UI goroutine at once, to %d", p.Position())
	}
	k.q.waitFor(t, "two steps", teachWait, func() bool { return p.Position() >= 1 })
	test.Tap(p.play) // Pause
	if p.Playing() || p.play.Text != "Play" {
		t.Fatalf("Pause did not stop: playing %v, button %q", p.Playing(), p.play.Text)
	}
	at := p.Position()
	k.q.settle()
	if p.Position() != at {
		t.Fatalf("still stepping after Pause: %d, then %d", at, p.Position())
	}

	// Playing on reaches the last record and stops by itself.
	p.Play()
	k.q.waitFor(t, "the end of the replay", teachWait, func() bool { return !p.Playing() })
	if p.Position() != x.Len()-1 {
		t.Errorf("playing stopped at %d of %d", p.Position(), x.Len())
	}
	for i := 1; i < len(stepped); i++ {
		if stepped[i] != stepped[i-1]+1 {
			t.Fatalf("steps out of order: %v", stepped)
		}
	}
	// From the end, Play starts over.
	p.Play()
	if p.Position() != -1 || !p.Playing() {
		t.Errorf("Play at the end: position %d, playing %v", p.Position(), p.Playing())
	}
	p.Stop()
}

func TestPlaybackOfAnExchangeFromAFile(t *testing.T) {
	k := newTeachKit(t)
	live := k.lessonExchanges(t, teach.LessonNoBody)[0]
	data, err := live.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var x session.Exchange
	if err := x.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	p := newTestPlayback(t, k, &x)
	p.Step(0)
	if p.Side() != SideLabelSent || !strings.Contains(p.Narration(), "BEGIN_REQUEST") || !strings.Contains(p.Narration(), "RESPONDER") {
		t.Errorf("first record of a loaded exchange: side %q, narration %q", p.Side(), p.Narration())
	}
	p.Step(x.Len() - 1)
	if p.Cell(cellEnd) != "REQUEST_COMPLETE · app status 0" {
		t.Errorf("END_REQUEST cell %q", p.Cell(cellEnd))
	}
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func TestStepThroughInTheWindowSelectsRecords(t *testing.T) {
	w := newLearnWindow(t)
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
	x := w.in.Exchange()
	tc := w.teach
	if tc.PlaybackShown() || tc.Playback.Loaded() {
		t.Fatal("the step-through strip is open before it was asked for")
	}
	test.Tap(tc.stepBtn)
	if !tc.PlaybackShown() {
		t.Fatal("Step through did not open the strip")
	}
	w.q.waitFor(t, "the replay", teachWait, tc.Playback.Loaded)
	if tc.Playback.Exchange() != x || tc.Playback.Len() != x.Len() {
		t.Fatalf("replaying %d records of %v, the window shows %d", tc.Playback.Len(), tc.Playback.Exchange(), x.Len())
	}
	list, detail := w.in.Results().List(), w.in.Results().Detail()
	for i := 0; i < 3; i++ {
		test.Tap(tc.Playback.next)
		if list.Selected() != i || detail.Record() == nil || detail.Record().Index != i {
			t.Fatalf("step %d: list selects %d, detail shows %+v", i, list.Selected(), detail.Record())
		}
	}
	if tc.Playback.Side() != SideLabelSent {
		t.Errorf("record 2 comes from %q", tc.Playback.Side())
	}
	// A record picked in the list moves the replay there.
	list.Select(x.Len() - 1)
	if tc.Playback.Position() != x.Len()-1 || tc.Playback.Side() != SideLabelReceived ||
		!strings.Contains(tc.Playback.Narration(), "END_REQUEST") {
		t.Errorf("after picking the last record: position %d, side %q, %q", tc.Playback.Position(), tc.Playback.Side(), tc.Playback.Narration())
	}

	// An exchange from a file replaces the replay.
	data, err := x.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var fromFile session.Exchange
	if err := fromFile.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	w.in.wbShowExchange(&fromFile, "a file")
	w.q.waitFor(t, "the replay of the file", teachWait, func() bool { return tc.Playback.Exchange() == &fromFile && tc.Playback.Loaded() })
	if tc.Playback.Position() != -1 || tc.Playback.Len() != fromFile.Len() {
		t.Errorf("the file's replay: position %d, %d records", tc.Playback.Position(), tc.Playback.Len())
	}

	// Playing, then closing the strip, stops playing.
	tc.Playback.Play()
	test.Tap(tc.stepBtn)
	if tc.PlaybackShown() || tc.Playback.Playing() {
		t.Errorf("closed strip: shown %v, playing %v", tc.PlaybackShown(), tc.Playback.Playing())
	}
}
