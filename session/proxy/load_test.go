// Load test of the recording proxy against real php-fpm: errors, memory,
// leaked connections, throughput and latency under many HTTP clients.

package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fcgiscope/session"
	"fcgiscope/session/sessiontest"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// Environment variables of TestProxyLoad, and their defaults: a short run
// that `go test -race ./...` affords. bench/run sets 60s (README.md there,
// "Load").
const (
	envLoadDuration = "FCGISCOPE_LOAD_DURATION"
	envLoadClients  = "FCGISCOPE_LOAD_CLIENTS"

	defaultLoadDuration = 5 * time.Second
	defaultLoadClients  = 200
)

// The load test's set-up.
const (
	loadWorkers     = 8    // php-fpm pm.max_children, pm = static; the proxy's --max-conns
	loadKeepFiles   = 1000 // recorded exchanges kept (Proxy.KeepFiles)
	loadRequestWait = 30 * time.Second
	loadPostSize    = 4 << 10
)

// loadCase is one kind of request the clients send, with the answer
// php-fpm gives to it.
type loadCase struct {
	method, path string
	body         []byte
	status       int
	want         string // the whole body
}

func loadCases() []loadCase {
	post := bytes.Repeat([]byte("0123456789abcdef"), loadPostSize/16)
	return []loadCase{
		{"GET", "/hello.php", nil, 200, "hello"},
		{"GET", "/hello.php?q=1", nil, 200, "hello"},
		{"POST", "/post.php", post, 200, fcgitest.PostDigest(post)},
		{"GET", "/status.php?code=404", nil, 404, "status 404\n"},
		{"GET", "/missing.php", nil, 404, "File not found.\n"}, // php-fpm's own answer
	}
}

