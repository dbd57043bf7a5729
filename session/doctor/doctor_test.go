// Doctor tests: a healthy php-fpm pool and deliberately broken ones, the
// demo backend, a closed port and a backend that never answers.

package doctor

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session/sessiontest"
)

// testCtx bounds a test's doctor run.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// severities maps each check of a report to its severity.
func severities(t *testing.T, rep Report) map[string]Severity {
	t.Helper()
	out := map[string]Severity{}
	for _, f := range rep.Findings {
		if _, dup := out[f.Check]; dup {
			t.Errorf("two findings for %s", f.Check)
		}
		if f.Title == "" || f.Explanation == "" || f.Evidence == "" {
			t.Errorf("incomplete finding %+v", f)
		}
		out[f.Check] = f.Severity
	}
	return out
}

func checkSeverities(t *testing.T, rep Report, want map[string]Severity) {
	t.Helper()
	got := severities(t, rep)
	for check, sev := range want {
		if s, ok := got[check]; !ok || s != sev {
			f, _ := rep.Finding(check)
			t.Errorf("%s: %v (found %v), want %v: %+v", check, s, ok, sev, f)
		}
	}
	for check := range got {
		if _, ok := want[check]; !ok {
			f, _ := rep.Finding(check)
			t.Errorf("unexpected finding %+v", f)
		}
	}
}

// doctorPHPFPM starts php-fpm with extra pool lines and a static file.
func doctorPHPFPM(t *testing.T, kind fcgitest.ListenKind, extra string) (*fcgitest.PHPFPMServer, string) {
	t.Helper()
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: kind, ExtraPool: extra,
		Scripts: map[string]string{"notes.txt": "plain notes, no PHP\n"}})
	target := fpm.Addr
	if fpm.Network == "unix" {
		target = "unix:" + fpm.Addr
	}
	return fpm, target
}

func TestDoctorHealthyPool(t *testing.T) {
	fpm, target := doctorPHPFPM(t, fcgitest.ListenUnix, "")
	sessiontest.NoLeaks(t)
	rep := Run(testCtx(t), target, Options{DocRoot: fpm.DocRoot, Script: "hello.php",
		PingPath: "/ping", StatusPath: "/status"})
	checkSeverities(t, rep, map[string]Severity{
		CheckConnect:         SeverityOK,
		CheckGetValues:       SeverityInfo,
		CheckScript:          SeverityOK,
		CheckUnknownScript:   SeverityOK,
		CheckRelativeScript:  SeverityInfo,
		CheckLimitExtensions: SeverityOK, // notes.txt found in the document root
		CheckContentLength:   SeverityInfo,
		CheckPing:            SeverityOK,
		CheckStatus:          SeverityOK,
	})
	if rep.Worst() != SeverityInfo || rep.Target != target || rep.Duration <= 0 {
		t.Errorf("worst %v, target %q, duration %v", rep.Worst(), rep.Target, rep.Duration)
	}
	if f, _ := rep.Finding(CheckGetValues); !strings.Contains(f.Evidence, "FCGI_MPXS_CONNS=0") ||
		strings.Contains(f.Evidence, "FCGI_MAX_CONNS") {
		t.Errorf("GET_VALUES: %+v", f)
	}
	if f, _ := rep.Finding(CheckUnknownScript); !strings.Contains(f.Evidence, "Primary script unknown") ||
		!strings.Contains(f.Evidence, "status 404") {
		t.Errorf("unknown script: %+v", f)
	}
	if f, _ := rep.Finding(CheckLimitExtensions); !strings.Contains(f.Evidence, "Access to the script") ||
		!strings.Contains(f.Evidence, "notes.txt") {
		t.Errorf("limit_extensions: %+v", f)
	}
	if f, _ := rep.Finding(CheckRelativeScript); !strings.Contains(f.Explanation, "$document_root$fastcgi_script_name") {
		t.Errorf("relative script: %+v", f)
	}

	// Pages the pool does not serve, a script that is not there, and no
	// static file: the findings say so.
	rep = Run(testCtx(t), target, Options{DocRoot: fpm.DocRoot, Script: "/nope.php",
		StaticFile: "missing.txt", PingPath: "/healthz"})
	checkSeverities(t, rep, map[string]Severity{
		CheckConnect:         SeverityOK,
		CheckGetValues:       SeverityInfo,
		CheckScript:          SeverityError,
		CheckUnknownScript:   SeverityOK,
		CheckRelativeScript:  SeverityInfo,
		CheckLimitExtensions: SeverityInfo,
		CheckContentLength:   SeverityInfo,
		CheckPing:            SeverityWarning,
	})
	if f, _ := rep.Finding(CheckScript); !strings.Contains(f.Title, "cannot find") ||
		!strings.Contains(f.Explanation, "fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;") {
		t.Errorf("missing script: %+v", f)
	}
	if f, _ := rep.Finding(CheckPing); !strings.Contains(f.Explanation, "ping.path = /healthz") {
		t.Errorf("ping: %+v", f)
	}
}

