// Compose → request: turns a snapshot of the compose form (a session.Input) into the session.Request to send, or the params to preview. Runs off the UI goroutine: it may look at files.

package ui

import (
	"context"
	"fmt"
	"strings"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// buildRequest returns the request in describes (session.BuildInput).
func buildRequest(ctx context.Context, in session.Input) (*session.Request, error) {
	return session.BuildInput(ctx, in)
}

// checkInput returns the params in would send and what looks wrong with
// them: errors that stop the send (the request cannot be built), then
// Lint's warnings.
func checkInput(ctx context.Context, in session.Input) (params session.Params, errs, warns []string) {
	req, err := buildRequest(ctx, in)
	if err != nil {
		return nil, []string{cleanError(err)}, nil
	}
	body := in.Body
	if in.Role == fcgi.RoleAuthorizer && in.Mode == session.ModeHTTP {
		body = nil // the authorizer middleware sends no body
	}
	return req.Params, nil, session.Lint(req.Params, body)
}

// cleanError drops the package prefixes of an error for the window
// ("session: router: no document root" → "no document root"); the words
// after them say what is wrong.
func cleanError(err error) string { return session.CleanError(err) }

// parseRequestID reads the request id entry: blank means automatic (0).
func parseRequestID(s string) (uint16, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != s || n < 1 || n > 65535 {
		return 0, fmt.Errorf("request id %q must be a number from 1 to 65535, or blank for automatic", s)
	}
	return uint16(n), nil
}
