// HTTP mode of the compose side: method, URL, headers and the nginx-like settings, with the params they map to previewed live.

package ui

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"

	"fcgiscope/session"
	"fcgiscope/ui/view"
)

// DefaultURL is the URL of a new compose form: a request that shows off the
// demo backend (its document root is session.DefaultDocumentRoot).
const DefaultURL = "/echo?hello=world"

// defaultHeaders are the header lines of a new compose form.
func defaultHeaders() []session.RawParam {
	return []session.RawParam{
		{Name: "Accept", Value: "application/json", Enabled: true},
		{Name: "User-Agent", Value: "fcgiscope", Enabled: true},
		{Name: "Cookie", Value: "theme=dark; lang=en", Enabled: true},
	}
}

// httpMethods are offered in the method list; any other can be typed in Raw mode.
var httpMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

// httpForm is the HTTP mode editor. The compose panel places its parts:
// the request line, the header lines, the server settings and the params
// preview.
type httpForm struct {
	method  *view.Select
	url     *hookEntry
	headers *view.KVEditor
	docRoot *hookEntry
	index   *hookEntry
	split   *hookEntry
	preview *view.TextTable
	profile *profilePicker

	requestLine fyne.CanvasObject // method and URL
	settings    fyne.CanvasObject // document root, index, split path
	previewPane fyne.CanvasObject // the web server choice over the params preview
}

func newHTTPForm(keys *keyHooks, onChange func()) *httpForm {
	f := &httpForm{
		url:     newMonoEntry(keys, "/index.php?query"),
		docRoot: newMonoEntry(keys, "/var/www/html"),
		index:   newMonoEntry(keys, session.DefaultIndex),
		split:   newMonoEntry(keys, session.DefaultSplitPath),
	}
	changed := func(string) { onChange() }
	f.method = view.NewSelect(httpMethods, changed)
	f.method.SetSelected("GET")
	f.url.SetText(DefaultURL)
	f.docRoot.SetText(session.DefaultDocumentRoot)
	f.index.SetText(session.DefaultIndex)
	f.split.SetText(session.DefaultSplitPath)
	for _, e := range []*hookEntry{f.url, f.docRoot, f.index, f.split} {
		e.OnChanged = changed
	}
	f.headers = view.NewKVEditor()
	f.headers.NameHint, f.headers.ValueHint, f.headers.AddText = "Header-Name", "value", "Add header"
	f.headers.Empty = "No header lines: Host is implied"
	f.headers.Keys = keys
	f.headers.OnChanged = onChange
	f.headers.SetItems(defaultHeaders())
	f.profile = newProfilePicker(onChange)
	f.preview = view.NewTextTable("Nothing to preview yet",
		view.TextColumn{Title: "Name", Width: 170, Mono: true},
		view.TextColumn{Title: "Value", Mono: true},
		view.TextColumn{Title: "Origin", Width: 64, Muted: true})

	f.requestLine = container.NewBorder(nil, nil, f.method, nil, f.url)
	label := func(s string) fyne.CanvasObject { return newMutedText(s) }
	help := newMutedText("How the web server maps the URL to the script, as nginx's root, " +
		"index and fastcgi_split_path_info do. The Preview tab picks the web server and lists the params it sends, in wire order.")
	help.Wrapping = fyne.TextWrapWord
	f.settings = container.New(layout.NewFormLayout(),
		label("Document root"), f.docRoot,
		label("Index file"), f.index,
		label("Split path"), f.split,
		layout.NewSpacer(), help)
	f.previewPane = container.NewBorder(f.profile.content, nil, nil, nil, f.preview)
	return f
}

// Input returns the HTTP request composed (without body: the body editor
// holds it). Header rows without a name and value are skipped.
func (f *httpForm) Input() session.HTTPInput {
	in := session.HTTPInput{
		Method:       f.method.Selected,
		URL:          strings.TrimSpace(f.url.Text),
		DocumentRoot: strings.TrimSpace(f.docRoot.Text),
		Index:        strings.TrimSpace(f.index.Text),
		SplitPath:    strings.TrimSpace(f.split.Text),
	}
	in.Profile, in.Variant = f.profile.Choice().Profile, f.profile.Choice().Variant
	if in.Profile == session.ProfileNginx {
		in.Profile = "" // the default, as a preset without a profile reads
	}
	for _, h := range f.headers.Items() {
		if strings.TrimSpace(h.Name) == "" && h.Value == "" {
			continue
		}
		in.Headers = append(in.Headers, session.Header{Name: strings.TrimSpace(h.Name), Value: h.Value})
	}
	return in
}

// SetPreview shows the params the request maps to.
func (f *httpForm) SetPreview(ps session.Params) {
	rows := make([][]string, len(ps))
	for i, p := range ps {
		rows[i] = []string{p.Name, p.Value, p.Origin}
	}
	f.preview.SetRows(rows)
}

// SetURL sets the request target.
func (f *httpForm) SetURL(u string) { f.url.SetText(u) }

// SetMethod sets the request method.
func (f *httpForm) SetMethod(m string) { f.method.SetSelected(m) }
