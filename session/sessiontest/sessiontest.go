// Package sessiontest holds what the tests of the session packages share:
// an engine of the test's own and a check that no goroutine is left behind.
package sessiontest

import (
	"testing"

	"go.uber.org/goleak"

	"fcgiscope/session"
)

// Engine returns an Engine with a pool of its own, closed at the end of the
// test. Call it after starting backends, so that a leak check sees only
// what the engine started.
func Engine(tb testing.TB, opts session.EngineOptions) *session.Engine {
	tb.Helper()
	pool := session.NewPool(session.PoolOptions{})
	tb.Cleanup(func() { pool.Close() })
	return session.NewEngine(pool, opts)
}

// NoLeaks makes the test fail if goroutines started after the call are
// still running once the cleanups registered after it have run (so a
// backend started before it may keep its own until its cleanup).
func NoLeaks(tb testing.TB) {
	tb.Helper()
	current := goleak.IgnoreCurrent()
	tb.Cleanup(func() { goleak.VerifyNone(tb, current) })
}
