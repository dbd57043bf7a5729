// Server: the application side of FastCGI, serving requests to a Handler.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Handler answers one FastCGI request. ServeFCGI runs on its own goroutine
// once the request's PARAMS stream is complete; when it returns, the request
// ends (see ResponseWriter).
type Handler interface {
	ServeFCGI(w *ResponseWriter, r *ServerRequest)
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(w *ResponseWriter, r *ServerRequest)

// ServeFCGI calls f(w, r).
func (f HandlerFunc) ServeFCGI(w *ResponseWriter, r *ServerRequest) { f(w, r) }

// ServerRequest is one request as the application sees it.
type ServerRequest struct {
	ID       uint16
	Role     Role
	KeepConn bool
	Params   []Pair // in wire order, duplicates kept
	// Stdin is the STDIN stream as it arrives; it returns io.EOF after the
	// empty STDIN record, and an error when the request is aborted or the
	// connection is lost.
	Stdin io.Reader
	// Data is the DATA stream of a FILTER request, read like Stdin. For the
	// other roles it is empty.
	Data io.Reader

	req *serverRequest
}

// Param returns the last value of the param called name, "" if none.
func (r *ServerRequest) Param(name string) string {
	for i := len(r.Params) - 1; i >= 0; i-- {
		if r.Params[i].Name == name {
			return r.Params[i].Value
		}
	}
	return ""
}

// Context returns the request's context. It is cancelled when the web server
// sends ABORT_REQUEST, when the connection is lost or closed, and after the
// handler returns.
func (r *ServerRequest) Context() context.Context {
	if r.req == nil {
		return context.Background()
	}
	return r.req.context()
}

// Errors a Server's requests report.
var (
	// ErrServerClosed is returned by Serve after Close or Shutdown.
	ErrServerClosed = errors.New("fcgi: server closed")

	errAbortRequest = errors.New("fcgi: server: request aborted by the web server (ABORT_REQUEST)")
	errConnLost     = errors.New("fcgi: server: connection closed")
	errConnClosing  = errors.New("fcgi: server: connection closing after a request without KEEP_CONN")
)

// Limits and timeouts of the server side.
const (
	// maxBufferedInput bounds the bytes of one STDIN or DATA stream held
	// for a handler that has not read them yet. Beyond it the connection's
	// reader waits for the handler (FastCGI has no flow control), until
	// the handler reads, returns, or the request is cancelled.
	maxBufferedInput = 4 << 20
	// lingerTimeout is how long a connection that is being closed after a
	// KEEP_CONN=0 request keeps reading (and ignoring) what the web server
	// still sends, so that closing does not reset the connection before
	// END_REQUEST reaches the peer.
	lingerTimeout = 2 * time.Second
)

// Server serves FastCGI connections. Its exported fields must not change
// once it serves.
//
// Limits: a connection accepted while MaxConns connections are already
// served is kept open but answers every BEGIN_REQUEST with END_REQUEST
// OVERLOADED (management records are still answered), so a web server sees
// why it is refused. A BEGIN_REQUEST that would exceed MaxReqs active
// requests over all connections, or that arrives during Shutdown, gets
// END_REQUEST OVERLOADED as well. After any END_REQUEST for a KEEP_CONN=0
// request the connection is closed, except after CANT_MPX_CONN: then the
// connection belongs to the request already running on it.
type Server struct {
	// Handler serves every accepted request, whatever its role. Nil
	// answers each request with a CGI 404 response.
	Handler Handler
	// MaxConns limits concurrent connections (0: no limit). It is also the
	// FCGI_MAX_CONNS answer to GET_VALUES.
	MaxConns int
	// MaxReqs limits concurrent requests over all connections (0: no
	// limit). It is also the FCGI_MAX_REQS answer to GET_VALUES.
	MaxReqs int
	// MpxsConns accepts concurrent requests on one connection. When false
	// a second concurrent request gets END_REQUEST CANT_MPX_CONN. It is the
	// FCGI_MPXS_CONNS answer ("0" or "1").
	MpxsConns bool
	// Trace, when set, receives every record read and written on every
	// connection.
	Trace Trace
	// ErrorLog, when set, receives what goes wrong: protocol errors,
	// records for inactive request ids, failed writes, handler panics.
	ErrorLog func(error)

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*serverConn]struct{}
	chunks    sync.Pool     // *[inputChunk]byte for STDIN and DATA content
	admitted  int           // connections holding one of MaxConns slots
	active    int           // requests holding one of MaxReqs slots
	closing   bool          // Close or Shutdown was called
	noConns   chan struct{} // closed when conns becomes empty; nil when nobody waits
}

