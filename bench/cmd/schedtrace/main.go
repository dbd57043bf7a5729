// Command schedtrace reads a Go execution trace and tells how well the
// process kept its Ps busy: how long 0, 1, ... Ps ran, and how long fewer
// Ps ran than there were while goroutines stood runnable ("starved"),
// with the length of those stretches and what ran and waited meanwhile.
// bench/README.md uses it on the Mux benchmark:
//
//	go test -run '^$' -bench 'Mux/inproc/concurrent' -benchtime 100000x -trace /tmp/mux.trace .
//	go run ./cmd/schedtrace /tmp/mux.trace
package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/exp/trace"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: schedtrace TRACE")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedtrace:", err)
		os.Exit(1)
	}
	defer f.Close()
	s, err := scan(f)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedtrace:", err)
		os.Exit(1)
	}
	s.print(os.Stdout)
}

// stats is what scan gathers.
type stats struct {
	total    time.Duration
	procs    int                   // the most Ps seen running at once
	byCount  map[int]time.Duration // time with n Ps running
	starved  time.Duration         // fewer Ps running than procs, goroutines runnable
	stretch  []time.Duration       // the starved stretches
	whileRan map[string]time.Duration
}

func scan(r io.Reader) (*stats, error) {
	tr, err := trace.NewReader(r)
	if err != nil {
		return nil, err
	}
	s := &stats{byCount: map[int]time.Duration{}, whileRan: map[string]time.Duration{}}
	running := map[trace.ProcID]trace.GoID{} // Ps running, and their goroutine
	state := map[trace.GoID]trace.GoState{}
	kind := map[trace.GoID]string{} // the function a goroutine started in
	var first, last trace.Time
	var cur time.Duration // the current starved stretch
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		now := ev.Time()
		if first == 0 {
			first, last = now, now
		}
		if d := time.Duration(now - last); d > 0 {
			s.byCount[len(running)] += d
			runnable := 0
			for _, st := range state {
				if st == trace.GoRunnable {
					runnable++
				}
			}
			if len(running) < s.procs && runnable > 0 {
				s.starved += d
				cur += d
				names := []string{}
				for _, g := range running {
					names = append(names, short(kind[g]))
				}
				slices.Sort(names)
				s.whileRan[strings.Join(names, ", ")] += d
			} else if cur > 0 {
				s.stretch = append(s.stretch, cur)
				cur = 0
			}
		}
		last = now
		if ev.Kind() != trace.EventStateTransition {
			continue
		}
		t := ev.StateTransition()
		switch t.Resource.Kind {
		case trace.ResourceProc:
			from, to := t.Proc()
			p := t.Resource.Proc()
			if to.Executing() {
				if _, ok := running[p]; !ok {
					running[p] = trace.NoGoroutine
				}
			} else if from.Executing() {
				delete(running, p)
			}
			s.procs = max(s.procs, len(running))
		case trace.ResourceGoroutine:
			g := t.Resource.Goroutine()
			from, to := t.Goroutine()
			if _, ok := kind[g]; !ok {
				for fr := range t.Stack.Frames() {
					kind[g] = fr.Func
					break
				}
			}
			state[g] = to
			if to == trace.GoNotExist {
				delete(state, g)
			}
			if p := ev.Proc(); p != trace.NoProc {
				if _, ok := running[p]; ok {
					if to == trace.GoRunning {
						running[p] = g
					} else if from == trace.GoRunning && running[p] == g {
						running[p] = trace.NoGoroutine
					}
				}
			}
		}
	}
	if cur > 0 {
		s.stretch = append(s.stretch, cur)
	}
	s.total = time.Duration(last - first)
	return s, nil
}

// short names a goroutine by the function it started in, without the
// package path; "(scheduler)" for a P running none.
func short(fn string) string {
	if fn == "" {
		return "(scheduler)"
	}
	return fn[strings.LastIndex(fn, "/")+1:]
}

func (s *stats) print(w io.Writer) {
	pct := func(d time.Duration) float64 { return 100 * float64(d) / float64(max(s.total, 1)) }
	fmt.Fprintf(w, "trace: %v, up to %d Ps running at once\n", s.total.Round(time.Millisecond), s.procs)
	for n := 0; n <= s.procs; n++ {
		fmt.Fprintf(w, "  %d Ps running: %5.1f%%\n", n, pct(s.byCount[n]))
	}
	fmt.Fprintf(w, "starved (fewer than %d Ps running while goroutines were runnable): %.1f%%\n", s.procs, pct(s.starved))
	if n := len(s.stretch); n > 0 {
		slices.Sort(s.stretch)
		q := func(p int) time.Duration { return s.stretch[min(n*p/100, n-1)] }
		var long time.Duration
		for _, d := range s.stretch {
			if d >= 50*time.Microsecond {
				long += d
			}
		}
		fmt.Fprintf(w, "  %d stretches: p50 %v, p90 %v, p99 %v, max %v; those of 50 µs or more make %.1f%% of the trace\n",
			n, q(50), q(90), q(99), s.stretch[n-1], pct(long))
	}
	fmt.Fprintln(w, "  running while starved:")
	keys := slices.SortedFunc(maps.Keys(s.whileRan), func(a, b string) int { return cmp.Compare(s.whileRan[b], s.whileRan[a]) })
	for _, k := range keys[:min(len(keys), 6)] {
		fmt.Fprintf(w, "    %5.1f%%  %s\n", pct(s.whileRan[k]), k)
	}
}
