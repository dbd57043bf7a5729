// Writer: encodes records, one Write call per record.

package fcgi

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Writer writes records to a stream. Each record is assembled in a reused
// buffer and handed to the underlying io.Writer in exactly one Write call, so
// records of concurrent requests never interleave as long as callers
// serialize their calls. A Writer is not safe for concurrent use.
type Writer struct {
	w     io.Writer
	buf   []byte
	off   int64
	index int
	pairs map[streamKey]*pairStream
	pbuf  []byte // encoded params, reused

	// Trace, when set, is called after each record is written.
	Trace Trace
}

// NewWriter returns a Writer writing to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, buf: make([]byte, 0, HeaderLen+MaxContent+8)}
}

// Offset returns the number of bytes written so far.
func (w *Writer) Offset() int64 { return w.off }

// ErrContentTooLong: a record's content exceeds 65535 bytes.
var ErrContentTooLong = errors.New("fcgi: record content longer than 65535 bytes")

// WriteRecord writes one record of type t for request id with the given
// content, padded to a multiple of 8 bytes.
func (w *Writer) WriteRecord(t RecordType, id uint16, content []byte) error {
	if len(content) > MaxContent {
		return ErrContentTooLong
	}
	pad := PaddingFor(len(content))
	h := Header{Version: Version1, Type: t, RequestID: id, ContentLength: uint16(len(content)), PaddingLength: pad}
	b := AppendHeader(w.buf[:0], h)
	b = append(b, content...)
	b = append(b, zeros[:pad]...)
	return w.emit(h, b)
}

var zeros [MaxPadding]byte

// emit writes b, one record, in a single Write and traces it.
func (w *Writer) emit(h Header, b []byte) error {
	w.buf = b[:0]
	n, err := w.w.Write(b)
	start := w.off
	w.off += int64(n)
	idx := w.index
	w.index++
	if err != nil {
		return &WriteError{Index: idx, Offset: start, Written: n, Err: err}
	}
	if w.Trace != nil {
		rec := &Record{Header: h, Index: idx, Offset: start, Raw: b}
		var bodyErr error
		if h.Version == Version1 && h.RecordLen() == len(b) {
			rec.Body, bodyErr = decodeBody(h, rec.Content(), &w.pairs, DefaultMaxPairLen)
		}
		w.Trace(Event{Dir: Sent, Time: time.Now(), Record: rec, Err: bodyErr})
	}
	return nil
}

// WriteError reports a failed write and how many bytes of the record went out.
type WriteError struct {
	Index   int
	Offset  int64
	Written int // bytes of this record accepted before the error
	Err     error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("fcgi: writing record %d at byte %d: %v", e.Index, e.Offset, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// WriteBeginRequest writes a BEGIN_REQUEST record (spec §5.1).
func (w *Writer) WriteBeginRequest(id uint16, role Role, flags Flags) error {
	var c [beginRequestLen]byte
	return w.WriteRecord(TypeBeginRequest, id, AppendBeginRequest(c[:0], BeginRequest{Role: role, Flags: flags}))
}

// WriteAbortRequest writes an ABORT_REQUEST record (spec §5.4).
func (w *Writer) WriteAbortRequest(id uint16) error {
	return w.WriteRecord(TypeAbortRequest, id, nil)
}

// WriteEndRequest writes an END_REQUEST record (spec §5.5).
func (w *Writer) WriteEndRequest(id uint16, appStatus uint32, status ProtocolStatus) error {
	var c [endRequestLen]byte
	return w.WriteRecord(TypeEndRequest, id, AppendEndRequest(c[:0], EndRequest{AppStatus: appStatus, ProtocolStatus: status}))
}

// WriteUnknownType writes an UNKNOWN_TYPE management record (spec §4.2).
func (w *Writer) WriteUnknownType(t RecordType) error {
	var c [unknownTypeLen]byte
	return w.WriteRecord(TypeUnknownType, NullRequestID, AppendUnknownType(c[:0], UnknownType{Type: t}))
}

// WriteParams writes the whole PARAMS stream of a request: the encoded pairs
// in records of at most 65535 bytes, then the empty record that closes the
// stream. Records break between pairs: php-fpm parses every PARAMS record on
// its own and drops the connection when a pair straddles two. Only a pair
// longer than one record is split, as spec §3.4 allows.
func (w *Writer) WriteParams(id uint16, params []Pair) error {
	for _, p := range params {
		if len(p.Name) > maxPairLen || len(p.Value) > maxPairLen {
			return fmt.Errorf("fcgi: param %.40q longer than 2^31-1 bytes", p.Name)
		}
	}
	b := w.pbuf[:0]
	for _, p := range params {
		if n := PairLen(p); len(b) > 0 && len(b)+n > MaxContent && n <= MaxContent {
			if err := w.WriteRecord(TypeParams, id, b); err != nil {
				return err
			}
			b = b[:0]
		}
		b = AppendPair(b, p)
		for len(b) > MaxContent {
			if err := w.WriteRecord(TypeParams, id, b[:MaxContent]); err != nil {
				return err
			}
			b = append(b[:0], b[MaxContent:]...)
		}
	}
	w.pbuf = b[:0]
	if err := w.WriteStream(TypeParams, id, b); err != nil {
		return err
	}
	return w.CloseStream(TypeParams, id)
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

// CloseStream writes the empty record that ends a stream of type t (spec §3.3).
func (w *Writer) CloseStream(t RecordType, id uint16) error {
	return w.WriteRecord(t, id, nil)
}

// WriteGetValues writes a GET_VALUES management record asking for names
// (spec §4.1). Each name goes with an empty value.
func (w *Writer) WriteGetValues(names []string) error {
	var c []byte
	for _, n := range names {
		c = AppendPair(c, Pair{Name: n})
	}
	return w.WriteRecord(TypeGetValues, NullRequestID, c)
}

// WriteGetValuesResult writes a GET_VALUES_RESULT management record (spec §4.1).
func (w *Writer) WriteGetValuesResult(values []Pair) error {
	return w.WriteRecord(TypeGetValuesResult, NullRequestID, AppendPairs(nil, values))
}

// Fault is a deliberately wrong record, for teaching and for testing how
// peers cope. Its header is written exactly as given, whatever Content and
// Padding really hold: a lying ContentLength, a version other than 1, an
// unknown type or padding that does not align to 8 go out unchanged.
type Fault struct {
	Header  Header
	Content []byte
	Padding []byte
}

// WriteFault writes f byte for byte, in one Write. Nothing is checked: this
// is the only way to put a malformed record on the wire.
func (w *Writer) WriteFault(f Fault) error {
	b := AppendHeader(w.buf[:0], f.Header)
	b = append(b, f.Content...)
	b = append(b, f.Padding...)
	return w.emit(f.Header, b)
}