// Serve accepts connections on l and serves each on its own goroutine. It
// closes l when it returns, and returns ErrServerClosed after Close or
// Shutdown, or the accept error that stopped it.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			return fmt.Errorf("fcgi: server: accept on %s: %w", l.Addr(), err)
		}
		c := s.newConn(nc)
		if c == nil {
			return ErrServerClosed
		}
		go c.serve()
	}
}

// serveConn serves one connection until it closes, then waits for its
// handlers to return. It closes nc.
func (s *Server) serveConn(nc net.Conn) {
	if c := s.newConn(nc); c != nil {
		c.serve()
	}
}

// Close closes the listeners and every connection at once: the contexts of
// running requests are cancelled and their writes fail. It waits until every
// connection's handlers have returned, so handlers must honour their
// context.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	err := s.closeListenersLocked()
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close(errConnLost)
	}
	<-s.connsGone()
	return err
}

// Shutdown stops accepting connections and requests, closes idle
// connections, and waits until the active requests have ended and their
// connections are closed, or until ctx is done (then it returns ctx's error
// and leaves the rest running: call Close to drop it).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	err := s.closeListenersLocked()
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeIfIdle()
	}
	select {
	case <-s.connsGone():
		return err
	case <-ctx.Done():
		return fmt.Errorf("fcgi: server: shutdown: %w", ctx.Err())
	}
}

func (s *Server) closeListenersLocked() error {
	var err error
	for l := range s.listeners {
		if cerr := l.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("fcgi: server: closing listener %s: %w", l.Addr(), cerr)
		}
		delete(s.listeners, l)
	}
	return err
}

// connsGone returns a channel closed once no connection is served.
func (s *Server) connsGone() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		ch := make(chan struct{})
		close(ch)
		return ch
	}
	if s.noConns == nil {
		s.noConns = make(chan struct{})
	}
	return s.noConns
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog(fmt.Errorf(format, args...))
	}
}

func (s *Server) report(err error) {
	if s.ErrorLog != nil {
		s.ErrorLog(err)
	}
}

// newConn registers nc, or closes it and returns nil when the server is
// closing.
func (s *Server) newConn(nc net.Conn) *serverConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		nc.Close()
		return nil
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	c := &serverConn{
		srv:    s,
		nc:     nc,
		w:      NewWriter(nc),
		ctx:    ctx,
		cancel: cancel,
		name:   connName(nc),
	}
	c.w.Trace = s.Trace
	if s.MaxConns > 0 && s.admitted >= s.MaxConns {
		c.overloaded = true
	} else {
		s.admitted++
	}
	if s.conns == nil {
		s.conns = make(map[*serverConn]struct{})
	}
	s.conns[c] = struct{}{}
	return c
}

func (s *Server) removeConn(c *serverConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if !c.overloaded {
		s.admitted--
	}
	if len(s.conns) == 0 && s.noConns != nil {
		close(s.noConns)
		s.noConns = nil
	}
}

// acquireReq takes one of MaxReqs slots; false when none is free or the
// server is shutting down.
func (s *Server) acquireReq() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing || (s.MaxReqs > 0 && s.active >= s.MaxReqs) {
		return false
	}
	s.active++
	return true
}

func (s *Server) releaseReq() {
	s.mu.Lock()
	s.active--
	s.mu.Unlock()
}

func (s *Server) handler() Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return HandlerFunc(func(w *ResponseWriter, r *ServerRequest) {
		io.WriteString(w, "Status: 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nfcgi: server has no handler\n")
	})
}

// getValues answers a GET_VALUES body: the names it knows, in the order
// asked (spec §4.1).
func (s *Server) getValues(asked []Pair) []Pair {
	var out []Pair
	for _, p := range asked {
		switch p.Name {
		case ValueMaxConns:
			out = append(out, Pair{Name: p.Name, Value: strconv.Itoa(s.MaxConns)})
		case ValueMaxReqs:
			out = append(out, Pair{Name: p.Name, Value: strconv.Itoa(s.MaxReqs)})
		case ValueMpxsConns:
			v := "0"
			if s.MpxsConns {
				v = "1"
			}
			out = append(out, Pair{Name: p.Name, Value: v})
		}
	}
	return out
}

