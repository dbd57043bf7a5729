// Soft wrapping of monospace text at word boundaries, by columns; it needs no Fyne.

package view

import (
	"math"
	"strings"
	"unicode/utf8"
)

// tabWidth is the column multiple a tab advances to.
const tabWidth = 8

// span is a row of wrapped text: the bytes [start, end) of the text, and
// whether it begins a line of the text (rather than continuing one).
type span struct {
	start, end int32
	first      bool
}

// wrapText appends to rows the rows of text wrapped at cols columns: each
// line (up to a newline) is cut after the last space that lets a row fit,
// or, for a word longer than a row, where the row is full. Lines are never
// joined, so rows with first set count the lines. A tab advances to the
// next multiple of tabWidth columns; every other rune takes one column.
// cols 0 or less wraps nothing.
func wrapText(rows []span, text string, cols int) []span {
	if cols <= 0 {
		cols = math.MaxInt32
	}
	for start := 0; start <= len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		rows = wrapLine(rows, text, start, end, cols)
		start = end + 1
	}
	return rows
}

// wrapLine appends the rows of the line text[start:end].
func wrapLine(rows []span, text string, start, end, cols int) []span {
	row, col := start, 0
	brk, brkCol := -1, 0 // the byte after the last space of the row, and the column there
	first := true
	for i := start; i < end; {
		r, size := utf8.DecodeRuneInString(text[i:end])
		w := 1
		if r == '\t' {
			w = tabWidth - col%tabWidth
		}
		if col+w > cols && col > 0 && (r == ' ' || r == '\t') {
			// A space that does not fit ends the row; the next begins after it.
			i += size
			rows = append(rows, span{int32(row), int32(i), first})
			row, col, first, brk = i, 0, false, -1
			continue
		}
		if col+w > cols && col > 0 {
			if brk > row {
				rows = append(rows, span{int32(row), int32(brk), first})
				row, col = brk, col-brkCol
			} else {
				rows = append(rows, span{int32(row), int32(i), first})
				row, col = i, 0
			}
			first, brk = false, -1
			if r == '\t' {
				w = tabWidth - col%tabWidth
			}
		}
		col += w
		i += size
		if r == ' ' || r == '\t' {
			brk, brkCol = i, col
		}
	}
	return append(rows, span{int32(row), int32(end), first})
}

// displayRow returns a row's text as drawn: tabs expanded to spaces,
// control characters shown as '·', trailing spaces dropped.
func displayRow(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			plain = false
			break
		}
	}
	if plain {
		return strings.TrimRight(s, " ")
	}
	var b strings.Builder
	col := 0
	for _, r := range s {
		switch {
		case r == '\t':
			n := tabWidth - col%tabWidth
			b.WriteString(strings.Repeat(" ", n))
			col += n
			continue
		case r < 0x20 || r == 0x7f:
			r = '·'
		}
		b.WriteRune(r)
		col++
	}
	return strings.TrimRight(b.String(), " ")
}
