// HTTP mode: an HTTP request as a person composes it, and how nginx 1.22
// reads its request line and header lines before it builds FastCGI params.

package session

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Defaults of HTTPInput.
const (
	DefaultIndex          = "index.php"
	DefaultSplitPath      = `^(.+\.php)(/.+)$`
	DefaultLocation       = `[^/]\.php(/|$)`
	DefaultServerName     = "localhost"
	DefaultServerAddr     = "127.0.0.1"
	DefaultRemoteAddr     = "127.0.0.1"
	DefaultRemotePort     = 54321
	DefaultServerProtocol = "HTTP/1.1"
	DefaultServerSoftware = "fcgiscope"
)

// DefaultDocumentRoot is the document root a new request starts with, and
// the one assumed for php-fpm's own pages: Debian's nginx root.
const DefaultDocumentRoot = "/var/www/html"

// NginxServerSoftware is SERVER_SOFTWARE as Debian's nginx 1.22 sends it
// ("nginx/$nginx_version").
const NginxServerSoftware = "nginx/1.22.1"

// Errors the HTTP mapping and the router wrap (errors.Is).
var (
	// ErrBadHTTP: the composed request is one nginx would refuse (it answers
	// 400, 404 or 501 without asking the FastCGI server).
	ErrBadHTTP = errors.New("request nginx would refuse")
	// ErrPathEscapes: the path leaves the document root (by "..", by the
	// split regexp, or through a symlink).
	ErrPathEscapes = errors.New("path escapes the document root")
	// ErrUnsafePath: the path holds a NUL, CR or LF byte (CVE-2019-11043).
	ErrUnsafePath = errors.New("unsafe byte in path")
	// ErrNoIndex: a directory URL whose directory has no index file.
	ErrNoIndex = errors.New("no index file")
)

