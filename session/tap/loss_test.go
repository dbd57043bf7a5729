package tap_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session/tap"
)

// TestTapBehind: when decoding is behind (a queue limit of one byte: every
// data record's content is shed), forwarding goes on whole, the exchange
// keeps every record's header and the sizes, and the loss is counted.
func TestTapBehind(t *testing.T) {
	backend := fcgitest.StartDemo(t)
	const n = 300000
	notices := make(chan tap.Notice, 8)
	addr, tp, col, before, after := tapAround(t, backend, tap.Options{QueueLimit: 1, OnNotice: func(n tap.Notice) { notices <- n }})
	c := fcgi.NewClient(addr, fcgi.ClientOptions{})
	defer c.Close()
	resp, out, err := get(t, c, "/large?bytes=300000", false)
	if err != nil || len(out) < n || !resp.Ended {
		t.Fatalf("the client got %d bytes (%v): forwarding must not suffer", len(out), err)
	}
	x := col.wait(t, 1)[0]
	sameBytes(t, before, after)
	sz := x.Sizes()
	if sz.Stdout != int64(len(out)) || sz.Received != int64(len(rawOfStream(t, after))) {
		t.Errorf("sizes %+v: want stdout %d", sz, len(out))
	}
	skipped := 0
	for _, r := range x.Records() {
		if r.Skipped {
			skipped++
			if !r.Truncated || r.Type != fcgi.TypeStdout || !strings.Contains(r.Note(), "fell behind") {
				t.Errorf("record %+v: note %q", r, r.Note())
			}
		}
	}
	if skipped == 0 || x.End() == nil || !x.Truncated() {
		t.Errorf("%d records skipped, end %v", skipped, x.End())
	}
	if !strings.Contains(strings.Join(x.Warnings(), "\n"), "fell behind") {
		t.Errorf("warnings %q", x.Warnings())
	}
	if st := tp.Stats(); st.Behind < n || st.Queued != 0 {
		t.Errorf("stats %+v: want at least %d bytes counted behind", st, n)
	}
	if v, _ := x.Params().Get("SCRIPT_NAME"); v != "/large" {
		t.Errorf("params are always kept: SCRIPT_NAME %q", v)
	}
	select {
	case nt := <-notices:
		if nt.Kind != tap.NoticeBehind {
			t.Errorf("notice %v", nt)
		}
	default:
		t.Error("no notice that decoding fell behind")
	}
}

// rawOfStream returns what the application sent on the relay's only
// connection.
func rawOfStream(t *testing.T, r *relay) []byte {
	t.Helper()
	_, down := r.streams(t)
	if len(down) != 1 {
		t.Fatalf("%d connections", len(down))
	}
	return down[0]
}

// TestTapMemoryLimit: past the memory limit of the open exchanges, data
// content goes uncaptured; the traffic is whole.
func TestTapMemoryLimit(t *testing.T) {
	backend := fcgitest.StartDemo(t)
	addr, tp, col, before, after := tapAround(t, backend, tap.Options{MemoryLimit: 100 << 10})
	c := fcgi.NewClient(addr, fcgi.ClientOptions{})
	defer c.Close()
	_, out, err := get(t, c, "/large?bytes=1000000", false)
	if err != nil || len(out) < 1000000 {
		t.Fatalf("got %d bytes (%v)", len(out), err)
	}
	x := col.wait(t, 1)[0]
	sameBytes(t, before, after)
	if sz := x.Sizes(); sz.Captured > 100<<10+64<<10 || sz.Stdout != int64(len(out)) {
		t.Errorf("sizes %+v", sz)
	}
	if st := tp.Stats(); st.OverMemory == 0 || st.Held != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestListenErrors: a listen path that exists, and an upstream that cannot
// be reached, are errors that say which.
func TestListenErrors(t *testing.T) {
	backend := fcgitest.StartDemo(t)
	dir := shortTemp(t)

	live := filepath.Join(dir, "live.sock")
	l, err := net.Listen("unix", live)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	stale := filepath.Join(dir, "stale.sock")
	sl, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	sl.(*net.UnixListener).SetUnlinkOnClose(false)
	sl.Close()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for path, state := range map[string]string{live: tap.PathLive, stale: tap.PathStale, file: tap.PathNotSocket} {
		_, err := tap.Listen(context.Background(), tap.Options{Listen: "unix:" + path, Upstream: backend})
		var pe *tap.ListenPathError
		if !errors.As(err, &pe) || pe.State != state || !strings.Contains(err.Error(), state) {
			t.Errorf("%s: %v, want %s", path, err, state)
		}
	}
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("the stale socket was removed: %v", err)
	}

	missing := "unix:" + filepath.Join(dir, "php-fpm.sock")
	_, err = tap.Listen(context.Background(), tap.Options{Listen: "unix:" + filepath.Join(dir, "t.sock"), Upstream: missing})
	var ue *tap.UpstreamError
	if !errors.As(err, &ue) || !ue.Missing || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing upstream: %v", err)
	}
	refused := fcgitest.RefusedAddr(t, "tcp")
	_, err = tap.Listen(context.Background(), tap.Options{Listen: "unix:" + filepath.Join(dir, "t.sock"), Upstream: refused})
	if !errors.As(err, &ue) || !ue.Refused || !strings.Contains(err.Error(), "refuses connections") {
		t.Errorf("refusing upstream: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "t.sock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed Listen left its socket: %v", err)
	}
}

// TestSocketPermissions: the listen socket takes the upstream socket's
// owner, group and mode, unless told otherwise, as php-fpm's listen.owner,
// listen.group and listen.mode.
func TestSocketPermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("changing a socket's owner needs root")
	}
	h := fcgitest.StartHostile(t, "unix", fcgitest.Respond("ok"))
	if err := os.Chmod(h.Addr, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(h.Addr, 0, 65534); err != nil {
		t.Fatal(err)
	}
	perm := func(opts tap.Options) (mode os.FileMode, uid, gid uint32) {
		t.Helper()
		opts.Upstream = "unix:" + h.Addr
		tp, _ := startTap(t, opts)
		fi, err := os.Stat(strings.TrimPrefix(tp.Addr(), "unix:"))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		return fi.Mode().Perm(), st.Uid, st.Gid
	}
	if m, u, g := perm(tap.Options{}); m != 0o640 || u != 0 || g != 65534 {
		t.Errorf("like the upstream: mode %o owner %d group %d, want 640 0 65534", m, u, g)
	}
	if m, u, g := perm(tap.Options{Socket: tap.SocketOptions{Owner: "65534", Group: "0", Mode: 0o666}}); m != 0o666 || u != 65534 || g != 0 {
		t.Errorf("as asked: mode %o owner %d group %d, want 666 65534 0", m, u, g)
	}
	_, err := tap.Listen(context.Background(), tap.Options{Listen: "unix:" + shortTemp(t) + "/x.sock", Upstream: "unix:" + h.Addr,
		Socket: tap.SocketOptions{Owner: "no-such-user-here"}})
	if err == nil || !strings.Contains(err.Error(), "no-such-user-here") {
		t.Errorf("unknown owner: %v", err)
	}
}
