package controlplane

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
)

const (
	provider = "1000000000000001"
	consumer = "1000000000000002"
	outsider = "1000000000000003"
)

// testLab is DESIGN §4's lab with a second zone and CLBs in both.
func testLab() *lab.Lab {
	lbs := func(id, vsw, zone string, pl bool) lab.LoadBalancer {
		return lab.LoadBalancer{ID: id, Owner: provider, VSwitch: vsw, Zone: zone, PrivateLink: pl,
			Listeners: []lab.Listener{{Port: 80, Backends: []lab.Backend{{Name: "ECS", Address: "127.0.0.1:18081", Weight: 100}}}}}
	}
	return &lab.Lab{
		Region: "cn-hangzhou",
		Zones:  []string{"cn-hangzhou-h", "cn-hangzhou-i"},
		Accounts: []lab.Account{
			{UID: provider, AccessKeys: []lab.AccessKey{{ID: "LTAIprovider", Secret: "ps"}}},
			{UID: consumer, AccessKeys: []lab.AccessKey{{ID: "LTAIconsumer", Secret: "cs"}}},
			{UID: outsider, AccessKeys: []lab.AccessKey{{ID: "LTAIoutsider", Secret: "os"}}},
		},
		VPCs: []lab.VPC{
			{ID: "vpc-consumer1", Owner: consumer, CIDR: "127.10.0.0/16",
				VSwitches: []lab.VSwitch{
					{ID: "vsw-consumer1-h", Zone: "cn-hangzhou-h", CIDR: "127.10.0.0/29"},
					{ID: "vsw-consumer1-i", Zone: "cn-hangzhou-i", CIDR: "127.10.1.0/24"},
				},
				SecurityGroups: []lab.SecurityGroup{
					{ID: "sg-consumer1", Rules: []lab.Rule{{Protocol: "tcp", PortRange: "1/65535", SourceCIDR: "0.0.0.0/0", Policy: "accept", Priority: 1}}},
					{ID: "sg-consumer2"},
				}},
			{ID: "vpc-provider2", Owner: provider, CIDR: "127.192.0.0/16",
				VSwitches: []lab.VSwitch{
					{ID: "vsw-provider2-h", Zone: "cn-hangzhou-h", CIDR: "127.192.24.0/24"},
					{ID: "vsw-provider2-i", Zone: "cn-hangzhou-i", CIDR: "127.192.25.0/24"},
				}},
		},
		LoadBalancers: []lab.LoadBalancer{
			lbs("lb-clb1", "vsw-provider2-h", "cn-hangzhou-h", true),
			lbs("lb-clb2", "vsw-provider2-h", "cn-hangzhou-h", true),
			lbs("lb-clb3", "vsw-provider2-i", "cn-hangzhou-i", true),
			lbs("lb-public", "vsw-provider2-h", "cn-hangzhou-h", false),
		},
	}
}

type env struct {
	t   *testing.T
	cp  *ControlPlane
	pub *snapshot.Publisher
	dir string
}

func open(t *testing.T, dir string, delay time.Duration, now func() time.Time, l *lab.Lab) *env {
	t.Helper()
	pub := &snapshot.Publisher{}
	cp, err := Open(Config{DataDir: dir, Lab: l, TransitionDelay: delay, Publisher: pub, Now: now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { cp.Close() })
	return &env{t: t, cp: cp, pub: pub, dir: dir}
}

func as(uid string) Caller { return Caller{UID: uid} }

// must returns v; a failing call fails the test by panicking (the test
// binary reports the panic with the test's name).
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code || e.Status < 400 || e.Status > 499 {
		t.Fatalf("err = %v, want 4xx %s", err, code)
	}
}

func str(s string) *string { return &s }

