// php-fpm doctor: a dialog that probes a pool for the classic configuration traps, off the UI goroutine, and lists what it found.

package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/doctor"
)

// Preference keys of the doctor's fields, remembered between runs.
const (
	PrefDoctorDocRoot = "doctor.docroot"
	PrefDoctorScript  = "doctor.script"
	PrefDoctorPing    = "doctor.ping"
	PrefDoctorStatus  = "doctor.status"
)

// DoctorFunc runs the doctor: doctor.Run, or a stand-in in tests.
type DoctorFunc func(ctx context.Context, target string, opts doctor.Options) doctor.Report

// DoctorPanel is the php-fpm doctor: the target and where the pool's
// files are, a Run button that probes off the UI goroutine (with a
// progress indicator and Cancel), and the findings with their severity,
// title, explanation and evidence. All methods must be called on the UI
// goroutine.
type DoctorPanel struct {
	do     func(func())
	base   context.Context
	prefs  fyne.Preferences
	doctor DoctorFunc

	target, docRoot, script, ping, status *widget.Entry

	runBtn, cancelBtn *widget.Button
	progress          *widget.ProgressBarInfinite
	state             *widget.Label
	findings          *fyne.Container
	scroll            *container.Scroll

	cancel context.CancelFunc // the run in flight, nil when idle
	runID  int
	report *doctor.Report

	content fyne.CanvasObject
}

// NewDoctorPanel builds the panel. target is the address to probe first;
// prefs (may be nil) remembers the fields; do runs a function on the UI
// goroutine (nil: fyne.Do); cancelling base cancels a run.
func NewDoctorPanel(base context.Context, target string, prefs fyne.Preferences, do func(func())) *DoctorPanel {
	if do == nil {
		do = fyne.Do
	}
	d := &DoctorPanel{do: do, base: base, prefs: prefs, doctor: doctor.Run}
	entry := func(placeholder, value string) *widget.Entry {
		e := widget.NewEntry()
		e.PlaceHolder = placeholder
		e.TextStyle = fyne.TextStyle{Monospace: true}
		e.SetText(value)
		e.OnSubmitted = func(string) { d.Run() }
		return e
	}
	pref := func(key, def string) string {
		if prefs == nil {
			return def
		}
		return prefs.StringWithFallback(key, def)
	}
	d.target = entry("127.0.0.1:9000 or unix:/run/php/php-fpm.sock", target)
	d.docRoot = entry("/var/www/html", pref(PrefDoctorDocRoot, session.DefaultDocumentRoot))
	d.script = entry("index.php", pref(PrefDoctorScript, "index.php"))
	d.ping = entry("empty: skip", pref(PrefDoctorPing, doctor.PingPath))
	d.status = entry("empty: skip", pref(PrefDoctorStatus, doctor.StatusPath))

	d.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), d.Run)
	d.runBtn.Importance = widget.HighImportance
	d.cancelBtn = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.Cancel() })
	d.cancelBtn.Disable()
	d.progress = widget.NewProgressBarInfinite()
	d.progress.Stop()
	d.progress.Hide()
	d.state = wrapLabel("Probes the pool with a dozen requests: a known script, a missing one, a relative "+
		"SCRIPT_FILENAME, a non-PHP file, a body without CONTENT_LENGTH, the ping and status pages.", widget.LowImportance)

	form := widget.NewForm(
		widget.NewFormItem("Target", d.target),
		widget.NewFormItem("Document root", d.docRoot),
		widget.NewFormItem("Script", d.script),
		widget.NewFormItem("ping.path", d.ping),
		widget.NewFormItem("pm.status_path", d.status),
	)
	form.Items[1].HintText = "as php-fpm sees it (inside its container, if any)"
	form.Items[2].HintText = "an existing PHP script, relative to the document root"
	actions := container.NewBorder(nil, nil, nil, container.NewHBox(d.cancelBtn, d.runBtn),
		container.NewStack(d.progress))
	d.findings = container.NewVBox()
	d.scroll = container.NewVScroll(d.findings)
	top := container.NewVBox(form, actions, secondary(d.state), widget.NewSeparator())
	d.content = container.NewBorder(top, nil, nil, nil, d.scroll)
	return d
}

// Content returns the panel's canvas object.
func (d *DoctorPanel) Content() fyne.CanvasObject { return d.content }

// SetDoctor replaces the function that runs the doctor (tests).
func (d *DoctorPanel) SetDoctor(f DoctorFunc) { d.doctor = f }

