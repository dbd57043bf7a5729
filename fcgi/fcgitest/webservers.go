package fcgitest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireServersEnv names the environment variable that turns a missing web server (apache2,
// lighttpd, caddy) or FastCGI server of servers.go (fcgiwrap, php-cgi, uwsgi, Perl FCGI,
// node-fastcgi: ServerPackages) from a skip into a failure when set to "1".
const RequireServersEnv = "FCGISCOPE_REQUIRE_SERVERS"

// ApachePATH is the PATH Apache is started with, and so the PATH param it sends: systemd's
// default PATH, which Debian's apache2.service runs it with.
const ApachePATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// missingServer skips or fails the test because a web server is not installed.
func missingServer(t testing.TB, what string) {
	t.Helper()
	if os.Getenv(RequireServersEnv) == "1" {
		t.Fatalf("fcgitest: %s not found and %s=1; install it (apt-get install apache2 lighttpd lighttpd-mod-openssl caddy)", what, RequireServersEnv)
	}
	t.Skipf("fcgitest: %s not found; apt-get install it (set %s=1 to fail instead)", what, RequireServersEnv)
}

// WebServerOptions configures Apache, Lighttpd and Caddy.
type WebServerOptions struct {
	// DocRoot is the document root; required (the servers look for the scripts in it).
	DocRoot string
	// Backend is where requests for *.php go: "unix:/path" or "host:port". Apache's Debian
	// configuration uses a unix socket; give one to get its SCRIPT_FILENAME prefix
	// "proxy:fcgi://localhost". Required.
	Backend string
	// TLS makes the server also listen with TLS on TLSPort, with a self-signed certificate
	// for localhost and 127.0.0.1.
	TLS bool
	// Variant selects a configuration variant: Apache "generic" (ProxyFCGIBackendType
	// GENERIC); lighttpd "plain" (no broken-scriptfilename). "" is Debian's default.
	Variant string
}

// WebServer is a running web server started by Apache, Lighttpd or Caddy, stopped in
// t.Cleanup.
type WebServer struct {
	// URL is http://127.0.0.1:Port; TLSURL https://localhost:TLSPort when TLS is on.
	URL, TLSURL   string
	Port, TLSPort int
	// Dir holds the configuration, the logs and the pid file.
	Dir string
	// Software is SERVER_SOFTWARE as this server sends it (from its version).
	Software string

	proc *process
	logs []string
}

// Log returns the server's logs and anything it wrote to stdout or stderr.
func (s *WebServer) Log() string {
	var b strings.Builder
	for _, l := range s.logs {
		fmt.Fprintf(&b, "--- %s ---\n%s\n", filepath.Base(l), readFile(l))
	}
	if s.proc != nil {
		fmt.Fprintf(&b, "--- stdout/stderr ---\n%s", s.proc.out.String())
	}
	return b.String()
}

// PID returns the server's process id.
func (s *WebServer) PID() int { return s.proc.cmd.Process.Pid }

// Apache starts Debian's apache2 (mpm_event, in the foreground) on 127.0.0.1 with free ports,
// configured as Debian 12's defaults plus php8.2-fpm.conf: ServerTokens OS, ServerSignature
// On, ServerAdmin webmaster@localhost, DirectoryIndex, SetEnvIfNoCase Authorization, and
// <FilesMatch ".+\.ph(?:ar|p|tml)$"> SetHandler to opts.Backend ("proxy:unix:/path|fcgi://
// localhost" for a socket, "proxy:fcgi://host:port" otherwise). It runs with the environment
// PATH=ApachePATH only. As root its children run as www-data, so the document root and the
// socket are made reachable for them.
func Apache(t testing.TB, opts WebServerOptions) *WebServer {
	t.Helper()
	bin := lookBinary([]string{"apache2"}, "/usr/sbin")
	mods := "/usr/lib/apache2/modules"
	if bin == "" {
		missingServer(t, "apache2 (package apache2)")
	}
	if _, err := os.Stat(filepath.Join(mods, "mod_proxy_fcgi.so")); err != nil {
		missingServer(t, "mod_proxy_fcgi (package apache2-bin)")
	}
	checkWebOptions(t, opts)
	s := &WebServer{Dir: tempDir(t)}
	for _, d := range []string{"logs", "run"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			t.Fatalf("fcgitest: apache: %v", err)
		}
	}
	if isRoot() {
		reachable(t, opts.DocRoot)
		if sock, ok := strings.CutPrefix(opts.Backend, "unix:"); ok {
			reachable(t, filepath.Dir(sock))
			os.Chmod(sock, 0o777)
		}
	}
	out, _ := exec.Command(bin, "-v").Output()
	if m := regexp.MustCompile(`Server version: (\S+ \(\S+\))`).FindSubmatch(out); m != nil {
		s.Software = string(m[1])
	}
	handler := "proxy:fcgi://" + opts.Backend
	if sock, ok := strings.CutPrefix(opts.Backend, "unix:"); ok {
		handler = "proxy:unix:" + sock + "|fcgi://localhost"
	}
	errLog := filepath.Join(s.Dir, "logs", "error.log")
	s.logs = []string{errLog}
	conf := filepath.Join(s.Dir, "apache2.conf")
	render := func() string {
		var b strings.Builder
		w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
		w("# written by fcgitest: Debian 12's defaults + conf-available/php8.2-fpm.conf")
		w("ServerRoot %s", quote(s.Dir))
		w("DefaultRuntimeDir %s", quote(filepath.Join(s.Dir, "run")))
		w("PidFile %s", quote(filepath.Join(s.Dir, "run", "apache2.pid")))
		w("Mutex file:%s default", filepath.Join(s.Dir, "run"))
		for _, m := range []string{"mpm_event", "authz_core", "dir", "mime", "setenvif", "proxy", "proxy_fcgi", "socache_shmcb", "ssl"} {
			w("LoadModule %s_module %s/mod_%s.so", m, mods, m)
		}
		if isRoot() {
			w("User www-data\nGroup www-data")
		}
		w("ServerName localhost\nServerAdmin webmaster@localhost")
		w("ServerTokens OS\nServerSignature On\nTraceEnable Off")
		w("Listen 127.0.0.1:%d", s.Port)
		if opts.TLS {
			w("Listen 127.0.0.1:%d", s.TLSPort)
		}
		w("ErrorLog %s\nLogLevel warn", quote(errLog))
		w("TypesConfig /etc/mime.types")
		w("DocumentRoot %s", quote(opts.DocRoot))
		w("DirectoryIndex index.html index.cgi index.pl index.php index.xhtml index.htm")
		w("<Directory />\n  AllowOverride None\n  Require all denied\n</Directory>")
		w("<Directory %s>\n  AllowOverride None\n  Require all granted\n</Directory>", quote(opts.DocRoot))
		w(`SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1`)
		w("<FilesMatch \".+\\.ph(?:ar|p|tml)$\">\n  SetHandler %s\n</FilesMatch>", quote(handler))
		if opts.Variant == "generic" {
			w("ProxyFCGIBackendType GENERIC")
		}
		if opts.TLS {
			cert, key := SelfSigned(t, s.Dir)
			w("<VirtualHost 127.0.0.1:%d>\n  ServerName localhost\n  SSLEngine on\n  SSLCertificateFile %s\n  SSLCertificateKeyFile %s\n</VirtualHost>", s.TLSPort, quote(cert), quote(key))
		}
		return b.String()
	}
	env := []string{"PATH=" + ApachePATH, "LANG=C"}
	s.start(t, "apache", opts.TLS, bin, env, conf, render, func() bool { return true }, "-f", conf, "-D", "FOREGROUND")
	return s
}

