package lab

import (
	"net/netip"
	"strings"
	"testing"
)

// netnsLab is the guide's world on the netns front end, with a second
// consumer VPC of the same CIDR (the case PrivateLink exists for).
const netnsLab = `network: netns
region: cn-hangzhou
zones: [cn-hangzhou-h]
accounts:
  - {uid: "1000000000000001", access_keys: [{id: LTAIprovider000001, secret: s1}]}
  - {uid: "1000000000000002", access_keys: [{id: LTAIconsumer000002, secret: s2}]}
vpcs:
  - id: vpc-c1
    owner: "1000000000000002"
    cidr: 10.10.0.0/16
    vswitches: [{id: vsw-c1, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}]
  - id: vpc-c2
    owner: "1000000000000002"
    cidr: 10.10.0.0/16
    vswitches: [{id: vsw-c2, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}]
  - id: vpc-p
    owner: "1000000000000001"
    cidr: 192.168.0.0/16
    vswitches: [{id: vsw-p, zone: cn-hangzhou-h, cidr: 192.168.24.0/24}]
instances:
  - {id: ecs01, name: ECS01, vswitch: vsw-p, ip: 192.168.24.246, builtin: http}
  - {id: ecs03, vswitch: vsw-c1, ip: 10.10.0.190}
  - {id: ecs04, vswitch: vsw-c2, ip: 10.10.0.190}
  - {id: ecs05, vswitch: vsw-c2}
load_balancers:
  - id: lb-clb1
    owner: "1000000000000001"
    vswitch: vsw-p
    privatelink: true
    listeners:
      - port: 80
        backends:
          - {instance: ecs01, port: 80}
          - {address: 127.0.0.1:8080}
`

func TestParseNetns(t *testing.T) {
	l, err := Parse([]byte(netnsLab), "lab.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if !l.Netns() {
		t.Fatal("Netns() = false")
	}
	// Left out: the highest free address below the gateway.
	if got := l.Instances[3].IP; got != "10.10.0.252" {
		t.Errorf("allocated ecs05 = %s, want 10.10.0.252", got)
	}
	if got := l.LoadBalancers[0].IP; got != "192.168.24.252" {
		t.Errorf("allocated lb-clb1 = %s, want 192.168.24.252", got)
	}
	if b := l.LoadBalancers[0].Listeners[0].Backends[0]; b.Instance != "ecs01" || b.Port != 80 || b.Weight != 100 {
		t.Errorf("instance backend = %+v", b)
	}
	if in, _ := l.Instance("ecs01"); in.DisplayName() != "ECS01" {
		t.Errorf("DisplayName = %q", in.DisplayName())
	}
	if in, _ := l.Instance("ecs03"); in.DisplayName() != "ecs03" {
		t.Errorf("DisplayName = %q", in.DisplayName())
	}
}

func TestGatewayAndReserved(t *testing.T) {
	p := netip.MustParsePrefix("10.10.0.0/24")
	if g := Gateway(p); g != netip.MustParseAddr("10.10.0.253") {
		t.Errorf("Gateway = %s", g)
	}
	if g := Gateway(netip.MustParsePrefix("192.168.0.0/16")); g != netip.MustParseAddr("192.168.255.253") {
		t.Errorf("Gateway /16 = %s", g)
	}
	for ip, reserved := range map[string]bool{
		"10.10.0.0": true, "10.10.0.1": false, "10.10.0.252": false,
		"10.10.0.253": true, "10.10.0.254": true, "10.10.0.255": true, "10.10.1.1": true,
	} {
		if got := ReservedAddr(p, netip.MustParseAddr(ip)) != ""; got != reserved {
			t.Errorf("ReservedAddr(%s) = %v, want %v", ip, got, reserved)
		}
	}
}

func TestParseNetnsBad(t *testing.T) {
	for _, tc := range []struct {
		name, from, to, want string
	}{
		{"unknown network", "network: netns", "network: bridge", `network: "bridge" is not a front end`},
		{"instances on loopback", "network: netns", "network: loopback", "instances need network: netns"},
		{"loopback CIDR", "cidr: 192.168.0.0/16", "cidr: 127.168.0.0/16", "is loopback"},
		{"reserved address", "ip: 10.10.0.190}\n  - {id: ecs04", "ip: 10.10.0.253}\n  - {id: ecs04", "the vSwitch gateway"},
		{"same address twice in a VPC", "ip: 10.10.0.190}\n  - {id: ecs04, vswitch: vsw-c2", "ip: 10.10.0.190}\n  - {id: ecs04, vswitch: vsw-c1", "already used in vpc-c1"},
		{"address outside", "ip: 192.168.24.246", "ip: 192.168.25.246", "outside the vSwitch CIDR"},
		{"bad id", "id: ecs03", "id: ECS03", "is not an instance id"},
		{"unknown instance", "instance: ecs01", "instance: ecs09", `instance "ecs09" is not declared`},
		{"instance of another VPC", "instance: ecs01", "instance: ecs03", "a CLB reaches only instances of its own VPC"},
		{"instance without port", "{instance: ecs01, port: 80}", "{instance: ecs01}", "required with instance"},
		{"both", "{instance: ecs01, port: 80}", "{instance: ecs01, port: 80, address: 127.0.0.1:1}", "either address or instance"},
		{"unknown builtin", "builtin: http}", "builtin: ftp}", `"ftp" is not a builtin server`},
		{"same vswitch CIDR in one VPC", "vswitches: [{id: vsw-c2, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}]",
			"vswitches: [{id: vsw-c2, zone: cn-hangzhou-h, cidr: 10.10.0.0/24}, {id: vsw-c3, zone: cn-hangzhou-h, cidr: 10.10.0.0/25}]", "overlaps vsw-c2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(netnsLab, tc.from, tc.to, 1)
			if src == netnsLab {
				t.Fatalf("%q not in the lab", tc.from)
			}
			_, err := Parse([]byte(src), "lab.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDemoNetns(t *testing.T) {
	l := DemoNetns()
	if err := l.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	in, _ := l.Instance("ecs03")
	if in.IP != "10.10.0.190" || in.VSwitch != "vsw-consumer1-h" {
		t.Errorf("ecs03 = %+v", in)
	}
	for _, lb := range l.LoadBalancers {
		if !lb.Addr().IsValid() {
			t.Errorf("%s has no address", lb.ID)
		}
	}
}
