// HTTP front ends in front of php-fpm: nginx against `fcgiscope proxy`,
// each a process of its own, driven by the same load generator (wrk).

package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
)

// The front-end scenario: php-fpm with pm = static and frontWorkers workers
// on a unix socket, hello.php, frontClients HTTP keep-alive connections from
// wrk's frontThreads threads.
const (
	frontWorkers = 8
	frontClients = 64
	frontThreads = 2
	frontTarget  = "/hello.php"
	frontBody    = "hello"
	// frontKeep is what the recording peers keep (--record-keep).
	frontKeep = 1000
)

// Environment of BenchmarkFrontEnd (bench/run passes them through).
const (
	// envFrontDuration is how long each peer is timed (default 10s), after
	// a warm-up of envFrontWarmup (default 2s) whose figures are dropped.
	envFrontDuration = "FRONT_DURATION"
	envFrontWarmup   = "FRONT_WARMUP"
	// envFrontOld names another fcgiscope binary (for example main's) to
	// run as the peers proxy-old and proxy-old-record in the same rounds,
	// for before/after figures.
	envFrontOld = "FRONT_OLD"
	// envFrontTags, when set, are the build tags of this checkout's
	// fcgiscope for the proxy peers (go build -tags), for example
	// "headless" to compare with a FRONT_OLD built so: the tag leaves Fyne
	// out of the binary, about 16 MiB less RSS.
	envFrontTags = "FRONT_TAGS"
)

// Peers of BenchmarkFrontEnd.
const (
	peerNginx       = "nginx"            // fastcgi_pass to the socket: a connection per request
	peerNginxKeep   = "nginx-keepconn"   // fastcgi_keep_conn on, upstream keepalive frontWorkers
	peerProxy       = "proxy"            // fcgiscope proxy --max-conns frontWorkers (its defaults otherwise)
	peerProxyDial   = "proxy-dial"       // the same with --keep-conn off
	peerProxyRecord = "proxy-record"     // proxy with --record DIR --record-keep frontKeep
	peerRecordShm   = "proxy-record-shm" // the same recording into /dev/shm (tmpfs)
	peerProxyOld    = "proxy-old"        // $FRONT_OLD proxy --max-conns frontWorkers
	peerOldRecord   = "proxy-old-record"
)

// frontEnd is one HTTP server in front of php-fpm: how to start it, and
// which processes are its own (for their CPU time and memory).
type frontEnd struct {
	name  string
	start func(tb testing.TB, fpm *fcgitest.PHPFPMServer) *frontServer
}

// frontServer is a started front end.
type frontServer struct {
	url   string
	procs func() []int // its processes
	// stop, when set, stops it and returns its log (the proxy's, whose
	// last lines count what the recording dropped); otherwise it is
	// stopped at the end of the test.
	stop func() string
}

// frontEnds returns the peers, in the order they run in each round.
func frontEnds(tb testing.TB) []frontEnd {
	bin := buildFcgiscopeTags(tb, os.Getenv(envFrontTags))
	proxy := func(name, bin string, args ...string) frontEnd {
		return frontEnd{name, func(tb testing.TB, fpm *fcgitest.PHPFPMServer) *frontServer {
			return startProxy(tb, bin, fpm, args...)
		}}
	}
	fes := []frontEnd{
		{peerNginx, func(tb testing.TB, fpm *fcgitest.PHPFPMServer) *frontServer {
			return startNginx(tb, fpm, false)
		}},
		proxy(peerProxyDial, bin, "--keep-conn", "off"),
		{peerNginxKeep, func(tb testing.TB, fpm *fcgitest.PHPFPMServer) *frontServer {
			return startNginx(tb, fpm, true)
		}},
		proxy(peerProxy, bin),
		proxy(peerProxyRecord, bin, "--record", "", "--record-keep", strconv.Itoa(frontKeep)),
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		fes = append(fes, proxy(peerRecordShm, bin, "--record", shmRecord, "--record-keep", strconv.Itoa(frontKeep)))
	}
	if old := os.Getenv(envFrontOld); old != "" {
		fes = append(fes, proxy(peerProxyOld, old), proxy(peerOldRecord, old, "--record", "", "--record-keep", strconv.Itoa(frontKeep)))
	}
	return fes
}

