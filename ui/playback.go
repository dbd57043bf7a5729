// Playback: an exchange replayed record by record — who sent what, the request's state after it, and a sentence on what it does.

package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/teach"
)

// playbackSpeed is how long each record stays on screen while playing.
type playbackSpeed struct {
	label    string
	interval time.Duration
}

// playbackSpeeds returns the speeds offered, slowest last.
func playbackSpeeds() []playbackSpeed {
	return []playbackSpeed{
		{"0.25 s / record", 250 * time.Millisecond},
		{"0.5 s / record", 500 * time.Millisecond},
		{"1 s / record", time.Second},
		{"2 s / record", 2 * time.Second},
	}
}

// defaultPlaybackSpeed indexes playbackSpeeds.
const defaultPlaybackSpeed = 2

// Side labels: who sent the record shown.
const (
	SideLabelSent     = "web server → application"
	SideLabelReceived = "application → web server"
)

// PlaybackPanel steps through the records of one exchange: previous, next,
// play (a record per tick, stoppable), a slider over the records, which side
// sent the record, the state of the request after it (params complete?
// body complete? which streams are open?) and the narration line. Each step
// calls OnStep, which the window wires to select the record in the record
// list and its detail. All methods must be called on the UI goroutine.
type PlaybackPanel struct {
	// OnStep is called with the index of the record stepped to, -1 for
	// the position before the first record.
	OnStep func(i int)
	// OnClose is called when the panel's close button is tapped.
	OnClose func()

	do       func(func())
	bar      *fyne.Container // the controls, the strip's first row
	base     context.Context
	x        *session.Exchange
	pb       *teach.Playback
	sent     []int // sent[i]: records sent among records 0..i
	pos      int   // index of the record shown, -1 before the first
	loadGen  int
	interval time.Duration

	playing    bool
	playGen    int
	playCancel context.CancelFunc

	first, prev, play, next, last *widget.Button
	slider                        *widget.Slider
	sliding                       bool // the slider is being set from code
	speed                         *widget.Select
	where                         *widget.Label
	side                          *badge
	narration                     *widget.Label
	cells                         map[string]*stateCell
	content                       fyne.CanvasObject
}

// State cell names, in the order they are shown.
const (
	cellRequest = "Request"
	cellParams  = "PARAMS"
	cellStdin   = "STDIN (body)"
	cellData    = "DATA"
	cellStdout  = "STDOUT"
	cellStderr  = "STDERR"
	cellEnd     = "END_REQUEST"
	cellCount   = "Records played"
)

var stateCellOrder = []string{cellRequest, cellParams, cellStdin, cellData, cellStdout, cellStderr, cellEnd, cellCount}

// NewPlaybackPanel returns an empty panel. do runs a function on the UI
// goroutine (nil: fyne.Do); the play timer and loading hand their work
// back with it. Cancelling base stops playing.
func NewPlaybackPanel(base context.Context, do func(func())) *PlaybackPanel {
	if do == nil {
		do = fyne.Do
	}
	p := &PlaybackPanel{do: do, base: base, pos: -1, interval: playbackSpeeds()[defaultPlaybackSpeed].interval,
		cells: map[string]*stateCell{}}
	p.first = widget.NewButtonWithIcon("", theme.MediaSkipPreviousIcon(), func() { p.Stop(); p.Step(-1) })
	p.prev = widget.NewButtonWithIcon("", theme.NavigateBackIcon(), p.Prev)
	p.play = widget.NewButtonWithIcon("Play", theme.MediaPlayIcon(), p.togglePlay)
	p.play.Importance = widget.HighImportance
	p.next = widget.NewButtonWithIcon("", theme.NavigateNextIcon(), func() { p.Stop(); p.Next() })
	p.last = widget.NewButtonWithIcon("", theme.MediaSkipNextIcon(), func() { p.Stop(); p.Step(p.Len() - 1) })
	p.slider = widget.NewSlider(0, 1)
	p.slider.Step = 1
	p.slider.OnChanged = func(v float64) {
		if !p.sliding {
			p.Stop()
			p.Step(int(v) - 1)
		}
	}
	speeds := playbackSpeeds()
	labels := make([]string, len(speeds))
	for i, s := range speeds {
		labels[i] = s.label
	}
	p.speed = widget.NewSelect(labels, p.onSpeed)
	p.speed.SetSelected(labels[defaultPlaybackSpeed])
	p.where = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}}
	p.side = newBadge("", theme.ColorNameDisabled)
	p.narration = wrapLabel("", widget.MediumImportance)
	p.narration.TextStyle.Italic = true

	closeBtn := widget.NewButtonWithIcon("", theme.CancelIcon(), func() {
		p.Stop()
		if p.OnClose != nil {
			p.OnClose()
		}
	})
	closeBtn.Importance = widget.LowImportance
	controls := container.NewHBox(p.first, p.prev, p.play, p.next, p.last)
	p.bar = container.NewBorder(nil, nil, controls, container.NewHBox(p.where, p.speed, closeBtn), p.slider)

	grid := container.NewGridWithColumns(4)
	for _, name := range stateCellOrder {
		c := newStateCell(name)
		p.cells[name] = c
		grid.Add(c.content)
	}
	sideRow := container.NewBorder(nil, nil, container.NewVBox(p.side, layout.NewSpacer()), nil, p.narration)
	// No title row: the records header's Step through button, lit while
	// the strip is shown, names it, and the controls come first so that
	// a short pane shows them (the rest scrolls).
	p.content = container.NewVBox(p.bar, sideRow, grid, widget.NewSeparator())
	p.show()
	return p
}

