package apitest

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// page is one List call: the ids on it, the token for the next page, the
// MaxResults echoed and the TotalCount ("" if the action has none).
type page struct {
	ids        []string
	next       string
	maxResults int
	total      string
}

// walk follows NextToken from the first page, checking every page against
// max (0 = the default 50), and returns the ids in order.
func walk(t *testing.T, name string, max int, list func(max requests.Integer, token string) (page, error)) []string {
	t.Helper()
	want := max
	if want == 0 {
		want = 50
	}
	var mr requests.Integer
	if max != 0 {
		mr = Int(max)
	}
	var all []string
	token := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("%s: NextToken never ends", name)
		}
		p, err := list(mr, token)
		if err != nil {
			t.Fatalf("%s page %d: %v", name, pages, err)
		}
		if p.maxResults != want {
			t.Errorf("%s page %d: MaxResults = %d, want %d", name, pages, p.maxResults, want)
		}
		if len(p.ids) > want {
			t.Errorf("%s page %d: %d items > MaxResults %d", name, pages, len(p.ids), want)
		}
		if p.next != "" && len(p.ids) != want {
			t.Errorf("%s page %d: short page (%d of %d) with a NextToken", name, pages, len(p.ids), want)
		}
		all = append(all, p.ids...)
		if p.next == "" {
			return all
		}
		if p.next == token {
			t.Fatalf("%s: NextToken %q repeats", name, token)
		}
		token = p.next
	}
}

// sameSet checks that got holds each of want exactly once.
func sameSet(t *testing.T, name string, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
	}
	for id, n := range seen {
		if n > 1 {
			t.Errorf("%s: %s listed %d times", name, id, n)
		}
	}
	g := slices.Clone(got)
	w := slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	g = slices.Compact(g)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %d distinct ids, want %d\n got  %v\n want %v", name, len(g), len(w), g, w)
	}
}

func endpointIDs(eps []privatelink.Endpoint) []string {
	out := make([]string, len(eps))
	for i, e := range eps {
		out[i] = e.EndpointId
	}
	return out
}

func serviceIDs(ss []privatelink.Service) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ServiceId
	}
	return out
}

