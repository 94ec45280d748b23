//go:build linux

// Package netstack is the netns front end's network: one gVisor TCP/IP
// stack per VPC, acting as the VPC's router. Its NICs are the TUN devices of
// the VPC's instances (each the eth0 of a network namespace, see
// dataplane/netns); it routes between them, and it owns the VPC's service
// addresses on every NIC:
//
//	ENI addresses     TCP → the data plane's accept path (Proxy.Admit), ICMP echo
//	100.100.2.136:53  the VPC resolver: the dns package's handler, UDP and TCP
//	CLB addresses     the source of dials to instance backends (Dial)
//	gateways          x.x.x.253 of each vSwitch: the instances' next hop
//
// Nothing else: no route to another VPC or to the host, so nothing an
// instance sends leaves the VPC except through an endpoint's flow.
//
//	instance netns ── TUN eth0 ══ NIC ─┐
//	instance netns ── TUN eth0 ══ NIC ─┼─ stack (forwarding, /32 routes)
//	                                   ├─ tcp.Forwarder ─► Admit ─► Dial ─► Run
//	                                   └─ gonet UDP/TCP :53 ─► dns handler
package netstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"eplink/dataplane"
	"eplink/metrics"
)

// Resolver is the VPC resolver's address, as in the cloud.
var Resolver = netip.MustParseAddr("100.100.2.136")

// Admitter is the data plane's accept path (dataplane.Proxy).
type Admitter interface {
	Admit(vpcID string, dst netip.AddrPort, src netip.Addr) (*dataplane.Admission, string)
	AllowsICMP(vpcID string, dst, src netip.Addr) bool
}

// Config configures a VPC's stack.
type Config struct {
	// ID is the VPC's id, which Admit is asked with.
	ID string
	// Proxy decides and carries the TCP flows to ENI addresses.
	Proxy Admitter
	// DNS answers at Resolver:53; nil leaves the resolver unanswered.
	DNS mdns.Handler
	// Logger; nil discards.
	Logger *slog.Logger
}

// maxInFlight bounds the connection attempts being dialed at once: each is
// a goroutine and a backend socket (tailscale bounds its forwarder alike).
const maxInFlight = 1024

// VPC is one VPC's stack.
type VPC struct {
	cfg Config
	log *slog.Logger
	s   *stack.Stack
	ctx context.Context
	end context.CancelFunc
	wg  sync.WaitGroup

	mu   sync.Mutex
	nics map[string]tcpip.NICID // instance id → NIC
	next tcpip.NICID
	// service is the set of addresses on every NIC, replaced whole on
	// each change (under mu) so that the links read it without mu.
	service atomic.Pointer[map[netip.Addr]bool]
	tuns    []*tunEndpoint
	dns     []*mdns.Server
	closed  bool

	// fins are the flows writing their last data (conn.WriteClose): the
	// links put the FIN that follows on it.
	fins sync.Map // flowKey → struct{}
}

// New builds the stack of one VPC. Close releases it.
func New(cfg Config) (*VPC, error) {
	s := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4},
		HandleLocal:        true,
	})
	// Routes between the VPC's instances; addresses without a route (other
	// VPCs, the host, the internet) get ICMP unreachable.
	if err := s.SetForwardingDefaultAndAllNICs(ipv4.ProtocolNumber, true); err != nil {
		s.Close()
		return nil, fmt.Errorf("netstack %s: forwarding: %v", cfg.ID, err)
	}
	sack := tcpip.TCPSACKEnabled(true)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack)
	// gVisor lets a new SYN take over a TIME-WAIT connection only when a
	// listening endpoint is there to take it; ENI ports have none (the
	// forwarder decides each SYN), so a client that reuses its port while
	// eplink's side of the last connection waits (eplink closes first when
	// the backend does: every "Connection: close") would have its SYN
	// ignored, or answered with a reset. At the default 60 s that caps new
	// connections from one instance at about 470/s (28,000 ports). TIME-WAIT
	// guards against a lost last ACK and stray segments of the old
	// connection; the VPC's links are TUN devices on one host, which
	// neither lose nor reorder, so it is skipped.
	tw := tcpip.TCPTimeWaitTimeoutOption(0)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &tw)
	reuse := tcpip.TCPTimeWaitReuseOption(tcpip.TCPTimeWaitReuseGlobal)
	s.SetTransportProtocolOption(tcp.ProtocolNumber, &reuse)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &VPC{cfg: cfg, log: log, s: s, ctx: ctx, end: cancel,
		nics: map[string]tcpip.NICID{}, next: 1}
	v.service.Store(&map[netip.Addr]bool{})
	// The forwarder starts a goroutine for every SYN; the connection is
	// carried on a flow worker instead, whose stack has grown already.
	fwd := tcp.NewForwarder(s, 0, maxInFlight, func(r *tcp.ForwarderRequest) {
		dataplane.Go(func() { v.acceptTCP(r) })
	})
	s.SetTransportProtocolHandler(tcp.ProtocolNumber, fwd.HandlePacket)
	return v, nil
}

