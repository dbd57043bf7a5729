// Live: the sidebar panel that runs a FastCGI tap from the window and lists the exchanges it sees (or a capture file holds) as they complete, with a filter, pause and clear; one selected shows in the result panes, and can be loaded into compose, saved as a preset or into the history.

package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/tap"
	"fcgiscope/ui/cli"
	"fcgiscope/ui/view"
)

// Preference keys of the Live panel.
const (
	PrefViewLive     = "view.live"     // the Live panel is shown
	PrefLiveListen   = "live.listen"   // the tap's listen address
	PrefLiveUpstream = "live.upstream" // the application's address
	PrefLivePort     = "live.port"     // the port last read in a capture
	// The unix listen socket's owner, group and mode (octal text), as
	// tap --listen-owner/--listen-group/--listen-mode.
	PrefLiveOwner = "live.owner"
	PrefLiveGroup = "live.group"
	PrefLiveMode  = "live.mode"
)

// liveNoteIdle is the tap's note before it starts.
const liveNoteIdle = "Point the web server's fastcgi_pass at the listen address"

// maxPermsTitle is the longest title of the folded socket section.
const maxPermsTitle = 28

// socketHint explains the socket permission fields where they are.
// Its lines are broken by hand: a pop-up sizes to its content, and a
// wrapped label has no height until it has a width.
const socketHint = "Owner, group and mode of the unix socket the tap listens on,\n" +
	"like php-fpm's listen.owner, listen.group and listen.mode.\n" +
	"The web server's user (nginx.conf's user, often www-data;\n" +
	"Apache's User) must be able to read and write the socket:\n" +
	"make it the owner, or give its group and mode 0660,\n" +
	"or mode 0666 for every user.\n" +
	"Left empty, each is the upstream socket's (a TCP upstream:\n" +
	"this process's user and group, mode 0660)."

// maxLive bounds the exchanges the Live list keeps: past it the oldest
// go, counted.
const maxLive = 5000

// liveFlush is how often exchanges that arrived are handed to the list.
const liveFlush = 100 * time.Millisecond

// Status classes of the filter.
const (
	StatusAny    = "Any status"
	Status2xx    = "2xx"
	Status3xx    = "3xx"
	Status4xx    = "4xx"
	Status5xx    = "5xx"
	StatusFailed = "No response"
)

// liveLink is what the Live panel needs from the window.
type liveLink struct {
	show    func(x *session.Exchange, origin string) // shows x in the result panes
	resend  func(in session.Input)                   // loads a request into compose
	preset  func(in session.Input)                   // loads it and asks a preset name
	history func(x *session.Exchange)                // keeps x in the history
	info    func(text string, imp widget.Importance) // the window's status line
}

// liveItem is one exchange of the list with its summary.
type liveItem struct {
	x      *session.Exchange
	sum    tap.Summary
	origin string // "the live tap", or the capture file's name
}

// LivePanel is the Live sidebar panel. Its methods run on the UI goroutine.
type LivePanel struct {
	win   fyne.Window
	prefs fyne.Preferences
	do    func(func())
	ctx   context.Context
	link  liveLink

	listen, upstream *widget.Entry
	owner, group     *widget.Entry // the unix socket's (empty: the upstream's)
	mode             *widget.Entry
	perms            *widget.Accordion
	permHelp         *widget.Button
	helpPop          *widget.PopUp
	socketNote       bool // the note says what is wrong with a socket field
	startBtn         *widget.Button
	stopBtn          *widget.Button
	note             *widget.Label // the tap's state, or why it could not start
	filter           *widget.Entry
	status           *view.Select
	slower           *widget.Entry
	stderrOnly       *widget.Check
	anomOnly         *widget.Check
	pauseBtn         *widget.Button
	clearBtn         *widget.Button
	count            *widget.Label
	lost             *widget.Label
	list             *widget.List
	hint             *mutedText
	resendBtn        *widget.Button
	presetBtn        *widget.Button
	historyBtn       *widget.Button
	rows             map[*fyne.Container]*liveRow
	content          fyne.CanvasObject

	items    []*liveItem // by start time, oldest first, at most maxLive
	shown    []*liveItem // those the filter lets through, newest first
	selected *liveItem
	skip     bool // the next selection is the panel's own
	paused   bool
	waiting  int   // exchanges that arrived while paused
	dropped  int64 // exchanges dropped from the list (maxLive)

	inbox    liveInbox
	run      *liveRun    // the tap running, nil when none
	capture  *captureRun // the capture being read, nil when none
	capDlg   *captureDialog
	lastStat tap.Stats
}

// liveInbox is where workers leave exchanges for the list.
type liveInbox struct {
	mu      sync.Mutex
	items   []*liveItem
	dropped int64
}

