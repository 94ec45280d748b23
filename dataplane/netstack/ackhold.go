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
type ackHold struct {
	// write sends held packets when their time is up; local tells the
	// stack's own source addresses.
	write func(held [][]byte)
	local func(src [4]byte) bool

	mu    sync.Mutex
	held  map[flowKey][]byte // virtio header (if any) and packet
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

// offer takes the packet pkt, to go out with the virtio header vnet
// (empty without offloads), if it is a plain ACK to hold, and reports
// whether it did; otherwise pkt is to be written now, and any ACK held for
// its flow is dropped when pkt carries it.
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
	plain := flags == header.TCPFlagAck && pkt.Data().Size() == 0 && plainOptions(tcp.Options())

	h.mu.Lock()
	defer h.mu.Unlock()
	now := time.Now()
	if h.held == nil {
		h.held = map[flowKey][]byte{}
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
			delete(h.acked[0], k) // the flow ends: forget it
			delete(h.acked[1], k)
		case flags&header.TCPFlagAck != 0 && (!seen || int32(ack-last) > 0):
			h.acked[0][k] = ack
		}
		if flags&(header.TCPFlagAck|header.TCPFlagRst) != 0 {
			delete(h.held, k) // this packet says as much, or more
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
	if !h.armed {
		h.armed = true
		if h.timer == nil {
			h.timer = time.AfterFunc(ackHoldFor, h.flush)
		} else {
			h.timer.Reset(ackHoldFor)
		}
	}
	return true
}

// flush sends every held ACK.
func (h *ackHold) flush() {
	h.mu.Lock()
	h.armed = false
	out := make([][]byte, 0, len(h.held))
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
	h.held = nil
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
