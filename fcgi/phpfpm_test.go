// Client tests against a real php-fpm (fcgitest), over TCP and unix sockets.

package fcgi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// phpRequest builds the params nginx would send for script (relative to the
// document root, with an optional query string) and the given body.
func phpRequest(fpm *fcgitest.PHPFPMServer, method, script, query string, body []byte) *fcgi.Request {
	req := &fcgi.Request{Params: []fcgi.Pair{
		{"GATEWAY_INTERFACE", "CGI/1.1"},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"REQUEST_METHOD", method},
		{"SCRIPT_FILENAME", fpm.Script(script)},
		{"SCRIPT_NAME", "/" + script},
		{"REQUEST_URI", "/" + script + "?" + query},
		{"QUERY_STRING", query},
	}}
	if body != nil {
		req.Params = append(req.Params,
			fcgi.Pair{"CONTENT_LENGTH", strconv.Itoa(len(body))},
			fcgi.Pair{"CONTENT_TYPE", "application/octet-stream"})
		req.Stdin = bytes.NewReader(body)
	}
	return req
}

// doPHP runs req through c and returns stdout's body (after the CGI
// headers), the whole stdout and stderr.
func doPHP(t *testing.T, c *fcgi.Client, req *fcgi.Request) (body, stdout, stderr string, resp *fcgi.Response) {
	t.Helper()
	var out, errOut bytes.Buffer
	req.Stdout, req.Stderr = &out, &errOut
	resp, err := c.Do(t.Context(), req)
	if err != nil {
		t.Fatalf("Do: %v\nstdout: %q\nstderr: %q", err, out.String(), errOut.String())
	}
	if !resp.Ended || resp.ProtocolStatus != fcgi.StatusRequestComplete || resp.StdoutBytes != int64(out.Len()) {
		t.Errorf("response %+v", resp)
	}
	_, body, found := strings.Cut(out.String(), "\r\n\r\n")
	if !found {
		t.Errorf("stdout %q has no CGI header block", out.String())
	}
	return body, out.String(), errOut.String(), resp
}

func TestPHPFPM(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		listen fcgitest.ListenKind
	}{{"tcp", fcgitest.ListenTCP}, {"unix", fcgitest.ListenUnix}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: tc.listen})
			addr := fpm.Addr
			if fpm.Network == "unix" {
				addr = "unix:" + fpm.Addr
			}
			c := newTestClient(t, addr, fcgi.ClientOptions{})

			t.Run("hello", func(t *testing.T) {
				// php-fpm sends END_REQUEST without closing STDOUT by an
				// empty record: Do must not wait for one.
				body, _, _, resp := doPHP(t, c, phpRequest(fpm, "GET", "hello.php", "", nil))
				if body != "hello" || resp.Conn.Network != fpm.Network {
					t.Errorf("body %q over %s", body, resp.Conn.Network)
				}
			})
			t.Run("post", func(t *testing.T) {
				in := bytes.Repeat([]byte("fcgiscope\x00\xff"), 20000) // 220000 bytes, 4 STDIN records
				body, _, _, _ := doPHP(t, c, phpRequest(fpm, "POST", "post.php", "", in))
				if want := fcgitest.PostDigest(in); body != want {
					t.Errorf("post.php = %q, want %q", body, want)
				}
			})
			t.Run("big", func(t *testing.T) {
				const n = 300000
				body, _, _, _ := doPHP(t, c, phpRequest(fpm, "GET", "big.php", "n="+strconv.Itoa(n), nil))
				if !bytes.Equal([]byte(body), fcgitest.BigBody(n)) {
					t.Errorf("big.php body: %d bytes, differs from BigBody(%d)", len(body), n)
				}
			})
			t.Run("stderr", func(t *testing.T) {
				body, _, stderr, resp := doPHP(t, c, phpRequest(fpm, "GET", "stderr.php", "", nil))
				if want := "PHP message: " + fcgitest.StderrText; !strings.Contains(stderr, want) || body != "ok" {
					t.Errorf("stderr %q body %q, want stderr with %q", stderr, body, want)
				}
				if resp.StderrBytes != int64(len(stderr)) {
					t.Errorf("StderrBytes %d for %d bytes", resp.StderrBytes, len(stderr))
				}
			})
			t.Run("missing", func(t *testing.T) {
				_, stdout, stderr, _ := doPHP(t, c, phpRequest(fpm, "GET", "missing.php", "", nil))
				if !strings.HasPrefix(stdout, "Status: 404") || !strings.Contains(stderr, "Primary script unknown") {
					t.Errorf("stdout %q stderr %q", stdout, stderr)
				}
			})
			t.Run("ping", func(t *testing.T) {
				req := &fcgi.Request{Params: []fcgi.Pair{{"REQUEST_METHOD", "GET"}, {"SCRIPT_NAME", "/ping"}, {"SCRIPT_FILENAME", "/ping"}}}
				if body, _, _, _ := doPHP(t, c, req); body != "pong" {
					t.Errorf("ping body %q", body)
				}
			})
			t.Run("echo", func(t *testing.T) {
				req := phpRequest(fpm, "GET", "echo.php", "a=1", nil)
				// 90 KB of params: more than one PARAMS record. php-fpm
				// parses each record on its own, so no pair may straddle two.
				req.Params = append(req.Params, fcgi.Pair{"X_DUP", "first"}, fcgi.Pair{"X_DUP", "last"})
				for _, n := range []string{"X_A", "X_B", "X_C"} {
					req.Params = append(req.Params, fcgi.Pair{n, strings.Repeat(n, 10000)})
				}
				body, _, _, _ := doPHP(t, c, req)
				echo, err := fcgitest.ParseEcho([]byte(body))
				if err != nil {
					t.Fatal(err)
				}
				if v, _ := echo.Param("X_DUP"); v != "last" {
					t.Errorf("X_DUP = %q, want the last value", v)
				}
				for _, n := range []string{"X_A", "X_B", "X_C"} {
					if v, _ := echo.Param(n); v != strings.Repeat(n, 10000) {
						t.Errorf("%s has %d bytes, want 30000", n, len(v))
					}
				}
			})
			t.Run("GetValues", func(t *testing.T) {
				got, err := c.GetValues(t.Context())
				if err != nil || fmt.Sprint(got) != fmt.Sprint([]fcgi.Pair{{fcgi.ValueMpxsConns, "0"}}) {
					t.Errorf("GetValues = %v, %v; want only FCGI_MPXS_CONNS=0", got, err)
				}
			})
		})
	}
}

