// Tests of the parser, the medians, the ratios and the verdicts.

package main

import (
	"bytes"
	"strings"
	"testing"
)

const sampleOutput = `goos: linux
goarch: amd64
pkg: fcgiscope/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkTinyGET/fcgiscope-conn-2         	   38586	     30000 ns/op	    8402 B/op	      77 allocs/op
BenchmarkTinyGET/caddy-2                  	    6648	    180000 ns/op	  199803 B/op	     174 allocs/op
BenchmarkTinyGET/wire-2                   	   44632	     20000 ns/op	    7712 B/op	      69 allocs/op
some log line: with a colon that is not config
BenchmarkTinyGET/fcgiscope-conn-2         	   38586	     10000 ns/op	    8402 B/op	      77 allocs/op
BenchmarkTinyGET/fcgiscope-conn-2         	   38586	     20000 ns/op	    8402 B/op	      77 allocs/op
BenchmarkRecords/trace=off/n=1-2         	   21697	     54453 ns/op	     688 B/op	       9 allocs/op
BenchmarkRecords/trace=off/n=64-2        	    9366	    161577 ns/op	     688 B/op	      72 allocs/op
BenchmarkPHPFPM64/tcp/fcgiscope-client-2 	   42462	     25121 ns/op	    170482 p50-ns	    702434 p99-ns	     39808 req/s	    1160 B/op	      11 allocs/op
BenchmarkResponse256MiB/fcgiscope-conn-2 	      20	  58840348 ns/op	4562.10 MB/s	     746 B/op	       9 allocs/op
BenchmarkTinyGETPaired-2                 	  200000	     11250 ns/op	     79000 fcgiscope-conn-req/s	    100000 wire-req/s	    2700 B/op	       7 allocs/op
PASS
ok  	fcgiscope/bench	29.840s
`

func TestParseAndMedian(t *testing.T) {
	r, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := r.median("BenchmarkTinyGET/fcgiscope-conn", "ns/op"); got != 20000 {
		t.Errorf("median ns/op = %v, want 20000 (of 30000, 10000, 20000)", got)
	}
	if got, _ := r.median("BenchmarkTinyGET/fcgiscope-conn", "req/s"); got != 50000 {
		t.Errorf("req/s from ns/op = %v, want 50000", got)
	}
	if got, _ := r.median("BenchmarkPHPFPM64/tcp/fcgiscope-client", "req/s"); got != 39808 {
		t.Errorf("reported req/s = %v, want 39808", got)
	}
	if got, _ := r.median("BenchmarkResponse256MiB/fcgiscope-conn", "MB/s"); got != 4562.10 {
		t.Errorf("MB/s = %v", got)
	}
	if got := r.spread("BenchmarkTinyGET/fcgiscope-conn", "ns/op"); got != 0.5 {
		t.Errorf("spread = %v, want 0.5 ((30000-10000)/2/20000)", got)
	}
	if _, ok := r.median("BenchmarkNope", "ns/op"); ok {
		t.Error("median of a missing benchmark")
	}
	want := []string{"BenchmarkTinyGET/fcgiscope-conn", "BenchmarkTinyGET/caddy", "BenchmarkTinyGET/wire",
		"BenchmarkRecords/trace=off/n=1", "BenchmarkRecords/trace=off/n=64",
		"BenchmarkPHPFPM64/tcp/fcgiscope-client", "BenchmarkResponse256MiB/fcgiscope-conn", "BenchmarkTinyGETPaired"}
	if strings.Join(r.order, ",") != strings.Join(want, ",") {
		t.Errorf("order %v, want %v", r.order, want)
	}
	if len(r.config) != 4 || r.config[3] != "cpu: Intel(R) Xeon(R) Processor" {
		t.Errorf("config %q", r.config)
	}
}

func TestPerRecord(t *testing.T) {
	r, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := perRecord{"BenchmarkRecords/trace=off/n=1", "BenchmarkRecords/trace=off/n=64", 1, 64, "allocs/op"}.value(r)
	if !ok || v != 1 {
		t.Errorf("per record = %v, %v; want 1 ((72-9)/63)", v, ok)
	}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		g    goal
		x    float64
		want string
	}{
		{goal{op: ">=", bound: 1.5}, 6, "met"},
		{goal{op: ">=", bound: 2}, 1.5, "**not met** (25% short)"},
		{goal{op: "<=", bound: 0.25}, 0.5, "**not met** (100% over)"},
		{goal{op: "<=", bound: 1}, 1, "met"},
		{goal{op: "<=", bound: 0}, 1, "**not met** (1.00 over)"},
		{goal{}, 3, "info"},
	} {
		if got := verdict(tc.g, tc.x); got != tc.want {
			t.Errorf("verdict(%s %v, %v) = %q, want %q", tc.g.op, tc.g.bound, tc.x, got, tc.want)
		}
	}
}

