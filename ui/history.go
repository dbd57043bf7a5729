// History panel: every sent exchange kept on disk, listed newest first with a filter; reopen one in the result panes, load its request back into compose, compare two, delete, clear, and bound the history's size.

package ui

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/history"
)

// History limits in the preferences.
const (
	PrefHistoryMaxEntries = "history.max_entries" // 0: history.DefaultEntries
	PrefHistoryMaxMB      = "history.max_mb"      // 0: history.DefaultBytes
)

// maxHistoryEntry bounds the bytes an exchange may hold (the capture of
// both directions) to be kept in the history: a larger one would cost
// several times its size in memory to write, and crowd out the rest.
const maxHistoryEntry = 32 << 20

// historyLink is what the history panel does with an entry: show puts an
// exchange in the result panes, load puts a request into compose (asking
// about unsaved changes first). Both run on the UI goroutine.
type historyLink struct {
	show func(x *session.Exchange, origin string)
	load func(in session.Input)
}

// HistoryPanel lists the history. Its methods run on the UI goroutine; the
// history folder is read and written on workers.
type HistoryPanel struct {
	app   fyne.App
	win   fyne.Window
	prefs fyne.Preferences
	do    func(func())
	link  historyLink

	hist     *history.Store
	adding   sync.WaitGroup  // entries being written (Wait)
	entries  []history.Entry // shown, newest first
	checked  []string        // ids ticked for Compare, oldest tick first
	selected string
	shown    string // the entry shown in the result panes
	listGen  int
	loadGen  int
	skip     bool // the next selection is the panel's own
	rows     map[*fyne.Container]*historyRow
	settings *historySettings // the last settings dialog
	cmp      *compareWindow   // the comparison window, nil when none is open

	filter   *widget.Entry
	list     *widget.List
	count    *widget.Label
	problems *widget.Button
	note     *mutedText // why the history is unavailable, or why a send was not kept
	hint     *mutedText
	loadBtn  *widget.Button
	cmpBtn   *widget.Button
	delBtn   *widget.Button
	clearBtn *widget.Button

	// OnError shows an error; nil means an error dialog.
	OnError func(error)

	content fyne.CanvasObject
}

// newHistoryPanel builds the panel; Open then reads the history folder.
func newHistoryPanel(a fyne.App, win fyne.Window, prefs fyne.Preferences, do func(func()), link historyLink) *HistoryPanel {
	h := &HistoryPanel{app: a, win: win, prefs: prefs, do: do, link: link, rows: map[*fyne.Container]*historyRow{}}
	h.filter = widget.NewEntry()
	h.filter.PlaceHolder = "Filter: params, URL, status, stderr…"
	h.filter.ActionItem = widget.NewIcon(theme.SearchIcon())
	h.filter.OnChanged = func(string) { h.Refresh() }
	h.list = widget.NewList(func() int { return len(h.entries) }, h.createRow, h.updateRow)
	h.list.OnSelected = h.onSelected
	h.list.OnUnselected = func(widget.ListItemID) { h.selected = ""; h.updateButtons() }
	h.count = sectionTitle("History")
	h.hint = newMutedHint("Every request sent is kept here")
	h.note = newMutedText("")
	h.note.Wrapping = fyne.TextWrapWord
	h.note.Hide()
	h.problems = widget.NewButtonWithIcon("", theme.NewWarningThemedResource(theme.WarningIcon()), h.showProblems)
	h.problems.Importance = widget.LowImportance
	h.problems.Hide()

	h.loadBtn = widget.NewButtonWithIcon("Load", theme.ContentRedoIcon(), h.LoadSelected)
	h.cmpBtn = widget.NewButtonWithIcon("Compare", theme.ViewRestoreIcon(), h.CompareChecked)
	h.delBtn = widget.NewButtonWithIcon("", theme.DeleteIcon(), h.DeleteSelected)
	h.clearBtn = widget.NewButtonWithIcon("", theme.ContentClearIcon(), h.AskClear)
	settings := widget.NewButtonWithIcon("", theme.SettingsIcon(), h.ShowSettings)
	for _, b := range []*widget.Button{h.loadBtn, h.cmpBtn, h.delBtn, h.clearBtn, settings} {
		b.Importance = widget.LowImportance
	}
	header := container.NewBorder(nil, nil, nil, container.NewHBox(h.delBtn, h.clearBtn, settings), h.count)
	actions := container.NewHBox(h.loadBtn, h.cmpBtn)
	top := container.NewVBox(header, h.filter)
	bottom := container.NewVBox(keepRoom(h.note), widget.NewSeparator(), actions, h.problems)
	body := container.NewStack(h.list, container.NewVBox(layout.NewSpacer(), keepRoom(h.hint), layout.NewSpacer()))
	h.content = container.NewBorder(top, bottom, nil, nil, body)
	h.updateButtons()
	return h
}

