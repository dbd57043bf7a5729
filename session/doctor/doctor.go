// Package doctor probes a php-fpm pool for the classic configuration traps
// and explains each finding with the line that fixes it; it also reads
// php-fpm's own ping and status pages.
package doctor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// Severity grades a finding.
type Severity int

// Severities, from harmless to broken.
const (
	SeverityOK      Severity = iota // works as it should
	SeverityInfo                    // worth knowing, nothing to fix
	SeverityWarning                 // works, but a trap or a risk
	SeverityError                   // broken: requests fail
)

func (s Severity) String() string {
	switch s {
	case SeverityOK:
		return "ok"
	case SeverityInfo:
		return "info"
	case SeverityWarning:
		return "warning"
	case SeverityError:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// Check names (Finding.Check).
const (
	CheckConnect         = "connect"
	CheckAllowedClients  = "allowed-clients"
	CheckGetValues       = "get-values"
	CheckScript          = "script"
	CheckUnknownScript   = "unknown-script"
	CheckRelativeScript  = "relative-script"
	CheckLimitExtensions = "limit-extensions"
	CheckContentLength   = "content-length"
	CheckPing            = "ping"
	CheckStatus          = "status"
)

// Finding is one result of the doctor.
type Finding struct {
	// Check names the probe (CheckConnect, …).
	Check    string
	Severity Severity
	Title    string
	// Explanation says what the finding means and how to fix it: the
	// nginx line or the pool setting.
	Explanation string
	// Evidence is what was sent and seen: status, stderr, error.
	Evidence string
}

// Report is what the doctor found about one target.
type Report struct {
	Target   string
	Start    time.Time
	Duration time.Duration
	Findings []Finding
}

// Worst returns the highest severity of the findings (SeverityOK if none).
func (r Report) Worst() Severity {
	w := SeverityOK
	for _, f := range r.Findings {
		w = max(w, f.Severity)
	}
	return w
}

// Finding returns the finding of check, if the doctor made one.
func (r Report) Finding(check string) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Check == check {
			return f, true
		}
	}
	return Finding{}, false
}

// Options says where the pool's files are and what to probe.
type Options struct {
	// DocRoot is the document root as php-fpm sees it (an absolute path on
	// php-fpm's machine or container).
	DocRoot string
	// Script is an existing PHP script: a path relative to DocRoot, as in
	// a URL ("index.php" or "/app/index.php"), or an absolute file path
	// inside DocRoot. Empty: "index.php".
	Script string
	// StaticFile is an existing file that is not PHP (e.g. "robots.txt"),
	// relative to DocRoot, for the security.limit_extensions probe. Empty:
	// the doctor looks for a .txt, .html, .css, .js or image file at the
	// top of DocRoot if it can read it; else the probe is skipped.
	StaticFile string
	// PingPath and StatusPath are the pool's ping.path and pm.status_path
	// to try (e.g. "/ping", "/status"); empty skips the probe.
	PingPath, StatusPath string
	// Timeout bounds each probe; default DefaultTimeout.
	Timeout time.Duration
	// HangTimeout bounds the probe that sends a body without
	// CONTENT_LENGTH, which may hang; default DefaultHangTimeout.
	HangTimeout time.Duration
	// Client are the options of the doctor's client (dial timeout, trace);
	// its IdleTimeout is capped by Timeout.
	Client fcgi.Options
}

// Defaults of Options.
const (
	DefaultTimeout     = 5 * time.Second
	DefaultHangTimeout = 2 * time.Second
)

// Messages php-fpm writes on FastCGI stderr.
const (
	fpmScriptUnknown = "Primary script unknown"
	fpmAccessDenied  = "has been denied (see security.limit_extensions)"
	fpmUnableToOpen  = "Unable to open primary script"
)

// probe is the outcome of one doctor request.
type probe struct {
	resp   *fcgi.Response
	err    error
	stdout []byte
	stderr []byte
	http   *session.HTTPResponse
}

