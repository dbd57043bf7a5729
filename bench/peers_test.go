// Peers as operations: each constructor returns named closures doing one
// request (or one transfer) and checking what came back, so that the
// benchmarks time exactly what TestPeers proves correct.

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// op is one timed unit of work of a peer; it returns an error when the
// answer is not the expected one.
type op struct {
	name string
	do   func() error
}

// Names of the peers, as they appear in benchmark names.
const (
	peerConn      = "fcgiscope-conn"       // fcgi.Dial once, Conn.Do with KEEP_CONN
	peerConnTrace = "fcgiscope-conn-trace" // same with a no-op Options.Trace
	peerClient    = "fcgiscope-client"     // fcgi.Client, KEEP_CONN, pooled connection
	peerDial      = "fcgiscope-dial"       // fcgi.Client without KEEP_CONN: a connection per request
	peerCaddy     = "caddy"                // Caddy's fastcgi.Transport.RoundTrip (a connection per request)
	peerWire      = "wire"                 // pre-encoded request bytes, read until END_REQUEST
	peerWireRead  = "wire-reader"          // the same, read by a goroutine of its own that hands each answer over
	peerCGIFCGI   = "cgi-fcgi"             // libfcgi's cgi-fcgi, a process per request
	peerIOCopy    = "iocopy"               // plain io.Copy of the payload over a unix socket
	peerRead64K   = "read64k"              // the same with a 64 KiB read buffer
)

// checkBody reports whether stdout is a CGI response ending in want.
func checkBody(who string, stdout []byte, want string) error {
	if !bytes.HasSuffix(stdout, []byte(want)) || !bytes.Contains(stdout, []byte("\r\n\r\n")) {
		return fmt.Errorf("%s: unexpected stdout %.80q", who, stdout)
	}
	return nil
}

