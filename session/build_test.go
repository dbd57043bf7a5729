package session

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"fcgiscope/fcgi"
)

func TestBuildInputRaw(t *testing.T) {
	in := Input{Mode: ModeRaw, Role: fcgi.RoleResponder, KeepConn: true, RequestID: 7,
		Params: []RawParam{{"B", "2", true}, {"X", "off", false}, {"", "nameless", true}, {"A", "1", true}, {"B", "3", true}},
		Body:   []byte("body")}
	req, err := BuildInput(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	want := Params{{"B", "2", OriginUser}, {"A", "1", OriginUser}, {"B", "3", OriginUser}}
	if !slices.Equal(req.Params, want) {
		t.Errorf("params %v, want %v", req.Params, want)
	}
	if req.BodyLen != 4 || !req.KeepConn || req.ID != 7 || req.Role != fcgi.RoleResponder {
		t.Errorf("request %+v", req)
	}
}

func TestBuildInputHTTPRoles(t *testing.T) {
	root := t.TempDir()
	http := &HTTPInput{Method: "POST", URL: "/index.php/extra?q=1", DocumentRoot: root}
	in := Input{Mode: ModeHTTP, HTTP: http, Body: []byte("a=1"),
		Params: []RawParam{{"RAW_ONLY", "kept aside", true}}}

	req, err := BuildInput(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := req.Params.Get("CONTENT_LENGTH"); v != "3" || req.BodyLen != 3 {
		t.Errorf("responder: CONTENT_LENGTH %q, body %d", v, req.BodyLen)
	}
	if _, ok := req.Params.Get("RAW_ONLY"); ok {
		t.Error("Raw mode's table was sent in HTTP mode")
	}

	in.Role = fcgi.RoleAuthorizer
	req, err = BuildInput(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"CONTENT_LENGTH", "PATH_INFO", "SCRIPT_NAME"} {
		if _, ok := req.Params.Get(name); ok {
			t.Errorf("authorizer request has %s", name)
		}
	}
	if req.Body != nil || req.Role != fcgi.RoleAuthorizer {
		t.Errorf("authorizer request: body %v role %v", req.Body, req.Role)
	}

	in.Role = fcgi.RoleFilter
	if _, err := BuildInput(context.Background(), in); err == nil {
		t.Error("filter without a data file: no error")
	}
	data := filepath.Join(root, "data.txt")
	if err := os.WriteFile(data, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	in.DataFile = data
	req, err = BuildInput(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := req.Params.Get("FCGI_DATA_LENGTH"); v != "5" || req.DataLen != 5 {
		t.Errorf("filter: FCGI_DATA_LENGTH %q, data %d", v, req.DataLen)
	}

	if _, err := BuildInput(context.Background(), Input{Mode: ModeHTTP}); err == nil {
		t.Error("HTTP mode without HTTP input: no error")
	}
}
