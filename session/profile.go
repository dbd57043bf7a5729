// Front-end profiles: which web server HTTP mode imitates — the params it
// sends (names, values, order, absences) and how it frames them in records.

package session

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"fcgiscope/fcgi"
)

// Profile names.
const (
	ProfileNginx    = "nginx"
	ProfileApache   = "apache"
	ProfileCaddy    = "caddy"
	ProfileLighttpd = "lighttpd"
)

// OriginServer is the origin of params a web server adds from its own
// configuration rather than from the request (Apache's PATH, SERVER_ADMIN,
// proxy-nokeepalive; Caddy's X-Forwarded-* headers; TLS details).
const OriginServer = "server"

// Profile is a web server as HTTP mode imitates it: for a composed HTTP
// request, the params that server sends to its FastCGI backend and the
// record framing it uses. Each was measured against the real server with
// Debian 12's package and default configuration (see the session tests
// TestProfileParity and TestNginxParity).
type Profile struct {
	// Name is the name presets, the command line and JSON use.
	Name string
	// Title is the name shown in the window; Short its short form.
	Title, Short string
	// Server is the version the profile was measured against.
	Server string
	// Software is SERVER_SOFTWARE as that version sends it; HTTPInput's
	// ServerSoftware stays fcgiscope's own unless set to it.
	Software string
	// Variants are the configurations that change what the server sends;
	// the first is the default (Debian's).
	Variants []Variant
	// Framing is how the server cuts PARAMS and STDIN into records. Every
	// profile sends request id 1 and BEGIN_REQUEST without KEEP_CONN (the
	// Input's KeepConn sets it, as fastcgi_keep_conn on or enablereuse=on
	// would), and closes each stream with one empty record.
	Framing fcgi.Framing
	// Unordered: the server sends its params in a different order on every
	// request (Caddy ranges over a Go map); the profile lists them in name
	// order.
	Unordered bool
	// Notes say what configuration the profile assumes and what of the
	// server it does not imitate.
	Notes []string

	// build maps a request for a variant; nil for nginx's own chain.
	build func(f *httpFacts, variant string) Params
}

// Variant is a configuration of a Profile's server that changes its params
// or its framing.
type Variant struct {
	Name  string
	Title string
	// Label follows the profile's Short name in a list ("" for the
	// default variant).
	Label string
	Note  string
	// Framing, when set, replaces the profile's.
	Framing *fcgi.Framing
}

