// The real FastCGI servers besides php-fpm (issue 13): fcgiwrap running a
// shell CGI script, php-cgi -b, uwsgi with a WSGI app, Perl FCGI under
// spawn-fcgi and node-fastcgi, each asked the same questions through
// fcgiscope and through what people put in front of them: nginx for HTTP
// (HTTP mode must show what nginx serves), cgi-fcgi for raw params (raw
// mode must get what cgi-fcgi gets). Where they must agree the test
// asserts equality; where fcgiscope differs on purpose it asserts the
// documented difference. What only fcgiscope can ask (GET_VALUES, another
// role, KEEP_CONN, multiplexing) is checked against what each server was
// measured to do (/work/notes/servers/README.md, FASTCGI.md).
//
// Each server and its nginx start once, in their own subtest, run in
// parallel with the other servers'.

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// serverTraits is what a server was measured to do where nginx and
// cgi-fcgi cannot tell.
type serverTraits struct {
	onlyErr502  bool        // a=onlyerr sends no STDOUT (nginx: 502); else the app answers 500
	stderr      bool        // the app's stderr reaches FastCGI STDERR (uwsgi logs it itself)
	keepsConn   bool        // honours KEEP_CONN
	values      []fcgi.Pair // GET_VALUES_RESULT; nil: no answer
	valuesClose bool        // with no answer: closes the connection (else holds it open)
	roleAnswers bool        // answers role 7 as a responder
	roleRefused bool        // answers role 7 with END_REQUEST UNKNOWN_ROLE (else closes)
}

func traitsOf(k fcgitest.ServerKind) serverTraits {
	switch k {
	case fcgitest.FCGIWrap:
		return serverTraits{onlyErr502: true, stderr: true, keepsConn: true}
	case fcgitest.PHPCGI:
		return serverTraits{stderr: true, keepsConn: true,
			values: []fcgi.Pair{{Name: fcgi.ValueMpxsConns, Value: "0"}, {Name: fcgi.ValueMaxReqs, Value: "2"}, {Name: fcgi.ValueMaxConns, Value: "2"}}}
	case fcgitest.UWSGI:
		return serverTraits{onlyErr502: true, valuesClose: true, roleAnswers: true}
	case fcgitest.PerlFCGI:
		return serverTraits{onlyErr502: true, stderr: true, keepsConn: true}
	case fcgitest.NodeFastCGI:
		return serverTraits{stderr: true, roleRefused: true,
			values: []fcgi.Pair{{Name: fcgi.ValueMaxConns, Value: "2000"}, {Name: fcgi.ValueMaxReqs, Value: "2000"}, {Name: fcgi.ValueMpxsConns, Value: "1"}}}
	}
	return serverTraits{}
}

// realServer is one server under test with nginx in front of it.
type realServer struct {
	s      *fcgitest.Server
	ngx    *fcgitest.NginxServer
	eng    *Engine
	traits serverTraits
}

func TestRealServers(t *testing.T) {
	for _, kind := range fcgitest.ServerKinds() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			s := fcgitest.NewServer(t, kind)
			rs := &realServer{s: s, traits: traitsOf(kind), eng: newEngine(t, EngineOptions{})}
			rs.ngx = fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: s.DocRoot, FastCGIPass: s.Pass(), Ext: s.Ext})
			t.Run("http", rs.testHTTP)
			t.Run("header-buffer", rs.testHeaderBuffer)
			t.Run("raw", rs.testRaw)
			t.Run("keep-conn", rs.testKeepConn)
			t.Run("unknown-role", rs.testUnknownRole)
			if kind == fcgitest.NodeFastCGI {
				t.Run("authorizer", rs.testAuthorizer)
				t.Run("filter", rs.testFilter)
				t.Run("multiplex", rs.testMultiplex)
				t.Run("body-after-drain", rs.testBodyAfterDrain)
			}
			t.Run("timeout", rs.testTimeout)
			// Last: fcgiwrap and Perl FCGI hold a worker (Perl its only one)
			// while a GET_VALUES connection stays open.
			t.Run("get-values", rs.testGetValues)
		})
	}
}

