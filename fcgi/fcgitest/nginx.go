package fcgitest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fastcgiParams is Debian's parameter list included by the PHP location.
const fastcgiParams = "/etc/nginx/fastcgi_params"

// fastcgiSnippet is Debian's PHP snippet; it includes fastcgi.conf relative to the
// configuration's directory.
const fastcgiSnippet = "/etc/nginx/snippets/fastcgi-php.conf"

// NginxOptions configures Nginx.
type NginxOptions struct {
	// DocRoot is the server's root; usually a PHPFPMServer's DocRoot. Default: an empty
	// directory.
	DocRoot string
	// FastCGIPass is the fastcgi_pass argument: host:port or unix:/path (PHPFPMServer.Pass).
	// Required.
	FastCGIPass string
	// ServerName is server_name; default "localhost".
	ServerName string
	// Ext is the script extension the FastCGI location matches and splits on, without the
	// dot; default "php". Server.Ext gives the one of a server of StartServer.
	Ext string
	// ExtraServer is appended to the server block, ExtraLocation to the PHP location block
	// (e.g. "fastcgi_keep_conn on;").
	ExtraServer   string
	ExtraLocation string
	// Snippet makes the PHP location Debian's default-site form: include
	// snippets/fastcgi-php.conf (its split, try_files and fastcgi.conf) in
	// place of the split, fastcgi_params and the two fastcgi_param lines.
	Snippet bool
	// ExtraHTTP is appended to the http block, before the server block: an upstream for
	// FastCGIPass to name, for example
	// "upstream php { server unix:/path; keepalive 8; }" with FastCGIPass "php" and
	// ExtraLocation "fastcgi_keep_conn on;".
	ExtraHTTP string
	// WorkerConnections is worker_connections, the connections of the worker, clients and
	// FastCGI together; default 128.
	WorkerConnections int
}

// NginxServer is a running nginx started by Nginx.
type NginxServer struct {
	// URL is http://127.0.0.1:Port, without a trailing slash.
	URL  string
	Port int
	// Dir holds nginx.conf, the logs, the pid file and the temporary directories.
	Dir string

	proc *process
}

// Nginx starts Debian's nginx (master plus one worker, daemon off) on 127.0.0.1 with a free
// port, serving opts.DocRoot with `index index.php` and passing *.php (*.Ext) to opts.FastCGIPass
// with the Debian-standard location:
//
//	location ~ [^/]\.php(/|$) {
//	    fastcgi_split_path_info ^(.+\.php)(/.+)$;
//	    include /etc/nginx/fastcgi_params;
//	    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
//	    fastcgi_param PATH_INFO $fastcgi_path_info;
//	    fastcgi_pass ...;
//	}
//
// There is no try_files, so a missing script reaches the FastCGI server. Everything nginx writes
// stays under t.TempDir(); as root its workers run as root. It waits until nginx accepts
// connections and stops it in t.Cleanup.
func Nginx(t testing.TB, opts NginxOptions) *NginxServer {
	t.Helper()
	bin := lookBinary([]string{"nginx"}, "/usr/sbin", "/usr/local/sbin")
	if bin == "" {
		missing(t, "nginx (package nginx)")
	}
	if _, err := os.Stat(fastcgiParams); err != nil {
		missing(t, fastcgiParams+" (package nginx-common)")
	}
	if opts.FastCGIPass == "" {
		t.Fatal("fcgitest: NginxOptions.FastCGIPass is required")
	}
	s := &NginxServer{Dir: tempDir(t)}
	if opts.DocRoot == "" {
		opts.DocRoot = filepath.Join(s.Dir, "www")
	}
	for _, d := range []string{opts.DocRoot, filepath.Join(s.Dir, "logs"), filepath.Join(s.Dir, "tmp")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatalf("fcgitest: nginx: %v", err)
		}
	}
	conf := filepath.Join(s.Dir, "nginx.conf")
	if opts.Snippet {
		if _, err := os.Stat(fastcgiSnippet); err != nil {
			missing(t, fastcgiSnippet+" (package nginx-common)")
		}
		if err := os.Symlink("/etc/nginx/fastcgi.conf", filepath.Join(s.Dir, "fastcgi.conf")); err != nil {
			t.Fatalf("fcgitest: nginx: %v", err)
		}
	}
	// -e: errors before the configuration is read go here too, not to /var/log/nginx.
	args := []string{"-p", s.Dir + "/", "-c", conf, "-e", s.errorLog(), "-g", "daemon off;"}

	var startErr error
	for range startTries {
		port, err := freePort()
		if err != nil {
			t.Fatalf("fcgitest: nginx: %v", err)
		}
		s.Port = port
		s.URL = "http://127.0.0.1:" + strconv.Itoa(port)
		if err := os.WriteFile(conf, []byte(s.config(opts)), 0o644); err != nil {
			t.Fatalf("fcgitest: nginx: %v", err)
		}
		os.Remove(s.errorLog())
		s.proc, startErr = startProcess(s.Dir, bin, args...)
		if startErr != nil {
			t.Fatalf("fcgitest: nginx: %v", startErr)
		}
		t.Cleanup(s.proc.terminate)
		startErr = s.proc.waitReady("tcp", "127.0.0.1:"+strconv.Itoa(port), func() bool {
			// Logged once every listen socket is bound (level notice, see config).
			return strings.Contains(readFile(s.errorLog()), "start worker processes")
		})
		if startErr == nil {
			return s
		}
		s.proc.terminate()
		if !errors.Is(startErr, errExited) || !strings.Contains(s.Log(), "Address already in use") {
			break
		}
	}
	t.Fatalf("fcgitest: nginx %v\n--- log ---\n%s", startErr, s.Log())
	return nil
}

