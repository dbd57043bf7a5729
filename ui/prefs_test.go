// Tests of the remembered targets and split offsets.

package ui

import (
	"fmt"
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
)

func TestRememberTarget(t *testing.T) {
	p := test.NewTempApp(t).Preferences()
	rememberTarget(p, "a:1", "demo:9")
	rememberTarget(p, "b:2", "demo:9")
	rememberTarget(p, " a:1 ", "demo:9") // back to the front, not twice
	rememberTarget(p, "demo:9", "demo:9")
	rememberTarget(p, "", "demo:9")
	if got := recentTargets(p); !slices.Equal(got, []string{"a:1", "b:2"}) {
		t.Errorf("recent = %q, want [a:1 b:2]", got)
	}
	for i := range maxRecentTargets + 5 {
		rememberTarget(p, fmt.Sprintf("h:%d", i), "")
	}
	got := recentTargets(p)
	if len(got) != maxRecentTargets || got[0] != fmt.Sprintf("h:%d", maxRecentTargets+4) {
		t.Errorf("recent = %q, want the %d newest, newest first", got, maxRecentTargets)
	}
}

func TestPrefFraction(t *testing.T) {
	p := test.NewTempApp(t).Preferences()
	if got := prefFraction(p, PrefSplitMain, 0.3); got != 0.3 {
		t.Errorf("unset = %v", got)
	}
	p.SetFloat(PrefSplitMain, 0.6)
	if got := prefFraction(p, PrefSplitMain, 0.3); got != 0.6 {
		t.Errorf("stored = %v", got)
	}
	p.SetFloat(PrefSplitMain, 0.99) // a pane squeezed away is not restored
	if got := prefFraction(p, PrefSplitMain, 0.3); got != 0.3 {
		t.Errorf("extreme = %v", got)
	}
}
