// RecordDetail: one record's fields as a tree with resizable columns, the selected field described whole, above a hex dump of its bytes.

package view

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session/dissect"
)

// RecordDetail shows one record: its fields as a tree (the header, then
// the body's fields, each name-value pair a group of its four parts, then
// the padding) in columns field, bytes and value, above a HexView of its
// bytes. Selecting a field highlights its bytes and describes it whole
// under the tree (its value uncut, what it means, its spec section);
// tapping a byte selects its field; pointing at a byte names it under the
// dump. The columns resize by their header's edges, a value cut short
// shows whole when pointed at, and Copy takes it whole.
//
// RecordDetail keeps the record it is given and its Raw bytes: the caller
// must not modify them afterwards (a Trace hook's record must be copied
// first).
type RecordDetail struct {
	widget.BaseWidget

	rec        *fcgi.Record
	fields     []dissect.Field
	rows       []fieldRef   // the rows of the tree, as shown
	open       map[int]bool // groups opened, by index in fields
	headerOpen bool         // the header group is opened for every record once the user opened it

	title   *widget.Label
	tree    *table
	note    *widget.Label
	copyBtn *widget.Button
	hex     *HexView
	split   *container.Split
}

// fieldRef is a row of the tree: a field, or one of its children.
type fieldRef struct{ top, child int } // child -1: the field itself

const noteIdle = "Select a field to see its bytes and what it means; point at a byte in the dump to name it."

// noteLines is how many lines of text the description under the tree has
// room for; a longer one scrolls.
const noteLines = 3

// NewRecordDetail returns an empty RecordDetail.
func NewRecordDetail() *RecordDetail {
	d := &RecordDetail{open: map[int]bool{}, hex: NewHexView()}
	d.title = &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis}
	d.note = &widget.Label{Wrapping: fyne.TextWrapWord, Selectable: true}
	d.tree = newTable((*detailModel)(d), true, false,
		column{title: "field", sample: "protocolStatus|HTTP_ACCEPT_LANGUAGE", align: fyne.TextAlignLeading},
		column{title: "bytes", sample: "65528–65535", align: fyne.TextAlignTrailing, keep: true},
		column{title: "value", sample: `"/srv/www/index.php"`, align: fyne.TextAlignLeading},
	)
	d.tree.onSelect = d.onRow
	d.tree.onToggle = d.toggle
	d.tree.cellText = d.cellText
	d.tree.rowText = func(row int) string { return d.field(row).Whole }
	d.copyBtn = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() {
		if f := d.selectedField(); f != nil {
			copyText(f.Whole)
		}
	})
	d.copyBtn.Importance = widget.LowImportance
	d.hex.OnTapped = d.onByte

	note := container.NewBorder(nil, nil, nil, container.NewVBox(d.copyBtn, layout.NewSpacer()), container.NewVScroll(d.note))
	top := container.New(&detailLayout{d: d}, d.title, d.tree, note)
	d.split = container.NewVSplit(top, d.hex)
	d.split.Offset = 0.62
	d.ExtendBaseWidget(d)
	d.SetRecord(nil)
	return d
}

// SetRecord shows rec, or nothing for nil.
func (d *RecordDetail) SetRecord(rec *fcgi.Record) {
	d.rec = rec
	d.fields = dissect.Fields(rec)
	clear(d.open)
	if d.headerOpen && len(d.fields) > 0 && d.fields[0].Name == "header" {
		d.open[0] = true
	}
	d.layoutRows()
	d.tree.selected, d.tree.top = -1, 0
	d.tree.tip.Hide()
	d.copyBtn.Disable()
	if rec == nil {
		d.title.SetText("No record selected")
		d.setNote("")
		d.hex.SetData(nil, nil)
	} else {
		d.title.SetText(fmt.Sprintf("Record %d · %s · request %d · %d bytes at stream offset %d",
			rec.Index, rec.Type, rec.RequestID, len(rec.Raw), rec.Offset))
		d.setNote(noteIdle)
		d.hex.SetData(rec.Raw, dissect.Spans(rec))
	}
	d.tree.Refresh()
}

// Record returns the record shown, or nil.
func (d *RecordDetail) Record() *fcgi.Record { return d.rec }

// HexView returns the dump of the record's bytes.
func (d *RecordDetail) HexView() *HexView { return d.hex }

