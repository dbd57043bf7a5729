// FCGI_KEEP_CONN on forwarded requests: always, never, or once the backend
// is known to keep connections and the proxy's connections fit its workers.

package proxy

import (
	"context"
	"fmt"
	"time"
)

// KeepConn is the proxy's policy for FCGI_KEEP_CONN on the requests it
// forwards. A kept connection goes back to the pool's idle connections
// after the response and carries a later request, which saves php-fpm and
// the proxy a connection per request (about a third of the proxy's CPU per
// request; bench/README.md, Front end).
type KeepConn int

// KeepConn policies.
const (
	// KeepConnAuto keeps connections once the backend is known to honour
	// KEEP_CONN (session.KeepsConns: php-fpm, php-cgi) and the proxy's
	// connection limit fits its workers: a kept connection holds a php-fpm
	// worker, so with more connections than pm.max_children the ones
	// beyond wait in php-fpm's listen queue for as long as the kept ones
	// are reused, which under load is for ever. The limit fits when
	// Server.ConnLimitFits says so (--max-conns given on the command line,
	// where its help asks for pm.max_children), or when it is at most the
	// FCGI_MAX_CONNS the backend announced. ListenAndServe asks the backend
	// (Server.ProbeKeepConn); until it answers, connections are not kept.
	KeepConnAuto KeepConn = iota
	// KeepConnOn keeps connections whatever the backend: the pool's
	// connection limit must not exceed what it serves at once.
	KeepConnOn
	// KeepConnOff gives every request a connection of its own, closed by
	// the backend after the response, as nginx does by default.
	KeepConnOff
)

// String returns the policy's name as --keep-conn takes it.
func (k KeepConn) String() string {
	switch k {
	case KeepConnAuto:
		return "auto"
	case KeepConnOn:
		return "on"
	case KeepConnOff:
		return "off"
	}
	return fmt.Sprintf("KeepConn(%d)", int(k))
}

// ParseKeepConn reads a policy name: auto, on or off.
func ParseKeepConn(s string) (KeepConn, error) {
	for _, k := range []KeepConn{KeepConnAuto, KeepConnOn, KeepConnOff} {
		if s == k.String() {
			return k, nil
		}
	}
	return 0, fmt.Errorf("keep-conn %q: want auto, on or off", s)
}

// Probe timing of KeepConnAuto: each GET_VALUES waits probeTimeout for
// its answer (uwsgi never answers), and a backend that could not be asked
// (down, or silent) is asked again after probeRetry.
const (
	probeTimeout = 2 * time.Second
	probeRetry   = 10 * time.Second
)

// KeepingConns reports whether forwarded requests carry FCGI_KEEP_CONN
// now.
func (p *Server) KeepingConns() bool {
	switch p.KeepConn {
	case KeepConnOn:
		return true
	case KeepConnOff:
		return false
	}
	return p.keep.Load()
}

// ProbeKeepConn decides KeepConnAuto: it asks the backend GET_VALUES
// (session.Engine.ProbeKeepConn) and keeps connections from now on when the
// backend is known to keep them and the connection limit fits (see
// KeepConnAuto). It tells OnKeepConn the outcome and why, and returns
// whether the backend answered (false: ask again later). It does nothing
// under the other policies.
func (p *Server) ProbeKeepConn(ctx context.Context) bool {
	if p.KeepConn != KeepConnAuto || p.engine == nil {
		return true
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	keeps, what, maxConns, err := p.engine.ProbeKeepConn(pctx, p.target)
	cancel()
	if err != nil {
		p.tellKeepConn(false, fmt.Sprintf("the backend %s gave %s: connections not kept for now", p.target, what))
		return false
	}
	limit := p.engine.Pool().MaxConns(p.target)
	var on bool
	var why string
	switch {
	case !keeps:
		why = fmt.Sprintf("the backend %s %s, not known to keep connections: FCGI_KEEP_CONN off (--keep-conn on forces it)", p.target, what)
	case maxConns > 0 && limit > 0 && limit <= maxConns:
		on, why = true, fmt.Sprintf("the backend %s is %s, and the connection limit %d is within its FCGI_MAX_CONNS: FCGI_KEEP_CONN on", p.target, what, limit)
	case maxConns > 0:
		why = fmt.Sprintf("the backend %s is %s, but the connection limit (%d, 0 for none) is above its FCGI_MAX_CONNS: FCGI_KEEP_CONN off, "+
			"as connections beyond its workers would wait for ever behind kept ones; set --max-conns %d to keep them", p.target, what, limit, maxConns)
	case p.ConnLimitFits && limit > 0:
		on, why = true, fmt.Sprintf("the backend %s is %s and the connection limit %d was set for its workers: FCGI_KEEP_CONN on", p.target, what, limit)
	default:
		why = fmt.Sprintf("the backend %s is %s, which keeps connections, but its number of workers is not known: FCGI_KEEP_CONN off, "+
			"as connections beyond its workers would wait for ever behind kept ones; set --max-conns to its pm.max_children to keep them", p.target, what)
	}
	p.keep.Store(on)
	p.tellKeepConn(on, why)
	return true
}

func (p *Server) tellKeepConn(on bool, why string) {
	if p.OnKeepConn != nil {
		p.OnKeepConn(on, why)
	}
}

// probeUntilAnswered runs ProbeKeepConn until the backend answers or ctx
// ends, every probeRetry.
func (p *Server) probeUntilAnswered(ctx context.Context) {
	for !p.ProbeKeepConn(ctx) {
		t := time.NewTimer(probeRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
