// Anomalies: what in an Exchange's records departs from the FastCGI
// specification, or from what a careful peer would send.

package session

import (
	"fmt"

	"fcgiscope/fcgi"
)

// AnomalyKind names one kind of anomaly.
type AnomalyKind string

// Kinds of anomaly.
const (
	// AnomalyVersion: the header's version is not 1 (spec §3.3).
	AnomalyVersion AnomalyKind = "version"
	// AnomalyShortContent: the connection ended before the content and
	// padding the header announced had arrived.
	AnomalyShortContent AnomalyKind = "short-content"
	// AnomalyUnknownType: a record type the spec does not define (spec §8).
	AnomalyUnknownType AnomalyKind = "unknown-type"
	// AnomalyRequestID: a management record with a request id other than
	// 0, or an application record with request id 0 (spec §3.3).
	AnomalyRequestID AnomalyKind = "request-id"
	// AnomalyReserved: a reserved byte (header or body) that is not 0.
	AnomalyReserved AnomalyKind = "reserved"
	// AnomalyPadding: padding that does not align the record to 8 bytes
	// (spec §3.3 recommends, does not require, alignment). Informational.
	AnomalyPadding AnomalyKind = "padding"
	// AnomalyInactiveID: a record for a request id that is not active
	// (spec §3.3: such records are ignored).
	AnomalyInactiveID AnomalyKind = "inactive-id"
	// AnomalyAfterEnd: an application record for a request after its
	// END_REQUEST.
	AnomalyAfterEnd AnomalyKind = "after-end"
	// AnomalyAfterClose: stream content after the stream's empty record.
	AnomalyAfterClose AnomalyKind = "after-close"
	// AnomalyUnclosedStream: STDOUT or STDERR not closed with an empty
	// record before END_REQUEST. php-fpm always does this. Informational.
	AnomalyUnclosedStream AnomalyKind = "unclosed-stream"
)

// Informational reports whether anomalies of kind k are allowed by the
// specification or common practice and only worth knowing about.
func (k AnomalyKind) Informational() bool {
	return k == AnomalyPadding || k == AnomalyUnclosedStream
}

// Anomaly is one thing wrong, or unusual, about a record of an Exchange.
type Anomaly struct {
	// Record is the index of the record in the Exchange.
	Record int
	Kind   AnomalyKind
	// Text says what is wrong and what the spec says, in a sentence or two.
	Text string
}

// streamState tracks one stream of one request id.
type streamState struct {
	begun, closed bool
}

// anomalyScan is the state of Anomalies' walk through the records.
type anomalyScan struct {
	out     []Anomaly
	active  map[uint16]bool
	ended   map[uint16]int // request id -> index of its END_REQUEST
	streams map[idStream]*streamState
	// unpadded names the web server profile whose framing sends records
	// unpadded, per record type ("" when padded).
	unpadded map[fcgi.RecordType]string
}

type idStream struct {
	id  uint16
	typ fcgi.RecordType
}

func (s *anomalyScan) add(i int, k AnomalyKind, format string, args ...any) {
	s.out = append(s.out, Anomaly{Record: i, Kind: k, Text: fmt.Sprintf(format, args...)})
}

// Anomalies returns what departs from the specification in x's records, in
// record order: a version other than 1, content cut short by the end of
// the connection, unknown record types, request ids that do not fit the
// record type, non-zero reserved bytes, padding that does not align to 8,
// records for request ids that are not active, output after END_REQUEST or
// after a stream's empty record, and STDOUT or STDERR left without their
// empty record before END_REQUEST. The last and the padding are
// informational (see AnomalyKind.Informational).
//
// A request id is active from the BEGIN_REQUEST sent for it until the
// END_REQUEST received for it. Records whose content the capture limit
// dropped are checked on their header only.
func Anomalies(x *Exchange) []Anomaly {
	s := &anomalyScan{active: map[uint16]bool{}, ended: map[uint16]int{}, streams: map[idStream]*streamState{}}
	if p, err := LookupProfile(x.Profile()); err == nil && x.Profile() != "" {
		f := x.Framing()
		s.unpadded = map[fcgi.RecordType]string{}
		if f.ParamsUnpadded {
			s.unpadded[fcgi.TypeParams] = p.Short
		}
		if f.StdinUnpadded {
			s.unpadded[fcgi.TypeStdin] = p.Short
		}
	}
	for i, ri := range x.Records() {
		hdr, n := x.recordShape(i)
		var body []byte
		if (ri.Type == fcgi.TypeBeginRequest || ri.Type == fcgi.TypeEndRequest) && ri.ContentLength == 8 {
			body = x.RecordRaw(i)
		}
		s.record(i, ri, hdr, n, body)
	}
	return s.out
}

// sender names who sent a record in the words of the anomaly texts.
func sender(d fcgi.Direction) string {
	if d == fcgi.Sent {
		return "the web server"
	}
	return "the application"
}