// Profiles returns the profiles, nginx (the default) first.
func Profiles() []Profile {
	return []Profile{
		{
			Name: ProfileNginx, Title: "nginx 1.22", Short: "nginx 1.22", Server: "nginx 1.22.1 (Debian 12)", Software: NginxServerSoftware,
			Variants: []Variant{
				{Name: "fastcgi_params", Title: "fastcgi_params + split location", Note: "location ~ [^/]\\.php(/|$) with fastcgi_split_path_info, include fastcgi_params, SCRIPT_FILENAME $document_root$fastcgi_script_name and PATH_INFO $fastcgi_path_info (as fcgitest.Nginx)"},
				{Name: "snippet", Title: "snippets/fastcgi-php.conf", Label: "fastcgi-php.conf snippet", Note: "Debian's default site form: include snippets/fastcgi-php.conf (fastcgi.conf): PATH_INFO and SCRIPT_FILENAME first, no HTTP_HOST line (the Host header is passed as it came, port included), DOCUMENT_URI is the script (try_files rewrote $uri). Its try_files answers 404 for a missing script and its split is ^(.+?\\.php)(/.*)$; fcgiscope keeps the Split path field."},
				{Name: "nobuffer", Title: "fastcgi_request_buffering off", Label: "request buffering off", Note: "the same params; the body goes out as it is read, in 8 KiB records (the first one's size depends on how the body arrived)", Framing: &fcgi.Framing{StdinMax: 8 << 10}},
			},
			Framing: fcgi.Framing{StdinMax: 32 << 10},
			Notes: []string{
				"PARAMS: one record padded to 8 (nginx answers 500 when the params exceed 65535 bytes; fcgiscope splits them)",
				"STDIN: the body is read whole first, then sent in 32 KiB records padded to 8 (a body under 16 KiB may arrive as two records, split where the network cut it)",
				"Header lines become one param each (nginx 1.22 does not merge repeats; Combine repeated headers imitates 1.23+); the Proxy header is dropped (httpoxy), which stock nginx passes",
			},
		},
		{
			Name: ProfileApache, build: buildApache, Title: "Apache httpd 2.4 (mod_proxy_fcgi)", Short: "Apache 2.4", Server: "Apache 2.4.71 (Debian 12)", Software: "Apache/2.4.71 (Debian)",
			Variants: []Variant{
				{Name: "fpm", Title: "php8.2-fpm.conf (FPM backend)", Note: "Debian's conf-available/php8.2-fpm.conf: SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost\" and SetEnvIfNoCase Authorization; ProxyFCGIBackendType FPM (the default) sends SCRIPT_FILENAME as proxy:fcgi://localhost/path, which php-fpm strips and other backends do not"},
				{Name: "generic", Title: "ProxyFCGIBackendType GENERIC", Label: "GENERIC backend", Note: "the same with ProxyFCGIBackendType GENERIC: SCRIPT_FILENAME is the plain path"},
			},
			Framing: fcgi.Framing{ParamsMax: 16 << 10, ParamsUnpadded: true, StdinMax: 8 << 10, StdinUnpadded: true},
			Notes: []string{
				"Debian's defaults: ServerTokens OS, ServerSignature On, ServerAdmin webmaster@localhost, PATH from systemd",
				"SERVER_NAME and SERVER_PORT come from the Host header (UseCanonicalName Off): its port, else 80 or 443",
				"Repeated headers are merged with \", \" (Cookie too); Authorization is passed only through SetEnvIf (first); Proxy and names with other than letters, digits and - are dropped",
				"A chunked body is sent with CONTENT_LENGTH only when it fits Apache's 16 KiB prefetch; a larger one goes without CONTENT_LENGTH (PHP then reads no body)",
				"With SetHandler \"proxy:fcgi://host:port\" the prefix carries that address and there is no HTTP_AUTHORIZATION; Apache does not check that the script exists",
			},
		},
		{
			Name: ProfileCaddy, build: buildCaddy, Title: "Caddy 2 (php_fastcgi)", Short: "Caddy 2", Server: "Caddy 2.6.2 (Debian 12)", Software: "Caddy/2.6.2",
			Variants: []Variant{
				{Name: "php_fastcgi", Title: "php_fastcgi", Note: "root * /path; php_fastcgi backend; file_server"},
			},
			Framing:   fcgi.Framing{ParamsMax: 65500, StdinMax: 65500},
			Unordered: true,
			Notes: []string{
				"The real order changes on every request (a Go map); shown sorted by name",
				"SERVER_NAME and SERVER_PORT come from the Host header: its port, else 80 or 443",
				"reverse_proxy adds X-Forwarded-For/-Proto/-Host and an empty User-Agent when there is none; repeated headers are merged with \", \" (Cookie too); Proxy is passed",
				"Methods other than GET, HEAD and OPTIONS get CONTENT_TYPE application/x-www-form-urlencoded when there is none, and CONTENT_LENGTH -1 for a chunked body",
				"Newer Caddy (2.7+) also sends SERVER_ADDR and Via, drops Proxy and header names with _ , and sends Content-Length 0 on GET",
			},
		},
		{
			Name: ProfileLighttpd, build: buildLighttpd, Title: "lighttpd 1.4 (mod_fastcgi)", Short: "lighttpd 1.4", Server: "lighttpd 1.4.69 (Debian 12)", Software: "lighttpd/1.4.69",
			Variants: []Variant{
				{Name: "broken-scriptfilename", Title: "15-fastcgi-php-fpm.conf", Note: "Debian's conf-available/15-fastcgi-php-fpm.conf: \"broken-scriptfilename\" => \"enable\": SCRIPT_FILENAME gets PATH_INFO, or a / when there is none"},
				{Name: "plain", Title: "without broken-scriptfilename", Label: "no broken-scriptfilename", Note: "SCRIPT_FILENAME is the script's path"},
			},
			Framing: fcgi.Framing{ParamsUnpadded: true, StdinMax: 65535, StdinUnpadded: true},
			Notes: []string{
				"Debian's server.http-parseopts: QUERY_STRING is normalized (%41 becomes A) and REDIRECT_URI appears when the target changed; the Host is lowercased",
				"Repeated headers are merged with \", \", Cookie with \"; \"; empty header values and Proxy are dropped, names with _ kept",
				"lighttpd answers 404 itself for a missing script (check-local) and finds PATH_INFO by walking the file system; fcgiscope splits with the Split path",
			},
		},
	}
}

