// HTTP mode of the compose side: method, URL, headers and the nginx-like settings, with the params they map to previewed live.

package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
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

// httpForm is the HTTP mode editor.
type httpForm struct {
	method  *widget.Select
	url     *hookEntry
	headers *kvEditor
	docRoot *hookEntry
	index   *hookEntry
	split   *hookEntry
	profile *profilePicker

	preview      *infoTable
	previewTitle *widget.Label
	headerTitle  *widget.Label
	splitter     *container.Split

	content fyne.CanvasObject
}

func newHTTPForm(keys *keyHooks, onChange func()) *httpForm {
	f := &httpForm{
		url:          newMonoEntry(keys, "/index.php?query"),
		docRoot:      newMonoEntry(keys, "/var/www/html"),
		index:        newMonoEntry(keys, session.DefaultIndex),
		split:        newMonoEntry(keys, session.DefaultSplitPath),
		previewTitle: sectionTitle("Params preview"),
		headerTitle:  sectionTitle("Headers"),
	}
	changed := func(string) { onChange() }
	f.method = widget.NewSelect(httpMethods, changed)
	f.method.SetSelected("GET")
	f.url.SetText(DefaultURL)
	f.docRoot.SetText(session.DefaultDocumentRoot)
	f.index.SetText(session.DefaultIndex)
	f.split.SetText(session.DefaultSplitPath)
	for _, e := range []*hookEntry{f.url, f.docRoot, f.index, f.split} {
		e.OnChanged = changed
	}
	f.headers = newKVEditor(keys, kvEditorOptions{nameHint: "Header-Name", valueHint: "value", empty: "No header lines: Host is implied", noHeader: true}, func() {
		f.headerTitle.SetText(fmt.Sprintf("Headers (%d)", len(f.headers.Items())))
		onChange()
	})
	f.headers.SetItems(defaultHeaders())
	f.profile = newProfilePicker(onChange)
	f.preview = newInfoTable("Nothing to preview yet",
		infoColumn{title: "Name", width: 170, mono: true},
		infoColumn{title: "Value", mono: true},
		infoColumn{title: "Origin", width: 76, muted: true})

	requestLine := container.NewBorder(nil, nil, f.method, nil, f.url)
	label := func(s string) fyne.CanvasObject { return newMutedText(s) }
	settings := container.New(layout.NewFormLayout(),
		label("Document root"), f.docRoot,
		label("Index file"), container.NewBorder(nil, nil, withMinSize(f.index, 110, 0), nil,
			container.NewBorder(nil, nil, label("Split path"), nil, f.split)))
	addHeader := widget.NewButtonWithIcon("Add", theme.ContentAddIcon(), func() {
		f.headers.Add(session.RawParam{Enabled: true})
		if n := f.headers.Len(); n > 0 {
			focus(f.headers.Row(n - 1).name)
		}
	})
	addHeader.Importance = widget.LowImportance
	headersPane := container.NewBorder(sectionHeader(f.headerTitle, addHeader), nil, nil, nil, f.headers.Content())
	previewPane := container.NewBorder(sectionHeader(f.previewTitle, f.profile.content), nil, nil, nil, f.preview)
	f.splitter = container.NewVSplit(headersPane, previewPane)
	f.splitter.Offset = 0.4
	f.content = container.NewBorder(container.NewVBox(requestLine, settings), nil, nil, nil, f.splitter)
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
	f.previewTitle.SetText(fmt.Sprintf("Params preview (%d)", len(ps)))
}

// focus gives the keyboard focus to w when it is on a canvas.
func focus(w fyne.Focusable) {
	if app := fyne.CurrentApp(); app != nil {
		if c := app.Driver().CanvasForObject(w.(fyne.CanvasObject)); c != nil {
			c.Focus(w)
		}
	}
}

// SetURL sets the request target.
func (f *httpForm) SetURL(u string) { f.url.SetText(u) }

// SetMethod sets the request method.
func (f *httpForm) SetMethod(m string) { f.method.SetSelected(m) }
