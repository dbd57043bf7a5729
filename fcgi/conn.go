// Conn: one client connection to a FastCGI application, multiplexing
// requests by request id.

package fcgi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero fields of Options.
const (
	defaultDialTimeout = 5 * time.Second
	defaultIdleTimeout = 30 * time.Second
	defaultAbortWait   = 2 * time.Second
)

// Request is one FastCGI request as the client sends it.
type Request struct {
	// ID is the request id; 0 picks the lowest id >= 1 that is free on
	// the connection.
	ID uint16
	// Role is the BEGIN_REQUEST role; 0 means RoleResponder.
	Role Role
	// KeepConn sets FCGI_KEEP_CONN: the application keeps the connection
	// open after the request. A Client pools such connections.
	KeepConn bool
	// Params are sent in order, duplicates kept.
	Params []Pair
	// Stdin is sent on the STDIN stream in records of at most 65535 bytes,
	// then the empty record that closes the stream. It may be nil (an empty
	// STDIN stream is still sent). Reading it is not interrupted by the
	// context: a Stdin that blocks holds the request.
	Stdin io.Reader
	// Data is sent on the DATA stream after STDIN (FILTER role). When nil,
	// a FILTER request gets an empty DATA stream and other roles none.
	Data io.Reader
	// Stdout receives the STDOUT content as it arrives; nil discards it.
	// Stderr likewise receives STDERR. They are written from the
	// connection's reading goroutine, never after Do returns, and must not
	// block for long: every request on the connection waits meanwhile. When
	// one fails, the rest of its stream is counted but discarded, and Do
	// returns the write error (with the Response) after END_REQUEST.
	Stdout io.Writer
	Stderr io.Writer
	// Trace sees this request's records, sent and received, plus stray
	// records (Event.Err wraps ErrUnknownRequestID) that arrive on its
	// connection while it is active. See Options.Trace for where it runs.
	Trace Trace
}

// Response is what came back for a request. Do returns it, with what was
// captured so far, together with any error once the connection existed.
type Response struct {
	ID             uint16
	AppStatus      uint32
	ProtocolStatus ProtocolStatus
	// Ended tells whether END_REQUEST arrived.
	Ended bool
	// StdoutBytes and StderrBytes count the content received on the two
	// streams, whether or not a writer took it.
	StdoutBytes, StderrBytes int64
	Conn                     ConnInfo
	Timing                   Timing
}

// ConnInfo describes the connection a request went over.
type ConnInfo struct {
	Network, Addr string
	// Reused is true when the connection had carried an earlier request.
	Reused    bool
	LocalAddr string
}

// Timing holds the milestones of a request as offsets from Start; an offset
// is 0 when its milestone was not reached.
type Timing struct {
	Start time.Time
	// Connected: the connection was ready (dialled, or taken from the
	// pool or given to Conn.Do).
	Connected time.Duration
	// FirstByte: the first record for the request arrived.
	FirstByte time.Duration
	// End: Do finished.
	End time.Duration
}

// Options configure a connection: a Conn, and each connection of a Client.
// The zero value uses the defaults.
type Options struct {
	// DialTimeout bounds the dial; 0 means 5 s.
	DialTimeout time.Duration
	// IdleTimeout is the longest silence allowed while waiting for the
	// next record of an active request, and the longest a write of one
	// record may stall (up to an eighth more: the write deadline is
	// renewed lazily); 0 means 30 s, < 0 none.
	IdleTimeout time.Duration
	// AbortWait is how long a cancelled request waits for END_REQUEST
	// after ABORT_REQUEST; 0 means 2 s, < 0 no wait.
	AbortWait time.Duration
	// Trace sees every record on the connection, sent and received, in
	// addition to Request.Trace. Sent records are traced on the goroutine
	// calling Do, received ones on the connection's reading goroutine; a
	// Conn (and a Client for all its connections) never makes two trace
	// calls at once. A Trace must not call back into the Conn or Client.
	Trace Trace
}

func (o Options) dialTimeout() time.Duration {
	if o.DialTimeout == 0 {
		return defaultDialTimeout
	}
	return o.DialTimeout
}

func (o Options) idleTimeout() time.Duration {
	if o.IdleTimeout == 0 {
		return defaultIdleTimeout
	}
	return max(o.IdleTimeout, 0)
}

func (o Options) abortWait() time.Duration {
	if o.AbortWait == 0 {
		return defaultAbortWait
	}
	return max(o.AbortWait, 0)
}

// Conn is one FastCGI connection. It multiplexes concurrent requests by
// request id: one goroutine reads the connection and hands every record to
// the request it belongs to; writers take turns record by record. A Conn is
// safe for concurrent use.
//
// System calls: a request's head (BEGIN_REQUEST, PARAMS and its closing
// record, and the empty STDIN, or a body of up to 16 KiB held in a
// *bytes.Reader or *strings.Reader) goes out in one write. A larger body
// goes out a record at a time; an io.WriterTo body (a *bytes.Reader) is
// framed without being copied (header, content and padding in one writev).
type Conn struct {
	nc    net.Conn
	opts  Options
	info  ConnInfo
	where string // "tcp 127.0.0.1:9000", for messages

	r        *Reader // owned by readLoop
	readDone chan struct{}
	lastGVR  bool // readLoop: the last record was a non-empty GET_VALUES_RESULT

	wmu       sync.Mutex // serializes writes; guards w and wcall
	w         *Writer    // traces each record before its bytes go out
	wcall     *call      // the request whose records are being written
	sentTrace Trace      // c.traceSent, the Writer's Trace when one is wanted

	wsMu    sync.Mutex // guards writing
	writing any        // the *call or *mgmtWait inside a write
	// published tells that the current write section set writing: only
	// an owner whose context can be cancelled is interrupted (guarded by
	// wmu).
	published bool

	// opened is when the connection was made; now derives the time from
	// it (see Conn.now).
	opened time.Time

	// armed is the write deadline set on nc (guarded by wmu); broken
	// tells that interrupt moved it into the past since.
	armed  time.Time
	broken atomic.Bool

	traceMu sync.Mutex // serializes trace calls

	mu    sync.Mutex
	calls idMap[*call] // active and reserved request ids
	free  uint16       // no id below it is free (ids >= 1), for register
	mgmt  []*mgmtWait  // GET_VALUES waiting for their answer, in order
	begun int          // requests registered so far
	err   *connFailure // why the connection died; nil while alive
	dead  atomic.Bool  // err != nil, for the write path
	// lost are the requests the connection was serving when it died: the
	// reading goroutine reports to them what arrived of an unfinished
	// record (see readFailed).
	lost []*call

	// The idle watch (see watchIdle): one timer for every request waiting
	// for its answer, due when the first of them falls silent for
	// IdleTimeout. watchAt is when it fires, zero when it is not armed.
	watch   *time.Timer
	watchAt time.Time

	bufs sync.Pool // *[]byte framing STDIN and DATA records read from a Request
}

