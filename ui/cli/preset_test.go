// Tests of send --preset and --env over real sockets: the demo backend in
// process, php-fpm through fcgitest, and a listener that counts connections
// to prove that nothing is sent when a variable is unknown.

package cli

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/preset"
)

// writePreset writes p to path (folders created) as the window would.
func writePreset(t *testing.T, path string, p preset.Preset) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := preset.WriteFile(path, p); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeEnvironments writes an environments file at path.
func writeEnvironments(t *testing.T, path string, envs ...preset.Environment) {
	t.Helper()
	var es preset.Environments
	for _, e := range envs {
		es.Set(e)
	}
	if err := preset.SaveEnvironments(path, es); err != nil {
		t.Fatal(err)
	}
}

// demoEcho is what the demo backend's /echo answers.
type demoEcho struct {
	Role       string  `json:"role"`
	KeepConn   bool    `json:"keep_conn"`
	Params     []pair  `json:"params"`
	Stdin      *string `json:"stdin"`
	DataLength *int    `json:"data_length"`
}

// param returns every value of name, in order.
func (d demoEcho) param(name string) []string {
	var vs []string
	for _, p := range d.Params {
		if p.Name == name {
			vs = append(vs, p.Value)
		}
	}
	return vs
}

func (d demoEcho) index(name string) int {
	return slices.IndexFunc(d.Params, func(p pair) bool { return p.Name == name })
}

// sendEcho runs send with args, wants exit 0 and a 200 from /echo, and
// returns the JSON output and what the demo backend saw.
func sendEcho(t *testing.T, stdin string, args ...string) (cliOut, demoEcho) {
	t.Helper()
	r := run(t, stdin, append([]string{"send", "--json"}, args...)...)
	if r.code != ExitOK {
		t.Fatalf("%v: exit %d, stderr:\n%s", args, r.code, r.stderr)
	}
	out := decodeOut(t, r.stdout)
	if out.Response == nil || out.Response.Status != 200 {
		t.Fatalf("%v: response %+v, error %v", args, out.Response, out.Error)
	}
	var echo demoEcho
	if err := json.Unmarshal(b64(t, out.Response.BodyB64), &echo); err != nil {
		t.Fatalf("/echo body: %v\n%s", err, b64(t, out.Response.BodyB64))
	}
	return out, echo
}

// countingListener listens on loopback and counts the connections it
// accepts (and closes at once).
func countingListener(t *testing.T) (addr string, accepts func() int64) {
	t.Helper()
	srv := fcgitest.StartRaw(t, "tcp", func(net.Conn) {})
	return srv.Addr, func() int64 { return int64(srv.Accepted()) }
}

