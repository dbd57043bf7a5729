package preset

import (
	"bytes"
	"errors"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// The -update flag rewrites golden files. Another test file of the package
// may define it too: whichever defines it first wins, and goldenUpdate reads
// it by name.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata")
	}
}

func goldenUpdate() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// isolateConfig points the user's configuration folders at a temporary
// folder, so that no test reads or writes the real ones.
func isolateConfig(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
	return home
}

// richInput exercises every kind of field a preset holds.
func richInput() session.Input {
	return session.Input{
		Mode: session.ModeHTTP, Target: "unix:/run/php/php8.2-fpm.sock", Role: fcgi.RoleAuthorizer,
		KeepConn: true, RequestID: 7,
		Params: []session.RawParam{
			{Name: "APP_ENV", Value: "staging", Enabled: true},
			{Name: "DEBUG", Value: "1", Enabled: false},
			{Name: "QUOTES", Value: `it's "quoted" \ back`, Enabled: true},
			{Name: "MULTI", Value: "line one\nline two\ttab", Enabled: true},
			{Name: "UNICODE", Value: "héllo — 世界", Enabled: true},
			{Name: "LATIN1", Value: "caf\xe9", Enabled: true},
			{Name: "APP_ENV", Value: "dup keeps order", Enabled: true},
			{Name: "EMPTY", Value: "", Enabled: true},
		},
		HTTP: &session.HTTPInput{
			Method: "POST", URL: "/index.php/users/42?expand=1&q=a%20b",
			Headers: []session.Header{
				{Name: "Content-Type", Value: "application/json"},
				{Name: "X-Trace", Value: "a"}, {Name: "X-Trace", Value: "b"},
			},
			ContentType:  "text/plain; charset=utf-8", // a form's field, kept apart from the lines
			Body:         []byte("line1\r\nline2 with ''' and \"\"\"\r\n"),
			DocumentRoot: "/srv/www", Index: "app.php", SplitPath: `^(.+\.php)(/.*)$`,
			ServerName: "example.test", ServerPort: 8443, ServerAddr: "10.0.0.1",
			RemoteAddr: "192.0.2.7", RemotePort: 40000, HTTPS: true,
			ServerProtocol: "HTTP/2.0", ServerSoftware: session.NginxServerSoftware,
			FrontController: true, AllowSymlinks: true, CombineHeaders: true,
			Profile: session.ProfileLighttpd, Variant: "plain",
		},
		Body:     []byte("{\n  \"user\": \"ada\",\n  \"note\": \"it's\"\n}\n"),
		DataFile: "/srv/presets/data/filter-input.txt",
	}
}

func TestPresetGoldenRoundTrip(t *testing.T) {
	in := richInput()
	in.HTTP.BodyFile = "/var/tmp/outside.bin" // outside the store: stays absolute
	paths := pathMapper{dir: "/srv/presets/shop", root: "/srv/presets"}
	p := FromInput(in)
	data, err := encode(p, paths)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "presets", "rich.toml")
	if goldenUpdate() {
		if err := os.WriteFile(golden, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestPresetGoldenRoundTrip -update to create it)", err)
	}
	if !bytes.Equal(data, want) {
		t.Errorf("preset file differs from %s (run with -update if the change is intended):\n%s", golden, data)
	}
	// Stable: encoding again gives the same bytes.
	again, err := encode(FromInput(in), paths)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("encoding is not stable")
	}
	// Readable as promised: multi-line bodies, the data file relative to
	// the preset's folder, no timestamps.
	for _, s := range []string{"format = 1\n", "body = '''\n{\n  \"user\": \"ada\",", `data_file = "../data/filter-input.txt"`,
		`body_file = "/var/tmp/outside.bin"`, "[[params]]\nname = \"DEBUG\"\nvalue = \"1\"\nenabled = false\n",
		`value_base64 = "Y2Fm6Q=="`, `content_type = "text/plain; charset=utf-8"`, "[[http.headers]]\nname = \"X-Trace\"\nvalue = \"b\"\n"} {
		if !strings.Contains(string(data), s) {
			t.Errorf("preset file lacks %q", s)
		}
	}

	back, err := decode(want, paths)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Input(); !reflect.DeepEqual(got, in) {
		t.Errorf("Input → Preset → file → Preset → Input changed it:\n got %#v\nwant %#v", got, in)
	}
	if !back.Equal(p) {
		t.Error("decoded preset is not Equal to the original")
	}
}

