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
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
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

// maxTextShown bounds the body bytes the text views lay out, and maxJSON
// the body size the JSON view pretty-prints: they work on the UI goroutine.
// The Hex view always shows everything.
const (
	maxTextShown = 512 << 10
	maxJSON      = 8 << 20
)

// ResponsePanel shows what the application answered.
type ResponsePanel struct {
	status    *widget.Label
	ctype     *widget.Label
	size      *widget.Label
	end       *widget.Label
	timings   *widget.Label
	errIcon   *widget.Icon
	errText   *widget.Label
	errDetail *widget.Label
	errBox    *fyne.Container
	warnBox   *fyne.Container
	headers   *infoTable
	hdrTitle  *widget.Label
	viewSel   *widget.Select
	viewObjs  map[string]fyne.CanvasObject
	views     map[string]*bodyTextView
	image     *canvas.Image
	imgHint   *widget.Label
	bodyHex   *HexView
	stdout    *HexView
	copyBody  *widget.Button

	split   *container.Split // headers / body
	body    []byte
	ctVal   string
	shown   map[string]bool // views laid out for the current body
	stdoutN int             // stdout bytes given to the raw view

	content fyne.CanvasObject
}

// bodyTextView is one text view of the body (Text, JSON, HTML).
type bodyTextView struct {
	grid *widget.TextGrid
	hint *widget.Label
	text string
	obj  fyne.CanvasObject
}

func newBodyTextView() *bodyTextView {
	v := &bodyTextView{grid: widget.NewTextGrid(),
		hint: &widget.Label{Importance: widget.LowImportance, Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord}}
	v.grid.Scroll = fyne.ScrollBoth
	v.obj = container.NewStack(insetGrid(v.grid), container.NewVBox(layout.NewSpacer(), secondary(v.hint), layout.NewSpacer()))
	return v
}

// set shows text, or the hint when text is empty.
func (v *bodyTextView) set(text, hint string) {
	v.text = text
	v.grid.SetText(text)
	v.grid.ScrollToTop()
	v.hint.SetText(hint)
	v.hint.Hidden = text != ""
	v.hint.Refresh()
}

