// Presets sidebar: the folder of saved requests as a tree of groups, with search, open, save, rename, duplicate, undoable delete and unsaved-change tracking.

package ui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/preset"
	"fcgiscope/session/teach"
)

// PrefPresetDir remembers the presets folder opened with "Open folder…";
// empty means preset.DefaultDir.
const PrefPresetDir = "presets.dir"

// PresetDemoTarget is the target a preset holds for the in-process demo
// backend, whose port changes at every launch.
const PresetDemoTarget = teach.LessonTarget

// Tree node ids: a prefix, then the group path, the preset's full name, or
// the index of an unreadable file.
const (
	nodeGroup    = "g:"
	nodePreset   = "p:"
	nodeProblem  = "x:"
	nodeProblems = "x" // the group of unreadable files
)

// composeLink is how the presets reach the compose form: get copies the
// composed request (target included, the demo backend as
// PresetDemoTarget), set replaces it. Both run on the UI goroutine.
type composeLink struct {
	get func() (session.Input, error)
	set func(session.Input)
}

// presetProblem is a preset file that could not be read.
type presetProblem struct {
	name string // its preset name ("group/name"), "" when it has none
	path string
	err  string
}

// PresetsPanel is the presets sidebar. Its methods run on the UI goroutine;
// the folder is read and written on workers.
type PresetsPanel struct {
	win   fyne.Window
	prefs fyne.Preferences
	do    func(func())
	link  composeLink

	store    *preset.Store
	entries  []preset.Entry
	problems []presetProblem
	general  []string            // errors not tied to one file
	kids     map[string][]string // tree children by node id
	listGen  int

	current  string        // full name of the open preset, "" for a new request
	reopen   string        // the preset to open once the folder is (Reopen)
	loaded   preset.Preset // the open preset as saved (or the new request as started)
	dirty    bool
	deleted  string // the last deleted preset, for Undo
	wasOpen  bool   // the last deleted preset was the open one
	guardDlg *guardDialog

	search    *widget.Entry
	hint      *mutedText
	tree      *widget.Tree
	folder    *mutedText
	count     *widget.Label
	detail    *widget.Label
	undoLabel *widget.Label
	undoBar   *fyne.Container
	saveBtn   *widget.Button
	moreBtn   *widget.Button
	selecting bool   // a Select made by the panel itself
	selected  string // the selected node
	nodes     []*presetNode
	nameDlg   *nameDialog

	// OnStore is called when a presets folder has been opened (its
	// environments live in it).
	OnStore func(*preset.Store)
	// OnState is called when the open preset or its unsaved state changes.
	OnState func()
	// OnError shows an error; nil means an error dialog.
	OnError func(error)
	// OnInfo tells the window's status line what was done (e.g. a save);
	// nil: only the panel says it.
	OnInfo func(string)

	content fyne.CanvasObject
}

// guardDialog is the Save / Discard / Cancel question asked before
// unsaved changes would be replaced.
type guardDialog struct {
	dlg                   *dialog.CustomDialog
	save, discard, cancel *widget.Button
}

// newPresetsPanel builds the sidebar; Open then reads a folder.
func newPresetsPanel(win fyne.Window, prefs fyne.Preferences, do func(func()), link composeLink) *PresetsPanel {
	p := &PresetsPanel{win: win, prefs: prefs, do: do, link: link, kids: map[string][]string{}}
	if in, err := link.get(); err == nil {
		p.loaded = preset.FromInput(in)
	}
	p.search = widget.NewEntry()
	p.search.PlaceHolder = "Search presets"
	p.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	p.search.OnChanged = func(string) { p.rebuild() }
	p.tree = widget.NewTree(p.childIDs, p.isBranch, p.createNode, p.updateNode)
	p.tree.OnSelected = p.onSelected
	p.tree.OnUnselected = func(id widget.TreeNodeID) {
		if id == p.selected {
			p.selected = ""
		}
	}
	p.folder = newMutedText("")
	p.folder.Truncation = fyne.TextTruncateEllipsis
	p.count = sectionTitle("Presets")
	p.detail = wrapLabel("", widget.LowImportance)
	p.detail.Selectable = true
	p.detail.Hide()

	newBtn := widget.NewButtonWithIcon("", theme.ContentAddIcon(), p.NewRequest)
	p.saveBtn = widget.NewButtonWithIcon("", theme.DocumentSaveIcon(), p.Save)
	p.moreBtn = widget.NewButtonWithIcon("", theme.MoreVerticalIcon(), p.showMore)
	for _, b := range []*widget.Button{newBtn, p.saveBtn, p.moreBtn} {
		b.Importance = widget.LowImportance
	}
	p.undoLabel = &widget.Label{Truncation: fyne.TextTruncateEllipsis}
	undo := widget.NewButtonWithIcon("Undo", theme.ContentUndoIcon(), p.Undo)
	undo.Importance = widget.HighImportance
	dismiss := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { p.undoBar.Hide() })
	dismiss.Importance = widget.LowImportance
	p.undoBar = container.NewBorder(widget.NewSeparator(), nil, nil, container.NewHBox(undo, dismiss), p.undoLabel)
	p.undoBar.Hide()

	header := container.NewBorder(nil, nil, nil, container.NewHBox(newBtn, p.saveBtn, p.moreBtn), p.count)
	folder := container.NewBorder(nil, nil, widget.NewIcon(theme.FolderIcon()), nil, p.folder)
	top := container.NewVBox(header, folder, p.search)
	bottom := container.NewVBox(p.detail, p.undoBar)
	p.hint = newMutedHint("No presets yet: Ctrl+S saves the request")
	body := container.NewStack(p.tree, container.NewVBox(layout.NewSpacer(), keepRoom(p.hint), layout.NewSpacer()))
	p.content = container.NewBorder(top, bottom, nil, nil, body)
	return p
}

