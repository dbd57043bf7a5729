// Misbehaviour: routes under /misbehave/ that break the protocol, or bend it
// the way real backends do, on request, so a client can be watched coping.

package demo

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"fcgiscope/fcgi"
)

// MisbehavePrefix starts the path of every misbehaving route.
const MisbehavePrefix = "/misbehave/"

// Limits and defaults of the misbehaving routes' query parameters.
const (
	defaultFirstByteMS = 2000
	defaultDribbleN    = 100
	maxDribbleN        = 1 << 20
	dribbleMaxRecord   = 8 // content bytes of the largest dribbled record
	defaultStderrBytes = 10 << 20
	maxStderrBytes     = 512 << 20
	defaultAppStatus   = 1
	oddPadding         = 3  // padding of /misbehave/odd-padding records
	mysteryType        = 42 // the record type /misbehave/unknown-type sends
	shortClaimed       = 100
	shortSent          = 10
)

// Misbehaviours returns the misbehaving routes, in the order of the index
// page. Each Summary says what the route sends and what a client should
// make of it; it is the scenario's documentation.
func Misbehaviours() []Route {
	return []Route{
		{MisbehavePrefix + "slow-first-byte", "?ms=M (default 2000): waits M ms before the first record, then answers normally; a client whose idle timeout is shorter gives up (and sends ABORT_REQUEST)", fcgi.HandlerFunc(serveSlowFirstByte)},
		{MisbehavePrefix + "dribble", "?n=N (default 100): a response with an N-byte body, the whole of it (headers too) in STDOUT records of 1 to 8 bytes each; record boundaries inside a stream carry no meaning", fcgi.HandlerFunc(serveDribble)},
		{MisbehavePrefix + "huge-stderr", "?bytes=N (default 10 MiB, at most 512 MiB): N bytes of text on STDERR, then a short response; stderr is a stream like stdout, with no size limit in the protocol", fcgi.HandlerFunc(serveHugeStderr)},
		{MisbehavePrefix + "status/cant-mpx-conn", "END_REQUEST with protocol status CANT_MPX_CONN and no output: the application refuses a second request on a connection it cannot multiplex", fcgi.HandlerFunc(serveProtocolStatus(fcgi.StatusCantMpxConn))},
		{MisbehavePrefix + "status/overloaded", "END_REQUEST with protocol status OVERLOADED and no output: the application is out of resources (connections, workers)", fcgi.HandlerFunc(serveProtocolStatus(fcgi.StatusOverloaded))},
		{MisbehavePrefix + "status/unknown-role", "END_REQUEST with protocol status UNKNOWN_ROLE and no output: the answer the spec gives to a role the application does not play", fcgi.HandlerFunc(serveProtocolStatus(fcgi.StatusUnknownRole))},
		{MisbehavePrefix + "status/app", "?code=N (default 1): a 500 response, then END_REQUEST REQUEST_COMPLETE with app status N, the CGI program's exit status", fcgi.HandlerFunc(serveAppStatus)},
		{MisbehavePrefix + "close-early", "the response headers, then the connection is closed without END_REQUEST: the client must report the request as failed, not complete", fcgi.HandlerFunc(serveCloseEarly)},
		{MisbehavePrefix + "odd-padding", "STDOUT records with 3 (or 4) bytes of padding, so records do not align to 8 bytes; legal, since the spec only recommends alignment, and a reader must skip any padding", fcgi.HandlerFunc(serveOddPadding)},
		{MisbehavePrefix + "unknown-type", "a record of type 42, which the spec does not define, for the request, then a normal response; a client should flag and skip it", fcgi.HandlerFunc(serveUnknownType)},
		{MisbehavePrefix + "wrong-id", "a STDOUT record for request id+1 (id-1 for 65535), which is not active, then a normal response; a client must not mix it into the response", fcgi.HandlerFunc(serveWrongID)},
		{MisbehavePrefix + "version2", "a STDOUT record whose header says version 2, then a normal response; a client cannot trust anything after it and drops the connection", fcgi.HandlerFunc(serveVersion2)},
		{MisbehavePrefix + "short-content", "a STDOUT header claiming 100 content bytes, only 10 of them sent, then the connection is closed: the stream ends inside a record", fcgi.HandlerFunc(serveShortContent)},
		{MisbehavePrefix + "after-end", "a normal response and END_REQUEST, then one more STDOUT record for the ended request; send it with KEEP_CONN so the connection stays open (without it the connection is closed right after the late record)", fcgi.HandlerFunc(serveAfterEnd)},
		{MisbehavePrefix + "stderr-unclosed", "STDERR and STDOUT, STDOUT closed with its empty record but STDERR not, then END_REQUEST; php-fpm closes neither, so a client must not wait for the empty record", fcgi.HandlerFunc(serveStderrUnclosed)},
	}
}

