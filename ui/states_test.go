// Tests that every state the window shows agrees with the Exchange: a failed connect, a cancel, a protocol error, a cut record stepped through, GET_VALUES.

package ui

import (
	"fmt"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/teach"
)

// saidOnce checks that the error box says the exchange's failure once, in
// its own words: its text, no detail under it, no layer of the Go error
// chain.
func saidOnce(t *testing.T, in *Inspector, x *session.Exchange) {
	t.Helper()
	f := x.Failure()
	if f == nil {
		t.Fatalf("the exchange did not fail: %q", x.ErrorText())
	}
	r := in.Response()
	if r.ErrorText() != f.Text || r.errDetail.Visible() {
		t.Errorf("error box %q (detail %q shown %v), want %q alone", r.ErrorText(), r.errDetail.Text, r.errDetail.Visible(), f.Text)
	}
	for _, s := range []string{"fcgi:", "session:", " on tcp "} {
		if strings.Contains(r.ErrorText(), s) || strings.Contains(in.State(), s) {
			t.Errorf("error box %q or status line %q tells the error chain (%q)", r.ErrorText(), in.State(), s)
		}
	}
	if in.State() != f.Title {
		t.Errorf("status line %q, want %q", in.State(), f.Title)
	}
}

// TestFailedConnectStates: after a refused dial no pane waits for
// anything: the records pane says why it is empty, the response pane has no
// response and says the failure once.
func TestFailedConnectStates(t *testing.T) {
	f := newInspFixture(t)
	refused := fcgitest.RefusedAddr(t, "tcp")
	f.in.Target().SetAddress(refused)
	x := f.send(t)
	r := f.in.Results()
	if x.Len() != 0 || r.Len() != 0 {
		t.Fatalf("%d records after a refused dial", x.Len())
	}
	if got := r.hint.Text(); !r.hint.Visible() || got != "No records: cannot connect to "+refused {
		t.Errorf("records pane says %q (shown %v), want why it is empty", got, r.hint.Visible())
	}
	if got := f.in.Response().Status(); got != "No response" {
		t.Errorf("response status %q", got)
	}
	saidOnce(t, f.in, x)
	if want := "Cannot connect to " + refused + ": connection refused"; f.in.Response().ErrorText() != want {
		t.Errorf("error box %q, want %q", f.in.Response().ErrorText(), want)
	}
}

// TestProtocolErrorNumbersRecordsAsTheList: the error text names the
// record at fault by the number the record list shows for it.
func TestProtocolErrorNumbersRecordsAsTheList(t *testing.T) {
	f := newInspFixture(t)
	f.setURL(t, "/misbehave/version2")
	x := f.send(t)
	saidOnce(t, f.in, x)
	fail := x.Failure()
	row := f.in.Results().row(fail.Record)
	if fail.Record < 0 || row.Index != fail.Record || row.Dir != fcgi.Received || row.Anomaly == "" {
		t.Fatalf("the record at fault is %d, listed as %+v", fail.Record, row)
	}
	if want := fmt.Sprintf("Protocol error in record #%d: unsupported protocol version 2", row.Index); !strings.HasPrefix(f.in.Response().ErrorText(), want) {
		t.Errorf("error box %q, want it to start %q", f.in.Response().ErrorText(), want)
	}
}

// TestAbortLessonCancelledWithEscape: the ABORT_REQUEST lesson's request,
// loaded into the form, sent, and cancelled with Escape once its first
// chunk arrived, reads as aborted in every pane: no plain "200 OK", the
// END_REQUEST line says it answers the abort, the warning says aborted,
// not failed.
func TestAbortLessonCancelledWithEscape(t *testing.T) {
	w := newLearnWindow(t)
	l := w.teach.Learn
	if !l.SelectLesson(teach.LessonAbort) {
		t.Fatal("no ABORT_REQUEST lesson")
	}
	test.Tap(l.LoadButton())
	w.q.settle()
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the first chunk", teachWait, func() bool {
		for _, ri := range w.in.Exchange().Records() {
			if ri.Dir == fcgi.Received && ri.Type == fcgi.TypeStdout {
				return true
			}
		}
		return false
	})
	w.in.Window().Canvas().OnTypedKey()(&fyne.KeyEvent{Name: fyne.KeyEscape})
	w.q.waitFor(t, "the abort", teachWait, func() bool { return !w.in.Busy() })
	x := w.in.Exchange()
	saidOnce2 := x.Failure()
	if saidOnce2 == nil || saidOnce2.Kind != session.FailAborted {
		t.Fatalf("failure %+v after Escape", saidOnce2)
	}
	r := w.in.Response()
	if got := r.Status(); got != "Partial 200 OK" {
		t.Errorf("response status %q, want Partial 200 OK", got)
	}
	if got := r.end.Text; !strings.HasSuffix(got, "REQUEST_COMPLETE, the answer to ABORT_REQUEST") {
		t.Errorf("END_REQUEST line %q", got)
	}
	for _, s := range r.Warnings() {
		if strings.Contains(s, "failed") {
			t.Errorf("warning %q calls the abort a failure", s)
		}
	}
	if r.ErrorText() != saidOnce2.Text || !strings.HasPrefix(w.in.State(), "Aborted") {
		t.Errorf("error box %q, status line %q", r.ErrorText(), w.in.State())
	}
}