// Content returns the sidebar's canvas object.
func (p *PresetsPanel) Content() fyne.CanvasObject { return p.content }

// Store returns the presets folder in use, nil before it is open.
func (p *PresetsPanel) Store() *preset.Store { return p.store }

// Current returns the full name of the open preset, "" for a new request.
func (p *PresetsPanel) Current() string { return p.current }

// Dirty reports whether the compose form differs from the open preset (or
// from the new request as it started).
func (p *PresetsPanel) Dirty() bool { return p.dirty }

// Entries returns the presets listed, in tree order.
func (p *PresetsPanel) Entries() []preset.Entry { return p.entries }

// Problems returns the preset files that could not be read, as "path: error".
func (p *PresetsPanel) Problems() []string {
	out := slices.Clone(p.general)
	for _, pr := range p.problems {
		out = append(out, pr.path+": "+pr.err)
	}
	return out
}

// Title names the open preset for the window title: "• name" when it has
// unsaved changes, "New request" when none is open.
func (p *PresetsPanel) Title() string {
	name := p.current
	if name == "" {
		name = "New request"
	}
	if p.dirty {
		return "• " + name
	}
	return name
}

func (p *PresetsPanel) fail(err error) {
	if p.OnError != nil {
		p.OnError(err)
		return
	}
	dialog.ShowError(err, p.win)
}

func (p *PresetsPanel) stateChanged() {
	p.saveBtn.Importance = widget.LowImportance
	if p.dirty {
		p.saveBtn.Importance = widget.HighImportance
	}
	p.saveBtn.Refresh()
	if p.current != "" {
		p.tree.RefreshItem(nodePreset + p.current)
	}
	if p.OnState != nil {
		p.OnState()
	}
}

// Open opens the presets folder dir ("" for the remembered one, else the
// default) on a worker, then lists it.
func (p *PresetsPanel) Open(dir string) {
	if dir == "" {
		dir = p.prefs.String(PrefPresetDir)
	}
	p.folder.SetText("Opening…")
	go func() {
		store, err := preset.Open(dir)
		p.do(func() {
			if err != nil {
				// Shown in place: a read-only home is no reason for a dialog.
				p.folder.SetText("No presets folder")
				p.detail.Importance = widget.DangerImportance
				p.detail.SetText("The presets folder cannot be opened: " + cleanError(err) + "\nUse ⋮ ▸ Open folder… to pick another.")
				p.detail.Show()
				return
			}
			p.setStore(store)
		})
	}()
}

func (p *PresetsPanel) setStore(store *preset.Store) {
	p.store = store
	p.folder.SetText(shortPath(store.Dir()))
	p.current = "" // the open preset belonged to the previous folder
	p.stateChanged()
	if p.OnStore != nil {
		p.OnStore(store)
	}
	p.Reload()
	if name := p.reopen; name != "" {
		p.reopen = ""
		p.reopenSaved(store, name)
	}
}

// Reopen makes name the open preset once the folder is open, as the
// window left it: the form is not touched (it was put back as it was),
// and compared with the file it marks unsaved changes. Nothing happens if
// the preset is gone.
func (p *PresetsPanel) Reopen(name string) {
	p.reopen = name
}

// reopenSaved reads name on a worker and makes it the open preset.
func (p *PresetsPanel) reopenSaved(store *preset.Store, name string) {
	go func() {
		pr, err := store.Load(name)
		p.do(func() {
			if err != nil || store != p.store || p.current != "" {
				return
			}
			p.setOpen(name, p.asOpened(pr))
		})
	}()
}

