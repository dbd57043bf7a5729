// Client benchmarks against a backend that only writes pre-encoded records,
// so that time and allocations are the client's own (bench/ compares the
// client with its peers).

package fcgi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// benchParams are the params of a typical GET, as a web server sends them.
var benchParams = []fcgi.Pair{
	{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php"}, {Name: "SCRIPT_NAME", Value: "/index.php"},
	{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "REQUEST_URI", Value: "/index.php?a=1"},
	{Name: "QUERY_STRING", Value: "a=1"}, {Name: "DOCUMENT_ROOT", Value: "/srv/www"},
	{Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"}, {Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"},
	{Name: "REMOTE_ADDR", Value: "127.0.0.1"}, {Name: "SERVER_NAME", Value: "localhost"},
	{Name: "SERVER_PORT", Value: "80"}, {Name: "CONTENT_LENGTH", Value: ""},
	{Name: "HTTP_HOST", Value: "localhost"}, {Name: "HTTP_USER_AGENT", Value: "fcgiscope-bench/1.0"},
}

// preencoded is a backend that frames the request's records, skips them,
// and after the empty STDIN record writes the response encoded in advance
// for the request's id (STDOUT records of the given contents, the empty
// STDOUT record, END_REQUEST). It allocates nothing per request once every
// id was seen.
type preencoded struct {
	records [][]byte
	mu      sync.Mutex
	byID    map[uint16][]byte
}

func (p *preencoded) response(id uint16) []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.byID[id]; ok {
		return b
	}
	var buf bytes.Buffer
	w := fcgi.NewWriter(&buf)
	for _, r := range p.records {
		w.WriteStream(fcgi.TypeStdout, id, r)
	}
	w.CloseStream(fcgi.TypeStdout, id)
	w.WriteEndRequest(id, 0, fcgi.StatusRequestComplete)
	p.byID[id] = buf.Bytes()
	return buf.Bytes()
}

func (p *preencoded) serve(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	keep := true
	for {
		h, err := br.Peek(fcgi.HeaderLen)
		if err != nil {
			return
		}
		typ := fcgi.RecordType(h[1])
		id := binary.BigEndian.Uint16(h[2:4])
		clen := int(binary.BigEndian.Uint16(h[4:6]))
		if typ == fcgi.TypeBeginRequest && clen == 8 {
			if h, err = br.Peek(fcgi.HeaderLen + clen); err != nil {
				return
			}
			keep = fcgi.Flags(h[fcgi.HeaderLen+2])&fcgi.FlagKeepConn != 0
		}
		if _, err := br.Discard(fcgi.HeaderLen + clen + int(h[6])); err != nil {
			return
		}
		if typ == fcgi.TypeStdin && clen == 0 {
			if _, err := c.Write(p.response(id)); err != nil || !keep {
				return
			}
		}
	}
}

// startPreencoded serves records on a fresh unix socket and returns its
// address for fcgi.Dial.
func startPreencoded(b *testing.B, records ...[]byte) string {
	b.Helper()
	p := &preencoded{records: records, byID: map[uint16][]byte{}}
	p.response(1) // encoded before the timer starts
	return fcgitest.StartRaw(b, "unix", p.serve).Target()
}

