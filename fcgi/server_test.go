// Server tests: a raw client built from Reader and Writer over real sockets.

package fcgi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
	"fcgiscope/fcgi/fcgitest"
)

// errLog collects what a Server reports.
type errLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errLog) log(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.errs {
		b.WriteString(e.Error())
		b.WriteString("\n")
	}
	return b.String()
}

// serve starts srv on a fresh listener ("tcp" on 127.0.0.1:0 or "unix" in
// a temporary directory) and returns the network and address. Cleanup
// closes the server and checks that Serve returned ErrServerClosed.
func serve(t *testing.T, srv *fcgi.Server, network string) endpoint {
	t.Helper()
	l, _ := fcgitest.Listen(t, network)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; !errors.Is(err, fcgi.ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return endpoint{network, l.Addr().String()}
}

// endpoint is where a test server listens.
type endpoint struct{ network, addr string }

// rec is a record as the raw client received it (copied).
type rec struct {
	fcgi.Header
	Content []byte
	Body    fcgi.Body
}

// response gathers the records of one request.
type response struct {
	Stdout, Stderr         []byte
	StdoutRecs, StderrRecs []rec
	End                    *fcgi.EndRequest
}

// rawClient speaks FastCGI with nothing but Reader and Writer.
type rawClient struct {
	t  *testing.T
	nc net.Conn
	r  *fcgi.Reader
	w  *fcgi.Writer
}

func dial(t *testing.T, ep endpoint) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout(ep.network, ep.addr, testWait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &rawClient{t: t, nc: nc, r: fcgi.NewReader(nc), w: fcgi.NewWriter(nc)}
}

func (c *rawClient) must(err error) {
	c.t.Helper()
	if err != nil {
		c.t.Fatal(err)
	}
}

// begin sends BEGIN_REQUEST and the whole PARAMS stream.
func (c *rawClient) begin(id uint16, role fcgi.Role, keep bool, params ...fcgi.Pair) {
	c.t.Helper()
	var flags fcgi.Flags
	if keep {
		flags = fcgi.FlagKeepConn
	}
	c.must(c.w.WriteBeginRequest(id, role, flags))
	c.must(c.w.WriteParams(id, params))
}

// stream sends p on stream t of id and closes the stream.
func (c *rawClient) stream(t fcgi.RecordType, id uint16, p []byte) {
	c.t.Helper()
	c.must(c.w.WriteStream(t, id, p))
	c.must(c.w.CloseStream(t, id))
}

// send sends a whole request; data goes on DATA when not nil.
func (c *rawClient) send(id uint16, role fcgi.Role, keep bool, params []fcgi.Pair, stdin, data []byte) {
	c.t.Helper()
	c.begin(id, role, keep, params...)
	c.stream(fcgi.TypeStdin, id, stdin)
	if data != nil {
		c.stream(fcgi.TypeData, id, data)
	}
}

// read reads one record, checking that it is padded to 8 as the Writer
// promises.
func (c *rawClient) read() (rec, error) {
	c.nc.SetReadDeadline(time.Now().Add(testWait))
	r, err := c.r.ReadRecord()
	if err != nil {
		return rec{}, err
	}
	if want := fcgi.PaddingFor(int(r.ContentLength)); r.PaddingLength != want {
		c.t.Errorf("record %d (%s): padding %d, want %d", r.Index, r.Type, r.PaddingLength, want)
	}
	if len(r.Raw) != r.RecordLen() || (r.RecordLen()-fcgi.HeaderLen)%8 != 0 {
		c.t.Errorf("record %d (%s): %d raw bytes, header says %d", r.Index, r.Type, len(r.Raw), r.RecordLen())
	}
	return rec{Header: r.Header, Content: bytes.Clone(r.Content()), Body: r.Body}, nil
}

func (c *rawClient) mustRead() rec {
	c.t.Helper()
	r, err := c.read()
	if err != nil {
		c.t.Fatalf("reading a record: %v", err)
	}
	return r
}

// responses reads until every id got END_REQUEST; records for other ids
// fail the test. It also returns the order in which the ids ended.
func (c *rawClient) responses(ids ...uint16) (map[uint16]*response, []uint16) {
	c.t.Helper()
	out := make(map[uint16]*response)
	for _, id := range ids {
		out[id] = &response{}
	}
	var order []uint16
	for len(order) < len(ids) {
		r := c.mustRead()
		resp := out[r.RequestID]
		if resp == nil || resp.End != nil {
			c.t.Fatalf("unexpected %s record for request %d", r.Type, r.RequestID)
		}
		switch r.Type {
		case fcgi.TypeStdout:
			resp.Stdout = append(resp.Stdout, r.Content...)
			resp.StdoutRecs = append(resp.StdoutRecs, r)
		case fcgi.TypeStderr:
			resp.Stderr = append(resp.Stderr, r.Content...)
			resp.StderrRecs = append(resp.StderrRecs, r)
		case fcgi.TypeEndRequest:
			resp.End = r.Body.(*fcgi.EndRequest)
			order = append(order, r.RequestID)
		default:
			c.t.Fatalf("unexpected %s record for request %d", r.Type, r.RequestID)
		}
	}
	return out, order
}

func (c *rawClient) response(id uint16) *response {
	c.t.Helper()
	m, _ := c.responses(id)
	return m[id]
}

// expectEOF checks that the server closed the connection.
func (c *rawClient) expectEOF() {
	c.t.Helper()
	r, err := c.read()
	if err == nil {
		c.t.Fatalf("got %s record for request %d, want the connection closed", r.Type, r.RequestID)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, fcgi.ErrShortRecord) {
		c.t.Fatalf("got %v, want the connection closed", err)
	}
}

func (c *rawClient) getValues(names ...string) []fcgi.Pair {
	c.t.Helper()
	c.must(c.w.WriteGetValues(names))
	r := c.mustRead()
	if r.Type != fcgi.TypeGetValuesResult || r.RequestID != 0 {
		c.t.Fatalf("got %s for request %d, want GET_VALUES_RESULT for 0", r.Type, r.RequestID)
	}
	return r.Body.(*fcgi.Pairs).List()
}

// checkComplete checks a normal end: REQUEST_COMPLETE with appStatus, the
// STDOUT stream closed by one empty record, STDERR closed iff used.
func checkComplete(t *testing.T, resp *response, appStatus uint32) {
	t.Helper()
	if resp.End.ProtocolStatus != fcgi.StatusRequestComplete || resp.End.AppStatus != appStatus {
		t.Errorf("END_REQUEST %d/%s, want %d/REQUEST_COMPLETE", resp.End.AppStatus, resp.End.ProtocolStatus, appStatus)
	}
	checkClosed(t, "STDOUT", resp.StdoutRecs, true)
	checkClosed(t, "STDERR", resp.StderrRecs, len(resp.Stderr) > 0)
}

func checkClosed(t *testing.T, name string, recs []rec, want bool) {
	t.Helper()
	if !want {
		if len(recs) > 0 {
			t.Errorf("%s: %d records for an unused stream", name, len(recs))
		}
		return
	}
	if len(recs) == 0 || recs[len(recs)-1].ContentLength != 0 {
		t.Errorf("%s not closed by an empty record", name)
	}
	for i, r := range recs[:max(0, len(recs)-1)] {
		if r.ContentLength == 0 {
			t.Errorf("%s: empty record %d before the end of the stream", name, i)
		}
	}
}

// echoHandler answers with role, id, keep_conn, params, stdin and data.
func echoHandler(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
	stdin, err := io.ReadAll(r.Stdin)
	if err != nil {
		fmt.Fprintf(w.Stderr(), "stdin: %v", err)
		return
	}
	data, err := io.ReadAll(r.Data)
	if err != nil {
		fmt.Fprintf(w.Stderr(), "data: %v", err)
		return
	}
	fmt.Fprintf(w, "role=%s id=%d keep=%t\n", r.Role, r.ID, r.KeepConn)
	for _, p := range r.Params {
		fmt.Fprintf(w, "%s=%s\n", p.Name, p.Value)
	}
	fmt.Fprintf(w, "stdin=%s\ndata=%s\n", stdin, data)
}

func TestServerRoles(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			srv := &fcgi.Server{Handler: fcgi.HandlerFunc(echoHandler), MpxsConns: true}
			c := dial(t, serve(t, srv, network))
			params := []fcgi.Pair{{"A", "1"}, {"B", "2"}, {"A", "3"}, {"EMPTY", ""}}
			for i, tc := range []struct {
				role        fcgi.Role
				stdin, data []byte
				want        string
			}{
				{fcgi.RoleResponder, []byte("hello"), nil,
					"role=RESPONDER id=1 keep=true\nA=1\nB=2\nA=3\nEMPTY=\nstdin=hello\ndata=\n"},
				{fcgi.RoleAuthorizer, nil, nil,
					"role=AUTHORIZER id=2 keep=true\nA=1\nB=2\nA=3\nEMPTY=\nstdin=\ndata=\n"},
				{fcgi.RoleFilter, []byte("in"), []byte("file content"),
					"role=FILTER id=3 keep=true\nA=1\nB=2\nA=3\nEMPTY=\nstdin=in\ndata=file content\n"},
			} {
				id := uint16(i + 1)
				c.send(id, tc.role, true, params, tc.stdin, tc.data)
				resp := c.response(id)
				if string(resp.Stdout) != tc.want {
					t.Errorf("%s: stdout %q, want %q", tc.role, resp.Stdout, tc.want)
				}
				checkComplete(t, resp, 0)
			}
		})
	}
}

