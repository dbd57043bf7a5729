// Client tests: pooling of KEEP_CONN connections, retries, and interop with
// Go's net/http/fcgi server multiplexing on one connection.

package fcgi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	gofcgi "net/http/fcgi"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// waitUntil polls cond until it holds or testWait passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func newTestClient(t *testing.T, addr string, opts fcgi.ClientOptions) *fcgi.Client {
	c := fcgi.NewClient(addr, opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func getRequest(keep bool) *fcgi.Request {
	return &fcgi.Request{KeepConn: keep, Params: []fcgi.Pair{{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/x"}}}
}

func TestClientReusesKeepConn(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", helloServer)
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{})
	for i := range 5 {
		var out bytes.Buffer
		req := getRequest(true)
		req.Stdout = &out
		resp, err := c.Do(t.Context(), req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Conn.Reused != (i > 0) || !strings.HasSuffix(out.String(), "hello") {
			t.Errorf("request %d: reused %v, stdout %q", i, resp.Conn.Reused, out.String())
		}
	}
	if n := srv.Accepted(); n != 1 {
		t.Errorf("%d connections for 5 KEEP_CONN requests, want 1", n)
	}
	// Without KEEP_CONN every request dials.
	for range 3 {
		resp, err := c.Do(t.Context(), getRequest(false))
		if err != nil || resp.Conn.Reused {
			t.Fatalf("Do = %+v, %v", resp, err)
		}
	}
	if n := srv.Accepted(); n != 4 {
		t.Errorf("%d connections, want 4", n)
	}
	waitUntil(t, "closed connections", func() bool { return srv.Finished() == 3 })
}

// closeAfterEndServer closes the connection after END_REQUEST even when
// KEEP_CONN asked to keep it, like php-fpm recycling a worker.
func closeAfterEndServer(sc *srvConn) {
	if req, err := sc.readRequest(); err == nil {
		_ = sc.answer(req.id, "hello")
	}
}

func TestClientIdleClosedByServer(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", closeAfterEndServer)
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{})
	for i := range 3 {
		if _, err := c.Do(t.Context(), getRequest(true)); err != nil {
			t.Fatal(err)
		}
		// The idle connection's reading goroutine notices the close.
		waitUntil(t, "the pooled connection to die", c.IdleGone)
		if n := srv.Accepted(); n != i+1 {
			t.Fatalf("after request %d: %d connections", i+1, n)
		}
	}
	// Each request found the pooled connection dead and dialled: no
	// request failed, and the dead ones were dropped.
	resp, err := c.Do(t.Context(), getRequest(true))
	if err != nil || resp.Conn.Reused {
		t.Fatalf("Do = %+v, %v; want success on a fresh connection", resp, err)
	}
}

// TestClientKeepConnIgnored: against an application that closes every
// connection right after END_REQUEST although KEEP_CONN asked it to keep
// it (uwsgi, node-fastcgi), requests sent one after the other must all
// succeed, POSTs included, which are never retried: the Client must see
// the close before it reuses the connection (issue 13). Before the fix
// one request in a few dozen went out on the dying connection and failed.
func TestClientKeepConnIgnored(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", closeAfterEndServer)
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{})
	const n = 200
	for i := range n {
		req := getRequest(true)
		req.Params[0].Value = "POST"
		req.Stdin = strings.NewReader("a=b")
		resp, err := c.Do(t.Context(), req)
		if err != nil {
			t.Fatalf("request %d of %d: %v", i+1, n, err)
		}
		if resp.Conn.Reused {
			t.Fatalf("request %d went out on a connection the application had closed", i+1)
		}
	}
	if got := srv.Accepted(); got != n {
		t.Errorf("%d connections for %d requests, want one each", got, n)
	}
}

// dropSecondServer answers the first request of each connection and, on
// the second, reads its BEGIN_REQUEST and closes without answering: the
// request went out, then the connection died.
func dropSecondServer(begins *atomic.Int32) func(sc *srvConn) {
	return func(sc *srvConn) {
		req, err := sc.readRequest()
		if err != nil || sc.answer(req.id, "first") != nil {
			return
		}
		if rec, err := sc.r.ReadRecord(); err == nil && rec.Type == fcgi.TypeBeginRequest {
			begins.Add(1)
		}
	}
}

func TestClientRetry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		req   func() *fcgi.Request
		retry bool
	}{
		{"GET", func() *fcgi.Request { return getRequest(true) }, true},
		{"HEAD", func() *fcgi.Request {
			return &fcgi.Request{KeepConn: true, Params: []fcgi.Pair{{"REQUEST_METHOD", "HEAD"}}}
		}, true},
		{"POST", func() *fcgi.Request {
			return &fcgi.Request{KeepConn: true, Params: []fcgi.Pair{{"REQUEST_METHOD", "POST"}}, Stdin: strings.NewReader("x=1")}
		}, false},
		{"GET with stdin", func() *fcgi.Request {
			return &fcgi.Request{KeepConn: true, Params: []fcgi.Pair{{"REQUEST_METHOD", "GET"}}, Stdin: strings.NewReader("x")}
		}, false},
		{"no method", func() *fcgi.Request { return &fcgi.Request{KeepConn: true} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var begins atomic.Int32
			srv := newRawServer(t, "unix", dropSecondServer(&begins))
			c := newTestClient(t, srv.Target(), fcgi.ClientOptions{})
			if _, err := c.Do(t.Context(), tc.req()); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			req := tc.req()
			req.Stdout = &out
			resp, err := c.Do(t.Context(), req)
			if tc.retry {
				if err != nil || out.String() != "first" || resp.Conn.Reused {
					t.Fatalf("Do = %+v, %v, stdout %q; want the answer from a fresh connection", resp, err, out.String())
				}
				if n := srv.Accepted(); n != 2 {
					t.Errorf("%d connections, want 2", n)
				}
			} else {
				if !errors.Is(err, fcgi.ErrConnClosed) || resp == nil || !resp.Conn.Reused {
					t.Fatalf("Do = %+v, %v; want ErrConnClosed on the reused connection, no retry", resp, err)
				}
				if n := srv.Accepted(); n != 1 {
					t.Errorf("%d connections, want 1: the request was retried", n)
				}
			}
			if n := begins.Load(); n != 1 {
				t.Errorf("the server dropped %d requests, want 1", n)
			}
		})
	}
}

