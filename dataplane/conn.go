package dataplane

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"eplink/dataplane/impair"
	"eplink/metrics"
)

// The netns front end's carrier. A VPC stack (dataplane/netstack) owns the
// ENI addresses; for each connection attempt it asks Admit, which runs the
// same accept path as the loops (route → limit → SG → gates → pool), then
// dials with Admission.Dial (the same pick, the same refusal reasons) and
// hands both conns to Admission.Run, which copies under the endpoint
// connection's shared token buckets and keeps the flow in a table that
// apply scans, so Force migration, disconnection and security-group changes
// close these flows as they close the loops'.
//
//	stack SYN ──► Admit ──► Admission.Dial ──► (handshake) ──► Admission.Run
//	              route     pool.pick           carrier         copy ×2 + debt
//	              sg.allows dial (host / VPC)                   connFlows table

// Admission is a connection attempt the accept path let through: the route
// (the assignment the flow keeps) and the backends tried so far.
type Admission struct {
	p     *Proxy
	r     *route
	t     *routeTable
	src   netip.Addr
	eni   *eniFlows
	tried uint64
	// attempts counts dials; done says Run or Refuse took the admission.
	attempts int
	done     bool
	// impair, if set, impairs what the flow writes to the client
	// (impair.go).
	impair impair.Source
}

// vpcAddr is an ENI address within its VPC.
type vpcAddr struct {
	vpc  string
	addr netip.Addr
}

// Admit runs the accept path for a connection from src to dst, an address
// in VPC vpcID. It returns the admission, or nil and the refusal reason
// (metrics.Reason…), already counted. A nil admission with reason "" means
// dst is no ENI listener at all: the carrier answers as a closed port. On
// metrics.ReasonSGDenied the carrier drops the SYN, as a security group
// does; on any other reason it resets.
func (p *Proxy) Admit(vpcID string, dst netip.AddrPort, src netip.Addr) (*Admission, string) {
	t := p.routes.Load()
	r := t.vpcs[vpcID][dst]
	if r == nil {
		return nil, ""
	}
	e := p.conns.eni(vpcAddr{vpcID, dst.Addr()}, r.eniID)
	if !e.reserve(p.opts.maxFlowsPerENI()) {
		p.count(r, metrics.ReasonLimit)
		return nil, metrics.ReasonLimit
	}
	var reason string
	switch {
	case !r.ep.sg.allows(src, dst.Port()):
		reason = metrics.ReasonSGDenied
	case !r.connected:
		reason = metrics.ReasonNotConnected
	case r.pool == nil:
		reason = metrics.ReasonNoResource
	}
	if reason != "" {
		e.release()
		p.count(r, reason)
		return nil, reason
	}
	return &Admission{p: p, r: r, t: t, src: src, eni: e, impair: p.impairment(r)}, ""
}

// AllowsICMP reports whether an ICMP echo request from src to dst, an
// address in VPC vpcID, may be answered: any address but an ENI's may; an
// ENI's endpoint's security groups decide on the real source (no ICMP or
// "all" rule matching means drop).
func (p *Proxy) AllowsICMP(vpcID string, dst, src netip.Addr) bool {
	ep := p.routes.Load().enis[vpcAddr{vpcID, dst}]
	return ep == nil || ep.icmp.allows(src, 1)
}

// Dial connects to the next healthy backend by weighted round robin,
// trying at most three, as the loops do. When none answers the flow is
// refused (counted no_healthy_backend or dial_failed) and the error says so;
// the carrier then resets the client.
func (a *Admission) Dial(ctx context.Context) (net.Conn, error) {
	const attempts = 3
	p, r := a.p, a.r
	var lastErr error
	for a.attempts < attempts {
		idx, pe := r.pool.pick(a.tried)
		if idx < 0 {
			break
		}
		a.attempts++
		if idx < maxTried {
			a.tried |= 1 << idx
		}
		dctx, cancel := ctx, context.CancelFunc(func() {})
		if d := p.opts.dialTimeout(); d > 0 {
			dctx, cancel = context.WithTimeout(ctx, d)
		}
		c, err := p.dialPeer(dctx, pe)
		cancel()
		if err == nil {
			return c, nil
		}
		lastErr = err
		p.log.Debug("dial backend failed", "resource_id", r.resourceID, "backend", pe.ap, "err", err)
	}
	reason := metrics.ReasonDialFailed
	if a.attempts == 0 {
		reason = metrics.ReasonNoHealthyBackend
		lastErr = errors.New("no healthy backend")
	}
	a.Refuse(reason)
	return nil, lastErr
}

