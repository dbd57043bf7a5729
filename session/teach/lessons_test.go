// Lesson tests: every lesson runs headless against the in-process demo
// backend and passes its checks; the checks fail on the wrong exchanges.

package teach

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/session"
	"fcgiscope/session/sessiontest"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
)

// teachTimeout bounds every lesson run and scenario in these tests.
const teachTimeout = 20 * time.Second

func teachCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), teachTimeout)
	t.Cleanup(cancel)
	return ctx
}

// failures lists the failed checks.
func failures(rs []CheckResult) []string {
	var out []string
	for _, r := range rs {
		if !r.Pass {
			out = append(out, r.Check+": "+r.Detail)
		}
	}
	return out
}

func TestLessonsPassAgainstTheDemo(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)

	ls := Lessons()
	wantIDs := []string{LessonNoBody, LessonSplitBody, LessonStderr, LessonMultiplex, LessonGetValues,
		LessonAbort, LessonAuthorizer, LessonFilter, LessonKeepConn, LessonUnknownRole}
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.ID)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Fatalf("lessons %q, want %q", ids, wantIDs)
	}

	runs := map[string][]*session.Exchange{}
	for _, l := range ls {
		t.Run(l.ID, func(t *testing.T) {
			if l.Title == "" || len(l.Text) < 100 || l.Input.Target != LessonTarget || l.Run == nil || l.Check == nil {
				t.Fatalf("incomplete lesson: %+v", l)
			}
			xs, err := l.Run(ctx, e, addr)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			rs := l.Check(xs)
			if len(rs) < 3 {
				t.Errorf("only %d checks", len(rs))
			}
			for _, f := range failures(rs) {
				t.Errorf("failed: %s", f)
			}
			for _, r := range rs {
				if r.Detail == "" {
					t.Errorf("check %q has no detail", r.Check)
				}
			}
			if !Passed(rs) {
				t.Error("Passed is false")
			}
			for _, x := range xs {
				if x.Target() != addr || !x.Finished() {
					t.Errorf("exchange target %q, finished %v", x.Target(), x.Finished())
				}
			}
			runs[l.ID] = xs
		})
	}
	if t.Failed() {
		return
	}

	// Checks can fail: each one against exchanges that do not show what
	// it looks for.
	noBodyAgain, err := ls[0].Run(ctx, e, addr)
	if err != nil {
		t.Fatal(err)
	}
	wrong := map[string][]*session.Exchange{
		LessonNoBody:      runs[LessonSplitBody],
		LessonSplitBody:   runs[LessonNoBody],
		LessonStderr:      runs[LessonNoBody],
		LessonMultiplex:   runs[LessonKeepConn], // one connection, but one request after the other
		LessonGetValues:   runs[LessonNoBody],
		LessonAbort:       runs[LessonMultiplex],
		LessonAuthorizer:  runs[LessonFilter],
		LessonFilter:      runs[LessonNoBody],
		LessonKeepConn:    append(slices.Clone(runs[LessonNoBody]), noBodyAgain...), // two connections
		LessonUnknownRole: runs[LessonStderr],
	}
	for _, l := range ls {
		rs := l.Check(wrong[l.ID])
		if Passed(rs) || len(failures(rs)) == 0 {
			t.Errorf("%s: the check passes on the wrong exchanges: %+v", l.ID, rs)
		}
		if rs := l.Check(nil); Passed(rs) || len(rs) != 1 {
			t.Errorf("%s: the check on no exchange: %+v", l.ID, rs)
		}
	}
	// A precise miss: the multiplex check sees one connection but no overlap.
	for _, f := range failures(checkMultiplex(runs[LessonKeepConn])) {
		if strings.HasPrefix(f, "both requests go over one connection") {
			t.Errorf("keep-conn exchanges went over two connections: %s", f)
		}
	}
}

// TestLessonInputsByHand sends each single-request lesson's Input as a
// window would (the Input alone, with its Data as the DATA stream) and
// checks it: the preset is enough.
func TestLessonInputsByHand(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)
	for _, id := range []string{LessonNoBody, LessonSplitBody, LessonStderr, LessonFilter, LessonUnknownRole} {
		l, ok := LessonByID(id)
		if !ok {
			t.Fatalf("no lesson %s", id)
		}
		x, _ := sendInput(ctx, e, addr, l.Input, l.Data)
		if f := failures(l.Check([]*session.Exchange{x})); len(f) > 0 {
			t.Errorf("%s sent by hand: %q", id, f)
		}
	}
	if _, ok := LessonByID("nope"); ok {
		t.Error("LessonByID found a lesson that does not exist")
	}
}

