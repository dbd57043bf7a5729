// Raw params: the parser behind "Paste" and its dialog (the editor of the rows is view.KVEditor).

package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
)

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

func setEnabled(w fyne.Disableable, on bool) {
	if on {
		w.Enable()
	} else {
		w.Disable()
	}
}
