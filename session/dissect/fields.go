// The field tree: a record's fields as a protocol analyser's detail pane lists them, the header and each name-value pair a group of its parts.

package dissect

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// Field is one line of a record's dissection: a protocol field, or a group
// of fields (the record header, a name-value pair) whose parts are its
// Children, in byte order. A leaf's bytes are those of one logical field:
// a multi-byte integer is one Field here and one Span per byte in Spans.
type Field struct {
	// Start and End delimit the bytes [Start, End) in the record's Raw bytes.
	Start, End int
	// Name is what the field is called: as the specification's structs
	// spell it ("requestId", "nameLength"), "header" for the record header,
	// and for a name-value pair its name ("SCRIPT_FILENAME").
	Name string
	// Value is the decoded value written for a reader, short enough for a
	// table cell: long strings are cut, with their length (see Whole).
	Value string
	// Whole is the value uncut, up to MaxWhole bytes of it, for a line
	// that has room to show it.
	Whole string
	// Explain says what the field means, ending with its spec section.
	Explain string
	// Pair numbers the name-value pair the field belongs to, as in Span.
	Pair int
	// FromPrev and ToNext mark a pair that straddles records, as in Span.
	FromPrev, ToNext bool
	// Children are the parts of a group, nil for a leaf.
	Children []Field

	sentence string // the whole description of a pair, for Describe
}

// MaxWhole bounds the bytes of a value that Field.Whole shows.
const MaxWhole = 16 << 10

// Describe returns what a detail line says of f: its name, whole value and
// bytes, then what it means with its spec section.
func (f Field) Describe() string {
	if f.sentence != "" {
		return f.sentence
	}
	return fmt.Sprintf("%s = %s (bytes %s). %s", f.Name, f.Whole, ByteRange(f.Start, f.End), f.Explain)
}

// ByteRange shows the bytes [start, end) as "start–last", or one offset.
func ByteRange(start, end int) string {
	if end-start == 1 {
		return strconv.Itoa(start)
	}
	return strconv.Itoa(start) + "–" + strconv.Itoa(end-1)
}

const explainHeader = "The 8-byte header every record starts with: version, type, request id, " +
	"content length and padding length. spec §3.3"

// Fields returns the field tree of rec: the header as one group, then the
// body's fields (a name-value pair a group of its four parts), then the
// padding. The leaves cover every byte of rec.Raw exactly once, in order.
// Fields never panics; it returns nil for nil.
func Fields(rec *fcgi.Record) []Field {
	fields := recordFields(rec)
	if fields == nil {
		return nil
	}
	var out []Field
	k := 0 // the first field after the header
	for ; k < len(fields) && fields[k].Kind == KindHeader; k++ {
		f := fields[k]
		if k == 0 {
			out = append(out, Field{Start: f.Start, Name: "header", Value: headerValue(rec.Header), Explain: explainHeader})
			out[0].Whole = out[0].Value
		}
		out[0].End = f.End
		out[0].Children = append(out[0].Children, leaf(rec, f))
	}
	if _, ok := pairsOf(rec); ok {
		return append(out, pairGroups(rec, fields[k:])...)
	}
	for _, f := range fields[k:] {
		out = append(out, leaf(rec, f))
	}
	return out
}

// headerValue sums up a header: type, request, lengths, and the version
// when it is not 1.
func headerValue(h fcgi.Header) string {
	s := fmt.Sprintf("%s · request %d · content %d · padding %d", h.Type, h.RequestID, h.ContentLength, h.PaddingLength)
	if h.Version != fcgi.Version1 {
		s = fmt.Sprintf("version %d · ", h.Version) + s
	}
	return s
}

// leaf returns the Field of one logical field, its value whole.
func leaf(rec *fcgi.Record, f field) Field {
	out := Field{Start: f.Start, End: f.End, Name: f.Name, Value: f.Value, Whole: f.Value, Explain: f.Explain,
		Pair: f.Pair, FromPrev: f.FromPrev, ToNext: f.ToNext}
	switch {
	case f.Kind == KindName || f.Kind == KindValue:
		out.Whole = quoteWhole(string(rec.Raw[f.Start:f.End]))
	case f.Kind == KindContent && f.Name != "undecoded":
		out.Whole = fmt.Sprintf("%d bytes: %s", f.End-f.Start, quoteWhole(string(rec.Raw[f.Start:f.End])))
	}
	return out
}

// pairsOf returns the decoded pairs of a PARAMS or GET_VALUES record.
func pairsOf(rec *fcgi.Record) (*fcgi.Pairs, bool) {
	if rec == nil {
		return nil, false
	}
	p, ok := rec.Body.(*fcgi.Pairs)
	return p, ok && p != nil
}

