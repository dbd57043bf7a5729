// The tap subcommand: a transparent FastCGI tap between a web server and
// its application, or the FastCGI traffic of a capture file, printed one
// exchange a line (or one JSON object a line).

package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/tap"
)

// tapShutdownGrace is how long the tap lets the connections in flight
// finish once it is interrupted.
const tapShutdownGrace = 5 * time.Second

// tapNotes is the tap's paragraph in its usage.
const tapNotes = `  Change one line of the web server's site: fastcgi_pass (nginx), the
  SetHandler proxy:unix:... (Apache) or php_fastcgi (Caddy) names the
  --listen address instead of php-fpm's socket. Every connection is
  forwarded to --upstream byte for byte (keep-alive, multiplexing and
  malformed records as they are) and every exchange is printed as it
  completes, one line each:
    TIME METHOD URI STATUS app=APP_STATUS DURATION sent=B recv=B stderr=LINES anomalies=KINDS [lost] [error="..."]
  (--json: one JSON object per line, the schema of send --json). The
  unix socket gets the upstream socket's owner, group and mode unless
  --listen-owner/--listen-group/--listen-mode say otherwise, as php-fpm's
  listen.owner/group/mode do. The tap never holds traffic up: past
  --capture-limit per exchange, or --memory-limit in all, or when
  decoding falls behind, record content goes by uncaptured and is counted.
  When the upstream is down, the web server's connection is closed as
  php-fpm's would be (nginx answers 502) and a warning is logged.

  --read FILE reads a capture (tcpdump -w, dumpcap, Wireshark) instead:
  the TCP streams to --port (or, with --all-ports, every stream that
  starts with a plausible BEGIN_REQUEST) are reassembled and printed the
  same way, with the capture's timestamps.
`

type tapOpts struct {
	listen, upstream string
	owner, group     string
	mode             string
	record           string
	recordKeep       int
	secrets          bool
	json             bool
	captureLimit     int64
	memoryLimit      int64
	read             string
	port             int
	allPorts         bool
	fs               *flag.FlagSet
	modeMask         fs.FileMode // --listen-mode parsed
}

func setupTap(fs *flag.FlagSet) func(context.Context, *env) error {
	o := &tapOpts{fs: fs}
	fs.StringVar(&o.listen, "listen", "", "where the web server connects (its fastcgi_pass): unix:/path.sock or host:port")
	fs.StringVar(&o.upstream, "upstream", "", "the FastCGI application (php-fpm's socket): unix:/path.sock or host:port")
	fs.StringVar(&o.owner, "listen-owner", "", "owner of the unix listen socket, like php-fpm's listen.owner (default: the upstream socket's)")
	fs.StringVar(&o.group, "listen-group", "", "group of the unix listen socket, like php-fpm's listen.group (default: the upstream socket's)")
	fs.StringVar(&o.mode, "listen-mode", "", "mode of the unix listen socket, like php-fpm's listen.mode, e.g. 0660 (default: the upstream socket's, else 0660)")
	fs.StringVar(&o.record, "record", "", "`directory` receiving every exchange as an Exchange file (created if missing); the window opens them")
	fs.IntVar(&o.recordKeep, "record-keep", 0, "keep only the newest `N` files this run recorded into --record (0: keep all)")
	fs.BoolVar(&o.secrets, "record-secrets", false, "keep Authorization, Cookie and other secret values in recorded files (redacted by default)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per exchange and line (the schema of send --json; params and bodies unredacted)")
	fs.Int64Var(&o.captureLimit, "capture-limit", tap.DefaultCaptureLimit, "record `bytes` kept per exchange; past them only headers and sizes (-1: no limit)")
	fs.Int64Var(&o.memoryLimit, "memory-limit", tap.DefaultMemoryLimit, "capture `bytes` held by the open exchanges together; past them record content goes by uncaptured (-1: no limit)")
	fs.StringVar(&o.read, "read", "", "read a pcap or pcapng `file` (tcpdump, Wireshark) instead of tapping")
	fs.IntVar(&o.port, "port", tap.DefaultPort, "with --read: the FastCGI application's TCP port")
	fs.BoolVar(&o.allPorts, "all-ports", false, "with --read: every TCP stream that starts like FastCGI (a plausible BEGIN_REQUEST)")
	return func(ctx context.Context, e *env) error {
		if err := o.check(); err != nil {
			return err
		}
		if o.read != "" {
			return runTapRead(ctx, e, o)
		}
		return runTap(ctx, e, o)
	}
}