// ProfileChoice is one profile with one of its variants, as a list offers
// them.
type ProfileChoice struct {
	Profile, Variant string // as HTTPInput names them ("" for the default variant)
	Label            string // e.g. "Apache 2.4 · GENERIC backend"
}

// ProfileChoices lists every profile with each of its variants, the
// default variant first.
func ProfileChoices() []ProfileChoice {
	var out []ProfileChoice
	for _, p := range Profiles() {
		for i, v := range p.Variants {
			c := ProfileChoice{Profile: p.Name, Label: p.Short}
			if i > 0 {
				c.Variant, c.Label = v.Name, p.Short+" · "+v.Label
			}
			out = append(out, c)
		}
	}
	return out
}

// Summary describes what p's variant v sends besides its params: request
// id, KEEP_CONN, framing, and whether the order is fixed.
func (p Profile) Summary(v Variant) string {
	f := p.FramingOf(v)
	s := f.StdinString() + "; " + f.ParamsString() + "; request id 1, no KEEP_CONN"
	if p.Unordered {
		s = "params in a new order on every request (shown sorted); " + s
	}
	return s
}

// LookupProfile returns the profile called name ("" is nginx).
func LookupProfile(name string) (Profile, error) {
	if name == "" {
		name = ProfileNginx
	}
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
	}
	return Profile{}, fmt.Errorf("session: unknown profile %q (want %s)", name, strings.Join(ProfileNames(), ", "))
}

// ProfileNames returns the profiles' names, nginx first.
func ProfileNames() []string {
	var out []string
	for _, p := range Profiles() {
		out = append(out, p.Name)
	}
	return out
}

// Variant returns the variant called name ("" is the default).
func (p Profile) Variant(name string) (Variant, error) {
	if name == "" {
		return p.Variants[0], nil
	}
	for _, v := range p.Variants {
		if v.Name == name {
			return v, nil
		}
	}
	var names []string
	for _, v := range p.Variants {
		names = append(names, v.Name)
	}
	return Variant{}, fmt.Errorf("session: %s has no variant %q (want %s)", p.Name, name, strings.Join(names, ", "))
}

// FramingOf returns the framing of variant v of p.
func (p Profile) FramingOf(v Variant) fcgi.Framing {
	if v.Framing != nil {
		return *v.Framing
	}
	return p.Framing
}

// profileOf resolves in's profile and variant.
func profileOf(in HTTPInput) (Profile, Variant, error) {
	p, err := LookupProfile(in.Profile)
	if err != nil {
		return Profile{}, Variant{}, err
	}
	v, err := p.Variant(in.Variant)
	if err != nil {
		return Profile{}, Variant{}, err
	}
	return p, v, nil
}

// httpFacts is what every profile reads from a composed request.
type httpFacts struct {
	in HTTPInput // defaults applied
	t  target
	hs headerScan
	r  Route
}

// scheme returns "https" or "http".
func (f *httpFacts) scheme() string {
	if f.in.HTTPS {
		return "https"
	}
	return "http"
}

// line returns the value of the first header line called name, trimmed
// of spaces and tabs (the implied Host and Content-Length lines included).
func (f *httpFacts) line(name string) (string, bool) {
	for _, h := range f.hs.lines {
		if isHeader(h, name) {
			return trimSpaceTab(h.Value), true
		}
	}
	return "", false
}

// host returns the Host line's value as received.
func (f *httpFacts) host() string {
	if v, ok := f.line("Host"); ok {
		return v
	}
	return f.in.ServerName
}

