// Request and Response: what a client sends and gets back; Options: how each
// connection behaves.

package fcgi

import (
	"io"
	"time"
)

// Defaults for the zero fields of Options.
const (
	defaultDialTimeout = 5 * time.Second
	defaultIdleTimeout = 30 * time.Second
	defaultAbortWait   = 2 * time.Second
)

// Request is one FastCGI request as the client sends it.
type Request struct {
	// ID is the request id; 0 picks the lowest id >= 1 that is free on
	// the connection.
	ID uint16
	// Role is the BEGIN_REQUEST role; 0 means RoleResponder.
	Role Role
	// KeepConn sets FCGI_KEEP_CONN: the application keeps the connection
	// open after the request. A Client pools such connections.
	KeepConn bool
	// Params are sent in order, duplicates kept.
	Params []Pair
	// Stdin is sent on the STDIN stream in records of at most 65535 bytes,
	// then the empty record that closes the stream. It may be nil (an empty
	// STDIN stream is still sent). Reading it is not interrupted by the
	// context: a Stdin that blocks holds the request.
	Stdin io.Reader
	// Data is sent on the DATA stream after STDIN (FILTER role). When nil,
	// a FILTER request gets an empty DATA stream and other roles none.
	Data io.Reader
	// Stdout receives the STDOUT content as it arrives; nil discards it.
	// Stderr likewise receives STDERR. They are written from the
	// connection's reading goroutine, never after Do returns, and must not
	// block for long: every request on the connection waits meanwhile. When
	// one fails, the rest of its stream is counted but discarded, and Do
	// returns the write error (with the Response) after END_REQUEST.
	Stdout io.Writer
	Stderr io.Writer
	// Trace sees this request's records, sent and received, plus stray
	// records (Event.Err wraps ErrUnknownRequestID) that arrive on its
	// connection while it is active. See Options.Trace for where it runs.
	Trace Trace
}

// Response is what came back for a request. Do returns it, with what was
// captured so far, together with any error once the connection existed.
type Response struct {
	ID             uint16
	AppStatus      uint32
	ProtocolStatus ProtocolStatus
	// Ended tells whether END_REQUEST arrived.
	Ended bool
	// StdoutBytes and StderrBytes count the content received on the two
	// streams, whether or not a writer took it.
	StdoutBytes, StderrBytes int64
	Conn                     ConnInfo
	Timing                   Timing
}

// ConnInfo describes the connection a request went over.
type ConnInfo struct {
	Network, Addr string
	// Reused is true when the connection had carried an earlier request.
	Reused    bool
	LocalAddr string
}

// Timing holds the milestones of a request as offsets from Start; an offset
// is 0 when its milestone was not reached.
type Timing struct {
	Start time.Time
	// Connected: the connection was ready (dialled, or taken from the
	// pool or given to Conn.Do).
	Connected time.Duration
	// FirstByte: the first record for the request arrived.
	FirstByte time.Duration
	// End: Do finished.
	End time.Duration
}

// Options configure a connection: a Conn, and each connection of a Client.
// The zero value uses the defaults.
type Options struct {
	// DialTimeout bounds the dial; 0 means 5 s.
	DialTimeout time.Duration
	// IdleTimeout is the longest silence allowed while waiting for the
	// next record of an active request, and the longest a write of one
	// record may stall (up to an eighth more: the write deadline is
	// renewed lazily); 0 means 30 s, < 0 none.
	IdleTimeout time.Duration
	// AbortWait is how long a cancelled request waits for END_REQUEST
	// after ABORT_REQUEST; 0 means 2 s, < 0 no wait. The wait never goes
	// past the context's deadline: a request with a deadline gives up early
	// enough for it to fit (see Conn.Do).
	AbortWait time.Duration
	// Trace sees every record on the connection, sent and received, in
	// addition to Request.Trace. Sent records are traced on the goroutine
	// calling Do, received ones on the connection's reading goroutine; a
	// Conn (and a Client for all its connections) never makes two trace
	// calls at once. A Trace must not call back into the Conn or Client.
	Trace Trace
}

func (o Options) dialTimeout() time.Duration {
	if o.DialTimeout == 0 {
		return defaultDialTimeout
	}
	return o.DialTimeout
}

func (o Options) idleTimeout() time.Duration {
	if o.IdleTimeout == 0 {
		return defaultIdleTimeout
	}
	return max(o.IdleTimeout, 0)
}

func (o Options) abortWait() time.Duration {
	if o.AbortWait == 0 {
		return defaultAbortWait
	}
	return max(o.AbortWait, 0)
}
