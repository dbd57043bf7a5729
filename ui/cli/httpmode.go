// HTTP mode of send: the HTTP flags laid over an HTTPInput (empty, or a
// preset's), an absolute URL resolved, and the request mapped to params by
// session's middlewares, as nginx would map them.

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

// overlayHTTP returns h with the HTTP flags given on the command line laid
// over it. --header lines replace every line of h with the same name
// (case-insensitive), at the place of the first one, and are appended when h
// has none (mergeHeaders). --url is kept as given, absolute or not, until
// resolveURL (after variables are substituted); an empty URL becomes "/".
// The body is Input's (compose).
func overlayHTTP(o *sendOpts, h session.HTTPInput) (session.HTTPInput, error) {
	if o.set["method"] {
		h.Method = o.method
	}
	if o.set["url"] {
		h.URL = o.url
	}
	if o.set["docroot"] {
		h.DocumentRoot = o.docroot
	}
	if o.set["server-name"] {
		h.ServerName = o.serverName
	}
	if o.set["https"] {
		h.HTTPS = o.https
	}
	if o.set["split-path"] {
		h.SplitPath = o.splitPath
	}
	if o.set["location"] {
		h.Location = o.location
	}
	if o.set["profile"] {
		p, v, err := parseProfile(o.profile)
		if err != nil {
			return h, err
		}
		h.Profile, h.Variant = p, v
	}
	if o.set["server-port"] {
		h.ServerPort = 0
		if o.serverPort != "" {
			n, err := strconv.Atoi(o.serverPort)
			if err != nil || n < 1 || n > 65535 {
				return h, usagef("--server-port %q: want a number from 1 to 65535", o.serverPort)
			}
			h.ServerPort = n
		}
	}
	if o.set["remote-addr"] {
		h.RemoteAddr, h.RemotePort = "", 0
		if o.remoteAddr != "" {
			host, port := o.remoteAddr, ""
			if hh, p, err := net.SplitHostPort(o.remoteAddr); err == nil {
				host, port = hh, p
			}
			if net.ParseIP(host) == nil {
				return h, usagef("--remote-addr %q: want an IP address, optionally with :port", o.remoteAddr)
			}
			h.RemoteAddr = host
			if port != "" {
				n, err := strconv.Atoi(port)
				if err != nil || n < 1 || n > 65535 {
					return h, usagef("--remote-addr %q: port %q is not a number from 1 to 65535", o.remoteAddr, port)
				}
				h.RemotePort = n
			}
		}
	}
	h.Headers = mergeHeaders(h.Headers, flagHeaders(o.headers))
	if h.URL == "" {
		h.URL = "/"
	}
	return h, nil
}

// flagHeaders parses --header values (checked by sendOpts.check).
func flagHeaders(lines []string) []session.Header {
	out := make([]session.Header, 0, len(lines))
	for _, l := range lines {
		name, value, _ := strings.Cut(l, ":")
		out = append(out, session.Header{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	}
	return out
}

// mergeHeaders returns base with over laid on it: the lines of over whose
// name base has (case-insensitive) replace all of base's lines of that
// name, at the place of the first; the others are appended, in order.
// Repeated names in over stay repeated.
func mergeHeaders(base, over []session.Header) []session.Header {
	if len(over) == 0 {
		return base
	}
	byName := make(map[string][]session.Header)
	var order []string
	for _, h := range over {
		k := strings.ToLower(h.Name)
		if _, seen := byName[k]; !seen {
			order = append(order, k)
		}
		byName[k] = append(byName[k], h)
	}
	out := make([]session.Header, 0, len(base)+len(over))
	placed := make(map[string]bool)
	for _, h := range base {
		k := strings.ToLower(h.Name)
		lines, replaced := byName[k]
		switch {
		case !replaced:
			out = append(out, h)
		case !placed[k]:
			out = append(out, lines...)
			placed[k] = true
		}
	}
	for _, k := range order {
		if !placed[k] {
			out = append(out, byName[k]...)
		}
	}
	return out
}

// resolveURL turns an absolute URL (http[s]://host[:port]/path?query) into
// the request target, and lets its host, port and scheme describe the
// server: the Host line (replaced, or put first), SERVER_NAME, SERVER_PORT
// and HTTPS, each unless its own flag (--header Host, --server-name,
// --server-port, --https) was given. A URL that is a path is left as it is.
func resolveURL(h *session.HTTPInput, o *sendOpts) error {
	src := "--url"
	if !o.set["url"] {
		src = "the preset's URL"
	}
	scheme, rest, ok := strings.Cut(h.URL, "://")
	if !ok {
		return nil
	}
	var https bool
	switch strings.ToLower(scheme) {
	case "http":
	case "https":
		https = true
	default:
		return usagef("%s %q: the scheme must be http or https (or give a path: /index.php?a=b)", src, h.URL)
	}
	host, target := rest, "/"
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, target = rest[:i], rest[i:]
		if target[0] != '/' {
			target = "/" + target
		}
	}
	if host == "" {
		return usagef("%s %q: no host after %s://", src, h.URL, scheme)
	}
	hostname, port := host, ""
	if hh, p, err := net.SplitHostPort(host); err == nil {
		hostname, port = hh, p
	}
	portN := 0
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return usagef("%s %q: port %q is not a number from 1 to 65535", src, h.URL, port)
		}
		portN = n
	}
	h.URL = target
	if !hasHeader(flagHeaders(o.headers), "Host") {
		h.Headers = setFirstHeader(h.Headers, session.Header{Name: "Host", Value: host})
	}
	if !o.set["server-name"] {
		h.ServerName = strings.Trim(hostname, "[]")
	}
	if !o.set["server-port"] {
		h.ServerPort = portN
	}
	if !o.set["https"] {
		h.HTTPS = https
	}
	return nil
}

