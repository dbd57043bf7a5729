// Client, KEEP_CONN: learning whether the application keeps the
// connections it is asked to keep, before a request is lost on one it
// is closing.

package fcgi

import "time"

// keepProbation is how long after its END_REQUEST a pooled connection must
// stay open before the Client trusts the application to keep connections
// and reuses one straight away. Servers that ignore KEEP_CONN (uwsgi,
// node-fastcgi) close within a millisecond or so of END_REQUEST; the wait
// is paid once per Client, by the first request to reuse a connection.
const keepProbation = 50 * time.Millisecond

// keepState is what a Client learned of the application's KEEP_CONN
// handling; guarded by Client.mu.
type keepState struct {
	// proven: a pooled connection outlived keepProbation or carried a
	// second request: the application keeps connections.
	proven bool
	// ignored: the application closed a connection that had carried one
	// request right after it, as if KEEP_CONN were not set: connections
	// to it are no longer pooled, since the next request sent on one
	// would be lost (and a POST cannot be sent twice). A connection proven
	// later clears it.
	ignored bool
}

// closedAfterOne reports whether the application closed cn after its first
// and only request: what an application that ignores KEEP_CONN does.
func (cn *Conn) closedAfterOne() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.begun == 1 && cn.err != nil && cn.err.byPeer
}

// droppedIdle notes why an idle connection is being dropped; c.mu is held.
func (c *Client) droppedIdle(cn *Conn) {
	if cn.closing() && (cn.closedAfterOne() || peerClosed(cn.nc) && cn.requests() == 1) {
		c.keep.ignored, c.keep.proven = true, false
	}
}

// requests returns how many requests cn carried.
func (cn *Conn) requests() int {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.begun
}

// trust decides whether the idle connection ic, just taken from the pool,
// may carry a request; c.mu is held and stays held on return, but is
// released while waiting. Until the application has shown that it keeps
// connections, the connection must first outlive keepProbation: if the
// application closes it meanwhile, it is not used, and the Client stops
// pooling connections to it.
func (c *Client) trust(ic idleConn) bool {
	if c.keep.proven {
		return true
	}
	if wait := time.Until(ic.since.Add(keepProbation)); wait > 0 {
		c.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ic.c.readDone:
		case <-t.C:
		}
		t.Stop()
		c.mu.Lock()
	}
	if ic.c.closing() {
		c.droppedIdle(ic.c)
		return false
	}
	c.keep.proven, c.keep.ignored = true, false
	return true
}
