package session

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

func TestPoolKeysAndBounds(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	clock := time.Unix(1_700_000_000, 0)
	p := NewPool(PoolOptions{MaxClients: 2, IdleExpiry: time.Minute})
	p.now = func() time.Time { return clock }
	t.Cleanup(func() { p.Close() })

	acquire := func(target string) *fcgi.Client {
		t.Helper()
		c, release, err := p.Acquire(target)
		if err != nil {
			t.Fatal(err)
		}
		release()
		release() // idempotent
		return c
	}

	a := acquire(addr)
	if b := acquire("tcp://" + addr); b != a {
		t.Error(`"host:port" and "tcp://host:port" got different clients`)
	}
	if _, _, err := p.Acquire("nonsense"); err == nil {
		t.Error("a bad address was accepted")
	}

	clock = clock.Add(time.Second)
	acquire("127.0.0.1:1")
	clock = clock.Add(time.Second)
	acquire("unix:/nonexistent.sock")
	if n := p.Len(); n != 2 {
		t.Fatalf("Len = %d, want MaxClients 2", n)
	}
	// The least recently used backend (addr) was closed.
	if _, err := a.Do(context.Background(), &fcgi.Request{}); !errors.Is(err, fcgi.ErrConnClosed) {
		t.Errorf("evicted client still works: %v", err)
	}
	if c := acquire(addr); c == a {
		t.Error("an evicted client was handed out again")
	}

	// Clients in use are never evicted, even past the bound.
	var releases []func()
	for _, target := range []string{"127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4"} {
		_, release, err := p.Acquire(target)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	if n := p.Len(); n != 3 {
		t.Errorf("Len with 3 clients in use = %d, want 3", n)
	}
	for _, r := range releases {
		r()
	}
	if n := p.Len(); n != 2 {
		t.Errorf("Len after release = %d, want 2", n)
	}

	// Unused clients expire.
	clock = clock.Add(2 * time.Minute)
	if n := p.Len(); n != 0 {
		t.Errorf("Len after the idle expiry = %d, want 0", n)
	}
}

func TestPoolClose(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	p := NewPool(PoolOptions{})
	e := NewEngine(p, EngineOptions{})
	req := demoReq("/echo", "")
	req.KeepConn = true // leaves an idle connection in the client
	if err := e.Send(context.Background(), addr, req, NewExchange(Input{})); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Acquire(addr); !errors.Is(err, ErrPoolClosed) {
		t.Errorf("Acquire after Close: %v", err)
	}
	x := NewExchange(Input{})
	if err := e.Send(context.Background(), addr, demoReq("/", ""), x); !errors.Is(err, ErrPoolClosed) || x.ErrorText() == "" {
		t.Errorf("Send after Close: %v, %q", err, x.ErrorText())
	}
}

// peakBackend starts an fcgi.Server on loopback whose handler takes delay
// and records the most requests it ran at once (one per connection: the
// server does not multiplex).
func peakBackend(t *testing.T, delay time.Duration) (addr string, peak func() int32) {
	t.Helper()
	var inflight, top atomic.Int32
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for {
			old := top.Load()
			if n <= old || top.CompareAndSwap(old, n) {
				break
			}
		}
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "Content-Type: text/plain\r\n\r\nok")
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().String(), top.Load
}

// TestPoolMaxConns: the pool gives each backend's client its own
// connection limit (PoolOptions.MaxConns over Client.MaxConns), and
// SetMaxConns replaces a client in use only once its requests are over.
func TestPoolMaxConns(t *testing.T) {
	limited, limitedPeak := peakBackend(t, 30*time.Millisecond)
	other, otherPeak := peakBackend(t, 30*time.Millisecond)
	checkLeaks(t)
	p := NewPool(PoolOptions{Client: fcgi.ClientOptions{MaxConns: 3},
		MaxConns: map[string]int{"tcp://" + limited: 1, "nonsense": 4}})
	t.Cleanup(func() { p.Close() })
	for target, want := range map[string]int{limited: 1, "tcp://" + limited: 1, other: 3, "nonsense": -1} {
		if got := p.MaxConns(target); got != want {
			t.Errorf("MaxConns(%q) = %d, want %d", target, got, want)
		}
	}

	e := NewEngine(p, EngineOptions{Timeout: 10 * time.Second})
	burst := func(target string, n int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			wg.Go(func() {
				req := demoReq("/", "")
				req.KeepConn = true
				if err := e.Send(t.Context(), target, req, NewExchange(Input{})); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("%s: %v", target, err)
		}
	}
	burst(limited, 6)
	burst(other, 6)
	if got := limitedPeak(); got != 1 {
		t.Errorf("%d requests at once on the backend limited to 1", got)
	}
	if got := otherPeak(); got < 2 || got > 3 {
		t.Errorf("%d requests at once on the backend limited to 3 (Client.MaxConns), want 2 or 3", got)
	}

	// A new limit takes effect at once for new requests; the client in
	// use is closed only when its request is over.
	old, release, err := p.Acquire(limited)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetMaxConns(limited, 2); err != nil {
		t.Fatal(err)
	}
	if got := p.MaxConns(limited); got != 2 {
		t.Errorf("MaxConns after SetMaxConns(2) = %d", got)
	}
	if _, err := old.Do(t.Context(), &fcgi.Request{Params: demoReq("/", "").Params.Pairs()}); err != nil {
		t.Errorf("the replaced client failed while still in use: %v", err)
	}
	if c, rel, err := p.Acquire(limited); err != nil || c == old {
		t.Errorf("Acquire after SetMaxConns: same client %v, %v", c == old, err)
	} else {
		rel()
	}
	release()
	if _, err := old.Do(t.Context(), &fcgi.Request{}); !errors.Is(err, fcgi.ErrConnClosed) {
		t.Errorf("the replaced client still works after its last release: %v", err)
	}
	burst(limited, 6)
	if got := limitedPeak(); got != 2 {
		t.Errorf("%d requests at once after SetMaxConns(2), want 2", got)
	}
	if err := p.SetMaxConns(limited, -1); err != nil || p.MaxConns(limited) != 3 {
		t.Errorf("SetMaxConns(-1): %v, limit %d, want Client.MaxConns 3", err, p.MaxConns(limited))
	}
	if err := p.SetMaxConns("nonsense", 1); err == nil {
		t.Error("SetMaxConns accepted a bad address")
	}
	if e.Pool() != p {
		t.Error("Engine.Pool is not the engine's pool")
	}
}
