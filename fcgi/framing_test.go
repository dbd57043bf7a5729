// Request framing: PARAMS and STDIN cut into records as a web server does,
// checked byte for byte on a real socket.

package fcgi_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// wireRecord renders one record as it must appear on the wire: header,
// content, pad zero bytes.
func wireRecord(t fcgi.RecordType, content []byte, pad int) []byte {
	h := fcgi.Header{Version: fcgi.Version1, Type: t, RequestID: 1, ContentLength: uint16(len(content)), PaddingLength: uint8(pad)}
	b := fcgi.AppendHeader(nil, h)
	b = append(b, content...)
	return append(b, make([]byte, pad)...)
}

// beginRecord is BEGIN_REQUEST for request 1, responder, no KEEP_CONN.
var beginRecord = []byte{1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}

// wireCapture accepts one connection, keeps every byte the client sends up
// to and including the empty STDIN record, and answers END_REQUEST.
func wireCapture(t *testing.T) (addr string, got <-chan []byte) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan []byte, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		var raw bytes.Buffer
		r := fcgi.NewReader(io.TeeReader(nc, &raw))
		for {
			rec, err := r.ReadRecord()
			if err != nil {
				ch <- raw.Bytes()
				return
			}
			if rec.Type == fcgi.TypeStdin && rec.ContentLength == 0 {
				break
			}
		}
		ch <- bytes.Clone(raw.Bytes())
		fcgi.NewWriter(nc).WriteEndRequest(1, 0, fcgi.StatusRequestComplete)
	}()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String(), ch
}

// chunkyReader returns at most n bytes per Read and is no io.WriterTo, so
// the client reads it record by record.
type chunkyReader struct {
	r io.Reader
	n int
}

func (c *chunkyReader) Read(p []byte) (int, error) { return c.r.Read(p[:min(len(p), c.n)]) }

