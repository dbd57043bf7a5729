// Stderr pane: the application's FCGI_STDERR text as it arrives, soft-wrapped to the pane, with the count of its lines.

package ui

import (
	"bytes"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/ui/view"
)

// maxStderrShown bounds the stderr text the pane holds; past it the pane
// shows the end, which is where the latest messages are.
const maxStderrShown = 256 << 10

// StderrPanel shows the STDERR stream of the current exchange, its lines
// soft-wrapped at word boundaries to the pane's width; the badge counts
// the lines of the stream, not the rows they wrap to. It stays on screen at
// all times: an empty pane says that the application wrote nothing, which
// is itself worth knowing.
type StderrPanel struct {
	title *widget.Label
	badge *badge
	log   *view.TextLog
	hint  *mutedText
	copy  *widget.Button

	text     []byte // what is shown (a view the exchange keeps)
	lines    int
	newlines int // newlines in text, counted as it grows

	content fyne.CanvasObject
}

// newStderrPanel returns an empty pane.
func newStderrPanel() *StderrPanel {
	p := &StderrPanel{
		title: sectionTitle("Stderr"),
		badge: newBadge("", theme.ColorNameWarning),
		log:   view.NewTextLog(),
		hint:  newMutedText("Nothing on stderr"),
	}
	p.hint.setAlign(fyne.TextAlignCenter)
	p.copy = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), p.onCopy)
	p.copy.Importance = widget.LowImportance
	p.copy.Disable()
	header := sectionHeader(p.title, p.badge, p.copy)
	body := container.NewStack(panelBackground(p.log), container.NewVBox(layout.NewSpacer(), keepRoom(p.hint), layout.NewSpacer()))
	p.content = pane(header, body)
	return p
}

// Content returns the pane's canvas object.
func (p *StderrPanel) Content() fyne.CanvasObject { return p.content }

// Reset empties the pane for a new exchange.
func (p *StderrPanel) Reset() {
	p.text, p.lines, p.newlines = nil, 0, 0
	p.log.SetText("")
	p.hint.SetText("Nothing on stderr")
	p.hint.Show()
	p.copy.Disable()
	p.badge.Set("", theme.ColorNameWarning)
}

// Update shows b, the whole stderr received so far, from the end: at most
// maxStderrShown bytes of it, after a note of how many earlier bytes are
// not shown. It does nothing when b has not grown since the last call.
// Lines are counted in what is new only.
func (p *StderrPanel) Update(b []byte) {
	if len(b) == len(p.text) {
		return
	}
	if len(b) > len(p.text) {
		p.newlines += bytes.Count(b[len(p.text):], []byte("\n"))
	} else {
		p.newlines = bytes.Count(b, []byte("\n"))
	}
	p.text = b
	p.lines = p.newlines
	if len(b) > 0 && b[len(b)-1] != '\n' {
		p.lines++
	}
	shown := b
	prefix := ""
	if len(b) > maxStderrShown {
		shown = b[len(b)-maxStderrShown:]
		prefix = fmt.Sprintf("… %d earlier bytes not shown\n", len(b)-maxStderrShown)
	}
	p.log.SetText(prefix + string(bytes.TrimSuffix(shown, []byte("\n"))))
	p.log.ScrollToBottom()
	p.hint.Hide()
	p.copy.Enable()
	unit := "lines"
	if p.lines == 1 {
		unit = "line"
	}
	p.badge.Set(fmt.Sprintf("%d %s", p.lines, unit), theme.ColorNameWarning)
}

// Title returns the pane's title with its count, e.g. "Stderr (3 lines)".
func (p *StderrPanel) Title() string {
	if t := p.badge.Text(); t != "" {
		return p.title.Text + " (" + t + ")"
	}
	return p.title.Text
}

// Text returns the stderr text received.
func (p *StderrPanel) Text() string { return string(p.text) }

// Shown returns the text the pane lays out: the end of stderr, after a
// note of the bytes left out.
func (p *StderrPanel) Shown() string { return p.log.Text() }

// Log returns the view of the text.
func (p *StderrPanel) Log() *view.TextLog { return p.log }

// Lines returns the number of lines of stderr.
func (p *StderrPanel) Lines() int { return p.lines }

func (p *StderrPanel) onCopy() {
	if app := fyne.CurrentApp(); app != nil && len(p.text) > 0 {
		app.Clipboard().SetContent(string(p.text))
	}
}

// countLines counts lines of text: a last line without a newline counts.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}