// TestProxyLoad runs FCGISCOPE_LOAD_CLIENTS HTTP clients (default 200), each
// sending requests one after the other, through the recording proxy to
// php-fpm for FCGISCOPE_LOAD_DURATION (default 5s), everything on loopback.
// It asserts that every request gets php-fpm's answer (no 502, no
// transport error, no failed exchange or recording), that the live heap and
// the RSS stay flat after the warm-up (the RSS is not checked under -race),
// that php-fpm's listen queue never held more than the proxy's connection
// limit, and that no goroutine, file descriptor or connection to php-fpm is
// left afterwards, php-fpm itself having nothing queued and only the status
// request active. It logs requests/s, latency percentiles, memory and
// connections: run it with -v.
//
// The proxy records every exchange and keeps the newest loadKeepFiles
// (Proxy.KeepFiles), as `fcgiscope proxy --record DIR --record-keep 1000`.
func TestProxyLoad(t *testing.T) {
	duration, clients := loadConfig(t)
	fcgitest.NoFDLeak(t)
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: loadWorkers})
	sessiontest.NoLeaks(t)

	// As `fcgiscope proxy --max-conns 8`: as many idle connections kept,
	// and FCGI_KEEP_CONN on once php-fpm is recognized.
	pool := session.NewPool(session.PoolOptions{MaxConns: map[string]int{fpm.Addr: loadWorkers}, MaxIdle: loadWorkers})
	t.Cleanup(func() { pool.Close() })
	p := New(session.NewEngine(pool, session.EngineOptions{Timeout: loadRequestWait}), fpm.Addr, HTTPBuilder(fpm.DocRoot))
	recDir := t.TempDir()
	var recordErrs atomic.Int64
	var firstRecordErr atomic.Value
	// A queue of 64: the default's 1024 exchanges waiting to be written, a
	// bounded few MiB when the disk is slower than the load, would read as
	// heap growth in the flatness check below.
	rec := session.NewRecorder(session.RecorderOptions{Dir: recDir, KeepFiles: loadKeepFiles, Queue: 64, ErrorLog: func(err error) {
		if recordErrs.Add(1) == 1 {
			firstRecordErr.Store(err)
		}
	}})
	t.Cleanup(func() { rec.Close() })
	p.Recorder = rec
	p.ConnLimitFits = true

	// A subscriber drains the exchanges, as the CLI's logger does, and
	// counts those that failed.
	sub, unsubscribe := p.Subscribe()
	var published, failed atomic.Int64
	var firstFailure atomic.Value
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for x := range sub {
			published.Add(1)
			if msg := x.ErrorText(); msg != "" && failed.Add(1) == 1 {
				firstFailure.Store(msg)
			}
		}
	}()

	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() { served <- p.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { ready <- a }) }()
	stopped := false
	t.Cleanup(func() { // when the test stops early
		if !stopped {
			stop()
			<-served
		}
		unsubscribe()
		<-drained
	})
	var base string
	select {
	case a := <-ready:
		base = "http://" + a.String()
	case err := <-served:
		stopped = true
		t.Fatal(err)
	}

	transport := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	httpc := &http.Client{Transport: transport, Timeout: loadRequestWait,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var (
		hist      latencyHist
		wrong     atomic.Int64
		wrongMsgs = make(chan string, 8)
		warm      atomic.Bool // past the warm-up: count into hist
		counted   atomic.Int64
	)
	cases := loadCases()
	start := time.Now()
	deadline := start.Add(duration)
	warmup := max(duration/5, time.Second)
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := c; time.Now().Before(deadline); i++ {
				lc := cases[i%len(cases)]
				t0 := time.Now()
				err := lc.do(httpc, base)
				if err != nil {
					wrong.Add(1)
					select {
					case wrongMsgs <- err.Error():
					default:
					}
					continue
				}
				if warm.Load() {
					hist.add(time.Since(t0))
					counted.Add(1)
				}
			}
		})
	}

	// Memory, goroutines and descriptors, sampled while the load runs.
	var samples []loadSample
	interval := max((duration-warmup)/16, 200*time.Millisecond)
	time.Sleep(warmup)
	warm.Store(true)
	measureStart := time.Now()
	for time.Now().Add(interval).Before(deadline) {
		time.Sleep(interval)
		samples = append(samples, sampleLoad())
	}
	wg.Wait()
	measured := time.Since(measureStart)
	transport.CloseIdleConnections()

	stop()
	stopped = true
	if err := <-served; err != nil {
		t.Errorf("ListenAndServe: %v", err)
	}
	unsubscribe()
	<-drained
	rec.Close()
	keeping := p.KeepingConns()
	// The kept connections hold php-fpm workers until the pool closes them.
	pool.Close()
	status := settledStatus(t, fpm)
	after := sampleLoad()
	if len(samples) < 6 {
		t.Fatalf("only %d samples after the warm-up of %v: run longer", len(samples), warmup)
	}

	// Errors.
	close(wrongMsgs)
	var msgs []string
	for m := range wrongMsgs {
		msgs = append(msgs, m)
	}
	if n := wrong.Load(); n > 0 {
		t.Errorf("%d requests did not get php-fpm's answer; first ones:\n%s", n, strings.Join(msgs, "\n"))
	}
	if n := failed.Load(); n > 0 {
		t.Errorf("%d exchanges failed; first: %v", n, firstFailure.Load())
	}
	recStats := rec.Stats()
	if recStats.Failed > 0 {
		t.Errorf("%d recordings failed; first error logged: %v", recStats.Failed, firstRecordErr.Load())
	}
	total := published.Load() + int64(p.Dropped())
	if total == 0 || counted.Load() == 0 {
		t.Fatalf("no request completed (%d published)", total)
	}

	// Recording: the newest loadKeepFiles exchanges recorded, nothing else.
	files, err := os.ReadDir(recDir)
	if err != nil {
		t.Fatal(err)
	}
	var kept int64
	for _, f := range files {
		if fi, err := f.Info(); err == nil {
			kept += fi.Size()
		}
	}
	if recStats.Recorded+recStats.Dropped != uint64(total) {
		t.Errorf("the recorder recorded %d and dropped %d of %d exchanges", recStats.Recorded, recStats.Dropped, total)
	}
	if want := min(recStats.Recorded, loadKeepFiles); uint64(len(files)) != want {
		t.Errorf("%d files in the recording folder, want %d (of %d recorded)", len(files), want, recStats.Recorded)
	} else if x, err := session.LoadExchangeFile(filepath.Join(recDir, files[len(files)-1].Name())); err != nil || x.Response() == nil {
		t.Errorf("the newest recording does not load with a response: %v", err)
	}

	// Memory flat after the warm-up.
	heapGrowth, rssGrowth := growth(samples, func(s loadSample) uint64 { return s.heap }),
		growth(samples, func(s loadSample) uint64 { return s.rss })
	if limit := flatLimit(samples[0].heap); heapGrowth > limit {
		t.Errorf("live heap grew by %s after the warm-up (limit %s): %s", mib(heapGrowth), mib(limit), seriesText(samples, "heap"))
	}
	if limit := flatLimit(samples[0].rss) + 16<<20; rssGrowth > limit && !fcgitest.RaceEnabled {
		t.Errorf("RSS grew by %s after the warm-up (limit %s): %s", mib(rssGrowth), mib(limit), seriesText(samples, "rss"))
	}

	// Connections: never more than the limit to php-fpm (connections
	// beyond its workers would wait in its listen queue), none left.
	if n := tcpConnsTo(t, fpm.Addr); n != 0 {
		t.Errorf("%d connections to php-fpm still established after the pool closed", n)
	}
	if status["listen queue"] != "0" || status["active processes"] != "1" {
		t.Errorf("php-fpm %v after the run: listen queue %q, active processes %q (want 0 and 1, the status request)", loadRequestWait,
			status["listen queue"], status["active processes"])
	}
	if mq, err := strconv.Atoi(status["max listen queue"]); err != nil || mq > loadWorkers {
		t.Errorf("php-fpm's max listen queue %q: want at most MaxConns %d", status["max listen queue"], loadWorkers)
	}

	n := counted.Load()
	t.Logf("load: %d clients, %v (%v warm-up), php-fpm pm=static max_children=%d, proxy MaxConns %d, KEEP_CONN %v, "+
		"recording kept %d of %d exchanges (%s; %d recorded, %d dropped), load average %s",
		clients, duration, warmup, loadWorkers, loadWorkers, keeping, len(files), total, mib(uint64(kept)),
		recStats.Recorded, recStats.Dropped, loadAverage())
	t.Logf("load: %d requests in %v after the warm-up: %.0f req/s; latency p50 %v, p90 %v, p99 %v, max %v",
		n, measured.Round(time.Millisecond), float64(n)/measured.Seconds(),
		hist.quantile(0.50), hist.quantile(0.90), hist.quantile(0.99), hist.quantile(1))
	t.Logf("load: live heap %s → %s (growth %s), RSS %s → %s (growth %s), after the run: heap %s, RSS %s",
		mib(samples[0].heap), mib(samples[len(samples)-1].heap), mib(heapGrowth),
		mib(samples[0].rss), mib(samples[len(samples)-1].rss), mib(rssGrowth), mib(after.heap), mib(after.rss))
	t.Logf("load: during the run: up to %d goroutines, %d fds; php-fpm: accepted conn %s, max listen queue %s, max active processes %s; subscriber dropped %d",
		maxOf(samples, func(s loadSample) int { return s.goroutines }), maxOf(samples, func(s loadSample) int { return s.fds }),
		status["accepted conn"], status["max listen queue"], status["max active processes"], p.Dropped())
}

