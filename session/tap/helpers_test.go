package tap_test

import (
	"bytes"
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/tap"
)

// startTap listens with opts (Listen defaults to a unix socket in a
// temporary directory), serves until the end of the test and returns the
// tap with a collector of its exchanges.
func startTap(t *testing.T, opts tap.Options) (*tap.Tap, *collector) {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "unix:" + shortTemp(t) + "/tap.sock"
	}
	tp, err := tap.Listen(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	ch, unsubscribe := tp.Subscribe()
	col.done = make(chan struct{})
	go func() {
		defer close(col.done)
		for x := range ch {
			col.add(x)
		}
	}()
	served := make(chan error, 1)
	go func() { served <- tp.Serve() }()
	t.Cleanup(func() {
		tp.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		unsubscribe()
		<-col.done
	})
	return tp, col
}

// collector keeps the exchanges a tap delivered.
type collector struct {
	mu   sync.Mutex
	xs   []*session.Exchange
	cond chan struct{}
	done chan struct{}
}

func (c *collector) add(x *session.Exchange) {
	c.mu.Lock()
	c.xs = append(c.xs, x)
	c.mu.Unlock()
}

// wait waits until n exchanges arrived (10 s at most) and returns them.
func (c *collector) wait(t *testing.T, n int) []*session.Exchange {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		xs := append([]*session.Exchange(nil), c.xs...)
		c.mu.Unlock()
		if len(xs) >= n {
			return xs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d exchanges after 10 s, want %d", len(xs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// shortTemp returns a temporary directory whose paths fit a unix socket
// address.
func shortTemp(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "tap")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// get sends a GET for path to the client's address, as a web server
// would, and returns the response and its stdout.
func get(t *testing.T, c *fcgi.Client, path string, keep bool) (*fcgi.Response, []byte, error) {
	t.Helper()
	var out bytes.Buffer
	resp, err := c.Do(context.Background(), &fcgi.Request{KeepConn: keep, Stdout: &out, Params: []fcgi.Pair{
		{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: path}, {Name: "REQUEST_URI", Value: path}}})
	return resp, out.Bytes(), err
}
