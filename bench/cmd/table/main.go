// Command table reads `go test -bench` output (any -count) on standard input
// and prints, in Markdown, the goals of bench/README.md with the ratio of
// fcgiscope to the peer measured in the same run, then the median of every
// figure of every benchmark.
package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

func main() {
	res, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
	if len(res.order) == 0 {
		fmt.Fprintln(os.Stderr, "table: no benchmark results on standard input")
		os.Exit(1)
	}
	printReport(os.Stdout, res)
}

// results holds every value of every benchmark, by name (without the
// -GOMAXPROCS suffix) and unit, plus the configuration lines. bench/run
// runs every benchmark once per round and marks the rounds with
// "# round N" lines, so that each ratio can be taken between figures
// measured minutes apart at most, on a machine whose load drifts.
type results struct {
	values map[string]map[string][]sample
	order  []string // benchmark names in order of appearance
	config []string // "key: value" lines, first occurrence of each key
	rounds int      // "# round" lines seen
}

// sample is one value and the round it was measured in (0 without
// round lines).
type sample struct {
	round int
	v     float64
}

var (
	benchLine  = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	configLine = regexp.MustCompile(`^([a-z][a-zA-Z0-9_-]*):\s+(.*)$`)
	// A comment to the benchmark format (and so to benchstat).
	roundLine = regexp.MustCompile(`^# round (\d+)\b`)
)

// parse reads benchmark output: result lines and "key: value" lines;
// anything else (PASS, ok, logs) is ignored.
func parse(r io.Reader) (*results, error) {
	res := &results{values: map[string]map[string][]sample{}}
	seen := map[string]bool{}
	round := 0
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := roundLine.FindStringSubmatch(line); m != nil {
			round, _ = strconv.Atoi(m[1])
			res.rounds++
			continue
		}
		if m := configLine.FindStringSubmatch(line); m != nil {
			if !seen[m[1]] {
				seen[m[1]] = true
				res.config = append(res.config, m[1]+": "+m[2])
			}
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		fields := strings.Fields(m[3])
		if len(fields)%2 != 0 {
			return nil, fmt.Errorf("%s: odd number of value/unit fields in %q", name, line)
		}
		if res.values[name] == nil {
			res.values[name] = map[string][]sample{}
			res.order = append(res.order, name)
		}
		for i := 0; i < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", name, fields[i], err)
			}
			res.values[name][fields[i+1]] = append(res.values[name][fields[i+1]], sample{round, v})
		}
	}
	return res, sc.Err()
}

// samples returns the named benchmark's samples in unit. The unit "req/s"
// falls back to 1e9/ns/op for sequential benchmarks, which report none.
func (r *results) samples(name, unit string) []sample {
	vs := r.values[name][unit]
	if len(vs) == 0 && unit == "req/s" {
		for _, s := range r.values[name]["ns/op"] {
			if s.v > 0 {
				vs = append(vs, sample{s.round, 1e9 / s.v})
			}
		}
	}
	return vs
}

// runs returns how many times the named benchmark ran: its most reported
// unit's count (BenchmarkFrontEnd reports no ns/op).
func (r *results) runs(name string) int {
	n := 0
	for _, ss := range r.values[name] {
		n = max(n, len(ss))
	}
	return n
}

// ranGroupOf reports whether any benchmark of f's top-level group ran
// (BenchmarkX of BenchmarkX/sub).
func (r *results) ranGroupOf(f figure) bool {
	var name string
	switch f := f.(type) {
	case metric:
		name = f.bench
	case perRecord:
		name = f.few
	case fastest:
		name = f.a.bench
	}
	group, _, _ := strings.Cut(name, "/")
	for _, n := range r.order {
		if g, _, _ := strings.Cut(n, "/"); g == group {
			return true
		}
	}
	return false
}

// median returns the median of the named benchmark's values in unit, and
// whether there were any.
func (r *results) median(name, unit string) (float64, bool) {
	return medianOf(values(r.samples(name, unit)))
}

func values(ss []sample) []float64 {
	vs := make([]float64, len(ss))
	for i, s := range ss {
		vs[i] = s.v
	}
	return vs
}

