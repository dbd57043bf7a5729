package fcgi

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func hexBytes(t *testing.T, parts ...any) []byte {
	t.Helper()
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = append(b, byte(v))
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		default:
			t.Fatalf("bad part %T", p)
		}
	}
	return b
}

// TestWriterBytes pins the exact bytes of every record the Writer builds.
func TestWriterBytes(t *testing.T) {
	tests := []struct {
		name  string
		write func(w *Writer) error
		want  []any
	}{
		{"begin responder keep-conn", func(w *Writer) error { return w.WriteBeginRequest(1, RoleResponder, FlagKeepConn) },
			[]any{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0}},
		{"begin filter id 0x0102", func(w *Writer) error { return w.WriteBeginRequest(0x0102, RoleFilter, 0) },
			[]any{1, 1, 1, 2, 0, 8, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0}},
		{"begin authorizer", func(w *Writer) error { return w.WriteBeginRequest(7, RoleAuthorizer, 0) },
			[]any{1, 1, 0, 7, 0, 8, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0}},
		{"abort", func(w *Writer) error { return w.WriteAbortRequest(3) },
			[]any{1, 2, 0, 3, 0, 0, 0, 0}},
		{"end request overloaded", func(w *Writer) error { return w.WriteEndRequest(1, 0x01020304, StatusOverloaded) },
			[]any{1, 3, 0, 1, 0, 8, 0, 0, 1, 2, 3, 4, 2, 0, 0, 0}},
		{"params one pair padded", func(w *Writer) error { return w.WriteRecord(TypeParams, 1, appendPair(nil, Pair{"A", "bc"})) },
			[]any{1, 4, 0, 1, 0, 5, 3, 0, 1, 2, "Abc", 0, 0, 0}},
		{"stdin empty closes stream", func(w *Writer) error { return w.CloseStream(TypeStdin, 1) },
			[]any{1, 5, 0, 1, 0, 0, 0, 0}},
		{"stdout 8 bytes no padding", func(w *Writer) error { return w.WriteRecord(TypeStdout, 1, []byte("12345678")) },
			[]any{1, 6, 0, 1, 0, 8, 0, 0, "12345678"}},
		{"stderr 1 byte pads 7", func(w *Writer) error { return w.WriteRecord(TypeStderr, 1, []byte("x")) },
			[]any{1, 7, 0, 1, 0, 1, 7, 0, "x", 0, 0, 0, 0, 0, 0, 0}},
		{"data", func(w *Writer) error { return w.WriteRecord(TypeData, 2, []byte("abcd")) },
			[]any{1, 8, 0, 2, 0, 4, 4, 0, "abcd", 0, 0, 0, 0}},
		{"get values", func(w *Writer) error { return w.WriteGetValues([]string{"FCGI_MPXS_CONNS"}) },
			[]any{1, 9, 0, 0, 0, 17, 7, 0, 15, 0, "FCGI_MPXS_CONNS", 0, 0, 0, 0, 0, 0, 0}},
		{"get values result", func(w *Writer) error { return w.WriteGetValuesResult([]Pair{{"FCGI_MPXS_CONNS", "1"}}) },
			[]any{1, 10, 0, 0, 0, 18, 6, 0, 15, 1, "FCGI_MPXS_CONNS", "1", 0, 0, 0, 0, 0, 0}},
		{"unknown type", func(w *Writer) error { return w.WriteUnknownType(42) },
			[]any{1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0}},
		{"illegal: version 2, lying length, odd padding", func(w *Writer) error {
			w.AllowIllegalWrites = true
			return w.WriteRaw(Header{Version: 2, Type: TypeStdout, RequestID: 1, ContentLength: 100, PaddingLength: 3},
				[]byte("hi"), []byte{9})
		}, []any{2, 6, 0, 1, 0, 100, 3, 0, "hi", 9}},
		{"raw: unknown type 200, odd padding", func(w *Writer) error {
			return w.WriteRaw(Header{Version: 1, Type: 200, RequestID: 1, ContentLength: 1, PaddingLength: 2}, []byte{7}, []byte{0, 0})
		}, []any{1, 200, 0, 1, 0, 1, 2, 0, 7, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.write(NewWriter(&buf)); err != nil {
				t.Fatal(err)
			}
			if want := hexBytes(t, tt.want...); !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("bytes\n got % x\nwant % x", buf.Bytes(), want)
			}
		})
	}
}

