// Captures: the FastCGI traffic of a pcap or pcapng file (tcpdump,
// Wireshark, dumpcap), its TCP streams reassembled, decoded into Exchanges
// with the capture's own timestamps.

package tap

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/google/gopacket/reassembly"

	"fcgiscope/fcgi"
	"fcgiscope/session"
)

// DefaultPort is the port of the FastCGI application in a capture unless
// CaptureOptions says otherwise: php-fpm's usual TCP port.
const DefaultPort = 9000

// Reading a capture.
const (
	// progressEvery: progress is reported, and the context checked, every
	// this many packets.
	progressEvery = 256
	// idleFlush: a TCP connection silent for this long (in the capture's
	// time) is flushed and forgotten, so that memory stays bounded by the
	// connections in use; checked every flushEvery packets.
	idleFlush  = 2 * time.Minute
	flushEvery = 1 << 14
	// Reassembly's buffers for segments waiting for a missing one (pages
	// of 1900 bytes): per connection, and in all.
	maxPagesPerConn = 1 << 12
	maxPagesTotal   = 1 << 16
)

// CaptureOptions configure ReadCapture.
type CaptureOptions struct {
	// Port is the application's TCP port: segments to it are what the web
	// server sent (default DefaultPort). AllPorts reads every TCP stream
	// instead and keeps those that start like FastCGI: the first record of
	// one side a plausible BEGIN_REQUEST (or GET_VALUES), whose sender is
	// then the web server.
	Port     int
	AllPorts bool
	// CaptureLimit is each exchange's capture limit (0:
	// DefaultCaptureLimit; negative: none).
	CaptureLimit int64
	// Progress, when set, is called on the reading goroutine every few
	// hundred packets and once at the end.
	Progress func(CaptureProgress)
}

// CaptureProgress says how far reading a capture has got.
type CaptureProgress struct {
	Read int64 // bytes of the file read
	Size int64 // the file's size; 0 when unknown
	// Packets read, exchanges emitted so far.
	Packets, Exchanges int64
}

// Fraction returns the part of the file read, from 0 to 1 (0 when the size
// is unknown).
func (p CaptureProgress) Fraction() float64 {
	if p.Size <= 0 {
		return 0
	}
	return min(float64(p.Read)/float64(p.Size), 1)
}

// CaptureStats counts what ReadCapture found.
type CaptureStats struct {
	Packets int64 // packets in the file
	// Ignored counts packets that are not TCP over IP (or fragments, or of
	// a link type not read), and TCP packets of other ports.
	Ignored int64
	// Streams counts the TCP connections with FastCGI traffic.
	Streams int64
	// Exchanges counts the exchanges emitted.
	Exchanges int64
	// Missing counts the bytes of FastCGI streams the capture lacks
	// (segments not captured); Undecoded the bytes that could not be
	// decoded (record boundaries lost, for a missing header or a record
	// header with another version).
	Missing, Undecoded int64
}

// CaptureError says where reading a capture failed.
type CaptureError struct {
	Path   string // the file, when read by ReadCaptureFile
	Packet int64  // packets read whole before the failure
	// Offset is where the damaged packet or block starts when Err wraps
	// ErrCut or ErrCorrupt; otherwise the bytes read before the failure.
	Offset int64
	Err    error
}

func (e *CaptureError) Error() string {
	where := "capture"
	if e.Path != "" {
		where = e.Path
	}
	if errors.Is(e.Err, ErrCut) || errors.Is(e.Err, ErrCorrupt) { // the error says where
		return fmt.Sprintf("session: tap: %s: after packet %d: %v", where, e.Packet, e.Err)
	}
	return fmt.Sprintf("session: tap: %s: after packet %d (byte %d): %v", where, e.Packet, e.Offset, e.Err)
}

func (e *CaptureError) Unwrap() error { return e.Err }