func TestSendPresetRaw(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	path := writePreset(t, filepath.Join(t.TempDir(), "raw.toml"), preset.Preset{
		Mode: session.ModeRaw, Target: addr, Role: fcgi.RoleResponder,
		Params: []session.RawParam{
			{Name: "SCRIPT_NAME", Value: "/echo", Enabled: true},
			{Name: "A", Value: "1", Enabled: true},
			{Name: "OFF", Value: "not sent", Enabled: false},
			{Name: "A", Value: "3", Enabled: true},
			{Name: "EMPTY", Value: "", Enabled: true},
		},
		Body: []byte("preset body"),
	})
	out, echo := sendEcho(t, "", "--preset", path, "--param", "Z=9", "--param", "A=4")
	want := []pair{{"SCRIPT_NAME", "/echo"}, {"A", "1"}, {"A", "3"}, {"EMPTY", ""}, {"Z", "9"}, {"A", "4"}}
	if !equalPairs(out.Params, want) {
		t.Errorf("params sent = %v, want %v", out.Params, want)
	}
	if !equalPairs(echo.Params, want) {
		t.Errorf("the backend saw %v, want %v", echo.Params, want)
	}
	if out.Target != addr || out.Role != "RESPONDER" || echo.Stdin == nil || *echo.Stdin != "preset body" {
		t.Errorf("target %q role %q stdin %v", out.Target, out.Role, echo.Stdin)
	}

	// --stdin-file replaces the body.
	body := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(body, []byte("from file"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, echo = sendEcho(t, "", "--preset", path, "--stdin-file", body)
	if echo.Stdin == nil || *echo.Stdin != "from file" {
		t.Errorf("--stdin-file: backend read %v", echo.Stdin)
	}
}

func TestSendPresetHTTPToPHPFPM(t *testing.T) {
	srv := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	path := writePreset(t, filepath.Join(t.TempDir(), "php", "echo.toml"), preset.Preset{
		Mode: session.ModeHTTP, Target: srv.Addr, Role: fcgi.RoleResponder,
		HTTP: &session.HTTPInput{Method: "POST", URL: "/echo.php?q=1", DocumentRoot: srv.DocRoot,
			ServerName: "preset.test", Headers: []session.Header{
				{Name: "Content-Type", Value: "application/x-www-form-urlencoded"},
				{Name: "Cookie", Value: "c=3"},
				{Name: "X-Keep", Value: "yes"},
			}},
		Body: []byte("a=1&b=two+words"),
	})
	phpEcho := func(args ...string) fcgitest.Echo {
		t.Helper()
		r := run(t, "", append([]string{"send", "--json", "--preset", path}, args...)...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
		out := decodeOut(t, r.stdout)
		if out.Response == nil || out.Response.Status != 200 {
			t.Fatalf("%v: response %+v, error %v", args, out.Response, out.Error)
		}
		echo, err := fcgitest.ParseEcho(b64(t, out.Response.BodyB64))
		if err != nil {
			t.Fatal(err)
		}
		return echo
	}
	server := func(echo fcgitest.Echo, want map[string]string) {
		t.Helper()
		for name, w := range want {
			if got, _ := echo.Param(name); got != w {
				t.Errorf("$_SERVER[%s] = %q, want %q", name, got, w)
			}
		}
	}

	echo := phpEcho()
	if string(echo.Stdin) != "a=1&b=two+words" || echo.Post["b"] != "two words" || echo.Get["q"] != "1" || echo.Cookie["c"] != "3" {
		t.Errorf("php saw stdin %q post %v get %v cookie %v", echo.Stdin, echo.Post, echo.Get, echo.Cookie)
	}
	server(echo, map[string]string{"SCRIPT_FILENAME": srv.Script("echo.php"), "REQUEST_METHOD": "POST",
		"CONTENT_LENGTH": "15", "SERVER_NAME": "preset.test", "HTTP_X_KEEP": "yes", "REQUEST_URI": "/echo.php?q=1"})

	// Flags override: URL, a header of the same name replaced, a new one
	// appended, the body, a param after the mapping.
	echo = phpEcho("--url", "/echo.php?q=2", "--header", "cookie: c=4", "--header", "X-New: 1",
		"--body", "a=5", "--param", "SERVER_NAME=param.test")
	if string(echo.Stdin) != "a=5" || echo.Post["a"] != "5" || echo.Get["q"] != "2" || echo.Cookie["c"] != "4" {
		t.Errorf("php saw stdin %q post %v get %v cookie %v", echo.Stdin, echo.Post, echo.Get, echo.Cookie)
	}
	server(echo, map[string]string{"HTTP_COOKIE": "c=4", "HTTP_X_KEEP": "yes", "HTTP_X_NEW": "1",
		"CONTENT_LENGTH": "3", "SERVER_NAME": "param.test", "REQUEST_URI": "/echo.php?q=2"})
}

func TestSendPresetOverrides(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	docroot := t.TempDir()
	path := writePreset(t, filepath.Join(t.TempDir(), "http.toml"), preset.Preset{
		Mode: session.ModeHTTP, Target: fcgitest.RefusedAddr(t, "tcp"), Role: fcgi.RoleResponder, KeepConn: true,
		HTTP: &session.HTTPInput{Method: "PUT", URL: "/nowhere", DocumentRoot: docroot, Headers: []session.Header{
			{Name: "X-A", Value: "1"}, {Name: "X-B", Value: "1"}, {Name: "x-a", Value: "2"},
		}},
		Body: []byte("old body"),
	})

	out, echo := sendEcho(t, "", "--preset", path, "--addr", addr, "--url", "/echo?x=1",
		"--header", "X-A: new", "--header", "X-C: c", "--body", "new body", "--param", "EXTRA=e", "--keep-conn=false")
	if out.Target != addr {
		t.Errorf("target %q, want --addr %q", out.Target, addr)
	}
	if got := echo.param("HTTP_X_A"); !slices.Equal(got, []string{"new"}) {
		t.Errorf("HTTP_X_A = %v, want [new] (both preset lines replaced)", got)
	}
	if a, b, c := echo.index("HTTP_X_A"), echo.index("HTTP_X_B"), echo.index("HTTP_X_C"); !(a >= 0 && a < b && b < c) {
		t.Errorf("header params out of order (X-A at %d, X-B at %d, X-C at %d): %v", a, b, c, echo.Params)
	}
	for name, want := range map[string]string{"REQUEST_URI": "/echo?x=1", "REQUEST_METHOD": "PUT",
		"SCRIPT_NAME": "/echo", "DOCUMENT_ROOT": docroot, "CONTENT_LENGTH": "8", "HTTP_X_B": "1"} {
		if got := echo.param(name); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %v, want %q", name, got, want)
		}
	}
	if last := echo.Params[len(echo.Params)-1]; last != (pair{"EXTRA", "e"}) {
		t.Errorf("--param not appended last: %v", echo.Params)
	}
	if echo.Stdin == nil || *echo.Stdin != "new body" || echo.KeepConn {
		t.Errorf("stdin %v keep_conn %v, want the --body and --keep-conn=false", echo.Stdin, echo.KeepConn)
	}

	// The preset's own keep-conn and body, and --role.
	out, echo = sendEcho(t, "", "--preset", path, "--addr", addr, "--url", "/echo")
	if !echo.KeepConn || echo.Stdin == nil || *echo.Stdin != "old body" {
		t.Errorf("keep_conn %v stdin %v, want the preset's", echo.KeepConn, echo.Stdin)
	}
	out, echo = sendEcho(t, "", "--preset", path, "--addr", addr, "--url", "/echo", "--role", "authorizer")
	if out.Role != "AUTHORIZER" || echo.Role != "AUTHORIZER" || len(echo.param("CONTENT_LENGTH")) != 0 || *echo.Stdin != "" {
		t.Errorf("--role authorizer: role %q/%q, CONTENT_LENGTH %v, stdin %q", out.Role, echo.Role,
			echo.param("CONTENT_LENGTH"), *echo.Stdin)
	}

	// An absolute --url describes the server.
	_, echo = sendEcho(t, "", "--preset", path, "--addr", addr, "--url", "https://shop.test:8443/echo")
	for name, want := range map[string]string{"HTTP_HOST": "shop.test", "SERVER_NAME": "shop.test",
		"SERVER_PORT": "8443", "HTTPS": "on", "REQUEST_URI": "/echo"} {
		if got := echo.param(name); !slices.Equal(got, []string{want}) {
			t.Errorf("absolute URL: %s = %v, want %q", name, got, want)
		}
	}
}

func TestSendRawPresetModeSwitch(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	path := writePreset(t, filepath.Join(t.TempDir(), "raw.toml"), preset.Preset{
		Mode: session.ModeRaw, Target: addr,
		Params: []session.RawParam{{Name: "SCRIPT_NAME", Value: "/echo", Enabled: true}, {Name: "FOO", Value: "bar", Enabled: true}},
	})
	// --url switches a raw preset to HTTP mode: the params are mapped, the
	// raw table is not sent.
	out, echo := sendEcho(t, "", "--preset", path, "--url", "/echo?y=2", "--method", "DELETE")
	if len(echo.param("FOO")) != 0 || !slices.Equal(echo.param("REQUEST_METHOD"), []string{"DELETE"}) ||
		!slices.Equal(echo.param("QUERY_STRING"), []string{"y=2"}) {
		t.Errorf("HTTP mode from a raw preset: %v", out.Params)
	}
	for _, args := range [][]string{{"--method", "POST"}, {"--docroot", "/srv"}, {"--header", "A: b"}, {"--body", "x"}} {
		r := run(t, "", append([]string{"send", "--preset", path}, args...)...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, args[0]+" needs HTTP mode, and the preset "+path+" is in raw mode: give --url") {
			t.Errorf("%v on a raw preset: exit %d, stderr:\n%s", args, r.code, r.stderr)
		}
	}
}

func TestSendPresetFilter(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data.txt")
	if err := os.WriteFile(data, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := writePreset(t, filepath.Join(dir, "filter.toml"), preset.Preset{
		Mode: session.ModeRaw, Target: addr, Role: fcgi.RoleFilter, DataFile: data,
		Params: []session.RawParam{{Name: "SCRIPT_NAME", Value: "/echo", Enabled: true}},
	})
	for _, tc := range []struct {
		stdin string
		args  []string
		n     int
	}{
		{"", nil, 10}, // the preset's data file (session.FilterFile)
		{"piped!", []string{"--data-file", "-"}, 6}, // standard input
	} {
		out, echo := sendEcho(t, tc.stdin, append([]string{"--preset", path}, tc.args...)...)
		if out.Role != "FILTER" || echo.DataLength == nil || *echo.DataLength != tc.n ||
			!slices.Equal(echo.param("FCGI_DATA_LENGTH"), []string{strconv.Itoa(tc.n)}) {
			t.Errorf("%v: role %q data length %v params %v", tc.args, out.Role, echo.DataLength, echo.Params)
		}
	}
	r := run(t, "", "send", "--preset", path, "--data-file", "")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "role filter needs a data file") {
		t.Errorf("filter without data: exit %d\n%s", r.code, r.stderr)
	}
}

// envPreset is an HTTP preset using variables in the target, URL, a
// header and the body.
func envPreset(docroot string) preset.Preset {
	return preset.Preset{
		Mode: session.ModeHTTP, Target: "{{addr}}",
		HTTP: &session.HTTPInput{URL: "{{path}}?who={{who}}", DocumentRoot: docroot,
			Headers: []session.Header{{Name: "X-Token", Value: "Bearer {{tok}}"}}},
		Body: []byte("hello {{who}}"),
	}
}

func TestSendPresetEnvironment(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	root := t.TempDir()
	// Two folders up from the preset.
	writeEnvironments(t, filepath.Join(root, preset.EnvironmentsFile),
		preset.Environment{Name: "local", Vars: map[string]string{"addr": addr, "path": "/echo", "tok": "s3cret", "who": "far"}},
		preset.Environment{Name: "staging", Vars: map[string]string{"addr": "192.0.2.1:9000"}})
	path := writePreset(t, filepath.Join(root, "team", "api", "hello.toml"), envPreset(root))

	out, echo := sendEcho(t, "", "--preset", path, "--env", "local", "--param", "P={{who}}")
	if out.Target != addr {
		t.Errorf("target %q, want %q", out.Target, addr)
	}
	for name, want := range map[string]string{"REQUEST_URI": "/echo?who=far", "HTTP_X_TOKEN": "Bearer s3cret",
		"P": "far", "CONTENT_LENGTH": "9"} {
		if got := echo.param(name); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %v, want %q", name, got, want)
		}
	}
	if echo.Stdin == nil || *echo.Stdin != "hello far" {
		t.Errorf("stdin %v", echo.Stdin)
	}

	// The nearest environments file wins.
	writeEnvironments(t, filepath.Join(root, "team", preset.EnvironmentsFile),
		preset.Environment{Name: "local", Vars: map[string]string{"addr": addr, "path": "/echo", "tok": "t", "who": "near"}})
	_, echo = sendEcho(t, "", "--preset", path, "--env", "local")
	if echo.Stdin == nil || *echo.Stdin != "hello near" {
		t.Errorf("nearest environments file: stdin %v", echo.Stdin)
	}
	// --env-file names another.
	other := filepath.Join(t.TempDir(), "envs.toml")
	writeEnvironments(t, other,
		preset.Environment{Name: "ci", Vars: map[string]string{"addr": addr, "path": "/echo", "tok": "t", "who": "ci"}})
	_, echo = sendEcho(t, "", "--preset", path, "--env", "ci", "--env-file", other)
	if echo.Stdin == nil || *echo.Stdin != "hello ci" {
		t.Errorf("--env-file: stdin %v", echo.Stdin)
	}

	// An unknown environment lists the known ones.
	r := run(t, "", "send", "--preset", path, "--env", "prod")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `--env "prod": no such environment in `+filepath.Join(root, "team", preset.EnvironmentsFile)+" (known: local)") {
		t.Errorf("unknown environment: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSendPresetUnknownVariableSendsNothing(t *testing.T) {
	addr, accepts := countingListener(t)
	dir := t.TempDir()
	writeEnvironments(t, filepath.Join(dir, preset.EnvironmentsFile),
		preset.Environment{Name: "local", Vars: map[string]string{"addr": addr, "path": "/echo"}},
		preset.Environment{Name: "full", Vars: map[string]string{"addr": addr, "path": "/echo", "tok": "t", "who": "w", "q": "1"}})
	path := writePreset(t, filepath.Join(dir, "p.toml"), envPreset(dir))

	r := run(t, "", "send", "--preset", path, "--env", "local", "--param", "Q={{q}}")
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitUsage, r.stderr)
	}
	const want = `session: unknown variables {{q}} in param Q value, {{who}} in body, {{who}} in URL, {{tok}} in header X-Token value (environment "local"); nothing was sent`
	if !strings.Contains(r.stderr, want) || r.stdout != "" {
		t.Errorf("stderr lacks\n  %s\ngot:\n%s\nstdout:\n%s", want, r.stderr, r.stdout)
	}
	if n := accepts(); n != 0 {
		t.Errorf("the target accepted %d connections; nothing should have been sent", n)
	}

	// Without --env: the variables are named, and the environments found.
	r = run(t, "", "send", "--preset", path)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "{{addr}} in target, {{who}} in body, {{path}} in URL") ||
		!strings.Contains(r.stderr, "pass --env NAME") || !strings.Contains(r.stderr, "(environments in "+filepath.Join(dir, preset.EnvironmentsFile)+": full, local)") {
		t.Errorf("without --env: exit %d\n%s", r.code, r.stderr)
	}
	if n := accepts(); n != 0 {
		t.Errorf("the target accepted %d connections", n)
	}

	// The same request with every variable known reaches the listener
	// (which closes at once): the counter does count.
	r = run(t, "", "send", "--preset", path, "--env", "full", "--param", "Q={{q}}")
	if r.code != ExitFailure || accepts() != 1 {
		t.Errorf("with every variable known: exit %d, %d connections\n%s", r.code, accepts(), r.stderr)
	}
}