// Content returns the panel's canvas object.
func (p *PlaybackPanel) Content() fyne.CanvasObject { return p.content }

// SetExchange replays x (nil: nothing) from before its first record. The
// replay is built off the UI goroutine from the records x holds now;
// Loaded reports when it is ready.
func (p *PlaybackPanel) SetExchange(x *session.Exchange) {
	p.Stop()
	p.loadGen++
	gen := p.loadGen
	p.x, p.pb, p.sent, p.pos = x, nil, nil, -1
	if x == nil {
		p.show()
		return
	}
	p.narration.SetText("Loading the records…")
	go func() {
		pb := teach.NewPlayback(x)
		sent := make([]int, pb.Len())
		n := 0
		for i := range sent {
			if r, ok := x.Record(i); ok && r.Dir == fcgi.Sent {
				n++
			}
			sent[i] = n
		}
		p.do(func() {
			if gen != p.loadGen {
				return
			}
			p.pb, p.sent = pb, sent
			p.show()
		})
	}()
}

// Exchange returns the exchange being replayed.
func (p *PlaybackPanel) Exchange() *session.Exchange { return p.x }

// Loaded reports whether the replay of the exchange is ready.
func (p *PlaybackPanel) Loaded() bool { return p.pb != nil }

// Len returns the number of records of the replay.
func (p *PlaybackPanel) Len() int {
	if p.pb == nil {
		return 0
	}
	return p.pb.Len()
}

// Position returns the index of the record shown, -1 before the first.
func (p *PlaybackPanel) Position() int { return p.pos }

// State returns the state of the request after the record shown.
func (p *PlaybackPanel) State() teach.State {
	if p.pb == nil {
		return teach.State{Index: -1}
	}
	return p.pb.Step(p.pos)
}

// Narration returns the sentence on the record shown.
func (p *PlaybackPanel) Narration() string { return p.narration.Text }

// Side returns who sent the record shown, as SideLabelSent or
// SideLabelReceived ("" before the first record).
func (p *PlaybackPanel) Side() string { return p.side.Text() }

// Cell returns the text of the state cell called name (e.g. "PARAMS").
func (p *PlaybackPanel) Cell(name string) string {
	if c, ok := p.cells[name]; ok {
		return c.text()
	}
	return ""
}

// Step shows the state after record i (-1: before the first) and calls
// OnStep. i is clamped to the records.
func (p *PlaybackPanel) Step(i int) {
	if p.pb == nil {
		return
	}
	p.pos = max(-1, min(i, p.pb.Len()-1))
	p.show()
	if p.OnStep != nil {
		p.OnStep(p.pos)
	}
}

// Follow shows the state after record i without calling OnStep: for a
// record the user selected elsewhere.
func (p *PlaybackPanel) Follow(i int) {
	if p.pb == nil || i == p.pos {
		return
	}
	p.pos = max(-1, min(i, p.pb.Len()-1))
	p.show()
}

// Next steps to the next record and reports whether there was one.
func (p *PlaybackPanel) Next() bool {
	if p.pb == nil || p.pos >= p.pb.Len()-1 {
		return false
	}
	p.Step(p.pos + 1)
	return true
}

// Prev steps to the previous record (or before the first).
func (p *PlaybackPanel) Prev() {
	p.Stop()
	if p.pb != nil && p.pos >= 0 {
		p.Step(p.pos - 1)
	}
}

