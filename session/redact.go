// Redaction: secret param and header values hidden from exports and logs.

package session

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Redacted replaces a secret value in exports and logs.
const Redacted = "[redacted]"

// secretWords make a param or header name secret when the upper-cased name
// contains one of them. isSecretUpper knows their first letters.
var secretWords = [...]string{"SECRET", "PASSWORD", "TOKEN", "API_KEY"}

// IsSecretParam reports whether the value of the FastCGI param name is a
// secret: HTTP_AUTHORIZATION, HTTP_PROXY_AUTHORIZATION, HTTP_COOKIE,
// PHP_AUTH_PW, or a name containing SECRET, PASSWORD, TOKEN or API_KEY in
// any case (DB_PASSWORD, HTTP_X_API_KEY, csrf_token).
func IsSecretParam(name string) bool {
	var buf [128]byte
	if n, ok := upperASCII(buf[:0], "", name); ok {
		return isSecretUpper(n)
	}
	return isSecretUpper([]byte(strings.ToUpper(strings.TrimSpace(name))))
}

// isSecretUpper is IsSecretParam for a name trimmed and upper-cased.
func isSecretUpper(n []byte) bool {
	switch string(n) {
	case "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE", "PHP_AUTH_PW":
		return true
	}
	for i := range n { // one pass: names are short, and most have none of the words
		var w string
		switch n[i] {
		case 'S':
			w = secretWords[0]
		case 'P':
			w = secretWords[1]
		case 'T':
			w = secretWords[2]
		case 'A':
			w = secretWords[3]
		default:
			continue
		}
		if bytes.HasPrefix(n[i:], []byte(w)) {
			return true
		}
	}
	return false
}

// upperASCII appends prefix and name, trimmed of white space and
// upper-cased, with '-' turned into '_' when prefix is set (a header's
// name as its CGI param), to b: what strings.ToUpper and TrimSpace give,
// without allocating, for a name of at most cap(b) bytes of ASCII. ok is
// false for a longer name or one that is not ASCII.
func upperASCII(b []byte, prefix, name string) (_ []byte, ok bool) {
	for len(name) > 0 && asciiSpace(name[0]) {
		name = name[1:]
	}
	for len(name) > 0 && asciiSpace(name[len(name)-1]) {
		name = name[:len(name)-1]
	}
	if len(prefix)+len(name) > cap(b)-len(b) {
		return b, false
	}
	b = append(b, prefix...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= utf8.RuneSelf:
			return b, false
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case c == '-' && prefix != "":
			c = '_'
		}
		b = append(b, c)
	}
	return b, true
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// IsSecretHeader reports whether the value of the HTTP header name is a
// secret: Authorization, Proxy-Authorization, Cookie, Set-Cookie, or a
// header whose CGI param would be secret (X-Api-Key, X-Auth-Token).
func IsSecretHeader(name string) bool {
	n := strings.TrimSpace(name)
	if strings.EqualFold(n, "Set-Cookie") {
		return true
	}
	var buf [128]byte
	if p, ok := upperASCII(buf[:0], "HTTP_", n); ok {
		return isSecretUpper(p)
	}
	return IsSecretParam("HTTP_" + strings.ReplaceAll(n, "-", "_"))
}

// Redact returns a copy of ps in which every secret value (IsSecretParam)
// is Redacted. Names, order and origins are kept; ps is not modified.
func Redact(ps Params) Params {
	if ps == nil {
		return nil
	}
	out := make(Params, len(ps))
	for i, p := range ps {
		if IsSecretParam(p.Name) {
			p.Value = Redacted
		}
		out[i] = p
	}
	return out
}

// RedactRaw is Redact for composed params.
func RedactRaw(ps []RawParam) []RawParam {
	if ps == nil {
		return nil
	}
	out := make([]RawParam, len(ps))
	for i, p := range ps {
		if IsSecretParam(p.Name) {
			p.Value = Redacted
		}
		out[i] = p
	}
	return out
}

// RedactHeaders returns a copy of hs in which every secret value
// (IsSecretHeader) is Redacted.
func RedactHeaders(hs []Header) []Header {
	if hs == nil {
		return nil
	}
	out := make([]Header, len(hs))
	for i, h := range hs {
		if IsSecretHeader(h.Name) {
			h.Value = Redacted
		}
		out[i] = h
	}
	return out
}

// redactInput returns a copy of in with secret param and header values
// Redacted.
func redactInput(in Input) Input {
	in.Params = RedactRaw(in.Params)
	if in.HTTP != nil {
		h := *in.HTTP
		h.Headers = RedactHeaders(h.Headers)
		in.HTTP = &h
	}
	return in
}
