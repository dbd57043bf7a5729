// Byte-exact tables of the byte map (Spans) of every record type, pairs in all length forms and straddling records, malformed records, and a fuzz target.

package dissect_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/session/dissect"
)

// readAll decodes every record of stream, each copied so that it outlives
// the next ReadRecord.
func readAll(t *testing.T, stream []byte) []*fcgi.Record {
	t.Helper()
	r := fcgi.NewReader(bytes.NewReader(stream))
	var out []*fcgi.Record
	for {
		rec, err := r.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out
		}
		var re *fcgi.RecordError
		if err != nil && !errors.As(err, &re) {
			t.Fatalf("ReadRecord: %v", err)
		}
		if rec == nil {
			t.Fatalf("ReadRecord: %v", err)
		}
		c := *rec
		c.Raw = bytes.Clone(rec.Raw)
		out = append(out, &c)
	}
}

// write runs f on a Writer and decodes what it wrote.
func write(t *testing.T, f func(w *fcgi.Writer) error) []*fcgi.Record {
	t.Helper()
	var buf bytes.Buffer
	if err := f(fcgi.NewWriter(&buf)); err != nil {
		t.Fatal(err)
	}
	return readAll(t, buf.Bytes())
}

// sp is the part of a Span that the byte-exact tables compare.
type sp struct {
	start, end int
	kind       dissect.Kind
	name       string
	pair       int
	prev, next bool
}

func headerSpans(kind dissect.Kind) []sp {
	return []sp{
		{0, 1, kind, "version", 0, false, false},
		{1, 2, kind, "type", 0, false, false},
		{2, 3, kind, "requestIdB1", 0, false, false},
		{3, 4, kind, "requestIdB0", 0, false, false},
		{4, 5, kind, "contentLengthB1", 0, false, false},
		{5, 6, kind, "contentLengthB0", 0, false, false},
		{6, 7, kind, "paddingLength", 0, false, false},
		{7, 8, kind, "reserved", 0, false, false},
	}
}

// pairSpans lists the four spans of a whole pair starting at off.
func pairSpans(pair, off, nls, vls, nl, vl int) []sp {
	nk, vk := dissect.KindNameLen1, dissect.KindValueLen1
	if nls == 4 {
		nk = dissect.KindNameLen4
	}
	if vls == 4 {
		vk = dissect.KindValueLen4
	}
	out := []sp{
		{off, off + nls, nk, "nameLength", pair, false, false},
		{off + nls, off + nls + vls, vk, "valueLength", pair, false, false},
		{off + nls + vls, off + nls + vls + nl, dissect.KindName, "nameData", pair, false, false},
	}
	if vl > 0 {
		out = append(out, sp{off + nls + vls + nl, off + nls + vls + nl + vl, dissect.KindValue, "valueData", pair, false, false})
	}
	return out
}