func TestServerParamLookup(t *testing.T) {
	r := &fcgi.ServerRequest{Params: []fcgi.Pair{{"A", "1"}, {"B", "2"}, {"A", "3"}}}
	if got := r.Param("A"); got != "3" {
		t.Errorf("Param(A) = %q, want the last value 3", got)
	}
	if got := r.Param("C"); got != "" {
		t.Errorf("Param(C) = %q, want empty", got)
	}
	if r.Context() == nil {
		t.Error("Context() is nil")
	}
}

func TestServerGetValues(t *testing.T) {
	for _, tc := range []struct {
		srv   *fcgi.Server
		names []string
		want  []fcgi.Pair
	}{
		{&fcgi.Server{MaxConns: 16, MaxReqs: 64, MpxsConns: true},
			[]string{fcgi.ValueMpxsConns, "FCGI_UNKNOWN", fcgi.ValueMaxConns, "MAX_REQS", fcgi.ValueMaxReqs},
			[]fcgi.Pair{{fcgi.ValueMpxsConns, "1"}, {fcgi.ValueMaxConns, "16"}, {fcgi.ValueMaxReqs, "64"}}},
		{&fcgi.Server{},
			[]string{fcgi.ValueMaxConns, fcgi.ValueMaxReqs, fcgi.ValueMpxsConns},
			[]fcgi.Pair{{fcgi.ValueMaxConns, "0"}, {fcgi.ValueMaxReqs, "0"}, {fcgi.ValueMpxsConns, "0"}}},
		{&fcgi.Server{MaxConns: 1}, []string{"NOTHING_KNOWN"}, nil},
	} {
		c := dial(t, serve(t, tc.srv, "tcp"))
		got := c.getValues(tc.names...)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("GET_VALUES %v = %v, want %v", tc.names, got, tc.want)
		}
	}
}

func TestServerUnknownManagementType(t *testing.T) {
	c := dial(t, serve(t, &fcgi.Server{Handler: fcgi.HandlerFunc(echoHandler)}, "tcp"))
	for _, typ := range []fcgi.RecordType{42, fcgi.TypeStdin, fcgi.TypeBeginRequest, fcgi.TypeGetValuesResult, 255} {
		content := []byte("x")
		if typ == fcgi.TypeBeginRequest {
			content = []byte{0, byte(fcgi.RoleResponder), 0, 0, 0, 0, 0, 0}
		}
		if typ == fcgi.TypeGetValuesResult {
			content = fcgi.AppendPairs(nil, []fcgi.Pair{{Name: "A", Value: "B"}})
		}
		c.must(c.w.WriteRecord(typ, 0, content))
		r := c.mustRead()
		if r.Type != fcgi.TypeUnknownType || r.RequestID != 0 {
			t.Fatalf("%s: got %s for request %d, want UNKNOWN_TYPE for 0", typ, r.Type, r.RequestID)
		}
		if u := r.Body.(*fcgi.UnknownType); u.Type != typ {
			t.Errorf("UNKNOWN_TYPE names %s, want %s", u.Type, typ)
		}
	}
	// The connection still serves requests.
	c.send(1, fcgi.RoleResponder, false, nil, nil, nil)
	checkComplete(t, c.response(1), 0)
}