// Refuse gives the admission up, counting reason ("" counts nothing).
func (a *Admission) Refuse(reason string) {
	if a.done {
		return
	}
	a.done = true
	a.eni.release()
	if reason != "" {
		a.p.count(a.r, reason)
	}
}

// dialPeer dials one backend: inside its VPC for an instance backend, from
// the host otherwise.
func (p *Proxy) dialPeer(ctx context.Context, pe peer) (net.Conn, error) {
	if pe.vpc != "" {
		if p.opts.DialVPC == nil {
			return nil, errors.New("instance backend without a VPC network")
		}
		return p.opts.DialVPC(ctx, pe.vpc, pe.src, pe.ap)
	}
	if !pe.ap.IsValid() {
		return nil, errors.New("backend address does not resolve: " + pe.addr)
	}
	// Keepalive is left off here and turned on by Run once the flow has
	// lived keepAliveAfter, as the loops' sweep does: Go's default would
	// be four setsockopts on every dial, about an eighth of the system
	// calls of a short connection, for flows that end long before a probe.
	d := net.Dialer{KeepAlive: -1}
	return d.DialContext(ctx, "tcp", pe.ap.String())
}

// backendDialer is the health checks' dial for a backend.
func (p *Proxy) backendDialer(vpcID string, src netip.Addr) func(context.Context, string, string) (net.Conn, error) {
	if vpcID == "" {
		return p.dial
	}
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil {
			return nil, err
		}
		return p.dialPeer(ctx, peer{addr: addr, ap: ap, vpc: vpcID, src: src})
	}
}

// connFlow is a flow the netns front end carries: two conns and a
// goroutine per direction.
type connFlow struct {
	route    *route
	src      netip.Addr
	conns    [2]net.Conn // client, backend
	bytes    [2]atomic.Int64
	last     atomic.Int64 // unix nanoseconds of the last byte moved
	aborting atomic.Bool
	eofs     atomic.Int32 // directions that ended at their source's EOF
}

// connFlows is the table of conn-carried flows.
type connFlows struct {
	mu     sync.Mutex
	flows  map[*connFlow]struct{}
	enis   map[vpcAddr]*eniFlows // the per-ENI bound (MaxFlowsPerENI)
	closed bool
}

func (c *connFlows) eni(k vpcAddr, id string) *eniFlows {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.enis[k]
	if e == nil || e.id != id {
		e = newENIFlows(id)
		c.enis[k] = e
	}
	return e
}

func (c *connFlows) add(f *connFlow) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.flows[f] = struct{}{}
	return true
}

func (c *connFlows) remove(f *connFlow) {
	c.mu.Lock()
	delete(c.flows, f)
	c.mu.Unlock()
}

// abortInvalid resets the flows whose assignment t no longer allows.
func (c *connFlows) abortInvalid(t *routeTable) {
	c.mu.Lock()
	var out []*connFlow
	for f := range c.flows {
		if !t.valid(f.route, f.src) {
			out = append(out, f)
		}
	}
	c.mu.Unlock()
	for _, f := range out {
		f.abort()
	}
}

// abortAll resets every flow and takes no new one (shutdown).
func (c *connFlows) abortAll() {
	c.mu.Lock()
	c.closed = true
	out := make([]*connFlow, 0, len(c.flows))
	for f := range c.flows {
		out = append(out, f)
	}
	c.mu.Unlock()
	for _, f := range out {
		f.abort()
	}
}

func (c *connFlows) count(fn func(*route)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for f := range c.flows {
		fn(f.route)
	}
}

// abort resets both conns; the copying goroutines see the error and end.
func (f *connFlow) abort() {
	if f.aborting.CompareAndSwap(false, true) {
		for _, c := range f.conns {
			reset(c)
		}
	}
}

