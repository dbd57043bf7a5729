// The lossless JSON of an Exchange written by hand into a byte slice: the
// same bytes encoding/json writes for exchangeJSON (the tests compare
// them), at a tenth of the cost, for the Recorder, which encodes every
// exchange a proxy or a tap forwards.

package session

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// appendExchangeFile appends the bytes of an Exchange file holding v, with
// its "redacted" mark when redacted is set, and the final newline: what
// json.NewEncoder(…).Encode(exchangeFileOut{…}) writes.
func appendExchangeFile(b []byte, v *exchangeJSON, redacted bool) ([]byte, error) {
	b = append(b, `{"kind":"`+exchangeFileKind+`","format":`...)
	b = strconv.AppendInt(b, exchangeFileFormat, 10)
	if redacted {
		b = append(b, `,"redacted":true`...)
	}
	b = append(b, `,"exchange":`...)
	b, err := appendExchangeJSON(b, v)
	if err != nil {
		return b, err
	}
	return append(b, "}\n"...), nil
}

// sizeHint is about the length of v's JSON, a little more: the base64 of
// its captures and some room per record and param.
func (v *exchangeJSON) sizeHint() int {
	n := 0
	for _, c := range [...]*captureJSON{&v.Sent, &v.Received} {
		n += len(c.Frame) + len(c.Stdin) + len(c.Stdout) + len(c.Stderr) + len(c.Data)
	}
	n = n/3*4 + 1024 + 256*len(v.Records) + 128*len(v.Params) + 64*len(v.Input.Params)
	if v.Input.HTTP != nil {
		n += len(v.Input.HTTP.Body)/3*4 + 64*len(v.Input.HTTP.Headers)
	}
	return n + len(v.Input.Body)/3*4
}