func TestSendEnvironmentWithoutPreset(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	envFile := filepath.Join(t.TempDir(), "e.toml")
	writeEnvironments(t, envFile, preset.Environment{Name: "dev", Vars: map[string]string{"addr": addr, "script": "/echo"}})
	_, echo := sendEcho(t, "", "--addr", "{{addr}}", "--env", "dev", "--env-file", envFile,
		"--param", "SCRIPT_NAME={{script}}", "--param", "LITERAL={{ not a var }}")
	if !equalPairs(echo.Params, []pair{{"SCRIPT_NAME", "/echo"}, {"LITERAL", "{{ not a var }}"}}) {
		t.Errorf("params %v", echo.Params)
	}

	// Without --env the command line is sent as written.
	_, echo = sendEcho(t, "", "--addr", addr, "--param", "SCRIPT_NAME=/echo", "--param", "X={{script}}")
	if !slices.Equal(echo.param("X"), []string{"{{script}}"}) {
		t.Errorf("without --env: %v", echo.Params)
	}

	// The window's presets folder.
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	dir, err := preset.DefaultDir()
	if err != nil || !strings.HasPrefix(dir, cfg) {
		t.Fatalf("preset.DefaultDir = %q, %v", dir, err)
	}
	r := run(t, "", "send", "--addr", "{{addr}}", "--env", "dev")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "no "+preset.EnvironmentsFile+" in the presets folder "+dir+": give --env-file") {
		t.Errorf("no environments file: exit %d\n%s", r.code, r.stderr)
	}
	writeEnvironments(t, filepath.Join(dir, preset.EnvironmentsFile), preset.Environment{Name: "dev", Vars: map[string]string{"addr": addr}})
	_, echo = sendEcho(t, "", "--addr", "{{addr}}", "--env", "dev", "--param", "SCRIPT_NAME=/echo")
	if !slices.Equal(echo.param("SCRIPT_NAME"), []string{"/echo"}) {
		t.Errorf("presets folder: %v", echo.Params)
	}
}

func TestSendPresetBadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	corrupt := write("corrupt.toml", "format = 1\ntarget = \"127.0.0.1:1\n")
	newer := write("newer.toml", "format = 99\ntarget = \"127.0.0.1:1\"\n")
	unknownKey := write("typo.toml", "format = 1\ntarget = \"127.0.0.1:1\"\ntargte = \"x\"\n")
	missing := filepath.Join(dir, "missing.toml")
	for _, tc := range []struct{ path, want string }{
		{corrupt, "corrupt preset"},
		{newer, "newer fcgiscope"},
		{unknownKey, "targte"},
		{missing, "no such file"},
	} {
		r := run(t, "", "send", "--preset", tc.path)
		if r.code != ExitUsage || !strings.Contains(r.stderr, tc.path) || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d naming the file and %q:\n%s", filepath.Base(tc.path), r.code, ExitUsage, tc.want, r.stderr)
		}
	}

	good := writePreset(t, filepath.Join(dir, "sub", "good.toml"), preset.Preset{Mode: session.ModeRaw, Target: "127.0.0.1:1"})
	envs := write(preset.EnvironmentsFile, "format = 1\n[environments.local\n")
	r := run(t, "", "send", "--preset", good, "--env", "local")
	if r.code != ExitUsage || !strings.Contains(r.stderr, envs) || !strings.Contains(r.stderr, "corrupt") {
		t.Errorf("corrupt environments file: exit %d\n%s", r.code, r.stderr)
	}
	noTarget := writePreset(t, filepath.Join(dir, "notarget.toml"), preset.Preset{Mode: session.ModeRaw})
	r = run(t, "", "send", "--preset", noTarget)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "has no target: give --addr") {
		t.Errorf("no target: exit %d\n%s", r.code, r.stderr)
	}
	r = run(t, "", "send", "--addr", "127.0.0.1:1", "--env-file", envs)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--env-file needs --env") {
		t.Errorf("--env-file alone: exit %d\n%s", r.code, r.stderr)
	}
}

