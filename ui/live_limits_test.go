package ui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"go.uber.org/goleak"

	"fcgiscope/fcgi"
	"fcgiscope/session/sessiontest"
	"fcgiscope/session/tap"
)

// captureFile writes a pcapng of conns FastCGI connections (one request
// each, /n/I.php, on client ports from 1024 up), then filler bytes of
// other traffic (TCP to port 80, which a read skips), then conns more, into
// a file in a temp dir; it returns the path.
func captureFile(t *testing.T, conns int, filler int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.pcapng")
	f, err := os.Create(path)
	must(t, err)
	defer f.Close()
	start := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	var head bytes.Buffer
	cw, err := sessiontest.NewCaptureWriter(&head, start)
	must(t, err)
	write := func(from, to int) {
		for i := from; i < to; i++ {
			var rq, rs bytes.Buffer
			w := fcgi.NewWriter(&rq)
			uri := fmt.Sprintf("/n/%d.php", i)
			must(t, w.WriteBeginRequest(1, fcgi.RoleResponder, 0))
			must(t, w.WriteParams(1, []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "REQUEST_URI", Value: uri}}))
			must(t, w.CloseStream(fcgi.TypeStdin, 1))
			ws := fcgi.NewWriter(&rs)
			must(t, ws.WriteStream(fcgi.TypeStdout, 1, []byte("Content-Type: text/plain\r\n\r\nok")))
			must(t, ws.WriteEndRequest(1, 0, fcgi.StatusRequestComplete))
			c, err := cw.Conn(uint16(1024+i), 9000)
			must(t, err)
			must(t, c.Write(true, rq.Bytes(), 1448))
			must(t, c.Write(false, rs.Bytes(), 1448))
			must(t, c.Close())
		}
		must(t, cw.Flush())
		_, err := f.Write(head.Bytes())
		must(t, err)
		head.Reset()
	}
	write(0, conns)
	if filler > 0 {
		// One connection to port 80: its blocks, repeated.
		c, err := cw.Conn(1000, 80)
		must(t, err)
		must(t, c.Write(true, bytes.Repeat([]byte("GET / HTTP/1.1\r\n"), 60), 1448))
		must(t, cw.Flush())
		chunk := bytes.Repeat(head.Bytes(), max(1, (1<<20)/head.Len()))
		head.Reset()
		for n := int64(0); n < filler; n += int64(len(chunk)) {
			_, err := f.Write(chunk)
			must(t, err)
		}
		write(conns, 2*conns)
	}
	return path
}

// TestLiveCancelCapture: Cancel in the Open capture dialog, while a large
// capture is read, stops the read promptly (the file is not read to its
// end), keeps the exchanges read before it in the list, says so, and
// leaves no goroutine behind.
func TestLiveCancelCapture(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	const conns = 50
	path := captureFile(t, conns, 200<<20) // 50 exchanges, 200 MiB to skip, 50 more
	f.q.settle()
	leaks := goleak.IgnoreCurrent()

	f.wb.OpenCapture()
	pathEntry, _, _, open, closeBtn, status := lp.CaptureDialog()
	pathEntry.SetText(path)
	test.Tap(open)
	if !lp.Reading() || closeBtn.Text != "Cancel" {
		t.Fatalf("reading %v, button %q", lp.Reading(), closeBtn.Text)
	}
	c := lp.capture
	f.q.waitFor(t, "the first exchanges read", liveWait, func() bool {
		pr := c.progress.Load()
		return !lp.Reading() || pr != nil && pr.Exchanges > 0
	})
	if !lp.Reading() {
		t.Fatalf("the capture was read whole before Cancel could be tapped: %q", status.Text)
	}
	test.Tap(closeBtn)
	cancelled := time.Now()
	ended := make(chan time.Duration, 1)
	go func() { <-c.done; ended <- time.Since(cancelled) }()
	f.q.waitFor(t, "the read to stop", 10*time.Second, func() bool { return !lp.Reading() })
	took := time.Since(cancelled)
	f.q.settle()
	select {
	case <-c.done:
	default:
		t.Error("the reading goroutine has not ended")
	}
	pr := c.progress.Load()
	if pr == nil || pr.Fraction() >= 1 || pr.Exchanges >= 2*conns {
		t.Errorf("Cancel did not stop the read before the end of the file: %+v (stopped %v after Cancel)", pr, took)
	}
	n := lp.Len()
	if n == 0 || n > conns {
		t.Errorf("%d exchanges listed after Cancel, want those read before it (1 to %d)", n, conns)
	}
	want := fmt.Sprintf("Stopped reading big.pcapng: %d exchanges read are listed", n)
	if status.Text != want || closeBtn.Text != "Close" || open.Disabled() {
		t.Errorf("after Cancel: status %q (want %q), button %q, Open disabled %v", status.Text, want, closeBtn.Text, open.Disabled())
	}
	if !strings.Contains(f.in.State(), "Stopped reading big.pcapng") { // the window's status line says it too
		t.Errorf("status line %q", f.in.State())
	}
	goleak.VerifyNone(t, leaks)
	t.Logf("reader ended %v after Cancel", <-ended)
	t.Logf("read stopped %v after Cancel, %d exchanges listed, %.1f%% of the file read", took, n, 100*pr.Fraction())
}

