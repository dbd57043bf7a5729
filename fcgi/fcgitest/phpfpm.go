package fcgitest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ListenKind selects the socket php-fpm listens on.
type ListenKind int

const (
	// ListenTCP listens on 127.0.0.1 with a free port.
	ListenTCP ListenKind = iota
	// ListenUnix listens on a unix socket in the server's directory.
	ListenUnix
)

// PHPFPMOptions configures PHPFPM. The zero value is a TCP listener with two static workers.
type PHPFPMOptions struct {
	Listen ListenKind
	// PM is the process manager: "static" (default), "dynamic" or "ondemand".
	PM string
	// MaxChildren is pm.max_children; default 2.
	MaxChildren int
	// MaxRequests is pm.max_requests, after which a worker is recycled; 0 leaves it unset
	// (never recycled).
	MaxRequests int
	// PingPath is ping.path (answered "pong"); default "/ping". php-fpm matches it against
	// SCRIPT_NAME.
	PingPath string
	// StatusPath is pm.status_path; default "/status". php-fpm matches it against SCRIPT_NAME
	// and, unlike the ping, also wants a non-empty SCRIPT_FILENAME.
	StatusPath string
	// ExtraPool is appended verbatim to the pool section, one directive per line; a directive
	// repeated here overrides the one written before it.
	ExtraPool string
	// Scripts are extra files for the document root, by slash-separated relative name. They are
	// written after the default scripts (see PHPFPM) and may replace them.
	Scripts map[string]string
}

// PHPFPMServer is a running php-fpm started by PHPFPM.
type PHPFPMServer struct {
	// Network is "tcp" or "unix", ready for net.Dial.
	Network string
	// Addr is host:port for tcp or the socket path for unix.
	Addr string
	// DocRoot is the absolute document root holding the scripts.
	DocRoot string
	// Dir holds the configuration, the pid file and the log.
	Dir string

	proc    *process
	logPath string
}

// PHPFPM starts Debian's php-fpm in the foreground with a configuration of its own under
// t.TempDir() (never the system pools in /etc/php), waits until it accepts connections and stops
// it in t.Cleanup.
//
// php-fpm runs with -n (no php.ini, PHP defaults) and one pool named "fcgitest" that sets no
// error_log, so a script's error_log() text travels back on the FastCGI stderr stream. The pool
// keeps clear_env's default (yes). As root the workers run as root (php-fpm -R, user = root):
// t.TempDir() is 0700 and os.CreateTemp files are 0600, which unprivileged workers cannot read.
//
// The document root always holds these scripts:
//
//	hello.php     prints "hello"
//	index.php     prints "index"
//	echo.php      JSON of $_SERVER, base64 of php://input, $_GET, $_POST, $_COOKIE; see Echo
//	stderr.php    error_log("to stderr from php"), prints "ok"
//	status.php    status ?code= (default 418), two Set-Cookie headers (a=1, b=2), body "status CODE\n"
//	big.php       ?n= bytes (default 200000) of BigBody
//	post.php      "LEN MD5" of php://input; see PostDigest
//	sleep.php     sleeps ?ms= milliseconds (default 100), prints "slept MS"
//	redirect.php  Location: /hello.php (PHP adds Status: 302)
func PHPFPM(t testing.TB, opts PHPFPMOptions) *PHPFPMServer {
	t.Helper()
	bin := lookBinary([]string{"php-fpm8.2", "php-fpm"}, "/usr/sbin", "/usr/local/sbin")
	if bin == "" {
		missing(t, "php-fpm (package php-fpm)")
	}
	s := &PHPFPMServer{Dir: tempDir(t)}
	s.DocRoot = filepath.Join(s.Dir, "www")
	s.logPath = filepath.Join(s.Dir, "fpm.log")
	if err := writeScripts(s.DocRoot, opts.Scripts); err != nil {
		t.Fatalf("fcgitest: php-fpm docroot: %v", err)
	}
	if opts.Listen == ListenUnix {
		s.Network, s.Addr = "unix", socketPath(t, s.Dir, "fpm.sock")
	} else {
		s.Network = "tcp"
	}

	args := []string{"-F", "-n", "-p", s.Dir, "-y", filepath.Join(s.Dir, "php-fpm.conf")}
	if isRoot() {
		args = append(args, "-R")
	}
	var startErr error
	for range startTries {
		if s.Network == "tcp" {
			port, err := freePort()
			if err != nil {
				t.Fatalf("fcgitest: php-fpm: %v", err)
			}
			s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		}
		if err := os.WriteFile(filepath.Join(s.Dir, "php-fpm.conf"), []byte(s.config(opts)), 0o644); err != nil {
			t.Fatalf("fcgitest: php-fpm: %v", err)
		}
		os.Remove(s.logPath)
		s.proc, startErr = startProcess(s.Dir, bin, args...)
		if startErr != nil {
			t.Fatalf("fcgitest: php-fpm: %v", startErr)
		}
		t.Cleanup(s.proc.terminate)
		startErr = s.proc.waitReady(s.Network, s.Addr, func() bool {
			return strings.Contains(readFile(s.logPath), "ready to handle connections")
		})
		if startErr == nil {
			return s
		}
		s.proc.terminate()
		if s.Network != "tcp" || !errors.Is(startErr, errExited) || !strings.Contains(s.Log(), "Address already in use") {
			break
		}
	}
	t.Fatalf("fcgitest: php-fpm %v\n--- log ---\n%s", startErr, s.Log())
	return nil
}

