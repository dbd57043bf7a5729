// Fuzz target for the parser that reads what others wrote: the CGI response
// on stdout (FuzzLoadExchange is in fuzz_exchange_test.go, FuzzLoadPreset in
// package preset).

package session

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// FuzzParseCGIResponse parses arbitrary stdout. It must never panic; the
// header block and the body must account for every byte (the body a view of
// the input); the status must be a valid HTTP code; no header may hold a
// line break; and whenever the input is malformed by an independent reading
// of RFC 3875 §6 (no blank line, a line that is not "name: value", a bad
// Status) there must be at least one warning.
func FuzzParseCGIResponse(f *testing.F) {
	for _, s := range []string{
		"",
		"Content-Type: text/html\r\n\r\nhello",
		"status: 404 Not Found\nContent-type: text/plain\n\nnope",
		"Location: /next\r\n\r\n",
		"Status: 302\r\nLocation: http://x/\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
		"X-A: 1\r\n folded\r\n\tagain\r\nContent-Type: text/plain\r\n\r\nbody\r\n\r\nmore",
		"no colon here\nContent-Type: text/plain\n\n",
		"Content-Type: text/plain",
		"<html>no headers at all</html>",
		"Status: abc\n\n", "Status: 99\n\n", "Status: 200\nStatus: 500\n\n",
		": empty name\n\n", "bad name: v\n\n", "\r\n", "\n\nbody",
		"Content-Type: application/octet-stream\r\n\r\n\x00\xff\r\n\r\n\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkCGIResponse(t, in)
	})
}

func checkCGIResponse(t *testing.T, in []byte) {
	t.Helper()
	resp, warns := ParseCGIResponse(in)
	if resp == nil {
		t.Fatal("nil response")
	}
	if resp.HeaderLen < 0 || resp.HeaderLen > len(in) || resp.HeaderLen+len(resp.Body) != len(in) {
		t.Fatalf("header block %d + body %d bytes != %d bytes of stdout", resp.HeaderLen, len(resp.Body), len(in))
	}
	if !bytes.Equal(resp.Body, in[resp.HeaderLen:]) {
		t.Fatalf("body is not stdout[%d:]", resp.HeaderLen)
	}
	if len(resp.Body) > 0 && &resp.Body[0] != &in[resp.HeaderLen] {
		t.Fatal("body is a copy, not a view of stdout")
	}
	if resp.Status < 100 || resp.Status > 999 {
		t.Fatalf("status %d", resp.Status)
	}
	for _, h := range resp.Headers {
		if h.Name == "" || strings.ContainsAny(h.Name+h.Value, "\n") || strings.EqualFold(h.Name, "Status") {
			t.Fatalf("header %q", h)
		}
	}
	for _, w := range warns {
		if strings.TrimSpace(w) == "" {
			t.Fatalf("empty warning in %q", warns)
		}
	}
	if why := cgiMalformed(in, resp.HeaderLen); why != "" && len(warns) == 0 {
		t.Fatalf("malformed (%s) but no warning: %q", why, in)
	}
	again, warns2 := ParseCGIResponse(bytes.Clone(in))
	if !reflect.DeepEqual(again.Headers, resp.Headers) || again.Status != resp.Status || !reflect.DeepEqual(warns, warns2) {
		t.Fatal("two parses of the same bytes differ")
	}
}

// cgiMalformed says why stdout is not a well-formed CGI response, as RFC
// 3875 §6 reads, or "" when it is; headerLen is where the parser ended the
// header block.
func cgiMalformed(in []byte, headerLen int) string {
	if len(in) == 0 {
		return "empty"
	}
	block := in[:headerLen]
	if !(bytes.HasSuffix(block, []byte("\n\n")) || bytes.HasSuffix(block, []byte("\n\r\n")) ||
		string(block) == "\n" || string(block) == "\r\n") {
		return "no blank line ends the header block"
	}
	lines := strings.Split(string(block), "\n")
	for _, line := range lines[:len(lines)-2] { // without the blank line
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			return "empty or continuation line"
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return "no colon"
		}
		if name = strings.TrimSpace(name); !isToken(name) {
			return "bad field name"
		}
		if strings.EqualFold(name, "Status") {
			code, _, _ := strings.Cut(strings.TrimSpace(value), " ")
			if len(code) != 3 || code < "100" || code > "999" || strings.Trim(code, "0123456789") != "" {
				return "bad Status"
			}
		}
	}
	return ""
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// TestFuzzSeedsHold runs the fuzz checks on hand-made inputs that hit the
// corners each parser must handle, so that a plain go test proves them
// too (the committed corpora under testdata/fuzz run with the targets).
func TestFuzzSeedsHold(t *testing.T) {
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
	for _, in := range []string{"", "\n", "a", "Status: 200\n", "x:y\r\n\r\n", strings.Repeat("h: v\n", 500) + "\n"} {
		checkCGIResponse(t, []byte(in))
	}
}