// hostParts splits a Host value into name and port ("" when none).
func hostParts(host string) (name, port string) {
	if h, p, err := net.SplitHostPort(host); err == nil {
		return h, p
	}
	return host, ""
}

// hostPort returns the port of the Host header, or the scheme's default:
// SERVER_PORT as Apache (UseCanonicalName Off) and Caddy send it.
func (f *httpFacts) hostPort() string {
	if _, p := hostParts(f.host()); p != "" {
		return p
	}
	if f.in.HTTPS {
		return "443"
	}
	return "80"
}

// chunked reports whether the request has a Transfer-Encoding line.
func (f *httpFacts) chunked() bool {
	_, ok := f.line("Transfer-Encoding")
	return ok
}

// gatherFacts checks in as CGIBasics, Remote and PHPRouter do and returns
// what the profiles build from.
func gatherFacts(in HTTPInput, rt *Router) (*httpFacts, error) {
	t, hs, err := in.requestLine()
	if err != nil {
		return nil, err
	}
	if err := checkPort("remote", in.RemotePort); err != nil {
		return nil, err
	}
	r, err := rt.Route(in.URL)
	if err != nil {
		return nil, err
	}
	return &httpFacts{in: in, t: t, hs: hs, r: r}, nil
}

// profileChain returns the middleware of a profile with its own builder:
// it checks and routes the request as nginx's chain does, lets the profile
// write the params, and sets the role, the body and the framing.
func profileChain(in HTTPInput, p Profile, v Variant) Middleware {
	in = in.WithDefaults()
	router := lazyRouter(in)
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			rt, err := router(ctx)
			if err != nil {
				return nil, err
			}
			f, err := gatherFacts(in, rt)
			if err != nil {
				return nil, err
			}
			req.Params = append(req.Params, p.build(f, v.Name)...)
			setBody(req, in, f.hs)
			return next(ctx, req)
		}
	}
}

// withFraming sets the request's framing.
func withFraming(fr fcgi.Framing) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			req.Framing = fr
			return next(ctx, req)
		}
	}
}

// failing is a middleware that fails with err.
func failing(err error) Middleware {
	return func(Handler) Handler {
		return func(context.Context, *Request) (*Exchange, error) { return nil, err }
	}
}

// paramList builds params in order.
type paramList struct{ ps Params }

func (l *paramList) add(name, value, origin string) { l.ps = append(l.ps, Param{name, value, origin}) }

// apacheHeaderName returns the HTTP_* name of a header as Apache (and
// nginx) make it: letters, digits and '-' only; false for any other name.
func apacheHeaderName(name string) (string, bool) { return headerParam(name) }

// lighttpdHeaderName: lighttpd turns every byte but letters and digits into
// '_' (its header-strict option has refused control bytes already).
func lighttpdHeaderName(name string) (string, bool) { return cgiHeaderName(name, true) }

// caddyHeaderName: Go canonicalizes the name, Caddy upper-cases it and
// turns '-' into '_'.
func caddyHeaderName(name string) (string, bool) {
	return "HTTP_" + strings.ReplaceAll(strings.ToUpper(name), "-", "_"), true
}

// mergedHeader is one header param after merging repeats.
type mergedHeader struct {
	name   string // the header's own name, first spelling
	param  string
	values []string
}

// mergeHeaders groups the lines by param name, in the order each name
// first appears; skip drops a line.
func mergeHeaders(lines []Header, conv func(string) (string, bool), trim func(string) string, skip func(Header) bool) []*mergedHeader {
	var out []*mergedHeader
	at := make(map[string]*mergedHeader)
	for _, h := range lines {
		if skip(h) {
			continue
		}
		param, ok := conv(h.Name)
		if !ok {
			continue
		}
		m := at[param]
		if m == nil {
			m = &mergedHeader{name: h.Name, param: param}
			at[param] = m
			out = append(out, m)
		}
		m.values = append(m.values, trim(h.Value))
	}
	return out
}

func trimSpaceTab(v string) string { return strings.Trim(v, " \t") }

// isHeader reports whether h is called name (ASCII case-insensitive).
func isHeader(h Header, name string) bool { return strings.EqualFold(h.Name, name) }

