//go:build linux

package netstack

import (
	"bytes"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// TestForwardedNotHeld: the stack forwards a flow between two instances of
// the VPC; its ACKs are the instances' own, not the stack's, so the link
// holds none of them and keeps no state for the flow. Packet sockets stand
// in for the instances' TUNs (no root needed).
func TestForwardedNotHeld(t *testing.T) {
	v, err := New(Config{ID: "vpc-t"})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var inst [2]int // the instances' ends
	for i, ip := range []netip.Addr{netip.AddrFrom4(instAddr), netip.AddrFrom4(peerAddr)} {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fds[1])
		inst[i] = fds[1]
		if err := v.AttachTUN([]string{"a", "b"}[i], fds[0], 1500, ip, false); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.SetAddresses([]netip.Addr{netip.AddrFrom4(eniAddr)}); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1<<16)
	for _, s := range []segment{
		{src: instAddr, dst: peerAddr, flags: header.TCPFlagSyn | header.TCPFlagAck, ack: 1},
		{src: instAddr, dst: peerAddr, flags: header.TCPFlagAck, seq: 1, ack: 100},
	} {
		pkt := s.packet()
		b := bytes.Join(pkt.AsSlices(), nil)
		pkt.DecRef()
		ip := header.IPv4(b)
		ip.SetChecksum(^ip.CalculateChecksum())
		if _, err := unix.Write(inst[0], b); err != nil {
			t.Fatal(err)
		}
		// Forwarded, it comes out at the other instance (a held ACK
		// would come 5 ms later).
		if n, err := unix.Poll([]unix.PollFd{{Fd: int32(inst[1]), Events: unix.POLLIN}}, 5000); n != 1 || err != nil {
			t.Fatalf("%v from %v not forwarded: %d, %v", s.flags, s.src, n, err)
		}
		if n, err := unix.Read(inst[1], buf); err != nil || header.TCP(header.IPv4(buf[:n]).Payload()).Flags() != s.flags {
			t.Fatalf("forwarded % x, %v", buf[:n], err)
		}
	}
	v.mu.Lock()
	tuns := v.tuns
	v.mu.Unlock()
	for _, e := range tuns {
		e.acks.mu.Lock()
		n := len(e.acks.acked[0]) + len(e.acks.acked[1]) + len(e.acks.held)
		e.acks.mu.Unlock()
		if n != 0 {
			t.Errorf("a link keeps %d entries of hold state for a forwarded flow", n)
		}
	}
}
