// Request, Params and the middleware chain.

package session

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"fcgiscope/fcgi"
)

// Param is one FastCGI param with the name of the middleware (or "user")
// that set it last.
type Param struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Origin string `json:"origin,omitempty"`
}

// Params is an ordered list of params. Order and duplicates are kept as they
// will go on the wire: it is never a map.
type Params []Param

// Get returns the value of the last param called name.
func (ps Params) Get(name string) (string, bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].Name == name {
			return ps[i].Value, true
		}
	}
	return "", false
}

// Set gives name the value: the first param of that name is replaced in
// place (and any later duplicates removed); otherwise it is appended.
func (ps *Params) Set(name, value, origin string) {
	found := -1
	out := (*ps)[:0]
	for _, p := range *ps {
		if p.Name == name {
			if found >= 0 {
				continue
			}
			found = len(out)
			p.Value, p.Origin = value, origin
		}
		out = append(out, p)
	}
	*ps = out
	if found < 0 {
		*ps = append(*ps, Param{Name: name, Value: value, Origin: origin})
	}
}

// Add appends a param, keeping any earlier one of the same name.
func (ps *Params) Add(name, value, origin string) {
	*ps = append(*ps, Param{Name: name, Value: value, Origin: origin})
}

// Del removes every param called name.
func (ps *Params) Del(name string) {
	out := (*ps)[:0]
	for _, p := range *ps {
		if p.Name != name {
			out = append(out, p)
		}
	}
	*ps = out
}

// Pairs returns the params as wire pairs, in order.
func (ps Params) Pairs() []fcgi.Pair {
	out := make([]fcgi.Pair, len(ps))
	for i, p := range ps {
		out[i] = fcgi.Pair{Name: p.Name, Value: p.Value}
	}
	return out
}

// Request is what will go on the wire for one FastCGI request, as the
// middlewares build it.
type Request struct {
	Role     fcgi.Role
	KeepConn bool
	ID       uint16 // 0: automatic
	Params   Params
	// Body is sent on STDIN; BodyLen is its length, or -1 if unknown.
	Body    io.Reader
	BodyLen int64
	// Data is sent on DATA (Filter role); DataLen as BodyLen.
	Data    io.Reader
	DataLen int64
	// Framing is how PARAMS and STDIN are cut into records: the HTTP
	// profile's, or the default.
	Framing fcgi.Framing
}

// Handler sends a Request (or, at the end of a preview chain, just keeps it)
// and returns the Exchange that records it.
type Handler func(ctx context.Context, req *Request) (*Exchange, error)

// Middleware wraps a Handler: it changes the request on its way in (and may
// look at the Exchange on its way out).
type Middleware func(Handler) Handler

// Chain composes middlewares so that the first one runs first (outermost).
func Chain(mws ...Middleware) Middleware {
	return func(h Handler) Handler {
		for i := len(mws) - 1; i >= 0; i-- {
			h = mws[i](h)
		}
		return h
	}
}

// RoleName returns the lower-case name of a role as the command line and
// preset files write it ("responder", "authorizer", "filter"), or its
// number.
func RoleName(r fcgi.Role) string {
	switch r {
	case fcgi.RoleResponder:
		return "responder"
	case fcgi.RoleAuthorizer:
		return "authorizer"
	case fcgi.RoleFilter:
		return "filter"
	}
	return fmt.Sprint(uint16(r))
}

// ParseRole reads a role as RoleName writes it, in any case, or a number
// from 0 to 65535.
func ParseRole(s string) (fcgi.Role, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "responder":
		return fcgi.RoleResponder, true
	case "authorizer":
		return fcgi.RoleAuthorizer, true
	case "filter":
		return fcgi.RoleFilter, true
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
	return fcgi.Role(n), err == nil
}
