// Learn panel: guided FastCGI lessons against the demo backend with checks on what was sent, the demo's misbehaviour scenarios, and php-fpm's helpers.

package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/session/doctor"
	"fcgiscope/session/teach"
)

// Learn panel sections.
const (
	LearnLessons      = "Lessons"
	LearnMisbehaviour = "Misbehaviours"
	LearnFPM          = "php-fpm"
)

// lessonNeeds returns how many of the latest exchanges the checks of
// lesson id look at when its requests were sent by hand.
func lessonNeeds(id string) int {
	switch id {
	case teach.LessonMultiplex, teach.LessonKeepConn, teach.LessonAuthorizer:
		return 2
	}
	return 1
}

// formCannot says why the compose form cannot hold the request of lesson
// id, if it cannot: such lessons are Run only.
func formCannot(id string) (why string, ok bool) {
	switch id {
	case teach.LessonGetValues:
		return "GET_VALUES is a management record, not a request: Run sends it on a connection of its own " +
			"(the GET_VALUES button by the target asks too, without recording).", true
	case teach.LessonUnknownRole:
		return "The form offers the three roles the spec defines; Run sends BEGIN_REQUEST with role 7.", true
	}
	return "", false
}

// recentKept is how many exchanges sent by hand the panel remembers: the
// most the checks of a lesson look at (lessonNeeds). Each holds all its
// bytes, a response of 100 MiB among them, so no more are kept.
const recentKept = 2

// LearnDeps are what the Learn panel works with.
type LearnDeps struct {
	// Engine runs the lessons' flows; required.
	Engine *session.Engine
	// DemoAddr is the demo backend's address, "" when it is not running.
	DemoAddr string
	// Do runs f on the UI goroutine; nil means fyne.Do.
	Do func(f func())
	// Load puts in into the compose form; in.Target is the address to send
	// it to (the demo backend for lessons and scenarios).
	Load func(in session.Input)
	// Show shows x in the window (records, response, stderr) as the
	// exchange just sent, with err the error its send returned.
	Show func(x *session.Exchange, err error)
	// Current returns what the compose form holds and its target (nil:
	// unknown), so that a request already there is not loaded again.
	Current func() (session.Input, error)
	// Target returns the address the window sends to now (php-fpm helpers).
	Target func() string
	// Exchange returns the exchange the window shows (php-fpm status).
	Exchange func() *session.Exchange
	// Window hosts the dialogs (doctor, status table); may be nil in tests.
	Window fyne.Window
	// Prefs remembers the php-fpm fields; may be nil.
	Prefs fyne.Preferences
}

// lessonState is what the panel knows of one lesson.
type lessonState struct {
	run     []*session.Exchange // from the last Run
	runSeq  int                 // when it ran, on the panel's clock
	checks  []teach.CheckResult
	checked bool
}

// LearnPanel teaches the protocol: lessons (text, a ready request, a Run
// for multi-step flows, checks on the latest exchanges), the demo backend's
// misbehaviour scenarios (each documented, with Try it), and php-fpm's ping
// and status pages and doctor. All methods must be called on the UI
// goroutine.
type LearnPanel struct {
	deps    LearnDeps
	do      func(func())
	base    context.Context
	lessons []teach.Lesson
	scens   []teach.Scenario
	state   map[string]*lessonState
	lesson  int // selected lesson, -1 none
	scen    int // selected scenario, -1 none

	recent    []*session.Exchange // sent by hand, oldest first
	recentSeq int                 // clock of the last one
	clock     int
	checkGen  int

	running   bool
	runCancel context.CancelFunc
	runGen    int
	tempDir   string

	section  string
	secBtns  map[string]*widget.Button
	sections map[string]fyne.CanvasObject // nil until build
	stack    *fyne.Container              // the sections, under their buttons

	// Lessons.
	lessonList  *widget.List
	lessonTitle *widget.Label
	lessonText  *widget.Label
	loadBtn     *widget.Button
	runBtn      *widget.Button
	checkBtn    *widget.Button
	activity    *widget.Activity
	runState    *widget.Label
	showBox     *fyne.Container
	checkTitle  *widget.Label
	checkBox    *fyne.Container
	lessonPane  *container.Scroll

	// Misbehaviours.
	scenList   *widget.List
	scenTitle  *widget.Label
	scenDoc    *widget.Label
	tryBtn     *widget.Button
	scenLoad   *widget.Button
	scenResult *widget.Label

	// php-fpm.
	fpmDocRoot *widget.Entry
	fpmState   *widget.Label

	content fyne.CanvasObject
}

// NewLearnPanel builds the panel. Cancelling base cancels a run in flight.
func NewLearnPanel(base context.Context, deps LearnDeps) *LearnPanel {
	l := newLearnShell(base, deps)
	l.build()
	return l
}

// newLearnShell returns the panel with its section buttons only: build
// adds the sections (lists, long wrapped texts, forms), which the window
// does when its Learn panel is first shown. Every exported method but
// Content, Observe, Running and Close builds them first, so that the
// panel acts the same either way. The buttons are there from the start
// because they set the panel's minimum width.
func newLearnShell(base context.Context, deps LearnDeps) *LearnPanel {
	l := &LearnPanel{deps: deps, do: deps.Do, base: base, lessons: teach.Lessons(), scens: teach.Scenarios(),
		state: map[string]*lessonState{}, lesson: -1, scen: -1}
	if l.do == nil {
		l.do = fyne.Do
	}
	for _, ls := range l.lessons {
		l.state[ls.ID] = &lessonState{}
	}
	l.secBtns = map[string]*widget.Button{}
	var btns []fyne.CanvasObject
	for _, name := range []string{LearnLessons, LearnMisbehaviour, LearnFPM} {
		b := widget.NewButton(name, func() { l.ShowSection(name) })
		l.secBtns[name] = b
		btns = append(btns, b)
	}
	l.stack = container.NewStack()
	l.content = container.NewBorder(container.NewVBox(container.New(shareRow{}, btns...), widget.NewSeparator()),
		nil, nil, nil, l.stack)
	return l
}