func TestClientMaxIdle(t *testing.T) {
	t.Parallel()
	const n = 3
	var arrived sync.WaitGroup
	arrived.Add(n)
	var conns atomic.Int32
	srv := newRawServer(t, "unix", func(sc *srvConn) {
		if conns.Add(1) > n {
			helloServer(sc)
			return
		}
		req, err := sc.readRequest()
		if err != nil {
			return
		}
		arrived.Done()
		arrived.Wait() // all n requests are in flight at once
		if sc.answer(req.id, "hi") != nil {
			return
		}
		helloServer(sc)
	})
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{MaxIdle: 1})
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Do(t.Context(), getRequest(true)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if k := c.IdleCount(); k != 1 {
		t.Errorf("%d idle connections, want 1", k)
	}
	waitUntil(t, "the surplus connections to close", func() bool { return srv.Finished() == n-1 })
	// MaxIdle < 0: no pooling, each KEEP_CONN request dials and its
	// connection is closed after it.
	none := newTestClient(t, srv.Target(), fcgi.ClientOptions{MaxIdle: -1})
	for i := range 2 {
		if resp, err := none.Do(t.Context(), getRequest(true)); err != nil || resp.Conn.Reused {
			t.Fatalf("Do = %+v, %v", resp, err)
		}
		if k := none.IdleCount(); k != 0 {
			t.Errorf("%d idle connections with MaxIdle -1", k)
		}
		waitUntil(t, "the unpooled connection to close", func() bool { return srv.Finished() == n+i })
	}
	if got := srv.Accepted(); got != n+2 {
		t.Errorf("%d connections, want %d", got, n+2)
	}
}