// Lighttpd starts Debian's lighttpd (in the foreground) on 127.0.0.1 with free ports,
// configured as Debian 12's lighttpd.conf (its server.http-parseopts, index-file.names,
// HTTP/2) plus 15-fastcgi-php-fpm.conf: fastcgi.server for ".php" with "broken-scriptfilename"
// (unless opts.Variant is "plain"). TLS needs mod_openssl (package lighttpd-mod-openssl).
func Lighttpd(t testing.TB, opts WebServerOptions) *WebServer {
	t.Helper()
	bin := lookBinary([]string{"lighttpd"}, "/usr/sbin")
	if bin == "" {
		missingServer(t, "lighttpd (package lighttpd)")
	}
	if opts.TLS {
		if _, err := os.Stat("/usr/lib/lighttpd/mod_openssl.so"); err != nil {
			missingServer(t, "lighttpd's mod_openssl (package lighttpd-mod-openssl)")
		}
	}
	checkWebOptions(t, opts)
	s := &WebServer{Dir: tempDir(t)}
	for _, d := range []string{"logs", "uploads"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o755); err != nil {
			t.Fatalf("fcgitest: lighttpd: %v", err)
		}
	}
	out, _ := exec.Command(bin, "-v").Output()
	if m := regexp.MustCompile(`(lighttpd/\S+)`).FindSubmatch(out); m != nil {
		s.Software = string(m[1])
	}
	backend := fmt.Sprintf(`"socket" => %s`, quote(strings.TrimPrefix(opts.Backend, "unix:")))
	if !strings.HasPrefix(opts.Backend, "unix:") {
		host, port, _ := net.SplitHostPort(opts.Backend)
		backend = fmt.Sprintf(`"host" => %s, "port" => %s`, quote(host), port)
	}
	if opts.Variant != "plain" {
		backend += `, "broken-scriptfilename" => "enable"`
	}
	errLog := filepath.Join(s.Dir, "logs", "error.log")
	s.logs = []string{errLog}
	conf := filepath.Join(s.Dir, "lighttpd.conf")
	render := func() string {
		var b strings.Builder
		w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
		w("# written by fcgitest: Debian 12's lighttpd.conf + 10-fastcgi.conf + 15-fastcgi-php-fpm.conf")
		mods := `"mod_indexfile", "mod_access", "mod_alias", "mod_redirect", "mod_fastcgi"`
		if opts.TLS {
			mods += `, "mod_openssl"`
		}
		w("server.modules = ( %s )", mods)
		w("server.document-root = %s", quote(opts.DocRoot))
		w("server.upload-dirs = ( %s )", quote(filepath.Join(s.Dir, "uploads")))
		w("server.errorlog = %s", quote(errLog))
		w("server.pid-file = %s", quote(filepath.Join(s.Dir, "lighttpd.pid")))
		w(`server.bind = "127.0.0.1"`)
		w("server.port = %d", s.Port)
		w(`server.feature-flags += ("server.h2proto" => "enable", "server.h2c" => "enable")`)
		w(`server.http-parseopts = ( "header-strict" => "enable", "host-strict" => "enable", "host-normalize" => "enable", "url-normalize-unreserved" => "enable", "url-normalize-required" => "enable", "url-ctrls-reject" => "enable", "url-path-2f-decode" => "enable", "url-path-dotseg-remove" => "enable" )`)
		w(`index-file.names = ( "index.php", "index.html", "index.lighttpd.html" )`)
		w(`url.access-deny = ( "~", ".inc" )`)
		w(`static-file.exclude-extensions = ( ".php", ".pl", ".fcgi" )`)
		w(`mimetype.assign = ( ".txt" => "text/plain", ".html" => "text/html" )`)
		if opts.TLS {
			cert, key := SelfSigned(t, s.Dir)
			w("$SERVER[\"socket\"] == \"127.0.0.1:%d\" {\n  ssl.engine = \"enable\"\n  ssl.pemfile = %s\n  ssl.privkey = %s\n}", s.TLSPort, quote(cert), quote(key))
		}
		w(`fastcgi.server += ( ".php" => (( %s )) )`, backend)
		w(`server.modules += ( "mod_dirlisting", "mod_staticfile" )`)
		return b.String()
	}
	s.start(t, "lighttpd", opts.TLS, bin, os.Environ(), conf, render, func() bool { return true }, "-D", "-f", conf)
	return s
}

