//go:build linux

package netstack

import (
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ackHold gives the stack's TCP the delayed ACK of a Linux peer. gVisor
// acknowledges what it takes in at once, so a request answered a moment
// later costs the instance two packets (the ACK, then the response
// carrying the same ACK): two TUN writes and two trips through the
// instance's TCP, which is as much system time as the response itself.
// Like Linux (RFC 1122 4.2.3.2) it holds a plain ACK until
//   - its flow sends another packet, which carries the ACK: the held one
//     is dropped;
//   - a second bare ACK of the flow comes: it is sent at once (a stream in
//     is acknowledged every second segment, keeping its ACK clock);
//   - ackHoldFor passes: it is sent (Linux waits 40 ms at least; the
//     bound is short so that a sender waiting on the ACK, Nagle's
//     algorithm, loses little).
//
// Only the stack's own plain ACKs on an open flow are held: no payload,
// the ACK flag alone, no TCP options but padding and timestamps, and an
// acknowledgment number beyond the last one the flow sent. A duplicate ACK
// (an out-of-order segment came in, the instance counts them for fast
// retransmit), an ACK with SACK blocks, a window update, and the ACKs of a
// flow the stack has sent its FIN or reset on (nothing more will carry
// them) go at once; so do the packets the stack forwards between instances
// (their source is not the stack's). A flow is known from its SYN-ACK on,
// until its FIN or reset: a closed flow leaves nothing behind.
//
// It also puts a FIN on the data before it. gVisor sends a FIN on its
// own, after the last data, so a backend that answers and closes (HTTP's
// "Connection: close") costs the instance an extra packet and an extra
// ACK of its own. When the data plane writes the last bytes of a stream
// (conn.WriteClose), it marks the flow (fins): the link keeps that data
// packet until the FIN right behind it and sends one packet with both,
// as Linux does when a socket closes with data still queued. Any other
// packet of the flow, or the hold's timer, sends the data as it is.
type ackHold struct {
	// write sends held packets; local tells the stack's own source
	// addresses; fins tells the flows whose next FIN ends their data.
	write func(held [][]byte)
	local func(src [4]byte) bool
	fins  *sync.Map // flowKey → struct{}

	mu    sync.Mutex
	held  map[flowKey][]byte // virtio header (if any) and packet
	data  map[flowKey][]byte // a flow's last data, waiting for its FIN
	acked [2]map[flowKey]uint32
	swept time.Time
	timer *time.Timer
	armed bool
}

// ackHoldFor bounds how long an ACK waits for a packet to ride on.
const ackHoldFor = 5 * time.Millisecond

// ackForget is how long the last ACK number of a flow that sent none
// since is kept: a flow that ended without a FIN or reset seen here (the
// instance reset it) is forgotten after one to two of these. A flow idle
// that long sends its bare ACKs at once until it sends data again.
const ackForget = 30 * time.Second

// flowKey is a TCP flow as the stack sends it: addresses and ports.
type flowKey [12]byte

// keyOf is the key of the packets the endpoint id sends.
func keyOf(id stack.TransportEndpointID) flowKey {
	var k flowKey
	la, ra := id.LocalAddress.As4(), id.RemoteAddress.As4()
	copy(k[:4], la[:])
	copy(k[4:8], ra[:])
	k[8], k[9] = byte(id.LocalPort>>8), byte(id.LocalPort)
	k[10], k[11] = byte(id.RemotePort>>8), byte(id.RemotePort)
	return k
}

// offer takes the packet pkt, to go out with the virtio header vnet
// (empty without offloads), if it is a plain ACK to hold, a flow's last
// data to keep for its FIN, or that FIN (then sent on the data), and
// reports whether it did; otherwise pkt is to be written now, after any
// data kept for its flow, and any ACK held for its flow is dropped when
// pkt carries it.
func (h *ackHold) offer(pkt *stack.PacketBuffer, vnet []byte) bool {
	if pkt.NetworkProtocolNumber != header.IPv4ProtocolNumber || pkt.TransportProtocolNumber != header.TCPProtocolNumber {
		return false
	}
	ip := header.IPv4(pkt.NetworkHeader().Slice())
	tcp := header.TCP(pkt.TransportHeader().Slice())
	if len(ip) < header.IPv4MinimumSize || len(tcp) < header.TCPMinimumSize {
		return false
	}
	var k flowKey
	copy(k[:4], ip[12:16])
	copy(k[4:8], ip[16:20])
	copy(k[8:12], tcp[0:4])
	if h.local != nil && !h.local([4]byte(k[:4])) {
		return false // forwarded between instances: not the stack's flow
	}
	flags, ack := tcp.Flags(), tcp.AckNumber()
	size := pkt.Data().Size()
	plain := flags == header.TCPFlagAck && size == 0 && plainOptions(tcp.Options())

	h.mu.Lock()
	if d, ok := h.data[k]; ok {
		delete(h.data, k)
		if flags == header.TCPFlagAck|header.TCPFlagFin && size == 0 && addFIN(d, len(vnet), tcp) {
			h.forget(k) // the flow ends
			h.mu.Unlock()
			h.write([][]byte{d})
			return true
		}
		h.write([][]byte{d}) // before this packet, under mu: in order
	}
	defer h.mu.Unlock()
	now := time.Now()
	if h.held == nil {
		h.held = map[flowKey][]byte{}
		h.data = map[flowKey][]byte{}
		h.acked = [2]map[flowKey]uint32{{}, {}}
		h.swept = now
	}
	if now.Sub(h.swept) > ackForget {
		h.acked = [2]map[flowKey]uint32{{}, h.acked[0]}
		h.swept = now
	}
	last, seen := h.acked[0][k]
	if !seen {
		last, seen = h.acked[1][k]
	}
	if !plain {
		switch {
		case flags&(header.TCPFlagFin|header.TCPFlagRst) != 0:
			h.forget(k) // the flow ends
		case flags&header.TCPFlagAck != 0 && (!seen || int32(ack-last) > 0):
			h.acked[0][k] = ack
		}
		if flags&(header.TCPFlagAck|header.TCPFlagRst) != 0 {
			delete(h.held, k) // this packet says as much, or more
		}
		if size > 0 && flags&(header.TCPFlagFin|header.TCPFlagSyn|header.TCPFlagRst) == 0 && h.fins != nil {
			if _, last := h.fins.Load(k); last {
				// The flow's last data: it waits for the FIN.
				b := make([]byte, 0, len(vnet)+pkt.Size())
				b = append(b, vnet...)
				for _, v := range pkt.AsSlices() {
					b = append(b, v...)
				}
				h.data[k] = b
				h.arm()
				return true
			}
		}
		return false
	}
	if !seen || int32(ack-last) <= 0 {
		// A closed or forgotten flow, a duplicate or a window update:
		// at once, and it replaces a held one.
		delete(h.held, k)
		return false
	}
	h.acked[0][k] = ack
	if _, ok := h.held[k]; ok {
		// A second bare ACK: send this one, the held one is older.
		delete(h.held, k)
		return false
	}
	b := make([]byte, 0, len(vnet)+len(ip)+len(tcp))
	b = append(append(append(b, vnet...), ip...), tcp...)
	h.held[k] = b
	h.arm()
	return true
}

// arm starts the timer that ends the hold, if it is not running.
func (h *ackHold) arm() {
	if !h.armed {
		h.armed = true
		if h.timer == nil {
			h.timer = time.AfterFunc(ackHoldFor, h.flush)
		} else {
			h.timer.Reset(ackHoldFor)
		}
	}
}

// forget drops what is known of flow k, which has ended.
func (h *ackHold) forget(k flowKey) {
	delete(h.held, k)
	delete(h.acked[0], k)
	delete(h.acked[1], k)
}

// addFIN sets the FIN flag on the data packet d (after vnetLen bytes of
// virtio header) and reports true if fin, a bare FIN, follows it
// directly: its sequence number is where d's data ends, and it
// acknowledges and offers the same. A partial checksum is left to the
// instance's kernel; a complete one is updated for the changed flags
// (RFC 1624).
func addFIN(d []byte, vnetLen int, fin header.TCP) bool {
	ip := header.IPv4(d[vnetLen:])
	if len(ip) < header.IPv4MinimumSize || int(ip.TotalLength()) != len(ip) {
		return false
	}
	t := header.TCP(ip[ip.HeaderLength():])
	if len(t) < header.TCPMinimumSize || int(t.DataOffset()) > len(t) {
		return false
	}
	end := t.SequenceNumber() + uint32(len(t)-int(t.DataOffset()))
	if end != fin.SequenceNumber() || t.AckNumber() != fin.AckNumber() || t.WindowSize() != fin.WindowSize() {
		return false
	}
	old := uint16(t[12])<<8 | uint16(t[13])
	t[13] |= byte(header.TCPFlagFin)
	if vnetLen == 0 || d[0]&vnetFlagNeedsCsum == 0 {
		sum := uint32(^t.Checksum()) + uint32(^old) + uint32(old|uint16(header.TCPFlagFin))
		for sum>>16 != 0 {
			sum = sum&0xffff + sum>>16
		}
		t.SetChecksum(^uint16(sum))
	}
	return true
}

// flush sends every held ACK.
func (h *ackHold) flush() {
	h.mu.Lock()
	h.armed = false
	out := make([][]byte, 0, len(h.held))
	for k, p := range h.data {
		out = append(out, p)
		delete(h.data, k)
	}
	for k, p := range h.held {
		out = append(out, p)
		delete(h.held, k)
	}
	h.mu.Unlock()
	if len(out) > 0 {
		h.write(out)
	}
}

// stop ends the timer; what is held is dropped, as the link goes.
func (h *ackHold) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.timer != nil {
		h.timer.Stop()
	}
	h.held, h.data = nil, nil
}

// plainOptions reports whether TCP options hold nothing but padding and a
// timestamp.
func plainOptions(opts []byte) bool {
	for i := 0; i < len(opts); {
		switch opts[i] {
		case header.TCPOptionEOL:
			return true
		case header.TCPOptionNOP:
			i++
		case header.TCPOptionTS:
			if i+1 >= len(opts) || opts[i+1] != header.TCPOptionTSLength {
				return false
			}
			i += header.TCPOptionTSLength
		default:
			return false
		}
	}
	return true
}
