// Interop dialogs: import nginx fastcgi_param lines and cgi-fcgi command lines into compose; export the request as a cgi-fcgi or fcgiscope send command, a HAR 1.2 file or an Exchange file; open a saved Exchange file offline.

package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/interop"
)

// Export formats, as the export dialog names them.
const (
	FormatCGIFCGI    = "cgi-fcgi command"
	FormatSend       = "fcgiscope send command"
	FormatSendHTTP   = "fcgiscope send command (HTTP mode)"
	FormatHAR        = "HAR 1.2 file"
	FormatExchange   = "Exchange file (JSON)"
	maxImportFile    = 4 << 20  // an nginx file or a command larger than this is refused
	maxExportBody    = 64 << 20 // the body read for a command export of the composed request
	maxExportPreview = 64 << 10 // the part of a HAR file the dialog shows
)

// Export sources.
const (
	SourceExchange = "The exchange shown"
	SourceComposed = "The composed request (not sent)"
)

// interopLink is what the import and export dialogs work with. Every
// function runs on the UI goroutine.
type interopLink struct {
	// current returns the composed request, target included (the real
	// address), variables not yet substituted.
	current func() (session.Input, error)
	// applier returns the environment's substitution (safe on a worker).
	applier func() func(session.Input) (session.Input, error)
	// shown returns the exchange in the result panes, nil if none.
	shown func() *session.Exchange
	// show puts an exchange in the result panes.
	show func(x *session.Exchange, origin string)
	// replace puts an imported request into compose as a new request,
	// asking about unsaved changes first.
	replace func(in session.Input)
}

// Interop holds the import and export dialogs.
type Interop struct {
	win  fyne.Window
	do   func(func())
	base context.Context
	link interopLink

	nginx    *importDialog
	cgi      *importDialog
	export   *exportDialog
	lastOpen string // the last Exchange file opened

	// OnError shows an error; nil means an error dialog.
	OnError func(error)
	// OnInfo reports a finished action in a sentence ("Saved …").
	OnInfo func(string)
}

func newInterop(base context.Context, win fyne.Window, do func(func()), link interopLink) *Interop {
	return &Interop{win: win, do: do, base: base, link: link}
}

func (o *Interop) fail(err error) {
	if o.OnError != nil {
		o.OnError(err)
		return
	}
	dialog.ShowError(err, o.win)
}

func (o *Interop) info(s string) {
	if o.OnInfo != nil {
		o.OnInfo(s)
	}
}

// Imports.

// importDialog is an open import dialog.
type importDialog struct {
	title   string
	dlg     *dialog.CustomDialog
	text    *widget.Entry
	resolve *widget.Check // nginx only
	result  *widget.Label
	details *widget.Label
	apply   *widget.Button
	input   session.Input // what Import puts into compose
	ok      bool
}

// ImportNginx opens the nginx import: fastcgi_param lines pasted or read
// from a file become the Raw params, with the variables nginx would
// resolve taken from the HTTP request in compose; a fastcgi_pass line
// gives the target.
func (o *Interop) ImportNginx() {
	base, err := o.link.current()
	if err != nil {
		o.fail(err)
		return
	}
	d := o.newImportDialog("Import nginx fastcgi_params",
		"fastcgi_param  SCRIPT_FILENAME  $document_root$fastcgi_script_name;\nfastcgi_param  QUERY_STRING     $query_string;\n…\n\nPaste a fastcgi_params file or a location block, or open a file.")
	d.resolve = widget.NewCheck("Resolve $variables from the HTTP request in compose", nil)
	d.resolve.SetChecked(true)
	apply := o.link.applier()
	update := func() {
		var from *session.HTTPInput
		if d.resolve.Checked && base.HTTP != nil {
			in := base
			if sub, err := apply(base); err == nil {
				in = sub
			}
			h := *in.HTTP
			if len(h.Body) == 0 && h.BodyFile == "" {
				h.Body = in.Body
			}
			from = &h
		}
		res, err := interop.ImportNginxParams(d.text.Text, from)
		d.show(nginxSummary(res, err))
		d.ok = err == nil && len(res.Params) > 0
		if d.ok {
			d.input = nginxImportInput(base, res)
		}
		setEnabled(d.apply, d.ok)
	}
	d.text.OnChanged = func(string) { update() }
	d.resolve.OnChanged = func(bool) { update() }
	o.nginx = d
	o.showImport(d, d.resolve, update)
}

