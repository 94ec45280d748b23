package dns

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
)

// The test world: one consumer VPC with a vSwitch in each of two zones, two
// services (one with zone affinity) and endpoints in every state DNS cares
// about. Domains follow reference §C3.
const (
	region = "cn-hangzhou"
	zoneH  = "cn-hangzhou-h"
	zoneI  = "cn-hangzhou-i"
	apex   = "privatelink.aliyuncs.com."
)

func svcDomain(svc string) string            { return svc + "." + region + "." + apex }
func epDomain(ep, svc string) string         { return ep + "." + svcDomain(svc) }
func zoneDomain(ep, zone, svc string) string { return ep + "-" + zone + "." + svcDomain(svc) }

// zoneOf makes a Connected zone of endpoint ep (of service svc) whose ENI is ip.
func zoneOf(ep, svc, zone, ip, lb string) *snapshot.EndpointZone {
	return &snapshot.EndpointZone{
		ZoneID:     zone,
		Status:     snapshot.ZoneConnected,
		VSwitchID:  "vsw-c-" + zone[len(zone)-1:],
		Domain:     zoneDomain(ep, zone, svc),
		ENI:        snapshot.ENI{ID: "eni-" + ep + "-" + zone, IP: netip.MustParseAddr(ip)},
		ResourceID: lb,
	}
}

func endpoint(id, svc string, zones ...*snapshot.EndpointZone) *snapshot.Endpoint {
	return &snapshot.Endpoint{
		ID:               id,
		VpcID:            "vpc-consumer1",
		ServiceID:        svc,
		Domain:           epDomain(id, svc),
		ConnectionStatus: snapshot.ConnConnected,
		Zones:            zones,
	}
}

// world returns a fresh fixture snapshot; tests modify their own copy.
func world() *snapshot.Snapshot {
	s := snapshot.Empty()
	s.Version = 1
	s.Region = region
	s.VSwitches["vsw-c-h"] = &snapshot.VSwitch{ID: "vsw-c-h", VpcID: "vpc-consumer1", Zone: zoneH,
		CIDR: netip.MustParsePrefix("127.10.0.0/24")}
	s.VSwitches["vsw-c-i"] = &snapshot.VSwitch{ID: "vsw-c-i", VpcID: "vpc-consumer1", Zone: zoneI,
		CIDR: netip.MustParsePrefix("127.10.1.0/24")}
	s.VSwitches["vsw-other"] = &snapshot.VSwitch{ID: "vsw-other", VpcID: "vpc-other", Zone: zoneI,
		CIDR: netip.MustParsePrefix("127.20.0.0/24")}
	for _, svc := range []struct {
		id       string
		affinity bool
	}{{"epsrv-plain", false}, {"epsrv-aff", true}} {
		s.Services[svc.id] = &snapshot.Service{ID: svc.id, Domain: strings.TrimSuffix(svcDomain(svc.id), "."),
			ZoneAffinityEnabled: svc.affinity, Status: "Active"}
	}
	add := func(e *snapshot.Endpoint) { s.Endpoints[e.ID] = e }

	add(endpoint("ep-one", "epsrv-plain",
		zoneOf("ep-one", "epsrv-plain", zoneH, "127.10.0.10", "lb-clb1"),
		zoneOf("ep-one", "epsrv-plain", zoneI, "127.10.1.10", "lb-clb2")))
	add(endpoint("ep-aff", "epsrv-aff",
		zoneOf("ep-aff", "epsrv-aff", zoneH, "127.10.0.20", "lb-clb1"),
		zoneOf("ep-aff", "epsrv-aff", zoneI, "127.10.1.20", "lb-clb2")))

	pending := endpoint("ep-pending", "epsrv-plain",
		zoneOf("ep-pending", "epsrv-plain", zoneH, "127.10.0.40", "lb-clb1"))
	pending.ConnectionStatus = "Pending"
	pending.Zones[0].Status = "Wait"
	add(pending)

	// Graceful migration done: the zone answers the new ENI on lb-clb2,
	// the replaced one on lb-clb1 still carries old flows but is never answered.
	mig := endpoint("ep-mig", "epsrv-plain",
		zoneOf("ep-mig", "epsrv-plain", zoneH, "127.10.0.31", "lb-clb2"))
	mig.Zones[0].Status = snapshot.ZoneMigrated
	mig.Zones[0].Replaced = &snapshot.Binding{
		ENI: snapshot.ENI{ID: "eni-old", IP: netip.MustParseAddr("127.10.0.30")}, ResourceID: "lb-clb1"}
	add(mig)

	failed := endpoint("ep-failed", "epsrv-plain",
		zoneOf("ep-failed", "epsrv-plain", zoneH, "127.10.0.50", "lb-clb1"),
		zoneOf("ep-failed", "epsrv-plain", zoneI, "127.10.1.50", "lb-clb2"))
	failed.Zones[0].Failed = true
	add(failed)

	disc := endpoint("ep-disc", "epsrv-plain",
		zoneOf("ep-disc", "epsrv-plain", zoneH, "127.10.0.60", "lb-clb1"),
		zoneOf("ep-disc", "epsrv-plain", zoneI, "127.10.1.60", "lb-clb2"))
	disc.Zones[1].Status = snapshot.ZoneDisconnected
	add(disc)

	add(endpoint("ep-six", "epsrv-plain",
		zoneOf("ep-six", "epsrv-plain", zoneH, "fd00::6", "lb-clb1")))
	return s
}

// wideWorld has one endpoint with n zones, for truncation: its answer does
// not fit 512 bytes once n is above ~30.
func wideWorld(n int) *snapshot.Snapshot {
	s := snapshot.Empty()
	s.Version = 1
	zones := make([]*snapshot.EndpointZone, n)
	for i := range zones {
		z := fmt.Sprintf("%s-z%02d", region, i)
		zones[i] = zoneOf("ep-wide", "epsrv-plain", z, fmt.Sprintf("127.11.%d.%d", i/250, i%250+1), "lb-clb1")
	}
	s.Services["epsrv-plain"] = &snapshot.Service{ID: "epsrv-plain", Domain: svcDomain("epsrv-plain")}
	s.Endpoints["ep-wide"] = endpoint("ep-wide", "epsrv-plain", zones...)
	return s
}

// recorder is a ResponseWriter that keeps the reply, in the style of
// CoreDNS's dnstest.Recorder.
type recorder struct {
	local, remote net.Addr
	msg           *mdns.Msg
}

func newRecorder(proto string, client string) *recorder {
	ip := net.ParseIP(client)
	if proto == "tcp" {
		return &recorder{local: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, remote: &net.TCPAddr{IP: ip, Port: 40000}}
	}
	return &recorder{local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, remote: &net.UDPAddr{IP: ip, Port: 40000}}
}

func (r *recorder) LocalAddr() net.Addr         { return r.local }
func (r *recorder) RemoteAddr() net.Addr        { return r.remote }
func (r *recorder) WriteMsg(m *mdns.Msg) error  { r.msg = m; _, err := m.Pack(); return err }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) Close() error                { return nil }
func (r *recorder) TsigStatus() error           { return nil }
func (r *recorder) TsigTimersOnly(bool)         {}
func (r *recorder) Hijack()                     {}