// Content returns the panel's canvas object.
func (h *HistoryPanel) Content() fyne.CanvasObject { return h.content }

// History returns the history in use, nil before it is open.
func (h *HistoryPanel) History() *history.Store { return h.hist }

// Entries returns the entries listed, newest first.
func (h *HistoryPanel) Entries() []history.Entry { return h.entries }

// Filter returns the filter entry.
func (h *HistoryPanel) Filter() *widget.Entry { return h.filter }

func (h *HistoryPanel) fail(err error) {
	if h.OnError != nil {
		h.OnError(err)
		return
	}
	dialog.ShowError(err, h.win)
}

// limits returns the limits set in the preferences.
func (h *HistoryPanel) limits() history.Limits {
	l := history.Limits{MaxEntries: h.prefs.Int(PrefHistoryMaxEntries)}
	if mb := h.prefs.Int(PrefHistoryMaxMB); mb > 0 {
		l.MaxBytes = int64(mb) << 20
	}
	return l
}

// Open opens the history in dir ("" for the default folder) on a worker.
func (h *HistoryPanel) Open(dir string) {
	limits := h.limits()
	h.setCount("opening…")
	go func() {
		hist, err := history.Open(dir, limits)
		h.do(func() {
			if err != nil {
				// Shown in place: a read-only home is no reason for a dialog.
				h.setCount("off")
				h.setNote("The history is unavailable: " + cleanError(err))
				return
			}
			h.hist = hist
			if ps := hist.Problems(); len(ps) > 0 {
				h.problems.SetText(fmt.Sprintf("%d unreadable history files (kept on disk)", len(ps)))
				h.problems.Show()
			}
			h.Refresh()
		})
	}()
}

// Add stores x, a finished exchange, on a worker and lists it, selected
// as the exchange shown.
func (h *HistoryPanel) Add(x *session.Exchange) {
	hist := h.hist
	if hist == nil || x == nil {
		return
	}
	limit := int64(maxHistoryEntry)
	if l := hist.Limits().MaxBytes; l > 0 && l < limit {
		limit = l
	}
	if n := x.Sizes().Captured; n > limit {
		h.setNote(fmt.Sprintf("Not kept: %s holds %s, over the %s a history entry may hold (File ▸ Export ▸ Exchange file saves it).",
			exchangeTitle(x), session.FormatBytes(n), session.FormatBytes(limit)))
		return
	}
	h.setNote("")
	h.adding.Add(1)
	go func() {
		id, err := hist.Add(x)
		h.adding.Done()
		h.do(func() {
			if err != nil {
				h.fail(err)
			}
			if id != "" {
				h.shown = id
			}
			h.Refresh()
		})
	}()
}

// Wait returns when the entries being written have reached the disk (or
// failed), so that closing the window loses none.
func (h *HistoryPanel) Wait() { h.adding.Wait() }

// setNote shows a note under the list ("" hides it).
func (h *HistoryPanel) setNote(text string) {
	h.note.SetText(text)
	h.note.Hidden = text == ""
	h.note.Refresh()
}

// Note returns the note under the list, "" when there is none.
func (h *HistoryPanel) Note() string {
	if h.note.Hidden {
		return ""
	}
	return h.note.Text()
}

// Refresh lists the entries matching the filter, on a worker (a long
// stderr is searched in its file).
func (h *HistoryPanel) Refresh() {
	hist := h.hist
	if hist == nil {
		return
	}
	filter := h.filter.Text
	h.listGen++
	gen := h.listGen
	go func() {
		entries := hist.List(filter)
		total := hist.Len()
		h.do(func() {
			if gen != h.listGen {
				return
			}
			h.setEntries(entries, total, filter)
		})
	}()
}

