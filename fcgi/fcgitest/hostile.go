// Hostile: a FastCGI backend that misbehaves on purpose, for fault tests of clients.

package fcgitest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// streamChunk is the content of the records of a flood: the largest multiple of 8 that fits a
// record, so that no padding is needed.
const streamChunk = 65528

// Behaviour is what a Hostile backend does with one accepted connection. It runs on a goroutine
// of its own; the backend closes the connection when it returns. A Behaviour that waits must
// wait with HostileConn.Sleep or HostileConn.Hold, so that Hostile.Close can end it.
type Behaviour func(c *HostileConn)

// Hostile is a FastCGI backend for fault tests: a RawServer whose every connection is handed
// to a Behaviour. Ready-made behaviours below (Silent, CloseMidHeader, BadVersion,
// HugeStderr, ...) each break the protocol, or the connection, in one way; Respond is the
// well-behaved baseline. Records go out through an fcgi.Writer with AllowIllegalWrites set.
type Hostile struct {
	*RawServer

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu   sync.Mutex
	seen []Seen
}

// Seen is one record the backend read from a client.
type Seen struct {
	Conn          int // index of the connection, in accept order from 0
	Type          byte
	RequestID     uint16
	ContentLength int
}

// StartHostile listens on network ("tcp": 127.0.0.1 with a free port; "unix": a socket in a
// temporary directory) and runs b for every connection until the test ends (or Close).
func StartHostile(t testing.TB, network string, b Behaviour) *Hostile {
	t.Helper()
	h, err := ListenHostile(network, b)
	if err != nil {
		t.Fatalf("fcgitest: hostile backend: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// ListenHostile is StartHostile without a test: the caller must Close the backend.
func ListenHostile(network string, b Behaviour) (*Hostile, error) {
	l, err := listen(network)
	if err != nil {
		return nil, fmt.Errorf("hostile backend: %w", err)
	}
	h := &Hostile{}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.RawServer = serveRaw(l, func(nc net.Conn, index int) {
		w := fcgi.NewWriter(nc)
		w.AllowIllegalWrites = true
		b(&HostileConn{Conn: nc, Index: index, h: h, r: fcgi.NewReader(nc), w: w})
	})
	return h, nil
}

// Seen returns the records read from clients so far, in order.
func (h *Hostile) Seen() []Seen {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Seen(nil), h.seen...)
}

// SawType reports whether a record of type typ was read on any connection.
func (h *Hostile) SawType(typ byte) bool {
	for _, s := range h.Seen() {
		if s.Type == typ {
			return true
		}
	}
	return false
}

// WaitIdle waits up to timeout until no connection is open, and reports whether none is.
func (h *Hostile) WaitIdle(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for h.Open() > 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Close ends the behaviours' waits, stops accepting, closes every open connection, and waits
// for every behaviour to return. It is safe to call more than once.
func (h *Hostile) Close() error {
	h.cancel()
	return h.RawServer.Close()
}

// HostileConn is one connection of a Hostile backend, as its Behaviour sees it. The embedded
// net.Conn may be used directly; the methods below read and write records.
type HostileConn struct {
	net.Conn
	// Index numbers the connection in accept order, from 0.
	Index int

	h *Hostile
	r *fcgi.Reader
	w *fcgi.Writer // AllowIllegalWrites set
}

// HostileRequest is a request read by HostileConn.ReadRequest.
type HostileRequest struct {
	ID       uint16
	Role     fcgi.Role
	KeepConn bool
	Params   []fcgi.Pair
	Stdin    []byte
	Data     []byte
	// Aborted: ABORT_REQUEST arrived before the request was complete.
	Aborted bool
}

// Param returns the last value of the param name, "" if none.
func (r *HostileRequest) Param(name string) string {
	v := ""
	for _, p := range r.Params {
		if p.Name == name {
			v = p.Value
		}
	}
	return v
}

// Done is closed when the backend is closing: a behaviour that waits should stop.
func (c *HostileConn) Done() <-chan struct{} { return c.h.ctx.Done() }

// Sleep waits for d and reports true, or false as soon as the backend is closing.
func (c *HostileConn) Sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-c.h.ctx.Done():
		return false
	}
}

// readRecord reads one record and logs it in Hostile.Seen. A body that does not decode is no
// error here: the record is returned, its Body nil.
func (c *HostileConn) readRecord() (*fcgi.Record, error) {
	rec, err := c.r.ReadRecord()
	if rec == nil {
		return nil, err
	}
	if err != nil {
		rec.Body = nil
	}
	c.h.mu.Lock()
	c.h.seen = append(c.h.seen, Seen{Conn: c.Index, Type: byte(rec.Type), RequestID: rec.RequestID,
		ContentLength: int(rec.ContentLength)})
	c.h.mu.Unlock()
	return rec, nil
}

// ReadRequest reads the next request whole: BEGIN_REQUEST, PARAMS up to the empty record, STDIN
// up to the empty record and, for the FILTER role, DATA up to the empty record. It answers
// GET_VALUES with FCGI_MPXS_CONNS=0 on the way. It returns early, with Aborted set, when
// ABORT_REQUEST arrives, and io.EOF when the client closed the connection between requests.
func (c *HostileConn) ReadRequest() (*HostileRequest, error) {
	var r *HostileRequest
	paramsDone, stdinDone, dataDone := false, false, false
	for {
		rec, err := c.readRecord()
		if err != nil {
			if r != nil && err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return r, err
		}
		id, content := rec.RequestID, rec.Content()
		switch {
		case rec.Type == fcgi.TypeGetValues && id == fcgi.NullRequestID:
			if err := c.w.WriteGetValuesResult([]fcgi.Pair{{Name: fcgi.ValueMpxsConns, Value: "0"}}); err != nil {
				return r, err
			}
			continue
		case rec.Type == fcgi.TypeBeginRequest:
			b, ok := rec.Body.(*fcgi.BeginRequest)
			if !ok {
				return r, fmt.Errorf("hostile backend: BEGIN_REQUEST with %d content bytes", len(content))
			}
			r = &HostileRequest{ID: id, Role: b.Role, KeepConn: b.Flags&fcgi.FlagKeepConn != 0}
			continue
		case r == nil || id != r.ID:
			continue // not part of a request: ignored, as the spec says
		case rec.Type == fcgi.TypeAbortRequest:
			r.Aborted = true
			return r, nil
		case rec.Type == fcgi.TypeParams && !paramsDone:
			p, ok := rec.Body.(*fcgi.Pairs)
			if !ok {
				return r, fmt.Errorf("hostile backend: PARAMS record %d does not decode", rec.Index)
			}
			r.Params = append(r.Params, p.List()...)
			paramsDone = len(content) == 0
		case rec.Type == fcgi.TypeStdin && !stdinDone:
			stdinDone = len(content) == 0
			r.Stdin = append(r.Stdin, content...)
		case rec.Type == fcgi.TypeData && !dataDone:
			dataDone = len(content) == 0
			r.Data = append(r.Data, content...)
		}
		if paramsDone && stdinDone && (r.Role != fcgi.RoleFilter || dataDone) {
			return r, nil
		}
	}
}

// Hold reads and logs whatever the client sends, answering nothing, until the client closes the
// connection or the backend is closing.
func (c *HostileConn) Hold() {
	stop := context.AfterFunc(c.h.ctx, func() { c.Conn.Close() })
	defer stop()
	for {
		if _, err := c.readRecord(); err != nil {
			return
		}
	}
}

// WriteRaw writes b as it is.
func (c *HostileConn) WriteRaw(b []byte) error {
	_, err := c.Conn.Write(b)
	return err
}

// WriteRecord writes one version 1 record, padded to a multiple of 8.
func (c *HostileConn) WriteRecord(typ byte, id uint16, content []byte) error {
	return c.w.WriteRecord(fcgi.RecordType(typ), id, content)
}

// EndRequest writes END_REQUEST for id with the statuses.
func (c *HostileConn) EndRequest(id uint16, appStatus uint32, protocolStatus byte) error {
	return c.w.WriteEndRequest(id, appStatus, fcgi.ProtocolStatus(protocolStatus))
}

// encode returns the bytes records take on the wire, written by fn with an fcgi.Writer that
// allows illegal writes, for a behaviour to send in one write or to cut short.
func encode(fn func(w *fcgi.Writer) error) []byte {
	var b bytes.Buffer
	w := fcgi.NewWriter(&b)
	w.AllowIllegalWrites = true
	if err := fn(w); err != nil {
		panic(fmt.Sprintf("fcgitest: encoding into a buffer: %v", err)) // a bytes.Buffer does not fail
	}
	return b.Bytes()
}

// stdout returns a STDOUT record of p for request id.
func stdout(id uint16, p string) []byte {
	return encode(func(w *fcgi.Writer) error { return w.WriteRecord(fcgi.TypeStdout, id, []byte(p)) })
}

// lying returns a STDOUT record of p for request id whose header says version and claims
// claimed content bytes, with pad bytes of padding.
func lying(version uint8, id uint16, claimed int, p []byte, pad int) []byte {
	h := fcgi.Header{Version: version, Type: fcgi.TypeStdout, RequestID: id, ContentLength: uint16(claimed),
		PaddingLength: uint8(pad)}
	return encode(func(w *fcgi.Writer) error { return w.WriteRaw(h, p, make([]byte, pad)) })
}

// ending returns the empty STDOUT record and END_REQUEST REQUEST_COMPLETE of request id.
func ending(id uint16) []byte {
	return encode(func(w *fcgi.Writer) error {
		if err := w.CloseStream(fcgi.TypeStdout, id); err != nil {
			return err
		}
		return w.WriteEndRequest(id, 0, fcgi.StatusRequestComplete)
	})
}

// HostileHeaders is the CGI header block of every response of the ready-made behaviours.
const HostileHeaders = "Content-Type: text/plain\r\n\r\n"

// Response writes a complete, well-formed answer to id, in one write: body as a CGI response on
// STDOUT, the empty STDOUT record, END_REQUEST REQUEST_COMPLETE.
func (c *HostileConn) Response(id uint16, body string) error {
	return c.WriteRaw(append(stdout(id, HostileHeaders+body), ending(id)...))
}

// serveRequests reads requests and hands each to answer while the client asks to keep the
// connection (KEEP_CONN); it stops at the first error.
func serveRequests(c *HostileConn, answer func(r *HostileRequest) error) {
	for {
		r, err := c.ReadRequest()
		if err != nil || r.Aborted {
			return
		}
		if answer(r) != nil || !r.KeepConn {
			return
		}
	}
}

// Respond answers every request with body, honouring KEEP_CONN: the well-behaved baseline.
func Respond(body string) Behaviour {
	return func(c *HostileConn) {
		serveRequests(c, func(r *HostileRequest) error { return c.Response(r.ID, body) })
	}
}

// Answer answers every request with out as its STDOUT, header block included, cut into STDOUT
// records of the given content lengths and one for the rest, then END_REQUEST; it keeps the
// connection when asked (KEEP_CONN) unless closeAfter, when it closes the connection after each
// END_REQUEST as uwsgi and node-fastcgi do whatever KEEP_CONN says.
func Answer(out string, closeAfter bool, splits ...int) Behaviour {
	return func(c *HostileConn) {
		serveRequests(c, func(r *HostileRequest) error {
			var b []byte
			rest := out
			for _, n := range splits {
				b, rest = append(b, stdout(r.ID, rest[:n])...), rest[n:]
			}
			if err := c.WriteRaw(append(append(b, stdout(r.ID, rest)...), ending(r.ID)...)); err != nil || closeAfter {
				return errClosing
			}
			return nil
		})
	}
}

// errClosing ends serveRequests on purpose.
var errClosing = fmt.Errorf("fcgitest: closing after END_REQUEST")

// Silent reads the request and never answers; it reads on (an ABORT_REQUEST shows up in Seen)
// until the client closes the connection.
func Silent() Behaviour {
	return func(c *HostileConn) {
		if _, err := c.ReadRequest(); err != nil {
			return
		}
		c.Hold()
	}
}

// NeverRead accepts the connection and never reads from it, so a client writing a large body
// stalls once the socket buffers are full.
func NeverRead() Behaviour {
	return func(c *HostileConn) { <-c.Done() }
}

// CloseMidHeader reads the request, writes the first n (1 to 7) bytes of a STDOUT header and
// closes the connection.
func CloseMidHeader(n int) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteRaw(stdout(r.ID, HostileHeaders+"cut")[:min(max(n, 1), fcgi.HeaderLen-1)])
	}
}

