// FuzzLoadPreset: whatever bytes a preset file holds, decoding gives an
// error or a preset that saves and loads back the same.

package preset

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"fcgiscope/session"
)

// FuzzLoadPreset decodes arbitrary bytes as a preset file. The result is an
// error wrapping ErrCorrupt or ErrFormat, or a Preset that
// encodes, decodes to an equal Preset and encodes again to the same bytes.
func FuzzLoadPreset(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "presets", "rich.toml")); err == nil {
		f.Add(b)
	}
	for _, p := range []Preset{
		{},
		{Mode: session.ModeRaw, Target: "127.0.0.1:9000", Params: []session.RawParam{{Name: "A", Value: "it's \"q\"\n", Enabled: true}, {Name: "\xff", Value: "\x00", Enabled: false}},
			Body: []byte("x\r\ny'''")},
		{Mode: session.ModeHTTP, Target: "unix:/run/php.sock", Role: 77, HTTP: &session.HTTPInput{Method: "POST", URL: "/a.php/b",
			Headers: []session.Header{{Name: "Cookie", Value: "a=1"}}, Body: []byte{0, 1, 2}, ServerPort: -1}},
	} {
		if b, err := Encode(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"format = 2\n", "format = 1\nrole = \"filter\"\n", "format = 1\nbody_base64 = \"!!\"\n",
		"format = 1\nunknown = 1\n", "format = 1\n[http]\nheaders = 3\n", "format = 1\nparams = [1]\n",
		"format = 1\nrequest_id = 70000\n", "format = \"1\"\n", "format = 1\nbody = 'a'\nbody_file = 'b'\n",
		"format = 1\n[http]\nurl = '/'\nprofile = 'caddy'\n", "format = 1\n[http]\nurl = '/'\nprofile = 'iis'\n",
		"format = 1\n[http]\nurl = '/'\nprofile = 'apache'\nvariant = 'tcp'\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkPresetRoundTrip(t, in)
	})
}

func checkPresetRoundTrip(t *testing.T, in []byte) {
	t.Helper()
	p, err := Decode(in)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat) {
			t.Fatalf("error %v wraps neither ErrCorrupt nor ErrFormat", err)
		}
		return
	}
	enc, err := Encode(p)
	if err != nil {
		t.Fatalf("a decoded preset does not encode: %v\npreset %+v", err, p)
	}
	q, err := Decode(enc)
	if err != nil {
		t.Fatalf("an encoded preset does not decode: %v\n%s", err, enc)
	}
	if !p.Equal(q) || !reflect.DeepEqual(normPreset(p), normPreset(q)) {
		t.Fatalf("round trip changed the preset:\n%+v\n%+v\nfile:\n%s", p, q, enc)
	}
	enc2, err := Encode(q)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable (%v):\n%s\n---\n%s", err, enc, enc2)
	}
}

// normPreset makes empty and nil slices alike, as a preset file cannot tell
// them apart.
func normPreset(p Preset) Preset {
	if len(p.Body) == 0 {
		p.Body = nil
	}
	if len(p.Params) == 0 {
		p.Params = nil
	}
	if p.HTTP != nil {
		h := p.HTTP.Clone()
		if len(h.Body) == 0 {
			h.Body = nil
		}
		if len(h.Headers) == 0 {
			h.Headers = nil
		}
		p.HTTP = h
	}
	return p
}

// TestFuzzSeedsHold runs the FuzzLoadPreset check on hand-made files, so
// that a plain go test proves them too (the committed corpus under
// testdata/fuzz runs with the target).
func TestFuzzSeedsHold(t *testing.T) {
	for _, in := range []string{"format = 1\n", "format = 1\n[http]\nmethod = \"GET\"\n"} {
		checkPresetRoundTrip(t, []byte(in))
	}
}
