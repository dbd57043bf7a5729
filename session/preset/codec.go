// The preset file's TOML: one tagged schema that toml.Decode fills (keys it
// does not know are left in MetaData.Undecoded) and that the writer walks in
// its declared order, so that a preset always saves to the same bytes.

package preset

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// file is a preset file. Every key a preset file may hold is here, once:
// decoding fills it, encoding writes it in this order, scalars before
// tables, leaving out nil pointers and empty omitempty values. A text that
// may not be UTF-8 (which TOML cannot hold) has a _base64 twin; a body is
// written as a multi-line string.
type file struct {
	Format     any          `toml:"format"` // checked before the rest is decoded
	Mode       string       `toml:"mode"`
	Target     string       `toml:"target"`
	Role       any          `toml:"role"` // a name, or a number for roles the spec does not name
	KeepConn   bool         `toml:"keep_conn"`
	RequestID  int64        `toml:"request_id"`
	DataFile   string       `toml:"data_file,omitempty"`
	BodyFile   string       `toml:"body_file,omitempty"`
	Body       *string      `toml:"body,multiline"`
	BodyBase64 *string      `toml:"body_base64"`
	HTTP       *httpTable   `toml:"http"`
	Params     []paramTable `toml:"params"`
}

// httpTable is the [http] table: session.HTTPInput, field for field.
type httpTable struct {
	Method          string        `toml:"method,omitempty"`
	URL             string        `toml:"url"`
	Headers         []headerTable `toml:"headers"`
	ContentType     string        `toml:"content_type,omitempty"`
	Body            *string       `toml:"body,multiline"`
	BodyBase64      *string       `toml:"body_base64"`
	BodyFile        string        `toml:"body_file,omitempty"`
	DocumentRoot    string        `toml:"document_root"`
	Index           string        `toml:"index,omitempty"`
	SplitPath       string        `toml:"split_path,omitempty"`
	Location        string        `toml:"location,omitempty"`
	ServerName      string        `toml:"server_name,omitempty"`
	ServerPort      int64         `toml:"server_port,omitempty"`
	ServerAddr      string        `toml:"server_addr,omitempty"`
	RemoteAddr      string        `toml:"remote_addr,omitempty"`
	RemotePort      int64         `toml:"remote_port,omitempty"`
	HTTPS           bool          `toml:"https,omitempty"`
	ServerProtocol  string        `toml:"server_protocol,omitempty"`
	ServerSoftware  string        `toml:"server_software,omitempty"`
	FrontController bool          `toml:"front_controller,omitempty"`
	AllowSymlinks   bool          `toml:"allow_symlinks,omitempty"`
	CombineHeaders  bool          `toml:"combine_headers,omitempty"`
	// Profile and Variant name the web server imitated; a file without
	// them (written before profiles existed) loads as nginx.
	Profile string `toml:"profile,omitempty"`
	Variant string `toml:"variant,omitempty"`
}

// headerTable is one [[http.headers]] line.
type headerTable struct {
	Name        *string `toml:"name"`
	NameBase64  *string `toml:"name_base64"`
	Value       *string `toml:"value"`
	ValueBase64 *string `toml:"value_base64"`
}

// paramTable is one [[params]] param; enabled when Enabled is missing.
type paramTable struct {
	Name        *string `toml:"name"`
	NameBase64  *string `toml:"name_base64"`
	Value       *string `toml:"value"`
	ValueBase64 *string `toml:"value_base64"`
	Enabled     *bool   `toml:"enabled"`
}

// Encode returns the preset file for p: stable field order, no timestamps,
// bodies as multi-line strings (base64 when not UTF-8), params as [[params]]
// tables. Paths are written as they are in p.
func Encode(p Preset) ([]byte, error) {
	return encode(p, pathMapper{})
}