// asOpened returns pr read from its file as the form holds it once
// opened: HTTP mode when the file names none, and the target in use when
// the file holds none.
func (p *PresetsPanel) asOpened(pr preset.Preset) preset.Preset {
	if pr.Mode == "" {
		pr.Mode = session.ModeHTTP
	}
	if pr.Target == "" {
		if cur, err := p.link.get(); err == nil {
			pr.Target = cur.Target
		}
	}
	return pr
}

// shortPath writes a path with the home folder as "~".
func shortPath(path string) string {
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		if rel, err := filepath.Rel(home, path); err == nil && !strings.HasPrefix(rel, "..") {
			if rel == "." {
				return "~"
			}
			return "~" + string(filepath.Separator) + rel
		}
	}
	return path
}

// ChooseFolder asks for a folder and opens it as the presets folder,
// remembering it for the next launch. Unsaved changes are asked about
// first.
func (p *PresetsPanel) ChooseFolder() {
	p.Guard(func() {
		d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
			if err != nil {
				p.fail(err)
				return
			}
			if u == nil {
				return
			}
			p.OpenFolder(u.Path())
		}, p.win)
		if p.store != nil {
			if u, err := storage.ListerForURI(storage.NewFileURI(p.store.Dir())); err == nil {
				d.SetLocation(u)
			}
		}
		d.Resize(fyne.NewSize(760, 520))
		d.Show()
	})
}

// OpenFolder opens dir as the presets folder and remembers it.
func (p *PresetsPanel) OpenFolder(dir string) {
	p.prefs.SetString(PrefPresetDir, dir)
	p.Open(dir)
}

// Reload lists the folder again on a worker.
func (p *PresetsPanel) Reload() {
	store := p.store
	if store == nil {
		return
	}
	p.listGen++
	gen := p.listGen
	go func() {
		entries, errs := store.List()
		problems, general := presetProblems(store.Dir(), entries, errs)
		p.do(func() {
			if gen != p.listGen || store != p.store {
				return
			}
			p.entries, p.problems, p.general = entries, problems, general
			p.rebuild()
		})
	}()
}

// presetProblems matches List's errors with the files they are about, so
// that every unreadable preset file is shown under its name.
func presetProblems(dir string, entries []preset.Entry, errs []error) ([]presetProblem, []string) {
	if len(errs) == 0 {
		return nil, nil
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.Path] = true
	}
	var files []string
	_ = filepath.WalkDir(dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if de.IsDir() {
			if path != dir && strings.HasPrefix(de.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, preset.Ext) && !listed[path] {
			files = append(files, path)
		}
		return nil
	})
	// Longest paths first, so that a/b.toml is not taken for b.toml.
	sort.Slice(files, func(i, j int) bool { return len(files[i]) > len(files[j]) })
	var out []presetProblem
	var general []string
	for _, err := range errs {
		text := err.Error()
		i := slices.IndexFunc(files, func(f string) bool { return strings.Contains(text, f) })
		if i < 0 {
			general = append(general, cleanError(err))
			continue
		}
		path := files[i]
		files = slices.Delete(files, i, i+1)
		pr := presetProblem{path: path, err: presetErrorText(text, path)}
		if rel, err := filepath.Rel(dir, path); err == nil {
			name := strings.TrimSuffix(filepath.ToSlash(rel), preset.Ext)
			if preset.ValidateName(name) == nil {
				pr.name = name
			}
		}
		out = append(out, pr)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, general
}

// presetErrorText keeps what an error says after the file's path.
func presetErrorText(text, path string) string {
	if _, after, ok := strings.Cut(text, path+": "); ok {
		return after
	}
	return strings.TrimPrefix(text, "session: ")
}

// matches reports whether a preset's full name contains the search text.
func (p *PresetsPanel) matches(full string) bool {
	q := strings.ToLower(strings.TrimSpace(p.search.Text))
	return q == "" || strings.Contains(strings.ToLower(full), q)
}