// Split returns the split between the fields and the dump, for its
// position to be remembered.
func (d *RecordDetail) Split() *container.Split { return d.split }

// Rows returns the number of rows of the tree as shown.
func (d *RecordDetail) Rows() int { return len(d.rows) }

// Row returns the field row i of the tree shows, and its depth (0 for a
// field of the record, 1 for a part of a group).
func (d *RecordDetail) Row(i int) (f dissect.Field, depth int) {
	if i < 0 || i >= len(d.rows) {
		return dissect.Field{}, 0
	}
	if d.rows[i].child >= 0 {
		depth = 1
	}
	return *d.field(i), depth
}

// SelectField selects the first field whose name is name (as in
// dissect.Field.Name, e.g. "requestId" or a pair's name), opening the
// group that holds it, and reports whether there was one.
func (d *RecordDetail) SelectField(name string) bool {
	for ti, f := range d.fields {
		if f.Name == name {
			d.selectRef(fieldRef{ti, -1})
			return true
		}
		for ci, c := range f.Children {
			if c.Name == name {
				d.selectRef(fieldRef{ti, ci})
				return true
			}
		}
	}
	return false
}

// SelectPair selects the group of name-value pair n (numbered from 1 in
// the record, as dissect.Field.Pair) and reports whether there is one.
func (d *RecordDetail) SelectPair(n int) bool {
	for ti, f := range d.fields {
		if f.Pair == n && f.Children != nil {
			d.selectRef(fieldRef{ti, -1})
			return true
		}
	}
	return false
}

// SetOpen opens or closes the group that is field i of the record (0: the
// header), and reports whether there is such a group.
func (d *RecordDetail) SetOpen(i int, open bool) bool {
	if i < 0 || i >= len(d.fields) || d.fields[i].Children == nil {
		return false
	}
	if d.open[i] != open {
		d.toggleTop(i)
	}
	return true
}

// Explanation returns the text under the tree: what the selected field is.
func (d *RecordDetail) Explanation() string { return d.note.Text }

// ShowNote writes text under the tree in place of a description, until a
// field is selected (the teaching side says there what is anomalous about
// the record).
func (d *RecordDetail) ShowNote(text string) {
	d.tree.setSelected(-1)
	d.hex.Highlight(-1, -1)
	d.copyBtn.Disable()
	d.setNote(text)
}

// TooltipText returns the text of the tooltip on screen, "" when none is.
func (d *RecordDetail) TooltipText() string { return d.tree.tooltipText() }

// CreateRenderer links the widget to its renderer.
func (d *RecordDetail) CreateRenderer() fyne.WidgetRenderer {
	d.ExtendBaseWidget(d)
	return widget.NewSimpleRenderer(d.split)
}

func (d *RecordDetail) setNote(text string) {
	if d.note.Text != text {
		d.note.SetText(text)
	}
}

// layoutRows lists the rows of the tree: every field, and the parts of the
// open groups after theirs.
func (d *RecordDetail) layoutRows() {
	d.rows = d.rows[:0]
	for ti, f := range d.fields {
		d.rows = append(d.rows, fieldRef{ti, -1})
		if f.Children != nil && d.open[ti] {
			for ci := range f.Children {
				d.rows = append(d.rows, fieldRef{ti, ci})
			}
		}
	}
}

// field returns the field of row i.
func (d *RecordDetail) field(i int) *dissect.Field {
	ref := d.rows[i]
	if ref.child < 0 {
		return &d.fields[ref.top]
	}
	return &d.fields[ref.top].Children[ref.child]
}

// selectedField returns the selected field, or nil.
func (d *RecordDetail) selectedField() *dissect.Field {
	if i := d.tree.selected; i >= 0 && i < len(d.rows) {
		return d.field(i)
	}
	return nil
}

// rowOf returns the row of ref, or -1 when its group is closed.
func (d *RecordDetail) rowOf(ref fieldRef) int {
	for i, r := range d.rows {
		if r == ref {
			return i
		}
	}
	return -1
}

// selectRef selects the row of ref, opening its group.
func (d *RecordDetail) selectRef(ref fieldRef) {
	if ref.child >= 0 && !d.open[ref.top] {
		d.toggleTop(ref.top)
	}
	d.tree.selectRow(d.rowOf(ref))
}

// onRow describes the field of the selected row and highlights its bytes.
func (d *RecordDetail) onRow(i int) {
	f := d.field(i)
	d.setNote(f.Describe())
	d.copyBtn.Enable()
	d.hex.Highlight(f.Start, f.End)
}

