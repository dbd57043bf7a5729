// Writer: encodes records, one write per record or one per held batch.

package fcgi

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Writer writes records to a stream. A record goes to the underlying
// io.Writer in exactly one Write call, assembled in a buffer that grows on
// demand, so records of concurrent requests never interleave as long as
// callers serialize their calls. A Writer is not safe for concurrent use.
//
// On a *net.TCPConn or *net.UnixConn a record whose content is at least
// 2 KiB is not copied: its header, content and padding go out in one
// net.Buffers write (a writev system call, repeated only if the kernel
// takes part of it, as a Write would be).
//
// Inside the package, records written between hold and endHold are kept in
// the buffer and go out together, in one Write (or one writev when large
// content joins them), so a request's head of several records, or a
// response with its END_REQUEST, costs one system call.
type Writer struct {
	w       io.Writer
	vec     bool // w writes net.Buffers with one writev
	buf     []byte
	recs    []pendingRecord // records in buf (and the external one), not yet written
	holding bool
	off     int64 // bytes accepted by w
	index   int
	pairs   map[streamKey]*pairStream
	pbuf    []byte // encoded params of a PARAMS stream longer than one record, reused

	// Large record going out with writev, set during write.
	extContent, extPadding []byte
	vecs                   net.Buffers
	iov                    [3][]byte
	scratch                []byte // a large record assembled for a trace only

	// traceFirst makes the Writer call Trace before a record's bytes are
	// handed to w (the client: no trace shows an answer before the record
	// that caused it) instead of after.
	traceFirst bool

	// Trace, when set, is called for each record written: after it went
	// out (before, for a client Conn's Writer).
	Trace Trace

	// AllowIllegalWrites lets WriteRaw put a header on the wire that does
	// not describe what follows it: a version other than 1, a content or
	// padding length other than the bytes sent. Such a record throws the
	// reader out of step, so nothing meant to speak FastCGI sets it: it
	// exists to test how other implementations cope with a broken peer
	// (the demo backend's /misbehave/ routes, fcgitest's hostile
	// backends, ResponseWriter.Misbehave).
	AllowIllegalWrites bool
}

// pendingRecord is a record between being encoded and being written.
type pendingRecord struct {
	h     Header
	start int // offset in buf; for the external record, of its header
	index int
	ext   bool // content and padding are extContent, extPadding
}

// Buffer sizes.
const (
	// vecContent is the content length from which a record on a
	// connection goes out with writev instead of being copied.
	vecContent = 2 << 10
	// maxHeld bounds the bytes held in the buffer: a record that would
	// grow it past this writes what is held first.
	maxHeld = HeaderLen + MaxContent + maxPadding
	// minBuf is the first allocation of the buffer.
	minBuf = 1 << 10
)

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	wr := &Writer{w: w}
	switch w.(type) {
	case *net.TCPConn, *net.UnixConn:
		wr.vec = true
	}
	return wr
}

// offset returns the number of bytes written so far.
func (w *Writer) offset() int64 { return w.off }

// errContentTooLong: a record's content exceeds 65535 bytes.
var errContentTooLong = errors.New("fcgi: record content longer than 65535 bytes")

// hold makes the Writer keep the records written from now on until endHold,
// which writes them together. A record that would make the held bytes
// exceed one maximal record writes what is held first; large content on a
// connection goes out at once with what is held (see Writer). Errors are
// reported by the call that writes.
func (w *Writer) hold() { w.holding = true }

// endHold writes the held records and ends holding. On failure it returns a
// *writeError naming the first record that was not written whole.
func (w *Writer) endHold() error {
	w.holding = false
	return w.flush()
}

// buffered returns the number of bytes held and not yet written.
func (w *Writer) buffered() int { return len(w.buf) }

// WriteRecord writes one record of type t for request id with the given
// content, padded to a multiple of 8 bytes.
func (w *Writer) WriteRecord(t RecordType, id uint16, content []byte) error {
	return w.paddedRecord(t, id, content, PaddingFor(len(content)))
}

// paddedRecord writes one record of type t with the given content and pad
// zero bytes of padding.
func (w *Writer) paddedRecord(t RecordType, id uint16, content []byte, pad uint8) error {
	if len(content) > MaxContent {
		return errContentTooLong
	}
	h := Header{Version: Version1, Type: t, RequestID: id, ContentLength: uint16(len(content)), PaddingLength: pad}
	return w.record(h, content, zeros[:pad])
}

var zeros [maxPadding]byte

// record writes, or holds, one record: header h, then content and padding
// exactly as given.
func (w *Writer) record(h Header, content, padding []byte) error {
	if w.vec && len(content) >= vecContent {
		return w.writeVec(h, content, padding)
	}
	return w.small(h, content, padding)
}