// build builds the sections, once, and selects the first lesson and
// scenario.
func (l *LearnPanel) build() {
	if l.sections != nil {
		return
	}
	l.sections = map[string]fyne.CanvasObject{
		LearnLessons:      l.newLessonsView(),
		LearnMisbehaviour: l.newScenariosView(),
		LearnFPM:          l.newFPMView(),
	}
	l.stack.Objects = []fyne.CanvasObject{l.sections[LearnLessons], l.sections[LearnMisbehaviour], l.sections[LearnFPM]}
	l.stack.Refresh()
	l.ShowSection(LearnLessons)
	l.SelectLesson(l.lessons[0].ID)
	if len(l.scens) > 0 {
		l.SelectScenario(l.scens[0].ID)
	}
}

// Content returns the panel's canvas object.
func (l *LearnPanel) Content() fyne.CanvasObject { return l.content }

// ShowSection shows LearnLessons, LearnMisbehaviour or LearnFPM.
func (l *LearnPanel) ShowSection(name string) {
	l.build()
	if _, ok := l.sections[name]; !ok {
		return
	}
	l.section = name
	for n, obj := range l.sections {
		b := l.secBtns[n]
		if n == name {
			obj.Show()
			if b != nil {
				b.Importance = widget.HighImportance
			}
		} else {
			obj.Hide()
			if b != nil {
				b.Importance = widget.MediumImportance
			}
		}
		if b != nil {
			b.Refresh()
		}
	}
}

// Section returns the section shown.
func (l *LearnPanel) Section() string {
	l.build()
	return l.section
}

// Close cancels a run in flight and removes the panel's temporary files.
func (l *LearnPanel) Close() {
	if l.runCancel != nil {
		l.runCancel()
		l.runCancel = nil
	}
	l.runGen++
	l.checkGen++
	if l.tempDir != "" {
		os.RemoveAll(l.tempDir)
		l.tempDir = ""
	}
}

// Lessons.

func (l *LearnPanel) newLessonsView() fyne.CanvasObject {
	l.lessonList = widget.NewList(
		func() int { return len(l.lessons) },
		func() fyne.CanvasObject { return newLessonRow() },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(l.lessons) {
				ls := l.lessons[id]
				st := l.state[ls.ID]
				o.(*lessonRow).set(id+1, ls.Title, st.checked, teach.Passed(st.checks))
			}
		})
	l.lessonList.OnSelected = func(id widget.ListItemID) { l.selectLesson(id) }

	l.lessonTitle = &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Wrapping: fyne.TextWrapWord}
	l.lessonText = wrapLabel("", widget.MediumImportance)
	l.loadBtn = widget.NewButtonWithIcon("Load preset", theme.DocumentIcon(), l.LoadPreset)
	l.runBtn = widget.NewButtonWithIcon("Run", theme.MediaPlayIcon(), l.Run)
	l.checkBtn = widget.NewButtonWithIcon("Check again", theme.ViewRefreshIcon(), l.Check)
	l.checkBtn.Importance = widget.LowImportance
	l.activity = widget.NewActivity()
	l.activity.Hide()
	l.runState = wrapLabel("", widget.LowImportance)
	l.showBox = container.NewHBox()
	l.checkTitle = sectionTitle("Checks")
	l.checkBox = container.NewVBox()

	// Check again beside the checks it runs: on the row of Load preset and
	// Run it made the panel wider than the sidebar of a 1366×768 screen.
	buttons := container.NewHBox(l.loadBtn, l.runBtn, l.activity)
	detail := container.NewVBox(l.lessonTitle, l.lessonText, buttons, secondary(l.runState), l.showBox,
		widget.NewSeparator(), sectionHeader(l.checkTitle, l.checkBtn), l.checkBox)
	l.lessonPane = container.NewVScroll(container.NewPadded(detail))
	split := container.NewVSplit(l.lessonList, l.lessonPane)
	split.Offset = 0.34
	return split
}

// SelectLesson selects the lesson with the given id and reports whether
// there is one.
func (l *LearnPanel) SelectLesson(id string) bool {
	l.build()
	for i, ls := range l.lessons {
		if ls.ID == id {
			selectInSight(l.lessonList, i)
			return true
		}
	}
	return false
}

// selectInSight selects row i of list. A list not laid out yet (the panel
// built as it opens) has no height, and Select then scrolls the row to just
// above its top: such a list is scrolled to its top instead, where the
// row selected before the panel opens (the first: see build) is in sight.
func selectInSight(list *widget.List, i int) {
	list.Select(i)
	if list.Size().Height <= 0 {
		list.ScrollToTop()
	}
}

// Lesson returns the selected lesson's id, "" if none.
func (l *LearnPanel) Lesson() string {
	l.build()
	if l.lesson < 0 {
		return ""
	}
	return l.lessons[l.lesson].ID
}

