// The HTTP mapping against the real thing: the same HTTP requests go through
// Debian's nginx 1.22 and through BuildHTTP + package fcgi, and what arrives
// must be the same — the params on the wire (names, values, order), the
// $_SERVER php-fpm builds from them, and the HTTP response.

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// nginxScripts are added to php-fpm's document root (besides fcgitest's
// echo.php, index.php, status.php, redirect.php, post.php, ...).
func nginxScripts() map[string]string {
	return map[string]string{
		"sub/index.php":       "<?php require __DIR__ . '/../echo.php';\n",
		"café.php":            "<?php require __DIR__ . '/echo.php';\n",
		"emptydir/readme.txt": "a directory without index.php\n",
		"cookies.php": `<?php
header('Status: 201 Created');
setcookie('session', 'abc def', ['path' => '/', 'httponly' => true]);
setcookie('theme', 'dark');
header('X-Rep: 1', false);
header('X-Rep: 2', false);
header('Content-Type: text/plain; charset=utf-8');
echo "cookies for ", $_SERVER['REQUEST_METHOD'], "\n";
`,
	}
}

// nginxCase is a request nginx passes to FastCGI.
type nginxCase struct {
	name string
	in   HTTPInput
	// notSent are params nginx sends that the mapping leaves out on
	// purpose: HTTP_PROXY (httpoxy), which php-fpm also keeps out of
	// $_SERVER, so only the wire shows it.
	notSent []string
	// php are values $_SERVER must hold behind nginx (and so through the
	// mapping): what the row is about, in PHP's eyes.
	php map[string]string
}

