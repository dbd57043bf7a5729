// The byte map: which bytes of a record are which protocol field, with the value each holds and what it means.

package dissect

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// Kind classifies the bytes of a Span: a hex dump gives each kind its own
// colour.
type Kind uint8

// Span kinds.
const (
	KindHeader    Kind = iota + 1 // a field of the 8-byte record header (spec §3.3)
	KindBodyField                 // a field of a fixed-size body: BEGIN_REQUEST, END_REQUEST, UNKNOWN_TYPE
	KindNameLen1                  // a name length in the 1-byte form (spec §3.4)
	KindNameLen4                  // a name length in the 4-byte form (spec §3.4)
	KindValueLen1                 // a value length in the 1-byte form (spec §3.4)
	KindValueLen4                 // a value length in the 4-byte form (spec §3.4)
	KindName                      // the name bytes of a name-value pair
	KindValue                     // the value bytes of a name-value pair
	KindContent                   // content without inner structure: stream data, undecodable bodies
	KindFragment                  // the middle of a name-value pair that begins and ends in other records
	KindPadding                   // padding after the content (spec §3.3)
)

var kindNames = [...]string{
	KindHeader:    "header",
	KindBodyField: "body field",
	KindNameLen1:  "name length (1 byte)",
	KindNameLen4:  "name length (4 bytes)",
	KindValueLen1: "value length (1 byte)",
	KindValueLen4: "value length (4 bytes)",
	KindName:      "name",
	KindValue:     "value",
	KindContent:   "content",
	KindFragment:  "pair fragment",
	KindPadding:   "padding",
}

// String names the kind, e.g. "name length (4 bytes)".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "kind " + strconv.Itoa(int(k))
}

// Span is a run of bytes of one record that forms one protocol field, such
// as the record's requestIdB1 byte or the name of a name-value pair.
type Span struct {
	// Start and End delimit the bytes [Start, End) in the record's Raw bytes.
	Start, End int
	Kind       Kind
	// Name is the field's name as the specification's structs spell it,
	// e.g. "requestIdB1", "nameLength", "valueData".
	Name string
	// Value is the decoded value, written for a reader, e.g. "6 (STDOUT)".
	Value string
	// Explain says what the field means, ending with its spec section.
	Explain string
	// Pair numbers the name-value pair the span belongs to, from 1 in the
	// order pairs appear in this record; 0 outside pairs.
	Pair int
	// FromPrev marks the spans of a pair that began in an earlier record
	// of the same stream; ToNext those of a pair that a later record
	// completes (spec §3.4: a pair may straddle records). Explain says
	// which bytes of a cut field are here.
	FromPrev, ToNext bool
}

// Len returns the number of bytes of the span.
func (s Span) Len() int { return s.End - s.Start }

// Contains reports whether the byte at offset off lies in the span.
func (s Span) Contains(off int) bool { return off >= s.Start && off < s.End }

// Spans returns the field layout of rec: every byte of rec.Raw lies in
// exactly one span, and the spans are in byte order. Multi-byte integers
// are split into one span per byte as the specification's structs name
// them (requestIdB1, requestIdB0, ...). Spans never panics: a record whose
// body does not decode shows its content as one KindContent span.
func Spans(rec *fcgi.Record) []Span {
	fields := recordFields(rec)
	if fields == nil {
		return nil
	}
	out := make([]Span, 0, len(fields)+8)
	for _, f := range fields {
		if f.split == 0 {
			out = append(out, f.Span)
			continue
		}
		for off := f.Start; off < f.End; off++ {
			b := f.split - 1 - (off - f.splitStart) // B<n-1> comes first
			s := f.Span
			s.Start, s.End = off, off+1
			s.Name = fmt.Sprintf("%sB%d", f.Name, b)
			s.Value = fmt.Sprintf("0x%02x, part of %s = %s", rec.Raw[off], f.Name, f.Value)
			s.Explain = byteOrder(f.Name, f.split, b) + f.Explain
			out = append(out, s)
		}
	}
	return out
}

// byteOrder introduces one byte of a big-endian integer of n bytes.
func byteOrder(name string, n, b int) string {
	switch b {
	case n - 1:
		return fmt.Sprintf("Most significant byte (B%d) of %s, which is sent big-endian. ", b, name)
	case 0:
		return fmt.Sprintf("Least significant byte (B0) of %s, which is sent big-endian. ", name)
	}
	return fmt.Sprintf("Byte B%d of %s, which is sent big-endian. ", b, name)
}