// TestLiveListCap: the Live list keeps the newest maxLive exchanges; past
// that the oldest go, and the panel says how many went and that the list
// keeps maxLive, until Clear.
func TestLiveListCap(t *testing.T) {
	f := newLiveFixture(t)
	lp := f.lp
	const extra = 37
	path := captureFile(t, maxLive+extra, 0)
	lp.OpenCapture(path, tap.CaptureOptions{Port: tap.DefaultPort})
	f.q.waitFor(t, "the capture read", liveWait, func() bool { return !lp.Reading() })
	f.q.settle()
	if lp.Len() != maxLive {
		t.Fatalf("%d exchanges listed, want the cap, %d", lp.Len(), maxLive)
	}
	lost := lp.LostText()
	want := fmt.Sprintf("%d oldest dropped from the list (it keeps %d)", extra, maxLive)
	if !strings.Contains(lost, want) || !lp.lost.Visible() {
		t.Errorf("the loss line says %q (shown %v), want %q", lost, lp.lost.Visible(), want)
	}
	if st := f.in.State(); !strings.Contains(st, fmt.Sprintf("Read %d exchanges", maxLive+extra)) ||
		!strings.Contains(st, fmt.Sprintf("the list keeps the newest %d", maxLive)) {
		t.Errorf("status line %q does not say the list keeps only the newest", st)
	}
	if got := lp.count.Text; got != fmt.Sprintf("Live · %d", maxLive) {
		t.Errorf("count %q", got)
	}
	// The newest are kept, newest first; the oldest went.
	if r := lp.RowText(0); !strings.HasPrefix(r, fmt.Sprintf("GET /n/%d.php |", maxLive+extra-1)) {
		t.Errorf("first row %q, want the newest", r)
	}
	if r := lp.RowText(maxLive - 1); !strings.HasPrefix(r, fmt.Sprintf("GET /n/%d.php |", extra)) {
		t.Errorf("last row %q, want the oldest kept, /n/%d.php", r, extra)
	}
	test.Tap(lp.clearBtn)
	if lp.Len() != 0 || lp.LostText() != "" {
		t.Errorf("after Clear: %d listed, loss line %q", lp.Len(), lp.LostText())
	}
}

// TestLiveLostLineSaysUnforwarded: bytes the web server sent after the
// application's close (the tap decodes them and does not forward them) are
// said on the loss line beside the other losses, and nothing is said when
// there are none.
func TestLiveLostLineSaysUnforwarded(t *testing.T) {
	lp := newLiveFixture(t).lp
	lp.lastStat = tap.Stats{}
	lp.updateLost()
	if lp.lost.Visible() {
		t.Fatalf("loss line shown with no loss: %q", lp.LostText())
	}
	lp.lastStat = tap.Stats{Unforwarded: 2048, Undecoded: 16}
	lp.updateLost()
	lost := lp.LostText()
	if !lp.lost.Visible() || !strings.Contains(lost, "2.0 KiB sent after the application's close, not forwarded") ||
		!strings.Contains(lost, "undecodable") {
		t.Errorf("loss line %q (shown %v): want the unforwarded bytes and the undecodable ones", lost, lp.lost.Visible())
	}
}
