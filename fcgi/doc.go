// Package fcgi implements the FastCGI 1.0 wire protocol in both directions:
// records and their typed bodies, name-value pairs, a Reader and a Writer
// over any byte stream, a multiplexing Client and an application Server.
//
// Everything that crosses a connection can be observed: a Trace hook
// receives every record sent or received with its direction, time, header,
// decoded body and raw bytes. The inspector is built on that hook.
//
// The package imports only the standard library.
package fcgi
