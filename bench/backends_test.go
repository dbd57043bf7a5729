// Backends and peers of the benchmarks: our fcgi.Server in-process or in a
// child process, a raw FastCGI backend that only writes pre-encoded bytes,
// the plain-socket baselines, and Caddy's FastCGI transport driven outside a
// running Caddy.

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy/fastcgi"
)

// childEnv names the variable that turns the test binary into a backend
// process (see TestMain): its value is the unix socket path to serve on.
const childEnv = "FCGISCOPE_BENCH_CHILD"

// tinyBody is what the small handler answers for /hello.php (php-fpm's
// hello.php prints "hello" too).
const tinyBody = "hello"

// Paths the small handler serves, by SCRIPT_NAME.
const (
	pathHello   = "/hello.php"   // tinyBody
	pathRecords = "/records.php" // ?n=N: N STDOUT records of recordChunk bytes
	pathSink    = "/sink.php"    // reads STDIN to the end, answers its length
	pathBig     = "/big.php"     // ?bytes=N: N bytes of STDOUT in 64 KiB writes
)

// recordChunk is the content of each STDOUT record of /records.php.
const recordChunk = 16

// smallHandler is the handler of our in-process and child backends.
func smallHandler() fcgi.Handler {
	big := make([]byte, 64<<10)
	return fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		// The query is parsed only by the routes that take one: the tiny
		// GET's handler does no more than php-fpm's hello.php.
		query := func(name string) int {
			q, _ := url.ParseQuery(r.Param("QUERY_STRING"))
			n, _ := strconv.Atoi(q.Get(name))
			return n
		}
		switch r.Param("SCRIPT_NAME") {
		case pathHello:
			io.WriteString(w, "Content-Type: text/plain\r\n\r\n"+tinyBody)
		case pathRecords:
			n := query("n")
			chunk := bytes.Repeat([]byte("r"), recordChunk)
			io.WriteString(w, "Content-Type: text/plain\r\n\r\n")
			for range max(n, 1) {
				w.Write(chunk)
				w.Flush()
			}
		case pathSink:
			n, err := io.Copy(io.Discard, r.Stdin)
			if err != nil {
				io.WriteString(w.Stderr(), err.Error())
			}
			fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\n%d", n)
		case pathBig:
			n := query("bytes")
			io.WriteString(w, "Content-Type: application/octet-stream\r\n\r\n")
			for n > 0 {
				k := min(n, len(big))
				if _, err := w.Write(big[:k]); err != nil {
					return
				}
				n -= k
			}
		default:
			io.WriteString(w, "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnot found")
		}
	})
}

// sockPath returns a fresh unix socket path short enough for sun_path.
func sockPath(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "fcgibench")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, name)
}

