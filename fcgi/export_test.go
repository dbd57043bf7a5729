// Internal state the tests of package fcgi_test look at, and the one
// constructor they need; compiled into the tests only.

package fcgi

import (
	"context"
	"time"
)

// NewConnOn runs a Conn over a connection a test wrapped (see newConnOn).
var NewConnOn = newConnOn

// IdleCount returns how many idle connections c keeps.
func (c *Client) IdleCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle)
}

// IdleGone reports whether c keeps no idle connection, or its oldest one
// died.
func (c *Client) IdleGone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle) == 0 || c.idle[0].c.dead.Load()
}

// WaitingCount returns how many requests wait for a connection.
func (c *Client) WaitingCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiting)
}

// ConnCount returns how many connections c has open or being dialled.
func (c *Client) ConnCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns
}

// Registered reports whether request id is active or reserved on c.
func (c *Conn) Registered(id uint16) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls.get(id) != nil
}

// RegisteredCount returns how many request ids are active or reserved.
func (c *Conn) RegisteredCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls.len()
}

// LockWrites takes c's write lock, as a request writing its records does;
// UnlockWrites releases it.
func (c *Conn) LockWrites()   { c.wmu.Lock() }
func (c *Conn) UnlockWrites() { c.wmu.Unlock() }

// Unwritten returns how many bytes of records wait in c's Writer.
func (c *Conn) Unwritten() int {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.buffered()
}

// Written returns how many bytes c's Writer has written.
func (c *Conn) Written() int64 {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.offset()
}

// DoWrote runs Do for req and tells whether any byte of it went out, which
// decides whether a Client may retry it.
func (c *Conn) DoWrote(ctx context.Context, req *Request) (wrote bool, err error) {
	_, out, err := c.do(ctx, req, time.Now(), 0)
	return out.wrote, err
}
