// Package teach is fcgiscope's teaching kit: guided FastCGI flows (lessons)
// against the demo backend, each with a ready request, a way to run it and
// checks that say whether the recorded exchanges show what it is about; the
// demo backend's misbehaviours as scenarios; and the playback of an
// Exchange record by record.
package teach

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"

	"fcgiscope/session"

	"fcgiscope/fcgi"
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
	Input session.Input
	// Data is the content a FILTER lesson sends on DATA. Input.DataFile is
	// empty: a window loading Input writes Data to a file and names it.
	Data []byte
	// Run performs the whole flow against target with e and returns the
	// exchanges, in the order their requests were sent. Outcomes the lesson
	// expects (an aborted request, an UNKNOWN_ROLE answer) are not errors;
	// the exchanges come back even with an error.
	Run func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error)
	// Check looks at exchanges (from Run, or sent by hand) and says what
	// the lesson expects to see and whether it is there.
	Check func(xs []*session.Exchange) []CheckResult
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
func demoInput(method, path, query string, body []byte, extra ...session.RawParam) session.Input {
	uri := path
	if query != "" {
		uri += "?" + query
	}
	ps := []session.RawParam{
		{Name: "GATEWAY_INTERFACE", Value: "CGI/1.1", Enabled: true},
		{Name: "SERVER_SOFTWARE", Value: session.DefaultServerSoftware, Enabled: true},
		{Name: "SERVER_PROTOCOL", Value: session.DefaultServerProtocol, Enabled: true},
		{Name: "SERVER_NAME", Value: session.DefaultServerName, Enabled: true},
		{Name: "SERVER_PORT", Value: "80", Enabled: true},
		{Name: "REMOTE_ADDR", Value: session.DefaultRemoteAddr, Enabled: true},
		{Name: "REQUEST_METHOD", Value: method, Enabled: true},
		{Name: "REQUEST_URI", Value: uri, Enabled: true},
		{Name: "SCRIPT_NAME", Value: path, Enabled: true},
		{Name: "QUERY_STRING", Value: query, Enabled: true},
	}
	if len(body) > 0 {
		ps = append(ps, session.RawParam{Name: "CONTENT_TYPE", Value: "application/octet-stream", Enabled: true},
			session.RawParam{Name: "CONTENT_LENGTH", Value: strconv.Itoa(len(body)), Enabled: true})
	}
	return session.Input{Mode: session.ModeRaw, Target: LessonTarget, Role: fcgi.RoleResponder,
		Params: append(ps, extra...), Body: body}
}

// withoutParam returns ps without the params called name.
func withoutParam(ps []session.RawParam, name string) []session.RawParam {
	var out []session.RawParam
	for _, p := range ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// lessonRequest builds the request of a raw-mode input: the enabled params
// in order, the body on STDIN, data (if not nil) on DATA.
func lessonRequest(in session.Input, data []byte) *session.Request {
	req := session.RawRequest(in, OriginLesson)
	if data != nil {
		req.Data, req.DataLen = bytes.NewReader(data), int64(len(data))
	}
	return req
}

// sendInput sends in (with data on DATA) to target with e.
func sendInput(ctx context.Context, e *session.Engine, target string, in session.Input, data []byte) (*session.Exchange, error) {
	in.Target = target
	x := session.NewExchange(in)
	return x, e.Send(ctx, target, lessonRequest(in, data), x)
}

// runInput returns a Run that sends the lesson's input once.
func runInput(in session.Input, data []byte) func(context.Context, *session.Engine, string) ([]*session.Exchange, error) {
	return func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
		x, err := sendInput(ctx, e, target, in, data)
		return []*session.Exchange{x}, err
	}
}

// Lessons returns the lessons, in teaching order.
func Lessons() []Lesson {
	splitBody := bytes.Repeat([]byte("fcgiscope "), splitBodyLen/10)
	filterData := []byte("line one of the file to filter\nline two\n")
	keepIn := demoInput("GET", "/echo", "", nil)
	keepIn.KeepConn = true
	authIn := demoInput("GET", "/private", "", nil, session.RawParam{Name: "HTTP_AUTHORIZATION", Value: "Basic ZGVtbzpkZW1v", Enabled: true})
	authIn.Role = fcgi.RoleAuthorizer
	authIn.Params = withoutParam(authIn.Params, "SCRIPT_NAME") // the spec's authorizer gets no SCRIPT_NAME
	filterIn := demoInput("GET", "/report.txt", "", nil,
		session.RawParam{Name: "FCGI_DATA_LAST_MOD", Value: filterLastMod, Enabled: true},
		session.RawParam{Name: "FCGI_DATA_LENGTH", Value: strconv.Itoa(len(filterData)), Enabled: true})
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
			Run: func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
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
			Input: session.Input{Mode: session.ModeRaw, Target: LessonTarget},
			Run: func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
				x, err := RunGetValues(ctx, e, target)
				return []*session.Exchange{x}, err
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
			Run: func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
				next := demoInput("GET", "/echo", "", nil)
				authX, nextX, err := e.Authorize(ctx, target, lessonRequest(authIn, nil), lessonRequest(next, nil))
				xs := []*session.Exchange{authX}
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
			Run: func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
				var xs []*session.Exchange
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
			Run: func(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
				x, err := sendInput(ctx, e, target, roleIn, nil)
				var ere *fcgi.EndRequestError
				if errors.As(err, &ere) && ere.ProtocolStatus == fcgi.StatusUnknownRole {
					err = nil
				}
				return []*session.Exchange{x}, err
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
func runAbort(ctx context.Context, e *session.Engine, target string) ([]*session.Exchange, error) {
	in := demoInput("GET", "/slow", fmt.Sprintf("ms=300&chunks=%d", abortChunks), nil)
	in.Target = target
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := session.NewExchange(in)
	stdout := 0
	x.OnRecord = func(ri session.RecordInfo) {
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
	return []*session.Exchange{x}, err
}
