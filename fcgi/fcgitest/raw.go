// RawServer: a listener whose connections a test serves by hand, and the
// concurrency-safe buffer tests collect output in.

package fcgitest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// RawServer is a peer a test writes by hand, byte by byte or record by
// record: a listener on loopback TCP or on a unix socket, whose every
// connection is handed to a function on a goroutine of its own and closed
// when the function returns. Close, also run at the end of the test, stops
// accepting, closes every open connection and waits until every function
// has returned, so none outlives the test.
type RawServer struct {
	// Network is "tcp" or "unix"; Addr is host:port or the socket path.
	Network, Addr string

	l     net.Listener
	serve func(nc net.Conn, index int)
	wg    sync.WaitGroup

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	accepted int
	finished int
	closed   bool
}

// StartRaw listens on network ("tcp": 127.0.0.1 with a free port; "unix": a
// socket in a short temporary directory) and hands every connection to
// serve until the test ends.
func StartRaw(tb testing.TB, network string, serve func(nc net.Conn)) *RawServer {
	tb.Helper()
	l, err := listen(network)
	if err != nil {
		tb.Fatalf("fcgitest: raw server: %v", err)
	}
	s := serveRaw(l, func(nc net.Conn, _ int) { serve(nc) })
	tb.Cleanup(func() { s.Close() })
	return s
}

// Listen listens on network ("tcp": 127.0.0.1 with a free port; "unix": a
// socket in a short temporary directory) until the end of the test, and
// returns the listener and its address in the form package fcgi's
// ParseAddr takes.
func Listen(tb testing.TB, network string) (l net.Listener, target string) {
	tb.Helper()
	l, err := listen(network)
	if err != nil {
		tb.Fatalf("fcgitest: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	target = l.Addr().String()
	if network == "unix" {
		target = "unix:" + target
	}
	return l, target
}

// listen listens on 127.0.0.1 with a free port, or on a socket in a short
// temporary directory that goes when the listener is closed.
func listen(network string) (net.Listener, error) {
	switch network {
	case "tcp":
		return net.Listen("tcp", "127.0.0.1:0")
	case "unix":
		dir, err := os.MkdirTemp("", "fcgitest") // short: a socket path is limited to about 100 bytes
		if err != nil {
			return nil, err
		}
		l, err := net.Listen("unix", filepath.Join(dir, "s.sock"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		return &dirListener{Listener: l, dir: dir}, nil
	}
	return nil, fmt.Errorf("network %q is neither tcp nor unix", network)
}

// dirListener removes the socket's temporary directory when closed.
type dirListener struct {
	net.Listener
	dir string
}

func (l *dirListener) Close() error {
	err := l.Listener.Close()
	os.RemoveAll(l.dir)
	return err
}

// serveRaw starts accepting on l; serve is given each connection with its
// index in accept order, from 0.
func serveRaw(l net.Listener, serve func(nc net.Conn, index int)) *RawServer {
	s := &RawServer{Network: l.Addr().Network(), Addr: l.Addr().String(), l: l, serve: serve,
		conns: map[net.Conn]struct{}{}}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

func (s *RawServer) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.l.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			return
		}
		index := s.accepted
		s.accepted++
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				nc.Close()
				s.mu.Lock()
				delete(s.conns, nc)
				s.finished++
				s.mu.Unlock()
			}()
			s.serve(nc, index)
		}()
	}
}

// Target returns the address in the form package fcgi's ParseAddr takes:
// host:port or unix:/path.
func (s *RawServer) Target() string {
	if s.Network == "unix" {
		return "unix:" + s.Addr
	}
	return s.Addr
}

// Dial connects to the server with a plain connection, closed at the end
// of the test.
func (s *RawServer) Dial(tb testing.TB) net.Conn {
	tb.Helper()
	nc, err := net.Dial(s.Network, s.Addr)
	if err != nil {
		tb.Fatalf("fcgitest: %v", err)
	}
	tb.Cleanup(func() { nc.Close() })
	return nc
}

// Accepted returns how many connections the server accepted.
func (s *RawServer) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Finished returns how many connections were served to the end: their
// function returned and they were closed.
func (s *RawServer) Finished() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

// Open returns how many accepted connections are still served.
func (s *RawServer) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// CloseListener stops accepting: new connections are refused (tcp) or find
// no socket (unix); connections already accepted go on.
func (s *RawServer) CloseListener() error {
	return s.l.Close()
}

// Close stops accepting, closes every open connection, and waits until
// every function serving one has returned. It is safe to call more than
// once.
func (s *RawServer) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	conns := make([]net.Conn, 0, len(s.conns))
	for nc := range s.conns {
		conns = append(conns, nc)
	}
	s.mu.Unlock()
	err := s.l.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	for _, nc := range conns {
		nc.Close()
	}
	s.wg.Wait()
	return err
}

// SyncBuffer is a bytes.Buffer safe for concurrent use: what a child
// process, a logger or a writer on another goroutine writes, read by the
// test.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
