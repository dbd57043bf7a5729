package session

import (
	"reflect"
	"strings"
	"testing"
)

func TestIsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"HTTP_AUTHORIZATION": true, "http_authorization": true, "HTTP_PROXY_AUTHORIZATION": true,
		"HTTP_COOKIE": true, "PHP_AUTH_PW": true, "DB_PASSWORD": true, "password": true, "APP_SECRET": true,
		"HTTP_X_API_KEY": true, "api_key": true, "CSRF_TOKEN": true, "HTTP_X_AUTH_TOKEN": true, " HTTP_COOKIE ": true,
		"PHP_AUTH_USER": false, "HTTP_HOST": false, "QUERY_STRING": false, "SCRIPT_FILENAME": false,
		"HTTP_SET_COOKIE_X": false, "APIKEY": false, "": false,
		"my_Secret_value": true, "TOKE": false, "XTOKEN": true, "ſecret": true, "HTTP_COOKIEX": false,
	} {
		if got := IsSecretParam(name); got != want {
			t.Errorf("IsSecretParam(%q) = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"set-cookie": true, "X-Api-Key": true, "X-Auth-Token": true, "X-Password": true,
		"Host": false, "Content-Type": false, "X-Forwarded-For": false, "Cookie2x": false,
	} {
		if got := IsSecretHeader(name); got != want {
			t.Errorf("IsSecretHeader(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestRedact(t *testing.T) {
	ps := Params{{"HTTP_AUTHORIZATION", "Bearer x", "headers"}, {"HOST", "h", "cgi"}, {"DB_PASSWORD", "pw", "user"},
		{"DB_PASSWORD", "pw2", "user"}}
	orig := append(Params(nil), ps...)
	got := Redact(ps)
	want := Params{{"HTTP_AUTHORIZATION", Redacted, "headers"}, {"HOST", "h", "cgi"}, {"DB_PASSWORD", Redacted, "user"},
		{"DB_PASSWORD", Redacted, "user"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Redact = %v", got)
	}
	if !reflect.DeepEqual(ps, orig) {
		t.Error("Redact modified its argument")
	}
	if Redact(nil) != nil || RedactRaw(nil) != nil || RedactHeaders(nil) != nil {
		t.Error("nil in, non-nil out")
	}
	raw := RedactRaw([]RawParam{{"PHP_AUTH_PW", "x", false}, {"A", "b", true}})
	if !reflect.DeepEqual(raw, []RawParam{{"PHP_AUTH_PW", Redacted, false}, {"A", "b", true}}) {
		t.Errorf("RedactRaw = %v", raw)
	}
	hs := RedactHeaders([]Header{{"Cookie", "a=1"}, {"Accept", "*/*"}})
	if !reflect.DeepEqual(hs, []Header{{"Cookie", Redacted}, {"Accept", "*/*"}}) {
		t.Errorf("RedactHeaders = %v", hs)
	}
	in := Input{Params: []RawParam{{"TOKEN", "t", true}}, HTTP: &HTTPInput{Headers: []Header{{"Authorization", "Basic x"}}}}
	out := redactInput(in)
	if out.Params[0].Value != Redacted || out.HTTP.Headers[0].Value != Redacted {
		t.Errorf("redactInput = %+v %+v", out.Params, out.HTTP.Headers)
	}
	if in.Params[0].Value != "t" || in.HTTP.Headers[0].Value != "Basic x" {
		t.Error("redactInput modified its argument")
	}
}

// TestIsSecretFastPathSameAsSlow: IsSecretParam and IsSecretHeader, which
// upper-case ASCII names without allocating, answer what the plain
// definition (strings.ToUpper of the trimmed name) answers, for ASCII
// names, non-ASCII ones (whose upper case can be ASCII: "ſ" is "S") and
// names too long for the fast path.
func TestIsSecretFastPathSameAsSlow(t *testing.T) {
	slowParam := func(name string) bool {
		return isSecretUpper([]byte(strings.ToUpper(strings.TrimSpace(name))))
	}
	slowHeader := func(name string) bool {
		n := strings.TrimSpace(name)
		return strings.EqualFold(n, "Set-Cookie") || slowParam("HTTP_"+strings.ReplaceAll(n, "-", "_"))
	}
	names := []string{"", " ", "HTTP_COOKIE", "http_cookie", " Http_Cookie\t", "HTTP_COOKIE2", "php_auth_pw", "PHP_AUTH_PW ",
		"DB_PASSWORD", "db_passWord", "csrf_token", "X_API_KEY", "x-api-key", "X-Api-Key", "api-key", "Authorization",
		"authorization", "Proxy-Authorization", "Cookie", "set-cookie", " Set-Cookie ", "Set_Cookie", "SECRET", "secreT_x",
		"PAſſWORD", "paſſword", "ſecret", "tokén", "TOKEN\u00a0", "\u00a0token", "x-auth-tokEn", "x\u212aey", "CONTENT_TYPE",
		"Content-Type", "HTTP_HOST", "REQUEST_METHOD", strings.Repeat("a", 127) + "token", strings.Repeat("x-", 100) + "Token",
		strings.Repeat("b", 200), "\x00token", "\xfftoken", "pass\nword", "HTTP_AUTHORIZATION\v"}
	for _, n := range names {
		if got, want := IsSecretParam(n), slowParam(n); got != want {
			t.Errorf("IsSecretParam(%q) = %v, want %v", n, got, want)
		}
		if got, want := IsSecretHeader(n), slowHeader(n); got != want {
			t.Errorf("IsSecretHeader(%q) = %v, want %v", n, got, want)
		}
	}
	if testing.AllocsPerRun(100, func() { IsSecretParam("HTTP_X_FORWARDED_FOR"); IsSecretHeader("X-Forwarded-For") }) != 0 {
		t.Error("IsSecretParam and IsSecretHeader allocate for an ASCII name")
	}
}
