// Package proxy serves a FastCGI application over HTTP, as a web server's
// fastcgi_pass does, and records every request it forwards as an Exchange.
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// DefaultAddr is where a Server listens when no address is given: the
// loopback interface only, since it serves whatever the backend serves.
const DefaultAddr = "127.0.0.1:8080"

// WarningHeader is the response header field the proxy adds to a response
// it serves although the request failed: the application closed the
// connection after the response headers, without END_REQUEST, and nginx
// serves what arrived.
const WarningHeader = "X-Fcgiscope-Warning"

// MaxBody bounds the request body the default builder reads into memory.
const MaxBody = 64 << 20

// subBuffer is the channel capacity of a subscription.
const subBuffer = 64

// Server forwards HTTP requests to a FastCGI application and writes back its
// parsed CGI response, like a web server's fastcgi_pass. Every Exchange is
// published to subscribers and, when Recorder is set, recorded by it: both
// without waiting, so that neither holds up a request.
type Server struct {
	// Recorder, when set, is given every Exchange once its response is
	// written (session.Recorder.Record: queued, or dropped and counted when
	// the recording falls behind). The caller creates it and closes it
	// after serving. Set it before serving.
	Recorder *session.Recorder
	// KeepConn is the FCGI_KEEP_CONN policy (default KeepConnAuto);
	// ConnLimitFits says that the pool's connection limit for the backend
	// was set to what it serves at once (php-fpm's pm.max_children), which
	// KeepConnAuto needs for php-fpm. OnKeepConn, optional, is told what
	// KeepConnAuto decided and why. Set them before serving.
	KeepConn      KeepConn
	ConnLimitFits bool
	OnKeepConn    func(on bool, why string)

	engine *session.Engine
	target string
	build  func(*http.Request) (*session.Request, error)
	keep   atomic.Bool // KeepConnAuto's decision

	mu      sync.Mutex
	subs    map[chan *session.Exchange]struct{}
	dropped uint64
}

// New returns a Server that sends each HTTP request, turned into a
// Request by build, to the FastCGI application at target through engine.
//
// build may record the composed input: the http.Request's context carries
// the Exchange (session.ExchangeFromContext), whose Input it may set. HTTPBuilder
// gives the usual php-fpm mapping.
func New(engine *session.Engine, target string, build func(*http.Request) (*session.Request, error)) *Server {
	return &Server{engine: engine, target: target, build: build, subs: make(map[chan *session.Exchange]struct{})}
}

// HTTPBuilder returns a build function for New that maps requests the
// way nginx with php-fpm does (HTTPInputFromRequest, then session.BuildHTTP) for a
// site whose document root is docRoot, with one session.Router made here
// for every request. It records the HTTPInput as the Exchange's Input.
func HTTPBuilder(docRoot string) func(*http.Request) (*session.Request, error) {
	rt, rtErr := session.NewRouter(session.HTTPInput{DocumentRoot: docRoot})
	return func(r *http.Request) (*session.Request, error) {
		if rtErr != nil {
			return nil, rtErr
		}
		in, err := HTTPInputFromRequest(r, docRoot)
		if err != nil {
			return nil, err
		}
		if x := session.ExchangeFromContext(r.Context()); x != nil {
			x.Input.Mode, x.Input.HTTP = session.ModeHTTP, &in
		}
		return rt.BuildHTTP(in)
	}
}

// HTTPInputFromRequest describes an incoming HTTP request as an HTTPInput:
// method, request target, header lines, body (read whole, at most
// MaxBody bytes), the connection's addresses and TLS. Go does not keep
// the order of header lines: they come sorted by name, Host first, each
// name's lines in their order.
func HTTPInputFromRequest(r *http.Request, docRoot string) (session.HTTPInput, error) {
	in := session.HTTPInput{
		Method:         r.Method,
		URL:            r.RequestURI,
		DocumentRoot:   docRoot,
		HTTPS:          r.TLS != nil,
		ServerProtocol: r.Proto,
	}
	if !strings.HasPrefix(in.URL, "/") {
		in.URL = r.URL.RequestURI() // absolute-form or HTTP/2
	}
	if r.Host != "" {
		in.Headers = append(in.Headers, session.Header{Name: "Host", Value: r.Host})
	}
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.EqualFold(name, "Host") || strings.EqualFold(name, "Transfer-Encoding") {
			continue
		}
		for _, v := range r.Header[name] {
			in.Headers = append(in.Headers, session.Header{Name: name, Value: v})
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil {
			return in, fmt.Errorf("session: proxy: reading the request body: %w", err)
		}
		if len(body) > MaxBody {
			return in, fmt.Errorf("session: proxy: request body over %d bytes: %w", MaxBody, errBodyTooLarge)
		}
		if len(body) > 0 {
			in.Body = body
		}
	}
	if host, port, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		in.RemoteAddr = host
		in.RemotePort, _ = strconv.Atoi(port)
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if host, port, err := net.SplitHostPort(la.String()); err == nil {
			in.ServerAddr = host
			in.ServerPort, _ = strconv.Atoi(port)
		}
	}
	return in, nil
}

var errBodyTooLarge = errors.New("request body too large")

