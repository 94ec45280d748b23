package dataplane

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// Proxy is the data plane: it listens on ENI addresses and forwards flows to
// CLB backends, reconciling to each snapshot the control plane publishes.
type Proxy struct {
	opts Options
	log  *slog.Logger
	now  func() time.Time
	// dial is the health checks' dialer (flows connect from the loops).
	dial func(ctx context.Context, network, addr string) (net.Conn, error)

	routes atomic.Pointer[routeTable]
	// applied is the Version of the last snapshot applied (tests wait on it).
	applied atomic.Uint64

	// ctx lives until Run returns; health checks hang off it.
	ctx context.Context

	// Owned by the Run goroutine.
	last     *snapshot.Snapshot // the snapshot applied last
	loops    []*loop
	eps      map[string]*epState
	pools    map[poolKey]*pool
	checkers map[checkKey]*checker
	resolved map[string]netip.AddrPort // backend address → what flows dial

	// unserved maps the ENI addresses with a listener that could not be
	// opened to that failure; nil when every ENI is served. DNS asks it on
	// every query, so it is read without a lock.
	unserved atomic.Pointer[map[netip.Addr]*BindError]

	// mu guards what the metrics collector and Errors read.
	mu        sync.Mutex
	listeners map[netip.AddrPort]*listener
	enis      map[netip.Addr]*eniFlows
	errs      []error

	// conns are the flows the netns front end carries (conn.go), and the
	// impaired flows of the loopback front end.
	conns connFlows

	// impairs are the impairments of ENIs, zones and CLBs (impair.go): nil
	// while none is set; impairMu orders the writers.
	impairs  atomic.Pointer[impairments]
	impairMu sync.Mutex

	// restart takes Restart's requests to the Run goroutine; stopped is
	// closed when Run returns.
	restart chan restartReq
	stopped chan struct{}
}

// bindRetry is how often listeners that failed to open are tried again
// while no new snapshot comes: the process holding the address may go.
const bindRetry = 2 * time.Second

// New returns a Proxy configured by opts; Run starts it.
func New(opts Options) *Proxy {
	p := &Proxy{
		opts:      opts,
		log:       opts.Logger,
		now:       opts.Now,
		dial:      (&net.Dialer{}).DialContext,
		ctx:       context.Background(),
		eps:       map[string]*epState{},
		pools:     map[poolKey]*pool{},
		checkers:  map[checkKey]*checker{},
		resolved:  map[string]netip.AddrPort{},
		listeners: map[netip.AddrPort]*listener{},
		enis:      map[netip.Addr]*eniFlows{},
		restart:   make(chan restartReq),
		stopped:   make(chan struct{}),
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.routes.Store(&routeTable{routes: map[netip.AddrPort]*route{}, vpcs: map[string]map[netip.AddrPort]*route{},
		enis: map[vpcAddr]*endpoint{}, lbs: map[string]*clb{}})
	p.conns.flows = map[*connFlow]struct{}{}
	p.conns.enis = map[vpcAddr]*eniFlows{}
	if opts.Metrics != nil {
		opts.Metrics.ObserveDataplane(p.gauges)
	}
	return p
}

// Run starts the event loops (Options.Loops), reconciles to every snapshot
// from pub until ctx ends, then closes listeners and flows (resetting them)
// and stops health checks. It returns nil after a clean shutdown, or the
// error that kept the loops from starting. Call it once.
func (p *Proxy) Run(ctx context.Context, pub *snapshot.Publisher) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer close(p.stopped)
	p.ctx = ctx
	if err := p.startLoops(p.opts.Loops); err != nil {
		return fmt.Errorf("data plane: %w", err)
	}
	for {
		ch := pub.Changed()
		p.apply(pub.Load())
		req, changed := p.waitChange(ctx, ch)
		if req != nil {
			if ok, err := p.restartNow(ctx, *req); !ok {
				return err
			}
			p.apply(pub.Load())
			req.done <- nil
			continue
		}
		if !changed {
			p.shutdown()
			return nil
		}
	}
}

// waitChange waits for the next snapshot (ch) or a Restart, retrying
// failed listeners meanwhile; it returns false and no request when ctx
// ends.
func (p *Proxy) waitChange(ctx context.Context, ch <-chan struct{}) (*restartReq, bool) {
	retry := time.NewTimer(bindRetry)
	defer retry.Stop()
	for {
		select {
		case <-ch:
			return nil, true
		case req := <-p.restart:
			return &req, false
		case <-ctx.Done():
			return nil, false
		case <-retry.C:
			if p.retryBinds() {
				retry.Reset(bindRetry)
			}
		}
	}
}

// Healthy reports whether a CLB has at least one healthy backend with a
// positive weight (DNS uses it).
func (p *Proxy) Healthy(resourceID string) bool {
	lb := p.routes.Load().lbs[resourceID]
	return lb != nil && lb.healthy()
}

