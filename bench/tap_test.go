// The FastCGI tap (`fcgiscope tap`) between nginx and php-fpm, against
// nginx talking to php-fpm directly; and reading a large capture file.

package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
	"fcgiscope/session/tap"
)

// The tap's scenario: the front-end scenario's php-fpm (pm = static,
// frontWorkers workers, unix socket) and wrk (frontClients connections),
// nginx in front, with and without the tap between nginx and php-fpm.
const (
	// tapBig is the size of the large answer (big.php?n=tapBig).
	tapBig = 1 << 20
)

// tapScripts are the pages of BenchmarkTap: a tiny one and a MiB.
var tapScripts = []struct{ name, target string }{
	{"tiny", frontTarget},
	{"1MiB", "/big.php?n=" + strconv.Itoa(tapBig)},
}

// Peers of BenchmarkTap.
const (
	peerDirect    = "direct"     // nginx -> php-fpm
	peerTap       = "tap"        // nginx -> fcgiscope tap -> php-fpm
	peerTapRecord = "tap-record" // the same with --record DIR --record-keep frontKeep
	peerTapOld    = "tap-old"    // $FRONT_OLD tap (another build, e.g. main's), recording off
)

// BenchmarkTap: for each page (tiny: hello.php; 1MiB: big.php of a MiB),
// wrk -t2 -c64 for FRONT_DURATION (after a warm-up of FRONT_WARMUP) against
// nginx in front of php-fpm directly, then with `fcgiscope tap` between
// them, recording off and on, the same php-fpm for all. It reports what
// BenchmarkFrontEnd does (CPU time and peak RSS are the tap's alone for the
// tap rows, nginx's for direct) and, on the tap rows, the ratio of their
// requests per second to direct's measured just before (req/s-ratio) and
// the p50 they add (p50-added-ns), plus what the tap did not capture or
// record (lost-bytes, not-recorded). FRONT_OLD=path/to/fcgiscope adds its
// tap as the peer tap-old (recording off), run between direct and tap.
// Runs once per peer whatever b.N.
func BenchmarkTap(b *testing.B) {
	wrk := lookWrk(b)
	warmup, duration := frontDurations(b)
	bin := buildFcgiscope(b)
	fpm := fcgitest.PHPFPM(b, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: frontWorkers, Listen: fcgitest.ListenUnix})
	peers := []string{peerDirect, peerTap, peerTapRecord}
	old := os.Getenv(envFrontOld)
	if old != "" {
		// Each build right after direct, the old one first.
		peers = []string{peerDirect, peerTapOld, peerTap, peerTapRecord}
	}
	for _, page := range tapScripts {
		var direct wrkResult
		for _, peer := range peers {
			b.Run(page.name+"/"+peer, func(b *testing.B) {
				load := loadAverage()
				var srv *tapServer
				switch peer {
				case peerDirect:
					srv = startTapNginx(b, fpm, fpm.Pass(), nil)
				case peerTapOld:
					srv = startTapChain(b, old, fpm, false)
				default:
					srv = startTapChain(b, bin, fpm, peer == peerTapRecord)
				}
				checkPage(b, srv.url, page.target)
				if _, err := runWrk(wrk, srv.url+page.target, warmup); err != nil {
					b.Fatalf("warm-up: %v", err)
				}
				cpu0 := processesCPU(srv.procs())
				rss := sampleRSS(srv.procs)
				res, err := runWrk(wrk, srv.url+page.target, duration)
				growth := rss.stop()
				cpu := processesCPU(srv.procs()) - cpu0
				peak := peakRSS(srv.procs())
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(res.reqPerSec, "req/s")
				b.ReportMetric(float64(res.p50.Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(res.p99.Nanoseconds()), "p99-ns")
				b.ReportMetric(float64(cpu.Microseconds())/float64(res.requests), "cpu-us/req")
				b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
				b.ReportMetric(growth/(1<<20), "rss-growth-MiB")
				b.ReportMetric(load, "load1")
				// Socket errors (wrk's 2 s timeouts among them, on a
				// busy machine) and non-2xx answers.
				b.ReportMetric(float64(res.errors), "errors")
				if peer == peerDirect {
					direct = res
					return
				}
				if direct.reqPerSec > 0 {
					b.ReportMetric(res.reqPerSec/direct.reqPerSec, "req/s-ratio")
					b.ReportMetric(float64((res.p50 - direct.p50).Nanoseconds()), "p50-added-ns")
				}
				log := srv.stop()
				for _, f := range []struct{ field, unit string }{
					{"behind_bytes", "behind-bytes"}, {"over_memory_bytes", "over-memory-bytes"},
					{"not_recorded", "not-recorded"}, {"recorded", "recorded"}, {"exchanges", "exchanges"},
				} {
					if v, ok := logField(log, "tap stopped", f.field); ok {
						b.ReportMetric(v, f.unit)
					}
				}
			})
		}
	}
}

