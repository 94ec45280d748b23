package apitest

import (
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

var (
	serviceIDRe  = regexp.MustCompile(`^epsrv-bp1[a-z0-9]{17}$`) // prefix + 20, region-coded (§C3)
	endpointIDRe = regexp.MustCompile(`^ep-bp1[a-z0-9]{17}$`)
	eniIDRe      = regexp.MustCompile(`^eni-bp1[a-z0-9]{17}$`)
	timeRe       = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)
	requestIDRe  = regexp.MustCompile(`^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`)
)

func inCIDR(t *testing.T, ip, cidr string) {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		t.Errorf("EniIp %q is not an address: %v", ip, err)
		return
	}
	p := netip.MustParsePrefix(cidr)
	if !p.Contains(a) {
		t.Errorf("EniIp %s is outside the vSwitch %s", ip, cidr)
	}
	if a == p.Addr() || a == p.Addr().Next() {
		t.Errorf("EniIp %s is the network or first address of %s", ip, cidr)
	}
}

// TestLifecycle walks the guide's whole story through the SDK: create a
// service on CLB1 → whitelist the consumer → create an endpoint → accept →
// change bandwidth → attach CLB2 → Graceful replace → clean the replaced
// resource → Force replace → reject → remove the zone → delete the endpoint
// → detach the resources → delete the service.
func TestLifecycle(t *testing.T) {
	e := New(t, Options{TransitionDelay: 20 * time.Millisecond})

	// 1. Service on CLB1, manual accept.
	creq := privatelink.CreateCreateVpcEndpointServiceRequest()
	creq.ServiceResourceType = "slb"
	creq.ServiceDescription = "lifecycle service"
	creq.AutoAcceptEnabled = Bool(false)
	creq.Resource = &[]privatelink.CreateVpcEndpointServiceResource{{ResourceType: "slb", ResourceId: CLB1, ZoneId: ZoneH}}
	cresp, err := e.Provider.CreateVpcEndpointService(creq)
	if err != nil {
		t.Fatalf("CreateVpcEndpointService: %v", err)
	}
	svc := cresp.ServiceId
	if !serviceIDRe.MatchString(svc) {
		t.Errorf("ServiceId %q does not look like epsrv-…", svc)
	}
	if want := "com.aliyuncs.privatelink." + Region + "." + svc; cresp.ServiceName != want {
		t.Errorf("ServiceName = %q, want %q", cresp.ServiceName, want)
	}
	if want := svc + "." + Region + ".privatelink.aliyuncs.com"; cresp.ServiceDomain != want {
		t.Errorf("ServiceDomain = %q, want %q", cresp.ServiceDomain, want)
	}
	if cresp.ServiceDescription != "lifecycle service" || cresp.AutoAcceptEnabled || cresp.ZoneAffinityEnabled {
		t.Errorf("create response = %+v", cresp)
	}
	if !timeRe.MatchString(cresp.CreateTime) {
		t.Errorf("CreateTime %q not in YYYY-MM-DDThh:mm:ssZ", cresp.CreateTime)
	}
	if !requestIDRe.MatchString(cresp.RequestId) {
		t.Errorf("RequestId %q is not an upper-case UUID", cresp.RequestId)
	}
	sattr := e.WaitService(t, svc, "Active")
	if !slices.Equal(sattr.Zones, []string{ZoneH}) {
		t.Errorf("service Zones = %v, want [%s]", sattr.Zones, ZoneH)
	}
	if sattr.ConnectBandwidth != 1024 || sattr.MinBandwidth != 100 || sattr.MaxBandwidth != 1024 {
		t.Errorf("bandwidth Connect/Min/Max = %d/%d/%d, want 1024/100/1024", sattr.ConnectBandwidth, sattr.MinBandwidth, sattr.MaxBandwidth)
	}
	if sattr.ServiceType != "Interface" || sattr.ServiceResourceType != "slb" || sattr.RegionId != Region {
		t.Errorf("service attr type/resource type/region = %q/%q/%q", sattr.ServiceType, sattr.ServiceResourceType, sattr.RegionId)
	}
	if sattr.ServiceBusinessStatus != "Normal" {
		t.Errorf("ServiceBusinessStatus = %q, want Normal", sattr.ServiceBusinessStatus)
	}

	// 2. The owner is always on the whitelist; the consumer is not yet, so it
	// cannot see the service.
	if users := serviceUsers(t, e, svc); !slices.Contains(users, ProviderUID) || slices.Contains(users, ConsumerUID) {
		t.Errorf("whitelist before AddUser = %v, want the owner %s only", users, ProviderUID)
	}
	if visible(t, e.Consumer, svc) {
		t.Error("consumer sees the service before being whitelisted")
	}
	e.AddUser(t, svc, ConsumerUID)
	if users := serviceUsers(t, e, svc); !slices.Contains(users, ConsumerUID) {
		t.Errorf("whitelist after AddUser = %v, want it to contain %s", users, ConsumerUID)
	}
	if !visible(t, e.Consumer, svc) {
		t.Error("whitelisted consumer does not see the service")
	}
	if visible(t, e.Consumer2, svc) {
		t.Error("consumer2 (not whitelisted) sees the service")
	}

	// 3. Endpoint in zone h.
	ereq := e.EndpointRequest(svc, EP{Name: "lifecycle-ep", Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	ereq.EndpointDescription = "my endpoint"
	eresp, err := e.Consumer.CreateVpcEndpoint(ereq)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint: %v", err)
	}
	ep := eresp.EndpointId
	if !endpointIDRe.MatchString(ep) {
		t.Errorf("EndpointId %q does not look like ep-…", ep)
	}
	if want := ep + "." + svc + "." + Region + ".privatelink.aliyuncs.com"; eresp.EndpointDomain != want {
		t.Errorf("EndpointDomain = %q, want %q", eresp.EndpointDomain, want)
	}
	if eresp.ServiceId != svc || eresp.VpcId != VPCConsumer || eresp.EndpointName != "lifecycle-ep" || eresp.ServiceName != cresp.ServiceName {
		t.Errorf("create endpoint response = %+v", eresp)
	}
	attr := e.WaitEndpointStable(t, e.Consumer, ep, "Disconnected")
	if attr.EndpointBusinessStatus != "Normal" || attr.EndpointType != "Interface" || attr.RegionId != Region || attr.ResourceOwner {
		t.Errorf("endpoint attr = %+v", attr)
	}
	if !timeRe.MatchString(attr.CreateTime) || !timeRe.MatchString(eresp.CreateTime) {
		t.Errorf("endpoint CreateTime %q / %q not in YYYY-MM-DDThh:mm:ssZ", attr.CreateTime, eresp.CreateTime)
	}
	if attr.EndpointDescription != "my endpoint" || attr.ZonePrivateIpAddressCount != 1 {
		t.Errorf("endpoint description/ZonePrivateIpAddressCount = %q/%d", attr.EndpointDescription, attr.ZonePrivateIpAddressCount)
	}
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Wait")
	if !eniIDRe.MatchString(z.EniId) {
		t.Errorf("EniId %q does not look like eni-…", z.EniId)
	}
	inCIDR(t, z.EniIp, VSwConsumerHCIDR)
	if want := ep + "-" + ZoneH + "." + svc + "." + Region + ".privatelink.aliyuncs.com"; z.ZoneDomain != want {
		t.Errorf("ZoneDomain = %q, want %q", z.ZoneDomain, want)
	}
	if z.VSwitchId != VSwConsumerH {
		t.Errorf("zone VSwitchId = %q", z.VSwitchId)
	}
	// The service-linked role comes with the first endpoint; nothing to see
	// in v1 of the API beyond the endpoint working.

	// 4. The provider sees a Disconnected connection and accepts it.
	conn := e.Connection(t, svc, ep)
	if conn.ConnectionStatus != "Disconnected" || conn.EndpointOwnerId != 1000000000000002 || conn.EndpointVpcId != VPCConsumer || conn.ResourceOwner {
		t.Errorf("connection before accept = %+v", conn)
	}
	if !timeRe.MatchString(conn.ModifiedTime) {
		t.Errorf("connection ModifiedTime %q not in YYYY-MM-DDThh:mm:ssZ", conn.ModifiedTime)
	}
	if sattr.Payer != "Endpoint" || attr.Payer != "Endpoint" {
		t.Errorf("Payer service/endpoint = %q/%q, want the default Endpoint", sattr.Payer, attr.Payer)
	}
	e.Accept(t, svc, ep, e.Consumer)
	z = e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	if z.ResourceId != CLB1 {
		t.Errorf("zone ResourceId after accept = %q, want %s", z.ResourceId, CLB1)
	}
	attr, _ = e.GetEndpoint(e.Consumer, ep)
	if attr.Bandwidth != 1024 {
		t.Errorf("Bandwidth after accept = %d, want the default 1024", attr.Bandwidth)
	}
	if res := resourceByID(t, e.Resources(t, svc), CLB1); res.RelatedEndpointCount != 1 {
		t.Errorf("CLB1 RelatedEndpointCount = %d, want 1", res.RelatedEndpointCount)
	}

	// 5. Bandwidth change.
	breq := privatelink.CreateUpdateVpcEndpointConnectionAttributeRequest()
	breq.ServiceId, breq.EndpointId, breq.Bandwidth = svc, ep, Int(512)
	if _, err := e.Provider.UpdateVpcEndpointConnectionAttribute(breq); err != nil {
		t.Fatalf("UpdateVpcEndpointConnectionAttribute: %v", err)
	}
	e.WaitEndpoint(t, e.Consumer, ep, "bandwidth 512", func(r *privatelink.GetVpcEndpointAttributeResponse) bool {
		return r.ConnectionStatus == "Connected" && r.Bandwidth == 512
	})
	if c := e.Connection(t, svc, ep); c.Bandwidth != 512 {
		t.Errorf("provider view of Bandwidth = %d, want 512", c.Bandwidth)
	}

	// 6. Attach CLB2 in the same zone.
	areq := privatelink.CreateAttachResourceToVpcEndpointServiceRequest()
	areq.ServiceId, areq.ResourceId, areq.ResourceType = svc, CLB2, "slb"
	if _, err := e.Provider.AttachResourceToVpcEndpointService(areq); err != nil {
		t.Fatalf("AttachResourceToVpcEndpointService: %v", err)
	}
	e.WaitService(t, svc, "Active")
	res := e.Resources(t, svc)
	if len(res) != 2 {
		t.Fatalf("resources after attach = %+v, want CLB1 and CLB2", res)
	}
	r2 := resourceByID(t, res, CLB2)
	if r2.ZoneId != ZoneH || r2.ResourceType != "slb" || !r2.AutoAllocatedEnabled || r2.RelatedEndpointCount != 0 {
		t.Errorf("CLB2 resource = %+v", r2)
	}

	// 7. Graceful replace CLB1 → CLB2: a new ENI, the old pair shown as
	// replaced, the zone Migrated. The guide (步骤五) first has CLB1's
	// automatic allocation turned off; while it is on the replacement is
	// refused and nothing changes.
	old := z
	rreq := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rreq.ServiceId, rreq.EndpointId, rreq.ZoneId = svc, ep, ZoneH
	rreq.ResourceReplaceMode, rreq.ResourceId, rreq.ResourceType = "Graceful", CLB2, "slb"
	before := e.State(t)
	_, err = e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rreq)
	WantError(t, err, "EndpointServiceOperationDenied.ResourceAutoAllocated")
	e.AssertUnchanged(t, before)
	e.SetAutoAllocated(t, svc, CLB1, false)
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rreq); err != nil {
		t.Fatalf("Graceful replace: %v", err)
	}
	z = e.WaitZone(t, e.Consumer, ep, ZoneH, "Migrated")
	if z.ResourceId != CLB2 || z.ReplacedResourceId != CLB1 || z.ReplacedEniId != old.EniId {
		t.Errorf("after Graceful: ResourceId=%s ReplacedResourceId=%s ReplacedEniId=%s; want %s, %s, %s",
			z.ResourceId, z.ReplacedResourceId, z.ReplacedEniId, CLB2, CLB1, old.EniId)
	}
	if z.EniId == old.EniId || z.EniIp == old.EniIp || z.EniIp == "" {
		t.Errorf("after Graceful the zone keeps ENI %s/%s; want a new ENI and IP", z.EniId, z.EniIp)
	}
	inCIDR(t, z.EniIp, VSwConsumerHCIDR)
	if c := e.Connection(t, svc, ep); len(c.Zones) != 1 || c.Zones[0].ReplacedResourceId != CLB1 || c.Zones[0].ResourceId != CLB2 {
		t.Errorf("provider view of the migrated zone = %+v", c.Zones)
	}
	res = e.Resources(t, svc)
	if r1 := resourceByID(t, res, CLB1); r1.RelatedDeprecatedEndpointCount != 1 {
		t.Errorf("CLB1 RelatedDeprecatedEndpointCount = %d, want 1", r1.RelatedDeprecatedEndpointCount)
	}
	if r2 := resourceByID(t, res, CLB2); r2.RelatedEndpointCount != 1 {
		t.Errorf("CLB2 RelatedEndpointCount = %d, want 1", r2.RelatedEndpointCount)
	}
	// The replaced resource is still in use: it cannot be detached.
	before = e.State(t)
	dreq := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
	dreq.ServiceId, dreq.ResourceId, dreq.ResourceType = svc, CLB1, "slb"
	_, err = e.Provider.DetachResourceFromVpcEndpointService(dreq)
	WantError(t, err, resourceInUseCodes...)
	e.AssertUnchanged(t, before)

	// 8. Clean the replaced resource: the old ENI goes, the zone is
	// Connected on CLB2.
	xreq := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	xreq.ServiceId, xreq.EndpointId, xreq.ZoneId, xreq.ReplacedResource = svc, ep, ZoneH, Bool(true)
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(xreq); err != nil {
		t.Fatalf("DisableVpcEndpointZoneConnection ReplacedResource: %v", err)
	}
	migrated := z
	z = e.WaitZones(t, e.Consumer, ep, "replaced cleaned", func(zs []privatelink.Zone) bool {
		z, ok := FindZone(zs, ZoneH)
		return ok && z.ZoneStatus == "Connected" && z.ReplacedEniId == ""
	})[0]
	if z.ResourceId != CLB2 || z.ReplacedResourceId != "" || z.EniId != migrated.EniId || z.EniIp != migrated.EniIp {
		t.Errorf("after cleaning: %+v; want ResourceId %s on ENI %s", z, CLB2, migrated.EniId)
	}
	if r1 := resourceByID(t, e.Resources(t, svc), CLB1); r1.RelatedDeprecatedEndpointCount != 0 || r1.RelatedEndpointCount != 0 {
		t.Errorf("CLB1 counts after cleaning = %d/%d, want 0/0", r1.RelatedEndpointCount, r1.RelatedDeprecatedEndpointCount)
	}
	e.WaitService(t, svc, "Active")

	// 9. Force replace CLB2 → CLB1: same ENI, new resource.
	e.AllowReplace(t, svc, CLB2, CLB1)
	rreq = privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rreq.ServiceId, rreq.EndpointId, rreq.ZoneId = svc, ep, ZoneH
	rreq.ResourceReplaceMode, rreq.ResourceId, rreq.ResourceType = "Force", CLB1, "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rreq); err != nil {
		t.Fatalf("Force replace: %v", err)
	}
	z = e.WaitZones(t, e.Consumer, ep, "forced to CLB1", func(zs []privatelink.Zone) bool {
		z, ok := FindZone(zs, ZoneH)
		return ok && z.ZoneStatus == "Connected" && z.ResourceId == CLB1
	})[0]
	if z.EniId != migrated.EniId || z.EniIp != migrated.EniIp || z.ReplacedEniId != "" || z.ReplacedResourceId != "" {
		t.Errorf("after Force: %+v; want the same ENI %s/%s and nothing replaced", z, migrated.EniId, migrated.EniIp)
	}
	e.WaitService(t, svc, "Active")

	// 10. Reject.
	jreq := privatelink.CreateDisableVpcEndpointConnectionRequest()
	jreq.ServiceId, jreq.EndpointId = svc, ep
	if _, err := e.Provider.DisableVpcEndpointConnection(jreq); err != nil {
		t.Fatalf("DisableVpcEndpointConnection: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, ep, "Disconnected")
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected")

	// 11. Remove the zone.
	mreq := privatelink.CreateRemoveZoneFromVpcEndpointRequest()
	mreq.EndpointId, mreq.ZoneId = ep, ZoneH
	if _, err := e.Consumer.RemoveZoneFromVpcEndpoint(mreq); err != nil {
		t.Fatalf("RemoveZoneFromVpcEndpoint: %v", err)
	}
	e.WaitZones(t, e.Consumer, ep, "empty", func(zs []privatelink.Zone) bool { return len(zs) == 0 })
	e.WaitEndpointStable(t, e.Consumer, ep, "Disconnected")

	// 12. Delete the endpoint.
	delreq := privatelink.CreateDeleteVpcEndpointRequest()
	delreq.EndpointId = ep
	if _, err := e.Consumer.DeleteVpcEndpoint(delreq); err != nil {
		t.Fatalf("DeleteVpcEndpoint: %v", err)
	}
	e.WaitEndpointGone(t, e.Consumer, ep)

	// 13. Detach both resources.
	for _, id := range []string{CLB2, CLB1} {
		e.WaitService(t, svc, "Active")
		dreq := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
		dreq.ServiceId, dreq.ResourceId, dreq.ResourceType = svc, id, "slb"
		if _, err := e.Provider.DetachResourceFromVpcEndpointService(dreq); err != nil {
			t.Fatalf("DetachResourceFromVpcEndpointService(%s): %v", id, err)
		}
	}
	e.WaitService(t, svc, "Active")
	if res := e.Resources(t, svc); len(res) != 0 {
		t.Errorf("resources after detaching = %+v", res)
	}

	// 14. Delete the service.
	sdel := privatelink.CreateDeleteVpcEndpointServiceRequest()
	sdel.ServiceId = svc
	if _, err := e.Provider.DeleteVpcEndpointService(sdel); err != nil {
		t.Fatalf("DeleteVpcEndpointService: %v", err)
	}
	e.WaitServiceGone(t, svc)
}

// TestAutoAcceptAndAddZone covers the auto-accept path, a fixed ENI ip,
// adding a zone to a Connected endpoint (→ Connected on its own) and
// Attach/Detach of security groups.
func TestAutoAcceptAndAddZone(t *testing.T) {
	e := New(t, Options{TransitionDelay: 20 * time.Millisecond})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH}, Res{CLB3, ZoneI})
	e.AddUser(t, svc, ConsumerUID)

	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: "127.10.0.77"}}})
	e.WaitEndpointStable(t, e.Consumer, ep, "Connected")
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	if z.EniIp != "127.10.0.77" || z.ResourceId != CLB1 {
		t.Errorf("zone h = %+v; want ip 127.10.0.77 on %s", z, CLB1)
	}

	// Add zone i with a fixed ip: it connects on its own (the connection is
	// Connected) and gets CLB3, the only resource of zone i.
	azreq := privatelink.CreateAddZoneToVpcEndpointRequest()
	azreq.EndpointId, azreq.ZoneId, azreq.VSwitchId, azreq.Ip = ep, ZoneI, VSwConsumerI, "127.10.1.9"
	if _, err := e.Consumer.AddZoneToVpcEndpoint(azreq); err != nil {
		t.Fatalf("AddZoneToVpcEndpoint: %v", err)
	}
	z = e.WaitZone(t, e.Consumer, ep, ZoneI, "Connected")
	if z.EniIp != "127.10.1.9" || z.ResourceId != CLB3 || z.VSwitchId != VSwConsumerI {
		t.Errorf("zone i = %+v", z)
	}
	e.WaitEndpointStable(t, e.Consumer, ep, "Connected")

	// Security groups: attach a second one, then detach the first.
	sgs := func() []string {
		req := privatelink.CreateListVpcEndpointSecurityGroupsRequest()
		req.EndpointId = ep
		r, err := e.Consumer.ListVpcEndpointSecurityGroups(req)
		if err != nil {
			t.Fatalf("ListVpcEndpointSecurityGroups: %v", err)
		}
		var ids []string
		for _, g := range r.SecurityGroups {
			ids = append(ids, g.SecurityGroupId)
		}
		slices.Sort(ids)
		return ids
	}
	if got := sgs(); !slices.Equal(got, []string{SGConsumer}) {
		t.Errorf("security groups = %v", got)
	}
	at := privatelink.CreateAttachSecurityGroupToVpcEndpointRequest()
	at.EndpointId, at.SecurityGroupId = ep, SGConsumerB
	if _, err := e.Consumer.AttachSecurityGroupToVpcEndpoint(at); err != nil {
		t.Fatalf("AttachSecurityGroupToVpcEndpoint: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, ep, "Connected")
	if got := sgs(); !slices.Equal(got, []string{SGConsumer, SGConsumerB}) {
		t.Errorf("security groups after attach = %v", got)
	}
	dt := privatelink.CreateDetachSecurityGroupFromVpcEndpointRequest()
	dt.EndpointId, dt.SecurityGroupId = ep, SGConsumer
	if _, err := e.Consumer.DetachSecurityGroupFromVpcEndpoint(dt); err != nil {
		t.Fatalf("DetachSecurityGroupFromVpcEndpoint: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, ep, "Connected")
	if got := sgs(); !slices.Equal(got, []string{SGConsumerB}) {
		t.Errorf("security groups after detach = %v", got)
	}

	// Zone connection disable/enable by the provider, then manual pinning
	// of a resource while the zone is Disconnected.
	zd := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	zd.ServiceId, zd.EndpointId, zd.ZoneId = svc, ep, ZoneI
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(zd); err != nil {
		t.Fatalf("DisableVpcEndpointZoneConnection: %v", err)
	}
	e.WaitZone(t, e.Consumer, ep, ZoneI, "Disconnected")
	e.WaitService(t, svc, "Active")
	at2 := privatelink.CreateAttachResourceToVpcEndpointServiceRequest()
	at2.ServiceId, at2.ResourceId, at2.ResourceType = svc, CLB4, "slb"
	if _, err := e.Provider.AttachResourceToVpcEndpointService(at2); err != nil {
		t.Fatalf("Attach CLB4: %v", err)
	}
	e.WaitService(t, svc, "Active")
	pin := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	pin.ServiceId, pin.EndpointId, pin.ZoneId = svc, ep, ZoneI
	pin.ResourceAllocateMode, pin.ResourceId, pin.ResourceType = "Manual", CLB4, "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(pin); err != nil {
		t.Fatalf("Manual allocate: %v", err)
	}
	e.WaitService(t, svc, "Active")
	e.WaitZone(t, e.Consumer, ep, ZoneI, "Disconnected")
	ze := privatelink.CreateEnableVpcEndpointZoneConnectionRequest()
	ze.ServiceId, ze.EndpointId, ze.ZoneId = svc, ep, ZoneI
	if _, err := e.Provider.EnableVpcEndpointZoneConnection(ze); err != nil {
		t.Fatalf("EnableVpcEndpointZoneConnection: %v", err)
	}
	z = e.WaitZone(t, e.Consumer, ep, ZoneI, "Connected")
	if z.ResourceId != CLB4 {
		t.Errorf("zone i after manual pin = %s, want %s", z.ResourceId, CLB4)
	}

	// Turning auto-allocation off on CLB3 leaves CLB4 auto-allocatable: OK.
	ua := privatelink.CreateUpdateVpcEndpointServiceResourceAttributeRequest()
	ua.ServiceId, ua.ResourceId, ua.ZoneId, ua.AutoAllocatedEnabled = svc, CLB3, ZoneI, Bool(false)
	if _, err := e.Provider.UpdateVpcEndpointServiceResourceAttribute(ua); err != nil {
		t.Fatalf("UpdateVpcEndpointServiceResourceAttribute: %v", err)
	}
	e.WaitService(t, svc, "Active")
	if r := resourceByID(t, e.Resources(t, svc), CLB3); r.AutoAllocatedEnabled {
		t.Error("CLB3 still auto-allocatable")
	}
}

// TestServiceAttributes covers UpdateVpcEndpointServiceAttribute,
// UpdateVpcEndpointAttribute, RemoveUser, and that auto-accept and the
// default bandwidth apply to new connections only.
func TestServiceAttributes(t *testing.T) {
	e := New(t, Options{TransitionDelay: 20 * time.Millisecond})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep1 := e.CreateEndpoint(t, svc, EP{})
	ep0 := e.CreateEndpoint(t, svc, EP{})
	e.Accept(t, svc, ep0, e.Consumer)

	up := privatelink.CreateUpdateVpcEndpointServiceAttributeRequest()
	up.ServiceId = svc
	up.AutoAcceptEnabled = Bool(true)
	up.ZoneAffinityEnabled = Bool(true)
	up.ConnectBandwidth = Int(300)
	up.ServiceDescription = "new description"
	if _, err := e.Provider.UpdateVpcEndpointServiceAttribute(up); err != nil {
		t.Fatalf("UpdateVpcEndpointServiceAttribute: %v", err)
	}
	a := e.WaitService(t, svc, "Active")
	if !a.AutoAcceptEnabled || !a.ZoneAffinityEnabled || a.ConnectBandwidth != 300 || a.ServiceDescription != "new description" {
		t.Errorf("service after update = %+v", a)
	}
	// Existing connection untouched; a new endpoint is auto-accepted with
	// the new default bandwidth.
	if r, _ := e.GetEndpoint(e.Consumer, ep1); r.ConnectionStatus != "Disconnected" {
		t.Errorf("existing connection is %s after enabling auto-accept, want Disconnected", r.ConnectionStatus)
	}
	if r, _ := e.GetEndpoint(e.Consumer, ep0); r.Bandwidth != 1024 {
		t.Errorf("existing Connected connection has bandwidth %d after ConnectBandwidth 300, want its 1024 kept", r.Bandwidth)
	}
	ep2 := e.CreateEndpoint(t, svc, EP{})
	r := e.WaitEndpointStable(t, e.Consumer, ep2, "Connected")
	if r.Bandwidth != 300 {
		t.Errorf("new connection Bandwidth = %d, want the service default 300", r.Bandwidth)
	}

	// Endpoint name/description.
	ue := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	ue.EndpointId, ue.EndpointName, ue.EndpointDescription = ep1, "renamed_ep-1", "中文描述 ok"
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(ue); err != nil {
		t.Fatalf("UpdateVpcEndpointAttribute: %v", err)
	}
	r = e.WaitEndpointStable(t, e.Consumer, ep1, "Disconnected")
	if r.EndpointName != "renamed_ep-1" || r.EndpointDescription != "中文描述 ok" {
		t.Errorf("endpoint after update = %q/%q", r.EndpointName, r.EndpointDescription)
	}

	// Remove the consumer from the whitelist: the service disappears from
	// its view and it can no longer create endpoints.
	rm := privatelink.CreateRemoveUserFromVpcEndpointServiceRequest()
	rm.ServiceId, rm.UserId = svc, requests.Integer(ConsumerUID)
	if _, err := e.Provider.RemoveUserFromVpcEndpointService(rm); err != nil {
		t.Fatalf("RemoveUserFromVpcEndpointService: %v", err)
	}
	e.WaitService(t, svc, "Active")
	if visible(t, e.Consumer, svc) {
		t.Error("consumer still sees the service after removal from the whitelist")
	}
	_, err := e.Consumer.CreateVpcEndpoint(e.EndpointRequest(svc, EP{}))
	WantError(t, err, notWhitelistedCodes...)

	// "*" whitelists everyone.
	add := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	add.ServiceId, add.UserARN = svc, "*"
	if _, err := e.Provider.AddUserToVpcEndpointService(add); err != nil {
		t.Logf("AddUserToVpcEndpointService UserARN=*: %v (trying UserId=*)", err)
		add = privatelink.CreateAddUserToVpcEndpointServiceRequest() // a used request keeps its parameters
		add.ServiceId, add.UserId = svc, "*"
		if _, err := e.Provider.AddUserToVpcEndpointService(add); err != nil {
			t.Fatalf("AddUserToVpcEndpointService *: %v", err)
		}
	}
	e.WaitService(t, svc, "Active")
	if !visible(t, e.Outsider, svc) {
		t.Error("outsider does not see a service whitelisted for *")
	}
}

// ---- helpers ----

func serviceUsers(t *testing.T, e *Env, svc string) []string {
	t.Helper()
	req := privatelink.CreateListVpcEndpointServiceUsersRequest()
	req.ServiceId = svc
	r, err := e.Provider.ListVpcEndpointServiceUsers(req)
	if err != nil {
		t.Fatalf("ListVpcEndpointServiceUsers: %v", err)
	}
	var out []string
	for _, u := range r.Users {
		out = append(out, formatUID(u.UserId))
	}
	return out
}

func formatUID(u int64) string {
	s := strings.Repeat("0", 16)
	d := []byte(s)
	for i := 15; i >= 0 && u > 0; i-- {
		d[i] = byte('0' + u%10)
		u /= 10
	}
	return string(d)
}

// visible reports whether c finds svc in ListVpcEndpointServicesByEndUser.
func visible(t *testing.T, c *privatelink.Client, svc string) bool {
	t.Helper()
	req := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
	req.ServiceId = svc
	r, err := c.ListVpcEndpointServicesByEndUser(req)
	if err != nil {
		t.Fatalf("ListVpcEndpointServicesByEndUser: %v", err)
	}
	for _, s := range r.Services {
		if s.ServiceId == svc {
			return true
		}
	}
	return false
}

func resourceByID(t *testing.T, rs []privatelink.Resource, id string) privatelink.Resource {
	t.Helper()
	for _, r := range rs {
		if r.ResourceId == id {
			return r
		}
	}
	t.Fatalf("resource %s not in %+v", id, rs)
	return privatelink.Resource{}
}
