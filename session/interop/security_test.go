// Security of the exports: random hostile values survive every shell
// quoted exactly and run nothing, and secrets are redacted from every
// export unless asked for.

package interop_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/interop"
	"fcgiscope/session/sessiontest"
)

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
			w := interop.WireRequest{Target: "127.0.0.1:9000", Params: params, Body: body}

			cmd, err := interop.ExportCGIFCGI(w, session.ExportOptions{Secrets: true})
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

			cmd, err = interop.ExportSendCommand(w, session.ExportOptions{Secrets: true})
			if err != nil {
				t.Fatalf("send export: %v", err)
			}
			prog := interop.SendProgram + " send"
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
	addr := fcgitest.StartDemo(t)
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
	x := session.NewExchange(session.Input{Mode: session.ModeHTTP, Target: addr, HTTP: &in,
		Params: []session.RawParam{{Name: "DB_PASSWORD", Value: secret, Enabled: true}}})
	if err := session.NewEngine(pool, session.EngineOptions{}).Send(context.Background(), addr, req, x); err != nil {
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
	sessiontest.NoLeaks(t)
	for _, pad := range []int{0, 70000} {
		t.Run(fmt.Sprintf("pad %d", pad), func(t *testing.T) { checkExportsRedact(t, secretExchange(t, pad)) })
	}
}

func checkExportsRedact(t *testing.T, x *session.Exchange) {
	w := interop.WireRequestOf(x)
	dir := t.TempDir()
	exports := map[string]func(session.ExportOptions) ([]byte, error){
		"cgi-fcgi": func(o session.ExportOptions) ([]byte, error) {
			s, err := interop.ExportCGIFCGI(w, o)
			return []byte(s), err
		},
		"send": func(o session.ExportOptions) ([]byte, error) {
			s, err := interop.ExportSendCommand(w, o)
			return []byte(s), err
		},
		"send --url": func(o session.ExportOptions) ([]byte, error) {
			s, err := interop.ExportSendHTTPCommand(x.Input, o)
			return []byte(s), err
		},
		"HAR": func(o session.ExportOptions) ([]byte, error) { return interop.ExportHAR(x, o) },
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
