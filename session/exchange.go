// Exchange: everything about one FastCGI request — what was composed, what
// went on the wire both ways, and what it meant.

package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// Partial: the connection ended inside this record; the bytes that
	// arrived were kept.
	Partial bool `json:"partial,omitempty"`
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
	finished  bool
	conn      fcgi.ConnInfo
	begins    int           // BEGIN_REQUEST records sent
	stdoutHdr cgiHeaderScan // looks for the Content-Length of the response
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

// Recording a request.
//
// Engine.Send and SendOn record a request into an Exchange in three steps:
// Begin, then every record through Trace, then Complete. Code that sends by
// other means (a connection traced as a whole, management records only)
// takes the same three steps itself.

// Begin records what is about to be sent to target: req's params, role,
// KEEP_CONN and request id. A nil req means no request, only management
// records (GET_VALUES): no role, request id 0. start is the time that
// record times are measured from; it should carry a monotonic reading. Call
// Begin once, before the first record.
func (x *Exchange) Begin(target string, req *Request, start time.Time) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.target = target
	x.start = start.Round(0).UTC()
	x.stdoutHdr.start()
	if req == nil {
		return
	}
	x.params = append(Params(nil), req.Params...)
	x.role = req.Role
	if x.role == 0 {
		x.role = fcgi.RoleResponder
	}
	x.keepConn = req.KeepConn
	x.requestID = req.ID
	// Announced lengths size the captured streams (see capture).
	if v, ok := req.Params.Get("CONTENT_LENGTH"); ok {
		x.sent.want[slotStdin], _ = lengthHint(v)
	}
	if v, ok := req.Params.Get("FCGI_DATA_LENGTH"); ok {
		x.sent.want[slotData], _ = lengthHint(v)
	}
}

// limit returns the effective capture limit (0: none).
func (x *Exchange) limit() int64 {
	switch {
	case x.CaptureLimit == 0:
		return DefaultCaptureLimit
	case x.CaptureLimit < 0:
		return 0
	}
	return x.CaptureLimit
}

// Trace returns the fcgi.Trace that records into x, measuring times from
// start (the time given to Begin). Set on an fcgi.Request, it records that
// request's records; set in the fcgi.Options of a connection, every record
// of the connection, whatever its request id.
func (x *Exchange) Trace(start time.Time) fcgi.Trace {
	return func(ev fcgi.Event) {
		if ev.Record == nil {
			return
		}
		var errText string
		if ev.Err != nil {
			errText = ev.Err.Error()
		}
		// The client traces a record cut short by the end of the
		// connection with the bytes that arrived: keep it, marked partial.
		partial := errors.Is(ev.Err, fcgi.ErrShortRecord)
		x.add(ev.Dir, ev.Record.Header, ev.Record.Raw, ev.Time.Sub(start), errText, partial)
	}
}

// addPartial records the bytes of a record that the connection cut short, as
// reported by a *fcgi.RecordError.
func (x *Exchange) addPartial(dir fcgi.Direction, re *fcgi.RecordError, t time.Duration) {
	if len(re.Partial) == 0 {
		return
	}
	h := re.Header
	if len(re.Partial) >= fcgi.HeaderLen {
		h, _ = fcgi.ParseHeader(re.Partial)
	}
	x.add(dir, h, re.Partial, t, re.Error(), true)
}

