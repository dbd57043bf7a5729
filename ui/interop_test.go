// Tests of the import and export dialogs and Exchange files on the real window against the demo backend.

package ui

import (
	"path/filepath"
	"strings"
	"testing"

	"fcgiscope/session"
)

const nginxSample = `# from /etc/nginx/fastcgi_params
fastcgi_param  QUERY_STRING       $query_string;
fastcgi_param  REQUEST_METHOD     $request_method;
fastcgi_param  SCRIPT_FILENAME    $document_root$fastcgi_script_name;
fastcgi_param  APP_ENV            $app_env;
fastcgi_param  HTTPS              $https if_not_empty;
fastcgi_pass   127.0.0.1:9000;
`

func TestImportNginxParams(t *testing.T) {
	f := newWBFixture(t)
	o := f.wb.Interop
	o.ImportNginx()
	d := o.nginx
	if d == nil {
		t.Fatal("no import dialog")
	}
	if !d.apply.Disabled() {
		t.Error("Import is enabled with nothing pasted")
	}
	d.text.SetText(nginxSample)
	if d.apply.Disabled() {
		t.Fatalf("Import disabled: %s", d.result.Text)
	}
	if !strings.Contains(d.result.Text, "5 params") || !strings.Contains(d.result.Text, "1 unresolved") {
		t.Errorf("result %q", d.result.Text)
	}
	if !strings.Contains(d.details.Text, "$app_env") {
		t.Errorf("details %q do not list $app_env", d.details.Text)
	}
	d.apply.OnTapped()
	f.q.settle()
	c := f.in.Compose()
	if c.Mode() != session.ModeRaw {
		t.Fatalf("mode %s after import, want raw", c.Mode())
	}
	got := map[string]session.RawParam{}
	for _, p := range c.Raw().Items() {
		got[p.Name] = p
	}
	if got["QUERY_STRING"].Value != "hello=world" || got["REQUEST_METHOD"].Value != "GET" {
		t.Errorf("variables not resolved from the HTTP request: %+v", got)
	}
	if got["SCRIPT_FILENAME"].Value != session.DefaultDocumentRoot+"/echo" {
		t.Errorf("SCRIPT_FILENAME = %q", got["SCRIPT_FILENAME"].Value)
	}
	if got["APP_ENV"].Value != "$app_env" {
		t.Errorf("unresolved variable became %q, want it kept as written", got["APP_ENV"].Value)
	}
	if p := got["HTTPS"]; p.Enabled {
		t.Errorf("HTTPS if_not_empty with an empty value is enabled: %+v", p)
	}
	if f.in.Target().Address() != "127.0.0.1:9000" {
		t.Errorf("target %q, want fastcgi_pass's", f.in.Target().Address())
	}
}

func TestImportCGIFCGICommand(t *testing.T) {
	f := newWBFixture(t)
	o := f.wb.Interop
	o.ImportCGIFCGI()
	d := o.cgi
	d.text.SetText("printf '%s' 'a=1' | env -i REQUEST_METHOD=POST SCRIPT_NAME=/echo CONTENT_LENGTH=3 \\\n  cgi-fcgi -bind -connect " + f.demo)
	if d.apply.Disabled() {
		t.Fatalf("Import disabled: %s", d.result.Text)
	}
	d.apply.OnTapped()
	f.q.settle()
	c := f.in.Compose()
	items := c.Raw().Items()
	if c.Mode() != session.ModeRaw || len(items) != 3 || items[0].Name != "REQUEST_METHOD" || items[0].Value != "POST" {
		t.Fatalf("compose after import: mode %s params %+v", c.Mode(), items)
	}
	if string(c.bodyBytes()) != "a=1" || f.in.Target().Address() != f.demo {
		t.Errorf("body %q target %q", c.bodyBytes(), f.in.Target().Address())
	}
	// The imported request goes through as written.
	x := f.send(t)
	if m, _ := x.Params().Get("REQUEST_METHOD"); m != "POST" {
		t.Errorf("sent REQUEST_METHOD %q", m)
	}
}

// waitExport waits for the export dialog's result.
func (f *wbFixture) waitExport(t *testing.T) ([]byte, error) {
	t.Helper()
	d := f.wb.Interop.export
	f.q.waitFor(t, "the export", inspWait, func() bool { return d.status.Text != "Preparing…" })
	return d.Text()
}

func TestExportCommandsAndFiles(t *testing.T) {
	f := newWBFixture(t)
	f.setURL(t, "/echo?q=it's$(here)")
	x := f.send(t)

	o := f.wb.Interop
	o.Export(FormatCGIFCGI)
	text, err := f.waitExport(t)
	if err != nil {
		t.Fatal(err)
	}
	cmd := string(text)
	for _, want := range []string{"env -i", "REQUEST_METHOD='GET'", `QUERY_STRING='q=it'\''s$(here)'`, "HTTP_COOKIE='[redacted]'",
		"cgi-fcgi -bind -connect '" + f.demo + "'"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("cgi-fcgi export lacks %s:\n%s", want, cmd)
		}
	}
	// Secrets only when asked.
	d := o.export
	d.secrets.SetChecked(true)
	text, _ = f.waitExport(t)
	if !strings.Contains(string(text), "HTTP_COOKIE='theme=dark; lang=en'") {
		t.Errorf("with secrets the cookie is missing:\n%s", text)
	}
	d.secrets.SetChecked(false)

	d.format.SetSelected(FormatSend)
	text, err = f.waitExport(t)
	if err != nil || !strings.Contains(string(text), "fcgiscope send --addr '"+f.demo+"'") {
		t.Errorf("send export (%v):\n%s", err, text)
	}
	o.copyExport(d)
	if got := f.app.Clipboard().Content(); got != string(text) {
		t.Errorf("clipboard holds %q", got)
	}

	// The composed request (not sent) exports too.
	d.dlg.Hide()
	f.setURL(t, "/echo?composed=1")
	o.Export(FormatSend)
	d = o.export
	d.source.SetSelected(SourceComposed)
	text, err = f.waitExport(t)
	if err != nil || !strings.Contains(string(text), "QUERY_STRING=composed=1") {
		t.Errorf("composed export (%v):\n%s", err, text)
	}

	// HAR and Exchange files are written, and an Exchange file opens offline.
	d.format.SetSelected(FormatHAR)
	text, err = f.waitExport(t)
	if err != nil || !strings.Contains(string(text), `"version": "1.2"`) && !strings.Contains(string(text), `"version":"1.2"`) {
		t.Errorf("HAR (%v): %.200s", err, text)
	}
	d.format.SetSelected(FormatExchange)
	if _, err := f.waitExport(t); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.json")
	if err := writeExport(path, d.result); err != nil {
		t.Fatal(err)
	}
	o.LoadExchangeFile(path)
	f.q.waitFor(t, "the file to be shown", inspWait, func() bool {
		s := f.in.Exchange()
		return s != x && s != nil && s.Start().Equal(x.Start())
	})
	if got := f.in.Results().Len(); got != x.Len() {
		t.Errorf("opened file shows %d records, want %d", got, x.Len())
	}
	if !strings.Contains(f.in.State(), "x.json") {
		t.Errorf("state %q does not name the file", f.in.State())
	}
}
