// Environments: the selector of the {{variable}} set in use, its editor, and the substitution applied to the composed request before it is previewed or sent.

package ui

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/session/preset"
	"fcgiscope/ui/view"
)

// NoEnvironment is the selector's choice for no environment.
const NoEnvironment = "No environment"

// EnvironmentsPanel is the environment selector and its editor. The
// environments live in the presets folder (environments.toml), so that they
// move with the presets.
type EnvironmentsPanel struct {
	win fyne.Window
	do  func(func())

	store   *preset.Store
	envs    preset.Environments
	loadErr error // environments.toml could not be read: editing is refused
	gen     int

	sel     *view.Select
	edit    *widget.Button
	syncing bool
	editor  *envEditor

	// OnChange is called when the active environment or its variables
	// change.
	OnChange func()
	// OnError shows an error; nil means an error dialog.
	OnError func(error)

	content fyne.CanvasObject
}

// newEnvironmentsPanel returns the selector, empty until SetStore.
func newEnvironmentsPanel(win fyne.Window, do func(func())) *EnvironmentsPanel {
	p := &EnvironmentsPanel{win: win, do: do}
	p.sel = view.NewSelect([]string{NoEnvironment}, p.onSelect)
	p.sel.SetSelected(NoEnvironment)
	p.edit = widget.NewButtonWithIcon("", theme.SettingsIcon(), p.ShowEditor)
	p.edit.Importance = widget.LowImportance
	p.content = container.NewBorder(nil, nil, newMutedText("Environment"), p.edit, p.sel)
	return p
}

// Content returns the selector row.
func (p *EnvironmentsPanel) Content() fyne.CanvasObject { return p.content }

// Environments returns the environments and the active one's name.
func (p *EnvironmentsPanel) Environments() preset.Environments { return p.envs }

// Active returns the environment in use; ok is false for none.
func (p *EnvironmentsPanel) Active() (env preset.Environment, ok bool) {
	if p.envs.Active == "" {
		return preset.Environment{}, false
	}
	return p.envs.Get(p.envs.Active)
}

// Selected returns the selector's text.
func (p *EnvironmentsPanel) Selected() string { return p.sel.Selected }

func (p *EnvironmentsPanel) fail(err error) {
	if p.OnError != nil {
		p.OnError(err)
		return
	}
	dialog.ShowError(err, p.win)
}

// SetStore reads the environments of a presets folder on a worker.
func (p *EnvironmentsPanel) SetStore(store *preset.Store) {
	p.store = store
	p.gen++
	gen := p.gen
	go func() {
		envs, err := store.Environments()
		p.do(func() {
			if gen != p.gen {
				return
			}
			p.loadErr = err
			if err != nil {
				envs = preset.Environments{}
				p.fail(fmt.Errorf("the environments cannot be used until %s is fixed: %w", shortPath(store.EnvironmentsPath()), err))
			}
			if _, ok := envs.Get(envs.Active); !ok {
				envs.Active = ""
			}
			p.envs = envs
			p.refresh()
			p.changed()
		})
	}()
}

func (p *EnvironmentsPanel) changed() {
	if p.OnChange != nil {
		p.OnChange()
	}
}

// refresh shows the environments in the selector.
func (p *EnvironmentsPanel) refresh() {
	opts := []string{NoEnvironment}
	for _, e := range p.envs.List {
		opts = append(opts, e.Name)
	}
	p.syncing = true
	p.sel.SetOptions(opts)
	if p.envs.Active == "" {
		p.sel.SetSelected(NoEnvironment)
	} else {
		p.sel.SetSelected(p.envs.Active)
	}
	p.syncing = false
}

// Select makes name the active environment ("" or NoEnvironment: none).
func (p *EnvironmentsPanel) Select(name string) { p.sel.SetSelected(name) }

func (p *EnvironmentsPanel) onSelect(choice string) {
	if p.syncing {
		return
	}
	name := choice
	if name == NoEnvironment {
		name = ""
	}
	if name == p.envs.Active {
		return
	}
	p.envs.Active = name
	p.changed()
	p.save(p.envs, nil)
}

// save writes envs on a worker; then runs once written.
func (p *EnvironmentsPanel) save(envs preset.Environments, then func()) {
	store := p.store
	if store == nil || p.loadErr != nil {
		if then != nil && store == nil {
			then() // no folder: the environments live for this session only
		}
		return
	}
	go func() {
		err := store.SaveEnvironments(envs)
		p.do(func() {
			if err != nil {
				p.fail(err)
				return
			}
			if then != nil {
				then()
			}
		})
	}()
}

// Applier returns the substitution of the active environment's variables
// (see applyEnvironment). Call it on the UI goroutine; the function it
// returns holds a copy of the variables and may run on any goroutine.
func (p *EnvironmentsPanel) Applier() func(session.Input) (session.Input, error) {
	env, ok := p.Active()
	env.Vars = cloneVars(env.Vars)
	return func(in session.Input) (session.Input, error) { return applyEnvironment(env, ok, in) }
}

