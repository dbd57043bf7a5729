// Conn, write side: a request's records go out under the write lock, bounded
// by deadlines that a cancelled context moves into the past.

package fcgi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Internal results of send.
var errCancelled = errors.New("cancelled")

// stdinError: reading the request's Stdin or Data failed.
type stdinError struct {
	t   RecordType
	err error
}

func (e *stdinError) Error() string { return "reading " + e.t.String() + ": " + e.err.Error() }

// send writes the request's records. It stops early, returning nil, when the
// request finished meanwhile (END_REQUEST or a dead connection). It returns
// errCancelled when the context ended with the connection still in step, a
// *stdinError when Stdin or Data failed, or a write error after which the
// connection was failed.
//
// The head of the request (BEGIN_REQUEST, PARAMS, the empty PARAMS, and
// when there is no body the empty STDIN, or a small in-memory body whole)
// goes out in one write.
func (c *Conn) send(ctx context.Context, cl *call) error {
	req := cl.req
	role := req.Role
	if role == 0 {
		role = RoleResponder
	}
	var flags Flags
	if req.KeepConn {
		flags = FlagKeepConn
	}
	withData := req.Data != nil || role == RoleFilter
	body, off, inline := inlineBody(req.Stdin)
	if err := c.lockWrite(ctx, cl); err != nil {
		return err
	}
	w := c.w
	start := w.offset()
	w.hold()
	err := w.WriteBeginRequest(cl.id, role, flags)
	if err == nil {
		err = w.WriteParamsFramed(cl.id, req.Params, req.Framing)
	}
	if err == nil && inline >= 0 {
		if body != nil {
			if err = w.appendFrom(cl.id, body, off, inline, req.Framing); err != nil {
				var we *writeError
				if !errors.As(err, &we) {
					err = &stdinError{t: TypeStdin, err: err}
				}
			}
		}
		if err == nil {
			err = w.CloseStream(TypeStdin, cl.id)
		}
		if err == nil && withData && req.Data == nil {
			err = w.CloseStream(TypeData, cl.id)
			withData = false
		}
	}
	if err != nil {
		w.drop()
	} else {
		err = w.endHold()
	}
	written := max(w.offset()-start, 0)
	c.unlockWrite()
	cl.wrote = written > 0
	cl.began = written >= HeaderLen+beginRequestLen
	if inline > 0 && cl.wrote {
		// The body was read in place; it counts as read once something of
		// the request went out (a Client may send it again otherwise).
		req.Stdin.(io.Seeker).Seek(0, io.SeekEnd)
	}
	if serr, ok := err.(*stdinError); ok {
		return serr
	}
	if pe, ok := err.(*pairTooLongError); ok {
		return pe // nothing of the request was written (see WriteParams)
	}
	if err != nil {
		return c.writeFailed(ctx, cl, err)
	}
	if inline < 0 {
		if err := c.sendStream(ctx, cl, TypeStdin, req.Stdin); err != nil {
			return err
		}
	}
	if withData {
		return c.sendStream(ctx, cl, TypeData, req.Data)
	}
	return nil
}

// maxInlineBody is the largest in-memory body sent with the request's head.
const maxInlineBody = 16 << 10

// inlineBody returns, when r is an in-memory reader whose unread bytes go
// with the request's head, where they are (body at off) and how many (nil
// counts as empty); else n is -1. They are read without moving r, so that
// a head that could not be written leaves the body unread.
func inlineBody(r io.Reader) (body io.ReaderAt, off int64, n int) {
	switch r := r.(type) {
	case nil:
		return nil, 0, 0
	case *bytes.Reader:
		if n := r.Len(); n <= maxInlineBody {
			return r, r.Size() - int64(n), n
		}
	case *strings.Reader:
		if n := r.Len(); n <= maxInlineBody {
			return r, r.Size() - int64(n), n
		}
	}
	return nil, 0, -1
}

