// Playback: an Exchange replayed record by record, with the state of the
// request after each one and a sentence saying what the record does.

package teach

import (
	"fmt"
	"strings"

	"fcgiscope/session"

	"fcgiscope/fcgi"
)

// The two sides of a FastCGI connection, as a State names them.
const (
	SideWebServer   = "web server"  // fcgiscope, playing the web server: sent records
	SideApplication = "application" // the FastCGI backend: received records
)

// StreamState is one stream of the exchange's request after some records.
type StreamState struct {
	// Records counts the stream's records so far, the empty one included.
	Records int
	// Bytes counts the content bytes so far.
	Bytes int64
	// Begun: a record of the stream was seen. Closed: its empty record was.
	Begun, Closed bool
	// Cut: the connection ended inside one of its records; Bytes counts
	// the content that arrived of that one.
	Cut bool
}

// Open reports whether the stream has begun and is not closed.
func (s StreamState) Open() bool { return s.Begun && !s.Closed }

// State is where the exchange's request stands after the records 0..Index.
type State struct {
	// Index is the record just played, -1 before the first.
	Index int
	// Record is that record's summary (zero before the first).
	Record session.RecordInfo
	// Side is who sent it: SideWebServer or SideApplication ("" before the
	// first record).
	Side string
	// RequestID is the exchange's request id; records for other ids do
	// not change the state.
	RequestID uint16
	// Active: BEGIN_REQUEST went out and no END_REQUEST came back yet.
	// Ended: END_REQUEST came back.
	Active, Ended bool
	// End is the first END_REQUEST's status, once Ended.
	End *session.EndStatus
	// Aborted: the web server sent ABORT_REQUEST.
	Aborted bool
	// Failed, after the last record of an exchange that failed, says why
	// in a few words (its session.Failure's Title); "" otherwise.
	Failed string
	// The request's streams: PARAMS, STDIN and DATA from the web server,
	// STDOUT and STDERR from the application.
	Params, Stdin, Data, Stdout, Stderr StreamState
	// Pairs counts the name-value pairs completed in PARAMS so far.
	Pairs int
	// Narration says in one line what the record at Index does.
	Narration string
}

// ParamsComplete reports whether the PARAMS stream was closed.
func (s State) ParamsComplete() bool { return s.Params.Closed }

// StdinComplete reports whether the STDIN stream (the body) was closed.
func (s State) StdinComplete() bool { return s.Stdin.Closed }

// DataComplete reports whether the DATA stream (FILTER role) was closed.
func (s State) DataComplete() bool { return s.Data.Closed }

// Playback steps through the records of an Exchange. It is built from a
// snapshot: records captured after NewPlayback are not part of it. It is
// immutable and safe for concurrent use.
type Playback struct {
	initial State
	states  []State // states[i]: after record i
}

// NewPlayback replays the records x holds now.
func NewPlayback(x *session.Exchange) *Playback {
	p := &Playback{initial: State{Index: -1, RequestID: x.RequestID(),
		Narration: "nothing has been sent yet"}}
	st := p.initial
	recs := x.Records()
	p.states = make([]State, len(recs))
	for i, ri := range recs {
		st = step(x, st, i, ri)
		p.states[i] = st
	}
	if f := x.Failure(); f != nil && len(p.states) > 0 {
		p.states[len(p.states)-1].Failed = f.Title
	}
	return p
}

// Len returns the number of records.
func (p *Playback) Len() int { return len(p.states) }

// Step returns the state after records 0..i. An i below 0 gives the state
// before the first record, an i past the end the state after the last.
func (p *Playback) Step(i int) State {
	switch {
	case i < 0 || len(p.states) == 0:
		return p.initial
	case i >= len(p.states):
		return p.states[len(p.states)-1]
	}
	return p.states[i]
}

// stream returns the state's stream of type t, or nil.
func (s *State) stream(t fcgi.RecordType) *StreamState {
	switch t {
	case fcgi.TypeParams:
		return &s.Params
	case fcgi.TypeStdin:
		return &s.Stdin
	case fcgi.TypeData:
		return &s.Data
	case fcgi.TypeStdout:
		return &s.Stdout
	case fcgi.TypeStderr:
		return &s.Stderr
	}
	return nil
}

// step applies record i to st.
func step(x *session.Exchange, st State, i int, ri session.RecordInfo) State {
	st.Index, st.Record = i, ri
	if st.End != nil {
		e := *st.End
		st.End = &e
	}
	who := SideApplication
	if ri.Dir == fcgi.Sent {
		who = SideWebServer
	}
	st.Side = who
	if st.RequestID == 0 && ri.RequestID != 0 && ri.Dir == fcgi.Sent && ri.Type == fcgi.TypeBeginRequest {
		// An exchange that does not know its id learns it here.
		st.RequestID = ri.RequestID
	}
	st.Narration = narrate(x, &st, i, ri, who)
	return st
}

