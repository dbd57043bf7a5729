// Package fcgitest starts real FastCGI peers for tests: Debian's php-fpm, nginx in front of it,
// and the cgi-fcgi bridge from libfcgi.
//
// Every helper takes a testing.TB, writes its configuration under t.TempDir(), waits until the
// process accepts connections and stops it in t.Cleanup, so no process outlives the test.
//
// When a binary is missing the helper calls t.Skip, unless the environment variable named by
// RequireEnv is "1" (scripts/test sets it), in which case it calls t.Fatal: on a machine
// prepared with `scripts/deps test` a skipped integration test is a failure.
//
// It also holds the test helpers the repository shares: RawServer (a peer written by hand),
// Hostile (a FastCGI backend that breaks the protocol on purpose, built on fcgi's Writer with
// AllowIllegalWrites), StartDemo (the demo backend for one test) and SyncBuffer.
package fcgitest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RequireEnv names the environment variable that turns a missing php-fpm, nginx or cgi-fcgi
// from a skip into a failure when set to "1".
const RequireEnv = "FCGISCOPE_REQUIRE_PHPFPM"

// Timeouts shared by the helpers.
const (
	readyTimeout = 10 * time.Second // from start until the listener accepts
	stopGrace    = 3 * time.Second  // from SIGQUIT until SIGKILL
	startTries   = 5                // attempts when a free port was taken by someone else
)

// missing skips or fails the test because the named program is not installed.
func missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(RequireEnv) == "1" {
		t.Fatalf("fcgitest: %s not found and %s=1; install it with scripts/deps test", what, RequireEnv)
	}
	t.Skipf("fcgitest: %s not found; install it with scripts/deps test (set %s=1 to fail instead)", what, RequireEnv)
}

// lookBinary returns the first of names found in PATH or in the extra directories
// (/usr/sbin is often missing from a non-root PATH), or "".
func lookBinary(names []string, dirs ...string) string {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, dir := range dirs {
		for _, name := range names {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	return ""
}

// CGIFCGI returns the path of libfcgi's cgi-fcgi bridge (Debian package libfcgi-bin).
// Run it as `cgi-fcgi -bind -connect ADDR` with the CGI variables in its environment; ADDR is
// host:port or a unix socket path. It writes the FastCGI stdout stream to its stdout and the
// stderr stream to its stderr.
func CGIFCGI(t testing.TB) string {
	t.Helper()
	p := lookBinary([]string{"cgi-fcgi"}, "/usr/bin", "/usr/local/bin")
	if p == "" {
		missing(t, "cgi-fcgi (package libfcgi-bin)")
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process may take
// it before the caller binds it; the helpers of this package retry with a new port when that
// happens.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("fcgitest: %v", err)
	}
	return port
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// isRoot reports whether the test runs as root, where php-fpm and nginx need explicit users.
func isRoot() bool { return os.Geteuid() == 0 }

// quote renders s as a double-quoted configuration value; both php-fpm's ini parser and nginx
// accept this form.
func quote(s string) string { return strconv.Quote(s) }

// process is a started child with its own process group, so that stopping it also reaches the
// workers it forked.
type process struct {
	cmd     *exec.Cmd
	out     SyncBuffer    // the child's stdout and stderr, copied in by exec's goroutines
	done    chan struct{} // closed once cmd.Wait returned
	waitErr error         // valid after done is closed
	grace   time.Duration // from SIGQUIT until SIGKILL
	stopSig os.Signal     // the graceful stop, sent to the whole group; nil: SIGQUIT to the master (php-fpm, nginx)
	guard   func()        // stops the guard of the process group; see startGuard
	stop    sync.Once
}

// startProcess starts path with args in dir. The child inherits the environment minus
// NOTIFY_SOCKET (php-fpm would otherwise report to a systemd that is not its own).
func startProcess(dir, path string, args ...string) (*process, error) {
	return startProcessEnv(dir, inheritedEnv(), path, args...)
}

// inheritedEnv is the environment a child inherits: the test's minus NOTIFY_SOCKET.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NOTIFY_SOCKET=") {
			env = append(env, kv)
		}
	}
	return env
}

// startProcessEnv is startProcess with exactly the environment env.
func startProcessEnv(dir string, env []string, path string, args ...string) (*process, error) {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	cmd.Env = env
	p := &process{cmd: cmd, done: make(chan struct{}), grace: stopGrace}
	cmd.Stdout = &p.out
	cmd.Stderr = &p.out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p.guard = startGuard(cmd.Process.Pid)
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// errExited reports that the child died before it was ready.
var errExited = errors.New("process exited")

// waitReady waits until the child has logged that it is ready (ready returns true) and
// network/addr accepts a connection, or the child exits, or readyTimeout passes. The log check
// keeps a port taken by another process from passing for ours.
func (p *process) waitReady(network, addr string, ready func() bool) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%w before accepting on %s %s: %v", errExited, network, addr, p.waitErr)
		default:
		}
		dialErr := errors.New("not ready according to its log")
		if ready() {
			var c net.Conn
			if c, dialErr = net.DialTimeout(network, addr, 200*time.Millisecond); dialErr == nil {
				c.Close()
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no listener on %s %s after %v: %w", network, addr, readyTimeout, dialErr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// terminate asks the child to quit gracefully (p.stopSig, by default SIGQUIT: php-fpm and nginx
// both finish their requests and stop their workers), kills the whole process group after p.grace, and waits.
// Safe to call more than once.
func (p *process) terminate() {
	p.stop.Do(func() {
		pid := p.cmd.Process.Pid
		select {
		case <-p.done:
		default:
			if p.stopSig != nil {
				signalGroup(pid, p.cmd.Process, p.stopSig)
			} else {
				quit(p.cmd.Process)
			}
			select {
			case <-p.done:
			case <-time.After(p.grace):
				killGroup(pid, p.cmd.Process)
				<-p.done
			}
		}
		// Workers normally exit with their master; the guard kills any straggler left in the
		// group, and killGroup covers a guard that could not start.
		p.guard()
		killGroup(pid, nil)
	})
}

// readFile returns the file's contents, or a note saying why it could not be read.
func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	return string(b)
}

// tempDir returns t.TempDir() as an absolute path.
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatalf("fcgitest: %v", err)
	}
	return dir
}

// RunCmd runs cmd, which must not have been started and whose Stdout and Stderr are not set,
// and returns what it wrote on each and its exit code; a command that cannot start, or still
// runs after limit (it is then killed), fails the test.
func RunCmd(t testing.TB, cmd *exec.Cmd, limit time.Duration) (stdout, stderr []byte, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatalf("fcgitest: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("fcgitest: %s: %v", cmd.Path, err)
		}
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("fcgitest: %s still running after %v\nstdout: %s\nstderr: %s", cmd.Path, limit, out.Bytes(), errOut.Bytes())
	}
	return out.Bytes(), errOut.Bytes(), cmd.ProcessState.ExitCode()
}
