// Compare: two exchanges side by side — params, response status and headers, body and stderr — with changed, removed and added lines coloured.

package ui

import (
	"fmt"
	"image/color"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/history"
)

// Compare sections, in tab order.
const (
	CompareParams  = "Params"
	CompareHeaders = "Headers"
	CompareBody    = "Body"
	CompareStderr  = "Stderr"
)

// compareWindow is an open comparison.
type compareWindow struct {
	win   fyne.Window
	diff  history.Diff
	tabs  *container.AppTabs
	views map[string]*diffView
	only  *widget.Check
}

// compareWindowSize is the size a comparison window opens at: it fits a
// 1280×720 screen.
var compareWindowSize = fyne.NewSize(1200, 680)

// showCompare shows xa (left) compared with xb (right) in cw, the
// comparison window already open, brought to the front; when cw is nil, in
// a new window, which calls onClosed when it closes.
func showCompare(a fyne.App, cw *compareWindow, xa, xb *session.Exchange, onClosed func()) *compareWindow {
	if cw == nil {
		cw = &compareWindow{win: a.NewWindow("Compare")}
		cw.win.Resize(compareWindowSize)
		cw.win.SetOnClosed(onClosed)
	}
	d := history.Compare(xa, xb)
	cw.diff, cw.views = d, map[string]*diffView{}
	cw.win.SetTitle("Compare — " + exchangeTitle(xa) + " ↔ " + exchangeTitle(xb))

	sections := []struct {
		name string
		rows []history.DiffRow
		note string
	}{
		{CompareParams, d.Params, "The params sent, in wire order"},
		{CompareHeaders, d.Headers, "Response status and header lines"},
		{CompareBody, d.Body, "Response body, line by line"},
		{CompareStderr, d.Stderr, "FCGI_STDERR, line by line"},
	}
	if d.BodyBinary {
		sections[2].note = "At least one body is binary: sizes and equality only"
	}
	cw.tabs = container.NewAppTabs()
	for _, s := range sections {
		v := newDiffView(s.rows, s.note)
		cw.views[s.name] = v
		cw.tabs.Append(container.NewTabItem(fmt.Sprintf("%s (%s)", s.name, diffCountText(s.rows)), v.content))
	}
	// Open on the first section that differs.
	for i, s := range sections {
		if countDiffs(s.rows) > 0 {
			cw.tabs.SelectIndex(i)
			break
		}
	}
	cw.only = widget.NewCheck("Only differences", func(on bool) {
		for _, v := range cw.views {
			v.setOnlyDiffs(on)
		}
	})

	verdict := &widget.Label{Text: "The two exchanges are identical in params, headers, body and stderr", Importance: widget.SuccessImportance, TextStyle: fyne.TextStyle{Bold: true}}
	if !d.Equal() {
		n := countDiffs(d.Params) + countDiffs(d.Headers) + countDiffs(d.Body) + countDiffs(d.Stderr)
		verdict.Text, verdict.Importance = fmt.Sprintf("%d differing lines", n), widget.WarningImportance
	}
	legend := container.NewHBox(legendSwatch("changed", theme.ColorNameWarning), legendSwatch("only left", theme.ColorNameError),
		legendSwatch("only right", theme.ColorNameSuccess), cw.only)
	sides := container.NewGridWithColumns(2, exchangeCard("Left", xa), exchangeCard("Right", xb))
	top := container.NewVBox(sides, container.NewBorder(nil, nil, verdict, legend), widget.NewSeparator())
	cw.win.SetContent(container.NewPadded(container.NewBorder(top, nil, nil, nil, cw.tabs)))
	cw.win.Show()
	cw.win.RequestFocus()
	return cw
}

// exchangeTitle names an exchange in a line: method and URL, or target.
func exchangeTitle(x *session.Exchange) string {
	ps := x.Params()
	method, _ := ps.Get("REQUEST_METHOD")
	uri, ok := ps.Get("REQUEST_URI")
	if !ok {
		uri, _ = ps.Get("SCRIPT_NAME")
	}
	if t := strings.TrimSpace(method + " " + uri); t != "" {
		return t
	}
	if r, ok := x.Record(0); ok && r.Type == fcgi.TypeGetValues {
		return "GET_VALUES to " + x.Target()
	}
	return x.Target()
}

// exchangeCard sums up one side: when, what, where, outcome.
func exchangeCard(side string, x *session.Exchange) fyne.CanvasObject {
	status := "no response"
	imp := widget.LowImportance
	if r := x.Response(); r != nil {
		status, imp = fmt.Sprintf("%d %s", r.Status, r.Reason), statusImportance(r.Status)
	}
	if f := x.Failure(); f != nil {
		status, imp = "failed: "+f.Title, widget.DangerImportance
	}
	head := container.NewHBox(boldLabel(side), &widget.Label{Text: exchangeTitle(x), TextStyle: fyne.TextStyle{Monospace: true}},
		&widget.Label{Text: status, Importance: imp, TextStyle: fyne.TextStyle{Bold: true}})
	meta := mutedLine(fmt.Sprintf("%s · %s · %s · %s · %d records",
		x.Start().Local().Format("2006-01-02 15:04:05"), x.Target(), roleLabel(x.Role()),
		session.FormatDuration(x.Timings().Total), x.Len()))
	return panelBackground(container.NewPadded(container.NewVBox(head, secondary(meta))))
}