// appendExchangeJSON appends v as json.Marshal encodes it.
func appendExchangeJSON(b []byte, v *exchangeJSON) ([]byte, error) {
	var err error
	b = append(b, `{"input":`...)
	if b, err = appendInputJSON(b, &v.Input); err != nil {
		return b, err
	}
	b = append(b, `,"capture_limit":`...)
	b = strconv.AppendInt(b, v.CaptureLimit, 10)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, v.Target)
	b = append(b, `,"params":`...)
	if v.Params == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range v.Params {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, p.Name)
			b = append(b, `,"value":`...)
			b = appendJSONString(b, p.Value)
			if p.Origin != "" {
				b = append(b, `,"origin":`...)
				b = appendJSONString(b, p.Origin)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"role":`...)
	b = strconv.AppendUint(b, uint64(v.Role), 10)
	b = appendJSONBoolField(b, `,"keep_conn":`, v.KeepConn)
	b = append(b, `,"request_id":`...)
	b = strconv.AppendUint(b, uint64(v.RequestID), 10)
	b = append(b, `,"start":`...)
	if b, err = appendJSONTime(b, v.Start); err != nil {
		return b, err
	}
	b = append(b, `,"records":`...)
	if v.Records == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range v.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendRecordJSON(b, &v.Records[i])
		}
		b = append(b, ']')
	}
	b = append(b, `,"sent":`...)
	b = appendCaptureJSON(b, &v.Sent)
	b = append(b, `,"received":`...)
	b = appendCaptureJSON(b, &v.Received)
	s := &v.Sizes
	b = append(b, `,"sizes":{"sent":`...)
	b = strconv.AppendInt(b, s.Sent, 10)
	b = append(b, `,"received":`...)
	b = strconv.AppendInt(b, s.Received, 10)
	b = append(b, `,"stdin":`...)
	b = strconv.AppendInt(b, s.Stdin, 10)
	b = append(b, `,"data":`...)
	b = strconv.AppendInt(b, s.Data, 10)
	b = append(b, `,"stdout":`...)
	b = strconv.AppendInt(b, s.Stdout, 10)
	b = append(b, `,"stderr":`...)
	b = strconv.AppendInt(b, s.Stderr, 10)
	b = append(b, `,"captured":`...)
	b = strconv.AppendInt(b, s.Captured, 10)
	b = append(b, `,"dropped":`...)
	b = strconv.AppendInt(b, s.Dropped, 10)
	b = append(b, `},"end_request":`...)
	if v.Ends == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, e := range v.Ends {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"app_status":`...)
			b = strconv.AppendUint(b, uint64(e.AppStatus), 10)
			b = append(b, `,"protocol_status":`...)
			b = strconv.AppendUint(b, uint64(e.ProtocolStatus), 10)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"response":`...)
	if r := v.Response; r == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, r.Reason)
		b = append(b, `,"headers":`...)
		if b, err = appendHeadersJSON(b, r.Headers); err != nil {
			return b, err
		}
		b = append(b, `,"header_len":`...)
		b = strconv.AppendInt(b, int64(r.HeaderLen), 10)
		if r.Gateway != "" {
			b = append(b, `,"gateway":`...)
			b = appendJSONString(b, r.Gateway)
		}
		b = append(b, '}')
	}
	b = append(b, `,"warnings":`...)
	if v.Warnings == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, w := range v.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	b = append(b, `,"timings":{"connect":`...)
	b = strconv.AppendInt(b, int64(v.Timings.Connect), 10)
	b = append(b, `,"first_byte":`...)
	b = strconv.AppendInt(b, int64(v.Timings.FirstByte), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(v.Timings.Total), 10)
	b = append(b, '}')
	if v.Error != "" {
		b = append(b, `,"error":`...)
		b = appendJSONString(b, v.Error)
	}
	if v.Failure != nil {
		f, err := json.Marshal(v.Failure) // rare: reflection is fine
		if err != nil {
			return b, err
		}
		b = append(b, `,"failure":`...)
		b = append(b, f...)
	}
	b = appendJSONBoolField(b, `,"finished":`, v.Finished)
	c := &v.Conn
	b = append(b, `,"conn":{"Network":`...)
	b = appendJSONString(b, c.Network)
	b = append(b, `,"Addr":`...)
	b = appendJSONString(b, c.Addr)
	b = appendJSONBoolField(b, `,"Reused":`, c.Reused)
	b = append(b, `,"LocalAddr":`...)
	b = appendJSONString(b, c.LocalAddr)
	b = append(b, `},"begins":`...)
	b = strconv.AppendInt(b, int64(v.Begins), 10)
	f := &v.Framing
	b = append(b, `,"framing":{`...)
	n := len(b)
	if f.ParamsMax != 0 {
		b = append(b, `,"params_max":`...)
		b = strconv.AppendInt(b, int64(f.ParamsMax), 10)
	}
	if f.StdinMax != 0 {
		b = append(b, `,"stdin_max":`...)
		b = strconv.AppendInt(b, int64(f.StdinMax), 10)
	}
	if f.ParamsUnpadded {
		b = append(b, `,"params_unpadded":true`...)
	}
	if f.StdinUnpadded {
		b = append(b, `,"stdin_unpadded":true`...)
	}
	b = dropLeadingComma(b, n)
	b = append(b, '}')
	if v.ConnKept != nil {
		b = appendJSONBoolField(b, `,"conn_kept":`, *v.ConnKept)
	}
	return append(b, '}'), nil
}

// appendInputJSON appends in as json.Marshal encodes an Input.
func appendInputJSON(b []byte, in *Input) ([]byte, error) {
	b = append(b, `{"mode":`...)
	b = appendJSONString(b, in.Mode)
	b = append(b, `,"target":`...)
	b = appendJSONString(b, in.Target)
	b = append(b, `,"role":`...)
	b = strconv.AppendUint(b, uint64(in.Role), 10)
	b = appendJSONBoolField(b, `,"keep_conn":`, in.KeepConn)
	b = append(b, `,"request_id":`...)
	b = strconv.AppendUint(b, uint64(in.RequestID), 10)
	b = append(b, `,"params":`...)
	if in.Params == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range in.Params {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, p.Name)
			b = append(b, `,"value":`...)
			b = appendJSONString(b, p.Value)
			b = appendJSONBoolField(b, `,"enabled":`, p.Enabled)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if h := in.HTTP; h != nil {
		b = append(b, `,"http":`...)
		var err error
		if b, err = appendHTTPInputJSON(b, h); err != nil {
			return b, err
		}
	}
	b = append(b, `,"body":`...)
	b = appendJSONBytes(b, in.Body)
	if in.DataFile != "" {
		b = append(b, `,"data_file":`...)
		b = appendJSONString(b, in.DataFile)
	}
	return append(b, '}'), nil
}

// appendHTTPInputJSON appends h as json.Marshal encodes an HTTPInput.
func appendHTTPInputJSON(b []byte, h *HTTPInput) ([]byte, error) {
	var err error
	b = append(b, '{')
	n := len(b)
	str := func(name, s string) {
		if s != "" {
			b = append(b, name...)
			b = appendJSONString(b, s)
		}
	}
	num := func(name string, i int) {
		if i != 0 {
			b = append(b, name...)
			b = strconv.AppendInt(b, int64(i), 10)
		}
	}
	str(`,"method":`, h.Method)
	b = append(b, `,"url":`...)
	b = appendJSONString(b, h.URL)
	if len(h.Headers) > 0 {
		b = append(b, `,"headers":`...)
		if b, err = appendHeadersJSON(b, h.Headers); err != nil {
			return b, err
		}
	}
	str(`,"content_type":`, h.ContentType)
	if len(h.Body) > 0 {
		b = append(b, `,"body":`...)
		b = appendJSONBytes(b, h.Body)
	}
	str(`,"body_file":`, h.BodyFile)
	b = append(b, `,"document_root":`...)
	b = appendJSONString(b, h.DocumentRoot)
	str(`,"index":`, h.Index)
	str(`,"split_path":`, h.SplitPath)
	str(`,"location":`, h.Location)
	str(`,"server_name":`, h.ServerName)
	num(`,"server_port":`, h.ServerPort)
	str(`,"server_addr":`, h.ServerAddr)
	str(`,"remote_addr":`, h.RemoteAddr)
	num(`,"remote_port":`, h.RemotePort)
	if h.HTTPS {
		b = append(b, `,"https":true`...)
	}
	str(`,"server_protocol":`, h.ServerProtocol)
	str(`,"server_software":`, h.ServerSoftware)
	if h.FrontController {
		b = append(b, `,"front_controller":true`...)
	}
	if h.AllowSymlinks {
		b = append(b, `,"allow_symlinks":true`...)
	}
	str(`,"profile":`, h.Profile)
	str(`,"variant":`, h.Variant)
	if h.CombineHeaders {
		b = append(b, `,"combine_headers":true`...)
	}
	b = dropLeadingComma(b, n)
	return append(b, '}'), nil
}

// appendHeadersJSON appends hs as json.Marshal encodes a []Header (each
// through Header.MarshalJSON). A nil hs is null. A header that is not
// plain text goes through json.Marshal, whose error is returned.
func appendHeadersJSON(b []byte, hs []Header) ([]byte, error) {
	if hs == nil {
		return append(b, "null"...), nil
	}
	b = append(b, '[')
	for i, h := range hs {
		if i > 0 {
			b = append(b, ',')
		}
		if plainJSON(h.Name) && plainJSON(h.Value) {
			b = append(b, `{"name":"`...)
			b = append(b, h.Name...)
			b = append(b, `","value":"`...)
			b = append(b, h.Value...)
			b = append(b, `"}`...)
			continue
		}
		e, err := json.Marshal(h)
		if err != nil {
			return b, err
		}
		b = append(b, e...)
	}
	return append(b, ']'), nil
}

// appendRecordJSON appends r as json.Marshal encodes a recordJSON: the
// fields of RecordInfo but its dir, then those of recordJSON.
func appendRecordJSON(b []byte, r *recordJSON) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(r.Index), 10)
	b = append(b, `,"type":`...)
	b = strconv.AppendUint(b, uint64(r.Type), 10)
	b = append(b, `,"request_id":`...)
	b = strconv.AppendUint(b, uint64(r.RequestID), 10)
	b = append(b, `,"content_length":`...)
	b = strconv.AppendUint(b, uint64(r.ContentLength), 10)
	b = append(b, `,"padding_length":`...)
	b = strconv.AppendUint(b, uint64(r.PaddingLength), 10)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, uint64(r.Version), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, r.Offset, 10)
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, int64(r.T), 10)
	if r.Err != "" {
		b = append(b, `,"err":`...)
		b = appendJSONString(b, r.Err)
	}
	if r.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	if r.Skipped {
		b = append(b, `,"skipped":true`...)
	}
	if r.Partial {
		b = append(b, `,"partial":true`...)
	}
	b = append(b, `,"dir":`...)
	b = appendJSONString(b, r.Dir)
	b = append(b, `,"frame_off":`...)
	b = strconv.AppendInt(b, int64(r.FrameOff), 10)
	b = append(b, `,"frame_len":`...)
	b = strconv.AppendInt(b, int64(r.FrameLen), 10)
	if r.Stream != "" {
		b = append(b, `,"stream":`...)
		b = appendJSONString(b, r.Stream)
	}
	if r.DataOff != 0 {
		b = append(b, `,"data_off":`...)
		b = strconv.AppendInt(b, int64(r.DataOff), 10)
	}
	if r.DataLen != 0 {
		b = append(b, `,"data_len":`...)
		b = strconv.AppendInt(b, int64(r.DataLen), 10)
	}
	return append(b, '}')
}