// input is an HTTP request for the server's app with query q, as the
// nginx in front of it maps it: Debian's location, split on the app's
// extension.
func (rs *realServer) input(method, q string, body []byte) HTTPInput {
	ext := strings.ReplaceAll(rs.s.Ext, ".", `\.`)
	in := HTTPInput{Method: method, URL: rs.s.ScriptName + "?" + q, Body: body,
		Headers:   []Header{{"Host", "localhost"}, {"User-Agent", "fcgiscope-test"}},
		SplitPath: `^(.+\.` + ext + `)(/.+)$`, Location: `[^/]\.` + ext + `(/|$)`}
	if body != nil {
		in.Headers = append(in.Headers, Header{"Content-Type", "application/octet-stream"})
	}
	return forNginx(in, rs.s.DocRoot, rs.ngx.Port)
}

// viaNginx sends in to nginx and returns its response, and in with the
// client port nginx saw (REMOTE_PORT), so that the mapping sends the same.
func (rs *realServer) viaNginx(t *testing.T, in HTTPInput) (HTTPInput, *http.Response, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(rs.ngx.Port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	in.RemotePort = conn.LocalAddr().(*net.TCPAddr).Port
	resp, body := roundTripHTTP(t, conn, in)
	return in, resp, body
}

// direct sends in, mapped by BuildHTTP, to the server through the engine.
func (rs *realServer) direct(t *testing.T, in HTTPInput) (*Exchange, error) {
	t.Helper()
	req, err := BuildHTTP(in)
	if err != nil {
		t.Fatal(err)
	}
	x := NewExchange(Input{Mode: ModeHTTP, HTTP: &in})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return x, rs.eng.Send(ctx, rs.s.Target(), req, x)
}

// nginxStderr counts the "FastCGI sent in stderr" lines of nginx's log.
func (rs *realServer) nginxStderr() int { return strings.Count(rs.ngx.Log(), "FastCGI sent in stderr") }

// sameAsNginx sends one request both ways and compares status, headers
// (those nginx writes itself aside) and body.
func (rs *realServer) sameAsNginx(t *testing.T, in HTTPInput) (*Exchange, *http.Response) {
	t.Helper()
	in, resp, nbody := rs.viaNginx(t, in)
	x, err := rs.direct(t, in)
	if err != nil && !errors.As(err, new(*fcgi.EndRequestError)) {
		t.Fatalf("fcgiscope: %v", err)
	}
	r := x.Response()
	if r == nil {
		t.Fatalf("fcgiscope: no response; nginx: %s", resp.Status)
	}
	if r.Status != resp.StatusCode {
		t.Errorf("status: nginx %s, fcgiscope %d %s (%s)", resp.Status, r.Status, r.Reason, r.Gateway)
	}
	if r.Gateway != "" {
		return x, resp // nginx's own error page against what the application sent
	}
	nh := map[string][]string{}
	for name, vs := range resp.Header {
		if !nginxOwnHeader(name) {
			nh[name] = vs
		}
	}
	dh := map[string][]string{}
	for _, h := range r.Headers {
		if k := http.CanonicalHeaderKey(h.Name); !nginxOwnHeader(k) {
			dh[k] = append(dh[k], h.Value)
		}
	}
	if !reflect.DeepEqual(nh, dh) {
		t.Errorf("headers differ:\nnginx     %q\nfcgiscope %q", nh, dh)
	}
	if !bytes.Equal(nbody, r.Body) {
		t.Errorf("body differs (%d and %d bytes):\nnginx     %q\nfcgiscope %q", len(nbody), len(r.Body), clipTo(nbody, 2000), clipTo(r.Body, 2000))
	}
	return x, resp
}

func (rs *realServer) testHTTP(t *testing.T) {
	t.Run("echo", func(t *testing.T) {
		x, _ := rs.sameAsNginx(t, rs.input("GET", "a=echo&x=%C3%A9+1", nil))
		// The echo lists the params the app got: the same bodies are the same params.
		if !bytes.Contains(x.Response().Body, []byte("QUERY_STRING=a=echo&x=%C3%A9+1\n")) {
			t.Errorf("echo:\n%s", x.Response().Body)
		}
	})
	t.Run("path-info", func(t *testing.T) {
		in := rs.input("GET", "a=echo", nil)
		in.URL = rs.s.ScriptName + "/extra/path?a=echo"
		x, _ := rs.sameAsNginx(t, in)
		if !bytes.Contains(x.Response().Body, []byte("PATH_INFO=/extra/path\n")) {
			t.Errorf("echo:\n%s", x.Response().Body)
		}
	})
	t.Run("status", func(t *testing.T) { rs.sameAsNginx(t, rs.input("GET", "a=status&code=201", nil)) })
	t.Run("stderr", func(t *testing.T) {
		before := rs.nginxStderr()
		x, _ := rs.sameAsNginx(t, rs.input("GET", "a=stderr", nil))
		logged := rs.nginxStderr() > before
		got := string(x.Stderr())
		if logged != rs.traits.stderr || rs.traits.stderr && !strings.Contains(got, "app: to stderr") || !rs.traits.stderr && got != "" {
			t.Errorf("stderr: fcgiscope %q, nginx logged it %v; want it %v", got, logged, rs.traits.stderr)
		}
	})
	t.Run("no-stdout", func(t *testing.T) {
		// Defect 1: no STDOUT at all is nginx's 502, not a 200.
		x, resp := rs.sameAsNginx(t, rs.input("GET", "a=onlyerr", nil))
		r := x.Response()
		switch {
		case rs.traits.onlyErr502 && (resp.StatusCode != 502 || !strings.Contains(r.Gateway, "upstream prematurely closed FastCGI stdout")):
			t.Errorf("nginx %s, fcgiscope %d %q: want both 502, and why", resp.Status, r.Status, r.Gateway)
		case rs.traits.onlyErr502 && !strings.Contains(rs.ngx.Log(), "upstream prematurely closed FastCGI stdout"):
			t.Errorf("nginx's log does not give the reason fcgiscope gives:\n%s", rs.ngx.Log())
		case !rs.traits.onlyErr502 && resp.StatusCode != 500:
			t.Errorf("nginx %s: want the app's 500", resp.Status)
		}
	})
	t.Run("latin1-header", func(t *testing.T) {
		// Defect 5: the byte passes through nginx and stays exact here.
		x, resp := rs.sameAsNginx(t, rs.input("GET", "a=latin1", nil))
		got, _ := x.Response().Get("X-Name")
		if resp.Header.Get("X-Name") != "caf\xe9" || got != "caf\xe9" {
			t.Errorf("X-Name: nginx %q, fcgiscope %q, want caf\\xe9", resp.Header.Get("X-Name"), got)
		}
	})
	t.Run("large-response", func(t *testing.T) {
		x, _ := rs.sameAsNginx(t, rs.input("GET", "a=bytes&n=1048576", nil))
		if len(x.Response().Body) != 1048576 {
			t.Errorf("body %d bytes", len(x.Response().Body))
		}
	})
	t.Run("large-body", func(t *testing.T) {
		n := 1000000 // under nginx's client_max_body_size 1m
		body := fcgitest.BigBody(n)
		x, _ := rs.sameAsNginx(t, rs.input("POST", "a=body", body))
		if want := fcgitest.PostDigest(body); string(x.Response().Body) != want+"\n" {
			t.Errorf("body digest %q, want %q", x.Response().Body, want)
		}
	})
}

// testHeaderBuffer: a header block at nginx's fastcgi_buffer_size (4 KiB
// by default here) passes, one byte more is nginx's 502 "upstream sent too
// big header"; fcgiscope shows the response (nginx's buffer is a setting)
// and warns exactly when nginx refuses (defect 6).
func (rs *realServer) testHeaderBuffer(t *testing.T) {
	// How many bytes of the stream the header block takes besides X-Big's
	// value, for this server's framing and headers.
	x, _ := rs.direct(t, rs.input("GET", "a=bighdr&n=100", nil))
	if x.Response() == nil {
		t.Fatalf("no response: %s", x.ErrorText())
	}
	headerLen := x.Response().HeaderLen
	x.mu.Lock()
	overhead := x.headerStreamLen(headerLen) - 100
	x.mu.Unlock()
	fits := NginxBufferSize - int(overhead)
	for _, n := range []int{fits, fits + 1} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			in, resp, _ := rs.viaNginx(t, rs.input("GET", fmt.Sprintf("a=bighdr&n=%d", n), nil))
			x, err := rs.direct(t, in)
			if err != nil {
				t.Fatal(err)
			}
			warned := strings.Contains(strings.Join(x.Warnings(), "\n"), "fastcgi_buffer_size")
			nginxRefused := resp.StatusCode == 502 && strings.Contains(rs.ngx.Log(), "upstream sent too big header")
			if warned != (n > fits) || nginxRefused != (n > fits) {
				t.Errorf("X-Big of %d bytes: nginx %s, fcgiscope warned %v; want nginx to refuse and fcgiscope to warn from %d",
					n, resp.Status, warned, fits+1)
			}
			if x.Response().Status != 200 {
				t.Errorf("fcgiscope status %d: the difference is a warning, not a status", x.Response().Status)
			}
		})
	}
}

