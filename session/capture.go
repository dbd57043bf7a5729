// Capture: the append-only byte store that keeps every record's raw bytes of
// one direction of an Exchange, with stream data stored contiguously.

package session

import "fcgiscope/fcgi"

// DefaultCaptureLimit is the number of record bytes an Exchange keeps before
// it starts dropping record content (headers are always kept).
const DefaultCaptureLimit = 256 << 20

// Stream slots: the data streams whose content a capture keeps contiguously.
const (
	slotStdin = iota
	slotStdout
	slotStderr
	slotData
	numSlots
	noSlot = -1
)

var slotNames = [numSlots]string{"stdin", "stdout", "stderr", "data"}

// streamSlot returns the slot of a data stream type, or noSlot.
func streamSlot(t fcgi.RecordType) int {
	switch t {
	case fcgi.TypeStdin:
		return slotStdin
	case fcgi.TypeStdout:
		return slotStdout
	case fcgi.TypeStderr:
		return slotStderr
	case fcgi.TypeData:
		return slotData
	}
	return noSlot
}

// capture holds the bytes of one direction (sent or received) of an Exchange.
//
// Invariant: bytes are only ever appended, never changed, so a sub-slice
// handed out (with its capacity clipped) stays valid and unchanged while
// more is appended behind it. Every record of the direction owns
//
//   - one contiguous range of frame: its 8 header bytes, then its content
//     unless that content is in a stream slot, then its padding — or, for a
//     record whose content was dropped at the capture limit, just its header,
//     and for a record cut short by the end of the connection, the bytes that
//     arrived;
//   - when it is a well-formed data record (STDIN, STDOUT, STDERR, DATA) of the
//     exchange's own request id, one contiguous range of stream[slot] holding
//     its content.
//
// So stdout, stderr and the request body exist exactly once, contiguously, and
// Exchange.Stdout returns a view, not a copy: a 100 MiB response costs its
// payload plus append's growth slack (at most a quarter), not twice.
type capture struct {
	frame  []byte
	stream [numSlots][]byte
	// wire counts the bytes of every record of this direction, captured
	// or not; it gives each record its Offset.
	wire int64
}

// view returns b clipped to its length, so that a caller's append cannot
// write into the capture.
func view(b []byte) []byte { return b[:len(b):len(b)] }

// record is one record of an Exchange: the public summary plus where its
// bytes lie in the capture of its direction.
type record struct {
	RecordInfo
	frameOff, frameLen int
	slot               int // noSlot or the stream slot holding the content
	dataOff, dataLen   int
}

// raw returns the record's bytes as captured: a view into the capture when
// they are contiguous, else a fresh copy joining header, content and padding.
func (r *record) raw(c *capture) []byte {
	frame := view(c.frame[r.frameOff : r.frameOff+r.frameLen])
	if r.slot == noSlot {
		return frame
	}
	hdr := min(fcgi.HeaderLen, len(frame))
	out := make([]byte, 0, len(frame)+r.dataLen)
	out = append(out, frame[:hdr]...)
	out = append(out, c.stream[r.slot][r.dataOff:r.dataOff+r.dataLen]...)
	return append(out, frame[hdr:]...)
}

// whole reports whether all the record's bytes are captured and its header
// tells their length truthfully, so that a Reader can frame it.
func (r *record) whole() bool {
	return !r.Truncated && !r.Partial &&
		r.frameLen+r.dataLen == fcgi.HeaderLen+int(r.ContentLength)+int(r.PaddingLength)
}

// store appends raw, the bytes of one record with header h, to c and fills
// in r's location. limit bounds captured, the bytes held across both
// directions (<= 0: no limit): a record that does not fit keeps only its
// header. Once content has been dropped (dropped), the content of every later
// stream record is dropped too, so that stdout and stderr are always a
// prefix of what was sent, never a stream with holes; small records such as
// END_REQUEST are still kept whole while they fit. ownID is the exchange's
// request id. It returns the bytes added to the capture.
func (c *capture) store(r *record, h fcgi.Header, raw []byte, ownID uint16, captured, limit int64, dropped bool) int64 {
	r.frameOff, r.slot = len(c.frame), noSlot
	c.wire += int64(len(raw))
	over := limit > 0 && captured+int64(len(raw)) > limit
	if len(raw) > fcgi.HeaderLen && (over || dropped && h.Type.IsStream()) {
		c.frame = append(c.frame, raw[:fcgi.HeaderLen]...)
		r.frameLen = fcgi.HeaderLen
		r.Truncated = true
		return fcgi.HeaderLen
	}
	slot := streamSlot(h.Type)
	if slot != noSlot && h.Version == fcgi.Version1 && h.RequestID == ownID && len(raw) == h.RecordLen() {
		end := fcgi.HeaderLen + int(h.ContentLength)
		c.frame = append(c.frame, raw[:fcgi.HeaderLen]...)
		c.frame = append(c.frame, raw[end:]...)
		r.frameLen = len(c.frame) - r.frameOff
		r.slot, r.dataOff, r.dataLen = slot, len(c.stream[slot]), int(h.ContentLength)
		c.stream[slot] = append(c.stream[slot], raw[fcgi.HeaderLen:end]...)
		return int64(len(raw))
	}
	c.frame = append(c.frame, raw...)
	r.frameLen = len(raw)
	return int64(len(raw))
}
