// Tests of the php-fpm helpers: the ping and status presets against real php-fpm, and its status JSON as tables.

package ui

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/doctor"
)

// sendInput sends a composed input as the window does and returns the
// finished exchange.
func sendInput(t *testing.T, ctx context.Context, e *session.Engine, in session.Input) *session.Exchange {
	t.Helper()
	req, err := buildRequest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	x := session.NewExchange(in)
	if err := e.Send(ctx, in.Target, req, x); err != nil {
		t.Fatalf("send to %s: %v", in.Target, err)
	}
	return x
}

// labelTexts returns the texts of the labels laid out under o.
func labelTexts(o fyne.CanvasObject) []string {
	var out []string
	for _, obj := range test.LaidOutObjects(o) {
		if l, ok := obj.(*widget.Label); ok && l.Visible() && l.Text != "" {
			out = append(out, l.Text)
		}
	}
	return out
}

func TestFPMPresetsAndStatusTableAgainstPHPFPM(t *testing.T) {
	k := newTeachKit(t)
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{MaxChildren: 3})

	ping := sendInput(t, k.ctx, k.engine, doctor.PingInput(fpm.Pass(), fpm.DocRoot, ""))
	if r := ping.Response(); r == nil || r.Status != 200 || strings.TrimSpace(string(r.Body)) != "pong" {
		t.Fatalf("ping: %+v, stderr %q", r, ping.Stderr())
	}

	in := doctor.StatusInput(fpm.Pass(), fpm.DocRoot, "")
	if v := rawParam(in, "SCRIPT_FILENAME"); v != fpm.DocRoot+"/status" {
		t.Fatalf("SCRIPT_FILENAME %q", v)
	}
	// pm = static forks its 3 workers at start, but on a busy machine the
	// scoreboard may list fewer for a moment: ask until it lists all 3.
	var (
		x    *session.Exchange
		resp *session.HTTPResponse
		st   *doctor.StatusPage
	)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		x = sendInput(t, k.ctx, k.engine, in)
		resp = x.Response()
		if !doctor.IsStatusPage(resp) {
			t.Fatalf("not recognised as php-fpm's status: %+v\n%s", resp, x.Stdout())
		}
		var err error
		if st, err = doctor.ParseStatusPage(resp.Body); err != nil {
			t.Fatal(err)
		}
		if n, _ := st.Field("total processes"); n == "3" || time.Now().After(deadline) {
			break
		}
	}
	if pool, _ := st.Field("pool"); pool != "fcgitest" {
		t.Errorf("pool %q", pool)
	}
	if st.Pool[0].Name != "pool" || st.Pool[1].Name != "process manager" {
		t.Errorf("fields out of php-fpm's order: %+v", st.Pool[:2])
	}
	if n, _ := st.Field("total processes"); n != "3" || len(st.Processes) != 3 {
		t.Errorf("total processes %q, %d rows", n, len(st.Processes))
	}
	pid := slices.Index(st.Columns, "pid")
	uri := slices.Index(st.Columns, "request uri")
	if pid != 0 || uri < 0 || !slices.Contains(st.Columns, "state") {
		t.Fatalf("columns %q", st.Columns)
	}
	seenSelf := false
	for _, row := range st.Processes {
		if _, err := strconv.Atoi(row[pid]); err != nil {
			t.Errorf("pid %q", row[pid])
		}
		seenSelf = seenSelf || row[uri] == "/status?full&json"
	}
	if !seenSelf {
		t.Errorf("no worker is serving the status request itself: %q", st.Processes)
	}
	if since, _ := st.Field("start since"); !strings.HasSuffix(since, "s") {
		t.Errorf("start since %q, want a duration", since)
	}

	// The view shows both tables.
	v := NewFPMStatusView(st)
	w := test.NewWindow(v.Content())
	w.Resize(fyne.NewSize(1200, 600))
	defer w.Close()
	shown := strings.Join(append(labelTexts(w.Canvas().Content()), tableTexts(v.pool)+tableTexts(v.procs)), "\n")
	for _, want := range []string{"Pool fcgitest · static", "Processes (3)", "accepted conn", "listen queue",
		"pid", "request uri", st.Processes[0][pid], "/status?full&json"} {
		if !strings.Contains(shown, want) {
			t.Errorf("the status view does not show %q; it shows:\n%s", want, shown)
		}
	}

	// The dialog opens on a window with it.
	win := test.NewWindow(widget.NewLabel("main"))
	win.Resize(fyne.NewSize(1600, 1000))
	defer win.Close()
	ShowFPMStatus(win, resp.Body)
	if !strings.Contains(strings.Join(labelTexts(win.Canvas().Overlays().Top()), "\n"), "Processes (3)") {
		t.Error("the status dialog does not show the processes")
	}
}

