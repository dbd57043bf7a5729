// php-fpm's status page on screen: its pool fields and its processes as tables.

package ui

import (
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session/doctor"
)

// FPMStatusView shows php-fpm's status page: the pool's fields as a
// two-column table, and the processes (status?full) as a table of their own.
type FPMStatusView struct {
	status  *doctor.StatusPage
	pool    *widget.Table
	procs   *widget.Table
	content fyne.CanvasObject
}

// NewFPMStatusView builds the view of st.
func NewFPMStatusView(st *doctor.StatusPage) *FPMStatusView {
	v := &FPMStatusView{status: st}
	v.pool = widget.NewTable(
		func() (int, int) { return len(st.Pool), 2 },
		func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			f := st.Pool[id.Row]
			if id.Col == 0 {
				l.TextStyle.Bold = true
				l.SetText(f.Name)
			} else {
				l.TextStyle.Bold = false
				l.SetText(f.Value)
			}
		})
	v.procs = widget.NewTable(
		func() (int, int) { return len(st.Processes), len(st.Columns) },
		func() fyne.CanvasObject { return &widget.Label{Truncation: fyne.TextTruncateEllipsis} },
		func(id widget.TableCellID, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(st.Processes[id.Row][id.Col])
		})
	v.procs.ShowHeaderRow = true
	v.procs.CreateHeader = func() fyne.CanvasObject {
		return &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis}
	}
	v.procs.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(st.Columns) {
			o.(*widget.Label).SetText(st.Columns[id.Col])
		}
	}
	v.sizeColumns()

	poolName, _ := st.Field("pool")
	pm, _ := st.Field("process manager")
	title := sectionTitle(fmt.Sprintf("Pool %s · %s", poolName, pm))
	poolPane := container.NewBorder(title, nil, nil, nil, v.pool)
	var procPane fyne.CanvasObject
	if len(st.Columns) == 0 {
		procPane = container.NewCenter(wrapLabel("No processes in this answer: ask for status?full&json to list them.", widget.LowImportance))
	} else {
		procPane = container.NewBorder(sectionTitle(fmt.Sprintf("Processes (%d)", len(st.Processes))), nil, nil, nil, v.procs)
	}
	split := container.NewHSplit(poolPane, procPane)
	split.Offset = 0.3
	v.content = split
	return v
}

// sizeColumns gives each column the width of its widest text.
func (v *FPMStatusView) sizeColumns() {
	th := theme.Current()
	measure := func(s string, bold bool) float32 {
		return fyne.MeasureText(s, th.Size(theme.SizeNameText), fyne.TextStyle{Bold: bold}).Width +
			2*th.Size(theme.SizeNameInnerPadding) + th.Size(theme.SizeNamePadding)
	}
	var nameW, valueW float32
	for _, f := range v.status.Pool {
		nameW = max(nameW, measure(f.Name, true))
		valueW = max(valueW, measure(f.Value, false))
	}
	v.pool.SetColumnWidth(0, nameW)
	v.pool.SetColumnWidth(1, max(valueW, 80))
	for c, name := range v.status.Columns {
		w := measure(name, true)
		for _, row := range v.status.Processes {
			w = max(w, measure(row[c], false))
		}
		v.procs.SetColumnWidth(c, min(w, 360))
	}
}

// Content returns the view's canvas object.
func (v *FPMStatusView) Content() fyne.CanvasObject { return v.content }

// Status returns the status shown.
func (v *FPMStatusView) Status() *doctor.StatusPage { return v.status }

// ShowFPMStatus shows php-fpm's status page body as tables in a dialog on
// win; a body that is not the status JSON shows the reason instead.
func ShowFPMStatus(win fyne.Window, body []byte) dialog.Dialog {
	st, err := doctor.ParseStatusPage(body)
	if err != nil {
		d := dialog.NewError(fmt.Errorf("this response is not php-fpm's status page as JSON: send the status preset "+
			"(SCRIPT_NAME %s, QUERY_STRING %s) first: %w", doctor.StatusPath, doctor.StatusQuery, errors.Unwrap(err)), win)
		d.Show()
		return d
	}
	v := NewFPMStatusView(st)
	d := dialog.NewCustom("php-fpm status", "Close", v.Content(), win)
	d.Resize(fyne.NewSize(min(1200, win.Canvas().Size().Width-80), min(760, win.Canvas().Size().Height-80)))
	d.Show()
	return d
}
