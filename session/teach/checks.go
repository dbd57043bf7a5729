// The checks of the lessons: what each lesson expects to see in the
// exchanges it recorded, and whether it is there.

package teach

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

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
func needExchanges(xs []*session.Exchange, n int) (CheckResult, bool) {
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
func ownRecords(x *session.Exchange, d fcgi.Direction, t fcgi.RecordType) []session.RecordInfo {
	var out []session.RecordInfo
	id := x.RequestID()
	for _, r := range x.Records() {
		if r.Dir == d && r.Type == t && r.RequestID == id && r.Version == fcgi.Version1 {
			out = append(out, r)
		}
	}
	return out
}

// streamCheck describes the records of a stream: "3 records: 65535, 4465, 0".
func streamCheck(recs []session.RecordInfo) string {
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
func closedStream(recs []session.RecordInfo) bool {
	for i, r := range recs {
		if (r.ContentLength == 0) != (i == len(recs)-1) {
			return false
		}
	}
	return len(recs) > 0
}

// completed checks that x got END_REQUEST with REQUEST_COMPLETE.
func completed(x *session.Exchange) CheckResult {
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
func echoOf(x *session.Exchange) (*echoed, error) {
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
func firstIndex(x *session.Exchange, f func(session.RecordInfo) bool) int {
	for _, r := range x.Records() {
		if f(r) {
			return r.Index
		}
	}
	return -1
}

// recordAt says where the record of type what is in the exchange, by
// its number in the record list: "ABORT_REQUEST is record #9", or that
// there is none (i < 0).
func recordAt(what string, i int) string {
	if i < 0 {
		return "no " + what + " record"
	}
	return fmt.Sprintf("%s is record #%d", what, i)
}

// at returns when record i of x was observed, on the wall clock.
func recordTime(x *session.Exchange, i int) (time.Time, bool) {
	r, ok := x.Record(i)
	if !ok {
		return time.Time{}, false
	}
	return x.Start().Add(r.T), true
}

// Checks.

func checkNoBody(xs []*session.Exchange) []CheckResult {
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

func checkSplitBody(xs []*session.Exchange) []CheckResult {
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

func checkStderr(xs []*session.Exchange) []CheckResult {
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

func checkMultiplex(xs []*session.Exchange) []CheckResult {
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
	beginB := firstIndex(b, func(r session.RecordInfo) bool { return r.Dir == fcgi.Sent && r.Type == fcgi.TypeBeginRequest })
	endA := firstIndex(a, func(r session.RecordInfo) bool { return r.Dir == fcgi.Received && r.Type == fcgi.TypeEndRequest })
	endB := firstIndex(b, func(r session.RecordInfo) bool { return r.Dir == fcgi.Received && r.Type == fcgi.TypeEndRequest })
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

func checkGetValues(xs []*session.Exchange) []CheckResult {
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

func checkAbort(xs []*session.Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	abort := firstIndex(x, func(r session.RecordInfo) bool {
		return r.Dir == fcgi.Sent && r.Type == fcgi.TypeAbortRequest && r.RequestID == x.RequestID()
	})
	end := firstIndex(x, func(r session.RecordInfo) bool {
		return r.Dir == fcgi.Received && r.Type == fcgi.TypeEndRequest && r.RequestID == x.RequestID()
	})
	rs := []CheckResult{
		checkResult(abort >= 0, "the web server sends ABORT_REQUEST", "%s", recordAt("ABORT_REQUEST", abort)),
		checkResult(abort >= 0 && end > abort, "the application still answers END_REQUEST after it",
			"%s", recordAt("END_REQUEST", end)),
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

func checkAuthorizer(xs []*session.Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	auth := xs[0]
	var rs []CheckResult
	rs = append(rs, checkResult(auth.Role() == fcgi.RoleAuthorizer, "the first request has the AUTHORIZER role",
		"role %s", auth.Role()))
	resp := auth.Response()
	var vars []session.Param
	if resp != nil {
		vars = session.AuthorizerVariables(resp)
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

func checkFilter(xs []*session.Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	data := ownRecords(x, fcgi.Sent, fcgi.TypeData)
	stdinEnd := firstIndex(x, func(r session.RecordInfo) bool {
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

func checkKeepConn(xs []*session.Exchange) []CheckResult {
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

func checkUnknownRole(xs []*session.Exchange) []CheckResult {
	if r, ok := needExchanges(xs, 1); !ok {
		return []CheckResult{r}
	}
	x := xs[0]
	role := fcgi.Role(0)
	if i := firstIndex(x, func(r session.RecordInfo) bool { return r.Dir == fcgi.Sent && r.Type == fcgi.TypeBeginRequest }); i >= 0 {
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
