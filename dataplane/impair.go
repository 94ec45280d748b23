package dataplane

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"eplink/dataplane/impair"
)

// Impairments of ENIs, zones and CLBs: a lab fault, not state of the
// cloud, so they do not travel in the control plane's Snapshot (nothing to
// persist, no snapshot version per change); the lab API sets them through
// Proxy.Impair, and the accept path reads them with one atomic load, nil
// while nothing is impaired.
//
// An impaired flow is carried by the conn carrier (conn.go): the loops
// hand the accepted socket over before they watch it, so the splice path
// of every other flow stays as it is, and the impairment acts on what the
// flow writes to the client (dataplane/impair, the code the demo backends
// use). Flows already open when an impairment is set keep their carrier;
// those it carries see every change at once (a lifted stall releases them).
//
//	loop.open ─► admit ─► impairment(route)? ─► no: loop.dial … splice
//	                                        └─► yes: Admission.Dial ─► Run (client conn wrapped by impair.Conn)

// ImpairTarget names what an impairment acts on: one ENI (by id), one
// endpoint zone (both of its ENIs while a Graceful replacement keeps the
// old one), or one CLB (every ENI bound to it). Exactly one is set.
type ImpairTarget struct {
	ENIID              string
	EndpointID, ZoneID string
	ResourceID         string
}

func (t ImpairTarget) String() string {
	switch {
	case t.ENIID != "":
		return "ENI " + t.ENIID
	case t.ResourceID != "":
		return "CLB " + t.ResourceID
	}
	return "zone " + t.ZoneID + " of " + t.EndpointID
}

// ErrImpairTargetNotFound is Impair's error for a target the data plane
// does not route (no such ENI, endpoint zone or CLB).
var ErrImpairTargetNotFound = errors.New("not found")

// impairments is the set in force; a flow's route is matched most
// specific first: ENI, zone, CLB.
type impairments struct {
	enis  map[string]*impairSource
	zones map[[2]string]*impairSource
	clbs  map[string]*impairSource
}

// impairSource is one target's impairment: it implements impair.Source for
// the flows it impairs.
type impairSource struct {
	mu      sync.Mutex
	im      impair.Impairment
	changed chan struct{}
}

// Current implements the impair.Source interface.
func (s *impairSource) Current() (impair.Impairment, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.im, s.changed
}

func (s *impairSource) set(im impair.Impairment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.im = im
	close(s.changed)
	s.changed = make(chan struct{})
}

// Impair sets the impairment of a target's flows (new ones, and those
// already carried impaired); the zero Impairment lifts it. A target the
// current route table does not know is ErrImpairTargetNotFound, unless the
// impairment is lifted.
func (p *Proxy) Impair(target ImpairTarget, im impair.Impairment) error {
	if err := im.Check(); err != nil {
		return err
	}
	n := 0
	for _, s := range []string{target.ENIID, target.EndpointID + target.ZoneID, target.ResourceID} {
		if s != "" {
			n++
		}
	}
	if n != 1 || (target.EndpointID == "") != (target.ZoneID == "") {
		return errors.New("an impairment targets one ENI, one endpoint zone or one CLB")
	}
	if !im.Zero() && !p.routes.Load().has(target) {
		return fmt.Errorf("%s: %w", target, ErrImpairTargetNotFound)
	}
	p.impairMu.Lock()
	defer p.impairMu.Unlock()
	next := &impairments{enis: map[string]*impairSource{}, zones: map[[2]string]*impairSource{},
		clbs: map[string]*impairSource{}}
	if cur := p.impairs.Load(); cur != nil {
		for k, v := range cur.enis {
			next.enis[k] = v
		}
		for k, v := range cur.zones {
			next.zones[k] = v
		}
		for k, v := range cur.clbs {
			next.clbs[k] = v
		}
	}
	var s *impairSource
	switch {
	case target.ENIID != "":
		s = entry(next.enis, target.ENIID, im)
	case target.ResourceID != "":
		s = entry(next.clbs, target.ResourceID, im)
	default:
		s = entry(next.zones, [2]string{target.EndpointID, target.ZoneID}, im)
	}
	if s != nil {
		s.set(im) // the flows carried impaired see it at their next write
	}
	if len(next.enis)+len(next.zones)+len(next.clbs) == 0 {
		next = nil
	}
	p.impairs.Store(next)
	return nil
}

// entry returns the source of key in m, added if im impairs and removed if
// it does not (the source is returned either way, for its open flows).
func entry[K comparable](m map[K]*impairSource, key K, im impair.Impairment) *impairSource {
	s := m[key]
	if s == nil && !im.Zero() {
		s = &impairSource{changed: make(chan struct{})}
	}
	if im.Zero() {
		delete(m, key)
	} else {
		m[key] = s
	}
	return s
}

// impairment returns the impairment of flows on r, nil if none.
func (p *Proxy) impairment(r *route) impair.Source {
	set := p.impairs.Load()
	if set == nil || r == nil {
		return nil
	}
	if s := set.enis[r.eniID]; s != nil {
		return s
	}
	if s := set.zones[[2]string{r.ep.id, r.zoneID}]; s != nil {
		return s
	}
	if s := set.clbs[r.resourceID]; s != nil {
		return s
	}
	return nil
}

// has reports whether t routes anything of target.
func (t *routeTable) has(target ImpairTarget) bool {
	if target.ResourceID != "" {
		return t.lbs[target.ResourceID] != nil
	}
	for _, rs := range t.vpcs { // every route, on either front end
		for _, r := range rs {
			if target.ENIID != "" && r.eniID == target.ENIID ||
				target.EndpointID != "" && r.ep.id == target.EndpointID && r.zoneID == target.ZoneID {
				return true
			}
		}
	}
	return false
}

// carryImpaired dials a backend for an admitted connection and carries it
// with the conn carrier, its writes to the client impaired; a refusal
// resets the client.
func (a *Admission) carryImpaired(client net.Conn) {
	backend, err := a.Dial(a.p.ctx)
	if err != nil {
		reset(client)
		return
	}
	a.Run(client, backend)
}