// rebuild computes the tree from the entries and the search text.
func (p *PresetsPanel) rebuild() {
	kids := map[string][]string{}
	seen := map[string]bool{}
	add := func(parent, id string) {
		if !seen[id] {
			seen[id] = true
			kids[parent] = append(kids[parent], id)
		}
	}
	shown := 0
	for _, e := range p.entries {
		full := e.FullName()
		if !p.matches(full) {
			continue
		}
		shown++
		parent := ""
		if e.Group != "" {
			parts := strings.Split(e.Group, "/")
			for i := range parts {
				id := nodeGroup + strings.Join(parts[:i+1], "/")
				add(parent, id)
				parent = id
			}
		}
		add(parent, nodePreset+full)
	}
	for parent, ids := range kids {
		// Groups first, then presets, each by name.
		sort.SliceStable(ids, func(i, j int) bool {
			gi, gj := strings.HasPrefix(ids[i], nodeGroup), strings.HasPrefix(ids[j], nodeGroup)
			if gi != gj {
				return gi
			}
			return strings.ToLower(ids[i]) < strings.ToLower(ids[j])
		})
		kids[parent] = ids
	}
	if len(p.problems)+len(p.general) > 0 {
		kids[""] = append(kids[""], nodeProblems)
		for i := range len(p.general) + len(p.problems) {
			kids[nodeProblems] = append(kids[nodeProblems], fmt.Sprintf("%s%d", nodeProblem, i))
		}
	}
	p.kids = kids
	p.hint.Hidden = len(p.entries)+len(p.problems)+len(p.general) > 0
	p.hint.Refresh()
	switch {
	case len(p.entries) == 0 && p.store != nil:
		p.setCount("")
	case shown == len(p.entries):
		p.setCount(fmt.Sprint(len(p.entries)))
	default:
		p.setCount(fmt.Sprintf("%d of %d", shown, len(p.entries)))
	}
	p.tree.Refresh()
	if strings.TrimSpace(p.search.Text) != "" {
		p.tree.OpenAllBranches()
	} else {
		p.tree.OpenBranch(nodeProblems)
	}
	p.selectNode(p.currentNode())
}

func (p *PresetsPanel) currentNode() string {
	if p.current == "" {
		return ""
	}
	return nodePreset + p.current
}

// selectNode selects id (or nothing) without opening it.
func (p *PresetsPanel) selectNode(id string) {
	p.selecting = true
	defer func() { p.selecting = false }()
	if id == "" {
		p.tree.UnselectAll()
		p.selected = ""
		p.detail.Hide()
		return
	}
	for parent := groupOf(id); parent != ""; parent = groupOf(parent) {
		p.tree.OpenBranch(parent)
	}
	p.tree.Select(id)
	if p.tree.Size().Height > 0 {
		p.tree.ScrollTo(id)
	} else {
		// Not laid out (the panel is closed): Select scrolled the node to
		// just above the tree's top.
		p.tree.ScrollToTop()
	}
	p.showDetail(id)
}

// groupOf returns the node id of the group holding id, "" at the top.
func groupOf(id string) string {
	var rest string
	switch {
	case strings.HasPrefix(id, nodePreset):
		rest = strings.TrimPrefix(id, nodePreset)
	case strings.HasPrefix(id, nodeGroup):
		rest = strings.TrimPrefix(id, nodeGroup)
	default:
		return ""
	}
	i := strings.LastIndexByte(rest, '/')
	if i < 0 {
		return ""
	}
	return nodeGroup + rest[:i]
}

func (p *PresetsPanel) childIDs(id widget.TreeNodeID) []widget.TreeNodeID { return p.kids[id] }

func (p *PresetsPanel) isBranch(id widget.TreeNodeID) bool {
	return id == "" || id == nodeProblems || strings.HasPrefix(id, nodeGroup)
}

// presetNode is one row of the tree. It takes the row's taps itself, so
// that a click on the preset already selected opens it again (a tree
// reports a selection only when it changes).
type presetNode struct {
	widget.BaseWidget
	p     *PresetsPanel
	id    widget.TreeNodeID
	label *widget.Label
	icon  *widget.Icon
	row   *fyne.Container
}

func (p *PresetsPanel) createNode(bool) fyne.CanvasObject {
	n := &presetNode{p: p, label: &widget.Label{Truncation: fyne.TextTruncateEllipsis}, icon: widget.NewIcon(theme.DocumentIcon())}
	n.row = container.NewBorder(nil, nil, n.icon, nil, n.label)
	n.ExtendBaseWidget(n)
	p.nodes = append(p.nodes, n)
	return n
}

func (n *presetNode) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(n.row) }

// Tapped selects the node, as the tree would; on the preset already
// selected it opens the preset again.
func (n *presetNode) Tapped(*fyne.PointEvent) { n.p.tapNode(n.id) }

// tapNode is a click on the node id.
func (p *PresetsPanel) tapNode(id widget.TreeNodeID) {
	if id == p.selected && strings.HasPrefix(id, nodePreset) {
		p.OpenPreset(strings.TrimPrefix(id, nodePreset))
		return
	}
	p.tree.Select(id) // OnSelected does the rest
}