// Version returns the Version of the last snapshot applied, so a caller can
// wait until the data plane has caught up with a change.
func (p *Proxy) Version() uint64 {
	return p.applied.Load()
}

// BindError is a listener that could not be opened on an ENI address.
type BindError struct {
	Addr       netip.AddrPort
	EndpointID string
	ZoneID     string
	Err        error
}

func (e *BindError) Error() string {
	return fmt.Sprintf("listen on ENI %s (endpoint %s, zone %s): %v", e.Addr, e.EndpointID, e.ZoneID, e.Err)
}

func (e *BindError) Unwrap() error { return e.Err }

// Errors returns the listener failures (*BindError) left after the last
// snapshot was applied, for the binary to report. Failed listeners are
// retried on every new snapshot, and every few seconds until they open.
func (p *Proxy) Errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

// Serves reports whether the data plane serves an ENI address: false when
// one of its listeners could not be opened (another process holds the
// address), so DNS must not hand it out. Addresses the data plane has no
// route for are not its to judge and report true.
func (p *Proxy) Serves(ip netip.Addr) bool {
	m := p.unserved.Load()
	return m == nil || (*m)[ip.Unmap()] == nil
}

// ENIError returns why an ENI address is not served, nil when it is.
func (p *Proxy) ENIError(ip netip.Addr) error {
	if m := p.unserved.Load(); m != nil {
		if e := (*m)[ip.Unmap()]; e != nil {
			return e
		}
	}
	return nil
}

// setErrs records the listener failures of the current route table.
func (p *Proxy) setErrs(errs []error) {
	var unserved map[netip.Addr]*BindError
	for _, err := range errs {
		if be, ok := err.(*BindError); ok {
			if unserved == nil {
				unserved = map[netip.Addr]*BindError{}
			}
			if ip := be.Addr.Addr().Unmap(); unserved[ip] == nil {
				unserved[ip] = be
			}
		}
	}
	p.mu.Lock()
	p.errs = errs
	p.mu.Unlock()
	if unserved == nil {
		p.unserved.Store(nil)
	} else {
		p.unserved.Store(&unserved)
	}
}

// retryBinds tries again to open the listeners that failed, without a new
// snapshot; it reports whether some still fail. A retry is not counted as
// a new bind error.
func (p *Proxy) retryBinds() bool {
	p.mu.Lock()
	old := p.errs
	p.mu.Unlock()
	if len(old) == 0 {
		return false
	}
	t := p.routes.Load()
	var errs []error
	for _, err := range old {
		be, ok := err.(*BindError)
		if !ok {
			continue
		}
		r := t.routes[be.Addr]
		if r == nil {
			continue
		}
		if _, open := p.listeners[be.Addr]; open {
			continue
		}
		if err := p.open(r); err != nil {
			errs = append(errs, &BindError{Addr: be.Addr, EndpointID: r.ep.id, ZoneID: r.zoneID, Err: err})
			continue
		}
		p.log.Info("listening on ENI after all", "addr", be.Addr, "endpoint_id", r.ep.id, "zone_id", r.zoneID)
	}
	p.setErrs(errs)
	return len(errs) > 0
}

// apply reconciles to one snapshot: swap the routes, open and close
// listeners by set difference, close the flows whose assignment ended.
func (p *Proxy) apply(s *snapshot.Snapshot) {
	if s == p.last {
		// Watch hands the same snapshot again when it was published
		// between Watch's start and its first Load: nothing is new (a
		// failed bind would be retried and counted twice).
		return
	}
	p.last = s
	prevPorts := map[netip.Addr][]uint16{}
	for addr := range p.listeners { // only this goroutine writes listeners
		prevPorts[addr.Addr()] = append(prevPorts[addr.Addr()], addr.Port())
	}
	if p.opts.Netns { // no listeners: the ports served are the last table's
		for addr := range p.routes.Load().routes {
			prevPorts[addr.Addr()] = append(prevPorts[addr.Addr()], addr.Port())
		}
	}
	t := p.build(s, prevPorts)
	p.routes.Store(t)

	p.mu.Lock()
	var closing []*listener
	for addr, l := range p.listeners {
		if r := t.routes[addr]; r == nil || r.eniID != l.eniID {
			closing = append(closing, l)
			delete(p.listeners, addr)
		}
	}
	p.mu.Unlock()
	for _, l := range closing {
		p.closeListener(l)
	}
	p.closeIdleENIs()

	var errs []error
	addrs := make([]netip.AddrPort, 0, len(t.routes))
	for addr := range t.routes {
		if p.opts.Netns {
			break // the VPC stacks serve the ENIs
		}
		addrs = append(addrs, addr)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Compare(addrs[j]) < 0 })
	for _, addr := range addrs {
		if _, ok := p.listeners[addr]; ok {
			continue
		}
		r := t.routes[addr]
		if err := p.open(r); err != nil {
			errs = append(errs, &BindError{Addr: addr, EndpointID: r.ep.id, ZoneID: r.zoneID, Err: err})
			p.log.Error("cannot listen on ENI", "addr", addr, "endpoint_id", r.ep.id, "zone_id", r.zoneID, "err", err)
			if m := p.opts.Metrics; m != nil {
				m.BindErrors.WithLabelValues(r.ep.id, r.zoneID).Inc()
			}
		}
	}
	p.setErrs(errs)
	p.mu.Lock()
	enis := make([]*eniFlows, 0, len(p.enis))
	for _, e := range p.enis {
		enis = append(enis, e)
	}
	p.mu.Unlock()

	for _, e := range enis {
		for _, f := range e.invalid(t) {
			p.log.Debug("closing flow", "endpoint_id", f.route.ep.id, "zone_id", f.route.zoneID,
				"resource_id", f.route.resourceID, "client", f.src)
			f.abort()
		}
	}
	p.recheckDialing()
	p.conns.abortInvalid(t)
	p.applied.Store(s.Version)
}

