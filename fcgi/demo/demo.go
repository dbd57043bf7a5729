// Package demo is a FastCGI backend to inspect: a table of routes that show
// off the protocol (echo, stderr, statuses, redirects, slow and large
// responses) plus answers for the AUTHORIZER and FILTER roles.
//
// Every response is a CGI response: header lines, a blank line, the body,
// with a "Status:" line whenever the status is not 200. The path is taken
// from SCRIPT_NAME, else DOCUMENT_URI, else the path of REQUEST_URI; the
// query from QUERY_STRING (else from REQUEST_URI).
//
// Roles: /echo answers every role. Any other path goes to the role's own
// handler for AUTHORIZER and FILTER requests, and to the route table for
// RESPONDER requests.
package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// Route is one path the demo backend answers.
type Route struct {
	Path    string // exact request path, e.g. "/echo"
	Summary string // one line for the index page
	Handler fcgi.Handler
}

// Limits of the query parameters.
const (
	defaultStderrLines = 3
	maxStderrLines     = 10000
	defaultSlowMS      = 300
	maxSlowMS          = 60000
	defaultSlowChunks  = 5
	maxSlowChunks      = 1000
	defaultLargeBytes  = 1 << 20
	maxLargeBytes      = 512 << 20
	largeWrite         = 64 << 10
)

// Routes returns the route table, in the order of the index page: the
// routes below, then Misbehaviours.
func Routes() []Route {
	return append([]Route{
		{"/", "this page: the list of routes", fcgi.HandlerFunc(serveIndex)},
		{"/index", "the same list of routes", fcgi.HandlerFunc(serveIndex)},
		{"/echo", "JSON of role, request id, keep_conn, params in order, stdin (and data length for FILTER); any role", fcgi.HandlerFunc(serveEcho)},
		{"/stderr", "?lines=N (default 3) lines on STDERR, a short body; ?app_status= sets the END_REQUEST app status; ?stdout=none sends nothing on STDOUT (a CGI program that only complains and fails: nginx answers 502)", fcgi.HandlerFunc(serveStderr)},
		{"/status", "?code=N answers with that status and a text body", fcgi.HandlerFunc(serveStatus)},
		{"/redirect", "?to=URL (default /echo): Status 302 with a Location header", fcgi.HandlerFunc(serveRedirect)},
		{"/slow", "?ms=M&chunks=K: K chunks (default 5), one every M ms (default 300), each its own STDOUT record; stops on abort", fcgi.HandlerFunc(serveSlow)},
		{"/large", "?bytes=N: N bytes of text (default 1 MiB, at most 512 MiB) in 64 KiB writes", fcgi.HandlerFunc(serveLarge)},
		{"/cookie", "two Set-Cookie headers", fcgi.HandlerFunc(serveCookie)},
		{"/image", "a small PNG image", fcgi.HandlerFunc(serveImage)},
		{"/html", "a small HTML page", fcgi.HandlerFunc(serveHTML)},
	}, Misbehaviours()...)
}

// Handler returns the demo backend's handler: routes by path for RESPONDER
// requests, the authorizer and the filter for the other roles.
func Handler() fcgi.Handler {
	routes := make(map[string]fcgi.Handler)
	for _, r := range Routes() {
		routes[r.Path] = r.Handler
	}
	return fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		path := RequestPath(r)
		if path == "/echo" {
			serveEcho(w, r)
			return
		}
		switch r.Role {
		case fcgi.RoleAuthorizer:
			serveAuthorizer(w, r)
			return
		case fcgi.RoleFilter:
			serveFilter(w, r)
			return
		}
		if h, ok := routes[path]; ok {
			h.ServeFCGI(w, r)
			return
		}
		serveNotFound(w, r, path)
	})
}

// RequestPath returns the path a request asks for: SCRIPT_NAME, else
// DOCUMENT_URI, else the path of REQUEST_URI, else "/".
func RequestPath(r *fcgi.ServerRequest) string {
	if p := r.Param("SCRIPT_NAME"); p != "" {
		return p
	}
	if p := r.Param("DOCUMENT_URI"); p != "" {
		return p
	}
	if u := r.Param("REQUEST_URI"); u != "" {
		p, _, _ := strings.Cut(u, "?")
		if p != "" {
			return p
		}
	}
	return "/"
}

// query returns the request's query: QUERY_STRING, else the query of
// REQUEST_URI. Malformed parts are skipped.
func query(r *fcgi.ServerRequest) url.Values {
	q := r.Param("QUERY_STRING")
	if q == "" {
		_, q, _ = strings.Cut(r.Param("REQUEST_URI"), "?")
	}
	v, _ := url.ParseQuery(q)
	return v
}