// ID is the VPC's id.
func (v *VPC) ID() string { return v.cfg.ID }

// AttachTUN makes the TUN device fd (IFF_TUN|IFF_NO_PI, opened by the
// caller; with vnet also IFF_VNET_HDR and the TSO/checksum offloads) a NIC
// of the VPC, for the instance at ip; the stack owns fd from now on and
// closes it with the VPC.
func (v *VPC) AttachTUN(instanceID string, fd int, mtu uint32, ip netip.Addr, vnet bool) error {
	ep, err := newTUNEndpoint(fd, mtu, vnet)
	if err != nil {
		unix.Close(fd)
		return fmt.Errorf("netstack %s: link of %s: %v", v.cfg.ID, instanceID, err)
	}
	ep.acks.local = v.owns
	ep.acks.fins = &v.fins
	v.mu.Lock()
	defer v.mu.Unlock()
	v.tuns = append(v.tuns, ep)
	if v.closed {
		return errors.New("netstack: closed")
	}
	id := v.next
	v.next++
	if terr := v.s.CreateNIC(id, &filterEndpoint{LinkEndpoint: ep, v: v}); terr != nil {
		return fmt.Errorf("netstack %s: NIC of %s: %v", v.cfg.ID, instanceID, terr)
	}
	for a := range *v.service.Load() {
		if err := v.addAddr(id, a); err != nil {
			return err
		}
	}
	v.nics[instanceID] = id
	dst, _ := tcpip.NewSubnet(tcpip.AddrFrom4(ip.As4()), tcpip.MaskFromBytes([]byte{255, 255, 255, 255}))
	v.s.AddRoute(tcpip.Route{Destination: dst, NIC: id})
	return nil
}

func (v *VPC) addAddr(nic tcpip.NICID, a netip.Addr) error {
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(a.As4()), PrefixLen: 32}}
	if terr := v.s.AddProtocolAddress(nic, pa, stack.AddressProperties{}); terr != nil {
		return fmt.Errorf("netstack %s: address %s: %v", v.cfg.ID, a, terr)
	}
	return nil
}

