// Server, one connection: a reading loop hands each record to its request, a
// goroutine runs each handler, and one Writer is shared under a lock.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// serverConn is one connection: a reader loop on the serving goroutine, one
// goroutine per running handler, and a Writer shared under wmu.
type serverConn struct {
	srv        *Server
	nc         net.Conn
	name       string
	overloaded bool // over MaxConns: every request gets OVERLOADED
	ctx        context.Context
	cancel     context.CancelCauseFunc
	handlers   sync.WaitGroup // the goroutines running handlers

	wmu sync.Mutex // guards w
	w   *Writer

	mu      sync.Mutex
	reqs    idMap[*serverRequest] // active requests by id
	ended   idMap[bool]           // ids we ended whose late records are dropped silently
	closing bool                  // no new requests; errors from here on are expected
}

// serverRequest is the connection's state of one active request. It holds
// what the handler is given, so that a request costs one allocation.
type serverRequest struct {
	conn      *serverConn
	id        uint16
	role      Role
	keepConn  bool
	params    []Pair
	rawParams string // PARAMS content so far, when the Reader leaves it undecoded
	started   bool   // PARAMS complete, handler running
	stdin     *inputStream
	data      *inputStream // nil unless RoleFilter

	// The context is made when the handler first asks for it.
	ctxMu  sync.Mutex
	ctx    context.Context
	cancel context.CancelCauseFunc
	cause  error // why the request was cancelled; nil while it runs

	sr       ServerRequest
	rw       ResponseWriter
	stdinBuf inputStream
	pendBuf  [256]byte // the ResponseWriter's first buffer
}

// context returns the request's context, made now if needed, and
// cancelled already if the request was.
func (req *serverRequest) context() context.Context {
	req.ctxMu.Lock()
	defer req.ctxMu.Unlock()
	if req.ctx == nil {
		req.ctx, req.cancel = context.WithCancelCause(req.conn.ctx)
		if req.cause != nil {
			req.cancel(req.cause)
		}
	}
	return req.ctx
}

// cancelWith cancels the request's context (now, or when it is made).
func (req *serverRequest) cancelWith(cause error) {
	req.ctxMu.Lock()
	if req.cause == nil {
		req.cause = cause
	}
	cancel := req.cancel
	req.ctxMu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

func (c *serverConn) serve() {
	r := NewReader(c.nc)
	r.Trace = c.srv.Trace
	// Without a trace nobody needs each PARAMS record decoded on its own:
	// the stream is decoded whole when it ends, its strings sharing one
	// allocation.
	r.rawParams = c.srv.Trace == nil
	r.ownBodies = true // BEGIN_REQUEST is used before the next read
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			c.mu.Lock()
			// A peer may close or reset a connection between requests
			// (nginx resets one whose trailing records it did not read).
			expected := c.closing || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
				(c.reqs.len() == 0 && errors.Is(err, syscall.ECONNRESET))
			c.mu.Unlock()
			if !expected {
				c.srv.logf("fcgi: server: %s: %w", c.name, err)
			}
			break
		}
		if !c.handle(rec) {
			break
		}
	}
	c.close(errConnLost)
	c.handlers.Wait()
	c.srv.removeConn(c)
}

// close drops the connection now: every request's context is cancelled and
// their input streams fail.
func (c *serverConn) close(cause error) {
	c.mu.Lock()
	c.closing = true
	reqs := make([]*serverRequest, 0, c.reqs.len())
	for _, req := range c.reqs.all() {
		reqs = append(reqs, req)
	}
	for id, req := range c.reqs.all() {
		if !req.started {
			// No handler will end it: release it here.
			c.reqs.delete(id)
			c.srv.releaseReq()
		}
	}
	c.mu.Unlock()
	// Closed first, so that nothing a handler woken by the cancel writes
	// (its END_REQUEST) reaches the peer.
	c.nc.Close()
	c.cancel(cause)
	for _, req := range reqs {
		req.abort(cause)
	}
}

