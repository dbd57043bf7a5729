// Main menu and workbench: the presets and history sidebar, the environments, imports and exports put together, and the File / View / Help menus that reach them.

package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// Preference keys of the sidebar.
const (
	PrefViewPresets = "view.presets"  // the presets panel is shown
	PrefViewHistory = "view.history"  // the history panel is shown
	PrefSplitSide   = "split.sidebar" // sidebar | window
	PrefSplitLists  = "split.lists"   // presets / history
	PrefSplitLive   = "split.live"    // presets and history / live
)

// Menu shortcuts.
var (
	shortcutNew    = &desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutSave   = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutSaveAs = &desktop.CustomShortcut{KeyName: fyne.KeyS, Modifier: fyne.KeyModifierShortcutDefault | fyne.KeyModifierShift}
	shortcutOpen   = &desktop.CustomShortcut{KeyName: fyne.KeyO, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutQuit   = &desktop.CustomShortcut{KeyName: fyne.KeyQ, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutSide   = &desktop.CustomShortcut{KeyName: fyne.KeyB, Modifier: fyne.KeyModifierShortcutDefault}
	shortcutHist   = &desktop.CustomShortcut{KeyName: fyne.KeyH, Modifier: fyne.KeyModifierShortcutDefault}
)

// workbenchLinks are what the workbench needs from the window.
type workbenchLinks struct {
	compose composeLink
	history historyLink
	interop interopLink
	live    liveLink
	// quit ends the app (after the unsaved-changes question); nil means
	// App.Quit.
	quit func()
}

// Workbench puts the presets, history, environments, imports and exports
// together with the main menu. Its methods run on the UI goroutine.
type Workbench struct {
	app   fyne.App
	win   fyne.Window
	prefs fyne.Preferences
	do    func(func())
	links workbenchLinks

	Presets *PresetsPanel
	History *HistoryPanel
	Envs    *EnvironmentsPanel
	Interop *Interop
	Live    *LivePanel

	lists   *container.Split // presets / history
	sidebar fyne.CanvasObject
	bar     fyne.CanvasObject // the strip of panel toggles at the window's left edge
	barBtns *fyne.Container   // its buttons
	menu    *fyne.MainMenu

	outer                           *container.Split // presets and history / live
	presetsBtn, historyBtn, liveBtn *widget.Button

	// OnViewChanged is called after the presets or history panel is shown
	// or hidden.
	OnViewChanged func()

	viewPresets, viewHistory, viewLive *fyne.MenuItem
}

// newWorkbench builds the panels; Start opens the folders.
func newWorkbench(ctx context.Context, a fyne.App, win fyne.Window, do func(func()), links workbenchLinks) *Workbench {
	w := &Workbench{app: a, win: win, prefs: a.Preferences(), do: do, links: links}
	w.Presets = newPresetsPanel(win, w.prefs, do, links.compose)
	w.History = newHistoryPanel(a, win, w.prefs, do, links.history)
	w.Envs = newEnvironmentsPanel(win, do)
	w.Presets.OnStore = w.Envs.SetStore
	if links.interop.applier == nil {
		links.interop.applier = w.Envs.Applier
	}
	if links.interop.replace == nil {
		links.interop.replace = w.Presets.NewRequestWith
	}
	w.links = links
	w.Interop = newInterop(ctx, win, do, links.interop)
	w.Live = newLivePanel(ctx, win, w.prefs, do, links.live)

	w.lists = container.NewVSplit(container.NewPadded(w.Presets.Content()), container.NewPadded(w.History.Content()))
	w.lists.Offset = prefFraction(w.prefs, PrefSplitLists, 0.45)
	// The sidebar scrolls sideways rather than widen the window when it is
	// made narrower than its panels.
	w.outer = container.NewVSplit(w.lists, container.NewPadded(w.Live.Content()))
	w.outer.Offset = prefFraction(w.prefs, PrefSplitLive, 0.35)
	w.sidebar = container.NewHScroll(w.outer)
	w.presetsBtn = widget.NewButtonWithIcon("", theme.FolderIcon(), func() { w.ShowPresets(!w.PresetsShown()) })
	w.historyBtn = widget.NewButtonWithIcon("", theme.HistoryIcon(), func() { w.ShowHistory(!w.HistoryShown()) })
	w.liveBtn = widget.NewButtonWithIcon("", theme.MediaRecordIcon(), func() { w.ShowLive(!w.LiveShown()) })
	w.barBtns = container.NewVBox(w.presetsBtn, w.historyBtn, w.liveBtn)
	w.bar = container.NewHBox(w.barBtns, widget.NewSeparator())
	w.menu = w.buildMenu()
	w.applyView()
	return w
}

// Start opens the presets folder and the history.
func (w *Workbench) Start(historyDir string) {
	w.Presets.Open("")
	w.History.Open(historyDir)
}

// Sidebar returns the presets / history column; it hides when both are
// closed.
func (w *Workbench) Sidebar() fyne.CanvasObject { return w.sidebar }

// ActivityBar returns the strip at the window's left edge that opens and
// closes the presets and the history.
func (w *Workbench) ActivityBar() fyne.CanvasObject { return w.bar }

// AddToBar adds b under the activity bar's buttons.
func (w *Workbench) AddToBar(b fyne.CanvasObject) { w.barBtns.Add(b) }

// Menu returns the main menu.
func (w *Workbench) Menu() *fyne.MainMenu { return w.menu }

// SavePrefs remembers the sidebar's split.
func (w *Workbench) SavePrefs() {
	w.prefs.SetFloat(PrefSplitLists, w.lists.Offset)
	w.prefs.SetFloat(PrefSplitLive, w.outer.Offset)
}

// ShowPresets and ShowHistory show or hide the sidebar's panels.
func (w *Workbench) ShowPresets(on bool) { w.prefs.SetBool(PrefViewPresets, on); w.applyView() }

// ShowHistory shows or hides the history panel.
func (w *Workbench) ShowHistory(on bool) { w.prefs.SetBool(PrefViewHistory, on); w.applyView() }

// ShowLive shows or hides the Live panel.
func (w *Workbench) ShowLive(on bool) { w.prefs.SetBool(PrefViewLive, on); w.applyView() }

// LiveShown reports whether the Live panel is shown.
func (w *Workbench) LiveShown() bool { return w.prefs.Bool(PrefViewLive) }

// OpenCapture opens the Live panel and the Open capture dialog.
func (w *Workbench) OpenCapture() {
	w.ShowLive(true)
	w.Live.ShowOpenCapture()
}

// PresetsShown reports whether the presets panel is shown. Both panels
// start closed, so that the first window keeps its full width for the
// request and the response.
func (w *Workbench) PresetsShown() bool { return w.prefs.Bool(PrefViewPresets) }

// HistoryShown reports whether the history panel is shown.
func (w *Workbench) HistoryShown() bool { return w.prefs.Bool(PrefViewHistory) }

// applyView shows the panels the preferences ask for; the sidebar hides
// when neither is shown.
func (w *Workbench) applyView() {
	p, h, l := w.PresetsShown(), w.HistoryShown(), w.LiveShown()
	show := func(o fyne.CanvasObject, on bool) {
		if on {
			o.Show()
		} else {
			o.Hide()
		}
	}
	show(w.lists.Leading, p)
	show(w.lists.Trailing, h)
	show(w.lists, p || h)
	show(w.outer.Trailing, l)
	show(w.sidebar, p || h || l)
	for _, b := range []struct {
		btn *widget.Button
		on  bool
	}{{w.presetsBtn, p}, {w.historyBtn, h}, {w.liveBtn, l}} {
		b.btn.Importance = widget.LowImportance
		if b.on {
			b.btn.Importance = widget.HighImportance
		}
		b.btn.Refresh()
	}
	if w.viewPresets != nil {
		w.viewPresets.Checked, w.viewHistory.Checked, w.viewLive.Checked = p, h, l
		w.menu.Refresh()
	}
	if p || h || l { // hidden, the panels are laid out when shown
		w.outer.Refresh()
	}
	if w.OnViewChanged != nil {
		w.OnViewChanged()
	}
}

// buildMenu returns File, View and Help.
func (w *Workbench) buildMenu() *fyne.MainMenu {
	item := func(label string, sc fyne.Shortcut, action func()) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, action)
		it.Shortcut = sc
		return it
	}
	importMenu := fyne.NewMenuItem("Import", nil)
	importMenu.Icon = theme.DownloadIcon()
	importMenu.ChildMenu = fyne.NewMenu("",
		fyne.NewMenuItem("nginx fastcgi_params…", w.Interop.ImportNginx),
		fyne.NewMenuItem("cgi-fcgi command line…", w.Interop.ImportCGIFCGI))
	exportMenu := fyne.NewMenuItem("Export", nil)
	exportMenu.Icon = theme.UploadIcon()
	export := func(format string) func() { return func() { w.Interop.Export(format) } }
	exportMenu.ChildMenu = fyne.NewMenu("",
		fyne.NewMenuItem("cgi-fcgi command…", export(FormatCGIFCGI)),
		fyne.NewMenuItem("fcgiscope send command…", export(FormatSend)),
		fyne.NewMenuItem("fcgiscope send command, HTTP mode…", export(FormatSendHTTP)),
		fyne.NewMenuItem("HAR 1.2 file…", export(FormatHAR)),
		fyne.NewMenuItem("Exchange file (JSON)…", export(FormatExchange)))
	quit := item("Quit", shortcutQuit, w.Quit)
	quit.IsQuit = true
	file := fyne.NewMenu("File",
		item("New request", shortcutNew, w.Presets.NewRequest),
		fyne.NewMenuItem("Open preset folder…", w.Presets.ChooseFolder),
		item("Save preset", shortcutSave, w.Presets.Save),
		item("Save preset as…", shortcutSaveAs, w.Presets.SaveAs),
		fyne.NewMenuItemSeparator(),
		importMenu,
		exportMenu,
		item("Open Exchange file…", shortcutOpen, w.Interop.OpenExchangeFile),
		fyne.NewMenuItem("Open capture…", w.OpenCapture),
		fyne.NewMenuItemSeparator(),
		quit)

	w.viewPresets = item("Presets", shortcutSide, func() { w.ShowPresets(!w.PresetsShown()) })
	w.viewHistory = item("History", shortcutHist, func() { w.ShowHistory(!w.HistoryShown()) })
	w.viewLive = fyne.NewMenuItem("Live", func() { w.ShowLive(!w.LiveShown()) })
	view := fyne.NewMenu("View",
		w.viewPresets,
		w.viewHistory,
		w.viewLive,
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Environments…", w.Envs.ShowEditor),
		fyne.NewMenuItem("History settings…", w.History.ShowSettings),
		fyne.NewMenuItem("Clear history…", w.History.AskClear))
	edit := fyne.NewMenu("Edit", w.Interop.copyItems("Copy ")...)
	help := fyne.NewMenu("Help",
		fyne.NewMenuItem("Keyboard shortcuts", w.ShowShortcuts),
		fyne.NewMenuItem("About fcgiscope", w.ShowAbout))
	return fyne.NewMainMenu(file, edit, view, help)
}