// call is one request in flight on a Conn.
type call struct {
	id    uint16
	req   *Request
	start time.Time
	// done wakes Do: it gets a token when the request finishes and when it
	// falls silent for IdleTimeout (see checkIdle); Do then reads which.
	done chan struct{}
	over atomic.Bool // finished, readable without Conn.mu

	// Guarded by Conn.mu.
	finished bool         // END_REQUEST arrived or the conn died
	waiting  bool         // Do waits for END_REQUEST under the idle watch
	silent   bool         // the idle watch found it silent for IdleTimeout
	err      *connFailure // set when the conn died first
	sendDone bool         // Do stopped writing records for the id
	reserved bool         // Do gave up waiting: the id is held until END_REQUEST

	began bool         // BEGIN_REQUEST went out whole; Do's goroutine only
	wrote bool         // some byte of the request went out; Do's goroutine only
	last  atomic.Int64 // offset from start of the last record, for the idle timeout

	mu        sync.Mutex // guards delivery and the fields below
	detached  bool       // Do returned or is returning: deliver nothing more
	resp      *Response
	firstByte bool
	records   int
	// The first write error of Stdout and of Stderr.
	stdoutErr, stderrErr error
}

// mgmtWait is a GET_VALUES waiting for its GET_VALUES_RESULT.
type mgmtWait struct {
	done  chan struct{}
	pairs []Pair
	err   error // UNKNOWN_TYPE answer or conn failure
}

// connFailure is why a connection died.
type connFailure struct {
	kind  error  // one of the sentinels, or a *TimeoutError for ErrTimeout
	what  string // what happened and where
	cause error  // may be nil
}

func (f *connFailure) Error() string {
	if f.cause == nil {
		return f.kind.Error() + ": " + f.what
	}
	return f.kind.Error() + ": " + f.what + ": " + f.cause.Error()
}

func (f *connFailure) Unwrap() []error {
	if f.cause == nil {
		return []error{f.kind}
	}
	return []error{f.kind, f.cause}
}

// Dial connects to the FastCGI application at addr (see ParseAddr) within
// opts.DialTimeout and the context.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("fcgi: dial: %w: %w", ErrConnect, err)
	}
	return dial(ctx, network, address, opts)
}

func dial(ctx context.Context, network, address string, opts Options) (*Conn, error) {
	d := net.Dialer{Timeout: opts.dialTimeout()}
	start := time.Now()
	nc, err := d.DialContext(ctx, network, address)
	if err != nil {
		kind := ErrConnect
		var ne net.Error
		switch {
		case errors.Is(err, context.Canceled):
			kind = ErrAborted
		case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
			kind = &TimeoutError{Limit: LimitDial, Phase: PhaseDialing, After: d.Timeout}
			// The context's deadline came first if it was the sooner of the
			// two (its timer may not have fired yet when the dial returns).
			if dl, ok := ctx.Deadline(); ok && (d.Timeout <= 0 || dl.Before(start.Add(d.Timeout))) {
				kind = &TimeoutError{Limit: LimitDeadline, Phase: PhaseDialing, After: time.Since(start)}
			}
		}
		return nil, fmt.Errorf("fcgi: dial %s %s: %w: %w", network, address, kind, err)
	}
	return newConn(nc, opts, network, address), nil
}

// newConnOn runs the client side of FastCGI over an open connection. The Conn
// owns nc from now on and closes it.
func newConnOn(nc net.Conn, opts Options) *Conn {
	network, address := "", ""
	if ra := nc.RemoteAddr(); ra != nil {
		network, address = ra.Network(), ra.String()
	}
	return newConn(nc, opts, network, address)
}

func newConn(nc net.Conn, opts Options, network, address string) *Conn {
	c := &Conn{
		nc:       nc,
		opts:     opts,
		info:     ConnInfo{Network: network, Addr: address},
		where:    network + " " + address,
		r:        NewReader(nc),
		readDone: make(chan struct{}),
		free:     1,
	}
	c.r.ownBodies = true
	c.r.stamp = true
	c.opened = time.Now()
	c.r.clock = c.opened
	c.w = NewWriter(nc)
	c.w.traceFirst = true
	c.sentTrace = c.traceSent
	if la := nc.LocalAddr(); la != nil {
		c.info.LocalAddr = la.String()
	}
	c.bufs.New = func() any { b := make([]byte, 0, HeaderLen+MaxContent+7); return &b }
	go c.readLoop()
	return c
}

// now returns the current time as the opening time plus the monotonic time
// elapsed since: one clock reading, where time.Now takes two, for the
// timestamps and deadlines of the request path.
func (c *Conn) now() time.Time { return c.opened.Add(time.Since(c.opened)) }

// Err returns why the connection died, or nil while it is alive.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return nil
	}
	return fmt.Errorf("fcgi: %s: %w", c.where, c.err)
}

// Close closes the connection; requests still active fail with
// ErrConnClosed. It waits for the reading goroutine to end, so it must not
// be called from a Trace or a Stdout writer.
func (c *Conn) Close() error {
	c.fail(&connFailure{kind: ErrConnClosed, what: "closed by Close"})
	<-c.readDone
	return nil
}

// fail marks the connection dead (the first failure wins), closes it, and
// finishes every request and GET_VALUES waiting on it.
func (c *Conn) fail(f *connFailure) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = f
	c.dead.Store(true)
	c.free = 1
	for id, cl := range c.calls.all() {
		if !cl.finished {
			cl.err = f
			cl.finish()
			c.lost = append(c.lost, cl)
		}
		c.calls.delete(id)
	}
	if c.watch != nil {
		c.watch.Stop()
		c.watchAt = time.Time{}
	}
	mgmt := c.mgmt
	c.mgmt = nil
	c.mu.Unlock()
	for _, w := range mgmt {
		w.err = fmt.Errorf("fcgi: GET_VALUES on %s: %w", c.where, f)
		close(w.done)
	}
	c.nc.Close()
}

