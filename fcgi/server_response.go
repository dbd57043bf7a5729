// Server, output: the ResponseWriter that buffers a handler's STDOUT and
// STDERR and ends its request, and Misbehave, the escape hatch for deliberate
// violations.

package fcgi

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// ResponseWriter writes one request's response. Write and Stderr buffer up
// to 65535 bytes per stream; a full buffer, Flush, a write to the other
// stream, Misbehave and the end of the request send what is buffered, so
// records go out in the order the handler wrote them.
//
// When the handler returns without End, the ResponseWriter flushes, writes
// the empty STDOUT record (always) and the empty STDERR record (if stderr
// was written to), then END_REQUEST with the app status and
// REQUEST_COMPLETE. Its methods are safe for concurrent use.
type ResponseWriter struct {
	c   *serverConn
	req *serverRequest

	mu         sync.Mutex
	pending    []byte     // buffered content of stream pendType
	pendType   RecordType // TypeStdout or TypeStderr
	stderrUsed bool
	appStatus  uint32
	ended      bool
}

// Write writes p to STDOUT. p is not kept: what is not sent before Write
// returns is copied into the buffer.
func (w *ResponseWriter) Write(p []byte) (int, error) {
	return w.writeStream(TypeStdout, p)
}

// Stderr returns a writer to the request's STDERR stream.
func (w *ResponseWriter) Stderr() io.Writer { return stderrWriter{w} }

type stderrWriter struct{ w *ResponseWriter }

func (s stderrWriter) Write(p []byte) (int, error) { return s.w.writeStream(TypeStderr, p) }

// Flush sends what is buffered.
func (w *ResponseWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return w.endedErr()
	}
	return w.flushLocked()
}

// SetAppStatus sets the appStatus of the END_REQUEST written when the
// handler returns (default 0).
func (w *ResponseWriter) SetAppStatus(s uint32) {
	w.mu.Lock()
	w.appStatus = s
	w.mu.Unlock()
}

// End ends the request now: it sends what is buffered and END_REQUEST with
// appStatus and status, without closing STDOUT or STDERR with empty records
// (as php-fpm does; write them with Misbehave first if wanted). Later
// writes to the streams fail. If the request did not ask for KEEP_CONN the
// connection is then closed.
func (w *ResponseWriter) End(appStatus uint32, status ProtocolStatus) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return w.endedErr()
	}
	w.ended = true
	err := w.c.end(w.req, appStatus, status, ending{t: w.pendType, pending: w.pending})
	w.pending = w.pending[:0]
	return err
}

// ErrDropConn, returned by the function given to ResponseWriter.Misbehave,
// drops the connection.
var ErrDropConn = errors.New("fcgi: server: connection dropped on purpose")

// Misbehave is the escape hatch for deliberate protocol violations. It
// exists to test how clients cope with a broken application (the demo
// backend's /misbehave/ routes use it); a handler meant to answer correctly
// never calls it.
//
// It sends what is buffered, then calls fn with the connection's Writer,
// whose AllowIllegalWrites is set, while no other request of the connection
// writes: fn may write any record for any request id, closing a stream or
// not, with a header that lies, before or after End. A failed write closes
// the connection. When fn returns ErrDropConn the connection is closed at
// once, as if the application died: no END_REQUEST follows for this request
// or the others on the connection, whose contexts are cancelled; Misbehave
// then returns nil. The Writer is fn's only while fn runs.
func (w *ResponseWriter) Misbehave(fn func(*Writer) error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.flushLocked(); err != nil {
		return err
	}
	drop := false
	err := w.c.write(func(wr *Writer) error {
		wr.AllowIllegalWrites = true
		err := fn(wr)
		wr.AllowIllegalWrites = false
		if errors.Is(err, ErrDropConn) {
			drop = true
			return wr.flush() // nothing fn wrote is left behind
		}
		return err
	})
	if err == nil && drop {
		w.c.close(errConnLost)
	}
	return err
}

func (w *ResponseWriter) endedErr() error {
	return fmt.Errorf("fcgi: server: request %d already ended", w.req.id)
}

func (w *ResponseWriter) writeStream(t RecordType, p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return 0, w.endedErr()
	}
	if len(p) == 0 {
		return 0, nil
	}
	if t == TypeStderr {
		w.stderrUsed = true
	}
	if len(w.pending) > 0 && w.pendType != t {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	w.pendType = t
	n := 0
	for n < len(p) {
		if len(w.pending) == 0 && len(p)-n >= MaxContent {
			// A whole record straight from p.
			chunk := p[n : n+MaxContent]
			if err := w.c.write(func(wr *Writer) error { return wr.WriteRecord(t, w.req.id, chunk) }); err != nil {
				return n, err
			}
			n += MaxContent
			continue
		}
		k := min(len(p)-n, MaxContent-len(w.pending))
		w.pending = append(w.pending, p[n:n+k]...)
		n += k
		if len(w.pending) == MaxContent {
			if err := w.flushLocked(); err != nil {
				return n - k, err
			}
		}
	}
	return n, nil
}

func (w *ResponseWriter) flushLocked() error {
	if len(w.pending) == 0 {
		return nil
	}
	t, p := w.pendType, w.pending
	w.pending = w.pending[:0]
	return w.c.write(func(wr *Writer) error { return wr.WriteStream(t, w.req.id, p) })
}

// finish ends the request when the handler returns, unless End did.
func (w *ResponseWriter) finish() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return
	}
	w.ended = true
	// What is buffered, the empty records and END_REQUEST go out in one
	// write. A failed write closes the connection; end still releases
	// the request.
	w.c.end(w.req, w.appStatus, StatusRequestComplete, ending{t: w.pendType, pending: w.pending,
		closeStdout: true, closeStderr: w.stderrUsed})
	w.pending = w.pending[:0]
}
