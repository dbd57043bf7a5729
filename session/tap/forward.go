// Forwarding: the two copy loops of a connection, and the bounded queue
// through which they hand a copy of what they forwarded to its decoder.

package tap

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"fcgiscope/fcgi"
)

// Sizes of the forwarding buffers.
const (
	// copyBuf is the read size of a forwarder: a whole php-fpm record.
	copyBuf = 64 << 10
	// smallCopy: a piece up to this size is copied into its own
	// allocation, a larger one into a pooled buffer.
	smallCopy = 4 << 10
	// maxPieces bounds the pieces a connection's queue holds, and
	// queueSlack what the queue holds past its limit (headers and small
	// records are still queued then): past either (a decoder that stopped
	// making progress), decoding is given up.
	maxPieces  = 1 << 16
	queueSlack = 4 << 20
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, copyBuf); return &b }}

// conn is one connection of the web server, forwarded to the upstream.
type conn struct {
	t      *Tap
	no     uint64
	ws, up net.Conn
	dec    *decoder

	mu      sync.Mutex
	q       []piece
	spare   []piece
	framers [2]framer
	flow    flow // the requests going by, from the framers
	// appShut: the tap closed the application's reading side when the
	// application closed the connection (closeEarly); what the web server
	// sends after is decoded, not forwarded.
	appShut bool
	ended   int // directions whose end is queued
	// inflight is, per direction, when the bytes its forwarder is
	// writing were read (zero: none): the decoder takes no piece of the
	// other direction read later before they are queued (see ready).
	inflight [2]time.Time
	behind   bool // decoding fell behind once (NoticeBehind told)
	gaveUp   bool
	wake     chan struct{}
}

// accept forwards a new connection of the web server.
func (t *Tap) accept(ws net.Conn) {
	no := t.connNo.Add(1)
	t.wg.Add(1)
	t.open.Add(1)
	t.spawn(func() {
		defer t.wg.Done()
		defer t.open.Add(-1)
		up, err := net.DialTimeout(t.upNet, t.upAddr, t.opts.DialTimeout)
		if err != nil {
			// As if the application's socket refused it: the web
			// server sees its connection closed with no answer and
			// reports a bad gateway itself.
			ws.Close()
			t.stats.upFailed.Add(1)
			t.notify(Notice{Kind: NoticeUpstreamDown, Conn: no,
				Err: fmt.Errorf("session: tap: connection %d: upstream %s: %w; the web server's connection was closed (it answers 502)", no, t.opts.Upstream, err)})
			return
		}
		c := &conn{t: t, no: no, ws: ws, up: up, wake: make(chan struct{}, 1)}
		info := fcgi.ConnInfo{Network: t.upNet, Addr: t.upAddr}
		if a := ws.RemoteAddr(); a != nil && a.Network() != "unix" {
			info.LocalAddr = a.String()
		}
		c.dec = newDecoder(&t.cfg, info)
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			ws.Close()
			up.Close()
			return
		}
		t.conns[c] = struct{}{}
		t.mu.Unlock()
		c.run()
		t.mu.Lock()
		delete(t.conns, c)
		t.mu.Unlock()
	})
}

// run forwards both ways and decodes until the connection is over.
func (c *conn) run() {
	var wg sync.WaitGroup
	wg.Add(2)
	c.t.spawn(func() {
		defer wg.Done()
		c.forward(fcgi.Sent, c.ws, c.up)
	})
	c.t.spawn(func() {
		defer wg.Done()
		c.forward(fcgi.Received, c.up, c.ws)
	})
	c.decode()
	wg.Wait()
	c.ws.Close()
	c.up.Close()
}

// abort cuts both sides of the connection.
func (c *conn) abort() {
	c.ws.Close()
	c.up.Close()
}