// TestPagination lists ~120 objects of each listable kind with several
// page sizes: every item exactly once, pages never longer than MaxResults,
// TotalCount right, the last page without a NextToken.
func TestPagination(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	const nEP = 120
	var eps []string
	for i := 0; i < nEP; i++ {
		r := e.EndpointRequest(svc, EP{Name: fmt.Sprintf("ep-%03d", i)})
		resp, err := e.Consumer.CreateVpcEndpoint(r)
		if err != nil {
			t.Fatalf("CreateVpcEndpoint %d: %v", i, err)
		}
		eps = append(eps, resp.EndpointId)
	}
	// More services for the provider (and one whitelisted for everyone's
	// view); services need no resources.
	svcs := []string{svc}
	for i := 0; i < 54; i++ {
		r := privatelink.CreateCreateVpcEndpointServiceRequest()
		r.ServiceResourceType = "slb"
		resp, err := e.Provider.CreateVpcEndpointService(r)
		if err != nil {
			t.Fatalf("CreateVpcEndpointService %d: %v", i, err)
		}
		svcs = append(svcs, resp.ServiceId)
	}
	// 60 whitelisted users on svc (UIDs need not be lab accounts).
	users := []string{ProviderUID, ConsumerUID}
	for i := 0; i < 58; i++ {
		uid := fmt.Sprintf("20000000000%05d", i)
		r := privatelink.CreateAddUserToVpcEndpointServiceRequest()
		r.ServiceId, r.UserId = svc, requests.Integer(uid)
		if _, err := e.Provider.AddUserToVpcEndpointService(r); err != nil {
			t.Fatalf("AddUserToVpcEndpointService %s: %v", uid, err)
		}
		users = append(users, uid)
	}

	for _, max := range []int{0, 1, 7, 50} {
		t.Run(fmt.Sprintf("MaxResults=%d", max), func(t *testing.T) {
			got := walk(t, "ListVpcEndpoints", max, func(mr requests.Integer, tok string) (page, error) {
				r := privatelink.CreateListVpcEndpointsRequest()
				r.MaxResults, r.NextToken = mr, tok
				resp, err := e.Consumer.ListVpcEndpoints(r)
				if err != nil {
					return page{}, err
				}
				if resp.TotalCount != nEP {
					t.Errorf("ListVpcEndpoints TotalCount = %d, want %d", resp.TotalCount, nEP)
				}
				return page{endpointIDs(resp.Endpoints), resp.NextToken, resp.MaxResults, ""}, nil
			})
			sameSet(t, "ListVpcEndpoints", got, eps)

			got = walk(t, "ListVpcEndpointConnections", max, func(mr requests.Integer, tok string) (page, error) {
				r := privatelink.CreateListVpcEndpointConnectionsRequest()
				r.ServiceId, r.MaxResults, r.NextToken = svc, mr, tok
				resp, err := e.Provider.ListVpcEndpointConnections(r)
				if err != nil {
					return page{}, err
				}
				if resp.TotalCount != fmt.Sprint(nEP) {
					t.Errorf("ListVpcEndpointConnections TotalCount = %q, want %d", resp.TotalCount, nEP)
				}
				ids := make([]string, len(resp.Connections))
				for i, c := range resp.Connections {
					ids[i] = c.EndpointId
				}
				return page{ids, resp.NextToken, resp.MaxResults, resp.TotalCount}, nil
			})
			sameSet(t, "ListVpcEndpointConnections", got, eps)

			got = walk(t, "ListVpcEndpointServices", max, func(mr requests.Integer, tok string) (page, error) {
				r := privatelink.CreateListVpcEndpointServicesRequest()
				r.MaxResults, r.NextToken = mr, tok
				resp, err := e.Provider.ListVpcEndpointServices(r)
				if err != nil {
					return page{}, err
				}
				if resp.TotalCount != len(svcs) {
					t.Errorf("ListVpcEndpointServices TotalCount = %d, want %d", resp.TotalCount, len(svcs))
				}
				return page{serviceIDs(resp.Services), resp.NextToken, resp.MaxResults, ""}, nil
			})
			sameSet(t, "ListVpcEndpointServices", got, svcs)

			// The provider owns every service, so its end-user view holds
			// them all too.
			got = walk(t, "ListVpcEndpointServicesByEndUser", max, func(mr requests.Integer, tok string) (page, error) {
				r := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
				r.MaxResults, r.NextToken = mr, tok
				resp, err := e.Provider.ListVpcEndpointServicesByEndUser(r)
				if err != nil {
					return page{}, err
				}
				return page{serviceIDs(resp.Services), resp.NextToken, resp.MaxResults, resp.TotalCount}, nil
			})
			sameSet(t, "ListVpcEndpointServicesByEndUser", got, svcs)

			got = walk(t, "ListVpcEndpointServiceUsers", max, func(mr requests.Integer, tok string) (page, error) {
				r := privatelink.CreateListVpcEndpointServiceUsersRequest()
				r.ServiceId, r.MaxResults, r.NextToken = svc, mr, tok
				resp, err := e.Provider.ListVpcEndpointServiceUsers(r)
				if err != nil {
					return page{}, err
				}
				ids := make([]string, len(resp.Users))
				for i, u := range resp.Users {
					ids[i] = formatUID(u.UserId)
				}
				return page{ids, resp.NextToken, resp.MaxResults, resp.TotalCount}, nil
			})
			sameSet(t, "ListVpcEndpointServiceUsers", got, users)
		})
	}

	// The consumer sees only svc (whitelisted), however it pages.
	got := walk(t, "ListVpcEndpointServicesByEndUser(consumer)", 1, func(mr requests.Integer, tok string) (page, error) {
		r := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
		r.MaxResults, r.NextToken = mr, tok
		resp, err := e.Consumer.ListVpcEndpointServicesByEndUser(r)
		if err != nil {
			return page{}, err
		}
		return page{serviceIDs(resp.Services), resp.NextToken, resp.MaxResults, resp.TotalCount}, nil
	})
	sameSet(t, "ListVpcEndpointServicesByEndUser(consumer)", got, []string{svc})

	// Another account sees none of the consumer's endpoints.
	r := privatelink.CreateListVpcEndpointsRequest()
	if resp, err := e.Consumer2.ListVpcEndpoints(r); err != nil || len(resp.Endpoints) != 0 || resp.TotalCount != 0 {
		t.Errorf("consumer2 ListVpcEndpoints = %+v, %v; want nothing", resp, err)
	}

	// A token from one list is not a token for another account's list.
	r = privatelink.CreateListVpcEndpointsRequest()
	r.MaxResults = Int(5)
	resp, err := e.Consumer.ListVpcEndpoints(r)
	if err != nil || resp.NextToken == "" {
		t.Fatalf("first page: %+v, %v", resp, err)
	}
	r2 := privatelink.CreateListVpcEndpointsRequest()
	r2.MaxResults, r2.NextToken = Int(5), resp.NextToken
	if resp2, err := e.Consumer2.ListVpcEndpoints(r2); err == nil && len(resp2.Endpoints) > 0 {
		t.Errorf("consumer2 paging with consumer's token got %d endpoints", len(resp2.Endpoints))
	}
}

