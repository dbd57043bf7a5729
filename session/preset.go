// Presets: a composed request saved as one human-readable TOML file, and the
// folder of such files, with groups, search and an undoable delete.

package session

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"

	"fcgiscope/fcgi"
)

// PresetFormat is the version written in every preset file (format = 1).
// A file with a newer format is refused with ErrPresetFormat.
const PresetFormat = 1

// Preset file and folder names.
const (
	PresetExt        = ".toml"             // a preset is NAME.toml
	EnvironmentsFile = "environments.toml" // the environments, in the presets folder
	trashDirName     = ".trash"            // deleted presets, until emptied
)

// Errors the presets wrap (errors.Is).
var (
	// ErrPresetFormat: the file was written by a newer fcgiscope.
	ErrPresetFormat = errors.New("preset format not supported")
	// ErrPresetCorrupt: the file is not a valid preset.
	ErrPresetCorrupt = errors.New("corrupt preset")
	// ErrPresetName: the name is not a valid preset name.
	ErrPresetName = errors.New("invalid preset name")
)

// Preset is a composed request as a preset file holds it: everything in
// Input, plus where the body came from.
//
// In memory every path is as the system resolves it (absolute, or relative
// to the working directory). In the file, body_file, data_file and
// http.body_file are relative to the preset's folder when they point inside
// the presets folder, so that a folder of presets moves (or lives in git)
// with its files.
type Preset struct {
	Mode      string
	Target    string
	Role      fcgi.Role
	KeepConn  bool
	RequestID uint16
	// Params are the composed params in order, with their enabled state.
	Params []RawParam
	// HTTP holds the HTTP-mode fields (its own Body and BodyFile
	// included); nil when there are none.
	HTTP *HTTPInput
	// Body is Input.Body (the STDIN body of raw mode).
	Body []byte
	// BodyFile, when set, names the file Body was read from: the preset
	// file refers to it (body_file) instead of holding the body, and
	// saving never writes that file.
	BodyFile string
	DataFile string
}

// PresetFromInput returns the preset for a composed input (a deep copy).
func PresetFromInput(in Input) Preset {
	p := Preset{
		Mode: in.Mode, Target: in.Target, Role: in.Role, KeepConn: in.KeepConn, RequestID: in.RequestID,
		Params: slices.Clone(in.Params), Body: bytes.Clone(in.Body), DataFile: in.DataFile,
	}
	if in.HTTP != nil {
		p.HTTP = cloneHTTPInput(in.HTTP)
	}
	return p
}

// WithInput returns p holding in instead, keeping p's BodyFile while the
// body is still the file's content: once the body is edited, the preset
// holds it inline, so that saving never drops an edit.
func (p Preset) WithInput(in Input) Preset {
	q := PresetFromInput(in)
	if p.BodyFile != "" && bytes.Equal(p.Body, q.Body) {
		q.BodyFile = p.BodyFile
	}
	return q
}

// Input returns the composed input the preset stands for (a deep copy).
func (p Preset) Input() Input {
	in := Input{
		Mode: p.Mode, Target: p.Target, Role: p.Role, KeepConn: p.KeepConn, RequestID: p.RequestID,
		Params: slices.Clone(p.Params), Body: bytes.Clone(p.Body), DataFile: p.DataFile,
	}
	if p.HTTP != nil {
		in.HTTP = cloneHTTPInput(p.HTTP)
	}
	return in
}

func cloneHTTPInput(h *HTTPInput) *HTTPInput {
	c := *h
	c.Headers = slices.Clone(h.Headers)
	c.Body = bytes.Clone(h.Body)
	return &c
}

// Equal reports whether p and q would be saved the same and hold the same
// bodies, so that a window can mark unsaved changes. Empty and nil lists
// compare equal.
func (p Preset) Equal(q Preset) bool {
	if !bytes.Equal(p.Body, q.Body) {
		return false
	}
	a, errA := EncodePreset(p)
	b, errB := EncodePreset(q)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(p, q)
	}
	return bytes.Equal(a, b)
}

