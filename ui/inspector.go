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
	teach    *Teaching // Learn tab, step-through, anomalies

	sendBtn   *widget.Button
	cancelBtn *widget.Button
	activity  *widget.Activity
	state     *widget.Label
	stats     *widget.Label

	run    *sendRun                    // the send in flight, nil when idle
	last   *session.Exchange           // the exchange shown
	splits map[string]*container.Split // by preference key
	closed bool
	wb     *Workbench // presets, history, environments, imports and exports
	endApp func()     // set by Run: stops the app's loop (see quit)
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
// show waits: the Learn tab's sections are built when the tab is first
// selected, the presets and history panels laid out when first shown, the
// dialogs built when opened.
func newInspector(a fyne.App, deps Deps, overlay fyne.CanvasObject) *Inspector {
	in := &Inspector{prefs: a.Preferences(), deps: deps, do: deps.Do, keys: &keyHooks{}}
	if in.do == nil {
		in.do = fyne.Do
	}
	in.ctx, in.stop = context.WithCancel(context.Background())
	in.keys.send = in.Send
	in.keys.cancel = in.Cancel
	in.win = a.NewWindow(windowTitle)

	in.target = newTargetPanel(in.ctx, in.keys, in.prefs, deps.DemoAddr, deps.DemoErr, in.getValues, in.setMaxConns, in.do)
	in.compose = newComposePanel(in.ctx, in.win, in.keys, in.do)
	in.results = newResultsPanel()
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
	in.state = &widget.Label{Text: "Ready", Truncation: fyne.TextTruncateEllipsis}
	in.stats = &widget.Label{Importance: widget.LowImportance, Alignment: fyne.TextAlignTrailing}

	in.target.SetAddress(in.initialTarget())
	in.wb = attachWorkbench(in)
	in.compose.OnChange = in.wb.Presets.Changed
	in.compose.Prepare = in.wb.Envs.Applier
	in.wb.Envs.OnChange = in.compose.check
	in.wb.Presets.OnState = in.updateTitle
	// Sized before its content is set, the window lays the content out
	// once at its real size rather than at its minimum and then again;
	// sized again after, it grows to the content's minimum as before.
	size := fyne.NewSize(
		float32(in.prefs.FloatWithFallback(PrefWindowWidth, defaultWindowWidth)),
		float32(in.prefs.FloatWithFallback(PrefWindowHeight, defaultWindowHeight)))
	in.win.Resize(size)
	content := in.layout()
	if overlay != nil {
		content = container.NewStack(content, overlay)
	}
	in.win.SetContent(content)
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

// layout puts the panes together: compose | (records | response / stderr),
// every split remembered in the preferences.
func (in *Inspector) layout() fyne.CanvasObject {
	in.splits = map[string]*container.Split{}
	remember := func(s *container.Split, key string, def float64) *container.Split {
		s.Offset = prefFraction(in.prefs, key, def)
		in.splits[key] = s
		return s
	}
	remember(in.compose.split, PrefSplitCompose, 0.78)
	remember(in.results.split, PrefSplitRecords, 0.4)
	remember(in.response.split, PrefSplitBody, 0.3)

	shortcut := newMutedText("Ctrl+Enter sends · Esc cancels")
	shortcut.Truncation = fyne.TextTruncateEllipsis
	sendBar := container.NewBorder(nil, nil, nil, container.NewHBox(in.cancelBtn, in.sendBtn), shortcut)
	left := container.NewPadded(container.NewBorder(
		container.NewVBox(in.target.Content(), in.wb.Envs.Content(), widget.NewSeparator()),
		container.NewVBox(widget.NewSeparator(), sendBar),
		nil, nil, in.teach.Tabs(in.compose.Content())))

	respCol := remember(container.NewVSplit(container.NewPadded(in.response.Content()), container.NewPadded(in.stderr.Content())), PrefSplitResponse, 0.74)
	records := container.NewBorder(in.teach.Strip(), nil, nil, nil, in.results.Content())
	right := remember(container.NewHSplit(container.NewPadded(records), respCol), PrefSplitResults, 0.6)
	main := remember(container.NewHSplit(left, right), PrefSplitMain, 0.285)
	main = remember(container.NewHSplit(in.wb.Sidebar(), main), PrefSplitSide, 0.18)

	status := container.NewBorder(nil, nil, container.NewHBox(in.activity), secondary(in.stats), in.state)
	return container.NewBorder(nil, container.NewVBox(widget.NewSeparator(), status), in.wb.ActivityBar(), nil, main)
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
	msg := ""
	if err != nil {
		msg = failureText(err, run.target, run.cancelled)
	}
	in.response.Show(x, msg, x.ErrorText())
	in.results.SelectFirstParams()
	in.teach.Sent(x)
	in.sendBtn.Enable()
	in.cancelBtn.Disable()
	in.activity.Stop()
	in.activity.Hide()

	switch {
	case err == nil:
		status := "no response"
		if r := x.Response(); r != nil {
			status = fmt.Sprintf("%d %s", r.Status, r.Reason)
		}
		in.setState("Done: "+status+" in "+session.FormatDuration(total), widget.SuccessImportance)
	case errors.Is(err, fcgi.ErrAborted) || run.cancelled:
		in.setState(msg+" — the records that arrived are kept", widget.WarningImportance)
	default:
		in.setState(msg, widget.DangerImportance)
	}
	if err == nil || !errors.Is(err, fcgi.ErrConnect) {
		in.rememberTarget(run.target)
	}
	in.wb.sentHook(x)
}

// failureText says in one sentence what went wrong sending to target:
// the kind of failure, then its root cause (the whole chain is in the
// exchange's error text).
func failureText(err error, target string, cancelled bool) string {
	var ere *fcgi.EndRequestError
	cause := rootCause(err)
	switch {
	case errors.Is(err, fcgi.ErrAborted) || cancelled:
		return "Aborted: ABORT_REQUEST sent to " + target
	case errors.As(err, &ere):
		return fmt.Sprintf("The application refused the request: END_REQUEST %s, app status %d", ere.ProtocolStatus, ere.AppStatus)
	case errors.Is(err, fcgi.ErrConnect):
		return "Cannot connect to " + target + ": " + cause
	case errors.Is(err, fcgi.ErrTimeout):
		return timeoutText(err, target)
	case errors.Is(err, fcgi.ErrConnClosed):
		return "The connection closed before END_REQUEST: " + cause
	case errors.Is(err, fcgi.ErrProtocol):
		return "Protocol error: " + cleanError(err)
	}
	return "Request failed: " + cleanError(err)
}

// timeoutText says which timeout fired, from the *fcgi.TimeoutError in err:
// the dial's, the idle timeout while waiting for a record or while writing
// one, or the request's time limit (a context deadline, e.g.
// session.EngineOptions.Timeout), e.g. "Timed out: no record from
// 127.0.0.1:9000 for 300ms (idle timeout)". A timeout without one (GET_VALUES, or an error
// built outside fcgi) is told by what its error says (see timeoutWhy).
func timeoutText(err error, target string) string {
	var te *fcgi.TimeoutError
	if errors.As(err, &te) {
		switch {
		case te.Limit == fcgi.LimitDial:
			return "Timed out connecting to " + target + ": no answer within " + te.After.String() + " (dial timeout)"
		case te.Phase == fcgi.PhaseDialing:
			return "Timed out: the request's time limit passed while connecting to " + target
		case te.Limit == fcgi.LimitIdle && te.Phase == fcgi.PhaseSending:
			return "Timed out sending to " + target + ": the application read nothing for " + te.After.String() + " (idle timeout)"
		case te.Limit == fcgi.LimitIdle:
			return "Timed out: no record from " + target + " for " + te.After.String() + " (idle timeout)"
		case te.Phase == fcgi.PhaseSending:
			return "Timed out: the request's time limit passed while sending to " + target
		case te.Phase == fcgi.PhaseWaiting:
			return "Timed out: the request's time limit passed while waiting for END_REQUEST from " + target
		}
		return "Timed out: the request's time limit passed before the request was sent to " + target
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timed out: the request's time limit passed before the request was sent to " + target
	}
	why := timeoutWhy(err)
	if why == "" {
		why = rootCause(err)
	}
	return "Timed out waiting for " + target + ": " + why
}

// timeoutWhy returns what the error that wraps fcgi.ErrTimeout itself (no
// *fcgi.TimeoutError) says after it, without the text of the cause it may
// wrap too, e.g. "no GET_VALUES_RESULT within 300ms (IdleTimeout)"; "" when
// it says nothing more. It reads no particular words of fcgi's.
func timeoutWhy(err error) string {
	const kind = "timeout: " // fcgi.ErrTimeout, then what timed out
	for err != nil {
		var wrapped []error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			wrapped = []error{u.Unwrap()}
		case interface{ Unwrap() []error }:
			wrapped = u.Unwrap()
		}
		var next error
		carries := false
		for _, e := range wrapped {
			if e == fcgi.ErrTimeout {
				carries = true
			} else if e != nil {
				next = e
			}
		}
		if carries {
			msg := err.Error()
			if next != nil {
				msg = strings.TrimSuffix(msg, ": "+next.Error())
			}
			if why, ok := strings.CutPrefix(msg, kind); ok {
				return why
			}
			_, why, _ := strings.Cut(msg, ": "+kind)
			return why
		}
		err = next
	}
	return ""
}

