// Client: one request per connection, or reuse of idle KEEP_CONN connections.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ClientOptions configure a Client: the Options of each of its
// connections, and the bounds of its pool of connections. The zero value
// uses the defaults.
type ClientOptions struct {
	Options
	// MaxConns caps the connections the Client has open at once, in use,
	// idle or being dialled; 0 means no limit. A request that finds none
	// free waits in line for one (see Client). Against a backend that
	// gives each KEEP_CONN connection a worker of its own for as long as
	// the connection lives, such as php-fpm (which does not answer
	// FCGI_MAX_CONNS), set it to at most the number of workers
	// (pm.max_children): connections beyond them would wait unserved in
	// the backend's listen queue while the pooled ones are reused, for as
	// long as the load lasts.
	MaxConns int
	// MaxIdle is how many idle KEEP_CONN connections the Client keeps for
	// reuse; 0 means 2, < 0 none (no reuse). Each one holds a worker of a
	// non-multiplexing backend such as php-fpm, so the pool stays small.
	MaxIdle int
	// IdleExpiry is how long an idle connection stays in the pool; 0
	// means 15 s, < 0 until the application closes it.
	IdleExpiry time.Duration
}

// Defaults for the zero fields of ClientOptions.
const (
	defaultMaxIdle    = 2
	defaultIdleExpiry = 15 * time.Second
)

// Client sends requests to one FastCGI application. A request without
// KeepConn gets a connection of its own, which the application closes after
// END_REQUEST. A request with KeepConn reuses an idle connection from an
// earlier KeepConn request when there is one, and leaves its connection in
// the pool when it ends cleanly. Each pooled connection's reading goroutine
// notices when the application closes it (php-fpm recycling a worker after
// pm.max_requests, a restart) and the pool drops it.
//
// With ClientOptions.MaxConns set, the Client never has more connections open
// (in use, idle or being dialled): a request that finds none free waits,
// first come first served, for a connection another request releases, or
// for a free slot to dial one. The wait is bounded by the request's
// context only.
//
// A Client never sends two requests on one connection at once. It is safe
// for concurrent use; its Options.Trace is never called concurrently.
type Client struct {
	network, address string
	addrErr          error
	opts             ClientOptions

	sweepWG sync.WaitGroup // running or armed sweeps

	mu      sync.Mutex
	idle    []idleConn    // oldest first
	maxIdle int           // idle connections kept, >= 0
	expiry  time.Duration // how long one is kept, 0 for ever
	sweep   *time.Timer
	gen     int // identifies the armed sweep
	closed  bool
	keep    keepState // whether the application keeps connections (client_keep.go)
	conns   int       // connections open or being dialled (counted against MaxConns)
	waiting []*waiter // requests waiting for a connection, first come first
}

type idleConn struct {
	c     *Conn
	since time.Time
}

// waiter is a request waiting for a connection under MaxConns. It receives
// exactly one grant.
type waiter struct {
	keep bool // may take an idle connection (a KeepConn request)
	ch   chan grant
}

// grant is what a waiter is given: an idle connection, the right to dial
// one (cn nil), or the error that ends the wait.
type grant struct {
	cn  *Conn
	err error
}

// NewClient returns a Client for the application at addr (see ParseAddr).
// An address that does not parse makes every Do fail with ErrConnect.
func NewClient(addr string, opts ClientOptions) *Client {
	c := &Client{opts: opts, maxIdle: defaultMaxIdle, expiry: defaultIdleExpiry}
	if opts.MaxIdle != 0 {
		c.maxIdle = max(opts.MaxIdle, 0)
	}
	if opts.IdleExpiry != 0 {
		c.expiry = max(opts.IdleExpiry, 0)
	}
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
// A pooled connection is not reused once the application closed it, and
// until the application has shown that it keeps connections (see
// keepProbation) a connection is reused only if it stayed open for a
// moment after its END_REQUEST: some servers (uwsgi, node-fastcgi) ignore
// KEEP_CONN and close right after, and a request sent on such a connection
// would be lost. When the application closes a connection that carried
// one request, the Client stops pooling connections to it.
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
//
// Timing.Connected includes the wait for a connection under MaxConns.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	start := time.Now()
	if err := c.check(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, errors.New("fcgi: Do: nil Request")
	}
	cn, err := c.acquire(ctx, req.KeepConn, start)
	if err != nil {
		return nil, err
	}
	if cn != nil {
		resp, out, err := cn.do(ctx, req, start, time.Since(start))
		if err == nil || !retryable(ctx, req, out, err) {
			c.release(cn, req, resp, err)
			return resp, err
		}
		// The fresh connection takes the dead one's place.
		cn.Close()
	}
	cn, err = dial(ctx, c.network, c.address, c.opts.Options)
	if err != nil {
		c.freeSlot()
		return nil, err
	}
	resp, _, err := cn.do(ctx, req, start, time.Since(start))
	c.release(cn, req, resp, err)
	return resp, err
}