// Quit ends the app, asking about unsaved changes first.
func (w *Workbench) Quit() {
	w.Presets.Guard(func() {
		if w.links.quit != nil {
			w.links.quit()
			return
		}
		w.app.Quit()
	})
}

// shortcutText writes a shortcut as the menus show it.
func shortcutText(s *desktop.CustomShortcut) string {
	var parts []string
	if s.Modifier&fyne.KeyModifierShortcutDefault != 0 {
		parts = append(parts, "Ctrl")
	}
	if s.Modifier&fyne.KeyModifierShift != 0 {
		parts = append(parts, "Shift")
	}
	key := string(s.KeyName)
	if s.KeyName == fyne.KeyReturn {
		key = "Enter"
	}
	return strings.Join(append(parts, key), "+")
}

// Shortcuts lists the keyboard shortcuts: keys, then what they do.
func Shortcuts() [][2]string {
	return [][2]string{
		{shortcutText(sendShortcut), "Send the request"},
		{"Esc", "Cancel the request in flight (ABORT_REQUEST)"},
		{shortcutText(shortcutNew), "New request"},
		{shortcutText(shortcutSave), "Save the preset (asks a name the first time)"},
		{shortcutText(shortcutSaveAs), "Save the preset under another name"},
		{shortcutText(shortcutOpen), "Open an Exchange file"},
		{shortcutText(shortcutSide), "Show or hide the presets"},
		{shortcutText(shortcutHist), "Show or hide the history"},
		{shortcutText(shortcutQuit), "Quit"},
	}
}