// add captures one record and tells OnRecord about it.
//
// The record's bytes are copied into the capture outside mu, holding only
// the direction's writer lock, so that a reader (the UI, every few
// milliseconds) never waits while the capture grows: growing a stream of
// 100 MiB copies it, which takes tens of milliseconds. mu is taken twice,
// briefly: to place the record (see capture.place), then to publish it.
func (x *Exchange) add(dir fcgi.Direction, h fcgi.Header, raw []byte, t time.Duration, errText string, partial bool) {
	w := x.writerOf(dir)
	w.Lock()
	c := x.captureOf(dir)
	x.mu.Lock()
	if dir == fcgi.Sent && h.Type == fcgi.TypeBeginRequest {
		x.begins++
		if x.requestID == 0 && h.RequestID != 0 {
			x.requestID = h.RequestID
		}
	}
	r := record{RecordInfo: RecordInfo{
		Dir: dir, Type: h.Type, RequestID: h.RequestID,
		ContentLength: h.ContentLength, PaddingLength: h.PaddingLength, Version: h.Version,
		Offset: c.wire, T: t, Err: errText, Partial: partial,
	}}
	added, reserve := c.place(&r, h, raw, x.requestID, x.sizes.Captured, x.limit(), x.sizes.Dropped > 0)
	// Counted now, so that a record of the other direction placed
	// meanwhile sees the capture limit as it will be.
	x.sizes.Captured += added
	if r.Truncated {
		x.sizes.Dropped += int64(len(raw)) - added
	}
	x.mu.Unlock()

	frame, stream := c.put(&r, raw, reserve)

	x.mu.Lock()
	c.publish(&r, frame, stream)
	w.Unlock()
	if dir == fcgi.Received && x.timings.FirstByte == 0 {
		x.timings.FirstByte = max(t, 1)
	}
	if dir == fcgi.Received && r.slot == slotStdout {
		x.sizeStdout()
	}
	if dir == fcgi.Sent {
		x.sizes.Sent += int64(len(raw))
	} else {
		x.sizes.Received += int64(len(raw))
	}
	if h.RequestID == x.requestID && h.Version == fcgi.Version1 && !partial {
		n := int64(h.ContentLength)
		switch h.Type {
		case fcgi.TypeStdin:
			x.sizes.Stdin += n
		case fcgi.TypeData:
			x.sizes.Data += n
		case fcgi.TypeStdout:
			x.sizes.Stdout += n
		case fcgi.TypeStderr:
			x.sizes.Stderr += n
		case fcgi.TypeEndRequest:
			if dir == fcgi.Received && len(raw) == h.RecordLen() {
				if e, err := fcgi.ParseEndRequest(raw[fcgi.HeaderLen : fcgi.HeaderLen+int(h.ContentLength)]); err == nil {
					x.ends = append(x.ends, EndStatus{AppStatus: e.AppStatus, ProtocolStatus: e.ProtocolStatus})
				}
			}
		}
	}
	r.Index = len(x.recs)
	x.recs = append(x.recs, r)
	info := r.RecordInfo
	on := x.OnRecord
	var n *notifier
	var ticket uint64
	if on != nil {
		if x.ntf == nil {
			x.ntf = newNotifier()
		}
		n, ticket = x.ntf, x.ntf.next
		x.ntf.next++
	}
	x.mu.Unlock()
	if n != nil {
		n.run(ticket, func() { on(info) })
	}
}

// writerOf returns the lock of the writer of direction d's capture.
func (x *Exchange) writerOf(d fcgi.Direction) *sync.Mutex {
	if d == fcgi.Sent {
		return &x.writing[0]
	}
	return &x.writing[1]
}

// lockWriters takes the writer locks of both directions, to change the
// captures' bytes in place of add (see writing); the caller must not hold mu.
func (x *Exchange) lockWriters() {
	x.writing[0].Lock()
	x.writing[1].Lock()
}

func (x *Exchange) unlockWriters() {
	x.writing[1].Unlock()
	x.writing[0].Unlock()
}

// sizeStdout reads the Content-Length of the CGI response once its header
// block has arrived, so that the rest of stdout is stored in one allocation.
func (x *Exchange) sizeStdout() {
	out := x.recv.stream[slotStdout]
	end := x.stdoutHdr.next(out)
	if end == 0 {
		return
	}
	if n, ok := contentLength(out[:end]); ok {
		if rest := int64(end) + n - int64(len(out)); rest > 0 {
			x.recv.want[slotStdout] = rest
		}
	}
}

