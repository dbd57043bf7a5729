// Records pane: the record stream of the current exchange, live, with the selected record decoded field by field.

package ui

import (
	"fmt"
	"slices"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// ResultsPanel shows the records of one exchange in a RecordList and the
// selected one in a RecordDetail. It reads the exchange on the UI
// goroutine only: Sync picks up what arrived since the last call.
type ResultsPanel struct {
	list      *RecordList
	detail    *RecordDetail
	title     *widget.Label
	summary   *widget.Label
	decodeErr *widget.Label
	hint      *mutedText

	x          *session.Exchange
	n          int // records shown
	sent, recv int
	ownID      uint16
	stdoutLen  int           // stdout bytes accounted for
	stdoutAt   []stdoutRange // the STDOUT records of the request, by index
	spans      []Span        // one per STDOUT record, for the raw stdout view

	// OnStdoutRecord is called when a STDOUT record of the request is
	// selected, with its bytes in the raw stdout.
	OnStdoutRecord func(start, end int)
	// AnomalyText returns what is anomalous about record i, "" if nothing:
	// its row is marked with it (set by the teaching side).
	AnomalyText func(i int) string
	// OnReset is called by Reset with the exchange now shown.
	OnReset func(x *session.Exchange)

	tools *fyne.Container // header tools (Step through)
	below *fyne.Container // under the list (the anomalies)

	split   *container.Split
	content fyne.CanvasObject
}

func newResultsPanel() *ResultsPanel {
	r := &ResultsPanel{
		list:      NewRecordList(),
		detail:    NewRecordDetail(),
		title:     sectionTitle("Records"),
		summary:   mutedLabel(""),
		decodeErr: wrapLabel("", widget.DangerImportance),
		hint:      newMutedHint("Press Send (Ctrl+Enter) to see every record of the exchange, both ways"),
	}
	r.decodeErr.Hide()
	r.list.OnSelected = r.onSelected
	r.tools, r.below = container.NewHBox(), container.NewVBox()
	listPane := pane(sectionHeader(r.title, secondary(r.summary), r.tools),
		container.NewBorder(nil, r.below, nil, nil,
			container.NewStack(r.list, container.NewVBox(layout.NewSpacer(), keepRoom(r.hint), layout.NewSpacer()))))
	detailPane := container.NewBorder(r.decodeErr, nil, nil, nil, r.detail)
	r.split = container.NewVSplit(listPane, detailPane)
	r.split.Offset = 0.4
	r.content = r.split
	r.Reset(nil)
	return r
}

// Content returns the pane's canvas object.
func (r *ResultsPanel) Content() fyne.CanvasObject { return r.content }

// List returns the record list.
func (r *ResultsPanel) List() *RecordList { return r.list }

// Detail returns the record detail.
func (r *ResultsPanel) Detail() *RecordDetail { return r.detail }

// Reset shows the exchange x (nil: none), empty until Sync.
func (r *ResultsPanel) Reset(x *session.Exchange) {
	r.x, r.n, r.sent, r.recv = x, 0, 0, 0
	r.ownID, r.stdoutLen = 0, 0
	r.stdoutAt, r.spans = nil, nil
	r.list.SetRecords(0, r.row)
	r.detail.SetRecord(nil)
	r.decodeErr.Hide()
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
// the list; either may be nil.
func (r *ResultsPanel) Decorate(tool, below fyne.CanvasObject) {
	if tool != nil {
		r.tools.Add(tool)
	}
	if below != nil {
		r.below.Add(below)
	}
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
		r.account(info)
	}
	added := total - r.n
	r.n = total
	r.hint.Hide()
	r.list.Append(added)
	r.updateTitle()
	return added
}

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
		// Built without fmt: 100,000 records arrive in a few ticks.
		r.spans = append(r.spans, Span{Start: start, End: end, Kind: KindContent,
			Name:    "STDOUT record " + strconv.Itoa(info.Index),
			Value:   "bytes " + strconv.Itoa(start) + "–" + strconv.Itoa(end-1) + " of stdout",
			Explain: stdoutSpanExplain})
	}
}

// stdoutRange is where the content of one STDOUT record lies in stdout.
type stdoutRange struct{ index, start, end int }

const stdoutSpanExplain = "These bytes arrived as the content of this STDOUT record; record boundaries carry no meaning in the stream. spec §5.3"

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
func (r *ResultsPanel) StdoutSpans() []Span { return r.spans }

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
func (r *ResultsPanel) row(i int) RecordRow {
	if r.x == nil {
		return RecordRow{Index: i}
	}
	info, ok := r.x.Record(i)
	if !ok {
		return RecordRow{Index: i}
	}
	anomaly := info.Err
	if r.AnomalyText != nil {
		if text := r.AnomalyText(i); text != "" {
			anomaly = joinNonEmpty(anomaly, text)
		}
	}
	switch {
	case info.Partial:
		anomaly = joinNonEmpty(anomaly, "the connection ended inside this record: only the bytes that arrived are shown")
	case info.Truncated:
		anomaly = joinNonEmpty(anomaly, "capture limit reached: only the header was kept")
	}
	return RecordRow{Index: info.Index, Dir: info.Dir, Type: info.Type, RequestID: info.RequestID,
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
	if r.n == 0 {
		r.summary.SetText("")
		return
	}
	r.summary.SetText(fmt.Sprintf("→ %d sent · ← %d received", r.sent, r.recv))
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