func connName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil && a.String() != "" && a.String() != "@" {
		return a.Network() + " " + a.String()
	}
	if a := nc.LocalAddr(); a != nil {
		return a.Network() + " " + a.String()
	}
	return "conn"
}

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

// inputStream is the STDIN or DATA stream of one request: the connection's
// reader loop appends what arrives, the handler reads it. Content is kept in
// chunks that are reused once read, and WriteTo hands whole chunks to the
// destination (io.Copy from ServerRequest.Stdin uses it), so a long stream
// costs no allocation per record.
type inputStream struct {
	mu      sync.Mutex
	chunks  [][]byte // unread content in order from chunks[first][head:]
	first   int
	head    int
	size    int      // unread bytes
	spare   [][]byte // read chunks, for reuse
	err     error    // io.EOF after the empty record, or why the stream failed
	dropped bool     // the handler returned: input is discarded
	// Wake-up tokens (capacity 1), made by the first to wait: readable
	// for readers (data or the end), writable for the reader loop (room).
	readable, writable chan struct{}
	// pool holds the Server's large chunks (*[inputChunk]byte), shared
	// by the requests that follow one another; nil: no sharing.
	pool *sync.Pool
	// First arrays of chunks and spare.
	chunkArr [8][]byte
	spareArr [maxSpare][]byte
}

// Chunk sizes of an inputStream.
const (
	minInputChunk = 4 << 10  // small records share chunks of this size
	inputChunk    = 64 << 10 // the chunk of a large record, from Server's pool
	maxSpare      = 4        // read chunks a stream keeps for reuse
)