// ReadCaptureFile reads the pcap or pcapng file at path; see ReadCapture.
func ReadCaptureFile(ctx context.Context, path string, opts CaptureOptions, emit func(*session.Exchange)) (CaptureStats, error) {
	f, err := os.Open(path)
	if err != nil {
		return CaptureStats{}, fmt.Errorf("session: tap: %w", err)
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	st, err := ReadCapture(ctx, f, size, opts, emit)
	var ce *CaptureError
	if errors.As(err, &ce) {
		ce.Path = path
	}
	return st, err
}

// ReadCapture reads a pcap or pcapng capture from r (size bytes long, 0 if
// unknown, for the progress), reassembles its TCP streams (segments out of
// order and retransmitted included) and emits an Exchange for every
// FastCGI request on them, with the capture's timestamps, as each
// completes. Link types: Ethernet (loopback included), Linux cooked (SLL
// and SLL2, tcpdump -i any), raw IP, BSD loopback. A damaged or cut file
// gives a *CaptureError saying where (wrapping ErrCut or ErrCorrupt when
// the file's framing says so); what was read before it is emitted first,
// the exchanges still open completed with the reason.
func ReadCapture(ctx context.Context, r io.Reader, size int64, opts CaptureOptions, emit func(*session.Exchange)) (CaptureStats, error) {
	cr := &countingReader{r: newFrameChecker(r)}
	br := bufio.NewReaderSize(cr, 1<<20)
	rd := &captureReader{opts: opts, size: size, counter: cr, buffered: br}
	if rd.opts.Port == 0 {
		rd.opts.Port = DefaultPort
	}
	rd.cfg = decoderConfig{target: "", captureLimit: resolveLimit(opts.CaptureLimit),
		emit: func(x *session.Exchange) {
			rd.stats.Exchanges++
			emit(x)
		},
		undecoded: func(n int64) { rd.stats.Undecoded += n }}
	src, err := openPackets(br)
	if err != nil {
		return rd.stats, &CaptureError{Err: err}
	}
	pool := reassembly.NewStreamPool(rd)
	rd.asm = reassembly.NewAssembler(pool)
	rd.asm.MaxBufferedPagesPerConnection = maxPagesPerConn
	rd.asm.MaxBufferedPagesTotal = maxPagesTotal
	readErr := rd.run(ctx, src)
	var fe *frameError
	if errors.As(readErr, &fe) {
		rd.damaged = fe.kind
	}
	rd.asm.FlushAll()
	rd.progress()
	if readErr != nil {
		off := rd.offset()
		if fe != nil {
			off = fe.offset
		}
		return rd.stats, &CaptureError{Packet: rd.stats.Packets, Offset: off, Err: readErr}
	}
	return rd.stats, nil
}

// countingReader counts the bytes read from r.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// packetSource is a pcap or pcapng reader.
type packetSource interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	// linkType returns the link type of a packet (LINKTYPE_*).
	linkType(ci gopacket.CaptureInfo) uint32
}

// pcapSource reads a pcap file, whose packets all have its link type.
type pcapSource struct {
	*pcapgo.Reader
	link uint32
}

// ngSource reads a pcapng file; each packet carries its interface's link
// type.
type ngSource struct{ *pcapgo.NgReader }

// Capture file magic numbers.
const (
	magicPcapNG    = 0x0a0d0d0a
	magicMicros    = 0xa1b2c3d4
	magicNanos     = 0xa1b23c4d
	magicMicrosRev = 0xd4c3b2a1
	magicNanosRev  = 0x4d3cb2a1
)

// openPackets recognizes the file by its first four bytes.
func openPackets(br *bufio.Reader) (packetSource, error) {
	head, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("not a pcap or pcapng file: %d bytes", len(head))
	}
	switch binary.BigEndian.Uint32(head) {
	case magicPcapNG:
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			return nil, fmt.Errorf("pcapng: %w", err)
		}
		return ngSource{ng}, nil
	case magicMicros, magicNanos, magicMicrosRev, magicNanosRev:
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("pcap: %w", err)
		}
		return &pcapSource{Reader: pr, link: uint32(pr.LinkType())}, nil
	}
	return nil, fmt.Errorf("not a pcap or pcapng file (it starts with % x)", head)
}

// captureReader reads one capture: it is the reassembly's stream factory.
type captureReader struct {
	opts     CaptureOptions
	size     int64
	counter  *countingReader
	buffered *bufio.Reader
	cfg      decoderConfig
	asm      *reassembly.Assembler
	stats    CaptureStats
	last     time.Time // the newest packet's time
	damaged  error     // ErrCut or ErrCorrupt: the file ends early

	ip4 layers.IPv4
	ip6 layers.IPv6
	tcp layers.TCP
}