// small writes, or holds, a record copied into the buffer (content does
// not escape, so the fixed bodies stay on the caller's stack).
func (w *Writer) small(h Header, content, padding []byte) error {
	start, err := w.place(h, HeaderLen+len(content)+len(padding))
	if err != nil {
		return err
	}
	w.buf = append(w.buf, content...)
	w.buf = append(w.buf, padding...)
	w.added(h, start, false)
	if w.holding {
		return nil
	}
	return w.flush()
}

// place starts the record h, n bytes long in all, in the buffer: it writes
// what is held first if the record would take the buffer past maxHeld,
// makes room for the whole record, appends its header and returns where the
// record starts. (n is given apart because WriteRaw's header may lie.)
func (w *Writer) place(h Header, n int) (start int, err error) {
	if len(w.buf) > 0 && len(w.buf)+n > maxHeld {
		if err := w.flush(); err != nil {
			return 0, err
		}
	}
	w.grow(n)
	start = len(w.buf)
	w.buf = AppendHeader(w.buf, h)
	return start, nil
}

// grow makes room for n more bytes in buf.
func (w *Writer) grow(n int) {
	if cap(w.buf)-len(w.buf) >= n {
		return
	}
	b := make([]byte, len(w.buf), max(2*cap(w.buf), len(w.buf)+n, minBuf))
	copy(b, w.buf)
	w.buf = b
}

// added registers the record just encoded at start and traces it if the
// trace comes first.
func (w *Writer) added(h Header, start int, ext bool) {
	w.recs = append(w.recs, pendingRecord{h: h, start: start, index: w.index, ext: ext})
	w.index++
	if w.traceFirst && w.Trace != nil {
		w.trace(&w.recs[len(w.recs)-1], w.off, len(w.buf))
	}
}

// writeVec writes what is held and the record h with large content in one
// net.Buffers write.
func (w *Writer) writeVec(h Header, content, padding []byte) error {
	w.grow(HeaderLen)
	start := len(w.buf)
	w.buf = AppendHeader(w.buf, h)
	w.extContent, w.extPadding = content, padding
	w.added(h, start, true)
	w.iov = [3][]byte{w.buf, content, padding}
	w.vecs = w.iov[:]
	if len(padding) == 0 {
		w.vecs = w.iov[:2]
	}
	n, err := w.vecs.WriteTo(w.w)
	w.iov = [3][]byte{}
	w.vecs = nil
	err = w.done(int(n), err)
	w.extContent, w.extPadding = nil, nil
	return err
}

// flush writes the held records in one Write.
func (w *Writer) flush() error {
	if len(w.recs) == 0 {
		return nil
	}
	n, err := w.w.Write(w.buf)
	return w.done(n, err)
}

// done accounts for n bytes of the pending records having been written:
// it traces the records that went out whole (unless traced before), and
// returns a *writeError for the first one cut by err.
func (w *Writer) done(n int, err error) error {
	base := w.off
	w.off += int64(n)
	total := len(w.buf) + len(w.extContent) + len(w.extPadding)
	if err == nil && n < total {
		err = io.ErrShortWrite
	}
	var werr *writeError
	for i := range w.recs {
		r := &w.recs[i]
		end := total
		if i+1 < len(w.recs) {
			end = w.recs[i+1].start
		}
		if end > n || (err != nil && i == len(w.recs)-1) {
			werr = &writeError{Index: r.index, Offset: base + int64(r.start), Written: max(n-r.start, 0), Err: err}
			break
		}
		if !w.traceFirst && w.Trace != nil {
			w.trace(r, base, end)
		}
	}
	w.buf = w.buf[:0]
	clear(w.recs)
	w.recs = w.recs[:0]
	if werr != nil {
		w.holding = false
		return werr
	}
	return nil
}

// trace calls Trace for the pending record r, which ends at end in buf;
// base is the stream offset of buf[0].
func (w *Writer) trace(r *pendingRecord, base int64, end int) {
	var raw []byte
	if r.ext {
		w.scratch = append(append(append(w.scratch[:0], w.buf[r.start:r.start+HeaderLen]...), w.extContent...), w.extPadding...)
		raw = w.scratch
	} else {
		raw = w.buf[r.start:end]
	}
	h := r.h
	rec := &Record{Header: h, Index: r.index, Offset: base + int64(r.start), Raw: raw}
	var bodyErr error
	if h.Version == Version1 && h.RecordLen() == len(raw) {
		rec.Body, bodyErr = decodeBody(h, rec.Content(), &w.pairs, defaultMaxPairLen)
	}
	w.Trace(Event{Dir: Sent, Time: time.Now(), Record: rec, Err: bodyErr})
}

