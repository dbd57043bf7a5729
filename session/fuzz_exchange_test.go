// FuzzLoadExchange: an Exchange file from disk, whatever its bytes, must be
// safe for everything that reads an Exchange: the session's own readers, the
// history, the exports and Compare. A black-box test of the session
// packages, hence package session_test.

package session_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"fcgiscope/fcgi/fcgitest"
	"fcgiscope/session"
	"fcgiscope/session/history"
	"fcgiscope/session/interop"
	"fcgiscope/session/sessiontest"
)

// FuzzLoadExchange decodes arbitrary bytes as an Exchange file. The result
// is an error, or an Exchange whose every accessor and export works without
// panicking, that marshals to JSON which unmarshals and marshals again to
// the same bytes, and that survives a save with redaction.
func FuzzLoadExchange(f *testing.F) {
	for _, b := range exchangeFileSeeds(f) {
		f.Add(b)
	}
	for _, s := range []string{
		`{"kind":"fcgiscope-exchange","format":1,"exchange":{}}`,
		`{"kind":"fcgiscope-exchange","format":1,"exchange":{"records":[{"dir":"sent","frame_off":0,"frame_len":9}]}}`,
		`{"kind":"fcgiscope-exchange","format":1,"exchange":{"response":{"header_len":5}}}`,
		`{"kind":"fcgiscope-exchange","format":2,"exchange":{}}`,
		`{"kind":"other","format":1}`, `null`, `[]`, `{"exchange":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkExchangeFile(t, in)
	})
}

func checkExchangeFile(t *testing.T, in []byte) {
	t.Helper()
	x, err := session.DecodeExchangeFile(in)
	if err != nil {
		return
	}
	// Every accessor, as the inspector and the history call them.
	recs := x.Records()
	for i := range min(len(recs), 64) {
		_, _ = x.Decode(i)
		_ = x.RecordRaw(i)
		_, _ = x.Record(i)
	}
	_, _ = x.Decode(-1)
	_, _ = x.Decode(len(recs))
	_, _, _, _ = x.Stdout(), x.Stderr(), x.Stdin(), x.Data()
	_, _, _, _ = x.End(), x.Ends(), x.Response(), x.Warnings()
	_, _ = x.CLIJSON()
	_ = history.Summarize(x)
	w := interop.WireRequestOf(x)
	_, _ = interop.ExportCGIFCGI(w, session.ExportOptions{})
	_, _ = interop.ExportSendCommand(w, session.ExportOptions{})
	_, _ = interop.ExportHAR(x, session.ExportOptions{})
	_ = history.Compare(x, x)

	m1, err := x.MarshalJSON()
	if err != nil {
		t.Fatalf("a loaded exchange does not marshal: %v", err)
	}
	y := &session.Exchange{}
	if err := y.UnmarshalJSON(m1); err != nil {
		t.Fatalf("marshalled exchange does not unmarshal: %v\n%s", err, m1)
	}
	m2, err := y.MarshalJSON()
	if err != nil || !bytes.Equal(m1, m2) {
		t.Fatalf("marshalling is not stable (%v):\n%s\n---\n%s", err, m1, m2)
	}
	for _, secrets := range []bool{true, false} {
		file, err := session.EncodeExchangeFile(x, secrets)
		if err != nil {
			t.Fatalf("saving a loaded exchange (secrets %v): %v", secrets, err)
		}
		// The hand-written encoder writes what encoding/json writes.
		if want, err := session.ReflectEncodeExchangeFile(x, secrets); err != nil || !bytes.Equal(file, want) {
			t.Fatalf("the Exchange file (secrets %v) differs from encoding/json's (%v):\n%s\n---\n%s", secrets, err, file, want)
		}
		z, err := session.DecodeExchangeFile(file)
		if err != nil {
			t.Fatalf("a saved exchange (secrets %v) does not load: %v", secrets, err)
		}
		if z.Len() != x.Len() || !bytes.Equal(z.Stdout(), x.Stdout()) || !bytes.Equal(z.Stdin(), x.Stdin()) {
			t.Fatalf("saving (secrets %v) changed records or bodies", secrets)
		}
	}
}

// exchangeFileSeeds records real exchanges with the demo backend and
// returns them as Exchange files.
func exchangeFileSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	addr := fcgitest.StartDemo(tb)
	pool := session.NewPool(session.PoolOptions{})
	defer pool.Close()
	eng := session.NewEngine(pool, session.EngineOptions{})
	var out [][]byte
	for _, req := range []*session.Request{
		{Params: session.Params{{Name: "SCRIPT_NAME", Value: "/echo"}, {Name: "HTTP_COOKIE", Value: "sid=secret"},
			{Name: "CONTENT_LENGTH", Value: "5"}}, Body: strings.NewReader("hello"), BodyLen: 5},
		{Params: session.Params{{Name: "SCRIPT_NAME", Value: "/stderr"}}},
		{Params: session.Params{{Name: "SCRIPT_NAME", Value: "/redirect"}}},
		{Params: session.Params{{Name: "SCRIPT_NAME", Value: "/status"}, {Name: "QUERY_STRING", Value: "code=503"}}},
	} {
		x := session.NewExchange(session.Input{Mode: session.ModeRaw, Target: addr})
		_ = eng.Send(context.Background(), addr, req, x)
		for _, secrets := range []bool{true, false} {
			file, err := session.EncodeExchangeFile(x, secrets)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, file)
		}
	}
	return out
}

// TestFuzzExchangeSeedsHold runs the FuzzLoadExchange checks on real
// exchanges recorded from the demo backend, so that a plain go test proves
// them too.
func TestFuzzExchangeSeedsHold(t *testing.T) {
	sessiontest.NoLeaks(t)
	for _, in := range exchangeFileSeeds(t) {
		checkExchangeFile(t, in)
	}
}