func TestServerUnknownRole(t *testing.T) {
	var calls atomic.Int32
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		calls.Add(1)
		io.WriteString(w, "ok")
	})}
	ep := serve(t, srv, "tcp")

	// KEEP_CONN=1: rejected, and the connection stays usable.
	c := dial(t, ep)
	c.send(1, fcgi.Role(7), true, []fcgi.Pair{{"A", "1"}}, []byte("body"), nil)
	resp := c.response(1)
	if resp.End.ProtocolStatus != fcgi.StatusUnknownRole || len(resp.StdoutRecs) != 0 {
		t.Errorf("got %s with %d STDOUT records, want UNKNOWN_ROLE alone", resp.End.ProtocolStatus, len(resp.StdoutRecs))
	}
	c.send(1, fcgi.RoleResponder, true, nil, nil, nil)
	if resp := c.response(1); string(resp.Stdout) != "ok" {
		t.Errorf("next request: stdout %q", resp.Stdout)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1 (not for the unknown role)", n)
	}

	// KEEP_CONN=0: rejected, then the connection is closed.
	c = dial(t, ep)
	c.send(3, fcgi.Role(0), false, nil, nil, nil)
	if resp := c.response(3); resp.End.ProtocolStatus != fcgi.StatusUnknownRole {
		t.Errorf("role 0: got %s, want UNKNOWN_ROLE", resp.End.ProtocolStatus)
	}
	c.expectEOF()
}

func TestServerMultiplexed(t *testing.T) {
	release := make(chan struct{})
	srv := &fcgi.Server{MpxsConns: true, Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		if r.Param("WAIT") == "1" {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		echoHandler(w, r)
	})}
	c := dial(t, serve(t, srv, "tcp"))

	// Interleave the two requests' records on the wire.
	c.must(c.w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn))
	c.must(c.w.WriteBeginRequest(2, fcgi.RoleResponder, fcgi.FlagKeepConn))
	c.must(c.w.WriteRecord(fcgi.TypeParams, 2, fcgi.AppendPairs(nil, []fcgi.Pair{{"N", "two"}})))
	c.must(c.w.WriteRecord(fcgi.TypeParams, 1, fcgi.AppendPairs(nil, []fcgi.Pair{{"N", "one"}, {"WAIT", "1"}})))
	c.must(c.w.CloseStream(fcgi.TypeParams, 1))
	c.must(c.w.WriteRecord(fcgi.TypeStdin, 1, []byte("first-")))
	c.must(c.w.CloseStream(fcgi.TypeParams, 2))
	c.must(c.w.WriteRecord(fcgi.TypeStdin, 2, []byte("second")))
	c.must(c.w.WriteRecord(fcgi.TypeStdin, 1, []byte("body")))
	c.must(c.w.CloseStream(fcgi.TypeStdin, 2))
	c.must(c.w.CloseStream(fcgi.TypeStdin, 1))

	// Request 2 completes while 1 still waits.
	resp2 := c.response(2)
	if want := "role=RESPONDER id=2 keep=true\nN=two\nstdin=second\ndata=\n"; string(resp2.Stdout) != want {
		t.Errorf("request 2: stdout %q, want %q", resp2.Stdout, want)
	}
	checkComplete(t, resp2, 0)
	close(release)
	resp1 := c.response(1)
	if want := "role=RESPONDER id=1 keep=true\nN=one\nWAIT=1\nstdin=first-body\ndata=\n"; string(resp1.Stdout) != want {
		t.Errorf("request 1: stdout %q, want %q", resp1.Stdout, want)
	}
	checkComplete(t, resp1, 0)

	// Many at once: each gets its own answer.
	const n = 20
	for id := uint16(1); id <= n; id++ {
		c.send(id, fcgi.RoleResponder, true, []fcgi.Pair{{"ID", fmt.Sprint(id)}}, []byte(strings.Repeat("x", int(id))), nil)
	}
	ids := make([]uint16, n)
	for i := range ids {
		ids[i] = uint16(i + 1)
	}
	resps, _ := c.responses(ids...)
	for id, resp := range resps {
		want := fmt.Sprintf("role=RESPONDER id=%d keep=true\nID=%d\nstdin=%s\ndata=\n", id, id, strings.Repeat("x", int(id)))
		if string(resp.Stdout) != want {
			t.Errorf("request %d: stdout %q, want %q", id, resp.Stdout, want)
		}
	}
}

// blockingServer serves requests that wait until release is closed or
// their context ends; started receives each request id as it starts.
func blockingServer(srv *fcgi.Server) (started chan uint16, release chan struct{}) {
	started = make(chan uint16, 16)
	release = make(chan struct{})
	srv.Handler = fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		started <- r.ID
		select {
		case <-release:
			fmt.Fprintf(w, "done %d", r.ID)
		case <-r.Context().Done():
			fmt.Fprintf(w, "cancelled %d: %v", r.ID, context.Cause(r.Context()))
		}
	})
	return started, release
}

func TestServerCantMpxConn(t *testing.T) {
	srv := &fcgi.Server{MpxsConns: false}
	started, release := blockingServer(srv)
	c := dial(t, serve(t, srv, "tcp"))
	if v := c.getValues(fcgi.ValueMpxsConns); len(v) != 1 || v[0].Value != "0" {
		t.Errorf("FCGI_MPXS_CONNS = %v, want 0", v)
	}
	c.send(1, fcgi.RoleResponder, true, nil, nil, nil)
	<-started
	// KEEP_CONN=0 on the refused request must not close the connection
	// that request 1 still uses.
	c.send(2, fcgi.RoleResponder, false, nil, nil, nil)
	if resp := c.response(2); resp.End.ProtocolStatus != fcgi.StatusCantMpxConn {
		t.Errorf("second request: %s, want CANT_MPX_CONN", resp.End.ProtocolStatus)
	}
	close(release)
	resp := c.response(1)
	if string(resp.Stdout) != "done 1" {
		t.Errorf("first request: stdout %q", resp.Stdout)
	}
	checkComplete(t, resp, 0)
	// Sequential requests on the same connection are fine.
	c.send(2, fcgi.RoleResponder, true, nil, nil, nil)
	if resp := c.response(2); string(resp.Stdout) != "done 2" {
		t.Errorf("next request: stdout %q", resp.Stdout)
	}
}

func TestServerAbortSlow(t *testing.T) {
	srv := &fcgi.Server{Handler: demo.Handler(), MpxsConns: true}
	c := dial(t, serve(t, srv, "tcp"))
	const chunks = 50
	c.send(1, fcgi.RoleResponder, true,
		[]fcgi.Pair{{"SCRIPT_NAME", "/slow"}, {"QUERY_STRING", fmt.Sprintf("ms=100&chunks=%d", chunks)}}, nil, nil)
	// Wait for the header and the first chunk, then abort.
	var stdout []byte
	for !bytes.Contains(stdout, []byte("chunk 1 of")) {
		r := c.mustRead()
		if r.Type != fcgi.TypeStdout {
			t.Fatalf("got %s before the first chunk", r.Type)
		}
		stdout = append(stdout, r.Content...)
	}
	c.must(c.w.WriteAbortRequest(1))
	resp := c.response(1)
	stdout = append(stdout, resp.Stdout...)
	if resp.End.ProtocolStatus != fcgi.StatusRequestComplete {
		t.Errorf("END_REQUEST %s", resp.End.ProtocolStatus)
	}
	if n := bytes.Count(stdout, []byte("chunk ")); n >= chunks {
		t.Errorf("all %d chunks were sent despite ABORT_REQUEST", n)
	}
	if !strings.Contains(string(resp.Stderr), "stopped after") || !strings.Contains(string(resp.Stderr), "ABORT_REQUEST") {
		t.Errorf("stderr %q does not say the request was aborted", resp.Stderr)
	}
	// Late records for the aborted id are dropped and the connection
	// keeps serving.
	c.send(2, fcgi.RoleResponder, true, []fcgi.Pair{{"SCRIPT_NAME", "/html"}}, nil, nil)
	if resp := c.response(2); !bytes.Contains(resp.Stdout, []byte("<html>")) {
		t.Errorf("after abort: stdout %q", resp.Stdout)
	}
}

