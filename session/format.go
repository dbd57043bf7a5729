// How sizes and durations are written for people, the same in the window,
// the command line and the doctor.

package session

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// FormatBytes writes a byte count for people: "512 B", "1.5 KiB", "3.2 MiB".
func FormatBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// FormatDuration writes a duration with a precision that suits it; "–"
// for a time that was not reached.
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// Printable writes a header name or value, or any text received from the
// wire, for people: a byte that is not part of UTF-8 text and a control
// character other than tab are written as \xNN ("caf\xe9"), so that they
// are seen, not replaced or swallowed; a backslash followed by x is
// written as \\x so that an escape can always be told from the text.
// Text that needs none of it is returned as it is.
func Printable(s string) string {
	clean := utf8.ValidString(s) && !strings.Contains(s, `\x`)
	for i := 0; clean && i < len(s); i++ {
		c := s[i]
		clean = c >= 0x20 && c != 0x7f || c == '\t'
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1, r < 0x20 && r != '\t', r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && strings.HasPrefix(s[i+1:], "x"):
			b.WriteString(`\\`)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
