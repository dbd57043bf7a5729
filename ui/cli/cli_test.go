// Tests of the command line over real sockets: the demo backend in process,
// php-fpm through fcgitest.

package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result is what one command line produced.
type result struct {
	code           int
	stdout, stderr string
}

// run runs a command line with an empty environment (so FCGISCOPE_LOG_*
// of the machine do not leak in) and stdin as standard input.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut fcgitest.SyncBuffer
	r := &Runner{Stdout: &out, Stderr: &errOut, Stdin: strings.NewReader(stdin),
		Getenv: func(string) string { return "" }}
	code := r.Run(ctx, args)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// The JSON contract of send --json, decoded independently of session's types.
type cliOut struct {
	Target    string `json:"target"`
	Role      string `json:"role"`
	RequestID uint16 `json:"request_id"`
	Params    []pair `json:"params"`
	Records   []struct {
		Dir           string `json:"dir"`
		Type          string `json:"type"`
		TypeCode      uint8  `json:"type_code"`
		RequestID     uint16 `json:"request_id"`
		ContentLength uint16 `json:"content_length"`
		PaddingLength uint8  `json:"padding_length"`
		Offset        int64  `json:"offset"`
		TUS           int64  `json:"t_us"`
	} `json:"records"`
	StdoutB64  string `json:"stdout_b64"`
	Stderr     string `json:"stderr"`
	StderrB64  string `json:"stderr_b64"`
	EndRequest *struct {
		AppStatus      uint32 `json:"app_status"`
		ProtocolStatus string `json:"protocol_status"`
	} `json:"end_request"`
	Response *struct {
		Status  int    `json:"status"`
		Headers []pair `json:"headers"`
		BodyB64 string `json:"body_b64"`
	} `json:"response"`
	Warnings  []string `json:"warnings"`
	TimingsUS struct {
		Connect   int64 `json:"connect"`
		FirstByte int64 `json:"first_byte"`
		Total     int64 `json:"total"`
	} `json:"timings_us"`
	Error *string `json:"error"`
}

type pair struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// decodeOut decodes the single JSON object send --json prints, refusing
// unknown fields only in the sense that every known field must be present.
func decodeOut(t *testing.T, stdout string) cliOut {
	t.Helper()
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &raw); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	for _, k := range []string{"target", "role", "request_id", "params", "records", "stdout_b64", "stderr",
		"stderr_b64", "end_request", "response", "warnings", "timings_us", "error"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("JSON lacks field %q", k)
		}
	}
	var out cliOut
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("decoding JSON: %v", err)
	}
	return out
}

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

func TestSendRawToDemoJSON(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	stdinFile := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(stdinFile, []byte("hello stdin"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "send", "--addr", addr, "--json",
		"--param", "SCRIPT_NAME=/echo", "--param", "A=1", "--param", "B=two words", "--param", "A=3",
		"--param", "EMPTY=", "--stdin-file", stdinFile)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	out := decodeOut(t, r.stdout)
	want := []pair{{"SCRIPT_NAME", "/echo"}, {"A", "1"}, {"B", "two words"}, {"A", "3"}, {"EMPTY", ""}}
	if !equalPairs(out.Params, want) {
		t.Errorf("params = %v, want %v", out.Params, want)
	}
	if out.Target != addr || out.Role != "RESPONDER" || out.RequestID == 0 || out.Error != nil {
		t.Errorf("target %q role %q id %d error %v", out.Target, out.Role, out.RequestID, out.Error)
	}
	if n := len(out.Records); n < 6 {
		t.Fatalf("%d records, want at least BEGIN, PARAMS, PARAMS, STDIN, STDIN, STDOUT, END", n)
	}
	first, last := out.Records[0], out.Records[len(out.Records)-1]
	if first.Dir != "sent" || first.Type != "BEGIN_REQUEST" || first.TypeCode != 1 || first.ContentLength != 8 || first.Offset != 0 {
		t.Errorf("first record = %+v", first)
	}
	if last.Dir != "received" || last.Type != "END_REQUEST" || last.TypeCode != 3 || last.RequestID != out.RequestID {
		t.Errorf("last record = %+v", last)
	}
	if out.EndRequest == nil || out.EndRequest.ProtocolStatus != "REQUEST_COMPLETE" || out.EndRequest.AppStatus != 0 {
		t.Errorf("end_request = %+v", out.EndRequest)
	}
	if out.Response == nil || out.Response.Status != 200 {
		t.Fatalf("response = %+v", out.Response)
	}
	// The backend saw the params in order, the duplicate included, and the stdin file.
	var echo struct {
		Params []pair  `json:"params"`
		Stdin  *string `json:"stdin"`
	}
	if err := json.Unmarshal(b64(t, out.Response.BodyB64), &echo); err != nil {
		t.Fatalf("echo body: %v", err)
	}
	if !equalPairs(echo.Params, want) {
		t.Errorf("backend saw params %v, want %v", echo.Params, want)
	}
	if echo.Stdin == nil || *echo.Stdin != "hello stdin" {
		t.Errorf("backend saw stdin %v", echo.Stdin)
	}
	if !bytes.Contains(b64(t, out.StdoutB64), b64(t, out.Response.BodyB64)) {
		t.Error("stdout_b64 does not hold the response body")
	}
	if out.TimingsUS.Total <= 0 || out.TimingsUS.Total < out.TimingsUS.FirstByte {
		t.Errorf("timings = %+v", out.TimingsUS)
	}
}

func equalPairs(a, b []pair) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSendRawReport(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "send", "--addr", addr, "--param", "SCRIPT_NAME=/stderr", "--param", "QUERY_STRING=lines=2&app_status=7")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"target      " + addr,
		"params sent (2)",
		"SCRIPT_NAME",
		"BEGIN_REQUEST",
		"STDERR",
		"END_REQUEST app status 7, REQUEST_COMPLETE",
		"200 OK",
		"wrote 2 lines to STDERR, app status 7",
		"demo: stderr line 2 of 2",
		"timings     connect ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.stderr != "" {
		t.Errorf("stderr at the default level should be empty, got:\n%s", r.stderr)
	}
}

