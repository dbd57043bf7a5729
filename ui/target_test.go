// Tests of the target section: the GET_VALUES summary and the connection limit.

package ui

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
)

func TestFormatValues(t *testing.T) {
	tests := []struct {
		pairs []fcgi.Pair
		want  string
	}{
		{[]fcgi.Pair{{Name: "FCGI_MPXS_CONNS", Value: "1"}, {Name: "FCGI_MAX_REQS", Value: "64"}, {Name: "FCGI_MAX_CONNS", Value: "16"}},
			"MAX_CONNS 16 · MAX_REQS 64 · MPXS_CONNS 1"},
		// php-fpm answers only FCGI_MPXS_CONNS.
		{[]fcgi.Pair{{Name: "FCGI_MPXS_CONNS", Value: "0"}}, "MAX_CONNS – · MAX_REQS – · MPXS_CONNS 0"},
		{[]fcgi.Pair{{Name: "OTHER", Value: "x"}}, "MAX_CONNS – · MAX_REQS – · MPXS_CONNS – · OTHER x"},
	}
	for _, tt := range tests {
		if got := formatValues(tt.pairs); got != tt.want {
			t.Errorf("formatValues(%v) = %q, want %q", tt.pairs, got, tt.want)
		}
	}
}

// TestTargetMaxConns: the limit typed for a target reaches the engine's
// pool at once, is explained under the field, follows the address, and is
// there again at the next launch; the demo backend's is not stored.
func TestTargetMaxConns(t *testing.T) {
	f := newInspFixture(t)
	p := f.in.Target()
	pool := f.in.deps.Engine.Pool()
	target := fcgitest.StartDemo(t)

	if !strings.Contains(p.LimitHelp(), "pm.max_children") || p.maxConns.PlaceHolder != "no limit" {
		t.Errorf("the field is not explained: help %q, placeholder %q", p.LimitHelp(), p.maxConns.PlaceHolder)
	}
	p.SetAddress(target)
	test.Type(p.maxConns, "4")
	if got := pool.MaxConns(target); got != 4 || p.MaxConns() != 4 {
		t.Errorf("typed 4: the pool's limit is %d, the field's %d", got, p.MaxConns())
	}
	if got := f.app.Preferences().StringList(PrefTargetMaxConns); !slices.Equal(got, []string{"4 " + target}) {
		t.Errorf("stored limits %q", got)
	}
	// A request still goes through, under the limit.
	if x := f.send(t); x.ErrorText() != "" {
		t.Fatalf("send under the limit: %s", x.ErrorText())
	}

	// Not a number: said in place, the limit in force is kept.
	test.Type(p.maxConns, "x")
	if !strings.Contains(p.LimitHelp(), "whole number") || p.MaxConns() != -1 || pool.MaxConns(target) != 4 {
		t.Errorf("typed 4x: help %q, field %d, pool %d", p.LimitHelp(), p.MaxConns(), pool.MaxConns(target))
	}
	p.SetMaxConns("6")
	if pool.MaxConns(target) != 6 || strings.Contains(p.LimitHelp(), "whole number") {
		t.Errorf("set 6: pool %d, help %q", pool.MaxConns(target), p.LimitHelp())
	}

	// The field follows the address; the demo's limit is applied, not stored.
	p.UseDemo()
	if p.maxConns.Text != "" {
		t.Errorf("the demo backend shows %q, want no limit", p.maxConns.Text)
	}
	p.SetMaxConns("2")
	if pool.MaxConns(f.demo) != 2 {
		t.Errorf("the demo's limit is %d, want 2", pool.MaxConns(f.demo))
	}
	p.SetAddress(target)
	if p.maxConns.Text != "6" || pool.MaxConns(target) != 6 {
		t.Errorf("back to %s: field %q, pool %d", target, p.maxConns.Text, pool.MaxConns(target))
	}
	p.UseDemo()
	if p.maxConns.Text != "2" {
		t.Errorf("back to the demo: field %q, want 2 for this launch", p.maxConns.Text)
	}
	if got := f.app.Preferences().StringList(PrefTargetMaxConns); !slices.Equal(got, []string{"6 " + target}) {
		t.Errorf("stored limits %q, want only %s's", got, target)
	}

	// The next launch applies the stored limit before anything is sent.
	nextPool := session.NewPool(session.PoolOptions{})
	defer nextPool.Close()
	next := NewInspector(f.app, Deps{Engine: session.NewEngine(nextPool, session.EngineOptions{}), DemoAddr: f.demo, Do: f.q.Do})
	defer next.Close()
	if got := nextPool.MaxConns(target); got != 6 {
		t.Errorf("next launch: the pool's limit for %s is %d, want 6", target, got)
	}
	next.Target().SetAddress(target)
	if got := next.Target().maxConns.Text; got != "6" {
		t.Errorf("next launch shows %q for %s", got, target)
	}

	// Emptied: no limit, nothing stored.
	p.SetAddress(target)
	p.SetMaxConns("")
	if pool.MaxConns(target) != 0 || len(f.app.Preferences().StringList(PrefTargetMaxConns)) != 0 {
		t.Errorf("emptied: pool %d, stored %q", pool.MaxConns(target), f.app.Preferences().StringList(PrefTargetMaxConns))
	}
	f.q.settle()
}

func TestStoredMaxConns(t *testing.T) {
	prefs := test.NewTempApp(t).Preferences()
	prefs.SetStringList(PrefTargetMaxConns, []string{"8 127.0.0.1:9000", "junk", "0 a:1", "-2 b:1", "3 unix:/run/php/fpm.sock", "5 127.0.0.1:9000"})
	got := storedMaxConns(prefs)
	if len(got) != 2 || got["127.0.0.1:9000"] != 8 || got["unix:/run/php/fpm.sock"] != 3 {
		t.Errorf("storedMaxConns = %v", got)
	}
	for i := range maxConnsTargets + 5 {
		storeMaxConns(prefs, "127.0.0.1:"+strconv.Itoa(10000+i), i+1)
	}
	if n := len(prefs.StringList(PrefTargetMaxConns)); n != maxConnsTargets {
		t.Errorf("%d limits stored, want at most %d", n, maxConnsTargets)
	}
	if got := storedMaxConns(prefs)["127.0.0.1:"+strconv.Itoa(10000+maxConnsTargets+4)]; got != maxConnsTargets+5 {
		t.Errorf("the newest limit is %d", got)
	}
}