// tapServer is nginx, and the tap behind it when there is one.
type tapServer struct {
	url   string
	procs func() []int // the tap's process, or nginx's when there is no tap
	stop  func() string
}

// startTapNginx starts nginx in front of pass (php-fpm's socket or the
// tap's), as startNginx does without keep-alive.
func startTapNginx(tb testing.TB, fpm *fcgitest.PHPFPMServer, pass string, tapProcs func() []int) *tapServer {
	ngx := fcgitest.Nginx(tb, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: pass, WorkerConnections: 4 * frontClients})
	procs := func() []int { return withChildren(ngx.PID()) }
	if tapProcs != nil {
		procs = tapProcs
	}
	return &tapServer{url: ngx.URL, procs: procs, stop: func() string { return "" }}
}

// startTapChain starts `fcgiscope tap` on a unix socket in front of fpm
// (--record into a folder of the test's with record), its exchanges (one
// line each) and its log going to files, and nginx in front of it. The
// returned stop interrupts the tap (SIGINT, as Ctrl+C) and returns its log.
func startTapChain(tb testing.TB, bin string, fpm *fcgitest.PHPFPMServer, record bool) *tapServer {
	// A short folder: a unix socket's path has at most 107 bytes.
	dir, err := os.MkdirTemp("", "fcgiscope-tap-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "tap.sock")
	args := []string{"tap", "--listen", "unix:" + sock, "--upstream", "unix:" + fpm.Addr}
	if record {
		args = append(args, "--record", filepath.Join(dir, "rec"), "--record-keep", strconv.Itoa(frontKeep))
	}
	out, err := os.Create(filepath.Join(dir, "exchanges.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd, stop := runCommand(tb, bin, args, out, filepath.Join(dir, "tap.log"), "unix", sock)
	srv := startTapNginx(tb, fpm, "unix:"+sock, func() []int { return []int{cmd.Process.Pid} })
	srv.stop = stop
	return srv
}

// checkPage fails unless url answers target as hello.php or big.php do.
func checkPage(tb testing.TB, url, target string) {
	tb.Helper()
	resp, err := http.Get(url + target)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := []byte(frontBody)
	if strings.HasPrefix(target, "/big.php") {
		want = fcgitest.BigBody(tapBig)
	}
	if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		tb.Fatalf("%s%s: %d, %d bytes, %v: want 200 and %d bytes", url, target, resp.StatusCode, len(body), err, len(want))
	}
}

// logField returns a numeric field of the last logrus text line of log
// whose msg is msg.
func logField(log, msg, field string) (float64, bool) {
	re := regexp.MustCompile(`\b` + regexp.QuoteMeta(field) + `=(\d+)`)
	var v float64
	found := false
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, `msg="`+msg+`"`) {
			continue
		}
		if m := re.FindStringSubmatch(line); m != nil {
			v, _ = strconv.ParseFloat(m[1], 64)
			found = true
		}
	}
	return v, found
}

// Environment of BenchmarkReadCapture.
const (
	// envCaptureMB is the size of the generated capture in MB (default
	// 1024).
	envCaptureMB = "CAPTURE_MB"
	// envCaptureFile names a capture to read instead (its port: 9000).
	envCaptureFile = "CAPTURE_FILE"
)