// post leaves a wake-up token in ch, if anybody ever waited on it.
func post(ch chan struct{}) {
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// waitReadable returns the readers' token channel; s.mu is held.
func (s *inputStream) waitReadable() chan struct{} {
	if s.readable == nil {
		s.readable = make(chan struct{}, 1)
	}
	return s.readable
}

// Read reads what has arrived, waiting for more until the stream ends.
func (s *inputStream) Read(p []byte) (int, error) {
	s.mu.Lock()
	for {
		if s.size > 0 && len(p) > 0 {
			n := 0
			for n < len(p) && s.size > 0 {
				k := copy(p[n:], s.chunks[s.first][s.head:])
				n += k
				s.head += k
				s.size -= k
				if s.head == len(s.chunks[s.first]) {
					s.recycle(s.popChunk())
				}
			}
			if s.size > 0 {
				post(s.readable)
			}
			post(s.writable)
			s.mu.Unlock()
			return n, nil
		}
		if s.err != nil || len(p) == 0 {
			err := s.err
			post(s.readable) // wake the next reader too
			s.mu.Unlock()
			return 0, err
		}
		ch := s.waitReadable()
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
}

// WriteTo writes the stream to dst until it ends, handing each chunk of
// content over as it came, without copying it. It returns nil at the end of
// the stream (io.EOF), or the error that ended it.
func (s *inputStream) WriteTo(dst io.Writer) (int64, error) {
	var total int64
	s.mu.Lock()
	for {
		if s.size > 0 {
			c := s.chunks[s.first][s.head:]
			chunk := s.popChunk()
			s.size -= len(c)
			post(s.writable)
			s.mu.Unlock()
			n, err := dst.Write(c)
			total += int64(n)
			if err == nil && n < len(c) {
				err = io.ErrShortWrite
			}
			s.mu.Lock()
			s.recycle(chunk)
			if err != nil {
				s.mu.Unlock()
				return total, err
			}
			continue
		}
		if s.err != nil {
			err := s.err
			post(s.readable)
			s.mu.Unlock()
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		ch := s.waitReadable()
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
}

// popChunk removes the first chunk and returns it; s.mu is held.
func (s *inputStream) popChunk() []byte {
	c := s.chunks[s.first]
	s.chunks[s.first] = nil
	s.first++
	if s.first == len(s.chunks) {
		s.chunks, s.first = s.chunks[:0], 0
	}
	s.head = 0
	return c
}

// recycle keeps a read chunk for reuse; s.mu is held.
func (s *inputStream) recycle(c []byte) {
	if len(s.spare) < maxSpare && !s.dropped {
		if s.spare == nil {
			s.spare = s.spareArr[:0]
		}
		s.spare = append(s.spare, c[:0])
		return
	}
	s.release(c)
}

// release gives a chunk of the shared size back to the Server's pool.
func (s *inputStream) release(c []byte) {
	if s.pool != nil && cap(c) == inputChunk {
		s.pool.Put((*[inputChunk]byte)(c[:inputChunk]))
	}
}

// add appends a copy of p; s.mu is held.
func (s *inputStream) add(p []byte) {
	if n := len(s.chunks); n > s.first {
		if last := s.chunks[n-1]; cap(last)-len(last) >= len(p) {
			s.chunks[n-1] = append(last, p...)
			s.size += len(p)
			return
		}
	}
	var c []byte
	for i := len(s.spare) - 1; i >= 0; i-- {
		if cap(s.spare[i]) >= len(p) {
			c = s.spare[i]
			s.spare[i] = s.spare[len(s.spare)-1]
			s.spare[len(s.spare)-1] = nil
			s.spare = s.spare[:len(s.spare)-1]
			break
		}
	}
	if c == nil && len(p) > minInputChunk && s.pool != nil {
		if a, _ := s.pool.Get().(*[inputChunk]byte); a != nil {
			c = a[:0]
		} else {
			c = make([]byte, 0, inputChunk)
		}
	}
	if c == nil {
		c = make([]byte, 0, max(len(p), minInputChunk))
	}
	if s.chunks == nil {
		s.chunks = s.chunkArr[:0]
	}
	s.chunks = append(s.chunks, append(c, p...))
	s.size += len(p)
}

// write appends p, waiting while more than maxBufferedInput bytes are
// unread, until the handler reads, the stream ends (the request is aborted
// or its handler returned) or done is closed. It reports false if the
// stream had already ended.
func (s *inputStream) write(p []byte, done <-chan struct{}) bool {
	s.mu.Lock()
	for {
		if s.dropped {
			s.mu.Unlock()
			return true
		}
		if s.err != nil {
			ended := s.err == io.EOF
			s.mu.Unlock()
			return !ended
		}
		if s.size == 0 || s.size+len(p) <= maxBufferedInput {
			s.add(p)
			post(s.readable)
			s.mu.Unlock()
			return true
		}
		if s.writable == nil {
			s.writable = make(chan struct{}, 1)
		}
		ch := s.writable
		s.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return true
		}
		s.mu.Lock()
	}
}

// closeWith ends the stream with err (io.EOF for the empty record); false
// if it had already ended, unless the handler returned: then what still
// arrives is dropped without complaint, as write does (the reader may have
// looked the request up just before its handler returned).
func (s *inputStream) closeWith(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropped {
		return true
	}
	if s.err != nil {
		return false
	}
	s.err = err
	post(s.readable)
	post(s.writable)
	return true
}

// discard drops what is buffered and everything that still arrives.
func (s *inputStream) discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped = true
	for _, c := range s.chunks[s.first:] {
		s.release(c)
	}
	for _, c := range s.spare {
		s.release(c)
	}
	clear(s.chunks)
	clear(s.spare)
	s.chunks, s.spare, s.first, s.head, s.size = nil, nil, 0, 0, 0
	if s.err == nil {
		s.err = io.ErrClosedPipe
	}
	post(s.readable)
	post(s.writable)
}

// eofReader is the empty DATA stream of a request that has none.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// ResponseWriter writes one request's response. Write and Stderr buffer up
// to 65535 bytes per stream; a full buffer, Flush, a write to the other
// stream, Misbehave and the end of the request send what is buffered, so
// records go out in the order the handler wrote them.
//
// When the handler returns without End, the ResponseWriter flushes, writes
// the empty STDOUT record (always) and the empty STDERR record (if stderr
// was written to), then END_REQUEST with the app status and
// REQUEST_COMPLETE. Its methods are safe for concurrent use.
type ResponseWriter struct {
	c   *serverConn
	req *serverRequest

	mu         sync.Mutex
	pending    []byte     // buffered content of stream pendType
	pendType   RecordType // TypeStdout or TypeStderr
	stderrUsed bool
	appStatus  uint32
	ended      bool
}

// Write writes p to STDOUT.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	return w.writeStream(TypeStdout, p)
}

// Stderr returns a writer to the request's STDERR stream.
func (w *ResponseWriter) Stderr() io.Writer { return stderrWriter{w} }

type stderrWriter struct{ w *ResponseWriter }

func (s stderrWriter) Write(p []byte) (int, error) { return s.w.writeStream(TypeStderr, p) }

// Flush sends what is buffered.
func (w *ResponseWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return w.endedErr()
	}
	return w.flushLocked()
}