// ShowShortcuts shows the keyboard shortcuts.
func (w *Workbench) ShowShortcuts() {
	grid := container.New(layout.NewFormLayout())
	for _, s := range Shortcuts() {
		grid.Add(&widget.Label{Text: s[0], TextStyle: fyne.TextStyle{Monospace: true}})
		grid.Add(widget.NewLabel(s[1]))
	}
	d := dialog.NewCustom("Keyboard shortcuts", "Close", grid, w.win)
	d.Show()
}

// sentHook is what the window calls when a send has finished.
func (w *Workbench) sentHook(x *session.Exchange) {
	if x != nil && x.Finished() {
		w.History.Add(x)
	}
}

// The window's side of the workbench.

// wbInput copies the compose form and the target: what a preset holds
// (the demo backend as PresetDemoTarget).
func (in *Inspector) wbInput() (session.Input, error) {
	inp, err := in.wbCurrent()
	if in.deps.DemoAddr != "" && inp.Target == in.deps.DemoAddr {
		inp.Target = PresetDemoTarget
	}
	return inp, err
}

// wbCurrent copies the compose form and the target's real address.
func (in *Inspector) wbCurrent() (session.Input, error) {
	inp, err := in.compose.Snapshot()
	inp.Target = in.target.Address()
	return inp, err
}

