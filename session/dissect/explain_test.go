// Tests that every byte of every record of real exchanges with the demo backend, and of hand-made records of every type, is explained: field, value and spec section; and the field tree built on the same map.

package dissect_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/dissect"
	"fcgiscope/session/sessiontest"
)

// lenKind is the kind of a pair length of the given size on the wire.
func lenKind(one dissect.Kind, size int) dissect.Kind {
	if size == 4 {
		return one + 1
	}
	return one
}

// checkExplained fails unless the spans of rec partition its bytes, each
// named, valued and explained with a spec section, headers as header,
// padding as padding and pair lengths in the form they have on the wire.
func checkExplained(t *testing.T, what string, rec *fcgi.Record) {
	t.Helper()
	spans := dissect.Spans(rec)
	pos := 0
	for _, s := range spans {
		if s.Start != pos || s.End <= s.Start {
			t.Fatalf("%s: span %+v does not follow byte %d", what, s, pos)
		}
		pos = s.End
		if s.Name == "" || s.Value == "" || !strings.Contains(s.Explain, "spec §") {
			t.Errorf("%s: span %q at %d is not explained: value %q, %q", what, s.Name, s.Start, s.Value, s.Explain)
		}
		hdr := s.End <= fcgi.HeaderLen
		if hdr != (s.Kind == dissect.KindHeader) {
			t.Errorf("%s: span %q at %d is %s", what, s.Name, s.Start, s.Kind)
		}
		cEnd := fcgi.HeaderLen + int(rec.Header.ContentLength)
		if (s.Start >= cEnd) != (s.Kind == dissect.KindPadding) {
			t.Errorf("%s: span %q at %d (content ends at %d) is %s", what, s.Name, s.Start, cEnd, s.Kind)
		}
	}
	if pos != len(rec.Raw) {
		t.Fatalf("%s: spans cover %d of %d bytes", what, pos, len(rec.Raw))
	}
	p, ok := rec.Body.(*fcgi.Pairs)
	if !ok {
		return
	}
	lens := map[int][2]dissect.Kind{}
	for _, s := range spans {
		if s.Pair == 0 || s.FromPrev || s.ToNext {
			continue
		}
		k := lens[s.Pair]
		switch s.Kind {
		case dissect.KindNameLen1, dissect.KindNameLen4:
			k[0] = s.Kind
		case dissect.KindValueLen1, dissect.KindValueLen4:
			k[1] = s.Kind
		}
		lens[s.Pair] = k
	}
	for i, f := range p.Fields {
		if f.Offset < 0 {
			continue
		}
		want := [2]dissect.Kind{lenKind(dissect.KindNameLen1, f.NameLenSize), lenKind(dissect.KindValueLen1, f.ValueLenSize)}
		if lens[i+1] != want {
			t.Errorf("%s: pair %d (%q, lengths %d+%d) has spans %v", what, i+1, f.Name, f.NameLenSize, f.ValueLenSize, lens[i+1])
		}
	}
}

// handMadeRecords returns records the lessons do not send: pairs in all
// four length forms, a pair straddling two PARAMS records, odd padding and
// the management records.
func handMadeRecords(t *testing.T) []*fcgi.Record {
	t.Helper()
	var buf bytes.Buffer
	w := fcgi.NewWriter(&buf)
	long := strings.Repeat("n", 200)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteBeginRequest(1, fcgi.RoleFilter, fcgi.FlagKeepConn))
	must(w.WriteParams(1, []fcgi.Pair{{Name: "AB", Value: "1"}, {Name: "B", Value: long}, {Name: long, Value: "v"}, {Name: long, Value: long}}))
	must(w.WriteParams(1, []fcgi.Pair{{Name: "BIG", Value: strings.Repeat("x", 70000)}})) // straddles
	must(w.CloseStream(fcgi.TypeParams, 1))
	must(w.WriteRaw(fcgi.Header{Version: fcgi.Version1, Type: fcgi.TypeStdout, RequestID: 1,
		ContentLength: 3, PaddingLength: 3}, []byte("odd"), []byte{0, 0, 0}))
	must(w.WriteGetValues([]string{fcgi.ValueMaxConns, fcgi.ValueMpxsConns}))
	must(w.WriteGetValuesResult([]fcgi.Pair{{Name: fcgi.ValueMpxsConns, Value: "1"}}))
	must(w.WriteUnknownType(42))
	must(w.WriteAbortRequest(1))
	must(w.WriteEndRequest(1, 7, fcgi.StatusOverloaded))
	r := fcgi.NewReader(&buf)
	var out []*fcgi.Record
	for {
		rec, err := r.ReadRecord()
		if rec == nil {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", len(out), err)
		}
		c := *rec
		c.Raw = bytes.Clone(rec.Raw)
		out = append(out, &c)
	}
	if len(out) < 12 {
		t.Fatalf("%d hand-made records", len(out))
	}
	return out
}

