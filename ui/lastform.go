// The last request form: kept in a file under the configuration folder when the window closes, put back when it opens.

package ui

import (
	"fyne.io/fyne/v2"

	"fcgiscope/session/preset"
)

// PrefLastPreset remembers the preset open when the window closed ("" for
// a new request), so that the form put back is that preset's again
// (SavePrefs stores it).
const PrefLastPreset = "presets.last"

// restoreForm puts the last request form back, all of it but the target
// (initialTarget chose it), and reports whether it did. Without one the
// form keeps its defaults; a file that cannot be read leaves them too, and
// the log says why.
func (in *Inspector) restoreForm() bool {
	path, err := preset.LastFormPath()
	if err != nil {
		in.warn("the request form will not be kept for the next launch", err)
		return false
	}
	in.formPath = path
	p, ok, err := preset.ReadLastForm(path)
	if err != nil {
		in.warn("the last request form cannot be read; the form starts with its defaults", err)
		return false
	}
	if !ok {
		return false
	}
	inp := p.Input()
	inp.Target = ""
	in.compose.wbSetInput(inp)
	return true
}

// saveForm keeps the request form (with its target) for the next launch.
func (in *Inspector) saveForm() {
	if in.formPath == "" {
		return
	}
	inp, err := in.wbInput()
	if err != nil {
		in.warn("the request id of the request form is not kept", err)
	}
	if err := preset.WriteLastForm(in.formPath, preset.FromInput(inp)); err != nil {
		in.warn("the request form cannot be kept for the next launch", err)
	}
}

// warn logs a problem the window works around (Deps.Warn, else Fyne's log).
func (in *Inspector) warn(what string, err error) {
	if in.deps.Warn != nil {
		in.deps.Warn(what + ": " + err.Error())
		return
	}
	fyne.LogError(what, err)
}
