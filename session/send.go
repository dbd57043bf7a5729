// Engine: sends a Request through package fcgi and records it in an
// Exchange; the authorizer flow on top.

package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"fcgiscope/fcgi"
)

// EngineOptions configures an Engine.
type EngineOptions struct {
	// Timeout bounds a whole request; 0 means no bound beyond the client's
	// own timeouts (fcgi.Options.IdleTimeout) and the caller's context.
	Timeout time.Duration
	// CaptureLimit is given to exchanges whose CaptureLimit is 0; 0 means
	// DefaultCaptureLimit, a negative value no limit.
	CaptureLimit int64
	// OnExchange, when set, is called with every Exchange that Send
	// completed (answered or failed), on the goroutine that sent it: a hook
	// for logging. It must not block.
	OnExchange func(*Exchange)
}

// Engine sends requests to FastCGI backends and records them. Its clients
// come from a Pool; it is safe for concurrent use.
type Engine struct {
	pool *Pool
	opts EngineOptions
}

// NewEngine returns an Engine taking clients from pool.
func NewEngine(pool *Pool, opts EngineOptions) *Engine {
	return &Engine{pool: pool, opts: opts}
}

// Options returns the options the engine was made with.
func (e *Engine) Options() EngineOptions { return e.opts }

// ClientOptions returns the options of the engine's FastCGI clients
// (PoolOptions.Client), for a connection dialled outside the pool.
func (e *Engine) ClientOptions() fcgi.Options { return e.pool.opts.Client.Options }

// Send sends req to the backend at target and records everything into x:
// params, every record both ways with its bytes, stdout, stderr,
// END_REQUEST, timings, the parsed CGI response and the error. The capture
// is kept whatever happens. x must be new (NewExchange), used for one Send
// only. req.Body and req.Data are closed after the request if they are
// io.Closers. The error, also recorded as x.ErrorText, wraps the fcgi error
// (fcgi.ErrConnect, ErrTimeout, ErrAborted, ErrConnClosed, ErrProtocol,
// *fcgi.EndRequestError) or ErrPoolClosed.
func (e *Engine) Send(ctx context.Context, target string, req *Request, x *Exchange) error {
	start := time.Now()
	if x.CaptureLimit == 0 {
		x.CaptureLimit = e.opts.CaptureLimit
	}
	x.Begin(target, req, start)

	client, release, err := e.pool.Acquire(target)
	if err != nil {
		e.complete(x, Outcome{Total: time.Since(start), Err: err})
		return err
	}
	defer release()
	if e.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.Timeout)
		defer cancel()
	}
	freq := req.FCGI()
	// Stdout and Stderr stay nil: the trace captures their content, once,
	// in the exchange.
	freq.Trace = x.Trace(start)
	resp, doErr := client.Do(ctx, freq)
	closeBody(req.Body)
	closeBody(req.Data)
	o := OutcomeOf(target, start, resp, doErr)
	e.complete(x, o)
	return o.Err
}

// complete completes x and tells OnExchange.
func (e *Engine) complete(x *Exchange, o Outcome) {
	x.Complete(o)
	if e.opts.OnExchange != nil {
		e.opts.OnExchange(x)
	}
}

// SendOn sends req on conn, a connection of the caller's own (fcgi.Dial:
// to multiplex requests on it, which the pool's clients never do), and
// records it into x as Engine.Send does with a pooled client. Record times
// are measured from the call; x.CaptureLimit is used as it is. The caller
// bounds the request with ctx, and closes conn.
func SendOn(ctx context.Context, conn *fcgi.Conn, target string, req *Request, x *Exchange) error {
	start := time.Now()
	x.Begin(target, req, start)
	freq := req.FCGI()
	freq.Trace = x.Trace(start)
	resp, doErr := conn.Do(ctx, freq)
	o := OutcomeOf(target, start, resp, doErr)
	x.Complete(o)
	return o.Err
}

// FCGI returns req as package fcgi sends it: the params as pairs, Body on
// STDIN, Data on DATA; no Trace.
func (req *Request) FCGI() *fcgi.Request {
	return &fcgi.Request{
		ID:       req.ID,
		Role:     req.Role,
		KeepConn: req.KeepConn,
		Params:   req.Params.Pairs(),
		Stdin:    req.Body,
		Data:     req.Data,
		Framing:  req.Framing,
	}
}

// OutcomeOf returns the Outcome of a request to target begun at start that
// package fcgi answered with resp and err (either may be nil): the client's
// counts and timings, and err wrapped as "session: <what failed> to
// <target>: err" (see Describe), or "session: err" for a failed connect,
// whose error already names both.
func OutcomeOf(target string, start time.Time, resp *fcgi.Response, err error) Outcome {
	o := Outcome{Total: time.Since(start)}
	if resp != nil {
		o.Ended = resp.Ended
		o.Counted, o.StdoutBytes, o.StderrBytes = true, resp.StdoutBytes, resp.StderrBytes
		o.Conn = resp.Conn
		if resp.Timing.Connected > 0 {
			o.Connect = resp.Timing.Start.Sub(start) + resp.Timing.Connected
		}
	}
	if err != nil {
		o.Err = fmt.Errorf("session: %s to %s: %w", Describe(err), target, err)
		if errors.Is(err, fcgi.ErrConnect) {
			// fcgi's error already says it: "fcgi: dial tcp ADDR: cannot
			// connect: connection refused".
			o.Err = fmt.Errorf("session: %w", err)
		}
	}
	return o
}

