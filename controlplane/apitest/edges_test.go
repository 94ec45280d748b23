package apitest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// TestBoundariesAccepted sends the extreme values the rules allow: each
// must be accepted and stored exactly.
func TestBoundariesAccepted(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	e.WaitEndpointStable(t, e.Consumer, ep, "Connected")

	names := []string{"ab", "a" + strings.Repeat("z", 127), "中文", "中-文_1", "A1-_b", "Zz"}
	for _, n := range names {
		r := privatelink.CreateUpdateVpcEndpointAttributeRequest()
		r.EndpointId, r.EndpointName = ep, n
		if _, err := e.Consumer.UpdateVpcEndpointAttribute(r); err != nil {
			t.Errorf("EndpointName %q refused: %v", n, err)
			continue
		}
		if g, _ := e.GetEndpoint(e.Consumer, ep); g == nil || g.EndpointName != n {
			t.Errorf("EndpointName %q stored as %+v", n, g)
		}
	}
	descs := []string{"ab", strings.Repeat("d", 256), "see http://x later", "中文", "ftp://fine"}
	for _, d := range descs {
		r := privatelink.CreateUpdateVpcEndpointAttributeRequest()
		r.EndpointId, r.EndpointDescription = ep, d
		if _, err := e.Consumer.UpdateVpcEndpointAttribute(r); err != nil {
			t.Errorf("EndpointDescription %q refused: %v", d, err)
			continue
		}
		if g, _ := e.GetEndpoint(e.Consumer, ep); g == nil || g.EndpointDescription != d {
			t.Errorf("EndpointDescription %q stored as %+v", d, g)
		}
	}
	for _, bw := range []int{100, 1024, 555} {
		r := privatelink.CreateUpdateVpcEndpointConnectionAttributeRequest()
		r.ServiceId, r.EndpointId, r.Bandwidth = svc, ep, Int(bw)
		if _, err := e.Provider.UpdateVpcEndpointConnectionAttribute(r); err != nil {
			t.Errorf("Bandwidth %d refused: %v", bw, err)
			continue
		}
		e.WaitEndpoint(t, e.Consumer, ep, fmt.Sprint("bandwidth ", bw), func(g *privatelink.GetVpcEndpointAttributeResponse) bool {
			return g.Bandwidth == bw && g.ConnectionStatus == "Connected"
		})
	}
	for _, bw := range []int{100, 1024} {
		r := privatelink.CreateUpdateVpcEndpointServiceAttributeRequest()
		r.ServiceId, r.ConnectBandwidth = svc, Int(bw)
		if _, err := e.Provider.UpdateVpcEndpointServiceAttribute(r); err != nil {
			t.Errorf("ConnectBandwidth %d refused: %v", bw, err)
		}
		e.WaitService(t, svc, "Active")
	}
	// 20 tags, key 64 and value 128 characters.
	tags := []privatelink.TagResourcesTag{{Key: strings.Repeat("k", 64), Value: strings.Repeat("v", 128)}}
	for i := 1; i < 20; i++ {
		tags = append(tags, privatelink.TagResourcesTag{Key: fmt.Sprintf("key%d", i), Value: ""})
	}
	tr := privatelink.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId, tr.Tag = "VpcEndpoint", &[]string{ep}, &tags
	if _, err := e.Consumer.TagResources(tr); err != nil {
		t.Errorf("20 tags at the length limits refused: %v", err)
	}
	lr := privatelink.CreateListVpcEndpointsRequest()
	lr.EndpointId = ep
	if resp, err := e.Consumer.ListVpcEndpoints(lr); err != nil || len(resp.Endpoints) != 1 || len(resp.Endpoints[0].Tags) != 20 {
		t.Errorf("endpoint after 20 tags: %+v, %v", resp, err)
	}
	// A 64-character ClientToken is fine.
	up := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	up.EndpointId, up.EndpointName, up.ClientToken = ep, "tokened", strings.Repeat("t", 64)
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(up); err != nil {
		t.Errorf("64-char ClientToken refused: %v", err)
	}
}

