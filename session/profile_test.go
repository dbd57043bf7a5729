package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

func TestLookupProfile(t *testing.T) {
	if got := ProfileNames(); strings.Join(got, ",") != "nginx,apache,caddy,lighttpd" {
		t.Errorf("ProfileNames() = %q", got)
	}
	p, err := LookupProfile("")
	if err != nil || p.Name != ProfileNginx {
		t.Errorf(`LookupProfile("") = %q, %v; want nginx`, p.Name, err)
	}
	if _, err := LookupProfile("iis"); err == nil || !strings.Contains(err.Error(), `"iis"`) || !strings.Contains(err.Error(), "lighttpd") {
		t.Errorf("unknown profile: err = %v, want one naming it and the profiles", err)
	}
	a, _ := LookupProfile(ProfileApache)
	if v, err := a.Variant(""); err != nil || v.Name != "fpm" {
		t.Errorf("Apache's default variant = %q, %v; want fpm", v.Name, err)
	}
	if _, err := a.Variant("tcp"); err == nil || !strings.Contains(err.Error(), "generic") {
		t.Errorf("unknown variant: err = %v", err)
	}
	for _, p := range Profiles() {
		if len(p.Variants) == 0 || p.Title == "" || p.Server == "" || p.Software == "" || len(p.Notes) == 0 {
			t.Errorf("profile %q lacks a variant, title, server, software or notes", p.Name)
		}
	}
}

func TestProfileErrors(t *testing.T) {
	for _, in := range []HTTPInput{
		{URL: "/x.php", DocumentRoot: "/srv", Profile: "iis"},
		{URL: "/x.php", DocumentRoot: "/srv", Profile: ProfileLighttpd, Variant: "nope"},
	} {
		if _, err := BuildHTTP(in); err == nil {
			t.Errorf("BuildHTTP(%s/%s) succeeded", in.Profile, in.Variant)
		}
	}
	// The checks of nginx's chain hold for every profile.
	for _, name := range ProfileNames() {
		_, err := BuildHTTP(HTTPInput{URL: "/%2e%2e/x.php", DocumentRoot: "/srv", Profile: name})
		if !errors.Is(err, ErrPathEscapes) {
			t.Errorf("%s: err = %v, want ErrPathEscapes", name, err)
		}
	}
}

// TestProfileGolden writes, for every profile and variant, the params and
// framing of a few requests to testdata/profiles.txt: the rules as
// implemented, reviewed as a diff (go test -update rewrites it).
func TestProfileGolden(t *testing.T) {
	ins := []HTTPInput{
		{URL: "/info.php?a=1&b=%41", Headers: []Header{{"Host", "Example.com:8080"}, {"Cookie", "a=1"}, {"Cookie", "b=2"},
			{"Authorization", "Basic dXNlcjpwYXNz"}, {"X_Under", "1"}, {"X-Empty", ""}, {"Proxy", "evil"}}},
		{Method: "POST", URL: "/app.php/items/7", HTTPS: true, ServerPort: 443, Body: []byte(`{"id":7}`),
			Headers: []Header{{"Host", "localhost"}, {"Content-Type", "application/json"}}},
		{Method: "PUT", URL: "/caf%c3%a9.php", Body: []byte("chunked"), Headers: []Header{{"Transfer-Encoding", "chunked"}}},
	}
	var b strings.Builder
	for _, p := range Profiles() {
		for _, v := range p.Variants {
			fmt.Fprintf(&b, "## %s / %s — %s\n", p.Name, v.Name, p.FramingOf(v))
			for _, in := range ins {
				in.DocumentRoot, in.Profile, in.Variant = "/srv/www", p.Name, v.Name
				req, err := BuildHTTP(in)
				if err != nil {
					t.Fatalf("%s/%s %s: %v", p.Name, v.Name, in.URL, err)
				}
				if req.Framing != p.FramingOf(v) {
					t.Errorf("%s/%s: request framing %+v, want %+v", p.Name, v.Name, req.Framing, p.FramingOf(v))
				}
				fmt.Fprintf(&b, "%s %s\n", in.WithDefaults().Method, in.URL)
				for _, pr := range req.Params {
					fmt.Fprintf(&b, "  %s=%q (%s)\n", pr.Name, pr.Value, pr.Origin)
				}
			}
			b.WriteString("\n")
		}
	}
	checkGolden(t, "profiles.txt", []byte(b.String()))
}

