// Tests of the hostile backend, byte by byte, with a raw client written here.

package fcgitest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fcgiscope/fcgi"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// request returns the records of a request: BEGIN_REQUEST, PARAMS, the empty
// PARAMS, STDIN (if any), the empty STDIN.
func request(id uint16, keep bool, params []fcgi.Pair, stdin string) []byte {
	var flags fcgi.Flags
	if keep {
		flags = fcgi.FlagKeepConn
	}
	return encode(func(w *fcgi.Writer) error {
		if err := w.WriteBeginRequest(id, fcgi.RoleResponder, flags); err != nil {
			return err
		}
		if err := w.WriteRecord(fcgi.TypeParams, id, fcgi.AppendPairs(nil, params)); err != nil {
			return err // a PARAMS record even without params: the requests of these tests carry one
		}
		if err := w.CloseStream(fcgi.TypeParams, id); err != nil {
			return err
		}
		if err := w.WriteStream(fcgi.TypeStdin, id, []byte(stdin)); err != nil {
			return err
		}
		return w.CloseStream(fcgi.TypeStdin, id)
	})
}

// record returns the bytes of one record, padded to a multiple of 8.
func record(t fcgi.RecordType, id uint16, content []byte) []byte {
	return encode(func(w *fcgi.Writer) error { return w.WriteRecord(t, id, content) })
}

// rawRecord is one record as the raw client parsed it.
type rawRecord struct {
	version, typ byte
	id           uint16
	claimed      int // content length in the header
	content      []byte
	pad          int
}

// parseRecords splits b into records; rest is what did not form a whole one.
func parseRecords(b []byte) (recs []rawRecord, rest []byte) {
	for len(b) >= fcgi.HeaderLen {
		n, pad := int(binary.BigEndian.Uint16(b[4:6])), int(b[6])
		if len(b) < fcgi.HeaderLen+n+pad {
			break
		}
		recs = append(recs, rawRecord{version: b[0], typ: b[1], id: binary.BigEndian.Uint16(b[2:4]), claimed: n,
			content: b[fcgi.HeaderLen : fcgi.HeaderLen+n], pad: pad})
		b = b[fcgi.HeaderLen+n+pad:]
	}
	return recs, b
}

