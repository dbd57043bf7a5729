// Exchange: everything about one FastCGI request — what was composed, what
// went on the wire both ways, and what it meant.

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"fcgiscope/fcgi"
)

// Input modes.
const (
	ModeHTTP = "http" // the request is composed as HTTP and mapped to params
	ModeRaw  = "raw"  // the params are written by hand
)

// RawParam is a hand-written param; disabled ones are kept but not sent.
type RawParam struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	Enabled bool   `json:"enabled"`
}

// Input is the request as the user composed it, before any middleware ran.
type Input struct {
	Mode      string     `json:"mode"` // ModeHTTP or ModeRaw
	Target    string     `json:"target"`
	Role      fcgi.Role  `json:"role"`
	KeepConn  bool       `json:"keep_conn"`
	RequestID uint16     `json:"request_id"` // 0: automatic
	Params    []RawParam `json:"params"`
	HTTP      *HTTPInput `json:"http,omitempty"`
	Body      []byte     `json:"body"`
	DataFile  string     `json:"data_file,omitempty"` // FILTER role: the file sent on DATA
}

// Clone returns a deep copy of in.
func (in Input) Clone() Input {
	in.Params = slices.Clone(in.Params)
	in.Body = bytes.Clone(in.Body)
	if in.HTTP != nil {
		in.HTTP = in.HTTP.Clone()
	}
	return in
}

// RecordInfo is the summary of one record of an Exchange, small enough to
// copy freely.
type RecordInfo struct {
	// Index is the record's position in the Exchange, both directions
	// together, in the order they were observed.
	Index int `json:"index"`
	// Dir is fcgi.Sent or fcgi.Received.
	Dir           fcgi.Direction  `json:"dir"`
	Type          fcgi.RecordType `json:"type"`
	RequestID     uint16          `json:"request_id"`
	ContentLength uint16          `json:"content_length"`
	PaddingLength uint8           `json:"padding_length"`
	Version       uint8           `json:"version"`
	// Offset is the byte offset of the record's header in its direction's
	// stream, counted from the exchange's first record in that direction.
	Offset int64 `json:"offset"`
	// T is when the record was written or read, since the exchange started.
	T time.Duration `json:"t"`
	// Err describes a decode error or an anomaly (such as a record for
	// another request id); empty if none.
	Err string `json:"err,omitempty"`
	// Truncated: the capture limit was reached; only the header was kept.
	Truncated bool `json:"truncated,omitempty"`
	// Skipped: only the header was observed, the content and padding went
	// by without being captured (see Exchange.Skipped); Truncated is set
	// too.
	Skipped bool `json:"skipped,omitempty"`
	// Partial: the connection ended inside this record; the bytes that
	// arrived were kept.
	Partial bool `json:"partial,omitempty"`
}

// Note says what is wrong with the record as it was captured, "" when
// nothing is: its decode error, then whether the connection ended inside
// it or the capture kept only its header. A records list marks the record
// with it.
func (r RecordInfo) Note() string {
	cut := ""
	switch {
	case r.Partial:
		cut = "the connection ended inside this record: only the bytes that arrived are shown"
	case r.Skipped:
		cut = "the capture fell behind the traffic: only the header was kept, the content went by uncaptured"
	case r.Truncated:
		cut = "capture limit reached: only the header was kept"
	}
	switch {
	case r.Err == "":
		return cut
	case cut == "":
		return r.Err
	}
	return r.Err + "; " + cut
}

// EndStatus is the body of an END_REQUEST record for the exchange's request.
type EndStatus struct {
	AppStatus      uint32              `json:"app_status"`
	ProtocolStatus fcgi.ProtocolStatus `json:"protocol_status"`
}

// Timings are offsets from the start of the exchange.
type Timings struct {
	Connect   time.Duration `json:"connect"`    // connection ready (dialled or reused)
	FirstByte time.Duration `json:"first_byte"` // first record received
	Total     time.Duration `json:"total"`      // the request finished or failed
}

// Sizes counts bytes of the exchange, captured or not.
type Sizes struct {
	Sent     int64 `json:"sent"`     // wire bytes sent
	Received int64 `json:"received"` // wire bytes received
	Stdin    int64 `json:"stdin"`    // STDIN content
	Data     int64 `json:"data"`     // DATA content
	Stdout   int64 `json:"stdout"`   // STDOUT content
	Stderr   int64 `json:"stderr"`   // STDERR content
	Captured int64 `json:"captured"` // bytes held by the capture
	Dropped  int64 `json:"dropped"`  // record bytes not kept because of the capture limit
}