func TestScenariosDocumentTheMisbehaviours(t *testing.T) {
	ss := Scenarios()
	ms := demo.Misbehaviours()
	if len(ss) != len(ms) {
		t.Fatalf("%d scenarios for %d misbehaving routes", len(ss), len(ms))
	}
	for i, s := range ss {
		if s.Path != ms[i].Path || s.Doc != ms[i].Summary || demo.MisbehavePrefix+s.ID != s.Path {
			t.Errorf("scenario %+v for route %s", s, ms[i].Path)
		}
		if v, _ := paramOf(s.Input, "SCRIPT_NAME"); v != s.Path || s.Input.Target != LessonTarget {
			t.Errorf("%s: input %+v", s.ID, s.Input)
		}
	}
}

func paramOf(in session.Input, name string) (string, bool) {
	for _, p := range in.Params {
		if p.Name == name && p.Enabled {
			return p.Value, true
		}
	}
	return "", false
}

// TestRunMultiplexDemo checks the multiplexed pair directly: one
// connection, ids 1 and 2, the echo's records all before the slow one's END_REQUEST.
func TestRunMultiplexDemo(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	xs, err := RunMultiplexDemo(teachCtx(t), nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 2 || xs[0].RequestID() != 1 || xs[1].RequestID() != 2 {
		t.Fatalf("exchanges with ids %d and %d", xs[0].RequestID(), xs[1].RequestID())
	}
	slowEnd, _ := recordTime(xs[0], xs[0].Len()-1)
	for _, r := range xs[1].Records() {
		if at, _ := recordTime(xs[1], r.Index); !at.Before(slowEnd) {
			t.Errorf("echo record %d (%s) at or after the slow request's END_REQUEST", r.Index, r.Type)
		}
		if r.RequestID != 2 {
			t.Errorf("echo exchange holds a record for request %d", r.RequestID)
		}
	}
	if e, err := echoOf(xs[1]); err != nil || e.RequestID != 2 {
		t.Errorf("echo %+v, %v", e, err)
	}
	if !strings.Contains(string(xs[0].Stdout()), "chunk 1 of 1") {
		t.Errorf("slow stdout %q", xs[0].Stdout())
	}

	// Nothing listening: both exchanges say so.
	xs, err = RunMultiplexDemo(teachCtx(t), nil, fcgitest.RefusedAddr(t, "tcp"))
	if err == nil || len(xs) != 2 || xs[0].ErrorText() == "" || !xs[1].Finished() {
		t.Errorf("against a closed port: %v, %d exchanges", err, len(xs))
	}
}

func TestRunGetValues(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	x, err := RunGetValues(teachCtx(t), nil, addr)
	if err != nil {
		t.Fatal(err)
	}
	recs := x.Records()
	if len(recs) != 2 || recs[0].Type != fcgi.TypeGetValues || recs[1].Type != fcgi.TypeGetValuesResult {
		t.Fatalf("records %+v", recs)
	}
	if x.Role() != 0 || x.RequestID() != 0 || !x.Finished() || x.ErrorText() != "" {
		t.Errorf("role %s, id %d, finished %v, error %q", x.Role(), x.RequestID(), x.Finished(), x.ErrorText())
	}
	rec, err := x.Decode(1)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.Body.(*fcgi.Pairs).List()
	want := []fcgi.Pair{{Name: fcgi.ValueMaxConns, Value: "16"}, {Name: fcgi.ValueMaxReqs, Value: "64"}, {Name: fcgi.ValueMpxsConns, Value: "1"}}
	if !slices.Equal(got, want) {
		t.Errorf("GET_VALUES_RESULT %v, want %v", got, want)
	}

	x, err = RunGetValues(teachCtx(t), nil, fcgitest.RefusedAddr(t, "tcp"))
	if err == nil || !strings.Contains(x.ErrorText(), "cannot connect") || x.Len() != 0 {
		t.Errorf("against a closed port: %v, %q", err, x.ErrorText())
	}
}

// TestCheckAbortNamesWhatIsMissing: the ABORT_REQUEST lesson's checks on an
// exchange that was not aborted say there is no ABORT_REQUEST, rather than
// naming a record -1; on one that was, they name the records by the
// numbers the record list shows.
func TestCheckAbortNamesWhatIsMissing(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)
	x, err := sendInput(ctx, e, addr, demoInput("GET", "/echo", "", nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := checkAbort([]*session.Exchange{x})
	if rs[0].Pass || rs[0].Detail != "no ABORT_REQUEST record" {
		t.Errorf("not aborted: %+v", rs[0])
	}
	ls, _ := LessonByID(LessonAbort)
	xs, err := ls.Run(ctx, e, addr)
	if err != nil {
		t.Fatal(err)
	}
	rs = checkAbort(xs)
	if !rs[0].Pass || !strings.HasPrefix(rs[0].Detail, "ABORT_REQUEST is record #") {
		t.Errorf("aborted: %+v", rs[0])
	}
}
