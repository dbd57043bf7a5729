// Importing a cgi-fcgi command line: the environment it passes, its
// -connect address and the body piped or redirected in.

package interop

import (
	"errors"
	"fmt"
	"strings"

	"fcgiscope/session"
)

// CommandImport is what ImportCGIFCGI read from a shell command.
type CommandImport struct {
	// Target is the -connect address, as fcgi.ParseAddr accepts it.
	Target string
	// Params are the environment variables cgi-fcgi receives, in order.
	Params []session.RawParam
	// Body is the standard input piped in by printf or echo; BodyFile the
	// file redirected (< file) or cat'ed in.
	Body     []byte
	BodyFile string
	// ClearEnv: the command used env -i, so cgi-fcgi receives exactly
	// Params. Without it cgi-fcgi would also pass the shell's environment.
	ClearEnv bool
	// Warnings say what was not understood or not expanded.
	Warnings []string
}

// ImportCGIFCGI reads a shell command that runs cgi-fcgi — such as
// `REQUEST_METHOD=GET SCRIPT_FILENAME=/srv/a.php cgi-fcgi -bind -connect
// 127.0.0.1:9000`, with an env [-i] prefix, export lines before it, line
// continuations, '…' and "…" quoting and backslashes, and a body piped in by
// printf or echo or redirected from a file — and returns the target and the
// environment cgi-fcgi would receive, as params. Nothing is executed: $VAR,
// $(…) and backticks are kept as written, with a warning.
func ImportCGIFCGI(command string) (CommandImport, error) {
	var res CommandImport
	pipes, warnings, err := shParse(command)
	if err != nil {
		return res, fmt.Errorf("session: cgi-fcgi import: %w", err)
	}
	res.Warnings = warnings
	add := func(w shWord, eq int) {
		name, value := w.text[:eq], w.text[eq+1:]
		if w.expand {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: $ and ` are kept as written, not expanded", name))
		}
		res.Params = append(res.Params, session.RawParam{Name: name, Value: value, Enabled: true})
	}
	found := false
	for _, p := range pipes {
		last := p[len(p)-1]
		words := last.words
		// Leading assignments: the command's own environment.
		k := 0
		for k < len(words) && words[k].assign >= 0 {
			k++
		}
		if k < len(words) && words[k].text == "exec" {
			k++
		}
		rest := words[k:]
		if len(rest) == 0 || !isProgram(rest[0].text, "env") && !isProgram(rest[0].text, CGIFCGIProgram) {
			switch {
			case len(rest) == 0:
				res.Warnings = append(res.Warnings, "assignments without export are shell variables, not passed to cgi-fcgi; imported anyway")
				for _, w := range words {
					add(w, w.assign)
				}
			case rest[0].text == "export" && k == 0:
				for _, w := range rest[1:] {
					if eq := strings.IndexByte(w.text, '='); eq > 0 {
						add(w, eq)
					} else {
						res.Warnings = append(res.Warnings, fmt.Sprintf("export %s: no value, ignored", w.text))
					}
				}
			default:
				res.Warnings = append(res.Warnings, fmt.Sprintf("command %q ignored", rest[0].text))
			}
			continue
		}
		if found {
			return res, errors.New("session: cgi-fcgi import: more than one cgi-fcgi command")
		}
		found = true
		for _, w := range words[:k] {
			if w.assign >= 0 {
				add(w, w.assign)
			}
		}
		if isProgram(rest[0].text, "env") {
			j := 1
			for ; j < len(rest); j++ {
				t := rest[j].text
				if t == "-i" || t == "-" || t == "--ignore-environment" {
					res.ClearEnv = true
					res.Params = nil // env -i drops what came before
					continue
				}
				if t == "-u" && j+1 < len(rest) {
					j++
					res.Params = slicesDeleteParam(res.Params, rest[j].text)
					continue
				}
				if t == "--" {
					continue
				}
				if strings.HasPrefix(t, "-") {
					return res, fmt.Errorf("session: cgi-fcgi import: env option %q is not supported", t)
				}
				if eq := strings.IndexByte(t, '='); eq > 0 {
					add(rest[j], eq)
					continue
				}
				break
			}
			rest = rest[j:]
			if len(rest) == 0 || !isProgram(rest[0].text, CGIFCGIProgram) {
				return res, errors.New("session: cgi-fcgi import: env runs no cgi-fcgi")
			}
		}
		for j := 1; j < len(rest); j++ {
			switch t := rest[j].text; t {
			case "-bind", "-start":
			case "-connect":
				if j+1 >= len(rest) {
					return res, errors.New("session: cgi-fcgi import: -connect without an address")
				}
				j++
				res.Target = cgiFCGITarget(rest[j].text)
			default:
				res.Warnings = append(res.Warnings, fmt.Sprintf("cgi-fcgi argument %q ignored", t))
			}
		}
		if last.stdin != "" {
			res.BodyFile = last.stdin
		}
		if len(p) > 1 {
			if len(p) > 2 {
				res.Warnings = append(res.Warnings, "only the command right before cgi-fcgi is read for the body")
			}
			if err := pipedBody(p[len(p)-2], &res); err != nil {
				return res, fmt.Errorf("session: cgi-fcgi import: %w", err)
			}
		}
	}
	if !found {
		return res, errors.New("session: cgi-fcgi import: no cgi-fcgi command found")
	}
	if res.Target == "" {
		return res, errors.New("session: cgi-fcgi import: cgi-fcgi has no -connect address")
	}
	if !res.ClearEnv {
		res.Warnings = append(res.Warnings, "without env -i, cgi-fcgi also passes the shell's whole environment; only the variables written in the command were imported")
	}
	return res, nil
}

// pipedBody reads the body from the command piped into cgi-fcgi.
func pipedBody(c shCmd, res *CommandImport) error {
	ws := c.words
	if len(ws) == 0 {
		return errors.New("empty command before |")
	}
	for _, w := range ws[1:] {
		if w.expand {
			res.Warnings = append(res.Warnings, "body: $ and ` are kept as written, not expanded")
			break
		}
	}
	switch {
	case ws[0].text == "printf" && len(ws) == 3 && ws[1].text == "%s":
		res.Body = []byte(ws[2].text)
	case ws[0].text == "printf" && len(ws) == 2 && !strings.ContainsAny(ws[1].text, `%\`):
		res.Body = []byte(ws[1].text)
	case ws[0].text == "echo" && len(ws) >= 2 && ws[1].text == "-n":
		res.Body = []byte(joinWords(ws[2:]))
	case ws[0].text == "echo":
		res.Body = []byte(joinWords(ws[1:]) + "\n")
	case ws[0].text == "cat" && len(ws) == 2:
		res.BodyFile = ws[1].text
	case ws[0].text == "cat" && len(ws) == 1 && c.stdin != "":
		res.BodyFile = c.stdin
	default:
		res.Warnings = append(res.Warnings, fmt.Sprintf("body from %q not understood; no body imported", ws[0].text))
	}
	return nil
}

func joinWords(ws []shWord) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = w.text
	}
	return strings.Join(s, " ")
}

// isProgram reports whether word runs the program name (possibly by path).
func isProgram(word, name string) bool {
	return word == name || strings.HasSuffix(word, "/"+name)
}

func slicesDeleteParam(ps []session.RawParam, name string) []session.RawParam {
	out := ps[:0]
	for _, p := range ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// cgiFCGITarget converts a cgi-fcgi -connect address to a target:
// "host:port" stays, ":port" means localhost, anything else is a socket path.
func cgiFCGITarget(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		if port := addr[i+1:]; port != "" && strings.Trim(port, "0123456789") == "" {
			if i == 0 {
				return "localhost" + addr
			}
			return addr
		}
	}
	if strings.HasPrefix(addr, "/") {
		return addr
	}
	return "unix:" + addr
}

// nginx fastcgi_param import.
