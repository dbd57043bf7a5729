// Benchmarks of fcgiscope's FastCGI client against Caddy's FastCGI
// transport, the wire limit, a plain io.Copy and libfcgi's cgi-fcgi, all
// against the same backends in the same run. bench/run runs them and
// bench/cmd/table turns the output into the table of bench/README.md.

package bench

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"

	"go.uber.org/goleak"
)

// Sizes of the bulk scenarios.
const (
	responseSize = 256 << 20
	postSize     = 64 << 20
)

// runOp times o with b.Loop.
func runOp(b *testing.B, o op) {
	b.ReportAllocs()
	for b.Loop() {
		if err := o.do(); err != nil {
			b.Fatal(err)
		}
	}
}

// runOps runs each op as a sub-benchmark.
func runOps(b *testing.B, ops []op) {
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) { runOp(b, o) })
	}
}

// BenchmarkTinyGET: one tiny GET at a time against fcgi.Server in this
// process over a unix socket. fcgiscope-conn keeps one connection; caddy
// and fcgiscope-dial open one per request (Caddy's transport has no
// keep-alive); wire is the limit of one keep-alive connection.
func BenchmarkTinyGET(b *testing.B) {
	runOps(b, tinyOps(b, startServer(b, false), false))
}

// BenchmarkTinyGETPaired: fcgiscope-conn and the wire loop of
// BenchmarkTinyGET against the same server, in turns of pairBlock requests
// within one benchmark, so that both are timed in the same seconds: on a
// machine whose speed drifts from one minute to the next, their ratio is
// steadier than between two benchmarks run apart. Each peer's rate is
// reported as a metric of its own.
func BenchmarkTinyGETPaired(b *testing.B) {
	const pairBlock = 100
	path := startServer(b, false)
	params := caddyParams(b, "/srv", http.MethodGet, pathHello, 0)
	conn := dialConn(b, "unix:"+path, fcgi.Options{})
	wl := dialWireLoop(b, "unix", path, encodeRequest(params, true))
	peers := []op{
		fcgiOp(peerConn, conn.Do, &fcgi.Request{KeepConn: true, Params: params}, tinyBody),
		{peerWire, func() error {
			n, err := wl.do()
			if err == nil && n == 0 {
				err = errors.New("wire: no stdout")
			}
			return err
		}},
	}
	var spent [2]time.Duration
	var done [2]int
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += pairBlock {
		k := (i / pairBlock) % 2
		n := min(pairBlock, b.N-i)
		start := time.Now()
		for range n {
			if err := peers[k].do(); err != nil {
				b.Fatal(err)
			}
		}
		spent[k] += time.Since(start)
		done[k] += n
	}
	b.StopTimer()
	for k, o := range peers {
		if spent[k] > 0 {
			b.ReportMetric(float64(done[k])/spent[k].Seconds(), o.name+"-req/s")
		}
	}
}

// BenchmarkTinyGETAllocs: the same against fcgi.Server in a child process,
// so that bytes/op and allocs/op count the client alone.
func BenchmarkTinyGETAllocs(b *testing.B) {
	runOps(b, tinyOps(b, startChild(b), true))
}

// BenchmarkRecords: responses of 1 and 64 STDOUT records on one fcgiscope
// connection to the child backend; the difference in allocs/op divided by
// 63 is the allocation per record (trace hook off, then on).
func BenchmarkRecords(b *testing.B) {
	path := startChild(b)
	for _, trace := range []bool{false, true} {
		var opts fcgi.Options
		name := "trace=off"
		if trace {
			opts.Trace = func(fcgi.Event) {}
			name = "trace=on"
		}
		for _, n := range []int{1, 64} {
			o := recordsOp(b, path, n, opts)
			b.Run(name+"/"+o.name, func(b *testing.B) { runOp(b, o) })
		}
	}
}

