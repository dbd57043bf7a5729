// The JSON forms of an Exchange: the lossless one, the Exchange file around
// it (secrets redacted unless asked), and the command line's view.

package session

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
	"unicode/utf8"

	"fcgiscope/fcgi"
)

// exchangeJSON is the lossless serialized form of an Exchange.
type exchangeJSON struct {
	Input        Input         `json:"input"`
	CaptureLimit int64         `json:"capture_limit"`
	Target       string        `json:"target"`
	Params       Params        `json:"params"`
	Role         fcgi.Role     `json:"role"`
	KeepConn     bool          `json:"keep_conn"`
	RequestID    uint16        `json:"request_id"`
	Start        time.Time     `json:"start"`
	Records      []recordJSON  `json:"records"`
	Sent         captureJSON   `json:"sent"`
	Received     captureJSON   `json:"received"`
	Sizes        Sizes         `json:"sizes"`
	Ends         []EndStatus   `json:"end_request"`
	Response     *responseJSON `json:"response"`
	Warnings     []string      `json:"warnings"`
	Timings      Timings       `json:"timings"`
	Error        string        `json:"error,omitempty"`
	Failure      *Failure      `json:"failure,omitempty"`
	Finished     bool          `json:"finished"`
	Conn         fcgi.ConnInfo `json:"conn"`
	Begins       int           `json:"begins"`
	Framing      fcgi.Framing  `json:"framing"`
	ConnKept     *bool         `json:"conn_kept,omitempty"`
}

// recordJSON is a record with where its bytes lie in its direction's capture.
type recordJSON struct {
	RecordInfo
	Dir      string `json:"dir"` // "sent" or "received"; shadows RecordInfo.Dir
	FrameOff int    `json:"frame_off"`
	FrameLen int    `json:"frame_len"`
	Stream   string `json:"stream,omitempty"` // "stdin", "stdout", "stderr", "data" or ""
	DataOff  int    `json:"data_off,omitempty"`
	DataLen  int    `json:"data_len,omitempty"`
}

// captureJSON holds one direction's bytes, base64 encoded by encoding/json.
type captureJSON struct {
	Wire   int64  `json:"wire"`
	Frame  []byte `json:"frame"`
	Stdin  []byte `json:"stdin"`
	Stdout []byte `json:"stdout"`
	Stderr []byte `json:"stderr"`
	Data   []byte `json:"data"`
}

// responseJSON is an HTTPResponse without its body, which is
// Stdout()[HeaderLen:].
type responseJSON struct {
	Status    int      `json:"status"`
	Reason    string   `json:"reason"`
	Headers   []Header `json:"headers"`
	HeaderLen int      `json:"header_len"`
	Gateway   string   `json:"gateway,omitempty"`
}

// MarshalJSON encodes everything the Exchange holds, raw bytes included
// (base64 per direction), except OnRecord. UnmarshalJSON restores it exactly.
func (x *Exchange) MarshalJSON() ([]byte, error) {
	v := x.jsonView()
	return appendExchangeJSON(nil, &v)
}

// jsonView returns the exchange in its serialized form. Its byte slices are
// views into the capture: copy one before changing it.
func (x *Exchange) jsonView() exchangeJSON {
	x.mu.Lock()
	v := exchangeJSON{
		Input: x.Input, CaptureLimit: x.CaptureLimit,
		Target: x.target, Params: x.params, Role: x.role, KeepConn: x.keepConn,
		RequestID: x.requestID, Start: x.start,
		Sent: x.sent.toJSON(), Received: x.recv.toJSON(),
		Sizes: x.sizes, Ends: x.ends, Warnings: x.warnings, Timings: x.timings,
		Error: x.errText, Failure: x.failure, Finished: x.finished, Conn: x.conn, Begins: x.begins, Framing: x.framing, ConnKept: x.connKept,
	}
	v.Records = make([]recordJSON, len(x.recs))
	for i, r := range x.recs {
		rj := recordJSON{RecordInfo: r.RecordInfo, Dir: r.Dir.String(),
			FrameOff: r.frameOff, FrameLen: r.frameLen}
		if r.slot != noSlot {
			rj.Stream, rj.DataOff, rj.DataLen = slotNames[r.slot], r.dataOff, r.dataLen
		}
		v.Records[i] = rj
	}
	if x.resp != nil {
		v.Response = &responseJSON{Status: x.resp.Status, Reason: x.resp.Reason,
			Headers: x.resp.Headers, HeaderLen: x.resp.HeaderLen, Gateway: x.resp.Gateway}
	}
	x.mu.Unlock()
	return v
}