// Caddy starts caddy (Debian's package, or any caddy in PATH) on 127.0.0.1 with free ports,
// with a Caddyfile of `root * DocRoot`, `php_fastcgi Backend` and `file_server` (for TLS, a
// site https://localhost:TLSPort with a self-signed certificate). The admin endpoint is off;
// its data and config directories are in Dir. Caddy listens with SO_REUSEPORT, so each
// instance gets ports of its own, and it is stopped by its PID.
func Caddy(t testing.TB, opts WebServerOptions) *WebServer {
	t.Helper()
	bin := lookBinary([]string{"caddy"}, "/usr/bin", "/usr/local/bin")
	if bin == "" {
		missingServer(t, "caddy (package caddy)")
	}
	checkWebOptions(t, opts)
	s := &WebServer{Dir: tempDir(t)}
	xdg := filepath.Join(s.Dir, "xdg")
	if err := os.MkdirAll(xdg, 0o755); err != nil {
		t.Fatalf("fcgitest: caddy: %v", err)
	}
	out, _ := exec.Command(bin, "version").Output()
	if f := strings.Fields(string(out)); len(f) > 0 {
		s.Software = "Caddy/" + f[0] // "2.6.2" from Debian's package, "v2.11.9 h1:…" from a module build
	}
	backend := opts.Backend
	if sock, ok := strings.CutPrefix(backend, "unix:"); ok {
		backend = "unix/" + sock
	}
	conf := filepath.Join(s.Dir, "Caddyfile")
	render := func() string {
		var b strings.Builder
		w := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
		w("# written by fcgitest")
		https := ""
		if opts.TLS {
			https = fmt.Sprintf("\thttps_port %d\n", s.TLSPort)
		}
		w("{\n\tadmin off\n\tauto_https disable_redirects\n\thttp_port %d\n%s}", s.Port, https)
		site := func(addr, extra string) {
			w("%s {\n\tbind 127.0.0.1\n%s\troot * %s\n\tphp_fastcgi %s\n\tfile_server\n}", addr, extra, quote(opts.DocRoot), backend)
		}
		site(fmt.Sprintf("http://127.0.0.1:%d, http://localhost:%d", s.Port, s.Port), "")
		if opts.TLS {
			cert, key := SelfSigned(t, s.Dir)
			site(fmt.Sprintf("https://localhost:%d", s.TLSPort), fmt.Sprintf("\ttls %s %s\n", quote(cert), quote(key)))
		}
		return b.String()
	}
	env := append(os.Environ(), "HOME="+xdg, "XDG_DATA_HOME="+xdg, "XDG_CONFIG_HOME="+xdg)
	s.start(t, "caddy", opts.TLS, bin, env, conf, render, func() bool {
		return strings.Contains(s.proc.out.String(), "serving initial configuration")
	}, "run", "--config", conf, "--adapter", "caddyfile")
	return s
}

