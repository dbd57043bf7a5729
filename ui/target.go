// Target section: where requests go — an address with recent choices, the in-process demo backend, a GET_VALUES probe, and the target's connection limit.

package ui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
	"fcgiscope/ui/view"
)

// probeTimeout bounds a GET_VALUES probe.
const probeTimeout = 5 * time.Second

// DemoLabel names the in-process demo backend in the window.
const DemoLabel = "Demo backend"

// PrefTargetMaxConns stores the connection limit of each target that has
// one, as "N target" lines, most recently set first.
const PrefTargetMaxConns = "targets.maxconns"

// maxConnsTargets bounds PrefTargetMaxConns.
const maxConnsTargets = 32

// The connection limit's explanation, beside the field. For php-fpm, which
// does not answer FCGI_MAX_CONNS, the limit to type is pm.max_children:
// connections beyond its workers would wait unserved in its listen queue.
const maxConnsHelp = "open at once; others wait in line. For php-fpm: pm.max_children."

// getValuesFunc asks the backend at target for its FCGI_* values.
type getValuesFunc func(ctx context.Context, target string) ([]fcgi.Pair, error)

// setMaxConnsFunc sets the connection limit of target: n > 0 connections,
// n < 0 none of its own (see session.Pool.SetMaxConns).
type setMaxConnsFunc func(target string, n int) error

// TargetPanel is the Target section of the compose side.
type TargetPanel struct {
	prefs     fyne.Preferences
	demoAddr  string
	demoErr   error
	getValues getValuesFunc
	setLimit  setMaxConnsFunc
	do        func(func())
	base      context.Context

	addr      *hookSelectEntry
	maxConns  *hookEntry
	limitHelp *view.TextLine
	showing   bool     // the address changed: maxConns is being filled, not typed in
	demoLimit int      // the demo backend's limit, for this launch only
	options   []string // the drop-down's choices
	// The line under the address says what the address is (infoText), or,
	// after a GET_VALUES probe of it, the answer (values): one line, so
	// that the answer moves nothing under it.
	line      *view.TextLine
	infoText  string
	infoImp   widget.Importance
	values    string
	valuesImp widget.Importance
	demo      *widget.Button
	probe     *widget.Button

	probeID     int // counts probes, so that a late answer to an old one is dropped
	probeCancel context.CancelFunc

	content fyne.CanvasObject
}

// newTargetPanel builds the section. demoAddr is the demo backend's address
// ("" when it is not running, demoErr saying why). setLimit applies a
// target's connection limit; the limits stored in prefs are applied at once.
func newTargetPanel(base context.Context, keys *keyHooks, prefs fyne.Preferences, demoAddr string, demoErr error,
	getValues getValuesFunc, setLimit setMaxConnsFunc, do func(func())) *TargetPanel {
	p := &TargetPanel{prefs: prefs, demoAddr: demoAddr, demoErr: demoErr, getValues: getValues, setLimit: setLimit, do: do, base: base}
	for target, n := range storedMaxConns(prefs) {
		_ = setLimit(target, n) // an address that no longer parses is left alone
	}
	p.addr = newHookSelectEntry(keys, nil)
	p.addr.TextStyle = fyne.TextStyle{Monospace: true}
	p.addr.PlaceHolder = "127.0.0.1:9000 or unix:/run/php/php-fpm.sock"
	p.addr.OnChanged = func(string) { p.describe(); p.showMaxConns() }
	p.maxConns = newMonoEntry(keys, "no limit")
	p.maxConns.OnChanged = p.onMaxConns
	p.limitHelp = view.NewTextLine(maxConnsHelp)
	p.limitHelp.Importance = widget.LowImportance
	p.line = view.NewTextLine("")
	p.demo = widget.NewButtonWithIcon("Demo", theme.ComputerIcon(), p.UseDemo)
	if demoAddr == "" {
		p.demo.Disable()
	}
	p.probe = widget.NewButtonWithIcon("GET_VALUES", theme.SearchIcon(), p.Probe)
	p.probe.Importance = widget.LowImportance
	p.refreshOptions()

	// The address gets the row's width; GET_VALUES asks about it on the
	// line that says what it is, where the answer shows.
	row := container.NewBorder(nil, nil, nil, p.demo, p.addr)
	lineRow := container.NewBorder(nil, nil, nil, p.probe, p.line)
	limitRow := container.NewBorder(nil, nil, container.NewHBox(newMutedText("Max connections"),
		withMinSize(p.maxConns, 96, 0)), nil, p.limitHelp)
	p.content = container.NewVBox(row, lineRow, limitRow)
	p.describe()
	p.showMaxConns()
	return p
}

// MaxConns returns the connection limit typed for the target: 0 for none,
// -1 when the text is not a limit.
func (p *TargetPanel) MaxConns() int {
	n, ok := parseMaxConns(p.maxConns.Text)
	if !ok {
		return -1
	}
	return n
}