func TestReport(t *testing.T) {
	r, err := parse(strings.NewReader(sampleOutput))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	printReport(&out, r)
	s := out.String()
	for _, want := range []string{
		"| tiny GET, 1 keep-alive conn, in-process server | req/s vs Caddy | 50000 | 5556 | 9.00× | 9.00–9.00 | ≥ 1.5× | met |",
		"| tiny GET, 1 keep-alive conn, in-process server | req/s vs wire limit, in turns | 79000 | 100000 | 0.79× | 0.79–0.79 | ≥ 0.8× | **not met** (1% short) |",
		"| tiny GET, 1 keep-alive conn, in-process server | req/s vs wire limit, run apart | 50000 | 50000 | 1.00× | 1.00–1.00 |  | info |",
		"| tiny GET, allocations, trace hook off | allocs per STDOUT record | 1 | | | | ≤ 0 | **not met** (1.00 over) |",
		"| tiny GET, 1 keep-alive conn, in-process server | req/s vs wire limit with a reading goroutine | 50000 | missing: TinyGET/wire-reader |",
		"| TinyGET/fcgiscope-conn | 3 | 20.0 µs | 50% | 50000 |",
		"| Response256MiB/fcgiscope-conn | 1 | 58.84 ms | 0% |  | 4562 |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
}

// Rounds pair the figures: the ratio is the median of the ratios of each
// round, not the ratio of the medians.
func TestRatioByRound(t *testing.T) {
	const out = `# round 1, load 0.50 0.40 0.30
BenchmarkTinyGET/fcgiscope-conn-2  1  100 ns/op
BenchmarkTinyGET/caddy-2           1  200 ns/op
# round 2
BenchmarkTinyGET/fcgiscope-conn-2  1  300 ns/op
BenchmarkTinyGET/caddy-2           1  1200 ns/op
# round 3
BenchmarkTinyGET/fcgiscope-conn-2  1  400 ns/op
BenchmarkTinyGET/caddy-2           1  1000 ns/op
`
	r, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.rounds != 3 {
		t.Fatalf("rounds = %d", r.rounds)
	}
	ours := metric{"BenchmarkTinyGET/fcgiscope-conn", "ns/op"}
	peer := metric{"BenchmarkTinyGET/caddy", "ns/op"}
	med, lo, hi, ok := ratio(r, ours, peer)
	// Ratios per round: 0.5, 0.25, 0.4; the ratio of the medians would be 300/1000.
	if !ok || med != 0.4 || lo != 0.25 || hi != 0.5 {
		t.Errorf("ratio = %v (%v–%v), %v; want 0.4 (0.25–0.5)", med, lo, hi, ok)
	}
	for _, c := range r.config {
		if strings.HasPrefix(c, "round") {
			t.Errorf("round line kept as config: %q", c)
		}
	}
}

// The bulk baseline is the faster of io.Copy and the 64 KiB read loop in
// each round.
func TestFastestBaseline(t *testing.T) {
	const out = `# round 1
BenchmarkResponse256MiB/fcgiscope-conn-2  1  1 ns/op  4000 MB/s
BenchmarkResponse256MiB/iocopy-2          1  1 ns/op  2000 MB/s
BenchmarkResponse256MiB/read64k-2         1  1 ns/op  5000 MB/s
# round 2
BenchmarkResponse256MiB/fcgiscope-conn-2  1  1 ns/op  4000 MB/s
BenchmarkResponse256MiB/iocopy-2          1  1 ns/op  4000 MB/s
BenchmarkResponse256MiB/read64k-2         1  1 ns/op  3000 MB/s
`
	r, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	med, lo, hi, ok := ratio(r, metric{"BenchmarkResponse256MiB/fcgiscope-conn", "MB/s"}, bulkBaseline)
	// Round 1: 4000/5000 = 0.8; round 2: 4000/4000 = 1.
	if !ok || med != 0.9 || lo != 0.8 || hi != 1 {
		t.Errorf("ratio = %v (%v–%v), %v; want 0.9 (0.8–1)", med, lo, hi, ok)
	}
	if v, ok := bulkBaseline.value(r); !ok || v != 4000 {
		t.Errorf("baseline value = %v, %v; want the higher median, 4000", v, ok)
	}
}

// The front-end rows read BenchmarkFrontEnd's metrics, none of them ns/op.
func TestFrontEndRows(t *testing.T) {
	const out = `# round 1, load 3.00
BenchmarkFrontEnd/nginx-2   1   30 cpu-us/req   0 errors   40 fpm-cpu-us/req   3 load1   3000000 p50-ns   6000000 p99-ns   12 peak-rss-MiB   10000 req/s   0 rss-growth-MiB
BenchmarkFrontEnd/proxy-2   1   45 cpu-us/req   0 errors   42 fpm-cpu-us/req   3 load1   3300000 p50-ns   6600000 p99-ns   30 peak-rss-MiB   9000 req/s   0.5 rss-growth-MiB
BenchmarkFrontEnd/proxy-record-2   1   60 cpu-us/req   0 dropped-frac   0 errors   42 fpm-cpu-us/req   3 load1   3300000 p50-ns   9000000 p99-ns   30 peak-rss-MiB   6000 req/s   8 rss-growth-MiB
`
	r, err := parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printReport(&b, r)
	s := b.String()
	for _, want := range []string{
		"| " + frontScenario + " | req/s vs nginx | 9000 | 10000 | 0.90× | 0.90–0.90 | ≥ 0.9× | met |",
		"| " + frontScenario + ", recording | req/s vs nginx | 6000 | 10000 | 0.60× | 0.60–0.60 | ≥ 0.7× | **not met** (14% short) |",
		"| " + frontScenario + " | CPU per request vs nginx | 45 | 30 | 1.50× | 1.50–1.50 | ≤ 1.5× | met |",
		"| " + frontScenario + ", recording | RSS growth over the run, MiB | 8 | | | | ≤ 4 | **not met** (100% over) |",
		"| FrontEnd/proxy | 1 |  | 0% | 9000 |  | 3.30 ms | 6.60 ms |",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "TinyGET") {
		t.Errorf("rows of benchmarks that did not run at all:\n%s", s)
	}
	if strings.Contains(s, "TinyGET") {
		t.Errorf("rows of benchmarks that did not run at all:\n%s", s)
	}
}
