// Fuzzing the name-value pair decoder: parsePairs on a whole stream and the
// Reader on the same stream cut into PARAMS records must agree.

package fcgi

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"reflect"
	"runtime/metrics"
	"strings"
	"testing"
)

// FuzzPairs decodes arbitrary bytes as a name-value pair stream twice: whole
// with parsePairs, and cut into PARAMS records at points chosen by cuts and
// read by a Reader. Both must give the same pairs and agree on whether the
// stream ends inside a pair; every PairField must point at the bytes of its
// pair; re-encoding the pairs must decode to the same pairs; and decoding
// may allocate only in proportion to the input, whatever lengths the input
// claims. Nothing may panic.
func FuzzPairs(f *testing.F) {
	for _, s := range pairSeeds() {
		f.Add(s.in, s.cuts)
	}
	f.Fuzz(func(t *testing.T, in, cuts []byte) {
		checkPairs(t, in, cuts)
	})
}

type pairSeed struct {
	in, cuts []byte
}

// pairSeeds are streams that exercise each length form, straddling, the
// largest claimed lengths and truncation.
func pairSeeds() []pairSeed {
	long := strings.Repeat("v", 200)
	return []pairSeed{
		{nil, nil},
		{AppendPairs(nil, []Pair{{"SCRIPT_NAME", "/index.php"}, {"A", ""}, {"", "b"}}), []byte{3, 1, 7}},
		{AppendPairs(nil, []Pair{{"N", long}, {long, "x"}, {long, long}}), []byte{1, 2, 3, 200, 5}},
		// 4-byte form for a short length (not canonical, still valid).
		{[]byte{0x80, 0, 0, 1, 0x80, 0, 0, 2, 'a', 'b', 'c'}, []byte{2}},
		// Claimed lengths of 2^31-1: must not be allocated.
		{[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 'x'}, []byte{1}},
		{[]byte{1, 0xff, 0xff, 0xff, 0xff, 'n'}, nil},
		// Cut inside a length field and inside a value.
		{[]byte{5, 0x80, 0}, []byte{1}},
		{[]byte{1, 3, 'N', 'a'}, nil},
		// Duplicates, in order.
		{AppendPairs(nil, []Pair{{"X", "1"}, {"X", "2"}, {"X", "1"}}), []byte{0, 0, 0, 0}},
	}
}

// checkPairs is the body of FuzzPairs.
func checkPairs(t *testing.T, in, cuts []byte) {
	t.Helper()
	before := totalAlloc()
	want, wantErr := parsePairs(in)
	if grew := totalAlloc() - before; grew > maxPairAlloc(len(in)) {
		t.Fatalf("parsePairs of %d bytes allocated %d bytes", len(in), grew)
	}

	// parsePairs against a reference decoder written from the spec.
	ref, truncated := refPairs(in)
	if len(ref) != len(want) {
		t.Fatalf("parsePairs gave %d pairs, the reference %d", len(want), len(ref))
	}
	for i, p := range ref {
		if want[i] != p.Pair {
			t.Fatalf("pair %d: parsePairs %q, reference %q", i, want[i], p.Pair)
		}
	}
	if truncated != (wantErr != nil) || wantErr != nil && !errors.Is(wantErr, errPairTruncated) {
		t.Fatalf("parsePairs error %v; the reference says truncated=%v", wantErr, truncated)
	}
	again, err := parsePairs(AppendPairs(nil, want))
	if err != nil || !equalPairs(again, want) {
		t.Fatalf("re-encoded pairs decode to %q, %v; want %q", again, err, want)
	}

	// The same stream as PARAMS records cut at the chosen points.
	stream, starts := paramsRecords(in, cuts)
	r := NewReader(bytes.NewReader(stream))
	r.setMaxPairLen(len(in) + 1) // the limit is tested below
	var got []Pair
	var streamErr error
	for i := 0; ; i++ {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if rec == nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if err != nil {
			if !errors.Is(err, ErrBody) {
				t.Fatalf("record %d: error %v is not ErrBody", i, err)
			}
			if i != len(starts) {
				t.Fatalf("record %d of %d: %v (only the closing record may fail)", i, len(starts)+1, err)
			}
			streamErr = err
		}
		ps, ok := rec.Body.(*Pairs)
		if !ok {
			t.Fatalf("record %d: body %T, want *Pairs", i, rec.Body)
		}
		if ps.Carried < 0 || ps.Pending < 0 || ps.Carried+ps.Pending > len(rec.Content()) {
			t.Fatalf("record %d: carried %d + pending %d over content %d", i, ps.Carried, ps.Pending, len(rec.Content()))
		}
		if i < len(starts) {
			c, p := refCarriedPending(ref, truncated, len(in), starts, i)
			if ps.Carried != c || ps.Pending != p {
				t.Fatalf("record %d (stream bytes %v): carried %d, pending %d; want %d, %d", i, starts, ps.Carried, ps.Pending, c, p)
			}
		}
		for _, fld := range ps.Fields {
			if len(got) < len(ref) {
				checkField(t, starts, i, fld, ref[len(got)])
			}
			got = append(got, fld.Pair)
		}
	}
	if !equalPairs(got, want) {
		t.Fatalf("records cut at %v give %q, parsePairs %q", starts, got, want)
	}
	if (streamErr != nil) != (wantErr != nil) {
		t.Fatalf("stream error %v, parsePairs error %v", streamErr, wantErr)
	}

	// A pair longer than the Reader's limit is refused, not assembled.
	if len(in) > 0 {
		r := NewReader(bytes.NewReader(stream))
		r.setMaxPairLen(1)
		for {
			rec, err := r.ReadRecord()
			if rec == nil {
				if err != io.EOF {
					t.Fatalf("limited reader: %v", err)
				}
				break
			}
		}
	}
}

