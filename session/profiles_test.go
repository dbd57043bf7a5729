// The profiles against the real servers: each web server (Debian's
// package, Debian's default configuration) is put in front of a capturing
// FastCGI server, and the same HTTP request is mapped by the profile and
// sent with package fcgi to the same capture. Params (names, values, order;
// a set for Caddy) and record framing must be the same.

package session

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// profileDocRoot writes the scripts the cases ask for.
func profileDocRoot(t *testing.T) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "www")
	for _, name := range []string{"index.php", "info.php", "café.php", "a b.php", "a+b.php", "sub/index.php"} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("<?php echo 'hi';\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// profileCase is a request sent through a web server; {port} in a header
// value is the port the request goes to.
type profileCase struct {
	name  string
	in    HTTPInput
	https bool
	// notSent: params the server sends that the profile leaves out on
	// purpose (the nginx mapping's httpoxy rule).
	notSent map[string][]string
}

func profileCases() []profileCase {
	h := func(kv ...string) []Header {
		hs := []Header{{"Host", "127.0.0.1:{port}"}, {"User-Agent", "fcgiscope-test"}}
		for i := 0; i+1 < len(kv); i += 2 {
			hs = append(hs, Header{kv[i], kv[i+1]})
		}
		return hs
	}
	body := make([]byte, 100<<10)
	for i := range body {
		body[i] = byte(i*7 + 1)
	}
	return []profileCase{
		{name: "GET with query", in: HTTPInput{URL: "/info.php?a=1&b=two%20words", Headers: h("Accept", "*/*")}},
		{name: "POST 100 KiB", in: HTTPInput{Method: "POST", URL: "/info.php", Body: body,
			Headers: h("Content-Type", "application/octet-stream", "Content-Length", strconv.Itoa(len(body)))}},
		{name: "PATH_INFO", in: HTTPInput{URL: "/info.php/extra/path?x=y", Headers: h()}},
		{name: "index file", in: HTTPInput{URL: "/", Headers: h()}},
		{name: "index file in a directory", in: HTTPInput{URL: "/sub/?q=1", Headers: h()}},
		{name: "HTTPS", https: true, in: HTTPInput{URL: "/info.php?a=1",
			Headers: []Header{{"Host", "localhost:{port}"}, {"User-Agent", "fcgiscope-test"}, {"Authorization", "Basic dXNlcjpwYXNz"}}}},
		{name: "repeated headers", in: HTTPInput{URL: "/info.php",
			Headers: h("X-Dup", "1", "Cookie", "a=1", "X-Dup", "2", "Cookie", "b=2", "Accept", "text/html", "Accept", "*/*")}},
		{name: "odd headers", in: HTTPInput{URL: "/info.php",
			Headers: h("X_Under", "1", "Proxy", "http://evil", "X-Empty", "", "X-Sp", "  a b  ", "Authorization", "Basic dXNlcjpwYXNz")},
			notSent: map[string][]string{ProfileNginx: {"HTTP_PROXY"}}},
		{name: "odd path: encoded UTF-8", in: HTTPInput{URL: "/caf%C3%A9.php?q=%C3%A9", Headers: h()}},
		{name: "odd path: space", in: HTTPInput{URL: "/a%20b.php", Headers: h()}},
		{name: "odd path: plus", in: HTTPInput{URL: "/a+b.php?q=a+b%2B", Headers: h()}},
		{name: "odd path: encoded dot and path info", in: HTTPInput{URL: "/info%2Ephp/p%20q?r=%41", Headers: h()}},
		{name: "small chunked POST", in: HTTPInput{Method: "POST", URL: "/info.php", Body: []byte("a chunked body"),
			Headers: h("Transfer-Encoding", "chunked", "Content-Type", "text/plain")}},
		{name: "large chunked POST", in: HTTPInput{Method: "POST", URL: "/info.php", Body: body[:40<<10],
			Headers: h("Transfer-Encoding", "chunked", "Content-Type", "text/plain")}},
	}
}

// profileServer is a web server in front of a capture.
type profileServer struct {
	profile, variant string
	root             string
	capture          *fcgitest.Capture
	port, tlsPort    int
	software         string
	log              func() string
}

// TestProfileParity proves each profile against its real server: for every
// case the params (REMOTE_PORT aside, the client's ephemeral port) and the
// records (types, content and padding lengths, request ids, BEGIN_REQUEST's
// role and flags) must be what the server sent; for Caddy, whose order
// changes per request, the params as a multiset. A missing server skips its
// subtest, or fails it with FCGISCOPE_REQUIRE_SERVERS=1.
func TestProfileParity(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, leaks) })
	root := profileDocRoot(t)

	servers := []struct {
		profile, variant string
		start            func(t *testing.T, c *fcgitest.Capture) profileServer
	}{
		{ProfileNginx, "", func(t *testing.T, c *fcgitest.Capture) profileServer {
			tlsPort := fcgitest.FreePort(t)
			cert, key := fcgitest.SelfSigned(t, t.TempDir())
			ng := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: root, FastCGIPass: c.Target(),
				ExtraServer: fmt.Sprintf("listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;", tlsPort, cert, key)})
			return profileServer{port: ng.Port, tlsPort: tlsPort, software: NginxServerSoftware, log: ng.Log}
		}},
		{ProfileNginx, "snippet", func(t *testing.T, c *fcgitest.Capture) profileServer {
			tlsPort := fcgitest.FreePort(t)
			cert, key := fcgitest.SelfSigned(t, t.TempDir())
			ng := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: root, FastCGIPass: c.Target(), Snippet: true,
				ExtraServer: fmt.Sprintf("listen 127.0.0.1:%d ssl; ssl_certificate %s; ssl_certificate_key %s;", tlsPort, cert, key)})
			return profileServer{port: ng.Port, tlsPort: tlsPort, software: NginxServerSoftware, log: ng.Log}
		}},
		{ProfileApache, "", webServer(root, "", fcgitest.Apache)},
		{ProfileApache, "generic", webServer(root, "generic", fcgitest.Apache)},
		{ProfileLighttpd, "", webServer(root, "", fcgitest.Lighttpd)},
		{ProfileLighttpd, "plain", webServer(root, "plain", fcgitest.Lighttpd)},
		{ProfileCaddy, "", webServer(root, "", fcgitest.Caddy)},
	}
	for _, sv := range servers {
		name := sv.profile
		if sv.variant != "" {
			name += "/" + sv.variant
		}
		t.Run(name, func(t *testing.T) {
			capture := fcgitest.StartCapture(t, "unix")
			srv := sv.start(t, capture)
			srv.profile, srv.variant, srv.capture, srv.root = sv.profile, sv.variant, capture, root
			client := fcgi.NewClient(capture.Target(), fcgi.ClientOptions{})
			t.Cleanup(func() { client.Close() })
			for _, c := range profileCases() {
				t.Run(c.name, func(t *testing.T) {
					checkProfileCase(t, srv, client, c)
				})
			}
			if t.Failed() {
				t.Logf("server log:\n%s", srv.log())
			}
		})
	}
}

