package lab

import (
	"errors"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// designExample is the lab file of DESIGN §4, verbatim.
const designExample = `region: cn-hangzhou
zones: [cn-hangzhou-h, cn-hangzhou-i]
accounts:
  - uid: "1000000000000001"
    name: provider
    access_keys: [{id: LTAIprovider000001, secret: provider-secret-1}]
  - uid: "1000000000000002"
    name: consumer
    access_keys: [{id: LTAIconsumer000002, secret: consumer-secret-2}]
vpcs:
  - id: vpc-consumer1
    owner: "1000000000000002"
    cidr: 127.10.0.0/16
    vswitches:
      - {id: vsw-consumer1-h, zone: cn-hangzhou-h, cidr: 127.10.0.0/24}
    security_groups:
      - id: sg-consumer1
        rules:
          - {protocol: tcp, port_range: 1/65535, source_cidr: 0.0.0.0/0, policy: accept, priority: 1}
  - id: vpc-provider2
    owner: "1000000000000001"
    cidr: 127.192.0.0/16
    vswitches:
      - {id: vsw-provider2-h, zone: cn-hangzhou-h, cidr: 127.192.24.0/24}
load_balancers:
  - id: lb-clb1
    owner: "1000000000000001"
    vswitch: vsw-provider2-h
    zone: cn-hangzhou-h
    backup_zone: cn-hangzhou-i
    privatelink: true
    listeners:
      - port: 80
        backends:
          - {name: ECS01, address: 127.0.0.1:18081, weight: 100}
  - id: lb-clb2
    owner: "1000000000000001"
    vswitch: vsw-provider2-h
    zone: cn-hangzhou-h
    privatelink: true
    listeners:
      - port: 80
        backends:
          - {name: ECS02, address: 127.0.0.1:18082, weight: 100, builtin: http}
`

func readFull(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseDesignExample(t *testing.T) {
	l, err := Parse([]byte(designExample), "lab.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if l.Region != "cn-hangzhou" || len(l.Accounts) != 2 || len(l.VPCs) != 2 || len(l.LoadBalancers) != 2 {
		t.Errorf("unexpected lab: %+v", l)
	}
	want := Bandwidth{Default: 1024, Min: 100, Max: 1024}
	if got := l.Limits.ConnectionBandwidthMbps; got != want {
		t.Errorf("limits = %+v, want the defaults %+v", got, want)
	}
	if b := l.LoadBalancers[1].Listeners[0].Backends[0]; b.Builtin != "http" || b.Address != "127.0.0.1:18082" {
		t.Errorf("lb-clb2 backend = %+v", b)
	}
}

// TestParseProductOpen: accounts are open unless product_open: false.
func TestParseProductOpen(t *testing.T) {
	src := strings.Replace(designExample, "    name: consumer\n", "    name: consumer\n    product_open: false\n", 1)
	l, err := Parse([]byte(src), "lab.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if p := l.Accounts[0].ProductOpen; p != nil {
		t.Errorf("provider product_open = %v, want unset", *p)
	}
	if p := l.Accounts[1].ProductOpen; p == nil || *p {
		t.Errorf("consumer product_open = %v, want false", p)
	}
}

func TestParseExampleFile(t *testing.T) {
	l, err := Load("../../examples/lab.yaml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(l.Zones) != 2 || len(l.Services) != 0 || len(l.Endpoints) != 0 {
		t.Errorf("examples/lab.yaml: zones %v, %d services, %d endpoints; want 2 zones and none declared",
			l.Zones, len(l.Services), len(l.Endpoints))
	}
	for _, id := range []string{"vsw-consumer1-h", "vsw-consumer1-i", "vsw-provider2-h", "vsw-provider2-i"} {
		if _, ok := l.VSwitch(id); !ok {
			t.Errorf("examples/lab.yaml lacks %s", id)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/no-such-lab.yaml")
	if err == nil || !strings.Contains(err.Error(), "no-such-lab.yaml") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestParseFullAndDefaults(t *testing.T) {
	l, err := Parse([]byte(readFull(t)), "full.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	backends := l.LoadBalancers[0].Listeners[0].Backends
	if backends[0].Weight != 100 || backends[1].Weight != 100 {
		t.Errorf("weights = %d, %d; want 100 given and 100 by default", backends[0].Weight, backends[1].Weight)
	}
	if w := l.LoadBalancers[1].Listeners[0].Backends[0].Weight; w != 0 {
		t.Errorf("explicit weight 0 became %d", w)
	}
	if z := l.LoadBalancers[1].Zone; z != "cn-hangzhou-h" {
		t.Errorf("lb-clb2 zone = %q, want its vswitch's zone", z)
	}
	if z := l.Endpoints[0].Zones[1].Zone; z != "cn-hangzhou-i" {
		t.Errorf("endpoint zone = %q, want its vswitch's zone", z)
	}
	if hc := l.LoadBalancers[0].HealthCheck; hc == nil || hc.Interval != 2*time.Second || hc.Fall != 3 {
		t.Errorf("health check = %+v", hc)
	}
	if l.LoadBalancers[1].HealthCheck != nil {
		t.Errorf("absent health check became %+v", l.LoadBalancers[1].HealthCheck)
	}
	r := l.VPCs[0].SecurityGroups[0].Rules[1]
	if r.Priority != 1 || r.Policy != "drop" || r.PortRange != "-1/-1" {
		t.Errorf("rule defaults: %+v", r)
	}
	if got := l.Limits.ConnectionBandwidthMbps; got != (Bandwidth{Default: 1024, Min: 100, Max: 2048}) {
		t.Errorf("limits = %+v", got)
	}
	if s := l.Services[0]; !s.AutoAcceptEnabled || s.ConnectBandwidth != 2048 || len(s.Resources) != 2 {
		t.Errorf("service = %+v", s)
	}
	// A parsed lab passes Validate unchanged: the defaults are a fixed point.
	before := *l
	if err := l.Validate(); err != nil {
		t.Errorf("Validate after Parse: %v", err)
	}
	if !reflect.DeepEqual(before, *l) {
		t.Errorf("Validate changed a parsed lab")
	}
}

// TestParseBadLabs breaks the full lab one way at a time and checks that the
// error names the file, the line and the field path.
func TestParseBadLabs(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // replace the first old in testdata/full.yaml with new
		line     int
		path     string
		msg      string
	}{
		{"region missing", "region: cn-hangzhou\n", "", 1, "region", "required"},
		{"region malformed", "region: cn-hangzhou\n", "region: Hangzhou\n", 1, "region", `"Hangzhou" is not a region`},
		{"unknown top key hint", "limits:", "limit:", 3, "limit", `unknown key "limit", did you mean "limits"? (known keys: region, zones, network, limits,`},
		{"unknown nested key", "    name: provider\n", "    nam: provider\n", 7, "accounts[0].nam", `did you mean "name"?`},
		{"duplicate key", "    name: provider\n", "    name: provider\n    name: again\n", 8, "accounts[0].name", "duplicate key (first at line 7)"},
		{"zones empty", "zones: [cn-hangzhou-h, cn-hangzhou-i]", "zones: []", 2, "zones", "at least one zone"},
		{"zone of other region", "zones: [cn-hangzhou-h, cn-hangzhou-i]", "zones: [cn-hangzhou-h, cn-shanghai-b]", 2, "zones[1]", "not a zone of region cn-hangzhou"},
		{"zone not a letter", "zones: [cn-hangzhou-h, cn-hangzhou-i]", "zones: [cn-hangzhou-h, cn-hangzhou-10]", 2, "zones[1]", "expected cn-hangzhou-<letter>"},
		{"limits order", "{default: 1024, min: 100, max: 2048}", "{default: 50, min: 100, max: 2048}", 4, "limits.connection_bandwidth_mbps", "min ≤ default ≤ max"},
		{"limits negative", "{default: 1024, min: 100, max: 2048}", "{default: 1024, min: -1, max: 2048}", 4, "limits.connection_bandwidth_mbps.min", "must be positive"},
		{"uid short", `uid: "1000000000000001"`, `uid: "100000000000001"`, 6, "accounts[0].uid", "not a 16-digit account UID"},
		{"uid duplicate", `uid: "1000000000000002"`, `uid: "1000000000000001"`, 9, "accounts[1].uid", "declared twice"},
		{"access key duplicate", "id: LTAIconsumer000002", "id: LTAIprovider000001", 11, "accounts[1].access_keys[0].id", "already used at accounts[0].access_keys[0].id, line 8"},
		{"secret empty", "secret: consumer-secret-2", `secret: ""`, 11, "accounts[1].access_keys[0].secret", "required"},
		{"vpc id prefix", "id: vpc-consumer1", "id: net-consumer1", 13, "vpcs[0].id", "vpc-[a-z0-9-]+"},
		{"vpc id upper case", "id: vpc-consumer1", "id: vpc-Consumer1", 13, "vpcs[0].id", "vpc-[a-z0-9-]+"},
		{"sg id of another kind", "id: sg-consumer1", "id: vsw-consumer1-h", 20, "vpcs[0].security_groups[0].id", "is not an id of the form sg-"},
		{"id duplicate", "id: lb-clb2", "id: lb-clb1", 43, "load_balancers[1].id", "already used at load_balancers[0].id, line 31"},
		{"owner unknown", `    owner: "1000000000000002"` + "\n    cidr", `    owner: "1000000000000009"` + "\n    cidr", 14, "vpcs[0].owner", `account "1000000000000009" is not declared`},
		{"uid as number", `uid: "1000000000000001"`, `uid: 1000000000000001`, 0, "", ""}, // fine: digits are digits
		{"vpc cidr bad", "cidr: 127.10.0.0/16", "cidr: 127.10.0.0/33", 15, "vpcs[0].cidr", "not a CIDR block"},
		{"vpc cidr host bits", "cidr: 127.10.0.0/16", "cidr: 127.10.3.0/16", 15, "vpcs[0].cidr", "did you mean 127.10.0.0/16?"},
		{"vswitch outside vpc", "cidr: 127.10.1.0/24", "cidr: 127.11.0.0/24", 18, "vpcs[0].vswitches[1].cidr", "127.11.0.0/24 is outside the VPC's CIDR 127.10.0.0/16"},
		{"vswitch bigger than vpc", "cidr: 127.10.1.0/24", "cidr: 127.0.0.0/8", 18, "vpcs[0].vswitches[1].cidr", "outside the VPC's CIDR"},
		{"vswitch overlap in vpc", "cidr: 127.10.1.0/24", "cidr: 127.10.0.128/25", 18, "vpcs[0].vswitches[1].cidr", "overlaps vsw-consumer1-h (127.10.0.0/24 at vpcs[0].vswitches[0].cidr, line 17)"},
		{"vswitch overlap across vpcs", "cidr: 127.192.0.0/16\n    vswitches:\n      - {id: vsw-provider2-h, zone: cn-hangzhou-h, cidr: 127.192.24.0/24}", "cidr: 127.0.0.0/8\n    vswitches:\n      - {id: vsw-provider2-h, zone: cn-hangzhou-h, cidr: 127.10.0.0/23}", 28, "vpcs[1].vswitches[0].cidr", "must not overlap"},
		{"vswitch zone unknown", "{id: vsw-consumer1-i, zone: cn-hangzhou-i", "{id: vsw-consumer1-i, zone: cn-hangzhou-k", 18, "vpcs[0].vswitches[1].zone", "not one of the lab's zones"},
		{"rule protocol", "{protocol: tcp, port_range", "{protocol: sctp, port_range", 22, "vpcs[0].security_groups[0].rules[0].protocol", "tcp, udp, icmp or all"},
		{"rule port range reversed", "port_range: 1/65535", "port_range: 80/79", 22, "vpcs[0].security_groups[0].rules[0].port_range", "1 ≤ A ≤ B ≤ 65535"},
		{"rule port range zero", "port_range: 1/65535", "port_range: 0/80", 22, "vpcs[0].security_groups[0].rules[0].port_range", "not a port range"},
		{"rule port range tcp missing", "port_range: 1/65535, ", "", 22, "vpcs[0].security_groups[0].rules[0].port_range", "required"},
		{"rule source", "source_cidr: 0.0.0.0/0", "source_cidr: anywhere", 22, "vpcs[0].security_groups[0].rules[0].source_cidr", "not a CIDR block"},
		{"rule policy", "policy: accept, priority: 1}", "policy: allow, priority: 1}", 22, "vpcs[0].security_groups[0].rules[0].policy", "accept or drop"},
		{"rule priority", "policy: accept, priority: 1}", "policy: accept, priority: 101}", 22, "vpcs[0].security_groups[0].rules[0].priority", "1..100"},
		{"rule priority type", "policy: accept, priority: 1}", "policy: accept, priority: high}", 22, "vpcs[0].security_groups[0].rules[0].priority", `expected an integer, got "high"`},
		{"rules not a list", "        rules:\n", "        rules: open\n        x:\n", 21, "vpcs[0].security_groups[0].rules", "expected a list"},
		{"lb vswitch unknown", "    vswitch: vsw-provider2-h\n    zone", "    vswitch: vsw-nope\n    zone", 33, "load_balancers[0].vswitch", `vswitch "vsw-nope" is not declared`},
		{"lb vswitch of other account", "    vswitch: vsw-provider2-h\n    zone", "    vswitch: vsw-consumer1-h\n    zone", 33, "load_balancers[0].vswitch", "not of the load balancer's owner 1000000000000001"},
		{"lb zone differs", "    zone: cn-hangzhou-h\n    backup", "    zone: cn-hangzhou-i\n    backup", 34, "load_balancers[0].zone", "differs from the zone cn-hangzhou-h of its vswitch"},
		{"lb backup same", "backup_zone: cn-hangzhou-i", "backup_zone: cn-hangzhou-h", 35, "load_balancers[0].backup_zone", "must differ"},
		{"lb backup unknown", "backup_zone: cn-hangzhou-i", "backup_zone: cn-hangzhou-z", 35, "load_balancers[0].backup_zone", "not one of the lab's zones"},
		{"lb privatelink type", "    privatelink: true\n    listeners:\n      - port: 80\n        backends:\n          - {name: ECS01", "    privatelink: maybe\n    listeners:\n      - port: 80\n        backends:\n          - {name: ECS01", 36, "load_balancers[0].privatelink", "expected true or false"},
		{"listener port", "      - port: 80\n        backends:\n          - {name: ECS01", "      - port: 70000\n        backends:\n          - {name: ECS01", 38, "load_balancers[0].listeners[0].port", "not a port 1..65535"},
		{"listener port duplicate", "          - {name: ECS03, address: 127.0.0.1:18083}\n", "          - {name: ECS03, address: 127.0.0.1:18083}\n      - {port: 80, backends: [{address: 127.0.0.1:1}]}\n", 42, "load_balancers[0].listeners[1].port", "already has a listener at load_balancers[0].listeners[0].port, line 38"},
		{"backends empty", "      - port: 80\n        backends:\n          - {name: ECS02", "      - port: 80\n        backends: []\n        x:\n          - {name: ECS02", 49, "load_balancers[1].listeners[0].backends", "at least one backend"},
		{"backend address", "address: 127.0.0.1:18083", "address: 127.0.0.1", 41, "load_balancers[0].listeners[0].backends[1].address", "not host:port"},
		{"backend port", "address: 127.0.0.1:18083", "address: 127.0.0.1:0", 41, "load_balancers[0].listeners[0].backends[1].address", "not 1..65535"},
		{"backend weight", "weight: 100, builtin", "weight: 101, builtin", 40, "load_balancers[0].listeners[0].backends[0].weight", "0..100"},
		{"backend builtin", "weight: 100, builtin: http", "weight: 100, builtin: nginx", 40, "load_balancers[0].listeners[0].backends[0].builtin", `"nginx" is not a builtin`},
		{"backend name duplicate", "{name: ECS03", "{name: ECS01", 41, "load_balancers[0].listeners[0].backends[1].name", "already declared at load_balancers[0].listeners[0].backends[0].name, line 40"},
		{"health interval zero", "interval: 2s", "interval: 0s", 42, "load_balancers[0].health_check.interval", "positive duration"},
		{"health interval unitless", "interval: 2s", "interval: 2", 42, "load_balancers[0].health_check.interval", "needs a unit, e.g. 2s"},
		{"health fall negative", "fall: 3}", "fall: -3}", 42, "load_balancers[0].health_check.fall", "positive count"},
		{"service id", "id: epsrv-demo1", "id: epsrv_demo1", 52, "services[0].id", "epsrv-[a-z0-9-]+"},
		{"service owner", `    owner: "1000000000000001"` + "\n    description", `    owner: "1000000000000002"` + "\n    description", 55, "services[0].resources[0]", "belongs to account 1000000000000001, not to the service's owner 1000000000000002"},
		{"service resource unknown", "resources: [lb-clb1, lb-clb2]", "resources: [lb-clb1, lb-clb9]", 55, "services[0].resources[1]", `"lb-clb9" is not declared`},
		{"service resource not privatelink", "    vswitch: vsw-provider2-h\n    privatelink: true", "    vswitch: vsw-provider2-h\n    privatelink: false", 55, "services[0].resources[1]", "does not have privatelink: true"},
		{"service description url", "description: the demo service", "description: https://example.com", 54, "services[0].description", "must not start with http"},
		{"service bandwidth", "connect_bandwidth: 2048", "connect_bandwidth: 4096", 57, "services[0].connect_bandwidth", "outside 100..2048"},
		{"service whitelist", `whitelist: ["1000000000000002"]`, `whitelist: ["consumer"]`, 58, "services[0].whitelist[0]", "neither a 16-digit account UID nor *"},
		{"endpoint id", "id: ep-demo1", "id: ep-", 60, "endpoints[0].id", "ep-[a-z0-9-]+"},
		{"endpoint name", "name: demo-endpoint", "name: 1st-endpoint", 62, "endpoints[0].name", "starting with a letter"},
		{"endpoint service unknown", "service: epsrv-demo1", "service: epsrv-other", 63, "endpoints[0].service", `service "epsrv-other" is not declared`},
		{"endpoint vpc of other account", "vpc: vpc-consumer1", "vpc: vpc-provider2", 64, "endpoints[0].vpc", "belongs to account 1000000000000001, not to the endpoint's owner"},
		{"endpoint no security group", "security_groups: [sg-consumer1]", "security_groups: []", 65, "endpoints[0].security_groups", "at least one security group"},
		{"endpoint security group unknown", "security_groups: [sg-consumer1]", "security_groups: [sg-consumer1, sg-x]", 65, "endpoints[0].security_groups[1]", `"sg-x" is not declared`},
		{"endpoint zone vswitch of other vpc", "{vswitch: vsw-consumer1-i}", "{vswitch: vsw-provider2-i}", 68, "endpoints[0].zones[1].vswitch", "is in vpc-provider2, not in the endpoint's vpc vpc-consumer1"},
		{"endpoint zone mismatch", "{vswitch: vsw-consumer1-i}", "{zone: cn-hangzhou-h, vswitch: vsw-consumer1-i}", 68, "endpoints[0].zones[1].zone", "the endpoint already has an ENI in cn-hangzhou-h"},
		{"endpoint zone differs", "{zone: cn-hangzhou-h, vswitch: vsw-consumer1-h", "{zone: cn-hangzhou-i, vswitch: vsw-consumer1-h", 67, "endpoints[0].zones[0].zone", "differs from the zone cn-hangzhou-h of its vswitch"},
		{"endpoint ip outside", "ip: 127.10.0.10}", "ip: 127.10.1.10}", 67, "endpoints[0].zones[0].ip", "127.10.1.10 is outside the vswitch vsw-consumer1-h's CIDR 127.10.0.0/24"},
		{"endpoint ip bad", "ip: 127.10.0.10}", "ip: 127.10.0.300}", 67, "endpoints[0].zones[0].ip", "not an IP address"},
		{"endpoint accept type", "    accept: true", "    accept: [true]", 69, "endpoints[0].accept", "expected true or false, got a list"},
		{"mapping expected", "    health_check: {interval: 2s, timeout: 1s, rise: 2, fall: 3}", "    health_check: 2s", 42, "load_balancers[0].health_check", "expected a mapping of interval, timeout, rise, fall"},
		{"merge key", "  - id: lb-clb2\n", "  - <<: {id: lb-clb2}\n", 43, "load_balancers[1]", "merge keys (<<) are not supported"},
		{"two builtin names on one address", "{name: ECS02, address: 127.0.0.1:18082, weight: 0, builtin: http}", "{name: ECS02, address: 127.0.0.1:18081, weight: 0, builtin: http}", 50, "load_balancers[1].listeners[0].backends[0].name", "the builtin backend at 127.0.0.1:18081 is already ECS01 (load_balancers[0].listeners[0].backends[0].name, line 40)"},
		{"one builtin shared by two CLBs", "{name: ECS02, address: 127.0.0.1:18082, weight: 0, builtin: http}", "{name: ECS01, address: 127.0.0.1:18081, weight: 0, builtin: http}", 0, "", ""},
		{"yaml syntax", "zones: [cn-hangzhou-h, cn-hangzhou-i]", "zones: [cn-hangzhou-h, cn-hangzhou-i", 0, "", "YAML syntax"},
		{"second document", "    accept: true\n", "    accept: true\n---\nregion: cn-hangzhou\n", 0, "", "one YAML document"},
	}
	base := readFull(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if strings.Count(base, tt.old) == 0 {
				t.Fatalf("%q is not in testdata/full.yaml", tt.old)
			}
			data := strings.Replace(base, tt.old, tt.new, 1)
			_, err := Parse([]byte(data), "lab.yaml")
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse accepted the lab; want %s", tt.msg)
			}
			if !hasError(err, tt.line, tt.path, tt.msg) {
				t.Errorf("want an error at line %d, %s, containing %q; got:\n%v", tt.line, tt.path, tt.msg, err)
			}
		})
	}
}

// hasError reports whether err holds an *Error at line (0: any line) and
// path whose text, in the file:line: path: msg form, contains msg.
func hasError(err error, line int, path, msg string) bool {
	for _, e := range flatten(err) {
		var le *Error
		if !errors.As(e, &le) || le.Path != path || (line != 0 && le.Line != line) {
			continue
		}
		if strings.Contains(le.Error(), msg) && strings.HasPrefix(le.Error(), "lab.yaml") {
			return true
		}
	}
	return false
}

func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestErrorFormat(t *testing.T) {
	data := strings.Replace(readFull(t), "cidr: 127.10.1.0/24", "cidr: 127.11.0.0/24", 1)
	_, err := Parse([]byte(data), "lab.yaml")
	want := "lab.yaml:18: vpcs[0].vswitches[1].cidr: 127.11.0.0/24 is outside the VPC's CIDR 127.10.0.0/16"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant  %s", err, want)
	}
}

func TestParseCollectsAllErrorsInLineOrder(t *testing.T) {
	data := readFull(t)
	for _, e := range [][2]string{
		{"policy: accept, priority: 1}", "policy: allow, priority: 1}"}, // line 22
		{"region: cn-hangzhou", "region: x"},                            // line 1
		{"weight: 100, builtin", "weight: 900, builtin"},                // line 40
	} {
		data = strings.Replace(data, e[0], e[1], 1)
	}
	_, err := Parse([]byte(data), "lab.yaml")
	errs := flatten(err)
	var lines []int
	for _, e := range errs {
		var le *Error
		if !errors.As(e, &le) {
			t.Fatalf("%v is not an *Error", e)
		}
		lines = append(lines, le.Line)
	}
	want := []int{1, 22, 40} // zones are not judged against a broken region
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("error lines = %v, want %v:\n%v", lines, want, err)
	}
}

