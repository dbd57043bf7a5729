// Inspector: the main window — compose on the left, records, response and stderr on the right — and the send/cancel cycle that runs requests off the UI goroutine.

package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/teach"
	"fcgiscope/ui/view"
)

// liveInterval is how often a running send hands what arrived to the
// window: records are shown in batches, never one fyne.Do per record.
const liveInterval = 50 * time.Millisecond

// Window title.
const windowTitle = "fcgiscope"

// Inspector is the main window. Its methods must be called on the UI
// goroutine; workers report back through Deps.Do.
type Inspector struct {
	win   fyne.Window
	prefs fyne.Preferences
	deps  Deps
	do    func(func())
	ctx   context.Context
	stop  context.CancelFunc
	keys  *keyHooks

	target   *TargetPanel
	compose  *ComposePanel
	results  *ResultsPanel
	response *ResponsePanel
	stderr   *StderrPanel
	teach    *Teaching // Learn panel, step-through, anomalies

	sendBtn   *widget.Button
	cancelBtn *widget.Button
	activity  *widget.Activity
	state     *view.TextLine
	stats     *view.TextLine
	tips      *view.TipLayer    // the window's content, with the tooltips over it
	panes     fyne.CanvasObject // the panes, in the root scroll (see fitScreen)
	bound     fyne.Size         // the most the panes may ask for (see minBound)

	run    *sendRun                    // the send in flight, nil when idle
	last   *session.Exchange           // the exchange shown
	splits map[string]*container.Split // by preference key
	closed bool
	wb     *Workbench // presets, history, environments, imports and exports

	formPath string // where the request form is kept between launches; "" if nowhere
	endApp   func() // set by Run: stops the app's loop (see quit)
}

// sendRun is one send in flight. The worker owns nothing of the window: it
// sees only the exchange and these fields.
type sendRun struct {
	x         *session.Exchange
	target    string
	cancel    context.CancelFunc
	start     time.Time
	cancelled bool        // Cancel was pressed (UI goroutine only)
	records   atomic.Bool // a record arrived since the last tick
}

// NewInspector builds the main window on a. It does not show it.
func NewInspector(a fyne.App, deps Deps) *Inspector {
	return newInspector(a, deps, nil)
}

// newInspector builds the main window with overlay, when not nil, stacked
// over its content (Run's first-frame mark). What the first frame does not
// show waits: the Learn panel's sections are built when it is first
// shown, the presets and history panels laid out when first shown, the
// dialogs built when opened.
func newInspector(a fyne.App, deps Deps, overlay fyne.CanvasObject) *Inspector {
	in := &Inspector{prefs: a.Preferences(), deps: deps, do: deps.Do, keys: &keyHooks{}, bound: minBound(fyne.Size{})}
	if in.do == nil {
		in.do = fyne.Do
	}
	in.ctx, in.stop = context.WithCancel(context.Background())
	in.keys.send = in.Send
	in.keys.cancel = in.Cancel
	in.win = a.NewWindow(windowTitle)

	in.target = newTargetPanel(in.ctx, in.keys, in.prefs, deps.DemoAddr, deps.DemoErr, in.getValues, in.setMaxConns, in.do)
	in.compose = newComposePanel(in.ctx, in.win, in.keys, in.do)
	in.results = newResultsPanel(in.keys)
	in.response = newResponsePanel()
	in.stderr = newStderrPanel()
	in.results.OnStdoutRecord = in.response.HighlightStdout
	in.response.attach(in.win, in.do)
	in.teach = attachTeaching(in)

	in.sendBtn = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), in.Send)
	in.sendBtn.Importance = widget.HighImportance
	in.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { in.Cancel() })
	in.cancelBtn.Disable()
	in.activity = widget.NewActivity()
	in.activity.Hide()
	in.state = view.NewTextLine("Ready")
	in.stats = view.NewTextLine("")
	in.stats.Importance = widget.LowImportance
	in.stats.Alignment = fyne.TextAlignTrailing

	in.target.SetAddress(in.initialTarget())
	restored := in.restoreForm()
	in.wb = attachWorkbench(in)
	if restored { // the preset open with that form, unless the form is gone
		in.wb.Presets.Reopen(in.prefs.String(PrefLastPreset))
	}
	in.compose.OnChange = in.wb.Presets.Changed
	in.compose.Prepare = in.wb.Envs.Applier
	in.wb.Envs.OnChange = in.compose.check
	in.wb.Presets.OnState = in.updateTitle
	// Sized before its content is set, the window lays the content out
	// once at its real size rather than at its minimum and then again.
	size := in.windowSize()
	in.win.Resize(size)
	content := in.layout()
	if overlay != nil {
		content = container.NewStack(content, overlay)
	}
	in.tips = view.NewTipLayer(content)
	in.win.SetContent(in.tips)
	in.win.SetMainMenu(in.wb.Menu())
	in.win.Resize(size)
	c := in.win.Canvas()
	c.AddShortcut(sendShortcut, func(fyne.Shortcut) { in.Send() })
	c.AddShortcut(sendShortcutKeypad, func(fyne.Shortcut) { in.Send() })
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			in.Cancel()
		}
	})
	in.win.SetOnClosed(in.Close)
	in.win.SetCloseIntercept(func() { in.wb.Presets.Guard(in.quit) })
	in.updateTitle()
	in.wb.Start("")
	return in
}