// notifier runs OnRecord calls one at a time, in the order of their tickets
// (taken under the Exchange's lock, so in Index order), without holding that
// lock: OnRecord may call the Exchange's methods.
type notifier struct {
	mu     sync.Mutex
	cond   *sync.Cond
	next   uint64 // next ticket to hand out (guarded by the Exchange's lock)
	served uint64 // ticket whose turn it is
}

func newNotifier() *notifier {
	n := &notifier{}
	n.cond = sync.NewCond(&n.mu)
	return n
}

// run waits for ticket's turn, calls f, and passes the turn on.
func (n *notifier) run(ticket uint64, f func()) {
	n.mu.Lock()
	for n.served != ticket {
		n.cond.Wait()
	}
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		n.served++
		n.cond.Broadcast()
		n.mu.Unlock()
	}()
	f()
}

// warn adds warnings.
func (x *Exchange) warn(ws ...string) {
	x.mu.Lock()
	x.warnings = append(x.warnings, ws...)
	x.mu.Unlock()
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

// exchangeJSON is the lossless serialized form of an Exchange.
type exchangeJSON struct {
	Input        Input         `json:"input"`
	CaptureLimit int64         `json:"capture_limit"`
	Target       string        `json:"target"`
	Params       Params        `json:"params"`
	Role         fcgi.Role     `json:"role"`
	KeepConn     bool          `json:"keep_conn"`
	RequestID    uint16        `json:"request_id"`
	Start        time.Time     `json:"start"`
	Records      []recordJSON  `json:"records"`
	Sent         captureJSON   `json:"sent"`
	Received     captureJSON   `json:"received"`
	Sizes        Sizes         `json:"sizes"`
	Ends         []EndStatus   `json:"end_request"`
	Response     *responseJSON `json:"response"`
	Warnings     []string      `json:"warnings"`
	Timings      Timings       `json:"timings"`
	Error        string        `json:"error,omitempty"`
	Finished     bool          `json:"finished"`
	Conn         fcgi.ConnInfo `json:"conn"`
	Begins       int           `json:"begins"`
}

// recordJSON is a record with where its bytes lie in its direction's capture.
type recordJSON struct {
	RecordInfo
	Dir      string `json:"dir"` // "sent" or "received"; shadows RecordInfo.Dir
	FrameOff int    `json:"frame_off"`
	FrameLen int    `json:"frame_len"`
	Stream   string `json:"stream,omitempty"` // "stdin", "stdout", "stderr", "data" or ""
	DataOff  int    `json:"data_off,omitempty"`
	DataLen  int    `json:"data_len,omitempty"`
}

// captureJSON holds one direction's bytes, base64 encoded by encoding/json.
type captureJSON struct {
	Wire   int64  `json:"wire"`
	Frame  []byte `json:"frame"`
	Stdin  []byte `json:"stdin"`
	Stdout []byte `json:"stdout"`
	Stderr []byte `json:"stderr"`
	Data   []byte `json:"data"`
}

// responseJSON is an HTTPResponse without its body, which is
// Stdout()[HeaderLen:].
type responseJSON struct {
	Status    int      `json:"status"`
	Reason    string   `json:"reason"`
	Headers   []Header `json:"headers"`
	HeaderLen int      `json:"header_len"`
}

// MarshalJSON encodes everything the Exchange holds, raw bytes included
// (base64 per direction), except OnRecord. UnmarshalJSON restores it exactly.
func (x *Exchange) MarshalJSON() ([]byte, error) {
	x.mu.Lock()
	v := exchangeJSON{
		Input: x.Input, CaptureLimit: x.CaptureLimit,
		Target: x.target, Params: x.params, Role: x.role, KeepConn: x.keepConn,
		RequestID: x.requestID, Start: x.start,
		Sent: x.sent.toJSON(), Received: x.recv.toJSON(),
		Sizes: x.sizes, Ends: x.ends, Warnings: x.warnings, Timings: x.timings,
		Error: x.errText, Finished: x.finished, Conn: x.conn, Begins: x.begins,
	}
	v.Records = make([]recordJSON, len(x.recs))
	for i, r := range x.recs {
		rj := recordJSON{RecordInfo: r.RecordInfo, Dir: r.Dir.String(),
			FrameOff: r.frameOff, FrameLen: r.frameLen}
		if r.slot != noSlot {
			rj.Stream, rj.DataOff, rj.DataLen = slotNames[r.slot], r.dataOff, r.dataLen
		}
		v.Records[i] = rj
	}
	if x.resp != nil {
		v.Response = &responseJSON{Status: x.resp.Status, Reason: x.resp.Reason,
			Headers: x.resp.Headers, HeaderLen: x.resp.HeaderLen}
	}
	x.mu.Unlock()
	return json.Marshal(v)
}

func (c *capture) toJSON() captureJSON {
	return captureJSON{Wire: c.wire, Frame: c.frame,
		Stdin: c.stream[slotStdin], Stdout: c.stream[slotStdout],
		Stderr: c.stream[slotStderr], Data: c.stream[slotData]}
}

func (cj captureJSON) capture() capture {
	c := capture{wire: cj.Wire, frame: cj.Frame}
	c.stream[slotStdin], c.stream[slotStdout] = cj.Stdin, cj.Stdout
	c.stream[slotStderr], c.stream[slotData] = cj.Stderr, cj.Data
	return c
}

// UnmarshalJSON restores an Exchange written by MarshalJSON. It checks that
// every record's byte ranges lie inside the captured bytes, so that a damaged
// file gives an error, never a panic later. OnRecord is left as it is.
func (x *Exchange) UnmarshalJSON(b []byte) error {
	var v exchangeJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("session: exchange JSON: %w", err)
	}
	sent, recv := v.Sent.capture(), v.Received.capture()
	var recs []record // nil when empty, as an Exchange builds it
	if len(v.Records) > 0 {
		recs = make([]record, len(v.Records))
	}
	for i, rj := range v.Records {
		r := record{RecordInfo: rj.RecordInfo, frameOff: rj.FrameOff, frameLen: rj.FrameLen, slot: noSlot}
		switch rj.Dir {
		case "sent":
			r.Dir = fcgi.Sent
		case "received":
			r.Dir = fcgi.Received
		default:
			return fmt.Errorf("session: exchange JSON: record %d: direction %q is not sent or received", i, rj.Dir)
		}
		c := &recv
		if r.Dir == fcgi.Sent {
			c = &sent
		}
		if !inRange(r.frameOff, r.frameLen, len(c.frame)) {
			return fmt.Errorf("session: exchange JSON: record %d: frame bytes %d+%d outside the %d captured",
				i, r.frameOff, r.frameLen, len(c.frame))
		}
		if rj.Stream != "" {
			for s, name := range slotNames {
				if name == rj.Stream {
					r.slot = s
				}
			}
			if r.slot == noSlot {
				return fmt.Errorf("session: exchange JSON: record %d: unknown stream %q", i, rj.Stream)
			}
			r.dataOff, r.dataLen = rj.DataOff, rj.DataLen
			if !inRange(r.dataOff, r.dataLen, len(c.stream[r.slot])) {
				return fmt.Errorf("session: exchange JSON: record %d: %s bytes %d+%d outside the %d captured",
					i, rj.Stream, r.dataOff, r.dataLen, len(c.stream[r.slot]))
			}
		}
		recs[i] = r
	}
	var resp *HTTPResponse
	if v.Response != nil {
		stdout := recv.stream[slotStdout]
		if !inRange(v.Response.HeaderLen, 0, len(stdout)) {
			return fmt.Errorf("session: exchange JSON: response header length %d beyond the %d bytes of stdout",
				v.Response.HeaderLen, len(stdout))
		}
		resp = &HTTPResponse{Status: v.Response.Status, Reason: v.Response.Reason,
			Headers: v.Response.Headers, Body: view(stdout[v.Response.HeaderLen:]), HeaderLen: v.Response.HeaderLen}
	}

	x.lockWriters()
	defer x.unlockWriters()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.Input, x.CaptureLimit = v.Input, v.CaptureLimit
	x.target, x.params, x.role, x.keepConn = v.Target, v.Params, v.Role, v.KeepConn
	x.requestID, x.start = v.RequestID, v.Start
	x.recs, x.sent, x.recv = recs, sent, recv
	x.sizes, x.ends, x.resp, x.warnings = v.Sizes, v.Ends, resp, v.Warnings
	x.timings, x.errText, x.finished = v.Timings, v.Error, v.Finished
	x.conn, x.begins = v.Conn, v.Begins
	return nil
}

