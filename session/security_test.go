// Security cases, black box: the document-root router, the proxy's listen
// address, shell quoting of exported commands, redaction of secrets in logs
// and exports, and that no code path runs a program.

package session_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
)

// noLeaks fails the test if goroutines it started outlive it (checked
// after every cleanup registered later).
func noLeaks(t *testing.T) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

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

// hostileAlphabet is what a shell would interpret if quoting failed.
var hostileAlphabet = []string{"'", `"`, "$", "$(", ")", "`", `\`, "\n", "\t", " ", "!", "*", "?", "~", "#",
	";", "&", "|", "<", ">", "{", "}", "[", "]", "%s", "%", "-", "=", "é", "\x01", "\x7f", "a", "Z", "0", "''", `\'`, "\r"}

func hostileString(rng *rand.Rand, max int) string {
	var b strings.Builder
	for range rng.IntN(max + 1) {
		b.WriteString(hostileAlphabet[rng.IntN(len(hostileAlphabet))])
	}
	return b.String()
}

// shells are the POSIX shells the exported commands must work in.
func shells(t *testing.T) []string {
	var out []string
	for _, sh := range []string{"sh", "bash", "dash"} {
		if p, err := exec.LookPath(sh); err == nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Skip("no shell")
	}
	return out
}

func runShell(t *testing.T, shell, dir, script string) []byte {
	t.Helper()
	cmd := exec.Command(shell, "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s -c failed: %v\n%s\nscript:\n%s", shell, err, stderr.Bytes(), script)
	}
	return out
}

// TestExportedCommandsQuoteRandomValues extends the interop tests' fixed
// hostile values with random ones: params, names and bodies drawn from every
// character a shell interprets, exported as cgi-fcgi and `fcgiscope send`
// commands and run by each shell (sh, bash, dash) with the program replaced
// by a printer (`env -0` for cgi-fcgi, printf '%s\0' for send, cat for the
// body). The printed environment, arguments and standard input must be the
// values exactly, and no command may have run.
func TestExportedCommandsQuoteRandomValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	seed := rng.Uint64()
	rng = rand.New(rand.NewPCG(7, seed))
	t.Logf("seed %d", seed)
	dir := t.TempDir()
	const tail = "cgi-fcgi -bind -connect '127.0.0.1:9000'\n"
	for _, sh := range shells(t) {
		for round := range 4 {
			var params session.Params
			for i := range 30 {
				name := "P" + strconv.Itoa(i) + "_" + strings.Map(func(r rune) rune {
					if r == '=' || r == 0 {
						return '_'
					}
					return r
				}, hostileString(rng, 3))
				params = append(params, session.Param{Name: name, Value: hostileString(rng, 12)})
			}
			body := []byte(hostileString(rng, 40))
			params = append(params, session.Param{Name: "CONTENT_LENGTH", Value: strconv.Itoa(len(body))})
			w := session.WireRequest{Target: "127.0.0.1:9000", Params: params, Body: body}

			cmd, err := session.ExportCGIFCGI(w, session.ExportOptions{Secrets: true})
			if err != nil {
				t.Fatalf("cgi-fcgi export: %v", err)
			}
			if !strings.HasSuffix(cmd, tail) {
				t.Fatalf("cgi-fcgi export does not end with %q:\n%s", tail, cmd)
			}
			env := runShell(t, sh, dir, strings.TrimSuffix(cmd, tail)+"env -0\n")
			var got session.Params
			for _, kv := range strings.Split(strings.TrimSuffix(string(env), "\x00"), "\x00") {
				name, value, _ := strings.Cut(kv, "=")
				got = append(got, session.Param{Name: name, Value: value})
			}
			if !slices.Equal(got, params) {
				t.Fatalf("%s round %d (seed %d): environment differs:\n got %q\nwant %q", sh, round, seed, got, params)
			}
			if in := runShell(t, sh, dir, strings.TrimSuffix(cmd, tail)+"cat\n"); !bytes.Equal(in, body) {
				t.Fatalf("%s round %d (seed %d): stdin %q, want %q", sh, round, seed, in, body)
			}

			cmd, err = session.ExportSendCommand(w, session.ExportOptions{Secrets: true})
			if err != nil {
				t.Fatalf("send export: %v", err)
			}
			prog := session.SendProgram + " send"
			if !strings.Contains(cmd, prog) {
				t.Fatalf("send export has no %q:\n%s", prog, cmd)
			}
			args := runShell(t, sh, dir, strings.Replace(cmd, prog, `printf '%s\0' send`, 1))
			want := []string{"send", "--addr", w.Target}
			for _, p := range params {
				want = append(want, "--param", p.Name+"="+p.Value)
			}
			if len(body) > 0 { // an empty body is not piped in at all
				want = append(want, "--stdin-file", "-")
			}
			if got := strings.Split(strings.TrimSuffix(string(args), "\x00"), "\x00"); !slices.Equal(got, want) {
				t.Fatalf("%s round %d (seed %d): arguments differ:\n got %q\nwant %q", sh, round, seed, got, want)
			}
			if in := runShell(t, sh, dir, strings.Replace(cmd, prog, "cat; :", 1)); !bytes.Equal(in, body) {
				t.Fatalf("%s round %d (seed %d): send stdin %q, want %q", sh, round, seed, in, body)
			}
		}
	}
	if des, _ := os.ReadDir(dir); len(des) != 0 {
		t.Errorf("running the exported commands created %d files in their folder: something was executed", len(des))
	}
}