func (h *HistoryPanel) setEntries(entries []history.Entry, total int, filter string) {
	h.entries = entries
	keep := h.checked[:0]
	for _, id := range h.checked {
		if h.index(id) >= 0 {
			keep = append(keep, id)
		}
	}
	h.checked = keep
	switch {
	case strings.TrimSpace(filter) != "":
		h.setCount(fmt.Sprintf("%d of %d", len(entries), total))
	default:
		h.setCount(strconv.Itoa(total))
	}
	h.hint.Hidden = len(entries) > 0
	if total > 0 && len(entries) == 0 {
		h.hint.SetText("No entry matches the filter")
	} else {
		h.hint.SetText("Every request sent is kept here")
	}
	h.list.Refresh()
	h.skip = true
	h.list.UnselectAll()
	h.selected = ""
	if i := h.index(h.shown); i >= 0 {
		h.list.Select(i)
		h.selected = h.shown
		if h.list.Size().Height <= 0 {
			// Not laid out (the panel is closed): Select scrolled the row
			// to just above the list's top. The row shown is the newest.
			h.list.ScrollToTop()
		}
	}
	h.skip = false
	h.updateButtons()
}

func (h *HistoryPanel) index(id string) int {
	for i, e := range h.entries {
		if e.ID == id {
			return i
		}
	}
	return -1
}

func (h *HistoryPanel) updateButtons() {
	setEnabled(h.loadBtn, h.selected != "")
	setEnabled(h.delBtn, h.selected != "")
	setEnabled(h.clearBtn, h.hist != nil && h.hist.Len() > 0)
	h.cmpBtn.SetText(fmt.Sprintf("Compare %d/2", len(h.checked)))
	if len(h.checked) == 0 {
		h.cmpBtn.SetText("Compare")
	}
	setEnabled(h.cmpBtn, len(h.checked) == 2)
}

// historyRow is the widgets of one row.
type historyRow struct {
	check  *widget.Check
	title  *widget.Label
	status *widget.Label
	meta   *widget.Label
	id     string
}

func (h *HistoryPanel) createRow() fyne.CanvasObject {
	r := &historyRow{
		title:  &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Truncation: fyne.TextTruncateEllipsis},
		status: &widget.Label{TextStyle: fyne.TextStyle{Bold: true}},
		meta:   &widget.Label{Importance: widget.LowImportance, Truncation: fyne.TextTruncateEllipsis, SizeName: theme.SizeNameCaptionText},
	}
	r.check = widget.NewCheck("", func(on bool) { h.toggleCheck(r.id, on) })
	lines := container.NewVBox(container.NewBorder(nil, nil, nil, r.status, r.title), secondary(r.meta))
	obj := container.NewBorder(nil, nil, container.NewCenter(r.check), nil, lines)
	h.rows[obj] = r
	return obj
}

func (h *HistoryPanel) updateRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(h.entries) {
		return
	}
	r := h.rows[o.(*fyne.Container)]
	e := h.entries[i]
	r.id = e.ID
	r.check.OnChanged = nil
	r.check.SetChecked(h.isChecked(e.ID))
	r.check.OnChanged = func(on bool) { h.toggleCheck(r.id, on) }
	title, status, imp, meta := historyRowText(e, time.Now())
	r.title.SetText(title)
	r.status.Text, r.status.Importance = status, imp
	r.status.Refresh()
	r.meta.SetText(meta)
}

// historyRowText writes an entry as its row shows it: what (method and
// URL) and the status, then when, target, role, duration and size.
func historyRowText(e history.Entry, now time.Time) (title, status string, imp widget.Importance, meta string) {
	t := e.Time.Local()
	when := t.Format("15:04:05")
	if y, m, d := now.Date(); t.Year() != y || t.Month() != m || t.Day() != d {
		when = t.Format("Jan 2 15:04")
	}
	what := strings.TrimSpace(e.Method + " " + e.URL)
	if what == "" {
		what = "(no URL)"
	}
	title = what
	switch {
	case e.Status != 0:
		status, imp = strconv.Itoa(e.Status), statusImportance(e.Status)
	case e.Error != "":
		status, imp = "failed", widget.DangerImportance
	default:
		status, imp = "–", widget.LowImportance
	}
	role := e.Role
	if role == 0 {
		role = fcgi.RoleResponder
	}
	parts := []string{when, e.Target, roleLabel(role), session.FormatDuration(e.Duration), session.FormatBytes(e.Size)}
	if e.Error != "" {
		parts = append(parts, e.Error)
	}
	return title, status, imp, strings.Join(parts, " · ")
}

