package fcgitest_test

import (
	"bytes"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
)

// cgiFCGI runs one request through libfcgi's cgi-fcgi and returns its stdout and stderr, which
// carry the FastCGI stdout and stderr streams.
func cgiFCGI(t *testing.T, addr string, env ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command(fcgitest.CGIFCGI(t), "-bind", "-connect", addr)
	cmd.Env = append([]string{"REQUEST_METHOD=GET", "GATEWAY_INTERFACE=CGI/1.1", "SERVER_PROTOCOL=HTTP/1.1"}, env...)
	out, errOut, code := fcgitest.RunCmd(t, cmd, 10*time.Second)
	if code != 0 {
		t.Fatalf("cgi-fcgi exited %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	return string(out), string(errOut)
}

func TestPHPFPMListeners(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		listen  fcgitest.ListenKind
		network string
	}{
		{"tcp", fcgitest.ListenTCP, "tcp"},
		{"unix", fcgitest.ListenUnix, "unix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: tc.listen})
			if fpm.Network != tc.network {
				t.Errorf("Network = %q, want %q", fpm.Network, tc.network)
			}

			out, _ := cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("hello.php"), "SCRIPT_NAME=/hello.php")
			if !strings.HasSuffix(out, "\r\n\r\nhello") {
				t.Errorf("hello.php stdout = %q, want CGI headers then hello", out)
			}

			out, errOut := cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("stderr.php"), "SCRIPT_NAME=/stderr.php")
			if !strings.HasSuffix(out, "\r\n\r\nok") {
				t.Errorf("stderr.php stdout = %q, want body ok", out)
			}
			if want := "PHP message: " + fcgitest.StderrText; !strings.Contains(errOut, want) {
				t.Errorf("stderr.php stderr = %q, want it to contain %q\nfpm log:\n%s", errOut, want, fpm.Log())
			}

			out, _ = cgiFCGI(t, fpm.Addr, "SCRIPT_NAME=/ping", "SCRIPT_FILENAME=/ping")
			if !strings.HasSuffix(out, "\r\n\r\npong") {
				t.Errorf("ping stdout = %q, want pong", out)
			}

			out, errOut = cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("missing.php"), "SCRIPT_NAME=/missing.php")
			if !strings.HasPrefix(out, "Status: 404") || !strings.Contains(errOut, "Primary script unknown") {
				t.Errorf("missing.php: stdout %q stderr %q, want Status: 404 and Primary script unknown", out, errOut)
			}
		})
	}
}

func TestPHPFPMOptions(t *testing.T) {
	t.Parallel()
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{
		Listen:      fcgitest.ListenUnix,
		PM:          "dynamic",
		MaxChildren: 3,
		MaxRequests: 1,
		PingPath:    "/alive",
		StatusPath:  "/fpm-status",
		// php-fpm's ini parser turns a bare yes into "1"; a plain word stays as written.
		ExtraPool: "ping.response = alive",
		Scripts:   map[string]string{"sub/own.php": `<?php echo "own ", getmypid();`, "hello.php": `<?php echo "replaced";`},
	})
	out, _ := cgiFCGI(t, fpm.Addr, "SCRIPT_NAME=/alive", "SCRIPT_FILENAME=/alive")
	if !strings.HasSuffix(out, "\r\n\r\nalive") {
		t.Errorf("ping stdout = %q, want alive", out)
	}
	out, _ = cgiFCGI(t, fpm.Addr, "SCRIPT_NAME=/fpm-status", "SCRIPT_FILENAME=/fpm-status")
	for _, want := range []string{"pool:                 fcgitest", "process manager:      dynamic", "max children reached"} {
		if !strings.Contains(out, want) {
			t.Errorf("status stdout = %q, want it to contain %q", out, want)
		}
	}
	out, _ = cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("hello.php"))
	if !strings.HasSuffix(out, "replaced") {
		t.Errorf("hello.php stdout = %q, want the replacement", out)
	}
	// pm.max_requests = 1: every request gets a fresh worker.
	first, _ := cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("sub/own.php"))
	second, _ := cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("sub/own.php"))
	if !strings.Contains(first, "own ") || first == second {
		t.Errorf("sub/own.php twice = %q, %q; want two different worker pids", first, second)
	}
}