// check validates the flags.
func (o *tapOpts) check() error {
	set := map[string]bool{}
	o.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.read != "" {
		for _, name := range []string{"listen", "upstream", "listen-owner", "listen-group", "listen-mode", "record", "record-keep", "memory-limit"} {
			if set[name] {
				return usagef("--%s does not apply to --read (a capture file is read, nothing is tapped)", name)
			}
		}
		if set["port"] && o.allPorts {
			return usagef("--port and --all-ports exclude each other")
		}
		if o.port < 1 || o.port > 65535 {
			return usagef("--port %d: want 1 to 65535", o.port)
		}
		return nil
	}
	switch {
	case set["port"] || o.allPorts:
		return usagef("--port and --all-ports apply to --read FILE")
	case o.listen == "":
		return usagef("--listen is required (where the web server's fastcgi_pass will point, e.g. --listen unix:/run/fcgiscope.sock)")
	case o.upstream == "":
		return usagef("--upstream is required (the application, e.g. --upstream unix:/run/php/php8.2-fpm.sock)")
	case o.recordKeep < 0:
		return usagef("--record-keep %d: want 0 (keep all) or more", o.recordKeep)
	case o.recordKeep > 0 && o.record == "":
		return usagef("--record-keep needs --record DIR")
	}
	if _, _, err := tap.ListenAddr(o.listen); err != nil {
		return usagef("--listen: %v", err)
	}
	if _, _, err := fcgi.ParseAddr(o.upstream); err != nil {
		return usagef("--upstream: %v", err)
	}
	m, err := ParseListenMode(o.mode)
	if err != nil {
		return usagef("--listen-mode %q: %v", o.mode, err)
	}
	o.modeMask = m
	return nil
}

// ParseListenMode reads the mode of a unix listen socket as --listen-mode
// and the window's Live panel take it: octal permission bits from 1 to
// 0777, like php-fpm's listen.mode (e.g. 0660). "" gives 0: the upstream
// socket's mode, else tap.DefaultSocketMode.
func ParseListenMode(s string) (fs.FileMode, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m == 0 || m > 0o777 {
		return 0, errors.New("want octal permission bits such as 0660")
	}
	return fs.FileMode(m), nil
}

// limit turns a flag's limit into the tap's: -1 (or any negative) is none.
func limit(n int64) int64 {
	if n < 0 {
		return -1
	}
	return n
}

