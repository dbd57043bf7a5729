// TestPeers: every operation the benchmarks time does its work and gets the
// expected answer, on small sizes. No timing here.

package bench

import (
	"bytes"
	"net/http"
	"slices"
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