func (s *NginxServer) errorLog() string { return filepath.Join(s.Dir, "logs", "error.log") }

// config renders nginx.conf for s.Port.
func (s *NginxServer) config(opts NginxOptions) string {
	name := opts.ServerName
	if name == "" {
		name = "localhost"
	}
	tmp := func(sub string) string { return quote(filepath.Join(s.Dir, "tmp", sub)) }
	var b strings.Builder
	fmt.Fprintf(&b, "# written by fcgitest\n")
	if isRoot() {
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, "worker_processes 1;\n")
	fmt.Fprintf(&b, "pid %s;\n", quote(filepath.Join(s.Dir, "nginx.pid")))
	fmt.Fprintf(&b, "error_log %s notice;\n", quote(s.errorLog()))
	conns := opts.WorkerConnections
	if conns <= 0 {
		conns = 128
	}
	fmt.Fprintf(&b, "events { worker_connections %d; }\n", conns)
	fmt.Fprintf(&b, "http {\n")
	fmt.Fprintf(&b, "  access_log %s;\n", quote(filepath.Join(s.Dir, "logs", "access.log")))
	fmt.Fprintf(&b, "  client_body_temp_path %s;\n", tmp("body"))
	fmt.Fprintf(&b, "  proxy_temp_path %s;\n", tmp("proxy"))
	fmt.Fprintf(&b, "  fastcgi_temp_path %s;\n", tmp("fastcgi"))
	fmt.Fprintf(&b, "  uwsgi_temp_path %s;\n", tmp("uwsgi"))
	fmt.Fprintf(&b, "  scgi_temp_path %s;\n", tmp("scgi"))
	fmt.Fprintf(&b, "  default_type application/octet-stream;\n")
	if opts.ExtraHTTP != "" {
		fmt.Fprintf(&b, "  %s\n", opts.ExtraHTTP)
	}
	fmt.Fprintf(&b, "  server {\n")
	fmt.Fprintf(&b, "    listen 127.0.0.1:%d;\n", s.Port)
	fmt.Fprintf(&b, "    server_name %s;\n", name)
	fmt.Fprintf(&b, "    root %s;\n", quote(opts.DocRoot))
	fmt.Fprintf(&b, "    index index.php;\n")
	ext := opts.Ext
	if ext == "" {
		ext = "php"
	}
	fmt.Fprintf(&b, "    location ~ [^/]\\.%s(/|$) {\n", ext)
	if opts.Snippet {
		fmt.Fprintf(&b, "      include %s;\n", fastcgiSnippet)
	} else {
		fmt.Fprintf(&b, "      fastcgi_split_path_info ^(.+\\.%s)(/.+)$;\n", ext)
		fmt.Fprintf(&b, "      include %s;\n", fastcgiParams)
		fmt.Fprintf(&b, "      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;\n")
		fmt.Fprintf(&b, "      fastcgi_param PATH_INFO $fastcgi_path_info;\n")
	}
	fmt.Fprintf(&b, "      fastcgi_pass %s;\n", opts.FastCGIPass)
	if opts.ExtraLocation != "" {
		fmt.Fprintf(&b, "      %s\n", opts.ExtraLocation)
	}
	fmt.Fprintf(&b, "    }\n")
	if opts.ExtraServer != "" {
		fmt.Fprintf(&b, "    %s\n", opts.ExtraServer)
	}
	fmt.Fprintf(&b, "  }\n}\n")
	return b.String()
}

// Log returns nginx's error log (level notice: it includes "FastCGI sent in stderr" lines)
// followed by anything nginx wrote to stdout or stderr.
func (s *NginxServer) Log() string {
	log := readFile(s.errorLog())
	if out := s.proc.out.String(); out != "" {
		log += "\n--- stdout/stderr ---\n" + out
	}
	return log
}

// PID returns the process id of the nginx master (its worker is its child).
func (s *NginxServer) PID() int { return s.proc.cmd.Process.Pid }

// AccessLog returns nginx's access log.
func (s *NginxServer) AccessLog() string {
	return readFile(filepath.Join(s.Dir, "logs", "access.log"))
}