// TestPHPFPMKeepConnRecycled: php-fpm recycles a worker after
// pm.max_requests and closes its KEEP_CONN connection; every request still
// succeeds on a reused or fresh connection.
func TestPHPFPMKeepConnRecycled(t *testing.T) {
	t.Parallel()
	for _, maxReqs := range []int{1, 2} {
		t.Run(fmt.Sprint("max_requests=", maxReqs), func(t *testing.T) {
			t.Parallel()
			fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix, MaxRequests: maxReqs})
			c := newTestClient(t, "unix:"+fpm.Addr, fcgi.ClientOptions{})
			reused := 0
			for i := range 30 {
				req := phpRequest(fpm, "GET", "hello.php", "", nil)
				req.KeepConn = true
				var out bytes.Buffer
				req.Stdout = &out
				resp, err := c.Do(t.Context(), req)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if !strings.HasSuffix(out.String(), "\r\n\r\nhello") {
					t.Fatalf("request %d: stdout %q", i, out.String())
				}
				if resp.Conn.Reused {
					reused++
				}
			}
			if maxReqs == 2 && reused == 0 {
				t.Error("no request reused a KEEP_CONN connection")
			}
			// A POST with a body is never sent twice: when php-fpm closes a
			// reused connection under it, it fails with ErrConnClosed before
			// any answer, and only then; on a fresh connection it succeeds.
			failed := 0
			for i := range 20 {
				in := []byte(fmt.Sprint("body ", i))
				req := phpRequest(fpm, "POST", "post.php", "", in)
				req.KeepConn = true
				var out bytes.Buffer
				req.Stdout = &out
				resp, err := c.Do(t.Context(), req)
				switch {
				case err == nil:
					if !strings.HasSuffix(out.String(), "\r\n\r\n"+fcgitest.PostDigest(in)) {
						t.Errorf("POST %d: stdout %q", i, out.String())
					}
				case errors.Is(err, fcgi.ErrConnClosed) && resp != nil && resp.Conn.Reused && resp.StdoutBytes == 0 && !resp.Ended:
					failed++
				default:
					t.Errorf("POST %d: %+v, %v; want success, or ErrConnClosed on a reused connection", i, resp, err)
				}
			}
			t.Logf("%d of 20 POSTs met a recycled connection", failed)
		})
	}
}

// TestPHPFPMCancel: a request cancelled while php-fpm runs the script.
func TestPHPFPMCancel(t *testing.T) {
	t.Parallel()
	// Three workers: the two cancelled scripts keep theirs busy.
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix, MaxChildren: 3})
	c := newTestClient(t, "unix:"+fpm.Addr, fcgi.ClientOptions{Options: fcgi.Options{AbortWait: 200 * time.Millisecond}})

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	resp, err := c.Do(ctx, phpRequest(fpm, "GET", "sleep.php", "ms=2000", nil))
	if !errors.Is(err, fcgi.ErrAborted) || !errors.Is(err, context.Canceled) || resp == nil {
		t.Fatalf("Do = %+v, %v; want ErrAborted", resp, err)
	}
	elapsedWithin(t, "cancel", time.Since(start), 100*time.Millisecond, 100*time.Millisecond+200*time.Millisecond+2*time.Second)
	t.Logf("php-fpm and ABORT_REQUEST: %v", err)

	ctx, cancel = context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = c.Do(ctx, phpRequest(fpm, "GET", "sleep.php", "ms=2000", nil))
	if !errors.Is(err, fcgi.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v; want ErrTimeout", err)
	}
	elapsedWithin(t, "deadline", time.Since(start), 150*time.Millisecond, 150*time.Millisecond+200*time.Millisecond+2*time.Second)

	// The pool still serves.
	if body, _, _, _ := doPHP(t, c, phpRequest(fpm, "GET", "hello.php", "", nil)); body != "hello" {
		t.Errorf("body %q", body)
	}
}