// status returns the HTTP status of the answer, 0 without one.
func (p *probe) status() int {
	if p.http == nil {
		return 0
	}
	return p.http.Status
}

func (p *probe) body() string {
	if p.http == nil {
		return ""
	}
	return string(p.http.Body)
}

// silentClose reports a connection closed before any record came back.
func (p *probe) silentClose() bool {
	return errors.Is(p.err, fcgi.ErrConnClosed) && (p.resp == nil || p.resp.Timing.FirstByte == 0 && !p.resp.Ended)
}

// evidence sums the probe up in one line: status, stderr, error.
func (p *probe) evidence(what string) string {
	var parts []string
	if st := p.status(); st != 0 {
		parts = append(parts, "status "+strconv.Itoa(st))
	}
	if b := strings.TrimSpace(p.body()); b != "" {
		parts = append(parts, fmt.Sprintf("body %q", clipText(b, 80)))
	}
	if s := strings.TrimSpace(string(p.stderr)); s != "" {
		parts = append(parts, fmt.Sprintf("stderr %q", clipText(s, 160)))
	}
	if p.err != nil {
		parts = append(parts, "error: "+p.err.Error())
	}
	if len(parts) == 0 {
		parts = append(parts, "no answer")
	}
	return what + ": " + strings.Join(parts, "; ")
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// doctor runs the probes of one Run call.
type doctor struct {
	target string
	opts   Options
	client *fcgi.Client
	rep    *Report
}

func (d *doctor) add(f Finding) { d.rep.Findings = append(d.rep.Findings, f) }

// params returns the CGI variables nginx would send for a GET of
// scriptName with SCRIPT_FILENAME filename.
func (d *doctor) params(method, scriptName, filename string) []fcgi.Pair {
	ps := []fcgi.Pair{
		{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1"},
		{Name: "SERVER_SOFTWARE", Value: session.DefaultServerSoftware},
		{Name: "SERVER_PROTOCOL", Value: session.DefaultServerProtocol},
		{Name: "SERVER_NAME", Value: session.DefaultServerName},
		{Name: "SERVER_ADDR", Value: session.DefaultServerAddr},
		{Name: "SERVER_PORT", Value: "80"},
		{Name: "REMOTE_ADDR", Value: session.DefaultRemoteAddr},
		{Name: "REMOTE_PORT", Value: strconv.Itoa(session.DefaultRemotePort)},
		{Name: "REQUEST_METHOD", Value: method},
		{Name: "REQUEST_URI", Value: scriptName},
		{Name: "DOCUMENT_URI", Value: scriptName},
		{Name: "SCRIPT_NAME", Value: scriptName},
		{Name: "QUERY_STRING", Value: ""},
		{Name: "DOCUMENT_ROOT", Value: d.opts.DocRoot},
		{Name: "REDIRECT_STATUS", Value: "200"},
	}
	if filename != "" {
		ps = append(ps, fcgi.Pair{Name: "SCRIPT_FILENAME", Value: filename})
	}
	return ps
}

// send runs one request bounded by timeout.
func (d *doctor) send(ctx context.Context, timeout time.Duration, params []fcgi.Pair, body []byte) *probe {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := &probe{}
	var stdout, stderr bytes.Buffer
	req := &fcgi.Request{Params: params, Stdout: &stdout, Stderr: &stderr}
	if body != nil {
		req.Stdin = bytes.NewReader(body)
	}
	p.resp, p.err = d.client.Do(ctx, req)
	p.stdout, p.stderr = stdout.Bytes(), stderr.Bytes()
	if len(p.stdout) > 0 {
		p.http, _ = session.ParseCGIResponse(p.stdout)
	}
	return p
}

// scriptPath returns the script's SCRIPT_NAME and absolute SCRIPT_FILENAME.
func (d *doctor) scriptPath(name string) (scriptName, filename string) {
	if path.IsAbs(name) && d.opts.DocRoot != "" && strings.HasPrefix(name, strings.TrimSuffix(d.opts.DocRoot, "/")+"/") {
		rel := strings.TrimPrefix(name, strings.TrimSuffix(d.opts.DocRoot, "/"))
		return rel, name
	}
	rel := "/" + strings.TrimLeft(name, "/")
	return rel, strings.TrimSuffix(d.opts.DocRoot, "/") + rel
}

// Run probes the FastCGI backend at target, which should be php-fpm,
// for the classic configuration traps: nothing listening, a client address
// the pool refuses (listen.allowed_clients), what GET_VALUES answers, a
// script php-fpm cannot find or will not run (SCRIPT_FILENAME,
// security.limit_extensions), how it treats a missing script and a
// relative SCRIPT_FILENAME, a body without CONTENT_LENGTH (bounded, as it
// can hang), and the ping and status pages. Every probe is bounded by the
// options' timeouts and ctx; Run never fails, it reports.
func Run(ctx context.Context, target string, opts Options) Report {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.HangTimeout <= 0 {
		opts.HangTimeout = DefaultHangTimeout
	}
	if opts.Script == "" {
		opts.Script = "index.php"
	}
	copts := opts.Client
	if copts.IdleTimeout <= 0 || copts.IdleTimeout > opts.Timeout {
		copts.IdleTimeout = opts.Timeout
	}
	if copts.AbortWait == 0 {
		copts.AbortWait = 200 * time.Millisecond
	}
	rep := Report{Target: target, Start: time.Now()}
	d := &doctor{target: target, opts: opts, client: fcgi.NewClient(target, fcgi.ClientOptions{Options: copts}), rep: &rep}
	defer d.client.Close()
	d.run(ctx)
	rep.Duration = time.Since(rep.Start)
	return rep
}

func (d *doctor) run(ctx context.Context) {
	if !d.connect(ctx) {
		return
	}
	if !d.getValues(ctx) {
		return
	}
	d.script(ctx)
	d.unknownScript(ctx)
	d.relativeScript(ctx)
	d.limitExtensions(ctx)
	d.contentLength(ctx)
	d.page(ctx, CheckPing, d.opts.PingPath)
	d.page(ctx, CheckStatus, d.opts.StatusPath)
}

// connect dials once; false when nothing can be done.
func (d *doctor) connect(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	copts := d.opts.Client
	c, err := fcgi.Dial(ctx, d.target, copts)
	if err != nil {
		expl := "Nothing accepts connections at this address. Check the pool's `listen =` line (php-fpm -tt prints it) " +
			"and that php-fpm runs; nginx's `fastcgi_pass` must name the same address. For a unix socket, the " +
			"user connecting needs write access: set `listen.owner`, `listen.group` and `listen.mode = 0660` in the pool."
		if errors.Is(err, fcgi.ErrTimeout) {
			expl = "The connection attempt timed out: a firewall drops the packets, or the address is wrong. Check the " +
				"pool's `listen =` line and nginx's `fastcgi_pass`."
		}
		d.add(Finding{Check: CheckConnect, Severity: SeverityError, Title: "cannot connect",
			Explanation: expl, Evidence: err.Error()})
		return false
	}
	c.Close()
	d.add(Finding{Check: CheckConnect, Severity: SeverityOK, Title: "the backend accepts connections",
		Explanation: "A connection to " + d.target + " was accepted.", Evidence: "connected"})
	return true
}

// refused reports the silent close of listen.allowed_clients; p is the
// probe that saw it.
func (d *doctor) refused(what string, evidence string) {
	d.add(Finding{Check: CheckAllowedClients, Severity: SeverityError,
		Title: "the connection is closed without an answer",
		Explanation: "php-fpm accepted the connection and closed it at once, before reading the request or " +
			"writing a single record. That is what it does to a client whose address is not in the pool's " +
			"`listen.allowed_clients` (its log says \"Connection disallowed: IP address '…' has been dropped\"). " +
			"Add the web server's address, e.g. `listen.allowed_clients = 127.0.0.1`, or remove the line to allow " +
			"any client (then protect the port by listening on 127.0.0.1 or a unix socket). A worker crash or " +
			"pm.max_children reached with a full backlog can look alike: check php-fpm's log.",
		Evidence: what + ": " + evidence})
}

func (d *doctor) getValues(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	vals, err := d.client.GetValues(ctx)
	if err != nil {
		if errors.Is(err, fcgi.ErrConnClosed) {
			// GET_VALUES got no answer: a request tells whether the
			// pool refuses this client altogether.
			p := d.send(ctx, d.opts.Timeout, d.params("GET", "/", ""), nil)
			if p.silentClose() {
				d.refused("GET_VALUES and a request", err.Error())
				return false
			}
		}
		d.add(Finding{Check: CheckGetValues, Severity: SeverityWarning, Title: "no answer to GET_VALUES",
			Explanation: "The backend did not answer the GET_VALUES management record. php-fpm and most " +
				"applications do; a web server does not need it, so requests may still work.",
			Evidence: err.Error()})
		return true
	}
	got := map[string]string{}
	var list []string
	for _, p := range vals {
		got[p.Name] = p.Value
		list = append(list, p.Name+"="+p.Value)
	}
	evidence := "GET_VALUES_RESULT: nothing"
	if len(list) > 0 {
		evidence = "GET_VALUES_RESULT: " + strings.Join(list, ", ")
	}
	mpxs, hasMpxs := got[fcgi.ValueMpxsConns]
	_, hasConns := got[fcgi.ValueMaxConns]
	_, hasReqs := got[fcgi.ValueMaxReqs]
	switch {
	case hasMpxs && mpxs == "0" && !hasConns && !hasReqs:
		d.add(Finding{Check: CheckGetValues, Severity: SeverityInfo,
			Title: "GET_VALUES: no multiplexing (FCGI_MPXS_CONNS=0), as php-fpm answers",
			Explanation: "php-fpm answers only FCGI_MPXS_CONNS=0: each connection carries one request at a time, " +
				"and a worker serves one connection. It leaves out FCGI_MAX_CONNS and FCGI_MAX_REQS; its real limit " +
				"is `pm.max_children` in the pool. Keeping connections open (`fastcgi_keep_conn on`) holds a worker each.",
			Evidence: evidence})
	case mpxs == "1":
		d.add(Finding{Check: CheckGetValues, Severity: SeverityInfo,
			Title: "GET_VALUES: the backend multiplexes (FCGI_MPXS_CONNS=1); it is not php-fpm",
			Explanation: "This backend accepts several requests at once on one connection. php-fpm never does; " +
				"the probes below are written for php-fpm and may not apply.",
			Evidence: evidence})
	default:
		d.add(Finding{Check: CheckGetValues, Severity: SeverityInfo, Title: "GET_VALUES answered",
			Explanation: "The backend's own limits, as it states them.", Evidence: evidence})
	}
	return true
}

// fpmDenied reports php-fpm refusing a script because of its extension.
func fpmDenied(p *probe) bool { return bytes.Contains(p.stderr, []byte(fpmAccessDenied)) }

// fpmUnknown reports php-fpm not finding the script.
func fpmUnknown(p *probe) bool { return bytes.Contains(p.stderr, []byte(fpmScriptUnknown)) }

func (d *doctor) script(ctx context.Context) {
	name, filename := d.scriptPath(d.opts.Script)
	p := d.send(ctx, d.opts.Timeout, d.params("GET", name, filename), nil)
	ev := p.evidence("SCRIPT_FILENAME " + filename)
	f := Finding{Check: CheckScript, Evidence: ev}
	switch {
	case p.silentClose():
		d.refused("a request for "+filename, ev)
		return
	case fpmDenied(p):
		f.Severity, f.Title = SeverityError, "php-fpm refuses to run "+path.Base(filename)
		f.Explanation = "php-fpm answered 403 \"Access denied.\" because the script's extension is not in the pool's " +
			"`security.limit_extensions`. Set it to the extensions you serve, normally `security.limit_extensions = .php` " +
			"(the default), and make sure nginx only sends PHP files to php-fpm (`location ~ \\.php$`)."
	case fpmUnknown(p):
		f.Severity, f.Title = SeverityError, "php-fpm cannot find "+filename
		f.Explanation = "php-fpm answered 404 \"File not found.\" and wrote \"Primary script unknown\" on stderr: no " +
			"file exists at SCRIPT_FILENAME as php-fpm sees it. In nginx use `fastcgi_param SCRIPT_FILENAME " +
			"$document_root$fastcgi_script_name;` with the right `root`; when php-fpm runs in another container or a " +
			"chroot (`chroot =` in the pool) the document root must be the path inside it. Unreadable files give the " +
			"same answer: the pool's `user` needs read access to the script and execute access to its directories."
	case bytes.Contains(p.stderr, []byte(fpmUnableToOpen)):
		f.Severity, f.Title = SeverityError, "php-fpm cannot open "+filename
		f.Explanation = "The file exists but php-fpm cannot open it: the pool's `user` lacks read permission on the " +
			"script or execute permission on a directory above it (\"Permission denied\" in the message)."
	case p.err != nil:
		f.Severity, f.Title = SeverityError, "the request for "+path.Base(filename)+" failed"
		f.Explanation = "The request did not complete; see the evidence. A timeout means the script runs longer " +
			"than the doctor waits, or the pool has no free worker (`pm.max_children`)."
	case p.status() >= 500:
		f.Severity, f.Title = SeverityWarning, fmt.Sprintf("%s answers %d", path.Base(filename), p.status())
		f.Explanation = "The script ran but failed. Its error goes to stderr (nginx logs \"FastCGI sent in stderr\") " +
			"unless the pool or php.ini sets `error_log`, `log_errors` or `display_errors` otherwise."
	default:
		f.Severity, f.Title = SeverityOK, fmt.Sprintf("%s runs (status %d)", path.Base(filename), p.status())
		f.Explanation = "php-fpm found the script at SCRIPT_FILENAME and ran it."
	}
	d.add(f)
}

func (d *doctor) unknownScript(ctx context.Context) {
	name := fmt.Sprintf("/fcgiscope-doctor-missing-%d.php", time.Now().UnixNano())
	_, filename := d.scriptPath(name)
	p := d.send(ctx, d.opts.Timeout, d.params("GET", name, filename), nil)
	f := Finding{Check: CheckUnknownScript, Evidence: p.evidence("SCRIPT_FILENAME " + filename)}
	switch {
	case p.status() == 404 && fpmUnknown(p):
		f.Severity, f.Title = SeverityOK, "a missing script gives 404 and \"Primary script unknown\""
		f.Explanation = "This is how php-fpm answers for a file that does not exist, and what nginx logs as " +
			"\"FastCGI sent in stderr: Primary script unknown\". Seen for a file that does exist, it means " +
			"SCRIPT_FILENAME is wrong (see the script check). `try_files $fastcgi_script_name =404;` in nginx's PHP " +
			"location answers missing scripts without asking php-fpm."
	case fpmDenied(p):
		f.Severity, f.Title = SeverityInfo, "a missing .php script is refused before php-fpm looks for it"
		f.Explanation = "php-fpm checked the extension first (security.limit_extensions) and refused .php; see the " +
			"script check."
	case p.status() >= 200 && p.status() < 300:
		f.Severity, f.Title = SeverityWarning, fmt.Sprintf("a script that does not exist answers %d", p.status())
		f.Explanation = "php-fpm answers 404 for a missing SCRIPT_FILENAME. A success here means something routes " +
			"every path to one script (a front controller), or the backend is not php-fpm."
	default:
		f.Severity, f.Title = SeverityInfo, "a missing script is answered differently from php-fpm"
		f.Explanation = "php-fpm answers 404 \"File not found.\" with \"Primary script unknown\" on stderr; this " +
			"backend did something else (see the evidence)."
	}
	d.add(f)
}

func (d *doctor) relativeScript(ctx context.Context) {
	name, filename := d.scriptPath(d.opts.Script)
	rel := strings.TrimLeft(name, "/")
	p := d.send(ctx, d.opts.Timeout, d.params("GET", name, rel), nil)
	f := Finding{Check: CheckRelativeScript, Evidence: p.evidence("SCRIPT_FILENAME " + rel)}
	switch {
	case fpmUnknown(p):
		f.Severity, f.Title = SeverityInfo, "a relative SCRIPT_FILENAME gives \"Primary script unknown\""
		f.Explanation = fmt.Sprintf("php-fpm needs SCRIPT_FILENAME as an absolute path (%s), not %q. The classic "+
			"mistake is `fastcgi_param SCRIPT_FILENAME $fastcgi_script_name;` or a missing `root`: write "+
			"`fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;`.", filename, rel)
	case p.status() >= 200 && p.status() < 400:
		f.Severity, f.Title = SeverityWarning, "a relative SCRIPT_FILENAME works, by accident"
		f.Explanation = fmt.Sprintf("php-fpm resolved %q against its working directory (the pool's `chdir`). It "+
			"breaks as soon as that changes: send the absolute path, `fastcgi_param SCRIPT_FILENAME "+
			"$document_root$fastcgi_script_name;`.", rel)
	default:
		f.Severity, f.Title = SeverityInfo, "a relative SCRIPT_FILENAME does not work"
		f.Explanation = "Always send SCRIPT_FILENAME as an absolute path: `fastcgi_param SCRIPT_FILENAME " +
			"$document_root$fastcgi_script_name;`."
	}
	d.add(f)
}

// staticFile returns the non-PHP file to probe, "" if none.
func (d *doctor) staticFile() string {
	if d.opts.StaticFile != "" {
		return d.opts.StaticFile
	}
	if d.opts.DocRoot == "" {
		return ""
	}
	entries, err := os.ReadDir(d.opts.DocRoot)
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".txt", ".html", ".htm", ".css", ".js", ".png", ".jpg", ".jpeg", ".gif", ".ico", ".svg":
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

func (d *doctor) limitExtensions(ctx context.Context) {
	static := d.staticFile()
	if static == "" {
		d.add(Finding{Check: CheckLimitExtensions, Severity: SeverityInfo,
			Title: "security.limit_extensions not probed",
			Explanation: "Name an existing non-PHP file (a .txt or .html in the document root) to check that " +
				"php-fpm refuses to run it.",
			Evidence: "no static file given or found"})
		return
	}
	name, filename := d.scriptPath(static)
	p := d.send(ctx, d.opts.Timeout, d.params("GET", name, filename), nil)
	f := Finding{Check: CheckLimitExtensions, Evidence: p.evidence("SCRIPT_FILENAME " + filename)}
	switch {
	case fpmDenied(p):
		f.Severity, f.Title = SeverityOK, "php-fpm refuses to run "+path.Base(filename)+" (security.limit_extensions)"
		f.Explanation = "Only the extensions in `security.limit_extensions` run as PHP; php-fpm answered 403 and " +
			"\"Access to the script … has been denied\". This stops an uploaded picture that hides PHP code from " +
			"being run through a path like /uploads/pic.jpg/x.php. Keep `security.limit_extensions = .php`."
	case p.status() >= 200 && p.status() < 300:
		f.Severity, f.Title = SeverityWarning, "php-fpm runs "+path.Base(filename)+" as PHP"
		f.Explanation = "php-fpm executed a file that is not a .php script: `security.limit_extensions` is empty or " +
			"lists its extension. Any uploaded file holding PHP code could then run. Set " +
			"`security.limit_extensions = .php` in the pool, and let nginx serve static files itself."
	case fpmUnknown(p):
		f.Severity, f.Title = SeverityInfo, "the static file was not found"
		f.Explanation = "php-fpm could not find " + filename + "; name a file that exists in the document root."
	default:
		f.Severity, f.Title = SeverityInfo, "a non-PHP file is answered differently from php-fpm"
		f.Explanation = "php-fpm refuses a file whose extension is not in `security.limit_extensions` with 403 and " +
			"\"Access to the script … has been denied\" on stderr; see the evidence."
	}
	d.add(f)
}

func (d *doctor) contentLength(ctx context.Context) {
	name, filename := d.scriptPath(d.opts.Script)
	ps := d.params("POST", name, filename)
	ps = append(ps, fcgi.Pair{Name: "CONTENT_TYPE", Value: "application/x-www-form-urlencoded"})
	body := []byte("probe=fcgiscope&missing=content_length")
	p := d.send(ctx, d.opts.HangTimeout, ps, body)
	f := Finding{Check: CheckContentLength, Evidence: p.evidence(fmt.Sprintf("POST %s with a %d-byte body and no CONTENT_LENGTH", name, len(body)))}
	switch {
	case errors.Is(p.err, fcgi.ErrTimeout):
		f.Severity, f.Title = SeverityWarning, "a body without CONTENT_LENGTH hangs"
		f.Explanation = fmt.Sprintf("No answer within %v. php-fpm reads the body only up to CONTENT_LENGTH; without "+
			"it the request can hang until a timeout. nginx's fastcgi_params sends `fastcgi_param CONTENT_LENGTH "+
			"$content_length;`: keep that include in every PHP location.", d.opts.HangTimeout)
	case p.err == nil && p.resp != nil && p.resp.Ended:
		f.Severity, f.Title = SeverityInfo, "a body without CONTENT_LENGTH is ignored"
		f.Explanation = "php-fpm answered, but PHP reads the body only up to CONTENT_LENGTH: without it, $_POST and " +
			"php://input are empty and the body is silently lost. nginx's fastcgi_params sends `fastcgi_param " +
			"CONTENT_LENGTH $content_length;` (and CONTENT_TYPE): keep that include in every PHP location."
	default:
		f.Severity, f.Title = SeverityInfo, "a body without CONTENT_LENGTH fails"
		f.Explanation = "The request did not complete (see the evidence). Always send CONTENT_LENGTH with a body: " +
			"`fastcgi_param CONTENT_LENGTH $content_length;` from nginx's fastcgi_params."
	}
	d.add(f)
}

// page probes php-fpm's ping or status page at p (skipped when empty).
func (d *doctor) page(ctx context.Context, check, p string) {
	if p == "" {
		return
	}
	setting, want := "ping.path", "pong"
	if check == CheckStatus {
		setting, want = "pm.status_path", "pool:"
	}
	// php-fpm matches both against SCRIPT_NAME; the status page also wants
	// a non-empty SCRIPT_FILENAME.
	_, filename := d.scriptPath(p)
	r := d.send(ctx, d.opts.Timeout, d.params("GET", p, filename), nil)
	f := Finding{Check: check, Evidence: r.evidence("SCRIPT_NAME " + p)}
	if r.status() == 200 && strings.Contains(r.body(), want) {
		f.Severity, f.Title = SeverityOK, fmt.Sprintf("%s answers at %s", setting, p)
		f.Explanation = fmt.Sprintf("php-fpm answers %s itself, without a script. Expose it to monitoring only, e.g. "+
			"`location = %s { allow 127.0.0.1; deny all; include fastcgi_params; fastcgi_param SCRIPT_NAME %s; "+
			"fastcgi_param SCRIPT_FILENAME $document_root%s; fastcgi_pass …; }`.", p, p, p, p)
	} else {
		f.Severity, f.Title = SeverityWarning, fmt.Sprintf("no %s page at %s", setting, p)
		f.Explanation = fmt.Sprintf("php-fpm answers %s only when the pool sets `%s = %s`; without it the request "+
			"is taken for a script. php-fpm compares the value with SCRIPT_NAME, so nginx must send exactly %s.",
			p, setting, p, p)
	}
	d.add(f)
}
