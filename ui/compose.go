// Compose side: the request as the user writes it — role, connection settings, HTTP or Raw params, body — with live warnings before sending.

package ui

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/ui/view"
)

// Role names in the role list.
const (
	RoleResponder  = "Responder"
	RoleAuthorizer = "Authorizer"
	RoleFilter     = "Filter"
)

// Mode names on the mode switch.
const (
	ModeLabelHTTP = "HTTP request"
	ModeLabelRaw  = "Raw params"
)

// maxBodyFile bounds a body loaded from a file.
const maxBodyFile = 256 << 20

// maxBodyEdit bounds the text put in the body editor (an entry lays out
// its whole text on the UI goroutine); a larger or binary file is kept
// aside and sent as is.
const maxBodyEdit = 64 << 10

// ComposePanel is the request form.
type ComposePanel struct {
	keys *keyHooks
	do   func(func())
	base context.Context
	win  fyne.Window

	role     *view.Select
	keep     *widget.Check
	reqID    *hookEntry
	dataFile *hookEntry
	dataRow  *fyne.Container

	mode     string
	modeBtns map[string]*widget.Button
	http     *httpForm
	raw      *view.KVEditor
	rawBar   fyne.CanvasObject // Raw mode's tools, where HTTP mode has its request line

	// The parts of the request under its first lines are tabs, so that
	// each gets the column's height: the header lines (HTTP) or the params
	// (Raw), the body, the server settings and the params preview (HTTP).
	tabs       *container.AppTabs
	linesTab   *container.TabItem
	bodyTab    *container.TabItem
	serverTab  *container.TabItem
	previewTab *container.TabItem

	body      *hookEntry
	bodyBin   []byte // a body loaded from a binary or large file, sent as is
	bodyName  string
	ctype     *hookEntry
	bodySize  *view.TextLine
	bodyClear *widget.Button

	warnBox  *fyne.Container
	errs     []string
	warns    []string
	checkGen int
	httpPs   session.Params // the HTTP preview's params, for "From HTTP"
	loadGen  int

	content fyne.CanvasObject

	// OnChange is called on the UI goroutine after every edit of the form
	// (the presets mark unsaved changes with it).
	OnChange func()
	// Prepare, when set, returns the substitution applied to the form
	// before it is previewed and checked (the environment's variables).
	// It is called on the UI goroutine; the function it returns runs on a
	// worker.
	Prepare func() func(session.Input) (session.Input, error)
	// httpBase holds the HTTP fields of a loaded request that the form
	// does not show (server name, HTTPS, …): Snapshot keeps them.
	httpBase session.HTTPInput
}

