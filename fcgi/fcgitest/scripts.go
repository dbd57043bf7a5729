package fcgitest

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// defaultScripts returns the files written into every PHPFPM document root; PHPFPM's doc lists
// them.
func defaultScripts() map[string]string {
	return map[string]string{
		"hello.php": `<?php echo "hello";
`,
		"index.php": `<?php echo "index";
`,
		"echo.php": `<?php
header('Content-Type: application/json');
echo json_encode([
    'server' => $_SERVER,
    'stdin' => base64_encode(file_get_contents('php://input')),
    'get' => (object) $_GET,
    'post' => (object) $_POST,
    'cookie' => (object) $_COOKIE,
], JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE);
`,
		"stderr.php": `<?php
error_log("to stderr from php");
echo "ok";
`,
		"status.php": `<?php
$code = isset($_GET['code']) ? (int) $_GET['code'] : 418;
http_response_code($code);
header('Set-Cookie: a=1', false);
header('Set-Cookie: b=2', false);
header('Content-Type: text/plain');
echo "status $code\n";
`,
		// big.php writes in 64 KiB pieces: a 100 MiB answer built whole
		// would pass php.ini's memory_limit (128M) and end in a fatal error.
		"big.php": `<?php
$n = isset($_GET['n']) ? max(0, (int) $_GET['n']) : 200000;
header('Content-Type: application/octet-stream');
$piece = str_repeat('0123456789abcdef', 4096);
for (; $n >= strlen($piece); $n -= strlen($piece)) {
    echo $piece;
}
echo substr($piece, 0, $n);
`,
		"post.php": `<?php
$in = file_get_contents('php://input');
header('Content-Type: text/plain');
echo strlen($in), ' ', md5($in);
`,
		"sleep.php": `<?php
$ms = isset($_GET['ms']) ? max(0, (int) $_GET['ms']) : 100;
usleep($ms * 1000);
echo "slept $ms";
`,
		"redirect.php": `<?php header('Location: /hello.php');
`,
	}
}

// StderrText is what stderr.php passes to error_log(); php-fpm sends it on the FastCGI stderr
// stream prefixed with "PHP message: ".
const StderrText = "to stderr from php"

// writeScripts writes the default scripts, then extra, into docroot.
func writeScripts(docroot string, extra map[string]string) error {
	if err := os.MkdirAll(docroot, 0o755); err != nil {
		return err
	}
	write := func(name, body string) error {
		clean := path.Clean(name)
		if name == "" || path.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, "../") {
			return fmt.Errorf("script name %q is not a relative path inside the docroot", name)
		}
		p := filepath.Join(docroot, filepath.FromSlash(clean))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.WriteFile(p, []byte(body), 0o644)
	}
	for name, body := range defaultScripts() {
		if err := write(name, body); err != nil {
			return err
		}
	}
	for name, body := range extra {
		if err := write(name, body); err != nil {
			return err
		}
	}
	return nil
}

// BigBody returns what big.php?n=N sends: byte i is "0123456789abcdef"[i%16], so a reordered or
// dropped record shows up in a comparison.
func BigBody(n int) []byte {
	const pattern = "0123456789abcdef"
	b := make([]byte, max(n, 0))
	for i := range b {
		b[i] = pattern[i%len(pattern)]
	}
	return b
}

// PostDigest returns what post.php answers for a request body: its length and its hex MD5,
// separated by a space.
func PostDigest(body []byte) string {
	sum := md5.Sum(body)
	return strconv.Itoa(len(body)) + " " + hex.EncodeToString(sum[:])
}

// Echo is the decoded answer of echo.php.
type Echo struct {
	// Server is PHP's $_SERVER: the FastCGI params as PHP saw them, plus PHP's own entries
	// (REQUEST_TIME is a number, argv a list), hence any.
	Server map[string]any `json:"server"`
	// Stdin is the request body (php://input). Empty for multipart/form-data, which PHP
	// consumes itself.
	Stdin []byte `json:"stdin"`
	// Get, Post and Cookie are $_GET, $_POST and $_COOKIE; values are strings, or lists and
	// maps for names like a[].
	Get    map[string]any `json:"get"`
	Post   map[string]any `json:"post"`
	Cookie map[string]any `json:"cookie"`
}

// ParseEcho decodes an echo.php response body (without CGI headers).
func ParseEcho(body []byte) (Echo, error) {
	var e Echo
	if err := json.Unmarshal(body, &e); err != nil {
		return Echo{}, fmt.Errorf("fcgitest: echo.php body: %w", err)
	}
	return e, nil
}

// Param returns $_SERVER[name] as a string, and whether it was set.
func (e Echo) Param(name string) (string, bool) {
	v, ok := e.Server[name]
	if !ok {
		return "", false
	}
	if s, isString := v.(string); isString {
		return s, true
	}
	return fmt.Sprint(v), true
}
