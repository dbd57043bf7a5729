// The middlewares of HTTP mode and of the other roles: each sets its params
// with its own short name as Origin, where nginx would put them.

package session

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"fcgiscope/fcgi"
)

// Origins: the Origin of the params each middleware sets (Authorizer sets
// none; OriginAuthorizer, in send.go, marks the params an authorizer grants).
const (
	OriginCGI     = "cgi"
	OriginHeaders = "headers"
	OriginRemote  = "remote"
	OriginRouter  = "router"
	OriginFile    = "file"
	OriginFilter  = "filter"
)

// nginxRank is the position of name in the params nginx 1.22 sends with
// Debian's fastcgi_params and the PHP location (SCRIPT_FILENAME and
// PATH_INFO come last); other names rank after all of them. Header params
// (HTTP_*) follow in header order.
func nginxRank(name string) int {
	switch name {
	case "QUERY_STRING":
		return 0
	case "REQUEST_METHOD":
		return 1
	case "CONTENT_TYPE":
		return 2
	case "CONTENT_LENGTH":
		return 3
	case "SCRIPT_NAME":
		return 4
	case "REQUEST_URI":
		return 5
	case "DOCUMENT_URI":
		return 6
	case "DOCUMENT_ROOT":
		return 7
	case "SERVER_PROTOCOL":
		return 8
	case "REQUEST_SCHEME":
		return 9
	case "HTTPS":
		return 10
	case "GATEWAY_INTERFACE":
		return 11
	case "SERVER_SOFTWARE":
		return 12
	case "REMOTE_ADDR":
		return 13
	case "REMOTE_PORT":
		return 14
	case "REMOTE_USER":
		return 15
	case "SERVER_ADDR":
		return 16
	case "SERVER_PORT":
		return 17
	case "SERVER_NAME":
		return 18
	case "REDIRECT_STATUS":
		return 19
	case "HTTP_HOST":
		return 20
	case "SCRIPT_FILENAME":
		return 21
	case "PATH_INFO":
		return 22
	}
	return 1 << 30
}

// Place sets name like Set when it is present; otherwise it inserts it
// where nginx 1.22 puts it: before the first param that nginx sends later
// (any param nginx's fastcgi_params do not name counts as later). So
// middlewares produce nginx's order whatever order they run in.
func (ps *Params) Place(name, value, origin string) {
	if _, ok := ps.Get(name); ok {
		ps.Set(name, value, origin)
		return
	}
	r := nginxRank(name)
	for i, p := range *ps {
		if nginxRank(p.Name) > r {
			// Inserted in place: no new slice unless it must grow.
			*ps = append(*ps, Param{})
			copy((*ps)[i+1:], (*ps)[i:])
			(*ps)[i] = Param{Name: name, Value: value, Origin: origin}
			return
		}
	}
	ps.Add(name, value, origin)
}

// CGIBasics sets what nginx derives from the request line and the server:
// QUERY_STRING, REQUEST_METHOD, CONTENT_TYPE, CONTENT_LENGTH (both empty
// when absent, as nginx sends them), REQUEST_URI (raw), DOCUMENT_URI (the
// decoded, normalized path), SERVER_PROTOCOL, REQUEST_SCHEME, HTTPS (only
// when on), GATEWAY_INTERFACE, SERVER_SOFTWARE, SERVER_ADDR, SERVER_PORT,
// SERVER_NAME and REDIRECT_STATUS; the role (responder, unless already set)
// and the body.
func CGIBasics(in HTTPInput) Middleware {
	in = in.WithDefaults()
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			t, hs, err := in.requestLine()
			if err != nil {
				return nil, err
			}
			scheme := "http"
			if in.HTTPS {
				scheme = "https"
			}
			ps := &req.Params
			ps.Place("QUERY_STRING", t.query, OriginCGI)
			ps.Place("REQUEST_METHOD", in.Method, OriginCGI)
			ps.Place("CONTENT_TYPE", hs.contentType, OriginCGI)
			ps.Place("CONTENT_LENGTH", hs.contentLength, OriginCGI)
			ps.Place("REQUEST_URI", t.raw, OriginCGI)
			if _, routed := ps.Get("DOCUMENT_URI"); !routed {
				// A router's DOCUMENT_URI (after index rewrites) wins.
				ps.Place("DOCUMENT_URI", t.uri, OriginCGI)
			}
			ps.Place("SERVER_PROTOCOL", in.ServerProtocol, OriginCGI)
			ps.Place("REQUEST_SCHEME", scheme, OriginCGI)
			if in.HTTPS {
				ps.Place("HTTPS", "on", OriginCGI)
			}
			ps.Place("GATEWAY_INTERFACE", "CGI/1.1", OriginCGI)
			ps.Place("SERVER_SOFTWARE", in.ServerSoftware, OriginCGI)
			ps.Place("SERVER_ADDR", in.ServerAddr, OriginCGI)
			ps.Place("SERVER_PORT", strconv.Itoa(in.ServerPort), OriginCGI)
			ps.Place("SERVER_NAME", in.ServerName, OriginCGI)
			ps.Place("REDIRECT_STATUS", "200", OriginCGI)
			setBody(req, in, hs)
			return next(ctx, req)
		}
	}
}