// BenchmarkPHPFPM64: 64 concurrent requests for hello.php against php-fpm
// (pm=static, 8 workers) over TCP and a unix socket.
func BenchmarkPHPFPM64(b *testing.B) {
	for _, listen := range []struct {
		name string
		kind fcgitest.ListenKind
	}{{"tcp", fcgitest.ListenTCP}, {"unix", fcgitest.ListenUnix}} {
		b.Run(listen.name, func(b *testing.B) {
			const workers = 8
			srv := fcgitest.PHPFPM(b, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: workers, Listen: listen.kind})
			peers := newConcurrentPeers(b, srv.Network, srv.Addr, srv.DocRoot, "/hello.php", "hello", workers)
			for _, name := range peers.names() {
				b.Run(name, func(b *testing.B) {
					runConcurrent(b, func() op { return peers.newWorker(name) })
				})
			}
		})
	}
}

// bulkWarmup is how many transfers each bulk peer makes before it is
// timed: the first 256 MiB response of a process ran at half the speed of
// the next ones (its buffers and the socket's pages still to be faulted
// in), and bench/run runs each benchmark in a process of its own.
const bulkWarmup = 2

// warmUp runs o n times, untimed.
func warmUp(b *testing.B, o op, n int) {
	for range n {
		if err := o.do(); err != nil {
			b.Fatalf("%s: warm-up: %v", o.name, err)
		}
	}
}

// BenchmarkResponse256MiB: a 256 MiB response over a unix socket. fcgiscope
// and Caddy read it from the wire backend (pre-encoded STDOUT records);
// iocopy and read64k read the same payload, unframed, from a raw socket;
// fcgiscope-conn-server reads it from fcgi.Server in this process. Each
// peer is warmed up first (bulkWarmup).
func BenchmarkResponse256MiB(b *testing.B) {
	ops := responseOps(b, responseSize, startServer(b, false))
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.SetBytes(responseSize)
			warmUp(b, o, bulkWarmup)
			runOp(b, o)
		})
	}
}

// BenchmarkPOST64MiB: a 64 MiB request body over a unix socket, to the wire
// backend (fcgiscope, Caddy), to a raw socket (iocopy) and to fcgi.Server
// in this process (fcgiscope-conn-server), each peer warmed up first.
func BenchmarkPOST64MiB(b *testing.B) {
	ops := postOps(b, postSize, startServer(b, false))
	for _, o := range ops {
		b.Run(o.name, func(b *testing.B) {
			b.SetBytes(postSize)
			warmUp(b, o, bulkWarmup)
			runOp(b, o)
		})
	}
}

// BenchmarkMux: tiny GETs on one fcgiscope connection to fcgi.Server with
// MpxsConns, one at a time and 64 at once; against the server in this
// process (the scenario of the goal: client and server share the two
// cores) and in a child process (the client's own gain).
func BenchmarkMux(b *testing.B) {
	for _, backend := range []struct {
		name  string
		start func(testing.TB) string
	}{
		{"inproc", func(tb testing.TB) string { return startServer(tb, true) }},
		{"child", startChild},
	} {
		b.Run(backend.name, func(b *testing.B) {
			path := backend.start(b)
			params := caddyParams(b, "/srv", http.MethodGet, pathHello, 0)
			conn := dialConn(b, "unix:"+path, fcgi.Options{})
			newOp := func() op {
				return fcgiOp(peerConn, conn.Do, &fcgi.Request{KeepConn: true, Params: params}, tinyBody)
			}
			// cpus: how much of the machine each keeps busy.
			b.Run("one-at-a-time", func(b *testing.B) {
				m := startCPU()
				runOp(b, newOp())
				m.report(b)
			})
			b.Run(fmt.Sprintf("concurrent-%d", concurrency), func(b *testing.B) {
				m := startCPU()
				runConcurrent(b, newOp)
				m.report(b)
			})
		})
	}
}