// BenchmarkFrontEnd: wrk -t2 -c64 for FRONT_DURATION (after a warm-up of
// FRONT_WARMUP) against each HTTP front end in turn, in front of the same
// php-fpm (pm = static, 8 workers, unix socket) serving hello.php. It
// reports wrk's requests per second and its p50 and p99, the front end's CPU
// time per request (utime+stime of its processes from /proc, in µs), that
// of php-fpm (master and workers), the front end's peak RSS (VmHWM, MiB) and
// how much its RSS grew from the first third of the timed run to the last
// (medians of samples every 250 ms, MiB), and the load average (1 min) when
// the peer started. The function runs once per peer whatever b.N:
// -benchtime does not apply.
func BenchmarkFrontEnd(b *testing.B) {
	wrk := lookWrk(b)
	warmup, duration := frontDurations(b)
	fpm := fcgitest.PHPFPM(b, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: frontWorkers, Listen: fcgitest.ListenUnix})
	for _, fe := range frontEnds(b) {
		b.Run(fe.name, func(b *testing.B) {
			load := loadAverage()
			srv := fe.start(b, fpm)
			if _, err := runWrk(wrk, srv.url+frontTarget, warmup); err != nil {
				b.Fatalf("%s: warm-up: %v", fe.name, err)
			}
			fpmCPU0, cpu0 := treeCPU([]int{fpm.PID()}), processesCPU(srv.procs())
			rss := sampleRSS(srv.procs)
			res, err := runWrk(wrk, srv.url+frontTarget, duration)
			growth := rss.stop()
			cpu, fpmCPU := processesCPU(srv.procs())-cpu0, treeCPU([]int{fpm.PID()})-fpmCPU0
			peak := peakRSS(srv.procs())
			if err != nil {
				b.Fatalf("%s: %v", fe.name, err)
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(res.reqPerSec, "req/s")
			b.ReportMetric(float64(res.p50.Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(res.p99.Nanoseconds()), "p99-ns")
			b.ReportMetric(float64(cpu.Microseconds())/float64(res.requests), "cpu-us/req")
			b.ReportMetric(float64(fpmCPU.Microseconds())/float64(res.requests), "fpm-cpu-us/req")
			b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
			b.ReportMetric(growth/(1<<20), "rss-growth-MiB")
			b.ReportMetric(load, "load1")
			// nginx with fastcgi_keep_conn times requests out (see
			// README.md); fcgiscope must answer every one.
			b.ReportMetric(float64(res.errors), "errors")
			if res.errors > 0 && strings.HasPrefix(fe.name, "proxy") {
				b.Errorf("%s: %d requests failed (socket errors or non-2xx answers)", fe.name, res.errors)
			}
			if srv.stop != nil {
				log := srv.stop()
				if m := recordingLine.FindStringSubmatch(log); m != nil {
					recorded, _ := strconv.ParseFloat(m[2], 64)
					dropped, _ := strconv.ParseFloat(m[1], 64)
					b.ReportMetric(dropped/(dropped+recorded), "dropped-frac")
				}
			}
		})
	}
}

// recordingLine is the proxy's last word on its recording (logrus text):
// dropped=N ... recorded=M.
var recordingLine = regexp.MustCompile(`msg="recording closed" dropped=(\d+) .*recorded=(\d+)`)

// frontDurations returns the warm-up and the timed duration.
func frontDurations(tb testing.TB) (warmup, duration time.Duration) {
	get := func(env string, def time.Duration) time.Duration {
		v := os.Getenv(env)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			tb.Fatalf("%s=%q: want a duration of at least 1s", env, v)
		}
		return d
	}
	return get(envFrontWarmup, 2*time.Second), get(envFrontDuration, 10*time.Second)
}

// lookWrk finds wrk, failing when FCGISCOPE_REQUIRE_PHPFPM is set (as
// bench/run does) and skipping otherwise.
func lookWrk(tb testing.TB) string {
	path, err := exec.LookPath("wrk")
	if err != nil {
		if os.Getenv("FCGISCOPE_REQUIRE_PHPFPM") != "" {
			tb.Fatal("wrk is not installed (package wrk)")
		}
		tb.Skip("wrk is not installed (package wrk)")
	}
	return path
}

// buildFcgiscope builds the fcgiscope binary of this checkout (the module
// in ..), as a user runs it.
func buildFcgiscope(tb testing.TB) string { return buildFcgiscopeTags(tb, "") }

