// Failure: why a request failed, said once in a user's words, with records
// numbered as the Exchange numbers them.

package session

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// Kinds of failure, as Describe names them.
const (
	FailRefused  = "the application refused the request"
	FailConnect  = "cannot connect"
	FailTimeout  = "timed out"
	FailAborted  = "aborted"
	FailClosed   = "connection closed before END_REQUEST"
	FailProtocol = "protocol error"
	FailOther    = "request failed"
)

// Failure says why a request failed in the words a user reads: once,
// without the chain of Go errors behind it (each layer of which repeats what
// the layer under it says), and with records numbered as the Exchange
// numbers them (RecordInfo.Index), not as the connection counted them.
type Failure struct {
	// Kind is what failed, one of the Fail constants.
	Kind string `json:"kind"`
	// Title says it in a few words, for a status line, e.g. "Cannot
	// connect to 127.0.0.1:9000" or "Protocol error in record #4".
	Title string `json:"title"`
	// Text is the sentence: what failed, then why, e.g. "Cannot connect to
	// 127.0.0.1:9000: connection refused".
	Text string `json:"text"`
	// Record is the Index of the record at fault in the Exchange, -1 when
	// no record is.
	Record int `json:"record"`
}

// Explain says why a request to target failed with err, for an error that
// no Exchange recorded (a request that could not be built, GET_VALUES).
// An Exchange's own is its Failure.
func Explain(err error, target string) Failure {
	return explain(err, target, nil)
}

// explain builds the Failure of err for a request to target whose records
// are recs (nil: unknown).
func explain(err error, target string, recs []RecordInfo) Failure {
	f := Failure{Kind: Describe(err), Record: -1}
	var re *fcgi.RecordError
	var ere *fcgi.EndRequestError
	switch f.Kind {
	case FailAborted:
		f.Title = "Aborted: ABORT_REQUEST sent"
		f.Text = "Aborted: ABORT_REQUEST sent to " + target
		if recs != nil && !sentAny(recs) {
			f.Title = "Cancelled before the request was sent"
			f.Text = "Cancelled before anything was sent to " + target
		}
	case FailRefused:
		errors.As(err, &ere)
		f.Record = lastReceived(recs, func(ri RecordInfo) bool { return ri.Type == fcgi.TypeEndRequest })
		f.Title = "Refused: END_REQUEST " + ere.ProtocolStatus.String()
		f.Text = fmt.Sprintf("The application refused the request: END_REQUEST %s, app status %d", ere.ProtocolStatus, ere.AppStatus)
		if f.Record >= 0 {
			f.Text += fmt.Sprintf(" (record #%d)", f.Record)
		}
	case FailConnect:
		f.Title = "Cannot connect to " + target
		f.Text = f.Title + ": " + rootCause(err)
	case FailTimeout:
		f.Title = "Timed out"
		f.Text = timeoutText(err, target)
	case FailClosed:
		f.Title = "Connection closed before END_REQUEST"
		f.Text = "The connection closed before END_REQUEST"
		if i := lastReceived(recs, func(RecordInfo) bool { return true }); i >= 0 {
			f.Text += fmt.Sprintf(", after record #%d (%s)", i, recs[i].Type)
		} else if recs != nil {
			f.Text += ", before any record came back"
		}
		if cause := osCause(err); cause != "" {
			f.Text += ": " + cause
		}
	case FailProtocol:
		f.Title = "Protocol error"
		if errors.As(err, &re) {
			f.Record = lastReceived(recs, func(ri RecordInfo) bool { return ri.Partial || ri.Err != "" })
			what := ownText(re.Err)
			if f.Record >= 0 {
				f.Title = fmt.Sprintf("Protocol error in record #%d", f.Record)
				f.Text = f.Title + ": " + what
			} else {
				f.Text = fmt.Sprintf("Protocol error in the record at byte %d of the connection: %s", re.Offset, what)
			}
		} else {
			what := strings.TrimSuffix(CleanError(err), ": "+fcgi.ErrProtocol.Error())
			f.Text = "Protocol error: " + strings.TrimPrefix(what, fcgi.ErrProtocol.Error()+": ")
		}
	default:
		f.Title = "Request failed"
		f.Text = "Request failed: " + CleanError(err)
	}
	return f
}

