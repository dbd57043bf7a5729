// Records: the header, the record types and the fixed-size bodies of the
// FastCGI 1.0 specification.

package fcgi

import (
	"encoding/binary"
	"fmt"
)

// Version1 is the only protocol version (spec §3.3, FCGI_VERSION_1).
const Version1 = 1

// HeaderLen is the size of a record header in bytes (spec §3.3, FCGI_HEADER_LEN).
const HeaderLen = 8

// MaxContent is the largest content length one record can carry (spec §3.3:
// contentLength is two bytes).
const MaxContent = 65535

// maxPadding is the largest padding length (spec §3.3: paddingLength is one
// byte).
const maxPadding = 255

// NullRequestID is the request id of management records (spec §3.3,
// FCGI_NULL_REQUEST_ID).
const NullRequestID = 0

// RecordType is the type byte of a record header (spec §8, FCGI_BEGIN_REQUEST …).
type RecordType uint8

// Record types (spec §8).
const (
	TypeBeginRequest    RecordType = 1  // FCGI_BEGIN_REQUEST, spec §5.1
	TypeAbortRequest    RecordType = 2  // FCGI_ABORT_REQUEST, spec §5.4
	TypeEndRequest      RecordType = 3  // FCGI_END_REQUEST, spec §5.5
	TypeParams          RecordType = 4  // FCGI_PARAMS, spec §5.2
	TypeStdin           RecordType = 5  // FCGI_STDIN, spec §5.3
	TypeStdout          RecordType = 6  // FCGI_STDOUT, spec §5.3
	TypeStderr          RecordType = 7  // FCGI_STDERR, spec §5.3
	TypeData            RecordType = 8  // FCGI_DATA, spec §5.3
	TypeGetValues       RecordType = 9  // FCGI_GET_VALUES, spec §4.1
	TypeGetValuesResult RecordType = 10 // FCGI_GET_VALUES_RESULT, spec §4.1
	TypeUnknownType     RecordType = 11 // FCGI_UNKNOWN_TYPE, spec §4.2
)

var typeNames = [...]string{
	TypeBeginRequest:    "BEGIN_REQUEST",
	TypeAbortRequest:    "ABORT_REQUEST",
	TypeEndRequest:      "END_REQUEST",
	TypeParams:          "PARAMS",
	TypeStdin:           "STDIN",
	TypeStdout:          "STDOUT",
	TypeStderr:          "STDERR",
	TypeData:            "DATA",
	TypeGetValues:       "GET_VALUES",
	TypeGetValuesResult: "GET_VALUES_RESULT",
	TypeUnknownType:     "UNKNOWN_TYPE",
}

// String returns the spec name without the FCGI_ prefix, e.g. "STDOUT", or
// "UNKNOWN_<n>" for a type the spec does not define.
func (t RecordType) String() string {
	if t.Known() {
		return typeNames[t]
	}
	return fmt.Sprintf("UNKNOWN_%d", uint8(t))
}

// Known reports whether the spec defines t.
func (t RecordType) Known() bool { return t >= TypeBeginRequest && t <= TypeUnknownType }

// IsStream reports whether records of type t form a stream that is closed by
// an empty record (spec §3.3: PARAMS, STDIN, STDOUT, STDERR, DATA).
func (t RecordType) IsStream() bool {
	switch t {
	case TypeParams, TypeStdin, TypeStdout, TypeStderr, TypeData:
		return true
	}
	return false
}

// IsManagement reports whether t is a management record type, sent with
// request id 0 (spec §3.3, §4).
func (t RecordType) IsManagement() bool {
	return t == TypeGetValues || t == TypeGetValuesResult || t == TypeUnknownType
}

// Role is the role field of a BEGIN_REQUEST body (spec §5.1, §6).
type Role uint16

