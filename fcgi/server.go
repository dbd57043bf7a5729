// Server: the application side of FastCGI, serving requests to a Handler.

package fcgi

import (
	"bytes"
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

	ctx context.Context
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
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
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

// ServeConn serves one connection until it closes, then waits for its
// handlers to return. It closes nc.
func (s *Server) ServeConn(nc net.Conn) {
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
		reqs:   make(map[uint16]*serverRequest),
		ended:  make(map[uint16]bool),
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
	handlers   sync.WaitGroup

	wmu sync.Mutex // guards w; one record per WriteRecord
	w   *Writer

	mu      sync.Mutex
	reqs    map[uint16]*serverRequest // active requests by id
	ended   map[uint16]bool           // ids we ended whose late records are dropped silently
	closing bool                      // no new requests; errors from here on are expected
}

// serverRequest is the connection's state of one active request.
type serverRequest struct {
	id       uint16
	role     Role
	keepConn bool
	params   []Pair
	started  bool // PARAMS complete, handler running
	ctx      context.Context
	cancel   context.CancelCauseFunc
	stdin    *inputStream
	data     *inputStream // nil unless RoleFilter
}

func (c *serverConn) serve() {
	r := NewReader(c.nc)
	r.Trace = c.srv.Trace
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			c.mu.Lock()
			// A peer may close or reset a connection between requests
			// (nginx resets one whose trailing records it did not read).
			expected := c.closing || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
				(len(c.reqs) == 0 && errors.Is(err, syscall.ECONNRESET))
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
	reqs := make([]*serverRequest, 0, len(c.reqs))
	for _, req := range c.reqs {
		reqs = append(reqs, req)
	}
	for id, req := range c.reqs {
		if !req.started {
			// No handler will end it: release it here.
			delete(c.reqs, id)
			c.srv.releaseReq()
		}
	}
	c.mu.Unlock()
	c.cancel(cause)
	for _, req := range reqs {
		req.abort(cause)
	}
	c.nc.Close()
}

// closeGracefully ends the connection after a response: it stops taking
// requests, shuts the write side so the peer sees the end of stream after
// END_REQUEST, and keeps reading what the peer still sends for a short time
// so that unread input does not reset the connection.
func (c *serverConn) closeGracefully() {
	c.mu.Lock()
	c.closing = true
	doomed := make([]*serverRequest, 0, len(c.reqs))
	for _, req := range c.reqs {
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
	idle := len(c.reqs) == 0
	c.mu.Unlock()
	if idle {
		c.close(ErrServerClosed)
	}
}

// write runs fn with the connection's Writer. A failed write breaks the
// stream, so the connection is closed.
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
		c.handleParams(rec)
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
	req := c.reqs[rec.RequestID]
	ended := c.ended[rec.RequestID]
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
	if c.reqs[id] != nil {
		c.mu.Unlock()
		c.srv.logf("fcgi: server: %s: record %d: BEGIN_REQUEST for request %d, which is already active, ignored",
			c.name, rec.Index, id)
		return true
	}
	delete(c.ended, id)
	var reject ProtocolStatus
	switch {
	case b.Role != RoleResponder && b.Role != RoleAuthorizer && b.Role != RoleFilter:
		reject = StatusUnknownRole
	case !c.srv.MpxsConns && len(c.reqs) > 0:
		reject = StatusCantMpxConn
	case c.overloaded || !c.srv.acquireReq():
		reject = StatusOverloaded
	}
	if reject != StatusRequestComplete {
		c.ended[id] = true
		c.mu.Unlock()
		err := c.write(func(w *Writer) error { return w.WriteEndRequest(id, 0, reject) })
		if err == nil && (!keep || c.srv.isClosing()) && reject != StatusCantMpxConn {
			c.mu.Lock()
			idle := len(c.reqs) == 0
			c.mu.Unlock()
			if idle {
				c.closeGracefully()
			}
		}
		return err == nil
	}
	ctx, cancel := context.WithCancelCause(c.ctx)
	req := &serverRequest{id: id, role: b.Role, keepConn: keep, ctx: ctx, cancel: cancel,
		stdin: newInputStream()}
	if b.Role == RoleFilter {
		req.data = newInputStream()
	}
	c.reqs[id] = req
	c.mu.Unlock()
	return true
}

func (c *serverConn) handleParams(rec *Record) {
	req := c.lookup(rec)
	if req == nil {
		return
	}
	if req.started {
		c.srv.logf("fcgi: server: %s: record %d: PARAMS for request %d after its PARAMS stream ended ignored",
			c.name, rec.Index, req.id)
		return
	}
	if p, ok := rec.Body.(*Pairs); ok {
		for _, f := range p.Fields {
			req.params = append(req.params, f.Pair)
		}
	}
	if rec.ContentLength == 0 {
		c.start(req)
	}
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
	if !s.write(rec.Content(), req.ctx.Done()) {
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
	c.end(req, 0, StatusRequestComplete)
}

// start runs the handler of req on its own goroutine.
func (c *serverConn) start(req *serverRequest) {
	c.mu.Lock()
	if c.closing {
		// The connection is going away: nobody could read the answer.
		if c.reqs[req.id] == req {
			delete(c.reqs, req.id)
			c.srv.releaseReq()
		}
		c.mu.Unlock()
		return
	}
	req.started = true
	c.mu.Unlock()
	sr := &ServerRequest{ID: req.id, Role: req.role, KeepConn: req.keepConn, Params: req.params,
		Stdin: req.stdin, Data: bytes.NewReader(nil), ctx: req.ctx}
	if req.data != nil {
		sr.Data = req.data
	}
	w := &ResponseWriter{c: c, req: req}
	h := c.srv.handler()
	c.handlers.Add(1)
	go func() {
		defer c.handlers.Done()
		defer func() {
			if v := recover(); v != nil {
				c.srv.logf("fcgi: server: %s: handler of request %d panicked: %v\n%s", c.name, req.id, v, debug.Stack())
			}
			w.finish()
			req.stdin.discard()
			if req.data != nil {
				req.data.discard()
			}
			req.cancel(context.Canceled)
		}()
		h.ServeFCGI(w, sr)
	}()
}

// end makes req inactive, then writes its END_REQUEST, then closes the
// connection if the request did not ask to keep it (or the server is
// shutting down and nothing else runs on it).
func (c *serverConn) end(req *serverRequest, appStatus uint32, status ProtocolStatus) error {
	c.mu.Lock()
	if c.reqs[req.id] != req {
		// Already dropped with the connection.
		c.mu.Unlock()
		return fmt.Errorf("fcgi: server: %s: request %d: %w", c.name, req.id, errConnLost)
	}
	delete(c.reqs, req.id)
	c.ended[req.id] = true
	idle := len(c.reqs) == 0
	c.mu.Unlock()
	c.srv.releaseReq()
	err := c.write(func(w *Writer) error { return w.WriteEndRequest(req.id, appStatus, status) })
	if err == nil && (!req.keepConn || (idle && c.srv.isClosing())) {
		c.closeGracefully()
	}
	return err
}

// abort cancels the request and makes its input streams fail.
func (req *serverRequest) abort(cause error) {
	req.cancel(cause)
	req.stdin.closeWith(cause)
	if req.data != nil {
		req.data.closeWith(cause)
	}
}

// inputStream is the STDIN or DATA stream of one request: the connection's
// reader loop appends what arrives, the handler reads it.
type inputStream struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	err     error // io.EOF after the empty record, or why the stream failed
	dropped bool  // the handler returned: input is discarded
	changed chan struct{}
}

func newInputStream() *inputStream { return &inputStream{changed: make(chan struct{})} }

// signal wakes every waiter; s.mu must be held.
func (s *inputStream) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Read reads what has arrived, waiting for more until the stream ends.
func (s *inputStream) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if s.buf.Len() > 0 {
			n, _ := s.buf.Read(p)
			s.signal()
			s.mu.Unlock()
			return n, nil
		}
		if s.err != nil || len(p) == 0 {
			err := s.err
			s.mu.Unlock()
			return 0, err
		}
		ch := s.changed
		s.mu.Unlock()
		<-ch
	}
}