// TestDecodeErrorsDoNotCascade: a value that fails to decode is reported
// once, not again as "required" by validation.
func TestDecodeErrorsDoNotCascade(t *testing.T) {
	data := strings.Replace(readFull(t), "cidr: 127.10.0.0/16", "cidr: [127.10.0.0/16]", 1)
	_, err := Parse([]byte(data), "lab.yaml")
	if n := len(flatten(err)); n != 1 {
		t.Errorf("got %d errors, want 1:\n%v", n, err)
	}
	if !hasError(err, 15, "vpcs[0].cidr", "expected a string, got a list") {
		t.Errorf("error = %v", err)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, data := range []string{"", "# just a comment\n", "~\n"} {
		_, err := Parse([]byte(data), "lab.yaml")
		if err == nil || !strings.HasPrefix(err.Error(), "lab.yaml") || !strings.Contains(err.Error(), "empty") {
			t.Errorf("Parse(%q) = %v, want an empty-file error", data, err)
		}
	}
	_, err := Parse([]byte("- a\n- b\n"), "lab.yaml")
	if err == nil || !strings.Contains(err.Error(), "lab.yaml:1: expected a mapping of region, zones") {
		t.Errorf("Parse of a list = %v", err)
	}
}

func TestAliasesAreFollowedAndBounded(t *testing.T) {
	data := strings.Replace(readFull(t), "        rules:\n", "        rules: &open\n", 1)
	data = strings.Replace(data, "  - id: vpc-provider2\n", "      - id: sg-open2\n        rules: *open\n  - id: vpc-provider2\n", 1)
	l, err := Parse([]byte(data), "lab.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if g, _, _ := l.SecurityGroup("sg-open2"); len(g.Rules) != 2 {
		t.Errorf("aliased rules = %+v", g.Rules)
	}

	// A billion laughs shaped like the schema: 100 CLBs of 100 listeners of
	// 100 backends, written in a few lines of aliases.
	hundred := func(alias string) string { return "[" + strings.Repeat(alias+", ", 99) + alias + "]" }
	var b strings.Builder
	b.WriteString("be: &be {address: 127.0.0.1:1}\n")
	b.WriteString("bs: &bs " + hundred("*be") + "\n")
	b.WriteString("ln: &ln {port: 80, backends: *bs}\n")
	b.WriteString("ls: &ls " + hundred("*ln") + "\n")
	b.WriteString("lb: &lb {id: lb-x, listeners: *ls}\n")
	b.WriteString("load_balancers: " + hundred("*lb") + "\n")
	_, err = Parse([]byte(b.String()), "laughs.yaml")
	if err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("billion laughs: %v", err)
	}
}