// field is one logical protocol field: a Span whose multi-byte integers are
// still whole. Fields groups these into a tree.
type field struct {
	Span
	// split is the size of a big-endian integer that the spec spells byte
	// by byte (B1, B0, ...), starting at splitStart; 0 for other fields.
	split, splitStart int
}

// Explanations, written for fcgiscope. Each ends with its spec section.
const (
	explainVersion = "The protocol version. FastCGI 1.0 is the only version there is, so this is always 1 " +
		"(FCGI_VERSION_1); any other value means the peer speaks something else or the byte stream is out of step. spec §3.3"
	explainType = "The record type: it says how to read the content. Types 1 to 11 are defined (spec §8); " +
		"an application answers a management record of any other type with UNKNOWN_TYPE. spec §3.3"
	explainRequestID = "The request this record belongs to. 0 is reserved for management records " +
		"(GET_VALUES and friends); 1 and above name a request from BEGIN_REQUEST to END_REQUEST, " +
		"which lets several requests share one connection. spec §3.3"
	explainContentLength = "How many content bytes follow the header (0 to 65535). " +
		"A stream record (PARAMS, STDIN, STDOUT, STDERR, DATA) with length 0 closes its stream. spec §3.3"
	explainPaddingLength = "How many padding bytes follow the content (0 to 255). Senders pad so that every " +
		"record is a multiple of 8 bytes long; receivers skip the padding. spec §3.3"
	explainHeaderReserved = "Reserved: sent as 0, ignored on receipt. spec §3.3"
	explainRole           = "The role the web server asks the application to play: 1 RESPONDER (produce a response), " +
		"2 AUTHORIZER (grant or refuse access), 3 FILTER (transform a file sent on DATA). spec §5.1, §6"
	explainFlags = "Bit 0 is FCGI_KEEP_CONN. Set: the web server keeps the connection and may send another " +
		"request on it. Clear: the application closes the connection after END_REQUEST. Other bits are unused. spec §5.1"
	explainBeginReserved = "Five reserved bytes, sent as 0. spec §5.1"
	explainAppStatus     = "The application's exit status, like the exit code of a CGI program; " +
		"0 usually means success. spec §5.5"
	explainProtocolStatus = "Why the request ended at protocol level: 0 REQUEST_COMPLETE (normal end), " +
		"1 CANT_MPX_CONN (this connection takes one request at a time), 2 OVERLOADED (out of resources), " +
		"3 UNKNOWN_ROLE (the role in BEGIN_REQUEST is not supported). spec §5.5"
	explainEndReserved     = "Three reserved bytes, sent as 0. spec §5.5"
	explainUnknownTypeType = "The type of the management record the application did not understand, " +
		"sent back so the web server knows which one. spec §4.2"
	explainUnknownReserved = "Seven reserved bytes, sent as 0. spec §4.2"
	explainNameLen1        = "Length of the pair's name in the short form: one byte with the top bit clear, " +
		"for names of 0 to 127 bytes. spec §3.4"
	explainNameLen4 = "Length of the pair's name in the long form: four bytes, big-endian, for names of 128 bytes " +
		"or more. The top bit of the first byte is set to mark the form and is not part of the length. spec §3.4"
	explainValueLen1 = "Length of the pair's value in the short form: one byte with the top bit clear, " +
		"for values of 0 to 127 bytes. spec §3.4"
	explainValueLen4 = "Length of the pair's value in the long form: four bytes, big-endian, for values of 128 bytes " +
		"or more. The top bit of the first byte is set to mark the form and is not part of the length. spec §3.4"
	explainName = "The name, exactly nameLength bytes, with no terminator. In PARAMS it is a CGI variable " +
		"such as SCRIPT_FILENAME; in GET_VALUES a variable the web server asks about. spec §3.4"
	explainValue = "The value, exactly valueLength bytes, with no terminator. GET_VALUES sends empty values; " +
		"GET_VALUES_RESULT fills them in. spec §3.4"
	explainFragment = "The middle of a name-value pair that began in an earlier PARAMS record and ends in a later one: " +
		"a pair may straddle records, and only the joined stream can be decoded. spec §3.4, §5.2"
	explainPadding = "Padding: carries nothing and is skipped by the receiver. It makes the record's length " +
		"a multiple of 8 bytes. spec §3.3"
)