func medianOf(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2], true
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2, true
}

// byRound returns the mean value of each round.
func byRound(ss []sample) map[int]float64 {
	sum, n := map[int]float64{}, map[int]int{}
	for _, s := range ss {
		sum[s.round] += s.v
		n[s.round]++
	}
	for k := range sum {
		sum[k] /= float64(n[k])
	}
	return sum
}

// spread is half the range of the values in unit, relative to the median.
func (r *results) spread(name, unit string) float64 {
	vs := values(r.samples(name, unit))
	med, ok := medianOf(vs)
	if !ok || med == 0 || len(vs) < 2 {
		return 0
	}
	return (slices.Max(vs) - slices.Min(vs)) / 2 / med
}

// figure is one number taken from the results, per round.
type figure interface {
	perRound(r *results) map[int]float64
	value(r *results) (float64, bool) // median over all runs
	label() string
}

// metric is a benchmark's value in a unit.
type metric struct{ bench, unit string }

func (m metric) perRound(r *results) map[int]float64 { return byRound(r.samples(m.bench, m.unit)) }
func (m metric) value(r *results) (float64, bool)    { return r.median(m.bench, m.unit) }
func (m metric) label() string                       { return strings.TrimPrefix(m.bench, "Benchmark") }

// perRecord is the growth of a unit per extra record between a benchmark
// with few records and one with many.
type perRecord struct {
	few, many   string
	nFew, nMany float64
	unit        string
}

func (p perRecord) perRound(r *results) map[int]float64 {
	a, b := byRound(r.samples(p.few, p.unit)), byRound(r.samples(p.many, p.unit))
	out := map[int]float64{}
	for k, va := range a {
		if vb, ok := b[k]; ok {
			out[k] = (vb - va) / (p.nMany - p.nFew)
		}
	}
	return out
}

func (p perRecord) value(r *results) (float64, bool) {
	a, ok1 := r.median(p.few, p.unit)
	b, ok2 := r.median(p.many, p.unit)
	if !ok1 || !ok2 {
		return 0, false
	}
	return (b - a) / (p.nMany - p.nFew), true
}

func (p perRecord) label() string {
	return fmt.Sprintf("(%s − %s)/%g", strings.TrimPrefix(p.many, "Benchmark"), strings.TrimPrefix(p.few, "Benchmark"), p.nMany-p.nFew)
}

// fastest is the higher of two metrics, per round: the bulk baseline is
// the faster of io.Copy and a 64 KiB read loop, whichever wins on the
// machine (io.Copy's 8 KiB reads lose by a third on some).
type fastest struct{ a, b metric }

func (f fastest) perRound(r *results) map[int]float64 {
	out := f.a.perRound(r)
	for k, v := range f.b.perRound(r) {
		out[k] = max(out[k], v)
	}
	return out
}

func (f fastest) value(r *results) (float64, bool) {
	va, oka := f.a.value(r)
	vb, okb := f.b.value(r)
	return max(va, vb), oka || okb
}

func (f fastest) label() string { return "max(" + f.a.label() + ", " + f.b.label() + ")" }

// ratio returns ours/peer: the median of the ratios of the rounds in which
// both were measured (with their range), or the ratio of the medians when
// the output has no rounds.
func ratio(r *results, ours, peer figure) (med, lo, hi float64, ok bool) {
	a, b := ours.perRound(r), peer.perRound(r)
	var rs []float64
	for k, va := range a {
		if vb, found := b[k]; found && vb != 0 && r.rounds > 1 {
			rs = append(rs, va/vb)
		}
	}
	if len(rs) == 0 {
		va, ok1 := ours.value(r)
		vb, ok2 := peer.value(r)
		if !ok1 || !ok2 || vb == 0 {
			return 0, 0, 0, false
		}
		return va / vb, va / vb, va / vb, true
	}
	med, _ = medianOf(rs)
	return med, slices.Min(rs), slices.Max(rs), true
}