// TestWhitelistRules: the owner cannot be taken off its own whitelist, a
// UserId must be an account UID, adding twice is harmless.
func TestWhitelistRules(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	rm := privatelink.CreateRemoveUserFromVpcEndpointServiceRequest()
	rm.ServiceId, rm.UserId = svc, requests.Integer(ProviderUID)
	_, err := e.Provider.RemoveUserFromVpcEndpointService(rm)
	if users := serviceUsers(t, e, svc); !containsStr(users, ProviderUID) {
		t.Errorf("owner removed from its own whitelist (call answered %v); whitelist now %v", err, users)
	}
	// The owner still sees its service as an end user.
	if !visible(t, e.Provider, svc) {
		t.Error("owner does not see its own service in ListVpcEndpointServicesByEndUser")
	}

	for _, bad := range []string{"12", "abc", "-1", "10000000000000001234"} {
		before := e.State(t)
		add := privatelink.CreateAddUserToVpcEndpointServiceRequest()
		add.ServiceId, add.UserId = svc, requests.Integer(bad)
		_, err := e.Provider.AddUserToVpcEndpointService(add)
		WantError(t, err, invalid...)
		e.AssertUnchanged(t, before)
	}
	add := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	add.ServiceId = svc
	_, err = e.Provider.AddUserToVpcEndpointService(add)
	WantError(t, err, append(append([]string{}, missing...), invalid...)...)

	e.AddUser(t, svc, ConsumerUID)
	add.UserId = requests.Integer(ConsumerUID)
	if _, err := e.Provider.AddUserToVpcEndpointService(add); err != nil {
		t.Logf("adding a whitelisted user again: %v", err)
		WantError(t, err, "InvalidParameter", "UserAlreadyExists", "ResourceAlreadyExists", "EndpointServiceUserExists")
	}
	if users := serviceUsers(t, e, svc); len(users) != 2 {
		t.Errorf("whitelist after adding the consumer twice = %v", users)
	}
	// Removing a user that is not on the list.
	rm.UserId = requests.Integer(Consumer2UID)
	if _, err := e.Provider.RemoveUserFromVpcEndpointService(rm); err != nil {
		WantError(t, err, "InvalidParameter", "UserNotFound", "ResourceNotFound", "EndpointServiceUserNotFound")
	}
}

