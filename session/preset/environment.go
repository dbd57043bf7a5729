// Environments: named sets of variables ({{name}}) substituted into a
// composed request at send time, kept in environments.toml.

package preset

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fcgiscope/session"

	"github.com/BurntSushi/toml"
)

// EnvironmentsFormat is the version written in environments.toml.
const EnvironmentsFormat = 1

// Errors the environments wrap (errors.Is).
var (
	// ErrUnknownVariable is wrapped by *UnknownVariablesError.
	ErrUnknownVariable = errors.New("unknown variable")
	// ErrEnvironmentsFormat: the environments file was written by a newer
	// fcgiscope.
	ErrEnvironmentsFormat = errors.New("environments format not supported")
	// ErrEnvironmentsCorrupt: the environments file is not valid.
	ErrEnvironmentsCorrupt = errors.New("corrupt environments file")
)

// Environment is a named set of variables, such as "local" or "staging".
//
// A variable is written {{name}} where name matches
// [A-Za-z_][A-Za-z0-9_.-]* — nothing else between {{ and }}, no spaces.
// Any other text, "{{ name }}" or a lone "{{" included, is left as it is.
// Substitution is a single pass: a value is inserted as it is and never
// expanded again, so a variable whose value is "{{" gives a way to send a
// literal "{{name}}" (write "{{lb}}name}}" with lb = "{{").
type Environment struct {
	Name string
	Vars map[string]string
}

// Environments are the environments of a presets folder and the one in use.
type Environments struct {
	// Active names the environment in use, "" for none.
	Active string
	// List holds the environments, sorted by name.
	List []Environment
}