func encode(p Preset, paths pathMapper) ([]byte, error) {
	f := file{Format: int64(Format), Mode: p.Mode, Target: p.Target, KeepConn: p.KeepConn,
		RequestID: int64(p.RequestID), DataFile: paths.toFile(p.DataFile)}
	switch p.Role {
	case fcgi.RoleResponder, fcgi.RoleAuthorizer, fcgi.RoleFilter:
		f.Role = session.RoleName(p.Role)
	default:
		f.Role = int64(p.Role)
	}
	switch {
	case p.BodyFile != "":
		f.BodyFile = paths.toFile(p.BodyFile)
	case len(p.Body) > 0:
		f.Body, f.BodyBase64 = text(string(p.Body))
	}
	if h := p.HTTP; h != nil {
		f.HTTP = &httpTable{Method: h.Method, URL: h.URL, ContentType: h.ContentType, BodyFile: paths.toFile(h.BodyFile),
			DocumentRoot: h.DocumentRoot, Index: h.Index, SplitPath: h.SplitPath, Location: h.Location,
			ServerName: h.ServerName, ServerPort: int64(h.ServerPort), ServerAddr: h.ServerAddr,
			RemoteAddr: h.RemoteAddr, RemotePort: int64(h.RemotePort), HTTPS: h.HTTPS,
			ServerProtocol: h.ServerProtocol, ServerSoftware: h.ServerSoftware,
			FrontController: h.FrontController, AllowSymlinks: h.AllowSymlinks, CombineHeaders: h.CombineHeaders,
			Profile: h.Profile, Variant: h.Variant}
		if len(h.Body) > 0 {
			f.HTTP.Body, f.HTTP.BodyBase64 = text(string(h.Body))
		}
		for _, hd := range h.Headers {
			t := headerTable{}
			t.Name, t.NameBase64 = text(hd.Name)
			t.Value, t.ValueBase64 = text(hd.Value)
			f.HTTP.Headers = append(f.HTTP.Headers, t)
		}
	}
	for _, prm := range p.Params {
		t := paramTable{Enabled: &prm.Enabled}
		t.Name, t.NameBase64 = text(prm.Name)
		t.Value, t.ValueBase64 = text(prm.Value)
		f.Params = append(f.Params, t)
	}
	w := &tomlWriter{}
	w.b.WriteString("# fcgiscope preset\n")
	w.table("", reflect.ValueOf(f))
	if w.err != nil {
		return nil, fmt.Errorf("session: preset: %w", w.err)
	}
	return w.b.Bytes(), nil
}

// text returns s as the file holds it: itself when it is UTF-8, else its
// base64 form (the _base64 twin).
func text(s string) (plain, b64 *string) {
	if utf8.ValidString(s) {
		return &s, nil
	}
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	return nil, &enc
}

// tomlWriter writes a schema struct as TOML, in field order.
type tomlWriter struct {
	b   bytes.Buffer
	err error
}

func (w *tomlWriter) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// tomlField is a field's key and options as its toml tag gives them.
type tomlField struct {
	key                  string
	omitEmpty, multiline bool
}

func fieldOf(sf reflect.StructField) tomlField {
	key, opts, _ := strings.Cut(sf.Tag.Get("toml"), ",")
	return tomlField{key: key, omitEmpty: strings.Contains(opts, "omitempty"), multiline: strings.Contains(opts, "multiline")}
}

// table writes the scalars of the struct v, then its tables: [name.key] for
// a struct pointer, [[name.key]] for each element of a slice of structs.
func (w *tomlWriter) table(name string, v reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		fv, tf := v.Field(i), fieldOf(t.Field(i))
		if fv.Kind() == reflect.Interface || fv.Kind() == reflect.Pointer {
			if fv.IsNil() {
				continue
			}
			fv = fv.Elem()
		}
		if fv.Kind() == reflect.Struct || fv.Kind() == reflect.Slice || tf.omitEmpty && fv.IsZero() {
			continue
		}
		w.scalar(tf, fv)
	}
	for i := range t.NumField() {
		fv, key := v.Field(i), fieldOf(t.Field(i)).key
		if name != "" {
			key = name + "." + key
		}
		switch {
		case fv.Kind() == reflect.Pointer && !fv.IsNil() && fv.Elem().Kind() == reflect.Struct:
			w.b.WriteString("\n[" + key + "]\n")
			w.table(key, fv.Elem())
		case fv.Kind() == reflect.Slice:
			for j := range fv.Len() {
				w.b.WriteString("\n[[" + key + "]]\n")
				w.table(key, fv.Index(j))
			}
		}
	}
}

// scalar writes key = value.
func (w *tomlWriter) scalar(tf tomlField, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		switch {
		case !utf8.ValidString(s):
			w.fail("%s is not valid UTF-8", tf.key)
		case tf.multiline:
			fmt.Fprintf(&w.b, "%s = %s\n", tf.key, tomlMultiline(s))
		default:
			fmt.Fprintf(&w.b, "%s = %s\n", tf.key, tomlQuote(s))
		}
	case reflect.Bool:
		fmt.Fprintf(&w.b, "%s = %t\n", tf.key, v.Bool())
	case reflect.Int64:
		fmt.Fprintf(&w.b, "%s = %d\n", tf.key, v.Int())
	default:
		w.fail("%s: type %s cannot be written", tf.key, v.Type())
	}
}

// tomlQuote returns s as a TOML basic string.
func tomlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlMultiline returns s as a TOML multi-line string starting on the next
// line: a multi-line literal string (three single quotes around it) when s
// allows it, which keeps JSON and form bodies readable as they are, else a
// multi-line basic string (three double quotes) with escapes.
func tomlMultiline(s string) string {
	literal := !strings.Contains(s, "'''") && !strings.HasSuffix(s, "'")
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
			literal = false
			break
		}
	}
	if literal {
		return "'''\n" + s + "'''"
	}
	var b strings.Builder
	b.WriteString("\"\"\"\n")
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n', '\t':
			b.WriteRune(r)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteString(`"""`)
	return b.String()
}

