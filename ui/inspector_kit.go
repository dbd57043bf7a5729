// Inspector kit: the small widgets and layouts the inspector's panels share (section headers, read-only tables, entries that forward shortcuts).

package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/view"
)

// sendShortcut is Ctrl+Enter (Cmd+Enter on macOS): send the request.
var sendShortcut = &desktop.CustomShortcut{KeyName: fyne.KeyReturn, Modifier: fyne.KeyModifierShortcutDefault}

// sendShortcutKeypad is the same with the keypad's Enter key.
var sendShortcutKeypad = &desktop.CustomShortcut{KeyName: fyne.KeyEnter, Modifier: fyne.KeyModifierShortcutDefault}

// isSendShortcut reports whether s is Ctrl+Enter.
func isSendShortcut(s fyne.Shortcut) bool {
	n := s.ShortcutName()
	return n == sendShortcut.ShortcutName() || n == sendShortcutKeypad.ShortcutName()
}

// keyHooks routes the window's keys to the inspector from any entry that
// has the focus: a focused entry receives shortcuts before the canvas does.
type keyHooks struct {
	send   func()      // Ctrl+Enter
	cancel func() bool // Escape; reports whether it cancelled something
}

// Shortcut runs the hook for s and reports whether there was one.
func (k *keyHooks) Shortcut(s fyne.Shortcut) bool {
	if k == nil || k.send == nil || !isSendShortcut(s) {
		return false
	}
	k.send()
	return true
}

// Escape runs the cancel hook and reports whether it cancelled something.
func (k *keyHooks) Escape() bool {
	return k != nil && k.cancel != nil && k.cancel()
}

// hookEntry is a widget.Entry that hands Ctrl+Enter and Escape to the
// window's key hooks.
type hookEntry struct {
	widget.Entry
	keys *keyHooks
}

// newHookEntry returns a single-line entry, or a multi-line one.
func newHookEntry(keys *keyHooks, multiLine bool) *hookEntry {
	e := &hookEntry{keys: keys}
	e.MultiLine = multiLine
	if multiLine {
		e.Wrapping = fyne.TextWrapBreak
	} else {
		e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	}
	e.ExtendBaseWidget(e)
	return e
}

// newMonoEntry returns a single-line monospace entry with a placeholder.
func newMonoEntry(keys *keyHooks, placeholder string) *hookEntry {
	e := newHookEntry(keys, false)
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.PlaceHolder = placeholder
	return e
}

// TypedShortcut sends on Ctrl+Enter; other shortcuts go to the entry.
func (e *hookEntry) TypedShortcut(s fyne.Shortcut) {
	if e.keys.Shortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// TypedKey cancels a running request on Escape; other keys go to the entry.
func (e *hookEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.keys.Escape() {
		return
	}
	e.Entry.TypedKey(k)
}

// hookSelectEntry is a widget.SelectEntry that hands Ctrl+Enter and Escape
// to the window's key hooks.
type hookSelectEntry struct {
	widget.SelectEntry
	keys *keyHooks
}

func newHookSelectEntry(keys *keyHooks, options []string) *hookSelectEntry {
	e := &hookSelectEntry{keys: keys}
	e.ExtendBaseWidget(e)
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.SetOptions(options)
	view.GuardDropDown(&e.SelectEntry, e)
	return e
}

// TypedShortcut sends on Ctrl+Enter; other shortcuts go to the entry.
func (e *hookSelectEntry) TypedShortcut(s fyne.Shortcut) {
	if e.keys.Shortcut(s) {
		return
	}
	e.SelectEntry.TypedShortcut(s)
}

// TypedKey cancels a running request on Escape; other keys go to the entry.
func (e *hookSelectEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.keys.Escape() {
		return
	}
	e.SelectEntry.TypedKey(k)
}

// sectionTitle returns the bold title of a panel section.
func sectionTitle(text string) *widget.Label {
	return &widget.Label{Text: text, TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis}
}

// sectionHeader returns a section's title bar: the title, then trailing
// objects (badges, buttons) on the right.
func sectionHeader(title *widget.Label, trailing ...fyne.CanvasObject) fyne.CanvasObject {
	right := container.NewHBox(trailing...)
	return container.NewBorder(nil, nil, nil, right, title)
}

// secondaryTheme is the app's theme, except that "disabled" text — the
// colour of LowImportance labels — takes the placeholder colour, which
// reads well on both the light and the dark variant (the default disabled
// colour is nearly invisible on light). It follows the app's theme as it
// changes.
type secondaryTheme struct{}

func (secondaryTheme) current() fyne.Theme {
	if app := fyne.CurrentApp(); app != nil {
		return app.Settings().Theme()
	}
	return theme.DefaultTheme()
}

func (s secondaryTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameDisabled {
		n = theme.ColorNamePlaceHolder
	}
	return s.current().Color(n, v)
}

func (s secondaryTheme) Font(st fyne.TextStyle) fyne.Resource    { return s.current().Font(st) }
func (s secondaryTheme) Icon(n fyne.ThemeIconName) fyne.Resource { return s.current().Icon(n) }
func (s secondaryTheme) Size(n fyne.ThemeSizeName) float32       { return s.current().Size(n) }

// secondary shows the LowImportance text in obj as secondary text (see
// secondaryTheme). obj must hold labels only: a disabled button inside
// would look enabled. Text that is only ever secondary is better drawn
// with mutedText, which looks the same for less.
func secondary(obj fyne.CanvasObject) fyne.CanvasObject {
	return container.NewThemeOverride(obj, secondaryTheme{})
}

// mutedText is secondary text drawn without a theme override: what
// secondary gives a LowImportance label, in the theme's placeholder colour,
// laid out as a label lays out its text. Fyne gives every theme override a
// font cache of its own, filled by parsing the text and emoji fonts again
// when the override is first painted, and clears its text measurements and
// icons each time one is built or refreshed: the 26 overrides the first
// frame drew took a quarter of the CPU time to it.
type mutedText struct {
	widget.RichText
}

// newMutedText returns secondary text on one line, leading; the RichText
// fields (Wrapping, Truncation) and setAlign change that.
func newMutedText(text string) *mutedText {
	t := &mutedText{}
	t.ExtendBaseWidget(t)
	t.Scroll = container.ScrollNone
	t.Segments = []widget.RichTextSegment{&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		ColorName: theme.ColorNamePlaceHolder, Inline: true, SizeName: theme.SizeNameText}}}
	return t
}

