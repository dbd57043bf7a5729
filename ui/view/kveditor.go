// KVEditor: an editable, ordered list of name/value rows (the compose side's headers and Raw params, the environments' variables), with an enable check, move up/down and remove per row.

package view

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
)

// KeyHandler takes the keys that the entries of a widget hand on to the
// window rather than keep: a focused entry receives shortcuts before the
// window does.
type KeyHandler interface {
	// Shortcut runs the window's action for s, if it has one, and reports
	// whether it did.
	Shortcut(s fyne.Shortcut) bool
	// Escape runs the window's action for the Escape key and reports
	// whether it did something.
	Escape() bool
}

// KVEditor edits an ordered list of name/value rows. Order and duplicates
// are kept: they matter on the wire. Row widgets are positional: row i
// always shows item i, so that moving a row moves values, not widgets, and
// no widget the user may be tapping is replaced; rows are added or dropped
// at the end only.
//
// Set the fields before the editor is first shown; Items, SetItems and
// the row operations work at any time.
type KVEditor struct {
	widget.BaseWidget

	// Toggle adds an "enabled" check at the start of each row.
	Toggle bool
	// Reorder adds move up and move down buttons to each row.
	Reorder bool
	// Header shows a Name / Value line over the rows.
	Header bool
	// NameHint and ValueHint are the entries' placeholders.
	NameHint, ValueHint string
	// Empty is shown when there are no rows.
	Empty string
	// AddText, when set, labels a button after the last row that adds an
	// empty row and puts the cursor in its name.
	AddText string
	// Keys, when set, receives the Ctrl+Enter and Escape typed in the
	// editor's entries.
	Keys KeyHandler
	// OnChanged is called after every change of the rows, typed or made
	// through a method.
	OnChanged func()

	items   []session.RawParam
	share   float32 // of a row's middle the name takes
	rows    []*kvRow
	box     *fyne.Container
	hint    *widget.RichText
	scroll  *container.Scroll // of the rows, once rendered
	syncing bool
}

// kvRow is the widgets of one row.
type kvRow struct {
	on               *widget.Check
	name, value      *keyEntry
	up, down, remove *widget.Button
	obj              fyne.CanvasObject
}

// NewKVEditor returns an editor without rows.
func NewKVEditor() *KVEditor {
	e := &KVEditor{box: container.NewVBox(), share: kvNameShare}
	e.hint = mutedText("", fyne.TextStyle{}, fyne.TextAlignCenter)
	e.hint.Wrapping = fyne.TextWrapWord
	e.ExtendBaseWidget(e)
	return e
}

// Items returns a copy of the rows.
func (e *KVEditor) Items() []session.RawParam {
	return append([]session.RawParam(nil), e.items...)
}

// SetItems replaces the rows.
func (e *KVEditor) SetItems(items []session.RawParam) {
	e.items = append([]session.RawParam(nil), items...)
	e.sync()
	e.changed()
}

// Add appends rows.
func (e *KVEditor) Add(items ...session.RawParam) {
	e.items = append(e.items, items...)
	e.sync()
	e.changed()
}

// Remove deletes row i.
func (e *KVEditor) Remove(i int) {
	if i < 0 || i >= len(e.items) {
		return
	}
	e.items = append(e.items[:i], e.items[i+1:]...)
	e.sync()
	e.changed()
}

// MoveRow moves row i by delta places (-1 up, +1 down).
func (e *KVEditor) MoveRow(i, delta int) {
	j := i + delta
	if i < 0 || i >= len(e.items) || j < 0 || j >= len(e.items) {
		return
	}
	e.items[i], e.items[j] = e.items[j], e.items[i]
	e.sync()
	e.changed()
}

// Len returns the number of rows.
func (e *KVEditor) Len() int { return len(e.items) }

// NameEntry and ValueEntry return the entries of row i, to focus or type
// in; nil when there is no row i.
func (e *KVEditor) NameEntry(i int) fyne.Focusable {
	if i < 0 || i >= len(e.rows) {
		return nil
	}
	return e.rows[i].name
}

// ValueEntry returns the value entry of row i; nil when there is none.
func (e *KVEditor) ValueEntry(i int) fyne.Focusable {
	if i < 0 || i >= len(e.rows) {
		return nil
	}
	return e.rows[i].value
}