// buildFcgiscopeTags is buildFcgiscope with build tags (go build -tags),
// none when empty.
func buildFcgiscopeTags(tb testing.TB, tags string) string {
	bin := filepath.Join(tb.TempDir(), "fcgiscope")
	args := []string{"build", "-o", bin}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building fcgiscope: %v\n%s", err, out)
	}
	return bin
}

// startNginx starts nginx in front of fpm (one worker, access log on, as
// fcgitest.Nginx writes it), with fastcgi_keep_conn on and an upstream
// keeping frontWorkers idle connections when keep is set.
func startNginx(tb testing.TB, fpm *fcgitest.PHPFPMServer, keep bool) *frontServer {
	// worker_connections: the clients, as many connections to php-fpm,
	// and room to spare.
	opts := fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: fpm.Pass(), WorkerConnections: 4 * frontClients}
	if keep {
		opts.ExtraHTTP = fmt.Sprintf("upstream php { server %s; keepalive %d; }", fpm.Pass(), frontWorkers)
		opts.FastCGIPass, opts.ExtraLocation = "php", "fastcgi_keep_conn on;"
	}
	ngx := fcgitest.Nginx(tb, opts)
	checkFront(tb, ngx.URL)
	return &frontServer{url: ngx.URL, procs: func() []int { return withChildren(ngx.PID()) }}
}

// shmRecord, given to startProxy as --record's folder, stands for a folder
// of the test's in /dev/shm.
const shmRecord = "<shm>"

// startProxy runs `bin proxy` in front of fpm with --max-conns frontWorkers
// and args (an empty --record gets a folder of the test's, shmRecord one
// in /dev/shm), its log (one
// line per exchange at info, its default) going to a file. The returned
// stop interrupts it (SIGINT, as Ctrl+C) and returns the log.
func startProxy(tb testing.TB, bin string, fpm *fcgitest.PHPFPMServer, args ...string) *frontServer {
	args = slices.Clone(args)
	for i, a := range args {
		if a != "--record" || i+1 == len(args) {
			continue
		}
		switch args[i+1] {
		case "":
			args[i+1] = filepath.Join(tb.TempDir(), "rec")
		case shmRecord:
			dir, err := os.MkdirTemp("/dev/shm", "fcgiscope-bench-")
			if err != nil {
				tb.Fatal(err)
			}
			tb.Cleanup(func() { os.RemoveAll(dir) })
			args[i+1] = dir
		}
	}
	port := fcgitest.FreePort(tb)
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args = append([]string{"proxy", "--listen", listen, "--addr", "unix:" + fpm.Addr, "--docroot", fpm.DocRoot,
		"--max-conns", strconv.Itoa(frontWorkers)}, args...)
	cmd, stop := runCommand(tb, bin, args, nil, filepath.Join(tb.TempDir(), "proxy.log"), "tcp", listen)
	url := "http://" + listen
	checkFront(tb, url)
	return &frontServer{url: url, procs: func() []int { return []int{cmd.Process.Pid} }, stop: stop}
}

