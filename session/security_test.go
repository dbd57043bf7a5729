// Security cases, black box: the document-root router, the proxy's listen
// address, shell quoting of exported commands, redaction of secrets in logs
// and exports, and that no code path runs a program.

package session_test

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fcgiscope/session"
)

// docroot builds a document root with real files, a sibling folder whose
// name extends the root's (www-evil), a folder outside it, and symlinks
// from inside to outside and to inside.
func docroot(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "www"), filepath.Join(base, "outside")
	files := map[string]string{
		"www/index.php": "<?php", "www/sub/a.php": "<?php", "www/info.php": "<?php",
		"www-evil/x.php": "<?php", "outside/secret.php": "<?php", "outside/dir/b.php": "<?php",
	}
	for name, content := range files {
		p := filepath.Join(base, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"www/link.php":    filepath.Join(outside, "secret.php"),
		"www/linkdir":     filepath.Join(outside, "dir"),
		"www/rel.php":     "../outside/secret.php",
		"www/inside.php":  "sub/a.php",
		"www/sub/up.php":  "../index.php",
		"www/loop.php":    "loop.php",
		"www/dangle.php":  filepath.Join(outside, "missing.php"),
		"www/evil.php":    filepath.Join(base, "www-evil", "x.php"),
		"www/sub/out.php": "../../outside/secret.php",
	} {
		if err := os.Symlink(target, filepath.Join(base, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

// TestRouterRefusesEscapes feeds the document-root router every known way
// out of the root. Each must be refused with an error that names the cause
// (ErrPathEscapes, ErrUnsafePath or ErrBadHTTP) — or, for the tricks that on
// Linux name an ordinary file inside the root (double encoding,
// backslashes, fullwidth dots, overlong UTF-8), routed to that file: never
// to a path that leaves the root.
func TestRouterRefusesEscapes(t *testing.T) {
	root, _ := docroot(t)
	refused := []struct {
		url  string
		want error
	}{
		{"/../outside/secret.php", session.ErrPathEscapes},
		{"/sub/../../outside/secret.php", session.ErrPathEscapes},
		{"/%2e%2e/outside/secret.php", session.ErrPathEscapes},
		{"/%2E%2e/outside/secret.php", session.ErrPathEscapes},
		{"/.%2e/outside/secret.php", session.ErrPathEscapes},
		{"/sub/%2e%2E/%2E./outside/secret.php", session.ErrPathEscapes},
		{"/sub/..%2f..%2foutside/secret.php", session.ErrPathEscapes},
		{"/%2F..%2F..%2Foutside%2Fsecret.php", session.ErrPathEscapes},
		{"/index.php/../../../outside/secret.php", session.ErrPathEscapes},
		// NUL: raw, encoded.
		{"/index.php%00.txt", session.ErrUnsafePath},
		{"/info.php%00", session.ErrUnsafePath},
		{"/index.php\x00", session.ErrBadHTTP},
		// CVE-2019-11043: a newline defeats ^(.+\.php)(/.+)$.
		{"/index.php%0a/info.php", session.ErrUnsafePath},
		{"/index.php/%0a", session.ErrUnsafePath},
		{"/info.php%0d%0a/x", session.ErrUnsafePath},
		{"/path%0Ainfo.php", session.ErrUnsafePath},
		{"/index.php\n/info.php", session.ErrBadHTTP},
		// Broken escapes.
		{"/%2", session.ErrBadHTTP},
		{"/%zz/index.php", session.ErrBadHTTP},
	}
	for _, split := range []string{"", `^(.+\.php)(/.+)$`} {
		for _, tc := range refused {
			in := session.HTTPInput{URL: tc.url, DocumentRoot: root, SplitPath: split}
			r, err := session.RoutePHP(in)
			if !errors.Is(err, tc.want) {
				t.Errorf("split %q, URL %q: route %+v, error %v; want %v", split, tc.url, r, err, tc.want)
				continue
			}
			if !strings.HasPrefix(err.Error(), "session: ") {
				t.Errorf("URL %q: error %q does not say where it comes from", tc.url, err)
			}
		}
	}

	// Tricks that name an ordinary file inside the root on Linux but
	// escape it in a layer that decodes twice, folds Unicode or takes "\\"
	// for a separator: refused too, the error naming the trick.
	for _, tc := range []struct{ url, says string }{
		{"/%252e%252e/outside/secret.php", "encoded twice"},
		{"/%252e%252e%252foutside/secret.php", "encoded twice"},
		{"/x%252fsecret.php", "encoded twice"},
		{"/..%5coutside%5csecret.php", "backslash"},
		{"/..\\..\\outside\\secret.php", "backslash"},
		{"/%EF%BC%8E%EF%BC%8E/outside/secret.php", "U+FF0E FULLWIDTH FULL STOP"},
		{"/\uff0e\uff0e/outside/secret.php", "U+FF0E"},
		{"/..\uff0foutside/secret.php", "U+FF0F FULLWIDTH SOLIDUS"},
		{"/%c0%ae%c0%ae/outside/secret.php", "not UTF-8"},
		{"/%e0%80%ae%e0%80%ae/outside/secret.php", "not UTF-8"},
		{"/%c0%ae%c0%ae%c0%afoutside%c0%afsecret.php", "not UTF-8"},
		{"/%ff/index.php", "not UTF-8"},
		{"/\u2025/outside/secret.php", "U+2025 TWO DOT LEADER"},
		{"/sub\u2215a.php", "DIVISION SLASH"},
	} {
		r, err := session.RoutePHP(session.HTTPInput{URL: tc.url, DocumentRoot: root})
		if !errors.Is(err, session.ErrUnsafePath) {
			t.Errorf("URL %q: route %+v, error %v; want ErrUnsafePath", tc.url, r, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.says) {
			t.Errorf("URL %q: error %q does not say %q", tc.url, err, tc.says)
		}
	}

	// Ordinary non-ASCII names and a literal "%" still route, as in nginx.
	for url, script := range map[string]string{
		"/caf%C3%A9.php":       "/café.php",
		"/café.php/x":          "/café.php",
		"/%E6%97%A5.php":       "/日.php",
		"/a%25b.php":           "/a%b.php",
		"/100%25/x.php":        "/100%/x.php",
		"/dots...php":          "/dots...php",
		"/index.php/%E2%82%AC": "/index.php",
	} {
		r, err := session.RoutePHP(session.HTTPInput{URL: url, DocumentRoot: root})
		if err != nil || r.ScriptName != script {
			t.Errorf("URL %q: route %+v, error %v; want SCRIPT_NAME %q", url, r, err, script)
			continue
		}
		assertConfined(t, url, root, r)
	}
}

// assertConfined fails unless the route's script lies inside root, by path
// components, both as written and through symlinks.
func assertConfined(t *testing.T, url, root string, r session.Route) {
	t.Helper()
	clean := filepath.Clean(r.ScriptFilename)
	rel, err := filepath.Rel(root, clean)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") || strings.Contains("/"+r.ScriptFilename+"/", "/../") {
		t.Errorf("URL %q: SCRIPT_FILENAME %q leaves %q", url, r.ScriptFilename, root)
	}
	if real, err := filepath.EvalSymlinks(clean); err == nil {
		if rel, _ := filepath.Rel(root, real); rel == ".." || strings.HasPrefix(rel, "../") {
			t.Errorf("URL %q: SCRIPT_FILENAME %q resolves to %q, outside the root", url, r.ScriptFilename, real)
		}
	}
}

// TestRouterPrefixConfusion: /srv/www must not admit /srv/www-evil, which a
// split regexp that drops the leading slash would produce by string
// concatenation (gofast's docroot check compared string prefixes).
func TestRouterPrefixConfusion(t *testing.T) {
	root, _ := docroot(t)
	for _, in := range []session.HTTPInput{
		{URL: "/-evil/x.php", DocumentRoot: root, SplitPath: `^/(.+\.php)(/.*)?$`},
		{URL: "/-evil/x.php/more", DocumentRoot: root, SplitPath: `^/(.+\.php)(/.*)?$`},
		{URL: "/../www-evil/x.php", DocumentRoot: root},
	} {
		r, err := session.RoutePHP(in)
		if !errors.Is(err, session.ErrPathEscapes) {
			t.Errorf("%q with split %q: route %+v, error %v; want ErrPathEscapes", in.URL, in.SplitPath, r, err)
		}
	}
	// The same regexp on an ordinary path stays usable: root + "x.php"
	// is only refused because it leaves the root.
	r, err := session.RoutePHP(session.HTTPInput{URL: "/index.php", DocumentRoot: root + "/", SplitPath: `^/(.+\.php)(/.*)?$`})
	if err != nil || r.ScriptFilename != root+"/index.php" {
		t.Errorf("docroot with a trailing slash: %+v, %v", r, err)
	}
}

// TestRouterSymlinks: with AllowSymlinks off, a script that resolves
// outside the root through a symlink (of the file, of a folder on the way,
// relative or absolute, into a sibling folder) is refused; symlinks that
// stay inside are fine; with AllowSymlinks on, the outside ones route.
func TestRouterSymlinks(t *testing.T) {
	root, _ := docroot(t)
	outside := []string{"/link.php", "/linkdir/b.php", "/rel.php", "/evil.php", "/sub/out.php", "/link.php/extra"}
	inside := []string{"/inside.php", "/sub/up.php", "/index.php", "/sub/a.php/path/info"}
	for _, url := range outside {
		r, err := session.RoutePHP(session.HTTPInput{URL: url, DocumentRoot: root})
		if !errors.Is(err, session.ErrPathEscapes) || !strings.Contains(err.Error(), "symlink") {
			t.Errorf("%s: route %+v, error %v; want ErrPathEscapes naming the symlink", url, r, err)
		}
		if _, err := session.RoutePHP(session.HTTPInput{URL: url, DocumentRoot: root, AllowSymlinks: true}); err != nil {
			t.Errorf("%s with AllowSymlinks: %v", url, err)
		}
	}
	for _, url := range inside {
		r, err := session.RoutePHP(session.HTTPInput{URL: url, DocumentRoot: root})
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		assertConfined(t, url, root, r)
	}
	// Dangling and looping links resolve to nothing that could run: the
	// router does not hang on them and routes them inside the root (php-fpm
	// answers "Primary script unknown").
	for _, url := range []string{"/dangle.php", "/loop.php"} {
		r, err := session.RoutePHP(session.HTTPInput{URL: url, DocumentRoot: root})
		if err == nil && r.ScriptFilename != root+url {
			t.Errorf("%s: routed to %q", url, r.ScriptFilename)
		}
	}
	// A document root that is itself a symlink is the root: scripts inside
	// it are fine.
	linkRoot := filepath.Join(t.TempDir(), "site")
	if err := os.Symlink(root, linkRoot); err != nil {
		t.Fatal(err)
	}
	if _, err := session.RoutePHP(session.HTTPInput{URL: "/sub/a.php", DocumentRoot: linkRoot}); err != nil {
		t.Errorf("symlinked document root: %v", err)
	}
	if _, err := session.RoutePHP(session.HTTPInput{URL: "/link.php", DocumentRoot: linkRoot}); !errors.Is(err, session.ErrPathEscapes) {
		t.Errorf("symlink out of a symlinked document root: %v", err)
	}
	// The front controller does not open a way out either.
	if r, err := session.RoutePHP(session.HTTPInput{URL: "/link.php", DocumentRoot: root, FrontController: true}); !errors.Is(err, session.ErrPathEscapes) {
		t.Errorf("front controller and an outside symlink: %+v, %v", r, err)
	}
}

// TestNoCodeRunsPrograms: no non-test Go file of the module imports os/exec
// or starts a process (os.StartProcess, syscall.Exec, ForkExec,
// StartProcess), except the test helper package fcgi/fcgitest, which
// starts php-fpm and nginx for tests. So no code path executes a shell or a
// program with user-supplied text.
func TestNoCodeRunsPrograms(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found: %v", err)
	}
	allowed := map[string]bool{"fcgi/fcgitest": true}
	forbiddenCalls := map[string]map[string]bool{
		"os":      {"StartProcess": true},
		"syscall": {"Exec": true, "ForkExec": true, "StartProcess": true},
		"unix":    {"Exec": true},
	}
	scanned, allowedSeen := 0, false
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if de.IsDir() {
			if path != root && (strings.HasPrefix(de.Name(), ".") || de.Name() == "testdata" || de.Name() == "vendor" ||
				fileExists(filepath.Join(path, "go.mod"))) {
				return filepath.SkipDir // hidden, test data, other modules (bench/)
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		scanned++
		pkg := filepath.ToSlash(filepath.Dir(rel))
		var found []string
		names := map[string]string{} // local name -> import path
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			local := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				local = imp.Name.Name
			}
			names[local] = p
			if p == "os/exec" {
				found = append(found, "imports os/exec")
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok {
				p := names[id.Name]
				if forbiddenCalls[p[strings.LastIndex(p, "/")+1:]][sel.Sel.Name] && (p == "os" || p == "syscall" || p == "golang.org/x/sys/unix") {
					found = append(found, fmt.Sprintf("%s: uses %s.%s", fset.Position(sel.Pos()), id.Name, sel.Sel.Name))
				}
			}
			return true
		})
		if len(found) > 0 {
			if allowed[pkg] {
				allowedSeen = true
			} else {
				t.Errorf("%s (package %s): %s", rel, pkg, strings.Join(found, "; "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 20 || !allowedSeen {
		t.Fatalf("scanned %d files, saw fcgitest's os/exec: %v — the scan is not looking at the module", scanned, allowedSeen)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
