// Package tap sees what a web server and a FastCGI application say to each
// other: a transparent FastCGI tap forwarding every connection byte for byte
// while it decodes both directions into Exchanges, and a reader of pcap and
// pcapng captures that turns the FastCGI traffic of their TCP streams into
// the same Exchanges.
//
// The tap (Listen, Tap.Serve) never holds traffic up: each connection's two
// forwarders copy bytes and hand a copy to the connection's decoder through
// a bounded queue. When decoding falls behind, the forwarders keep going and
// hand over only record headers and the content of the small records; the
// content of data records (STDIN, STDOUT, STDERR, DATA) then goes by
// uncaptured and is counted (Stats, and the Exchange's Skipped records).
// Open exchanges hold at most Options.MemoryLimit bytes of capture together,
// each at most its CaptureLimit.
//
// A connection's closes are passed on as they come, with one exception
// that only saves time: when the application closes a connection whose
// requests it all answered and the web server has nothing left to send by
// the protocol (every request began without KEEP_CONN, its STDIN ended),
// the tap closes the application's side at once instead of when the web
// server closes (php-fpm's worker waits for that close before taking the
// next connection). Bytes the web server still sends after that are
// decoded and counted (Stats.Unforwarded), not forwarded.
//
// An Exchange of the tap is what was sent, profile-free: its Input is a raw
// mode input with the params exactly as the web server sent them (see
// ResendInput for one that carries the body too), its records both ways with
// their times, stdout, stderr, END_REQUEST and the parsed response.
//
// Both the tap and the capture reader decode with the same per-connection
// decoder: records of a connection are grouped by request id, an exchange
// begins at BEGIN_REQUEST (GET_VALUES for management records) and completes
// at its END_REQUEST, or when the connection ends. Records that belong to no
// open request (after END_REQUEST, for an id never begun) are kept in an
// exchange of their own without a request, completed at the next
// BEGIN_REQUEST or the end of the connection, so that nothing seen is lost.
package tap
