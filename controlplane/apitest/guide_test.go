package apitest

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// The product guide's rules where it is more precise than the API
// reference (the guide is the specification; the README's compatibility
// notes list them): replacement preconditions (步骤五), the order of
// disconnecting a migrated zone (断开可用区服务资源), resources as a
// precondition of accepting (分配并连接可用区服务资源) and "accept and
// allocate automatically" (允许连接并自动分配服务资源). The replacement's
// automatic-allocation rule is in TestLifecycle, the disconnect order in
// TestMigratedZoneExits.

func zoneH(t *testing.T, e *Env, ep string) privatelink.Zone {
	t.Helper()
	zs, err := e.Zones(e.Consumer, ep)
	if err != nil {
		t.Fatal(err)
	}
	z, ok := FindZone(zs, ZoneH)
	if !ok {
		t.Fatalf("no zone %s in %+v", ZoneH, zs)
	}
	return z
}

// TestReplaceDisconnectedZone: 步骤五 allows replacing the resource of a
// Disconnected zone. It sets the resource the zone connects to next: no
// migration, no new ENI. The resource the zone would have used must not
// allow automatic allocation, as on a Connected zone.
func TestReplaceDisconnectedZone(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	from, to := z.ResourceId, otherCLB(z.ResourceId)

	d := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	d.ServiceId, d.EndpointId, d.ZoneId = svc, ep, ZoneH
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(d); err != nil {
		t.Fatalf("DisableVpcEndpointZoneConnection: %v", err)
	}
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected")

	// Pinned to an auto-allocatable resource: that one is being replaced,
	// so the replacement is refused until its automatic allocation is off.
	pin := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	pin.ServiceId, pin.EndpointId, pin.ZoneId = svc, ep, ZoneH
	pin.ResourceAllocateMode, pin.ResourceId, pin.ResourceType = "Manual", from, "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(pin); err != nil {
		t.Fatalf("pin %s: %v", from, err)
	}
	e.WaitService(t, svc, "Active")
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", to, "slb"
	before := e.State(t)
	_, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr)
	WantError(t, err, "EndpointServiceOperationDenied.ResourceAutoAllocated")
	e.AssertUnchanged(t, before)

	e.SetAutoAllocated(t, svc, from, false)
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
		t.Fatalf("replace the resource of a Disconnected zone: %v", err)
	}
	e.WaitService(t, svc, "Active")
	got := zoneH(t, e, ep)
	if got.ZoneStatus != "Disconnected" || got.EniId != z.EniId || got.ReplacedEniId != "" || got.ReplacedResourceId != "" {
		t.Fatalf("zone after replacing while Disconnected = %+v; want Disconnected on ENI %s, nothing replaced", got, z.EniId)
	}

	en := privatelink.CreateEnableVpcEndpointZoneConnectionRequest()
	en.ServiceId, en.EndpointId, en.ZoneId = svc, ep, ZoneH
	if _, err := e.Provider.EnableVpcEndpointZoneConnection(en); err != nil {
		t.Fatalf("EnableVpcEndpointZoneConnection: %v", err)
	}
	got = e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	if got.ResourceId != to || got.EniId != z.EniId || got.ReplacedEniId != "" {
		t.Errorf("reconnected zone = %+v; want %s on the same ENI %s", got, to, z.EniId)
	}
}

// TestReplaceSameOrWaitingZone: replacing a zone by the resource it already
// has, or a zone still waiting for its connection, is refused.
func TestReplaceSameOrWaitingZone(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Wait")
	before := e.State(t)
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Force", CLB2, "slb"
	_, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr)
	WantError(t, err, "IncorrectStatus")
	e.AssertUnchanged(t, before)

	e.Accept(t, svc, ep, e.Consumer)
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	e.SetAutoAllocated(t, svc, z.ResourceId, false)
	before = e.State(t)
	rr.ResourceId = z.ResourceId
	_, err = e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr)
	WantError(t, err, "InvalidParameter")
	e.AssertUnchanged(t, before)
}

// TestAcceptNeedsResource: accepting a connection whose zone has no usable
// resource is refused and changes nothing (it used to leave the connection
// Connected with the zone stuck in Wait).
func TestAcceptNeedsResource(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB3, ZoneI})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{
		{ZoneId: ZoneH, VSwitchId: VSwConsumerH}, {ZoneId: ZoneI, VSwitchId: VSwConsumerI}}})
	e.WaitZone(t, e.Consumer, ep, ZoneI, "Wait")
	dt := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
	dt.ServiceId, dt.ResourceId, dt.ResourceType = svc, CLB3, "slb"
	if _, err := e.Provider.DetachResourceFromVpcEndpointService(dt); err != nil {
		t.Fatalf("detach %s: %v", CLB3, err)
	}
	e.WaitService(t, svc, "Active")

	before := e.State(t)
	en := privatelink.CreateEnableVpcEndpointConnectionRequest()
	en.ServiceId, en.EndpointId = svc, ep
	_, err := e.Provider.EnableVpcEndpointConnection(en)
	WantError(t, err, "EndpointServiceResourceNotFound")
	e.AssertUnchanged(t, before)

	// With a resource in zone i again, the accept goes through.
	at := privatelink.CreateAttachResourceToVpcEndpointServiceRequest()
	at.ServiceId, at.ResourceId, at.ResourceType = svc, CLB4, "slb"
	if _, err := e.Provider.AttachResourceToVpcEndpointService(at); err != nil {
		t.Fatalf("attach %s: %v", CLB4, err)
	}
	e.WaitService(t, svc, "Active")
	e.Accept(t, svc, ep, e.Consumer)
}