// offset returns the bytes of the file consumed.
func (rd *captureReader) offset() int64 { return rd.counter.n - int64(rd.buffered.Buffered()) }

func (rd *captureReader) progress() {
	if rd.opts.Progress != nil {
		rd.opts.Progress(CaptureProgress{Read: rd.offset(), Size: rd.size, Packets: rd.stats.Packets, Exchanges: rd.stats.Exchanges})
	}
}

// run reads every packet.
func (rd *captureReader) run(ctx context.Context, src packetSource) error {
	for {
		data, ci, err := src.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rd.stats.Packets++
		if rd.stats.Packets%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			rd.progress()
		}
		if rd.stats.Packets%flushEvery == 0 && !rd.last.IsZero() {
			rd.asm.FlushCloseOlderThan(rd.last.Add(-idleFlush))
		}
		link := src.linkType(ci)
		if !rd.packet(data, ci, link) {
			rd.stats.Ignored++
		}
	}
}

func (s *pcapSource) linkType(gopacket.CaptureInfo) uint32 { return s.link }

func (s ngSource) linkType(ci gopacket.CaptureInfo) uint32 {
	if len(ci.AncillaryData) > 0 {
		if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
			return uint32(lt)
		}
	}
	return uint32(s.LinkType())
}

// Link types read (LINKTYPE_*). gopacket 1.1.19 keeps a link type in a
// byte, so LINUX_SLL2 (276) arrives as 276 & 0xff.
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw      = 101
	linkLoop     = 108
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

// EtherTypes.
const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherVLAN = 0x8100
	etherQinQ = 0x88a8
)

// ipPayload returns the IP packet in a frame of link type link, and its IP
// version (0 when the frame carries no IP).
func ipPayload(data []byte, link uint32) ([]byte, int) {
	ether := func(typ uint16, rest []byte) ([]byte, int) {
		switch typ {
		case etherIPv4:
			return rest, 4
		case etherIPv6:
			return rest, 6
		}
		return nil, 0
	}
	switch link {
	case linkEthernet:
		if len(data) < 14 {
			return nil, 0
		}
		typ, rest := binary.BigEndian.Uint16(data[12:14]), data[14:]
		for (typ == etherVLAN || typ == etherQinQ) && len(rest) >= 4 {
			typ, rest = binary.BigEndian.Uint16(rest[2:4]), rest[4:]
		}
		return ether(typ, rest)
	case linkSLL:
		if len(data) < 16 {
			return nil, 0
		}
		return ether(binary.BigEndian.Uint16(data[14:16]), data[16:])
	case linkSLL2, linkSLL2 & 0xff:
		if len(data) < 20 {
			return nil, 0
		}
		return ether(binary.BigEndian.Uint16(data[0:2]), data[20:])
	case linkNull, linkLoop:
		if len(data) < 4 {
			return nil, 0
		}
		return ipVersion(data[4:])
	case linkRaw, linkIPv4, linkIPv6:
		return ipVersion(data)
	}
	return nil, 0
}

// ipVersion returns b with the IP version its first byte says.
func ipVersion(b []byte) ([]byte, int) {
	if len(b) == 0 {
		return nil, 0
	}
	switch b[0] >> 4 {
	case 4:
		return b, 4
	case 6:
		return b, 6
	}
	return nil, 0
}