// TestStepThroughCutRecord: stepping through an exchange whose connection
// ended inside a STDOUT record, the last step has STDOUT cut short and the
// request failed; closing the strip gives its room back to the record
// detail under it.
func TestStepThroughCutRecord(t *testing.T) {
	w := newLearnWindow(t)
	w.in.Compose().HTTP().SetURL("/misbehave/short-content")
	w.q.settle()
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the send", teachWait, func() bool { return !w.in.Busy() })
	x := w.in.Exchange()
	tc := w.teach
	detail := tc.band.Objects[1] // the detail's side of the records pane, under the strip
	top := detail.Position().Y
	test.Tap(tc.stepBtn)
	w.q.waitFor(t, "the replay", teachWait, tc.Playback.Loaded)
	if detail.Position().Y <= top {
		t.Errorf("the open strip is not over the record detail: the detail at %v, was at %v", detail.Position().Y, top)
	}
	test.Tap(tc.Playback.last)
	if got := tc.Playback.Cell(cellStdout); !strings.HasPrefix(got, "cut short · 1 record") {
		t.Errorf("STDOUT at the last step: %q", got)
	}
	if got, want := tc.Playback.Cell(cellRequest), "failed · "+x.Failure().Title; got != want {
		t.Errorf("Request at the last step: %q, want %q", got, want)
	}
	test.Tap(tc.stepBtn)
	if tc.PlaybackShown() || detail.Position().Y != top {
		t.Errorf("after closing the strip the detail is at %v, was at %v: an empty band is left", detail.Position().Y, top)
	}
}

// TestGetValuesShowsRecords: the GET_VALUES probe by the target shows its
// records in the records pane, and the response pane says there was no
// request rather than a missing response.
func TestGetValuesShowsRecords(t *testing.T) {
	f := newInspFixture(t)
	p := f.in.Target()
	test.Tap(p.probe)
	f.q.waitFor(t, "the GET_VALUES answer", inspWait, func() bool { return strings.Contains(p.Values(), "MAX_CONNS") })
	f.q.settle()
	if got := recordTypes(f.in.Results()); strings.Join(got, " ") != "GET_VALUES GET_VALUES_RESULT" {
		t.Fatalf("records pane lists %q after GET_VALUES", got)
	}
	r := f.in.Response()
	if r.Status() != "Management records only" || r.ErrorText() != "" || !strings.Contains(r.end.Text, "no request was begun") {
		t.Errorf("response pane: status %q, error %q, END_REQUEST %q", r.Status(), r.ErrorText(), r.end.Text)
	}
	if !strings.Contains(f.in.State(), "GET_VALUES") {
		t.Errorf("status line %q", f.in.State())
	}
}

// TestFailedGetValuesHasNoEndRequest: a GET_VALUES probe that could not
// connect shows its failure, and the response pane does not say an
// END_REQUEST was "not received": a probe, failed or not, has none to wait for.
func TestFailedGetValuesHasNoEndRequest(t *testing.T) {
	f := newInspFixture(t)
	p := f.in.Target()
	p.SetAddress(fcgitest.RefusedAddr(t, "tcp"))
	test.Tap(p.probe)
	f.q.waitFor(t, "the GET_VALUES failure", inspWait, func() bool { return strings.Contains(p.Values(), "GET_VALUES failed") })
	f.q.settle()
	r := f.in.Response()
	if strings.Contains(r.end.Text, "not received") || !strings.Contains(r.end.Text, "no request was begun") {
		t.Errorf("after a failed GET_VALUES, END_REQUEST reads %q", r.end.Text)
	}
	if r.Status() != "No response" || r.ErrorText() == "" {
		t.Errorf("after a failed GET_VALUES: status %q, error %q", r.Status(), r.ErrorText())
	}
}
