// Importing nginx configuration: fastcgi_param lines, their variables
// resolved for a composed request as nginx would.

package interop

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// NginxImport is what ImportNginxParams read.
type NginxImport struct {
	// Params are the fastcgi_param lines in order. A line marked
	// if_not_empty whose value came out empty is kept disabled, as nginx
	// does not send it.
	Params []session.RawParam
	// Target is the address of a fastcgi_pass line, "" if none.
	Target string
	// Unresolved lists the variables that could not be resolved, "$name",
	// each once, in order; they stay in the values as written.
	Unresolved []string
	// Warnings say what was skipped or guessed.
	Warnings []string
}

// nginxToken is one token of an nginx configuration.
type nginxToken struct {
	text string
	line int
	// end is ";", "{" or "}" for the token that ends a directive or block
	// (text is then empty).
	end string
}

// nginxTokens splits an nginx configuration into tokens as nginx's
// ngx_conf_read_token does: whitespace separates, # starts a comment at the
// start of a token, "…" and '…' quote, a backslash makes the next character
// ordinary, and \" \' \\ \t \r \n are unescaped (any other backslash
// stays); ; and { end a token (but not "${"), and ; { } at the start of one
// end a directive or a block.
func nginxTokens(conf string) ([]nginxToken, error) {
	var out []nginxToken
	line := 1
	i := 0
	for i < len(conf) {
		c := conf[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '#':
			for i < len(conf) && conf[i] != '\n' {
				i++
			}
			continue
		case c == ';' || c == '{' || c == '}':
			out = append(out, nginxToken{end: string(c), line: line})
			i++
			continue
		}
		startLine := line
		var raw []byte
		if c == '"' || c == '\'' {
			i++
			for {
				if i >= len(conf) {
					return nil, fmt.Errorf("line %d: unterminated %c", startLine, c)
				}
				d := conf[i]
				if d == '\\' && i+1 < len(conf) {
					raw = append(raw, d, conf[i+1])
					if conf[i+1] == '\n' {
						line++
					}
					i += 2
					continue
				}
				if d == c {
					i++
					break
				}
				if d == '\n' {
					line++
				}
				raw = append(raw, d)
				i++
			}
		} else {
			for i < len(conf) {
				d := conf[i]
				if d == '\\' && i+1 < len(conf) {
					raw = append(raw, d, conf[i+1])
					i += 2
					continue
				}
				// "${" does not end a token: it starts a variable.
				if d == ' ' || d == '\t' || d == '\r' || d == '\n' || d == ';' || d == '{' && (len(raw) == 0 || raw[len(raw)-1] != '$') {
					break
				}
				raw = append(raw, d)
				i++
			}
		}
		out = append(out, nginxToken{text: nginxUnescape(raw), line: startLine})
	}
	return out, nil
}

// nginxUnescape applies nginx's escapes to a token's bytes.
func nginxUnescape(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); i++ {
		if raw[i] == '\\' && i+1 < len(raw) {
			switch raw[i+1] {
			case '"', '\'', '\\':
				b.WriteByte(raw[i+1])
				i++
				continue
			case 't':
				b.WriteByte('\t')
				i++
				continue
			case 'r':
				b.WriteByte('\r')
				i++
				continue
			case 'n':
				b.WriteByte('\n')
				i++
				continue
			}
		}
		b.WriteByte(raw[i])
	}
	return b.String()
}