func (l *LearnPanel) selectLesson(i int) {
	if i < 0 || i >= len(l.lessons) {
		return
	}
	l.lesson = i
	ls := l.lessons[i]
	l.lessonTitle.SetText(fmt.Sprintf("%d. %s", i+1, ls.Title))
	l.lessonText.SetText(ls.Text)
	if ls.Run == nil {
		l.runBtn.Hide()
	} else {
		l.runBtn.Show()
	}
	// The flows that take more than one request are best Run; the others
	// are best loaded and sent by hand.
	why, runOnly := formCannot(ls.ID)
	if runOnly {
		l.loadBtn.Hide()
	} else {
		l.loadBtn.Show()
	}
	switch {
	case runOnly:
		l.runBtn.Importance = widget.HighImportance
		l.setRunState(why, widget.LowImportance)
	case lessonNeeds(ls.ID) > 1 || ls.ID == teach.LessonAbort:
		l.runBtn.Importance, l.loadBtn.Importance = widget.HighImportance, widget.MediumImportance
		l.setRunState("Run sends the whole flow to the demo backend; the checks below look at what it recorded.",
			widget.LowImportance)
	default:
		l.runBtn.Importance, l.loadBtn.Importance = widget.MediumImportance, widget.HighImportance
		l.setRunState("Load preset puts the request in the form (target: the demo backend); press Send, then read "+
			"the checks.", widget.LowImportance)
	}
	l.runBtn.Refresh()
	l.loadBtn.Refresh()
	l.setRunning(l.running)
	l.showRunExchanges(l.state[ls.ID].run)
	l.Check()
	l.lessonPane.ScrollToTop()
}

// LoadPreset puts the selected lesson's request into the compose form,
// aimed at the demo backend. A FILTER lesson's data goes to a temporary
// file that the form names.
func (l *LearnPanel) LoadPreset() {
	l.build()
	if l.lesson < 0 {
		return
	}
	ls := l.lessons[l.lesson]
	if why, ok := formCannot(ls.ID); ok {
		l.setRunState(why, widget.WarningImportance)
		return
	}
	in, err := l.demoInput(ls.Input)
	if err == nil && ls.Data != nil {
		in.DataFile, err = l.writeData(ls.ID, ls.Data)
	}
	if err != nil {
		l.setRunState(err.Error(), widget.DangerImportance)
		return
	}
	if l.deps.Load != nil {
		l.deps.Load(in)
	}
	l.setRunState("Loaded into the form: press Send (Ctrl+Enter). The checks update when the answer is in.",
		widget.SuccessImportance)
}

// demoInput returns in aimed at the demo backend.
func (l *LearnPanel) demoInput(in session.Input) (session.Input, error) {
	if l.deps.DemoAddr == "" {
		return in, errors.New("the demo backend is not running: the lessons need it")
	}
	in.Target = l.deps.DemoAddr
	in.Params = slices.Clone(in.Params)
	return in, nil
}

// formHolds reports whether the compose form holds the raw-mode request in
// already, aimed at the same target.
func (l *LearnPanel) formHolds(in session.Input) bool {
	if l.deps.Current == nil {
		return false
	}
	cur, err := l.deps.Current()
	return err == nil && cur.Mode == in.Mode && in.Mode == session.ModeRaw && cur.Target == in.Target &&
		cur.Role == in.Role && cur.KeepConn == in.KeepConn && cur.RequestID == in.RequestID &&
		slices.Equal(cur.Params, in.Params) && bytes.Equal(cur.Body, in.Body) && cur.DataFile == in.DataFile
}

// writeData writes a FILTER lesson's data to a file of the panel's own.
func (l *LearnPanel) writeData(id string, data []byte) (string, error) {
	if l.tempDir == "" {
		dir, err := os.MkdirTemp("", "fcgiscope-learn-")
		if err != nil {
			return "", fmt.Errorf("ui: lesson data: %w", err)
		}
		l.tempDir = dir
	}
	path := filepath.Join(l.tempDir, id+".txt")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("ui: lesson data: %w", err)
	}
	return path, nil
}

// Run runs the selected lesson's whole flow against the demo backend on
// a worker, shows its last exchange in the window and checks them all.
func (l *LearnPanel) Run() {
	l.build()
	if l.lesson < 0 || l.running {
		return
	}
	ls := l.lessons[l.lesson]
	if ls.Run == nil {
		return
	}
	if l.deps.DemoAddr == "" {
		l.setRunState("The demo backend is not running: the lessons need it.", widget.DangerImportance)
		return
	}
	ctx, cancel := context.WithCancel(l.base)
	l.runCancel = cancel
	l.runGen++
	gen := l.runGen
	l.setRunning(true)
	l.setRunState("Running “"+ls.Title+"” against the demo backend…", widget.MediumImportance)
	engine, target, run, do := l.deps.Engine, l.deps.DemoAddr, ls.Run, l.do
	go func() {
		defer cancel()
		xs, err := run(ctx, engine, target)
		do(func() { l.finishRun(gen, ls.ID, xs, err) })
	}()
}

// Running reports whether a lesson run or a scenario is in flight.
func (l *LearnPanel) Running() bool { return l.running }

func (l *LearnPanel) finishRun(gen int, id string, xs []*session.Exchange, err error) {
	if gen != l.runGen {
		return
	}
	l.runCancel = nil
	l.setRunning(false)
	var kept []*session.Exchange
	for _, x := range xs {
		if x != nil {
			kept = append(kept, x)
		}
	}
	l.clock++
	st := l.state[id]
	st.run, st.runSeq = kept, l.clock
	if len(kept) > 0 && l.deps.Show != nil {
		l.deps.Show(kept[len(kept)-1], err)
	}
	if l.Lesson() != id {
		return // another lesson is shown: its line and checks stay
	}
	if err != nil {
		l.setRunState("The flow ended with an error: "+flowFailure(kept, err, l.deps.DemoAddr), widget.DangerImportance)
	} else {
		l.setRunState(fmt.Sprintf("Done: %s recorded; the window shows the last one.",
			plural(len(kept), "exchange", "exchanges")), widget.SuccessImportance)
	}
	l.showRunExchanges(kept)
	l.Check()
}

// flowFailure says why a lesson's or a scenario's flow failed: the
// failure of the exchange that failed, else err in a user's words.
func flowFailure(xs []*session.Exchange, err error, target string) string {
	for i := len(xs) - 1; i >= 0; i-- {
		if xs[i] == nil {
			continue
		}
		if f := xs[i].Failure(); f != nil {
			return f.Text
		}
	}
	return session.Explain(err, target).Text
}