// Do sends req and waits for its END_REQUEST.
//
// The Response is never nil: after a failure it holds what was captured
// (Ended false if END_REQUEST did not come). A
// cancelled context sends ABORT_REQUEST and waits up to Options.AbortWait
// for END_REQUEST; the error wraps ErrAborted (or ErrTimeout for a passed
// deadline) and the context's error. If END_REQUEST does not come, the
// connection is closed, unless other requests are active on it: then the
// id stays reserved until its END_REQUEST arrives or the connection dies,
// so a late reply never reaches another request.
//
// When the connection dies before END_REQUEST (closed by either side, or
// after an idle timeout), the bytes that arrived of an unfinished record
// reach req.Trace before Do returns, the header's request id permitting.
// A request whose id stays reserved on a live connection does not get them:
// the record may yet complete, and goes to Options.Trace then.
func (c *Conn) Do(ctx context.Context, req *Request) (*Response, error) {
	resp, _, err := c.do(ctx, req, c.now(), -1)
	return resp, err
}

// outcome tells a Client whether a failed request may be retried.
type outcome struct {
	wrote   bool // some byte of the request went out
	records int  // records received for the request
}

// do runs Do. connected is Timing.Connected, or < 0 to measure it now.
func (c *Conn) do(ctx context.Context, req *Request, start time.Time, connected time.Duration) (*Response, outcome, error) {
	cr := new(callResponse)
	resp := &cr.resp
	resp.Conn, resp.Timing.Start = c.info, start
	if connected < 0 {
		connected = time.Since(start)
	}
	resp.Timing.Connected = connected
	if req == nil {
		return resp, outcome{}, fmt.Errorf("fcgi: request on %s: nil Request", c.where)
	}
	if err := ctx.Err(); err != nil {
		resp.Timing.End = time.Since(start)
		return resp, outcome{}, fmt.Errorf("fcgi: request on %s, not sent: %w: %w", c.where, ctxFailure(err, PhaseNotSent, start), err)
	}
	cl := &cr.call
	if err := c.register(cl, req, start, resp); err != nil {
		resp.Timing.End = time.Since(start)
		return resp, outcome{}, err
	}

	var sendErr error
	if ctx.Done() != nil {
		// Cancelling unblocks a write of this request's that the
		// application does not read.
		stop := context.AfterFunc(ctx, func() { c.interrupt(cl) })
		sendErr = c.send(ctx, cl)
		stop()
	} else {
		sendErr = c.send(ctx, cl)
	}
	idle := c.opts.idleTimeout()
	c.sendFinished(cl, sendErr == nil && idle > 0)
	out := outcome{wrote: cl.wrote}
	if pe, ok := sendErr.(*pairTooLongError); ok {
		// WriteParams checked the params before writing: nothing went
		// out, and the id is free again.
		c.mu.Lock()
		if c.calls.get(cl.id) == cl {
			c.freeID(cl.id)
		}
		c.mu.Unlock()
		c.detach(cl)
		resp.Timing.End = time.Since(start)
		return resp, out, fmt.Errorf("fcgi: request on %s: param %.40q longer than 2^31-1 bytes", c.where, pe.name)
	}
	if sendErr != nil {
		serr, _ := sendErr.(*stdinError)
		switch {
		case errors.Is(sendErr, errCancelled), serr != nil && ctx.Err() != nil:
			if ctx.Err() == nil {
				<-ctx.Done() // its deadline passed (see writeFailed); the timer is about to fire
			}
			return c.abort(cl, resp, out, ctxFailure(ctx.Err(), PhaseSending, start), "cancelled while sending", ctx.Err())
		case serr != nil:
			return c.abort(cl, resp, out, ErrAborted, "reading "+serr.t.String(), serr.err)
		}
	}

	// Wait for END_REQUEST, under the idle watch (see sendFinished): the
	// silence is counted from the end of sending and from every record
	// received for the request.
	for {
		if ctx.Done() == nil {
			<-cl.done
		} else {
			select {
			case <-cl.done:
			case <-ctx.Done():
				if cl.isFinished() {
					return c.result(cl, resp, out)
				}
				return c.abort(cl, resp, out, ctxFailure(ctx.Err(), PhaseWaiting, start), "cancelled while waiting", ctx.Err())
			}
		}
		if cl.isFinished() {
			return c.result(cl, resp, out)
		}
		c.mu.Lock()
		silent := cl.silent
		c.mu.Unlock()
		if silent {
			return c.abort(cl, resp, out, &TimeoutError{Limit: LimitIdle, Phase: PhaseWaiting, After: idle},
				fmt.Sprintf("no record for %v (IdleTimeout)", idle), nil)
		}
	}
}

// finish marks cl finished and wakes its Do; Conn.mu is held.
func (cl *call) finish() {
	cl.finished = true
	cl.over.Store(true)
	cl.wake()
}

// wake gives cl's Do a token, unless one is already waiting for it.
func (cl *call) wake() {
	select {
	case cl.done <- struct{}{}:
	default:
	}
}

// isFinished tells whether END_REQUEST arrived or the connection died.
func (cl *call) isFinished() bool { return cl.over.Load() }

// watchIdle puts cl, whose Do now waits for END_REQUEST, under the idle
// watch; Conn.mu is held. One timer serves every waiting request of the
// connection: it is armed for the earliest moment a request can have been
// silent for IdleTimeout, so that a request costs no timer of its own (a
// Reset and a Stop each, plus a timer channel in its select).
func (c *Conn) watchIdle(cl *call, now time.Time, idle time.Duration) {
	cl.waiting = true
	cl.last.Store(int64(now.Sub(cl.start)))
	due := now.Add(idle)
	switch {
	case c.watch == nil:
		c.watch = time.AfterFunc(idle, c.checkIdle)
	case c.watchAt.IsZero() || c.watchAt.After(due):
		c.watch.Reset(idle)
	default:
		return // armed for an earlier moment, when it looks again
	}
	c.watchAt = due
}