// sentAny reports whether a record was sent.
func sentAny(recs []RecordInfo) bool {
	for _, ri := range recs {
		if ri.Dir == fcgi.Sent {
			return true
		}
	}
	return false
}

// lastReceived returns the index of the last received record that match
// accepts, -1 if none.
func lastReceived(recs []RecordInfo, match func(RecordInfo) bool) int {
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].Dir == fcgi.Received && match(recs[i]) {
			return recs[i].Index
		}
	}
	return -1
}

// timeoutText says which timeout fired, from the *fcgi.TimeoutError in err:
// the dial's, the idle timeout while waiting for a record or while writing
// one, or the request's time limit (a context deadline, e.g.
// EngineOptions.Timeout), e.g. "Timed out: no record from 127.0.0.1:9000 for
// 300ms (idle timeout)". A timeout without one (GET_VALUES, or an error
// built outside fcgi) is told by what its error says (see timeoutWhy).
func timeoutText(err error, target string) string {
	var te *fcgi.TimeoutError
	if errors.As(err, &te) {
		switch {
		case te.Limit == fcgi.LimitDial:
			return "Timed out connecting to " + target + ": no answer within " + te.After.String() + " (dial timeout)"
		case te.Phase == fcgi.PhaseDialing:
			return "Timed out: the request's time limit passed while connecting to " + target
		case te.Limit == fcgi.LimitIdle && te.Phase == fcgi.PhaseSending:
			return "Timed out sending to " + target + ": the application read nothing for " + te.After.String() + " (idle timeout)"
		case te.Limit == fcgi.LimitIdle:
			return "Timed out: no record from " + target + " for " + te.After.String() + " (idle timeout)"
		case te.Phase == fcgi.PhaseSending:
			return "Timed out: the request's time limit passed while sending to " + target
		case te.Phase == fcgi.PhaseWaiting:
			return "Timed out: the request's time limit passed while waiting for END_REQUEST from " + target
		}
		return "Timed out: the request's time limit passed before the request was sent to " + target
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timed out: the request's time limit passed before the request was sent to " + target
	}
	why := timeoutWhy(err)
	if why == "" {
		why = rootCause(err)
	}
	return "Timed out waiting for " + target + ": " + why
}

// timeoutWhy returns what the error that wraps fcgi.ErrTimeout itself (no
// *fcgi.TimeoutError) says after it, without the text of the cause it may
// wrap too, e.g. "no GET_VALUES_RESULT within 300ms (IdleTimeout)"; "" when
// it says nothing more. It reads no particular words of fcgi's.
func timeoutWhy(err error) string {
	const kind = "timeout: " // fcgi.ErrTimeout, then what timed out
	for err != nil {
		var next error
		carries := false
		for _, e := range wrapped(err) {
			if e == fcgi.ErrTimeout {
				carries = true
			} else if e != nil {
				next = e
			}
		}
		if carries {
			msg := err.Error()
			if next != nil {
				msg = strings.TrimSuffix(msg, ": "+next.Error())
			}
			if why, ok := strings.CutPrefix(msg, kind); ok {
				return why
			}
			_, why, _ := strings.Cut(msg, ": "+kind)
			return why
		}
		err = next
	}
	return ""
}

// wrapped returns the errors err wraps.
func wrapped(err error) []error {
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return []error{u.Unwrap()}
	case interface{ Unwrap() []error }:
		return u.Unwrap()
	}
	return nil
}

// isSentinel reports whether e is one of fcgi's sentinels (or a
// *fcgi.TimeoutError, which stands for fcgi.ErrTimeout).
func isSentinel(e error) bool {
	for _, s := range []error{fcgi.ErrConnect, fcgi.ErrTimeout, fcgi.ErrAborted, fcgi.ErrConnClosed, fcgi.ErrProtocol} {
		if e == s {
			return true
		}
	}
	_, timeout := e.(*fcgi.TimeoutError)
	return timeout
}

// innermost returns the innermost error of a chain. Where an error wraps
// several (a sentinel and the cause), it follows the last one that is not
// an fcgi sentinel.
func innermost(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if e != nil && !isSentinel(e) {
					next = e
				}
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}

// rootCause returns the text of the innermost error of a chain, e.g.
// "connection refused".
func rootCause(err error) string { return CleanError(innermost(err)) }

