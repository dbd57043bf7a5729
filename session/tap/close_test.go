package tap_test

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session/tap"
)

// TestTapCloseEarly: once the application closes a connection whose
// requests are all answered (no KEEP_CONN, STDIN ended, END_REQUEST sent),
// the tap passes the close on to it at once, without waiting for the web
// server's; what the web server still sends after is decoded and counted,
// not forwarded; everything before went through unchanged.
func TestTapCloseEarly(t *testing.T) {
	backend := fcgitest.StartDemo(t)
	addr, tp, col, before, after := tapAround(t, backend, tap.Options{})
	nc := dialTap(t, addr)
	defer nc.Close()
	var req bytes.Buffer
	w := fcgi.NewWriter(&req)
	w.WriteBeginRequest(1, fcgi.RoleResponder, 0)
	w.WriteParams(1, getParams("/echo"))
	w.CloseStream(fcgi.TypeStdin, 1)
	if _, err := nc.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(nc) // to the application's close
	if err != nil {
		t.Fatal(err)
	}
	// The web server's connection is still open: the application's ended
	// all the same (streams waits for it).
	au, ad := after.streams(t)
	if len(au) != 1 || !bytes.Equal(au[0], req.Bytes()) || !bytes.Equal(ad[0], answer) {
		t.Fatalf("the application got %d connections (%d bytes, want %d) and answered %d bytes, the web server got %d",
			len(au), len(au[0]), req.Len(), len(ad[0]), len(answer))
	}

	var late bytes.Buffer
	fcgi.NewWriter(&late).WriteRecord(fcgi.TypeStdin, 1, []byte("late"))
	if _, err := nc.Write(late.Bytes()); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	xs := col.wait(t, 2) // the late record comes in an exchange of its own
	bu, _ := before.streams(t)
	if want := append(slices.Clip(req.Bytes()), late.Bytes()...); !bytes.Equal(bu[0], want) {
		t.Errorf("the web server sent %d bytes, want %d", len(bu[0]), len(want))
	}
	if got := tp.Stats().Unforwarded; got != int64(late.Len()) {
		t.Errorf("Stats.Unforwarded = %d, want %d", got, late.Len())
	}
	found := false
	for _, x := range xs {
		for _, r := range x.Records() {
			found = found || r.Dir == fcgi.Sent && r.Type == fcgi.TypeStdin && r.ContentLength == 4
		}
	}
	if !found {
		t.Errorf("no exchange shows the late STDIN record")
	}
}

// TestTapKeepConnNotClosed: with KEEP_CONN the tap does not close the
// application's side on its own; the application keeps the connection
// open and takes a second request on it.
func TestTapKeepConnNotClosed(t *testing.T) {
	backend := fcgitest.StartDemo(t)
	tp, col := startTap(t, tap.Options{Upstream: backend})
	c := fcgi.NewClient(tp.Addr(), fcgi.ClientOptions{})
	defer c.Close()
	for range 2 {
		if _, _, err := get(t, c, "/echo", true); err != nil {
			t.Fatal(err)
		}
	}
	col.wait(t, 2)
	if st := tp.Stats(); st.Conns != 1 || st.Unforwarded != 0 {
		t.Errorf("%d connections, %d bytes not forwarded: want 1 and 0", st.Conns, st.Unforwarded)
	}
}