// packet hands one captured frame's TCP segment to the reassembly; false
// when it is not one that is read.
func (rd *captureReader) packet(data []byte, ci gopacket.CaptureInfo, link uint32) bool {
	ip, v := ipPayload(data, link)
	var flow gopacket.Flow
	var payload []byte
	switch v {
	case 4:
		if rd.ip4.DecodeFromBytes(ip, gopacket.NilDecodeFeedback) != nil || rd.ip4.Protocol != layers.IPProtocolTCP ||
			rd.ip4.Flags&layers.IPv4MoreFragments != 0 || rd.ip4.FragOffset != 0 {
			return false
		}
		flow, payload = rd.ip4.NetworkFlow(), rd.ip4.Payload
	case 6:
		if rd.ip6.DecodeFromBytes(ip, gopacket.NilDecodeFeedback) != nil || rd.ip6.NextHeader != layers.IPProtocolTCP {
			return false
		}
		flow, payload = rd.ip6.NetworkFlow(), rd.ip6.Payload
	default:
		return false
	}
	if rd.tcp.DecodeFromBytes(payload, gopacket.NilDecodeFeedback) != nil {
		return false
	}
	port := layers.TCPPort(rd.opts.Port)
	if !rd.opts.AllPorts && rd.tcp.SrcPort != port && rd.tcp.DstPort != port {
		return false
	}
	if ci.Timestamp.After(rd.last) {
		rd.last = ci.Timestamp
	}
	ac := captureContext(ci)
	rd.asm.AssembleWithContext(flow, &rd.tcp, &ac)
	return true
}

// captureContext is a packet's reassembly context.
type captureContext gopacket.CaptureInfo

func (c *captureContext) GetCaptureInfo() gopacket.CaptureInfo { return gopacket.CaptureInfo(*c) }

// New makes the stream of a new TCP connection (reassembly.StreamFactory).
func (rd *captureReader) New(netFlow, _ gopacket.Flow, tcp *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	s := &captureStream{rd: rd}
	src, dst := netFlow.Endpoints()
	// The first packet seen goes client to server in the reassembly's
	// terms; which side is the web server is the port's to say, or, for
	// all ports, the first record's.
	port := layers.TCPPort(rd.opts.Port)
	switch {
	case rd.opts.AllPorts:
		s.known = false
	case tcp.DstPort == port:
		s.known, s.c2sSent = true, true
	default:
		s.known, s.c2sSent = true, false
	}
	s.client = net.JoinHostPort(src.String(), strconv.Itoa(int(tcp.SrcPort)))
	s.server = net.JoinHostPort(dst.String(), strconv.Itoa(int(tcp.DstPort)))
	if s.known {
		s.start()
	}
	return s
}

// captureStream is one TCP connection of a capture.
type captureStream struct {
	rd             *captureReader
	client, server string // host:port of the first packet's sender and receiver
	known          bool   // which side is the web server is known
	c2sSent        bool   // the reassembly's client-to-server direction is the web server's
	notFastCGI     bool
	head           [2][]byte // all ports: the first bytes of each side, until known
	headT          [2]time.Time
	dec            *decoder
	ended          [2]bool
}

// start begins decoding once the sides are known.
func (s *captureStream) start() {
	info := fcgi.ConnInfo{Network: "tcp", Addr: s.server, LocalAddr: s.client} // application, web server
	if !s.c2sSent {
		info.Addr, info.LocalAddr = s.client, s.server
	}
	cfg := s.rd.cfg
	cfg.target = info.Addr
	s.dec = newDecoder(&cfg, info)
	s.rd.stats.Streams++
}

// dir returns the FastCGI direction of a reassembly direction.
func (s *captureStream) dir(d reassembly.TCPFlowDirection) fcgi.Direction {
	if (d == reassembly.TCPDirClientToServer) == s.c2sSent {
		return fcgi.Sent
	}
	return fcgi.Received
}

// Accept takes every segment, starting the stream where the capture starts
// when its handshake was not captured (reassembly.Stream).
func (s *captureStream) Accept(_ *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, _ reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	*start = true
	return !s.notFastCGI
}

// ReassembledSG decodes the next bytes of one side (reassembly.Stream).
func (s *captureStream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	if s.notFastCGI {
		return
	}
	n, _ := sg.Lengths()
	d, _, end, skip := sg.Info()
	var t time.Time
	if n > 0 {
		t = sg.CaptureInfo(n - 1).Timestamp
	} else if ac != nil {
		t = ac.GetCaptureInfo().Timestamp
	}
	data := sg.Fetch(n)
	if skip > 0 {
		s.rd.stats.Missing += int64(skip)
	}
	if !s.known {
		s.detect(d, data, max(skip, 0), end, t)
		return
	}
	s.feed(s.dir(d), data, max(skip, 0), end, t)
}