// TestPairLengthForms covers the four combinations of 1- and 4-byte lengths
// (spec §3.4), byte for byte, and their decoding.
func TestPairLengthForms(t *testing.T) {
	long := strings.Repeat("v", 200)  // 200 = 0x000000c8
	longN := strings.Repeat("N", 128) // 128 is the first 4-byte length
	tests := []struct {
		name string
		p    Pair
		want []any
	}{
		{"1/1", Pair{"AB", "c"}, []any{2, 1, "AB", "c"}},
		{"1/4", Pair{"A", long}, []any{1, 0x80, 0, 0, 200, "A", long}},
		{"4/1", Pair{longN, "x"}, []any{0x80, 0, 0, 128, 1, longN, "x"}},
		{"4/4", Pair{longN, long}, []any{0x80, 0, 0, 128, 0x80, 0, 0, 200, longN, long}},
		{"1/1 127 boundary", Pair{strings.Repeat("n", 127), ""}, []any{127, 0, strings.Repeat("n", 127)}},
		{"empty/empty", Pair{"", ""}, []any{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendPair(nil, tt.p)
			want := hexBytes(t, tt.want...)
			if !bytes.Equal(got, want) {
				t.Fatalf("encode\n got % x\nwant % x", got, want)
			}
			if pairLen(tt.p) != len(want) {
				t.Errorf("PairLen = %d, want %d", pairLen(tt.p), len(want))
			}
			ps, err := parsePairs(got)
			if err != nil || len(ps) != 1 || ps[0] != tt.p {
				t.Errorf("decode = %v, %v", ps, err)
			}
		})
	}
}

func TestParsePairsTruncated(t *testing.T) {
	full := appendPair(nil, Pair{"NAME", strings.Repeat("x", 300)})
	for cut := 1; cut < len(full); cut += 37 {
		if _, err := parsePairs(full[:cut]); !errors.Is(err, errPairTruncated) {
			t.Errorf("cut at %d: err = %v, want ErrPairTruncated", cut, err)
		}
	}
	// A length claiming 2 GiB must not allocate: it is reported truncated.
	huge := []byte{0xff, 0xff, 0xff, 0xff, 0x01, 'a'}
	if _, err := parsePairs(huge); !errors.Is(err, errPairTruncated) {
		t.Errorf("huge length: err = %v", err)
	}
}

// TestParamsStraddle writes params larger than one record so that a pair
// straddles two PARAMS records, and reads them back with offsets.
func TestParamsStraddle(t *testing.T) {
	params := []Pair{
		{"SCRIPT_FILENAME", "/srv/www/index.php"},
		{"BIG", strings.Repeat("b", 70000)},
		{"AFTER", "yes"},
	}
	var buf bytes.Buffer
	if err := NewWriter(&buf).WriteParams(1, params); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	var got []Pair
	var bodies []*Pairs
	for {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Type != TypeParams {
			t.Fatalf("type %v", rec.Type)
		}
		if rec.ContentLength > MaxContent || int(rec.PaddingLength) != int(PaddingFor(int(rec.ContentLength))) {
			t.Errorf("record %d: length %d padding %d", rec.Index, rec.ContentLength, rec.PaddingLength)
		}
		p := rec.Body.(*Pairs)
		bodies = append(bodies, p)
		got = append(got, p.List()...)
	}
	if !reflect.DeepEqual(got, params) {
		t.Fatalf("pairs differ: got %d pairs", len(got))
	}
	if len(bodies) != 3 { // 65535, rest, empty
		t.Fatalf("records = %d, want 3", len(bodies))
	}
	first, second := bodies[0], bodies[1]
	if len(first.Fields) != 1 || first.Pending != MaxContent-pairLen(params[0]) {
		t.Errorf("first record: fields %d pending %d", len(first.Fields), first.Pending)
	}
	big := second.Fields[0]
	if big.Name != "BIG" || big.Offset != -first.Pending || big.NameLenSize != 1 || big.ValueLenSize != 4 {
		t.Errorf("straddling pair: %+v", big)
	}
	if second.Carried != big.Len()-first.Pending {
		t.Errorf("carried = %d, want %d", second.Carried, big.Len()-first.Pending)
	}
	if second.Fields[1].Offset != second.Carried {
		t.Errorf("AFTER offset = %d, want %d", second.Fields[1].Offset, second.Carried)
	}
}