// sendStream writes r as a stream of type t, closed by an empty record.
// An io.WriterTo (a *bytes.Reader, say) hands over its bytes and they are
// framed without a copy; anything else is read straight into a record's
// place in a buffer.
func (c *Conn) sendStream(ctx context.Context, cl *call, t RecordType, r io.Reader) error {
	if r != nil {
		sw := streamWriter{c: c, ctx: ctx, cl: cl, t: t}
		if t == TypeStdin {
			sw.f = cl.req.Framing
		}
		var err error
		if wt, ok := r.(io.WriterTo); ok {
			_, err = wt.WriteTo(&sw)
		} else {
			err = sw.readFrom(r)
		}
		if sw.buf != nil {
			*sw.buf = (*sw.buf)[:0]
			c.bufs.Put(sw.buf)
		}
		switch {
		case sw.err == errRequestDone:
			return nil
		case sw.err != nil:
			return sw.err
		case err != nil:
			return &stdinError{t: t, err: err}
		}
	}
	if cl.isFinished() {
		return nil
	}
	if err := c.lockWrite(ctx, cl); err != nil {
		return err
	}
	err := c.w.CloseStream(t, cl.id)
	c.unlockWrite()
	if err != nil {
		return c.writeFailed(ctx, cl, err)
	}
	return nil
}

// errRequestDone stops a Stdin's WriteTo when the request finished.
var errRequestDone = errors.New("fcgi: request finished while its body was being sent")

// streamWriter frames what it is given as records of one stream of a
// request, taking the write lock for each record, so that requests
// multiplexed on the connection take turns.
type streamWriter struct {
	c   *Conn
	ctx context.Context
	cl  *call
	t   RecordType
	f   Framing // the request's framing on STDIN, the default on DATA
	err error   // why writing stopped (errRequestDone, or from send's rules)
	buf *[]byte // framing buffer from c.bufs, for readFrom and WriteString
}