func concat(parts ...[]sp) []sp {
	var out []sp
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// checkSpans compares the spans of rec with want and checks the invariants
// every layout keeps: spans partition Raw, and each is explained.
func checkSpans(t *testing.T, rec *fcgi.Record, want []sp) {
	t.Helper()
	got := dissect.Spans(rec)
	checkPartition(t, rec, got)
	var g []sp
	for _, s := range got {
		g = append(g, sp{s.Start, s.End, s.Kind, s.Name, s.Pair, s.FromPrev, s.ToNext})
	}
	if len(g) != len(want) {
		t.Errorf("%d spans, want %d:\ngot  %v\nwant %v", len(g), len(want), g, want)
		return
	}
	for i := range g {
		if g[i] != want[i] {
			t.Errorf("span %d = %+v, want %+v", i, g[i], want[i])
		}
	}
}

func checkPartition(t *testing.T, rec *fcgi.Record, spans []dissect.Span) {
	t.Helper()
	pos := 0
	for i, s := range spans {
		if s.Start != pos || s.End <= s.Start {
			t.Fatalf("span %d (%s) covers [%d,%d), want it to start at %d and be non-empty", i, s.Name, s.Start, s.End, pos)
		}
		if !strings.Contains(s.Explain, "spec §") || s.Name == "" || s.Value == "" {
			t.Errorf("span %d (%s) lacks a name, value or spec section: %+v", i, s.Name, s)
		}
		pos = s.End
	}
	if pos != len(rec.Raw) {
		t.Fatalf("spans end at %d, record has %d bytes", pos, len(rec.Raw))
	}
}

func TestSpansFixedBodies(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *fcgi.Writer) error
		raw   []byte
		want  []sp
	}{
		{
			name:  "BEGIN_REQUEST",
			write: func(w *fcgi.Writer) error { return w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn) },
			raw:   []byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0},
			want: concat(headerSpans(dissect.KindHeader), []sp{
				{8, 9, dissect.KindBodyField, "roleB1", 0, false, false},
				{9, 10, dissect.KindBodyField, "roleB0", 0, false, false},
				{10, 11, dissect.KindBodyField, "flags", 0, false, false},
				{11, 16, dissect.KindBodyField, "reserved", 0, false, false},
			}),
		},
		{
			name:  "END_REQUEST",
			write: func(w *fcgi.Writer) error { return w.WriteEndRequest(258, 0x01020304, fcgi.StatusOverloaded) },
			raw:   []byte{1, 3, 1, 2, 0, 8, 0, 0, 1, 2, 3, 4, 2, 0, 0, 0},
			want: concat(headerSpans(dissect.KindHeader), []sp{
				{8, 9, dissect.KindBodyField, "appStatusB3", 0, false, false},
				{9, 10, dissect.KindBodyField, "appStatusB2", 0, false, false},
				{10, 11, dissect.KindBodyField, "appStatusB1", 0, false, false},
				{11, 12, dissect.KindBodyField, "appStatusB0", 0, false, false},
				{12, 13, dissect.KindBodyField, "protocolStatus", 0, false, false},
				{13, 16, dissect.KindBodyField, "reserved", 0, false, false},
			}),
		},
		{
			name:  "UNKNOWN_TYPE",
			write: func(w *fcgi.Writer) error { return w.WriteUnknownType(42) },
			raw:   []byte{1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0},
			want: concat(headerSpans(dissect.KindHeader), []sp{
				{8, 9, dissect.KindBodyField, "type", 0, false, false},
				{9, 16, dissect.KindBodyField, "reserved", 0, false, false},
			}),
		},
		{
			name:  "ABORT_REQUEST",
			write: func(w *fcgi.Writer) error { return w.WriteAbortRequest(7) },
			raw:   []byte{1, 2, 0, 7, 0, 0, 0, 0},
			want:  headerSpans(dissect.KindHeader),
		},
		{
			name:  "STDOUT with padding",
			write: func(w *fcgi.Writer) error { return w.WriteStream(fcgi.TypeStdout, 1, []byte("hello")) },
			raw:   []byte{1, 6, 0, 1, 0, 5, 3, 0, 'h', 'e', 'l', 'l', 'o', 0, 0, 0},
			want: concat(headerSpans(dissect.KindHeader), []sp{
				{8, 13, dissect.KindContent, "stdout data", 0, false, false},
				{13, 16, dissect.KindPadding, "paddingData", 0, false, false},
			}),
		},
		{
			name:  "empty STDIN closes the stream",
			write: func(w *fcgi.Writer) error { return w.CloseStream(fcgi.TypeStdin, 1) },
			raw:   []byte{1, 5, 0, 1, 0, 0, 0, 0},
			want:  headerSpans(dissect.KindHeader),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := write(t, tc.write)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			if !bytes.Equal(recs[0].Raw, tc.raw) {
				t.Fatalf("raw % x, want % x", recs[0].Raw, tc.raw)
			}
			checkSpans(t, recs[0], tc.want)
		})
	}
}

func TestSpansValuesName(t *testing.T) {
	recs := write(t, func(w *fcgi.Writer) error { return w.WriteEndRequest(1, 0, fcgi.StatusUnknownRole) })
	spans := dissect.Spans(recs[0])
	byName := map[string]dissect.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	for name, want := range map[string]string{
		"type":           "3 (END_REQUEST)",
		"protocolStatus": "3 (UNKNOWN_ROLE)",
		"requestIdB0":    "0x01, part of requestId = 1",
	} {
		if got := byName[name].Value; got != want {
			t.Errorf("%s value = %q, want %q", name, got, want)
		}
	}
	if s := byName["requestIdB1"]; !strings.Contains(s.Explain, "Most significant byte") || !strings.Contains(s.Explain, "spec §3.3") {
		t.Errorf("requestIdB1 explanation = %q", s.Explain)
	}
}

func TestSpansPairs(t *testing.T) {
	long := strings.Repeat("N", 200)
	big := strings.Repeat("v", 300)
	pairs := []fcgi.Pair{{Name: "A", Value: "bc"}, {Name: long, Value: "v"}, {Name: "X", Value: big}, {Name: long, Value: big}}
	recs := write(t, func(w *fcgi.Writer) error { return w.WriteParams(1, pairs) })
	if len(recs) != 2 {
		t.Fatalf("%d records, want the PARAMS record and the empty one", len(recs))
	}
	// 5 + 206 + 306 + 508 = 1025 content bytes, padded with 7.
	want := concat(headerSpans(dissect.KindHeader),
		pairSpans(1, 8, 1, 1, 1, 2),
		pairSpans(2, 13, 4, 1, 200, 1),
		pairSpans(3, 219, 1, 4, 1, 300),
		pairSpans(4, 525, 4, 4, 200, 300),
		[]sp{{1033, 1040, dissect.KindPadding, "paddingData", 0, false, false}},
	)
	checkSpans(t, recs[0], want)
	checkSpans(t, recs[1], headerSpans(dissect.KindHeader))

	// GET_VALUES: names with empty values, so no valueData spans.
	recs = write(t, func(w *fcgi.Writer) error {
		return w.WriteGetValues([]string{fcgi.ValueMaxConns, fcgi.ValueMpxsConns})
	})
	checkSpans(t, recs[0], concat(headerSpans(dissect.KindHeader),
		pairSpans(1, 8, 1, 1, 14, 0),
		pairSpans(2, 24, 1, 1, 15, 0),
		[]sp{{41, 48, dissect.KindPadding, "paddingData", 0, false, false}},
	))
}

