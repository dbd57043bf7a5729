// Test helpers: the demo backend, and a request for it.

package proxy

import (
	"context"
	"testing"

	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
)

// startDemo starts the demo backend on loopback and stops it at the end.
func startDemo(t testing.TB) string {
	t.Helper()
	b, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.Addr()
}

// demoReq is a responder request for a demo path.
func demoReq(path, query string) *session.Request {
	return &session.Request{Params: session.Params{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: query}}}
}