func TestClientIdleExpiry(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", helloServer)
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{IdleExpiry: 100 * time.Millisecond})
	start := time.Now()
	if _, err := c.Do(t.Context(), getRequest(true)); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the idle connection to expire", func() bool { return srv.Finished() == 1 })
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("idle connection closed after %v, before its expiry", d)
	}
	if k := c.IdleCount(); k != 0 {
		t.Errorf("%d idle connections after expiry", k)
	}
	// An expired connection is not reused, whether the sweep or the next
	// request finds it first.
	quick := newTestClient(t, srv.Target(), fcgi.ClientOptions{IdleExpiry: time.Nanosecond})
	for range 2 {
		if resp, err := quick.Do(t.Context(), getRequest(true)); err != nil || resp.Conn.Reused {
			t.Fatalf("Do = %+v, %v; want a fresh connection", resp, err)
		}
	}
	waitUntil(t, "the expired connections to close", func() bool { return quick.IdleCount() == 0 && srv.Finished() == 3 })
	// IdleExpiry < 0: kept until the application closes it.
	kept := newTestClient(t, srv.Target(), fcgi.ClientOptions{IdleExpiry: -1})
	if _, err := kept.Do(t.Context(), getRequest(true)); err != nil {
		t.Fatal(err)
	}
	if resp, err := kept.Do(t.Context(), getRequest(true)); err != nil || !resp.Conn.Reused {
		t.Fatalf("Do = %+v, %v; want the pooled connection", resp, err)
	}
}

func TestClientClose(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", helloServer)
	c := fcgi.NewClient(srv.Target(), fcgi.ClientOptions{})
	if _, err := c.Do(t.Context(), getRequest(true)); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the idle connection to close", func() bool { return srv.Finished() == 1 })
	if _, err := c.Do(t.Context(), getRequest(true)); !errors.Is(err, fcgi.ErrConnClosed) {
		t.Fatalf("Do after Close = %v, want ErrConnClosed", err)
	}
	if _, err := c.GetValues(t.Context()); !errors.Is(err, fcgi.ErrConnClosed) {
		t.Fatalf("GetValues after Close = %v, want ErrConnClosed", err)
	}
}

// TestClientTrace: the Client's Options.Trace and Request.Trace see the
// records of requests on several connections, never two calls at once.
func TestClientTrace(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", helloServer)
	var inside atomic.Int32
	var count atomic.Int32
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{Options: fcgi.Options{Trace: func(fcgi.Event) {
		if inside.Add(1) != 1 {
			t.Error("Options.Trace called concurrently")
		}
		time.Sleep(100 * time.Microsecond)
		count.Add(1)
		inside.Add(-1)
	}}})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var tl traceLog
			req := getRequest(false)
			req.Trace = tl.trace
			if _, err := c.Do(t.Context(), req); err != nil {
				t.Error(err)
				return
			}
			// SCRIPT_NAME and REQUEST_METHOD fit one PARAMS record.
			want := "sent BEGIN_REQUEST 1, sent PARAMS 1, sent PARAMS 1, sent STDIN 1, received STDOUT 1, received END_REQUEST 1"
			if got := tl.summary(); got != want {
				t.Errorf("Request.Trace: %s", got)
			}
		}()
	}
	wg.Wait()
	if n := count.Load(); n != 8*6 {
		t.Errorf("Options.Trace saw %d records, want %d", n, 8*6)
	}
}

// goFCGI serves handler with Go's net/http/fcgi on a fresh listener.
func goFCGI(t *testing.T, network string, handler http.Handler) string {
	l, addr := fcgitest.Listen(t, network)
	done := make(chan struct{})
	go func() {
		defer close(done)
		gofcgi.Serve(l, handler)
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return addr
}

// TestGoFCGIMultiplexed: 50 concurrent requests on ONE connection to Go's
// net/http/fcgi, each with a body larger than a record; each gets exactly
// its own.
func TestGoFCGIMultiplexed(t *testing.T) {
	t.Parallel()
	const n, reps = 50, 20000
	addr := goFCGI(t, "unix", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag := r.URL.Query().Get("tag")
		w.Header().Set("Content-Type", "text/plain")
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|", body)
		for range reps {
			io.WriteString(w, tag)
		}
	}))
	var all atomic.Int64
	c := mustDial(t, addr, fcgi.Options{Trace: func(ev fcgi.Event) {
		if ev.Err != nil {
			t.Errorf("trace: %v", ev.Err)
		}
		all.Add(1)
	}})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tag := fmt.Sprintf("<%02d>", i)
			var out, errOut bytes.Buffer
			resp, err := c.Do(t.Context(), &fcgi.Request{
				KeepConn: true, // net/http/fcgi closes the connection after a request without it
				Params: []fcgi.Pair{
					{"REQUEST_METHOD", "POST"}, {"SERVER_PROTOCOL", "HTTP/1.1"},
					{"REQUEST_URI", "/echo?tag=" + tag}, {"CONTENT_LENGTH", "5"},
				},
				Stdin:  strings.NewReader(fmt.Sprintf("in-%02d", i)),
				Stdout: &out,
				Stderr: &errOut,
			})
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			want := fmt.Sprintf("in-%02d|", i) + strings.Repeat(tag, reps)
			_, body, _ := strings.Cut(out.String(), "\r\n\r\n")
			if body != want {
				t.Errorf("request %d (id %d): body of %d bytes is not its own (%d bytes of %s)", i, resp.ID, len(body), len(want), tag)
			}
			if resp.StdoutBytes <= 65535 || !resp.Ended || errOut.Len() != 0 {
				t.Errorf("request %d: %+v stderr %q", i, resp, errOut.String())
			}
		}()
	}
	wg.Wait()
	if c.Err() != nil {
		t.Fatalf("connection died: %v", c.Err())
	}
	// Every request went over the one connection.
	if got, err := c.GetValues(t.Context()); err != nil || fmt.Sprint(got) != fmt.Sprint([]fcgi.Pair{{fcgi.ValueMpxsConns, "1"}}) {
		t.Errorf("GetValues = %v, %v; want FCGI_MPXS_CONNS=1", got, err)
	}
}

