// Tests for Lint: each check fires on its mistake and stays quiet otherwise.

package session

import (
	"strings"
	"testing"
)

func TestLint(t *testing.T) {
	good := Params{{Name: "SCRIPT_FILENAME", Value: "/srv/www/index.php"}}
	withCL := func(cl string) Params {
		return append(append(Params(nil), good...), Param{Name: "CONTENT_LENGTH", Value: cl})
	}
	tests := []struct {
		name   string
		params Params
		body   string
		want   []string // substrings of the warnings, in order; nil: no warning
	}{
		{"sound GET", good, "", nil},
		{"sound POST", withCL("5"), "hello", nil},
		{"nginx empty CONTENT_LENGTH without body", withCL(""), "", nil},
		{"CONTENT_LENGTH 0 without body", withCL("0"), "", nil},
		{"no SCRIPT_FILENAME", nil, "", []string{`SCRIPT_FILENAME is not set: php-fpm answers 404 "Primary script unknown"`}},
		{"empty SCRIPT_FILENAME", Params{{Name: "SCRIPT_FILENAME", Value: " "}}, "", []string{"SCRIPT_FILENAME is empty"}},
		{"relative SCRIPT_FILENAME", Params{{Name: "SCRIPT_FILENAME", Value: "index.php"}}, "", []string{`"index.php" is relative`}},
		{"Apache's prefix, which php-fpm strips", Params{{Name: "SCRIPT_FILENAME", Value: "proxy:fcgi://localhost/srv/www/index.php"}}, "", nil},
		{"Apache's prefix before a relative path", Params{{Name: "SCRIPT_FILENAME", Value: "proxy:fcgi://127.0.0.1:9000"}}, "", []string{"is relative"}},
		{"last value counts", Params{{Name: "SCRIPT_FILENAME", Value: "/a.php"}, {Name: "SCRIPT_FILENAME", Value: "b.php"}}, "", []string{`"b.php" is relative`}},
		{"body without CONTENT_LENGTH", good, "abc", []string{"the body has 3 bytes but CONTENT_LENGTH is not set"}},
		{"empty CONTENT_LENGTH with body", withCL(""), "abc", []string{"CONTENT_LENGTH is empty but the body has 3 bytes"}},
		{"CONTENT_LENGTH too small", withCL("2"), "abc", []string{"CONTENT_LENGTH is 2 but the body has 3 bytes"}},
		{"CONTENT_LENGTH without body", withCL("10"), "", []string{"CONTENT_LENGTH is 10 but the body has 0 bytes"}},
		{"CONTENT_LENGTH not a number", withCL("ten"), "abc", []string{`CONTENT_LENGTH "ten" is not a byte count`}},
		{"CONTENT_LENGTH negative", withCL("-1"), "", []string{`CONTENT_LENGTH "-1" is not a byte count`}},
		{"two problems in order", Params{{Name: "CONTENT_LENGTH", Value: "1"}}, "", []string{"SCRIPT_FILENAME is not set", "CONTENT_LENGTH is 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lint(tt.params, []byte(tt.body))
			if len(got) != len(tt.want) {
				t.Fatalf("Lint = %q, want %d warnings matching %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
