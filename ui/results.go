// Records pane: the record stream of the current exchange, live, filtered and folded as a protocol analyser lists it, with the selected record decoded field by field.

package ui

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/dissect"
	"fcgiscope/ui/view"
)

// ResultsPanel shows the records of one exchange in a RecordList, with a
// filter, the folding of runs and a way to go to a record over it, and the
// selected one in a RecordDetail. It reads the exchange on the UI
// goroutine only: Sync picks up what arrived since the last call.
type ResultsPanel struct {
	list      *view.RecordList
	detail    *view.RecordDetail
	title     *widget.Label
	summary   *widget.Label
	decodeErr *widget.Label
	hint      *mutedText
	filterBtn *widget.Button
	fold      *widget.Check
	goTo      *hookEntry
	goNote    *widget.Label

	x          *session.Exchange
	n          int // records shown
	sent, recv int
	counts     map[recordKind]int // records of each type and direction
	ownID      uint16
	stdoutLen  int            // stdout bytes accounted for
	stdoutAt   []stdoutRange  // the STDOUT records of the request, by index
	spans      []dissect.Span // one per STDOUT record, for the raw stdout view

	// OnStdoutRecord is called when a STDOUT record of the request is
	// selected, with its bytes in the raw stdout.
	OnStdoutRecord func(start, end int)
	// AnomalyText returns what is anomalous about record i, "" if nothing:
	// its row is marked with it (set by the teaching side).
	AnomalyText func(i int) string
	// OnReset is called by Reset with the exchange now shown.
	OnReset func(x *session.Exchange)

	tools *fyne.Container // header tools (Step through)
	below *fyne.Container // under the list, over the detail (the anomalies)

	split   *container.Split
	content fyne.CanvasObject
}

func newResultsPanel(keys *keyHooks) *ResultsPanel {
	r := &ResultsPanel{
		list:      view.NewRecordList(),
		detail:    view.NewRecordDetail(),
		title:     sectionTitle("Records"),
		summary:   mutedLine(""),
		decodeErr: wrapLabel("", widget.DangerImportance),
		hint:      newMutedHint("Press Send (Ctrl+Enter) to see every record of the exchange, both ways"),
		goTo:      newHookEntry(keys, false),
		goNote:    &widget.Label{Importance: widget.WarningImportance, Truncation: fyne.TextTruncateEllipsis},
		counts:    map[recordKind]int{},
	}
	r.decodeErr.Hide()
	r.list.OnSelected = r.onSelected
	r.list.OnFilterChanged = func(view.RecordFilter) { r.updateTitle() }
	r.list.OnGoTo = r.startGoTo
	r.filterBtn = widget.NewButtonWithIcon("All records", theme.MenuDropDownIcon(), r.showFilterMenu)
	r.filterBtn.IconPlacement = widget.ButtonIconTrailingText
	r.filterBtn.Importance = widget.LowImportance
	r.fold = widget.NewCheck("Fold runs", r.list.SetFolded)
	r.fold.SetChecked(r.list.Folded())
	r.goTo.PlaceHolder = "Go to #"
	r.goTo.OnSubmitted = r.onGoTo
	goBox := withMinSize(r.goTo, fyne.MeasureText("Go to #00000", theme.TextSize(), fyne.TextStyle{}).Width+4*theme.Padding(), 0)
	r.goNote.Hide()
	// The counts, or what Go to has to say, between the tools.
	toolbar := container.NewBorder(nil, nil, container.NewHBox(r.filterBtn, r.fold), goBox,
		container.NewStack(secondary(r.summary), r.goNote))

	r.tools, r.below = container.NewHBox(), container.NewVBox()
	listPane := pane(sectionHeader(r.title, r.tools),
		container.NewBorder(toolbar, nil, nil, nil,
			container.NewStack(r.list, container.NewVBox(layout.NewSpacer(), keepRoom(r.hint), layout.NewSpacer()))))
	// What goes under the list (the anomalies) heads the detail's side of
	// the split: under the list's, it took the rows of the records list,
	// 2 of them at 1366×768, while the detail kept its room.
	detailPane := container.NewBorder(container.NewVBox(r.below, r.decodeErr), nil, nil, nil, r.detail)
	r.split = container.NewVSplit(listPane, detailPane)
	r.split.Offset = 0.4
	r.content = r.split
	r.Reset(nil)
	return r
}

