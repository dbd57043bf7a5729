// The anomalies the teaching kit shows: those of each of the misbehaving
// demo's scenarios, of a well-behaved request, and of real php-fpm.

package teach

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
)

// kinds returns the anomaly kinds in order, without repeats.
func kinds(as []session.Anomaly) []session.AnomalyKind {
	var out []session.AnomalyKind
	for _, a := range as {
		if !slices.Contains(out, a.Kind) {
			out = append(out, a.Kind)
		}
	}
	return out
}

// withQuery returns in with QUERY_STRING set to q.
func withQuery(in session.Input, q string) session.Input {
	ps := slices.Clone(in.Params)
	for i := range ps {
		if ps[i].Name == "QUERY_STRING" {
			ps[i].Value = q
		}
	}
	in.Params = ps
	return in
}

func TestAnomaliesOfTheMisbehavingDemo(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)

	want := map[string][]session.AnomalyKind{
		"slow-first-byte":      nil,
		"dribble":              nil,
		"huge-stderr":          nil,
		"status/cant-mpx-conn": nil,
		"status/overloaded":    nil,
		"status/unknown-role":  nil,
		"status/app":           nil,
		"close-early":          nil,
		"odd-padding":          {session.AnomalyPadding},
		"unknown-type":         {session.AnomalyUnknownType},
		"wrong-id":             {session.AnomalyInactiveID},
		"version2":             {session.AnomalyVersion},
		"short-content":        {session.AnomalyShortContent},
		"after-end":            {session.AnomalyAfterEnd},
		"stderr-unclosed":      {session.AnomalyUnclosedStream},
	}
	for _, s := range Scenarios() {
		t.Run(s.ID, func(t *testing.T) {
			w, ok := want[s.ID]
			if !ok {
				t.Fatalf("no expectation for scenario %s", s.ID)
			}
			if s.ID == "slow-first-byte" {
				s.Input = withQuery(s.Input, "ms=50")
			}
			x, _ := RunScenario(ctx, e, addr, s, 0)
			as := session.Anomalies(x)
			if got := kinds(as); !slices.Equal(got, w) {
				t.Errorf("anomaly kinds %v, want %v\n%+v", got, w, as)
			}
			for _, a := range as {
				r, ok := x.Record(a.Record)
				if !ok || a.Text == "" {
					t.Errorf("anomaly %+v names no record", a)
				}
				if a.Kind == session.AnomalyPadding && (int(r.ContentLength)+int(r.PaddingLength))%8 == 0 {
					t.Errorf("padding anomaly on an aligned record %+v", r)
				}
			}
		})
	}
}

// TestAnomalyDetails pins the record and the words of the anomalies that
// need more than a kind.
func TestAnomalyDetails(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)
	byID := map[string]Scenario{}
	for _, s := range Scenarios() {
		byID[s.ID] = s
	}

	x, _ := RunScenario(ctx, e, addr, byID["stderr-unclosed"], 0)
	as := session.Anomalies(x)
	end := x.Len() - 1
	if last, _ := x.Record(end); len(as) != 1 || as[0].Record != end || last.Type != fcgi.TypeEndRequest ||
		!strings.Contains(as[0].Text, "php-fpm does this; the spec says") || !strings.HasPrefix(as[0].Text, "STDERR") ||
		!as[0].Kind.Informational() {
		t.Errorf("stderr-unclosed: %+v", as)
	}

	x, _ = RunScenario(ctx, e, addr, byID["after-end"], 0)
	as = session.Anomalies(x)
	if late, _ := x.Record(x.Len() - 1); len(as) != 1 || as[0].Record != x.Len()-1 || late.Type != fcgi.TypeStdout ||
		!strings.Contains(as[0].Text, "after its END_REQUEST") || as[0].Kind.Informational() {
		t.Errorf("after-end: %+v", as)
	}

	x, _ = RunScenario(ctx, e, addr, byID["short-content"], 0)
	as = session.Anomalies(x)
	if len(as) != 1 || !strings.Contains(as[0].Text, "100 content bytes") || !strings.Contains(as[0].Text, "only 10 bytes") {
		t.Errorf("short-content: %+v", as)
	}

	// A well-behaved request through the pooled engine: nothing to say.
	x, err := sendInput(ctx, e, addr, demoInput("POST", "/echo", "", bytes.Repeat([]byte("b"), 70000)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if as := session.Anomalies(x); len(as) != 0 {
		t.Errorf("/echo: %+v", as)
	}
}

// TestAnomaliesOfPHPFPM: php-fpm never closes STDOUT or STDERR with an
// empty record, and that is all that is unusual about it.
func TestAnomaliesOfPHPFPM(t *testing.T) {
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	ctx := teachCtx(t)
	for script, want := range map[string][]string{"hello.php": {"STDOUT"}, "stderr.php": {"STDOUT", "STDERR"}} {
		in := demoInput("GET", "/"+script, "", nil, session.RawParam{Name: "SCRIPT_FILENAME", Value: fpm.Script(script), Enabled: true})
		x, err := sendInput(ctx, e, fpm.Addr, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		as := session.Anomalies(x)
		var streams []string
		for _, a := range as {
			if a.Kind == session.AnomalyReserved && a.Record == x.Len()-1 && strings.HasPrefix(a.Text, "the END_REQUEST body's") {
				// php-fpm does not clear END_REQUEST's reserved bytes
				// (fcgi_flush in main/fastcgi.c): now and then they hold
				// earlier output, which the inspector rightly shows.
				continue
			}
			if a.Kind != session.AnomalyUnclosedStream || a.Record != x.Len()-1 {
				t.Errorf("%s: %+v", script, a)
			}
			streams = append(streams, strings.Fields(a.Text)[0])
		}
		slices.Sort(streams)
		slices.Sort(want)
		if !slices.Equal(streams, want) {
			t.Errorf("%s: unclosed %v, want %v", script, streams, want)
		}
	}
}
