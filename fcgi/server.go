// Server: the application side of FastCGI, serving requests to a Handler. One
// connection is served in server_conn.go, its input in server_stdin.go, its
// output in server_response.go.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
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

// Close closes the listeners and every connection at once: the contexts of
// running requests are cancelled and their writes fail. It waits until every
// connection's handlers have returned, so handlers must honour their
// context.
func (s *Server) Close() error {
	conns, err := s.stop()
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
	conns, err := s.stop()
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

// stop marks the server closing, closes its listeners, and returns the
// connections it serves with the first error of closing a listener.
func (s *Server) stop() ([]*serverConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	err := s.closeListenersLocked()
	conns := make([]*serverConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns, err
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