// Exchange records one request: the composed Input, the final params, every
// record sent and received with its raw bytes, stdout and stderr, the
// END_REQUEST status, the parsed HTTP response, warnings, timings, sizes and
// the error, if any.
//
// A worker fills it while a UI goroutine reads it: every method is safe for
// concurrent use and returns a snapshot. Input, CaptureLimit and OnRecord are
// plain fields: set them before sending and leave them alone afterwards.
//
// Byte slices returned by methods are views into the capture (see capture)
// and must not be modified.
type Exchange struct {
	// Input is what the user composed.
	Input Input
	// CaptureLimit bounds the record bytes kept: a negative value means no
	// limit; 0 means the Engine's (Engine.Send fills it in), or
	// DefaultCaptureLimit. Past it record headers are still kept, content
	// is dropped, and Truncated and a warning report it.
	CaptureLimit int64
	// OnRecord, when set, is called for each record as it is captured,
	// in Index order, on the client's goroutines (never concurrently with
	// itself). It may call the Exchange's methods; it must not block for
	// long, since the connection waits for it (a UI hands the record to its
	// own goroutine, e.g. with fyne.Do).
	OnRecord func(RecordInfo)

	// writing holds one lock per direction (see writerOf), held by the
	// goroutine recording a record of that direction while it copies the
	// record's bytes into the capture, outside mu (see add). Whoever else
	// changes a capture's slices takes both (lockWriters). Lock order:
	// writing[0], writing[1], then mu.
	writing [2]sync.Mutex
	// mu guards everything below, and the capture slices as published:
	// readers take only mu, and never wait for a capture to grow.
	mu        sync.Mutex
	ntf       *notifier // created when OnRecord is first called
	target    string
	params    Params
	role      fcgi.Role
	keepConn  bool
	requestID uint16
	start     time.Time // wall clock, UTC, no monotonic reading
	recs      []record
	sent      capture
	recv      capture
	sizes     Sizes
	ends      []EndStatus
	resp      *HTTPResponse
	warnings  []string
	timings   Timings
	errText   string
	failure   *Failure // why it failed, in a user's words; nil if it did not
	finished  bool
	conn      fcgi.ConnInfo
	begins    int           // BEGIN_REQUEST records sent
	noRequest bool          // begun with no request (GET_VALUES): never an END_REQUEST
	skipped   int64         // record bytes that went by uncaptured (Skipped), part of sizes.Dropped
	framing   fcgi.Framing  // how PARAMS and STDIN were cut into records
	stdoutHdr cgiHeaderScan // looks for the Content-Length of the response
	connKept  *bool         // see SetConnKept; nil: not known
}

// NewExchange returns an Exchange for the composed input.
func NewExchange(in Input) *Exchange { return &Exchange{Input: in} }

type exchangeKey struct{}

// ContextWithExchange returns a context carrying x, so that the terminal
// Handler of a chain (Engine.Handler) records into x rather than a new
// Exchange: a UI can create x, set OnRecord, and watch the request live.
func ContextWithExchange(ctx context.Context, x *Exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, x)
}

// ExchangeFromContext returns the Exchange carried by ctx, or nil.
func ExchangeFromContext(ctx context.Context) *Exchange {
	x, _ := ctx.Value(exchangeKey{}).(*Exchange)
	return x
}

// Framing returns how the request's PARAMS and STDIN were cut into records
// (the HTTP profile's framing, or the default).
func (x *Exchange) Framing() fcgi.Framing {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.framing
}

// Profile returns the name of the web server profile the request was
// composed with in HTTP mode, or "" for a request not composed as HTTP.
func (x *Exchange) Profile() string {
	if x.Input.Mode != ModeHTTP || x.Input.HTTP == nil {
		return ""
	}
	if x.Input.HTTP.Profile == "" {
		return ProfileNginx
	}
	return x.Input.HTTP.Profile
}

// Target returns the address the request was sent to.
func (x *Exchange) Target() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.target
}

// Params returns the params as sent, in order, with the middleware that set each.
func (x *Exchange) Params() Params {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append(Params(nil), x.params...)
}