func (b *liveInbox) add(it *liveItem) {
	b.mu.Lock()
	if len(b.items) >= maxLive {
		b.items = b.items[1:]
		b.dropped++
	}
	b.items = append(b.items, it)
	b.mu.Unlock()
}

func (b *liveInbox) take() ([]*liveItem, int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	items, dropped := b.items, b.dropped
	b.items, b.dropped = nil, 0
	return items, dropped
}

// liveRun is the tap started from the panel.
type liveRun struct {
	t      *tap.Tap // nil until it listens
	cancel context.CancelFunc
	done   chan struct{} // closed when the tap and its reader have ended
	notice atomic.Pointer[tap.Notice]
	stop   bool // Stop was asked (UI goroutine)
}

// newLivePanel builds the panel.
func newLivePanel(ctx context.Context, win fyne.Window, prefs fyne.Preferences, do func(func()), link liveLink) *LivePanel {
	p := &LivePanel{win: win, prefs: prefs, do: do, ctx: ctx, link: link, rows: map[*fyne.Container]*liveRow{}}
	p.listen = widget.NewEntry()
	p.listen.SetText(prefs.StringWithFallback(PrefLiveListen, "unix:"+filepath.Join(os.TempDir(), "fcgiscope-tap.sock")))
	p.listen.PlaceHolder = "unix:/run/fcgiscope.sock or 127.0.0.1:9001"
	p.upstream = widget.NewEntry()
	p.upstream.SetText(prefs.String(PrefLiveUpstream))
	p.upstream.PlaceHolder = "unix:/run/php/php8.2-fpm.sock"
	p.listen.OnSubmitted = func(string) { p.Start() }
	p.upstream.OnSubmitted = func(string) { p.Start() }
	p.owner = &widget.Entry{PlaceHolder: "owner", Text: prefs.String(PrefLiveOwner)}
	p.group = &widget.Entry{PlaceHolder: "group", Text: prefs.String(PrefLiveGroup)}
	p.mode = &widget.Entry{PlaceHolder: "mode", Text: prefs.String(PrefLiveMode)}
	for _, e := range []*widget.Entry{p.owner, p.group, p.mode} {
		e.ExtendBaseWidget(e)
	}
	for _, e := range []*widget.Entry{p.owner, p.group, p.mode} {
		e.OnSubmitted = func(string) { p.Start() }
		e.OnChanged = func(string) { p.socketChanged() }
	}
	p.startBtn = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), p.Start)
	p.startBtn.Importance = widget.HighImportance
	p.stopBtn = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), p.Stop)
	p.stopBtn.Disable()
	p.note = wrapLabel(liveNoteIdle, widget.LowImportance)

	p.filter = widget.NewEntry()
	p.filter.PlaceHolder = "Filter: URI contains…"
	p.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	p.filter.OnChanged = func(string) { p.applyFilter() }
	p.status = view.NewSelect([]string{StatusAny, Status2xx, Status3xx, Status4xx, Status5xx, StatusFailed}, nil)
	p.status.SetSelected(StatusAny)
	p.status.OnChanged = func(string) { p.applyFilter() }
	p.slower = widget.NewEntry()
	p.slower.PlaceHolder = "slower (ms)"
	p.slower.Validator = func(s string) error {
		if _, err := parseSlower(s); err != nil {
			return err
		}
		return nil
	}
	p.slower.OnChanged = func(string) { p.applyFilter() }
	p.stderrOnly = widget.NewCheck("Stderr", func(bool) { p.applyFilter() })
	p.anomOnly = widget.NewCheck("Anomalies", func(bool) { p.applyFilter() })
	p.pauseBtn = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), func() { p.SetPaused(!p.paused) })
	p.clearBtn = widget.NewButtonWithIcon("Clear", theme.ContentClearIcon(), p.Clear)
	for _, b := range []*widget.Button{p.pauseBtn, p.clearBtn} {
		b.Importance = widget.LowImportance
	}

	p.count = sectionTitle("Live")
	p.lost = &widget.Label{Importance: widget.WarningImportance, Wrapping: fyne.TextWrapWord}
	p.lost.Hide()
	p.list = widget.NewList(func() int { return len(p.shown) }, p.createRow, p.updateRow)
	p.list.OnSelected = p.onSelected
	p.list.OnUnselected = func(widget.ListItemID) {
		if !p.skip {
			p.selected = nil
			p.updateButtons()
		}
	}
	p.hint = newMutedHint("Exchanges appear here as they complete: start the tap, or File ▸ Open capture…")

	p.resendBtn = widget.NewButtonWithIcon("Edit and resend", theme.ContentRedoIcon(), p.EditResend)
	p.resendBtn.Importance = widget.HighImportance
	p.presetBtn = widget.NewButtonWithIcon("Save preset", theme.DocumentSaveIcon(), p.SavePreset)
	p.historyBtn = widget.NewButtonWithIcon("To history", theme.HistoryIcon(), p.SaveHistory)
	for _, b := range []*widget.Button{p.presetBtn, p.historyBtn} {
		b.Importance = widget.LowImportance
	}

	form := container.New(layout.NewFormLayout(),
		mutedLabel("Listen"), p.listen,
		mutedLabel("Upstream"), p.upstream)
	// One row, folded by default: the panel is a sidebar of a laptop's
	// height; the explanation is a tap on ? away.
	p.permHelp = widget.NewButtonWithIcon("", theme.QuestionIcon(), p.ShowSocketHelp)
	p.permHelp.Importance = widget.LowImportance
	modeW := fyne.MeasureText("07777", theme.TextSize(), fyne.TextStyle{}).Width + 4*theme.Padding()
	permRow := container.NewBorder(nil, nil, nil, container.NewHBox(withMinSize(p.mode, modeW, 0), p.permHelp),
		container.NewGridWithColumns(2, p.owner, p.group))
	p.perms = widget.NewAccordion(widget.NewAccordionItem("", permRow))
	p.updatePermsTitle()
	controls := container.NewHBox(p.startBtn, p.stopBtn)
	filters := container.NewVBox(p.filter,
		container.NewBorder(nil, nil, p.status, nil, p.slower),
		container.NewHBox(p.stderrOnly, p.anomOnly))
	header := container.NewBorder(nil, nil, nil, container.NewHBox(p.pauseBtn, p.clearBtn), p.count)
	// Long messages scroll in a few lines rather than make the panel,
	// and the window, taller.
	one := (&widget.Label{Text: "x"}).MinSize().Height
	line := fyne.MeasureText("x", theme.TextSize(), fyne.TextStyle{}).Height
	top := container.NewVBox(header, form, p.perms, controls, view.NewCappedScroll(p.note, one+2*line), widget.NewSeparator(), filters)
	bottom := container.NewVBox(view.NewCappedScroll(p.lost, one+line), widget.NewSeparator(), p.resendBtn, container.NewHBox(p.presetBtn, p.historyBtn))
	body := container.NewStack(p.list, container.NewVBox(layout.NewSpacer(), keepRoom(p.hint), layout.NewSpacer()))
	// The top scrolls when the panel is short (the socket section open and
	// a long note, at 1280x720), rather than make the window taller.
	// The scroll sits in a container that asks for the top's size, so that
	// the top growing (the socket section opened, a longer note) lays the
	// panel out again: a scroll's own minimum never changes.
	topScroll := container.New(followMin{top}, container.NewVScroll(top))
	p.content = container.New(&liveLayout{top: top, floor: header.MinSize().Height + form.MinSize().Height + theme.Padding()},
		topScroll, body, bottom)
	p.updateButtons()
	p.updateCount()
	return p
}

