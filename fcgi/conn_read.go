// Conn, read side: one goroutine reads every record and hands it to its
// request, or reports it as a stray.

package fcgi

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// readLoop reads every record of the connection and hands it to the
// request it belongs to, until the connection fails.
func (c *Conn) readLoop() {
	defer close(c.readDone)
	for {
		rec, err := c.r.ReadRecord()
		if err != nil {
			c.readFailed(rec, err, time.Now())
			return
		}
		// When the bytes that completed the record were read: one clock
		// reading per read system call, shared by the records it brought.
		now := c.r.readAt
		if rec.RequestID == NullRequestID {
			c.management(rec, now)
		} else {
			c.dispatch(rec, now)
		}
		c.lastGVR = rec.RequestID == NullRequestID && rec.Type == TypeGetValuesResult && rec.ContentLength > 0
	}
}

// dispatch hands an application record to its request.
func (c *Conn) dispatch(rec *Record, now time.Time) {
	c.mu.Lock()
	cl := c.calls.get(rec.RequestID)
	if cl != nil && (cl.finished || cl.reserved) {
		if cl.reserved && rec.Type == TypeEndRequest {
			// The aborted request's late END_REQUEST frees its id.
			c.freeID(cl.id)
			cl.finish()
		}
		cl = nil
	}
	c.mu.Unlock()
	if cl == nil {
		c.traceStray(Event{Dir: Received, Time: now, Record: rec, Err: fmt.Errorf(
			"fcgi: record %d at byte %d: %s for request %d: %w",
			rec.Index, rec.Offset, rec.Type, rec.RequestID, ErrUnknownRequestID)})
		return
	}
	cl.last.Store(int64(now.Sub(cl.start)))

	var end *EndRequest
	cl.mu.Lock()
	if !cl.detached {
		cl.records++
		resp := cl.resp
		if !cl.firstByte {
			cl.firstByte = true
			resp.Timing.FirstByte = now.Sub(cl.start)
		}
		var evErr error
		switch rec.Type {
		case TypeStdout, TypeStderr, TypeEndRequest:
		default:
			evErr = fmt.Errorf("fcgi: record %d at byte %d: %w: unexpected %s record from the application for request %d",
				rec.Index, rec.Offset, ErrProtocol, rec.Type, rec.RequestID)
		}
		if c.opts.Trace != nil || cl.req.Trace != nil {
			c.traceCall(Event{Dir: Received, Time: now, Record: rec, Err: evErr}, cl)
		}
		switch rec.Type {
		case TypeStdout:
			cl.deliver(cl.req.Stdout, rec, &resp.StdoutBytes, &cl.stdoutErr)
		case TypeStderr:
			cl.deliver(cl.req.Stderr, rec, &resp.StderrBytes, &cl.stderrErr)
		case TypeEndRequest:
			end, _ = rec.Body.(*EndRequest)
			if end != nil {
				resp.Ended = true
				resp.AppStatus, resp.ProtocolStatus = end.AppStatus, end.ProtocolStatus
			}
		}
	} else if rec.Type == TypeEndRequest {
		end, _ = rec.Body.(*EndRequest)
	}
	cl.mu.Unlock()

	if end != nil {
		c.mu.Lock()
		if !cl.finished {
			cl.finish()
			if cl.sendDone && c.calls.get(cl.id) == cl {
				c.freeID(cl.id)
			}
		}
		c.mu.Unlock()
	}
}

// deliver writes a stream record's content to w and counts it; the first
// write error is kept in *werr and later content discarded. Called under
// cl.mu.
func (cl *call) deliver(w io.Writer, rec *Record, count *int64, werr *error) {
	content := rec.Content()
	*count += int64(len(content))
	if w == nil || len(content) == 0 || *werr != nil {
		return
	}
	if _, err := w.Write(content); err != nil {
		*werr = fmt.Errorf("writing %s content of record %d at byte %d: %w", rec.Type, rec.Index, rec.Offset, err)
	}
}

// traceCall reports ev to Options.Trace and to cl's Trace. Called under
// cl.mu with cl not detached.
func (c *Conn) traceCall(ev Event, cl *call) {
	c.traceMu.Lock()
	defer c.traceMu.Unlock()
	if c.opts.Trace != nil {
		c.opts.Trace(ev)
	}
	if cl.req.Trace != nil {
		cl.req.Trace(ev)
	}
}

// traceStray reports ev to Options.Trace and to the Trace of every active
// request on the connection.
func (c *Conn) traceStray(ev Event) {
	if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(ev)
		c.traceMu.Unlock()
	}
	var active []*call
	c.mu.Lock()
	for _, cl := range c.calls.all() {
		if !cl.finished && !cl.reserved && cl.req.Trace != nil {
			active = append(active, cl)
		}
	}
	c.mu.Unlock()
	for _, cl := range active {
		c.traceRequest(cl, ev)
	}
}

// traceRequest reports ev to the Trace of cl's request only, unless Do
// has already returned for it (detached).
func (c *Conn) traceRequest(cl *call, ev Event) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.detached {
		c.traceMu.Lock()
		cl.req.Trace(ev)
		c.traceMu.Unlock()
	}
}

