// The tap: a listener standing where the application's socket was, which
// forwards every connection to the application and publishes what it saw.

package tap

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// Defaults of Options.
const (
	// DefaultCaptureLimit is each exchange's capture limit: past it only
	// record headers and sizes are kept (session.Exchange.CaptureLimit).
	DefaultCaptureLimit = 16 << 20
	// DefaultMemoryLimit bounds the capture held by the open exchanges of
	// all connections together.
	DefaultMemoryLimit = 256 << 20
	// DefaultQueueLimit bounds the bytes copied for decoding and not
	// decoded yet, all connections together.
	DefaultQueueLimit = 16 << 20
	// DefaultDialTimeout bounds the connection to the application.
	DefaultDialTimeout = 5 * time.Second
)

// subBuffer is the channel capacity of a subscription.
const subBuffer = 256

// Options configure a Tap.
type Options struct {
	// Listen is where the web server connects, in the forms of
	// fcgi.ParseAddr: unix:/run/fcgiscope.sock, /path.sock, host:port,
	// tcp://host:port. Upstream is the application (php-fpm's socket).
	Listen, Upstream string
	// Socket sets the owner, group and mode of a unix listen socket, as
	// php-fpm's listen.owner, listen.group and listen.mode do.
	Socket SocketOptions
	// DialTimeout bounds each connection to the upstream (default
	// DefaultDialTimeout).
	DialTimeout time.Duration
	// CaptureLimit is each exchange's capture limit (0:
	// DefaultCaptureLimit; negative: none). MemoryLimit bounds the capture
	// held by the open exchanges together (0: DefaultMemoryLimit;
	// negative: none), QueueLimit the bytes copied for decoding and not
	// yet decoded (0: DefaultQueueLimit). Past them record content is not
	// captured (counted in Stats), traffic is never held up.
	CaptureLimit, MemoryLimit, QueueLimit int64
	// Recorder, when set, is given every completed exchange
	// (session.Recorder.Record: queued, or dropped and counted). The
	// caller creates it and closes it after the tap.
	Recorder *session.Recorder
	// OnNotice, when set, is told what happens to connections that the
	// exchanges do not show: an upstream that cannot be reached, decoding
	// that fell behind. It is called on the tap's goroutines and must not
	// block.
	OnNotice func(Notice)
}

// NoticeKind names a kind of Notice.
type NoticeKind string

// Kinds of Notice.
const (
	// NoticeUpstreamDown: a connection of the web server could not be
	// forwarded, the upstream refused or is missing; the web server's
	// connection was closed as the application's would be (nginx then
	// answers 502).
	NoticeUpstreamDown NoticeKind = "upstream-down"
	// NoticeBehind: decoding fell behind a connection's traffic; record
	// content went by uncaptured (told once per connection).
	NoticeBehind NoticeKind = "behind"
	// NoticeGaveUp: decoding fell so far behind a connection that it was
	// given up; the rest of the connection is forwarded undecoded.
	NoticeGaveUp NoticeKind = "gave-up"
	// NoticeAccept: accepting a connection failed (the tap retries).
	NoticeAccept NoticeKind = "accept"
)

// Notice is something that happened to a connection of the tap.
type Notice struct {
	Kind NoticeKind
	// Conn numbers the connection, from 1 in accept order (0: none).
	Conn uint64
	Time time.Time
	Err  error
}

func (n Notice) Error() string { return n.Err.Error() }

