package tap_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
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
	resp, err := c.Do(context.Background(), &fcgi.Request{KeepConn: keep, Stdout: &out, Params: getParams(path)})
	return resp, out.Bytes(), err
}

// relay forwards every connection it accepts to target, keeping the bytes
// of each direction of each connection: a wire tap of the test's own, to
// compare what entered the tap with what left it.
type relay struct {
	addr  string // fcgi address form: unix:/path or host:port
	l     net.Listener
	mu    sync.Mutex
	conns []*relayConn
	wg    sync.WaitGroup
}

type relayConn struct {
	up, down fcgitest.SyncBuffer // to the target, from it
	done     chan struct{}
}

// startRelay listens on network ("unix" or "tcp") and forwards to target
// (an fcgi address).
func startRelay(t *testing.T, network, target string) *relay {
	t.Helper()
	tn, ta, err := fcgi.ParseAddr(target)
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener
	r := &relay{}
	if network == "unix" {
		p := shortTemp(t) + "/relay.sock"
		l, err = net.Listen("unix", p)
		r.addr = "unix:" + p
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			r.addr = l.Addr().String()
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	r.l = l
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			rc := &relayConn{done: make(chan struct{})}
			r.mu.Lock()
			r.conns = append(r.conns, rc)
			r.mu.Unlock()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer close(rc.done)
				defer nc.Close()
				uc, err := net.Dial(tn, ta)
				if err != nil {
					return
				}
				defer uc.Close()
				var inner sync.WaitGroup
				inner.Add(2)
				pipe := func(dst, src net.Conn, keep *fcgitest.SyncBuffer) {
					defer inner.Done()
					// What was read from src, whether or not dst took it: the
					// bytes the tap forwarded (or the peer sent), even when
					// the other end closed before they arrived.
					_, err := io.Copy(io.MultiWriter(keep, dst), src)
					if err == nil {
						if cw, ok := dst.(interface{ CloseWrite() error }); ok {
							cw.CloseWrite()
							return
						}
					}
					dst.Close()
					src.Close()
				}
				go pipe(uc, nc, &rc.up)
				go pipe(nc, uc, &rc.down)
				inner.Wait()
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		r.wg.Wait()
	})
	return r
}

// streams waits until the relay's connections are over (10 s at most) and
// returns the bytes each way of each that carried any, in accept order.
func (r *relay) streams(t *testing.T) (up, down [][]byte) {
	t.Helper()
	r.mu.Lock()
	conns := append([]*relayConn(nil), r.conns...)
	r.mu.Unlock()
	for i, c := range conns {
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			t.Fatalf("relay %s: connection %d still open after 10 s", r.addr, i)
		}
		if c.up.String() == "" && c.down.String() == "" {
			continue // a bare connection: the tap's check of its upstream
		}
		up = append(up, []byte(c.up.String()))
		down = append(down, []byte(c.down.String()))
	}
	return up, down
}

// sameBytes fails unless the relays on both sides of the tap saw the same
// bytes both ways, connection by connection.
func sameBytes(t *testing.T, before, after *relay) {
	t.Helper()
	bu, bd := before.streams(t)
	au, ad := after.streams(t)
	if len(bu) != len(au) {
		t.Fatalf("%d connections into the tap, %d out of it", len(bu), len(au))
	}
	for i := range bu {
		if !bytes.Equal(bu[i], au[i]) {
			t.Errorf("connection %d: the web server sent %d bytes, the application got %d (first difference at %d)",
				i, len(bu[i]), len(au[i]), firstDiff(bu[i], au[i]))
		}
		if !bytes.Equal(bd[i], ad[i]) {
			t.Errorf("connection %d: the application sent %d bytes, the web server got %d (first difference at %d)",
				i, len(ad[i]), len(bd[i]), firstDiff(ad[i], bd[i]))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// rawOf joins the raw bytes of x's records of one direction, as captured.
func rawOf(x *session.Exchange, dir fcgi.Direction) []byte {
	var b []byte
	for i, r := range x.Records() {
		if r.Dir == dir {
			b = append(b, x.RecordRaw(i)...)
		}
	}
	return b
}

// getParams returns the params of a GET of uri (path and query).
func getParams(uri string) []fcgi.Pair {
	path, query, _ := strings.Cut(uri, "?")
	return []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: path},
		{Name: "QUERY_STRING", Value: query}, {Name: "REQUEST_URI", Value: uri}}
}

// dialTap connects to the tap at addr as a web server would, with a
// deadline on the connection so that a test never hangs on it.
func dialTap(t *testing.T, addr string) net.Conn {
	t.Helper()
	network, address, err := fcgi.ParseAddr(addr)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial(network, address)
	if err != nil {
		t.Fatal(err)
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	return nc
}
