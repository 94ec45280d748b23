package dns

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
)

// DefaultZone is the apex served when neither Config.Zone nor the snapshot
// names one.
const DefaultZone = "privatelink.aliyuncs.com"

// SOA timers. Nothing transfers this zone, so only Minttl (the negative TTL)
// matters to clients; the others are the usual RFC 1912 values.
const (
	soaRefresh = 3600
	soaRetry   = 600
	soaExpire  = 86400
)

// nodeKind says what a name in the zone is and so how it answers.
type nodeKind uint8

const (
	// kindEmpty is an empty non-terminal (the region label, a service
	// domain): the name exists, so it answers NODATA, not NXDOMAIN
	// (RFC 8020), but has no records of its own.
	kindEmpty nodeKind = iota
	kindApex
	// kindNS is the name server's own name; it answers the glue address.
	kindNS
	// kindZone is a zone domain: one zone's current ENI.
	kindZone
	// kindEndpoint is an endpoint domain: the ENIs of its zones that carry
	// traffic, filtered by CLB health at query time.
	kindEndpoint
)

// target is one ENI a name may answer with.
type target struct {
	zoneID     string
	resourceID string
	ip         netip.Addr
}

// subnet maps a consumer vSwitch CIDR to its zone, for zone affinity.
type subnet struct {
	prefix netip.Prefix
	zoneID string
}

// node is the precomputed answer of one name.
type node struct {
	kind nodeKind
	// targets are sorted by zone id so answers are stable across snapshots.
	targets []target
	// affinity is set on endpoint domains whose service has zone affinity;
	// subnets are then the vSwitches of the endpoint's VPC.
	affinity bool
	subnets  []subnet
}

// index is the name → answer table of one snapshot. It is built once per
// snapshot and never modified, so queries read it without locks; only CLB
// health is consulted at query time because it changes between snapshots.
type index struct {
	version uint64
	zone    string // lower-case FQDN, e.g. "privatelink.aliyuncs.com."
	ttl     uint32
	soa     *mdns.SOA
	ns      *mdns.NS
	nsName  string
	nsAddr  netip.Addr // invalid when the server has no single address
	names   map[string]*node
	// dotZone is "."+zone ("" for the root zone) and soaWire the SOA
	// record in wire format, uncompressed: the UDP fast path appends it to
	// negative answers as is.
	dotZone string
	soaWire []byte
}

// buildIndex turns a snapshot into an index. zone "" means the snapshot's
// DNSZone; nsAddr is the server's own address for the glue record (invalid
// or unspecified = no glue). Names outside the zone are ignored.
func buildIndex(s *snapshot.Snapshot, zone string, ttl uint32, nsAddr netip.Addr) *index {
	if zone == "" {
		zone = s.DNSZone
	}
	if zone == "" {
		zone = DefaultZone
	}
	zone = canonical(zone)
	if nsAddr.IsValid() && nsAddr.IsUnspecified() {
		nsAddr = netip.Addr{}
	}
	ix := &index{
		version: s.Version,
		zone:    zone,
		ttl:     ttl,
		nsName:  "ns1." + zone,
		nsAddr:  nsAddr.Unmap(),
		names:   make(map[string]*node, 1+2*len(s.Services)+3*len(s.Endpoints)),
	}
	if zone == "." {
		ix.nsName = "ns1."
	}
	ix.soa = &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: zone, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: ttl},
		Ns:      ix.nsName,
		Mbox:    "hostmaster." + strings.TrimPrefix(zone, "."),
		Serial:  uint32(s.Version), // wraps after 2^32 snapshots; nothing transfers the zone
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  ttl, // RFC 2308: the negative-caching TTL
	}
	ix.ns = &mdns.NS{
		Hdr: mdns.RR_Header{Name: zone, Rrtype: mdns.TypeNS, Class: mdns.ClassINET, Ttl: ttl},
		Ns:  ix.nsName,
	}
	ix.soaWire = packRR(ix.soa)
	if zone != "." {
		ix.dotZone = "." + zone
	}
	ix.names[zone] = &node{kind: kindApex}
	ix.add(ix.nsName, &node{kind: kindNS})

	for _, svc := range s.Services {
		ix.add(svc.Domain, &node{kind: kindEmpty})
	}
	for _, e := range s.Endpoints {
		ix.addEndpoint(s, e)
	}
	return ix
}

// addEndpoint indexes an endpoint domain and its zone domains. A name whose
// record the cloud would have removed (no zone carries traffic, the zone is
// disconnected or failed) is simply left out, so it answers NXDOMAIN.
func (ix *index) addEndpoint(s *snapshot.Snapshot, e *snapshot.Endpoint) {
	ep := &node{kind: kindEndpoint}
	for _, z := range e.Zones {
		if !z.CarriesTraffic(e) || z.Failed || !z.ENI.IP.IsValid() {
			continue
		}
		t := target{zoneID: z.ZoneID, resourceID: z.ResourceID, ip: z.ENI.IP.Unmap()}
		ep.targets = append(ep.targets, t)
		ix.add(z.Domain, &node{kind: kindZone, targets: []target{t}})
	}
	if len(ep.targets) == 0 {
		return
	}
	slices.SortFunc(ep.targets, func(a, b target) int {
		return cmp.Or(cmp.Compare(a.zoneID, b.zoneID), a.ip.Compare(b.ip))
	})
	if svc := s.Services[e.ServiceID]; svc != nil && svc.ZoneAffinityEnabled {
		ep.affinity = true
		for _, vsw := range s.VSwitches {
			if vsw.VpcID == e.VpcID && vsw.CIDR.IsValid() {
				ep.subnets = append(ep.subnets, subnet{prefix: vsw.CIDR.Masked(), zoneID: vsw.Zone})
			}
		}
		// Longest prefix first, so overlapping CIDRs pick the most specific.
		slices.SortFunc(ep.subnets, func(a, b subnet) int {
			return cmp.Or(b.prefix.Bits()-a.prefix.Bits(), strings.Compare(a.zoneID, b.zoneID))
		})
	}
	ix.add(e.Domain, ep)
}

// add indexes name (if it lies in the zone) and makes every name between it
// and the apex exist as an empty non-terminal.
func (ix *index) add(name string, n *node) {
	if name == "" {
		return
	}
	name = canonical(name)
	if !ix.inZone(name) || name == ix.zone {
		return
	}
	if old := ix.names[name]; old == nil || old.kind == kindEmpty {
		ix.names[name] = n
	}
	for p := parent(name); p != "" && p != ix.zone && ix.inZone(p); p = parent(p) {
		if _, ok := ix.names[p]; ok {
			break // its parents are there already
		}
		ix.names[p] = &node{kind: kindEmpty}
	}
}

// packRR is rr in wire format without name compression, as Msg.Pack
// writes it (the server does not compress replies).
func packRR(rr mdns.RR) []byte {
	buf := make([]byte, 3*256+32) // three names and the fixed fields
	n, err := mdns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil // no fast path for negative answers
	}
	return buf[:n]
}

func (ix *index) inZone(name string) bool {
	return ix.zone == "." || name == ix.zone || strings.HasSuffix(name, "."+ix.zone)
}

// canonical lower-cases a name and makes it fully qualified: DNS names are
// case-insensitive (RFC 4343) and the index is keyed by this form.
func canonical(name string) string {
	return strings.ToLower(mdns.Fqdn(name))
}

// parent drops the first label ("a.b.c." → "b.c."); "" above the root.
// Escaped dots do not occur in the names the control plane generates.
func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}
