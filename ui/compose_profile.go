// HTTP mode's web server profile: which server's params and record framing
// the preview and the send imitate, and a dialog diffing two servers' params
// for the same request.

package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/ui/view"
)

// profilePicker is HTTP mode's choice of web server, on a row over the
// params preview: the profile list and the Diff button (whose dialog also
// says how each server orders and frames what it sends). Its widgets are
// built once.
type profilePicker struct {
	choices []session.ProfileChoice
	sel     *view.Select
	diff    *widget.Button
	// onDiff opens the diff dialog; set by the compose panel.
	onDiff func()
	// lastDiff is the dialog opened last, for tests.
	lastDiff *profileDiff
	content  fyne.CanvasObject
}

func newProfilePicker(onChange func()) *profilePicker {
	p := &profilePicker{choices: session.ProfileChoices()}
	labels := make([]string, len(p.choices))
	for i, c := range p.choices {
		labels[i] = c.Label
	}
	p.sel = view.NewSelect(labels, func(string) { onChange() })
	p.sel.SetSelectedIndex(0)
	p.diff = widget.NewButton("Diff…", func() {
		if p.onDiff != nil && view.OnWindow(p.diff) {
			p.onDiff()
		}
	})
	p.diff.Importance = widget.LowImportance
	p.content = container.NewBorder(nil, nil, newMutedText("Web server"), p.diff, p.sel)
	return p
}

// Choice returns the selected profile and variant.
func (p *profilePicker) Choice() session.ProfileChoice {
	if i := p.sel.SelectedIndex(); i >= 0 {
		return p.choices[i]
	}
	return p.choices[0]
}

// Set selects profile and variant; an unknown pair selects nginx.
func (p *profilePicker) Set(profile, variant string) {
	p.sel.SetSelectedIndex(choiceIndex(p.choices, profile, variant))
}

// choiceIndex finds profile and variant in choices ("" meaning nginx and
// the default variant), or 0.
func choiceIndex(choices []session.ProfileChoice, profile, variant string) int {
	if profile == "" {
		profile = session.ProfileNginx
	}
	if pr, err := session.LookupProfile(profile); err == nil && len(pr.Variants) > 0 && variant == pr.Variants[0].Name {
		variant = ""
	}
	for i, c := range choices {
		if c.Profile == profile && c.Variant == variant {
			return i
		}
	}
	return 0
}

// choiceSummary is session's Profile.Summary for a choice.
func choiceSummary(c session.ProfileChoice) string {
	pr, err := session.LookupProfile(c.Profile)
	if err != nil {
		return err.Error()
	}
	v, err := pr.Variant(c.Variant)
	if err != nil {
		return err.Error()
	}
	return pr.Summary(v)
}

// profileDiff is the dialog diffing the params two web servers send for the
// composed request, side by side: names, values and positions, the
// differences marked. Its widgets are built once; a change of side only
// replaces the rows.
type profileDiff struct {
	in          session.HTTPInput
	choices     []session.ProfileChoice
	left, right *widget.Select
	leftNote    *widget.Label
	rightNote   *widget.Label
	only        *widget.Check
	count       *widget.Label
	list        *widget.List
	all, rows   []session.ParamDiff
	ctx         context.Context
	do          func(func())
	gen         int // the latest computation; older results are dropped
	dlg         dialog.Dialog
}

// showProfileDiff opens the diff of the composed HTTP request in as sent by
// the compose form's profile (left) and by another server (right). Params
// are built off the UI goroutine; results come back through do.
func showProfileDiff(ctx context.Context, win fyne.Window, do func(func()), in session.HTTPInput, current session.ProfileChoice) *profileDiff {
	d := &profileDiff{in: in, choices: session.ProfileChoices(), ctx: ctx, do: do,
		leftNote: mutedLine(""), rightNote: mutedLine(""), count: &widget.Label{Importance: widget.LowImportance}}
	labels := make([]string, len(d.choices))
	for i, c := range d.choices {
		labels[i] = c.Label
	}
	d.left = widget.NewSelect(labels, func(string) { d.update() })
	d.right = widget.NewSelect(labels, func(string) { d.update() })
	d.only = widget.NewCheck("Only differences", func(bool) { d.filter() })
	cells := map[*fyne.Container][2]*diffCell{}
	d.list = widget.NewList(func() int { return len(d.rows) },
		func() fyne.CanvasObject {
			l, r := newDiffCell(), newDiffCell()
			row := container.NewGridWithColumns(2, l.obj, r.obj)
			cells[row] = [2]*diffCell{l, r}
			return row
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(d.rows) {
				c := cells[o.(*fyne.Container)]
				showParamDiff(c[0], c[1], d.rows[i])
			}
		})
	d.list.OnSelected = func(i widget.ListItemID) { d.list.Unselect(i) }
	li := choiceIndex(d.choices, current.Profile, current.Variant)
	ri := 0
	for i, c := range d.choices {
		if c.Profile != d.choices[li].Profile && c.Variant == "" {
			ri = i // the first other server
			break
		}
	}
	d.left.SetSelectedIndex(li)
	d.right.SetSelectedIndex(ri)
	sides := container.NewGridWithColumns(2,
		container.NewBorder(nil, secondary(d.leftNote), nil, nil, d.left),
		container.NewBorder(nil, secondary(d.rightNote), nil, nil, d.right))
	legend := secondary(mutedLine("~ value differs   * in another order   − left only   + right only"))
	top := container.NewVBox(sides, container.NewBorder(nil, nil, d.only, secondary(d.count), legend), widget.NewSeparator())
	body := container.NewBorder(top, nil, nil, nil, d.list)
	d.dlg = dialog.NewCustom("Compare web servers: the params each sends for this request, by position", "Close", withMinSize(body, 980, 440), win)
	d.update()
	d.dlg.Show()
	return d
}