// Encoding.

// tomlWriter writes the TOML of a preset in a fixed order.
type tomlWriter struct {
	b   bytes.Buffer
	err error
}

func (w *tomlWriter) fail(format string, args ...any) {
	if w.err == nil {
		w.err = fmt.Errorf(format, args...)
	}
}

// str writes key = "s"; a value that is not UTF-8 (which TOML cannot hold)
// is written as key_base64 instead when base64OK, else it is an error.
func (w *tomlWriter) str(key, s string, base64OK bool) {
	if !utf8.ValidString(s) {
		if !base64OK {
			w.fail("%s is not valid UTF-8", key)
			return
		}
		fmt.Fprintf(&w.b, "%s_base64 = %s\n", key, tomlQuote(base64.StdEncoding.EncodeToString([]byte(s))))
		return
	}
	fmt.Fprintf(&w.b, "%s = %s\n", key, tomlQuote(s))
}

// text writes a body: a multi-line string when it is UTF-8, else base64.
func (w *tomlWriter) text(key string, b []byte) {
	if !utf8.Valid(b) {
		fmt.Fprintf(&w.b, "%s_base64 = %s\n", key, tomlQuote(base64.StdEncoding.EncodeToString(b)))
		return
	}
	fmt.Fprintf(&w.b, "%s = %s\n", key, tomlMultiline(string(b)))
}

func (w *tomlWriter) int(key string, n int64) { fmt.Fprintf(&w.b, "%s = %d\n", key, n) }

func (w *tomlWriter) bool(key string, v bool) { fmt.Fprintf(&w.b, "%s = %t\n", key, v) }

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

// pathMapper turns in-memory paths into the paths a preset file holds and
// back.
type pathMapper struct {
	dir  string // the preset file's folder ("" when unknown)
	root string // paths under root are written relative to dir
}

