// Tests of the inspector's pure parts: failure messages and the shared kit.

package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"fcgiscope/fcgi"
)

func TestFailureText(t *testing.T) {
	refused := fmt.Errorf("session: cannot connect to x: %w", fmt.Errorf("fcgi: dial tcp x: %w: %w", fcgi.ErrConnect,
		&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}))
	tests := []struct {
		err       error
		cancelled bool
		want      string
	}{
		{refused, false, "Cannot connect to x: connection refused"},
		{fmt.Errorf("session: aborted: %w", fcgi.ErrAborted), false, "Aborted: ABORT_REQUEST sent to x"},
		{context.Canceled, true, "Aborted: ABORT_REQUEST sent to x"},
		{fmt.Errorf("session: %w", &fcgi.EndRequestError{AppStatus: 3, ProtocolStatus: fcgi.StatusOverloaded}), false,
			"The application refused the request: END_REQUEST OVERLOADED, app status 3"},
		{fmt.Errorf("session: timed out: %w: %w", fcgi.ErrTimeout, context.DeadlineExceeded), false,
			"Timed out: the request's time limit passed before the request was sent to x"},
		{fmt.Errorf("session: timed out to x: %w", fmt.Errorf("fcgi: GET_VALUES on tcp x: %w: no GET_VALUES_RESULT within 300ms (IdleTimeout)", fcgi.ErrTimeout)), false,
			"Timed out waiting for x: no GET_VALUES_RESULT within 300ms (IdleTimeout)"},
		{fmt.Errorf("session: timed out: %w", fcgi.ErrTimeout), false, "Timed out waiting for x: timeout"},
		{fmt.Errorf("session: timed out to x: %w", fmt.Errorf("fcgi: dial tcp x: %w: %w",
			&fcgi.TimeoutError{Limit: fcgi.LimitDial, Phase: fcgi.PhaseDialing, After: 300 * time.Millisecond},
			&net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded})), false,
			"Timed out connecting to x: no answer within 300ms (dial timeout)"},
		{fmt.Errorf("fcgi: record 3 at byte 40: %w", fcgi.ErrProtocol), false, "Protocol error: record 3 at byte 40: protocol error"},
		{errors.New("session: router: no document root"), false, "Request failed: no document root"},
	}
	for _, tt := range tests {
		if got := failureText(tt.err, "x", tt.cancelled); got != tt.want {
			t.Errorf("failureText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestOneLine(t *testing.T) {
	if got := oneLine("a\r\nb\tc"); got != "a⏎b⇥c" {
		t.Errorf("oneLine = %q", got)
	}
}