// showParamDiff fills the two cells of a row.
func showParamDiff(l, r *diffCell, row session.ParamDiff) {
	left, right := row.Name+"="+row.Left, row.Name+"="+row.Right
	switch row.Kind {
	case session.ParamSame:
		l.set(row.LeftPos, left, " ", "")
		r.set(row.RightPos, right, " ", "")
	case session.ParamMoved: // marked, not tinted: between two servers most params move
		l.set(row.LeftPos, left, "*", "")
		r.set(row.RightPos, right, "*", "")
	case session.ParamChanged:
		l.set(row.LeftPos, left, "~", theme.ColorNameWarning)
		r.set(row.RightPos, right, "~", theme.ColorNameWarning)
	case session.ParamLeftOnly:
		l.set(row.LeftPos, left, "−", theme.ColorNameError)
		r.set(0, "", " ", "")
	case session.ParamRightOnly:
		l.set(0, "", " ", "")
		r.set(row.RightPos, right, "+", theme.ColorNameSuccess)
	}
}

// update computes the rows for the selected pair, off the UI goroutine.
func (d *profileDiff) update() {
	if d.list == nil || d.left.SelectedIndex() < 0 || d.right.SelectedIndex() < 0 {
		return // still building
	}
	a, b := d.choices[d.left.SelectedIndex()], d.choices[d.right.SelectedIndex()]
	d.leftNote.SetText(choiceSummary(a))
	d.rightNote.SetText(choiceSummary(b))
	d.gen++
	gen, in, ctx := d.gen, d.in, d.ctx
	go func() {
		rows := profileDiffRows(ctx, in, a, b)
		d.do(func() {
			if gen == d.gen {
				d.all = rows
				d.filter()
			}
		})
	}()
}

// filter shows all rows, or only those that differ.
func (d *profileDiff) filter() {
	d.rows = d.all
	diffs := 0
	for _, r := range d.all {
		if r.Kind != session.ParamSame {
			diffs++
		}
	}
	if d.only.Checked {
		d.rows = nil
		for _, r := range d.all {
			if r.Kind != session.ParamSame {
				d.rows = append(d.rows, r)
			}
		}
	}
	d.count.SetText(fmt.Sprintf("%d rows, %d differ", len(d.all), diffs))
	d.list.Refresh()
}

// profileDiffRows diffs the params in maps to under choices a and b. A side
// that cannot be built shows its error as its only row.
func profileDiffRows(ctx context.Context, in session.HTTPInput, a, b session.ProfileChoice) []session.ParamDiff {
	params := func(c session.ProfileChoice) session.Params {
		h := in
		h.Profile, h.Variant = c.Profile, c.Variant
		ps, err := session.PreviewHTTP(ctx, h)
		if err != nil {
			return session.Params{{Name: "(cannot build)", Value: cleanError(err)}}
		}
		return ps
	}
	return session.DiffParams(params(a), params(b))
}

// showProfileDiff opens the web server diff for the composed request.
func (c *ComposePanel) showProfileDiff() {
	in, _ := c.Snapshot()
	h := *in.HTTP
	if len(h.Body) == 0 && h.BodyFile == "" {
		h.Body = in.Body // as session.InputMiddlewares does
	}
	c.http.profile.lastDiff = showProfileDiff(c.base, c.win, c.do, h, c.http.profile.Choice())
}