// showRunExchanges offers a button per exchange of a run, to show it.
func (l *LearnPanel) showRunExchanges(xs []*session.Exchange) {
	l.showBox.RemoveAll()
	if len(xs) < 2 {
		return
	}
	l.showBox.Add(secondary(mutedLabel("Show")))
	for i, x := range xs {
		b := widget.NewButton(fmt.Sprintf("%d: %s", i+1, exchangeLabel(x)), func() {
			if l.deps.Show != nil {
				l.deps.Show(x, nil)
			}
		})
		b.Importance = widget.LowImportance
		l.showBox.Add(b)
	}
}

// exchangeLabel names an exchange by its request: id and script.
func exchangeLabel(x *session.Exchange) string {
	name, _ := x.Params().Get("SCRIPT_NAME")
	if name == "" {
		name, _ = x.Params().Get("REQUEST_URI")
	}
	if name == "" {
		name = x.Role().String()
	}
	return fmt.Sprintf("request %d %s", x.RequestID(), name)
}

// Observe tells the panel that x was sent from the window and has
// finished: the selected lesson's checks look at it.
func (l *LearnPanel) Observe(x *session.Exchange) {
	if x == nil || slices.Contains(l.recent, x) {
		return
	}
	l.recent = append(l.recent, x)
	if n := len(l.recent) - recentKept; n > 0 {
		// Deleted, not sliced off: the array would keep them reachable.
		l.recent = slices.Delete(l.recent, 0, n)
	}
	l.clock++
	l.recentSeq = l.clock
	l.check() // nothing to show before the sections are built
}

// exchangesFor returns what the lesson's checks look at: its last run,
// unless exchanges were sent by hand since, then the latest of those.
func (l *LearnPanel) exchangesFor(ls teach.Lesson) []*session.Exchange {
	st := l.state[ls.ID]
	if st.runSeq > l.recentSeq {
		return st.run
	}
	n := lessonNeeds(ls.ID)
	return slices.Clone(l.recent[max(len(l.recent)-n, 0):])
}

// Check runs the selected lesson's checks on its exchanges (off the UI
// goroutine) and shows the results.
func (l *LearnPanel) Check() {
	l.build()
	l.check()
}

func (l *LearnPanel) check() {
	l.checkGen++
	if l.lesson < 0 {
		return
	}
	ls := l.lessons[l.lesson]
	xs := l.exchangesFor(ls)
	if len(xs) == 0 {
		l.showChecks(ls.ID, nil)
		return
	}
	gen, check, do := l.checkGen, ls.Check, l.do
	go func() {
		rs := check(xs)
		do(func() {
			if gen == l.checkGen {
				l.showChecks(ls.ID, rs)
			}
		})
	}()
}

// Checks returns the check results shown for the selected lesson.
func (l *LearnPanel) Checks() []teach.CheckResult {
	l.build()
	if l.lesson < 0 {
		return nil
	}
	return l.state[l.lessons[l.lesson].ID].checks
}

// CheckSummary returns the line over the checks, e.g. "Checks: 5 of 5 pass".
func (l *LearnPanel) CheckSummary() string {
	l.build()
	return l.checkTitle.Text
}

func (l *LearnPanel) showChecks(id string, rs []teach.CheckResult) {
	st := l.state[id]
	st.checks, st.checked = rs, len(rs) > 0
	l.lessonList.Refresh()
	l.checkBox.RemoveAll()
	if len(rs) == 0 {
		l.checkTitle.SetText("Checks")
		l.checkBox.Add(secondary(wrapLabel("Nothing to check yet: load the preset and send it, or Run the lesson.",
			widget.LowImportance)))
		return
	}
	pass := 0
	for _, r := range rs {
		if r.Pass {
			pass++
		}
		l.checkBox.Add(newCheckRow(r))
	}
	verdict := "the lesson's flow is all there"
	if pass < len(rs) {
		verdict = "not there yet"
	}
	l.checkTitle.SetText(fmt.Sprintf("Checks: %d of %d pass — %s", pass, len(rs), verdict))
}

// setRunning enables the buttons that can act while a run is (not) in
// flight.
func (l *LearnPanel) setRunning(on bool) {
	l.running = on
	setEnabled(l.runBtn, !on)
	setEnabled(l.tryBtn, !on)
	if on {
		l.activity.Show()
		l.activity.Start()
	} else {
		l.activity.Stop()
		l.activity.Hide()
	}
}

func (l *LearnPanel) setRunState(text string, imp widget.Importance) {
	l.runState.Text, l.runState.Importance = text, imp
	l.runState.Refresh()
}

// RunState returns the line under the lesson's buttons.
func (l *LearnPanel) RunState() string {
	l.build()
	return l.runState.Text
}

// LoadButton, RunButton and TryButton return the panel's action buttons.
func (l *LearnPanel) LoadButton() *widget.Button { l.build(); return l.loadBtn }
func (l *LearnPanel) RunButton() *widget.Button  { l.build(); return l.runBtn }
func (l *LearnPanel) TryButton() *widget.Button  { l.build(); return l.tryBtn }

// lessonRow is a line of the lesson list: its state and title.
type lessonRow struct {
	widget.BaseWidget
	todo, pass, fail *widget.Icon
	title            *widget.Label
	box              fyne.CanvasObject
}

func newLessonRow() *lessonRow {
	r := &lessonRow{
		todo:  widget.NewIcon(theme.NewDisabledResource(theme.RadioButtonIcon())),
		pass:  widget.NewIcon(theme.NewSuccessThemedResource(theme.ConfirmIcon())),
		fail:  widget.NewIcon(theme.NewErrorThemedResource(theme.CancelIcon())),
		title: &widget.Label{Truncation: fyne.TextTruncateEllipsis},
	}
	r.pass.Hide()
	r.fail.Hide()
	r.box = container.NewBorder(nil, nil, container.NewStack(r.todo, r.pass, r.fail), nil, r.title)
	r.ExtendBaseWidget(r)
	return r
}

