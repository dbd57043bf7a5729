// Tests of the inspector's pure parts: the shared kit.

package ui

import (
	"testing"
)

func TestOneLine(t *testing.T) {
	if got := oneLine("a\r\nb\tc"); got != "a⏎b⇥c" {
		t.Errorf("oneLine = %q", got)
	}
}