func cloneVars(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// applyEnvironment substitutes env's variables in in (any {{name}} is an
// error when no environment is selected) and says what is unknown in
// words fit for the window.
func applyEnvironment(env preset.Environment, selected bool, in session.Input) (session.Input, error) {
	out, err := env.Apply(in)
	var uv *preset.UnknownVariablesError
	if !errors.As(err, &uv) {
		return out, err
	}
	parts := make([]string, len(uv.Refs))
	for i, r := range uv.Refs {
		parts[i] = "{{" + r.Name + "}} in " + r.Where
	}
	noun := "Unknown variable"
	if len(parts) > 1 {
		noun = "Unknown variables"
	}
	msg := noun + " " + strings.Join(parts, ", ")
	if selected {
		msg += " — environment “" + env.Name + "” does not define it"
	} else {
		msg += " — no environment is selected"
	}
	return in, &variablesError{msg: msg}
}

// variablesError says which variables are unknown; errors.Is(err,
// preset.ErrUnknownVariable) holds.
type variablesError struct{ msg string }

func (e *variablesError) Error() string { return e.msg }

func (e *variablesError) Unwrap() error { return preset.ErrUnknownVariable }

// envEditor is the open editor dialog, for tests.
type envEditor struct {
	dlg     *dialog.CustomDialog
	work    preset.Environments // being edited
	name    string              // the environment shown
	pick    *widget.Select
	vars    *view.KVEditor
	errText *widget.Label
	save    *widget.Button
	syncing bool
}

// ShowEditor opens the environments editor: an environment picker with
// New, Rename and Delete, and the picked environment's variables.
func (p *EnvironmentsPanel) ShowEditor() {
	if p.loadErr != nil {
		p.fail(fmt.Errorf("environments.toml cannot be read, so it is not edited here: %w", p.loadErr))
		return
	}
	ed := &envEditor{work: cloneEnvironments(p.envs)}
	ed.name = p.envs.Active
	if ed.name == "" && len(ed.work.List) > 0 {
		ed.name = ed.work.List[0].Name
	}
	ed.errText = wrapLabel("", widget.DangerImportance)
	ed.errText.Hide()
	ed.vars = view.NewKVEditor()
	ed.vars.NameHint, ed.vars.ValueHint = "name", "value"
	ed.vars.Empty = "No variables. Add one: {{name}} in the request is replaced by its value."
	ed.vars.OnChanged = func() {
		if !ed.syncing {
			ed.store()
			ed.validate()
		}
	}
	ed.pick = widget.NewSelect(nil, func(name string) {
		if ed.syncing {
			return
		}
		ed.store()
		ed.name = name
		ed.show()
	})
	newBtn := widget.NewButtonWithIcon("New…", theme.ContentAddIcon(), func() { p.askEnvName(ed, "New environment", "", ed.create) })
	renameBtn := widget.NewButtonWithIcon("Rename…", theme.DocumentCreateIcon(), func() {
		if ed.name != "" {
			p.askEnvName(ed, "Rename environment", ed.name, ed.rename)
		}
	})
	deleteBtn := widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), ed.remove)
	addVar := widget.NewButtonWithIcon("Add variable", theme.ContentAddIcon(), func() {
		if ed.name == "" {
			ed.create("local")
		}
		ed.vars.Add(session.RawParam{Enabled: true})
		ed.vars.FocusName(ed.vars.Len() - 1)
	})
	for _, b := range []*widget.Button{newBtn, renameBtn, deleteBtn, addVar} {
		b.Importance = widget.LowImportance
	}
	help := wrapLabel("Write {{name}} anywhere in the request — target, URL, headers, params, body. "+
		"The selected environment's values are put in when the request is previewed and sent. "+
		"Stored in environments.toml in the presets folder, next to the presets.", widget.LowImportance)
	top := container.NewVBox(
		container.NewBorder(nil, nil, newMutedText("Environment"), container.NewHBox(newBtn, renameBtn, deleteBtn), ed.pick),
		container.NewBorder(nil, nil, &widget.Label{Text: "Variables", TextStyle: fyne.TextStyle{Bold: true}}, addVar))
	body := container.NewBorder(top, container.NewVBox(ed.errText, secondary(help)), nil, nil, ed.vars)

	ed.dlg = dialog.NewCustomWithoutButtons("Environments", withMinSize(body, 640, 420), p.win)
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		ed.dlg.Hide()
		p.editor = nil
	})
	ed.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() {
		ed.store()
		if !ed.validate() {
			return
		}
		work := ed.work
		p.save(work, func() {
			ed.dlg.Hide()
			p.editor = nil
			p.envs = work
			p.refresh()
			p.changed()
		})
	})
	ed.save.Importance = widget.HighImportance
	ed.dlg.SetButtons([]fyne.CanvasObject{cancel, ed.save})
	p.editor = ed
	ed.show()
	ed.dlg.Show()
}