// roleLabel names a role as the role list does.
func roleLabel(r fcgi.Role) string {
	switch r {
	case fcgi.RoleResponder:
		return RoleResponder
	case fcgi.RoleAuthorizer:
		return RoleAuthorizer
	case fcgi.RoleFilter:
		return RoleFilter
	}
	return r.String()
}

// RowText returns what row i shows, on one line (for tests).
func (h *HistoryPanel) RowText(i int) string {
	if i < 0 || i >= len(h.entries) {
		return ""
	}
	title, status, _, meta := historyRowText(h.entries[i], time.Now())
	return title + " " + status + " " + meta
}

func (h *HistoryPanel) isChecked(id string) bool {
	for _, c := range h.checked {
		if c == id {
			return true
		}
	}
	return false
}

// toggleCheck ticks an entry for Compare; ticking a third drops the
// oldest tick.
func (h *HistoryPanel) toggleCheck(id string, on bool) {
	if id == "" {
		return
	}
	out := h.checked[:0:0]
	for _, c := range h.checked {
		if c != id {
			out = append(out, c)
		}
	}
	if on {
		out = append(out, id)
		if len(out) > 2 {
			out = out[len(out)-2:]
			h.list.Refresh()
		}
	}
	h.checked = out
	h.updateButtons()
}

// Unshow says that the result panes no longer show an entry of the list
// (an Exchange file was opened): the entry is unselected.
func (h *HistoryPanel) Unshow() {
	h.shown, h.selected = "", ""
	h.skip = true
	h.list.UnselectAll()
	h.skip = false
	h.updateButtons()
}

// Check ticks (or unticks) entry i for Compare.
func (h *HistoryPanel) Check(i int, on bool) {
	if i >= 0 && i < len(h.entries) {
		h.toggleCheck(h.entries[i].ID, on)
		h.list.RefreshItem(i)
	}
}

// Select selects entry i, which shows it in the result panes.
func (h *HistoryPanel) Select(i int) { h.list.Select(i) }

func (h *HistoryPanel) onSelected(i widget.ListItemID) {
	if i >= len(h.entries) {
		return
	}
	h.selected = h.entries[i].ID
	h.updateButtons()
	if h.skip || h.selected == h.shown {
		return
	}
	id := h.selected
	h.withExchange(id, func(x *session.Exchange) {
		h.shown = id
		h.link.show(x, "history")
	})
}

// withExchange loads entry id on a worker and hands it to f.
func (h *HistoryPanel) withExchange(id string, f func(*session.Exchange)) {
	hist := h.hist
	if hist == nil {
		return
	}
	h.loadGen++
	gen := h.loadGen
	go func() {
		x, err := hist.Load(id)
		h.do(func() {
			if gen != h.loadGen {
				return
			}
			if err != nil {
				h.fail(err)
				return
			}
			f(x)
		})
	}()
}

// LoadSelected puts the selected entry's request back into compose.
func (h *HistoryPanel) LoadSelected() {
	if h.selected == "" {
		return
	}
	h.withExchange(h.selected, func(x *session.Exchange) { h.link.load(x.Input) })
}

// CompareChecked opens the comparison of the two ticked entries, older
// on the left.
func (h *HistoryPanel) CompareChecked() {
	if len(h.checked) != 2 || h.hist == nil {
		return
	}
	a, b := h.checked[0], h.checked[1]
	if h.index(a) < h.index(b) { // the list is newest first
		a, b = b, a
	}
	hist := h.hist
	go func() {
		xa, errA := hist.Load(a)
		xb, errB := hist.Load(b)
		h.do(func() {
			for _, err := range []error{errA, errB} {
				if err != nil {
					h.fail(err)
					return
				}
			}
			h.cmp = showCompare(h.app, h.cmp, xa, xb, func() { h.cmp = nil })
		})
	}()
}