// goal is one row of the goals table: ours compared with peer. With a peer
// the ratio ours/peer is checked against the bound; without one, ours
// itself is. An empty op marks a row shown for information.
type goal struct {
	scenario, measure string
	ours, peer        figure
	op                string // ">=", "<=" or "" (information)
	bound             float64
}

// frontScenario is BenchmarkFrontEnd's: fcgiscope proxy against nginx.
const frontScenario = "HTTP front end, php-fpm static×8 unix, wrk -c64"

// front is a metric of a peer of BenchmarkFrontEnd.
func front(peer, unit string) metric { return metric{"BenchmarkFrontEnd/" + peer, unit} }

// bulkBaseline is the plain-socket peer of the bulk response.
var bulkBaseline = fastest{metric{"BenchmarkResponse256MiB/iocopy", "MB/s"}, metric{"BenchmarkResponse256MiB/read64k", "MB/s"}}

// goals are the targets of the issue, then reference rows.
var goals = []goal{
	{"tiny GET, 1 keep-alive conn, in-process server", "req/s vs Caddy", metric{"BenchmarkTinyGET/fcgiscope-conn", "req/s"}, metric{"BenchmarkTinyGET/caddy", "req/s"}, ">=", 1.5},
	{"tiny GET, 1 keep-alive conn, in-process server", "req/s vs wire limit, in turns", metric{"BenchmarkTinyGETPaired", "fcgiscope-conn-req/s"}, metric{"BenchmarkTinyGETPaired", "wire-req/s"}, ">=", 0.8},
	{"tiny GET, allocations (server in a child process)", "B/op vs Caddy", metric{"BenchmarkTinyGETAllocs/fcgiscope-conn", "B/op"}, metric{"BenchmarkTinyGETAllocs/caddy", "B/op"}, "<=", 0.25},
	{"tiny GET, allocations (server in a child process)", "allocs/op vs Caddy", metric{"BenchmarkTinyGETAllocs/fcgiscope-conn", "allocs/op"}, metric{"BenchmarkTinyGETAllocs/caddy", "allocs/op"}, "<=", 0.25},
	{"tiny GET, allocations, trace hook off", "allocs per STDOUT record", perRecord{"BenchmarkRecords/trace=off/n=1", "BenchmarkRecords/trace=off/n=64", 1, 64, "allocs/op"}, nil, "<=", 0},
	{"64 concurrent, php-fpm static×8, TCP", "p50 vs Caddy", metric{"BenchmarkPHPFPM64/tcp/fcgiscope-client", "p50-ns"}, metric{"BenchmarkPHPFPM64/tcp/caddy", "p50-ns"}, "<=", 1},
	{"64 concurrent, php-fpm static×8, TCP", "p99 vs Caddy", metric{"BenchmarkPHPFPM64/tcp/fcgiscope-client", "p99-ns"}, metric{"BenchmarkPHPFPM64/tcp/caddy", "p99-ns"}, "<=", 1},
	{"64 concurrent, php-fpm static×8, unix", "p50 vs Caddy", metric{"BenchmarkPHPFPM64/unix/fcgiscope-client", "p50-ns"}, metric{"BenchmarkPHPFPM64/unix/caddy", "p50-ns"}, "<=", 1},
	{"64 concurrent, php-fpm static×8, unix", "p99 vs Caddy", metric{"BenchmarkPHPFPM64/unix/fcgiscope-client", "p99-ns"}, metric{"BenchmarkPHPFPM64/unix/caddy", "p99-ns"}, "<=", 1},
	{"256 MiB response, unix socket", "MB/s vs the faster of io.Copy and a 64 KiB read loop", metric{"BenchmarkResponse256MiB/fcgiscope-conn", "MB/s"}, bulkBaseline, ">=", 0.7},
	{"64 MiB POST body, unix socket", "MB/s vs plain io.Copy", metric{"BenchmarkPOST64MiB/fcgiscope-conn", "MB/s"}, metric{"BenchmarkPOST64MiB/iocopy", "MB/s"}, ">=", 0.7},
	{"multiplexed, 64 on 1 conn, in-process server", "req/s vs one at a time", metric{"BenchmarkMux/inproc/concurrent-64", "req/s"}, metric{"BenchmarkMux/inproc/one-at-a-time", "req/s"}, ">=", 2},
	{frontScenario, "req/s vs nginx", front("proxy", "req/s"), front("nginx", "req/s"), ">=", 0.9},
	{frontScenario + ", recording", "req/s vs nginx", front("proxy-record", "req/s"), front("nginx", "req/s"), ">=", 0.7},
	{frontScenario, "p99 vs nginx", front("proxy", "p99-ns"), front("nginx", "p99-ns"), "<=", 1.5},
	{frontScenario, "CPU per request vs nginx", front("proxy", "cpu-us/req"), front("nginx", "cpu-us/req"), "<=", 1.5},
	{frontScenario, "RSS growth over the run, MiB", front("proxy", "rss-growth-MiB"), nil, "<=", 4},
	{frontScenario + ", recording", "RSS growth over the run, MiB", front("proxy-record", "rss-growth-MiB"), nil, "<=", 4},

	{"tiny GET, 1 keep-alive conn, in-process server", "req/s vs wire limit, run apart", metric{"BenchmarkTinyGET/fcgiscope-conn", "req/s"}, metric{"BenchmarkTinyGET/wire", "req/s"}, "", 0},
	{"tiny GET, 1 keep-alive conn, in-process server", "req/s vs wire limit with a reading goroutine", metric{"BenchmarkTinyGET/fcgiscope-conn", "req/s"}, metric{"BenchmarkTinyGET/wire-reader", "req/s"}, "", 0},
	{"tiny GET, 1 keep-alive conn, in-process server", "wire limit with a reading goroutine vs wire limit", metric{"BenchmarkTinyGET/wire-reader", "req/s"}, metric{"BenchmarkTinyGET/wire", "req/s"}, "", 0},
	{"tiny GET, server in a child process", "wire limit with a reading goroutine vs wire limit", metric{"BenchmarkTinyGETAllocs/wire-reader", "req/s"}, metric{"BenchmarkTinyGETAllocs/wire", "req/s"}, "", 0},
	{"tiny GET, a connection per request", "req/s vs Caddy", metric{"BenchmarkTinyGET/fcgiscope-dial", "req/s"}, metric{"BenchmarkTinyGET/caddy", "req/s"}, "", 0},
	{"tiny GET, server in a child process", "req/s vs wire limit", metric{"BenchmarkTinyGETAllocs/fcgiscope-conn", "req/s"}, metric{"BenchmarkTinyGETAllocs/wire", "req/s"}, "", 0},
	{"tiny GET, a connection per request", "B/op vs Caddy", metric{"BenchmarkTinyGETAllocs/fcgiscope-dial", "B/op"}, metric{"BenchmarkTinyGETAllocs/caddy", "B/op"}, "", 0},
	{"tiny GET, trace hook on", "allocs per record", perRecord{"BenchmarkRecords/trace=on/n=1", "BenchmarkRecords/trace=on/n=64", 1, 64, "allocs/op"}, nil, "", 0},
	{"64 concurrent, php-fpm, TCP", "p99.9 vs Caddy", metric{"BenchmarkPHPFPM64/tcp/fcgiscope-client", "p99.9-ns"}, metric{"BenchmarkPHPFPM64/tcp/caddy", "p99.9-ns"}, "", 0},
	{"64 concurrent, php-fpm, unix", "p99.9 vs Caddy", metric{"BenchmarkPHPFPM64/unix/fcgiscope-client", "p99.9-ns"}, metric{"BenchmarkPHPFPM64/unix/caddy", "p99.9-ns"}, "", 0},
	{"64 concurrent, php-fpm, TCP", "max vs Caddy", metric{"BenchmarkPHPFPM64/tcp/fcgiscope-client", "max-ns"}, metric{"BenchmarkPHPFPM64/tcp/caddy", "max-ns"}, "", 0},
	{"64 concurrent, php-fpm, unix", "max vs Caddy", metric{"BenchmarkPHPFPM64/unix/fcgiscope-client", "max-ns"}, metric{"BenchmarkPHPFPM64/unix/caddy", "max-ns"}, "", 0},
	{"64 concurrent, php-fpm, TCP, conn per request", "p50 vs Caddy", metric{"BenchmarkPHPFPM64/tcp/fcgiscope-dial", "p50-ns"}, metric{"BenchmarkPHPFPM64/tcp/caddy", "p50-ns"}, "", 0},
	{"64 concurrent, php-fpm, TCP, conn per request", "p99 vs Caddy", metric{"BenchmarkPHPFPM64/tcp/fcgiscope-dial", "p99-ns"}, metric{"BenchmarkPHPFPM64/tcp/caddy", "p99-ns"}, "", 0},
	{"64 concurrent, php-fpm, unix, conn per request", "p50 vs Caddy", metric{"BenchmarkPHPFPM64/unix/fcgiscope-dial", "p50-ns"}, metric{"BenchmarkPHPFPM64/unix/caddy", "p50-ns"}, "", 0},
	{"64 concurrent, php-fpm, unix, conn per request", "p99 vs Caddy", metric{"BenchmarkPHPFPM64/unix/fcgiscope-dial", "p99-ns"}, metric{"BenchmarkPHPFPM64/unix/caddy", "p99-ns"}, "", 0},
	{"256 MiB response", "MB/s vs plain io.Copy", metric{"BenchmarkResponse256MiB/fcgiscope-conn", "MB/s"}, metric{"BenchmarkResponse256MiB/iocopy", "MB/s"}, "", 0},
	{"256 MiB response", "MB/s vs 64 KiB read loop", metric{"BenchmarkResponse256MiB/fcgiscope-conn", "MB/s"}, metric{"BenchmarkResponse256MiB/read64k", "MB/s"}, "", 0},
	{"256 MiB response", "Caddy MB/s vs plain io.Copy", metric{"BenchmarkResponse256MiB/caddy", "MB/s"}, metric{"BenchmarkResponse256MiB/iocopy", "MB/s"}, "", 0},
	{"256 MiB response, from fcgi.Server", "MB/s vs plain io.Copy", metric{"BenchmarkResponse256MiB/fcgiscope-conn-server", "MB/s"}, metric{"BenchmarkResponse256MiB/iocopy", "MB/s"}, "", 0},
	{"64 MiB POST body", "Caddy MB/s vs plain io.Copy", metric{"BenchmarkPOST64MiB/caddy", "MB/s"}, metric{"BenchmarkPOST64MiB/iocopy", "MB/s"}, "", 0},
	{"64 MiB POST body", "wire (writev) MB/s vs plain io.Copy", metric{"BenchmarkPOST64MiB/wire", "MB/s"}, metric{"BenchmarkPOST64MiB/iocopy", "MB/s"}, "", 0},
	{"64 MiB POST body, to fcgi.Server", "MB/s vs plain io.Copy", metric{"BenchmarkPOST64MiB/fcgiscope-conn-server", "MB/s"}, metric{"BenchmarkPOST64MiB/iocopy", "MB/s"}, "", 0},
	{"multiplexed, 64 on 1 conn, in-process server", "CPUs busy vs one at a time", metric{"BenchmarkMux/inproc/concurrent-64", "cpus"}, metric{"BenchmarkMux/inproc/one-at-a-time", "cpus"}, "", 0},
	{"64 goroutines and a server goroutine over channels, no socket", "CPUs busy", metric{"BenchmarkChanPipeline", "cpus"}, nil, "", 0},
	{"a goroutine readied while its P is busy, the other P idle", "wait until it runs, p50", metric{"BenchmarkIdleWake", "p50-ns"}, nil, "", 0},
	{"a goroutine readied while its P is busy, the other P idle", "wait until it runs, p99", metric{"BenchmarkIdleWake", "p99-ns"}, nil, "", 0},
	{"multiplexed, 64 on 1 conn, server in a child", "req/s vs one at a time", metric{"BenchmarkMux/child/concurrent-64", "req/s"}, metric{"BenchmarkMux/child/one-at-a-time", "req/s"}, "", 0},
	{frontScenario, "req/s vs nginx with fastcgi_keep_conn", front("proxy", "req/s"), front("nginx-keepconn", "req/s"), "", 0},
	{frontScenario, "p99 vs nginx with fastcgi_keep_conn", front("proxy", "p99-ns"), front("nginx-keepconn", "p99-ns"), "", 0},
	{frontScenario, "p50 vs nginx", front("proxy", "p50-ns"), front("nginx", "p50-ns"), "", 0},
	{frontScenario, "php-fpm's CPU per request vs behind nginx", front("proxy", "fpm-cpu-us/req"), front("nginx", "fpm-cpu-us/req"), "", 0},
	{frontScenario + ", recording", "p99 vs nginx", front("proxy-record", "p99-ns"), front("nginx", "p99-ns"), "", 0},
	{frontScenario + ", recording", "CPU per request vs nginx", front("proxy-record", "cpu-us/req"), front("nginx", "cpu-us/req"), "", 0},
	{frontScenario + ", recording", "exchanges dropped from the recording", front("proxy-record", "dropped-frac"), nil, "", 0},
	{frontScenario + ", recording on tmpfs", "req/s vs nginx", front("proxy-record-shm", "req/s"), front("nginx", "req/s"), "", 0},
	{frontScenario + ", a connection per request", "req/s vs nginx", front("proxy-dial", "req/s"), front("nginx", "req/s"), "", 0},
	{frontScenario + ", a connection per request", "CPU per request vs nginx", front("proxy-dial", "cpu-us/req"), front("nginx", "cpu-us/req"), "", 0},
	{frontScenario + ", a connection per request", "php-fpm's CPU per request vs behind nginx", front("proxy-dial", "fpm-cpu-us/req"), front("nginx", "fpm-cpu-us/req"), "", 0},
	{frontScenario + ", before (FRONT_OLD)", "req/s vs nginx", front("proxy-old", "req/s"), front("nginx", "req/s"), "", 0},
	{frontScenario + ", recording, before (FRONT_OLD)", "req/s vs nginx", front("proxy-old-record", "req/s"), front("nginx", "req/s"), "", 0},
	{frontScenario + ", before (FRONT_OLD)", "CPU per request vs nginx", front("proxy-old", "cpu-us/req"), front("nginx", "cpu-us/req"), "", 0},
	{frontScenario + ", before (FRONT_OLD)", "php-fpm's CPU per request vs behind nginx", front("proxy-old", "fpm-cpu-us/req"), front("nginx", "fpm-cpu-us/req"), "", 0},
	{"single request, new conn, fcgi.Server", "latency vs cgi-fcgi", metric{"BenchmarkSingleRequest/server/fcgiscope-dial", "ns/op"}, metric{"BenchmarkSingleRequest/server/cgi-fcgi", "ns/op"}, "", 0},
	{"single request, new conn, fcgi.Server", "latency vs Caddy", metric{"BenchmarkSingleRequest/server/fcgiscope-dial", "ns/op"}, metric{"BenchmarkSingleRequest/server/caddy", "ns/op"}, "", 0},
	{"single request, new conn, php-fpm unix", "latency vs cgi-fcgi", metric{"BenchmarkSingleRequest/php-unix/fcgiscope-dial", "ns/op"}, metric{"BenchmarkSingleRequest/php-unix/cgi-fcgi", "ns/op"}, "", 0},
	{"single request, new conn, php-fpm unix", "latency vs Caddy", metric{"BenchmarkSingleRequest/php-unix/fcgiscope-dial", "ns/op"}, metric{"BenchmarkSingleRequest/php-unix/caddy", "ns/op"}, "", 0},
}

