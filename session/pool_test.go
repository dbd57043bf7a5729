package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

func TestPoolKeysAndBounds(t *testing.T) {
	addr := startDemo(t)
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
	addr := startDemo(t)
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
