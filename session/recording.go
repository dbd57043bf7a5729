// Recording: how an Exchange fills while its request is sent — Begin, every
// record through Trace into the capture, then Complete with the Outcome.

package session

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"fcgiscope/fcgi"
)

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
		x.noRequest = true // management records only, even if none is sent
		return
	}
	x.params = append(Params(nil), req.Params...)
	x.role = req.Role
	if x.role == 0 {
		x.role = fcgi.RoleResponder
	}
	x.keepConn = req.KeepConn
	x.requestID = req.ID
	x.framing = req.Framing
	// Announced lengths size the captured streams (see capture).
	if v, ok := req.Params.Get("CONTENT_LENGTH"); ok {
		x.sent.want[slotStdin], _ = lengthHint(v)
	}
	if v, ok := req.Params.Get("FCGI_DATA_LENGTH"); ok {
		x.sent.want[slotData], _ = lengthHint(v)
	}
}

// initialRecords is the room made for records at the first one.
const initialRecords = 8

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

// Skipped records a record of which only the header h was observed, t
// after the start: its content and padding went by without being captured,
// as when a tap's capture falls behind the traffic it forwards and keeps
// only headers and sizes. The record is kept as a Truncated one marked
// Skipped; its bytes count in Sizes (Sent or Received, and the stream it
// belongs to) and as Dropped, and Complete says how many went by.
func (x *Exchange) Skipped(dir fcgi.Direction, h fcgi.Header, t time.Duration) {
	x.addRecord(dir, h, fcgi.AppendHeader(make([]byte, 0, fcgi.HeaderLen), h), t, "", false, true)
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

// add captures one record and tells OnRecord about it (see addRecord).
func (x *Exchange) add(dir fcgi.Direction, h fcgi.Header, raw []byte, t time.Duration, errText string, partial bool) {
	x.addRecord(dir, h, raw, t, errText, partial, false)
}

// addRecord captures one record and tells OnRecord about it. skipped: raw
// is only the header, the rest went by uncaptured (see Skipped).
//
// The record's bytes are copied into the capture outside mu, holding only
// the direction's writer lock, so that a reader (the UI, every few
// milliseconds) never waits while the capture grows: growing a stream of
// 100 MiB copies it, which takes tens of milliseconds. mu is taken twice,
// briefly: to place the record (see capture.place), then to publish it.
func (x *Exchange) addRecord(dir fcgi.Direction, h fcgi.Header, raw []byte, t time.Duration, errText string, partial, skipped bool) {
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
	wire := int64(len(raw)) // the record's bytes on the wire
	var added, reserve int64
	if skipped {
		wire = int64(h.RecordLen())
		added = c.placeHeader(&r, wire)
		r.Skipped = true
		x.skipped += wire - added
	} else {
		added, reserve = c.place(&r, h, raw, x.requestID, x.sizes.Captured, x.limit(), x.sizes.Dropped > 0)
	}
	// Counted now, so that a record of the other direction placed
	// meanwhile sees the capture limit as it will be.
	x.sizes.Captured += added
	if r.Truncated {
		x.sizes.Dropped += wire - added
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
		x.sizes.Sent += wire
	} else {
		x.sizes.Received += wire
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
	if x.recs == nil {
		// A small request's records (BEGIN_REQUEST, PARAMS and its end,
		// STDIN's end; STDOUT and its end, END_REQUEST) in one
		// allocation, not four.
		x.recs = make([]record, 0, initialRecords)
	}
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
		recs := make([]RecordInfo, len(x.recs))
		for i, r := range x.recs {
			recs[i] = r.RecordInfo
		}
		f := explain(o.Err, x.target, recs)
		x.failure = &f
	}
	var ws []string
	if over := x.sizes.Dropped - x.skipped; over > 0 {
		ws = append(ws, fmt.Sprintf("capture limit of %d bytes reached: %d bytes of record content were not kept; stdout and stderr are incomplete",
			x.limit(), over))
	}
	if x.skipped > 0 {
		ws = append(ws, fmt.Sprintf("the capture fell behind the traffic: %d bytes of record content went by uncaptured (headers and sizes kept); stdout and stderr are incomplete",
			x.skipped))
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
	// An application that ended the request, even refusing it (END_REQUEST
	// UNKNOWN_ROLE, OVERLOADED…) with nothing on STDOUT, leaves nginx an empty
	// response: it answers 502 (see ParseCGIResponse).
	parse := len(stdout) > 0 || o.Ended || len(x.ends) > 0
	aborted := x.failure != nil && x.failure.Kind == FailAborted
	x.mu.Unlock()
	x.unlockWriters()

	var resp *HTTPResponse
	if parse {
		var pw []string
		resp, pw = ParseCGIResponse(stdout)
		switch {
		case o.Err != nil && len(stdout) > 0 && aborted:
			ws = append(ws, "the request was aborted: the response below is what arrived before it was")
		case o.Err != nil && len(stdout) > 0:
			ws = append(ws, "the request failed: the response below is what arrived before the failure")
		}
		if resp.Gateway != "" && errors.Is(o.Err, fcgi.ErrTimeout) {
			// Out of time before the header block ended: what nginx
			// answers then is its read timeout's 504, whatever came after
			// (END_REQUEST for ABORT_REQUEST, say).
			pw = slices.DeleteFunc(pw, func(w string) bool { return w == resp.GatewayText() })
			resp.Gateway = fmt.Sprintf("no response header block within the request's time limit; nginx logs %q", nginxTimedOut)
			resp.Status, resp.Reason = http.StatusGatewayTimeout, http.StatusText(http.StatusGatewayTimeout)
			pw = append(pw, resp.GatewayText())
		}
		ws = append(ws, pw...)
	}

	x.mu.Lock()
	if resp != nil && resp.Gateway == "" && resp.HeaderLen > 0 {
		if n := x.headerStreamLen(resp.HeaderLen); n > NginxBufferSize {
			ws = append(ws, tooBigHeader(n))
		}
	}
	x.resp = resp
	x.warnings = append(x.warnings, ws...)
	x.finished = true
	x.mu.Unlock()
}

// NginxBufferSize is nginx's default fastcgi_buffer_size on x86-64 Linux:
// one memory page, 4 KiB (8 KiB where pages are larger). The bytes of the
// FastCGI stream from the first STDOUT record up to the end of the response
// header block, record headers and padding included, must fit in it, or
// nginx answers 502 Bad Gateway (measured: a 4088-byte header block in one
// STDOUT record is the largest nginx 1.22 serves, 4096 with the record's
// header).
const NginxBufferSize = 4096

// headerStreamLen returns how many bytes of the received stream hold the
// response header block of headerLen bytes: from the header of the first
// STDOUT record for the request through the header block's last byte,
// counting record headers, padding and records of other types in between,
// as they fill nginx's buffer; 0 if it cannot tell. x.mu is held.
func (x *Exchange) headerStreamLen(headerLen int) int64 {
	first := int64(-1)
	var content int
	for i := range x.recs {
		r := &x.recs[i].RecordInfo
		if r.Dir != fcgi.Received || r.Type != fcgi.TypeStdout || r.RequestID != x.requestID || r.Partial {
			continue
		}
		if first < 0 {
			first = r.Offset
		}
		n := int(r.ContentLength)
		if content+n >= headerLen {
			return r.Offset + int64(fcgi.HeaderLen) + int64(headerLen-content) - first
		}
		content += n
	}
	return 0
}

// tooBigHeader is the warning for a response header block that takes n
// bytes of the FastCGI stream, more than NginxBufferSize.
func tooBigHeader(n int64) string {
	limit := "more than nginx's default fastcgi_buffer_size of 4 KiB (one memory page; 8 KiB on some platforms)"
	if n > 2*NginxBufferSize {
		limit = "more than nginx's default fastcgi_buffer_size (4 KiB or 8 KiB, one memory page)"
	}
	return fmt.Sprintf("the response header block takes %d bytes of the FastCGI stream (record headers included), %s: "+
		"nginx answers 502 Bad Gateway (%q) unless fastcgi_buffer_size is raised to hold it", n, limit, nginxTooBigHeads)
}