// Stats counts what a tap did. The loss counters say what it could not
// show: record content that went by uncaptured, bytes not decoded,
// exchanges a subscriber was too slow for.
type Stats struct {
	Conns          uint64 // connections accepted
	Open           int64  // connections open now
	UpstreamFailed uint64 // connections closed because the upstream could not be reached
	Exchanges      uint64 // exchanges completed
	// FromWebServer and FromApp count the bytes forwarded each way.
	FromWebServer, FromApp int64
	// Behind counts record content bytes not captured because decoding
	// fell behind the traffic (the queue was at QueueLimit); OverMemory
	// those not captured because the open exchanges held MemoryLimit.
	// Each exchange also says what it lost (Skipped records, a warning).
	Behind, OverMemory int64
	// Undecoded counts bytes forwarded that could not be decoded at all:
	// after a record header with another version, or on a connection
	// whose decoding was given up.
	Undecoded int64
	// Unforwarded counts bytes the web server sent after the application
	// had closed a connection whose requests were all answered, which the
	// tap passed on as the web server's close at once (see doc.go): decoded,
	// not forwarded, as the application would have discarded them.
	Unforwarded int64
	// Undelivered counts exchanges not delivered to a subscriber that had
	// fallen behind by its channel's capacity.
	Undelivered uint64
	// Queued and Held are the bytes waiting to be decoded and the capture
	// of the open exchanges, now.
	Queued, Held int64
}

// Tap forwards the connections of a web server to a FastCGI application and
// decodes both directions into Exchanges. Listen creates it; Serve runs it;
// Shutdown or Close stops it. It is safe for concurrent use.
type Tap struct {
	opts   Options
	l      net.Listener
	addr   string // the listen address as ParseAddr takes it
	socket string // the unix socket path to remove on close ("" for TCP)
	upNet  string
	upAddr string
	cfg    decoderConfig
	budget budget

	queued atomic.Int64
	connNo atomic.Uint64
	open   atomic.Int64
	stats  struct {
		upFailed, exchanges, undelivered atomic.Uint64
		fromWS, fromApp                  atomic.Int64
		behind, undecoded, unforwarded   atomic.Int64
	}

	mu     sync.Mutex
	subs   map[chan *session.Exchange]struct{}
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup // connections
	served chan struct{}  // closed when Serve returns
	// idle hands work to the tap's idle goroutines (spawn); quit, closed
	// once the tap is stopped and its connections are over, ends them.
	idle     chan func()
	quit     chan struct{}
	quitOnce sync.Once
}

