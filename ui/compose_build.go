// Compose → request: turns a snapshot of the compose form (a session.Input) into the session.Request to send, or the params to preview. Runs off the UI goroutine: it may look at files.

package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// OriginUser is the origin of the params written by hand in Raw mode.
const OriginUser = "user"

// requestMiddlewares returns the middlewares that turn in into a request:
// HTTP mode's chain, then what the role needs (the authorizer's cuts, the
// filter's data file).
func requestMiddlewares(in session.Input) []session.Middleware {
	var mws []session.Middleware
	if in.Mode == session.ModeHTTP && in.HTTP != nil {
		h := *in.HTTP
		if len(h.Body) == 0 && h.BodyFile == "" {
			h.Body = in.Body // the body editor serves both modes
		}
		mws = append(mws, session.HTTPChain(h))
	}
	switch in.Role {
	case fcgi.RoleAuthorizer:
		if in.Mode == session.ModeHTTP {
			mws = append(mws, session.Authorizer())
		}
	case fcgi.RoleFilter:
		mws = append(mws, session.FilterFile(in.DataFile))
	}
	return mws
}

// buildRequest returns the request in describes: in HTTP mode the params the
// HTTP chain builds; in Raw mode the enabled params exactly as written, in
// order. The role's middleware runs last. It may stat files (document root,
// data file) but opens none: bodies are read when sent.
func buildRequest(ctx context.Context, in session.Input) (*session.Request, error) {
	req := &session.Request{Role: in.Role, KeepConn: in.KeepConn, ID: in.RequestID}
	if in.Mode != session.ModeHTTP {
		for _, p := range in.Params {
			if p.Enabled && p.Name != "" {
				req.Params.Add(p.Name, p.Value, OriginUser)
			}
		}
		if len(in.Body) > 0 {
			req.Body, req.BodyLen = bytes.NewReader(in.Body), int64(len(in.Body))
		}
	} else if in.HTTP == nil {
		return nil, errors.New("ui: HTTP mode without an HTTP request")
	}
	var kept *session.Request
	keep := func(_ context.Context, r *session.Request) (*session.Exchange, error) {
		kept = r
		return nil, nil
	}
	if _, err := session.Chain(requestMiddlewares(in)...)(keep)(ctx, req); err != nil {
		return nil, err
	}
	if kept == nil {
		return nil, errors.New("ui: a middleware did not pass the request on")
	}
	// The form's role and connection settings win over the chain's defaults.
	if in.Role != 0 {
		kept.Role = in.Role
	}
	kept.KeepConn, kept.ID = in.KeepConn, in.RequestID
	return kept, nil
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
func cleanError(err error) string {
	s := err.Error()
	for _, p := range []string{"session: ", "http: ", "router: ", "fcgi: ", "ui: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}

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