// Content returns the panel's canvas object.
func (p *LivePanel) Content() fyne.CanvasObject { return p.content }

// Running reports whether the tap is running (or starting).
func (p *LivePanel) Running() bool { return p.run != nil }

// Addr returns the address the running tap listens on, "" when none.
func (p *LivePanel) Addr() string {
	if p.run == nil || p.run.t == nil {
		return ""
	}
	return p.run.t.Addr()
}

// Note returns what the panel says about the tap (its state, or an error).
func (p *LivePanel) Note() string { return p.note.Text }

// Shown returns the exchanges the list shows, newest first.
func (p *LivePanel) Shown() []*session.Exchange {
	out := make([]*session.Exchange, len(p.shown))
	for i, it := range p.shown {
		out[i] = it.x
	}
	return out
}

// Len returns how many exchanges the panel holds, filtered or not.
func (p *LivePanel) Len() int { return len(p.items) }

// Selected returns the exchange selected, nil when none.
func (p *LivePanel) Selected() *session.Exchange {
	if p.selected == nil {
		return nil
	}
	return p.selected.x
}

// Select selects the i-th exchange shown, which shows it in the panes.
func (p *LivePanel) Select(i int) { p.list.Select(i) }

// Unshow says that the result panes no longer show an exchange of the
// list: the selection goes.
func (p *LivePanel) Unshow() {
	if p.selected == nil {
		return
	}
	p.selected = nil
	p.skip = true
	p.list.UnselectAll()
	p.skip = false
	p.updateButtons()
}

func (p *LivePanel) setNote(text string, imp widget.Importance) {
	p.note.Text, p.note.Importance = text, imp
	p.note.Refresh()
}