// SetMaxConns types a connection limit for the target ("" for none).
func (p *TargetPanel) SetMaxConns(text string) { p.maxConns.SetText(text) }

// LimitHelp returns the line under the connection limit: what it does, or
// what is wrong with what was typed.
func (p *TargetPanel) LimitHelp() string { return p.limitHelp.Text }

// parseMaxConns reads a connection limit: empty or 0 for none, else a
// positive whole number.
func parseMaxConns(text string) (int, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return 0, true
	}
	n, err := strconv.Atoi(text)
	return n, err == nil && n >= 0
}

// showMaxConns fills the limit field with the stored limit of the address
// now typed.
func (p *TargetPanel) showMaxConns() {
	n := storedMaxConns(p.prefs)[p.Address()]
	if p.IsDemo() {
		n = p.demoLimit
	}
	text := ""
	if n > 0 {
		text = strconv.Itoa(n)
	}
	p.showing = true
	p.maxConns.SetText(text)
	p.showing = false
	p.setLimitHelp(maxConnsHelp, widget.LowImportance)
}

// onMaxConns applies and stores a limit typed for the target. The demo
// backend's limit is applied but not stored: its port changes every launch.
func (p *TargetPanel) onMaxConns(text string) {
	if p.showing {
		return
	}
	n, ok := parseMaxConns(text)
	if !ok {
		p.setLimitHelp("Type a whole number, or nothing for no limit", widget.DangerImportance)
		return
	}
	addr := p.Address()
	if _, _, err := fcgi.ParseAddr(addr); err != nil {
		p.setLimitHelp("Type the target's address first", widget.DangerImportance)
		return
	}
	limit := n
	if n == 0 {
		limit = -1 // the pool's default: no limit in the window
	}
	if err := p.setLimit(addr, limit); err != nil {
		p.setLimitHelp(strings.TrimPrefix(err.Error(), "session: "), widget.DangerImportance)
		return
	}
	if p.IsDemo() {
		p.demoLimit = n
	} else {
		storeMaxConns(p.prefs, addr, n)
	}
	p.setLimitHelp(maxConnsHelp, widget.LowImportance)
}

func (p *TargetPanel) setLimitHelp(text string, imp widget.Importance) {
	if p.limitHelp.Text == text && p.limitHelp.Importance == imp {
		return
	}
	p.limitHelp.Text, p.limitHelp.Importance = text, imp
	p.limitHelp.Refresh()
}

// showLine shows the GET_VALUES answer for the address if there is one,
// else what the address is.
func (p *TargetPanel) showLine() {
	text, imp, style := p.infoText, p.infoImp, fyne.TextStyle{}
	switch {
	case p.values != "" && p.valuesImp == widget.MediumImportance:
		text, imp, style = "GET_VALUES answered: "+p.values, p.valuesImp, fyne.TextStyle{Monospace: true}
	case p.values != "":
		text, imp = p.values, p.valuesImp
	}
	p.line.Text, p.line.Importance, p.line.TextStyle = text, imp, style
	p.line.Refresh()
}

// Line returns the line under the address as shown.
func (p *TargetPanel) Line() *view.TextLine { return p.line }

// storedMaxConns returns the stored connection limits by target.
func storedMaxConns(prefs fyne.Preferences) map[string]int {
	out := make(map[string]int)
	for _, line := range prefs.StringList(PrefTargetMaxConns) {
		num, target, ok := strings.Cut(line, " ")
		n, err := strconv.Atoi(num)
		if target = strings.TrimSpace(target); ok && err == nil && n > 0 && target != "" {
			if _, seen := out[target]; !seen {
				out[target] = n
			}
		}
	}
	return out
}

// storeMaxConns stores target's connection limit first (n == 0 removes
// it), keeping at most maxConnsTargets.
func storeMaxConns(prefs fyne.Preferences, target string, n int) {
	var lines []string
	if n > 0 {
		lines = append(lines, strconv.Itoa(n)+" "+target)
	}
	for _, line := range prefs.StringList(PrefTargetMaxConns) {
		if _, t, _ := strings.Cut(line, " "); strings.TrimSpace(t) != target && len(lines) < maxConnsTargets {
			lines = append(lines, line)
		}
	}
	prefs.SetStringList(PrefTargetMaxConns, lines)
}

// Content returns the section's canvas object.
func (p *TargetPanel) Content() fyne.CanvasObject { return p.content }

// Address returns the address typed, trimmed.
func (p *TargetPanel) Address() string { return strings.TrimSpace(p.addr.Text) }

// SetAddress sets the address.
func (p *TargetPanel) SetAddress(addr string) { p.addr.SetText(addr) }

// UseDemo selects the demo backend.
func (p *TargetPanel) UseDemo() {
	if p.demoAddr != "" {
		p.addr.SetText(p.demoAddr)
	}
}

