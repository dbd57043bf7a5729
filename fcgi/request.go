// Request and Response: what a client sends and gets back; Options: how each
// connection behaves.

package fcgi

import (
	"fmt"
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
	// Stdin is sent on the STDIN stream in records of at most 65535 bytes
	// (see Framing), then the empty record that closes the stream. It may
	// be nil (an empty STDIN stream is still sent). Reading it is not
	// interrupted by the context: a Stdin that blocks holds the request.
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
	// Framing says how PARAMS and STDIN are cut into records and padded;
	// the zero value is the default framing (see Framing).
	Framing Framing
	// Trace sees this request's records, sent and received, plus stray
	// records (Event.Err wraps ErrUnknownRequestID) that arrive on its
	// connection while it is active. See Options.Trace for where it runs.
	Trace Trace
}

// Framing says how a request's PARAMS and STDIN streams are cut into
// records, and whether those records are padded. Web servers differ here:
// nginx sends all params in one record and the body in records of 32 KiB,
// Apache params in records of up to 16 KiB and the body in 8 KiB records,
// neither padded; some backends behave differently depending on it.
//
// The zero value is the default framing: PARAMS in records of up to 65535
// bytes, STDIN in one record per read of Stdin (up to 65535 bytes), each
// padded to a multiple of 8 bytes as spec §3.3 recommends. Whatever the
// framing, each stream ends with one empty record without padding, and
// DATA keeps the default framing.
type Framing struct {
	// ParamsMax is the most content one PARAMS record carries, 1 to 65535;
	// 0 means 65535. Records break between pairs (php-fpm parses each
	// PARAMS record on its own); only a pair longer than ParamsMax is
	// split, as spec §3.4 allows.
	ParamsMax int `json:"params_max,omitempty"`
	// StdinMax, when set (1 to 65535), cuts the body into records of
	// exactly StdinMax bytes, the last one shorter, however Stdin's reads
	// fall: reads are gathered until a record is full. 0 means one record
	// per read of Stdin, each at most 65535 bytes.
	StdinMax int `json:"stdin_max,omitempty"`
	// ParamsUnpadded and StdinUnpadded send the records of that stream
	// without padding.
	ParamsUnpadded bool `json:"params_unpadded,omitempty"`
	StdinUnpadded  bool `json:"stdin_unpadded,omitempty"`
}

// check reports a Framing whose sizes are out of range.
func (f Framing) check() error {
	if f.ParamsMax < 0 || f.ParamsMax > MaxContent {
		return fmt.Errorf("fcgi: Framing.ParamsMax %d is not between 0 and %d", f.ParamsMax, MaxContent)
	}
	if f.StdinMax < 0 || f.StdinMax > MaxContent {
		return fmt.Errorf("fcgi: Framing.StdinMax %d is not between 0 and %d", f.StdinMax, MaxContent)
	}
	return nil
}

// paramsMax returns the most content of a PARAMS record.
func (f Framing) paramsMax() int {
	if f.ParamsMax == 0 {
		return MaxContent
	}
	return f.ParamsMax
}

// stdinMax returns the most content of a STDIN record.
func (f Framing) stdinMax() int {
	if f.StdinMax == 0 {
		return MaxContent
	}
	return f.StdinMax
}

// String describes f as the window and the command line show it, e.g.
// "PARAMS ≤65535 B padded to 8, STDIN 32768 B records padded to 8".
func (f Framing) String() string { return f.ParamsString() + "; " + f.StdinString() }

// ParamsString describes the PARAMS framing ("PARAMS ≤16384 B records,
// unpadded").
func (f Framing) ParamsString() string {
	return fmt.Sprintf("PARAMS ≤%d B records, %s", f.paramsMax(), padWords(f.ParamsUnpadded))
}

// StdinString describes the STDIN framing ("STDIN 8192 B records,
// unpadded").
func (f Framing) StdinString() string {
	if f.StdinMax > 0 {
		return fmt.Sprintf("STDIN %d B records, %s", f.StdinMax, padWords(f.StdinUnpadded))
	}
	return fmt.Sprintf("STDIN one record per read (≤%d B), %s", MaxContent, padWords(f.StdinUnpadded))
}

func padWords(unpadded bool) string {
	if unpadded {
		return "unpadded"
	}
	return "padded to 8"
}

// padding returns the padding of a record of type t with n content bytes
// under f: none for an empty record or an unpadded stream.
func (f Framing) padding(t RecordType, n int) uint8 {
	switch {
	case t == TypeParams && f.ParamsUnpadded, t == TypeStdin && f.StdinUnpadded:
		return 0
	}
	return PaddingFor(n)
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