// nginxParamVars maps nginx variables to the params HTTP mode sets with the
// same value.
var nginxParamVars = map[string]string{
	"request_method":      "REQUEST_METHOD",
	"query_string":        "QUERY_STRING",
	"args":                "QUERY_STRING",
	"request_uri":         "REQUEST_URI",
	"document_uri":        "DOCUMENT_URI",
	"uri":                 "DOCUMENT_URI",
	"document_root":       "DOCUMENT_ROOT",
	"fastcgi_script_name": "SCRIPT_NAME",
	"fastcgi_path_info":   "PATH_INFO",
	"server_protocol":     "SERVER_PROTOCOL",
	"request_scheme":      "REQUEST_SCHEME",
	"scheme":              "REQUEST_SCHEME",
	"https":               "HTTPS",
	"remote_addr":         "REMOTE_ADDR",
	"remote_port":         "REMOTE_PORT",
	"remote_user":         "REMOTE_USER",
	"server_addr":         "SERVER_ADDR",
	"server_port":         "SERVER_PORT",
	"server_name":         "SERVER_NAME",
	"content_type":        "CONTENT_TYPE",
	"content_length":      "CONTENT_LENGTH",
	"host":                "HTTP_HOST", // Debian's fastcgi_params sends $host as HTTP_HOST
}

// nginxResolver gives the values of nginx variables for one request.
type nginxResolver struct {
	params  session.Params    // what HTTP mode sends
	headers map[string]string // $http_*: lower-case name with _ for -, lines joined
	routed  bool              // the router ran: script name, path info, root are known
	// software is the input's SERVER_SOFTWARE, which gives $nginx_version
	// when it is "nginx/VERSION".
	software string
}

func newNginxResolver(from *session.HTTPInput) (*nginxResolver, []string) {
	r := &nginxResolver{headers: map[string]string{}}
	if from == nil {
		return r, nil
	}
	var warnings []string
	r.software = from.ServerSoftware
	params, err := session.PreviewHTTP(context.Background(), *from)
	if err == nil {
		r.params, r.routed = params, true
	} else {
		warnings = append(warnings, fmt.Sprintf("the request does not route (%v): $document_root, $fastcgi_script_name and $fastcgi_path_info stay unresolved", err))
		req, err2 := session.Build(context.Background(), session.Chain(session.CGIBasics(*from), session.Remote(*from), session.Headers(*from)))
		if err2 != nil {
			warnings = append(warnings, fmt.Sprintf("the request cannot be mapped (%v): no variable resolved", err2))
			return r, warnings
		}
		r.params = req.Params
	}
	if hs, err := from.WireHeaders(); err == nil {
		for _, h := range hs {
			k := strings.ToLower(strings.ReplaceAll(h.Name, "-", "_"))
			sep := ", "
			if k == "cookie" {
				sep = "; "
			}
			if old, ok := r.headers[k]; ok {
				r.headers[k] = old + sep + h.Value
			} else {
				r.headers[k] = h.Value
			}
		}
	}
	return r, warnings
}

// lookup returns the value of variable name.
func (r *nginxResolver) lookup(name string) (string, bool) {
	if r.params == nil {
		return "", false
	}
	switch name {
	case "nginx_version":
		if v, ok := strings.CutPrefix(r.software, "nginx/"); ok {
			return v, true
		}
		return strings.TrimPrefix(session.NginxServerSoftware, "nginx/"), true
	case "is_args":
		if q, _ := r.params.Get("QUERY_STRING"); q != "" {
			return "?", true
		}
		return "", true
	case "realpath_root":
		root, ok := r.params.Get("DOCUMENT_ROOT")
		if !ok || !r.routed {
			return "", false
		}
		if real, err := filepath.EvalSymlinks(root); err == nil {
			return real, true
		}
		return root, true
	}
	if h, ok := strings.CutPrefix(name, "http_"); ok {
		v, ok := r.headers[h]
		return v, ok || r.params != nil // an absent header is empty
	}
	p, ok := nginxParamVars[name]
	if !ok {
		return "", false
	}
	if !r.routed && (p == "DOCUMENT_ROOT" || p == "SCRIPT_NAME" || p == "PATH_INFO") {
		return "", false
	}
	v, _ := r.params.Get(p) // nginx gives an empty value for what is not set
	return v, true
}

