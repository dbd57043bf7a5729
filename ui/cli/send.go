// The send subcommand: one request, raw or composed as HTTP, and its report.

package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/preset"
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
	splitPath  string
	location   string
	profile    string
	// both modes
	role     string
	dataFile string
	keepConn bool
	timeout  time.Duration
	json     bool
	// presets and environments
	preset  string
	envName string
	envFile string

	set map[string]bool // flags given on the command line
}

// httpFlags are the flags that only make sense in HTTP mode (--url and
// --docroot, which switch to it, aside).
func httpFlags() []string {
	return []string{"method", "header", "body", "body-file", "server-name", "server-port", "remote-addr", "https", "split-path", "location", "profile"}
}

func setupSend(fs *flag.FlagSet) func(context.Context, *env) error {
	o := newSendOpts(fs)
	return func(ctx context.Context, e *env) error {
		o.set = flagsSet(fs)
		return runSend(ctx, e, o)
	}
}

// newSendOpts registers the send flags on fs; o.set is filled once they are
// parsed.
func newSendOpts(fs *flag.FlagSet) *sendOpts {
	o := &sendOpts{}
	fs.StringVar(&o.addr, "addr", "", "backend address: host:port, unix:/path or /path (required unless --preset gives a target)")
	fs.StringVar(&o.preset, "preset", "", "preset `file` (.toml, as the window saves it) to send; the flags given override its fields")
	fs.StringVar(&o.envName, "env", "", "substitute the `name`d environment's {{variables}} in the request before sending (file: see --env-file)")
	fs.StringVar(&o.envFile, "env-file", "", "environments `file` for --env (default: found from the preset's folder up, or the window's presets folder)")
	fs.Var(&o.params, "param", "`NAME=VALUE` param, repeatable, order kept; in HTTP mode added after the mapping or overriding the param of that name")
	fs.StringVar(&o.stdinFile, "stdin-file", "", "raw mode: `file` sent on STDIN (- for standard input); replaces a preset's body")
	fs.StringVar(&o.docroot, "docroot", "", "HTTP mode: document root, gives SCRIPT_FILENAME and DOCUMENT_ROOT")
	fs.StringVar(&o.method, "method", "", "HTTP mode: request method (default GET, or POST with a body)")
	fs.StringVar(&o.url, "url", "", "HTTP mode: request URL, /path?query or http[s]://host[:port]/path?query")
	fs.Var(&o.headers, "header", "HTTP mode: `'Name: value'` request header, repeatable; replaces a preset's headers of that name")
	fs.StringVar(&o.body, "body", "", "HTTP mode: request body (replaces a preset's body)")
	fs.StringVar(&o.bodyFile, "body-file", "", "HTTP mode: `file` holding the request body (- for standard input)")
	fs.StringVar(&o.serverName, "server-name", "", "HTTP mode: SERVER_NAME (default from the URL or Host, else localhost)")
	fs.StringVar(&o.serverPort, "server-port", "", "HTTP mode: SERVER_PORT (default from the URL, else 80 or 443)")
	fs.StringVar(&o.remoteAddr, "remote-addr", "", "HTTP mode: client `ip[:port]` for REMOTE_ADDR and REMOTE_PORT")
	fs.BoolVar(&o.https, "https", false, "HTTP mode: the request came over TLS (HTTPS=on, REQUEST_SCHEME=https)")
	fs.StringVar(&o.splitPath, "split-path", "", "HTTP mode: fastcgi_split_path_info's `regexp` (two groups: script name, path info; default "+
		session.DefaultSplitPath+"), e.g. '^(.+\\.cgi)(/.+)$' for CGI scripts behind fcgiwrap")
	fs.StringVar(&o.location, "location", "", "HTTP mode: the `regexp` of nginx's FastCGI location (default "+session.DefaultLocation+
		"); a path it does not match and that ends in / gets the index file")
	fs.StringVar(&o.profile, "profile", "", "HTTP mode: the web server to imitate, its params and record framing: "+
		strings.Join(session.ProfileNames(), ", ")+" (default nginx); NAME/VARIANT picks a configuration, e.g. apache/generic")
	fs.StringVar(&o.role, "role", "responder", "role: responder, authorizer, filter (or a number, to see how the backend copes)")
	fs.StringVar(&o.dataFile, "data-file", "", "`file` sent on DATA (FILTER role; - for standard input)")
	fs.BoolVar(&o.keepConn, "keep-conn", false, "set FCGI_KEEP_CONN in BEGIN_REQUEST (--keep-conn=false clears a preset's); "+
		"the report then says whether the application kept the connection open")
	fs.DurationVar(&o.timeout, "timeout", DefaultSendTimeout, "give up on the whole request after this long, the wait for END_REQUEST "+
		"after ABORT_REQUEST included (ABORT_REQUEST goes out a tenth of it early, at most 2s)")
	fs.BoolVar(&o.json, "json", false, "print one JSON object (the exchange) instead of the report")
	return o
}

