// Response pane: the HTTP response a CGI response stands for — status, headers, body views by content type, END_REQUEST, timings, warnings — and the raw stdout.

package ui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // image/gif bodies in the Image view
	_ "image/jpeg"
	_ "image/png"
	"mime"
	"slices"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/dissect"
	"fcgiscope/ui/view"
)

// Body views, in tab order.
const (
	ViewText   = "Text"
	ViewJSON   = "JSON"
	ViewHTML   = "HTML"
	ViewImage  = "Image"
	ViewHex    = "Hex"
	ViewStdout = "Raw stdout"
)

// The text views (Text, JSON, HTML) lay out a page of maxTextShown bytes
// at first; More adds a page at a time, up to maxTextTotal, past which
// Save… is the way to read the rest. maxJSON bounds the body size the
// JSON view pretty-prints. maxGridCols bounds the columns of one line of a
// text grid: a longer line is wrapped, since a TextGrid lays out every
// column of its longest line on each visible row, on screen or not (one
// 450 KiB line would be millions of objects); 160 columns are about what a
// wide pane shows. They work on the UI goroutine. A text grid holds 24
// bytes or more per character it lays out (a rune and a style per cell):
// a 512 KiB page held 17 MiB for as long as the body was shown, so a page
// is 64 KiB (about 1,000 lines of 64 characters) and all the pages 1 MiB.
// The Hex views always show everything: they lay out only the rows on
// screen.
const (
	maxTextShown = 64 << 10
	maxTextTotal = 1 << 20
	maxJSON      = 8 << 20
	maxGridCols  = 160
)

// maxImageSync is the body size above which the Image view decodes on a
// worker rather than on the UI goroutine.
const maxImageSync = 256 << 10

// ResponsePanel shows what the application answered.
type ResponsePanel struct {
	status    *view.TextLine
	ctype     *view.TextLine // content type and body size
	end       *view.TextLine
	timings   *view.TextLine // timings and sizes
	errIcon   *widget.Icon
	errText   *widget.Label
	errDetail *widget.Label
	errBox    *fyne.Container
	warnBox   *fyne.Container
	headers   *view.TextTable
	tabs      *container.AppTabs
	hdrTab    *container.TabItem
	viewSel   *view.Select
	viewObjs  map[string]fyne.CanvasObject
	views     map[string]*bodyTextView
	image     *canvas.Image
	imgHint   *mutedText
	bodyHex   *view.HexView
	stdout    *view.HexView
	copyBody  *widget.Button

	body    []byte
	ctVal   string
	sizeVal string          // the body's size, or a note after it
	shown   map[string]bool // views laid out for the current body
	stdoutN int             // stdout bytes given to the raw view
	imgGen  int             // the body generation an image decode is for

	// pendingStdout and pendingSpans are stdout as it arrived and its
	// spans, given to the raw view when it is in front (see ShowStdout).
	pendingStdout []byte
	pendingSpans  []dissect.Span

	win fyne.Window  // for the Save… dialog; nil in bare tests
	do  func(func()) // hands a worker's result to the UI goroutine; nil: fyne.Do

	content fyne.CanvasObject
}

// bodyTextView is one text view of the body (Text, JSON, HTML). It pages
// through its source: a page of maxTextShown bytes at first, then a page
// more on each More, up to maxTextTotal; a bar under the text says how
// much is shown and offers More and Save….
type bodyTextView struct {
	grid    *widget.TextGrid
	hint    *mutedText
	text    strings.Builder // the source bytes laid out, as text (unwrapped)
	src     []byte          // what the view pages through
	next    int             // bytes of src consumed by the pages shown
	more    *view.TextLine
	moreBtn *widget.Button
	saveBtn *widget.Button
	bar     *fyne.Container
	obj     fyne.CanvasObject
}