// ServeHTTP forwards r to the FastCGI application. A request that cannot be
// built gets 400, 404 or 413 (see buildStatus). Otherwise the proxy answers
// as nginx does: a request the application did not answer, or answered
// with no header block, gets 502 Bad Gateway with the error (504 Gateway
// Timeout when it ran out of time); the CGI response's status, headers and
// body are written, also when the application closed the connection after
// the headers without END_REQUEST (with WarningHeader).
func (p *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := session.NewExchange(session.Input{Mode: session.ModeHTTP, Target: p.target})
	r = r.WithContext(session.ContextWithExchange(r.Context(), x))

	req, buildErr := p.build(r)
	if buildErr != nil {
		x.Begin(p.target, &session.Request{}, time.Now())
		x.Complete(session.Outcome{Err: buildErr})
		http.Error(w, "fcgiscope: "+buildErr.Error(), buildStatus(buildErr))
		p.deliver(x)
		return
	}
	req.KeepConn = p.KeepingConns()
	x.Input.Role, x.Input.KeepConn, x.Input.RequestID = req.Role, req.KeepConn, req.ID
	sendErr := p.engine.Send(r.Context(), p.target, req, x)
	defer p.deliver(x)

	resp := x.Response()
	switch {
	case resp != nil && resp.Gateway != "":
		// Not a response nginx passes on (no STDOUT, out of time): its
		// status, 502 or 504, and why.
		http.Error(w, "fcgiscope: "+resp.GatewayText(), resp.Status)
		return
	case sendErr != nil && (resp == nil || !errors.Is(sendErr, fcgi.ErrConnClosed)):
		msg := x.ErrorText()
		if msg == "" {
			msg = "the application sent no response"
		}
		status := http.StatusBadGateway
		if errors.Is(sendErr, fcgi.ErrTimeout) {
			status = http.StatusGatewayTimeout // nginx's fastcgi_read_timeout
		}
		http.Error(w, "fcgiscope: "+msg, status)
		return
	case resp == nil:
		http.Error(w, "fcgiscope: the application sent no response", http.StatusBadGateway)
		return
	case sendErr != nil:
		// Closed after a whole header block, without END_REQUEST: nginx
		// serves what came, and so does the proxy, saying so.
		w.Header().Set(WarningHeader, "connection closed before END_REQUEST; the body is what arrived")
	}
	h := w.Header()
	for _, f := range resp.Headers {
		if !session.ValidFieldName(f.Name) || !session.ValidFieldValue(f.Value) || hopByHop(f.Name) {
			continue
		}
		if strings.EqualFold(f.Name, "Content-Length") && f.Value != strconv.Itoa(len(resp.Body)) {
			continue // a wrong length would break the HTTP response; Go sets the right one
		}
		h.Add(f.Name, f.Value)
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// buildStatus maps a mapping error to an HTTP status: 413 for a body too
// large, 404 for a path outside the document root or a directory without
// index (nginx answers 403 when that directory exists; the message says
// which), 400 otherwise.
func buildStatus(err error) int {
	switch {
	case errors.Is(err, errBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, session.ErrNoIndex), errors.Is(err, session.ErrPathEscapes):
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// hopByHop reports the header fields that describe one HTTP connection and
// are not forwarded (RFC 9110 §7.6.1).
func hopByHop(name string) bool {
	for _, h := range [...]string{"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"} {
		if strings.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// deliver records x and publishes it.
func (p *Server) deliver(x *session.Exchange) {
	if p.Recorder != nil {
		p.Recorder.Record(x)
	}
	p.mu.Lock()
	for ch := range p.subs {
		select {
		case ch <- x:
		default:
			p.dropped++
		}
	}
	p.mu.Unlock()
}

// Subscribe returns a channel receiving every Exchange the proxy finishes,
// and a function that ends the subscription (and closes the channel). The
// channel is buffered; when a subscriber falls behind by more than its
// buffer, exchanges are not delivered to it and Dropped counts them, so that
// a slow reader never holds up HTTP clients.
func (p *Server) Subscribe() (<-chan *session.Exchange, func()) {
	ch := make(chan *session.Exchange, subBuffer)
	p.mu.Lock()
	p.subs[ch] = struct{}{}
	p.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			p.mu.Lock()
			delete(p.subs, ch)
			p.mu.Unlock()
			close(ch)
		})
	}
}

// Dropped returns the number of exchanges not delivered to slow subscribers.
func (p *Server) Dropped() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped
}

// ListenAddr completes a listen address: empty means DefaultAddr,
// and a missing host (":8080") means 127.0.0.1, never all interfaces.
func ListenAddr(addr string) string {
	if addr == "" {
		return DefaultAddr
	}
	if host, port, err := net.SplitHostPort(addr); err == nil && host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return addr
}

// ListenAndServe serves the proxy on addr (see ListenAddr) until ctx
// is done, then shuts down gracefully (waiting up to 5 seconds for
// requests in flight). ready, when not nil, is called with the listening
// address once connections are accepted. Under KeepConnAuto it asks the
// backend whether it keeps connections meanwhile (ProbeKeepConn), again
// every 10 seconds while the backend cannot be asked.
func (p *Server) ListenAndServe(ctx context.Context, addr string, ready func(net.Addr)) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", ListenAddr(addr))
	if err != nil {
		return fmt.Errorf("session: proxy: %w", err)
	}
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	shut := make(chan error, 1)
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- srv.Shutdown(sctx)
	})
	probeCtx, stopProbe := context.WithCancel(ctx)
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		p.probeUntilAnswered(probeCtx)
	}()
	defer func() {
		stopProbe()
		<-probed
	}()
	if ready != nil {
		ready(l.Addr())
	}
	err = srv.Serve(l)
	if stop() {
		return fmt.Errorf("session: proxy on %s: %w", l.Addr(), err)
	}
	if err = <-shut; err != nil {
		return fmt.Errorf("session: proxy on %s: shutting down: %w", l.Addr(), err)
	}
	return nil
}
