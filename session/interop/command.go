// Package interop moves requests and exchanges in and out of fcgiscope:
// exports as shell commands (cgi-fcgi, fcgiscope send) and as HAR, and
// imports from a cgi-fcgi command line and from nginx's fastcgi_param lines.
package interop

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// WireRequest is a request as it went (or will go) on the wire: what the
// command exports reproduce exactly.
type WireRequest struct {
	Target   string
	Role     fcgi.Role // 0 means RESPONDER
	KeepConn bool
	Params   session.Params
	Body     []byte
	DataFile string // FILTER role: the file sent on DATA
}

// WireRequestOf returns what x sent: target, role, flags, params in order,
// the body as sent on STDIN and the input's data file.
func WireRequestOf(x *session.Exchange) WireRequest {
	return WireRequest{Target: x.Target(), Role: x.Role(), KeepConn: x.KeepConn(),
		Params: x.Params(), Body: bytes.Clone(x.Stdin()), DataFile: x.Input.DataFile}
}

// CGIFCGIProgram is the program the cgi-fcgi export runs.
const CGIFCGIProgram = "cgi-fcgi"

// shellQuote quotes s as one shell word that stands for exactly s: single
// quotes, each single quote inside closing the quotes, escaped with a
// backslash and reopened.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isShellName reports whether s is a shell variable name, safe unquoted.
func isShellName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// envWord returns NAME=VALUE as one shell word for env(1).
func envWord(name, value string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("a param has an empty name, which env cannot pass")
	case strings.ContainsAny(name, "=\x00"):
		return "", fmt.Errorf("param name %q holds '=' or NUL, which an environment variable cannot", name)
	case strings.HasPrefix(name, "-"):
		return "", fmt.Errorf("param name %q starts with '-', which env would take for an option", name)
	case strings.ContainsRune(value, 0):
		return "", fmt.Errorf("param %s holds a NUL byte, which an environment variable cannot", name)
	}
	n := name
	if !isShellName(name) {
		n = shellQuote(name)
	}
	return n + "=" + shellQuote(value), nil
}

// commandBody returns the start of a pipeline that feeds body on standard
// input ("printf '%s' 'body' | ") and the redirection that ends the command
// (" < 'file'"), as opts asks.
func commandBody(body []byte, opts session.ExportOptions) (pipe, redirect string, err error) {
	switch {
	case opts.BodyFile != "":
		return "", " < " + shellQuote(opts.BodyFile), nil
	case len(body) == 0:
		return "", "", nil
	case bytes.IndexByte(body, 0) >= 0:
		return "", "", errors.New("the body holds NUL bytes, which a command line cannot carry: export with a body file")
	}
	return "printf '%s' " + shellQuote(string(body)) + " | ", "", nil
}

// cgiFCGIAddr converts a target to the address cgi-fcgi -connect takes:
// host:port or a socket path.
func cgiFCGIAddr(target string) (string, error) {
	network, addr, err := fcgi.ParseAddr(target)
	if err != nil {
		return "", fmt.Errorf("session: cgi-fcgi export: %w", err)
	}
	if network == "unix" {
		if strings.Contains(addr, ":") {
			return "", fmt.Errorf("session: cgi-fcgi export: socket path %q holds ':', which cgi-fcgi reads as host:port", addr)
		}
		return addr, nil
	}
	if strings.HasPrefix(addr, "[") {
		return "", fmt.Errorf("session: cgi-fcgi export: cgi-fcgi cannot connect to the IPv6 address %s", addr)
	}
	return addr, nil
}

