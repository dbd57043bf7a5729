// Tests of Run's way out: the app's stop hooks taken out of its lifecycle and run once by the window, the workers' functions dropped once it is going, and File ▸ Quit closing the inspector without closing the window. scripts/exitcheck checks the real binary.

package ui

import (
	"slices"
	"testing"

	"fyne.io/fyne/v2/test"
)

// stopHooker is what takeStopHooks needs of a lifecycle. The test app has
// the lifecycle type of the real one (Fyne's internal app.Lifecycle), so a
// Fyne that dropped either method fails here, not only on a real screen.
type stopHooker interface {
	OnStopped() func()
	SetOnStoppedHookExecuted(func())
}

func TestTakeStopHooksLeavesTheLifecycleNone(t *testing.T) {
	l := test.NewTempApp(t).Lifecycle()
	h, ok := l.(stopHooker)
	if !ok {
		t.Fatalf("the lifecycle %T has no OnStopped and SetOnStoppedHookExecuted: the loop would queue the stop hooks", l)
	}
	var ran []string
	l.SetOnStopped(func() { ran = append(ran, "app") })
	h.SetOnStoppedHookExecuted(func() { ran = append(ran, "fyne") })
	run := takeStopHooks(l)
	if h.OnStopped() != nil {
		t.Error("the lifecycle still has stop hooks: the loop would queue them on its way out")
	}
	if len(ran) != 0 {
		t.Fatalf("taking the hooks ran %v", ran)
	}
	run()
	if want := []string{"app", "fyne"}; !slices.Equal(ran, want) {
		t.Errorf("the hooks taken ran %v, want %v", ran, want)
	}
}

func TestDoGateDropsOnceShut(t *testing.T) {
	var got []int
	g := &doGate{do: func(f func()) { f() }}
	g.Do(func() { got = append(got, 1) })
	g.shut()
	g.Do(func() { got = append(got, 2) })
	g.shut()
	if !slices.Equal(got, []int{1}) {
		t.Errorf("ran %v, want only the function handed over before the gate shut", got)
	}
}

func TestQuitClosesTheInspectorOnceAndLeavesTheWindow(t *testing.T) {
	f := newWBFixture(t)
	hooks := 0
	s := &shutdown{app: f.app, in: f.in, gate: &doGate{do: f.q.Do}, hooks: func() { hooks++ }}
	f.in.endApp = s.stop

	menuItems(f.wb.Menu())["File/Quit"].Action() // nothing unsaved: no question
	if f.wb.Presets.guardDlg != nil {
		t.Fatal("Quit asked about unsaved changes on a fresh window")
	}
	if !f.in.closed || hooks != 1 {
		t.Fatalf("after File ▸ Quit: inspector closed %v, stop hooks run %d times; want true, 1", f.in.closed, hooks)
	}
	// The loop's end destroys the window: Quit must not close it first
	// (a closing window crashes Fyne v2.7.1 on a pointer motion).
	if !slices.Contains(f.app.Driver().AllWindows(), f.in.Window()) {
		t.Error("File ▸ Quit closed the window")
	}
	ran := false
	s.gate.Do(func() { ran = true })
	f.q.settle()
	if ran {
		t.Error("a worker's function ran after the inspector closed")
	}
	s.finish() // after the loop
	if hooks != 1 {
		t.Errorf("the stop hooks ran %d times, want once", hooks)
	}
}
