// Capture: the append-only byte store that keeps every record's raw bytes of
// one direction of an Exchange, with stream data stored contiguously.

package session

import (
	"bytes"
	"strconv"
	"strings"

	"fcgiscope/fcgi"
)

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
// Exchange.Stdout returns a view, not a copy. A stream whose length is
// announced (the CONTENT_LENGTH param sent, the Content-Length of the CGI
// response) is stored in one allocation of that size (see place): a
// 100 MiB response then costs its payload, not append's growth by copies
// (five times the payload allocated, and old and new array both live while
// the last one is copied). A stream of unknown length grows as append grows
// it, with at most a quarter of slack.
//
// Locking: one writer at a time per direction, holding that direction's
// writer lock (Exchange.writerOf), changes the capture; readers hold the
// Exchange's lock. The writer grows frame and stream into new slices
// without the Exchange's lock (put), so a reader never waits while 100 MiB
// are copied, and swaps them in under it (publish).
type capture struct {
	// frame and stream as published: read under the Exchange's lock,
	// replaced under it and the writer lock.
	frame  []byte
	stream [numSlots][]byte
	// wire counts the bytes of every record of this direction, captured
	// or not; it gives each record its Offset.
	wire int64
	// want is, per slot, the stream length announced and not yet reserved
	// (0: none); place reserves it when the stream's first bytes arrive.
	want [numSlots]int64
	// reserved marks the slots whose array was sized by an announcement,
	// so that trimmed can give back what the stream did not use. The
	// writer's: touched only under the writer lock.
	reserved [numSlots]bool
}

// maxReserve bounds one reservation whatever a peer announces, when the
// exchange has no capture limit to bound it.
const maxReserve = DefaultCaptureLimit

// trimmed returns c's streams with the room a reservation left unused (an
// announced length the stream did not reach, e.g. the Content-Length of a
// HEAD response) given back when it is worth a copy: more than a MiB and
// more than a quarter of the stream. It forgets the reservations. It copies,
// so the caller holds the writer locks rather than the Exchange's lock, and
// publishes the result under the latter.
func (c *capture) trimmed() [numSlots][]byte {
	out := c.stream
	for slot, s := range c.stream {
		if !c.reserved[slot] {
			continue
		}
		c.reserved[slot] = false
		if spare := cap(s) - len(s); spare > 1<<20 && spare > len(s)/4 {
			out[slot] = append([]byte(nil), s...)
		}
	}
	return out
}

// lengthHint parses an announced stream length: a decimal number of bytes,
// surrounding spaces allowed; ok is false for anything else.
func lengthHint(v string) (n int64, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" { // a GET's CONTENT_LENGTH: no error to allocate
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= 0
}

// cgiHeaderScan finds, as stdout arrives, the end of the CGI header block at
// its start. Each byte is looked at once, however small the records it comes
// in; the search gives up past maxHeaderScan bytes (header blocks are small).
// The zero value is idle: start arms it.
type cgiHeaderScan struct {
	on        bool
	scanned   int // bytes of stdout searched for line ends
	lineStart int // start of the line not yet ended
}

// maxHeaderScan is how far into stdout the end of the header block is
// looked for before giving up.
const maxHeaderScan = 64 << 10

// start arms the scan for a new stdout.
func (hs *cgiHeaderScan) start() { *hs = cgiHeaderScan{on: true} }

// next looks at the stdout bytes that arrived since the last call and
// returns the length of the header block when it ends in them (0 if not).
// Once it has found the end or given up, it is idle again.
func (hs *cgiHeaderScan) next(out []byte) (end int) {
	if !hs.on {
		return 0
	}
	for hs.scanned < len(out) {
		i := bytes.IndexByte(out[hs.scanned:], '\n')
		if i < 0 {
			hs.scanned = len(out)
			break
		}
		line := out[hs.lineStart : hs.scanned+i]
		hs.scanned += i + 1
		hs.lineStart = hs.scanned
		if len(line) == 0 || len(line) == 1 && line[0] == '\r' {
			end = hs.scanned
			*hs = cgiHeaderScan{}
			return end
		}
	}
	if len(out) > maxHeaderScan {
		*hs = cgiHeaderScan{}
	}
	return 0
}

