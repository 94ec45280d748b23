package api_test

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
)

const (
	providerUID = "1000000000000001"
	consumerUID = "1000000000000002"
	zoneH       = "cn-hangzhou-h"
)

func testLab() *lab.Lab {
	listeners := []lab.Listener{{Port: 80, Backends: []lab.Backend{{Name: "ECS01", Address: "127.0.0.1:18081", Weight: 100}}}}
	return &lab.Lab{
		Region: "cn-hangzhou",
		Zones:  []string{zoneH},
		Accounts: []lab.Account{
			{UID: providerUID, AccessKeys: []lab.AccessKey{{ID: "LTAIprovider000001", Secret: "provider-secret-1"}}},
			{UID: consumerUID, AccessKeys: []lab.AccessKey{{ID: "LTAIconsumer000002", Secret: "consumer-secret-2"}}},
		},
		VPCs: []lab.VPC{
			{ID: "vpc-consumer1", Owner: consumerUID, CIDR: "127.10.0.0/16",
				VSwitches:      []lab.VSwitch{{ID: "vsw-consumer1-h", Zone: zoneH, CIDR: "127.10.0.0/24"}},
				SecurityGroups: []lab.SecurityGroup{{ID: "sg-consumer1"}}},
			{ID: "vpc-provider2", Owner: providerUID, CIDR: "127.192.0.0/16",
				VSwitches: []lab.VSwitch{{ID: "vsw-provider2-h", Zone: zoneH, CIDR: "127.192.24.0/24"}}},
		},
		LoadBalancers: []lab.LoadBalancer{
			{ID: "lb-clb1", Owner: providerUID, VSwitch: "vsw-provider2-h", Zone: zoneH, PrivateLink: true, Listeners: listeners},
			{ID: "lb-clb2", Owner: providerUID, VSwitch: "vsw-provider2-h", Zone: zoneH, PrivateLink: true, Listeners: listeners},
		},
	}
}

type world struct {
	pub                *snapshot.Publisher
	provider, consumer *privatelink.Client
}