func TestServerAbortBeforeParamsEnd(t *testing.T) {
	var calls atomic.Int32
	log := &errLog{}
	srv := &fcgi.Server{ErrorLog: log.log, Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		calls.Add(1)
	})}
	c := dial(t, serve(t, srv, "tcp"))
	c.must(c.w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn))
	c.must(c.w.WriteRecord(fcgi.TypeParams, 1, fcgi.AppendPairs(nil, []fcgi.Pair{{Name: "A", Value: "1"}})))
	c.must(c.w.WriteAbortRequest(1))
	resp := c.response(1)
	if resp.End.ProtocolStatus != fcgi.StatusRequestComplete || len(resp.StdoutRecs) != 0 {
		t.Errorf("got %s after %d STDOUT records, want END_REQUEST alone", resp.End.ProtocolStatus, len(resp.StdoutRecs))
	}
	// The rest of the aborted request arrives late: silently dropped.
	c.must(c.w.CloseStream(fcgi.TypeParams, 1))
	c.stream(fcgi.TypeStdin, 1, []byte("late"))
	c.send(2, fcgi.RoleResponder, true, nil, nil, nil)
	checkComplete(t, c.response(2), 0)
	if n := calls.Load(); n != 1 {
		t.Errorf("handler called %d times, want 1", n)
	}
	if s := log.String(); s != "" {
		t.Errorf("ErrorLog got %q for records of a request the server ended", s)
	}
}

func TestServerKeepConn(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			srv := &fcgi.Server{Handler: fcgi.HandlerFunc(echoHandler)}
			ep := serve(t, srv, network)
			c := dial(t, ep)
			for id := uint16(1); id <= 3; id++ {
				c.send(id, fcgi.RoleResponder, true, nil, []byte("x"), nil)
				checkComplete(t, c.response(id), 0)
			}
			if v := c.getValues(fcgi.ValueMaxReqs); len(v) != 1 {
				t.Errorf("GET_VALUES after KEEP_CONN requests: %v", v)
			}
			c.send(4, fcgi.RoleResponder, false, nil, []byte("x"), nil)
			checkComplete(t, c.response(4), 0)
			c.expectEOF()
		})
	}
}

// TestServerCloseUnreadStdin: a handler that ends before reading a large
// STDIN must neither block the connection nor lose its END_REQUEST when
// the connection closes (KEEP_CONN=0) with input still unread.
func TestServerUnreadStdin(t *testing.T) {
	srv := &fcgi.Server{MpxsConns: true, Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		if r.Param("READ") == "1" {
			n, _ := io.Copy(io.Discard, r.Stdin)
			fmt.Fprintf(w, "read %d", n)
			return
		}
		io.WriteString(w, "ignored stdin")
	})}
	c := dial(t, serve(t, srv, "tcp"))
	big := bytes.Repeat([]byte("0123456789abcdef"), 6<<20/16) // more than the server buffers
	sent := make(chan error, 1)
	go func() {
		// The writes may block until the server drains them.
		w := fcgi.NewWriter(c.nc)
		err := w.WriteBeginRequest(1, fcgi.RoleResponder, fcgi.FlagKeepConn)
		if err == nil {
			err = w.WriteParams(1, nil)
		}
		if err == nil {
			err = w.WriteStream(fcgi.TypeStdin, 1, big)
		}
		if err == nil {
			err = w.CloseStream(fcgi.TypeStdin, 1)
		}
		if err == nil {
			err = w.WriteBeginRequest(2, fcgi.RoleResponder, 0)
		}
		if err == nil {
			err = w.WriteParams(2, []fcgi.Pair{{"READ", "1"}})
		}
		if err == nil {
			err = w.WriteStream(fcgi.TypeStdin, 2, big)
		}
		if err == nil {
			err = w.CloseStream(fcgi.TypeStdin, 2)
		}
		sent <- err
	}()
	resps, _ := c.responses(1, 2)
	if string(resps[1].Stdout) != "ignored stdin" {
		t.Errorf("request 1: stdout %q", resps[1].Stdout)
	}
	if want := fmt.Sprintf("read %d", len(big)); string(resps[2].Stdout) != want {
		t.Errorf("request 2: stdout %q, want %q", resps[2].Stdout, want)
	}
	if err := <-sent; err != nil {
		t.Errorf("sending: %v", err)
	}
	c.expectEOF()
}

func TestServerLargeStdout(t *testing.T) {
	const size = 3*fcgi.MaxContent + 1234
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte('a' + i%26)
	}
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		switch r.Param("MODE") {
		case "one":
			w.Write(payload)
		case "small":
			for p := payload; len(p) > 0; p = p[min(len(p), 1000):] {
				w.Write(p[:min(len(p), 1000)])
			}
		case "stderr":
			w.Write(payload[:10])
			w.Stderr().Write(payload)
			w.Write(payload[10:])
		}
	})}
	c := dial(t, serve(t, srv, "tcp"))
	for i, mode := range []string{"one", "small", "stderr"} {
		id := uint16(i + 1)
		c.send(id, fcgi.RoleResponder, true, []fcgi.Pair{{"MODE", mode}}, nil, nil)
		resp := c.response(id)
		if !bytes.Equal(resp.Stdout, payload) {
			t.Errorf("%s: stdout has %d bytes, want the %d written", mode, len(resp.Stdout), size)
		}
		for _, r := range append(resp.StdoutRecs, resp.StderrRecs...) {
			if int(r.ContentLength) > fcgi.MaxContent {
				t.Errorf("%s: record of %d bytes", mode, r.ContentLength)
			}
		}
		// Buffered writes fill records completely: 3 full ones, the rest,
		// and the empty closing record.
		if mode != "stderr" && len(resp.StdoutRecs) != 5 {
			t.Errorf("%s: %d STDOUT records, want 5", mode, len(resp.StdoutRecs))
		}
		if mode == "stderr" {
			if !bytes.Equal(resp.Stderr, payload) {
				t.Errorf("stderr has %d bytes, want %d", len(resp.Stderr), size)
			}
			if first := resp.StdoutRecs[0]; string(first.Content) != string(payload[:10]) {
				t.Errorf("first STDOUT record %q: the write before stderr was not sent first", first.Content)
			}
		}
		checkComplete(t, resp, 0)
	}
}

