// Writer and Reader mechanics seen from inside: held records, vectored
// writes, the read buffer.

package fcgi

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/iotest"
)

// writeLog is an io.Writer keeping every Write call apart.
type writeLog struct {
	calls [][]byte
	limit int // accept at most this many bytes in all (< 0: no limit), then fail
	err   error
}

func (l *writeLog) Write(p []byte) (int, error) {
	n := len(p)
	if l.limit >= 0 {
		n = min(n, l.limit)
		l.limit -= n
	}
	l.calls = append(l.calls, bytes.Clone(p[:n]))
	if n < len(p) {
		return n, l.err
	}
	return n, nil
}

// headRecords writes a request's head as a Conn does.
func headRecords(w *Writer) error {
	if err := w.WriteBeginRequest(1, RoleResponder, FlagKeepConn); err != nil {
		return err
	}
	if err := w.WriteParams(1, []Pair{{"SCRIPT_NAME", "/x.php"}, {"REQUEST_METHOD", "GET"}}); err != nil {
		return err
	}
	return w.CloseStream(TypeStdin, 1)
}

// TestWriterHold: held records go out in one Write, byte for byte what one
// Write per record gives, each traced apart with its offset.
func TestWriterHold(t *testing.T) {
	var want bytes.Buffer
	if err := headRecords(NewWriter(&want)); err != nil {
		t.Fatal(err)
	}
	wl := &writeLog{limit: -1}
	w := NewWriter(wl)
	var traced []*Record // copies
	w.Trace = func(ev Event) {
		rec := *ev.Record
		rec.Raw = bytes.Clone(rec.Raw)
		traced = append(traced, &rec)
	}
	w.hold()
	if err := headRecords(w); err != nil {
		t.Fatal(err)
	}
	if len(wl.calls) != 0 || w.buffered() != want.Len() || len(traced) != 0 {
		t.Fatalf("%d writes, %d bytes held, %d traced before endHold; want 0, %d, 0",
			len(wl.calls), w.buffered(), len(traced), want.Len())
	}
	if err := w.endHold(); err != nil {
		t.Fatal(err)
	}
	if len(wl.calls) != 1 || !bytes.Equal(wl.calls[0], want.Bytes()) {
		t.Fatalf("endHold made %d writes; want one with the %d bytes of the records", len(wl.calls), want.Len())
	}
	var types []RecordType
	var joined []byte
	for i, rec := range traced {
		types = append(types, rec.Type)
		if rec.Offset != int64(len(joined)) {
			t.Errorf("record %d traced at offset %d, want %d", i, rec.Offset, len(joined))
		}
		joined = append(joined, rec.Raw...)
	}
	if want := []RecordType{TypeBeginRequest, TypeParams, TypeParams, TypeStdin}; !slices.Equal(types, want) {
		t.Errorf("traced %v, want %v", types, want)
	}
	if !bytes.Equal(joined, want.Bytes()) || w.offset() != int64(want.Len()) || w.buffered() != 0 {
		t.Errorf("traced bytes differ from the wire, or offset %d / buffered %d wrong", w.offset(), w.buffered())
	}
	// Not holding any more: the next record goes out at once.
	if err := w.WriteAbortRequest(1); err != nil || len(wl.calls) != 2 {
		t.Errorf("after endHold: %v, %d writes", err, len(wl.calls))
	}
}

// TestWriterHoldWriteError: a held batch cut by a failing Write names the
// first record not written whole and how much of it went out; the records
// before it are traced, the rest dropped.
func TestWriterHoldWriteError(t *testing.T) {
	boom := errors.New("broken pipe")
	for _, tc := range []struct {
		accepted, index, written, traced int
	}{
		{accepted: 0, index: 0, written: 0, traced: 0},
		{accepted: 5, index: 0, written: 5, traced: 0},
		{accepted: 16, index: 1, written: 0, traced: 1},
		{accepted: 20, index: 1, written: 4, traced: 1},
	} {
		wl := &writeLog{limit: tc.accepted, err: boom}
		w := NewWriter(wl)
		traced := 0
		w.Trace = func(Event) { traced++ }
		w.hold()
		if err := headRecords(w); err != nil {
			t.Fatal(err)
		}
		err := w.endHold()
		var we *writeError
		if !errors.As(err, &we) || !errors.Is(err, boom) || we.Index != tc.index || we.Written != tc.written ||
			we.Offset != int64(16*tc.index) {
			t.Errorf("accepted %d: endHold = %#v, want record %d with %d bytes written", tc.accepted, we, tc.index, tc.written)
			continue
		}
		if traced != tc.traced || w.offset() != int64(tc.accepted) || w.buffered() != 0 {
			t.Errorf("accepted %d: %d traced, offset %d, %d held", tc.accepted, traced, w.offset(), w.buffered())
		}
	}
}