func containsStr(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestENIAddresses: a replaced ENI's address stays taken until cleaned;
// a removed zone's or deleted endpoint's address is free again; removing
// a Connected zone releases its resource.
func TestENIAddresses(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	const ip = "127.10.0.50"
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: ip}}})
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")

	e.AllowReplace(t, svc, z.ResourceId, otherCLB(z.ResourceId))
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", otherCLB(z.ResourceId), "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
		t.Fatalf("Graceful replace: %v", err)
	}
	m := e.WaitZone(t, e.Consumer, ep, ZoneH, "Migrated")
	if m.ReplacedEniId != z.EniId {
		t.Fatalf("ReplacedEniId = %q, want %q", m.ReplacedEniId, z.EniId)
	}
	// The old ENI still holds ip: another endpoint cannot take it.
	before := e.State(t)
	_, err := e.Consumer.CreateVpcEndpoint(e.EndpointRequest(svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: ip}}}))
	WantError(t, err, badWorld...)
	e.AssertUnchanged(t, before)

	// A Migrated zone is not Connected: a second replacement must wait
	// for the cleanup.
	rr.ResourceId = z.ResourceId
	_, err = e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr)
	WantError(t, err, zoneState...)
	e.AssertUnchanged(t, before)

	cl := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	cl.ServiceId, cl.EndpointId, cl.ZoneId, cl.ReplacedResource = svc, ep, ZoneH, Bool(true)
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(cl); err != nil {
		t.Fatalf("clean replaced: %v", err)
	}
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	// Cleaned: ip is free again.
	ep2 := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: ip}}})
	z2 := e.WaitZone(t, e.Consumer, ep2, ZoneH, "Connected")
	if z2.EniIp != ip {
		t.Errorf("ep2 got %s, want the freed %s", z2.EniIp, ip)
	}

	// Removing a Connected zone releases its resource and address.
	counts := func() map[string]int64 {
		out := map[string]int64{}
		for _, r := range e.Resources(t, svc) {
			out[r.ResourceId] = r.RelatedEndpointCount
		}
		return out
	}
	c0 := counts()
	rz := privatelink.CreateRemoveZoneFromVpcEndpointRequest()
	rz.EndpointId, rz.ZoneId = ep2, ZoneH
	if _, err := e.Consumer.RemoveZoneFromVpcEndpoint(rz); err != nil {
		t.Fatalf("RemoveZoneFromVpcEndpoint on a Connected zone: %v", err)
	}
	e.WaitZones(t, e.Consumer, ep2, "empty", func(zs []privatelink.Zone) bool { return len(zs) == 0 })
	c1 := counts()
	if c1[z2.ResourceId] != c0[z2.ResourceId]-1 {
		t.Errorf("RelatedEndpointCount of %s: %d before removing the zone, %d after", z2.ResourceId, c0[z2.ResourceId], c1[z2.ResourceId])
	}
	// Delete ep2; its address was already free: a third endpoint takes it
	// while ep (holding another address) keeps working.
	del := privatelink.CreateDeleteVpcEndpointRequest()
	del.EndpointId = ep2
	if _, err := e.Consumer.DeleteVpcEndpoint(del); err != nil {
		t.Fatalf("DeleteVpcEndpoint: %v", err)
	}
	e.WaitEndpointGone(t, e.Consumer, ep2)
	ep3 := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: ip}}})
	if z3 := e.WaitZone(t, e.Consumer, ep3, ZoneH, "Connected"); z3.EniIp != ip {
		t.Errorf("ep3 got %s, want %s", z3.EniIp, ip)
	}
	// A deleted endpoint's connection is gone from the provider's view.
	lc := privatelink.CreateListVpcEndpointConnectionsRequest()
	lc.ServiceId, lc.EndpointId = svc, ep2
	if resp, err := e.Provider.ListVpcEndpointConnections(lc); err != nil || len(resp.Connections) != 0 {
		t.Errorf("connections of deleted ep2: %+v, %v", resp, err)
	}
}

func otherCLB(id string) string {
	if id == CLB1 {
		return CLB2
	}
	return CLB1
}

// TestFilteredTotals: TotalCount counts what the filter selects, and
// paging a filtered list yields every selected item once.
func TestFilteredTotals(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	var connected []string
	for i := 0; i < 12; i++ {
		resp, err := e.Consumer.CreateVpcEndpoint(e.EndpointRequest(svc, EP{Name: fmt.Sprintf("f%02d", i)}))
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 0 {
			en := privatelink.CreateEnableVpcEndpointConnectionRequest()
			en.ServiceId, en.EndpointId = svc, resp.EndpointId
			if _, err := e.Provider.EnableVpcEndpointConnection(en); err != nil {
				t.Fatal(err)
			}
			connected = append(connected, resp.EndpointId)
		}
	}
	got := walk(t, "ListVpcEndpoints Connected", 3, func(mr requests.Integer, tok string) (page, error) {
		r := privatelink.CreateListVpcEndpointsRequest()
		r.ConnectionStatus, r.MaxResults, r.NextToken = "Connected", mr, tok
		resp, err := e.Consumer.ListVpcEndpoints(r)
		if err != nil {
			return page{}, err
		}
		if resp.TotalCount != len(connected) {
			t.Errorf("filtered TotalCount = %d, want %d", resp.TotalCount, len(connected))
		}
		return page{endpointIDs(resp.Endpoints), resp.NextToken, resp.MaxResults, ""}, nil
	})
	sameSet(t, "Connected endpoints", got, connected)
	got = walk(t, "ListVpcEndpointConnections Connected", 3, func(mr requests.Integer, tok string) (page, error) {
		r := privatelink.CreateListVpcEndpointConnectionsRequest()
		r.ServiceId, r.ConnectionStatus, r.MaxResults, r.NextToken = svc, "Connected", mr, tok
		resp, err := e.Provider.ListVpcEndpointConnections(r)
		if err != nil {
			return page{}, err
		}
		if resp.TotalCount != fmt.Sprint(len(connected)) {
			t.Errorf("filtered connections TotalCount = %q, want %d", resp.TotalCount, len(connected))
		}
		var ids []string
		for _, c := range resp.Connections {
			ids = append(ids, c.EndpointId)
		}
		return page{ids, resp.NextToken, resp.MaxResults, ""}, nil
	})
	sameSet(t, "Connected connections", got, connected)
}