// nginxSummary says what an nginx import found.
func nginxSummary(res interop.NginxImport, err error) (result, details string, imp widget.Importance) {
	if err != nil {
		return cleanError(err), "", widget.DangerImportance
	}
	if len(res.Params) == 0 {
		return "No fastcgi_param lines yet", strings.Join(res.Warnings, "\n"), widget.LowImportance
	}
	result = fmt.Sprintf("%d params", len(res.Params))
	if res.Target != "" {
		result += " · fastcgi_pass " + res.Target
	}
	imp = widget.SuccessImportance
	var lines []string
	if len(res.Unresolved) > 0 {
		imp = widget.WarningImportance
		noun := "unresolved variables"
		if len(res.Unresolved) == 1 {
			noun = "unresolved variable"
		}
		result += fmt.Sprintf(" · %d %s", len(res.Unresolved), noun)
		lines = append(lines, "Unresolved (kept as written): "+strings.Join(res.Unresolved, " "))
	}
	lines = append(lines, res.Warnings...)
	return result, strings.Join(lines, "\n"), imp
}

// nginxImportInput is base in Raw mode with the imported params, and the
// fastcgi_pass target when it is an address.
func nginxImportInput(base session.Input, res interop.NginxImport) session.Input {
	in := base
	in.Mode = session.ModeRaw
	in.Params = append([]session.RawParam(nil), res.Params...)
	if res.Target != "" && validTarget(res.Target) {
		in.Target = res.Target
	}
	return in
}

// ImportCGIFCGI opens the cgi-fcgi import: a shell command running
// cgi-fcgi becomes the target, the Raw params and the body.
func (o *Interop) ImportCGIFCGI() {
	base, err := o.link.current()
	if err != nil {
		o.fail(err)
		return
	}
	d := o.newImportDialog("Import cgi-fcgi command",
		"env -i REQUEST_METHOD=GET SCRIPT_FILENAME=/var/www/html/index.php \\\n  cgi-fcgi -bind -connect 127.0.0.1:9000\n\nPaste the command: nothing is run.")
	var res interop.CommandImport
	update := func() {
		var err error
		res, err = interop.ImportCGIFCGI(d.text.Text)
		d.ok = err == nil
		if err != nil {
			d.show(cleanError(err), "", widget.DangerImportance)
		} else {
			d.show(cgiSummary(res))
			d.input = cgiImportInput(base, res, res.Body)
		}
		setEnabled(d.apply, d.ok)
	}
	d.text.OnChanged = func(string) { update() }
	o.cgi = d
	o.showImport(d, nil, update)
	// A body redirected from a file is read when importing.
	d.apply.OnTapped = func() {
		if !d.ok {
			return
		}
		if res.BodyFile == "" {
			d.dlg.Hide()
			o.link.replace(d.input)
			return
		}
		path := res.BodyFile
		go func() {
			body, err := readLimited(path, maxExportBody)
			o.do(func() {
				if err != nil {
					o.fail(fmt.Errorf("the body file of the command: %w", err))
					return
				}
				d.dlg.Hide()
				o.link.replace(cgiImportInput(base, res, body))
			})
		}()
	}
}