// Role returns the role of the request.
func (x *Exchange) Role() fcgi.Role {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.role
}

// KeepConn reports whether FCGI_KEEP_CONN was set.
func (x *Exchange) KeepConn() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.keepConn
}

// RequestID returns the request id used: as asked, or as the client chose it
// (known once BEGIN_REQUEST went out).
func (x *Exchange) RequestID() uint16 {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.requestID
}

// Sent reports whether BEGIN_REQUEST went out: whether the request reached
// the wire at all (a failed connect sends nothing, and has no request id).
func (x *Exchange) Sent() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.begins > 0
}

// SetConnKept records what became of a KEEP_CONN request's connection
// after END_REQUEST: kept open by the application, or closed by it (some
// servers ignore FCGI_KEEP_CONN). The sender watches for it; see
// ConnKept.
func (x *Exchange) SetConnKept(kept bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.connKept = &kept
}

// ConnKept returns what SetConnKept recorded; known is false when nobody
// watched.
func (x *Exchange) ConnKept() (kept, known bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.connKept == nil {
		return false, false
	}
	return *x.connKept, true
}

// Start returns when the exchange started (UTC).
func (x *Exchange) Start() time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.start
}

// Len returns the number of records.
func (x *Exchange) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.recs)
}

// Records returns a copy of the record summaries, in order.
func (x *Exchange) Records() []RecordInfo {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]RecordInfo, len(x.recs))
	for i := range x.recs {
		out[i] = x.recs[i].RecordInfo
	}
	return out
}

// Record returns the summary of record i.
func (x *Exchange) Record(i int) (RecordInfo, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i < 0 || i >= len(x.recs) {
		return RecordInfo{}, false
	}
	return x.recs[i].RecordInfo, true
}

// RecordRaw returns the bytes of record i as captured: header, content and
// padding; only the header for a Truncated record, what arrived for a Partial
// one; nil if i is out of range.
func (x *Exchange) RecordRaw(i int) []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i < 0 || i >= len(x.recs) {
		return nil
	}
	r := &x.recs[i]
	return r.raw(x.captureOf(r.Dir))
}

// recordShape returns the captured header bytes of record i (zero past
// what was captured) and how many bytes of the record were captured,
// without copying its content.
func (x *Exchange) recordShape(i int) (hdr [fcgi.HeaderLen]byte, n int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i < 0 || i >= len(x.recs) {
		return hdr, 0
	}
	r := &x.recs[i]
	c := x.captureOf(r.Dir)
	copy(hdr[:], c.frame[r.frameOff:r.frameOff+min(fcgi.HeaderLen, r.frameLen)])
	return hdr, r.frameLen + r.dataLen
}

// Captured returns how many bytes of record i the capture holds — header,
// content and padding as they arrived — without copying them; 0 if i is out
// of range.
func (x *Exchange) Captured(i int) int {
	_, n := x.recordShape(i)
	return n
}

// CutShort reports whether record ri, of which captured bytes were captured
// (Exchange.Captured), lost bytes to the end of the connection: marked
// Partial, or fewer bytes captured than its header announces. A record whose
// content the capture limit dropped is not cut short.
func (ri RecordInfo) CutShort(captured int) bool {
	return ri.Partial || !ri.Truncated && captured < fcgi.HeaderLen+int(ri.ContentLength)+int(ri.PaddingLength)
}

func (x *Exchange) captureOf(d fcgi.Direction) *capture {
	if d == fcgi.Sent {
		return &x.sent
	}
	return &x.recv
}

// Stdout returns the STDOUT content received for the request, in order: a
// view into the capture, not a copy.
func (x *Exchange) Stdout() []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	return view(x.recv.stream[slotStdout])
}

// Stderr returns the STDERR content received for the request (a view).
func (x *Exchange) Stderr() []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	return view(x.recv.stream[slotStderr])
}

// Stdin returns the STDIN content sent, the request body (a view).
func (x *Exchange) Stdin() []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	return view(x.sent.stream[slotStdin])
}

// Data returns the DATA content sent (FILTER role; a view).
func (x *Exchange) Data() []byte {
	x.mu.Lock()
	defer x.mu.Unlock()
	return view(x.sent.stream[slotData])
}

// End returns the first END_REQUEST status received for the request, or nil.
func (x *Exchange) End() *EndStatus {
	x.mu.Lock()
	defer x.mu.Unlock()
	if len(x.ends) == 0 {
		return nil
	}
	e := x.ends[0]
	return &e
}