// Fields sets the target, document root and script fields.
func (d *DoctorPanel) Fields(target, docRoot, script string) {
	d.target.SetText(target)
	d.docRoot.SetText(docRoot)
	d.script.SetText(script)
}

// Running reports whether a run is in flight.
func (d *DoctorPanel) Running() bool { return d.cancel != nil }

// Report returns the last report, nil before the first run ends.
func (d *DoctorPanel) Report() *doctor.Report { return d.report }

// State returns the status line under the form.
func (d *DoctorPanel) State() string { return d.state.Text }

// Run checks the fields, then runs the doctor on a worker; the findings
// are shown when it returns. A Run while one is in flight does nothing.
func (d *DoctorPanel) Run() {
	if d.cancel != nil {
		return
	}
	target := strings.TrimSpace(d.target.Text)
	if _, _, err := fcgi.ParseAddr(target); err != nil {
		d.setState("Cannot run: "+cleanError(err), widget.DangerImportance)
		return
	}
	docRoot := strings.TrimSpace(d.docRoot.Text)
	if !strings.HasPrefix(docRoot, "/") {
		d.setState("Cannot run: the document root must be an absolute path, as php-fpm sees it", widget.DangerImportance)
		return
	}
	opts := doctor.Options{
		DocRoot:    docRoot,
		Script:     strings.TrimSpace(d.script.Text),
		PingPath:   strings.TrimSpace(d.ping.Text),
		StatusPath: strings.TrimSpace(d.status.Text),
	}
	if d.prefs != nil {
		d.prefs.SetString(PrefDoctorDocRoot, opts.DocRoot)
		d.prefs.SetString(PrefDoctorScript, opts.Script)
		d.prefs.SetString(PrefDoctorPing, opts.PingPath)
		d.prefs.SetString(PrefDoctorStatus, opts.StatusPath)
	}

	ctx, cancel := context.WithCancel(d.base)
	d.cancel = cancel
	d.runID++
	id := d.runID
	d.report = nil
	d.findings.RemoveAll()
	d.runBtn.Disable()
	d.cancelBtn.Enable()
	d.progress.Show()
	d.progress.Start()
	d.setState("Probing "+target+"…", widget.MediumImportance)
	run, do := d.doctor, d.do
	go func() {
		defer cancel()
		rep := run(ctx, target, opts)
		cancelled := ctx.Err() != nil && d.base.Err() == nil
		do(func() { d.finish(id, rep, cancelled) })
	}()
}

// Cancel stops the run in flight and reports whether there was one.
func (d *DoctorPanel) Cancel() bool {
	if d.cancel == nil {
		return false
	}
	d.cancel()
	d.cancelBtn.Disable()
	d.setState("Cancelling…", widget.WarningImportance)
	return true
}

// Close cancels the run in flight; its result is dropped.
func (d *DoctorPanel) Close() {
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
		d.runID++
	}
	d.progress.Stop()
}

