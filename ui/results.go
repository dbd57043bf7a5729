// Records pane: the record stream of the current exchange, live, with the selected record decoded field by field.

package ui

import (
	"fmt"

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
	hint      *widget.Label

	x          *session.Exchange
	n          int // records shown
	sent, recv int
	ownID      uint16
	stdoutLen  int            // stdout bytes accounted for
	stdoutAt   map[int][2]int // record index -> its bytes [start, end) in stdout
	spans      []Span         // one per STDOUT record, for the raw stdout view

	// OnStdoutRecord is called when a STDOUT record of the request is
	// selected, with its bytes in the raw stdout.
	OnStdoutRecord func(start, end int)

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
		hint:      &widget.Label{Text: "Press Send (Ctrl+Enter) to see every record of the exchange, both ways", Importance: widget.LowImportance, Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord},
		stdoutAt:  map[int][2]int{},
	}
	r.decodeErr.Hide()
	r.list.OnSelected = r.onSelected
	listPane := pane(sectionHeader(r.title, secondary(r.summary)),
		container.NewStack(r.list, container.NewVBox(layout.NewSpacer(), secondary(r.hint), layout.NewSpacer())))
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
	r.stdoutAt = map[int][2]int{}
	r.spans = nil
	r.list.SetRecords(0, r.row)
	r.detail.SetRecord(nil)
	r.decodeErr.Hide()
	if x != nil {
		r.hint.SetText("Waiting for records…")
	}
	r.hint.Show()
	r.updateTitle()
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
	r.stdoutAt[info.Index] = [2]int{start, end}
	if end > start {
		r.spans = append(r.spans, Span{Start: start, End: end, Kind: KindContent,
			Name:    fmt.Sprintf("STDOUT record %d", info.Index),
			Value:   fmt.Sprintf("bytes %d–%d of stdout", start, end-1),
			Explain: "These bytes arrived as the content of this STDOUT record; record boundaries carry no meaning in the stream. spec §5.3"})
	}
}

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
	rg, ok := r.stdoutAt[i]
	return rg[0], rg[1], ok
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