// Roles (spec §6).
const (
	RoleResponder  Role = 1 // FCGI_RESPONDER, spec §6.2
	RoleAuthorizer Role = 2 // FCGI_AUTHORIZER, spec §6.3
	RoleFilter     Role = 3 // FCGI_FILTER, spec §6.4
)

// String returns the spec name without the FCGI_ prefix.
func (r Role) String() string {
	switch r {
	case RoleResponder:
		return "RESPONDER"
	case RoleAuthorizer:
		return "AUTHORIZER"
	case RoleFilter:
		return "FILTER"
	}
	return fmt.Sprintf("ROLE_%d", uint16(r))
}

// Flags is the flags byte of a BEGIN_REQUEST body (spec §5.1).
type Flags uint8

// FlagKeepConn asks the application to keep the connection open after the
// request (spec §5.1, FCGI_KEEP_CONN).
const FlagKeepConn Flags = 1

// String names the set flags, e.g. "KEEP_CONN", "0" for none.
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	s := ""
	if f&FlagKeepConn != 0 {
		s = "KEEP_CONN"
	}
	if rest := f &^ FlagKeepConn; rest != 0 {
		if s != "" {
			s += "|"
		}
		s += fmt.Sprintf("0x%02x", uint8(rest))
	}
	return s
}

// ProtocolStatus is the protocolStatus field of an END_REQUEST body (spec §5.5).
type ProtocolStatus uint8

// Protocol statuses (spec §5.5).
const (
	StatusRequestComplete ProtocolStatus = 0 // FCGI_REQUEST_COMPLETE
	StatusCantMpxConn     ProtocolStatus = 1 // FCGI_CANT_MPX_CONN
	StatusOverloaded      ProtocolStatus = 2 // FCGI_OVERLOADED
	StatusUnknownRole     ProtocolStatus = 3 // FCGI_UNKNOWN_ROLE
)

// String returns the spec name without the FCGI_ prefix.
func (s ProtocolStatus) String() string {
	switch s {
	case StatusRequestComplete:
		return "REQUEST_COMPLETE"
	case StatusCantMpxConn:
		return "CANT_MPX_CONN"
	case StatusOverloaded:
		return "OVERLOADED"
	case StatusUnknownRole:
		return "UNKNOWN_ROLE"
	}
	return fmt.Sprintf("STATUS_%d", uint8(s))
}

// Names of the variables a GET_VALUES request may ask for (spec §4.1).
const (
	ValueMaxConns  = "FCGI_MAX_CONNS"
	ValueMaxReqs   = "FCGI_MAX_REQS"
	ValueMpxsConns = "FCGI_MPXS_CONNS"
)

// Header is the fixed 8-byte prefix of every record (spec §3.3).
type Header struct {
	Version       uint8
	Type          RecordType
	RequestID     uint16
	ContentLength uint16
	PaddingLength uint8
	Reserved      uint8
}

// RecordLen is the length of the whole record: header, content and padding.
func (h Header) RecordLen() int {
	return HeaderLen + int(h.ContentLength) + int(h.PaddingLength)
}

// AppendHeader appends the 8 wire bytes of h to b.
func AppendHeader(b []byte, h Header) []byte {
	return append(b, h.Version, byte(h.Type),
		byte(h.RequestID>>8), byte(h.RequestID),
		byte(h.ContentLength>>8), byte(h.ContentLength),
		h.PaddingLength, h.Reserved)
}

// ParseHeader decodes the first 8 bytes of b. It does not validate the fields.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderLen {
		return Header{}, fmt.Errorf("fcgi: header needs %d bytes, have %d", HeaderLen, len(b))
	}
	return Header{
		Version:       b[0],
		Type:          RecordType(b[1]),
		RequestID:     binary.BigEndian.Uint16(b[2:4]),
		ContentLength: binary.BigEndian.Uint16(b[4:6]),
		PaddingLength: b[6],
		Reserved:      b[7],
	}, nil
}

