package preset

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"fcgiscope/session"
)

func TestEnvironmentApply(t *testing.T) {
	env := Environment{Name: "staging", Vars: map[string]string{
		"host": "10.0.0.5", "port": "9000", "root": "/srv/www", "user.name": "ada",
		"token-1": "s3cr3t", "lb": "{{", "self": "{{host}}", "hdr": "X-Env",
	}}
	in := session.Input{
		Mode: session.ModeHTTP, Target: "{{host}}:{{port}}",
		Params: []session.RawParam{
			{Name: "APP_{{hdr}}", Value: "user={{user.name}}", Enabled: true},
			{Name: "OFF", Value: "{{missing_but_disabled}}", Enabled: false},
			{Name: "LITERAL", Value: "{{lb}}host}} {{ host }} {{1bad}} {{ {{{host}}} {{self}}", Enabled: true},
		},
		Body:     []byte(`{"token":"{{token-1}}"}`),
		DataFile: "{{root}}/data.txt",
		HTTP: &session.HTTPInput{
			Method: "POST", URL: "/api?host={{host}}", DocumentRoot: "{{root}}",
			Headers: []session.Header{{Name: "{{hdr}}", Value: "Bearer {{token-1}}"}},
			Body:    []byte("{{user.name}}\n"),
		},
	}
	orig := in.Clone()
	out, err := env.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, orig) {
		t.Error("Apply modified its argument")
	}
	checks := map[string][2]string{
		"target":        {out.Target, "10.0.0.5:9000"},
		"param name":    {out.Params[0].Name, "APP_X-Env"},
		"param value":   {out.Params[0].Value, "user=ada"},
		"disabled":      {out.Params[1].Value, "{{missing_but_disabled}}"},
		"not variables": {out.Params[2].Value, "{{host}} {{ host }} {{1bad}} {{ {10.0.0.5} {{host}}"},
		"body":          {string(out.Body), `{"token":"s3cr3t"}`},
		"data file":     {out.DataFile, "/srv/www/data.txt"},
		"URL":           {out.HTTP.URL, "/api?host=10.0.0.5"},
		"docroot":       {out.HTTP.DocumentRoot, "/srv/www"},
		"header name":   {out.HTTP.Headers[0].Name, "X-Env"},
		"header value":  {out.HTTP.Headers[0].Value, "Bearer s3cr3t"},
		"http body":     {string(out.HTTP.Body), "ada\n"},
		"method":        {out.HTTP.Method, "POST"},
	}
	for what, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", what, c[0], c[1])
		}
	}
}

func TestEnvironmentUnknownVariables(t *testing.T) {
	env := Environment{Name: "local", Vars: map[string]string{"port": "9000"}}
	in := session.Input{Target: "{{host}}:{{port}}", HTTP: &session.HTTPInput{URL: "/{{path}}", Headers: []session.Header{{Name: "Host", Value: "{{host}}"}}},
		Params: []session.RawParam{{Name: "A", Value: "{{a}}{{a}}", Enabled: true}}, Body: []byte("{{body_var}}")}
	_, err := env.Apply(in)
	var uv *UnknownVariablesError
	if !errors.As(err, &uv) || !errors.Is(err, ErrUnknownVariable) {
		t.Fatalf("err = %v", err)
	}
	want := []VariableRef{{"host", "target"}, {"a", "param A value"}, {"body_var", "body"},
		{"path", "URL"}, {"host", "header Host value"}}
	if !reflect.DeepEqual(uv.Refs, want) {
		t.Errorf("refs = %v, want %v", uv.Refs, want)
	}
	msg := err.Error()
	for _, s := range []string{"session: unknown variables", "{{host}} in target", "{{path}} in URL", "{{body_var}} in body", `environment "local"`} {
		if !strings.Contains(msg, s) {
			t.Errorf("message %q lacks %q", msg, s)
		}
	}
	// One unknown variable, no environment name: the message of the issue.
	_, err = Environment{}.Apply(session.Input{HTTP: &session.HTTPInput{URL: "http://{{host}}/"}})
	if err == nil || err.Error() != "session: unknown variable {{host}} in URL" {
		t.Errorf("err = %v", err)
	}
	// Variables lists every use.
	refs := Variables(in)
	if len(refs) != 7 || refs[0] != (VariableRef{"host", "target"}) || refs[1] != (VariableRef{"port", "target"}) {
		t.Errorf("Variables = %v", refs)
	}
}

func TestEnvironmentSyntax(t *testing.T) {
	for s, want := range map[string][]string{
		"{{a}}{{b.c}}{{a}}":    {"a", "b.c"},
		"{{ a }}{{}}{{-x}}":    nil,
		"{{_x-1.y}}":           {"_x-1.y"},
		"{{{{a}}}}":            {"a"},
		"{{a}":                 nil,
		"}}{{":                 nil,
		"{{a\n}}":              nil,
		"{{9}} {{x9}} {{é}}":   {"x9"},
		"text {{a}} and {{b}}": {"a", "b"},
	} {
		if got := VariableNames(s); !slices.Equal(got, want) {
			t.Errorf("VariableNames(%q) = %q, want %q", s, got, want)
		}
	}
	e := Environment{Vars: map[string]string{"a": "A"}}
	if got, unknown := e.Expand("{{a}}-{{b}}"); got != "A-{{b}}" || !slices.Equal(unknown, []string{"b"}) {
		t.Errorf("Expand = %q %q", got, unknown)
	}
}

