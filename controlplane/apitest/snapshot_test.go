package apitest

import (
	"fmt"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"eplink/controlplane/snapshot"
)

// TestSnapshotFollowsAPI checks the contract the data plane and DNS rely
// on: when a call has returned, the published Snapshot already holds its
// change, with the same ids, addresses and domains the API shows.
func TestSnapshotFollowsAPI(t *testing.T) {
	e := New(t, Options{}) // instant transitions: the end state is there on return
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{SGs: []string{SGConsumer, SGConsumerB}, Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})

	snapEP := func() (*snapshot.Snapshot, *snapshot.Endpoint, *snapshot.EndpointZone) {
		t.Helper()
		s := e.Publisher.Load()
		x := s.Endpoints[ep]
		if x == nil {
			t.Fatalf("snapshot v%d has no endpoint %s", s.Version, ep)
		}
		for _, z := range x.Zones {
			if z.ZoneID == ZoneH {
				return s, x, z
			}
		}
		t.Fatalf("snapshot endpoint %s has no zone %s", ep, ZoneH)
		return nil, nil, nil
	}

	s0, x, z := snapEP()
	attr, _ := e.GetEndpoint(e.Consumer, ep)
	if x.Domain != attr.EndpointDomain || x.ServiceID != svc || x.OwnerUID != ConsumerUID || x.VpcID != VPCConsumer {
		t.Errorf("snapshot endpoint = %+v, API = %+v", x, attr)
	}
	if len(x.SecurityGroupIDs) != 2 {
		t.Errorf("snapshot SGs = %v", x.SecurityGroupIDs)
	}
	if x.ConnectionStatus == snapshot.ConnConnected || z.CarriesTraffic(x) {
		t.Error("a connection not yet accepted carries traffic in the snapshot")
	}
	if s0.Services[svc] == nil || s0.LoadBalancers[CLB1] == nil || s0.VSwitches[VSwConsumerH] == nil || s0.SecurityGroups[SGConsumer] == nil {
		t.Error("snapshot lacks the service, CLB1, the vSwitch or the SG")
	}

	e.Accept(t, svc, ep, e.Consumer)
	s1, x, z := snapEP()
	api, _ := FindZone(must(e.Zones(e.Consumer, ep)), ZoneH)
	if s1.Version <= s0.Version {
		t.Errorf("snapshot version %d after accept, was %d", s1.Version, s0.Version)
	}
	if !z.CarriesTraffic(x) || z.ResourceID != CLB1 || z.ENI.ID != api.EniId || z.ENI.IP.String() != api.EniIp || z.Domain != api.ZoneDomain {
		t.Errorf("snapshot zone after accept = %+v (endpoint %s); API zone = %+v", z, x.ConnectionStatus, api)
	}
	if x.BandwidthMbps != 1024 {
		t.Errorf("snapshot bandwidth = %d, want 1024", x.BandwidthMbps)
	}

	bw := privatelink.CreateUpdateVpcEndpointConnectionAttributeRequest()
	bw.ServiceId, bw.EndpointId, bw.Bandwidth = svc, ep, Int(300)
	if _, err := e.Provider.UpdateVpcEndpointConnectionAttribute(bw); err != nil {
		t.Fatalf("UpdateVpcEndpointConnectionAttribute: %v", err)
	}
	if _, x, _ = snapEP(); x.BandwidthMbps != 300 {
		t.Errorf("snapshot bandwidth right after the update = %d, want 300", x.BandwidthMbps)
	}

	e.SetAutoAllocated(t, svc, CLB1, false)
	old := z.ENI
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", CLB2, "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
		t.Fatalf("Graceful replace: %v", err)
	}
	_, x, z = snapEP()
	if z.ResourceID != CLB2 || z.ENI.ID == old.ID || z.ENI.IP == old.IP || !z.CarriesTraffic(x) {
		t.Errorf("snapshot zone after Graceful = %+v; want a new ENI on %s", z, CLB2)
	}
	if z.Replaced == nil || z.Replaced.ENI != old || z.Replaced.ResourceID != CLB1 {
		t.Errorf("snapshot Replaced after Graceful = %+v; want %+v on %s", z.Replaced, old, CLB1)
	}

	cl := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	cl.ServiceId, cl.EndpointId, cl.ZoneId, cl.ReplacedResource = svc, ep, ZoneH, Bool(true)
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(cl); err != nil {
		t.Fatalf("clean replaced: %v", err)
	}
	if _, _, z = snapEP(); z.Replaced != nil || z.Status != snapshot.ZoneConnected {
		t.Errorf("snapshot zone after cleanup = %+v; want Connected, nothing replaced", z)
	}

	rj := privatelink.CreateDisableVpcEndpointConnectionRequest()
	rj.ServiceId, rj.EndpointId = svc, ep
	if _, err := e.Provider.DisableVpcEndpointConnection(rj); err != nil {
		t.Fatalf("reject: %v", err)
	}
	if _, x, z = snapEP(); z.CarriesTraffic(x) {
		t.Errorf("a rejected connection still carries traffic in the snapshot: %s / %+v", x.ConnectionStatus, z)
	}
}

