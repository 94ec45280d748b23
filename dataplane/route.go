package dataplane

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// routeTable is what the accept path reads, built once per snapshot and
// swapped atomically: a flow reads it once, at accept time.
type routeTable struct {
	routes map[netip.AddrPort]*route
	// vpcs are the same routes by VPC, as the netns front end looks them
	// up: there, VPCs may overlap and an address means something only
	// within its VPC.
	vpcs map[string]map[netip.AddrPort]*route
	// enis are the endpoints by ENI address within their VPC (ICMP).
	enis  map[vpcAddr]*endpoint
	lbs   map[string]*clb
	zones []metrics.ZoneGauge
}

// route is one ENI address:port bound to a CLB listener: the assignment a
// flow accepted there starts with and keeps.
type route struct {
	addr       netip.AddrPort
	ep         *endpoint
	zoneID     string
	eniID      string
	resourceID string
	// replaced is set for the old ENI of a Graceful replacement.
	replaced bool
	// connected: the endpoint connection and the zone are in states that
	// carry traffic (a missing resource is told apart as no_resource).
	connected bool
	// pool is the CLB listener's backends; nil if the resource or its
	// listener on this port is missing, or the CLB is unavailable.
	pool *pool
	// lbZone is the zone the CLB ran in (snapshot ActiveZone): a flow
	// does not survive its CLB switching zones.
	lbZone string
	c      routeCounters
}

// endpoint is an endpoint and its connection, as one snapshot has it.
type endpoint struct {
	id, serviceID string
	vpcID         string
	sg            *sgTable
	icmp          *sgTable // the ICMP rules (netns front end: echo on ENIs)
	buckets       *buckets // kept across snapshots (epState)
	shapeWait     [2]prometheus.Counter
}

// clb is a CLB of one snapshot.
type clb struct {
	id       string
	pools    map[uint16]*pool
	checkers []*checker
	// zone is the zone carrying the CLB (its primary or, switched over,
	// its backup); down: neither zone can (the CLB takes no flows).
	zone, primary string
	down          bool
}

func (c *clb) healthy() bool {
	if c.down {
		return false
	}
	for _, p := range c.pools {
		if p.healthy() {
			return true
		}
	}
	return false
}

// routeCounters are a route's metric series, looked up once per snapshot so
// the data path never hashes label values. All nil without metrics.
type routeCounters struct {
	flows prometheus.Counter
	bytes [2]prometheus.Counter
}

// valid reports whether a flow that started on r may go on under t: same
// endpoint, zone, ENI and CLB, still connected, source still allowed.
func (t *routeTable) valid(r *route, src netip.Addr) bool {
	n := t.vpcs[r.ep.vpcID][r.addr]
	return n != nil && n.connected && n.pool != nil &&
		n.ep.id == r.ep.id && n.zoneID == r.zoneID && n.eniID == r.eniID &&
		n.resourceID == r.resourceID && n.lbZone == r.lbZone && n.ep.sg.allows(src, r.addr.Port())
}

// zoneCarries reports whether a zone's state lets the ENIs bound to it carry
// traffic (the resource is checked separately, per route).
func zoneCarries(e *snapshot.Endpoint, z *snapshot.EndpointZone) bool {
	if e.ConnectionStatus != snapshot.ConnConnected {
		return false
	}
	switch z.Status {
	case snapshot.ZoneConnected, snapshot.ZoneMigrating, snapshot.ZoneMigrated:
		return true
	}
	return false
}

// build turns a snapshot into a routeTable, reusing (and resizing) the
// long-lived pieces: buckets, pools, health checkers. prevPorts gives the
// ports an ENI listens on now, kept for an ENI whose CLB went away so that
// clients still get a counted reset ("no_resource") rather than the kernel's.
// It runs on the Run goroutine only.
func (p *Proxy) build(s *snapshot.Snapshot, prevPorts map[netip.Addr][]uint16) *routeTable {
	t := &routeTable{routes: map[netip.AddrPort]*route{}, vpcs: map[string]map[netip.AddrPort]*route{},
		enis: map[vpcAddr]*endpoint{}, lbs: map[string]*clb{}}
	p.buildCLBs(s, t)

	ids := make([]string, 0, len(s.Endpoints))
	for id := range s.Endpoints {
		ids = append(ids, id)
	}
	sort.Strings(ids) // a conflicting address goes to the same endpoint every time
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		e := s.Endpoints[id]
		seen[id] = true
		st := p.endpoint(s, e)
		for _, z := range e.Zones {
			conn := zoneCarries(e, z)
			p.bind(t, st, z, z.ENI, z.ResourceID, false, conn, prevPorts)
			replaced := ""
			if z.Replaced != nil {
				replaced = z.Replaced.ResourceID
				p.bind(t, st, z, z.Replaced.ENI, z.Replaced.ResourceID, true, conn, prevPorts)
			}
			t.zones = append(t.zones, metrics.ZoneGauge{
				EndpointID: id, ServiceID: e.ServiceID, ZoneID: z.ZoneID,
				ResourceID: z.ResourceID, ReplacedResourceID: replaced, State: z.Status,
			})
		}
	}
	for id, st := range p.eps {
		if !seen[id] {
			delete(p.eps, id)
			p.forgetEndpoint(st)
		}
	}
	return t
}