// The field types of session.HTTPInput that fillValue knows.
var (
	headerSliceType = reflect.TypeFor[[]session.Header]()
	byteSliceType   = reflect.TypeFor[[]byte]()
)

// fillValue sets every field of v to a value that is not its zero value.
func fillValue(t *testing.T, v reflect.Value, seed int) {
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch {
		case f.Type() == headerSliceType:
			f.Set(reflect.ValueOf([]session.Header{{Name: "X-F", Value: "v" + strings.Repeat("x", seed)}}))
		case f.Type() == byteSliceType:
			f.SetBytes([]byte("bytes\nof field " + v.Type().Field(i).Name))
		case v.Type().Field(i).Name == "Profile":
			f.SetString(session.ProfileApache) // a name from a list, checked on load
		case v.Type().Field(i).Name == "Variant":
			f.SetString("generic")
		case f.Kind() == reflect.String:
			f.SetString("/value/of/" + v.Type().Field(i).Name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanInt():
			f.SetInt(int64(1000 + i))
		default:
			t.Fatalf("HTTPInput.%s: type %s is new to this test and to the preset encoder", v.Type().Field(i).Name, f.Type())
		}
	}
}

// TestPresetKeepsEveryHTTPField fills every field of HTTPInput, including
// fields added after this test was written, and checks that a preset keeps
// them all.
func TestPresetKeepsEveryHTTPField(t *testing.T) {
	var h session.HTTPInput
	fillValue(t, reflect.ValueOf(&h).Elem(), 3)
	in := session.Input{Mode: session.ModeHTTP, Target: "127.0.0.1:9000", HTTP: &h}
	data, err := Encode(FromInput(in))
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if !reflect.DeepEqual(back.Input(), in) {
		t.Errorf("HTTP fields lost:\n got %#v\nwant %#v\n%s", back.Input().HTTP, in.HTTP, data)
	}
}

