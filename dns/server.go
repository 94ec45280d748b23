package dns

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/netutil"

	"eplink/controlplane/snapshot"
)

// Defaults for the zero values of Config and for the listeners.
const (
	// DefaultTTL suits labs: clients notice a migration or a failed zone
	// within seconds.
	DefaultTTL uint32 = 5
	// advertisedUDPSize is the EDNS0 buffer size we announce: the DNS flag
	// day 2020 value, which avoids IP fragmentation on any path.
	advertisedUDPSize = 1232
	// readUDPSize is the buffer each UDP query is read into. miekg/dns
	// defaults to 512, which would cut EDNS0 queries that carry options.
	readUDPSize = mdns.DefaultMsgSize
	// maxTCPConns bounds open TCP connections: each costs a goroutine and a
	// socket for up to the idle timeout, and a client can open many.
	maxTCPConns = 1024
	// bindAttempts is how often ListenAndServe retries a port-0 bind whose
	// UDP port turned out to be taken for TCP.
	bindAttempts = 16
	shutdownWait = 2 * time.Second
)

// Config configures a Server. The zero value works: it serves the snapshot's
// zone with DefaultTTL and refuses other names.
type Config struct {
	// Zone is the apex served; "" = the snapshot's DNSZone (default
	// privatelink.aliyuncs.com).
	Zone string
	// TTL of every answer and of negative caching; 0 = DefaultTTL.
	TTL uint32
	// Upstream is where names outside the zone are forwarded (host:port),
	// the way a VPC resolver does; "" = REFUSED outside the zone.
	Upstream string
	// UpstreamTimeout bounds one forwarded query; 0 = 2s.
	UpstreamTimeout time.Duration
	// Healthy reports whether a CLB has a healthy backend (the data plane's
	// health checks). nil = every CLB is healthy.
	Healthy func(resourceID string) bool
	// Served reports whether the data plane serves an ENI address (its
	// listener is open). An address it cannot serve — another process
	// holds it — is never handed out: clients would reach that process.
	// nil = every address is served.
	Served func(ip netip.Addr) bool
	// Registerer receives the metrics; nil = no metrics.
	Registerer prometheus.Registerer
	// Logger; nil = discard.
	Logger *slog.Logger
}

// Server is the authoritative DNS server of the PrivateLink zone. It answers
// from an index built once per snapshot (see index) and swapped atomically.
type Server struct {
	cfg     Config
	pub     *snapshot.Publisher
	log     *slog.Logger
	metrics *metrics
	fwd     *forwarder // nil without Upstream

	idx    atomic.Pointer[index]
	nsAddr atomic.Pointer[netip.Addr] // the bound address, for the glue record
	rotate atomic.Uint32

	ready     chan struct{}
	readyOnce sync.Once
	addr      atomic.Pointer[net.UDPAddr]
}

// New returns a Server answering from pub. It indexes the current snapshot
// at once, so ServeDNS works before ListenAndServe; ListenAndServe keeps the
// index current.
func New(cfg Config, pub *snapshot.Publisher) *Server {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if pub == nil {
		pub = new(snapshot.Publisher)
	}
	s := &Server{
		cfg:     cfg,
		pub:     pub,
		log:     cfg.Logger,
		metrics: newMetrics(cfg.Registerer),
		ready:   make(chan struct{}),
	}
	if cfg.Upstream != "" {
		s.fwd = newForwarder(cfg.Upstream, cfg.UpstreamTimeout)
	}
	s.apply(pub.Load())
	return s
}

// apply rebuilds the index from a snapshot and swaps it in.
func (s *Server) apply(snap *snapshot.Snapshot) {
	var ns netip.Addr
	if p := s.nsAddr.Load(); p != nil {
		ns = *p
	}
	ix := buildIndex(snap, s.cfg.Zone, s.cfg.TTL, ns)
	s.idx.Store(ix)
	s.log.Debug("dns: index rebuilt", "version", ix.version, "zone", ix.zone, "names", len(ix.names))
}

// Ready is closed once ListenAndServe has bound both UDP and TCP and
// serves; it stays open if ListenAndServe fails first, so wait on both.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Addr is the bound address (the same port serves UDP and TCP); nil before
// Ready.
func (s *Server) Addr() net.Addr {
	if a := s.addr.Load(); a != nil {
		return a
	}
	return nil
}