// dialConn opens one fcgiscope connection, closed at cleanup.
func dialConn(tb testing.TB, addr string, opts fcgi.Options) *fcgi.Conn {
	tb.Helper()
	c, err := fcgi.Dial(context.Background(), addr, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// newClient returns an fcgiscope Client, closed at cleanup.
func newClient(tb testing.TB, addr string) *fcgi.Client {
	return newClientOpts(tb, addr, fcgi.ClientOptions{})
}

// newClientOpts returns an fcgiscope Client with opts, closed at cleanup.
func newClientOpts(tb testing.TB, addr string, opts fcgi.ClientOptions) *fcgi.Client {
	c := fcgi.NewClient(addr, opts)
	tb.Cleanup(func() { c.Close() })
	return c
}

// fcgiOp is one request through fn (Conn.Do or Client.Do) whose stdout must
// end in want.
func fcgiOp(name string, fn func(context.Context, *fcgi.Request) (*fcgi.Response, error), req *fcgi.Request, want string) op {
	var stdout bytes.Buffer
	req.Stdout = &stdout
	ctx := context.Background()
	return op{name, func() error {
		stdout.Reset()
		if _, err := fn(ctx, req); err != nil {
			return err
		}
		return checkBody(name, stdout.Bytes(), want)
	}}
}

// tinyOps are the peers of the tiny GET against the small handler at the
// unix socket path: fcgiscope (one connection, pooled, dial per request),
// Caddy and the wire loop, all sending Caddy's params for /hello.php.
func tinyOps(tb testing.TB, path string, trace bool) []op {
	tb.Helper()
	params := caddyParams(tb, "/srv", http.MethodGet, pathHello, 0)
	addr := "unix:" + path
	conn := dialConn(tb, addr, fcgi.Options{})
	client := newClient(tb, addr)
	cp := newCaddy(tb, "/srv")
	wl := dialWireLoop(tb, "unix", path, encodeRequest(params, true))
	wr := dialWireReader(tb, "unix", path, encodeRequest(params, true))
	ops := []op{
		fcgiOp(peerConn, conn.Do, &fcgi.Request{KeepConn: true, Params: params}, tinyBody),
		fcgiOp(peerClient, client.Do, &fcgi.Request{KeepConn: true, Params: params}, tinyBody),
		fcgiOp(peerDial, client.Do, &fcgi.Request{Params: params}, tinyBody),
		caddyGET(cp, "unix", path, pathHello, tinyBody),
		{peerWire, func() error {
			n, err := wl.do()
			if err == nil && n == 0 {
				err = errors.New("wire: no stdout")
			}
			return err
		}},
		{peerWireRead, func() error {
			n, err := wr.do()
			if err == nil && n == 0 {
				err = errors.New("wire-reader: no stdout")
			}
			return err
		}},
	}
	if trace {
		var seen int
		traced := dialConn(tb, addr, fcgi.Options{Trace: func(fcgi.Event) { seen++ }})
		o := fcgiOp(peerConnTrace, traced.Do, &fcgi.Request{KeepConn: true, Params: params}, tinyBody)
		ops = append(ops, op{peerConnTrace, func() error {
			before := seen
			if err := o.do(); err != nil {
				return err
			}
			if seen == before {
				return errors.New("trace: no event")
			}
			return nil
		}})
	}
	return ops
}

// recordsOp asks the small handler at path for n STDOUT records on one
// fcgiscope connection.
func recordsOp(tb testing.TB, path string, n int, opts fcgi.Options) op {
	tb.Helper()
	params := caddyParams(tb, "/srv", http.MethodGet, fmt.Sprintf("%s?n=%d", pathRecords, n), 0)
	conn := dialConn(tb, "unix:"+path, opts)
	o := fcgiOp(peerConn, conn.Do, &fcgi.Request{KeepConn: true, Params: params}, strings.Repeat("r", recordChunk))
	o.name = fmt.Sprintf("n=%d", n)
	return o
}

// cgiFCGIOp runs libfcgi's cgi-fcgi once per request against path with
// params as its environment.
func cgiFCGIOp(tb testing.TB, bin, path string, params []fcgi.Pair, want string) op {
	env := make([]string, 0, len(params))
	for _, p := range params {
		env = append(env, p.Name+"="+p.Value)
	}
	var stdout bytes.Buffer
	return op{peerCGIFCGI, func() error {
		stdout.Reset()
		cmd := exec.Command(bin, "-bind", "-connect", path)
		cmd.Env = env
		cmd.Stdout = &stdout
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("cgi-fcgi: %w", err)
		}
		return checkBody(peerCGIFCGI, stdout.Bytes(), want)
	}}
}

// okResponse is the wire backend's answer to a POST.
const okResponse = "Content-Type: text/plain\r\n\r\nok"

// bulkHeader is the CGI header in front of the bulk response.
const bulkHeader = "Content-Type: application/octet-stream\r\n\r\n"

// responseOps transfer size bytes of response: fcgiscope, Caddy and the
// wire loop from the wire backend, and the plain-socket baselines from the
// raw server. server
// is the small handler's socket, for fcgiscope against fcgi.Server too.
func responseOps(tb testing.TB, size int, server string) []op {
	tb.Helper()
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	stdout := make([]byte, 0, len(bulkHeader)+size)
	stdout = append(append(stdout, bulkHeader...), payload...)
	wire := startWireBackend(tb, stdout)
	stdout = nil
	raw := startRawServer(tb, payload)

	params := caddyParams(tb, "/srv", http.MethodGet, pathBig, 0)
	conn := dialConn(tb, "unix:"+wire, fcgi.Options{})
	sconn := dialConn(tb, "unix:"+server, fcgi.Options{})
	sparams := caddyParams(tb, "/srv", http.MethodGet, fmt.Sprintf("%s?bytes=%d", pathBig, size), 0)
	cp := newCaddy(tb, "/srv")
	creq := cp.request("unix", wire, http.MethodGet, pathBig)
	rc := dialRaw(tb, raw)
	wl := dialWireLoop(tb, "unix", wire, encodeRequest(params, true))
	buf := make([]byte, 64<<10)
	want := int64(len(bulkHeader) + size)

	fcgiBulk := func(name string, c *fcgi.Conn, params []fcgi.Pair) op {
		req := &fcgi.Request{KeepConn: true, Params: params, Stdout: io.Discard}
		return op{name, func() error {
			resp, err := c.Do(context.Background(), req)
			if err == nil && resp.StdoutBytes != want {
				err = fmt.Errorf("%s: %d stdout bytes, want %d", name, resp.StdoutBytes, want)
			}
			return err
		}}
	}
	return []op{
		fcgiBulk(peerConn, conn, params),
		{peerCaddy, func() error {
			n, err := cp.do(creq, io.Discard)
			if err == nil && n != int64(size) {
				err = fmt.Errorf("caddy: %d body bytes, want %d", n, size)
			}
			return err
		}},
		{peerIOCopy, func() error {
			if _, err := rc.Write(rawRequest('R', size)); err != nil {
				return err
			}
			n, err := io.Copy(io.Discard, io.LimitReader(rc, int64(size)))
			if err == nil && n != int64(size) {
				err = fmt.Errorf("iocopy: %d bytes, want %d", n, size)
			}
			return err
		}},
		{peerRead64K, func() error {
			if _, err := rc.Write(rawRequest('R', size)); err != nil {
				return err
			}
			n, err := io.CopyBuffer(writerOnly{io.Discard}, io.LimitReader(rc, int64(size)), buf)
			if err == nil && n != int64(size) {
				err = fmt.Errorf("read64k: %d bytes, want %d", n, size)
			}
			return err
		}},
		{peerWire, func() error {
			n, err := wl.do()
			if err == nil && int64(n) != want {
				err = fmt.Errorf("wire: %d stdout bytes, want %d", n, want)
			}
			return err
		}},
		fcgiBulk(peerConn+"-server", sconn, sparams),
	}
}

// postOps send size bytes of request body: fcgiscope, Caddy and the wire
// loop (writev, no copy) to the wire backend, which skips STDIN and answers a tiny response, the plain io.Copy
// to the raw server, and fcgiscope to fcgi.Server's /sink.php.
func postOps(tb testing.TB, size int, server string) []op {
	tb.Helper()
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i * 7)
	}
	wire := startWireBackend(tb, []byte(okResponse))
	raw := startRawServer(tb, nil)
	params := caddyParams(tb, "/srv", http.MethodPost, pathSink, size)
	conn := dialConn(tb, "unix:"+wire, fcgi.Options{})
	sconn := dialConn(tb, "unix:"+server, fcgi.Options{})
	cp := newCaddy(tb, "/srv")
	creq := cp.request("unix", wire, http.MethodPost, pathSink)
	rc := dialRaw(tb, raw)
	wl := dialWireLoop(tb, "unix", wire, encodeRequest(params, true))
	ack := make([]byte, 1)
	body := bytes.NewReader(payload)

	fcgiPost := func(name string, c *fcgi.Conn, want string) op {
		var stdout bytes.Buffer
		req := &fcgi.Request{KeepConn: true, Params: params, Stdout: &stdout}
		return op{name, func() error {
			stdout.Reset()
			body.Reset(payload)
			req.Stdin = body
			if _, err := c.Do(context.Background(), req); err != nil {
				return err
			}
			return checkBody(name, stdout.Bytes(), want)
		}}
	}
	return []op{
		fcgiPost(peerConn, conn, "ok"),
		{peerCaddy, func() error {
			setBody(creq, payload)
			var out bytes.Buffer
			if _, err := cp.do(creq, &out); err != nil {
				return err
			}
			if out.String() != "ok" {
				return fmt.Errorf("caddy: body %q", out.String())
			}
			return nil
		}},
		{peerIOCopy, func() error {
			if _, err := rc.Write(rawRequest('W', size)); err != nil {
				return err
			}
			body.Reset(payload)
			if _, err := io.Copy(rc, body); err != nil {
				return err
			}
			_, err := io.ReadFull(rc, ack)
			return err
		}},
		{peerWire, func() error {
			n, err := wl.post(payload)
			if err == nil && n != len(okResponse) {
				err = fmt.Errorf("wire: %d stdout bytes, want %d", n, len(okResponse))
			}
			return err
		}},
		fcgiPost(peerConn+"-server", sconn, fmt.Sprint(size)),
	}
}