// TestStreamSplit checks that stream data is split at 65535 and rebuilt.
func TestStreamSplit(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 20000) // 200000 bytes
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.WriteStream(TypeStdin, 9, data); err != nil {
		t.Fatal(err)
	}
	if err := w.CloseStream(TypeStdin, 9); err != nil {
		t.Fatal(err)
	}
	r := NewReader(&buf)
	var got []byte
	var lens []int
	var off int64
	for {
		rec, err := r.ReadRecord()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Offset != off {
			t.Errorf("record %d offset %d, want %d", rec.Index, rec.Offset, off)
		}
		off += int64(len(rec.Raw))
		lens = append(lens, int(rec.ContentLength))
		got = append(got, rec.Content()...)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	want := []int{65535, 65535, 65535, 200000 - 3*65535, 0}
	if !reflect.DeepEqual(lens, want) {
		t.Errorf("lengths %v, want %v", lens, want)
	}
	if err := w.WriteRecord(TypeStdout, 1, make([]byte, MaxContent+1)); !errors.Is(err, errContentTooLong) {
		t.Errorf("oversize record: %v", err)
	}
}

// TestWriteRawNeedsAllowIllegalWrites: without AllowIllegalWrites WriteRaw
// writes nothing for a header that does not describe its record, and says
// which field does not match; a legal one with odd padding goes out.
func TestWriteRawNeedsAllowIllegalWrites(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, tc := range []struct {
		h            Header
		content, pad []byte
		want         string
	}{
		{Header{Version: 2, Type: TypeStdout, RequestID: 1, ContentLength: 2}, []byte("hi"), nil, "version 2, want 1"},
		{Header{Version: 1, Type: TypeStdout, RequestID: 1, ContentLength: 100}, []byte("hi"), nil, "claims 100 content and 0 padding bytes, 2 and 0 follow"},
		{Header{Version: 1, Type: TypeStdout, RequestID: 1, ContentLength: 2, PaddingLength: 1}, []byte("hi"), nil, "claims 2 content and 1 padding bytes, 2 and 0 follow"},
	} {
		if err := w.WriteRaw(tc.h, tc.content, tc.pad); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("WriteRaw(%+v) = %v, want an error saying %q", tc.h, err, tc.want)
		}
	}
	if buf.Len() != 0 {
		t.Fatalf("refused records wrote %d bytes", buf.Len())
	}
	if err := w.WriteRaw(Header{Version: 1, Type: TypeStdout, RequestID: 1, ContentLength: 2, PaddingLength: 3}, []byte("hi"), make([]byte, 3)); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.Bytes(), []byte{1, 6, 0, 1, 0, 2, 3, 0, 'h', 'i', 0, 0, 0}; !bytes.Equal(got, want) {
		t.Errorf("odd padding: % x, want % x", got, want)
	}
}