func TestServerEndAndAppStatus(t *testing.T) {
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		switch r.Param("MODE") {
		case "status":
			w.SetAppStatus(42)
			io.WriteString(w.Stderr(), "warning\n")
			io.WriteString(w, "body")
		case "end":
			io.WriteString(w, "body")
			if err := w.End(7, fcgi.StatusOverloaded); err != nil {
				panic(err)
			}
			if _, err := io.WriteString(w, "more"); err == nil {
				panic("Write after End succeeded")
			}
		case "wrongid":
			w.Misbehave(func(wr *fcgi.Writer) error { return wr.WriteRecord(fcgi.TypeStdout, r.ID+100, []byte("stray")) })
			io.WriteString(w, "body")
		case "fault":
			io.WriteString(w, "body")
			w.Flush()
			w.Misbehave(func(wr *fcgi.Writer) error {
				return wr.WriteRaw(fcgi.Header{Version: 2, Type: fcgi.TypeStdout, RequestID: r.ID, ContentLength: 3}, []byte("bad"), nil)
			})
		case "panic":
			io.WriteString(w, "before panic")
			panic("boom")
		}
	})}
	log := &errLog{}
	srv.ErrorLog = log.log
	ep := serve(t, srv, "tcp")
	c := dial(t, ep)

	c.send(1, fcgi.RoleResponder, true, []fcgi.Pair{{"MODE", "status"}}, nil, nil)
	resp := c.response(1)
	checkComplete(t, resp, 42)
	if string(resp.Stderr) != "warning\n" || string(resp.Stdout) != "body" {
		t.Errorf("stderr %q stdout %q", resp.Stderr, resp.Stdout)
	}

	c.send(2, fcgi.RoleResponder, true, []fcgi.Pair{{"MODE", "end"}}, nil, nil)
	resp = c.response(2)
	if resp.End.AppStatus != 7 || resp.End.ProtocolStatus != fcgi.StatusOverloaded {
		t.Errorf("END_REQUEST %d/%s, want 7/OVERLOADED", resp.End.AppStatus, resp.End.ProtocolStatus)
	}
	if len(resp.StdoutRecs) != 1 || string(resp.Stdout) != "body" {
		t.Errorf("End wrote %d STDOUT records (%q), want the data record only", len(resp.StdoutRecs), resp.Stdout)
	}

	c.send(3, fcgi.RoleResponder, true, []fcgi.Pair{{"MODE", "wrongid"}}, nil, nil)
	r := c.mustRead()
	if r.Type != fcgi.TypeStdout || r.RequestID != 103 || string(r.Content) != "stray" {
		t.Errorf("got %s for %d %q, want the stray STDOUT for 103", r.Type, r.RequestID, r.Content)
	}
	checkComplete(t, c.response(3), 0)

	c.send(4, fcgi.RoleResponder, true, []fcgi.Pair{{"MODE", "panic"}}, nil, nil)
	resp = c.response(4)
	checkComplete(t, resp, 0)
	waitUntil(t, "the panic report", func() bool { return strings.Contains(log.String(), "panicked: boom") })

	c.send(5, fcgi.RoleResponder, true, []fcgi.Pair{{"MODE", "fault"}}, nil, nil)
	if r := c.mustRead(); r.Type != fcgi.TypeStdout || string(r.Content) != "body" {
		t.Fatalf("got %s %q", r.Type, r.Content)
	}
	if _, err := c.read(); !errors.Is(err, fcgi.ErrVersion) {
		t.Errorf("reading the fault: %v, want ErrVersion", err)
	}
}

func TestServerInactiveAndProtocolErrors(t *testing.T) {
	log := &errLog{}
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(echoHandler), ErrorLog: log.log}
	ep := serve(t, srv, "tcp")
	c := dial(t, ep)
	c.stream(fcgi.TypeStdin, 9, []byte("nobody"))
	c.must(c.w.WriteAbortRequest(8))
	c.send(1, fcgi.RoleResponder, true, nil, []byte("x"), nil)
	checkComplete(t, c.response(1), 0)
	for _, want := range []string{"STDIN for request 9", "ABORT_REQUEST for request 8"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("ErrorLog %q lacks %q", log.String(), want)
		}
	}
	log.mu.Lock()
	for _, err := range log.errs {
		if !errors.Is(err, fcgi.ErrUnknownRequestID) {
			t.Errorf("%v does not wrap ErrUnknownRequestID", err)
		}
	}
	log.mu.Unlock()

	// A record with a bad version closes the connection and is reported.
	c.w.AllowIllegalWrites = true
	c.must(c.w.WriteRaw(fcgi.Header{Version: 9, Type: fcgi.TypeBeginRequest, RequestID: 1, ContentLength: 8}, make([]byte, 8), nil))
	c.expectEOF()
	waitUntil(t, "the version error report", func() bool { return strings.Contains(log.String(), "unsupported protocol version") })

	// A stream cut inside a record: reported, the connection is closed.
	c = dial(t, ep)
	c.w.AllowIllegalWrites = true
	c.must(c.w.WriteRaw(fcgi.Header{Version: 1, Type: fcgi.TypeStdin, RequestID: 1, ContentLength: 100}, []byte("short"), nil))
	c.nc.(*net.TCPConn).CloseWrite()
	c.expectEOF()
	waitUntil(t, "the short record report", func() bool { return strings.Contains(log.String(), "stream ended inside a record") })
}