// forward copies src to dst until src ends, handing a copy of every read to
// the decoder. A clean end (EOF) is passed on as one: dst's writing side is
// closed. A failure on either side cuts both.
func (c *conn) forward(dir fcgi.Direction, src, dst net.Conn) {
	bp := bufPool.Get().(*[]byte)
	defer func() { bufPool.Put(bp) }()
	buf := *bp
	counter := &c.t.stats.fromWS
	if dir == fcgi.Received {
		counter = &c.t.stats.fromApp
	}
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			now := time.Now()
			w, werr := n, error(nil)
			if c.reading(dir, now) {
				// What did not reach the other side is not shown as sent.
				w, werr = dst.Write(buf[:n])
				counter.Add(int64(w))
			} else {
				c.t.stats.unforwarded.Add(int64(n))
			}
			if w > 0 {
				if c.offer(dir, buf[:w], now, true) {
					// The decoder took buf: read into another.
					bp = bufPool.Get().(*[]byte)
					buf = *bp
				}
			}
			if werr != nil {
				// The receiving side is gone: so is the connection.
				c.end(dir, c.failure("forwarding to "+receiver(dir), werr), time.Now())
				c.abort()
				return
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				if !(dir == fcgi.Sent && c.isAppShut()) {
					closeWrite(dst)
				}
				// The web server hears first: woken first, the
				// application would take the CPU before it.
				if dir == fcgi.Received && c.closeEarly() {
					closeWrite(src)
				}
				c.end(dir, nil, time.Now())
			} else {
				c.end(dir, c.failure("reading from "+sender(dir), rerr), time.Now())
				c.abort()
			}
			return
		}
	}
}

// failure describes what failed while forwarding: err, or the tap being
// stopped when that is why.
func (c *conn) failure(what string, err error) error {
	if c.t.isClosed() && errors.Is(err, net.ErrClosed) {
		return errors.New("the tap was stopped")
	}
	return fmt.Errorf("%s: %w", what, err)
}

// receiver names who receives direction dir.
func receiver(dir fcgi.Direction) string {
	if dir == fcgi.Sent {
		return "the application"
	}
	return "the web server"
}

// closeWrite closes the writing side of nc (a FIN), or all of it when it
// cannot be half closed.
func closeWrite(nc net.Conn) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	nc.Close()
}

// reading tells the decoder that bytes of direction dir read at t are
// being forwarded: what the other side answers them with is read later,
// and must not be decoded before them (see ready). It returns false when
// they must not be forwarded: the web server's, once closeEarly closed the
// application's side.
func (c *conn) reading(dir fcgi.Direction, t time.Time) (forward bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight[dirIndex(dir)] = t
	return dir == fcgi.Received || !c.appShut
}

// closeEarly reports whether, now that the application closed its side
// (the end of direction Received), the tap is to close the application's
// reading side at once, as the web server will, instead of when the web
// server's close comes: when
// the web server has sent, and the application answered, all the protocol
// lets it (flow.done: every request began without KEEP_CONN, its STDIN
// ended, its END_REQUEST came back) and nothing of the web server's is
// being forwarded. The web server then closes too, with nothing left to
// say; waiting for its close to come through the tap would only hold the
// application up: php-fpm's worker, after its END_REQUEST, half closes and
// reads until the web server's end before it takes the next connection,
// so each request would keep a worker for two more trips through the tap
// (the direct case: one trip through the web server). Anything the web
// server still sends is decoded and counted (Stats.Unforwarded), not
// forwarded: the application has closed, as php-fpm discards it.
func (c *conn) closeEarly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	// c.ended > 0: the web server's side already ended (this one's end
	// is queued after).
	if c.gaveUp || c.ended > 0 || !c.inflight[0].IsZero() || !c.framers[0].atBoundary() || !c.flow.done() {
		return false
	}
	c.appShut = true
	return true
}

// isAppShut reports whether closeEarly closed the application's side.
func (c *conn) isAppShut() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.appShut
}