func nginxCases() []nginxCase {
	h := func(kv ...string) []Header {
		var hs []Header
		for i := 0; i+1 < len(kv); i += 2 {
			hs = append(hs, Header{kv[i], kv[i+1]})
		}
		return hs
	}
	binary := make([]byte, 3000)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	return []nginxCase{
		{name: "query string", in: HTTPInput{URL: "/echo.php?a=1&b=%20x&c[]=1&c[]=2&d=%C3%A9", Headers: h("Host", "localhost", "User-Agent", "fcgiscope-test")}},
		{name: "path info", in: HTTPInput{URL: "/echo.php/extra/path?x=y", Headers: h("Host", "localhost")},
			php: map[string]string{"SCRIPT_NAME": "/echo.php", "PATH_INFO": "/extra/path", "PHP_SELF": "/echo.php/extra/path", "QUERY_STRING": "x=y"}},
		{name: "index at the root", in: HTTPInput{URL: "/", Headers: h("Host", "localhost")}},
		{name: "index in a directory", in: HTTPInput{URL: "/sub/?q=1", Headers: h("Host", "localhost")},
			php: map[string]string{"SCRIPT_NAME": "/sub/index.php", "REQUEST_URI": "/sub/?q=1", "DOCUMENT_URI": "/sub/index.php"}},
		{name: "form post", php: map[string]string{"CONTENT_LENGTH": "9", "CONTENT_TYPE": "application/x-www-form-urlencoded"},
			in: HTTPInput{Method: "POST", URL: "/echo.php", Body: []byte("a=b&c=d+e"),
				Headers: h("Host", "localhost", "Content-Type", "application/x-www-form-urlencoded", "Content-Length", "9")}},
		{name: "binary post, implied Content-Length", in: HTTPInput{Method: "POST", URL: "/post.php", Body: binary,
			Headers: h("Host", "localhost", "Content-Type", "application/octet-stream")}},
		{name: "chunked post", php: map[string]string{"CONTENT_LENGTH": "14", "HTTP_TRANSFER_ENCODING": "chunked"},
			in: HTTPInput{Method: "POST", URL: "/echo.php", Body: []byte("a chunked body"),
				Headers: h("Host", "localhost", "Transfer-Encoding", "chunked", "Content-Type", "text/plain")}},
		{name: "json put", in: HTTPInput{Method: "PUT", URL: "/echo.php/items/7", Body: []byte(`{"id":7}`),
			Headers: h("Host", "localhost", "Content-Type", "application/json", "Content-Length", "8")}},
		{name: "repeated headers and cookies", in: HTTPInput{URL: "/echo.php",
			Headers: h("Host", "localhost", "X-Multi", "1", "Cookie", "a=1", "X-Multi", "2", "Cookie", "b=2", "Accept", "text/html", "Accept", "*/*")},
			// nginx 1.22 sends each line as a param; php-fpm keeps the last.
			php: map[string]string{"HTTP_X_MULTI": "2", "HTTP_COOKIE": "b=2", "HTTP_ACCEPT": "*/*"}},
		{name: "cookie list", in: HTTPInput{URL: "/echo.php", Headers: h("Host", "localhost", "Cookie", "a=1; b=2; c=%20")}},
		{name: "percent-encoded non-ASCII path", in: HTTPInput{URL: "/caf%C3%A9.php/%E2%82%AC%20x?q=%C3%A9", Headers: h("Host", "localhost")},
			php: map[string]string{"SCRIPT_NAME": "/café.php", "PATH_INFO": "/€ x", "REQUEST_URI": "/caf%C3%A9.php/%E2%82%AC%20x?q=%C3%A9"}},
		{name: "raw non-ASCII path", in: HTTPInput{URL: "/café.php/€", Headers: h("Host", "localhost")}},
		{name: "double slashes", in: HTTPInput{URL: "//sub//..//echo.php//x//y", Headers: h("Host", "localhost")},
			php: map[string]string{"SCRIPT_NAME": "/echo.php", "PATH_INFO": "/x/y"}},
		{name: "dot segments", in: HTTPInput{URL: "/a/%2e%2E/echo.php/b/./c/.?x=%2F", Headers: h("Host", "localhost")}},
		{name: "dot-dot back to the index", in: HTTPInput{URL: "/echo.php/%2e%2e", Headers: h("Host", "localhost")}},
		{name: "location keeps the slash", in: HTTPInput{URL: "/echo.php/", Headers: h("Host", "localhost")}},
		{name: "HEAD", in: HTTPInput{Method: "HEAD", URL: "/echo.php", Headers: h("Host", "localhost")}},
		{name: "custom method", in: HTTPInput{Method: "PURGE", URL: "/echo.php", Headers: h("Host", "localhost")}},
		{name: "status and cookies", in: HTTPInput{URL: "/cookies.php", Headers: h("Host", "localhost")}},
		{name: "teapot", in: HTTPInput{URL: "/status.php?code=418", Headers: h("Host", "localhost")}},
		{name: "redirect", in: HTTPInput{URL: "/redirect.php", Headers: h("Host", "localhost")}},
		{name: "missing script", in: HTTPInput{URL: "/missing.php/x", Headers: h("Host", "localhost")}},
		{name: "basic auth", in: HTTPInput{URL: "/echo.php", Headers: h("Host", "localhost", "Authorization", "Basic dXNlcjpwYXNz")},
			php: map[string]string{"REMOTE_USER": "user", "PHP_AUTH_USER": "user", "PHP_AUTH_PW": "pass"}},
		{name: "HTTP/1.0", in: HTTPInput{URL: "/echo.php", ServerProtocol: "HTTP/1.0"}},
		{name: "Host with case, dot and port", in: HTTPInput{URL: "/echo.php", Headers: h("Host", "LocalHost.:8080")},
			php: map[string]string{"HTTP_HOST": "localhost"}},
		{name: "header forms", in: HTTPInput{URL: "/echo.php", Headers: h("Host", "localhost", "X-Sp", "   a  b   ", "X-Tab", "\tt\t",
			"X-Empty", "", "X_Under", "dropped", "X.Dot", "dropped", "x-lower-CASE", "v", "Connection", "keep-alive")},
			php: map[string]string{"HTTP_X_SP": "a  b", "HTTP_X_TAB": "\tt\t", "HTTP_X_EMPTY": "", "HTTP_X_LOWER_CASE": "v"}},
		{name: "Content-Type twice", in: HTTPInput{URL: "/echo.php", Headers: h("Host", "localhost", "Content-Type", "a/b", "Content-Type", "c/d")}},
		{name: "fragment", in: HTTPInput{URL: "/echo.php?a=b?c#frag", Headers: h("Host", "localhost")}},
		{name: "Proxy header", in: HTTPInput{URL: "/echo.php", Headers: h("Host", "localhost", "Proxy", "http://evil:8080")}, notSent: []string{"HTTP_PROXY"}},
	}
}

