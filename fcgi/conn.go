// Conn: one client connection to a FastCGI application, multiplexing requests
// by request id: Dial, Do, GetValues, Close. Its write side is in
// conn_write.go, its read side in conn_read.go, giving up in conn_abort.go.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

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

	began bool // BEGIN_REQUEST went out whole; Do's goroutine only
	wrote bool // some byte of the request went out; Do's goroutine only
	// limit is the caller's context deadline, zero without one: giving up
	// ends by then, the wait for END_REQUEST after ABORT_REQUEST included
	// (see Conn.do). Do's goroutine only.
	limit time.Time
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
	asked time.Time // when GET_VALUES was queued: just before it went out
	pairs []Pair
	err   error // UNKNOWN_TYPE answer or conn failure
}

// connFailure is why a connection died.
type connFailure struct {
	kind  error  // one of the sentinels, or a *TimeoutError for ErrTimeout
	what  string // what happened and where
	cause error  // may be nil
	// byPeer: the application closed the connection (end of stream).
	byPeer bool
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
		return nil, fmt.Errorf("fcgi: dial %s %s: %w: %w", network, address, kind, dialCause(err))
	}
	return newConn(nc, opts, network, address), nil
}

// dialCause returns what went wrong in a failed dial without the words the
// dial's own error repeats: "dial tcp 127.0.0.1:9000: connect: connection
// refused" is "connection refused" once the message already says which dial
// failed. It unwraps to the same errors (syscall.ECONNREFUSED and so on).
func dialCause(err error) error {
	var op *net.OpError
	if !errors.As(err, &op) || op.Err == nil {
		return err
	}
	var sys *os.SyscallError
	if errors.As(op.Err, &sys) && sys.Err != nil {
		return sys.Err
	}
	return op.Err
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

// closing reports whether the connection is dead or about to be: the
// application closed it and the reading goroutine has not seen it yet.
func (c *Conn) closing() bool { return c.dead.Load() || peerClosed(c.nc) }

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
		w.err = c.unansweredErr(w, f)
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
// A context deadline is the whole time the request may take: Do returns
// by then, whatever the application does. To leave room for the wait after
// ABORT_REQUEST, a request still unanswered gives up that wait's length
// before the deadline: a tenth of the time left when Do began, at most
// AbortWait (a 2 s deadline sends ABORT_REQUEST at 1.8 s and returns by
// 2 s). A request that gives up this way fails with a *TimeoutError
// (LimitDeadline) even if END_REQUEST then comes. The wait after an idle
// timeout or a cancellation also ends at the deadline.
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
	if err := req.Framing.check(); err != nil {
		return resp, outcome{}, fmt.Errorf("fcgi: request on %s, not sent: %w", c.where, err)
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
	if limit, ok := ctx.Deadline(); ok {
		cl.limit = limit
		if g := abortGrace(c.opts.abortWait(), time.Until(limit)); g > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, limit.Add(-g))
			defer cancel()
		}
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
			return c.abort(cl, resp, out, ctxFailure(ctx.Err(), PhaseSending, start), ctxWhy(ctx.Err(), "sending"), ctx.Err())
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
				return c.abort(cl, resp, out, ctxFailure(ctx.Err(), PhaseWaiting, start), ctxWhy(ctx.Err(), "waiting"), ctx.Err())
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

// GetValues asks the application for the values of names with a
// GET_VALUES management record and returns its GET_VALUES_RESULT. Without
// names it asks for FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS.
func (c *Conn) GetValues(ctx context.Context, names ...string) ([]Pair, error) {
	if len(names) == 0 {
		names = []string{ValueMaxConns, ValueMaxReqs, ValueMpxsConns}
	}
	w := &mgmtWait{done: make(chan struct{}), asked: time.Now()}
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
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, &quietError{msg: fmt.Sprintf("fcgi: GET_VALUES on %s, not sent: %v: the deadline passed before GET_VALUES could be written",
					c.where, ErrTimeout), errs: []error{&TimeoutError{Limit: LimitDeadline, Phase: PhaseNotSent, After: time.Since(w.asked)}, ctx.Err()}}
			}
			return nil, fmt.Errorf("fcgi: GET_VALUES on %s, not sent: %w: %w", c.where, ErrAborted, ctx.Err())
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
		after := time.Since(w.asked)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, &quietError{msg: fmt.Sprintf("fcgi: GET_VALUES on %s: %v: no GET_VALUES_RESULT within %v (the deadline); "+
				"the application kept the connection open without answering", c.where, ErrTimeout, roundWait(after)),
				errs: []error{&TimeoutError{Limit: LimitDeadline, Phase: PhaseWaiting, After: after}, ctx.Err()}}
		}
		return nil, fmt.Errorf("fcgi: GET_VALUES on %s: %w: cancelled after waiting %v for GET_VALUES_RESULT: %w",
			c.where, ErrAborted, roundWait(after), ctx.Err())
	case <-idleC:
		idle := c.opts.idleTimeout()
		return nil, fmt.Errorf("fcgi: GET_VALUES on %s: %w: no GET_VALUES_RESULT within %v (IdleTimeout); "+
			"the application kept the connection open without answering",
			c.where, &TimeoutError{Limit: LimitIdle, Phase: PhaseWaiting, After: idle}, idle)
	}
}

// unansweredErr says that GET_VALUES w got no GET_VALUES_RESULT because the
// connection died of f: the application closed it, or something else
// happened.
func (c *Conn) unansweredErr(w *mgmtWait, f *connFailure) error {
	if f.byPeer {
		return fmt.Errorf("fcgi: GET_VALUES on %s: %w: the application closed the connection %v after GET_VALUES, without a GET_VALUES_RESULT",
			c.where, f.kind, roundWait(time.Since(w.asked)))
	}
	return fmt.Errorf("fcgi: GET_VALUES on %s: no GET_VALUES_RESULT: %w", c.where, f)
}