// write appends p, waiting while more than maxBufferedInput bytes are
// unread, until done is closed. It reports false if the stream had already
// ended.
func (s *inputStream) write(p []byte, done <-chan struct{}) bool {
	for {
		s.mu.Lock()
		if s.dropped {
			s.mu.Unlock()
			return true
		}
		if s.err != nil {
			ended := s.err == io.EOF
			s.mu.Unlock()
			return !ended
		}
		if s.buf.Len() == 0 || s.buf.Len()+len(p) <= maxBufferedInput {
			s.buf.Write(p)
			s.signal()
			s.mu.Unlock()
			return true
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-done:
			return true
		}
	}
}

// closeWith ends the stream with err (io.EOF for the empty record); false
// if it had already ended.
func (s *inputStream) closeWith(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return false
	}
	s.err = err
	s.signal()
	return true
}

// discard drops what is buffered and everything that still arrives.
func (s *inputStream) discard() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped = true
	s.buf = bytes.Buffer{}
	if s.err == nil {
		s.err = io.ErrClosedPipe
	}
	s.signal()
}

// ResponseWriter writes one request's response. Write and Stderr buffer up
// to 65535 bytes per stream; a full buffer, Flush, a write to the other
// stream, WriteRecord and the end of the request send what is buffered, so
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
// (as php-fpm does; write them with WriteRecord first if wanted). Later
// writes to the streams fail. If the request did not ask for KEEP_CONN the
// connection is then closed.
func (w *ResponseWriter) End(appStatus uint32, status ProtocolStatus) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return w.endedErr()
	}
	w.ended = true
	ferr := w.flushLocked()
	eerr := w.c.end(w.req, appStatus, status)
	return errors.Join(ferr, eerr)
}

// WriteFault writes a deliberately malformed record on this connection (see
// Fault), after what is buffered. It works after End too.
func (w *ResponseWriter) WriteFault(f Fault) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	return w.c.write(func(wr *Writer) error { return wr.WriteFault(f) })
}

// WriteRecord writes one record of any type for any request id on this
// connection (e.g. a wrong id on purpose), after what is buffered. It works
// after End too.
func (w *ResponseWriter) WriteRecord(t RecordType, id uint16, content []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	return w.c.write(func(wr *Writer) error { return wr.WriteRecord(t, id, content) })
}

// CloseConn drops the connection now, before END_REQUEST: every request on
// it is cancelled and later writes fail.
func (w *ResponseWriter) CloseConn() error {
	w.c.close(errConnLost)
	return nil
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
	id, stderr := w.req.id, w.stderrUsed
	// A failed write closes the connection; end still releases the request.
	if w.flushLocked() == nil {
		w.c.write(func(wr *Writer) error {
			if err := wr.CloseStream(TypeStdout, id); err != nil {
				return err
			}
			if stderr {
				return wr.CloseStream(TypeStderr, id)
			}
			return nil
		})
	}
	w.c.end(w.req, w.appStatus, StatusRequestComplete)
}
