// Real FastCGI servers besides php-fpm: fcgiwrap, php-cgi -b, uwsgi, Perl FCGI under spawn-fcgi
// and node-fastcgi, each running the app of serverapps.go in a temporary directory.

package fcgitest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// ErrNotInstalled is wrapped by StartServer's error when the server, or what it needs, is not
// installed.
var ErrNotInstalled = errors.New("not installed")

// ServerKind names a FastCGI server StartServer can run.
type ServerKind int

const (
	// FCGIWrap is fcgiwrap 1.1 (Debian package fcgiwrap) running a shell CGI script, with two
	// workers (-c 2) and the script's stderr on FastCGI STDERR (-f).
	FCGIWrap ServerKind = iota + 1
	// PHPCGI is php-cgi -b (package php8.2-cgi) with two children (PHP_FCGI_CHILDREN=2), no
	// php.ini.
	PHPCGI
	// UWSGI is uwsgi 2.0 with its FastCGI socket (packages uwsgi-core, uwsgi-plugin-python3)
	// running a WSGI app in two processes, --socket-timeout 2.
	UWSGI
	// PerlFCGI is a Perl FCGI loop (package libfcgi-perl) under spawn-fcgi -n (package
	// spawn-fcgi): one process, one request at a time.
	PerlFCGI
	// NodeFastCGI is node-fastcgi 1.3 (package node-fastcgi, and nodejs), which implements the
	// Authorizer and Filter roles and multiplexing.
	NodeFastCGI
)

// ServerKinds returns every kind, in a fixed order.
func ServerKinds() []ServerKind { return []ServerKind{FCGIWrap, PHPCGI, UWSGI, PerlFCGI, NodeFastCGI} }

func (k ServerKind) String() string {
	switch k {
	case FCGIWrap:
		return "fcgiwrap"
	case PHPCGI:
		return "php-cgi"
	case UWSGI:
		return "uwsgi"
	case PerlFCGI:
		return "perl-fcgi"
	case NodeFastCGI:
		return "node-fastcgi"
	}
	return fmt.Sprintf("ServerKind(%d)", int(k))
}

// ServerPackages are the Debian packages the servers of this file need, for CI's apt-get.
var ServerPackages = []string{"fcgiwrap", "php8.2-cgi", "uwsgi-core", "uwsgi-plugin-python3", "spawn-fcgi",
	"libfcgi-perl", "node-fastcgi", "nodejs"}

// Server is a running FastCGI server started by StartServer. It listens on a unix socket in its
// directory.
type Server struct {
	Kind ServerKind
	// Network is "unix"; Addr is the socket path.
	Network, Addr string
	// Dir holds the app, the socket and the logs; DocRoot is Dir.
	Dir, DocRoot string
	// Script is the app's absolute path (SCRIPT_FILENAME), ScriptName its URL path ("/app.cgi").
	Script, ScriptName string
	// Ext is the app's extension without the dot ("cgi", "php", "py", "pl", "js"), for an
	// nginx location (NginxOptions.Ext).
	Ext string

	proc    *process
	tempDir bool // Dir was made by StartServer and goes with Close
}

// Target returns the address in the form package fcgi's ParseAddr takes: "unix:/path".
func (s *Server) Target() string { return "unix:" + s.Addr }

// Pass returns the address in the form nginx's fastcgi_pass wants: "unix:/path".
func (s *Server) Pass() string { return "unix:" + s.Addr }

// PID returns the process id of the server's main process.
func (s *Server) PID() int { return s.proc.cmd.Process.Pid }

// Log returns what the server wrote on its stdout and stderr.
func (s *Server) Log() string { return s.proc.out.String() }

// Close stops the server (its whole process group) and removes its directory if StartServer
// made it. Safe to call more than once.
func (s *Server) Close() {
	s.proc.terminate()
	os.Remove(s.Addr)
	if sockDir := filepath.Dir(s.Addr); sockDir != s.Dir {
		os.RemoveAll(sockDir) // the short directory of a socket whose path in Dir was too long
	}
	if s.tempDir {
		os.RemoveAll(s.Dir)
	}
}