// loadConfig reads the duration and the number of clients from the
// environment.
func loadConfig(t *testing.T) (time.Duration, int) {
	t.Helper()
	duration, clients := defaultLoadDuration, defaultLoadClients
	if v := os.Getenv(envLoadDuration); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 2*time.Second {
			t.Fatalf("%s=%q: want a duration of 2s or more", envLoadDuration, v)
		}
		duration = d
	}
	if v := os.Getenv(envLoadClients); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", envLoadClients, v)
		}
		clients = n
	}
	return duration, clients
}

// do sends the request and checks php-fpm's answer came back whole.
func (lc loadCase) do(c *http.Client, base string) error {
	var body io.Reader
	if lc.body != nil {
		body = bytes.NewReader(lc.body)
	}
	req, err := http.NewRequest(lc.method, base+lc.path, body)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", lc.method, lc.path, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: reading the body: %w", lc.method, lc.path, err)
	case resp.StatusCode != lc.status || string(got) != lc.want:
		return fmt.Errorf("%s %s: %d %.200q, want %d %q", lc.method, lc.path, resp.StatusCode, got, lc.status, lc.want)
	}
	return nil
}

// loadSample is one measurement while the load runs.
type loadSample struct {
	heap, rss       uint64 // live heap after the last GC; resident set size
	goroutines, fds int
}

func sampleLoad() loadSample {
	m := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(m)
	s := loadSample{goroutines: runtime.NumGoroutine(), rss: rss()}
	if m[0].Value.Kind() == metrics.KindUint64 {
		s.heap = m[0].Value.Uint64()
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		s.fds = len(ents)
	}
	return s
}

// rss returns the resident set size from /proc/self/statm, 0 where there is none.
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

