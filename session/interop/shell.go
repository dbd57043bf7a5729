// A POSIX shell-word lexer: enough of the shell language to read the
// command lines people paste, expanding and running nothing.

package interop

import (
	"errors"
	"fmt"
	"strings"
)

// shWord is one shell word after quote removal.
type shWord struct {
	text string
	// assign is the index of '=' when the word is an assignment (an
	// unquoted name, then '='), else -1.
	assign int
	// expand: the word held $ or ` outside single quotes, which the
	// import keeps literally instead of expanding.
	expand bool
}

// shCmd is a simple command: words and an input redirection.
type shCmd struct {
	words []shWord
	stdin string // < file
}

// shPipeline is commands joined by |.
type shPipeline []shCmd

// shParse splits a shell script into pipelines, following POSIX quoting:
// '…' literal, "…" with \ escaping $ ` " \ and newline, \ outside quotes,
// line continuations and comments. It expands nothing and runs nothing.
func shParse(s string) ([]shPipeline, []string, error) {
	var (
		out      []shPipeline
		warnings []string
		pipe     shPipeline
		cmd      shCmd
		redirect string // "<" or ">" waiting for its word
	)
	endCmd := func() error {
		if redirect != "" {
			return fmt.Errorf("%s without a file", redirect)
		}
		if len(cmd.words) > 0 || cmd.stdin != "" {
			pipe = append(pipe, cmd)
		}
		cmd = shCmd{}
		return nil
	}
	endPipe := func() error {
		if err := endCmd(); err != nil {
			return err
		}
		if len(pipe) > 0 {
			out = append(out, pipe)
		}
		pipe = nil
		return nil
	}
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
			continue
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue
		case c == '\n' || c == ';':
			if err := endPipe(); err != nil {
				return nil, nil, err
			}
			i++
			continue
		case c == '&' || c == '|':
			if i+1 < len(s) && s[i+1] == c { // && or ||
				if err := endPipe(); err != nil {
					return nil, nil, err
				}
				i += 2
				continue
			}
			if c == '&' {
				warnings = append(warnings, "'&' (background) read as ';'")
				if err := endPipe(); err != nil {
					return nil, nil, err
				}
			} else {
				if len(cmd.words) == 0 {
					return nil, nil, fmt.Errorf("'|' at byte %d follows no command", i)
				}
				if err := endCmd(); err != nil {
					return nil, nil, err
				}
			}
			i++
			continue
		case c == '<' || c == '>':
			if i+1 < len(s) && s[i+1] == '<' && c == '<' {
				return nil, nil, fmt.Errorf("here-documents (<<) are not supported (byte %d)", i)
			}
			if redirect != "" {
				return nil, nil, fmt.Errorf("%c at byte %d follows %s", c, i, redirect)
			}
			redirect = string(c)
			i++
			if i < len(s) && (s[i] == '>' || s[i] == '&' || s[i] == '|') {
				i++
			}
			continue
		case c == '(' || c == ')':
			return nil, nil, fmt.Errorf("sub-shells and groups are not supported (byte %d)", i)
		}
		w, n, err := shReadWord(s[i:])
		if err != nil {
			return nil, nil, fmt.Errorf("at byte %d: %w", i, err)
		}
		i += n
		switch redirect {
		case "<":
			cmd.stdin, redirect = w.text, ""
		case ">":
			warnings = append(warnings, fmt.Sprintf("output redirection to %q ignored", w.text))
			redirect = ""
		default:
			cmd.words = append(cmd.words, w)
		}
	}
	if err := endPipe(); err != nil {
		return nil, nil, err
	}
	return out, warnings, nil
}

// shReadWord reads one word at the start of s and returns it with the bytes
// it took.
func shReadWord(s string) (shWord, int, error) {
	var b strings.Builder
	w := shWord{assign: -1}
	quoted := -1 // index in b of the first quoted byte
	markQuoted := func() {
		if quoted < 0 {
			quoted = b.Len()
		}
	}
	i := 0
loop:
	for i < len(s) {
		c := s[i]
		switch c {
		case ' ', '\t', '\r', '\n', ';', '&', '|', '<', '>', '(', ')':
			break loop
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return w, 0, errors.New("unterminated '")
			}
			markQuoted()
			b.WriteString(s[i+1 : i+1+j])
			i += j + 2
		case '"':
			markQuoted()
			i++
			for {
				if i >= len(s) {
					return w, 0, errors.New(`unterminated "`)
				}
				d := s[i]
				if d == '"' {
					i++
					break
				}
				if d == '\\' && i+1 < len(s) {
					switch s[i+1] {
					case '$', '`', '"', '\\':
						b.WriteByte(s[i+1])
						i += 2
						continue
					case '\n':
						i += 2
						continue
					}
				}
				if d == '$' || d == '`' {
					w.expand = true
				}
				b.WriteByte(d)
				i++
			}
		case '\\':
			if i+1 >= len(s) {
				i++
				continue
			}
			if s[i+1] == '\n' {
				i += 2
				continue
			}
			markQuoted()
			b.WriteByte(s[i+1])
			i += 2
		default:
			if c == '$' || c == '`' {
				w.expand = true
			}
			b.WriteByte(c)
			i++
		}
	}
	w.text = b.String()
	if eq := strings.IndexByte(w.text, '='); eq > 0 && (quoted < 0 || eq < quoted) && isShellName(w.text[:eq]) {
		w.assign = eq
	}
	return w, i, nil
}
