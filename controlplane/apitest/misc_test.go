package apitest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
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

	// A dry run or a refused call does nothing, so it does not use up its
	// token: the real call after it with the same token goes through.
	dr := e.EndpointRequest(svc, EP{Name: "dry-first"})
	dr.ClientToken, dr.DryRun = "dry-token", Bool(true)
	_, err = e.Consumer.CreateVpcEndpoint(dr)
	WantError(t, err, "DryRunOperation")
	dr = e.EndpointRequest(svc, EP{Name: "dry-first"})
	dr.ClientToken = "dry-token"
	if _, err := e.Consumer.CreateVpcEndpoint(dr); err != nil {
		t.Errorf("real call after a dry run with the same token: %v", err)
	}
	bad := e.EndpointRequest(svc, EP{Name: "9bad"})
	bad.ClientToken = "fix-token"
	_, err = e.Consumer.CreateVpcEndpoint(bad)
	WantError(t, err, invalid...)
	bad = e.EndpointRequest(svc, EP{Name: "fixed"})
	bad.ClientToken = "fix-token"
	if _, err := e.Consumer.CreateVpcEndpoint(bad); err != nil {
		t.Errorf("corrected call after a refused one with the same token: %v", err)
	}
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
	// Opening an open product is an error in the cloud (code unverified).
	if _, err := e.Consumer.OpenPrivateLinkService(privatelink.CreateOpenPrivateLinkServiceRequest()); err == nil {
		t.Error("OpenPrivateLinkService succeeded twice")
	} else if c := Code(err); c == "" || c == "InternalError" {
		t.Errorf("second OpenPrivateLinkService: %v", err)
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
	// A fresh request per call: an SDK request keeps the parameters of
	// its earlier calls, so blanking a field would not remove it.
	change := func(c *privatelink.Client, id, typ, rg string) error {
		cg := privatelink.CreateChangeResourceGroupRequest()
		cg.ResourceId, cg.ResourceType, cg.ResourceGroupId = id, typ, rg
		_, err := c.ChangeResourceGroup(cg)
		return err
	}
	WantError(t, change(e.Consumer, svc, "VpcEndpointService", "rg-acfmtest0009"), svcForeign...)
	WantError(t, change(e.Provider, svc, "Bogus", "rg-acfmtest0009"), invalid...)
	WantError(t, change(e.Provider, svc, "VpcEndpointService", ""), missing...)
	WantError(t, change(e.Provider, "", "VpcEndpointService", "rg-acfmtest0009"), missing...)
	e.AssertUnchanged(t, before)
	if err := change(e.Provider, svc, "VpcEndpointService", "rg-acfmtest0009"); err != nil {
		t.Fatalf("ChangeResourceGroup: %v", err)
	}
	if a, _ := e.GetService(e.Provider, svc); a == nil || a.ResourceGroupId != "rg-acfmtest0009" {
		t.Errorf("service after ChangeResourceGroup = %+v", a)
	}
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

// TestUntagAndListTags covers the two tag actions newer than SDK
// v1.63.107, sent as signed calls shaped like the SDK's (newer API
// parameters: ResourceId.N, TagKey.N, All; Tag.N filters).
func TestUntagAndListTags(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep1 := e.CreateEndpoint(t, svc, EP{Name: "one"})
	ep2 := e.CreateEndpoint(t, svc, EP{Name: "two"})
	raw := newRawClient(e.Addr, ConsumerAK, ConsumerSK)
	tr := privatelink.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "VpcEndpoint", &[]string{ep1, ep2}
	tr.Tag = &[]privatelink.TagResourcesTag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}}
	if _, err := e.Consumer.TagResources(tr); err != nil {
		t.Fatalf("TagResources: %v", err)
	}
	keys := func(id string) []string {
		r := privatelink.CreateListVpcEndpointsRequest()
		r.EndpointId = id
		resp, err := e.Consumer.ListVpcEndpoints(r)
		if err != nil || len(resp.Endpoints) != 1 {
			t.Fatalf("ListVpcEndpoints %s: %+v, %v", id, resp, err)
		}
		var ks []string
		for _, tg := range resp.Endpoints[0].Tags {
			ks = append(ks, tg.Key)
		}
		return sorted(ks)
	}

	if _, err := raw.call("UntagResources", url.Values{"ResourceType": {"VpcEndpoint"}, "ResourceId.1": {ep1}, "TagKey.1": {"a"}, "TagKey.2": {"b"}}, nil); err != nil {
		t.Fatalf("UntagResources: %v", err)
	}
	if got := keys(ep1); !slices.Equal(got, []string{"c"}) {
		t.Errorf("ep1 tags after untagging a, b = %v", got)
	}
	if got := keys(ep2); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("ep2 tags (not untagged) = %v", got)
	}
	if _, err := raw.call("UntagResources", url.Values{"ResourceType": {"VpcEndpoint"}, "ResourceId.1": {ep2}, "All": {"true"}}, nil); err != nil {
		t.Fatalf("UntagResources All: %v", err)
	}
	if got := keys(ep2); len(got) != 0 {
		t.Errorf("ep2 tags after All = %v", got)
	}
	// Another account's endpoint cannot be untagged.
	other := newRawClient(e.Addr, Consumer2AK, Consumer2SK)
	if _, err := other.call("UntagResources", url.Values{"ResourceType": {"VpcEndpoint"}, "ResourceId.1": {ep1}, "All": {"true"}}, nil); err == nil {
		t.Error("consumer2 untagged consumer's endpoint")
	}
	if got := keys(ep1); !slices.Equal(got, []string{"c"}) {
		t.Errorf("ep1 tags after a foreign untag = %v", got)
	}

	m, err := raw.call("ListTagResources", url.Values{"ResourceType": {"VpcEndpoint"}, "ResourceId.1": {ep1}, "ResourceId.2": {ep2}}, nil)
	if err != nil {
		t.Fatalf("ListTagResources: %v", err)
	}
	body, _ := json.Marshal(m)
	if !strings.Contains(string(body), ep1) || !strings.Contains(string(body), `"c"`) || strings.Contains(string(body), ep2) {
		t.Errorf("ListTagResources = %s; want ep1's tag c only", body)
	}
}