// demoExchanges sends requests to the demo backend that make records of
// every type a responder and a filter exchange: params, a body on STDIN, a
// file on DATA, STDOUT and STDERR, END_REQUEST, and the misbehaving
// records (odd padding, an unknown type, version 2).
func demoExchanges(t *testing.T) []*session.Exchange {
	t.Helper()
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	var xs []*session.Exchange
	send := func(role fcgi.Role, path, query, body, data string) {
		req := &session.Request{Role: role, Params: session.Params{
			{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "SCRIPT_NAME", Value: path},
			{Name: "QUERY_STRING", Value: query}, {Name: "HTTP_X_LONG", Value: strings.Repeat("v", 300)},
			{Name: "CONTENT_LENGTH", Value: fmt.Sprint(len(body))}},
			Body: strings.NewReader(body), BodyLen: int64(len(body))}
		if role == fcgi.RoleFilter {
			req.Data, req.DataLen = strings.NewReader(data), int64(len(data))
			req.Params = append(req.Params, session.Param{Name: "FCGI_DATA_LENGTH", Value: fmt.Sprint(len(data))})
		}
		x := session.NewExchange(session.Input{})
		if err := e.Send(context.Background(), addr, req, x); err != nil {
			t.Logf("%s: %v (its records are checked all the same)", path, err)
		}
		xs = append(xs, x)
	}
	send(fcgi.RoleResponder, "/echo", "", "a=1&b=2", "")
	send(fcgi.RoleFilter, "/echo", "", "body", "the file to filter")
	send(fcgi.RoleResponder, "/stderr", "lines=3", "", "")
	for _, m := range []string{"odd-padding", "unknown-type", "version2", "short-content"} {
		send(fcgi.RoleResponder, demo.MisbehavePrefix+m, "", "", "")
	}
	return xs
}

func TestEveryFieldIsExplained(t *testing.T) {
	seen := map[fcgi.RecordType]bool{}
	for _, x := range demoExchanges(t) {
		for i := 0; i < x.Len(); i++ {
			rec, err := x.Decode(i)
			if rec == nil {
				continue // a record that cannot be framed shows its error instead
			}
			seen[rec.Type] = true
			checkExplained(t, fmt.Sprintf("%s record %d (%s, %v)", x.Target(), i, rec.Type, err), rec)
			checkFields(t, fmt.Sprintf("%s record %d", x.Target(), i), rec)
		}
	}
	for i, rec := range handMadeRecords(t) {
		seen[rec.Type] = true
		checkExplained(t, fmt.Sprintf("hand-made record %d (%s)", i, rec.Type), rec)
		checkFields(t, fmt.Sprintf("hand-made record %d", i), rec)
	}
	for typ := fcgi.TypeBeginRequest; typ <= fcgi.TypeUnknownType; typ++ {
		if !seen[typ] {
			t.Errorf("no %s record was checked", typ)
		}
	}
}

// checkFields fails unless the leaves of the field tree of rec cover its
// bytes in order, each group spans its children, and every line says what
// it is with a spec section.
func checkFields(t *testing.T, what string, rec *fcgi.Record) {
	t.Helper()
	pos := 0
	var walk func(fs []dissect.Field, depth int)
	walk = func(fs []dissect.Field, depth int) {
		for _, f := range fs {
			if f.Name == "" || !strings.Contains(f.Describe(), "spec §") {
				t.Errorf("%s: field %+v is not described: %q", what, f, f.Describe())
			}
			if f.Children == nil {
				if f.Start != pos || f.End <= f.Start {
					t.Fatalf("%s: leaf %q covers [%d,%d), want it to start at %d", what, f.Name, f.Start, f.End, pos)
				}
				pos = f.End
				continue
			}
			if depth > 0 {
				t.Errorf("%s: group %q inside a group", what, f.Name)
			}
			first, last := f.Children[0], f.Children[len(f.Children)-1]
			if first.Start != f.Start || last.End != f.End {
				t.Errorf("%s: group %q covers [%d,%d), its children [%d,%d)", what, f.Name, f.Start, f.End, first.Start, last.End)
			}
			walk(f.Children, depth+1)
		}
	}
	walk(dissect.Fields(rec), 0)
	if pos != len(rec.Raw) {
		t.Fatalf("%s: the leaves cover %d of %d bytes", what, pos, len(rec.Raw))
	}
}

// names lists the names of fields.
func names(fs []dissect.Field) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

