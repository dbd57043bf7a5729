// Tests of the HTTP mapping: composed request → params, as nginx 1.22 would
// send them.

package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/cgi"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"fcgiscope/fcgi"
)

// buildParams maps in and fails the test on error.
func buildParams(t *testing.T, in HTTPInput) Params {
	t.Helper()
	req, err := BuildHTTP(in)
	if err != nil {
		t.Fatalf("BuildHTTP: %v", err)
	}
	return req.Params
}

// TestBuildHTTPFull pins one request's params completely: names, values,
// order and origins. The order and values are what nginx 1.22 sent for
// the same request in nginx_test.go's capture, Proxy aside.
func TestBuildHTTPFull(t *testing.T) {
	in := HTTPInput{
		URL: "/echo.php/extra/path?a=b&c",
		Headers: []Header{
			{"Host", "Example.COM.:8080"},
			{"X-Multi", "1"},
			{"X-Multi", "2"},
			{"Cookie", "a=1"},
			{"Cookie", "b=2"},
			{"Proxy", "http://evil"},
			{"X_Under", "y"},
			{"Authorization", "Basic dXNlcjpwYXNz"},
		},
		DocumentRoot: "/srv/www",
	}
	want := Params{
		{"QUERY_STRING", "a=b&c", "cgi"},
		{"REQUEST_METHOD", "GET", "cgi"},
		{"CONTENT_TYPE", "", "cgi"},
		{"CONTENT_LENGTH", "", "cgi"},
		{"SCRIPT_NAME", "/echo.php", "router"},
		{"REQUEST_URI", "/echo.php/extra/path?a=b&c", "cgi"},
		{"DOCUMENT_URI", "/echo.php/extra/path", "router"},
		{"DOCUMENT_ROOT", "/srv/www", "router"},
		{"SERVER_PROTOCOL", "HTTP/1.1", "cgi"},
		{"REQUEST_SCHEME", "http", "cgi"},
		{"GATEWAY_INTERFACE", "CGI/1.1", "cgi"},
		{"SERVER_SOFTWARE", "fcgiscope", "cgi"},
		{"REMOTE_ADDR", "127.0.0.1", "remote"},
		{"REMOTE_PORT", "54321", "remote"},
		{"REMOTE_USER", "user", "remote"},
		{"SERVER_ADDR", "127.0.0.1", "cgi"},
		{"SERVER_PORT", "80", "cgi"},
		{"SERVER_NAME", "localhost", "cgi"},
		{"REDIRECT_STATUS", "200", "cgi"},
		{"HTTP_HOST", "example.com", "headers"},
		{"SCRIPT_FILENAME", "/srv/www/echo.php", "router"},
		{"PATH_INFO", "/extra/path", "router"},
		{"HTTP_X_MULTI", "1", "headers"},
		{"HTTP_X_MULTI", "2", "headers"},
		{"HTTP_COOKIE", "a=1", "headers"},
		{"HTTP_COOKIE", "b=2", "headers"},
		{"HTTP_AUTHORIZATION", "Basic dXNlcjpwYXNz", "headers"},
	}
	req, err := BuildHTTP(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req.Params, want) {
		t.Errorf("params:\n%s\nwant:\n%s", dumpParams(req.Params), dumpParams(want))
	}
	if req.Role != fcgi.RoleResponder || req.Body != nil || req.BodyLen != 0 {
		t.Errorf("role %v, body %v, len %d; want RESPONDER, none, 0", req.Role, req.Body, req.BodyLen)
	}
}

func dumpParams(ps Params) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "  %s=%q (%s)\n", p.Name, p.Value, p.Origin)
	}
	return b.String()
}