// checkWebOptions fails the test on options a helper cannot start with.
func checkWebOptions(t testing.TB, opts WebServerOptions) {
	t.Helper()
	if opts.DocRoot == "" || !filepath.IsAbs(opts.DocRoot) {
		t.Fatalf("fcgitest: WebServerOptions.DocRoot %q must be an absolute directory", opts.DocRoot)
	}
	if opts.Backend == "" {
		t.Fatal("fcgitest: WebServerOptions.Backend is required")
	}
}

// start picks free ports (a second one for TLS), writes the configuration render gives for
// them, starts the server and waits until it accepts on its port(s) and ready says so; a port
// taken meanwhile by someone else gets another try.
func (s *WebServer) start(t testing.TB, name string, tls bool, bin string, env []string, conf string, render func() string, ready func() bool, args ...string) {
	t.Helper()
	var startErr error
	for range startTries {
		port, err := freePort()
		if err != nil {
			t.Fatalf("fcgitest: %s: %v", name, err)
		}
		s.Port, s.URL = port, "http://127.0.0.1:"+strconv.Itoa(port)
		addrs := []string{"127.0.0.1:" + strconv.Itoa(port)}
		if tls {
			if s.TLSPort, err = freePort(); err != nil {
				t.Fatalf("fcgitest: %s: %v", name, err)
			}
			s.TLSURL = "https://localhost:" + strconv.Itoa(s.TLSPort)
			addrs = append(addrs, "127.0.0.1:"+strconv.Itoa(s.TLSPort))
		}
		if err := os.WriteFile(conf, []byte(render()), 0o644); err != nil {
			t.Fatalf("fcgitest: %s: %v", name, err)
		}
		for _, l := range s.logs {
			os.Remove(l)
		}
		s.proc, startErr = startProcessEnv(s.Dir, env, bin, args...)
		if startErr != nil {
			t.Fatalf("fcgitest: %s: %v", name, startErr)
		}
		t.Cleanup(s.proc.terminate)
		for _, a := range addrs {
			if startErr = s.proc.waitReady("tcp", a, ready); startErr != nil {
				break
			}
		}
		if startErr == nil {
			return
		}
		s.proc.terminate()
		if !errors.Is(startErr, errExited) || !strings.Contains(strings.ToLower(s.Log()), "address already in use") {
			break
		}
	}
	t.Fatalf("fcgitest: %s %v\n%s", name, startErr, s.Log())
}

// reachable lets other users traverse every directory from dir up to the root and read dir
// (tests' temporary directories are 0700; Apache's children run as www-data).
func reachable(t testing.TB, dir string) {
	t.Helper()
	for d := dir; ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
			if err := os.Chmod(d, fi.Mode().Perm()|0o005); err != nil {
				t.Fatalf("fcgitest: %v", err)
			}
		}
		if d == filepath.Dir(d) {
			return
		}
	}
}

// SelfSigned writes a self-signed certificate for localhost and 127.0.0.1 and its key into
// dir (once: later calls return the same files) and returns their paths.
func SelfSigned(t testing.TB, dir string) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("fcgitest: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("fcgitest: certificate: %v", err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("fcgitest: key: %v", err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatalf("fcgitest: %v", err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o644); err != nil {
		t.Fatalf("fcgitest: %v", err)
	}
	return certFile, keyFile
}