func (r *lessonRow) set(n int, title string, checked, passed bool) {
	r.title.SetText(strconv.Itoa(n) + ". " + title)
	show := func(ic *widget.Icon, on bool) {
		if on {
			ic.Show()
		} else {
			ic.Hide()
		}
	}
	show(r.todo, !checked)
	show(r.pass, checked && passed)
	show(r.fail, checked && !passed)
}

// CreateRenderer links the row to its renderer.
func (r *lessonRow) CreateRenderer() fyne.WidgetRenderer {
	r.ExtendBaseWidget(r)
	return widget.NewSimpleRenderer(r.box)
}

// newCheckRow shows one check: pass or fail, what is expected, what was seen.
func newCheckRow(r teach.CheckResult) fyne.CanvasObject {
	var icon fyne.Resource = theme.NewSuccessThemedResource(theme.ConfirmIcon())
	if !r.Pass {
		icon = theme.NewErrorThemedResource(theme.CancelIcon())
	}
	check := &widget.Label{Text: upperFirst(r.Check), Wrapping: fyne.TextWrapWord}
	detail := &widget.Label{Text: r.Detail, Wrapping: fyne.TextWrapWord, Importance: widget.LowImportance,
		SizeName: theme.SizeNameCaptionText}
	if !r.Pass {
		detail.Importance = widget.DangerImportance
	}
	text := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), check, secondary(detail))
	return container.NewBorder(nil, nil, container.NewVBox(widget.NewIcon(icon)), nil, text)
}

// Misbehaviours.

func (l *LearnPanel) newScenariosView() fyne.CanvasObject {
	l.scenList = widget.NewList(
		func() int { return len(l.scens) },
		func() fyne.CanvasObject { return monoLabel("") },
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(l.scens) {
				o.(*widget.Label).SetText(l.scens[id].Path)
			}
		})
	l.scenList.OnSelected = func(id widget.ListItemID) { l.selectScenario(id) }
	l.scenTitle = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Wrapping: fyne.TextWrapBreak}
	l.scenDoc = wrapLabel("", widget.MediumImportance)
	l.tryBtn = widget.NewButtonWithIcon("Try it", theme.MediaPlayIcon(), l.TryScenario)
	l.tryBtn.Importance = widget.HighImportance
	l.scenLoad = widget.NewButtonWithIcon("Load only", theme.DocumentIcon(), func() { l.LoadScenario() })
	l.scenResult = wrapLabel("", widget.LowImportance)
	intro := wrapLabel("The demo backend breaks the protocol on request, or bends it the way real backends do. "+
		"Try it loads the request into the form and sends it on a connection of its own that keeps listening "+
		"a moment after END_REQUEST, so late and stray records are caught too; the records list marks what is wrong.",
		widget.LowImportance)
	detail := container.NewVBox(l.scenTitle, l.scenDoc, container.NewHBox(l.tryBtn, l.scenLoad), l.scenResult,
		widget.NewSeparator(), secondary(intro))
	split := container.NewVSplit(l.scenList, container.NewVScroll(container.NewPadded(detail)))
	split.Offset = 0.45
	return split
}

// SelectScenario selects the scenario with the given id (e.g. "wrong-id")
// and reports whether there is one.
func (l *LearnPanel) SelectScenario(id string) bool {
	l.build()
	for i, s := range l.scens {
		if s.ID == id {
			selectInSight(l.scenList, i)
			return true
		}
	}
	return false
}

func (l *LearnPanel) selectScenario(i int) {
	if i < 0 || i >= len(l.scens) {
		return
	}
	l.scen = i
	s := l.scens[i]
	l.scenTitle.SetText(s.Path)
	l.scenDoc.SetText(upperFirst(s.Doc))
	l.setScenResult("", widget.LowImportance)
}

// LoadScenario puts the selected scenario's request into the form, aimed
// at the demo backend, unless the form holds it already.
func (l *LearnPanel) LoadScenario() bool {
	l.build()
	if l.scen < 0 {
		return false
	}
	in, err := l.demoInput(l.scens[l.scen].Input)
	if err != nil {
		l.setScenResult(err.Error(), widget.DangerImportance)
		return false
	}
	if l.deps.Load != nil && !l.formHolds(in) {
		l.deps.Load(in)
	}
	l.setScenResult("Loaded into the form: press Send to send it through the connection pool.", widget.MediumImportance)
	return true
}

// TryScenario loads the selected scenario's request into the form and
// runs it on a worker with teach.RunScenario (every record of its
// connection recorded, late ones included), then shows the exchange.
func (l *LearnPanel) TryScenario() {
	l.build()
	if l.scen < 0 || l.running || !l.LoadScenario() {
		return
	}
	s := l.scens[l.scen]
	ctx, cancel := context.WithCancel(l.base)
	l.runCancel = cancel
	l.runGen++
	gen := l.runGen
	l.setRunning(true)
	l.setScenResult("Sending "+s.Path+"…", widget.MediumImportance)
	engine, target, do := l.deps.Engine, l.deps.DemoAddr, l.do
	go func() {
		defer cancel()
		x, err := teach.RunScenario(ctx, engine, target, s, 0)
		as := session.Anomalies(x)
		do(func() { l.finishScenario(gen, s, x, as, err) })
	}()
}