// finish shows the report of run id.
func (d *DoctorPanel) finish(id int, rep doctor.Report, cancelled bool) {
	if id != d.runID {
		return
	}
	d.cancel = nil
	d.report = &rep
	d.runBtn.Enable()
	d.cancelBtn.Disable()
	d.progress.Stop()
	d.progress.Hide()
	d.showFindings(rep.Findings)

	counts := map[doctor.Severity]int{}
	for _, f := range rep.Findings {
		counts[f.Severity]++
	}
	var parts []string
	for _, s := range []doctor.Severity{doctor.SeverityError, doctor.SeverityWarning, doctor.SeverityInfo, doctor.SeverityOK} {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	summary := fmt.Sprintf("%s in %s", strings.Join(parts, " · "), session.FormatDuration(rep.Duration.Round(time.Millisecond)))
	switch {
	case cancelled:
		d.setState("Cancelled: the findings made before are shown ("+summary+")", widget.WarningImportance)
	case len(rep.Findings) == 0:
		d.setState("No findings", widget.MediumImportance)
	case rep.Worst() == doctor.SeverityError:
		d.setState("Broken: "+summary, widget.DangerImportance)
	case rep.Worst() == doctor.SeverityWarning:
		d.setState("Works, with traps to fix: "+summary, widget.WarningImportance)
	default:
		d.setState("Healthy: "+summary, widget.SuccessImportance)
	}
}

// showFindings lists fs, the most severe first (in probe order otherwise).
func (d *DoctorPanel) showFindings(fs []doctor.Finding) {
	d.findings.RemoveAll()
	for _, sev := range []doctor.Severity{doctor.SeverityError, doctor.SeverityWarning, doctor.SeverityInfo, doctor.SeverityOK} {
		for _, f := range fs {
			if f.Severity == sev {
				d.findings.Add(newFindingView(f))
			}
		}
	}
	d.scroll.ScrollToTop()
}

// FindingTitles returns the titles of the findings shown, in order, each
// prefixed with its severity ("warning: no ping.path page at /ping").
func (d *DoctorPanel) FindingTitles() []string {
	var out []string
	for _, o := range d.findings.Objects {
		if v, ok := o.(*findingView); ok {
			out = append(out, v.finding.Severity.String()+": "+v.finding.Title)
		}
	}
	return out
}

func (d *DoctorPanel) setState(text string, imp widget.Importance) {
	d.state.Text, d.state.Importance = text, imp
	d.state.Refresh()
}

// severityIcon returns the icon of a severity, coloured by the theme.
func severityIcon(s doctor.Severity) fyne.Resource {
	switch s {
	case doctor.SeverityOK:
		return theme.NewSuccessThemedResource(theme.ConfirmIcon())
	case doctor.SeverityInfo:
		return theme.NewPrimaryThemedResource(theme.InfoIcon())
	case doctor.SeverityWarning:
		return theme.NewWarningThemedResource(theme.WarningIcon())
	}
	return theme.NewErrorThemedResource(theme.ErrorIcon())
}

// severityColor is the badge colour of a severity.
func severityColor(s doctor.Severity) fyne.ThemeColorName {
	switch s {
	case doctor.SeverityOK:
		return theme.ColorNameSuccess
	case doctor.SeverityInfo:
		return theme.ColorNamePrimary
	case doctor.SeverityWarning:
		return theme.ColorNameWarning
	}
	return theme.ColorNameError
}

// codeSegments splits text at its backquotes: `quoted` parts (the config
// lines to write) are shown as code, the rest as text. Unlike markdown, it
// leaves the underscores of SCRIPT_FILENAME and friends alone.
func codeSegments(text string) []widget.RichTextSegment {
	var segs []widget.RichTextSegment
	for i, part := range strings.Split(text, "`") {
		if part == "" {
			continue
		}
		style := widget.RichTextStyleInline
		if i%2 == 1 {
			style = widget.RichTextStyleCodeInline
		}
		segs = append(segs, &widget.TextSegment{Text: part, Style: style})
	}
	return segs
}

// findingView shows one finding: icon, severity, title, explanation (its
// `code` rendered as code) and evidence.
type findingView struct {
	widget.BaseWidget
	finding doctor.Finding
	box     fyne.CanvasObject
}

func newFindingView(f doctor.Finding) *findingView {
	v := &findingView{finding: f}
	title := &widget.Label{Text: upperFirst(f.Title), TextStyle: fyne.TextStyle{Bold: true}, Wrapping: fyne.TextWrapWord}
	head := container.NewBorder(nil, nil,
		container.NewHBox(widget.NewIcon(severityIcon(f.Severity)), newBadge(f.Severity.String(), severityColor(f.Severity))),
		nil, title)
	expl := widget.NewRichText(codeSegments(f.Explanation)...)
	expl.Wrapping = fyne.TextWrapWord
	evidence := &widget.Label{Text: f.Evidence, TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak,
		Importance: widget.LowImportance}
	body := container.New(layout.NewCustomPaddedLayout(0, 0, 2*theme.Padding()+theme.IconInlineSize(), 0),
		container.NewVBox(expl, secondary(evidence)))
	v.box = container.NewVBox(head, body, widget.NewSeparator())
	v.ExtendBaseWidget(v)
	return v
}

// CreateRenderer links the view to its renderer.
func (v *findingView) CreateRenderer() fyne.WidgetRenderer {
	v.ExtendBaseWidget(v)
	return widget.NewSimpleRenderer(v.box)
}

// ShowDoctor opens the php-fpm doctor in a dialog on win, probing target
// first. Closing the dialog cancels a run in flight.
func ShowDoctor(base context.Context, win fyne.Window, target string, prefs fyne.Preferences, do func(func())) *DoctorPanel {
	d := NewDoctorPanel(base, target, prefs, do)
	dlg := dialog.NewCustom("php-fpm doctor", "Close", d.Content(), win)
	dlg.SetOnClosed(d.Close)
	size := win.Canvas().Size()
	dlg.Resize(fyne.NewSize(min(960, size.Width-60), min(760, size.Height-60)))
	dlg.Show()
	return d
}
