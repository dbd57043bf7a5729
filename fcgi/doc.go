// Package fcgi implements the FastCGI 1.0 protocol in both directions, for
// an inspector: every record that crosses a connection can be observed.
// "spec §N" in this package points into the FastCGI Specification (Open
// Market, 1996).
//
// The package in layers, each built on the ones before:
//
//   - Records (record.go, pairs.go): Header; the RecordType, Role, Flags and
//     ProtocolStatus values; the typed bodies BeginRequest, EndRequest,
//     UnknownType and Pairs, which are the only kinds of Body; the
//     name-value pairs of spec §3.4, whose length fields ParsePairLen
//     decodes for the whole repository.
//   - Streams (reader.go, writer.go): a Reader and a Writer over any
//     io.Reader and io.Writer. The Reader frames records in its own buffer
//     and keeps their raw bytes and offsets; the Writer puts each record on
//     the wire in one Write. Writer.AllowIllegalWrites is the one escape
//     hatch for records that break the protocol, there to test other
//     implementations.
//   - Observation (trace.go): a Trace sees every record read or written,
//     with its direction, time, header, decoded body and raw bytes.
//   - Client (request.go, conn.go and its conn_write.go, conn_read.go and
//     conn_abort.go, client.go): Dial returns a Conn that multiplexes
//     requests by request id; a Client adds a pool of KEEP_CONN connections
//     and safe retries. Every failure wraps one of the sentinels of
//     errors.go (ErrConnect, ErrTimeout, ErrAborted, ErrConnClosed,
//     ErrProtocol) and says what failed and where; TimeoutError and
//     EndRequestError carry the details.
//   - Server (server.go and its server_conn.go, server_stdin.go,
//     server_response.go): serves requests to a Handler, a goroutine per
//     request. The demo backend (package fcgi/demo) is built on it, and
//     ResponseWriter.Misbehave lets it break the protocol on purpose.
//   - Addresses (addr.go): ParseAddr reads what a user types for a backend.
//
// Who owns what: a Conn owns its net.Conn and closes it; one goroutine
// reads it and writers take turns under a lock, so records never
// interleave. A Server closes its listeners and the connections it
// accepted. Memory handed out is borrowed: a Record returned by
// Reader.ReadRecord is valid until the next call, one given to a Trace
// during the call only; copy what must outlive it.
//
// Test helpers live in package fcgi/fcgitest: real php-fpm and nginx in
// temporary directories, peers written by hand, a hostile backend, the demo
// backend for one test.
//
// The package imports only the standard library.
package fcgi
