package fcgitest

import (
	"net"
	"os"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// Captured is one request as a Capture received it: the BEGIN_REQUEST, every record's
// header up to and including the empty STDIN record, the params decoded in order and the
// STDIN content.
type Captured struct {
	Begin   fcgi.BeginRequest
	Records []fcgi.Header
	Params  []fcgi.Pair
	Stdin   []byte
}

// Stream returns the headers of the records of type t, in order (the empty record that
// closes the stream included).
func (c Captured) Stream(t fcgi.RecordType) []fcgi.Header {
	var out []fcgi.Header
	for _, h := range c.Records {
		if h.Type == t {
			out = append(out, h)
		}
	}
	return out
}

// Capture is a FastCGI server that records each request exactly as it arrives and answers
// a fixed plain-text document ("captured"), closing the connection unless KEEP_CONN. Put a
// web server in front of it to see what that web server sends.
type Capture struct {
	*RawServer
	got chan Captured
}

// StartCapture starts a Capture listening on network ("tcp" or "unix"; a unix socket is
// made writable for everyone, as a web server's workers may run as another user). It stops
// in t.Cleanup.
func StartCapture(t testing.TB, network string) *Capture {
	t.Helper()
	c := &Capture{got: make(chan Captured, 64)}
	c.RawServer = StartRaw(t, network, c.serve)
	if network == "unix" {
		os.Chmod(c.Addr, 0o777)
	}
	return c
}

// serve records the requests of one connection and answers each.
func (c *Capture) serve(nc net.Conn) {
	r := fcgi.NewReader(nc)
	w := fcgi.NewWriter(nc)
	for {
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		var got Captured
		var id uint16
		for {
			rec, err := r.ReadRecord()
			if err != nil {
				return
			}
			got.Records = append(got.Records, rec.Header)
			id = rec.RequestID
			switch b := rec.Body.(type) {
			case *fcgi.BeginRequest:
				got.Begin = *b
			case *fcgi.Pairs:
				got.Params = append(got.Params, b.List()...)
			}
			if rec.Type == fcgi.TypeStdin {
				got.Stdin = append(got.Stdin, rec.Content()...)
				if rec.ContentLength == 0 {
					break
				}
			}
		}
		if got.Stdin == nil {
			got.Stdin = []byte{}
		}
		c.got <- got // before answering: once the client has its answer, the capture is here
		w.WriteStream(fcgi.TypeStdout, id, []byte("Content-Type: text/plain\r\n\r\ncaptured"))
		w.CloseStream(fcgi.TypeStdout, id)
		w.WriteEndRequest(id, 0, fcgi.StatusRequestComplete)
		if got.Begin.Flags&fcgi.FlagKeepConn == 0 {
			return
		}
	}
}

// Take returns the oldest request not taken yet, if one arrived. Call it after the client
// got its answer: the capture records before it answers.
func (c *Capture) Take() (Captured, bool) {
	select {
	case g := <-c.got:
		return g, true
	default:
		return Captured{}, false
	}
}