// startServer runs fcgi.Server with the small handler in this process on a
// fresh unix socket and returns the socket path.
func startServer(tb testing.TB, mpxs bool) string {
	tb.Helper()
	l, _ := fcgitest.Listen(tb, "unix")
	path := l.Addr().String()
	srv := &fcgi.Server{Handler: smallHandler(), MpxsConns: mpxs, ErrorLog: func(err error) { tb.Log(err) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	tb.Cleanup(func() {
		srv.Close()
		<-done
	})
	return path
}

// runChild serves the small handler on path until standard input closes:
// the benchmark process holds the pipe, so the child never outlives it.
func runChild(path string) int {
	l, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench child:", err)
		return 1
	}
	srv := &fcgi.Server{Handler: smallHandler(), MpxsConns: true}
	go srv.Serve(l)
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	return 0
}

// startChild runs the small handler in a child process (this test binary,
// see TestMain) so that its allocations and CPU are not counted against
// the client measured here. It returns the socket path.
func startChild(tb testing.TB) string {
	tb.Helper()
	path := sockPath(tb, "child.sock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		stdin.Close()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", path)
		if err == nil {
			c.Close()
			return path
		}
		select {
		case <-exited:
			tb.Fatalf("bench child exited before listening: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("bench child not listening on %s: %v", path, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wireBackend is a FastCGI backend reduced to its wire work: it frames the
// request's records, skips their content, and after the empty STDIN record
// writes a pre-encoded response in one Write. Nothing is allocated per
// request, so the peer's cost is the same as the plain-socket baseline's.
type wireBackend struct {
	stdout []byte
	resp   []byte // STDOUT records and END_REQUEST for request id 1
}

// startWireBackend serves stdout (a CGI response) on a fresh unix socket.
func startWireBackend(tb testing.TB, stdout []byte) string {
	tb.Helper()
	wb := &wireBackend{stdout: stdout, resp: encodeResponse(1, stdout)}
	return fcgitest.StartRaw(tb, "unix", wb.serve).Addr
}

func (wb *wireBackend) serve(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	var h [fcgi.HeaderLen]byte
	var body [8]byte
	keep := false
	for {
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return
		}
		typ := fcgi.RecordType(h[1])
		id := binary.BigEndian.Uint16(h[2:4])
		clen := int(binary.BigEndian.Uint16(h[4:6]))
		skip := clen + int(h[6])
		if typ == fcgi.TypeBeginRequest && clen == len(body) {
			if _, err := io.ReadFull(br, body[:]); err != nil {
				return
			}
			keep = fcgi.Flags(body[2])&fcgi.FlagKeepConn != 0
			skip -= clen
		}
		if _, err := br.Discard(skip); err != nil {
			return
		}
		if typ != fcgi.TypeStdin || clen != 0 {
			continue
		}
		resp := wb.resp
		if id != 1 {
			resp = encodeResponse(id, wb.stdout) // not expected: every peer uses id 1
		}
		if _, err := c.Write(resp); err != nil || !keep {
			return
		}
	}
}

// stdoutRecord is the content size of the STDOUT records written by the
// wire backend: php-fpm's choice, a multiple of 8 that needs no padding.
const stdoutRecord = 65528

// encodeResponse encodes stdout as STDOUT records, the empty STDOUT record
// and END_REQUEST for request id.
func encodeResponse(id uint16, stdout []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(stdout) + len(stdout)/stdoutRecord*8 + 64)
	w := fcgi.NewWriter(&buf)
	for p := stdout; len(p) > 0; {
		n := min(len(p), stdoutRecord)
		w.WriteRecord(fcgi.TypeStdout, id, p[:n])
		p = p[n:]
	}
	w.CloseStream(fcgi.TypeStdout, id)
	w.WriteEndRequest(id, 0, fcgi.StatusRequestComplete)
	return buf.Bytes()
}

// encodeRequest returns the bytes our Writer puts on the wire for a request
// with id 1: BEGIN_REQUEST, PARAMS, the empty PARAMS and STDIN records.
func encodeRequest(params []fcgi.Pair, keepConn bool) []byte {
	var buf bytes.Buffer
	w := fcgi.NewWriter(&buf)
	var flags fcgi.Flags
	if keepConn {
		flags = fcgi.FlagKeepConn
	}
	w.WriteBeginRequest(1, fcgi.RoleResponder, flags)
	w.WriteParams(1, params)
	w.CloseStream(fcgi.TypeStdin, 1)
	return buf.Bytes()
}

// wireLoop is the wire limit of a sequential request: it writes pre-encoded
// request bytes and reads records until END_REQUEST, framing them and
// nothing more.
type wireLoop struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

func dialWireLoop(tb testing.TB, network, addr string, req []byte) *wireLoop {
	tb.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return &wireLoop{c: c, br: bufio.NewReaderSize(c, 64<<10), req: req}
}

// do sends the request and returns the STDOUT content length it received.
func (wl *wireLoop) do() (int, error) {
	if _, err := wl.c.Write(wl.req); err != nil {
		return 0, err
	}
	return wl.readToEnd()
}

// post sends the request head (wl.req without its empty STDIN record), then
// body as STDIN records written with writev straight from body, header and
// padding around it, then the empty STDIN record; it returns the STDOUT
// content length received. This is the wire limit of a request body: no
// copy in user space, one system call per record as fcgiscope makes.
func (wl *wireLoop) post(body []byte) (int, error) {
	head := wl.req[:len(wl.req)-fcgi.HeaderLen]
	if _, err := wl.c.Write(head); err != nil {
		return 0, err
	}
	var zeros [8]byte
	var hdr [fcgi.HeaderLen]byte
	for p := body; len(p) > 0; {
		n := min(len(p), fcgi.MaxContent)
		pad := fcgi.PaddingFor(n)
		fcgi.AppendHeader(hdr[:0], fcgi.Header{Version: fcgi.Version1, Type: fcgi.TypeStdin, RequestID: 1,
			ContentLength: uint16(n), PaddingLength: pad})
		bufs := net.Buffers{hdr[:], p[:n], zeros[:pad]}
		if _, err := bufs.WriteTo(wl.c); err != nil {
			return 0, err
		}
		p = p[n:]
	}
	if _, err := wl.c.Write(wl.req[len(head):]); err != nil {
		return 0, err
	}
	return wl.readToEnd()
}

// readToEnd reads records until END_REQUEST and returns the STDOUT content
// length.
func (wl *wireLoop) readToEnd() (int, error) {
	stdout := 0
	for {
		h, err := wl.br.Peek(fcgi.HeaderLen)
		if err != nil {
			return stdout, err
		}
		typ := fcgi.RecordType(h[1])
		clen := int(binary.BigEndian.Uint16(h[4:6]))
		n := fcgi.HeaderLen + clen + int(h[6])
		if _, err := wl.br.Discard(n); err != nil {
			return stdout, err
		}
		switch typ {
		case fcgi.TypeStdout:
			stdout += clen
		case fcgi.TypeEndRequest:
			return stdout, nil
		}
	}
}

// wireReader is the wire loop with the reading done by a goroutine of its
// own, which hands each answer to the caller over a channel, as a client
// that reads a connection for every request on it must: the wire limit of
// that design, to set the client's hand-off apart from its other costs.
type wireReader struct {
	c       net.Conn
	req     []byte
	answers chan wireAnswer
}

type wireAnswer struct {
	stdout int
	err    error
}

func dialWireReader(tb testing.TB, network, addr string, req []byte) *wireReader {
	tb.Helper()
	wl := dialWireLoop(tb, network, addr, req)
	wr := &wireReader{c: wl.c, req: req, answers: make(chan wireAnswer, 1)}
	go func() {
		for {
			n, err := wl.readToEnd()
			wr.answers <- wireAnswer{n, err}
			if err != nil {
				return
			}
		}
	}()
	return wr
}

// do sends the request and waits for the reading goroutine's answer.
func (wr *wireReader) do() (int, error) {
	if _, err := wr.c.Write(wr.req); err != nil {
		return 0, err
	}
	a := <-wr.answers
	return a.stdout, a.err
}

// rawServer is the plain-socket baseline's peer. For each 8-byte request
// header it reads: {'R', size} answers size raw bytes of payload in one
// Write; {'W', size} reads size bytes (64 KiB buffer, like the wire
// backend) and answers one byte.
func startRawServer(tb testing.TB, payload []byte) string {
	tb.Helper()
	return fcgitest.StartRaw(tb, "unix", func(c net.Conn) {
		br := bufio.NewReaderSize(c, 64<<10)
		var h [8]byte
		for {
			if _, err := io.ReadFull(br, h[:]); err != nil {
				return
			}
			size := int(binary.BigEndian.Uint32(h[4:8]))
			switch h[0] {
			case 'R':
				if _, err := c.Write(payload[:size]); err != nil {
					return
				}
			case 'W':
				if _, err := br.Discard(size); err != nil {
					return
				}
				if _, err := c.Write(h[:1]); err != nil {
					return
				}
			default:
				return
			}
		}
	}).Addr
}

// rawRequest encodes a request to the raw server.
func rawRequest(op byte, size int) []byte {
	h := []byte{op, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(h[4:], uint32(size))
	return h
}

// writerOnly hides io.ReaderFrom so that io.CopyBuffer uses its buffer.
type writerOnly struct{ io.Writer }

// caddyPeer drives Caddy's FastCGI transport as its reverse proxy does once
// an upstream is chosen: a provisioned Transport and requests prepared by
// caddyhttp.PrepareRequest, with the upstream's dial info in the context.
type caddyPeer struct {
	tr fastcgi.Transport
}

// newCaddy provisions Caddy's transport with root as document root.
func newCaddy(tb testing.TB, root string) *caddyPeer {
	tb.Helper()
	// A configured context, so that the transport logs through Caddy's
	// default production logger (INFO), as in a running Caddy; without a
	// config Caddy hands out a development logger that writes DEBUG lines
	// for every round trip.
	cfgCtx, err := caddy.ProvisionContext(&caddy.Config{})
	if err != nil {
		tb.Fatalf("caddy: %v", err)
	}
	ctx, cancel := caddy.NewContext(cfgCtx)
	tb.Cleanup(cancel)
	p := &caddyPeer{tr: fastcgi.Transport{Root: root, SplitPath: []string{".php"}}}
	if err := p.tr.Provision(ctx); err != nil {
		tb.Fatalf("caddy: provisioning the fastcgi transport: %v", err)
	}
	return p
}

// dialInfoKey is the context key under which Caddy's reverse proxy hands
// the chosen upstream to its transport (reverseproxy's dialInfoCtxKey; the
// key is unexported, its value is not). TestPeers checks that it works.
const dialInfoKey = caddy.CtxKey("reverse_proxy.dial_info")

// request returns a prepared request for target ("/hello.php?x=1") to the
// backend at network/addr. A body is set per round trip with setBody.
func (p *caddyPeer) request(network, addr, method, target string) *http.Request {
	r := httptest.NewRequest(method, "http://example.com"+target, nil)
	// Should the dial info be ignored, Caddy would dial this: loopback, refused.
	r.URL.Host = "127.0.0.1:1"
	r = caddyhttp.PrepareRequest(r, caddy.NewReplacer(), nil, &caddyhttp.Server{})
	ctx := context.WithValue(r.Context(), dialInfoKey, reverseproxy.DialInfo{Network: network, Address: addr})
	return r.WithContext(ctx)
}

// setBody gives r a fresh body reading payload.
func setBody(r *http.Request, payload []byte) {
	r.Body = io.NopCloser(bytes.NewReader(payload))
	r.ContentLength = int64(len(payload))
	r.Header.Set("Content-Length", strconv.Itoa(len(payload)))
	r.Header.Set("Content-Type", "application/octet-stream")
}

// do runs one round trip and copies the body to sink; it returns the body
// length.
func (p *caddyPeer) do(r *http.Request, sink io.Writer) (int64, error) {
	resp, err := p.tr.RoundTrip(r)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(sink, resp.Body)
	cerr := resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("caddy: status %d", resp.StatusCode)
	}
	return n, errors.Join(err, cerr)
}

// caddyParams returns the params Caddy's transport sends for method and
// target with root as document root, captured by a throw-away fcgi.Server,
// sorted by name. Our client and the wire loop send exactly these, so all
// peers put the same request on the wire.
func caddyParams(tb testing.TB, root, method, target string, bodyLen int) []fcgi.Pair {
	tb.Helper()
	l, _ := fcgitest.Listen(tb, "unix")
	path := l.Addr().String()
	got := make(chan []fcgi.Pair, 1)
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		io.Copy(io.Discard, r.Stdin)
		select {
		case got <- slices.Clone(r.Params):
		default:
		}
		io.WriteString(w, "Content-Type: text/plain\r\n\r\nok")
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	defer func() {
		srv.Close()
		<-done
	}()
	cp := newCaddy(tb, root)
	r := cp.request("unix", path, method, target)
	if bodyLen > 0 {
		setBody(r, make([]byte, bodyLen))
	}
	if _, err := cp.do(r, io.Discard); err != nil {
		tb.Fatalf("caddy: capturing params: %v", err)
	}
	params := <-got
	slices.SortFunc(params, func(a, b fcgi.Pair) int { return strings.Compare(a.Name, b.Name) })
	return params
}