// exchange dials h, writes out, and reads until EOF or until nothing came
// for quiet; eof tells which.
func exchange(t *testing.T, h *Hostile, quiet time.Duration, out ...[]byte) (in []byte, eof bool) {
	t.Helper()
	c, err := net.Dial(h.Network, h.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return roundTrip(t, c, quiet, out...)
}

func roundTrip(t *testing.T, c net.Conn, quiet time.Duration, out ...[]byte) (in []byte, eof bool) {
	t.Helper()
	for _, b := range out {
		if _, err := c.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		in = append(in, buf[:n]...)
		switch {
		case err == io.EOF:
			return in, true
		case errors.Is(err, syscall.ECONNRESET):
			return in, true
		case errors.Is(err, net.ErrClosed), err != nil && isTimeout(err):
			return in, false
		case err != nil:
			t.Fatal(err)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var testParams = []fcgi.Pair{
	{Name: "REQUEST_METHOD", Value: "POST"},
	{Name: "LONG", Value: strings.Repeat("v", 300)}, // a 4-byte value length
	{Name: "REQUEST_METHOD", Value: "GET"},          // duplicates kept, in order
}

func TestHostileRespond(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			got := make(chan *HostileRequest, 3)
			h := StartHostile(t, network, func(c *HostileConn) {
				serveRequests(c, func(r *HostileRequest) error {
					got <- r
					return c.Response(r.ID, "hi "+r.Param("REQUEST_METHOD"))
				})
			})
			c, err := net.Dial(h.Network, h.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			want := append(record(fcgi.TypeStdout, 7, []byte(HostileHeaders+"hi GET")), record(fcgi.TypeStdout, 7, nil)...)
			want = append(want, record(fcgi.TypeEndRequest, 7, []byte{0, 0, 0, 0, byte(fcgi.StatusRequestComplete), 0, 0, 0})...)
			// KEEP_CONN: two requests on one connection.
			for range 2 {
				in, eof := roundTrip(t, c, 200*time.Millisecond, request(7, true, testParams, "body"))
				if !bytes.Equal(in, want) || eof {
					t.Fatalf("answer %q (eof %v), want %q", in, eof, want)
				}
				r := <-got
				if r.ID != 7 || r.Role != fcgi.RoleResponder || !r.KeepConn || string(r.Stdin) != "body" || len(r.Params) != 3 ||
					r.Params[1].Value != testParams[1].Value || r.Params[2] != testParams[2] {
					t.Errorf("request read as %+v", r)
				}
			}
			// Without KEEP_CONN the connection is closed after the answer.
			if in, eof := roundTrip(t, c, time.Second, request(8, false, nil, "")); !eof || len(in) == 0 {
				t.Errorf("answer %q, eof %v; want an answer, then EOF", in, eof)
			}
			seen := h.Seen()
			if len(seen) != 3*5-1 || seen[0].Type != byte(fcgi.TypeBeginRequest) || seen[0].RequestID != 7 || seen[len(seen)-1].RequestID != 8 {
				t.Errorf("Seen = %+v; want the 14 records of the three requests", seen)
			}
			if h.Accepted() != 1 {
				t.Errorf("Accepted = %d", h.Accepted())
			}
		})
	}
}

func TestHostileGetValues(t *testing.T) {
	h := StartHostile(t, "tcp", Silent())
	in, _ := exchange(t, h, 200*time.Millisecond, record(fcgi.TypeGetValues, 0, fcgi.AppendPairs(nil, []fcgi.Pair{{Name: "FCGI_MPXS_CONNS"}})))
	recs, rest := parseRecords(in)
	if len(recs) != 1 || recs[0].typ != byte(fcgi.TypeGetValuesResult) || len(rest) != 0 {
		t.Fatalf("answer %q", in)
	}
	if want := fcgi.AppendPairs(nil, []fcgi.Pair{{Name: "FCGI_MPXS_CONNS", Value: "0"}}); !bytes.Equal(recs[0].content, want) {
		t.Errorf("GET_VALUES_RESULT content %q, want %q", recs[0].content, want)
	}
}

// TestHostileBehaviours checks the bytes each ready-made behaviour sends.
func TestHostileBehaviours(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	req := request(1, false, testParams, "")
	const quiet = 300 * time.Millisecond
	for _, tc := range []struct {
		name  string
		b     Behaviour
		eof   bool // the backend closes the connection
		check func(t *testing.T, in []byte, recs []rawRecord, rest []byte)
	}{
		{"Respond", Respond("x"), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 3 || recs[2].typ != byte(fcgi.TypeEndRequest) || recs[2].content[4] != byte(fcgi.StatusRequestComplete) {
				t.Errorf("records %+v", recs)
			}
		}},
		{"Silent", Silent(), false, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(in) != 0 {
				t.Errorf("a silent backend sent %q", in)
			}
		}},
		{"NeverRead", NeverRead(), false, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(in) != 0 {
				t.Errorf("sent %q", in)
			}
		}},
		{"CloseMidHeader", CloseMidHeader(3), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if !bytes.Equal(in, []byte{1, byte(fcgi.TypeStdout), 0}) {
				t.Errorf("sent %v, want the first 3 bytes of a STDOUT header", in)
			}
		}},
		{"CloseMidRecord", CloseMidRecord(10), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 1 || string(recs[0].content) != HostileHeaders || len(rest) != 18 || rest[1] != byte(fcgi.TypeStdout) ||
				binary.BigEndian.Uint16(rest[4:6]) != 64 {
				t.Errorf("records %+v, rest %q; want the headers, then 18 bytes of a 72-byte STDOUT record", recs, rest)
			}
		}},
		{"CloseBeforeEnd", CloseBeforeEnd("b"), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 2 || recs[1].typ != byte(fcgi.TypeStdout) || len(recs[1].content) != 0 || len(rest) != 0 {
				t.Errorf("records %+v; want STDOUT and its empty record, no END_REQUEST", recs)
			}
		}},
		{"WrongID", WrongID(), false, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 3 || recs[0].id != 2 || recs[2].id != 2 || recs[2].typ != byte(fcgi.TypeEndRequest) {
				t.Errorf("records %+v; want a whole answer for request 2", recs)
			}
		}},
		{"BadVersion", BadVersion(2), false, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 4 || recs[0].version != 2 || recs[1].version != 1 || recs[3].typ != byte(fcgi.TypeEndRequest) {
				t.Errorf("records %+v; want a version 2 record, then a whole answer", recs)
			}
		}},
		{"LongerThanClaimed", LongerThanClaimed(4), false, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			body := HostileHeaders + "the header lied about this text\n"
			if binary.BigEndian.Uint16(in[4:6]) != 4 || string(in[8:8+len(body)]) != body || len(in) != 8+len(body)+16 {
				t.Errorf("sent %q; want a header claiming 4 bytes, %d bytes of text, END_REQUEST", in, len(body))
			}
		}},
		{"ShorterThanClaimed", ShorterThanClaimed(0), false, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 0 || len(in) != 8+len(HostileHeaders+"short\n")+16 || int(binary.BigEndian.Uint16(in[4:6])) < len(in) {
				t.Errorf("sent %q; want a header claiming more than everything sent after it", in)
			}
		}},
		{"UnknownType", UnknownType(42), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 4 || recs[0].typ != 42 || recs[3].typ != byte(fcgi.TypeEndRequest) {
				t.Errorf("records %+v", recs)
			}
		}},
		{"HugeStderr", HugeStderr(3*streamChunk + 5), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			var n int
			for _, r := range recs[:4] {
				if r.typ != byte(fcgi.TypeStderr) || (r.claimed+r.pad)%8 != 0 || r.claimed > streamChunk {
					t.Errorf("stderr record: type %d, %d+%d bytes", r.typ, r.claimed, r.pad)
				}
				n += r.claimed
			}
			if n != 3*streamChunk+5 || !bytes.HasPrefix(recs[0].content, []byte("hostile: stderr flood")) || len(recs) != 7 {
				t.Errorf("%d stderr bytes in %d records", n, len(recs))
			}
		}},
		{"EndWith", EndWith(2), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 1 || recs[0].typ != byte(fcgi.TypeEndRequest) || recs[0].content[4] != 2 {
				t.Errorf("records %+v; want END_REQUEST OVERLOADED alone", recs)
			}
		}},
		{"CloseWhenIdle", CloseWhenIdle(0, "b"), true, func(t *testing.T, in []byte, recs []rawRecord, rest []byte) {
			if len(recs) != 3 {
				t.Errorf("records %+v", recs)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := StartHostile(t, "tcp", tc.b)
			in, eof := exchange(t, h, quiet, req)
			if eof != tc.eof {
				t.Errorf("connection closed: %v, want %v (got %q)", eof, tc.eof, in)
			}
			recs, rest := parseRecords(in)
			tc.check(t, in, recs, rest)
			start := time.Now()
			h.Close()
			if d := time.Since(start); d > time.Second {
				t.Errorf("Close took %v", d)
			}
		})
	}
}

