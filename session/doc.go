// Package session gives meaning to what crosses a FastCGI connection: it
// turns a composed HTTP request into ordered CGI params through a chain of
// middlewares, sends it with package fcgi, parses the CGI response into HTTP,
// and records everything about one request as an Exchange, which the window,
// the history, the presets and the command line all share.
//
// It does not import Fyne.
package session