// config renders the php-fpm configuration for s.Addr.
func (s *PHPFPMServer) config(opts PHPFPMOptions) string {
	pm := opts.PM
	if pm == "" {
		pm = "static"
	}
	children := opts.MaxChildren
	if children <= 0 {
		children = 2
	}
	ping := opts.PingPath
	if ping == "" {
		ping = "/ping"
	}
	status := opts.StatusPath
	if status == "" {
		status = "/status"
	}

	var b strings.Builder
	fmt.Fprintf(&b, "; written by fcgitest\n[global]\n")
	fmt.Fprintf(&b, "pid = %s\n", quote(filepath.Join(s.Dir, "fpm.pid")))
	fmt.Fprintf(&b, "error_log = %s\n", quote(s.logPath))
	fmt.Fprintf(&b, "daemonize = no\n")
	fmt.Fprintf(&b, "\n[fcgitest]\n")
	fmt.Fprintf(&b, "listen = %s\n", quote(s.Addr))
	if isRoot() {
		// Needs -R. See PHPFPM for why not nobody.
		fmt.Fprintf(&b, "user = root\ngroup = root\n")
	}
	fmt.Fprintf(&b, "pm = %s\n", pm)
	fmt.Fprintf(&b, "pm.max_children = %d\n", children)
	if pm == "dynamic" {
		fmt.Fprintf(&b, "pm.start_servers = 1\npm.min_spare_servers = 1\npm.max_spare_servers = %d\n", children)
	}
	if opts.MaxRequests > 0 {
		fmt.Fprintf(&b, "pm.max_requests = %d\n", opts.MaxRequests)
	}
	fmt.Fprintf(&b, "ping.path = %s\n", ping)
	fmt.Fprintf(&b, "pm.status_path = %s\n", status)
	if opts.ExtraPool != "" {
		b.WriteString(opts.ExtraPool)
		b.WriteString("\n")
	}
	return b.String()
}

// Pass returns the address in the form nginx's fastcgi_pass wants: host:port or unix:path.
func (s *PHPFPMServer) Pass() string {
	if s.Network == "unix" {
		return "unix:" + s.Addr
	}
	return s.Addr
}

// Script returns the absolute path of a docroot file, as SCRIPT_FILENAME wants it.
func (s *PHPFPMServer) Script(name string) string {
	return filepath.Join(s.DocRoot, filepath.FromSlash(name))
}

// PID returns the process id of the php-fpm master.
func (s *PHPFPMServer) PID() int { return s.proc.cmd.Process.Pid }

// Log returns php-fpm's log file followed by anything it wrote to stdout or stderr.
func (s *PHPFPMServer) Log() string {
	log := readFile(s.logPath)
	if out := s.proc.out.String(); out != "" {
		log += "\n--- stdout/stderr ---\n" + out
	}
	return log
}

// Stop stops php-fpm the way a service manager does (SIGQUIT: the workers finish their requests
// and close every connection, the master exits) and waits until it is gone. Start brings it back
// on the same address. Together they are a restart, as seen by a client holding idle
// connections.
func (s *PHPFPMServer) Stop() {
	s.proc.terminate()
}

// Start starts php-fpm again after Stop, with the same configuration and address, and waits
// until it accepts connections; t.Cleanup stops it. The log of the previous run is kept as
// fpm.log.prev in Dir.
func (s *PHPFPMServer) Start(t testing.TB) {
	t.Helper()
	select {
	case <-s.proc.done:
	default:
		t.Fatalf("fcgitest: php-fpm (pid %d) is still running; Stop it first", s.PID())
	}
	bin := lookBinary([]string{"php-fpm8.2", "php-fpm"}, "/usr/sbin", "/usr/local/sbin")
	args := []string{"-F", "-n", "-p", s.Dir, "-y", filepath.Join(s.Dir, "php-fpm.conf")}
	if isRoot() {
		args = append(args, "-R")
	}
	os.Rename(s.logPath, s.logPath+".prev")
	proc, err := startProcess(s.Dir, bin, args...)
	if err != nil {
		t.Fatalf("fcgitest: php-fpm restart: %v", err)
	}
	s.proc = proc
	t.Cleanup(proc.terminate)
	if err := proc.waitReady(s.Network, s.Addr, func() bool {
		return strings.Contains(readFile(s.logPath), "ready to handle connections")
	}); err != nil {
		t.Fatalf("fcgitest: php-fpm restart: %v\n--- log ---\n%s", err, s.Log())
	}
}

// socketPath returns dir/name, or the name in a fresh short directory when dir/name would not
// fit in sun_path (108 bytes on Linux; long test names make long temporary directories).
func socketPath(t testing.TB, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if len(p) < 100 {
		return p
	}
	short, err := os.MkdirTemp("", "fcgitest")
	if err != nil {
		t.Fatalf("fcgitest: socket dir: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(short) })
	return filepath.Join(short, name)
}
