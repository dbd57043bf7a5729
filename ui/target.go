// Target section: where requests go — an address with recent choices, the in-process demo backend, and a GET_VALUES probe.

package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi"
)

// probeTimeout bounds a GET_VALUES probe.
const probeTimeout = 5 * time.Second

// DemoLabel names the in-process demo backend in the window.
const DemoLabel = "Demo backend"

// getValuesFunc asks the backend at target for its FCGI_* values.
type getValuesFunc func(ctx context.Context, target string) ([]fcgi.Pair, error)

// TargetPanel is the Target section of the compose side.
type TargetPanel struct {
	prefs     fyne.Preferences
	demoAddr  string
	demoErr   error
	getValues getValuesFunc
	do        func(func())
	base      context.Context

	addr      *hookSelectEntry
	options   []string // the drop-down's choices
	valuesBox fyne.CanvasObject
	info      *widget.Label
	demo      *widget.Button
	probe     *widget.Button
	values    *widget.Label

	probeID     int // counts probes, so that a late answer to an old one is dropped
	probeCancel context.CancelFunc

	content fyne.CanvasObject
}

// newTargetPanel builds the section. demoAddr is the demo backend's address
// ("" when it is not running, demoErr saying why).
func newTargetPanel(base context.Context, keys *keyHooks, prefs fyne.Preferences, demoAddr string, demoErr error,
	getValues getValuesFunc, do func(func())) *TargetPanel {
	p := &TargetPanel{prefs: prefs, demoAddr: demoAddr, demoErr: demoErr, getValues: getValues, do: do, base: base}
	p.addr = newHookSelectEntry(keys, nil)
	p.addr.TextStyle = fyne.TextStyle{Monospace: true}
	p.addr.PlaceHolder = "127.0.0.1:9000 or unix:/run/php/php-fpm.sock"
	p.addr.OnChanged = func(string) { p.describe() }
	p.info = mutedLine("")
	p.values = &widget.Label{TextStyle: fyne.TextStyle{Monospace: true}, Truncation: fyne.TextTruncateEllipsis, Importance: widget.LowImportance}
	p.demo = widget.NewButtonWithIcon("Demo", theme.ComputerIcon(), p.UseDemo)
	if demoAddr == "" {
		p.demo.Disable()
	}
	p.probe = widget.NewButtonWithIcon("GET_VALUES", theme.SearchIcon(), p.Probe)
	p.refreshOptions()

	row := container.NewBorder(nil, nil, nil, container.NewHBox(p.demo, p.probe), p.addr)
	p.valuesBox = secondary(p.values)
	p.content = container.NewVBox(sectionHeader(sectionTitle("Target")), row, secondary(p.info), p.valuesBox)
	p.valuesBox.Hide()
	p.describe()
	return p
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

// Info returns the line under the address (what it is, or what is wrong with it).
func (p *TargetPanel) Info() string { return p.info.Text }

// Values returns the GET_VALUES answer shown, "" before any.
func (p *TargetPanel) Values() string { return p.values.Text }

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
	p.info.Text, p.info.Importance = text, imp
	p.info.Refresh()
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
	p.values.Text, p.values.Importance = text, imp
	p.valuesBox.Show()
	p.values.Refresh()
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