func TestPresetBodies(t *testing.T) {
	bodies := []string{
		"x", "a\nb\n", "\n", "\n\nlead", "ends with '", "ends with ''", "has ''' inside", `"""`, `\`, `\n literally`,
		"crlf\r\nlines\r\n", "nul\x00byte", "tab\tand\x7fdel", "\x1b[31mred", "caf\xe9 not utf-8", "\xff\xfe",
		"ünïcödé 😀", strings.Repeat("long line ", 1000),
	}
	for _, b := range bodies {
		in := session.Input{Mode: session.ModeRaw, Target: "127.0.0.1:9000", Body: []byte(b),
			HTTP: &session.HTTPInput{URL: "/", Body: []byte(b)}}
		data, err := Encode(FromInput(in))
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		back, err := Decode(data)
		if err != nil {
			t.Fatalf("%q: %v\n%s", b, err, data)
		}
		if !bytes.Equal(back.Body, []byte(b)) || !bytes.Equal(back.HTTP.Body, []byte(b)) {
			t.Errorf("body %q came back as %q / %q\n%s", b, back.Body, back.HTTP.Body, data)
		}
	}
}

func TestPresetDecodeErrors(t *testing.T) {
	tests := []struct {
		name, file string
		is         error
		msg        string
	}{
		{"newer format", "format = 2\ntarget = \"x\"\nfuture_key = 1\n", ErrFormat, "format 2 was written by a newer fcgiscope"},
		{"no format", "target = \"x\"\n", ErrCorrupt, "no format key"},
		{"syntax", "format = 1\ntarget = \"unterminated\n", ErrCorrupt, "line 2"},
		{"unknown key", "format = 1\ntarget = \"x\"\ntagret = \"y\"\n", ErrCorrupt, "unknown key tagret"},
		{"unknown param key", "format = 1\n[[params]]\nname = \"A\"\nvalu = \"1\"\n", ErrCorrupt, "params 1: unknown key valu"},
		{"unknown http key", "format = 1\n[http]\nurl = \"/\"\nmethd = \"GET\"\n", ErrCorrupt, "http: unknown key methd"},
		{"wrong type", "format = 1\nkeep_conn = \"yes\"\n", ErrCorrupt, `line 2 (last key "keep_conn"): incompatible types`},
		{"bad role", "format = 1\nrole = \"boss\"\n", ErrCorrupt, `role: "boss"`},
		{"bad mode", "format = 1\nmode = \"ftp\"\n", ErrCorrupt, `mode: "ftp"`},
		{"request id range", "format = 1\nrequest_id = 70000\n", ErrCorrupt, "request_id: 70000"},
		{"body twice", "format = 1\nbody = \"a\"\nbody_file = \"b\"\n", ErrCorrupt, "both body and body_file"},
		{"bad base64", "format = 1\nbody_base64 = \"***\"\n", ErrCorrupt, "body_base64"},
		{"empty file", "", ErrCorrupt, "no format key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode([]byte(tc.file))
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %v mentioning %q", err, tc.is, tc.msg)
			}
		})
	}
	// A role may also be a number, for roles the spec does not name.
	p, err := Decode([]byte("format = 1\nrole = 9\n"))
	if err != nil || p.Role != 9 {
		t.Errorf("role = 9: %v, %v", p.Role, err)
	}
	data, _ := Encode(p)
	if !strings.Contains(string(data), "role = 9\n") {
		t.Errorf("unknown role not written as a number:\n%s", data)
	}
}

func TestPresetEqualTracksChanges(t *testing.T) {
	base := FromInput(richInput())
	if !base.Equal(FromInput(richInput())) {
		t.Fatal("equal presets differ")
	}
	changes := map[string]func(*session.Input){
		"target":        func(in *session.Input) { in.Target = "127.0.0.1:9001" },
		"param value":   func(in *session.Input) { in.Params[0].Value = "prod" },
		"param enabled": func(in *session.Input) { in.Params[1].Enabled = true },
		"param order":   func(in *session.Input) { in.Params[0], in.Params[2] = in.Params[2], in.Params[0] },
		"header":        func(in *session.Input) { in.HTTP.Headers[1].Value = "c" },
		"body":          func(in *session.Input) { in.Body = append(in.Body, ' ') },
		"http body":     func(in *session.Input) { in.HTTP.Body = nil },
		"keep conn":     func(in *session.Input) { in.KeepConn = false },
		"no http":       func(in *session.Input) { in.HTTP = nil },
	}
	for name, change := range changes {
		in := richInput()
		change(&in)
		if base.Equal(FromInput(in)) {
			t.Errorf("%s: change not detected", name)
		}
	}
	// nil and empty lists are the same preset.
	a := Preset{Mode: session.ModeRaw, Params: nil}
	b := Preset{Mode: session.ModeRaw, Params: []session.RawParam{}}
	if !a.Equal(b) {
		t.Error("nil and empty params differ")
	}
}

func TestPresetStoreOperations(t *testing.T) {
	home := isolateConfig(t)
	def, err := DefaultDir()
	if err != nil || !strings.HasPrefix(def, home) || !strings.HasSuffix(def, filepath.Join("fcgiscope", "presets")) {
		t.Fatalf("DefaultDir = %q, %v; want it under %s", def, err, home)
	}
	s, err := Open("")
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir() != def {
		t.Fatalf("store in %s, want %s", s.Dir(), def)
	}
	in := richInput()
	in.DataFile = ""
	p := FromInput(in)
	for _, name := range []string{"login", "shop/cart/add", "shop/checkout", "Admin Panel"} {
		if err := s.Save(p, name); err != nil {
			t.Fatal(err)
		}
	}
	list, errs := s.List()
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Group+"|"+e.Name)
		if e.Target != in.Target || e.Mode != session.ModeHTTP {
			t.Errorf("%s: summary %q %q", e.FullName(), e.Mode, e.Target)
		}
	}
	want := []string{"|Admin Panel", "|login", "shop|checkout", "shop/cart|add"}
	if !slices.Equal(got, want) {
		t.Errorf("List = %q, want %q", got, want)
	}

	loaded, err := s.Load("shop/cart/add")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(loaded.Input(), in) {
		t.Errorf("Load changed the input:\n got %#v\nwant %#v", loaded.Input(), in)
	}

	// Search: case-insensitive substring of the full name.
	names := func(es []Entry) []string {
		var out []string
		for _, e := range es {
			out = append(out, e.FullName())
		}
		return out
	}
	if got := names(s.Search("CART")); !slices.Equal(got, []string{"shop/cart/add"}) {
		t.Errorf("Search(CART) = %q", got)
	}
	if got := names(s.Search("shop/")); !slices.Equal(got, []string{"shop/checkout", "shop/cart/add"}) {
		t.Errorf("Search(shop/) = %q", got)
	}
	if got := s.Search("nothing"); len(got) != 0 {
		t.Errorf("Search(nothing) = %v", got)
	}

	// SaveAs refuses an existing name; Save replaces.
	if err := s.SaveAs(p, "login"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("SaveAs over an existing preset: %v", err)
	}
	p2 := p
	p2.Target = "127.0.0.1:9999"
	if err := s.Save(p2, "login"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Load("login"); l.Target != "127.0.0.1:9999" {
		t.Errorf("Save did not replace: %q", l.Target)
	}

	// Rename, across groups too; not over an existing one.
	if err := s.Rename("login", "auth/login"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("login"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old name still loads: %v", err)
	}
	if l, err := s.Load("auth/login"); err != nil || l.Target != "127.0.0.1:9999" {
		t.Errorf("renamed preset: %v %v", l.Target, err)
	}
	if err := s.Rename("auth/login", "shop/checkout"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Rename over an existing preset: %v", err)
	}

	// Duplicate picks a free name.
	for _, want := range []string{"shop/checkout copy", "shop/checkout copy 2"} {
		got, err := s.Duplicate("shop/checkout", "")
		if err != nil || got != want {
			t.Errorf("Duplicate = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := s.Duplicate("shop/checkout", "auth/login"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Duplicate onto an existing name: %v", err)
	}

	// Delete moves to the trash; Undelete brings back the latest.
	if err := s.Delete("auth/login"); err != nil {
		t.Fatal(err)
	}
	if es := s.Search("login"); len(es) != 0 {
		t.Errorf("deleted preset still listed: %v", es)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), ".trash")); err != nil {
		t.Errorf("no trash folder: %v", err)
	}
	// Delete a second preset of the same name: both are kept.
	p3 := p
	p3.Target = "127.0.0.1:3333"
	if err := s.SaveAs(p3, "auth/login"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("auth/login"); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Deleted(); err != nil || !slices.Equal(d, []string{"auth/login", "auth/login"}) {
		t.Errorf("Deleted = %q, %v", d, err)
	}
	if err := s.Undelete("auth/login"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.Load("auth/login"); l.Target != "127.0.0.1:3333" {
		t.Errorf("Undelete restored %q, want the latest (127.0.0.1:3333)", l.Target)
	}
	if err := s.Undelete("auth/login"); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Undelete over an existing preset: %v", err)
	}
	if err := s.Delete("auth/login"); err != nil {
		t.Fatal(err)
	}
	if err := s.Undelete("auth/login"); err != nil {
		t.Fatal(err)
	}
	if err := s.Undelete("never/was"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Undelete of an unknown name: %v", err)
	}
	if err := s.EmptyTrash(); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Deleted(); len(d) != 0 {
		t.Errorf("trash not empty: %q", d)
	}
	if err := s.Delete("no/such"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Delete of an unknown preset: %v", err)
	}
}

func TestPresetNames(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range []string{"a", "Login form", "shop/cart add", "ünï/名前", "v1.2-x"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "..", "../escape", "a/../../b", "/abs", "a//b", "a/", ".hidden", "g/.x",
		`back\slash`, "a:b", "nul\x00", "trail.", "trail ", "environments", "Environments", "caf\xe9"} {
		if err := ValidateName(bad); !errors.Is(err, ErrName) {
			t.Errorf("%q accepted (%v)", bad, err)
		}
		if err := s.Save(Preset{}, bad); !errors.Is(err, ErrName) {
			t.Errorf("Save(%q) = %v", bad, err)
		}
		if _, err := s.Load(bad); !errors.Is(err, ErrName) {
			t.Errorf("Load(%q) = %v", bad, err)
		}
	}
	// Nothing was written outside the store.
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Dir()), "escape.toml")); err == nil {
		t.Error("a preset escaped the folder")
	}
	// A sub-folder of the environments name is fine.
	if err := ValidateName("g/environments"); err != nil {
		t.Error(err)
	}
}

func TestPresetBodyFileRelative(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bodies := filepath.Join(s.Dir(), "bodies")
	if err := os.MkdirAll(bodies, 0o755); err != nil {
		t.Fatal(err)
	}
	bodyPath := filepath.Join(bodies, "login.json")
	if err := os.WriteFile(bodyPath, []byte(`{"user":"ada"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// A hand-written preset in a group refers to the body relative to itself.
	if err := os.MkdirAll(filepath.Join(s.Dir(), "auth"), 0o755); err != nil {
		t.Fatal(err)
	}
	hand := "# written by hand\nformat = 1\nmode = \"raw\"\ntarget = \"127.0.0.1:9000\"\nbody_file = \"../bodies/login.json\"\n"
	if err := os.WriteFile(filepath.Join(s.Dir(), "auth", "login.toml"), []byte(hand), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := s.Load("auth/login")
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Body) != `{"user":"ada"}` || p.BodyFile != bodyPath {
		t.Fatalf("body %q from %q", p.Body, p.BodyFile)
	}
	if got := string(p.Input().Body); got != `{"user":"ada"}` {
		t.Errorf("Input().Body = %q", got)
	}

	// Moving it to another group keeps the reference right.
	if err := s.Rename("auth/login", "deep/er/login"); err != nil {
		t.Fatal(err)
	}
	moved, err := os.ReadFile(filepath.Join(s.Dir(), "deep", "er", "login.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(moved), `body_file = "../../bodies/login.json"`) {
		t.Errorf("moved preset:\n%s", moved)
	}
	if p2, err := s.Load("deep/er/login"); err != nil || string(p2.Body) != `{"user":"ada"}` {
		t.Errorf("after the move: %q, %v", p2.Body, err)
	}
	// Duplicating to the top level as well.
	if _, err := s.Duplicate("deep/er/login", "top"); err != nil {
		t.Fatal(err)
	}
	if p3, err := s.Load("top"); err != nil || string(p3.Body) != `{"user":"ada"}` {
		t.Errorf("duplicate: %q, %v", p3.Body, err)
	}

	// Saving an unchanged body keeps the reference and never writes the
	// body file; an edited body is saved inline.
	same := p.WithInput(p.Input())
	if err := s.Save(same, "top"); err != nil {
		t.Fatal(err)
	}
	top, _ := os.ReadFile(filepath.Join(s.Dir(), "top.toml"))
	if !strings.Contains(string(top), `body_file = "bodies/login.json"`) || strings.Contains(string(top), "body =") {
		t.Errorf("unchanged body not kept as a reference:\n%s", top)
	}
	in := p.Input()
	in.Body = []byte(`{"user":"grace"}`)
	edited := p.WithInput(in)
	if err := s.Save(edited, "top"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(bodyPath); string(b) != `{"user":"ada"}` {
		t.Errorf("the body file was written: %q", b)
	}
	if p4, _ := s.Load("top"); string(p4.Body) != `{"user":"grace"}` || p4.BodyFile != "" {
		t.Errorf("edited body: %q from %q", p4.Body, p4.BodyFile)
	}
	// A missing body file is an error naming the preset.
	if err := os.Remove(bodyPath); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Load("deep/er/login"); err == nil || !strings.Contains(err.Error(), "body_file") {
		t.Errorf("missing body file: %v", err)
	}
}

// TestPresetNeverLosesAFile simulates crashes and damage: a stray temporary
// file from an interrupted save, a truncated preset, a file of a newer
// format, a save that fails.
func TestPresetNeverLosesAFile(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	good := FromInput(richInput())
	good.DataFile = ""
	if err := s.Save(good, "good"); err != nil {
		t.Fatal(err)
	}
	goodBytes, _ := os.ReadFile(s.Path("good"))

	// A crash in the middle of a save leaves a temporary file next to the
	// preset; the preset itself is untouched and the stray file is ignored.
	stray := filepath.Join(s.Dir(), ".good.toml.123456.tmp")
	if err := os.WriteFile(stray, goodBytes[:len(goodBytes)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	// A truncated preset (damaged by another program, or half-copied).
	broken := s.Path("broken")
	brokenBytes := goodBytes[:bytes.Index(goodBytes, []byte("[[params]]"))+12]
	if err := os.WriteFile(broken, brokenBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	// A preset from a future version.
	future := s.Path("future")
	if err := os.WriteFile(future, []byte("format = 3\nwhatever = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	list, errs := s.List()
	if len(list) != 1 || list[0].Name != "good" {
		t.Errorf("List = %v, want only good", list)
	}
	if len(errs) != 2 {
		t.Fatalf("errors = %v, want broken and future reported", errs)
	}
	joined := errors.Join(errs...).Error()
	if !strings.Contains(joined, broken) || !strings.Contains(joined, future) || !strings.Contains(joined, "newer fcgiscope") {
		t.Errorf("errors do not name the files: %v", joined)
	}
	if _, err := s.Load("broken"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), broken) {
		t.Errorf("Load(broken) = %v", err)
	}
	if _, err := s.Load("future"); !errors.Is(err, ErrFormat) {
		t.Errorf("Load(future) = %v", err)
	}

	// Saving over a file that does not read as a preset is refused.
	for _, name := range []string{"broken", "future"} {
		if err := s.Save(good, name); err == nil {
			t.Errorf("Save over %s succeeded", name)
		}
	}
	if b, _ := os.ReadFile(broken); !bytes.Equal(b, brokenBytes) {
		t.Error("the broken preset was overwritten")
	}
	// A failing save (a value TOML cannot hold) keeps the old file.
	bad := good
	bad.Target = "\xff"
	if err := s.Save(bad, "good"); err == nil {
		t.Fatal("saving a non-UTF-8 target succeeded")
	}
	if b, _ := os.ReadFile(s.Path("good")); !bytes.Equal(b, goodBytes) {
		t.Error("a failed save changed the old file")
	}
	// The stray temporary file is still there: nothing is deleted behind
	// the user's back.
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("stray file: %v", err)
	}
	// No temporary file is left by the saves above.
	des, _ := os.ReadDir(s.Dir())
	for _, de := range des {
		if session.IsTempName(de.Name()) && filepath.Join(s.Dir(), de.Name()) != stray && de.Name() != ".trash" {
			t.Errorf("left behind: %s", de.Name())
		}
	}
	// Deleting the broken file moves it to the trash, where it survives.
	if err := s.Delete("broken"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir(), ".trash", "1", "broken.toml")); err != nil || !bytes.Equal(b, brokenBytes) {
		t.Errorf("trash copy: %v", err)
	}
}

// TestPresetProfile: a preset keeps its profile; a file written before
// profiles existed loads as nginx; an unknown profile or variant is an error
// that names it.
func TestPresetProfile(t *testing.T) {
	old := "format = 1\nmode = \"http\"\n\n[http]\nurl = \"/index.php\"\ndocument_root = \"/srv\"\n"
	p, err := Decode([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if h := p.Input().HTTP; h == nil || h.Profile != "" {
		t.Fatalf("old preset: HTTP %+v", h)
	}
	if prof, err := session.LookupProfile(p.Input().HTTP.Profile); err != nil || prof.Name != session.ProfileNginx {
		t.Errorf("old preset's profile = %q, %v; want nginx", prof.Name, err)
	}
	in := session.Input{Mode: session.ModeHTTP, HTTP: &session.HTTPInput{URL: "/", Profile: session.ProfileCaddy}}
	data, err := Encode(FromInput(in))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `profile = "caddy"`) {
		t.Errorf("encoded preset lacks the profile:\n%s", data)
	}
	back, err := Decode(data)
	if err != nil || back.Input().HTTP.Profile != session.ProfileCaddy {
		t.Errorf("decoded profile = %q, %v", back.Input().HTTP.Profile, err)
	}
	for _, bad := range []struct{ file, want string }{
		{"format = 1\n[http]\nurl = '/'\nprofile = 'iis'\n", `"iis"`},
		{"format = 1\n[http]\nurl = '/'\nprofile = 'apache'\nvariant = 'tcp'\n", `"tcp"`},
	} {
		_, err := Decode([]byte(bad.file))
		if err == nil || !strings.Contains(err.Error(), bad.want) || !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat) {
			t.Errorf("%q: err = %v, want an ErrCorrupt/ErrFormat naming %s", bad.file, err, bad.want)
		}
	}
}