// appendCaptureJSON appends c as json.Marshal encodes a captureJSON.
func appendCaptureJSON(b []byte, c *captureJSON) []byte {
	b = append(b, `{"wire":`...)
	b = strconv.AppendInt(b, c.Wire, 10)
	b = append(b, `,"frame":`...)
	b = appendJSONBytes(b, c.Frame)
	b = append(b, `,"stdin":`...)
	b = appendJSONBytes(b, c.Stdin)
	b = append(b, `,"stdout":`...)
	b = appendJSONBytes(b, c.Stdout)
	b = append(b, `,"stderr":`...)
	b = appendJSONBytes(b, c.Stderr)
	b = append(b, `,"data":`...)
	b = appendJSONBytes(b, c.Data)
	return append(b, '}')
}

// appendJSONBytes appends p as json.Marshal encodes a []byte: base64 in a
// string, null when nil.
func appendJSONBytes(b, p []byte) []byte {
	if p == nil {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, p)
	return append(b, '"')
}

// appendJSONTime appends t as json.Marshal encodes a time.Time.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		e, err := json.Marshal(t) // its error: the year out of range
		return append(b, e...), err
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

func appendJSONBoolField(b []byte, name string, v bool) []byte {
	b = append(b, name...)
	return strconv.AppendBool(b, v)
}

// dropLeadingComma removes the comma at b[n], if any: the first of the
// optional fields written from n on.
func dropLeadingComma(b []byte, n int) []byte {
	if len(b) > n && b[n] == ',' {
		return append(b[:n], b[n+1:]...)
	}
	return b
}

// appendJSONString appends s as json.Marshal encodes a string: as it is
// when it needs no escape (the usual case: printable ASCII without the
// quote, backslash and the characters encoding/json escapes for HTML),
// through json.Marshal otherwise.
func appendJSONString(b []byte, s string) []byte {
	if plainJSON(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	e, _ := json.Marshal(s) // a string always encodes
	return append(b, e...)
}

// plainJSON reports whether s goes into a JSON string as it is, the same
// for encoding/json: printable ASCII but '"', '\\', '<', '>' and '&'.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
