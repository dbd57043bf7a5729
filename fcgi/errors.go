// Errors: the sentinels a client's caller branches on and the END_REQUEST error.

package fcgi

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the client. Every failure of Dial, Conn.Do,
// Conn.GetValues and the Client wraps exactly one of them (test with
// errors.Is) and says what failed and where.
var (
	// ErrConnect: the dial failed (refused, no such socket, bad address).
	ErrConnect = errors.New("cannot connect")
	// ErrTimeout: the dial timed out, the backend stayed silent for longer
	// than Options.IdleTimeout, or the context's deadline passed. Which
	// one: see TimeoutError.
	ErrTimeout = errors.New("timeout")
	// ErrAborted: the request's context was cancelled; ABORT_REQUEST was
	// sent if the request had begun.
	ErrAborted = errors.New("request aborted")
	// ErrConnClosed: the connection was closed before END_REQUEST.
	ErrConnClosed = errors.New("connection closed")
	// ErrProtocol: the peer broke the protocol: bad version, malformed body,
	// a content length that lies so the stream ends inside a record, ...
	// The error also wraps the reader's *RecordError.
	ErrProtocol = errors.New("protocol error")
)

// ErrUnknownRequestID is the Event.Err of a received record whose request id
// is not active on the connection: a stray, reported to the traces and never
// delivered to a request.
var ErrUnknownRequestID = errors.New("record for a request id that is not active")

// EndRequestError is returned (wrapped) by Do when END_REQUEST carries a
// protocol status other than REQUEST_COMPLETE: CANT_MPX_CONN, OVERLOADED or
// UNKNOWN_ROLE. The Response is returned with it.
type EndRequestError struct {
	AppStatus      uint32
	ProtocolStatus ProtocolStatus
}

func (e *EndRequestError) Error() string {
	return fmt.Sprintf("END_REQUEST with protocol status %s (app status %d)", e.ProtocolStatus, e.AppStatus)
}

// TimeoutError says which of the client's time limits ended a request, and
// where the request was then. It stands where ErrTimeout stands in the
// error of Dial, Conn.Do, Client.Do and GetValues: its Error is ErrTimeout's text and
// it unwraps to ErrTimeout, so the error's text is that of a plain
// ErrTimeout and errors.Is(err, ErrTimeout) holds. Test with errors.As.
//
// A stalled write of the records of several requests sent together
// reports a plain ErrTimeout.
type TimeoutError struct {
	Limit Limit
	Phase Phase
	// After is the limit that passed for LimitDial and LimitIdle (the
	// effective Options.DialTimeout or Options.IdleTimeout), and for
	// LimitDeadline how long the call had run when it gave up: at the
	// deadline, or just before it to wait for END_REQUEST (see Conn.Do).
	After time.Duration
}

func (e *TimeoutError) Error() string { return ErrTimeout.Error() }

// Unwrap returns ErrTimeout.
func (e *TimeoutError) Unwrap() error { return ErrTimeout }

// Limit is a time limit of the client, named after what its user sets.
type Limit uint8

const (
	LimitDial     Limit = iota + 1 // Options.DialTimeout
	LimitIdle                      // Options.IdleTimeout: no record came, or a write stalled
	LimitDeadline                  // the context's deadline
)

func (l Limit) String() string {
	switch l {
	case LimitDial:
		return "DialTimeout"
	case LimitIdle:
		return "IdleTimeout"
	case LimitDeadline:
		return "deadline"
	}
	return fmt.Sprintf("Limit(%d)", uint8(l))
}

// Phase is where a request was when its time limit passed.
type Phase uint8

const (
	PhaseDialing Phase = iota + 1 // connecting
	PhaseNotSent                  // no byte sent yet: waiting for a connection, or the deadline had passed on entry
	PhaseSending                  // writing the request's records
	PhaseWaiting                  // waiting for records up to END_REQUEST
)

func (p Phase) String() string {
	switch p {
	case PhaseDialing:
		return "dialing"
	case PhaseNotSent:
		return "not sent"
	case PhaseSending:
		return "sending"
	case PhaseWaiting:
		return "waiting"
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// quietError is an error whose text is written in the package's words and
// does not repeat the texts of the errors it wraps: "no GET_VALUES_RESULT
// within 10s (the deadline)" rather than "context deadline exceeded".
type quietError struct {
	msg  string
	errs []error
}

func (e *quietError) Error() string   { return e.msg }
func (e *quietError) Unwrap() []error { return e.errs }