// expandNginx substitutes $name and ${name} in s; unknown variables stay as
// written and are returned.
func (r *nginxResolver) expand(s string) (string, []string) {
	var b strings.Builder
	var unknown []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		j, braced := i+1, false
		if j < len(s) && s[j] == '{' {
			j, braced = j+1, true
		}
		k := j
		for k < len(s) && (s[k] == '_' || s[k] >= 'a' && s[k] <= 'z' || s[k] >= 'A' && s[k] <= 'Z' || s[k] >= '0' && s[k] <= '9') {
			k++
		}
		if k == j || braced && (k >= len(s) || s[k] != '}') {
			b.WriteByte('$') // not a variable: kept
			continue
		}
		name := strings.ToLower(s[j:k])
		end := k
		if braced {
			end++
		}
		if v, ok := r.lookup(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i:end])
			unknown = append(unknown, "$"+name)
		}
		i = end - 1
	}
	return b.String(), unknown
}

// ImportNginxParams reads nginx configuration text — a fastcgi_params file,
// or a location block — and returns its `fastcgi_param NAME VALUE
// [if_not_empty];` lines as params, in order, with the variables resolved
// for the request from: $request_method, $query_string, $args, $is_args,
// $request_uri, $document_uri, $uri, $document_root, $realpath_root,
// $fastcgi_script_name, $fastcgi_path_info, $server_protocol,
// $request_scheme, $scheme, $https, $remote_addr, $remote_port,
// $remote_user, $server_addr, $server_port, $server_name, $host,
// $content_type, $content_length and $http_NAME take the values HTTP mode
// maps from (see HTTPInput); $nginx_version is the version of the input's
// server software when it is "nginx/VERSION", else that of
// NginxServerSoftware. nginx itself then adds the request headers as HTTP_*
// params (fastcgi_pass_request_headers), which the import does not. Any other variable, or every
// variable when from is nil, stays as written and is listed in Unresolved.
// A fastcgi_pass line gives the Target; other directives are skipped with a
// warning.
func ImportNginxParams(conf string, from *session.HTTPInput) (NginxImport, error) {
	var res NginxImport
	toks, err := nginxTokens(conf)
	if err != nil {
		return res, fmt.Errorf("session: nginx import: %w", err)
	}
	r, warnings := newNginxResolver(from)
	res.Warnings = warnings
	seen := map[string]bool{}
	var args []nginxToken
	for _, t := range toks {
		if t.end == "" {
			args = append(args, t)
			continue
		}
		if len(args) == 0 {
			continue
		}
		name, line := args[0].text, args[0].line
		switch {
		case t.end == "{":
			// A block: its directives follow; nothing to do with its name.
		case name == "fastcgi_param":
			if len(args) != 3 && len(args) != 4 || len(args) == 4 && args[3].text != "if_not_empty" {
				return res, fmt.Errorf("session: nginx import: line %d: want fastcgi_param NAME VALUE [if_not_empty];", line)
			}
			value, unknown := r.expand(args[2].text)
			for _, u := range unknown {
				if !seen[u] {
					seen[u] = true
					res.Unresolved = append(res.Unresolved, u)
				}
			}
			enabled := len(args) == 3 || value != ""
			res.Params = append(res.Params, session.RawParam{Name: args[1].text, Value: value, Enabled: enabled})
		case name == "fastcgi_pass" && len(args) == 2:
			res.Target = args[1].text
			if _, _, err := fcgi.ParseAddr(res.Target); err != nil {
				res.Warnings = append(res.Warnings, fmt.Sprintf("line %d: fastcgi_pass %s is not an address fcgiscope can connect to (an upstream name?)", line, res.Target))
			}
		default:
			res.Warnings = append(res.Warnings, fmt.Sprintf("line %d: %s skipped", line, name))
		}
		args = nil
	}
	if len(args) > 0 {
		return res, fmt.Errorf("session: nginx import: line %d: %s has no ending ';'", args[0].line, args[0].text)
	}
	return res, nil
}
