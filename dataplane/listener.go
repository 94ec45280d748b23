package dataplane

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"eplink/metrics"
)

// listener is one ENI address:port. Routing is not stored here but read
// from the current routeTable at accept time, so rebinding the ENI to
// another CLB (Force) swaps where new flows go without closing the socket:
// no connection attempt is refused during the switch.
type listener struct {
	addr   netip.AddrPort
	eniID  string
	ln     net.Listener
	eni    *eniFlows
	closed atomic.Bool
	done   chan struct{}
}

func (l *listener) close() {
	if l.closed.CompareAndSwap(false, true) {
		close(l.done)
		l.ln.Close()
	}
}

// eniFlows is the flow table of one ENI address, shared by its listeners.
// Each flow adds itself after dialing and removes itself in its teardown.
type eniFlows struct {
	id string
	// n counts flows and connections being set up, to bound them.
	n      atomic.Int64
	mu     sync.Mutex
	flows  map[*Flow]struct{}
	closed bool
}

func newENIFlows(id string) *eniFlows {
	return &eniFlows{id: id, flows: map[*Flow]struct{}{}}
}

func (e *eniFlows) reserve(limit int64) bool {
	if e.n.Add(1) > limit {
		e.n.Add(-1)
		return false
	}
	return true
}

func (e *eniFlows) release() { e.n.Add(-1) }

func (e *eniFlows) add(f *Flow) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.flows[f] = struct{}{}
	return true
}

func (e *eniFlows) remove(f *Flow) {
	e.mu.Lock()
	delete(e.flows, f)
	e.mu.Unlock()
	e.release()
}

// invalid returns the flows whose assignment t no longer allows.
func (e *eniFlows) invalid(t *routeTable) []*Flow {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []*Flow
	for f := range e.flows {
		if !t.valid(f.route, f.src) {
			out = append(out, f)
		}
	}
	return out
}

// closeAll marks the table closed (no flow may join) and returns its flows.
func (e *eniFlows) closeAll() []*Flow {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	out := make([]*Flow, 0, len(e.flows))
	for f := range e.flows {
		out = append(out, f)
	}
	return out
}

// serve accepts until the listener is closed; the loop itself holds that
// exit condition.
func (p *Proxy) serve(l *listener) {
	defer p.loops.Done()
	limit := p.opts.maxFlowsPerENI()
	var backoff time.Duration
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if l.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors or the like: back off like net/http.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("accept failed", "addr", l.addr, "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-l.done:
				return
			}
			continue
		}
		backoff = 0
		tc, ok := c.(*net.TCPConn)
		if !ok {
			p.log.Error("listener returned a non-TCP connection; closing it", "addr", l.addr)
			c.Close()
			continue
		}
		if !l.eni.reserve(limit) {
			p.refuse(tc, p.routes.Load().routes[l.addr], metrics.ReasonLimit)
			continue
		}
		p.flowWG.Add(1)
		p.work.run(func() { p.handle(l, tc) })
	}
}

// handle runs the accept path for one connection: SG → connection and zone
// gate → the CLB listener → a healthy backend → forward.
func (p *Proxy) handle(l *listener, c *net.TCPConn) {
	defer p.flowWG.Done()
	t := p.routes.Load()
	r := t.routes[l.addr]
	src := remoteAddr(c)
	var reason string
	switch {
	case r == nil:
		reason = metrics.ReasonNoResource // the listener is being removed
	case !r.ep.sg.allows(src, l.addr.Port()):
		reason = metrics.ReasonSGDenied
	case !r.connected:
		reason = metrics.ReasonNotConnected
	case r.pool == nil:
		reason = metrics.ReasonNoResource
	}
	if reason != "" {
		p.refuse(c, r, reason)
		l.eni.release()
		return
	}
	b, reason := p.dialBackend(r)
	if b == nil {
		p.refuse(c, r, reason)
		l.eni.release()
		return
	}
	if ka := p.opts.keepAlive(); ka > 0 {
		// The default Listen and Dial set keepalive themselves; seams may not.
		if p.opts.Listen != nil {
			c.SetKeepAlive(true)
			c.SetKeepAlivePeriod(ka)
		}
		if p.opts.Dial != nil {
			b.SetKeepAlive(true)
			b.SetKeepAlivePeriod(ka)
		}
	}
	f := newFlow(r, src, c, b, p)
	if !l.eni.add(f) {
		f.abort()
		l.eni.release()
		return
	}
	// apply stores a new table before it scans the flow tables; a flow that
	// joined after the scan must check the new table itself.
	if nt := p.routes.Load(); nt != t && !nt.valid(r, src) {
		f.abort()
	}
	if r.c.flows != nil {
		r.c.flows.Inc()
	}
	f.run()
	l.eni.remove(f)
}

// dialBackend picks backends by weighted round robin and dials them, trying
// at most three (each failed dial costs up to DialTimeout).
func (p *Proxy) dialBackend(r *route) (*net.TCPConn, string) {
	const attempts = 3
	var tried uint64
	for i := 0; i < attempts; i++ {
		idx, addr := r.pool.pick(tried)
		if idx < 0 {
			if i == 0 {
				return nil, metrics.ReasonNoHealthyBackend
			}
			break
		}
		if idx < maxTried {
			tried |= 1 << idx
		}
		ctx := p.ctx
		var cancel context.CancelFunc = func() {}
		if d := p.opts.dialTimeout(); d > 0 {
			ctx, cancel = context.WithTimeout(ctx, d)
		}
		c, err := p.dial(ctx, "tcp", addr)
		cancel()
		if err != nil {
			p.log.Debug("dial backend failed", "resource_id", r.resourceID, "backend", addr, "err", err)
			continue
		}
		if tc, ok := c.(*net.TCPConn); ok {
			return tc, ""
		}
		p.log.Error("dial returned a non-TCP connection", "backend", addr)
		c.Close()
	}
	return nil, metrics.ReasonDialFailed
}

// refuse resets the client (SetLinger(0) then Close sends RST) and counts
// the reason.
func (p *Proxy) refuse(c *net.TCPConn, r *route, reason string) {
	c.SetLinger(0)
	c.Close()
	if m := p.opts.Metrics; m != nil {
		var ep, svc, zone string
		if r != nil {
			ep, svc, zone = r.ep.id, r.ep.serviceID, r.zoneID
		}
		m.FlowsRefused.WithLabelValues(ep, svc, zone, reason).Inc()
	}
	if r != nil {
		p.log.Debug("refused", "reason", reason, "endpoint_id", r.ep.id, "zone_id", r.zoneID, "addr", r.addr)
	}
}

func remoteAddr(c *net.TCPConn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}
