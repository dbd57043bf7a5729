package fcgitest_test

import (
	"strings"
	"testing"

	"fcgiscope/fcgi/fcgitest"
)

// TestServers starts every real server and asks its app for an echo through cgi-fcgi: the
// helper must have the server accepting on its socket, running the app with the params it is
// given, and stop it (with its workers) at the end of the test.
func TestServers(t *testing.T) {
	t.Parallel()
	for _, kind := range fcgitest.ServerKinds() {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			s := fcgitest.NewServer(t, kind)
			if s.Kind != kind || s.Network != "unix" || !strings.HasPrefix(s.Target(), "unix:/") {
				t.Errorf("server %+v", s)
			}
			out, errOut := cgiFCGI(t, s.Addr, "SCRIPT_FILENAME="+s.Script, "SCRIPT_NAME="+s.ScriptName,
				"QUERY_STRING=a=echo", "X_PROBE=1")
			if !strings.Contains(out, "\r\n\r\n") || !strings.Contains(out, "X_PROBE=1\n") ||
				!strings.Contains(out, "stdin 0 d41d8cd98f00b204e9800998ecf8427e\n") {
				t.Errorf("echo through cgi-fcgi:\nstdout %q\nstderr %q\nlog %s", out, errOut, s.Log())
			}
		})
	}
}

func TestServerKindString(t *testing.T) {
	want := []string{"fcgiwrap", "php-cgi", "uwsgi", "perl-fcgi", "node-fastcgi"}
	for i, k := range fcgitest.ServerKinds() {
		if k.String() != want[i] {
			t.Errorf("kind %d = %q, want %q", i, k, want[i])
		}
	}
	if s := fcgitest.ServerKind(99).String(); s != "ServerKind(99)" {
		t.Errorf("unknown kind = %q", s)
	}
}