// ApachePATH is the PATH Apache passes: its own environment's, which
// Debian's apache2.service gets from systemd.
const ApachePATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// apachePrefetch is the most body Apache reads before it sends a chunked
// request on: a chunked body that ends within it gets CONTENT_LENGTH.
const apachePrefetch = 16 << 10

// buildApache maps a request as Apache 2.4 with mod_proxy_fcgi sends it:
// its subprocess_env table, in table order.
func buildApache(f *httpFacts, variant string) Params {
	var l paramList
	if auth, _ := f.line("Authorization"); auth != "" { // SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1
		l.add("HTTP_AUTHORIZATION", auth, OriginHeaders)
	}
	hostName, _ := hostParts(f.host())
	if f.in.HTTPS {
		l.add("HTTPS", "on", OriginServer)
		if net.ParseIP(strings.Trim(hostName, "[]")) == nil {
			l.add("SSL_TLS_SNI", strings.ToLower(hostName), OriginServer)
		}
	}
	l.add("proxy-nokeepalive", "1", OriginServer)
	// A chunked body that fits the prefetch is sent with a Content-Length
	// (appended to the headers) instead of its Transfer-Encoding.
	dechunk := f.chunked() && f.hs.bodyLen < apachePrefetch
	headers := mergeHeaders(f.hs.lines, apacheHeaderName, trimSpaceTab, func(h Header) bool {
		return isHeader(h, "Authorization") || isHeader(h, "Proxy-Authorization") || isHeader(h, "Proxy") ||
			dechunk && isHeader(h, "Transfer-Encoding")
	})
	for _, m := range headers {
		name := m.param
		switch name {
		case "HTTP_CONTENT_TYPE":
			name = "CONTENT_TYPE"
		case "HTTP_CONTENT_LENGTH":
			name = "CONTENT_LENGTH"
		}
		l.add(name, strings.Join(m.values, ", "), OriginHeaders)
	}
	if dechunk {
		l.add("CONTENT_LENGTH", strconv.FormatInt(f.hs.bodyLen, 10), OriginCGI)
	}
	serverName := strings.ToLower(hostName)
	port := f.hostPort()
	l.add("PATH", ApachePATH, OriginServer)
	l.add("SERVER_SIGNATURE", "<address>"+f.in.ServerSoftware+" Server at "+serverName+" Port "+port+"</address>\n", OriginServer)
	l.add("SERVER_SOFTWARE", f.in.ServerSoftware, OriginCGI)
	l.add("SERVER_NAME", serverName, OriginCGI)
	l.add("SERVER_ADDR", f.in.ServerAddr, OriginCGI)
	l.add("SERVER_PORT", port, OriginCGI)
	l.add("REMOTE_ADDR", f.in.RemoteAddr, OriginRemote)
	l.add("DOCUMENT_ROOT", f.r.DocumentRoot, OriginRouter)
	l.add("REQUEST_SCHEME", f.scheme(), OriginCGI)
	l.add("CONTEXT_PREFIX", "", OriginServer)
	l.add("CONTEXT_DOCUMENT_ROOT", f.r.DocumentRoot, OriginServer)
	l.add("SERVER_ADMIN", "webmaster@localhost", OriginServer)
	filename := f.r.ScriptFilename
	if variant != "generic" {
		filename = "proxy:fcgi://localhost" + filename
	}
	l.add("SCRIPT_FILENAME", filename, OriginRouter)
	l.add("REMOTE_PORT", strconv.Itoa(f.in.RemotePort), OriginRemote)
	l.add("GATEWAY_INTERFACE", "CGI/1.1", OriginCGI)
	l.add("SERVER_PROTOCOL", f.in.ServerProtocol, OriginCGI)
	l.add("REQUEST_METHOD", f.in.Method, OriginCGI)
	l.add("QUERY_STRING", f.t.query, OriginCGI)
	l.add("REQUEST_URI", f.t.raw, OriginCGI)
	l.add("SCRIPT_NAME", f.r.ScriptName, OriginRouter)
	if f.r.PathInfo != "" {
		l.add("PATH_INFO", f.r.PathInfo, OriginRouter)
		l.add("PATH_TRANSLATED", f.r.DocumentRoot+f.r.PathInfo, OriginRouter)
	}
	return l.ps
}

