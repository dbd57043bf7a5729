// The rows of a RecordList: the records a filter lets through, consecutive records of one kind folded into runs; it needs no Fyne.

package view

import (
	"slices"

	"fcgiscope/fcgi"
)

// RecordFilter says which records a RecordList shows. The zero value shows
// every record.
type RecordFilter struct {
	Type fcgi.RecordType // only records of this type; 0 for every type
	Dir  fcgi.Direction  // only records that went this way; 0 for both
}

// passes reports whether a record of type t that went way d is shown.
func (f RecordFilter) passes(t fcgi.RecordType, d fcgi.Direction) bool {
	return (f.Type == 0 || f.Type == t) && (f.Dir == 0 || f.Dir == d)
}

// FoldMin is the shortest run of consecutive records of one type, one
// direction and one request that a RecordList folds into one line.
const FoldMin = 4

// recKey is what the rows need of a record: what makes runs, what a run
// line sums up.
type recKey struct {
	typ     fcgi.RecordType
	dir     fcgi.Direction
	pad     uint8
	marked  bool
	id      uint16
	content uint16
}

// sameRun reports whether records a and b can be consecutive in one run.
func sameRun(a, b recKey) bool { return a.typ == b.typ && a.dir == b.dir && a.id == b.id }

// run is a maximal run of consecutive shown records of one kind: the
// shown records pos to pos+n-1.
type run struct {
	pos, n   int32
	row      int32 // its first row
	content  int64 // content bytes of its records
	pad      int64 // padding bytes of its records
	marked   int32 // its records with a mark
	firstMrk int32 // its first marked record, -1 for none
}

// rowRef is one row: a run's line (member -1: a folded run's own line) or
// one record of a run.
type rowRef struct {
	run, member int32
}

// runRows maps the records of an exchange to the rows of a list: the
// records a filter lets through, in order, with each run of FoldMin or more
// consecutive records of one kind folded into one line when folding is on;
// a folded run opened by the user shows its records under its line.
type runRows struct {
	keys   []recKey
	filter RecordFilter
	fold   bool
	open   map[int32]bool // folded runs the user opened, by first record

	shown []int32 // the records the filter lets through
	runs  []run
	rows  []rowRef
}

func newRunRows() *runRows { return &runRows{fold: true, open: map[int32]bool{}} }

// reset forgets every record.
func (m *runRows) reset() {
	m.keys, m.shown, m.runs, m.rows = m.keys[:0], m.shown[:0], m.runs[:0], m.rows[:0]
	clear(m.open)
}

// add appends records to the model.
func (m *runRows) add(keys ...recKey) {
	for _, k := range keys {
		i := int32(len(m.keys))
		m.keys = append(m.keys, k)
		if m.filter.passes(k.typ, k.dir) {
			m.push(i)
		}
	}
}

// push adds shown record i after the others: to the last run when it is
// of the same kind, else in a run of its own; and the rows follow.
func (m *runRows) push(i int32) {
	k := m.keys[i]
	pos := int32(len(m.shown))
	m.shown = append(m.shown, i)
	if n := len(m.runs); n > 0 && sameRun(m.keys[m.shown[m.runs[n-1].pos]], k) {
		r := &m.runs[n-1]
		wasFolded := m.folded(r)
		r.n++
		r.count(k, i)
		switch {
		case !m.folded(r):
			m.rows = append(m.rows, rowRef{int32(n - 1), r.n - 1})
		case !wasFolded: // it folds now: its line replaces its records
			m.rows = m.rows[:r.row]
			m.appendRun(int32(n - 1))
		case m.isOpen(r):
			m.rows = append(m.rows, rowRef{int32(n - 1), r.n - 1})
		}
		return
	}
	m.runs = append(m.runs, run{pos: pos, n: 1, row: int32(len(m.rows)), firstMrk: -1})
	m.runs[len(m.runs)-1].count(k, i)
	m.rows = append(m.rows, rowRef{int32(len(m.runs) - 1), 0})
}

// count adds record i, of key k, to the sums of r.
func (r *run) count(k recKey, i int32) {
	r.content += int64(k.content)
	r.pad += int64(k.pad)
	if k.marked {
		r.marked++
		if r.firstMrk < 0 {
			r.firstMrk = i
		}
	}
}

// folded reports whether run r shows as one line.
func (m *runRows) folded(r *run) bool { return m.fold && r.n >= FoldMin }

// isOpen reports whether the user opened folded run r.
func (m *runRows) isOpen(r *run) bool { return m.open[m.shown[r.pos]] }

