// Reader: decodes records from a byte stream, keeping raw bytes and offsets.

package fcgi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// Record is one record as it crossed the wire.
type Record struct {
	Header
	// Index counts records read by this Reader, from 0.
	Index int
	// Offset is the byte offset of the header's first byte in the stream.
	Offset int64
	// Raw holds header, content and padding exactly as read.
	Raw []byte
	// Body is the decoded content: *BeginRequest, *EndRequest,
	// *UnknownType or *Pairs; nil for stream data, ABORT_REQUEST and
	// unknown types.
	Body Body
}

// Content returns the record's content bytes (a sub-slice of Raw). For a
// record whose header lies about its length (see Writer.AllowIllegalWrites),
// it returns what Raw
// holds after the header, up to the claimed length.
func (r *Record) Content() []byte {
	return r.Raw[min(HeaderLen, len(r.Raw)):min(HeaderLen+int(r.ContentLength), len(r.Raw))]
}

// Padding returns the record's padding bytes (a sub-slice of Raw).
func (r *Record) Padding() []byte {
	return r.Raw[min(HeaderLen+int(r.ContentLength), len(r.Raw)):]
}

// Sentinel errors wrapped in a *RecordError.
var (
	// ErrVersion: the header's version is not 1.
	ErrVersion = errors.New("unsupported protocol version")
	// ErrShortRecord: the stream ended inside a record.
	ErrShortRecord = errors.New("stream ended inside a record")
	// ErrBody: the content does not decode as its type requires.
	ErrBody = errors.New("malformed record body")
)

// RecordError says what went wrong where: which record, at which byte offset.
type RecordError struct {
	Index  int    // index of the record (0-based)
	Offset int64  // byte offset of the record's header in the stream
	Header Header // the header, when it was read whole
	// Partial holds the bytes read of a record cut short by the end of
	// the stream, or the 8 bytes of a header whose version is not 1 (a
	// copy; nil otherwise).
	Partial []byte
	Err     error
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("fcgi: record %d at byte %d: %v", e.Index, e.Offset, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// defaultMaxPairLen bounds the bytes a Reader keeps for one name-value pair
// that straddles records.
const defaultMaxPairLen = 4 << 20

// Reader reads records from a stream.
//
// The Record returned by ReadRecord, its Raw bytes and Body are valid only
// until the next call to ReadRecord: copy what must outlive it.
//
// A Reader buffers what it reads in one buffer that starts at 4 KiB and
// grows only as far as the largest record needs; records are framed in
// place, without another copy.
type Reader struct {
	r      io.Reader
	buf    []byte // buf[pos:end] is read and not yet returned
	pos    int
	end    int
	rec    Record
	off    int64
	index  int
	pairs  map[streamKey]*pairStream
	maxLen int

	// rawParams leaves PARAMS content undecoded (Body nil): the server
	// decodes the stream whole.
	rawParams bool

	// ownBodies decodes the fixed-size bodies into the storage below,
	// reused by the next record (a Conn and the server read them at
	// once); other Readers allocate each, as callers may keep them.
	ownBodies bool
	// stamp keeps in readAt when the last read system call returned
	// bytes (for a Conn, which times records by it). The time is
	// clock.Add of the monotonic time elapsed since clock: one clock
	// reading where time.Now takes two (wall and monotonic).
	stamp  bool
	clock  time.Time
	readAt time.Time

	// Storage of the decoded fixed-size bodies.
	begin   BeginRequest
	endBody EndRequest
	unknown UnknownType

	// Trace, when set, is called with every record read, before
	// ReadRecord returns it.
	Trace Trace
}

type streamKey struct {
	id  uint16
	typ RecordType
}

// Read sizes of a Reader.
const (
	// readerInitial is the first size of the buffer.
	readerInitial = 4 << 10
	// readAhead is how far past the bytes it needs a Reader reads when
	// the buffer has room: enough for many small records in one system
	// call, little enough that the rest of a large record is read into
	// place instead of being moved.
	readAhead = 16 << 10
	// readerMax is the largest record.
	readerMax = HeaderLen + MaxContent + maxPadding
)

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, maxLen: defaultMaxPairLen}
}

// setMaxPairLen sets the largest name-value pair the Reader will assemble
// across records (default defaultMaxPairLen).
func (r *Reader) setMaxPairLen(n int) { r.maxLen = n }

// offset returns the number of bytes consumed so far.
func (r *Reader) offset() int64 { return r.off }

