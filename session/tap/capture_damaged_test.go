package tap_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
	"fcgiscope/session/tap"
)

// captureOf writes n connections, one request each (a response of size
// bytes), into a pcapng file (pcap with asPcap) and returns it with the
// file's length after each connection.
func captureOf(t *testing.T, asPcap bool, n, size int) ([]byte, []int) {
	t.Helper()
	var file bytes.Buffer
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	newWriter := sessiontest.NewCaptureWriter
	if asPcap {
		newWriter = sessiontest.NewPcapWriter
	}
	cw, err := newWriter(&file, start)
	must(t, err)
	var ends []int
	for i := range n {
		req, resp := wireRequest(t, 1, fmt.Sprintf("/page%d.php", i), false, bytes.Repeat([]byte{'a' + byte(i)}, size))
		c, err := cw.Conn(uint16(41000+i), 9000)
		must(t, err)
		must(t, c.Write(true, req, 1448))
		must(t, c.Write(false, resp, 1448))
		must(t, c.Close())
		must(t, cw.Flush())
		ends = append(ends, file.Len())
	}
	return file.Bytes(), ends
}

// readBytes reads a capture held in memory.
func readBytes(t *testing.T, b []byte) ([]*session.Exchange, tap.CaptureStats, error) {
	t.Helper()
	var xs []*session.Exchange
	st, err := tap.ReadCapture(context.Background(), bytes.NewReader(b), int64(len(b)), tap.CaptureOptions{},
		func(x *session.Exchange) { xs = append(xs, x) })
	return xs, st, err
}

// uriOf returns the exchange's REQUEST_URI.
func uriOf(x *session.Exchange) string { u, _ := x.Params().Get("REQUEST_URI"); return u }

// whole reports whether x ended with END_REQUEST and nothing wrong.
func whole(x *session.Exchange) bool { return x.End() != nil && x.ErrorText() == "" }

// TestReadCaptureCut: a capture cut short (a copy interrupted, a capture
// stopped before it was written whole) is an error that says so and where,
// after every exchange read before the cut, the one it cut included.
func TestReadCaptureCut(t *testing.T) {
	for _, asPcap := range []bool{false, true} {
		name := map[bool]string{false: "pcapng", true: "pcap"}[asPcap]
		t.Run(name, func(t *testing.T) {
			file, ends := captureOf(t, asPcap, 3, 20000)
			xs, st, err := readBytes(t, file)
			if err != nil || len(xs) != 3 {
				t.Fatalf("the whole file: %d exchanges, %v", len(xs), err)
			}
			// Cut inside the third connection's response.
			cut := ends[1] + (ends[2]-ends[1])*2/3
			xs, st2, err := readBytes(t, file[:cut])
			var ce *tap.CaptureError
			if !errors.As(err, &ce) || !errors.Is(err, tap.ErrCut) {
				t.Fatalf("cut at byte %d of %d: error %v, want a CaptureError wrapping ErrCut", cut, len(file), err)
			}
			if ce.Offset <= int64(ends[1]) || ce.Offset >= int64(cut) || ce.Packet <= 0 || ce.Packet >= st.Packets {
				t.Errorf("cut at byte %d: error at packet %d byte %d, want a packet of the third connection (after byte %d)",
					cut, ce.Packet, ce.Offset, ends[1])
			}
			if st2.Packets != ce.Packet {
				t.Errorf("stats say %d packets, the error %d", st2.Packets, ce.Packet)
			}
			msg := err.Error()
			for _, want := range []string{"cut short", "ends at byte " + strconv.Itoa(cut), "at byte " + strconv.FormatInt(ce.Offset, 10)} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not say %q", msg, want)
				}
			}
			if len(xs) != 3 || !whole(xs[0]) || !whole(xs[1]) {
				t.Fatalf("%d exchanges before the cut, want the two whole ones and the one cut", len(xs))
			}
			if u, _ := xs[2].Params().Get("REQUEST_URI"); u != "/page2.php" || xs[2].End() != nil ||
				!strings.Contains(xs[2].ErrorText(), "cut short") {
				t.Errorf("the exchange cut: %s, end %v, error %q", u, xs[2].End(), xs[2].ErrorText())
			}
		})
	}
}

