// Test helpers: the demo backend, and a request for it.

package proxy

import (
	"fcgiscope/session"
)

// demoReq is a responder request for a demo path.
func demoReq(path, query string) *session.Request {
	return &session.Request{Params: session.Params{{Name: "REQUEST_METHOD", Value: "GET"},
		{Name: "SCRIPT_NAME", Value: path}, {Name: "QUERY_STRING", Value: query}}}
}