func newBodyTextView(save func()) *bodyTextView {
	v := &bodyTextView{grid: widget.NewTextGrid(),
		hint: newMutedHint(""),
		more: view.NewTextLine("")}
	v.more.Importance = widget.LowImportance
	v.grid.Scroll = fyne.ScrollBoth
	v.moreBtn = widget.NewButtonWithIcon("More", theme.MoreVerticalIcon(), v.showMore)
	v.saveBtn = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), save)
	v.moreBtn.Importance, v.saveBtn.Importance = widget.LowImportance, widget.LowImportance
	v.bar = container.NewBorder(nil, nil, nil, container.NewHBox(v.moreBtn, v.saveBtn), v.more)
	v.bar.Hide()
	v.obj = container.NewBorder(nil, v.bar, nil, nil,
		container.NewStack(insetGrid(v.grid), container.NewVBox(layout.NewSpacer(), keepRoom(v.hint), layout.NewSpacer())))
	return v
}

// set shows the first page of src, or the hint when src is empty.
func (v *bodyTextView) set(src []byte, hint string) {
	v.src, v.next = src, 0
	v.text.Reset()
	v.grid.Rows = nil
	v.addPage()
	v.grid.ScrollToTop()
	v.hint.SetText(hint)
	v.hint.Hidden = len(src) > 0
	v.hint.Refresh()
}

// showMore lays out one more page and scrolls to its end: the page is
// added below what was shown, so without it a click would change nothing
// in sight.
func (v *bodyTextView) showMore() {
	v.addPage()
	v.grid.ScrollToBottom()
}

// addPage appends the next page of src to the grid and updates the bar.
func (v *bodyTextView) addPage() {
	if v.next < len(v.src) && v.next < maxTextTotal {
		start := v.next
		end, next := pageEnd(v.src, start, min(maxTextShown, maxTextTotal-start))
		page := string(v.src[start:end])
		v.text.WriteString(page)
		if next > end {
			v.text.WriteByte('\n')
		}
		v.next = next
		if start == 0 {
			v.grid.SetText(wrapText(page, maxGridCols))
		} else {
			v.grid.Append(wrapText(page, maxGridCols))
		}
	} else if v.next == 0 {
		v.grid.SetText("")
	}
	if v.next >= len(v.src) {
		v.bar.Hide()
		return
	}
	v.more.SetText(fmt.Sprintf("Showing the first %s of %s", session.FormatBytes(int64(v.next)), session.FormatBytes(int64(len(v.src)))))
	if v.next >= maxTextTotal {
		v.more.SetText(fmt.Sprintf("Showing the first %s of %s: save the body to read the rest, or see the Hex view",
			session.FormatBytes(int64(v.next)), session.FormatBytes(int64(len(v.src)))))
		v.moreBtn.Disable()
	} else {
		v.moreBtn.Enable()
	}
	v.bar.Show()
}

// Shown returns how many bytes of the source the view lays out, and of how many.
func (v *bodyTextView) Shown() (shown, total int) { return v.next, len(v.src) }

// pageEnd returns where a page of at most n bytes of b from start ends, and
// where the next page starts: at the last line end in the page's second
// half (the newline belongs to neither page), else at a rune boundary.
func pageEnd(b []byte, start, n int) (end, next int) {
	end = start + n
	if end >= len(b) {
		return len(b), len(b)
	}
	if i := bytes.LastIndexByte(b[start+n/2:end], '\n'); i >= 0 {
		end = start + n/2 + i
		return end, end + 1
	}
	for end > start && !utf8.RuneStart(b[end]) {
		end--
	}
	if end == start { // not UTF-8: cut anywhere
		end = start + n
	}
	return end, end
}

// wrapText breaks the lines of s longer than cols runes (a tab counts as
// one) into lines of cols runes, so that a text grid never lays out more
// than cols columns per row.
func wrapText(s string, cols int) string {
	long := false
	for line := range strings.SplitSeq(s, "\n") {
		if len(line) > cols && utf8.RuneCountInString(line) > cols {
			long = true
			break
		}
	}
	if !long {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + len(s)/cols + 1)
	n := 0
	for _, r := range s {
		if r == '\n' {
			n = 0
		} else if n == cols {
			b.WriteByte('\n')
			n = 0
		}
		if r != '\n' {
			n++
		}
		b.WriteRune(r)
	}
	return b.String()
}