// TestWriterVectored: on a unix socket, large content goes out with its
// header and padding in one writev, with what was held before it, without
// being copied; the stream reads back the same and the trace shows each
// record whole.
func TestWriterVectored(t *testing.T) {
	dir, err := os.MkdirTemp("", "fcgiw") // short: a socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	nc, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	peer, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	got := make(chan []byte, 1)
	go func() {
		// Room for all that comes, so that reading allocates nothing
		// while the writes' allocations are counted.
		var b bytes.Buffer
		b.Grow(4 << 20)
		b.ReadFrom(peer)
		got <- b.Bytes()
	}()

	big := make([]byte, 150001)
	for i := range big {
		big[i] = byte(i * 7)
	}
	var want bytes.Buffer
	ref := NewWriter(&want)
	w := NewWriter(nc)
	if !w.vec || ref.vec {
		t.Fatalf("vectored writes: %v on a unix conn, %v on a buffer", w.vec, ref.vec)
	}
	var raws [][]byte
	w.Trace = func(ev Event) { raws = append(raws, bytes.Clone(ev.Record.Raw)) }
	for _, wr := range []*Writer{ref, w} {
		wr.hold()
		if err := headRecords(wr); err != nil {
			t.Fatal(err)
		}
		if err := wr.WriteStream(TypeStdout, 1, big); err != nil {
			t.Fatal(err)
		}
		if err := wr.WriteRecord(TypeStderr, 1, big[:3000]); err != nil {
			t.Fatal(err)
		}
		if err := wr.WriteEndRequest(1, 0, StatusRequestComplete); err != nil {
			t.Fatal(err)
		}
		if err := wr.endHold(); err != nil {
			t.Fatal(err)
		}
	}
	w.Trace = nil
	allocs := testing.AllocsPerRun(50, func() {
		if err := w.WriteRecord(TypeStdout, 2, big[:40000]); err != nil {
			t.Fatal(err)
		}
	})
	nc.Close()
	wire := <-got
	if !bytes.HasPrefix(wire, want.Bytes()) {
		t.Fatalf("the socket got %d bytes that differ from the %d written to a buffer", len(wire), want.Len())
	}
	if !bytes.Equal(bytes.Join(raws, nil), want.Bytes()) {
		t.Errorf("the traced records differ from the bytes written")
	}
	if allocs != 0 {
		t.Errorf("%v allocations per large record, want 0 (no copy, no buffer growth)", allocs)
	}
	r := NewReader(bytes.NewReader(wire[want.Len():]))
	for range 51 {
		rec, err := r.ReadRecord()
		if err != nil || rec.Type != TypeStdout || !bytes.Equal(rec.Content(), big[:40000]) || rec.PaddingLength != 0 {
			t.Fatalf("large record read back: %v, %+v", err, rec)
		}
	}
}

// TestReaderSmallReads: records framed right whatever the reads return,
// and the buffer grows only for records that need it.
func TestReaderSmallReads(t *testing.T) {
	var wire bytes.Buffer
	w := NewWriter(&wire)
	contents := [][]byte{nil, []byte("tiny"), bytes.Repeat([]byte("m"), 5000), bytes.Repeat([]byte("L"), MaxContent), []byte("end")}
	for i, c := range contents {
		if err := w.WriteRecord(TypeStdout, uint16(i+1), c); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteRaw(Header{Version: 1, Type: TypeStderr, RequestID: 9, ContentLength: 2, PaddingLength: 255},
		[]byte("ab"), make([]byte, 255)); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]io.Reader{
		"one-byte": iotest.OneByteReader(bytes.NewReader(wire.Bytes())),
		"half":     iotest.HalfReader(bytes.NewReader(wire.Bytes())),
		"data-err": iotest.DataErrReader(bytes.NewReader(wire.Bytes())),
		"whole":    bytes.NewReader(wire.Bytes()),
	} {
		r := NewReader(src)
		var off int64
		for i := range len(contents) + 1 {
			rec, err := r.ReadRecord()
			if err != nil {
				t.Fatalf("%s: record %d: %v", name, i, err)
			}
			want := []byte("ab")
			if i < len(contents) {
				want = contents[i]
			}
			if rec.Offset != off || rec.Index != i || !bytes.Equal(rec.Content(), want) {
				t.Fatalf("%s: record %d at %d (want %d), %d content bytes", name, i, rec.Offset, off, len(rec.Content()))
			}
			off += int64(len(rec.Raw))
			if i == 1 && len(r.buf) != readerInitial {
				t.Errorf("%s: buffer of %d bytes after small records, want %d", name, len(r.buf), readerInitial)
			}
		}
		if _, err := r.ReadRecord(); err != io.EOF || r.offset() != int64(wire.Len()) {
			t.Errorf("%s: at the end: %v, offset %d of %d", name, err, r.offset(), wire.Len())
		}
	}
	// A reader that returns nothing, forever, is an error, not a hang.
	if _, err := NewReader(zeroReader{}).ReadRecord(); !errors.Is(err, io.ErrNoProgress) {
		t.Errorf("ReadRecord from an empty reader = %v, want io.ErrNoProgress", err)
	}
}

type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }
