// Tests of the php-fpm doctor dialog: real php-fpm's findings, a run that is cancelled, fields that are refused.

package ui

import (
	"context"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session/doctor"
)

func TestDoctorDialogAgainstPHPFPM(t *testing.T) {
	k := newTeachKit(t)
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{})
	win := test.NewWindow(widget.NewLabel("main"))
	win.Resize(fyne.NewSize(1600, 1000))
	defer win.Close()

	d := ShowDoctor(k.ctx, win, fpm.Pass(), k.app.Preferences(), k.q.Do)
	d.docRoot.SetText(fpm.DocRoot)
	d.script.SetText("hello.php")
	test.Tap(d.runBtn)
	if !d.Running() || !d.progress.Visible() || !d.runBtn.Disabled() || d.cancelBtn.Disabled() {
		t.Fatalf("Run did not start: running %v, progress %v", d.Running(), d.progress.Visible())
	}
	k.q.waitFor(t, "the doctor", teachWait, func() bool { return !d.Running() })

	rep := d.Report()
	if rep == nil || rep.Target != fpm.Pass() || len(rep.Findings) < 6 {
		t.Fatalf("report %+v", rep)
	}
	titles := d.FindingTitles()
	if len(titles) != len(rep.Findings) {
		t.Fatalf("%d findings shown, %d in the report", len(titles), len(rep.Findings))
	}
	for _, want := range []string{"ok: the backend accepts connections", "ok: ping.path answers at /ping",
		"ok: pm.status_path answers at /status"} {
		if !slices.Contains(titles, want) {
			t.Errorf("no finding %q in\n%s", want, strings.Join(titles, "\n"))
		}
	}
	// The most severe come first, and each shows its explanation and evidence.
	sev := func(s string) doctor.Severity {
		for _, x := range []doctor.Severity{doctor.SeverityOK, doctor.SeverityInfo, doctor.SeverityWarning, doctor.SeverityError} {
			if strings.HasPrefix(s, x.String()+":") {
				return x
			}
		}
		t.Fatalf("finding %q has no severity", s)
		return 0
	}
	for i := 1; i < len(titles); i++ {
		if sev(titles[i]) > sev(titles[i-1]) {
			t.Errorf("%q listed after %q", titles[i], titles[i-1])
		}
	}
	shown := strings.Join(labelTexts(d.findings), "\n")
	for _, f := range rep.Findings {
		if !strings.Contains(shown, f.Evidence) {
			t.Errorf("the evidence of %q is not shown: %q", f.Title, f.Evidence)
		}
	}
	if f, ok := rep.Finding(doctor.CheckScript); !ok || f.Severity != doctor.SeverityOK {
		t.Errorf("script finding %+v", f)
	}
	if !strings.Contains(d.State(), " in ") || d.progress.Visible() || d.runBtn.Disabled() {
		t.Errorf("after the run: state %q, progress %v", d.State(), d.progress.Visible())
	}
	// The fields are remembered for the next time.
	if got := k.app.Preferences().String(PrefDoctorDocRoot); got != fpm.DocRoot {
		t.Errorf("document root remembered as %q", got)
	}
}

func TestDoctorCancelAndRefusedFields(t *testing.T) {
	k := newTeachKit(t)
	d := NewDoctorPanel(k.ctx, "127.0.0.1:9", nil, k.q.Do)
	w := test.NewWindow(d.Content())
	defer w.Close()

	started := make(chan struct{})
	d.SetDoctor(func(ctx context.Context, target string, opts doctor.Options) doctor.Report {
		close(started)
		<-ctx.Done() // a pool that never answers
		return doctor.Report{Target: target, Findings: []doctor.Finding{
			{Check: doctor.CheckConnect, Severity: doctor.SeverityOK, Title: "the backend accepts connections", Evidence: "connected"},
			{Check: doctor.CheckGetValues, Severity: doctor.SeverityWarning, Title: "no answer to GET_VALUES", Evidence: ctx.Err().Error()},
		}}
	})
	d.Run()
	<-started
	if !d.Cancel() {
		t.Fatal("Cancel found nothing to cancel")
	}
	k.q.waitFor(t, "the cancelled run", teachWait, func() bool { return !d.Running() })
	if !strings.HasPrefix(d.State(), "Cancelled") || len(d.FindingTitles()) != 2 ||
		d.FindingTitles()[0] != "warning: no answer to GET_VALUES" {
		t.Errorf("after Cancel: %q, %q", d.State(), d.FindingTitles())
	}
	if d.Cancel() {
		t.Error("Cancel with nothing in flight")
	}

	for _, c := range []struct{ target, root, want string }{
		{"not an address", "/srv", "Cannot run"},
		{"127.0.0.1:9000", "relative/root", "absolute path"},
	} {
		d.target.SetText(c.target)
		d.docRoot.SetText(c.root)
		d.Run()
		if d.Running() || !strings.Contains(d.State(), c.want) {
			t.Errorf("target %q, root %q: running %v, state %q", c.target, c.root, d.Running(), d.State())
		}
	}
}

func TestDoctorOnAClosedPortSaysWhy(t *testing.T) {
	k := newTeachKit(t)
	d := NewDoctorPanel(k.ctx, fcgitest.RefusedAddr(t, "tcp"), nil, k.q.Do)
	w := test.NewWindow(d.Content())
	defer w.Close()
	d.Run()
	k.q.waitFor(t, "the doctor", teachWait, func() bool { return !d.Running() })
	if got := d.FindingTitles(); len(got) != 1 || got[0] != "error: cannot connect" || !strings.HasPrefix(d.State(), "Broken") {
		t.Errorf("findings %q, state %q", got, d.State())
	}
}
