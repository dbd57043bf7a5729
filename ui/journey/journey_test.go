// The journey: the built binary under Xvfb at 1280×720, 1366×768 and 1920×1080, driven with xdotool as a user would (the whole journey at 1366×768, the steps that depend on the screen's size at the others), its screenshots checked and kept.

package journey_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fcgiscope/ui"
)

// Bounds. The machine may be busy: every wait is for a condition, with a
// deadline far above what it takes.
const (
	startWait = 60 * time.Second // the window's first report
	stepWait  = 20 * time.Second // a click's effect
	slowWait  = time.Second      // a wait longer than this is logged
	exitWait  = 10 * time.Second // the app's exit after SIGTERM
)

// The window's smallest size (ui's minWindowWidth × minWindowHeight).
const minWidth, minHeight = 1024, 640

// The screens, and the route at each. The whole journey runs at 1366×768,
// the commonest laptop screen; at the smallest and the largest the route
// is the steps whose result depends on the screen's size (each screen of
// what a request shows, with each sidebar panel and the Live view open,
// stderr and a failure), the same checks on each.
var screens = []struct {
	w, h int
	full bool
}{{1280, 720, false}, {1366, 768, true}, {1920, 1080, false}}

func TestJourney(t *testing.T) {
	began := time.Now()
	defer func() { t.Logf("journey: %v in all", time.Since(began).Round(time.Millisecond)) }()
	if os.Getenv("FCGISCOPE_JOURNEY") != "1" {
		t.Skip("the real-window journey runs with FCGISCOPE_JOURNEY=1 (scripts/journey)")
	}
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (scripts/deps test installs it)", tool)
		}
	}
	out := os.Getenv("FCGISCOPE_JOURNEY_OUT")
	if out == "" {
		var err error
		if out, err = os.MkdirTemp("", "fcgiscope-journey-"); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { fmt.Printf("journey: screenshots and logs in %s\n", out) }()
	bin := os.Getenv("FCGISCOPE_JOURNEY_BIN")
	if bin == "" {
		bin = buildApp(t)
	}
	displays := strings.Fields(os.Getenv("FCGISCOPE_JOURNEY_DISPLAYS"))
	for i, s := range screens {
		name := fmt.Sprintf("%dx%d", s.w, s.h)
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(out, name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			display := ""
			if i < len(displays) {
				display = ":" + displays[i]
			}
			began := time.Now()
			defer func() { t.Logf("%s: %v", name, time.Since(began).Round(time.Millisecond)) }()
			j := start(t, bin, dir, display, s.w, s.h)
			j.journey(s.full)
		})
	}
}

// buildApp builds the binary of the module into a temporary folder.
func buildApp(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "fcgiscope")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return bin
}

// run is one app under one X server.
type run struct {
	t       *testing.T
	dir     string // screenshots and logs
	display string
	sw, sh  int // the screen
	app     *exec.Cmd
	exited  chan error
	log     string // the app's stdout and stderr
	report  string // the layout report's file
	win     string // the X window id
	bin     string // the app's binary
	demo    string // the demo backend's address, as the window starts with it
	shots   int
}