// osCause returns the text of the innermost error when it comes from
// outside fcgi (the system's, e.g. "connection reset by peer"), "" when the
// innermost error is fcgi's own description of what it saw.
func osCause(err error) string {
	in := innermost(err)
	for _, e := range wrapped(in) {
		if isSentinel(e) {
			return "" // fcgi's words, numbered as the connection counts
		}
	}
	if in == err {
		return ""
	}
	return CleanError(in)
}

// ownText returns what err says itself, without the text of the last
// error it wraps when that one is not a sentinel (a cause already told
// elsewhere, or told with the connection's numbering).
func ownText(err error) string {
	msg := err.Error()
	ws := wrapped(err)
	if len(ws) > 1 {
		if last := ws[len(ws)-1]; last != nil && !isSentinel(last) {
			msg = strings.TrimSuffix(msg, ": "+last.Error())
		}
	}
	return msg
}

// CleanError returns an error's text without the package prefixes of its
// layers ("session: router: no document root" → "no document root"): the
// words after them say what is wrong.
func CleanError(err error) string {
	s := err.Error()
	for _, p := range []string{"session: ", "http: ", "router: ", "fcgi: ", "ui: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

// failureFromText rebuilds a Failure from an exchange's error text alone,
// for an Exchange file written before exchanges kept their Failure: the
// kind from "session: KIND to TARGET: …", the text from the chain's last
// part.
func failureFromText(text, target string) Failure {
	f := Failure{Kind: FailOther, Record: -1}
	rest := strings.TrimPrefix(text, "session: ")
	for _, k := range []string{FailRefused, FailConnect, FailTimeout, FailAborted, FailClosed, FailProtocol, FailOther} {
		if strings.HasPrefix(rest, k+" to ") {
			f.Kind = k
			break
		}
	}
	f.Title = upperFirst(f.Kind)
	if f.Kind == FailConnect && target != "" {
		f.Title += " to " + target
	}
	last := rest
	if i := strings.LastIndex(rest, ": "); i >= 0 {
		last = rest[i+2:]
	}
	f.Text = f.Title + ": " + last
	return f
}

// upperFirst returns s with its first letter in upper case.
func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// StatusText says what the exchange's response is, as a window's status
// shows it: "200 OK", "No response", "502 Bad Gateway (as nginx answers)"
// for a response nginx would not pass on, or "Partial 200 OK" for a request that
// failed after part of its response arrived, so that a status never reads
// as a success the Exchange is not (its Failure says what went wrong).
func StatusText(x *Exchange) string {
	resp := x.Response()
	switch {
	case resp == nil && managementOnly(x) && x.Len() == 0:
		return "No response"
	case resp == nil && managementOnly(x):
		return "Management records only"
	case resp == nil:
		return "No response"
	}
	status := strings.TrimSpace(fmt.Sprintf("%d %s", resp.Status, resp.Reason))
	if resp.Gateway != "" {
		// Not the application's status: nginx's, for what it got.
		return status + " (as nginx answers)"
	}
	if x.Failure() != nil {
		return "Partial " + status
	}
	return status
}

// managementOnly reports whether x is an exchange of management records
// only (GET_VALUES): begun with no request, or holding records but no
// BEGIN_REQUEST. Such an exchange never has an END_REQUEST, even when it
// failed before any record was sent.
func managementOnly(x *Exchange) bool {
	x.mu.Lock()
	noRequest := x.noRequest
	x.mu.Unlock()
	return noRequest || (x.Len() > 0 && !x.Began())
}

// EndText says what END_REQUEST the exchange got: "END_REQUEST: app
// status 0 · REQUEST_COMPLETE", with ", the answer to ABORT_REQUEST" when it
// came after the request was aborted; "END_REQUEST: not received"; for
// management records only (GET_VALUES, failed or not), that there is none.
func EndText(x *Exchange) string {
	e := x.End()
	switch {
	case e == nil && managementOnly(x):
		return "END_REQUEST: none, no request was begun"
	case e == nil:
		return "END_REQUEST: not received"
	}
	text := fmt.Sprintf("END_REQUEST: app status %d · %s", e.AppStatus, e.ProtocolStatus)
	if f := x.Failure(); f != nil && f.Kind == FailAborted {
		for _, ri := range x.Records() {
			if ri.Dir == fcgi.Sent && ri.Type == fcgi.TypeAbortRequest {
				return text + ", the answer to ABORT_REQUEST"
			}
		}
	}
	return text
}
