// Hostile: a FastCGI backend that misbehaves on purpose, for fault tests of clients.

package fcgitest

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// FastCGI constants the hostile backend speaks (FastCGI 1.0 specification, §8). This package
// imports only the standard library (package fcgi's own tests import it), so it keeps its own.
const (
	hVersion1       = 1
	hHeaderLen      = 8
	hStreamChunk    = 65528 // largest multiple of 8 that fits a record: no padding needed
	typeBeginReq    = 1
	typeAbortReq    = 2
	typeEndReq      = 3
	typeParams      = 4
	typeStdin       = 5
	typeStdout      = 6
	typeStderr      = 7
	typeData        = 8
	typeGetValues   = 9
	typeGetValuesOK = 10
	roleFilter      = 3
	flagKeepConn    = 1
	statusComplete  = 0 // END_REQUEST protocol status REQUEST_COMPLETE (spec §5.5)
)

// Behaviour is what a Hostile backend does with one accepted connection. It runs on a goroutine
// of its own; the backend closes the connection when it returns. A Behaviour that waits must
// wait with HostileConn.Sleep or HostileConn.Hold, so that Hostile.Close can end it.
type Behaviour func(c *HostileConn)

// Hostile is a FastCGI backend for fault tests: a listener on loopback TCP or on a unix socket
// whose every connection is handed to a Behaviour. Ready-made behaviours below (Silent,
// CloseMidHeader, BadVersion, HugeStderr, ...) each break the protocol, or the connection, in
// one way; Respond is the well-behaved baseline.
type Hostile struct {
	// Network is "tcp" or "unix"; Addr is host:port or the socket path.
	Network, Addr string

	l      net.Listener
	behave Behaviour
	wg     sync.WaitGroup
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc

	mu       sync.Mutex
	conns    map[*HostileConn]struct{}
	accepted int
	seen     []Seen
	closed   bool
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
	var l net.Listener
	var err error
	switch network {
	case "tcp":
		l, err = net.Listen("tcp", "127.0.0.1:0")
	case "unix":
		var dir string
		if dir, err = os.MkdirTemp("", "hostile"); err != nil {
			return nil, err
		}
		l, err = net.Listen("unix", filepath.Join(dir, "h.sock"))
		if err != nil {
			os.RemoveAll(dir)
		} else {
			l = &dirListener{Listener: l, dir: dir}
		}
	default:
		return nil, fmt.Errorf("hostile backend: network %q is neither tcp nor unix", network)
	}
	if err != nil {
		return nil, fmt.Errorf("hostile backend: %w", err)
	}
	h := &Hostile{Network: network, Addr: l.Addr().String(), l: l, behave: b,
		conns: map[*HostileConn]struct{}{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.wg.Add(1)
	go h.acceptLoop()
	return h, nil
}

// dirListener removes the socket's temporary directory when closed.
type dirListener struct {
	net.Listener
	dir string
}

func (l *dirListener) Close() error {
	err := l.Listener.Close()
	os.RemoveAll(l.dir)
	return err
}

// Target returns the address in the form package fcgi's ParseAddr takes: host:port or
// unix:/path.
func (h *Hostile) Target() string {
	if h.Network == "unix" {
		return "unix:" + h.Addr
	}
	return h.Addr
}

func (h *Hostile) acceptLoop() {
	defer h.wg.Done()
	for {
		nc, err := h.l.Accept()
		if err != nil {
			return
		}
		h.mu.Lock()
		if h.closed {
			h.mu.Unlock()
			nc.Close()
			return
		}
		c := &HostileConn{Conn: nc, Index: h.accepted, h: h, br: bufio.NewReader(nc)}
		h.accepted++
		h.conns[c] = struct{}{}
		h.wg.Add(1)
		h.mu.Unlock()
		go func() {
			defer h.wg.Done()
			defer func() {
				nc.Close()
				h.mu.Lock()
				delete(h.conns, c)
				h.mu.Unlock()
			}()
			h.behave(c)
		}()
	}
}

// Accepted returns how many connections the backend accepted.
func (h *Hostile) Accepted() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}

// Open returns how many accepted connections are still open (their behaviour still runs).
func (h *Hostile) Open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
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

// CloseListener stops accepting: new connections are refused (tcp) or find no socket (unix);
// connections already accepted go on.
func (h *Hostile) CloseListener() error {
	return h.l.Close()
}

// Close stops accepting, closes every open connection, and waits for every behaviour to return.
// It is safe to call more than once.
func (h *Hostile) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.wg.Wait()
		return nil
	}
	h.closed = true
	h.cancel()
	conns := make([]*HostileConn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	err := h.l.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	for _, c := range conns {
		c.Conn.Close()
	}
	h.wg.Wait()
	return err
}

// HostileConn is one connection of a Hostile backend, as its Behaviour sees it. The embedded
// net.Conn may be used directly; the methods below read and write records.
type HostileConn struct {
	net.Conn
	// Index numbers the connection in accept order, from 0.
	Index int

	h  *Hostile
	br *bufio.Reader
}