// ExportCGIFCGI returns a shell command that sends r with cgi-fcgi (from
// libfcgi): `env -i NAME='value' … cgi-fcgi -bind -connect ADDR`, the params
// in order, every value single-quoted so that the shell passes it unchanged
// (quotes, $(…), backticks and newlines included). The body is piped in with
// printf, or read from opts.BodyFile. Secret values become session.Redacted unless
// opts.Secrets is set.
//
// cgi-fcgi sends only RESPONDER requests without FCGI_KEEP_CONN, one env
// variable per name (a repeated name keeps its last value), and forwards
// standard input only up to CONTENT_LENGTH: other roles, and a body without
// CONTENT_LENGTH, are refused with an error.
func ExportCGIFCGI(r WireRequest, opts session.ExportOptions) (string, error) {
	if r.Role != 0 && r.Role != fcgi.RoleResponder {
		return "", fmt.Errorf("session: cgi-fcgi export: cgi-fcgi sends only RESPONDER requests, not %s", r.Role)
	}
	addr, err := cgiFCGIAddr(r.Target)
	if err != nil {
		return "", err
	}
	if _, ok := r.Params.Get("CONTENT_LENGTH"); !ok && (len(r.Body) > 0 || opts.BodyFile != "") {
		return "", errors.New("session: cgi-fcgi export: cgi-fcgi sends a body only up to CONTENT_LENGTH, and no CONTENT_LENGTH param is set")
	}
	params := r.Params
	if !opts.Secrets {
		params = session.Redact(params)
	}
	pipe, redirect, err := commandBody(r.Body, opts)
	if err != nil {
		return "", fmt.Errorf("session: cgi-fcgi export: %w", err)
	}
	var b strings.Builder
	b.WriteString(pipe)
	b.WriteString("env -i")
	for _, p := range params {
		w, err := envWord(p.Name, p.Value)
		if err != nil {
			return "", fmt.Errorf("session: cgi-fcgi export: %w", err)
		}
		b.WriteString(" \\\n  ")
		b.WriteString(w)
	}
	b.WriteString(" \\\n  " + CGIFCGIProgram + " -bind -connect " + shellQuote(addr) + redirect + "\n")
	return b.String(), nil
}

// SendProgram is the program the send export runs.
const SendProgram = "fcgiscope"

// ExportSendCommand returns a `fcgiscope send` command that sends r again:
// raw mode, every param with --param in order (so the backend gets exactly
// the same params), the body on --stdin-file (piped in with printf, or from
// opts.BodyFile), role, keep-conn and data file. Values are single-quoted;
// secret values become session.Redacted unless opts.Secrets is set.
func ExportSendCommand(r WireRequest, opts session.ExportOptions) (string, error) {
	if _, _, err := fcgi.ParseAddr(r.Target); err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	params := r.Params
	if !opts.Secrets {
		params = session.Redact(params)
	}
	pipe, _, err := commandBody(r.Body, opts)
	if err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	var b strings.Builder
	b.WriteString(pipe)
	b.WriteString(SendProgram + " send --addr " + shellQuote(r.Target))
	if r.Role != 0 && r.Role != fcgi.RoleResponder {
		b.WriteString(" --role " + shellQuote(session.RoleName(r.Role)))
	}
	if r.KeepConn {
		b.WriteString(" --keep-conn")
	}
	for _, p := range params {
		if p.Name == "" || strings.Contains(p.Name, "=") {
			return "", fmt.Errorf("session: send export: param name %q cannot be written as NAME=VALUE", p.Name)
		}
		b.WriteString(" \\\n  --param " + shellQuote(p.Name+"="+p.Value))
	}
	switch {
	case opts.BodyFile != "":
		b.WriteString(" \\\n  --stdin-file " + shellQuote(opts.BodyFile))
	case len(r.Body) > 0:
		b.WriteString(" \\\n  --stdin-file -")
	}
	if r.DataFile != "" {
		b.WriteString(" \\\n  --data-file " + shellQuote(r.DataFile))
	}
	b.WriteString("\n")
	return b.String(), nil
}

