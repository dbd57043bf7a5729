package fcgi

import (
	"io"
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
