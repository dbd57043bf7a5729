// Lessons: guided FastCGI flows against the demo backend, each with a ready
// request, a way to run it, and checks that say whether the recorded
// exchanges show what the lesson is about; plus the demo's misbehaviour
// scenarios.

package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/demo"
)

// LessonTarget is the placeholder target of lesson and scenario inputs: the
// in-process demo backend, whose address the caller substitutes.
const LessonTarget = "demo"

// OriginLesson is the origin of params written by a lesson.
const OriginLesson = "lesson"

// CheckResult is the outcome of one check of a lesson.
type CheckResult struct {
	// Check says what is expected, e.g. "STDIN is one empty record".
	Check string
	Pass  bool
	// Detail says what was seen; on failure, what is missing.
	Detail string
}

// Passed reports whether every result passed (and there is at least one).
func Passed(rs []CheckResult) bool {
	for _, r := range rs {
		if !r.Pass {
			return false
		}
	}
	return len(rs) > 0
}

// Lesson is one guided flow.
type Lesson struct {
	ID    string
	Title string
	// Text explains, in a few sentences, what the flow shows and what to
	// look for in the records.
	Text string
	// Input is the ready request for the demo backend (Target
	// LessonTarget): the first request when the lesson sends several.
	Input Input
	// Data is the content a FILTER lesson sends on DATA. Input.DataFile is
	// empty: a window loading Input writes Data to a file and names it.
	Data []byte
	// Run performs the whole flow against target with e and returns the
	// exchanges, in the order their requests were sent. Outcomes the lesson
	// expects (an aborted request, an UNKNOWN_ROLE answer) are not errors;
	// the exchanges come back even with an error.
	Run func(ctx context.Context, e *Engine, target string) ([]*Exchange, error)
	// Check looks at exchanges (from Run, or sent by hand) and says what
	// the lesson expects to see and whether it is there.
	Check func(xs []*Exchange) []CheckResult
}

// Lesson ids.
const (
	LessonNoBody      = "no-body"
	LessonSplitBody   = "split-body"
	LessonStderr      = "stderr-app-status"
	LessonMultiplex   = "multiplex"
	LessonGetValues   = "get-values"
	LessonAbort       = "abort"
	LessonAuthorizer  = "authorizer"
	LessonFilter      = "filter"
	LessonKeepConn    = "keep-conn"
	LessonUnknownRole = "unknown-role"
)

// Sizes and values the lessons use.
const (
	splitBodyLen    = 70000 // more than one STDIN record holds
	abortChunks     = 10
	unknownRoleCode = fcgi.Role(7)
	filterLastMod   = "1700000000"
)

// demoInput is a raw-mode input for the demo backend: the CGI variables
// nginx would send for method path?query, plus extra, and body.
func demoInput(method, path, query string, body []byte, extra ...RawParam) Input {
	uri := path
	if query != "" {
		uri += "?" + query
	}
	ps := []RawParam{
		{"GATEWAY_INTERFACE", "CGI/1.1", true},
		{"SERVER_SOFTWARE", DefaultServerSoftware, true},
		{"SERVER_PROTOCOL", DefaultServerProtocol, true},
		{"SERVER_NAME", DefaultServerName, true},
		{"SERVER_PORT", "80", true},
		{"REMOTE_ADDR", DefaultRemoteAddr, true},
		{"REQUEST_METHOD", method, true},
		{"REQUEST_URI", uri, true},
		{"SCRIPT_NAME", path, true},
		{"QUERY_STRING", query, true},
	}
	if len(body) > 0 {
		ps = append(ps, RawParam{"CONTENT_TYPE", "application/octet-stream", true},
			RawParam{"CONTENT_LENGTH", strconv.Itoa(len(body)), true})
	}
	return Input{Mode: ModeRaw, Target: LessonTarget, Role: fcgi.RoleResponder,
		Params: append(ps, extra...), Body: body}
}