// ready returns how many queued pieces the decoder may take: those up to
// the first one read after the bytes the other direction's forwarder is
// still writing. The two forwarders queue what they forwarded after
// writing it, so the answer to a record (END_REQUEST to a BEGIN_REQUEST,
// the next BEGIN_REQUEST of a keep-alive connection to an END_REQUEST)
// can be read and queued by one before the other queued the record. The
// caller holds c.mu.
func (c *conn) ready() int {
	for i := range c.q {
		p := &c.q[i]
		if o := c.inflight[1-dirIndex(p.dir)]; !p.stop && !o.IsZero() && o.Before(p.t) {
			return i
		}
	}
	return len(c.q)
}

// offer hands a copy of b, bytes of direction dir read at t, to the
// decoder, without waiting; or b itself when give is set, b is more than
// smallCopy bytes at the start of a pooled buffer (bufPool) and goes to the
// decoder whole: it then returns true, the buffer is the decoder's (it puts
// it back in the pool) and the caller reads into another. While the tap's queue is under its limit every
// byte is copied; past it, only record headers and the content of records
// other than data records (those are small), and the content of data
// records is handed over as a length to skip. A connection whose queue
// still grows past maxPieces, or the tap's past the limit and queueSlack, is
// no longer decoded.
func (c *conn) offer(dir fcgi.Direction, b []byte, t time.Time, give bool) (taken bool) {
	tp := c.t
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inflight[dirIndex(dir)] = time.Time{}
	if c.gaveUp {
		tp.stats.undecoded.Add(int64(len(b)))
		return false
	}
	fr := &c.framers[dirIndex(dir)]
	limit := tp.queueLimit()
	if tp.queued.Load()+int64(len(b)) <= limit {
		// Keep the framer in step; everything is handed over.
		for rest := b; len(rest) > 0; {
			n, _ := fr.next(rest, dir, &c.flow)
			rest = rest[n:]
		}
		if give && len(b) > smallCopy {
			c.push(piece{dir: dir, t: t, data: b})
			return true
		}
		c.push(piece{dir: dir, t: t, data: copyPiece(b)})
		return false
	}
	if len(c.q) >= maxPieces || tp.queued.Load() > limit+queueSlack {
		c.giveUp(t)
		tp.stats.undecoded.Add(int64(len(b)))
		return false
	}
	if !c.behind {
		c.behind = true
		tp.notify(Notice{Kind: NoticeBehind, Conn: c.no, Time: t,
			Err: fmt.Errorf("session: tap: connection %d: decoding fell behind the traffic (%d bytes waiting): record content goes by uncaptured, headers and sizes are kept",
				c.no, tp.queued.Load())})
	}
	// Runs of bytes to keep, each followed by a run to shed: a piece each.
	keep, skip := 0, 0 // the current run's bytes, from the start of b
	for rest := b[keep:]; len(rest) > 0; {
		n, shed := fr.next(rest, dir, &c.flow)
		if !shed && skip > 0 {
			c.push(piece{dir: dir, t: t, data: copyPiece(b[:keep]), skip: skip})
			tp.stats.behind.Add(int64(skip))
			b = b[keep+skip:]
			keep, skip = 0, 0
		}
		if shed {
			skip += n
		} else {
			keep += n
		}
		rest = rest[n:]
	}
	c.push(piece{dir: dir, t: t, data: copyPiece(b[:keep]), skip: skip})
	tp.stats.behind.Add(int64(skip))
	return false
}

// copyPiece copies b for the decoder: small pieces into an allocation of
// their own, larger ones into a pooled buffer the decoder gives back.
func copyPiece(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > smallCopy {
		p := bufPool.Get().(*[]byte)
		return append((*p)[:0], b...)
	}
	return append([]byte(nil), b...)
}