// PaddingFor returns the padding that aligns content of length n to 8 bytes,
// as the spec recommends (spec §3.3).
func PaddingFor(n int) uint8 { return uint8(-n & 7) }

// Body is the decoded content of a record: *BeginRequest, *EndRequest,
// *UnknownType or *Pairs (PARAMS, GET_VALUES, GET_VALUES_RESULT). Records
// of the other types have none (a nil Body): their content is the bytes
// themselves. Only the types of this package implement Body.
type Body interface{ body() }

func (*BeginRequest) body() {}
func (*EndRequest) body()   {}
func (*UnknownType) body()  {}
func (*Pairs) body()        {}

// BeginRequest is the body of a BEGIN_REQUEST record (spec §5.1).
type BeginRequest struct {
	Role     Role
	Flags    Flags
	Reserved [5]byte
}

// beginRequestLen is the content length of a BEGIN_REQUEST record (spec
// §5.1, FCGI_BeginRequestBody).
const beginRequestLen = 8

// AppendBeginRequest appends the 8 content bytes of b.
func appendBeginRequest(dst []byte, b BeginRequest) []byte {
	dst = append(dst, byte(b.Role>>8), byte(b.Role), byte(b.Flags))
	return append(dst, b.Reserved[:]...)
}

// ParseBeginRequest decodes the content of a BEGIN_REQUEST record.
func ParseBeginRequest(c []byte) (*BeginRequest, error) {
	if len(c) != beginRequestLen {
		return nil, fmt.Errorf("BEGIN_REQUEST body is %d bytes, want %d", len(c), beginRequestLen)
	}
	b := &BeginRequest{Role: Role(binary.BigEndian.Uint16(c)), Flags: Flags(c[2])}
	copy(b.Reserved[:], c[3:])
	return b, nil
}

// EndRequest is the body of an END_REQUEST record (spec §5.5).
type EndRequest struct {
	AppStatus      uint32
	ProtocolStatus ProtocolStatus
	Reserved       [3]byte
}

// endRequestLen is the content length of an END_REQUEST record (spec §5.5,
// FCGI_EndRequestBody).
const endRequestLen = 8

// AppendEndRequest appends the 8 content bytes of e.
func appendEndRequest(dst []byte, e EndRequest) []byte {
	dst = binary.BigEndian.AppendUint32(dst, e.AppStatus)
	dst = append(dst, byte(e.ProtocolStatus))
	return append(dst, e.Reserved[:]...)
}

// ParseEndRequest decodes the content of an END_REQUEST record.
func ParseEndRequest(c []byte) (*EndRequest, error) {
	if len(c) != endRequestLen {
		return nil, fmt.Errorf("END_REQUEST body is %d bytes, want %d", len(c), endRequestLen)
	}
	e := &EndRequest{AppStatus: binary.BigEndian.Uint32(c), ProtocolStatus: ProtocolStatus(c[4])}
	copy(e.Reserved[:], c[5:])
	return e, nil
}

// UnknownType is the body of an UNKNOWN_TYPE record (spec §4.2).
type UnknownType struct {
	Type     RecordType
	Reserved [7]byte
}

// unknownTypeLen is the content length of an UNKNOWN_TYPE record (spec
// §4.2, FCGI_UnknownTypeBody).
const unknownTypeLen = 8

// AppendUnknownType appends the 8 content bytes of u.
func appendUnknownType(dst []byte, u UnknownType) []byte {
	dst = append(dst, byte(u.Type))
	return append(dst, u.Reserved[:]...)
}

// ParseUnknownType decodes the content of an UNKNOWN_TYPE record.
func ParseUnknownType(c []byte) (*UnknownType, error) {
	if len(c) != unknownTypeLen {
		return nil, fmt.Errorf("UNKNOWN_TYPE body is %d bytes, want %d", len(c), unknownTypeLen)
	}
	u := &UnknownType{Type: RecordType(c[0])}
	copy(u.Reserved[:], c[1:])
	return u, nil
}