func start(t *testing.T) *world {
	t.Helper()
	pub := &snapshot.Publisher{}
	cp, err := controlplane.Open(controlplane.Config{DataDir: t.TempDir(), Lab: testLab(), Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(cp, nil))
	t.Cleanup(func() { srv.Close(); cp.Close() })
	client := func(ak, sk string) *privatelink.Client {
		c, err := privatelink.NewClientWithAccessKey("cn-hangzhou", ak, sk)
		if err != nil {
			t.Fatal(err)
		}
		c.Domain = strings.TrimPrefix(srv.URL, "http://")
		return c
	}
	return &world{pub: pub,
		provider: client("LTAIprovider000001", "provider-secret-1"),
		consumer: client("LTAIconsumer000002", "consumer-secret-2")}
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func code(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func (w *world) zone(t *testing.T, ep string) privatelink.Zone {
	t.Helper()
	r := privatelink.CreateListVpcEndpointZonesRequest()
	r.EndpointId = ep
	resp, err := w.consumer.ListVpcEndpointZones(r)
	check(t, "ListVpcEndpointZones", err)
	if len(resp.Zones) != 1 {
		t.Fatalf("%d zones", len(resp.Zones))
	}
	return resp.Zones[0]
}

// TestGuideLifecycle runs the product guide's scenario through the official
// SDK against the real HTTP server (transitions instant).
func TestGuideLifecycle(t *testing.T) {
	w := start(t)

	cs := privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.Resource = &[]privatelink.CreateVpcEndpointServiceResource{{ResourceType: "slb", ResourceId: "lb-clb1", ZoneId: zoneH}}
	cs.ServiceDescription = "guide service"
	svcResp, err := w.provider.CreateVpcEndpointService(cs)
	check(t, "CreateVpcEndpointService", err)
	svc := svcResp.ServiceId

	au := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	au.ServiceId, au.UserId = svc, requests.NewInteger64(1000000000000002)
	_, err = w.provider.AddUserToVpcEndpointService(au)
	check(t, "AddUserToVpcEndpointService", err)

	ce := privatelink.CreateCreateVpcEndpointRequest()
	ce.ServiceId, ce.VpcId, ce.EndpointName = svc, "vpc-consumer1", "guide-ep"
	ce.SecurityGroupId = &[]string{"sg-consumer1"}
	ce.Zone = &[]privatelink.CreateVpcEndpointZone{{ZoneId: zoneH, VSwitchId: "vsw-consumer1-h", Ip: "127.10.0.5"}}
	ce.Tag = &[]privatelink.CreateVpcEndpointTag{{Key: "env", Value: "dev"}}
	epResp, err := w.consumer.CreateVpcEndpoint(ce)
	check(t, "CreateVpcEndpoint", err)
	ep := epResp.EndpointId
	if !strings.HasPrefix(epResp.EndpointDomain, ep+"."+svc+".cn-hangzhou.") || epResp.ConnectionStatus != "Disconnected" {
		t.Fatalf("CreateVpcEndpoint = %+v", epResp)
	}

	en := privatelink.CreateEnableVpcEndpointConnectionRequest()
	en.ServiceId, en.EndpointId = svc, ep
	_, err = w.provider.EnableVpcEndpointConnection(en)
	check(t, "EnableVpcEndpointConnection", err)
	z := w.zone(t, ep)
	if z.ZoneStatus != "Connected" || z.ResourceId != "lb-clb1" || z.EniIp != "127.10.0.5" ||
		z.ZoneDomain != ep+"-"+zoneH+"."+svc+".cn-hangzhou.privatelink.aliyuncs.com" {
		t.Fatalf("zone after accept = %+v", z)
	}

	ub := privatelink.CreateUpdateVpcEndpointConnectionAttributeRequest()
	ub.ServiceId, ub.EndpointId, ub.Bandwidth = svc, ep, requests.NewInteger(200)
	_, err = w.provider.UpdateVpcEndpointConnectionAttribute(ub)
	check(t, "UpdateVpcEndpointConnectionAttribute", err)
	lc := privatelink.CreateListVpcEndpointConnectionsRequest()
	lc.ServiceId = svc
	conns, err := w.provider.ListVpcEndpointConnections(lc)
	check(t, "ListVpcEndpointConnections", err)
	if len(conns.Connections) != 1 || conns.Connections[0].Bandwidth != 200 || conns.Connections[0].EndpointOwnerId != 1000000000000002 {
		t.Fatalf("connections = %+v", conns.Connections)
	}

	ar := privatelink.CreateAttachResourceToVpcEndpointServiceRequest()
	ar.ServiceId, ar.ResourceId, ar.ResourceType = svc, "lb-clb2", "slb"
	_, err = w.provider.AttachResourceToVpcEndpointService(ar)
	check(t, "AttachResourceToVpcEndpointService", err)

	auto := func(res string, on bool) {
		r := privatelink.CreateUpdateVpcEndpointServiceResourceAttributeRequest()
		r.ServiceId, r.ResourceId, r.AutoAllocatedEnabled = svc, res, requests.NewBoolean(on)
		_, err := w.provider.UpdateVpcEndpointServiceResourceAttribute(r)
		check(t, "UpdateVpcEndpointServiceResourceAttribute", err)
	}
	// The resource a zone moves away from must not allow automatic
	// allocation (guide 步骤五).
	replace := func(mode, res string) {
		from := map[string]string{"lb-clb1": "lb-clb2", "lb-clb2": "lb-clb1"}[res]
		auto(res, true)
		auto(from, false)
		r := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
		r.ServiceId, r.EndpointId, r.ZoneId = svc, ep, zoneH
		r.ResourceReplaceMode, r.ResourceId, r.ResourceType = mode, res, "slb"
		_, err := w.provider.UpdateVpcEndpointZoneConnectionResourceAttribute(r)
		check(t, mode+" replace", err)
	}
	replace("Graceful", "lb-clb2")
	z = w.zone(t, ep)
	if z.ZoneStatus != "Migrated" || z.ResourceId != "lb-clb2" || z.ReplacedResourceId != "lb-clb1" ||
		z.ReplacedEniId == "" || z.EniIp == "127.10.0.5" {
		t.Fatalf("zone after Graceful = %+v", z)
	}
	sz := w.pub.Load().Endpoints[ep].Zones[0]
	if sz.Replaced == nil || sz.Replaced.ENI.IP.String() != "127.10.0.5" {
		t.Fatalf("snapshot zone after Graceful = %+v", sz)
	}

	dz := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	dz.ServiceId, dz.EndpointId, dz.ZoneId, dz.ReplacedResource = svc, ep, zoneH, requests.NewBoolean(true)
	_, err = w.provider.DisableVpcEndpointZoneConnection(dz)
	check(t, "clean replaced", err)
	z = w.zone(t, ep)
	if z.ZoneStatus != "Connected" || z.ReplacedEniId != "" {
		t.Fatalf("zone after cleanup = %+v", z)
	}

	eni := z.EniId
	replace("Force", "lb-clb1")
	if z = w.zone(t, ep); z.ZoneStatus != "Connected" || z.ResourceId != "lb-clb1" || z.EniId != eni {
		t.Fatalf("zone after Force = %+v", z)
	}

	dc := privatelink.CreateDisableVpcEndpointConnectionRequest()
	dc.ServiceId, dc.EndpointId = svc, ep
	_, err = w.provider.DisableVpcEndpointConnection(dc)
	check(t, "DisableVpcEndpointConnection", err)

	rz := privatelink.CreateRemoveZoneFromVpcEndpointRequest()
	rz.EndpointId, rz.ZoneId = ep, zoneH
	_, err = w.consumer.RemoveZoneFromVpcEndpoint(rz)
	check(t, "RemoveZoneFromVpcEndpoint", err)

	de := privatelink.CreateDeleteVpcEndpointRequest()
	de.EndpointId = ep
	_, err = w.consumer.DeleteVpcEndpoint(de)
	check(t, "DeleteVpcEndpoint", err)
	ge := privatelink.CreateGetVpcEndpointAttributeRequest()
	ge.EndpointId = ep
	if _, err := w.consumer.GetVpcEndpointAttribute(ge); code(err) != "EndpointNotFound" {
		t.Fatalf("Get after delete: %v", err)
	}

	for _, res := range []string{"lb-clb2", "lb-clb1"} { // the auto-allocatable one last
		dr := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
		dr.ServiceId, dr.ResourceId, dr.ResourceType = svc, res, "slb"
		_, err = w.provider.DetachResourceFromVpcEndpointService(dr)
		check(t, "DetachResource "+res, err)
	}
	ds := privatelink.CreateDeleteVpcEndpointServiceRequest()
	ds.ServiceId = svc
	_, err = w.provider.DeleteVpcEndpointService(ds)
	check(t, "DeleteVpcEndpointService", err)
	gs := privatelink.CreateGetVpcEndpointServiceAttributeRequest()
	gs.ServiceId = svc
	if _, err := w.provider.GetVpcEndpointServiceAttribute(gs); code(err) != "EndpointServiceNotFound" {
		t.Fatalf("Get after delete: %v", err)
	}
}

// TestWireShapes: wrapped lists where the SDK wants them, DryRun and
// ClientToken through the wire, TagResources in the form body.
func TestWireShapes(t *testing.T) {
	w := start(t)
	regions, err := w.consumer.DescribeRegions(privatelink.CreateDescribeRegionsRequest())
	check(t, "DescribeRegions", err)
	if len(regions.Regions.Region) != 1 || regions.Regions.Region[0].RegionId != "cn-hangzhou" {
		t.Fatalf("regions = %+v", regions.Regions)
	}
	zones, err := w.consumer.DescribeZones(privatelink.CreateDescribeZonesRequest())
	check(t, "DescribeZones", err)
	if len(zones.Zones.Zone) != 1 || zones.Zones.Zone[0].ZoneId != zoneH {
		t.Fatalf("zones = %+v", zones.Zones)
	}

	cs := privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.DryRun = requests.NewBoolean(true)
	if _, err := w.provider.CreateVpcEndpointService(cs); code(err) != "DryRunOperation" {
		t.Fatalf("DryRun: %v", err)
	}
	cs = privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.ClientToken = "token-1"
	a, err := w.provider.CreateVpcEndpointService(cs)
	check(t, "create", err)
	cs = privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.ClientToken = "token-1"
	b, err := w.provider.CreateVpcEndpointService(cs)
	check(t, "replay", err)
	if a.ServiceId != b.ServiceId {
		t.Fatalf("replay made a second service")
	}
	cs = privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.ClientToken, cs.ServiceDescription = "token-1", "other"
	if _, err := w.provider.CreateVpcEndpointService(cs); code(err) != "IdempotenceSignatureMismatch" {
		t.Fatalf("mismatch: %v", err)
	}

	tr := privatelink.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "VpcEndpointService", &[]string{a.ServiceId}
	tr.Tag = &[]privatelink.TagResourcesTag{{Key: "team", Value: "net"}}
	_, err = w.provider.TagResources(tr)
	check(t, "TagResources", err)
	ls := privatelink.CreateListVpcEndpointServicesRequest()
	ls.Tag = &[]privatelink.ListVpcEndpointServicesTag{{Key: "team", Value: "net"}}
	l, err := w.provider.ListVpcEndpointServices(ls)
	check(t, "ListVpcEndpointServices", err)
	if len(l.Services) != 1 || len(l.Services[0].Tags) != 1 || l.Services[0].Tags[0].Key != "team" {
		t.Fatalf("tagged services = %+v", l.Services)
	}
	ls = privatelink.CreateListVpcEndpointServicesRequest()
	ls.MaxResults = requests.NewInteger(0)
	if _, err := w.provider.ListVpcEndpointServices(ls); code(err) != "InvalidParameter" {
		t.Fatalf("MaxResults 0: %v", err)
	}
}