// TestRestartKeepsEverything closes the server cleanly and reopens it on
// the same data dir: every account's view is identical, including a
// Graceful migration in progress, tags, resource groups and whitelists,
// and ClientToken replays still answer the first response.
func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	s1, err := StartServer(Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	e := s1.Env()
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = s1.Close()
		}
	})
	f := newFixture(t, e)
	// A migration in progress and some attributes.
	at := privatelink.CreateAttachResourceToVpcEndpointServiceRequest()
	dt := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
	dt.ServiceId, dt.ResourceId, dt.ResourceType = f.svcC, CLB4, "slb"
	if _, err := e.Provider.DetachResourceFromVpcEndpointService(dt); err != nil {
		t.Fatalf("detach CLB4 from svcC: %v", err)
	}
	at.ServiceId, at.ResourceId, at.ResourceType = f.svcA, CLB4, "slb"
	if _, err := e.Provider.AttachResourceToVpcEndpointService(at); err != nil {
		t.Fatalf("attach CLB4 to svcA: %v", err)
	}
	az := privatelink.CreateAddZoneToVpcEndpointRequest()
	az.EndpointId, az.ZoneId, az.VSwitchId = f.epConn, ZoneI, VSwConsumerI
	if _, err := e.Consumer.AddZoneToVpcEndpoint(az); err != nil {
		t.Fatalf("AddZoneToVpcEndpoint: %v", err)
	}
	zi := e.WaitZone(t, e.Consumer, f.epConn, ZoneI, "Connected")
	e.AllowReplace(t, f.svcA, zi.ResourceId, map[string]string{CLB3: CLB4, CLB4: CLB3}[zi.ResourceId])
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = f.svcA, f.epConn, ZoneI
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", map[string]string{CLB3: CLB4, CLB4: CLB3}[zi.ResourceId], "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
		t.Fatalf("Graceful replace: %v", err)
	}
	e.WaitZone(t, e.Consumer, f.epConn, ZoneI, "Migrated")
	tr := privatelink.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "VpcEndpoint", &[]string{f.epDisc}
	tr.Tag = &[]privatelink.TagResourcesTag{{Key: "k", Value: "v"}}
	if _, err := e.Consumer.TagResources(tr); err != nil {
		t.Fatalf("TagResources: %v", err)
	}
	cr := privatelink.CreateChangeResourceGroupRequest()
	cr.ResourceId, cr.ResourceType, cr.ResourceGroupId = f.svcB, "VpcEndpointService", "rg-acfmrestart01"
	if _, err := e.Provider.ChangeResourceGroup(cr); err != nil {
		t.Fatalf("ChangeResourceGroup: %v", err)
	}
	ce := e.EndpointRequest(f.svcA, EP{Name: "tokened"})
	ce.ClientToken = "restart-token"
	first, err := e.Consumer.CreateVpcEndpoint(ce)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint with token: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, first.EndpointId, "Disconnected")
	before := e.State(t)

	closed = true
	if err := s1.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s, err := StartServer(Options{DataDir: dir})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	e2 := s.Env()
	// Open publishes what it loaded before it returns: the data plane and
	// DNS start from the stored world, migrations included.
	if x := s.Publisher.Load().Endpoints[f.epConn]; x == nil || len(x.Zones) != 2 {
		t.Errorf("snapshot right after reopening: endpoint %s = %+v", f.epConn, x)
	} else {
		for _, z := range x.Zones {
			if z.ZoneID == ZoneI && (z.Status != "Migrated" || z.Replaced == nil) {
				t.Errorf("snapshot right after reopening: migrated zone = %+v", z)
			}
		}
	}
	after := e2.State(t)
	if after != before {
		e2.AssertUnchanged(t, before)
	}
	ce = e.EndpointRequest(f.svcA, EP{Name: "tokened"}) // a request remembers its first server
	ce.ClientToken = "restart-token"
	again, err := e2.Consumer.CreateVpcEndpoint(ce)
	if err != nil || again.EndpointId != first.EndpointId {
		t.Errorf("ClientToken replay after restart = %+v, %v; want %s", again, err, first.EndpointId)
	}
	// And the migration can be finished after the restart.
	cl := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	cl.ServiceId, cl.EndpointId, cl.ZoneId, cl.ReplacedResource = f.svcA, f.epConn, ZoneI, Bool(true)
	if _, err := e2.Provider.DisableVpcEndpointZoneConnection(cl); err != nil {
		t.Errorf("clean replaced after restart: %v", err)
	}
	e2.WaitZone(t, e2.Consumer, f.epConn, ZoneI, "Connected")
}