// SetAddresses makes addrs the VPC's service addresses (ENIs, CLBs,
// gateways; the resolver is always there): new ones are added to every
// NIC, gone ones removed, which closes nothing by itself — the data plane
// closes an ENI's flows when it goes.
func (v *VPC) SetAddresses(addrs []netip.Addr) error {
	want := map[netip.Addr]bool{Resolver: true}
	for _, a := range addrs {
		if a.Is4() {
			want[a] = true
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	had := *v.service.Load()
	var errs []error
	for a := range had {
		if !want[a] {
			for _, id := range v.nics {
				v.s.RemoveAddress(id, tcpip.AddrFrom4(a.As4()))
			}
		}
	}
	for a := range want {
		if had[a] {
			continue
		}
		for _, id := range v.nics {
			errs = append(errs, v.addAddr(id, a))
		}
	}
	v.service.Store(&want)
	return errors.Join(errs...)
}

// owns reports whether a is one of the VPC's service addresses: a packet
// from it is the stack's own, not one it forwards between instances.
func (v *VPC) owns(a [4]byte) bool {
	return (*v.service.Load())[netip.AddrFrom4(a)]
}

// ServeDNS answers at Resolver:53, UDP and TCP, with cfg.DNS until Close.
// The resolver needs no NIC of its own: every NIC has its address.
func (v *VPC) ServeDNS() error {
	if v.cfg.DNS == nil {
		return nil
	}
	addr := tcpip.FullAddress{Addr: tcpip.AddrFrom4(Resolver.As4()), Port: 53}
	// The address must be on a NIC before binding: a VPC without
	// instances has nobody to ask and no resolver.
	v.mu.Lock()
	if len(v.nics) == 0 || !(*v.service.Load())[Resolver] {
		v.mu.Unlock()
		return errors.New("netstack: ServeDNS needs SetAddresses and a NIC first")
	}
	v.mu.Unlock()
	pc, err := gonet.DialUDP(v.s, &addr, nil, ipv4.ProtocolNumber)
	if err != nil {
		return fmt.Errorf("netstack %s: resolver udp: %v", v.cfg.ID, err)
	}
	ln, err := gonet.ListenTCP(v.s, addr, ipv4.ProtocolNumber)
	if err != nil {
		pc.Close()
		return fmt.Errorf("netstack %s: resolver tcp: %v", v.cfg.ID, err)
	}
	servers := []*mdns.Server{
		{PacketConn: pc, Handler: v.cfg.DNS},
		{Listener: ln, Handler: v.cfg.DNS},
	}
	v.mu.Lock()
	v.dns = servers
	v.mu.Unlock()
	for _, srv := range servers {
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			if err := srv.ActivateAndServe(); err != nil && v.ctx.Err() == nil {
				v.log.Error("vpc resolver stopped", "vpc_id", v.cfg.ID, "err", err)
			}
		}()
	}
	return nil
}

// acceptTCP handles a SYN to any address of the stack: the accept path
// decides, then the backend is dialed before the handshake completes (so a
// refusal is a reset, and a security group's drop is no answer at all).
func (v *VPC) acceptTCP(r *tcp.ForwarderRequest) {
	id := r.ID()
	dst := netip.AddrPortFrom(addrOf(id.LocalAddress), id.LocalPort)
	src := addrOf(id.RemoteAddress)
	a, reason := v.cfg.Proxy.Admit(v.cfg.ID, dst, src)
	switch {
	case a == nil && reason == metrics.ReasonSGDenied:
		r.Complete(false) // dropped, as a security group drops
		return
	case a == nil:
		r.Complete(true)
		return
	}
	// acceptTCP runs on a flow worker of its own, which dials and then
	// carries the flow: no second goroutine per attempt.
	v.wg.Add(1)
	defer v.wg.Done()
	backend, err := a.Dial(v.ctx)
	if err != nil {
		r.Complete(true)
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		r.Complete(true)
		backend.Close()
		a.Refuse("")
		return
	}
	r.Complete(false)
	// Keepalive is turned on by the data plane once the flow has lived a
	// second (conn.SetKeepAliveConfig), with the proxy's period.
	a.Run(&conn{TCPConn: gonet.NewTCPConn(&wq, ep), ep: ep, fins: &v.fins}, backend)
}

// Dial connects from src, an address of the stack (a CLB's), to dst inside
// the VPC: how a CLB reaches an instance backend.
func (v *VPC) Dial(ctx context.Context, src netip.Addr, dst netip.AddrPort) (net.Conn, error) {
	var wq waiter.Queue
	ep, terr := v.s.NewEndpoint(tcp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	entry, ready := waiter.NewChannelEntry(waiter.WritableEvents)
	wq.EventRegister(&entry)
	defer wq.EventUnregister(&entry)
	if src.IsValid() {
		if terr := ep.Bind(tcpip.FullAddress{Addr: tcpip.AddrFrom4(src.As4())}); terr != nil {
			ep.Close()
			return nil, fmt.Errorf("bind %s: %s", src, terr)
		}
	}
	terr = ep.Connect(tcpip.FullAddress{Addr: tcpip.AddrFrom4(dst.Addr().As4()), Port: dst.Port()})
	if _, ok := terr.(*tcpip.ErrConnectStarted); ok {
		select {
		case <-ctx.Done():
			ep.Abort()
			return nil, ctx.Err()
		case <-ready:
		}
		terr = ep.LastError()
	}
	if terr != nil {
		ep.Close()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(dst), Err: errors.New(terr.String())}
	}
	return &conn{TCPConn: gonet.NewTCPConn(&wq, ep), ep: ep, fins: &v.fins}, nil
}

// filterEndpoint is a NIC's link endpoint with the security groups' say on
// ICMP echo to ENI addresses, which the stack would otherwise answer by
// itself: a request the groups drop never reaches it.
type filterEndpoint struct {
	stack.LinkEndpoint
	v *VPC
}

// GSOMaxSize implements stack.GSOEndpoint (the embedded interface would
// hide the link's own).
func (e *filterEndpoint) GSOMaxSize() uint32 {
	if g, ok := e.LinkEndpoint.(stack.GSOEndpoint); ok {
		return g.GSOMaxSize()
	}
	return 0
}

// SupportedGSO implements stack.GSOEndpoint.
func (e *filterEndpoint) SupportedGSO() stack.SupportedGSO {
	if g, ok := e.LinkEndpoint.(stack.GSOEndpoint); ok {
		return g.SupportedGSO()
	}
	return stack.GSONotSupported
}

// Attach implements stack.LinkEndpoint.
func (e *filterEndpoint) Attach(d stack.NetworkDispatcher) {
	if d == nil {
		e.LinkEndpoint.Attach(nil)
		return
	}
	e.LinkEndpoint.Attach(&filterDispatcher{NetworkDispatcher: d, v: e.v})
}

type filterDispatcher struct {
	stack.NetworkDispatcher
	v *VPC
}

// DeliverNetworkPacket implements stack.NetworkDispatcher.
func (f *filterDispatcher) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if proto == ipv4.ProtocolNumber || proto == 0 {
		if b, ok := pkt.Data().PullUp(header.IPv4MinimumSize); ok && b[0]>>4 == 4 && b[9] == uint8(header.ICMPv4ProtocolNumber) {
			ihl := int(b[0]&0xf) * 4
			if b, ok := pkt.Data().PullUp(ihl + 1); ok && header.ICMPv4Type(b[ihl]) == header.ICMPv4Echo {
				src := netip.AddrFrom4([4]byte(b[12:16]))
				dst := netip.AddrFrom4([4]byte(b[16:20]))
				if !f.v.cfg.Proxy.AllowsICMP(f.v.cfg.ID, dst, src) {
					return // dropped by a security group
				}
			}
		}
	}
	f.NetworkDispatcher.DeliverNetworkPacket(proto, pkt)
}

