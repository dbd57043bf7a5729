// Tests of the proxy's connection limit (--max-conns) and bounded
// recording (--record-keep).

package cli

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

// TestProxyFlags: --max-conns, --record-keep and --keep-conn (auto, on or
// off, default auto; only an explicit --max-conns tells auto that the limit
// fits the backend's workers), and their usage errors.
func TestProxyFlags(t *testing.T) {
	const addr = "127.0.0.1:9000"
	base := []string{"--addr", addr, "--docroot", "/srv"}
	tests := []struct {
		name     string
		args     []string
		maxConns int
		keep     int
		keepConn string
		limitSet bool
		err      string
	}{
		{"defaults", nil, DefaultProxyMaxConns, 0, "auto", false, ""},
		{"max-conns", []string{"--max-conns", "8"}, 8, 0, "auto", true, ""},
		{"max-conns as the default", []string{"--max-conns", "64"}, 64, 0, "auto", true, ""},
		{"no limit", []string{"--max-conns=0"}, 0, 0, "auto", true, ""},
		{"record-keep", []string{"--record", "/tmp/rec", "--record-keep", "1000"}, DefaultProxyMaxConns, 1000, "auto", false, ""},
		{"keep-conn off", []string{"--keep-conn", "off"}, DefaultProxyMaxConns, 0, "off", false, ""},
		{"keep-conn on", []string{"--keep-conn=on", "--max-conns=4"}, 4, 0, "on", true, ""},
		{"negative max-conns", []string{"--max-conns", "-1"}, 0, 0, "", false, "--max-conns -1: want 0 (no limit) or more"},
		{"not a number", []string{"--max-conns", "lots"}, 0, 0, "", false, "invalid value"},
		{"negative record-keep", []string{"--record", "/tmp/rec", "--record-keep", "-5"}, 0, 0, "", false, "--record-keep -5"},
		{"record-keep without record", []string{"--record-keep", "10"}, 0, 0, "", false, "--record-keep needs --record DIR"},
		{"keep-conn yes", []string{"--keep-conn", "yes"}, 0, 0, "", false, "--keep-conn \"yes\": want auto, on or off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFlagSet("proxy", io.Discard)
			o := newProxyOpts(fs)
			err := parseFlags(fs, append(append([]string(nil), base...), tt.args...))
			if err == nil {
				err = o.check()
			}
			var ue *usageError
			switch {
			case tt.err != "":
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want a usage error with %q", err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if o.maxConns != tt.maxConns || o.recordKeep != tt.keep || o.keepConn != tt.keepConn || o.maxConnsSet != tt.limitSet {
				t.Errorf("max-conns %d (given %v), record-keep %d, keep-conn %q; want %d (%v), %d, %q",
					o.maxConns, o.maxConnsSet, o.recordKeep, o.keepConn, tt.maxConns, tt.limitSet, tt.keep, tt.keepConn)
			}
			pool := session.NewPool(o.poolOptions(logrus.New()))
			defer pool.Close()
			if got := pool.MaxConns("tcp://" + addr); got != tt.maxConns {
				t.Errorf("the pool's limit for the backend is %d, want %d", got, tt.maxConns)
			}
		})
	}
	// The help shows the flags and their defaults.
	r := run(t, "", "proxy", "-h")
	if r.code != ExitOK || !strings.Contains(r.stdout, "-max-conns N") || !strings.Contains(r.stdout, "(default "+strconv.Itoa(DefaultProxyMaxConns)+")") ||
		!strings.Contains(r.stdout, "pm.max_children") || !strings.Contains(r.stdout, "-record-keep N") ||
		!strings.Contains(r.stdout, "-keep-conn auto") || !strings.Contains(r.stdout, "php-fpm") {
		t.Errorf("proxy -h: exit %d\n%s", r.code, r.stdout)
	}
}

// TestProxyMaxConns: with --max-conns 2, eight HTTP clients at once reach a
// backend over two connections at most, and every one gets its answer.
func TestProxyMaxConns(t *testing.T) {
	var inflight, peak atomic.Int32
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "Content-Type: text/plain\r\n\r\nok")
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-served })

	rec := filepath.Join(t.TempDir(), "rec")
	addr, stderr, stop := runAsync(t, "proxy", "--listen", "127.0.0.1:0", "--addr", l.Addr().String(), "--docroot", "/srv",
		"--max-conns", "2", "--record", rec, "--record-keep", "3")
	if !strings.Contains(stderr.String(), "max_conns=2") {
		t.Errorf("the listening line does not give the limit:\n%s", stderr)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			resp, err := client.Get("http://" + addr + "/x.php?i=" + strconv.Itoa(i))
			if err != nil {
				t.Error(err)
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != 200 || string(body) != "ok" {
				t.Errorf("request %d: %d %q %v", i, resp.StatusCode, body, err)
			}
		})
	}
	wg.Wait()
	if code := stop(); code != ExitOK {
		t.Errorf("proxy exit %d:\n%s", code, stderr)
	}
	if got := peak.Load(); got != 2 {
		t.Errorf("the backend ran %d requests at once, want --max-conns 2", got)
	}
	if files, err := os.ReadDir(rec); err != nil || len(files) != 3 {
		t.Errorf("--record-keep 3 left %d files (%v)", len(files), err)
	}
}

// TestProxyCommandListensOnLoopback: --listen :0 is loopback, without a
// warning; a non-loopback address is warned about before listening.
// 192.0.2.1 (TEST-NET-1) is not on this machine, so nothing binds to it.
func TestProxyCommandListensOnLoopback(t *testing.T) {
	out, listen := runProxyUntilListening(t, "--listen", ":0")
	if host, _, _ := net.SplitHostPort(listen); !net.ParseIP(host).IsLoopback() {
		t.Errorf("proxy --listen :0 listened on %q", listen)
	}
	if strings.Contains(out, "non-loopback") {
		t.Errorf("loopback listen warned:\n%s", out)
	}
	out, listen = runProxyUntilListening(t, "--listen", "192.0.2.1:0")
	if listen != "" || !strings.Contains(out, "non-loopback") {
		t.Errorf("--listen 192.0.2.1:0: listened on %q; log:\n%s", listen, out)
	}
}

// runProxyUntilListening runs `fcgiscope proxy` with args until it listens
// (or fails), stops it, and returns its log and the address it listened on.
func runProxyUntilListening(t *testing.T, args ...string) (log, listen string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr fcgitest.SyncBuffer
	var mu sync.Mutex
	r := &Runner{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" },
		Listening: func(a string) { mu.Lock(); listen = a; mu.Unlock(); cancel() }}
	full := append([]string{"proxy", "--addr", "127.0.0.1:1", "--docroot", "/srv/www"}, args...)
	r.Run(ctx, full)
	mu.Lock()
	defer mu.Unlock()
	return stderr.String(), listen
}