// rootCause returns the text of the innermost error of a chain, e.g.
// "connection refused". Where an error wraps several (a sentinel and the
// cause), it follows the last one that is not an fcgi sentinel.
func rootCause(err error) string {
	sentinel := func(e error) bool {
		for _, s := range []error{fcgi.ErrConnect, fcgi.ErrTimeout, fcgi.ErrAborted, fcgi.ErrConnClosed, fcgi.ErrProtocol} {
			if e == s {
				return true
			}
		}
		_, timeout := e.(*fcgi.TimeoutError) // stands for fcgi.ErrTimeout
		return timeout
	}
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if e != nil && !sentinel(e) {
					next = e
				}
			}
		}
		if next == nil {
			return cleanError(err)
		}
		err = next
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

// getValues runs on the probe's worker goroutine.
func (in *Inspector) getValues(ctx context.Context, target string) ([]fcgi.Pair, error) {
	return in.deps.Engine.GetValues(ctx, target)
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
}

// Close saves the preferences and cancels everything in flight: the send,
// the probe and the checks. It is called when the window closes.
func (in *Inspector) Close() {
	if in.closed {
		return
	}
	in.closed = true
	in.SavePrefs()
	in.wb.SavePrefs()
	if in.run != nil {
		in.run.cancel()
	}
	in.target.CancelProbe()
	in.teach.Close()
	in.stop()
	// A send that just finished may still be writing its history entry.
	in.wb.History.Wait()
}