// pairGroups returns the fields of a pairs body: one group per pair (or
// the part of one that straddles a record boundary), the middle of a pair
// as a leaf, then what follows the pairs (padding).
func pairGroups(rec *fcgi.Record, fields []field) []Field {
	p, _ := pairsOf(rec)
	var out []Field
	for _, f := range fields {
		if f.Pair == 0 {
			l := leaf(rec, f)
			if f.Kind == KindFragment {
				l.Name = "(middle of a pair)"
				l.sentence = fmt.Sprintf("Bytes %s are the middle of a name-value pair that began in an earlier record "+
					"and ends in a later one. spec §3.4", ByteRange(f.Start, f.End))
			}
			out = append(out, l)
			continue
		}
		if n := len(out); n == 0 || out[n-1].Pair != f.Pair || out[n-1].Children == nil {
			out = append(out, Field{Start: f.Start, Pair: f.Pair})
		}
		g := &out[len(out)-1]
		g.End = f.End
		g.FromPrev = g.FromPrev || f.FromPrev
		g.ToNext = g.ToNext || f.ToNext
		g.Children = append(g.Children, leaf(rec, f))
	}
	for i := range out {
		if g := &out[i]; g.Pair > 0 {
			describePair(rec, p, g)
		}
	}
	return out
}

// describePair names a pair group and writes its sentence: the decoded
// pair when it is whole in this record or began in an earlier one, what
// is here of one that the next record completes.
func describePair(rec *fcgi.Record, p *fcgi.Pairs, g *Field) {
	var name, value, sizes string
	whole := g.Pair <= len(p.Fields)
	if whole {
		pf := p.Fields[g.Pair-1]
		name, value = pf.Name, pf.Value
		sizes = fmt.Sprintf("%d+%d", pf.NameLenSize, pf.ValueLenSize)
	} else {
		for _, c := range g.Children {
			switch c.Name {
			case "nameData":
				name = string(rec.Raw[c.Start:c.End])
			case "valueData":
				value = string(rec.Raw[c.Start:c.End])
			}
		}
	}
	g.Name = display(name)
	g.Value, g.Whole = quote(value), quoteWhole(value)
	g.Explain = explainPair
	switch {
	case !whole && name == "":
		g.Name = "(pair continues in the next record)"
		g.Value, g.Whole = "", ""
		g.sentence = fmt.Sprintf("Pair %d, cut at the end of this record: bytes %s. spec §3.4", g.Pair, ByteRange(g.Start, g.End))
	case !whole:
		g.Name += "…"
		g.Value += "…"
		g.sentence = fmt.Sprintf("Pair %d, cut at the end of this record: bytes %s hold %s = %s so far. spec §3.4",
			g.Pair, ByteRange(g.Start, g.End), quoteWhole(name), g.Whole)
	default:
		g.sentence = fmt.Sprintf("Pair %d: %s = %s. Bytes %s; name and value lengths take %s bytes "+
			"(1-byte form below 128, else 4). spec §3.4", g.Pair, quoteWhole(name), g.Whole, ByteRange(g.Start, g.End), sizes)
	}
	if g.FromPrev {
		g.sentence += " It began in the previous record of this stream."
	}
	if g.ToNext {
		g.sentence += " The next record of this stream completes it."
	}
}

const explainPair = "A name-value pair: a name length, a value length, the name and the value. spec §3.4"

// quoteWhole shows s as a Go-quoted string, cut to MaxWhole bytes.
func quoteWhole(s string) string {
	if len(s) <= MaxWhole {
		return strconv.Quote(s)
	}
	cut := MaxWhole
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// display shows a pair's name as it is when it is plain printable text,
// quoted otherwise, cut to maxPreview characters.
func display(s string) string {
	plain := s != "" && strings.TrimSpace(s) == s
	for _, r := range s {
		if !strconv.IsPrint(r) || r == '"' {
			plain = false
			break
		}
	}
	if !plain {
		return quote(s)
	}
	if utf8.RuneCountInString(s) <= maxPreview {
		return s
	}
	return string([]rune(s)[:maxPreview]) + fmt.Sprintf("… (%d bytes)", len(s))
}

// StdoutSpan names the bytes [start, end) of an exchange's stdout as the
// content of STDOUT record index: a hex dump of the whole stdout shows
// where each record's bytes lie. It is built without fmt, since an
// exchange may have 100,000 STDOUT records.
func StdoutSpan(index, start, end int) Span {
	return Span{Start: start, End: end, Kind: KindContent,
		Name:    "STDOUT record " + strconv.Itoa(index),
		Value:   "bytes " + strconv.Itoa(start) + "–" + strconv.Itoa(end-1) + " of stdout",
		Explain: explainStdoutSpan}
}

const explainStdoutSpan = "These bytes arrived as the content of this STDOUT record; record boundaries carry no meaning in the stream. spec §5.3"
