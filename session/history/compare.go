// Comparing two exchanges: params, response status and headers, body and
// stderr as side-by-side line diffs.

package history

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	"fcgiscope/session"
)

// DiffKind says how a row of a side-by-side diff differs.
type DiffKind int

// Kinds of diff rows.
const (
	DiffSame    DiffKind = iota // the same on both sides
	DiffChanged                 // on both sides, different
	DiffRemoved                 // only on the left (a)
	DiffAdded                   // only on the right (b)
)

func (k DiffKind) String() string {
	switch k {
	case DiffSame:
		return "same"
	case DiffChanged:
		return "changed"
	case DiffRemoved:
		return "removed"
	case DiffAdded:
		return "added"
	}
	return fmt.Sprintf("DiffKind(%d)", int(k))
}

// DiffRow is one row of a side-by-side diff. Line numbers count from 1; 0
// means the side has no line in this row.
type DiffRow struct {
	Kind                DiffKind
	Left, Right         string
	LeftLine, RightLine int
}

// Diff is the difference between two exchanges, ready to show side by side.
type Diff struct {
	// Params compares the params sent, as NAME=VALUE lines in order.
	Params []DiffRow
	// Headers compares the responses: a "Status: CODE Reason" line, then
	// the header lines.
	Headers []DiffRow
	// Body compares the response bodies line by line when both are text;
	// when either is binary, BodyBinary is set and Body holds one row
	// describing each body (size, and whether they are equal).
	Body       []DiffRow
	BodyBinary bool
	// Stderr compares the stderr streams line by line.
	Stderr []DiffRow
}

// Equal reports whether the diff found no difference.
func (d Diff) Equal() bool {
	for _, rows := range [][]DiffRow{d.Params, d.Headers, d.Body, d.Stderr} {
		for _, r := range rows {
			if r.Kind != DiffSame {
				return false
			}
		}
	}
	return true
}

// maxDiffCells bounds the LCS table (rows × columns) after the common
// prefix and suffix are set aside; a larger middle is shown as removed then
// added, without matching lines inside it.
const maxDiffCells = 4 << 20

// Compare returns the differences between a and b: params, response status
// and headers, body (a line diff for text) and stderr.
func Compare(a, b *session.Exchange) Diff {
	var d Diff
	d.Params = DiffLines(paramLines(a.Params()), paramLines(b.Params()), lineKey("="))
	d.Headers = DiffLines(responseLines(a.Response()), responseLines(b.Response()), lineKey(":"))
	ab, bb := responseBody(a.Response()), responseBody(b.Response())
	if isText(ab) && isText(bb) {
		d.Body = DiffLines(textLines(ab), textLines(bb), nil)
	} else {
		d.BodyBinary = true
		row := DiffRow{Kind: DiffSame, Left: describeBody(ab), Right: describeBody(bb), LeftLine: 1, RightLine: 1}
		if !bytes.Equal(ab, bb) {
			row.Kind = DiffChanged
		}
		d.Body = []DiffRow{row}
	}
	d.Stderr = DiffLines(textLines(a.Stderr()), textLines(b.Stderr()), nil)
	return d
}

func paramLines(ps session.Params) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name + "=" + p.Value
	}
	return out
}

func responseLines(r *session.HTTPResponse) []string {
	if r == nil {
		return nil
	}
	out := []string{fmt.Sprintf("Status: %d %s", r.Status, r.Reason)}
	for _, h := range r.Headers {
		out = append(out, h.Name+": "+h.Value)
	}
	return out
}

func responseBody(r *session.HTTPResponse) []byte {
	if r == nil {
		return nil
	}
	return r.Body
}

// isText reports whether b reads as text: UTF-8 without NUL bytes.
func isText(b []byte) bool { return utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 }

func describeBody(b []byte) string {
	if isText(b) {
		return fmt.Sprintf("%d bytes of text", len(b))
	}
	return fmt.Sprintf("%d bytes of binary data", len(b))
}

// textLines splits text into lines; a final newline does not start an
// empty line.
func textLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	s := strings.TrimSuffix(string(b), "\n")
	return strings.Split(s, "\n")
}