// ExportSendHTTPCommand returns a `fcgiscope send` command in HTTP mode for
// a composed input: --url, --method, --header, --body or --body-file,
// --docroot, --server-name, --server-port, --remote-addr, --https, --profile
// (a web server other than nginx, or a variant), then the
// enabled params as --param, role, keep-conn and data file. It fails for an
// input without HTTP fields, or with fields the command line has no flag
// for (index, split_path, server_addr, server_protocol, server_software,
// front_controller, allow_symlinks, combine_headers): ExportSendCommand
// reproduces any request in raw mode. Secret values become session.Redacted unless
// opts.Secrets is set.
func ExportSendHTTPCommand(in session.Input, opts session.ExportOptions) (string, error) {
	h := in.HTTP
	if h == nil {
		return "", errors.New("session: send export: the input has no HTTP fields")
	}
	if _, _, err := fcgi.ParseAddr(in.Target); err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	var noFlag []string
	for name, set := range map[string]bool{
		"index": h.Index != "" && h.Index != session.DefaultIndex, "split_path": h.SplitPath != "" && h.SplitPath != session.DefaultSplitPath,
		"server_addr": h.ServerAddr != "" && h.ServerAddr != session.DefaultServerAddr, "server_protocol": h.ServerProtocol != "" && h.ServerProtocol != session.DefaultServerProtocol,
		"server_software":  h.ServerSoftware != "" && h.ServerSoftware != session.DefaultServerSoftware,
		"front_controller": h.FrontController, "allow_symlinks": h.AllowSymlinks, "combine_headers": h.CombineHeaders,
	} {
		if set {
			noFlag = append(noFlag, name)
		}
	}
	if len(noFlag) > 0 {
		sort.Strings(noFlag)
		return "", fmt.Errorf("session: send export: %s cannot be given on the command line; export in raw mode", strings.Join(noFlag, ", "))
	}
	params, headers := in.Params, h.HeaderLines()
	if !opts.Secrets {
		params, headers = session.RedactRaw(params), session.RedactHeaders(headers)
	}
	var b strings.Builder
	body := h.Body
	pipe, _, err := commandBody(body, session.ExportOptions{BodyFile: opts.BodyFile})
	if err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	b.WriteString(pipe)
	b.WriteString(SendProgram + " send --addr " + shellQuote(in.Target))
	flag := func(name, value string) { b.WriteString(" \\\n  --" + name + " " + shellQuote(value)) }
	url := h.URL
	if url == "" {
		url = "/"
	}
	flag("url", url)
	method := h.Method
	if method == "" && (len(body) > 0 || h.BodyFile != "" || opts.BodyFile != "") {
		method = "GET" // HTTPInput's default; the command line would pick POST
	}
	if method != "" {
		flag("method", method)
	}
	for _, hd := range headers {
		flag("header", hd.Name+": "+hd.Value)
	}
	switch {
	case opts.BodyFile != "":
		flag("body-file", opts.BodyFile)
	case h.BodyFile != "" && len(body) == 0:
		flag("body-file", h.BodyFile)
	case len(body) > 0:
		b.WriteString(" \\\n  --body-file -")
	}
	if h.DocumentRoot != "" {
		flag("docroot", h.DocumentRoot)
	}
	if h.ServerName != "" {
		flag("server-name", h.ServerName)
	}
	if h.ServerPort != 0 {
		flag("server-port", strconv.Itoa(h.ServerPort))
	}
	if h.RemoteAddr != "" || h.RemotePort != 0 {
		addr := h.RemoteAddr
		if addr == "" {
			addr = session.DefaultRemoteAddr
		}
		if h.RemotePort != 0 {
			addr = net.JoinHostPort(addr, strconv.Itoa(h.RemotePort))
		}
		flag("remote-addr", addr)
	}
	if h.HTTPS {
		b.WriteString(" \\\n  --https")
	}
	if h.Profile != "" && h.Profile != session.ProfileNginx || h.Variant != "" {
		p := h.Profile
		if p == "" {
			p = session.ProfileNginx
		}
		if h.Variant != "" {
			p += "/" + h.Variant
		}
		flag("profile", p)
	}
	if in.Role != 0 && in.Role != fcgi.RoleResponder {
		flag("role", session.RoleName(in.Role))
	}
	if in.KeepConn {
		b.WriteString(" \\\n  --keep-conn")
	}
	for _, p := range params {
		if !p.Enabled {
			continue
		}
		if p.Name == "" || strings.Contains(p.Name, "=") {
			return "", fmt.Errorf("session: send export: param name %q cannot be written as NAME=VALUE", p.Name)
		}
		flag("param", p.Name+"="+p.Value)
	}
	if in.DataFile != "" {
		flag("data-file", in.DataFile)
	}
	b.WriteString("\n")
	return b.String(), nil
}
