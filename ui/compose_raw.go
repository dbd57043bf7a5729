// Raw params and header editing: an editable table of name/value rows (enable toggle, move up/down, remove) and the parser behind "Paste".

package ui

import (
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
)

// kvEditorOptions chooses the columns and words of a kvEditor.
type kvEditorOptions struct {
	toggle    bool   // an "enabled" check per row
	move      bool   // move up / move down buttons per row
	nameHint  string // placeholders
	valueHint string
	empty     string // shown when there are no rows
	noHeader  bool   // no Name/Value header line
}

// kvEditor edits an ordered list of name/value rows. Row widgets are
// positional: row i always shows entry i of the model, so reordering moves
// values, not widgets. All methods must be called on the UI goroutine.
type kvEditor struct {
	opts     kvEditorOptions
	keys     *keyHooks
	items    []session.RawParam
	rows     []*kvEditRow
	box      *fyne.Container
	hint     *mutedText
	syncing  bool
	onChange func()

	content fyne.CanvasObject
}

// kvEditRow is the widgets of one row.
type kvEditRow struct {
	on               *widget.Check
	name, value      *hookEntry
	up, down, remove *widget.Button
	obj              fyne.CanvasObject
}

// kvRowLayout splits a row's middle between name and value.
type kvRowLayout struct{ nameFrac float32 }

func (l kvRowLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	if len(objs) < 2 {
		return
	}
	pad := theme.Padding()
	nw := (size.Width - pad) * l.nameFrac
	objs[0].Move(fyne.NewPos(0, 0))
	objs[0].Resize(fyne.NewSize(nw, size.Height))
	objs[1].Move(fyne.NewPos(nw+pad, 0))
	objs[1].Resize(fyne.NewSize(size.Width-nw-pad, size.Height))
}

func (l kvRowLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var h float32
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(160, h)
}

func newKVEditor(keys *keyHooks, opts kvEditorOptions, onChange func()) *kvEditor {
	e := &kvEditor{opts: opts, keys: keys, onChange: onChange, box: container.NewVBox()}
	e.hint = newMutedHint(opts.empty)
	var header fyne.CanvasObject
	if !opts.noHeader {
		header = e.newHeader()
	}
	scroll := container.NewVScroll(container.NewVBox(e.box, keepRoom(e.hint)))
	e.content = container.NewBorder(header, nil, nil, nil, scroll)
	e.sync()
	return e
}

// newHeader returns the Name / Value header, lined up with the rows:
// spacers as wide as a row's leading check and trailing buttons.
func (e *kvEditor) newHeader() fyne.CanvasObject {
	lead, trail := e.sideWidths()
	spacer := func(w float32) fyne.CanvasObject {
		r := canvas.NewRectangle(color.Transparent)
		r.SetMinSize(fyne.NewSize(w, 1))
		return r
	}
	headLabel := func(s string) fyne.CanvasObject {
		t := newMutedText(s)
		t.setStyle(fyne.TextStyle{Bold: true})
		return t
	}
	var left fyne.CanvasObject
	if e.opts.toggle {
		left = spacer(lead)
	}
	return container.NewBorder(nil, nil, left, spacer(trail),
		container.New(kvRowLayout{0.45}, headLabel("Name"), headLabel("Value")))
}

// sideWidths returns the widths of a row's leading check and trailing buttons.
func (e *kvEditor) sideWidths() (lead, trail float32) {
	lead = widget.NewCheck("", nil).MinSize().Width
	b := widget.NewButtonWithIcon("", theme.DeleteIcon(), nil).MinSize().Width
	n := 1
	if e.opts.move {
		n = 3
	}
	return lead, float32(n)*b + float32(n)*theme.Padding()
}

// Content returns the editor's canvas object.
func (e *kvEditor) Content() fyne.CanvasObject { return e.content }

// Items returns a copy of the rows.
func (e *kvEditor) Items() []session.RawParam {
	return append([]session.RawParam(nil), e.items...)
}

// SetItems replaces the rows.
func (e *kvEditor) SetItems(items []session.RawParam) {
	e.items = append([]session.RawParam(nil), items...)
	e.sync()
	e.changed()
}

// Add appends rows.
func (e *kvEditor) Add(items ...session.RawParam) {
	e.items = append(e.items, items...)
	e.sync()
	e.changed()
}