// fill reads until n bytes from pos are buffered. It returns how many are
// buffered (at most n) and the read error that stopped it short.
func (r *Reader) fill(n int) (int, error) {
	if r.end-r.pos >= n {
		return n, nil
	}
	if r.pos == r.end {
		r.pos, r.end = 0, 0
	}
	if len(r.buf)-r.pos < n {
		if len(r.buf) < n {
			b := make([]byte, min(max(2*len(r.buf), n, readerInitial), max(readerMax, n)))
			copy(b, r.buf[r.pos:r.end])
			r.buf = b
		} else {
			copy(r.buf, r.buf[r.pos:r.end])
		}
		r.end -= r.pos
		r.pos = 0
	}
	need := r.pos + n
	for empty := 0; r.end < need; {
		limit := min(len(r.buf), max(need, r.end+readAhead))
		m, err := r.r.Read(r.buf[r.end:limit])
		if m < 0 || m > limit-r.end {
			return r.end - r.pos, io.ErrNoProgress
		}
		r.end += m
		if m > 0 && r.stamp {
			r.readAt = r.clock.Add(time.Since(r.clock))
		}
		if err != nil && r.end < need {
			return r.end - r.pos, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			// As bufio: a reader that keeps returning nothing is broken.
			return r.end - r.pos, io.ErrNoProgress
		}
	}
	return n, nil
}

// ReadRecord reads the next record.
//
// At a clean end of stream (between records) it returns io.EOF. Otherwise
// every error is a *RecordError naming the record and its offset.
//
// A header whose version is not 1 is rejected as soon as its 8 bytes are
// read, without reading the content it claims: nothing after it can be
// trusted, not even its length, and a peer that claims more than it sends
// would otherwise hold the reader until the connection ends. The error
// (wrapping ErrVersion) carries the header and its 8 bytes in Partial; the
// Trace sees them as a Record whose Raw is the header alone. The stream is
// out of step from there on.
//
// When the content does not decode (a malformed body) the record was read
// whole and is returned with the error, so nothing read is lost; the stream
// stays in step and reading may go on.
func (r *Reader) ReadRecord() (*Record, error) {
	start := r.off
	n, err := r.fill(HeaderLen)
	if err != nil {
		r.off += int64(n)
		partial := r.buf[r.pos : r.pos+n]
		r.pos += n
		if n == 0 && err == io.EOF {
			return nil, io.EOF
		}
		return nil, r.shortErr(start, nil, partial, err)
	}
	h, _ := ParseHeader(r.buf[r.pos:])
	if h.Version != Version1 {
		return nil, r.versionErr(start, h)
	}
	total := h.RecordLen()
	n, err = r.fill(total)
	if err != nil {
		r.off += int64(n)
		partial := r.buf[r.pos : r.pos+n]
		r.pos += n
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, r.shortErr(start, &h, partial, err)
	}
	raw := r.buf[r.pos : r.pos+total : r.pos+total]
	r.pos += total
	r.off += int64(total)
	rec := &r.rec
	*rec = Record{Header: h, Index: r.index, Offset: start, Raw: raw}
	r.index++
	var bodyErr error
	rec.Body, bodyErr = r.decodeBody(h, rec.Content())
	if r.Trace != nil {
		r.Trace(Event{Dir: Received, Time: time.Now(), Record: rec, Err: bodyErr})
	}
	if bodyErr != nil {
		return rec, &RecordError{Index: rec.Index, Offset: start, Header: h, Err: bodyErr}
	}
	return rec, nil
}

// versionErr consumes the header h of a record at start whose version is
// not 1, traces it, and returns the error.
func (r *Reader) versionErr(start int64, h Header) error {
	raw := r.buf[r.pos : r.pos+HeaderLen : r.pos+HeaderLen]
	r.pos += HeaderLen
	r.off += HeaderLen
	e := &RecordError{Index: r.index, Offset: start, Header: h, Partial: append([]byte(nil), raw...),
		Err: fmt.Errorf("%w %d (want 1): the %d content and %d padding bytes the header claims were not read",
			ErrVersion, h.Version, h.ContentLength, h.PaddingLength)}
	r.index++
	if r.Trace != nil {
		rec := &r.rec
		*rec = Record{Header: h, Index: e.Index, Offset: start, Raw: raw}
		r.Trace(Event{Dir: Received, Time: time.Now(), Record: rec, Err: e.Err})
	}
	return e
}