// TestCustomDNSZone: with another DNS apex, the domains the API shows are
// the ones the Snapshot (and so DNS) serves.
func TestCustomDNSZone(t *testing.T) {
	e := New(t, Options{DNSZone: "pl.lab.test"})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	g := e.WaitEndpointStable(t, e.Consumer, ep, "Connected")
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	sa, _ := e.GetService(e.Provider, svc)
	if want := ep + "." + svc + "." + Region + ".pl.lab.test"; g.EndpointDomain != want {
		t.Errorf("EndpointDomain = %q, want %q", g.EndpointDomain, want)
	}
	s := e.Publisher.Load()
	x := s.Endpoints[ep]
	if x == nil || len(x.Zones) != 1 {
		t.Fatalf("snapshot endpoint = %+v", x)
	}
	if x.Domain != g.EndpointDomain || x.Zones[0].Domain != z.ZoneDomain || s.Services[svc].Domain != sa.ServiceDomain {
		t.Errorf("API domains %q %q %q, snapshot %q %q %q", g.EndpointDomain, z.ZoneDomain, sa.ServiceDomain, x.Domain, x.Zones[0].Domain, s.Services[svc].Domain)
	}

	// Zone affinity reaches the snapshot too.
	up := privatelink.CreateUpdateVpcEndpointServiceAttributeRequest()
	up.ServiceId, up.ZoneAffinityEnabled = svc, Bool(true)
	if _, err := e.Provider.UpdateVpcEndpointServiceAttribute(up); err != nil {
		t.Fatal(err)
	}
	if !e.Publisher.Load().Services[svc].ZoneAffinityEnabled {
		t.Error("ZoneAffinityEnabled not in the snapshot right after the update")
	}
}

// TestSnapshotFollowsTransitions: when a transition completes on its own
// (TransitionDelay > 0), the Snapshot has the end state by the time the
// API shows it, so a user who polls the API and then dials the ENI or
// resolves the domain is not ahead of the data plane.
func TestSnapshotFollowsTransitions(t *testing.T) {
	e := New(t, Options{TransitionDelay: 30 * time.Millisecond})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	for i := 0; i < 3; i++ {
		ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
		en := privatelink.CreateEnableVpcEndpointConnectionRequest()
		en.ServiceId, en.EndpointId = svc, ep
		if _, err := e.Provider.EnableVpcEndpointConnection(en); err != nil {
			t.Fatal(err)
		}
		var z privatelink.Zone
		Eventually(t, "connected in the API", func() (bool, string) {
			g, err := e.GetEndpoint(e.Consumer, ep)
			if err != nil || g.ConnectionStatus != "Connected" {
				return false, fmt.Sprint(g, err)
			}
			zs, err := e.Zones(e.Consumer, ep)
			if err != nil || len(zs) != 1 || zs[0].ZoneStatus != "Connected" {
				return false, fmt.Sprint(zs, err)
			}
			z = zs[0]
			return true, ""
		})
		x := e.Publisher.Load().Endpoints[ep]
		if x == nil || len(x.Zones) != 1 || !x.Zones[0].CarriesTraffic(x) || x.Zones[0].ResourceID != z.ResourceId {
			t.Errorf("API shows %s Connected on %s, snapshot has %+v (connection %s); snapshot caught up after %v",
				ep, z.ResourceId, x.Zones[0], x.ConnectionStatus, lag(e, func(x *snapshot.Endpoint) bool {
					return len(x.Zones) == 1 && x.Zones[0].CarriesTraffic(x)
				}, ep))
		}

		e.AllowReplace(t, svc, z.ResourceId, otherCLB(z.ResourceId))
		rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
		rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
		rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", otherCLB(z.ResourceId), "slb"
		if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
			t.Fatal(err)
		}
		m := e.WaitZone(t, e.Consumer, ep, ZoneH, "Migrated")
		x = e.Publisher.Load().Endpoints[ep]
		if x == nil || len(x.Zones) != 1 || x.Zones[0].Status != snapshot.ZoneMigrated || x.Zones[0].Replaced == nil || x.Zones[0].ENI.ID != m.EniId {
			t.Errorf("API shows %s Migrated on ENI %s, snapshot has %+v; snapshot caught up after %v", ep, m.EniId, x.Zones[0],
				lag(e, func(x *snapshot.Endpoint) bool { return x.Zones[0].Status == snapshot.ZoneMigrated }, ep))
		}
		e.WaitService(t, svc, "Active")
	}
}

// lag measures how long the snapshot takes to satisfy ok for endpoint ep.
func lag(e *Env, ok func(*snapshot.Endpoint) bool, ep string) time.Duration {
	start := time.Now()
	for time.Since(start) < WaitTimeout {
		if x := e.Publisher.Load().Endpoints[ep]; x != nil && ok(x) {
			return time.Since(start)
		}
		time.Sleep(time.Millisecond)
	}
	return -1
}