// nginxReject is a request nginx does not pass to FastCGI (status), or
// passes although the mapping refuses it (status 0).
type nginxReject struct {
	name   string
	in     HTTPInput
	status int
	err    error
}

func nginxRejects() []nginxReject {
	host := []Header{{"Host", "localhost"}}
	return []nginxReject{
		{"dot-dot above the root", HTTPInput{URL: "/%2e%2e/echo.php", Headers: host}, 400, ErrPathEscapes},
		{"NUL", HTTPInput{URL: "/echo%00.php", Headers: host}, 400, ErrUnsafePath},
		{"bad escape", HTTPInput{URL: "/e%zz.php", Headers: host}, 400, ErrBadHTTP},
		{"LF outside the location", HTTPInput{URL: "/echo.php%0a/x", Headers: host}, 404, ErrUnsafePath},
		// CVE-2019-11043's shape: nginx's location matches, the split does
		// not, and the params go out with a newline in SCRIPT_NAME.
		{"LF inside the location", HTTPInput{URL: "/x%0a/echo.php/info", Headers: host}, 0, ErrUnsafePath},
		{"directory without index", HTTPInput{URL: "/emptydir/", Headers: host}, 403, ErrNoIndex},
		{"missing directory", HTTPInput{URL: "/nosuch/", Headers: host}, 404, ErrNoIndex},
		{"duplicate Host", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a"}, {"Host", "b"}}}, 400, ErrBadHTTP},
		{"duplicate Content-Length", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a"}, {"Content-Length", "0"}, {"Content-Length", "0"}}}, 400, ErrBadHTTP},
		{"duplicate Authorization", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a"}, {"Authorization", "Basic eDp5"}, {"Authorization", "Basic eDp5"}}}, 400, ErrBadHTTP},
		{"both framings", HTTPInput{Method: "POST", URL: "/echo.php", Body: []byte("abc"), Headers: []Header{{"Host", "a"}, {"Content-Length", "3"}, {"Transfer-Encoding", "chunked"}}}, 400, ErrBadHTTP},
		{"gzip transfer", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a"}, {"Transfer-Encoding", "gzip"}}}, 501, ErrBadHTTP},
		{"Host with a slash", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a/b"}}}, 400, ErrBadHTTP},
		{"Host with dot-dot", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a..b"}}}, 400, ErrBadHTTP},
		{"space in a header name", HTTPInput{URL: "/echo.php", Headers: []Header{{"Host", "a"}, {"X-A ", "1"}}}, 400, ErrBadHTTP},
		{"lowercase method", HTTPInput{Method: "get", URL: "/echo.php", Headers: host}, 400, ErrBadHTTP},
	}
}

// forNginx fills in what nginx knows about the connection.
func forNginx(in HTTPInput, docRoot string, port int) HTTPInput {
	in.DocumentRoot = docRoot
	in.ServerPort = port
	in.ServerName = "localhost"
	in.ServerAddr = "127.0.0.1"
	in.RemoteAddr = "127.0.0.1"
	in.ServerSoftware = NginxServerSoftware
	return in
}

// TestNginxParity is the reference test of HTTP mode. Two nginx 1.22 run
// Debian's PHP location over the same document root: one passes to a
// FastCGI server that records the params exactly as they arrive, the other
// to php-fpm. Each request is sent as raw HTTP to both nginx, and mapped by
// BuildHTTP and sent with fcgi.Client straight to the same php-fpm.
//
// On the wire the params must be equal in names, values and order; the only
// value that differs is REMOTE_PORT (nginx's client port is the test's
// ephemeral port). In php-fpm, $_SERVER must be equal except REMOTE_PORT
// and REQUEST_TIME, REQUEST_TIME_FLOAT (the clock); the body, $_GET,
// $_POST and $_COOKIE must be equal; and the HTTP response must be equal in
// status line, headers (every Set-Cookie, in order) and body bytes, except
// the headers nginx adds itself (Server, Date, Connection, Keep-Alive,
// Transfer-Encoding).
func TestNginxParity(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) })

	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Scripts: nginxScripts()})
	capture := startParamCapture(t)
	ngFPM := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: fpm.Pass()})
	ngCap := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: capture.addr})
	client := fcgi.NewClient(fpm.Pass(), fcgi.ClientOptions{})
	t.Cleanup(func() { client.Close() })

	for _, c := range nginxCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Run("wire", func(t *testing.T) {
				in := forNginx(c.in, fpm.DocRoot, ngCap.Port)
				req, err := BuildHTTP(in)
				if err != nil {
					t.Fatal(err)
				}
				resp, _ := sendRaw(t, ngCap.Port, in)
				got, ok := capture.take()
				if !ok {
					t.Fatalf("nginx answered %s without calling FastCGI", resp.Status)
				}
				want := req.Params.Pairs()
				gotParams := got.params
				for _, name := range c.notSent {
					if !hasPair(gotParams, name) {
						t.Errorf("nginx did not send %s, which the mapping drops on purpose", name)
					}
					gotParams = withoutPair(gotParams, name)
				}
				for i := range want {
					if want[i].Name == "REMOTE_PORT" {
						want[i].Value = pairValue(gotParams, "REMOTE_PORT")
					}
				}
				if !reflect.DeepEqual(gotParams, want) {
					t.Errorf("params differ\n%s", diffPairs(gotParams, want))
				}
				if !bytes.Equal(got.stdin, c.in.Body) {
					t.Errorf("nginx sent %d bytes on STDIN, the request has %d", len(got.stdin), len(c.in.Body))
				}
			})
			t.Run("php-fpm", func(t *testing.T) {
				in := forNginx(c.in, fpm.DocRoot, ngFPM.Port)
				viaNginx, nginxBody := sendRaw(t, ngFPM.Port, in)
				direct := sendDirect(t, client, in)
				compareResponses(t, in.Method, viaNginx, nginxBody, direct, c.php)
			})
		})
	}

	for _, c := range nginxRejects() {
		t.Run("reject/"+c.name, func(t *testing.T) {
			in := forNginx(c.in, fpm.DocRoot, ngCap.Port)
			_, err := BuildHTTP(in)
			if !errors.Is(err, c.err) {
				t.Errorf("BuildHTTP: err = %v, want %v", err, c.err)
			}
			resp, _ := sendRaw(t, ngCap.Port, in)
			_, called := capture.take()
			switch {
			case c.status == 0 && !called:
				t.Errorf("nginx answered %s without calling FastCGI; this row documents that it passes the request", resp.Status)
			case c.status != 0 && called:
				t.Errorf("nginx called FastCGI; want it to answer %d itself", c.status)
			case c.status != 0 && resp.StatusCode != c.status:
				t.Errorf("nginx answered %s, want %d", resp.Status, c.status)
			}
		})
	}
}