// Start starts a tap on the listen address forwarding to the upstream,
// off the UI goroutine; the fields are remembered.
func (p *LivePanel) Start() {
	if p.run != nil {
		return
	}
	listen, upstream := strings.TrimSpace(p.listen.Text), strings.TrimSpace(p.upstream.Text)
	switch {
	case listen == "":
		p.setNote("Cannot start: give the address to listen on (unix:/path.sock or host:port)", widget.DangerImportance)
		return
	case upstream == "":
		p.setNote("Cannot start: give the upstream, the application's address (php-fpm's listen =)", widget.DangerImportance)
		return
	}
	sock, err := p.socketOptions(listen)
	if err != nil {
		p.setNote("Cannot start: "+err.Error(), widget.DangerImportance)
		p.socketNote = true
		return
	}
	p.socketNote = false
	p.prefs.SetString(PrefLiveListen, listen)
	p.prefs.SetString(PrefLiveUpstream, upstream)
	p.prefs.SetString(PrefLiveOwner, sock.Owner)
	p.prefs.SetString(PrefLiveGroup, sock.Group)
	p.prefs.SetString(PrefLiveMode, strings.TrimSpace(p.mode.Text))
	ctx, cancel := context.WithCancel(p.ctx)
	run := &liveRun{cancel: cancel, done: make(chan struct{})}
	p.run = run
	p.startBtn.Disable()
	p.stopBtn.Enable()
	p.setFieldsEnabled(false)
	p.setNote("Starting: checking "+upstream+"…", widget.MediumImportance)
	opts := tap.Options{Listen: listen, Upstream: upstream, Socket: sock, OnNotice: func(n tap.Notice) { run.notice.Store(&n) }}
	go func() {
		defer close(run.done)
		defer cancel()
		t, err := tap.Listen(ctx, opts)
		if err != nil {
			p.do(func() { p.ended(run, err) })
			return
		}
		ch, unsub := t.Subscribe()
		served := make(chan error, 1)
		go func() { served <- t.Serve() }()
		p.do(func() { p.listening(run, t) })
		tick := time.NewTicker(liveFlush)
		defer tick.Stop()
		var serveErr error
		origin := "the live tap"
	loop:
		for {
			select {
			case x := <-ch:
				p.inbox.add(&liveItem{x: x, sum: tap.Summarize(x), origin: origin})
			case <-tick.C:
				p.do(func() { p.tick(run) })
			case serveErr = <-served:
				break loop
			case <-ctx.Done():
				break loop
			}
		}
		t.Close()
		unsub()
		for x := range ch { // what the connections completed as they were closed
			p.inbox.add(&liveItem{x: x, sum: tap.Summarize(x), origin: origin})
		}
		if serveErr == nil {
			serveErr = <-served
		}
		p.do(func() { p.ended(run, serveErr) })
	}()
}

// socketOptions reads the socket permission fields for a tap listening on
// listen: they apply to a unix socket only.
func (p *LivePanel) socketOptions(listen string) (tap.SocketOptions, error) {
	so := tap.SocketOptions{Owner: strings.TrimSpace(p.owner.Text), Group: strings.TrimSpace(p.group.Text)}
	mode, err := cli.ParseListenMode(p.mode.Text)
	if err != nil {
		return so, fmt.Errorf("socket mode %q: %v", strings.TrimSpace(p.mode.Text), err)
	}
	so.Mode = mode
	for _, f := range []struct{ name, v string }{{"owner", so.Owner}, {"group", so.Group}} {
		if err := checkSocketID(f.v); err != nil {
			return so, fmt.Errorf("socket %s %q: %v", f.name, f.v, err)
		}
	}
	if network, _, err := tap.ListenAddr(listen); err == nil && network != "unix" && (so != tap.SocketOptions{}) {
		return so, fmt.Errorf("socket owner, group and mode apply to a unix socket; %s is a TCP address (empty them, or listen on unix:/path.sock)", listen)
	}
	return so, nil
}

// checkSocketID checks an owner or group field: empty, a name or a
// numeric id (whether it exists is the tap's to say when it starts).
func checkSocketID(s string) error {
	if strings.ContainsAny(strings.TrimSpace(s), " \t:,") {
		return errors.New("a user or group name, or a numeric id")
	}
	return nil
}

// socketChanged retitles the socket section and says at once what is
// wrong with a field (Start says it again).
func (p *LivePanel) socketChanged() {
	p.updatePermsTitle()
	if p.run != nil {
		return
	}
	if _, err := p.socketOptions(strings.TrimSpace(p.listen.Text)); err != nil {
		p.setNote(upperFirst(err.Error()), widget.DangerImportance)
		p.socketNote = true
	} else if p.socketNote {
		p.setNote(liveNoteIdle, widget.LowImportance)
		p.socketNote = false
	}
}

// SocketFields returns the socket permission fields (for tests): owner,
// group, mode, and the section holding them.
func (p *LivePanel) SocketFields() (owner, group, mode *widget.Entry, section *widget.Accordion) {
	return p.owner, p.group, p.mode, p.perms
}