// start runs Xvfb with a screen of w×h (on display, or one it picks) and
// the app on it, with a home of its own, and waits for the window.
func start(t *testing.T, bin, dir, display string, w, h int) *run {
	t.Helper()
	r := &run{t: t, bin: bin, dir: dir, sw: w, sh: h, log: filepath.Join(dir, "app.log"), report: filepath.Join(dir, "layout.json")}
	r.display = startX(t, dir, display, w, h)
	home := t.TempDir()
	for _, d := range []string{".config", ".cache", ".local/share"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	logf, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	r.app = exec.Command(bin)
	r.app.Env = append(cleanEnv(), "DISPLAY="+r.display, "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"LANG=C.UTF-8", "LANGUAGE=en", ui.LayoutFileEnv+"="+r.report)
	r.app.Stdout, r.app.Stderr = logf, logf
	if err := r.app.Start(); err != nil {
		t.Fatal(err)
	}
	r.exited = make(chan error, 1)
	go func() { r.exited <- r.app.Wait(); logf.Close() }()
	t.Cleanup(r.stop)

	r.waitFor("the window's first layout report", startWait, func(rep *ui.LayoutReport) bool {
		_, ok := rep.Controls["send"]
		return ok
	})
	id, err := r.xdo("search", "--onlyvisible", "--name", "^fcgiscope")
	if err != nil || strings.TrimSpace(id) == "" {
		t.Fatalf("no fcgiscope window on %s: %v", r.display, err)
	}
	r.win = strings.Fields(id)[0]
	// Park the pointer off the window's controls.
	r.moveTo(w-1, h-1)
	return r
}

// cleanEnv is the environment without what would change the app's
// display or language.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		switch strings.SplitN(kv, "=", 2)[0] {
		case "DISPLAY", "WAYLAND_DISPLAY", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE", "HOME",
			"XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", ui.LayoutFileEnv:
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startX starts Xvfb with one screen of w×h, on display or, when it is
// "", on a display number Xvfb picks; it is stopped when the test ends.
func startX(t *testing.T, dir, display string, w, h int) string {
	t.Helper()
	args := []string{"-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp", "-noreset"}
	logf, err := os.Create(filepath.Join(dir, "xvfb.log"))
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	var pr *os.File
	if display != "" {
		cmd = exec.Command("Xvfb", append([]string{display}, args...)...)
	} else {
		var pw *os.File
		if pr, pw, err = os.Pipe(); err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command("Xvfb", append([]string{"-displayfd", "3"}, args...)...)
		cmd.ExtraFiles = []*os.File{pw}
		defer pw.Close()
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("Xvfb: %v", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(exitWait):
			cmd.Process.Kill()
			<-done
		}
	})
	if pr != nil {
		got := make(chan string, 1)
		go func() {
			b := make([]byte, 16)
			n, _ := pr.Read(b)
			got <- strings.TrimSpace(string(b[:n]))
		}()
		select {
		case n := <-got:
			if n == "" {
				t.Fatal("Xvfb gave no display number (see xvfb.log)")
			}
			display = ":" + n
		case <-done:
			t.Fatal("Xvfb exited (see xvfb.log)")
		case <-time.After(startWait):
			t.Fatal("Xvfb did not start")
		}
	}
	deadline := time.Now().Add(startWait)
	for {
		c := exec.Command("xdotool", "getdisplaygeometry")
		c.Env = append(os.Environ(), "DISPLAY="+display)
		if b, err := c.Output(); err == nil && strings.TrimSpace(string(b)) == fmt.Sprintf("%d %d", w, h) {
			return display
		}
		select {
		case <-done:
			t.Fatalf("Xvfb on %s exited (see xvfb.log)", display)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("Xvfb on %s does not answer", display)
		}
	}
}

// stop ends the app: SIGTERM, then SIGKILL after exitWait.
func (r *run) stop() {
	select {
	case <-r.exited:
		return
	default:
	}
	r.app.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(exitWait):
		r.t.Logf("the app did not exit within %v of SIGTERM: killed", exitWait)
		r.app.Process.Kill()
		<-r.exited
	}
	r.checkLog()
}

// checkLog fails the test when the app panicked.
func (r *run) checkLog() {
	b, _ := os.ReadFile(r.log)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			r.t.Fatalf("the app crashed: %s (log: %s)", line, r.log)
		}
	}
}

// alive fails the test when the app is gone or crashed.
func (r *run) alive() {
	r.t.Helper()
	select {
	case err := <-r.exited:
		r.exited <- err
		r.checkLog()
		r.t.Fatalf("the app exited: %v (log: %s)", err, r.log)
	default:
	}
	r.checkLog()
}

