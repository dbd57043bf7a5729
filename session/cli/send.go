// The send subcommand: one request, raw or composed as HTTP, and its report.

package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// DefaultSendTimeout bounds a whole request unless --timeout says otherwise.
const DefaultSendTimeout = 30 * time.Second

// sendOpts are the send subcommand's flags.
type sendOpts struct {
	addr      string
	params    repeated
	stdinFile string
	// HTTP mode
	docroot    string
	method     string
	url        string
	headers    repeated
	body       string
	bodyFile   string
	serverName string
	serverPort string
	remoteAddr string
	https      bool
	// both modes
	role     string
	dataFile string
	keepConn bool
	timeout  time.Duration
	json     bool

	set map[string]bool // flags given on the command line
}

// httpFlags are the flags that only make sense in HTTP mode.
func httpFlags() []string {
	return []string{"method", "header", "body", "body-file", "server-name", "server-port", "remote-addr", "https"}
}

func setupSend(fs *flag.FlagSet) func(context.Context, *env) error {
	o := &sendOpts{}
	fs.StringVar(&o.addr, "addr", "", "backend address (required): host:port, unix:/path or /path")
	fs.Var(&o.params, "param", "`NAME=VALUE` param, repeatable, order kept; in HTTP mode added after the mapping or overriding the param of that name")
	fs.StringVar(&o.stdinFile, "stdin-file", "", "raw mode: `file` sent on STDIN (- for standard input)")
	fs.StringVar(&o.docroot, "docroot", "", "HTTP mode: document root, gives SCRIPT_FILENAME and DOCUMENT_ROOT")
	fs.StringVar(&o.method, "method", "", "HTTP mode: request method (default GET, or POST with a body)")
	fs.StringVar(&o.url, "url", "", "HTTP mode: request URL, /path?query or http[s]://host[:port]/path?query")
	fs.Var(&o.headers, "header", "HTTP mode: `'Name: value'` request header, repeatable")
	fs.StringVar(&o.body, "body", "", "HTTP mode: request body")
	fs.StringVar(&o.bodyFile, "body-file", "", "HTTP mode: `file` holding the request body (- for standard input)")
	fs.StringVar(&o.serverName, "server-name", "", "HTTP mode: SERVER_NAME (default from the URL or Host, else localhost)")
	fs.StringVar(&o.serverPort, "server-port", "", "HTTP mode: SERVER_PORT (default from the URL, else 80 or 443)")
	fs.StringVar(&o.remoteAddr, "remote-addr", "", "HTTP mode: client `ip[:port]` for REMOTE_ADDR and REMOTE_PORT")
	fs.BoolVar(&o.https, "https", false, "HTTP mode: the request came over TLS (HTTPS=on, REQUEST_SCHEME=https)")
	fs.StringVar(&o.role, "role", "responder", "role: responder, authorizer, filter (or a number, to see how the backend copes)")
	fs.StringVar(&o.dataFile, "data-file", "", "`file` sent on DATA (FILTER role; - for standard input)")
	fs.BoolVar(&o.keepConn, "keep-conn", false, "set FCGI_KEEP_CONN in BEGIN_REQUEST")
	fs.DurationVar(&o.timeout, "timeout", DefaultSendTimeout, "give up on the whole request after this long")
	fs.BoolVar(&o.json, "json", false, "print one JSON object (the exchange) instead of the report")
	return func(ctx context.Context, e *env) error {
		o.set = flagsSet(fs)
		return runSend(ctx, e, o)
	}
}

// httpMode reports whether the request is composed as HTTP.
func (o *sendOpts) httpMode() bool { return o.set["docroot"] || o.set["url"] }