// closeGracefully ends the connection after a response: it stops taking
// requests, shuts the write side so the peer sees the end of stream after
// END_REQUEST, and keeps reading what the peer still sends for a short time
// so that unread input does not reset the connection.
func (c *serverConn) closeGracefully() {
	c.mu.Lock()
	c.closing = true
	doomed := make([]*serverRequest, 0, c.reqs.len())
	for _, req := range c.reqs.all() {
		doomed = append(doomed, req)
	}
	c.mu.Unlock()
	// Requests still running on the connection can no longer answer.
	for _, req := range doomed {
		req.abort(errConnClosing)
	}
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil || c.nc.SetReadDeadline(time.Now().Add(lingerTimeout)) != nil {
		c.close(errConnLost)
	}
}

// closeIfIdle closes the connection if no request is active (Shutdown).
func (c *serverConn) closeIfIdle() {
	c.mu.Lock()
	idle := c.reqs.len() == 0
	c.mu.Unlock()
	if idle {
		c.close(ErrServerClosed)
	}
}

// write runs fn with the connection's Writer, which no other goroutine
// writes meanwhile; fn's records go out before write returns. A failed
// write breaks the stream, so the connection is closed.
func (c *serverConn) write(fn func(w *Writer) error) error {
	c.wmu.Lock()
	err := fn(c.w)
	c.wmu.Unlock()
	if err != nil {
		c.mu.Lock()
		expected := c.closing
		c.mu.Unlock()
		err = fmt.Errorf("fcgi: server: %s: %w", c.name, err)
		if !expected {
			c.srv.report(err)
		}
		c.close(errConnLost)
	}
	return err
}

// handle processes one record read from the connection; false stops the
// reader loop.
func (c *serverConn) handle(rec *Record) bool {
	id := rec.RequestID
	if id == NullRequestID {
		return c.handleManagement(rec)
	}
	switch rec.Type {
	case TypeBeginRequest:
		return c.handleBegin(rec)
	case TypeParams:
		return c.handleParams(rec)
	case TypeStdin, TypeData:
		c.handleInput(rec)
	case TypeAbortRequest:
		c.handleAbort(rec)
	default:
		c.srv.logf("fcgi: server: %s: record %d: unexpected %s record for request %d ignored",
			c.name, rec.Index, rec.Type, id)
	}
	return true
}

func (c *serverConn) handleManagement(rec *Record) bool {
	if rec.Type == TypeGetValues {
		var asked []Pair
		if p, ok := rec.Body.(*Pairs); ok {
			asked = p.List()
		}
		values := c.srv.getValues(asked)
		return c.write(func(w *Writer) error { return w.WriteGetValuesResult(values) }) == nil
	}
	t := rec.Type
	return c.write(func(w *Writer) error { return w.WriteUnknownType(t) }) == nil
}

// lookup returns the active request of rec, or nil after reporting a record
// for an inactive id (unless the id was ended by us, whose late records are
// expected).
func (c *serverConn) lookup(rec *Record) *serverRequest {
	c.mu.Lock()
	req := c.reqs.get(rec.RequestID)
	ended := req == nil && c.ended.get(rec.RequestID)
	c.mu.Unlock()
	if req == nil && !ended {
		c.srv.logf("fcgi: server: %s: record %d: %s for request %d ignored: %w",
			c.name, rec.Index, rec.Type, rec.RequestID, ErrUnknownRequestID)
	}
	return req
}