// ListenAndServe serves UDP and TCP on the same addr until ctx ends, then
// shuts both down and returns nil. With port 0 both get the same free port.
// Call it once per Server.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	n := udpSockets()
	if wildcard(addr) {
		n = 1 // served by miekg/dns, see serve
	}
	pcs, ln, err := listenBoth(ctx, addr, n)
	if err != nil {
		return fmt.Errorf("dns: listen %s: %w", addr, err)
	}
	ua := pcs[0].LocalAddr().(*net.UDPAddr)
	if ip, ok := netip.AddrFromSlice(ua.IP); ok && !ip.IsUnspecified() {
		ip = ip.Unmap()
		s.nsAddr.Store(&ip)
	}
	s.addr.Store(ua)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.apply(s.pub.Load()) // with the glue address, before the first answer
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		s.pub.Watch(ctx, s.apply)
	}()
	err = s.serve(ctx, pcs, ln)
	cancel()
	<-watched
	if err != nil {
		return fmt.Errorf("dns: serve %s: %w", ua, err)
	}
	return nil
}

// serve answers UDP on pcs (serveUDP) and TCP on ln (a miekg/dns server)
// until ctx ends or one of them fails, then shuts both down and waits.
func (s *Server) serve(ctx context.Context, pcs []*net.UDPConn, ln net.Listener) error {
	tcpStarted := make(chan struct{})
	tcp := &mdns.Server{
		Listener: netutil.LimitListener(ln, maxTCPConns), Handler: s,
		MsgAcceptFunc: acceptQuery, MsgInvalidFunc: s.invalid,
		NotifyStartedFunc: func() { close(tcpStarted) },
	}
	errc := make(chan error, 2)
	var udp *mdns.Server
	if ua := pcs[0].LocalAddr().(*net.UDPAddr); ua.IP.IsUnspecified() {
		// On a wildcard address each reply must leave from the address its
		// query came to; miekg/dns does that with IP_PKTINFO, serveUDP
		// does not.
		udp = &mdns.Server{
			PacketConn: pcs[0], Handler: s, UDPSize: readUDPSize,
			MsgAcceptFunc: acceptQuery, MsgInvalidFunc: s.invalid,
		}
		go func() { errc <- udp.ActivateAndServe() }()
	} else {
		go func() { errc <- s.serveUDP(pcs) }() // the sockets are bound: it serves at once
	}
	go func() { errc <- tcp.ActivateAndServe() }()

	var err error
	pending := 2
	select {
	case <-tcpStarted:
		s.readyOnce.Do(func() { close(s.ready) })
		s.log.Info("dns: serving", "addr", pcs[0].LocalAddr().String(), "zone", s.idx.Load().zone, "udp_sockets", len(pcs))
		select {
		case <-ctx.Done():
		case err = <-errc:
			pending--
		}
	case err = <-errc:
		pending--
	}

	// Shutdown closes what blocks (the sockets and the listener); a server
	// that failed to start has nothing to shut down, so close all here too.
	sctx, scancel := context.WithTimeout(context.Background(), shutdownWait)
	defer scancel()
	for _, srv := range []*mdns.Server{udp, tcp} {
		if srv == nil {
			continue
		}
		if err := srv.ShutdownContext(sctx); err != nil {
			s.log.Debug("dns: shutdown", "err", err)
		}
	}
	for _, pc := range pcs {
		pc.Close()
	}
	ln.Close()
	for ; pending > 0; pending-- {
		<-errc
	}
	return err
}

// wildcard reports whether addr's host is empty or an unspecified address.
func wildcard(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return host == "" || (err == nil && ip.IsUnspecified())
}

