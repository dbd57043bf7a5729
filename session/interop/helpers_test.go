// Test helpers: the demo backend, an engine of the test's own, leak checks.

package interop

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

// newEngine returns an Engine with its own pool, closed at the end.
func newEngine(t *testing.T) *session.Engine {
	t.Helper()
	pool := session.NewPool(session.PoolOptions{})
	t.Cleanup(func() { pool.Close() })
	return session.NewEngine(pool, session.EngineOptions{})
}