func inRange(off, n, size int) bool { return off >= 0 && n >= 0 && off <= size && n <= size-off }

// cliJSON is the object of the command line's JSON output. Its fields are a
// contract: add, never rename.
type cliJSON struct {
	Target     string       `json:"target"`
	Role       string       `json:"role"`
	RequestID  uint16       `json:"request_id"`
	Params     []cliPair    `json:"params"`
	Records    []cliRecord  `json:"records"`
	StdoutB64  string       `json:"stdout_b64"`
	Stderr     string       `json:"stderr"`
	StderrB64  string       `json:"stderr_b64"`
	EndRequest *cliEnd      `json:"end_request"`
	Response   *cliResponse `json:"response"`
	Warnings   []string     `json:"warnings"`
	TimingsUS  cliTimings   `json:"timings_us"`
	Error      *string      `json:"error"`
}

type cliPair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cliRecord struct {
	Dir           string `json:"dir"`
	Type          string `json:"type"`
	TypeCode      uint8  `json:"type_code"`
	RequestID     uint16 `json:"request_id"`
	ContentLength uint16 `json:"content_length"`
	PaddingLength uint8  `json:"padding_length"`
	Offset        int64  `json:"offset"`
	TUS           int64  `json:"t_us"`
}

type cliEnd struct {
	AppStatus      uint32 `json:"app_status"`
	ProtocolStatus string `json:"protocol_status"`
}