// Content returns the pane's canvas object.
func (r *ResultsPanel) Content() fyne.CanvasObject { return r.content }

// List returns the record list.
func (r *ResultsPanel) List() *view.RecordList { return r.list }

// Detail returns the record detail.
func (r *ResultsPanel) Detail() *view.RecordDetail { return r.detail }

// Reset shows the exchange x (nil: none), empty until Sync, with no filter.
func (r *ResultsPanel) Reset(x *session.Exchange) {
	r.x, r.n, r.sent, r.recv = x, 0, 0, 0
	r.ownID, r.stdoutLen = 0, 0
	r.stdoutAt, r.spans = nil, nil
	clear(r.counts)
	r.list.SetRecords(0, r.row)
	r.list.SetFilter(view.RecordFilter{})
	r.detail.SetRecord(nil)
	r.decodeErr.Hide()
	r.setGoNote("")
	if x != nil {
		r.hint.SetText("Waiting for records…")
	}
	r.hint.Show()
	r.updateTitle()
	if r.OnReset != nil {
		r.OnReset(x)
	}
}

// SetEmptyText sets what the pane says while its list is empty, e.g. why
// a finished exchange has no records.
func (r *ResultsPanel) SetEmptyText(text string) {
	r.hint.SetText(text)
}

// Decorate adds tool to the header of the record list and below under
// the list, at the top of the record detail's side of the split; either
// may be nil.
func (r *ResultsPanel) Decorate(tool, below fyne.CanvasObject) {
	if tool != nil {
		r.tools.Add(tool)
	}
	if below != nil {
		r.below.Add(below)
	}
}

// WrapDetail replaces the detail's side of the split (the anomalies over
// the record detail) with wrap of it, e.g. with the step-through strip over
// it.
func (r *ResultsPanel) WrapDetail(wrap func(fyne.CanvasObject) fyne.CanvasObject) {
	r.split.Trailing = wrap(r.split.Trailing)
	r.split.Refresh()
}

// Sync appends the records that arrived since the last call and returns
// how many there were.
func (r *ResultsPanel) Sync() int {
	if r.x == nil {
		return 0
	}
	total := r.x.Len()
	if total <= r.n {
		return 0
	}
	if r.ownID == 0 {
		r.ownID = r.x.RequestID()
	}
	// Room for every new record at once, rather than growing by copies.
	r.spans = slices.Grow(r.spans, total-r.n)
	r.stdoutAt = slices.Grow(r.stdoutAt, total-r.n)
	for i := r.n; i < total; i++ {
		info, ok := r.x.Record(i)
		if !ok {
			total = i
			break
		}
		if info.Dir == fcgi.Sent {
			r.sent++
		} else {
			r.recv++
		}
		r.counts[recordKind{info.Type, info.Dir}]++
		r.account(info)
	}
	added := total - r.n
	r.n = total
	r.hint.Hide()
	r.list.Append(added)
	r.updateTitle()
	return added
}

// RefreshMarks reads every record's anomaly again, after AnomalyText
// changed its mind.
func (r *ResultsPanel) RefreshMarks() { r.list.RefreshMarks() }

// account notes where the content of a STDOUT record of the request lies
// in the exchange's stdout: the capture keeps the content of well-formed
// STDOUT records of the request's id, in order, and nothing else.
func (r *ResultsPanel) account(info session.RecordInfo) {
	if info.Dir != fcgi.Received || info.Type != fcgi.TypeStdout || info.Version != fcgi.Version1 ||
		info.Truncated || info.Partial || r.ownID == 0 || info.RequestID != r.ownID {
		return
	}
	start, end := r.stdoutLen, r.stdoutLen+int(info.ContentLength)
	r.stdoutLen = end
	r.stdoutAt = append(r.stdoutAt, stdoutRange{index: info.Index, start: start, end: end})
	if end > start {
		r.spans = append(r.spans, dissect.StdoutSpan(info.Index, start, end))
	}
}