// TestSmallListsPaginate pages the per-object lists (zones, security
// groups, resources) one item at a time.
func TestSmallListsPaginate(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH}, Res{CLB2, ZoneH}, Res{CLB3, ZoneI})
	e.AddUser(t, svc, ConsumerUID)
	ep := e.CreateEndpoint(t, svc, EP{SGs: []string{SGConsumer, SGConsumerB}, Zones: []privatelink.CreateVpcEndpointZone{
		{ZoneId: ZoneH, VSwitchId: VSwConsumerH}, {ZoneId: ZoneI, VSwitchId: VSwConsumerI}}})

	zones := walk(t, "ListVpcEndpointZones", 1, func(mr requests.Integer, tok string) (page, error) {
		r := privatelink.CreateListVpcEndpointZonesRequest()
		r.EndpointId, r.MaxResults, r.NextToken = ep, mr, tok
		resp, err := e.Consumer.ListVpcEndpointZones(r)
		if err != nil {
			return page{}, err
		}
		ids := []string{}
		for _, z := range resp.Zones {
			ids = append(ids, z.ZoneId)
		}
		return page{ids, resp.NextToken, resp.MaxResults, ""}, nil
	})
	sameSet(t, "ListVpcEndpointZones", zones, []string{ZoneH, ZoneI})

	sgs := walk(t, "ListVpcEndpointSecurityGroups", 1, func(mr requests.Integer, tok string) (page, error) {
		r := privatelink.CreateListVpcEndpointSecurityGroupsRequest()
		r.EndpointId, r.MaxResults, r.NextToken = ep, mr, tok
		resp, err := e.Consumer.ListVpcEndpointSecurityGroups(r)
		if err != nil {
			return page{}, err
		}
		ids := []string{}
		for _, g := range resp.SecurityGroups {
			ids = append(ids, g.SecurityGroupId)
		}
		return page{ids, resp.NextToken, resp.MaxResults, ""}, nil
	})
	sameSet(t, "ListVpcEndpointSecurityGroups", sgs, []string{SGConsumer, SGConsumerB})

	res := walk(t, "ListVpcEndpointServiceResources", 2, func(mr requests.Integer, tok string) (page, error) {
		r := privatelink.CreateListVpcEndpointServiceResourcesRequest()
		r.ServiceId, r.MaxResults, r.NextToken = svc, mr, tok
		resp, err := e.Provider.ListVpcEndpointServiceResources(r)
		if err != nil {
			return page{}, err
		}
		ids := []string{}
		for _, x := range resp.Resources {
			ids = append(ids, x.ResourceId)
		}
		return page{ids, resp.NextToken, resp.MaxResults, ""}, nil
	})
	sameSet(t, "ListVpcEndpointServiceResources", res, []string{CLB1, CLB2, CLB3})
}