// contentExplain says what the content of a record of type t is.
func contentExplain(t fcgi.RecordType) string {
	switch t {
	case fcgi.TypeStdin:
		return "Request body bytes from the web server (for example POST data), up to CONTENT_LENGTH " +
			"bytes in all; an empty STDIN record ends the body. spec §5.3"
	case fcgi.TypeStdout:
		return "Output of the application: a CGI response (header lines, a blank line, the body). " +
			"Where one record ends and the next begins carries no meaning. spec §5.3, §6.2"
	case fcgi.TypeStderr:
		return "Error output of the application, meant for the web server's log. " +
			"Record boundaries carry no meaning. spec §5.3"
	case fcgi.TypeData:
		return "FILTER role: the file the application is asked to filter, sent after STDIN. spec §5.3, §6.4"
	case fcgi.TypeAbortRequest:
		return "ABORT_REQUEST carries no content; these bytes should not be here. spec §5.4"
	case fcgi.TypeBeginRequest, fcgi.TypeEndRequest, fcgi.TypeUnknownType:
		return "A " + t.String() + " body must be exactly 8 bytes; these do not decode as one. spec §4.2, §5.1, §5.5"
	case fcgi.TypeParams, fcgi.TypeGetValues, fcgi.TypeGetValuesResult:
		return "Content of a " + t.String() + " record that could not be decoded as name-value pairs. spec §3.4"
	}
	return "Content of a record type the specification does not define; a receiver cannot interpret it. spec §3.3"
}

// contentName is the Name of a content span of type t.
func contentName(t fcgi.RecordType) string {
	switch t {
	case fcgi.TypeStdin, fcgi.TypeStdout, fcgi.TypeStderr, fcgi.TypeData:
		return strings.ToLower(t.String()) + " data"
	}
	return "contentData"
}

// fieldBuilder collects fields in byte order, clipping them to the record.
type fieldBuilder struct {
	raw []byte
	out []field
}

// add appends a field covering [start, end) clipped to [lo, hi).
func (b *fieldBuilder) add(f field, lo, hi int) {
	f.Start = max(f.Start, lo)
	f.End = min(f.End, hi)
	if f.Start >= f.End {
		return
	}
	b.out = append(b.out, f)
}

// recordFields returns the logical fields of rec in byte order, covering
// every byte of rec.Raw exactly once.
func recordFields(rec *fcgi.Record) []field {
	if rec == nil {
		return nil
	}
	raw := rec.Raw
	b := &fieldBuilder{raw: raw}
	hdrEnd := min(fcgi.HeaderLen, len(raw))
	h := rec.Header
	hf := func(start, end int, name, value, explain string, split bool) {
		f := field{Span: Span{Start: start, End: end, Kind: KindHeader, Name: name, Value: value, Explain: explain}}
		if split {
			f.split, f.splitStart = end-start, start
		}
		b.add(f, 0, hdrEnd)
	}
	hf(0, 1, "version", strconv.Itoa(int(h.Version)), explainVersion, false)
	hf(1, 2, "type", fmt.Sprintf("%d (%s)", uint8(h.Type), h.Type), explainType, false)
	idNote := ""
	if h.RequestID == fcgi.NullRequestID {
		idNote = " (management)"
	}
	hf(2, 4, "requestId", strconv.Itoa(int(h.RequestID))+idNote, explainRequestID, true)
	clNote := ""
	if h.ContentLength == 0 && h.Type.IsStream() {
		clNote = " (ends the " + h.Type.String() + " stream)"
	}
	hf(4, 6, "contentLength", strconv.Itoa(int(h.ContentLength))+clNote, explainContentLength, true)
	hf(6, 7, "paddingLength", strconv.Itoa(int(h.PaddingLength)), explainPaddingLength, false)
	hf(7, 8, "reserved", fmt.Sprintf("0x%02x", h.Reserved), explainHeaderReserved, false)

	cStart := hdrEnd
	cEnd := min(fcgi.HeaderLen+int(h.ContentLength), len(raw))
	if cEnd < cStart {
		cEnd = cStart
	}
	if cEnd > cStart {
		if !b.body(rec, cStart, cEnd) {
			b.add(field{Span: Span{Start: cStart, End: cEnd, Kind: KindContent, Name: contentName(h.Type),
				Value: preview(raw[cStart:cEnd]), Explain: contentExplain(h.Type)}}, cStart, cEnd)
		}
	}
	if cEnd < len(raw) {
		b.add(field{Span: Span{Start: cEnd, End: len(raw), Kind: KindPadding, Name: "paddingData",
			Value: fmt.Sprintf("%d bytes", len(raw)-cEnd), Explain: explainPadding}}, cEnd, len(raw))
	}
	return b.fill(rec, cStart, cEnd)
}

