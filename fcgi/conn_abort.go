// Conn, giving up: the idle watch, ABORT_REQUEST and the wait for its
// END_REQUEST, and what Do returns then.

package fcgi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// watchIdle puts cl, whose Do now waits for END_REQUEST, under the idle
// watch; Conn.mu is held. One timer serves every waiting request of the
// connection: it is armed for the earliest moment a request can have been
// silent for IdleTimeout, so that a request costs no timer of its own (a
// Reset and a Stop each, plus a timer channel in its select).
func (c *Conn) watchIdle(cl *call, now time.Time, idle time.Duration) {
	cl.waiting = true
	cl.last.Store(int64(now.Sub(cl.start)))
	due := now.Add(idle)
	switch {
	case c.watch == nil:
		c.watch = time.AfterFunc(idle, c.checkIdle)
	case c.watchAt.IsZero() || c.watchAt.After(due):
		c.watch.Reset(idle)
	default:
		return // armed for an earlier moment, when it looks again
	}
	c.watchAt = due
}

// checkIdle runs when the idle watch fires: every waiting request silent
// for IdleTimeout is woken to give up, and the watch is armed again for
// the earliest moment another one can be.
func (c *Conn) checkIdle() {
	idle := c.opts.idleTimeout()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	now := time.Now()
	var next time.Time
	for _, cl := range c.calls.all() {
		if !cl.waiting || cl.finished || cl.reserved || cl.silent {
			continue
		}
		due := cl.start.Add(time.Duration(cl.last.Load()) + idle)
		if !now.Before(due) {
			cl.silent = true
			cl.wake()
		} else if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	c.watchAt = next
	if !next.IsZero() {
		c.watch.Reset(next.Sub(now))
	}
}

// ctxFailure maps the context error of a request that began at start to
// its sentinel: a passed deadline is a timeout (a *TimeoutError in phase),
// a cancellation an abort.
func ctxFailure(err error, phase Phase, start time.Time) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return &TimeoutError{Limit: LimitDeadline, Phase: phase, After: time.Since(start)}
	}
	return ErrAborted
}

// abortGrace is how long before a context deadline of left from now a
// request gives up, so that the wait for END_REQUEST after ABORT_REQUEST
// fits inside the deadline: a tenth of left, at most wait (AbortWait).
func abortGrace(wait, left time.Duration) time.Duration {
	return max(min(wait, left/10), 0)
}

// abortWait returns how long cl waits for END_REQUEST after ABORT_REQUEST:
// AbortWait, cut at the caller's deadline.
func (c *Conn) abortWait(cl *call) time.Duration {
	wait := c.opts.abortWait()
	if !cl.limit.IsZero() {
		wait = max(min(wait, time.Until(cl.limit)), 0)
	}
	return wait
}

