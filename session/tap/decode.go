// Decoding: one connection's two byte streams, as they arrive, framed into
// records and grouped by request id into Exchanges.

package tap

import (
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// OriginCaptured is the origin of the params of a tapped or captured
// exchange: they are what the web server sent.
const OriginCaptured = "captured"

// maxPending bounds the record bytes an exchange keeps before it begins
// (its params not yet complete): past it, it begins with the params so far.
const maxPending = 1 << 20

// piece is a part of one direction of a connection's traffic, handed to its
// decoder in the order the bytes travelled.
type piece struct {
	dir fcgi.Direction
	t   time.Time // when the bytes were read (or captured)
	// data are the next bytes of the direction; then skip bytes of record
	// content or padding went by without being handed over.
	data []byte
	skip int
	// end: the direction ended after data (err nil: the sender closed it
	// cleanly).
	end bool
	// stop: decoding of the connection is given up, for err.
	stop bool
	err  error
}

// decoder decodes the traffic of one connection. It is used by one
// goroutine at a time.
type decoder struct {
	cfg   *decoderConfig
	conn  fcgi.ConnInfo // Network and Addr of the application, LocalAddr the web server's
	dirs  [2]dirState   // [0] sent by the web server, [1] by the application
	open  []*exch       // begun and not completed, in order of their BEGIN_REQUEST
	stray *exch         // records of no open request
	begun int           // exchanges begun on the connection
	// closedBy is the direction that ended first (0: neither yet), and why.
	closedBy  fcgi.Direction
	closedErr error
	// stopped: decoding was given up (see stop); what follows is counted
	// as undecoded.
	stopped bool
	// outErr says why part of the traffic was not decoded (out of step,
	// stopped); the exchanges the connection's end completes carry it.
	outErr error
	// cutErr says why the traffic ended without the connection's end (a
	// capture that ends first).
	cutErr error
}

// decoderConfig is what every decoder of a tap or a capture shares.
type decoderConfig struct {
	target string // the application's address, as the exchanges name it
	// captureLimit is each Exchange's CaptureLimit, resolved: <= 0 none.
	captureLimit int64
	budget       *budget
	// emit receives every completed exchange, on the decoder's goroutine.
	emit func(*session.Exchange)
	// undecoded counts bytes that could not be decoded (out of step).
	undecoded func(n int64)
}

// dirState is one direction of a connection being framed into records.
type dirState struct {
	dir  fcgi.Direction
	rec  []byte      // the bytes of the record being assembled
	hdr  fcgi.Header // its header, once 8 bytes are in rec
	need int         // its length (0 while the header is incomplete)
	// skipped counts the bytes of the record that went by uncaptured;
	// with any, the record is kept as its header alone.
	skipped int
	feed    feed
	rd      *fcgi.Reader
	// outOfStep: record boundaries are lost (a header with another
	// version, bytes missing inside a header); the rest is not decoded.
	outOfStep bool
	ended     bool
}

// feed is the io.Reader of a direction's fcgi.Reader: the bytes of the
// records framed so far, then io.EOF once the direction ended.
type feed struct {
	b   []byte
	eof bool
}

func (f *feed) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		if f.eof {
			return 0, io.EOF
		}
		return 0, io.ErrNoProgress // never reached: the decoder reads framed records only
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// exch is an exchange being decoded.
type exch struct {
	x     *session.Exchange // nil until it begins
	trace fcgi.Trace
	id    uint16
	mgmt  bool // GET_VALUES, no request
	stray bool // records of no open request
	start time.Time
	// Until it begins: what BEGIN_REQUEST and PARAMS said, and the records.
	role       fcgi.Role
	keep       bool
	params     session.Params
	paramsDone bool
	pending    []pendingRecord
	pendBytes  int
	held       int64 // capture bytes counted against the budget
	nth        int   // its place on the connection, from 0
}

// pendingRecord is a record kept until its exchange begins.
type pendingRecord struct {
	ev      fcgi.Event
	rec     fcgi.Record
	skipped bool
}

func newDecoder(cfg *decoderConfig, conn fcgi.ConnInfo) *decoder {
	d := &decoder{cfg: cfg, conn: conn}
	for i, dir := range []fcgi.Direction{fcgi.Sent, fcgi.Received} {
		ds := &d.dirs[i]
		ds.dir = dir
		ds.rd = fcgi.NewReader(&ds.feed)
	}
	return d
}

func (d *decoder) dirOf(dir fcgi.Direction) *dirState {
	if dir == fcgi.Sent {
		return &d.dirs[0]
	}
	return &d.dirs[1]
}

// add decodes one piece of traffic.
func (d *decoder) add(p piece) {
	ds := d.dirOf(p.dir)
	if d.stopped || ds.outOfStep {
		d.cfg.undecoded(int64(len(p.data) + p.skip))
	} else {
		d.data(ds, p.data, p.t)
		if p.skip > 0 {
			d.skip(ds, p.skip, p.t)
		}
	}
	if p.end {
		d.endDir(ds, p.err, p.t)
	}
}

// data frames the bytes b of direction ds.
func (d *decoder) data(ds *dirState, b []byte, t time.Time) {
	for len(b) > 0 {
		if ds.outOfStep {
			d.cfg.undecoded(int64(len(b)))
			return
		}
		if ds.need == 0 {
			n := min(fcgi.HeaderLen-len(ds.rec), len(b))
			ds.rec = append(ds.rec, b[:n]...)
			b = b[n:]
			if len(ds.rec) < fcgi.HeaderLen {
				return
			}
			ds.hdr, _ = fcgi.ParseHeader(ds.rec)
			if ds.hdr.Version != fcgi.Version1 {
				// The reader reads the header alone and reports it;
				// nothing after it can be framed.
				d.frame(ds, t)
				ds.outOfStep = true
				if d.outErr == nil {
					d.outErr = fmt.Errorf("%s sent a record header with version %d: record boundaries are lost from there on, the rest was forwarded undecoded",
						sender(ds.dir), ds.hdr.Version)
				}
				continue
			}
			ds.need = ds.hdr.RecordLen()
		}
		if ds.skipped > 0 {
			// The record is kept as its header: the rest of it goes.
			n := min(ds.need-fcgi.HeaderLen-ds.skipped, len(b))
			ds.skipped += n
			b = b[n:]
		} else {
			n := min(ds.need-len(ds.rec), len(b))
			ds.rec = append(ds.rec, b[:n]...)
			b = b[n:]
		}
		if len(ds.rec)+ds.skipped == ds.need {
			d.frame(ds, t)
		}
	}
}

// skip accounts for n bytes of direction ds that went by uncaptured: the
// rest of a record's content and padding (the record is then kept as its
// header), or, from a capture with segments missing, anything; n bytes
// missing from a header put the direction out of step.
func (d *decoder) skip(ds *dirState, n int, t time.Time) {
	for n > 0 && !ds.outOfStep {
		if ds.need == 0 {
			d.outOfStep(ds, fmt.Errorf("%d bytes are missing from the traffic at a record header", n), t)
			d.cfg.undecoded(int64(n))
			return
		}
		if ds.skipped == 0 {
			// What arrived of the content goes too.
			ds.skipped = len(ds.rec) - fcgi.HeaderLen
			ds.rec = ds.rec[:fcgi.HeaderLen]
		}
		m := min(ds.need-fcgi.HeaderLen-ds.skipped, n)
		ds.skipped += m
		n -= m
		if fcgi.HeaderLen+ds.skipped == ds.need {
			d.frame(ds, t)
		}
	}
}

// outOfStep marks ds out of step: the record being assembled is kept as
// what arrived, and the open exchanges learn why.
func (d *decoder) outOfStep(ds *dirState, why error, t time.Time) {
	ds.outOfStep = true
	d.flushPartial(ds, t)
	if d.outErr == nil {
		d.outErr = why
	}
}

// frame hands the record assembled in ds to its exchange.
func (d *decoder) frame(ds *dirState, t time.Time) {
	h := ds.hdr
	switch {
	case ds.skipped > 0:
		d.route(ds.dir, &fcgi.Record{Header: h, Raw: ds.rec}, nil, t, true)
	case h.Version == fcgi.Version1 && isData(h.Type):
		// Stream content has no body to decode and no state across
		// records: the assembled bytes are the record as the reader
		// would return it, without its copy of them.
		d.route(ds.dir, &fcgi.Record{Header: h, Raw: ds.rec[:len(ds.rec):len(ds.rec)]}, nil, t, false)
	default:
		ds.feed.b = ds.rec
		rec, err := ds.rd.ReadRecord()
		if rec == nil {
			// A header whose version is not 1: the error carries its
			// 8 bytes.
			var re *fcgi.RecordError
			if errors.As(err, &re) && len(re.Partial) > 0 {
				d.route(ds.dir, &fcgi.Record{Header: re.Header, Raw: re.Partial}, re.Err, t, false)
			}
		} else {
			var bodyErr error
			if err != nil {
				bodyErr = errors.Unwrap(err) // a *RecordError's cause: the record is whole
			}
			d.route(ds.dir, rec, bodyErr, t, false)
		}
	}
	ds.rec, ds.need, ds.skipped = ds.rec[:0], 0, 0
}

// flushPartial hands over what arrived of a record the direction ended
// inside, as a record cut short.
func (d *decoder) flushPartial(ds *dirState, t time.Time) {
	if len(ds.rec) == 0 && ds.skipped == 0 {
		return
	}
	if ds.skipped > 0 {
		// Only its header was kept: it is a record cut short whose
		// content went by uncaptured.
		ds.skipped = 0
	}
	ds.feed.b, ds.feed.eof = ds.rec, true
	_, err := ds.rd.ReadRecord()
	var re *fcgi.RecordError
	if errors.As(err, &re) && len(re.Partial) > 0 {
		h := re.Header
		if len(re.Partial) >= fcgi.HeaderLen {
			h, _ = fcgi.ParseHeader(re.Partial)
		}
		d.route(ds.dir, &fcgi.Record{Header: h, Raw: re.Partial}, re.Err, t, false)
	}
	ds.rec, ds.need = ds.rec[:0], 0
}

// endDir ends direction ds; once both ended, the connection is over.
func (d *decoder) endDir(ds *dirState, err error, t time.Time) {
	if ds.ended {
		return
	}
	ds.ended = true
	if !ds.outOfStep && !d.stopped {
		d.flushPartial(ds, t)
	}
	if d.closedBy == 0 {
		d.closedBy, d.closedErr = ds.dir, err
	}
	if d.dirs[0].ended && d.dirs[1].ended {
		d.finish(t)
	}
}

// stop gives up decoding the connection (its decoder fell too far behind):
// the open exchanges complete with why, the rest is counted as undecoded.
func (d *decoder) stop(why error, t time.Time) {
	if d.stopped {
		return
	}
	d.stopped = true
	if d.outErr == nil {
		d.outErr = why
	}
	d.finish(t)
}

// cut ends the traffic of a connection that did not end (a capture that
// ends first): what arrived of records is kept, the exchanges left complete
// with why.
func (d *decoder) cut(why error, t time.Time) {
	d.cutErr = why
	for i := range d.dirs {
		ds := &d.dirs[i]
		if !ds.ended && !ds.outOfStep && !d.stopped {
			d.flushPartial(ds, t)
		}
		ds.ended = true
	}
	d.finish(t)
}

// finish completes every exchange left: the connection is over (or its
// decoding stopped).
func (d *decoder) finish(t time.Time) {
	why := d.endError()
	for len(d.open) > 0 {
		d.complete(d.open[0], t, why, false)
	}
	if d.stray != nil {
		d.complete(d.stray, t, errStray, false)
	}
}

// errStray is the error of the exchange of records of no open request.
var errStray = errors.New("records of no open request: they arrived after their request's END_REQUEST, or for a request id never begun")

// sender names who sends direction dir.
func sender(dir fcgi.Direction) string {
	if dir == fcgi.Sent {
		return "the web server"
	}
	return "the application"
}

// endError is the error of the exchanges the end of the connection
// completes.
func (d *decoder) endError() error {
	var why error
	switch {
	case d.stopped:
		why = d.outErr
	case d.closedBy == 0 && d.cutErr != nil:
		why = d.cutErr
	case d.closedBy == 0:
		why = errors.New("the connection was still open")
	case d.closedErr != nil:
		why = fmt.Errorf("the connection failed before END_REQUEST: %w", d.closedErr)
	case d.closedBy == fcgi.Sent:
		why = errors.New("the web server closed the connection before END_REQUEST: the request was abandoned")
	default:
		why = errors.New("the application closed the connection before END_REQUEST")
	}
	if d.outErr != nil && !d.stopped {
		why = fmt.Errorf("%w; %v", why, d.outErr)
	}
	return why
}

// route hands one record of direction dir, read whole (or cut short, with
// err), to the exchange it belongs to. skipped: only its header was kept.
func (d *decoder) route(dir fcgi.Direction, rec *fcgi.Record, err error, t time.Time, skipped bool) {
	h := rec.Header
	var e *exch
	switch {
	case dir == fcgi.Sent && h.Type == fcgi.TypeBeginRequest && h.Version == fcgi.Version1:
		if old := d.find(h.RequestID, false); old != nil {
			d.complete(old, t, fmt.Errorf("a new BEGIN_REQUEST for request id %d arrived before END_REQUEST", h.RequestID), false)
		}
		e = d.begin(h.RequestID, false, t)
		if b, ok := rec.Body.(*fcgi.BeginRequest); ok {
			e.role, e.keep = b.Role, b.Flags&fcgi.FlagKeepConn != 0
		}
	case dir == fcgi.Sent && h.Type == fcgi.TypeGetValues && h.Version == fcgi.Version1:
		if old := d.find(0, true); old != nil {
			d.complete(old, t, errors.New("a new GET_VALUES arrived before GET_VALUES_RESULT"), false)
		}
		e = d.begin(0, true, t)
	default:
		e = d.owner(dir, h)
	}
	if e.x == nil && !e.stray {
		if dir == fcgi.Sent && h.Type == fcgi.TypeParams && h.RequestID == e.id && h.Version == fcgi.Version1 && !skipped {
			if ps, ok := rec.Body.(*fcgi.Pairs); ok {
				for _, p := range ps.List() {
					e.params = append(e.params, session.Param{Name: p.Name, Value: p.Value, Origin: OriginCaptured})
				}
			}
			if h.ContentLength == 0 {
				e.paramsDone = true
			}
		}
		ready := e.paramsDone || e.mgmt || e.pendBytes > maxPending ||
			dir == fcgi.Received || h.RequestID == e.id && h.Type != fcgi.TypeParams && h.Type != fcgi.TypeBeginRequest
		if !ready {
			e.keepPending(dir, rec, err, t, skipped)
			return
		}
		d.start(e)
	}
	d.record(e, dir, rec, err, t, skipped)
	if dir == fcgi.Received && h.Version == fcgi.Version1 && !skipped && err == nil &&
		(h.Type == fcgi.TypeEndRequest && h.RequestID == e.id && !e.mgmt && !e.stray ||
			h.Type == fcgi.TypeGetValuesResult && e.mgmt) {
		var endErr error
		if end, ok := rec.Body.(*fcgi.EndRequest); ok && end.ProtocolStatus != fcgi.StatusRequestComplete {
			endErr = &fcgi.EndRequestError{AppStatus: end.AppStatus, ProtocolStatus: end.ProtocolStatus}
		}
		d.complete(e, t, endErr, true)
	}
}

// find returns the open exchange of request id (or the open management
// exchange), or nil.
func (d *decoder) find(id uint16, mgmt bool) *exch {
	for _, e := range d.open {
		if e.mgmt == mgmt && (mgmt || e.id == id) {
			return e
		}
	}
	return nil
}

// owner returns the exchange a record that begins nothing belongs to: the
// open one of its request id; else, for a record of the application, the
// only open one, where the record stands out as one for another id (as a
// client sees it); else the connection's stray exchange.
func (d *decoder) owner(dir fcgi.Direction, h fcgi.Header) *exch {
	if h.Version == fcgi.Version1 {
		if h.RequestID == 0 && h.Type.IsManagement() {
			if e := d.find(0, true); e != nil {
				return e
			}
		} else if e := d.find(h.RequestID, false); e != nil {
			return e
		}
	}
	if len(d.open) == 1 {
		return d.open[0]
	}
	if d.stray == nil {
		d.stray = &exch{stray: true, start: time.Time{}, nth: d.begun}
	}
	return d.stray
}

// begin opens the exchange of a BEGIN_REQUEST (or a GET_VALUES) that
// arrived at t. Records of no open request seen before it complete first,
// so that exchanges come out in the order they began.
func (d *decoder) begin(id uint16, mgmt bool, t time.Time) *exch {
	if d.stray != nil {
		d.complete(d.stray, t, errStray, false)
	}
	e := &exch{id: id, mgmt: mgmt, start: t, role: fcgi.RoleResponder, nth: d.begun}
	d.begun++
	d.open = append(d.open, e)
	return e
}

// keepPending keeps a record until its exchange begins (its params are
// complete).
func (e *exch) keepPending(dir fcgi.Direction, rec *fcgi.Record, err error, t time.Time, skipped bool) {
	c := *rec
	c.Raw = append([]byte(nil), rec.Raw...)
	c.Body = nil // decoded again from Raw is not needed: params are taken already
	e.pending = append(e.pending, pendingRecord{ev: fcgi.Event{Dir: dir, Time: t, Err: err}, rec: c, skipped: skipped})
	e.pendBytes += len(c.Raw)
}

// start creates and begins e's Exchange with what its BEGIN_REQUEST and
// PARAMS said, and records the records kept meanwhile.
func (d *decoder) start(e *exch) {
	in := session.Input{Mode: session.ModeRaw, Target: d.cfg.target}
	var req *session.Request
	if !e.mgmt && !e.stray {
		in.Role, in.KeepConn, in.RequestID = e.role, e.keep, e.id
		in.Params = make([]session.RawParam, len(e.params))
		for i, p := range e.params {
			in.Params[i] = session.RawParam{Name: p.Name, Value: p.Value, Enabled: true}
		}
		req = &session.Request{Params: e.params, Role: e.role, KeepConn: e.keep, ID: e.id}
	}
	x := session.NewExchange(in)
	x.CaptureLimit = d.cfg.captureLimit
	e.x = x
	x.Begin(d.cfg.target, req, e.start)
	e.trace = x.Trace(e.start)
	pending := e.pending
	e.pending, e.pendBytes = nil, 0
	for i := range pending {
		p := &pending[i]
		d.record(e, p.ev.Dir, &p.rec, p.ev.Err, p.ev.Time, p.skipped)
	}
}

// record adds one record to e's begun Exchange: whole, or as its header
// alone when it was skipped or when keeping its content would take the
// open exchanges past the memory limit (only the content of data records
// is ever dropped for memory).
func (d *decoder) record(e *exch, dir fcgi.Direction, rec *fcgi.Record, err error, t time.Time, skipped bool) {
	if e.start.IsZero() {
		// A stray exchange starts with its first record.
		e.start = t
		d.start(e)
	}
	h := rec.Header
	n := int64(len(rec.Raw))
	var reserved int64
	if !skipped && h.Version == fcgi.Version1 && isData(h.Type) && h.ContentLength > 0 &&
		(d.cfg.captureLimit <= 0 || e.held+n <= d.cfg.captureLimit) { // else the exchange keeps only the header anyway
		if d.cfg.budget.take(n) {
			reserved = n
		} else {
			d.cfg.budget.lose(int64(h.RecordLen() - fcgi.HeaderLen))
			skipped = true
		}
	}
	if skipped {
		e.x.Skipped(dir, h, t.Sub(e.start))
	} else {
		e.trace(fcgi.Event{Dir: dir, Time: t, Record: rec, Err: err})
	}
	captured := e.x.Sizes().Captured
	d.cfg.budget.add(captured - e.held - reserved)
	e.held = captured
}

// isData reports the record types whose content a tap may drop when it
// falls behind: the data streams.
func isData(t fcgi.RecordType) bool {
	return t == fcgi.TypeStdin || t == fcgi.TypeStdout || t == fcgi.TypeStderr || t == fcgi.TypeData
}

// complete completes e at t with err (nil: it succeeded or, for stray
// records, there is nothing to say) and emits it; ended: its END_REQUEST
// (or GET_VALUES_RESULT) arrived.
func (d *decoder) complete(e *exch, t time.Time, err error, ended bool) {
	if e == d.stray {
		d.stray = nil
		if e.x == nil {
			return // nothing arrived
		}
	} else {
		for i, o := range d.open {
			if o == e {
				d.open = append(d.open[:i], d.open[i+1:]...)
				break
			}
		}
		if e.x == nil {
			d.start(e)
		}
	}
	conn := d.conn
	conn.Reused = e.nth > 0
	e.x.Complete(session.Outcome{Total: t.Sub(e.start), Err: err, Ended: ended, Conn: conn})
	d.cfg.budget.add(-e.held)
	e.held = 0
	d.cfg.emit(e.x)
}

// budget bounds the capture bytes held by the open exchanges of a tap
// together. A nil budget has no limit.
type budget struct {
	limit int64
	used  atomic.Int64
	lost  atomic.Int64 // record content bytes not captured for it
}

// take reserves n bytes if they fit under the limit.
func (b *budget) take(n int64) bool {
	if b == nil {
		return true
	}
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

// add counts n more bytes (or fewer, when negative) held, whatever the
// limit.
func (b *budget) add(n int64) {
	if b != nil && n != 0 {
		b.used.Add(n)
	}
}

// lose counts n record content bytes that went uncaptured for the limit.
func (b *budget) lose(n int64) {
	if b != nil {
		b.lost.Add(n)
	}
}