// closeBody closes a request stream that can be closed, once it was sent
// (or the request failed), as http.Client.Do does with a request body.
func closeBody(r io.Reader) {
	if c, ok := r.(io.Closer); ok {
		_ = c.Close()
	}
}

// Describe names the kind of a failure of package fcgi in the words a user
// reads first: one of the Fail constants ("cannot connect", "timed out",
// "aborted", …). A cancelled context is an abort whatever it cut short.
func Describe(err error) string {
	var ere *fcgi.EndRequestError
	switch {
	case errors.As(err, &ere):
		return FailRefused
	case errors.Is(err, fcgi.ErrAborted) || errors.Is(err, context.Canceled):
		return FailAborted
	case errors.Is(err, fcgi.ErrConnect):
		return FailConnect
	case errors.Is(err, fcgi.ErrTimeout):
		return FailTimeout
	case errors.Is(err, fcgi.ErrConnClosed):
		return FailClosed
	case errors.Is(err, fcgi.ErrProtocol):
		return FailProtocol
	}
	return FailOther
}

// Handler returns the terminal Handler of a middleware chain: it sends the
// request to target. It records into the Exchange carried by the context
// (ContextWithExchange), or into a new one.
func (e *Engine) Handler(target string) Handler {
	return func(ctx context.Context, req *Request) (*Exchange, error) {
		x := ExchangeFromContext(ctx)
		if x == nil {
			x = NewExchange(Input{})
		}
		return x, e.Send(ctx, target, req, x)
	}
}

// OriginAuthorizer is the origin of params set from an authorizer's
// Variable-NAME headers.
const OriginAuthorizer = "authorizer"

// Authorize runs the authorizer flow (FastCGI spec §6.3): authReq goes to
// target in the AUTHORIZER role (set if its Role is 0). If the authorizer
// answers 200, each Variable-NAME: value header of its response becomes the
// param NAME of nextReq (replacing one of that name, origin "authorizer";
// nextReq itself is not modified) and that request is sent to target; nextX
// records it. Any other status is the final answer: nextX is nil and err is
// nil. err is set when either request fails, or when the authorizer sent no
// response.
func (e *Engine) Authorize(ctx context.Context, target string, authReq, nextReq *Request) (authX, nextX *Exchange, err error) {
	ar := *authReq
	if ar.Role == 0 {
		ar.Role = fcgi.RoleAuthorizer
	}
	authX = NewExchange(Input{Target: target, Role: ar.Role})
	if err := e.Send(ctx, target, &ar, authX); err != nil {
		return authX, nil, err
	}
	resp := authX.Response()
	if resp == nil {
		return authX, nil, fmt.Errorf("session: authorizer at %s sent no response", target)
	}
	if resp.Status != http.StatusOK {
		return authX, nil, nil
	}
	nr := *nextReq
	nr.Params = append(Params(nil), nextReq.Params...)
	for _, v := range AuthorizerVariables(resp) {
		nr.Params.Set(v.Name, v.Value, OriginAuthorizer)
	}
	nextX = NewExchange(Input{Target: target, Role: nr.Role})
	return authX, nextX, e.Send(ctx, target, &nr, nextX)
}

// AuthorizerVariables returns the variables an authorizer's response passes
// on: NAME and value of each "Variable-NAME: value" header, in order (the
// prefix matched case-insensitively).
func AuthorizerVariables(resp *HTTPResponse) []Param {
	const prefix = "Variable-"
	var out []Param
	for _, h := range resp.Headers {
		if len(h.Name) > len(prefix) && strings.EqualFold(h.Name[:len(prefix)], prefix) {
			out = append(out, Param{Name: h.Name[len(prefix):], Value: h.Value, Origin: OriginAuthorizer})
		}
	}
	return out
}

// GetValues asks the backend at target for its FCGI_MAX_CONNS,
// FCGI_MAX_REQS and FCGI_MPXS_CONNS (or the given names).
func (e *Engine) GetValues(ctx context.Context, target string, names ...string) ([]fcgi.Pair, error) {
	client, release, err := e.pool.Acquire(target)
	if err != nil {
		return nil, err
	}
	defer release()
	if e.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.Timeout)
		defer cancel()
	}
	vals, err := client.GetValues(ctx, names...)
	switch {
	case errors.Is(err, fcgi.ErrConnect):
		return vals, fmt.Errorf("session: GET_VALUES: %w", err)
	case err != nil:
		// fcgi's error says GET_VALUES, where, and what became of it: no
		// GET_VALUES_RESULT, the connection closed or kept silent.
		return vals, fmt.Errorf("session: %w", err)
	}
	return vals, nil
}