// epState is what the data plane keeps for an endpoint across snapshots:
// its buckets (flows hold them), and what a new snapshot can reuse when the
// control plane handed over the same immutable objects — the compiled
// security groups and the metric series — so a snapshot that changed one
// endpoint of 10,000 does not redo the other 9,999.
type epState struct {
	groups   []*snapshot.SecurityGroup // the groups ep.sg was compiled from
	ep       *endpoint
	buckets  *buckets
	counters map[seriesKey]routeCounters
	zones    map[string]bool // zone ids with refusal series
}

type seriesKey struct{ resourceID, zoneID string }

// endpoint returns the endpoint's state, updated to e.
func (p *Proxy) endpoint(s *snapshot.Snapshot, e *snapshot.Endpoint) *epState {
	st := p.eps[e.ID]
	if st == nil {
		st = &epState{buckets: newBuckets(e.BandwidthMbps),
			counters: map[seriesKey]routeCounters{}, zones: map[string]bool{}}
		p.eps[e.ID] = st
	}
	st.buckets.resize(e.BandwidthMbps, p.now())
	groups := make([]*snapshot.SecurityGroup, len(e.SecurityGroupIDs))
	for i, id := range e.SecurityGroupIDs {
		groups[i] = s.SecurityGroups[id]
	}
	if st.ep == nil || st.ep.serviceID != e.ServiceID || !slices.Equal(groups, st.groups) {
		ep := &endpoint{id: e.ID, serviceID: e.ServiceID, vpcID: e.VpcID, buckets: st.buckets,
			sg:   compileSG(s.SecurityGroups, e.SecurityGroupIDs),
			icmp: compileSGFor(s.SecurityGroups, e.SecurityGroupIDs, "icmp")}
		if m := p.opts.Metrics; m != nil {
			ep.shapeWait[up] = m.ShaperWait.WithLabelValues(e.ID, e.ServiceID, metrics.ClientToBackend)
			ep.shapeWait[down] = m.ShaperWait.WithLabelValues(e.ID, e.ServiceID, metrics.BackendToClient)
		}
		st.ep, st.groups = ep, groups
	}
	return st
}

// series returns the metric series of one resource and zone of st.
func (p *Proxy) series(st *epState, resourceID, zoneID string) routeCounters {
	m := p.opts.Metrics
	if m == nil {
		return routeCounters{}
	}
	k := seriesKey{resourceID, zoneID}
	c, ok := st.counters[k]
	if !ok {
		id, svc := st.ep.id, st.ep.serviceID
		c.flows = m.FlowsTotal.WithLabelValues(id, svc, resourceID, zoneID)
		c.bytes[up] = m.FlowBytes.WithLabelValues(id, svc, resourceID, zoneID, metrics.ClientToBackend)
		c.bytes[down] = m.FlowBytes.WithLabelValues(id, svc, resourceID, zoneID, metrics.BackendToClient)
		st.counters[k] = c
		st.zones[zoneID] = true
	}
	return c
}

// forgetEndpoint drops the metric series of an endpoint that is gone, so
// deleted endpoints do not linger in /metrics.
func (p *Proxy) forgetEndpoint(st *epState) {
	m := p.opts.Metrics
	if m == nil {
		return
	}
	id, svc := st.ep.id, st.ep.serviceID
	for k := range st.counters {
		m.FlowsTotal.DeleteLabelValues(id, svc, k.resourceID, k.zoneID)
		m.FlowBytes.DeleteLabelValues(id, svc, k.resourceID, k.zoneID, metrics.ClientToBackend)
		m.FlowBytes.DeleteLabelValues(id, svc, k.resourceID, k.zoneID, metrics.BackendToClient)
	}
	for zone := range st.zones {
		for _, r := range []string{metrics.ReasonSGDenied, metrics.ReasonNotConnected, metrics.ReasonNoResource,
			metrics.ReasonNoHealthyBackend, metrics.ReasonDialFailed, metrics.ReasonLimit,
			metrics.ReasonNoDescriptors} {
			m.FlowsRefused.DeleteLabelValues(id, svc, zone, r)
		}
		m.BindErrors.DeleteLabelValues(id, zone)
	}
	m.ShaperWait.DeleteLabelValues(id, svc, metrics.ClientToBackend)
	m.ShaperWait.DeleteLabelValues(id, svc, metrics.BackendToClient)
	m.SpliceFallbacks.DeleteLabelValues(id, svc, metrics.ClientToBackend)
	m.SpliceFallbacks.DeleteLabelValues(id, svc, metrics.BackendToClient)
}

