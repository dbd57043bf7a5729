// Keeping connections to a backend: which backends are known to honour
// FCGI_KEEP_CONN, told by their GET_VALUES answer.

package session

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"fcgiscope/fcgi"
)

// KeepsConns reports whether a backend that answered GET_VALUES with vals
// is known to honour FCGI_KEEP_CONN (to keep the connection open after
// the response and serve the next request on it), what it is, and the
// FCGI_MAX_CONNS it announced (0 when it did not).
//
// Known: PHP's FastCGI, which php-fpm and php-cgi share. php-fpm answers
// FCGI_MPXS_CONNS=0 and nothing else, php-cgi -b the same with positive
// FCGI_MAX_CONNS and FCGI_MAX_REQS; both keep a KEEP_CONN connection,
// measured. Each kept connection holds one of their
// workers until it is closed. Not known, so not kept: a backend that
// multiplexes (node-fastcgi, Go's net/http/fcgi, Net::Async::FastCGI), one
// that answers nothing (uwsgi, fcgiwrap, libfcgi under spawn-fcgi) or
// anything else; uwsgi and node-fastcgi close a KEEP_CONN connection anyway.
func KeepsConns(vals []fcgi.Pair) (keeps bool, what string, maxConns int) {
	mpxs, maxConnsText, maxReqsText := "", "", ""
	for _, v := range vals {
		switch v.Name {
		case fcgi.ValueMpxsConns:
			mpxs = v.Value
		case fcgi.ValueMaxConns:
			maxConnsText = v.Value
		case fcgi.ValueMaxReqs:
			maxReqsText = v.Value
		default:
			return false, "answers " + valuesText(vals), 0
		}
	}
	positive := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n > 0
	}
	switch {
	case mpxs != "0":
	case maxConnsText == "" && maxReqsText == "":
		return true, "php-fpm (answers " + valuesText(vals) + ")", 0
	default:
		n, ok := positive(maxConnsText)
		if _, reqsOK := positive(maxReqsText); ok && (reqsOK || maxReqsText == "") {
			return true, "php-cgi (answers " + valuesText(vals) + ")", n
		}
	}
	return false, "answers " + valuesText(vals), 0
}

// valuesText renders a GET_VALUES answer for a log line.
func valuesText(vals []fcgi.Pair) string {
	if len(vals) == 0 {
		return "nothing to GET_VALUES"
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = v.Name + "=" + v.Value
	}
	return strings.Join(parts, ", ")
}

// ProbeKeepConn asks the backend at target GET_VALUES and returns
// KeepsConns' verdict on the answer. err is set when the backend could not
// be asked (it is down, or it did not answer before ctx ended: uwsgi never
// answers); what then says so.
func (e *Engine) ProbeKeepConn(ctx context.Context, target string) (keeps bool, what string, maxConns int, err error) {
	vals, err := e.GetValues(ctx, target)
	if err != nil {
		return false, fmt.Sprintf("no answer to GET_VALUES (%v)", err), 0, err
	}
	keeps, what, maxConns = KeepsConns(vals)
	return keeps, what, maxConns, nil
}
