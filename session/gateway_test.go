// What a web server would answer instead of the application, and the
// response details real servers showed wrong (issue 13, defects 1, 2, 5, 6):
// empty STDOUT, a request out of time, header bytes that are not UTF-8, a
// header block larger than nginx's buffer. The real servers where each was
// seen are in servers_test.go; here the demo backend and hand-written peers.

package session

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// cliView is the part of the CLI JSON these tests read.
type cliView struct {
	RequestID *uint16 `json:"request_id"`
	Response  *struct {
		Status  int    `json:"status"`
		Reason  string `json:"reason"`
		Gateway string `json:"gateway"`
		Headers []struct {
			Name     string `json:"name"`
			Value    string `json:"value"`
			ValueB64 string `json:"value_b64"`
		} `json:"headers"`
	} `json:"response"`
	Warnings []string `json:"warnings"`
}

func cliViewOf(t *testing.T, x *Exchange) cliView {
	t.Helper()
	b, err := x.CLIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v cliView
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// TestEmptyStdoutIsBadGateway: an application that writes only to stderr
// and ends the request sends no STDOUT at all. nginx answers 502 ("upstream
// prematurely closed FastCGI stdout"); the parsed response must say so,
// and why, not 200 (defect 1).
func TestEmptyStdoutIsBadGateway(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})
	x := sendOK(t, e, addr, demoReq("/stderr", "lines=1&app_status=1&stdout=none"))
	r := x.Response()
	if r == nil || r.Status != http.StatusBadGateway || r.Reason != "Bad Gateway" ||
		r.GatewayText() != `nginx answers 502 Bad Gateway: empty response: the application sent nothing on STDOUT; nginx logs "upstream prematurely closed FastCGI stdout"` {
		t.Fatalf("response %+v, want 502 and why", r)
	}
	if !strings.Contains(strings.Join(x.Warnings(), "\n"), "upstream prematurely closed FastCGI stdout") {
		t.Errorf("warnings %q do not say why", x.Warnings())
	}
	v := cliViewOf(t, x)
	if v.Response == nil || v.Response.Status != 502 || v.Response.Gateway != r.Gateway {
		t.Errorf("CLI JSON response %+v", v.Response)
	}
	// The Exchange file keeps it.
	b, err := EncodeExchangeFile(x, true)
	if err != nil {
		t.Fatal(err)
	}
	y, err := DecodeExchangeFile(b)
	if err != nil || y.Response() == nil || y.Response().Gateway != r.Gateway || y.Response().Status != 502 {
		t.Errorf("after a round trip through a file: %+v, %v", y.Response(), err)
	}

	// The same with UNKNOWN_ROLE and no output: 502, and the request failed.
	req := demoReq("/echo", "")
	req.Role = fcgi.Role(7)
	x = NewExchange(Input{})
	if err := e.Send(context.Background(), addr, req, x); err == nil {
		t.Fatal("UNKNOWN_ROLE: no error")
	}
	if r := x.Response(); r == nil || r.Status != 502 {
		t.Errorf("UNKNOWN_ROLE: response %+v, want 502", r)
	}
}