// CloseMidRecord reads the request, writes a STDOUT record with the response headers, then a
// STDOUT record of which only sent of its 64 content bytes go out, and closes the connection.
func CloseMidRecord(sent int) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		full := stdout(r.ID, strings.Repeat("x", 64))
		c.WriteRaw(append(stdout(r.ID, HostileHeaders), full[:fcgi.HeaderLen+min(max(sent, 0), 63)]...))
	}
}

// CloseBeforeEnd reads the request, writes a complete response on STDOUT with its empty record,
// and closes the connection without END_REQUEST.
func CloseBeforeEnd(body string) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		c.WriteRaw(append(stdout(r.ID, HostileHeaders+body), stdout(r.ID, "")...))
	}
}

// WrongID answers every request on the request id next to it (id+1, or id-1 for 65535) — STDOUT
// and END_REQUEST — and then says nothing more, leaving the connection open.
func WrongID() Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		other := r.ID + 1
		if r.ID == 65535 {
			other = r.ID - 1
		}
		if c.Response(other, "for another request\n") != nil {
			return
		}
		c.Hold()
	}
}

// BadVersion reads the request and answers with a STDOUT record whose header says version v,
// followed by a well-formed response.
func BadVersion(v byte) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		p := []byte(HostileHeaders + "version " + strconv.Itoa(int(v)) + "\n")
		if c.WriteRaw(lying(v, r.ID, len(p), p, int(fcgi.PaddingFor(len(p))))) != nil ||
			c.Response(r.ID, "after the bad version\n") != nil {
			return
		}
		c.Hold()
	}
}