// checkFront fails unless url answers frontTarget with frontBody.
func checkFront(tb testing.TB, url string) {
	tb.Helper()
	resp, err := http.Get(url + frontTarget)
	if err != nil {
		tb.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != frontBody {
		tb.Fatalf("%s%s: %d %q %v, want 200 %q", url, frontTarget, resp.StatusCode, body, err, frontBody)
	}
}

// wrkResult is what runWrk reads from wrk's report.
type wrkResult struct {
	requests  int64
	reqPerSec float64
	p50, p99  time.Duration
	errors    int64 // socket errors and non-2xx answers
}

var (
	wrkRequests = regexp.MustCompile(`(?m)^\s*(\d+) requests in `)
	wrkRate     = regexp.MustCompile(`(?m)^Requests/sec:\s+([\d.]+)`)
	wrkPct      = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(us|ms|s)\b`)
	wrkNon2xx   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// runWrk runs wrk -t2 -c64 --latency against url for d and reads its
// report; any socket error or non-2xx answer is an error.
func runWrk(wrk, url string, d time.Duration) (wrkResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wrk, "-t", strconv.Itoa(frontThreads), "-c", strconv.Itoa(frontClients),
		"-d", strconv.Itoa(int(d.Seconds()))+"s", "--latency", url)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	return parseWrk(out)
}

// parseWrk reads the figures of a wrk --latency report.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	if m := wrkNon2xx.FindSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		r.errors += n
	}
	if m := wrkSocket.FindSubmatch(out); m != nil {
		for _, f := range m[1:] {
			n, _ := strconv.ParseInt(string(f), 10, 64)
			r.errors += n
		}
	}
	m1, m2 := wrkRequests.FindSubmatch(out), wrkRate.FindSubmatch(out)
	if m1 == nil || m2 == nil {
		return r, fmt.Errorf("wrk: no request count or rate in\n%s", out)
	}
	r.requests, _ = strconv.ParseInt(string(m1[1]), 10, 64)
	r.reqPerSec, _ = strconv.ParseFloat(string(m2[1]), 64)
	for _, m := range wrkPct.FindAllSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(string(m[2]), 64)
		unit := map[string]float64{"us": 1e3, "ms": 1e6, "s": 1e9}[string(m[3])]
		d := time.Duration(v * unit)
		if string(m[1]) == "50" {
			r.p50 = d
		} else {
			r.p99 = d
		}
	}
	if r.requests == 0 || r.p50 == 0 || r.p99 == 0 {
		return r, fmt.Errorf("wrk: incomplete report\n%s", out)
	}
	return r, nil
}

// clockTick is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// every Linux platform Go supports.
const clockTick = 10 * time.Millisecond

// procStat returns the parent pid and the user+system CPU time of pid,
// from /proc/PID/stat.
func procStat(pid int) (ppid int, cpu time.Duration, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name may hold spaces and parentheses: fields count from
	// the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, time.Duration(ut+st) * clockTick, true
}

// processesCPU sums the CPU time of pids.
func processesCPU(pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		if _, cpu, ok := procStat(pid); ok {
			sum += cpu
		}
	}
	return sum
}

// treeCPU sums the CPU time of roots and their children.
func treeCPU(roots []int) time.Duration {
	var all []int
	for _, r := range roots {
		all = append(all, withChildren(r)...)
	}
	return processesCPU(all)
}

// withChildren returns pid and the pids of its children (nginx's workers,
// php-fpm's).
func withChildren(pid int) []int {
	out := []int{pid}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(child); ok && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// statusKB returns a field of /proc/PID/status in bytes (VmRSS, VmHWM).
func statusKB(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// peakRSS sums the VmHWM of pids.
func peakRSS(pids []int) int64 {
	var sum int64
	for _, pid := range pids {
		sum += statusKB(pid, "VmHWM")
	}
	return sum
}

// rssSampler samples the summed VmRSS of a set of processes every 250 ms.
type rssSampler struct {
	stopc   chan struct{}
	done    chan struct{}
	samples []float64
}

func sampleRSS(procs func() []int) *rssSampler {
	s := &rssSampler{stopc: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			var sum int64
			for _, pid := range procs() {
				sum += statusKB(pid, "VmRSS")
			}
			s.samples = append(s.samples, float64(sum))
			select {
			case <-s.stopc:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the growth of the RSS: the median of
// the last third of the samples minus that of the first third.
func (s *rssSampler) stop() float64 {
	close(s.stopc)
	<-s.done
	n := len(s.samples) / 3
	if n == 0 {
		return 0
	}
	med := func(v []float64) float64 {
		v = slices.Clone(v)
		slices.Sort(v)
		return v[len(v)/2]
	}
	return med(s.samples[len(s.samples)-n:]) - med(s.samples[:n])
}

// loadAverage returns the 1-minute load average.
func loadAverage() float64 {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// runCommand starts bin with args, its stdout into stdout (into the log
// when nil) and its stderr into a log at logPath, and waits until network
// addr accepts a connection (20 s at most). stop interrupts it (SIGINT, as
// Ctrl+C; SIGKILL after 30 s), closes its files and returns its log; it also
// runs at the end of tb.
func runCommand(tb testing.TB, bin string, args []string, stdout *os.File, logPath, network, addr string) (*exec.Cmd, func() string) {
	tb.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if stdout != nil {
		cmd.Stdout = stdout
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop := func() string {
		once.Do(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			if stdout != nil {
				stdout.Close()
			}
			log.Close()
		})
		out, _ := os.ReadFile(logPath)
		return string(out)
	}
	tb.Cleanup(func() { stop() })
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return cmd, stop
		}
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logPath)
			tb.Fatalf("fcgiscope %s exited: %v\n%s", strings.Join(args, " "), err, out)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("fcgiscope %s not listening on %s after 20 s", args[0], addr)
		}
	}
}
