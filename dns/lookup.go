package dns

import (
	"net/netip"
	"slices"

	mdns "github.com/miekg/dns"
)

// query is what a lookup depends on besides the index: the question, who
// asks, the data plane's health verdicts at this moment, and a counter that
// rotates answers without affinity.
type query struct {
	name   string // as asked; answers echo its case (0x20 clients compare it)
	qtype  uint16
	qclass uint16
	client netip.Addr            // invalid when unknown
	health func(string) bool     // resource id → has a healthy backend; nil = all healthy
	served func(netip.Addr) bool // ENI address → the data plane serves it; nil = all served
	rotate uint32
}

// serves reports whether an ENI address may be handed out.
func (q *query) serves(ip netip.Addr) bool {
	return q.served == nil || q.served(ip)
}

// result kinds, as CoreDNS's file plugin names them.
type resultKind uint8

const (
	success resultKind = iota
	noData
	nameError
	// outside: the name is not in the zone; the server refuses or forwards.
	outside
	// refused: a class other than IN inside the zone.
	refused
)

// answer is a lookup's result: the sections and the response code.
type answer struct {
	kind   resultKind
	answer []mdns.RR
	ns     []mdns.RR
	extra  []mdns.RR
}

// rcode maps a result kind to the response code that goes on the wire.
func (a answer) rcode() int {
	switch a.kind {
	case nameError:
		return mdns.RcodeNameError
	case outside, refused:
		return mdns.RcodeRefused
	}
	return mdns.RcodeSuccess
}

// lookup answers one question from the index. It is pure: the same index
// and query always give the same answer.
func (ix *index) lookup(q query) answer {
	q.name = mdns.Fqdn(q.name)
	name := canonical(q.name)
	if !ix.inZone(name) {
		return answer{kind: outside}
	}
	if q.qclass != mdns.ClassINET && q.qclass != mdns.ClassANY {
		return answer{kind: refused}
	}
	if q.qtype == mdns.TypeAXFR || q.qtype == mdns.TypeIXFR {
		// No zone transfers: the names are generated per snapshot and the
		// endpoint domains answer per client. REFUSED, as an authoritative
		// server that does not allow transfers answers (RFC 5936 §4.2);
		// NOERROR with the SOA read as an empty zone.
		return answer{kind: refused}
	}
	n := ix.names[name]
	if n == nil {
		return ix.negative(nameError)
	}
	var a answer
	switch n.kind {
	case kindApex:
		a = ix.apex(q)
	case kindNS:
		if ix.nsAddr.IsValid() {
			a.answer = addrRRs(q, []netip.Addr{ix.nsAddr}, ix.ttl)
		}
	case kindZone:
		// A user who asks for one zone by name gets it whatever its CLB's
		// health: the cloud only takes unhealthy zones out of the endpoint
		// domain, and the data plane will refuse the flows visibly. An
		// address the data plane cannot serve is another story: whoever
		// holds it would answer, so the record is gone.
		if !q.serves(n.targets[0].ip) {
			return ix.negative(nameError)
		}
		a.answer = addrRRs(q, []netip.Addr{n.targets[0].ip}, ix.ttl)
	case kindEndpoint:
		ips := n.pick(q)
		if len(ips) == 0 {
			// Every zone left the answer: the record is gone, as in the cloud.
			return ix.negative(nameError)
		}
		a.answer = addrRRs(q, ips, ix.ttl)
	}
	if len(a.answer) == 0 {
		return ix.negative(noData)
	}
	return a
}

// apex answers SOA and NS at the zone apex, with glue for the NS.
func (ix *index) apex(q query) answer {
	var a answer
	if q.qtype == mdns.TypeSOA || q.qtype == mdns.TypeANY {
		a.answer = append(a.answer, withName(ix.soa, q.name))
	}
	if q.qtype == mdns.TypeNS || q.qtype == mdns.TypeANY {
		a.answer = append(a.answer, withName(ix.ns, q.name))
		if ix.nsAddr.IsValid() {
			a.extra = addrRRs(query{name: ix.nsName, qtype: mdns.TypeANY}, []netip.Addr{ix.nsAddr}, ix.ttl)
		}
	}
	return a
}

// negative is NXDOMAIN or NODATA with the SOA in authority, whose Minttl
// tells resolvers how long to cache the absence (RFC 2308).
func (ix *index) negative(kind resultKind) answer {
	return answer{kind: kind, ns: []mdns.RR{ix.soa}}
}

// pick returns the ENIs an endpoint domain answers with now: zones whose CLB
// is unhealthy leave; with zone affinity a client inside one of the
// endpoint VPC's vSwitches gets its own zone first; otherwise the order
// rotates so clients that take the first address spread over the zones.
func (n *node) pick(q query) []netip.Addr {
	return n.appendPick(make([]netip.Addr, 0, len(n.targets)), q)
}

// appendPick is pick appending to dst, so the UDP fast path can reuse one
// buffer instead of allocating per query.
func (n *node) appendPick(dst []netip.Addr, q query) []netip.Addr {
	start := len(dst)
	home := -1
	clientZone := n.clientZone(q.client)
	for _, t := range n.targets {
		if q.health != nil && !q.health(t.resourceID) || !q.serves(t.ip) {
			continue
		}
		if clientZone != "" && t.zoneID == clientZone && home < 0 {
			home = len(dst) - start
		}
		dst = append(dst, t.ip)
	}
	ips := dst[start:]
	if len(ips) < 2 {
		return dst
	}
	if home >= 0 {
		// Own zone first, the others after it in their stable order.
		first := ips[home]
		copy(ips[1:home+1], ips[:home])
		ips[0] = first
		return dst
	}
	// Rotate left by r in place: ips[r:] then ips[:r].
	r := int(q.rotate % uint32(len(ips)))
	slices.Reverse(ips[:r])
	slices.Reverse(ips[r:])
	slices.Reverse(ips)
	return dst
}

// clientZone is the zone of the endpoint-VPC vSwitch holding addr, or "".
func (n *node) clientZone(addr netip.Addr) string {
	if !n.affinity || !addr.IsValid() {
		return ""
	}
	addr = addr.Unmap()
	for _, s := range n.subnets {
		if s.prefix.Contains(addr) {
			return s.zoneID
		}
	}
	return ""
}

// addrRRs makes the A (IPv4) or AAAA (IPv6) records for q.qtype (both for
// ANY), owned by the name as asked.
func addrRRs(q query, ips []netip.Addr, ttl uint32) []mdns.RR {
	var rrs []mdns.RR
	for _, ip := range ips {
		switch {
		case ip.Is4() && (q.qtype == mdns.TypeA || q.qtype == mdns.TypeANY):
			rrs = append(rrs, &mdns.A{
				Hdr: mdns.RR_Header{Name: q.name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: ttl},
				A:   ip.AsSlice(),
			})
		case ip.Is6() && (q.qtype == mdns.TypeAAAA || q.qtype == mdns.TypeANY):
			rrs = append(rrs, &mdns.AAAA{
				Hdr:  mdns.RR_Header{Name: q.name, Rrtype: mdns.TypeAAAA, Class: mdns.ClassINET, Ttl: ttl},
				AAAA: ip.AsSlice(),
			})
		}
	}
	return rrs
}

// withName copies rr under the owner name as asked (its case may differ).
func withName(rr mdns.RR, name string) mdns.RR {
	c := mdns.Copy(rr)
	c.Header().Name = mdns.Fqdn(name)
	return c
}
