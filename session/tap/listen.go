// Listening: the tap's socket, with php-fpm's listen.owner, listen.group and
// listen.mode, and the checks that say clearly why it cannot start.

package tap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"fcgiscope/fcgi"
)

// DefaultSocketMode is the mode of a unix listen socket when neither
// SocketOptions nor the upstream's socket give one: php-fpm's default
// listen.mode.
const DefaultSocketMode fs.FileMode = 0o660

// maxSocketPath is the longest unix socket path with room to spare
// (sun_path holds 108 bytes on Linux, 104 on the BSDs).
const maxSocketPath = 100

// SocketOptions set the owner, group and mode of a unix listen socket, like
// php-fpm's listen.owner, listen.group and listen.mode: the web server runs
// as another user and must be allowed to connect. Each one left empty (or
// 0) is taken from the upstream's socket when the upstream is a unix
// socket, so that whoever could connect to the application can connect to
// the tap; otherwise the owner and group are the process's and the mode
// DefaultSocketMode.
type SocketOptions struct {
	Owner, Group string      // user and group names, or numeric ids
	Mode         fs.FileMode // permission bits, e.g. 0660
}

// Listen path states, in a ListenPathError.
const (
	PathLive      = "live socket"  // a process accepts connections on it
	PathStale     = "stale socket" // nothing listens: left by a process that is gone
	PathNotSocket = "not a socket" // a file of another kind
)

// ListenPathError says that the unix socket path to listen on exists.
type ListenPathError struct {
	Path  string
	State string // PathLive, PathStale or PathNotSocket
}

func (e *ListenPathError) Error() string {
	switch e.State {
	case PathLive:
		return fmt.Sprintf("session: tap: %s is a live socket: a process accepts connections on it (another tap, or the application itself); stop it or listen elsewhere", e.Path)
	case PathStale:
		return fmt.Sprintf("session: tap: %s is a stale socket: nothing listens on it (left by a process that is gone); remove it (rm %s) and start again", e.Path, e.Path)
	}
	return fmt.Sprintf("session: tap: %s exists and is not a socket; listen elsewhere", e.Path)
}

// UpstreamError says that the upstream cannot be reached.
type UpstreamError struct {
	Upstream string
	// Missing: the unix socket does not exist (the application is not
	// running, or listens elsewhere).
	Missing bool
	// Refused: nothing accepts connections there.
	Refused bool
	Err     error
}

func (e *UpstreamError) Error() string {
	switch {
	case e.Missing:
		return fmt.Sprintf("session: tap: upstream %s does not exist: is the application (php-fpm) running, and is this the socket its pool listens on (listen =)?", e.Upstream)
	case e.Refused:
		return fmt.Sprintf("session: tap: upstream %s refuses connections: nothing listens there (is the application running?)", e.Upstream)
	}
	return fmt.Sprintf("session: tap: upstream %s: %v", e.Upstream, e.Err)
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// checkUpstream connects to the upstream once and closes the connection
// (php-fpm takes a bare connection for nothing).
func (t *Tap) checkUpstream(ctx context.Context) error {
	d := net.Dialer{Timeout: t.opts.DialTimeout}
	c, err := d.DialContext(ctx, t.upNet, t.upAddr)
	if err != nil {
		return &UpstreamError{Upstream: t.opts.Upstream, Err: err,
			Missing: errors.Is(err, fs.ErrNotExist), Refused: errors.Is(err, syscall.ECONNREFUSED)}
	}
	return c.Close()
}

// listen creates the listener of opts.Listen.
func (t *Tap) listen() error {
	network, addr, err := ListenAddr(t.opts.Listen)
	if err != nil {
		return fmt.Errorf("session: tap: listen: %w", err)
	}
	if network != "unix" {
		l, err := net.Listen(network, addr)
		if err != nil {
			return fmt.Errorf("session: tap: %w", err)
		}
		t.l, t.addr = l, l.Addr().String()
		return nil
	}
	path, err := filepath.Abs(addr)
	if err != nil {
		return fmt.Errorf("session: tap: listen: %w", err)
	}
	if err := checkListenPath(path); err != nil {
		return err
	}
	uid, gid, mode, err := t.socketPerm()
	if err != nil {
		return err
	}
	l, err := listenUnix(path, uid, gid, mode)
	if err != nil {
		return err
	}
	t.l, t.addr, t.socket = l, "unix:"+path, path
	return nil
}

// ListenAddr parses a listen address: the forms of fcgi.ParseAddr, and
// port 0 (any free port) too.
func ListenAddr(s string) (network, address string, err error) {
	network, address, err = fcgi.ParseAddr(s)
	if err == nil {
		return network, address, nil
	}
	rest, scheme := strings.TrimSpace(s), ""
	if sc, r, ok := strings.Cut(rest, "://"); ok {
		scheme, rest = sc+"://", r
	}
	host, port, splitErr := net.SplitHostPort(rest)
	if splitErr != nil || port != "0" {
		return "", "", err
	}
	// Checked as any other port would be.
	network, _, anyErr := fcgi.ParseAddr(scheme + net.JoinHostPort(host, "1"))
	if anyErr != nil {
		return "", "", err
	}
	return network, net.JoinHostPort(host, "0"), nil
}

// checkListenPath fails when path exists, saying what it is.
func checkListenPath(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("session: tap: listen: %w", err)
	case fi.Mode().Type() != fs.ModeSocket:
		return &ListenPathError{Path: path, State: PathNotSocket}
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return &ListenPathError{Path: path, State: PathLive}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return &ListenPathError{Path: path, State: PathStale}
	}
	// Full backlog, no permission to connect: someone is there.
	return &ListenPathError{Path: path, State: PathLive}
}