// Workbench returns the presets, history and environments with the menus.
func (in *Inspector) Workbench() *Workbench { return in.wb }

// updateTitle names the open preset in the window title.
func (in *Inspector) updateTitle() {
	in.win.SetTitle(windowTitle + " — " + in.wb.Presets.Title())
}

// initialTarget: the address asked for, else the last one used, else the
// demo backend.
func (in *Inspector) initialTarget() string {
	if in.deps.Target != "" {
		return in.deps.Target
	}
	if t := in.prefs.String(PrefLastTarget); t != "" {
		return t
	}
	return in.deps.DemoAddr
}

// layout puts the panes together, every split remembered in the
// preferences:
//
//	bar | presets | target  | records | response
//	    | history | request |         |
//	    | learn   |         |         | stderr
//	status line
//
// The sidebar's panels show when opened from the bar. Each
// column asks for little room: what does not fit its pane scrolls, is cut
// with its whole text in reach, or sits in a tab, so that the window fits
// a 1280×720 screen with room to spare and is usable down to
// minWindowWidth × minWindowHeight.
func (in *Inspector) layout() fyne.CanvasObject {
	in.splits = map[string]*container.Split{}
	remember := func(s *container.Split, key string, def float64) *container.Split {
		s.Offset = prefFraction(in.prefs, key, def)
		in.splits[key] = s
		return s
	}
	remember(in.results.split, PrefSplitRecords, 0.4)

	shortcut := newMutedText("Ctrl+Enter sends · Esc cancels")
	shortcut.Truncation = fyne.TextTruncateEllipsis
	// The send bar is at the bottom of its column: nothing the target or
	// the form shows moves it.
	sendBar := container.NewBorder(nil, nil, nil, container.NewHBox(in.cancelBtn, in.sendBtn), shortcut)
	// The environment's selector shares the title's row: its choices say
	// what it is ("No environment").
	targetHead := container.NewBorder(nil, nil, boldLabel("Target"), in.wb.Envs.edit, in.wb.Envs.sel)
	left := container.NewPadded(container.NewBorder(
		container.NewVBox(targetHead, in.target.Content(), widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), sendBar),
		nil, nil, in.compose.Content()))

	respCol := remember(container.NewVSplit(container.NewPadded(in.response.Content()), container.NewPadded(in.stderr.Content())), PrefSplitResponse, 0.7)
	in.teach.placeStrip()
	right := remember(container.NewHSplit(container.NewPadded(in.results.Content()), respCol), PrefSplitResults, 0.54)
	main := remember(container.NewHSplit(left, right), PrefSplitMain, 0.3)
	// The sidebar: presets and history over the Learn panel, each opened
	// from the activity bar at the window's edge.
	side := newSideColumn(remember(container.NewVSplit(in.wb.Sidebar(), in.teach.Panel()), PrefSplitLearn, 0.5))
	main = remember(container.NewHSplit(side, main), PrefSplitSide, 0.22)
	in.wb.AddToBar(in.teach.LearnButton())
	in.wb.OnViewChanged = in.fitSidebar
	in.teach.OnLearnShown = in.fitSidebar

	status := newStatusLine(in.activity, in.state, in.stats)
	in.panes = container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), status), in.wb.ActivityBar(), nil, main)
	return fitScreen(in.panes, &in.bound)
}

// Window returns the window.
func (in *Inspector) Window() fyne.Window { return in.win }

// Target returns the Target section.
func (in *Inspector) Target() *TargetPanel { return in.target }

// Compose returns the request form.
func (in *Inspector) Compose() *ComposePanel { return in.compose }

