// TestMain: every test of package fcgi ends with no goroutine left behind.

package fcgi

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