// Decode parses a preset file. Paths are returned as written and body_file
// is not read (ReadFile does both). A file with a format newer than Format
// gives ErrFormat; anything else wrong — TOML syntax, an unknown key, a
// value of the wrong type — gives ErrCorrupt, with the line or the key.
func Decode(data []byte) (Preset, error) {
	return decode(data, pathMapper{})
}

func decode(data []byte, paths pathMapper) (Preset, error) {
	if err := checkFormat(data, "format", Format, ErrCorrupt, ErrFormat, true); err != nil {
		return Preset{}, err
	}
	var f file
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return Preset{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if bad := unknownKeys(md, 0); len(bad) > 0 {
		return Preset{}, fmt.Errorf("%w: %sunknown key %s", ErrCorrupt, bad[0].where, strings.Join(bad[0].keys, ", "))
	}
	p, err := f.preset(paths)
	if err != nil {
		return Preset{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return p, nil
}

// checkFormat reads the format key of data before anything else, so that a
// file from a newer fcgiscope is told apart from a broken one: newer gives
// newer, a format that is not a number from 1, or a missing one when
// required, gives corrupt.
func checkFormat(data []byte, key string, current int64, corrupt, newer error, required bool) error {
	var m map[string]any // keys as spelt: toml.Decode would match FORMAT to a field
	if _, err := toml.Decode(string(data), &m); err != nil {
		return fmt.Errorf("%w: %v", corrupt, err)
	}
	v, found := m[key]
	switch n, ok := v.(int64); {
	case !found && required:
		return fmt.Errorf("%w: no %s key (want %s = %d)", corrupt, key, key, current)
	case !found:
		return nil
	case !ok:
		return fmt.Errorf("%w: %s: want an integer, have %T", corrupt, key, v)
	case n < 0 || n > 1<<31:
		return fmt.Errorf("%w: %s: %d is not between 0 and %d", corrupt, key, n, int64(1<<31))
	case n > current:
		return fmt.Errorf("%w: %s %d was written by a newer fcgiscope (this one reads %s %d); update fcgiscope",
			newer, key, n, key, current)
	case n < 1 && required:
		return fmt.Errorf("%w: %s %d is not valid", corrupt, key, n)
	}
	return nil
}

// keyGroup is the unknown keys of one table.
type keyGroup struct {
	where string // "", "http: ", "params 2: ", …
	keys  []string
}

// unknownKeys returns the keys of a decoded file that its schema does not
// know, by table in the order the tables first appear, each table's keys
// sorted; a table the schema does not know is one key, not its contents.
// toml.Decode matches keys to fields regardless of case; the schema spells
// every key in lower-case ASCII, so a key spelt otherwise is unknown too.
// From depth on, keys are the file's own (environments' names and
// variables) and their case is not checked; 0 checks every key.
func unknownKeys(md toml.MetaData, depth int) []keyGroup {
	undecoded := map[string]bool{}
	for _, k := range md.Undecoded() {
		undecoded[k.String()] = true
	}
	bad := func(k toml.Key) bool {
		if undecoded[k.String()] {
			return true
		}
		for i, part := range k {
			if depth > 0 && i >= depth {
				break
			}
			if strings.TrimFunc(part, func(r rune) bool { return r == '_' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' }) != "" {
				return true
			}
		}
		return false
	}
	var groups []keyGroup
	seen := map[string]bool{}
	arrays := map[string]int{} // array-of-tables key -> tables seen so far
	for _, k := range md.Keys() {
		if md.Type(k...) == "ArrayHash" {
			arrays[k.String()]++
		}
		if !bad(k) {
			continue
		}
		for n := 1; n <= len(k); n++ {
			if p := k[:n]; bad(p) {
				k = p
				break
			}
		}
		if seen[k.String()] {
			continue
		}
		seen[k.String()] = true
		var where string
		if len(k) > 1 {
			parent := k[:len(k)-1].String()
			where = parent + ": "
			if n := arrays[parent]; n > 0 {
				where = fmt.Sprintf("%s %d: ", parent, n)
			}
		}
		i := slices.IndexFunc(groups, func(g keyGroup) bool { return g.where == where })
		if i < 0 {
			groups = append(groups, keyGroup{where: where})
			i = len(groups) - 1
		}
		groups[i].keys = append(groups[i].keys, k[len(k)-1])
	}
	for i := range groups {
		slices.Sort(groups[i].keys)
	}
	return groups
}

// preset checks the decoded file and returns the preset it holds.
func (f *file) preset(paths pathMapper) (Preset, error) {
	p := Preset{Mode: f.Mode, Target: f.Target, KeepConn: f.KeepConn,
		DataFile: paths.fromFile(f.DataFile), BodyFile: paths.fromFile(f.BodyFile)}
	switch p.Mode {
	case session.ModeHTTP, session.ModeRaw, "":
	default:
		return Preset{}, fmt.Errorf("mode: %q is not %q or %q", p.Mode, session.ModeHTTP, session.ModeRaw)
	}
	switch r := f.Role.(type) {
	case nil:
	case string:
		role, ok := session.ParseRole(r)
		if !ok {
			return Preset{}, fmt.Errorf("role: %q is not responder, authorizer, filter or a number", r)
		}
		p.Role = role
	default:
		n, err := integer("role", r, 0, 65535)
		if err != nil {
			return Preset{}, err
		}
		p.Role = fcgi.Role(n)
	}
	id, err := integer("request_id", f.RequestID, 0, 65535)
	if err != nil {
		return Preset{}, err
	}
	p.RequestID = uint16(id)
	body, err := untext("body", f.Body, f.BodyBase64)
	if err != nil {
		return Preset{}, err
	}
	if body != "" {
		p.Body = []byte(body)
	}
	if p.BodyFile != "" && p.Body != nil {
		return Preset{}, fmt.Errorf("both body and body_file")
	}
	if f.HTTP != nil {
		if p.HTTP, err = f.HTTP.input(paths); err != nil {
			return Preset{}, err
		}
	}
	for i, t := range f.Params {
		prm := session.RawParam{Enabled: t.Enabled == nil || *t.Enabled}
		if prm.Name, err = untext("name", t.Name, t.NameBase64); err == nil {
			prm.Value, err = untext("value", t.Value, t.ValueBase64)
		}
		if err != nil {
			return Preset{}, fmt.Errorf("params %d: %w", i+1, err)
		}
		p.Params = append(p.Params, prm)
	}
	return p, nil
}

// input returns the HTTP-mode fields of the [http] table.
func (t *httpTable) input(paths pathMapper) (*session.HTTPInput, error) {
	h := &session.HTTPInput{Method: t.Method, URL: t.URL, ContentType: t.ContentType, BodyFile: paths.fromFile(t.BodyFile),
		DocumentRoot: t.DocumentRoot, Index: t.Index, SplitPath: t.SplitPath, Location: t.Location,
		ServerName: t.ServerName, ServerAddr: t.ServerAddr, RemoteAddr: t.RemoteAddr, HTTPS: t.HTTPS,
		ServerProtocol: t.ServerProtocol, ServerSoftware: t.ServerSoftware,
		FrontController: t.FrontController, AllowSymlinks: t.AllowSymlinks, CombineHeaders: t.CombineHeaders,
		Profile: t.Profile, Variant: t.Variant}
	p, err := session.LookupProfile(t.Profile)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	v, err := p.Variant(t.Variant)
	if err != nil {
		return nil, fmt.Errorf("variant: %w", err)
	}
	// Defaults are kept as the empty names, as the window composes them.
	if p.Name == session.ProfileNginx {
		h.Profile = ""
	}
	if v.Name == p.Variants[0].Name {
		h.Variant = ""
	}
	port, err := integer("server_port", t.ServerPort, -1<<31, 1<<31-1)
	if err != nil {
		return nil, err
	}
	rport, err := integer("remote_port", t.RemotePort, -1<<31, 1<<31-1)
	if err != nil {
		return nil, err
	}
	h.ServerPort, h.RemotePort = int(port), int(rport)
	body, err := untext("body", t.Body, t.BodyBase64)
	if err != nil {
		return nil, err
	}
	if body != "" {
		h.Body = []byte(body)
	}
	for i, ht := range t.Headers {
		var hd session.Header
		if hd.Name, err = untext("name", ht.Name, ht.NameBase64); err == nil {
			hd.Value, err = untext("value", ht.Value, ht.ValueBase64)
		}
		if err != nil {
			return nil, fmt.Errorf("http.headers %d: %w", i+1, err)
		}
		h.Headers = append(h.Headers, hd)
	}
	return h, nil
}

// integer checks that the number v of key lies between lo and hi.
func integer(key string, v any, lo, hi int64) (int64, error) {
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("%s: want an integer, have %T", key, v)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%s: %d is not between %d and %d", key, n, lo, hi)
	}
	return n, nil
}

// untext reads a text held as key or as its _base64 twin.
func untext(key string, plain, b64 *string) (string, error) {
	switch {
	case b64 == nil && plain == nil:
		return "", nil
	case b64 == nil:
		return *plain, nil
	case plain != nil:
		return "", fmt.Errorf("both %s and %s_base64", key, key)
	}
	b, err := base64.StdEncoding.DecodeString(*b64)
	if err != nil {
		return "", fmt.Errorf("%s_base64: %v", key, err)
	}
	return string(b), nil
}
