package dataplane

import (
	"net/netip"
	"sort"

	"eplink/controlplane/snapshot"
)

// sgTable is the ingress rules of all the security groups of one endpoint,
// compiled once per snapshot: sorted so that the first rule that matches
// decides (priority 1 first; at equal priority drop before accept).
type sgTable struct {
	rules []sgRule
}

type sgRule struct {
	priority int
	accept   bool
	from, to uint16
	cidr     netip.Prefix
}

// compileSG builds the table for the groups ids. Groups missing from the
// snapshot contribute nothing; rules for protocols other than TCP are left
// out, since the data plane carries TCP only.
func compileSG(groups map[string]*snapshot.SecurityGroup, ids []string) *sgTable {
	return compileSGFor(groups, ids, "tcp")
}

// compileSGFor is compileSG for the rules of protocol proto ("tcp" or
// "icmp": the netns front end answers ICMP echo on ENIs) and "all".
func compileSGFor(groups map[string]*snapshot.SecurityGroup, ids []string, proto string) *sgTable {
	t := &sgTable{}
	for _, id := range ids {
		g := groups[id]
		if g == nil {
			continue
		}
		for _, r := range g.Rules {
			if r.Protocol != proto && r.Protocol != "all" {
				continue
			}
			from, to := r.PortFrom, r.PortTo
			if from == 0 && to == 0 { // "-1/-1": every port
				from, to = 1, 65535
			}
			cidr := r.SourceCIDR
			if cidr.Addr().Is4In6() {
				cidr = netip.PrefixFrom(cidr.Addr().Unmap(), cidr.Bits()-96)
			}
			t.rules = append(t.rules, sgRule{
				priority: r.Priority, accept: r.Accept, from: from, to: to, cidr: cidr.Masked(),
			})
		}
	}
	sort.SliceStable(t.rules, func(i, j int) bool {
		a, b := t.rules[i], t.rules[j]
		if a.priority != b.priority {
			return a.priority < b.priority
		}
		return !a.accept && b.accept // drop wins at equal priority
	})
	return t
}

// allows reports whether a TCP connection from src to port is let in.
// No matching rule means drop.
func (t *sgTable) allows(src netip.Addr, port uint16) bool {
	src = src.Unmap()
	for i := range t.rules {
		r := &t.rules[i]
		if port >= r.from && port <= r.to && r.cidr.Contains(src) {
			return r.accept
		}
	}
	return false
}
