package dataplane

import (
	"net/netip"
	"sync"
	"sync/atomic"
)

// listener is one ENI address:port: a listening socket watched by every
// loop. Routing is not stored here but read from the current routeTable at
// accept time, so rebinding the ENI to another CLB (Force) swaps where new
// flows go without closing the socket: no connection attempt is refused
// during the switch.
type listener struct {
	addr   netip.AddrPort
	eniID  string
	fd     int
	eni    *eniFlows
	closed atomic.Bool
	// backoff is the pause after the last accept error (out of
	// descriptors), zero when accepting works.
	backoff atomic.Int64
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