// drainStdin reads the request body to its end, so that a connection
// closed on purpose right after has no unread input, which would turn the
// close into a reset and lose what was sent before it.
func drainStdin(r *fcgi.ServerRequest) {
	io.Copy(io.Discard, r.Stdin)
}

func serveSlowFirstByte(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	ms := intParam(query(r), "ms", defaultFirstByteMS, 0, maxSlowMS)
	if !sleep(r.Context(), time.Duration(ms)*time.Millisecond) {
		return
	}
	header(w, http.StatusOK, textPlain)
	fmt.Fprintf(w, "first byte after %d ms\n", ms)
}

// dribbleSize returns the content length of the i-th dribbled record: 1, 2,
// …, 8, 1, 2, …
func dribbleSize(i int) int { return i%dribbleMaxRecord + 1 }

func serveDribble(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	n := intParam(query(r), "n", defaultDribbleN, 0, maxDribbleN)
	var b strings.Builder
	b.WriteString(textPlain + "\r\n\r\n")
	for i := 0; b.Len() < len(textPlain)+4+n; i++ {
		b.WriteByte('a' + byte(i%26))
	}
	out := []byte(b.String())
	ctx := r.Context()
	for i := 0; len(out) > 0; i++ {
		if ctx.Err() != nil {
			return
		}
		k := min(dribbleSize(i), len(out))
		if _, err := w.Write(out[:k]); err != nil || w.Flush() != nil { // one record each
			return
		}
		out = out[k:]
	}
}

func serveHugeStderr(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	n := intParam(query(r), "bytes", defaultStderrBytes, 0, maxStderrBytes)
	chunk := largeChunk()
	ctx := r.Context()
	for left := n; left > 0; {
		if ctx.Err() != nil {
			return
		}
		k := min(left, len(chunk))
		if _, err := w.Stderr().Write(chunk[:k]); err != nil {
			return
		}
		left -= k
	}
	header(w, http.StatusOK, textPlain)
	fmt.Fprintf(w, "wrote %d bytes to STDERR\n", n)
}

// serveProtocolStatus ends the request at once with status.
func serveProtocolStatus(status fcgi.ProtocolStatus) func(*fcgi.ResponseWriter, *fcgi.ServerRequest) {
	return func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		w.End(0, status)
	}
}

func serveAppStatus(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	code, err := strconv.ParseUint(query(r).Get("code"), 10, 32)
	if err != nil {
		code = defaultAppStatus
	}
	w.SetAppStatus(uint32(code))
	header(w, http.StatusInternalServerError, textPlain)
	fmt.Fprintf(w, "failed: app status %d\n", code)
}

func serveCloseEarly(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	drainStdin(r)
	header(w, http.StatusOK, textPlain)
	w.Misbehave(func(*fcgi.Writer) error { return fcgi.ErrDropConn })
}

// writePadded writes p as one STDOUT record with padding that does not
// align the record to 8 bytes.
func writePadded(w *fcgi.ResponseWriter, id uint16, p []byte) error {
	pad := oddPadding
	if (len(p)+pad)%8 == 0 {
		pad++
	}
	h := fcgi.Header{Version: fcgi.Version1, Type: fcgi.TypeStdout, RequestID: id,
		ContentLength: uint16(len(p)), PaddingLength: uint8(pad)}
	return w.Misbehave(func(wr *fcgi.Writer) error { return wr.WriteRaw(h, p, make([]byte, pad)) })
}