// wbSetInput puts a request into the target and the compose form.
func (in *Inspector) wbSetInput(inp session.Input) {
	switch inp.Target {
	case "":
	case PresetDemoTarget:
		if in.deps.DemoAddr != "" {
			in.target.UseDemo()
		} else {
			in.target.SetAddress(inp.Target)
		}
	default:
		in.target.SetAddress(inp.Target)
	}
	in.compose.wbSetInput(inp)
}

// wbSetInput makes the form show inp exactly.
func (c *ComposePanel) wbSetInput(inp session.Input) {
	switch inp.Role {
	case fcgi.RoleAuthorizer:
		c.role.SetSelected(RoleAuthorizer)
	case fcgi.RoleFilter:
		c.role.SetSelected(RoleFilter)
	default:
		c.role.SetSelected(RoleResponder)
	}
	c.keep.SetChecked(inp.KeepConn)
	if inp.RequestID == 0 {
		c.reqID.SetText("")
	} else {
		c.reqID.SetText(strconv.Itoa(int(inp.RequestID)))
	}
	c.dataFile.SetText(inp.DataFile)
	// A request without HTTP fields (a raw lesson, an import) leaves the
	// HTTP form as a new request has it, not blank.
	h := *newRequestInput().HTTP
	if inp.HTTP != nil {
		h = *inp.HTTP
	}
	c.httpBase = h
	c.httpBase.Body, c.httpBase.BodyFile = nil, "" // the body editor holds the body
	if len(inp.Body) == 0 && len(h.Body) > 0 {
		inp.Body = h.Body
	}
	c.http.method.SetSelected(h.Method)
	c.http.url.SetText(h.URL)
	c.http.docRoot.SetText(h.DocumentRoot)
	c.http.index.SetText(h.Index)
	c.http.split.SetText(h.SplitPath)
	c.http.profile.Set(h.Profile, h.Variant)
	headers := make([]session.RawParam, len(h.Headers))
	for i, hd := range h.Headers {
		headers[i] = session.RawParam{Name: hd.Name, Value: hd.Value, Enabled: true}
	}
	c.http.headers.SetItems(headers)
	c.raw.SetItems(inp.Params)
	c.ctype.SetText(h.ContentType)
	if len(inp.Body) <= maxBodyEdit && utf8.Valid(inp.Body) {
		c.SetBody(string(inp.Body))
	} else {
		c.applyBodyFile("the preset", inp.Body, nil)
	}
	c.SetMode(inp.Mode)
}

