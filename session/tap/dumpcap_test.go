package tap_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/tap"
)

// needTool returns the path of a capture tool, skipping the test when it is
// missing (failing it with FCGISCOPE_REQUIRE_SERVERS=1).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(fcgitest.RequireServersEnv) == "1" {
			t.Fatalf("%s is not installed and %s=1 (apt-get install tshark)", name, fcgitest.RequireServersEnv)
		}
		t.Skipf("%s is not installed (apt-get install tshark; set %s=1 to fail instead)", name, fcgitest.RequireServersEnv)
	}
	return p
}

// dumpcap captures loopback traffic of a TCP port into a pcapng file until
// stopped.
type dumpcap struct {
	cmd  *exec.Cmd
	out  *fcgitest.SyncBuffer
	file string
	done chan error
}

func startDumpcap(t *testing.T, port int) *dumpcap {
	t.Helper()
	bin := needTool(t, "dumpcap")
	if os.Geteuid() != 0 {
		t.Skip("capturing on the loopback interface needs root")
	}
	d := &dumpcap{out: &fcgitest.SyncBuffer{}, file: filepath.Join(t.TempDir(), "fcgi.pcapng"), done: make(chan error, 1)}
	// -B 64: a MiB answer comes in segments of up to 64 KiB, faster than
	// dumpcap takes them on a busy machine; the default 2 MiB kernel buffer
	// overflows and drops some.
	d.cmd = exec.Command(bin, "-i", "lo", "-B", "64", "-f", fmt.Sprintf("tcp port %d", port), "-w", d.file)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { d.stop(t) })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(d.out.String(), "Capturing on") {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("dumpcap exited: %v\n%s", err, d.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dumpcap not capturing after 20 s:\n%s", d.out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// "Capturing on" comes before the capture really starts.
	d.sync(t, port, deadline)
	return d
}

// sync waits until every packet sent on the loopback so far is in the
// capture file: it opens bare connections to port (php-fpm takes them for
// nothing) until one of them is in the file. The loopback's packets are
// captured in order, but dumpcap gets them from the kernel in blocks that
// are handed over when full or after a timeout, and writes its file in its
// own time: a file's size says nothing of which packets it holds.
func (d *dumpcap) sync(t *testing.T, port int, deadline time.Time) {
	t.Helper()
	probes := map[layers.TCPPort]bool{}
	for {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			probes[layers.TCPPort(c.LocalAddr().(*net.TCPAddr).Port)] = true
			c.Close()
		}
		if capturedPort(d.file, probes) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("dumpcap wrote none of %d probe connections in 20 s:\n%s", len(probes), d.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// capturedPort reports whether the pcapng file, as much of it as is
// written, holds a TCP packet from or to one of ports.
func capturedPort(file string, ports map[layers.TCPPort]bool) bool {
	f, err := os.Open(file)
	if err != nil {
		return false
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(bufio.NewReader(f), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		return false // the file's headers are not written yet
	}
	for {
		data, _, err := r.ReadPacketData()
		if err != nil { // the end, or a block dumpcap is still writing
			return false
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && (ports[tcp.SrcPort] || ports[tcp.DstPort]) {
			return true
		}
	}
}

// stop ends the capture (SIGTERM: dumpcap writes what it has and exits).
func (d *dumpcap) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		t.Errorf("dumpcap did not stop on SIGTERM:\n%s", d.out.String())
	}
}

// dropped returns how many packets dumpcap says it dropped, from the line
// it writes when it stops: "Packets received/dropped on interface 'lo':
// 230/0 (…)".
func (d *dumpcap) dropped(t *testing.T) int {
	t.Helper()
	for _, line := range strings.Split(d.out.String(), "\n") {
		_, after, ok := strings.Cut(line, "received/dropped on interface")
		if !ok {
			continue
		}
		i := strings.LastIndex(after, "': ")
		if i < 0 {
			break
		}
		fields := strings.Fields(after[i+3:])
		if len(fields) == 0 {
			break
		}
		_, drops, _ := strings.Cut(fields[0], "/")
		n, err := strconv.Atoi(drops)
		if err != nil {
			break
		}
		return n
	}
	t.Fatalf("dumpcap said nothing of dropped packets:\n%s", d.out.String())
	return 0
}

// followedStream is one TCP stream as tshark reassembles it.
type followedStream struct {
	number         string
	client, server string // node 0 and node 1
	up, down       []byte // what node 0 sent, what node 1 sent
}

// tsharkStreams returns every TCP stream of file as tshark reassembles it
// (follow,tcp,raw) that carried any bytes.
func tsharkStreams(t *testing.T, file string) []followedStream {
	t.Helper()
	bin := needTool(t, "tshark")
	// Only the streams with payload: one tshark run each, and the
	// capture's probe connections carry none.
	out, err := exec.Command(bin, "-r", file, "-Y", "tcp.len > 0", "-T", "fields", "-e", "tcp.stream").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	seen := map[string]bool{}
	var streams []followedStream
	for _, n := range strings.Fields(string(out)) {
		if seen[n] {
			continue
		}
		seen[n] = true
		raw, err := exec.Command(bin, "-r", file, "-q", "-z", "follow,tcp,raw,"+n).Output()
		if err != nil {
			t.Fatalf("tshark follow %s: %v", n, err)
		}
		var s followedStream
		s.number = n
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "Node 0: "):
				s.client = strings.TrimPrefix(line, "Node 0: ")
			case strings.HasPrefix(line, "Node 1: "):
				s.server = strings.TrimPrefix(line, "Node 1: ")
			case strings.HasPrefix(line, "="), strings.HasPrefix(line, "Follow:"), strings.HasPrefix(line, "Filter:"), line == "":
			default:
				dst := &s.up
				if strings.HasPrefix(line, "\t") {
					dst = &s.down
				}
				b, err := hex.DecodeString(strings.TrimSpace(line))
				if err != nil {
					t.Fatalf("tshark follow %s: line %q: %v", n, line, err)
				}
				*dst = append(*dst, b...)
			}
		}
		if len(s.up)+len(s.down) > 0 { // bare connections carry nothing
			streams = append(streams, s)
		}
	}
	return streams
}

