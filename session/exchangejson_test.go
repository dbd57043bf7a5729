// Tests of the Exchange file: a lossless round trip, redaction (in the raw
// records too, across PARAMS records) and damaged files.

package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/fcgi/fcgitest"
)

// jsonOf is the lossless JSON of x.
func jsonOf(t *testing.T, x *Exchange) string {
	t.Helper()
	b, err := x.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExchangeFileRoundTripAndRedaction(t *testing.T) {
	checkLeaks(t)
	addr := fcgitest.StartDemo(t)
	long := strings.Repeat("L", 300) // a 4-byte length
	req := demoReq("/cookie", "", Param{Name: "HTTP_AUTHORIZATION", Value: "Bearer hunter2"}, Param{Name: "DB_PASSWORD", Value: long},
		Param{Name: "HTTP_COOKIE", Value: "sid=abc"}, Param{Name: "PLAIN", Value: "visible"})
	in := Input{Mode: ModeRaw, Target: addr, Role: fcgi.RoleResponder}
	for _, p := range req.Params {
		in.Params = append(in.Params, RawParam{Name: p.Name, Value: p.Value, Enabled: true})
	}
	x := NewExchange(in)
	if err := newEngine(t, EngineOptions{}).Send(context.Background(), addr, req, x); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// Lossless with secrets.
	path := filepath.Join(dir, "full.json")
	if err := SaveExchangeFile(path, x, ExportOptions{Secrets: true}); err != nil {
		t.Fatal(err)
	}
	back, err := LoadExchangeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := jsonOf(t, back), jsonOf(t, x); a != b {
		t.Error("the exchange file did not round trip")
	}

	// Redacted by default: values in the params, the input and the raw
	// records, and the response's cookies; lengths kept.
	path = filepath.Join(dir, "redacted.json")
	before := jsonOf(t, x)
	if err := SaveExchangeFile(path, x, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if jsonOf(t, x) != before || !strings.Contains(string(x.Stdout()), "abc123") {
		t.Error("writing the redacted file changed the exchange")
	}
	// Encoded in one pass, the file holds the bytes of the exchange's own
	// JSON decoded, redacted and encoded again.
	var v exchangeJSON
	if err := json.Unmarshal([]byte(before), &v); err != nil {
		t.Fatal(err)
	}
	redactView(&v)
	xb, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := json.Marshal(exchangeFile{Kind: exchangeFileKind, Format: exchangeFileFormat, Redacted: true, Exchange: xb})
	if err != nil {
		t.Fatal(err)
	}
	if string(raw) != string(ref)+"\n" {
		t.Errorf("one-pass encoding differs from the round trip:\n%s\n%s", raw, ref)
	}
	for _, secret := range []string{"hunter2", long, "sid=abc", "abc123", "SHVudGVyMi"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("%q is in the redacted file", secret)
		}
	}
	red, err := LoadExchangeFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ps := red.Params()
	for name, want := range map[string]string{"HTTP_AUTHORIZATION": Redacted, "DB_PASSWORD": Redacted, "HTTP_COOKIE": Redacted, "PLAIN": "visible"} {
		if v, _ := ps.Get(name); v != want {
			t.Errorf("param %s = %q", name, v)
		}
	}
	if !slices.Equal(RedactRaw(x.Input.Params), red.Input.Params) {
		t.Errorf("input params = %v", red.Input.Params)
	}
	// The PARAMS records decode, with the secret values masked and the
	// rest intact.
	var pairs []fcgi.Pair
	for i, ri := range red.Records() {
		if ri.Dir != fcgi.Sent || ri.Type != fcgi.TypeParams {
			continue
		}
		rec, err := red.Decode(i)
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := rec.Body.(*fcgi.Pairs); ok {
			pairs = append(pairs, p.List()...)
		}
	}
	want := map[string]string{"HTTP_AUTHORIZATION": strings.Repeat("*", 14), "DB_PASSWORD": strings.Repeat("*", 300),
		"HTTP_COOKIE": "*******", "PLAIN": "visible", "SCRIPT_NAME": "/cookie"}
	for _, p := range pairs {
		if w, ok := want[p.Name]; ok && p.Value != w {
			t.Errorf("record pair %s = %q, want %q", p.Name, p.Value, w)
		}
	}
	if len(pairs) != len(x.Params()) {
		t.Errorf("%d pairs decoded, %d sent", len(pairs), len(x.Params()))
	}
	if !reflect.DeepEqual(red.Sizes(), x.Sizes()) || len(red.Records()) != len(x.Records()) {
		t.Error("redaction changed sizes")
	}
	for _, c := range red.Response().Values("Set-Cookie") {
		if c != Redacted {
			t.Errorf("Set-Cookie = %q", c)
		}
	}
	if !strings.Contains(string(red.Stdout()), "\r\nSet-Cookie: "+strings.Repeat("*", 37)+"\r\n") {
		t.Errorf("stdout header block:\n%s", red.Stdout())
	}
	if !strings.HasSuffix(string(red.Stdout()), "two cookies set\n") {
		t.Error("the body changed")
	}

	// Damaged files: an error naming the file.
	for name, content := range map[string]string{
		"truncated.json": string(raw[:len(raw)/2]),
		"other.json":     `{"kind":"something else","format":1,"exchange":{}}`,
		"future.json":    `{"kind":"fcgiscope-exchange","format":2,"exchange":{}}`,
		"empty.json":     ``,
		"noexch.json":    `{"kind":"fcgiscope-exchange","format":1}`,
		"ranges.json":    `{"kind":"fcgiscope-exchange","format":1,"exchange":{"records":[{"dir":"sent","frame_off":5,"frame_len":99}]}}`,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadExchangeFile(p); err == nil || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := LoadExchangeFile(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestRedactStraddlingPair masks a secret value whose bytes straddle two
// PARAMS records.
func TestRedactStraddlingPair(t *testing.T) {
	params := Params{{Name: "A", Value: "plain"}, {Name: "API_KEY", Value: strings.Repeat("k", 200)}, {Name: "Z", Value: "zz"}}
	x := NewExchange(Input{Mode: ModeRaw, Target: "127.0.0.1:9000"})
	start := time.Now()
	x.Begin("127.0.0.1:9000", &Request{Params: params}, start)
	var out bytes.Buffer
	w := fcgi.NewWriter(&out)
	w.Trace = x.Trace(start)
	pairs := fcgi.AppendPairs(nil, params.Pairs())
	cut := len(pairs) - 100 // inside API_KEY's value
	for _, err := range []error{
		w.WriteBeginRequest(1, fcgi.RoleResponder, 0),
		w.WriteRecord(fcgi.TypeParams, 1, pairs[:cut]),
		w.WriteRecord(fcgi.TypeParams, 1, pairs[cut:]),
		w.CloseStream(fcgi.TypeParams, 1),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	x.Complete(Outcome{})

	b, err := EncodeExchangeFile(x, false)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("kkk")) {
		t.Error("secret bytes left in the file")
	}
	red, err := DecodeExchangeFile(b)
	if err != nil {
		t.Fatal(err)
	}
	var got []fcgi.Pair
	rd := fcgi.NewReader(bytes.NewReader(append(append(red.RecordRaw(1), red.RecordRaw(2)...), red.RecordRaw(3)...)))
	for {
		rec, err := rd.ReadRecord()
		if err != nil {
			break
		}
		if p, ok := rec.Body.(*fcgi.Pairs); ok {
			got = append(got, p.List()...)
		}
	}
	want := []fcgi.Pair{{Name: "A", Value: "plain"}, {Name: "API_KEY", Value: strings.Repeat("*", 200)}, {Name: "Z", Value: "zz"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pairs = %q", got)
	}
}
