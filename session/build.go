// Input → Request: what a person composed (in the window, a preset or a
// lesson) becomes the request to send.

package session

import (
	"bytes"
	"context"
	"errors"

	"fcgiscope/fcgi"
)

// OriginUser is the origin of params written by hand: Raw mode's table, the
// command line's --param.
const OriginUser = "user"

// InputMiddlewares returns the middlewares that turn in into a request: in
// HTTP mode the HTTP chain, then what the role needs (the authorizer's cuts,
// the filter's data file).
func InputMiddlewares(in Input) []Middleware {
	var mws []Middleware
	if in.Mode == ModeHTTP && in.HTTP != nil {
		h := *in.HTTP
		if len(h.Body) == 0 && h.BodyFile == "" {
			h.Body = in.Body // one body editor serves both modes
		}
		mws = append(mws, HTTPChain(h))
	}
	switch in.Role {
	case fcgi.RoleAuthorizer:
		if in.Mode == ModeHTTP {
			mws = append(mws, Authorizer())
		}
	case fcgi.RoleFilter:
		mws = append(mws, FilterFile(in.DataFile))
	}
	return mws
}

// RawRequest returns the request of a raw-mode input: the enabled params in
// order, each with origin, and the body on STDIN. Nothing else runs: no
// middleware, no file is opened (BuildInput is what the window sends).
func RawRequest(in Input, origin string) *Request {
	req := &Request{Role: in.Role, KeepConn: in.KeepConn, ID: in.RequestID}
	for _, p := range in.Params {
		if p.Enabled && p.Name != "" {
			req.Params.Add(p.Name, p.Value, origin)
		}
	}
	if len(in.Body) > 0 {
		req.Body, req.BodyLen = bytes.NewReader(in.Body), int64(len(in.Body))
	}
	return req
}

// BuildInput returns the request in describes: in HTTP mode the params the
// HTTP chain builds (Raw mode's table is kept aside, not sent); in Raw mode
// the enabled params exactly as written, in order. The role's middleware
// runs last; in's role, KEEP_CONN and request id win over the chain's. It
// may stat files (document root, data file) but opens none: bodies are read
// when sent.
func BuildInput(ctx context.Context, in Input) (*Request, error) {
	var req *Request
	switch {
	case in.Mode != ModeHTTP:
		req = RawRequest(in, OriginUser)
	case in.HTTP == nil:
		return nil, errors.New("session: HTTP mode without an HTTP request")
	default:
		req = &Request{Role: in.Role, KeepConn: in.KeepConn, ID: in.RequestID}
	}
	var kept *Request
	keep := func(_ context.Context, r *Request) (*Exchange, error) {
		kept = r
		return nil, nil
	}
	if _, err := Chain(InputMiddlewares(in)...)(keep)(ctx, req); err != nil {
		return nil, err
	}
	if kept == nil {
		return nil, errors.New("session: a middleware did not pass the request on")
	}
	if in.Role != 0 {
		kept.Role = in.Role
	}
	kept.KeepConn, kept.ID = in.KeepConn, in.RequestID
	return kept, nil
}