func (r *run) xdo(args ...string) (string, error) {
	c := exec.Command("xdotool", args...)
	c.Env = append(os.Environ(), "DISPLAY="+r.display)
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	if err != nil {
		err = fmt.Errorf("xdotool %s: %v: %s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), err
}

func (r *run) must(args ...string) string {
	r.t.Helper()
	s, err := r.xdo(args...)
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// read returns the layout report as it is now.
func (r *run) read() (*ui.LayoutReport, error) {
	b, err := os.ReadFile(r.report)
	if err != nil {
		return nil, err
	}
	var rep ui.LayoutReport
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// waitFor waits until cond holds for the report, checking meanwhile that
// the app lives and the window fits the screen.
func (r *run) waitFor(what string, timeout time.Duration, cond func(*ui.LayoutReport) bool) *ui.LayoutReport {
	r.t.Helper()
	start := time.Now()
	deadline := start.Add(timeout)
	var last *ui.LayoutReport
	for {
		r.alive()
		if rep, err := r.read(); err == nil {
			last = rep
			r.fits(rep)
			if cond(rep) {
				if d := time.Since(start); d > slowWait {
					r.t.Logf("waited %v for %s", d.Round(time.Millisecond), what)
				}
				return rep
			}
		}
		if time.Now().After(deadline) {
			r.shot("timeout")
			state := "no report"
			if last != nil {
				b, _ := json.Marshal(last.State)
				state = string(b)
			}
			r.t.Fatalf("timed out after %v waiting for %s; window state %s", timeout, what, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fits fails the test when the window, or what it draws, is larger than
// the screen.
func (r *run) fits(rep *ui.LayoutReport) {
	r.t.Helper()
	if rep.Canvas[0] > r.sw || rep.Canvas[1] > r.sh {
		r.shot("too-large")
		r.t.Fatalf("the window draws %dx%d on a %dx%d screen", rep.Canvas[0], rep.Canvas[1], r.sw, r.sh)
	}
	if r.win == "" {
		return
	}
	x, y, w, h := r.geometry()
	if x < 0 || y < 0 || x+w > r.sw || y+h > r.sh {
		r.shot("too-large")
		r.t.Fatalf("the window is %dx%d at %d,%d on a %dx%d screen", w, h, x, y, r.sw, r.sh)
	}
}

// geometry returns the window's position and size on the screen.
func (r *run) geometry() (x, y, w, h int) {
	r.t.Helper()
	out := r.must("getwindowgeometry", "--shell", r.win)
	v := map[string]int{}
	for _, line := range strings.Split(out, "\n") {
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k], _ = strconv.Atoi(val)
		}
	}
	return v["X"], v["Y"], v["WIDTH"], v["HEIGHT"]
}

// control returns where the named control is on the screen.
func (r *run) control(rep *ui.LayoutReport, name string) (x, y, w, h int) {
	r.t.Helper()
	c, ok := rep.Controls[name]
	if !ok {
		r.shot("missing-" + name)
		r.t.Fatalf("the window does not show %s (shown: %s)", name, strings.Join(names(rep), " "))
	}
	wx, wy, _, _ := r.geometry()
	return wx + c[0], wy + c[1], c[2], c[3]
}

func names(rep *ui.LayoutReport) []string {
	var out []string
	for n := range rep.Controls {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// moveTo moves the pointer to x, y on the screen. xdotool's mousemove
// --sync waits for the pointer to move, so for a pointer already there
// it waited for its own time limit (15 s a click on the same place).
func (r *run) moveTo(x, y int) {
	r.t.Helper()
	out := r.must("getmouselocation", "--shell")
	v := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, val, ok := strings.Cut(line, "="); ok {
			v[k] = val
		}
	}
	if v["X"] == strconv.Itoa(x) && v["Y"] == strconv.Itoa(y) {
		return
	}
	r.must("mousemove", "--sync", strconv.Itoa(x), strconv.Itoa(y))
}

// click clicks the middle of the named control, or (fx, fy) of its size.
func (r *run) click(name string) { r.clickAt(name, 0.5, 0.5) }

func (r *run) clickAt(name string, fx, fy float64) {
	r.t.Helper()
	rep := r.current()
	x, y, w, h := r.control(rep, name)
	r.moveTo(x+int(float64(w)*fx), y+int(float64(h)*fy))
	r.must("click", "1")
}

// current returns the report now, failing when there is none.
func (r *run) current() *ui.LayoutReport {
	r.t.Helper()
	return r.waitFor("a layout report", stepWait, func(*ui.LayoutReport) bool { return true })
}

// shot saves a screenshot of the screen as NN-name.png and returns it,
// once the window has painted what its last report describes (see
// ui.LayoutReport.Painted: the report after a paint says so, a frame
// later).
func (r *run) shot(name string) image.Image {
	r.t.Helper()
	if rep, err := r.read(); err == nil {
		seq := rep.Seq
		r.waitFor("the window to paint what it shows", stepWait, func(rep *ui.LayoutReport) bool { return rep.Painted >= seq })
	}
	r.shots++
	path := filepath.Join(r.dir, fmt.Sprintf("%02d-%s.png", r.shots, name))
	ctx, cancel := context.WithTimeout(context.Background(), stepWait)
	defer cancel()
	b, err := exec.CommandContext(ctx, "import", "-display", r.display, "-window", "root", "png:-").Output()
	if err != nil {
		r.t.Errorf("screenshot %s: %v", name, err)
		return nil
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		r.t.Error(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		r.t.Errorf("screenshot %s: %v", name, err)
		return nil
	}
	return img
}

// look waits until the named controls are shown, takes a screenshot
// named name, and fails the test when a control is blank in it: a region
// showing text has pixels that stand out from its background.
func (r *run) look(name string, controls ...string) *ui.LayoutReport {
	rep, _ := r.lookImage(name, controls...)
	return rep
}

// lookImage is look, returning the screenshot too (nil when it failed).
func (r *run) lookImage(name string, controls ...string) (*ui.LayoutReport, image.Image) {
	r.t.Helper()
	r.waitFor(strings.Join(controls, ", ")+" shown", stepWait, func(rep *ui.LayoutReport) bool {
		for _, c := range controls {
			if _, ok := rep.Controls[c]; !ok {
				return false
			}
		}
		return true
	})
	img := r.shot(name)
	rep := r.current()
	if img == nil {
		return rep, nil
	}
	for _, c := range controls {
		x, y, w, h := r.control(rep, c)
		if n := inkPixels(img, image.Rect(x, y, x+w, y+h)); n < minInk {
			r.t.Errorf("%s: %s (%dx%d at %d,%d) is blank: %d pixels of ink", name, c, w, h, x, y, n)
		}
	}
	return rep, img
}

// minInk is the fewest pixels that differ from the background for a
// region to show text: a single small letter has more.
const minInk = 20

// inkPixels counts the pixels of rect in img that differ clearly from the
// region's commonest colour (its background).
func inkPixels(img image.Image, rect image.Rectangle) int {
	rect = rect.Intersect(img.Bounds())
	counts := map[[3]uint32]int{}
	for y := rect.Min.Y; y < rect.Max.Y; y++ {
		for x := rect.Min.X; x < rect.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			counts[[3]uint32{r >> 8, g >> 8, b >> 8}]++
		}
	}
	var bg [3]uint32
	best := -1
	for c, n := range counts {
		if n > best {
			bg, best = c, n
		}
	}
	diff := func(a, b uint32) uint32 {
		if a > b {
			return a - b
		}
		return b - a
	}
	ink := 0
	for c, n := range counts {
		if diff(c[0], bg[0])+diff(c[1], bg[1])+diff(c[2], bg[2]) > 96 {
			ink += n
		}
	}
	return ink
}

// journey is what a user does in a session, checked at each step; not
// full, the steps whose result depends on the screen's size.
func (r *run) journey(full bool) {
	t := r.t
	rep := r.current()
	t.Logf("window %v, content min size %v, scale %v", rep.Canvas, rep.MinSize, rep.Scale)
	if rep.MinSize[0] > minWidth || rep.MinSize[1] > minHeight {
		t.Errorf("the window needs %v, more than %dx%d", rep.MinSize, minWidth, minHeight)
	}
	r.look("start", "send", "target.line", "state", "response.status")
	r.demo = str(rep.State["target"])

	r.step("send to the demo backend", r.send)
	if full {
		r.step("open every drop-down", r.dropDowns)
		r.step("select records", r.selectRecords)
		r.step("switch modes and targets", r.switchModes)
		r.step("go through the tabs", r.tabs)
		r.step("drag the splits", r.dragSplits)
	}
	r.step("open and close the sidebar's panels", r.sidebars)
	if full {
		r.step("resize to the smallest window and back", r.resize)
	}
	r.step("tap the demo backend from the Live view", r.live)
	r.step("stderr and a failure", r.stderrAndFailure)
}

func (r *run) step(name string, f func()) {
	r.t.Helper()
	r.t.Logf("step: %s", name)
	start := time.Now()
	f()
	r.alive()
	r.t.Logf("step: %s: done in %v", name, time.Since(start).Round(time.Millisecond))
}

// send clicks Send and checks what a request to the demo backend shows.
func (r *run) send() {
	r.click("send")
	r.waitFor("the response", stepWait, func(rep *ui.LayoutReport) bool {
		return rep.State["busy"] == false && num(rep.State["records"]) > 0 && strings.HasPrefix(str(rep.State["response.status"]), "200")
	})
	// What a request shows without scrolling: the records, the decoded
	// record, the status line and END_REQUEST's statuses, and stderr.
	rep, img := r.lookImage("sent", "records.list", "records.detail", "response.status", "response.end", "response.type",
		"response.timings", "stderr", "state", "stats")
	if path := os.Getenv("FCGISCOPE_JOURNEY_SCREENSHOT"); path != "" && r.sw == 1366 && img != nil {
		r.saveWindow(img, path)
	}
	if !strings.Contains(str(rep.State["state"]), "Done") {
		r.t.Errorf("status line %q after a send", rep.State["state"])
	}
}

// saveWindow writes the window's part of img to path as PNG (the README's
// screenshot).
func (r *run) saveWindow(img image.Image, path string) {
	r.t.Helper()
	x, y, w, h := r.geometry()
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		r.t.Fatalf("cannot crop a %T", img)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, sub.SubImage(image.Rect(x, y, x+w, y+h))); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("the window after a request, %dx%d, written to %s", w, h, path)
}

// dropDowns opens each drop-down list and closes it.
func (r *run) dropDowns() {
	for _, name := range []string{"target.dropdown", "env.select", "compose.role", "compose.method", "response.view"} {
		r.click(name)
		r.waitFor(name+"'s list", stepWait, func(rep *ui.LayoutReport) bool { return rep.Overlay })
		r.shot("dropdown-" + name)
		r.must("key", "Escape")
		closed := false
		deadline := time.Now().Add(stepWait)
		for !closed && time.Now().Before(deadline) {
			if rep, err := r.read(); err == nil && !rep.Overlay {
				closed = true
				break
			}
			time.Sleep(200 * time.Millisecond)
			if rep, err := r.read(); err == nil && rep.Overlay {
				// Not closed by Escape: a click outside the list (on
				// the status line) closes it.
				r.clickAt("state", 0.9, 0.5)
			}
		}
		if !closed {
			r.t.Fatalf("%s's list did not close", name)
		}
	}
}

// selectRecords clicks rows of the record list, from its bottom up
// (above the rows are its own header lines), until three records were
// selected in turn.
func (r *run) selectRecords() {
	x, y, w, h := r.control(r.current(), "records.list")
	seen := map[int]bool{}
	prev := num(r.current().State["records.selected"])
	for cy := y + h - 10; cy > y && len(seen) < 3; cy -= 20 {
		r.moveTo(x+w/2, cy)
		r.must("click", "1")
		// A click on a row selects it at once; one on a header line or
		// on the selected row changes nothing: look for a moment only.
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			r.alive()
			if rep, err := r.read(); err == nil {
				if s := num(rep.State["records.selected"]); s >= 0 && s != prev {
					prev = s
					seen[s] = true
					r.look(fmt.Sprintf("record-%d", s), "records.detail")
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(seen) < 3 {
		r.shot("records")
		r.t.Errorf("clicking the record list selected records %v, want three", seen)
	}
}

// switchModes switches to Raw and back, asks GET_VALUES, changes the
// target and back: Send stays where it is through all of it.
func (r *run) switchModes() {
	send := r.current().Controls["send"]
	line := func(sub string) func(*ui.LayoutReport) bool {
		return func(rep *ui.LayoutReport) bool { return strings.Contains(str(rep.State["target.line"]), sub) }
	}
	mode := func(m string) func(*ui.LayoutReport) bool {
		return func(rep *ui.LayoutReport) bool { return rep.State["mode"] == m }
	}
	for _, a := range []struct {
		what string
		do   func()
		done func(*ui.LayoutReport) bool
	}{
		{"switching to Raw mode", func() { r.click("compose.mode.raw") }, mode("raw")},
		{"switching back to HTTP mode", func() { r.click("compose.mode.http") }, mode("http")},
		{"GET_VALUES", func() { r.click("target.getvalues") }, line("MAX_CONNS")},
		{"another target", func() { r.typeInto("target.address", "127.0.0.1:9") }, line("TCP 127.0.0.1:9")},
		{"the demo backend again", func() { r.click("target.demo") }, line("demo backend")},
	} {
		a.do()
		rep := r.waitFor(a.what, stepWait, a.done)
		if rep.Controls["send"] != send {
			r.shot("send-moved")
			r.t.Errorf("Send moved from %v to %v after %s", send, rep.Controls["send"], a.what)
		}
	}
	r.shot("modes")
}

// typeInto replaces the text of the named entry by typing.
func (r *run) typeInto(name, text string) {
	r.t.Helper()
	r.click(name)
	r.must("key", "ctrl+a")
	r.must("type", "--delay", "20", text)
}

// tabs selects every tab of the request and of the response.
func (r *run) tabs() {
	for _, prefix := range []string{"compose.tab.", "response.tab."} {
		rep := r.current()
		var tabs []string
		for n := range rep.Controls {
			if strings.HasPrefix(n, prefix) {
				tabs = append(tabs, n)
			}
		}
		sort.Strings(tabs)
		if len(tabs) < 2 {
			r.t.Errorf("%s: tabs shown %v", prefix, tabs)
		}
		for _, name := range tabs {
			title := strings.TrimPrefix(name, prefix)
			r.click(name)
			key := strings.TrimSuffix(prefix, ".")
			r.waitFor(title+" selected", stepWait, func(rep *ui.LayoutReport) bool { return rep.State[key] == title })
			r.shot("tab-" + title)
		}
	}
	// Back to the tabs a user reads most.
	r.click("response.tab.Body")
	for n := range r.current().Controls {
		if strings.HasPrefix(n, "compose.tab.Headers") {
			r.click(n)
		}
	}
}

// dragSplits drags each split's divider and back.
func (r *run) dragSplits() {
	rep := r.current()
	var splits []string
	for n := range rep.Controls {
		if strings.HasPrefix(n, "split.") {
			splits = append(splits, n)
		}
	}
	sort.Strings(splits)
	if len(splits) < 4 {
		r.t.Errorf("splits shown: %v", splits)
	}
	for _, name := range splits {
		before := offset(r.current(), name)
		r.drag(name, 40)
		r.waitFor(name+" moved", stepWait, func(rep *ui.LayoutReport) bool { return offset(rep, name) != before })
		r.shot("drag-" + name)
		r.drag(name, -40)
	}
}

// drag drags the named divider by d pixels across it.
func (r *run) drag(name string, d int) {
	r.t.Helper()
	rep := r.current()
	x, y, w, h := r.control(rep, name)
	cx, cy := x+w/2, y+h/2
	tx, ty := cx+d, cy
	if w > h { // a horizontal bar: a vertical split
		tx, ty = cx, cy+d
	}
	r.moveTo(cx, cy)
	r.must("mousedown", "1")
	for i := 1; i <= 4; i++ {
		r.moveTo(cx+(tx-cx)*i/4, cy+(ty-cy)*i/4)
	}
	r.must("mouseup", "1")
}

func offset(rep *ui.LayoutReport, name string) float64 {
	m, _ := rep.State["splits"].(map[string]any)
	f, _ := m[name].(float64)
	return f
}

// sidebars opens and closes each panel of the sidebar; the response
// column keeps room to be read.
func (r *run) sidebars() {
	for _, p := range []string{"presets", "history", "learn"} {
		r.click("bar." + p)
		r.waitFor(p+" shown", stepWait, func(rep *ui.LayoutReport) bool { return rep.State[p] == true })
		rep := r.look("open-"+p, "response.status", "records.list", "send")
		if _, _, w, _ := r.control(rep, "response"); w < 200 {
			r.t.Errorf("with %s open the response column is %d px wide", p, w)
		}
		r.click("bar." + p)
		r.waitFor(p+" hidden", stepWait, func(rep *ui.LayoutReport) bool { return rep.State[p] == false })
	}
}

// live opens the Live view, starts a tap in front of the demo backend,
// sends a request through it with fcgiscope send, sees it appear in the
// list and selects it: the panes show it.
func (r *run) live() {
	r.click("bar.live")
	r.waitFor("the Live view", stepWait, func(rep *ui.LayoutReport) bool { return rep.State["live"] == true })
	sock := filepath.Join(r.t.TempDir(), "tap.sock")
	r.typeInto("live.listen", "unix:"+sock)
	r.typeInto("live.upstream", r.demo)
	r.click("live.start")
	r.waitFor("the tap listening", stepWait, func(rep *ui.LayoutReport) bool {
		return strings.HasPrefix(str(rep.State["live.note"]), "Listening on unix:"+sock)
	})
	out, err := exec.Command(r.bin, "send", "--addr", "unix:"+sock, "--url", "/echo?through=tap").CombinedOutput()
	if err != nil {
		r.t.Fatalf("fcgiscope send through the tap: %v\n%s", err, out)
	}
	rep := r.waitFor("the exchange in the Live list", stepWait, func(rep *ui.LayoutReport) bool {
		rows, _ := rep.State["live.rows"].([]any)
		return len(rows) > 0 && strings.Contains(str(rows[0]), "GET /echo?through=tap | 200 |")
	})
	// The first row: a third of a row's height into the list.
	x, y, _, _ := r.control(rep, "live.list")
	r.moveTo(x+40, y+20)
	r.must("click", "1")
	r.waitFor("the tapped exchange in the panes", stepWait, func(rep *ui.LayoutReport) bool {
		return strings.Contains(str(rep.State["state"]), "from the live tap") && num(rep.State["records"]) > 0 &&
			strings.HasPrefix(str(rep.State["response.status"]), "200")
	})
	rep = r.look("live", "live.list", "live.resend", "response.status", "records.list")
	if _, _, w, _ := r.control(rep, "response"); w < 200 {
		r.t.Errorf("with Live open the response column is %d px wide", w)
	}
	r.click("live.stop")
	r.waitFor("the tap stopped", stepWait, func(rep *ui.LayoutReport) bool { return rep.State["live.running"] == false })
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		r.t.Errorf("the tap's socket is still there after Stop: %v", err)
	}
	r.click("bar.live")
	r.waitFor("the Live view hidden", stepWait, func(rep *ui.LayoutReport) bool { return rep.State["live"] == false })
}

// resize makes the window as small as it is made for, then as it was.
func (r *run) resize() {
	_, _, w, h := r.geometry()
	r.must("windowsize", "--sync", r.win, strconv.Itoa(minWidth), strconv.Itoa(minHeight))
	rep := r.waitFor("the smallest window", stepWait, func(rep *ui.LayoutReport) bool {
		return rep.Canvas[0] <= minWidth && rep.Canvas[1] <= minHeight
	})
	if rep.MinSize[0] > rep.Canvas[0] || rep.MinSize[1] > rep.Canvas[1] {
		r.t.Errorf("at %v the content needs %v", rep.Canvas, rep.MinSize)
	}
	rep = r.look("smallest", "send", "records.list", "response.status", "response.end", "stderr", "state")
	// A cut line shows its whole text when the pointer rests on it.
	x, y, cw, ch := r.control(rep, "target.line")
	r.moveTo(x+cw/2, y+ch/2)
	r.waitFor("the tooltip of the line under the target", stepWait, func(rep *ui.LayoutReport) bool {
		return strings.Contains(str(rep.State["tip"]), "demo backend")
	})
	r.shot("tooltip")
	r.moveTo(r.sw-1, r.sh-1)
	r.must("windowsize", "--sync", r.win, strconv.Itoa(w), strconv.Itoa(h))
	r.waitFor("the window as it was", stepWait, func(rep *ui.LayoutReport) bool { return rep.Canvas[0] == w && rep.Canvas[1] == h })
	r.shot("restored")
}

// stderrAndFailure sends to a route that writes stderr, then to a port
// where nothing listens: the error is said, the window stays in place.
func (r *run) stderrAndFailure() {
	r.typeInto("compose.url", "/stderr?lines=40")
	r.click("send")
	r.waitFor("stderr", stepWait, func(rep *ui.LayoutReport) bool {
		return rep.State["busy"] == false && num(rep.State["stderr.lines"]) == 40
	})
	r.look("stderr", "stderr", "response.status")

	r.typeInto("target.address", "127.0.0.1:1")
	r.click("send")
	r.waitFor("the failure", stepWait, func(rep *ui.LayoutReport) bool {
		return rep.State["busy"] == false && strings.Contains(str(rep.State["state"]), "Cannot connect")
	})
	r.look("failure", "state", "response.status")
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
