// Addresses: the forms a user may type for a FastCGI backend.

package fcgi

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ParseAddr turns the address of a FastCGI backend into a network and an
// address for net.Dial. It accepts:
//
//	host:port              TCP, e.g. 127.0.0.1:9000, [::1]:9000, localhost:9000
//	tcp://host:port        TCP (tcp4:// and tcp6:// pin the IP version)
//	unix:/path             a unix socket (unix:relative/path is relative)
//	unix:///path           a unix socket, URL style
//	/abs/path.sock         a unix socket given by its absolute path
//
// Surrounding spaces are ignored. The port must be a number from 1 to 65535.
func ParseAddr(s string) (network, address string, err error) {
	in := s
	s = strings.TrimSpace(s)
	fail := func(why string) (string, string, error) {
		return "", "", fmt.Errorf("fcgi: address %q: %s", in, why)
	}
	switch {
	case s == "":
		return fail("empty")
	case strings.HasPrefix(s, "unix:"):
		p := strings.TrimPrefix(s, "unix:")
		if strings.HasPrefix(p, "//") {
			// unix:///path: an empty URL host, then the absolute path.
			p = strings.TrimPrefix(p, "//")
			if !strings.HasPrefix(p, "/") {
				return fail("unix:// must be followed by an absolute path (unix:///run/php.sock)")
			}
		}
		if p == "" {
			return fail("unix socket path is empty")
		}
		return "unix", p, nil
	case strings.HasPrefix(s, "/"):
		return "unix", s, nil
	}
	network = "tcp"
	if scheme, rest, ok := strings.Cut(s, "://"); ok {
		switch scheme {
		case "tcp", "tcp4", "tcp6":
			network, s = scheme, rest
		default:
			return fail(fmt.Sprintf("unknown scheme %q (want tcp://, unix: or host:port)", scheme))
		}
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fail(fmt.Sprintf("want host:port: %v", err))
	}
	if strings.ContainsAny(host, "/?# ") {
		return fail(fmt.Sprintf("host %q is not a host name or IP address", host))
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fail(fmt.Sprintf("port %q is not a number from 1 to 65535", port))
	}
	return network, net.JoinHostPort(host, port), nil
}