// ctxReader blocks until its context ends.
type ctxReader struct{ ctx context.Context }

func (r ctxReader) Read([]byte) (int, error) {
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

// TestGoFCGICancel: cancelled while STDIN is still open, the request gets
// ABORT_REQUEST, which net/http/fcgi answers with END_REQUEST. (It ignores
// ABORT_REQUEST once STDIN is complete: it forgets the id at that point.)
func TestGoFCGICancel(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 1)
	handlerErr := make(chan error, 1)
	addr := goFCGI(t, "tcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		first := make([]byte, 3)
		if _, err := io.ReadFull(r.Body, first); err != nil {
			handlerErr <- err
			return
		}
		io.WriteString(w, "started")
		w.(http.Flusher).Flush()
		started <- struct{}{}
		_, err := io.ReadAll(r.Body)
		handlerErr <- err
	}))
	var tl traceLog
	c := newTestClient(t, addr, fcgi.ClientOptions{Options: fcgi.Options{Trace: tl.trace}})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	resp, err := c.Do(ctx, &fcgi.Request{
		Params: []fcgi.Pair{{"REQUEST_METHOD", "POST"}, {"SERVER_PROTOCOL", "HTTP/1.1"}, {"REQUEST_URI", "/"}},
		Stdin:  io.MultiReader(strings.NewReader("abc"), ctxReader{ctx}),
	})
	if !errors.Is(err, fcgi.ErrAborted) || !errors.Is(err, context.Canceled) || resp == nil || !resp.Ended {
		t.Fatalf("Do = %+v, %v; want ErrAborted with END_REQUEST received", resp, err)
	}
	if err := <-handlerErr; !errors.Is(err, gofcgi.ErrRequestAborted) {
		t.Errorf("the handler read %v, want fcgi.ErrRequestAborted", err)
	}
	if n := len(tl.find(fcgi.Sent, fcgi.TypeAbortRequest)); n != 1 {
		t.Errorf("%d ABORT_REQUEST sent: %s", n, tl.summary())
	}
}

// openTracker counts the connections a raw application has open at once.
type openTracker struct {
	open, peak atomic.Int32
}

func (o *openTracker) wrap(serve func(sc *srvConn)) func(sc *srvConn) {
	return func(sc *srvConn) {
		n := o.open.Add(1)
		for {
			p := o.peak.Load()
			if n <= p || o.peak.CompareAndSwap(p, n) {
				break
			}
		}
		defer o.open.Add(-1)
		serve(sc)
	}
}

// TestClientMaxConns: many concurrent KEEP_CONN callers share MaxConns
// connections, every request succeeds, and no more are ever dialled.
func TestClientMaxConns(t *testing.T) {
	t.Parallel()
	var ot openTracker
	srv := newRawServer(t, "unix", ot.wrap(helloServer))
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{MaxConns: 2})
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				var out bytes.Buffer
				req := getRequest(true)
				req.Stdout = &out
				if _, err := c.Do(t.Context(), req); err != nil || !strings.HasSuffix(out.String(), "hello") {
					t.Errorf("Do = %v, stdout %q", err, out.String())
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := srv.Accepted(); got > 2 {
		t.Errorf("%d connections dialled, want at most MaxConns 2", got)
	}
	if p := ot.peak.Load(); p > 2 {
		t.Errorf("%d connections open at once, want at most 2", p)
	}
	if n := c.ConnCount(); n != int(srv.Accepted()) || c.WaitingCount() != 0 {
		t.Errorf("client counts %d connections and %d waiters; %d were dialled", n, c.WaitingCount(), srv.Accepted())
	}
}

