// RecordDetail: the decoded fields of one record above a hex dump of its bytes.

package ui

import (
	"fmt"
	"strconv"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
)

// RecordDetail shows one record: a list of its decoded fields (header,
// role and flags, statuses, content) with the name-value pairs of PARAMS
// and GET_VALUES records as a table, above a HexView of its raw bytes.
// Selecting a field or a pair highlights its bytes; tapping a byte selects
// its field; pointing at a byte names it under the dump. All methods must
// be called on the UI goroutine.
type RecordDetail struct {
	widget.BaseWidget

	rec   *fcgi.Record
	rows  []field   // the field list's rows
	pairs []pairRow // the pair table's rows

	title     *widget.Label
	fieldList *widget.List
	pairSplit *container.Split // the field list beside the pair table
	pairList  *widget.List
	explain   *widget.Label
	hex       *HexView
	center    *fyne.Container
	root      fyne.CanvasObject
}

// NewRecordDetail returns an empty RecordDetail.
func NewRecordDetail() *RecordDetail {
	d := &RecordDetail{
		title:   widget.NewLabel(""),
		explain: widget.NewLabel(""),
		hex:     NewHexView(),
	}
	d.title.TextStyle.Bold = true
	d.title.Truncation = fyne.TextTruncateEllipsis
	d.explain.Wrapping = fyne.TextWrapWord

	fieldCols := []column{
		{"field", "protocolStatus|paddingLength|contentLength|paddingData|stderr data", fyne.TextAlignLeading},
		{"bytes", "65528–65535", fyne.TextAlignTrailing},
		{"value", "", fyne.TextAlignLeading},
	}
	d.fieldList = widget.NewList(
		func() int { return len(d.rows) },
		func() fyne.CanvasObject { return newTableRow(fieldCols, false) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(d.rows) {
				f := d.rows[id]
				o.(*tableRow).set(f.Name, byteRange(f.Start, f.End), f.Value)
			}
		})
	d.fieldList.OnSelected = d.onField

	pairCols := []column{
		{"#", "000", fyne.TextAlignTrailing},
		{"name", "HTTP_ACCEPT_LANGUAGE", fyne.TextAlignLeading},
		{"lengths", "lengths", fyne.TextAlignCenter},
		{"value", "", fyne.TextAlignLeading},
	}
	d.pairList = widget.NewList(
		func() int { return len(d.pairs) },
		func() fyne.CanvasObject { return newTableRow(pairCols, false) },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(d.pairs) {
				p := d.pairs[id]
				num := ""
				if p.Pair > 0 {
					num = strconv.Itoa(p.Pair)
				}
				o.(*tableRow).set(num, p.Name, p.LenSizes, p.Value)
			}
		})
	d.pairList.OnSelected = d.onPair
	pairBox := container.NewBorder(newTableRow(pairCols, true), nil, nil, nil, d.pairList)
	d.pairSplit = container.NewHSplit(d.fieldList, pairBox)
	d.pairSplit.Offset = 0.45

	d.hex.OnTapped = d.onByte
	d.center = container.NewStack(d.fieldList)
	top := container.NewBorder(d.title, d.explain, nil, nil, d.center)
	split := container.NewVSplit(top, d.hex)
	split.Offset = 0.45
	d.root = split
	d.ExtendBaseWidget(d)
	d.SetRecord(nil)
	return d
}

// SetRecord shows rec, or nothing for nil. RecordDetail keeps rec and its
// Raw bytes: the caller must not modify them afterwards (a Trace hook's
// record must be copied first).
func (d *RecordDetail) SetRecord(rec *fcgi.Record) {
	d.rec = rec
	d.fieldList.UnselectAll()
	d.pairList.UnselectAll()
	fields := recordFields(rec)
	d.rows, d.pairs = detailRows(rec, fields), pairRows(rec, fields)
	if rec == nil {
		d.title.SetText("No record selected")
		d.explain.SetText("")
		d.hex.SetData(nil, nil)
	} else {
		d.title.SetText(fmt.Sprintf("Record %d · %s · request %d · %d bytes at stream offset %d",
			rec.Index, rec.Type, rec.RequestID, len(rec.Raw), rec.Offset))
		d.explain.SetText("Select a field to see its bytes and what it means; point at a byte in the dump to name it.")
		d.hex.SetData(rec.Raw, Spans(rec))
	}
	if _, ok := bodyPairs(rec); ok {
		d.center.Objects = []fyne.CanvasObject{d.pairSplit}
	} else {
		d.center.Objects = []fyne.CanvasObject{d.fieldList}
	}
	d.center.Refresh()
	d.fieldList.Refresh()
	d.pairList.Refresh()
}

// Record returns the record shown, or nil.
func (d *RecordDetail) Record() *fcgi.Record { return d.rec }

// HexView returns the dump of the record's bytes.
func (d *RecordDetail) HexView() *HexView { return d.hex }

// SelectField selects the first field of the list whose name is name (as
// in Span.Name, e.g. "requestId") and reports whether there was one.
func (d *RecordDetail) SelectField(name string) bool {
	for i, f := range d.rows {
		if f.Name == name {
			d.fieldList.Select(i)
			return true
		}
	}
	return false
}

// SelectPair selects row i of the pair table (0-based) and reports whether
// it exists.
func (d *RecordDetail) SelectPair(i int) bool {
	if i < 0 || i >= len(d.pairs) {
		return false
	}
	d.pairList.Select(i)
	return true
}

// Explanation returns the text under the field list: what the selected
// field or pair is.
func (d *RecordDetail) Explanation() string { return d.explain.Text }