// node returns the row that shows id, nil when none is laid out.
func (p *PresetsPanel) node(id widget.TreeNodeID) *presetNode {
	for _, n := range p.nodes {
		if n.id == id && n.Visible() {
			return n
		}
	}
	return nil
}

// problem returns the unreadable file or folder error of a node.
func (p *PresetsPanel) problem(id string) (presetProblem, bool) {
	var i int
	if _, err := fmt.Sscanf(strings.TrimPrefix(id, nodeProblem), "%d", &i); err != nil || !strings.HasPrefix(id, nodeProblem) || id == nodeProblems {
		return presetProblem{}, false
	}
	if i < len(p.problems) {
		return p.problems[i], true
	}
	if i -= len(p.problems); i >= 0 && i < len(p.general) {
		return presetProblem{err: p.general[i]}, true
	}
	return presetProblem{}, false
}

func (p *PresetsPanel) updateNode(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
	n := o.(*presetNode)
	n.id = id
	label, icon := n.label, n.icon
	label.TextStyle = fyne.TextStyle{}
	label.Importance = widget.MediumImportance
	switch {
	case id == nodeProblems:
		icon.SetResource(theme.NewErrorThemedResource(theme.WarningIcon()))
		label.Text = fmt.Sprintf("Unreadable files (%d)", len(p.problems)+len(p.general))
		label.Importance = widget.DangerImportance
	case strings.HasPrefix(id, nodeProblem):
		icon.SetResource(theme.NewErrorThemedResource(theme.ErrorIcon()))
		pr, _ := p.problem(id)
		label.Text = filepath.Base(pr.path)
		if pr.path == "" {
			label.Text = pr.err
		}
		label.Importance = widget.DangerImportance
	case strings.HasPrefix(id, nodeGroup):
		icon.SetResource(theme.FolderIcon())
		g := strings.TrimPrefix(id, nodeGroup)
		label.Text = g[strings.LastIndexByte(g, '/')+1:]
	default:
		full := strings.TrimPrefix(id, nodePreset)
		icon.SetResource(theme.DocumentIcon())
		label.Text = full[strings.LastIndexByte(full, '/')+1:]
		if full == p.current {
			label.TextStyle.Bold = true
			if p.dirty {
				label.Text = "• " + label.Text
			}
		}
	}
	label.Refresh()
}

// NodeText returns what the tree shows for a node id (for tests and
// accessibility checks).
func (p *PresetsPanel) NodeText(id string) string {
	n := &presetNode{p: p, label: &widget.Label{}, icon: widget.NewIcon(nil)}
	p.updateNode(id, p.isBranch(id), n)
	return n.label.Text
}

// showDetail writes under the tree what a node is.
func (p *PresetsPanel) showDetail(id string) {
	switch {
	case strings.HasPrefix(id, nodePreset):
		full := strings.TrimPrefix(id, nodePreset)
		for _, e := range p.entries {
			if e.FullName() == full {
				p.detail.Importance = widget.LowImportance
				p.detail.SetText(fmt.Sprintf("%s · %s\n%s", orDash(e.Mode), orDash(e.Target), shortPath(e.Path)))
				p.detail.Show()
				return
			}
		}
	case strings.HasPrefix(id, nodeProblem) && id != nodeProblems:
		pr, _ := p.problem(id)
		text := pr.err
		if pr.path != "" {
			text = "Cannot read " + shortPath(pr.path) + ": " + pr.err + "\nThe file is left as it is: fix it in an editor, rename it or delete it."
		}
		p.detail.Importance = widget.DangerImportance
		p.detail.SetText(text)
		p.detail.Show()
		return
	}
	p.detail.Hide()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// onSelected opens the preset clicked (asking about unsaved changes first);
// a group opens or closes; an unreadable file shows its error.
func (p *PresetsPanel) onSelected(id widget.TreeNodeID) {
	p.selected = id
	if p.selecting {
		return
	}
	switch {
	case strings.HasPrefix(id, nodePreset):
		p.showDetail(id)
		p.OpenPreset(strings.TrimPrefix(id, nodePreset))
	case strings.HasPrefix(id, nodeProblem):
		p.showDetail(id)
	default:
		p.tree.ToggleBranch(id)
		p.selectNode(p.currentNode())
	}
}

// selectedName returns the preset name of the selected node: a preset, or
// an unreadable preset file.
func (p *PresetsPanel) selectedName() string {
	id := p.selected
	if strings.HasPrefix(id, nodePreset) {
		return strings.TrimPrefix(id, nodePreset)
	}
	if pr, ok := p.problem(id); ok {
		return pr.name
	}
	return p.current
}

// Guard runs then when the compose form has no unsaved changes; otherwise
// it asks first: Save (then), Discard (then) or Cancel (nothing).
func (p *PresetsPanel) Guard(then func()) {
	p.Changed()
	if !p.dirty {
		then()
		return
	}
	name := "The new request"
	if p.current != "" {
		name = "The preset “" + p.current + "”"
	}
	g := &guardDialog{}
	msg := wrapLabel(name+" has unsaved changes. Save them first?", widget.MediumImportance)
	g.dlg = dialog.NewCustomWithoutButtons("Unsaved changes", withMinSize(msg, 380, 0), p.win)
	g.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() {
		g.dlg.Hide()
		p.guardDlg = nil
		p.save(then)
	})
	g.save.Importance = widget.HighImportance
	g.discard = widget.NewButtonWithIcon("Discard changes", theme.DeleteIcon(), func() {
		g.dlg.Hide()
		p.guardDlg = nil
		// The form goes back to what was saved, so that a window closed
		// now keeps that for the next launch, not the discarded edit.
		p.link.set(p.loaded.Input())
		p.setOpen(p.current, p.loaded)
		then()
	})
	g.discard.Importance = widget.DangerImportance
	g.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		g.dlg.Hide()
		p.guardDlg = nil
		p.selectNode(p.currentNode())
	})
	g.dlg.SetButtons([]fyne.CanvasObject{g.cancel, g.discard, g.save})
	p.guardDlg = g
	g.dlg.Show()
}