// intParam returns the query value name as an int in [lo, hi], def when
// absent or not a number.
func intParam(q url.Values, name string, def, lo, hi int) int {
	n, err := strconv.Atoi(q.Get(name))
	if err != nil {
		return def
	}
	return max(lo, min(hi, n))
}

// header writes a CGI header block: a Status line unless status is 200,
// the given lines, and the blank line.
func header(w io.Writer, status int, lines ...string) {
	var b strings.Builder
	if status != http.StatusOK {
		fmt.Fprintf(&b, "Status: %d %s\r\n", status, http.StatusText(status))
	}
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\r\n")
	}
	b.WriteString("\r\n")
	io.WriteString(w, b.String())
}

const textPlain = "Content-Type: text/plain; charset=utf-8"

func serveIndex(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	header(w, http.StatusOK, "Content-Type: text/html; charset=utf-8")
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>fcgiscope demo backend</title></head><body>\n")
	b.WriteString("<h1>fcgiscope demo backend</h1>\n<ul>\n")
	for _, rt := range Routes() {
		fmt.Fprintf(&b, "<li><a href=\"%s\"><code>%s</code></a> &mdash; %s</li>\n",
			html.EscapeString(rt.Path), html.EscapeString(rt.Path), html.EscapeString(rt.Summary))
	}
	b.WriteString("</ul>\n<p>Other paths answer 404 and say so on STDERR.</p>\n")
	b.WriteString("<p>AUTHORIZER role: 200 with <code>Variable-AUTH_USER</code> and <code>Variable-AUTH_LEVEL</code> when HTTP_AUTHORIZATION is set, else 403.</p>\n")
	b.WriteString("<p>FILTER role: the DATA stream back, after a line with FCGI_DATA_LENGTH, FCGI_DATA_LAST_MOD and the bytes received.</p>\n")
	b.WriteString("</body></html>\n")
	io.WriteString(w, b.String())
}

// echoParam is one param in the /echo answer.
type echoParam struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// echoBody is the JSON /echo answers; field order is the wire order.
type echoBody struct {
	Role        string      `json:"role"`
	RequestID   uint16      `json:"request_id"`
	KeepConn    bool        `json:"keep_conn"`
	Params      []echoParam `json:"params"`
	StdinLength int         `json:"stdin_length"`
	Stdin       *string     `json:"stdin,omitempty"`
	StdinBase64 *string     `json:"stdin_base64,omitempty"`
	DataLength  *int        `json:"data_length,omitempty"`
}

func serveEcho(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	stdin, err := io.ReadAll(r.Stdin)
	if err != nil {
		fmt.Fprintf(w.Stderr(), "demo: /echo: reading stdin: %v\n", err)
		return
	}
	body := echoBody{Role: r.Role.String(), RequestID: r.ID, KeepConn: r.KeepConn,
		Params: make([]echoParam, len(r.Params)), StdinLength: len(stdin)}
	for i, p := range r.Params {
		body.Params[i] = echoParam{p.Name, p.Value}
	}
	if utf8.Valid(stdin) {
		s := string(stdin)
		body.Stdin = &s
	} else {
		s := base64.StdEncoding.EncodeToString(stdin)
		body.StdinBase64 = &s
	}
	if r.Role == fcgi.RoleFilter {
		n, err := io.Copy(io.Discard, r.Data)
		if err != nil {
			fmt.Fprintf(w.Stderr(), "demo: /echo: reading data: %v\n", err)
			return
		}
		dl := int(n)
		body.DataLength = &dl
	}
	out, err := json.MarshalIndent(body, "", "  ")
	if err != nil {
		fmt.Fprintf(w.Stderr(), "demo: /echo: encoding JSON: %v\n", err)
		w.SetAppStatus(1)
		return
	}
	header(w, http.StatusOK, "Content-Type: application/json")
	w.Write(append(out, '\n'))
}

func serveStderr(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	q := query(r)
	n := intParam(q, "lines", defaultStderrLines, 0, maxStderrLines)
	status, err := strconv.ParseUint(q.Get("app_status"), 10, 32)
	if err != nil {
		status = 0
	}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w.Stderr(), "demo: stderr line %d of %d\n", i, n)
	}
	w.SetAppStatus(uint32(status))
	if q.Get("stdout") == "none" {
		return
	}
	header(w, http.StatusOK, textPlain)
	fmt.Fprintf(w, "wrote %d lines to STDERR, app status %d\n", n, status)
}

func serveStatus(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	code := intParam(query(r), "code", http.StatusOK, 100, 999)
	header(w, code, textPlain)
	text := http.StatusText(code)
	if text == "" {
		text = "unnamed status"
	}
	fmt.Fprintf(w, "status %d: %s\n", code, text)
}