func dialRaw(tb testing.TB, path string) net.Conn {
	tb.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// concurrency is the number of requests in flight in the concurrent
// scenarios.
const concurrency = 64

// concurrentPeers are the peers of a concurrent benchmark against a
// FastCGI backend at network/addr (php-fpm or our server) asking for
// target under root: one fcgiscope Client with KEEP_CONN (its MaxConns set
// to the backend's workers, as each php-fpm worker holds one KEEP_CONN
// connection), one without, and one Caddy transport, each shared by all
// workers; newWorker gives every worker its own request and buffers.
type concurrentPeers struct {
	params     []fcgi.Pair
	keep, dial *fcgi.Client
	cp         *caddyPeer
	network    string
	addr       string
	target     string
	want       string
}

func newConcurrentPeers(tb testing.TB, network, addr, root, target, want string, workers int) *concurrentPeers {
	tb.Helper()
	fcgiAddr := addr
	if network == "unix" {
		fcgiAddr = "unix:" + addr
	}
	return &concurrentPeers{
		params:  caddyParams(tb, root, http.MethodGet, target, 0),
		keep:    newClientOpts(tb, fcgiAddr, fcgi.ClientOptions{MaxConns: workers}),
		dial:    newClient(tb, fcgiAddr),
		cp:      newCaddy(tb, root),
		network: network, addr: addr, target: target, want: want,
	}
}

// names lists the peers of newWorker, in order.
func (p *concurrentPeers) names() []string {
	return []string{peerClient, peerDial, peerCaddy}
}

// newWorker returns the operation of the named peer for one worker.
func (p *concurrentPeers) newWorker(name string) op {
	switch name {
	case peerClient:
		return fcgiOp(name, p.keep.Do, &fcgi.Request{KeepConn: true, Params: p.params}, p.want)
	case peerDial:
		return fcgiOp(name, p.dial.Do, &fcgi.Request{Params: p.params}, p.want)
	}
	return caddyGET(p.cp, p.network, p.addr, p.target, p.want)
}

// caddyGET is one Caddy round trip for target whose body must end in want.
func caddyGET(cp *caddyPeer, network, addr, target, want string) op {
	r := cp.request(network, addr, http.MethodGet, target)
	var body bytes.Buffer
	return op{peerCaddy, func() error {
		body.Reset()
		if _, err := cp.do(r, &body); err != nil {
			return err
		}
		if !strings.HasSuffix(body.String(), want) {
			return fmt.Errorf("caddy: body %.80q", body.String())
		}
		return nil
	}}
}

// runConcurrent runs b.N operations from concurrency goroutines, each with
// its own op from newOp, and reports the latency percentiles of single
// operations (p50-ns, p99-ns, p99.9-ns, max-ns) and the throughput (req/s).
func runConcurrent(b *testing.B, newOp func() op) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((concurrency + procs - 1) / procs)
	var (
		mu  sync.Mutex
		all []time.Duration
	)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		o := newOp()
		mu.Unlock()
		var lat []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := o.do(); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(percentile(all, 50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(percentile(all, 99).Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(percentile(all, 999).Nanoseconds()), "p99.9-ns")
	b.ReportMetric(float64(all[len(all)-1].Nanoseconds()), "max-ns")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
}

// cpuMeter measures how many CPUs the whole process kept busy, on
// average, between start and report: user and system time over wall time.
// With the server in this process, that is client and server together.
type cpuMeter struct {
	cpu  time.Duration
	wall time.Time
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{processCPU(), time.Now()} }

// report adds the "cpus" metric to b.
func (m cpuMeter) report(b *testing.B) {
	if wall := time.Since(m.wall); wall > 0 {
		b.ReportMetric(float64(processCPU()-m.cpu)/float64(wall), "cpus")
	}
}

// percentile returns the p-th percentile of sorted (nearest rank); p is in
// percent, or in tenths of a percent when above 100 (999 is p99.9).
func percentile(sorted []time.Duration, p int) time.Duration {
	scale := 100
	if p > 100 {
		scale = 1000
	}
	i := (len(sorted)*p + scale - 1) / scale
	return sorted[max(min(i, len(sorted))-1, 0)]
}

// sortedNames is for stable iteration in tests.
func sortedNames(ops []op) []string {
	names := make([]string, len(ops))
	for i, o := range ops {
		names[i] = o.name
	}
	sort.Strings(names)
	return names
}
