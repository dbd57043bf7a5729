// The proxy subcommand: an HTTP server forwarding to a FastCGI backend,
// recording every exchange.

package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/proxy"
)

// DefaultProxyTimeout bounds each forwarded request unless --timeout says
// otherwise.
const DefaultProxyTimeout = 60 * time.Second

// DefaultProxyMaxConns is the proxy's limit of connections to the backend
// at once unless --max-conns says otherwise: above the workers of a local
// php-fpm pool (Debian's www.conf has pm.max_children = 5), so that it
// does not slow one down, and low enough to bound the proxy's descriptors
// and the backend's listen queue when hundreds of HTTP clients come at once.
// Requests beyond it wait in line in the proxy, up to --timeout. The best
// value for php-fpm is its pm.max_children: php-fpm does not answer
// FCGI_MAX_CONNS, and connections beyond its workers wait in its listen
// queue, where the client's idle timeout already runs.
const DefaultProxyMaxConns = 64

// ProxyGCPercent is the garbage collector's target while the proxy runs,
// unless GOGC says otherwise: each request allocates some 15 KB that
// die with it, and the heap that lives on is a few MiB, so at Go's default
// of 100 the collector ran some 40 times a second under load. At 400 the
// proxy's CPU per request fell by a fifth (bench/README.md, Front end) and
// the heap peaks at about five times what lives, a few tens of MiB, flat
// under load.
const ProxyGCPercent = 400

type proxyOpts struct {
	listen     string
	addr       string
	docroot    string
	record     string
	recordKeep int
	secrets    bool
	timeout    time.Duration
	maxConns   int
	keepConn   string
	// maxConnsSet: --max-conns was given, so it is the backend's workers
	// (its help asks for pm.max_children), which --keep-conn auto needs.
	maxConnsSet bool
	fs          *flag.FlagSet
}

func setupProxy(fs *flag.FlagSet) func(context.Context, *env) error {
	o := newProxyOpts(fs)
	return func(ctx context.Context, e *env) error {
		if err := o.check(); err != nil {
			return err
		}
		return runProxy(ctx, e, o)
	}
}

// newProxyOpts registers the proxy flags on fs.
func newProxyOpts(fs *flag.FlagSet) *proxyOpts {
	o := &proxyOpts{fs: fs}
	fs.StringVar(&o.listen, "listen", proxy.DefaultAddr, "HTTP address to listen on (host:port; :port means 127.0.0.1:port)")
	fs.StringVar(&o.addr, "addr", "", "FastCGI backend address (required): host:port, unix:/path or /path")
	fs.StringVar(&o.docroot, "docroot", "", "document root on the backend's side (required, absolute): SCRIPT_FILENAME = docroot + script")
	fs.StringVar(&o.record, "record", "", "`directory` receiving every exchange as a JSON file (created if missing), "+
		"written on a goroutine of its own: when writing falls behind, exchanges are left out, counted and logged, never delaying a request")
	fs.IntVar(&o.recordKeep, "record-keep", 0, "keep only the newest `N` files this run recorded into --record, deleting older ones (0: keep all)")
	fs.BoolVar(&o.secrets, "record-secrets", false, "keep Authorization, Cookie and other secret values in recorded files (redacted by default)")
	fs.DurationVar(&o.timeout, "timeout", DefaultProxyTimeout, "give up on a forwarded request after this long")
	fs.IntVar(&o.maxConns, "max-conns", DefaultProxyMaxConns, "at most `N` connections to the backend at once, more requests wait in line "+
		"(0: no limit); for php-fpm use its pm.max_children, as it does not answer FCGI_MAX_CONNS")
	fs.StringVar(&o.keepConn, "keep-conn", proxy.KeepConnAuto.String(), "FCGI_KEEP_CONN: reuse connections to the backend (`auto`, on or off); "+
		"auto: on when the backend answers GET_VALUES as php-fpm and php-cgi do (they keep connections) and --max-conns is given "+
		"(or within the FCGI_MAX_CONNS it announces), as each kept connection holds one of its workers")
	return o
}

// check validates the flags.
func (o *proxyOpts) check() error {
	switch {
	case o.addr == "":
		return usagef("--addr is required (the FastCGI backend, e.g. --addr 127.0.0.1:9000)")
	case o.docroot == "":
		return usagef("--docroot is required (the document root as the backend sees it, e.g. --docroot /var/www/html)")
	case !path.IsAbs(o.docroot):
		return usagef("--docroot %q must be an absolute path", o.docroot)
	case o.timeout <= 0:
		return usagef("--timeout must be positive")
	case o.maxConns < 0:
		return usagef("--max-conns %d: want 0 (no limit) or more", o.maxConns)
	case o.recordKeep < 0:
		return usagef("--record-keep %d: want 0 (keep all) or more", o.recordKeep)
	case o.recordKeep > 0 && o.record == "":
		return usagef("--record-keep needs --record DIR")
	}
	if _, err := proxy.ParseKeepConn(o.keepConn); err != nil {
		return usagef("--%v", err)
	}
	o.fs.Visit(func(f *flag.Flag) {
		if f.Name == "max-conns" {
			o.maxConnsSet = true
		}
	})
	if _, _, err := fcgi.ParseAddr(o.addr); err != nil {
		return usagef("--addr: %v", err)
	}
	if _, _, err := net.SplitHostPort(proxy.ListenAddr(o.listen)); err != nil {
		return usagef("--listen %q: want host:port", o.listen)
	}
	return nil
}