// cgiSummary says what a cgi-fcgi import found.
func cgiSummary(res interop.CommandImport) (result, details string, imp widget.Importance) {
	result = fmt.Sprintf("target %s · %d params", orDash(res.Target), len(res.Params))
	switch {
	case res.BodyFile != "":
		result += " · body from " + res.BodyFile
	case len(res.Body) > 0:
		result += " · " + session.FormatBytes(int64(len(res.Body))) + " body"
	}
	lines := append([]string(nil), res.Warnings...)
	if !res.ClearEnv {
		lines = append(lines, "No env -i: cgi-fcgi would also pass the shell's whole environment; only the variables written are imported")
	}
	imp = widget.SuccessImportance
	if len(lines) > 0 {
		imp = widget.WarningImportance
	}
	return result, strings.Join(lines, "\n"), imp
}

// cgiImportInput is base in Raw mode with the command's target, params
// and body.
func cgiImportInput(base session.Input, res interop.CommandImport, body []byte) session.Input {
	in := base
	in.Mode = session.ModeRaw
	in.Params = append([]session.RawParam(nil), res.Params...)
	if res.Target != "" {
		in.Target = res.Target
	}
	in.Body = bytes.Clone(body)
	if in.Body == nil {
		in.Body = []byte{}
	}
	return in
}

func validTarget(t string) bool {
	_, _, err := fcgi.ParseAddr(t)
	return err == nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %s", path, session.FormatBytes(limit))
	}
	return b, nil
}

// newImportDialog builds the text area and result lines of an import.
func (o *Interop) newImportDialog(title, placeholder string) *importDialog {
	d := &importDialog{text: widget.NewMultiLineEntry()}
	d.text.TextStyle = fyne.TextStyle{Monospace: true}
	d.text.Wrapping = fyne.TextWrapOff
	d.text.PlaceHolder = placeholder
	d.result = &widget.Label{TextStyle: fyne.TextStyle{Bold: true}, Truncation: fyne.TextTruncateEllipsis}
	d.details = wrapLabel("", widget.WarningImportance)
	d.details.Selectable = true
	d.apply = widget.NewButtonWithIcon("Import into compose", theme.DownloadIcon(), nil)
	d.apply.Importance = widget.HighImportance
	d.title = title
	return d
}

func (d *importDialog) show(result, details string, imp widget.Importance) {
	d.result.Text, d.result.Importance = result, imp
	d.result.Refresh()
	d.details.SetText(details)
	d.details.Hidden = details == ""
}

// showImport lays out and shows an import dialog.
func (o *Interop) showImport(d *importDialog, option fyne.CanvasObject, update func()) {
	open := widget.NewButtonWithIcon("Open file…", theme.FolderOpenIcon(), func() { o.readInto(d.text) })
	open.Importance = widget.LowImportance
	pasteBtn := widget.NewButtonWithIcon("Paste", theme.ContentPasteIcon(), func() {
		if a := fyne.CurrentApp(); a != nil {
			d.text.SetText(a.Clipboard().Content())
		}
	})
	pasteBtn.Importance = widget.LowImportance
	bar := container.NewHBox(pasteBtn, open)
	if option != nil {
		bar.Add(option)
	}
	bottom := container.NewVBox(widget.NewSeparator(), d.result, withMinSize(container.NewVScroll(d.details), 0, 64))
	body := container.NewBorder(bar, bottom, nil, nil, d.text)
	if d.apply.OnTapped == nil {
		d.apply.OnTapped = func() {
			if d.ok {
				d.dlg.Hide()
				o.link.replace(d.input)
			}
		}
	}
	d.dlg = dialog.NewCustomWithoutButtons(d.title, withMinSize(body, 820, 480), o.win)
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.dlg.Hide() })
	d.dlg.SetButtons([]fyne.CanvasObject{cancel, d.apply})
	update()
	d.dlg.Show()
	o.win.Canvas().Focus(d.text)
}

// readInto reads a file the user picks into an entry, on a worker.
func (o *Interop) readInto(e *widget.Entry) {
	dialog.ShowFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			o.fail(err)
			return
		}
		if rc == nil {
			return
		}
		go func() {
			defer rc.Close()
			b, err := io.ReadAll(io.LimitReader(rc, maxImportFile+1))
			if err == nil && len(b) > maxImportFile {
				err = fmt.Errorf("%s is larger than %s", rc.URI().Name(), session.FormatBytes(maxImportFile))
			}
			o.do(func() {
				if err != nil {
					o.fail(err)
					return
				}
				e.SetText(string(b))
			})
		}()
	}, o.win)
}