// narrate updates st for record i and returns the sentence describing it.
func narrate(x *session.Exchange, st *State, i int, ri session.RecordInfo, who string) string {
	the := "the " + who
	captured := x.Captured(i)
	switch {
	case ri.Version != fcgi.Version1:
		return fmt.Sprintf("%s sends a record with version %d: the spec knows only version 1, so the connection cannot be trusted from here on", the, ri.Version)
	case ri.CutShort(captured):
		got := max(captured-fcgi.HeaderLen, 0)
		if s := st.stream(ri.Type); s != nil && captured >= fcgi.HeaderLen && ri.RequestID == st.RequestID && !st.Ended {
			// The stream began (or went on) with it, though the
			// record never arrived whole.
			s.Begun, s.Cut = true, true
			s.Records++
			s.Bytes += int64(min(got, int(ri.ContentLength)))
		}
		return fmt.Sprintf("%s starts a %s record announcing %d content bytes, but the connection ends after %d of them",
			the, ri.Type, ri.ContentLength, got)
	case !ri.Type.Known():
		return fmt.Sprintf("%s sends a record of type %d, which the spec does not define; the receiver ignores it (or answers UNKNOWN_TYPE if it is a management record)", the, uint8(ri.Type))
	case ri.Type.IsManagement():
		return narrateManagement(x, i, ri, the)
	case ri.RequestID != st.RequestID:
		return fmt.Sprintf("%s sends %s for request %d, which is not this exchange's request %d; a peer ignores records for a request id that is not active",
			the, ri.Type, ri.RequestID, st.RequestID)
	}

	// Records after END_REQUEST: the request is no longer active.
	if st.Ended && ri.Type != fcgi.TypeBeginRequest {
		if ri.Dir == fcgi.Received {
			return fmt.Sprintf("%s sends %s (%d bytes) after END_REQUEST: request %d is no longer active, so the web server ignores it",
				the, ri.Type, ri.ContentLength, ri.RequestID)
		}
		return fmt.Sprintf("%s sends %s (%d bytes), but the application already ended request %d: it ignores the record",
			the, ri.Type, ri.ContentLength, ri.RequestID)
	}

	switch ri.Type {
	case fcgi.TypeBeginRequest:
		st.Active, st.Ended, st.End = true, false, nil
		role, keep := "?", "?"
		if rec, err := x.Decode(i); err == nil {
			if b, ok := rec.Body.(*fcgi.BeginRequest); ok {
				role = b.Role.String()
				keep = "off: the application closes the connection after the response"
				if b.Flags&fcgi.FlagKeepConn != 0 {
					keep = "on: the connection stays open for the next request"
				}
			}
		}
		return fmt.Sprintf("%s sends BEGIN_REQUEST for request %d: role %s, KEEP_CONN %s; the request is now active",
			the, ri.RequestID, role, keep)
	case fcgi.TypeAbortRequest:
		st.Aborted = true
		return fmt.Sprintf("%s sends ABORT_REQUEST: it gives up on request %d; the application should stop and answer END_REQUEST soon", the, ri.RequestID)
	case fcgi.TypeEndRequest:
		return narrateEnd(x, st, i, ri, the)
	}

	s := st.stream(ri.Type)
	if s == nil {
		return fmt.Sprintf("%s sends %s (%d bytes)", the, ri.Type, ri.ContentLength)
	}
	wasClosed := s.Closed
	s.Begun = true
	s.Records++
	s.Bytes += int64(ri.ContentLength)
	if ri.Type == fcgi.TypeParams {
		return narrateParams(x, st, i, ri, the)
	}
	name := streamName(ri.Type)
	if ri.ContentLength == 0 {
		if wasClosed {
			return fmt.Sprintf("%s sends another empty %s record: the stream was already closed", the, ri.Type)
		}
		s.Closed = true
		if s.Records == 1 {
			return fmt.Sprintf("%s sends an empty %s record at once: %s is complete, and empty", the, ri.Type, name)
		}
		return fmt.Sprintf("%s sends an empty %s record: %s is complete (%d bytes in %d %s)",
			the, ri.Type, name, s.Bytes, s.Records-1, plural(s.Records-1, "record", "records"))
	}
	if wasClosed {
		return fmt.Sprintf("%s sends %s (%d bytes) after the stream's empty record, which was meant to be its end", the, ri.Type, ri.ContentLength)
	}
	open := "the stream stays open"
	if ri.Dir == fcgi.Received {
		open = "more may follow until an empty record or END_REQUEST"
	}
	return fmt.Sprintf("%s sends %s (%d bytes, %d so far); %s", the, ri.Type, ri.ContentLength, s.Bytes, open)
}