// TestClientMaxConnsFIFO: callers waiting for a connection get it in the
// order they came, the released connection going to the longest waiter.
func TestClientMaxConnsFIFO(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var order []string
	var mu sync.Mutex
	srv := newRawServer(t, "unix", func(sc *srvConn) {
		for first := true; ; first = false {
			req, err := sc.readRequest()
			if err != nil {
				return
			}
			if first {
				<-release
			}
			mu.Lock()
			for _, p := range req.params {
				if p.Name == "N" {
					order = append(order, p.Value)
				}
			}
			mu.Unlock()
			if sc.answer(req.id, "ok") != nil {
				return
			}
		}
	})
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{MaxConns: 1})
	do := func(n string, wg *sync.WaitGroup) {
		defer wg.Done()
		req := getRequest(true)
		req.Params = append(req.Params, fcgi.Pair{"N", n})
		if _, err := c.Do(t.Context(), req); err != nil {
			t.Errorf("request %s: %v", n, err)
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go do("first", &wg)
	waitUntil(t, "the first request to hold the connection", func() bool { return srv.Accepted() == 1 })
	for i, n := range []string{"w1", "w2", "w3", "w4"} {
		wg.Add(1)
		go do(n, &wg)
		waitUntil(t, "the caller to queue", func() bool { return c.WaitingCount() == i+1 })
	}
	close(release)
	wg.Wait()
	if got := strings.Join(order, " "); got != "first w1 w2 w3 w4" {
		t.Errorf("served in the order %q, want first come first served", got)
	}
	if got := srv.Accepted(); got != 1 {
		t.Errorf("%d connections dialled, want 1", got)
	}
}

// TestClientMaxConnsWait: a wait for a connection ends with the context
// (ErrTimeout for a deadline, ErrAborted for a cancel, nothing sent) and
// with Close (ErrConnClosed); a cancelled waiter gives its turn back.
func TestClientMaxConnsWait(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := newRawServer(t, "unix", func(sc *srvConn) {
		req, err := sc.readRequest()
		if err != nil {
			return
		}
		<-release
		if sc.answer(req.id, "ok") != nil {
			return
		}
		helloServer(sc)
	})
	c := fcgi.NewClient(srv.Target(), fcgi.ClientOptions{MaxConns: 1})
	defer c.Close()
	held := make(chan error, 1)
	go func() {
		_, err := c.Do(t.Context(), getRequest(true))
		held <- err
	}()
	waitUntil(t, "the first request to hold the connection", func() bool { return srv.Accepted() == 1 })

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	resp, err := c.Do(ctx, getRequest(true))
	if !errors.Is(err, fcgi.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || resp != nil ||
		!strings.Contains(err.Error(), "waiting for a connection (MaxConns 1)") {
		t.Errorf("Do with a deadline = %+v, %v; want ErrTimeout while waiting for a connection", resp, err)
	}
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := c.GetValues(ctx); !errors.Is(err, fcgi.ErrAborted) || !errors.Is(err, context.Canceled) {
		t.Errorf("GetValues cancelled while waiting = %v, want ErrAborted", err)
	}
	if n := c.WaitingCount(); n != 0 {
		t.Errorf("%d waiters left after their contexts ended", n)
	}

	close(release)
	if err := <-held; err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if resp, err := c.Do(t.Context(), getRequest(true)); err != nil || !resp.Conn.Reused {
			t.Fatalf("Do after the waits = %+v, %v; want the pooled connection", resp, err)
		}
	}
	if got := srv.Accepted(); got != 1 {
		t.Errorf("%d connections dialled, want 1: a waiter that gave up leaked or took a slot", got)
	}

	// Close ends the wait of a caller in line.
	unblock := make(chan struct{})
	stall := newRawServer(t, "unix", func(sc *srvConn) {
		req, err := sc.readRequest()
		if err != nil {
			return
		}
		<-unblock
		sc.answer(req.id, "late")
	})
	c2 := fcgi.NewClient(stall.Target(), fcgi.ClientOptions{MaxConns: 1})
	holding := make(chan struct{})
	go func() {
		defer close(holding)
		c2.Do(t.Context(), getRequest(true))
	}()
	waitUntil(t, "the connection to be taken", func() bool { return stall.Accepted() == 1 })
	waiting := make(chan error, 1)
	go func() {
		_, err := c2.Do(t.Context(), getRequest(true))
		waiting <- err
	}()
	waitUntil(t, "the caller to queue", func() bool { return c2.WaitingCount() == 1 })
	c2.Close()
	if err := <-waiting; !errors.Is(err, fcgi.ErrConnClosed) || !strings.Contains(err.Error(), "client is closed") {
		t.Errorf("Do waiting at Close = %v, want ErrConnClosed", err)
	}
	close(unblock)
	<-holding
}

// TestClientMaxConnsOwnConn: at MaxConns, a request without KEEP_CONN
// closes an idle connection to dial its own, and a failed dial gives its
// slot back.
func TestClientMaxConnsOwnConn(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, "unix", helloServer)
	c := newTestClient(t, srv.Target(), fcgi.ClientOptions{MaxConns: 1})
	if _, err := c.Do(t.Context(), getRequest(true)); err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(t.Context(), getRequest(false))
	if err != nil || resp.Conn.Reused {
		t.Fatalf("Do without KEEP_CONN = %+v, %v; want a connection of its own", resp, err)
	}
	waitUntil(t, "both connections to close", func() bool { return srv.Finished() == 2 })
	if n := c.ConnCount(); n != 0 {
		t.Errorf("client counts %d connections, want 0", n)
	}

	l, addr := fcgitest.Listen(t, "unix")
	l.Close() // nothing listens: every dial is refused
	c = newTestClient(t, addr, fcgi.ClientOptions{MaxConns: 1})
	for range 3 {
		if _, err := c.Do(t.Context(), getRequest(true)); !errors.Is(err, fcgi.ErrConnect) {
			t.Fatalf("Do = %v, want ErrConnect", err)
		}
	}
	if n := c.ConnCount(); n != 0 {
		t.Errorf("client counts %d connections after failed dials, want 0", n)
	}
}