func TestNginx(t *testing.T) {
	t.Parallel()
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix})
	ngx := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: fpm.Pass()})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		resp, err := client.Get(ngx.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v\nnginx log:\n%s", path, err, ngx.Log())
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("GET %s: body: %v", path, err)
		}
		return resp, body
	}

	if resp, body := get("/hello.php"); resp.StatusCode != 200 || string(body) != "hello" {
		t.Errorf("GET /hello.php = %d %q, want 200 hello", resp.StatusCode, body)
	}
	if _, body := get("/"); string(body) != "index" {
		t.Errorf("GET / = %q, want index (index index.php)", body)
	}

	resp, body := get("/echo.php/extra?x=1")
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("echo.php Content-Type = %q", ct)
	}
	echo, err := fcgitest.ParseEcho(body)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"PATH_INFO":       "/extra",
		"SCRIPT_NAME":     "/echo.php",
		"SCRIPT_FILENAME": fpm.Script("echo.php"),
		"QUERY_STRING":    "x=1",
		"REQUEST_URI":     "/echo.php/extra?x=1",
		"DOCUMENT_ROOT":   fpm.DocRoot,
		"SERVER_NAME":     "localhost",
		"REDIRECT_STATUS": "200",
	} {
		if got, _ := echo.Param(name); got != want {
			t.Errorf("echo.php $_SERVER[%s] = %q, want %q", name, got, want)
		}
	}
	if echo.Get["x"] != "1" {
		t.Errorf("echo.php $_GET = %v, want x=1", echo.Get)
	}

	resp, body = get("/status.php?code=201")
	if resp.StatusCode != 201 || string(body) != "status 201\n" || len(resp.Header.Values("Set-Cookie")) != 2 {
		t.Errorf("GET /status.php?code=201 = %d %q cookies %q", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}

	_, body = get("/big.php?n=100000")
	if !bytes.Equal(body, fcgitest.BigBody(100000)) {
		t.Errorf("GET /big.php?n=100000: %d bytes, not BigBody(100000)", len(body))
	}

	payload := bytes.Repeat([]byte("post body "), 1000)
	presp, err := client.Post(ngx.URL+"/post.php", "application/octet-stream", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(presp.Body)
	presp.Body.Close()
	if string(body) != fcgitest.PostDigest(payload) {
		t.Errorf("POST /post.php = %q, want %q", body, fcgitest.PostDigest(payload))
	}

	if _, body := get("/stderr.php"); string(body) != "ok" {
		t.Errorf("GET /stderr.php = %q, want ok", body)
	}
	if log := ngx.Log(); !strings.Contains(log, "FastCGI sent in stderr") || !strings.Contains(log, fcgitest.StderrText) {
		t.Errorf("nginx log lacks the php stderr line:\n%s", log)
	}
}

func TestNginxTCP(t *testing.T) {
	t.Parallel()
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	ngx := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: fpm.Pass(), ExtraLocation: "fastcgi_keep_conn on;"})
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(ngx.URL + "/redirect.php")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/hello.php" || string(body) != "hello" {
		t.Errorf("GET /redirect.php ended at %s with %q, want /hello.php with hello", resp.Request.URL, body)
	}
}

func TestFreePort(t *testing.T) {
	if p := fcgitest.FreePort(t); p <= 0 || p > 65535 {
		t.Errorf("FreePort = %d", p)
	}
}

// TestPHPFPMLongName checks the unix socket still fits in sun_path (108 bytes) when a long test
// name makes a long temporary directory.
func TestPHPFPMLongName(t *testing.T) {
	t.Parallel()
	t.Run(strings.Repeat("long_subtest_name_", 6), func(t *testing.T) {
		fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix})
		if len(fpm.Addr) >= 108 {
			t.Errorf("socket path has %d bytes: %s", len(fpm.Addr), fpm.Addr)
		}
		out, _ := cgiFCGI(t, fpm.Addr, "SCRIPT_FILENAME="+fpm.Script("hello.php"))
		if !strings.HasSuffix(out, "hello") {
			t.Errorf("hello.php stdout = %q", out)
		}
	})
}