// TestBuildHTTPValues checks chosen params of many requests; every value
// was observed from nginx 1.22 for the same request line and headers.
func TestBuildHTTPValues(t *testing.T) {
	type check struct {
		name   string
		in     HTTPInput
		want   map[string]string // expected values
		absent []string          // params that must not be sent
	}
	hdr := func(kv ...string) []Header {
		var hs []Header
		for i := 0; i+1 < len(kv); i += 2 {
			hs = append(hs, Header{kv[i], kv[i+1]})
		}
		return hs
	}
	checks := []check{
		{name: "form post, implied Content-Length",
			in: HTTPInput{Method: "POST", URL: "/echo.php", Headers: hdr("Content-Type", "application/x-www-form-urlencoded"), Body: []byte("a=b&c=d")},
			want: map[string]string{"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "7",
				"HTTP_CONTENT_TYPE": "application/x-www-form-urlencoded", "HTTP_CONTENT_LENGTH": "7", "PATH_INFO": ""}},
		{name: "Content-Length kept as written",
			in:   HTTPInput{Method: "POST", URL: "/echo.php", Headers: hdr("Content-Length", "  007 "), Body: []byte("abcdefg")},
			want: map[string]string{"CONTENT_LENGTH": "007", "HTTP_CONTENT_LENGTH": "007"}},
		{name: "chunked body",
			in:     HTTPInput{Method: "POST", URL: "/echo.php", Headers: hdr("Transfer-Encoding", "chunked"), Body: []byte("abc")},
			want:   map[string]string{"CONTENT_LENGTH": "3", "HTTP_TRANSFER_ENCODING": "chunked"},
			absent: []string{"HTTP_CONTENT_LENGTH"}},
		{name: "chunked, empty",
			in:   HTTPInput{Method: "POST", URL: "/echo.php", Headers: hdr("Transfer-Encoding", "Chunked")},
			want: map[string]string{"CONTENT_LENGTH": "0"}},
		{name: "first Content-Type wins, both passed",
			in:   HTTPInput{URL: "/echo.php", Headers: hdr("Content-Type", "a/b", "Content-Type", "c/d")},
			want: map[string]string{"CONTENT_TYPE": "a/b", "HTTP_CONTENT_TYPE": "c/d"}},
		{name: "https",
			in:   HTTPInput{URL: "/a.php", HTTPS: true},
			want: map[string]string{"REQUEST_SCHEME": "https", "HTTPS": "on", "SERVER_PORT": "443"}},
		{name: "no Host: server name",
			in:   HTTPInput{URL: "/echo.php", ServerProtocol: "HTTP/1.0", ServerName: "example.org"},
			want: map[string]string{"HTTP_HOST": "example.org", "SERVER_NAME": "example.org", "SERVER_PROTOCOL": "HTTP/1.0"}},
		{name: "Host: port dropped from IPv6 literal",
			in:   HTTPInput{URL: "/echo.php", Headers: hdr("Host", "[::1]:80")},
			want: map[string]string{"HTTP_HOST": "[::1]"}},
		{name: "Host: lowercased, no port",
			in:   HTTPInput{URL: "/echo.php", Headers: hdr("Host", "H:1")},
			want: map[string]string{"HTTP_HOST": "h"}},
		{name: "percent-encoded and non-ASCII path",
			in: HTTPInput{URL: "/caf%C3%A9.php/%E2%82%AC%20x?q=%C3%A9"},
			want: map[string]string{"SCRIPT_NAME": "/café.php", "PATH_INFO": "/€ x", "DOCUMENT_URI": "/café.php/€ x",
				"QUERY_STRING": "q=%C3%A9", "REQUEST_URI": "/caf%C3%A9.php/%E2%82%AC%20x?q=%C3%A9", "SCRIPT_FILENAME": "/srv/www/café.php"}},
		{name: "raw non-ASCII path",
			in:   HTTPInput{URL: "/ca€.php"},
			want: map[string]string{"SCRIPT_NAME": "/ca€.php", "REQUEST_URI": "/ca€.php"}},
		{name: "double slashes and dot segments",
			in:   HTTPInput{URL: "//double//slashes/./echo.php//x//y"},
			want: map[string]string{"SCRIPT_NAME": "/double/slashes/echo.php", "PATH_INFO": "/x/y", "DOCUMENT_URI": "/double/slashes/echo.php/x/y", "REQUEST_URI": "//double//slashes/./echo.php//x//y"}},
		{name: "trailing dot keeps the slash",
			in:   HTTPInput{URL: "/x.php/a/."},
			want: map[string]string{"SCRIPT_NAME": "/x.php", "PATH_INFO": "/a/", "DOCUMENT_URI": "/x.php/a/"}},
		{name: "trailing dot-dot keeps the slash, split needs a non-empty path info",
			in:   HTTPInput{URL: "/x.php/a/.."},
			want: map[string]string{"SCRIPT_NAME": "/x.php/", "PATH_INFO": "", "SCRIPT_FILENAME": "/srv/www/x.php/"}},
		{name: "encoded dot-dot resolved",
			in:   HTTPInput{URL: "/a/%2e%2E/echo.php?x=%2F"},
			want: map[string]string{"SCRIPT_NAME": "/echo.php", "QUERY_STRING": "x=%2F", "REQUEST_URI": "/a/%2e%2E/echo.php?x=%2F"}},
		{name: "encoded slash and question mark decoded in the path only",
			in:   HTTPInput{URL: "/x.php/a%2Fb%3Fc?q"},
			want: map[string]string{"PATH_INFO": "/a/b?c", "QUERY_STRING": "q"}},
		{name: "fragment kept in REQUEST_URI only",
			in:   HTTPInput{URL: "/echo.php?a=b?c#d"},
			want: map[string]string{"QUERY_STRING": "a=b?c", "REQUEST_URI": "/echo.php?a=b?c#d", "DOCUMENT_URI": "/echo.php"}},
		{name: "%25 and + decoded once",
			in:   HTTPInput{URL: "/a%25b+c.php?%20"},
			want: map[string]string{"SCRIPT_NAME": "/a%b+c.php", "QUERY_STRING": "%20"}},
		{name: "empty query",
			in:   HTTPInput{URL: "/x.php?"},
			want: map[string]string{"QUERY_STRING": "", "REQUEST_URI": "/x.php?"}},
		{name: "header values: spaces trimmed, tabs kept",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("X-Sp", "   a  b   ", "X-Tab", "\t a\tb \t", "X-Empty", "", "x-lower-CASE", "v")},
			want: map[string]string{"HTTP_X_SP": "a  b", "HTTP_X_TAB": "\t a\tb \t", "HTTP_X_EMPTY": "", "HTTP_X_LOWER_CASE": "v"}},
		{name: "invalid header names ignored, Proxy dropped",
			in:     HTTPInput{URL: "/a.php", Headers: hdr("X_Under", "1", "X.Dot", "2", "Xé", "3", "X@Y", "4", "Proxy", "http://evil", "Proxy-Connection", "x")},
			want:   map[string]string{"HTTP_PROXY_CONNECTION": "x"},
			absent: []string{"HTTP_X_UNDER", "HTTP_X.DOT", "HTTP_PROXY", "HTTP_X_DOT"}},
		{name: "hop-by-hop headers passed",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Connection", "close", "TE", "z", "Upgrade", "y")},
			want: map[string]string{"HTTP_CONNECTION": "close", "HTTP_TE": "z", "HTTP_UPGRADE": "y"}},
		{name: "combined headers",
			in:   HTTPInput{URL: "/a.php", CombineHeaders: true, Headers: hdr("Cookie", "a=1", "X-M", "1", "Cookie", "b=2", "X-M", " 2 ")},
			want: map[string]string{"HTTP_COOKIE": "a=1; b=2", "HTTP_X_M": "1, 2"}},
		{name: "basic user, scheme case-insensitive",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "BASIC dXNlcjpwYXNz")},
			want: map[string]string{"REMOTE_USER": "user"}},
		{name: "basic user, unpadded",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "Basic dXNlcjpwYXN")},
			want: map[string]string{"REMOTE_USER": "user"}},
		{name: "basic user, decoding stops at =",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "Basic dXNlcjpwYXNz==junk")},
			want: map[string]string{"REMOTE_USER": "user"}},
		{name: "basic user, bad base64",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "Basic dX*lcjpwYXN")},
			want: map[string]string{"REMOTE_USER": ""}},
		{name: "basic user, empty name",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "basic  OnBhc3M=")},
			want: map[string]string{"REMOTE_USER": ""}},
		{name: "basic user, no colon",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "Basic dXNlcg==")},
			want: map[string]string{"REMOTE_USER": ""}},
		{name: "bearer",
			in:   HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "Bearer dXNlcjpwYXNz")},
			want: map[string]string{"REMOTE_USER": "", "HTTP_AUTHORIZATION": "Bearer dXNlcjpwYXNz"}},
		{name: "method with _ and -",
			in:   HTTPInput{Method: "PUT-X_Y", URL: "/a.php"},
			want: map[string]string{"REQUEST_METHOD": "PUT-X_Y"}},
		{name: "server and client facts",
			in: HTTPInput{URL: "/a.php", ServerName: "example.org", ServerPort: 8080, ServerAddr: "10.0.0.1", RemoteAddr: "::1", RemotePort: 40000, ServerSoftware: NginxServerSoftware},
			want: map[string]string{"SERVER_NAME": "example.org", "SERVER_PORT": "8080", "SERVER_ADDR": "10.0.0.1", "REMOTE_ADDR": "::1",
				"REMOTE_PORT": "40000", "SERVER_SOFTWARE": "nginx/1.22.1", "HTTP_HOST": "example.org"}},
		{name: "custom split",
			in:   HTTPInput{URL: "/app.cgi/a/b", SplitPath: `^(.+\.cgi)(/.*)$`},
			want: map[string]string{"SCRIPT_NAME": "/app.cgi", "PATH_INFO": "/a/b"}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.in.DocumentRoot == "" {
				c.in.DocumentRoot = "/srv/www"
			}
			ps := buildParams(t, c.in)
			for name, want := range c.want {
				got, ok := ps.Get(name)
				if !ok || got != want {
					t.Errorf("%s = %q (present %v), want %q\n%s", name, got, ok, want, dumpParams(ps))
				}
			}
			for _, name := range c.absent {
				if v, ok := ps.Get(name); ok {
					t.Errorf("%s = %q sent, want absent", name, v)
				}
			}
			if !c.in.HTTPS {
				if v, ok := ps.Get("HTTPS"); ok {
					t.Errorf("HTTPS = %q sent over plain HTTP", v)
				}
			}
		})
	}
}