func (l *LearnPanel) finishScenario(gen int, s teach.Scenario, x *session.Exchange, as []session.Anomaly, err error) {
	if gen != l.runGen {
		return
	}
	l.runCancel = nil
	l.setRunning(false)
	if l.deps.Show != nil {
		l.deps.Show(x, err)
	}
	if l.scen < 0 || l.scens[l.scen].ID != s.ID {
		return
	}
	text := "No record departs from the spec."
	imp := widget.MediumImportance
	if len(as) > 0 {
		var kinds []string
		warn := false
		for _, a := range as {
			if !slices.Contains(kinds, string(a.Kind)) {
				kinds = append(kinds, string(a.Kind))
			}
			warn = warn || !a.Kind.Informational()
		}
		text = fmt.Sprintf("%s (%s): listed under the records, each marked in the list.",
			plural(len(as), "anomaly", "anomalies"), strings.Join(kinds, ", "))
		if warn {
			imp = widget.WarningImportance
		}
	}
	if err != nil {
		text += " " + flowFailure([]*session.Exchange{x}, err, l.deps.DemoAddr)
		imp = widget.DangerImportance
	} else if end := x.End(); end != nil {
		text += fmt.Sprintf(" END_REQUEST: app status %d, %s.", end.AppStatus, end.ProtocolStatus)
	}
	l.setScenResult(text, imp)
}

func (l *LearnPanel) setScenResult(text string, imp widget.Importance) {
	l.scenResult.Text, l.scenResult.Importance = text, imp
	l.scenResult.Refresh()
}

// ScenarioResult returns the line under the scenario's buttons.
func (l *LearnPanel) ScenarioResult() string {
	l.build()
	return l.scenResult.Text
}

// php-fpm.

func (l *LearnPanel) newFPMView() fyne.CanvasObject {
	docRoot := session.DefaultDocumentRoot
	if l.deps.Prefs != nil {
		docRoot = l.deps.Prefs.StringWithFallback(PrefDoctorDocRoot, session.DefaultDocumentRoot)
	}
	l.fpmDocRoot = newPlainMonoEntry("/var/www/html", docRoot)
	l.fpmState = wrapLabel("", widget.LowImportance)
	ping := widget.NewButtonWithIcon("Load ping preset", theme.DocumentIcon(), l.LoadPing)
	status := widget.NewButtonWithIcon("Load status preset", theme.DocumentIcon(), l.LoadStatus)
	table := widget.NewButtonWithIcon("Show status as a table", theme.GridIcon(), l.ShowStatus)
	doctor := widget.NewButtonWithIcon("php-fpm doctor…", theme.SearchIcon(), l.OpenDoctor)
	doctor.Importance = widget.HighImportance

	pages := wrapLabel("php-fpm answers two pages itself, without a script, when the pool enables them: ping.path "+
		"(\"pong\", for health checks) and pm.status_path (the pool's counters and, with ?full, every worker). It "+
		"matches both against SCRIPT_NAME, and answers only when SCRIPT_FILENAME is not empty: the presets set it "+
		"under the document root below (the file need not exist). They go to the target above: point it at php-fpm first.",
		widget.MediumImportance)
	doc := wrapLabel("The doctor probes a pool with a dozen requests for the classic traps — \"Primary script "+
		"unknown\", relative SCRIPT_FILENAME, security.limit_extensions, listen.allowed_clients, a body without "+
		"CONTENT_LENGTH — and says which line fixes each.", widget.MediumImportance)
	box := container.NewVBox(
		sectionTitle("Ping and status pages"), pages,
		container.NewBorder(nil, nil, secondary(mutedLabel("Document root")), nil, l.fpmDocRoot),
		container.NewHBox(ping), container.NewHBox(status), container.NewHBox(table), secondary(l.fpmState),
		widget.NewSeparator(),
		sectionTitle("Doctor"), doc, container.NewHBox(doctor))
	return container.NewVScroll(container.NewPadded(box))
}

// newPlainMonoEntry returns a single-line monospace entry holding text.
func newPlainMonoEntry(placeholder, text string) *widget.Entry {
	e := widget.NewEntry()
	e.PlaceHolder = placeholder
	e.TextStyle = fyne.TextStyle{Monospace: true}
	e.SetText(text)
	return e
}

func (l *LearnPanel) target() string {
	if l.deps.Target == nil {
		return ""
	}
	return l.deps.Target()
}

// LoadPing puts the ping preset into the form, aimed at the current target.
func (l *LearnPanel) LoadPing() {
	l.build()
	if l.deps.Load != nil {
		l.deps.Load(doctor.PingInput(l.target(), l.fpmDocRoot.Text, ""))
	}
	l.setFPMState("Ping preset loaded: Send it; php-fpm answers \"pong\".", widget.MediumImportance)
}

// LoadStatus puts the status preset into the form, aimed at the current
// target.
func (l *LearnPanel) LoadStatus() {
	l.build()
	if l.deps.Load != nil {
		l.deps.Load(doctor.StatusInput(l.target(), l.fpmDocRoot.Text, ""))
	}
	l.setFPMState("Status preset loaded: Send it, then show the answer as a table.", widget.MediumImportance)
}

// ShowStatus shows the window's current response as php-fpm's status
// tables, or says why it cannot.
func (l *LearnPanel) ShowStatus() {
	l.build()
	var x *session.Exchange
	if l.deps.Exchange != nil {
		x = l.deps.Exchange()
	}
	var resp *session.HTTPResponse
	if x != nil {
		resp = x.Response()
	}
	if !doctor.IsStatusPage(resp) {
		l.setFPMState("The response shown is not php-fpm's status page as JSON: load the status preset and Send it first.",
			widget.WarningImportance)
		return
	}
	l.setFPMState("", widget.LowImportance)
	if l.deps.Window != nil {
		ShowFPMStatus(l.deps.Window, resp.Body)
	}
}