// newResponsePanel returns an empty pane.
func newResponsePanel() *ResponsePanel {
	muted := func() *view.TextLine {
		l := view.NewTextLine("")
		l.Importance = widget.LowImportance
		return l
	}
	p := &ResponsePanel{
		status:    &view.TextLine{Text: "No response yet", TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameSubHeadingText, Importance: widget.LowImportance},
		ctype:     muted(),
		end:       muted(),
		timings:   muted(),
		errIcon:   widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon())),
		errText:   wrapLabel("", widget.DangerImportance),
		errDetail: wrapLabel("", widget.LowImportance),
		warnBox:   container.NewVBox(),
		views:     map[string]*bodyTextView{},
		image:     canvas.NewImageFromImage(nil),
		imgHint:   newMutedHint(""),
		bodyHex:   view.NewHexView(),
		stdout:    view.NewHexView(),
		shown:     map[string]bool{},
	}
	for _, name := range []string{ViewText, ViewJSON, ViewHTML} {
		p.views[name] = newBodyTextView(p.SaveBody)
	}
	p.errText.TextStyle = fyne.TextStyle{Bold: true}
	p.errDetail.Selectable = true
	p.errBox = container.NewBorder(nil, nil, container.NewVBox(p.errIcon), nil, container.NewVBox(p.errText, secondary(p.errDetail)))
	p.errBox.Hide()
	p.image.FillMode = canvas.ImageFillContain
	p.image.ScaleMode = canvas.ImageScalePixels
	p.status.ExtendBaseWidget(p.status)
	p.headers = view.NewTextTable("No headers",
		view.TextColumn{Title: "Name", Width: 160, Mono: true},
		view.TextColumn{Title: "Value", Mono: true})

	p.viewObjs = map[string]fyne.CanvasObject{
		ViewText:  p.views[ViewText].obj,
		ViewJSON:  p.views[ViewJSON].obj,
		ViewHTML:  p.views[ViewHTML].obj,
		ViewImage: container.NewStack(p.image, container.NewVBox(layout.NewSpacer(), keepRoom(p.imgHint), layout.NewSpacer())),
		// The dumps scroll sideways rather than widen the window.
		ViewHex:    container.NewHScroll(p.bodyHex),
		ViewStdout: container.NewHScroll(p.stdout),
	}
	order := []string{ViewText, ViewJSON, ViewHTML, ViewImage, ViewHex, ViewStdout}
	stack := container.NewStack()
	for _, name := range order {
		o := p.viewObjs[name]
		o.Hide()
		stack.Add(o)
	}
	p.viewSel = view.NewSelect(order, func(name string) {
		for n, o := range p.viewObjs {
			if n == name {
				o.Show()
			} else {
				o.Hide()
			}
		}
		stack.Refresh()
		p.render(name)
	})
	p.copyBody = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), p.onCopy)
	p.copyBody.Importance = widget.LowImportance
	p.copyBody.Disable()

	// The summary is one line per fact, each cut with its whole text in
	// a tooltip; the failure and warnings take a few lines at most and
	// scroll beyond, so that no text makes the pane taller.
	notes := view.NewCappedScroll(container.NewVBox(p.errBox, p.warnBox), notesHeight())
	summary := container.NewVBox(p.ctype, p.end, p.timings, notes)
	bodyPane := container.NewBorder(container.NewBorder(nil, nil, nil, p.copyBody, p.viewSel), nil, nil, nil, stack)
	p.hdrTab = container.NewTabItem("Headers", p.headers)
	p.tabs = container.NewAppTabs(container.NewTabItem("Body", bodyPane), p.hdrTab)
	header := container.NewBorder(nil, nil, boldLabel("Response"), nil, p.status)
	p.content = pane(header, container.NewBorder(summary, nil, nil, nil, p.tabs))
	p.viewSel.SetSelected(ViewText)
	p.Reset()
	p.setStatus("No request sent yet", widget.LowImportance)
	p.end.SetText("The status, headers and body of the CGI response appear here")
	return p
}

