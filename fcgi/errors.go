// Errors: the sentinels a client's caller branches on and the END_REQUEST error.

package fcgi

import (
	"errors"
	"fmt"
)

// Sentinel errors of the client. Every failure of Dial, Conn.Do,
// Conn.GetValues and the Client wraps exactly one of them (test with
// errors.Is) and says what failed and where.
var (
	// ErrConnect: the dial failed (refused, no such socket, bad address).
	ErrConnect = errors.New("cannot connect")
	// ErrTimeout: the dial timed out, the backend stayed silent for longer
	// than Options.IdleTimeout, or the context's deadline passed.
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
