// Pool: one fcgi.Client per backend address, bounded in number and closed
// when unused for too long.

package session

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"fcgiscope/fcgi"
)

// Pool defaults.
const (
	DefaultPoolMaxClients = 8
	DefaultPoolIdleExpiry = 90 * time.Second
)

// ErrPoolClosed is returned by Acquire after Close.
var ErrPoolClosed = errors.New("session: pool closed")

// PoolOptions configures a Pool.
type PoolOptions struct {
	// Client are the options of every client the pool creates. Its
	// MaxConns is the connection limit of every backend that MaxConns (or
	// Pool.SetMaxConns) does not give a limit of its own.
	Client fcgi.ClientOptions
	// MaxConns caps the connections open at once to one backend, by
	// address (any form Acquire accepts: "127.0.0.1:9000" and
	// "tcp://127.0.0.1:9000" are one backend); 0 means no limit, a negative
	// value Client.MaxConns. A request
	// that finds its backend at the limit waits, first come first served,
	// for a connection to come free (fcgi.ClientOptions.MaxConns). Set it to
	// php-fpm's pm.max_children: php-fpm does not answer FCGI_MAX_CONNS,
	// and connections beyond its workers wait unserved in its listen queue.
	MaxConns map[string]int
	// MaxClients is the number of backends kept at once (default
	// DefaultPoolMaxClients). Past it the least recently used backend that
	// no request is using is closed; backends in use are never closed, so
	// the pool may exceed the bound while they are.
	MaxClients int
	// IdleExpiry: a backend no request used for this long is closed.
	// Default DefaultPoolIdleExpiry.
	IdleExpiry time.Duration
	// MaxIdle is the number of idle KEEP_CONN connections each client keeps
	// (fcgi.ClientOptions.MaxIdle); 0 keeps Client.MaxIdle.
	MaxIdle int
	// ConnIdleExpiry is how long a client keeps an idle KEEP_CONN
	// connection (fcgi.ClientOptions.IdleExpiry); 0 keeps Client.IdleExpiry.
	ConnIdleExpiry time.Duration
}

// Pool maps backend addresses to fcgi.Clients. The clients reuse idle
// KEEP_CONN connections themselves; the pool bounds how many clients exist
// and closes those unused for IdleExpiry. Expiry is checked whenever the pool
// is used (Acquire, release, Len): the pool starts no goroutine. It is safe
// for concurrent use.
type Pool struct {
	opts PoolOptions
	now  func() time.Time // replaced by tests

	mu       sync.Mutex
	entries  map[string]*poolEntry
	maxConns map[string]int // by pool key; see PoolOptions.MaxConns
	// retired are the clients replaced by SetMaxConns while requests were
	// using them: the last release closes them.
	retired map[*poolEntry]struct{}
	closed  bool
}

type poolEntry struct {
	key      string
	client   *fcgi.Client
	maxConns int // the client's fcgi.ClientOptions.MaxConns
	refs     int
	lastUsed time.Time
}

// NewPool returns an empty Pool. An address in opts.MaxConns that does not
// parse is ignored: Acquire refuses it anyway.
func NewPool(opts PoolOptions) *Pool {
	if opts.MaxClients <= 0 {
		opts.MaxClients = DefaultPoolMaxClients
	}
	if opts.IdleExpiry <= 0 {
		opts.IdleExpiry = DefaultPoolIdleExpiry
	}
	p := &Pool{opts: opts, now: time.Now, entries: make(map[string]*poolEntry),
		maxConns: make(map[string]int), retired: make(map[*poolEntry]struct{})}
	for target, n := range opts.MaxConns {
		if key, err := poolKey(target); err == nil && n >= 0 {
			p.maxConns[key] = n
		}
	}
	p.opts.MaxConns = nil // p.maxConns holds them
	return p
}

// maxConnsLocked returns the connection limit of the backend key.
func (p *Pool) maxConnsLocked(key string) int {
	if n, ok := p.maxConns[key]; ok {
		return n
	}
	return max(p.opts.Client.MaxConns, 0)
}