// Changed compares the compose form with the open preset and marks
// unsaved changes. The compose form calls it on every edit.
func (p *PresetsPanel) Changed() {
	in, err := p.link.get()
	dirty := err != nil || !presetsEqual(p.loaded, p.loaded.WithInput(in))
	if dirty != p.dirty {
		p.dirty = dirty
		p.stateChanged()
	}
}

// presetsEqual is preset.Preset.Equal, comparing bodies first so that a
// large body is not encoded at every keystroke.
func presetsEqual(a, b preset.Preset) bool {
	if string(a.Body) != string(b.Body) {
		return false
	}
	var ah, bh []byte
	if a.HTTP != nil {
		ah = a.HTTP.Body
	}
	if b.HTTP != nil {
		bh = b.HTTP.Body
	}
	if string(ah) != string(bh) {
		return false
	}
	a.Body, b.Body = nil, nil
	if a.HTTP != nil && len(a.HTTP.Body) > 0 {
		h := *a.HTTP
		h.Body = nil
		a.HTTP = &h
	}
	if b.HTTP != nil && len(b.HTTP.Body) > 0 {
		h := *b.HTTP
		h.Body = nil
		b.HTTP = &h
	}
	return a.Equal(b)
}

// snapshot returns the open preset updated with the compose form.
func (p *PresetsPanel) snapshot() (preset.Preset, error) {
	in, err := p.link.get()
	if err != nil {
		return preset.Preset{}, err
	}
	return p.loaded.WithInput(in), nil
}

// setOpen makes name (with its content as saved) the open preset.
func (p *PresetsPanel) setOpen(name string, saved preset.Preset) {
	p.current, p.loaded = name, saved
	p.dirty = false
	p.Changed()
	p.stateChanged()
	p.selectNode(p.currentNode())
}

// NewRequestWith replaces the compose form with in (asking about unsaved
// changes first) as a new, unnamed request.
func (p *PresetsPanel) NewRequestWith(in session.Input) {
	p.Guard(func() {
		p.link.set(in)
		// The form as it now reads is the new request's start.
		if cur, err := p.link.get(); err == nil {
			in = cur
		}
		p.setOpen("", preset.FromInput(in))
	})
}

// NewRequest starts a new, unnamed request from the form's defaults,
// keeping the target.
func (p *PresetsPanel) NewRequest() {
	in := newRequestInput()
	if cur, err := p.link.get(); err == nil {
		in.Target = cur.Target
	}
	p.NewRequestWith(in)
}

// newRequestInput is the request a new compose form starts with.
func newRequestInput() session.Input {
	h := session.HTTPInput{Method: "GET", URL: DefaultURL, DocumentRoot: session.DefaultDocumentRoot,
		Index: session.DefaultIndex, SplitPath: session.DefaultSplitPath}
	for _, hd := range defaultHeaders() {
		h.Headers = append(h.Headers, session.Header{Name: hd.Name, Value: hd.Value})
	}
	return session.Input{Mode: session.ModeHTTP, Role: fcgi.RoleResponder, HTTP: &h, Body: []byte{}}
}

// OpenPreset loads the preset called name into the compose form, asking
// about unsaved changes first.
func (p *PresetsPanel) OpenPreset(name string) {
	p.Guard(func() { p.load(name) })
}