// reset closes c with an RST where the conn can send one.
func reset(c net.Conn) {
	switch c := c.(type) {
	case interface{ Abort() }: // a netstack conn
		c.Abort()
	case *net.TCPConn:
		c.SetLinger(0)
	}
	c.Close()
}

// Run carries the flow until both directions have ended (each passes its
// FIN on) or the flow is aborted, then closes both conns. It owns them
// from the call on.
func (a *Admission) Run(client, backend net.Conn) {
	p, r := a.p, a.r
	a.done = true
	defer a.eni.release()
	if a.impair != nil {
		client = impair.NewConn(client, a.impair)
	}
	f := &connFlow{route: r, src: a.src, conns: [2]net.Conn{client, backend}}
	f.last.Store(time.Now().UnixNano())
	if !p.conns.add(f) {
		f.abort()
		return
	}
	defer p.conns.remove(f)
	// apply stores a new table before it scans the flow table; a flow
	// that joined after the scan must check the new table itself.
	if nt := p.routes.Load(); nt != a.t && !nt.valid(r, a.src) {
		f.abort()
		return
	}
	if r.c.flows != nil {
		r.c.flows.Inc()
	}
	// One timer per flow, pushed back by the bytes it moves (as
	// tailscale's forwardUDP extends its timer), rather than a read
	// deadline reset before every read. It first fires after
	// keepAliveAfter to turn keepalive on for both legs (a flow that ends
	// sooner never pays for it), then at the idle timeout.
	idle, ka := p.opts.idleTimeout(), p.opts.keepAlive()
	if idle > 0 || ka > 0 {
		first, kaDone := idle, ka <= 0
		if !kaDone && (first <= 0 || keepAliveAfter < first) {
			first = keepAliveAfter
		}
		var mu sync.Mutex // t is set before the function can read it
		var t *time.Timer
		mu.Lock()
		t = time.AfterFunc(first, func() {
			mu.Lock()
			defer mu.Unlock()
			if !kaDone {
				kaDone = true
				f.keepAlive(p, ka)
				if idle <= 0 {
					return
				}
			}
			if d := idle - time.Since(time.Unix(0, f.last.Load())); d > 0 {
				t.Reset(d)
				return
			}
			p.log.Debug("flow ended", "endpoint_id", r.ep.id, "client", a.src, "err", errIdle)
			f.abort()
		})
		mu.Unlock()
		defer func() {
			mu.Lock()
			t.Stop()
			mu.Unlock()
		}()
	}
	// The caller's goroutine carries one direction itself: one goroutine
	// fewer to start and hand over to per flow.
	done := make(chan error, 2)
	Go(func() { f.pipe(p, up, done) })
	f.pipe(p, down, done)
	err1, err2 := <-done, <-done
	if err := errors.Join(err1, err2); err != nil {
		p.log.Debug("flow ended", "endpoint_id", r.ep.id, "client", a.src, "err", err)
		f.abort()
		return
	}
	client.Close()
	backend.Close()
}

// A conn-carried direction starts reading into minCopyBuf bytes and
// doubles its buffer up to maxCopyBuf while reads fill it: a goroutine
// blocked in Read holds its buffer, so 10,000 idle flows cost 2 × 2 KiB
// each rather than 2 × 64 KiB, while bulk transfers soon read 64 KiB at a
// time.
const (
	minCopyBuf = 2 << 10
	maxCopyBuf = 64 << 10
)

