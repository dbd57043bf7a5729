// Crash safety of presets and history: a child process writing both is
// killed with SIGKILL at random moments; whatever it had finished must be on
// disk, whole, and nothing may be broken or lost.

package session_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fcgiscope/session"
	"fcgiscope/session/history"
	"fcgiscope/session/preset"

	"go.uber.org/goleak"

	"fcgiscope/fcgi/demo"
)

// crashChildEnv names the folder the child writes into; the child runs
// only when it is set.
const crashChildEnv = "FCGISCOPE_CRASH_CHILD_DIR"

// crashPresetNames are the presets the child saves, round robin.
var crashPresetNames = []string{"p0", "p1", "p2", "shop/cart/p3", "shop/p4"}

// Planted corrupt files: a store must report them, skip them and leave
// them exactly as they are.
const (
	corruptPresetName  = "corrupt"
	truncPresetName    = "truncated"
	corruptHistoryID   = "20200101T000000.000000000Z-deadbeef"
	truncatedHistoryID = "20200101T000001.000000000Z-cafef00d"
)

// TestCrashChild is the child of TestCrashSafety; on its own it skips.
// It saves presets (each holding its sequence number) and adds history
// entries in a tight loop, printing "preset NAME SEQ" or "history ID" on
// stdout after each operation returned, until it is killed.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("helper process for TestCrashSafety")
	}
	fail := func(err error) {
		fmt.Printf("error %v\n", err)
		os.Exit(3)
	}
	store, err := preset.Open(filepath.Join(dir, "presets"))
	if err != nil {
		fail(err)
	}
	hist, err := history.Open(filepath.Join(dir, "history"), history.Limits{MaxEntries: -1, MaxBytes: -1})
	if err != nil {
		fail(err)
	}
	seqs := map[string]int{}
	for _, name := range crashPresetNames {
		if p, err := store.Load(name); err == nil {
			// What is on disk now is finished, even if the child before
			// was killed before it could say so: report it as saved.
			seqs[name] = presetSeq(p)
			fmt.Printf("ondisk %s %d\n", name, seqs[name])
		} else if !errors.Is(err, os.ErrNotExist) {
			fail(err)
		}
	}
	b, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	eng := session.NewEngine(session.NewPool(session.PoolOptions{}), session.EngineOptions{})
	fmt.Println("ready")
	body := bytes.Repeat([]byte("preset body line\n"), 2000) // a write that takes a while
	for i := 0; ; i++ {
		name := crashPresetNames[i%len(crashPresetNames)]
		seqs[name]++
		p := preset.Preset{Mode: session.ModeRaw, Target: b.Addr(), Params: []session.RawParam{{Name: "SEQ", Value: strconv.Itoa(seqs[name]), Enabled: true}},
			Body: body[:len(body)-i%1000]}
		if err := store.Save(p, name); err != nil {
			fail(err)
		}
		fmt.Printf("preset %s %d\n", name, seqs[name])

		req := &session.Request{Params: session.Params{{Name: "SCRIPT_NAME", Value: "/echo"}, {Name: "ITER", Value: strconv.Itoa(i)}}}
		x := session.NewExchange(session.Input{Mode: session.ModeRaw, Target: b.Addr()})
		if err := eng.Send(context.Background(), b.Addr(), req, x); err != nil {
			fail(err)
		}
		id, err := hist.Add(x)
		if err != nil {
			fail(err)
		}
		fmt.Printf("history %s\n", id)
	}
}

// TestCrashSafety runs TestCrashChild in a child process and kills it with
// SIGKILL at random moments, about 30 times within 15 seconds. After each
// kill it proves, as the next start of fcgiscope would see it:
//   - every preset file parses, and holds the last content the child
//     reported saved or the one it was writing (old or new, never broken);
//   - every history entry the child reported added is listed and loads;
//     no history file or index is broken;
//   - the planted corrupt files are reported (List errors, History
//     Problems), skipped and left byte for byte as they were.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashChildEnv) != "" {
		t.Skip("in the child")
	}
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
	dir := t.TempDir()
	presetDir, histDir := filepath.Join(dir, "presets"), filepath.Join(dir, "history")
	for _, d := range []string{presetDir, histDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	good, err := preset.Encode(preset.Preset{Mode: session.ModeRaw, Target: "127.0.0.1:9000", Body: []byte("a body long enough to cut")})
	if err != nil {
		t.Fatal(err)
	}
	planted := map[string][]byte{
		filepath.Join(presetDir, corruptPresetName+preset.Ext): []byte("format = 1\nmode = [not toml\n"),
		filepath.Join(presetDir, truncPresetName+preset.Ext):   good[:len(good)-12],
		filepath.Join(histDir, corruptHistoryID+".json"):       []byte("{\"kind\":\"fcgiscope-exchange\",\"format\":1,\"exch"),
		filepath.Join(histDir, truncatedHistoryID+".json"): []byte(`{"kind":"fcgiscope-exchange","format":1,` +
			`"exchange":{"records":[{"dir":"sent","frame_off":0,"frame_len":99}]}}`),
	}
	for path, b := range planted {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	lastSeq := map[string]int{}
	var added []string
	start := time.Now()
	kills, midWrite := 0, 0
	for kills < 30 && time.Since(start) < 12*time.Second {
		lines := runAndKill(t, dir, time.Duration(rand.N(150))*time.Millisecond)
		kills++
		ops := 0
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) == 3 && f[0] == "ondisk":
				lastSeq[f[1]], _ = strconv.Atoi(f[2])
			case len(f) == 3 && f[0] == "preset":
				lastSeq[f[1]], _ = strconv.Atoi(f[2])
				ops++
			case len(f) == 2 && f[0] == "history":
				added = append(added, f[1])
				ops++
			case l == "ready":
			case strings.HasPrefix(l, "error "):
				t.Fatalf("kill %d: child failed: %s", kills, l)
			}
		}
		if ops > 0 {
			midWrite++
		}
		checkAfterCrash(t, kills, presetDir, histDir, lastSeq, added, planted)
	}
	t.Logf("%d kills in %v, %d of them after the child had written; %d presets, %d history entries confirmed",
		kills, time.Since(start).Round(time.Millisecond), midWrite, len(lastSeq), len(added))
	if kills < 5 || midWrite == 0 {
		t.Fatalf("only %d kills, %d while writing: the test proved too little", kills, midWrite)
	}
}