// newComposePanel builds the form with the defaults: HTTP mode, GET
// /echo?hello=world with a few headers, Responder, automatic request id.
func newComposePanel(base context.Context, win fyne.Window, keys *keyHooks, do func(func())) *ComposePanel {
	c := &ComposePanel{keys: keys, do: do, base: base, win: win, mode: session.ModeHTTP}
	c.role = view.NewSelect([]string{RoleResponder, RoleAuthorizer, RoleFilter}, func(string) { c.onRole() })
	c.keep = widget.NewCheck("KEEP_CONN", func(bool) { c.check() })
	c.reqID = newMonoEntry(keys, "request id: auto")
	c.reqID.OnChanged = func(string) { c.check() }
	c.dataFile = newMonoEntry(keys, "file sent on FCGI_DATA")
	c.dataFile.OnChanged = func(string) { c.check() }
	chooseData := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), c.chooseDataFile)
	c.dataRow = container.NewBorder(nil, nil, newMutedText("Data file"), chooseData, c.dataFile)

	c.http = newHTTPForm(keys, c.check)
	c.http.profile.onDiff = c.showProfileDiff
	c.raw = view.NewKVEditor()
	c.raw.Toggle, c.raw.Reorder, c.raw.Header = true, true, true
	c.raw.NameHint, c.raw.ValueHint, c.raw.AddText = "NAME", "value", "Add param"
	c.raw.Empty = "No params. Add one, paste NAME=VALUE lines, or take the HTTP preview."
	c.raw.Keys = keys
	c.raw.OnChanged = func() {
		c.setLinesTitle()
		c.check()
	}
	c.rawBar = c.newRawBar()
	c.rawBar.Hide()

	c.modeBtns = map[string]*widget.Button{
		session.ModeHTTP: widget.NewButton(ModeLabelHTTP, func() { c.SetMode(session.ModeHTTP) }),
		session.ModeRaw:  widget.NewButton(ModeLabelRaw, func() { c.SetMode(session.ModeRaw) }),
	}
	modeSwitch := container.NewHBox(c.modeBtns[session.ModeHTTP], c.modeBtns[session.ModeRaw])

	c.body = newHookEntry(keys, true)
	c.body.Wrapping = fyne.TextWrapOff // long lines scroll: wrapping measures every line at each change
	c.body.TextStyle = fyne.TextStyle{Monospace: true}
	c.body.PlaceHolder = "Request body, sent on FCGI_STDIN"
	c.body.SetMinRowsVisible(2)
	c.body.OnChanged = func(string) { c.onBody() }
	c.ctype = newMonoEntry(keys, "e.g. application/json")
	c.ctype.OnChanged = func(string) { c.check() }
	c.bodySize = view.NewTextLine("")
	c.bodySize.Importance = widget.LowImportance
	load := widget.NewButtonWithIcon("Load…", theme.FileIcon(), c.loadBody)
	load.Importance = widget.LowImportance
	c.bodyClear = widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), c.clearBody)
	c.bodyClear.Importance = widget.LowImportance
	bodyPane := container.NewBorder(
		container.NewVBox(c.dataRow,
			container.NewBorder(nil, nil, newMutedText("Content type"), nil, c.ctype),
			container.NewBorder(nil, nil, nil, container.NewHBox(load, c.bodyClear), c.bodySize)),
		nil, nil, nil, c.body)

	// The request line (HTTP) and the params' tools (Raw) take the same
	// place: switching modes moves nothing under them.
	requestLine := container.NewStack(c.http.requestLine, c.rawBar)
	c.linesTab = container.NewTabItem("Headers", container.NewStack(c.http.headers, c.raw))
	c.bodyTab = container.NewTabItem("Body", bodyPane)
	c.serverTab = container.NewTabItem("Server", container.NewVScroll(c.http.settings))
	c.previewTab = container.NewTabItem("Preview", c.http.previewPane)
	c.tabs = container.NewAppTabs(c.linesTab, c.bodyTab, c.serverTab, c.previewTab)

	// The problems take at most a few lines; more scroll.
	c.warnBox = container.NewVBox()
	problems := view.NewCappedScroll(c.warnBox, problemsHeight())
	settings := container.NewBorder(nil, nil, container.NewHBox(c.role, c.keep), nil, c.reqID)
	top := container.NewVBox(modeSwitch, settings, requestLine)
	c.content = container.NewBorder(top, problems, nil, nil, c.tabs)

	c.role.SetSelected(RoleResponder)
	c.SetMode(session.ModeHTTP)
	c.onBody()
	return c
}

// newRawBar returns Raw mode's tools: paste params, take the HTTP
// preview's, fill CONTENT_LENGTH and CONTENT_TYPE, remove all.
func (c *ComposePanel) newRawBar() fyne.CanvasObject {
	paste := widget.NewButton("Paste…", c.showPaste)
	fromHTTP := widget.NewButton("From HTTP", c.ImportHTTP)
	fill := widget.NewButton("Fill CONTENT_*", c.FillContentParams)
	clear := widget.NewButtonWithIcon("", theme.DeleteIcon(), func() { c.raw.SetItems(nil) })
	for _, b := range []*widget.Button{paste, fromHTTP, fill, clear} {
		b.Importance = widget.LowImportance
	}
	return container.NewHBox(paste, fromHTTP, fill, layout.NewSpacer(), clear)
}