// Write sends p in records of at most 65535 bytes (the framing's size on
// STDIN), without copying large ones.
func (s *streamWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := min(len(p)-n, s.f.stdinMax())
		if err := s.record(func(w *Writer) error {
			return w.paddedRecord(s.t, s.cl.id, p[n:n+k], s.f.padding(s.t, k))
		}); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// WriteString sends str like Write, copying it once into a record's place.
func (s *streamWriter) WriteString(str string) (int, error) {
	b := s.buffer()
	n := 0
	for n < len(str) {
		k := min(len(str)-n, s.f.stdinMax())
		rec := append((*b)[:HeaderLen], str[n:n+k]...)
		if err := s.record(func(w *Writer) error { return w.writeFramed(s.t, s.cl.id, rec, s.f) }); err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// readFrom sends what r reads, each read landing where its record's content
// goes: one record per read, or, with a Framing.StdinMax, one record per
// StdinMax bytes gathered from as many reads as it takes. It returns r's
// error, other than io.EOF.
func (s *streamWriter) readFrom(r io.Reader) error {
	b := s.buffer()
	limit, gather := s.f.stdinMax(), s.f.StdinMax > 0
	for {
		if s.cl.isFinished() {
			s.err = errRequestDone
			return nil
		}
		rec := (*b)[:HeaderLen+limit]
		n, rerr := r.Read(rec[HeaderLen:])
		for gather && n < limit && rerr == nil {
			var m int
			m, rerr = r.Read(rec[HeaderLen+n:])
			n += m
		}
		if n > 0 {
			rec = rec[:HeaderLen+n]
			if err := s.record(func(w *Writer) error { return w.writeFramed(s.t, s.cl.id, rec, s.f) }); err != nil {
				return nil
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

func (s *streamWriter) buffer() *[]byte {
	if s.buf == nil {
		s.buf = s.c.bufs.Get().(*[]byte)
	}
	return s.buf
}

// record writes one record with fn under the write lock; an error stops
// the stream and is kept in s.err.
func (s *streamWriter) record(fn func(w *Writer) error) error {
	if s.err != nil {
		return s.err
	}
	if s.cl.isFinished() {
		s.err = errRequestDone
		return s.err
	}
	if err := s.c.lockWrite(s.ctx, s.cl); err != nil {
		s.err = err
		return err
	}
	err := fn(s.c.w)
	s.c.unlockWrite()
	if err != nil {
		s.err = s.c.writeFailed(s.ctx, s.cl, err)
		if s.err == nil {
			s.err = err
		}
		return s.err
	}
	return nil
}

// lockWrite takes the write lock for owner (a *call or *mgmtWait) and arms
// the write deadline: IdleTimeout from now, or the context's deadline if
// sooner. It fails with errCancelled if ctx is done and with the
// connection's error if it is dead. Nothing is left in the Writer between
// two write sections: each writes its records before it unlocks.
func (c *Conn) lockWrite(ctx context.Context, owner any) error {
	c.wmu.Lock()
	if c.dead.Load() {
		c.wmu.Unlock()
		return errConnDead
	}
	var ctxDeadline time.Time
	if d, ok := ctx.Deadline(); ok {
		ctxDeadline = d
	}
	// Arm the deadline before publishing the owner, so that interrupt's
	// deadline in the past cannot be overwritten.
	c.armWrite(ctxDeadline)
	if ctx.Done() != nil {
		c.wsMu.Lock()
		c.writing = owner
		c.wsMu.Unlock()
		c.published = true
	}
	if ctx.Err() != nil {
		c.unlockWrite()
		return errCancelled
	}
	c.wcall, _ = owner.(*call)
	if c.opts.Trace != nil || c.wcall != nil && c.wcall.req.Trace != nil {
		c.w.Trace = c.sentTrace
	} else {
		c.w.Trace = nil
	}
	return nil
}

var errConnDead = errors.New("connection is dead")

// unlockWrite ends a write section.
func (c *Conn) unlockWrite() {
	c.unpublish()
	c.wcall = nil
	c.wmu.Unlock()
}

// unpublish ends what lockWrite published for interrupt; wmu is held.
func (c *Conn) unpublish() {
	if c.published {
		c.wsMu.Lock()
		c.writing = nil
		c.wsMu.Unlock()
		c.published = false
	}
}

// interrupt unblocks a write of owner's that the context cancelled.
func (c *Conn) interrupt(owner any) {
	c.wsMu.Lock()
	if c.writing == owner {
		c.broken.Store(true)
		c.nc.SetWriteDeadline(time.Unix(1, 0))
	}
	c.wsMu.Unlock()
}

// armWrite sets the write deadline for the records written under the lock
// (held): IdleTimeout from now, or ctxDeadline if set and sooner.
//
// Setting a deadline costs a runtime timer update; so an idle deadline
// armed less than IdleTimeout/8 ago is kept: a write may then stall for up
// to 9/8 of IdleTimeout.
func (c *Conn) armWrite(ctxDeadline time.Time) {
	var deadline time.Time
	idle := c.opts.idleTimeout()
	if idle > 0 {
		now := c.now()
		deadline = now.Add(idle)
		if !ctxDeadline.IsZero() && ctxDeadline.Before(deadline) {
			deadline = ctxDeadline
		} else {
			if !c.broken.Load() && !c.armed.Before(deadline) && c.armed.Sub(deadline) <= idle/8 {
				return
			}
			deadline = deadline.Add(idle / 8)
		}
	} else if !ctxDeadline.IsZero() {
		deadline = ctxDeadline
	}
	if c.broken.Swap(false) || !deadline.Equal(c.armed) {
		c.armed = deadline
		c.nc.SetWriteDeadline(deadline)
	}
}

// writeFailed handles a failed write of cl's. A write cut by the context
// before any byte of the record went out leaves the connection in step
// (errCancelled); anything else kills the connection.
func (c *Conn) writeFailed(ctx context.Context, cl *call, err error) error {
	if errors.Is(err, errConnDead) || errors.Is(err, errCancelled) {
		return err
	}
	var we *writeError
	written := 0
	if errors.As(err, &we) {
		written = we.Written
	}
	// The write deadline is the context's when that is sooner, and the
	// socket may report it a moment before the context's own timer fires.
	ctxDone := ctx.Err() != nil
	if dl, ok := ctx.Deadline(); ok && !ctxDone && errors.Is(err, os.ErrDeadlineExceeded) {
		ctxDone = !time.Now().Before(dl)
	}
	cancelled := ctxDone
	if cancelled && written == 0 {
		return errCancelled
	}
	f := &connFailure{kind: ErrConnClosed, what: fmt.Sprintf("writing a record of request %d", cl.id), cause: err}
	switch {
	case cancelled:
		f.what = fmt.Sprintf("closed by the client: request %d was cancelled in the middle of a record", cl.id)
	case errors.Is(err, os.ErrDeadlineExceeded):
		f.kind = &TimeoutError{Limit: LimitIdle, Phase: PhaseSending, After: c.opts.idleTimeout()}
		f.what = fmt.Sprintf("writing a record of request %d stalled for %v", cl.id, c.opts.idleTimeout())
	}
	c.fail(f)
	if cancelled {
		return errCancelled
	}
	return err
}

// traceSent reports a record the Writer is about to write to
// Options.Trace and to the Trace of the request being written. It runs
// under wmu.
func (c *Conn) traceSent(ev Event) {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	if c.opts.Trace != nil {
		c.opts.Trace(ev)
	}
	if c.wcall != nil && c.wcall.req.Trace != nil {
		c.wcall.req.Trace(ev)
	}
}
