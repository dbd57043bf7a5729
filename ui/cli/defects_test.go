// The command line's side of issue 13's defects: what send and values say
// and how they exit when the backend sends nothing on STDOUT, runs out of
// time, refuses a role, sends header bytes that are not UTF-8, keeps (or
// not) a KEEP_CONN connection, or does not answer GET_VALUES. The real
// servers where each was seen are in session's servers_test.go.

package cli

import (
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
)

// TestSendEmptyStdout: no STDOUT at all is what nginx answers 502 for, in
// the report and the JSON (defect 1); END_REQUEST REQUEST_COMPLETE arrived,
// so the command did its job (exit 0, whatever the HTTP status).
func TestSendEmptyStdout(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	args := []string{"send", "--addr", addr, "--param", "SCRIPT_NAME=/stderr", "--param", "QUERY_STRING=lines=1&app_status=1&stdout=none"}
	r := run(t, "", args...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "\n502 Bad Gateway (what nginx answers: empty response: the application sent nothing on STDOUT; "+
		`nginx logs "upstream prematurely closed FastCGI stdout")`) || strings.Count(r.stdout, "prematurely") != 1 {
		t.Errorf("report does not say 502 and why:\n%s", r.stdout)
	}
	r = run(t, "", append(args, "--json")...)
	out := decodeOut(t, r.stdout)
	if out.Response == nil || out.Response.Status != 502 {
		t.Errorf("JSON response %+v, want status 502", out.Response)
	}
}

// TestSendTimedOutFails: a request that hit --timeout fails (exit 1) even
// when END_REQUEST came after ABORT_REQUEST, as the demo and node-fastcgi
// send it (defect 2), and it takes the time given (defect 3).
func TestSendTimedOutFails(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	start := time.Now()
	r := run(t, "", "send", "--json", "--timeout", "1s", "--addr", addr,
		"--param", "SCRIPT_NAME=/misbehave/slow-first-byte", "--param", "QUERY_STRING=ms=20000")
	took := time.Since(start)
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, ExitFailure, r.stdout, r.stderr)
	}
	if took > 2*time.Second {
		t.Errorf("send --timeout 1s took %v", took)
	}
	out := decodeOut(t, r.stdout)
	if out.EndRequest == nil || out.Error == nil || !strings.Contains(*out.Error, "timed out") {
		t.Errorf("want END_REQUEST (for ABORT_REQUEST) and the timeout: %+v", out)
	}
	if out.Response == nil || out.Response.Status != 504 {
		t.Errorf("response %+v, want 504 as nginx's read timeout", out.Response)
	}
	if !strings.Contains(r.stderr, "timed out") {
		t.Errorf("stderr does not say it timed out:\n%s", r.stderr)
	}
}

