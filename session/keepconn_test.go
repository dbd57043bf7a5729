// Tests of KeepsConns: which GET_VALUES answers mark a backend that keeps
// connections.

package session

import (
	"testing"

	"fcgiscope/fcgi"
)

func TestKeepsConns(t *testing.T) {
	pairs := func(kv ...string) []fcgi.Pair {
		var ps []fcgi.Pair
		for i := 0; i < len(kv); i += 2 {
			ps = append(ps, fcgi.Pair{Name: kv[i], Value: kv[i+1]})
		}
		return ps
	}
	for _, tt := range []struct {
		name     string
		vals     []fcgi.Pair
		keeps    bool
		what     string
		maxConns int
	}{
		{"php-fpm 8.2", pairs("FCGI_MPXS_CONNS", "0"), true, "php-fpm (answers FCGI_MPXS_CONNS=0)", 0},
		{"php-cgi -b", pairs("FCGI_MPXS_CONNS", "0", "FCGI_MAX_REQS", "1", "FCGI_MAX_CONNS", "1"), true,
			"php-cgi (answers FCGI_MPXS_CONNS=0, FCGI_MAX_REQS=1, FCGI_MAX_CONNS=1)", 1},
		{"node-fastcgi", pairs("FCGI_MAX_CONNS", "2000", "FCGI_MAX_REQS", "2000", "FCGI_MPXS_CONNS", "1"), false,
			"answers FCGI_MAX_CONNS=2000, FCGI_MAX_REQS=2000, FCGI_MPXS_CONNS=1", 0},
		{"Go net/http/fcgi", pairs("FCGI_MPXS_CONNS", "1"), false, "answers FCGI_MPXS_CONNS=1", 0},
		{"nothing (fcgiwrap, libfcgi)", nil, false, "answers nothing to GET_VALUES", 0},
		{"an extra name", pairs("FCGI_MPXS_CONNS", "0", "X_OTHER", "1"), false, "answers FCGI_MPXS_CONNS=0, X_OTHER=1", 0},
		{"limits without multiplexing value", pairs("FCGI_MAX_CONNS", "4"), false, "answers FCGI_MAX_CONNS=4", 0},
		{"zero limits (fcgi.Server)", pairs("FCGI_MAX_CONNS", "0", "FCGI_MAX_REQS", "0", "FCGI_MPXS_CONNS", "0"), false,
			"answers FCGI_MAX_CONNS=0, FCGI_MAX_REQS=0, FCGI_MPXS_CONNS=0", 0},
		{"limit not a number", pairs("FCGI_MPXS_CONNS", "0", "FCGI_MAX_CONNS", "many"), false, "answers FCGI_MPXS_CONNS=0, FCGI_MAX_CONNS=many", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			keeps, what, maxConns := KeepsConns(tt.vals)
			if keeps != tt.keeps || what != tt.what || maxConns != tt.maxConns {
				t.Errorf("KeepsConns = %v, %q, %d; want %v, %q, %d", keeps, what, maxConns, tt.keeps, tt.what, tt.maxConns)
			}
		})
	}
}