// newResponsePanel returns an empty pane.
func newResponsePanel() *ResponsePanel {
	p := &ResponsePanel{
		status:    &widget.Label{Text: "No response yet", TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameSubHeadingText, Importance: widget.LowImportance},
		ctype:     mutedLine(""),
		size:      mutedLabel(""),
		end:       mutedLine(""),
		timings:   mutedLine(""),
		errIcon:   widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon())),
		errText:   wrapLabel("", widget.DangerImportance),
		errDetail: wrapLabel("", widget.LowImportance),
		warnBox:   container.NewVBox(),
		hdrTitle:  sectionTitle("Headers"),
		views:     map[string]*bodyTextView{ViewText: newBodyTextView(), ViewJSON: newBodyTextView(), ViewHTML: newBodyTextView()},
		image:     canvas.NewImageFromImage(nil),
		imgHint:   &widget.Label{Importance: widget.LowImportance, Alignment: fyne.TextAlignCenter, Wrapping: fyne.TextWrapWord},
		bodyHex:   NewHexView(),
		stdout:    NewHexView(),
		shown:     map[string]bool{},
	}
	p.errText.TextStyle = fyne.TextStyle{Bold: true}
	p.errDetail.Selectable = true
	p.errBox = container.NewBorder(nil, nil, container.NewVBox(p.errIcon), nil, container.NewVBox(p.errText, secondary(p.errDetail)))
	p.errBox.Hide()
	p.image.FillMode = canvas.ImageFillContain
	p.image.ScaleMode = canvas.ImageScalePixels
	p.headers = newInfoTable("No headers",
		infoColumn{title: "Name", width: 190, mono: true},
		infoColumn{title: "Value", mono: true})

	p.viewObjs = map[string]fyne.CanvasObject{
		ViewText:  p.views[ViewText].obj,
		ViewJSON:  p.views[ViewJSON].obj,
		ViewHTML:  p.views[ViewHTML].obj,
		ViewImage: container.NewStack(p.image, container.NewVBox(layout.NewSpacer(), secondary(p.imgHint), layout.NewSpacer())),
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
	p.viewSel = widget.NewSelect(order, func(name string) {
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

	statusRow := container.NewBorder(nil, nil, p.status, nil,
		container.NewBorder(nil, nil, nil, p.size, p.ctype))
	summary := container.NewVBox(secondary(container.NewVBox(statusRow, p.end, p.timings)), p.errBox, p.warnBox)
	headersPane := container.NewBorder(p.hdrTitle, nil, nil, nil, p.headers)
	bodyPane := container.NewBorder(sectionHeader(sectionTitle("Body"), p.viewSel, p.copyBody), nil, nil, nil, stack)
	p.split = container.NewVSplit(headersPane, bodyPane)
	p.split.Offset = 0.3
	p.content = pane(sectionHeader(sectionTitle("Response")), container.NewBorder(summary, nil, nil, nil, p.split))
	p.viewSel.SetSelected(ViewText)
	p.Reset()
	p.setStatus("No request sent yet", widget.LowImportance)
	p.end.SetText("The status, headers and body of the CGI response appear here")
	return p
}

// Content returns the pane's canvas object.
func (p *ResponsePanel) Content() fyne.CanvasObject { return p.content }

// Reset empties the pane for a new exchange.
func (p *ResponsePanel) Reset() {
	p.setStatus("Waiting for a response…", widget.LowImportance)
	p.ctype.SetText("")
	p.size.SetText("")
	p.end.SetText("END_REQUEST: not received yet")
	p.timings.SetText("")
	p.errBox.Hide()
	p.setWarnings(nil)
	p.headers.SetRows(nil)
	p.hdrTitle.SetText("Headers")
	p.body, p.ctVal = nil, ""
	p.shown = map[string]bool{}
	p.stdoutN = 0
	p.stdout.SetData(nil, nil)
	p.copyBody.Disable()
	for _, v := range p.views {
		v.set("", "No body")
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
// grown.
func (p *ResponsePanel) ShowStdout(stdout []byte, spans []Span) {
	if len(stdout) == p.stdoutN {
		return
	}
	p.stdoutN = len(stdout)
	hs, he := p.stdout.Highlighted()
	top := p.stdout.TopOffset()
	p.stdout.SetData(stdout, spans)
	if hs >= 0 {
		p.stdout.Highlight(hs, he)
	}
	p.stdout.ScrollToOffset(top)
	p.size.SetText(fmt.Sprintf("stdout %s so far", formatBytes(int64(len(stdout)))))
}

// HighlightStdout outlines the bytes [start, end) of the raw stdout and
// brings the Raw stdout view to the front.
func (p *ResponsePanel) HighlightStdout(start, end int) {
	p.SelectView(ViewStdout)
	p.stdout.Highlight(start, end)
}

// Show shows the finished exchange x: status, headers and body from its
// parsed CGI response, END_REQUEST, timings, sizes and warnings, and above
// them errText, the failure in a sentence ("" if none), with its detail.
func (p *ResponsePanel) Show(x *session.Exchange, errText, detail string) {
	resp := x.Response()
	sizes, t := x.Sizes(), x.Timings()
	switch {
	case resp != nil:
		reason := resp.Reason
		p.setStatus(strings.TrimSpace(fmt.Sprintf("%d %s", resp.Status, reason)), statusImportance(resp.Status))
	case errText != "":
		p.setStatus("No response", widget.DangerImportance)
	default:
		p.setStatus("No response", widget.LowImportance)
	}
	if errText != "" {
		p.errText.SetText(errText)
		p.errDetail.SetText(detail)
		p.errDetail.Hidden = detail == "" || detail == errText
		p.errBox.Show()
	} else {
		p.errBox.Hide()
	}

	if e := x.End(); e != nil {
		p.end.SetText(fmt.Sprintf("END_REQUEST: app status %d · %s", e.AppStatus, e.ProtocolStatus))
		if e.ProtocolStatus != fcgi.StatusRequestComplete {
			p.end.Importance = widget.DangerImportance
		} else {
			p.end.Importance = widget.LowImportance
		}
	} else {
		p.end.SetText("END_REQUEST: not received")
		p.end.Importance = widget.WarningImportance
	}
	p.end.Refresh()
	p.timings.SetText(fmt.Sprintf("connect %s · first byte %s · total %s · sent %s · received %s · stderr %s",
		formatDuration(t.Connect), formatDuration(t.FirstByte), formatDuration(t.Total),
		formatBytes(sizes.Sent), formatBytes(sizes.Received), formatBytes(sizes.Stderr)))
	p.setWarnings(x.Warnings())

	var rows [][]string
	p.body, p.ctVal = nil, ""
	if resp != nil {
		for _, h := range resp.Headers {
			rows = append(rows, []string{h.Name, h.Value})
		}
		p.body = resp.Body
		p.ctVal, _ = resp.Get("Content-Type")
	}
	p.headers.SetRows(rows)
	p.hdrTitle.SetText(fmt.Sprintf("Headers (%d)", len(rows)))
	p.ctype.SetText(p.ctVal)
	if resp != nil {
		p.size.SetText(fmt.Sprintf("body %s", formatBytes(int64(len(p.body)))))
	} else {
		p.size.SetText("")
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
		return v.text
	}
	return ""
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

// render lays out view for the current body, once per body.
func (p *ResponsePanel) render(view string) {
	if p.shown[view] {
		return
	}
	p.shown[view] = true
	body := p.body
	note := ""
	if len(body) > maxTextShown {
		body = body[:maxTextShown]
		note = fmt.Sprintf("\n… %s more not shown here: see the Hex view", formatBytes(int64(len(p.body)-maxTextShown)))
	}
	switch view {
	case ViewText:
		hint := "No body"
		text := ""
		if len(body) > 0 {
			text = string(body) + note
			if !utf8.Valid(body) {
				hint, text = "The body is not UTF-8 text: see the Hex view", ""
			}
		}
		p.views[ViewText].set(text, hint)
	case ViewJSON:
		switch {
		case len(p.body) == 0:
			p.views[ViewJSON].set("", "No body")
		case len(p.body) > maxJSON:
			p.views[ViewJSON].set("", fmt.Sprintf("The body is larger than %s: see the Text or Hex view", formatBytes(maxJSON)))
		default:
			var out bytes.Buffer
			if err := json.Indent(&out, p.body, "", "  "); err != nil {
				p.views[ViewJSON].set("", "Not JSON: "+err.Error())
				break
			}
			text := out.String()
			if len(text) > maxTextShown {
				text = text[:maxTextShown] + "\n…"
			}
			p.views[ViewJSON].set(text, "")
		}
	case ViewHTML:
		hint := "No body"
		text := ""
		if len(body) > 0 {
			text = string(body) + note
		}
		if len(body) > 0 && !isHTML(p.ctVal, body) {
			hint, text = "Not HTML ("+orNone(p.ctVal)+")", ""
		}
		p.views[ViewHTML].set(text, hint)
	case ViewImage:
		p.image.Image = nil
		p.imgHint.SetText("No body")
		if len(p.body) > 0 {
			img, _, err := image.Decode(bytes.NewReader(p.body))
			if err != nil {
				p.imgHint.SetText("Not an image this viewer can decode (" + orNone(p.ctVal) + ")")
			} else {
				p.image.Image = img
				b := img.Bounds()
				p.imgHint.SetText("")
				p.image.SetMinSize(fyne.NewSize(float32(min(b.Dx(), 64)), float32(min(b.Dy(), 64))))
			}
		}
		p.imgHint.Hidden = p.image.Image != nil
		p.image.Refresh()
		p.imgHint.Refresh()
	case ViewHex:
		p.bodyHex.SetData(p.body, nil)
	}
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

// formatBytes writes a byte count for people: "512 B", "1.5 KiB", "3.2 MiB".
func formatBytes(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
}

// formatDuration writes a duration with a precision that suits it; "–"
// for a time that was not reached.
func formatDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}