// contentLength returns the Content-Length a CGI header block announces, if
// it has exactly one value.
func contentLength(block []byte) (n int64, ok bool) {
	seen := false
	for line := range bytes.Lines(block) {
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found || !strings.EqualFold(string(bytes.TrimSpace(name)), "Content-Length") {
			continue
		}
		v, valid := lengthHint(string(value))
		if !valid || seen && v != n {
			return 0, false
		}
		n, seen = v, true
	}
	return n, seen
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

// place decides where raw, the bytes of one record with header h, go in c,
// and fills in r's location; put then copies them, and the Exchange
// publishes the result (see Exchange.add). limit bounds captured, the bytes
// held across both directions (<= 0: no limit): a record that does not fit
// keeps only its header. Once content has been dropped (dropped), the
// content of every later stream record is dropped too, so that stdout and
// stderr are always a prefix of what was sent, never a stream with holes;
// small records such as END_REQUEST are still kept whole while they fit.
// ownID is the exchange's request id.
//
// It returns the bytes the record adds to the capture and, when its stream
// has an announced length not yet reserved, the room put reserves first.
// The caller holds the direction's writer lock and the Exchange's lock.
func (c *capture) place(r *record, h fcgi.Header, raw []byte, ownID uint16, captured, limit int64, dropped bool) (added, reserve int64) {
	r.frameOff, r.slot = len(c.frame), noSlot
	c.wire += int64(len(raw))
	over := limit > 0 && captured+int64(len(raw)) > limit
	if len(raw) > fcgi.HeaderLen && (over || dropped && h.Type.IsStream()) {
		r.frameLen = fcgi.HeaderLen
		r.Truncated = true
		return fcgi.HeaderLen, 0
	}
	slot := streamSlot(h.Type)
	if slot == noSlot || h.Version != fcgi.Version1 || h.RequestID != ownID || len(raw) != h.RecordLen() {
		r.frameLen = len(raw)
		return int64(len(raw)), 0
	}
	r.frameLen = len(raw) - int(h.ContentLength)
	r.slot, r.dataOff, r.dataLen = slot, len(c.stream[slot]), int(h.ContentLength)
	if want := c.want[slot]; want > 0 {
		c.want[slot] = 0
		if limit > 0 {
			want = min(want, limit-captured)
		}
		if s := c.stream[slot]; min(want, maxReserve) > int64(cap(s)-len(s)) {
			reserve = min(want, maxReserve)
			c.reserved[slot] = true
		}
	}
	return int64(len(raw)), reserve
}

// put copies raw, the record placed in r, behind c's frame and stream
// bytes and returns the slices that then hold them: the frame, and the
// stream of r.slot (nil for noSlot). A reservation (see place) first moves
// the stream into one array of the announced size, so that a stream of
// known length is copied once at most as it grows.
//
// put needs only the direction's writer lock, not the Exchange's: bytes
// are written past the published lengths, where no view reaches (views are
// clipped), or into a new array while readers keep the old one, whose
// published bytes never change.
func (c *capture) put(r *record, raw []byte, reserve int64) (frame, stream []byte) {
	switch {
	case r.Truncated:
		return append(c.frame, raw[:fcgi.HeaderLen]...), nil
	case r.slot == noSlot:
		return append(c.frame, raw...), nil
	}
	end := fcgi.HeaderLen + r.dataLen
	frame = append(c.frame, raw[:fcgi.HeaderLen]...)
	frame = append(frame, raw[end:]...)
	stream = c.stream[r.slot]
	if reserve > 0 {
		grown := make([]byte, len(stream), len(stream)+int(reserve))
		copy(grown, stream)
		stream = grown
	}
	return frame, append(stream, raw[fcgi.HeaderLen:end]...)
}

// publish makes what put wrote part of the capture. The caller holds the
// Exchange's lock.
func (c *capture) publish(r *record, frame, stream []byte) {
	c.frame = frame
	if r.slot != noSlot {
		c.stream[r.slot] = stream
	}
}