// HostileRequest is a request read by HostileConn.ReadRequest.
type HostileRequest struct {
	ID       uint16
	Role     uint16
	KeepConn bool
	Params   []HostilePair
	Stdin    []byte
	Data     []byte
	// Aborted: ABORT_REQUEST arrived before the request was complete.
	Aborted bool
}

// HostilePair is one name-value pair of a request's params.
type HostilePair struct{ Name, Value string }

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

// readRecord reads one record and logs it in Hostile.Seen.
func (c *HostileConn) readRecord() (typ byte, id uint16, content []byte, err error) {
	var hdr [hHeaderLen]byte
	if _, err = io.ReadFull(c.br, hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	typ, id = hdr[1], binary.BigEndian.Uint16(hdr[2:4])
	n, pad := int(binary.BigEndian.Uint16(hdr[4:6])), int(hdr[6])
	buf := make([]byte, n+pad)
	if _, err = io.ReadFull(c.br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return typ, id, nil, err
	}
	c.h.mu.Lock()
	c.h.seen = append(c.h.seen, Seen{Conn: c.Index, Type: typ, RequestID: id, ContentLength: n})
	c.h.mu.Unlock()
	return typ, id, buf[:n], nil
}

// ReadRequest reads the next request whole: BEGIN_REQUEST, PARAMS up to the empty record, STDIN
// up to the empty record and, for the FILTER role, DATA up to the empty record. It answers
// GET_VALUES with FCGI_MPXS_CONNS=0 on the way. It returns early, with Aborted set, when
// ABORT_REQUEST arrives, and io.EOF when the client closed the connection between requests.
func (c *HostileConn) ReadRequest() (*HostileRequest, error) {
	var r *HostileRequest
	var params []byte
	paramsDone, stdinDone, dataDone := false, false, false
	for {
		typ, id, content, err := c.readRecord()
		if err != nil {
			if err == io.EOF && r != nil {
				err = io.ErrUnexpectedEOF
			}
			return r, err
		}
		switch {
		case typ == typeGetValues && id == 0:
			if err := c.WriteRecord(typeGetValuesOK, 0, appendPair(nil, "FCGI_MPXS_CONNS", "0")); err != nil {
				return r, err
			}
			continue
		case typ == typeBeginReq:
			if len(content) < 3 {
				return r, fmt.Errorf("hostile backend: BEGIN_REQUEST with %d content bytes", len(content))
			}
			r = &HostileRequest{ID: id, Role: binary.BigEndian.Uint16(content), KeepConn: content[2]&flagKeepConn != 0}
			continue
		case r == nil || id != r.ID:
			continue // not part of a request: ignored, as the spec says
		case typ == typeAbortReq:
			r.Aborted = true
			return r, nil
		case typ == typeParams && !paramsDone:
			if len(content) == 0 {
				paramsDone = true
				if r.Params, err = parsePairs(params); err != nil {
					return r, err
				}
			}
			params = append(params, content...)
		case typ == typeStdin && !stdinDone:
			stdinDone = len(content) == 0
			r.Stdin = append(r.Stdin, content...)
		case typ == typeData && !dataDone:
			dataDone = len(content) == 0
			r.Data = append(r.Data, content...)
		}
		if paramsDone && stdinDone && (r.Role != roleFilter || dataDone) {
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
		if _, _, _, err := c.readRecord(); err != nil {
			return
		}
	}
}

// WriteRaw writes b as it is.
func (c *HostileConn) WriteRaw(b []byte) error {
	_, err := c.Conn.Write(b)
	return err
}

// Record returns the bytes of a version 1 record padded to a multiple of 8.
func Record(typ byte, id uint16, content []byte) []byte {
	return RecordWith(hVersion1, typ, id, len(content), content, int(-len(content)&7))
}

// RecordWith returns the bytes of a record whose header says version, typ, id and
// contentLength, followed by content and pad zero bytes: the header may lie about the content.
func RecordWith(version, typ byte, id uint16, contentLength int, content []byte, pad int) []byte {
	b := make([]byte, hHeaderLen, hHeaderLen+len(content)+pad)
	b[0], b[1] = version, typ
	binary.BigEndian.PutUint16(b[2:4], id)
	binary.BigEndian.PutUint16(b[4:6], uint16(contentLength))
	b[6] = byte(pad)
	b = append(b, content...)
	return append(b, make([]byte, pad)...)
}

// WriteRecord writes one version 1 record, padded to a multiple of 8.
func (c *HostileConn) WriteRecord(typ byte, id uint16, content []byte) error {
	return c.WriteRaw(Record(typ, id, content))
}

// EndRequest writes END_REQUEST for id with the statuses.
func (c *HostileConn) EndRequest(id uint16, appStatus uint32, protocolStatus byte) error {
	return c.WriteRecord(typeEndReq, id, EndRequestBody(appStatus, protocolStatus))
}

// EndRequestBody returns the 8 content bytes of END_REQUEST.
func EndRequestBody(appStatus uint32, protocolStatus byte) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, appStatus)
	b[4] = protocolStatus
	return b
}