// setFirstHeader returns hs with its lines named like h replaced by h, at
// the place of the first, or h put first when there is none.
func setFirstHeader(hs []session.Header, h session.Header) []session.Header {
	if !hasHeader(hs, h.Name) {
		return append([]session.Header{h}, hs...)
	}
	return mergeHeaders(hs, []session.Header{h})
}

func hasHeader(hs []session.Header, name string) bool {
	for _, h := range hs {
		if strings.EqualFold(h.Name, name) {
			return true
		}
	}
	return false
}

// httpRequest maps an HTTP-mode input the way the command line does without
// a preset: params mapped as nginx with php-fpm would (document-root routing
// only when there is a document root), the body, and the role (the
// Authorizer and FilterFile middlewares for those roles; standard input as
// DATA is attached by buildRequest).
func (e *env) httpRequest(ctx context.Context, in session.Input) (*session.Request, error) {
	h := *in.HTTP
	if len(h.Body) == 0 && h.BodyFile == "" {
		h.Body = in.Body // one body serves both modes
	}
	prof, err := session.LookupProfile(h.Profile)
	if err != nil {
		return nil, err
	}
	variant, err := prof.Variant(h.Variant)
	if err != nil {
		return nil, err
	}
	var mws []session.Middleware
	switch {
	case h.DocumentRoot != "":
		mws = append(mws, session.HTTPChain(h))
	case prof.Name != session.ProfileNginx:
		return nil, usagef("--profile %s needs --docroot: %s builds SCRIPT_FILENAME and its other params from the document root", prof.Name, prof.Title)
	default:
		mws = append(mws, session.CGIBasics(h), session.Remote(h), session.Headers(h))
		e.log.Info("no document root (--docroot): SCRIPT_FILENAME, SCRIPT_NAME and DOCUMENT_ROOT are not set")
	}
	switch in.Role {
	case fcgi.RoleAuthorizer:
		mws = append(mws, session.Authorizer())
	case fcgi.RoleFilter:
		if in.DataFile != "" && in.DataFile != "-" {
			mws = append(mws, session.FilterFile(in.DataFile))
		}
	}
	var kept *session.Request
	keep := func(_ context.Context, r *session.Request) (*session.Exchange, error) {
		kept = r
		return nil, nil
	}
	req := &session.Request{Role: in.Role, KeepConn: in.KeepConn, ID: in.RequestID, Framing: prof.FramingOf(variant)}
	if _, err := session.Chain(mws...)(keep)(ctx, req); err != nil {
		return nil, err
	}
	if kept == nil {
		return nil, errors.New("cli: send: the HTTP mapping did not produce a request")
	}
	kept.Role, kept.KeepConn, kept.ID = in.Role, in.KeepConn, in.RequestID
	return kept, nil
}

// parseProfile reads --profile: NAME or NAME/VARIANT, checked against the
// profiles session knows.
func parseProfile(s string) (name, variant string, err error) {
	name, variant, _ = strings.Cut(strings.TrimSpace(s), "/")
	p, err := session.LookupProfile(name)
	if err != nil || name == "" {
		return "", "", usagef("--profile %q: want one of %s, optionally /VARIANT", s, strings.Join(session.ProfileNames(), ", "))
	}
	if _, err := p.Variant(variant); err != nil {
		var names []string
		for _, v := range p.Variants {
			names = append(names, p.Name+"/"+v.Name)
		}
		return "", "", usagef("--profile %q: %s has no variant %q; want one of %s", s, p.Name, variant, strings.Join(names, ", "))
	}
	return p.Name, variant, nil
}
