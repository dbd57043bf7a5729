package tap_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/tap"
)

// chain is nginx in front of a relay, in front of the tap, in front of a
// relay, in front of php-fpm: the relays see the bytes on both sides of
// the tap.
type chain struct {
	fpm           *fcgitest.PHPFPMServer
	ngx           *fcgitest.NginxServer
	tap           *tap.Tap
	col           *collector
	before, after *relay
}

// startChain starts the chain over unix sockets or TCP (network), nginx
// configured with opts (FastCGIPass and DocRoot are filled in).
//
// With direct set, nginx connects to the tap itself (c.before is nil): a
// relay would hide from the tap how nginx's side of a connection ends.
func startChain(t *testing.T, network string, fpmOpts fcgitest.PHPFPMOptions, tapOpts tap.Options, opts fcgitest.NginxOptions, direct ...bool) *chain {
	t.Helper()
	if network == "unix" {
		fpmOpts.Listen = fcgitest.ListenUnix
	}
	c := &chain{fpm: fcgitest.PHPFPM(t, fpmOpts)}
	c.after = startRelay(t, network, c.fpm.Pass())
	tapOpts.Upstream = c.after.addr
	if network == "tcp" {
		tapOpts.Listen = "127.0.0.1:0"
	}
	c.tap, c.col = startTap(t, tapOpts)
	opts.DocRoot, opts.FastCGIPass = c.fpm.DocRoot, c.tap.Addr()
	if len(direct) == 0 || !direct[0] {
		c.before = startRelay(t, network, c.tap.Addr())
		opts.FastCGIPass = c.before.addr
	}
	if opts.ExtraHTTP != "" {
		opts.ExtraHTTP = strings.ReplaceAll(opts.ExtraHTTP, "BACKEND", opts.FastCGIPass)
		opts.FastCGIPass = "php"
	}
	c.ngx = fcgitest.Nginx(t, opts)
	return c
}