// Results returns the records pane.
func (in *Inspector) Results() *ResultsPanel { return in.results }

// Response returns the response pane.
func (in *Inspector) Response() *ResponsePanel { return in.response }

// Stderr returns the stderr pane.
func (in *Inspector) Stderr() *StderrPanel { return in.stderr }

// SendButton and CancelButton return the action buttons.
func (in *Inspector) SendButton() *widget.Button   { return in.sendBtn }
func (in *Inspector) CancelButton() *widget.Button { return in.cancelBtn }

// State returns the status line, e.g. "Done: 200 OK".
func (in *Inspector) State() string { return in.state.Text }

// Busy reports whether a request is in flight.
func (in *Inspector) Busy() bool { return in.run != nil }

// Exchange returns the exchange shown (in flight or finished), or nil.
func (in *Inspector) Exchange() *session.Exchange { return in.last }

// Send sends the composed request to the target. The form is copied here,
// on the UI goroutine; the request is built and sent on a worker; what
// arrives is shown every liveInterval and at the end. A second Send while
// one is in flight does nothing.
func (in *Inspector) Send() {
	if in.run != nil || in.closed {
		return
	}
	input, err := in.compose.Snapshot()
	if err != nil {
		in.setState("Cannot send: "+err.Error(), widget.DangerImportance)
		return
	}
	input.Target = in.target.Address()
	if input, err = in.wb.Envs.Applier()(input); err != nil {
		in.setState("Cannot send: "+err.Error(), widget.DangerImportance)
		return
	}
	target := input.Target
	if _, _, err := fcgi.ParseAddr(target); err != nil {
		in.setState("Cannot send: "+cleanError(err), widget.DangerImportance)
		return
	}

	x := session.NewExchange(input)
	ctx, cancel := context.WithCancel(in.ctx)
	run := &sendRun{x: x, target: target, cancel: cancel, start: time.Now()}
	x.OnRecord = func(session.RecordInfo) { run.records.Store(true) }
	in.run, in.last = run, x
	in.wb.Live.Unshow()

	in.results.Reset(x)
	in.response.Reset()
	in.stderr.Reset()
	in.sendBtn.Disable()
	in.cancelBtn.Enable()
	in.activity.Show()
	in.activity.Start()
	in.setState("Sending to "+in.targetName(target)+"…", widget.MediumImportance)
	in.stats.SetText("")

	engine, do := in.deps.Engine, in.do
	go func() {
		defer cancel()
		done := make(chan error, 1)
		go func() {
			req, err := buildRequest(ctx, input)
			if err != nil {
				done <- err
				return
			}
			done <- engine.Send(ctx, target, req, x)
		}()
		tick := time.NewTicker(liveInterval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				do(func() { in.tick(run) })
			case err := <-done:
				do(func() { in.finish(run, err) })
				return
			}
		}
	}()
}

// Cancel aborts the send in flight (ABORT_REQUEST, then the connection is
// dropped if the application does not answer) and reports whether there
// was one.
func (in *Inspector) Cancel() bool {
	run := in.run
	if run == nil || run.cancelled {
		return false
	}
	run.cancelled = true
	run.cancel()
	in.cancelBtn.Disable()
	in.setState("Cancelling: ABORT_REQUEST sent…", widget.WarningImportance)
	return true
}

// tick shows what arrived since the last tick.
func (in *Inspector) tick(run *sendRun) {
	if in.run != run {
		return
	}
	if run.records.Swap(false) {
		in.syncLive(run.x)
	}
	in.showStats(run.x, time.Since(run.start))
}

// syncLive shows new records, stderr and stdout of x.
func (in *Inspector) syncLive(x *session.Exchange) {
	if in.results.Sync() > 0 {
		in.response.ShowStdout(x.Stdout(), in.results.StdoutSpans())
	}
	in.stderr.Update(x.Stderr())
}

// showStats writes the progress line: bytes both ways, records, time.
func (in *Inspector) showStats(x *session.Exchange, elapsed time.Duration) {
	s := x.Sizes()
	in.stats.SetText(fmt.Sprintf("→ %s sent · ← %s received · %d records · %s",
		session.FormatBytes(s.Sent), session.FormatBytes(s.Received), in.results.Len(), session.FormatDuration(elapsed)))
}