func TestDemo(t *testing.T) {
	l := Demo(18081, 18082)
	if err := l.Validate(); err != nil {
		t.Fatalf("Demo().Validate: %v", err)
	}
	if a, ok := l.AccountByAccessKey(DemoConsumerKey); !ok || a.UID != DemoConsumerUID {
		t.Errorf("consumer key → %+v, %v", a, ok)
	}
	if b := l.LoadBalancers[1].Listeners[0].Backends[0]; b.Address != "127.0.0.1:18082" || b.Name != "ECS02" || b.Builtin != "http" {
		t.Errorf("lb-clb2 backend = %+v", b)
	}
	if e := l.Endpoints[0]; e.ID != "ep-demo1" || !e.Accept || e.Zones[0].VSwitch != "vsw-consumer1-h" {
		t.Errorf("endpoint = %+v", e)
	}
	if got := l.Limits.ConnectionBandwidthMbps; got != (Bandwidth{1024, 100, 1024}) {
		t.Errorf("demo limits = %+v", got)
	}
}

func TestLookups(t *testing.T) {
	l, err := Parse([]byte(readFull(t)), "full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := l.Account("1000000000000002"); !ok || a.Name != "consumer" {
		t.Errorf("Account = %+v, %v", a, ok)
	}
	if _, ok := l.Account("1000000000000009"); ok {
		t.Error("Account found an unknown UID")
	}
	a, ok := l.AccountByAccessKey("LTAIprovider000001")
	if secret, _ := a.Secret("LTAIprovider000001"); !ok || a.UID != "1000000000000001" || secret != "provider-secret-1" {
		t.Errorf("AccountByAccessKey = %+v, %v", a, ok)
	}
	if _, ok := l.AccountByAccessKey("LTAInobody"); ok {
		t.Error("AccountByAccessKey found an unknown key")
	}
	vsw, ok := l.VSwitch("vsw-provider2-i")
	if !ok || vsw.Zone != "cn-hangzhou-i" || vsw.Prefix() != netip.MustParsePrefix("127.192.25.0/24") {
		t.Errorf("VSwitch = %+v, %v", vsw, ok)
	}
	if v, ok := l.VPCOf("vsw-consumer1-i"); !ok || v.ID != "vpc-consumer1" || v.Prefix().Bits() != 16 {
		t.Errorf("VPCOf = %+v, %v", v, ok)
	}
	if _, ok := l.VPCOf("vsw-none"); ok {
		t.Error("VPCOf found an unknown vswitch")
	}
	if lb, ok := l.LoadBalancer("lb-clb2"); !ok || lb.Listeners[0].Port != 80 {
		t.Errorf("LoadBalancer = %+v, %v", lb, ok)
	}
	if s, ok := l.Service("epsrv-demo1"); !ok || s.Owner != "1000000000000001" {
		t.Errorf("Service = %+v, %v", s, ok)
	}
	if ip := l.Endpoints[0].Zones[0].Addr(); ip != netip.MustParseAddr("127.10.0.10") {
		t.Errorf("Addr = %v", ip)
	}
	if ip := l.Endpoints[0].Zones[1].Addr(); ip.IsValid() {
		t.Errorf("Addr of a zone without ip = %v", ip)
	}
}