// rawHTTP renders in as the bytes of an HTTP/1.x request: the request line,
// the header lines of WireHeaders (or, for a request the mapping refuses,
// the composed ones, with a Host line if there is none), and the body,
// chunked when Transfer-Encoding says so.
func rawHTTP(in HTTPInput) []byte {
	d := in.WithDefaults()
	lines, err := in.WireHeaders()
	if err != nil {
		lines = in.Headers
		hasHost := false
		for _, h := range lines {
			hasHost = hasHost || strings.EqualFold(h.Name, "Host")
		}
		if !hasHost {
			lines = append([]Header{{"Host", "localhost"}}, lines...)
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\n", d.Method, d.URL, d.ServerProtocol)
	chunked := false
	for _, h := range lines {
		fmt.Fprintf(&b, "%s: %s\r\n", h.Name, h.Value)
		chunked = chunked || strings.EqualFold(h.Name, "Transfer-Encoding")
	}
	b.WriteString("\r\n")
	if chunked {
		if len(in.Body) > 0 {
			fmt.Fprintf(&b, "%x\r\n%s\r\n", len(in.Body), in.Body)
		}
		b.WriteString("0\r\n\r\n")
	} else {
		b.Write(in.Body)
	}
	return b.Bytes()
}

// sendRaw sends rawHTTP(in) to nginx on port and reads the response.
func sendRaw(t *testing.T, port int, in HTTPInput) (*http.Response, []byte) {
	t.Helper()
	return sendHTTP(t, port, false, in)
}

// sendDirect maps in with BuildHTTP and sends it to php-fpm with client.
func sendDirect(t *testing.T, client *fcgi.Client, in HTTPInput) *HTTPResponse {
	t.Helper()
	req, err := BuildHTTP(in)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = client.Do(ctx, &fcgi.Request{Role: req.Role, Params: req.Params.Pairs(), Stdin: req.Body, Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		t.Fatalf("fcgi: %v (stderr %q)", err, stderr.String())
	}
	resp, warnings := ParseCGIResponse(stdout.Bytes())
	if len(warnings) > 0 {
		t.Logf("CGI response warnings: %q", warnings)
	}
	return resp
}

// nginxOwnHeader reports whether nginx writes the response header name
// itself, so that it cannot be in a CGI response.
func nginxOwnHeader(name string) bool {
	switch name {
	case "Server", // nginx's name and version
		"Date",              // the time nginx answered
		"Connection",        // nginx's connection handling (hop-by-hop)
		"Keep-Alive",        // nginx's connection handling (hop-by-hop)
		"Transfer-Encoding": // nginx's framing of a body of unknown length
		return true
	}
	return false
}

// compareResponses compares what nginx answered with the CGI response
// php-fpm gave the mapping.
func compareResponses(t *testing.T, method string, viaNginx *http.Response, nginxBody []byte, direct *HTTPResponse, php map[string]string) {
	t.Helper()
	// nginx copies the Status header's text into its status line; php-fpm
	// sends no reason phrase for codes PHP does not name (418), where the
	// parsed response supplies the standard one.
	reason := strings.TrimSpace(strings.TrimPrefix(viaNginx.Status, strconv.Itoa(viaNginx.StatusCode)))
	if viaNginx.StatusCode != direct.Status || reason != "" && reason != direct.Reason {
		t.Errorf("status: nginx %q, direct %d %q", viaNginx.Status, direct.Status, direct.Reason)
	}
	nh := make(map[string][]string)
	for name, vs := range viaNginx.Header {
		if !nginxOwnHeader(name) {
			nh[name] = vs
		}
	}
	dh := make(map[string][]string)
	for _, h := range direct.Headers {
		k := http.CanonicalHeaderKey(h.Name)
		dh[k] = append(dh[k], h.Value)
	}
	if !reflect.DeepEqual(nh, dh) {
		t.Errorf("headers differ:\nnginx  %q\ndirect %q", nh, dh)
	}
	if method == "HEAD" {
		if len(nginxBody) != 0 {
			t.Errorf("nginx sent a body of %d bytes to HEAD", len(nginxBody))
		}
		if len(direct.Body) != 0 {
			t.Errorf("php-fpm sent a body of %d bytes to HEAD", len(direct.Body))
		}
		return
	}
	ne, nerr := fcgitest.ParseEcho(nginxBody)
	de, derr := fcgitest.ParseEcho(direct.Body)
	if nerr != nil || derr != nil || ne.Server == nil {
		if !bytes.Equal(nginxBody, direct.Body) {
			t.Errorf("body differs:\nnginx  %q\ndirect %q", clipTo(nginxBody, 500), clipTo(direct.Body, 500))
		}
		if len(php) > 0 {
			t.Errorf("not an echo.php answer; cannot check $_SERVER %v", php)
		}
		return
	}
	for k, want := range php {
		if got, ok := ne.Param(k); !ok || got != want {
			t.Errorf("$_SERVER[%s] behind nginx = %q (set %v), want %q", k, got, ok, want)
		}
	}
	// echo.php: $_SERVER and the request as PHP decoded it.
	for _, k := range []string{
		"REMOTE_PORT",        // nginx's client port is the test's ephemeral port; the mapping's is composed
		"REQUEST_TIME",       // the clock
		"REQUEST_TIME_FLOAT", // the clock
	} {
		if _, ok := ne.Server[k]; !ok {
			t.Errorf("$_SERVER[%s] missing behind nginx", k)
		}
		delete(ne.Server, k)
		delete(de.Server, k)
	}
	if !reflect.DeepEqual(ne.Server, de.Server) {
		t.Errorf("$_SERVER differs:\n%s", diffMaps(ne.Server, de.Server))
	}
	if !bytes.Equal(ne.Stdin, de.Stdin) || !reflect.DeepEqual(ne.Get, de.Get) || !reflect.DeepEqual(ne.Post, de.Post) || !reflect.DeepEqual(ne.Cookie, de.Cookie) {
		t.Errorf("request differs:\nnginx  stdin %q get %v post %v cookie %v\ndirect stdin %q get %v post %v cookie %v",
			ne.Stdin, ne.Get, ne.Post, ne.Cookie, de.Stdin, de.Get, de.Post, de.Cookie)
	}
}

// paramCapture is a FastCGI server that records each request's params and
// STDIN, in the order they arrive, and answers a fixed document.
type paramCapture struct {
	addr string
	got  chan captured
}

type captured struct {
	params []fcgi.Pair
	stdin  []byte
}

func startParamCapture(t *testing.T) *paramCapture {
	t.Helper()
	pc := &paramCapture{got: make(chan captured, 16)}
	pc.addr = fcgitest.StartRaw(t, "tcp", pc.serve).Addr
	return pc
}

// serve records one request (nginx sends one per connection without
// fastcgi_keep_conn) and answers it.
func (pc *paramCapture) serve(c net.Conn) {
	c.SetDeadline(time.Now().Add(30 * time.Second))
	r := fcgi.NewReader(c)
	var got captured
	var id uint16
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			return
		}
		id = rec.RequestID
		switch rec.Type {
		case fcgi.TypeParams:
			if p, ok := rec.Body.(*fcgi.Pairs); ok {
				got.params = append(got.params, p.List()...)
			}
		case fcgi.TypeStdin:
			got.stdin = append(got.stdin, rec.Content()...)
		}
		if rec.Type == fcgi.TypeStdin && rec.ContentLength == 0 {
			break
		}
	}
	if got.stdin == nil {
		got.stdin = []byte{}
	}
	pc.got <- got // before answering: once nginx has answered, it is here
	w := fcgi.NewWriter(c)
	w.WriteStream(fcgi.TypeStdout, id, []byte("Content-Type: text/plain\r\n\r\ncaptured"))
	w.CloseStream(fcgi.TypeStdout, id)
	w.WriteEndRequest(id, 0, fcgi.StatusRequestComplete)
}

// take returns the request nginx sent, if it sent one. Call it after
// nginx's response has been read: the capture records before it answers.
func (pc *paramCapture) take() (captured, bool) {
	select {
	case c := <-pc.got:
		return c, true
	default:
		return captured{}, false
	}
}

func hasPair(ps []fcgi.Pair, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

func pairValue(ps []fcgi.Pair, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

func withoutPair(ps []fcgi.Pair, name string) []fcgi.Pair {
	var out []fcgi.Pair
	for _, p := range ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// diffPairs lists both sequences side by side, marking the lines that differ.
func diffPairs(nginx, mapped []fcgi.Pair) string {
	var b strings.Builder
	fmt.Fprintf(&b, "   %-50s %s\n", "nginx", "mapping")
	for i := 0; i < max(len(nginx), len(mapped)); i++ {
		var l, r string
		if i < len(nginx) {
			l = fmt.Sprintf("%s=%q", nginx[i].Name, nginx[i].Value)
		}
		if i < len(mapped) {
			r = fmt.Sprintf("%s=%q", mapped[i].Name, mapped[i].Value)
		}
		mark := "  "
		if l != r {
			mark = "!="
		}
		fmt.Fprintf(&b, "%s %-50s %s\n", mark, l, r)
	}
	return b.String()
}

func diffMaps(nginx, mapped map[string]any) string {
	keys := make(map[string]bool)
	for k := range nginx {
		keys[k] = true
	}
	for k := range mapped {
		keys[k] = true
	}
	var names []string
	for k := range keys {
		if !reflect.DeepEqual(nginx[k], mapped[k]) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		fmt.Fprintf(&b, "  %s: nginx %#v, mapping %#v\n", k, nginx[k], mapped[k])
	}
	return b.String()
}

func clipTo(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
