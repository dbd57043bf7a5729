// CGI response → HTTP response: the header block a FastCGI responder writes on
// STDOUT (RFC 3875 §6), parsed as net/http/cgi's host does, but forgiving.

package session

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// MaxCGIHeaderBlock is the header block size above which ParseCGIResponse
// warns. It still parses the block: the limit is a sanity check, not a cut.
const MaxCGIHeaderBlock = 1 << 20

// Header is one HTTP header field as it appeared, in order. Repeated fields
// (Set-Cookie) stay separate. Name and Value hold the bytes as sent, UTF-8
// or not (nginx passes a Latin-1 "caf\xe9" through); Printable shows them.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// MarshalJSON writes {"name", "value"}, plus "name_b64" or "value_b64"
// holding the exact bytes of a name or value that is not UTF-8 (a JSON
// string cannot; its text form has U+FFFD in their place).
func (h Header) MarshalJSON() ([]byte, error) { return json.Marshal(newCLIPair(h.Name, h.Value)) }

// UnmarshalJSON reads what MarshalJSON writes: the base64 forms, when
// present, win over the text ones.
func (h *Header) UnmarshalJSON(b []byte) error {
	var p cliPair
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	h.Name, h.Value = p.Name, p.Value
	if p.NameB64 != "" {
		raw, err := base64.StdEncoding.DecodeString(p.NameB64)
		if err != nil {
			return fmt.Errorf("header name_b64: %w", err)
		}
		h.Name = string(raw)
	}
	if p.ValueB64 != "" {
		raw, err := base64.StdEncoding.DecodeString(p.ValueB64)
		if err != nil {
			return fmt.Errorf("header %s value_b64: %w", h.Name, err)
		}
		h.Value = string(raw)
	}
	return nil
}

// HTTPResponse is the HTTP response a CGI response stands for.
type HTTPResponse struct {
	// Status is the HTTP status code: from the Status header, 302 for a
	// Location without Status, 200 otherwise.
	Status int
	// Reason is the reason phrase of the Status header, or the standard
	// text for the code when the header gave none.
	Reason string
	// Headers are the response header fields in order, without Status
	// (which Status and Reason hold). Names are as the application wrote them.
	Headers []Header
	// Body is everything after the header block: a sub-slice of the parsed
	// stdout, never a copy.
	Body []byte
	// HeaderLen is the length of the header block in stdout, including the
	// blank line that ends it; Body is stdout[HeaderLen:].
	HeaderLen int
	// Gateway, when not empty, says why a web server in front of the
	// application would not pass this response on but answer an error of
	// its own, which Status and Reason then hold (502 Bad Gateway, or 504
	// Gateway Timeout), with nginx's words for it in its error log: no
	// response at all on STDOUT, a header block with no end, a request
	// that ran out of time before its header block came. Headers and Body
	// still show what the application sent. GatewayText says it whole.
	Gateway string
}

// GatewayText says what a web server answers instead of the application
// and why ("nginx answers 502 Bad Gateway: empty response: ..."), or ""
// when it passes the response on.
func (r *HTTPResponse) GatewayText() string {
	if r.Gateway == "" {
		return ""
	}
	return fmt.Sprintf("nginx answers %d %s: %s", r.Status, r.Reason, r.Gateway)
}

// The words of nginx 1.22's error log for the responses it does not pass on.
const (
	nginxNoStdout    = "upstream prematurely closed FastCGI stdout"
	nginxTimedOut    = "upstream timed out (110: Connection timed out) while reading response header from upstream"
	nginxTooBigHeads = "upstream sent too big header while reading response header from upstream"
)