// problemsHeight is the most the problems under the form take: three
// lines; more scroll.
func problemsHeight() float32 {
	line := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{}).Height + 2*theme.InnerPadding()
	return 3 * line
}

// setLinesTitle names the first tab by the mode, with its count of lines.
func (c *ComposePanel) setLinesTitle() {
	title := fmt.Sprintf("Headers (%d)", len(c.http.Input().Headers))
	if c.mode == session.ModeRaw {
		title = fmt.Sprintf("Params (%d)", c.raw.Len())
	}
	if c.linesTab.Text != title {
		c.linesTab.Text = title
		c.tabs.Refresh()
	}
}

// Tabs returns the tabs under the request line: the header lines or
// params, the body, the server settings and the params preview.
func (c *ComposePanel) Tabs() *container.AppTabs { return c.tabs }

// Content returns the form's canvas object.
func (c *ComposePanel) Content() fyne.CanvasObject { return c.content }

// Mode returns session.ModeHTTP or session.ModeRaw.
func (c *ComposePanel) Mode() string { return c.mode }

// SetMode switches between HTTP and Raw mode. Both keep what was typed in
// them. The first switch to an empty Raw mode fills it with the HTTP preview.
func (c *ComposePanel) SetMode(mode string) {
	if mode != session.ModeRaw {
		mode = session.ModeHTTP
	}
	c.mode = mode
	for m, b := range c.modeBtns {
		if m == mode {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.MediumImportance
		}
		b.Refresh()
	}
	raw := mode == session.ModeRaw
	if raw && c.raw.Len() == 0 && len(c.httpPs) > 0 {
		c.ImportHTTP()
	}
	show(c.http.requestLine, !raw)
	show(c.http.headers, !raw)
	show(c.rawBar, raw)
	show(c.raw, raw)
	// The server settings and the preview are HTTP mode's: in Raw mode
	// their tabs stay, disabled, so that the tabs do not move.
	if raw {
		if sel := c.tabs.Selected(); sel == c.serverTab || sel == c.previewTab {
			c.tabs.Select(c.linesTab)
		}
		c.tabs.DisableItem(c.serverTab)
		c.tabs.DisableItem(c.previewTab)
	} else {
		c.tabs.EnableItem(c.serverTab)
		c.tabs.EnableItem(c.previewTab)
	}
	c.setLinesTitle()
	c.check()
}

// Role returns the role chosen.
func (c *ComposePanel) Role() fcgi.Role {
	switch c.role.Selected {
	case RoleAuthorizer:
		return fcgi.RoleAuthorizer
	case RoleFilter:
		return fcgi.RoleFilter
	}
	return fcgi.RoleResponder
}

func (c *ComposePanel) onRole() {
	c.dataRow.Hidden = c.Role() != fcgi.RoleFilter
	c.dataRow.Refresh()
	c.check()
}

// HTTP returns the HTTP mode editor.
func (c *ComposePanel) HTTP() *httpForm { return c.http }

// Raw returns the Raw mode editor.
func (c *ComposePanel) Raw() *view.KVEditor { return c.raw }

// show shows or hides o.
func show(o fyne.CanvasObject, on bool) {
	if on == o.Visible() {
		return
	}
	if on {
		o.Show()
	} else {
		o.Hide()
	}
}

// SetBody replaces the body text.
func (c *ComposePanel) SetBody(s string) {
	c.bodyBin, c.bodyName = nil, ""
	c.body.Enable()
	c.body.SetText(s)
}

// body returns the body bytes (a fresh copy of the editor's text).
func (c *ComposePanel) bodyBytes() []byte {
	if c.bodyBin != nil {
		return c.bodyBin
	}
	return []byte(c.body.Text)
}