func legendSwatch(text string, c fyne.ThemeColorName) fyne.CanvasObject {
	r := canvas.NewRectangle(diffTint(c))
	r.SetMinSize(fyne.NewSize(14, 14))
	r.CornerRadius = 3
	return container.NewHBox(container.NewCenter(r), secondary(mutedLabel(text)))
}

// boldLabel is a title that keeps its whole width (sectionTitle's
// ellipsis would cut it in a box).
func boldLabel(text string) *widget.Label {
	return &widget.Label{Text: text, TextStyle: fyne.TextStyle{Bold: true}}
}

// countDiffs counts the rows that differ.
func countDiffs(rows []history.DiffRow) int {
	n := 0
	for _, r := range rows {
		if r.Kind != history.DiffSame {
			n++
		}
	}
	return n
}

// diffCountText says how many rows differ, "same" when none do.
func diffCountText(rows []history.DiffRow) string {
	if n := countDiffs(rows); n > 0 {
		return strconv.Itoa(n)
	}
	return "same"
}

// diffTint is a theme colour made translucent, for a row background.
func diffTint(c fyne.ThemeColorName) color.Color {
	v := fyne.CurrentApp().Settings().ThemeVariant()
	r, g, b, _ := fyne.CurrentApp().Settings().Theme().Color(c, v).RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x48}
}

// diffView is one section: a list of side-by-side rows.
type diffView struct {
	all, rows []history.DiffRow
	list      *widget.List
	empty     *widget.Label
	content   fyne.CanvasObject
}

// diffCell is one side of a row: a tinted background, a line number and the text.
type diffCell struct {
	bg   *canvas.Rectangle
	num  *widget.Label
	mark *widget.Label
	text *widget.Label
	obj  fyne.CanvasObject
}

func newDiffCell() *diffCell {
	c := &diffCell{
		bg:   canvas.NewRectangle(color.Transparent),
		num:  &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Importance: widget.LowImportance, Alignment: fyne.TextAlignTrailing},
		mark: &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}},
		text: &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Truncation: fyne.TextTruncateEllipsis},
	}
	left := container.NewHBox(withMinSize(secondary(c.num), 44, 0), c.mark)
	c.obj = container.NewStack(c.bg, container.NewBorder(nil, nil, left, nil, c.text))
	return c
}

func (c *diffCell) set(line int, text, mark string, tint fyne.ThemeColorName) {
	c.num.SetText("")
	if line > 0 {
		c.num.SetText(strconv.Itoa(line))
	}
	c.mark.SetText(mark)
	c.text.SetText(oneLine(text))
	if tint == "" {
		c.bg.FillColor = color.Transparent
	} else {
		c.bg.FillColor = diffTint(tint)
	}
	c.bg.Refresh()
}

func newDiffView(rows []history.DiffRow, note string) *diffView {
	v := &diffView{all: rows, rows: rows}
	cells := map[*fyne.Container][2]*diffCell{}
	v.list = widget.NewList(func() int { return len(v.rows) },
		func() fyne.CanvasObject {
			l, r := newDiffCell(), newDiffCell()
			row := container.NewGridWithColumns(2, l.obj, r.obj)
			cells[row] = [2]*diffCell{l, r}
			return row
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.rows) {
				return
			}
			c := cells[o.(*fyne.Container)]
			d := v.rows[i]
			switch d.Kind {
			case history.DiffSame:
				c[0].set(d.LeftLine, d.Left, " ", "")
				c[1].set(d.RightLine, d.Right, " ", "")
			case history.DiffChanged:
				c[0].set(d.LeftLine, d.Left, "~", theme.ColorNameWarning)
				c[1].set(d.RightLine, d.Right, "~", theme.ColorNameWarning)
			case history.DiffRemoved:
				c[0].set(d.LeftLine, d.Left, "−", theme.ColorNameError)
				c[1].set(0, "", " ", "")
			case history.DiffAdded:
				c[0].set(0, "", " ", "")
				c[1].set(d.RightLine, d.Right, "+", theme.ColorNameSuccess)
			}
		})
	v.list.OnSelected = func(i widget.ListItemID) { v.list.Unselect(i) }
	v.empty = &widget.Label{Text: "Nothing on either side", Importance: widget.LowImportance, Alignment: fyne.TextAlignCenter}
	v.empty.Hidden = len(rows) > 0
	heads := container.NewGridWithColumns(2, sectionTitle("Left"), sectionTitle("Right"))
	top := container.NewVBox(secondary(mutedLine(note)), heads, widget.NewSeparator())
	v.content = container.NewBorder(top, nil, nil, nil,
		container.NewStack(v.list, container.NewVBox(layout.NewSpacer(), secondary(v.empty), layout.NewSpacer())))
	return v
}

// setOnlyDiffs hides (or shows again) the rows that are the same.
func (v *diffView) setOnlyDiffs(on bool) {
	v.rows = v.all
	if on {
		v.rows = nil
		for _, r := range v.all {
			if r.Kind != history.DiffSame {
				v.rows = append(v.rows, r)
			}
		}
	}
	v.empty.Hidden = len(v.rows) > 0
	if on && len(v.rows) == 0 && len(v.all) > 0 {
		v.empty.SetText("No differences")
	}
	v.list.Refresh()
}