// Content returns the pane's canvas object.
func (p *ResponsePanel) Content() fyne.CanvasObject { return p.content }

// notesHeight is the most the failure and warnings take: two lines; more
// scroll (the failure is on the status line too).
func notesHeight() float32 {
	line := fyne.MeasureText("M", theme.TextSize(), fyne.TextStyle{}).Height + 2*theme.InnerPadding()
	return 2 * line
}

// Tabs returns the body and headers tabs.
func (p *ResponsePanel) Tabs() *container.AppTabs { return p.tabs }

// setSize shows the body's size (or a note) after the content type.
func (p *ResponsePanel) setSize(text string) {
	p.sizeVal = text
	p.showType()
}

// showType writes the content type and the body's size on one line.
func (p *ResponsePanel) showType() {
	parts := make([]string, 0, 2)
	if p.ctVal != "" {
		parts = append(parts, p.ctVal)
	}
	if p.sizeVal != "" {
		parts = append(parts, p.sizeVal)
	}
	p.ctype.SetText(strings.Join(parts, " · "))
}

// setHeaderCount names the headers tab with its count.
func (p *ResponsePanel) setHeaderCount(n int) {
	title := "Headers"
	if n > 0 {
		title = fmt.Sprintf("Headers (%d)", n)
	}
	if p.hdrTab.Text != title {
		p.hdrTab.Text = title
		p.tabs.Refresh()
	}
}

// Reset empties the pane for a new exchange.
func (p *ResponsePanel) Reset() {
	p.setStatus("Waiting for a response…", widget.LowImportance)
	p.body, p.ctVal, p.sizeVal = nil, "", ""
	p.showType()
	p.end.SetText("END_REQUEST: not received yet")
	p.end.Importance = widget.LowImportance
	p.end.Refresh()
	p.timings.SetText("")
	p.errBox.Hide()
	p.setWarnings(nil)
	p.headers.SetRows(nil)
	p.setHeaderCount(0)
	p.shown = map[string]bool{}
	p.stdoutN = 0
	p.pendingStdout, p.pendingSpans = nil, nil
	p.stdout.SetData(nil, nil)
	p.copyBody.Disable()
	for _, v := range p.views {
		v.set(nil, "No body")
	}
	p.image.Image = nil
	p.image.Refresh()
	p.imgHint.SetText("No image")
	p.bodyHex.SetData(nil, nil)
}

func (p *ResponsePanel) setStatus(text string, imp widget.Importance) {
	p.status.Text, p.status.Importance = text, imp
	p.status.Refresh()
}

// ShowStdout shows stdout as it arrives in the Raw stdout view, with spans
// naming the record each byte came in. It does nothing if stdout has not
// grown. The view takes them at once when it is in front, else when it is
// brought to the front: with 100,000 records, giving it their spans costs
// milliseconds a time.
func (p *ResponsePanel) ShowStdout(stdout []byte, spans []dissect.Span) {
	if len(stdout) == len(p.pendingStdout) {
		return
	}
	p.pendingStdout, p.pendingSpans = stdout, spans
	if p.View() == ViewStdout {
		p.applyStdout()
	}
	p.setSize(fmt.Sprintf("stdout %s so far", session.FormatBytes(int64(len(stdout)))))
}

// applyStdout gives the raw view what ShowStdout received since it last
// did, keeping the highlight and the scroll position.
func (p *ResponsePanel) applyStdout() {
	if len(p.pendingStdout) == p.stdoutN {
		return
	}
	p.stdoutN = len(p.pendingStdout)
	hs, he := p.stdout.Highlighted()
	top := p.stdout.TopOffset()
	p.stdout.SetData(p.pendingStdout, p.pendingSpans)
	if hs >= 0 {
		p.stdout.Highlight(hs, he)
	}
	p.stdout.ScrollToOffset(top)
}