// growth is how much the value grew from the first third of the samples to
// the last third, comparing medians (0 if it shrank).
func growth(samples []loadSample, value func(loadSample) uint64) uint64 {
	if len(samples) < 3 {
		return 0
	}
	third := len(samples) / 3
	median := func(ss []loadSample) uint64 {
		vs := make([]uint64, len(ss))
		for i, s := range ss {
			vs[i] = value(s)
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	first, last := median(samples[:third]), median(samples[len(samples)-third:])
	if last < first {
		return 0
	}
	return last - first
}

// flatLimit is the growth still called flat for a value that was v after the
// warm-up: a tenth of it, and at least 4 MiB, for the garbage collector's
// pacing. A leak of a few hundred bytes per request passes it within seconds.
func flatLimit(v uint64) uint64 { return max(v/10, 4<<20) }

func seriesText(samples []loadSample, what string) string {
	parts := make([]string, len(samples))
	for i, s := range samples {
		v := s.heap
		if what == "rss" {
			v = s.rss
		}
		parts[i] = mib(v)
	}
	return strings.Join(parts, " ")
}

func maxOf(samples []loadSample, value func(loadSample) int) int {
	m := 0
	for _, s := range samples {
		m = max(m, value(s))
	}
	return m
}

func mib(v uint64) string { return fmt.Sprintf("%.1f MiB", float64(v)/(1<<20)) }

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// tcpConnsTo counts this machine's established TCP connections to addr
// (a 127.0.0.1 host:port) from /proc/net/tcp: the proxy's connections to
// php-fpm. It skips the test where there is no /proc/net/tcp. The file
// lists every socket, TIME_WAIT ones included (tens of thousands after a
// load): it is read once, after the run.
func tcpConnsTo(t *testing.T, addr string) int {
	t.Helper()
	ap, err := netipAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp to count connections: %v", err)
	}
	defer f.Close()
	const established = "01"
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// sl local_address rem_address st ...
		fields := strings.Fields(sc.Text())
		if len(fields) > 3 && fields[2] == ap && fields[3] == established {
			n++
		}
	}
	return n
}

// netipAddrPort renders a 127.0.0.1 host:port as /proc/net/tcp does:
// the IPv4 address as a little-endian hex word, then the port in hex.
func netipAddrPort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	ip := net.ParseIP(host).To4()
	pn, err := strconv.Atoi(port)
	if ip == nil || err != nil {
		return "", fmt.Errorf("not an IPv4 host:port: %q", addr)
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], pn), nil
}

// settledStatus is fpmStatus once php-fpm shows one active process (the
// status request) and an empty listen queue, or after 10 seconds. php-fpm
// 8.2 counts a process active once more for every request on a kept
// connection and recounts its processes once a second: right after kept
// connections close, its status page can show thousands of active
// processes for pm.max_children 8 (behind nginx's fastcgi_keep_conn too).
func settledStatus(t *testing.T, fpm *fcgitest.PHPFPMServer) map[string]string {
	t.Helper()
	status := fpmStatus(t, fpm)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); status = fpmStatus(t, fpm) {
		if status["active processes"] == "1" && status["listen queue"] == "0" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return status
}

// fpmStatus asks php-fpm its status page (pm.status_path) over a
// connection of its own and returns its fields by name.
func fpmStatus(t *testing.T, fpm *fcgitest.PHPFPMServer) map[string]string {
	t.Helper()
	c := fcgi.NewClient(fpm.Addr, fcgi.ClientOptions{})
	defer c.Close()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Do(ctx, &fcgi.Request{Stdout: &out, Params: []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: "/status"}, {Name: "SCRIPT_FILENAME", Value: "/status"}, {Name: "QUERY_STRING", Value: ""}}})
	if err != nil {
		t.Fatalf("php-fpm status: %v", err)
	}
	fields := make(map[string]string)
	_, body, _ := strings.Cut(strings.ReplaceAll(out.String(), "\r\n", "\n"), "\n\n")
	for line := range strings.Lines(body) {
		if name, value, ok := strings.Cut(line, ":"); ok {
			fields[strings.TrimSpace(name)] = strings.TrimSpace(value)
		}
	}
	if _, ok := fields["listen queue"]; !ok {
		t.Fatalf("php-fpm status page without a listen queue:\n%s", out.String())
	}
	return fields
}

// latencyHist counts latencies in buckets about 1% wide, from 1 µs up; it
// takes no lock and allocates nothing, so that measuring does not weigh on
// the heap being measured.
type latencyHist struct {
	counts [histBuckets]atomic.Int64
}

const (
	histGrowth  = 1.01
	histBuckets = 2000 // 1.01^2000 µs: beyond any request's bound
)

func (h *latencyHist) add(d time.Duration) {
	us := max(float64(d)/float64(time.Microsecond), 1)
	i := min(int(math.Log(us)/math.Log(histGrowth)), histBuckets-1)
	h.counts[i].Add(1)
}

// quantile returns the upper bound of the bucket holding the q-quantile.
func (h *latencyHist) quantile(q float64) time.Duration {
	var total int64
	for i := range h.counts {
		total += h.counts[i].Load()
	}
	if total == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range h.counts {
		if seen += h.counts[i].Load(); seen >= max(rank, 1) {
			us := math.Pow(histGrowth, float64(i+1))
			return time.Duration(us * float64(time.Microsecond)).Round(10 * time.Microsecond)
		}
	}
	return 0
}