// tableTexts fills a cell of each of t's rows and columns as the table
// does when they come on screen, and returns the texts, headers first.
func tableTexts(t *widget.Table) string {
	var b strings.Builder
	rows, cols := t.Length()
	if t.ShowHeaderRow {
		for c := range cols {
			h := t.CreateHeader()
			t.UpdateHeader(widget.TableCellID{Row: -1, Col: c}, h)
			b.WriteString(h.(*widget.Label).Text + "\t")
		}
		b.WriteString("\n")
	}
	for r := range rows {
		for c := range cols {
			cell := t.CreateCell()
			t.UpdateCell(widget.TableCellID{Row: r, Col: c}, cell)
			b.WriteString(cell.(*widget.Label).Text + "\t")
		}
		b.WriteString("\n")
	}
	return b.String()
}

func rawParam(in session.Input, name string) string {
	for _, p := range in.Params {
		if p.Name == name && p.Enabled {
			return p.Value
		}
	}
	return ""
}

func TestLearnPanelPHPFPMHelpers(t *testing.T) {
	w := newLearnWindow(t)
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	l := w.teach.Learn
	l.ShowSection(LearnFPM)
	w.in.Target().SetAddress(fpm.Pass())
	l.fpmDocRoot.SetText(fpm.DocRoot)

	// The status table needs the status page first.
	l.ShowStatus()
	if !strings.Contains(l.FPMState(), "not php-fpm's status page") {
		t.Errorf("status table without a status page: %q", l.FPMState())
	}

	l.LoadPing()
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the ping", teachWait, func() bool { return !w.in.Busy() })
	if r := w.in.Exchange().Response(); r == nil || strings.TrimSpace(string(r.Body)) != "pong" {
		t.Fatalf("ping through the window: %+v (%s)", r, w.in.State())
	}

	l.LoadStatus()
	if in, _ := w.in.Compose().Snapshot(); rawParam(in, "SCRIPT_FILENAME") != fpm.DocRoot+"/status" || rawParam(in, "QUERY_STRING") != doctor.StatusQuery {
		t.Fatalf("status preset: %+v", in.Params)
	}
	test.Tap(w.in.SendButton())
	w.q.waitFor(t, "the status page", teachWait, func() bool { return !w.in.Busy() })
	l.ShowStatus()
	overlay := w.in.Window().Canvas().Overlays().Top()
	if overlay == nil || !strings.Contains(strings.Join(labelTexts(overlay), "\n"), "Pool fcgitest · static") {
		t.Fatalf("no status table shown (%q)", l.FPMState())
	}
	w.in.Window().Canvas().Overlays().Remove(overlay)

	// The doctor opens on the target, with the document root typed here.
	l.OpenDoctor()
	top := w.in.Window().Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no doctor dialog")
	}
	var entries []string
	for _, o := range test.LaidOutObjects(top) {
		if e, ok := o.(*widget.Entry); ok {
			entries = append(entries, e.Text)
		}
	}
	if !slices.Contains(entries, fpm.Pass()) || !slices.Contains(entries, fpm.DocRoot) {
		t.Errorf("doctor fields %q", entries)
	}
}