// HighlightStdout outlines the bytes [start, end) of the raw stdout and
// brings the Raw stdout view to the front.
func (p *ResponsePanel) HighlightStdout(start, end int) {
	p.SelectView(ViewStdout)
	p.stdout.Highlight(start, end)
}

// attach gives the pane its window, for the Save… dialog, and the
// function that hands a worker's result to the UI goroutine.
func (p *ResponsePanel) attach(win fyne.Window, do func(func())) {
	p.win, p.do = win, do
}

// runOnUI hands f to the UI goroutine.
func (p *ResponsePanel) runOnUI(f func()) {
	if p.do != nil {
		p.do(f)
		return
	}
	fyne.Do(f)
}

// SaveBody asks where to save the response body, then writes it whole on
// a worker.
func (p *ResponsePanel) SaveBody() {
	body := p.body
	if len(body) == 0 || p.win == nil {
		return
	}
	fd := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			p.sizeNote("Cannot save the body: " + err.Error())
			return
		}
		if wc == nil {
			return
		}
		path := wc.URI().Path()
		p.sizeNote("Saving the body…")
		go func() {
			wc.Close() // the file is written atomically below
			err := session.WriteFileAtomic(path, body, 0o644)
			p.runOnUI(func() {
				if err != nil {
					p.sizeNote("Cannot save the body: " + cleanError(err))
					return
				}
				p.sizeNote("Body saved to " + shortPath(path))
			})
		}()
	}, p.win)
	fd.SetFileName(bodyFileName(p.ctVal))
	fd.Resize(fyne.NewSize(820, 560))
	fd.Show()
}

// sizeNote writes a note after the body's size.
func (p *ResponsePanel) sizeNote(note string) {
	p.setSize(fmt.Sprintf("body %s · %s", session.FormatBytes(int64(len(p.body))), note))
}

// bodyFileName proposes a file name for a body by its content type.
func bodyFileName(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		ext := exts[0]
		if slices.Contains(exts, ".txt") {
			ext = ".txt"
		}
		return "body" + ext
	}
	return "body.bin"
}

// Show shows the finished exchange x: status, headers and body from its
// parsed CGI response, END_REQUEST, timings, sizes and warnings, and above
// them errText, the failure in a sentence ("" if none), with its detail.
func (p *ResponsePanel) Show(x *session.Exchange, errText, detail string) {
	resp := x.Response()
	sizes, t := x.Sizes(), x.Timings()
	switch {
	case resp != nil && resp.Gateway != "":
		// Not the application's answer but nginx's (empty STDOUT, out of
		// time): the warnings below say why.
		p.setStatus(session.StatusText(x), widget.DangerImportance)
	case resp != nil && errText != "": // what arrived before the failure
		p.setStatus(session.StatusText(x), widget.WarningImportance)
	case resp != nil:
		p.setStatus(session.StatusText(x), statusImportance(resp.Status))
	case errText != "":
		p.setStatus(session.StatusText(x), widget.DangerImportance)
	default:
		p.setStatus(session.StatusText(x), widget.LowImportance)
	}
	if errText != "" {
		p.errText.SetText(errText)
		p.errDetail.SetText(detail)
		p.errDetail.Hidden = detail == "" || detail == errText
		p.errBox.Show()
	} else {
		p.errBox.Hide()
	}

	p.end.SetText(session.EndText(x))
	if e := x.End(); e != nil {
		if e.ProtocolStatus != fcgi.StatusRequestComplete {
			p.end.Importance = widget.DangerImportance
		} else {
			p.end.Importance = widget.LowImportance
		}
	} else if x.Began() {
		p.end.Importance = widget.WarningImportance
	} else {
		p.end.Importance = widget.LowImportance
	}
	p.end.Refresh()
	p.timings.SetText(fmt.Sprintf("connect %s · first byte %s · total %s · sent %s · received %s · stderr %s",
		session.FormatDuration(t.Connect), session.FormatDuration(t.FirstByte), session.FormatDuration(t.Total),
		session.FormatBytes(sizes.Sent), session.FormatBytes(sizes.Received), session.FormatBytes(sizes.Stderr)))
	p.setWarnings(x.Warnings())

	var rows [][]string
	p.body, p.ctVal = nil, ""
	if resp != nil {
		for _, h := range resp.Headers {
			rows = append(rows, []string{session.Printable(h.Name), session.Printable(h.Value)})
		}
		p.body = resp.Body
		p.ctVal, _ = resp.Get("Content-Type")
	}
	p.headers.SetRows(rows)
	p.setHeaderCount(len(rows))
	if resp != nil {
		p.setSize(fmt.Sprintf("body %s", session.FormatBytes(int64(len(p.body)))))
	} else {
		p.setSize("")
	}
	p.copyBody.Disable()
	if len(p.body) > 0 {
		p.copyBody.Enable()
	}
	p.shown = map[string]bool{}
	view := p.View()
	if resp != nil {
		view = bodyView(p.ctVal, p.body)
	}
	p.SelectView(view)
}