// open starts a listener for r, creating its ENI's flow table if needed.
func (p *Proxy) open(r *route) error {
	p.mu.Lock()
	e := p.enis[r.addr.Addr()]
	p.mu.Unlock()
	if e == nil {
		e = newENIFlows(r.eniID)
	}
	l, err := p.listen(r, e)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.enis[r.addr.Addr()] = e
	p.listeners[r.addr] = l
	p.mu.Unlock()
	return nil
}

// closeIdleENIs drops the flow tables of ENI addresses that have no
// listener left, resetting their flows: removing an ENI closes its flows.
func (p *Proxy) closeIdleENIs() {
	p.mu.Lock()
	used := map[netip.Addr]bool{}
	for addr := range p.listeners {
		used[addr.Addr()] = true
	}
	var gone []*eniFlows
	for ip, e := range p.enis {
		if !used[ip] {
			gone = append(gone, e)
			delete(p.enis, ip)
		}
	}
	p.mu.Unlock()
	for _, e := range gone {
		for _, f := range e.closeAll() {
			f.abort()
		}
	}
}

// shutdown closes every listener, resets every flow, ends the loops and
// stops the health checks.
func (p *Proxy) shutdown() {
	p.mu.Lock()
	ls := p.listeners
	p.listeners = map[netip.AddrPort]*listener{}
	p.mu.Unlock()
	for _, l := range ls {
		p.closeListener(l)
	}
	p.closeIdleENIs()
	p.conns.abortAll()
	p.stopLoops()
	for k, c := range p.checkers {
		c.stop()
		delete(p.checkers, k)
	}
}

func (p *Proxy) startChecker(resourceID, addr string, cfg snapshot.HealthCheck,
	dial func(context.Context, string, string) (net.Conn, error)) *checker {
	ctx, cancel := context.WithCancel(p.ctx)
	c := &checker{resourceID: resourceID, addr: addr, cfg: cfg, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx, dial, p.log)
	return c
}

// gauges reports the scrape-time state to the metrics collector.
func (p *Proxy) gauges() metrics.DataplaneState {
	var s metrics.DataplaneState
	t := p.routes.Load()
	s.Zones = t.zones
	for id, lb := range t.lbs {
		g := metrics.CLBGauge{ResourceID: id, ZoneID: lb.zone, Role: metrics.CLBZonePrimary}
		switch {
		case lb.down:
			g.ZoneID, g.Role = "", metrics.CLBUnavailable
		case lb.zone != lb.primary:
			g.Role = metrics.CLBZoneBackup
		}
		s.CLBs = append(s.CLBs, g)
		for _, c := range lb.checkers {
			s.Backends = append(s.Backends, metrics.BackendGauge{ResourceID: id, Backend: c.addr, Up: c.up()})
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr := range p.listeners {
		if r := t.routes[addr]; r != nil {
			s.Listeners = append(s.Listeners, metrics.ListenerGauge{EndpointID: r.ep.id, ZoneID: r.zoneID, Open: 1})
		}
	}
	type key struct{ ep, svc, res, zone string }
	counts := map[key]int{}
	for _, e := range p.enis {
		e.mu.Lock()
		for f := range e.flows {
			r := f.route
			counts[key{r.ep.id, r.ep.serviceID, r.resourceID, r.zoneID}]++
		}
		e.mu.Unlock()
	}
	p.conns.count(func(r *route) { counts[key{r.ep.id, r.ep.serviceID, r.resourceID, r.zoneID}]++ })
	for k, n := range counts {
		s.Flows = append(s.Flows, metrics.FlowGauge{EndpointID: k.ep, ServiceID: k.svc, ResourceID: k.res, ZoneID: k.zone, Active: n})
	}
	return s
}

// count counts a refused connection by reason.
func (p *Proxy) count(r *route, reason string) {
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