func TestHostileDribble(t *testing.T) {
	h := StartHostile(t, "tcp", Dribble(20*time.Millisecond, "ok"))
	start := time.Now()
	in, eof := exchange(t, h, time.Second, request(1, false, nil, ""))
	took := time.Since(start)
	recs, rest := parseRecords(in)
	if !eof || len(rest) != 0 || len(recs) != 4 || string(recs[1].content) != "ok" || recs[1].pad != 0 {
		t.Fatalf("records %+v rest %q", recs, rest)
	}
	// The 10 bytes of the second record came one at a time.
	if took < 10*20*time.Millisecond {
		t.Errorf("the dribble took %v, want at least 200ms", took)
	}
}

func TestHostileKeepConnFaults(t *testing.T) {
	t.Run("CloseOnNextRequest", func(t *testing.T) {
		h := StartHostile(t, "tcp", CloseOnNextRequest("b"))
		c, err := net.Dial(h.Network, h.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if in, eof := roundTrip(t, c, 200*time.Millisecond, request(1, true, nil, "")); eof || len(in) == 0 {
			t.Fatalf("first answer %q, eof %v", in, eof)
		}
		if in, eof := roundTrip(t, c, time.Second, request(1, true, nil, "")); !eof || len(in) != 0 {
			t.Errorf("second request: %q, eof %v; want EOF without an answer", in, eof)
		}
		if n := len(h.Seen()); n != 8 {
			t.Errorf("the backend read %d records, want both requests (8)", n)
		}
	})
	t.Run("Silent sees ABORT_REQUEST", func(t *testing.T) {
		h := StartHostile(t, "tcp", Silent())
		exchange(t, h, 100*time.Millisecond, request(1, false, nil, ""), record(fcgi.TypeAbortRequest, 1, nil))
		if !h.WaitIdle(time.Second) || !h.SawType(byte(fcgi.TypeAbortRequest)) {
			t.Errorf("Seen %+v, open %d; want ABORT_REQUEST read and the connection closed", h.Seen(), h.Open())
		}
	})
}

func TestHostileCloseListener(t *testing.T) {
	h := StartHostile(t, "tcp", Respond("b"))
	if err := h.CloseListener(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout(h.Network, h.Addr, time.Second); err == nil {
		c.Close()
		t.Error("dialled a closed listener")
	}
	if err := h.Close(); err != nil {
		t.Errorf("Close after CloseListener: %v", err)
	}
}

func TestListenHostileBadNetwork(t *testing.T) {
	if _, err := ListenHostile("udp", Silent()); err == nil || !strings.Contains(err.Error(), `"udp"`) {
		t.Errorf("ListenHostile(udp) = %v", err)
	}
}

func TestRefusedAddr(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		addr := strings.TrimPrefix(RefusedAddr(t, network), "unix:")
		_, err := net.DialTimeout(network, addr, time.Second)
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("%s %s: dial = %v, want connection refused", network, addr, err)
		}
	}
}