// checkField checks that fld, decoded from record rec, lies where the
// reference decoder found it: its Offset (relative to the record's content,
// negative when it began in an earlier record) and its length field sizes.
func checkField(t *testing.T, starts []int, rec int, fld PairField, want refPair) {
	t.Helper()
	if rec >= len(starts) {
		t.Fatalf("record %d: the closing record has no content, yet completes %q", rec, fld.Pair)
	}
	if pos := starts[rec] + fld.Offset; pos != want.pos {
		t.Fatalf("record %d: field %q at offset %d = stream byte %d; the reference has it at %d", rec, fld.Pair, fld.Offset, pos, want.pos)
	}
	if fld.NameLenSize != want.nameLenSize || fld.ValueLenSize != want.valueLenSize {
		t.Fatalf("record %d: field %q: length field sizes %d/%d, on the wire %d/%d", rec, fld.Pair,
			fld.NameLenSize, fld.ValueLenSize, want.nameLenSize, want.valueLenSize)
	}
}

// refPair is a pair as the reference decoder found it.
type refPair struct {
	Pair
	pos, nameLenSize, valueLenSize int
}

// refPairs decodes in the plain way spec §3.4 describes, as an oracle: it
// reports whether the input ends inside a pair.
func refPairs(in []byte) (out []refPair, truncated bool) {
	length := func(b []byte) (n uint32, size int) {
		switch {
		case len(b) >= 1 && b[0] < 0x80:
			return uint32(b[0]), 1
		case len(b) >= 4:
			return binary.BigEndian.Uint32(b) & 0x7fffffff, 4
		}
		return 0, 0
	}
	for pos := 0; pos < len(in); {
		nl, ns := length(in[pos:])
		if ns == 0 {
			return out, true
		}
		vl, vs := length(in[pos+ns:])
		if vs == 0 {
			return out, true
		}
		body := pos + ns + vs
		if uint64(nl)+uint64(vl) > uint64(len(in)-body) {
			return out, true
		}
		name := string(in[body : body+int(nl)])
		value := string(in[body+int(nl) : body+int(nl)+int(vl)])
		out = append(out, refPair{Pair{name, value}, pos, ns, vs})
		pos = body + int(nl) + int(vl)
	}
	return out, false
}