// TestAutoAllocateMode: Manual pins a resource for the next enable, Auto
// clears the pin, both only while the zone is Disconnected.
func TestAutoAllocateMode(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	zoneCall := func(enable bool) {
		t.Helper()
		var err error
		if enable {
			r := privatelink.CreateEnableVpcEndpointZoneConnectionRequest()
			r.ServiceId, r.EndpointId, r.ZoneId = svc, ep, ZoneH
			_, err = e.Provider.EnableVpcEndpointZoneConnection(r)
		} else {
			r := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
			r.ServiceId, r.EndpointId, r.ZoneId = svc, ep, ZoneH
			_, err = e.Provider.DisableVpcEndpointZoneConnection(r)
		}
		if err != nil {
			t.Fatalf("zone enable=%v: %v", enable, err)
		}
	}
	mode := func(m, res string) error {
		r := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
		r.ServiceId, r.EndpointId, r.ZoneId, r.ResourceAllocateMode = svc, ep, ZoneH, m
		if res != "" {
			r.ResourceId, r.ResourceType = res, "slb"
		}
		_, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(r)
		return err
	}
	zoneCall(false)
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected")
	pinned := otherCLB(z.ResourceId)
	if err := mode("Manual", ""); err == nil {
		t.Error("Manual without ResourceId accepted")
	}
	if err := mode("Manual", pinned); err != nil {
		t.Fatalf("Manual: %v", err)
	}
	zoneCall(true)
	if z = e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected"); z.ResourceId != pinned {
		t.Errorf("after Manual pin and enable: %s, want %s", z.ResourceId, pinned)
	}
	zoneCall(false)
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected")
	// The docs' spelling "Mannual" is accepted too.
	if err := mode("Mannual", CLB1); err != nil { // Auto must clear this pin
		t.Errorf("Mannual: %v", err)
	}
	if err := mode("Auto", ""); err != nil {
		t.Fatalf("Auto: %v", err)
	}
	// With the pin cleared and CLB1 not auto-allocatable, enabling must
	// pick CLB2 (the only auto-allocatable one).
	ua := privatelink.CreateUpdateVpcEndpointServiceResourceAttributeRequest()
	ua.ServiceId, ua.ResourceId, ua.ZoneId, ua.AutoAllocatedEnabled = svc, CLB1, ZoneH, Bool(false)
	if _, err := e.Provider.UpdateVpcEndpointServiceResourceAttribute(ua); err != nil {
		t.Fatalf("CLB1 not auto-allocatable: %v", err)
	}
	zoneCall(true)
	if z = e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected"); z.ResourceId != CLB2 {
		t.Errorf("Auto after the pin was cleared: %s, want %s (the only auto-allocatable resource)", z.ResourceId, CLB2)
	}
}
