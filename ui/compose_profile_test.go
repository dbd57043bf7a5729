package ui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"fcgiscope/session"
)

// TestProfilePickerPreviewSendPreset: picking a web server changes the
// preview to its params, the send to its framing, and a preset keeps it.
func TestProfilePickerPreviewSendPreset(t *testing.T) {
	f := newWBFixture(t)
	c := f.in.Compose()
	pick := c.HTTP().profile
	if got := pick.Choice(); got.Profile != session.ProfileNginx || got.Variant != "" {
		t.Fatalf("default profile %+v, want nginx", got)
	}
	labels := pick.sel.Options
	i := slices.Index(labels, "Apache 2.4 · GENERIC backend")
	if i < 0 {
		t.Fatalf("no Apache GENERIC choice in %q", labels)
	}
	pick.sel.SetSelected(labels[i])
	hasRow := func(name, value string) bool {
		return slices.ContainsFunc(c.HTTP().preview.Rows(), func(r []string) bool { return r[0] == name && (value == "" || r[1] == value) })
	}
	f.q.waitFor(t, "the preview to show Apache's params", inspWait, func() bool {
		return hasRow("proxy-nokeepalive", "1") && hasRow("SCRIPT_FILENAME", "/var/www/html/echo")
	})

	c.SetBody("abc") // a STDIN record of 3 bytes, unpadded behind Apache
	x := f.send(t)
	if x.Profile() != session.ProfileApache || x.Framing().StdinMax != 8192 || !x.Framing().ParamsUnpadded {
		t.Errorf("sent with profile %q framing %+v", x.Profile(), x.Framing())
	}
	for _, r := range x.Records() {
		if r.Dir.String() == "sent" && r.PaddingLength != 0 {
			t.Errorf("Apache's records are not padded; sent %s with %d", r.Type, r.PaddingLength)
		}
	}

	as := session.Anomalies(x)
	if len(as) == 0 || !slices.ContainsFunc(as, func(a session.Anomaly) bool { return strings.Contains(a.Text, "what Apache 2.4 sends") }) {
		t.Errorf("the unpadded records' note does not name the profile: %+v", as)
	}

	f.saveAs(t, "behind apache")
	p := f.wb.Presets
	disk, err := p.Store().Load("behind apache")
	if err != nil || disk.Input().HTTP.Profile != session.ProfileApache || disk.Input().HTTP.Variant != "generic" {
		t.Fatalf("saved preset: %v %+v", err, disk.Input().HTTP)
	}
	p.NewRequest()
	f.q.settle()
	if got := pick.Choice(); got.Profile != session.ProfileNginx {
		t.Errorf("New request keeps profile %+v, want nginx", got)
	}
	p.OpenPreset("behind apache")
	f.q.waitFor(t, "the preset to open", inspWait, func() bool { return p.Current() == "behind apache" })
	if got := pick.Choice(); got.Profile != session.ProfileApache || got.Variant != "generic" {
		t.Errorf("opened preset shows profile %+v, want apache/generic", got)
	}
	if p.Dirty() {
		t.Error("a preset just opened is marked as changed")
	}
}

// TestProfileDiffDialog: the diff shows both servers' params side by side,
// with the differences marked, and follows a change of either side.
func TestProfileDiffDialog(t *testing.T) {
	f := newInspFixture(t)
	c := f.in.Compose()
	test.Tap(c.HTTP().profile.diff)
	d := c.HTTP().profile.lastDiff
	if d == nil {
		t.Fatal("Diff… opened no dialog")
	}
	find := func(kind session.ParamDiffKind, name, left, right string) bool {
		return slices.Contains(d.all, session.ParamDiff{Kind: kind, Name: name, Left: left, Right: right,
			LeftPos: posOf(d.all, name, true), RightPos: posOf(d.all, name, false)})
	}
	f.q.waitFor(t, "nginx against Apache", inspWait, func() bool {
		return find(session.ParamChanged, "SCRIPT_FILENAME", "/var/www/html/echo", "proxy:fcgi://localhost/var/www/html/echo")
	})
	if d.left.Selected != "nginx 1.22" || d.right.Selected != "Apache 2.4" {
		t.Errorf("sides %q and %q, want the form's profile and the next server", d.left.Selected, d.right.Selected)
	}
	if !find(session.ParamRightOnly, "proxy-nokeepalive", "", "1") || !find(session.ParamLeftOnly, "REDIRECT_STATUS", "200", "") ||
		!find(session.ParamMoved, "QUERY_STRING", "hello=world", "hello=world") {
		t.Errorf("rows: %+v", d.all)
	}
	if !strings.Contains(d.count.Text, "differ") {
		t.Errorf("count %q", d.count.Text)
	}
	d.right.SetSelected("lighttpd 1.4")
	f.q.waitFor(t, "nginx against lighttpd", inspWait, func() bool {
		return find(session.ParamChanged, "SCRIPT_FILENAME", "/var/www/html/echo", "/var/www/html/echo/")
	})
	d.only.SetChecked(true)
	if len(d.rows) == 0 || slices.ContainsFunc(d.rows, func(r session.ParamDiff) bool { return r.Kind == session.ParamSame }) {
		t.Errorf("Only differences shows %+v", d.rows)
	}
	if !strings.Contains(d.rightNote.Text, "65535 B records, unpadded") {
		t.Errorf("lighttpd side note %q", d.rightNote.Text)
	}
}

// posOf returns the position of name's first row on one side.
func posOf(rows []session.ParamDiff, name string, left bool) int {
	for _, r := range rows {
		if r.Name == name {
			if left {
				return r.LeftPos
			}
			return r.RightPos
		}
	}
	return 0
}