// record checks record i: hdr is its header as captured, n the bytes of it
// captured, raw its whole bytes for BEGIN_REQUEST and END_REQUEST (else nil).
func (s *anomalyScan) record(i int, ri RecordInfo, hdr [fcgi.HeaderLen]byte, n int, raw []byte) {
	who := sender(ri.Dir)
	if n < fcgi.HeaderLen && (ri.Partial || n > 0) {
		s.add(i, AnomalyShortContent, "the connection ended after %d of the record's 8 header bytes: its version, type, request id and lengths never arrived whole", n)
		return
	}
	if ri.Version != fcgi.Version1 {
		s.add(i, AnomalyVersion, "%s sent a record with version %d; the spec defines only version 1 (FCGI_VERSION_1), so nothing after this header can be trusted and a peer drops the connection",
			who, ri.Version)
		return
	}
	if ri.CutShort(n) {
		s.add(i, AnomalyShortContent, "the header announces %d content bytes and %d of padding, but only %d bytes followed it before the connection ended: the content length lies, or the connection broke inside the record",
			ri.ContentLength, ri.PaddingLength, max(n-fcgi.HeaderLen, 0))
	}
	if n >= fcgi.HeaderLen && hdr[7] != 0 {
		s.add(i, AnomalyReserved, "the header's reserved byte is 0x%02x; the spec reserves it and senders set it to 0", hdr[7])
	}
	if n := int(ri.ContentLength) + int(ri.PaddingLength); n%8 != 0 {
		why := "but unusual"
		if server := s.unpadded[ri.Type]; server != "" && ri.Dir == fcgi.Sent {
			why = "and what " + server + " sends: this request imitates its framing"
		}
		s.add(i, AnomalyPadding, "%d content bytes with %d of padding make a record of %d bytes, not a multiple of 8; legal (the spec only recommends aligning records to 8 bytes, and a reader skips any padding), %s",
			ri.ContentLength, ri.PaddingLength, fcgi.HeaderLen+n, why)
	}
	if !ri.Type.Known() {
		s.add(i, AnomalyUnknownType, "%s sent a record of type %d, which the spec does not define (types 1 to 11); an application answers an unknown management record with UNKNOWN_TYPE, anything else is ignored",
			who, uint8(ri.Type))
		return
	}
	if ri.Type.IsManagement() && ri.RequestID != fcgi.NullRequestID {
		s.add(i, AnomalyRequestID, "%s is a management record, but it carries request id %d; management records use request id 0 (FCGI_NULL_REQUEST_ID)",
			ri.Type, ri.RequestID)
		return
	}
	if !ri.Type.IsManagement() && ri.RequestID == fcgi.NullRequestID {
		s.add(i, AnomalyRequestID, "%s is an application record, but it carries request id 0, which is reserved for management records", ri.Type)
		return
	}
	if !ri.Type.IsManagement() {
		s.reservedBody(i, ri, raw)
		s.request(i, ri, who)
	}
}

// reservedBody flags non-zero reserved bytes in the fixed-size bodies.
func (s *anomalyScan) reservedBody(i int, ri RecordInfo, raw []byte) {
	if len(raw) < fcgi.HeaderLen+int(ri.ContentLength) || ri.ContentLength != 8 {
		return
	}
	c := raw[fcgi.HeaderLen : fcgi.HeaderLen+8]
	var reserved []byte
	switch ri.Type {
	case fcgi.TypeBeginRequest:
		reserved = c[3:]
	case fcgi.TypeEndRequest:
		reserved = c[5:]
	default:
		return
	}
	for _, b := range reserved {
		if b != 0 {
			// php-fpm (main/fastcgi.c, fcgi_flush) fills END_REQUEST in
			// its output buffer without clearing these: they repeat
			// whatever output stood there before (seen about once in 200
			// requests for hello.php).
			why := ""
			if ri.Type == fcgi.TypeEndRequest {
				why = " (php-fpm leaves them unset: they repeat earlier bytes of its output buffer)"
			}
			s.add(i, AnomalyReserved, "the %s body's %d reserved bytes are % x; the spec reserves them and senders set them to 0%s",
				ri.Type, len(reserved), reserved, why)
			return
		}
	}
}

// request follows the request ids and streams of application records.
func (s *anomalyScan) request(i int, ri RecordInfo, who string) {
	id := ri.RequestID
	if ri.Dir == fcgi.Sent && ri.Type == fcgi.TypeBeginRequest {
		s.active[id] = true
		delete(s.ended, id)
		for _, t := range []fcgi.RecordType{fcgi.TypeStdout, fcgi.TypeStderr} {
			delete(s.streams, idStream{id, t})
		}
		return
	}
	if !s.active[id] {
		if end, ok := s.ended[id]; ok && ri.Dir == fcgi.Received {
			s.add(i, AnomalyAfterEnd, "%s sent %s for request %d after its END_REQUEST (record %d); the request is no longer active, so a web server ignores this record",
				who, ri.Type, id, end)
			return
		}
		state := "is not active"
		if _, ok := s.ended[id]; ok {
			state = "the application already ended"
		}
		s.add(i, AnomalyInactiveID, "%s sent %s for request %d, which %s; the spec says records for inactive request ids are ignored",
			who, ri.Type, id, state)
		return
	}
	if ri.Dir != fcgi.Received {
		return
	}
	switch ri.Type {
	case fcgi.TypeStdout, fcgi.TypeStderr:
		st := s.streams[idStream{id, ri.Type}]
		if st == nil {
			st = &streamState{}
			s.streams[idStream{id, ri.Type}] = st
		}
		switch {
		case st.closed && ri.ContentLength > 0:
			s.add(i, AnomalyAfterClose, "%s sent more %s for request %d after the empty record that closed the stream; the empty record is the stream's end",
				who, ri.Type, id)
		case ri.ContentLength == 0:
			st.closed = true
		}
		st.begun = true
	case fcgi.TypeEndRequest:
		for _, t := range []fcgi.RecordType{fcgi.TypeStdout, fcgi.TypeStderr} {
			if st := s.streams[idStream{id, t}]; st != nil && st.begun && !st.closed {
				s.add(i, AnomalyUnclosedStream, "%s of request %d was not closed with an empty record before END_REQUEST. php-fpm does this; the spec says every stream ends with an empty record (§3.3), so a client must take END_REQUEST as the end of both streams and never wait for the empty record",
					t, id)
			}
		}
		s.active[id] = false
		s.ended[id] = i
	}
}