func cloneEnvironments(es preset.Environments) preset.Environments {
	out := preset.Environments{Active: es.Active, List: make([]preset.Environment, len(es.List))}
	for i, e := range es.List {
		out.List[i] = preset.Environment{Name: e.Name, Vars: cloneVars(e.Vars)}
	}
	return out
}

// show puts the picked environment in the editor.
func (ed *envEditor) show() {
	ed.syncing = true
	defer func() { ed.syncing = false }()
	names := make([]string, len(ed.work.List))
	for i, e := range ed.work.List {
		names[i] = e.Name
	}
	ed.pick.SetOptions(names)
	ed.pick.PlaceHolder = "(no environments yet: press New…)"
	if ed.name != "" {
		ed.pick.SetSelected(ed.name)
	} else {
		ed.pick.ClearSelected()
	}
	env, _ := ed.work.Get(ed.name)
	keys := make([]string, 0, len(env.Vars))
	for k := range env.Vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	items := make([]session.RawParam, len(keys))
	for i, k := range keys {
		items[i] = session.RawParam{Name: k, Value: env.Vars[k], Enabled: true}
	}
	ed.vars.SetItems(items)
	ed.validate()
}

// store writes the variables table back into the environment shown.
// Rows with an empty name are left out.
func (ed *envEditor) store() {
	if ed.name == "" {
		return
	}
	vars := map[string]string{}
	for _, it := range ed.vars.Items() {
		if n := strings.TrimSpace(it.Name); n != "" {
			vars[n] = it.Value
		}
	}
	ed.work.Set(preset.Environment{Name: ed.name, Vars: vars})
}

// validate checks the variable names of the environment shown and
// enables Save when they are fine.
func (ed *envEditor) validate() bool {
	var problems []string
	seen := map[string]bool{}
	for _, it := range ed.vars.Items() {
		n := strings.TrimSpace(it.Name)
		switch {
		case n == "" && it.Value == "":
		case n == "":
			problems = append(problems, "a variable has a value but no name")
		case !preset.IsVariableName(n):
			problems = append(problems, fmt.Sprintf("%q is not a variable name: letters, digits, _ . - and no digit first", n))
		case seen[n]:
			problems = append(problems, fmt.Sprintf("%q is defined twice", n))
		}
		seen[n] = true
	}
	if len(problems) > 0 {
		ed.errText.SetText(strings.Join(problems, "\n"))
		ed.errText.Show()
		ed.save.Disable()
		return false
	}
	ed.errText.Hide()
	if ed.save != nil {
		ed.save.Enable()
	}
	return true
}

// create adds an empty environment and shows it.
func (ed *envEditor) create(name string) {
	ed.store()
	if _, ok := ed.work.Get(name); !ok {
		ed.work.Set(preset.Environment{Name: name, Vars: map[string]string{}})
	}
	ed.name = name
	ed.show()
}

// rename renames the environment shown.
func (ed *envEditor) rename(name string) {
	ed.store()
	env, ok := ed.work.Get(ed.name)
	if !ok || name == ed.name {
		return
	}
	if _, exists := ed.work.Get(name); exists {
		ed.errText.SetText("An environment called “" + name + "” exists")
		ed.errText.Show()
		return
	}
	wasActive := ed.work.Active == ed.name
	ed.work.Remove(ed.name)
	env.Name = name
	ed.work.Set(env)
	if wasActive {
		ed.work.Active = name
	}
	ed.name = name
	ed.show()
}

// remove deletes the environment shown.
func (ed *envEditor) remove() {
	if ed.name == "" {
		return
	}
	ed.work.Remove(ed.name)
	ed.name = ""
	if len(ed.work.List) > 0 {
		ed.name = ed.work.List[0].Name
	}
	ed.show()
}

// askEnvName asks for an environment name.
func (p *EnvironmentsPanel) askEnvName(ed *envEditor, title, initial string, then func(string)) {
	e := widget.NewEntry()
	e.SetText(initial)
	e.PlaceHolder = "local, staging, production…"
	e.Validator = func(s string) error {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return errors.New("a name is needed")
		case s != initial && slices.ContainsFunc(ed.work.List, func(env preset.Environment) bool { return env.Name == s }):
			return errors.New("that name is taken")
		}
		return nil
	}
	d := dialog.NewForm(title, "OK", "Cancel", []*widget.FormItem{{Text: "Name", Widget: e}}, func(ok bool) {
		if ok {
			then(strings.TrimSpace(e.Text))
		}
	}, p.win)
	e.OnSubmitted = func(string) { d.Submit() }
	d.Resize(fyne.NewSize(380, 0))
	d.Show()
	p.win.Canvas().Focus(e)
}
