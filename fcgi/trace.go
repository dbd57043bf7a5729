// Trace: the hook that makes every record observable.

package fcgi

import "time"

// Direction tells which way a record went.
type Direction uint8

// Directions, seen from the side that owns the Reader or Writer.
const (
	Sent     Direction = 1
	Received Direction = 2
)

func (d Direction) String() string {
	switch d {
	case Sent:
		return "sent"
	case Received:
		return "received"
	}
	return "unknown"
}

// Event is one record observed by a Trace hook.
//
// Record (its Raw bytes and Body) is valid only during the call: a hook that
// keeps anything must copy it.
type Event struct {
	Dir    Direction
	Time   time.Time // when the record was written or read (monotonic)
	Record *Record
	// Err is set when the record was not read whole or not decoded: a
	// malformed body, a header with a version other than 1 (Raw is then
	// its 8 bytes, the claimed content is not read), or an unfinished
	// record when the connection ended (Raw holds the bytes that arrived).
	Err error
}

// Trace receives every record a Reader reads or a Writer writes. It is called
// on the reading or writing goroutine and must not block for long.
type Trace func(Event)