// toFile returns the path to write for p.
func (m pathMapper) toFile(p string) string {
	if p == "" || m.dir == "" {
		return p
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(m.root, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return abs
	}
	rel, err := filepath.Rel(m.dir, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(rel)
}

// fromFile returns the in-memory path for a path read from the file.
func (m pathMapper) fromFile(p string) string {
	if p == "" || m.dir == "" {
		return p
	}
	p = filepath.FromSlash(p)
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(m.dir, p)
}

// EncodePreset returns the preset file for p: stable field order, no
// timestamps, bodies as multi-line strings (base64 when not UTF-8), params
// as [[params]] tables. Paths are written as they are in p.
func EncodePreset(p Preset) ([]byte, error) {
	return encodePreset(p, pathMapper{})
}

func encodePreset(p Preset, paths pathMapper) ([]byte, error) {
	w := &tomlWriter{}
	w.b.WriteString("# fcgiscope preset\n")
	w.int("format", PresetFormat)
	w.str("mode", p.Mode, false)
	w.str("target", p.Target, false)
	switch p.Role {
	case fcgi.RoleResponder, fcgi.RoleAuthorizer, fcgi.RoleFilter:
		w.str("role", RoleName(p.Role), false)
	default:
		w.int("role", int64(p.Role))
	}
	w.bool("keep_conn", p.KeepConn)
	w.int("request_id", int64(p.RequestID))
	if p.DataFile != "" {
		w.str("data_file", paths.toFile(p.DataFile), false)
	}
	switch {
	case p.BodyFile != "":
		w.str("body_file", paths.toFile(p.BodyFile), false)
	case len(p.Body) > 0:
		w.text("body", p.Body)
	}
	if p.HTTP != nil {
		w.b.WriteString("\n[http]\n")
		encodeHTTP(w, p.HTTP, paths)
	}
	for i, prm := range p.Params {
		w.b.WriteString("\n[[params]]\n")
		w.str("name", prm.Name, true)
		w.str("value", prm.Value, true)
		w.bool("enabled", prm.Enabled)
		if w.err != nil {
			return nil, fmt.Errorf("session: preset: param %d: %w", i+1, w.err)
		}
	}
	if w.err != nil {
		return nil, fmt.Errorf("session: preset: %w", w.err)
	}
	return w.b.Bytes(), nil
}

// httpField is one field of HTTPInput as a preset file names it (its JSON
// name).
type httpField struct {
	key       string
	index     int
	omitEmpty bool
}

// httpFields lists HTTPInput's fields in declaration order. Every field is
// written, so a field added to HTTPInput is saved without touching this
// file (as long as its type is one encodeHTTP knows).
func httpFields() []httpField {
	t := reflect.TypeFor[HTTPInput]()
	out := make([]httpField, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, httpField{key: name, index: i, omitEmpty: strings.Contains(opts, "omitempty")})
	}
	return out
}

var (
	headerSliceType = reflect.TypeFor[[]Header]()
	byteSliceType   = reflect.TypeFor[[]byte]()
)

// encodeHTTP writes the [http] table: scalar fields, then the header lines
// as [[http.headers]].
func encodeHTTP(w *tomlWriter, h *HTTPInput, paths pathMapper) {
	v := reflect.ValueOf(h).Elem()
	var headers []Header
	for _, f := range httpFields() {
		fv := v.Field(f.index)
		if fv.IsZero() && (f.omitEmpty || fv.Kind() == reflect.Slice) {
			continue
		}
		switch {
		case fv.Type() == headerSliceType:
			headers = fv.Interface().([]Header)
		case fv.Type() == byteSliceType:
			w.text(f.key, fv.Bytes())
		case fv.Kind() == reflect.String:
			s := fv.String()
			if f.key == "body_file" {
				s = paths.toFile(s)
			}
			w.str(f.key, s, false)
		case fv.Kind() == reflect.Bool:
			w.bool(f.key, fv.Bool())
		case fv.CanInt():
			w.int(f.key, fv.Int())
		default:
			w.fail("http.%s: type %s cannot be saved in a preset", f.key, fv.Type())
		}
	}
	for _, hd := range headers {
		w.b.WriteString("\n[[http.headers]]\n")
		w.str("name", hd.Name, true)
		w.str("value", hd.Value, true)
	}
}

// Decoding.

// presetDecoder reads the generic TOML tree with clear errors.
type presetDecoder struct {
	err error
}

func (d *presetDecoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

// unknown reports keys of m that are not in known.
func (d *presetDecoder) unknown(where string, m map[string]any, known ...string) {
	var bad []string
	for k := range m {
		if !slices.Contains(known, k) {
			bad = append(bad, k)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		d.fail("%sunknown key %s", where, strings.Join(bad, ", "))
	}
}

func (d *presetDecoder) str(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		d.fail("%s: want a string, have %T", key, v)
	}
	return s
}

// strB64 reads key, or key_base64.
func (d *presetDecoder) strB64(m map[string]any, key string) string {
	if _, ok := m[key+"_base64"]; ok {
		if _, both := m[key]; both {
			d.fail("both %s and %s_base64", key, key)
		}
		b, err := base64.StdEncoding.DecodeString(d.str(m, key+"_base64"))
		if err != nil {
			d.fail("%s_base64: %v", key, err)
		}
		return string(b)
	}
	return d.str(m, key)
}

func (d *presetDecoder) int(m map[string]any, key string, lo, hi int64) int64 {
	v, ok := m[key]
	if !ok {
		return 0
	}
	n, ok := v.(int64)
	if !ok {
		d.fail("%s: want an integer, have %T", key, v)
		return 0
	}
	if n < lo || n > hi {
		d.fail("%s: %d is not between %d and %d", key, n, lo, hi)
		return 0
	}
	return n
}

func (d *presetDecoder) bool(m map[string]any, key string) bool {
	v, ok := m[key]
	if !ok {
		return false
	}
	b, ok := v.(bool)
	if !ok {
		d.fail("%s: want true or false, have %T", key, v)
	}
	return b
}

func (d *presetDecoder) tables(m map[string]any, key string) []map[string]any {
	v, ok := m[key]
	if !ok {
		return nil
	}
	ts, ok := v.([]map[string]any)
	if !ok {
		d.fail("%s: want an array of tables ([[%s]]), have %T", key, key, v)
	}
	return ts
}

// DecodePreset parses a preset file. Paths are returned as written and
// body_file is not read (ReadPresetFile does both). A file with a format
// newer than PresetFormat gives ErrPresetFormat; anything else wrong —
// TOML syntax, an unknown key, a value of the wrong type — gives
// ErrPresetCorrupt, with the line or the key.
func DecodePreset(data []byte) (Preset, error) {
	return decodePreset(data, pathMapper{})
}

func decodePreset(data []byte, paths pathMapper) (Preset, error) {
	var m map[string]any
	if _, err := toml.Decode(string(data), &m); err != nil {
		return Preset{}, fmt.Errorf("%w: %v", ErrPresetCorrupt, err)
	}
	d := &presetDecoder{}
	format := d.int(m, "format", 0, 1<<31)
	if d.err != nil {
		return Preset{}, fmt.Errorf("%w: %v", ErrPresetCorrupt, d.err)
	}
	if _, ok := m["format"]; !ok {
		return Preset{}, fmt.Errorf("%w: no format key (want format = %d)", ErrPresetCorrupt, PresetFormat)
	}
	if format > PresetFormat {
		return Preset{}, fmt.Errorf("%w: format %d was written by a newer fcgiscope (this one reads format %d); update fcgiscope",
			ErrPresetFormat, format, PresetFormat)
	}
	if format < 1 {
		return Preset{}, fmt.Errorf("%w: format %d is not valid", ErrPresetCorrupt, format)
	}
	d.unknown("", m, "format", "mode", "target", "role", "keep_conn", "request_id", "data_file",
		"body", "body_base64", "body_file", "http", "params")
	p := Preset{
		Mode:      d.str(m, "mode"),
		Target:    d.str(m, "target"),
		KeepConn:  d.bool(m, "keep_conn"),
		RequestID: uint16(d.int(m, "request_id", 0, 65535)),
		DataFile:  paths.fromFile(d.str(m, "data_file")),
		BodyFile:  paths.fromFile(d.str(m, "body_file")),
	}
	switch p.Mode {
	case ModeHTTP, ModeRaw, "":
	default:
		d.fail("mode: %q is not %q or %q", p.Mode, ModeHTTP, ModeRaw)
	}
	switch r := m["role"].(type) {
	case nil:
	case string:
		role, ok := ParseRole(r)
		if !ok {
			d.fail("role: %q is not responder, authorizer, filter or a number", r)
		}
		p.Role = role
	default:
		p.Role = fcgi.Role(d.int(m, "role", 0, 65535))
	}
	if body := d.strB64(m, "body"); body != "" {
		p.Body = []byte(body)
	}
	if p.BodyFile != "" && p.Body != nil {
		d.fail("both body and body_file")
	}
	if hv, ok := m["http"]; ok {
		hm, ok := hv.(map[string]any)
		if !ok {
			d.fail("http: want a table ([http]), have %T", hv)
		} else {
			p.HTTP = decodeHTTP(d, hm, paths)
		}
	}
	for i, t := range d.tables(m, "params") {
		d.unknown(fmt.Sprintf("params %d: ", i+1), t, "name", "name_base64", "value", "value_base64", "enabled")
		prm := RawParam{Name: d.strB64(t, "name"), Value: d.strB64(t, "value"), Enabled: true}
		if _, ok := t["enabled"]; ok {
			prm.Enabled = d.bool(t, "enabled")
		}
		p.Params = append(p.Params, prm)
	}
	if d.err != nil {
		return Preset{}, fmt.Errorf("%w: %v", ErrPresetCorrupt, d.err)
	}
	return p, nil
}

// decodeHTTP reads the [http] table into an HTTPInput.
func decodeHTTP(d *presetDecoder, m map[string]any, paths pathMapper) *HTTPInput {
	h := &HTTPInput{}
	v := reflect.ValueOf(h).Elem()
	known := []string{}
	for _, f := range httpFields() {
		fv := v.Field(f.index)
		known = append(known, f.key)
		switch {
		case fv.Type() == headerSliceType:
			for i, t := range d.tables(m, f.key) {
				d.unknown(fmt.Sprintf("http.%s %d: ", f.key, i+1), t, "name", "name_base64", "value", "value_base64")
				h.Headers = append(h.Headers, Header{Name: d.strB64(t, "name"), Value: d.strB64(t, "value")})
			}
		case fv.Type() == byteSliceType:
			known = append(known, f.key+"_base64")
			if s := d.strB64(m, f.key); s != "" {
				fv.SetBytes([]byte(s))
			}
		case fv.Kind() == reflect.String:
			s := d.str(m, f.key)
			if f.key == "body_file" {
				s = paths.fromFile(s)
			}
			fv.SetString(s)
		case fv.Kind() == reflect.Bool:
			fv.SetBool(d.bool(m, f.key))
		case fv.CanInt():
			fv.SetInt(d.int(m, f.key, -1<<31, 1<<31-1))
		}
	}
	d.unknown("http: ", m, known...)
	return h
}

// ReadPresetFile reads the preset file at path: relative paths are resolved
// against its folder and body_file is read into Body. Errors name the file.
func ReadPresetFile(path string) (Preset, error) {
	return readPresetFile(path, filepath.Dir(path))
}

func readPresetFile(path, root string) (Preset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Preset{}, fmt.Errorf("session: preset: %w", err)
	}
	p, err := decodePreset(data, pathMapper{dir: filepath.Dir(path), root: root})
	if err != nil {
		return Preset{}, fmt.Errorf("session: preset %s: %w", path, err)
	}
	if p.BodyFile != "" {
		b, err := os.ReadFile(p.BodyFile)
		if err != nil {
			return Preset{}, fmt.Errorf("session: preset %s: body_file: %w", path, err)
		}
		p.Body = b
	}
	return p, nil
}

// WritePresetFile writes p to path atomically. Paths inside path's folder
// are written relative to it.
func WritePresetFile(path string, p Preset) error {
	return writePresetFile(path, p, filepath.Dir(path))
}

func writePresetFile(path string, p Preset, root string) error {
	data, err := encodePreset(p, pathMapper{dir: filepath.Dir(path), root: root})
	if err != nil {
		return fmt.Errorf("session: preset %s: %w", path, err)
	}
	return WriteFileAtomic(path, data, 0o600)
}

// The presets folder.

// DefaultPresetDir returns os.UserConfigDir()/fcgiscope/presets.
func DefaultPresetDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("session: presets folder: %w", err)
	}
	return filepath.Join(d, AppDirName, "presets"), nil
}