// updatePermsTitle titles the permission section with what is set, so
// that it says so folded.
func (p *LivePanel) updatePermsTitle() {
	var set []string
	for _, v := range []string{p.owner.Text, p.group.Text, p.mode.Text} {
		if v = strings.TrimSpace(v); v != "" {
			set = append(set, v)
		}
	}
	// The title stays short: the sidebar is narrow, and a long title
	// would widen it.
	title := "Socket: as the upstream's"
	if len(set) > 0 {
		title = "Socket " + strings.Join(set, " ")
		if r := []rune(title); len(r) > maxPermsTitle {
			title = string(r[:maxPermsTitle-1]) + "…"
		}
	}
	if it := p.perms.Items[0]; it.Title != title {
		it.Title = title
		p.perms.Refresh()
	}
}

// ShowSocketHelp explains the socket permission fields in a pop-up under
// the ? button.
func (p *LivePanel) ShowSocketHelp() {
	d := fyne.CurrentApp().Driver()
	c := d.CanvasForObject(p.permHelp)
	if c == nil { // not on a canvas: a pop-up would have nowhere to go (Fyne issue 5965)
		return
	}
	p.helpPop = widget.NewPopUp(widget.NewLabel(socketHint), c)
	pos := d.AbsolutePositionForObject(p.permHelp).AddXY(0, p.permHelp.Size().Height)
	p.helpPop.ShowAtPosition(pos) // moved left or up as far as it must to fit
}

// SocketHelp returns the socket help's text when shown, "" otherwise (for
// tests).
func (p *LivePanel) SocketHelp() string {
	if p.helpPop == nil || !p.helpPop.Visible() {
		return ""
	}
	return p.helpPop.Content.(*widget.Label).Text
}

// setFieldsEnabled enables the tap's fields (not while it runs).
func (p *LivePanel) setFieldsEnabled(on bool) {
	for _, e := range []*widget.Entry{p.listen, p.upstream, p.owner, p.group, p.mode} {
		setEnabled(e, on)
	}
}

// listening: the tap of run listens.
func (p *LivePanel) listening(run *liveRun, t *tap.Tap) {
	if p.run != run {
		return
	}
	run.t = t
	if run.stop {
		return
	}
	p.setNote("Listening on "+t.Addr(), widget.SuccessImportance)
	p.link.info("Live: tap listening on "+t.Addr()+", forwarding to "+t.Upstream(), widget.SuccessImportance)
}

// tick hands what arrived to the list and shows the tap's losses.
func (p *LivePanel) tick(run *liveRun) {
	p.flush()
	if p.run != run || run.t == nil {
		return
	}
	st := run.t.Stats()
	if st != p.lastStat {
		p.lastStat = st
		p.updateLost()
	}
	if n := run.notice.Swap(nil); n != nil && n.Kind == tap.NoticeUpstreamDown {
		p.setNote("Upstream down at "+n.Time.Local().Format("15:04:05")+": "+tapError(n.Err), widget.WarningImportance)
	}
}

// ended: the tap of run has stopped, with err when it failed.
func (p *LivePanel) ended(run *liveRun, err error) {
	p.flush()
	if p.run != run {
		return
	}
	p.run = nil
	if run.t != nil {
		p.lastStat = run.t.Stats()
		p.updateLost()
	}
	p.startBtn.Enable()
	p.stopBtn.Disable()
	p.setFieldsEnabled(true)
	if err != nil && !run.stop {
		p.setNote("Cannot tap: "+tapError(err), widget.DangerImportance)
		p.link.info("Live: "+tapError(err), widget.DangerImportance)
		return
	}
	p.setNote("Stopped", widget.MediumImportance)
}

// tapError says err of the tap in a sentence.
func tapError(err error) string {
	s := session.CleanError(err)
	s = strings.TrimPrefix(s, "session: ")
	return strings.TrimPrefix(s, "tap: ")
}

// Stop stops the tap: the listen socket is removed, the connections in
// flight are closed (their exchanges kept).
func (p *LivePanel) Stop() {
	run := p.run
	if run == nil || run.stop {
		return
	}
	run.stop = true
	p.stopBtn.Disable()
	p.setNote("Stopping…", widget.MediumImportance)
	run.cancel()
}

// Close stops the tap and the capture read and waits for them: the window
// is closing.
func (p *LivePanel) Close() {
	if c := p.capture; c != nil {
		c.cancel()
		<-c.done
	}
	if run := p.run; run != nil {
		run.stop = true
		run.cancel()
		<-run.done
	}
}