// withoutParam returns ps without the params called name.
func withoutParam(ps []RawParam, name string) []RawParam {
	var out []RawParam
	for _, p := range ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// lessonRequest builds the request of a raw-mode input: the enabled params
// in order, the body on STDIN, data (if not nil) on DATA.
func lessonRequest(in Input, data []byte) *Request {
	req := rawRequest(in, OriginLesson)
	if data != nil {
		req.Data, req.DataLen = bytes.NewReader(data), int64(len(data))
	}
	return req
}

// sendInput sends in (with data on DATA) to target with e.
func sendInput(ctx context.Context, e *Engine, target string, in Input, data []byte) (*Exchange, error) {
	in.Target = target
	x := NewExchange(in)
	return x, e.Send(ctx, target, lessonRequest(in, data), x)
}

// runInput returns a Run that sends the lesson's input once.
func runInput(in Input, data []byte) func(context.Context, *Engine, string) ([]*Exchange, error) {
	return func(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
		x, err := sendInput(ctx, e, target, in, data)
		return []*Exchange{x}, err
	}
}

// Lessons returns the lessons, in teaching order.
func Lessons() []Lesson {
	splitBody := bytes.Repeat([]byte("fcgiscope "), splitBodyLen/10)
	filterData := []byte("line one of the file to filter\nline two\n")
	keepIn := demoInput("GET", "/echo", "", nil)
	keepIn.KeepConn = true
	authIn := demoInput("GET", "/private", "", nil, RawParam{"HTTP_AUTHORIZATION", "Basic ZGVtbzpkZW1v", true})
	authIn.Role = fcgi.RoleAuthorizer
	authIn.Params = withoutParam(authIn.Params, "SCRIPT_NAME") // the spec's authorizer gets no SCRIPT_NAME
	filterIn := demoInput("GET", "/report.txt", "", nil,
		RawParam{"FCGI_DATA_LAST_MOD", filterLastMod, true},
		RawParam{"FCGI_DATA_LENGTH", strconv.Itoa(len(filterData)), true})
	filterIn.Role = fcgi.RoleFilter
	roleIn := demoInput("GET", "/echo", "", nil)
	roleIn.Role = unknownRoleCode
	multiIn := demoInput("GET", "/slow", "ms=300&chunks=1", nil)
	multiIn.KeepConn = true

	return []Lesson{
		{
			ID: LessonNoBody, Title: "A request with no body",
			Text: "The web server opens the request with BEGIN_REQUEST, sends the CGI variables as PARAMS and closes " +
				"that stream with an empty PARAMS record. A GET has no body, yet STDIN is still sent: as a single " +
				"empty record, which tells the application the body is complete (and empty). Then the application " +
				"answers on STDOUT and ends with END_REQUEST.",
			Input: demoInput("GET", "/echo", "", nil),
			Run:   runInput(demoInput("GET", "/echo", "", nil), nil),
			Check: checkNoBody,
		},
		{
			ID: LessonSplitBody, Title: "A body split across STDIN records",
			Text: fmt.Sprintf("A record carries at most 65535 content bytes, so this %d-byte body goes out as "+
				"several STDIN records, then the empty STDIN record that ends the stream. CONTENT_LENGTH tells the "+
				"application how much to expect; look at the lengths of the STDIN records and at stdin_length in "+
				"the echoed JSON.", splitBodyLen),
			Input: demoInput("POST", "/echo", "", splitBody),
			Run:   runInput(demoInput("POST", "/echo", "", splitBody), nil),
			Check: checkSplitBody,
		},
		{
			ID: LessonStderr, Title: "Stderr and a non-zero app status",
			Text: "STDERR is a stream of its own, interleaved with STDOUT: nginx writes it to its error log as " +
				"\"FastCGI sent in stderr\". The app status in END_REQUEST is the CGI program's exit status; here 3, " +
				"while the protocol status stays REQUEST_COMPLETE: the request itself went fine. (php-fpm always " +
				"reports app status 0.)",
			Input: demoInput("GET", "/stderr", "app_status=3", nil),
			Run:   runInput(demoInput("GET", "/stderr", "app_status=3", nil), nil),
			Check: checkStderr,
		},
		{
			ID: LessonMultiplex, Title: "Two requests multiplexed on one connection",
			Text: "Request ids let one connection carry several requests at once. A slow request (/slow, 300 ms) " +
				"is sent first with id 1, then /echo with id 2 on the same connection; the echo's records come back " +
				"while the first request is still running, and its END_REQUEST arrives first. Both ask for " +
				"KEEP_CONN, so the connection outlives each of them. php-fpm cannot do this (FCGI_MPXS_CONNS=0); " +
				"nginx never tries.",
			Input: multiIn,
			Run: func(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
				return RunMultiplexDemo(ctx, e, target)
			},
			Check: checkMultiplex,
		},
		{
			ID: LessonGetValues, Title: "Asking the application about itself: GET_VALUES",
			Text: "GET_VALUES is a management record: request id 0, no request involved. The web server names " +
				"variables (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS) with empty values, and the application " +
				"answers GET_VALUES_RESULT with the ones it knows. php-fpm answers only FCGI_MPXS_CONNS=0. Use " +
				"Get values rather than Send.",
			Input: Input{Mode: ModeRaw, Target: LessonTarget},
			Run: func(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
				x, err := RunGetValues(ctx, e, target)
				return []*Exchange{x}, err
			},
			Check: checkGetValues,
		},
		{
			ID: LessonAbort, Title: "Giving up: ABORT_REQUEST",
			Text: fmt.Sprintf("/slow sends %d chunks, one every 300 ms. Once the first chunk arrives the request "+
				"is cancelled: the web server sends ABORT_REQUEST (as nginx does when the browser goes away), the "+
				"application stops and still answers END_REQUEST. Look at what the application wrote on STDERR and "+
				"how many chunks made it. Sent by hand: press Cancel while it runs.", abortChunks),
			Input: demoInput("GET", "/slow", fmt.Sprintf("ms=300&chunks=%d", abortChunks), nil),
			Run:   runAbort,
			Check: checkAbort,
		},
		{
			ID: LessonAuthorizer, Title: "An authorizer passing a variable to the responder",
			Text: "In the AUTHORIZER role the application decides whether a request may proceed; it gets no body " +
				"and no SCRIPT_NAME. Status 200 grants access, and each Variable-NAME header of its answer becomes " +
				"the param NAME of the request that follows, sent to the responder. Here the demo's authorizer " +
				"answers Variable-AUTH_USER: demo, and /echo shows AUTH_USER among its params.",
			Input: authIn,
			Run: func(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
				next := demoInput("GET", "/echo", "", nil)
				authX, nextX, err := e.Authorize(ctx, target, lessonRequest(authIn, nil), lessonRequest(next, nil))
				xs := []*Exchange{authX}
				if nextX != nil {
					xs = append(xs, nextX)
				}
				return xs, err
			},
			Check: checkAuthorizer,
		},
		{
			ID: LessonFilter, Title: "The FILTER role and its DATA stream",
			Text: "A filter gets the request like a responder, then a second input stream, DATA: the file to " +
				"filter, whose size and modification time arrive as FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD. DATA " +
				"follows the end of STDIN and ends with its own empty record. The demo's filter answers with the " +
				"data it received.",
			Input: filterIn,
			Data:  filterData,
			Run:   runInput(filterIn, filterData),
			Check: checkFilter,
		},
		{
			ID: LessonKeepConn, Title: "Reusing a connection: KEEP_CONN",
			Text: "Without KEEP_CONN the application closes the connection after END_REQUEST. With it, the web " +
				"server owns the connection and may send the next request on it. The same request is sent twice: " +
				"the second exchange's connection is marked reused and has the same local address (port) as the " +
				"first. nginx needs fastcgi_keep_conn on (and an upstream keepalive) to do this.",
			Input: keepIn,
			Run: func(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
				var xs []*Exchange
				for range 2 {
					x, err := sendInput(ctx, e, target, keepIn, nil)
					xs = append(xs, x)
					if err != nil {
						return xs, err
					}
				}
				return xs, nil
			},
			Check: checkKeepConn,
		},
		{
			ID: LessonUnknownRole, Title: "A role the application does not know",
			Text: fmt.Sprintf("The spec defines roles 1 to 3. Asked for role %d, an application should answer "+
				"END_REQUEST with protocol status UNKNOWN_ROLE, which is what the demo backend (and Go's "+
				"net/http/fcgi) does, without any output. php-fpm does not: it closes the connection without "+
				"END_REQUEST, so a client sees only a closed connection.", unknownRoleCode),
			Input: roleIn,
			Run: func(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
				x, err := sendInput(ctx, e, target, roleIn, nil)
				var ere *fcgi.EndRequestError
				if errors.As(err, &ere) && ere.ProtocolStatus == fcgi.StatusUnknownRole {
					err = nil
				}
				return []*Exchange{x}, err
			},
			Check: checkUnknownRole,
		},
	}
}

// LessonByID returns the lesson with the given id.
func LessonByID(id string) (Lesson, bool) {
	for _, l := range Lessons() {
		if l.ID == id {
			return l, true
		}
	}
	return Lesson{}, false
}

// runAbort sends the abort lesson's request and cancels it once the first
// chunk (the second STDOUT record, after the header block) has arrived.
func runAbort(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
	in := demoInput("GET", "/slow", fmt.Sprintf("ms=300&chunks=%d", abortChunks), nil)
	in.Target = target
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := NewExchange(in)
	stdout := 0
	x.OnRecord = func(ri RecordInfo) {
		if ri.Dir == fcgi.Received && ri.Type == fcgi.TypeStdout && ri.ContentLength > 0 {
			if stdout++; stdout == 2 {
				cancel()
			}
		}
	}
	err := e.Send(ctx, target, lessonRequest(in, nil), x)
	if errors.Is(err, fcgi.ErrAborted) {
		err = nil
	}
	return []*Exchange{x}, err
}

// Check helpers.

func checkPass(check, format string, args ...any) CheckResult {
	return CheckResult{Check: check, Pass: true, Detail: fmt.Sprintf(format, args...)}
}

func checkFail(check, format string, args ...any) CheckResult {
	return CheckResult{Check: check, Detail: fmt.Sprintf(format, args...)}
}

func checkResult(ok bool, check, format string, args ...any) CheckResult {
	return CheckResult{Check: check, Pass: ok, Detail: fmt.Sprintf(format, args...)}
}

// needExchanges returns a failed result unless xs holds n non-nil exchanges.
func needExchanges(xs []*Exchange, n int) (CheckResult, bool) {
	got := 0
	for _, x := range xs {
		if x != nil {
			got++
		}
	}
	if got < n || len(xs) < n {
		return checkFail(fmt.Sprintf("%d %s recorded", n, plural(n, "exchange", "exchanges")),
			"%d recorded: run the lesson (or send its request) first", got), false
	}
	return CheckResult{}, true
}

// ownRecords returns the records of x's own request id (and all management
// records when the id is 0) sent in direction d with type t.
func ownRecords(x *Exchange, d fcgi.Direction, t fcgi.RecordType) []RecordInfo {
	var out []RecordInfo
	id := x.RequestID()
	for _, r := range x.Records() {
		if r.Dir == d && r.Type == t && r.RequestID == id && r.Version == fcgi.Version1 {
			out = append(out, r)
		}
	}
	return out
}

// streamCheck describes the records of a stream: "3 records: 65535, 4465, 0".
func streamCheck(recs []RecordInfo) string {
	if len(recs) == 0 {
		return "no records"
	}
	lens := make([]string, len(recs))
	for i, r := range recs {
		lens[i] = strconv.Itoa(int(r.ContentLength))
	}
	return fmt.Sprintf("%d %s of %s bytes", len(recs), plural(len(recs), "record", "records"), strings.Join(lens, ", "))
}

// closedStream reports whether recs end with an empty record and hold no
// other empty one.
func closedStream(recs []RecordInfo) bool {
	for i, r := range recs {
		if (r.ContentLength == 0) != (i == len(recs)-1) {
			return false
		}
	}
	return len(recs) > 0
}

// completed checks that x got END_REQUEST with REQUEST_COMPLETE.
func completed(x *Exchange) CheckResult {
	const check = "the application ends the request with END_REQUEST, REQUEST_COMPLETE"
	end := x.End()
	switch {
	case end == nil:
		detail := "no END_REQUEST arrived"
		if e := x.ErrorText(); e != "" {
			detail += ": " + e
		}
		return checkFail(check, "%s", detail)
	case end.ProtocolStatus != fcgi.StatusRequestComplete:
		return checkFail(check, "END_REQUEST carries %s", end.ProtocolStatus)
	}
	return checkPass(check, "app status %d, %s", end.AppStatus, end.ProtocolStatus)
}

// echoed is the part of the demo's /echo answer the checks read.
type echoed struct {
	Role        string `json:"role"`
	RequestID   uint16 `json:"request_id"`
	StdinLength int    `json:"stdin_length"`
	Params      []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"params"`
}

// echoOf decodes x's response as the demo's /echo JSON.
func echoOf(x *Exchange) (*echoed, error) {
	resp := x.Response()
	if resp == nil {
		return nil, errors.New("no response")
	}
	var e echoed
	if err := json.Unmarshal(resp.Body, &e); err != nil {
		return nil, fmt.Errorf("the response is not the JSON of /echo: %v", err)
	}
	return &e, nil
}

func (e *echoed) param(name string) (string, bool) {
	for i := len(e.Params) - 1; i >= 0; i-- {
		if e.Params[i].Name == name {
			return e.Params[i].Value, true
		}
	}
	return "", false
}

// firstIndex returns the index of the first record of x matching f, or -1.
func firstIndex(x *Exchange, f func(RecordInfo) bool) int {
	for _, r := range x.Records() {
		if f(r) {
			return r.Index
		}
	}
	return -1
}

// at returns when record i of x was observed, on the wall clock.
func recordTime(x *Exchange, i int) (time.Time, bool) {
	r, ok := x.Record(i)
	if !ok {
		return time.Time{}, false
	}
	return x.Start().Add(r.T), true
}

// Checks.

func checkNoBody(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	params := ownRecords(x, fcgi.Sent, fcgi.TypeParams)
	stdin := ownRecords(x, fcgi.Sent, fcgi.TypeStdin)
	cl, hasCL := x.Params().Get("CONTENT_LENGTH")
	return []CheckResult{
		checkResult(len(ownRecords(x, fcgi.Sent, fcgi.TypeBeginRequest)) == 1 && closedStream(params),
			"BEGIN_REQUEST, then PARAMS closed by an empty record", "PARAMS: %s", streamCheck(params)),
		checkResult(len(stdin) == 1 && stdin[0].ContentLength == 0,
			"STDIN is a single empty record: the body is complete, and empty", "STDIN: %s", streamCheck(stdin)),
		checkResult(!hasCL || cl == "" || cl == "0", "no CONTENT_LENGTH, or CONTENT_LENGTH 0", "CONTENT_LENGTH %q", cl),
		checkResult(x.Sizes().Stdout > 0, "the application answers on STDOUT", "%d bytes of STDOUT", x.Sizes().Stdout),
		completed(x),
	}
}

func checkSplitBody(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	stdin := ownRecords(x, fcgi.Sent, fcgi.TypeStdin)
	full := 0
	for _, r := range stdin {
		if r.ContentLength > 0 {
			full++
		}
	}
	cl, _ := x.Params().Get("CONTENT_LENGTH")
	n, clErr := strconv.ParseInt(cl, 10, 64)
	rs := []CheckResult{
		checkResult(full >= 2, "the body goes out in several STDIN records", "STDIN: %s", streamCheck(stdin)),
		checkResult(closedStream(stdin), "an empty STDIN record ends the body", "STDIN: %s", streamCheck(stdin)),
		checkResult(clErr == nil && n > fcgi.MaxContent && n == x.Sizes().Stdin,
			"CONTENT_LENGTH is larger than one record holds and matches the STDIN bytes",
			"CONTENT_LENGTH %q, %d bytes sent on STDIN", cl, x.Sizes().Stdin),
	}
	const check = "the application read the whole body"
	if e, err := echoOf(x); err != nil {
		rs = append(rs, checkFail(check, "%v", err))
	} else {
		rs = append(rs, checkResult(int64(e.StdinLength) == x.Sizes().Stdin && e.StdinLength > 0, check,
			"/echo reports stdin_length %d", e.StdinLength))
	}
	return append(rs, completed(x))
}

func checkStderr(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	stderr := ownRecords(x, fcgi.Received, fcgi.TypeStderr)
	rs := []CheckResult{
		checkResult(len(x.Stderr()) > 0, "the application writes to STDERR",
			"%d bytes of STDERR in %s", len(x.Stderr()), streamCheck(stderr)),
		checkResult(x.Sizes().Stdout > 0, "and still answers on STDOUT", "%d bytes of STDOUT", x.Sizes().Stdout),
	}
	const check = "END_REQUEST carries a non-zero app status and REQUEST_COMPLETE"
	switch end := x.End(); {
	case end == nil:
		rs = append(rs, checkFail(check, "no END_REQUEST arrived"))
	default:
		rs = append(rs, checkResult(end.AppStatus != 0 && end.ProtocolStatus == fcgi.StatusRequestComplete, check,
			"app status %d, %s", end.AppStatus, end.ProtocolStatus))
	}
	return rs
}

func checkMultiplex(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 2); !ok {
		return []CheckResult{r}
	}
	a, b := xs[0], xs[1]
	ca, cb := a.Conn(), b.Conn()
	rs := []CheckResult{
		checkResult(ca.LocalAddr != "" && ca.LocalAddr == cb.LocalAddr && cb.Reused,
			"both requests go over one connection",
			"first from %q, second from %q (reused %v)", ca.LocalAddr, cb.LocalAddr, cb.Reused),
		checkResult(a.RequestID() != 0 && a.RequestID() != b.RequestID(), "each request has its own request id",
			"ids %d and %d", a.RequestID(), b.RequestID()),
	}
	beginB := firstIndex(b, func(r RecordInfo) bool { return r.Dir == fcgi.Sent && r.Type == fcgi.TypeBeginRequest })
	endA := firstIndex(a, func(r RecordInfo) bool { return r.Dir == fcgi.Received && r.Type == fcgi.TypeEndRequest })
	endB := firstIndex(b, func(r RecordInfo) bool { return r.Dir == fcgi.Received && r.Type == fcgi.TypeEndRequest })
	tBegin, ok1 := recordTime(b, beginB)
	tEndA, ok2 := recordTime(a, endA)
	tEndB, ok3 := recordTime(b, endB)
	switch {
	case !ok1 || !ok2 || !ok3:
		rs = append(rs, checkFail("both requests are active at once", "a BEGIN_REQUEST or END_REQUEST is missing"),
			checkFail("the second request finishes first", "a BEGIN_REQUEST or END_REQUEST is missing"))
	default:
		rs = append(rs,
			checkResult(tBegin.Before(tEndA), "both requests are active at once",
				"the second BEGIN_REQUEST went out %v before the first END_REQUEST", tEndA.Sub(tBegin).Round(time.Millisecond)),
			checkResult(tEndB.Before(tEndA), "the second request finishes first",
				"its END_REQUEST came %v before the first one's", tEndA.Sub(tEndB).Round(time.Millisecond)))
	}
	return append(rs, completed(a), completed(b))
}

func checkGetValues(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	var asked, answered []fcgi.Pair
	var askedID, answerID = -1, -1
	for _, r := range x.Records() {
		rec, err := x.Decode(r.Index)
		if err != nil {
			continue
		}
		p, ok := rec.Body.(*fcgi.Pairs)
		switch {
		case ok && r.Dir == fcgi.Sent && r.Type == fcgi.TypeGetValues && askedID < 0:
			asked, askedID = p.List(), int(r.RequestID)
		case ok && r.Dir == fcgi.Received && r.Type == fcgi.TypeGetValuesResult && answerID < 0:
			answered, answerID = p.List(), int(r.RequestID)
		}
	}
	names := make([]string, len(asked))
	for i, p := range asked {
		names[i] = p.Name
	}
	vals := make([]string, len(answered))
	mpxs := false
	for i, p := range answered {
		vals[i] = p.Name + "=" + p.Value
		mpxs = mpxs || p.Name == fcgi.ValueMpxsConns
	}
	return []CheckResult{
		checkResult(askedID == 0 && len(asked) > 0, "GET_VALUES goes out with request id 0, naming variables",
			"asked (id %d): %s", askedID, orNothing(strings.Join(names, ", "))),
		checkResult(answerID == 0, "GET_VALUES_RESULT comes back with request id 0",
			"answer (id %d): %s", answerID, orNothing(strings.Join(vals, ", "))),
		checkResult(mpxs, "the answer says whether the application multiplexes (FCGI_MPXS_CONNS)",
			"%s", orNothing(strings.Join(vals, ", "))),
	}
}

func checkAbort(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	abort := firstIndex(x, func(r RecordInfo) bool {
		return r.Dir == fcgi.Sent && r.Type == fcgi.TypeAbortRequest && r.RequestID == x.RequestID()
	})
	end := firstIndex(x, func(r RecordInfo) bool {
		return r.Dir == fcgi.Received && r.Type == fcgi.TypeEndRequest && r.RequestID == x.RequestID()
	})
	rs := []CheckResult{
		checkResult(abort >= 0, "the web server sends ABORT_REQUEST", "ABORT_REQUEST is record %d", abort),
		checkResult(abort >= 0 && end > abort, "the application still answers END_REQUEST after it",
			"END_REQUEST is record %d", end),
	}
	chunks := abortChunks
	if q, ok := x.Params().Get("QUERY_STRING"); ok {
		for _, kv := range strings.Split(q, "&") {
			if v, ok := strings.CutPrefix(kv, "chunks="); ok {
				if n, err := strconv.Atoi(v); err == nil {
					chunks = n
				}
			}
		}
	}
	got := strings.Count(string(x.Stdout()), "chunk ")
	return append(rs, checkResult(abort >= 0 && got < chunks, "the response stops early",
		"%d of %d chunks arrived", got, chunks))
}

func checkAuthorizer(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	auth := xs[0]
	var rs []CheckResult
	rs = append(rs, checkResult(auth.Role() == fcgi.RoleAuthorizer, "the first request has the AUTHORIZER role",
		"role %s", auth.Role()))
	resp := auth.Response()
	var vars []Param
	if resp != nil {
		vars = AuthorizerVariables(resp)
	}
	switch {
	case resp == nil:
		rs = append(rs, checkFail("the authorizer grants access: status 200", "no response"))
	default:
		rs = append(rs, checkResult(resp.Status == 200, "the authorizer grants access: status 200", "status %d", resp.Status))
	}
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.Name + "=" + v.Value
	}
	rs = append(rs, checkResult(len(vars) > 0, "its answer passes variables (Variable-NAME headers)",
		"%s", orNothing(strings.Join(names, ", "))))
	if len(xs) < 2 || xs[1] == nil {
		return append(rs, checkFail("the next request carries the variables as params", "no second request was sent"))
	}
	next := xs[1]
	missing := []string{}
	for _, v := range vars {
		if got, ok := next.Params().Get(v.Name); !ok || got != v.Value {
			missing = append(missing, v.Name)
		}
	}
	rs = append(rs, checkResult(len(vars) > 0 && len(missing) == 0 && next.Role() != fcgi.RoleAuthorizer,
		"the next request, a responder, carries the variables as params",
		"role %s; missing: %s", next.Role(), orNothing(strings.Join(missing, ", "))))
	const check = "the responder sees them"
	e, err := echoOf(next)
	if err != nil {
		return append(rs, checkFail(check, "%v", err))
	}
	seen := 0
	for _, v := range vars {
		if got, ok := e.param(v.Name); ok && got == v.Value {
			seen++
		}
	}
	return append(rs, checkResult(len(vars) > 0 && seen == len(vars), check, "/echo shows %d of %d", seen, len(vars)))
}

func checkFilter(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	data := ownRecords(x, fcgi.Sent, fcgi.TypeData)
	stdinEnd := firstIndex(x, func(r RecordInfo) bool {
		return r.Dir == fcgi.Sent && r.Type == fcgi.TypeStdin && r.ContentLength == 0
	})
	length, hasLen := x.Params().Get("FCGI_DATA_LENGTH")
	_, hasMod := x.Params().Get("FCGI_DATA_LAST_MOD")
	n, lenErr := strconv.ParseInt(length, 10, 64)
	rs := []CheckResult{
		checkResult(x.Role() == fcgi.RoleFilter, "the request has the FILTER role", "role %s", x.Role()),
		checkResult(hasLen && hasMod, "FCGI_DATA_LENGTH and FCGI_DATA_LAST_MOD are among the params",
			"FCGI_DATA_LENGTH %v, FCGI_DATA_LAST_MOD %v", hasLen, hasMod),
		checkResult(len(data) > 1 && closedStream(data) && stdinEnd >= 0 && data[0].Index > stdinEnd,
			"DATA follows the end of STDIN and ends with an empty record", "DATA: %s", streamCheck(data)),
		checkResult(lenErr == nil && n == x.Sizes().Data, "FCGI_DATA_LENGTH matches the DATA bytes",
			"FCGI_DATA_LENGTH %q, %d bytes of DATA", length, x.Sizes().Data),
		checkResult(len(x.Data()) > 0 && bytes.Contains(x.Stdout(), x.Data()), "the filter answers with the data",
			"%d bytes of STDOUT", x.Sizes().Stdout),
	}
	return append(rs, completed(x))
}

func checkKeepConn(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 2); !ok {
		return []CheckResult{r}
	}
	a, b := xs[0], xs[1]
	ca, cb := a.Conn(), b.Conn()
	return []CheckResult{
		checkResult(a.KeepConn() && b.KeepConn(), "both requests ask for KEEP_CONN",
			"KEEP_CONN %v and %v", a.KeepConn(), b.KeepConn()),
		completed(a),
		checkResult(cb.Reused, "the second request reuses a connection", "reused %v", cb.Reused),
		checkResult(ca.LocalAddr != "" && ca.LocalAddr == cb.LocalAddr, "the first request's connection, the same local port",
			"first from %q, second from %q", ca.LocalAddr, cb.LocalAddr),
		completed(b),
	}
}

func checkUnknownRole(xs []*Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	role := fcgi.Role(0)
	if i := firstIndex(x, func(r RecordInfo) bool { return r.Dir == fcgi.Sent && r.Type == fcgi.TypeBeginRequest }); i >= 0 {
		if rec, err := x.Decode(i); err == nil {
			if b, ok := rec.Body.(*fcgi.BeginRequest); ok {
				role = b.Role
			}
		}
	}
	known := role == fcgi.RoleResponder || role == fcgi.RoleAuthorizer || role == fcgi.RoleFilter
	rs := []CheckResult{
		checkResult(role != 0 && !known, "BEGIN_REQUEST asks for a role the spec does not define", "role %s", role),
	}
	const check = "the application answers END_REQUEST with UNKNOWN_ROLE"
	if end := x.End(); end == nil {
		rs = append(rs, checkFail(check, "no END_REQUEST arrived (php-fpm closes the connection instead)"))
	} else {
		rs = append(rs, checkResult(end.ProtocolStatus == fcgi.StatusUnknownRole, check, "%s", end.ProtocolStatus))
	}
	return append(rs, checkResult(x.Sizes().Stdout == 0, "without any output", "%d bytes of STDOUT", x.Sizes().Stdout))
}

// Running exchanges outside the Engine's client pool.

// connOptions returns the client options, timeout and capture limit of e
// (zero values for a nil Engine).
func connOptions(e *Engine) (fcgi.Options, time.Duration, int64) {
	if e == nil {
		return fcgi.Options{}, 0, 0
	}
	return e.pool.opts.Client.Options, e.opts.Timeout, e.opts.CaptureLimit
}

// chainTrace returns a Trace calling both a and b (either may be nil).
func chainTrace(a, b fcgi.Trace) fcgi.Trace {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(ev fcgi.Event) { a(ev); b(ev) }
}

// sendOnConn sends req on conn and records it into x, as Engine.Send does
// with a pooled client.
func sendOnConn(ctx context.Context, conn *fcgi.Conn, target string, req *Request, x *Exchange, start time.Time) error {
	o := doOnConn(ctx, conn, target, req, x, start, false)
	x.complete(o)
	return o.err
}

// doOnConn sends req on conn, recording into x, and returns the outcome
// for x.complete. When traced is true, conn's own Trace already records
// into x (set up with start), so the request's Trace is not set.
func doOnConn(ctx context.Context, conn *fcgi.Conn, target string, req *Request, x *Exchange, start time.Time, traced bool) outcome {
	x.begin(target, req, start)
	freq := &fcgi.Request{ID: req.ID, Role: req.Role, KeepConn: req.KeepConn, Params: req.Params.Pairs(),
		Stdin: req.Body, Data: req.Data}
	if !traced {
		freq.Trace = x.trace(start)
	}
	resp, doErr := conn.Do(ctx, freq)
	o := outcome{total: time.Since(start), stdoutBytes: -1, stderrBytes: -1}
	if resp != nil {
		o.ended = resp.Ended
		o.stdoutBytes, o.stderrBytes = resp.StdoutBytes, resp.StderrBytes
		o.conn = resp.Conn
		if resp.Timing.Connected > 0 {
			o.connect = resp.Timing.Start.Sub(start) + resp.Timing.Connected
		}
		if traced {
			// Records of other ids and late ones are in x too: the
			// client's counts are for the request alone.
			o.stdoutBytes, o.stderrBytes = -1, -1
		}
	}
	if doErr != nil {
		o.err = fmt.Errorf("session: %s to %s: %w", describe(doErr), target, doErr)
	}
	return o
}

// RunMultiplexDemo sends /slow?ms=300&chunks=1 and then, while it runs,
// /echo on the same connection (a connection of its own, not the Engine's
// pool, whose clients never multiplex), both with KEEP_CONN. Against a
// backend that multiplexes, such as the demo, the second request finishes
// first. It returns both exchanges, the slow one first. e gives the client
// options, the timeout and the capture limit; it may be nil.
func RunMultiplexDemo(ctx context.Context, e *Engine, target string) ([]*Exchange, error) {
	opts, timeout, limit := connOptions(e)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	slowIn := demoInput("GET", "/slow", "ms=300&chunks=1", nil)
	echoIn := demoInput("GET", "/echo", "", nil)
	ins := []Input{slowIn, echoIn}
	xs := make([]*Exchange, len(ins))
	for i := range ins {
		ins[i].KeepConn, ins[i].Target = true, target
		xs[i] = NewExchange(ins[i])
		xs[i].CaptureLimit = limit
	}
	conn, err := fcgi.Dial(ctx, target, opts)
	if err != nil {
		err = fmt.Errorf("session: multiplex demo: %s to %s: %w", describe(err), target, err)
		for _, x := range xs {
			x.begin(target, lessonRequest(x.Input, nil), time.Now())
			x.complete(outcome{err: err, stdoutBytes: -1, stderrBytes: -1})
		}
		return xs, err
	}
	defer conn.Close()

	// The second request goes out once the first is wholly sent.
	sent := make(chan struct{})
	var once sync.Once
	xs[0].OnRecord = func(ri RecordInfo) {
		if ri.Dir == fcgi.Sent && ri.Type == fcgi.TypeStdin && ri.ContentLength == 0 {
			once.Do(func() { close(sent) })
		}
	}
	errs := make([]error, len(xs))
	done := make(chan struct{})
	go func() {
		defer close(done)
		errs[0] = sendOnConn(ctx, conn, target, lessonRequest(ins[0], nil), xs[0], time.Now())
	}()
	select {
	case <-sent:
	case <-done:
	}
	errs[1] = sendOnConn(ctx, conn, target, lessonRequest(ins[1], nil), xs[1], time.Now())
	<-done
	return xs, errors.Join(errs...)
}

// RunGetValues asks the backend at target for FCGI_MAX_CONNS, FCGI_MAX_REQS
// and FCGI_MPXS_CONNS on a connection of its own and records the
// GET_VALUES and GET_VALUES_RESULT records into an Exchange (request id 0,
// no role). e gives the client options, the timeout and the capture limit;
// it may be nil.
func RunGetValues(ctx context.Context, e *Engine, target string) (*Exchange, error) {
	opts, timeout, limit := connOptions(e)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	x := NewExchange(Input{Mode: ModeRaw, Target: target})
	x.CaptureLimit = limit
	start := time.Now()
	x.begin(target, &Request{}, start)
	x.mu.Lock()
	x.role = 0 // no request, no role
	x.mu.Unlock()
	opts.Trace = chainTrace(opts.Trace, x.trace(start))
	o := outcome{stdoutBytes: -1, stderrBytes: -1}
	conn, err := fcgi.Dial(ctx, target, opts)
	if err == nil {
		o.connect = time.Since(start)
		_, err = conn.GetValues(ctx)
		conn.Close()
	}
	o.total = time.Since(start)
	if err != nil {
		o.err = fmt.Errorf("session: GET_VALUES %s to %s: %w", describe(err), target, err)
	}
	x.complete(o)
	return x, o.err
}

// Scenario is one of the demo backend's misbehaviours, ready to send.
type Scenario struct {
	// ID is the route's path after demo.MisbehavePrefix, e.g. "wrong-id"
	// or "status/overloaded".
	ID   string
	Path string
	// Doc is the route's Summary: what the backend does and what a client
	// should make of it.
	Doc string
	// Input is a ready request for the demo backend (Target LessonTarget).
	Input Input
}

// scenarioSettings returns the query string and KEEP_CONN of a scenario's
// input.
func scenarioSettings(id string) (query string, keepConn bool) {
	switch id {
	case "slow-first-byte":
		return "ms=2000", false
	case "dribble":
		return "n=100", false
	case "status/app":
		return "code=3", false
	case "after-end":
		return "", true // the late record needs the connection open
	}
	return "", false
}

// Scenarios returns the demo backend's misbehaviours, in the order of its
// index page.
func Scenarios() []Scenario {
	var out []Scenario
	for _, r := range demo.Misbehaviours() {
		id := strings.TrimPrefix(r.Path, demo.MisbehavePrefix)
		query, keep := scenarioSettings(id)
		in := demoInput("GET", r.Path, query, nil)
		in.KeepConn = keep
		out = append(out, Scenario{ID: id, Path: r.Path, Doc: r.Summary, Input: in})
	}
	return out
}

// DefaultScenarioLinger is how long RunScenario keeps listening after the
// request ended, for records the backend sends late.
const DefaultScenarioLinger = 200 * time.Millisecond

// RunScenario sends the scenario's input to target on a connection of its
// own and records every record of that connection into the exchange,
// including strays and those that arrive after END_REQUEST within linger
// (DefaultScenarioLinger when 0), which a pooled request would not see. The
// error is the request's, as Engine.Send reports it; e may be nil.
func RunScenario(ctx context.Context, e *Engine, target string, s Scenario, linger time.Duration) (*Exchange, error) {
	opts, timeout, limit := connOptions(e)
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if linger <= 0 {
		linger = DefaultScenarioLinger
	}
	in := s.Input
	in.Target = target
	x := NewExchange(in)
	x.CaptureLimit = limit
	start := time.Now()
	req := lessonRequest(in, nil)
	opts.Trace = chainTrace(opts.Trace, x.trace(start))
	conn, err := fcgi.Dial(ctx, target, opts)
	if err != nil {
		x.begin(target, req, start)
		err = fmt.Errorf("session: %s to %s: %w", describe(err), target, err)
		x.complete(outcome{total: time.Since(start), err: err, stdoutBytes: -1, stderrBytes: -1})
		return x, err
	}
	o := doOnConn(ctx, conn, target, req, x, start, true)
	// Late records: keep reading until the backend closes the connection,
	// linger passes or ctx ends.
	t := time.NewTimer(linger)
	tick := time.NewTicker(10 * time.Millisecond)
wait:
	for conn.Err() == nil {
		select {
		case <-t.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	t.Stop()
	tick.Stop()
	conn.Close()
	x.complete(o)
	return x, o.err
}