// TestSendRefusedRole: END_REQUEST UNKNOWN_ROLE with no output is a
// failure (exit 1), and nothing on STDOUT is a 502, not a 200 (R2's extra
// mismatch 1). The text report says the error once.
func TestSendRefusedRole(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "send", "--role", "7", "--addr", addr, "--param", "SCRIPT_NAME=/echo")
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, ExitFailure, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "END_REQUEST app status 0, UNKNOWN_ROLE") || !strings.Contains(r.stdout, "\n502 Bad Gateway") ||
		strings.Count(r.stdout, "refused the request") != 1 || r.stderr != "" {
		t.Errorf("report:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
}

// rawAnswer serves every request with stdout, then END_REQUEST, and closes
// the connection after it when closeAfter is set, KEEP_CONN or not.
func rawAnswer(t *testing.T, stdout string, closeAfter bool) string {
	t.Helper()
	return fcgitest.StartHostile(t, "tcp", fcgitest.Answer(stdout, closeAfter)).Target()
}

// TestSendHeaderBytes: a header byte that is not UTF-8 is shown escaped in
// the report and kept in the JSON's value_b64 (defect 5).
func TestSendHeaderBytes(t *testing.T) {
	addr := rawAnswer(t, "Content-Type: text/plain\r\nX-Name: caf\xe9\r\n\r\nok\n", false)
	r := run(t, "", "send", "--addr", addr, "--param", "A=B")
	if !strings.Contains(r.stdout, "\nX-Name: caf\\xe9\n") {
		t.Errorf("report does not show the byte escaped:\n%s", r.stdout)
	}
	r = run(t, "", "send", "--json", "--addr", addr, "--param", "A=B")
	// U+FFFD in the text (escaped or not, as the JSON encoder likes), the
	// bytes themselves in value_b64.
	var out struct {
		Response struct {
			Headers []struct {
				Name, Value string
				ValueB64    string `json:"value_b64"`
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	var found bool
	for _, h := range out.Response.Headers {
		if h.Name == "X-Name" {
			found = h.Value == "caf\ufffd" && h.ValueB64 == "Y2Fm6Q=="
		}
	}
	if !found {
		t.Errorf("JSON lacks the exact bytes:\n%s", r.stdout)
	}
}

// TestSendKeepConnSaysWhetherKept: send --keep-conn tells whether the
// application kept the connection open after END_REQUEST (R2's extra
// mismatch 3: uwsgi and node-fastcgi close it anyway).
func TestSendKeepConnSaysWhetherKept(t *testing.T) {
	for _, tc := range []struct {
		closes bool
		report string
		json   string
	}{
		{false, "connection  kept open by the application after END_REQUEST", `"conn_kept":true`},
		{true, "connection  closed by the application after END_REQUEST: it does not keep connections", `"conn_kept":false`},
	} {
		addr := rawAnswer(t, "Content-Type: text/plain\r\n\r\nok\n", tc.closes)
		r := run(t, "", "send", "--keep-conn", "--addr", addr, "--param", "A=B")
		if r.code != ExitOK || !strings.Contains(r.stdout, tc.report) {
			t.Errorf("closes=%v: exit %d, report:\n%s", tc.closes, r.code, r.stdout)
		}
		r = run(t, "", "send", "--json", "--keep-conn", "--addr", addr, "--param", "A=B")
		if !strings.Contains(r.stdout, tc.json) {
			t.Errorf("closes=%v: JSON lacks %s:\n%s", tc.closes, tc.json, r.stdout)
		}
	}
	// Without --keep-conn nobody watches: no such line, no such field.
	addr := rawAnswer(t, "Content-Type: text/plain\r\n\r\nok\n", true)
	if r := run(t, "", "send", "--json", "--addr", addr, "--param", "A=B"); strings.Contains(r.stdout, "conn_kept") {
		t.Errorf("conn_kept without --keep-conn:\n%s", r.stdout)
	}
}

// TestValuesUnanswered: against a server that never answers GET_VALUES
// (fcgiwrap, Perl FCGI) or closes without answering (uwsgi), values says
// that no GET_VALUES_RESULT came and whether the server closed or stayed
// silent; never "END_REQUEST" (GET_VALUES has none) nor a raw "context
// deadline exceeded" (defect 4).
func TestValuesUnanswered(t *testing.T) {
	silent := fcgitest.StartRaw(t, "tcp", func(nc net.Conn) {
		var b [512]byte
		for {
			if _, err := nc.Read(b[:]); err != nil {
				return
			}
		}
	})
	closing := fcgitest.StartRaw(t, "tcp", func(nc net.Conn) {
		var b [512]byte
		nc.Read(b[:]) // GET_VALUES, then close
	})
	for _, tc := range []struct {
		name, addr string
		want       []string
	}{
		{"silent", silent.Addr, []string{"no GET_VALUES_RESULT within", "the application kept the connection open without answering"}},
		{"closes", closing.Addr, []string{"the application closed the connection", "without a GET_VALUES_RESULT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", "values", "--timeout", "500ms", "--addr", tc.addr)
			if r.code != ExitFailure {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, bad := range []string{"END_REQUEST", "context deadline exceeded"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr says %q:\n%s", bad, r.stderr)
				}
			}
		})
	}
}

// TestSendSplitPath: --split-path and --location route a URL to a CGI
// script as an nginx location splitting on .cgi does (R2's extra mismatch
// 6: HTTP mode always split on .php).
func TestSendSplitPath(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "", "send", "--json", "--addr", addr, "--docroot", "/srv/www", "--url", "/app.cgi/extra?q=1",
		"--split-path", `^(.+\.cgi)(/.+)$`, "--location", `[^/]\.cgi(/|$)`)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	out := decodeOut(t, r.stdout)
	want := map[string]string{"SCRIPT_FILENAME": "/srv/www/app.cgi", "SCRIPT_NAME": "/app.cgi", "PATH_INFO": "/extra"}
	for _, p := range out.Params {
		if v, ok := want[p.Name]; ok && v != p.Value {
			t.Errorf("%s = %q, want %q", p.Name, p.Value, v)
		}
		delete(want, p.Name)
	}
	if len(want) > 0 {
		t.Errorf("params missing: %v", want)
	}
	if r := run(t, "", "send", "--addr", addr, "--param", "A=B", "--split-path", "x"); r.code != ExitUsage {
		t.Errorf("--split-path in raw mode: exit %d, want a usage error", r.code)
	}
}

// TestSendFilterRawHint: a raw FILTER request without FCGI_DATA_LENGTH
// gets a hint (R2's extra mismatch 7; HTTP mode sets it).
func TestSendFilterRawHint(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	r := run(t, "data", "send", "--addr", addr, "--role", "filter", "--data-file", "-", "--param", "SCRIPT_NAME=/echo")
	if !strings.Contains(r.stdout, "role FILTER without FCGI_DATA_LENGTH") || !strings.Contains(r.stdout, "FCGI_DATA_LENGTH=4") {
		t.Errorf("no hint:\n%s", r.stdout)
	}
}