// captureMSS is the largest segment of the generated capture: an
// Ethernet capture's (1500-byte MTU), a packet for every 1448 bytes.
const captureMSS = 1448

// BenchmarkReadCapture: tap.ReadCapture over a generated pcapng of
// CAPTURE_MB (1024 by default) of FastCGI traffic to port 9000, 8
// connections at a time interleaved segment by segment, each with one
// request answered with 1 KiB, 64 KiB or 1 MiB (in turns) in 65528-byte
// STDOUT records, segments of at most 1448 bytes. Each exchange is
// dropped once emitted, so the heap is the reader's own. It reports the
// file's MB (10^6 bytes) per second, the peak of the heap's live objects
// (sampled every 10 ms), the bytes allocated per MB read and the load
// average, and the file's MB per second of this process's CPU time
// (MB/cpu-s). Runs once whatever b.N.
func BenchmarkReadCapture(b *testing.B) {
	file := os.Getenv(envCaptureFile)
	if file == "" {
		mb := 1024
		if v := os.Getenv(envCaptureMB); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				b.Fatalf("%s=%q: want a number of MB", envCaptureMB, v)
			}
			mb = n
		}
		file = filepath.Join(b.TempDir(), "fcgi.pcapng")
		start := time.Now()
		n, err := writeBenchCapture(file, int64(mb)*1e6)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("generated %d exchanges, %d MB in %v", n, mb, time.Since(start).Round(time.Millisecond))
	}
	fi, err := os.Stat(file)
	if err != nil {
		b.Fatal(err)
	}
	load := loadAverage()
	runtime.GC()
	peak := sampleHeap()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var exchanges, bad int
	cpu0 := selfCPU()
	start := time.Now()
	st, err := tap.ReadCaptureFile(context.Background(), file, tap.CaptureOptions{Port: tap.DefaultPort}, func(x *session.Exchange) {
		exchanges++
		if x.ErrorText() != "" || x.End() == nil {
			bad++
		}
	})
	took := time.Since(start)
	cpu := selfCPU() - cpu0
	heap := peak.stop()
	runtime.ReadMemStats(&ms1)
	if err != nil {
		b.Fatal(err)
	}
	if bad > 0 || st.Missing != 0 || st.Undecoded != 0 || exchanges == 0 {
		b.Errorf("%d exchanges, %d with an error or no END_REQUEST; stats %+v", exchanges, bad, st)
	}
	mbRead := float64(fi.Size()) / 1e6
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(mbRead/took.Seconds(), "MB/s")
	b.ReportMetric(mbRead/cpu.Seconds(), "MB/cpu-s")
	b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(ms1.TotalAlloc-ms0.TotalAlloc)/mbRead, "alloc-B/MB")
	b.ReportMetric(float64(exchanges), "exchanges")
	b.ReportMetric(mbRead, "file-MB")
	b.ReportMetric(load, "load1")
}

// selfCPU returns the user and system time of this process (getrusage):
// on a busy machine, MB per CPU second says what the reading costs when
// MB/s says how long a user waited.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapSampler keeps the peak of the heap's live and not yet swept objects.
type heapSampler struct {
	stopc chan struct{}
	done  chan struct{}
	peak  uint64
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(s.done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			s.peak = max(s.peak, sample[0].Value.Uint64())
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.stopc)
	<-s.done
	return s.peak
}

