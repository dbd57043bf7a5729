// Anomaly tests: the misbehaving demo's scenarios, well-behaved backends
// (the demo, real php-fpm) and hand-made records.

package session

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// kinds returns the anomaly kinds in order, without repeats.
func kinds(as []Anomaly) []AnomalyKind {
	var out []AnomalyKind
	for _, a := range as {
		if !slices.Contains(out, a.Kind) {
			out = append(out, a.Kind)
		}
	}
	return out
}

// withQuery returns in with QUERY_STRING set to q.
func withQuery(in Input, q string) Input {
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
	addr := teachDemo(t)
	teachNoLeaks(t)
	e := teachEngine(t)
	ctx := teachCtx(t)

	want := map[string][]AnomalyKind{
		"slow-first-byte":      nil,
		"dribble":              nil,
		"huge-stderr":          nil,
		"status/cant-mpx-conn": nil,
		"status/overloaded":    nil,
		"status/unknown-role":  nil,
		"status/app":           nil,
		"close-early":          nil,
		"odd-padding":          {AnomalyPadding},
		"unknown-type":         {AnomalyUnknownType},
		"wrong-id":             {AnomalyInactiveID},
		"version2":             {AnomalyVersion},
		"short-content":        {AnomalyShortContent},
		"after-end":            {AnomalyAfterEnd},
		"stderr-unclosed":      {AnomalyUnclosedStream},
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
			as := Anomalies(x)
			if got := kinds(as); !slices.Equal(got, w) {
				t.Errorf("anomaly kinds %v, want %v\n%+v", got, w, as)
			}
			for _, a := range as {
				r, ok := x.Record(a.Record)
				if !ok || a.Text == "" {
					t.Errorf("anomaly %+v names no record", a)
				}
				if a.Kind == AnomalyPadding && (int(r.ContentLength)+int(r.PaddingLength))%8 == 0 {
					t.Errorf("padding anomaly on an aligned record %+v", r)
				}
			}
		})
	}
}

