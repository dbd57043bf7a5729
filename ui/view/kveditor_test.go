package view_test

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/ui/view"
)

// buttons returns the buttons shown in o showing icon, in order.
func buttons(o fyne.CanvasObject, icon fyne.Resource) []*widget.Button {
	var out []*widget.Button
	for _, obj := range test.LaidOutObjects(o) {
		if b, ok := obj.(*widget.Button); ok && b.Visible() && b.Icon != nil && b.Icon.Name() == icon.Name() {
			out = append(out, b)
		}
	}
	return out
}

func checks(o fyne.CanvasObject) []*widget.Check {
	var out []*widget.Check
	for _, obj := range test.LaidOutObjects(o) {
		if c, ok := obj.(*widget.Check); ok && c.Visible() {
			out = append(out, c)
		}
	}
	return out
}

func names(items []session.RawParam) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Name)
	}
	return out
}

func newParamsEditor(t *testing.T) (*view.KVEditor, fyne.Window, *int) {
	t.Helper()
	test.NewTempApp(t)
	e := view.NewKVEditor()
	e.Toggle, e.Reorder, e.Header = true, true, true
	e.NameHint, e.ValueHint, e.AddText = "NAME", "value", "Add param"
	e.Empty = "No params"
	changes := 0
	e.OnChanged = func() { changes++ }
	w := test.NewTempWindow(t, e)
	w.Resize(fyne.NewSize(480, 320))
	e.SetItems([]session.RawParam{
		{Name: "SCRIPT_NAME", Value: "/echo", Enabled: true},
		{Name: "REQUEST_METHOD", Value: "GET", Enabled: true},
		{Name: "QUERY_STRING", Value: "a=1", Enabled: true},
	})
	return e, w, &changes
}

func TestKVEditorRows(t *testing.T) {
	e, w, changes := newParamsEditor(t)
	if *changes != 1 || e.Len() != 3 {
		t.Fatalf("after SetItems: %d changes, %d rows", *changes, e.Len())
	}
	test.AssertRendersToMarkup(t, "kveditor/params.xml", w.Canvas())

	// Typing edits the row's item.
	name := e.NameEntry(1)
	e.ValueEntry(2).TypedKey(&fyne.KeyEvent{Name: fyne.KeyEnd})
	test.Type(e.ValueEntry(2), "&b=2")
	if got := e.Items()[2].Value; got != "a=1&b=2" {
		t.Errorf("typed into the value: %q", got)
	}

	// The buttons: move the third row up, remove the first, disable one.
	test.Tap(buttons(e, theme.MoveUpIcon())[2])
	if got := names(e.Items()); !slices.Equal(got, []string{"SCRIPT_NAME", "QUERY_STRING", "REQUEST_METHOD"}) {
		t.Errorf("after moving row 3 up: %v", got)
	}
	if e.NameEntry(1) != name {
		t.Error("moving a row replaced the widgets of the rows: they show other values instead")
	}
	test.Tap(buttons(e, theme.DeleteIcon())[0])
	if got := names(e.Items()); !slices.Equal(got, []string{"QUERY_STRING", "REQUEST_METHOD"}) {
		t.Errorf("after removing row 1: %v", got)
	}
	checks(e)[1].SetChecked(false)
	if e.Items()[1].Enabled {
		t.Error("unchecking row 2 left it enabled")
	}
	// The last row cannot move down, the first not up.
	if ups, downs := buttons(e, theme.MoveUpIcon()), buttons(e, theme.MoveDownIcon()); !ups[0].Disabled() || !downs[len(downs)-1].Disabled() || ups[1].Disabled() {
		t.Error("the move buttons of the first and last rows are not disabled")
	}

	// Add appends an empty row and puts the cursor in its name.
	before := *changes
	var add *widget.Button
	for _, b := range buttons(e, theme.ContentAddIcon()) {
		if b.Text == "Add param" {
			add = b
		}
	}
	if add == nil {
		t.Fatal("no Add param button")
	}
	test.Tap(add)
	if e.Len() != 3 || e.Items()[2] != (session.RawParam{Enabled: true}) || *changes == before {
		t.Fatalf("after Add: %v", e.Items())
	}
	c := fyne.CurrentApp().Driver().CanvasForObject(e)
	if c == nil || c.Focused() != e.NameEntry(2) {
		t.Error("Add did not focus the new row's name")
	}
	test.Type(e.NameEntry(2), "X_NEW")
	if got := e.Items()[2].Name; got != "X_NEW" {
		t.Errorf("typed a new name: %q", got)
	}
}

func TestKVEditorBorderDrags(t *testing.T) {
	e, w, _ := newParamsEditor(t)
	name := e.NameEntry(0).(fyne.CanvasObject)
	before := name.Size().Width
	// The header's border is in the gap after the name column.
	d := fyne.CurrentApp().Driver()
	pos := d.AbsolutePositionForObject(name).AddXY(before+4, -20)
	test.Drag(w.Canvas(), pos, 60, 0)
	if got := name.Size().Width; got < before+55 || got > before+65 {
		t.Errorf("after dragging the border 60 to the right the names are %v wide, were %v", got, before)
	}
	// Not beyond most of the row.
	test.Drag(w.Canvas(), d.AbsolutePositionForObject(name).AddXY(name.Size().Width+4, -20), 1000, 0)
	if e.NameShare() > 0.85 {
		t.Errorf("the names take %v of the row", e.NameShare())
	}
}

func TestKVEditorEmpty(t *testing.T) {
	e, w, _ := newParamsEditor(t)
	e.SetItems(nil)
	test.AssertRendersToMarkup(t, "kveditor/empty.xml", w.Canvas())
	if e.NameEntry(0) != nil || e.Len() != 0 {
		t.Error("an empty editor has rows")
	}
}

// keys records what an editor's entries hand on.
type keys struct{ shortcuts, escapes int }

func (k *keys) Shortcut(s fyne.Shortcut) bool {
	if s.ShortcutName() == (&fyne.ShortcutSelectAll{}).ShortcutName() {
		return false
	}
	k.shortcuts++
	return true
}

func (k *keys) Escape() bool { k.escapes++; return true }

func TestKVEditorHandsKeysOn(t *testing.T) {
	e, _, _ := newParamsEditor(t)
	k := &keys{}
	e.Keys = k
	e.SetItems(nil)
	e.Add(session.RawParam{Name: "A", Enabled: true})
	entry := e.NameEntry(0).(fyne.Shortcutable)
	entry.TypedShortcut(&fyne.ShortcutCopy{})
	e.NameEntry(0).TypedKey(&fyne.KeyEvent{Name: fyne.KeyEscape})
	if k.shortcuts != 1 || k.escapes != 1 {
		t.Errorf("handed on %d shortcuts, %d escapes; want 1, 1", k.shortcuts, k.escapes)
	}
	// A shortcut the handler does not take goes to the entry.
	entry.TypedShortcut(&fyne.ShortcutSelectAll{})
	if k.shortcuts != 1 {
		t.Error("select all was handed on")
	}
}