// writeBenchCapture writes a pcapng of at least size bytes of FastCGI
// exchanges (see BenchmarkReadCapture) into file and returns how many.
func writeBenchCapture(file string, size int64) (int, error) {
	f, err := os.Create(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	cw, err := sessiontest.NewCaptureWriter(bw, time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	if err != nil {
		return 0, err
	}
	cw.Step = time.Microsecond
	sizes := []int{1 << 10, 64 << 10, 1 << 20}
	bodies := make([][]byte, len(sizes))
	for i, n := range sizes {
		bodies[i] = fcgitest.BigBody(n)
	}
	written := func() int64 {
		fi, _ := f.Stat()
		return fi.Size() + int64(bw.Buffered())
	}
	const batch = 8
	n := 0
	for written() < size {
		type conn struct {
			c         *sessiontest.CaptureConn
			req, resp []byte
		}
		var cs []*conn
		for range batch {
			req, resp, err := benchExchange(bodies[n%len(bodies)], n)
			if err != nil {
				return n, err
			}
			// Client ports 1024-65023: a 4-tuple comes back only after
			// 64,000 connections, long closed.
			c, err := cw.Conn(uint16(1024+n%64000), tap.DefaultPort)
			if err != nil {
				return n, err
			}
			cs = append(cs, &conn{c: c, req: req, resp: resp})
			n++
		}
		for _, c := range cs {
			if err := c.c.Write(true, c.req, captureMSS); err != nil {
				return n, err
			}
		}
		// The answers interleaved, a segment of each in turn.
		for open := len(cs); open > 0; {
			open = 0
			for _, c := range cs {
				if len(c.resp) == 0 {
					continue
				}
				k := min(captureMSS, len(c.resp))
				if err := c.c.Write(false, c.resp[:k], captureMSS); err != nil {
					return n, err
				}
				c.resp = c.resp[k:]
				open++
			}
		}
		for _, c := range cs {
			if err := c.c.Close(); err != nil {
				return n, err
			}
		}
	}
	if err := cw.Flush(); err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	return n, f.Close()
}

// benchExchange returns what nginx sends for request n (a GET of
// /big.php, its usual params) and php-fpm's answer with body.
func benchExchange(body []byte, n int) (req, resp []byte, err error) {
	var rq, rs bytes.Buffer
	w := fcgi.NewWriter(&rq)
	uri := fmt.Sprintf("/big.php?n=%d&i=%d", len(body), n)
	params := []fcgi.Pair{
		{Name: "QUERY_STRING", Value: uri[strings.IndexByte(uri, '?')+1:]}, {Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "CONTENT_TYPE", Value: ""}, {Name: "CONTENT_LENGTH", Value: ""},
		{Name: "SCRIPT_NAME", Value: "/big.php"}, {Name: "REQUEST_URI", Value: uri},
		{Name: "DOCUMENT_URI", Value: "/big.php"}, {Name: "DOCUMENT_ROOT", Value: "/var/www/html"},
		{Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"}, {Name: "REQUEST_SCHEME", Value: "http"},
		{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"}, {Name: "SERVER_SOFTWARE", Value: "nginx/1.22.1"},
		{Name: "REMOTE_ADDR", Value: "127.0.0.1"}, {Name: "REMOTE_PORT", Value: "41234"},
		{Name: "SERVER_ADDR", Value: "127.0.0.1"}, {Name: "SERVER_PORT", Value: "80"},
		{Name: "SERVER_NAME", Value: "localhost"}, {Name: "REDIRECT_STATUS", Value: "200"},
		{Name: "SCRIPT_FILENAME", Value: "/var/www/html/big.php"}, {Name: "HTTP_HOST", Value: "localhost"},
		{Name: "HTTP_USER_AGENT", Value: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
		{Name: "HTTP_ACCEPT", Value: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	}
	if err := w.WriteBeginRequest(1, fcgi.RoleResponder, 0); err != nil {
		return nil, nil, err
	}
	if err := w.WriteParams(1, params); err != nil {
		return nil, nil, err
	}
	if err := w.CloseStream(fcgi.TypeStdin, 1); err != nil {
		return nil, nil, err
	}
	ws := fcgi.NewWriter(&rs)
	out := append([]byte("Content-Type: application/octet-stream\r\n\r\n"), body...)
	for len(out) > 0 {
		k := min(len(out), 65528)
		if err := ws.WriteStream(fcgi.TypeStdout, 1, out[:k]); err != nil {
			return nil, nil, err
		}
		out = out[k:]
	}
	if err := ws.CloseStream(fcgi.TypeStdout, 1); err != nil {
		return nil, nil, err
	}
	if err := ws.WriteEndRequest(1, 0, fcgi.StatusRequestComplete); err != nil {
		return nil, nil, err
	}
	return rq.Bytes(), rs.Bytes(), nil
}