// recordKind is what the filter tells records apart by.
type recordKind struct {
	typ fcgi.RecordType
	dir fcgi.Direction
}

// stdoutRange is where the content of one STDOUT record lies in stdout.
type stdoutRange struct{ index, start, end int }

// SelectFirstParams selects the first PARAMS record, the richest one to
// decode, unless the user has selected a record already.
func (r *ResultsPanel) SelectFirstParams() {
	if r.x == nil || r.list.Selected() >= 0 {
		return
	}
	for i := range r.n {
		if info, ok := r.x.Record(i); ok && info.Type == fcgi.TypeParams && info.Dir == fcgi.Sent {
			r.list.Select(i)
			r.list.ScrollTo(0) // keep BEGIN_REQUEST in sight
			return
		}
	}
}

// StdoutSpans returns one span per STDOUT record of the request, naming it,
// over the exchange's stdout.
func (r *ResultsPanel) StdoutSpans() []dissect.Span { return r.spans }

// StdoutRange returns the bytes of stdout that record i carried.
func (r *ResultsPanel) StdoutRange(i int) (start, end int, ok bool) {
	k, ok := slices.BinarySearchFunc(r.stdoutAt, i, func(s stdoutRange, i int) int { return s.index - i })
	if !ok {
		return 0, 0, false
	}
	return r.stdoutAt[k].start, r.stdoutAt[k].end, true
}

// Len returns the number of records shown.
func (r *ResultsPanel) Len() int { return r.n }

// row returns what the list shows of record i.
func (r *ResultsPanel) row(i int) view.RecordRow {
	if r.x == nil {
		return view.RecordRow{Index: i}
	}
	info, ok := r.x.Record(i)
	if !ok {
		return view.RecordRow{Index: i}
	}
	anomaly := info.Note()
	if r.AnomalyText != nil {
		if text := r.AnomalyText(i); text != "" {
			anomaly = joinNonEmpty(anomaly, text)
		}
	}
	return view.RecordRow{Index: info.Index, Dir: info.Dir, Type: info.Type, RequestID: info.RequestID,
		ContentLength: info.ContentLength, PaddingLength: info.PaddingLength, T: info.T, Anomaly: anomaly}
}

