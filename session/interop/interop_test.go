package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/session"
	"fcgiscope/session/sessiontest"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// debianFastCGIParams returns Debian's /etc/nginx/fastcgi_params, or the
// copy in testdata when nginx is not installed.
func debianFastCGIParams(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/etc/nginx/fastcgi_params")
	if err != nil {
		t.Logf("using testdata/fastcgi_params: %v", err)
		if b, err = os.ReadFile(filepath.Join("testdata", "fastcgi_params")); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}

// phpSite returns a document root holding index.php.
func phpSite(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "index.php"), []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestNginxImportMatchesHTTPMode imports Debian's real fastcgi_params plus
// the PHP location's two lines and checks that, resolved for a request, they
// give exactly the params HTTP mode maps that request to: same names, same
// values, same order.
func TestNginxImportMatchesHTTPMode(t *testing.T) {
	conf := debianFastCGIParams(t) + `
fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
fastcgi_param PATH_INFO $fastcgi_path_info;
`
	root := phpSite(t)
	for _, https := range []bool{false, true} {
		in := session.HTTPInput{
			Method: "POST", URL: "/index.php/extra/path?x=1&y=%20two", DocumentRoot: root, HTTPS: https,
			Headers: []session.Header{
				{Name: "Host", Value: "Example.TEST:8080"},
				{Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
				{Name: "Authorization", Value: "Basic YWRhOnNlY3JldA=="}, // ada:secret
				{Name: "Cookie", Value: "a=1"},
			},
			Body: []byte("hello=world"), ServerName: "example.test", RemoteAddr: "192.0.2.9", RemotePort: 51000,
			ServerSoftware: session.NginxServerSoftware,
		}
		want, err := session.PreviewHTTP(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ImportNginxParams(conf, &in)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Unresolved) != 0 || len(res.Warnings) != 0 {
			t.Errorf("https=%v: unresolved %v, warnings %v", https, res.Unresolved, res.Warnings)
		}
		var got session.Params
		for _, p := range res.Params {
			if p.Enabled {
				got = append(got, session.Param{Name: p.Name, Value: p.Value})
			}
		}
		// nginx adds the request headers after the configured params
		// (fastcgi_pass_request_headers); the import gives what the lines say.
		var wantPlain session.Params
		for _, p := range want {
			if strings.HasPrefix(p.Name, "HTTP_") && p.Name != "HTTP_HOST" {
				continue
			}
			wantPlain = append(wantPlain, session.Param{Name: p.Name, Value: p.Value})
		}
		if !reflect.DeepEqual(got, wantPlain) {
			t.Errorf("https=%v: imported params differ from HTTP mode's:\n got %v\nwant %v", https, got, wantPlain)
		}
		// HTTPS is if_not_empty: kept, disabled, when the request is plain HTTP.
		i := slices.IndexFunc(res.Params, func(p session.RawParam) bool { return p.Name == "HTTPS" })
		if i < 0 || res.Params[i].Enabled != https {
			t.Errorf("https=%v: HTTPS param %+v", https, res.Params[i])
		}
		if v, _ := got.Get("REMOTE_USER"); v != "ada" {
			t.Errorf("REMOTE_USER = %q", v)
		}
		if v, _ := got.Get("SERVER_SOFTWARE"); v != "nginx/1.22.1" {
			t.Errorf("SERVER_SOFTWARE = %q", v)
		}
	}

	// Without a request every variable stays as written, and is listed.
	res, err := ImportNginxParams(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Params) != 23 || res.Params[0] != (session.RawParam{Name: "QUERY_STRING", Value: "$query_string", Enabled: true}) {
		t.Errorf("params = %v", res.Params)
	}
	for _, v := range []string{"$query_string", "$fastcgi_script_name", "$host", "$nginx_version", "$document_root"} {
		if !slices.Contains(res.Unresolved, v) {
			t.Errorf("%s not listed as unresolved: %v", v, res.Unresolved)
		}
	}
	if n := len(res.Unresolved); n != 20 {
		t.Errorf("%d unresolved, want 20 (each once): %v", n, res.Unresolved)
	}
}

func TestNginxImportSyntax(t *testing.T) {
	conf := `
# a comment; with a semicolon
location ~ \.php$ {
    include snippets/fastcgi-php.conf;   # skipped, with a warning
    fastcgi_pass unix:/run/php/php8.2-fpm.sock;
    fastcgi_param  QUOTED   "a b;c # not a comment";
    fastcgi_param  SINGLE   'it\'s';
    fastcgi_param  ESCAPES  "tab\there\nnew \"dq\" back\\slash \x";
    fastcgi_param  UNQUOTED a\ b;
    fastcgi_param  BRACED   ${request_method}x$request_method;
    fastcgi_param  UNKNOWN  $request_id-$1-$Unknown_Var;
    fastcgi_param  LONE     "50$ and $";
    fastcgi_param  HTTP_X   $http_x_forwarded_for;
    fastcgi_param  EMPTY    "" if_not_empty;
    fastcgi_param  EMPTY2   "";
    fastcgi_param
        MULTI
        "line";
}
`
	in := session.HTTPInput{Method: "PUT", URL: "/", Headers: []session.Header{{Name: "X-Forwarded-For", Value: "10.0.0.1"}, {Name: "x-forwarded-for", Value: "10.0.0.2"}}}
	res, err := ImportNginxParams(conf, &in)
	if err != nil {
		t.Fatal(err)
	}
	want := []session.RawParam{
		{Name: "QUOTED", Value: "a b;c # not a comment", Enabled: true},
		{Name: "SINGLE", Value: "it's", Enabled: true},
		{Name: "ESCAPES", Value: "tab\there\nnew \"dq\" back\\slash \\x", Enabled: true},
		{Name: "UNQUOTED", Value: `a\ b`, Enabled: true}, // nginx keeps a backslash it does not know
		{Name: "BRACED", Value: "PUTxPUT", Enabled: true},
		{Name: "UNKNOWN", Value: "$request_id-$1-$Unknown_Var", Enabled: true},
		{Name: "LONE", Value: "50$ and $", Enabled: true},
		{Name: "HTTP_X", Value: "10.0.0.1, 10.0.0.2", Enabled: true},
		{Name: "EMPTY", Value: "", Enabled: false},
		{Name: "EMPTY2", Value: "", Enabled: true},
		{Name: "MULTI", Value: "line", Enabled: true},
	}
	if !reflect.DeepEqual(res.Params, want) {
		t.Errorf("params:\n got %+v\nwant %+v", res.Params, want)
	}
	if res.Target != "unix:/run/php/php8.2-fpm.sock" {
		t.Errorf("target = %q", res.Target)
	}
	if !slices.Equal(res.Unresolved, []string{"$request_id", "$1", "$unknown_var"}) {
		t.Errorf("unresolved = %q", res.Unresolved)
	}
	// The router has no document root: its variables are unresolved, with a warning.
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[1], "include skipped") {
		t.Errorf("warnings = %q", res.Warnings)
	}

	for conf, msg := range map[string]string{
		"fastcgi_param A;":                "line 1: want fastcgi_param NAME VALUE",
		"fastcgi_param A B C;":            "line 1: want fastcgi_param NAME VALUE",
		"\nfastcgi_param A \"open;\n":     "line 2: unterminated",
		"fastcgi_param A B":               "line 1: fastcgi_param has no ending ';'",
		"fastcgi_param A B if_not_empty;": "",
	} {
		_, err := ImportNginxParams(conf, nil)
		if msg == "" && err != nil || msg != "" && (err == nil || !strings.Contains(err.Error(), msg)) {
			t.Errorf("%q: err = %v, want %q", conf, err, msg)
		}
	}
}

// hostileParams are values a shell would misread if they were not quoted
// right.
func hostileParams() session.Params {
	return session.Params{
		{Name: "REQUEST_METHOD", Value: "POST"},
		{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php"},
		{Name: "CONTENT_LENGTH", Value: "0"},
		{Name: "SINGLE", Value: `it's 'quoted' '\''`},
		{Name: "DOUBLE", Value: `"double" "\"`},
		{Name: "SUBST", Value: `$(touch pwned-subst) ${HOME} $HOME $$ $? $0`},
		{Name: "BACKTICK", Value: "`touch pwned-backtick`"},
		{Name: "NEWLINES", Value: "line one\nline two\n\n; touch pwned-newline\n"},
		{Name: "BACKSLASH", Value: `\ \\ \n \' \`},
		{Name: "GLOB", Value: "* ? [a-z] ~ ~root {a,b} !! #no-comment"},
		{Name: "OPS", Value: "; | & && || > < >> 2>&1 ( ) { }"},
		{Name: "SPACES", Value: "  leading and trailing  \t"},
		{Name: "EMPTY", Value: ""},
		{Name: "UNICODE", Value: "héllo — 世界 😀"},
		{Name: "EQUALS", Value: "=a=b="},
		{Name: "DASH", Value: "-i --help"},
		{Name: "HTTP_X-DASHED", Value: "dash in the name"},
		{Name: "with space", Value: "space in the name"},
		{Name: "HTTP_AUTHORIZATION", Value: "Bearer hunter2"},
	}
}

// runShell runs script with sh -c in dir, with stdin, and returns stdout.
func runShell(t *testing.T, dir, script string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", script)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh -c: %v\nstderr: %s\nscript:\n%s", err, stderr.Bytes(), script)
	}
	return out
}

// noPwned checks that no command hidden in a value ran.
func noPwned(t *testing.T, dir string) {
	t.Helper()
	des, _ := os.ReadDir(dir)
	for _, de := range des {
		if strings.HasPrefix(de.Name(), "pwned") {
			t.Errorf("a value was executed: %s exists", de.Name())
		}
	}
}

func TestCGIFCGIExportQuotesEverything(t *testing.T) {
	params := hostileParams()
	body := []byte("body with 'quotes' and \"dq\" and $(touch pwned-body) `touch pwned-body2`\nsecond line\n")
	params.Set("CONTENT_LENGTH", strconv.Itoa(len(body)), "")
	r := WireRequest{Target: "127.0.0.1:9000", Params: params, Body: body}
	cmd, err := ExportCGIFCGI(r, session.ExportOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	tail := "cgi-fcgi -bind -connect '127.0.0.1:9000'\n"
	if !strings.HasPrefix(cmd, "printf '%s' '") || !strings.Contains(cmd, "| env -i \\\n") || !strings.HasSuffix(cmd, tail) {
		t.Fatalf("unexpected shape:\n%s", cmd)
	}
	dir := t.TempDir()

	// Run it with env -0 in place of cgi-fcgi: the environment cgi-fcgi
	// would get, exactly.
	out := runShell(t, dir, strings.Replace(cmd, tail, "/usr/bin/env -0\n", 1))
	env := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	var got session.Params
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		got = append(got, session.Param{Name: name, Value: value})
	}
	if !reflect.DeepEqual(got, params) {
		t.Errorf("environment differs:\n got %q\nwant %q", got, params)
	}
	// And with cat: the body on standard input, exactly.
	if out := runShell(t, dir, strings.Replace(cmd, tail, "/bin/cat\n", 1)); !bytes.Equal(out, body) {
		t.Errorf("stdin = %q, want %q", out, body)
	}
	noPwned(t, dir)

	// From a body file instead.
	cmd, err = ExportCGIFCGI(r, session.ExportOptions{BodyFile: "my body's file.txt"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(cmd, `cgi-fcgi -bind -connect '127.0.0.1:9000' < 'my body'\''s file.txt'`+"\n") || strings.Contains(cmd, "printf") {
		t.Errorf("body file:\n%s", cmd)
	}
	// Secrets are redacted by default.
	if !strings.Contains(cmd, "HTTP_AUTHORIZATION='[redacted]'") || strings.Contains(cmd, "hunter2") {
		t.Errorf("secret not redacted:\n%s", cmd)
	}

	for name, r := range map[string]WireRequest{
		"role":           {Target: "127.0.0.1:9000", Role: fcgi.RoleFilter},
		"nul in value":   {Target: "127.0.0.1:9000", Params: session.Params{{Name: "A", Value: "a\x00b"}}},
		"= in name":      {Target: "127.0.0.1:9000", Params: session.Params{{Name: "A=B", Value: "1"}}},
		"dash name":      {Target: "127.0.0.1:9000", Params: session.Params{{Name: "-i", Value: "1"}}},
		"ipv6":           {Target: "[::1]:9000"},
		"colon in path":  {Target: "unix:/run/a:b.sock"},
		"nul in body":    {Target: "127.0.0.1:9000", Params: session.Params{{Name: "CONTENT_LENGTH", Value: "3"}}, Body: []byte("a\x00b")},
		"no length":      {Target: "127.0.0.1:9000", Body: []byte("body")},
		"bad target":     {Target: "nowhere"},
		"empty name":     {Target: "127.0.0.1:9000", Params: session.Params{{Name: "", Value: "1"}}},
		"unix path okay": {},
	} {
		if name == "unix path okay" {
			if c, err := ExportCGIFCGI(WireRequest{Target: "unix:///run/php.sock"}, session.ExportOptions{}); err != nil || !strings.Contains(c, "-connect '/run/php.sock'") {
				t.Errorf("unix socket: %v\n%s", err, c)
			}
			continue
		}
		if _, err := ExportCGIFCGI(r, session.ExportOptions{Secrets: true}); err == nil {
			t.Errorf("%s: exported", name)
		}
	}
}

// TestCGIFCGIExportAgainstPHPFPM runs the exported command for real: the
// cgi-fcgi bridge sends it to php-fpm's echo.php, which answers with the
// $_SERVER and body it got.
func TestCGIFCGIExportAgainstPHPFPM(t *testing.T) {
	fcgitest.CGIFCGI(t)
	srv := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	body := []byte("posted 'body' with $(touch pwned) and\nlines\n")
	params := hostileParams()
	params.Set("SCRIPT_FILENAME", srv.Script("echo.php"), "")
	params.Set("CONTENT_LENGTH", strconv.Itoa(len(body)), "")
	params.Add("CONTENT_TYPE", "application/octet-stream", "")
	params.Del("with space") // php-fpm would still take it; PHP mangles the name
	cmd, err := ExportCGIFCGI(WireRequest{Target: srv.Addr, Params: params, Body: body}, session.ExportOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out := runShell(t, dir, cmd)
	noPwned(t, dir)
	_, js, ok := bytes.Cut(out, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("no CGI response:\n%s", out)
	}
	var echo fcgitest.Echo
	if err := json.Unmarshal(js, &echo); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, p := range params {
		if got, _ := echo.Server[p.Name].(string); got != p.Value {
			t.Errorf("$_SERVER[%q] = %q, want %q", p.Name, got, p.Value)
		}
	}
	if !bytes.Equal(echo.Stdin, body) {
		t.Errorf("php://input = %q, want %q", echo.Stdin, body)
	}
}

func TestCGIFCGIImport(t *testing.T) {
	// Round trip: what we export, we import.
	params := hostileParams()
	body := []byte("it's a body\nwith `ticks` and $(x)\n")
	params.Set("CONTENT_LENGTH", strconv.Itoa(len(body)), "")
	cmd, err := ExportCGIFCGI(WireRequest{Target: "10.1.2.3:9001", Params: params, Body: body}, session.ExportOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ImportCGIFCGI(cmd)
	if err != nil {
		t.Fatal(err)
	}
	var got session.Params
	for _, p := range res.Params {
		if !p.Enabled {
			t.Errorf("%s imported disabled", p.Name)
		}
		got = append(got, session.Param{Name: p.Name, Value: p.Value})
	}
	if res.Target != "10.1.2.3:9001" || !reflect.DeepEqual(got, params) || !bytes.Equal(res.Body, body) || !res.ClearEnv {
		t.Errorf("round trip:\ntarget %q\nparams %q\nbody %q\nclear %v", res.Target, got, res.Body, res.ClearEnv)
	}

	tests := []struct {
		name, cmd string
		target    string
		params    []string // NAME=VALUE
		body      string
		bodyFile  string
		warn      string
	}{
		{name: "prefix assignments", cmd: `REQUEST_METHOD=GET SCRIPT_FILENAME=/srv/www/index.php QUERY_STRING='a=1&b=2' cgi-fcgi -bind -connect 127.0.0.1:9000`,
			target: "127.0.0.1:9000", params: []string{"REQUEST_METHOD=GET", "SCRIPT_FILENAME=/srv/www/index.php", "QUERY_STRING=a=1&b=2"},
			warn: "whole environment"},
		{name: "env, continuations, double quotes", cmd: "env -i \\\n  A=\"x \\\"y\\\" \\$z \\\\ \\n\" \\\n  B=c\\ d \\\n  /usr/bin/cgi-fcgi -bind -connect :9000",
			target: "localhost:9000", params: []string{`A=x "y" $z \ \n`, "B=c d"}},
		{name: "export lines and a redirect", cmd: "# set up\nexport SCRIPT_FILENAME=/a.php REQUEST_METHOD=POST\nexport CONTENT_LENGTH=5; cgi-fcgi -bind -connect /run/php/fpm.sock < body.txt # go\n",
			target: "/run/php/fpm.sock", params: []string{"SCRIPT_FILENAME=/a.php", "REQUEST_METHOD=POST", "CONTENT_LENGTH=5"}, bodyFile: "body.txt"},
		{name: "echo -n pipe", cmd: `echo -n 'a=1' | env -i CONTENT_LENGTH=3 cgi-fcgi -bind -connect php:9000`,
			target: "php:9000", params: []string{"CONTENT_LENGTH=3"}, body: "a=1"},
		{name: "echo pipe", cmd: `echo hello world | CONTENT_LENGTH=12 cgi-fcgi -bind -connect php:9000`,
			target: "php:9000", params: []string{"CONTENT_LENGTH=12"}, body: "hello world\n"},
		{name: "cat pipe", cmd: `cat req.json | env - A=1 cgi-fcgi -bind -connect relative.sock`,
			target: "unix:relative.sock", params: []string{"A=1"}, bodyFile: "req.json"},
		{name: "expansions kept", cmd: `env -i DOCUMENT_ROOT=$HOME/www "B=$(pwd)" cgi-fcgi -bind -connect 127.0.0.1:9000`,
			target: "127.0.0.1:9000", params: []string{"DOCUMENT_ROOT=$HOME/www", "B=$(pwd)"}, warn: "not expanded"},
		{name: "env -u", cmd: `env -i A=1 B=2 -u A C=3 cgi-fcgi -bind -connect 127.0.0.1:9000`,
			target: "127.0.0.1:9000", params: []string{"B=2", "C=3"}},
		{name: "env -i drops prefix", cmd: `X=1 env -i A=1 cgi-fcgi -bind -connect 127.0.0.1:9000`,
			target: "127.0.0.1:9000", params: []string{"A=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ImportCGIFCGI(tc.cmd)
			if err != nil {
				t.Fatal(err)
			}
			var ps []string
			for _, p := range res.Params {
				ps = append(ps, p.Name+"="+p.Value)
			}
			if res.Target != tc.target || !slices.Equal(ps, tc.params) || string(res.Body) != tc.body || res.BodyFile != tc.bodyFile {
				t.Errorf("got target %q params %q body %q file %q", res.Target, ps, res.Body, res.BodyFile)
			}
			if tc.warn != "" && !strings.Contains(strings.Join(res.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %q lack %q", res.Warnings, tc.warn)
			}
			if _, _, err := fcgi.ParseAddr(res.Target); err != nil && !strings.Contains(res.Target, "php:") {
				t.Errorf("target %q does not parse: %v", res.Target, err)
			}
		})
	}
	for cmd, msg := range map[string]string{
		"A=1 php-cgi":                   "no cgi-fcgi command",
		"A=1 cgi-fcgi -bind":            "no -connect",
		"cgi-fcgi -connect":             "-connect without an address",
		"A='open cgi-fcgi":              "unterminated '",
		`A="open cgi-fcgi`:              `unterminated "`,
		"cgi-fcgi -connect a <<EOF":     "here-documents",
		"env -x A=1 cgi-fcgi":           `env option "-x"`,
		"env A=1":                       "env runs no cgi-fcgi",
		"(cgi-fcgi -connect a)":         "sub-shells",
		"| cgi-fcgi -connect a":         "follows no command",
		"cgi-fcgi -connect a <":         "without a file",
		"cgi-fcgi -connect a; cgi-fcgi": "more than one",
	} {
		if _, err := ImportCGIFCGI(cmd); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%q: err = %v, want %q", cmd, err, msg)
		}
	}
}

// fakeProgram writes a script that records its arguments (NUL-separated)
// and its standard input, and returns its path and the two output files.
func fakeProgram(t *testing.T) (prog, argsOut, stdinOut string) {
	t.Helper()
	dir := t.TempDir()
	prog, argsOut, stdinOut = filepath.Join(dir, "fake"), filepath.Join(dir, "args"), filepath.Join(dir, "stdin")
	script := "#!/bin/sh\nprintf '%s\\0' \"$@\" > '" + argsOut + "'\ncat > '" + stdinOut + "'\n"
	if err := os.WriteFile(prog, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return prog, argsOut, stdinOut
}

func readArgs(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

func TestSendExport(t *testing.T) {
	prog, argsOut, stdinOut := fakeProgram(t)
	params := hostileParams()
	body := []byte("raw 'stdin' $(touch pwned)\n")
	r := WireRequest{Target: "unix:/run/php/php-fpm.sock", Role: fcgi.RoleFilter, KeepConn: true,
		Params: params, Body: body, DataFile: "/tmp/data file's.txt"}
	cmd, err := ExportSendCommand(r, session.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cmd, "fcgiscope send --addr ") {
		t.Fatalf("shape:\n%s", cmd)
	}
	dir := t.TempDir()
	runShell(t, dir, strings.Replace(cmd, "fcgiscope send", "'"+prog+"' send", 1))
	noPwned(t, dir)
	want := []string{"send", "--addr", r.Target, "--role", "filter", "--keep-conn"}
	for _, p := range session.Redact(params) {
		want = append(want, "--param", p.Name+"="+p.Value)
	}
	want = append(want, "--stdin-file", "-", "--data-file", r.DataFile)
	if got := readArgs(t, argsOut); !slices.Equal(got, want) {
		t.Errorf("arguments:\n got %q\nwant %q", got, want)
	}
	if got, _ := os.ReadFile(stdinOut); !bytes.Equal(got, body) {
		t.Errorf("stdin = %q", got)
	}

	// HTTP mode: the composed input as flags.
	in := session.Input{Mode: session.ModeHTTP, Target: "127.0.0.1:9000", Params: []session.RawParam{{Name: "APP_ENV", Value: "it's dev", Enabled: true}, {Name: "OFF", Value: "x", Enabled: false}},
		HTTP: &session.HTTPInput{URL: "/index.php?q='a b'&r=$(x)", Headers: []session.Header{{Name: "X-Quote", Value: `"dq" 'sq'`},
			{Name: "Authorization", Value: "Basic c2VjcmV0"}}, Body: []byte("a=1&b='2'"),
			DocumentRoot: "/srv/www", ServerName: "example.test", ServerPort: 8080, RemotePort: 40000, HTTPS: true,
			Profile: session.ProfileApache, Variant: "generic"}}
	cmd, err = ExportSendHTTPCommand(in, session.ExportOptions{Secrets: true})
	if err != nil {
		t.Fatal(err)
	}
	runShell(t, dir, strings.Replace(cmd, "fcgiscope send", "'"+prog+"' send", 1))
	noPwned(t, dir)
	want = []string{"send", "--addr", "127.0.0.1:9000", "--url", "/index.php?q='a b'&r=$(x)", "--method", "GET",
		"--header", `X-Quote: "dq" 'sq'`, "--header", "Authorization: Basic c2VjcmV0", "--body-file", "-",
		"--docroot", "/srv/www", "--server-name", "example.test", "--server-port", "8080",
		"--remote-addr", "127.0.0.1:40000", "--https", "--profile", "apache/generic", "--param", "APP_ENV=it's dev"}
	if got := readArgs(t, argsOut); !slices.Equal(got, want) {
		t.Errorf("HTTP arguments:\n got %q\nwant %q", got, want)
	}
	if got, _ := os.ReadFile(stdinOut); string(got) != "a=1&b='2'" {
		t.Errorf("HTTP stdin = %q", got)
	}
	redacted, _ := ExportSendHTTPCommand(in, session.ExportOptions{})
	if strings.Contains(redacted, "c2VjcmV0") || !strings.Contains(redacted, "'Authorization: [redacted]'") {
		t.Errorf("not redacted:\n%s", redacted)
	}
	in.HTTP.FrontController, in.HTTP.ServerAddr = true, "10.0.0.1"
	if _, err := ExportSendHTTPCommand(in, session.ExportOptions{}); err == nil || !strings.Contains(err.Error(), "front_controller, server_addr") {
		t.Errorf("fields without a flag: %v", err)
	}
	if _, err := ExportSendHTTPCommand(session.Input{Target: "127.0.0.1:9000"}, session.ExportOptions{}); err == nil {
		t.Error("raw input exported in HTTP mode")
	}
}

// requireKeys fails unless m has every key with a value of the JSON kind
// given: "s" string, "n" number, "a" array, "o" object, "b" bool.
func requireKeys(t *testing.T, where string, v any, keys map[string]string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: not an object: %T", where, v)
		return nil
	}
	for k, kind := range keys {
		val, ok := m[k]
		if !ok {
			t.Errorf("%s: required field %q missing", where, k)
			continue
		}
		var good bool
		switch kind {
		case "s":
			_, good = val.(string)
		case "n":
			_, good = val.(float64)
		case "a":
			_, good = val.([]any)
		case "o":
			_, good = val.(map[string]any)
		}
		if !good {
			t.Errorf("%s.%s: %T is not of kind %s", where, k, val, kind)
		}
	}
	return m
}

// validateHAR checks the fields HAR 1.2 requires and returns the entry.
func validateHAR(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	top := requireKeys(t, "har", doc, map[string]string{"log": "o"})
	log := requireKeys(t, "log", top["log"], map[string]string{"version": "s", "creator": "o", "entries": "a"})
	if log["version"] != "1.2" {
		t.Errorf("version %v", log["version"])
	}
	requireKeys(t, "creator", log["creator"], map[string]string{"name": "s", "version": "s"})
	entries := log["entries"].([]any)
	if len(entries) != 1 {
		t.Fatalf("%d entries", len(entries))
	}
	e := requireKeys(t, "entry", entries[0], map[string]string{"startedDateTime": "s", "time": "n", "request": "o",
		"response": "o", "cache": "o", "timings": "o"})
	if _, err := time.Parse(time.RFC3339Nano, e["startedDateTime"].(string)); err != nil {
		t.Errorf("startedDateTime: %v", err)
	}
	req := requireKeys(t, "request", e["request"], map[string]string{"method": "s", "url": "s", "httpVersion": "s",
		"cookies": "a", "headers": "a", "queryString": "a", "headersSize": "n", "bodySize": "n"})
	resp := requireKeys(t, "response", e["response"], map[string]string{"status": "n", "statusText": "s", "httpVersion": "s",
		"cookies": "a", "headers": "a", "content": "o", "redirectURL": "s", "headersSize": "n", "bodySize": "n"})
	requireKeys(t, "content", resp["content"], map[string]string{"size": "n", "mimeType": "s"})
	tm := requireKeys(t, "timings", e["timings"], map[string]string{"send": "n", "wait": "n", "receive": "n"})
	for _, k := range []string{"send", "wait", "receive"} {
		if tm[k].(float64) < 0 {
			t.Errorf("timings.%s = %v < 0", k, tm[k])
		}
	}
	for _, k := range []string{"blocked", "dns", "connect", "ssl"} {
		if v, ok := tm[k].(float64); ok && v < 0 && v != -1 {
			t.Errorf("timings.%s = %v", k, v)
		}
	}
	for _, list := range []struct {
		where string
		v     any
	}{{"request.headers", req["headers"]}, {"request.cookies", req["cookies"]}, {"request.queryString", req["queryString"]},
		{"response.headers", resp["headers"]}, {"response.cookies", resp["cookies"]}} {
		for _, nv := range list.v.([]any) {
			requireKeys(t, list.where, nv, map[string]string{"name": "s", "value": "s"})
		}
	}
	if pd, ok := req["postData"]; ok {
		requireKeys(t, "postData", pd, map[string]string{"mimeType": "s", "text": "s", "params": "a"})
	}
	return e
}

func TestHARExport(t *testing.T) {
	sessiontest.NoLeaks(t)
	addr := fcgitest.StartDemo(t)
	eng := sessiontest.Engine(t, session.EngineOptions{})
	do := func(req *session.Request, in session.Input) *session.Exchange {
		t.Helper()
		in.Target = addr
		x := session.NewExchange(in)
		if err := eng.Send(context.Background(), addr, req, x); err != nil {
			t.Fatalf("send: %v", err)
		}
		return x
	}
	// An exchange composed in HTTP mode, mapped by the HTTP middlewares
	// (the demo backend routes by DOCUMENT_URI).
	hin := session.HTTPInput{Method: "POST", URL: "/echo?x=1&name=a%20b", Body: []byte("k=v&secret=no"),
		Headers: []session.Header{{Name: "Host", Value: "example.test:8080"}, {Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
			{Name: "Cookie", Value: "sid=abc; theme=dark"}, {Name: "Authorization", Value: "Bearer hunter2"}}}
	req, err := session.Build(context.Background(), session.Chain(session.CGIBasics(hin), session.Remote(hin), session.Headers(hin)))
	if err != nil {
		t.Fatal(err)
	}
	x := do(req, session.Input{Mode: session.ModeHTTP, HTTP: &hin})

	b, err := ExportHAR(x, session.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e := validateHAR(t, b)
	var har struct {
		Log struct {
			Entries []harEntry `json:"entries"`
		} `json:"log"`
	}
	if err := json.Unmarshal(b, &har); err != nil {
		t.Fatal(err)
	}
	he := har.Log.Entries[0]
	r := he.Request
	if r.Method != "POST" || r.URL != "http://example.test:8080/echo?x=1&name=a%20b" || r.HTTPVersion != "HTTP/1.1" {
		t.Errorf("request line: %s %s %s", r.Method, r.URL, r.HTTPVersion)
	}
	if !slices.Equal(r.QueryString, []harNV{{"x", "1"}, {"name", "a b"}}) {
		t.Errorf("query = %v", r.QueryString)
	}
	if r.PostData == nil || r.PostData.Text != "k=v&secret=no" || r.PostData.MimeType != "application/x-www-form-urlencoded" || r.BodySize != 13 {
		t.Errorf("postData = %+v", r.PostData)
	}
	if !slices.Contains(r.Headers, harNV{"Authorization", session.Redacted}) || !slices.Contains(r.Cookies, harNV{"sid", session.Redacted}) {
		t.Errorf("secrets not redacted: %v %v", r.Headers, r.Cookies)
	}
	for _, p := range he.FastCGI.Params {
		if p.Name == "HTTP_AUTHORIZATION" && p.Value != session.Redacted || p.Name == "HTTP_COOKIE" && p.Value != session.Redacted {
			t.Errorf("_fastcgi param %s = %q", p.Name, p.Value)
		}
	}
	resp := he.Response
	if resp.Status != 200 || resp.StatusText != "OK" || resp.Content.MimeType != "application/json" ||
		!strings.Contains(resp.Content.Text, `"x=1\u0026name=a%20b"`) || resp.Content.Size != len(x.Response().Body) {
		t.Errorf("response = %+v", resp)
	}
	if he.FastCGI.Target != x.Target() || he.FastCGI.Role != "RESPONDER" || he.FastCGI.EndRequest == nil {
		t.Errorf("_fastcgi = %+v", he.FastCGI)
	}
	if e["serverIPAddress"] != "127.0.0.1" {
		t.Errorf("serverIPAddress = %v", e["serverIPAddress"])
	}
	// With secrets.
	b, _ = ExportHAR(x, session.ExportOptions{Secrets: true})
	if !strings.Contains(string(b), "Bearer hunter2") {
		t.Error("secrets not kept when asked")
	}

	// A raw exchange: the HTTP view comes from the params.
	raw := do(&session.Request{Params: session.Params{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "SCRIPT_NAME", Value: "/cookie"},
		{Name: "HTTP_HOST", Value: "raw.test"}, {Name: "HTTPS", Value: "on"}, {Name: "SERVER_PORT", Value: "443"},
		{Name: "HTTP_X_FORWARDED_FOR", Value: "10.0.0.1"}}}, session.Input{Mode: session.ModeRaw})
	b, err = ExportHAR(raw, session.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	validateHAR(t, b)
	json.Unmarshal(b, &har)
	he = har.Log.Entries[0]
	if he.Request.URL != "https://raw.test/cookie?" && he.Request.URL != "https://raw.test/cookie" {
		t.Errorf("raw url = %q", he.Request.URL)
	}
	if !slices.Contains(he.Request.Headers, harNV{"X-Forwarded-For", "10.0.0.1"}) {
		t.Errorf("raw headers = %v", he.Request.Headers)
	}
	if len(he.Response.Cookies) != 2 || he.Response.Cookies[0] != (harNV{"demo_session", session.Redacted}) {
		t.Errorf("response cookies = %v", he.Response.Cookies)
	}

	// A failed exchange still gives a valid HAR.
	pool := session.NewPool(session.PoolOptions{})
	defer pool.Close()
	failed := session.NewExchange(session.Input{Mode: session.ModeRaw, Target: "127.0.0.1:1"})
	if err := session.NewEngine(pool, session.EngineOptions{}).Send(context.Background(), "127.0.0.1:1", &session.Request{}, failed); err == nil {
		t.Fatal("send to port 1 worked")
	}
	b, err = ExportHAR(failed, session.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e = validateHAR(t, b)
	if e["comment"] == nil || !strings.Contains(e["comment"].(string), "127.0.0.1:1") {
		t.Errorf("failed exchange comment = %v", e["comment"])
	}
}