func (c *ComposePanel) onBody() {
	n := len(c.body.Text)
	if c.bodyBin != nil {
		n = len(c.bodyBin)
	}
	switch {
	case c.bodyBin != nil:
		c.bodySize.SetText(fmt.Sprintf("%s from %s", session.FormatBytes(int64(n)), c.bodyName))
	case n == 0:
		c.bodySize.SetText("empty")
	case n == 1:
		c.bodySize.SetText("1 byte")
	default:
		c.bodySize.SetText(strconv.Itoa(n) + " bytes")
	}
	c.check()
}

// Snapshot copies the form into a session.Input: the values a worker may
// use. It fails when the request id cannot be read.
func (c *ComposePanel) Snapshot() (session.Input, error) {
	id, err := parseRequestID(c.reqID.Text)
	h := c.http.Input()
	h = mergeHTTPBase(c.httpBase, h)
	h.ContentType = strings.TrimSpace(c.ctype.Text) // sent as a header line (HeaderLines), kept apart
	in := session.Input{
		Mode:      c.mode,
		Role:      c.Role(),
		KeepConn:  c.keep.Checked,
		RequestID: id,
		Params:    c.raw.Items(),
		HTTP:      &h,
		Body:      c.bodyBytes(),
		DataFile:  strings.TrimSpace(c.dataFile.Text),
	}
	return in, err
}

// check re-runs the checks of the request off the UI goroutine and shows
// the preview and the warnings when they come back (the last ones win).
func (c *ComposePanel) check() {
	if c.warnBox == nil {
		return // still building
	}
	c.setLinesTitle()
	c.checkGen++
	gen := c.checkGen
	in, idErr := c.Snapshot()
	mode := c.mode
	ctx := c.base
	if c.OnChange != nil {
		c.OnChange()
	}
	var prepare func(session.Input) (session.Input, error)
	if c.Prepare != nil {
		prepare = c.Prepare()
	}
	go func() {
		var prepErr error
		if prepare != nil {
			if sub, err := prepare(in); err != nil {
				prepErr = err
			} else {
				in = sub
			}
		}
		params, errs, warns := checkInput(ctx, in)
		if prepErr != nil {
			errs = append([]string{prepErr.Error()}, errs...)
		}
		if idErr != nil {
			errs = append([]string{idErr.Error()}, errs...)
		}
		c.do(func() {
			if gen != c.checkGen {
				return
			}
			if mode == session.ModeHTTP {
				c.httpPs = params
				c.http.SetPreview(params)
				c.previewTab.Text = fmt.Sprintf("Preview (%d)", len(params))
				c.tabs.Refresh()
			}
			c.setProblems(errs, warns)
		})
	}()
}

// setProblems shows errors (the request cannot be sent) and warnings.
func (c *ComposePanel) setProblems(errs, warns []string) {
	c.errs, c.warns = errs, warns
	var objs []fyne.CanvasObject
	line := func(icon fyne.Resource, text string, imp widget.Importance) fyne.CanvasObject {
		// Secondary text; secondary() would change only a LowImportance
		// label's colour, so the others are plain labels.
		var msg fyne.CanvasObject = wrapLabel(text, imp)
		if imp == widget.LowImportance {
			t := newMutedText(text)
			t.Wrapping = fyne.TextWrapWord
			msg = t
		}
		return container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, msg)
	}
	for _, e := range errs {
		objs = append(objs, line(theme.NewErrorThemedResource(theme.ErrorIcon()), e, widget.DangerImportance))
	}
	for _, w := range warns {
		objs = append(objs, line(theme.NewWarningThemedResource(theme.WarningIcon()), w, widget.WarningImportance))
	}
	if len(objs) == 0 {
		objs = append(objs, line(theme.NewSuccessThemedResource(theme.ConfirmIcon()), "No problems found", widget.LowImportance))
	}
	c.warnBox.Objects = objs
	c.warnBox.Refresh()
}

// Problems returns the errors and warnings shown under the form.
func (c *ComposePanel) Problems() (errs, warns []string) { return c.errs, c.warns }

