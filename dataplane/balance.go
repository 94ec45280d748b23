package dataplane

import (
	"net/netip"
	"sync"
)

// pool is the backends of one CLB listener, picked by smooth weighted round
// robin (nginx's ngx_http_upstream_get_peer): every pick adds each eligible
// peer's weight to its current value, takes the largest, and subtracts the
// total from the winner. Weights 5,1,1 give a a b a c a a — spread out, not
// a a a a a b c.
type pool struct {
	mu    sync.Mutex
	peers []peer
}

type peer struct {
	addr    string
	ap      netip.AddrPort // addr resolved (what flows dial)
	weight  int
	current int
	health  *checker
	// vpc is set for an instance backend (netns front end): it is dialed
	// inside that VPC, from src, the CLB's address.
	vpc string
	src netip.Addr
}

// maxTried bounds the peers a pick can skip after failed dials (one bit each).
const maxTried = 64

// pick returns the index and a copy of the next healthy peer with a
// positive weight that is not in tried, or -1 if there is none.
func (p *pool) pick(tried uint64) (int, peer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	best, total := -1, 0
	for i := range p.peers {
		pe := &p.peers[i]
		if pe.weight <= 0 || (i < maxTried && tried&(1<<i) != 0) || !pe.health.up() {
			continue
		}
		pe.current += pe.weight
		total += pe.weight
		if best < 0 || pe.current > p.peers[best].current {
			best = i
		}
	}
	if best < 0 {
		return -1, peer{}
	}
	p.peers[best].current -= total
	return best, p.peers[best]
}

// healthy reports whether some peer could be picked.
func (p *pool) healthy() bool {
	for i := range p.peers {
		if p.peers[i].weight > 0 && p.peers[i].health.up() {
			return true
		}
	}
	return false
}

// sameAs reports whether p serves exactly these peers with these checkers,
// so a new snapshot can keep it and its round-robin position.
func (p *pool) sameAs(peers []peer) bool {
	if len(p.peers) != len(peers) {
		return false
	}
	for i := range peers {
		a, b := &p.peers[i], &peers[i]
		if a.addr != b.addr || a.ap != b.ap || a.weight != b.weight || a.health != b.health {
			return false
		}
	}
	return true
}
