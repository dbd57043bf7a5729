// Anomaly tests: the misbehaving demo's scenarios, well-behaved backends
// (the demo, real php-fpm) and hand-made records.

package session

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// handMade builds an exchange from records written by hand: sent by the
// web server (a Writer traced into the exchange) and received from the
// application (read back by a Reader traced into it).
func handMade(t *testing.T, sent, received func(w *fcgi.Writer)) *Exchange {
	t.Helper()
	x := NewExchange(Input{})
	start := time.Now()
	x.Begin("hand-made", &Request{ID: 1}, start)
	var out bytes.Buffer
	w := fcgi.NewWriter(&out)
	w.Trace = x.Trace(start)
	sent(w)
	var in bytes.Buffer
	received(fcgi.NewWriter(&in))
	r := fcgi.NewReader(&in)
	r.Trace = x.Trace(start)
	for {
		if _, err := r.ReadRecord(); err != nil {
			break
		}
	}
	x.Complete(Outcome{})
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
	x.Begin("hand-made", &Request{ID: 1}, time.Now())
	x.addPartial(fcgi.Received, &fcgi.RecordError{Partial: []byte{1, 6, 0}, Err: fcgi.ErrShortRecord}, time.Millisecond)
	x.Complete(Outcome{})
	rec, err = x.Decode(0)
	if err == nil || rec == nil || !bytes.Equal(rec.Raw, []byte{1, 6, 0}) {
		t.Errorf("Decode of a cut header: %+v, %v", rec, err)
	}
	as := Anomalies(x)
	if len(as) != 1 || as[0].Kind != AnomalyShortContent || !strings.Contains(as[0].Text, "after 3 of the record's 8 header bytes") {
		t.Errorf("anomalies of a cut header %+v, want one short-content anomaly naming 3 of 8 bytes", as)
	}
}