// toggle opens or closes the group of row i.
func (d *RecordDetail) toggle(i int) {
	if ref := d.rows[i]; ref.child < 0 {
		d.toggleTop(ref.top)
	}
}

// toggleTop opens or closes group ti, keeping the selection on its field.
func (d *RecordDetail) toggleTop(ti int) {
	var sel *fieldRef
	if i := d.tree.selected; i >= 0 && i < len(d.rows) {
		r := d.rows[i]
		sel = &r
	}
	d.open[ti] = !d.open[ti]
	if ti == 0 && d.fields[0].Name == "header" {
		d.headerOpen = d.open[0]
	}
	d.layoutRows()
	if sel != nil {
		if sel.top == ti && sel.child >= 0 && !d.open[ti] {
			sel.child = -1 // a part of the closed group: the group
		}
		d.tree.selected = d.rowOf(*sel)
	}
	d.tree.tip.Hide()
	d.tree.Refresh()
}

// onByte selects the field that holds the tapped byte: its part when its
// group is open, else the group.
func (d *RecordDetail) onByte(off int) {
	for ti, f := range d.fields {
		if off < f.Start || off >= f.End {
			continue
		}
		ref := fieldRef{ti, -1}
		if d.open[ti] {
			for ci, c := range f.Children {
				if off >= c.Start && off < c.End {
					ref.child = ci
				}
			}
		}
		d.tree.selectRow(d.rowOf(ref))
		return
	}
}

// cellText returns a cell whole: the value uncut for the value column.
func (d *RecordDetail) cellText(row, col int) string {
	f := d.field(row)
	switch col {
	case 0:
		return f.Name
	case 1:
		return dissect.ByteRange(f.Start, f.End)
	}
	return f.Whole
}

// detailModel is the RecordDetail seen as its tree's model.
type detailModel RecordDetail

func (dm *detailModel) rowCount() int { return len(dm.rows) }

func (dm *detailModel) fillRow(i int, r *rowData) {
	d := (*RecordDetail)(dm)
	ref := d.rows[i]
	f := d.field(i)
	r.cells[0], r.cells[1], r.cells[2] = f.Name, dissect.ByteRange(f.Start, f.End), f.Value
	switch {
	case ref.child >= 0:
		r.level = 1
	case f.Children != nil && d.open[ref.top]:
		r.expander = expanded
	case f.Children != nil:
		r.expander = collapsed
	}
}

// detailLayout stacks the title, the tree and the description under it.
// The description has room for noteLines lines, whatever it says, so that
// selecting another field never moves the tree (a longer one scrolls);
// when space is short it gives up lines, down to one, for the tree to show
// up to treeRows rows.
type detailLayout struct{ d *RecordDetail }

// treeRows is how many rows of the tree the description leaves room for
// before it takes more than one line: a record's fields with the header
// closed (an END_REQUEST's appStatus and protocolStatus among them).
const treeRows = 5

func (l *detailLayout) heights() (line, pad, row float32) {
	th := l.d.Theme()
	line = fyne.MeasureText("M", th.Size(theme.SizeNameText), fyne.TextStyle{}).Height + th.Size(theme.SizeNameLineSpacing)
	return line, 2 * th.Size(theme.SizeNameInnerPadding), l.d.tree.metrics().rowH
}

func (l *detailLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	title, tree, note := objs[0], objs[1], objs[2]
	line, pad, row := l.heights()
	th := title.MinSize().Height
	rest := max(size.Height-th, 0)
	want := row*(treeRows+1) + 2 // the header's separator
	nh := min(max(rest-want, line+pad), float32(noteLines)*line+pad)
	title.Move(fyne.NewPos(0, 0))
	title.Resize(fyne.NewSize(size.Width, th))
	tree.Move(fyne.NewPos(0, th))
	tree.Resize(fyne.NewSize(size.Width, max(rest-nh, 0)))
	note.Move(fyne.NewPos(0, th+max(rest-nh, 0)))
	note.Resize(fyne.NewSize(size.Width, nh))
}

func (l *detailLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	line, pad, _ := l.heights()
	w := max(objs[1].MinSize().Width, objs[2].MinSize().Width)
	return fyne.NewSize(w, objs[0].MinSize().Height+objs[1].MinSize().Height+line+pad)
}
