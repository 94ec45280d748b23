package controlplane

import (
	"maps"
	"reflect"

	"eplink/controlplane/snapshot"
)

// snapBuilder publishes Snapshots. Builds are coalesced: a request while a
// build runs makes one more build that covers every change since. Objects
// that did not change are reused from the previous Snapshot (they are
// immutable), so a build costs the changed objects plus copying two maps of
// pointers.
type snapBuilder struct {
	cp  *ControlPlane
	req chan struct{}

	// Guarded by cp.mu: what changed since the last build.
	// The value is the sequence number of the last change to the object.
	dirtyEps  map[string]uint64
	dirtySvcs map[string]uint64

	// Owned by the build loop.
	eps     map[string]*snapshot.Endpoint
	svcs    map[string]*snapshot.Service
	version uint64
	built   uint64 // seq of the last published build
	lbs     map[string]*snapshot.LoadBalancer
	lbVer   uint64 // cp.lbVer that lbs reflect
}

func (b *snapBuilder) init(cp *ControlPlane) {
	b.cp = cp
	b.req = make(chan struct{}, 1)
	b.dirtyEps = map[string]uint64{}
	b.dirtySvcs = map[string]uint64{}
	b.eps = map[string]*snapshot.Endpoint{}
	b.svcs = map[string]*snapshot.Service{}
	for id := range cp.endpoints {
		b.dirtyEps[id] = 0
	}
	for id := range cp.services {
		b.dirtySvcs[id] = 0
	}
}

func (b *snapBuilder) dirtyEndpoint(id string, seq uint64) { b.dirtyEps[id] = seq }
func (b *snapBuilder) dirtyService(id string, seq uint64)  { b.dirtySvcs[id] = seq }

func (b *snapBuilder) request() {
	select {
	case b.req <- struct{}{}:
	default:
	}
}

func (b *snapBuilder) loop() {
	defer b.cp.wg.Done()
	for {
		select {
		case <-b.req:
		case <-b.cp.closed:
			return
		}
		b.build()
	}
}

func (b *snapBuilder) build() {
	cp := b.cp
	cp.mu.RLock()
	seq := cp.seq
	dEps, dSvcs := b.dirtyEps, b.dirtySvcs
	eps := make(map[string]*snapshot.Endpoint, len(dEps))
	for id := range dEps {
		if e := cp.endpoints[id]; e != nil {
			eps[id] = cp.snapEndpoint(e)
		} else {
			eps[id] = nil
		}
	}
	svcs := make(map[string]*snapshot.Service, len(dSvcs))
	for id := range dSvcs {
		if s := cp.services[id]; s != nil {
			svcs[id] = cp.snapService(s)
		} else {
			svcs[id] = nil
		}
	}
	lbsChanged := b.lbs == nil || b.lbVer != cp.lbVer
	if lbsChanged {
		b.lbs, b.lbVer = cp.snapLoadBalancers(), cp.lbVer
	}
	cp.mu.RUnlock()
	if seq == b.built && len(eps) == 0 && len(svcs) == 0 && !lbsChanged && b.version > 0 {
		return // a coalesced request with nothing new
	}

	// Clear what was rebuilt, unless it changed again after our read (the
	// change that did it requests the next build).
	cp.mu.Lock()
	for id := range eps {
		if b.dirtyEps[id] <= seq {
			delete(b.dirtyEps, id)
		}
	}
	for id := range svcs {
		if b.dirtySvcs[id] <= seq {
			delete(b.dirtySvcs, id)
		}
	}
	cp.mu.Unlock()

	// Changes the Snapshot does not carry (names, tags, descriptions…)
	// publish nothing: readers only need what should be.
	changed := b.version == 0 || lbsChanged
	for id, e := range eps {
		old, had := b.eps[id]
		switch {
		case e == nil && had:
			delete(b.eps, id)
			changed = true
		case e != nil && !(had && reflect.DeepEqual(old, e)):
			b.eps[id] = e
			changed = true
		}
	}
	for id, s := range svcs {
		old, had := b.svcs[id]
		switch {
		case s == nil && had:
			delete(b.svcs, id)
			changed = true
		case s != nil && !(had && *old == *s):
			b.svcs[id] = s
			changed = true
		}
	}
	if !changed {
		b.built = seq
		cp.published.advance(seq)
		return
	}
	b.version++
	snap := &snapshot.Snapshot{
		Version:        b.version,
		Region:         cp.w.region,
		DNSZone:        cp.zone,
		VSwitches:      cp.w.snapVSwitches,
		SecurityGroups: cp.w.snapSGs,
		LoadBalancers:  b.lbs,
		Services:       maps.Clone(b.svcs),
		Endpoints:      maps.Clone(b.eps),
	}
	cp.cfg.Publisher.Publish(snap)
	b.built = seq
	cp.published.advance(seq)
}

func (cp *ControlPlane) snapService(s *Service) *snapshot.Service {
	return &snapshot.Service{
		ID:                  s.ID,
		OwnerUID:            s.Owner,
		Domain:              cp.serviceDomain(s.ID),
		ZoneAffinityEnabled: s.ZoneAffinity,
		Status:              s.Phase.Status,
	}
}

func (cp *ControlPlane) snapEndpoint(e *Endpoint) *snapshot.Endpoint {
	out := &snapshot.Endpoint{
		ID:               e.ID,
		OwnerUID:         e.Owner,
		VpcID:            e.VpcID,
		ServiceID:        e.ServiceID,
		Domain:           cp.endpointDomain(e),
		ConnectionStatus: e.Conn.Phase.Status,
		BandwidthMbps:    e.Conn.Bandwidth,
		SecurityGroupIDs: append([]string(nil), e.SecurityGroups...),
	}
	for _, z := range e.Zones {
		sz := &snapshot.EndpointZone{
			ZoneID:     z.ZoneID,
			Status:     z.Phase.Status,
			VSwitchID:  z.VSwitchID,
			Domain:     cp.zoneDomain(e, z.ZoneID),
			ENI:        snapshot.ENI{ID: z.ENI.ID, IP: z.ENI.IP},
			ResourceID: z.ResourceID,
			Failed:     z.Failed,
		}
		if z.Replaced != nil {
			sz.Replaced = &snapshot.Binding{
				ENI:        snapshot.ENI{ID: z.Replaced.ENI.ID, IP: z.Replaced.ENI.IP},
				ResourceID: z.Replaced.ResourceID,
			}
		}
		out.Zones = append(out.Zones, sz)
	}
	return out
}

// Domains (reference §C3, DESIGN §4).

func (cp *ControlPlane) serviceName(id string) string {
	return "com.aliyuncs.privatelink." + cp.w.region + "." + id
}

func (cp *ControlPlane) serviceDomain(id string) string {
	return id + "." + cp.w.region + "." + cp.zone
}

func (cp *ControlPlane) endpointDomain(e *Endpoint) string {
	return e.ID + "." + e.ServiceID + "." + cp.w.region + "." + cp.zone
}

func (cp *ControlPlane) zoneDomain(e *Endpoint, zone string) string {
	return e.ID + "-" + zone + "." + e.ServiceID + "." + cp.w.region + "." + cp.zone
}
