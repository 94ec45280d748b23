package dns

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

// soaRR is the SOA every negative answer of world() carries.
const soaRR = apex + "\t5\tIN\tSOA\tns1." + apex + " hostmaster." + apex + " 1 3600 600 86400 5"

// lookupCase is one question and the answer expected, records written as
// zone-file text (CoreDNS's test.Case style).
type lookupCase struct {
	desc      string
	qname     string
	qtype     uint16
	qclass    uint16 // 0 = IN
	client    string // source address; "" = 127.0.0.1
	unhealthy []string
	unserved  []string // ENI addresses the data plane cannot serve
	rotate    uint32

	kind   resultKind
	answer []string
	ns     []string
	extra  []string
}

func a(name, ip string) string    { return name + "\t5\tIN\tA\t" + ip }
func aaaa(name, ip string) string { return name + "\t5\tIN\tAAAA\t" + ip }

func TestLookup(t *testing.T) {
	one := epDomain("ep-one", "epsrv-plain")
	aff := epDomain("ep-aff", "epsrv-aff")
	cases := []lookupCase{
		{desc: "apex SOA", qname: apex, qtype: mdns.TypeSOA, answer: []string{soaRR}},
		{desc: "apex NS with glue", qname: apex, qtype: mdns.TypeNS,
			answer: []string{apex + "\t5\tIN\tNS\tns1." + apex},
			extra:  []string{a("ns1."+apex, "127.0.0.53")}},
		{desc: "apex A is NODATA", qname: apex, qtype: mdns.TypeA, kind: noData, ns: []string{soaRR}},
		{desc: "ns name answers the server address", qname: "ns1." + apex, qtype: mdns.TypeA,
			answer: []string{a("ns1."+apex, "127.0.0.53")}},
		{desc: "endpoint domain: every zone, stable order", qname: one, qtype: mdns.TypeA,
			answer: []string{a(one, "127.10.0.10"), a(one, "127.10.1.10")}},
		{desc: "endpoint domain rotates without affinity", qname: one, qtype: mdns.TypeA, rotate: 1,
			answer: []string{a(one, "127.10.1.10"), a(one, "127.10.0.10")}},
		{desc: "names are case-insensitive, answers echo the case asked",
			qname: strings.ToUpper(one), qtype: mdns.TypeA,
			answer: []string{a(strings.ToUpper(one), "127.10.0.10"), a(strings.ToUpper(one), "127.10.1.10")}},
		{desc: "name without trailing dot", qname: strings.TrimSuffix(one, "."), qtype: mdns.TypeA,
			answer: []string{a(one, "127.10.0.10"), a(one, "127.10.1.10")}},
		{desc: "zone domain", qname: zoneDomain("ep-one", zoneI, "epsrv-plain"), qtype: mdns.TypeA,
			answer: []string{a(zoneDomain("ep-one", zoneI, "epsrv-plain"), "127.10.1.10")}},
		{desc: "AAAA of an IPv4 name is NODATA", qname: one, qtype: mdns.TypeAAAA, kind: noData, ns: []string{soaRR}},
		{desc: "MX of an existing name is NODATA", qname: one, qtype: mdns.TypeMX, kind: noData, ns: []string{soaRR}},
		{desc: "ANY gives the addresses", qname: zoneDomain("ep-one", zoneH, "epsrv-plain"), qtype: mdns.TypeANY,
			answer: []string{a(zoneDomain("ep-one", zoneH, "epsrv-plain"), "127.10.0.10")}},
		{desc: "IPv6 ENI", qname: epDomain("ep-six", "epsrv-plain"), qtype: mdns.TypeAAAA,
			answer: []string{aaaa(epDomain("ep-six", "epsrv-plain"), "fd00::6")}},
		{desc: "IPv6 ENI has no A", qname: epDomain("ep-six", "epsrv-plain"), qtype: mdns.TypeA,
			kind: noData, ns: []string{soaRR}},

		{desc: "unknown name is NXDOMAIN", qname: "nope." + svcDomain("epsrv-plain"), qtype: mdns.TypeA,
			kind: nameError, ns: []string{soaRR}},
		{desc: "service domain exists without records", qname: svcDomain("epsrv-plain"), qtype: mdns.TypeA,
			kind: noData, ns: []string{soaRR}},
		{desc: "region label is an empty non-terminal", qname: region + "." + apex, qtype: mdns.TypeA,
			kind: noData, ns: []string{soaRR}},
		{desc: "outside the zone", qname: "example.com.", qtype: mdns.TypeA, kind: outside},
		{desc: "a sibling of the zone is outside", qname: "xprivatelink.aliyuncs.com.", qtype: mdns.TypeA, kind: outside},
		{desc: "class CH in the zone is refused", qname: one, qtype: mdns.TypeA, qclass: mdns.ClassCHAOS, kind: refused},

		{desc: "pending connection: endpoint domain gone", qname: epDomain("ep-pending", "epsrv-plain"),
			qtype: mdns.TypeA, kind: nameError, ns: []string{soaRR}},
		{desc: "pending connection: zone domain gone", qname: zoneDomain("ep-pending", zoneH, "epsrv-plain"),
			qtype: mdns.TypeA, kind: nameError, ns: []string{soaRR}},
		{desc: "graceful migration: zone domain answers the new ENI only",
			qname: zoneDomain("ep-mig", zoneH, "epsrv-plain"), qtype: mdns.TypeA,
			answer: []string{a(zoneDomain("ep-mig", zoneH, "epsrv-plain"), "127.10.0.31")}},
		{desc: "graceful migration: endpoint domain answers the new ENI only",
			qname: epDomain("ep-mig", "epsrv-plain"), qtype: mdns.TypeA,
			answer: []string{a(epDomain("ep-mig", "epsrv-plain"), "127.10.0.31")}},
		{desc: "failed zone leaves the endpoint domain", qname: epDomain("ep-failed", "epsrv-plain"),
			qtype: mdns.TypeA, answer: []string{a(epDomain("ep-failed", "epsrv-plain"), "127.10.1.50")}},
		{desc: "failed zone's own domain is gone", qname: zoneDomain("ep-failed", zoneH, "epsrv-plain"),
			qtype: mdns.TypeA, kind: nameError, ns: []string{soaRR}},
		{desc: "disconnected zone leaves the endpoint domain", qname: epDomain("ep-disc", "epsrv-plain"),
			qtype: mdns.TypeA, answer: []string{a(epDomain("ep-disc", "epsrv-plain"), "127.10.0.60")}},
		{desc: "disconnected zone's own domain is gone", qname: zoneDomain("ep-disc", zoneI, "epsrv-plain"),
			qtype: mdns.TypeA, kind: nameError, ns: []string{soaRR}},

		{desc: "unhealthy CLB leaves the endpoint domain", qname: one, qtype: mdns.TypeA,
			unhealthy: []string{"lb-clb1"}, answer: []string{a(one, "127.10.1.10")}},
		{desc: "every CLB unhealthy: endpoint domain gone", qname: one, qtype: mdns.TypeA,
			unhealthy: []string{"lb-clb1", "lb-clb2"}, kind: nameError, ns: []string{soaRR}},
		{desc: "every CLB unhealthy: AAAA is NXDOMAIN too", qname: one, qtype: mdns.TypeAAAA,
			unhealthy: []string{"lb-clb1", "lb-clb2"}, kind: nameError, ns: []string{soaRR}},
		{desc: "zone domain answers whatever the health", qname: zoneDomain("ep-one", zoneH, "epsrv-plain"),
			qtype: mdns.TypeA, unhealthy: []string{"lb-clb1"},
			answer: []string{a(zoneDomain("ep-one", zoneH, "epsrv-plain"), "127.10.0.10")}},
		{desc: "unserved ENI leaves the endpoint domain", qname: one, qtype: mdns.TypeA,
			unserved: []string{"127.10.0.10"}, answer: []string{a(one, "127.10.1.10")}},
		{desc: "every ENI unserved: endpoint domain gone", qname: one, qtype: mdns.TypeA,
			unserved: []string{"127.10.0.10", "127.10.1.10"}, kind: nameError, ns: []string{soaRR}},
		{desc: "unserved ENI: zone domain gone", qname: zoneDomain("ep-one", zoneH, "epsrv-plain"),
			qtype: mdns.TypeA, unserved: []string{"127.10.0.10"}, kind: nameError, ns: []string{soaRR}},
		{desc: "other zone domain still answers", qname: zoneDomain("ep-one", zoneI, "epsrv-plain"),
			qtype: mdns.TypeA, unserved: []string{"127.10.0.10"},
			answer: []string{a(zoneDomain("ep-one", zoneI, "epsrv-plain"), "127.10.1.10")}},
		{desc: "AXFR is refused", qname: apex, qtype: mdns.TypeAXFR, kind: refused},
		{desc: "IXFR is refused", qname: apex, qtype: mdns.TypeIXFR, kind: refused},
		{desc: "AXFR of a name below the apex is refused", qname: one, qtype: mdns.TypeAXFR, kind: refused},
		{desc: "affinity: own zone unserved, the others remain", qname: aff, qtype: mdns.TypeA,
			client: "127.10.1.7", unserved: []string{"127.10.1.20"}, answer: []string{a(aff, "127.10.0.20")}},

		{desc: "affinity: client in zone i gets zone i first", qname: aff, qtype: mdns.TypeA, client: "127.10.1.7",
			answer: []string{a(aff, "127.10.1.20"), a(aff, "127.10.0.20")}},
		{desc: "affinity: client in zone h gets zone h first, whatever the rotation", qname: aff,
			qtype: mdns.TypeA, client: "127.10.0.7", rotate: 1,
			answer: []string{a(aff, "127.10.0.20"), a(aff, "127.10.1.20")}},
		{desc: "affinity: client outside the VPC gets the rotation", qname: aff, qtype: mdns.TypeA,
			client: "127.20.0.7", rotate: 1,
			answer: []string{a(aff, "127.10.1.20"), a(aff, "127.10.0.20")}},
		{desc: "affinity: own zone unhealthy, the others remain", qname: aff, qtype: mdns.TypeA,
			client: "127.10.1.7", unhealthy: []string{"lb-clb2"}, answer: []string{a(aff, "127.10.0.20")}},
		{desc: "no affinity on the service: client zone ignored", qname: one, qtype: mdns.TypeA,
			client: "127.10.1.7", answer: []string{a(one, "127.10.0.10"), a(one, "127.10.1.10")}},
		{desc: "affinity: IPv4-mapped client address", qname: aff, qtype: mdns.TypeA, client: "::ffff:127.10.1.7",
			answer: []string{a(aff, "127.10.1.20"), a(aff, "127.10.0.20")}},
	}
	ix := buildIndex(world(), "", 5, netip.MustParseAddr("127.0.0.53"))
	for _, tc := range cases {
		t.Run(tc.desc, func(t *testing.T) {
			checkLookup(t, ix, tc)
		})
	}
}

