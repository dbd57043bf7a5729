// Framing as bytes go by: where each record of a forwarded direction starts,
// so that a forwarder that must shed load knows which bytes are record
// content it may leave out and which are headers the decoder needs.

package tap

import "fcgiscope/fcgi"

// framer follows the record boundaries of one direction of a connection
// from its bytes, without keeping them.
type framer struct {
	hdr    [fcgi.HeaderLen]byte
	hdrN   int  // bytes of hdr filled
	remain int  // content and padding bytes left in the current record
	shed   bool // the current record is a data record with content
	// lost: a header whose version is not 1; boundaries are unknown from
	// there on (the decoder counts what follows as undecoded).
	lost bool
}

// next consumes the first bytes of b, at most up to the next boundary
// between a header and the content of a record, and returns their number
// and whether they may be shed: record content and padding of a data
// record (STDIN, STDOUT, STDERR, DATA), or anything once boundaries are
// lost. len(b) must be > 0.
func (f *framer) next(b []byte) (n int, shed bool) {
	switch {
	case f.lost:
		return len(b), true
	case f.remain > 0:
		n = min(f.remain, len(b))
		f.remain -= n
		return n, f.shed
	}
	n = min(fcgi.HeaderLen-f.hdrN, len(b))
	copy(f.hdr[f.hdrN:], b[:n])
	f.hdrN += n
	if f.hdrN == fcgi.HeaderLen {
		f.hdrN = 0
		h, _ := fcgi.ParseHeader(f.hdr[:])
		if h.Version != fcgi.Version1 {
			f.lost = true
			return n, false
		}
		f.remain = h.RecordLen() - fcgi.HeaderLen
		f.shed = isData(h.Type) && h.ContentLength > 0
	}
	return n, false
}
