// Open capture: a pcap or pcapng file read off the UI goroutine, with progress and cancel, its FastCGI exchanges put in the Live list with the capture's timestamps.

package ui

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/session"
	"fcgiscope/session/tap"
)

// captureRun is a capture file being read.
type captureRun struct {
	path     string
	cancel   context.CancelFunc
	done     chan struct{}
	progress atomic.Pointer[tap.CaptureProgress]
	stopped  bool // Cancel was pressed (UI goroutine)
}

// captureDialog is the Open capture dialog.
type captureDialog struct {
	dlg      dialog.Dialog
	path     *widget.Entry
	port     *widget.Entry
	allPorts *widget.Check
	bar      *widget.ProgressBar
	status   *widget.Label
	openBtn  *widget.Button
	closeBtn *widget.Button
}

// CaptureDialog returns the open capture dialog's fields (for tests): the
// file, the port, all ports, Open, Cancel/Close, and the status line.
func (p *LivePanel) CaptureDialog() (path, port *widget.Entry, all *widget.Check, open, close *widget.Button, status *widget.Label) {
	d := p.capDlg
	if d == nil {
		return
	}
	return d.path, d.port, d.allPorts, d.openBtn, d.closeBtn, d.status
}

// Reading reports whether a capture is being read.
func (p *LivePanel) Reading() bool { return p.capture != nil }

// ShowOpenCapture opens the Open capture dialog: a file, the
// application's port (or all ports), read with a progress bar.
func (p *LivePanel) ShowOpenCapture() {
	if p.capDlg != nil {
		p.capDlg.dlg.Show()
		return
	}
	d := &captureDialog{}
	d.path = widget.NewEntry()
	d.path.PlaceHolder = "/path/to/capture.pcapng"
	browse := widget.NewButtonWithIcon("Browse…", theme.FolderOpenIcon(), func() { p.browseCapture(d) })
	d.port = widget.NewEntry()
	d.port.SetText(strconv.Itoa(p.prefs.IntWithFallback(PrefLivePort, tap.DefaultPort)))
	d.port.Validator = func(s string) error { _, err := parsePort(s); return err }
	d.allPorts = widget.NewCheck("All ports (keep the streams that start like FastCGI)", func(on bool) { setEnabled(d.port, !on) })
	d.bar = widget.NewProgressBar()
	d.bar.Hide()
	d.status = wrapLabel("pcap or pcapng (tcpdump -w, Wireshark, dumpcap) with FastCGI over TCP", widget.LowImportance)
	d.openBtn = widget.NewButtonWithIcon("Open", theme.FileIcon(), func() { p.openFromDialog(d) })
	d.openBtn.Importance = widget.HighImportance
	d.closeBtn = widget.NewButtonWithIcon("Close", theme.CancelIcon(), func() {
		if p.capture != nil {
			p.CancelCapture()
			return
		}
		d.dlg.Hide()
	})
	form := container.New(layout.NewFormLayout(),
		widget.NewLabel("File"), container.NewBorder(nil, nil, nil, browse, d.path),
		widget.NewLabel("Port"), container.NewBorder(nil, nil, nil, nil, d.port),
		layout.NewSpacer(), d.allPorts)
	buttons := container.NewHBox(layout.NewSpacer(), d.closeBtn, d.openBtn)
	content := container.NewVBox(form, keepRoom(d.bar), d.status, buttons) // the bar keeps its room: the dialog does not jump
	d.dlg = dialog.NewCustomWithoutButtons("Open capture", withMinSize(content, 560, 0), p.win)
	p.capDlg = d
	d.dlg.Show()
	p.win.Canvas().Focus(d.path)
}

// parsePort reads a TCP port.
func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 65535 {
		return 0, errors.New("a TCP port, 1 to 65535")
	}
	return n, nil
}

// browseCapture asks for the file with Fyne's file dialog.
func (p *LivePanel) browseCapture(d *captureDialog) {
	fd := dialog.NewFileOpen(func(rc fyne.URIReadCloser, err error) {
		if err != nil || rc == nil {
			return
		}
		path := rc.URI().Path()
		go rc.Close()
		d.path.SetText(path)
	}, p.win)
	fd.SetFilter(storage.NewExtensionFileFilter([]string{".pcap", ".pcapng", ".cap", ".dmp"}))
	if cur := strings.TrimSpace(d.path.Text); cur != "" {
		if u, err := storage.ListerForURI(storage.NewFileURI(filepath.Dir(cur))); err == nil {
			fd.SetLocation(u)
		}
	}
	fd.Resize(fyne.NewSize(820, 560))
	fd.Show()
}

// openFromDialog starts reading what the dialog names.
func (p *LivePanel) openFromDialog(d *captureDialog) {
	path := strings.TrimSpace(d.path.Text)
	if path == "" {
		d.status.Text, d.status.Importance = "Give the capture file to read", widget.DangerImportance
		d.status.Refresh()
		return
	}
	port, err := parsePort(d.port.Text)
	if err != nil && !d.allPorts.Checked {
		d.status.Text, d.status.Importance = "Port: "+err.Error(), widget.DangerImportance
		d.status.Refresh()
		return
	}
	if err == nil {
		p.prefs.SetInt(PrefLivePort, port)
	}
	p.OpenCapture(path, tap.CaptureOptions{Port: port, AllPorts: d.allPorts.Checked})
}