// HTTPInput is an HTTP request as a person composes it in HTTP mode, with the
// facts about the server and the client that nginx would know. The zero
// values of the optional fields mean the defaults (see WithDefaults).
//
// Mapped by BuildHTTP, it yields exactly the params nginx 1.22 sends with
// Debian's /etc/nginx/fastcgi_params and the usual PHP location
// (fastcgi_split_path_info ^(.+\.php)(/.+)$; SCRIPT_FILENAME
// $document_root$fastcgi_script_name; PATH_INFO $fastcgi_path_info), in the
// same order, with two documented exceptions: the Proxy header is dropped
// (httpoxy), and the router refuses CR and LF in the path.
type HTTPInput struct {
	// Method is the request method; default GET.
	Method string `json:"method,omitempty"`
	// URL is the request target as sent on the request line: a path,
	// percent-encoded, with an optional ?query (and #fragment, which nginx
	// keeps in REQUEST_URI only), e.g. "/index.php/a?b=c".
	URL string `json:"url"`
	// Headers are the header lines in order; names repeat when lines do.
	// A Host line is implied when missing (Host: ServerName), and a
	// Content-Length line when there is a body and neither Content-Length
	// nor Transfer-Encoding is given; see WireHeaders.
	Headers []Header `json:"headers,omitempty"`
	// ContentType, when set, is the body's type: a Content-Type line is
	// added after Headers when they have none (see HeaderLines). A form
	// keeps it apart from the header lines, so that a request saved and
	// loaded again shows it where it was typed.
	ContentType string `json:"content_type,omitempty"`
	// Body is the request body (after any chunked decoding). BodyFile,
	// when set instead, names a file whose content is the body; it is
	// opened only when the body is sent.
	Body     []byte `json:"body,omitempty"`
	BodyFile string `json:"body_file,omitempty"`

	// DocumentRoot is nginx's root: an absolute directory.
	DocumentRoot string `json:"document_root"`
	// Index is the index file for directory URLs; default "index.php".
	Index string `json:"index,omitempty"`
	// SplitPath is fastcgi_split_path_info's regexp (Go syntax, two
	// capture groups: script name and path info); default
	// DefaultSplitPath.
	SplitPath string `json:"split_path,omitempty"`
	// Location is the regexp of the PHP location (Go syntax); default
	// DefaultLocation, Debian's "location ~ [^/]\.php(/|$)". A path it
	// matches goes to FastCGI as it is; a path it does not match gets the
	// index file when it ends in "/" (nginx's index module), and goes to
	// FastCGI anyway otherwise (where nginx would serve a static file).
	Location string `json:"location,omitempty"`

	// ServerName is nginx's server_name (SERVER_NAME); default "localhost".
	ServerName string `json:"server_name,omitempty"`
	// ServerPort is the port the request came in on; default 80, or 443
	// with HTTPS.
	ServerPort int `json:"server_port,omitempty"`
	// ServerAddr is the address the request came in on; default 127.0.0.1.
	ServerAddr string `json:"server_addr,omitempty"`
	// RemoteAddr and RemotePort are the client's; defaults 127.0.0.1 and
	// DefaultRemotePort (nginx sends the real client port, so 0 cannot be
	// composed).
	RemoteAddr string `json:"remote_addr,omitempty"`
	RemotePort int    `json:"remote_port,omitempty"`
	// HTTPS says the request came over TLS: REQUEST_SCHEME https, HTTPS on.
	HTTPS bool `json:"https,omitempty"`
	// ServerProtocol is the request line's protocol; default HTTP/1.1.
	ServerProtocol string `json:"server_protocol,omitempty"`
	// ServerSoftware is SERVER_SOFTWARE; default "fcgiscope"
	// (NginxServerSoftware imitates nginx).
	ServerSoftware string `json:"server_software,omitempty"`

	// FrontController routes a request whose script file does not exist
	// to /Index, as Laravel's and Symfony's nginx configurations do with
	// try_files: SCRIPT_NAME and DOCUMENT_URI become /index.php, PATH_INFO
	// is empty, REQUEST_URI and QUERY_STRING stay.
	FrontController bool `json:"front_controller,omitempty"`
	// AllowSymlinks lets the script resolve, through symlinks, to a file
	// outside the document root.
	AllowSymlinks bool `json:"allow_symlinks,omitempty"`
	// Profile names the web server whose params and record framing HTTP
	// mode imitates: ProfileNginx (also when empty), ProfileApache,
	// ProfileCaddy or ProfileLighttpd; Variant one of its configuration
	// variants ("" is the default, Debian's). See Profiles. The fields
	// above describe nginx; the other profiles read the request from them
	// as their server does (Apache and Caddy take SERVER_NAME and
	// SERVER_PORT from the Host header, for one).
	Profile string `json:"profile,omitempty"`
	Variant string `json:"variant,omitempty"`
	// CombineHeaders sends repeated header lines as one HTTP_* param,
	// values joined with ", " (Cookie with "; "), as nginx 1.23 and later
	// and RFC 3875 §4.1.18 do. Off, each line is a param of its own, as
	// nginx 1.22 sends them (php-fpm then keeps the last one).
	CombineHeaders bool `json:"combine_headers,omitempty"`
}

// WithDefaults returns in with every empty optional field set to its
// default.
func (in HTTPInput) WithDefaults() HTTPInput {
	if in.Method == "" {
		in.Method = "GET"
	}
	if in.Index == "" {
		in.Index = DefaultIndex
	}
	if in.SplitPath == "" {
		in.SplitPath = DefaultSplitPath
	}
	if in.Location == "" {
		in.Location = DefaultLocation
	}
	if in.ServerName == "" {
		in.ServerName = DefaultServerName
	}
	if in.ServerPort == 0 {
		in.ServerPort = 80
		if in.HTTPS {
			in.ServerPort = 443
		}
	}
	if in.ServerAddr == "" {
		in.ServerAddr = DefaultServerAddr
	}
	if in.RemoteAddr == "" {
		in.RemoteAddr = DefaultRemoteAddr
	}
	if in.RemotePort == 0 {
		in.RemotePort = DefaultRemotePort
	}
	if in.ServerProtocol == "" {
		in.ServerProtocol = DefaultServerProtocol
	}
	if in.ServerSoftware == "" {
		in.ServerSoftware = DefaultServerSoftware
	}
	return in
}

// Clone returns a deep copy of h.
func (h *HTTPInput) Clone() *HTTPInput {
	c := *h
	c.Headers = slices.Clone(h.Headers)
	c.Body = bytes.Clone(h.Body)
	return &c
}

// BuildHTTP maps in to a FastCGI responder request through HTTPChain: the
// params nginx 1.22 would send, and the body on STDIN.
func BuildHTTP(in HTTPInput) (*Request, error) {
	return Build(context.Background(), HTTPChain(in))
}