type cliResponse struct {
	Status  int       `json:"status"`
	Headers []cliPair `json:"headers"`
	BodyB64 string    `json:"body_b64"`
}

type cliTimings struct {
	Connect   int64 `json:"connect"`
	FirstByte int64 `json:"first_byte"`
	Total     int64 `json:"total"`
}

// CLIJSON returns the command line's JSON view of the exchange: target,
// role, request_id, params, records, stdout_b64, stderr, stderr_b64,
// end_request, response, warnings, timings_us and error.
func (x *Exchange) CLIJSON() ([]byte, error) {
	x.mu.Lock()
	v := cliJSON{
		Target: x.target, Role: x.role.String(), RequestID: x.requestID,
		Params:    make([]cliPair, len(x.params)),
		Records:   make([]cliRecord, len(x.recs)),
		StdoutB64: base64.StdEncoding.EncodeToString(x.recv.stream[slotStdout]),
		Stderr:    string(x.recv.stream[slotStderr]),
		StderrB64: base64.StdEncoding.EncodeToString(x.recv.stream[slotStderr]),
		Warnings:  append([]string{}, x.warnings...),
		TimingsUS: cliTimings{Connect: x.timings.Connect.Microseconds(),
			FirstByte: x.timings.FirstByte.Microseconds(), Total: x.timings.Total.Microseconds()},
	}
	for i, p := range x.params {
		v.Params[i] = cliPair{Name: p.Name, Value: p.Value}
	}
	for i, r := range x.recs {
		v.Records[i] = cliRecord{Dir: r.Dir.String(), Type: r.Type.String(), TypeCode: uint8(r.Type),
			RequestID: r.RequestID, ContentLength: r.ContentLength, PaddingLength: r.PaddingLength,
			Offset: r.Offset, TUS: r.T.Microseconds()}
	}
	if len(x.ends) > 0 {
		v.EndRequest = &cliEnd{AppStatus: x.ends[0].AppStatus, ProtocolStatus: x.ends[0].ProtocolStatus.String()}
	}
	if x.resp != nil {
		v.Response = &cliResponse{Status: x.resp.Status, Headers: make([]cliPair, len(x.resp.Headers)),
			BodyB64: base64.StdEncoding.EncodeToString(x.resp.Body)}
		for i, h := range x.resp.Headers {
			v.Response.Headers[i] = cliPair(h)
		}
	}
	if x.errText != "" {
		e := x.errText
		v.Error = &e
	}
	x.mu.Unlock()
	return json.Marshal(v)
}