func TestDoctorBrokenPools(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        map[string]Severity
		check       string // the finding that tells what is broken
		words       string // in its explanation
	}{
		{
			name: "allowed_clients", extra: "listen.allowed_clients = 10.1.2.3",
			want:  map[string]Severity{CheckConnect: SeverityOK, CheckAllowedClients: SeverityError},
			check: CheckAllowedClients, words: "listen.allowed_clients",
		},
		{
			name: "limit_extensions without .php", extra: "security.limit_extensions = .php7",
			want: map[string]Severity{CheckConnect: SeverityOK, CheckGetValues: SeverityInfo, CheckScript: SeverityError,
				CheckUnknownScript: SeverityOK, CheckRelativeScript: SeverityInfo, CheckLimitExtensions: SeverityOK,
				CheckContentLength: SeverityInfo},
			check: CheckScript, words: "security.limit_extensions = .php",
		},
		{
			name: "limit_extensions with .txt", extra: "security.limit_extensions = .php .txt",
			want: map[string]Severity{CheckConnect: SeverityOK, CheckGetValues: SeverityInfo, CheckScript: SeverityOK,
				CheckUnknownScript: SeverityOK, CheckRelativeScript: SeverityInfo, CheckLimitExtensions: SeverityWarning,
				CheckContentLength: SeverityInfo},
			check: CheckLimitExtensions, words: "security.limit_extensions = .php",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fpm, target := doctorPHPFPM(t, fcgitest.ListenTCP, tc.extra)
			sessiontest.NoLeaks(t)
			rep := Run(testCtx(t), target, Options{DocRoot: fpm.DocRoot, Script: "hello.php"})
			checkSeverities(t, rep, tc.want)
			f, _ := rep.Finding(tc.check)
			if !strings.Contains(f.Explanation, tc.words) {
				t.Errorf("%s: %+v", tc.check, f)
			}
		})
	}
}

func TestDoctorOtherBackends(t *testing.T) {
	sessiontest.NoLeaks(t) // first: checked after the backend is closed
	addr := fcgitest.StartDemo(t)
	closed := fcgitest.RefusedAddr(t, "tcp")

	rep := Run(testCtx(t), closed, Options{})
	checkSeverities(t, rep, map[string]Severity{CheckConnect: SeverityError})
	if rep.Worst() != SeverityError {
		t.Errorf("worst %v", rep.Worst())
	}

	rep = Run(testCtx(t), addr, Options{DocRoot: "/srv/www"})
	if f, _ := rep.Finding(CheckGetValues); !strings.Contains(f.Title, "not php-fpm") {
		t.Errorf("demo GET_VALUES: %+v", f)
	}
	if f, _ := rep.Finding(CheckUnknownScript); f.Severity != SeverityInfo {
		t.Errorf("demo unknown script: %+v", f)
	}
}

// silentBackend accepts connections and reads everything, never answering.
func silentBackend(t *testing.T) string {
	t.Helper()
	return fcgitest.StartRaw(t, "tcp", func(nc net.Conn) { io.Copy(io.Discard, nc) }).Addr
}

// TestDoctorNeverHangs: against a backend that never answers, every probe
// gives up within its bound.
func TestDoctorNeverHangs(t *testing.T) {
	addr := silentBackend(t)
	sessiontest.NoLeaks(t)
	const bound = 300 * time.Millisecond
	start := time.Now()
	rep := Run(context.Background(), addr, Options{DocRoot: "/srv", Timeout: bound, HangTimeout: bound,
		PingPath: "/ping"})
	if took := time.Since(start); took > 15*time.Second { // the default timeouts would take longer
		t.Errorf("the doctor took %v", took)
	}
	checkSeverities(t, rep, map[string]Severity{
		CheckConnect:         SeverityOK,
		CheckGetValues:       SeverityWarning,
		CheckScript:          SeverityError,
		CheckUnknownScript:   SeverityInfo,
		CheckRelativeScript:  SeverityInfo,
		CheckLimitExtensions: SeverityInfo,
		CheckContentLength:   SeverityWarning,
		CheckPing:            SeverityWarning,
	})
	if f, _ := rep.Finding(CheckContentLength); !strings.Contains(f.Title, "hangs") ||
		!strings.Contains(f.Explanation, "fastcgi_param CONTENT_LENGTH $content_length;") {
		t.Errorf("content length: %+v", f)
	}

	// A cancelled context ends the doctor at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep = Run(ctx, addr, Options{})
	if rep.Worst() != SeverityError || len(rep.Findings) != 1 {
		t.Errorf("cancelled: %+v", rep.Findings)
	}
}