// Playing reports whether the panel is playing.
func (p *PlaybackPanel) Playing() bool { return p.playing }

func (p *PlaybackPanel) togglePlay() {
	if p.playing {
		p.Stop()
	} else {
		p.Play()
	}
}

// Play steps to the next record at every tick of the chosen speed, until
// the last record or Stop. From the last record it starts over.
func (p *PlaybackPanel) Play() {
	if p.playing || p.pb == nil || p.pb.Len() == 0 {
		return
	}
	if p.pos >= p.pb.Len()-1 {
		p.Step(-1)
	}
	ctx, cancel := context.WithCancel(p.base)
	p.playing, p.playCancel = true, cancel
	p.playGen++
	gen, interval, do := p.playGen, p.interval, p.do
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				do(func() { p.tick(gen) })
			}
		}
	}()
	p.showButtons()
}

// tick advances one record for the play run gen.
func (p *PlaybackPanel) tick(gen int) {
	if !p.playing || gen != p.playGen {
		return
	}
	if !p.Next() || p.pos >= p.pb.Len()-1 {
		p.Stop()
	}
}

// Stop stops playing.
func (p *PlaybackPanel) Stop() {
	if !p.playing {
		return
	}
	p.playing = false
	p.playGen++
	p.playCancel()
	p.playCancel = nil
	p.showButtons()
}

// Close stops playing and forgets the exchange.
func (p *PlaybackPanel) Close() {
	p.Stop()
	p.loadGen++
	p.x, p.pb, p.sent = nil, nil, nil
}

func (p *PlaybackPanel) onSpeed(label string) {
	for _, s := range playbackSpeeds() {
		if s.label == label {
			p.interval = s.interval
		}
	}
	if p.playing {
		p.Stop()
		p.Play()
	}
}

// showButtons enables the controls that can act.
func (p *PlaybackPanel) showButtons() {
	n := p.Len()
	setEnabled(p.first, n > 0 && p.pos >= 0)
	setEnabled(p.prev, n > 0 && p.pos >= 0)
	setEnabled(p.next, n > 0 && p.pos < n-1)
	setEnabled(p.last, n > 0 && p.pos < n-1)
	setEnabled(p.play, n > 0)
	setEnabled(p.slider, n > 0)
	if p.playing {
		p.play.SetText("Pause")
		p.play.SetIcon(theme.MediaPauseIcon())
	} else {
		p.play.SetText("Play")
		p.play.SetIcon(theme.MediaPlayIcon())
	}
}

// show writes the position, side, narration and state.
func (p *PlaybackPanel) show() {
	n := p.Len()
	p.sliding = true
	if top := float64(max(n, 1)); p.slider.Max != top {
		p.slider.Max = top
		p.slider.Refresh()
	}
	p.slider.SetValue(float64(p.pos + 1))
	p.sliding = false
	p.showButtons()
	if p.pb == nil {
		p.where.SetText("–")
		p.side.Set("", theme.ColorNameDisabled)
		if p.x == nil {
			p.narration.SetText("Send a request, then step through its records one by one.")
		}
		p.setCells(teach.State{Index: -1}, false)
		return
	}
	st := p.pb.Step(p.pos)
	if p.pos < 0 {
		p.where.SetText(fmt.Sprintf("0 / %d", n))
	} else {
		p.where.SetText(fmt.Sprintf("%d / %d", p.pos+1, n))
	}
	switch {
	case p.pos < 0:
		p.side.Set("", theme.ColorNameDisabled)
	case st.Side == teach.SideWebServer:
		p.side.Set(SideLabelSent, theme.ColorNamePrimary)
	default:
		p.side.Set(SideLabelReceived, theme.ColorNameSuccess)
	}
	text := upperFirst(st.Narration)
	if p.pos >= 0 {
		text = fmt.Sprintf("%s (record %d). %s", st.Record.Type, st.Index, text)
	} else if n == 0 {
		text = "This exchange has no records."
	} else {
		// What the strip is for, said where it starts (it has no title).
		text += ". Play or → replays the records in order, with the request's state after each."
	}
	p.narration.SetText(text)
	p.setCells(st, true)
}

