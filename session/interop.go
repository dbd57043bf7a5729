// Interop: Exchange files, nginx fastcgi_param and cgi-fcgi imports, and
// exports as shell commands and HAR.

package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// ExportOptions are the choices every export offers.
type ExportOptions struct {
	// Secrets keeps secret values (IsSecretParam, IsSecretHeader) as they
	// are; by default they are replaced by Redacted.
	Secrets bool
	// BodyFile, for command exports: read the body from this file
	// (`< file`) instead of writing it into the command.
	BodyFile string
}

// Exchange files.

// exchangeFileKind and exchangeFileFormat identify an Exchange file.
const (
	exchangeFileKind   = "fcgiscope-exchange"
	exchangeFileFormat = 1
)

// exchangeFile is the content of an Exchange file: a small envelope around
// the Exchange's own JSON (Exchange.MarshalJSON).
type exchangeFile struct {
	Kind     string          `json:"kind"`
	Format   int             `json:"format"`
	Redacted bool            `json:"redacted,omitempty"`
	Exchange json.RawMessage `json:"exchange"`
}

// encodeExchangeFile returns the bytes of an Exchange file for x, with
// secrets redacted unless secrets is set.
func encodeExchangeFile(x *Exchange, secrets bool) ([]byte, error) {
	xb, err := x.MarshalJSON()
	if err != nil {
		return nil, err
	}
	if !secrets {
		if xb, err = redactExchangeJSON(xb); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(exchangeFile{Kind: exchangeFileKind, Format: exchangeFileFormat, Redacted: !secrets, Exchange: xb})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeExchangeFile parses the bytes of an Exchange file.
func decodeExchangeFile(b []byte) (*Exchange, error) {
	var f exchangeFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not an exchange file: %w", err)
	}
	if f.Kind != exchangeFileKind {
		return nil, fmt.Errorf("not an exchange file (kind %q, want %q)", f.Kind, exchangeFileKind)
	}
	if f.Format > exchangeFileFormat {
		return nil, fmt.Errorf("format %d is newer than this fcgiscope reads (%d); update fcgiscope", f.Format, exchangeFileFormat)
	}
	if f.Format < 1 {
		return nil, fmt.Errorf("format %d is not valid", f.Format)
	}
	if len(f.Exchange) == 0 || string(f.Exchange) == "null" {
		return nil, errors.New("no exchange in the file")
	}
	x := &Exchange{}
	if err := x.UnmarshalJSON(f.Exchange); err != nil {
		return nil, err
	}
	return x, nil
}

// SaveExchangeFile writes x to path as an Exchange file (JSON, everything
// the Exchange holds, raw bytes included), atomically. Secret values are
// redacted unless opts.Secrets is set: in the params, the composed input and
// the parsed response they become Redacted; in the raw PARAMS records and the
// response header block their bytes become '*', so that every record keeps
// its length and offsets. Bodies are never redacted.
func SaveExchangeFile(path string, x *Exchange, opts ExportOptions) error {
	b, err := encodeExchangeFile(x, opts.Secrets)
	if err != nil {
		return fmt.Errorf("session: exchange file %s: %w", path, err)
	}
	return WriteFileAtomic(path, b, 0o600)
}

// LoadExchangeFile reads an Exchange file written by SaveExchangeFile (or
// kept by History), so that an exchange can be inspected offline. A damaged
// file gives an error naming it.
func LoadExchangeFile(path string) (*Exchange, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("session: exchange file: %w", err)
	}
	x, err := decodeExchangeFile(b)
	if err != nil {
		return nil, fmt.Errorf("session: exchange file %s: %w", path, err)
	}
	return x, nil
}

// redactExchangeJSON redacts secrets in the output of Exchange.MarshalJSON.
func redactExchangeJSON(b []byte) ([]byte, error) {
	var v exchangeJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	v.Input = redactInput(v.Input)
	v.Params = Redact(v.Params)
	maskParamRecords(&v)
	if v.Response != nil {
		v.Response.Headers = RedactHeaders(v.Response.Headers)
		if hl := v.Response.HeaderLen; hl <= len(v.Received.Stdout) {
			maskHeaderBlock(v.Received.Stdout[:hl])
		}
	}
	return json.Marshal(v)
}

// maskParamRecords overwrites with '*' the value bytes of secret params in
// the PARAMS records sent for the exchange's request, following pairs that
// straddle records.
func maskParamRecords(v *exchangeJSON) {
	type seg struct{ off, n int } // content bytes in Sent.Frame
	var segs []seg
	var joined []byte
	frame := v.Sent.Frame
	for _, r := range v.Records {
		if r.Dir != "sent" || r.Type != fcgi.TypeParams || r.RequestID != v.RequestID || r.Truncated || r.Partial ||
			r.Stream != "" || r.FrameLen != fcgi.HeaderLen+int(r.ContentLength)+int(r.PaddingLength) ||
			!inRange(r.FrameOff, r.FrameLen, len(frame)) {
			continue
		}
		off := r.FrameOff + fcgi.HeaderLen
		segs = append(segs, seg{off, int(r.ContentLength)})
		joined = append(joined, frame[off:off+int(r.ContentLength)]...)
	}
	mask := func(from, to int) { // joined offsets
		pos := 0
		for _, s := range segs {
			for i := max(from, pos); i < min(to, pos+s.n); i++ {
				frame[s.off+i-pos] = '*'
			}
			pos += s.n
		}
	}
	for pos := 0; pos < len(joined); {
		nl, s1, ok := fcgi.ParsePairLen(joined[pos:])
		if !ok {
			return
		}
		vl, s2, ok := fcgi.ParsePairLen(joined[pos+s1:])
		if !ok {
			return
		}
		name := pos + s1 + s2
		if nl > len(joined)-name || vl > len(joined)-name-nl {
			return
		}
		if IsSecretParam(string(joined[name : name+nl])) {
			mask(name+nl, name+nl+vl)
		}
		pos = name + nl + vl
	}
}