// buildLighttpd maps a request as lighttpd 1.4's mod_fastcgi sends it, in
// the order of its http_cgi_headers.
func buildLighttpd(f *httpFacts, variant string) Params {
	var l paramList
	l.add("CONTENT_LENGTH", strconv.FormatInt(f.hs.bodyLen, 10), OriginCGI)
	path, query, changed := lighttpdNormalize(f.t)
	l.add("QUERY_STRING", query, OriginCGI)
	l.add("REQUEST_URI", f.t.raw, OriginCGI)
	if changed {
		target := path
		if strings.Contains(f.t.raw, "?") {
			target += "?" + query
		}
		l.add("REDIRECT_URI", target, OriginCGI)
	}
	l.add("REDIRECT_STATUS", "200", OriginCGI)
	l.add("SCRIPT_NAME", f.r.ScriptName, OriginRouter)
	if f.r.PathInfo != "" {
		l.add("PATH_INFO", f.r.PathInfo, OriginRouter)
		l.add("PATH_TRANSLATED", f.r.DocumentRoot+f.r.PathInfo, OriginRouter)
	}
	filename := f.r.ScriptFilename
	if variant != "plain" {
		if f.r.PathInfo != "" {
			filename += f.r.PathInfo
		} else {
			filename += "/"
		}
	}
	l.add("SCRIPT_FILENAME", filename, OriginRouter)
	l.add("DOCUMENT_ROOT", f.r.DocumentRoot, OriginRouter)
	l.add("REQUEST_METHOD", f.in.Method, OriginCGI)
	l.add("SERVER_PROTOCOL", f.in.ServerProtocol, OriginCGI)
	l.add("SERVER_SOFTWARE", f.in.ServerSoftware, OriginCGI)
	l.add("GATEWAY_INTERFACE", "CGI/1.1", OriginCGI)
	l.add("REQUEST_SCHEME", f.scheme(), OriginCGI)
	if f.in.HTTPS {
		l.add("HTTPS", "on", OriginCGI)
	}
	l.add("SERVER_PORT", strconv.Itoa(f.in.ServerPort), OriginCGI)
	l.add("SERVER_ADDR", f.in.ServerAddr, OriginCGI)
	hostName, _ := hostParts(strings.ToLower(f.host()))
	l.add("SERVER_NAME", hostName, OriginCGI)
	l.add("REMOTE_ADDR", f.in.RemoteAddr, OriginRemote)
	l.add("REMOTE_PORT", strconv.Itoa(f.in.RemotePort), OriginRemote)
	headers := mergeHeaders(f.hs.lines, lighttpdHeaderName, trimSpaceTab, func(h Header) bool {
		return isHeader(h, "Proxy") || isHeader(h, "Transfer-Encoding") || trimSpaceTab(h.Value) == ""
	})
	for _, m := range headers {
		sep := ", "
		if m.param == "HTTP_COOKIE" {
			sep = "; "
		}
		name, value := m.param, strings.Join(m.values, sep)
		switch name {
		case "HTTP_CONTENT_TYPE":
			name = "CONTENT_TYPE"
		case "HTTP_HOST":
			value = strings.ToLower(value)
		}
		l.add(name, value, OriginHeaders)
	}
	if f.in.HTTPS {
		// Negotiated: what a browser's (or Go's) TLS 1.3 client gets;
		// curl gets TLS_AES_256_GCM_SHA384 and 256-bit keys.
		l.add("SSL_PROTOCOL", "TLSv1.3", OriginServer)
		l.add("SSL_CIPHER", "TLS_AES_128_GCM_SHA256", OriginServer)
		l.add("SSL_CIPHER_USEKEYSIZE", "128", OriginServer)
		l.add("SSL_CIPHER_ALGKEYSIZE", "128", OriginServer)
	}
	return l.ps
}