// View returns the name of the body view in front.
func (p *ResponsePanel) View() string {
	if p.viewSel.Selected == "" {
		return ViewText
	}
	return p.viewSel.Selected
}

// SelectView brings the named view to the front.
func (p *ResponsePanel) SelectView(name string) {
	if _, ok := p.viewObjs[name]; !ok {
		return
	}
	if p.viewSel.Selected == name {
		p.render(name)
		return
	}
	p.viewSel.SetSelected(name) // shows and renders it
}

// ViewText returns the text a text view (Text, JSON, HTML) shows.
func (p *ResponsePanel) ViewText(name string) string {
	p.render(name)
	if v, ok := p.views[name]; ok {
		return v.text.String()
	}
	return ""
}

// TextShown returns how many bytes of its source a text view (Text, JSON,
// HTML) lays out, and of how many.
func (p *ResponsePanel) TextShown(name string) (shown, total int) {
	p.render(name)
	if v, ok := p.views[name]; ok {
		return v.Shown()
	}
	return 0, 0
}

// ShowMore lays out one more page of a text view.
func (p *ResponsePanel) ShowMore(name string) {
	if v, ok := p.views[name]; ok {
		v.showMore()
	}
}

// Status returns the status line shown, e.g. "200 OK".
func (p *ResponsePanel) Status() string { return p.status.Text }

// ErrorText returns the failure shown, "" if none.
func (p *ResponsePanel) ErrorText() string {
	if p.errBox.Hidden {
		return ""
	}
	return p.errText.Text
}

// Headers returns the header rows shown.
func (p *ResponsePanel) Headers() [][]string { return p.headers.Rows() }

// render lays out view for the current body, once per body. The text
// views lay out their first page; the raw stdout takes what arrived.
func (p *ResponsePanel) render(view string) {
	if view == ViewStdout {
		p.applyStdout()
		return
	}
	if p.shown[view] {
		return
	}
	p.shown[view] = true
	head := p.body[:min(len(p.body), maxTextShown)]
	switch view {
	case ViewText:
		hint := "No body"
		src := p.body
		if len(p.body) > 0 && !utf8.Valid(trimRuneTail(head)) {
			hint, src = "The body is not UTF-8 text: see the Hex view", nil
		}
		p.views[ViewText].set(src, hint)
	case ViewJSON:
		switch {
		case len(p.body) == 0:
			p.views[ViewJSON].set(nil, "No body")
		case len(p.body) > maxJSON:
			p.views[ViewJSON].set(nil, fmt.Sprintf("The body is larger than %s: see the Text or Hex view", session.FormatBytes(maxJSON)))
		default:
			var out bytes.Buffer
			if err := json.Indent(&out, p.body, "", "  "); err != nil {
				p.views[ViewJSON].set(nil, "Not JSON: "+err.Error())
				break
			}
			p.views[ViewJSON].set(out.Bytes(), "")
		}
	case ViewHTML:
		hint := "No body"
		src := p.body
		if len(p.body) > 0 && !isHTML(p.ctVal, head) {
			hint, src = "Not HTML ("+orNone(p.ctVal)+")", nil
		}
		p.views[ViewHTML].set(src, hint)
	case ViewImage:
		p.renderImage()
	case ViewHex:
		p.bodyHex.SetData(p.body, nil)
	}
}