func runTap(ctx context.Context, e *env, o *tapOpts) error {
	if network, addr, _ := tap.ListenAddr(o.listen); network != "unix" && !isLoopback(addr) {
		e.log.WithField("listen", addr).Warn("!!! the tap listens on a non-loopback address: anyone who can reach " +
			addr + " can run requests on " + o.upstream + ". Use a unix socket or 127.0.0.1:PORT unless you mean it. !!!")
	}
	var rec *session.Recorder
	if o.record != "" {
		if err := os.MkdirAll(o.record, 0o700); err != nil {
			return fmt.Errorf("cli: tap: --record directory: %w", err)
		}
		rec = session.NewRecorder(session.RecorderOptions{Dir: o.record, Secrets: o.secrets, KeepFiles: o.recordKeep,
			ErrorLog: func(err error) { e.log.WithError(err).Error("tap: recording") }})
	}
	tp, err := tap.Listen(ctx, tap.Options{
		Listen: o.listen, Upstream: o.upstream,
		Socket:       tap.SocketOptions{Owner: o.owner, Group: o.group, Mode: o.modeMask},
		CaptureLimit: limit(o.captureLimit), MemoryLimit: limit(o.memoryLimit),
		Recorder: rec,
		OnNotice: func(n tap.Notice) {
			e.log.WithFields(logrus.Fields{"kind": string(n.Kind), "conn": n.Conn}).Warn(n.Err.Error())
		},
	})
	if err != nil {
		if rec != nil {
			_ = rec.Close()
		}
		return fmt.Errorf("cli: %w", err)
	}
	exchanges, unsubscribe := tp.Subscribe()
	printed := make(chan error, 1)
	go func() { printed <- e.printExchanges(exchanges, o.json) }()

	served := make(chan error, 1)
	go func() { served <- tp.Serve() }()
	e.log.WithFields(logrus.Fields{"listen": tp.Addr(), "upstream": o.upstream, "record": o.record}).
		Info("listening: FastCGI tap; point the web server's fastcgi_pass at " + tp.Addr())
	if e.Listening != nil {
		e.Listening(tp.Addr())
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	sctx, cancel := context.WithTimeout(context.Background(), tapShutdownGrace)
	_ = tp.Shutdown(sctx)
	cancel()
	if serveErr == nil {
		serveErr = <-served
	}
	unsubscribe()
	printErr := <-printed
	st := tp.Stats()
	fields := logrus.Fields{"conns": st.Conns, "exchanges": st.Exchanges, "upstream_failed": st.UpstreamFailed,
		"behind_bytes": st.Behind, "over_memory_bytes": st.OverMemory, "undecoded_bytes": st.Undecoded,
		"unforwarded_bytes": st.Unforwarded, "unprinted": st.Undelivered}
	if rec != nil {
		_ = rec.Close()
		rs := rec.Stats()
		fields["recorded"], fields["not_recorded"], fields["record_failed"] = rs.Recorded, rs.Dropped, rs.Failed
	}
	e.log.WithFields(fields).Info("tap stopped")
	if serveErr != nil {
		return fmt.Errorf("cli: %w", serveErr)
	}
	if printErr != nil {
		return fmt.Errorf("cli: tap: writing output: %w", printErr)
	}
	return nil
}

func runTapRead(ctx context.Context, e *env, o *tapOpts) error {
	exchanges := make(chan *session.Exchange, 256)
	printed := make(chan error, 1)
	go func() { printed <- e.printExchanges(exchanges, o.json) }()
	st, err := tap.ReadCaptureFile(ctx, o.read, tap.CaptureOptions{Port: o.port, AllPorts: o.allPorts,
		CaptureLimit: limit(o.captureLimit)}, func(x *session.Exchange) { exchanges <- x })
	close(exchanges)
	printErr := <-printed
	e.log.WithFields(logrus.Fields{"packets": st.Packets, "ignored": st.Ignored, "streams": st.Streams,
		"exchanges": st.Exchanges, "missing_bytes": st.Missing, "undecoded_bytes": st.Undecoded}).Info("capture read")
	if st.Streams == 0 && err == nil {
		where := fmt.Sprintf("to or from port %d (--port)", o.port)
		if o.allPorts {
			where = "starting like FastCGI"
		}
		e.log.Warn("no FastCGI traffic found: no TCP stream " + where)
	}
	if err != nil {
		return fmt.Errorf("cli: %w", err)
	}
	if printErr != nil {
		return fmt.Errorf("cli: tap: writing output: %w", printErr)
	}
	return nil
}

// printExchanges writes a line (or, with asJSON, a JSON object) for every
// exchange received, the lines of the exchanges waiting in one write. After
// a write error it drains the channel and returns the error.
func (e *env) printExchanges(exchanges <-chan *session.Exchange, asJSON bool) error {
	var batch []byte
	var failed error
	for x := range exchanges {
		if failed != nil {
			continue
		}
		if asJSON {
			b, err := x.CLIJSON()
			if err != nil {
				failed = err
				continue
			}
			batch = append(append(batch, b...), '\n')
		} else {
			batch = appendTapLine(batch, tap.Summarize(x))
		}
		if len(exchanges) == 0 || len(batch) >= logBatch {
			if _, err := e.Stdout.Write(batch); err != nil {
				failed = err
			}
			batch = batch[:0]
		}
	}
	if failed == nil && len(batch) > 0 {
		_, failed = e.Stdout.Write(batch)
	}
	return failed
}

// appendTapLine appends the line of one exchange: time, method, URI,
// status, app status, duration, bytes sent and received, stderr lines,
// anomalies, then "lost" when record content was not captured and the
// error, if any. Fields are separated by single spaces; a URI or error
// holding spaces or control characters is quoted.
func appendTapLine(b []byte, s tap.Summary) []byte {
	b = s.Start.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z")
	b = append(b, ' ')
	b = appendField(b, orDash(s.Method))
	b = append(b, ' ')
	b = appendField(b, orDash(s.URI))
	b = append(b, ' ')
	if s.Status != 0 {
		b = strconv.AppendInt(b, int64(s.Status), 10)
	} else {
		b = append(b, '-')
	}
	b = append(b, " app="...)
	switch {
	case !s.Ended:
		b = append(b, '-')
	default:
		b = strconv.AppendUint(b, uint64(s.AppStatus), 10)
		if s.ProtocolStatus != fcgi.StatusRequestComplete {
			b = append(append(b, '/'), s.ProtocolStatus.String()...)
		}
	}
	b = append(b, ' ')
	b = append(b, fmtMS(s.Duration)...)
	b = append(b, " sent="...)
	b = strconv.AppendInt(b, s.Sent, 10)
	b = append(b, " recv="...)
	b = strconv.AppendInt(b, s.Received, 10)
	b = append(b, " stderr="...)
	b = strconv.AppendInt(b, int64(s.StderrLines), 10)
	b = append(b, " anomalies="...)
	if len(s.Anomalies) == 0 {
		b = append(b, '-')
	}
	for i, k := range s.Anomalies {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k...)
	}
	if s.Lost {
		b = append(b, " lost"...)
	}
	if s.Err != "" {
		b = append(b, " error="...)
		b = strconv.AppendQuote(b, s.Err)
	}
	return append(b, '\n')
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// appendField appends s, quoted when it holds spaces, quotes or control
// characters (so that a line splits on spaces into its fields).
func appendField(b []byte, s string) []byte {
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == '"' || r == 0x7f }) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}
