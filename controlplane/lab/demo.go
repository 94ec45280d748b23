package lab

import (
	"net"
	"strconv"
)

// Demo account UIDs and AccessKeys, for scripts and tests driving the demo.
const (
	DemoProviderUID    = "1000000000000001"
	DemoProviderKey    = "LTAIprovider000001"
	DemoProviderSecret = "provider-secret-1"
	DemoConsumerUID    = "1000000000000002"
	DemoConsumerKey    = "LTAIconsumer000002"
	DemoConsumerSecret = "consumer-secret-2"
)

// Demo returns the built-in demo lab: the product guide's scenario of a
// consumer VPC reaching a provider's CLBs through a service and an endpoint,
// in two zones of cn-hangzhou. ECS01 and ECS02 are builtin HTTP backends on
// 127.0.0.1:httpPort1 and 127.0.0.1:httpPort2, behind lb-clb1 (zone h,
// backup i) and lb-clb2 (zone h), both listening on port 80. The service
// epsrv-demo1 (lb-clb1, consumer whitelisted) and the accepted endpoint
// ep-demo1 (zone h) are declared, so traffic flows from the start; lb-clb2
// is there to migrate the zone to.
func Demo(httpPort1, httpPort2 int) *Lab {
	hostPort := func(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
	l := &Lab{
		Region: "cn-hangzhou",
		Zones:  []string{"cn-hangzhou-h", "cn-hangzhou-i"},
		Accounts: []Account{
			{UID: DemoProviderUID, Name: "provider", AccessKeys: []AccessKey{{ID: DemoProviderKey, Secret: DemoProviderSecret}}},
			{UID: DemoConsumerUID, Name: "consumer", AccessKeys: []AccessKey{{ID: DemoConsumerKey, Secret: DemoConsumerSecret}}},
		},
		VPCs: []VPC{
			{
				ID: "vpc-consumer1", Owner: DemoConsumerUID, CIDR: "127.10.0.0/16",
				VSwitches: []VSwitch{
					{ID: "vsw-consumer1-h", Zone: "cn-hangzhou-h", CIDR: "127.10.0.0/24"},
					{ID: "vsw-consumer1-i", Zone: "cn-hangzhou-i", CIDR: "127.10.1.0/24"},
				},
				SecurityGroups: []SecurityGroup{{
					ID: "sg-consumer1",
					Rules: []Rule{{
						Protocol: "tcp", PortRange: "1/65535", SourceCIDR: "0.0.0.0/0",
						Policy: "accept", Priority: 1,
					}},
				}},
			},
			{
				ID: "vpc-provider2", Owner: DemoProviderUID, CIDR: "127.192.0.0/16",
				VSwitches: []VSwitch{
					{ID: "vsw-provider2-h", Zone: "cn-hangzhou-h", CIDR: "127.192.24.0/24"},
					{ID: "vsw-provider2-i", Zone: "cn-hangzhou-i", CIDR: "127.192.25.0/24"},
				},
			},
		},
		LoadBalancers: []LoadBalancer{
			{
				ID: "lb-clb1", Owner: DemoProviderUID, VSwitch: "vsw-provider2-h",
				Zone: "cn-hangzhou-h", BackupZone: "cn-hangzhou-i", PrivateLink: true,
				Listeners: []Listener{{Port: 80, Backends: []Backend{
					{Name: "ECS01", Address: hostPort(httpPort1), Weight: 100, Builtin: "http"},
				}}},
			},
			{
				ID: "lb-clb2", Owner: DemoProviderUID, VSwitch: "vsw-provider2-h",
				Zone: "cn-hangzhou-h", PrivateLink: true,
				Listeners: []Listener{{Port: 80, Backends: []Backend{
					{Name: "ECS02", Address: hostPort(httpPort2), Weight: 100, Builtin: "http"},
				}}},
			},
		},
		Services: []Service{{
			ID: "epsrv-demo1", Owner: DemoProviderUID, Description: "eplink demo service",
			Resources: []string{"lb-clb1"}, Whitelist: []string{DemoConsumerUID},
		}},
		Endpoints: []Endpoint{{
			ID: "ep-demo1", Owner: DemoConsumerUID, Name: "demo-endpoint",
			Service: "epsrv-demo1", VPC: "vpc-consumer1",
			SecurityGroups: []string{"sg-consumer1"},
			Zones:          []EndpointZone{{Zone: "cn-hangzhou-h", VSwitch: "vsw-consumer1-h"}},
			Accept:         true,
		}},
	}
	applyDefaults(l, nil) // limits, as Parse would fill them
	return l
}

// DemoNetns returns the demo lab for the netns front end, with the guide's
// own addresses: VPC1 10.10.0.0/16 holding ECS03 (10.10.0.190), the
// consumer; VPC2 192.168.0.0/16 holding ECS01 (192.168.24.246) and ECS02
// (192.168.24.247), builtin HTTP servers behind CLB1 and CLB2 on port 80.
func DemoNetns() *Lab {
	l := Demo(0, 0)
	l.Network = NetworkNetns
	c, p := &l.VPCs[0], &l.VPCs[1]
	c.CIDR = "10.10.0.0/16"
	c.VSwitches[0].CIDR, c.VSwitches[1].CIDR = "10.10.0.0/24", "10.10.1.0/24"
	p.CIDR = "192.168.0.0/16"
	p.VSwitches[0].CIDR, p.VSwitches[1].CIDR = "192.168.24.0/24", "192.168.25.0/24"
	l.Instances = []Instance{
		{ID: "ecs01", Name: "ECS01", VSwitch: "vsw-provider2-h", IP: "192.168.24.246", Builtin: "http"},
		{ID: "ecs02", Name: "ECS02", VSwitch: "vsw-provider2-h", IP: "192.168.24.247", Builtin: "http"},
		{ID: "ecs03", Name: "ECS03", VSwitch: "vsw-consumer1-h", IP: "10.10.0.190"},
	}
	for i, in := range []string{"ecs01", "ecs02"} {
		l.LoadBalancers[i].Listeners = []Listener{{Port: 80, Backends: []Backend{
			{Name: l.Instances[i].Name, Instance: in, Port: 80, Weight: 100},
		}}}
	}
	applyDefaults(l, nil) // the CLBs' addresses
	return l
}
