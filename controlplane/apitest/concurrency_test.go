package apitest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// TestConcurrentCalls races real SDK clients (one per goroutine: the SDK
// client is not safe for concurrent use) on the same objects: one fixed
// address goes to exactly one endpoint, automatic addresses never collide,
// one ClientToken makes one endpoint, one connection is accepted once.
func TestConcurrentCalls(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB3, ZoneI})
	e.AddUser(t, svc, ConsumerUID)
	const n = 8
	run := func(f func(c *privatelink.Client, i int) (string, error)) ([]string, []error) {
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				ids[i], errs[i] = f(e.Client(ConsumerAK, ConsumerSK), i)
			}(i)
		}
		wg.Wait()
		return ids, errs
	}
	zone := func(ip string) EP {
		return EP{Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH, Ip: ip}, {ZoneId: ZoneI, VSwitchId: VSwConsumerI}}}
	}

	// One fixed address, n takers.
	_, errs := run(func(c *privatelink.Client, i int) (string, error) {
		r, err := c.CreateVpcEndpoint(e.EndpointRequest(svc, zone("127.10.0.99")))
		if err != nil {
			return "", err
		}
		return r.EndpointId, nil
	})
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		WantError(t, err, badWorld...)
	}
	if won != 1 {
		t.Errorf("%d endpoints got the fixed address 127.10.0.99, want exactly 1", won)
	}

	// Automatic addresses: all distinct, per zone.
	_, errs = run(func(c *privatelink.Client, i int) (string, error) {
		r, err := c.CreateVpcEndpoint(e.EndpointRequest(svc, zone("")))
		if err != nil {
			return "", err
		}
		return r.EndpointId, nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("parallel CreateVpcEndpoint: %v", err)
		}
	}
	seen := map[string]string{}
	var all []string
	for _, r := range must(e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).Endpoints {
		all = append(all, r.EndpointId)
	}
	for _, id := range all {
		zs, err := e.Zones(e.Consumer, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range zs {
			if other, dup := seen[z.EniIp]; dup {
				t.Errorf("address %s given to %s and %s", z.EniIp, other, id)
			}
			seen[z.EniIp] = id + "/" + z.ZoneId
			if z.EniIp == "" {
				t.Errorf("zone %s of %s has no address", z.ZoneId, id)
			}
		}
	}
	// One ClientToken from n goroutines at once: one endpoint.
	before := len(all)
	ids, errs := run(func(c *privatelink.Client, i int) (string, error) {
		r := e.EndpointRequest(svc, EP{Name: "same-token"})
		r.ClientToken = "concurrent-token"
		resp, err := c.CreateVpcEndpoint(r)
		if err != nil {
			return "", err
		}
		return resp.EndpointId, nil
	})
	first := ""
	for i, err := range errs {
		if err != nil {
			WantError(t, err, "IdempotenceProcessing")
			continue
		}
		if first == "" {
			first = ids[i]
		} else if ids[i] != first {
			t.Errorf("one ClientToken created %s and %s", first, ids[i])
		}
	}
	if got := len(must(e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())).Endpoints); got != before+1 {
		t.Errorf("%d endpoints after %d concurrent calls with one token; want %d", got, n, before+1)
	}

	// One connection, n accepts: exactly one succeeds.
	target := all[0]
	var wg sync.WaitGroup
	acc := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := privatelink.CreateEnableVpcEndpointConnectionRequest()
			r.ServiceId, r.EndpointId, r.Bandwidth = svc, target, Int(100+i)
			_, acc[i] = e.Client(ProviderAK, ProviderSK).EnableVpcEndpointConnection(r)
		}(i)
	}
	wg.Wait()
	ok, bw := 0, 0
	for i, err := range acc {
		if err == nil {
			ok++
			bw = 100 + i
			continue
		}
		WantError(t, err, append(append([]string{}, connState...), locked...)...)
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent accepts succeeded, want 1", ok, n)
	}
	if r := e.WaitEndpointStable(t, e.Consumer, target, "Connected"); ok == 1 && r.Bandwidth != bw {
		t.Errorf("bandwidth %d, want %d from the accept that won", r.Bandwidth, bw)
	}
}