// BenchmarkChanPipeline is the reference for Mux's cpus: 64 goroutines
// each hand a request to one server goroutine over a channel and wait for
// its answer, with work on both sides and no socket in between. It shows
// how busy the Go scheduler keeps the cores when nothing waits on the
// network.
func BenchmarkChanPipeline(b *testing.B) {
	type request struct{ answer chan uint64 }
	in := make(chan request, concurrency)
	go func() {
		for r := range in {
			r.answer <- spin(600)
		}
	}()
	defer close(in)
	var sink atomic.Uint64
	m := startCPU()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((concurrency + procs - 1) / procs)
	b.RunParallel(func(pb *testing.PB) {
		answer := make(chan uint64, 1)
		var sum uint64
		for pb.Next() {
			sum += spin(1200)
			in <- request{answer}
			sum += <-answer
		}
		sink.Add(sum)
	})
	m.report(b)
}

// BenchmarkIdleWake: how long a goroutine readied while this P is busy
// waits before the other P, idle, runs it: the wake-up of an idle core,
// which the Mux benchmark pays whenever both sides wait on the socket at
// once. Each iteration lets the other P go idle (0.5 ms), readies the
// goroutine, and keeps this P busy for 2 ms; p50-ns, p90-ns and p99-ns are
// the waits.
func BenchmarkIdleWake(b *testing.B) {
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two Ps")
	}
	ready := make(chan time.Time)
	waited := make(chan time.Duration)
	go func() {
		for t0 := range ready {
			waited <- time.Since(t0)
		}
	}()
	defer close(ready)
	var all []time.Duration
	for b.Loop() {
		time.Sleep(500 * time.Microsecond)
		got := make(chan time.Duration, 1)
		go func() { got <- <-waited }()
		t0 := time.Now()
		ready <- t0
		for time.Since(t0) < 2*time.Millisecond {
		}
		all = append(all, <-got)
	}
	slices.Sort(all)
	b.ReportMetric(float64(percentile(all, 50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(percentile(all, 90).Nanoseconds()), "p90-ns")
	b.ReportMetric(float64(percentile(all, 99).Nanoseconds()), "p99-ns")
}

// spin is n steps of arithmetic, for work that cannot be optimized away.
func spin(n int) uint64 {
	x := uint64(n)
	for i := range n {
		x = x*6364136223846793005 + uint64(i)
	}
	return x
}

// BenchmarkSingleRequest: the latency of one request on a fresh connection,
// for libfcgi's cgi-fcgi (a process per request) as a reference point,
// against fcgi.Server in this process and php-fpm over a unix socket.
func BenchmarkSingleRequest(b *testing.B) {
	bin := fcgitest.CGIFCGI(b)
	b.Run("server", func(b *testing.B) {
		path := startServer(b, false)
		params := caddyParams(b, "/srv", http.MethodGet, pathHello, 0)
		runOps(b, []op{
			cgiFCGIOp(b, bin, path, params, tinyBody),
			fcgiOp(peerDial, newClient(b, "unix:"+path).Do, &fcgi.Request{Params: params}, tinyBody),
			caddyGET(newCaddy(b, "/srv"), "unix", path, pathHello, tinyBody),
		})
	})
	b.Run("php-unix", func(b *testing.B) {
		srv := fcgitest.PHPFPM(b, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: 8, Listen: fcgitest.ListenUnix})
		params := caddyParams(b, srv.DocRoot, http.MethodGet, "/hello.php", 0)
		runOps(b, []op{
			cgiFCGIOp(b, bin, srv.Addr, params, "hello"),
			fcgiOp(peerDial, newClient(b, "unix:"+srv.Addr).Do, &fcgi.Request{Params: params}, "hello"),
			caddyGET(newCaddy(b, srv.DocRoot), "unix", srv.Addr, "/hello.php", "hello"),
		})
	})
}

// TestMain serves the small handler instead of testing when the benchmark
// process started this binary as its child backend (see startChild).
func TestMain(m *testing.M) {
	if path := os.Getenv(childEnv); path != "" {
		os.Exit(runChild(path))
	}
	goleak.VerifyTestMain(m)
}