// PreviewHTTP runs HTTPChain(in) and then extra, in order, to a terminal
// handler that only keeps the request, and returns its params: what would be
// sent, without sending it. It opens no file.
func PreviewHTTP(ctx context.Context, in HTTPInput, extra ...Middleware) (Params, error) {
	req, err := Build(ctx, Chain(append([]Middleware{HTTPChain(in)}, extra...)...))
	if err != nil {
		return nil, err
	}
	return req.Params, nil
}

// HTTPChain returns the middlewares of HTTP mode for in's profile. For
// nginx's default variant they are CGIBasics, Remote, Headers and
// PHPRouter: each puts its params where nginx puts them, so the order of
// the chain does not change the order of the params. The other profiles
// and variants build their params in one step (see Profile). Either way
// the request gets the profile's framing.
func HTTPChain(in HTTPInput) Middleware {
	p, v, err := profileOf(in)
	if err != nil {
		return failing(err)
	}
	framing := withFraming(p.FramingOf(v))
	build := p.build
	if p.Name == ProfileNginx && v.Name == "snippet" {
		build = buildNginxSnippet
	}
	if build == nil {
		return Chain(CGIBasics(in), Remote(in), Headers(in), PHPRouter(in), framing)
	}
	p.build = build
	return Chain(profileChain(in, p, v), framing)
}

// preallocParams is the room Build makes for params: nginx's 23 and a few
// headers, so that the chain rarely grows the list.
const preallocParams = 32

// Build runs mw on an empty request to a terminal handler that only keeps
// it, and returns the request as it arrived there: what would be sent,
// without sending it.
func Build(ctx context.Context, mw Middleware) (*Request, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("session: http: %w", err)
	}
	var kept *Request
	keep := func(_ context.Context, req *Request) (*Exchange, error) {
		kept = req
		return nil, nil
	}
	req := &Request{Params: make(Params, 0, preallocParams)}
	if _, err := mw(keep)(ctx, req); err != nil {
		return nil, err
	}
	if kept == nil {
		return nil, errors.New("session: http: a middleware did not pass the request on")
	}
	return kept, nil
}

// target is a request target split and decoded as nginx does it.
type target struct {
	raw   string // $request_uri: as sent, fragment included
	query string // $args: after '?', up to '#'
	uri   string // $uri: the path percent-decoded, slashes merged, dot segments resolved
}

// parseTarget splits and normalizes a request target as nginx 1.22's
// ngx_http_parse_complex_uri does (merge_slashes on).
func parseTarget(raw string) (target, error) {
	if raw == "" {
		return target{}, fmt.Errorf("session: http: empty URL: %w", ErrBadHTTP)
	}
	if raw[0] != '/' {
		return target{}, fmt.Errorf("session: http: URL %q does not start with \"/\": %w", raw, ErrBadHTTP)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c == 0x7f {
			return target{}, fmt.Errorf("session: http: URL %q has byte %#02x at %d, which a request line cannot carry: %w", raw, c, i, ErrBadHTTP)
		}
	}
	t := target{raw: raw}
	rest := raw
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	path := rest
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		path, t.query = rest[:i], rest[i+1:]
	}
	decoded, err := percentDecode(path)
	if err != nil {
		return target{}, fmt.Errorf("session: http: URL %q: %w", raw, err)
	}
	uri, ok := normalizePath(decoded)
	if !ok {
		return target{}, fmt.Errorf("session: http: URL %q: \"..\" climbs above \"/\" (nginx answers 400): %w", raw, ErrPathEscapes)
	}
	t.uri = uri
	return t, nil
}

// percentDecode decodes every %XX of a path; '+' stays. A bad escape or
// %00 is an error, as nginx answers 400 to both.
func percentDecode(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", fmt.Errorf("bad percent-escape at byte %d (nginx answers 400): %w", i, ErrBadHTTP)
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if c == 0 {
			return "", fmt.Errorf("%%00 at byte %d decodes to NUL (nginx answers 400): %w", i, ErrUnsafePath)
		}
		b = append(b, c)
		i += 2
	}
	return string(b), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// normalizePath merges slashes and resolves "." and ".." segments of a