// keepRoom returns o in a container that asks for o's minimum size whether
// o is shown or not, as a theme override asks for its hidden label's: a
// hidden mutedText put where a secondary label was keeps its room.
func keepRoom(o fyne.CanvasObject) fyne.CanvasObject { return withMinSize(o, 0, 0) }

// newMutedHint returns a centred, wrapped hint, as shown over an empty view.
func newMutedHint(text string) *mutedText {
	t := newMutedText(text)
	t.Wrapping = fyne.TextWrapWord
	t.setAlign(fyne.TextAlignCenter)
	return t
}

func (t *mutedText) segment() *widget.TextSegment { return t.Segments[0].(*widget.TextSegment) }

// SetText replaces the text.
func (t *mutedText) SetText(text string) {
	t.segment().Text = text
	t.Refresh()
}

// Text returns the text.
func (t *mutedText) Text() string { return t.segment().Text }

// setStyle sets the text's style (bold, monospace).
func (t *mutedText) setStyle(style fyne.TextStyle) { t.segment().Style.TextStyle = style }

// setAlign sets the text's alignment.
func (t *mutedText) setAlign(align fyne.TextAlign) { t.segment().Style.Alignment = align }

// setSize sets the text's size by its theme name.
func (t *mutedText) setSize(name fyne.ThemeSizeName) { t.segment().Style.SizeName = name }

// mutedLabel returns secondary text, dimmed; it asks for its whole width.
func mutedLabel(text string) *widget.Label {
	return &widget.Label{Text: text, Importance: widget.LowImportance}
}

// mutedLine returns secondary text, dimmed, cut with an ellipsis when the
// space it is given is too narrow (for the centre of a Border).
func mutedLine(text string) *widget.Label {
	return &widget.Label{Text: text, Importance: widget.LowImportance, Truncation: fyne.TextTruncateEllipsis}
}

// monoLabel returns monospace text cut with an ellipsis when too long.
func monoLabel(text string) *widget.Label {
	return &widget.Label{Text: text, TextStyle: fyne.TextStyle{Monospace: true}, Truncation: fyne.TextTruncateEllipsis}
}

// wrapLabel returns text that wraps at word boundaries (for messages).
func wrapLabel(text string, imp widget.Importance) *widget.Label {
	return &widget.Label{Text: text, Wrapping: fyne.TextWrapWord, Importance: imp}
}

// panelBackground returns obj on the theme's input background, the
// subtle box that sets a pane apart from the window.
func panelBackground(obj fyne.CanvasObject) fyne.CanvasObject {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.CornerRadius = theme.Size(theme.SizeNameInputRadius)
	return container.NewStack(bg, obj)
}

// pane is one titled region of the window: a header bar over its content,
// with the standard padding around.
func pane(header fyne.CanvasObject, content fyne.CanvasObject) fyne.CanvasObject {
	return container.NewBorder(container.NewVBox(header, widget.NewSeparator()), nil, nil, nil, content)
}