// lineKey returns a key function that pairs changed lines by the text
// before sep (a param's or header's name).
func lineKey(sep string) func(string) string {
	return func(s string) string {
		k, _, _ := strings.Cut(s, sep)
		return strings.ToLower(k)
	}
}

// DiffLines diffs two lists of lines with a longest common subsequence and
// returns side-by-side rows. Within a run of differing lines, a removed and
// an added line are shown as one changed row: paired by key when key is
// given (lines with the same key), else by position.
func DiffLines(a, b []string, key func(string) string) []DiffRow {
	// Set aside the common prefix and suffix.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var rows []DiffRow
	for i := range pre {
		rows = append(rows, DiffRow{Kind: DiffSame, Left: a[i], Right: b[i], LeftLine: i + 1, RightLine: i + 1})
	}
	am, bm := a[pre:len(a)-suf], b[pre:len(b)-suf]
	n, m := len(am), len(bm)
	// ops: 0 same, 1 removed (from a), 2 added (from b)
	var ops []byte
	if n > 0 && m > 0 && n*m <= maxDiffCells {
		// lcs[i][j] = LCS length of am[i:] and bm[j:].
		lcs := make([]int32, (n+1)*(m+1))
		at := func(i, j int) *int32 { return &lcs[i*(m+1)+j] }
		for i := n - 1; i >= 0; i-- {
			for j := m - 1; j >= 0; j-- {
				if am[i] == bm[j] {
					*at(i, j) = *at(i+1, j+1) + 1
				} else {
					*at(i, j) = max(*at(i+1, j), *at(i, j+1))
				}
			}
		}
		i, j := 0, 0
		for i < n && j < m {
			switch {
			case am[i] == bm[j]:
				ops = append(ops, 0)
				i++
				j++
			case *at(i+1, j) >= *at(i, j+1):
				ops = append(ops, 1)
				i++
			default:
				ops = append(ops, 2)
				j++
			}
		}
		for ; i < n; i++ {
			ops = append(ops, 1)
		}
		for ; j < m; j++ {
			ops = append(ops, 2)
		}
	} else {
		ops = append(bytes.Repeat([]byte{1}, n), bytes.Repeat([]byte{2}, m)...)
	}
	ai, bi := pre, pre
	for k := 0; k < len(ops); {
		if ops[k] == 0 {
			rows = append(rows, DiffRow{Kind: DiffSame, Left: a[ai], Right: b[bi], LeftLine: ai + 1, RightLine: bi + 1})
			ai, bi, k = ai+1, bi+1, k+1
			continue
		}
		var rem, add []int // indexes into a and b
		for ; k < len(ops) && ops[k] != 0; k++ {
			if ops[k] == 1 {
				rem = append(rem, ai)
				ai++
			} else {
				add = append(add, bi)
				bi++
			}
		}
		rows = append(rows, pairHunk(a, b, rem, add, key)...)
	}
	for i := range suf {
		ai, bi := len(a)-suf+i, len(b)-suf+i
		rows = append(rows, DiffRow{Kind: DiffSame, Left: a[ai], Right: b[bi], LeftLine: ai + 1, RightLine: bi + 1})
	}
	return rows
}

// pairHunk turns a run of removed and added lines into rows.
func pairHunk(a, b []string, rem, add []int, key func(string) string) []DiffRow {
	partner := make(map[int]int, len(rem)) // rem index -> add index
	used := make([]bool, len(add))
	if key != nil {
		for _, r := range rem {
			for x, ad := range add {
				if !used[x] && key(a[r]) == key(b[ad]) {
					partner[r], used[x] = ad, true
					break
				}
			}
		}
	} else {
		for x := 0; x < len(rem) && x < len(add); x++ {
			partner[rem[x]], used[x] = add[x], true
		}
	}
	var rows []DiffRow
	for _, r := range rem {
		if ad, ok := partner[r]; ok {
			rows = append(rows, DiffRow{Kind: DiffChanged, Left: a[r], Right: b[ad], LeftLine: r + 1, RightLine: ad + 1})
		} else {
			rows = append(rows, DiffRow{Kind: DiffRemoved, Left: a[r], LeftLine: r + 1})
		}
	}
	for x, ad := range add {
		if !used[x] {
			rows = append(rows, DiffRow{Kind: DiffAdded, Right: b[ad], RightLine: ad + 1})
		}
	}
	return rows
}