// TestBuildHTTPRejects: what nginx refuses (400, 404, 501) is an error.
func TestBuildHTTPRejects(t *testing.T) {
	hdr := func(kv ...string) []Header {
		var hs []Header
		for i := 0; i+1 < len(kv); i += 2 {
			hs = append(hs, Header{kv[i], kv[i+1]})
		}
		return hs
	}
	cases := []struct {
		name string
		in   HTTPInput
		want error
		text string // in the message
	}{
		{"empty URL", HTTPInput{}, ErrBadHTTP, "empty URL"},
		{"relative URL", HTTPInput{URL: "echo.php"}, ErrBadHTTP, `does not start with "/"`},
		{"space in URL", HTTPInput{URL: "/a b.php"}, ErrBadHTTP, "request line"},
		{"bad escape", HTTPInput{URL: "/e%zz.php"}, ErrBadHTTP, "percent-escape"},
		{"short escape", HTTPInput{URL: "/e.php%2"}, ErrBadHTTP, "percent-escape"},
		{"NUL", HTTPInput{URL: "/a%00.php"}, ErrUnsafePath, "NUL"},
		{"dot-dot above root", HTTPInput{URL: "/%2e%2e/echo.php"}, ErrPathEscapes, `".."`},
		{"encoded slashes above root", HTTPInput{URL: "/a/..%2F..%2Fx.php"}, ErrPathEscapes, `".."`},
		{"lowercase method", HTTPInput{Method: "get", URL: "/a.php"}, ErrBadHTTP, "method"},
		{"bad protocol", HTTPInput{URL: "/a.php", ServerProtocol: "HTTP/11"}, ErrBadHTTP, "protocol"},
		{"duplicate Host", HTTPInput{URL: "/a.php", Headers: hdr("Host", "h", "host", "g")}, ErrBadHTTP, "duplicate host"},
		{"duplicate Content-Length", HTTPInput{URL: "/a.php", Headers: hdr("Content-Length", "0", "Content-Length", "0")}, ErrBadHTTP, "duplicate Content-Length"},
		{"duplicate Authorization", HTTPInput{URL: "/a.php", Headers: hdr("Authorization", "Basic x", "Authorization", "Basic x")}, ErrBadHTTP, "duplicate Authorization"},
		{"duplicate Transfer-Encoding", HTTPInput{URL: "/a.php", Headers: hdr("Transfer-Encoding", "chunked", "Transfer-Encoding", "chunked")}, ErrBadHTTP, "duplicate"},
		{"both framings", HTTPInput{URL: "/a.php", Headers: hdr("Content-Length", "3", "Transfer-Encoding", "chunked"), Body: []byte("abc")}, ErrBadHTTP, "both"},
		{"gzip transfer", HTTPInput{URL: "/a.php", Headers: hdr("Transfer-Encoding", "gzip")}, ErrBadHTTP, "501"},
		{"bad Content-Length", HTTPInput{URL: "/a.php", Headers: hdr("Content-Length", "-1")}, ErrBadHTTP, "not a length"},
		{"Content-Length lies", HTTPInput{URL: "/a.php", Headers: hdr("Content-Length", "5"), Body: []byte("abc")}, ErrBadHTTP, "3 bytes"},
		{"Host with slash", HTTPInput{URL: "/a.php", Headers: hdr("Host", "a/b")}, ErrBadHTTP, "Host"},
		{"Host with dot-dot", HTTPInput{URL: "/a.php", Headers: hdr("Host", "a..b")}, ErrBadHTTP, `".."`},
		{"Host dot", HTTPInput{URL: "/a.php", Headers: hdr("Host", ".")}, ErrBadHTTP, "no name"},
		{"Host empty", HTTPInput{URL: "/a.php", Headers: hdr("Host", " ")}, ErrBadHTTP, "no name"},
		{"empty header name", HTTPInput{URL: "/a.php", Headers: hdr("", "x")}, ErrBadHTTP, "empty name"},
		{"space in header name", HTTPInput{URL: "/a.php", Headers: hdr("X-A ", "x")}, ErrBadHTTP, "header 1"},
		{"colon in header name", HTTPInput{URL: "/a.php", Headers: hdr("X:A", "x")}, ErrBadHTTP, "0x3a"},
		{"CRLF in header value", HTTPInput{URL: "/a.php", Headers: hdr("X-A", "a\r\nX-B: b")}, ErrBadHTTP, "cannot carry"},
		{"CR in path", HTTPInput{URL: "/a.php%0d/x"}, ErrUnsafePath, "CVE-2019-11043"},
		{"LF in path", HTTPInput{URL: "/a.php%0a/x"}, ErrUnsafePath, "CVE-2019-11043"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.DocumentRoot = "/srv/www"
			_, err := BuildHTTP(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "session: ") || !strings.Contains(err.Error(), c.text) {
				t.Errorf("message %q lacks the package prefix or %q", err, c.text)
			}
		})
	}
	t.Run("body and body file", func(t *testing.T) {
		_, err := BuildHTTP(HTTPInput{URL: "/a.php", DocumentRoot: "/srv/www", Body: []byte("x"), BodyFile: "/etc/hostname"})
		if err == nil || !strings.Contains(err.Error(), "both body and body_file") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ports", func(t *testing.T) {
		for _, in := range []HTTPInput{{ServerPort: 70000}, {RemotePort: -1}} {
			in.URL, in.DocumentRoot = "/a.php", "/srv/www"
			if _, err := BuildHTTP(in); err == nil || !strings.Contains(err.Error(), "out of range") {
				t.Errorf("%+v: err = %v", in, err)
			}
		}
	})
}

