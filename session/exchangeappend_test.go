// Tests of the hand-written Exchange JSON: byte for byte what encoding/json
// writes for the same view, on real and odd exchanges.

package session

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

// exchangeFileOut is the reference for appendExchangeFile: the Exchange file
// as encoding/json writes it, the exchange encoded in the same pass.
type exchangeFileOut struct {
	Kind     string        `json:"kind"`
	Format   int           `json:"format"`
	Redacted bool          `json:"redacted,omitempty"`
	Exchange *exchangeJSON `json:"exchange"`
}

// ReflectEncodeExchangeFile is EncodeExchangeFile through encoding/json, for
// the black-box fuzz test's comparison.
var ReflectEncodeExchangeFile = reflectEncodeExchangeFile

func reflectEncodeExchangeFile(x *Exchange, secrets bool) ([]byte, error) {
	v := x.jsonView()
	if !secrets {
		redactView(&v)
	}
	var buf bytes.Buffer
	err := json.NewEncoder(&buf).Encode(exchangeFileOut{Kind: exchangeFileKind, Format: exchangeFileFormat, Redacted: !secrets, Exchange: &v})
	return buf.Bytes(), err
}

// checkSameAsReflect fails unless EncodeExchangeFile and MarshalJSON write
// exactly what encoding/json writes for x.
func checkSameAsReflect(t *testing.T, name string, x *Exchange) {
	t.Helper()
	for _, secrets := range []bool{true, false} {
		want, wantErr := reflectEncodeExchangeFile(x, secrets)
		got, err := EncodeExchangeFile(x, secrets)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%s (secrets %v): error %v, encoding/json's %v", name, secrets, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Errorf("%s (secrets %v): the Exchange file differs from encoding/json's:\n%s\n--- want\n%s", name, secrets, got, want)
		}
	}
	v := x.jsonView()
	want, wantErr := json.Marshal(&v)
	got, err := x.MarshalJSON()
	if (err != nil) != (wantErr != nil) || err == nil && !bytes.Equal(got, want) {
		t.Errorf("%s: MarshalJSON (%v) differs from encoding/json's (%v):\n%s\n--- want\n%s", name, err, wantErr, got, want)
	}
}

func TestAppendExchangeJSONMatchesEncodingJSON(t *testing.T) {
	checkLeaks(t)
	x, _ := sampleExchange(t)
	checkSameAsReflect(t, "sample", x)

	checkSameAsReflect(t, "empty", &Exchange{})
	checkSameAsReflect(t, "new", NewExchange(Input{}))

	// Every optional field set, strings that need escaping, invalid
	// UTF-8, HTML characters, U+2028, empty and nil slices.
	odd := "caf\xe9 <b>&amp;</b> \"q\" \\ \n\t\x01 \u2028 é"
	kept := true
	in := Input{Mode: ModeHTTP, Target: odd, Role: fcgi.RoleFilter, KeepConn: true, RequestID: 7,
		Params: []RawParam{{Name: odd, Value: "v", Enabled: true}, {Name: "OFF"}},
		HTTP: &HTTPInput{Method: "PUT", URL: "/a?b=<c>", Headers: []Header{{Name: "X-Odd", Value: odd}, {Name: "caf\xe9", Value: "x"}, {Name: "Authorization", Value: "Bearer t"}},
			ContentType: "text/plain", Body: []byte{0, 1, 2}, BodyFile: "/tmp/b", DocumentRoot: "/srv", Index: "index.php",
			SplitPath: `^(.+\.php)(/.+)$`, Location: "~ \\.php$", ServerName: "example", ServerPort: 8443, ServerAddr: "::1",
			RemoteAddr: "10.0.0.1", RemotePort: 5555, HTTPS: true, ServerProtocol: "HTTP/1.1", ServerSoftware: "nginx",
			FrontController: true, AllowSymlinks: true, Profile: ProfileApache, Variant: "v", CombineHeaders: true},
		Body: []byte{}, DataFile: "/data"}
	y := NewExchange(in)
	y.Input.HTTP.Method = "" // method is omitempty: the first field of the object
	y.Begin("unix:/run/php.sock", &Request{Role: fcgi.RoleFilter, ID: 7, KeepConn: true,
		Params:  Params{{Name: "A", Value: odd, Origin: "user"}, {Name: "HTTP_AUTHORIZATION", Value: "x"}, {Name: "", Value: ""}},
		Framing: fcgi.Framing{ParamsMax: 100, StdinMax: 8, ParamsUnpadded: true, StdinUnpadded: true}}, time.Date(2026, 12, 8, 1, 2, 3, 4, time.UTC))
	y.warnings = []string{odd, ""}
	y.errText = odd
	y.failure = &Failure{Kind: "k", Title: odd, Text: "t", Record: 3}
	y.connKept = &kept
	y.ends = []EndStatus{{AppStatus: 1 << 31, ProtocolStatus: fcgi.StatusOverloaded}}
	y.resp = &HTTPResponse{Status: 599, Reason: odd, Headers: []Header{}, Gateway: "502"}
	y.conn = fcgi.ConnInfo{Network: "unix", Addr: odd, Reused: true, LocalAddr: "@"}
	y.recs = []record{{RecordInfo: RecordInfo{Index: 1, Dir: fcgi.Received, Type: fcgi.TypeStdout, RequestID: 65535, ContentLength: 65535,
		PaddingLength: 255, Version: 255, Offset: 1 << 40, T: -time.Second, Err: odd, Truncated: true, Skipped: true, Partial: true}, slot: noSlot}}
	checkSameAsReflect(t, "odd", y)

	// The start out of encoding/json's range: both fail.
	z := NewExchange(Input{})
	z.start = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	checkSameAsReflect(t, "year 10000", z)
	z.start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 5*3600+30*60))
	checkSameAsReflect(t, "offset zone", z)

	// Every string byte, one at a time.
	for c := range 256 {
		w := NewExchange(Input{Target: "a" + string([]byte{byte(c)}) + strings.Repeat("z", c%3)})
		checkSameAsReflect(t, "byte "+string(rune(c)), w)
	}
}

// TestAppendExchangeJSONKnowsEveryField: the hand-written encoder names
// every field of the types it writes; a field added to one of them must be
// written there too (and set in TestAppendExchangeJSONMatchesEncodingJSON's
// odd exchange), or it would be lost from the recordings.
func TestAppendExchangeJSONKnowsEveryField(t *testing.T) {
	for _, c := range []struct {
		v      any
		fields int
	}{
		{exchangeJSON{}, 23}, {Input{}, 9}, {HTTPInput{}, 23}, {RawParam{}, 3}, {Param{}, 3}, {Header{}, 2},
		{recordJSON{}, 7}, {RecordInfo{}, 13}, {captureJSON{}, 6}, {Sizes{}, 8}, {EndStatus{}, 2},
		{responseJSON{}, 5}, {Timings{}, 3}, {fcgi.ConnInfo{}, 4}, {fcgi.Framing{}, 4},
	} {
		if n := reflect.TypeOf(c.v).NumField(); n != c.fields {
			t.Errorf("%T has %d fields, the Exchange file's encoder writes %d: write the new ones in exchangeappend.go", c.v, n, c.fields)
		}
	}
}

// BenchmarkEncodeExchangeFileReflect is BenchmarkEncodeExchangeFile through
// encoding/json, the encoder before.
func BenchmarkEncodeExchangeFileReflect(b *testing.B) {
	x, _ := benchExchange(b)
	for _, secrets := range []bool{false, true} {
		b.Run(map[bool]string{false: "redacted", true: "secrets"}[secrets], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reflectEncodeExchangeFile(x, secrets); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