// checkIdle runs when the idle watch fires: every waiting request silent
// for IdleTimeout is woken to give up, and the watch is armed again for
// the earliest moment another one can be.
func (c *Conn) checkIdle() {
	idle := c.opts.idleTimeout()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	now := time.Now()
	var next time.Time
	for _, cl := range c.calls.all() {
		if !cl.waiting || cl.finished || cl.reserved || cl.silent {
			continue
		}
		due := cl.start.Add(time.Duration(cl.last.Load()) + idle)
		if !now.Before(due) {
			cl.silent = true
			cl.wake()
		} else if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	c.watchAt = next
	if !next.IsZero() {
		c.watch.Reset(next.Sub(now))
	}
}

// ctxKind maps a context error to its sentinel: a passed deadline is a
// timeout, a cancellation an abort.
func ctxKind(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ErrAborted
}

// ctxFailure is ctxKind for a request that began at start, where a passed
// deadline is a *TimeoutError in phase.
func ctxFailure(err error, phase Phase, start time.Time) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Limit: LimitDeadline, Phase: phase, After: time.Since(start)}
	}
	return ErrAborted
}

// callResponse is a request's call and the Response its Do returns, made
// in one allocation.
type callResponse struct {
	call call
	resp Response
}

// register picks the request id and makes cl, not yet used, the active
// request for it.
func (c *Conn) register(cl *call, req *Request, start time.Time, resp *Response) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return fmt.Errorf("fcgi: request on %s, not sent: %w", c.where, c.err)
	}
	id := req.ID
	if id == 0 {
		// c.free is a lower bound of the lowest free id.
		for id = max(c.free, 1); c.calls.get(id) != nil; id++ {
			if id == 65535 {
				c.free = 65535
				return fmt.Errorf("fcgi: request on %s: all 65535 request ids are in use", c.where)
			}
		}
		c.free = id + 1
		if id == 65535 {
			c.free = 65535
		}
	} else if c.calls.get(id) != nil {
		return fmt.Errorf("fcgi: request on %s: request id %d is in use", c.where, id)
	}
	cl.id, cl.req, cl.start, cl.done, cl.resp = id, req, start, make(chan struct{}, 1), resp
	c.calls.set(id, cl)
	resp.ID = id
	resp.Conn.Reused = c.begun > 0
	c.begun++
	return nil
}

// sendFinished records that Do writes no more records for cl; a finished
// request's id becomes free. With watch, an unfinished cl goes under the
// idle watch.
func (c *Conn) sendFinished(cl *call, watch bool) {
	var now time.Time
	if watch {
		now = c.now()
	}
	c.mu.Lock()
	cl.sendDone = true
	switch {
	case cl.finished && c.calls.get(cl.id) == cl:
		c.freeID(cl.id)
	case watch && !cl.finished:
		c.watchIdle(cl, now, c.opts.idleTimeout())
	}
	c.mu.Unlock()
}

// freeID makes id free again; c.mu is held.
func (c *Conn) freeID(id uint16) {
	c.calls.delete(id)
	c.free = min(c.free, id)
}

// Internal results of send.
var errCancelled = errors.New("cancelled")

// stdinError: reading the request's Stdin or Data failed.
type stdinError struct {
	t   RecordType
	err error
}

func (e *stdinError) Error() string { return "reading " + e.t.String() + ": " + e.err.Error() }

// send writes the request's records. It stops early, returning nil, when the
// request finished meanwhile (END_REQUEST or a dead connection). It returns
// errCancelled when the context ended with the connection still in step, a
// *stdinError when Stdin or Data failed, or a write error after which the
// connection was failed.
//
// The head of the request (BEGIN_REQUEST, PARAMS, the empty PARAMS, and
// when there is no body the empty STDIN, or a small in-memory body whole)
// goes out in one write.
func (c *Conn) send(ctx context.Context, cl *call) error {
	req := cl.req
	role := req.Role
	if role == 0 {
		role = RoleResponder
	}
	var flags Flags
	if req.KeepConn {
		flags = FlagKeepConn
	}
	withData := req.Data != nil || role == RoleFilter
	body, off, inline := inlineBody(req.Stdin)
	if err := c.lockWrite(ctx, cl); err != nil {
		return err
	}
	w := c.w
	start := w.offset()
	w.hold()
	err := w.WriteBeginRequest(cl.id, role, flags)
	if err == nil {
		err = w.WriteParams(cl.id, req.Params)
	}
	if err == nil && inline >= 0 {
		if body != nil {
			if err = w.appendFrom(TypeStdin, cl.id, body, off, inline); err != nil {
				var we *writeError
				if !errors.As(err, &we) {
					err = &stdinError{t: TypeStdin, err: err}
				}
			}
		}
		if err == nil {
			err = w.CloseStream(TypeStdin, cl.id)
		}
		if err == nil && withData && req.Data == nil {
			err = w.CloseStream(TypeData, cl.id)
			withData = false
		}
	}
	if err != nil {
		w.drop()
	} else {
		err = w.endHold()
	}
	written := max(w.offset()-start, 0)
	c.unlockWrite()
	cl.wrote = written > 0
	cl.began = written >= HeaderLen+beginRequestLen
	if inline > 0 && cl.wrote {
		// The body was read in place; it counts as read once something of
		// the request went out (a Client may send it again otherwise).
		req.Stdin.(io.Seeker).Seek(0, io.SeekEnd)
	}
	if serr, ok := err.(*stdinError); ok {
		return serr
	}
	if pe, ok := err.(*pairTooLongError); ok {
		return pe // nothing of the request was written (see WriteParams)
	}
	if err != nil {
		return c.writeFailed(ctx, cl, err)
	}
	if inline < 0 {
		if err := c.sendStream(ctx, cl, TypeStdin, req.Stdin); err != nil {
			return err
		}
	}
	if withData {
		return c.sendStream(ctx, cl, TypeData, req.Data)
	}
	return nil
}

// maxInlineBody is the largest in-memory body sent with the request's head.
const maxInlineBody = 16 << 10

// inlineBody returns, when r is an in-memory reader whose unread bytes go
// with the request's head, where they are (body at off) and how many (nil
// counts as empty); else n is -1. They are read without moving r, so that
// a head that could not be written leaves the body unread.
func inlineBody(r io.Reader) (body io.ReaderAt, off int64, n int) {
	switch r := r.(type) {
	case nil:
		return nil, 0, 0
	case *bytes.Reader:
		if n := r.Len(); n <= maxInlineBody {
			return r, r.Size() - int64(n), n
		}
	case *strings.Reader:
		if n := r.Len(); n <= maxInlineBody {
			return r, r.Size() - int64(n), n
		}
	}
	return nil, 0, -1
}

