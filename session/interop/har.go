// HAR 1.2 export: the HTTP view of an Exchange, with its FastCGI side in a
// _fastcgi object.

package interop

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), the parts an
// Exchange fills. Optional fields fcgiscope cannot know are left out or -1.
type harLog struct {
	Log harContent `json:"log"`
}

type harContent struct {
	Version string     `json:"version"`
	Creator harCreator `json:"creator"`
	Entries []harEntry `json:"entries"`
}

type harCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type harEntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         harRequest  `json:"request"`
	Response        harResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         harTimings  `json:"timings"`
	ServerIPAddress string      `json:"serverIPAddress,omitempty"`
	Comment         string      `json:"comment,omitempty"`
	// FastCGI is fcgiscope's own view, as HAR allows for fields starting
	// with an underscore.
	FastCGI harFastCGI `json:"_fastcgi"`
}

type harNV struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []harNV      `json:"cookies"`
	Headers     []harNV      `json:"headers"`
	QueryString []harNV      `json:"queryString"`
	PostData    *harPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

type harPostData struct {
	MimeType string  `json:"mimeType"`
	Params   []harNV `json:"params"`
	Text     string  `json:"text"`
	Encoding string  `json:"_encoding,omitempty"` // base64 for a body that is not UTF-8
}

type harResponse struct {
	Status      int     `json:"status"`
	StatusText  string  `json:"statusText"`
	HTTPVersion string  `json:"httpVersion"`
	Cookies     []harNV `json:"cookies"`
	Headers     []harNV `json:"headers"`
	Content     harBody `json:"content"`
	RedirectURL string  `json:"redirectURL"`
	HeadersSize int     `json:"headersSize"`
	BodySize    int     `json:"bodySize"`
	Comment     string  `json:"comment,omitempty"`
}

type harBody struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text,omitempty"`
	Encoding string `json:"encoding,omitempty"`
}

type harTimings struct {
	Blocked float64 `json:"blocked"`
	DNS     float64 `json:"dns"`
	Connect float64 `json:"connect"`
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
	SSL     float64 `json:"ssl"`
}

type harFastCGI struct {
	Target     string             `json:"target"`
	Role       string             `json:"role"`
	RequestID  uint16             `json:"requestId"`
	Params     []harNV            `json:"params"`
	EndRequest *session.EndStatus `json:"endRequest,omitempty"`
	Stderr     string             `json:"stderr,omitempty"`
	Warnings   []string           `json:"warnings,omitempty"`
	Error      string             `json:"error,omitempty"`
}

