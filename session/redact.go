// Redaction: secret param and header values hidden from exports and logs.

package session

import "strings"

// Redacted replaces a secret value in exports and logs.
const Redacted = "[redacted]"

// secretWords make a param or header name secret when the upper-cased name
// contains one of them.
var secretWords = [...]string{"SECRET", "PASSWORD", "TOKEN", "API_KEY"}

// IsSecretParam reports whether the value of the FastCGI param name is a
// secret: HTTP_AUTHORIZATION, HTTP_PROXY_AUTHORIZATION, HTTP_COOKIE,
// PHP_AUTH_PW, or a name containing SECRET, PASSWORD, TOKEN or API_KEY in
// any case (DB_PASSWORD, HTTP_X_API_KEY, csrf_token).
func IsSecretParam(name string) bool {
	n := strings.ToUpper(strings.TrimSpace(name))
	switch n {
	case "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION", "HTTP_COOKIE", "PHP_AUTH_PW":
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// IsSecretHeader reports whether the value of the HTTP header name is a
// secret: Authorization, Proxy-Authorization, Cookie, Set-Cookie, or a
// header whose CGI param would be secret (X-Api-Key, X-Auth-Token).
func IsSecretHeader(name string) bool {
	n := strings.TrimSpace(name)
	if strings.EqualFold(n, "Set-Cookie") {
		return true
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