// finish shows the outcome of run.
func (in *Inspector) finish(run *sendRun, err error) {
	if in.run != run {
		return
	}
	in.run = nil
	run.records.Store(false)
	x := run.x
	in.syncLive(x)
	total := x.Timings().Total
	if total == 0 {
		total = time.Since(run.start)
	}
	in.showStats(x, total)
	fail := x.Failure()
	if err != nil && fail == nil { // the request could not be built: nothing was sent
		f := session.Explain(err, run.target)
		fail = &f
	}
	in.showOutcome(x, fail)
	in.results.SelectFirstParams()
	in.teach.Sent(x)
	in.sendBtn.Enable()
	in.cancelBtn.Disable()
	in.activity.Stop()
	in.activity.Hide()

	switch {
	case fail == nil:
		in.setState("Done: "+session.StatusText(x)+" in "+session.FormatDuration(total), widget.SuccessImportance)
	case fail.Kind == session.FailAborted && x.Len() > 0:
		in.setState(fail.Title+" — the records that arrived are kept", widget.WarningImportance)
	case fail.Kind == session.FailAborted:
		in.setState(fail.Title, widget.WarningImportance)
	default:
		in.setState(fail.Title, widget.DangerImportance)
	}
	if err == nil || !errors.Is(err, fcgi.ErrConnect) {
		in.rememberTarget(run.target)
	}
	in.wb.sentHook(x)
}

// showOutcome shows how x ended in the panes that follow the exchange:
// the response (status, END_REQUEST, the failure said once) and, when no
// record was sent or received, why the records pane is empty.
func (in *Inspector) showOutcome(x *session.Exchange, fail *session.Failure) {
	text := ""
	if fail != nil {
		text = fail.Text
	}
	in.response.Show(x, text, "")
	if x.Len() == 0 {
		why := "the exchange has no records"
		if fail != nil {
			why = strings.ToLower(fail.Title[:1]) + fail.Title[1:]
		}
		in.results.SetEmptyText("No records: " + why)
	}
}

// rememberTarget keeps a target that answered for the next launch.
func (in *Inspector) rememberTarget(target string) {
	if target == in.deps.DemoAddr {
		in.prefs.SetString(PrefLastTarget, "")
		return
	}
	in.prefs.SetString(PrefLastTarget, target)
	in.target.Remember(target)
}

func (in *Inspector) targetName(target string) string {
	if target == in.deps.DemoAddr {
		return DemoLabel + " (" + target + ")"
	}
	return target
}

func (in *Inspector) setState(text string, imp widget.Importance) {
	in.state.Text, in.state.Importance = text, imp
	in.state.Refresh()
}

// getValues runs on the probe's worker goroutine: it asks target for its
// values on a connection of its own, recording the GET_VALUES and
// GET_VALUES_RESULT records, which the records pane then shows like any
// exchange's (unless a send is in flight there).
func (in *Inspector) getValues(ctx context.Context, target string) ([]fcgi.Pair, error) {
	x, err := teach.RunGetValues(ctx, in.deps.Engine, target)
	in.do(func() {
		if !in.closed && in.run == nil {
			in.wbShowExchange(x, "the GET_VALUES probe")
		}
	})
	var pairs []fcgi.Pair
	for i, ri := range x.Records() {
		if ri.Dir == fcgi.Received && ri.Type == fcgi.TypeGetValuesResult {
			if rec, _ := x.Decode(i); rec != nil {
				if b, ok := rec.Body.(*fcgi.Pairs); ok {
					pairs = b.List()
				}
			}
		}
	}
	return pairs, err
}

// SavePrefs stores the window size and split offsets.
func (in *Inspector) SavePrefs() {
	size := in.win.Canvas().Size()
	if size.Width > 0 && size.Height > 0 {
		in.prefs.SetFloat(PrefWindowWidth, float64(size.Width))
		in.prefs.SetFloat(PrefWindowHeight, float64(size.Height))
	}
	for key, s := range in.splits {
		in.prefs.SetFloat(key, s.Offset)
	}
	in.prefs.SetString(PrefLastPreset, in.wb.Presets.Current())
}

// Close saves the preferences and cancels everything in flight: the send,
// the probe and the checks. It is called when the window closes.
func (in *Inspector) Close() {
	if in.closed {
		return
	}
	in.closed = true
	in.saveForm()
	in.SavePrefs()
	in.wb.SavePrefs()
	if in.run != nil {
		in.run.cancel()
	}
	in.target.CancelProbe()
	in.wb.Live.Close()
	in.teach.Close()
	in.stop()
	// A send that just finished may still be writing its history entry.
	in.wb.History.Wait()
}
