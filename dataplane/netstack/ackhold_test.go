//go:build linux

package netstack

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

var (
	eniAddr  = [4]byte{10, 10, 0, 5}
	instAddr = [4]byte{10, 10, 0, 190}
	peerAddr = [4]byte{10, 10, 0, 191} // another instance of the VPC
)

// segment is a TCP packet as the stack hands it to the link.
type segment struct {
	src, dst [4]byte
	flags    header.TCPFlags
	seq, ack uint32
	payload  int
	opts     []byte
}

func (s segment) packet() *stack.PacketBuffer {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: header.IPv4MinimumSize + header.TCPMinimumSize + len(s.opts),
		Payload:            buffer.MakeWithData(make([]byte, s.payload)),
	})
	tcp := header.TCP(pkt.TransportHeader().Push(header.TCPMinimumSize + len(s.opts)))
	tcp.Encode(&header.TCPFields{SrcPort: 80, DstPort: 40000, SeqNum: s.seq, AckNum: s.ack,
		DataOffset: uint8(header.TCPMinimumSize + len(s.opts)), Flags: s.flags, WindowSize: 1000})
	copy(tcp[header.TCPMinimumSize:], s.opts)
	// A complete checksum, as the stack writes without offloads.
	xsum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, tcpip.AddrFrom4(s.src), tcpip.AddrFrom4(s.dst), uint16(len(tcp)+s.payload))
	xsum = checksum.Combine(xsum, checksum.Checksum(make([]byte, s.payload), 0))
	tcp.SetChecksum(^tcp.CalculateChecksum(xsum))
	pkt.TransportProtocolNumber = header.TCPProtocolNumber
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(pkt.Size()), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4(s.src), DstAddr: tcpip.AddrFrom4(s.dst)})
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	return pkt
}

// open is the SYN-ACK that makes the flow known.
func open(dst [4]byte) segment {
	return segment{src: eniAddr, dst: dst, flags: header.TCPFlagSyn | header.TCPFlagAck, ack: 1}
}

func bare(ack uint32) segment {
	return segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck, ack: ack}
}

func timestamps() []byte {
	o := make([]byte, 12)
	header.EncodeNOP(o)
	header.EncodeNOP(o[1:])
	header.EncodeTSOption(1, 2, o[2:])
	return o
}