// HostileHeaders is the CGI header block of every response of the ready-made behaviours.
const HostileHeaders = "Content-Type: text/plain\r\n\r\n"

// Response writes a complete, well-formed answer to id: body as a CGI response on STDOUT,
// the empty STDOUT record, END_REQUEST REQUEST_COMPLETE.
func (c *HostileConn) Response(id uint16, body string) error {
	b := Record(typeStdout, id, []byte(HostileHeaders+body))
	b = append(b, Record(typeStdout, id, nil)...)
	b = append(b, Record(typeEndReq, id, EndRequestBody(0, statusComplete))...)
	return c.WriteRaw(b)
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
		c.WriteRaw(Record(typeStdout, r.ID, []byte(HostileHeaders+"cut"))[:min(max(n, 1), hHeaderLen-1)])
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
		full := Record(typeStdout, r.ID, []byte(strings.Repeat("x", 64)))
		b := append(Record(typeStdout, r.ID, []byte(HostileHeaders)), full[:hHeaderLen+min(max(sent, 0), 63)]...)
		c.WriteRaw(b)
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
		c.WriteRaw(append(Record(typeStdout, r.ID, []byte(HostileHeaders+body)), Record(typeStdout, r.ID, nil)...))
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
		b := RecordWith(v, typeStdout, r.ID, len(p), p, int(-len(p)&7))
		if c.WriteRaw(b) != nil || c.Response(r.ID, "after the bad version\n") != nil {
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
		b := RecordWith(hVersion1, typeStdout, r.ID, min(claim, len(p)), p, 0)
		b = append(b, Record(typeEndReq, r.ID, EndRequestBody(0, statusComplete))...)
		if c.WriteRaw(b) != nil {
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
		b := RecordWith(hVersion1, typeStdout, r.ID, max(claim, len(p)+32), p, 0)
		b = append(b, Record(typeEndReq, r.ID, EndRequestBody(0, statusComplete))...)
		if c.WriteRaw(b) != nil {
			return
		}
		c.Hold()
	}
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
		rec := make([]byte, hHeaderLen+hStreamChunk)
		line := "hostile: stderr flood, a line of 64 bytes to fill the stream..\n"
		for i := hHeaderLen; i < len(rec); i += len(line) {
			copy(rec[i:], line)
		}
		rec[0], rec[1] = hVersion1, typeStderr
		binary.BigEndian.PutUint16(rec[2:4], r.ID)
		for left := n; left > 0; {
			k := int(min(left, hStreamChunk))
			pad := -k & 7
			binary.BigEndian.PutUint16(rec[4:6], uint16(k))
			rec[6] = byte(pad)
			b := rec[:hHeaderLen+k]
			if pad > 0 {
				b = append(b[:len(b):len(b)], make([]byte, pad)...)
			}
			if c.WriteRaw(b) != nil {
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
		if c.WriteRecord(typeStdout, r.ID, []byte(HostileHeaders)) != nil {
			return
		}
		for _, b := range RecordWith(hVersion1, typeStdout, r.ID, len(body), []byte(body), 0) {
			if !c.Sleep(every) || c.WriteRaw([]byte{b}) != nil {
				return
			}
		}
		b := append(Record(typeStdout, r.ID, nil), Record(typeEndReq, r.ID, EndRequestBody(0, statusComplete))...)
		c.WriteRaw(b)
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

// appendPair appends a name-value pair in the FastCGI encoding (spec §3.4).
func appendPair(b []byte, name, value string) []byte {
	for _, n := range []int{len(name), len(value)} {
		if n < 128 {
			b = append(b, byte(n))
		} else {
			b = binary.BigEndian.AppendUint32(b, uint32(n)|1<<31)
		}
	}
	return append(append(b, name...), value...)
}

// parsePairs decodes name-value pairs (spec §3.4).
func parsePairs(b []byte) ([]HostilePair, error) {
	var out []HostilePair
	for len(b) > 0 {
		var lens [2]int
		for i := range lens {
			if len(b) == 0 {
				return out, errors.New("hostile backend: params end inside a length")
			}
			if b[0] < 128 {
				lens[i], b = int(b[0]), b[1:]
				continue
			}
			if len(b) < 4 {
				return out, errors.New("hostile backend: params end inside a length")
			}
			lens[i], b = int(binary.BigEndian.Uint32(b)&0x7fffffff), b[4:]
		}
		if lens[0]+lens[1] > len(b) || lens[0]+lens[1] < 0 {
			return out, errors.New("hostile backend: params end inside a pair")
		}
		out = append(out, HostilePair{Name: string(b[:lens[0]]), Value: string(b[lens[0] : lens[0]+lens[1]])})
		b = b[lens[0]+lens[1]:]
	}
	return out, nil
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