// body appends the fields of a decoded body; it reports false when the
// content has no decoded structure.
func (b *fieldBuilder) body(rec *fcgi.Record, lo, hi int) bool {
	c := b.raw[lo:hi]
	bf := func(start, n int, name, value, explain string, split bool) {
		f := field{Span: Span{Start: lo + start, End: lo + start + n, Kind: KindBodyField, Name: name, Value: value, Explain: explain}}
		if split {
			f.split, f.splitStart = n, lo+start
		}
		b.add(f, lo, hi)
	}
	switch body := rec.Body.(type) {
	case *fcgi.BeginRequest:
		if len(c) != 8 {
			return false
		}
		bf(0, 2, "role", fmt.Sprintf("%d (%s)", uint16(body.Role), body.Role), explainRole, true)
		bf(2, 1, "flags", fmt.Sprintf("0x%02x (%s)", uint8(body.Flags), body.Flags), explainFlags, false)
		bf(3, 5, "reserved", hexBytes(body.Reserved[:]), explainBeginReserved, false)
	case *fcgi.EndRequest:
		if len(c) != 8 {
			return false
		}
		bf(0, 4, "appStatus", strconv.FormatUint(uint64(body.AppStatus), 10), explainAppStatus, true)
		bf(4, 1, "protocolStatus", fmt.Sprintf("%d (%s)", uint8(body.ProtocolStatus), body.ProtocolStatus), explainProtocolStatus, false)
		bf(5, 3, "reserved", hexBytes(body.Reserved[:]), explainEndReserved, false)
	case *fcgi.UnknownType:
		if len(c) != 8 {
			return false
		}
		bf(0, 1, "type", fmt.Sprintf("%d (%s)", uint8(body.Type), body.Type), explainUnknownTypeType, false)
		bf(1, 7, "reserved", hexBytes(body.Reserved[:]), explainUnknownReserved, false)
	case *fcgi.Pairs:
		if body == nil {
			return false
		}
		b.pairs(rec.Type, body, lo, hi)
	default:
		return false
	}
	return true
}

// pairs appends the fields of the name-value pairs in content [lo, hi).
func (b *fieldBuilder) pairs(t fcgi.RecordType, p *fcgi.Pairs, lo, hi int) {
	n := hi - lo
	if len(p.Fields) == 0 && p.Carried > 0 {
		carried := min(p.Carried, n)
		b.add(field{Span: Span{Start: lo, End: lo + carried, Kind: KindFragment, Name: "pairFragment",
			Value: fmt.Sprintf("%d bytes", carried), Explain: explainFragment, FromPrev: true, ToNext: true}}, lo, hi)
	}
	for i, pf := range p.Fields {
		pos := lo + pf.Offset
		for _, pt := range pairParts(pf.Pair, pf.NameLenSize, pf.ValueLenSize) {
			f := field{Span: Span{Start: pos, End: pos + pt.size, Kind: pt.kind, Name: pt.name, Value: pt.value,
				Explain: pt.explain, Pair: i + 1, FromPrev: pf.Offset < 0}}
			switch {
			case pos < lo && pos+pt.size > lo:
				f.Explain = fmt.Sprintf("The first %d of its %d bytes are in the previous record of this stream. ",
					lo-pos, pt.size) + f.Explain
			case f.FromPrev:
				f.Explain = "This pair began in the previous record of this stream. " + f.Explain
			}
			b.add(f, lo, hi)
			pos += pt.size
		}
	}
	if p.Pending > 0 && p.Pending <= n {
		b.pending(t, b.raw[hi-p.Pending:hi], hi-p.Pending, len(p.Fields)+1)
	}
}

// pairPart is one of the four fields of a name-value pair.
type pairPart struct {
	size                 int
	kind                 Kind
	name, value, explain string
}

// pairParts lists the fields of pair p on the wire, in order (spec §3.4).
func pairParts(p fcgi.Pair, nameLenSize, valueLenSize int) [4]pairPart {
	return [4]pairPart{
		{nameLenSize, lenKind(KindNameLen1, nameLenSize), "nameLength", lenValue(len(p.Name), nameLenSize), lenExplain(true, nameLenSize)},
		{valueLenSize, lenKind(KindValueLen1, valueLenSize), "valueLength", lenValue(len(p.Value), valueLenSize), lenExplain(false, valueLenSize)},
		{len(p.Name), KindName, "nameData", quote(p.Name), explainName},
		{len(p.Value), KindValue, "valueData", quote(p.Value), explainValue},
	}
}