// decoded absolute path the way nginx does: a path ending in "/", "/." or
// "/.." keeps a trailing slash. ok is false when ".." climbs above the root.
func normalizePath(p string) (string, bool) {
	segs := strings.Split(p[1:], "/")
	stack := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case "", ".":
			trailing = last
		case "..":
			if len(stack) == 0 {
				return "", false
			}
			stack = stack[:len(stack)-1]
			trailing = last
		default:
			stack = append(stack, s)
		}
	}
	out := "/" + strings.Join(stack, "/")
	if trailing && len(stack) > 0 {
		out += "/"
	}
	return out, true
}

// headerScan is what nginx reads from the header lines.
type headerScan struct {
	lines         []Header // as received, with the implied lines
	host          string   // $host
	contentType   string   // $content_type: the first Content-Type
	contentLength string   // $content_length: "" when the request has no body framing
	authorization string   // the Authorization value, "" if none
	bodyLen       int64
}

// WireHeaders returns the header lines as nginx receives them: in's lines,
// plus an implied Host line (first) when
// there is none and an implied Content-Length line (last) when there is a
// body and neither Content-Length nor Transfer-Encoding. It fails on what
// nginx would refuse: bad names, duplicate Host, Content-Length,
// Transfer-Encoding or Authorization lines, a Transfer-Encoding other than
// chunked, both Content-Length and Transfer-Encoding, a Content-Length that
// is not the body's length, or a bad Host.
func (in HTTPInput) WireHeaders() ([]Header, error) {
	hs, err := in.WithDefaults().scanHeaders()
	if err != nil {
		return nil, err
	}
	return hs.lines, nil
}