// TestPaginationStable pages through a list while other calls create and
// delete objects between pages: every object present for the whole walk
// is listed exactly once (tokens are positions in a stable order, not
// offsets).
func TestPaginationStable(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	mk := func(name string) string {
		r, err := e.Consumer.CreateVpcEndpoint(e.EndpointRequest(svc, EP{Name: name}))
		if err != nil {
			t.Fatalf("CreateVpcEndpoint: %v", err)
		}
		return r.EndpointId
	}
	var stable, doomed []string
	for i := 0; i < 40; i++ {
		stable = append(stable, mk(fmt.Sprintf("stable%02d", i)))
		doomed = append(doomed, mk(fmt.Sprintf("doomed%02d", i)))
	}
	var got []string
	token := ""
	for page := 0; ; page++ {
		r := privatelink.CreateListVpcEndpointsRequest()
		r.MaxResults, r.NextToken = Int(7), token
		resp, err := e.Consumer.ListVpcEndpoints(r)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		got = append(got, endpointIDs(resp.Endpoints)...)
		if token = resp.NextToken; token == "" {
			break
		}
		// Between pages: delete four, create four.
		for j := 0; j < 4 && len(doomed) > 0; j++ {
			d := privatelink.CreateDeleteVpcEndpointRequest()
			d.EndpointId = doomed[0]
			doomed = doomed[1:]
			if _, err := e.Consumer.DeleteVpcEndpoint(d); err != nil {
				t.Fatalf("DeleteVpcEndpoint: %v", err)
			}
			mk(fmt.Sprintf("new%02d%d", page, j))
		}
	}
	count := map[string]int{}
	for _, id := range got {
		count[id]++
	}
	for _, id := range stable {
		if count[id] != 1 {
			t.Errorf("%s (present throughout) listed %d times", id, count[id])
		}
	}
	for id, c := range count {
		if c > 1 {
			t.Errorf("%s listed %d times", id, c)
		}
	}
}

// TestDuplicatesInRequests: the same security group twice, the same
// resource twice, the same tag key twice.
func TestDuplicatesInRequests(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)

	r := e.EndpointRequest(svc, EP{SGs: []string{SGConsumer, SGConsumer}})
	resp, err := e.Consumer.CreateVpcEndpoint(r)
	if err != nil {
		WantError(t, err, invalid...)
	} else {
		e.WaitEndpointStable(t, e.Consumer, resp.EndpointId, "Disconnected")
		sr := privatelink.CreateListVpcEndpointSecurityGroupsRequest()
		sr.EndpointId = resp.EndpointId
		if g, err := e.Consumer.ListVpcEndpointSecurityGroups(sr); err != nil || len(g.SecurityGroups) != 1 {
			t.Errorf("security groups of an endpoint created with one SG twice: %+v, %v", g, err)
		}
	}

	cs := privatelink.CreateCreateVpcEndpointServiceRequest()
	cs.ServiceResourceType = "slb"
	cs.Resource = &[]privatelink.CreateVpcEndpointServiceResource{{ResourceType: "slb", ResourceId: CLB2, ZoneId: ZoneH}, {ResourceType: "slb", ResourceId: CLB2, ZoneId: ZoneH}}
	sresp, err := e.Provider.CreateVpcEndpointService(cs)
	if err != nil {
		WantError(t, err, append(append([]string{}, invalid...), "ResourceAlreadyAttached")...)
	} else {
		e.WaitService(t, sresp.ServiceId, "Active")
		if res := e.Resources(t, sresp.ServiceId); len(res) != 1 {
			t.Errorf("service created with CLB2 twice has resources %+v", res)
		}
	}

	tr := privatelink.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "VpcEndpointService", &[]string{svc}
	tr.Tag = &[]privatelink.TagResourcesTag{{Key: "dup", Value: "1"}, {Key: "dup", Value: "2"}}
	if _, err := e.Provider.TagResources(tr); err != nil {
		WantError(t, err, invalid...)
	} else {
		ls := privatelink.CreateListVpcEndpointServicesRequest()
		ls.ServiceId = svc
		if l, err := e.Provider.ListVpcEndpointServices(ls); err != nil || len(l.Services) != 1 || len(l.Services[0].Tags) != 1 {
			t.Errorf("tags after one key twice: %+v, %v", l, err)
		}
	}

	// Missing required parameters of provider actions.
	ub := privatelink.CreateUpdateVpcEndpointConnectionAttributeRequest()
	ub.ServiceId = svc
	_, err = e.Provider.UpdateVpcEndpointConnectionAttribute(ub)
	WantError(t, err, missing...)
	ur := privatelink.CreateUpdateVpcEndpointServiceResourceAttributeRequest()
	ur.ServiceId, ur.ResourceId, ur.ZoneId = svc, CLB1, ZoneH
	_, err = e.Provider.UpdateVpcEndpointServiceResourceAttribute(ur)
	WantError(t, err, missing...)
	lc := privatelink.CreateListVpcEndpointConnectionsRequest()
	lc.ServiceId, lc.EndpointOwnerId = svc, requests.Integer("abc")
	_, err = e.Provider.ListVpcEndpointConnections(lc)
	WantError(t, err, invalid...)
	lt := privatelink.CreateListVpcEndpointsRequest()
	tags := make([]privatelink.ListVpcEndpointsTag, 21)
	for i := range tags {
		tags[i] = privatelink.ListVpcEndpointsTag{Key: fmt.Sprint("k", i), Value: "v"}
	}
	lt.Tag = &tags
	_, err = e.Consumer.ListVpcEndpoints(lt)
	WantError(t, err, invalid...)
	ls := privatelink.CreateListVpcEndpointServicesRequest()
	stags := make([]privatelink.ListVpcEndpointServicesTag, 21)
	for i := range stags {
		stags[i] = privatelink.ListVpcEndpointServicesTag{Key: fmt.Sprint("k", i), Value: "v"}
	}
	ls.Tag = &stags
	_, err = e.Provider.ListVpcEndpointServices(ls)
	WantError(t, err, invalid...)
}