// LongerThanClaimed answers with a STDOUT record whose header claims claim content bytes while
// the whole response text follows, then END_REQUEST: the client frames the rest of the text as
// the next header. The connection stays open.
func LongerThanClaimed(claim int) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		p := []byte(HostileHeaders + "the header lied about this text\n")
		if c.WriteRaw(append(lying(fcgi.Version1, r.ID, min(claim, len(p)), p, 0), endRequest(r.ID)...)) != nil {
			return
		}
		c.Hold()
	}
}

// ShorterThanClaimed answers with a STDOUT record whose header claims claim content bytes but
// carries fewer, then END_REQUEST, and keeps the connection open: the client takes
// END_REQUEST for content and waits for bytes that never come.
func ShorterThanClaimed(claim int) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		p := []byte(HostileHeaders + "short\n")
		// The claim swallows END_REQUEST (16 bytes) and then some.
		if c.WriteRaw(append(lying(fcgi.Version1, r.ID, max(claim, len(p)+32), p, 0), endRequest(r.ID)...)) != nil {
			return
		}
		c.Hold()
	}
}

// endRequest returns END_REQUEST REQUEST_COMPLETE of request id.
func endRequest(id uint16) []byte {
	return encode(func(w *fcgi.Writer) error { return w.WriteEndRequest(id, 0, fcgi.StatusRequestComplete) })
}

