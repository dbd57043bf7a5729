// Tests of the role middlewares: file endpoint, authorizer, filter.

package session

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// run runs mws to a terminal that keeps the request.
func run(t *testing.T, mws ...Middleware) *Request {
	t.Helper()
	req, err := Build(context.Background(), Chain(mws...))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestFileEndpoint(t *testing.T) {
	in := HTTPInput{URL: "/any/path?x=1", DocumentRoot: "/srv/www"}
	req := run(t, CGIBasics(in), Remote(in), Headers(in), FileEndpoint("/srv/app/front.php"))
	want := map[string][2]string{
		"SCRIPT_FILENAME": {"/srv/app/front.php", OriginFile},
		"SCRIPT_NAME":     {"/front.php", OriginFile},
		"DOCUMENT_ROOT":   {"/srv/app", OriginFile},
		"DOCUMENT_URI":    {"/any/path", OriginCGI},
		"REQUEST_URI":     {"/any/path?x=1", OriginCGI},
	}
	for _, p := range req.Params {
		if w, ok := want[p.Name]; ok {
			if p.Value != w[0] || p.Origin != w[1] {
				t.Errorf("%s = %q (%s), want %q (%s)", p.Name, p.Value, p.Origin, w[0], w[1])
			}
			delete(want, p.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing %v", want)
	}
	if v, ok := req.Params.Get("PATH_INFO"); ok {
		t.Errorf("PATH_INFO = %q; a file endpoint sets none", v)
	}
	// In nginx's order: SCRIPT_NAME 5th, SCRIPT_FILENAME after HTTP_HOST.
	if req.Params[4].Name != "SCRIPT_NAME" || req.Params[len(req.Params)-1].Name != "SCRIPT_FILENAME" {
		t.Errorf("order:\n%s", dumpParams(req.Params))
	}
	for _, bad := range []string{"front.php", "/srv/a\nb.php"} {
		if _, err := Build(context.Background(), FileEndpoint(bad)); err == nil || !strings.HasPrefix(err.Error(), "session: file endpoint: ") {
			t.Errorf("FileEndpoint(%q): err = %v", bad, err)
		}
	}
}

func TestAuthorizer(t *testing.T) {
	in := HTTPInput{Method: "POST", URL: "/admin.php/extra", DocumentRoot: "/srv/www",
		Headers: []Header{{"Authorization", "Basic YWxpY2U6c2VjcmV0"}}, Body: []byte("secret body")}
	req := run(t, HTTPChain(in), Authorizer())
	if req.Role != fcgi.RoleAuthorizer {
		t.Errorf("role %v", req.Role)
	}
	if req.Body != nil || req.BodyLen != 0 || req.Data != nil {
		t.Errorf("body %v len %d data %v; want none", req.Body, req.BodyLen, req.Data)
	}
	for _, name := range []string{"CONTENT_LENGTH", "PATH_INFO", "PATH_TRANSLATED", "SCRIPT_NAME"} {
		if v, ok := req.Params.Get(name); ok {
			t.Errorf("%s = %q sent to an authorizer", name, v)
		}
	}
	for name, want := range map[string]string{"REMOTE_USER": "alice", "REQUEST_METHOD": "POST", "SCRIPT_FILENAME": "/srv/www/admin.php",
		"REQUEST_URI": "/admin.php/extra", "HTTP_CONTENT_LENGTH": "11"} {
		if v, _ := req.Params.Get(name); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
}

func TestFilterFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "page.html")
	content := "<h1>filtered</h1>\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	in := HTTPInput{URL: "/filter.php", DocumentRoot: "/srv/www"}
	req := run(t, HTTPChain(in), FilterFile(path))
	if req.Role != fcgi.RoleFilter {
		t.Errorf("role %v", req.Role)
	}
	n := len(req.Params)
	got := req.Params[n-2:]
	want := Params{{"FCGI_DATA_LAST_MOD", "1709208000", OriginFilter}, {"FCGI_DATA_LENGTH", "18", OriginFilter}}
	if got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v, want %v", got, want)
	}
	if req.DataLen != int64(len(content)) {
		t.Errorf("DataLen %d", req.DataLen)
	}
	data, err := io.ReadAll(req.Data)
	if err != nil || string(data) != content {
		t.Errorf("DATA %q, %v", data, err)
	}
	if _, err := Build(context.Background(), FilterFile(filepath.Join(t.TempDir(), "none"))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Build(context.Background(), FilterFile(t.TempDir())); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("directory: %v", err)
	}
}

// TestFileBodyClose: a body that is never read opens nothing; one closed
// early reads no more.
func TestFileBodyClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b")
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &fileBody{path: path, left: 10}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("read after close: %d, %v", n, err)
	}
	b = &fileBody{path: path, left: 10}
	p := make([]byte, 4)
	if n, err := b.Read(p); n != 4 || err != nil || string(p) != "0123" {
		t.Errorf("first read: %d %v %q", n, err, p)
	}
	if b.f == nil {
		t.Fatal("file not open after a read")
	}
	b.Close()
	if b.f != nil {
		t.Error("file still open after Close")
	}
	gone := &fileBody{path: filepath.Join(t.TempDir(), "gone"), left: 1}
	if _, err := gone.Read(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