// sendStream writes r as a stream of type t, closed by an empty record.
// An io.WriterTo (a *bytes.Reader, say) hands over its bytes and they are
// framed without a copy; anything else is read straight into a record's
// place in a buffer.
func (c *Conn) sendStream(ctx context.Context, cl *call, t RecordType, r io.Reader) error {
	if r != nil {
		sw := streamWriter{c: c, ctx: ctx, cl: cl, t: t}
		var err error
		if wt, ok := r.(io.WriterTo); ok {
			_, err = wt.WriteTo(&sw)
		} else {
			err = sw.readFrom(r)
		}
		if sw.buf != nil {
			*sw.buf = (*sw.buf)[:0]
			c.bufs.Put(sw.buf)
		}
		switch {
		case sw.err == errRequestDone:
			return nil
		case sw.err != nil:
			return sw.err
		case err != nil:
			return &stdinError{t: t, err: err}
		}
	}
	if cl.isFinished() {
		return nil
	}
	if err := c.lockWrite(ctx, cl); err != nil {
		return err
	}
	err := c.w.CloseStream(t, cl.id)
	c.unlockWrite()
	if err != nil {
		return c.writeFailed(ctx, cl, err)
	}
	return nil
}

// errRequestDone stops a Stdin's WriteTo when the request finished.
var errRequestDone = errors.New("fcgi: request finished while its body was being sent")

// streamWriter frames what it is given as records of one stream of a
// request, taking the write lock for each record, so that requests
// multiplexed on the connection take turns.
type streamWriter struct {
	c   *Conn
	ctx context.Context
	cl  *call
	t   RecordType
	err error   // why writing stopped (errRequestDone, or from send's rules)
	buf *[]byte // framing buffer from c.bufs, for readFrom and WriteString
}