// Get returns the environment called name.
func (es Environments) Get(name string) (Environment, bool) {
	for _, e := range es.List {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// Set adds e, or replaces the environment of the same name, keeping List
// sorted.
func (es *Environments) Set(e Environment) {
	i, found := slices.BinarySearchFunc(es.List, e.Name, func(a Environment, n string) int { return strings.Compare(a.Name, n) })
	if found {
		es.List[i] = e
		return
	}
	es.List = slices.Insert(es.List, i, e)
}

// Remove deletes the environment called name (and clears Active if it was it).
func (es *Environments) Remove(name string) {
	es.List = slices.DeleteFunc(es.List, func(e Environment) bool { return e.Name == name })
	if es.Active == name {
		es.Active = ""
	}
}

// IsVariableName reports whether s can be a variable name.
func IsVariableName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// scanVars calls f for each {{name}} in s with its byte range.
func scanVars(s []byte, f func(start, end int, name string)) {
	for i := 0; i+4 <= len(s); {
		j := bytes.Index(s[i:], []byte("{{"))
		if j < 0 {
			return
		}
		start := i + j
		k := bytes.Index(s[start+2:], []byte("}}"))
		if k < 0 {
			return
		}
		name := string(s[start+2 : start+2+k])
		if IsVariableName(name) {
			f(start, start+2+k+2, name)
			i = start + 2 + k + 2
			continue
		}
		i = start + 1
	}
}

// VariableNames returns the names of the variables s uses, in order, each
// once.
func VariableNames(s string) []string {
	var out []string
	scanVars([]byte(s), func(_, _ int, name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	})
	return out
}

// expand substitutes the variables of s; unknown ones are left as they are
// and returned.
func (e Environment) expand(s []byte) ([]byte, []string) {
	var out []byte
	var unknown []string
	last := 0
	scanVars(s, func(start, end int, name string) {
		v, ok := e.Vars[name]
		if !ok {
			if !slices.Contains(unknown, name) {
				unknown = append(unknown, name)
			}
			return
		}
		out = append(out, s[last:start]...)
		out = append(out, v...)
		last = end
	})
	if out == nil {
		return s, unknown
	}
	return append(out, s[last:]...), unknown
}

// Expand returns s with every variable of e substituted, and the names of
// the unknown variables, which stay as written.
func (e Environment) Expand(s string) (string, []string) {
	b, unknown := e.expand([]byte(s))
	return string(b), unknown
}

// VariableRef is a variable used somewhere in a composed request.
type VariableRef struct {
	Name  string // without braces
	Where string // "target", "URL", "param 2 value", "header Host value", "body", …
}

// UnknownVariablesError lists every unknown variable Apply met, and where.
type UnknownVariablesError struct {
	Environment string
	Refs        []VariableRef
}

func (e *UnknownVariablesError) Error() string {
	parts := make([]string, len(e.Refs))
	for i, r := range e.Refs {
		parts[i] = "{{" + r.Name + "}} in " + r.Where
	}
	noun := "variable"
	if len(e.Refs) > 1 {
		noun = "variables"
	}
	env := ""
	if e.Environment != "" {
		env = " (environment " + strconv.Quote(e.Environment) + ")"
	}
	return fmt.Sprintf("session: unknown %s %s%s", noun, strings.Join(parts, ", "), env)
}

// Unwrap makes errors.Is(err, ErrUnknownVariable) true.
func (e *UnknownVariablesError) Unwrap() error { return ErrUnknownVariable }

// inputFields calls f on every text of in that variables may appear in,
// with where it is; f returns the new text. Disabled params are visited
// with enabled false.
func inputFields(in *session.Input, f func(where string, s []byte, enabled bool) []byte) {
	str := func(where string, s *string, enabled bool) {
		*s = string(f(where, []byte(*s), enabled))
	}
	str("target", &in.Target, true)
	for i := range in.Params {
		p := &in.Params[i]
		name := p.Name
		str(fmt.Sprintf("param %d name", i+1), &p.Name, p.Enabled)
		str(fmt.Sprintf("param %s value", name), &p.Value, p.Enabled)
	}
	if len(in.Body) > 0 {
		in.Body = f("body", in.Body, true)
	}
	str("data file", &in.DataFile, true)
	h := in.HTTP
	if h == nil {
		return
	}
	// HTTPInput's texts in its field order; TestApplyReachesEveryHTTPText
	// fails when a text field is added to HTTPInput and not here.
	str("HTTP method", &h.Method, true)
	str("URL", &h.URL, true)
	for i := range h.Headers {
		hd := &h.Headers[i]
		name := hd.Name
		str(fmt.Sprintf("header %d name", i+1), &hd.Name, true)
		str(fmt.Sprintf("header %s value", name), &hd.Value, true)
	}
	str("HTTP content type", &h.ContentType, true)
	if len(h.Body) > 0 {
		h.Body = f("HTTP body", h.Body, true)
	}
	for _, t := range []struct {
		where string
		s     *string
	}{
		{"HTTP body file", &h.BodyFile}, {"HTTP document root", &h.DocumentRoot}, {"HTTP index", &h.Index},
		{"HTTP split path", &h.SplitPath}, {"HTTP location", &h.Location}, {"HTTP server name", &h.ServerName},
		{"HTTP server addr", &h.ServerAddr}, {"HTTP remote addr", &h.RemoteAddr},
		{"HTTP server protocol", &h.ServerProtocol}, {"HTTP server software", &h.ServerSoftware},
	} {
		str(t.where, t.s, true)
	}
}

// Variables returns every variable in uses — in the target, params (names
// and values), body, data file, URL, headers and the other HTTP fields —
// with where it is.
func Variables(in session.Input) []VariableRef {
	in = in.Clone()
	var out []VariableRef
	inputFields(&in, func(where string, s []byte, _ bool) []byte {
		scanVars(s, func(_, _ int, name string) { out = append(out, VariableRef{Name: name, Where: where}) })
		return s
	})
	return out
}

// Apply returns a copy of in with every {{name}} substituted by e's value,
// in the target, params (names and values), body, data file, URL, headers
// and the other HTTP fields. An unknown variable is an error
// (*UnknownVariablesError) listing every unknown name and where it was
// found; in a disabled param it is left as it is.
func (e Environment) Apply(in session.Input) (session.Input, error) {
	out := in.Clone()
	var unknown []VariableRef
	inputFields(&out, func(where string, s []byte, enabled bool) []byte {
		r, names := e.expand(s)
		if enabled {
			for _, n := range names {
				unknown = append(unknown, VariableRef{Name: n, Where: where})
			}
		}
		return r
	})
	if len(unknown) > 0 {
		return in, &UnknownVariablesError{Environment: e.Name, Refs: unknown}
	}
	return out, nil
}

// tomlKey returns k as a TOML key: bare when it can be, else quoted.
func tomlKey(k string) string {
	if k == "" {
		return `""`
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '-' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return tomlQuote(k)
		}
	}
	return k
}

// EncodeEnvironments returns environments.toml for es: environments and
// variables sorted by name.
func EncodeEnvironments(es Environments) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# fcgiscope environments: {{name}} in a request is replaced by the value of name\n")
	fmt.Fprintf(&b, "format = %d\n", EnvironmentsFormat)
	fmt.Fprintf(&b, "active = %s\n", tomlQuote(es.Active))
	list := slices.Clone(es.List)
	sort.SliceStable(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for i, e := range list {
		if e.Name == "" {
			return nil, fmt.Errorf("session: environment %d has no name", i+1)
		}
		if i > 0 && list[i-1].Name == e.Name {
			return nil, fmt.Errorf("session: two environments called %q", e.Name)
		}
		fmt.Fprintf(&b, "\n[environments.%s]\n", tomlKey(e.Name))
		names := make([]string, 0, len(e.Vars))
		for n := range e.Vars {
			if !IsVariableName(n) {
				return nil, fmt.Errorf("session: environment %q: %q is not a variable name ([A-Za-z_][A-Za-z0-9_.-]*)", e.Name, n)
			}
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s = %s\n", tomlKey(n), tomlQuote(e.Vars[n]))
		}
	}
	return b.Bytes(), nil
}

// environmentsFile is environments.toml.
type environmentsFile struct {
	Format       any                          `toml:"format"`
	Active       string                       `toml:"active"`
	Environments map[string]map[string]string `toml:"environments"`
}

// DecodeEnvironments parses environments.toml. A file with a format newer
// than EnvironmentsFormat gives ErrEnvironmentsFormat; anything else wrong
// gives ErrEnvironmentsCorrupt.
func DecodeEnvironments(data []byte) (Environments, error) {
	if err := checkFormat(data, "format", EnvironmentsFormat, ErrEnvironmentsCorrupt, ErrEnvironmentsFormat, false); err != nil {
		return Environments{}, err
	}
	var f environmentsFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return Environments{}, fmt.Errorf("%w: %v", ErrEnvironmentsCorrupt, err)
	}
	if bad := unknownKeys(md, 1); len(bad) > 0 {
		return Environments{}, fmt.Errorf("%w: %sunknown key %s", ErrEnvironmentsCorrupt, bad[0].where, strings.Join(bad[0].keys, ", "))
	}
	// toml.Decode leaves a map empty, without an error, for a value that
	// is not a table.
	if t := md.Type("environments"); t != "" && t != "Hash" {
		return Environments{}, fmt.Errorf("%w: environments: want a table, have %s", ErrEnvironmentsCorrupt, t)
	}
	es := Environments{Active: f.Active}
	for _, name := range slices.Sorted(maps.Keys(f.Environments)) {
		if t := md.Type("environments", name); t != "Hash" {
			return Environments{}, fmt.Errorf("%w: environments.%s: want a table, have %s", ErrEnvironmentsCorrupt, name, t)
		}
		vars := f.Environments[name]
		if vars == nil {
			vars = map[string]string{}
		}
		for _, k := range slices.Sorted(maps.Keys(vars)) {
			if !IsVariableName(k) {
				return Environments{}, fmt.Errorf("%w: environments.%s: %q is not a variable name ([A-Za-z_][A-Za-z0-9_.-]*)",
					ErrEnvironmentsCorrupt, name, k)
			}
		}
		es.List = append(es.List, Environment{Name: name, Vars: vars})
	}
	return es, nil
}

