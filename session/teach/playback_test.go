// Playback tests: stepping through real exchanges with the demo backend.

package teach

import (
	"regexp"
	"strings"
	"testing"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"

	"fcgiscope/fcgi"
)

func TestPlaybackOfABodyAndAStraddlingParam(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	body := strings.Repeat("b", 70000)
	in := demoInput("POST", "/echo", "", []byte(body), session.RawParam{Name: "LONG", Value: strings.Repeat("L", 70000), Enabled: true})
	x, err := sendInput(teachCtx(t), e, addr, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlayback(x)
	if p.Len() != x.Len() || p.Len() < 10 {
		t.Fatalf("Len %d, exchange %d", p.Len(), x.Len())
	}
	if s := p.Step(-1); s.Index != -1 || s.Active || s.Side != "" || s.Narration != "nothing has been sent yet" {
		t.Errorf("before the first record: %+v", s)
	}
	last := p.Step(p.Len() - 1)
	if s := p.Step(p.Len() + 5); s.Index != last.Index {
		t.Errorf("past the end: index %d, want %d", s.Index, last.Index)
	}

	first := p.Step(0)
	if first.Side != SideWebServer || !first.Active || first.Ended ||
		first.Narration != "the web server sends BEGIN_REQUEST for request 1: role RESPONDER, KEEP_CONN off: the application closes the connection after the response; the request is now active" {
		t.Errorf("record 0: %+v", first)
	}

	paramsRe := regexp.MustCompile(`^the web server sends PARAMS \(\d+ pairs?, \d+ bytes\)`)
	var prev State
	straddle, paramsDone, stdinDone := false, -1, -1
	for i := range p.Len() {
		s := p.Step(i)
		r, _ := x.Record(i)
		if s.Index != i || s.Record != r {
			t.Fatalf("step %d is about record %d", i, s.Index)
		}
		if (r.Dir == fcgi.Sent) != (s.Side == SideWebServer) {
			t.Errorf("record %d sent %v, side %q", i, r.Dir, s.Side)
		}
		if s.Stdout.Bytes < prev.Stdout.Bytes || s.Stdin.Bytes < prev.Stdin.Bytes || s.Pairs < prev.Pairs {
			t.Errorf("record %d: counts went down", i)
		}
		if r.Type == fcgi.TypeParams && r.ContentLength > 0 {
			if !paramsRe.MatchString(s.Narration) || !strings.HasSuffix(s.Narration, "; the params stream stays open") {
				t.Errorf("record %d: %q", i, s.Narration)
			}
			straddle = straddle || strings.Contains(s.Narration, "begin a pair that the next PARAMS record completes")
			if s.ParamsComplete() {
				t.Errorf("record %d: params complete before the empty record", i)
			}
		}
		if r.Type == fcgi.TypeParams && r.ContentLength == 0 {
			paramsDone = i
		}
		if r.Type == fcgi.TypeStdin && r.ContentLength == 0 {
			stdinDone = i
		}
		if paramsDone >= 0 != s.ParamsComplete() || stdinDone >= 0 != s.StdinComplete() {
			t.Errorf("record %d: params complete %v, stdin complete %v", i, s.ParamsComplete(), s.StdinComplete())
		}
		if s.Stdin.Open() != (s.Stdin.Begun && stdinDone < 0) {
			t.Errorf("record %d: stdin open %v", i, s.Stdin.Open())
		}
		prev = s
	}
	if !straddle {
		t.Error("no narration says that a pair straddles two PARAMS records")
	}
	if ps := p.Step(paramsDone); ps.Pairs != len(x.Params()) ||
		!strings.HasPrefix(ps.Narration, "the web server sends an empty PARAMS record: the params are complete") {
		t.Errorf("empty PARAMS: %d pairs for %d params, %q", ps.Pairs, len(x.Params()), ps.Narration)
	}
	if s := p.Step(stdinDone); s.Stdin.Bytes != 70000 || s.Stdin.Records != 3 || s.Stdin.Open() ||
		s.Narration != "the web server sends an empty STDIN record: the body (STDIN) is complete (70000 bytes in 2 records)" {
		t.Errorf("empty STDIN: %+v", s)
	}
	if !last.Ended || last.Active || last.End == nil || last.End.ProtocolStatus != fcgi.StatusRequestComplete ||
		last.Side != SideApplication || !last.Stdout.Closed || last.Stdout.Bytes != int64(len(x.Stdout())) ||
		last.Stderr.Begun || last.DataComplete() ||
		last.Narration != "the application sends END_REQUEST: app status 0, REQUEST_COMPLETE; request 1 is over" {
		t.Errorf("last: %+v", last)
	}
}

func TestPlaybackOfMisbehaviours(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)
	byID := map[string]Scenario{}
	for _, s := range Scenarios() {
		byID[s.ID] = s
	}

	x, _ := RunScenario(ctx, e, addr, byID["stderr-unclosed"], 0)
	last := NewPlayback(x).Step(x.Len() - 1)
	if !last.Ended || !last.Stderr.Open() || last.Stdout.Open() ||
		!strings.HasSuffix(last.Narration, "(STDERR never closed with an empty record, as php-fpm does: END_REQUEST ends them)") {
		t.Errorf("stderr-unclosed: %+v", last)
	}

	x, _ = RunScenario(ctx, e, addr, byID["wrong-id"], 0)
	p := NewPlayback(x)
	for i := range p.Len() {
		r, _ := x.Record(i)
		if r.RequestID != 2 {
			continue
		}
		before, s := p.Step(i-1), p.Step(i)
		if s.Stdout != before.Stdout || s.Narration != "the application sends STDOUT for request 2, which is not this exchange's request 1; a peer ignores records for a request id that is not active" {
			t.Errorf("stray: %+v", s)
		}
	}

	x, _ = RunScenario(ctx, e, addr, byID["after-end"], 0)
	p = NewPlayback(x)
	end, late := p.Step(x.Len()-2), p.Step(x.Len()-1)
	if !end.Ended || late.Stdout != end.Stdout || !strings.Contains(late.Narration, "after END_REQUEST: request 1 is no longer active") {
		t.Errorf("after-end: %+v", late)
	}

	x, _ = RunScenario(ctx, e, addr, byID["status/overloaded"], 0)
	last = NewPlayback(x).Step(x.Len() - 1)
	if last.End == nil || last.End.ProtocolStatus != fcgi.StatusOverloaded || last.Stdout.Begun ||
		!strings.HasSuffix(last.Narration, "OVERLOADED: the application is out of resources and refuses the request") {
		t.Errorf("overloaded: %+v", last)
	}

	x, _ = RunScenario(ctx, e, addr, byID["short-content"], 0)
	last = NewPlayback(x).Step(x.Len() - 1)
	if last.Stdout.Bytes != 10 || !last.Stdout.Cut || last.Narration != "the application starts a STDOUT record announcing 100 content bytes, but the connection ends after 10 of them" {
		t.Errorf("short-content: %+v", last)
	}

	x, _ = RunScenario(ctx, e, addr, byID["version2"], 0)
	last = NewPlayback(x).Step(x.Len() - 1)
	if last.Ended || !last.Active || !strings.Contains(last.Narration, "a record with version 2") {
		t.Errorf("version2: %+v", last)
	}
}

