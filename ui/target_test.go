// Tests of the target section's GET_VALUES summary.

package ui

import (
	"testing"

	"fcgiscope/fcgi"
)

func TestFormatValues(t *testing.T) {
	tests := []struct {
		pairs []fcgi.Pair
		want  string
	}{
		{[]fcgi.Pair{{Name: "FCGI_MPXS_CONNS", Value: "1"}, {Name: "FCGI_MAX_REQS", Value: "64"}, {Name: "FCGI_MAX_CONNS", Value: "16"}},
			"MAX_CONNS 16 · MAX_REQS 64 · MPXS_CONNS 1"},
		// php-fpm answers only FCGI_MPXS_CONNS.
		{[]fcgi.Pair{{Name: "FCGI_MPXS_CONNS", Value: "0"}}, "MAX_CONNS – · MAX_REQS – · MPXS_CONNS 0"},
		{[]fcgi.Pair{{Name: "OTHER", Value: "x"}}, "MAX_CONNS – · MAX_REQS – · MPXS_CONNS – · OTHER x"},
	}
	for _, tt := range tests {
		if got := formatValues(tt.pairs); got != tt.want {
			t.Errorf("formatValues(%v) = %q, want %q", tt.pairs, got, tt.want)
		}
	}
}
