// StartDemo: the demo backend for the length of one test.

package fcgitest

import (
	"context"
	"testing"

	"fcgiscope/fcgi/demo"
)

// StartDemo starts the demo backend on a free loopback port and returns its
// address (host:port). The backend is closed at the end of the test, which
// fails if closing reports an error.
func StartDemo(tb testing.TB) string {
	tb.Helper()
	b, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fcgitest: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("fcgitest: demo backend: %v", err)
		}
	})
	return b.Addr()
}