// TestReadDumpcapCapture: real traffic of nginx to php-fpm over TCP,
// captured with dumpcap, read back: every request is an exchange whose
// records are those of the same file's TCP streams as tshark reassembles
// them, a response of a MiB spanning many segments included.
func TestReadDumpcapCapture(t *testing.T) {
	needTool(t, "tshark")
	fpm := fcgitest.PHPFPM(t, fcgitest.PHPFPMOptions{Listen: fcgitest.ListenTCP})
	_, portText, _ := net.SplitHostPort(fpm.Addr)
	port, _ := strconv.Atoi(portText)
	ngx := fcgitest.Nginx(t, fcgitest.NginxOptions{DocRoot: fpm.DocRoot, FastCGIPass: fpm.Pass()})
	d := startDumpcap(t, port)

	const big = 1 << 20
	urls := []string{"/hello.php", "/echo.php?x=1", fmt.Sprintf("/big.php?n=%d", big), "/stderr.php"}
	for _, u := range urls {
		if status, _ := httpGet(t, ngx.URL+u); status != 200 {
			t.Fatalf("%s: %d", u, status)
		}
	}
	body := fcgitest.BigBody(100000)
	resp, err := http.Post(ngx.URL+"/post.php", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != fcgitest.PostDigest(body) {
		t.Fatalf("post.php: %q", got)
	}
	// Every connection to php-fpm is closed once nginx answered: wait
	// until the kernel has none left, so that dumpcap saw their ends.
	waitFor(t, "the connections to php-fpm closed", func() bool { return !connectedTo(port) })
	d.sync(t, port, time.Now().Add(20*time.Second))
	d.stop(t)
	if n := d.dropped(t); n != 0 {
		t.Fatalf("dumpcap dropped %d packets: the capture is no ground truth\n%s", n, d.out.String())
	}
	if os.Getenv("KEEP_CAPTURE") != "" {
		b, _ := os.ReadFile(d.file)
		os.WriteFile(os.Getenv("KEEP_CAPTURE"), b, 0o644)
	}

	var xs []*session.Exchange
	st, err := tap.ReadCaptureFile(context.Background(), d.file, tap.CaptureOptions{Port: port}, func(x *session.Exchange) { xs = append(xs, x) })
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != len(urls)+1 {
		t.Fatalf("%d exchanges, want %d (stats %+v)", len(xs), len(urls)+1, st)
	}
	streams := tsharkStreams(t, d.file)
	if len(streams) != len(xs) {
		t.Fatalf("tshark sees %d TCP streams, we %d exchanges", len(streams), len(xs))
	}
	byClient := map[string]*session.Exchange{}
	for _, x := range xs {
		byClient[x.Conn().LocalAddr] = x
	}
	for _, s := range streams {
		x := byClient[s.client]
		if x == nil {
			t.Errorf("stream %s -> %s: no exchange", s.client, s.server)
			continue
		}
		sameRecords(t, x, fcgi.Sent, recordsOf(t, s.up))
		sameRecords(t, x, fcgi.Received, recordsOf(t, s.down))
		if x.ErrorText() != "" || x.End() == nil {
			t.Errorf("%s: error %q", tap.Summarize(x).URI, x.ErrorText())
		}
	}
	for _, x := range xs {
		if u, _ := x.Params().Get("REQUEST_URI"); strings.HasPrefix(u, "/big.php") {
			if r := x.Response(); r == nil || !bytes.Equal(r.Body, fcgitest.BigBody(big)) {
				t.Errorf("big.php: the response body read from the capture differs from what php-fpm sent")
			}
		}
		if u, _ := x.Params().Get("REQUEST_URI"); u == "/post.php" && !bytes.Equal(x.Stdin(), body) {
			t.Errorf("post.php: %d bytes of body read from the capture, want %d", len(x.Stdin()), len(body))
		}
	}
	if st.Missing != 0 || st.Undecoded != 0 {
		t.Errorf("stats %+v", st)
	}
}

// connectedTo reports whether a TCP connection to or from port is in the
// kernel's table (any state but TIME_WAIT and CLOSE).
func connectedTo(port int) bool {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	hexPort := fmt.Sprintf(":%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] == "06" || f[3] == "07" || f[3] == "0A" { // TIME_WAIT, CLOSE, LISTEN
			continue
		}
		if strings.HasSuffix(f[1], hexPort) || strings.HasSuffix(f[2], hexPort) {
			return true
		}
	}
	return false
}
