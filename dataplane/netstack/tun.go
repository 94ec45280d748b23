//go:build linux

package netstack

import (
	"errors"
	"os"
	"sync"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// tunEndpoint is a NIC's link: one TUN device (IFF_TUN|IFF_NO_PI), the eth0
// of an instance. With vnet set the device also has IFF_VNET_HDR and the
// TSO/checksum offloads (TUNSETOFFLOAD): every packet carries a
// virtio_net_hdr, the instance's kernel hands over TCP segments of up to
// 64 KiB with partial checksums, and the stack hands back segments as large
// (GSO) for the kernel to cut — a few system calls per 64 KiB instead of
// one per 1500 bytes. Upstream fdbased takes that path for packet sockets
// only (and puts an Ethernet header's length into csum_start), which is why
// the link is its own here, as Tailscale's is.
type tunEndpoint struct {
	f   *os.File // the runtime poller wakes reads; Close unblocks them
	raw interface {
		Write(func(uintptr) bool) error
	}
	mtu  uint32
	vnet bool

	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	onClose    func()
	wg         sync.WaitGroup
	closeOnce  sync.Once

	acks ackHold
}

// virtio_net_hdr (linux/virtio_net.h), without num_buffers.
const (
	vnetHdrLen        = 10
	vnetFlagNeedsCsum = 1
	vnetGSONone       = 0
	vnetGSOTCPv4      = 1
)

// tunGSOMax is the largest segment the stack hands the link: an IPv4
// packet's length field bounds it.
const tunGSOMax = 1<<16 - 1 - header.IPv4MaximumHeaderSize - 60 // 60: the largest TCP header

func newTUNEndpoint(fd int, mtu uint32, vnet bool) (*tunEndpoint, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "tun")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	e := &tunEndpoint{f: f, raw: rc, mtu: mtu, vnet: vnet}
	e.acks.write = e.writeHeld
	return e, nil
}

// MTU implements stack.LinkEndpoint.
func (e *tunEndpoint) MTU() uint32 { return e.mtu }

// SetMTU implements stack.LinkEndpoint.
func (e *tunEndpoint) SetMTU(mtu uint32) { e.mtu = mtu }

// MaxHeaderLength implements stack.LinkEndpoint: no link header.
func (e *tunEndpoint) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.LinkEndpoint: a TUN has none.
func (e *tunEndpoint) LinkAddress() tcpip.LinkAddress { return "" }

// SetLinkAddress implements stack.LinkEndpoint.
func (e *tunEndpoint) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.LinkEndpoint. With the offloads, what the
// kernel sends needs no checksum check (it may carry partial ones).
func (e *tunEndpoint) Capabilities() stack.LinkEndpointCapabilities {
	if e.vnet {
		return stack.CapabilityRXChecksumOffload
	}
	return 0
}

// GSOMaxSize implements stack.GSOEndpoint.
func (e *tunEndpoint) GSOMaxSize() uint32 {
	if e.vnet {
		return tunGSOMax
	}
	return 0
}

// SupportedGSO implements stack.GSOEndpoint: the instance's kernel cuts
// the segments.
func (e *tunEndpoint) SupportedGSO() stack.SupportedGSO {
	if e.vnet {
		return stack.HostGSOSupported
	}
	return stack.GSONotSupported
}

// ARPHardwareType implements stack.LinkEndpoint.
func (e *tunEndpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

// AddHeader implements stack.LinkEndpoint: no link header.
func (e *tunEndpoint) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.LinkEndpoint.
func (e *tunEndpoint) ParseHeader(*stack.PacketBuffer) bool { return true }

// IsAttached implements stack.LinkEndpoint.
func (e *tunEndpoint) IsAttached() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dispatcher != nil
}

// Attach implements stack.LinkEndpoint: reading starts with the first
// dispatcher.
func (e *tunEndpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	start := e.dispatcher == nil && d != nil
	e.dispatcher = d
	e.mu.Unlock()
	if start {
		e.wg.Add(1)
		go e.readLoop()
	}
}

// Wait implements stack.LinkEndpoint.
func (e *tunEndpoint) Wait() { e.wg.Wait() }

// SetOnCloseAction implements stack.LinkEndpoint.
func (e *tunEndpoint) SetOnCloseAction(fn func()) {
	e.mu.Lock()
	e.onClose = fn
	e.mu.Unlock()
}

