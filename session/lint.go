// Lint: checks a composed request for mistakes that real FastCGI servers punish, before it is sent.

package session

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// Lint returns one sentence per problem it finds in params and body, in a
// fixed order; nil when the request looks sound. It looks at the last value
// of each param, as a server does. The checks:
//
//   - SCRIPT_FILENAME missing, empty or relative: php-fpm cannot find the
//     script and answers 404 with "Primary script unknown" on stderr
//     (Apache's "proxy:fcgi://host" prefix, which php-fpm strips, aside);
//   - a body without CONTENT_LENGTH: the application may ignore the body,
//     and php-fpm may wait for it forever;
//   - CONTENT_LENGTH that is not a decimal number, or that differs from the
//     body's length: the application reads too little or waits for more
//     (an empty CONTENT_LENGTH, as nginx sends it, is fine without a body).
func Lint(params Params, body []byte) []string {
	var out []string
	switch sf, ok := params.Get("SCRIPT_FILENAME"); {
	case !ok:
		out = append(out, `SCRIPT_FILENAME is not set: php-fpm answers 404 "Primary script unknown"`)
	case strings.TrimSpace(sf) == "":
		out = append(out, `SCRIPT_FILENAME is empty: php-fpm answers 404 "Primary script unknown"`)
	case !path.IsAbs(apachePrefixless(sf)):
		out = append(out, fmt.Sprintf(`SCRIPT_FILENAME %q is relative: php-fpm answers 404 "Primary script unknown" (use an absolute path)`, sf))
	}
	cl, hasCL := params.Get("CONTENT_LENGTH")
	switch {
	case !hasCL && len(body) > 0:
		out = append(out, fmt.Sprintf("the body has %d bytes but CONTENT_LENGTH is not set: the application may ignore the body, and php-fpm may wait for it forever", len(body)))
	case hasCL && strings.TrimSpace(cl) == "":
		// nginx sends an empty CONTENT_LENGTH for a request without a body.
		if len(body) > 0 {
			out = append(out, fmt.Sprintf("CONTENT_LENGTH is empty but the body has %d bytes: the application may ignore the body", len(body)))
		}
	case hasCL:
		n, err := strconv.ParseInt(strings.TrimSpace(cl), 10, 64)
		switch {
		case err != nil || n < 0:
			out = append(out, fmt.Sprintf("CONTENT_LENGTH %q is not a byte count (the body has %d bytes)", cl, len(body)))
		case n != int64(len(body)):
			out = append(out, fmt.Sprintf("CONTENT_LENGTH is %d but the body has %d bytes: the application reads too little or waits for bytes that never come", n, len(body)))
		}
	}
	return out
}

// LintFilter returns one sentence per problem of a FILTER request's params,
// whose DATA stream has dataLen bytes (spec §6.4: the web server announces
// the file with FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD): either param
// missing, or FCGI_DATA_LENGTH not the length of DATA. HTTP mode sets both;
// in raw mode they are the user's to give.
func LintFilter(params Params, dataLen int64) []string {
	var out []string
	switch v, ok := params.Get("FCGI_DATA_LENGTH"); {
	case !ok:
		out = append(out, fmt.Sprintf("role FILTER without FCGI_DATA_LENGTH: the filter cannot tell how many of the %d DATA bytes to read "+
			"(node-fastcgi sees undefined); add the param FCGI_DATA_LENGTH=%d", dataLen, dataLen))
	default:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil || n != dataLen {
			out = append(out, fmt.Sprintf("FCGI_DATA_LENGTH is %q but DATA has %d bytes: the filter reads too little or waits for bytes that never come", v, dataLen))
		}
	}
	if _, ok := params.Get("FCGI_DATA_LAST_MOD"); !ok {
		out = append(out, "role FILTER without FCGI_DATA_LAST_MOD: the filter cannot tell the file's age (a web server sends its modification time, seconds since 1970)")
	}
	return out
}

// apachePrefixless returns SCRIPT_FILENAME without the "proxy:fcgi://host"
// prefix Apache's mod_proxy_fcgi puts before the path (FPM backend type),
// which php-fpm strips; other values as they are.
func apachePrefixless(sf string) string {
	rest, ok := strings.CutPrefix(sf, "proxy:fcgi://")
	if !ok {
		return sf
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return ""
}