// TestBuildHTTPRequestFromMap maps composed requests and reads the params
// back with net/http/cgi's RequestFromMap, the standard library's CGI
// child: it must see the method, URL, headers, host, client and content
// length that were composed.
func TestBuildHTTPRequestFromMap(t *testing.T) {
	cases := []HTTPInput{
		{URL: "/echo.php?a=1&b=%20x", Headers: []Header{{"Host", "example.com:8080"}, {"X-Trace", "abc"}, {"Accept", "*/*"}}},
		{Method: "POST", URL: "/post.php/more/path", Headers: []Header{{"Content-Type", "text/plain"}}, Body: []byte("hello, body")},
		{Method: "PUT", URL: "/caf%C3%A9.php", HTTPS: true, RemoteAddr: "192.0.2.7", RemotePort: 40123, Body: []byte{0, 1, 2}},
		{Method: "DELETE", URL: "/x.php", ServerProtocol: "HTTP/1.0", Headers: []Header{{"Cookie", "a=1; b=2"}}},
	}
	for _, in := range cases {
		t.Run(in.Method+" "+in.URL, func(t *testing.T) {
			in.DocumentRoot = "/srv/www"
			req, err := BuildHTTP(in)
			if err != nil {
				t.Fatal(err)
			}
			m := make(map[string]string)
			for _, p := range req.Params {
				m[p.Name] = p.Value // the last one wins, as in php-fpm
			}
			hr, err := cgi.RequestFromMap(m)
			if err != nil {
				t.Fatalf("RequestFromMap: %v", err)
			}
			d := in.WithDefaults()
			if hr.Method != d.Method {
				t.Errorf("method %q, want %q", hr.Method, d.Method)
			}
			if hr.URL.RequestURI() != in.URL {
				t.Errorf("request URI %q, want %q", hr.URL.RequestURI(), in.URL)
			}
			if hr.Proto != d.ServerProtocol {
				t.Errorf("proto %q, want %q", hr.Proto, d.ServerProtocol)
			}
			if hr.ContentLength != int64(len(in.Body)) {
				t.Errorf("content length %d, want %d", hr.ContentLength, len(in.Body))
			}
			wantHost := "localhost"
			for _, h := range in.Headers {
				if h.Name == "Host" {
					wantHost = strings.Split(h.Value, ":")[0]
					continue
				}
				if got := hr.Header.Get(h.Name); got != h.Value {
					t.Errorf("header %s = %q, want %q", h.Name, got, h.Value)
				}
			}
			if hr.Host != wantHost {
				t.Errorf("host %q, want %q", hr.Host, wantHost)
			}
			if want := d.RemoteAddr; !strings.Contains(hr.RemoteAddr, want) || !strings.HasSuffix(hr.RemoteAddr, ":"+strconv.Itoa(d.RemotePort)) {
				t.Errorf("remote addr %q, want %s port %d", hr.RemoteAddr, want, d.RemotePort)
			}
			if (hr.TLS != nil) != in.HTTPS {
				t.Errorf("TLS %v, want %v", hr.TLS != nil, in.HTTPS)
			}
			var body []byte
			if req.Body != nil {
				body, _ = io.ReadAll(req.Body)
			}
			if string(body) != string(in.Body) || req.BodyLen != int64(len(in.Body)) {
				t.Errorf("body %q (len %d), want %q", body, req.BodyLen, in.Body)
			}
		})
	}
}

