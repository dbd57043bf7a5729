// Backend: the demo handler served on a listening socket.

package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"fcgiscope/fcgi"
)

// Default server settings of a Backend.
const (
	DefaultMaxConns  = 16
	DefaultMaxReqs   = 64
	DefaultMpxsConns = true
)

// Backend is the demo handler served on a socket.
type Backend struct {
	srv  *fcgi.Server
	l    net.Listener
	done chan struct{} // closed when Serve returned
	err  error         // what Serve returned, other than ErrServerClosed

	mu   sync.Mutex
	stop func() bool // detaches the context watch; nil until set

	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr and serves Handler() until Close or until ctx is
// done. addr is "host:port" (e.g. "127.0.0.1:0" for a free port), or a unix
// socket as "unix:/path" or "/path".
func Start(ctx context.Context, addr string) (*Backend, error) {
	network, address := "tcp", addr
	if rest, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", rest
	} else if strings.HasPrefix(addr, "/") {
		network = "unix"
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("demo: listening on %s: %w", addr, err)
	}
	b := &Backend{
		srv: &fcgi.Server{
			Handler:   Handler(),
			MaxConns:  DefaultMaxConns,
			MaxReqs:   DefaultMaxReqs,
			MpxsConns: DefaultMpxsConns,
		},
		l:    l,
		done: make(chan struct{}),
	}
	go func() {
		defer close(b.done)
		if err := b.srv.Serve(l); !errors.Is(err, fcgi.ErrServerClosed) {
			b.err = err
		}
	}()
	stop := context.AfterFunc(ctx, func() { b.close() })
	b.mu.Lock()
	b.stop = stop
	b.mu.Unlock()
	return b, nil
}

// Addr returns the address the backend listens on: "127.0.0.1:port" for
// TCP, the socket path for a unix socket.
func (b *Backend) Addr() string { return b.l.Addr().String() }

// Close stops the backend: it closes the listener and every connection,
// cancels running requests and waits for them to return.
func (b *Backend) Close() error {
	b.mu.Lock()
	stop := b.stop
	b.mu.Unlock()
	if stop != nil {
		stop()
	}
	return b.close()
}

func (b *Backend) close() error {
	b.closeOnce.Do(func() {
		err := b.srv.Close()
		<-b.done
		if b.err != nil {
			err = errors.Join(err, fmt.Errorf("demo: serving on %s: %w", b.Addr(), b.err))
		}
		b.closeErr = err
	})
	return b.closeErr
}