// OpenDoctor opens the php-fpm doctor on the current target.
func (l *LearnPanel) OpenDoctor() {
	l.build()
	if l.deps.Window == nil {
		return
	}
	d := ShowDoctor(l.base, l.deps.Window, l.target(), l.deps.Prefs, l.do)
	if root := strings.TrimSpace(l.fpmDocRoot.Text); root != "" {
		d.docRoot.SetText(root)
	}
}

func (l *LearnPanel) setFPMState(text string, imp widget.Importance) {
	l.fpmState.Text, l.fpmState.Importance = text, imp
	l.fpmState.Refresh()
}

// FPMState returns the line under the php-fpm buttons.
func (l *LearnPanel) FPMState() string {
	l.build()
	return l.fpmState.Text
}

// The window's side of teaching.

// Teaching puts the teaching panels into the window: the Learn panel in
// the sidebar, the step-through strip over the records, and the
// anomalies under the record list, whose rows it marks. Its methods run
// on the UI goroutine.
type Teaching struct {
	// OnLearnShown is called when the Learn panel is shown or hidden.
	OnLearnShown func()

	in        *Inspector
	Learn     *LearnPanel
	Playback  *PlaybackPanel
	Anomalies *AnomalyPanel

	stepBtn  *widget.Button
	strip    *fyne.Container // the playback strip, hidden until Step through
	learnBtn *widget.Button  // shows and hides the Learn panel
	panel    fyne.CanvasObject
	band     *fyne.Container // the strip over the record detail (placeStrip)
	shown    *session.Exchange
}

// attachTeaching builds the teaching panels for the window in and wires
// them to its records pane; the window places Tabs and Records.
func attachTeaching(in *Inspector) *Teaching {
	t := &Teaching{in: in}
	t.Anomalies = NewAnomalyPanel(in.do)
	t.Anomalies.OnSelect = t.selectRecord
	t.Anomalies.OnChanged = in.results.RefreshMarks
	t.Playback = NewPlaybackPanel(in.ctx, in.do)
	t.Playback.OnStep = t.selectRecord
	t.Playback.OnClose = func() { t.ShowPlayback(false) }
	t.Learn = newLearnShell(in.ctx, LearnDeps{
		Engine:   in.deps.Engine,
		DemoAddr: in.deps.DemoAddr,
		Do:       in.do,
		Load:     in.wbSetInput,
		Current:  in.wbCurrent,
		Show:     func(x *session.Exchange, _ error) { in.wbShowExchange(x, "the Learn panel") },
		Target:   in.target.Address,
		Exchange: in.Exchange,
		Window:   in.win,
		Prefs:    in.prefs,
	})
	// The strip scrolls when the window is short or narrow, rather than
	// push the status line and the Send button off its bottom (bandLayout)
	// or the response column off its side.
	t.strip = container.NewStack(container.NewScroll(t.Playback.Content()))
	t.strip.Hide()
	t.stepBtn = widget.NewButtonWithIcon("Step through", theme.MediaPlayIcon(), func() { t.ShowPlayback(!t.strip.Visible()) })
	t.stepBtn.Importance = widget.LowImportance
	in.results.AnomalyText = t.Anomalies.RecordText
	in.results.OnReset = t.reset
	in.results.Decorate(t.stepBtn, t.Anomalies.Content())
	list := in.results.List()
	picked := list.OnSelected
	list.OnSelected = func(i int) {
		if picked != nil {
			picked(i)
		}
		t.explainAnomaly(i)
		t.Playback.Follow(i) // a record picked by hand: the replay follows
	}
	return t
}

// Panel returns the Learn panel, for the window's sidebar, beside the
// request form; hidden until ShowLearn, its sections are built when it is
// first shown. LearnButton shows and hides it.
func (t *Teaching) Panel() fyne.CanvasObject {
	if t.panel == nil {
		// Narrower than the panel, the sidebar scrolls it sideways.
		t.panel = container.NewPadded(container.NewHScroll(t.Learn.Content()))
		t.panel.Hide()
		t.learnBtn = widget.NewButtonWithIcon("", theme.HelpIcon(), func() { t.SetLearnShown(!t.LearnShown()) })
		t.learnBtn.Importance = widget.LowImportance
	}
	return t.panel
}

// LearnButton returns the button that shows and hides the Learn panel.
func (t *Teaching) LearnButton() *widget.Button {
	t.Panel()
	return t.learnBtn
}

// ShowLearn shows the Learn panel.
func (t *Teaching) ShowLearn() { t.SetLearnShown(true) }

// SetLearnShown shows or hides the Learn panel.
func (t *Teaching) SetLearnShown(on bool) {
	t.Panel()
	if on {
		t.Learn.build()
		t.panel.Show()
		t.learnBtn.Importance = widget.HighImportance
	} else {
		t.panel.Hide()
		t.learnBtn.Importance = widget.LowImportance
	}
	t.learnBtn.Refresh()
	if t.OnLearnShown != nil {
		t.OnLearnShown()
	}
}

// LearnShown reports whether the Learn panel is shown.
func (t *Teaching) LearnShown() bool { return t.panel != nil && t.panel.Visible() }

// placeStrip puts the step-through strip at the top of the records
// pane's detail side, under the records list: over the whole pane it took
// its height from the list's share of the split, which kept 2 or 3 rows at
// 1366×768; under it, the list keeps its share and the strip takes what
// the detail can spare.
func (t *Teaching) placeStrip() {
	t.in.results.WrapDetail(func(detail fyne.CanvasObject) fyne.CanvasObject {
		t.band = container.New(bandLayout{strip: t.strip, content: t.Playback.Content(), bar: t.Playback.bar}, t.strip, detail)
		return t.band
	})
}