// TestPlanSendFinalInput checks what the exchange records: the input after
// the flags and the environment, --param values at the end of its table.
func TestPlanSendFinalInput(t *testing.T) {
	dir := t.TempDir()
	writeEnvironments(t, filepath.Join(dir, preset.EnvironmentsFile),
		preset.Environment{Name: "local", Vars: map[string]string{"addr": "127.0.0.1:9", "path": "/echo", "tok": "s", "who": "w"}})
	p := envPreset(dir)
	p.Params = []session.RawParam{{Name: "KEPT", Value: "{{who}}", Enabled: true}}
	path := writePreset(t, filepath.Join(dir, "p.toml"), p)

	fs := newFlagSet("send", io.Discard)
	o := newSendOpts(fs)
	if err := parseFlags(fs, []string{"--preset", path, "--env", "local", "--header", "X-More: {{tok}}", "--param", "U={{who}}"}); err != nil {
		t.Fatal(err)
	}
	o.set = flagsSet(fs)
	log, err := NewLogger(io.Discard, "error", "text")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := (&env{Runner: &Runner{Stdout: io.Discard, Stderr: io.Discard}, log: log}).planSend(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	in := plan.in
	wantHeaders := []session.Header{{Name: "X-Token", Value: "Bearer s"}, {Name: "X-More", Value: "s"}}
	if in.Target != "127.0.0.1:9" || in.HTTP.URL != "/echo?who=w" || string(in.Body) != "hello w" ||
		!slices.Equal(in.HTTP.Headers, wantHeaders) {
		t.Errorf("final input: target %q URL %q body %q headers %v", in.Target, in.HTTP.URL, in.Body, in.HTTP.Headers)
	}
	wantParams := []session.RawParam{{Name: "KEPT", Value: "w", Enabled: true}, {Name: "U", Value: "w", Enabled: true}}
	if !slices.Equal(in.Params, wantParams) {
		t.Errorf("final params table %v, want %v", in.Params, wantParams)
	}
	if v, _ := plan.req.Params.Get("U"); v != "w" {
		t.Errorf("request params %v", plan.req.Params)
	}
	if _, ok := plan.req.Params.Get("KEPT"); ok {
		t.Error("HTTP mode sent the raw table")
	}
}

func TestMergeHeaders(t *testing.T) {
	h := func(kv ...string) []session.Header {
		var out []session.Header
		for i := 0; i < len(kv); i += 2 {
			out = append(out, session.Header{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name             string
		base, over, want []session.Header
	}{
		{"no flags", h("A", "1"), nil, h("A", "1")},
		{"append", h("A", "1"), h("B", "2"), h("A", "1", "B", "2")},
		{"replace in place", h("A", "1", "B", "1"), h("a", "2"), h("a", "2", "B", "1")},
		{"replace every line of the name", h("Cookie", "x", "B", "1", "cookie", "y"), h("Cookie", "z"), h("Cookie", "z", "B", "1")},
		{"repeated flag lines kept", h("A", "1", "B", "1"), h("A", "2", "C", "3", "A", "4"), h("A", "2", "A", "4", "B", "1", "C", "3")},
		{"empty base", nil, h("X", "1", "X", "2"), h("X", "1", "X", "2")},
	} {
		if got := mergeHeaders(tc.base, tc.over); !slices.Equal(got, tc.want) {
			t.Errorf("%s: mergeHeaders = %v, want %v", tc.name, got, tc.want)
		}
	}
}