func serveOddPadding(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	for _, part := range []string{textPlain + "\r\n\r\n", "padded records\n", "do not align to 8 bytes\n"} {
		if writePadded(w, r.ID, []byte(part)) != nil {
			return
		}
	}
}

func serveUnknownType(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	if w.Misbehave(func(wr *fcgi.Writer) error { return wr.WriteRecord(mysteryType, r.ID, []byte("type 42?")) }) != nil {
		return
	}
	header(w, http.StatusOK, textPlain)
	io.WriteString(w, "a record of type 42 came first\n")
}

// otherID returns a request id next to id that is not id.
func otherID(id uint16) uint16 {
	if id == 65535 {
		return id - 1
	}
	return id + 1
}

func serveWrongID(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	stray := fmt.Sprintf("stray output for request %d\n", otherID(r.ID))
	if w.Misbehave(func(wr *fcgi.Writer) error { return wr.WriteRecord(fcgi.TypeStdout, otherID(r.ID), []byte(stray)) }) != nil {
		return
	}
	header(w, http.StatusOK, textPlain)
	fmt.Fprintf(w, "the real response of request %d\n", r.ID)
}

func serveVersion2(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	p := []byte("version 2 says this header\n")
	h := fcgi.Header{Version: 2, Type: fcgi.TypeStdout, RequestID: r.ID,
		ContentLength: uint16(len(p)), PaddingLength: fcgi.PaddingFor(len(p))}
	if w.Misbehave(func(wr *fcgi.Writer) error { return wr.WriteRaw(h, p, make([]byte, h.PaddingLength)) }) != nil {
		return
	}
	header(w, http.StatusOK, textPlain)
	io.WriteString(w, "after the version 2 record\n")
}

func serveShortContent(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	drainStdin(r)
	h := fcgi.Header{Version: fcgi.Version1, Type: fcgi.TypeStdout, RequestID: r.ID,
		ContentLength: shortClaimed, PaddingLength: fcgi.PaddingFor(shortClaimed)}
	w.Misbehave(func(wr *fcgi.Writer) error {
		if err := wr.WriteRaw(h, []byte(strings.Repeat("x", shortSent)), nil); err != nil {
			return err
		}
		return fcgi.ErrDropConn
	})
}

func serveAfterEnd(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	late := []byte("late output after END_REQUEST\n")
	header(w, http.StatusOK, textPlain)
	io.WriteString(w, "the response, before END_REQUEST\n")
	if r.KeepConn {
		if w.Misbehave(closeStdout(r.ID)) != nil || w.End(0, fcgi.StatusRequestComplete) != nil {
			return
		}
		w.Misbehave(func(wr *fcgi.Writer) error { return wr.WriteRecord(fcgi.TypeStdout, r.ID, late) })
		return
	}
	// Without KEEP_CONN, End would close the connection before the late
	// record: write END_REQUEST by hand, then the record, then close.
	drainStdin(r)
	w.Misbehave(func(wr *fcgi.Writer) error {
		if err := wr.CloseStream(fcgi.TypeStdout, r.ID); err != nil {
			return err
		}
		if err := wr.WriteEndRequest(r.ID, 0, fcgi.StatusRequestComplete); err != nil {
			return err
		}
		if err := wr.WriteRecord(fcgi.TypeStdout, r.ID, late); err != nil {
			return err
		}
		return fcgi.ErrDropConn
	})
}

// closeStdout writes the empty STDOUT record that closes the stream of
// request id, which End leaves out.
func closeStdout(id uint16) func(*fcgi.Writer) error {
	return func(wr *fcgi.Writer) error { return wr.CloseStream(fcgi.TypeStdout, id) }
}

func serveStderrUnclosed(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	io.WriteString(w.Stderr(), "demo: a warning on STDERR, whose stream is never closed\n")
	header(w, http.StatusOK, textPlain)
	io.WriteString(w, "STDOUT is closed with an empty record, STDERR is not\n")
	if w.Misbehave(closeStdout(r.ID)) != nil {
		return
	}
	w.End(0, fcgi.StatusRequestComplete)
}