// ExportHAR returns x as a HAR 1.2 log with one entry: the HTTP view of the
// exchange. The request (method, URL, headers, query string, post data)
// comes from the input's HTTP fields, or from the params sent when the
// input has none (REQUEST_METHOD, REQUEST_URI, HTTP_*); the response is the
// parsed CGI response; timings are connect, wait (to the first record) and
// receive. A "_fastcgi" field adds target, role, params, END_REQUEST,
// stderr, warnings and error. Secret header, cookie and param values are
// replaced by session.Redacted unless opts.Secrets is set.
func ExportHAR(x *session.Exchange, opts session.ExportOptions) ([]byte, error) {
	params := x.Params()
	sentBody := x.Stdin()
	req := harRequestFrom(x.Input.HTTP, params, sentBody)
	e := harEntry{
		StartedDateTime: x.Start().Format("2006-01-02T15:04:05.000Z07:00"),
		Request:         req,
		FastCGI: harFastCGI{Target: x.Target(), Role: x.Role().String(), RequestID: x.RequestID(),
			EndRequest: x.End(), Stderr: string(x.Stderr()), Warnings: x.Warnings(), Error: x.ErrorText()},
	}
	if x.Start().IsZero() {
		e.StartedDateTime = time.Unix(0, 0).UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	if network, addr, err := fcgi.ParseAddr(x.Target()); err == nil && network != "unix" {
		if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) != nil {
			e.ServerIPAddress = host
		}
	}
	e.Response = harResponseFrom(x.Response(), req.HTTPVersion)
	if x.ErrorText() != "" {
		e.Comment = x.ErrorText()
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	t := x.Timings()
	e.Time = ms(t.Total)
	e.Timings = harTimings{Blocked: -1, DNS: -1, Connect: -1, SSL: -1}
	if t.Connect > 0 {
		e.Timings.Connect = ms(t.Connect)
	}
	switch {
	case t.FirstByte > 0:
		e.Timings.Wait = max(0, ms(t.FirstByte-t.Connect))
		e.Timings.Receive = max(0, ms(t.Total-t.FirstByte))
	default:
		e.Timings.Wait = max(0, ms(t.Total-t.Connect))
	}
	if !opts.Secrets {
		params = session.Redact(params)
		redactHAR(&e.Request.Headers, &e.Request.Cookies)
		redactHAR(&e.Response.Headers, &e.Response.Cookies)
	}
	e.FastCGI.Params = make([]harNV, len(params))
	for i, p := range params {
		e.FastCGI.Params[i] = harNV{p.Name, p.Value}
	}
	log := harLog{Log: harContent{Version: "1.2", Creator: harCreator{Name: "fcgiscope", Version: buildVersion()},
		Entries: []harEntry{e}}}
	b, err := json.MarshalIndent(log, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("session: HAR export: %w", err)
	}
	return append(b, '\n'), nil
}

// redactHAR redacts secret headers and every cookie value.
func redactHAR(headers, cookies *[]harNV) {
	for i, h := range *headers {
		if session.IsSecretHeader(h.Name) {
			(*headers)[i].Value = session.Redacted
		}
	}
	for i := range *cookies {
		(*cookies)[i].Value = session.Redacted
	}
}

// buildVersion returns the main module's version, "devel" when unknown.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// harRequestFrom builds the HTTP request of an exchange.
func harRequestFrom(h *session.HTTPInput, params session.Params, sentBody []byte) harRequest {
	get := func(n string) string { v, _ := params.Get(n); return v }
	r := harRequest{Cookies: []harNV{}, Headers: []harNV{}, QueryString: []harNV{}, HeadersSize: -1}
	var (
		scheme, host, uri string
		port              int
		body              []byte
	)
	if h != nil {
		d := h.WithDefaults()
		r.Method, r.HTTPVersion, uri = d.Method, d.ServerProtocol, d.URL
		scheme, port, host = "http", d.ServerPort, d.ServerName
		if d.HTTPS {
			scheme = "https"
		}
		lines, err := h.WireHeaders()
		if err != nil {
			lines = h.HeaderLines()
		}
		for _, l := range lines {
			r.Headers = append(r.Headers, harNV(l))
			if strings.EqualFold(l.Name, "Host") && l.Value != "" {
				host = l.Value
			}
		}
		body = h.Body
	} else {
		r.Method, r.HTTPVersion = get("REQUEST_METHOD"), get("SERVER_PROTOCOL")
		scheme = get("REQUEST_SCHEME")
		if scheme == "" {
			scheme = "http"
			if v := get("HTTPS"); v != "" && !strings.EqualFold(v, "off") {
				scheme = "https"
			}
		}
		port, _ = strconv.Atoi(get("SERVER_PORT"))
		host = get("HTTP_HOST")
		if host == "" {
			host = get("SERVER_NAME")
		}
		if uri = get("REQUEST_URI"); uri == "" {
			uri = get("SCRIPT_NAME") + get("PATH_INFO")
			if q := get("QUERY_STRING"); q != "" {
				uri += "?" + q
			}
		}
		for _, p := range params {
			switch {
			case p.Name == "CONTENT_TYPE" && p.Value != "":
				r.Headers = append(r.Headers, harNV{"Content-Type", p.Value})
			case p.Name == "CONTENT_LENGTH" && p.Value != "":
				r.Headers = append(r.Headers, harNV{"Content-Length", p.Value})
			case strings.HasPrefix(p.Name, "HTTP_"):
				r.Headers = append(r.Headers, harNV{headerName(p.Name[5:]), p.Value})
			}
		}
	}
	if len(sentBody) > 0 {
		body = sentBody // what actually went out
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	if r.HTTPVersion == "" {
		r.HTTPVersion = session.DefaultServerProtocol
	}
	if host == "" {
		host = session.DefaultServerName
	}
	if !strings.HasPrefix(uri, "/") {
		uri = "/" + uri
	}
	if i := strings.IndexByte(uri, '#'); i >= 0 {
		uri = uri[:i]
	}
	u := scheme + "://" + host
	if port != 0 && !strings.Contains(host, ":") && !(scheme == "http" && port == 80 || scheme == "https" && port == 443) {
		u += ":" + strconv.Itoa(port)
	}
	r.URL = u + uri
	if _, q, ok := strings.Cut(uri, "?"); ok {
		r.QueryString = harQuery(q)
	}
	for _, hd := range r.Headers {
		if strings.EqualFold(hd.Name, "Cookie") {
			r.Cookies = append(r.Cookies, harCookies(hd.Value)...)
		}
	}
	r.BodySize = len(body)
	if len(body) > 0 {
		pd := &harPostData{Params: []harNV{}}
		for _, hd := range r.Headers {
			if strings.EqualFold(hd.Name, "Content-Type") {
				pd.MimeType = hd.Value
				break
			}
		}
		if utf8.Valid(body) {
			pd.Text = string(body)
		} else {
			pd.Text, pd.Encoding = base64.StdEncoding.EncodeToString(body), "base64"
		}
		r.PostData = pd
	}
	return r
}

// headerName turns the CGI form of a header name (X_FORWARDED_FOR) into
// the usual HTTP form (X-Forwarded-For).
func headerName(cgi string) string {
	parts := strings.Split(strings.ToLower(cgi), "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "-")
}

// harQuery splits a query string into its parameters, in order, decoded
// when they decode.
func harQuery(q string) []harNV {
	out := []harNV{}
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err == nil {
			k = dk
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		out = append(out, harNV{k, v})
	}
	return out
}

// harCookies splits a Cookie header value.
func harCookies(v string) []harNV {
	var out []harNV
	for _, part := range strings.Split(v, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, _ := strings.Cut(part, "=")
		out = append(out, harNV{k, val})
	}
	return out
}

// harResponseFrom builds the HTTP response of an exchange (status 0 when
// there is none).
func harResponseFrom(resp *session.HTTPResponse, version string) harResponse {
	r := harResponse{HTTPVersion: version, Cookies: []harNV{}, Headers: []harNV{}, HeadersSize: -1}
	if resp == nil {
		r.Comment = "no response"
		return r
	}
	r.Status, r.StatusText = resp.Status, resp.Reason
	for _, h := range resp.Headers {
		r.Headers = append(r.Headers, harNV(h))
		switch {
		case strings.EqualFold(h.Name, "Set-Cookie"):
			if c, err := http.ParseSetCookie(h.Value); err == nil {
				r.Cookies = append(r.Cookies, harNV{c.Name, c.Value})
			}
		case strings.EqualFold(h.Name, "Location"):
			r.RedirectURL = h.Value
		case strings.EqualFold(h.Name, "Content-Type") && r.Content.MimeType == "":
			r.Content.MimeType = h.Value
		}
	}
	r.BodySize, r.Content.Size = len(resp.Body), len(resp.Body)
	if utf8.Valid(resp.Body) {
		r.Content.Text = string(resp.Body)
	} else {
		r.Content.Text, r.Content.Encoding = base64.StdEncoding.EncodeToString(resp.Body), "base64"
	}
	return r
}