func checkLookup(t *testing.T, ix *index, tc lookupCase) {
	t.Helper()
	client := tc.client
	if client == "" {
		client = "127.0.0.1"
	}
	qclass := tc.qclass
	if qclass == 0 {
		qclass = mdns.ClassINET
	}
	got := ix.lookup(query{
		name: tc.qname, qtype: tc.qtype, qclass: qclass,
		client: netip.MustParseAddr(client),
		health: func(id string) bool { return !slices.Contains(tc.unhealthy, id) },
		served: func(ip netip.Addr) bool { return !slices.Contains(tc.unserved, ip.String()) },
		rotate: tc.rotate,
	})
	if got.kind != tc.kind {
		t.Errorf("kind = %d, want %d", got.kind, tc.kind)
	}
	section(t, "answer", got.answer, tc.answer)
	section(t, "authority", got.ns, tc.ns)
	section(t, "additional", got.extra, tc.extra)
}

// section compares records with the expected zone-file lines, in order.
func section(t *testing.T, name string, got []mdns.RR, want []string) {
	t.Helper()
	var gs, ws []string
	for _, rr := range got {
		gs = append(gs, rr.String())
	}
	for _, w := range want {
		rr, err := mdns.NewRR(w)
		if err != nil {
			t.Fatalf("bad expected record %q: %v", w, err)
		}
		ws = append(ws, rr.String())
	}
	if !slices.Equal(gs, ws) {
		t.Errorf("%s:\n got  %q\n want %q", name, gs, ws)
	}
}