// TestBuildHTTPOrderIndependent: the middlewares place their params where
// nginx does, whatever order they run in.
func TestBuildHTTPOrderIndependent(t *testing.T) {
	in := HTTPInput{Method: "POST", URL: "/echo.php/p?q", DocumentRoot: "/srv/www", HTTPS: true,
		Headers: []Header{{"X-A", "1"}, {"Content-Type", "text/plain"}}, Body: []byte("b")}
	want := buildParams(t, in)
	mws := []Middleware{CGIBasics(in), Remote(in), Headers(in), PHPRouter(in)}
	for _, order := range [][]int{{3, 2, 1, 0}, {2, 0, 3, 1}, {1, 3, 0, 2}} {
		var chain []Middleware
		for _, i := range order {
			chain = append(chain, mws[i])
		}
		req, err := Build(context.Background(), Chain(chain...))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(req.Params, want) {
			t.Errorf("order %v:\n%s\nwant:\n%s", order, dumpParams(req.Params), dumpParams(want))
		}
	}
}

func TestParamsPlace(t *testing.T) {
	var ps Params
	ps.Add("X_USER", "u", "user")
	ps.Place("PATH_INFO", "/p", "router")
	ps.Place("QUERY_STRING", "q", "cgi")
	ps.Place("HTTP_HOST", "h", "headers")
	ps.Place("QUERY_STRING", "q2", "user")
	want := Params{{"QUERY_STRING", "q2", "user"}, {"HTTP_HOST", "h", "headers"}, {"PATH_INFO", "/p", "router"}, {"X_USER", "u", "user"}}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("got\n%s\nwant\n%s", dumpParams(ps), dumpParams(want))
	}
}

