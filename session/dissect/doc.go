// Package dissect names every byte of a FastCGI record, as a protocol
// analyser does: which field of the specification it belongs to (header
// fields, body fields, the lengths, names and values of name-value pairs,
// content, padding), the value it holds written for a reader, and what the
// field means, ending with its spec section.
//
// Spans gives the byte map (every byte in exactly one Span, multi-byte
// integers one Span per byte as the spec's structs spell them), for a hex
// dump; Fields gives the same bytes as a tree of logical fields, for a
// detail pane. Both read an fcgi.Record, whole or cut, and never panic: a
// body that does not decode shows as content.
//
// It imports only package fcgi and the standard library, and holds no
// state.
package dissect
