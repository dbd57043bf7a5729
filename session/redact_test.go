package session

import (
	"reflect"
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