// bandLayout stacks the step-through strip over the record detail. The
// strip gets the height its content needs when the pane has it, and
// scrolls in less, down to bandFloor (and sideways in a column narrower
// than its controls): at 1366x768 its 290 points over the
// records pane made the window's content taller than the window, whose
// root then scrolled the status line and the Send button out of sight.
type bandLayout struct {
	strip   *fyne.Container // a stack holding the scroll of content
	content fyne.CanvasObject
	bar     fyne.CanvasObject // the strip's controls: its first row
}

// floor is the least height the shown strip gets: its controls.
func (b bandLayout) floor() float32 { return b.bar.MinSize().Height + theme.Padding() }

func (b bandLayout) stripHeight(size fyne.Size, pane fyne.CanvasObject) float32 {
	if !b.strip.Visible() {
		return 0
	}
	want := b.content.MinSize().Height
	room := size.Height - pane.MinSize().Height - theme.Padding()
	return max(min(want, room), min(want, b.floor()))
}

func (b bandLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	strip, pane := objs[0], objs[1]
	h := b.stripHeight(size, pane)
	y := float32(0)
	if h > 0 {
		strip.Move(fyne.NewPos(0, 0))
		strip.Resize(fyne.NewSize(size.Width, h))
		y = h + theme.Padding()
	}
	pane.Move(fyne.NewPos(0, y))
	pane.Resize(fyne.NewSize(size.Width, max(size.Height-y, 0)))
}

func (b bandLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	strip, pane := objs[0], objs[1]
	m := pane.MinSize()
	if strip.Visible() {
		m.Height += min(b.content.MinSize().Height, b.floor()) + theme.Padding()
	}
	return m
}

// relayout lays the strip and the record detail out again after the strip
// was shown or hidden: a hidden object's size is never looked at again, so
// without it the strip's room would stay, empty, until the window is
// resized.
func (t *Teaching) relayout() {
	if t.band != nil {
		t.band.Refresh()
	}
}

// ShowPlayback shows or hides the step-through strip; shown, it replays
// the exchange the window shows.
func (t *Teaching) ShowPlayback(on bool) {
	if on == t.strip.Visible() {
		return
	}
	// The strip and the list of anomalies both take the records list's
	// room: while the strip is shown, the anomalies stay folded under their
	// title line (3 rows of records were left at 1366x768 with both).
	t.Anomalies.SetCompact(on)
	if !on {
		t.Playback.Stop()
		t.strip.Hide()
		t.relayout()
		t.stepBtn.Importance = widget.LowImportance
		t.stepBtn.Refresh()
		return
	}
	t.strip.Show()
	t.relayout()
	t.stepBtn.Importance = widget.HighImportance
	t.stepBtn.Refresh()
	if x := t.in.Exchange(); x != t.Playback.Exchange() || x != nil && !t.Playback.Loaded() {
		t.Playback.SetExchange(x)
	}
}

// PlaybackShown reports whether the step-through strip is shown.
func (t *Teaching) PlaybackShown() bool { return t.strip.Visible() }

// selectRecord selects record i in the record list (and so its detail).
func (t *Teaching) selectRecord(i int) {
	l := t.in.results.List()
	if i < 0 {
		l.UnselectAll()
		l.ScrollTo(0)
		return
	}
	l.Select(i)
	l.ScrollTo(i)
}

// explainAnomaly writes what is anomalous about record i, if anything, in
// the record detail's explanation line, until a field is selected.
func (t *Teaching) explainAnomaly(i int) {
	text := t.Anomalies.RecordText(i)
	if text == "" {
		return
	}
	d := t.in.results.Detail()
	if d.Record() == nil {
		return
	}
	if !strings.HasSuffix(text, ".") {
		text += "."
	}
	d.ShowNote("Anomaly: " + text + " Select a field to see its bytes and what it means.")
}

// reset follows the records pane to a new exchange: a finished one (from
// the history, a file or a lesson) is looked at now, one being sent when
// Sent is called.
func (t *Teaching) reset(x *session.Exchange) {
	if x != nil && x.Finished() {
		t.show(x)
		return
	}
	t.shown = nil
	t.Anomalies.Update(nil)
	t.Playback.SetExchange(nil)
}

// Sent tells the teaching panels that x, sent from the form, finished.
func (t *Teaching) Sent(x *session.Exchange) {
	t.Learn.Observe(x)
	t.show(x)
}

// show looks at x, finished: its anomalies, and its replay when the strip
// is open.
func (t *Teaching) show(x *session.Exchange) {
	if x == t.shown {
		return
	}
	t.shown = x
	t.Anomalies.Update(x)
	if t.strip.Visible() {
		t.Playback.SetExchange(x)
	} else {
		t.Playback.SetExchange(nil)
	}
}

// Close stops what the panels run.
func (t *Teaching) Close() {
	t.Playback.Close()
	t.Learn.Close()
}

// Teaching returns the window's teaching side: the Learn panel, the
// step-through strip and the anomalies (for menu entries: ShowLearn,
// ShowPlayback, Learn.OpenDoctor).
func (in *Inspector) Teaching() *Teaching { return in.teach }

// shareRow lays out its objects in one row, each as wide as it needs plus
// an equal share of the room left: the Learn panel's section buttons,
// whose minimum width is their sum rather than three times the widest.
type shareRow struct{}

func (shareRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	gap := theme.Padding()
	need := shareRow{}.MinSize(objs).Width
	extra := max(size.Width-need, 0) / float32(max(len(objs), 1))
	x := float32(0)
	for _, o := range objs {
		w := o.MinSize().Width + extra
		o.Move(fyne.NewPos(x, 0))
		o.Resize(fyne.NewSize(w, size.Height))
		x += w + gap
	}
}

func (shareRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w, h float32
	for i, o := range objs {
		m := o.MinSize()
		w += m.Width
		if i > 0 {
			w += theme.Padding()
		}
		h = max(h, m.Height)
	}
	return fyne.NewSize(w, h)
}
