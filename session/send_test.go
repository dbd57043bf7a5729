package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// checkLeaks makes the test fail if goroutines started after this call are
// still running when the cleanups registered after it have run (so backends
// started before it may keep theirs until their own cleanup).
func checkLeaks(t *testing.T) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

// newEngine returns an Engine with its own pool, closed at the end. Call it
// after starting backends, so that leak checks see only what the engine
// started.
func newEngine(t *testing.T, opts EngineOptions) *Engine {
	t.Helper()
	pool := NewPool(PoolOptions{})
	t.Cleanup(func() { pool.Close() })
	return NewEngine(pool, opts)
}

// demoReq is a responder request for a demo path.
func demoReq(path, query string, extra ...Param) *Request {
	ps := Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: path},
		{Name: "QUERY_STRING", Value: query}}
	return &Request{Params: append(ps, extra...)}
}

type demoEcho struct {
	Role      string `json:"role"`
	KeepConn  bool   `json:"keep_conn"`
	RequestID uint16 `json:"request_id"`
	Params    []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"params"`
	Stdin *string `json:"stdin"`
}

func (e demoEcho) param(name string) (string, bool) {
	for _, p := range e.Params {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func sendOK(t *testing.T, e *Engine, target string, req *Request) *Exchange {
	t.Helper()
	x := NewExchange(Input{})
	if err := e.Send(context.Background(), target, req, x); err != nil {
		t.Fatalf("Send: %v", err)
	}
	return x
}

func TestEngineDemoEcho(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	req := demoReq("/echo", "", Param{Name: "X_DUP", Value: "1"}, Param{Name: "X_DUP", Value: "2"},
		Param{Name: "LONG", Value: strings.Repeat("L", 70000)})
	req.Body = strings.NewReader("the body")
	x := sendOK(t, e, addr, req)

	resp := x.Response()
	if resp == nil || resp.Status != 200 {
		t.Fatalf("response %+v, warnings %q", resp, x.Warnings())
	}
	if ct, _ := resp.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var echo demoEcho
	if err := json.Unmarshal(resp.Body, &echo); err != nil {
		t.Fatalf("echo body: %v\n%s", err, resp.Body)
	}
	if echo.Role != "RESPONDER" || echo.Stdin == nil || *echo.Stdin != "the body" {
		t.Errorf("echo = %+v", echo)
	}
	var dups []string
	for _, p := range echo.Params {
		if p.Name == "X_DUP" {
			dups = append(dups, p.Value)
		}
	}
	if strings.Join(dups, ",") != "1,2" {
		t.Errorf("duplicate params arrived as %q", dups)
	}
	if v, _ := echo.param("LONG"); len(v) != 70000 {
		t.Errorf("LONG param arrived with %d bytes", len(v))
	}

	// The exchange holds the whole conversation.
	if x.RequestID() != echo.RequestID || x.RequestID() == 0 {
		t.Errorf("RequestID %d, backend saw %d", x.RequestID(), echo.RequestID)
	}
	recs := x.Records()
	if recs[0].Type != fcgi.TypeBeginRequest || recs[0].Dir != fcgi.Sent {
		t.Errorf("first record %+v", recs[0])
	}
	if last := recs[len(recs)-1]; last.Type != fcgi.TypeEndRequest || last.Dir != fcgi.Received {
		t.Errorf("last record %+v", last)
	}
	var params int
	for _, r := range recs {
		if r.Type == fcgi.TypeParams && r.ContentLength > 0 {
			params++
		}
	}
	if params < 2 {
		t.Errorf("%d PARAMS records for a 70000-byte param, want it split", params)
	}
	if string(x.Stdin()) != "the body" {
		t.Errorf("Stdin = %q", x.Stdin())
	}
	if end := x.End(); end == nil || end.ProtocolStatus != fcgi.StatusRequestComplete {
		t.Errorf("End = %+v", end)
	}
	sz := x.Sizes()
	if sz.Stdout != int64(len(x.Stdout())) || sz.Dropped != 0 || sz.Sent == 0 || sz.Received == 0 {
		t.Errorf("Sizes = %+v, stdout %d", sz, len(x.Stdout()))
	}
	ts := x.Timings()
	if ts.Connect <= 0 || ts.FirstByte < ts.Connect || ts.Total < ts.FirstByte {
		t.Errorf("Timings = %+v", ts)
	}
	if !x.Finished() || x.ErrorText() != "" || len(x.Warnings()) != 0 {
		t.Errorf("finished %v, error %q, warnings %q", x.Finished(), x.ErrorText(), x.Warnings())
	}
	// Every record decodes again from the capture.
	for _, r := range recs {
		if _, err := x.Decode(r.Index); err != nil {
			t.Errorf("Decode(%d) %s: %v", r.Index, r.Type, err)
		}
	}
	// And the whole exchange survives JSON.
	b, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	var y Exchange
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(y.Stdout(), x.Stdout()) || y.Len() != x.Len() || y.Response().Status != 200 {
		t.Error("JSON round trip of a real exchange lost data")
	}
}

func TestEngineDemoOutcomes(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	t.Run("stderr and app status", func(t *testing.T) {
		x := sendOK(t, e, addr, demoReq("/stderr", "lines=2&app_status=3"))
		if got := string(x.Stderr()); got != "demo: stderr line 1 of 2\ndemo: stderr line 2 of 2\n" {
			t.Errorf("Stderr = %q", got)
		}
		if end := x.End(); end == nil || end.AppStatus != 3 {
			t.Errorf("End = %+v", end)
		}
	})
	t.Run("status 404", func(t *testing.T) {
		x := sendOK(t, e, addr, demoReq("/status", "code=404"))
		if r := x.Response(); r == nil || r.Status != 404 || r.Reason != "Not Found" {
			t.Errorf("response %+v", r)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		x := sendOK(t, e, addr, demoReq("/redirect", "to=/status"))
		r := x.Response()
		if loc, _ := r.Get("Location"); r.Status/100 != 3 || loc != "/status" {
			t.Errorf("response %+v", r)
		}
	})
	t.Run("large", func(t *testing.T) {
		const n = 3<<20 + 17
		x := sendOK(t, e, addr, demoReq("/large", "bytes=3145745"))
		r := x.Response()
		if r == nil || len(r.Body) != n || x.Sizes().Stdout != int64(len(x.Stdout())) {
			t.Fatalf("body %d bytes, want %d", len(r.Body), n)
		}
		if &r.Body[0] != &x.Stdout()[r.HeaderLen] {
			t.Error("the body is a copy of stdout")
		}
	})
	t.Run("capture limit", func(t *testing.T) {
		small := newEngine(t, EngineOptions{CaptureLimit: 20000})
		x := sendOK(t, small, addr, demoReq("/large", "bytes=200000"))
		if !x.Truncated() || x.Sizes().Stdout < 200000 || len(x.Stdout()) > 20000 {
			t.Errorf("truncated %v, stdout counted %d, kept %d", x.Truncated(), x.Sizes().Stdout, len(x.Stdout()))
		}
		if end := x.End(); end == nil {
			t.Error("END_REQUEST lost")
		}
		if !strings.Contains(strings.Join(x.Warnings(), "\n"), "capture limit") {
			t.Errorf("warnings %q", x.Warnings())
		}
	})
	t.Run("get values", func(t *testing.T) {
		vals, err := e.GetValues(context.Background(), addr)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, v := range vals {
			got[v.Name] = v.Value
		}
		if got[fcgi.ValueMpxsConns] != "1" {
			t.Errorf("GET_VALUES = %v", vals)
		}
	})
}

func TestEngineErrors(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	t.Run("connect refused", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := l.Addr().String()
		l.Close()
		x := NewExchange(Input{})
		err = e.Send(context.Background(), dead, demoReq("/", ""), x)
		if !errors.Is(err, fcgi.ErrConnect) {
			t.Fatalf("err = %v, want ErrConnect", err)
		}
		// Said once (issue 13, defect 7): not "cannot connect to X: fcgi: dial
		// tcp X: cannot connect: dial tcp X: connect: connection refused".
		want := "session: fcgi: dial tcp " + dead + ": cannot connect: connection refused"
		if x.ErrorText() != want || !x.Finished() || x.Response() != nil {
			t.Errorf("ErrorText %q (want %q), finished %v, response %v", x.ErrorText(), want, x.Finished(), x.Response())
		}
		if x.Sent() {
			t.Error("Sent() after a failed connect")
		}
		var v struct {
			RequestID *uint16 `json:"request_id"`
		}
		if b, err := x.CLIJSON(); err != nil || json.Unmarshal(b, &v) != nil || v.RequestID != nil || !strings.Contains(string(b), `"request_id":null`) {
			t.Errorf("CLI JSON %s (%v): want request_id null, nothing was sent", b, err)
		}
	})
	t.Run("bad address", func(t *testing.T) {
		x := NewExchange(Input{})
		err := e.Send(context.Background(), "no-port", demoReq("/", ""), x)
		if err == nil || x.ErrorText() == "" || !x.Finished() {
			t.Errorf("err %v, ErrorText %q", err, x.ErrorText())
		}
	})
	t.Run("timeout keeps the capture", func(t *testing.T) {
		slow := newEngine(t, EngineOptions{Timeout: 300 * time.Millisecond})
		x := NewExchange(Input{})
		err := slow.Send(context.Background(), addr, demoReq("/slow", "ms=5000&chunks=5"), x)
		if !errors.Is(err, fcgi.ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
		if !strings.Contains(x.ErrorText(), "timed out") || x.Len() == 0 {
			t.Errorf("ErrorText %q, %d records", x.ErrorText(), x.Len())
		}
		var abort bool
		for _, r := range x.Records() {
			abort = abort || r.Type == fcgi.TypeAbortRequest
		}
		if !abort {
			t.Error("no ABORT_REQUEST in the capture")
		}
	})
	t.Run("unknown role", func(t *testing.T) {
		req := demoReq("/echo", "")
		req.Role = fcgi.Role(7)
		x := NewExchange(Input{})
		err := e.Send(context.Background(), addr, req, x)
		var ere *fcgi.EndRequestError
		if !errors.As(err, &ere) || ere.ProtocolStatus != fcgi.StatusUnknownRole {
			t.Fatalf("err = %v, want an EndRequestError UNKNOWN_ROLE", err)
		}
		if end := x.End(); end == nil || end.ProtocolStatus != fcgi.StatusUnknownRole {
			t.Errorf("End = %+v", end)
		}
		if !strings.Contains(x.ErrorText(), "refused the request") {
			t.Errorf("ErrorText = %q", x.ErrorText())
		}
		b, _ := x.CLIJSON()
		if !strings.Contains(string(b), `"protocol_status":"UNKNOWN_ROLE"`) {
			t.Errorf("CLI JSON: %s", b)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		x := NewExchange(Input{})
		x.OnRecord = func(r RecordInfo) {
			if r.Dir == fcgi.Received {
				cancel() // as soon as the backend starts answering
			}
		}
		err := e.Send(ctx, addr, demoReq("/slow", "ms=5000&chunks=5"), x)
		if !errors.Is(err, fcgi.ErrAborted) || !strings.Contains(x.ErrorText(), "aborted") {
			t.Errorf("err = %v, ErrorText %q", err, x.ErrorText())
		}
	})
}

func TestEngineHandlerAndLiveRecords(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	x := NewExchange(Input{Mode: ModeRaw, Target: addr})
	var mu sync.Mutex
	var live []RecordInfo
	x.OnRecord = func(r RecordInfo) {
		mu.Lock()
		live = append(live, r)
		mu.Unlock()
	}
	setParam := func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			req.Params.Set("FROM_MIDDLEWARE", "yes", "test")
			return next(ctx, req)
		}
	}
	h := Chain(setParam)(e.Handler(addr))
	got, err := h(ContextWithExchange(context.Background(), x), demoReq("/echo", ""))
	if err != nil {
		t.Fatal(err)
	}
	if got != x {
		t.Fatal("the handler did not record into the context's Exchange")
	}
	if v, ok := x.Params().Get("FROM_MIDDLEWARE"); !ok || v != "yes" {
		t.Error("final params lack the middleware's param")
	}
	if ps := x.Params(); ps[len(ps)-1].Origin != "test" {
		t.Errorf("origin lost: %+v", ps[len(ps)-1])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(live) != x.Len() {
		t.Errorf("OnRecord saw %d records, exchange has %d", len(live), x.Len())
	}
	for i, r := range live {
		if r.Index != i {
			t.Errorf("OnRecord call %d got index %d", i, r.Index)
		}
	}

	// Without an Exchange in the context the handler makes one.
	y, err := e.Handler(addr)(context.Background(), demoReq("/status", "code=201"))
	if err != nil || y == nil || y.Response().Status != 201 {
		t.Errorf("handler without context exchange: %v, %+v", err, y)
	}
}

func TestEngineKeepConnReuse(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})
	var reused []bool
	for range 3 {
		req := demoReq("/echo", "")
		req.KeepConn = true
		x := sendOK(t, e, addr, req)
		reused = append(reused, x.Conn().Reused)
		if !x.KeepConn() {
			t.Error("KeepConn not recorded")
		}
	}
	if reused[0] || !reused[1] || !reused[2] {
		t.Errorf("reused = %v, want the connection of the first request reused", reused)
	}
}

func TestEngineAuthorizerDemo(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})

	auth := &Request{Params: Params{{Name: "HTTP_AUTHORIZATION", Value: "Basic eDp5"}}}
	next := demoReq("/echo", "")
	authX, nextX, err := e.Authorize(context.Background(), addr, auth, next)
	if err != nil {
		t.Fatal(err)
	}
	if authX.Role() != fcgi.RoleAuthorizer || authX.Response().Status != 200 || nextX == nil {
		t.Fatalf("authorizer role %s, response %+v, next %v", authX.Role(), authX.Response(), nextX)
	}
	var echo demoEcho
	if err := json.Unmarshal(nextX.Response().Body, &echo); err != nil {
		t.Fatal(err)
	}
	if v, _ := echo.param("AUTH_USER"); v != "demo" {
		t.Errorf("AUTH_USER = %q, want demo", v)
	}
	if v, _ := echo.param("AUTH_LEVEL"); v != "admin" {
		t.Errorf("AUTH_LEVEL = %q, want admin", v)
	}
	if _, ok := echo.param("HTTP_VARIABLE_AUTH_USER"); ok {
		t.Error("a Variable- header became an HTTP_ param")
	}
	if p := nextX.Params(); p[len(p)-2].Origin != OriginAuthorizer {
		t.Errorf("origin of authorizer params: %+v", p)
	}
	if len(next.Params) != 3 {
		t.Error("Authorize modified the caller's next request")
	}

	// Denied: the authorizer's answer is final.
	authX, nextX, err = e.Authorize(context.Background(), addr, &Request{}, demoReq("/echo", ""))
	if err != nil || nextX != nil || authX.Response().Status != 403 {
		t.Errorf("denied: err %v, next %v, status %d", err, nextX, authX.Response().Status)
	}
}

// authScript is a PHP authorizer: 200 with a Variable- header when an
// Authorization header came, else 401.
const authScript = `<?php
if (($_SERVER['FCGI_ROLE'] ?? '') !== 'AUTHORIZER') {
    http_response_code(500);
    echo "not called as an authorizer\n";
    exit;
}
if (empty($_SERVER['HTTP_AUTHORIZATION'])) {
    http_response_code(401);
    header('WWW-Authenticate: Basic realm="t"');
    echo "who are you?\n";
    exit;
}
header('Variable-AUTH_USER: x');
header('Variable-AUTH_TOKEN: t0k');
echo "ok\n";
`

func phpReq(fpm *fcgitest.PHPFPMServer, script, method, query string) *Request {
	return &Request{Params: Params{
		{Name: "SCRIPT_FILENAME", Value: fpm.Script(script)},
		{Name: "SCRIPT_NAME", Value: "/" + script},
		{Name: "REQUEST_METHOD", Value: method},
		{Name: "QUERY_STRING", Value: query},
		{Name: "SERVER_PROTOCOL", Value: "HTTP/1.1"},
	}}
}

func TestEnginePHPFPM(t *testing.T) {
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenUnix,
		Scripts: map[string]string{"auth.php": authScript}})
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})
	target := "unix:" + fpm.Addr

	t.Run("GET", func(t *testing.T) {
		x := sendOK(t, e, target, phpReq(fpm, "hello.php", "GET", ""))
		if r := x.Response(); r == nil || r.Status != 200 || string(r.Body) != "hello" {
			t.Fatalf("response %+v, warnings %q", r, x.Warnings())
		}
		if ct, _ := x.Response().Get("Content-type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("Content-Type = %q", ct)
		}
	})
	t.Run("POST", func(t *testing.T) {
		body := bytes.Repeat([]byte("post body "), 20000) // several STDIN records
		req := phpReq(fpm, "post.php", "POST", "")
		req.Params.Add("CONTENT_LENGTH", "200000", "test")
		req.Params.Add("CONTENT_TYPE", "application/octet-stream", "test")
		req.Body = bytes.NewReader(body)
		x := sendOK(t, e, target, req)
		if got := string(x.Response().Body); got != fcgitest.PostDigest(body) {
			t.Errorf("post.php answered %q, want %q", got, fcgitest.PostDigest(body))
		}
		if !bytes.Equal(x.Stdin(), body) {
			t.Error("the captured STDIN differs from the body")
		}
	})
	t.Run("stderr", func(t *testing.T) {
		x := sendOK(t, e, target, phpReq(fpm, "stderr.php", "GET", ""))
		if !strings.Contains(string(x.Stderr()), fcgitest.StderrText) || string(x.Response().Body) != "ok" {
			t.Errorf("stderr %q, body %q", x.Stderr(), x.Response().Body)
		}
	})
	t.Run("404 primary script unknown", func(t *testing.T) {
		req := phpReq(fpm, "missing.php", "GET", "")
		x := sendOK(t, e, target, req)
		if r := x.Response(); r == nil || r.Status != 404 {
			t.Errorf("response %+v", r)
		}
		if !strings.Contains(string(x.Stderr()), "Primary script unknown") {
			t.Errorf("stderr %q", x.Stderr())
		}
	})
	t.Run("status and cookies", func(t *testing.T) {
		x := sendOK(t, e, target, phpReq(fpm, "status.php", "GET", "code=503"))
		r := x.Response()
		if r.Status != 503 || strings.Join(r.Values("Set-Cookie"), "|") != "a=1|b=2" {
			t.Errorf("status %d, cookies %q", r.Status, r.Values("Set-Cookie"))
		}
	})
	t.Run("unknown role closes the connection", func(t *testing.T) {
		req := phpReq(fpm, "hello.php", "GET", "")
		req.Role = fcgi.Role(9)
		x := NewExchange(Input{})
		err := e.Send(context.Background(), target, req, x)
		if !errors.Is(err, fcgi.ErrConnClosed) || !strings.Contains(x.ErrorText(), "connection closed before END_REQUEST") {
			t.Errorf("err = %v, ErrorText %q", err, x.ErrorText())
		}
		if x.Len() == 0 || x.Records()[0].Type != fcgi.TypeBeginRequest || x.Response() != nil {
			t.Errorf("%d records kept, response %v", x.Len(), x.Response())
		}
	})
	t.Run("authorizer", func(t *testing.T) {
		auth := phpReq(fpm, "auth.php", "GET", "")
		auth.Params.Add("HTTP_AUTHORIZATION", "Basic eDp5", "test")
		authX, nextX, err := e.Authorize(context.Background(), target, auth, phpReq(fpm, "echo.php", "GET", ""))
		if err != nil {
			t.Fatal(err)
		}
		if authX.Response().Status != 200 || nextX == nil {
			t.Fatalf("authorizer answered %d %q", authX.Response().Status, authX.Response().Body)
		}
		echo, err := fcgitest.ParseEcho(nextX.Response().Body)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := echo.Param("AUTH_USER"); v != "x" {
			t.Errorf("$_SERVER[AUTH_USER] = %q, want x", v)
		}
		if v, _ := echo.Param("AUTH_TOKEN"); v != "t0k" {
			t.Errorf("$_SERVER[AUTH_TOKEN] = %q, want t0k", v)
		}
		if _, ok := echo.Param("HTTP_VARIABLE_AUTH_USER"); ok {
			t.Error("Variable-AUTH_USER reached the responder as an HTTP header")
		}

		authX, nextX, err = e.Authorize(context.Background(), target, phpReq(fpm, "auth.php", "GET", ""),
			phpReq(fpm, "echo.php", "GET", ""))
		if err != nil || nextX != nil || authX.Response().Status != 401 {
			t.Errorf("denied: err %v, next %v, status %d", err, nextX, authX.Response().Status)
		}
	})
}

// TestEngineKeepsCutRecordOnce sends to a backend whose STDOUT record claims
// more content than it sends before closing: the bytes that arrived are kept
// as one partial record, not twice.
func TestEngineKeepsCutRecordOnce(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})
	x := NewExchange(Input{})
	err := e.Send(context.Background(), addr, demoReq("/misbehave/short-content", ""), x)
	if !errors.Is(err, fcgi.ErrProtocol) {
		t.Fatalf("Send error = %v, want ErrProtocol", err)
	}
	var partial []RecordInfo
	for _, r := range x.Records() {
		if r.Partial {
			partial = append(partial, r)
		}
	}
	if len(partial) != 1 {
		t.Fatalf("%d partial records, want 1: %+v", len(partial), partial)
	}
	if p := partial[0]; p.Type != fcgi.TypeStdout || p.ContentLength != 100 || len(x.RecordRaw(p.Index)) != fcgi.HeaderLen+10 {
		t.Errorf("partial record %+v with %d raw bytes", p, len(x.RecordRaw(p.Index)))
	}
	if n := len(Anomalies(x)); n != 1 {
		t.Errorf("%d anomalies, want 1: %+v", n, Anomalies(x))
	}
}