// LoadEnvironments reads an environments file; a missing file gives no
// environments and no error.
func LoadEnvironments(path string) (Environments, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Environments{}, nil
	}
	if err != nil {
		return Environments{}, fmt.Errorf("session: environments: %w", err)
	}
	es, err := DecodeEnvironments(data)
	if err != nil {
		return Environments{}, fmt.Errorf("session: environments %s: %w", path, err)
	}
	return es, nil
}

// SaveEnvironments writes an environments file atomically. It refuses to
// replace a file it cannot read, so that a hand-edited file with a mistake
// is never lost.
func SaveEnvironments(path string, es Environments) error {
	data, err := EncodeEnvironments(es)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil {
		if _, err := DecodeEnvironments(old); err != nil {
			return fmt.Errorf("session: environments %s: refusing to overwrite a file that is not valid (fix or move it first): %w", path, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("session: environments: %w", err)
	}
	return session.WriteFileAtomic(path, data, 0o600) // it may hold tokens
}

// EnvironmentsPath returns the store's environments file.
func (s *Store) EnvironmentsPath() string { return filepath.Join(s.dir, EnvironmentsFile) }

// Environments reads the store's environments.
func (s *Store) Environments() (Environments, error) {
	return LoadEnvironments(s.EnvironmentsPath())
}

// SaveEnvironments writes the store's environments.
func (s *Store) SaveEnvironments(es Environments) error {
	return SaveEnvironments(s.EnvironmentsPath(), es)
}