// Remove deletes row i.
func (e *kvEditor) Remove(i int) {
	if i < 0 || i >= len(e.items) {
		return
	}
	e.items = append(e.items[:i], e.items[i+1:]...)
	e.sync()
	e.changed()
}

// Move moves row i by delta places (-1 up, +1 down).
func (e *kvEditor) Move(i, delta int) {
	j := i + delta
	if i < 0 || i >= len(e.items) || j < 0 || j >= len(e.items) {
		return
	}
	e.items[i], e.items[j] = e.items[j], e.items[i]
	e.sync()
	e.changed()
}

// Len returns the number of rows.
func (e *kvEditor) Len() int { return len(e.items) }

// Row returns the widgets of row i, for tests and focus.
func (e *kvEditor) Row(i int) *kvEditRow { return e.rows[i] }

func (e *kvEditor) changed() {
	if e.onChange != nil {
		e.onChange()
	}
}

// sync makes the row widgets show the model: it adds or drops rows at the
// end and sets every row's texts.
func (e *kvEditor) sync() {
	e.syncing = true
	defer func() { e.syncing = false }()
	for len(e.rows) < len(e.items) {
		e.rows = append(e.rows, e.newRow(len(e.rows)))
		e.box.Add(e.rows[len(e.rows)-1].obj)
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
	e.hint.Hidden = len(e.items) > 0
	e.hint.Refresh()
}

// newRow builds the widgets of row i.
func (e *kvEditor) newRow(i int) *kvEditRow {
	r := &kvEditRow{name: newMonoEntry(e.keys, e.opts.nameHint), value: newMonoEntry(e.keys, e.opts.valueHint)}
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
	if e.opts.toggle {
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
	if e.opts.move {
		r.up = iconButton(theme.MoveUpIcon(), func() { e.Move(i, -1) })
		r.down = iconButton(theme.MoveDownIcon(), func() { e.Move(i, 1) })
		right = container.NewHBox(r.up, r.down, r.remove)
	}
	r.obj = container.NewBorder(nil, nil, left, right, container.New(kvRowLayout{0.45}, r.name, r.value))
	return r
}

// iconButton returns a quiet button showing only an icon.
func iconButton(icon fyne.Resource, tapped func()) *widget.Button {
	b := widget.NewButtonWithIcon("", icon, tapped)
	b.Importance = widget.LowImportance
	return b
}

func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}

// parseParamLines reads params pasted as text, one per line: NAME=VALUE,
// "NAME: VALUE", or nginx's "fastcgi_param NAME VALUE;". Blank lines and
// lines starting with # are skipped; lines it cannot read come back in bad
// with their line numbers.
func parseParamLines(text string) (params []session.RawParam, bad []string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for n, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		name, value, ok := "", "", false
		if rest, isNginx := strings.CutPrefix(trimmed, "fastcgi_param"); isNginx && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			rest = strings.TrimSuffix(strings.TrimSpace(rest), ";")
			name, value, _ = strings.Cut(strings.TrimSpace(rest), " ")
			value = strings.Trim(strings.TrimSpace(value), `"'`)
			ok = name != ""
		} else if i := strings.IndexAny(line, "=:"); i > 0 {
			name = strings.TrimSpace(line[:i])
			value = line[i+1:]
			if line[i] == ':' {
				value = strings.TrimLeft(value, " \t")
			}
			ok = name != "" && !strings.ContainsAny(name, " \t")
		}
		if !ok {
			bad = append(bad, fmt.Sprintf("line %d: %q", n+1, trimmed))
			continue
		}
		params = append(params, session.RawParam{Name: name, Value: value, Enabled: true})
	}
	return params, bad
}

// pasteHelp is the text of the Paste dialog.
const pasteHelp = "One param per line: NAME=VALUE, NAME: VALUE, or nginx's fastcgi_param NAME VALUE;"

// newPasteArea returns the multi-line entry of the Paste dialog.
func newPasteArea() *widget.Entry {
	e := widget.NewMultiLineEntry()
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.PlaceHolder = "SCRIPT_FILENAME=/var/www/html/index.php\nREQUEST_METHOD=GET\nQUERY_STRING=a=1"
	e.SetMinRowsVisible(12)
	return e
}

// pasteDialogContent lays out the Paste dialog.
func pasteDialogContent(area *widget.Entry) fyne.CanvasObject {
	return container.NewBorder(secondary(wrapLabel(pasteHelp, widget.LowImportance)), nil, nil, nil, withMinSize(area, 560, 0))
}
