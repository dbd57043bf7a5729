package fcgi

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"
)

// FuzzReadRecord decodes arbitrary bytes, re-encodes every record that was
// read whole and decodes the result again: the second decoding must equal
// the first. Nothing may panic.
func FuzzReadRecord(f *testing.F) {
	seed := func(write func(w *Writer)) {
		var b bytes.Buffer
		write(NewWriter(&b))
		f.Add(b.Bytes())
	}
	seed(func(w *Writer) { w.WriteBeginRequest(1, RoleResponder, FlagKeepConn) })
	seed(func(w *Writer) { w.WriteParams(1, []Pair{{"A", "b"}, {"LONG", string(make([]byte, 300))}}) })
	seed(func(w *Writer) { w.WriteEndRequest(1, 3, StatusOverloaded) })
	seed(func(w *Writer) { w.WriteGetValues([]string{ValueMaxConns, ValueMpxsConns}) })
	seed(func(w *Writer) { w.WriteUnknownType(77) })
	seed(func(w *Writer) {
		w.WriteStream(TypeStdout, 2, []byte("Status: 200\r\n\r\nhi"))
		w.CloseStream(TypeStdout, 2)
	})
	seed(func(w *Writer) {
		w.AllowIllegalWrites = true
		w.WriteRaw(Header{Version: 2, Type: 66, RequestID: 3, ContentLength: 9, PaddingLength: 1}, []byte("x"), nil)
	})
	f.Add([]byte{1, 4, 0, 1, 0, 4, 0, 0, 0x80, 0, 0, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		first := decodeAll(in)
		var re bytes.Buffer
		w := NewWriter(&re)
		w.AllowIllegalWrites = true
		for _, r := range first {
			w.WriteRaw(r.Header, r.content, r.padding)
		}
		second := decodeAll(re.Bytes())
		if len(second) != len(first) {
			t.Fatalf("re-decoded %d records, first pass %d", len(second), len(first))
		}
		for i := range first {
			if !reflect.DeepEqual(first[i], second[i]) {
				t.Fatalf("record %d differs:\n%+v\n%+v", i, first[i], second[i])
			}
		}
	})
}

type decoded struct {
	Header
	content, padding []byte
	body             Body
	err              string
}

func decodeAll(in []byte) []decoded {
	r := NewReader(bytes.NewReader(in))
	var out []decoded
	for {
		rec, err := r.ReadRecord()
		if rec == nil {
			var re *RecordError
			if err != nil && err != io.EOF && !errors.As(err, &re) {
				panic("error of unexpected type: " + err.Error())
			}
			return out
		}
		d := decoded{Header: rec.Header, content: bytes.Clone(rec.Content()), padding: bytes.Clone(rec.Padding()), body: rec.Body}
		if err != nil {
			d.err = err.Error()
		}
		out = append(out, d)
	}
}