// writeError reports a failed write and how many bytes of the record went
// out. After a failed endHold (or a held batch written on the way) it names
// the first record not written whole; the records before it went out.
type writeError struct {
	Index   int
	Offset  int64
	Written int // bytes of this record accepted before the error
	Err     error
}

func (e *writeError) Error() string {
	return fmt.Sprintf("fcgi: writing record %d at byte %d: %v", e.Index, e.Offset, e.Err)
}

func (e *writeError) Unwrap() error { return e.Err }

// fixed writes a record with the 8-byte body c.
func (w *Writer) fixed(t RecordType, id uint16, c []byte) error {
	h := Header{Version: Version1, Type: t, RequestID: id, ContentLength: uint16(len(c))}
	return w.small(h, c, nil)
}

// WriteBeginRequest writes a BEGIN_REQUEST record (spec §5.1).
func (w *Writer) WriteBeginRequest(id uint16, role Role, flags Flags) error {
	var c [beginRequestLen]byte
	return w.fixed(TypeBeginRequest, id, appendBeginRequest(c[:0], BeginRequest{Role: role, Flags: flags}))
}

// WriteAbortRequest writes an ABORT_REQUEST record (spec §5.4).
func (w *Writer) WriteAbortRequest(id uint16) error {
	return w.WriteRecord(TypeAbortRequest, id, nil)
}

// WriteEndRequest writes an END_REQUEST record (spec §5.5).
func (w *Writer) WriteEndRequest(id uint16, appStatus uint32, status ProtocolStatus) error {
	var c [endRequestLen]byte
	return w.fixed(TypeEndRequest, id, appendEndRequest(c[:0], EndRequest{AppStatus: appStatus, ProtocolStatus: status}))
}

// WriteUnknownType writes an UNKNOWN_TYPE management record (spec §4.2).
func (w *Writer) WriteUnknownType(t RecordType) error {
	var c [unknownTypeLen]byte
	return w.fixed(TypeUnknownType, NullRequestID, appendUnknownType(c[:0], UnknownType{Type: t}))
}

// WriteParams writes the whole PARAMS stream of a request: the encoded pairs
// in records of at most 65535 bytes, then the empty record that closes the
// stream. Records break between pairs: php-fpm parses every PARAMS record on
// its own and drops the connection when a pair straddles two. Only a pair
// longer than one record is split, as spec §3.4 allows.
func (w *Writer) WriteParams(id uint16, params []Pair) error {
	return w.WriteParamsFramed(id, params, Framing{})
}

// WriteParamsFramed writes the PARAMS stream as WriteParams does, in records
// of at most f.ParamsMax bytes, padded unless f.ParamsUnpadded (the STDIN
// fields of f do not matter here).
func (w *Writer) WriteParamsFramed(id uint16, params []Pair, f Framing) error {
	if err := f.check(); err != nil {
		return err
	}
	limit := f.paramsMax()
	size := 0
	for _, p := range params {
		if len(p.Name) > maxPairLen || len(p.Value) > maxPairLen {
			return &pairTooLongError{p.Name}
		}
		size += pairLen(p)
	}
	if size > 0 && size <= limit {
		// The usual case: one record, encoded in place.
		if err := w.paramsInPlace(id, params, size, f.padding(TypeParams, size)); err != nil {
			return err
		}
		return w.CloseStream(TypeParams, id)
	}
	b := w.pbuf[:0]
	out := func(c []byte) error { return w.paddedRecord(TypeParams, id, c, f.padding(TypeParams, len(c))) }
	for _, p := range params {
		if n := pairLen(p); len(b) > 0 && len(b)+n > limit && n <= limit {
			if err := out(b); err != nil {
				return err
			}
			b = b[:0]
		}
		b = appendPair(b, p)
		for len(b) > limit {
			if err := out(b[:limit]); err != nil {
				return err
			}
			b = append(b[:0], b[limit:]...)
		}
	}
	w.pbuf = b[:0]
	if len(b) > 0 {
		if err := out(b); err != nil {
			return err
		}
	}
	return w.CloseStream(TypeParams, id)
}

// pairTooLongError: a param cannot be encoded, its name or value being
// longer than a length field holds. WriteParams returns it before writing
// anything.
type pairTooLongError struct{ name string }

func (e *pairTooLongError) Error() string {
	return fmt.Sprintf("fcgi: param %.40q longer than 2^31-1 bytes", e.name)
}

// paramsInPlace writes params, size bytes encoded, as one PARAMS record
// with pad bytes of padding, encoded straight into the buffer.
func (w *Writer) paramsInPlace(id uint16, params []Pair, size int, pad uint8) error {
	h := Header{Version: Version1, Type: TypeParams, RequestID: id, ContentLength: uint16(size), PaddingLength: pad}
	start, err := w.place(h, h.RecordLen())
	if err != nil {
		return err
	}
	w.buf = AppendPairs(w.buf, params)
	w.buf = append(w.buf, zeros[:pad]...)
	w.added(h, start, false)
	if w.holding {
		return nil
	}
	return w.flush()
}