// TestAcceptAutoAllocate: accepting with AutoAllocatedEnabled=true (the
// console's 允许连接并自动分配服务资源) clears a resource pinned by hand;
// a plain accept keeps the pin.
func TestAcceptAutoAllocate(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	pinned := func() string {
		ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
		e.WaitZone(t, e.Consumer, ep, ZoneH, "Wait")
		pin := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
		pin.ServiceId, pin.EndpointId, pin.ZoneId = svc, ep, ZoneH
		pin.ResourceAllocateMode, pin.ResourceId, pin.ResourceType = "Manual", CLB2, "slb"
		if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(pin); err != nil {
			t.Fatalf("pin %s: %v", CLB2, err)
		}
		e.WaitService(t, svc, "Active")
		return ep
	}

	keep := pinned()
	e.Accept(t, svc, keep, e.Consumer)
	if z := zoneH(t, e, keep); z.ResourceId != CLB2 {
		t.Fatalf("plain accept: zone on %q, want the pinned %s", z.ResourceId, CLB2)
	}

	auto := pinned()
	en := privatelink.CreateEnableVpcEndpointConnectionRequest()
	en.ServiceId, en.EndpointId = svc, auto
	en.QueryParams["AutoAllocatedEnabled"] = "true"
	if _, err := e.Provider.EnableVpcEndpointConnection(en); err != nil {
		t.Fatalf("EnableVpcEndpointConnection AutoAllocatedEnabled=true: %v", err)
	}
	// CLB1 is the less loaded of the two auto-allocatable resources.
	if z := e.WaitZone(t, e.Consumer, auto, ZoneH, "Connected"); z.ResourceId != CLB1 {
		t.Errorf("accept with automatic allocation: zone on %q, want %s (pin cleared)", z.ResourceId, CLB1)
	}

	bad := privatelink.CreateEnableVpcEndpointConnectionRequest()
	bad.ServiceId, bad.EndpointId = svc, pinned()
	bad.QueryParams["AutoAllocatedEnabled"] = "maybe"
	before := e.State(t)
	_, err := e.Provider.EnableVpcEndpointConnection(bad)
	WantError(t, err, "InvalidParameter")
	e.AssertUnchanged(t, before)
}

// TestZoneServiceStatus: a zone no resource serves (waiting for its
// connection, or disconnected) shows ServiceStatus Inactive, the guide's
// 服务状态 异常; a connected zone shows its service's status.
func TestZoneServiceStatus(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	if z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Wait"); z.ServiceStatus != "Inactive" {
		t.Errorf("waiting zone: ServiceStatus %q, want Inactive", z.ServiceStatus)
	}
	if c := e.Connection(t, svc, ep); len(c.Zones) != 1 || c.Zones[0].ServiceStatus != "Inactive" {
		t.Errorf("waiting zone, provider view: %+v", c.Zones)
	}
	e.Accept(t, svc, ep, e.Consumer)
	if z := zoneH(t, e, ep); z.ServiceStatus != "Active" {
		t.Errorf("connected zone: ServiceStatus %q, want Active", z.ServiceStatus)
	}
	d := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	d.ServiceId, d.EndpointId, d.ZoneId = svc, ep, ZoneH
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(d); err != nil {
		t.Fatal(err)
	}
	if z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected"); z.ServiceStatus != "Inactive" {
		t.Errorf("disconnected zone: ServiceStatus %q, want Inactive", z.ServiceStatus)
	}
}

// TestProductOpen: lab accounts have PrivateLink activated, so
// CheckProductOpen says true; an account the lab declares
// product_open: false is refused (NeedOpenProduct) until it calls
// OpenPrivateLinkService, as a closed account is in the cloud.
func TestProductOpen(t *testing.T) {
	l := Lab()
	closed := false
	for i := range l.Accounts {
		if l.Accounts[i].UID == Consumer2UID {
			l.Accounts[i].ProductOpen = &closed
		}
	}
	e := New(t, Options{Lab: l})
	if r, err := e.Consumer.CheckProductOpen(privatelink.CreateCheckProductOpenRequest()); err != nil || !r.Success {
		t.Errorf("CheckProductOpen for a lab account = %+v, %v; want true", r, err)
	}
	_, err := e.Consumer.OpenPrivateLinkService(privatelink.CreateOpenPrivateLinkServiceRequest())
	WantError(t, err, "ORDER.OPEND")

	if r, err := e.Consumer2.CheckProductOpen(privatelink.CreateCheckProductOpenRequest()); err != nil || r.Success {
		t.Errorf("CheckProductOpen for a closed account = %+v, %v; want false", r, err)
	}
	_, err = e.Consumer2.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	WantError(t, err, "NeedOpenProduct")
	if _, err := e.Consumer2.DescribeZones(privatelink.CreateDescribeZonesRequest()); err != nil {
		t.Errorf("DescribeZones for a closed account: %v", err)
	}
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, Consumer2UID)
	_, err = e.Consumer2.CreateVpcEndpoint(e.EndpointRequest(svc, EP{VPC: VPCConsumer2, SGs: []string{SGConsumer2}}))
	WantError(t, err, "NeedOpenProduct")

	op, err := e.Consumer2.OpenPrivateLinkService(privatelink.CreateOpenPrivateLinkServiceRequest())
	if err != nil || op.OrderId == "" {
		t.Fatalf("OpenPrivateLinkService = %+v, %v", op, err)
	}
	if r, err := e.Consumer2.CheckProductOpen(privatelink.CreateCheckProductOpenRequest()); err != nil || !r.Success {
		t.Errorf("CheckProductOpen after opening = %+v, %v", r, err)
	}
	// The refused create left nothing behind.
	if r, err := e.Consumer2.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest()); err != nil || len(r.Endpoints) != 0 {
		t.Errorf("ListVpcEndpoints after opening = %+v, %v; want none", r, err)
	}
}