func TestLighttpdNormalize(t *testing.T) {
	for _, tt := range []struct{ raw, path, query, changed string }{
		{"/info.php?a=1", "/info.php", "a=1", ""},
		{"/info%2Ephp/p%20q?r=%41", "/info.php/p%20q", "r=A", "changed"},
		{"/caf%c3%a9.php", "/caf%C3%A9.php", "", "changed"},
		{"/café.php", "/caf%C3%A9.php", "", "changed"},
		{"/a/./b/../c.php?x=%7e", "/a/c.php", "x=~", "changed"},
		{"/a+b.php?q=a+b%2B", "/a+b.php", "q=a+b%2B", ""},
	} {
		tg, err := parseTarget(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		path, query, changed := lighttpdNormalize(tg)
		if path != tt.path || query != tt.query || changed != (tt.changed != "") {
			t.Errorf("%s: %q %q %v, want %q %q %v", tt.raw, path, query, changed, tt.path, tt.query, tt.changed != "")
		}
	}
}

func TestExchangeProfile(t *testing.T) {
	in := Input{Mode: ModeHTTP, HTTP: &HTTPInput{URL: "/x.php", DocumentRoot: "/srv", Profile: ProfileApache}}
	req, err := BuildInput(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	x := NewExchange(in)
	x.Begin("127.0.0.1:9000", req, time.Unix(1700000000, 0))
	x.Complete(Outcome{})
	apache, _ := LookupProfile(ProfileApache)
	if x.Profile() != ProfileApache || x.Framing() != apache.Framing {
		t.Errorf("Profile() = %q, Framing() = %+v", x.Profile(), x.Framing())
	}
	b, err := x.CLIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Profile string       `json:"profile"`
		Framing fcgi.Framing `json:"framing"`
	}
	must(t, json.Unmarshal(b, &v))
	if v.Profile != ProfileApache || v.Framing != apache.Framing {
		t.Errorf("CLI JSON profile %q framing %+v", v.Profile, v.Framing)
	}
	// The lossless form keeps the framing.
	raw, err := x.MarshalJSON()
	must(t, err)
	var y Exchange
	must(t, y.UnmarshalJSON(raw))
	if y.Framing() != apache.Framing || y.Profile() != ProfileApache {
		t.Errorf("round trip: framing %+v profile %q", y.Framing(), y.Profile())
	}
	// Raw mode: no profile, the default framing.
	rx := NewExchange(Input{Mode: ModeRaw})
	rx.Begin("t", RawRequest(Input{Mode: ModeRaw}, OriginUser), time.Unix(1700000000, 0))
	if rx.Profile() != "" || rx.Framing() != (fcgi.Framing{}) {
		t.Errorf("raw: profile %q framing %+v", rx.Profile(), rx.Framing())
	}
}

func TestDiffParams(t *testing.T) {
	a := Params{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}, {Name: "C", Value: "3"}, {Name: "X", Value: "x"}, {Name: "D", Value: "4"}}
	b := Params{{Name: "B", Value: "2"}, {Name: "A", Value: "1"}, {Name: "C", Value: "three"}, {Name: "N", Value: "new"}, {Name: "D", Value: "4"}, {Name: "D", Value: "4"}}
	var got []string
	for _, r := range DiffParams(a, b) {
		got = append(got, fmt.Sprintf("%s %s %d:%q %d:%q", r.Kind, r.Name, r.LeftPos, r.Left, r.RightPos, r.Right))
	}
	want := []string{
		`same A 1:"1" 2:"1"`, // A, C, D keep their order; B moved before them
		`moved B 2:"2" 1:"2"`,
		`changed C 3:"3" 3:"three"`,
		`right only N 0:"" 4:"new"`,
		`left only X 4:"x" 0:""`,
		`same D 5:"4" 5:"4"`,
		`right only D 0:"" 6:"4"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("DiffParams:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if rows := DiffParams(a, a); slices.ContainsFunc(rows, func(r ParamDiff) bool { return r.Kind != ParamSame }) {
		t.Errorf("a list against itself: %+v", rows)
	}
}