// streamName says what a stream carries.
func streamName(t fcgi.RecordType) string {
	switch t {
	case fcgi.TypeStdin:
		return "the body (STDIN)"
	case fcgi.TypeData:
		return "the filtered file (DATA)"
	case fcgi.TypeStdout:
		return "the response (STDOUT)"
	case fcgi.TypeStderr:
		return "the error output (STDERR)"
	}
	return t.String()
}

func narrateParams(x *session.Exchange, st *State, i int, ri session.RecordInfo, the string) string {
	if ri.ContentLength == 0 {
		st.Params.Closed = true
		return fmt.Sprintf("%s sends an empty PARAMS record: the params are complete (%d pairs, %d bytes); the application can start the request",
			the, st.Pairs, st.Params.Bytes)
	}
	pairs, pending := 0, 0
	if rec, err := x.Decode(i); rec != nil {
		if p, ok := rec.Body.(*fcgi.Pairs); ok {
			pairs, pending = len(p.Fields), p.Pending
		}
		if err != nil {
			return fmt.Sprintf("%s sends PARAMS (%d bytes) that do not decode: %v", the, ri.ContentLength, err)
		}
	}
	st.Pairs += pairs
	more := ""
	if pending > 0 {
		more = fmt.Sprintf("; its last %d bytes begin a pair that the next PARAMS record completes", pending)
	}
	return fmt.Sprintf("%s sends PARAMS (%d %s, %d bytes)%s; the params stream stays open",
		the, pairs, plural(pairs, "pair", "pairs"), ri.ContentLength, more)
}

func narrateEnd(x *session.Exchange, st *State, i int, ri session.RecordInfo, the string) string {
	var end *session.EndStatus
	if rec, err := x.Decode(i); err == nil {
		if e, ok := rec.Body.(*fcgi.EndRequest); ok {
			end = &session.EndStatus{AppStatus: e.AppStatus, ProtocolStatus: e.ProtocolStatus}
		}
	}
	wasActive := st.Active
	st.Active, st.Ended = false, true
	if end == nil {
		return fmt.Sprintf("%s sends END_REQUEST with a malformed body; request %d is over", the, ri.RequestID)
	}
	st.End = end
	var b strings.Builder
	fmt.Fprintf(&b, "%s sends END_REQUEST: app status %d, %s", the, end.AppStatus, end.ProtocolStatus)
	switch end.ProtocolStatus {
	case fcgi.StatusRequestComplete:
		if !wasActive {
			fmt.Fprintf(&b, "; request %d was not active", ri.RequestID)
		} else {
			fmt.Fprintf(&b, "; request %d is over", ri.RequestID)
		}
	case fcgi.StatusCantMpxConn:
		b.WriteString(": the application cannot take a second request on this connection")
	case fcgi.StatusOverloaded:
		b.WriteString(": the application is out of resources and refuses the request")
	case fcgi.StatusUnknownRole:
		b.WriteString(": the application does not play the role asked for")
	}
	var open []string
	for _, t := range []fcgi.RecordType{fcgi.TypeStdout, fcgi.TypeStderr} {
		if st.stream(t).Open() {
			open = append(open, t.String())
		}
	}
	if len(open) > 0 {
		fmt.Fprintf(&b, " (%s never closed with an empty record, as php-fpm does: END_REQUEST ends them)", strings.Join(open, " and "))
	}
	return b.String()
}

func narrateManagement(x *session.Exchange, i int, ri session.RecordInfo, the string) string {
	var pairs []fcgi.Pair
	var unknown *fcgi.UnknownType
	if rec, err := x.Decode(i); err == nil {
		switch b := rec.Body.(type) {
		case *fcgi.Pairs:
			pairs = b.List()
		case *fcgi.UnknownType:
			unknown = b
		}
	}
	id := ""
	if ri.RequestID != fcgi.NullRequestID {
		id = fmt.Sprintf(" (with request id %d, where management records use 0)", ri.RequestID)
	}
	switch ri.Type {
	case fcgi.TypeGetValues:
		names := make([]string, len(pairs))
		for k, p := range pairs {
			names[k] = p.Name
		}
		return fmt.Sprintf("%s sends GET_VALUES%s, asking for %s", the, id, orNothing(strings.Join(names, ", ")))
	case fcgi.TypeGetValuesResult:
		vals := make([]string, len(pairs))
		for k, p := range pairs {
			vals[k] = p.Name + "=" + p.Value
		}
		return fmt.Sprintf("%s answers GET_VALUES_RESULT%s: %s", the, id, orNothing(strings.Join(vals, ", ")))
	}
	if unknown != nil {
		return fmt.Sprintf("%s answers UNKNOWN_TYPE%s: it does not understand record type %d", the, id, uint8(unknown.Type))
	}
	return fmt.Sprintf("%s sends %s%s", the, ri.Type, id)
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