// bodyLength returns the length of Body or of BodyFile.
func (in HTTPInput) bodyLength() (int64, error) {
	if in.BodyFile == "" {
		return int64(len(in.Body)), nil
	}
	if len(in.Body) > 0 {
		return 0, errors.New("session: http: both body and body_file are set")
	}
	fi, err := os.Stat(in.BodyFile)
	if err != nil {
		return 0, fmt.Errorf("session: http: body file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("session: http: body file %q is not a regular file", in.BodyFile)
	}
	return fi.Size(), nil
}

// scanHeaders reads the header lines of in (defaults applied) as nginx
// 1.22 does.
func (in HTTPInput) scanHeaders() (headerScan, error) {
	var hs headerScan
	n, err := in.bodyLength()
	if err != nil {
		return hs, err
	}
	hs.bodyLen = n
	var host, cl, te, auth *Header
	seenType := false
	headers := in.HeaderLines()
	lines := make([]Header, 0, len(headers)+2)
	for i, h := range headers {
		if err := checkHeaderLine(h); err != nil {
			return hs, fmt.Errorf("session: http: header %d: %w", i+1, err)
		}
		lines = append(lines, h)
		line := &Header{Name: h.Name, Value: trimValue(h.Value)}
		var unique **Header
		switch strings.ToLower(h.Name) {
		case "host":
			unique = &host
		case "content-length":
			unique = &cl
		case "transfer-encoding":
			unique = &te
		case "authorization":
			unique = &auth
		case "content-type":
			if !seenType {
				hs.contentType, seenType = line.Value, true
			}
		}
		if unique != nil {
			if *unique != nil {
				return hs, fmt.Errorf("session: http: duplicate %s header (nginx answers 400): %w", h.Name, ErrBadHTTP)
			}
			*unique = line
		}
	}
	switch {
	case cl != nil && te != nil:
		return hs, fmt.Errorf("session: http: both Content-Length and Transfer-Encoding (nginx answers 400): %w", ErrBadHTTP)
	case te != nil:
		if !strings.EqualFold(te.Value, "chunked") {
			return hs, fmt.Errorf("session: http: Transfer-Encoding %q is not chunked (nginx answers 501): %w", te.Value, ErrBadHTTP)
		}
		hs.contentLength = strconv.FormatInt(n, 10)
	case cl != nil:
		v, ok := parseDecimal(cl.Value)
		if !ok {
			return hs, fmt.Errorf("session: http: Content-Length %q is not a length (nginx answers 400): %w", cl.Value, ErrBadHTTP)
		}
		if v != n {
			return hs, fmt.Errorf("session: http: Content-Length %s but the body has %d bytes: %w", cl.Value, n, ErrBadHTTP)
		}
		hs.contentLength = cl.Value
	case n > 0:
		hs.contentLength = strconv.FormatInt(n, 10)
		lines = append(lines, Header{Name: "Content-Length", Value: hs.contentLength})
	}
	if host == nil {
		lines = append([]Header{{Name: "Host", Value: in.ServerName}}, lines...)
		hs.host = in.ServerName
	} else {
		h, err := validateHost(host.Value)
		if err != nil {
			return hs, err
		}
		hs.host = h
	}
	if auth != nil {
		hs.authorization = auth.Value
	}
	hs.lines = lines
	return hs, nil
}

// HeaderLines returns the header lines the request has before nginx adds
// the implied ones (see WireHeaders): Headers, then a Content-Type line with
// ContentType when it is set and Headers have none.
func (in HTTPInput) HeaderLines() []Header {
	ct := strings.TrimSpace(in.ContentType)
	if ct == "" {
		return in.Headers
	}
	for _, h := range in.Headers {
		if strings.EqualFold(h.Name, "Content-Type") {
			return in.Headers
		}
	}
	return append(slices.Clip(in.Headers), Header{Name: "Content-Type", Value: ct})
}

// trimValue trims a header value as nginx does: spaces only, not tabs.
func trimValue(v string) string { return strings.Trim(v, " ") }

// checkHeaderLine refuses a header line that cannot be sent or that nginx
// answers 400 to: an empty name, a name with a colon, space or control
// byte, a value with CR, LF or NUL.
func checkHeaderLine(h Header) error {
	if h.Name == "" {
		return fmt.Errorf("empty name (nginx answers 400): %w", ErrBadHTTP)
	}
	for i := 0; i < len(h.Name); i++ {
		if c := h.Name[i]; c <= ' ' || c == 0x7f || c == ':' {
			return fmt.Errorf("name %q has byte %#02x (nginx answers 400): %w", h.Name, c, ErrBadHTTP)
		}
	}
	if i := strings.IndexAny(h.Value, "\r\n\x00"); i >= 0 {
		return fmt.Errorf("%s value has byte %#02x, which a header line cannot carry: %w", h.Name, h.Value[i], ErrBadHTTP)
	}
	return nil
}

// parseDecimal parses a non-negative decimal without sign, as nginx's
// ngx_atoof.
func parseDecimal(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// validateHost returns $host for a Host value as nginx's
// ngx_http_validate_host does: port dropped (outside [IPv6] brackets),
// one trailing dot dropped, lowercased. NUL, "/", spaces and control bytes,
// "..", and an empty name are refused (nginx answers 400).
func validateHost(v string) (string, error) {
	bad := func(why string) error {
		return fmt.Errorf("session: http: Host %q %s (nginx answers 400): %w", v, why, ErrBadHTTP)
	}
	const (
		usual = iota
		literal
		rest
	)
	state, end, dot := usual, len(v), -2
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '.':
			if dot == i-1 {
				return "", bad(`has ".."`)
			}
			dot = i
		case c == ':':
			if state == usual {
				state, end = rest, i
			}
		case c == '[':
			if i == 0 {
				state = literal
			}
		case c == ']':
			if state == literal {
				state, end = rest, i+1
			}
		case c == '/' || c <= ' ' || c == 0x7f:
			return "", bad(fmt.Sprintf("has byte %#02x", c))
		}
	}
	if dot == end-1 {
		end--
	}
	if end <= 0 {
		return "", bad("has no name")
	}
	return strings.ToLower(v[:end]), nil
}

// basicUser returns $remote_user: the user name of a Basic Authorization
// value, as nginx's ngx_http_auth_basic_user decodes it whether or not
// auth_basic is configured; "" when there is none.
func basicUser(auth string) string {
	const scheme = "basic "
	if len(auth) < len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return ""
	}
	enc := strings.TrimLeft(auth[len(scheme):], " ")
	// nginx decodes up to the first '=', refuses anything outside the
	// alphabet before it, and accepts an unpadded tail.
	if i := strings.IndexByte(enc, '='); i >= 0 {
		enc = enc[:i]
	}
	if enc == "" || len(enc)%4 == 1 {
		return ""
	}
	dec, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		return ""
	}
	user, _, ok := strings.Cut(string(dec), ":")
	if !ok || user == "" {
		return ""
	}
	return user
}