func TestServerLimits(t *testing.T) {
	t.Run("MaxReqs", func(t *testing.T) {
		srv := &fcgi.Server{MaxReqs: 1, MpxsConns: true}
		started, release := blockingServer(srv)
		ep := serve(t, srv, "tcp")
		c1, c2 := dial(t, ep), dial(t, ep)
		c1.send(1, fcgi.RoleResponder, true, nil, nil, nil)
		<-started
		c1.send(2, fcgi.RoleResponder, true, nil, nil, nil)
		if resp := c1.response(2); resp.End.ProtocolStatus != fcgi.StatusOverloaded {
			t.Errorf("same conn: %s, want OVERLOADED", resp.End.ProtocolStatus)
		}
		c2.send(1, fcgi.RoleResponder, false, nil, nil, nil)
		if resp := c2.response(1); resp.End.ProtocolStatus != fcgi.StatusOverloaded {
			t.Errorf("other conn: %s, want OVERLOADED", resp.End.ProtocolStatus)
		}
		c2.expectEOF()
		close(release)
		checkComplete(t, c1.response(1), 0)
		c1.send(2, fcgi.RoleResponder, true, nil, nil, nil)
		if resp := c1.response(2); string(resp.Stdout) != "done 2" {
			t.Errorf("after the slot was freed: %q", resp.Stdout)
		}
	})
	t.Run("MaxConns", func(t *testing.T) {
		srv := &fcgi.Server{MaxConns: 1}
		_, release := blockingServer(srv)
		close(release)
		ep := serve(t, srv, "tcp")
		c1 := dial(t, ep)
		c1.send(1, fcgi.RoleResponder, true, nil, nil, nil)
		checkComplete(t, c1.response(1), 0)
		c2 := dial(t, ep)
		if v := c2.getValues(fcgi.ValueMaxConns); len(v) != 1 || v[0].Value != "1" {
			t.Errorf("over the limit, GET_VALUES still answers: got %v", v)
		}
		c2.send(1, fcgi.RoleResponder, true, nil, nil, nil)
		if resp := c2.response(1); resp.End.ProtocolStatus != fcgi.StatusOverloaded {
			t.Errorf("second conn: %s, want OVERLOADED", resp.End.ProtocolStatus)
		}
		// Once the first connection is gone a new one is served.
		c1.nc.Close()
		c2.nc.Close()
		waitUntil(t, "a connection slot", func() bool {
			c3 := dial(t, ep)
			defer c3.nc.Close()
			c3.send(1, fcgi.RoleResponder, true, nil, nil, nil)
			return c3.response(1).End.ProtocolStatus == fcgi.StatusRequestComplete
		})
	})
}

func TestServerShutdown(t *testing.T) {
	srv := &fcgi.Server{MpxsConns: true}
	started, release := blockingServer(srv)
	ep := serve(t, srv, "tcp")
	busy, idle := dial(t, ep), dial(t, ep)
	if v := idle.getValues(fcgi.ValueMpxsConns); len(v) != 1 {
		t.Fatalf("GET_VALUES: %v", v)
	}
	busy.send(1, fcgi.RoleResponder, true, nil, nil, nil)
	<-started

	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(context.Background()) }()
	idle.expectEOF()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a request was active", err)
	default:
	}
	// A new request on the busy connection is refused meanwhile.
	busy.send(2, fcgi.RoleResponder, true, nil, nil, nil)
	if resp := busy.response(2); resp.End.ProtocolStatus != fcgi.StatusOverloaded {
		t.Errorf("request during shutdown: %s, want OVERLOADED", resp.End.ProtocolStatus)
	}
	close(release)
	resp := busy.response(1)
	if string(resp.Stdout) != "done 1" {
		t.Errorf("active request: stdout %q", resp.Stdout)
	}
	checkComplete(t, resp, 0)
	busy.expectEOF()
	busy.nc.Close() // else Shutdown waits for the server's linger after KEEP_CONN=0-style closing
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.Dial(ep.network, ep.addr); err == nil {
		t.Error("the listener still accepts after Shutdown")
	}
}

func TestServerShutdownTimeoutThenClose(t *testing.T) {
	srv := &fcgi.Server{}
	started, _ := blockingServer(srv)
	c := dial(t, serve(t, srv, "tcp"))
	c.send(1, fcgi.RoleResponder, true, nil, nil, nil)
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := srv.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown with a done context: %v", err)
	}
	// Close drops the request: its context is cancelled, the connection
	// closes without END_REQUEST.
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	for {
		r, err := c.read()
		if err != nil {
			break
		}
		if r.Type == fcgi.TypeEndRequest {
			t.Errorf("END_REQUEST after Close")
		}
	}
}

func TestServerConnLossCancels(t *testing.T) {
	type result struct {
		cause, stdinErr error
		stdin           string
	}
	got := make(chan result, 1)
	started := make(chan struct{})
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		close(started)
		<-r.Context().Done()
		stdin, err := io.ReadAll(r.Stdin)
		got <- result{context.Cause(r.Context()), err, string(stdin)}
	})}
	c := dial(t, serve(t, srv, "unix"))
	c.begin(1, fcgi.RoleResponder, true)
	c.must(c.w.WriteRecord(fcgi.TypeStdin, 1, []byte("partial")))
	<-started
	c.nc.Close()
	res := <-got
	if res.cause == nil || !strings.Contains(res.cause.Error(), "connection closed") {
		t.Errorf("context cause: %v", res.cause)
	}
	if res.stdin != "partial" || res.stdinErr == nil {
		t.Errorf("stdin: %q, %v; want what arrived, then an error", res.stdin, res.stdinErr)
	}
}

func TestServerTrace(t *testing.T) {
	var mu sync.Mutex
	var events []string
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(echoHandler), Trace: func(e fcgi.Event) {
		mu.Lock()
		events = append(events, fmt.Sprintf("%s %s %d", e.Dir, e.Record.Type, e.Record.RequestID))
		mu.Unlock()
	}}
	c := dial(t, serve(t, srv, "tcp"))
	c.send(1, fcgi.RoleResponder, false, nil, nil, nil)
	c.response(1)
	c.expectEOF()
	want := []string{"received BEGIN_REQUEST 1", "received PARAMS 1", "received STDIN 1",
		"sent STDOUT 1", "sent STDOUT 1", "sent END_REQUEST 1"}
	waitUntil(t, "the trace", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(events) >= len(want)
	})
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(events, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(events, "\n"), strings.Join(want, "\n"))
	}
}