// OpenCapture reads the capture at path off the UI goroutine, its
// exchanges into the list as they complete, the progress in the dialog
// (when open) and on the window's status line.
func (p *LivePanel) OpenCapture(path string, opts tap.CaptureOptions) {
	if p.capture != nil {
		return
	}
	ctx, cancel := context.WithCancel(p.ctx)
	c := &captureRun{path: path, cancel: cancel, done: make(chan struct{})}
	p.capture = c
	opts.Progress = func(pr tap.CaptureProgress) { c.progress.Store(&pr) }
	if d := p.capDlg; d != nil {
		d.openBtn.Disable()
		d.closeBtn.SetText("Cancel")
		d.bar.SetValue(0)
		d.bar.Show()
		d.status.Text, d.status.Importance = "Reading "+filepath.Base(path)+"…", widget.MediumImportance
		d.status.Refresh()
	}
	p.link.info("Reading "+shortPath(path)+"…", widget.MediumImportance)
	origin := "capture " + filepath.Base(path)
	go func() {
		defer close(c.done)
		defer cancel()
		tick := time.NewTicker(liveFlush)
		defer tick.Stop()
		type result struct {
			st  tap.CaptureStats
			err error
		}
		res := make(chan result, 1)
		go func() {
			st, err := tap.ReadCaptureFile(ctx, path, opts, func(x *session.Exchange) {
				p.inbox.add(&liveItem{x: x, sum: tap.Summarize(x), origin: origin})
			})
			res <- result{st, err}
		}()
		for {
			select {
			case <-tick.C:
				p.do(func() { p.captureTick(c) })
			case r := <-res:
				p.do(func() { p.captureDone(c, r.st, r.err, opts) })
				return
			}
		}
	}()
}

// CancelCapture stops reading the capture; what was read stays listed.
func (p *LivePanel) CancelCapture() {
	if c := p.capture; c != nil && !c.stopped {
		c.stopped = true
		c.cancel()
	}
}

func (p *LivePanel) captureTick(c *captureRun) {
	p.flush()
	if p.capture != c {
		return
	}
	if pr := c.progress.Load(); pr != nil {
		text := fmt.Sprintf("Reading %s: %s of %s, %d exchanges", filepath.Base(c.path),
			session.FormatBytes(pr.Read), session.FormatBytes(pr.Size), pr.Exchanges)
		if d := p.capDlg; d != nil {
			d.bar.SetValue(pr.Fraction())
			d.status.SetText(text)
		}
	}
}

// captureDone says how reading ended: the counts, or the error (what was
// read before it is listed).
func (p *LivePanel) captureDone(c *captureRun, st tap.CaptureStats, err error, opts tap.CaptureOptions) {
	p.flush()
	if p.capture != c {
		return
	}
	p.capture = nil
	name := filepath.Base(c.path)
	var text string
	imp := widget.SuccessImportance
	where := fmt.Sprintf("on port %d", opts.Port)
	if opts.AllPorts {
		where = "on any port"
	}
	switch {
	case c.stopped:
		text, imp = fmt.Sprintf("Stopped reading %s: %d exchanges read are listed", name, st.Exchanges), widget.WarningImportance
		if st.Exchanges > maxLive {
			text = fmt.Sprintf("Stopped reading %s: %d exchanges read, the list keeps the newest %d", name, st.Exchanges, maxLive)
		}
	case err != nil:
		var ce *tap.CaptureError
		msg := tapError(err)
		damaged := errors.Is(err, tap.ErrCut) || errors.Is(err, tap.ErrCorrupt)
		if errors.As(err, &ce) && damaged && ce.Packet > 0 {
			// ce.Err says what and at which byte: "the file is cut short: it ends at byte …".
			text, imp = fmt.Sprintf("%s is damaged after packet %d: %s — the %d exchanges read before are listed", name, ce.Packet,
				session.CleanError(ce.Err), st.Exchanges), widget.DangerImportance
			break
		}
		if errors.As(err, &ce) && ce.Packet == 0 {
			msg = fmt.Sprintf("%s: not a capture that can be read: %s", name, session.CleanError(ce.Err))
		} else if errors.As(err, &ce) {
			msg = fmt.Sprintf("%s is damaged after packet %d (byte %d): %s", name, ce.Packet, ce.Offset, session.CleanError(ce.Err))
		}
		text, imp = fmt.Sprintf("Cannot read %s — %d exchanges read before are listed", msg, st.Exchanges), widget.DangerImportance
	case st.Exchanges == 0:
		text, imp = fmt.Sprintf("No FastCGI found %s in %s (%d packets, %d ignored)", where, name, st.Packets, st.Ignored), widget.WarningImportance
		if !opts.AllPorts {
			text += ": try another port, or All ports"
		}
	default:
		text = fmt.Sprintf("Read %d exchanges from %s (%d packets, %d FastCGI connections)", st.Exchanges, name, st.Packets, st.Streams)
		if st.Missing > 0 || st.Undecoded > 0 {
			text += fmt.Sprintf("; %s missing from the capture, %s undecodable", session.FormatBytes(st.Missing), session.FormatBytes(st.Undecoded))
			imp = widget.WarningImportance
		}
		if st.Exchanges > maxLive {
			text += fmt.Sprintf("; the list keeps the newest %d", maxLive)
			imp = widget.WarningImportance
		}
	}
	p.link.info(text, imp)
	if d := p.capDlg; d != nil {
		d.openBtn.Enable()
		d.closeBtn.SetText("Close")
		d.bar.Hide()
		d.status.Text, d.status.Importance = text, imp
		d.status.Refresh()
		if imp == widget.SuccessImportance {
			d.dlg.Hide()
		}
	}
}
