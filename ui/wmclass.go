// The window's X11 class: created under the app's name, so that desktops match it to its launcher entry.

package ui

import "fyne.io/fyne/v2"

// classAsApp titles the window with the app's name alone until a runs.
// GLFW names an X11 window's class (WM_CLASS) after the title it is created
// with, on Show, and never changes it; the desktop entry's StartupWMClass
// says "fcgiscope", which docks and task bars use to show the window under
// the launcher's icon. The open preset's name joins the title once the app
// has started. Call it before ShowAndRun.
func (in *Inspector) classAsApp(a fyne.App) {
	in.win.SetTitle(windowTitle)
	a.Lifecycle().SetOnStarted(in.updateTitle)
}