// load reads name on a worker and puts it in the compose form.
func (p *PresetsPanel) load(name string) {
	store := p.store
	if store == nil {
		return
	}
	go func() {
		pr, err := store.Load(name)
		p.do(func() {
			if store != p.store {
				return
			}
			if err != nil {
				p.fail(err)
				p.selectNode(p.currentNode())
				return
			}
			if pr.Mode == "" {
				pr.Mode = session.ModeHTTP
			}
			p.link.set(pr.Input()) // no target in the file: the one in use stays
			p.setOpen(name, p.asOpened(pr))
		})
	}()
}

// Revert loads the open preset again, dropping unsaved changes.
func (p *PresetsPanel) Revert() {
	if p.current == "" {
		p.link.set(p.loaded.Input())
		p.setOpen("", p.loaded)
		return
	}
	p.load(p.current)
}

// Save writes the compose form to the open preset, or asks for a name
// when none is open (Ctrl+S).
func (p *PresetsPanel) Save() { p.save(nil) }

// save saves, then runs then (if not nil) once saved.
func (p *PresetsPanel) save(then func()) {
	if p.current == "" {
		p.saveAs(then)
		return
	}
	pr, err := p.snapshot()
	if err != nil {
		p.fail(fmt.Errorf("cannot save: %w", err))
		return
	}
	p.write(pr, p.current, false, then)
}

// write saves pr as name on a worker: Save (replacing) or SaveAs (new).
func (p *PresetsPanel) write(pr preset.Preset, name string, asNew bool, then func()) {
	store := p.store
	if store == nil {
		p.fail(errors.New("no presets folder is open"))
		return
	}
	go func() {
		var err error
		if asNew {
			err = store.SaveAs(pr, name)
		} else {
			err = store.Save(pr, name)
		}
		p.do(func() {
			if store != p.store {
				return
			}
			if asNew && errors.Is(err, fs.ErrExist) {
				dialog.ShowConfirm("Replace preset?", "A preset called “"+name+"” exists. Replace it?", func(ok bool) {
					if ok {
						p.write(pr, name, false, then)
					}
				}, p.win)
				return
			}
			if err != nil {
				p.fail(err)
				return
			}
			p.setOpen(name, pr)
			p.Reload()
			p.saved(name, store.Path(name))
			if then != nil {
				then()
			}
		})
	}()
}

// saved says that name was saved at path: under the tree, and on the
// window's status line (the sidebar may be closed).
func (p *PresetsPanel) saved(name, path string) {
	text := "Saved “" + name + "” at " + time.Now().Format("15:04:05")
	p.detail.Importance = widget.SuccessImportance
	p.detail.SetText(text + "\n" + shortPath(path))
	p.detail.Show()
	if p.OnInfo != nil {
		p.OnInfo(text + " to " + shortPath(path))
	}
}

// SaveAs asks for a name and saves the compose form as a new preset.
func (p *PresetsPanel) SaveAs() { p.saveAs(nil) }

func (p *PresetsPanel) saveAs(then func()) {
	pr, err := p.snapshot()
	if err != nil {
		p.fail(fmt.Errorf("cannot save: %w", err))
		return
	}
	suggest := p.current
	if suggest == "" {
		suggest = suggestPresetName(pr.Input())
	}
	p.askName("Save preset as", "Save", suggest, func(name string) {
		p.write(pr, name, true, then)
	})
}

// suggestPresetName proposes a name from the request: method and path.
func suggestPresetName(in session.Input) string {
	if in.HTTP == nil || in.Mode != session.ModeHTTP {
		return ""
	}
	path, _, _ := strings.Cut(in.HTTP.URL, "?")
	path = strings.Trim(path, "/")
	var b strings.Builder
	for _, r := range strings.ToLower(in.HTTP.Method) + " " + path {
		switch {
		case r == '/' || r == ' ':
			b.WriteRune(' ')
		case r < 0x20 || strings.ContainsRune(`\<>:"|?*.`, r):
		default:
			b.WriteRune(r)
		}
	}
	return strings.TrimSpace(b.String())
}

// nameDialog is the open name question, for tests.
type nameDialog struct {
	dlg   *dialog.FormDialog
	entry *widget.Entry
}

