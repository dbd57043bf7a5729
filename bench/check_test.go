// TestPeers: every operation the benchmarks time does its work and gets the
// expected answer, on small sizes. No timing here.

package bench

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

func runAll(t *testing.T, ops []op, times int) {
	t.Helper()
	for _, o := range ops {
		for i := range times {
			if err := o.do(); err != nil {
				t.Errorf("%s, run %d: %v", o.name, i, err)
				break
			}
		}
	}
}

func TestPeersTiny(t *testing.T) {
	ops := tinyOps(t, startServer(t, false), true)
	want := []string{peerCaddy, peerClient, peerConn, peerConnTrace, peerDial, peerWire, peerWireRead}
	if got := sortedNames(ops); !slices.Equal(got, want) {
		t.Fatalf("peers %v, want %v", got, want)
	}
	runAll(t, ops, 3)
}

func TestPeersChild(t *testing.T) {
	path := startChild(t)
	runAll(t, tinyOps(t, path, true), 2)
	runAll(t, []op{recordsOp(t, path, 64, fcgi.Options{})}, 2)
}

// TestCaddyParams: the params captured from Caddy are the ones a real web
// server sends, so that every peer sends the same realistic request.
func TestCaddyParams(t *testing.T) {
	params := caddyParams(t, "/srv", http.MethodGet, pathHello+"?a=1", 0)
	got := map[string]string{}
	for _, p := range params {
		got[p.Name] = p.Value
	}
	for name, want := range map[string]string{
		"REQUEST_METHOD":  "GET",
		"SCRIPT_NAME":     pathHello,
		"SCRIPT_FILENAME": "/srv" + pathHello,
		"QUERY_STRING":    "a=1",
		"CONTENT_LENGTH":  "0",
	} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	if len(params) < 15 {
		t.Errorf("only %d params: %v", len(params), params)
	}
}

func TestRecordsCount(t *testing.T) {
	path := startServer(t, false)
	params := caddyParams(t, "/srv", http.MethodGet, pathRecords+"?n=5", 0)
	var records int
	var stdout bytes.Buffer
	conn := dialConn(t, "unix:"+path, fcgi.Options{Trace: func(ev fcgi.Event) {
		if ev.Dir == fcgi.Received && ev.Record.Type == fcgi.TypeStdout && ev.Record.ContentLength > 0 {
			records++
		}
	}})
	if _, err := conn.Do(t.Context(), &fcgi.Request{KeepConn: true, Params: params, Stdout: &stdout}); err != nil {
		t.Fatal(err)
	}
	if records != 5 {
		t.Errorf("%d STDOUT records, want 5", records)
	}
	if !bytes.HasSuffix(stdout.Bytes(), bytes.Repeat([]byte("r"), 5*recordChunk)) {
		t.Errorf("stdout %q", stdout.String())
	}
}

func TestPeersBulk(t *testing.T) {
	server := startServer(t, false)
	ops := responseOps(t, 1<<20+3, server)
	runAll(t, ops, 2)
	ops = postOps(t, 1<<20+5, server)
	runAll(t, ops, 2)
}

func TestPeersPHPFPM(t *testing.T) {
	srv := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: 2, Listen: fcgitest.ListenUnix})
	peers := newConcurrentPeers(t, srv.Network, srv.Addr, srv.DocRoot, "/hello.php", "hello", 2)
	for _, name := range peers.names() {
		runAll(t, []op{peers.newWorker(name)}, 3)
	}
	params := caddyParams(t, srv.DocRoot, http.MethodGet, "/hello.php", 0)
	runAll(t, []op{cgiFCGIOp(t, fcgitest.CGIFCGI(t), srv.Addr, params, "hello")}, 1)
}

func TestPercentile(t *testing.T) {
	lat := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	d := make([]time.Duration, len(lat))
	for i, v := range lat {
		d[i] = time.Duration(v)
	}
	if got := percentile(d, 50); got != 5 {
		t.Errorf("p50 = %v, want 5", got)
	}
	if got := percentile(d, 99); got != 10 {
		t.Errorf("p99 = %v, want 10", got)
	}
	if got := percentile(d, 999); got != 10 {
		t.Errorf("p99.9 = %v, want 10", got)
	}
	if got := percentile(d[:1], 99); got != 1 {
		t.Errorf("p99 of one = %v, want 1", got)
	}
}

// TestPeersFrontEnd: every front end of BenchmarkFrontEnd starts in front
// of php-fpm and answers hello.php (the start functions check it), and a
// short wrk run through each reads a report with no error.
func TestPeersFrontEnd(t *testing.T) {
	wrk := lookWrk(t)
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: 2, Listen: fcgitest.ListenUnix})
	for _, fe := range frontEnds(t) {
		t.Run(fe.name, func(t *testing.T) {
			srv := fe.start(t, fpm)
			res, err := runWrk(wrk, srv.url+frontTarget, time.Second)
			if err != nil || res.requests == 0 || res.errors > 0 {
				t.Errorf("wrk: %+v, %v", res, err)
			}
			if srv.stop != nil && strings.Contains(fe.name, "record") && recordingLine.FindStringSubmatch(srv.stop()) == nil {
				t.Error("the proxy's log does not say what the recording kept")
			}
		})
	}
}

func TestParseWrk(t *testing.T) {
	const report = `Running 2s test @ http://127.0.0.1:1/hello.php
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.87ms    2.01ms  29.47ms   78.58%
    Req/Sec     8.34k     3.62k   26.61k    87.80%
  Latency Distribution
     50%  359.00us
     75%    4.29ms
     90%    6.40ms
     99%    1.60s 
  34024 requests in 2.10s, 6.85MB read
  Socket errors: connect 0, read 12, write 1, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:  16206.10
Transfer/sec:      3.26MB
`
	r, err := parseWrk([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	if r.requests != 34024 || r.reqPerSec != 16206.10 || r.p50 != 359*time.Microsecond || r.p99 != 1600*time.Millisecond || r.errors != 20 {
		t.Errorf("parsed %+v", r)
	}
	if _, err := parseWrk([]byte("wrk: connection refused")); err == nil {
		t.Error("no error for a report without figures")
	}
}