func (c *capture) toJSON() captureJSON {
	return captureJSON{Wire: c.wire, Frame: c.frame,
		Stdin: c.stream[slotStdin], Stdout: c.stream[slotStdout],
		Stderr: c.stream[slotStderr], Data: c.stream[slotData]}
}

func (cj captureJSON) capture() capture {
	c := capture{wire: cj.Wire, frame: cj.Frame}
	c.stream[slotStdin], c.stream[slotStdout] = cj.Stdin, cj.Stdout
	c.stream[slotStderr], c.stream[slotData] = cj.Stderr, cj.Data
	return c
}

// UnmarshalJSON restores an Exchange written by MarshalJSON. It checks that
// every record's byte ranges lie inside the captured bytes, so that a damaged
// file gives an error, never a panic later. OnRecord is left as it is.
func (x *Exchange) UnmarshalJSON(b []byte) error {
	var v exchangeJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("session: exchange JSON: %w", err)
	}
	sent, recv := v.Sent.capture(), v.Received.capture()
	var recs []record // nil when empty, as an Exchange builds it
	if len(v.Records) > 0 {
		recs = make([]record, len(v.Records))
	}
	for i, rj := range v.Records {
		r := record{RecordInfo: rj.RecordInfo, frameOff: rj.FrameOff, frameLen: rj.FrameLen, slot: noSlot}
		switch rj.Dir {
		case "sent":
			r.Dir = fcgi.Sent
		case "received":
			r.Dir = fcgi.Received
		default:
			return fmt.Errorf("session: exchange JSON: record %d: direction %q is not sent or received", i, rj.Dir)
		}
		c := &recv
		if r.Dir == fcgi.Sent {
			c = &sent
		}
		if !inRange(r.frameOff, r.frameLen, len(c.frame)) {
			return fmt.Errorf("session: exchange JSON: record %d: frame bytes %d+%d outside the %d captured",
				i, r.frameOff, r.frameLen, len(c.frame))
		}
		if rj.Stream != "" {
			for s, name := range slotNames {
				if name == rj.Stream {
					r.slot = s
				}
			}
			if r.slot == noSlot {
				return fmt.Errorf("session: exchange JSON: record %d: unknown stream %q", i, rj.Stream)
			}
			r.dataOff, r.dataLen = rj.DataOff, rj.DataLen
			if !inRange(r.dataOff, r.dataLen, len(c.stream[r.slot])) {
				return fmt.Errorf("session: exchange JSON: record %d: %s bytes %d+%d outside the %d captured",
					i, rj.Stream, r.dataOff, r.dataLen, len(c.stream[r.slot]))
			}
		}
		recs[i] = r
	}
	var resp *HTTPResponse
	if v.Response != nil {
		stdout := recv.stream[slotStdout]
		if !inRange(v.Response.HeaderLen, 0, len(stdout)) {
			return fmt.Errorf("session: exchange JSON: response header length %d beyond the %d bytes of stdout",
				v.Response.HeaderLen, len(stdout))
		}
		resp = &HTTPResponse{Status: v.Response.Status, Reason: v.Response.Reason, Gateway: v.Response.Gateway,
			Headers: v.Response.Headers, Body: view(stdout[v.Response.HeaderLen:]), HeaderLen: v.Response.HeaderLen}
	}

	x.lockWriters()
	defer x.unlockWriters()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.Input, x.CaptureLimit = v.Input, v.CaptureLimit
	x.target, x.params, x.role, x.keepConn = v.Target, v.Params, v.Role, v.KeepConn
	x.requestID, x.start = v.RequestID, v.Start
	x.recs, x.sent, x.recv = recs, sent, recv
	x.sizes, x.ends, x.resp, x.warnings = v.Sizes, v.Ends, resp, v.Warnings
	x.timings, x.errText, x.finished = v.Timings, v.Error, v.Finished
	x.failure = v.Failure
	if x.failure == nil && v.Error != "" {
		f := failureFromText(v.Error, v.Target)
		x.failure = &f
	}
	x.conn, x.begins, x.framing, x.connKept = v.Conn, v.Begins, v.Framing, v.ConnKept
	return nil
}

func inRange(off, n, size int) bool { return off >= 0 && n >= 0 && off <= size && n <= size-off }

// Exchange files.