// TestAckHold: which packets the link holds, which it sends at once, and
// which held ACK a later packet makes redundant; what is held is sent,
// virtio header first, when the hold ends.
func TestAckHold(t *testing.T) {
	sack := make([]byte, 12)
	header.EncodeNOP(sack)
	header.EncodeNOP(sack[1:])
	header.EncodeSACKBlocks([]header.SACKBlock{{Start: 10, End: 20}}, sack[2:])
	type step struct {
		seg  segment
		held bool // offer takes it
		left int  // ACKs held afterwards
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"an ACK is held", []step{{open(instAddr), false, 0}, {bare(100), true, 1}}},
		{"timestamps are plain", []step{{open(instAddr), false, 0}, {segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck, ack: 100, opts: timestamps()}, true, 1}}},
		{"an unknown flow's goes at once", []step{{bare(100), false, 0}, {bare(200), false, 0}}},
		{"data carries it", []step{
			{open(instAddr), false, 0},
			{bare(100), true, 1},
			{segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagPsh, ack: 150, payload: 10}, false, 0}}},
		{"a second one goes at once", []step{{open(instAddr), false, 0}, {bare(100), true, 1}, {bare(200), false, 0}, {bare(300), true, 1}}},
		{"a duplicate goes at once", []step{{open(instAddr), false, 0}, {bare(100), true, 1}, {bare(100), false, 0}, {bare(100), false, 0}}},
		{"an older one goes at once", []step{{open(instAddr), false, 0}, {bare(100), true, 1}, {bare(90), false, 0}}},
		{"SACK goes at once", []step{{open(instAddr), false, 0}, {segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck, ack: 100, opts: sack}, false, 0}}},
		{"forwarded goes at once", []step{
			{segment{src: peerAddr, dst: instAddr, flags: header.TCPFlagSyn | header.TCPFlagAck, ack: 1}, false, 0},
			{segment{src: peerAddr, dst: instAddr, flags: header.TCPFlagAck, ack: 100}, false, 0}}},
		{"other flows are apart", []step{
			{open(instAddr), false, 0},
			{open(peerAddr), false, 0},
			{bare(100), true, 1},
			{segment{src: eniAddr, dst: peerAddr, flags: header.TCPFlagAck, ack: 100}, true, 2},
			{segment{src: eniAddr, dst: peerAddr, flags: header.TCPFlagAck | header.TCPFlagPsh, ack: 120, payload: 1}, false, 1}}},
		{"a FIN carries it and ends the flow", []step{
			{open(instAddr), false, 0},
			{bare(100), true, 1},
			{segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagFin, ack: 100}, false, 0},
			{bare(101), false, 0},      // the ACK of the instance's FIN
			{open(instAddr), false, 0}, // a new flow on the same ports
			{bare(50), true, 1}}},
		{"a reset ends the flow", []step{
			{open(instAddr), false, 0},
			{bare(100), true, 1},
			{segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagRst, ack: 100}, false, 0},
			{bare(200), false, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var sent [][]byte
			h := &ackHold{
				write: func(p [][]byte) { mu.Lock(); sent = append(sent, p...); mu.Unlock() },
				local: func(a [4]byte) bool { return a == eniAddr },
			}
			defer h.stop()
			for i, st := range tc.steps {
				pkt := st.seg.packet()
				if got := h.offer(pkt, nil); got != st.held {
					t.Fatalf("step %d: held %v, want %v", i, got, st.held)
				}
				pkt.DecRef()
				h.mu.Lock()
				left := len(h.held)
				h.mu.Unlock()
				if left != st.left {
					t.Fatalf("step %d: %d ACKs held, want %d", i, left, st.left)
				}
			}
		})
	}

	t.Run("flush", func(t *testing.T) {
		done := make(chan [][]byte, 1)
		h := &ackHold{write: func(p [][]byte) { done <- p }}
		defer h.stop()
		o := open(instAddr).packet()
		h.offer(o, nil)
		o.DecRef()
		pkt := bare(100).packet()
		defer pkt.DecRef()
		vnet := []byte{1, 0, 0, 0, 0, 0, 20, 0, 16, 0}
		if !h.offer(pkt, vnet) {
			t.Fatal("not held")
		}
		want := append(append([]byte{}, vnet...), bytes.Join(pkt.AsSlices(), nil)...)
		select {
		case got := <-done:
			if len(got) != 1 || !bytes.Equal(got[0], want) {
				t.Fatalf("sent %x, want [%x]", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the held ACK was never sent")
		}
	})

	t.Run("forwarded leaves nothing", func(t *testing.T) {
		// Another instance's flow through the stack: the hold keeps no
		// state for it, whatever it carries.
		h := &ackHold{write: func([][]byte) {}, local: func(a [4]byte) bool { return a == eniAddr }}
		defer h.stop()
		for _, s := range []segment{
			{src: peerAddr, dst: instAddr, flags: header.TCPFlagSyn | header.TCPFlagAck, ack: 1},
			{src: peerAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagPsh, ack: 1, payload: 100},
		} {
			p := s.packet()
			h.offer(p, nil)
			p.DecRef()
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if n := len(h.acked[0]) + len(h.acked[1]); n != 0 {
			t.Fatalf("%d flows known from forwarded packets", n)
		}
	})

	t.Run("forgotten", func(t *testing.T) {
		h := &ackHold{write: func([][]byte) {}}
		defer h.stop()
		for _, s := range []segment{open(instAddr), bare(100)} {
			p := s.packet()
			h.offer(p, nil)
			p.DecRef()
		}
		// Two sweeps later the flow is forgotten: its ACKs go at once,
		// and do not make it known again.
		for range 2 {
			h.mu.Lock()
			h.swept = h.swept.Add(-2 * ackForget)
			h.mu.Unlock()
			p := segment{src: eniAddr, dst: peerAddr, flags: header.TCPFlagAck | header.TCPFlagPsh, ack: 1, payload: 1}.packet()
			h.offer(p, nil)
			p.DecRef()
		}
		for _, ack := range []uint32{150, 200} {
			p := bare(ack).packet()
			if h.offer(p, nil) {
				t.Fatalf("a forgotten flow's ACK %d was held", ack)
			}
			p.DecRef()
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, m := range h.acked {
			for k := range m {
				if [4]byte(k[4:8]) == instAddr {
					t.Fatal("a forgotten flow's ACK made it known again")
				}
			}
		}
	})
}

// TestFINOnData: the last data of a flow that WriteClose marked waits for
// the FIN behind it and goes out as one packet with both, its checksum
// still right; a FIN that does not follow it, another packet of the flow,
// or the timer send the data as it was; unmarked flows' data is not held.
func TestFINOnData(t *testing.T) {
	data := segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagPsh, seq: 1, ack: 100, payload: 10}
	fin := segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagFin, seq: 11, ack: 100}
	start := func(t *testing.T, marked bool) (*ackHold, *[][]byte) {
		var mu sync.Mutex
		sent := &[][]byte{}
		h := &ackHold{
			write: func(p [][]byte) { mu.Lock(); *sent = append(*sent, p...); mu.Unlock() },
			local: func(a [4]byte) bool { return a == eniAddr },
			fins:  &sync.Map{},
		}
		t.Cleanup(h.stop)
		if marked {
			h.fins.Store(keyOf(stack.TransportEndpointID{LocalPort: 80, LocalAddress: tcpip.AddrFrom4(eniAddr),
				RemotePort: 40000, RemoteAddress: tcpip.AddrFrom4(instAddr)}), struct{}{})
		}
		return h, sent
	}
	offer := func(h *ackHold, s segment) bool {
		p := s.packet()
		defer p.DecRef()
		return h.offer(p, nil)
	}
	flagsOf := func(t *testing.T, b []byte) header.TCPFlags {
		t.Helper()
		ip := header.IPv4(b)
		tcp := header.TCP(ip.Payload())
		payload := tcp[tcp.DataOffset():]
		if !tcp.IsChecksumValid(ip.SourceAddress(), ip.DestinationAddress(), checksum.Checksum(payload, 0), uint16(len(payload))) {
			t.Errorf("bad TCP checksum on % x", b)
		}
		return tcp.Flags()
	}

	t.Run("merged", func(t *testing.T) {
		h, sent := start(t, true)
		if !offer(h, data) || len(*sent) != 0 {
			t.Fatalf("the last data was not held (%d sent)", len(*sent))
		}
		if !offer(h, fin) {
			t.Fatal("the FIN was left to send on its own")
		}
		if len(*sent) != 1 {
			t.Fatalf("%d packets sent, want 1", len(*sent))
		}
		if f := flagsOf(t, (*sent)[0]); f != header.TCPFlagAck|header.TCPFlagPsh|header.TCPFlagFin {
			t.Errorf("flags %v, want ACK|PSH|FIN", f)
		}
		if n := len((*sent)[0]); n != header.IPv4MinimumSize+header.TCPMinimumSize+10 {
			t.Errorf("packet of %d bytes", n)
		}
		// The flow has ended: the link keeps nothing of it.
		h.mu.Lock()
		defer h.mu.Unlock()
		if n := len(h.held) + len(h.data) + len(h.acked[0]) + len(h.acked[1]); n != 0 {
			t.Errorf("%d entries kept for a flow whose FIN went", n)
		}
	})
	for _, tc := range []struct {
		name string
		next segment
		held bool // the next packet waits in turn: more data, or a new ACK
	}{
		{"a FIN further on", segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagFin, seq: 12, ack: 100}, false},
		{"a FIN with a newer ACK", segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagFin, seq: 11, ack: 101}, false},
		{"more data", segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck | header.TCPFlagPsh, seq: 11, ack: 100, payload: 5}, true},
		{"a new ACK", segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck, seq: 11, ack: 120}, true},
		{"a duplicate ACK", segment{src: eniAddr, dst: instAddr, flags: header.TCPFlagAck, seq: 11, ack: 100}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, sent := start(t, true)
			offer(h, data)
			heldNext := offer(h, tc.next)
			if len(*sent) != 1 || flagsOf(t, (*sent)[0]) != header.TCPFlagAck|header.TCPFlagPsh {
				t.Fatalf("sent %d packets before the next one, want the data as it was", len(*sent))
			}
			if heldNext != tc.held {
				t.Errorf("next packet held %v, want %v", heldNext, tc.held)
			}
		})
	}
	t.Run("unmarked", func(t *testing.T) {
		h, sent := start(t, false)
		if offer(h, data) || offer(h, fin) || len(*sent) != 0 {
			t.Fatal("data of an unmarked flow was held")
		}
	})
	t.Run("timer", func(t *testing.T) {
		done := make(chan [][]byte, 1)
		h, _ := start(t, true)
		h.write = func(p [][]byte) { done <- p }
		offer(h, data)
		select {
		case p := <-done:
			if len(p) != 1 || flagsOf(t, p[0]) != header.TCPFlagAck|header.TCPFlagPsh {
				t.Fatalf("sent %d packets", len(p))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("held data never sent")
		}
	})
}