// Write sends p in records of at most 65535 bytes, without copying large
// ones.
func (s *streamWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := min(len(p)-n, MaxContent)
		if err := s.record(func(w *Writer) error { return w.WriteRecord(s.t, s.cl.id, p[n:n+k]) }); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// WriteString sends str like Write, copying it once into a record's place.
func (s *streamWriter) WriteString(str string) (int, error) {
	b := s.buffer()
	n := 0
	for n < len(str) {
		k := min(len(str)-n, MaxContent)
		rec := append((*b)[:HeaderLen], str[n:n+k]...)
		if err := s.record(func(w *Writer) error { return w.writeFramed(s.t, s.cl.id, rec) }); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// readFrom sends what r reads, each read landing where its record's content
// goes. It returns r's error, other than io.EOF.
func (s *streamWriter) readFrom(r io.Reader) error {
	b := s.buffer()
	for {
		if s.cl.isFinished() {
			s.err = errRequestDone
			return nil
		}
		rec := (*b)[:HeaderLen+MaxContent]
		n, rerr := r.Read(rec[HeaderLen:])
		if n > 0 {
			rec = rec[:HeaderLen+n]
			if err := s.record(func(w *Writer) error { return w.writeFramed(s.t, s.cl.id, rec) }); err != nil {
				return nil
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

func (s *streamWriter) buffer() *[]byte {
	if s.buf == nil {
		s.buf = s.c.bufs.Get().(*[]byte)
	}
	return s.buf
}

// record writes one record with fn under the write lock; an error stops
// the stream and is kept in s.err.
func (s *streamWriter) record(fn func(w *Writer) error) error {
	if s.err != nil {
		return s.err
	}
	if s.cl.isFinished() {
		s.err = errRequestDone
		return s.err
	}
	if err := s.c.lockWrite(s.ctx, s.cl); err != nil {
		s.err = err
		return err
	}
	err := fn(s.c.w)
	s.c.unlockWrite()
	if err != nil {
		s.err = s.c.writeFailed(s.ctx, s.cl, err)
		if s.err == nil {
			s.err = err
		}
		return s.err
	}
	return nil
}

// lockWrite takes the write lock for owner (a *call or *mgmtWait) and arms
// the write deadline: IdleTimeout from now, or the context's deadline if
// sooner. It fails with errCancelled if ctx is done and with the
// connection's error if it is dead. Nothing is left in the Writer between
// two write sections: each writes its records before it unlocks.
func (c *Conn) lockWrite(ctx context.Context, owner any) error {
	c.wmu.Lock()
	if c.dead.Load() {
		c.wmu.Unlock()
		return errConnDead
	}
	var ctxDeadline time.Time
	if d, ok := ctx.Deadline(); ok {
		ctxDeadline = d
	}
	// Arm the deadline before publishing the owner, so that interrupt's
	// deadline in the past cannot be overwritten.
	c.armWrite(ctxDeadline)
	if ctx.Done() != nil {
		c.wsMu.Lock()
		c.writing = owner
		c.wsMu.Unlock()
		c.published = true
	}
	if ctx.Err() != nil {
		c.unlockWrite()
		return errCancelled
	}
	c.wcall, _ = owner.(*call)
	if c.opts.Trace != nil || c.wcall != nil && c.wcall.req.Trace != nil {
		c.w.Trace = c.sentTrace
	} else {
		c.w.Trace = nil
	}
	return nil
}

var errConnDead = errors.New("connection is dead")

// unlockWrite ends a write section.
func (c *Conn) unlockWrite() {
	c.unpublish()
	c.wcall = nil
	c.wmu.Unlock()
}

// unpublish ends what lockWrite published for interrupt; wmu is held.
func (c *Conn) unpublish() {
	if c.published {
		c.wsMu.Lock()
		c.writing = nil
		c.wsMu.Unlock()
		c.published = false
	}
}

// interrupt unblocks a write of owner's that the context cancelled.
func (c *Conn) interrupt(owner any) {
	c.wsMu.Lock()
	if c.writing == owner {
		c.broken.Store(true)
		c.nc.SetWriteDeadline(time.Unix(1, 0))
	}
	c.wsMu.Unlock()
}

// armWrite sets the write deadline for the records written under the lock
// (held): IdleTimeout from now, or ctxDeadline if set and sooner.
//
// Setting a deadline costs a runtime timer update; so an idle deadline
// armed less than IdleTimeout/8 ago is kept: a write may then stall for up
// to 9/8 of IdleTimeout.
func (c *Conn) armWrite(ctxDeadline time.Time) {
	var deadline time.Time
	idle := c.opts.idleTimeout()
	if idle > 0 {
		now := c.now()
		deadline = now.Add(idle)
		if !ctxDeadline.IsZero() && ctxDeadline.Before(deadline) {
			deadline = ctxDeadline
		} else {
			if !c.broken.Load() && !c.armed.Before(deadline) && c.armed.Sub(deadline) <= idle/8 {
				return
			}
			deadline = deadline.Add(idle / 8)
		}
	} else if !ctxDeadline.IsZero() {
		deadline = ctxDeadline
	}
	if c.broken.Swap(false) || !deadline.Equal(c.armed) {
		c.armed = deadline
		c.nc.SetWriteDeadline(deadline)
	}
}

// writeFailed handles a failed write of cl's. A write cut by the context
// before any byte of the record went out leaves the connection in step
// (errCancelled); anything else kills the connection.
func (c *Conn) writeFailed(ctx context.Context, cl *call, err error) error {
	if errors.Is(err, errConnDead) || errors.Is(err, errCancelled) {
		return err
	}
	var we *writeError
	written := 0
	if errors.As(err, &we) {
		written = we.Written
	}
	// The write deadline is the context's when that is sooner, and the
	// socket may report it a moment before the context's own timer fires.
	ctxDone := ctx.Err() != nil
	if dl, ok := ctx.Deadline(); ok && !ctxDone && errors.Is(err, os.ErrDeadlineExceeded) {
		ctxDone = !time.Now().Before(dl)
	}
	cancelled := ctxDone
	if cancelled && written == 0 {
		return errCancelled
	}
	f := &connFailure{kind: ErrConnClosed, what: fmt.Sprintf("writing a record of request %d", cl.id), cause: err}
	switch {
	case cancelled:
		f.what = fmt.Sprintf("closed by the client: request %d was cancelled in the middle of a record", cl.id)
	case errors.Is(err, os.ErrDeadlineExceeded):
		f.kind = &TimeoutError{Limit: LimitIdle, Phase: PhaseSending, After: c.opts.idleTimeout()}
		f.what = fmt.Sprintf("writing a record of request %d stalled for %v", cl.id, c.opts.idleTimeout())
	}
	c.fail(f)
	if cancelled {
		return errCancelled
	}
	return err
}

// traceSent reports a record the Writer is about to write to
// Options.Trace and to the Trace of the request being written. It runs
// under wmu.
func (c *Conn) traceSent(ev Event) {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	if c.opts.Trace != nil {
		c.opts.Trace(ev)
	}
	if c.wcall != nil && c.wcall.req.Trace != nil {
		c.wcall.req.Trace(ev)
	}
}

// abort ends a request that the caller gave up on: it sends ABORT_REQUEST
// if the request began, waits up to AbortWait for END_REQUEST, and closes
// the connection if none came and no other request is active on it.
func (c *Conn) abort(cl *call, resp *Response, out outcome, kind error, why string, cause error) (*Response, outcome, error) {
	detail := why
	if cl.began && !cl.isFinished() {
		abortErr := c.writeAbort(cl)
		switch {
		case abortErr != nil:
			detail += "; ABORT_REQUEST not sent"
		case c.opts.abortWait() > 0:
			t := time.NewTimer(c.opts.abortWait())
		wait:
			for !cl.isFinished() {
				select {
				case <-cl.done: // a token may be stale (see call.done)
				case <-t.C:
					break wait
				}
			}
			t.Stop()
			detail += "; ABORT_REQUEST sent"
		default:
			detail += "; ABORT_REQUEST sent"
		}
	}
	c.mu.Lock()
	ended := cl.finished && cl.err == nil
	closeConn := false
	if !cl.finished {
		if !cl.began {
			// Nothing went out: the id is simply free again.
			c.freeID(cl.id)
		} else {
			cl.reserved = true
			closeConn = true
			for _, o := range c.calls.all() {
				if o != cl && !o.finished && !o.reserved {
					closeConn = false
					break
				}
			}
		}
	}
	c.mu.Unlock()
	switch {
	case ended:
		detail += "; END_REQUEST received"
	case closeConn:
		detail += fmt.Sprintf("; no END_REQUEST within %v, connection closed", c.opts.abortWait())
		c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf(
			"closed by the client: request %d got no END_REQUEST within %v of ABORT_REQUEST", cl.id, c.opts.abortWait())})
	case cl.began && !cl.isFinished():
		detail += fmt.Sprintf("; no END_REQUEST within %v, request id %d reserved until it comes", c.opts.abortWait(), cl.id)
	}
	c.detach(cl)
	out.records = cl.records
	resp.Timing.End = time.Since(cl.start)
	if cause != nil {
		return resp, out, fmt.Errorf("fcgi: request %d on %s: %w: %s: %w", cl.id, c.where, kind, detail, cause)
	}
	return resp, out, fmt.Errorf("fcgi: request %d on %s: %w: %s", cl.id, c.where, kind, detail)
}

// writeAbort sends ABORT_REQUEST for cl, bounded by AbortWait (or
// IdleTimeout when there is no AbortWait).
func (c *Conn) writeAbort(cl *call) error {
	wait := c.opts.abortWait()
	if wait <= 0 {
		wait = c.opts.idleTimeout()
	}
	ctx := context.Background()
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	if err := c.lockWrite(ctx, cl); err != nil {
		return err
	}
	err := c.w.WriteAbortRequest(cl.id)
	c.unlockWrite()
	if err != nil {
		c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf("writing ABORT_REQUEST of request %d", cl.id), cause: err})
	}
	return err
}

// detach stops all delivery to cl's writers and traces; after it, the
// reading goroutine no longer touches cl's Response.
//
// Once the connection died, it first waits for the reading goroutine to
// end: that goroutine reports what arrived of an unfinished record to the
// requests the connection served (see readFailed), and those bytes belong
// in cl's Trace before Do returns. It ends promptly, the connection being
// closed.
func (c *Conn) detach(cl *call) {
	if c.dead.Load() {
		<-c.readDone
	}
	cl.mu.Lock()
	cl.detached = true
	cl.mu.Unlock()
}

// result builds Do's answer once cl finished.
func (c *Conn) result(cl *call, resp *Response, out outcome) (*Response, outcome, error) {
	c.detach(cl)
	out.records = cl.records
	resp.Timing.End = time.Since(cl.start)
	f := cl.err // set before cl was finished
	switch {
	case f != nil:
		return resp, out, fmt.Errorf("fcgi: request %d on %s, before END_REQUEST: %w", cl.id, c.where, f)
	case resp.ProtocolStatus != StatusRequestComplete:
		return resp, out, fmt.Errorf("fcgi: request %d on %s: %w", cl.id, c.where,
			&EndRequestError{AppStatus: resp.AppStatus, ProtocolStatus: resp.ProtocolStatus})
	case cl.stdoutErr != nil || cl.stderrErr != nil:
		return resp, out, fmt.Errorf("fcgi: request %d on %s: %w", cl.id, c.where, errors.Join(cl.stdoutErr, cl.stderrErr))
	}
	return resp, out, nil
}

// GetValues asks the application for the values of names with a
// GET_VALUES management record and returns its GET_VALUES_RESULT. Without
// names it asks for FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS.
func (c *Conn) GetValues(ctx context.Context, names ...string) ([]Pair, error) {
	if len(names) == 0 {
		names = []string{ValueMaxConns, ValueMaxReqs, ValueMpxsConns}
	}
	w := &mgmtWait{done: make(chan struct{})}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("fcgi: GET_VALUES on %s, not sent: %w", c.where, c.err)
	}
	c.mgmt = append(c.mgmt, w)
	c.mu.Unlock()

	stop := context.AfterFunc(ctx, func() { c.interrupt(w) })
	err := c.lockWrite(ctx, w)
	if err == nil {
		err = c.w.WriteGetValues(names)
		c.unlockWrite()
	}
	stop()
	if err != nil {
		var we *writeError
		written := errors.As(err, &we) && we.Written > 0
		switch {
		case errors.Is(err, errConnDead):
			<-w.done
			return nil, w.err
		case ctx.Err() != nil && !written:
			// Never sent: no answer will come for w.
			c.mu.Lock()
			for i, o := range c.mgmt {
				if o == w {
					c.mgmt = append(c.mgmt[:i], c.mgmt[i+1:]...)
					break
				}
			}
			c.mu.Unlock()
			return nil, fmt.Errorf("fcgi: GET_VALUES on %s, not sent: %w: %w", c.where, ctxKind(ctx.Err()), ctx.Err())
		}
		c.fail(&connFailure{kind: ErrConnClosed, what: "writing GET_VALUES", cause: err})
		return nil, fmt.Errorf("fcgi: GET_VALUES on %s: %w: %w", c.where, ErrConnClosed, err)
	}

	var idleC <-chan time.Time
	if idle := c.opts.idleTimeout(); idle > 0 {
		t := time.NewTimer(idle)
		defer t.Stop()
		idleC = t.C
	}
	// A waiter given up on stays queued, so that its late answer is not
	// taken for the next one's.
	select {
	case <-w.done:
		if w.err != nil {
			return nil, w.err
		}
		return w.pairs, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("fcgi: GET_VALUES on %s: %w: %w", c.where, ctxKind(ctx.Err()), ctx.Err())
	case <-idleC:
		return nil, fmt.Errorf("fcgi: GET_VALUES on %s: %w: no GET_VALUES_RESULT within %v (IdleTimeout)",
			c.where, ErrTimeout, c.opts.idleTimeout())
	}
}

// readLoop reads every record of the connection and hands it to the
// request it belongs to, until the connection fails.
func (c *Conn) readLoop() {
	defer close(c.readDone)
	for {
		rec, err := c.r.ReadRecord()
		if err != nil {
			c.readFailed(rec, err, time.Now())
			return
		}
		// When the bytes that completed the record were read: one clock
		// reading per read system call, shared by the records it brought.
		now := c.r.readAt
		if rec.RequestID == NullRequestID {
			c.management(rec, now)
		} else {
			c.dispatch(rec, now)
		}
		c.lastGVR = rec.RequestID == NullRequestID && rec.Type == TypeGetValuesResult && rec.ContentLength > 0
	}
}

// dispatch hands an application record to its request.
func (c *Conn) dispatch(rec *Record, now time.Time) {
	c.mu.Lock()
	cl := c.calls.get(rec.RequestID)
	if cl != nil && (cl.finished || cl.reserved) {
		if cl.reserved && rec.Type == TypeEndRequest {
			// The aborted request's late END_REQUEST frees its id.
			c.freeID(cl.id)
			cl.finish()
		}
		cl = nil
	}
	c.mu.Unlock()
	if cl == nil {
		c.traceStray(Event{Dir: Received, Time: now, Record: rec, Err: fmt.Errorf(
			"fcgi: record %d at byte %d: %s for request %d: %w",
			rec.Index, rec.Offset, rec.Type, rec.RequestID, ErrUnknownRequestID)})
		return
	}
	cl.last.Store(int64(now.Sub(cl.start)))

	var end *EndRequest
	cl.mu.Lock()
	if !cl.detached {
		cl.records++
		resp := cl.resp
		if !cl.firstByte {
			cl.firstByte = true
			resp.Timing.FirstByte = now.Sub(cl.start)
		}
		var evErr error
		switch rec.Type {
		case TypeStdout, TypeStderr, TypeEndRequest:
		default:
			evErr = fmt.Errorf("fcgi: record %d at byte %d: %w: unexpected %s record from the application for request %d",
				rec.Index, rec.Offset, ErrProtocol, rec.Type, rec.RequestID)
		}
		if c.opts.Trace != nil || cl.req.Trace != nil {
			c.traceCall(Event{Dir: Received, Time: now, Record: rec, Err: evErr}, cl)
		}
		switch rec.Type {
		case TypeStdout:
			cl.deliver(cl.req.Stdout, rec, &resp.StdoutBytes, &cl.stdoutErr)
		case TypeStderr:
			cl.deliver(cl.req.Stderr, rec, &resp.StderrBytes, &cl.stderrErr)
		case TypeEndRequest:
			end, _ = rec.Body.(*EndRequest)
			if end != nil {
				resp.Ended = true
				resp.AppStatus, resp.ProtocolStatus = end.AppStatus, end.ProtocolStatus
			}
		}
	} else if rec.Type == TypeEndRequest {
		end, _ = rec.Body.(*EndRequest)
	}
	cl.mu.Unlock()

	if end != nil {
		c.mu.Lock()
		if !cl.finished {
			cl.finish()
			if cl.sendDone && c.calls.get(cl.id) == cl {
				c.freeID(cl.id)
			}
		}
		c.mu.Unlock()
	}
}

// deliver writes a stream record's content to w and counts it; the first
// write error is kept in *werr and later content discarded. Called under
// cl.mu.
func (cl *call) deliver(w io.Writer, rec *Record, count *int64, werr *error) {
	content := rec.Content()
	*count += int64(len(content))
	if w == nil || len(content) == 0 || *werr != nil {
		return
	}
	if _, err := w.Write(content); err != nil {
		*werr = fmt.Errorf("writing %s content of record %d at byte %d: %w", rec.Type, rec.Index, rec.Offset, err)
	}
}

// traceCall reports ev to Options.Trace and to cl's Trace. Called under
// cl.mu with cl not detached.
func (c *Conn) traceCall(ev Event, cl *call) {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	if c.opts.Trace != nil {
		c.opts.Trace(ev)
	}
	if cl.req.Trace != nil {
		cl.req.Trace(ev)
	}
}

// traceStray reports ev to Options.Trace and to the Trace of every active
// request on the connection.
func (c *Conn) traceStray(ev Event) {
	if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(ev)
		c.traceMu.Unlock()
	}
	var active []*call
	c.mu.Lock()
	for _, cl := range c.calls.all() {
		if !cl.finished && !cl.reserved && cl.req.Trace != nil {
			active = append(active, cl)
		}
	}
	c.mu.Unlock()
	for _, cl := range active {
		c.traceRequest(cl, ev)
	}
}

// traceRequest reports ev to the Trace of cl's request only, unless Do
// has already returned for it (detached).
func (c *Conn) traceRequest(cl *call, ev Event) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.detached {
		c.traceMu.Lock()
		cl.req.Trace(ev)
		c.traceMu.Unlock()
	}
}

