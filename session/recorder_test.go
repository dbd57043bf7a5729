// Tests of the Recorder: files written off the caller's path, bounded
// queue with drops counted and reported, bounded folder, flush and close.

package session

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fcgiscope/fcgi/fcgitest"
)

// recordedNames lists the Exchange files in dir, sorted.
func recordedNames(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestRecorderWritesExchangeFiles(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	var errs []error
	r := NewRecorder(RecorderOptions{Dir: dir, ErrorLog: func(err error) { errs = append(errs, err) }})
	x, _ := sampleExchange(t)
	for range 3 {
		if !r.Record(x) {
			t.Fatal("Record dropped an exchange with an empty queue")
		}
	}
	r.Flush()
	names := recordedNames(t, dir)
	if len(names) != 3 {
		t.Fatalf("%d files after Flush, want 3", len(names))
	}
	for i, name := range names {
		if !strings.HasSuffix(name, []string{"-000001.json", "-000002.json", "-000003.json"}[i]) {
			t.Errorf("file %d is %s: names sort in recording order", i, filepath.Base(name))
		}
		back, err := LoadExchangeFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// Redacted by default, as SaveExchangeFile does.
		want, err := EncodeExchangeFile(x, false)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(name); string(got) != string(want) || back.Len() != x.Len() {
			t.Errorf("%s is not the redacted Exchange file of the exchange", name)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st != (RecorderStats{Recorded: 3}) || len(errs) != 0 {
		t.Errorf("stats %+v, errors %v", st, errs)
	}
	// After Close: dropped and counted, never a panic or a wait.
	if r.Record(x) || r.Stats().Dropped != 1 {
		t.Errorf("Record after Close: stats %+v", r.Stats())
	}
	r.Flush()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRecorderDropsWhenBehind: while the Recorder's goroutine is held up,
// Record queues up to the bound and drops the rest at once, counted; the
// drops are reported through ErrorLog once the goroutine goes on, and what
// was queued is written.
func TestRecorderDropsWhenBehind(t *testing.T) {
	checkLeaks(t)
	base := t.TempDir()
	dir := filepath.Join(base, "rec") // missing: the first write fails
	held, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var logged []string
	first := true
	r := NewRecorder(RecorderOptions{Dir: dir, Queue: 2, ErrorLog: func(err error) {
		mu.Lock()
		logged = append(logged, err.Error())
		hold := first
		first = false
		mu.Unlock()
		if hold {
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Error(err)
			}
			close(held)
			<-release
		}
	}})
	defer r.Close()
	x, _ := sampleExchange(t)
	r.Record(x) // fails: the folder is missing; ErrorLog holds the goroutine
	<-held
	var queued, dropped int
	for range 5 {
		if r.Record(x) {
			queued++
		} else {
			dropped++
		}
	}
	if queued != 2 || dropped != 3 {
		t.Errorf("queued %d, dropped %d; want the queue's 2 and 3", queued, dropped)
	}
	if st := r.Stats(); st.Dropped != 3 || st.Queued != 2 {
		t.Errorf("stats while held: %+v", st)
	}
	close(release)
	r.Flush()
	st := r.Stats()
	if st.Recorded != 2 || st.Failed != 1 || st.Dropped != 3 || st.Queued != 0 {
		t.Errorf("stats: %+v, want 2 recorded, 1 failed, 3 dropped", st)
	}
	if n := len(recordedNames(t, dir)); n != 2 {
		t.Errorf("%d files, want 2", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 2 || !strings.Contains(logged[0], "session: recorder: exchange 1") ||
		!strings.Contains(logged[1], "3 exchanges not recorded, 3 in all: recording fell behind") {
		t.Errorf("logged:\n%s", strings.Join(logged, "\n"))
	}
}

// TestRecorderQueueBytes: the captured bytes waiting are bounded too, but an
// exchange finding the queue empty is always taken.
func TestRecorderQueueBytes(t *testing.T) {
	checkLeaks(t)
	dir := t.TempDir()
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	r := NewRecorder(RecorderOptions{Dir: filepath.Join(dir, "missing"), QueueBytes: 1, ErrorLog: func(error) {
		once.Do(func() { close(held); <-release })
	}})
	x, _ := sampleExchange(t)
	r.Record(x)
	<-held
	if !r.Record(x) {
		t.Error("an exchange above QueueBytes was dropped although the queue was empty")
	}
	if r.Record(x) {
		t.Error("a second exchange above QueueBytes was queued")
	}
	close(release)
	r.Close()
	if st := r.Stats(); st.Dropped != 1 || st.Failed != 2 {
		t.Errorf("stats %+v, want 1 dropped and 2 failed (the folder is missing)", st)
	}
}

// TestRecorderKeeps: with KeepFiles and KeepBytes the folder holds the newest
// recordings only, and files the Recorder did not write stay.
func TestRecorderKeeps(t *testing.T) {
	checkLeaks(t)
	x, _ := sampleExchange(t)
	b, err := EncodeExchangeFile(x, false)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	for _, tt := range []struct {
		name      string
		keepFiles int
		keepBytes int64
		want      int
	}{
		{"files", 3, 0, 3},
		{"bytes", 0, 2*size + size/2, 2}, // room for two
		{"newest above the bound", 0, 1, 1},
		{"both", 4, 3 * size, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			foreign := filepath.Join(dir, "00000000-mine.json")
			if err := os.WriteFile(foreign, []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
			r := NewRecorder(RecorderOptions{Dir: dir, KeepFiles: tt.keepFiles, KeepBytes: tt.keepBytes})
			for range 10 {
				r.Record(x)
			}
			r.Close()
			names := recordedNames(t, dir)
			if len(names) != tt.want+1 || names[0] != foreign {
				t.Fatalf("kept %q, want the foreign file and %d recordings", names, tt.want)
			}
			if last := names[len(names)-1]; !strings.HasSuffix(last, "-000010.json") {
				t.Errorf("newest kept is %s, want the tenth", filepath.Base(last))
			}
		})
	}
}

// BenchmarkEncodeExchangeFile: encoding (and redacting) one exchange as the
// Recorder writes it: a GET through the proxy to the demo backend.
func BenchmarkEncodeExchangeFile(b *testing.B) {
	x, _ := benchExchange(b)
	for _, secrets := range []bool{false, true} {
		b.Run(map[bool]string{false: "redacted", true: "secrets"}[secrets], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := EncodeExchangeFile(x, secrets); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// benchExchange returns the exchange BenchmarkEncodeExchangeFile encodes,
// and the demo backend's address.
func benchExchange(b *testing.B) (*Exchange, string) {
	addr := fcgitest.StartDemo(b)
	e := NewEngine(NewPool(PoolOptions{}), EngineOptions{})
	b.Cleanup(func() { e.Pool().Close() })
	in := HTTPInput{URL: "/status?code=200", DocumentRoot: "/srv", Headers: []Header{{Name: "Host", Value: "127.0.0.1:8080"}}}
	req, err := BuildHTTP(in)
	if err != nil {
		b.Fatal(err)
	}
	x := NewExchange(Input{Mode: ModeHTTP, Target: addr, HTTP: &in})
	if err := e.Send(b.Context(), addr, req, x); err != nil {
		b.Fatal(err)
	}
	return x, addr
}

// TestRecorderReusesOldest: past KeepFiles the oldest recording is rewritten
// as the new one; a smaller exchange written over a larger one's file leaves
// exactly its own bytes, and no temporary file stays behind.
func TestRecorderReusesOldest(t *testing.T) {
	checkLeaks(t)
	big, _ := sampleExchange(t)
	small := NewExchange(Input{Mode: ModeRaw, Target: "127.0.0.1:9000"})
	small.Begin("127.0.0.1:9000", &Request{}, time.Now())
	small.Complete(Outcome{Err: errors.New("no route")})
	want, err := EncodeExchangeFile(small, false)
	if err != nil {
		t.Fatal(err)
	}
	if bigBytes, err := EncodeExchangeFile(big, false); err != nil || len(bigBytes) <= len(want) {
		t.Fatalf("the sample exchange encodes to %d bytes (%v), want more than the small one's %d", len(bigBytes), err, len(want))
	}
	dir := t.TempDir()
	var errs []error
	r := NewRecorder(RecorderOptions{Dir: dir, KeepFiles: 2, ErrorLog: func(err error) { errs = append(errs, err) }})
	for _, x := range []*Exchange{big, big, small, small, small} {
		r.Record(x)
	}
	r.Close()
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	if len(names) != 2 || !strings.HasSuffix(names[0], "-000004.json") || !strings.HasSuffix(names[1], "-000005.json") {
		t.Fatalf("folder holds %q, want the fourth and fifth recordings only", names)
	}
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, want the small exchange's %d:\n%s", name, len(got), len(want), got)
		}
		if _, err := LoadExchangeFile(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s does not load: %v", name, err)
		}
	}
}