// Get returns the value of the first header called name (case-insensitive).
func (r *HTTPResponse) Get(name string) (string, bool) {
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// Values returns the values of every header called name (case-insensitive), in order.
func (r *HTTPResponse) Values(name string) []string {
	var out []string
	for _, h := range r.Headers {
		if strings.EqualFold(h.Name, name) {
			out = append(out, h.Value)
		}
	}
	return out
}

// ParseCGIResponse parses a CGI response: header lines ending in CRLF or LF,
// a blank line, then the body. It is a pure function over bytes: it never
// fails, never blocks and never drops data; what is wrong or doubtful comes
// back as warnings, one sentence each.
//
// Rules (RFC 3875 §6, net/http/cgi):
//   - header names are case-insensitive: "status: 404 Not Found" sets the code;
//   - Location without Status gives 302; no Status gives 200;
//   - a document response (no Location) without Content-Type is warned about;
//   - a line without a colon, or with an empty name, is skipped and warned about;
//   - a line starting with a space or tab continues the previous field
//     (obsolete folding), with a warning.
//
// Without a blank line the header block has no end. If every line of stdout
// then reads as a header field, stdout is taken as headers only (empty body);
// otherwise it is taken as a body without headers (HeaderLen 0), so that the
// output is shown rather than skipped line by line. Both cases are warned about.
//
// A response with no header block, or one without its end (empty stdout
// included), is not one a web server passes on: nginx answers 502 Bad
// Gateway. Status and Reason say so, and Gateway says why.
func ParseCGIResponse(stdout []byte) (*HTTPResponse, []string) {
	var warn []string
	warnf := func(format string, args ...any) { warn = append(warn, fmt.Sprintf(format, args...)) }

	end, found := headerEnd(stdout)
	block := stdout[:end]
	switch {
	case found, len(stdout) == 0: // empty: said below, with what a web server makes of it
	case looksLikeHeaders(stdout):
		warnf("no blank line after headers: all %d bytes of stdout taken as headers, body empty", len(stdout))
	default:
		warnf("no blank line after headers: the %d bytes of stdout taken as a body without headers", len(stdout))
		block, end = nil, 0
	}
	if end > MaxCGIHeaderBlock {
		warnf("header block is %d bytes, over the %d-byte limit", end, MaxCGIHeaderBlock)
	}

	resp := &HTTPResponse{Body: stdout[end:], HeaderLen: end}
	statusLine, statusSeen := "", false
	lineNo := 0
	for line := range bytes.Lines(block) {
		lineNo++
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if len(line) == 0 {
			break // the blank line
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(resp.Headers) == 0 {
				warnf("line %d: continuation line with no field before it, skipped: %q", lineNo, clip(line))
				continue
			}
			warnf("line %d: obsolete line folding joined to %s", lineNo, resp.Headers[len(resp.Headers)-1].Name)
			last := &resp.Headers[len(resp.Headers)-1]
			last.Value = strings.TrimSpace(last.Value + " " + strings.TrimSpace(string(line)))
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			warnf("line %d: header line without a colon, skipped: %q", lineNo, clip(line))
			continue
		}
		name := string(bytes.TrimSpace(line[:colon]))
		value := string(bytes.TrimSpace(line[colon+1:]))
		if name == "" {
			warnf("line %d: header line with an empty name, skipped: %q", lineNo, clip(line))
			continue
		}
		if !ValidFieldName(name) {
			warnf("line %d: header name %q is not a valid HTTP token", lineNo, name)
		}
		if strings.EqualFold(name, "Status") {
			if statusSeen {
				warnf("line %d: repeated Status header, %q replaces %q", lineNo, value, statusLine)
			}
			statusLine, statusSeen = value, true
			continue
		}
		resp.Headers = append(resp.Headers, Header{Name: name, Value: value})
	}

	_, hasLocation := resp.Get("Location")
	switch {
	case statusSeen:
		code, reason, err := parseStatus(statusLine)
		if err != nil {
			warnf("%v; using %d", err, http.StatusOK)
			code, reason = http.StatusOK, ""
		}
		resp.Status, resp.Reason = code, reason
	case hasLocation:
		resp.Status = http.StatusFound
	default:
		resp.Status = http.StatusOK
	}
	if resp.Reason == "" {
		resp.Reason = http.StatusText(resp.Status)
	}
	if _, ok := resp.Get("Content-Type"); !ok && !hasLocation && len(stdout) > 0 {
		if !(len(resp.Body) == 0 && noBodyStatus(resp.Status)) {
			warnf("no Content-Type in a document response (RFC 3875 §6.3.1)")
		}
	}
	if !found {
		what := "empty response: the application sent nothing on STDOUT"
		if len(stdout) > 0 {
			what = fmt.Sprintf("the header block of the application's %d bytes of STDOUT has no end (no blank line)", len(stdout))
		}
		resp.Gateway = fmt.Sprintf("%s; nginx logs %q", what, nginxNoStdout)
		resp.Status, resp.Reason = http.StatusBadGateway, http.StatusText(http.StatusBadGateway)
		warn = append(warn, resp.GatewayText())
	}
	return resp, warn
}

// headerEnd returns the index just past the blank line that ends the header
// block, and whether there was one. Without one it returns len(b).
func headerEnd(b []byte) (int, bool) {
	pos := 0
	for pos < len(b) {
		i := bytes.IndexByte(b[pos:], '\n')
		if i < 0 {
			return len(b), false
		}
		line := b[pos : pos+i]
		pos += i + 1
		if len(line) == 0 || (len(line) == 1 && line[0] == '\r') {
			return pos, true
		}
	}
	return len(b), false
}

// looksLikeHeaders reports whether every line of b has the form "name: value".
func looksLikeHeaders(b []byte) bool {
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !ValidFieldName(string(line[:colon])) {
			return false
		}
	}
	return true
}

// parseStatus parses the value of a Status header: a three-digit code and an
// optional reason phrase (RFC 3875 §6.3.3).
func parseStatus(v string) (int, string, error) {
	codeText, reason, _ := strings.Cut(v, " ")
	code, err := strconv.Atoi(codeText)
	if err != nil || len(codeText) != 3 || code < 100 {
		return 0, "", fmt.Errorf("bad Status header %q: want a three-digit code", v)
	}
	return code, strings.TrimSpace(reason), nil
}

// noBodyStatus reports whether an HTTP response with this status has no body,
// so that a missing Content-Type is expected.
func noBodyStatus(code int) bool {
	return code < 200 || code == http.StatusNoContent || code == http.StatusNotModified
}

// ValidFieldName reports whether s is an HTTP field name: a token (RFC 9110 §5.1).
func ValidFieldName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidFieldValue reports whether s may be sent as an HTTP field value: no
// control characters other than tab (RFC 9110 §5.5).
func ValidFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// clip shortens a line quoted in a warning.
func clip(b []byte) []byte {
	const n = 80
	if len(b) > n {
		return append(b[:n:n], "..."...)
	}
	return b
}
