// Help > About: what the app is, which build it is (version of FyneApp.toml, commit, Go and Fyne releases) and where it keeps its files.

package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/buildinfo"
)

// aboutBuild describes the running binary: main gives Fyne FyneApp.toml's
// metadata, so its version is the file's.
func aboutBuild(a fyne.App) buildinfo.Info {
	m := a.Metadata()
	return buildinfo.Read(m.Version, m.Build)
}

// ShowAbout shows what the app is, which build it is, and where its presets
// and history are; Copy puts the build's description on the clipboard (for a
// bug report).
func (w *Workbench) ShowAbout() {
	info := aboutBuild(w.app)
	title := &widget.Label{Text: "fcgiscope", TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameHeadingText}
	about := wrapLabel("A desktop inspector for FastCGI backends: compose params and a body, send them to php-fpm "+
		"or any FastCGI application, and see every record both ways, byte by byte, with stderr and the parsed "+
		"HTTP response side by side.", widget.MediumImportance)
	fields := container.New(layout.NewFormLayout())
	for _, f := range info.Fields() {
		fields.Add(&widget.Label{Text: f[0], TextStyle: fyne.TextStyle{Bold: true}})
		fields.Add(&widget.Label{Text: f[1], TextStyle: fyne.TextStyle{Monospace: true}, Truncation: fyne.TextTruncateEllipsis})
	}
	text := "fcgiscope\n" + info.String()
	box := container.NewVBox(title, about, fields)
	if s := w.Presets.Store(); s != nil {
		box.Add(secondary(mutedLine("Presets: " + shortPath(s.Dir()))))
		text += "Presets:  " + s.Dir() + "\n"
	}
	if h := w.History.History(); h != nil {
		box.Add(secondary(mutedLine("History: " + shortPath(h.Dir()))))
		text += "History:  " + h.Dir() + "\n"
	}
	var copyBtn *widget.Button
	copyBtn = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		w.app.Clipboard().SetContent(text)
		copyBtn.SetText("Copied")
	})
	box.Add(container.NewHBox(layout.NewSpacer(), copyBtn))
	d := dialog.NewCustom("About fcgiscope", "Close", withMinSize(box, 480, 0), w.win)
	d.Show()
}