// CreateRenderer links the widget to its renderer.
func (d *RecordDetail) CreateRenderer() fyne.WidgetRenderer {
	d.ExtendBaseWidget(d)
	return widget.NewSimpleRenderer(d.root)
}

func (d *RecordDetail) onField(id widget.ListItemID) {
	if id >= len(d.rows) {
		return
	}
	d.pairList.UnselectAll()
	f := d.rows[id]
	d.explain.SetText(fmt.Sprintf("%s = %s (%s). %s", f.Name, f.Value, byteRange(f.Start, f.End), f.Explain))
	d.hex.Highlight(f.Start, f.End)
}

func (d *RecordDetail) onPair(id widget.ListItemID) {
	if id >= len(d.pairs) {
		return
	}
	d.fieldList.UnselectAll()
	p := d.pairs[id]
	var text string
	if p.Pair == 0 {
		text = fmt.Sprintf("Bytes %s are the middle of a name-value pair that began in an earlier record and ends in a later one. spec §3.4",
			byteRange(p.Start, p.End))
	} else {
		text = fmt.Sprintf("Pair %d: %s = %s. Bytes %s; name and value lengths take %s bytes (1-byte form below 128, else 4). spec §3.4",
			p.Pair, quote(p.Name), quote(p.Value), byteRange(p.Start, p.End), p.LenSizes)
		if p.LenSizes == "" {
			text = fmt.Sprintf("Pair %d, cut at the end of this record: bytes %s. spec §3.4", p.Pair, byteRange(p.Start, p.End))
		}
		if p.FromPrev {
			text += " It began in the previous record of this stream."
		}
		if p.ToNext {
			text += " The next record of this stream completes it."
		}
	}
	d.explain.SetText(text)
	d.hex.Highlight(p.Start, p.End)
}

// onByte selects the field or pair holding the tapped byte.
func (d *RecordDetail) onByte(off int) {
	for i, p := range d.pairs {
		if off >= p.Start && off < p.End {
			d.pairList.Select(i)
			d.pairList.ScrollTo(i)
			return
		}
	}
	for i, f := range d.rows {
		if f.Contains(off) {
			d.fieldList.Select(i)
			d.fieldList.ScrollTo(i)
			return
		}
	}
}

// bodyPairs returns the decoded pairs of a PARAMS or GET_VALUES record.
func bodyPairs(rec *fcgi.Record) (*fcgi.Pairs, bool) {
	if rec == nil {
		return nil, false
	}
	p, ok := rec.Body.(*fcgi.Pairs)
	return p, ok && p != nil
}

// detailRows returns the rows of the field list: the record's fields, with
// the fields of name-value pairs folded into one "pairs" row (the pair
// table shows them one by one).
func detailRows(rec *fcgi.Record, fields []field) []field {
	p, ok := bodyPairs(rec)
	if !ok {
		return fields
	}
	var out []field
	sum := -1
	for _, f := range fields {
		if f.Pair == 0 && f.Kind != KindFragment {
			out = append(out, f)
			continue
		}
		if sum < 0 {
			sum = len(out)
			out = append(out, field{Span: Span{Start: f.Start, Kind: KindContent, Name: "pairs",
				Explain: "Name-value pairs, each a name length, a value length, the name and the value; " +
					"the table beside this list shows them one by one. spec §3.4"}})
		}
		out[sum].End = f.End
	}
	if sum >= 0 {
		v := fmt.Sprintf("%d complete in this record", len(p.Fields))
		if len(p.Fields) == 1 {
			v = "1 complete in this record"
		}
		if p.Carried > 0 {
			v += fmt.Sprintf("; the first %d bytes finish a pair from the previous record", p.Carried)
		}
		if p.Pending > 0 {
			v += fmt.Sprintf("; the last %d bytes begin a pair that the next record completes", p.Pending)
		}
		out[sum].Value = v
	}
	return out
}

// byteRange shows the bytes [start, end) as "start–last".
func byteRange(start, end int) string {
	if end-start == 1 {
		return strconv.Itoa(start)
	}
	return fmt.Sprintf("%d–%d", start, end-1)
}

// tableRow is a row of labels in fixed columns (the last one stretches);
// long texts end in an ellipsis rather than widen the row.
type tableRow struct {
	widget.BaseWidget
	cells []*widget.Label
	box   *fyne.Container
}

func newTableRow(cols []column, header bool) *tableRow {
	r := &tableRow{}
	objs := make([]fyne.CanvasObject, len(cols))
	for i, c := range cols {
		lb := widget.NewLabel("")
		lb.Alignment = c.align
		lb.Truncation = fyne.TextTruncateEllipsis
		if header {
			lb.TextStyle.Bold = true
			lb.SetText(c.title)
		}
		r.cells = append(r.cells, lb)
		objs[i] = lb
	}
	r.box = container.New(newColumnsLayout(func(th fyne.Theme) []float32 {
		ws := make([]float32, len(cols))
		for i, c := range cols {
			ws[i] = columnWidth(th, c)
		}
		if len(ws) > 0 {
			ws[len(ws)-1] = max(ws[len(ws)-1], 4*th.Size(theme.SizeNameText))
		}
		return ws
	}), objs...)
	r.ExtendBaseWidget(r)
	return r
}

// set shows texts in the columns, in order.
func (r *tableRow) set(texts ...string) {
	for i, s := range texts {
		if i < len(r.cells) && r.cells[i].Text != s {
			r.cells[i].SetText(s)
		}
	}
}

// CreateRenderer links the row to its renderer.
func (r *tableRow) CreateRenderer() fyne.WidgetRenderer {
	r.ExtendBaseWidget(r)
	return widget.NewSimpleRenderer(r.box)
}
