// Framing as bytes go by: where each record of a forwarded direction starts,
// so that a forwarder that must shed load knows which bytes are record
// content it may leave out and which are headers the decoder needs; and,
// from the headers, whether the web server has anything left to send on a
// connection the application closed (flow).

package tap

import (
	"slices"

	"fcgiscope/fcgi"
)

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
	// h is the current record's header, off the bytes of its content
	// and padding consumed (flow reads BEGIN_REQUEST's flags).
	h   fcgi.Header
	off int
}

// beginFlagsAt is the offset of the flags in BEGIN_REQUEST's content
// (spec §5.1: role, 2 bytes, then flags).
const beginFlagsAt = 2

// next consumes the first bytes of b, at most up to the next boundary
// between a header and the content of a record, and returns their number
// and whether they may be shed: record content and padding of a data
// record (STDIN, STDOUT, STDERR, DATA), or anything once boundaries are
// lost. It tells fl, the connection's flow, the headers of direction dir
// and the flags of BEGIN_REQUESTs. len(b) must be > 0.
func (f *framer) next(b []byte, dir fcgi.Direction, fl *flow) (n int, shed bool) {
	switch {
	case f.lost:
		return len(b), true
	case f.remain > 0:
		n = min(f.remain, len(b))
		if f.h.Type == fcgi.TypeBeginRequest && f.off <= beginFlagsAt && beginFlagsAt < f.off+n && beginFlagsAt < int(f.h.ContentLength) {
			fl.flags(f.h.RequestID, fcgi.Flags(b[beginFlagsAt-f.off]))
		}
		f.off += n
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
			fl.odd = true
			return n, false
		}
		f.h, f.off = h, 0
		f.remain = h.RecordLen() - fcgi.HeaderLen
		f.shed = isData(h.Type) && h.ContentLength > 0
		fl.header(dir, h)
	}
	return n, false
}

// atBoundary reports whether the bytes so far end a whole record.
func (f *framer) atBoundary() bool { return !f.lost && f.hdrN == 0 && f.remain == 0 }

// maxFlowRequests bounds the requests a flow follows at once: past it the
// connection is odd (a multiplexing web server with that many requests in
// flight on one connection keeps it open anyway).
const maxFlowRequests = 16

// flow is what the forwarding path knows of a connection's requests from
// the record headers going by both ways: enough to tell when the web
// server has said all it will (done), so that the application's close can
// be answered at once (see conn.closeEarly).
type flow struct {
	begun int       // BEGIN_REQUESTs seen
	open  []reqFlow // requests begun whose STDIN or END_REQUEST is still to come
	// odd: something this bookkeeping does not follow went by (a
	// management record, a record for a request not begun, KEEP_CONN, a
	// BEGIN_REQUEST for an open id, lost framing): done is false for good.
	odd bool
}

// reqFlow is a request in flight on a connection.
type reqFlow struct {
	id               uint16
	stdinDone, ended bool // the empty STDIN record; END_REQUEST
	flagsSeen        bool
}

// find returns the open request id, or nil.
func (fl *flow) find(id uint16) *reqFlow {
	for i := range fl.open {
		if fl.open[i].id == id {
			return &fl.open[i]
		}
	}
	return nil
}

// header follows a record header of direction dir.
func (fl *flow) header(dir fcgi.Direction, h fcgi.Header) {
	if fl.odd {
		return
	}
	r := fl.find(h.RequestID)
	switch {
	case dir == fcgi.Sent && h.Type == fcgi.TypeBeginRequest && h.RequestID != 0:
		if r != nil || len(fl.open) >= maxFlowRequests {
			fl.odd = true
			return
		}
		fl.begun++
		fl.open = append(fl.open, reqFlow{id: h.RequestID})
	case dir == fcgi.Sent && (h.Type == fcgi.TypeParams || h.Type == fcgi.TypeStdin || h.Type == fcgi.TypeData || h.Type == fcgi.TypeAbortRequest):
		if r == nil {
			fl.odd = true
			return
		}
		if h.Type == fcgi.TypeStdin && h.ContentLength == 0 {
			r.stdinDone = true
			fl.settle(r)
		}
	case dir == fcgi.Sent:
		fl.odd = true // management records, unknown types
	case h.Type == fcgi.TypeEndRequest:
		if r == nil {
			fl.odd = true
			return
		}
		r.ended = true
		fl.settle(r)
	}
}

// flags follows the flags of request id's BEGIN_REQUEST.
func (fl *flow) flags(id uint16, f fcgi.Flags) {
	if r := fl.find(id); r != nil {
		r.flagsSeen = true
		if f&fcgi.FlagKeepConn != 0 {
			fl.odd = true
		}
	}
}

// settle forgets r once its STDIN ended and its END_REQUEST came.
func (fl *flow) settle(r *reqFlow) {
	if !r.stdinDone || !r.ended || !r.flagsSeen {
		return
	}
	fl.open = slices.DeleteFunc(fl.open, func(o reqFlow) bool { return o.id == r.id })
}

// done reports whether the web server has nothing more to send by the
// protocol: at least one request, every request begun without KEEP_CONN,
// its STDIN ended with the empty record and its END_REQUEST sent by the
// application; nothing odd.
func (fl *flow) done() bool { return !fl.odd && fl.begun > 0 && len(fl.open) == 0 }
