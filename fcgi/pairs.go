// Name-value pairs: the body of PARAMS, GET_VALUES and GET_VALUES_RESULT
// records (spec §3.4).

package fcgi

import (
	"errors"
	"fmt"
)

// Pair is one name-value pair. Params are ordered lists of pairs: order and
// duplicates are kept exactly as they go on the wire.
type Pair struct {
	Name  string
	Value string
}

// maxPairLen is the largest length a 4-byte length field can express (spec §3.4:
// the top bit marks the 4-byte form, 31 bits remain).
const maxPairLen = 1<<31 - 1

// lenSize returns how many bytes the length n takes on the wire: 1 below 128,
// else 4 (spec §3.4).
func lenSize(n int) int {
	if n < 128 {
		return 1
	}
	return 4
}

func appendLen(b []byte, n int) []byte {
	if n < 128 {
		return append(b, byte(n))
	}
	return append(b, byte(n>>24)|0x80, byte(n>>16), byte(n>>8), byte(n))
}

// PairLen returns the number of bytes p takes on the wire.
func pairLen(p Pair) int {
	return lenSize(len(p.Name)) + lenSize(len(p.Value)) + len(p.Name) + len(p.Value)
}

// AppendPair appends the wire form of p to b: name length, value length, name,
// value. It panics only if a length exceeds 2^31-1, which no Go string on a
// real machine reaches in practice; use ValidatePairs to check first.
func appendPair(b []byte, p Pair) []byte {
	b = appendLen(b, len(p.Name))
	b = appendLen(b, len(p.Value))
	b = append(b, p.Name...)
	return append(b, p.Value...)
}

// AppendPairs appends the wire form of every pair in order.
func AppendPairs(b []byte, ps []Pair) []byte {
	for _, p := range ps {
		b = appendPair(b, p)
	}
	return b
}

// PairField is a pair decoded from one record, with where its bytes lie, so
// that an inspector can point at them.
type PairField struct {
	Pair
	// Offset is where the pair's first byte lies in the content of the
	// record that completes it. It is negative when the pair began in an
	// earlier record of the same stream: then -Offset of its bytes came
	// before this record's content.
	Offset int
	// NameLenSize and ValueLenSize are the sizes of the two length fields:
	// 1 or 4 bytes (spec §3.4).
	NameLenSize, ValueLenSize int
}

// Len returns the number of wire bytes of the pair.
func (f PairField) Len() int {
	return f.NameLenSize + f.ValueLenSize + len(f.Name) + len(f.Value)
}

// Pairs is the decoded body of a PARAMS, GET_VALUES or GET_VALUES_RESULT record.
type Pairs struct {
	// Fields are the pairs that end in this record, in wire order.
	Fields []PairField
	// Carried is the number of bytes at the start of the content that
	// continue a pair begun in an earlier record.
	Carried int
	// Pending is the number of bytes at the end of the content that begin a
	// pair completed by a later record of the same stream.
	Pending int
}

// List returns the plain pairs in order.
func (p *Pairs) List() []Pair {
	out := make([]Pair, len(p.Fields))
	for i, f := range p.Fields {
		out[i] = f.Pair
	}
	return out
}

// ErrPairTruncated reports a pair stream that ended inside a pair.
var errPairTruncated = errors.New("stream ended inside a name-value pair")

// ParsePairs decodes a complete, self-contained run of name-value pairs, such
// as the content of a single GET_VALUES record or the whole PARAMS stream
// joined together.
func parsePairs(b []byte) ([]Pair, error) {
	var out []Pair
	for len(b) > 0 {
		p, n, _, _ := parsePair(b)
		if n == 0 {
			return out, fmt.Errorf("fcgi: %w (%d bytes left)", errPairTruncated, len(b))
		}
		out = append(out, p)
		b = b[n:]
	}
	return out, nil
}

