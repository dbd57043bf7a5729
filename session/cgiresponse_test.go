package session

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseCGIResponse(t *testing.T) {
	huge := "X-Big: " + strings.Repeat("a", MaxCGIHeaderBlock) + "\r\nContent-Type: text/plain\r\n\r\nok"
	binary := []byte("Content-Type: application/octet-stream\r\n\r\n\x00\xff\r\n\r\n\x00")
	tests := []struct {
		name      string
		in        string
		status    int
		reason    string
		headers   []Header
		body      string
		headerLen int
		warnings  []string // substrings, one per warning, in order
		gateway   string   // substring of Gateway; "" for none
	}{
		{
			name:   "plain CRLF",
			in:     "Content-Type: text/html\r\n\r\nhello",
			status: 200, reason: "OK",
			headers:   []Header{{"Content-Type", "text/html"}},
			body:      "hello",
			headerLen: 27,
		},
		{
			name:   "bare LF",
			in:     "Content-type: text/plain\nX-A: 1\n\nbody\n",
			status: 200, reason: "OK",
			headers:   []Header{{"Content-type", "text/plain"}, {"X-A", "1"}},
			body:      "body\n",
			headerLen: 33,
		},
		{
			name:   "status lower case with reason",
			in:     "status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnope",
			status: 404, reason: "Not Found",
			headers:   []Header{{"Content-Type", "text/plain"}},
			body:      "nope",
			headerLen: 51,
		},
		{
			name:   "STATUS upper case without reason",
			in:     "STATUS: 503\r\nContent-Type: text/plain\r\n\r\n",
			status: 503, reason: "Service Unavailable",
			headers:   []Header{{"Content-Type", "text/plain"}},
			headerLen: 41,
		},
		{
			name:   "custom reason kept",
			in:     "Status: 418 Short and stout\nContent-Type: text/plain\n\n",
			status: 418, reason: "Short and stout",
			headers:   []Header{{"Content-Type", "text/plain"}},
			headerLen: 54,
		},
		{
			name:   "location without status is 302",
			in:     "Location: /hello.php\r\n\r\n",
			status: 302, reason: "Found",
			headers:   []Header{{"Location", "/hello.php"}},
			headerLen: 24,
		},
		{
			name:   "location with status keeps status",
			in:     "Status: 301 Moved Permanently\r\nLocation: http://x/\r\n\r\n",
			status: 301, reason: "Moved Permanently",
			headers:   []Header{{"Location", "http://x/"}},
			headerLen: 54,
		},
		{
			name:   "repeated Set-Cookie stays separate and ordered",
			in:     "Set-Cookie: a=1\r\nContent-Type: text/plain\r\nSet-Cookie: b=2\r\nset-cookie: c=3\r\n\r\nx",
			status: 200, reason: "OK",
			headers: []Header{{"Set-Cookie", "a=1"}, {"Content-Type", "text/plain"},
				{"Set-Cookie", "b=2"}, {"set-cookie", "c=3"}},
			body:      "x",
			headerLen: 79,
		},
		{
			name:   "whitespace around name and value",
			in:     "Content-Type :   text/plain  \r\n\r\n",
			status: 200, reason: "OK",
			headers:   []Header{{"Content-Type", "text/plain"}},
			headerLen: 33,
		},
		{
			name:   "missing content type warns",
			in:     "X-A: 1\r\n\r\nbody",
			status: 200, reason: "OK",
			headers:   []Header{{"X-A", "1"}},
			body:      "body",
			headerLen: 10,
			warnings:  []string{"no Content-Type"},
		},
		{
			name:   "204 without content type is fine",
			in:     "Status: 204\r\n\r\n",
			status: 204, reason: "No Content",
			headerLen: 15,
		},
		{
			name:   "line without colon skipped",
			in:     "Content-Type: text/plain\r\nthis is not a header\r\nX-B: 2\r\n\r\nok",
			status: 200, reason: "OK",
			headers:   []Header{{"Content-Type", "text/plain"}, {"X-B", "2"}},
			body:      "ok",
			headerLen: 58,
			warnings:  []string{`line 2: header line without a colon, skipped: "this is not a header"`},
		},
		{
			name:   "empty name skipped",
			in:     ": nothing\nContent-Type: text/plain\n\n",
			status: 200, reason: "OK",
			headers:   []Header{{"Content-Type", "text/plain"}},
			headerLen: 36,
			warnings:  []string{"line 1: header line with an empty name"},
		},
		{
			name:   "bad status code",
			in:     "Status: abc\r\nContent-Type: text/plain\r\n\r\n",
			status: 200, reason: "OK",
			headers:   []Header{{"Content-Type", "text/plain"}},
			headerLen: 41,
			warnings:  []string{`bad Status header "abc"`},
		},
		{
			name:   "repeated status, last wins",
			in:     "Status: 200\nStatus: 500 Oops\nContent-Type: text/plain\n\n",
			status: 500, reason: "Oops",
			headers:   []Header{{"Content-Type", "text/plain"}},
			headerLen: 55,
			warnings:  []string{"repeated Status header"},
		},
		{
			name:   "folded line joined",
			in:     "X-Long: a\r\n b\r\nContent-Type: text/plain\r\n\r\n",
			status: 200, reason: "OK",
			headers:   []Header{{"X-Long", "a b"}, {"Content-Type", "text/plain"}},
			headerLen: 43,
			warnings:  []string{"obsolete line folding"},
		},
		// nginx does not pass on a response whose header block has no end,
		// or no response at all (issue 13, defect 1): 502 Bad Gateway.
		{
			name:   "no blank line, all headers",
			in:     "Status: 404\r\nContent-Type: text/plain\r\nX-A: 1",
			status: 502, reason: "Bad Gateway",
			headers:   []Header{{"Content-Type", "text/plain"}, {"X-A", "1"}},
			headerLen: 45,
			warnings:  []string{"no blank line after headers: all 45 bytes of stdout taken as headers", "nginx answers 502 Bad Gateway: the header block"},
			gateway:   `45 bytes of STDOUT has no end (no blank line); nginx logs "upstream prematurely closed FastCGI stdout"`,
		},
		{
			name:   "no blank line, not headers: body kept",
			in:     "hello world\nsecond line\n",
			status: 502, reason: "Bad Gateway",
			body:      "hello world\nsecond line\n",
			headerLen: 0,
			warnings:  []string{"no blank line after headers: the 24 bytes of stdout taken as a body", "no Content-Type", "no end"},
			gateway:   "no end",
		},
		{
			name:   "empty stdout",
			in:     "",
			status: 502, reason: "Bad Gateway",
			warnings: []string{`nginx answers 502 Bad Gateway: empty response: the application sent nothing on STDOUT; nginx logs "upstream prematurely closed FastCGI stdout"`},
			gateway:  "empty response",
		},
		{
			name:   "blank line first: no headers, body",
			in:     "\r\nbody",
			status: 200, reason: "OK",
			body:      "body",
			headerLen: 2,
			warnings:  []string{"no Content-Type"},
		},
		{
			name:   "binary body untouched",
			in:     string(binary),
			status: 200, reason: "OK",
			headers:   []Header{{"Content-Type", "application/octet-stream"}},
			body:      "\x00\xff\r\n\r\n\x00",
			headerLen: 42,
		},
		{
			name:   "huge header block warns but parses",
			in:     huge,
			status: 200, reason: "OK",
			headers:   []Header{{"X-Big", strings.Repeat("a", MaxCGIHeaderBlock)}, {"Content-Type", "text/plain"}},
			body:      "ok",
			headerLen: len(huge) - 2,
			warnings:  []string{"over the 1048576-byte limit"},
		},
		{
			name:   "invalid header name warned, kept",
			in:     "Bad Name: x\r\nContent-Type: text/plain\r\n\r\n",
			status: 200, reason: "OK",
			headers:   []Header{{"Bad Name", "x"}, {"Content-Type", "text/plain"}},
			headerLen: 41,
			warnings:  []string{`header name "Bad Name" is not a valid HTTP token`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			resp, warnings := ParseCGIResponse(in)
			if resp.Status != tt.status || resp.Reason != tt.reason {
				t.Errorf("status = %d %q, want %d %q", resp.Status, resp.Reason, tt.status, tt.reason)
			}
			if !reflect.DeepEqual(resp.Headers, tt.headers) {
				t.Errorf("headers = %q, want %q", resp.Headers, tt.headers)
			}
			if string(resp.Body) != tt.body {
				t.Errorf("body = %q, want %q", resp.Body, tt.body)
			}
			if resp.HeaderLen != tt.headerLen {
				t.Errorf("HeaderLen = %d, want %d", resp.HeaderLen, tt.headerLen)
			}
			if tt.gateway == "" && resp.Gateway != "" || !strings.Contains(resp.Gateway, tt.gateway) {
				t.Errorf("Gateway = %q, want %q in it", resp.Gateway, tt.gateway)
			}
			if len(in) > 0 && !bytes.Equal(in[resp.HeaderLen:], resp.Body) {
				t.Errorf("Body is not stdout[HeaderLen:]")
			}
			if len(resp.Body) > 0 && &resp.Body[0] != &in[resp.HeaderLen] {
				t.Errorf("Body is a copy, want a sub-slice of stdout")
			}
			if len(warnings) != len(tt.warnings) {
				t.Fatalf("warnings = %q, want %d matching %q", warnings, len(tt.warnings), tt.warnings)
			}
			for i, w := range tt.warnings {
				if !strings.Contains(warnings[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, warnings[i], w)
				}
			}
		})
	}
}

func TestParseCGIResponseNeverDropsData(t *testing.T) {
	// Whatever the input, header block plus body is all of stdout.
	inputs := []string{
		"a", "\n", "\r\n\r\n", ":\n\n", "\x00\x01:\x02\n\nz", "Status: 99999\n\n",
		strings.Repeat("x:y\n", 1000), "Location: /\n\nStatus: 500\n",
	}
	for _, in := range inputs {
		resp, _ := ParseCGIResponse([]byte(in))
		if got := in[:resp.HeaderLen] + string(resp.Body); got != in {
			t.Errorf("%q: header block + body = %q", in, got)
		}
		if resp.Status < 100 || resp.Status > 999 {
			t.Errorf("%q: status %d is not a valid HTTP code", in, resp.Status)
		}
	}
}

func ExampleParseCGIResponse() {
	resp, warnings := ParseCGIResponse([]byte("status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such page"))
	fmt.Println(resp.Status, resp.Reason, resp.Headers, string(resp.Body), len(warnings))
	// Output: 404 Not Found [{Content-Type text/plain}] no such page 0
}
