package fcgi

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

func BenchmarkWriteStdout64K(b *testing.B) {
	data := bytes.Repeat([]byte("x"), MaxContent)
	w := NewWriter(io.Discard)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := w.WriteRecord(TypeStdout, 1, data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadStdout64K(b *testing.B) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for range 16 {
		w.WriteRecord(TypeStdout, 1, bytes.Repeat([]byte("x"), MaxContent))
	}
	wire := buf.Bytes()
	rd := bytes.NewReader(wire)
	r := NewReader(rd)
	b.ReportAllocs()
	b.SetBytes(MaxContent)
	for b.Loop() {
		if _, err := r.ReadRecord(); err == io.EOF {
			rd.Reset(wire)
			r = NewReader(rd)
		} else if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteParams(b *testing.B) {
	params := []Pair{
		{"SCRIPT_FILENAME", "/srv/www/index.php"}, {"REQUEST_METHOD", "GET"},
		{"QUERY_STRING", "a=1&b=2"}, {"REQUEST_URI", "/index.php?a=1&b=2"},
		{"HTTP_USER_AGENT", strings.Repeat("Mozilla ", 20)},
	}
	w := NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := w.WriteParams(1, params); err != nil {
			b.Fatal(err)
		}
	}
}