// setCells fills the state cells from st.
func (p *PlaybackPanel) setCells(st teach.State, loaded bool) {
	if !loaded {
		for _, c := range p.cells {
			c.set("–", "", widget.LowImportance)
		}
		return
	}
	id := fmt.Sprintf("request id %d", st.RequestID)
	switch {
	case st.Failed != "" && !st.Ended:
		p.cells[cellRequest].set("failed", st.Failed, widget.DangerImportance)
	case st.Ended:
		p.cells[cellRequest].set("ended", id, widget.MediumImportance)
	case st.Active && st.Aborted:
		p.cells[cellRequest].set("active, aborted", id, widget.WarningImportance)
	case st.Active:
		p.cells[cellRequest].set("active", id, widget.HighImportance)
	default:
		p.cells[cellRequest].set("not begun", "", widget.LowImportance)
	}

	value, detail, imp := streamText(st.Params, false)
	if st.Params.Begun {
		detail = fmt.Sprintf("%d %s · %s", st.Pairs, pluralWord(st.Pairs, "pair", "pairs"), detail)
	}
	p.cells[cellParams].set(value, detail, imp)
	p.cells[cellStdin].set(streamText(st.Stdin, false))
	p.cells[cellData].set(streamText(st.Data, false))
	p.cells[cellStdout].set(streamText(st.Stdout, st.Ended))
	p.cells[cellStderr].set(streamText(st.Stderr, st.Ended))

	switch {
	case st.End == nil:
		p.cells[cellEnd].set("not yet", "", widget.LowImportance)
	case st.End.ProtocolStatus == fcgi.StatusRequestComplete:
		p.cells[cellEnd].set(st.End.ProtocolStatus.String(), fmt.Sprintf("app status %d", st.End.AppStatus), widget.SuccessImportance)
	default:
		p.cells[cellEnd].set(st.End.ProtocolStatus.String(), fmt.Sprintf("app status %d", st.End.AppStatus), widget.DangerImportance)
	}

	sent, recv := 0, 0
	if st.Index >= 0 && st.Index < len(p.sent) {
		sent = p.sent[st.Index]
		recv = st.Index + 1 - sent
	}
	p.cells[cellCount].set(fmt.Sprintf("%d of %d", st.Index+1, p.pb.Len()), fmt.Sprintf("→ %d sent · ← %d received", sent, recv),
		widget.MediumImportance)
}

// streamText says where a stream stands (not begun, open or complete)
// and what it carried so far. ended: END_REQUEST came, which ends an
// output stream left open.
func streamText(s teach.StreamState, ended bool) (value, detail string, imp widget.Importance) {
	detail = fmt.Sprintf("%d %s · %s", s.Records, pluralWord(s.Records, "record", "records"), session.FormatBytes(s.Bytes))
	switch {
	case !s.Begun:
		return "not begun", "", widget.LowImportance
	case s.Cut:
		return "cut short", detail, widget.DangerImportance
	case s.Closed:
		return "complete", detail, widget.SuccessImportance
	case ended:
		return "ended by END_REQUEST", detail, widget.WarningImportance
	}
	return "open", detail, widget.HighImportance
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// StateSummary returns the state cells as "name: value" lines, in order.
func (p *PlaybackPanel) StateSummary() string {
	var b strings.Builder
	for _, name := range stateCellOrder {
		fmt.Fprintf(&b, "%s: %s\n", name, p.Cell(name))
	}
	return b.String()
}

// stateCell is one part of the request's state: a title, where it stands
// (coloured), and what it carried.
type stateCell struct {
	title   *mutedText
	value   *widget.Label
	detail  *mutedText
	content fyne.CanvasObject
}

func newStateCell(name string) *stateCell {
	c := &stateCell{
		title:  newMutedText(name),
		value:  &widget.Label{Truncation: fyne.TextTruncateEllipsis, TextStyle: fyne.TextStyle{Bold: true}},
		detail: newMutedText(""),
	}
	c.title.setStyle(fyne.TextStyle{Bold: true})
	for _, t := range []*mutedText{c.title, c.detail} {
		t.Truncation = fyne.TextTruncateEllipsis
		t.setSize(theme.SizeNameCaptionText)
	}
	c.content = container.New(layout.NewCustomPaddedVBoxLayout(-2.5*theme.Padding()), c.title, c.value, c.detail)
	return c
}

// text returns the value and, when there is one, the detail.
func (c *stateCell) text() string {
	if c.detail.Text() == "" {
		return c.value.Text
	}
	return c.value.Text + " · " + c.detail.Text()
}

func (c *stateCell) set(value, detail string, imp widget.Importance) {
	if c.value.Text != value || c.value.Importance != imp {
		c.value.Text, c.value.Importance = value, imp
		c.value.Refresh()
	}
	if c.detail.Text() != detail {
		c.detail.SetText(detail)
	}
}