// check validates the flags that need no I/O.
func (o *sendOpts) check() (fcgi.Role, []session.Param, error) {
	if o.addr == "" {
		return 0, nil, usagef("--addr is required (e.g. --addr 127.0.0.1:9000 or --addr unix:/run/php/php-fpm.sock)")
	}
	if _, _, err := fcgi.ParseAddr(o.addr); err != nil {
		return 0, nil, usagef("--addr: %v", err)
	}
	role, err := parseRole(o.role)
	if err != nil {
		return 0, nil, err
	}
	if o.timeout <= 0 {
		return 0, nil, usagef("--timeout must be positive")
	}
	params := make([]session.Param, 0, len(o.params))
	for _, s := range o.params {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return 0, nil, usagef("--param %q: want NAME=VALUE", s)
		}
		params = append(params, session.Param{Name: name, Value: value, Origin: session.OriginUser})
	}
	if o.httpMode() {
		if o.set["stdin-file"] {
			return 0, nil, usagef("--stdin-file is for raw mode; in HTTP mode (--url, --docroot) use --body or --body-file")
		}
		if o.set["body"] && o.set["body-file"] {
			return 0, nil, usagef("--body and --body-file are exclusive")
		}
		for _, h := range o.headers {
			if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
				return 0, nil, usagef("--header %q: want 'Name: value'", h)
			}
		}
	} else {
		for _, f := range httpFlags() {
			if o.set[f] {
				return 0, nil, usagef("--%s needs HTTP mode: give --url (and --docroot for php-fpm)", f)
			}
		}
	}
	if countStdin(o.stdinFile, o.bodyFile, o.dataFile) > 1 {
		return 0, nil, usagef("only one of --stdin-file, --body-file and --data-file may be - (standard input)")
	}
	return role, params, nil
}

func countStdin(files ...string) int {
	n := 0
	for _, f := range files {
		if f == "-" {
			n++
		}
	}
	return n
}

// parseRole reads --role: a name or a number from 1 to 65535.
func parseRole(s string) (fcgi.Role, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "responder":
		return fcgi.RoleResponder, nil
	case "authorizer":
		return fcgi.RoleAuthorizer, nil
	case "filter":
		return fcgi.RoleFilter, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	if err != nil || n == 0 {
		return 0, usagef("--role %q: want responder, authorizer, filter or a number from 1 to 65535", s)
	}
	return fcgi.Role(n), nil
}

// readInput reads a file named on the command line; "-" is Stdin.
func (e *env) readInput(flagName, name string) ([]byte, error) {
	if name == "-" {
		if e.Stdin == nil {
			return nil, usagef("--%s -: no standard input", flagName)
		}
		b, err := io.ReadAll(e.Stdin)
		if err != nil {
			return nil, fmt.Errorf("cli: --%s: reading standard input: %w", flagName, err)
		}
		return b, nil
	}
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, usagef("--%s: %v", flagName, err)
	}
	return b, nil
}