func dialBench(b *testing.B, addr string, opts fcgi.Options) *fcgi.Conn {
	b.Helper()
	c, err := fcgi.Dial(context.Background(), addr, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// doLoop runs req with do (a Conn's or a Client's Do) in b.Loop and checks
// the STDOUT byte count.
func doLoop(b *testing.B, do func(context.Context, *fcgi.Request) (*fcgi.Response, error), req *fcgi.Request, want int64) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := do(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		if resp.StdoutBytes != want {
			b.Fatalf("%d stdout bytes, want %d", resp.StdoutBytes, want)
		}
	}
}

var tinyResponse = []byte("Content-Type: text/plain\r\n\r\nhello")

// BenchmarkConnDoTiny: one tiny GET at a time on one KEEP_CONN connection.
// allocs/op is the client's cost per request.
func BenchmarkConnDoTiny(b *testing.B) {
	c := dialBench(b, startPreencoded(b, tinyResponse), fcgi.Options{})
	doLoop(b, c.Do, &fcgi.Request{KeepConn: true, Params: benchParams, Stdout: io.Discard}, int64(len(tinyResponse)))
}

// BenchmarkConnDoRecords: responses of 1 and 64 STDOUT records of 16
// bytes; the allocs/op must not grow with the records unless a trace hook
// is set.
func BenchmarkConnDoRecords(b *testing.B) {
	for _, trace := range []bool{false, true} {
		for _, n := range []int{1, 64} {
			name := "trace=off/n=" + strconv.Itoa(n)
			var opts fcgi.Options
			if trace {
				name = "trace=on/n=" + strconv.Itoa(n)
				opts.Trace = func(fcgi.Event) {}
			}
			b.Run(name, func(b *testing.B) {
				records := make([][]byte, n)
				for i := range records {
					records[i] = bytes.Repeat([]byte("r"), 16)
				}
				c := dialBench(b, startPreencoded(b, records...), opts)
				doLoop(b, c.Do, &fcgi.Request{KeepConn: true, Params: benchParams, Stdout: io.Discard}, int64(16*n))
			})
		}
	}
}

// BenchmarkConnDoStdout: a 16 MiB response in STDOUT records of 65528
// bytes (as php-fpm writes them).
func BenchmarkConnDoStdout(b *testing.B) {
	const size = 16 << 20
	var records [][]byte
	chunk := make([]byte, 65528)
	for left := size; left > 0; left -= len(chunk) {
		records = append(records, chunk[:min(left, len(chunk))])
	}
	c := dialBench(b, startPreencoded(b, records...), fcgi.Options{})
	b.SetBytes(size)
	doLoop(b, c.Do, &fcgi.Request{KeepConn: true, Params: benchParams, Stdout: io.Discard}, size)
}

// BenchmarkConnDoStdin: a 16 MiB request body from a bytes.Reader.
func BenchmarkConnDoStdin(b *testing.B) {
	const size = 16 << 20
	payload := make([]byte, size)
	c := dialBench(b, startPreencoded(b, tinyResponse), fcgi.Options{})
	body := bytes.NewReader(payload)
	req := &fcgi.Request{KeepConn: true, Params: benchParams, Stdin: body, Stdout: io.Discard}
	ctx := context.Background()
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(payload)
		if _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClientDial: a tiny GET on a connection of its own (no
// KEEP_CONN): B/op shows what setting up a connection costs.
func BenchmarkClientDial(b *testing.B) {
	cl := fcgi.NewClient(startPreencoded(b, tinyResponse), fcgi.ClientOptions{})
	b.Cleanup(func() { cl.Close() })
	doLoop(b, cl.Do, &fcgi.Request{Params: benchParams, Stdout: io.Discard}, int64(len(tinyResponse)))
}

// BenchmarkClientKeepConn: a tiny GET at a time on the Client's pooled
// KEEP_CONN connection.
func BenchmarkClientKeepConn(b *testing.B) {
	cl := fcgi.NewClient(startPreencoded(b, tinyResponse), fcgi.ClientOptions{})
	b.Cleanup(func() { cl.Close() })
	doLoop(b, cl.Do, &fcgi.Request{KeepConn: true, Params: benchParams, Stdout: io.Discard}, int64(len(tinyResponse)))
}

// BenchmarkConnDoParallel: 64 requests in flight on one connection.
func BenchmarkConnDoParallel(b *testing.B) {
	c := dialBench(b, startPreencoded(b, tinyResponse), fcgi.Options{})
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((64 + procs - 1) / procs)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := &fcgi.Request{KeepConn: true, Params: benchParams, Stdout: io.Discard}
		for pb.Next() {
			resp, err := c.Do(context.Background(), req)
			if err != nil {
				b.Error(err)
				return
			}
			if resp.StdoutBytes != int64(len(tinyResponse)) {
				b.Errorf("%d stdout bytes", resp.StdoutBytes)
				return
			}
		}
	})
}