// conn is a stack connection that can be reset (the data plane aborts
// flows with an RST, as it does on kernel sockets).
type conn struct {
	*gonet.TCPConn
	ep   tcpip.Endpoint
	fins *sync.Map // the VPC's
}

// WriteClose writes b, the last bytes of the stream, and closes the
// write side: the link sends the FIN on b's last segment (ackHold).
func (c *conn) WriteClose(b []byte) (int, error) {
	k := keyOf(c.ep.Info().(*stack.TransportEndpointInfo).ID)
	c.fins.Store(k, struct{}{})
	defer c.fins.Delete(k)
	n, err := c.Write(b)
	if err != nil {
		return n, err
	}
	return n, c.CloseWrite()
}

// Abort resets the connection.
func (c *conn) Abort() { c.ep.Abort() }

// SetKeepAliveConfig sets TCP keepalive as net.TCPConn's does: zero Idle
// and Interval mean 15 s, zero Count 9, negative ones leave the stack's
// value.
func (c *conn) SetKeepAliveConfig(kc net.KeepAliveConfig) error {
	if !kc.Enable {
		c.ep.SocketOptions().SetKeepAlive(false)
		return nil
	}
	def := func(d time.Duration) time.Duration {
		if d == 0 {
			return 15 * time.Second
		}
		return d
	}
	var errs []error
	if d := def(kc.Idle); d > 0 {
		o := tcpip.KeepaliveIdleOption(d)
		errs = append(errs, tcpipErr(c.ep.SetSockOpt(&o)))
	}
	if d := def(kc.Interval); d > 0 {
		o := tcpip.KeepaliveIntervalOption(d)
		errs = append(errs, tcpipErr(c.ep.SetSockOpt(&o)))
	}
	if n := kc.Count; n >= 0 {
		if n == 0 {
			n = 9
		}
		errs = append(errs, tcpipErr(c.ep.SetSockOptInt(tcpip.KeepaliveCountOption, n)))
	}
	c.ep.SocketOptions().SetKeepAlive(true)
	return errors.Join(errs...)
}

func tcpipErr(e tcpip.Error) error {
	if e == nil {
		return nil
	}
	return errors.New(e.String())
}

func addrOf(a tcpip.Address) netip.Addr {
	ip, _ := netip.AddrFromSlice(a.AsSlice())
	return ip
}

// Close stops the resolver, resets what is left and releases the stack
// and its TUN descriptors.
func (v *VPC) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	servers := v.dns
	v.mu.Unlock()
	v.end()
	for _, srv := range servers {
		srv.Shutdown()
	}
	v.wg.Wait()
	v.s.Close()
	v.mu.Lock()
	for _, ep := range v.tuns {
		ep.Close() // ends its reader, which Wait waits for
	}
	v.tuns = nil
	v.mu.Unlock()
	v.s.Wait()
}
