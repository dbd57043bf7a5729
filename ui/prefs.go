// Preferences: the keys the window stores in the app's Preferences, and the list of recent targets.

package ui

import (
	"slices"
	"strings"

	"fyne.io/fyne/v2"
)

// Preference keys. Sizes are in Fyne units, split offsets are fractions
// (0 to 1) of the split's size.
const (
	PrefWindowWidth   = "window.width"
	PrefWindowHeight  = "window.height"
	PrefSplitMain     = "split.main"     // compose | results
	PrefSplitResults  = "split.results"  // records column | response column
	PrefSplitRecords  = "split.records"  // record list / record detail
	PrefSplitResponse = "split.response" // response / stderr
	PrefSplitLearn    = "split.learn"    // presets and history / Learn
	PrefRecentTargets = "targets.recent" // most recent first
	PrefLastTarget    = "targets.last"   // the target of the last send; "" for the demo backend
)

// maxRecentTargets bounds PrefRecentTargets.
const maxRecentTargets = 12

// recentTargets returns the remembered targets, most recent first.
func recentTargets(p fyne.Preferences) []string {
	var out []string
	for _, t := range p.StringList(PrefRecentTargets) {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// rememberTarget puts target first in the recent targets, keeping at most
// maxRecentTargets, and returns the new list. skip names an address never
// to remember (the demo backend's, whose port changes every launch).
func rememberTarget(p fyne.Preferences, target, skip string) []string {
	target = strings.TrimSpace(target)
	list := recentTargets(p)
	if target == "" || target == skip {
		return list
	}
	out := []string{target}
	for _, t := range list {
		if t != target && len(out) < maxRecentTargets {
			out = append(out, t)
		}
	}
	p.SetStringList(PrefRecentTargets, out)
	return out
}

// prefFraction returns the stored split offset under key, or def when
// nothing sensible is stored.
func prefFraction(p fyne.Preferences, key string, def float64) float64 {
	v := p.FloatWithFallback(key, def)
	if v <= 0.05 || v >= 0.95 {
		return def
	}
	return v
}