// maskHeaderBlock overwrites with '*' the values of secret header lines in a
// CGI header block.
func maskHeaderBlock(block []byte) {
	for line := range bytes.Lines(block) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || !IsSecretHeader(string(name)) {
			continue
		}
		value := line[len(name)+1:]
		value = bytes.TrimRight(value, "\r\n")
		start := len(value) - len(bytes.TrimLeft(value, " \t"))
		for i := start; i < len(value); i++ {
			value[i] = '*'
		}
	}
}

// Command exports and imports.

// WireRequest is a request as it went (or will go) on the wire: what the
// command exports reproduce exactly.
type WireRequest struct {
	Target   string
	Role     fcgi.Role // 0 means RESPONDER
	KeepConn bool
	Params   Params
	Body     []byte
	DataFile string // FILTER role: the file sent on DATA
}

// WireRequestOf returns what x sent: target, role, flags, params in order,
// the body as sent on STDIN and the input's data file.
func WireRequestOf(x *Exchange) WireRequest {
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
func commandBody(body []byte, opts ExportOptions) (pipe, redirect string, err error) {
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
// printf, or read from opts.BodyFile. Secret values are Redacted unless
// opts.Secrets is set.
//
// cgi-fcgi sends only RESPONDER requests without FCGI_KEEP_CONN, one env
// variable per name (a repeated name keeps its last value), and forwards
// standard input only up to CONTENT_LENGTH: other roles, and a body without
// CONTENT_LENGTH, are refused with an error.
func ExportCGIFCGI(r WireRequest, opts ExportOptions) (string, error) {
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
		params = Redact(params)
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
// secret values are Redacted unless opts.Secrets is set.
func ExportSendCommand(r WireRequest, opts ExportOptions) (string, error) {
	if _, _, err := fcgi.ParseAddr(r.Target); err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	params := r.Params
	if !opts.Secrets {
		params = Redact(params)
	}
	pipe, _, err := commandBody(r.Body, opts)
	if err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	var b strings.Builder
	b.WriteString(pipe)
	b.WriteString(SendProgram + " send --addr " + shellQuote(r.Target))
	if r.Role != 0 && r.Role != fcgi.RoleResponder {
		b.WriteString(" --role " + shellQuote(roleName(r.Role)))
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

// roleName returns the lower-case name of a role, or its number.
func roleName(r fcgi.Role) string {
	switch r {
	case fcgi.RoleResponder:
		return "responder"
	case fcgi.RoleAuthorizer:
		return "authorizer"
	case fcgi.RoleFilter:
		return "filter"
	}
	return fmt.Sprint(uint16(r))
}

// CommandImport is what ImportCGIFCGI read from a shell command.
type CommandImport struct {
	// Target is the -connect address, as fcgi.ParseAddr accepts it.
	Target string
	// Params are the environment variables cgi-fcgi receives, in order.
	Params []RawParam
	// Body is the standard input piped in by printf or echo; BodyFile the
	// file redirected (< file) or cat'ed in.
	Body     []byte
	BodyFile string
	// ClearEnv: the command used env -i, so cgi-fcgi receives exactly
	// Params. Without it cgi-fcgi would also pass the shell's environment.
	ClearEnv bool
	// Warnings say what was not understood or not expanded.
	Warnings []string
}

// shWord is one shell word after quote removal.
type shWord struct {
	text string
	// assign is the index of '=' when the word is an assignment (an
	// unquoted name, then '='), else -1.
	assign int
	// expand: the word held $ or ` outside single quotes, which the
	// import keeps literally instead of expanding.
	expand bool
}

// shCmd is a simple command: words and an input redirection.
type shCmd struct {
	words []shWord
	stdin string // < file
}

// shPipeline is commands joined by |.
type shPipeline []shCmd

// shParse splits a shell script into pipelines, following POSIX quoting:
// '…' literal, "…" with \ escaping $ ` " \ and newline, \ outside quotes,
// line continuations and comments. It expands nothing and runs nothing.
func shParse(s string) ([]shPipeline, []string, error) {
	var (
		out      []shPipeline
		warnings []string
		pipe     shPipeline
		cmd      shCmd
		redirect string // "<" or ">" waiting for its word
	)
	endCmd := func() error {
		if redirect != "" {
			return fmt.Errorf("%s without a file", redirect)
		}
		if len(cmd.words) > 0 || cmd.stdin != "" {
			pipe = append(pipe, cmd)
		}
		cmd = shCmd{}
		return nil
	}
	endPipe := func() error {
		if err := endCmd(); err != nil {
			return err
		}
		if len(pipe) > 0 {
			out = append(out, pipe)
		}
		pipe = nil
		return nil
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
			continue
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '\n' || c == ';':
			if err := endPipe(); err != nil {
				return nil, nil, err
			}
			i++
			continue
		case c == '&' || c == '|':
			if i+1 < len(s) && s[i+1] == c { // && or ||
				if err := endPipe(); err != nil {
					return nil, nil, err
				}
				i += 2
				continue
			}
			if c == '&' {
				warnings = append(warnings, "'&' (background) read as ';'")
				if err := endPipe(); err != nil {
					return nil, nil, err
				}
			} else {
				if len(cmd.words) == 0 {
					return nil, nil, fmt.Errorf("'|' at byte %d follows no command", i)
				}
				if err := endCmd(); err != nil {
					return nil, nil, err
				}
			}
			i++
			continue
		case c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '<' && c == '<' {
				return nil, nil, fmt.Errorf("here-documents (<<) are not supported (byte %d)", i)
			}
			if redirect != "" {
				return nil, nil, fmt.Errorf("%c at byte %d follows %s", c, i, redirect)
			}
			redirect = string(c)
			i++
			if i < len(s) && (s[i] == '>' || s[i] == '&' || s[i] == '|') {
				i++
			}
			continue
		case c == '(' || c == ')':
			return nil, nil, fmt.Errorf("sub-shells and groups are not supported (byte %d)", i)
		}
		w, n, err := shReadWord(s[i:])
		if err != nil {
			return nil, nil, fmt.Errorf("at byte %d: %w", i, err)
		}
		i += n
		switch redirect {
		case "<":
			cmd.stdin, redirect = w.text, ""
		case ">":
			warnings = append(warnings, fmt.Sprintf("output redirection to %q ignored", w.text))
			redirect = ""
		default:
			cmd.words = append(cmd.words, w)
		}
	}
	if err := endPipe(); err != nil {
		return nil, nil, err
	}
	return out, warnings, nil
}

// shReadWord reads one word at the start of s and returns it with the bytes
// it took.
func shReadWord(s string) (shWord, int, error) {
	var b strings.Builder
	w := shWord{assign: -1}
	quoted := -1 // index in b of the first quoted byte
	markQuoted := func() {
		if quoted < 0 {
			quoted = b.Len()
		}
	}
	i := 0
loop:
	for i < len(s) {
		c := s[i]
		switch c {
		case ' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')':
			break loop
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return w, 0, errors.New("unterminated '")
			}
			markQuoted()
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '"':
			markQuoted()
			i++
			for {
				if i >= len(s) {
					return w, 0, errors.New(`unterminated "`)
				}
				d := s[i]
				if d == '"' {
					i++
					break
				}
				if d == '\\' && i+1 < len(s) {
					switch s[i+1] {
					case '$', '`', '"', '\\':
						b.WriteByte(s[i+1])
						i += 2
						continue
					case '\n':
						i += 2
						continue
					}
				}
				if d == '$' || d == '`' {
					w.expand = true
				}
				b.WriteByte(d)
				i++
			}
		case '\\':
			if i+1 >= len(s) {
				i++
				continue
			}
			if s[i+1] == '\n' {
				i += 2
				continue
			}
			markQuoted()
			b.WriteByte(s[i+1])
			i += 2
		default:
			if c == '$' || c == '`' {
				w.expand = true
			}
			b.WriteByte(c)
			i++
		}
	}
	w.text = b.String()
	if eq := strings.IndexByte(w.text, '='); eq > 0 && (quoted < 0 || eq < quoted) && isShellName(w.text[:eq]) {
		w.assign = eq
	}
	return w, i, nil
}

// ImportCGIFCGI reads a shell command that runs cgi-fcgi — such as
// `REQUEST_METHOD=GET SCRIPT_FILENAME=/srv/a.php cgi-fcgi -bind -connect
// 127.0.0.1:9000`, with an env [-i] prefix, export lines before it, line
// continuations, '…' and "…" quoting and backslashes, and a body piped in by
// printf or echo or redirected from a file — and returns the target and the
// environment cgi-fcgi would receive, as params. Nothing is executed: $VAR,
// $(…) and backticks are kept as written, with a warning.
func ImportCGIFCGI(command string) (CommandImport, error) {
	var res CommandImport
	pipes, warnings, err := shParse(command)
	if err != nil {
		return res, fmt.Errorf("session: cgi-fcgi import: %w", err)
	}
	res.Warnings = warnings
	add := func(w shWord, eq int) {
		name, value := w.text[:eq], w.text[eq+1:]
		if w.expand {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: $ and ` are kept as written, not expanded", name))
		}
		res.Params = append(res.Params, RawParam{Name: name, Value: value, Enabled: true})
	}
	found := false
	for _, p := range pipes {
		last := p[len(p)-1]
		words := last.words
		// Leading assignments: the command's own environment.
		k := 0
		for k < len(words) && words[k].assign >= 0 {
			k++
		}
		if k < len(words) && words[k].text == "exec" {
			k++
		}
		rest := words[k:]
		if len(rest) == 0 || !isProgram(rest[0].text, "env") && !isProgram(rest[0].text, CGIFCGIProgram) {
			switch {
			case len(rest) == 0:
				res.Warnings = append(res.Warnings, "assignments without export are shell variables, not passed to cgi-fcgi; imported anyway")
				for _, w := range words {
					add(w, w.assign)
				}
			case rest[0].text == "export" && k == 0:
				for _, w := range rest[1:] {
					if eq := strings.IndexByte(w.text, '='); eq > 0 {
						add(w, eq)
					} else {
						res.Warnings = append(res.Warnings, fmt.Sprintf("export %s: no value, ignored", w.text))
					}
				}
			default:
				res.Warnings = append(res.Warnings, fmt.Sprintf("command %q ignored", rest[0].text))
			}
			continue
		}
		if found {
			return res, errors.New("session: cgi-fcgi import: more than one cgi-fcgi command")
		}
		found = true
		for _, w := range words[:k] {
			if w.assign >= 0 {
				add(w, w.assign)
			}
		}
		if isProgram(rest[0].text, "env") {
			j := 1
			for ; j < len(rest); j++ {
				t := rest[j].text
				if t == "-i" || t == "-" || t == "--ignore-environment" {
					res.ClearEnv = true
					res.Params = nil // env -i drops what came before
					continue
				}
				if t == "-u" && j+1 < len(rest) {
					j++
					res.Params = slicesDeleteParam(res.Params, rest[j].text)
					continue
				}
				if t == "--" {
					continue
				}
				if strings.HasPrefix(t, "-") {
					return res, fmt.Errorf("session: cgi-fcgi import: env option %q is not supported", t)
				}
				if eq := strings.IndexByte(t, '='); eq > 0 {
					add(rest[j], eq)
					continue
				}
				break
			}
			rest = rest[j:]
			if len(rest) == 0 || !isProgram(rest[0].text, CGIFCGIProgram) {
				return res, errors.New("session: cgi-fcgi import: env runs no cgi-fcgi")
			}
		}
		for j := 1; j < len(rest); j++ {
			switch t := rest[j].text; t {
			case "-bind", "-start":
			case "-connect":
				if j+1 >= len(rest) {
					return res, errors.New("session: cgi-fcgi import: -connect without an address")
				}
				j++
				res.Target = cgiFCGITarget(rest[j].text)
			default:
				res.Warnings = append(res.Warnings, fmt.Sprintf("cgi-fcgi argument %q ignored", t))
			}
		}
		if last.stdin != "" {
			res.BodyFile = last.stdin
		}
		if len(p) > 1 {
			if len(p) > 2 {
				res.Warnings = append(res.Warnings, "only the command right before cgi-fcgi is read for the body")
			}
			if err := pipedBody(p[len(p)-2], &res); err != nil {
				return res, fmt.Errorf("session: cgi-fcgi import: %w", err)
			}
		}
	}
	if !found {
		return res, errors.New("session: cgi-fcgi import: no cgi-fcgi command found")
	}
	if res.Target == "" {
		return res, errors.New("session: cgi-fcgi import: cgi-fcgi has no -connect address")
	}
	if !res.ClearEnv {
		res.Warnings = append(res.Warnings, "without env -i, cgi-fcgi also passes the shell's whole environment; only the variables written in the command were imported")
	}
	return res, nil
}

// pipedBody reads the body from the command piped into cgi-fcgi.
func pipedBody(c shCmd, res *CommandImport) error {
	ws := c.words
	if len(ws) == 0 {
		return errors.New("empty command before |")
	}
	for _, w := range ws[1:] {
		if w.expand {
			res.Warnings = append(res.Warnings, "body: $ and ` are kept as written, not expanded")
			break
		}
	}
	switch {
	case ws[0].text == "printf" && len(ws) == 3 && ws[1].text == "%s":
		res.Body = []byte(ws[2].text)
	case ws[0].text == "printf" && len(ws) == 2 && !strings.ContainsAny(ws[1].text, `%\`):
		res.Body = []byte(ws[1].text)
	case ws[0].text == "echo" && len(ws) >= 2 && ws[1].text == "-n":
		res.Body = []byte(joinWords(ws[2:]))
	case ws[0].text == "echo":
		res.Body = []byte(joinWords(ws[1:]) + "\n")
	case ws[0].text == "cat" && len(ws) == 2:
		res.BodyFile = ws[1].text
	case ws[0].text == "cat" && len(ws) == 1 && c.stdin != "":
		res.BodyFile = c.stdin
	default:
		res.Warnings = append(res.Warnings, fmt.Sprintf("body from %q not understood; no body imported", ws[0].text))
	}
	return nil
}

func joinWords(ws []shWord) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = w.text
	}
	return strings.Join(s, " ")
}

// isProgram reports whether word runs the program name (possibly by path).
func isProgram(word, name string) bool {
	return word == name || strings.HasSuffix(word, "/"+name)
}

func slicesDeleteParam(ps []RawParam, name string) []RawParam {
	out := ps[:0]
	for _, p := range ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// cgiFCGITarget converts a cgi-fcgi -connect address to a target:
// "host:port" stays, ":port" means localhost, anything else is a socket path.
func cgiFCGITarget(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		if port := addr[i+1:]; port != "" && strings.Trim(port, "0123456789") == "" {
			if i == 0 {
				return "localhost" + addr
			}
			return addr
		}
	}
	if strings.HasPrefix(addr, "/") {
		return addr
	}
	return "unix:" + addr
}

// nginx fastcgi_param import.

// NginxImport is what ImportNginxParams read.
type NginxImport struct {
	// Params are the fastcgi_param lines in order. A line marked
	// if_not_empty whose value came out empty is kept disabled, as nginx
	// does not send it.
	Params []RawParam
	// Target is the address of a fastcgi_pass line, "" if none.
	Target string
	// Unresolved lists the variables that could not be resolved, "$name",
	// each once, in order; they stay in the values as written.
	Unresolved []string
	// Warnings say what was skipped or guessed.
	Warnings []string
}

// nginxToken is one token of an nginx configuration.
type nginxToken struct {
	text string
	line int
	// end is ";", "{" or "}" for the token that ends a directive or block
	// (text is then empty).
	end string
}

// nginxTokens splits an nginx configuration into tokens as nginx's
// ngx_conf_read_token does: whitespace separates, # starts a comment at the
// start of a token, "…" and '…' quote, a backslash makes the next character
// ordinary, and \" \' \\ \t \r \n are unescaped (any other backslash
// stays); ; and { end a token (but not "${"), and ; { } at the start of one
// end a directive or a block.
func nginxTokens(conf string) ([]nginxToken, error) {
	var out []nginxToken
	line := 1
	i := 0
	for i < len(conf) {
		c := conf[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '#':
			for i < len(conf) && conf[i] != '\n' {
				i++
			}
			continue
		case c == ';' || c == '{' || c == '}':
			out = append(out, nginxToken{end: string(c), line: line})
			i++
			continue
		}
		startLine := line
		var raw []byte
		if c == '"' || c == '\'' {
			i++
			for {
				if i >= len(conf) {
					return nil, fmt.Errorf("line %d: unterminated %c", startLine, c)
				}
				d := conf[i]
				if d == '\\' && i+1 < len(conf) {
					raw = append(raw, d, conf[i+1])
					if conf[i+1] == '\n' {
						line++
					}
					i += 2
					continue
				}
				if d == c {
					i++
					break
				}
				if d == '\n' {
					line++
				}
				raw = append(raw, d)
				i++
			}
		} else {
			for i < len(conf) {
				d := conf[i]
				if d == '\\' && i+1 < len(conf) {
					raw = append(raw, d, conf[i+1])
					i += 2
					continue
				}
				// "${" does not end a token: it starts a variable.
				if d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == ';' || d == '{' && (len(raw) == 0 || raw[len(raw)-1] != '$') {
					break
				}
				raw = append(raw, d)
				i++
			}
		}
		out = append(out, nginxToken{text: nginxUnescape(raw), line: startLine})
	}
	return out, nil
}

// nginxUnescape applies nginx's escapes to a token's bytes.
func nginxUnescape(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			switch raw[i+1] {
			case '"', '\'', '\\':
				b.WriteByte(raw[i+1])
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// nginxParamVars maps nginx variables to the params HTTP mode sets with the
// same value.
var nginxParamVars = map[string]string{
	"request_method":      "REQUEST_METHOD",
	"query_string":        "QUERY_STRING",
	"args":                "QUERY_STRING",
	"request_uri":         "REQUEST_URI",
	"document_uri":        "DOCUMENT_URI",
	"uri":                 "DOCUMENT_URI",
	"document_root":       "DOCUMENT_ROOT",
	"fastcgi_script_name": "SCRIPT_NAME",
	"fastcgi_path_info":   "PATH_INFO",
	"server_protocol":     "SERVER_PROTOCOL",
	"request_scheme":      "REQUEST_SCHEME",
	"scheme":              "REQUEST_SCHEME",
	"https":               "HTTPS",
	"remote_addr":         "REMOTE_ADDR",
	"remote_port":         "REMOTE_PORT",
	"remote_user":         "REMOTE_USER",
	"server_addr":         "SERVER_ADDR",
	"server_port":         "SERVER_PORT",
	"server_name":         "SERVER_NAME",
	"content_type":        "CONTENT_TYPE",
	"content_length":      "CONTENT_LENGTH",
	"host":                "HTTP_HOST", // Debian's fastcgi_params sends $host as HTTP_HOST
}

// nginxResolver gives the values of nginx variables for one request.
type nginxResolver struct {
	params  Params            // what HTTP mode sends
	headers map[string]string // $http_*: lower-case name with _ for -, lines joined
	routed  bool              // the router ran: script name, path info, root are known
	// software is the input's SERVER_SOFTWARE, which gives $nginx_version
	// when it is "nginx/VERSION".
	software string
}

func newNginxResolver(from *HTTPInput) (*nginxResolver, []string) {
	r := &nginxResolver{headers: map[string]string{}}
	if from == nil {
		return r, nil
	}
	var warnings []string
	r.software = from.ServerSoftware
	params, err := PreviewHTTP(context.Background(), *from)
	if err == nil {
		r.params, r.routed = params, true
	} else {
		warnings = append(warnings, fmt.Sprintf("the request does not route (%v): $document_root, $fastcgi_script_name and $fastcgi_path_info stay unresolved", err))
		req, err2 := runChain(context.Background(), Chain(CGIBasics(*from), Remote(*from), Headers(*from)))
		if err2 != nil {
			warnings = append(warnings, fmt.Sprintf("the request cannot be mapped (%v): no variable resolved", err2))
			return r, warnings
		}
		r.params = req.Params
	}
	if hs, err := from.WireHeaders(); err == nil {
		for _, h := range hs {
			k := strings.ToLower(strings.ReplaceAll(h.Name, "-", "_"))
			sep := ", "
			if k == "cookie" {
				sep = "; "
			}
			if old, ok := r.headers[k]; ok {
				r.headers[k] = old + sep + h.Value
			} else {
				r.headers[k] = h.Value
			}
		}
	}
	return r, warnings
}

// lookup returns the value of variable name.
func (r *nginxResolver) lookup(name string) (string, bool) {
	if r.params == nil {
		return "", false
	}
	switch name {
	case "nginx_version":
		if v, ok := strings.CutPrefix(r.software, "nginx/"); ok {
			return v, true
		}
		return strings.TrimPrefix(NginxServerSoftware, "nginx/"), true
	case "is_args":
		if q, _ := r.params.Get("QUERY_STRING"); q != "" {
			return "?", true
		}
		return "", true
	case "realpath_root":
		root, ok := r.params.Get("DOCUMENT_ROOT")
		if !ok || !r.routed {
			return "", false
		}
		if real, err := filepath.EvalSymlinks(root); err == nil {
			return real, true
		}
		return root, true
	}
	if h, ok := strings.CutPrefix(name, "http_"); ok {
		v, ok := r.headers[h]
		return v, ok || r.params != nil // an absent header is empty
	}
	p, ok := nginxParamVars[name]
	if !ok {
		return "", false
	}
	if !r.routed && (p == "DOCUMENT_ROOT" || p == "SCRIPT_NAME" || p == "PATH_INFO") {
		return "", false
	}
	v, _ := r.params.Get(p) // nginx gives an empty value for what is not set
	return v, true
}

// expandNginx substitutes $name and ${name} in s; unknown variables stay as
// written and are returned.
func (r *nginxResolver) expand(s string) (string, []string) {
	var b strings.Builder
	var unknown []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		j, braced := i+1, false
		if j < len(s) && s[j] == '{' {
			j, braced = j+1, true
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k == j || braced && (k >= len(s) || s[k] != '}') {
			b.WriteByte('$') // not a variable: kept
			continue
		}
		name := strings.ToLower(s[j:k])
		end := k
		if braced {
			end++
		}
		if v, ok := r.lookup(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i:end])
			unknown = append(unknown, "$"+name)
		}
		i = end - 1
	}
	return b.String(), unknown
}

// ImportNginxParams reads nginx configuration text — a fastcgi_params file,
// or a location block — and returns its `fastcgi_param NAME VALUE
// [if_not_empty];` lines as params, in order, with the variables resolved
// for the request from: $request_method, $query_string, $args, $is_args,
// $request_uri, $document_uri, $uri, $document_root, $realpath_root,
// $fastcgi_script_name, $fastcgi_path_info, $server_protocol,
// $request_scheme, $scheme, $https, $remote_addr, $remote_port,
// $remote_user, $server_addr, $server_port, $server_name, $host,
// $content_type, $content_length and $http_NAME take the values HTTP mode
// maps from (see HTTPInput); $nginx_version is the version of the input's
// server software when it is "nginx/VERSION", else that of
// NginxServerSoftware. nginx itself then adds the request headers as HTTP_*
// params (fastcgi_pass_request_headers), which the import does not. Any other variable, or every
// variable when from is nil, stays as written and is listed in Unresolved.
// A fastcgi_pass line gives the Target; other directives are skipped with a
// warning.
func ImportNginxParams(conf string, from *HTTPInput) (NginxImport, error) {
	var res NginxImport
	toks, err := nginxTokens(conf)
	if err != nil {
		return res, fmt.Errorf("session: nginx import: %w", err)
	}
	r, warnings := newNginxResolver(from)
	res.Warnings = warnings
	seen := map[string]bool{}
	var args []nginxToken
	for _, t := range toks {
		if t.end == "" {
			args = append(args, t)
			continue
		}
		if len(args) == 0 {
			continue
		}
		name, line := args[0].text, args[0].line
		switch {
		case t.end == "{":
			// A block: its directives follow; nothing to do with its name.
		case name == "fastcgi_param":
			if len(args) != 3 && len(args) != 4 || len(args) == 4 && args[3].text != "if_not_empty" {
				return res, fmt.Errorf("session: nginx import: line %d: want fastcgi_param NAME VALUE [if_not_empty];", line)
			}
			value, unknown := r.expand(args[2].text)
			for _, u := range unknown {
				if !seen[u] {
					seen[u] = true
					res.Unresolved = append(res.Unresolved, u)
				}
			}
			enabled := len(args) == 3 || value != ""
			res.Params = append(res.Params, RawParam{Name: args[1].text, Value: value, Enabled: enabled})
		case name == "fastcgi_pass" && len(args) == 2:
			res.Target = args[1].text
			if _, _, err := fcgi.ParseAddr(res.Target); err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("line %d: fastcgi_pass %s is not an address fcgiscope can connect to (an upstream name?)", line, res.Target))
			}
		default:
			res.Warnings = append(res.Warnings, fmt.Sprintf("line %d: %s skipped", line, name))
		}
		args = nil
	}
	if len(args) > 0 {
		return res, fmt.Errorf("session: nginx import: line %d: %s has no ending ';'", args[0].line, args[0].text)
	}
	return res, nil
}

// HAR export.

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the parts an
// Exchange fills. Optional fields fcgiscope cannot know are left out or -1.
type harLog struct {
	Log harContent `json:"log"`
}

type harContent struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Entries []harEntry `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	ServerIPAddress string      `json:"serverIPAddress,omitempty"`
	Comment         string      `json:"comment,omitempty"`
	// FastCGI is fcgiscope's own view, as HAR allows for fields starting
	// with an underscore.
	FastCGI harFastCGI `json:"_fastcgi"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harNV      `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

type harPostData struct {
	MimeType string  `json:"mimeType"`
	Params   []harNV `json:"params"`
	Text     string  `json:"text"`
	Encoding string  `json:"_encoding,omitempty"` // base64 for a body that is not UTF-8
}

type harResponse struct {
	Status      int     `json:"status"`
	StatusText  string  `json:"statusText"`
	HTTPVersion string  `json:"httpVersion"`
	Cookies     []harNV `json:"cookies"`
	Headers     []harNV `json:"headers"`
	Content     harBody `json:"content"`
	RedirectURL string  `json:"redirectURL"`
	HeadersSize int     `json:"headersSize"`
	BodySize    int     `json:"bodySize"`
	Comment     string  `json:"comment,omitempty"`
}

type harBody struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

type harFastCGI struct {
	Target     string     `json:"target"`
	Role       string     `json:"role"`
	RequestID  uint16     `json:"requestId"`
	Params     []harNV    `json:"params"`
	EndRequest *EndStatus `json:"endRequest,omitempty"`
	Stderr     string     `json:"stderr,omitempty"`
	Warnings   []string   `json:"warnings,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// ExportHAR returns x as a HAR 1.2 log with one entry: the HTTP view of the
// exchange. The request (method, URL, headers, query string, post data)
// comes from the input's HTTP fields, or from the params sent when the
// input has none (REQUEST_METHOD, REQUEST_URI, HTTP_*); the response is the
// parsed CGI response; timings are connect, wait (to the first record) and
// receive. A "_fastcgi" field adds target, role, params, END_REQUEST,
// stderr, warnings and error. Secret header, cookie and param values are
// Redacted unless opts.Secrets is set.
func ExportHAR(x *Exchange, opts ExportOptions) ([]byte, error) {
	params := x.Params()
	sentBody := x.Stdin()
	req := harRequestFrom(x.Input.HTTP, params, sentBody)
	e := harEntry{
		StartedDateTime: x.Start().Format("2006-01-02T15:04:05.000Z07:00"),
		Request:         req,
		FastCGI: harFastCGI{Target: x.Target(), Role: x.Role().String(), RequestID: x.RequestID(),
			EndRequest: x.End(), Stderr: string(x.Stderr()), Warnings: x.Warnings(), Error: x.ErrorText()},
	}
	if x.Start().IsZero() {
		e.StartedDateTime = time.Unix(0, 0).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	if network, addr, err := fcgi.ParseAddr(x.Target()); err == nil && network != "unix" {
		if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) != nil {
			e.ServerIPAddress = host
		}
	}
	e.Response = harResponseFrom(x.Response(), req.HTTPVersion)
	if x.ErrorText() != "" {
		e.Comment = x.ErrorText()
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	t := x.Timings()
	e.Time = ms(t.Total)
	e.Timings = harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1}
	if t.Connect > 0 {
		e.Timings.Connect = ms(t.Connect)
	}
	switch {
	case t.FirstByte > 0:
		e.Timings.Wait = max(0, ms(t.FirstByte-t.Connect))
		e.Timings.Receive = max(0, ms(t.Total-t.FirstByte))
	default:
		e.Timings.Wait = max(0, ms(t.Total-t.Connect))
	}
	if !opts.Secrets {
		params = Redact(params)
		redactHAR(&e.Request.Headers, &e.Request.Cookies)
		redactHAR(&e.Response.Headers, &e.Response.Cookies)
	}
	e.FastCGI.Params = make([]harNV, len(params))
	for i, p := range params {
		e.FastCGI.Params[i] = harNV{p.Name, p.Value}
	}
	log := harLog{Log: harContent{Version: "1.2", Creator: harCreator{Name: "fcgiscope", Version: buildVersion()},
		Entries: []harEntry{e}}}
	b, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("session: HAR export: %w", err)
	}
	return append(b, '\n'), nil
}

// redactHAR redacts secret headers and every cookie value.
func redactHAR(headers, cookies *[]harNV) {
	for i, h := range *headers {
		if IsSecretHeader(h.Name) {
			(*headers)[i].Value = Redacted
		}
	}
	for i := range *cookies {
		(*cookies)[i].Value = Redacted
	}
}

// buildVersion returns the main module's version, "devel" when unknown.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// harRequestFrom builds the HTTP request of an exchange.
func harRequestFrom(h *HTTPInput, params Params, sentBody []byte) harRequest {
	get := func(n string) string { v, _ := params.Get(n); return v }
	r := harRequest{Cookies: []harNV{}, Headers: []harNV{}, QueryString: []harNV{}, HeadersSize: -1}
	var (
		scheme, host, uri string
		port              int
		body              []byte
	)
	if h != nil {
		d := h.WithDefaults()
		r.Method, r.HTTPVersion, uri = d.Method, d.ServerProtocol, d.URL
		scheme, port, host = "http", d.ServerPort, d.ServerName
		if d.HTTPS {
			scheme = "https"
		}
		lines, err := h.WireHeaders()
		if err != nil {
			lines = h.Headers
		}
		for _, l := range lines {
			r.Headers = append(r.Headers, harNV(l))
			if strings.EqualFold(l.Name, "Host") && l.Value != "" {
				host = l.Value
			}
		}
		body = h.Body
	} else {
		r.Method, r.HTTPVersion = get("REQUEST_METHOD"), get("SERVER_PROTOCOL")
		scheme = get("REQUEST_SCHEME")
		if scheme == "" {
			scheme = "http"
			if v := get("HTTPS"); v != "" && !strings.EqualFold(v, "off") {
				scheme = "https"
			}
		}
		port, _ = strconv.Atoi(get("SERVER_PORT"))
		host = get("HTTP_HOST")
		if host == "" {
			host = get("SERVER_NAME")
		}
		if uri = get("REQUEST_URI"); uri == "" {
			uri = get("SCRIPT_NAME") + get("PATH_INFO")
			if q := get("QUERY_STRING"); q != "" {
				uri += "?" + q
			}
		}
		for _, p := range params {
			switch {
			case p.Name == "CONTENT_TYPE" && p.Value != "":
				r.Headers = append(r.Headers, harNV{"Content-Type", p.Value})
			case p.Name == "CONTENT_LENGTH" && p.Value != "":
				r.Headers = append(r.Headers, harNV{"Content-Length", p.Value})
			case strings.HasPrefix(p.Name, "HTTP_"):
				r.Headers = append(r.Headers, harNV{headerName(p.Name[5:]), p.Value})
			}
		}
	}
	if len(sentBody) > 0 {
		body = sentBody // what actually went out
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	if r.HTTPVersion == "" {
		r.HTTPVersion = DefaultServerProtocol
	}
	if host == "" {
		host = DefaultServerName
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	u := scheme + "://" + host
	if port != 0 && !strings.Contains(host, ":") && !(scheme == "http" && port == 80 || scheme == "https" && port == 443) {
		u += ":" + strconv.Itoa(port)
	}
	r.URL = u + uri
	if _, q, ok := strings.Cut(uri, "?"); ok {
		r.QueryString = harQuery(q)
	}
	for _, hd := range r.Headers {
		if strings.EqualFold(hd.Name, "Cookie") {
			r.Cookies = append(r.Cookies, harCookies(hd.Value)...)
		}
	}
	r.BodySize = len(body)
	if len(body) > 0 {
		pd := &harPostData{Params: []harNV{}}
		for _, hd := range r.Headers {
			if strings.EqualFold(hd.Name, "Content-Type") {
				pd.MimeType = hd.Value
				break
			}
		}
		if utf8.Valid(body) {
			pd.Text = string(body)
		} else {
			pd.Text, pd.Encoding = base64.StdEncoding.EncodeToString(body), "base64"
		}
		r.PostData = pd
	}
	return r
}

// headerName turns the CGI form of a header name (X_FORWARDED_FOR) into
// the usual HTTP form (X-Forwarded-For).
func headerName(cgi string) string {
	parts := strings.Split(strings.ToLower(cgi), "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// harQuery splits a query string into its parameters, in order, decoded
// when they decode.
func harQuery(q string) []harNV {
	out := []harNV{}
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		out = append(out, harNV{k, v})
	}
	return out
}

// harCookies splits a Cookie header value.
func harCookies(v string) []harNV {
	var out []harNV
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		out = append(out, harNV{k, val})
	}
	return out
}

// harResponseFrom builds the HTTP response of an exchange (status 0 when
// there is none).
func harResponseFrom(resp *HTTPResponse, version string) harResponse {
	r := harResponse{HTTPVersion: version, Cookies: []harNV{}, Headers: []harNV{}, HeadersSize: -1}
	if resp == nil {
		r.Comment = "no response"
		return r
	}
	r.Status, r.StatusText = resp.Status, resp.Reason
	for _, h := range resp.Headers {
		r.Headers = append(r.Headers, harNV(h))
		switch {
		case strings.EqualFold(h.Name, "Set-Cookie"):
			if c, err := http.ParseSetCookie(h.Value); err == nil {
				r.Cookies = append(r.Cookies, harNV{c.Name, c.Value})
			}
		case strings.EqualFold(h.Name, "Location"):
			r.RedirectURL = h.Value
		case strings.EqualFold(h.Name, "Content-Type") && r.Content.MimeType == "":
			r.Content.MimeType = h.Value
		}
	}
	r.BodySize, r.Content.Size = len(resp.Body), len(resp.Body)
	if utf8.Valid(resp.Body) {
		r.Content.Text = string(resp.Body)
	} else {
		r.Content.Text, r.Content.Encoding = base64.StdEncoding.EncodeToString(resp.Body), "base64"
	}
	return r
}

// ExportSendHTTPCommand returns a `fcgiscope send` command in HTTP mode for
// a composed input: --url, --method, --header, --body or --body-file,
// --docroot, --server-name, --server-port, --remote-addr, --https, then the
// enabled params as --param, role, keep-conn and data file. It fails for an
// input without HTTP fields, or with fields the command line has no flag
// for (index, split_path, server_addr, server_protocol, server_software,
// front_controller, allow_symlinks, combine_headers): ExportSendCommand
// reproduces any request in raw mode. Secret values are Redacted unless
// opts.Secrets is set.
func ExportSendHTTPCommand(in Input, opts ExportOptions) (string, error) {
	h := in.HTTP
	if h == nil {
		return "", errors.New("session: send export: the input has no HTTP fields")
	}
	if _, _, err := fcgi.ParseAddr(in.Target); err != nil {
		return "", fmt.Errorf("session: send export: %w", err)
	}
	var noFlag []string
	for name, set := range map[string]bool{
		"index": h.Index != "" && h.Index != DefaultIndex, "split_path": h.SplitPath != "" && h.SplitPath != DefaultSplitPath,
		"server_addr": h.ServerAddr != "" && h.ServerAddr != DefaultServerAddr, "server_protocol": h.ServerProtocol != "" && h.ServerProtocol != DefaultServerProtocol,
		"server_software":  h.ServerSoftware != "" && h.ServerSoftware != DefaultServerSoftware,
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
	params, headers := in.Params, h.Headers
	if !opts.Secrets {
		params, headers = RedactRaw(params), RedactHeaders(headers)
	}
	var b strings.Builder
	body := h.Body
	pipe, _, err := commandBody(body, ExportOptions{BodyFile: opts.BodyFile})
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
			addr = DefaultRemoteAddr
		}
		if h.RemotePort != 0 {
			addr = net.JoinHostPort(addr, strconv.Itoa(h.RemotePort))
		}
		flag("remote-addr", addr)
	}
	if h.HTTPS {
		b.WriteString(" \\\n  --https")
	}
	if in.Role != 0 && in.Role != fcgi.RoleResponder {
		flag("role", roleName(in.Role))
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