// ExportOptions are the choices every export offers.
type ExportOptions struct {
	// Secrets keeps secret values (IsSecretParam, IsSecretHeader) as they
	// are; by default they are replaced by Redacted.
	Secrets bool
	// BodyFile, for command exports: read the body from this file
	// (`< file`) instead of writing it into the command.
	BodyFile string
}

// exchangeFileKind and exchangeFileFormat identify an Exchange file.
const (
	exchangeFileKind   = "fcgiscope-exchange"
	exchangeFileFormat = 1
)

// exchangeFile is the content of an Exchange file: a small envelope around
// the Exchange's own JSON (Exchange.MarshalJSON).
type exchangeFile struct {
	Kind     string          `json:"kind"`
	Format   int             `json:"format"`
	Redacted bool            `json:"redacted,omitempty"`
	Exchange json.RawMessage `json:"exchange"`
}

// EncodeExchangeFile returns the bytes of an Exchange file for x (see
// SaveExchangeFile), with secrets redacted unless secrets is set.
func EncodeExchangeFile(x *Exchange, secrets bool) ([]byte, error) {
	var buf bytes.Buffer
	if err := encodeExchangeFile(&buf, x, secrets); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeExchangeFile writes the bytes of EncodeExchangeFile to buf, which
// the Recorder reuses from one exchange to the next.
func encodeExchangeFile(buf *bytes.Buffer, x *Exchange, secrets bool) error {
	v := x.jsonView()
	if !secrets {
		redactView(&v)
	}
	buf.Grow(v.sizeHint())
	b, err := appendExchangeFile(buf.AvailableBuffer(), &v, !secrets)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}

// DecodeExchangeFile parses the bytes of an Exchange file (see
// LoadExchangeFile).
func DecodeExchangeFile(b []byte) (*Exchange, error) {
	var f exchangeFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("not an exchange file: %w", err)
	}
	if f.Kind != exchangeFileKind {
		return nil, fmt.Errorf("not an exchange file (kind %q, want %q)", f.Kind, exchangeFileKind)
	}
	if f.Format > exchangeFileFormat {
		return nil, fmt.Errorf("format %d is newer than this fcgiscope reads (%d); update fcgiscope", f.Format, exchangeFileFormat)
	}
	if f.Format < 1 {
		return nil, fmt.Errorf("format %d is not valid", f.Format)
	}
	if len(f.Exchange) == 0 || string(f.Exchange) == "null" {
		return nil, errors.New("no exchange in the file")
	}
	x := &Exchange{}
	if err := x.UnmarshalJSON(f.Exchange); err != nil {
		return nil, err
	}
	return x, nil
}

// SaveExchangeFile writes x to path as an Exchange file (JSON, everything
// the Exchange holds, raw bytes included), atomically. Secret values are
// redacted unless opts.Secrets is set: in the params, the composed input and
// the parsed response they become Redacted; in the raw PARAMS records and the
// response header block their bytes become '*', so that every record keeps
// its length and offsets. Bodies are never redacted.
func SaveExchangeFile(path string, x *Exchange, opts ExportOptions) error {
	b, err := EncodeExchangeFile(x, opts.Secrets)
	if err != nil {
		return fmt.Errorf("session: exchange file %s: %w", path, err)
	}
	return WriteFileAtomic(path, b, 0o600)
}

// LoadExchangeFile reads an Exchange file written by SaveExchangeFile (or
// kept by History), so that an exchange can be inspected offline. A damaged
// file gives an error naming it.
func LoadExchangeFile(path string) (*Exchange, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("session: exchange file: %w", err)
	}
	x, err := DecodeExchangeFile(b)
	if err != nil {
		return nil, fmt.Errorf("session: exchange file %s: %w", path, err)
	}
	return x, nil
}

// redactView redacts secrets in v, a jsonView: it copies what it changes,
// leaving the exchange's capture as it is.
func redactView(v *exchangeJSON) {
	v.Input = redactInput(v.Input)
	v.Params = Redact(v.Params)
	v.Sent.Frame = bytes.Clone(v.Sent.Frame)
	maskParamRecords(v)
	if v.Response != nil {
		v.Response.Headers = RedactHeaders(v.Response.Headers)
		if hl := v.Response.HeaderLen; hl <= len(v.Received.Stdout) && hasSecretHeader(v.Received.Stdout[:hl]) {
			v.Received.Stdout = bytes.Clone(v.Received.Stdout)
			maskHeaderBlock(v.Received.Stdout[:hl])
		}
	}
}