// trimRuneTail drops an incomplete UTF-8 sequence at the end of b, where a
// page was cut.
func trimRuneTail(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// renderImage decodes the body into the Image view: on the UI goroutine
// when it is small, else on a worker, the view saying so meanwhile.
func (p *ResponsePanel) renderImage() {
	p.image.Image = nil
	p.imgGen++
	body, gen := p.body, p.imgGen
	if len(body) == 0 {
		p.setImage(nil, "No body")
		return
	}
	decode := func() (image.Image, string) {
		img, _, err := image.Decode(bytes.NewReader(body))
		if err != nil {
			return nil, "Not an image this viewer can decode (" + orNone(p.ctVal) + ")"
		}
		return img, ""
	}
	if len(body) <= maxImageSync {
		p.setImage(decode())
		return
	}
	p.setImage(nil, fmt.Sprintf("Decoding %s…", session.FormatBytes(int64(len(body)))))
	go func() {
		img, hint := decode()
		p.runOnUI(func() {
			if gen == p.imgGen {
				p.setImage(img, hint)
			}
		})
	}()
}

// setImage shows img, or hint when img is nil.
func (p *ResponsePanel) setImage(img image.Image, hint string) {
	p.image.Image = img
	p.imgHint.SetText(hint)
	if img != nil {
		b := img.Bounds()
		p.image.SetMinSize(fyne.NewSize(float32(min(b.Dx(), 64)), float32(min(b.Dy(), 64))))
	}
	p.imgHint.Hidden = img != nil
	p.image.Refresh()
	p.imgHint.Refresh()
}

func (p *ResponsePanel) setWarnings(ws []string) {
	objs := make([]fyne.CanvasObject, 0, len(ws))
	for _, w := range ws {
		icon := widget.NewIcon(theme.NewWarningThemedResource(theme.WarningIcon()))
		objs = append(objs, container.NewBorder(nil, nil, container.NewVBox(icon), nil, wrapLabel(w, widget.WarningImportance)))
	}
	p.warnBox.Objects = objs
	p.warnBox.Hidden = len(objs) == 0
	p.warnBox.Refresh()
}

// Warnings returns the warnings shown.
func (p *ResponsePanel) Warnings() []string {
	var out []string
	for _, o := range p.warnBox.Objects {
		for _, c := range o.(*fyne.Container).Objects {
			if l, ok := c.(*widget.Label); ok {
				out = append(out, l.Text)
			}
		}
	}
	return out
}

func (p *ResponsePanel) onCopy() {
	if app := fyne.CurrentApp(); app != nil && len(p.body) > 0 {
		app.Clipboard().SetContent(string(p.body))
	}
}

// bodyView picks the view for a body by its content type, then by its bytes.
func bodyView(contentType string, body []byte) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case strings.HasPrefix(mt, "image/"):
		return ViewImage
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return ViewJSON
	case mt == "text/html" || mt == "application/xhtml+xml":
		return ViewHTML
	case strings.HasPrefix(mt, "text/") || mt == "application/javascript" || mt == "application/xml" || strings.HasSuffix(mt, "+xml"):
		return ViewText
	case len(body) > 0 && !utf8.Valid(body[:min(len(body), 4096)]):
		return ViewHex
	}
	return ViewText
}

// isHTML reports whether a body is worth showing as HTML source.
func isHTML(contentType string, body []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	head := bytes.TrimSpace(body[:min(len(body), 512)])
	return bytes.HasPrefix(head, []byte("<")) && utf8.Valid(head)
}

func orNone(ct string) string {
	if ct == "" {
		return "no Content-Type"
	}
	return ct
}