// PresetEntry is one preset of a PresetStore.
type PresetEntry struct {
	// Group is the sub-folder, relative to the store, with "/" between
	// folders; "" at the top.
	Group string
	// Name is the file name without ".toml".
	Name string
	// Path is the file.
	Path string
	// Mode and Target summarize the preset for a list.
	Mode, Target string
}

// FullName returns the name Load takes: "group/name", or "name" at the top.
func (e PresetEntry) FullName() string {
	if e.Group == "" {
		return e.Name
	}
	return e.Group + "/" + e.Name
}

// PresetStore is a folder of presets; sub-folders are groups. A preset is
// named by its path from the folder without ".toml", "/" between folders:
// "login", "shop/cart/add". Every write is atomic; a corrupt file is
// reported and never overwritten; Delete moves the file to a .trash folder
// inside the store, from which Undelete brings it back.
type PresetStore struct {
	dir string
}

// OpenPresetStore opens the presets folder dir, creating it if needed; ""
// means DefaultPresetDir. Any folder can be opened, e.g. one inside a git
// repository.
func OpenPresetStore(dir string) (*PresetStore, error) {
	if dir == "" {
		d, err := DefaultPresetDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("session: presets folder: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("session: presets folder: %w", err)
	}
	return &PresetStore{dir: abs}, nil
}

// Dir returns the presets folder (absolute).
func (s *PresetStore) Dir() string { return s.dir }

// ValidatePresetName checks a preset name: "/"-separated parts, each non-empty,
// not "." or "..", not starting with "." (hidden files and the trash), without
// "\", control bytes or characters some systems refuse in file names
// (<>:"|?*), not ending in a space or a dot; and not "environments" at the
// top, which is the environments file.
func ValidatePresetName(name string) error {
	bad := func(why string) error { return fmt.Errorf("session: preset name %q: %s: %w", name, why, ErrPresetName) }
	if name == "" {
		return bad("empty")
	}
	if !utf8.ValidString(name) {
		return bad("not UTF-8")
	}
	if strings.HasPrefix(name, "/") {
		return bad("starts with /")
	}
	for _, part := range strings.Split(name, "/") {
		switch {
		case part == "":
			return bad("empty folder name")
		case part == "." || part == "..":
			return bad(`"." and ".." are not names`)
		case strings.HasPrefix(part, "."):
			return bad("a name may not start with a dot")
		case strings.HasSuffix(part, " ") || strings.HasSuffix(part, "."):
			return bad("a name may not end with a space or a dot")
		case len(part)+len(PresetExt) > 255:
			return bad("too long")
		}
		for _, r := range part {
			if r < 0x20 || r == 0x7f || strings.ContainsRune(`\<>:"|?*`, r) {
				return bad(fmt.Sprintf("%q is not allowed", r))
			}
		}
	}
	if strings.EqualFold(name+PresetExt, EnvironmentsFile) {
		return bad("reserved for the environments file")
	}
	return nil
}

// path returns the file of a validated name.
func (s *PresetStore) path(name string) string {
	return filepath.Join(s.dir, filepath.FromSlash(name)+PresetExt)
}

// List returns every preset, sorted by group then name, and the files that
// could not be read (corrupt, or of a newer format), which are skipped.
// Hidden files and folders (the trash, temporary files) are not listed.
func (s *PresetStore) List() ([]PresetEntry, []error) {
	var out []PresetEntry
	var errs []error
	err := filepath.WalkDir(s.dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("session: presets: %w", err))
			if de != nil && de.IsDir() && path != s.dir {
				return fs.SkipDir
			}
			return nil
		}
		name := de.Name()
		if path == s.dir {
			return nil
		}
		if de.IsDir() {
			if strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if IsTempName(name) || !strings.HasSuffix(name, PresetExt) || !de.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return nil
		}
		full := strings.TrimSuffix(filepath.ToSlash(rel), PresetExt)
		if ValidatePresetName(full) != nil {
			return nil // environments.toml, or a name we would not write
		}
		data, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("session: presets: %w", err))
			return nil
		}
		p, err := decodePreset(data, pathMapper{})
		if err != nil {
			errs = append(errs, fmt.Errorf("session: preset %s: %w", path, err))
			return nil
		}
		e := PresetEntry{Name: full, Path: path, Mode: p.Mode, Target: p.Target}
		if i := strings.LastIndexByte(full, '/'); i >= 0 {
			e.Group, e.Name = full[:i], full[i+1:]
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("session: presets: %w", err))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		return out[i].Name < out[j].Name
	})
	return out, errs
}

