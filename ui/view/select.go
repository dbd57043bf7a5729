// Select: Fyne's drop-down list, guarded against opening its pop-up when it is no longer on a window (Fyne issue 5965).

package view

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
)

// Select is a widget.Select that opens its list only while it is on a
// window. Fyne 2.7 builds the pop-up on the canvas of the select when it
// is tapped; a select that was taken off its window between the tap and
// the pop-up (its panel rebuilt) has none, and the pop-up then crashes the
// app with a nil pointer in the overlay's MinSize (Fyne issue 5965, fixed
// in 2.8). Panels must not rebuild under a pending tap; this is the guard
// for when one does.
type Select struct {
	widget.Select
}

// NewSelect returns a select of options; changed is called with the
// option chosen.
func NewSelect(options []string, changed func(string)) *Select {
	s := &Select{}
	s.Options = options
	s.OnChanged = changed
	s.PlaceHolder = "(Select one)"
	s.ExtendBaseWidget(s)
	return s
}

// OnWindow reports whether o is on a window's canvas now.
func OnWindow(o fyne.CanvasObject) bool {
	app := fyne.CurrentApp()
	return app != nil && app.Driver().CanvasForObject(o) != nil
}

// Tapped opens the list, when the select is on a window.
func (s *Select) Tapped(e *fyne.PointEvent) {
	if !OnWindow(s) {
		return
	}
	s.Select.Tapped(e)
}

// TypedKey opens the list on Space, Up and Down when the select is on a
// window; Left and Right choose the previous and next option.
func (s *Select) TypedKey(e *fyne.KeyEvent) {
	switch e.Name {
	case fyne.KeySpace, fyne.KeyUp, fyne.KeyDown:
		if !OnWindow(s) {
			return
		}
	}
	s.Select.TypedKey(e)
}

// GuardDropDown makes the drop-down button of e, whose widget is self (e
// or the widget that extends it), open its list only while self is on a
// window (see Select). The button is made by the first SetOptions: call
// GuardDropDown once, after it.
func GuardDropDown(e *widget.SelectEntry, self fyne.CanvasObject) {
	b, ok := e.ActionItem.(*widget.Button)
	if !ok || b.OnTapped == nil {
		return
	}
	open := b.OnTapped
	b.OnTapped = func() {
		if OnWindow(self) {
			open()
		}
	}
}
