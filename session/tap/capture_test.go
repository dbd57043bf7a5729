package tap_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
	"fcgiscope/session/sessiontest"
	"fcgiscope/session/tap"
)

// wireRequest returns the bytes a web server sends for a GET of uri with
// request id id, and those the application answers with body (in records
// of at most 65528 bytes, as php-fpm writes them).
func wireRequest(t testing.TB, id uint16, uri string, keep bool, body []byte) (req, resp []byte) {
	t.Helper()
	var rq, rs bytes.Buffer
	w := fcgi.NewWriter(&rq)
	flags := fcgi.Flags(0)
	if keep {
		flags = fcgi.FlagKeepConn
	}
	must(t, w.WriteBeginRequest(id, fcgi.RoleResponder, flags))
	must(t, w.WriteParams(id, []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "GET"}, {Name: "REQUEST_URI", Value: uri},
		{Name: "SCRIPT_NAME", Value: uri}, {Name: "HTTP_LONG", Value: strings.Repeat("x", 300)}}))
	must(t, w.CloseStream(fcgi.TypeStdin, id))
	ws := fcgi.NewWriter(&rs)
	out := append([]byte("Content-Type: text/plain\r\n\r\n"), body...)
	for len(out) > 0 {
		n := min(len(out), 65528)
		must(t, ws.WriteStream(fcgi.TypeStdout, id, out[:n]))
		out = out[n:]
	}
	must(t, ws.WriteStream(fcgi.TypeStderr, id, []byte("a warning\n")))
	must(t, ws.WriteEndRequest(id, 0, fcgi.StatusRequestComplete))
	return rq.Bytes(), rs.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// recordsOf decodes a byte stream with fcgi.Reader into (type, id, content
// length, padding) rows.
func recordsOf(t testing.TB, b []byte) []session.RecordInfo {
	t.Helper()
	rd := fcgi.NewReader(bytes.NewReader(b))
	var out []session.RecordInfo
	for {
		rec, err := rd.ReadRecord()
		if errors.Is(err, io.EOF) {
			return out
		}
		if rec == nil {
			t.Fatalf("decoding the stream: %v", err)
		}
		out = append(out, session.RecordInfo{Type: rec.Type, RequestID: rec.RequestID, ContentLength: rec.ContentLength,
			PaddingLength: rec.PaddingLength, Offset: rec.Offset})
	}
}

// sameRecords compares the records of x in one direction with want.
func sameRecords(t testing.TB, x *session.Exchange, dir fcgi.Direction, want []session.RecordInfo) {
	t.Helper()
	var got []session.RecordInfo
	for _, r := range x.Records() {
		if r.Dir == dir {
			got = append(got, session.RecordInfo{Type: r.Type, RequestID: r.RequestID, ContentLength: r.ContentLength,
				PaddingLength: r.PaddingLength, Offset: r.Offset})
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d\ngot  %v\nwant %v", dir, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s record %d: %+v, want %+v", dir, i, got[i], want[i])
		}
	}
}

// TestReadCaptureReordered: a connection whose segments are captured out
// of order and some twice (retransmitted) reads as the stream that was
// sent, with the capture's timestamps.
func TestReadCaptureReordered(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320000 bytes: records spanning segments
	req, resp := wireRequest(t, 1, "/big.php", false, body)
	var file bytes.Buffer
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cw, err := sessiontest.NewCaptureWriter(&file, start)
	must(t, err)
	c, err := cw.Conn(40000, 9000)
	must(t, err)
	// The request: second half first, then the first half, then the
	// first half again.
	half := len(req) / 2
	must(t, c.Segment(true, half, req[half:]))
	must(t, c.Segment(true, 0, req[:half]))
	must(t, c.Segment(true, 0, req[:half]))
	c.Advance(true, len(req))
	// The response in 1448-byte segments, each pair swapped, every 7th
	// sent twice, one retransmission overlapping two segments.
	const mss = 1448
	var segs [][2]int
	for off := 0; off < len(resp); off += mss {
		segs = append(segs, [2]int{off, min(off+mss, len(resp))})
	}
	for i := 0; i < len(segs); i += 2 {
		order := []int{i}
		if i+1 < len(segs) {
			order = []int{i + 1, i}
		}
		for _, j := range order {
			must(t, c.Segment(false, segs[j][0], resp[segs[j][0]:segs[j][1]]))
			if j%7 == 0 {
				must(t, c.Segment(false, segs[j][0], resp[segs[j][0]:segs[j][1]]))
			}
		}
		if i == 10 {
			must(t, c.Segment(false, segs[8][0]+100, resp[segs[8][0]+100:segs[9][1]]))
		}
	}
	c.Advance(false, len(resp))
	must(t, c.Close())
	must(t, cw.Flush())

	var xs []*session.Exchange
	var progress []tap.CaptureProgress
	st, err := tap.ReadCapture(context.Background(), bytes.NewReader(file.Bytes()), int64(file.Len()), tap.CaptureOptions{
		Progress: func(p tap.CaptureProgress) { progress = append(progress, p) }}, func(x *session.Exchange) { xs = append(xs, x) })
	if err != nil {
		t.Fatal(err)
	}
	if len(xs) != 1 {
		t.Fatalf("%d exchanges, want 1 (stats %+v)", len(xs), st)
	}
	x := xs[0]
	sameRecords(t, x, fcgi.Sent, recordsOf(t, req))
	sameRecords(t, x, fcgi.Received, recordsOf(t, resp))
	if got := x.Response(); got == nil || !bytes.Equal(got.Body, body) {
		t.Errorf("response body differs from what was sent (%d bytes)", len(x.Stdout()))
	}
	if string(x.Stderr()) != "a warning\n" || x.End() == nil || x.ErrorText() != "" {
		t.Errorf("stderr %q, end %v, error %q", x.Stderr(), x.End(), x.ErrorText())
	}
	if !x.Start().Equal(start.Add(3 * 10 * time.Microsecond)) { // after the handshake
		t.Errorf("start %v, want the capture's time of the BEGIN_REQUEST segment", x.Start())
	}
	if v, _ := x.Params().Get("REQUEST_URI"); v != "/big.php" {
		t.Errorf("REQUEST_URI = %q", v)
	}
	if st.Streams != 1 || st.Missing != 0 || st.Undecoded != 0 || st.Exchanges != 1 {
		t.Errorf("stats %+v", st)
	}
	if n := len(progress); n == 0 || progress[n-1].Fraction() != 1 {
		t.Errorf("progress %v: want it to end at 1", progress)
	}
}