// wbShowExchange shows x, a finished exchange from the history or a file,
// in the result panes. A send in flight is left alone.
func (in *Inspector) wbShowExchange(x *session.Exchange, origin string) {
	if in.run != nil {
		in.setState("A request is in flight: cancel it (Esc) to look at "+origin, widget.WarningImportance)
		return
	}
	in.last = x
	in.results.Reset(x)
	in.response.Reset()
	in.stderr.Reset()
	in.syncLive(x)
	in.showOutcome(x, x.Failure())
	in.results.SelectFirstParams()
	in.showStats(x, x.Timings().Total)
	in.setState(fmt.Sprintf("Showing %s from %s, sent %s", exchangeTitle(x), origin,
		x.Start().Local().Format("2006-01-02 15:04:05")), widget.MediumImportance)
}

// inputTitle names a raw request in a line: its method and URI params.
func inputTitle(inp session.Input) string {
	var method, uri string
	for _, p := range inp.Params {
		switch p.Name {
		case "REQUEST_METHOD":
			method = p.Value
		case "REQUEST_URI":
			uri = p.Value
		}
	}
	if t := strings.TrimSpace(method + " " + uri); t != "" {
		return oneLine(t)
	}
	return "the request"
}

// mergeHTTPBase returns the form's HTTP fields h over base: the fields the
// form shows come from h, the others (server name, HTTPS, remote address,
// …) from base, so that a loaded request is sent and saved as it was.
func mergeHTTPBase(base, h session.HTTPInput) session.HTTPInput {
	base.Method, base.URL, base.Headers, base.ContentType = h.Method, h.URL, h.Headers, h.ContentType
	base.DocumentRoot, base.Index, base.SplitPath = h.DocumentRoot, h.Index, h.SplitPath
	base.Profile, base.Variant = h.Profile, h.Variant
	base.Body, base.BodyFile = h.Body, h.BodyFile
	return base
}

// attachWorkbench builds the workbench for the window in.
func attachWorkbench(in *Inspector) *Workbench {
	var w *Workbench
	links := workbenchLinks{
		compose: composeLink{get: in.wbInput, set: in.wbSetInput},
		history: historyLink{show: func(x *session.Exchange, origin string) {
			in.wbShowExchange(x, origin)
			w.Live.Unshow()
		}, load: func(inp session.Input) { w.Presets.NewRequestWith(inp) }},
		interop: interopLink{current: in.wbCurrent, shown: in.Exchange, show: func(x *session.Exchange, origin string) {
			in.wbShowExchange(x, origin)
			w.History.Unshow()
			w.Live.Unshow()
		}},
		live: liveLink{
			show: func(x *session.Exchange, origin string) {
				in.wbShowExchange(x, origin)
				w.History.Unshow()
			},
			resend: func(inp session.Input) {
				w.Presets.NewRequestWith(inp)
				in.setState("Loaded "+inputTitle(inp)+" into the form in Raw mode: change what you want, then Send", widget.MediumImportance)
			},
			preset: func(inp session.Input) { w.Presets.SaveInputAs(inp) },
			history: func(x *session.Exchange) {
				w.History.Add(x)
				in.setState("Kept "+exchangeTitle(x)+" in the history", widget.SuccessImportance)
			},
			info: in.setState,
		},
		quit: func() { in.quit() },
	}
	w = newWorkbench(in.ctx, fyne.CurrentApp(), in.win, in.do, links)
	in.results.Decorate(w.Interop.CopyButton(), nil)
	w.Interop.OnInfo = func(s string) { in.setState(s, widget.MediumImportance) }
	w.Presets.OnInfo = func(s string) { in.setState(s, widget.SuccessImportance) }
	return w
}
