// Tests of environments on the real window against the demo backend: the editor, substitution in the preview and at send time, and an unknown variable refused before sending.

package ui

import (
	"errors"
	"os"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
	"fcgiscope/session/preset"
)

// previewValue returns the value of a param in the HTTP preview.
func previewValue(c *ComposePanel, name string) string {
	for _, r := range c.HTTP().preview.Rows() {
		if r[0] == name {
			return r[1]
		}
	}
	return ""
}

func TestEnvironmentSubstitution(t *testing.T) {
	f := newWBFixture(t)
	envs := f.wb.Envs
	c := f.in.Compose()

	// A variable with no environment selected is an error before sending.
	f.setURL(t, "/echo?who={{who}}")
	f.q.settle()
	errs, _ := c.Problems()
	if len(errs) == 0 || !strings.Contains(errs[0], "{{who}} in URL") || !strings.Contains(errs[0], "no environment") {
		t.Fatalf("compose errors %q, want the unknown variable", errs)
	}
	test.Tap(f.in.SendButton())
	if f.in.Busy() {
		t.Fatal("Send went ahead with an unknown variable")
	}
	if !strings.Contains(f.in.State(), "{{who}}") {
		t.Errorf("state %q does not name the variable", f.in.State())
	}

	// Define it in a new environment through the editor.
	envs.ShowEditor()
	ed := envs.editor
	if ed == nil {
		t.Fatal("no editor")
	}
	ed.create("local")
	ed.vars.Add(session.RawParam{Name: "who", Value: "world-and-co", Enabled: true})
	ed.vars.Add(session.RawParam{Name: "bad name", Value: "x", Enabled: true})
	if !ed.save.Disabled() {
		t.Error("Save is enabled with an invalid variable name")
	}
	ed.vars.Remove(1)
	test.Tap(ed.save)
	f.q.waitFor(t, "the environments to be saved", inspWait, func() bool { return envs.editor == nil })
	envs.Select("local")
	f.q.settle()
	if env, ok := envs.Active(); !ok || env.Vars["who"] != "world-and-co" {
		t.Fatalf("active environment %+v %v", env, ok)
	}
	data, err := os.ReadFile(f.wb.Presets.Store().EnvironmentsPath())
	if err != nil || !strings.Contains(string(data), `active = "local"`) || !strings.Contains(string(data), `who = "world-and-co"`) {
		t.Errorf("environments.toml (%v):\n%s", err, data)
	}

	// The preview shows the value; the send carries it; the form keeps {{who}}.
	if errs, _ := c.Problems(); len(errs) > 0 {
		t.Fatalf("compose errors %q with the variable defined", errs)
	}
	if got := previewValue(c, "QUERY_STRING"); got != "who=world-and-co" {
		t.Errorf("preview QUERY_STRING %q", got)
	}
	x := f.send(t)
	if q, _ := x.Params().Get("QUERY_STRING"); q != "who=world-and-co" {
		t.Errorf("sent QUERY_STRING %q", q)
	}
	if c.HTTP().url.Text != "/echo?who={{who}}" {
		t.Errorf("the form now holds %q, want the variable kept", c.HTTP().url.Text)
	}

	// Back to none: the error returns.
	envs.Select(NoEnvironment)
	f.q.settle()
	if errs, _ := c.Problems(); len(errs) == 0 {
		t.Error("no error after unselecting the environment")
	}
}

func TestApplyEnvironmentMessages(t *testing.T) {
	in := session.Input{Mode: session.ModeRaw, Target: "{{host}}:9000",
		Params: []session.RawParam{{Name: "A", Value: "{{a}}", Enabled: true}, {Name: "B", Value: "{{b}}", Enabled: false}}}
	env := preset.Environment{Name: "staging", Vars: map[string]string{"host": "10.0.0.1"}}
	_, err := applyEnvironment(env, true, in)
	if err == nil || err.Error() != "Unknown variable {{a}} in param A value — environment “staging” does not define it" || !errors.Is(err, preset.ErrUnknownVariable) {
		t.Errorf("error %v", err)
	}
	env.Vars["a"] = "x"
	out, err := applyEnvironment(env, true, in)
	if err != nil || out.Target != "10.0.0.1:9000" || out.Params[0].Value != "x" || out.Params[1].Value != "{{b}}" {
		t.Errorf("applied: %+v, %v", out, err)
	}
}
