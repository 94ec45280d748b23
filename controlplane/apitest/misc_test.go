package apitest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// TestClientToken checks idempotency: a replay returns the first response
// and makes one object; the same token with other parameters is
// IdempotenceSignatureMismatch; tokens are per account and per action.
func TestClientToken(t *testing.T) {
	e := New(t, Options{})

	cs := privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.ServiceResourceType, cs.ClientToken = "slb", "svc-token-1"
	cs.Resource = &[]privatelink.CreateVpcEndpointServiceResource{{ResourceType: "slb", ResourceId: CLB1, ZoneId: ZoneH}}
	s1, err := e.Provider.CreateVpcEndpointService(cs)
	if err != nil {
		t.Fatalf("CreateVpcEndpointService: %v", err)
	}
	s2, err := e.Provider.CreateVpcEndpointService(cs)
	if err != nil {
		t.Fatalf("CreateVpcEndpointService replay: %v", err)
	}
	if s1.ServiceId != s2.ServiceId || s1.ServiceDomain != s2.ServiceDomain || s1.CreateTime != s2.CreateTime {
		t.Errorf("replay answered %+v, first call %+v", s2, s1)
	}
	svc := s1.ServiceId
	e.WaitService(t, svc, "Active")
	if n := len(must(e.Provider.ListVpcEndpointServices(privatelink.CreateListVpcEndpointServicesRequest())).Services); n != 1 {
		t.Errorf("%d services after a replayed create, want 1", n)
	}
	e.AddUser(t, svc, ConsumerUID)
	e.AddUser(t, svc, Consumer2UID)

	ce := e.EndpointRequest(svc, EP{Name: "idem"})
	ce.ClientToken = "ep-token-1"
	r1, err := e.Consumer.CreateVpcEndpoint(ce)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint: %v", err)
	}
	r2, err := e.Consumer.CreateVpcEndpoint(ce)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint replay: %v", err)
	}
	if r1.EndpointId != r2.EndpointId || r1.EndpointDomain != r2.EndpointDomain {
		t.Errorf("replay created %s, first %s", r2.EndpointId, r1.EndpointId)
	}
	e.WaitEndpointStable(t, e.Consumer, r1.EndpointId, "Disconnected")
	if n := len(must(e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).Endpoints); n != 1 {
		t.Errorf("%d endpoints after a replayed create, want 1", n)
	}

	// Same token, other parameters.
	before := e.State(t)
	ce2 := e.EndpointRequest(svc, EP{Name: "other-name"})
	ce2.ClientToken = "ep-token-1"
	_, err = e.Consumer.CreateVpcEndpoint(ce2)
	WantError(t, err, "IdempotenceSignatureMismatch")
	e.AssertUnchanged(t, before)

	// Another account's token space is its own.
	ce3 := e.EndpointRequest(svc, EP{Name: "idem", VPC: VPCConsumer2, SGs: []string{SGConsumer2}})
	ce3.ClientToken = "ep-token-1"
	r3, err := e.Consumer2.CreateVpcEndpoint(ce3)
	if err != nil {
		t.Fatalf("consumer2 CreateVpcEndpoint with consumer's token: %v", err)
	}
	if r3.EndpointId == r1.EndpointId {
		t.Errorf("consumer2 got consumer's endpoint %s back", r1.EndpointId)
	}
	e.WaitEndpointStable(t, e.Consumer2, r3.EndpointId, "Disconnected")

	// A replayed attach answers success again instead of "already there".
	at := privatelink.CreateAttachSecurityGroupToVpcEndpointRequest()
	at.EndpointId, at.SecurityGroupId, at.ClientToken = r1.EndpointId, SGConsumerB, "sg-token"
	if _, err := e.Consumer.AttachSecurityGroupToVpcEndpoint(at); err != nil {
		t.Fatalf("AttachSecurityGroupToVpcEndpoint: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, r1.EndpointId, "Disconnected")
	if _, err := e.Consumer.AttachSecurityGroupToVpcEndpoint(at); err != nil {
		t.Errorf("AttachSecurityGroupToVpcEndpoint replay: %v", err)
	}
	// The same token on another action is another request.
	up := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	up.EndpointId, up.EndpointName, up.ClientToken = r1.EndpointId, "renamed", "sg-token"
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(up); err != nil {
		t.Errorf("UpdateVpcEndpointAttribute with a token used by another action: %v", err)
	}
	e.WaitEndpoint(t, e.Consumer, r1.EndpointId, "renamed", func(r *privatelink.GetVpcEndpointAttributeResponse) bool {
		return r.EndpointName == "renamed" && r.EndpointStatus == "Active"
	})

	// A replayed accept does not fail on the now-Connected connection.
	en := privatelink.CreateEnableVpcEndpointConnectionRequest()
	en.ServiceId, en.EndpointId, en.ClientToken, en.Bandwidth = svc, r1.EndpointId, "accept-token", Int(200)
	if _, err := e.Provider.EnableVpcEndpointConnection(en); err != nil {
		t.Fatalf("EnableVpcEndpointConnection: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, r1.EndpointId, "Connected")
	if _, err := e.Provider.EnableVpcEndpointConnection(en); err != nil {
		t.Errorf("EnableVpcEndpointConnection replay: %v", err)
	}
	if r, _ := e.GetEndpoint(e.Consumer, r1.EndpointId); r == nil || r.Bandwidth != 200 {
		t.Errorf("bandwidth after accept with 200 = %+v", r)
	}
	// A token the mismatch check saw stays bound to the first request.
	en.Bandwidth = Int(300)
	_, err = e.Provider.EnableVpcEndpointConnection(en)
	WantError(t, err, "IdempotenceSignatureMismatch")
}

// TestTagResources tags endpoints and services through the form body the
// SDK uses for this action, overwrites a value, and checks the 20-tag cap.
func TestTagResources(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep1 := e.CreateEndpoint(t, svc, EP{Name: "one"})
	ep2 := e.CreateEndpoint(t, svc, EP{Name: "two"})

	tag := func(c *privatelink.Client, typ string, ids []string, tags ...privatelink.TagResourcesTag) error {
		r := privatelink.CreateTagResourcesRequest()
		r.ResourceType, r.ResourceId, r.Tag = typ, &ids, &tags
		_, err := c.TagResources(r)
		return err
	}
	if err := tag(e.Consumer, "VpcEndpoint", []string{ep1, ep2}, privatelink.TagResourcesTag{Key: "env", Value: "dev"}, privatelink.TagResourcesTag{Key: "app", Value: "shop"}); err != nil {
		t.Fatalf("TagResources: %v", err)
	}
	if err := tag(e.Consumer, "VpcEndpoint", []string{ep2}, privatelink.TagResourcesTag{Key: "env", Value: "prod"}); err != nil {
		t.Fatalf("TagResources overwrite: %v", err)
	}
	tagsOf := func(id string) map[string]string {
		r := privatelink.CreateListVpcEndpointsRequest()
		r.EndpointId = id
		resp, err := e.Consumer.ListVpcEndpoints(r)
		if err != nil || len(resp.Endpoints) != 1 {
			t.Fatalf("ListVpcEndpoints %s: %+v, %v", id, resp, err)
		}
		m := map[string]string{}
		for _, tg := range resp.Endpoints[0].Tags {
			m[tg.Key] = tg.Value
		}
		return m
	}
	if got := tagsOf(ep1); fmt.Sprint(got) != fmt.Sprint(map[string]string{"env": "dev", "app": "shop"}) {
		t.Errorf("ep1 tags = %v", got)
	}
	if got := tagsOf(ep2); fmt.Sprint(got) != fmt.Sprint(map[string]string{"env": "prod", "app": "shop"}) {
		t.Errorf("ep2 tags = %v", got)
	}
	lr := privatelink.CreateListVpcEndpointsRequest()
	lr.Tag = &[]privatelink.ListVpcEndpointsTag{{Key: "env", Value: "prod"}}
	if resp, err := e.Consumer.ListVpcEndpoints(lr); err != nil || !slices.Equal(endpointIDs(resp.Endpoints), []string{ep2}) {
		t.Errorf("filter env=prod = %+v, %v", resp, err)
	}

	if err := tag(e.Provider, "VpcEndpointService", []string{svc}, privatelink.TagResourcesTag{Key: "tier", Value: "gold"}); err != nil {
		t.Fatalf("TagResources service: %v", err)
	}
	ls := privatelink.CreateListVpcEndpointServicesRequest()
	ls.Tag = &[]privatelink.ListVpcEndpointServicesTag{{Key: "tier", Value: "gold"}}
	if resp, err := e.Provider.ListVpcEndpointServices(ls); err != nil || len(resp.Services) != 1 || len(resp.Services[0].Tags) != 1 {
		t.Errorf("services tagged tier=gold = %+v, %v", resp, err)
	}
	// The consumer cannot tag the provider's service.
	WantError(t, tag(e.Consumer, "VpcEndpointService", []string{svc}, privatelink.TagResourcesTag{Key: "x", Value: "y"}), svcForeign...)

	// Up to 20 tags per resource: ep1 has 2, 18 more fit, then no more.
	var more []privatelink.TagResourcesTag
	for i := 0; i < 18; i++ {
		more = append(more, privatelink.TagResourcesTag{Key: fmt.Sprintf("k%02d", i), Value: "v"})
	}
	if err := tag(e.Consumer, "VpcEndpoint", []string{ep1}, more...); err != nil {
		t.Fatalf("TagResources to 20 tags: %v", err)
	}
	before := e.State(t)
	WantError(t, tag(e.Consumer, "VpcEndpoint", []string{ep1}, privatelink.TagResourcesTag{Key: "one-too-many", Value: "v"}), append(append([]string{}, invalid...), "QuotaExceeded")...)
	// A batch where one resource is foreign changes none of them.
	WantError(t, tag(e.Consumer, "VpcEndpoint", []string{ep2, "ep-doesnotexist000000000"}, privatelink.TagResourcesTag{Key: "batch", Value: "v"}), epNotFound...)
	e.AssertUnchanged(t, before)
	// Overwriting an existing key at the cap is fine.
	if err := tag(e.Consumer, "VpcEndpoint", []string{ep1}, privatelink.TagResourcesTag{Key: "env", Value: "qa"}); err != nil {
		t.Errorf("overwrite at 20 tags: %v", err)
	}
}

// TestRegionsZonesAndProduct covers DescribeRegions/DescribeZones (wrapped
// lists), CheckProductOpen, OpenPrivateLinkService and
// CheckResourceSupportOperate.
func TestRegionsZonesAndProduct(t *testing.T) {
	e := New(t, Options{})
	rr, err := e.Consumer.DescribeRegions(privatelink.CreateDescribeRegionsRequest())
	if err != nil {
		t.Fatalf("DescribeRegions: %v", err)
	}
	found := false
	for _, r := range rr.Regions.Region {
		if r.RegionId == Region {
			found = true
			if r.LocalName == "" {
				t.Errorf("region %s has no LocalName", Region)
			}
		}
	}
	if !found {
		t.Errorf("DescribeRegions = %+v, want %s", rr.Regions, Region)
	}

	for _, typ := range []string{"", "slb"} {
		zr := privatelink.CreateDescribeZonesRequest()
		zr.ServiceResourceType = typ
		resp, err := e.Consumer.DescribeZones(zr)
		if err != nil {
			t.Fatalf("DescribeZones(%q): %v", typ, err)
		}
		var ids []string
		for _, z := range resp.Zones.Zone {
			ids = append(ids, z.ZoneId)
		}
		if !slices.Equal(sorted(ids), []string{ZoneH, ZoneI}) {
			t.Errorf("DescribeZones(%q) = %v, want the lab's zones", typ, ids)
		}
	}

	cp, err := e.Consumer.CheckProductOpen(privatelink.CreateCheckProductOpenRequest())
	if err != nil {
		t.Fatalf("CheckProductOpen: %v", err)
	}
	if !cp.Success {
		t.Log("PrivateLink reported as not open for the consumer; opening it")
	}
	op, err := e.Consumer.OpenPrivateLinkService(privatelink.CreateOpenPrivateLinkServiceRequest())
	if err != nil {
		// Already open is an error in the cloud (code unverified): 4xx.
		WantError(t, err, "ORDER", "OperationDenied", "IncorrectStatus", "AlreadyOpen", "ProductAlreadyOpened", "InvalidParameter", "ORDER.OPEND")
	} else if op.OrderId == "" {
		t.Error("OpenPrivateLinkService: no OrderId")
	}
	if cp, err := e.Consumer.CheckProductOpen(privatelink.CreateCheckProductOpenRequest()); err != nil || !cp.Success {
		t.Errorf("CheckProductOpen after opening = %+v, %v", cp, err)
	}

	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	cr := privatelink.CreateCheckResourceSupportOperateRequest()
	cr.ResourceId, cr.ResourceType, cr.ZoneId = svc, "VpcEndpointService", ZoneH
	if _, err := e.Provider.CheckResourceSupportOperate(cr); err != nil {
		var se = Code(err)
		if se == "" || se == "InternalError" {
			t.Errorf("CheckResourceSupportOperate: %v", err)
		}
	}
}

// TestChangeResourceGroup: a foreign object, a bad ResourceType and a
// missing ResourceGroupId are refused and change nothing.
func TestChangeResourceGroup(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	before := e.State(t)
	cg := privatelink.CreateChangeResourceGroupRequest()
	cg.ResourceId, cg.ResourceType, cg.ResourceGroupId = svc, "VpcEndpointService", "rg-acfmtest0009"
	_, err := e.Consumer.ChangeResourceGroup(cg)
	WantError(t, err, svcForeign...)
	cg.ResourceType = "Bogus"
	_, err = e.Provider.ChangeResourceGroup(cg)
	WantError(t, err, invalid...)
	cg.ResourceType, cg.ResourceGroupId = "VpcEndpointService", ""
	_, err = e.Provider.ChangeResourceGroup(cg)
	WantError(t, err, missing...)
	cg.ResourceGroupId, cg.ResourceId = "rg-acfmtest0009", ""
	_, err = e.Provider.ChangeResourceGroup(cg)
	WantError(t, err, missing...)
	e.AssertUnchanged(t, before)
}

// TestServiceByName creates an endpoint naming the service by ServiceName
// instead of ServiceId.
func TestServiceByName(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	r := e.EndpointRequest("", EP{})
	r.ServiceName = "com.aliyuncs.privatelink." + Region + "." + svc
	resp, err := e.Consumer.CreateVpcEndpoint(r)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint by ServiceName: %v", err)
	}
	if resp.ServiceId != svc {
		t.Errorf("ServiceId = %q, want %s", resp.ServiceId, svc)
	}
	e.WaitEndpointStable(t, e.Consumer, resp.EndpointId, "Connected")
}

// TestAuthAndRegion: the SDK's view of a wrong secret and an unknown
// AccessKey, and calls naming a region the lab does not have.
func TestAuthAndRegion(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)

	bad := e.Client(ConsumerAK, "wrong-secret")
	_, err := bad.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	WantError(t, err, "SignatureDoesNotMatch")
	unknown := e.Client("LTAInobody00000000", "x")
	_, err = unknown.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	WantError(t, err, "InvalidAccessKeyId.NotFound")

	before := e.State(t)
	r := e.EndpointRequest(svc, EP{})
	r.RegionId = "cn-shanghai"
	_, err = e.Consumer.CreateVpcEndpoint(r)
	WantError(t, err, append(append([]string{}, badWorld...), "RegionNotFound", "UnsupportedRegion", "InvalidRegionId", "EndpointServiceNotFound")...)
	cs := privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.RegionId, cs.ServiceResourceType = "cn-shanghai", "slb"
	cs.Resource = &[]privatelink.CreateVpcEndpointServiceResource{{ResourceType: "slb", ResourceId: CLB2, ZoneId: ZoneH}}
	_, err = e.Provider.CreateVpcEndpointService(cs)
	WantError(t, err, append(append([]string{}, badWorld...), "RegionNotFound", "UnsupportedRegion", "InvalidRegionId")...)
	e.AssertUnchanged(t, before)
}