// IsDemo reports whether the demo backend is selected.
func (p *TargetPanel) IsDemo() bool { return p.demoAddr != "" && p.Address() == p.demoAddr }

// Info returns what the address is, or what is wrong with it.
func (p *TargetPanel) Info() string { return p.infoText }

// Values returns the GET_VALUES answer shown for the address, "" before
// any (or after the address changed).
func (p *TargetPanel) Values() string { return p.values }

// Remember adds the address to the recent targets (not the demo's, whose
// port changes at every launch).
func (p *TargetPanel) Remember(addr string) {
	rememberTarget(p.prefs, addr, p.demoAddr)
	p.refreshOptions()
}

// refreshOptions fills the drop-down: the demo backend, then recent targets.
func (p *TargetPanel) refreshOptions() {
	var opts []string
	if p.demoAddr != "" {
		opts = append(opts, p.demoAddr)
	}
	for _, t := range recentTargets(p.prefs) {
		if !slices.Contains(opts, t) {
			opts = append(opts, t)
		}
	}
	p.options = opts
	p.addr.SetOptions(opts)
}

// Options returns the drop-down's choices: the demo backend, then the
// recent targets.
func (p *TargetPanel) Options() []string { return p.options }

// describe says under the address what it is, or why it cannot be used.
func (p *TargetPanel) describe() {
	addr := p.Address()
	imp := widget.LowImportance
	var text string
	switch {
	case addr == "" && p.demoErr != nil:
		text, imp = "The demo backend did not start: "+p.demoErr.Error(), widget.DangerImportance
	case addr == "":
		text = "Type a FastCGI address: host:port or unix:/path/to.sock"
	case p.IsDemo():
		text = "In-process demo backend on loopback: try /echo, /stderr, /slow, /large, /image, /html"
	default:
		network, address, err := fcgi.ParseAddr(addr)
		switch {
		case err != nil:
			text, imp = strings.TrimPrefix(err.Error(), "fcgi: "), widget.DangerImportance
		case network == "unix":
			text = "Unix socket " + address
		default:
			text = strings.ToUpper(network) + " " + address
		}
	}
	p.infoText, p.infoImp = text, imp
	p.values = "" // the answer was the address before's
	p.showLine()
}

// Probe sends GET_VALUES to the target and shows the answer. The network
// work runs on its own goroutine; the answer comes back through do.
func (p *TargetPanel) Probe() {
	addr := p.Address()
	if _, _, err := fcgi.ParseAddr(addr); err != nil {
		p.showValues(strings.TrimPrefix(err.Error(), "fcgi: "), widget.DangerImportance)
		return
	}
	p.CancelProbe()
	p.probeID++
	id := p.probeID
	ctx, cancel := context.WithTimeout(p.base, probeTimeout)
	p.probeCancel = cancel
	p.probe.Disable()
	p.showValues("GET_VALUES: asking "+addr+"…", widget.LowImportance)
	get := p.getValues
	go func() {
		pairs, err := get(ctx, addr)
		cancel()
		p.do(func() {
			if id != p.probeID {
				return
			}
			p.probeCancel = nil
			p.probe.Enable()
			if err != nil {
				p.showValues("GET_VALUES failed: "+err.Error(), widget.DangerImportance)
				return
			}
			p.showValues(formatValues(pairs), widget.MediumImportance)
		})
	}()
}

// CancelProbe stops a running probe.
func (p *TargetPanel) CancelProbe() {
	if p.probeCancel != nil {
		p.probeCancel()
		p.probeCancel = nil
		p.probeID++
		p.probe.Enable()
	}
}

func (p *TargetPanel) showValues(text string, imp widget.Importance) {
	p.values, p.valuesImp = text, imp
	p.showLine()
}

// formatValues writes a GET_VALUES_RESULT: the three spec names first
// (without their FCGI_ prefix, "–" when not answered), then any others.
func formatValues(pairs []fcgi.Pair) string {
	get := func(name string) string {
		for _, p := range pairs {
			if p.Name == name {
				return p.Value
			}
		}
		return "–"
	}
	known := []string{fcgi.ValueMaxConns, fcgi.ValueMaxReqs, fcgi.ValueMpxsConns}
	parts := make([]string, 0, len(pairs)+3)
	for _, n := range known {
		parts = append(parts, fmt.Sprintf("%s %s", strings.TrimPrefix(n, "FCGI_"), get(n)))
	}
	for _, p := range pairs {
		if !slices.Contains(known, p.Name) {
			parts = append(parts, fmt.Sprintf("%s %s", p.Name, p.Value))
		}
	}
	return strings.Join(parts, " · ")
}

// setMaxConns applies a target's connection limit to the engine's pool. It
// runs on the UI goroutine: it waits for no request, only closes the idle
// connections of a client the new limit replaces.
func (in *Inspector) setMaxConns(target string, n int) error {
	return in.deps.Engine.Pool().SetMaxConns(target, n)
}