// Close implements stack.LinkEndpoint: the device goes with the descriptor.
// The stack's close action removes the NIC, which closes the link again:
// it runs once, outside the Once.
func (e *tunEndpoint) Close() {
	e.closeOnce.Do(func() {
		e.acks.stop()
		e.f.Close()
	})
	e.mu.Lock()
	fn := e.onClose
	e.onClose = nil
	e.mu.Unlock()
	if fn != nil {
		fn()
	}
}

// readLoop hands every packet the instance sends to the stack.
func (e *tunEndpoint) readLoop() {
	defer e.wg.Done()
	buf := make([]byte, vnetHdrLen+1<<16)
	for {
		n, err := e.f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			continue // EIO while the device goes away, a bad packet: keep on
		}
		p := buf[:n]
		partial := false
		if e.vnet {
			if n < vnetHdrLen {
				continue
			}
			partial = p[0]&vnetFlagNeedsCsum != 0 || p[1] != vnetGSONone
			p = p[vnetHdrLen:]
		}
		if len(p) == 0 || p[0]>>4 != 4 {
			continue // IPv4 only
		}
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(p)})
		// A partial checksum is the kernel's promise that the bytes are
		// its own (CHECKSUM_PARTIAL): nothing to verify.
		pkt.RXChecksumValidated = partial
		e.mu.Lock()
		d := e.dispatcher
		e.mu.Unlock()
		if d != nil {
			d.DeliverNetworkPacket(header.IPv4ProtocolNumber, pkt)
		}
		pkt.DecRef()
	}
}

// WritePackets implements stack.LinkWriter: one writev per packet, a
// virtio_net_hdr first when the offloads are on. A packet the device does
// not take now (its queue is full) is dropped, as a NIC drops; TCP resends.
// A plain ACK, or a flow's last data waiting for the FIN behind it, may be
// held a moment instead (ackHold).
func (e *tunEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	var bufs [][]byte
	var hdr [vnetHdrLen]byte
	for _, pkt := range pkts.AsSlice() {
		bufs = bufs[:0]
		vnet := hdr[:0]
		if e.vnet {
			hdr = vnetHeader(pkt)
			vnet = hdr[:]
		}
		if e.acks.offer(pkt, vnet) {
			n++ // held (or sent with the data it waited for): ackHold's now
			continue
		}
		if len(vnet) > 0 {
			bufs = append(bufs, vnet)
		}
		bufs = append(bufs, pkt.AsSlices()...)
		var werr error
		err := e.raw.Write(func(fd uintptr) bool {
			_, werr = unix.Writev(int(fd), bufs)
			return true // never wait: a full queue drops, as a NIC does
		})
		if err != nil {
			return n, &tcpip.ErrClosedForSend{}
		}
		if werr != nil && werr != unix.EAGAIN {
			if n == 0 {
				if errno, ok := werr.(unix.Errno); ok {
					return 0, tcpip.TranslateErrno(errno)
				}
				return 0, &tcpip.ErrAborted{}
			}
			return n, nil
		}
		n++
	}
	return n, nil
}

// vnetHeader is the virtio_net_hdr of pkt: where its checksum is left to
// the instance's kernel (a partial one, which bare ACKs have too), and how
// to cut it when it is longer than one segment.
func vnetHeader(pkt *stack.PacketBuffer) [vnetHdrLen]byte {
	var hdr [vnetHdrLen]byte
	if g := pkt.GSOOptions; g.Type != stack.GSONone {
		putLE16(hdr[2:], uint16(pkt.HeaderSize()))
		if g.NeedsCsum {
			hdr[0] = vnetFlagNeedsCsum
			putLE16(hdr[6:], g.L3HdrLen) // no link header before L3
			putLE16(hdr[8:], g.CsumOffset)
		}
		if pkt.Data().Size() > int(g.MSS) && g.Type == stack.GSOTCPv4 {
			hdr[1] = vnetGSOTCPv4
			putLE16(hdr[4:], g.MSS)
		}
	}
	return hdr
}

// writeHeld writes packets ackHold held (ACKs, last data), each its
// virtio header and packet in one buffer; like WritePackets it never waits.
func (e *tunEndpoint) writeHeld(pkts [][]byte) {
	e.raw.Write(func(fd uintptr) bool {
		for _, p := range pkts {
			unix.Write(int(fd), p)
		}
		return true
	})
}

func putLE16(b []byte, v uint16) { b[0], b[1] = byte(v), byte(v>>8) }