// TestClientPHPFPMMaxConns: more KEEP_CONN callers than php-fpm workers,
// each php-fpm worker holding one connection: with MaxConns at the number
// of workers the Client never has more connections open than php-fpm has
// workers, so that none waits unserved in php-fpm's listen queue while the
// others are reused, and every request is served.
//
// The connections are counted while the load runs, not inferred from a
// short idle timeout: a worker starved of CPU on a busy machine answers
// late, which a connection in the listen queue cannot be told from.
func TestClientPHPFPMMaxConns(t *testing.T) {
	t.Parallel()
	const workers, callers = 2, 16
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{PM: "static", MaxChildren: workers, Listen: fcgitest.ListenUnix})
	c := newTestClient(t, "unix:"+fpm.Addr, fcgi.ClientOptions{MaxConns: workers})
	deadline := time.Now().Add(2 * time.Second)
	var most atomic.Int32
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for time.Now().Before(deadline) {
			if n := int32(c.ConnCount()); n > most.Load() {
				most.Store(n)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	var wg sync.WaitGroup
	var done, failed atomic.Int32
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				var out bytes.Buffer
				req := phpRequest(fpm, "GET", "hello.php", "", nil)
				req.KeepConn, req.Stdout = true, &out
				if _, err := c.Do(t.Context(), req); err != nil || !strings.HasSuffix(out.String(), "hello") {
					if failed.Add(1) <= 3 {
						t.Errorf("Do = %v, stdout %q", err, out.String())
					}
					continue
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	<-sampled
	if failed.Load() > 0 || done.Load() < callers {
		t.Errorf("%d requests failed, %d succeeded", failed.Load(), done.Load())
	}
	if n := max(int(most.Load()), c.ConnCount()); n > workers {
		t.Errorf("client had %d connections open, more than MaxConns %d, the php-fpm workers", n, workers)
	}
	t.Logf("%d requests by %d callers over %d php-fpm workers", done.Load(), callers, workers)
}
