// Package session gives meaning to what crosses a FastCGI connection: it
// turns a composed HTTP request into ordered CGI params through a chain of
// middlewares (as nginx maps them), sends it with package fcgi through an
// Engine and a Pool of clients, parses the CGI response into HTTP, and
// records everything about one request as an Exchange: its records both
// ways with their bytes, its anomalies, and its file format.
//
// The products built on the Exchange are packages of their own, none of
// which imports another: preset (requests saved as TOML, environments),
// history (every exchange kept on disk, Compare), interop (shell command and
// HAR exports, cgi-fcgi and nginx imports), teach (lessons, scenarios,
// playback), doctor (php-fpm's configuration traps and status page) and
// proxy (the recording HTTP proxy). They reach an Exchange only through its
// public steps: Begin, Trace, Complete, or Engine.Send and SendOn.
//
// It does not import Fyne.
package session
