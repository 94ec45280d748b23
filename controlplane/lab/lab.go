// Package lab reads the lab file: the world outside PrivateLink (accounts,
// VPCs, vSwitches, security groups, CLBs and their backends), and optionally
// services and endpoints to create through the API's own code paths.
//
// Parsing is strict: an unknown key, a duplicate id, a CIDR outside its VPC,
// an unknown zone… is an error that names the field and its line.
package lab

import "time"

// Lab is a parsed and validated lab file.
type Lab struct {
	Region        string         `yaml:"region"`
	Zones         []string       `yaml:"zones"`
	Limits        Limits         `yaml:"limits"`
	Accounts      []Account      `yaml:"accounts"`
	VPCs          []VPC          `yaml:"vpcs"`
	LoadBalancers []LoadBalancer `yaml:"load_balancers"`
	Services      []Service      `yaml:"services"`
	Endpoints     []Endpoint     `yaml:"endpoints"`
}

// Limits change the bandwidth rules; zero fields take the guide's values.
type Limits struct {
	ConnectionBandwidthMbps Bandwidth `yaml:"connection_bandwidth_mbps"`
}

// Bandwidth limits of an endpoint connection, in Mbps.
// Defaults: default 1024, min 100, max 1024.
type Bandwidth struct {
	Default int `yaml:"default"`
	Min     int `yaml:"min"`
	Max     int `yaml:"max"`
}

// Account is a tenant with its AccessKeys.
type Account struct {
	UID        string      `yaml:"uid"` // 16 digits
	Name       string      `yaml:"name"`
	AccessKeys []AccessKey `yaml:"access_keys"`
}

// AccessKey is an AccessKey id/secret pair.
type AccessKey struct {
	ID     string `yaml:"id"`
	Secret string `yaml:"secret"`
}

// VPC is a private network owned by an account.
type VPC struct {
	ID             string          `yaml:"id"`
	Owner          string          `yaml:"owner"` // account UID
	CIDR           string          `yaml:"cidr"`
	VSwitches      []VSwitch       `yaml:"vswitches"`
	SecurityGroups []SecurityGroup `yaml:"security_groups"`
}

// VSwitch is a VPC's subnet in one zone; ENI addresses come from its CIDR.
type VSwitch struct {
	ID   string `yaml:"id"`
	Zone string `yaml:"zone"`
	CIDR string `yaml:"cidr"`
}

// SecurityGroup is a set of ingress rules.
type SecurityGroup struct {
	ID    string `yaml:"id"`
	Rules []Rule `yaml:"rules"`
}

// Rule is an ingress rule: protocol tcp|udp|icmp|all, port_range "A/B"
// (1/65535 or -1/-1 for all), source_cidr, policy accept|drop,
// priority 1..100 (default 1).
type Rule struct {
	Protocol   string `yaml:"protocol"`
	PortRange  string `yaml:"port_range"`
	SourceCIDR string `yaml:"source_cidr"`
	Policy     string `yaml:"policy"`
	Priority   int    `yaml:"priority"`
}

// LoadBalancer is a CLB in a provider's vSwitch.
type LoadBalancer struct {
	ID          string       `yaml:"id"`
	Owner       string       `yaml:"owner"`
	VSwitch     string       `yaml:"vswitch"`
	Zone        string       `yaml:"zone"`
	BackupZone  string       `yaml:"backup_zone"`
	PrivateLink bool         `yaml:"privatelink"`
	Listeners   []Listener   `yaml:"listeners"`
	HealthCheck *HealthCheck `yaml:"health_check"`
}

// HealthCheck overrides the data plane's TCP health-check defaults.
type HealthCheck struct {
	Interval time.Duration `yaml:"interval"` // e.g. 2s
	Timeout  time.Duration `yaml:"timeout"`
	Rise     int           `yaml:"rise"`
	Fall     int           `yaml:"fall"`
}

// Listener is a CLB frontend port and its backends.
type Listener struct {
	Port     int       `yaml:"port"`
	Backends []Backend `yaml:"backends"`
}

// Backend is a backend server. Builtin "http" asks eplink to run the demo
// HTTP server at Address, answering "Hello World ! This is <Name>.".
type Backend struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	Weight  int    `yaml:"weight"`
	Builtin string `yaml:"builtin"`
}

// Service declares an endpoint service to create (as its owner would
// through CreateVpcEndpointService).
type Service struct {
	// ID is a fixed id for the service, so that endpoints below and scripts
	// can name it; it must look like epsrv-[a-z0-9]+.
	ID                  string   `yaml:"id"`
	Owner               string   `yaml:"owner"`
	Description         string   `yaml:"description"`
	Resources           []string `yaml:"resources"` // CLB ids
	AutoAcceptEnabled   bool     `yaml:"auto_accept"`
	ZoneAffinityEnabled bool     `yaml:"zone_affinity"`
	ConnectBandwidth    int      `yaml:"connect_bandwidth"`
	Whitelist           []string `yaml:"whitelist"` // account UIDs or "*"
}

// Endpoint declares an endpoint to create (as its owner would through
// CreateVpcEndpoint), and whether the provider accepts it.
type Endpoint struct {
	ID             string         `yaml:"id"` // fixed id, ep-[a-z0-9]+
	Owner          string         `yaml:"owner"`
	Name           string         `yaml:"name"`
	Service        string         `yaml:"service"`
	VPC            string         `yaml:"vpc"`
	SecurityGroups []string       `yaml:"security_groups"`
	Zones          []EndpointZone `yaml:"zones"`
	Accept         bool           `yaml:"accept"`
}

// EndpointZone is one zone (ENI) of a declared endpoint.
type EndpointZone struct {
	Zone    string `yaml:"zone"`
	VSwitch string `yaml:"vswitch"`
	IP      string `yaml:"ip"`
}