// appendRun appends the rows of run ri.
func (m *runRows) appendRun(ri int32) {
	r := &m.runs[ri]
	r.row = int32(len(m.rows))
	if !m.folded(r) {
		for k := range r.n {
			m.rows = append(m.rows, rowRef{ri, k})
		}
		return
	}
	m.rows = append(m.rows, rowRef{ri, -1})
	if m.isOpen(r) {
		for k := range r.n {
			m.rows = append(m.rows, rowRef{ri, k})
		}
	}
}

// rebuildRows lays out the rows again from run ri on.
func (m *runRows) rebuildRows(ri int32) {
	if int(ri) >= len(m.runs) {
		return
	}
	m.rows = m.rows[:m.runs[ri].row]
	for j := ri; int(j) < len(m.runs); j++ {
		m.appendRun(j)
	}
}

// rebuild computes the shown records, the runs and the rows again, after
// the filter or the marks changed.
func (m *runRows) rebuild() {
	m.shown, m.runs, m.rows = m.shown[:0], m.runs[:0], m.rows[:0]
	for i, k := range m.keys {
		if m.filter.passes(k.typ, k.dir) {
			m.push(int32(i))
		}
	}
}

// setFilter shows the records f lets through.
func (m *runRows) setFilter(f RecordFilter) {
	if f == m.filter {
		return
	}
	m.filter = f
	m.rebuild()
}

// setFold turns folding on or off.
func (m *runRows) setFold(on bool) {
	if on == m.fold {
		return
	}
	m.fold = on
	m.rebuildRows(0)
}

// locate returns the run that shows record i and the record's place in
// it, or -1 when the filter hides it.
func (m *runRows) locate(i int) (ri, k int32) {
	pos, ok := slices.BinarySearch(m.shown, int32(i))
	if !ok {
		return -1, 0
	}
	at, found := slices.BinarySearchFunc(m.runs, int32(pos), func(r run, p int32) int {
		switch {
		case p < r.pos:
			return 1
		case p >= r.pos+r.n:
			return -1
		}
		return 0
	})
	if !found {
		return -1, 0
	}
	return int32(at), int32(pos) - m.runs[at].pos
}

// rowOf returns the row that shows record i itself, opening its run if it
// is folded, or -1 when the filter hides it.
func (m *runRows) rowOf(i int) int {
	ri, k := m.locate(i)
	if ri < 0 {
		return -1
	}
	r := &m.runs[ri]
	if !m.folded(r) {
		return int(r.row + k)
	}
	if !m.isOpen(r) {
		m.setOpen(ri, true)
	}
	return int(r.row + 1 + k)
}

// lineOf returns the row that stands for record i without opening
// anything: its own row, or the line of the folded run that holds it; -1
// when the filter hides it.
func (m *runRows) lineOf(i int) int {
	ri, k := m.locate(i)
	if ri < 0 {
		return -1
	}
	r := &m.runs[ri]
	switch {
	case !m.folded(r):
		return int(r.row + k)
	case !m.isOpen(r):
		return int(r.row)
	}
	return int(r.row + 1 + k)
}

// setOpen opens or closes folded run ri.
func (m *runRows) setOpen(ri int32, open bool) {
	r := &m.runs[ri]
	if !m.folded(r) || m.isOpen(r) == open {
		return
	}
	first := m.shown[r.pos]
	if open {
		m.open[first] = true
	} else {
		delete(m.open, first)
	}
	m.rebuildRows(ri)
}

// record returns the record row j shows: its own, or the first of a run's line.
func (m *runRows) record(j int) int {
	ref := m.rows[j]
	r := &m.runs[ref.run]
	return int(m.shown[r.pos+max(ref.member, 0)])
}

// isLine reports whether row j is the line of a folded run.
func (m *runRows) isLine(j int) bool { return m.rows[j].member < 0 }

// runAt returns the run row j belongs to.
func (m *runRows) runAt(j int) *run { return &m.runs[m.rows[j].run] }

// remark sets the mark of every record and sums the runs' marks again.
func (m *runRows) remark(marked func(i int) bool) {
	for i := range m.keys {
		m.keys[i].marked = marked(i)
	}
	for ri := range m.runs {
		r := &m.runs[ri]
		r.marked, r.firstMrk = 0, -1
		for _, i := range m.shown[r.pos : r.pos+r.n] {
			if m.keys[i].marked {
				r.marked++
				if r.firstMrk < 0 {
					r.firstMrk = i
				}
			}
		}
	}
}