func TestEnvironmentsFile(t *testing.T) {
	isolateConfig(t)
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// No file yet: no environments, no error.
	es, err := s.Environments()
	if err != nil || len(es.List) != 0 {
		t.Fatalf("%v %v", es, err)
	}
	es.Set(Environment{Name: "staging", Vars: map[string]string{"host": "10.0.0.5", "db.pass": `p"w\d`, "a-b": "1"}})
	es.Set(Environment{Name: "local", Vars: map[string]string{"host": "127.0.0.1"}})
	es.Set(Environment{Name: "empty env", Vars: map[string]string{}})
	es.Active = "local"
	if err := s.SaveEnvironments(es); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(s.EnvironmentsPath())
	for _, want := range []string{"format = 1\n", "active = \"local\"\n", "[environments.local]\nhost = \"127.0.0.1\"\n",
		"[environments.\"empty env\"]\n", "\"db.pass\" = \"p\\\"w\\\\d\"\n", "a-b = \"1\"\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("environments.toml lacks %q:\n%s", want, data)
		}
	}
	if strings.Index(string(data), "[environments.\"empty env\"]") > strings.Index(string(data), "[environments.local]") {
		t.Errorf("environments not sorted:\n%s", data)
	}
	back, err := s.Environments()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, es) {
		t.Errorf("round trip:\n got %#v\nwant %#v", back, es)
	}
	// The environments file is not a preset.
	if list, errs := s.List(); len(list) != 0 || len(errs) != 0 {
		t.Errorf("List = %v %v", list, errs)
	}
	staging, ok := back.Get("staging")
	if !ok {
		t.Fatal("no staging")
	}
	if out, err := staging.Apply(session.Input{Target: "{{host}}:9000"}); err != nil || out.Target != "10.0.0.5:9000" {
		t.Errorf("Apply: %v %v", out.Target, err)
	}
	back.Remove("local")
	if back.Active != "" || len(back.List) != 2 {
		t.Errorf("Remove: %+v", back)
	}

	// Bad names are refused on save, and in the file.
	if err := s.SaveEnvironments(Environments{List: []Environment{{Name: "x", Vars: map[string]string{"bad name": "1"}}}}); err == nil {
		t.Error("bad variable name saved")
	}
	// A damaged file is reported, and never overwritten.
	damaged := []byte("format = 1\n[environments.local\nhost = 1\n")
	if err := os.WriteFile(s.EnvironmentsPath(), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Environments(); !errors.Is(err, ErrEnvironmentsCorrupt) || !strings.Contains(err.Error(), s.EnvironmentsPath()) {
		t.Errorf("damaged file: %v", err)
	}
	if err := s.SaveEnvironments(es); err == nil {
		t.Error("a damaged environments file was overwritten")
	}
	if b, _ := os.ReadFile(s.EnvironmentsPath()); string(b) != string(damaged) {
		t.Error("damaged file changed")
	}
	if _, err := DecodeEnvironments([]byte("format = 2\n")); !errors.Is(err, ErrEnvironmentsFormat) {
		t.Errorf("newer format: %v", err)
	}
	if _, err := DecodeEnvironments([]byte("format = 1\n[environments.x]\nport = 9000\n")); !errors.Is(err, ErrEnvironmentsCorrupt) {
		t.Errorf("number value: %v", err)
	}
}

// enumField reports whether an HTTPInput string field holds a name from a
// fixed list (the profile and its variant), which environments do not
// substitute: a preset names them as they are, and loading checks them.
func enumField(name string) bool { return name == "Profile" || name == "Variant" }

// TestApplyReachesEveryHTTPText fills every text field of HTTPInput,
// including fields added after this test was written, with a variable, and
// checks that Apply substitutes each one and Variables finds each one.
func TestApplyReachesEveryHTTPText(t *testing.T) {
	var h session.HTTPInput
	v := reflect.ValueOf(&h).Elem()
	texts := 0
	for i := range v.NumField() {
		switch f := v.Field(i); {
		case enumField(v.Type().Field(i).Name):
		case f.Kind() == reflect.String:
			f.SetString("{{v}}")
			texts++
		case f.Type() == byteSliceType:
			f.SetBytes([]byte("{{v}}"))
			texts++
		case f.Type() == headerSliceType:
			f.Set(reflect.ValueOf([]session.Header{{Name: "{{v}}", Value: "{{v}}"}}))
			texts += 2
		}
	}
	in := session.Input{Mode: session.ModeHTTP, HTTP: &h}
	if got := len(Variables(in)); got != texts {
		t.Errorf("Variables found %d uses of {{v}} in HTTPInput, want %d", got, texts)
	}
	out, err := Environment{Name: "e", Vars: map[string]string{"v": "x"}}.Apply(in)
	if err != nil {
		t.Fatal(err)
	}
	o := reflect.ValueOf(out.HTTP).Elem()
	for i := range o.NumField() {
		if enumField(o.Type().Field(i).Name) {
			continue
		}
		text := fmt.Sprint(o.Field(i).Interface())
		if b, ok := o.Field(i).Interface().([]byte); ok {
			text = string(b)
		}
		if strings.Contains(text, "{{v}}") {
			t.Errorf("Apply left HTTPInput.%s unsubstituted: %s", o.Type().Field(i).Name, text)
		}
	}
}
