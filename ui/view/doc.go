// Package view holds fcgiscope's own widgets, shaped as Fyne's widget
// package shapes its own: exported fields, a NewXxx constructor that calls
// ExtendBaseWidget, SetXxx methods that change a field and refresh, and a
// small private renderer. Package ui puts them together into panels; the
// widgets know nothing of the window they are in.
//
// Like every widget, their methods must be called on the UI goroutine.
package view
