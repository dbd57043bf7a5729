// Anomalies pane: what in the exchange's records departs from the spec, one line each, tapping one selects its record.

package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/ui/view"
)

// anomalyRowsShown is how many anomalies the pane shows without scrolling.
const anomalyRowsShown = 3

// AnomalyTexts returns, per record index, the text its RecordList row
// carries: the record's anomalies joined, informational ones marked "Note:".
func AnomalyTexts(as []session.Anomaly) map[int]string {
	out := map[int]string{}
	for _, a := range as {
		if prev := out[a.Record]; prev != "" {
			out[a.Record] = prev + "; " + anomalyLine(a)
		} else {
			out[a.Record] = anomalyLine(a)
		}
	}
	return out
}

// anomalyLine is one anomaly as a sentence, notes marked as such.
func anomalyLine(a session.Anomaly) string {
	text := upperFirst(a.Text)
	if a.Kind.Informational() {
		return "Note: " + text
	}
	return text
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// AnomalyPanel lists the anomalies of one exchange (session.Anomalies):
// a warning or a note per line, with its record. Tapping a line calls
// OnSelect with the record's index. It hides itself when there is
// nothing to show. All methods must be called on the UI goroutine.
type AnomalyPanel struct {
	// OnSelect is called with the record index of the anomaly tapped.
	OnSelect func(record int)
	// OnChanged is called after the anomalies changed (Set, Update), so
	// that the record list can redraw its marks.
	OnChanged func()

	do       func(func())
	x        *session.Exchange
	items    []session.Anomaly
	byRecord map[int]string
	gen      int

	compact bool // the list stays folded (SetCompact)
	unfold  bool // what Set would do with the list, were it not compact

	title   *widget.Label
	summary *view.TextLine
	toggle  *widget.Button
	list    *widget.List
	rows    *anomalyRowsLayout
	body    *fyne.Container
	content *fyne.Container
}

// NewAnomalyPanel returns an empty, hidden panel. do runs a function on
// the UI goroutine (nil: fyne.Do); Update hands its results back with it.
func NewAnomalyPanel(do func(func())) *AnomalyPanel {
	if do == nil {
		do = fyne.Do
	}
	p := &AnomalyPanel{do: do, byRecord: map[int]string{}, title: sectionTitle("Anomalies"), summary: view.NewTextLine("")}
	p.summary.Importance = widget.LowImportance
	p.title.Truncation = fyne.TextTruncateOff // the title is short, and the summary takes what it leaves
	p.list = widget.NewList(
		func() int { return len(p.items) },
		func() fyne.CanvasObject { return newAnomalyRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(p.items) {
				r := o.(*anomalyRow)
				r.set(p.items[id])
				// The text takes the click (it copies on a right-click):
				// a click on it selects the line it shows now.
				r.text.OnTapped = func() { p.list.Select(id) }
			}
		})
	p.list.OnSelected = func(id widget.ListItemID) {
		if id >= len(p.items) {
			return
		}
		if p.OnSelect != nil {
			p.OnSelect(p.items[id].Record)
		}
		p.list.Unselect(id) // a tap is an action: the same line can be tapped again
	}
	p.rows = &anomalyRowsLayout{rowHeight: newAnomalyRow().MinSize().Height + theme.Padding()}
	p.toggle = widget.NewButtonWithIcon("", theme.MenuDropUpIcon(), func() { p.SetExpanded(!p.Expanded()) })
	p.toggle.Importance = widget.LowImportance
	p.body = container.New(p.rows, p.list)
	p.content = container.NewBorder(
		container.NewVBox(widget.NewSeparator(), container.NewBorder(nil, nil, p.title, p.toggle, p.summary)), nil, nil, nil, p.body)
	p.content.Hide()
	return p
}

// Expanded reports whether the list of anomalies is shown (else only its
// title line).
func (p *AnomalyPanel) Expanded() bool { return p.body.Visible() }

// SetExpanded shows or folds the list of anomalies.
func (p *AnomalyPanel) SetExpanded(on bool) {
	if on {
		p.body.Show()
		p.toggle.SetIcon(theme.MenuDropUpIcon())
	} else {
		p.body.Hide()
		p.toggle.SetIcon(theme.MenuDropDownIcon())
	}
	p.content.Refresh()
}

// SetCompact keeps the list folded under its title line (on), for when
// the pane is short of room: the records list's marks and the title's
// counts still say what is wrong, and the toggle unfolds it. Off, the list
// is unfolded again if it was folded for room.
func (p *AnomalyPanel) SetCompact(on bool) {
	if on == p.compact {
		return
	}
	p.compact = on
	if len(p.items) > 0 {
		p.SetExpanded(p.unfold && !on)
	}
}

// Content returns the panel's canvas object.
func (p *AnomalyPanel) Content() fyne.CanvasObject { return p.content }

// Update recomputes the anomalies of x (nil: none) off the UI goroutine
// and shows them when they come back; the last call wins.
func (p *AnomalyPanel) Update(x *session.Exchange) {
	p.gen++
	gen := p.gen
	if x == nil {
		p.Set(nil, nil)
		return
	}
	go func() {
		as := session.Anomalies(x)
		p.do(func() {
			if gen == p.gen {
				p.Set(x, as)
			}
		})
	}()
}

// Set shows as, the anomalies of x.
func (p *AnomalyPanel) Set(x *session.Exchange, as []session.Anomaly) {
	p.x, p.items, p.byRecord = x, as, AnomalyTexts(as)
	notes := 0
	for _, a := range as {
		if a.Kind.Informational() {
			notes++
		}
	}
	warns := len(as) - notes
	p.title.SetText(fmt.Sprintf("Anomalies (%d)", len(as)))
	var parts []string
	if warns > 0 {
		parts = append(parts, plural(warns, "departure from the spec", "departures from the spec"))
	}
	if notes > 0 {
		parts = append(parts, plural(notes, "note", "notes"))
	}
	p.summary.SetText(strings.Join(parts, " · ") + " — tap one to select its record")
	p.rows.shown = min(len(as), anomalyRowsShown)
	p.list.Refresh()
	if len(as) == 0 {
		p.content.Hide()
	} else {
		// Departures from the spec unfold the list; notes alone stay
		// folded under their title line.
		p.unfold = warns > 0
		p.SetExpanded(p.unfold && !p.compact)
		p.content.Show()
	}
	if p.OnChanged != nil {
		p.OnChanged()
	}
}

// plural writes n and the noun for it.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// Anomalies returns the anomalies shown.
func (p *AnomalyPanel) Anomalies() []session.Anomaly { return p.items }

// Exchange returns the exchange whose anomalies are shown.
func (p *AnomalyPanel) Exchange() *session.Exchange { return p.x }

// RecordText returns the anomaly text of record i, "" when it has none:
// what its RecordList row shows.
func (p *AnomalyPanel) RecordText(i int) string { return p.byRecord[i] }

// Tap acts as a tap on line k: OnSelect with its record. It reports
// whether line k exists.
func (p *AnomalyPanel) Tap(k int) bool {
	if k < 0 || k >= len(p.items) {
		return false
	}
	p.list.Select(k)
	return true
}

// anomalyRowsLayout sizes the list to show a few rows without scrolling.
type anomalyRowsLayout struct {
	rowHeight float32
	shown     int
}

func (l *anomalyRowsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *anomalyRowsLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(0, l.rowHeight*float32(max(l.shown, 1)))
}

// anomalyRow is one line of the panel: icon, record number, kind, text.
// The text is cut to the row's width, and its whole in reach: a tooltip
// shows it on hover, the right-click copies it (view.TextLine).
type anomalyRow struct {
	widget.BaseWidget
	warn, note *widget.Icon
	record     *widget.Label
	kind       *widget.Label
	text       *view.TextLine
	box        fyne.CanvasObject
}

func newAnomalyRow() *anomalyRow {
	r := &anomalyRow{
		warn:   widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon())),
		note:   widget.NewIcon(theme.InfoIcon()),
		record: &widget.Label{Alignment: fyne.TextAlignTrailing, TextStyle: fyne.TextStyle{Monospace: true}},
		kind:   &widget.Label{TextStyle: fyne.TextStyle{Bold: true}},
		text:   view.NewTextLine(""),
	}
	r.note.Hide()
	icons := container.NewStack(r.warn, r.note)
	recW := fyne.MeasureText("#00000", theme.TextSize(), fyne.TextStyle{Monospace: true}).Width + 2*theme.InnerPadding()
	lead := container.NewHBox(icons, withMinSize(r.record, recW, 0), r.kind)
	r.box = container.NewBorder(nil, nil, lead, nil, r.text)
	r.ExtendBaseWidget(r)
	return r
}

func (r *anomalyRow) set(a session.Anomaly) {
	if a.Kind.Informational() {
		r.warn.Hide()
		r.note.Show()
	} else {
		r.note.Hide()
		r.warn.Show()
	}
	r.record.SetText("#" + strconv.Itoa(a.Record))
	r.kind.SetText(string(a.Kind))
	r.text.SetText(upperFirst(a.Text))
}

// CreateRenderer links the row to its renderer.
func (r *anomalyRow) CreateRenderer() fyne.WidgetRenderer {
	r.ExtendBaseWidget(r)
	return widget.NewSimpleRenderer(r.box)
}