// parsePair decodes one pair at the start of b and returns it with its wire
// length n and the sizes of its two length fields as read. n is 0 when b
// holds only the beginning of a pair.
func parsePair(b []byte) (p Pair, n, nameLenSize, valueLenSize int) {
	name, value, n, s1, s2 := splitPair(b)
	if n == 0 {
		return p, 0, 0, 0
	}
	return Pair{Name: string(name), Value: string(value)}, n, s1, s2
}

// splitPair finds the pair at the start of b: its name and value (sub-slices
// or substrings of b), its wire length n and the sizes of its two length
// fields as read (a peer may use the 4-byte form for a short length). n is
// 0 when b holds only the beginning of a pair.
func splitPair[B ~[]byte | ~string](b B) (name, value B, n, nameLenSize, valueLenSize int) {
	nl, s1, ok := ParsePairLen(b)
	if !ok {
		return name, value, 0, 0, 0
	}
	vl, s2, ok := ParsePairLen(b[s1:])
	if !ok {
		return name, value, 0, 0, 0
	}
	hdr := s1 + s2
	if len(b)-hdr < nl || len(b)-hdr-nl < vl {
		return name, value, 0, 0, 0
	}
	return b[hdr : hdr+nl], b[hdr+nl : hdr+nl+vl], hdr + nl + vl, s1, s2
}

// ParsePairLen decodes the length field at the start of b: the name length
// or the value length that open a name-value pair (spec §3.4). A length
// below 128 takes one byte; a longer one four, big-endian, with the top bit
// of the first byte set. size is the field's width as read (1 or 4: a peer
// may use the 4-byte form for a short length); ok is false when b is too
// short to hold the field. b is a byte slice or a string.
func ParsePairLen[B ~[]byte | ~string](b B) (n, size int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0]&0x80 == 0 {
		return int(b[0]), 1, true
	}
	if len(b) < 4 {
		return 0, 0, false
	}
	return int(b[0]&0x7f)<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3]), 4, true
}

// pairStream decodes pairs that may straddle records of one stream. It keeps
// the bytes of an unfinished pair between records, up to max bytes.
type pairStream struct {
	carry []byte
}

// decode consumes one record's content and returns the pairs it completes.
func (s *pairStream) decode(content []byte, max int) (*Pairs, error) {
	out := &Pairs{Carried: 0}
	buf := content
	carried := len(s.carry)
	if carried > 0 {
		buf = append(s.carry, content...)
	}
	// One allocation for the fields and one for the strings, every name
	// and value a substring of str: a trace decodes every PARAMS record.
	count := 0
	for pos := 0; pos < len(buf); count++ {
		_, _, n, _, _ := splitPair(buf[pos:])
		if n == 0 {
			break
		}
		pos += n
	}
	if count > 0 {
		out.Fields = make([]PairField, 0, count)
	}
	str := string(buf)
	pos := 0
	for pos < len(str) {
		name, value, n, s1, s2 := splitPair(str[pos:])
		if n == 0 {
			break
		}
		f := PairField{Pair: Pair{Name: name, Value: value}, Offset: pos - carried, NameLenSize: s1, ValueLenSize: s2}
		if f.Offset < 0 && out.Carried == 0 {
			out.Carried = f.Offset + f.Len()
		}
		out.Fields = append(out.Fields, f)
		pos += n
	}
	if carried > 0 && pos < carried {
		// The pair begun earlier is still not finished: all of this
		// content continues it.
		out.Carried = len(content)
	}
	rest := buf[pos:]
	if len(rest) > 0 && pos >= carried {
		out.Pending = len(rest)
	}
	if len(rest) > max {
		s.carry = nil
		return out, fmt.Errorf("name-value pair longer than the %d-byte limit", max)
	}
	s.carry = append(s.carry[:0:0], rest...)
	if len(s.carry) == 0 {
		s.carry = nil
	}
	return out, nil
}

// end closes the stream; it reports a pair left unfinished.
func (s *pairStream) end() error {
	n := len(s.carry)
	s.carry = nil
	if n > 0 {
		return fmt.Errorf("%w (%d bytes of it were sent)", errPairTruncated, n)
	}
	return nil
}