// MaxConns returns the connection limit of the backend at target (see
// PoolOptions.MaxConns), 0 for none, or -1 when target does not parse.
func (p *Pool) MaxConns(target string) int {
	key, err := poolKey(target)
	if err != nil {
		return -1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.maxConnsLocked(key)
}

// SetMaxConns sets the connection limit of the backend at target: n > 0
// connections at most, 0 no limit, n < 0 back to PoolOptions.Client.MaxConns.
// A client the backend already has with another limit is replaced: requests
// using it finish on it, and it is closed when the last one ends; later
// requests get a new client with the new limit.
func (p *Pool) SetMaxConns(target string, n int) error {
	key, err := poolKey(target)
	if err != nil {
		return err
	}
	p.mu.Lock()
	if n < 0 {
		delete(p.maxConns, key)
	} else {
		p.maxConns[key] = n
	}
	var doomed []*fcgi.Client
	if e := p.entries[key]; e != nil && e.maxConns != p.maxConnsLocked(key) {
		delete(p.entries, key)
		if e.refs == 0 {
			doomed = append(doomed, e.client)
		} else {
			p.retired[e] = struct{}{}
		}
	}
	p.mu.Unlock()
	closeAll(doomed)
	return nil
}

// poolKey returns the canonical form of a target address, so that
// "127.0.0.1:9000" and "tcp://127.0.0.1:9000" share a client.
func poolKey(target string) (string, error) {
	network, address, err := fcgi.ParseAddr(target)
	if err != nil {
		return "", fmt.Errorf("session: backend address %q: %w", target, err)
	}
	switch network {
	case "unix":
		return "unix:" + address, nil
	case "tcp":
		return address, nil
	}
	return network + "://" + address, nil
}

// Acquire returns the client for target, creating it if needed, and a
// release function to call (once) when the request is over. A client is
// never closed by the pool between Acquire and release, except by Close.
func (p *Pool) Acquire(target string) (*fcgi.Client, func(), error) {
	key, err := poolKey(target)
	if err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, nil, ErrPoolClosed
	}
	now := p.now()
	e := p.entries[key]
	if e == nil {
		copts := p.opts.Client
		copts.MaxConns = p.maxConnsLocked(key)
		if p.opts.MaxIdle > 0 {
			copts.MaxIdle = p.opts.MaxIdle
		}
		if p.opts.ConnIdleExpiry > 0 {
			copts.IdleExpiry = p.opts.ConnIdleExpiry
		}
		c := fcgi.NewClient(key, copts)
		e = &poolEntry{key: key, client: c, maxConns: copts.MaxConns}
		p.entries[key] = e
	}
	e.refs++
	e.lastUsed = now
	doomed := p.trimLocked(now)
	p.mu.Unlock()
	closeAll(doomed)

	var once sync.Once
	release := func() {
		once.Do(func() {
			p.mu.Lock()
			e.refs--
			e.lastUsed = p.now()
			doomed := p.trimLocked(e.lastUsed)
			if _, ok := p.retired[e]; ok && e.refs == 0 {
				delete(p.retired, e)
				doomed = append(doomed, e.client)
			}
			p.mu.Unlock()
			closeAll(doomed)
		})
	}
	return e.client, release, nil
}

// trimLocked removes expired idle entries and, past MaxClients, the least
// recently used idle ones; it returns their clients for closing outside the lock.
func (p *Pool) trimLocked(now time.Time) []*fcgi.Client {
	var doomed []*fcgi.Client
	for k, e := range p.entries {
		if e.refs == 0 && now.Sub(e.lastUsed) >= p.opts.IdleExpiry {
			delete(p.entries, k)
			doomed = append(doomed, e.client)
		}
	}
	for len(p.entries) > p.opts.MaxClients {
		var lru *poolEntry
		for _, e := range p.entries {
			if e.refs == 0 && (lru == nil || e.lastUsed.Before(lru.lastUsed)) {
				lru = e
			}
		}
		if lru == nil {
			break // all in use
		}
		delete(p.entries, lru.key)
		doomed = append(doomed, lru.client)
	}
	return doomed
}

func closeAll(cs []*fcgi.Client) {
	for _, c := range cs {
		_ = c.Close()
	}
}

// Len returns the number of backends with a client, after expiring unused
// ones. Clients replaced by SetMaxConns and still in use are not counted.
func (p *Pool) Len() int {
	p.mu.Lock()
	doomed := p.trimLocked(p.now())
	n := len(p.entries)
	p.mu.Unlock()
	closeAll(doomed)
	return n
}

// Close closes every client, in use or not; later Acquires fail with
// ErrPoolClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	p.closed = true
	entries := slices.Collect(maps.Values(p.entries))
	entries = append(entries, slices.Collect(maps.Keys(p.retired))...)
	p.entries = make(map[string]*poolEntry)
	clear(p.retired)
	p.mu.Unlock()
	var errs []error
	for _, e := range entries {
		if err := e.client.Close(); err != nil {
			errs = append(errs, fmt.Errorf("session: closing client for %s: %w", e.key, err))
		}
	}
	return errors.Join(errs...)
}

// Pool returns the pool the engine takes its clients from, for the settings
// that belong to a backend (SetMaxConns).
func (e *Engine) Pool() *Pool { return e.pool }