// retryable tells whether a request that failed on a reused connection may
// go again on a fresh one.
func retryable(ctx context.Context, req *Request, out outcome, err error) bool {
	var te *TimeoutError
	if ctx.Err() != nil || errors.As(err, &te) && te.Limit == LimitDeadline {
		return false // the request's time is up (Conn.do gives up a little early)
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

// acquire gives the caller a connection: an idle one (for a KeepConn
// request), or nil with a slot to dial one, waiting in line under MaxConns.
// start is when the caller's call began (TimeoutError.After).
func (c *Client) acquire(ctx context.Context, keep bool, start time.Time) (*Conn, error) {
	var drop []*Conn
	defer func() {
		for _, cn := range drop {
			cn.Close()
		}
	}()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, c.closedErr()
	}
	if !keep {
		if !c.underMax() && len(c.idle) > 0 {
			// A connection of the request's own: the oldest idle one
			// makes room for it, and its slot goes to the caller.
			drop = append(drop, c.idle[0].c)
			c.idle = append(c.idle[:0], c.idle[1:]...)
			clear(c.idle[len(c.idle) : len(c.idle)+1])
			c.mu.Unlock()
			return nil, nil
		}
	} else {
		now := time.Now()
		for len(c.idle) > 0 {
			// The most recently pooled: the others may expire.
			ic := c.idle[len(c.idle)-1]
			c.idle[len(c.idle)-1] = idleConn{}
			c.idle = c.idle[:len(c.idle)-1]
			// closing: servers that ignore KEEP_CONN (uwsgi, node-fastcgi)
			// close right after END_REQUEST, before the reading goroutine
			// may have seen it; a request sent there would be lost.
			if ic.c.closing() || c.expiry > 0 && now.Sub(ic.since) >= c.expiry || !c.trust(ic) || c.closed {
				c.droppedIdle(ic.c)
				drop = append(drop, ic.c)
				c.conns--
				if c.closed {
					c.mu.Unlock()
					return nil, c.closedErr()
				}
				continue
			}
			c.mu.Unlock()
			return ic.c, nil
		}
	}
	if c.underMax() {
		c.conns++
		c.mu.Unlock()
		return nil, nil
	}
	w := &waiter{keep: keep, ch: make(chan grant, 1)}
	c.waiting = append(c.waiting, w)
	c.mu.Unlock()
	select {
	case g := <-w.ch:
		return g.cn, g.err
	case <-ctx.Done():
	}
	c.mu.Lock()
	queued := false
	for i, o := range c.waiting {
		if o == w {
			c.waiting = append(c.waiting[:i], c.waiting[i+1:]...)
			queued = true
			break
		}
	}
	c.mu.Unlock()
	if !queued {
		// A grant raced with the context: pass it on.
		if g := <-w.ch; g.err == nil {
			if g.cn != nil {
				c.handOver(g.cn)
			} else {
				c.freeSlot()
			}
		}
	}
	return nil, fmt.Errorf("fcgi: request to %s %s, not sent: waiting for a connection (MaxConns %d): %w: %w",
		c.network, c.address, c.opts.MaxConns, ctxFailure(ctx.Err(), PhaseNotSent, start), ctx.Err())
}

// underMax tells whether another connection may be dialled; c.mu is held.
func (c *Client) underMax() bool {
	return c.opts.MaxConns <= 0 || c.conns < c.opts.MaxConns
}

func (c *Client) closedErr() error {
	return fmt.Errorf("fcgi: client for %s %s: %w: the client is closed", c.network, c.address, ErrConnClosed)
}

// freeSlot gives up the slot of a connection that was closed or never
// made: to the first waiter, who dials, or back to the count.
func (c *Client) freeSlot() {
	c.mu.Lock()
	if len(c.waiting) > 0 && !c.closed {
		w := c.waiting[0]
		c.waiting = c.waiting[1:]
		c.mu.Unlock()
		w.ch <- grant{}
		return
	}
	c.conns--
	c.mu.Unlock()
}

// release pools cn after a clean KeepConn request (or hands it to the
// first waiter), or closes it.
func (c *Client) release(cn *Conn, req *Request, resp *Response, err error) {
	c.mu.Lock()
	if resp != nil && resp.Conn.Reused && err == nil {
		c.keep.proven, c.keep.ignored = true, false // it carried a second request
	}
	ignored := c.keep.ignored
	c.mu.Unlock()
	if !req.KeepConn || err != nil || resp == nil || !resp.Ended || cn.dead.Load() || ignored {
		cn.Close()
		c.freeSlot()
		return
	}
	c.handOver(cn)
}

// handOver gives a live idle connection to the first waiter, or pools it.
func (c *Client) handOver(cn *Conn) {
	c.mu.Lock()
	if c.closed {
		c.conns--
		c.mu.Unlock()
		cn.Close()
		return
	}
	if len(c.waiting) > 0 {
		w := c.waiting[0]
		c.waiting = c.waiting[1:]
		c.mu.Unlock()
		if w.keep {
			w.ch <- grant{cn: cn}
			return
		}
		// The first in line wants a connection of its own: this one
		// makes room for it.
		cn.Close()
		w.ch <- grant{}
		return
	}
	if c.maxIdle <= 0 {
		c.conns--
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
			c.droppedIdle(ic.c)
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
		clear(c.idle[len(c.idle) : len(c.idle)+n])
	}
	// Idle connections exist only while nobody waits, so the slots go back
	// to the count.
	c.conns -= len(drop)
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

// Idle returns how many idle KEEP_CONN connections the Client holds for
// reuse that the application has not closed: after a KeepConn request, 1
// tells that the application kept its connection open, 0 that it closed it
// (uwsgi and node-fastcgi ignore KEEP_CONN).
func (c *Client) Idle() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ic := range c.idle {
		if !ic.c.closing() {
			n++
		}
	}
	return n
}

// GetValues asks the application for the values of names (by default
// FCGI_MAX_CONNS, FCGI_MAX_REQS and FCGI_MPXS_CONNS) on a connection of its
// own; see Conn.GetValues.
func (c *Client) GetValues(ctx context.Context, names ...string) ([]Pair, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if _, err := c.acquire(ctx, false, time.Now()); err != nil {
		return nil, err
	}
	defer c.freeSlot()
	cn, err := dial(ctx, c.network, c.address, c.opts.Options)
	if err != nil {
		return nil, err
	}
	defer cn.Close()
	return cn.GetValues(ctx, names...)
}

// Close closes the idle connections; requests in flight finish and their
// connections are closed. Requests waiting for a connection, and later
// calls, fail with ErrConnClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	drop := make([]*Conn, 0, len(c.idle))
	for _, ic := range c.idle {
		drop = append(drop, ic.c)
	}
	c.idle = nil
	c.conns -= len(drop)
	if c.sweep != nil && c.sweep.Stop() {
		c.sweepWG.Done()
	}
	c.sweep = nil
	waiting := c.waiting
	c.waiting = nil
	c.mu.Unlock()
	for _, w := range waiting {
		w.ch <- grant{err: c.closedErr()}
	}
	for _, d := range drop {
		d.Close()
	}
	c.sweepWG.Wait()
	return nil
}
