package controlplane

import (
	"net/netip"
	"testing"

	"eplink/controlplane/lab"
)

// TestNetnsAddresses: in a netns lab, ENIs never take an instance's or a
// CLB's address or the addresses the cloud reserves; instance backends
// reach the snapshot as addresses inside their VPC; two VPCs of the same
// CIDR each get the same first ENI address.
func TestNetnsAddresses(t *testing.T) {
	l := lab.DemoNetns()
	l.Services, l.Endpoints = nil, nil
	// ecs09 sits where the first ENI would go.
	l.Instances = append(l.Instances, lab.Instance{ID: "ecs09", VSwitch: "vsw-consumer1-h", IP: "10.10.0.2"})
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	e := open(t, t.TempDir(), 0, nil, l)
	cp := e.cp
	svc := must(cp.CreateVpcEndpointService(as(lab.DemoProviderUID), CreateServiceInput{
		Resources: []ResourceRef{{Type: "slb", ID: "lb-clb1"}}, AutoAccept: true}))
	ok(t, cp.AddUserToVpcEndpointService(as(lab.DemoProviderUID), svc.ServiceId, lab.DemoConsumerUID, ""))
	create := func(ip string) (string, error) {
		ep, err := cp.CreateVpcEndpoint(as(lab.DemoConsumerUID), CreateEndpointInput{
			VpcID: "vpc-consumer1", ServiceID: svc.ServiceId, SecurityGroupIDs: []string{"sg-consumer1"},
			Zones: []ZoneSpec{{ZoneID: "cn-hangzhou-h", VSwitchID: "vsw-consumer1-h", IP: ip}},
		})
		if err != nil {
			return "", err
		}
		return ep.EndpointId, nil
	}
	for _, ip := range []string{"10.10.0.190", "10.10.0.2", "10.10.0.253", "10.10.0.254"} {
		_, err := create(ip)
		wantCode(t, err, "InvalidIp.Unavailable")
	}
	id := must(create(""))
	if got := e.pub.Load().Endpoints[id].Zones[0].ENI.IP; got != netip.MustParseAddr("10.10.0.3") {
		t.Errorf("automatic ENI address = %s, want 10.10.0.3 (10.10.0.2 is ecs09's)", got)
	}
	lb := e.pub.Load().LoadBalancers["lb-clb1"]
	if !lb.IP.IsValid() {
		t.Error("lb-clb1 has no address")
	}
	b := lb.Listeners[0].Backends[0]
	if b.Address != "192.168.24.246:80" || b.VpcID != "vpc-provider2" || b.Name != "ECS01" {
		t.Errorf("instance backend in the snapshot = %+v", b)
	}
}