// SetPaused pauses the list: exchanges that arrive wait (counted) until it
// is resumed.
func (p *LivePanel) SetPaused(on bool) {
	p.paused = on
	if on {
		p.pauseBtn.SetText("Resume")
		p.pauseBtn.SetIcon(theme.MediaPlayIcon())
		p.pauseBtn.Importance = widget.WarningImportance
	} else {
		p.pauseBtn.SetText("Pause")
		p.pauseBtn.SetIcon(theme.MediaPauseIcon())
		p.pauseBtn.Importance = widget.LowImportance
		p.waiting = 0
	}
	p.pauseBtn.Refresh()
	p.flush()
	p.updateCount()
}

// Paused reports whether the list is paused.
func (p *LivePanel) Paused() bool { return p.paused }

// Clear empties the list (the tap keeps running).
func (p *LivePanel) Clear() {
	p.inbox.take()
	p.items, p.shown, p.waiting, p.dropped = nil, nil, 0, 0
	if p.selected != nil {
		p.selected = nil
		p.skip = true
		p.list.UnselectAll()
		p.skip = false
	}
	p.list.Refresh()
	p.updateButtons()
	p.updateCount()
	p.updateLost()
}

// flush moves what the workers left into the list, unless paused.
func (p *LivePanel) flush() {
	if p.paused {
		p.inbox.mu.Lock()
		p.waiting = len(p.inbox.items)
		p.inbox.mu.Unlock()
		p.updateCount()
		return
	}
	items, dropped := p.inbox.take()
	if len(items) == 0 && dropped == 0 {
		return
	}
	p.dropped += dropped
	for _, it := range items { // in time order: connections complete out of order
		i := len(p.items)
		for i > 0 && p.items[i-1].sum.Start.After(it.sum.Start) {
			i--
		}
		p.items = slices.Insert(p.items, i, it)
	}
	if over := len(p.items) - maxLive; over > 0 {
		p.dropped += int64(over)
		p.items = append([]*liveItem(nil), p.items[over:]...)
	}
	p.applyFilter()
	p.updateLost()
}

// applyFilter lists the exchanges the filter lets through, newest first,
// keeping the selection.
func (p *LivePanel) applyFilter() {
	f := p.currentFilter()
	shown := p.shown[:0:0]
	for i := len(p.items) - 1; i >= 0; i-- {
		if f.match(p.items[i]) {
			shown = append(shown, p.items[i])
		}
	}
	p.shown = shown
	p.list.Refresh()
	p.skip = true
	p.list.UnselectAll()
	if p.selected != nil {
		for i, it := range p.shown {
			if it == p.selected {
				p.list.Select(i)
				break
			}
		}
	}
	p.skip = false
	p.updateCount()
	p.updateButtons()
}

// liveFilter is what the filter asks.
type liveFilter struct {
	text      string
	status    string
	slower    time.Duration
	stderr    bool
	anomalies bool
}

func (p *LivePanel) currentFilter() liveFilter {
	slower, _ := parseSlower(p.slower.Text)
	return liveFilter{text: strings.ToLower(strings.TrimSpace(p.filter.Text)), status: p.status.Selected,
		slower: slower, stderr: p.stderrOnly.Checked, anomalies: p.anomOnly.Checked}
}

// parseSlower reads the "slower than" field: milliseconds ("" for none).
func parseSlower(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "ms"))
	if s == "" {
		return 0, nil
	}
	ms, err := strconv.ParseFloat(s, 64)
	if err != nil || ms < 0 {
		return 0, errors.New("milliseconds, e.g. 250")
	}
	return time.Duration(ms * float64(time.Millisecond)), nil
}

func (f liveFilter) match(it *liveItem) bool {
	s := it.sum
	if f.text != "" && !strings.Contains(strings.ToLower(s.URI), f.text) {
		return false
	}
	if f.stderr && s.StderrLines == 0 {
		return false
	}
	if f.anomalies && len(s.Anomalies) == 0 {
		return false
	}
	if f.slower > 0 && s.Duration <= f.slower {
		return false
	}
	switch f.status {
	case Status2xx, Status3xx, Status4xx, Status5xx:
		return s.Status/100 == int(f.status[0]-'0')
	case StatusFailed:
		return s.Status == 0
	}
	return true
}

// SetFilter sets the filter's fields (for tests and the journey): URI
// text, status class, slower than (ms text), stderr only, anomalies only.
func (p *LivePanel) SetFilter(text, status, slower string, stderr, anomalies bool) {
	p.filter.SetText(text)
	p.status.SetSelected(status)
	p.slower.SetText(slower)
	p.stderrOnly.SetChecked(stderr)
	p.anomOnly.SetChecked(anomalies)
	p.applyFilter()
}