func (c *serverConn) handleBegin(rec *Record) bool {
	id := rec.RequestID
	b, ok := rec.Body.(*BeginRequest)
	if !ok {
		c.srv.logf("fcgi: server: %s: record %d: BEGIN_REQUEST without a body", c.name, rec.Index)
		return false
	}
	keep := b.Flags&FlagKeepConn != 0

	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		c.srv.logf("fcgi: server: %s: record %d: BEGIN_REQUEST for request %d on a closing connection ignored",
			c.name, rec.Index, id)
		return true
	}
	if c.reqs.get(id) != nil {
		c.mu.Unlock()
		c.srv.logf("fcgi: server: %s: record %d: BEGIN_REQUEST for request %d, which is already active, ignored",
			c.name, rec.Index, id)
		return true
	}
	c.ended.delete(id)
	var reject ProtocolStatus
	switch {
	case b.Role != RoleResponder && b.Role != RoleAuthorizer && b.Role != RoleFilter:
		reject = StatusUnknownRole
	case !c.srv.MpxsConns && c.reqs.len() > 0:
		reject = StatusCantMpxConn
	case c.overloaded || !c.srv.acquireReq():
		reject = StatusOverloaded
	}
	if reject != StatusRequestComplete {
		c.ended.set(id, true)
		// Judged now, before an active request can end meanwhile: while
		// one is active, closing is its end's business (see end), and a
		// close here could cut its END_REQUEST.
		idle := c.reqs.len() == 0
		c.mu.Unlock()
		err := c.write(func(w *Writer) error { return w.WriteEndRequest(id, 0, reject) })
		if err == nil && (!keep || c.srv.isClosing()) && reject != StatusCantMpxConn && idle {
			c.closeGracefully()
		}
		return err == nil
	}
	req := &serverRequest{conn: c, id: id, role: b.Role, keepConn: keep}
	req.stdin = &req.stdinBuf
	req.stdin.pool = &c.srv.chunks
	if b.Role == RoleFilter {
		req.data = &inputStream{pool: &c.srv.chunks}
	}
	c.reqs.set(id, req)
	c.mu.Unlock()
	return true
}

func (c *serverConn) handleParams(rec *Record) bool {
	req := c.lookup(rec)
	if req == nil {
		return true
	}
	if req.started {
		c.srv.logf("fcgi: server: %s: record %d: PARAMS for request %d after its PARAMS stream ended ignored",
			c.name, rec.Index, req.id)
		return true
	}
	if p, ok := rec.Body.(*Pairs); ok {
		for _, f := range p.Fields {
			req.params = append(req.params, f.Pair)
		}
	} else if content := rec.Content(); len(content) > 0 {
		if len(req.rawParams)+len(content) > maxRawParams {
			c.srv.logf("fcgi: server: %s: record %d: PARAMS of request %d longer than %d bytes",
				c.name, rec.Index, req.id, maxRawParams)
			return false
		}
		req.rawParams += string(content)
	}
	if rec.ContentLength == 0 {
		if req.rawParams != "" {
			params, err := parseParams(req.rawParams)
			if err != nil {
				c.srv.logf("fcgi: server: %s: record %d: PARAMS of request %d: %w", c.name, rec.Index, req.id, err)
				return false
			}
			req.params, req.rawParams = params, ""
		}
		c.start(req)
	}
	return true
}

// maxRawParams bounds the PARAMS stream of one request.
const maxRawParams = 4 * defaultMaxPairLen

// parseParams decodes a whole PARAMS stream; names and values are
// substrings of s.
func parseParams(s string) ([]Pair, error) {
	n := 0
	for rest := s; len(rest) > 0; n++ {
		_, _, k, _, _ := splitPair(rest)
		if k == 0 {
			return nil, fmt.Errorf("%w (%d bytes of it were sent)", errPairTruncated, len(rest))
		}
		rest = rest[k:]
	}
	out := make([]Pair, 0, n)
	for len(s) > 0 {
		name, value, k, _, _ := splitPair(s)
		out = append(out, Pair{Name: name, Value: value})
		s = s[k:]
	}
	return out, nil
}

func (c *serverConn) handleInput(rec *Record) {
	req := c.lookup(rec)
	if req == nil {
		return
	}
	s := req.stdin
	if rec.Type == TypeData {
		s = req.data
		if s == nil {
			c.srv.logf("fcgi: server: %s: record %d: DATA for %s request %d ignored",
				c.name, rec.Index, req.role, req.id)
			return
		}
	}
	if rec.ContentLength == 0 {
		if !s.closeWith(io.EOF) {
			c.srv.logf("fcgi: server: %s: record %d: second empty %s record for request %d ignored",
				c.name, rec.Index, rec.Type, req.id)
		}
		return
	}
	// An abort ends the stream, which ends a wait for room; so does the
	// connection's loss.
	if !s.write(rec.Content(), c.ctx.Done()) {
		c.srv.logf("fcgi: server: %s: record %d: %s for request %d after its stream ended ignored",
			c.name, rec.Index, rec.Type, req.id)
	}
}