func TestFramingOnTheWire(t *testing.T) {
	body := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31 + 7)
		}
		return b
	}
	// Three pairs of 6003 encoded bytes each (1-byte name length, 4-byte
	// value length): 18009 bytes in all.
	big := []fcgi.Pair{
		{Name: "A", Value: strings.Repeat("a", 5998)},
		{Name: "B", Value: strings.Repeat("b", 5998)},
		{Name: "C", Value: strings.Repeat("c", 5998)},
	}
	enc := func(ps ...fcgi.Pair) []byte { return fcgi.AppendPairs(nil, ps) }
	small := []fcgi.Pair{{Name: "REQUEST_METHOD", Value: "POST"}}

	type piece struct {
		t       fcgi.RecordType
		content []byte
		pad     int
	}
	cut := func(t fcgi.RecordType, b []byte, size int, padded bool) []piece {
		var out []piece
		for len(b) > 0 {
			k := min(len(b), size)
			pad := 0
			if padded {
				pad = -k & 7
			}
			out = append(out, piece{t, b[:k], pad})
			b = b[k:]
		}
		return out
	}
	b100k, b64k, b10k := body(100<<10), body(64<<10), body(10000)
	apache := fcgi.Framing{ParamsMax: 16384, ParamsUnpadded: true, StdinMax: 8192, StdinUnpadded: true}
	tests := []struct {
		name    string
		framing fcgi.Framing
		params  []fcgi.Pair
		stdin   io.Reader
		want    []piece // between BEGIN_REQUEST and the empty STDIN; the empty PARAMS included
	}{
		{"default: one padded PARAMS, 65535-byte STDIN records", fcgi.Framing{}, small, bytes.NewReader(b100k),
			append([]piece{{fcgi.TypeParams, enc(small...), -len(enc(small...)) & 7}, {fcgi.TypeParams, nil, 0}},
				cut(fcgi.TypeStdin, b100k, 65535, true)...)},
		{"nginx: 32 KiB STDIN records, padded", fcgi.Framing{StdinMax: 32768}, small, bytes.NewReader(b100k),
			append([]piece{{fcgi.TypeParams, enc(small...), -len(enc(small...)) & 7}, {fcgi.TypeParams, nil, 0}},
				cut(fcgi.TypeStdin, b100k, 32768, true)...)},
		{"apache: 16 KiB PARAMS at pair boundaries, 8 KiB STDIN, no padding", apache, big, bytes.NewReader(b64k),
			append([]piece{{fcgi.TypeParams, enc(big[0], big[1]), 0}, {fcgi.TypeParams, enc(big[2]), 0}, {fcgi.TypeParams, nil, 0}},
				cut(fcgi.TypeStdin, b64k, 8192, false)...)},
		{"apache, body read 1000 bytes at a time: still 8192-byte records", apache, small, &chunkyReader{bytes.NewReader(b64k), 1000},
			append([]piece{{fcgi.TypeParams, enc(small...), 0}, {fcgi.TypeParams, nil, 0}},
				cut(fcgi.TypeStdin, b64k, 8192, false)...)},
		{"apache, small body sent with the head", apache, small, bytes.NewReader(b10k),
			append([]piece{{fcgi.TypeParams, enc(small...), 0}, {fcgi.TypeParams, nil, 0}},
				cut(fcgi.TypeStdin, b10k, 8192, false)...)},
		{"caddy: 65500-byte STDIN records padded to 8", fcgi.Framing{ParamsMax: 65500, StdinMax: 65500}, small, bytes.NewReader(b64k),
			append([]piece{{fcgi.TypeParams, enc(small...), -len(enc(small...)) & 7}, {fcgi.TypeParams, nil, 0}},
				piece{fcgi.TypeStdin, b64k[:65500], 4}, piece{fcgi.TypeStdin, b64k[65500:], 4})},
		{"lighttpd: unpadded, 65535 + 1", fcgi.Framing{ParamsUnpadded: true, StdinMax: 65535, StdinUnpadded: true}, small, strings.NewReader(string(b64k)),
			append([]piece{{fcgi.TypeParams, enc(small...), 0}, {fcgi.TypeParams, nil, 0}},
				piece{fcgi.TypeStdin, b64k[:65535], 0}, piece{fcgi.TypeStdin, b64k[65535:], 0})},
		{"a pair longer than ParamsMax is split", fcgi.Framing{ParamsMax: 4000}, big[:1], nil,
			[]piece{{fcgi.TypeParams, enc(big[0])[:4000], 0}, {fcgi.TypeParams, enc(big[0])[4000:], -(len(enc(big[0])) - 4000) & 7}, {fcgi.TypeParams, nil, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, got := wireCapture(t)
			c, err := fcgi.Dial(t.Context(), addr, fcgi.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if _, err := c.Do(ctx, &fcgi.Request{Params: tt.params, Stdin: tt.stdin, Framing: tt.framing}); err != nil {
				t.Fatal(err)
			}
			want := append([]byte(nil), beginRecord...)
			for _, p := range tt.want {
				want = append(want, wireRecord(p.t, p.content, p.pad)...)
			}
			want = append(want, wireRecord(fcgi.TypeStdin, nil, 0)...)
			wire := <-got
			if !bytes.Equal(wire, want) {
				t.Errorf("wire differs (%d bytes, want %d):\ngot  %s\nwant %s", len(wire), len(want), headers(wire), headers(want))
			}
		})
	}
}

// headers lists the record headers of a byte stream: type, content and
// padding length.
func headers(b []byte) string {
	var out []string
	r := fcgi.NewReader(bytes.NewReader(b))
	for {
		rec, err := r.ReadRecord()
		if err != nil {
			break
		}
		out = append(out, rec.Type.String()+"/"+strconv.Itoa(int(rec.ContentLength))+"+"+strconv.Itoa(int(rec.PaddingLength)))
	}
	return strings.Join(out, " ")
}

func TestFramingOutOfRange(t *testing.T) {
	for _, f := range []fcgi.Framing{{ParamsMax: -1}, {ParamsMax: 65536}, {StdinMax: -8}, {StdinMax: 1 << 20}} {
		addr, _ := wireCapture(t)
		c, err := fcgi.Dial(t.Context(), addr, fcgi.Options{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Do(t.Context(), &fcgi.Request{Framing: f})
		c.Close()
		if err == nil || !strings.Contains(err.Error(), "Framing.") || !strings.Contains(err.Error(), "not sent") {
			t.Errorf("%+v: err = %v, want an out-of-range Framing error before sending", f, err)
		}
	}
}

func TestFramingString(t *testing.T) {
	for _, tt := range []struct {
		f    fcgi.Framing
		want string
	}{
		{fcgi.Framing{}, "PARAMS ≤65535 B records, padded to 8; STDIN one record per read (≤65535 B), padded to 8"},
		{fcgi.Framing{ParamsMax: 16384, ParamsUnpadded: true, StdinMax: 8192, StdinUnpadded: true}, "PARAMS ≤16384 B records, unpadded; STDIN 8192 B records, unpadded"},
	} {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.f, got, tt.want)
		}
	}
}