// askName asks for a preset name ("group/name").
func (p *PresetsPanel) askName(title, confirm, initial string, then func(string)) *nameDialog {
	e := widget.NewEntry()
	e.SetText(initial)
	e.PlaceHolder = "name, or group/name"
	e.Validator = func(s string) error {
		if err := preset.ValidateName(strings.TrimSpace(s)); err != nil {
			_, why, _ := strings.Cut(err.Error(), ": ")
			_, why, _ = strings.Cut(why, ": ")
			return errors.New(strings.TrimSuffix(why, ": "+preset.ErrName.Error()))
		}
		return nil
	}
	hint := mutedLine("Use / to put it in a group (sub-folder): shop/cart add")
	items := []*widget.FormItem{{Text: "Name", Widget: e}, {Widget: secondary(hint)}}
	nd := &nameDialog{entry: e}
	nd.dlg = dialog.NewForm(title, confirm, "Cancel", items, func(ok bool) {
		p.nameDlg = nil
		if ok {
			then(strings.TrimSpace(e.Text))
		}
	}, p.win)
	e.OnSubmitted = func(string) { nd.dlg.Submit() } // Enter saves, when the name is valid
	nd.dlg.Resize(fyne.NewSize(460, 0))
	p.nameDlg = nd
	nd.dlg.Show()
	p.win.Canvas().Focus(e)
	return nd
}

// showMore opens the menu of the other preset actions.
func (p *PresetsPanel) showMore() {
	menu := fyne.NewMenu("",
		fyne.NewMenuItem("Save as…", p.SaveAs),
		fyne.NewMenuItem("Rename…", p.Rename),
		fyne.NewMenuItem("Duplicate", p.Duplicate),
		fyne.NewMenuItem("Delete", p.Delete),
		fyne.NewMenuItem("Revert to saved", p.Revert),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Open folder…", p.ChooseFolder),
		fyne.NewMenuItem("Reload folder", p.Reload),
	)
	c := p.win.Canvas()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(p.moreBtn)
	widget.ShowPopUpMenuAtPosition(menu, c, pos.AddXY(0, p.moreBtn.Size().Height))
}

// Rename asks for a new name for the selected preset (or unreadable file).
func (p *PresetsPanel) Rename() {
	name := p.selectedName()
	if name == "" || p.store == nil {
		dialog.ShowInformation("Rename", "Select a preset to rename.", p.win)
		return
	}
	p.askName("Rename preset", "Rename", name, func(newName string) {
		if newName == name {
			return
		}
		store := p.store
		go func() {
			err := store.Rename(name, newName)
			p.do(func() {
				if err != nil {
					p.fail(err)
					return
				}
				if p.current == name {
					p.current = newName
					p.stateChanged()
				}
				p.Reload()
			})
		}()
	})
}

// Duplicate copies the selected preset as "NAME copy".
func (p *PresetsPanel) Duplicate() {
	name := p.selectedName()
	if name == "" || p.store == nil {
		dialog.ShowInformation("Duplicate", "Select a preset to duplicate.", p.win)
		return
	}
	store := p.store
	go func() {
		copyName, err := store.Duplicate(name, "")
		p.do(func() {
			if err != nil {
				p.fail(err)
				return
			}
			p.detail.Importance = widget.LowImportance
			p.detail.SetText("Duplicated as “" + copyName + "”")
			p.detail.Show()
			p.Reload()
		})
	}()
}

// Delete moves the selected preset (or unreadable file) to the folder's
// trash; the bar that appears offers Undo.
func (p *PresetsPanel) Delete() {
	name := p.selectedName()
	if name == "" || p.store == nil {
		dialog.ShowInformation("Delete", "Select a preset to delete.", p.win)
		return
	}
	store := p.store
	go func() {
		err := store.Delete(name)
		p.do(func() {
			if err != nil {
				p.fail(err)
				return
			}
			p.deleted, p.wasOpen = name, name == p.current
			if p.wasOpen {
				p.current = "" // the form keeps the request, now unnamed
				p.stateChanged()
			}
			p.undoLabel.SetText("Deleted “" + name + "”")
			p.undoBar.Show()
			p.Reload()
		})
	}()
}

// UndoText returns the text of the undo bar, "" when it is hidden.
func (p *PresetsPanel) UndoText() string {
	if p.undoBar.Hidden {
		return ""
	}
	return p.undoLabel.Text
}

// Undo brings back the last deleted preset.
func (p *PresetsPanel) Undo() {
	name, wasOpen := p.deleted, p.wasOpen
	if name == "" || p.store == nil {
		return
	}
	store := p.store
	p.undoBar.Hide()
	go func() {
		err := store.Undelete(name)
		p.do(func() {
			if err != nil {
				p.fail(err)
				return
			}
			p.deleted = ""
			if wasOpen && p.current == "" {
				p.current = name
				p.stateChanged()
			}
			p.Reload()
		})
	}()
}

// setCount shows n after the panel's title ("" shows the title alone).
func (p *PresetsPanel) setCount(n string) {
	if n == "" {
		p.count.SetText("Presets")
		return
	}
	p.count.SetText("Presets · " + n)
}