// serverSpec is how to run one kind.
type serverSpec struct {
	need    func() error // what must be installed
	app     string       // the app's file name
	content string       // its text
	mode    os.FileMode
	stopSig os.Signal
	// command returns the program, its arguments and extra environment for the socket sock
	// and the app at app.
	command func(sock, app string) (path string, args, env []string)
	// ready tells from the server's output that it is ready, before the socket is dialled.
	ready func(log string) bool
}

func specOf(kind ServerKind) (serverSpec, error) {
	always := func(string) bool { return true }
	switch kind {
	case FCGIWrap:
		return serverSpec{
			need: func() error { return needFile("/usr/sbin/fcgiwrap", "package fcgiwrap") },
			app:  "app.cgi", content: appCGI, mode: 0o755, stopSig: syscall.SIGTERM, ready: always,
			command: func(sock, _ string) (string, []string, []string) {
				return "/usr/sbin/fcgiwrap", []string{"-f", "-c", "2", "-s", "unix:" + sock}, nil
			},
		}, nil
	case PHPCGI:
		bin := lookBinary([]string{"php-cgi8.2", "php-cgi"}, "/usr/bin")
		return serverSpec{
			need: func() error {
				if bin == "" {
					return fmt.Errorf("php-cgi (package php8.2-cgi): %w", ErrNotInstalled)
				}
				return nil
			},
			app: "app.php", content: appPHP, mode: 0o644, stopSig: syscall.SIGTERM, ready: always,
			command: func(sock, _ string) (string, []string, []string) {
				return bin, []string{"-n", "-d", "display_errors=0", "-d", "log_errors=1", "-b", sock},
					[]string{"PHP_FCGI_CHILDREN=2", "PHP_FCGI_MAX_REQUESTS=100000"}
			},
		}, nil
	case UWSGI:
		return serverSpec{
			need: func() error {
				if err := needFile("/usr/bin/uwsgi", "package uwsgi-core"); err != nil {
					return err
				}
				return needFile("/usr/lib/uwsgi/plugins/python3_plugin.so", "package uwsgi-plugin-python3")
			},
			app: "app.py", content: appPy, mode: 0o644, stopSig: syscall.SIGINT,
			command: func(sock, app string) (string, []string, []string) {
				return "/usr/bin/uwsgi", []string{"--plugin", "python3", "--fastcgi-socket", sock, "--wsgi-file", app,
					"--master", "--processes", "2", "--die-on-term", "--need-app", "--disable-logging",
					"--socket-timeout", "2", "--chdir", filepath.Dir(app)}, nil
			},
			// The socket is bound before the app loads.
			ready: func(log string) bool { return strings.Contains(log, "spawned uWSGI worker 2") },
		}, nil
	case PerlFCGI:
		return serverSpec{
			need: func() error {
				if err := needFile("/usr/bin/spawn-fcgi", "package spawn-fcgi"); err != nil {
					return err
				}
				if err := needFile("/usr/bin/perl", "package perl"); err != nil {
					return err
				}
				if exec.Command("/usr/bin/perl", "-MFCGI", "-e", "1").Run() != nil {
					return fmt.Errorf("the Perl module FCGI (package libfcgi-perl): %w", ErrNotInstalled)
				}
				return nil
			},
			app: "app.pl", content: appPl, mode: 0o644, stopSig: syscall.SIGTERM, ready: always,
			command: func(sock, app string) (string, []string, []string) {
				// -n: spawn-fcgi binds the socket and execs perl, which is then the pid.
				return "/usr/bin/spawn-fcgi", []string{"-n", "-s", sock, "--", "/usr/bin/perl", app}, nil
			},
		}, nil
	case NodeFastCGI:
		node := lookBinary([]string{"node", "nodejs"}, "/usr/bin")
		return serverSpec{
			need: func() error {
				if node == "" {
					return fmt.Errorf("node (package nodejs): %w", ErrNotInstalled)
				}
				return needFile("/usr/share/nodejs/node-fastcgi/index.js", "package node-fastcgi")
			},
			app: "app.js", content: appJS, mode: 0o644, stopSig: syscall.SIGTERM,
			command: func(sock, app string) (string, []string, []string) {
				// Debian's nodejs searches /usr/share/nodejs, NodeSource's does not.
				return node, []string{app, sock}, []string{"NODE_PATH=/usr/share/nodejs"}
			},
			ready: func(log string) bool { return strings.Contains(log, "fcgitest app listening") },
		}, nil
	}
	return serverSpec{}, fmt.Errorf("fcgitest: unknown server kind %d", int(kind))
}