// secrets used by the redaction tests: none may appear unless asked for.
var secretValues = []string{"Bearer tok-AUTH-1234", "sid=COOKIE-5678", "PW-9012", "APIKEY-3456"}

func assertNoSecret(t *testing.T, where string, b []byte) {
	t.Helper()
	for _, s := range secretValues {
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte(s))} {
			if bytes.Contains(b, []byte(form)) {
				t.Errorf("%s holds the secret %q", where, form)
			}
		}
	}
}

func assertSecret(t *testing.T, where string, b []byte, secret string) {
	t.Helper()
	if !bytes.Contains(b, []byte(secret)) {
		t.Errorf("%s lacks %q, which was asked for", where, secret)
	}
}

// secretExchange sends an HTTP-mode request with an Authorization header, a
// cookie and secret params to the demo backend, and returns its Exchange.
// pad lengthens the secret param's value so that its pair straddles PARAMS
// records (65535 bytes each).
func secretExchange(t *testing.T, pad int) *session.Exchange {
	t.Helper()
	b, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	in := session.HTTPInput{Method: "POST", URL: "/status?code=200", DocumentRoot: "/srv/www", Body: []byte("a=1"),
		Headers: []session.Header{{Name: "Authorization", Value: secretValues[0]}, {Name: "Cookie", Value: secretValues[1]},
			{Name: "X-Api-Key", Value: secretValues[3]}}}
	req, err := session.BuildHTTP(in)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.Repeat("x", pad/2) + secretValues[2] + strings.Repeat("y", pad-pad/2)
	req.Params.Add("DB_PASSWORD", secret, "")
	pool := session.NewPool(session.PoolOptions{})
	t.Cleanup(func() { pool.Close() })
	x := session.NewExchange(session.Input{Mode: session.ModeHTTP, Target: b.Addr(), HTTP: &in,
		Params: []session.RawParam{{Name: "DB_PASSWORD", Value: secret, Enabled: true}}})
	if err := session.NewEngine(pool, session.EngineOptions{}).Send(context.Background(), b.Addr(), req, x); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestExportsRedactSecrets: every export (cgi-fcgi and send commands, the
// HTTP-mode send command, HAR, the Exchange file) hides the Authorization
// and Cookie headers and secret params by default — in the raw records too,
// also when the secret pair straddles two PARAMS records — and keeps them
// when asked (Secrets).
func TestExportsRedactSecrets(t *testing.T) {
	noLeaks(t)
	for _, pad := range []int{0, 70000} {
		t.Run(fmt.Sprintf("pad %d", pad), func(t *testing.T) { checkExportsRedact(t, secretExchange(t, pad)) })
	}
}

func checkExportsRedact(t *testing.T, x *session.Exchange) {
	w := session.WireRequestOf(x)
	dir := t.TempDir()
	exports := map[string]func(session.ExportOptions) ([]byte, error){
		"cgi-fcgi": func(o session.ExportOptions) ([]byte, error) {
			s, err := session.ExportCGIFCGI(w, o)
			return []byte(s), err
		},
		"send": func(o session.ExportOptions) ([]byte, error) {
			s, err := session.ExportSendCommand(w, o)
			return []byte(s), err
		},
		"send --url": func(o session.ExportOptions) ([]byte, error) {
			s, err := session.ExportSendHTTPCommand(x.Input, o)
			return []byte(s), err
		},
		"HAR": func(o session.ExportOptions) ([]byte, error) { return session.ExportHAR(x, o) },
		"exchange file": func(o session.ExportOptions) ([]byte, error) {
			path := filepath.Join(dir, fmt.Sprintf("x-%v.json", o.Secrets))
			if err := session.SaveExchangeFile(path, x, o); err != nil {
				return nil, err
			}
			return os.ReadFile(path)
		},
	}
	for name, export := range exports {
		b, err := export(session.ExportOptions{})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		assertNoSecret(t, name, b)
		if !bytes.Contains(b, []byte(session.Redacted)) {
			t.Errorf("%s: no %s marker", name, session.Redacted)
		}
		b, err = export(session.ExportOptions{Secrets: true})
		if err != nil {
			t.Errorf("%s with secrets: %v", name, err)
			continue
		}
		if name != "exchange file" { // its records are base64: checked loaded, below
			assertSecret(t, name+" with secrets", b, secretValues[0])
		}
	}
	// The redacted Exchange file, loaded: no record, stream, param,
	// header or warning holds a secret, and every record keeps its length.
	y, err := session.LoadExchangeFile(filepath.Join(dir, "x-false.json"))
	if err != nil {
		t.Fatal(err)
	}
	if y.Len() != x.Len() {
		t.Fatalf("redacted file has %d records, the exchange %d", y.Len(), x.Len())
	}
	for i := range y.Len() {
		if len(y.RecordRaw(i)) != len(x.RecordRaw(i)) {
			t.Errorf("record %d: %d bytes redacted, %d sent", i, len(y.RecordRaw(i)), len(x.RecordRaw(i)))
		}
	}
	assertNoSecret(t, "loaded redacted exchange", exchangeText(y))
	z, err := session.LoadExchangeFile(filepath.Join(dir, "x-true.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secretValues {
		assertSecret(t, "loaded exchange with secrets", exchangeText(z), s)
	}
}

// exchangeText returns every byte and string an Exchange holds that could
// carry a secret: raw records, stdout, stderr, params, the composed input's
// params and headers, the response headers and the warnings.
func exchangeText(x *session.Exchange) []byte {
	var b bytes.Buffer
	for i := range x.Len() {
		b.Write(x.RecordRaw(i))
	}
	b.Write(x.Stdout())
	b.Write(x.Stderr())
	for _, p := range x.Params() {
		fmt.Fprintf(&b, "%s=%s\n", p.Name, p.Value)
	}
	for _, p := range x.Input.Params {
		fmt.Fprintf(&b, "%s=%s\n", p.Name, p.Value)
	}
	if x.Input.HTTP != nil {
		for _, h := range x.Input.HTTP.Headers {
			fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
		}
	}
	if r := x.Response(); r != nil {
		for _, h := range r.Headers {
			fmt.Fprintf(&b, "%s: %s\n", h.Name, h.Value)
		}
	}
	b.WriteString(strings.Join(x.Warnings(), "\n"))
	return b.Bytes()
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