func serveRedirect(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	to := query(r).Get("to")
	if to == "" {
		to = "/echo"
	}
	if strings.ContainsAny(to, "\r\n") {
		header(w, http.StatusBadRequest, textPlain)
		io.WriteString(w, "redirect target must not contain CR or LF\n")
		return
	}
	header(w, http.StatusFound, "Location: "+to, textPlain)
	fmt.Fprintf(w, "redirecting to %s\n", to)
}

func serveSlow(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	q := query(r)
	ms := intParam(q, "ms", defaultSlowMS, 0, maxSlowMS)
	chunks := intParam(q, "chunks", defaultSlowChunks, 0, maxSlowChunks)
	header(w, http.StatusOK, textPlain)
	if w.Flush() != nil {
		return
	}
	ctx := r.Context()
	start := time.Now()
	for i := 1; i <= chunks; i++ {
		if !sleep(ctx, time.Duration(ms)*time.Millisecond) {
			fmt.Fprintf(w.Stderr(), "demo: /slow stopped after %d of %d chunks: %v\n", i-1, chunks, context.Cause(ctx))
			return
		}
		fmt.Fprintf(w, "chunk %d of %d at +%dms\n", i, chunks, time.Since(start).Milliseconds())
		if w.Flush() != nil {
			return
		}
	}
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func serveLarge(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	n := intParam(query(r), "bytes", defaultLargeBytes, 0, maxLargeBytes)
	header(w, http.StatusOK, textPlain, "Content-Length: "+strconv.Itoa(n))
	chunk := largeChunk()
	ctx := r.Context()
	for n > 0 {
		if ctx.Err() != nil {
			return
		}
		k := min(n, len(chunk))
		if _, err := w.Write(chunk[:k]); err != nil {
			return
		}
		n -= k
	}
}

// largeChunk returns 64 KiB of numbered 64-byte lines.
func largeChunk() []byte {
	b := make([]byte, 0, largeWrite)
	for i := 0; len(b) < largeWrite; i++ {
		line := fmt.Sprintf("fcgiscope demo line %06d ", i)
		line += strings.Repeat(".", 63-len(line)) + "\n"
		b = append(b, line...)
	}
	return b[:largeWrite]
}

func serveCookie(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	header(w, http.StatusOK, textPlain,
		"Set-Cookie: demo_session=abc123; Path=/; HttpOnly",
		"Set-Cookie: demo_theme=dark; Path=/; Max-Age=3600")
	io.WriteString(w, "two cookies set\n")
}

func serveImage(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, color.RGBA{R: uint8(x * 16), G: uint8(y * 16), B: 160, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		fmt.Fprintf(w.Stderr(), "demo: /image: encoding PNG: %v\n", err)
		w.SetAppStatus(1)
		return
	}
	header(w, http.StatusOK, "Content-Type: image/png", "Content-Length: "+strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

func serveHTML(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	header(w, http.StatusOK, "Content-Type: text/html; charset=utf-8")
	io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Hello from FastCGI</title></head>\n"+
		"<body><h1>Hello from FastCGI</h1><p>This page came through the fcgiscope demo backend.</p></body></html>\n")
}

func serveNotFound(w *fcgi.ResponseWriter, r *fcgi.ServerRequest, path string) {
	fmt.Fprintf(w.Stderr(), "demo: unknown path %q\n", path)
	header(w, http.StatusNotFound, textPlain)
	fmt.Fprintf(w, "no route for %s; see / for the list\n", path)
}

func serveAuthorizer(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	if r.Param("HTTP_AUTHORIZATION") == "" {
		header(w, http.StatusForbidden, textPlain)
		io.WriteString(w, "access denied: no Authorization header\n")
		return
	}
	header(w, http.StatusOK, "Variable-AUTH_USER: demo", "Variable-AUTH_LEVEL: admin", textPlain)
	io.WriteString(w, "access granted\n")
}

func serveFilter(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	if _, err := io.Copy(io.Discard, r.Stdin); err != nil {
		fmt.Fprintf(w.Stderr(), "demo: filter: reading stdin: %v\n", err)
		return
	}
	data, err := io.ReadAll(r.Data)
	if err != nil {
		fmt.Fprintf(w.Stderr(), "demo: filter: reading data: %v\n", err)
		return
	}
	length, lastMod := r.Param("FCGI_DATA_LENGTH"), r.Param("FCGI_DATA_LAST_MOD")
	if n, err := strconv.Atoi(length); err != nil || n != len(data) {
		fmt.Fprintf(w.Stderr(), "demo: filter: FCGI_DATA_LENGTH is %q but %d bytes of DATA arrived\n", length, len(data))
	}
	header(w, http.StatusOK, textPlain)
	fmt.Fprintf(w, "FCGI_DATA_LENGTH=%s FCGI_DATA_LAST_MOD=%s received=%d\n", length, lastMod, len(data))
	w.Write(data)
}