// feed hands bytes of direction dir to the decoder: skip bytes missing,
// then data.
func (s *captureStream) feed(dir fcgi.Direction, data []byte, skip int, end bool, t time.Time) {
	if skip > 0 {
		s.dec.add(piece{dir: dir, t: t, skip: skip})
	}
	i := dirIndex(dir)
	if s.ended[i] {
		return
	}
	s.ended[i] = end
	s.dec.add(piece{dir: dir, t: t, data: data, end: end})
}

// plausibleBegin reports whether b starts with a record a web server opens
// a FastCGI connection with: BEGIN_REQUEST (version 1, a request id, an
// 8-byte body with a known role and flags) or GET_VALUES.
func plausibleBegin(b []byte) bool {
	if len(b) < fcgi.HeaderLen {
		return false
	}
	h, _ := fcgi.ParseHeader(b)
	if h.Version != fcgi.Version1 || h.Reserved != 0 {
		return false
	}
	switch h.Type {
	case fcgi.TypeBeginRequest:
		if h.RequestID == 0 || h.ContentLength != 8 || len(b) < 2*fcgi.HeaderLen {
			return false
		}
		role := fcgi.Role(binary.BigEndian.Uint16(b[8:10]))
		return role >= fcgi.RoleResponder && role <= fcgi.RoleFilter && b[10] <= 1
	case fcgi.TypeGetValues:
		return h.RequestID == 0
	}
	return false
}

// detect decides, for all ports, whether the stream is FastCGI and which
// side is the web server, from the first 16 bytes of the side that sends
// first; until then the bytes are kept.
func (s *captureStream) detect(d reassembly.TCPFlowDirection, data []byte, skip int, end bool, t time.Time) {
	i := 0
	if d == reassembly.TCPDirServerToClient {
		i = 1
	}
	if skip > 0 || len(s.head[i]) == 0 && len(data) == 0 {
		if skip > 0 {
			s.notFastCGI = true // the start is missing: nothing to tell it by
		}
		return
	}
	if len(s.head[i]) == 0 {
		s.headT[i] = t
	}
	s.head[i] = append(s.head[i], data...)
	if len(s.head[i]) < 2*fcgi.HeaderLen && !end {
		return
	}
	if !plausibleBegin(s.head[i]) {
		s.notFastCGI = true
		s.head = [2][]byte{}
		return
	}
	s.known, s.c2sSent = true, i == 0
	s.start()
	// The other side has sent nothing yet, or too little to matter.
	for j := range 2 {
		k := (i + j) % 2
		if len(s.head[k]) > 0 {
			dir := fcgi.Sent
			if k != i {
				dir = fcgi.Received
			}
			s.feed(dir, s.head[k], 0, end && k == i, s.headT[k])
		}
	}
	s.head = [2][]byte{}
}

// ReassemblyComplete ends the stream: the exchanges still open complete
// (reassembly.Stream).
func (s *captureStream) ReassemblyComplete(reassembly.AssemblerContext) bool {
	if s.dec != nil && !(s.ended[0] && s.ended[1]) {
		s.ended = [2]bool{true, true}
		reason := errors.New("the capture ends before END_REQUEST: the connection was still open")
		switch s.rd.damaged {
		case ErrCut:
			reason = errors.New("the capture file is cut short before END_REQUEST")
		case ErrCorrupt:
			reason = errors.New("the capture file is corrupt after this point, before END_REQUEST")
		}
		s.dec.cut(reason, s.rd.last)
	}
	return true
}

// ErrCut and ErrCorrupt are what a damaged capture file's CaptureError
// wraps: the file ends inside a packet or block (a copy or a capture
// stopped before it was written whole), or its framing does not hold
// together (a packet record or block whose lengths are impossible, or
// bytes after the last one that are not one).
var (
	ErrCut     = errors.New("the file is cut short")
	ErrCorrupt = errors.New("the file is corrupt")
)

// frameError says which frame (the file header, a packet record or a
// block) of a capture file is damaged.
type frameError struct {
	kind   error // ErrCut or ErrCorrupt
	offset int64 // where the frame starts in the file
	what   string
}

func (e *frameError) Error() string { return fmt.Sprintf("%v: %s", e.kind, e.what) }
func (e *frameError) Unwrap() error { return e.kind }

