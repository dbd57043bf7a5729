// Client: one request per connection, or reuse of idle KEEP_CONN connections.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Defaults of a new Client's idle pool.
const (
	// DefaultMaxIdle is how many idle KEEP_CONN connections a Client keeps.
	// Each one holds a worker of a non-multiplexing backend such as
	// php-fpm, so the pool stays small.
	DefaultMaxIdle = 2
	// DefaultIdleExpiry is how long an idle connection stays in the pool.
	DefaultIdleExpiry = 15 * time.Second
)

// Client sends requests to one FastCGI application. A request without
// KeepConn gets a connection of its own, which the application closes after
// END_REQUEST. A request with KeepConn reuses an idle connection from an
// earlier KeepConn request when there is one, and leaves its connection in
// the pool when it ends cleanly. Each pooled connection's reading goroutine
// notices when the application closes it (php-fpm recycling a worker after
// pm.max_requests, a restart) and the pool drops it.
//
// A Client never sends two requests on one connection at once. It is safe
// for concurrent use; its Options.Trace is never called concurrently.
type Client struct {
	network, address string
	addrErr          error
	opts             Options

	sweepWG sync.WaitGroup // running or armed sweeps

	mu      sync.Mutex
	idle    []idleConn // oldest first
	maxIdle int
	expiry  time.Duration
	sweep   *time.Timer
	gen     int // identifies the armed sweep
	closed  bool
}

type idleConn struct {
	c     *Conn
	since time.Time
}

// NewClient returns a Client for the application at addr (see ParseAddr).
// An address that does not parse makes every Do fail with ErrConnect.
func NewClient(addr string, opts Options) *Client {
	c := &Client{opts: opts, maxIdle: DefaultMaxIdle, expiry: DefaultIdleExpiry}
	c.network, c.address, c.addrErr = ParseAddr(addr)
	if tr := opts.Trace; tr != nil {
		var mu sync.Mutex
		c.opts.Trace = func(ev Event) {
			mu.Lock()
			defer mu.Unlock()
			tr(ev)
		}
	}
	return c
}

// Do sends req and waits for its END_REQUEST; see Conn.Do. The Response is
// nil only when no connection could be made.
//
// When a reused idle connection turns out dead before any byte of the
// request went out (found closed, or the first write failed having written
// nothing), Do retries once on a fresh connection. It also retries once when
// the application closed a reused connection without answering a request
// that can safely be sent twice: REQUEST_METHOD GET, HEAD, OPTIONS or TRACE,
// with no Stdin and no Data. That is the race of php-fpm recycling a worker
// (it closes its end only after finishing the previous request, sometimes
// after the next request was written) and what nginx does too. Nothing else
// is retried.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	start := time.Now()
	if err := c.check(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errors.New("fcgi: Do: nil Request")
	}
	if req.KeepConn {
		if cn := c.takeIdle(); cn != nil {
			resp, out, err := cn.do(ctx, req, start, time.Since(start))
			if err == nil || !retryable(ctx, req, out, err) {
				c.release(cn, req, resp, err)
				return resp, err
			}
			cn.Close()
		}
	}
	cn, err := dial(ctx, c.network, c.address, c.opts)
	if err != nil {
		return nil, err
	}
	resp, _, err := cn.do(ctx, req, start, time.Since(start))
	c.release(cn, req, resp, err)
	return resp, err
}

// retryable tells whether a request that failed on a reused connection may
// go again on a fresh one.
func retryable(ctx context.Context, req *Request, out outcome, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if !out.wrote {
		return errors.Is(err, ErrConnClosed) || errors.Is(err, ErrProtocol) || errors.Is(err, ErrTimeout)
	}
	if !errors.Is(err, ErrConnClosed) || out.records > 0 || req.Stdin != nil || req.Data != nil {
		return false
	}
	method := ""
	for _, p := range req.Params {
		if p.Name == "REQUEST_METHOD" {
			method = p.Value
		}
	}
	switch method {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return true
	}
	return false
}

func (c *Client) check() error {
	if c.addrErr != nil {
		return fmt.Errorf("fcgi: dial: %w: %w", ErrConnect, c.addrErr)
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return fmt.Errorf("fcgi: client for %s %s: %w: the client is closed", c.network, c.address, ErrConnClosed)
	}
	return nil
}