// setBody gives req the role (responder, unless already set) and the body
// of in, hs.bodyLen bytes.
func setBody(req *Request, in HTTPInput, hs headerScan) {
	if req.Role == 0 {
		req.Role = fcgi.RoleResponder
	}
	req.BodyLen = hs.bodyLen
	switch {
	case in.BodyFile != "":
		req.Body = &fileBody{path: in.BodyFile, left: hs.bodyLen}
	case len(in.Body) > 0:
		req.Body = bytes.NewReader(in.Body)
	default:
		req.Body = nil
	}
}

// requestLine checks in's method, protocol and server port, and returns
// its target and header lines as nginx reads them.
func (in HTTPInput) requestLine() (target, headerScan, error) {
	if err := checkMethod(in.Method); err != nil {
		return target{}, headerScan{}, err
	}
	if !validProtocol(in.ServerProtocol) {
		return target{}, headerScan{}, fmt.Errorf("session: http: server protocol %q is not HTTP/n.n: %w", in.ServerProtocol, ErrBadHTTP)
	}
	if err := checkPort("server", in.ServerPort); err != nil {
		return target{}, headerScan{}, err
	}
	t, err := parseTarget(in.URL)
	if err != nil {
		return target{}, headerScan{}, err
	}
	hs, err := in.scanHeaders()
	return t, hs, err
}

// checkMethod refuses what nginx 1.22 answers 400 to: a method with
// anything but A-Z, '_' and '-'.
func checkMethod(m string) error {
	for i := 0; i < len(m); i++ {
		if c := m[i]; (c < 'A' || c > 'Z') && c != '_' && c != '-' {
			return fmt.Errorf("session: http: method %q has %q; nginx takes only A-Z, _ and - (it answers 400): %w", m, c, ErrBadHTTP)
		}
	}
	return nil
}

// validProtocol reports whether p reads HTTP/d.d.
func validProtocol(p string) bool {
	return len(p) == 8 && strings.HasPrefix(p, "HTTP/") && isDigit(p[5]) && p[6] == '.' && isDigit(p[7])
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func checkPort(which string, p int) error {
	if p < 0 || p > 65535 {
		return fmt.Errorf("session: http: %s port %d is out of range", which, p)
	}
	return nil
}

// Remote sets what nginx knows of the client: REMOTE_ADDR, REMOTE_PORT and
// REMOTE_USER (the user of a Basic Authorization header, which nginx
// decodes even without auth_basic; empty otherwise).
func Remote(in HTTPInput) Middleware {
	in = in.WithDefaults()
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			if err := checkPort("remote", in.RemotePort); err != nil {
				return nil, err
			}
			hs, err := in.scanHeaders()
			if err != nil {
				return nil, err
			}
			ps := &req.Params
			ps.Place("REMOTE_ADDR", in.RemoteAddr, OriginRemote)
			ps.Place("REMOTE_PORT", strconv.Itoa(in.RemotePort), OriginRemote)
			ps.Place("REMOTE_USER", basicUser(hs.authorization), OriginRemote)
			return next(ctx, req)
		}
	}
}

// Headers sets HTTP_HOST to nginx's $host (the Host header lowercased,
// without port, or ServerName) and appends one HTTP_* param per header line
// in order, as nginx 1.22 passes them: name uppercased, '-' turned to '_'.
// Like nginx it also passes Content-Type and Content-Length as
// HTTP_CONTENT_TYPE and HTTP_CONTENT_LENGTH, skips the Host line (HTTP_HOST
// comes from fastcgi_params), and ignores lines whose name has anything but
// letters, digits and '-' (ignore_invalid_headers). Unlike nginx it drops
// Proxy (httpoxy). With in.CombineHeaders repeated lines become one param.
func Headers(in HTTPInput) Middleware {
	in = in.WithDefaults()
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			hs, err := in.scanHeaders()
			if err != nil {
				return nil, err
			}
			ps := &req.Params
			ps.Place("HTTP_HOST", hs.host, OriginHeaders)
			var joined map[string]int // param name -> index in *ps, with CombineHeaders
			if in.CombineHeaders {
				joined = make(map[string]int)
			}
			for _, h := range hs.lines {
				name, ok := headerParam(h.Name)
				if !ok || name == "HTTP_HOST" || name == "HTTP_PROXY" {
					continue
				}
				if joined != nil {
					if i, seen := joined[name]; seen {
						sep := ", "
						if name == "HTTP_COOKIE" {
							sep = "; "
						}
						(*ps)[i].Value += sep + trimValue(h.Value)
						continue
					}
					joined[name] = len(*ps)
				}
				ps.Add(name, trimValue(h.Value), OriginHeaders)
			}
			return next(ctx, req)
		}
	}
}

