package apitest

import (
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"eplink/controlplane/lab"
)

// labWithDeclared is the test lab plus a declared service and an accepted
// endpoint, as a lab file may carry them.
func labWithDeclared() *lab.Lab {
	l := Lab()
	l.Services = []lab.Service{{
		ID: "epsrv-labdemo1", Owner: ProviderUID, Description: "lab service",
		Resources: []string{CLB1}, ConnectBandwidth: 512, Whitelist: []string{ConsumerUID},
	}}
	l.Endpoints = []lab.Endpoint{{
		ID: "ep-labdemo1", Owner: ConsumerUID, Name: "lab-ep", Service: "epsrv-labdemo1", VPC: VPCConsumer,
		SecurityGroups: []string{SGConsumer},
		Zones:          []lab.EndpointZone{{Zone: ZoneH, VSwitch: VSwConsumerH, IP: "127.10.0.9"}},
		Accept:         true,
	}}
	return l
}

// TestLabDeclaredObjects: services and endpoints a lab declares show
// through the API with their fixed ids, as if created by their owners; a
// restart neither duplicates them nor undoes API changes made since; a
// lab whose declarations break the API's rules, or that drops a CLB in
// use, does not start.
func TestLabDeclaredObjects(t *testing.T) {
	dir := t.TempDir()
	s, err := StartServer(Options{DataDir: dir, Lab: labWithDeclared()})
	if err != nil {
		t.Fatalf("start with declared objects: %v", err)
	}
	e := s.Env()
	sa := e.WaitService(t, "epsrv-labdemo1", "Active")
	if sa.ServiceDescription != "lab service" || sa.ConnectBandwidth != 512 || !slices.Equal(sa.Zones, []string{ZoneH}) {
		t.Errorf("declared service = %+v", sa)
	}
	if !visible(t, e.Consumer, "epsrv-labdemo1") {
		t.Error("the declared whitelist does not let the consumer see the service")
	}
	ea := e.WaitEndpointStable(t, e.Consumer, "ep-labdemo1", "Connected")
	if ea.EndpointName != "lab-ep" || ea.Bandwidth != 512 || ea.ServiceId != "epsrv-labdemo1" {
		t.Errorf("declared endpoint = %+v", ea)
	}
	z := e.WaitZone(t, e.Consumer, "ep-labdemo1", ZoneH, "Connected")
	if z.EniIp != "127.10.0.9" || z.ResourceId != CLB1 {
		t.Errorf("declared endpoint's zone = %+v", z)
	}
	up := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	up.EndpointId, up.EndpointName = "ep-labdemo1", "renamed-by-api"
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(up); err != nil {
		t.Fatalf("rename: %v", err)
	}
	before := e.State(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = StartServer(Options{DataDir: dir, Lab: labWithDeclared()})
	if err != nil {
		t.Fatalf("restart with the same lab: %v", err)
	}
	e = s.Env()
	if after := e.State(t); after != before {
		e.AssertUnchanged(t, before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// A lab without the CLB the service uses does not start on this data.
	l := labWithDeclared()
	l.Services, l.Endpoints = nil, nil
	l.LoadBalancers = slices.DeleteFunc(l.LoadBalancers, func(b lab.LoadBalancer) bool { return b.ID == CLB1 })
	if s, err := StartServer(Options{DataDir: dir, Lab: l}); err == nil {
		_ = s.Close()
		t.Error("started although the lab dropped CLB1, which a service uses")
	} else {
		t.Logf("dropping CLB1: %v", err)
	}

	// Declarations that break the API's rules fail the start.
	bad := []struct {
		name string
		mod  func(*lab.Lab)
	}{
		{"endpoint name", func(l *lab.Lab) { l.Endpoints[0].Name = "1bad" }},
		{"endpoint owner not whitelisted", func(l *lab.Lab) {
			l.Endpoints[0].Owner, l.Endpoints[0].VPC, l.Endpoints[0].SecurityGroups = Consumer2UID, VPCConsumer2, []string{SGConsumer2}
			l.Endpoints[0].Zones[0].VSwitch = VSwConsumer2H
			l.Endpoints[0].Zones[0].IP = "127.11.0.9"
		}},
		{"ip outside the vSwitch", func(l *lab.Lab) { l.Endpoints[0].Zones[0].IP = "127.10.1.9" }},
		{"service on a CLB without PrivateLink", func(l *lab.Lab) { l.Services[0].Resources = []string{CLBNoPL} }},
		{"bandwidth out of range", func(l *lab.Lab) { l.Services[0].ConnectBandwidth = 5000 }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			l := labWithDeclared()
			tc.mod(l)
			s, err := StartServer(Options{DataDir: t.TempDir(), Lab: l})
			if err == nil {
				_ = s.Close()
				t.Fatal("started with a declaration the API would refuse")
			}
			t.Logf("refused: %v", err)
		})
	}
}

// TestLabLimits: a lab's limits: section replaces the guide's bandwidth
// rules in every place the API shows or checks them.
func TestLabLimits(t *testing.T) {
	l := Lab()
	l.Limits.ConnectionBandwidthMbps = lab.Bandwidth{Default: 2048, Min: 50, Max: 10240}
	e := New(t, Options{Lab: l})
	svc := e.CreateService(t, true, Res{CLB1, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	a := e.WaitService(t, svc, "Active")
	if a.ConnectBandwidth != 2048 || a.MinBandwidth != 50 || a.MaxBandwidth != 10240 {
		t.Errorf("service bandwidth Connect/Min/Max = %d/%d/%d, want 2048/50/10240", a.ConnectBandwidth, a.MinBandwidth, a.MaxBandwidth)
	}
	ep := e.CreateEndpoint(t, svc, EP{})
	if g := e.WaitEndpointStable(t, e.Consumer, ep, "Connected"); g.Bandwidth != 2048 {
		t.Errorf("new connection bandwidth %d, want the lab default 2048", g.Bandwidth)
	}
	for _, c := range []struct {
		bw int
		ok bool
	}{{50, true}, {10240, true}, {49, false}, {10241, false}} {
		r := privatelink.CreateUpdateVpcEndpointConnectionAttributeRequest()
		r.ServiceId, r.EndpointId, r.Bandwidth = svc, ep, Int(c.bw)
		_, err := e.Provider.UpdateVpcEndpointConnectionAttribute(r)
		if c.ok && err != nil {
			t.Errorf("bandwidth %d within the lab's limits refused: %v", c.bw, err)
		}
		if !c.ok {
			WantError(t, err, invalid...)
		}
		e.WaitEndpointStable(t, e.Consumer, ep, "Connected")
	}
}