// webServer returns a start function for one of fcgitest's web servers.
func webServer(root, variant string, start func(testing.TB, fcgitest.WebServerOptions) *fcgitest.WebServer) func(*testing.T, *fcgitest.Capture) profileServer {
	return func(t *testing.T, c *fcgitest.Capture) profileServer {
		s := start(t, fcgitest.WebServerOptions{DocRoot: root, Backend: c.Target(), TLS: true, Variant: variant})
		return profileServer{port: s.Port, tlsPort: s.TLSPort, software: s.Software, log: s.Log}
	}
}

func checkProfileCase(t *testing.T, srv profileServer, client *fcgi.Client, c profileCase) {
	port := srv.port
	if c.https {
		port = srv.tlsPort
	}
	in := c.in
	in.Headers = slices.Clone(in.Headers)
	for i := range in.Headers {
		in.Headers[i].Value = strings.ReplaceAll(in.Headers[i].Value, "{port}", strconv.Itoa(port))
	}
	in.Profile, in.Variant = srv.profile, srv.variant
	in.DocumentRoot = srv.root
	in.ServerName, in.ServerAddr, in.RemoteAddr = "localhost", "127.0.0.1", "127.0.0.1"
	in.ServerPort, in.HTTPS, in.ServerSoftware = port, c.https, srv.software

	resp, _ := sendHTTP(t, port, c.https, in)
	real, ok := srv.capture.Take()
	if !ok {
		t.Fatalf("%s answered %s without calling FastCGI", srv.profile, resp.Status)
	}
	req, err := BuildHTTP(in)
	if err != nil {
		t.Fatalf("BuildHTTP: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if _, err := client.Do(ctx, req.FCGI()); err != nil {
		t.Fatalf("sending the profile's request: %v", err)
	}
	ours, ok := srv.capture.Take()
	if !ok {
		t.Fatal("the profile's request did not reach the capture")
	}

	got := real.Params
	for _, name := range c.notSent[srv.profile] {
		if !hasPair(got, name) {
			t.Errorf("the server did not send %s, which the profile drops on purpose", name)
		}
		got = withoutPair(got, name)
	}
	want := ours.Params
	for i := range want {
		if want[i].Name == "REMOTE_PORT" {
			want[i].Value = pairValue(got, "REMOTE_PORT")
		}
	}
	p, _ := LookupProfile(srv.profile)
	if p.Unordered {
		got, want = sortedPairs(got), sortedPairs(want)
	}
	if !slices.Equal(got, want) {
		t.Errorf("params differ (%s; left the server's, right the profile's)\n%s", c.in.URL, diffPairs(got, want))
	}
	if real.Begin != ours.Begin {
		t.Errorf("BEGIN_REQUEST: server %+v, profile %+v", real.Begin, ours.Begin)
	}
	if !bytes.Equal(real.Stdin, ours.Stdin) {
		t.Errorf("STDIN: server sent %d bytes, profile %d", len(real.Stdin), len(ours.Stdin))
	}
	rh, oh := recordShape(real.Records, true), recordShape(ours.Records, true)
	if len(c.notSent[srv.profile]) > 0 {
		// A param left out makes the PARAMS records shorter.
		rh, oh = recordShape(real.Records, false), recordShape(ours.Records, false)
	}
	if rh != oh {
		t.Errorf("framing differs:\nserver  %s\nprofile %s", rh, oh)
	}
}

// recordShape lists the records as type/content+padding@id (PARAMS
// without their lengths unless withParams).
func recordShape(hs []fcgi.Header, withParams bool) string {
	var b strings.Builder
	for _, h := range hs {
		if h.Type == fcgi.TypeParams && !withParams && h.ContentLength > 0 {
			fmt.Fprintf(&b, "%s@%d ", h.Type, h.RequestID)
			continue
		}
		fmt.Fprintf(&b, "%s/%d+%d@%d ", h.Type, h.ContentLength, h.PaddingLength, h.RequestID)
	}
	return b.String()
}

func sortedPairs(ps []fcgi.Pair) []fcgi.Pair {
	out := slices.Clone(ps)
	slices.SortFunc(out, func(a, b fcgi.Pair) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}

// sendHTTP sends rawHTTP(in) to the web server on 127.0.0.1:port, over TLS
// (server name localhost) when tlsOn, and reads the response.
func sendHTTP(t *testing.T, port int, tlsOn bool, in HTTPInput) (*http.Response, []byte) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var conn net.Conn
	var err error
	if tlsOn {
		conn, err = tls.Dial("tcp", addr, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return roundTripHTTP(t, conn, in)
}

// roundTripHTTP writes rawHTTP(in) on conn and reads the response whole.
func roundTripHTTP(t *testing.T, conn net.Conn, in HTTPInput) (*http.Response, []byte) {
	t.Helper()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := conn.Write(rawHTTP(in)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: in.WithDefaults().Method})
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return resp, body
}
