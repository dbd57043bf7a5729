// Tests of the PHP router: index files, split path, front controller, and
// keeping SCRIPT_FILENAME inside the document root.

package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// routerTree builds a document root www and, next to it, www-evil and
// outside, and returns the directory holding all three.
//
//	www/index.php, www/echo.php, www/café.php, www/sub/index.php,
//	www/empty/readme.txt,
//	www/link-out.php -> ../outside/evil.php, www/linkdir -> ../outside,
//	www/link-in.php -> echo.php, www/linkroot -> . (a loop back inside)
//	www-evil/x.php, outside/evil.php, outside/x.php
func routerTree(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	files := []string{"www/index.php", "www/echo.php", "www/café.php", "www/sub/index.php", "www/empty/readme.txt",
		"www-evil/x.php", "outside/evil.php", "outside/x.php"}
	for _, f := range files {
		p := filepath.Join(base, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("<?php echo 1;"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"www/link-out.php": "../outside/evil.php",
		"www/linkdir":      "../outside",
		"www/link-in.php":  "echo.php",
		"www/linkroot":     ".",
	}
	for name, dest := range links {
		if err := os.Symlink(dest, filepath.Join(base, filepath.FromSlash(name))); err != nil {
			t.Skipf("symlinks: %v", err)
		}
	}
	return base
}

func TestRoutePHP(t *testing.T) {
	base := routerTree(t)
	root := filepath.Join(base, "www")
	cases := []struct {
		name string
		in   HTTPInput
		want Route // DocumentRoot and ScriptFilename filled in below
	}{
		{"plain", HTTPInput{URL: "/echo.php?x"}, Route{URI: "/echo.php", ScriptName: "/echo.php"}},
		{"path info", HTTPInput{URL: "/echo.php/a/b"}, Route{URI: "/echo.php/a/b", ScriptName: "/echo.php", PathInfo: "/a/b"}},
		{"index at the root", HTTPInput{URL: "/"}, Route{URI: "/index.php", ScriptName: "/index.php", Index: true}},
		{"index in a directory", HTTPInput{URL: "/sub/?a=1"}, Route{URI: "/sub/index.php", ScriptName: "/sub/index.php", Index: true}},
		{"index after dot-dot", HTTPInput{URL: "/echo.php/.."}, Route{URI: "/index.php", ScriptName: "/index.php", Index: true}},
		{"location keeps the slash", HTTPInput{URL: "/echo.php/"}, Route{URI: "/echo.php/", ScriptName: "/echo.php/"}},
		{"directory without slash: no index", HTTPInput{URL: "/sub"}, Route{URI: "/sub", ScriptName: "/sub"}},
		{"missing script: php-fpm's business", HTTPInput{URL: "/missing.php/x"}, Route{URI: "/missing.php/x", ScriptName: "/missing.php", PathInfo: "/x"}},
		{"non-ASCII", HTTPInput{URL: "/caf%C3%A9.php"}, Route{URI: "/café.php", ScriptName: "/café.php"}},
		{"front controller: missing script", HTTPInput{URL: "/users/7?x", FrontController: true}, Route{URI: "/index.php", ScriptName: "/index.php", Front: true}},
		{"front controller: missing php script", HTTPInput{URL: "/missing.php/x", FrontController: true}, Route{URI: "/index.php", ScriptName: "/index.php", Front: true}},
		{"front controller: directory without index", HTTPInput{URL: "/empty/", FrontController: true}, Route{URI: "/index.php", ScriptName: "/index.php", Front: true}},
		{"front controller: existing script stays", HTTPInput{URL: "/echo.php/a", FrontController: true}, Route{URI: "/echo.php/a", ScriptName: "/echo.php", PathInfo: "/a"}},
		{"front controller: index still first", HTTPInput{URL: "/sub/", FrontController: true}, Route{URI: "/sub/index.php", ScriptName: "/sub/index.php", Index: true}},
		{"symlink inside", HTTPInput{URL: "/link-in.php"}, Route{URI: "/link-in.php", ScriptName: "/link-in.php"}},
		{"symlink loop back inside", HTTPInput{URL: "/linkroot/echo.php"}, Route{URI: "/linkroot/echo.php", ScriptName: "/linkroot/echo.php"}},
		{"symlinked directory, missing file", HTTPInput{URL: "/linkdir/none.php"}, Route{URI: "/linkdir/none.php", ScriptName: "/linkdir/none.php"}},
		{"symlink out, allowed", HTTPInput{URL: "/link-out.php", AllowSymlinks: true}, Route{URI: "/link-out.php", ScriptName: "/link-out.php"}},
		{"other index", HTTPInput{URL: "/empty/", Index: "readme.txt"}, Route{URI: "/empty/readme.txt", ScriptName: "/empty/readme.txt", Index: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.DocumentRoot = root
			got, err := RoutePHP(c.in)
			if err != nil {
				t.Fatal(err)
			}
			c.want.DocumentRoot = root
			c.want.ScriptFilename = root + c.want.ScriptName
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			// A Router made once routes the same, also from its cache.
			rt, err := NewRouter(c.in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if r, err := rt.Route(c.in.URL); err != nil || r != c.want {
					t.Errorf("Router.Route #%d: %+v, %v", i+1, r, err)
				}
			}
			// The middleware sends the same.
			ps, err := PreviewHTTP(context.Background(), c.in)
			if err != nil {
				t.Fatal(err)
			}
			for name, want := range map[string]string{"SCRIPT_NAME": got.ScriptName, "PATH_INFO": got.PathInfo,
				"SCRIPT_FILENAME": got.ScriptFilename, "DOCUMENT_URI": got.URI, "DOCUMENT_ROOT": root, "REQUEST_URI": c.in.URL} {
				if v, _ := ps.Get(name); v != want {
					t.Errorf("%s = %q, want %q", name, v, want)
				}
			}
		})
	}
}

// TestRoutePHPSecurity: every way out of the document root is refused,
// with an error that says what and where.
func TestRoutePHPSecurity(t *testing.T) {
	base := routerTree(t)
	root := filepath.Join(base, "www")
	cases := []struct {
		name string
		in   HTTPInput
		want error
		text string
	}{
		{"dot-dot", HTTPInput{URL: "/../outside/x.php"}, ErrPathEscapes, `".."`},
		{"encoded dot-dot", HTTPInput{URL: "/%2e%2e/outside/x.php"}, ErrPathEscapes, `".."`},
		{"encoded slashes", HTTPInput{URL: "/sub/..%2f..%2foutside/x.php"}, ErrPathEscapes, `".."`},
		{"string-prefix sibling through the split regexp", HTTPInput{URL: "/x-evil/x.php/p", SplitPath: `^/x(.+\.php)(/.*)$`}, ErrPathEscapes,
			fmt.Sprintf("path %q escapes document root %q", "-evil/x.php", root)},
		{"split capture without a leading slash", HTTPInput{URL: "/a/bc.php", SplitPath: `^/a/b(.+\.php)()$`}, ErrPathEscapes, `path "c.php" escapes document root`},
		{"symlinked file out", HTTPInput{URL: "/link-out.php"}, ErrPathEscapes, "outside document root"},
		{"symlinked directory out", HTTPInput{URL: "/linkdir/x.php/info"}, ErrPathEscapes, "outside document root"},
		{"CVE-2019-11043 newline", HTTPInput{URL: "/echo.php%0a/info.php"}, ErrUnsafePath, "CVE-2019-11043"},
		{"carriage return", HTTPInput{URL: "/echo.php%0D"}, ErrUnsafePath, "CVE-2019-11043"},
		{"NUL", HTTPInput{URL: "/echo.php%00.txt"}, ErrUnsafePath, "NUL"},
		{"directory without index", HTTPInput{URL: "/empty/"}, ErrNoIndex, "403"},
		{"missing directory", HTTPInput{URL: "/nosuch/"}, ErrNoIndex, "404"},
		{"missing front controller", HTTPInput{URL: "/empty/x", FrontController: true, Index: "app.php"}, ErrNoIndex, "front controller"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.DocumentRoot = root
			_, err := RoutePHP(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "session: ") || !strings.Contains(err.Error(), c.text) {
				t.Errorf("message %q lacks the prefix or %q", err, c.text)
			}
			if _, err := BuildHTTP(c.in); !errors.Is(err, c.want) {
				t.Errorf("BuildHTTP err = %v, want %v", err, c.want)
			}
			rt, err := NewRouter(c.in)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				if _, err := rt.Route(c.in.URL); !errors.Is(err, c.want) {
					t.Errorf("Router.Route #%d: err = %v, want %v", i+1, err, c.want)
				}
				if _, err := rt.BuildHTTP(HTTPInput{URL: c.in.URL}); !errors.Is(err, c.want) {
					t.Errorf("Router.BuildHTTP #%d: err = %v, want %v", i+1, err, c.want)
				}
			}
		})
	}
	// The same sibling name is fine as a path inside the root.
	if _, err := RoutePHP(HTTPInput{URL: "/www-evil/x.php", DocumentRoot: root}); err != nil {
		t.Errorf("path inside the root named like the sibling: %v", err)
	}
}