// bind adds the routes of one ENI bound to one CLB.
func (p *Proxy) bind(t *routeTable, st *epState, z *snapshot.EndpointZone, eni snapshot.ENI,
	resourceID string, replaced, connected bool, prevPorts map[netip.Addr][]uint16) {
	if !eni.IP.IsValid() {
		return
	}
	ep := st.ep
	if k := (vpcAddr{ep.vpcID, eni.IP}); t.enis[k] == nil {
		t.enis[k] = ep
	}
	lb := t.lbs[resourceID]
	var ports []uint16
	if lb != nil {
		for port := range lb.pools {
			ports = append(ports, port)
		}
	} else {
		ports = prevPorts[eni.IP]
	}
	for _, port := range ports {
		addr := netip.AddrPortFrom(eni.IP, port)
		inVPC := t.vpcs[ep.vpcID]
		if inVPC == nil {
			inVPC = map[netip.AddrPort]*route{}
			t.vpcs[ep.vpcID] = inVPC
		}
		if old := inVPC[addr]; old != nil {
			p.log.Warn("ENI address claimed twice; keeping the first",
				"addr", addr, "endpoint_id", old.ep.id, "other_endpoint_id", ep.id)
			continue
		}
		r := &route{addr: addr, ep: ep, zoneID: z.ZoneID, eniID: eni.ID, resourceID: resourceID,
			replaced: replaced, connected: connected, c: p.series(st, resourceID, z.ZoneID)}
		if lb != nil {
			r.lbZone = lb.zone
			if !lb.down {
				r.pool = lb.pools[port]
			}
		}
		inVPC[addr] = r
		if old := t.routes[addr]; old != nil {
			// Another VPC's ENI (netns front end only: loopback labs
			// never overlap): kernel sockets serve one of them.
			continue
		}
		t.routes[addr] = r
	}
}

type checkKey struct{ resourceID, addr string }
type poolKey struct {
	resourceID string
	port       uint16
}

// buildCLBs fills t.lbs, starting and stopping health checkers and keeping
// pools whose backends did not change (so round robin does not restart).
func (p *Proxy) buildCLBs(s *snapshot.Snapshot, t *routeTable) {
	usedChecks := map[checkKey]bool{}
	usedPools := map[poolKey]bool{}
	for id, lb := range s.LoadBalancers {
		cfg := healthSettings(lb.Health)
		c := &clb{id: id, pools: map[uint16]*pool{}, zone: lb.Zone, primary: lb.Zone, down: lb.Unavailable}
		if lb.ActiveZone != "" {
			c.zone = lb.ActiveZone
		}
		for _, l := range lb.Listeners {
			peers := make([]peer, 0, len(l.Backends))
			for _, b := range l.Backends {
				k := checkKey{id, b.Address}
				ck := p.checkers[k]
				if ck != nil && ck.cfg != cfg {
					ck.stop()
					ck = nil
				}
				if ck == nil {
					ck = p.startChecker(id, b.Address, cfg, p.backendDialer(b.VpcID, lb.IP))
					p.checkers[k] = ck
				}
				if !usedChecks[k] {
					usedChecks[k] = true
					c.checkers = append(c.checkers, ck)
				}
				peers = append(peers, peer{addr: b.Address, ap: p.resolve(b.Address), weight: b.Weight, health: ck,
					vpc: b.VpcID, src: lb.IP})
			}
			pk := poolKey{id, l.Port}
			usedPools[pk] = true
			pl := p.pools[pk]
			if pl == nil || !pl.sameAs(peers) {
				pl = &pool{peers: peers}
				p.pools[pk] = pl
			}
			c.pools[l.Port] = pl
		}
		t.lbs[id] = c
	}
	for k, ck := range p.checkers {
		if !usedChecks[k] {
			ck.stop()
			delete(p.checkers, k)
		}
	}
	for k := range p.pools {
		if !usedPools[k] {
			delete(p.pools, k)
		}
	}
}

// resolve turns a backend's host:port into the address flows dial. The
// lab allows host names; they are looked up once, here on the Run
// goroutine, because a loop must never block. A name that does not resolve
// leaves the backend undialable (dial_failed) and is looked up again with
// the next snapshot.
func (p *Proxy) resolve(addr string) netip.AddrPort {
	if ap, ok := p.resolved[addr]; ok {
		return ap
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		p.resolved[addr] = ap
		return ap
	}
	host, port, err := net.SplitHostPort(addr)
	var ap netip.AddrPort
	if err == nil {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		defer cancel()
		var ips []netip.Addr
		ips, err = net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		var pn uint64
		if err == nil {
			pn, err = strconv.ParseUint(port, 10, 16)
		}
		if err == nil && len(ips) > 0 {
			ip := ips[0]
			for _, a := range ips {
				if a.Is4() || a.Is4In6() {
					ip = a // loopback labs are IPv4
					break
				}
			}
			ap = netip.AddrPortFrom(ip.Unmap(), uint16(pn))
		}
	}
	if !ap.IsValid() {
		p.log.Warn("cannot resolve backend; flows to it fail", "backend", addr, "err", err)
		return ap
	}
	p.resolved[addr] = ap
	return ap
}
