// Tests of the compose side's pure parts: pasted params, request ids, and turning a composed Input into the request to send.

package ui

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

func TestParseParamLines(t *testing.T) {
	text := "SCRIPT_FILENAME=/srv/www/index.php\r\n" +
		"\n# a comment\n" +
		"QUERY_STRING=a=1&b=2\n" +
		"HTTP_HOST: example.com\n" +
		"EMPTY=\n" +
		"fastcgi_param  REQUEST_METHOD  $request_method;\n" +
		"fastcgi_param SERVER_NAME \"my host\";\n" +
		"no separator here\n" +
		"=value without name\n" +
		"TWO WORDS=x\n"
	got, bad := parseParamLines(text)
	want := []session.RawParam{
		{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php", Enabled: true},
		{Name: "QUERY_STRING", Value: "a=1&b=2", Enabled: true},
		{Name: "HTTP_HOST", Value: "example.com", Enabled: true},
		{Name: "EMPTY", Value: "", Enabled: true},
		{Name: "REQUEST_METHOD", Value: "$request_method", Enabled: true},
		{Name: "SERVER_NAME", Value: "my host", Enabled: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("params = %+v\nwant %+v", got, want)
	}
	if len(bad) != 3 || !strings.HasPrefix(bad[0], "line 9:") || !strings.HasPrefix(bad[2], "line 11:") {
		t.Errorf("bad lines = %q, want lines 9, 10 and 11", bad)
	}
}

func TestParseRequestID(t *testing.T) {
	for in, want := range map[string]uint16{"": 0, "  ": 0, "1": 1, " 42 ": 42, "65535": 65535} {
		if got, err := parseRequestID(in); err != nil || got != want {
			t.Errorf("parseRequestID(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "65536", "-1", "x", "1.5", "0x10", "07"} {
		if _, err := parseRequestID(in); err == nil {
			t.Errorf("parseRequestID(%q) accepted", in)
		}
	}
}

func TestBuildRequestRaw(t *testing.T) {
	in := session.Input{Mode: session.ModeRaw, Role: fcgi.RoleResponder, KeepConn: true, RequestID: 9,
		Params: []session.RawParam{
			{Name: "B", Value: "2", Enabled: true},
			{Name: "OFF", Value: "x", Enabled: false},
			{Name: "", Value: "nameless", Enabled: true},
			{Name: "A", Value: "1", Enabled: true},
			{Name: "B", Value: "3", Enabled: true},
		},
		Body: []byte("body"),
	}
	req, err := buildRequest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := session.Params{{Name: "B", Value: "2", Origin: session.OriginUser}, {Name: "A", Value: "1", Origin: session.OriginUser}, {Name: "B", Value: "3", Origin: session.OriginUser}}
	if !slices.Equal(req.Params, want) {
		t.Errorf("params = %v, want %v (order and duplicates kept, disabled and nameless dropped)", req.Params, want)
	}
	if req.ID != 9 || !req.KeepConn || req.Role != fcgi.RoleResponder || req.BodyLen != 4 {
		t.Errorf("request = id %d keep %v role %v body %d", req.ID, req.KeepConn, req.Role, req.BodyLen)
	}
	if b, _ := io.ReadAll(req.Body); string(b) != "body" {
		t.Errorf("body = %q", b)
	}
}

func TestBuildRequestHTTP(t *testing.T) {
	h := session.HTTPInput{Method: "POST", URL: "/echo?x=1", DocumentRoot: "/srv/www",
		Headers: []session.Header{{Name: "Content-Type", Value: "text/plain"}}}
	in := session.Input{Mode: session.ModeHTTP, Role: fcgi.RoleResponder, HTTP: &h, Body: []byte("hello"),
		Params: []session.RawParam{{Name: "RAW_ONLY", Value: "x", Enabled: true}}}
	req, err := buildRequest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"REQUEST_METHOD": "POST", "QUERY_STRING": "x=1", "CONTENT_LENGTH": "5",
		"CONTENT_TYPE": "text/plain", "SCRIPT_FILENAME": "/srv/www/echo",
	} {
		if got, _ := req.Params.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := req.Params.Get("RAW_ONLY"); ok {
		t.Error("HTTP mode sent a Raw mode param")
	}
	if b, _ := io.ReadAll(req.Body); string(b) != "hello" {
		t.Errorf("body = %q, want the editor's body", b)
	}
	params, errs, warns := checkInput(context.Background(), in)
	if len(errs)+len(warns) != 0 || len(params) != len(req.Params) {
		t.Errorf("checkInput = %d params, %q, %q", len(params), errs, warns)
	}

	// The authorizer gets no body and no CONTENT_LENGTH.
	in.Role = fcgi.RoleAuthorizer
	req, err = buildRequest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := req.Params.Get("CONTENT_LENGTH"); ok || req.Body != nil || req.Role != fcgi.RoleAuthorizer {
		t.Errorf("authorizer request: role %v, body %v, params %v", req.Role, req.Body, req.Params)
	}
	if _, _, warns := checkInput(context.Background(), in); len(warns) != 0 {
		t.Errorf("authorizer warnings = %q, want none (its body is not sent)", warns)
	}

	// What the chain refuses comes back as an error, without the package prefixes.
	h.DocumentRoot = "relative/root"
	if _, errs, _ := checkInput(context.Background(), in); len(errs) != 1 || strings.HasPrefix(errs[0], "session:") || !strings.Contains(errs[0], "not an absolute path") {
		t.Errorf("errors for a relative document root = %q", errs)
	}
}

func TestBuildRequestFilter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.txt")
	if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	in := session.Input{Mode: session.ModeRaw, Role: fcgi.RoleFilter, DataFile: path,
		Params: []session.RawParam{{Name: "SCRIPT_FILENAME", Value: "/srv/f.php", Enabled: true}}}
	req, err := buildRequest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := req.Params.Get("FCGI_DATA_LENGTH"); got != "10" || req.Role != fcgi.RoleFilter || req.DataLen != 10 {
		t.Errorf("filter request: FCGI_DATA_LENGTH %q role %v data %d", got, req.Role, req.DataLen)
	}
	in.DataFile = filepath.Join(t.TempDir(), "missing")
	if _, err := buildRequest(context.Background(), in); err == nil {
		t.Error("a missing data file was accepted")
	}
}