// poolOptions are the options of the proxy's pool: the backend's
// connection limit, as many idle connections kept (under --keep-conn; the
// limit bounds them anyway), and the trace hook for log.
func (o *proxyOpts) poolOptions(log *logrus.Logger) session.PoolOptions {
	return session.PoolOptions{Client: fcgi.ClientOptions{Options: fcgi.Options{Trace: TraceLogger(log)}},
		MaxConns: map[string]int{o.addr: o.maxConns}, MaxIdle: o.maxConns}
}

// isLoopback reports whether a listen address accepts connections from this
// machine only.
func isLoopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func runProxy(ctx context.Context, e *env, o *proxyOpts) error {
	listen := proxy.ListenAddr(o.listen)
	if !isLoopback(listen) {
		e.log.WithField("listen", listen).Warn("!!! the proxy listens on a non-loopback address: anyone who can reach " +
			listen + " can run requests on the FastCGI backend " + o.addr + " (and read its answers). " +
			"Use --listen 127.0.0.1:PORT unless you mean it. !!!")
	}
	if o.record != "" {
		if err := os.MkdirAll(o.record, 0o700); err != nil {
			return fmt.Errorf("cli: proxy: --record directory: %w", err)
		}
	}

	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(ProxyGCPercent))
	}
	pool := session.NewPool(o.poolOptions(e.log))
	defer pool.Close()
	eng := session.NewEngine(pool, session.EngineOptions{Timeout: o.timeout})
	p := proxy.New(eng, o.addr, proxy.HTTPBuilder(o.docroot))
	var rec *session.Recorder
	if o.record != "" {
		rec = session.NewRecorder(session.RecorderOptions{Dir: o.record, Secrets: o.secrets, KeepFiles: o.recordKeep,
			ErrorLog: func(err error) { e.log.WithError(err).Error("proxy: recording") }})
		p.Recorder = rec
	}
	p.KeepConn, _ = proxy.ParseKeepConn(o.keepConn)
	p.ConnLimitFits = o.maxConnsSet
	p.OnKeepConn = func(on bool, why string) { e.log.WithField("keep_conn", on).Info(why) }

	exchanges, unsubscribe := p.Subscribe()
	logged := make(chan struct{})
	go func() {
		defer close(logged)
		// The lines of the exchanges waiting go out in one write: under
		// load, one system call per burst instead of one per request.
		var batch []byte
		for x := range exchanges {
			batch = e.appendExchangeLog(batch, x)
			if len(exchanges) == 0 || len(batch) >= logBatch {
				_, _ = e.log.Out.Write(batch)
				batch = batch[:0]
			}
		}
	}()

	err := p.ListenAndServe(ctx, listen, func(a net.Addr) {
		e.log.WithFields(logrus.Fields{"addr": a.String(), "backend": o.addr, "docroot": o.docroot, "record": o.record,
			"max_conns": o.maxConns, "keep_conn": o.keepConn}).
			Info("listening: HTTP proxy to the FastCGI backend")
		if e.Listening != nil {
			e.Listening(a.String())
		}
	})
	unsubscribe()
	<-logged
	if rec != nil {
		_ = rec.Close()
		st := rec.Stats()
		e.log.WithFields(logrus.Fields{"recorded": st.Recorded, "dropped": st.Dropped, "failed": st.Failed, "record": o.record}).
			Info("recording closed")
	}
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	e.log.Info("proxy stopped")
	return nil
}

// logBatch is the most exchange log lines the proxy holds before writing
// them.
const logBatch = 64 << 10

// appendExchangeLog appends the log line of one forwarded request, at info
// (warn when it failed), formatted by the logger's formatter, to b. At
// debug its params follow, logged one by one (secrets redacted).
func (e *env) appendExchangeLog(b []byte, x *session.Exchange) []byte {
	f := logrus.Fields{"records": x.Len(), "total": x.Timings().Total}
	if h := x.Input.HTTP; h != nil {
		f["method"], f["url"] = h.Method, h.URL
	}
	if resp := x.Response(); resp != nil {
		f["status"] = resp.Status
	}
	if end := x.End(); end != nil {
		f["app_status"], f["protocol_status"] = end.AppStatus, end.ProtocolStatus.String()
	}
	if errOut := x.Stderr(); len(errOut) > 0 {
		const maxLogged = 1000
		f["stderr"] = strings.TrimSpace(string(errOut[:min(len(errOut), maxLogged)]))
	}
	level, msg := logrus.InfoLevel, "exchange"
	if text := x.ErrorText(); text != "" {
		f["error"] = text
		level, msg = logrus.WarnLevel, "exchange failed"
	}
	if e.log.IsLevelEnabled(level) {
		entry := e.log.WithFields(f)
		entry.Time, entry.Level, entry.Message = time.Now(), level, msg
		if line, err := entry.Bytes(); err == nil {
			b = append(b, line...)
		}
	}
	if !e.log.IsLevelEnabled(logrus.DebugLevel) {
		return b
	}
	_, _ = e.log.Out.Write(b)
	for _, p := range x.Params() {
		e.log.WithFields(logrus.Fields{"name": p.Name, "value": e.red.param(p.Name, p.Value), "origin": p.Origin}).Debug("param")
	}
	return b[:0]
}