// management handles a record with request id 0.
func (c *Conn) management(rec *Record, now time.Time) {
	var w *mgmtWait
	var evErr error
	// Go's net/http/fcgi closes its GET_VALUES_RESULT like a stream, with
	// an empty record: that one answers nothing.
	closing := rec.Type == TypeGetValuesResult && rec.ContentLength == 0 && c.lastGVR
	answers := rec.Type == TypeGetValuesResult && !closing
	if u, ok := rec.Body.(*UnknownType); ok && u.Type == TypeGetValues {
		answers = true
	}
	if answers {
		c.mu.Lock()
		if len(c.mgmt) > 0 {
			w = c.mgmt[0]
			c.mgmt = c.mgmt[1:]
		}
		c.mu.Unlock()
	}
	if w == nil && !closing {
		evErr = fmt.Errorf("fcgi: record %d at byte %d: unexpected %s management record", rec.Index, rec.Offset, rec.Type)
	}
	if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(Event{Dir: Received, Time: now, Record: rec, Err: evErr})
		c.traceMu.Unlock()
	}
	if w == nil {
		return
	}
	if p, ok := rec.Body.(*Pairs); ok && rec.Type == TypeGetValuesResult {
		w.pairs = p.List()
	} else {
		w.err = fmt.Errorf("fcgi: GET_VALUES on %s: the application answered UNKNOWN_TYPE (record %d at byte %d)",
			c.where, rec.Index, rec.Offset)
	}
	close(w.done)
}

// readFailed reports what the failed read captured to the traces and fails
// the connection: a record the reader could not decode or a stream cut
// inside a record is a protocol error, anything else a closed connection.
func (c *Conn) readFailed(rec *Record, err error, now time.Time) {
	if err == io.EOF {
		c.fail(&connFailure{kind: ErrConnClosed, byPeer: true, what: fmt.Sprintf(
			"closed by the application at byte %d, after %d records", c.r.offset(), c.r.index)})
		return
	}
	var re *RecordError
	if !errors.As(err, &re) {
		c.fail(&connFailure{kind: ErrConnClosed, what: "reading", cause: err})
		return
	}
	undecoded := rec != nil
	if rec == nil && len(re.Partial) > 0 {
		rec = &Record{Header: re.Header, Index: re.Index, Offset: re.Offset, Raw: re.Partial}
	}
	c.mu.Lock()
	dead := c.err
	c.mu.Unlock()
	if dead != nil {
		// The client closed the connection (an idle timeout, an abort
		// without answer, Close, a failed write) and cut this read: what
		// arrived of the unfinished record goes to the requests that were
		// waiting, whose Do waits for this report (see detach).
		if rec != nil {
			ev := Event{Dir: Received, Time: now, Record: rec, Err: err}
			if !undecoded && !errors.Is(err, ErrVersion) {
				ev.Err = unfinishedErr(re, dead)
			}
			c.traceLost(ev)
		}
		return
	}
	// A record the reader framed but could not decode, a header of
	// another version, and a stream cut inside a record, are the peer's
	// fault; any other read error means the connection broke.
	protocol := undecoded || errors.Is(err, ErrShortRecord) || errors.Is(err, ErrVersion)
	if rec != nil {
		c.traceFailed(Event{Dir: Received, Time: now, Record: rec, Err: err})
	}
	if protocol {
		c.fail(&connFailure{kind: ErrProtocol, what: "reading", cause: err})
		return
	}
	c.fail(&connFailure{kind: ErrConnClosed, what: fmt.Sprintf("reading at byte %d", re.Offset), cause: err})
}

// unfinishedErr describes the record re whose reading the death of the
// connection (f) cut. The stream ended inside it, so it wraps
// ErrShortRecord, and f's sentinel, which tells why.
func unfinishedErr(re *RecordError, f *connFailure) error {
	e := *re
	n := len(re.Partial)
	if n < HeaderLen {
		e.Err = fmt.Errorf("%w: header cut after %d of %d bytes: %w", ErrShortRecord, n, HeaderLen, f)
	} else {
		h := re.Header
		e.Err = fmt.Errorf("%w: %s record with content length %d and padding %d cut after %d of %d bytes: %w",
			ErrShortRecord, h.Type, h.ContentLength, h.PaddingLength, n, h.RecordLen(), f)
	}
	return &e
}

// traceLost reports ev, what arrived of a record after the connection
// died, to Options.Trace and to the Trace of the requests it served: the
// one its header names, or all when the header is incomplete.
func (c *Conn) traceLost(ev Event) {
	if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(ev)
		c.traceMu.Unlock()
	}
	c.mu.Lock()
	lost := c.lost
	c.mu.Unlock()
	whole := len(ev.Record.Raw) >= HeaderLen
	for _, cl := range lost {
		if cl.req.Trace == nil || whole && cl.id != ev.Record.RequestID {
			continue
		}
		c.traceRequest(cl, ev)
	}
}

// traceFailed reports a record that failed to read or decode: to its
// request if the header names an active one, else as a stray.
func (c *Conn) traceFailed(ev Event) {
	var cl *call
	if len(ev.Record.Raw) >= HeaderLen {
		c.mu.Lock()
		cl = c.calls.get(ev.Record.RequestID)
		if cl != nil && (cl.finished || cl.reserved) {
			cl = nil
		}
		c.mu.Unlock()
	}
	if cl == nil {
		c.traceStray(ev)
		return
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if !cl.detached {
		c.traceCall(ev, cl)
	} else if c.opts.Trace != nil {
		c.traceMu.Lock()
		c.opts.Trace(ev)
		c.traceMu.Unlock()
	}
}