// httpGet fetches url with the extra header lines and returns the status
// and body.
func httpGet(t *testing.T, url string, header ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// TestTapBehindNginx: nginx -> tap -> php-fpm, over unix sockets and over
// TCP. The params recorded are $_SERVER as PHP saw it, the response is what
// nginx got, and the bytes on both sides of the tap are the same.
func TestTapBehindNginx(t *testing.T) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) {
			c := startChain(t, network, fcgitest.PHPFPMOptions{}, tap.Options{}, fcgitest.NginxOptions{})
			status, body := httpGet(t, c.ngx.URL+"/echo.php/extra?a=1&b=two%20words",
				"X-Test", "tapped", "Cookie", "c=1", "Authorization", "Basic dXNlcjpwdw==")
			if status != http.StatusOK {
				t.Fatalf("status %d: %s\n%s", status, body, c.ngx.Log())
			}
			xs := c.col.wait(t, 1)
			x := xs[0]
			echo, err := fcgitest.ParseEcho(x.Response().Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(x.Response().Body) != string(body) {
				t.Errorf("the exchange's body differs from what nginx served")
			}
			ps := x.Params()
			if len(ps) < 20 {
				t.Fatalf("%d params: %v", len(ps), ps)
			}
			seen := map[string]bool{}
			for i := len(ps) - 1; i >= 0; i-- { // PHP keeps the last of a name
				p := ps[i]
				if seen[p.Name] {
					continue
				}
				seen[p.Name] = true
				if got, ok := echo.Server[p.Name]; !ok || fmt.Sprint(got) != p.Value {
					t.Errorf("param %s = %q, $_SERVER has %v (%v)", p.Name, p.Value, got, ok)
				}
				if p.Origin != tap.OriginCaptured {
					t.Errorf("param %s origin %q", p.Name, p.Origin)
				}
			}
			for _, name := range []string{"REQUEST_URI", "SCRIPT_FILENAME", "PATH_INFO", "HTTP_X_TEST", "HTTP_COOKIE", "HTTP_AUTHORIZATION"} {
				if !seen[name] {
					t.Errorf("no param %s", name)
				}
			}
			if x.Input.Mode != session.ModeRaw || len(x.Input.Params) != len(ps) || x.Target() != c.after.addr {
				t.Errorf("input %+v, target %q", x.Input, x.Target())
			}
			if x.ErrorText() != "" || x.End() == nil || x.Response().Status != 200 {
				t.Errorf("error %q, end %v", x.ErrorText(), x.End())
			}
			sameBytes(t, c.before, c.after)
			up, down := c.after.streams(t)
			if got := rawOf(x, fcgi.Sent); string(got) != string(up[0]) {
				t.Errorf("the records sent are not the bytes the application got")
			}
			if got := rawOf(x, fcgi.Received); string(got) != string(down[0]) {
				t.Errorf("the records received are not the bytes the application sent")
			}
			s := tap.Summarize(x)
			if s.Method != "GET" || s.URI != "/echo.php/extra?a=1&b=two%20words" || s.Status != 200 || !s.Ended {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

// TestTapKeepAlive: nginx keeps its connection to the tap (fastcgi_keep_conn
// on): several requests go over one connection, each its own exchange, and
// the connection stays open between them on both sides.
func TestTapKeepAlive(t *testing.T) {
	c := startChain(t, "unix", fcgitest.PHPFPMOptions{}, tap.Options{}, fcgitest.NginxOptions{
		ExtraHTTP: "upstream php { server BACKEND; keepalive 4; }", ExtraLocation: "fastcgi_keep_conn on;"})
	const n = 4
	for i := range n {
		status, body := httpGet(t, fmt.Sprintf("%s/echo.php?i=%d", c.ngx.URL, i))
		if status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
	}
	xs := c.col.wait(t, n)
	if st := c.tap.Stats(); st.Conns != 1 || st.Open != 1 {
		t.Errorf("stats %+v: want one connection, still open", st)
	}
	for i, x := range xs {
		if uri, _ := x.Params().Get("REQUEST_URI"); uri != fmt.Sprintf("/echo.php?i=%d", i) {
			t.Errorf("exchange %d: REQUEST_URI %q", i, uri)
		}
		if !x.KeepConn() || x.Conn().Reused != (i > 0) || x.ErrorText() != "" || x.End() == nil {
			t.Errorf("exchange %d: keep %v reused %v error %q", i, x.KeepConn(), x.Conn().Reused, x.ErrorText())
		}
	}
}

// TestTapUpstreamDown: with php-fpm stopped, the web server's connection is
// closed and nginx answers 502 itself; the tap says why. Once php-fpm is
// back, requests go through again.
func TestTapUpstreamDown(t *testing.T) {
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix})
	notices := make(chan tap.Notice, 16)
	tp, col := startTap(t, tap.Options{Upstream: fpm.Pass(), OnNotice: func(n tap.Notice) { notices <- n }})
	ngx := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: tp.Addr()})
	fpm.Stop()
	status, _ := httpGet(t, ngx.URL+"/hello.php")
	if status != http.StatusBadGateway {
		t.Errorf("status %d with php-fpm down, want 502 from nginx", status)
	}
	select {
	case n := <-notices:
		if n.Kind != tap.NoticeUpstreamDown || !strings.Contains(n.Err.Error(), fpm.Pass()) {
			t.Errorf("notice %v: %v", n.Kind, n.Err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notice of the upstream being down")
	}
	if st := tp.Stats(); st.UpstreamFailed == 0 {
		t.Errorf("stats %+v", st)
	}
	fpm.Start(t)
	if status, body := httpGet(t, ngx.URL+"/hello.php"); status != 200 || string(body) != "hello" {
		t.Errorf("after php-fpm is back: %d %q", status, body)
	}
	col.wait(t, 1)
}

// TestTapPHPFPMKilled: php-fpm killed in the middle of a request: nginx gets
// the connection closed (502), the exchange completes with the reason.
func TestTapPHPFPMKilled(t *testing.T) {
	c := startChain(t, "unix", fcgitest.PHPFPMOptions{}, tap.Options{}, fcgitest.NginxOptions{})
	got := make(chan int, 1)
	go func() {
		resp, err := http.Get(c.ngx.URL + "/sleep.php?ms=20000")
		if err != nil {
			got <- 0
			return
		}
		resp.Body.Close()
		got <- resp.StatusCode
	}()
	waitFor(t, "the request in flight", func() bool { return c.tap.Stats().FromWebServer > 0 })
	if err := syscall.Kill(-c.fpm.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if status := <-got; status != http.StatusBadGateway {
		t.Errorf("nginx answered %d, want 502", status)
	}
	x := c.col.wait(t, 1)[0]
	if x.End() != nil || !strings.Contains(x.ErrorText(), "before END_REQUEST") {
		t.Errorf("end %v, error %q", x.End(), x.ErrorText())
	}
	sameBytes(t, c.before, c.after)
	waitFor(t, "the connection closed", func() bool { return c.tap.Stats().Open == 0 })
}

// TestTapNginxKilled: nginx killed in the middle of a request: the tap
// closes its side towards php-fpm too, and the exchange says the web server
// left.
func TestTapNginxKilled(t *testing.T) {
	c := startChain(t, "unix", fcgitest.PHPFPMOptions{}, tap.Options{}, fcgitest.NginxOptions{}, true)
	go func() {
		if resp, err := http.Get(c.ngx.URL + "/sleep.php?ms=1500"); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "the request in flight", func() bool { return c.tap.Stats().FromWebServer > 0 })
	if err := syscall.Kill(-c.ngx.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	x := c.col.wait(t, 1)[0]
	if !strings.Contains(x.ErrorText(), "web server") {
		t.Errorf("error %q: want the web server named", x.ErrorText())
	}
	waitFor(t, "both sides closed", func() bool { return c.tap.Stats().Open == 0 })
	up, _ := c.after.streams(t) // waits until php-fpm's side is closed too
	if len(up) != 1 {
		t.Errorf("%d connections to php-fpm", len(up))
	}
}

// TestTapLargeResponse: a response far above the capture limit goes through
// whole; the exchange keeps headers and sizes past the limit.
func TestTapLargeResponse(t *testing.T) {
	const limit = 4 << 20
	n := fcgitest.FloodBytes
	c := startChain(t, "unix", fcgitest.PHPFPMOptions{}, tap.Options{CaptureLimit: limit}, fcgitest.NginxOptions{})
	resp, err := http.Get(fmt.Sprintf("%s/big.php?n=%d", c.ngx.URL, n))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || got != int64(n) {
		t.Fatalf("nginx served %d bytes (%v), want %d", got, err, n)
	}
	x := c.col.wait(t, 1)[0]
	sz := x.Sizes()
	if sz.Captured > limit || !x.Truncated() || sz.Stdout < int64(n) || x.End() == nil {
		t.Errorf("sizes %+v, truncated %v: want the capture within %d bytes, stdout counted whole", sz, x.Truncated(), limit)
	}
	if st := c.tap.Stats(); st.Held != 0 || st.Queued != 0 {
		t.Errorf("stats %+v: nothing should be held once the exchange is complete", st)
	}
	sameBytes(t, c.before, c.after)
}

// waitFor waits until cond holds, 10 s at most.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