// Capture framing.
const (
	pcapFileHeaderLen = 24
	pcapRecordLen     = 16 // a packet record's header
	ngBlockHeaderLen  = 8  // type and total length
	ngSHBHeaderLen    = 12 // a section header's, with its byte-order magic
	ngMinBlockLen     = 12 // type, length, trailing length
	ngSectionHeader   = 0x0a0d0d0a
	ngByteOrderMagic  = 0x1a2b3c4d
	// maxFrameLen: no capture tool writes a packet or block this long;
	// a length above it is garbage, not a packet.
	maxFrameLen = 1 << 28
)

// frameChecker passes a capture file's bytes through while following its
// framing (pcap: the file header, then a header per packet giving its
// length; pcapng: blocks that carry their total length at both ends), so
// that a file that ends inside a frame, or one whose lengths do not hold
// together, gives a *frameError at that frame instead of the quiet end
// that pcapgo makes of it (it reads a cut block as io.EOF, and skips
// garbage by the length it claims). The bytes of a damaged frame are held
// back: the reader gets every whole frame before it, then the error.
type frameChecker struct {
	r      io.Reader
	off    int64 // bytes of the file looked at
	format int   // 0 until the magic is read; then fmtPcap, fmtNg or fmtOther
	big    bool  // the byte order of lengths
	snap   uint32
	nanos  bool // pcap: nanosecond timestamps
	// The current frame: where it starts, its header so far, and the bytes
	// left once the header is read (-1 before).
	start  int64
	hdr    [pcapFileHeaderLen]byte
	nh     int
	left   int64
	length int64
	tail   [4]byte // pcapng: the block's trailing length
	err    error
}

const (
	fmtPcap = 1 + iota
	fmtNg
	fmtOther
)

func newFrameChecker(r io.Reader) *frameChecker { return &frameChecker{r: r, left: -1} }

func (c *frameChecker) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	keep, bad := c.scan(p[:n])
	if bad != nil {
		c.err = bad
		return keep, bad
	}
	if errors.Is(err, io.EOF) && c.format != fmtOther && (c.nh > 0 || c.left > 0 || c.format == 0 && c.off > 0) {
		c.err = c.cutError()
		return n, c.err
	}
	return n, err
}