// verdict checks x against the goal: "met", or by how much it misses.
func verdict(g goal, x float64) string {
	switch g.op {
	case ">=":
		if x >= g.bound {
			return "met"
		}
		return fmt.Sprintf("**not met** (%.0f%% short)", (g.bound-x)/g.bound*100)
	case "<=":
		if x <= g.bound {
			return "met"
		}
		if g.bound == 0 {
			return fmt.Sprintf("**not met** (%.2f over)", x)
		}
		return fmt.Sprintf("**not met** (%.0f%% over)", (x-g.bound)/g.bound*100)
	}
	return "info"
}

func printReport(w io.Writer, r *results) {
	if len(r.config) > 0 {
		for _, c := range r.config {
			fmt.Fprintf(w, "    %s\n", c)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "fcgiscope and peer: medians over the runs. ratio: median over the rounds of the ratio")
	fmt.Fprintln(w, "fcgiscope/peer measured in each round, and its range.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| scenario | measure | fcgiscope | peer | ratio | range | goal | verdict |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---|---|")
	for _, g := range goals {
		if !r.ranGroupOf(g.ours) {
			continue // a run of some benchmarks only (BENCH=…): rows of the others left out
		}
		ours, ok := g.ours.value(r)
		if !ok {
			fmt.Fprintf(w, "| %s | %s | missing: %s | | | | %s | not measured |\n", g.scenario, g.measure, g.ours.label(), goalText(g))
			continue
		}
		unit := unitOf(g.ours)
		if g.peer == nil {
			fmt.Fprintf(w, "| %s | %s | %s | | | | %s | %s |\n", g.scenario, g.measure, format(ours, unit), goalText(g), verdict(g, ours))
			continue
		}
		peer, ok1 := g.peer.value(r)
		x, lo, hi, ok2 := ratio(r, g.ours, g.peer)
		if !ok1 || !ok2 {
			fmt.Fprintf(w, "| %s | %s | %s | missing: %s | | | %s | not measured |\n", g.scenario, g.measure, format(ours, unit), g.peer.label(), goalText(g))
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %.2f× | %.2f–%.2f | %s | %s |\n", g.scenario, g.measure,
			format(ours, unit), format(peer, unitOf(g.peer)), x, lo, hi, goalText(g), verdict(g, x))
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Medians; ± is half the range over the runs, relative to the median of ns/op.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| benchmark | runs | ns/op | ± | req/s | MB/s | p50 | p99 | p99.9 | max | B/op | allocs/op |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, name := range r.order {
		cell := func(unit string) string {
			v, ok := r.median(name, unit)
			if !ok {
				return ""
			}
			return format(v, unit)
		}
		mbs := cell("MB/s")
		reqs := ""
		if mbs == "" {
			reqs = cell("req/s")
		}
		fmt.Fprintf(w, "| %s | %d | %s | %.0f%% | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			strings.TrimPrefix(name, "Benchmark"), r.runs(name), cell("ns/op"), r.spread(name, "ns/op")*100,
			reqs, mbs, cell("p50-ns"), cell("p99-ns"), cell("p99.9-ns"), cell("max-ns"), cell("B/op"), cell("allocs/op"))
	}
}

func goalText(g goal) string {
	switch g.op {
	case "":
		return ""
	case ">=":
		return fmt.Sprintf("≥ %g×", g.bound)
	}
	if g.peer == nil {
		return fmt.Sprintf("≤ %g", g.bound)
	}
	return fmt.Sprintf("≤ %g×", g.bound)
}

func unitOf(f figure) string {
	switch f := f.(type) {
	case metric:
		return f.unit
	case perRecord:
		return f.unit
	case fastest:
		return f.a.unit
	}
	return ""
}

// format renders v in unit for the table: durations in µs or ms, rates
// rounded, counts as integers, CPUs busy with two decimals.
func format(v float64, unit string) string {
	switch unit {
	case "ns/op", "p50-ns", "p99-ns", "p99.9-ns", "max-ns":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2f ms", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1f µs", v/1e3)
		}
		return fmt.Sprintf("%.0f ns", v)
	case "req/s", "MB/s", "B/op":
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	if strings.HasSuffix(unit, "-req/s") { // a peer's rate in a paired benchmark
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	}
	switch unit {
	case "cpus":
		return fmt.Sprintf("%.2f", v)
	case "allocs/op":
		if v == math.Trunc(v) {
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