// ImportHTTP replaces the Raw params with the HTTP preview's.
func (c *ComposePanel) ImportHTTP() {
	items := make([]session.RawParam, len(c.httpPs))
	for i, p := range c.httpPs {
		items[i] = session.RawParam{Name: p.Name, Value: p.Value, Enabled: true}
	}
	c.raw.SetItems(items)
}

// FillContentParams sets CONTENT_LENGTH in the Raw params to the body's
// length, and CONTENT_TYPE to the content type when one is typed.
func (c *ComposePanel) FillContentParams() {
	items := c.raw.Items()
	set := func(name, value string) {
		for i := range items {
			if items[i].Name == name {
				items[i].Value, items[i].Enabled = value, true
				return
			}
		}
		items = append(items, session.RawParam{Name: name, Value: value, Enabled: true})
	}
	set("CONTENT_LENGTH", strconv.Itoa(len(c.bodyBytes())))
	if ct := strings.TrimSpace(c.ctype.Text); ct != "" {
		set("CONTENT_TYPE", ct)
	}
	c.raw.SetItems(items)
}

// PasteParams appends the params read from text and returns how many were
// added and the lines that could not be read.
func (c *ComposePanel) PasteParams(text string) (int, []string) {
	ps, bad := parseParamLines(text)
	if len(ps) > 0 {
		c.raw.Add(ps...)
	}
	return len(ps), bad
}

func (c *ComposePanel) showPaste() {
	area := newPasteArea()
	d := dialog.NewCustomConfirm("Paste params", "Add", "Cancel", pasteDialogContent(area), func(ok bool) {
		if !ok {
			return
		}
		_, bad := c.PasteParams(area.Text)
		if len(bad) > 0 {
			dialog.ShowInformation("Some lines were skipped",
				"These lines are not NAME=VALUE:\n"+strings.Join(bad[:min(len(bad), 10)], "\n"), c.win)
		}
	}, c.win)
	d.Resize(fyne.NewSize(640, 420))
	d.Show()
}

// loadBody opens a file chooser and loads the chosen file as the body, off
// the UI goroutine.
func (c *ComposePanel) loadBody() {
	dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			dialog.ShowError(err, c.win)
			return
		}
		if rc == nil {
			return
		}
		c.loadGen++
		gen := c.loadGen
		name := rc.URI().Name()
		c.bodySize.SetText("loading " + name + "…")
		go func() {
			defer rc.Close()
			data, err := io.ReadAll(io.LimitReader(rc, maxBodyFile+1))
			c.do(func() {
				if gen != c.loadGen {
					return
				}
				c.applyBodyFile(name, data, err)
			})
		}()
	}, c.win)
}

// applyBodyFile puts a loaded file in the body: text in the editor, a
// binary or large file aside (the editor then says so).
func (c *ComposePanel) applyBodyFile(name string, data []byte, err error) {
	switch {
	case err != nil:
		dialog.ShowError(fmt.Errorf("cannot read %s: %w", name, err), c.win)
		c.onBody()
	case len(data) > maxBodyFile:
		dialog.ShowError(fmt.Errorf("%s is larger than %s", name, session.FormatBytes(maxBodyFile)), c.win)
		c.onBody()
	case len(data) <= maxBodyEdit && utf8.Valid(data):
		c.SetBody(string(data))
	default:
		c.bodyBin, c.bodyName = data, name
		c.body.SetText(fmt.Sprintf("%s: %s of binary or large content, sent as is.\nClear to type a body instead.", name, session.FormatBytes(int64(len(data)))))
		c.body.Disable()
		c.onBody()
	}
}

func (c *ComposePanel) clearBody() {
	c.SetBody("")
}

// chooseDataFile picks the FILTER role's data file.
func (c *ComposePanel) chooseDataFile() {
	dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		path := rc.URI().Path()
		rc.Close() // only the path is needed; the file is read when sent
		c.dataFile.SetText(path)
	}, c.win)
}
