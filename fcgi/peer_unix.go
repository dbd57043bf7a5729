//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Seeing that the application closed an idle connection before the reading
// goroutine does.

package fcgi

import (
	"net"
	"syscall"
)

// peerClosed reports whether the application closed nc (or reset it): a
// peek that does not wait finds the end of the stream. Unread bytes, or
// nothing to read yet, mean open. The connection's reading goroutine may be
// waiting on nc meanwhile: the peek takes nothing from it.
func peerClosed(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = err == nil && n == 0 || err == syscall.ECONNRESET || err == syscall.EPIPE
	})
	return closed
}