// abort ends a request that the caller gave up on: it sends ABORT_REQUEST
// if the request began, waits up to AbortWait for END_REQUEST (never past
// the caller's deadline), and closes the connection if none came and no
// other request is active on it.
func (c *Conn) abort(cl *call, resp *Response, out outcome, kind error, why string, cause error) (*Response, outcome, error) {
	detail := why
	wait := c.abortWait(cl)
	if cl.began && !cl.isFinished() {
		abortErr := c.writeAbort(cl, wait)
		switch {
		case abortErr != nil:
			detail += "; ABORT_REQUEST not sent"
		case wait > 0:
			t := time.NewTimer(wait)
		wait:
			for !cl.isFinished() {
				select {
				case <-cl.done: // a token may be stale (see call.done)
				case <-t.C:
					break wait
				}
			}
			t.Stop()
			detail += "; ABORT_REQUEST sent"
		default:
			detail += "; ABORT_REQUEST sent"
		}
	}
	c.mu.Lock()
	ended := cl.finished && cl.err == nil
	closeConn := false
	if !cl.finished {
		if !cl.began {
			// Nothing went out: the id is simply free again.
			c.freeID(cl.id)
		} else {
			cl.reserved = true
			closeConn = true
			for _, o := range c.calls.all() {
				if o != cl && !o.finished && !o.reserved {
					closeConn = false
					break
				}
			}
		}
	}
	c.mu.Unlock()
	switch {
	case ended:
		detail += "; END_REQUEST received"
	case closeConn:
		detail += fmt.Sprintf("; no END_REQUEST within %v, connection closed", roundWait(wait))
		c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf(
			"closed by the client: request %d got no END_REQUEST within %v of ABORT_REQUEST", cl.id, roundWait(wait))})
	case cl.began && !cl.isFinished():
		detail += fmt.Sprintf("; no END_REQUEST within %v, request id %d reserved until it comes", roundWait(wait), cl.id)
	}
	c.detach(cl)
	out.records = cl.records
	resp.Timing.End = time.Since(cl.start)
	switch {
	case errors.Is(cause, context.DeadlineExceeded):
		// The words say it ("the time limit passed"); the context's own
		// ("context deadline exceeded") would say it again, less clearly.
		return resp, out, &quietError{msg: fmt.Sprintf("fcgi: request %d on %s: %v: %s", cl.id, c.where, kind, detail),
			errs: []error{kind, cause}}
	case cause != nil:
		return resp, out, fmt.Errorf("fcgi: request %d on %s: %w: %s: %w", cl.id, c.where, kind, detail, cause)
	}
	return resp, out, fmt.Errorf("fcgi: request %d on %s: %w: %s", cl.id, c.where, kind, detail)
}

// ctxWhy says why a request whose context ended gave up, while doing what.
func ctxWhy(err error, while string) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "the time limit passed while " + while
	}
	return "cancelled while " + while
}

// roundWait rounds a wait for messages: a cut one (see Conn.abortWait) is
// not a round number.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}

// writeAbort sends ABORT_REQUEST for cl, bounded by wait (the wait for its
// END_REQUEST), or when there is none by the caller's deadline, or else by
// IdleTimeout.
func (c *Conn) writeAbort(cl *call, wait time.Duration) error {
	if wait <= 0 && !cl.limit.IsZero() {
		wait = max(time.Until(cl.limit), time.Millisecond)
	}
	if wait <= 0 {
		wait = c.opts.idleTimeout()
	}
	ctx := context.Background()
	if wait > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	if err := c.lockWrite(ctx, cl); err != nil {
		return err
	}
	err := c.w.WriteAbortRequest(cl.id)
	c.unlockWrite()
	if err != nil {
		c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf("writing ABORT_REQUEST of request %d", cl.id), cause: err})
	}
	return err
}

// detach stops all delivery to cl's writers and traces; after it, the
// reading goroutine no longer touches cl's Response.
//
// Once the connection died, it first waits for the reading goroutine to
// end: that goroutine reports what arrived of an unfinished record to the
// requests the connection served (see readFailed), and those bytes belong
// in cl's Trace before Do returns. It ends promptly, the connection being
// closed.
func (c *Conn) detach(cl *call) {
	if c.dead.Load() {
		<-c.readDone
	}
	cl.mu.Lock()
	cl.detached = true
	cl.mu.Unlock()
}

// result builds Do's answer once cl finished.
func (c *Conn) result(cl *call, resp *Response, out outcome) (*Response, outcome, error) {
	c.detach(cl)
	out.records = cl.records
	resp.Timing.End = time.Since(cl.start)
	f := cl.err // set before cl was finished
	switch {
	case f != nil:
		return resp, out, fmt.Errorf("fcgi: request %d on %s, before END_REQUEST: %w", cl.id, c.where, f)
	case resp.ProtocolStatus != StatusRequestComplete:
		return resp, out, fmt.Errorf("fcgi: request %d on %s: %w", cl.id, c.where,
			&EndRequestError{AppStatus: resp.AppStatus, ProtocolStatus: resp.ProtocolStatus})
	case cl.stdoutErr != nil || cl.stderrErr != nil:
		return resp, out, fmt.Errorf("fcgi: request %d on %s: %w", cl.id, c.where, errors.Join(cl.stdoutErr, cl.stderrErr))
	}
	return resp, out, nil
}
