// Tests of the response pane's choices: which body view a content type gets, and how sizes and times read.

package ui

import (
	"testing"
	"time"

	"fcgiscope/session"
)

func TestBodyView(t *testing.T) {
	tests := []struct {
		ct   string
		body string
		want string
	}{
		{"application/json", `{}`, ViewJSON},
		{"application/problem+json; charset=utf-8", `{}`, ViewJSON},
		{"text/html; charset=utf-8", "<p>", ViewHTML},
		{"image/png", "\x89PNG", ViewImage},
		{"text/plain", "hi", ViewText},
		{"application/xml", "<a/>", ViewText},
		{"", "plain words", ViewText},
		{"application/octet-stream", "\xff\xfe\x00\x01", ViewHex},
		{"", "", ViewText},
	}
	for _, tt := range tests {
		if got := bodyView(tt.ct, []byte(tt.body)); got != tt.want {
			t.Errorf("bodyView(%q, %q) = %s, want %s", tt.ct, tt.body, got, tt.want)
		}
	}
}

func TestFormatBytesAndDurations(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 30: "5.00 GiB"} {
		if got := session.FormatBytes(n); got != want {
			t.Errorf("session.FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{0: "–", 250 * time.Microsecond: "0.250 ms",
		12300 * time.Microsecond: "12.3 ms", 1500 * time.Millisecond: "1.50 s"} {
		if got := session.FormatDuration(d); got != want {
			t.Errorf("session.FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