// headerParam returns the HTTP_* param name of a header, and false for a
// name nginx ignores (anything but ASCII letters, digits and '-').
func headerParam(name string) (string, bool) { return cgiHeaderName(name, false) }

// cgiHeaderName returns "HTTP_" and name upper-cased with '-' turned to
// '_'. Any other byte but letters and digits makes it fail, or, when
// loose, becomes '_' too.
func cgiHeaderName(name string, loose bool) (string, bool) {
	b := make([]byte, 0, len("HTTP_")+len(name))
	b = append(b, "HTTP_"...)
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case 'A' <= c && c <= 'Z', isDigit(c):
		case c == '-' || loose:
			c = '_'
		default:
			return "", false
		}
		b = append(b, c)
	}
	return string(b), true
}

// FileEndpoint sends every request to one script, as gofast's
// NewFileEndpoint does: SCRIPT_FILENAME is path, SCRIPT_NAME "/" and its
// base name, DOCUMENT_ROOT its directory. It does not look at the file.
func FileEndpoint(path string) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			if !filepath.IsAbs(path) {
				return nil, fmt.Errorf("session: file endpoint: %q is not an absolute path", path)
			}
			if strings.ContainsAny(path, "\x00\r\n") {
				return nil, fmt.Errorf("session: file endpoint: %q: %w", path, ErrUnsafePath)
			}
			dir, file := filepath.Split(path)
			ps := &req.Params
			ps.Place("SCRIPT_NAME", "/"+file, OriginFile)
			ps.Place("DOCUMENT_ROOT", filepath.Clean(dir), OriginFile)
			ps.Place("SCRIPT_FILENAME", path, OriginFile)
			return next(ctx, req)
		}
	}
}

// Authorizer turns the request into an authorizer request (spec §6.3):
// role AUTHORIZER, no body, and none of CONTENT_LENGTH, PATH_INFO,
// PATH_TRANSLATED and SCRIPT_NAME, which the spec says the web server does
// not send. It removes what the middlewares before it set, so it belongs
// after them (PreviewHTTP runs its extra middlewares last).
func Authorizer() Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			req.Role = fcgi.RoleAuthorizer
			req.Body, req.BodyLen = nil, 0
			req.Data, req.DataLen = nil, 0
			for _, name := range []string{"CONTENT_LENGTH", "PATH_INFO", "PATH_TRANSLATED", "SCRIPT_NAME"} {
				req.Params.Del(name)
			}
			return next(ctx, req)
		}
	}
}

// FilterFile turns the request into a filter request (spec §6.4): role
// FILTER, FCGI_DATA_LAST_MOD (the file's modification time in seconds
// since the epoch) and FCGI_DATA_LENGTH, and the file's content on DATA.
// The file is opened only when DATA is read, and closed at its end.
func FilterFile(path string) Middleware {
	return func(next Handler) Handler {
		return func(ctx context.Context, req *Request) (*Exchange, error) {
			fi, err := os.Stat(path)
			if err != nil {
				return nil, fmt.Errorf("session: filter: data file: %w", err)
			}
			if !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("session: filter: data file %q is not a regular file", path)
			}
			req.Role = fcgi.RoleFilter
			req.Params.Set("FCGI_DATA_LAST_MOD", strconv.FormatInt(fi.ModTime().Unix(), 10), OriginFilter)
			req.Params.Set("FCGI_DATA_LENGTH", strconv.FormatInt(fi.Size(), 10), OriginFilter)
			req.Data, req.DataLen = &fileBody{path: path, left: fi.Size()}, fi.Size()
			return next(ctx, req)
		}
	}
}

// fileBody reads a file lazily: it opens it at the first Read, gives at
// most left bytes (the size announced in the params) and closes it at the
// end, on error, or on Close.
type fileBody struct {
	path string
	left int64
	f    *os.File
	done bool
}

// Read implements io.Reader.
func (b *fileBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.f == nil {
		f, err := os.Open(b.path)
		if err != nil {
			b.done = true
			return 0, fmt.Errorf("session: open body: %w", err)
		}
		b.f = f
	}
	if b.left <= 0 {
		b.Close()
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.f.Read(p)
	b.left -= int64(n)
	if err != nil {
		b.Close()
		if err != io.EOF {
			err = fmt.Errorf("session: read body %q: %w", b.path, err)
		}
		return n, err
	}
	return n, nil
}

// Close closes the file if it is open; later Reads return io.EOF.
func (b *fileBody) Close() error {
	b.done = true
	if b.f == nil {
		return nil
	}
	err := b.f.Close()
	b.f = nil
	return err
}