// maskParamRecords overwrites with '*' the value bytes of secret params in
// the PARAMS records sent for the exchange's request, following pairs that
// straddle records.
func maskParamRecords(v *exchangeJSON) {
	type seg struct{ off, n int } // content bytes in Sent.Frame
	var segs []seg
	var joined []byte
	frame := v.Sent.Frame
	for _, r := range v.Records {
		if r.Dir != "sent" || r.Type != fcgi.TypeParams || r.RequestID != v.RequestID || r.Truncated || r.Partial ||
			r.Stream != "" || r.FrameLen != fcgi.HeaderLen+int(r.ContentLength)+int(r.PaddingLength) ||
			!inRange(r.FrameOff, r.FrameLen, len(frame)) {
			continue
		}
		off := r.FrameOff + fcgi.HeaderLen
		segs = append(segs, seg{off, int(r.ContentLength)})
		joined = append(joined, frame[off:off+int(r.ContentLength)]...)
	}
	mask := func(from, to int) { // joined offsets
		pos := 0
		for _, s := range segs {
			for i := max(from, pos); i < min(to, pos+s.n); i++ {
				frame[s.off+i-pos] = '*'
			}
			pos += s.n
		}
	}
	for pos := 0; pos < len(joined); {
		nl, s1, ok := fcgi.ParsePairLen(joined[pos:])
		if !ok {
			return
		}
		vl, s2, ok := fcgi.ParsePairLen(joined[pos+s1:])
		if !ok {
			return
		}
		name := pos + s1 + s2
		if nl > len(joined)-name || vl > len(joined)-name-nl {
			return
		}
		if IsSecretParam(string(joined[name : name+nl])) {
			mask(name+nl, name+nl+vl)
		}
		pos = name + nl + vl
	}
}

// hasSecretHeader reports whether a CGI header block has a secret header
// line (IsSecretHeader), whose value maskHeaderBlock would mask.
func hasSecretHeader(block []byte) bool {
	for line := range bytes.Lines(block) {
		if name, _, ok := bytes.Cut(line, []byte(":")); ok && IsSecretHeader(string(name)) {
			return true
		}
	}
	return false
}

// maskHeaderBlock overwrites with '*' the values of secret header lines in a
// CGI header block.
func maskHeaderBlock(block []byte) {
	for line := range bytes.Lines(block) {
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok || !IsSecretHeader(string(name)) {
			continue
		}
		value := line[len(name)+1:]
		value = bytes.TrimRight(value, "\r\n")
		start := len(value) - len(bytes.TrimLeft(value, " \t"))
		for i := start; i < len(value); i++ {
			value[i] = '*'
		}
	}
}

// cliJSON is the object of the command line's JSON output. Its fields are a
// contract: add, never rename.
type cliJSON struct {
	Target     string       `json:"target"`
	Role       string       `json:"role"`
	RequestID  *uint16      `json:"request_id"` // null when nothing was sent
	Params     []cliPair    `json:"params"`
	Records    []cliRecord  `json:"records"`
	StdoutB64  string       `json:"stdout_b64"`
	Stderr     string       `json:"stderr"`
	StderrB64  string       `json:"stderr_b64"`
	EndRequest *cliEnd      `json:"end_request"`
	Response   *cliResponse `json:"response"`
	Warnings   []string     `json:"warnings"`
	TimingsUS  cliTimings   `json:"timings_us"`
	Error      *string      `json:"error"`
	// Profile names the web server profile of an HTTP-mode request, and
	// Framing how its records were cut (see fcgi.Framing).
	Profile  string       `json:"profile,omitempty"`
	Framing  fcgi.Framing `json:"framing"`
	ConnKept *bool        `json:"conn_kept,omitempty"`
	// Start is when the exchange started (RFC 3339, UTC), and Anomalies
	// what departs from the specification in its records (see Anomalies),
	// informational ones included.
	Start     string       `json:"start,omitempty"`
	Anomalies []cliAnomaly `json:"anomalies,omitempty"`
}

type cliAnomaly struct {
	Record        int    `json:"record"`
	Kind          string `json:"kind"`
	Informational bool   `json:"informational,omitempty"`
	Text          string `json:"text"`
}

// cliPair is a name and value; a name or value that is not UTF-8 also
// comes byte for byte in base64, as JSON strings cannot hold such bytes
// (the text forms show U+FFFD in their place).
type cliPair struct {
	Name     string `json:"name"`
	NameB64  string `json:"name_b64,omitempty"`
	Value    string `json:"value"`
	ValueB64 string `json:"value_b64,omitempty"`
}