// TestDeleteServiceAfterReject follows the guide's order for retiring a
// service while a consumer still has its endpoint: reject the connection,
// detach the resources (no zone uses them once disconnected), delete the
// service. The consumer's endpoint survives, no longer connected, and can
// then be cleaned up by its owner.
func TestDeleteServiceAfterReject(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	e.WaitEndpointStable(t, e.Consumer, ep, "Connected")

	rj := privatelink.CreateDisableVpcEndpointConnectionRequest()
	rj.ServiceId, rj.EndpointId = svc, ep
	if _, err := e.Provider.DisableVpcEndpointConnection(rj); err != nil {
		t.Fatalf("reject: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, ep, "Disconnected")
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected")

	dt := privatelink.CreateDetachResourceFromVpcEndpointServiceRequest()
	dt.ServiceId, dt.ResourceId, dt.ResourceType = svc, CLB1, "slb"
	if _, err := e.Provider.DetachResourceFromVpcEndpointService(dt); err != nil {
		t.Fatalf("detach CLB1 after the only zone using it was disconnected: %v", err)
	}
	e.WaitService(t, svc, "Active")
	del := privatelink.CreateDeleteVpcEndpointServiceRequest()
	del.ServiceId = svc
	if _, err := e.Provider.DeleteVpcEndpointService(del); err != nil {
		t.Fatalf("delete a service whose connections are rejected and resources detached: %v", err)
	}
	e.WaitServiceGone(t, svc)

	r, err := e.GetEndpoint(e.Consumer, ep)
	if err != nil {
		t.Fatalf("the consumer's endpoint after its service was deleted: %v", err)
	}
	if r.ConnectionStatus != "ServiceDeleted" && r.ConnectionStatus != "Disconnected" {
		t.Errorf("ConnectionStatus after the service was deleted = %q, want ServiceDeleted (or Disconnected)", r.ConnectionStatus)
	}
	rz := privatelink.CreateRemoveZoneFromVpcEndpointRequest()
	rz.EndpointId, rz.ZoneId = ep, ZoneH
	if _, err := e.Consumer.RemoveZoneFromVpcEndpoint(rz); err != nil {
		t.Fatalf("remove the zone of an orphaned endpoint: %v", err)
	}
	e.WaitZones(t, e.Consumer, ep, "empty", func(zs []privatelink.Zone) bool { return len(zs) == 0 })
	d := privatelink.CreateDeleteVpcEndpointRequest()
	d.EndpointId = ep
	if _, err := e.Consumer.DeleteVpcEndpoint(d); err != nil {
		t.Fatalf("delete an orphaned endpoint: %v", err)
	}
	e.WaitEndpointGone(t, e.Consumer, ep)
}

// TestMigratedZoneExits: a zone in the middle of a Graceful migration is
// disconnected in the guide's order (断开可用区服务资源: the old resource
// first, with ReplacedResource=true, then the zone), or removed outright;
// either way nothing is left on the old resource and the old address is
// released.
func TestMigratedZoneExits(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	migrate := func(ip string) (string, privatelink.Zone) {
		t.Helper()
		ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: ip}}})
		z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
		e.AllowReplace(t, svc, z.ResourceId, otherCLB(z.ResourceId))
		rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
		rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
		rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", otherCLB(z.ResourceId), "slb"
		if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
			t.Fatalf("Graceful replace: %v", err)
		}
		e.WaitZone(t, e.Consumer, ep, ZoneH, "Migrated")
		return ep, z
	}
	deprecated := func() int64 {
		var n int64
		for _, r := range e.Resources(t, svc) {
			n += r.RelatedDeprecatedEndpointCount
		}
		return n
	}

	// A plain disconnect of a Migrated zone would drop both pairs at once:
	// refused, nothing changes. The old resource goes first.
	ep1, _ := migrate("127.10.0.61")
	before := e.State(t)
	d := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	d.ServiceId, d.EndpointId, d.ZoneId = svc, ep1, ZoneH
	_, err := e.Provider.DisableVpcEndpointZoneConnection(d)
	WantError(t, err, "IncorrectStatus.VpcEndpointZone")
	e.AssertUnchanged(t, before)
	cl := privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	cl.ServiceId, cl.EndpointId, cl.ZoneId, cl.ReplacedResource = svc, ep1, ZoneH, Bool(true)
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(cl); err != nil {
		t.Fatalf("clean the replaced resource: %v", err)
	}
	e.WaitZone(t, e.Consumer, ep1, ZoneH, "Connected")
	d = privatelink.CreateDisableVpcEndpointZoneConnectionRequest()
	d.ServiceId, d.EndpointId, d.ZoneId = svc, ep1, ZoneH
	if _, err := e.Provider.DisableVpcEndpointZoneConnection(d); err != nil {
		t.Fatalf("DisableVpcEndpointZoneConnection after the cleanup: %v", err)
	}
	z := e.WaitZone(t, e.Consumer, ep1, ZoneH, "Disconnected")
	if z.ReplacedEniId != "" {
		t.Errorf("a Disconnected zone still shows the replaced ENI %q", z.ReplacedEniId)
	}

	// Remove a Migrated zone.
	ep2, _ := migrate("127.10.0.62")
	rz := privatelink.CreateRemoveZoneFromVpcEndpointRequest()
	rz.EndpointId, rz.ZoneId = ep2, ZoneH
	if _, err := e.Consumer.RemoveZoneFromVpcEndpoint(rz); err != nil {
		t.Fatalf("RemoveZoneFromVpcEndpoint on a Migrated zone: %v", err)
	}
	e.WaitZones(t, e.Consumer, ep2, "empty", func(zs []privatelink.Zone) bool { return len(zs) == 0 })
	if n := deprecated(); n > 1 {
		t.Errorf("RelatedDeprecatedEndpointCount total %d after removing a Migrated zone, want at most ep1's", n)
	}
	// ep2's old address is free again.
	ep3 := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: "127.10.0.62"}}})
	e.WaitZone(t, e.Consumer, ep3, ZoneH, "Connected")
}