// WriteStream writes p as records of type t, each at most 65535 bytes of
// content. It writes nothing for an empty p: use CloseStream to end a stream.
func (w *Writer) WriteStream(t RecordType, id uint16, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), MaxContent)
		if err := w.WriteRecord(t, id, p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

// writeFramed writes one record of type t whose content was placed at
// rec[HeaderLen:], padded as f says: the header is filled in front of it
// and the padding after it (cap(rec) must leave room for 7 bytes), so the
// content is not copied again.
func (w *Writer) writeFramed(t RecordType, id uint16, rec []byte, f Framing) error {
	size := len(rec) - HeaderLen
	pad := f.padding(t, size)
	if w.holding || len(w.buf) > 0 {
		return w.paddedRecord(t, id, rec[HeaderLen:], pad)
	}
	h := Header{Version: Version1, Type: t, RequestID: id, ContentLength: uint16(size), PaddingLength: pad}
	AppendHeader(rec[:0], h)
	rec = append(rec, zeros[:pad]...)
	saved := w.buf
	w.buf = rec
	w.added(h, 0, false)
	n, err := w.w.Write(rec)
	err = w.done(n, err)
	w.buf = saved[:0]
	return err
}

// appendFrom writes the n bytes at off in r as STDIN records framed as f
// says, reading each record's content straight into its place in the
// buffer. A read error is returned as is, and the record it cut is dropped.
func (w *Writer) appendFrom(id uint16, r io.ReaderAt, off int64, n int, f Framing) error {
	const t = TypeStdin
	for n > 0 {
		k := min(n, f.stdinMax())
		pad := f.padding(t, k)
		h := Header{Version: Version1, Type: t, RequestID: id, ContentLength: uint16(k), PaddingLength: pad}
		start, err := w.place(h, h.RecordLen())
		if err != nil {
			return err
		}
		if m, err := r.ReadAt(w.buf[start+HeaderLen:start+HeaderLen+k], off); m < k {
			w.buf = w.buf[:start]
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		off += int64(k)
		w.buf = append(w.buf[:start+HeaderLen+k], zeros[:pad]...)
		w.added(h, start, false)
		if !w.holding {
			if err := w.flush(); err != nil {
				return err
			}
		}
		n -= k
	}
	return nil
}

// drop forgets the held records and ends holding.
func (w *Writer) drop() {
	w.buf = w.buf[:0]
	clear(w.recs)
	w.recs = w.recs[:0]
	w.holding = false
}

// CloseStream writes the empty record that ends a stream of type t (spec §3.3).
func (w *Writer) CloseStream(t RecordType, id uint16) error {
	return w.WriteRecord(t, id, nil)
}

// WriteGetValues writes a GET_VALUES management record asking for names
// (spec §4.1). Each name goes with an empty value.
func (w *Writer) WriteGetValues(names []string) error {
	var c []byte
	for _, n := range names {
		c = appendPair(c, Pair{Name: n})
	}
	return w.WriteRecord(TypeGetValues, NullRequestID, c)
}

// WriteGetValuesResult writes a GET_VALUES_RESULT management record (spec §4.1).
func (w *Writer) WriteGetValuesResult(values []Pair) error {
	return w.WriteRecord(TypeGetValuesResult, NullRequestID, AppendPairs(nil, values))
}

// WriteRaw writes one record exactly as given: the header h, then content
// and padding, in one Write (or one writev). The padding may take any
// length up to 255: the spec only recommends aligning records to 8 bytes
// (spec §3.3).
//
// Unless AllowIllegalWrites is set, h must describe the record: version
// 1, ContentLength len(content) and PaddingLength len(padding); otherwise
// WriteRaw writes nothing and says which field does not match. With
// AllowIllegalWrites the header is written as it is, whatever follows it.
func (w *Writer) WriteRaw(h Header, content, padding []byte) error {
	if !w.AllowIllegalWrites {
		switch {
		case h.Version != Version1:
			return fmt.Errorf("fcgi: WriteRaw: version %d, want 1 (set AllowIllegalWrites to write it)", h.Version)
		case int(h.ContentLength) != len(content) || int(h.PaddingLength) != len(padding):
			return fmt.Errorf("fcgi: WriteRaw: the header claims %d content and %d padding bytes, %d and %d follow (set AllowIllegalWrites to write it)",
				h.ContentLength, h.PaddingLength, len(content), len(padding))
		}
	}
	return w.record(h, content, padding)
}