func TestPlaybackOfLessons(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)

	abort, _ := LessonByID(LessonAbort)
	xs, err := abort.Run(ctx, e, addr)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPlayback(xs[0])
	aborted := -1
	for i := range p.Len() {
		if s := p.Step(i); s.Aborted && aborted < 0 {
			aborted = i
			if !s.Active || s.Narration != "the web server sends ABORT_REQUEST: it gives up on request 1; the application should stop and answer END_REQUEST soon" {
				t.Errorf("ABORT_REQUEST: %+v", s)
			}
		}
	}
	if last := p.Step(p.Len() - 1); aborted < 0 || !last.Aborted || !last.Ended {
		t.Errorf("aborted at %d; last %+v", aborted, last)
	}

	gv, _ := LessonByID(LessonGetValues)
	xs, err = gv.Run(ctx, e, addr)
	if err != nil {
		t.Fatal(err)
	}
	p = NewPlayback(xs[0])
	if s := p.Step(0); s.Narration != "the web server sends GET_VALUES, asking for FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS" || s.Active {
		t.Errorf("GET_VALUES: %+v", s)
	}
	if s := p.Step(1); s.Narration != "the application answers GET_VALUES_RESULT: FCGI_MAX_CONNS=16, FCGI_MAX_REQS=64, FCGI_MPXS_CONNS=1" || s.Side != SideApplication {
		t.Errorf("GET_VALUES_RESULT: %+v", s)
	}

	filter, _ := LessonByID(LessonFilter)
	xs, err = filter.Run(ctx, e, addr)
	if err != nil {
		t.Fatal(err)
	}
	last := NewPlayback(xs[0]).Step(xs[0].Len() - 1)
	if !last.DataComplete() || last.Data.Bytes != int64(len(filter.Data)) || !last.StdinComplete() {
		t.Errorf("filter: %+v", last)
	}

	role, _ := LessonByID(LessonUnknownRole)
	xs, err = role.Run(ctx, e, addr)
	if err != nil {
		t.Fatal(err)
	}
	if s := NewPlayback(xs[0]).Step(0); !strings.Contains(s.Narration, "role ROLE_7") {
		t.Errorf("unknown role: %q", s.Narration)
	}
}

// TestPlaybackOfACutRecord: at the last step of an exchange whose
// connection ended inside a STDOUT record, STDOUT has begun and was cut
// short, and the request failed: the state agrees with the Exchange.
func TestPlaybackOfACutRecord(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	x, err := sendInput(teachCtx(t), e, addr, demoInput("GET", "/misbehave/short-content", "", nil), nil)
	if err == nil {
		t.Fatal("the request with a cut record succeeded")
	}
	p := NewPlayback(x)
	last := p.Step(p.Len() - 1)
	r, _ := x.Record(p.Len() - 1)
	if r.Type != fcgi.TypeStdout || !r.Partial {
		t.Fatalf("the last record is %+v, want the cut STDOUT", r)
	}
	if !last.Stdout.Begun || !last.Stdout.Cut || last.Stdout.Records != 1 || last.Stdout.Bytes != int64(x.Captured(p.Len()-1)-fcgi.HeaderLen) {
		t.Errorf("STDOUT after the cut record: %+v (captured %d bytes)", last.Stdout, x.Captured(p.Len()-1))
	}
	if f := x.Failure(); f == nil || last.Failed != f.Title {
		t.Errorf("failed %q, exchange failure %+v", last.Failed, f)
	}
	if before := p.Step(p.Len() - 2); before.Stdout.Begun || before.Failed != "" {
		t.Errorf("before the cut record: %+v", before)
	}
}