// pending appends the fields of the unfinished pair that fills rest, the
// end of the content from offset start on.
func (b *fieldBuilder) pending(t fcgi.RecordType, rest []byte, start, pair int) {
	end := start + len(rest)
	pos := start
	emit := func(size int, kind Kind, name, value, explain string) bool {
		f := field{Span: Span{Start: pos, End: min(pos+size, end), Kind: kind, Name: name, Value: value,
			Explain: explain, Pair: pair, ToNext: true}}
		switch {
		case t != fcgi.TypeParams:
			f.Explain = "The record ends inside this pair, but a " + t.String() +
				" record must hold whole pairs: the pair is cut. " + f.Explain
		case pos+size > end:
			f.Explain = fmt.Sprintf("The first %d of its %d bytes; the next record of this stream brings the rest. ",
				end-pos, size) + f.Explain
		default:
			f.Explain = "This pair ends in the next record of this stream. " + f.Explain
		}
		b.add(f, start, end)
		pos += size
		return pos < end
	}
	nl, ns, ok := fcgi.ParsePairLen(rest)
	if !ok {
		emit(4, KindNameLen4, "nameLength", "(cut)", explainNameLen4)
		return
	}
	if !emit(ns, lenKind(KindNameLen1, ns), "nameLength", lenValue(nl, ns), lenExplain(true, ns)) {
		return
	}
	vl, vs, ok := fcgi.ParsePairLen(rest[pos-start:])
	if !ok {
		emit(4, KindValueLen4, "valueLength", "(cut)", explainValueLen4)
		return
	}
	if !emit(vs, lenKind(KindValueLen1, vs), "valueLength", lenValue(vl, vs), lenExplain(false, vs)) {
		return
	}
	name := rest[pos-start : min(pos-start+nl, len(rest))]
	if !emit(nl, KindName, "nameData", quote(string(name)), explainName) {
		return
	}
	emit(vl, KindValue, "valueData", quote(string(rest[pos-start:])), explainValue)
}

// fill sorts the fields and covers any byte no field claims, so that the
// fields always partition the record.
func (b *fieldBuilder) fill(rec *fcgi.Record, cStart, cEnd int) []field {
	fs := b.out
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start })
	out := make([]field, 0, len(fs))
	pos := 0
	for _, f := range fs {
		if f.Start > pos {
			out = append(out, gapField(rec, pos, f.Start, cStart, cEnd))
		}
		if f.End <= pos {
			continue // overlaps what is already covered: drop it
		}
		f.Start = max(f.Start, pos)
		out = append(out, f)
		pos = f.End
	}
	if pos < len(b.raw) {
		out = append(out, gapField(rec, pos, len(b.raw), cStart, cEnd))
	}
	return out
}

// gapField describes bytes that no decoded field explains.
func gapField(rec *fcgi.Record, start, end, cStart, cEnd int) field {
	kind, explain := KindContent, contentExplain(rec.Type)
	if start >= cEnd && cEnd >= cStart {
		kind, explain = KindPadding, explainPadding
	}
	return field{Span: Span{Start: start, End: end, Kind: kind, Name: "undecoded",
		Value: fmt.Sprintf("%d bytes", end-start), Explain: explain}}
}

func lenKind(one Kind, size int) Kind {
	if size == 4 {
		return one + 1
	}
	return one
}

func lenValue(n, size int) string {
	if size == 4 {
		return fmt.Sprintf("%d (4-byte form)", n)
	}
	return fmt.Sprintf("%d (1-byte form)", n)
}

func lenExplain(name bool, size int) string {
	switch {
	case name && size == 4:
		return explainNameLen4
	case name:
		return explainNameLen1
	case size == 4:
		return explainValueLen4
	}
	return explainValueLen1
}

// maxPreview bounds the characters of a value shown for a field.
const maxPreview = 80

// quote shows s as a Go-quoted string, cut to maxPreview characters.
func quote(s string) string {
	if utf8.RuneCountInString(s) <= maxPreview {
		return strconv.Quote(s)
	}
	r := []rune(s)
	return strconv.Quote(string(r[:maxPreview])) + fmt.Sprintf("… (%d bytes)", len(s))
}

// preview shows the start of a content run and its length.
func preview(b []byte) string {
	n := min(len(b), maxPreview)
	s := strconv.Quote(string(b[:n]))
	if n < len(b) {
		s += "…"
	}
	return fmt.Sprintf("%d bytes: %s", len(b), s)
}

func hexBytes(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	return sb.String()
}