// Outcome is what the sender of a request learned when it ended, which
// Complete records.
type Outcome struct {
	// Connect is when the connection was ready, since start; 0: unknown.
	Connect time.Duration
	// Total is how long the request took, since start.
	Total time.Duration
	// Err ended the request; nil if it succeeded.
	Err error
	// Ended: END_REQUEST arrived, per the client.
	Ended bool
	// Counted: the client counted the STDOUT and STDERR content bytes of
	// the request (StdoutBytes, StderrBytes), which Complete checks against
	// the capture.
	Counted                  bool
	StdoutBytes, StderrBytes int64
	// Conn is the connection the request went over.
	Conn fcgi.ConnInfo
}

// Complete closes the exchange: it records timings and the error, checks the
// capture against the client's counts, and parses stdout as a CGI response.
// Call it once, when no more records will come.
func (x *Exchange) Complete(o Outcome) {
	x.lockWriters()
	x.mu.Lock()
	x.timings.Connect, x.timings.Total = o.Connect, o.Total
	x.conn = o.Conn
	if o.Err != nil {
		x.errText = o.Err.Error()
	}
	var ws []string
	if x.sizes.Dropped > 0 {
		ws = append(ws, fmt.Sprintf("capture limit of %d bytes reached: %d bytes of record content were not kept; stdout and stderr are incomplete",
			x.limit(), x.sizes.Dropped))
	}
	if o.Counted && o.StdoutBytes != x.sizes.Stdout {
		ws = append(ws, fmt.Sprintf("the client counted %d stdout bytes, the trace %d", o.StdoutBytes, x.sizes.Stdout))
	}
	if o.Counted && o.StderrBytes != x.sizes.Stderr {
		ws = append(ws, fmt.Sprintf("the client counted %d stderr bytes, the trace %d", o.StderrBytes, x.sizes.Stderr))
	}
	if x.begins > 1 {
		ws = append(ws, fmt.Sprintf("BEGIN_REQUEST was sent %d times: the client retried on a fresh connection after the reused one turned out dead", x.begins))
	}
	if len(x.ends) > 1 {
		ws = append(ws, fmt.Sprintf("%d END_REQUEST records for request %d", len(x.ends), x.requestID))
	}
	x.sent.want, x.recv.want = [numSlots]int64{}, [numSlots]int64{}
	x.stdoutHdr = cgiHeaderScan{}
	x.mu.Unlock()
	// Trimming copies: outside mu, as add grows the capture.
	sent, recv := x.sent.trimmed(), x.recv.trimmed()
	x.mu.Lock()
	x.sent.stream, x.recv.stream = sent, recv
	stdout := view(x.recv.stream[slotStdout])
	parse := len(stdout) > 0 || o.Ended || len(x.ends) > 0
	x.mu.Unlock()
	x.unlockWriters()

	var resp *HTTPResponse
	if parse {
		var pw []string
		resp, pw = ParseCGIResponse(stdout)
		if o.Err != nil && len(stdout) > 0 {
			ws = append(ws, "the request failed: the response below is what arrived before the failure")
		}
		ws = append(ws, pw...)
	}

	x.mu.Lock()
	x.resp = resp
	x.warnings = append(x.warnings, ws...)
	x.finished = true
	x.mu.Unlock()
}