// socketPerm resolves the owner, group and mode of the unix socket (see
// SocketOptions); -1 leaves an id as the process's.
func (t *Tap) socketPerm() (uid, gid int, mode fs.FileMode, err error) {
	uid, gid, mode = -1, -1, DefaultSocketMode
	if t.upNet == "unix" {
		if fi, statErr := os.Stat(t.upAddr); statErr == nil {
			mode = fi.Mode().Perm()
			if u, g, ok := fileOwner(fi); ok {
				uid, gid = u, g
			}
		}
	}
	so := t.opts.Socket
	if so.Mode != 0 {
		mode = so.Mode.Perm()
	}
	if so.Owner != "" {
		if uid, err = lookupID(so.Owner, false); err != nil {
			return 0, 0, 0, err
		}
	}
	if so.Group != "" {
		if gid, err = lookupID(so.Group, true); err != nil {
			return 0, 0, 0, err
		}
	}
	return uid, gid, mode, nil
}

// lookupID returns the id of a user or group given by name or number.
func lookupID(name string, group bool) (int, error) {
	if id, err := strconv.Atoi(name); err == nil && id >= 0 {
		return id, nil
	}
	if group {
		g, err := user.LookupGroup(name)
		if err != nil {
			return 0, fmt.Errorf("session: tap: listen group %q: %w", name, err)
		}
		return strconv.Atoi(g.Gid)
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, fmt.Errorf("session: tap: listen owner %q: %w", name, err)
	}
	return strconv.Atoi(u.Uid)
}

// listenUnix listens on a unix socket at path that has the owner, group
// and mode asked for before anyone can connect: it is bound in a private
// directory next to path, given them there, then linked into place (which
// fails if path appeared meanwhile).
//
// When no such directory can be made there, or its name would be too long
// for a socket address, the socket is bound at path directly and given
// them right after.
func listenUnix(path string, uid, gid int, mode fs.FileMode) (net.Listener, error) {
	tmp := path
	if dir, err := os.MkdirTemp(filepath.Dir(path), ".fcgiscope-tap-"); err == nil {
		defer os.RemoveAll(dir)
		if p := filepath.Join(dir, "s"); len(p) < maxSocketPath {
			tmp = p
		}
	}
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("session: tap: listen on %s: %w", path, err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	fail := func(err error) (net.Listener, error) {
		l.Close()
		return nil, fmt.Errorf("session: tap: listen on %s: %w", path, err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return fail(err)
	}
	if uid >= 0 || gid >= 0 {
		if err := os.Chown(tmp, uid, gid); err != nil {
			return fail(err)
		}
	}
	if tmp == path {
		l.(*net.UnixListener).SetUnlinkOnClose(true)
		return l, nil
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			l.Close()
			return nil, checkListenPath(path)
		}
		return fail(err)
	}
	return l, nil
}