// FocusName gives the keyboard focus to the name entry of row i, when the
// editor is on a canvas.
func (e *KVEditor) FocusName(i int) {
	if i < 0 || i >= len(e.rows) {
		return
	}
	if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
		c.Focus(e.rows[i].name)
	}
}

// Refresh shows the rows and the hint again.
func (e *KVEditor) Refresh() {
	e.sync()
	e.BaseWidget.Refresh()
}

func (e *KVEditor) changed() {
	if e.OnChanged != nil {
		e.OnChanged()
	}
}

// sync makes the row widgets show the items: it adds or drops rows at the
// end and sets every row's values.
func (e *KVEditor) sync() {
	e.syncing = true
	defer func() { e.syncing = false }()
	n := len(e.rows)
	defer func() {
		if len(e.rows) != n && e.scroll != nil {
			e.scroll.Refresh() // lays the rows out again
		}
	}()
	for len(e.rows) < len(e.items) {
		r := e.newRow(len(e.rows))
		e.rows = append(e.rows, r)
		e.box.Add(r.obj)
	}
	if len(e.rows) > len(e.items) {
		for _, r := range e.rows[len(e.items):] {
			e.box.Remove(r.obj)
		}
		e.rows = e.rows[:len(e.items)]
	}
	for i, r := range e.rows {
		it := e.items[i]
		if r.name.Text != it.Name {
			r.name.SetText(it.Name)
		}
		if r.value.Text != it.Value {
			r.value.SetText(it.Value)
		}
		if r.on != nil && r.on.Checked != it.Enabled {
			r.on.SetChecked(it.Enabled)
		}
		if r.up != nil {
			setEnabled(r.up, i > 0)
			setEnabled(r.down, i < len(e.rows)-1)
		}
	}
	if seg := e.hint.Segments[0].(*widget.TextSegment); seg.Text != e.Empty {
		seg.Text = e.Empty
		e.hint.Refresh()
	}
	if hidden := len(e.items) > 0; e.hint.Hidden != hidden {
		e.hint.Hidden = hidden
		e.hint.Refresh()
	}
}

// newRow builds the widgets of row i.
func (e *KVEditor) newRow(i int) *kvRow {
	r := &kvRow{name: newKeyEntry(e.Keys, e.NameHint), value: newKeyEntry(e.Keys, e.ValueHint)}
	r.name.OnChanged = func(s string) {
		if !e.syncing && i < len(e.items) {
			e.items[i].Name = s
			e.changed()
		}
	}
	r.value.OnChanged = func(s string) {
		if !e.syncing && i < len(e.items) {
			e.items[i].Value = s
			e.changed()
		}
	}
	var left fyne.CanvasObject
	if e.Toggle {
		r.on = widget.NewCheck("", func(on bool) {
			if !e.syncing && i < len(e.items) {
				e.items[i].Enabled = on
				e.changed()
			}
		})
		left = r.on
	}
	r.remove = iconButton(theme.DeleteIcon(), func() { e.Remove(i) })
	right := container.NewHBox(r.remove)
	if e.Reorder {
		r.up = iconButton(theme.MoveUpIcon(), func() { e.MoveRow(i, -1) })
		r.down = iconButton(theme.MoveDownIcon(), func() { e.MoveRow(i, 1) })
		right = container.NewHBox(r.up, r.down, r.remove)
	}
	r.obj = container.NewBorder(nil, nil, left, right, container.New(kvColumns{e}, r.name, r.value))
	return r
}

// header returns the Name / Value line, lined up with the rows: spacers
// as wide as a row's leading check and trailing buttons.
func (e *KVEditor) header() fyne.CanvasObject {
	spacer := func(w float32) fyne.CanvasObject {
		r := canvas.NewRectangle(color.Transparent)
		r.SetMinSize(fyne.NewSize(w, 1))
		return r
	}
	title := func(s string) fyne.CanvasObject {
		return mutedText(s, fyne.TextStyle{Bold: true}, fyne.TextAlignLeading)
	}
	var left fyne.CanvasObject
	if e.Toggle {
		left = spacer(widget.NewCheck("", nil).MinSize().Width)
	}
	n := 1
	if e.Reorder {
		n = 3
	}
	b := iconButton(theme.DeleteIcon(), nil).MinSize().Width
	right := spacer(float32(n)*b + float32(n-1)*theme.Padding())
	border := newColumnHandle(e.dragBorder)
	return container.NewBorder(nil, nil, left, right, container.New(kvColumns{e}, title("Name"), title("Value"), border))
}