func (p *LivePanel) updateCount() {
	text := "Live"
	switch {
	case len(p.items) == 0:
	case len(p.shown) == len(p.items):
		text = fmt.Sprintf("Live · %d", len(p.items))
	default:
		text = fmt.Sprintf("Live · %d of %d", len(p.shown), len(p.items))
	}
	if p.paused {
		text += fmt.Sprintf(" · paused, %d waiting", p.waiting)
	}
	p.count.SetText(text)
	if len(p.shown) == 0 {
		if len(p.items) > 0 {
			p.hint.SetText("No exchange matches the filter")
		} else {
			p.hint.SetText("Exchanges appear here as they complete: start the tap, or File ▸ Open capture…")
		}
		p.hint.Show()
	} else {
		p.hint.Hide()
	}
}

// updateLost shows what the tap could not show, and what the list dropped.
func (p *LivePanel) updateLost() {
	var parts []string
	st := p.lastStat
	if p.dropped > 0 {
		parts = append(parts, fmt.Sprintf("%d oldest dropped from the list (it keeps %d)", p.dropped, maxLive))
	}
	if st.Undelivered > 0 {
		parts = append(parts, plural(int(st.Undelivered), "exchange", "exchanges")+" missed (the list fell behind)")
	}
	if n := st.Behind + st.OverMemory; n > 0 {
		parts = append(parts, session.FormatBytes(n)+" of record content not captured")
	}
	if st.Undecoded > 0 {
		parts = append(parts, session.FormatBytes(st.Undecoded)+" undecodable")
	}
	if st.Unforwarded > 0 {
		parts = append(parts, session.FormatBytes(st.Unforwarded)+" sent after the application's close, not forwarded")
	}
	if st.UpstreamFailed > 0 {
		parts = append(parts, plural(int(st.UpstreamFailed), "connection", "connections")+" not forwarded (upstream down)")
	}
	if len(parts) == 0 {
		p.lost.Hide()
		return
	}
	p.lost.SetText("Lost: " + strings.Join(parts, "; "))
	p.lost.Show()
}

// LostText returns the loss line, "" when nothing was lost.
func (p *LivePanel) LostText() string {
	if !p.lost.Visible() {
		return ""
	}
	return p.lost.Text
}

func (p *LivePanel) updateButtons() {
	on := p.selected != nil
	setEnabled(p.resendBtn, on && p.selected.x.RequestID() != 0)
	setEnabled(p.presetBtn, on && p.selected.x.RequestID() != 0)
	setEnabled(p.historyBtn, on)
	setEnabled(p.clearBtn, len(p.items) > 0)
}

func (p *LivePanel) onSelected(i widget.ListItemID) {
	if p.skip || i >= len(p.shown) {
		return
	}
	it := p.shown[i]
	p.selected = it
	p.updateButtons()
	p.link.show(it.x, it.origin)
}

// resendInput is the selected request as compose loads it: raw mode, the
// params the web server sent, the body, and the upstream as the target.
func (p *LivePanel) resendInput() (session.Input, bool) {
	if p.selected == nil || p.selected.x.RequestID() == 0 {
		return session.Input{}, false
	}
	in := tap.ResendInput(p.selected.x)
	in.Mode = session.ModeRaw
	return in, true
}

// EditResend loads the selected exchange's request into compose.
func (p *LivePanel) EditResend() {
	if in, ok := p.resendInput(); ok {
		p.link.resend(in)
	}
}

// SavePreset loads the selected request into compose and asks a name to
// save it under.
func (p *LivePanel) SavePreset() {
	if in, ok := p.resendInput(); ok {
		p.link.preset(in)
	}
}

// SaveHistory keeps the selected exchange in the history.
func (p *LivePanel) SaveHistory() {
	if p.selected != nil {
		p.link.history(p.selected.x)
	}
}

// liveRow is the widgets of one row.
type liveRow struct {
	title  *widget.Label
	status *widget.Label
	meta   *widget.Label
	stderr *widget.Label
	anom   *widget.Label
}

func (p *LivePanel) createRow() fyne.CanvasObject {
	r := &liveRow{
		title:  &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Truncation: fyne.TextTruncateEllipsis},
		status: &widget.Label{TextStyle: fyne.TextStyle{Bold: true}},
		meta:   &widget.Label{Importance: widget.LowImportance, Truncation: fyne.TextTruncateEllipsis, SizeName: theme.SizeNameCaptionText},
		stderr: &widget.Label{Importance: widget.WarningImportance, SizeName: theme.SizeNameCaptionText},
		anom:   &widget.Label{Importance: widget.DangerImportance, SizeName: theme.SizeNameCaptionText},
	}
	second := container.NewBorder(nil, nil, nil, container.NewHBox(r.stderr, r.anom), secondary(r.meta))
	obj := container.New(layout.NewCustomPaddedVBoxLayout(-2*theme.Padding()), container.NewBorder(nil, nil, nil, r.status, r.title), second)
	p.rows[obj] = r
	return obj
}