// TestReadCaptureEveryCut: cut at every byte of a capture's last frames,
// a file reads without error exactly where a packet or block ends; at
// every other byte the error is ErrCut and points at the start of the frame
// cut, which is the last clean end before it.
func TestReadCaptureEveryCut(t *testing.T) {
	for _, asPcap := range []bool{false, true} {
		name := map[bool]string{false: "pcapng", true: "pcap"}[asPcap]
		t.Run(name, func(t *testing.T) {
			file, _ := captureOf(t, asPcap, 1, 3000)
			// The first bytes (file header, interface) and the last 600.
			var cuts []int
			for c := 1; c < 140; c++ {
				cuts = append(cuts, c)
			}
			for c := len(file) - 600; c <= len(file); c++ {
				cuts = append(cuts, c)
			}
			lastClean, clean := -1, 0
			for _, c := range cuts {
				if c == len(file)-600 {
					lastClean = -1 // not known across the gap
				}
				_, _, err := readBytes(t, file[:c])
				if err == nil {
					lastClean, clean = c, clean+1
					continue
				}
				var ce *tap.CaptureError
				if !errors.As(err, &ce) {
					t.Fatalf("cut at %d: %v, want a CaptureError", c, err)
				}
				if ce.Packet == 0 && c <= 40 {
					continue // inside the file header: "not a capture", or cut
				}
				if !errors.Is(err, tap.ErrCut) {
					t.Fatalf("cut at %d: %v, want ErrCut", c, err)
				}
				if lastClean >= 0 && ce.Offset != int64(lastClean) {
					t.Fatalf("cut at %d: error at byte %d, want %d (where the last whole frame ends)", c, ce.Offset, lastClean)
				}
			}
			if clean < 3 {
				t.Errorf("only %d cuts read clean: the frame ends are not found", clean)
			}
			if _, _, err := readBytes(t, file); err != nil {
				t.Errorf("the whole file: %v", err)
			}
		})
	}
}

// TestReadCaptureGarbage: bytes after a valid file header, or after the
// last whole packet, that are no packet or block are an error at the
// first of them; what came before is read.
func TestReadCaptureGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 3000)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	garbage := map[string][]byte{
		"text":   []byte(strings.Repeat("this is not a packet, it is a log line\n", 40)),
		"zeros":  make([]byte, 512),
		"random": random,
		"ff":     bytes.Repeat([]byte{0xff}, 64),
	}
	for _, asPcap := range []bool{false, true} {
		file, ends := captureOf(t, asPcap, 2, 2000)
		headerLen := 24 // pcap's file header
		if !asPcap {
			// The section header and the interface description: where the
			// first packet's block starts.
			headerLen = int(binary.LittleEndian.Uint32(file[4:8]))
			headerLen += int(binary.LittleEndian.Uint32(file[headerLen+4 : headerLen+8]))
		}
		for gname, g := range garbage {
			for _, at := range []int{headerLen, ends[1]} {
				name := fmt.Sprintf("%s/%s-at-%d", map[bool]string{false: "pcapng", true: "pcap"}[asPcap], gname, at)
				t.Run(name, func(t *testing.T) {
					b := append(append([]byte{}, file[:at]...), g...)
					xs, _, err := readBytes(t, b)
					var ce *tap.CaptureError
					if !errors.As(err, &ce) || !(errors.Is(err, tap.ErrCorrupt) || errors.Is(err, tap.ErrCut)) {
						t.Fatalf("error %v, want a CaptureError wrapping ErrCorrupt or ErrCut", err)
					}
					if ce.Offset != int64(at) {
						t.Errorf("error at byte %d, want %d (where the garbage starts): %v", ce.Offset, at, err)
					}
					wantX := 0
					if at == ends[1] {
						wantX = 2
					}
					if len(xs) != wantX {
						t.Fatalf("%d exchanges, want %d", len(xs), wantX)
					}
					for _, x := range xs {
						if !whole(x) {
							t.Errorf("%q: error %q", uriOf(x), x.ErrorText())
						}
					}
				})
			}
		}
	}
}