// lighttpdNormalize normalizes the request target as Debian's
// server.http-parseopts do (url-normalize-unreserved, -required,
// url-path-dotseg-remove): percent escapes of unreserved characters
// decoded, the others in upper case, bytes that must be escaped escaped,
// dot segments removed. It returns the path and query and whether the
// target changed.
func lighttpdNormalize(t target) (path, query string, changed bool) {
	rest := t.raw
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		rest = rest[:i]
	}
	path, query, _ = strings.Cut(rest, "?")
	path, query = normalizeURLPart(path), normalizeURLPart(query)
	if p, ok := normalizePath(path); ok {
		path = p
	}
	norm := path
	if strings.Contains(rest, "?") {
		norm += "?" + query
	}
	return path, query, norm != rest
}

// normalizeURLPart applies url-normalize-unreserved and -required to s.
func normalizeURLPart(s string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			d := unhex(s[i+1])<<4 | unhex(s[i+2])
			if isUnreserved(d) {
				b.WriteByte(d)
			} else {
				b.WriteByte('%')
				b.WriteByte(hexd[d>>4])
				b.WriteByte(hexd[d&15])
			}
			i += 2
		case c < 0x21 || c >= 0x7f || strings.IndexByte(`"<>\^`+"`{|}", c) >= 0:
			b.WriteByte('%')
			b.WriteByte(hexd[c>>4])
			b.WriteByte(hexd[c&15])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || isDigit(c) || strings.IndexByte("-._~", c) >= 0
}

// buildCaddy maps a request as Caddy 2.6's php_fastcgi sends it, sorted by
// name (the real order varies).
func buildCaddy(f *httpFacts, _ string) Params {
	var l paramList
	method := f.in.Method
	contentType := f.hs.contentType
	contentLength := strconv.FormatInt(f.hs.bodyLen, 10)
	switch method {
	case "HEAD", "OPTIONS":
		contentLength = "0"
	case "GET":
	default:
		if contentType == "" {
			contentType = "application/x-www-form-urlencoded"
		}
		if f.chunked() {
			contentLength = "-1"
		}
	}
	hostName, _ := hostParts(f.host())
	l.add("AUTH_TYPE", "", OriginCGI)
	l.add("CONTENT_LENGTH", contentLength, OriginCGI)
	l.add("CONTENT_TYPE", contentType, OriginCGI)
	l.add("GATEWAY_INTERFACE", "CGI/1.1", OriginCGI)
	l.add("PATH_INFO", f.r.PathInfo, OriginRouter)
	l.add("QUERY_STRING", f.t.query, OriginCGI)
	l.add("REMOTE_ADDR", f.in.RemoteAddr, OriginRemote)
	l.add("REMOTE_HOST", f.in.RemoteAddr, OriginRemote)
	l.add("REMOTE_PORT", strconv.Itoa(f.in.RemotePort), OriginRemote)
	l.add("REMOTE_IDENT", "", OriginRemote)
	l.add("REMOTE_USER", "", OriginRemote)
	l.add("REQUEST_METHOD", method, OriginCGI)
	l.add("REQUEST_SCHEME", f.scheme(), OriginCGI)
	l.add("SERVER_NAME", hostName, OriginCGI)
	l.add("SERVER_PORT", f.hostPort(), OriginCGI)
	l.add("SERVER_PROTOCOL", f.in.ServerProtocol, OriginCGI)
	l.add("SERVER_SOFTWARE", f.in.ServerSoftware, OriginCGI)
	l.add("DOCUMENT_ROOT", f.r.DocumentRoot, OriginRouter)
	l.add("DOCUMENT_URI", f.r.ScriptName, OriginRouter)
	l.add("HTTP_HOST", f.host(), OriginHeaders)
	l.add("REQUEST_URI", f.t.raw, OriginCGI)
	l.add("SCRIPT_FILENAME", f.r.ScriptFilename, OriginRouter)
	l.add("SCRIPT_NAME", f.r.ScriptName, OriginRouter)
	if f.r.PathInfo != "" {
		l.add("PATH_TRANSLATED", f.r.DocumentRoot+f.r.PathInfo, OriginRouter)
	}
	if f.in.HTTPS {
		l.add("HTTPS", "on", OriginServer)
		// What a TLS 1.3 client negotiates with Go's defaults.
		l.add("SSL_PROTOCOL", "TLSv1.3", OriginServer)
		l.add("SSL_CIPHER", "TLS_AES_128_GCM_SHA256", OriginServer)
	}
	// Go's server keeps the header lines but Host and Transfer-Encoding;
	// reverse_proxy sets the X-Forwarded-* ones and an empty User-Agent.
	headers := mergeHeaders(f.hs.lines, caddyHeaderName, trimSpaceTab, func(h Header) bool {
		return isHeader(h, "Host") || isHeader(h, "Transfer-Encoding") ||
			isHeader(h, "X-Forwarded-For") || isHeader(h, "X-Forwarded-Proto") || isHeader(h, "X-Forwarded-Host")
	})
	ua := false
	for _, m := range headers {
		l.add(m.param, strings.Join(m.values, ", "), OriginHeaders)
		ua = ua || m.param == "HTTP_USER_AGENT"
	}
	if !ua {
		l.add("HTTP_USER_AGENT", "", OriginServer)
	}
	l.add("HTTP_X_FORWARDED_FOR", f.in.RemoteAddr, OriginServer)
	l.add("HTTP_X_FORWARDED_PROTO", f.scheme(), OriginServer)
	l.add("HTTP_X_FORWARDED_HOST", f.host(), OriginServer)
	slices.SortStableFunc(l.ps, func(a, b Param) int { return strings.Compare(a.Name, b.Name) })
	return l.ps
}