// presetSeq returns the sequence number a child's preset holds, -1 if none.
func presetSeq(p preset.Preset) int {
	if len(p.Params) != 1 || p.Params[0].Name != "SEQ" {
		return -1
	}
	n, err := strconv.Atoi(p.Params[0].Value)
	if err != nil {
		return -1
	}
	return n
}

// runAndKill starts the child, waits until it is ready, lets it run for
// d, kills it with SIGKILL and returns the lines it printed.
func runAndKill(t *testing.T, dir string, d time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=1m")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lines []string
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		once := sync.OnceFunc(func() { close(ready) })
		defer once()
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			if sc.Text() == "ready" {
				once()
			}
		}
	}()
	select {
	case <-ready:
	case <-ctx.Done():
	}
	time.Sleep(d)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("child did not die of SIGKILL: %v\nstdout:\n%s\nstderr:\n%s", err, strings.Join(lines, "\n"), stderr.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return lines
}

// checkAfterCrash opens the presets and the history as the next start of
// fcgiscope would and checks them (see TestCrashSafety).
func checkAfterCrash(t *testing.T, kill int, presetDir, histDir string, lastSeq map[string]int, added []string, planted map[string][]byte) {
	t.Helper()
	store, err := preset.Open(presetDir)
	if err != nil {
		t.Fatal(err)
	}
	entries, errs := store.List()
	var reported []string
	for _, e := range errs {
		switch {
		case strings.Contains(e.Error(), corruptPresetName+preset.Ext), strings.Contains(e.Error(), truncPresetName+preset.Ext):
			reported = append(reported, e.Error())
		default:
			t.Fatalf("kill %d: a preset is broken: %v", kill, e)
		}
	}
	if len(reported) != 2 || !errors.Is(errs[0], preset.ErrCorrupt) || !errors.Is(errs[1], preset.ErrCorrupt) {
		t.Fatalf("kill %d: the two planted presets are not both reported as corrupt: %v", kill, errs)
	}
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.FullName()] = true
		p, err := store.Load(e.FullName())
		if err != nil {
			t.Fatalf("kill %d: preset %s is listed but does not load: %v", kill, e.FullName(), err)
		}
		if !slices.Contains(crashPresetNames, e.FullName()) {
			t.Fatalf("kill %d: unexpected preset %q", kill, e.FullName())
		}
		seq := presetSeq(p)
		if want := lastSeq[e.FullName()]; seq != want && seq != want+1 {
			t.Fatalf("kill %d: preset %s holds save %d; the child last finished save %d", kill, e.FullName(), seq, want)
		}
	}
	for name := range lastSeq {
		if !listed[name] {
			t.Fatalf("kill %d: preset %s was saved, and is gone", kill, name)
		}
	}
	if err := store.Save(preset.Preset{}, corruptPresetName); err == nil {
		t.Fatalf("kill %d: Save overwrote a corrupt preset", kill)
	}

	h, err := history.Open(histDir, history.Limits{MaxEntries: -1, MaxBytes: -1})
	if err != nil {
		t.Fatalf("kill %d: %v", kill, err)
	}
	problems := h.Problems()
	for _, p := range problems {
		if !strings.Contains(p.Error(), corruptHistoryID) && !strings.Contains(p.Error(), truncatedHistoryID) {
			t.Fatalf("kill %d: history problem besides the planted files: %v", kill, p)
		}
	}
	if len(problems) != 2 {
		t.Fatalf("kill %d: planted history files not both reported: %v", kill, problems)
	}
	ids := map[string]bool{}
	for _, e := range h.List("") {
		ids[e.ID] = true
		if e.ID == corruptHistoryID || e.ID == truncatedHistoryID {
			t.Fatalf("kill %d: corrupt history file %s listed", kill, e.ID)
		}
	}
	for _, id := range added {
		if !ids[id] {
			t.Fatalf("kill %d: history entry %s was added, and is not listed", kill, id)
		}
	}
	for id := range ids {
		if _, err := h.Load(id); err != nil {
			t.Fatalf("kill %d: history entry %s is listed and does not load: %v", kill, id, err)
		}
	}

	for path, want := range planted {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("kill %d: planted corrupt file %s was changed or removed (%v)", kill, path, err)
		}
	}
}