// insetGrid puts a text grid on the input background with a little room
// around the text, so that it reads as a document.
func insetGrid(g *widget.TextGrid) fyne.CanvasObject {
	return panelBackground(container.New(layout.NewCustomPaddedLayout(4, 4, 6, 4), g))
}

// minSizeLayout gives its objects at least a minimum size; they fill the space.
type minSizeLayout struct{ min fyne.Size }

func (m minSizeLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (m minSizeLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	s := m.min
	for _, o := range objs {
		s = s.Max(o.MinSize())
	}
	return s
}

// withMinSize wraps obj so that it asks for at least w×h.
func withMinSize(obj fyne.CanvasObject, w, h float32) *fyne.Container {
	return container.New(minSizeLayout{fyne.NewSize(w, h)}, obj)
}

// oneLine replaces line breaks and tabs so that a value stays on one row.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.NewReplacer("\r\n", "⏎", "\n", "⏎", "\r", "⏎", "\t", "⇥").Replace(s)
}

// statusImportance is statusColorName for labels.
func statusImportance(code int) widget.Importance {
	switch {
	case code >= 200 && code < 300:
		return widget.SuccessImportance
	case code >= 300 && code < 400:
		return widget.WarningImportance
	case code >= 400:
		return widget.DangerImportance
	}
	return widget.MediumImportance
}

// badge is a small rounded count or tag drawn on a coloured background.
type badge struct {
	widget.BaseWidget
	text  string
	color fyne.ThemeColorName
	label *canvas.Text
	bg    *canvas.Rectangle
}

func newBadge(text string, c fyne.ThemeColorName) *badge {
	b := &badge{text: text, color: c}
	b.ExtendBaseWidget(b)
	return b
}

// Set changes the text and colour of the badge.
func (b *badge) Set(text string, c fyne.ThemeColorName) {
	b.text, b.color = text, c
	b.Refresh()
}

// Text returns the badge's text.
func (b *badge) Text() string { return b.text }

func (b *badge) CreateRenderer() fyne.WidgetRenderer {
	b.label = canvas.NewText(b.text, color.White)
	b.label.TextStyle = fyne.TextStyle{Bold: true}
	b.bg = canvas.NewRectangle(color.Transparent)
	r := &badgeRenderer{b: b}
	r.Refresh()
	return r
}

type badgeRenderer struct{ b *badge }

func (r *badgeRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.b.bg, r.b.label}
}
func (r *badgeRenderer) Destroy() {}

func (r *badgeRenderer) MinSize() fyne.Size {
	if r.b.text == "" {
		return fyne.NewSize(0, 0)
	}
	s := r.b.label.MinSize()
	p := theme.Padding()
	return fyne.NewSize(s.Width+3*p, s.Height+p/2)
}

func (r *badgeRenderer) Layout(size fyne.Size) {
	m := r.MinSize()
	y := (size.Height - m.Height) / 2
	r.b.bg.Move(fyne.NewPos(0, y))
	r.b.bg.Resize(fyne.NewSize(size.Width, m.Height))
	ls := r.b.label.MinSize()
	r.b.label.Move(fyne.NewPos((size.Width-ls.Width)/2, y+(m.Height-ls.Height)/2))
	r.b.label.Resize(ls)
}

func (r *badgeRenderer) Refresh() {
	th := r.b.Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r.b.label.Text = r.b.text
	r.b.label.TextSize = th.Size(theme.SizeNameCaptionText)
	r.b.label.Color = th.Color(theme.ColorNameForegroundOnPrimary, v)
	switch r.b.color {
	case theme.ColorNameWarning:
		r.b.label.Color = th.Color(theme.ColorNameForegroundOnWarning, v)
	case theme.ColorNameSuccess:
		r.b.label.Color = th.Color(theme.ColorNameForegroundOnSuccess, v)
	case theme.ColorNameError:
		r.b.label.Color = th.Color(theme.ColorNameForegroundOnError, v)
	case theme.ColorNameDisabled, theme.ColorNameSeparator, theme.ColorNameInputBackground:
		r.b.label.Color = th.Color(theme.ColorNameForeground, v)
	}
	r.b.bg.FillColor = th.Color(r.b.color, v)
	r.b.bg.CornerRadius = r.MinSize().Height / 2
	r.b.label.Refresh()
	r.b.bg.Refresh()
	if r.b.text == "" {
		r.b.bg.Hide()
		r.b.label.Hide()
	} else {
		r.b.bg.Show()
		r.b.label.Show()
	}
}