// TestLifecycle walks the guide's scenario at the model level with instant
// transitions and checks the published Snapshot after the steps that
// change the data path.
func TestLifecycle(t *testing.T) {
	e := open(t, t.TempDir(), 0, nil, testLab())
	cp := e.cp
	svc := must(cp.CreateVpcEndpointService(as(provider), CreateServiceInput{
		Resources: []ResourceRef{{Type: "slb", ID: "lb-clb1"}}, Description: str("demo service")}))
	if svc.ServiceStatus != "Active" || svc.ServiceDomain != svc.ServiceId+".cn-hangzhou.privatelink.aliyuncs.com" {
		t.Fatalf("service = %+v", svc)
	}
	if !strings.HasPrefix(svc.ServiceId, "epsrv-bp1") || len(svc.ServiceId) != len("epsrv-")+20 {
		t.Errorf("service id %q not in the cloud's form", svc.ServiceId)
	}
	// Not whitelisted: the service does not exist for the consumer.
	_, err := cp.CreateVpcEndpoint(as(consumer), CreateEndpointInput{VpcID: "vpc-consumer1", ServiceID: svc.ServiceId, SecurityGroupIDs: []string{"sg-consumer1"}})
	wantCode(t, err, "EndpointServiceNotFound")
	ok(t, cp.AddUserToVpcEndpointService(as(provider), svc.ServiceId, consumer, ""))

	ep := must(cp.CreateVpcEndpoint(as(consumer), CreateEndpointInput{
		VpcID: "vpc-consumer1", ServiceID: svc.ServiceId, SecurityGroupIDs: []string{"sg-consumer1"},
		Name: str("my-ep"), Zones: []ZoneSpec{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-consumer1-h"}},
	}))
	if ep.EndpointStatus != "Active" || ep.ConnectionStatus != "Disconnected" || ep.Bandwidth != 1024 {
		t.Fatalf("endpoint = %+v", ep)
	}
	id := ep.EndpointId
	zone := func() *snapshot.EndpointZone { return e.pub.Load().Endpoints[id].Zones[0] }
	if ip := zone().ENI.IP; ip != netip.MustParseAddr("127.10.0.2") {
		t.Errorf("first ENI IP = %v, want 127.10.0.2 (skip network and gateway)", ip)
	}
	if zone().CarriesTraffic(e.pub.Load().Endpoints[id]) {
		t.Error("zone carries traffic before the connection is accepted")
	}

	ok(t, cp.EnableVpcEndpointConnection(as(provider), AcceptInput{ServiceID: svc.ServiceId, EndpointID: id, Bandwidth: nil}))
	if s := e.pub.Load().Endpoints[id]; s.ConnectionStatus != "Connected" || zone().ResourceID != "lb-clb1" || !zone().CarriesTraffic(s) {
		t.Fatalf("after accept: %+v zone %+v", s, zone())
	}
	ok(t, cp.UpdateVpcEndpointConnectionAttribute(as(provider), svc.ServiceId, id, ptr(512)))
	if bw := e.pub.Load().Endpoints[id].BandwidthMbps; bw != 512 {
		t.Errorf("bandwidth = %d", bw)
	}
	wantCode(t, cp.UpdateVpcEndpointConnectionAttribute(as(provider), svc.ServiceId, id, ptr(99)), "InvalidParameter")

	ok(t, cp.AttachResourceToVpcEndpointService(as(provider), svc.ServiceId, ResourceRef{Type: "slb", ID: "lb-clb2"}))
	wantCode(t, cp.AttachResourceToVpcEndpointService(as(provider), svc.ServiceId, ResourceRef{Type: "slb", ID: "lb-public"}), "ResourceNotSupported")

	// The resource being replaced must not be auto-allocatable (guide 步骤五).
	ok(t, cp.UpdateVpcEndpointServiceResourceAttribute(as(provider), svc.ServiceId, ResourceRef{ID: "lb-clb1"}, ptr(false)))
	// Graceful: a new ENI on clb2, the old pair kept.
	oldENI := zone().ENI
	ok(t, cp.UpdateVpcEndpointZoneConnectionResourceAttribute(as(provider), ZoneResourceInput{
		ServiceID: svc.ServiceId, EndpointID: id, ZoneID: "cn-hangzhou-h", ReplaceMode: "Graceful", ResourceID: "lb-clb2", ResourceType: "slb"}))
	z := zone()
	if z.Status != "Migrated" || z.ResourceID != "lb-clb2" || z.ENI.IP == oldENI.IP || z.Replaced == nil ||
		z.Replaced.ENI != (snapshot.ENI{ID: oldENI.ID, IP: oldENI.IP}) || z.Replaced.ResourceID != "lb-clb1" {
		t.Fatalf("after Graceful: %+v replaced %+v", z, z.Replaced)
	}
	// The old resource is still in use until the cleanup.
	wantCode(t, cp.DetachResourceFromVpcEndpointService(as(provider), svc.ServiceId, ResourceRef{ID: "lb-clb1"}), "ResourceInUse")
	ok(t, cp.DisableVpcEndpointZoneConnection(as(provider), svc.ServiceId, id, "cn-hangzhou-h", true))
	if z := zone(); z.Status != "Connected" || z.Replaced != nil {
		t.Fatalf("after cleanup: %+v", z)
	}
	// Force back to clb1: same ENI.
	ok(t, cp.UpdateVpcEndpointServiceResourceAttribute(as(provider), svc.ServiceId, ResourceRef{ID: "lb-clb1"}, ptr(true)))
	ok(t, cp.UpdateVpcEndpointServiceResourceAttribute(as(provider), svc.ServiceId, ResourceRef{ID: "lb-clb2"}, ptr(false)))
	eni := zone().ENI
	ok(t, cp.UpdateVpcEndpointZoneConnectionResourceAttribute(as(provider), ZoneResourceInput{
		ServiceID: svc.ServiceId, EndpointID: id, ZoneID: "cn-hangzhou-h", ReplaceMode: "Force", ResourceID: "lb-clb1", ResourceType: "slb"}))
	if z := zone(); z.Status != "Connected" || z.ResourceID != "lb-clb1" || z.ENI != eni {
		t.Fatalf("after Force: %+v", z)
	}

	wantCode(t, cp.DeleteVpcEndpointService(as(provider), svc.ServiceId), "EndpointServiceConnectionDependence")
	ok(t, cp.DisableVpcEndpointConnection(as(provider), svc.ServiceId, id))
	wantCode(t, cp.DeleteVpcEndpoint(as(consumer), id), "EndpointOperationDenied")
	ok(t, cp.RemoveZoneFromVpcEndpoint(as(consumer), id, "cn-hangzhou-h"))
	ok(t, cp.DeleteVpcEndpoint(as(consumer), id))
	if _, err := cp.GetVpcEndpointAttribute(as(consumer), id); err == nil {
		t.Fatal("endpoint still there")
	}
	if e.pub.Load().Endpoints[id] != nil {
		t.Fatal("endpoint still in the snapshot")
	}
	ok(t, cp.DetachResourceFromVpcEndpointService(as(provider), svc.ServiceId, ResourceRef{ID: "lb-clb2"}))
	ok(t, cp.DetachResourceFromVpcEndpointService(as(provider), svc.ServiceId, ResourceRef{ID: "lb-clb1"}))
	ok(t, cp.DeleteVpcEndpointService(as(provider), svc.ServiceId))
	if e.pub.Load().Services[svc.ServiceId] != nil {
		t.Fatal("service still in the snapshot")
	}
	// The ENI addresses are free again.
	if !cp.ServiceLinkedRole(consumer) || cp.ServiceLinkedRole(provider) {
		t.Error("service-linked role: want it for the consumer only")
	}
	if n := len(cp.ips["vsw-consumer1-h"]); n != 0 {
		t.Errorf("%d addresses still taken", n)
	}
}

func ptr[T any](v T) *T { return &v }

// setupWorld creates a service on clb1 (whitelisting the consumer) and an
// accepted endpoint in zone h.
func setupWorld(t *testing.T, cp *ControlPlane) (svc, ep string) {
	t.Helper()
	s := must(cp.CreateVpcEndpointService(as(provider), CreateServiceInput{Resources: []ResourceRef{{ID: "lb-clb1"}}}))
	ok(t, cp.AddUserToVpcEndpointService(as(provider), s.ServiceId, consumer, ""))
	e := must(cp.CreateVpcEndpoint(as(consumer), CreateEndpointInput{
		VpcID: "vpc-consumer1", ServiceID: s.ServiceId, SecurityGroupIDs: []string{"sg-consumer1"},
		Zones: []ZoneSpec{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-consumer1-h"}},
	}))
	ok(t, cp.EnableVpcEndpointConnection(as(provider), AcceptInput{ServiceID: s.ServiceId, EndpointID: e.EndpointId, Bandwidth: nil}))
	return s.ServiceId, e.EndpointId
}

// TestPreconditions: every refused call names the rule and changes nothing.
func TestPreconditions(t *testing.T) {
	e := open(t, t.TempDir(), 0, nil, testLab())
	cp := e.cp
	svc, ep := setupWorld(t, cp)
	before := e.pub.Load().Version
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"foreign endpoint", cp.UpdateVpcEndpointAttribute(as(outsider), ep, str("x1"), nil), "EndpointNotFound"},
		{"foreign service", cp.DeleteVpcEndpointService(as(consumer), svc), "EndpointServiceNotFound"},
		{"bad name", cp.UpdateVpcEndpointAttribute(as(consumer), ep, str("1abc"), nil), "InvalidParameter"},
		{"bad description", cp.UpdateVpcEndpointAttribute(as(consumer), ep, nil, str("http://x")), "InvalidParameter"},
		{"last security group", cp.DetachSecurityGroupFromVpcEndpoint(as(consumer), ep, "sg-consumer1"), "EndpointOperationDenied.LastSecurityGroup"},
		{"more zones than the service", cp.AddZoneToVpcEndpoint(as(consumer), ep, ZoneSpec{ZoneID: "cn-hangzhou-i", VSwitchID: "vsw-consumer1-i"}), "UnsupportedZone"},
		{"zone twice", cp.AddZoneToVpcEndpoint(as(consumer), ep, ZoneSpec{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-consumer1-h"}), "EndpointZoneAlreadyExists"},
		{"accept twice", cp.EnableVpcEndpointConnection(as(provider), AcceptInput{ServiceID: svc, EndpointID: ep, Bandwidth: nil}), "IncorrectStatus.VpcEndpointConnection"},
		{"detach used resource", cp.DetachResourceFromVpcEndpointService(as(provider), svc, ResourceRef{ID: "lb-clb1"}), "ResourceInUse"},
		{"last auto-allocatable", cp.UpdateVpcEndpointServiceResourceAttribute(as(provider), svc, ResourceRef{ID: "lb-clb1"}, ptr(false)), "EndpointServiceOperationDenied.LastAutoAllocatedResource"},
		{"delete service with connection", cp.DeleteVpcEndpointService(as(provider), svc), "EndpointServiceConnectionDependence"},
		{"delete endpoint with zones", cp.DeleteVpcEndpoint(as(consumer), ep), "EndpointOperationDenied"},
		{"dry run", cp.UpdateVpcEndpointAttribute(Caller{UID: consumer, DryRun: true}, ep, str("dry"), nil), "DryRunOperation"},
		{"bandwidth too high", cp.EnableVpcEndpointConnection(as(provider), AcceptInput{ServiceID: svc, EndpointID: ep, Bandwidth: ptr(2048)}), "InvalidParameter"},
		{"clb of another account", cp.AttachResourceToVpcEndpointService(as(consumer), svc, ResourceRef{Type: "slb", ID: "lb-clb2"}), "EndpointServiceNotFound"},
		{"replace with unattached", cp.UpdateVpcEndpointZoneConnectionResourceAttribute(as(provider), ZoneResourceInput{
			ServiceID: svc, EndpointID: ep, ZoneID: "cn-hangzhou-h", ReplaceMode: "Graceful", ResourceID: "lb-clb2", ResourceType: "slb"}), "ResourceNotAttached"},
		{"manual while connected", cp.UpdateVpcEndpointZoneConnectionResourceAttribute(as(provider), ZoneResourceInput{
			ServiceID: svc, EndpointID: ep, ZoneID: "cn-hangzhou-h", AllocateMode: "Manual", ResourceID: "lb-clb1", ResourceType: "slb"}), "IncorrectStatus.VpcEndpointZone"},
		{"clean without migration", cp.DisableVpcEndpointZoneConnection(as(provider), svc, ep, "cn-hangzhou-h", true), "IncorrectStatus.VpcEndpointZone"},
		{"region", cp.UpdateVpcEndpointAttribute(Caller{UID: consumer, Region: "cn-beijing"}, ep, str("abc"), nil), "UnsupportedRegion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.code) })
	}
	if v := e.pub.Load().Version; v != before {
		t.Errorf("refused calls published a snapshot: version %d → %d", before, v)
	}
	got := must(cp.GetVpcEndpointAttribute(as(consumer), ep))
	if got.EndpointName != "" || got.EndpointDescription != "" {
		t.Errorf("refused calls changed the endpoint: %+v", got)
	}
}

// TestIPAllocation: a /29 has 5 usable addresses (network, gateway and
// broadcast excluded); a fixed ip must be inside and free.
func TestIPAllocation(t *testing.T) {
	e := open(t, t.TempDir(), 0, nil, testLab())
	cp := e.cp
	s := must(cp.CreateVpcEndpointService(as(provider), CreateServiceInput{Resources: []ResourceRef{{ID: "lb-clb1"}}, AutoAccept: true}))
	ok(t, cp.AddUserToVpcEndpointService(as(provider), s.ServiceId, "*", ""))
	create := func(ip string) (*EndpointInfo, error) {
		return cp.CreateVpcEndpoint(as(consumer), CreateEndpointInput{
			VpcID: "vpc-consumer1", ServiceID: s.ServiceId, SecurityGroupIDs: []string{"sg-consumer1"},
			Zones: []ZoneSpec{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-consumer1-h", IP: ip}},
		})
	}
	for _, tc := range []struct{ ip, code string }{
		{"127.10.0.0", "InvalidIp.Unavailable"},
		{"127.10.0.1", "InvalidIp.Unavailable"},
		{"127.10.0.7", "InvalidIp.Unavailable"},
		{"127.10.1.5", "InvalidIp.Unavailable"},
		{"not-an-ip", "InvalidParameter"},
	} {
		_, err := create(tc.ip)
		wantCode(t, err, tc.code)
	}
	must(create("127.10.0.4"))
	_, err := create("127.10.0.4")
	wantCode(t, err, "InvalidIp.Unavailable")
	seen := map[netip.Addr]bool{netip.MustParseAddr("127.10.0.4"): true}
	for i := 0; i < 4; i++ {
		ep := must(create(""))
		ip := e.pub.Load().Endpoints[ep.EndpointId].Zones[0].ENI.IP
		if seen[ip] {
			t.Fatalf("address %v handed out twice", ip)
		}
		seen[ip] = true
	}
	_, err = create("")
	wantCode(t, err, "VSwitchIpNotEnough")
}

// TestTransitionsSurviveRestart: with a delay, states stay transitional;
// after Close and Open with the clock past the due time they complete.
func TestTransitionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	e := open(t, dir, time.Hour, now, testLab())
	cp := e.cp
	s := must(cp.CreateVpcEndpointService(as(provider), CreateServiceInput{Resources: []ResourceRef{{ID: "lb-clb1"}}}))
	if s.ServiceStatus != "Creating" {
		t.Fatalf("status %s, want Creating", s.ServiceStatus)
	}
	wantCode(t, cp.UpdateVpcEndpointServiceAttribute(as(provider), UpdateServiceInput{ServiceID: s.ServiceId, AutoAccept: ptr(true)}), "EndpointServiceLocked")
	ok(t, cp.AddUserToVpcEndpointService(as(provider), s.ServiceId, consumer, "")) // the whitelist is not locked
	cp.Close()

	mu.Lock()
	clock = clock.Add(2 * time.Hour)
	mu.Unlock()
	e2 := open(t, dir, time.Hour, now, testLab())
	got := must(e2.cp.GetVpcEndpointServiceAttribute(as(provider), s.ServiceId))
	if got.ServiceStatus != "Active" {
		t.Fatalf("after restart: %s, want Active", got.ServiceStatus)
	}
	if e2.pub.Load().Services[s.ServiceId].Status != "Active" {
		t.Fatal("snapshot not updated after restart")
	}
}

// TestTransitionDelay: a real (short) delay completes on its own.
func TestTransitionDelay(t *testing.T) {
	e := open(t, t.TempDir(), 20*time.Millisecond, nil, testLab())
	s := must(e.cp.CreateVpcEndpointService(as(provider), CreateServiceInput{}))
	if s.ServiceStatus != "Creating" {
		t.Fatalf("status %s", s.ServiceStatus)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := must(e.cp.GetVpcEndpointServiceAttribute(as(provider), s.ServiceId))
		if got.ServiceStatus == "Active" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("service never became Active")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestIdempotency: same token, same params → same answer, one object;
// other params → IdempotenceSignatureMismatch. Survives a restart.
func TestIdempotency(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 0, nil, testLab())
	c := Caller{UID: provider, Action: "CreateVpcEndpointService", ClientToken: "tok-1", Fingerprint: "fp-a"}
	a := must(e.cp.CreateVpcEndpointService(c, CreateServiceInput{}))
	b := must(e.cp.CreateVpcEndpointService(c, CreateServiceInput{}))
	if a.ServiceId != b.ServiceId {
		t.Fatalf("replay created another service: %s vs %s", a.ServiceId, b.ServiceId)
	}
	c.Fingerprint = "fp-b"
	_, err := e.cp.CreateVpcEndpointService(c, CreateServiceInput{})
	wantCode(t, err, "IdempotenceSignatureMismatch")
	e.cp.Close()
	e2 := open(t, dir, 0, nil, testLab())
	c.Fingerprint = "fp-a"
	r := must(e2.cp.CreateVpcEndpointService(c, CreateServiceInput{}))
	if r.ServiceId != a.ServiceId {
		t.Fatal("replay after restart created another service")
	}
	l := must(e2.cp.ListVpcEndpointServices(as(provider), ListServicesInput{}))
	if l.TotalCount != 1 {
		t.Fatalf("%d services, want 1", l.TotalCount)
	}
}

// TestPagination: every item once, in id order, across pages.
func TestPagination(t *testing.T) {
	e := open(t, t.TempDir(), 0, nil, testLab())
	for i := 0; i < 23; i++ {
		must(e.cp.CreateVpcEndpointService(as(provider), CreateServiceInput{}))
	}
	seen := map[string]bool{}
	tok, last := "", ""
	for pages := 0; ; pages++ {
		r := must(e.cp.ListVpcEndpointServices(as(provider), ListServicesInput{Page: Page{MaxResults: 5, NextToken: tok}}))
		if r.TotalCount != 23 {
			t.Fatalf("TotalCount %d", r.TotalCount)
		}
		for _, s := range r.Services {
			if seen[s.ServiceId] || s.ServiceId <= last {
				t.Fatalf("%s out of order or twice", s.ServiceId)
			}
			seen[s.ServiceId], last = true, s.ServiceId
		}
		if tok = r.NextToken; tok == "" {
			break
		}
	}
	if len(seen) != 23 {
		t.Fatalf("saw %d", len(seen))
	}
	_, err := e.cp.ListVpcEndpointServices(as(provider), ListServicesInput{Page: Page{NextToken: "garbage"}})
	wantCode(t, err, "InvalidParameter")
	_, err = e.cp.ListVpcEndpointServices(as(provider), ListServicesInput{Page: Page{MaxResults: 51}})
	wantCode(t, err, "InvalidParameter")
	if r := must(e.cp.ListVpcEndpointServices(as(outsider), ListServicesInput{})); r.TotalCount != 0 {
		t.Fatal("outsider sees services")
	}
}

// TestLabApplication: lab services/endpoints are created once, accepted,
// and a lab that drops a used CLB is refused at start.
func TestLabApplication(t *testing.T) {
	dir := t.TempDir()
	l := testLab()
	l.Services = []lab.Service{{ID: "epsrv-demo1", Owner: provider, Resources: []string{"lb-clb1"}, Whitelist: []string{consumer}}}
	l.Endpoints = []lab.Endpoint{{ID: "ep-demo1", Owner: consumer, Service: "epsrv-demo1", VPC: "vpc-consumer1",
		SecurityGroups: []string{"sg-consumer1"}, Zones: []lab.EndpointZone{{Zone: "cn-hangzhou-h", VSwitch: "vsw-consumer1-h", IP: "127.10.0.5"}}, Accept: true}}
	e := open(t, dir, time.Second, nil, l)
	ep := e.pub.Load().Endpoints["ep-demo1"]
	if ep == nil || ep.ConnectionStatus != "Connected" || ep.Zones[0].ENI.IP != netip.MustParseAddr("127.10.0.5") || ep.Zones[0].ResourceID != "lb-clb1" {
		t.Fatalf("lab endpoint = %+v", ep)
	}
	e.cp.Close()
	e2 := open(t, dir, time.Second, nil, l) // again: nothing duplicated
	if n := len(e2.pub.Load().Endpoints); n != 1 {
		t.Fatalf("%d endpoints", n)
	}
	e2.cp.Close()

	l.LoadBalancers = l.LoadBalancers[1:]
	if _, err := Open(Config{DataDir: dir, Lab: l, Publisher: &snapshot.Publisher{}}); err == nil || !strings.Contains(err.Error(), "lb-clb1") {
		t.Fatalf("Open with a lab missing lb-clb1: %v", err)
	}
	bad := testLab()
	bad.Endpoints = []lab.Endpoint{{ID: "ep-bad", Owner: consumer, Service: "epsrv-none", VPC: "vpc-consumer1", SecurityGroups: []string{"sg-consumer1"}}}
	if _, err := Open(Config{DataDir: t.TempDir(), Lab: bad, Publisher: &snapshot.Publisher{}}); err == nil {
		t.Fatal("lab endpoint on an unknown service accepted")
	}
}

// TestConcurrentCalls: parallel mutating calls all commit and the final
// snapshot has them all.
func TestConcurrentCalls(t *testing.T) {
	e := open(t, t.TempDir(), 0, nil, testLab())
	var wg sync.WaitGroup
	ids := make([]string, 40)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.cp.CreateVpcEndpointService(as(provider), CreateServiceInput{})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = s.ServiceId
			if e.pub.Load().Services[s.ServiceId] == nil {
				t.Error("call returned before its snapshot was published")
			}
		}()
	}
	wg.Wait()
	if n := len(e.pub.Load().Services); n != len(ids) {
		t.Fatalf("%d services in snapshot", n)
	}
}

// TestStateMachines: each action's transitional states while the delay
// runs, the lock it holds, and the states once it is due (reference §C2).
func TestStateMachines(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(cp *ControlPlane) {
		mu.Lock()
		clock = clock.Add(2 * time.Minute)
		mu.Unlock()
		cp.mu.RLock()
		var items []dueItem
		for id := range cp.endpoints {
			items = append(items, dueItem{id: id})
		}
		for id := range cp.services {
			items = append(items, dueItem{id: id, service: true})
		}
		cp.mu.RUnlock()
		cp.settleDue(items)
	}
	e := open(t, t.TempDir(), time.Minute, now, testLab())
	cp := e.cp
	s := must(cp.CreateVpcEndpointService(as(provider), CreateServiceInput{Resources: []ResourceRef{{ID: "lb-clb1"}}}))
	svc := s.ServiceId
	advance(cp)
	ok(t, cp.AddUserToVpcEndpointService(as(provider), svc, consumer, ""))
	ep := must(cp.CreateVpcEndpoint(as(consumer), CreateEndpointInput{
		VpcID: "vpc-consumer1", ServiceID: svc, SecurityGroupIDs: []string{"sg-consumer1"},
		Zones: []ZoneSpec{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-consumer1-h"}},
	})).EndpointId

	type states struct{ ep, conn, zone, svc string }
	get := func() states {
		cp.mu.RLock()
		defer cp.mu.RUnlock()
		var st states
		if x := cp.endpoints[ep]; x != nil {
			st.ep, st.conn = x.Phase.Status, x.Conn.Phase.Status
			if len(x.Zones) > 0 {
				st.zone = x.Zones[0].Phase.Status
			}
		}
		if x := cp.services[svc]; x != nil {
			st.svc = x.Phase.Status
		}
		return st
	}
	graceful := func(res string) func() error {
		return func() error {
			return cp.UpdateVpcEndpointZoneConnectionResourceAttribute(as(provider), ZoneResourceInput{
				ServiceID: svc, EndpointID: ep, ZoneID: "cn-hangzhou-h", ReplaceMode: "Graceful", ResourceID: res, ResourceType: "slb"})
		}
	}
	steps := []struct {
		name          string
		do            func() error
		during, after states
		// locked is a call refused while the transition runs.
		locked func() error
		code   string
	}{
		{"create endpoint", func() error { return nil },
			states{"Creating", "Disconnected", "Creating", "Active"}, states{"Active", "Disconnected", "Wait", "Active"},
			func() error { return cp.UpdateVpcEndpointAttribute(as(consumer), ep, str("ab"), nil) }, "EndpointLocked"},
		{"accept", func() error {
			return cp.EnableVpcEndpointConnection(as(provider), AcceptInput{ServiceID: svc, EndpointID: ep, Bandwidth: nil})
		},
			states{"Active", "Connecting", "Connecting", "Active"}, states{"Active", "Connected", "Connected", "Active"},
			func() error { return cp.DisableVpcEndpointConnection(as(provider), svc, ep) }, "EndpointLocked"},
		{"attach sg", func() error { return cp.AttachSecurityGroupToVpcEndpoint(as(consumer), ep, "sg-consumer2") },
			states{"Pending", "Connected", "Connected", "Active"}, states{"Active", "Connected", "Connected", "Active"},
			func() error { return cp.DetachSecurityGroupFromVpcEndpoint(as(consumer), ep, "sg-consumer2") }, "EndpointLocked"},
		{"attach resource", func() error {
			return cp.AttachResourceToVpcEndpointService(as(provider), svc, ResourceRef{Type: "slb", ID: "lb-clb2"})
		},
			states{"Active", "Connected", "Connected", "Pending"}, states{"Active", "Connected", "Connected", "Active"},
			func() error {
				return cp.UpdateVpcEndpointServiceAttribute(as(provider), UpdateServiceInput{ServiceID: svc, AutoAccept: ptr(true)})
			}, "EndpointServiceLocked"},
		{"no auto clb1", func() error {
			return cp.UpdateVpcEndpointServiceResourceAttribute(as(provider), svc, ResourceRef{ID: "lb-clb1"}, ptr(false))
		},
			states{"Active", "Connected", "Connected", "Active"}, states{"Active", "Connected", "Connected", "Active"},
			nil, ""},
		{"graceful", graceful("lb-clb2"),
			states{"Active", "Connected", "Migrating", "Pending"}, states{"Active", "Connected", "Migrated", "Active"},
			graceful("lb-clb1"), "EndpointLocked"},
		{"clean replaced", func() error { return cp.DisableVpcEndpointZoneConnection(as(provider), svc, ep, "cn-hangzhou-h", true) },
			states{"Active", "Connected", "Migrated", "Active"}, states{"Active", "Connected", "Connected", "Active"},
			func() error { return cp.RemoveZoneFromVpcEndpoint(as(consumer), ep, "cn-hangzhou-h") }, "EndpointLocked"},
		{"disable zone", func() error {
			return cp.DisableVpcEndpointZoneConnection(as(provider), svc, ep, "cn-hangzhou-h", false)
		},
			states{"Active", "Connected", "Disconnecting", "Active"}, states{"Active", "Connected", "Disconnected", "Active"},
			func() error { return cp.EnableVpcEndpointZoneConnection(as(provider), svc, ep, "cn-hangzhou-h") }, "EndpointLocked"},
		{"enable zone", func() error { return cp.EnableVpcEndpointZoneConnection(as(provider), svc, ep, "cn-hangzhou-h") },
			states{"Active", "Connected", "Connecting", "Active"}, states{"Active", "Connected", "Connected", "Active"},
			nil, ""},
		{"reject", func() error { return cp.DisableVpcEndpointConnection(as(provider), svc, ep) },
			states{"Active", "Disconnecting", "Disconnecting", "Active"}, states{"Active", "Disconnected", "Disconnected", "Active"},
			func() error {
				return cp.EnableVpcEndpointConnection(as(provider), AcceptInput{ServiceID: svc, EndpointID: ep, Bandwidth: nil})
			}, "EndpointLocked"},
		{"remove zone", func() error { return cp.RemoveZoneFromVpcEndpoint(as(consumer), ep, "cn-hangzhou-h") },
			states{"Active", "Disconnected", "Deleting", "Active"}, states{"Active", "Disconnected", "", "Active"},
			func() error { return cp.DeleteVpcEndpoint(as(consumer), ep) }, "EndpointLocked"},
		{"delete endpoint", func() error { return cp.DeleteVpcEndpoint(as(consumer), ep) },
			states{"Deleting", "Deleting", "", "Active"}, states{"", "", "", "Active"},
			nil, ""},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := get(); got != st.during {
			t.Fatalf("%s: during = %+v, want %+v", st.name, got, st.during)
		}
		if st.locked != nil {
			wantCode(t, st.locked(), st.code)
		}
		advance(cp)
		if got := get(); got != st.after {
			t.Fatalf("%s: after = %+v, want %+v", st.name, got, st.after)
		}
	}
}

// TestZoneFaultAndTags: fault injection reaches the snapshot and survives a
// restart; tags are added, listed and removed.
func TestZoneFaultAndTags(t *testing.T) {
	dir := t.TempDir()
	e := open(t, dir, 0, nil, testLab())
	svc, ep := setupWorld(t, e.cp)
	ok(t, e.cp.SetZoneFault(ep, "cn-hangzhou-h", true))
	if !e.pub.Load().Endpoints[ep].Zones[0].Failed {
		t.Fatal("fault not in the snapshot")
	}
	wantCode(t, e.cp.SetZoneFault(ep, "cn-hangzhou-i", true), "EndpointZoneNotFound")

	ok(t, e.cp.TagResources(as(consumer), "VpcEndpoint", []string{ep}, []Tag{{"env", "dev"}, {"team", "net"}}))
	ok(t, e.cp.TagResources(as(consumer), "VpcEndpoint", []string{ep}, []Tag{{"env", "prod"}}))
	wantCode(t, e.cp.TagResources(as(consumer), "VpcEndpointService", []string{svc}, []Tag{{"a", "b"}}), "EndpointServiceNotFound")
	l := must(e.cp.ListTagResources(as(consumer), "VpcEndpoint", []string{ep}, nil, Page{}))
	if len(l.TagResources) != 2 || l.TagResources[0].TagKey != "env" || l.TagResources[0].TagValue != "prod" {
		t.Fatalf("tags = %+v", l.TagResources)
	}
	byTag := must(e.cp.ListVpcEndpoints(as(consumer), ListEndpointsInput{Tags: []Tag{{Key: "team"}}}))
	if byTag.TotalCount != 1 {
		t.Fatalf("tag filter found %d", byTag.TotalCount)
	}
	ok(t, e.cp.UntagResources(as(consumer), "VpcEndpoint", []string{ep}, []string{"env"}, false))
	ok(t, e.cp.ChangeResourceGroup(as(consumer), "", ep, "rg-acfmtest01"))
	e.cp.Close()

	e2 := open(t, dir, 0, nil, testLab())
	if !e2.pub.Load().Endpoints[ep].Zones[0].Failed {
		t.Fatal("fault lost in a restart")
	}
	got := must(e2.cp.GetVpcEndpointAttribute(as(consumer), ep))
	if len(got.Tags) != 1 || got.Tags[0].Key != "team" || got.ResourceGroupId != "rg-acfmtest01" {
		t.Fatalf("after restart: tags %+v rg %q", got.Tags, got.ResourceGroupId)
	}
}

// TestENIStatusInfo: a zone whose ENI the data plane cannot serve says so
// in its StatusInfo, to the consumer and the provider alike, next to a
// fault; a served ENI leaves StatusInfo empty.
func TestENIStatusInfo(t *testing.T) {
	var unserved sync.Map // netip.Addr → reason
	pub := &snapshot.Publisher{}
	cp, err := Open(Config{DataDir: t.TempDir(), Lab: testLab(), Publisher: pub,
		ENIStatus: func(ip netip.Addr) string {
			if v, ok := unserved.Load(ip); ok {
				return v.(string)
			}
			return ""
		}})
	ok(t, err)
	t.Cleanup(func() { cp.Close() })
	svc, ep := setupWorld(t, cp)
	info := func() (consumerView, providerView string) {
		t.Helper()
		zs := must(cp.ListVpcEndpointZones(as(consumer), ep, Page{}))
		cs := must(cp.ListVpcEndpointConnections(as(provider), ConnectionsInput{ServiceID: svc}))
		return zs.Zones[0].StatusInfo, cs.Connections[0].Zones[0].StatusInfo
	}
	if c, p := info(); c != "" || p != "" {
		t.Fatalf("served ENI: StatusInfo %q / %q, want empty", c, p)
	}
	ip := pub.Load().Endpoints[ep].Zones[0].ENI.IP
	const why = "EniNotServed: listen on ENI: address already in use"
	unserved.Store(ip, why)
	if c, p := info(); c != why || p != why {
		t.Fatalf("unserved ENI: StatusInfo %q / %q, want %q", c, p, why)
	}
	ok(t, cp.SetZoneFault(ep, "cn-hangzhou-h", true))
	if c, _ := info(); c != "FaultInjected; "+why {
		t.Fatalf("fault and unserved: StatusInfo %q", c)
	}
	unserved.Delete(ip)
	if c, _ := info(); c != "FaultInjected" {
		t.Fatalf("fault only: StatusInfo %q", c)
	}
}

// TestTransitionBurst: many transitions falling due around the same time
// all complete, promptly, and the snapshot shows them.
func TestTransitionBurst(t *testing.T) {
	e := open(t, t.TempDir(), 30*time.Millisecond, nil, testLab())
	var wg sync.WaitGroup
	ids := make([]string, 100)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := e.cp.CreateVpcEndpointService(as(provider), CreateServiceInput{})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = s.ServiceId
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		active := 0
		snap := e.pub.Load()
		for _, id := range ids {
			if s := snap.Services[id]; s != nil && s.Status == "Active" {
				active++
			}
		}
		if active == len(ids) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d services Active after 10s", active, len(ids))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestListEndpointFilters: each filter narrows, alone and together.
func TestListEndpointFilters(t *testing.T) {
	e := open(t, t.TempDir(), 0, nil, testLab())
	svc, ep := setupWorld(t, e.cp)
	other := must(e.cp.CreateVpcEndpoint(as(consumer), CreateEndpointInput{VpcID: "vpc-consumer1", ServiceID: svc,
		SecurityGroupIDs: []string{"sg-consumer1"}, Name: str("other"), Tags: []Tag{{"env", "dev"}}})).EndpointId
	for _, tc := range []struct {
		name string
		in   ListEndpointsInput
		want []string
	}{
		{"all", ListEndpointsInput{}, []string{ep, other}},
		{"id", ListEndpointsInput{EndpointID: other}, []string{other}},
		{"id and wrong vpc", ListEndpointsInput{EndpointID: other, VpcID: "vpc-provider2"}, nil},
		{"vpc", ListEndpointsInput{VpcID: "vpc-consumer1"}, []string{ep, other}},
		{"foreign vpc", ListEndpointsInput{VpcID: "vpc-provider2"}, nil},
		{"name", ListEndpointsInput{EndpointName: "other"}, []string{other}},
		{"connection", ListEndpointsInput{ConnectionStatus: "Connected"}, []string{ep}},
		{"service name", ListEndpointsInput{ServiceName: e.cp.serviceName(svc), VpcID: "vpc-consumer1"}, []string{ep, other}},
		{"tag", ListEndpointsInput{Tags: []Tag{{"env", "dev"}}}, []string{other}},
		{"tag value", ListEndpointsInput{Tags: []Tag{{"env", "prod"}}}, nil},
		{"status", ListEndpointsInput{EndpointStatus: "Active", EndpointType: "Interface"}, []string{ep, other}},
	} {
		r := must(e.cp.ListVpcEndpoints(as(consumer), tc.in))
		var got []string
		for _, x := range r.Endpoints {
			got = append(got, x.EndpointId)
		}
		want := append([]string(nil), tc.want...)
		sortStrings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") || r.TotalCount != len(want) {
			t.Errorf("%s: got %v (total %d), want %v", tc.name, got, r.TotalCount, want)
		}
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestCLBZoneFault: failing a zone for CLBs moves the CLBs deployed there to
// their backup zone in the Snapshot (or marks them unavailable without
// one), survives a restart, and recovers.
func TestCLBZoneFault(t *testing.T) {
	dir := t.TempDir()
	l := testLab()
	l.LoadBalancers[0].BackupZone = "cn-hangzhou-i" // lb-clb1
	e := open(t, dir, 0, nil, l)
	lb := func(e *env, id string) snapshot.LoadBalancer { return *e.pub.Load().LoadBalancers[id] }
	if x := lb(e, "lb-clb1"); x.ActiveZone != "" || x.Unavailable {
		t.Fatalf("lb-clb1 before any fault = %+v", x)
	}
	wantCode(t, e.cp.SetCLBZoneFault("cn-hangzhou-x", true), "UnsupportedZone")
	wantCode(t, e.cp.SetCLBZoneFault("", true), "MissingParameter")

	ok(t, e.cp.SetCLBZoneFault("cn-hangzhou-h", true))
	check := func(e *env, when string) {
		t.Helper()
		if x := lb(e, "lb-clb1"); x.ActiveZone != "cn-hangzhou-i" || x.Unavailable {
			t.Errorf("%s: lb-clb1 (backup i) = %+v, want it active in cn-hangzhou-i", when, x)
		}
		if x := lb(e, "lb-clb2"); !x.Unavailable {
			t.Errorf("%s: lb-clb2 (no backup) = %+v, want unavailable", when, x)
		}
		if x := lb(e, "lb-clb3"); x.ActiveZone != "" || x.Unavailable {
			t.Errorf("%s: lb-clb3 (zone i) = %+v, want untouched", when, x)
		}
		var got []string
		for _, c := range e.cp.CLBZones() {
			got = append(got, c.ResourceID+"@"+c.ActiveZone)
		}
		if want := "lb-clb1@cn-hangzhou-i lb-clb2@ lb-clb3@cn-hangzhou-i lb-public@"; strings.Join(got, " ") != want {
			t.Errorf("%s: CLBZones = %v, want %s", when, got, want)
		}
	}
	check(e, "after the fault")
	e.cp.Close()

	e2 := open(t, dir, 0, nil, l)
	check(e2, "after a restart")
	ok(t, e2.cp.SetCLBZoneFault("cn-hangzhou-h", false))
	if x := lb(e2, "lb-clb1"); x.ActiveZone != "" || x.Unavailable {
		t.Errorf("lb-clb1 after recovery = %+v", x)
	}
	if x := lb(e2, "lb-clb2"); x.Unavailable {
		t.Errorf("lb-clb2 after recovery = %+v", x)
	}
}