// wantHTTP reports whether the request is composed as HTTP: a preset in
// HTTP mode, or --url; without a preset --docroot too.
func (o *sendOpts) wantHTTP(p *preset.Preset) bool {
	if p != nil {
		return p.Mode == session.ModeHTTP || o.set["url"]
	}
	return o.set["docroot"] || o.set["url"]
}

// check validates the flags that need no I/O. p is the preset, nil without
// one. The role is nil when neither --role nor (without a preset) its
// default applies.
func (o *sendOpts) check(p *preset.Preset) (*fcgi.Role, []session.RawParam, error) {
	if o.addr == "" && o.set["addr"] || o.addr == "" && p == nil {
		return nil, nil, usagef("--addr is required (e.g. --addr 127.0.0.1:9000 or --addr unix:/run/php/php-fpm.sock), or --preset FILE")
	}
	var role *fcgi.Role
	if p == nil || o.set["role"] {
		r, err := parseRole(o.role)
		if err != nil {
			return nil, nil, err
		}
		role = &r
	}
	if o.timeout <= 0 {
		return nil, nil, usagef("--timeout must be positive")
	}
	if o.set["env-file"] && o.envName == "" {
		return nil, nil, usagef("--env-file needs --env NAME (the environment to use)")
	}
	params := make([]session.RawParam, 0, len(o.params))
	for _, s := range o.params {
		name, value, ok := strings.Cut(s, "=")
		if !ok || name == "" {
			return nil, nil, usagef("--param %q: want NAME=VALUE", s)
		}
		params = append(params, session.RawParam{Name: name, Value: value, Enabled: true})
	}
	for _, h := range o.headers {
		if name, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(name) == "" {
			return nil, nil, usagef("--header %q: want 'Name: value'", h)
		}
	}
	if o.set["body"] && o.set["body-file"] {
		return nil, nil, usagef("--body and --body-file are exclusive")
	}
	if o.set["profile"] {
		if _, _, err := parseProfile(o.profile); err != nil {
			return nil, nil, err
		}
	}
	if o.wantHTTP(p) {
		if o.set["stdin-file"] {
			return nil, nil, usagef("--stdin-file is for raw mode; in HTTP mode (--url, --docroot or an HTTP-mode preset) use --body or --body-file")
		}
	} else {
		flags := httpFlags()
		if p != nil {
			flags = append(flags, "docroot")
		}
		for _, f := range flags {
			if !o.set[f] {
				continue
			}
			if p != nil {
				return nil, nil, usagef("--%s needs HTTP mode, and the preset %s is in raw mode: give --url to switch it to HTTP mode", f, o.preset)
			}
			return nil, nil, usagef("--%s needs HTTP mode: give --url (and --docroot for php-fpm)", f)
		}
	}
	if countStdin(o.stdinFile, o.bodyFile, o.dataFile) > 1 {
		return nil, nil, usagef("only one of --stdin-file, --body-file and --data-file may be - (standard input)")
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
	r, ok := session.ParseRole(s)
	if !ok || r == 0 {
		return 0, usagef("--role %q: want responder, authorizer, filter or a number from 1 to 65535", s)
	}
	return r, nil
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

// compose returns the input the command line describes: the preset p (or,
// without one, an empty raw-mode responder request) with every flag given
// laid over the matching field. --param is not part of it (see
// applyUserParams); --url is kept as given until resolveURL.
func (e *env) compose(o *sendOpts, p *preset.Preset, role *fcgi.Role) (session.Input, error) {
	in := session.Input{Mode: session.ModeRaw, Role: fcgi.RoleResponder}
	if p != nil {
		in = p.Input()
		if in.Mode != session.ModeHTTP {
			in.Mode = session.ModeRaw
		}
	}
	if o.set["addr"] {
		in.Target = o.addr
	}
	if role != nil {
		in.Role = *role
	}
	if o.set["keep-conn"] {
		in.KeepConn = o.keepConn
	}
	if o.set["data-file"] {
		in.DataFile = o.dataFile
	}
	httpMode := o.wantHTTP(p)
	if httpMode {
		base := session.HTTPInput{}
		if in.HTTP != nil {
			base = *in.HTTP // a deep copy already (Preset.Input)
		}
		h, err := overlayHTTP(o, base)
		if err != nil {
			return in, err
		}
		in.Mode, in.HTTP = session.ModeHTTP, &h
	}

	var body []byte
	var err error
	switch {
	case o.set["body"]:
		body = []byte(o.body)
	case o.set["body-file"]:
		body, err = e.readInput("body-file", o.bodyFile)
	case o.set["stdin-file"]:
		body, err = e.readInput("stdin-file", o.stdinFile)
	default:
		if httpMode && in.HTTP.Method == "" && len(in.Body) > 0 {
			in.HTTP.Method = "POST"
		}
		return in, nil
	}
	if err != nil {
		return in, err
	}
	// One body serves both modes (as in the window): Input.Body, the HTTP
	// request's own body cleared so that it does not win.
	in.Body = body
	if httpMode {
		in.HTTP.Body, in.HTTP.BodyFile = nil, ""
		if in.HTTP.Method == "" && len(body) > 0 {
			in.HTTP.Method = "POST"
		}
	}
	return in, nil
}

// sendPlan is a request ready to go: the final input, variables
// substituted and --param values at the end of its params table (what the
// exchange records; in HTTP mode the table is kept aside, as in the window,
// and the params sent are the exchange's own), and the request built from it.
type sendPlan struct {
	in    session.Input
	req   *session.Request
	hints []string
}

// planSend reads the preset, lays the flags over it, substitutes the
// environment and builds the request. Nothing is sent.
func (e *env) planSend(ctx context.Context, o *sendOpts) (*sendPlan, error) {
	var preset *preset.Preset
	if o.preset != "" {
		p, err := loadPreset(o.preset)
		if err != nil {
			return nil, err
		}
		e.log.WithField("file", o.preset).Info("preset")
		preset = &p
	}
	role, userParams, err := o.check(preset)
	if err != nil {
		return nil, err
	}
	in, err := e.compose(o, preset, role)
	if err != nil {
		return nil, err
	}
	if in, userParams, err = e.substitute(o, in, userParams); err != nil {
		return nil, err
	}
	httpMode := in.Mode == session.ModeHTTP
	if httpMode {
		if err := resolveURL(in.HTTP, o); err != nil {
			return nil, err
		}
	}
	if err := checkTarget(o, in.Target); err != nil {
		return nil, err
	}
	req, err := e.buildRequest(ctx, o, in, preset != nil)
	if err != nil {
		return nil, err
	}
	user := make([]session.Param, len(userParams))
	for i, p := range userParams {
		user[i] = session.Param{Name: p.Name, Value: p.Value, Origin: session.OriginUser}
	}
	applyUserParams(&req.Params, user, httpMode)

	body := in.Body
	if httpMode && len(in.HTTP.Body) > 0 {
		body = in.HTTP.Body
	}
	final := in
	final.Params = append(slices.Clone(in.Params), userParams...)
	hints := session.Lint(req.Params, body)
	if req.Role == fcgi.RoleFilter {
		hints = append(hints, session.LintFilter(req.Params, req.DataLen)...)
	}
	return &sendPlan{in: final, req: req, hints: hints}, nil
}

func runSend(ctx context.Context, e *env, o *sendOpts) error {
	plan, err := e.planSend(ctx, o)
	if err != nil {
		return err
	}
	in, hints := plan.in, plan.hints
	e.logRequest(in, plan.req, hints)

	pool := session.NewPool(session.PoolOptions{Client: fcgi.ClientOptions{Options: fcgi.Options{Trace: TraceLogger(e.log)}}})
	defer pool.Close()
	eng := session.NewEngine(pool, session.EngineOptions{Timeout: o.timeout})
	x := session.NewExchange(in)
	sendErr := eng.Send(ctx, in.Target, plan.req, x)
	if sendErr == nil && x.KeepConn() {
		watchKept(ctx, pool, in.Target, x)
	}

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
	case sendErr != nil && !o.json:
		// Out of time (even if END_REQUEST came for ABORT_REQUEST), refused
		// (UNKNOWN_ROLE, OVERLOADED...), cut off: a failure, which the
		// report already told on its error line.
		return reported{sendErr}
	case sendErr != nil:
		return sendErr // the JSON holds it for programs; stderr tells the person
	case end != nil:
		return nil
	}
	return fmt.Errorf("cli: send to %s: no END_REQUEST received", in.Target)
}

// keepWatch is how long send --keep-conn watches the connection after
// END_REQUEST for the application closing it: servers that ignore
// FCGI_KEEP_CONN close it at once.
const keepWatch = 200 * time.Millisecond

// watchKept records into x whether the application kept the connection of
// x's KEEP_CONN request open: the pool's client holds it for reuse unless
// the application closed it within keepWatch.
func watchKept(ctx context.Context, pool *session.Pool, target string, x *session.Exchange) {
	client, release, err := pool.Acquire(target)
	if err != nil {
		return
	}
	defer release()
	t := time.NewTimer(keepWatch)
	defer t.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for client.Idle() > 0 {
		select {
		case <-tick.C:
			continue
		case <-t.C:
		case <-ctx.Done():
		}
		break
	}
	x.SetConnKept(client.Idle() > 0)
}

// checkTarget validates the address to send to, once variables are
// substituted.
func checkTarget(o *sendOpts, target string) error {
	src := "--addr"
	if !o.set["addr"] {
		src = "the preset's target"
		if target == "" {
			return usagef("the preset %s has no target: give --addr", o.preset)
		}
	}
	if _, _, err := fcgi.ParseAddr(target); err != nil {
		return usagef("%s: %v", src, err)
	}
	return nil
}

// buildRequest returns the request in describes. A preset's goes through
// session.BuildInput, as the window sends it, except an HTTP request
// without a document root (no PHPRouter: a bare FastCGI app needs no
// SCRIPT_FILENAME), which is mapped like the flags' (httpRequest). Data
// from standard input (--data-file -), and a data file the command line
// names for a role that does not read it, are sent from memory.
func (e *env) buildRequest(ctx context.Context, o *sendOpts, in session.Input, fromPreset bool) (*session.Request, error) {
	httpMode := in.Mode == session.ModeHTTP
	if fromPreset && in.Role == fcgi.RoleFilter && in.DataFile == "" {
		return nil, usagef("role filter needs a data file and the preset %s has none: give --data-file FILE", o.preset)
	}
	var req *session.Request
	var err error
	switch {
	case fromPreset && !(httpMode && in.HTTP.DocumentRoot == ""):
		bi := in
		if in.DataFile == "-" {
			// FilterFile wants a file; standard input is attached below.
			bi.DataFile = ""
			if bi.Role == fcgi.RoleFilter {
				bi.Role = 0
			}
		}
		req, err = session.BuildInput(ctx, bi)
		if req != nil {
			req.Role = in.Role
		}
	case httpMode:
		req, err = e.httpRequest(ctx, in)
	default:
		req = &session.Request{Role: in.Role, KeepConn: in.KeepConn, ID: in.RequestID}
		if len(in.Body) > 0 {
			req.Body, req.BodyLen = bytes.NewReader(in.Body), int64(len(in.Body))
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		what := "the request"
		if httpMode {
			what = "the HTTP request"
		}
		return nil, usagef("composing %s: %v", what, strings.TrimPrefix(err.Error(), "session: "))
	}
	if in.DataFile != "" && req.Data == nil && (!fromPreset || o.set["data-file"]) {
		data, err := e.readInput("data-file", in.DataFile)
		if err != nil {
			return nil, err
		}
		req.Data, req.DataLen = bytes.NewReader(data), int64(len(data))
		if in.Role == fcgi.RoleFilter && (httpMode || fromPreset) {
			// What session.FilterFile sets for a file, for standard input.
			req.Params.Set("FCGI_DATA_LAST_MOD", strconv.FormatInt(time.Now().Unix(), 10), session.OriginFilter)
			req.Params.Set("FCGI_DATA_LENGTH", strconv.Itoa(len(data)), session.OriginFilter)
		}
	}
	if o.set["data-file"] && in.Role != fcgi.RoleFilter {
		e.log.Warnf("--data-file with role %s: DATA is only read by FILTER applications", in.Role)
	}
	return req, nil
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
func (e *env) logRequest(in session.Input, req *session.Request, hints []string) {
	e.log.WithFields(logrus.Fields{
		"addr": in.Target, "mode": in.Mode, "role": req.Role.String(),
		"params": len(req.Params), "body": req.BodyLen,
	}).Info("sending")
	for _, h := range hints {
		e.log.Info("lint: " + h)
	}
	if !e.log.IsLevelEnabled(logrus.DebugLevel) {
		return
	}
	if in.Mode == session.ModeHTTP && in.HTTP != nil {
		for _, h := range in.HTTP.HeaderLines() {
			e.log.WithFields(logrus.Fields{"name": h.Name, "value": e.red.header(h.Name, h.Value)}).Debug("header")
		}
	}
	for _, p := range req.Params {
		e.log.WithFields(logrus.Fields{"name": p.Name, "value": e.red.param(p.Name, p.Value),
			"origin": p.Origin}).Debug("param")
	}
}