// TestAnomalyDetails pins the record and the words of the anomalies that
// need more than a kind.
func TestAnomalyDetails(t *testing.T) {
	addr := teachDemo(t)
	teachNoLeaks(t)
	e := teachEngine(t)
	ctx := teachCtx(t)
	byID := map[string]Scenario{}
	for _, s := range Scenarios() {
		byID[s.ID] = s
	}

	x, _ := RunScenario(ctx, e, addr, byID["stderr-unclosed"], 0)
	as := Anomalies(x)
	end := x.Len() - 1
	if last, _ := x.Record(end); len(as) != 1 || as[0].Record != end || last.Type != fcgi.TypeEndRequest ||
		!strings.Contains(as[0].Text, "php-fpm does this; the spec says") || !strings.HasPrefix(as[0].Text, "STDERR") ||
		!as[0].Kind.Informational() {
		t.Errorf("stderr-unclosed: %+v", as)
	}

	x, _ = RunScenario(ctx, e, addr, byID["after-end"], 0)
	as = Anomalies(x)
	if late, _ := x.Record(x.Len() - 1); len(as) != 1 || as[0].Record != x.Len()-1 || late.Type != fcgi.TypeStdout ||
		!strings.Contains(as[0].Text, "after its END_REQUEST") || as[0].Kind.Informational() {
		t.Errorf("after-end: %+v", as)
	}

	x, _ = RunScenario(ctx, e, addr, byID["short-content"], 0)
	as = Anomalies(x)
	if len(as) != 1 || !strings.Contains(as[0].Text, "100 content bytes") || !strings.Contains(as[0].Text, "only 10 bytes") {
		t.Errorf("short-content: %+v", as)
	}

	// A well-behaved request through the pooled engine: nothing to say.
	x, err := sendInput(ctx, e, addr, demoInput("POST", "/echo", "", bytes.Repeat([]byte("b"), 70000)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if as := Anomalies(x); len(as) != 0 {
		t.Errorf("/echo: %+v", as)
	}
}

// TestAnomaliesOfPHPFPM: php-fpm never closes STDOUT or STDERR with an
// empty record, and that is all that is unusual about it.
func TestAnomaliesOfPHPFPM(t *testing.T) {
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	teachNoLeaks(t)
	e := teachEngine(t)
	ctx := teachCtx(t)
	for script, want := range map[string][]string{"hello.php": {"STDOUT"}, "stderr.php": {"STDOUT", "STDERR"}} {
		in := demoInput("GET", "/"+script, "", nil, RawParam{"SCRIPT_FILENAME", fpm.Script(script), true})
		x, err := sendInput(ctx, e, fpm.Addr, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		as := Anomalies(x)
		var streams []string
		for _, a := range as {
			if a.Kind == AnomalyReserved && a.Record == x.Len()-1 && strings.HasPrefix(a.Text, "the END_REQUEST body's") {
				// php-fpm does not clear END_REQUEST's reserved bytes
				// (fcgi_flush in main/fastcgi.c): now and then they hold
				// earlier output, which the inspector rightly shows.
				continue
			}
			if a.Kind != AnomalyUnclosedStream || a.Record != x.Len()-1 {
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

// handMade builds an exchange from records written by hand: sent by the
// web server (a Writer traced into the exchange) and received from the
// application (read back by a Reader traced into it).
func handMade(t *testing.T, sent, received func(w *fcgi.Writer)) *Exchange {
	t.Helper()
	x := NewExchange(Input{})
	start := time.Now()
	x.begin("hand-made", &Request{ID: 1}, start)
	var out bytes.Buffer
	w := fcgi.NewWriter(&out)
	w.Trace = x.trace(start)
	sent(w)
	var in bytes.Buffer
	received(fcgi.NewWriter(&in))
	r := fcgi.NewReader(&in)
	r.Trace = x.trace(start)
	for {
		if _, err := r.ReadRecord(); err != nil {
			break
		}
	}
	x.complete(outcome{stdoutBytes: -1, stderrBytes: -1})
	return x
}

func TestAnomaliesOfHandMadeRecords(t *testing.T) {
	begin := func(w *fcgi.Writer) {
		w.WriteBeginRequest(1, fcgi.RoleResponder, 0)
		w.WriteParams(1, []fcgi.Pair{{Name: "A", Value: "b"}})
		w.CloseStream(fcgi.TypeStdin, 1)
	}
	x := handMade(t, begin, func(w *fcgi.Writer) {
		w.WriteRaw(fcgi.Header{Version: 1, Type: fcgi.TypeStdout, RequestID: 1,
			ContentLength: 4, PaddingLength: 4, Reserved: 7}, []byte("head"), make([]byte, 4)) // 4
		w.WriteRecord(fcgi.TypeStdout, 1, nil)                                                                                // 5
		w.WriteRecord(fcgi.TypeStdout, 1, []byte("more"))                                                                     // 6
		w.WriteRecord(fcgi.TypeGetValuesResult, 3, fcgi.AppendPairs(nil, []fcgi.Pair{{Name: "FCGI_MPXS_CONNS", Value: "0"}})) // 7
		w.WriteRecord(fcgi.TypeStderr, 0, []byte("zero"))                                                                     // 8
		w.WriteRecord(fcgi.TypeEndRequest, 1, []byte{0, 0, 0, 0, 0, 9, 0, 0})                                                 // 9
		w.WriteEndRequest(1, 0, fcgi.StatusRequestComplete)                                                                   // 10
		w.WriteRecord(fcgi.TypeStdout, 5, []byte("x"))                                                                        // 11
	})
	got := map[int]AnomalyKind{}
	for _, a := range Anomalies(x) {
		if k, dup := got[a.Record]; dup {
			t.Errorf("record %d: %s and %s", a.Record, k, a.Kind)
		}
		got[a.Record] = a.Kind
	}
	// Records 0 to 3 are BEGIN_REQUEST, PARAMS, PARAMS and STDIN.
	want := map[int]AnomalyKind{4: AnomalyReserved, 6: AnomalyAfterClose, 7: AnomalyRequestID, 8: AnomalyRequestID,
		9: AnomalyReserved, 10: AnomalyAfterEnd, 11: AnomalyInactiveID}
	for i, k := range want {
		if got[i] != k {
			t.Errorf("record %d: %q, want %q", i, got[i], k)
		}
	}
	if len(got) != len(want) {
		t.Errorf("anomalies %v, want %v", got, want)
	}

	// Records before BEGIN_REQUEST and a second stream closure are flagged;
	// a clean exchange is not.
	x = handMade(t, func(w *fcgi.Writer) {
		w.WriteRecord(fcgi.TypeStdin, 1, []byte("early"))
		begin(w)
	}, func(w *fcgi.Writer) {
		w.WriteRecord(fcgi.TypeStdout, 1, []byte("Status: 200\r\n\r\n"))
		w.CloseStream(fcgi.TypeStdout, 1)
		w.WriteEndRequest(1, 0, fcgi.StatusRequestComplete)
	})
	if as := Anomalies(x); len(as) != 1 || as[0].Record != 0 || as[0].Kind != AnomalyInactiveID ||
		!strings.HasPrefix(as[0].Text, "the web server sent STDIN for request 1") {
		t.Errorf("early STDIN: %+v", as)
	}
	if as := Anomalies(NewExchange(Input{})); len(as) != 0 {
		t.Errorf("empty exchange: %+v", as)
	}
}

// TestRecordsTheReaderStoppedAt: a header whose version is not 1 and a
// header cut by the end of the connection are kept, decoded as far as they
// go (Decode returns the captured bytes with the error), and flagged for
// what they are — a cut header is not reported as "version 0".
func TestRecordsTheReaderStoppedAt(t *testing.T) {
	x := handMade(t, func(w *fcgi.Writer) {
		w.WriteBeginRequest(1, fcgi.RoleResponder, 0)
	}, func(w *fcgi.Writer) {
		w.WriteRecord(fcgi.TypeStdout, 1, []byte("ok"))
		w.AllowIllegalWrites = true
		w.WriteRaw(fcgi.Header{Version: 2, Type: fcgi.TypeStdout, RequestID: 1, ContentLength: 100}, []byte("never read"), nil)
	})
	if n := x.Len(); n != 3 {
		t.Fatalf("%d records, want BEGIN_REQUEST, STDOUT and the version 2 header", n)
	}
	rec, err := x.Decode(2)
	if !errors.Is(err, fcgi.ErrVersion) || rec == nil || rec.Version != 2 || len(rec.Raw) != fcgi.HeaderLen || rec.Index != 2 {
		t.Errorf("Decode of the version 2 header: %+v, %v", rec, err)
	}
	if as := Anomalies(x); len(as) != 1 || as[0].Record != 2 || as[0].Kind != AnomalyVersion {
		t.Errorf("anomalies %+v, want one version anomaly on record 2", as)
	}

	x = NewExchange(Input{})
	x.begin("hand-made", &Request{ID: 1}, time.Now())
	x.addPartial(fcgi.Received, &fcgi.RecordError{Partial: []byte{1, 6, 0}, Err: fcgi.ErrShortRecord}, time.Millisecond)
	x.complete(outcome{stdoutBytes: -1, stderrBytes: -1})
	rec, err = x.Decode(0)
	if err == nil || rec == nil || !bytes.Equal(rec.Raw, []byte{1, 6, 0}) {
		t.Errorf("Decode of a cut header: %+v, %v", rec, err)
	}
	as := Anomalies(x)
	if len(as) != 1 || as[0].Kind != AnomalyShortContent || !strings.Contains(as[0].Text, "after 3 of the record's 8 header bytes") {
		t.Errorf("anomalies of a cut header %+v, want one short-content anomaly naming 3 of 8 bytes", as)
	}
}