// Exports.

// exportDialog is the open export dialog.
type exportDialog struct {
	dlg     *dialog.CustomDialog
	format  *widget.Select
	source  *widget.RadioGroup
	secrets *widget.Check
	warn    *widget.Label
	preview *widget.Label
	status  *widget.Label
	copyBtn *widget.Button
	saveBtn *widget.Button
	x       *session.Exchange // the exchange shown when the dialog opened
	in      session.Input     // the composed request when the dialog opened
	inErr   error
	applier func(session.Input) (session.Input, error)
	gen     int
	result  exportResult
}

// exportResult is an export made on a worker.
type exportResult struct {
	format  string
	text    []byte // the command, or the file's bytes (nil for an Exchange file)
	x       *session.Exchange
	secrets bool
	err     error
}

// Export opens the export dialog on format.
func (o *Interop) Export(format string) {
	d := &exportDialog{x: o.link.shown(), applier: o.link.applier()}
	d.in, d.inErr = o.link.current()
	d.format = widget.NewSelect([]string{FormatCGIFCGI, FormatSend, FormatSendHTTP, FormatHAR, FormatExchange}, nil)
	title := "nothing sent yet"
	if d.x != nil {
		title = exchangeTitle(d.x)
		if r := d.x.Response(); r != nil {
			title += fmt.Sprintf(" → %d", r.Status)
		}
	}
	d.source = widget.NewRadioGroup([]string{SourceExchange + " (" + title + ")", SourceComposed}, nil)
	d.source.Horizontal = true
	d.source.Required = true
	d.secrets = widget.NewCheck("Include secrets (Authorization, Cookie, tokens, passwords)", nil)
	d.warn = wrapLabel("", widget.WarningImportance)
	d.warn.Hide()
	d.preview = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Selectable: true}
	d.status = wrapLabel("", widget.LowImportance)
	d.copyBtn = widget.NewButtonWithIcon("Copy to clipboard", theme.ContentCopyIcon(), func() { o.copyExport(d) })
	d.saveBtn = widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() { o.saveExport(d) })
	d.saveBtn.Importance = widget.HighImportance

	d.format.OnChanged = func(string) { o.updateExport(d) }
	d.source.OnChanged = func(string) { o.updateExport(d) }
	d.secrets.OnChanged = func(bool) { o.updateExport(d) }

	form := container.New(layout.NewFormLayout(),
		secondary(mutedLabel("Format")), d.format,
		secondary(mutedLabel("Of")), d.source,
		widget.NewLabel(""), d.secrets)
	previewBox := panelBackground(container.NewScroll(container.NewPadded(d.preview)))
	body := container.NewBorder(container.NewVBox(form, d.warn), secondary(d.status), nil, nil, previewBox)
	d.dlg = dialog.NewCustomWithoutButtons("Export", withMinSize(body, 900, 560), o.win)
	closeBtn := widget.NewButtonWithIcon("Close", theme.CancelIcon(), func() { d.dlg.Hide(); o.export = nil })
	d.dlg.SetButtons([]fyne.CanvasObject{closeBtn, d.copyBtn, d.saveBtn})
	o.export = d

	if d.x != nil {
		d.source.SetSelected(d.source.Options[0])
	} else {
		d.source.SetSelected(SourceComposed)
	}
	d.format.SetSelected(format)
	d.dlg.Show()
}

// fromExchange reports whether the export is of the exchange shown.
func (d *exportDialog) fromExchange() bool { return d.source.Selected != SourceComposed }