func TestSendBinaryBodyHint(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "send", "--addr", addr, "--param", "SCRIPT_NAME=/image")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "bytes of binary data (use --json") || strings.Contains(r.stdout, "\x89PNG") {
		t.Errorf("binary body not replaced by its size and a hint:\n%s", r.stdout)
	}
}

func TestSendRefused(t *testing.T) {
	addr := fcgitest.RefusedAddr(t, "tcp")
	for _, asJSON := range []bool{true, false} {
		args := []string{"send", "--addr", addr, "--param", "SCRIPT_NAME=/echo"}
		if asJSON {
			args = append(args, "--json")
		}
		r := run(t, "", args...)
		if r.code != ExitFailure {
			t.Fatalf("json=%v: exit %d, want %d; stderr:\n%s", asJSON, r.code, ExitFailure, r.stderr)
		}
		// Said once (issue 13, defect 7): by the report, or on stderr
		// beside the JSON; "cannot connect" and the address once each.
		said := r.stderr
		if !asJSON {
			_, said, _ = strings.Cut(r.stdout, "\nerror: ")
			said, _, _ = strings.Cut(said, "\n")
			if r.stderr != "" {
				t.Errorf("stderr repeats what the report says:\n%s", r.stderr)
			}
			if !strings.Contains(r.stdout, "END_REQUEST not received") || !strings.Contains(r.stdout, "error: ") ||
				!strings.Contains(r.stdout, "request id - (nothing sent)") {
				t.Errorf("report:\n%s", r.stdout)
			}
		}
		if strings.Count(said, "cannot connect") != 1 || strings.Count(said, addr) != 1 || !strings.Contains(said, "connection refused") {
			t.Errorf("json=%v: the failure is not said once:\n%s", asJSON, said)
		}
		if !asJSON {
			continue
		}
		out := decodeOut(t, r.stdout)
		if out.Error == nil || !strings.Contains(*out.Error, "cannot connect") {
			t.Errorf("JSON error = %v", out.Error)
		}
		if out.EndRequest != nil || out.Response != nil || len(out.Records) != 0 {
			t.Errorf("nothing should have been exchanged: %+v", out)
		}
		if !equalPairs(out.Params, []pair{{"SCRIPT_NAME", "/echo"}}) {
			t.Errorf("params = %v", out.Params)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"no subcommand", nil, "no subcommand"},
		{"unknown subcommand", []string{"sned"}, `unknown subcommand "sned"`},
		{"unknown flag", []string{"send", "--addr", "x:1", "--nope"}, "flag provided but not defined: -nope"},
		{"missing addr", []string{"send", "--param", "A=1"}, "--addr is required"},
		{"bad addr", []string{"send", "--addr", "localhost"}, "--addr"},
		{"bad param", []string{"send", "--addr", "127.0.0.1:1", "--param", "NOEQUALS"}, `--param "NOEQUALS": want NAME=VALUE`},
		{"empty param name", []string{"send", "--addr", "127.0.0.1:1", "--param", "=v"}, "want NAME=VALUE"},
		{"body and body-file", []string{"send", "--addr", "127.0.0.1:1", "--url", "/", "--body", "x", "--body-file", "f"}, "--body and --body-file are exclusive"},
		{"http flag in raw mode", []string{"send", "--addr", "127.0.0.1:1", "--method", "POST"}, "--method needs HTTP mode"},
		{"stdin-file in HTTP mode", []string{"send", "--addr", "127.0.0.1:1", "--url", "/", "--stdin-file", "f"}, "--stdin-file is for raw mode"},
		{"bad header", []string{"send", "--addr", "127.0.0.1:1", "--url", "/", "--header", "NoColon"}, "want 'Name: value'"},
		{"bad role", []string{"send", "--addr", "127.0.0.1:1", "--role", "boss"}, `--role "boss"`},
		{"missing stdin file", []string{"send", "--addr", "127.0.0.1:1", "--stdin-file", "/nonexistent/x"}, "--stdin-file"},
		{"positional", []string{"send", "--addr", "127.0.0.1:1", "extra"}, `unexpected argument "extra"`},
		{"bad log level", []string{"send", "--addr", "127.0.0.1:1", "--log-level", "loud"}, "--log-level"},
		{"bad log format", []string{"values", "--addr", "127.0.0.1:1", "--log-format", "xml"}, "--log-format"},
		{"values without addr", []string{"values"}, "--addr is required"},
		{"proxy without docroot", []string{"proxy", "--addr", "127.0.0.1:1"}, "--docroot is required"},
		{"backend bad listen", []string{"backend", "--listen", "nowhere"}, "--listen"},
		{"help of unknown", []string{"help", "nope"}, `unknown subcommand "nope"`},
		{"unknown profile", []string{"send", "--addr", "127.0.0.1:1", "--url", "/", "--profile", "iis"}, `--profile "iis": want one of nginx, apache, caddy, lighttpd`},
		{"unknown variant", []string{"send", "--addr", "127.0.0.1:1", "--url", "/", "--profile", "apache/tcp"}, "apache/fpm, apache/generic"},
		{"profile in raw mode", []string{"send", "--addr", "127.0.0.1:1", "--profile", "apache"}, "--profile needs HTTP mode"},
		{"profile without docroot", []string{"send", "--addr", "127.0.0.1:1", "--url", "/x.php", "--profile", "caddy"}, "--profile caddy needs --docroot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, "", tt.args...)
			if r.code != ExitUsage {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitUsage, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("nothing should reach stdout, got:\n%s", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		r := run(t, "", args...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d", args, r.code)
		}
		for _, want := range []string{"fcgiscope send", "fcgiscope values", "fcgiscope proxy", "fcgiscope backend",
			"-stdin-file", "-log-secrets", "-record", "-listen"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: help lacks %q", args, want)
			}
		}
	}
	r := run(t, "", "send", "-h")
	if r.code != ExitOK || !strings.Contains(r.stdout, "-body-file") || strings.Contains(r.stdout, "fcgiscope proxy") ||
		!strings.Contains(r.stdout, "-preset file") || !strings.Contains(r.stdout, "-env-file file") ||
		!strings.Contains(r.stdout, "--header replaces the preset's") {
		t.Errorf("send -h: exit %d\n%s", r.code, r.stdout)
	}
	for _, name := range []string{"send", "values", "proxy", "backend", "help", "-h"} {
		if !IsCommand(name) {
			t.Errorf("IsCommand(%q) = false", name)
		}
	}
	if IsCommand("-log-level") || IsCommand("") {
		t.Error("IsCommand accepts a non-command")
	}
}

func TestValuesDemo(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "values", "--addr", addr)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"FCGI_MAX_CONNS=16\n", "FCGI_MAX_REQS=64\n", "FCGI_MPXS_CONNS=1\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("values output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestValuesRefused(t *testing.T) {
	r := run(t, "", "values", "--addr", fcgitest.RefusedAddr(t, "tcp"), "--json")
	if r.code != ExitFailure {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	var out struct {
		Values []pair  `json:"values"`
		Error  *string `json:"error"`
		Target string  `json:"target"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if out.Error == nil || !strings.Contains(*out.Error, "cannot connect") || len(out.Values) != 0 {
		t.Errorf("values JSON = %+v", out)
	}
}

func TestValuesPHPFPM(t *testing.T) {
	srv := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	r := run(t, "", "values", "--addr", srv.Addr, "--json")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	var out struct {
		Target string  `json:"target"`
		Values []pair  `json:"values"`
		Error  *string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if out.Error != nil || !equalPairs(out.Values, []pair{{"FCGI_MPXS_CONNS", "0"}}) {
		t.Errorf("values JSON = %+v", out)
	}
}

// runAsync runs a long-running command line (proxy, backend) until the
// returned stop function is called, and returns the address it listens on.
func runAsync(t *testing.T, args ...string) (addr string, stderr *fcgitest.SyncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &fcgitest.SyncBuffer{}
	listening := make(chan string, 1)
	r := &Runner{Stdout: &fcgitest.SyncBuffer{}, Stderr: stderr, Getenv: func(string) string { return "" },
		Listening: func(a string) { listening <- a }}
	done := make(chan int, 1)
	go func() { done <- r.Run(ctx, args) }()
	select {
	case addr = <-listening:
	case code := <-done:
		cancel()
		t.Fatalf("%v exited with %d before listening:\n%s", args, code, stderr)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatalf("%v did not listen:\n%s", args, stderr)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel()
			code = <-done
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return addr, stderr, stop
}

func TestBackendSubcommand(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			listen := "127.0.0.1:0"
			if network == "unix" {
				listen = "unix:" + filepath.Join(t.TempDir(), "b.sock")
			}
			addr, stderr, stop := runAsync(t, "backend", "--listen", listen, "--log-level", "debug")
			if network == "unix" && addr != listen {
				t.Errorf("listening on %q, want %q", addr, listen)
			}
			r := run(t, "", "send", "--addr", addr, "--json", "--param", "SCRIPT_NAME=/echo", "--param", "X=y")
			if r.code != ExitOK {
				t.Fatalf("send: exit %d\n%s", r.code, r.stderr)
			}
			out := decodeOut(t, r.stdout)
			if out.Response == nil || !strings.Contains(string(b64(t, out.Response.BodyB64)), `"name": "X"`) {
				t.Errorf("response = %+v", out.Response)
			}
			if code := stop(); code != ExitOK {
				t.Errorf("backend exit %d", code)
			}
			logs := stderr.String()
			for _, want := range []string{"listening", addr, "type=BEGIN_REQUEST", "dir=received", "type=END_REQUEST", "dir=sent"} {
				if !strings.Contains(logs, want) {
					t.Errorf("backend logs lack %q:\n%s", want, logs)
				}
			}
			if network == "unix" {
				if _, err := os.Stat(strings.TrimPrefix(addr, "unix:")); !os.IsNotExist(err) {
					t.Errorf("socket file left behind: %v", err)
				}
			}
		})
	}
}

func TestBackendListenTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	r := run(t, "", "backend", "--listen", l.Addr().String())
	if r.code != ExitFailure || !strings.Contains(r.stderr, "address already in use") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestDebugTraceAndRedaction(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	const cookie, token = "sid=c00k1e-s3cr3t", "t0k3n-s3cr3t"
	args := []string{"send", "--addr", addr, "--log-level", "debug",
		"--param", "SCRIPT_NAME=/echo", "--param", "HTTP_COOKIE=" + cookie, "--param", "HTTP_AUTHORIZATION=Bearer " + token,
		"--param", "VISIBLE=plain-value"}
	r := run(t, "", args...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, secret := range []string{cookie, token} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("logs show the secret %q:\n%s", secret, r.stderr)
		}
		if !strings.Contains(r.stdout, secret) {
			t.Errorf("the report (not a log) should show %q", secret)
		}
	}
	for _, want := range []string{session.Redacted, "plain-value", "msg=record", "type=BEGIN_REQUEST", "type=PARAMS", "type=END_REQUEST",
		"dir=sent", "dir=received", "id=1", "len=8"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("debug logs lack %q:\n%s", want, r.stderr)
		}
	}

	r = run(t, "", append(args, "--log-secrets", "--log-format", "json")...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, secret := range []string{cookie, token} {
		if !strings.Contains(r.stderr, secret) {
			t.Errorf("--log-secrets: logs lack %q", secret)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("--log-format json: line is not JSON: %q", line)
		}
	}
}

func TestApplyUserParams(t *testing.T) {
	mapped := session.Params{{Name: "A", Value: "a", Origin: "http"}, {Name: "B", Value: "b", Origin: "http"}}
	user := []session.Param{{Name: "B", Value: "1", Origin: session.OriginUser}, {Name: "C", Value: "2", Origin: session.OriginUser},
		{Name: "B", Value: "3", Origin: session.OriginUser}, {Name: "C", Value: "4", Origin: session.OriginUser}}
	got := append(session.Params(nil), mapped...)
	applyUserParams(&got, user, true)
	want := session.Params{{Name: "A", Value: "a", Origin: "http"}, {Name: "B", Value: "1", Origin: session.OriginUser},
		{Name: "C", Value: "2", Origin: session.OriginUser}, {Name: "B", Value: "3", Origin: session.OriginUser}, {Name: "C", Value: "4", Origin: session.OriginUser}}
	if !equalParams(got, want) {
		t.Errorf("HTTP mode: got %v, want %v", got, want)
	}
	got = nil
	applyUserParams(&got, user, false)
	if !equalParams(got, session.Params(user)) {
		t.Errorf("raw mode: got %v, want %v", got, user)
	}
}

func equalParams(a, b session.Params) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRedactor(t *testing.T) {
	hide, show := redactor{}, redactor{secrets: true}
	if got := hide.header("cookie", "a=1"); got != session.Redacted {
		t.Errorf("cookie header logged as %q", got)
	}
	if got := hide.param("HTTP_AUTHORIZATION", "Basic x"); got != session.Redacted {
		t.Errorf("HTTP_AUTHORIZATION logged as %q", got)
	}
	if got := hide.param("HTTP_HOST", "h"); got != "h" {
		t.Errorf("HTTP_HOST logged as %q", got)
	}
	if got := show.header("Authorization", "Basic x"); got != "Basic x" {
		t.Errorf("--log-secrets: Authorization logged as %q", got)
	}
}

func TestParseRole(t *testing.T) {
	for in, want := range map[string]uint16{"responder": 1, "AUTHORIZER": 2, "filter": 3, "7": 7} {
		got, err := parseRole(in)
		if err != nil || uint16(got) != want {
			t.Errorf("parseRole(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "0", "65536", "-1", "boss"} {
		if _, err := parseRole(in); err == nil {
			t.Errorf("parseRole(%q) accepted", in)
		}
	}
}

// echoPHP is what fcgitest's echo.php prints.
type echoPHP struct {
	Server map[string]any    `json:"server"`
	Stdin  string            `json:"stdin"`
	Get    map[string]string `json:"get"`
	Post   map[string]string `json:"post"`
	Cookie map[string]string `json:"cookie"`
}

func TestSendHTTPToPHPFPM(t *testing.T) {
	srv := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	const body = "a=1&b=two+words"
	r := run(t, "", "send", "--addr", srv.Addr, "--json", "--docroot", srv.DocRoot,
		"--url", "/echo.php?q=1", "--method", "POST", "--body", body,
		"--header", "Content-Type: application/x-www-form-urlencoded", "--header", "Cookie: c=3",
		"--remote-addr", "192.0.2.7:4444", "--server-name", "example.test", "--https")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	out := decodeOut(t, r.stdout)
	if out.Response == nil || out.Response.Status != 200 {
		t.Fatalf("response = %+v, error %v", out.Response, out.Error)
	}
	var echo echoPHP
	if err := json.Unmarshal(b64(t, out.Response.BodyB64), &echo); err != nil {
		t.Fatalf("echo.php body: %v\n%s", err, b64(t, out.Response.BodyB64))
	}
	if string(b64(t, echo.Stdin)) != body || echo.Post["a"] != "1" || echo.Post["b"] != "two words" ||
		echo.Get["q"] != "1" || echo.Cookie["c"] != "3" {
		t.Errorf("php saw stdin %q post %v get %v cookie %v", b64(t, echo.Stdin), echo.Post, echo.Get, echo.Cookie)
	}
	for name, want := range map[string]string{
		"SCRIPT_FILENAME": srv.Script("echo.php"), "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "15",
		"REMOTE_ADDR": "192.0.2.7", "REMOTE_PORT": "4444", "SERVER_NAME": "example.test", "HTTPS": "on",
		"SERVER_PORT": "443", "REQUEST_URI": "/echo.php?q=1",
	} {
		if got := echo.Server[name]; got != want {
			t.Errorf("$_SERVER[%s] = %v, want %q", name, got, want)
		}
	}
	if out.EndRequest == nil || out.EndRequest.ProtocolStatus != "REQUEST_COMPLETE" {
		t.Errorf("end_request = %+v", out.EndRequest)
	}
}

func TestSendHTTPToDemoWithOverrides(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "send", "--addr", addr, "--json", "--url", "http://example.test:8081/echo?x=1",
		"--param", "QUERY_STRING=y=2", "--param", "EXTRA=1", "--param", "EXTRA=2")
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	out := decodeOut(t, r.stdout)
	get := func(name string) []string {
		var vs []string
		for _, p := range out.Params {
			if p.Name == name {
				vs = append(vs, p.Value)
			}
		}
		return vs
	}
	if out.Params[0].Name != "QUERY_STRING" || out.Params[0].Value != "y=2" {
		t.Errorf("QUERY_STRING not overridden in place: %v", out.Params)
	}
	n := len(out.Params)
	if n < 3 || out.Params[n-2] != (pair{"EXTRA", "1"}) || out.Params[n-1] != (pair{"EXTRA", "2"}) {
		t.Errorf("new params not appended in order: %v", out.Params)
	}
	for name, want := range map[string]string{"SERVER_NAME": "example.test", "SERVER_PORT": "8081",
		"HTTP_HOST": "example.test", "DOCUMENT_URI": "/echo", "REQUEST_METHOD": "GET"} {
		if vs := get(name); len(vs) != 1 || vs[0] != want {
			t.Errorf("%s = %v, want %q", name, vs, want)
		}
	}
	if vs := get("SCRIPT_FILENAME"); len(vs) != 0 {
		t.Errorf("without --docroot SCRIPT_FILENAME should not be set: %v", vs)
	}
	if out.Response == nil || out.Response.Status != 200 || !strings.Contains(string(b64(t, out.Response.BodyB64)), `"value": "y=2"`) {
		t.Errorf("response = %+v", out.Response)
	}
}

func TestSendHTTPRefusedRequest(t *testing.T) {
	r := run(t, "", "send", "--addr", "127.0.0.1:1", "--docroot", "/srv", "--url", "/../etc/passwd")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "composing the HTTP request") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestSendFilterWithDataFile(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	data := filepath.Join(t.TempDir(), "data.txt")
	if err := os.WriteFile(data, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "send", "--addr", addr, "--json", "--url", "/echo", "--role", "filter", "--data-file", data)
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	out := decodeOut(t, r.stdout)
	if out.Role != "FILTER" {
		t.Errorf("role %q", out.Role)
	}
	var sawData, sawLen bool
	for _, rec := range out.Records {
		sawData = sawData || rec.Type == "DATA" && rec.ContentLength == 10
	}
	for _, p := range out.Params {
		sawLen = sawLen || p == pair{"FCGI_DATA_LENGTH", "10"}
	}
	if !sawData || !sawLen {
		t.Errorf("DATA record %v, FCGI_DATA_LENGTH %v: %+v", sawData, sawLen, out)
	}
	if out.Response == nil || !strings.Contains(string(b64(t, out.Response.BodyB64)), `"data_length": 10`) {
		t.Errorf("response = %+v", out.Response)
	}
}

func TestSendHTTPRedactsHeaders(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	const secret = "sess10n-s3cr3t"
	r := run(t, "", "send", "--addr", addr, "--url", "/echo", "--log-level", "debug",
		"--header", "Cookie: id="+secret, "--header", "Authorization: Basic "+secret)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, secret) {
		t.Errorf("logs show the cookie:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, `name=Cookie value="`+session.Redacted+`"`) ||
		!strings.Contains(r.stderr, `name=HTTP_COOKIE origin=headers value="`+session.Redacted+`"`) {
		t.Errorf("logs do not show the redacted header and param:\n%s", r.stderr)
	}
}

func TestProxyToPHPFPM(t *testing.T) {
	srv := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	dir := filepath.Join(t.TempDir(), "rec")
	addr, stderr, stop := runAsync(t, "proxy", "--listen", "127.0.0.1:0", "--addr", srv.Addr,
		"--docroot", srv.DocRoot, "--record", dir, "--log-level", "debug")

	const secret = "pr0xy-c00kie"
	req, err := http.NewRequest("GET", "http://"+addr+"/hello.php?x=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", "k="+secret)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(got) != "hello" {
		t.Fatalf("GET /hello.php: %d %q %v", resp.StatusCode, got, err)
	}
	if code := stop(); code != ExitOK {
		t.Errorf("proxy exit %d:\n%s", code, stderr)
	}

	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("recorded files %v, %v", files, err)
	}
	x, err := session.LoadExchangeFile(files[0])
	if err != nil {
		t.Fatalf("recorded exchange does not load: %v", err)
	}
	if r := x.Response(); r == nil || r.Status != 200 || string(r.Body) != "hello" {
		t.Errorf("recorded response %+v", r)
	}
	if v, _ := x.Params().Get("SCRIPT_FILENAME"); v != srv.Script("hello.php") {
		t.Errorf("recorded SCRIPT_FILENAME %q", v)
	}
	if x.End() == nil || x.Len() < 4 {
		t.Errorf("recorded %d records, END_REQUEST %v", x.Len(), x.End())
	}

	logs := stderr.String()
	for _, want := range []string{"listening", addr, "msg=exchange", "status=200", "url=\"/hello.php?x=1\"", "type=END_REQUEST"} {
		if !strings.Contains(logs, want) {
			t.Errorf("proxy logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, secret) || !strings.Contains(logs, `name=HTTP_COOKIE origin=headers value="`+session.Redacted+`"`) {
		t.Errorf("proxy logs must show HTTP_COOKIE redacted:\n%s", logs)
	}
	if strings.Contains(logs, "non-loopback") {
		t.Errorf("loopback listener warned:\n%s", logs)
	}
}

func TestProxyWarnsOnNonLoopback(t *testing.T) {
	_, stderr, stop := runAsync(t, "proxy", "--listen", "0.0.0.0:0", "--addr", "127.0.0.1:1", "--docroot", "/srv")
	if code := stop(); code != ExitOK {
		t.Errorf("exit %d", code)
	}
	if logs := stderr.String(); !strings.Contains(logs, "level=warning") || !strings.Contains(logs, "non-loopback") {
		t.Errorf("no loud warning:\n%s", logs)
	}
	for listen, want := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "localhost:80": true,
		"0.0.0.0:80": false, "[::]:80": false, "192.0.2.1:80": false, "example.com:80": false} {
		if got := isLoopback(listen); got != want {
			t.Errorf("isLoopback(%q) = %v", listen, got)
		}
	}
}

func TestSendReadsStandardInput(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	for _, args := range [][]string{
		{"--param", "SCRIPT_NAME=/echo", "--param", "CONTENT_LENGTH=9", "--stdin-file", "-"},
		{"--url", "/echo", "--body-file", "-"},
	} {
		r := run(t, "piped in!", append([]string{"send", "--addr", addr, "--json"}, args...)...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		out := decodeOut(t, r.stdout)
		if out.Response == nil || !strings.Contains(string(b64(t, out.Response.BodyB64)), `"stdin": "piped in!"`) {
			t.Errorf("%v: response %+v", args, out.Response)
		}
	}
}

func TestLogLevelFromEnvironment(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	var out, errOut fcgitest.SyncBuffer
	env := map[string]string{EnvLogLevel: "info", EnvLogFormat: "json"}
	r := &Runner{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	if code := r.Run(context.Background(), []string{"send", "--addr", addr, "--param", "SCRIPT_NAME=/echo"}); code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), `"msg":"sending"`) {
		t.Errorf("%s=info %s=json not applied:\n%s", EnvLogLevel, EnvLogFormat, errOut.String())
	}
	errOut = fcgitest.SyncBuffer{}
	if code := r.Run(context.Background(), []string{"send", "--addr", addr, "--param", "SCRIPT_NAME=/echo", "--log-level", "error"}); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	if errOut.String() != "" {
		t.Errorf("--log-level error should win over the environment:\n%s", errOut.String())
	}
}

// TestLogsRedactSecrets runs `fcgiscope send` at debug level, where every
// header and param is logged: the secrets must not reach the log unless
// --log-secrets is given.
func TestLogsRedactSecrets(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	secrets := []string{"Bearer tok-AUTH-1234", "sid=COOKIE-5678", "PW-9012", "APIKEY-3456"}
	args := []string{"send", "--addr", addr, "--url", "/status?code=200", "--docroot", "/srv/www",
		"--header", "Authorization: " + secrets[0], "--header", "Cookie: " + secrets[1],
		"--header", "X-Api-Key: " + secrets[3], "--param", "DB_PASSWORD=" + secrets[2], "--log-level", "debug"}
	for _, format := range []string{"text", "json"} {
		var stdout, stderr fcgitest.SyncBuffer
		r := &Runner{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
		if code := r.Run(context.Background(), append(args, "--log-format", format)); code != ExitOK {
			t.Fatalf("send exited %d:\n%s", code, stderr.String())
		}
		log := stderr.String()
		if !strings.Contains(log, "HTTP_AUTHORIZATION") || !strings.Contains(log, session.Redacted) {
			t.Fatalf("%s: the debug log does not show the params redacted:\n%s", format, log)
		}
		for _, s := range secrets {
			for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
				if strings.Contains(log, form) {
					t.Errorf("%s log holds the secret %q", format, form)
				}
			}
		}

		stderr = fcgitest.SyncBuffer{}
		if code := r.Run(context.Background(), append(args, "--log-format", format, "--log-secrets")); code != ExitOK {
			t.Fatalf("send --log-secrets exited %d:\n%s", code, stderr.String())
		}
		for _, s := range secrets {
			if s = strings.TrimPrefix(s, "Bearer "); !strings.Contains(stderr.String(), s) {
				t.Errorf("%s log with --log-secrets lacks %q, which was asked for", format, s)
			}
		}
	}
}

// TestSendProfile: send --profile maps the request as that web server does
// and frames it so; --json says which profile and framing.
func TestSendProfile(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "send", "--addr", addr, "--json", "--profile", "apache", "--docroot", "/srv/www",
		"--url", "/echo.php/more?x=1", "--header", "Authorization: Basic eDp5", "--body", strings.Repeat("b", 10000)) // sent whole with the head, before the demo answers
	if r.code != ExitOK {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	out := decodeOut(t, r.stdout)
	var extra struct {
		Profile string `json:"profile"`
		Framing struct {
			ParamsMax      int  `json:"params_max"`
			StdinMax       int  `json:"stdin_max"`
			ParamsUnpadded bool `json:"params_unpadded"`
			StdinUnpadded  bool `json:"stdin_unpadded"`
		} `json:"framing"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &extra); err != nil {
		t.Fatal(err)
	}
	if extra.Profile != "apache" || extra.Framing.StdinMax != 8192 || !extra.Framing.StdinUnpadded || extra.Framing.ParamsMax != 16384 {
		t.Errorf("profile %q framing %+v", extra.Profile, extra.Framing)
	}
	if out.Params[0] != (pair{"HTTP_AUTHORIZATION", "Basic eDp5"}) || out.Params[1].Name != "proxy-nokeepalive" {
		t.Errorf("params do not start as Apache's: %v", out.Params[:2])
	}
	found := false
	for _, p := range out.Params {
		found = found || p == pair{"SCRIPT_FILENAME", "proxy:fcgi://localhost/srv/www/echo.php"}
	}
	if !found {
		t.Errorf("no Apache SCRIPT_FILENAME in %v", out.Params)
	}
	var stdin []int
	for _, rec := range out.Records {
		if rec.Dir == "sent" && rec.PaddingLength != 0 {
			t.Errorf("sent %s record padded by %d", rec.Type, rec.PaddingLength)
		}
		if rec.Dir == "sent" && rec.Type == "STDIN" {
			stdin = append(stdin, int(rec.ContentLength))
		}
	}
	if fmt.Sprint(stdin) != "[8192 1808 0]" {
		t.Errorf("STDIN records %v, want Apache's 8 KiB ones", stdin)
	}
	// The report names the profile too.
	r = run(t, "", "send", "--addr", addr, "--profile", "lighttpd/plain", "--docroot", "/srv/www", "--url", "/echo.php")
	if r.code != ExitOK || !strings.Contains(r.stdout, "profile     lighttpd (plain)   framing PARAMS ≤65535 B records, unpadded") {
		t.Errorf("exit %d, report:\n%s", r.code, r.stdout)
	}
}
