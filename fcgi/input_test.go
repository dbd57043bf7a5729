package fcgi

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync"
	"testing"
)

// TestInputStreamAfterHandlerReturned: once the handler returned (discard),
// an empty record or content that still arrives is dropped without being
// reported as out of place. The reader looks the request up, then hands
// the record over; the handler can return in between, which the benchmark
// of two connections taking turns hit about once in 100 000 requests
// ("second empty STDIN record" logged for a request that sent one).
func TestInputStreamAfterHandlerReturned(t *testing.T) {
	var s inputStream
	s.discard()
	if !s.closeWith(io.EOF) {
		t.Error("the empty record after the handler returned is reported as a second one")
	}
	if !s.write([]byte("late"), nil) {
		t.Error("content after the handler returned is reported as after the stream's end")
	}
	// A stream that really ended with its empty record still reports a
	// second one.
	var ended inputStream
	if !ended.closeWith(io.EOF) {
		t.Fatal("the first empty record is refused")
	}
	if ended.closeWith(io.EOF) {
		t.Error("a second empty record is not reported")
	}
	if ended.write([]byte("late"), nil) {
		t.Error("content after the empty record is not reported")
	}
}

// TestInputStreamNoAllocs: a long STDIN stream through the server's pipe,
// read with Read or drained with WriteTo, allocates nothing per record once
// its chunks are reused.
func TestInputStreamNoAllocs(t *testing.T) {
	rec := bytes.Repeat([]byte("s"), MaxContent)
	small := make([]byte, 8<<10)
	s := &inputStream{}
	read := func() {
		if !s.write(rec, nil) || !s.write(rec[:100], nil) {
			t.Fatal("write refused")
		}
		for n := 0; n < MaxContent+100; {
			k, err := s.Read(small)
			if err != nil {
				t.Fatal(err)
			}
			n += k
		}
	}
	read()
	if a := testing.AllocsPerRun(100, read); a != 0 {
		t.Errorf("Read: %v allocations per record, want 0", a)
	}
	var sink countWriter
	drain := func() {
		s.write(rec, nil)
		s.write(rec[:7], nil)
		s.mu.Lock()
		s.err = errPause // WriteTo returns at the end of what is buffered
		s.mu.Unlock()
		if _, err := s.WriteTo(&sink); err != errPause {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.err = nil
		s.mu.Unlock()
	}
	drain()
	if a := testing.AllocsPerRun(100, drain); a != 0 {
		t.Errorf("WriteTo: %v allocations per record, want 0", a)
	}
	if want := int64(102 * (MaxContent + 7)); sink.n != want {
		t.Errorf("WriteTo passed on %d bytes, want %d", sink.n, want)
	}
	s.closeWith(io.EOF)
	if n, err := s.Read(small); n != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v", n, err)
	}
}

var errPause = errors.New("pause")

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// TestInputStreamSharedChunks: the large chunks of a request's stream go
// back to the Server's pool when the handler is done, so a POST after a
// POST allocates none.
func TestInputStreamSharedChunks(t *testing.T) {
	var pool sync.Pool
	rec := bytes.Repeat([]byte("p"), MaxContent)
	sink := &countWriter{}
	post := func() {
		s := &inputStream{pool: &pool}
		for range 5 { // all buffered before the handler reads
			s.write(rec, nil)
		}
		s.closeWith(io.EOF)
		if n, err := s.WriteTo(sink); err != nil || n != 5*MaxContent {
			t.Fatalf("WriteTo = %d, %v", n, err)
		}
		s.discard() // the handler returned
	}
	post()
	// Bytes rather than allocations: under -race a pool drops some of
	// what it is given on purpose.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const posts = 50
	for range posts {
		post()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / posts; per > 2*inputChunk {
		t.Errorf("%d bytes allocated per POST of 5 large records, want the chunks reused (fewer than 2 new ones)", per)
	}
}