// paramsRecords writes the encoded pairs as PARAMS records cut at the given
// content offsets, then the empty record.
func paramsRecords(t *testing.T, pairs []fcgi.Pair, cuts ...int) []*fcgi.Record {
	t.Helper()
	enc := fcgi.AppendPairs(nil, pairs)
	return write(t, func(w *fcgi.Writer) error {
		prev := 0
		for _, c := range append(cuts, len(enc)) {
			if err := w.WriteRecord(fcgi.TypeParams, 1, enc[prev:c]); err != nil {
				return err
			}
			prev = c
		}
		return w.CloseStream(fcgi.TypeParams, 1)
	})
}

func TestSpansPairStraddlingRecords(t *testing.T) {
	q := strings.Repeat("q", 200)
	pairs := []fcgi.Pair{{Name: "SCRIPT_FILENAME", Value: "/srv/x.php"}, {Name: "Q", Value: q}, {Name: "LAST", Value: "z"}}
	// Encoded: pair 1 at 0 (1+1+15+10 = 27 bytes), pair 2 at 27 (1+4+1+200 = 206 bytes), pair 3 at 233 (1+1+4+1).

	t.Run("cut inside a value", func(t *testing.T) {
		recs := paramsRecords(t, pairs, 27+6+50) // 50 bytes of Q's value in the first record
		checkSpans(t, recs[0], concat(headerSpans(dissect.KindHeader),
			pairSpans(1, 8, 1, 1, 15, 10),
			[]sp{
				{35, 36, dissect.KindNameLen1, "nameLength", 2, false, true},
				{36, 40, dissect.KindValueLen4, "valueLength", 2, false, true},
				{40, 41, dissect.KindName, "nameData", 2, false, true},
				{41, 91, dissect.KindValue, "valueData", 2, false, true},
				{91, 96, dissect.KindPadding, "paddingData", 0, false, false},
			}))
		// The second record: 150 more bytes of the value, then pair 3.
		checkSpans(t, recs[1], concat(headerSpans(dissect.KindHeader),
			[]sp{{8, 158, dissect.KindValue, "valueData", 1, true, false}},
			pairSpans(2, 158, 1, 1, 4, 1),
			[]sp{{165, 168, dissect.KindPadding, "paddingData", 0, false, false}},
		))
		if s := dissect.Spans(recs[1])[8]; !strings.Contains(s.Explain, "first 50 of its 200 bytes") {
			t.Errorf("carried value explanation = %q", s.Explain)
		}
	})

	t.Run("cut inside a 4-byte length", func(t *testing.T) {
		recs := paramsRecords(t, pairs, 27+3) // name length and 2 of the 4 value length bytes
		checkSpans(t, recs[0], concat(headerSpans(dissect.KindHeader),
			pairSpans(1, 8, 1, 1, 15, 10),
			[]sp{
				{35, 36, dissect.KindNameLen1, "nameLength", 2, false, true},
				{36, 38, dissect.KindValueLen4, "valueLength", 2, false, true},
				{38, 40, dissect.KindPadding, "paddingData", 0, false, false},
			}))
		checkSpans(t, recs[1], concat(headerSpans(dissect.KindHeader),
			[]sp{
				{8, 10, dissect.KindValueLen4, "valueLength", 1, true, false},
				{10, 11, dissect.KindName, "nameData", 1, true, false},
				{11, 211, dissect.KindValue, "valueData", 1, true, false},
			},
			pairSpans(2, 211, 1, 1, 4, 1),
			[]sp{{218, 224, dissect.KindPadding, "paddingData", 0, false, false}},
		))
	})

	t.Run("a pair over three records", func(t *testing.T) {
		recs := paramsRecords(t, pairs, 27+6+10, 27+6+110)
		checkSpans(t, recs[1], concat(headerSpans(dissect.KindHeader),
			[]sp{{8, 108, dissect.KindFragment, "pairFragment", 0, true, true}},
			[]sp{{108, 112, dissect.KindPadding, "paddingData", 0, false, false}},
		))
		checkSpans(t, recs[2], concat(headerSpans(dissect.KindHeader),
			[]sp{{8, 98, dissect.KindValue, "valueData", 1, true, false}},
			pairSpans(2, 98, 1, 1, 4, 1),
			[]sp{{105, 112, dissect.KindPadding, "paddingData", 0, false, false}},
		))
	})

	t.Run("Writer splits a long value at 65535", func(t *testing.T) {
		big := strings.Repeat("b", 70000)
		recs := write(t, func(w *fcgi.Writer) error {
			return w.WriteParams(1, []fcgi.Pair{{Name: "A", Value: "1"}, {Name: "BIG", Value: big}})
		})
		if len(recs) != 3 {
			t.Fatalf("%d records, want 3", len(recs))
		}
		// Pair 2 starts at content offset 4: 1+4+3 bytes of lengths and name, then 65524 value bytes.
		checkSpans(t, recs[0], concat(headerSpans(dissect.KindHeader),
			pairSpans(1, 8, 1, 1, 1, 1),
			[]sp{
				{12, 13, dissect.KindNameLen1, "nameLength", 2, false, true},
				{13, 17, dissect.KindValueLen4, "valueLength", 2, false, true},
				{17, 20, dissect.KindName, "nameData", 2, false, true},
				{20, 65543, dissect.KindValue, "valueData", 2, false, true},
				{65543, 65544, dissect.KindPadding, "paddingData", 0, false, false},
			}))
		rest := 70000 - (65535 - 12)
		checkSpans(t, recs[1], concat(headerSpans(dissect.KindHeader),
			[]sp{{8, 8 + rest, dissect.KindValue, "valueData", 1, true, false}},
			[]sp{{8 + rest, 8 + rest + int(fcgi.PaddingFor(rest)), dissect.KindPadding, "paddingData", 0, false, false}},
		))
	})
}