// buildNginxSnippet maps a request as nginx does with Debian's
// snippets/fastcgi-php.conf (which includes fastcgi.conf).
func buildNginxSnippet(f *httpFacts, _ string) Params {
	var l paramList
	l.add("PATH_INFO", f.r.PathInfo, OriginRouter)
	l.add("SCRIPT_FILENAME", f.r.ScriptFilename, OriginRouter)
	l.add("QUERY_STRING", f.t.query, OriginCGI)
	l.add("REQUEST_METHOD", f.in.Method, OriginCGI)
	l.add("CONTENT_TYPE", f.hs.contentType, OriginCGI)
	l.add("CONTENT_LENGTH", f.hs.contentLength, OriginCGI)
	l.add("SCRIPT_NAME", f.r.ScriptName, OriginRouter)
	l.add("REQUEST_URI", f.t.raw, OriginCGI)
	l.add("DOCUMENT_URI", f.r.ScriptName, OriginRouter) // try_files rewrote $uri to the script
	l.add("DOCUMENT_ROOT", f.r.DocumentRoot, OriginRouter)
	l.add("SERVER_PROTOCOL", f.in.ServerProtocol, OriginCGI)
	l.add("REQUEST_SCHEME", f.scheme(), OriginCGI)
	if f.in.HTTPS {
		l.add("HTTPS", "on", OriginCGI)
	}
	l.add("GATEWAY_INTERFACE", "CGI/1.1", OriginCGI)
	l.add("SERVER_SOFTWARE", f.in.ServerSoftware, OriginCGI)
	l.add("REMOTE_ADDR", f.in.RemoteAddr, OriginRemote)
	l.add("REMOTE_PORT", strconv.Itoa(f.in.RemotePort), OriginRemote)
	l.add("REMOTE_USER", basicUser(f.hs.authorization), OriginRemote)
	l.add("SERVER_ADDR", f.in.ServerAddr, OriginCGI)
	l.add("SERVER_PORT", strconv.Itoa(f.in.ServerPort), OriginCGI)
	l.add("SERVER_NAME", f.in.ServerName, OriginCGI)
	l.add("REDIRECT_STATUS", "200", OriginCGI)
	joined := make(map[string]int)
	for _, h := range f.hs.lines {
		name, ok := headerParam(h.Name)
		if !ok || name == "HTTP_PROXY" {
			continue
		}
		if f.in.CombineHeaders {
			if i, seen := joined[name]; seen {
				sep := ", "
				if name == "HTTP_COOKIE" {
					sep = "; "
				}
				l.ps[i].Value += sep + trimValue(h.Value)
				continue
			}
			joined[name] = len(l.ps)
		}
		l.add(name, trimValue(h.Value), OriginHeaders)
	}
	return l.ps
}