// Search returns the presets whose full name ("group/name") contains query,
// case-insensitively, in List order. Unreadable files are left out.
func (s *PresetStore) Search(query string) []PresetEntry {
	all, _ := s.List()
	q := strings.ToLower(query)
	var out []PresetEntry
	for _, e := range all {
		if strings.Contains(strings.ToLower(e.FullName()), q) {
			out = append(out, e)
		}
	}
	return out
}

// Load reads the preset called name.
func (s *PresetStore) Load(name string) (Preset, error) {
	if err := ValidatePresetName(name); err != nil {
		return Preset{}, err
	}
	return readPresetFile(s.path(name), s.dir)
}

// Save writes p as name, replacing the preset of that name. It refuses to
// replace a file that is not a valid preset (delete or rename it first), so
// that a file it cannot read is never overwritten.
func (s *PresetStore) Save(p Preset, name string) error {
	if err := ValidatePresetName(name); err != nil {
		return err
	}
	path := s.path(name)
	if data, err := os.ReadFile(path); err == nil {
		if _, err := decodePreset(data, pathMapper{}); err != nil {
			return fmt.Errorf("session: preset %s: refusing to overwrite a file that is not a valid preset (delete or rename it first): %w", path, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("session: preset: %w", err)
	}
	return s.write(p, name)
}

func (s *PresetStore) write(p Preset, name string) error {
	path := s.path(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	return writePresetFile(path, p, s.dir)
}

// exists reports whether a preset file of that name exists.
func (s *PresetStore) exists(name string) (bool, error) {
	_, err := os.Lstat(s.path(name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("session: preset: %w", err)
}

// SaveAs writes p as a new preset called name; it fails (fs.ErrExist) if
// one exists.
func (s *PresetStore) SaveAs(p Preset, name string) error {
	if err := ValidatePresetName(name); err != nil {
		return err
	}
	if ok, err := s.exists(name); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("session: preset %q: %w", name, fs.ErrExist)
	}
	return s.write(p, name)
}

// Rename renames (or moves to another group) the preset oldName; it fails
// (fs.ErrExist) if newName exists. The file is moved as it is, unless it
// changes folder and holds relative paths, which are then rewritten so
// that they still point at the same files.
func (s *PresetStore) Rename(oldName, newName string) error {
	if err := ValidatePresetName(oldName); err != nil {
		return err
	}
	if err := ValidatePresetName(newName); err != nil {
		return err
	}
	if ok, err := s.exists(newName); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("session: preset %q: %w", newName, fs.ErrExist)
	}
	oldPath, newPath := s.path(oldName), s.path(newName)
	if err := os.MkdirAll(filepath.Dir(newPath), 0o755); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	if filepath.Dir(oldPath) != filepath.Dir(newPath) {
		data, err := os.ReadFile(oldPath)
		if err != nil {
			return fmt.Errorf("session: preset: %w", err)
		}
		if p, err := decodePreset(data, pathMapper{}); err == nil && p.hasRelativePaths() {
			moved, err := readPresetFile(oldPath, s.dir)
			if err != nil {
				return err
			}
			if err := writePresetFile(newPath, moved, s.dir); err != nil {
				return err
			}
			if err := os.Remove(oldPath); err != nil {
				return fmt.Errorf("session: preset: %w", err)
			}
			return SyncDir(filepath.Dir(oldPath))
		}
	}
	return RenameDurable(oldPath, newPath)
}

// hasRelativePaths reports whether p, as decoded without a folder, holds a
// relative path.
func (p Preset) hasRelativePaths() bool {
	rel := func(s string) bool { return s != "" && !filepath.IsAbs(filepath.FromSlash(s)) }
	return rel(p.BodyFile) || rel(p.DataFile) || p.HTTP != nil && rel(p.HTTP.BodyFile)
}

// Duplicate copies the preset name to newName and returns newName; an
// empty newName picks "NAME copy", "NAME copy 2", … in the same group.
func (s *PresetStore) Duplicate(name, newName string) (string, error) {
	if err := ValidatePresetName(name); err != nil {
		return "", err
	}
	if newName == "" {
		for i := 1; ; i++ {
			newName = name + " copy"
			if i > 1 {
				newName += " " + strconv.Itoa(i)
			}
			ok, err := s.exists(newName)
			if err != nil {
				return "", err
			}
			if !ok {
				break
			}
		}
	}
	p, err := s.Load(name)
	if err != nil {
		return "", err
	}
	if err := s.SaveAs(p, newName); err != nil {
		return "", err
	}
	return newName, nil
}

// Delete moves the preset name to the store's .trash folder, from which
// Undelete restores it.
func (s *PresetStore) Delete(name string) error {
	if err := ValidatePresetName(name); err != nil {
		return err
	}
	src := s.path(name)
	if _, err := os.Lstat(src); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	seqs, err := s.trashSeqs()
	if err != nil {
		return err
	}
	next := 1
	if len(seqs) > 0 {
		next = seqs[len(seqs)-1] + 1
	}
	dst := filepath.Join(s.dir, trashDirName, strconv.Itoa(next), filepath.FromSlash(name)+PresetExt)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("session: preset: %w", err)
	}
	return RenameDurable(src, dst)
}

// trashSeqs returns the numbered folders of the trash, in increasing order.
func (s *PresetStore) trashSeqs() ([]int, error) {
	des, err := os.ReadDir(filepath.Join(s.dir, trashDirName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("session: preset trash: %w", err)
	}
	var seqs []int
	for _, de := range des {
		if n, err := strconv.Atoi(de.Name()); err == nil && de.IsDir() && n > 0 {
			seqs = append(seqs, n)
		}
	}
	sort.Ints(seqs)
	return seqs, nil
}

// Deleted returns the names of the presets in the trash, most recently
// deleted first (a name deleted twice appears twice).
func (s *PresetStore) Deleted() ([]string, error) {
	seqs, err := s.trashSeqs()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(seqs) - 1; i >= 0; i-- {
		base := filepath.Join(s.dir, trashDirName, strconv.Itoa(seqs[i]))
		_ = filepath.WalkDir(base, func(path string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() || !strings.HasSuffix(path, PresetExt) {
				return nil
			}
			if rel, err := filepath.Rel(base, path); err == nil {
				out = append(out, strings.TrimSuffix(filepath.ToSlash(rel), PresetExt))
			}
			return nil
		})
	}
	return out, nil
}

// Undelete restores the most recently deleted preset called name. It fails
// (fs.ErrExist) if a preset of that name exists again.
func (s *PresetStore) Undelete(name string) error {
	if err := ValidatePresetName(name); err != nil {
		return err
	}
	seqs, err := s.trashSeqs()
	if err != nil {
		return err
	}
	for i := len(seqs) - 1; i >= 0; i-- {
		base := filepath.Join(s.dir, trashDirName, strconv.Itoa(seqs[i]))
		src := filepath.Join(base, filepath.FromSlash(name)+PresetExt)
		if _, err := os.Lstat(src); err != nil {
			continue
		}
		dst := s.path(name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("session: preset: %w", err)
		}
		if err := RenameDurable(src, dst); err != nil {
			return err
		}
		removeEmptyDirs(filepath.Dir(src), filepath.Dir(base))
		return nil
	}
	return fmt.Errorf("session: preset %q is not in the trash: %w", name, fs.ErrNotExist)
}

// EmptyTrash deletes the presets in the trash for good.
func (s *PresetStore) EmptyTrash() error {
	if err := os.RemoveAll(filepath.Join(s.dir, trashDirName)); err != nil {
		return fmt.Errorf("session: preset trash: %w", err)
	}
	return nil
}

// removeEmptyDirs removes dir and its parents while they are empty, up to
// (not including) stop.
func removeEmptyDirs(dir, stop string) {
	for dir != stop && strings.HasPrefix(dir, stop) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