// SetAppStatus sets the appStatus of the END_REQUEST written when the
// handler returns (default 0).
func (w *ResponseWriter) SetAppStatus(s uint32) {
	w.mu.Lock()
	w.appStatus = s
	w.mu.Unlock()
}

// End ends the request now: it sends what is buffered and END_REQUEST with
// appStatus and status, without closing STDOUT or STDERR with empty records
// (as php-fpm does; write them with Misbehave first if wanted). Later
// writes to the streams fail. If the request did not ask for KEEP_CONN the
// connection is then closed.
func (w *ResponseWriter) End(appStatus uint32, status ProtocolStatus) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return w.endedErr()
	}
	w.ended = true
	err := w.c.end(w.req, appStatus, status, ending{t: w.pendType, pending: w.pending})
	w.pending = w.pending[:0]
	return err
}

// ErrDropConn, returned by the function given to ResponseWriter.Misbehave,
// drops the connection.
var ErrDropConn = errors.New("fcgi: server: connection dropped on purpose")

// Misbehave is the escape hatch for deliberate protocol violations. It
// exists to test how clients cope with a broken application (the demo
// backend's /misbehave/ routes use it); a handler meant to answer correctly
// never calls it.
//
// It sends what is buffered, then calls fn with the connection's Writer,
// whose AllowIllegalWrites is set, while no other request of the connection
// writes: fn may write any record for any request id, closing a stream or
// not, with a header that lies, before or after End. A failed write closes
// the connection. When fn returns ErrDropConn the connection is closed at
// once, as if the application died: no END_REQUEST follows for this request
// or the others on the connection, whose contexts are cancelled; Misbehave
// then returns nil.
func (w *ResponseWriter) Misbehave(fn func(*Writer) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	drop := false
	err := w.c.write(func(wr *Writer) error {
		wr.AllowIllegalWrites = true
		err := fn(wr)
		wr.AllowIllegalWrites = false
		if errors.Is(err, ErrDropConn) {
			drop = true
			return wr.flush() // nothing fn wrote is left behind
		}
		return err
	})
	if err == nil && drop {
		w.c.close(errConnLost)
	}
	return err
}

func (w *ResponseWriter) endedErr() error {
	return fmt.Errorf("fcgi: server: request %d already ended", w.req.id)
}

func (w *ResponseWriter) writeStream(t RecordType, p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return 0, w.endedErr()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if t == TypeStderr {
		w.stderrUsed = true
	}
	if len(w.pending) > 0 && w.pendType != t {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	w.pendType = t
	n := 0
	for n < len(p) {
		if len(w.pending) == 0 && len(p)-n >= MaxContent {
			// A whole record straight from p.
			chunk := p[n : n+MaxContent]
			if err := w.c.write(func(wr *Writer) error { return wr.WriteRecord(t, w.req.id, chunk) }); err != nil {
				return n, err
			}
			n += MaxContent
			continue
		}
		k := min(len(p)-n, MaxContent-len(w.pending))
		w.pending = append(w.pending, p[n:n+k]...)
		n += k
		if len(w.pending) == MaxContent {
			if err := w.flushLocked(); err != nil {
				return n - k, err
			}
		}
	}
	return n, nil
}

func (w *ResponseWriter) flushLocked() error {
	if len(w.pending) == 0 {
		return nil
	}
	t, p := w.pendType, w.pending
	w.pending = w.pending[:0]
	return w.c.write(func(wr *Writer) error { return wr.WriteStream(t, w.req.id, p) })
}

// finish ends the request when the handler returns, unless End did.
func (w *ResponseWriter) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.ended = true
	// What is buffered, the empty records and END_REQUEST go out in one
	// write. A failed write closes the connection; end still releases
	// the request.
	w.c.end(w.req, w.appStatus, StatusRequestComplete, ending{t: w.pendType, pending: w.pending,
		closeStdout: true, closeStderr: w.stderrUsed})
	w.pending = w.pending[:0]
}