func (c *frameChecker) u32(b []byte) uint32 {
	if c.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// headerLen returns how many header bytes the current frame needs before
// its length is known.
func (c *frameChecker) headerLen() int {
	switch {
	case c.format == fmtPcap && c.start == 0:
		return pcapFileHeaderLen
	case c.format == fmtPcap:
		return pcapRecordLen
	case c.nh >= 4 && binary.BigEndian.Uint32(c.hdr[:4]) == ngSectionHeader:
		return ngSHBHeaderLen
	case c.format == fmtNg:
		return ngBlockHeaderLen
	}
	return 4 // the magic
}

// scan follows the framing through b, the file's bytes from c.off; on
// damage it returns how many of them come before the damaged frame.
func (c *frameChecker) scan(b []byte) (int, error) {
	base := c.off
	i := 0
	for i < len(b) && c.format != fmtOther {
		if c.left < 0 { // the header
			if c.nh == 0 {
				c.start = base + int64(i)
			}
			k := copy(c.hdr[c.nh:c.headerLen()], b[i:])
			c.nh += k
			i += k
			if c.nh < c.headerLen() {
				continue
			}
			if err := c.header(); err != nil {
				return c.keep(base, i), err
			}
			if c.format == fmtOther {
				break
			}
			continue
		}
		// The body: skipped, but for a block's last four bytes.
		if c.format == fmtNg && c.left <= 4 {
			k := copy(c.tail[4-c.left:], b[i:])
			c.left -= int64(k)
			i += k
		} else {
			stop := c.left
			if c.format == fmtNg {
				stop -= 4
			}
			k := int(min(stop, int64(len(b)-i)))
			c.left -= int64(k)
			i += k
		}
		if c.left == 0 {
			if c.format == fmtNg {
				if end := int64(c.u32(c.tail[:])); end != c.length {
					return c.keep(base, i), &frameError{kind: ErrCorrupt, offset: c.start,
						what: fmt.Sprintf("the block at byte %d gives its length as %d at its start and %d at its end", c.start, c.length, end)}
				}
			}
			c.nh, c.left = 0, -1
		}
	}
	c.off = base + int64(len(b))
	return len(b), nil
}

// keep returns how many bytes of the chunk at base come before the
// current frame.
func (c *frameChecker) keep(base int64, i int) int {
	c.off = base + int64(i)
	return int(max(c.start-base, 0))
}

// header reads the current frame's complete header.
func (c *frameChecker) header() error {
	h := c.hdr[:c.nh]
	if c.format == 0 {
		switch m := binary.BigEndian.Uint32(h); m {
		case magicPcapNG:
			c.format = fmtNg
			return nil // the rest of the section header comes
		case magicMicros, magicNanos:
			c.format, c.big, c.nanos = fmtPcap, true, m == magicNanos
		case magicMicrosRev, magicNanosRev:
			c.format, c.big, c.nanos = fmtPcap, false, m == magicNanosRev
		default:
			c.format = fmtOther // openPackets says what it is not
			return nil
		}
		return nil
	}
	corrupt := func(f string, a ...any) error {
		return &frameError{kind: ErrCorrupt, offset: c.start, what: fmt.Sprintf(f, a...)}
	}
	switch {
	case c.format == fmtPcap && c.start == 0:
		c.snap = c.u32(h[16:20])
		c.length, c.left = pcapFileHeaderLen, 0
	case c.format == fmtPcap:
		frac, incl, orig := c.u32(h[4:8]), c.u32(h[8:12]), c.u32(h[12:16])
		second := uint32(1e6)
		if c.nanos {
			second = 1e9
		}
		switch {
		case orig == 0:
			return corrupt("the packet record at byte %d is of a 0-byte packet", c.start)
		case frac >= second:
			return corrupt("the packet record at byte %d has %d in its timestamp's fraction of a second (want less than %d)", c.start, frac, second)
		case incl > maxFrameLen || c.snap > 0 && incl > c.snap:
			return corrupt("the packet record at byte %d claims %d captured bytes, more than the file's snapshot length %d", c.start, incl, c.snap)
		case incl > orig:
			return corrupt("the packet record at byte %d claims %d captured bytes of a %d-byte packet", c.start, incl, orig)
		}
		c.length = pcapRecordLen + int64(incl)
		c.left = int64(incl)
	default: // pcapng
		if binary.BigEndian.Uint32(h[:4]) == ngSectionHeader {
			switch uint32(ngByteOrderMagic) {
			case binary.BigEndian.Uint32(h[8:12]):
				c.big = true
			case binary.LittleEndian.Uint32(h[8:12]):
				c.big = false
			default:
				return corrupt("the section header at byte %d has no byte-order magic (% x)", c.start, h[8:12])
			}
		}
		l := c.u32(h[4:8])
		if l < ngMinBlockLen || l%4 != 0 || l > maxFrameLen {
			return corrupt("the block at byte %d gives %d as its length (a block is a multiple of 4 bytes, at least 12): not a block", c.start, l)
		}
		c.length = int64(l)
		c.left = int64(l) - int64(c.nh)
		if c.left < 4 {
			return corrupt("the section header at byte %d gives %d as its length, too short for one", c.start, l)
		}
	}
	if c.left == 0 {
		c.nh, c.left = 0, -1
	}
	return nil
}

// cutError says where the file ends inside a frame.
func (c *frameChecker) cutError() error {
	e := &frameError{kind: ErrCut, offset: c.start}
	switch {
	case c.format == 0 || c.format == fmtPcap && c.start == 0:
		e.what = fmt.Sprintf("it ends at byte %d, inside its file header", c.off)
	case c.left < 0:
		e.what = fmt.Sprintf("it ends at byte %d, %d bytes into the header of the %s at byte %d", c.off, c.nh, c.frameName(), c.start)
	default:
		e.what = fmt.Sprintf("it ends at byte %d, %d bytes into the %d-byte %s at byte %d", c.off, c.off-c.start, c.length, c.frameName(), c.start)
	}
	return e
}

func (c *frameChecker) frameName() string {
	if c.format == fmtPcap {
		return "packet record"
	}
	return "block"
}