func TestWireHeaders(t *testing.T) {
	in := HTTPInput{Method: "POST", URL: "/a.php", ServerName: "example.org", Headers: []Header{{"X-A", " 1 "}}, Body: []byte("abc")}
	got, err := in.WireHeaders()
	if err != nil {
		t.Fatal(err)
	}
	want := []Header{{"Host", "example.org"}, {"X-A", " 1 "}, {"Content-Length", "3"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	in.Headers = []Header{{"host", "h"}, {"Transfer-Encoding", "chunked"}}
	got, err = in.WireHeaders()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, in.Headers) {
		t.Errorf("got %q, want the composed lines %q", got, in.Headers)
	}
}

// TestContentTypeLine: ContentType is sent as a Content-Type line after
// the composed ones, unless they have one, and reaches CONTENT_TYPE.
func TestContentTypeLine(t *testing.T) {
	in := HTTPInput{Method: "POST", URL: "/a.php", DocumentRoot: "/srv", Headers: []Header{{"X-A", "1"}},
		ContentType: " application/json ", Body: []byte("{}")}
	if got, want := in.HeaderLines(), []Header{{"X-A", "1"}, {"Content-Type", "application/json"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("HeaderLines = %q, want %q", got, want)
	}
	req, err := BuildHTTP(in)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := req.Params.Get("CONTENT_TYPE"); v != "application/json" {
		t.Errorf("CONTENT_TYPE = %q", v)
	}
	in.Headers = append(in.Headers, Header{"content-type", "text/plain"})
	if got := in.HeaderLines(); !reflect.DeepEqual(got, in.Headers) {
		t.Errorf("with a Content-Type line composed, HeaderLines = %q, want the lines alone", got)
	}
	if req, err = BuildHTTP(in); err != nil {
		t.Fatal(err)
	}
	if v, _ := req.Params.Get("CONTENT_TYPE"); v != "text/plain" {
		t.Errorf("CONTENT_TYPE = %q, want the composed line's", v)
	}
}

func TestBodyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "body.bin")
	content := strings.Repeat("0123456789", 10000)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	req, err := BuildHTTP(HTTPInput{Method: "POST", URL: "/post.php", DocumentRoot: "/srv/www", BodyFile: path})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := req.Params.Get("CONTENT_LENGTH"); v != "100000" || req.BodyLen != 100000 {
		t.Errorf("CONTENT_LENGTH %q, BodyLen %d; want 100000", v, req.BodyLen)
	}
	// The file grows after it was measured: only the announced bytes go.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("MORE")
	f.Close()
	got, err := io.ReadAll(req.Body)
	if err != nil || string(got) != content {
		t.Errorf("body: %d bytes, err %v; want the 100000 announced", len(got), err)
	}
	if n, err := req.Body.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Errorf("read after the end: %d, %v", n, err)
	}
	if _, err := BuildHTTP(HTTPInput{URL: "/a.php", DocumentRoot: "/srv/www", BodyFile: filepath.Join(t.TempDir(), "none")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing body file: %v", err)
	}
}

func TestPreviewHTTPCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PreviewHTTP(ctx, HTTPInput{URL: "/a.php", DocumentRoot: "/srv/www"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestParseTargetNormalization(t *testing.T) {
	cases := map[string]string{
		"/":             "/",
		"//":            "/",
		"/a//":          "/a/",
		"/a/.":          "/a/",
		"/a/./":         "/a/",
		"/a/..":         "/",
		"/a/b/../../c":  "/c",
		"/...":          "/...",
		"/.a/..b":       "/.a/..b",
		"/a/%2e/b":      "/a/b",
		"/a%2F%2Fb":     "/a/b",
		"/%41%42":       "/AB",
		"/x?y/../..":    "/x",
		"/x#y?z":        "/x",
		"/a/./b/../../": "/",
	}
	for raw, want := range cases {
		tg, err := parseTarget(raw)
		if err != nil || tg.uri != want {
			t.Errorf("parseTarget(%q) = %q, %v; want %q", raw, tg.uri, err, want)
		}
	}
}

func ExampleBuildHTTP() {
	req, err := BuildHTTP(HTTPInput{
		Method:       "POST",
		URL:          "/index.php/users/7?format=json",
		Headers:      []Header{{Name: "Host", Value: "example.com"}, {Name: "Content-Type", Value: "application/json"}},
		Body:         []byte(`{"name":"x"}`),
		DocumentRoot: "/srv/www",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range req.Params {
		fmt.Printf("%-8s %s=%s\n", p.Origin, p.Name, p.Value)
	}
	// Output:
	// cgi      QUERY_STRING=format=json
	// cgi      REQUEST_METHOD=POST
	// cgi      CONTENT_TYPE=application/json
	// cgi      CONTENT_LENGTH=12
	// router   SCRIPT_NAME=/index.php
	// cgi      REQUEST_URI=/index.php/users/7?format=json
	// router   DOCUMENT_URI=/index.php/users/7
	// router   DOCUMENT_ROOT=/srv/www
	// cgi      SERVER_PROTOCOL=HTTP/1.1
	// cgi      REQUEST_SCHEME=http
	// cgi      GATEWAY_INTERFACE=CGI/1.1
	// cgi      SERVER_SOFTWARE=fcgiscope
	// remote   REMOTE_ADDR=127.0.0.1
	// remote   REMOTE_PORT=54321
	// remote   REMOTE_USER=
	// cgi      SERVER_ADDR=127.0.0.1
	// cgi      SERVER_PORT=80
	// cgi      SERVER_NAME=localhost
	// cgi      REDIRECT_STATUS=200
	// headers  HTTP_HOST=example.com
	// router   SCRIPT_FILENAME=/srv/www/index.php
	// router   PATH_INFO=/users/7
	// headers  HTTP_CONTENT_TYPE=application/json
	// headers  HTTP_CONTENT_LENGTH=12
}

func ExamplePreviewHTTP() {
	// An authorizer request: no body, and none of CONTENT_LENGTH,
	// PATH_INFO and SCRIPT_NAME (FastCGI spec §6.3).
	ps, err := PreviewHTTP(context.Background(), HTTPInput{
		URL:          "/private/report.pdf",
		Headers:      []Header{{Name: "Authorization", Value: "Basic YWxpY2U6c2VjcmV0"}},
		DocumentRoot: "/srv/www",
	}, FileEndpoint("/srv/auth/check.php"), Authorizer())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, name := range []string{"SCRIPT_FILENAME", "REMOTE_USER", "REQUEST_URI", "CONTENT_LENGTH", "PATH_INFO", "SCRIPT_NAME"} {
		v, ok := ps.Get(name)
		fmt.Printf("%s=%q sent=%v\n", name, v, ok)
	}
	// Output:
	// SCRIPT_FILENAME="/srv/auth/check.php" sent=true
	// REMOTE_USER="alice" sent=true
	// REQUEST_URI="/private/report.pdf" sent=true
	// CONTENT_LENGTH="" sent=false
	// PATH_INFO="" sent=false
	// SCRIPT_NAME="" sent=false
}

// TestHTTPInputJSON pins the stored form of an HTTPInput (presets and
// exchanges keep it): snake_case keys, optional fields left out.
func TestHTTPInputJSON(t *testing.T) {
	in := HTTPInput{Method: "POST", URL: "/a.php", Headers: []Header{{"X-A", "1"}}, Body: []byte("hi"),
		DocumentRoot: "/srv/www", ServerPort: 8080, RemotePort: 40000, HTTPS: true, FrontController: true}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"method":"POST","url":"/a.php","headers":[{"name":"X-A","value":"1"}],"body":"aGk=","document_root":"/srv/www",` +
		`"server_port":8080,"remote_port":40000,"https":true,"front_controller":true}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back HTTPInput
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, in) {
		t.Errorf("round trip: %+v, %v", back, err)
	}
	all := HTTPInput{BodyFile: "f", Index: "i", SplitPath: "s", Location: "l", ServerName: "n", ServerAddr: "a", RemoteAddr: "r",
		ServerProtocol: "p", ServerSoftware: "w", AllowSymlinks: true, CombineHeaders: true}
	b, _ = json.Marshal(all)
	for _, key := range []string{"body_file", "index", "split_path", "location", "server_name", "server_addr", "remote_addr",
		"server_protocol", "server_software", "allow_symlinks", "combine_headers"} {
		if !strings.Contains(string(b), `"`+key+`":`) {
			t.Errorf("key %q missing from %s", key, b)
		}
	}
}