func (r *Reader) shortErr(start int64, h *Header, partial []byte, err error) error {
	e := &RecordError{Index: r.index, Offset: start, Partial: append([]byte(nil), partial...)}
	if h != nil {
		e.Header = *h
	}
	r.index++
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		if h == nil {
			e.Err = fmt.Errorf("%w: header cut after %d of %d bytes", ErrShortRecord, len(partial), HeaderLen)
		} else {
			e.Err = fmt.Errorf("%w: %s record with content length %d and padding %d cut after %d of %d bytes",
				ErrShortRecord, h.Type, h.ContentLength, h.PaddingLength, len(partial), h.RecordLen())
		}
		return e
	}
	e.Err = err
	return e
}

// decodeBody decodes the content of a record of a known type.
// With ownBodies the fixed-size bodies are decoded into the Reader's own
// storage, valid until the next ReadRecord like the rest of the Record.
func (r *Reader) decodeBody(h Header, c []byte) (Body, error) {
	if r.rawParams && h.Type == TypeParams {
		return nil, nil
	}
	if !r.ownBodies {
		return decodeBody(h, c, &r.pairs, r.maxLen)
	}
	// Valid lengths decode here, without the allocation of the Parse
	// functions; the others go on to them for the error.
	switch {
	case h.Type == TypeBeginRequest && len(c) == beginRequestLen:
		r.begin = BeginRequest{Role: Role(binary.BigEndian.Uint16(c)), Flags: Flags(c[2])}
		copy(r.begin.Reserved[:], c[3:])
		return &r.begin, nil
	case h.Type == TypeEndRequest && len(c) == endRequestLen:
		r.endBody = EndRequest{AppStatus: binary.BigEndian.Uint32(c), ProtocolStatus: ProtocolStatus(c[4])}
		copy(r.endBody.Reserved[:], c[5:])
		return &r.endBody, nil
	case h.Type == TypeUnknownType && len(c) == unknownTypeLen:
		r.unknown = UnknownType{Type: RecordType(c[0])}
		copy(r.unknown.Reserved[:], c[1:])
		return &r.unknown, nil
	}
	return decodeBody(h, c, &r.pairs, r.maxLen)
}

// decodeBody decodes content by type. pairs holds the state of pair streams
// that straddle records; it is created on first use.
func decodeBody(h Header, c []byte, pairs *map[streamKey]*pairStream, maxLen int) (Body, error) {
	var err error
	switch h.Type {
	case TypeBeginRequest:
		var b *BeginRequest
		if b, err = ParseBeginRequest(c); err == nil {
			return b, nil
		}
	case TypeEndRequest:
		var e *EndRequest
		if e, err = ParseEndRequest(c); err == nil {
			return e, nil
		}
	case TypeUnknownType:
		var u *UnknownType
		if u, err = ParseUnknownType(c); err == nil {
			return u, nil
		}
	case TypeParams, TypeGetValues, TypeGetValuesResult:
		return decodePairs(h, c, pairs, maxLen)
	default:
		return nil, nil
	}
	return nil, fmt.Errorf("%w: %v", ErrBody, err)
}

func decodePairs(h Header, c []byte, pairs *map[streamKey]*pairStream, maxLen int) (Body, error) {
	key := streamKey{h.RequestID, h.Type}
	if *pairs == nil {
		*pairs = make(map[streamKey]*pairStream)
	}
	s := (*pairs)[key]
	if len(c) == 0 {
		// The empty record closes a PARAMS stream (spec §3.3); GET_VALUES
		// records are whole on their own.
		var err error
		if s != nil {
			err = s.end()
			delete(*pairs, key)
		}
		if err != nil {
			return &Pairs{}, fmt.Errorf("%w: %v", ErrBody, err)
		}
		return &Pairs{}, nil
	}
	if s == nil {
		s = &pairStream{}
		(*pairs)[key] = s
	}
	p, err := s.decode(c, maxLen)
	if err != nil {
		delete(*pairs, key)
		return p, fmt.Errorf("%w: %v", ErrBody, err)
	}
	if h.Type != TypeParams {
		// Management records are not streams: a pair must end in its record.
		if err = s.end(); err != nil {
			delete(*pairs, key)
			return p, fmt.Errorf("%w: %s: %v", ErrBody, h.Type, err)
		}
	}
	if s.carry == nil {
		delete(*pairs, key)
	}
	return p, nil
}