// TestRouterSymlinkCacheLifetime: a Router trusts a symlink check for
// SymlinkCacheLifetime and no longer. A script swapped for a symlink out of
// the root after its check routes until the check expires, then is
// refused; a refusal is kept as long, and is lifted after it when the
// symlink is gone. The cache stays bounded.
func TestRouterSymlinkCacheLifetime(t *testing.T) {
	base := routerTree(t)
	root := filepath.Join(base, "www")
	script := filepath.Join(root, "swap.php")
	if err := os.WriteFile(script, []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(HTTPInput{DocumentRoot: root})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_000_000, 0)
	rt.links.now = func() time.Time { return now }
	route := func() error { _, err := rt.Route("/swap.php"); return err }

	if err := route(); err != nil {
		t.Fatalf("regular script: %v", err)
	}
	if err := os.Remove(script); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside/evil.php", script); err != nil {
		t.Fatal(err)
	}
	now = now.Add(SymlinkCacheLifetime - time.Millisecond)
	if err := route(); err != nil {
		t.Fatalf("within the lifetime of the check the swap is not seen yet, want no error: %v", err)
	}
	// The router's BuildHTTP maps with the router itself (its cache), where
	// BuildHTTP makes a router of its own and sees the swap.
	if _, err := rt.BuildHTTP(HTTPInput{URL: "/swap.php"}); err != nil {
		t.Errorf("Router.BuildHTTP within the lifetime: %v", err)
	}
	if _, err := BuildHTTP(HTTPInput{URL: "/swap.php", DocumentRoot: root}); !errors.Is(err, ErrPathEscapes) {
		t.Errorf("BuildHTTP with a router of its own: %v, want ErrPathEscapes", err)
	}
	now = now.Add(time.Millisecond)
	if err := route(); !errors.Is(err, ErrPathEscapes) {
		t.Fatalf("once the check expired: %v, want ErrPathEscapes", err)
	}
	// The refusal is cached too.
	if err := os.Remove(script); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(script, []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := route(); !errors.Is(err, ErrPathEscapes) {
		t.Fatalf("refusal within its lifetime: %v, want ErrPathEscapes", err)
	}
	now = now.Add(SymlinkCacheLifetime)
	if err := route(); err != nil {
		t.Fatalf("regular script again after the lifetime: %v", err)
	}
	// An escape is refused on first sight, whatever the cache holds.
	if _, err := rt.Route("/link-out.php"); !errors.Is(err, ErrPathEscapes) {
		t.Fatalf("symlink out: %v, want ErrPathEscapes", err)
	}
	// Bounded: many scripts (missing ones count) never keep more than
	// symlinkCacheMax checks.
	for i := range symlinkCacheMax + 10 {
		if _, err := rt.Route(fmt.Sprintf("/m%d.php", i)); err != nil {
			t.Fatal(err)
		}
	}
	rt.links.mu.Lock()
	n := len(rt.links.entries)
	rt.links.mu.Unlock()
	if n > symlinkCacheMax {
		t.Errorf("cache holds %d checks, want at most %d", n, symlinkCacheMax)
	}
	// AllowSymlinks has nothing to check, so nothing to cache.
	if rt, err := NewRouter(HTTPInput{DocumentRoot: root, AllowSymlinks: true}); err != nil || rt.links != nil {
		t.Errorf("AllowSymlinks router: %v, cache %v", err, rt.links)
	}
}

func TestRoutePHPConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		in   HTTPInput
		text string
	}{
		{"no root", HTTPInput{URL: "/a.php"}, "no document root"},
		{"relative root", HTTPInput{URL: "/a.php", DocumentRoot: "www"}, "not an absolute path"},
		{"index with slash", HTTPInput{URL: "/", DocumentRoot: "/srv/www", Index: "../x.php"}, "plain file name"},
		{"bad split", HTTPInput{URL: "/a.php", DocumentRoot: "/srv/www", SplitPath: "("}, "split_path"},
		{"split with one group", HTTPInput{URL: "/a.php", DocumentRoot: "/srv/www", SplitPath: `^(.+)$`}, "two capture groups"},
		{"bad location", HTTPInput{URL: "/a.php", DocumentRoot: "/srv/www", Location: "["}, "location"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := RoutePHP(c.in)
			if err == nil || !strings.HasPrefix(err.Error(), "session: router: ") || !strings.Contains(err.Error(), c.text) {
				t.Errorf("err = %v, want a router error about %q", err, c.text)
			}
			if _, err2 := BuildHTTP(c.in); err2 == nil || err2.Error() != err.Error() {
				t.Errorf("BuildHTTP err = %v, want %v", err2, err)
			}
		})
	}
}

func ExampleRoutePHP() {
	r, err := RoutePHP(HTTPInput{URL: "//blog/./index.php/2024/%E2%9C%93?page=2", DocumentRoot: "/srv/www"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("DOCUMENT_URI   ", r.URI)
	fmt.Println("SCRIPT_NAME    ", r.ScriptName)
	fmt.Println("PATH_INFO      ", r.PathInfo)
	fmt.Println("SCRIPT_FILENAME", r.ScriptFilename)

	_, err = RoutePHP(HTTPInput{URL: "/static/%2e%2e/%2e%2e/etc/passwd", DocumentRoot: "/srv/www"})
	fmt.Println(err)
	// Output:
	// DOCUMENT_URI    /blog/index.php/2024/✓
	// SCRIPT_NAME     /blog/index.php
	// PATH_INFO       /2024/✓
	// SCRIPT_FILENAME /srv/www/blog/index.php
	// session: http: URL "/static/%2e%2e/%2e%2e/etc/passwd": ".." climbs above "/" (nginx answers 400): path escapes the document root
}

// BenchmarkRouterBuildHTTP: mapping one proxied request (wrk's GET of a
// tiny script) with a Router made once, as the proxy does, and with
// BuildHTTP, which compiles the router's regexps for each request.
func BenchmarkRouterBuildHTTP(b *testing.B) {
	root := b.TempDir()
	if err := os.WriteFile(filepath.Join(root, "hello.php"), []byte("<?php echo 1;"), 0o644); err != nil {
		b.Fatal(err)
	}
	in := HTTPInput{Method: "GET", URL: "/hello.php", DocumentRoot: root, ServerProtocol: "HTTP/1.1",
		Headers:    []Header{{Name: "Host", Value: "127.0.0.1:8080"}},
		RemoteAddr: "127.0.0.1", RemotePort: 43210, ServerAddr: "127.0.0.1", ServerPort: 8080}
	rt, err := NewRouter(in)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("router", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rt.BuildHTTP(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("compiled-per-request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := BuildHTTP(in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