// push queues p and wakes the decoder: behind the pieces of the other
// direction read before it, ahead of those read after (see ready). The
// caller holds c.mu.
func (c *conn) push(p piece) {
	at := len(c.q)
	for !p.stop && at > 0 && c.q[at-1].dir != p.dir && !c.q[at-1].stop && c.q[at-1].t.After(p.t) {
		at--
	}
	if n := len(c.q); at == n && n > 0 && len(p.data) == 0 && !p.end && !p.stop {
		// Runs shed back to back make one piece.
		if last := &c.q[n-1]; last.dir == p.dir && !last.end && !last.stop {
			last.skip += p.skip
			return
		}
	}
	c.t.queued.Add(int64(len(p.data)))
	c.q = slices.Insert(c.q, at, p)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// giveUp stops decoding the connection: what is queued is decoded, then
// the open exchanges complete and the rest is forwarded undecoded. The
// caller holds c.mu.
func (c *conn) giveUp(t time.Time) {
	c.gaveUp = true
	err := fmt.Errorf("session: tap: connection %d: decoding fell too far behind (%d pieces, %d bytes waiting) and was given up: the rest of the connection is forwarded undecoded",
		c.no, len(c.q), c.t.queued.Load())
	c.t.notify(Notice{Kind: NoticeGaveUp, Conn: c.no, Time: t, Err: err})
	c.push(piece{t: t, stop: true, err: err})
}

// end queues the end of direction dir.
func (c *conn) end(dir fcgi.Direction, err error, t time.Time) {
	c.mu.Lock()
	c.inflight[dirIndex(dir)] = time.Time{}
	c.ended++
	c.push(piece{dir: dir, t: t, end: true, err: err})
	c.mu.Unlock()
}

// decode runs the decoder until both directions ended.
func (c *conn) decode() {
	for {
		<-c.wake
		c.mu.Lock()
		q := c.q
		if k := c.ready(); k < len(q) {
			// The rest waits for the other direction's piece; its
			// push wakes the decoder again.
			q = append(c.spare[:0], q[:k]...)
			rest := copy(c.q, c.q[k:])
			clear(c.q[rest:])
			c.q = c.q[:rest]
		} else {
			c.q = c.spare[:0]
		}
		ended := c.ended
		c.mu.Unlock()
		for i := range q {
			p := &q[i]
			if p.stop {
				c.dec.stop(p.err, p.t)
			} else {
				c.dec.add(*p)
			}
			if len(p.data) > 0 {
				c.t.queued.Add(-int64(len(p.data)))
				if cap(p.data) == copyBuf {
					b := p.data[:copyBuf]
					bufPool.Put(&b)
				}
			}
			*p = piece{}
		}
		c.mu.Lock()
		c.spare = q[:0]
		done := ended == 2 && len(c.q) == 0
		c.mu.Unlock()
		if done {
			return
		}
	}
}

func dirIndex(dir fcgi.Direction) int {
	if dir == fcgi.Sent {
		return 0
	}
	return 1
}

// runnerIdle is how long a goroutine of the tap's waits for more work (see
// spawn) before it ends.
const runnerIdle = 5 * time.Second

// spawn runs f on an idle goroutine of the tap's, or on a new one. A web
// server that opens a connection per request (nginx without
// fastcgi_keep_conn) gives the tap three goroutines per request: started
// afresh, each grew its stack again while it forwarded and decoded (a
// seventh of the tap's CPU time under that load); kept, they keep their
// stacks. A goroutine ends after runnerIdle without work, or when the tap
// is closed and has none.
func (t *Tap) spawn(f func()) {
	select {
	case t.idle <- f:
	default:
		go t.runner(f)
	}
}

// runner runs f, then what spawn hands it, until it has waited runnerIdle
// or the tap is closed.
func (t *Tap) runner(f func()) {
	var idle *time.Timer
	for {
		f()
		if idle == nil {
			idle = time.NewTimer(runnerIdle)
			defer idle.Stop()
		} else {
			idle.Reset(runnerIdle)
		}
		select {
		case f = <-t.idle:
		case <-idle.C:
			return
		case <-t.quit:
			return
		}
	}
}
