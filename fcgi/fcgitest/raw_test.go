package fcgitest

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestRawServer: every connection is served on its own goroutine and
// counted; Close closes the open ones and waits for their functions.
func TestRawServer(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			var got SyncBuffer
			s := StartRaw(t, network, func(nc net.Conn) { io.Copy(&got, nc) })
			if strings.HasPrefix(s.Target(), "unix:") != (network == "unix") {
				t.Errorf("Target %q on %s", s.Target(), network)
			}
			a, b := s.Dial(t), s.Dial(t)
			io.WriteString(a, "a")
			io.WriteString(b, "b")
			a.Close()
			deadline := time.Now().Add(5 * time.Second)
			for s.Finished() < 1 || s.Accepted() < 2 {
				if time.Now().After(deadline) {
					t.Fatalf("accepted %d, finished %d", s.Accepted(), s.Finished())
				}
				time.Sleep(time.Millisecond)
			}
			if s.Open() != 1 {
				t.Errorf("%d connections open, want the one not closed", s.Open())
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if s.Open() != 0 || s.Finished() != 2 || !strings.Contains(got.String(), "a") {
				t.Errorf("after Close: open %d, finished %d, read %q", s.Open(), s.Finished(), got.String())
			}
			if _, err := net.DialTimeout(s.Network, s.Addr, time.Second); err == nil {
				t.Error("dialled a closed server")
			}
		})
	}
}

func TestListen(t *testing.T) {
	l, target := Listen(t, "unix")
	if target != "unix:"+l.Addr().String() {
		t.Errorf("target %q for %s", target, l.Addr())
	}
	if _, target := Listen(t, "tcp"); !strings.HasPrefix(target, "127.0.0.1:") {
		t.Errorf("tcp target %q", target)
	}
}