func TestParsedRules(t *testing.T) {
	l, err := Parse([]byte(readFull(t)), "full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g, v, ok := l.SecurityGroup("sg-consumer1")
	if !ok || v.ID != "vpc-consumer1" {
		t.Fatalf("SecurityGroup = %+v in %s, %v", g, v.ID, ok)
	}
	got := g.ParsedRules()
	want := []ParsedRule{
		{Protocol: "tcp", PortFrom: 1, PortTo: 65535, Source: netip.MustParsePrefix("0.0.0.0/0"), Accept: true, Priority: 1},
		{Protocol: "all", PortFrom: 1, PortTo: 65535, Source: netip.MustParsePrefix("127.10.9.0/24"), Accept: false, Priority: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParsedRules = %+v\nwant %+v", got, want)
	}

	src := netip.MustParseAddr("127.10.9.7")
	tests := []struct {
		rule  Rule
		proto string
		src   netip.Addr
		port  int
		want  bool
	}{
		{Rule{Protocol: "TCP", PortRange: "80/80", SourceCIDR: "127.10.9.0/24"}, "tcp", src, 80, true},
		{Rule{Protocol: "tcp", PortRange: "80/80", SourceCIDR: "127.10.9.0/24"}, "tcp", src, 81, false},
		{Rule{Protocol: "tcp", PortRange: "80/80", SourceCIDR: "127.10.9.0/24"}, "udp", src, 80, false},
		{Rule{Protocol: "tcp", PortRange: "1/65535", SourceCIDR: "127.10.8.0/24"}, "tcp", src, 80, false},
		{Rule{Protocol: "tcp", PortRange: "1/65535", SourceCIDR: "127.10.9.7"}, "tcp", src, 80, true},
		{Rule{Protocol: "tcp", PortRange: "1/65535", SourceCIDR: "0.0.0.0/0"}, "tcp", netip.MustParseAddr("::ffff:127.1.2.3"), 80, true},
		{Rule{Protocol: "all", SourceCIDR: "0.0.0.0/0"}, "udp", src, 53, true},
	}
	for _, tt := range tests {
		pr, err := tt.rule.Parsed()
		if err != nil {
			t.Errorf("%+v: %v", tt.rule, err)
			continue
		}
		if got := pr.Matches(tt.proto, tt.src, tt.port); got != tt.want {
			t.Errorf("%+v.Matches(%s, %s, %d) = %v, want %v", tt.rule, tt.proto, tt.src, tt.port, got, tt.want)
		}
	}
	for _, bad := range []Rule{
		{Protocol: "tcp", SourceCIDR: "0.0.0.0/0"},
		{Protocol: "tcp", PortRange: "1/2", SourceCIDR: "0.0.0.0/0", Priority: 101},
		{Protocol: "tcp", PortRange: "1/2", SourceCIDR: "0.0.0.0/0", Policy: "maybe"},
		{Protocol: "gre", PortRange: "-1/-1", SourceCIDR: "0.0.0.0/0"},
	} {
		if _, err := bad.Parsed(); err == nil {
			t.Errorf("%+v parsed", bad)
		}
	}
}