// management handles a record with request id 0.
func (c *Conn) management(rec *Record, now time.Time) {
	var w *mgmtWait
	var evErr error
	// Go's net/http/fcgi closes its GET_VALUES_RESULT like a stream, with
	// an empty record: that one answers nothing.
	closing := rec.Type == TypeGetValuesResult && rec.ContentLength == 0 && c.lastGVR
	answers := rec.Type == TypeGetValuesResult && !closing
	if u, ok := rec.Body.(*UnknownType); ok && u.Type == TypeGetValues {
		answers = true
	}
	if answers {
		c.mu.Lock()
		if len(c.mgmt) > 0 {
			w = c.mgmt[0]
			c.mgmt = c.mgmt[1:]
		}
		c.mu.Unlock()
	}
	if w == nil && !closing {
		evErr = fmt.Errorf("fcgi: record %d at byte %d: unexpected %s management record", rec.Index, rec.Offset, rec.Type)
	}
	if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(Event{Dir: Received, Time: now, Record: rec, Err: evErr})
		c.traceMu.Unlock()
	}
	if w == nil {
		return
	}
	if p, ok := rec.Body.(*Pairs); ok && rec.Type == TypeGetValuesResult {
		w.pairs = p.List()
	} else {
		w.err = fmt.Errorf("fcgi: GET_VALUES on %s: the application answered UNKNOWN_TYPE (record %d at byte %d)",
			c.where, rec.Index, rec.Offset)
	}
	close(w.done)
}