// TestReadCaptureCorruptBlock: a pcapng block whose length at its end
// differs from the one at its start is corrupt: reading stops there, with
// the exchanges before it.
func TestReadCaptureCorruptBlock(t *testing.T) {
	file, ends := captureOf(t, false, 2, 2000)
	// Walk the blocks to the first one of the second connection.
	off := 0
	for off < ends[0] {
		off += int(binary.LittleEndian.Uint32(file[off+4 : off+8]))
	}
	l := int(binary.LittleEndian.Uint32(file[off+4 : off+8]))
	b := append([]byte{}, file...)
	binary.LittleEndian.PutUint32(b[off+l-4:], uint32(l+4))
	xs, _, err := readBytes(t, b)
	var ce *tap.CaptureError
	if !errors.As(err, &ce) || !errors.Is(err, tap.ErrCorrupt) || ce.Offset != int64(off) {
		t.Fatalf("error %v, want ErrCorrupt at byte %d", err, off)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("%d at its start and %d at its end", l, l+4)) {
		t.Errorf("error %q does not give both lengths", err)
	}
	if len(xs) != 1 || !whole(xs[0]) {
		t.Errorf("%d exchanges, want the first connection's, whole", len(xs))
	}
}

// TestReadDumpcapCaptureCut: a real capture (dumpcap, of requests to the
// demo backend over TCP), cut in the middle, reads to the cut, with an
// error saying where.
func TestReadDumpcapCaptureCut(t *testing.T) {
	addr := fcgitest.StartDemo(t)
	_, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	d := startDumpcap(t, port)
	c := fcgi.NewClient(addr, fcgi.ClientOptions{})
	defer c.Close()
	const n = 6
	for i := range n {
		if _, _, err := get(t, c, fmt.Sprintf("/echo?i=%d", i), false); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the connections to the backend closed", func() bool { return !connectedTo(port) })
	d.sync(t, port, time.Now().Add(20*time.Second))
	d.stop(t)
	data, err := os.ReadFile(d.file)
	must(t, err)
	var all []*session.Exchange
	if _, err := tap.ReadCaptureFile(context.Background(), d.file, tap.CaptureOptions{Port: port},
		func(x *session.Exchange) { all = append(all, x) }); err != nil || len(all) < n {
		t.Fatalf("the whole capture: %d exchanges, %v", len(all), err)
	}
	cutFile := filepath.Join(t.TempDir(), "cut.pcapng")
	cut := len(data)/2 | 1 // odd: a pcapng block ends on a multiple of 4
	must(t, os.WriteFile(cutFile, data[:cut], 0o644))
	var xs []*session.Exchange
	st, err := tap.ReadCaptureFile(context.Background(), cutFile, tap.CaptureOptions{Port: port},
		func(x *session.Exchange) { xs = append(xs, x) })
	var ce *tap.CaptureError
	if !errors.As(err, &ce) || !errors.Is(err, tap.ErrCut) || ce.Path != cutFile {
		t.Fatalf("error %v, want ErrCut in %s", err, cutFile)
	}
	if ce.Offset <= 0 || ce.Offset >= int64(cut) || !strings.Contains(err.Error(), "ends at byte "+strconv.Itoa(cut)) {
		t.Errorf("error %q: at byte %d, want before %d and saying where the file ends", err, ce.Offset, cut)
	}
	if len(xs) == 0 || len(xs) >= len(all)+1 || st.Packets == 0 {
		t.Errorf("%d exchanges read before the cut (of %d), %d packets", len(xs), len(all), st.Packets)
	}
	for _, x := range xs[:len(xs)-1] {
		if !whole(x) && !strings.Contains(x.ErrorText(), "cut short") {
			t.Errorf("%s: %q", uriOf(x), x.ErrorText())
		}
	}
}