// updateExport makes the export chosen on a worker and previews it.
func (o *Interop) updateExport(d *exportDialog) {
	if d.format.Selected == "" || d.source.Selected == "" {
		return
	}
	format, secrets := d.format.Selected, d.secrets.Checked
	fileOnly := format == FormatHAR || format == FormatExchange
	if fileOnly && !d.fromExchange() {
		if d.x == nil {
			d.status.SetText("")
			d.show(exportResult{err: errors.New("a " + format + " records an exchange: send the request (or open an Exchange file) first")})
			return
		}
		d.source.SetSelected(d.source.Options[0]) // calls updateExport again
		return
	}
	d.warn.Hidden = !secrets
	d.warn.SetText("The export holds secret values as they are: do not share it.")
	opts := session.ExportOptions{Secrets: secrets}
	x, in, inErr, apply := d.x, d.in, d.inErr, d.applier
	fromX := d.fromExchange()
	if fromX && x == nil {
		d.show(exportResult{err: errors.New("no exchange is shown: send the request, or export the composed request")})
		return
	}
	d.gen++
	gen := d.gen
	d.status.SetText("Preparing…")
	ctx := o.base
	go func() {
		res := exportResult{format: format, x: x, secrets: secrets}
		switch {
		case fromX:
			res.text, res.err = exportExchange(format, x, opts)
		case inErr != nil:
			res.err = inErr
		default:
			res.text, res.err = exportComposed(ctx, format, in, apply, opts)
		}
		o.do(func() {
			if gen == d.gen {
				d.show(res)
			}
		})
	}()
}

// exportExchange exports an exchange in format.
func exportExchange(format string, x *session.Exchange, opts session.ExportOptions) ([]byte, error) {
	switch format {
	case FormatCGIFCGI:
		s, err := interop.ExportCGIFCGI(interop.WireRequestOf(x), opts)
		return []byte(s), err
	case FormatSend:
		s, err := interop.ExportSendCommand(interop.WireRequestOf(x), opts)
		return []byte(s), err
	case FormatSendHTTP:
		in := x.Input
		in.Target = x.Target()
		s, err := interop.ExportSendHTTPCommand(in, opts)
		return []byte(s), err
	case FormatHAR:
		return interop.ExportHAR(x, opts)
	case FormatExchange:
		return nil, nil // written by SaveExchangeFile
	}
	return nil, fmt.Errorf("unknown export format %q", format)
}

// exportComposed exports the composed request (variables substituted) in
// format: the params it would send, as the preview shows them.
func exportComposed(ctx context.Context, format string, in session.Input, apply func(session.Input) (session.Input, error), opts session.ExportOptions) ([]byte, error) {
	in, err := apply(in)
	if err != nil {
		return nil, err
	}
	if format == FormatSendHTTP {
		if in.Mode != session.ModeHTTP {
			return nil, errors.New("the request is composed in Raw mode: export it as a " + FormatSend)
		}
		h := *in.HTTP
		if len(h.Body) == 0 && h.BodyFile == "" {
			h.Body = in.Body
		}
		in.HTTP = &h
		s, err := interop.ExportSendHTTPCommand(in, opts)
		return []byte(s), err
	}
	req, err := buildRequest(ctx, in)
	if err != nil {
		return nil, err
	}
	w := interop.WireRequest{Target: in.Target, Role: req.Role, KeepConn: req.KeepConn, Params: req.Params, DataFile: in.DataFile}
	for _, r := range []io.Reader{req.Body, req.Data} {
		if c, ok := r.(io.Closer); ok {
			defer c.Close()
		}
	}
	if req.Body != nil {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxExportBody+1))
		if err != nil {
			return nil, fmt.Errorf("reading the body: %w", err)
		}
		if len(b) > maxExportBody {
			return nil, fmt.Errorf("the body is larger than %s", session.FormatBytes(maxExportBody))
		}
		w.Body = b
	}
	switch format {
	case FormatCGIFCGI:
		s, err := interop.ExportCGIFCGI(w, opts)
		return []byte(s), err
	case FormatSend:
		s, err := interop.ExportSendCommand(w, opts)
		return []byte(s), err
	}
	return nil, fmt.Errorf("%s is not available for a request that was not sent", format)
}