// takeIdle returns the most recently pooled live connection, or nil.
func (c *Client) takeIdle() *Conn {
	var drop []*Conn
	defer func() {
		for _, cn := range drop {
			cn.Close()
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for len(c.idle) > 0 {
		ic := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if ic.c.dead.Load() || c.expiry > 0 && now.Sub(ic.since) >= c.expiry {
			drop = append(drop, ic.c)
			continue
		}
		return ic.c
	}
	return nil
}

// release pools cn after a clean KeepConn request, or closes it.
func (c *Client) release(cn *Conn, req *Request, resp *Response, err error) {
	if !req.KeepConn || err != nil || resp == nil || !resp.Ended || cn.dead.Load() {
		cn.Close()
		return
	}
	c.mu.Lock()
	if c.closed || c.maxIdle <= 0 {
		c.mu.Unlock()
		cn.Close()
		return
	}
	c.idle = append(c.idle, idleConn{c: cn, since: time.Now()})
	drop := c.trimLocked(time.Now())
	c.mu.Unlock()
	for _, d := range drop {
		d.Close()
	}
}

// trimLocked removes dead, expired and surplus idle connections, returning
// them for closing, and arms the sweep for the next expiry.
func (c *Client) trimLocked(now time.Time) []*Conn {
	var drop []*Conn
	kept := c.idle[:0]
	for _, ic := range c.idle {
		if ic.c.dead.Load() || c.expiry > 0 && now.Sub(ic.since) >= c.expiry {
			drop = append(drop, ic.c)
			continue
		}
		kept = append(kept, ic)
	}
	clear(c.idle[len(kept):])
	c.idle = kept
	if n := len(c.idle) - max(c.maxIdle, 0); n > 0 {
		for _, ic := range c.idle[:n] {
			drop = append(drop, ic.c)
		}
		c.idle = append(c.idle[:0], c.idle[n:]...)
	}
	if c.sweep != nil && c.sweep.Stop() {
		c.sweepWG.Done()
	}
	c.sweep = nil
	if len(c.idle) > 0 && c.expiry > 0 && !c.closed {
		c.sweepWG.Add(1)
		c.gen++
		gen := c.gen
		c.sweep = time.AfterFunc(c.idle[0].since.Add(c.expiry).Sub(now), func() { c.sweepIdle(gen) })
	}
	return drop
}

// sweepIdle closes idle connections that expired.
func (c *Client) sweepIdle(gen int) {
	defer c.sweepWG.Done()
	c.mu.Lock()
	if gen == c.gen {
		c.sweep = nil // this timer fired: nothing to stop
	}
	drop := c.trimLocked(time.Now())
	c.mu.Unlock()
	for _, d := range drop {
		d.Close()
	}
}

// SetMaxIdle sets how many idle connections the pool keeps (default
// DefaultMaxIdle); 0 disables reuse.
func (c *Client) SetMaxIdle(n int) {
	c.mu.Lock()
	c.maxIdle = max(n, 0)
	drop := c.trimLocked(time.Now())
	c.mu.Unlock()
	for _, d := range drop {
		d.Close()
	}
}

// SetIdleExpiry sets how long a connection may stay idle in the pool
// (default DefaultIdleExpiry); d <= 0 keeps idle connections until the
// application closes them.
func (c *Client) SetIdleExpiry(d time.Duration) {
	c.mu.Lock()
	c.expiry = max(d, 0)
	drop := c.trimLocked(time.Now())
	c.mu.Unlock()
	for _, d := range drop {
		d.Close()
	}
}

// GetValues asks the application for the values of names (by default
// FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS) on a connection of its
// own; see Conn.GetValues.
func (c *Client) GetValues(ctx context.Context, names ...string) ([]Pair, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	cn, err := dial(ctx, c.network, c.address, c.opts)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	return cn.GetValues(ctx, names...)
}

// Close closes the idle connections; requests in flight finish and their
// connections are closed. Later calls fail with ErrConnClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	drop := make([]*Conn, 0, len(c.idle))
	for _, ic := range c.idle {
		drop = append(drop, ic.c)
	}
	c.idle = nil
	if c.sweep != nil && c.sweep.Stop() {
		c.sweepWG.Done()
	}
	c.sweep = nil
	c.mu.Unlock()
	for _, d := range drop {
		d.Close()
	}
	c.sweepWG.Wait()
	return nil
}
