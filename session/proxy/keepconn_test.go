// Tests of the proxy's FCGI_KEEP_CONN policy: php-fpm's connections kept
// when the limit fits its workers, and not otherwise; other backends not
// kept unless forced.

package proxy

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
)

// keepDecision is what OnKeepConn was told.
type keepDecision struct {
	on  bool
	why string
}

// serveAndDecide runs p.ListenAndServe and returns its address once the
// first KeepConnAuto decision is told, and a function that stops it.
func serveAndDecide(t *testing.T, p *Server) (base string, decided keepDecision, stop func()) {
	t.Helper()
	decisions := make(chan keepDecision, 4)
	p.OnKeepConn = func(on bool, why string) { decisions <- keepDecision{on, why} }
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- p.ListenAndServe(ctx, "127.0.0.1:0", func(a net.Addr) { ready <- a }) }()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServe: %v", err)
		}
	}
	select {
	case a := <-ready:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatal(err)
	}
	select {
	case decided = <-decisions:
	case <-time.After(20 * time.Second):
		stop()
		t.Fatal("no KEEP_CONN decision within 20 s")
	}
	return base, decided, stop
}

// TestProxyKeepConnPHPFPM: in front of php-fpm, KeepConnAuto keeps
// connections when the connection limit was set for its workers (requests
// carry KEEP_CONN and reuse connections, every answer right), and does not
// when the workers are not known.
func TestProxyKeepConnPHPFPM(t *testing.T) {
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix, MaxChildren: 2})
	sessiontest.NoLeaks(t)
	for _, fits := range []bool{true, false} {
		pool := session.NewPool(session.PoolOptions{MaxConns: map[string]int{"unix:" + fpm.Addr: 2}, MaxIdle: 2})
		p := New(session.NewEngine(pool, session.EngineOptions{}), "unix:"+fpm.Addr, HTTPBuilder(fpm.DocRoot))
		p.ConnLimitFits = fits
		sub, unsubscribe := p.Subscribe()
		base, decided, stop := serveAndDecide(t, p)
		if decided.on != fits || !strings.Contains(decided.why, "php-fpm") ||
			fits != strings.Contains(decided.why, "FCGI_KEEP_CONN on") || !fits && !strings.Contains(decided.why, "pm.max_children") {
			t.Errorf("ConnLimitFits %v: decided %+v", fits, decided)
		}
		if p.KeepingConns() != fits {
			t.Errorf("ConnLimitFits %v: KeepingConns %v", fits, p.KeepingConns())
		}
		client := &http.Client{Transport: &http.Transport{}}
		for range 4 {
			resp, err := client.Get(base + "/hello.php")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "hello" {
				t.Fatalf("hello.php: %d %q", resp.StatusCode, body)
			}
		}
		client.CloseIdleConnections()
		stop()
		unsubscribe()
		reused := 0
		for x := range sub {
			if x.KeepConn() != fits || x.Input.KeepConn != fits {
				t.Errorf("ConnLimitFits %v: an exchange with KEEP_CONN %v", fits, x.KeepConn())
			}
			if x.Conn().Reused {
				reused++
			}
		}
		if want := map[bool]int{true: 3, false: 0}[fits]; reused != want {
			t.Errorf("ConnLimitFits %v: %d of 4 requests reused a connection, want %d", fits, reused, want)
		}
		pool.Close()
	}
}

// TestProxyKeepConnOthers: a backend that multiplexes is not known to keep
// connections, one that does not answer GET_VALUES is asked again later,
// php-fpm's answer with a limit above its FCGI_MAX_CONNS keeps none; On and
// Off do not ask.
func TestProxyKeepConnOthers(t *testing.T) {
	sessiontest.NoLeaks(t)
	engine := sessiontest.Engine(t, session.EngineOptions{})
	build := func(*http.Request) (*session.Request, error) { return nil, io.EOF }
	probe := func(target string, ctxTimeout time.Duration) (bool, keepDecision) {
		t.Helper()
		p := New(engine, target, build)
		var mu sync.Mutex
		var d keepDecision
		p.OnKeepConn = func(on bool, why string) { mu.Lock(); d = keepDecision{on, why}; mu.Unlock() }
		ctx, cancel := context.WithTimeout(context.Background(), ctxTimeout)
		defer cancel()
		answered := p.ProbeKeepConn(ctx)
		if p.KeepingConns() != d.on {
			t.Errorf("%s: KeepingConns %v after deciding %v", target, p.KeepingConns(), d.on)
		}
		mu.Lock()
		defer mu.Unlock()
		return answered, d
	}

	mpxs := &fcgi.Server{Handler: fcgi.HandlerFunc(func(*fcgi.ResponseWriter, *fcgi.ServerRequest) {}), MpxsConns: true}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = mpxs.Serve(l) }()
	t.Cleanup(func() { mpxs.Close(); <-served })
	if answered, d := probe(l.Addr().String(), 10*time.Second); !answered || d.on || !strings.Contains(d.why, "FCGI_MPXS_CONNS=1, not known to keep connections") {
		t.Errorf("multiplexing backend: answered %v, %+v", answered, d)
	}

	silent := fcgitest.StartHostile(t, "tcp", fcgitest.NeverRead())
	if answered, d := probe(silent.Target(), 300*time.Millisecond); answered || d.on || !strings.Contains(d.why, "no answer to GET_VALUES") {
		t.Errorf("silent backend: answered %v, %+v", answered, d)
	}

	// php-cgi's answer, with the engine's pool unbounded: above its FCGI_MAX_CONNS.
	phpcgi := fcgitest.StartRaw(t, "tcp", func(c net.Conn) {
		r := fcgi.NewReader(c)
		if rec, err := r.ReadRecord(); err != nil || rec.Type != fcgi.TypeGetValues {
			return
		}
		w := fcgi.NewWriter(c)
		_ = w.WriteGetValuesResult([]fcgi.Pair{{Name: fcgi.ValueMpxsConns, Value: "0"}, {Name: fcgi.ValueMaxConns, Value: "1"}})
	})
	if answered, d := probe(phpcgi.Target(), 10*time.Second); !answered || d.on || !strings.Contains(d.why, "set --max-conns 1") {
		t.Errorf("php-cgi with no connection limit: answered %v, %+v", answered, d)
	}
	if err := engine.Pool().SetMaxConns(phpcgi.Target(), 1); err != nil {
		t.Fatal(err)
	}
	if answered, d := probe(phpcgi.Target(), 10*time.Second); !answered || !d.on || !strings.Contains(d.why, "within its FCGI_MAX_CONNS") {
		t.Errorf("php-cgi with --max-conns 1: answered %v, %+v", answered, d)
	}

	for _, k := range []KeepConn{KeepConnOn, KeepConnOff} {
		p := New(engine, silent.Target(), build)
		p.KeepConn = k
		p.OnKeepConn = func(bool, string) { t.Errorf("%v asked the backend", k) }
		if !p.ProbeKeepConn(context.Background()) || p.KeepingConns() != (k == KeepConnOn) {
			t.Errorf("%v: KeepingConns %v", k, p.KeepingConns())
		}
		if back, err := ParseKeepConn(k.String()); err != nil || back != k {
			t.Errorf("ParseKeepConn(%q) = %v, %v", k, back, err)
		}
	}
	if _, err := ParseKeepConn("yes"); err == nil || !strings.Contains(err.Error(), "want auto, on or off") {
		t.Errorf("ParseKeepConn(yes): %v", err)
	}
}
