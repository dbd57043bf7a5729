// ParseAddr: every accepted form and the rejected ones.

package fcgi

import (
	"errors"
	"strings"
	"testing"
)

func TestParseAddr(t *testing.T) {
	for _, tc := range []struct {
		in, network, address string
	}{
		{"127.0.0.1:9000", "tcp", "127.0.0.1:9000"},
		{"localhost:9000", "tcp", "localhost:9000"},
		{"[::1]:9000", "tcp", "[::1]:9000"},
		{":9000", "tcp", ":9000"},
		{"  127.0.0.1:9000\n", "tcp", "127.0.0.1:9000"},
		{"tcp://127.0.0.1:9000", "tcp", "127.0.0.1:9000"},
		{"tcp://[::1]:9000", "tcp", "[::1]:9000"},
		{"tcp4://127.0.0.1:9000", "tcp4", "127.0.0.1:9000"},
		{"tcp6://[::1]:65535", "tcp6", "[::1]:65535"},
		{"unix:/run/php/php8.2-fpm.sock", "unix", "/run/php/php8.2-fpm.sock"},
		{"unix:///run/php/php8.2-fpm.sock", "unix", "/run/php/php8.2-fpm.sock"},
		{"unix:relative.sock", "unix", "relative.sock"},
		{"/run/php/php8.2-fpm.sock", "unix", "/run/php/php8.2-fpm.sock"},
		{"/tmp/with space.sock", "unix", "/tmp/with space.sock"},
	} {
		network, address, err := ParseAddr(tc.in)
		if err != nil || network != tc.network || address != tc.address {
			t.Errorf("ParseAddr(%q) = %q, %q, %v; want %q, %q", tc.in, network, address, err, tc.network, tc.address)
		}
	}
}

func TestParseAddrErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want: a piece of the message
	}{
		{"", "empty"},
		{"   ", "empty"},
		{"unix:", "path is empty"},
		{"unix://", "absolute path"},
		{"unix://run/php.sock", "absolute path"},
		{"localhost", "want host:port"},
		{"127.0.0.1", "want host:port"},
		{"127.0.0.1:", "port \"\""},
		{"127.0.0.1:http", "port \"http\""},
		{"127.0.0.1:0", "port \"0\""},
		{"127.0.0.1:65536", "port \"65536\""},
		{"127.0.0.1:-1", "port \"-1\""},
		{"http://127.0.0.1:9000", "unknown scheme \"http\""},
		{"tcp://127.0.0.1:9000/x", "port"},
		{"tcp://", "want host:port"},
		{"a/b:9000", "not a host name"},
	} {
		network, address, err := ParseAddr(tc.in)
		if err == nil {
			t.Errorf("ParseAddr(%q) = %q, %q, nil; want an error", tc.in, network, address)
			continue
		}
		if !strings.HasPrefix(err.Error(), "fcgi: address ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseAddr(%q) error %q; want it to start with \"fcgi: address\" and contain %q", tc.in, err, tc.want)
		}
	}
}

func TestDialBadAddressIsErrConnect(t *testing.T) {
	_, err := Dial(t.Context(), "localhost", Options{})
	if !errors.Is(err, ErrConnect) {
		t.Fatalf("Dial(bad address) = %v, want ErrConnect", err)
	}
	c := NewClient("http://x:1", ClientOptions{})
	defer c.Close()
	if _, err := c.Do(t.Context(), &Request{}); !errors.Is(err, ErrConnect) {
		t.Fatalf("Client.Do(bad address) = %v, want ErrConnect", err)
	}
}