// NameShare returns the share of a row's middle the names take.
func (e *KVEditor) NameShare() float32 { return e.share }

// dragBorder moves the border between the names and the values by dx.
func (e *KVEditor) dragBorder(dx float32) {
	w := e.box.Size().Width
	if len(e.rows) > 0 {
		w = e.rows[0].name.Size().Width + e.rows[0].value.Size().Width
	}
	if w <= 0 {
		return
	}
	e.share = min(max(e.share+dx/w, 0.15), 0.85)
	e.box.Refresh()
	if e.scroll != nil {
		e.scroll.Refresh()
	}
	e.BaseWidget.Refresh()
}

// CreateRenderer lays the editor out: the header, then the rows in a
// vertical scroll, so that many rows never make the editor taller.
func (e *KVEditor) CreateRenderer() fyne.WidgetRenderer {
	e.sync()
	var top fyne.CanvasObject
	if e.Header {
		top = e.header()
	}
	rows := container.NewVBox(e.box, e.hint)
	if e.AddText != "" {
		add := widget.NewButtonWithIcon(e.AddText, theme.ContentAddIcon(), func() {
			e.Add(session.RawParam{Enabled: true})
			e.FocusName(len(e.rows) - 1)
		})
		add.Importance = widget.LowImportance
		rows.Add(container.NewHBox(add))
	}
	e.scroll = container.NewVScroll(rows)
	return widget.NewSimpleRenderer(container.NewBorder(top, nil, nil, nil, e.scroll))
}

// kvColumns shares a row's middle between the name (45% at first; the
// header's border drags) and the value; a third object, the header's
// border, goes in the gap between them.
type kvColumns struct{ e *KVEditor }

const kvNameShare = 0.45

func (l kvColumns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) < 2 {
		return
	}
	gap := columnGap()
	nw := (size.Width - gap) * l.e.share
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(nw, size.Height))
	objs[1].Move(fyne.NewPos(nw+gap, 0))
	objs[1].Resize(fyne.NewSize(size.Width-nw-gap, size.Height))
	if len(objs) > 2 {
		objs[2].Move(fyne.NewPos(nw, 0))
		objs[2].Resize(fyne.NewSize(gap, size.Height))
	}
}

func (kvColumns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(160, h)
}

// keyEntry is a single-line monospace entry that hands Ctrl+Enter and
// Escape to a KeyHandler.
type keyEntry struct {
	widget.Entry
	keys KeyHandler
}

func newKeyEntry(keys KeyHandler, placeholder string) *keyEntry {
	e := &keyEntry{keys: keys}
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.PlaceHolder = placeholder
	e.Wrapping = fyne.TextWrap(fyne.TextTruncateClip)
	e.ExtendBaseWidget(e)
	return e
}

// TypedShortcut hands the shortcut to the key handler first.
func (e *keyEntry) TypedShortcut(s fyne.Shortcut) {
	if e.keys != nil && e.keys.Shortcut(s) {
		return
	}
	e.Entry.TypedShortcut(s)
}

// TypedKey hands Escape to the key handler first.
func (e *keyEntry) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape && e.keys != nil && e.keys.Escape() {
		return
	}
	e.Entry.TypedKey(k)
}

// iconButton returns a quiet button showing only an icon.
func iconButton(icon fyne.Resource, tapped func()) *widget.Button {
	b := widget.NewButtonWithIcon("", icon, tapped)
	b.Importance = widget.LowImportance
	return b
}

func setEnabled(w fyne.Disableable, on bool) {
	if on == !w.Disabled() {
		return
	}
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// mutedText returns secondary text: one line in the theme's placeholder
// colour, which reads well on the light and the dark variant alike.
func mutedText(text string, style fyne.TextStyle, align fyne.TextAlign) *widget.RichText {
	t := widget.NewRichText(&widget.TextSegment{Text: text, Style: widget.RichTextStyle{
		ColorName: theme.ColorNamePlaceHolder, Inline: true, SizeName: theme.SizeNameText, TextStyle: style, Alignment: align}})
	return t
}