// show previews an export.
func (d *exportDialog) show(res exportResult) {
	d.result = res
	setEnabled(d.copyBtn, res.err == nil && res.text != nil)
	setEnabled(d.saveBtn, res.err == nil)
	if res.err != nil {
		d.preview.SetText("")
		d.status.Importance = widget.DangerImportance
		d.status.SetText(cleanError(res.err))
		return
	}
	d.status.Importance = widget.LowImportance
	redacted := " Secret values are redacted."
	if res.secrets {
		redacted = ""
	}
	switch res.format {
	case FormatExchange:
		s := res.x.Sizes()
		d.preview.SetText(fmt.Sprintf("%s\n\n%d records · %s sent · %s received\nEverything the exchange holds, raw bytes included, as JSON: open it again with File ▸ Open Exchange file….",
			exchangeTitle(res.x), res.x.Len(), session.FormatBytes(s.Sent), session.FormatBytes(s.Received)))
		d.status.SetText("Save it to a file." + redacted)
	case FormatHAR:
		text := string(res.text)
		if len(text) > maxExportPreview {
			text = text[:maxExportPreview] + "\n…"
		}
		d.preview.SetText(text)
		d.status.SetText(fmt.Sprintf("HAR 1.2, %s: save it, or copy it.%s", session.FormatBytes(int64(len(res.text))), redacted))
	default:
		d.preview.SetText(string(res.text))
		d.status.SetText("A shell command: copy it, or save it as a script." + redacted)
	}
}

// Text returns the export previewed (the whole text; nil for an Exchange
// file) and its error.
func (d *exportDialog) Text() ([]byte, error) { return d.result.text, d.result.err }

// copyExport copies the export to the clipboard.
func (o *Interop) copyExport(d *exportDialog) {
	if d.result.err != nil || d.result.text == nil {
		return
	}
	if a := fyne.CurrentApp(); a != nil {
		a.Clipboard().SetContent(string(d.result.text))
	}
	d.status.SetText("Copied to the clipboard.")
	o.info("Copied the " + d.result.format + " to the clipboard")
}

// exportFileName proposes a file name for an export.
func exportFileName(res exportResult) string {
	base := "request"
	if res.x != nil {
		base = "exchange-" + res.x.Start().Local().Format("20060102-150405")
	}
	switch res.format {
	case FormatHAR:
		return base + ".har"
	case FormatExchange:
		return base + ".json"
	}
	return base + ".sh"
}

// saveExport asks where, then writes the export on a worker.
func (o *Interop) saveExport(d *exportDialog) {
	res := d.result
	if res.err != nil {
		return
	}
	fd := dialog.NewFileSave(func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			o.fail(err)
			return
		}
		if wc == nil {
			return
		}
		path := wc.URI().Path()
		d.status.SetText("Saving…")
		go func() {
			wc.Close() // the file is written atomically below
			err := writeExport(path, res)
			o.do(func() {
				if err != nil {
					o.fail(err)
					d.status.SetText("")
					return
				}
				d.status.SetText("Saved to " + shortPath(path))
				o.info("Saved " + shortPath(path))
			})
		}()
	}, o.win)
	fd.SetFileName(exportFileName(res))
	fd.Resize(fyne.NewSize(820, 560))
	fd.Show()
}

// writeExport writes an export to path.
func writeExport(path string, res exportResult) error {
	if res.format == FormatExchange {
		return session.SaveExchangeFile(path, res.x, session.ExportOptions{Secrets: res.secrets})
	}
	return session.WriteFileAtomic(path, res.text, 0o600)
}

// Exchange files.

// OpenExchangeFile asks for an Exchange file and shows it in the result
// panes, offline.
func (o *Interop) OpenExchangeFile() {
	fd := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			o.fail(err)
			return
		}
		if rc == nil {
			return
		}
		path := rc.URI().Path()
		go rc.Close()
		o.LoadExchangeFile(path)
	}, o.win)
	fd.SetFilter(storage.NewExtensionFileFilter([]string{".json"}))
	if o.lastOpen != "" {
		if u, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(o.lastOpen))); err == nil {
			fd.SetLocation(u)
		}
	}
	fd.Resize(fyne.NewSize(820, 560))
	fd.Show()
}