// readFailed reports what the failed read captured to the traces and fails
// the connection: a record the reader could not decode or a stream cut
// inside a record is a protocol error, anything else a closed connection.
func (c *Conn) readFailed(rec *Record, err error, now time.Time) {
	if err == io.EOF {
		c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf(
			"closed by the application at byte %d, after %d records", c.r.offset(), c.r.index)})
		return
	}
	var re *RecordError
	if !errors.As(err, &re) {
		c.fail(&connFailure{kind: ErrConnClosed, what: "reading", cause: err})
		return
	}
	undecoded := rec != nil
	if rec == nil && len(re.Partial) > 0 {
		rec = &Record{Header: re.Header, Index: re.Index, Offset: re.Offset, Raw: re.Partial}
	}
	c.mu.Lock()
	dead := c.err
	c.mu.Unlock()
	if dead != nil {
		// The client closed the connection (an idle timeout, an abort
		// without answer, Close, a failed write) and cut this read: what
		// arrived of the unfinished record goes to the requests that were
		// waiting, whose Do waits for this report (see detach).
		if rec != nil {
			ev := Event{Dir: Received, Time: now, Record: rec, Err: err}
			if !undecoded && !errors.Is(err, ErrVersion) {
				ev.Err = unfinishedErr(re, dead)
			}
			c.traceLost(ev)
		}
		return
	}
	// A record the reader framed but could not decode, a header of
	// another version, and a stream cut inside a record, are the peer's
	// fault; any other read error means the connection broke.
	protocol := undecoded || errors.Is(err, ErrShortRecord) || errors.Is(err, ErrVersion)
	if rec != nil {
		c.traceFailed(Event{Dir: Received, Time: now, Record: rec, Err: err})
	}
	if protocol {
		c.fail(&connFailure{kind: ErrProtocol, what: "reading", cause: err})
		return
	}
	c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf("reading at byte %d", re.Offset), cause: err})
}

// unfinishedErr describes the record re whose reading the death of the
// connection (f) cut. The stream ended inside it, so it wraps
// ErrShortRecord, and f's sentinel, which tells why.
func unfinishedErr(re *RecordError, f *connFailure) error {
	e := *re
	n := len(re.Partial)
	if n < HeaderLen {
		e.Err = fmt.Errorf("%w: header cut after %d of %d bytes: %w", ErrShortRecord, n, HeaderLen, f)
	} else {
		h := re.Header
		e.Err = fmt.Errorf("%w: %s record with content length %d and padding %d cut after %d of %d bytes: %w",
			ErrShortRecord, h.Type, h.ContentLength, h.PaddingLength, n, h.RecordLen(), f)
	}
	return &e
}

// traceLost reports ev, what arrived of a record after the connection
// died, to Options.Trace and to the Trace of the requests it served: the
// one its header names, or all when the header is incomplete.
func (c *Conn) traceLost(ev Event) {
	if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(ev)
		c.traceMu.Unlock()
	}
	c.mu.Lock()
	lost := c.lost
	c.mu.Unlock()
	whole := len(ev.Record.Raw) >= HeaderLen
	for _, cl := range lost {
		if cl.req.Trace == nil || whole && cl.id != ev.Record.RequestID {
			continue
		}
		c.traceRequest(cl, ev)
	}
}

// traceFailed reports a record that failed to read or decode: to its
// request if the header names an active one, else as a stray.
func (c *Conn) traceFailed(ev Event) {
	var cl *call
	if len(ev.Record.Raw) >= HeaderLen {
		c.mu.Lock()
		cl = c.calls.get(ev.Record.RequestID)
		if cl != nil && (cl.finished || cl.reserved) {
			cl = nil
		}
		c.mu.Unlock()
	}
	if cl == nil {
		c.traceStray(ev)
		return
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.detached {
		c.traceCall(ev, cl)
	} else if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(ev)
		c.traceMu.Unlock()
	}
}
