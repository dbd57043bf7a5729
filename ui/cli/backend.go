// The backend subcommand: the demo FastCGI backend, standalone.

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
)

// DefaultBackendListen is where the backend subcommand listens by default.
const DefaultBackendListen = "127.0.0.1:9000"

func setupBackend(fs *flag.FlagSet) func(context.Context, *env) error {
	listen := fs.String("listen", DefaultBackendListen, "address to listen on: host:port, unix:/path or /path")
	return func(ctx context.Context, e *env) error {
		return runBackend(ctx, e, *listen)
	}
}

// runBackend serves the demo handler on listen until ctx is done. It builds
// the fcgi.Server itself (with demo's settings) rather than calling
// demo.Start, so that records are traced and server errors logged.
func runBackend(ctx context.Context, e *env, listen string) error {
	l, err := listenOn(ctx, listen)
	if err != nil {
		return err
	}
	srv := &fcgi.Server{
		Handler:   demo.Handler(),
		MaxConns:  demo.DefaultMaxConns,
		MaxReqs:   demo.DefaultMaxReqs,
		MpxsConns: demo.DefaultMpxsConns,
		Trace:     TraceLogger(e.log),
		ErrorLog:  func(err error) { e.log.WithError(err).Warn("backend") },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()

	addr := listenAddr(l)
	e.log.WithField("addr", addr).Info("listening: demo FastCGI backend (try: fcgiscope send --addr " + addr + " --url /echo)")
	if e.Listening != nil {
		e.Listening(addr)
	}

	select {
	case err := <-done:
		return fmt.Errorf("cli: backend on %s: %w", addr, err)
	case <-ctx.Done():
	}
	e.log.Info("shutting down")
	closeErr := srv.Close()
	if err := <-done; !errors.Is(err, fcgi.ErrServerClosed) {
		return fmt.Errorf("cli: backend on %s: %w", addr, errors.Join(err, closeErr))
	}
	return nil
}

// listenOn listens on a --listen address: host:port (port 0 picks a free
// one), unix:/path or /path. A malformed address is a usage error.
func listenOn(ctx context.Context, listen string) (net.Listener, error) {
	network, address := "tcp", strings.TrimSpace(listen)
	if p, ok := strings.CutPrefix(address, "unix:"); ok {
		network, address = "unix", p
	} else if strings.HasPrefix(address, "/") {
		network = "unix"
	} else if _, _, err := net.SplitHostPort(address); err != nil {
		return nil, usagef("--listen %q: want host:port, unix:/path or /path", listen)
	}
	if address == "" {
		return nil, usagef("--listen %q: empty address", listen)
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, network, address)
	if err != nil {
		return nil, fmt.Errorf("cli: listening on %s: %w", listen, err)
	}
	return l, nil
}

// listenAddr returns the address l listens on in the form --addr takes:
// host:port, or unix:/path.
func listenAddr(l net.Listener) string {
	if l.Addr().Network() == "unix" {
		return "unix:" + l.Addr().String()
	}
	return l.Addr().String()
}