// refCarriedPending returns what Pairs.Carried and Pairs.Pending must be for
// record rec: the bytes at the start of its content that continue a pair
// begun in an earlier record, and the bytes at its end that begin a pair (or
// the unfinished tail of a truncated stream) that goes on past it.
func refCarriedPending(ref []refPair, truncated bool, n int, starts []int, rec int) (carried, pending int) {
	type span struct{ from, to int }
	var spans []span
	last := 0
	for _, p := range ref {
		end := p.pos + p.nameLenSize + p.valueLenSize + len(p.Name) + len(p.Value)
		spans = append(spans, span{p.pos, end})
		last = end
	}
	if truncated {
		spans = append(spans, span{last, n + 1}) // never ends
	}
	from, to := starts[rec], n
	if rec+1 < len(starts) {
		to = starts[rec+1]
	}
	for _, s := range spans {
		switch {
		case s.from < from && s.to > from:
			carried = min(s.to, to) - from
		case s.from >= from && s.from < to && s.to > to:
			pending = to - s.from
		}
	}
	return carried, pending
}

// paramsRecords cuts in into PARAMS records for request 1 (each cut taken
// from cuts, at least one byte, at most MaxContent) followed by the empty
// record that closes the stream. It returns the records and the offset in
// in where each non-empty record's content starts.
func paramsRecords(in, cuts []byte) ([]byte, []int) {
	var out []byte
	var starts []int
	rec := func(content []byte) {
		var h [HeaderLen]byte
		h[0], h[1] = Version1, byte(TypeParams)
		binary.BigEndian.PutUint16(h[2:], 1)
		binary.BigEndian.PutUint16(h[4:], uint16(len(content)))
		out = append(append(out, h[:]...), content...)
	}
	for pos, i := 0, 0; pos < len(in); i++ {
		n := len(in) - pos
		if i < len(cuts) {
			n = int(cuts[i])%n + 1
		}
		n = min(n, MaxContent)
		starts = append(starts, pos)
		rec(in[pos : pos+n])
		pos += n
	}
	rec(nil)
	return out, starts
}

func equalPairs(a, b []Pair) bool {
	return len(a) == len(b) && (len(a) == 0 || reflect.DeepEqual(a, b))
}

// maxPairAlloc bounds what decoding n bytes may allocate: the strings (at
// most n bytes), the slice of pairs (each takes at least 2 input bytes)
// grown by doubling, and slack for the runtime.
func maxPairAlloc(n int) uint64 { return uint64(64*n + 1<<20) }

// totalAlloc returns the bytes allocated on the heap so far. Small
// allocations may be counted late (per-P caches), large ones never are:
// enough to catch a decoder trusting a claimed length.
func totalAlloc() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestPairFieldNonCanonicalLength: a length below 128 may be sent in the
// 4-byte form (spec §3.4 only says lengths of 128 and more need it, and
// some clients always use it). A PairField must report the sizes the length
// fields have on the wire, so that the inspector marks the right bytes.
func TestPairFieldNonCanonicalLength(t *testing.T) {
	in := []byte{0x80, 0, 0, 1, 0x80, 0, 0, 2, 'a', 'b', 'c'}
	stream, starts := paramsRecords(in, []byte{4}) // the pair straddles two records
	r := NewReader(bytes.NewReader(stream))
	var fields []PairField
	var carried []int
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		ps := rec.Body.(*Pairs)
		fields = append(fields, ps.Fields...)
		carried = append(carried, ps.Carried)
	}
	if len(fields) != 1 {
		t.Fatalf("%d fields, want 1", len(fields))
	}
	f := fields[0]
	if f.NameLenSize != 4 || f.ValueLenSize != 4 || f.Len() != len(in) || f.Offset != -5 {
		t.Errorf("field %+v: want sizes 4/4, Len %d, Offset -5", f, len(in))
	}
	if want := []int{0, len(in) - starts[1], 0}; !reflect.DeepEqual(carried, want) {
		t.Errorf("carried per record %v, want %v", carried, want)
	}
}

// TestPairsHugeClaimedLength is a named row for what FuzzPairs checks on
// every input: a length field claiming 2^31-1 bytes is neither trusted nor
// allocated, by parsePairs or by a Reader over split records.
func TestPairsHugeClaimedLength(t *testing.T) {
	for _, s := range pairSeeds() {
		checkPairs(t, s.in, s.cuts)
	}
	in := []byte{0xff, 0xff, 0xff, 0xff, 0x01, 'x'}
	ps, err := parsePairs(in)
	if !errors.Is(err, errPairTruncated) || len(ps) != 0 {
		t.Fatalf("parsePairs(%x) = %q, %v; want no pair and errPairTruncated", in, ps, err)
	}
}