func needFile(path, pkg string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("%s (%s): %w", path, pkg, ErrNotInstalled)
	}
	return nil
}

// StartServer starts a server of the given kind in a new temporary directory, listening on a
// unix socket there, and waits until it accepts connections. The caller must Close it. When the
// server is not installed the error wraps ErrNotInstalled and names the package.
//
// It is for servers shared by the tests of one test binary (start once, Close in TestMain);
// NewServer starts one for a single test.
func StartServer(kind ServerKind) (*Server, error) {
	dir, err := os.MkdirTemp("", "fcgitest-"+kind.String())
	if err != nil {
		return nil, fmt.Errorf("fcgitest: %v: %w", kind, err)
	}
	s, err := startServerIn(kind, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.tempDir = true
	return s, nil
}

// NewServer starts a server of the given kind for the length of the test (see StartServer). A
// server that is not installed skips the test, or fails it when RequireServersEnv is "1".
func NewServer(t testing.TB, kind ServerKind) *Server {
	t.Helper()
	s, err := startServerIn(kind, tempDir(t))
	if err != nil {
		SkipMissing(t, err)
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// SkipMissing skips the test when err says a server is not installed (wraps ErrNotInstalled),
// or fails it when RequireServersEnv is "1". Other errors, and nil, are left to the caller.
func SkipMissing(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotInstalled) {
		return
	}
	if os.Getenv(RequireServersEnv) == "1" {
		t.Fatalf("%v and %s=1; install %s", err, RequireServersEnv, strings.Join(ServerPackages, " "))
	}
	t.Skipf("%v (set %s=1 to fail instead)", err, RequireServersEnv)
}

func startServerIn(kind ServerKind, dir string) (*Server, error) {
	spec, err := specOf(kind)
	if err != nil {
		return nil, err
	}
	if err := spec.need(); err != nil {
		return nil, fmt.Errorf("fcgitest: %v: %w", kind, err)
	}
	s := &Server{Kind: kind, Network: "unix", Dir: dir, DocRoot: dir,
		Script: filepath.Join(dir, spec.app), ScriptName: "/" + spec.app, Ext: strings.TrimPrefix(filepath.Ext(spec.app), ".")}
	if err := os.WriteFile(s.Script, []byte(spec.content), spec.mode); err != nil {
		return nil, fmt.Errorf("fcgitest: %v: %w", kind, err)
	}
	s.Addr = filepath.Join(dir, kind.String()+".sock")
	if len(s.Addr) >= 100 { // sun_path
		short, err := os.MkdirTemp("", "fcgitest")
		if err != nil {
			return nil, fmt.Errorf("fcgitest: %v: %w", kind, err)
		}
		s.Addr = filepath.Join(short, "s.sock")
	}
	os.Remove(s.Addr) // fcgiwrap and node refuse to bind over a stale socket file
	path, args, env := spec.command(s.Addr, s.Script)
	s.proc, err = startProcessEnv(dir, append(inheritedEnv(), env...), path, args...)
	if err != nil {
		return nil, fmt.Errorf("fcgitest: %v: %w", kind, err)
	}
	s.proc.stopSig = spec.stopSig
	ready := spec.ready
	if err := s.proc.waitReady("unix", s.Addr, func() bool { return ready(s.proc.out.String()) }); err != nil {
		s.proc.terminate()
		return nil, fmt.Errorf("fcgitest: %v %w\n--- output ---\n%s", kind, err, s.proc.out.String())
	}
	return s, nil
}