// TestResourceOwner: an endpoint of the service's own account is
// ResourceOwner, in the consumer and in the provider view.
func TestResourceOwner(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	ep := e.CreateEndpoint(t, svc, EP{Client: e.Provider, VPC: VPCProvider, SGs: []string{SGProvider}})
	g := e.WaitEndpointStable(t, e.Provider, ep, "Connected")
	if !g.ResourceOwner {
		t.Error("own endpoint: ResourceOwner false in GetVpcEndpointAttribute")
	}
	if c := e.Connection(t, svc, ep); !c.ResourceOwner || formatUID(c.EndpointOwnerId) != ProviderUID {
		t.Errorf("own connection = %+v", c)
	}
	for _, x := range must(e.Provider.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).Endpoints {
		if x.EndpointId == ep && !x.ResourceOwner {
			t.Error("own endpoint: ResourceOwner false in ListVpcEndpoints")
		}
	}
}

// TestReacceptAfterReject: a rejected connection can be accepted again;
// zones added while it was Disconnected wait and then connect with it; a
// zone rejected in the middle of a Graceful migration comes back with
// nothing replaced.
func TestReacceptAfterReject(t *testing.T) {
	e := New(t, Options{TransitionDelay: 10 * time.Millisecond})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH}, Res{CLB3, ZoneI})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	e.Accept(t, svc, ep, e.Consumer)
	z := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	e.AllowReplace(t, svc, z.ResourceId, otherCLB(z.ResourceId))
	rr := privatelink.CreateUpdateVpcEndpointZoneConnectionResourceAttributeRequest()
	rr.ServiceId, rr.EndpointId, rr.ZoneId = svc, ep, ZoneH
	rr.ResourceReplaceMode, rr.ResourceId, rr.ResourceType = "Graceful", otherCLB(z.ResourceId), "slb"
	if _, err := e.Provider.UpdateVpcEndpointZoneConnectionResourceAttribute(rr); err != nil {
		t.Fatalf("Graceful replace: %v", err)
	}
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Migrated")
	e.WaitService(t, svc, "Active")

	rj := privatelink.CreateDisableVpcEndpointConnectionRequest()
	rj.ServiceId, rj.EndpointId = svc, ep
	if _, err := e.Provider.DisableVpcEndpointConnection(rj); err != nil {
		t.Fatalf("reject a connection with a Migrated zone: %v", err)
	}
	e.WaitEndpointStable(t, e.Consumer, ep, "Disconnected")
	e.WaitZone(t, e.Consumer, ep, ZoneH, "Disconnected")

	az := privatelink.CreateAddZoneToVpcEndpointRequest()
	az.EndpointId, az.ZoneId, az.VSwitchId = ep, ZoneI, VSwConsumerI
	if _, err := e.Consumer.AddZoneToVpcEndpoint(az); err != nil {
		t.Fatalf("AddZoneToVpcEndpoint while Disconnected: %v", err)
	}
	e.WaitZone(t, e.Consumer, ep, ZoneI, "Wait")

	e.Accept(t, svc, ep, e.Consumer)
	zh := e.WaitZone(t, e.Consumer, ep, ZoneH, "Connected")
	zi := e.WaitZone(t, e.Consumer, ep, ZoneI, "Connected")
	if zh.ReplacedEniId != "" || zh.ReplacedResourceId != "" || zh.ResourceId == "" {
		t.Errorf("zone h after re-accept = %+v; want a resource and nothing replaced", zh)
	}
	if zi.ResourceId != CLB3 {
		t.Errorf("zone i after accept = %+v; want %s", zi, CLB3)
	}
	var deprecated int64
	for _, r := range e.Resources(t, svc) {
		deprecated += r.RelatedDeprecatedEndpointCount
	}
	if deprecated != 0 {
		t.Errorf("RelatedDeprecatedEndpointCount total %d after the migrated zone was rejected and re-accepted", deprecated)
	}
}