// Listen checks the upstream (it must accept a connection: a clear error
// says whether it is missing or refuses) and listens on opts.Listen: a
// unix socket gets opts.Socket's owner, group and mode before any web
// server can connect; an existing path is an error that says whether a live
// process listens on it or it is a stale socket. Serve then forwards.
func Listen(ctx context.Context, opts Options) (*Tap, error) {
	upNet, upAddr, err := fcgi.ParseAddr(opts.Upstream)
	if err != nil {
		return nil, fmt.Errorf("session: tap: upstream: %w", err)
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	t := &Tap{opts: opts, upNet: upNet, upAddr: upAddr,
		subs: make(map[chan *session.Exchange]struct{}), conns: make(map[*conn]struct{}), served: make(chan struct{}),
		idle: make(chan func()), quit: make(chan struct{})}
	if err := t.checkUpstream(ctx); err != nil {
		return nil, err
	}
	if err := t.listen(); err != nil {
		return nil, err
	}
	t.budget.limit = opts.MemoryLimit
	if opts.MemoryLimit == 0 {
		t.budget.limit = DefaultMemoryLimit
	}
	t.cfg = decoderConfig{target: opts.Upstream, captureLimit: resolveLimit(opts.CaptureLimit), emit: t.deliver,
		undecoded: func(n int64) { t.stats.undecoded.Add(n) }}
	if t.budget.limit > 0 {
		t.cfg.budget = &t.budget
	}
	return t, nil
}

// resolveLimit returns the capture limit an Exchange applies for limit (0:
// the tap's default), <= 0 meaning none.
func resolveLimit(limit int64) int64 {
	switch {
	case limit == 0:
		return DefaultCaptureLimit
	case limit < 0:
		return -1
	}
	return limit
}

// queueLimit returns the queue limit in force.
func (t *Tap) queueLimit() int64 {
	if t.opts.QueueLimit > 0 {
		return t.opts.QueueLimit
	}
	return DefaultQueueLimit
}

// Addr returns the address the tap listens on, in the form fcgi.ParseAddr
// takes (unix:/path or host:port): what the web server's fastcgi_pass names.
func (t *Tap) Addr() string { return t.addr }

// Upstream returns the application's address as given.
func (t *Tap) Upstream() string { return t.opts.Upstream }

// Serve accepts connections and forwards them until Shutdown or Close; it
// then returns nil. Call it once.
func (t *Tap) Serve() error {
	defer close(t.served)
	var delay time.Duration
	for {
		nc, err := t.l.Accept()
		if err != nil {
			if t.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && !errors.Is(err, net.ErrClosed) {
				// Out of descriptors and the like: wait and retry.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				t.notify(Notice{Kind: NoticeAccept, Err: fmt.Errorf("session: tap: accepting on %s: %w (retrying in %v)", t.addr, err, delay)})
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("session: tap: accepting on %s: %w", t.addr, err)
		}
		delay = 0
		t.accept(nc)
	}
}

func (t *Tap) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// Shutdown stops accepting, waits until the connections in flight end or ctx
// is done, then closes those left. It removes the unix socket. It returns
// ctx's error when connections had to be cut.
func (t *Tap) Shutdown(ctx context.Context) error {
	t.stopListening()
	done := make(chan struct{})
	go func() {
		t.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		t.endRunners()
		return nil
	case <-ctx.Done():
	}
	t.closeConns()
	<-done
	t.endRunners()
	return ctx.Err()
}

// Close stops accepting and closes every connection at once (the web
// servers see their connections to the application cut), then waits until
// their exchanges are delivered. It removes the unix socket.
func (t *Tap) Close() error {
	t.stopListening()
	t.closeConns()
	t.wg.Wait()
	t.endRunners()
	return nil
}

// endRunners ends the idle goroutines (spawn) once the connections are over.
func (t *Tap) endRunners() {
	t.quitOnce.Do(func() { close(t.quit) })
}

func (t *Tap) stopListening() {
	t.mu.Lock()
	already := t.closed
	t.closed = true
	t.mu.Unlock()
	if already {
		return
	}
	t.l.Close()
	if t.socket != "" {
		os.Remove(t.socket)
	}
}

func (t *Tap) closeConns() {
	t.mu.Lock()
	for c := range t.conns {
		c.abort()
	}
	t.mu.Unlock()
}

// Subscribe returns a channel receiving every exchange the tap completes,
// in the order each connection completes them, and a function that ends the
// subscription (and closes the channel). A subscriber that falls behind by
// the channel's capacity misses exchanges (Stats.Undelivered counts them);
// the traffic is never held up.
func (t *Tap) Subscribe() (<-chan *session.Exchange, func()) {
	ch := make(chan *session.Exchange, subBuffer)
	t.mu.Lock()
	t.subs[ch] = struct{}{}
	t.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			t.mu.Lock()
			delete(t.subs, ch)
			t.mu.Unlock()
			close(ch)
		})
	}
}

// deliver records x and publishes it.
func (t *Tap) deliver(x *session.Exchange) {
	t.stats.exchanges.Add(1)
	if t.opts.Recorder != nil {
		t.opts.Recorder.Record(x)
	}
	t.mu.Lock()
	for ch := range t.subs {
		select {
		case ch <- x:
		default:
			t.stats.undelivered.Add(1)
		}
	}
	t.mu.Unlock()
}

func (t *Tap) notify(n Notice) {
	if n.Time.IsZero() {
		n.Time = time.Now()
	}
	if t.opts.OnNotice != nil {
		t.opts.OnNotice(n)
	}
}

// Stats returns the counts so far.
func (t *Tap) Stats() Stats {
	return Stats{
		Conns: t.connNo.Load(), Open: t.open.Load(),
		UpstreamFailed: t.stats.upFailed.Load(), Exchanges: t.stats.exchanges.Load(),
		FromWebServer: t.stats.fromWS.Load(), FromApp: t.stats.fromApp.Load(),
		Behind: t.stats.behind.Load(), OverMemory: t.budget.lost.Load(), Undecoded: t.stats.undecoded.Load(), Unforwarded: t.stats.unforwarded.Load(),
		Undelivered: t.stats.undelivered.Load(), Queued: t.queued.Load(), Held: t.budget.used.Load(),
	}
}