// TestReadTypedBodies decodes each typed body back from the bytes the
// Writer produced.
func TestReadTypedBodies(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.WriteBeginRequest(5, RoleAuthorizer, FlagKeepConn))
	must(w.WriteEndRequest(5, 77, StatusUnknownRole))
	must(w.WriteUnknownType(99))
	must(w.WriteGetValues([]string{ValueMaxConns, ValueMaxReqs}))
	must(w.WriteAbortRequest(5))
	r := NewReader(&buf)
	want := []Body{
		&BeginRequest{Role: RoleAuthorizer, Flags: FlagKeepConn},
		&EndRequest{AppStatus: 77, ProtocolStatus: StatusUnknownRole},
		&UnknownType{Type: 99},
		&Pairs{Fields: []PairField{
			{Pair: Pair{ValueMaxConns, ""}, Offset: 0, NameLenSize: 1, ValueLenSize: 1},
			{Pair: Pair{ValueMaxReqs, ""}, Offset: 16, NameLenSize: 1, ValueLenSize: 1},
		}},
		nil,
	}
	for i, wb := range want {
		rec, err := r.ReadRecord()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(rec.Body, wb) {
			t.Errorf("record %d body = %#v, want %#v", i, rec.Body, wb)
		}
	}
}

func TestReaderErrors(t *testing.T) {
	good := func() []byte {
		var b bytes.Buffer
		NewWriter(&b).WriteRecord(TypeStdout, 1, []byte("hello"))
		return b.Bytes()
	}
	t.Run("cut inside header", func(t *testing.T) {
		in := append(good(), 1, 6, 0)
		r := NewReader(bytes.NewReader(in))
		if _, err := r.ReadRecord(); err != nil {
			t.Fatal(err)
		}
		_, err := r.ReadRecord()
		var re *RecordError
		if !errors.As(err, &re) || !errors.Is(err, ErrShortRecord) {
			t.Fatalf("err = %v", err)
		}
		if re.Index != 1 || re.Offset != 16 || !bytes.Equal(re.Partial, []byte{1, 6, 0}) {
			t.Errorf("error fields: %+v", re)
		}
		if !strings.Contains(err.Error(), "record 1 at byte 16") {
			t.Errorf("message %q does not say where", err)
		}
	})
	t.Run("lying content length", func(t *testing.T) {
		in := good()
		in[5] = 200 // claims 200 bytes, has 5 + 3 padding
		_, err := NewReader(bytes.NewReader(in)).ReadRecord()
		var re *RecordError
		if !errors.As(err, &re) || !errors.Is(err, ErrShortRecord) || len(re.Partial) != 16 || re.Header.ContentLength != 200 {
			t.Fatalf("err = %v (%+v)", err, re)
		}
		if !strings.Contains(err.Error(), "content length 200") {
			t.Errorf("message %q", err)
		}
	})
	t.Run("bad version stops at the header", func(t *testing.T) {
		in := good()
		in[0] = 2
		in[5] = 200 // claims more than follows: must not be waited for
		pr, pw := io.Pipe()
		// The claimed content never comes: a read past the header blocks.
		go func() { pw.Write(in) }()
		defer pr.Close()
		r := NewReader(pr)
		var traced []Event
		r.Trace = func(ev Event) {
			ev.Record = &Record{Header: ev.Record.Header, Raw: bytes.Clone(ev.Record.Raw)}
			traced = append(traced, ev)
		}
		rec, err := r.ReadRecord()
		var re *RecordError
		if rec != nil || !errors.Is(err, ErrVersion) || !errors.As(err, &re) {
			t.Fatalf("rec %v err %v, want no record and a *RecordError wrapping ErrVersion", rec, err)
		}
		if re.Index != 0 || re.Offset != 0 || re.Header.Version != 2 || re.Header.ContentLength != 200 || !bytes.Equal(re.Partial, in[:HeaderLen]) {
			t.Errorf("error fields %+v, want the header and its 8 bytes", re)
		}
		if !strings.Contains(err.Error(), "record 0 at byte 0: unsupported protocol version 2 (want 1)") {
			t.Errorf("message %q", err)
		}
		if r.offset() != HeaderLen {
			t.Errorf("Offset %d, want %d: only the header is consumed", r.offset(), HeaderLen)
		}
		if len(traced) != 1 || !bytes.Equal(traced[0].Record.Raw, in[:HeaderLen]) || !errors.Is(traced[0].Err, ErrVersion) {
			t.Errorf("traced %+v, want the header alone with ErrVersion", traced)
		}
	})
	t.Run("malformed begin request", func(t *testing.T) {
		var b bytes.Buffer
		NewWriter(&b).WriteRecord(TypeBeginRequest, 1, []byte{0, 1})
		rec, err := NewReader(&b).ReadRecord()
		if !errors.Is(err, ErrBody) || rec == nil {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("params stream ends inside a pair", func(t *testing.T) {
		var b bytes.Buffer
		w := NewWriter(&b)
		w.WriteRecord(TypeParams, 1, []byte{4, 10, 'N', 'A'})
		w.CloseStream(TypeParams, 1)
		r := NewReader(&b)
		if _, err := r.ReadRecord(); err != nil {
			t.Fatal(err)
		}
		_, err := r.ReadRecord()
		if !errors.Is(err, ErrBody) || !strings.Contains(err.Error(), "inside a name-value pair") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("pair longer than the limit", func(t *testing.T) {
		var b bytes.Buffer
		w := NewWriter(&b)
		w.WriteRecord(TypeParams, 1, []byte{0x80, 0, 1, 0, 0x80, 0x10, 0, 0, 'x'})
		r := NewReader(&b)
		r.setMaxPairLen(8)
		if _, err := r.ReadRecord(); !errors.Is(err, ErrBody) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("clean EOF", func(t *testing.T) {
		if _, err := NewReader(bytes.NewReader(nil)).ReadRecord(); err != io.EOF {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTraceSeesRawBytes(t *testing.T) {
	var sent, recv []Event
	var rawSent [][]byte
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.Trace = func(e Event) {
		sent = append(sent, e)
		rawSent = append(rawSent, append([]byte(nil), e.Record.Raw...))
	}
	w.WriteBeginRequest(1, RoleResponder, 0)
	w.WriteParams(1, []Pair{{"A", "1"}})
	wire := append([]byte(nil), buf.Bytes()...)
	r := NewReader(&buf)
	r.Trace = func(e Event) { recv = append(recv, e) }
	for {
		if _, err := r.ReadRecord(); err != nil {
			break
		}
	}
	if len(sent) != 3 || len(recv) != 3 {
		t.Fatalf("sent %d recv %d events", len(sent), len(recv))
	}
	if !bytes.Equal(bytes.Join(rawSent, nil), wire) {
		t.Error("traced raw bytes differ from the wire")
	}
	if sent[0].Dir != Sent || recv[0].Dir != Received || sent[0].Time.IsZero() {
		t.Errorf("event fields: %+v", sent[0])
	}
	if _, ok := sent[1].Record.Body.(*Pairs); !ok {
		t.Errorf("sent PARAMS body = %T", sent[1].Record.Body)
	}
	if sent[2].Record.Offset != 16+16 {
		t.Errorf("offset %d", sent[2].Record.Offset)
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{TypeGetValuesResult.String(), "GET_VALUES_RESULT"},
		{RecordType(12).String(), "UNKNOWN_12"},
		{RecordType(0).String(), "UNKNOWN_0"},
		{RoleFilter.String(), "FILTER"},
		{Role(9).String(), "ROLE_9"},
		{StatusCantMpxConn.String(), "CANT_MPX_CONN"},
		{FlagKeepConn.String(), "KEEP_CONN"},
		{Flags(3).String(), "KEEP_CONN|0x02"},
		{Flags(0).String(), "0"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