func newCLIPair(name, value string) cliPair {
	p := cliPair{Name: name, Value: value}
	if !utf8.ValidString(name) {
		p.NameB64 = base64.StdEncoding.EncodeToString([]byte(name))
	}
	if !utf8.ValidString(value) {
		p.ValueB64 = base64.StdEncoding.EncodeToString([]byte(value))
	}
	return p
}

type cliRecord struct {
	Dir           string `json:"dir"`
	Type          string `json:"type"`
	TypeCode      uint8  `json:"type_code"`
	RequestID     uint16 `json:"request_id"`
	ContentLength uint16 `json:"content_length"`
	PaddingLength uint8  `json:"padding_length"`
	Offset        int64  `json:"offset"`
	TUS           int64  `json:"t_us"`
}

type cliEnd struct {
	AppStatus      uint32 `json:"app_status"`
	ProtocolStatus string `json:"protocol_status"`
}

type cliResponse struct {
	Status  int       `json:"status"`
	Reason  string    `json:"reason"`
	Headers []cliPair `json:"headers"`
	BodyB64 string    `json:"body_b64"`
	// Gateway: why a web server would answer Status itself (see
	// HTTPResponse.Gateway).
	Gateway string `json:"gateway,omitempty"`
}

type cliTimings struct {
	Connect   int64 `json:"connect"`
	FirstByte int64 `json:"first_byte"`
	Total     int64 `json:"total"`
}

// CLIJSON returns the command line's JSON view of the exchange: target,
// role, request_id (null when nothing was sent), params, records,
// stdout_b64, stderr, stderr_b64, end_request, response (with gateway when
// a web server would answer the status itself), warnings, timings_us,
// error, start, anomalies and, when the sender watched a KEEP_CONN connection, conn_kept.
// Names and values that are not UTF-8 come with a base64 form too
// (name_b64, value_b64).
func (x *Exchange) CLIJSON() ([]byte, error) {
	var anomalies []cliAnomaly
	for _, a := range Anomalies(x) {
		anomalies = append(anomalies, cliAnomaly{Record: a.Record, Kind: string(a.Kind), Informational: a.Kind.Informational(), Text: a.Text})
	}
	x.mu.Lock()
	v := cliJSON{
		Target: x.target, Role: x.role.String(), ConnKept: x.connKept,
		Profile: x.Profile(), Framing: x.framing,
		Params:    make([]cliPair, len(x.params)),
		Records:   make([]cliRecord, len(x.recs)),
		StdoutB64: base64.StdEncoding.EncodeToString(x.recv.stream[slotStdout]),
		Stderr:    string(x.recv.stream[slotStderr]),
		StderrB64: base64.StdEncoding.EncodeToString(x.recv.stream[slotStderr]),
		Warnings:  append([]string{}, x.warnings...),
		TimingsUS: cliTimings{Connect: x.timings.Connect.Microseconds(),
			FirstByte: x.timings.FirstByte.Microseconds(), Total: x.timings.Total.Microseconds()},
		Anomalies: anomalies,
	}
	if !x.start.IsZero() {
		v.Start = x.start.Format(time.RFC3339Nano)
	}
	if x.begins > 0 {
		id := x.requestID
		v.RequestID = &id
	}
	for i, p := range x.params {
		v.Params[i] = newCLIPair(p.Name, p.Value)
	}
	for i, r := range x.recs {
		v.Records[i] = cliRecord{Dir: r.Dir.String(), Type: r.Type.String(), TypeCode: uint8(r.Type),
			RequestID: r.RequestID, ContentLength: r.ContentLength, PaddingLength: r.PaddingLength,
			Offset: r.Offset, TUS: r.T.Microseconds()}
	}
	if len(x.ends) > 0 {
		v.EndRequest = &cliEnd{AppStatus: x.ends[0].AppStatus, ProtocolStatus: x.ends[0].ProtocolStatus.String()}
	}
	if x.resp != nil {
		v.Response = &cliResponse{Status: x.resp.Status, Reason: x.resp.Reason, Headers: make([]cliPair, len(x.resp.Headers)),
			BodyB64: base64.StdEncoding.EncodeToString(x.resp.Body), Gateway: x.resp.Gateway}
		for i, h := range x.resp.Headers {
			v.Response.Headers[i] = newCLIPair(h.Name, h.Value)
		}
	}
	if x.errText != "" {
		e := x.errText
		v.Error = &e
	}
	x.mu.Unlock()
	return json.Marshal(v)
}