func TestServerServeAfterClose(t *testing.T) {
	srv := &fcgi.Server{}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(l); !errors.Is(err, fcgi.ErrServerClosed) {
		t.Errorf("Serve after Close: %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("Serve left the listener open")
	}
}

// TestServerCGIFCGI runs libfcgi's cgi-fcgi against the demo backend: a
// foreign client must get the /echo JSON.
func TestServerCGIFCGI(t *testing.T) {
	bin := fcgitest.CGIFCGI(t)
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			srv := &fcgi.Server{Handler: demo.Handler(), MpxsConns: true}
			addr := serve(t, srv, network).addr
			body := "name=fcgiscope&x=1"
			cmd := exec.Command(bin, "-bind", "-connect", addr)
			cmd.Env = []string{"SCRIPT_NAME=/echo", "REQUEST_METHOD=POST", "QUERY_STRING=a=b",
				"CONTENT_TYPE=application/x-www-form-urlencoded", fmt.Sprintf("CONTENT_LENGTH=%d", len(body))}
			cmd.Stdin = strings.NewReader(body)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("cgi-fcgi: %v\nstderr: %s", err, stderr.String())
			}
			head, jsonBody, ok := strings.Cut(string(out), "\r\n\r\n")
			if !ok || !strings.Contains(head, "Content-Type: application/json") {
				t.Fatalf("not a CGI JSON response: %q", out)
			}
			var echo struct {
				Role        string `json:"role"`
				RequestID   int    `json:"request_id"`
				Params      []fcgi.Pair
				StdinLength int    `json:"stdin_length"`
				Stdin       string `json:"stdin"`
			}
			if err := json.Unmarshal([]byte(jsonBody), &echo); err != nil {
				t.Fatalf("decoding %q: %v", jsonBody, err)
			}
			if echo.Role != "RESPONDER" || echo.RequestID != 1 || echo.Stdin != body || echo.StdinLength != len(body) {
				t.Errorf("echo: %+v", echo)
			}
			got := map[string]string{}
			for _, p := range echo.Params {
				got[p.Name] = p.Value
			}
			for _, kv := range cmd.Env {
				k, v, _ := strings.Cut(kv, "=")
				if got[k] != v {
					t.Errorf("param %s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestServerNginx puts nginx in front of the demo backend: a real web
// server's params, KEEP_CONN=1 connection reuse, stderr and large bodies.
func TestServerNginx(t *testing.T) {
	log := &errLog{}
	srv := &fcgi.Server{Handler: demo.Handler(), MpxsConns: true, ErrorLog: log.log}
	ep := serve(t, srv, "tcp")
	ngx := fcgitest.Nginx(t, fcgitest.NginxOptions{
		FastCGIPass: "127.0.0.1:1", // the .php location is not used
		ExtraServer: "location / { include /etc/nginx/fastcgi_params; fastcgi_keep_conn on; fastcgi_pass " + ep.addr + "; }",
	})
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: testWait,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(method, path, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, ngx.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v\nnginx log:\n%s", method, path, err, ngx.Log())
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: reading the body: %v", method, path, err)
		}
		return resp, b
	}

	for i := range 3 { // nginx asks for KEEP_CONN and closes the connection itself
		resp, body := get("POST", "/echo?a=b", fmt.Sprintf("body %d", i))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("POST /echo: %s %v\n%s", resp.Status, resp.Header, body)
		}
		var echo struct {
			KeepConn bool        `json:"keep_conn"`
			Params   []fcgi.Pair `json:"params"`
			Stdin    string      `json:"stdin"`
		}
		if err := json.Unmarshal(body, &echo); err != nil {
			t.Fatalf("decoding %q: %v", body, err)
		}
		got := map[string]string{}
		for _, p := range echo.Params {
			got[p.Name] = p.Value
		}
		if !echo.KeepConn || echo.Stdin != fmt.Sprintf("body %d", i) || got["SCRIPT_NAME"] != "/echo" ||
			got["QUERY_STRING"] != "a=b" || got["REQUEST_METHOD"] != "POST" {
			t.Errorf("echo through nginx: keep_conn %t stdin %q params %v", echo.KeepConn, echo.Stdin, got)
		}
	}

	resp, body := get("GET", "/large?bytes=300000", "")
	if resp.StatusCode != 200 || len(body) != 300000 {
		t.Errorf("GET /large: %s with %d bytes", resp.Status, len(body))
	}
	resp, _ = get("GET", "/redirect?to=/html", "")
	if resp.StatusCode != 302 || resp.Header.Get("Location") == "" {
		t.Errorf("GET /redirect: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = get("GET", "/nope", "")
	if resp.StatusCode != 404 {
		t.Errorf("GET /nope: %s", resp.Status)
	}
	waitUntil(t, "nginx to log our stderr", func() bool {
		return strings.Contains(ngx.Log(), "FastCGI sent in stderr") && strings.Contains(ngx.Log(), "unknown path")
	})
	if s := log.String(); s != "" {
		t.Errorf("server errors: %s", s)
	}
}

// TestServerWithClient drives the demo backend with the package's own
// Client and Conn: pooled KEEP_CONN connections, multiplexing over one
// Conn, and cancellation answered with END_REQUEST.
func TestServerWithClient(t *testing.T) {
	srv := &fcgi.Server{Handler: demo.Handler(), MpxsConns: true, MaxConns: 16, MaxReqs: 64}
	ep := serve(t, srv, "tcp")
	ctx := context.Background()

	cl := fcgi.NewClient(ep.addr, fcgi.ClientOptions{})
	defer cl.Close()
	if v, err := cl.GetValues(ctx); err != nil || len(v) != 3 {
		t.Errorf("GetValues: %v, %v", v, err)
	}
	for i := range 2 {
		var stdout bytes.Buffer
		resp, err := cl.Do(ctx, &fcgi.Request{KeepConn: true, Stdout: &stdout, Stdin: strings.NewReader("hi"),
			Params: []fcgi.Pair{{Name: "SCRIPT_NAME", Value: "/echo"}, {Name: "X", Value: fmt.Sprint(i)}}})
		if err != nil {
			t.Fatalf("Do %d: %v", i, err)
		}
		if !resp.Ended || resp.ProtocolStatus != fcgi.StatusRequestComplete || resp.Conn.Reused != (i == 1) {
			t.Errorf("Do %d: %+v", i, resp)
		}
		if !strings.Contains(stdout.String(), `"stdin": "hi"`) || !strings.Contains(stdout.String(), `"keep_conn": true`) {
			t.Errorf("Do %d: stdout %q", i, stdout.String())
		}
	}

	conn, err := fcgi.Dial(ctx, ep.addr, fcgi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var stdout bytes.Buffer
			resp, err := conn.Do(ctx, &fcgi.Request{KeepConn: true, Stdout: &stdout, Params: []fcgi.Pair{
				{Name: "SCRIPT_NAME", Value: "/slow"}, {Name: "QUERY_STRING", Value: fmt.Sprintf("ms=%d&chunks=2", 10*(8-i))}}})
			if err != nil || strings.Count(stdout.String(), "chunk ") != 2 {
				t.Errorf("multiplexed request %d: %v, %q (%+v)", i, err, stdout.String(), resp)
			}
		}()
	}
	wg.Wait()

	// Cancel a slow request: the server answers END_REQUEST soon after
	// ABORT_REQUEST, so the response has ended.
	actx, cancel := context.WithCancel(ctx)
	var stdout bytes.Buffer
	first := make(chan struct{})
	resp, err := conn.Do(actx, &fcgi.Request{KeepConn: true, Stdout: writerFunc(func(p []byte) (int, error) {
		if bytes.Contains(p, []byte("chunk 1")) {
			close(first)
			cancel()
		}
		return stdout.Write(p)
	}), Params: []fcgi.Pair{{Name: "SCRIPT_NAME", Value: "/slow"}, {Name: "QUERY_STRING", Value: "ms=50&chunks=100"}}})
	<-first
	if !errors.Is(err, fcgi.ErrAborted) || resp == nil || !resp.Ended {
		t.Errorf("cancelled /slow: %v, %+v", err, resp)
	}
	if n := strings.Count(stdout.String(), "chunk "); n >= 100 {
		t.Errorf("all %d chunks arrived despite the abort", n)
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// countingConn counts the Write calls made on a connection.
type countingConn struct {
	net.Conn
	writes atomic.Int32
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// countingListener hands every connection it accepts to conns as a
// countingConn.
type countingListener struct {
	net.Listener
	conns chan<- *countingConn
}

func (l countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	cc := &countingConn{Conn: nc}
	l.conns <- cc
	return cc, nil
}

// TestServerResponseOneWrite: a small response, its empty records and
// END_REQUEST go out in one write; so does a response that ends with End.
// A write to STDERR after STDOUT sends the STDOUT buffered so far first, as
// documented, and the rest goes out in one more write.
func TestServerResponseOneWrite(t *testing.T) {
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		io.WriteString(w, "Content-Type: text/plain\r\n\r\nhello "+r.Param("N"))
		if r.Param("N") == "stderr" {
			io.WriteString(w.Stderr(), "a warning")
		}
		if r.Param("N") == "end" {
			w.End(3, fcgi.StatusRequestComplete)
		}
	})}
	l, _ := fcgitest.Listen(t, "unix")
	served := make(chan struct{})
	conns := make(chan *countingConn, 1)
	go func() {
		defer close(served)
		srv.Serve(countingListener{Listener: l, conns: conns})
	}()
	c := dial(t, endpoint{"unix", l.Addr().String()})
	cc := <-conns
	writes := int32(0)
	for i, n := range []string{"plain", "stderr", "end"} {
		id := uint16(i + 1)
		c.send(id, fcgi.RoleResponder, true, []fcgi.Pair{{Name: "N", Value: n}}, nil, nil)
		resp := c.response(id)
		if !strings.HasSuffix(string(resp.Stdout), "hello "+n) || resp.End == nil {
			t.Fatalf("%s: stdout %q", n, resp.Stdout)
		}
		if n == "stderr" && (string(resp.Stderr) != "a warning" || len(resp.StderrRecs) != 2) {
			t.Errorf("stderr: %q in %d records, want the warning and the empty record", resp.Stderr, len(resp.StderrRecs))
		}
		if n == "end" && resp.End.AppStatus != 3 {
			t.Errorf("End: app status %d, want 3", resp.End.AppStatus)
		}
		want := int32(1)
		if n == "stderr" {
			want = 2
		}
		if got := cc.writes.Load() - writes; got != want {
			t.Errorf("%s: the server made %d writes for the response, want %d", n, got, want)
		}
		writes += want
	}
	c.nc.Close()
	srv.Close()
	<-served
}

// TestServerLargeStdin: a body of several MiB reaches the handler whole,
// whether it drains Stdin with io.Copy (WriteTo) or reads it in small
// pieces.
func TestServerLargeStdin(t *testing.T) {
	body := make([]byte, 5<<20+3)
	for i := range body {
		body[i] = byte(i * 31)
	}
	srv := &fcgi.Server{Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		var got bytes.Buffer
		var err error
		if r.Param("MODE") == "copy" {
			_, err = io.Copy(&got, r.Stdin)
		} else {
			buf := make([]byte, 1000)
			for err == nil {
				var n int
				n, err = r.Stdin.Read(buf)
				got.Write(buf[:n])
			}
			if err == io.EOF {
				err = nil
			}
		}
		fmt.Fprintf(w, "Content-Type: text/plain\r\n\r\n%v %v", err, bytes.Equal(got.Bytes(), body))
	})}
	ep := serve(t, srv, "unix")
	c := fcgi.NewClient("unix:"+ep.addr, fcgi.ClientOptions{})
	defer c.Close()
	for _, mode := range []string{"copy", "read"} {
		var out bytes.Buffer
		_, err := c.Do(t.Context(), &fcgi.Request{KeepConn: true, Params: []fcgi.Pair{{Name: "MODE", Value: mode}},
			Stdin: bytes.NewReader(body), Stdout: &out})
		if err != nil || !strings.HasSuffix(out.String(), "<nil> true") {
			t.Errorf("%s: %v, stdout %q", mode, err, out.String())
		}
	}
}

// TestServerConnClosedLoop: many callers on one multiplexed connection,
// each sending its next request as soon as the last one returns: every
// answer goes out, a long-running handler holds nobody else's answer, and
// the handler goroutines end with the connection.
func TestServerConnClosedLoop(t *testing.T) {
	const slow = 2 * time.Second
	srv := &fcgi.Server{MpxsConns: true, Handler: fcgi.HandlerFunc(func(w *fcgi.ResponseWriter, r *fcgi.ServerRequest) {
		if r.Param("SLOW") == "1" {
			select {
			case <-time.After(slow):
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "Content-Type: text/plain\r\n\r\n"+r.Param("N"))
	})}
	ep := serve(t, srv, "unix")
	c, err := fcgi.Dial(t.Context(), "unix:"+ep.addr, fcgi.Options{IdleTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	do := func(n string, slow bool) (time.Duration, error) {
		req := &fcgi.Request{KeepConn: true, Params: []fcgi.Pair{{Name: "N", Value: n}}}
		if slow {
			req.Params = append(req.Params, fcgi.Pair{Name: "SLOW", Value: "1"})
		}
		var out bytes.Buffer
		req.Stdout = &out
		start := time.Now()
		_, err := c.Do(t.Context(), req)
		if err == nil && !strings.HasSuffix(out.String(), "\r\n\r\n"+n) {
			err = fmt.Errorf("request %s got %q", n, out.String())
		}
		return time.Since(start), err
	}
	slowDone := make(chan error, 1)
	go func() {
		_, err := do("slow", true)
		slowDone <- err
	}()
	const callers, each = 32, 50
	var wg sync.WaitGroup
	var worst atomic.Int64
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				d, err := do(fmt.Sprint(i, "-", j), false)
				if err != nil {
					errs <- err
					return
				}
				for w := worst.Load(); int64(d) > w && !worst.CompareAndSwap(w, int64(d)); w = worst.Load() {
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if d := time.Duration(worst.Load()); d >= slow/2 {
		t.Errorf("a quick request took %v: it waited for the slow handler (%v)", d, slow)
	}
	if err := <-slowDone; err != nil {
		t.Error(err)
	}
}
