// Layout report: a debugging aid. With FCGISCOPE_LAYOUT_FILE set, the window writes where its controls are on screen and what it shows, whenever that changes, so that a script (scripts/journey) can click them as a user would.

package ui

import (
	"encoding/json"
	"fcgiscope/session"
	"image"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// LayoutFileEnv names the environment variable that turns the layout
// report on: the path of the file to write it to.
const LayoutFileEnv = "FCGISCOPE_LAYOUT_FILE"

// layoutReportEvery is how often the window looks whether its layout
// changed.
const layoutReportEvery = 100 * time.Millisecond

// LayoutReport is what the layout file holds, as JSON. Rectangles are
// [x, y, width, height] in pixels from the top left of the window's
// drawing area (under the window manager's frame, if any); controls that
// are hidden, or scrolled or folded out of sight, are left out.
type LayoutReport struct {
	// Scale is the canvas's scale: pixels per Fyne unit.
	Scale float32 `json:"scale"`
	// Canvas is the drawing area's size in pixels, and MinSize the
	// minimum size of the panes (the window's less the menu bar and its
	// padding): the window scrolls when it is smaller.
	Canvas  [2]int `json:"canvas"`
	MinSize [2]int `json:"min_size"`
	// Overlay is true while a pop-up, menu or dialog is open.
	Overlay bool `json:"overlay"`
	// Controls are the named controls' rectangles, e.g. "send",
	// "compose.tab.Body", "split.main" (a split's divider).
	Controls map[string][4]int `json:"controls"`
	// State is what the window shows: mode, tabs selected, status line,
	// record counts…
	State map[string]any `json:"state"`
	// Seq counts the reports that differed from the one before; Painted
	// is the Seq of the last report whose state the window has painted
	// since: a screenshot taken once Painted reaches a report's Seq shows
	// what that report describes.
	Seq     int `json:"seq"`
	Painted int `json:"painted"`
}

// layoutReporter writes the layout report whenever it changes.
type layoutReporter struct {
	path    string
	mark    fyne.CanvasObject // an invisible raster: painting it marks a report painted
	raster  *canvas.Raster
	seq     int
	asked   atomic.Int64 // the Seq the raster was refreshed for
	painted atomic.Int64 // the Seq it was last painted for
	last    []byte       // the last report written, without its Seq and Painted
	wrote   int          // the Painted of the last report written
}

func newLayoutReporter(path string) *layoutReporter {
	r := &layoutReporter{path: path}
	r.raster = canvas.NewRaster(func(int, int) image.Image {
		r.painted.Store(r.asked.Load())
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	})
	r.raster.Resize(fyne.NewSize(1, 1))
	r.mark = container.NewWithoutLayout(r.raster)
	return r
}

// start writes the report of in every layoutReportEvery when it changed,
// until the window closes. It runs on the UI goroutine.
func (r *layoutReporter) start(in *Inspector) {
	write := func() {
		if in.closed {
			return
		}
		rep := in.layoutReport()
		b, err := json.Marshal(rep)
		if err != nil {
			return
		}
		painted := int(r.painted.Load())
		if string(b) == string(r.last) && painted == r.wrote {
			return
		}
		if string(b) != string(r.last) {
			r.seq++
			r.asked.Store(int64(r.seq))
			r.raster.Refresh() // painted with the state it describes
		}
		r.last, r.wrote = b, painted
		rep.Seq, rep.Painted = r.seq, painted
		if b, err = json.MarshalIndent(rep, "", " "); err != nil {
			return
		}
		tmp := filepath.Join(filepath.Dir(r.path), "."+filepath.Base(r.path)+".tmp")
		if os.WriteFile(tmp, b, 0o644) == nil {
			_ = os.Rename(tmp, r.path) // a reader never sees half a report
		}
	}
	go func() {
		tick := time.NewTicker(layoutReportEvery)
		defer tick.Stop()
		for {
			select {
			case <-in.ctx.Done():
				return
			case <-tick.C:
				in.do(write)
			}
		}
	}()
}

// layoutReport describes the window now.
func (in *Inspector) layoutReport() LayoutReport {
	c := in.win.Canvas()
	scale := c.Scale()
	px := func(v float32) int { return int(v*scale + 0.5) }
	size, min := c.Size(), in.panes.MinSize()
	r := LayoutReport{Scale: scale, Canvas: [2]int{px(size.Width), px(size.Height)},
		MinSize:  [2]int{px(min.Width), px(min.Height)},
		Overlay:  c.Overlays().Top() != nil,
		Controls: map[string][4]int{}, State: map[string]any{}}
	d := fyne.CurrentApp().Driver()
	put := func(name string, pos fyne.Position, s fyne.Size) {
		if s.Width >= 1 && s.Height >= 1 {
			r.Controls[name] = [4]int{px(pos.X), px(pos.Y), px(s.Width), px(s.Height)}
		}
	}
	add := func(name string, o fyne.CanvasObject) {
		if o == nil || !shownOn(c, o) {
			return
		}
		put(name, d.AbsolutePositionForObject(o), o.Size())
	}
	tabs := func(prefix string, t *container.AppTabs) {
		if !shownOn(c, t) {
			return
		}
		pos := d.AbsolutePositionForObject(t)
		th := theme.CurrentForWidget(t)
		pad, inner := th.Size(theme.SizeNamePadding), th.Size(theme.SizeNameInnerPadding)
		x := float32(0)
		h := fyne.MeasureText("M", th.Size(theme.SizeNameText), fyne.TextStyle{Bold: true}).Height + 2*inner
		for _, it := range t.Items {
			w := fyne.MeasureText(it.Text, th.Size(theme.SizeNameText), fyne.TextStyle{Bold: true}).Width + 2*inner
			if x+w > t.Size().Width { // in the overflow menu
				break
			}
			put(prefix+it.Text, pos.AddXY(x, 0), fyne.NewSize(w, h))
			x += w + pad
		}
	}

	add("send", in.sendBtn)
	add("cancel", in.cancelBtn)
	add("state", in.state)
	add("stats", in.stats)
	add("target.address", in.target.addr)
	add("target.dropdown", in.target.addr.ActionItem)
	add("target.demo", in.target.demo)
	add("target.getvalues", in.target.probe)
	add("target.line", in.target.line)
	add("target.maxconns", in.target.maxConns)
	add("env.select", in.wb.Envs.sel)
	cp := in.compose
	add("compose.mode.http", cp.modeBtns[session.ModeHTTP])
	add("compose.mode.raw", cp.modeBtns[session.ModeRaw])
	add("compose.role", cp.role)
	add("compose.keep", cp.keep)
	add("compose.reqid", cp.reqID)
	add("compose.method", cp.http.method)
	add("compose.url", cp.http.url)
	add("compose.body", cp.body)
	add("compose.ctype", cp.ctype)
	add("compose.headers", cp.http.headers)
	add("compose.params", cp.raw)
	add("compose.preview", cp.http.preview)
	tabs("compose.tab.", cp.tabs)
	add("records", in.results.Content())
	add("records.list", in.results.List())
	add("records.detail", in.results.Detail())
	add("stepthrough", in.teach.stepBtn)
	rp := in.response
	add("response", rp.Content())
	add("response.status", rp.status)
	add("response.type", rp.ctype)
	add("response.end", rp.end)
	add("response.timings", rp.timings)
	add("response.view", rp.viewSel)
	add("response.headers", rp.headers)
	tabs("response.tab.", rp.tabs)
	add("stderr", in.stderr.Content())
	add("bar.presets", in.wb.presetsBtn)
	add("bar.history", in.wb.historyBtn)
	add("bar.learn", in.teach.LearnButton())
	add("bar.live", in.wb.liveBtn)
	lp := in.wb.Live
	add("live", lp.Content())
	add("live.listen", lp.listen)
	add("live.upstream", lp.upstream)
	add("live.socket", lp.perms)
	add("live.owner", lp.owner)
	add("live.group", lp.group)
	add("live.mode", lp.mode)
	add("live.start", lp.startBtn)
	add("live.stop", lp.stopBtn)
	add("live.filter", lp.filter)
	add("live.list", lp.list)
	add("live.resend", lp.resendBtn)
	add("live.preset", lp.presetBtn)
	add("live.history", lp.historyBtn)
	add("live.pause", lp.pauseBtn)
	add("live.clear", lp.clearBtn)
	add("presets", in.wb.Presets.Content())
	add("history", in.wb.History.Content())
	add("learn", in.teach.Panel())
	for key, s := range in.splits {
		if pos, sz, ok := dividerRect(c, s); ok {
			put(key, pos, sz)
		}
	}

	st := r.State
	st["mode"] = cp.Mode()
	st["busy"] = in.Busy()
	st["state"] = in.state.Text
	st["stats"] = in.stats.Text
	st["target"] = in.target.Address()
	st["target.line"] = in.target.line.Text
	if t := cp.tabs.Selected(); t != nil {
		st["compose.tab"] = t.Text
	}
	if t := rp.tabs.Selected(); t != nil {
		st["response.tab"] = t.Text
	}
	st["response.view"] = rp.View()
	st["response.status"] = rp.Status()
	st["records"] = in.results.Len()
	st["records.selected"] = in.results.List().Selected()
	st["stderr.lines"] = in.stderr.Lines()
	st["presets"] = in.wb.PresetsShown()
	st["history"] = in.wb.HistoryShown()
	st["learn"] = in.teach.LearnShown()
	st["live"] = in.wb.LiveShown()
	st["live.running"] = lp.Running()
	st["live.note"] = lp.Note()
	st["live.count"] = lp.Len()
	st["live.shown"] = len(lp.shown)
	var rows []string
	for i := range len(lp.shown) {
		if i == 20 {
			break
		}
		rows = append(rows, lp.RowText(i))
	}
	st["live.rows"] = rows
	st["tip"] = in.tips.Tip()
	offsets := map[string]float64{}
	for key, s := range in.splits {
		offsets[key] = s.Offset
	}
	st["splits"] = offsets
	return r
}

// shownOn reports whether o is on canvas c and shown, with some of it
// inside the canvas. The driver finds an object's position by walking
// what is shown: an object under a hidden one (a tab not selected) has
// none, which it gives as the origin, where no control of the window is.
func shownOn(c fyne.Canvas, o fyne.CanvasObject) bool {
	if o == nil || !o.Visible() || o.Size().Width < 1 || o.Size().Height < 1 {
		return false
	}
	d := fyne.CurrentApp().Driver()
	if d.CanvasForObject(o) != c {
		return false
	}
	pos := d.AbsolutePositionForObject(o)
	size := c.Size()
	return !pos.IsZero() && pos.X < size.Width && pos.Y < size.Height && pos.X+o.Size().Width > 0 && pos.Y+o.Size().Height > 0
}

// dividerRect returns where the divider of split s is drawn, when both its
// sides are shown.
func dividerRect(c fyne.Canvas, s *container.Split) (fyne.Position, fyne.Size, bool) {
	if !shownOn(c, s) || !s.Leading.Visible() || !s.Trailing.Visible() {
		return fyne.Position{}, fyne.Size{}, false
	}
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(s)
	lead, trail := s.Leading, s.Trailing
	if s.Horizontal {
		x := lead.Position().X + lead.Size().Width
		return pos.AddXY(x, 0), fyne.NewSize(trail.Position().X-x, s.Size().Height), true
	}
	y := lead.Position().Y + lead.Size().Height
	return pos.AddXY(0, y), fyne.NewSize(s.Size().Width, trail.Position().Y-y), true
}