// listenBoth binds n UDP sockets (SO_REUSEPORT where n > 1) and TCP on the
// same address. For port 0 the kernel picks the UDP port; if that port is
// taken for TCP, it tries again.
func listenBoth(ctx context.Context, addr string, n int) ([]*net.UDPConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	var lc net.ListenConfig
	if n > 1 {
		lc.Control = reusePort
	}
	closeAll := func(pcs []*net.UDPConn) {
		for _, pc := range pcs {
			pc.Close()
		}
	}
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, err
		}
		pcs := []*net.UDPConn{pc.(*net.UDPConn)}
		bound := pc.LocalAddr().(*net.UDPAddr)
		p := bound.Port
		ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
		if err != nil {
			closeAll(pcs)
			if port != "0" || attempt+1 >= bindAttempts {
				return nil, nil, err
			}
			continue
		}
		for len(pcs) < n {
			more, err := lc.ListenPacket(ctx, "udp", bound.String())
			if err != nil {
				break // serve with the sockets we have
			}
			pcs = append(pcs, more.(*net.UDPConn))
		}
		return pcs, ln, nil
	}
}

// acceptQuery is miekg/dns's default filter, except that a query with a
// question count other than one reaches ServeDNS, which answers FORMERR and
// counts it, and NOTIFY is not implemented (nothing transfers this zone).
func acceptQuery(dh mdns.Header) mdns.MsgAcceptAction {
	const qrBit = 1 << 15
	if dh.Bits&qrBit != 0 {
		return mdns.MsgIgnore // a response: never answer one (reflection)
	}
	if opcode := int(dh.Bits>>11) & 0xF; opcode != mdns.OpcodeQuery {
		return mdns.MsgRejectNotImplemented
	}
	if dh.Ancount > 0 || dh.Nscount > 0 || dh.Arcount > 2 || dh.Qdcount > 8 {
		return mdns.MsgReject
	}
	return mdns.MsgAccept
}

// ServeDNS implements the miekg/dns Handler interface.
func (s *Server) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) {
	start := time.Now()
	qtype := "none"
	rcode := -1 // nothing written
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("dns: panic answering a query", "panic", p, "stack", string(debug.Stack()))
			m := new(mdns.Msg)
			m.SetRcode(r, mdns.RcodeServerFailure)
			if err := w.WriteMsg(m); err == nil {
				rcode = mdns.RcodeServerFailure
			}
		}
		if rcode >= 0 {
			s.metrics.observe(qtype, rcode, time.Since(start))
		}
	}()
	if len(r.Question) > 0 {
		qtype = typeLabel(r.Question[0].Qtype)
	}
	m := s.respond(w, r)
	if err := w.WriteMsg(m); err != nil {
		s.log.Debug("dns: write", "client", w.RemoteAddr(), "err", err)
		return
	}
	rcode = m.Rcode
}

// respond builds the reply: match the zone (or refuse/forward), look up,
// then fit it to the transport.
func (s *Server) respond(w mdns.ResponseWriter, r *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(r)
	if len(r.Question) != 1 {
		m.Question = nil
		m.Rcode = mdns.RcodeFormatError
		return m
	}
	size := mdns.MinMsgSize
	if opt := r.IsEdns0(); opt != nil {
		// Echo OPT; RFC 6891 §6.1.3: unknown version → BADVERS, nothing else.
		m.SetEdns0(advertisedUDPSize, opt.Do())
		if opt.Version() != 0 {
			m.Rcode = mdns.RcodeBadVers
			return m
		}
		size = max(int(opt.UDPSize()), mdns.MinMsgSize)
	}

	q := r.Question[0]
	a := s.idx.Load().lookup(query{
		name:   q.Name,
		qtype:  q.Qtype,
		qclass: q.Qclass,
		client: remoteAddr(w),
		health: s.cfg.Healthy,
		served: s.cfg.Served,
		rotate: s.rotate.Add(1),
	})
	if a.kind == outside && s.fwd != nil {
		m = s.fwd.forward(r, m)
	} else {
		m.Authoritative = a.kind != outside && a.kind != refused
		// With an upstream we resolve any name, as the VPC resolver does;
		// saying so keeps stub resolvers and dig from warning.
		m.RecursionAvailable = s.fwd != nil
		m.Answer, m.Ns, m.Extra = a.answer, a.ns, append(a.extra, m.Extra...)
		m.Rcode = a.rcode()
	}
	if isUDP(w) {
		m.Truncate(size) // sets TC when records had to go
	} else {
		m.Truncate(mdns.MaxMsgSize)
	}
	return m
}

func remoteAddr(w mdns.ResponseWriter) netip.Addr {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort().Addr().Unmap()
	case *net.TCPAddr:
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

func isUDP(w mdns.ResponseWriter) bool {
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	return !tcp
}