func (c *serverConn) handleAbort(rec *Record) {
	req := c.lookup(rec)
	if req == nil {
		return
	}
	req.abort(errAbortRequest)
	if req.started {
		// The handler notices its context; END_REQUEST follows its return.
		return
	}
	// No handler yet: end the request now.
	c.end(req, 0, StatusRequestComplete, ending{})
}

// start runs the handler of req on a goroutine of its own.
func (c *serverConn) start(req *serverRequest) {
	c.mu.Lock()
	if c.closing {
		// The connection is going away: nobody could read the answer.
		if c.reqs.get(req.id) == req {
			c.reqs.delete(req.id)
			c.srv.releaseReq()
		}
		c.mu.Unlock()
		return
	}
	req.started = true
	c.mu.Unlock()
	sr := &req.sr
	*sr = ServerRequest{ID: req.id, Role: req.role, KeepConn: req.keepConn, Params: req.params,
		Stdin: req.stdin, Data: eofReader{}, req: req}
	if req.data != nil {
		sr.Data = req.data
	}
	w := &req.rw
	w.c, w.req, w.pending = c, req, req.pendBuf[:0]
	c.handlers.Add(1)
	go func() {
		defer c.handlers.Done()
		c.serveOne(c.srv.handler(), req)
	}()
}

// serveOne runs h for req, recovering a panic, and ends the request.
func (c *serverConn) serveOne(h Handler, req *serverRequest) {
	w := &req.rw
	defer func() {
		if v := recover(); v != nil {
			c.srv.logf("fcgi: server: %s: handler of request %d panicked: %v\n%s", c.name, req.id, v, debug.Stack())
		}
		w.finish()
		req.stdin.discard()
		if req.data != nil {
			req.data.discard()
		}
		req.cancelWith(context.Canceled)
	}()
	h.ServeFCGI(w, &req.sr)
}

// ending is what goes out in front of a request's END_REQUEST.
type ending struct {
	t           RecordType // stream of pending
	pending     []byte     // buffered content
	closeStdout bool       // the empty STDOUT record
	closeStderr bool       // the empty STDERR record
}

// write writes the records of e for request id.
func (e ending) write(w *Writer, id uint16) error {
	if err := w.WriteStream(e.t, id, e.pending); err != nil {
		return err
	}
	if e.closeStdout {
		if err := w.CloseStream(TypeStdout, id); err != nil {
			return err
		}
	}
	if e.closeStderr {
		return w.CloseStream(TypeStderr, id)
	}
	return nil
}

// end makes req inactive, then writes its last records (last) and its
// END_REQUEST in one write, then closes the connection if the request did
// not ask to keep it (or the server is shutting down and nothing else runs
// on it).
func (c *serverConn) end(req *serverRequest, appStatus uint32, status ProtocolStatus, last ending) error {
	c.mu.Lock()
	if c.reqs.get(req.id) != req {
		// Already dropped with the connection.
		c.mu.Unlock()
		return fmt.Errorf("fcgi: server: %s: request %d: %w", c.name, req.id, errConnLost)
	}
	c.reqs.delete(req.id)
	c.ended.set(req.id, true)
	idle := c.reqs.len() == 0
	c.mu.Unlock()
	c.srv.releaseReq()
	closeAfter := !req.keepConn || (idle && c.srv.isClosing())
	err := c.write(func(w *Writer) error {
		w.hold()
		if err := last.write(w, req.id); err != nil {
			w.drop()
			return err
		}
		if err := w.WriteEndRequest(req.id, appStatus, status); err != nil {
			w.drop()
			return err
		}
		return w.endHold()
	})
	if err == nil && closeAfter {
		c.closeGracefully()
	}
	return err
}

// abort cancels the request and makes its input streams fail.
func (req *serverRequest) abort(cause error) {
	req.cancelWith(cause)
	req.stdin.closeWith(cause)
	if req.data != nil {
		req.data.closeWith(cause)
	}
}