// DeleteSelected deletes the selected entry.
func (h *HistoryPanel) DeleteSelected() {
	hist, id := h.hist, h.selected
	if hist == nil || id == "" {
		return
	}
	go func() {
		err := hist.Delete(id)
		h.do(func() {
			if err != nil {
				h.fail(err)
			}
			h.Refresh()
		})
	}()
}

// AskClear asks, then deletes every entry.
func (h *HistoryPanel) AskClear() {
	if h.hist == nil {
		return
	}
	dialog.ShowConfirm("Clear history", fmt.Sprintf("Delete all %d history entries? This cannot be undone.", h.hist.Len()),
		func(ok bool) {
			if ok {
				h.Clear()
			}
		}, h.win)
}

// Clear deletes every entry.
func (h *HistoryPanel) Clear() {
	hist := h.hist
	if hist == nil {
		return
	}
	go func() {
		err := hist.Clear()
		h.do(func() {
			if err != nil {
				h.fail(err)
			}
			h.checked = nil
			h.Refresh()
		})
	}()
}

func (h *HistoryPanel) showProblems() {
	if h.hist == nil {
		return
	}
	var lines []string
	for _, err := range h.hist.Problems() {
		lines = append(lines, "• "+cleanError(err))
	}
	text := wrapLabel(strings.Join(lines, "\n"), widget.MediumImportance)
	text.Selectable = true
	d := dialog.NewCustom("Unreadable history files", "Close", container.NewVScroll(text), h.win)
	d.Resize(fyne.NewSize(640, 360))
	d.Show()
}

// historySettings is the open settings dialog, for tests.
type historySettings struct {
	dlg            *dialog.FormDialog
	entries, megas *widget.Entry
}

// ShowSettings asks for the history limits: how many entries and how many
// megabytes to keep.
func (h *HistoryPanel) ShowSettings() {
	l := h.limits()
	if h.hist != nil {
		l = h.hist.Limits()
	}
	n := l.MaxEntries
	if n == 0 {
		n = history.DefaultEntries
	}
	mb := l.MaxBytes >> 20
	if l.MaxBytes == 0 {
		mb = history.DefaultBytes >> 20
	}
	s := &historySettings{entries: widget.NewEntry(), megas: widget.NewEntry()}
	s.entries.SetText(strconv.Itoa(n))
	s.megas.SetText(strconv.FormatInt(mb, 10))
	positive := func(v string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 {
			return fmt.Errorf("a whole number, 1 or more")
		}
		return nil
	}
	s.entries.Validator, s.megas.Validator = positive, positive
	where := "the history folder"
	if h.hist != nil {
		where = shortPath(h.hist.Dir())
	}
	items := []*widget.FormItem{
		{Text: "Keep at most", Widget: container.NewBorder(nil, nil, nil, secondary(mutedLabel("requests")), s.entries)},
		{Text: "Up to", Widget: container.NewBorder(nil, nil, nil, secondary(mutedLabel("MB on disk")), s.megas)},
		{Widget: secondary(wrapLabel("The oldest entries are deleted past either limit. Stored in "+where+".", widget.LowImportance))},
	}
	s.dlg = dialog.NewForm("History settings", "Apply", "Cancel", items, func(ok bool) {
		if ok {
			n, _ := strconv.Atoi(strings.TrimSpace(s.entries.Text))
			mb, _ := strconv.Atoi(strings.TrimSpace(s.megas.Text))
			h.SetLimits(n, mb)
		}
	}, h.win)
	s.dlg.Resize(fyne.NewSize(460, 0))
	h.settings = s
	s.dlg.Show()
}

// SetLimits keeps at most n entries and mb megabytes, remembered in the
// preferences, and applies them at once.
func (h *HistoryPanel) SetLimits(n, mb int) {
	h.prefs.SetInt(PrefHistoryMaxEntries, n)
	h.prefs.SetInt(PrefHistoryMaxMB, mb)
	hist := h.hist
	if hist == nil {
		return
	}
	l := h.limits()
	go func() {
		err := hist.SetLimits(l)
		h.do(func() {
			if err != nil {
				h.fail(err)
			}
			h.Refresh()
		})
	}()
}

// setCount shows n after the panel's title ("" shows the title alone).
func (h *HistoryPanel) setCount(n string) {
	if n == "" {
		h.count.SetText("History")
		return
	}
	h.count.SetText("History · " + n)
}
