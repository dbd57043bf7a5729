// HTTP mode of send: the flags composed into a session.HTTPInput and mapped
// to params by session's middlewares, as nginx would map them.

package cli

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// httpInput composes the HTTP flags into an HTTPInput. The body is read into
// memory (--body-file - reads Stdin).
func (e *env) httpInput(o *sendOpts) (session.HTTPInput, error) {
	in := session.HTTPInput{
		Method:       o.method,
		URL:          o.url,
		DocumentRoot: o.docroot,
		ServerName:   o.serverName,
		HTTPS:        o.https,
	}
	for _, h := range o.headers {
		name, value, _ := strings.Cut(h, ":")
		in.Headers = append(in.Headers, session.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	if in.URL == "" {
		in.URL = "/"
	}
	if scheme, rest, ok := strings.Cut(in.URL, "://"); ok {
		// An absolute URL: its scheme, host and port describe the server
		// unless flags say otherwise.
		switch strings.ToLower(scheme) {
		case "http":
		case "https":
			in.HTTPS = true
		default:
			return in, usagef("--url %q: the scheme must be http or https (or give a path: /index.php?a=b)", o.url)
		}
		host, target := rest, "/"
		if i := strings.IndexAny(rest, "/?#"); i >= 0 {
			host, target = rest[:i], rest[i:]
			if target[0] != '/' {
				target = "/" + target
			}
		}
		if host == "" {
			return in, usagef("--url %q: no host after %s://", o.url, scheme)
		}
		in.URL = target
		if !hasHeader(in.Headers, "Host") {
			in.Headers = append([]session.Header{{Name: "Host", Value: host}}, in.Headers...)
		}
		hostname, port := host, ""
		if h, p, err := net.SplitHostPort(host); err == nil {
			hostname, port = h, p
		}
		if in.ServerName == "" {
			in.ServerName = strings.Trim(hostname, "[]")
		}
		if port != "" && o.serverPort == "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return in, usagef("--url %q: port %q is not a number from 1 to 65535", o.url, port)
			}
			in.ServerPort = n
		}
	}
	if o.serverPort != "" {
		n, err := strconv.Atoi(o.serverPort)
		if err != nil || n < 1 || n > 65535 {
			return in, usagef("--server-port %q: want a number from 1 to 65535", o.serverPort)
		}
		in.ServerPort = n
	}
	if o.remoteAddr != "" {
		host, port := o.remoteAddr, ""
		if h, p, err := net.SplitHostPort(o.remoteAddr); err == nil {
			host, port = h, p
		}
		if net.ParseIP(host) == nil {
			return in, usagef("--remote-addr %q: want an IP address, optionally with :port", o.remoteAddr)
		}
		in.RemoteAddr = host
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 {
				return in, usagef("--remote-addr %q: port %q is not a number from 1 to 65535", o.remoteAddr, port)
			}
			in.RemotePort = n
		}
	}
	switch {
	case o.set["body"]:
		in.Body = []byte(o.body)
	case o.bodyFile != "":
		b, err := e.readInput("body-file", o.bodyFile)
		if err != nil {
			return in, err
		}
		in.Body = b
	}
	if in.Method == "" && len(in.Body) > 0 {
		in.Method = "POST"
	}
	return in, nil
}

func hasHeader(hs []session.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// httpRequest composes the request of HTTP mode into req: params mapped as
// nginx with php-fpm would (document-root routing only when --docroot is
// given), the body, and the role (the Authorizer and FilterFile middlewares
// for those roles). It records the HTTPInput in in. A request the mapping
// refuses (what nginx would answer 4xx to) is a usage error.
func (e *env) httpRequest(ctx context.Context, o *sendOpts, role fcgi.Role, req *session.Request, in *session.Input) error {
	hin, err := e.httpInput(o)
	if err != nil {
		return err
	}
	in.HTTP = &hin
	mws := []session.Middleware{session.CGIBasics(hin), session.Remote(hin), session.Headers(hin)}
	if hin.DocumentRoot != "" {
		mws = append(mws, session.PHPRouter(hin))
	} else {
		e.log.Info("no --docroot: SCRIPT_FILENAME, SCRIPT_NAME and DOCUMENT_ROOT are not set")
	}
	switch role {
	case fcgi.RoleAuthorizer:
		mws = append(mws, session.Authorizer())
	case fcgi.RoleFilter:
		if o.dataFile != "" && o.dataFile != "-" {
			mws = append(mws, session.FilterFile(o.dataFile))
		}
	}
	var kept *session.Request
	keep := func(_ context.Context, r *session.Request) (*session.Exchange, error) {
		kept = r
		return nil, nil
	}
	if _, err := session.Chain(mws...)(keep)(ctx, req); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return usagef("composing the HTTP request: %v", strings.TrimPrefix(err.Error(), "session: "))
	}
	if kept == nil {
		return errors.New("cli: send: the HTTP mapping did not produce a request")
	}
	*req = *kept
	req.Role = role
	return nil
}
