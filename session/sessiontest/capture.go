// Capture files for the tests and benchmarks of capture reading: TCP
// connections written segment by segment into a pcap or pcapng file, in
// order or not.

package sessiontest

import (
	"fmt"
	"io"
	"net"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
)

// CaptureWriter writes Ethernet frames of IPv4 TCP segments (as a capture
// of the loopback interface holds them) into a pcapng file, or a pcap file
// with NewPcapWriter. Each packet is stamped Step after the one before.
type CaptureWriter struct {
	write func(gopacket.CaptureInfo, []byte) error
	flush func() error
	t     time.Time
	// Step is the time between two packets (default 10 µs).
	Step time.Duration
	buf  gopacket.SerializeBuffer
}

// NewCaptureWriter returns a writer of a pcapng file into w, its first
// packet stamped start.
func NewCaptureWriter(w io.Writer, start time.Time) (*CaptureWriter, error) {
	ng, err := pcapgo.NewNgWriter(w, layers.LinkTypeEthernet)
	if err != nil {
		return nil, fmt.Errorf("sessiontest: %w", err)
	}
	return &CaptureWriter{write: ng.WritePacket, flush: ng.Flush, t: start, Step: 10 * time.Microsecond,
		buf: gopacket.NewSerializeBuffer()}, nil
}

// NewPcapWriter returns a writer of a pcap file (microsecond timestamps)
// into w.
func NewPcapWriter(w io.Writer, start time.Time) (*CaptureWriter, error) {
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(65535+128, layers.LinkTypeEthernet); err != nil {
		return nil, fmt.Errorf("sessiontest: %w", err)
	}
	return &CaptureWriter{write: pw.WritePacket, flush: func() error { return nil }, t: start, Step: 10 * time.Microsecond,
		buf: gopacket.NewSerializeBuffer()}, nil
}

// Flush writes what is buffered.
func (cw *CaptureWriter) Flush() error { return cw.flush() }

// Time returns the time of the next packet.
func (cw *CaptureWriter) Time() time.Time { return cw.t }

// CaptureConn is one TCP connection of a CaptureWriter, between a client
// (the web server) and a server (the application) on 127.0.0.1.
type CaptureConn struct {
	cw                     *CaptureWriter
	ClientPort, ServerPort uint16
	// isn of each side: [0] client, [1] server.
	isn  [2]uint32
	sent [2]int // stream bytes written in order by each side
}

// Conn starts a connection from clientPort to serverPort with its
// three-way handshake.
func (cw *CaptureWriter) Conn(clientPort, serverPort uint16) (*CaptureConn, error) {
	c := &CaptureConn{cw: cw, ClientPort: clientPort, ServerPort: serverPort, isn: [2]uint32{1000, 500000}}
	if err := c.packet(true, func(t *layers.TCP) { t.SYN, t.Seq = true, c.isn[0] }, nil); err != nil {
		return nil, err
	}
	if err := c.packet(false, func(t *layers.TCP) {
		t.SYN, t.ACK, t.Seq, t.Ack = true, true, c.isn[1], c.isn[0]+1
	}, nil); err != nil {
		return nil, err
	}
	return c, c.packet(true, func(t *layers.TCP) { t.ACK, t.Seq, t.Ack = true, c.isn[0]+1, c.isn[1]+1 }, nil)
}

func side(fromClient bool) int {
	if fromClient {
		return 0
	}
	return 1
}

// Segment writes one segment of payload at byte offset off of its side's
// stream, without changing what Write continues from: segments may so be
// written out of order, or again (a retransmission).
func (c *CaptureConn) Segment(fromClient bool, off int, payload []byte) error {
	s := side(fromClient)
	return c.packet(fromClient, func(t *layers.TCP) {
		t.ACK, t.PSH = true, true
		t.Seq = c.isn[s] + 1 + uint32(off)
		t.Ack = c.isn[1-s] + 1 + uint32(c.sent[1-s])
	}, payload)
}

// Write writes b as the next bytes of its side's stream, in segments of at
// most mss bytes.
func (c *CaptureConn) Write(fromClient bool, b []byte, mss int) error {
	s := side(fromClient)
	for len(b) > 0 {
		n := min(mss, len(b))
		if err := c.Segment(fromClient, c.sent[s], b[:n]); err != nil {
			return err
		}
		c.sent[s] += n
		b = b[n:]
	}
	return nil
}

// Advance counts n bytes of its side's stream as written (by Segment calls
// the test made itself).
func (c *CaptureConn) Advance(fromClient bool, n int) { c.sent[side(fromClient)] += n }

// Close closes the connection: a FIN from the server, then from the
// client.
func (c *CaptureConn) Close() error {
	for _, fromClient := range []bool{false, true} {
		s := side(fromClient)
		err := c.packet(fromClient, func(t *layers.TCP) {
			t.FIN, t.ACK = true, true
			t.Seq = c.isn[s] + 1 + uint32(c.sent[s])
			t.Ack = c.isn[1-s] + 1 + uint32(c.sent[1-s])
		}, nil)
		if err != nil {
			return err
		}
	}
	return nil
}

// packet writes one frame.
func (c *CaptureConn) packet(fromClient bool, set func(*layers.TCP), payload []byte) error {
	cw := c.cw
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0}, DstMAC: net.HardwareAddr{0, 0, 0, 0, 0, 0},
		EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP,
		SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(c.ClientPort), DstPort: layers.TCPPort(c.ServerPort), Window: 65535}
	if !fromClient {
		tcp.SrcPort, tcp.DstPort = tcp.DstPort, tcp.SrcPort
	}
	set(tcp)
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		return err
	}
	if err := gopacket.SerializeLayers(cw.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, tcp, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("sessiontest: %w", err)
	}
	data := cw.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: cw.t, CaptureLength: len(data), Length: len(data)}
	cw.t = cw.t.Add(cw.Step)
	return cw.write(ci, data)
}