func TestFieldsGroupHeaderAndPairs(t *testing.T) {
	end := write(t, func(w *fcgi.Writer) error { return w.WriteEndRequest(1, 3, fcgi.StatusOverloaded) })[0]
	fs := dissect.Fields(end)
	if got, want := strings.Join(names(fs), ","), "header,appStatus,protocolStatus,reserved"; got != want {
		t.Fatalf("END_REQUEST fields %s, want %s", got, want)
	}
	if got, want := strings.Join(names(fs[0].Children), ","), "version,type,requestId,contentLength,paddingLength,reserved"; got != want {
		t.Errorf("header children %s, want %s", got, want)
	}
	if fs[0].Value != "END_REQUEST · request 1 · content 8 · padding 0" {
		t.Errorf("header value %q", fs[0].Value)
	}
	if fs[2].Value != "2 (OVERLOADED)" || !strings.HasPrefix(fs[2].Describe(), "protocolStatus = 2 (OVERLOADED) (bytes 12). ") {
		t.Errorf("protocolStatus %q: %q", fs[2].Value, fs[2].Describe())
	}

	long := strings.Repeat("long value ", 40)
	params := write(t, func(w *fcgi.Writer) error {
		return w.WriteParams(3, []fcgi.Pair{{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php"},
			{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "HTTP_X_LONG", Value: long}, {Name: "EMPTY", Value: ""}})
	})[0]
	fs = dissect.Fields(params)
	if got, want := strings.Join(names(fs), ","), "header,SCRIPT_FILENAME,REQUEST_METHOD,HTTP_X_LONG,EMPTY,paddingData"; got != want {
		t.Fatalf("PARAMS fields %s, want %s", got, want)
	}
	pair := fs[2]
	if pair.Pair != 2 || pair.Start != 8+35 || pair.End != 8+35+2+14+4 || pair.Value != `"POST"` {
		t.Errorf("pair 2 = %+v", pair)
	}
	if d := pair.Describe(); !strings.Contains(d, `"REQUEST_METHOD" = "POST"`) || !strings.Contains(d, "take 1+1 bytes") {
		t.Errorf("pair 2 says %q", d)
	}
	if got, want := strings.Join(names(pair.Children), ","), "nameLength,valueLength,nameData,valueData"; got != want {
		t.Errorf("pair 2 parts %s, want %s", got, want)
	}
	// A long value is cut in its cell and whole in its description.
	x := fs[3]
	if !strings.HasSuffix(x.Value, "… (440 bytes)") || x.Whole != fmt.Sprintf("%q", long) || !strings.Contains(x.Describe(), x.Whole) ||
		!strings.Contains(x.Describe(), "take 1+4 bytes") {
		t.Errorf("the long pair: value %q, whole %q, %q", x.Value, x.Whole, x.Describe())
	}
	if v := x.Children[3]; v.Whole != x.Whole || !strings.Contains(v.Describe(), x.Whole) {
		t.Errorf("the long value's field: %q", v.Describe())
	}
	if fs[4].Value != `""` || len(fs[4].Children) != 3 { // an empty value has no bytes
		t.Errorf("the empty pair: %+v", fs[4])
	}
}

func TestFieldsOfPairsAcrossRecords(t *testing.T) {
	q := strings.Repeat("q", 200)
	pairs := []fcgi.Pair{{Name: "SCRIPT_FILENAME", Value: "/srv/x.php"}, {Name: "Q", Value: q}, {Name: "LAST", Value: "z"}}
	recs := paramsRecords(t, pairs, 27+6+10, 27+6+110) // Q's value over three records
	first := dissect.Fields(recs[0])
	if got, want := strings.Join(names(first), ","), "header,SCRIPT_FILENAME,Q…,paddingData"; got != want {
		t.Fatalf("first record: %s, want %s", got, want)
	}
	if d := first[2].Describe(); !strings.Contains(d, "cut at the end of this record") || !strings.Contains(d, "The next record of this stream completes it.") {
		t.Errorf("the pair cut at the end: %q", d)
	}
	middle := dissect.Fields(recs[1])
	if got, want := strings.Join(names(middle), ","), "header,(middle of a pair),paddingData"; got != want || !strings.Contains(middle[1].Describe(), "middle of a name-value pair") {
		t.Errorf("second record: %s (want %s): %q", got, want, middle[1].Describe())
	}
	last := dissect.Fields(recs[2])
	if got, want := strings.Join(names(last), ","), "header,Q,LAST,paddingData"; got != want {
		t.Fatalf("third record: %s, want %s", got, want)
	}
	if d := last[1].Describe(); !strings.Contains(d, `"Q" = "`+q+`"`) || !strings.Contains(d, "It began in the previous record") {
		t.Errorf("the pair finished here: %q", d)
	}
	for i, rec := range recs {
		checkFields(t, fmt.Sprintf("PARAMS record %d", i), rec)
	}
	if dissect.Fields(nil) != nil {
		t.Error("Fields(nil) is not nil")
	}
}

func TestStdoutSpan(t *testing.T) {
	s := dissect.StdoutSpan(7, 100, 164)
	if s.Name != "STDOUT record 7" || s.Value != "bytes 100–163 of stdout" || s.Len() != 64 || !s.Contains(163) || s.Contains(164) ||
		!strings.Contains(s.Explain, "spec §5.3") || s.Kind != dissect.KindContent {
		t.Errorf("StdoutSpan = %+v", s)
	}
	if dissect.ByteRange(4, 5) != "4" || dissect.ByteRange(4, 8) != "4–7" {
		t.Errorf("ByteRange: %q %q", dissect.ByteRange(4, 5), dissect.ByteRange(4, 8))
	}
}