// UnknownType answers with a record of type typ (not a FastCGI type when typ > 11) for the
// request, then a well-formed response.
func UnknownType(typ byte) Behaviour {
	return func(c *HostileConn) {
		serveRequests(c, func(r *HostileRequest) error {
			if err := c.WriteRecord(typ, r.ID, []byte("mystery!")); err != nil {
				return err
			}
			return c.Response(r.ID, "after a record of type "+strconv.Itoa(int(typ))+"\n")
		})
	}
}

// HugeStderr answers with n bytes of text on STDERR, in records of 65528 bytes, then a
// well-formed response whose body says how many bytes were sent.
func HugeStderr(n int64) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		chunk := []byte(strings.Repeat("hostile: stderr flood, a line of 64 bytes to fill the stream..\n", streamChunk/64+1))
		for left := n; left > 0; {
			k := int(min(left, streamChunk))
			if c.w.WriteRecord(fcgi.TypeStderr, r.ID, chunk[:k]) != nil {
				return
			}
			left -= int64(k)
		}
		c.Response(r.ID, fmt.Sprintf("wrote %d bytes to STDERR\n", n))
	}
}

// Dribble answers with a STDOUT record holding the response headers, then a STDOUT record of
// body (without padding) one byte every interval, then the empty STDOUT record and
// END_REQUEST at once. It stops when a write fails or the backend closes.
func Dribble(every time.Duration, body string) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil {
			return
		}
		if c.WriteRaw(stdout(r.ID, HostileHeaders)) != nil {
			return
		}
		for _, b := range lying(fcgi.Version1, r.ID, len(body), []byte(body), 0) {
			if !c.Sleep(every) || c.WriteRaw([]byte{b}) != nil {
				return
			}
		}
		c.WriteRaw(ending(r.ID))
	}
}