// TestFilters checks every filter of every List action.
func TestFilters(t *testing.T) {
	e := New(t, Options{})
	const rgA, rgB = "rg-acfmtest0001", "rg-acfmtest0002"

	// Services: svc1 (CLB1+CLB3, auto-accept, affinity, tagged, rgA),
	// svc2 (CLB2, manual), svc3 (no resources).
	cs := privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.ServiceResourceType = "slb"
	cs.AutoAcceptEnabled, cs.ZoneAffinityEnabled = Bool(true), Bool(true)
	cs.ResourceGroupId = rgA
	cs.Tag = &[]privatelink.CreateVpcEndpointServiceTag{{Key: "team", Value: "net"}}
	cs.Resource = &[]privatelink.CreateVpcEndpointServiceResource{{ResourceType: "slb", ResourceId: CLB1, ZoneId: ZoneH}, {ResourceType: "slb", ResourceId: CLB3, ZoneId: ZoneI}}
	r1, err := e.Provider.CreateVpcEndpointService(cs)
	if err != nil {
		t.Fatalf("CreateVpcEndpointService: %v", err)
	}
	svc1 := r1.ServiceId
	e.WaitService(t, svc1, "Active")
	svc2 := e.CreateService(t, false, Res{CLB2, ZoneH})
	svc3 := e.CreateService(t, false)
	for _, s := range []string{svc1, svc2} {
		e.AddUser(t, s, ConsumerUID)
		e.AddUser(t, s, Consumer2UID)
	}
	svc1Name := "com.aliyuncs.privatelink." + Region + "." + svc1
	svc2Name := "com.aliyuncs.privatelink." + Region + "." + svc2

	// Endpoints of the consumer: epA (svc1, zone h, Connected, tagged, rgA),
	// epB (svc2, Disconnected), epC (svc2, other VPC); consumer2: epD.
	ca := e.EndpointRequest(svc1, EP{Name: "alpha", Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	ca.ResourceGroupId = rgA
	ca.Tag = &[]privatelink.CreateVpcEndpointTag{{Key: "env", Value: "prod"}, {Key: "owner", Value: "me"}}
	ra, err := e.Consumer.CreateVpcEndpoint(ca)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint alpha: %v", err)
	}
	epA := ra.EndpointId
	e.WaitEndpointStable(t, e.Consumer, epA, "Connected")
	e.WaitZone(t, e.Consumer, epA, ZoneH, "Connected")
	epB := e.CreateEndpoint(t, svc2, EP{Name: "beta"})
	epC := e.CreateEndpoint(t, svc2, EP{Name: "gamma", VPC: VPCConsumerB, SGs: []string{SGConsumerBB}})
	epD := e.CreateEndpoint(t, svc1, EP{Client: e.Consumer2, VPC: VPCConsumer2, SGs: []string{SGConsumer2}, Name: "delta",
		Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneI, VSwitchId: VSwConsumer2I}}})
	e.WaitEndpointStable(t, e.Consumer2, epD, "Connected")
	e.WaitZone(t, e.Consumer2, epD, ZoneI, "Connected")
	zA, _ := FindZone(must(e.Zones(e.Consumer, epA)), ZoneH)

	// ChangeResourceGroup moves epB into rgB and svc2 into rgB.
	for _, m := range []struct{ id, typ string }{{epB, "VpcEndpoint"}, {svc2, "VpcEndpointService"}} {
		cr := privatelink.CreateChangeResourceGroupRequest()
		cr.ResourceId, cr.ResourceType, cr.ResourceGroupId, cr.ResourceRegionId = m.id, m.typ, rgB, Region
		c := e.Consumer
		if m.typ == "VpcEndpointService" {
			c = e.Provider
		}
		if _, err := c.ChangeResourceGroup(cr); err != nil {
			t.Fatalf("ChangeResourceGroup %s: %v", m.id, err)
		}
	}
	if r, _ := e.GetEndpoint(e.Consumer, epB); r == nil || r.ResourceGroupId != rgB {
		t.Errorf("epB ResourceGroupId after ChangeResourceGroup = %+v", r)
	}
	if r, _ := e.GetService(e.Provider, svc2); r == nil || r.ResourceGroupId != rgB {
		t.Errorf("svc2 ResourceGroupId after ChangeResourceGroup = %+v", r)
	}

	listEP := func(mod func(*privatelink.ListVpcEndpointsRequest)) []string {
		r := privatelink.CreateListVpcEndpointsRequest()
		mod(r)
		resp, err := e.Consumer.ListVpcEndpoints(r)
		if err != nil {
			t.Fatalf("ListVpcEndpoints: %v", err)
		}
		return endpointIDs(resp.Endpoints)
	}
	epCases := []struct {
		name string
		mod  func(*privatelink.ListVpcEndpointsRequest)
		want []string
	}{
		{"none", func(r *privatelink.ListVpcEndpointsRequest) {}, []string{epA, epB, epC}},
		{"EndpointId", func(r *privatelink.ListVpcEndpointsRequest) { r.EndpointId = epB }, []string{epB}},
		{"EndpointId of another account", func(r *privatelink.ListVpcEndpointsRequest) { r.EndpointId = epD }, nil},
		{"EndpointName", func(r *privatelink.ListVpcEndpointsRequest) { r.EndpointName = "gamma" }, []string{epC}},
		{"EndpointStatus Active", func(r *privatelink.ListVpcEndpointsRequest) { r.EndpointStatus = "Active" }, []string{epA, epB, epC}},
		{"EndpointStatus Creating", func(r *privatelink.ListVpcEndpointsRequest) { r.EndpointStatus = "Creating" }, nil},
		{"EndpointType", func(r *privatelink.ListVpcEndpointsRequest) { r.EndpointType = "Interface" }, []string{epA, epB, epC}},
		{"ConnectionStatus Connected", func(r *privatelink.ListVpcEndpointsRequest) { r.ConnectionStatus = "Connected" }, []string{epA}},
		{"ConnectionStatus Disconnected", func(r *privatelink.ListVpcEndpointsRequest) { r.ConnectionStatus = "Disconnected" }, []string{epB, epC}},
		{"ServiceName", func(r *privatelink.ListVpcEndpointsRequest) { r.ServiceName = svc2Name }, []string{epB, epC}},
		{"VpcId", func(r *privatelink.ListVpcEndpointsRequest) { r.VpcId = VPCConsumerB }, []string{epC}},
		{"ResourceGroupId", func(r *privatelink.ListVpcEndpointsRequest) { r.ResourceGroupId = rgA }, []string{epA}},
		{"ResourceGroupId after change", func(r *privatelink.ListVpcEndpointsRequest) { r.ResourceGroupId = rgB }, []string{epB}},
		{"Tag key and value", func(r *privatelink.ListVpcEndpointsRequest) {
			r.Tag = &[]privatelink.ListVpcEndpointsTag{{Key: "env", Value: "prod"}}
		}, []string{epA}},
		{"Tag wrong value", func(r *privatelink.ListVpcEndpointsRequest) {
			r.Tag = &[]privatelink.ListVpcEndpointsTag{{Key: "env", Value: "dev"}}
		}, nil},
		{"Tag key only", func(r *privatelink.ListVpcEndpointsRequest) {
			r.Tag = &[]privatelink.ListVpcEndpointsTag{{Key: "owner"}}
		}, []string{epA}},
		{"two tags (AND)", func(r *privatelink.ListVpcEndpointsRequest) {
			r.Tag = &[]privatelink.ListVpcEndpointsTag{{Key: "env", Value: "prod"}, {Key: "owner", Value: "you"}}
		}, nil},
		{"combined", func(r *privatelink.ListVpcEndpointsRequest) {
			r.ServiceName, r.VpcId = svc2Name, VPCConsumer
		}, []string{epB}},
	}
	for _, tc := range epCases {
		t.Run("ListVpcEndpoints/"+tc.name, func(t *testing.T) {
			sameSet(t, tc.name, listEP(tc.mod), tc.want)
		})
	}
	// Tags come back on the list.
	for _, ep := range must(e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).Endpoints {
		if ep.EndpointId == epA {
			if len(ep.Tags) != 2 {
				t.Errorf("epA Tags = %+v, want env=prod, owner=me", ep.Tags)
			}
			if ep.ServiceName != svc1Name || ep.ResourceGroupId != rgA || ep.ConnectionStatus != "Connected" || ep.EndpointStatus != "Active" {
				t.Errorf("epA list item = %+v", ep)
			}
		}
	}

	listSvc := func(mod func(*privatelink.ListVpcEndpointServicesRequest)) []string {
		r := privatelink.CreateListVpcEndpointServicesRequest()
		mod(r)
		resp, err := e.Provider.ListVpcEndpointServices(r)
		if err != nil {
			t.Fatalf("ListVpcEndpointServices: %v", err)
		}
		return serviceIDs(resp.Services)
	}
	svcCases := []struct {
		name string
		mod  func(*privatelink.ListVpcEndpointServicesRequest)
		want []string
	}{
		{"none", func(r *privatelink.ListVpcEndpointServicesRequest) {}, []string{svc1, svc2, svc3}},
		{"ServiceId", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceId = svc2 }, []string{svc2}},
		{"ServiceName", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceName = svc1Name }, []string{svc1}},
		{"ServiceStatus", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceStatus = "Active" }, []string{svc1, svc2, svc3}},
		{"ServiceStatus Deleting", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceStatus = "Deleting" }, nil},
		{"ServiceBusinessStatus", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceBusinessStatus = "Normal" }, []string{svc1, svc2, svc3}},
		{"ServiceResourceType", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceResourceType = "slb" }, []string{svc1, svc2, svc3}},
		{"ServiceResourceType nlb", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ServiceResourceType = "nlb" }, nil},
		{"ResourceId", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ResourceId = CLB3 }, []string{svc1}},
		{"AutoAcceptEnabled true", func(r *privatelink.ListVpcEndpointServicesRequest) { r.AutoAcceptEnabled = Bool(true) }, []string{svc1}},
		{"AutoAcceptEnabled false", func(r *privatelink.ListVpcEndpointServicesRequest) { r.AutoAcceptEnabled = Bool(false) }, []string{svc2, svc3}},
		{"ZoneAffinityEnabled true", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ZoneAffinityEnabled = Bool(true) }, []string{svc1}},
		{"ResourceGroupId", func(r *privatelink.ListVpcEndpointServicesRequest) { r.ResourceGroupId = rgB }, []string{svc2}},
		{"Tag", func(r *privatelink.ListVpcEndpointServicesRequest) {
			r.Tag = &[]privatelink.ListVpcEndpointServicesTag{{Key: "team", Value: "net"}}
		}, []string{svc1}},
	}
	for _, tc := range svcCases {
		t.Run("ListVpcEndpointServices/"+tc.name, func(t *testing.T) {
			sameSet(t, tc.name, listSvc(tc.mod), tc.want)
		})
	}
	for _, s := range must(e.Provider.ListVpcEndpointServices(privatelink.CreateListVpcEndpointServicesRequest())).Services {
		if s.ServiceId == svc1 {
			if !slices.Equal(sorted(s.Zones), []string{ZoneH, ZoneI}) || len(s.Tags) != 1 || !s.AutoAcceptEnabled || !s.ZoneAffinityEnabled || s.ResourceGroupId != rgA {
				t.Errorf("svc1 list item = %+v", s)
			}
		}
	}

	listBy := func(mod func(*privatelink.ListVpcEndpointServicesByEndUserRequest)) []string {
		r := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
		mod(r)
		resp, err := e.Consumer.ListVpcEndpointServicesByEndUser(r)
		if err != nil {
			t.Fatalf("ListVpcEndpointServicesByEndUser: %v", err)
		}
		return serviceIDs(resp.Services)
	}
	byCases := []struct {
		name string
		mod  func(*privatelink.ListVpcEndpointServicesByEndUserRequest)
		want []string
	}{
		{"none", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) {}, []string{svc1, svc2}},
		{"ServiceId", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) { r.ServiceId = svc1 }, []string{svc1}},
		{"ServiceId not whitelisted", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) { r.ServiceId = svc3 }, nil},
		{"ServiceName", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) { r.ServiceName = svc2Name }, []string{svc2}},
		{"ServiceType", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) { r.ServiceType = "Interface" }, []string{svc1, svc2}},
		{"ResourceGroupId", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) { r.ResourceGroupId = rgA }, []string{svc1}},
		{"Tag", func(r *privatelink.ListVpcEndpointServicesByEndUserRequest) {
			r.Tag = &[]privatelink.ListVpcEndpointServicesByEndUserTag{{Key: "team", Value: "net"}}
		}, []string{svc1}},
	}
	for _, tc := range byCases {
		t.Run("ListVpcEndpointServicesByEndUser/"+tc.name, func(t *testing.T) {
			sameSet(t, tc.name, listBy(tc.mod), tc.want)
		})
	}

	listConn := func(mod func(*privatelink.ListVpcEndpointConnectionsRequest)) []string {
		r := privatelink.CreateListVpcEndpointConnectionsRequest()
		r.ServiceId = svc1
		mod(r)
		resp, err := e.Provider.ListVpcEndpointConnections(r)
		if err != nil {
			t.Fatalf("ListVpcEndpointConnections: %v", err)
		}
		var ids []string
		for _, c := range resp.Connections {
			ids = append(ids, c.EndpointId)
		}
		return ids
	}
	connCases := []struct {
		name string
		mod  func(*privatelink.ListVpcEndpointConnectionsRequest)
		want []string
	}{
		{"none", func(r *privatelink.ListVpcEndpointConnectionsRequest) {}, []string{epA, epD}},
		{"EndpointId", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.EndpointId = epD }, []string{epD}},
		{"EndpointOwnerId", func(r *privatelink.ListVpcEndpointConnectionsRequest) {
			r.EndpointOwnerId = requests.Integer(Consumer2UID)
		}, []string{epD}},
		{"ConnectionStatus", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.ConnectionStatus = "Connected" }, []string{epA, epD}},
		{"ConnectionStatus Disconnected", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.ConnectionStatus = "Disconnected" }, nil},
		{"ResourceId", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.ResourceId = CLB3 }, []string{epD}},
		{"ReplacedResourceId", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.ReplacedResourceId = CLB1 }, nil},
		{"EniId", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.EniId = zA.EniId }, []string{epA}},
		{"ZoneId", func(r *privatelink.ListVpcEndpointConnectionsRequest) { r.ZoneId = ZoneI }, []string{epD}},
	}
	for _, tc := range connCases {
		t.Run("ListVpcEndpointConnections/"+tc.name, func(t *testing.T) {
			sameSet(t, tc.name, listConn(tc.mod), tc.want)
		})
	}
	// svc2's connections: both consumer endpoints, Disconnected.
	r := privatelink.CreateListVpcEndpointConnectionsRequest()
	r.ServiceId = svc2
	if resp, err := e.Provider.ListVpcEndpointConnections(r); err != nil {
		t.Errorf("ListVpcEndpointConnections svc2: %v", err)
	} else {
		var ids []string
		for _, c := range resp.Connections {
			ids = append(ids, c.EndpointId)
			if c.EndpointOwnerId != 1000000000000002 || c.ConnectionStatus != "Disconnected" {
				t.Errorf("svc2 connection = %+v", c)
			}
		}
		sameSet(t, "svc2 connections", ids, []string{epB, epC})
	}

	// Resources by zone; users by id.
	rr := privatelink.CreateListVpcEndpointServiceResourcesRequest()
	rr.ServiceId, rr.ZoneId = svc1, ZoneI
	if resp, err := e.Provider.ListVpcEndpointServiceResources(rr); err != nil || len(resp.Resources) != 1 || resp.Resources[0].ResourceId != CLB3 {
		t.Errorf("ListVpcEndpointServiceResources ZoneId=i = %+v, %v; want CLB3", resp, err)
	} else if x := resp.Resources[0]; x.RelatedEndpointCount != 1 || x.ZoneId != ZoneI || x.RegionId != Region || x.VpcId != VPCProvider || x.VSwitchId != VSwProviderI {
		t.Errorf("CLB3 resource = %+v", x)
	}
	ur := privatelink.CreateListVpcEndpointServiceUsersRequest()
	ur.ServiceId, ur.UserId = svc1, requests.Integer(Consumer2UID)
	if resp, err := e.Provider.ListVpcEndpointServiceUsers(ur); err != nil || len(resp.Users) != 1 || formatUID(resp.Users[0].UserId) != Consumer2UID {
		t.Errorf("ListVpcEndpointServiceUsers UserId filter = %+v, %v", resp, err)
	}
}

// must unwraps a read that only a broken server fails; Go cannot pass a
// *testing.T beside a two-value call, so a failure panics, which fails the
// test with its stack.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}