func TestIndexZoneConfig(t *testing.T) {
	s := world()
	s.DNSZone = "" // an older snapshot: the default applies
	ix := buildIndex(s, "", 60, netip.Addr{})
	if ix.zone != apex {
		t.Fatalf("zone = %q, want %q", ix.zone, apex)
	}
	// No glue when the server is not bound to one address.
	checkLookup(t, ix, lookupCase{qname: "ns1." + apex, qtype: mdns.TypeA, kind: noData,
		ns: []string{apex + "\t60\tIN\tSOA\tns1." + apex + " hostmaster." + apex + " 1 3600 600 86400 60"}})

	// A configured zone that is a sub-zone serves only the names below it.
	sub := "cn-hangzhou." + apex
	ix = buildIndex(world(), "CN-Hangzhou.privatelink.aliyuncs.com", 5, netip.Addr{})
	if ix.zone != sub {
		t.Fatalf("zone = %q, want %q", ix.zone, sub)
	}
	if got := ix.lookup(query{name: apex, qtype: mdns.TypeSOA, qclass: mdns.ClassINET}); got.kind != outside {
		t.Errorf("parent apex: kind %d, want outside", got.kind)
	}
	one := epDomain("ep-one", "epsrv-plain")
	if got := ix.lookup(query{name: one, qtype: mdns.TypeA, qclass: mdns.ClassINET}); len(got.answer) != 2 {
		t.Errorf("endpoint under the sub-zone: %v", got.answer)
	}
}