// TestTimedOutIsGatewayTimeout: a request that ran out of time is a
// failure whatever arrives after, here the END_REQUEST the demo sends for
// ABORT_REQUEST (node-fastcgi does the same). nginx with the same read
// timeout answers 504 (defect 2); and the whole request takes the time
// given, the wait after ABORT_REQUEST included (defect 3).
func TestTimedOutIsGatewayTimeout(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	checkLeaks(t)
	const limit = time.Second
	e := newEngine(t, EngineOptions{Timeout: limit})
	x := NewExchange(Input{})
	start := time.Now()
	err := e.Send(context.Background(), addr, demoReq("/misbehave/slow-first-byte", "ms=20000"), x)
	took := time.Since(start)
	if !errors.Is(err, fcgi.ErrTimeout) {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if took > limit+time.Second {
		t.Errorf("the request took %v with a %v limit", took, limit)
	}
	if x.End() == nil {
		t.Fatalf("no END_REQUEST after ABORT_REQUEST (records %+v)", x.Records())
	}
	r := x.Response()
	if r == nil || r.Status != http.StatusGatewayTimeout || !strings.HasPrefix(r.GatewayText(), "nginx answers 504 Gateway Timeout: no response header block within the request's time limit") {
		t.Fatalf("response %+v, want 504 and why", r)
	}
	if ws := strings.Join(x.Warnings(), "\n"); strings.Contains(ws, "prematurely closed") || !strings.Contains(ws, "upstream timed out") {
		t.Errorf("warnings %q", x.Warnings())
	}
}

// rawResponder answers every request with stdout, cut into STDOUT records
// at the given content lengths, then END_REQUEST.
func rawResponder(t *testing.T, stdout []byte, splits ...int) string {
	t.Helper()
	return fcgitest.StartHostile(t, "unix", fcgitest.Answer(string(stdout), false, splits...)).Target()
}

// TestHeaderBytesKept: header bytes that are not UTF-8 ("caf\xe9" in
// Latin-1, which nginx passes through) stay byte for byte in the response,
// in the CLI JSON (value_b64 beside the text) and in an Exchange file, and
// are shown escaped (defect 5).
func TestHeaderBytesKept(t *testing.T) {
	target := rawResponder(t, []byte("Content-Type: text/plain\r\nX-Name: caf\xe9\r\n\r\nlatin1\n"))
	checkLeaks(t)
	e := newEngine(t, EngineOptions{})
	x := sendOK(t, e, target, demoReq("/", ""))
	if v, _ := x.Response().Get("X-Name"); v != "caf\xe9" {
		t.Fatalf("X-Name = %q, want the byte kept", v)
	}
	if got := Printable("caf\xe9"); got != `caf\xe9` {
		t.Errorf("Printable = %q", got)
	}
	v := cliViewOf(t, x)
	h := v.Response.Headers[1]
	if raw, err := base64.StdEncoding.DecodeString(h.ValueB64); err != nil || string(raw) != "caf\xe9" || h.Name != "X-Name" {
		t.Errorf("CLI JSON header %+v, want value_b64 of caf\\xe9", h)
	}
	if v.Response.Headers[0].ValueB64 != "" {
		t.Errorf("a UTF-8 value got a base64 form: %+v", v.Response.Headers[0])
	}
	b, err := EncodeExchangeFile(x, true)
	if err != nil {
		t.Fatal(err)
	}
	y, err := DecodeExchangeFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := y.Response().Get("X-Name"); got != "caf\xe9" {
		t.Errorf("after a round trip through a file X-Name = %q", got)
	}
}

// TestPrintable: what Printable escapes and what it leaves alone.
func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"plain text":      "plain text",
		"café €":          "café €",
		"tab\tkept":       "tab\tkept",
		"caf\xe9":         `caf\xe9`,
		"cr\rlf\nnul\x00": `cr\x0dlf\x0anul\x00`,
		`a\x41`:           `a\\x41`,
		"del\x7f":         `del\x7f`,
		"\xff\xfe":        `\xff\xfe`,
		"\uFFFD real":     "\uFFFD real",
	} {
		if got := Printable(in); got != want {
			t.Errorf("Printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTooBigHeaderWarned: a header block that does not fit nginx's default
// fastcgi_buffer_size (4096 bytes of the FastCGI stream from the first
// STDOUT record header to the blank line, measured on nginx 1.22: a
// 4088-byte block in one record passes, one more byte gives 502 "upstream
// sent too big header") is warned about, naming the size and the
// directive (defect 6).
func TestTooBigHeaderWarned(t *testing.T) {
	block := func(n int) []byte { // a header block of n bytes
		const head = "Content-Type: text/plain\r\nX-Big: "
		return []byte(head + strings.Repeat("b", n-len(head)-4) + "\r\n\r\n" + "body\n")
	}
	for _, tc := range []struct {
		name   string
		stdout []byte
		splits []int
		stream int // bytes of the stream holding the block; 0: no warning
	}{
		{"4088 in one record", block(4088), nil, 0},
		{"4089 in one record", block(4089), nil, 4097},
		{"4080 in two records", block(4080), []int{1000}, 4096},
		{"4081 in two records", block(4081), []int{1000}, 4097},
		{"9000", block(9000), nil, 9008},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := rawResponder(t, tc.stdout, tc.splits...)
			e := newEngine(t, EngineOptions{})
			x := sendOK(t, e, target, demoReq("/", ""))
			ws := strings.Join(x.Warnings(), "\n")
			warned := strings.Contains(ws, "fastcgi_buffer_size")
			// With padding to 8, a split adds the first record's padding.
			switch {
			case tc.stream > 0 && tc.stream <= NginxBufferSize && warned:
				t.Errorf("warned for a block nginx serves: %q", ws)
			case tc.stream > NginxBufferSize && !warned:
				t.Errorf("no warning for %d bytes: %q", tc.stream, ws)
			case tc.stream > NginxBufferSize && !strings.Contains(ws, fmt.Sprintf("takes %d bytes", tc.stream)):
				t.Errorf("warning does not name the size %d: %q", tc.stream, ws)
			case tc.stream == 0 && warned:
				t.Errorf("warned: %q", ws)
			}
			if r := x.Response(); r.Status != 200 {
				t.Errorf("status %d: a warning, not a different status (nginx's buffer is configurable)", r.Status)
			}
		})
	}
}