func joinNonEmpty(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func (r *ResultsPanel) updateTitle() {
	r.title.SetText(fmt.Sprintf("Records (%d)", r.n))
	f := r.list.Filter()
	r.filterBtn.SetText(filterLabel(f))
	if r.n == 0 {
		r.summary.SetText("")
		return
	}
	s := fmt.Sprintf("→ %d · ← %d", r.sent, r.recv)
	if f != (view.RecordFilter{}) {
		s += fmt.Sprintf(" · %d shown", r.shown(f))
	}
	r.summary.SetText(s)
}

// shown counts the records filter f lets through.
func (r *ResultsPanel) shown(f view.RecordFilter) int {
	n := 0
	for k, c := range r.counts {
		if (f.Type == 0 || f.Type == k.typ) && (f.Dir == 0 || f.Dir == k.dir) {
			n += c
		}
	}
	return n
}

// filterLabel names a filter on its button, e.g. "STDOUT ←".
func filterLabel(f view.RecordFilter) string {
	var parts []string
	if f.Type != 0 {
		parts = append(parts, f.Type.String())
	}
	switch f.Dir {
	case fcgi.Sent:
		parts = append(parts, "→ sent")
	case fcgi.Received:
		parts = append(parts, "← received")
	}
	if parts == nil {
		return "All records"
	}
	return strings.Join(parts, " ")
}

// SetFilter shows only the records f lets through.
func (r *ResultsPanel) SetFilter(f view.RecordFilter) {
	r.list.SetFilter(f)
	r.updateTitle()
}

// FilterMenu returns the items of the filter menu: every record, one
// direction, or the records of one type present in the exchange (with its
// count), the current choice checked.
func (r *ResultsPanel) FilterMenu() []*fyne.MenuItem {
	f := r.list.Filter()
	item := func(label string, checked bool, to view.RecordFilter) *fyne.MenuItem {
		it := fyne.NewMenuItem(label, func() { r.SetFilter(to) })
		it.Checked = checked
		return it
	}
	items := []*fyne.MenuItem{
		item("All records", f == view.RecordFilter{}, view.RecordFilter{}),
		fyne.NewMenuItemSeparator(),
		item("Both ways", f.Dir == 0, view.RecordFilter{Type: f.Type}),
		item("→ Sent only", f.Dir == fcgi.Sent, view.RecordFilter{Type: f.Type, Dir: fcgi.Sent}),
		item("← Received only", f.Dir == fcgi.Received, view.RecordFilter{Type: f.Type, Dir: fcgi.Received}),
		fyne.NewMenuItemSeparator(),
		item("Every type", f.Type == 0, view.RecordFilter{Dir: f.Dir}),
	}
	byType := map[fcgi.RecordType]int{}
	for k, c := range r.counts {
		byType[k.typ] += c
	}
	types := slices.Sorted(maps.Keys(byType))
	for _, t := range types {
		items = append(items, item(fmt.Sprintf("%s (%d)", t, byType[t]), f.Type == t, view.RecordFilter{Type: t, Dir: f.Dir}))
	}
	return items
}

// showFilterMenu opens the filter menu under its button.
func (r *ResultsPanel) showFilterMenu() {
	d := fyne.CurrentApp().Driver()
	c := d.CanvasForObject(r.filterBtn)
	if c == nil { // not on a canvas: a pop-up would have nowhere to go
		return
	}
	pos := d.AbsolutePositionForObject(r.filterBtn).AddXY(0, r.filterBtn.Size().Height)
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", r.FilterMenu()...), c, pos)
}

// GoTo selects record number text ("12" or "#12") and gives the list the
// keyboard focus; it says under the list why it cannot.
func (r *ResultsPanel) GoTo(text string) bool {
	s := strings.TrimPrefix(strings.TrimSpace(text), "#")
	n, err := strconv.Atoi(s)
	switch {
	case r.n == 0:
		r.setGoNote("No records yet")
		return false
	case err != nil || n < 0 || n >= r.n:
		r.setGoNote(fmt.Sprintf("Records are #0 to #%d", r.n-1))
		return false
	}
	r.setGoNote("")
	r.list.Select(n)
	r.list.Focus()
	return true
}

// startGoTo moves the focus to the Go to entry with what was typed in the
// list: "#" or the first digit of a record number.
func (r *ResultsPanel) startGoTo(typed rune) {
	c := fyne.CurrentApp().Driver().CanvasForObject(r.goTo)
	if c == nil {
		return
	}
	r.goTo.SetText("")
	if typed != '#' {
		r.goTo.SetText(string(typed))
		r.goTo.CursorColumn = 1
	}
	c.Focus(r.goTo)
}

// setGoNote says what Go to has to say in place of the counts; "" shows
// the counts again.
func (r *ResultsPanel) setGoNote(text string) {
	r.goNote.SetText(text)
	r.goNote.Hidden = text == ""
	r.summary.Hidden = text != ""
	r.goNote.Refresh()
	r.summary.Refresh()
}

func (r *ResultsPanel) onGoTo(text string) {
	if r.GoTo(text) {
		r.goTo.SetText("")
	}
}

// onSelected decodes record i into the detail pane.
func (r *ResultsPanel) onSelected(i int) {
	if r.x == nil {
		return
	}
	rec, err := r.x.Decode(i)
	r.detail.SetRecord(rec)
	if err != nil {
		r.decodeErr.SetText(cleanError(err))
		r.decodeErr.Show()
	} else {
		r.decodeErr.Hide()
	}
	if start, end, ok := r.StdoutRange(i); ok && r.OnStdoutRecord != nil {
		r.OnStdoutRecord(start, end)
	}
}
