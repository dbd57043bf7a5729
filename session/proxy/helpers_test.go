// Test helpers: the demo backend, an engine of the test's own, leak checks.

package proxy

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"fcgiscope/fcgi/demo"
	"fcgiscope/session"
)

// startDemo starts the demo backend on loopback and stops it at the end.
func startDemo(t *testing.T) string {
	t.Helper()
	b, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.Addr()
}

// checkLeaks makes the test fail if goroutines started after this call are
// still running when the cleanups registered after it have run.
func checkLeaks(t *testing.T) {
	t.Helper()
	current := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, current) })
}

// newEngine returns an Engine with its own pool, closed at the end. Call it
// after starting backends, so that leak checks see only what it started.
func newEngine(t *testing.T, opts session.EngineOptions) *session.Engine {
	t.Helper()
	pool := session.NewPool(session.PoolOptions{})
	t.Cleanup(func() { pool.Close() })
	return session.NewEngine(pool, opts)
}

// demoReq is a responder request for a demo path.
func demoReq(path, query string) *session.Request {
	return &session.Request{Params: session.Params{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: query}}}
}