// cgiFCGI runs one request through cgi-fcgi with exactly params in its
// environment and returns the FastCGI stdout and stderr it printed and its
// exit code (END_REQUEST's app status).
func cgiFCGI(t *testing.T, addr string, params Params) (stdout, stderr []byte, code int) {
	t.Helper()
	cmd := exec.Command(fcgitest.CGIFCGI(t), "-bind", "-connect", addr)
	cmd.Env = []string{}
	for _, p := range params {
		cmd.Env = append(cmd.Env, p.Name+"="+p.Value)
	}
	return fcgitest.RunCmd(t, cmd, 30*time.Second)
}

// testRaw: raw params give the same stdout, stderr and app status as
// cgi-fcgi sending the same params.
func (rs *realServer) testRaw(t *testing.T) {
	for _, q := range []string{"a=echo", "a=stderr", "a=onlyerr", "a=status&code=404", "a=latin1"} {
		t.Run(q, func(t *testing.T) {
			params := Params{{Name: "SCRIPT_FILENAME", Value: rs.s.Script}, {Name: "SCRIPT_NAME", Value: rs.s.ScriptName},
				{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "QUERY_STRING", Value: q},
				{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"}, {Name: "X_WORDS", Value: "two words, a comma"}}
			wantOut, wantErr, code := cgiFCGI(t, rs.s.Addr, params)
			x := NewExchange(Input{Mode: ModeRaw})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := rs.eng.Send(ctx, rs.s.Target(), &Request{Params: params}, x); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x.Stdout(), wantOut) {
				t.Errorf("stdout:\ncgi-fcgi  %q\nfcgiscope %q", clipTo(wantOut, 2000), clipTo(x.Stdout(), 2000))
			}
			// fcgiwrap sometimes ends a script's stderr line with CRLF, sometimes
			// with LF, the same request either way (measured with cgi-fcgi alone).
			gotErr := x.Stderr()
			if rs.s.Kind == fcgitest.FCGIWrap {
				gotErr, wantErr = bytes.ReplaceAll(gotErr, []byte("\r\n"), []byte("\n")), bytes.ReplaceAll(wantErr, []byte("\r\n"), []byte("\n"))
			}
			if !bytes.Equal(gotErr, wantErr) {
				t.Errorf("stderr:\ncgi-fcgi  %q\nfcgiscope %q", wantErr, x.Stderr())
			}
			if end := x.End(); end == nil || int(end.AppStatus) != code {
				t.Errorf("app status %+v, cgi-fcgi exited %d", end, code)
			}
		})
	}
}

// testBodyAfterDrain: the first STDIN record comes with the PARAMS that
// start the request, so node-fastcgi queues it before the app reads, and
// the rest of the body comes only once the app has read that record (it
// says so on STDERR: the app's action "body" with tell). Every byte must
// reach the app and it must answer. node-fastcgi 1.3.3 stalls here for good
// without the fix to its input streams in fcgitest's app (serverapps.go).
func (rs *realServer) testBodyAfterDrain(t *testing.T) {
	const rec = 32768 // over node's 16 KiB highWaterMark, as nginx's records and fcgiscope's are
	body := fcgitest.BigBody(3 * rec)
	conn, err := net.Dial("unix", rs.s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// One write: BEGIN_REQUEST, PARAMS and the first STDIN record.
	var first bytes.Buffer
	w := fcgi.NewWriter(&first)
	params := []fcgi.Pair{{Name: "SCRIPT_FILENAME", Value: rs.s.Script}, {Name: "SCRIPT_NAME", Value: rs.s.ScriptName},
		{Name: "REQUEST_METHOD", Value: "POST"}, {Name: "QUERY_STRING", Value: "a=body&tell=1"},
		{Name: "CONTENT_LENGTH", Value: strconv.Itoa(len(body))}}
	for _, err := range []error{w.WriteBeginRequest(1, fcgi.RoleResponder, 0), w.WriteParams(1, params),
		w.WriteRecord(fcgi.TypeStdin, 1, body[:rec])} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Write(first.Bytes()); err != nil {
		t.Fatal(err)
	}
	r := fcgi.NewReader(conn)
	var stdout, stderr []byte
	next := func(what string) *fcgi.Record {
		t.Helper()
		x, err := r.ReadRecord()
		if err != nil {
			t.Fatalf("waiting for %s: %v (the app said %q, answered %q)", what, err, stderr, stdout)
		}
		switch x.Type {
		case fcgi.TypeStdout:
			stdout = append(stdout, x.Content()...)
		case fcgi.TypeStderr:
			stderr = append(stderr, x.Content()...)
		}
		return x
	}
	for !bytes.Contains(stderr, []byte("app: read ")) {
		next("the app to read the first record")
	}
	w = fcgi.NewWriter(conn)
	for off := rec; off < len(body); off += rec {
		if err := w.WriteRecord(fcgi.TypeStdin, 1, body[off:off+rec]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteRecord(fcgi.TypeStdin, 1, nil); err != nil {
		t.Fatal(err)
	}
	for next("the answer").Type != fcgi.TypeEndRequest {
	}
	if want := fcgitest.PostDigest(body) + "\n"; !bytes.HasSuffix(stdout, []byte("\r\n\r\n"+want)) {
		t.Errorf("answer %q, want the body %q (the app said %q)", stdout, want, stderr)
	}
}

// testKeepConn: KEEP_CONN requests one after the other, POSTs among them
// (never sent twice): all succeed; servers that keep connections carry
// them on one, those that ignore KEEP_CONN (uwsgi, node-fastcgi) get a
// fresh one each time, and none is lost on a connection being closed.
func (rs *realServer) testKeepConn(t *testing.T) {
	eng := newEngine(t, EngineOptions{})
	var reused []bool
	for i := range 6 {
		req := &Request{KeepConn: true, Params: Params{{Name: "SCRIPT_FILENAME", Value: rs.s.Script},
			{Name: "SCRIPT_NAME", Value: rs.s.ScriptName}, {Name: "REQUEST_METHOD", Value: "GET"}, {Name: "QUERY_STRING", Value: "a=body"}}}
		body := []byte("post " + strconv.Itoa(i))
		if i%2 == 1 {
			req.Params[2].Value = "POST"
			req.Params = append(req.Params, Param{Name: "CONTENT_LENGTH", Value: strconv.Itoa(len(body))})
			req.Body, req.BodyLen = bytes.NewReader(body), int64(len(body))
		}
		x := NewExchange(Input{})
		if err := eng.Send(context.Background(), rs.s.Target(), req, x); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if i%2 == 1 && string(x.Response().Body) != fcgitest.PostDigest(body)+"\n" {
			t.Errorf("request %d: %q", i+1, x.Response().Body)
		}
		reused = append(reused, x.Conn().Reused)
	}
	for i, r := range reused[1:] {
		if r != rs.traits.keepsConn {
			t.Errorf("request %d reused a connection: %v, want %v (all: %v)", i+2, r, rs.traits.keepsConn, reused)
		}
	}
}

// testUnknownRole: role 7, which no server plays.
func (rs *realServer) testUnknownRole(t *testing.T) {
	req := &Request{Role: fcgi.Role(7), Params: Params{{Name: "SCRIPT_FILENAME", Value: rs.s.Script},
		{Name: "SCRIPT_NAME", Value: rs.s.ScriptName}, {Name: "REQUEST_METHOD", Value: "GET"}, {Name: "QUERY_STRING", Value: "a=echo"}}}
	x := NewExchange(Input{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := rs.eng.Send(ctx, rs.s.Target(), req, x)
	var ere *fcgi.EndRequestError
	switch {
	case rs.traits.roleAnswers:
		if err != nil || x.Response().Status != 200 {
			t.Errorf("want it answered as a responder: %v, %+v", err, x.Response())
		}
	case rs.traits.roleRefused:
		if !errors.As(err, &ere) || ere.ProtocolStatus != fcgi.StatusUnknownRole || x.Response() == nil || x.Response().Status != 502 {
			t.Errorf("want END_REQUEST UNKNOWN_ROLE, nothing on STDOUT (502): %v, %+v", err, x.Response())
		}
	default:
		if !errors.Is(err, fcgi.ErrConnClosed) || x.End() != nil {
			t.Errorf("want the connection closed without END_REQUEST: %v", err)
		}
	}
}

// testTimeout: the request's time limit is its whole time, the wait after
// ABORT_REQUEST included (defect 3), and running out of it is a failure,
// 504 when something did come (defect 2: node-fastcgi answers ABORT_REQUEST
// with END_REQUEST).
func (rs *realServer) testTimeout(t *testing.T) {
	const limit = time.Second
	eng := newEngine(t, EngineOptions{Timeout: limit})
	q := "a=sleep&s=3"
	if rs.s.Kind == fcgitest.NodeFastCGI {
		q = "a=hang"
	}
	req, err := BuildHTTP(rs.input("GET", q, nil))
	if err != nil {
		t.Fatal(err)
	}
	x := NewExchange(Input{})
	start := time.Now()
	err = eng.Send(context.Background(), rs.s.Target(), req, x)
	if took := time.Since(start); took > limit+time.Second {
		t.Errorf("took %v with a %v limit", took, limit)
	}
	if !errors.Is(err, fcgi.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if x.End() != nil && (x.Response() == nil || x.Response().Status != 504) {
		t.Errorf("END_REQUEST came after ABORT_REQUEST: response %+v, want 504", x.Response())
	}
	if rs.s.Kind == fcgitest.NodeFastCGI && x.End() == nil {
		t.Error("node-fastcgi answers ABORT_REQUEST with END_REQUEST; none recorded")
	}
}

// testGetValues: GET_VALUES_RESULT as measured, or an error saying that
// none came and whether the server closed or stayed silent (defect 4).
func (rs *realServer) testGetValues(t *testing.T) {
	limit := time.Second
	if rs.traits.valuesClose {
		limit = 10 * time.Second // uwsgi closes after twice its --socket-timeout 2
	}
	eng := newEngine(t, EngineOptions{Timeout: limit})
	vals, err := eng.GetValues(context.Background(), rs.s.Target())
	switch {
	case rs.traits.values != nil:
		if err != nil || !reflect.DeepEqual(vals, rs.traits.values) {
			t.Errorf("GET_VALUES = %v, %v; want %v", vals, err, rs.traits.values)
		}
	case rs.traits.valuesClose:
		if !errors.Is(err, fcgi.ErrConnClosed) || !strings.Contains(err.Error(), "closed the connection") ||
			!strings.Contains(err.Error(), "without a GET_VALUES_RESULT") {
			t.Errorf("err = %v, want it to say the server closed without a GET_VALUES_RESULT", err)
		}
	default:
		if !errors.Is(err, fcgi.ErrTimeout) || !strings.Contains(err.Error(), "no GET_VALUES_RESULT within") ||
			!strings.Contains(err.Error(), "kept the connection open without answering") {
			t.Errorf("err = %v, want it to say the server stayed silent", err)
		}
	}
	if err != nil && (strings.Contains(err.Error(), "END_REQUEST") || strings.Contains(err.Error(), "context deadline exceeded")) {
		t.Errorf("err = %q", err)
	}
	// The server answers requests again once the GET_VALUES connection
	// is closed (Perl FCGI serves one connection at a time).
	if x, err := rs.direct(t, rs.input("GET", "a=status&code=202", nil)); err != nil || x.Response().Status != 202 {
		t.Errorf("after GET_VALUES: %v", err)
	}
}

// testAuthorizer: node-fastcgi plays the Authorizer role: 200 with
// Variable-AUTH_USER for the right token, the variable passed on to the
// next request; 403 otherwise.
func (rs *realServer) testAuthorizer(t *testing.T) {
	next := &Request{Params: Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "QUERY_STRING", Value: "a=echo"}}}
	for _, tc := range []struct {
		token string
		code  int
	}{{"Bearer ok", 200}, {"Bearer no", 403}} {
		auth := &Request{Params: Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "HTTP_AUTHORIZATION", Value: tc.token}}}
		ax, nx, err := rs.eng.Authorize(context.Background(), rs.s.Target(), auth, next)
		if err != nil {
			t.Fatal(err)
		}
		if ax.Role() != fcgi.RoleAuthorizer || ax.Response().Status != tc.code {
			t.Errorf("%s: authorizer answered %+v", tc.token, ax.Response())
		}
		if tc.code == 200 && (nx == nil || !bytes.Contains(nx.Response().Body, []byte("AUTH_USER=alice\n"))) {
			t.Errorf("%s: the next request did not get AUTH_USER=alice", tc.token)
		}
		if tc.code != 200 && nx != nil {
			t.Errorf("%s: a refused request went on", tc.token)
		}
	}
}

// testFilter: node-fastcgi plays the Filter role: STDIN, then DATA, with
// FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD.
func (rs *realServer) testFilter(t *testing.T) {
	data := []byte("the file, filtered")
	req := &Request{Role: fcgi.RoleFilter, Params: Params{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "FCGI_DATA_LENGTH", Value: strconv.Itoa(len(data))}, {Name: "FCGI_DATA_LAST_MOD", Value: "1700000000"}},
		Data: bytes.NewReader(data), DataLen: int64(len(data))}
	x := sendOK(t, rs.eng, rs.s.Target(), req)
	want := "stdin 0\nFCGI_DATA_LENGTH=18 FCGI_DATA_LAST_MOD=1700000000\nTHE FILE, FILTERED"
	if got := string(x.Response().Body); got != want {
		t.Errorf("filter body %q, want %q", got, want)
	}
}

// testMultiplex: node-fastcgi says it multiplexes (FCGI_MPXS_CONNS=1) and
// serves two requests on one connection at once, the quick one first; but
// it ignores KEEP_CONN and closes the connection after the first
// END_REQUEST, so the slower request is lost. fcgiscope reports that as a
// closed connection, never as an answer.
func (rs *realServer) testMultiplex(t *testing.T) {
	conn, err := fcgi.Dial(context.Background(), rs.s.Target(), fcgi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := func(q string) *Request {
		return &Request{KeepConn: true, Params: Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "QUERY_STRING", Value: q}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	slow := make(chan error, 1)
	sx := NewExchange(Input{})
	go func() { slow <- SendOn(ctx, conn, rs.s.Target(), req("a=sleep&s=0.5"), sx) }()
	waitUntilTrue(t, "the slow request on the wire", func() bool { return sx.Sent() })
	qx := NewExchange(Input{})
	if err := SendOn(ctx, conn, rs.s.Target(), req("a=echo"), qx); err != nil {
		t.Fatalf("the quick request: %v", err)
	}
	if qx.RequestID() != 2 || !bytes.Contains(qx.Response().Body, []byte("stdin 0")) {
		t.Errorf("quick request %d: %q", qx.RequestID(), qx.Response().Body)
	}
	if err := <-slow; !errors.Is(err, fcgi.ErrConnClosed) {
		t.Errorf("the slow request: %v; want the connection closed by node-fastcgi after the first END_REQUEST", err)
	}
}

// waitUntilTrue polls cond until it holds, for at most 10 s.
func waitUntilTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