func (p *LivePanel) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(p.shown) {
		return
	}
	r := p.rows[o.(*fyne.Container)]
	t := liveRowText(p.shown[i].sum)
	r.title.SetText(t.title)
	r.status.Text, r.status.Importance = t.status, t.imp
	r.status.Refresh()
	r.meta.SetText(t.meta)
	setBadge(r.stderr, t.stderr)
	setBadge(r.anom, t.anomalies)
}

func setBadge(l *widget.Label, text string) {
	if text == "" {
		l.Hide()
		return
	}
	l.SetText(text)
	l.Show()
}

// liveText is a row as it reads.
type liveText struct {
	title, status, meta, stderr, anomalies string
	imp                                    widget.Importance
}

// liveRowText writes a summary as its row shows it: method and URI and
// the status, then time, duration, sizes; badges for stderr and anomalies.
func liveRowText(s tap.Summary) liveText {
	t := liveText{title: strings.TrimSpace(oneLine(s.Method + " " + s.URI))}
	switch {
	case s.Status > 0:
		t.status = strconv.Itoa(s.Status)
		switch s.Status / 100 {
		case 2:
			t.imp = widget.SuccessImportance
		case 3:
			t.imp = widget.MediumImportance
		case 4:
			t.imp = widget.WarningImportance
		default:
			t.imp = widget.DangerImportance
		}
	case s.Err != "":
		t.status, t.imp = "failed", widget.DangerImportance
	case s.Ended && s.ProtocolStatus != fcgi.StatusRequestComplete:
		t.status, t.imp = s.ProtocolStatus.String(), widget.WarningImportance
	case s.Ended:
		t.status, t.imp = "no status", widget.MediumImportance
	default:
		t.status, t.imp = "no end", widget.WarningImportance
	}
	t.meta = fmt.Sprintf("%s · %s · ↑%s ↓%s", s.Start.Local().Format("15:04:05.000"), session.FormatDuration(s.Duration),
		session.FormatBytes(s.Sent), session.FormatBytes(s.Received))
	if s.StderrLines > 0 {
		t.stderr = fmt.Sprintf("stderr %d", s.StderrLines)
	}
	if n := len(s.Anomalies); n > 0 {
		t.anomalies = fmt.Sprintf("⚠ %d", n)
	}
	return t
}

// RowText returns the i-th row shown as text: title, status, meta and the
// badges (for tests).
func (p *LivePanel) RowText(i int) string {
	if i < 0 || i >= len(p.shown) {
		return ""
	}
	t := liveRowText(p.shown[i].sum)
	return strings.Join([]string{t.title, t.status, t.meta, t.stderr, t.anomalies}, " | ")
}

// liveLayout stacks the Live panel's top (the tap's fields, its note, the
// filter), in a scroll, its list and its bottom (losses, actions): the list
// takes what the others leave, down to its minimum; when the panel is short
// of that, the top scrolls, down to floor, instead of asking the window for
// more height.
type liveLayout struct {
	top   fyne.CanvasObject // the content of the top's scroll
	floor float32           // the least height the top gets
}

func (l *liveLayout) topHeight(size fyne.Size, body, bottom fyne.CanvasObject) float32 {
	want := l.top.MinSize().Height
	room := size.Height - body.MinSize().Height - bottom.MinSize().Height - 2*theme.Padding()
	return max(min(want, room), min(want, l.floor))
}

func (l *liveLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	top, body, bottom := objs[0], objs[1], objs[2]
	pad := theme.Padding()
	// Wrapped text needs the height of its lines at the width it gets.
	body.Resize(fyne.NewSize(size.Width, body.Size().Height))
	bottom.Resize(fyne.NewSize(size.Width, bottom.Size().Height))
	th := l.topHeight(size, body, bottom)
	bh := bottom.MinSize().Height
	top.Move(fyne.NewPos(0, 0))
	top.Resize(fyne.NewSize(size.Width, th))
	body.Move(fyne.NewPos(0, th+pad))
	body.Resize(fyne.NewSize(size.Width, max(size.Height-th-bh-2*pad, 0)))
	bottom.Move(fyne.NewPos(0, size.Height-bh))
	bottom.Resize(fyne.NewSize(size.Width, bh))
}

func (l *liveLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	body, bottom := objs[1], objs[2]
	w := max(l.top.MinSize().Width, body.MinSize().Width, bottom.MinSize().Width)
	h := min(l.top.MinSize().Height, l.floor) + body.MinSize().Height + bottom.MinSize().Height + 2*theme.Padding()
	return fyne.NewSize(w, h)
}

// followMin lays out its one object (a scroll) over all its room and asks
// for of's minimum size: when of's grows or shrinks, the canvas sees the
// change and lays the parent out again.
type followMin struct{ of fyne.CanvasObject }

func (f followMin) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (f followMin) MinSize([]fyne.CanvasObject) fyne.Size { return f.of.MinSize() }