func TestSpansMalformedRecords(t *testing.T) {
	// A BEGIN_REQUEST body of 5 bytes does not decode: it shows as content.
	recs := write(t, func(w *fcgi.Writer) error {
		return w.WriteRaw(fcgi.Header{Version: 1, Type: fcgi.TypeBeginRequest, RequestID: 1, ContentLength: 5, PaddingLength: 1},
			[]byte{0, 1, 0, 0, 0}, []byte{0})
	})
	checkSpans(t, recs[0], concat(headerSpans(dissect.KindHeader), []sp{
		{8, 13, dissect.KindContent, "contentData", 0, false, false},
		{13, 14, dissect.KindPadding, "paddingData", 0, false, false},
	}))

	// A header that claims more content than Raw holds, and a cut header.
	short := &fcgi.Record{Header: fcgi.Header{Version: 1, Type: fcgi.TypeStdout, RequestID: 1, ContentLength: 100}, Raw: []byte{1, 6, 0, 1, 0, 100, 0, 0, 'a', 'b'}}
	checkSpans(t, short, concat(headerSpans(dissect.KindHeader), []sp{{8, 10, dissect.KindContent, "stdout data", 0, false, false}}))
	cut := &fcgi.Record{Header: fcgi.Header{Version: 1, Type: fcgi.TypeStdout}, Raw: []byte{1, 6, 0}}
	checkSpans(t, cut, headerSpans(dissect.KindHeader)[:3])
	if dissect.Spans(nil) != nil {
		t.Error("Spans(nil) is not nil")
	}
}

// FuzzSpans checks that any record the Reader frames gets a layout that
// covers its bytes exactly once, without panicking.
func FuzzSpans(f *testing.F) {
	var seed bytes.Buffer
	w := fcgi.NewWriter(&seed)
	_ = w.WriteBeginRequest(1, fcgi.RoleFilter, 0)
	_ = w.WriteParams(1, []fcgi.Pair{{Name: "A", Value: strings.Repeat("x", 130)}})
	_ = w.WriteGetValues([]string{fcgi.ValueMaxReqs})
	_ = w.WriteEndRequest(1, 1, fcgi.StatusRequestComplete)
	f.Add(seed.Bytes())
	f.Add([]byte{1, 4, 0, 1, 0, 3, 0, 0, 0x80, 0, 0})
	f.Add([]byte{1, 9, 0, 0, 0, 2, 0, 0, 5, 0})
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := fcgi.NewReader(bytes.NewReader(stream))
		for range 64 {
			rec, err := r.ReadRecord()
			if rec == nil {
				var re *fcgi.RecordError
				if errors.As(err, &re) && re.Partial != nil {
					part := &fcgi.Record{Header: re.Header, Raw: re.Partial}
					checkPartition(t, part, dissect.Spans(part))
				}
				return
			}
			checkPartition(t, rec, dissect.Spans(rec))
		}
	})
}