// LoadExchangeFile reads the Exchange file at path on a worker and shows it.
func (o *Interop) LoadExchangeFile(path string) {
	go func() {
		x, err := session.LoadExchangeFile(path)
		o.do(func() {
			if err != nil {
				o.fail(err)
				return
			}
			o.lastOpen = path
			o.link.show(x, "file "+filepath.Base(path))
		})
	}()
}

// Copying the exchange shown.

// Copy targets, as the Copy menu names them.
const (
	CopyParams  = "Params (NAME=VALUE lines)"
	CopyHeaders = "Response status and headers"
	CopyBody    = "Response body"
	CopyStderr  = "Stderr"
	CopyCGIFCGI = "As a cgi-fcgi command"
	CopySend    = "As a fcgiscope send command"
)

// CopyText returns what Copy puts on the clipboard for what, from x. The
// command copies redact secrets, as the exports do by default.
func CopyText(x *session.Exchange, what string) (string, error) {
	if x == nil {
		return "", errors.New("nothing to copy: send a request or open an exchange first")
	}
	var b strings.Builder
	switch what {
	case CopyParams:
		for _, p := range x.Params() {
			b.WriteString(p.Name + "=" + p.Value + "\n")
		}
	case CopyHeaders:
		r := x.Response()
		if r == nil {
			return "", errors.New("the exchange has no response")
		}
		fmt.Fprintf(&b, "Status: %d %s\n", r.Status, r.Reason)
		for _, h := range r.Headers {
			b.WriteString(h.Name + ": " + h.Value + "\n")
		}
	case CopyBody:
		r := x.Response()
		if r == nil {
			return "", errors.New("the exchange has no response")
		}
		b.Write(r.Body)
	case CopyStderr:
		b.Write(x.Stderr())
	case CopyCGIFCGI:
		return interop.ExportCGIFCGI(interop.WireRequestOf(x), session.ExportOptions{})
	case CopySend:
		return interop.ExportSendCommand(interop.WireRequestOf(x), session.ExportOptions{})
	default:
		return "", fmt.Errorf("unknown copy %q", what)
	}
	return b.String(), nil
}

// Copy puts what of the exchange shown on the clipboard.
func (o *Interop) Copy(what string) {
	text, err := CopyText(o.link.shown(), what)
	if err != nil {
		o.fail(err)
		return
	}
	if a := fyne.CurrentApp(); a != nil {
		a.Clipboard().SetContent(text)
	}
	o.info("Copied: " + strings.ToLower(what[:1]) + what[1:])
}

// CopyMenu returns the Copy button's menu items.
func (o *Interop) CopyMenu() []*fyne.MenuItem { return o.copyItems("") }

// copyItems returns the copy actions, each label after prefix.
func (o *Interop) copyItems(prefix string) []*fyne.MenuItem {
	var items []*fyne.MenuItem
	for _, what := range []string{CopyParams, CopyHeaders, CopyBody, CopyStderr, "", CopyCGIFCGI, CopySend} {
		if what == "" {
			items = append(items, fyne.NewMenuItemSeparator())
			continue
		}
		label := what
		if prefix != "" {
			label = prefix + strings.ToLower(what[:1]) + what[1:]
		}
		items = append(items, fyne.NewMenuItem(label, func() { o.Copy(what) }))
	}
	return items
}

// CopyButton returns a button that opens the Copy menu under itself.
func (o *Interop) CopyButton() *widget.Button {
	var b *widget.Button
	b = widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		c := fyne.CurrentApp().Driver().CanvasForObject(b)
		if c == nil {
			return
		}
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", o.CopyMenu()...), c, pos.AddXY(0, b.Size().Height))
	})
	b.Importance = widget.LowImportance
	return b
}