// Ends returns every END_REQUEST status received for the request (normally one).
func (x *Exchange) Ends() []EndStatus {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]EndStatus(nil), x.ends...)
}

// Response returns the parsed CGI response, or nil if there is none (yet).
// It is shared: do not modify it.
func (x *Exchange) Response() *HTTPResponse {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.resp
}

// Warnings returns what looked wrong: CGI response problems, capture
// truncation, inconsistencies.
func (x *Exchange) Warnings() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.warnings...)
}

// Timings returns the connect, first-byte and total times.
func (x *Exchange) Timings() Timings {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.timings
}

// Sizes returns the byte counts.
func (x *Exchange) Sizes() Sizes {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.sizes
}

// ErrorText returns the error that ended the exchange, or "" if it succeeded.
func (x *Exchange) ErrorText() string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.errText
}

// Began reports whether BEGIN_REQUEST was sent: false for an exchange of
// management records only (GET_VALUES), which has no request and so no
// response and no END_REQUEST to wait for.
func (x *Exchange) Began() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.begins > 0
}

// Failure says why the exchange failed, once and in a user's words, with
// records numbered as the Exchange numbers them; nil if it did not fail (or
// has not finished).
func (x *Exchange) Failure() *Failure {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.failure == nil {
		return nil
	}
	f := *x.failure
	return &f
}

// Truncated reports whether the capture limit dropped record content.
func (x *Exchange) Truncated() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.sizes.Dropped > 0
}

// Conn describes the connection the request went over (zero if none was made).
func (x *Exchange) Conn() fcgi.ConnInfo {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.conn
}

// Finished reports whether the request is over (answered or failed).
func (x *Exchange) Finished() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.finished
}

// Decode decodes record i again from its raw bytes. Name-value pairs may
// straddle PARAMS records, so the pair records before it in the same
// direction are read first with an fcgi.Reader to rebuild the context. The
// record's Index and Offset are those of the Exchange. When the bytes do not
// decode, the error (an *fcgi.RecordError) comes with the record if it could
// be framed.
func (x *Exchange) Decode(i int) (*fcgi.Record, error) {
	x.mu.Lock()
	if i < 0 || i >= len(x.recs) {
		n := len(x.recs)
		x.mu.Unlock()
		return nil, fmt.Errorf("session: record %d does not exist (%d records)", i, n)
	}
	target := x.recs[i]
	c := x.captureOf(target.Dir)
	if target.Truncated {
		x.mu.Unlock()
		return nil, fmt.Errorf("session: record %d: content not captured (capture limit reached)", i)
	}
	var stream bytes.Buffer
	k := 1 // records to read: the pair records before the target, then the target
	for j := range i {
		r := &x.recs[j]
		if r.Dir == target.Dir && r.whole() && isPairType(r.Type) {
			stream.Write(r.raw(c))
			k++
		}
	}
	stream.Write(target.raw(c))
	x.mu.Unlock()

	rd := fcgi.NewReader(&stream)
	var rec *fcgi.Record
	var err error
	for range k {
		if rec, err = rd.ReadRecord(); rec == nil {
			break
		}
	}
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("session: record %d: no bytes captured", i)
	}
	var re *fcgi.RecordError
	if errors.As(err, &re) {
		re.Index, re.Offset = target.Index, target.Offset
	}
	if rec == nil {
		if re == nil || target.frameLen+target.dataLen == 0 {
			return nil, err
		}
		// The reader stopped at this record (a header whose version is not
		// 1, or bytes the connection cut short): show what was captured.
		h := fcgi.Header{Version: target.Version, Type: target.Type, RequestID: target.RequestID,
			ContentLength: target.ContentLength, PaddingLength: target.PaddingLength}
		return &fcgi.Record{Header: h, Index: target.Index, Offset: target.Offset,
			Raw: bytes.Clone(x.RecordRaw(i))}, err
	}
	out := *rec
	out.Raw = append([]byte(nil), rec.Raw...)
	out.Index, out.Offset = target.Index, target.Offset
	return &out, err
}

func isPairType(t fcgi.RecordType) bool {
	return t == fcgi.TypeParams || t == fcgi.TypeGetValues || t == fcgi.TypeGetValuesResult
}