func runSend(ctx context.Context, e *env, o *sendOpts) error {
	role, userParams, err := o.check()
	if err != nil {
		return err
	}
	req := &session.Request{Role: role, KeepConn: o.keepConn}
	in := session.Input{Mode: session.ModeRaw, Target: o.addr, Role: role, KeepConn: o.keepConn, DataFile: o.dataFile}
	for _, p := range userParams {
		in.Params = append(in.Params, session.RawParam{Name: p.Name, Value: p.Value, Enabled: true})
	}

	var body []byte
	if o.httpMode() {
		in.Mode = session.ModeHTTP
		if err := e.httpRequest(ctx, o, role, req, &in); err != nil {
			return err
		}
		body = in.HTTP.Body
	} else if o.stdinFile != "" {
		if body, err = e.readInput("stdin-file", o.stdinFile); err != nil {
			return err
		}
		req.Body, req.BodyLen = bytes.NewReader(body), int64(len(body))
	}
	in.Body = body
	if o.dataFile != "" && req.Data == nil {
		data, err := e.readInput("data-file", o.dataFile)
		if err != nil {
			return err
		}
		req.Data, req.DataLen = bytes.NewReader(data), int64(len(data))
		if o.httpMode() && role == fcgi.RoleFilter {
			// What session.FilterFile sets for a file, for standard input.
			req.Params.Set("FCGI_DATA_LAST_MOD", strconv.FormatInt(time.Now().Unix(), 10), session.OriginFilter)
			req.Params.Set("FCGI_DATA_LENGTH", strconv.Itoa(len(data)), session.OriginFilter)
		}
	}
	if o.dataFile != "" && role != fcgi.RoleFilter {
		e.log.Warnf("--data-file with role %s: DATA is only read by FILTER applications", role)
	}
	applyUserParams(&req.Params, userParams, o.httpMode())

	hints := session.Lint(req.Params, body)
	e.logRequest(o, req, hints)

	pool := session.NewPool(session.PoolOptions{Client: fcgi.Options{Trace: traceHook(e.log)}})
	defer pool.Close()
	eng := session.NewEngine(pool, session.EngineOptions{Timeout: o.timeout})
	x := session.NewExchange(in)
	sendErr := eng.Send(ctx, o.addr, req, x)

	if o.json {
		b, err := x.CLIJSON()
		if err != nil {
			return fmt.Errorf("cli: send: encoding JSON: %w", err)
		}
		if _, err := fmt.Fprintf(e.Stdout, "%s\n", b); err != nil {
			return fmt.Errorf("cli: send: writing output: %w", err)
		}
	} else if err := writeReport(e.Stdout, x, hints); err != nil {
		return fmt.Errorf("cli: send: writing output: %w", err)
	}

	end := x.End()
	e.log.WithFields(logrus.Fields{"end_request": end != nil, "records": x.Len(), "total": x.Timings().Total}).Info("done")
	switch {
	case end != nil && sendErr != nil:
		// END_REQUEST arrived: the exchange is complete at the protocol
		// level (e.g. UNKNOWN_ROLE); the output says what it means.
		e.log.WithError(sendErr).Warn("request answered")
		return nil
	case end != nil:
		return nil
	case sendErr != nil:
		return sendErr
	}
	return fmt.Errorf("cli: send to %s: no END_REQUEST received", o.addr)
}

// applyUserParams adds the --param values to ps. In raw mode each is
// appended, duplicates kept. In HTTP mode one whose name the mapping set
// overrides it (the first time; the mapped value is replaced in place), any
// other is appended.
func applyUserParams(ps *session.Params, user []session.Param, httpMode bool) {
	if !httpMode {
		for _, p := range user {
			ps.Add(p.Name, p.Value, p.Origin)
		}
		return
	}
	mapped := make(map[string]bool, len(*ps))
	for _, p := range *ps {
		mapped[p.Name] = true
	}
	for _, p := range user {
		if mapped[p.Name] {
			ps.Set(p.Name, p.Value, p.Origin)
			delete(mapped, p.Name)
			continue
		}
		ps.Add(p.Name, p.Value, p.Origin)
	}
}

// logRequest logs what is about to be sent: a summary at info, each header
// and param at debug with secrets redacted.
func (e *env) logRequest(o *sendOpts, req *session.Request, hints []string) {
	mode := session.ModeRaw
	if o.httpMode() {
		mode = session.ModeHTTP
	}
	e.log.WithFields(logrus.Fields{
		"addr": o.addr, "mode": mode, "role": req.Role.String(),
		"params": len(req.Params), "body": req.BodyLen,
	}).Info("sending")
	for _, h := range hints {
		e.log.Info("lint: " + h)
	}
	if !e.log.IsLevelEnabled(logrus.DebugLevel) {
		return
	}
	for _, h := range o.headers {
		name, value, _ := strings.Cut(h, ":")
		e.log.WithFields(logrus.Fields{"name": strings.TrimSpace(name),
			"value": e.red.header(name, strings.TrimSpace(value))}).Debug("header")
	}
	for _, p := range req.Params {
		e.log.WithFields(logrus.Fields{"name": p.Name, "value": e.red.param(p.Name, p.Value),
			"origin": p.Origin}).Debug("param")
	}
}
