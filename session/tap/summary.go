// Summary: an exchange in a line, as a live list or log shows it.

package tap

import (
	"bytes"
	"slices"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// Summary is what a list of tapped exchanges shows of one.
type Summary struct {
	Start time.Time
	// Method and URI are REQUEST_METHOD and REQUEST_URI as sent (SCRIPT_NAME
	// and QUERY_STRING when there is no REQUEST_URI); for an exchange
	// without a request, "" and what it holds ("GET_VALUES", or "records
	// of no request").
	Method, URI string
	// Status is the CGI response's status, 0 when there is none.
	Status int
	// Ended: END_REQUEST arrived, with AppStatus and ProtocolStatus.
	Ended          bool
	AppStatus      uint32
	ProtocolStatus fcgi.ProtocolStatus
	Duration       time.Duration
	// Sent and Received are the wire bytes each way; Stdout the response's
	// bytes (headers included).
	Sent, Received, Stdout int64
	// StderrLines counts the lines of stderr (a last line without its
	// newline included).
	StderrLines int
	// Anomalies are the kinds of anomaly found (session.Anomalies), once
	// each, informational ones left out.
	Anomalies []session.AnomalyKind
	// Lost: record content went by uncaptured or past the capture limit.
	Lost bool
	// Err is the error that ended the exchange, "" if none.
	Err string
}

// What an exchange without a request holds, as its Summary's URI.
const (
	URIGetValues = "GET_VALUES"
	URIStray     = "records of no request"
)

// Summarize returns the summary of a completed exchange.
func Summarize(x *session.Exchange) Summary {
	ps := x.Params()
	s := Summary{Start: x.Start(), Duration: x.Timings().Total, Err: x.ErrorText(), Lost: x.Truncated()}
	s.Method, _ = ps.Get("REQUEST_METHOD")
	if uri, ok := ps.Get("REQUEST_URI"); ok {
		s.URI = uri
	} else {
		s.URI, _ = ps.Get("SCRIPT_NAME")
		if q, _ := ps.Get("QUERY_STRING"); q != "" {
			s.URI += "?" + q
		}
	}
	if len(ps) == 0 && x.RequestID() == 0 {
		s.URI = URIStray
		for _, r := range x.Records() {
			if r.Type == fcgi.TypeGetValues {
				s.URI = URIGetValues
				break
			}
		}
	}
	if r := x.Response(); r != nil {
		s.Status = r.Status
	}
	if end := x.End(); end != nil {
		s.Ended, s.AppStatus, s.ProtocolStatus = true, end.AppStatus, end.ProtocolStatus
	}
	sz := x.Sizes()
	s.Sent, s.Received, s.Stdout = sz.Sent, sz.Received, sz.Stdout
	if e := x.Stderr(); len(e) > 0 {
		s.StderrLines = bytes.Count(e, []byte("\n"))
		if e[len(e)-1] != '\n' {
			s.StderrLines++
		}
	}
	for _, a := range session.Anomalies(x) {
		if !a.Kind.Informational() && !slices.Contains(s.Anomalies, a.Kind) {
			s.Anomalies = append(s.Anomalies, a.Kind)
		}
	}
	return s
}

// ResendInput returns the request of a tapped exchange as a raw mode input
// ready to be sent again to the application: its params exactly as the web
// server sent them, role, KEEP_CONN, request id and the body it sent
// (stdin; for the FILTER role, the data is in the exchange's Data).
func ResendInput(x *session.Exchange) session.Input {
	in := x.Input.Clone()
	in.Body = bytes.Clone(x.Stdin())
	return in
}
