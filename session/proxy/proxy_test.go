package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fcgiscope/session"
	"fcgiscope/session/sessiontest"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

func TestProxyPHPFPM(t *testing.T) {
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	sessiontest.NoLeaks(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	p := New(e, fpm.Addr, HTTPBuilder(fpm.DocRoot))
	dir := t.TempDir()
	var logged []error
	// Secrets kept: compare the recorded bytes exactly; redaction is TestProxyRecordRedacts'.
	rec := session.NewRecorder(session.RecorderOptions{Dir: dir, Secrets: true, ErrorLog: func(err error) { logged = append(logged, err) }})
	defer rec.Close()
	p.Recorder = rec
	sub, unsubscribe := p.Subscribe()
	defer unsubscribe()

	srv := httptest.NewServer(p)
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer client.CloseIdleConnections()

	do := func(method, path string, body []byte) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body == nil {
			req.Body = nil
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	resp, body := do("GET", "/hello.php", nil)
	if resp.StatusCode != 200 || body != "hello" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("hello.php: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	resp, body = do("GET", "/status.php?code=404", nil)
	if resp.StatusCode != 404 || body != "status 404\n" || !slices.Equal(resp.Header.Values("Set-Cookie"), []string{"a=1", "b=2"}) {
		t.Errorf("status.php: %d %q %v", resp.StatusCode, body, resp.Header)
	}

	post := bytes.Repeat([]byte("x"), 100000)
	resp, body = do("POST", "/post.php", post)
	if resp.StatusCode != 200 || body != fcgitest.PostDigest(post) {
		t.Errorf("post.php: %d %q", resp.StatusCode, body)
	}

	resp, _ = do("GET", "/redirect.php", nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/hello.php" {
		t.Errorf("redirect.php: %d %v", resp.StatusCode, resp.Header)
	}

	resp, body = do("GET", "/echo.php/extra?q=1", nil)
	echo, err := fcgitest.ParseEcho([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := echo.Param("PATH_INFO"); resp.StatusCode != 200 || v != "/extra" {
		t.Errorf("echo.php PATH_INFO = %q", v)
	}
	if v, _ := echo.Param("REMOTE_ADDR"); v != "127.0.0.1" {
		t.Errorf("REMOTE_ADDR = %q", v)
	}

	resp, body = do("GET", "/missing.php", nil)
	if resp.StatusCode != 404 {
		t.Errorf("missing.php: %d %q", resp.StatusCode, body)
	}

	resp, body = do("GET", "/no/such/dir/", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "no index.php") {
		t.Errorf("directory without index: %d %q", resp.StatusCode, body)
	}

	// Subscribers saw every exchange, in order, with the composed input.
	wantURLs := []string{"/hello.php", "/status.php?code=404", "/post.php", "/redirect.php", "/echo.php/extra?q=1",
		"/missing.php", "/no/such/dir/"}
	var got []*session.Exchange
	for range wantURLs {
		got = append(got, <-sub)
	}
	for i, x := range got {
		if x.Input.HTTP == nil || x.Input.HTTP.URL != wantURLs[i] || x.Input.Mode != session.ModeHTTP {
			t.Errorf("exchange %d: input %+v, want URL %s", i, x.Input.HTTP, wantURLs[i])
		}
		if i < 6 && (x.Response() == nil || x.Len() == 0) {
			t.Errorf("exchange %d has no response or records", i)
		}
	}
	if string(got[2].Stdin()) != string(post) {
		t.Error("the POST body is not in the exchange's STDIN")
	}
	if got[6].ErrorText() == "" || got[6].Len() != 0 {
		t.Errorf("the refused request: error %q, %d records", got[6].ErrorText(), got[6].Len())
	}

	// The recording directory holds one JSON file per exchange, no temporary files.
	rec.Flush()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(wantURLs) || len(logged) != 0 {
		t.Fatalf("%d files in the recording directory, want %d (errors %v)", len(entries), len(wantURLs), logged)
	}
	for i, ent := range entries { // names sort by start time, then sequence
		if !strings.HasSuffix(ent.Name(), ".json") {
			t.Errorf("unexpected file %s", ent.Name())
			continue
		}
		x, err := session.LoadExchangeFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if x.Input.HTTP.URL != wantURLs[i] || !bytes.Equal(x.Stdout(), got[i].Stdout()) || x.Len() != got[i].Len() {
			t.Errorf("%s does not hold exchange %d", ent.Name(), i)
		}
	}
}

// TestProxyRecordRedacts: by default a recorded exchange keeps no cookie or
// authorization value, and still loads.
func TestProxyRecordRedacts(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	e := sessiontest.Engine(t, session.EngineOptions{})
	p := New(e, addr, HTTPBuilder("/srv"))
	dir := t.TempDir()
	rec := session.NewRecorder(session.RecorderOptions{Dir: dir})
	defer rec.Close()
	p.Recorder = rec
	srv := httptest.NewServer(p)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/echo", nil)
	req.Header.Set("Cookie", "session=s3cr3t-value")
	req.Header.Set("Authorization", "Bearer t0ken-value")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte("s3cr3t-value")) {
		t.Fatalf("the backend did not get the cookie: %s", body)
	}
	rec.Flush()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("recorded %v", files)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	x, err := session.LoadExchangeFile(files[0])
	if err != nil {
		t.Fatalf("redacted recording does not load: %v", err)
	}
	// The response body is the application's data and stays as it was;
	// params, the raw PARAMS records and the composed input must not hold
	// the secrets.
	for _, secret := range []string{"s3cr3t-value", "t0ken-value"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("recorded file holds %q in plain text", secret)
		}
		for _, ps := range x.Params() {
			if strings.Contains(ps.Value, secret) {
				t.Errorf("recorded param %s = %q", ps.Name, ps.Value)
			}
		}
		for _, r := range x.Records() {
			if r.Dir == fcgi.Sent && bytes.Contains(x.RecordRaw(r.Index), []byte(secret)) {
				t.Errorf("recorded %s record %d holds %q", r.Type, r.Index, secret)
			}
		}
	}
	if v, _ := x.Params().Get("HTTP_COOKIE"); v == "" {
		t.Error("HTTP_COOKIE was dropped instead of redacted")
	}
}

func TestProxyBackendDown(t *testing.T) {
	sessiontest.NoLeaks(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	p := New(sessiontest.Engine(t, session.EngineOptions{}), dead, HTTPBuilder(t.TempDir()))
	sub, unsubscribe := p.Subscribe()
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest("GET", "/index.php", nil))
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "cannot connect") {
		t.Errorf("backend down: %d %q", rec.Code, rec.Body)
	}
	if x := <-sub; x.ErrorText() == "" {
		t.Error("the failed exchange was not published with its error")
	}
	unsubscribe()
	unsubscribe()
	if _, ok := <-sub; ok {
		t.Error("the channel is open after unsubscribing")
	}
	// Without subscribers nothing blocks.
	p.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/index.php", nil))
}

func TestProxySlowSubscriberDoesNotBlock(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	p := New(sessiontest.Engine(t, session.EngineOptions{}), addr, func(r *http.Request) (*session.Request, error) {
		return demoReq(r.URL.Path, r.URL.RawQuery), nil
	})
	_, unsubscribe := p.Subscribe() // never read
	defer unsubscribe()
	for range subBuffer + 3 {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/status?code=201", nil))
		if rec.Code != 201 {
			t.Fatalf("status %d", rec.Code)
		}
	}
	if d := p.Dropped(); d != 3 {
		t.Errorf("Dropped = %d, want 3", d)
	}
}

func TestProxyListenAndServe(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	p := New(sessiontest.Engine(t, session.EngineOptions{}), addr, func(r *http.Request) (*session.Request, error) {
		return demoReq(r.URL.Path, r.URL.RawQuery), nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- p.ListenAndServe(ctx, ":0", func(a net.Addr) { ready <- a }) }()
	var la net.Addr
	select {
	case la = <-ready:
	case err := <-done:
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(la.String()); host != "127.0.0.1" {
		t.Errorf("listening on %s, want loopback only", la)
	}
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get("http://" + la.String() + "/status?code=202")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()
	if resp.StatusCode != 202 {
		t.Errorf("status %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ListenAndServe after cancel: %v", err)
	}
}

func TestProxyListenAddr(t *testing.T) {
	for in, want := range map[string]string{
		"":               DefaultAddr,
		":9000":          "127.0.0.1:9000",
		"0.0.0.0:80":     "0.0.0.0:80",
		"[::1]:8080":     "[::1]:8080",
		"localhost:8081": "localhost:8081",
	} {
		if got := ListenAddr(in); got != want {
			t.Errorf("ListenAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestProxyRecordKeeps: a proxy recording with KeepFiles keeps the newest
// exchanges only (the bounds themselves are session's TestRecorderKeeps).
func TestProxyRecordKeeps(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	sessiontest.NoLeaks(t)
	p := New(sessiontest.Engine(t, session.EngineOptions{}), addr, func(r *http.Request) (*session.Request, error) {
		return demoReq(r.URL.Path, r.URL.RawQuery), nil
	})
	dir := t.TempDir()
	p.Recorder = session.NewRecorder(session.RecorderOptions{Dir: dir, KeepFiles: 3})
	for i := range 10 {
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/status?code="+strconv.Itoa(200+i), nil))
		if rec.Code != 200+i {
			t.Fatalf("status %d", rec.Code)
		}
	}
	p.Recorder.Close()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(names) != 3 {
		t.Fatalf("KeepFiles 3 kept %q (%v)", names, err)
	}
	for i, name := range names { // sorted: by start time, then sequence
		x, err := session.LoadExchangeFile(name)
		if err != nil || x.Response() == nil || x.Response().Status != 207+i {
			t.Errorf("kept %s (%v), want the newest, status %d", filepath.Base(name), err, 207+i)
		}
	}
}

// TestListensOnLoopback: the recording proxy listens on loopback unless a
// non-loopback address is named explicitly (the command line's side is
// ui/cli's TestProxyCommandListensOnLoopback).
func TestListensOnLoopback(t *testing.T) {
	sessiontest.NoLeaks(t)
	for in, want := range map[string]string{"": DefaultAddr, ":0": "127.0.0.1:0", ":8080": "127.0.0.1:8080"} {
		if got := ListenAddr(in); got != want {
			t.Errorf("ListenAddr(%q) = %q, want %q", in, got, want)
		}
	}
	if host, _, _ := net.SplitHostPort(DefaultAddr); !net.ParseIP(host).IsLoopback() {
		t.Errorf("DefaultAddr %q is not loopback", DefaultAddr)
	}

	// The proxy itself, started with a port only.
	p := New(nil, "127.0.0.1:1", func(*http.Request) (*session.Request, error) { return nil, errors.New("unused") })
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- p.ListenAndServe(ctx, ":0", func(a net.Addr) { addrs <- a }) }()
	select {
	case a := <-addrs:
		if ip := a.(*net.TCPAddr).IP; !ip.IsLoopback() {
			t.Errorf("proxy listening on %v, not loopback", a)
		}
	case err := <-done:
		t.Fatalf("proxy: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("proxy stop: %v", err)
	}
}