// pipe copies direction dir and passes the half-close on; the peer may
// still be talking. Shaped, it reads at most its share of the bucket's
// burst and pays after the bytes moved, as the loops do.
func (f *connFlow) pipe(p *Proxy, dir int, done chan<- error) {
	src, dst := f.conns[dir], f.conns[1-dir]
	b := f.route.ep.buckets
	b.flows[dir].Add(1)
	defer b.flows[dir].Add(-1)
	buf := make([]byte, minCopyBuf)
	var wait *time.Timer
	// A stream that ends with the data before its end (a backend that
	// answers and closes) is written with its FIN in one packet where dst
	// can (a VPC stack's conn). Whether the end came is seen with a peek
	// after each read, until one finds nothing waiting: from then on the
	// flow is an exchange, and looking would cost a system call per
	// answer.
	var peek syscall.RawConn
	wc, ok := dst.(writeCloser)
	if ok {
		peek = peekable(src)
	}
	for {
		limit := len(buf)
		burst := int(b.burst.Load())
		if burst > 0 {
			limit = min(limit, b.chunk(dir, burst))
		}
		n, err := src.Read(buf[:limit])
		if n > 0 {
			last := false
			if peek != nil && err == nil {
				switch peekEnd(peek) {
				case peekedEnd:
					last = true
				case peekedNothing:
					peek = nil
				}
			}
			var werr error
			if last {
				f.eofs.Add(1)
				_, werr = wc.WriteClose(buf[:n])
			} else {
				_, werr = dst.Write(buf[:n])
			}
			if werr != nil {
				done <- wrapDir(dir, werr)
				return
			}
			f.moved(dir, n)
			if n == len(buf) && len(buf) < maxCopyBuf {
				buf = make([]byte, 2*len(buf)) // a bulk transfer: read more at once
			}
			if burst > 0 {
				if d := debt(b.dir[dir], n, p.now()); d > 0 {
					if c := f.route.ep.shapeWait[dir]; c != nil {
						c.Add(d.Seconds())
					}
					if wait == nil {
						wait = time.NewTimer(d)
					} else {
						wait.Reset(d)
					}
					<-wait.C
				}
			}
			if last {
				done <- nil
				return
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			// The first direction to end passes the half-close on. The
			// second needs none: both sources are read to their end and
			// Run closes both conns next, and a close sends the FIN. On a
			// kernel socket that saves a shutdown call per flow.
			if f.eofs.Add(1) == 1 {
				closeWrite(dst)
			}
			done <- nil
			return
		default:
			done <- wrapDir(dir, err)
			return
		}
	}
}

// keepAliveAfter is how long a conn-carried flow lives before keepalive
// is turned on for its legs (the loops' sweep does it within a second).
const keepAliveAfter = time.Second

// keepAliver is a conn whose keepalive can be set: *net.TCPConn, a VPC
// stack's conn.
type keepAliver interface {
	SetKeepAliveConfig(net.KeepAliveConfig) error
}

// keepAlive turns TCP keepalive on for both legs with idle period ka and
// the interval Go uses; the probe count is left at the stack's default.
// A kernel socket and a VPC stack's conn both take a KeepAliveConfig.
func (f *connFlow) keepAlive(p *Proxy, ka time.Duration) {
	kc := net.KeepAliveConfig{Enable: true, Idle: ka, Interval: 15 * time.Second, Count: -1}
	for _, c := range f.conns {
		if k, ok := c.(keepAliver); ok {
			if err := k.SetKeepAliveConfig(kc); err != nil && !f.aborting.Load() {
				p.log.Debug("flow keepalive", "endpoint_id", f.route.ep.id, "client", f.src, "err", err)
			}
		}
	}
}

func (f *connFlow) moved(dir, n int) {
	f.bytes[dir].Add(int64(n))
	f.last.Store(time.Now().UnixNano())
	if c := f.route.c.bytes[dir]; c != nil {
		c.Add(float64(n))
	}
}

// writeCloser is a conn that writes the last bytes of a stream and its
// end together.
type writeCloser interface {
	WriteClose(b []byte) (int, error)
}

// peekable is the socket peekEnd looks into: c's, if c is a kernel
// socket, else nil.
func peekable(c net.Conn) syscall.RawConn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// What a peek at a kernel socket found next.
const (
	peekedData    = iota // bytes, or an error for the next read to tell
	peekedEnd            // the peer's FIN
	peekedNothing        // nothing yet
)

// peekEnd looks, without waiting, at what the kernel socket rc has next.
func peekEnd(rc syscall.RawConn) int {
	got := peekedData
	var b [1]byte
	rc.Read(func(fd uintptr) bool {
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EAGAIN:
			got = peekedNothing
		case err == nil && n == 0:
			got = peekedEnd
		}
		return true
	})
	return got
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

func wrapDir(dir int, err error) error {
	return &dirError{dir: dir, err: err}
}

type dirError struct {
	dir int
	err error
}

func (e *dirError) Error() string { return dirNames[e.dir] + ": " + e.err.Error() }
func (e *dirError) Unwrap() error { return e.err }