// EndWith answers every request with END_REQUEST carrying protocolStatus and app status 0, and
// nothing else; it honours KEEP_CONN.
func EndWith(protocolStatus byte) Behaviour {
	return func(c *HostileConn) {
		serveRequests(c, func(r *HostileRequest) error { return c.EndRequest(r.ID, 0, protocolStatus) })
	}
}

// CloseWhenIdle answers the first request of each connection with body, keeping the
// connection when asked (KEEP_CONN), then closes it after idle: what php-fpm does when a worker
// reaches pm.max_requests or the pool restarts while the client holds the connection idle.
func CloseWhenIdle(idle time.Duration, body string) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil || c.Response(r.ID, body) != nil || !r.KeepConn {
			return
		}
		c.Sleep(idle)
	}
}

// CloseOnNextRequest answers the first request of each connection with body, keeping the
// connection when asked; then it reads the next request whole and closes the connection without
// answering it: the race where php-fpm recycles a worker after the client wrote the next
// request on the idle connection.
func CloseOnNextRequest(body string) Behaviour {
	return func(c *HostileConn) {
		r, err := c.ReadRequest()
		if err != nil || c.Response(r.ID, body) != nil || !r.KeepConn {
			return
		}
		c.ReadRequest()
	}
}

// RefusedAddr returns an address on network ("tcp" or "unix") where nothing listens: a
// loopback port that was just free, or a unix socket file left behind by a listener that is
// gone (connecting to it is refused, as with a stopped php-fpm's stale socket).
func RefusedAddr(t testing.TB, network string) string {
	t.Helper()
	switch network {
	case "tcp":
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	case "unix":
		p := socketPath(t, tempDir(t), "stale.sock")
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: p, Net: "unix"})
		if err != nil {
			t.Fatalf("fcgitest: %v", err)
		}
		l.SetUnlinkOnClose(false)
		l.Close()
		return "unix:" + p
	}
	t.Fatalf("fcgitest: RefusedAddr: network %q is neither tcp nor unix", network)
	return ""
}

// NoFDLeak fails the test if file descriptors opened after the call are still open once the
// test and the cleanups registered after the call have run (it waits up to 3 s for peers that
// close on their own goroutines). Call it first, before starting backends and clients: their
// cleanups then run before the check. Descriptors open at the call (a listener the test shares
// with others, say) are allowed, and so are /proc files. Where /proc/self/fd does not exist it
// skips the test.
func NoFDLeak(t testing.TB) { noFDLeak(t, 3*time.Second) }

func noFDLeak(t testing.TB, grace time.Duration) {
	t.Helper()
	before := openFDs(t)
	t.Cleanup(func() {
		deadline := time.Now().Add(grace)
		for {
			var leaked []string
			for fd, target := range openFDs(t) {
				if old, ok := before[fd]; (!ok || old != target) && !strings.HasPrefix(target, "/proc/") {
					leaked = append(leaked, fd+" -> "+target)
				}
			}
			if len(leaked) == 0 {
				return
			}
			if time.Now().After(deadline) {
				sort.Strings(leaked)
				t.Errorf("fcgitest: %d file descriptors leaked: %s", len(leaked), strings.Join(leaked, ", "))
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// openFDs returns the process's open file descriptors, from /proc/self/fd, with what each
// refers to. It first opens and closes a loopback listener, so that the descriptors the Go
// runtime opens once, on first network use (the netpoller), are there already.
func openFDs(t testing.TB) map[string]string {
	t.Helper()
	if l, err := net.Listen("tcp", "127.0.0.1:0"); err == nil {
		l.Close()
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("fcgitest: no /proc/self/fd to count file descriptors: %v", err)
	}
	fds := make(map[string]string, len(ents))
	for _, e := range ents {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		fds[e.Name()] = target
	}
	return fds
}