// TestPHPFPMStopStart restarts php-fpm on the same socket.
func TestPHPFPMStopStart(t *testing.T) {
	fpm := PHPFPM(t, PHPFPMOptions{Listen: ListenUnix})
	hello := func() []rawRecord {
		c, err := net.Dial(fpm.Network, fpm.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		in, _ := roundTrip(t, c, 5*time.Second, request(1, false, []fcgi.Pair{
			{Name: "SCRIPT_FILENAME", Value: fpm.Script("hello.php")}, {Name: "REQUEST_METHOD", Value: "GET"}}, ""))
		recs, _ := parseRecords(in)
		return recs
	}
	if recs := hello(); len(recs) == 0 || !bytes.HasSuffix(recs[0].content, []byte("hello")) {
		t.Fatalf("before: %+v", recs)
	}
	oldPID := fpm.PID()
	fpm.Stop()
	if c, err := net.Dial(fpm.Network, fpm.Addr); err == nil {
		c.Close()
		t.Fatal("php-fpm still accepts after Stop")
	}
	fpm.Start(t)
	if fpm.PID() == oldPID {
		t.Error("the same process after Start")
	}
	if recs := hello(); len(recs) == 0 || !bytes.HasSuffix(recs[0].content, []byte("hello")) {
		t.Fatalf("after the restart: %+v", recs)
	}
}

// recordingTB is a testing.TB whose errors and cleanups the test sees.
type recordingTB struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recordingTB) Helper()                           {}
func (r *recordingTB) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Errorf(format string, args ...any) { r.errs = append(r.errs, format) }
func (r *recordingTB) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func TestNoFDLeak(t *testing.T) {
	// A descriptor left open is reported...
	tb := &recordingTB{TB: t}
	noFDLeak(tb, 100*time.Millisecond)
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	tb.runCleanups()
	f.Close()
	if len(tb.errs) != 1 {
		t.Errorf("a leaked /dev/null gave %d errors, want 1", len(tb.errs))
	}
	// ... one closed is not, nor a backend closed by a later cleanup.
	tb = &recordingTB{TB: t}
	NoFDLeak(tb)
	f, err = os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	h, err := ListenHostile("tcp", Respond("b"))
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, h, time.Second, request(1, false, nil, ""))
	tb.Cleanup(func() { h.Close() })
	tb.runCleanups()
	if len(tb.errs) != 0 {
		t.Errorf("errors %q, want none", tb.errs)
	}
}
