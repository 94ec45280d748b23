// Package lab reads the lab file: the world outside PrivateLink (accounts,
// VPCs, vSwitches, security groups, CLBs and their backends), and optionally
// services and endpoints to create through the API's own code paths.
//
// Parsing is strict: an unknown key, a duplicate id, a CIDR outside its VPC,
// an unknown zone… is an error that names the field and its line:
//
//	lab.yaml:18: vpcs[0].vswitches[1].cidr: 127.11.0.0/24 is outside the VPC's CIDR 127.10.0.0/16
//
// Every problem is reported at once. The work is split by stage:
//
//	Load, Parse  parse.go     file → one yaml.Node tree; errors are *Error
//	decoder      decode.go    tree → schema structs, strictly, remembering
//	                          the line of every field path
//	defaults     validate.go  weight 100, priority 1, bandwidth 1024/100/1024…
//	checker      validate.go  the static rules (the control plane applies
//	                          services and endpoints through its API code
//	                          and checks the semantic rules again)
//
// Labs built in Go (Demo, tests) go through the same rules with Validate.
package lab

import (
	"fmt"
	"net/netip"
	"time"
)

// Lab is a parsed and validated lab file.
type Lab struct {
	Region string   `yaml:"region"`
	Zones  []string `yaml:"zones"`
	// Network is the front end: "loopback" (the default, ENIs are kernel
	// sockets in 127.0.0.0/8) or "netns" (every VPC a userspace network
	// stack, every instance a network namespace). See netns.go.
	Network       string         `yaml:"network"`
	Limits        Limits         `yaml:"limits"`
	Accounts      []Account      `yaml:"accounts"`
	VPCs          []VPC          `yaml:"vpcs"`
	Instances     []Instance     `yaml:"instances"`
	LoadBalancers []LoadBalancer `yaml:"load_balancers"`
	Services      []Service      `yaml:"services"`
	Endpoints     []Endpoint     `yaml:"endpoints"`

	// src locates fields in the file the lab was parsed from; nil for a
	// lab built in Go.
	src *source
}

// source is where a parsed lab came from: the file and each field's line.
type source struct {
	file string
	line func(path string) int
}

// Errorf returns an *Error about the field at path (vpcs[0].vswitches[1].cidr),
// located in the lab's file when it was parsed from one, so that checks
// made outside this package read like the lab's own: file:line: path: msg.
func (l *Lab) Errorf(path, format string, args ...any) error {
	e := &Error{File: "lab", Path: path, Msg: fmt.Sprintf(format, args...)}
	if l.src != nil {
		e.File, e.Line = l.src.file, l.src.line(path)
	}
	return e
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
	// ProductOpen false declares an account that has not activated
	// PrivateLink: CheckProductOpen says false and its calls fail with
	// NeedOpenProduct until it calls OpenPrivateLinkService. Default true.
	ProductOpen *bool `yaml:"product_open"`
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
//
// Parse normalises a rule: protocol and policy in lower case, a missing
// policy becomes accept (the cloud's default), a missing priority 1, and a
// missing port_range of an icmp or all rule -1/-1. Parsed gives the typed form.
type Rule struct {
	Protocol   string `yaml:"protocol"`
	PortRange  string `yaml:"port_range"`
	SourceCIDR string `yaml:"source_cidr"`
	Policy     string `yaml:"policy"`
	Priority   int    `yaml:"priority"`
}

// LoadBalancer is a CLB in a provider's vSwitch. Zone, when absent from the
// file, is the vSwitch's zone.
type LoadBalancer struct {
	ID         string `yaml:"id"`
	Owner      string `yaml:"owner"`
	VSwitch    string `yaml:"vswitch"`
	Zone       string `yaml:"zone"`
	BackupZone string `yaml:"backup_zone"`
	// IP is the CLB's address in its vSwitch (netns: the source address
	// instance backends see); allocated when left out.
	IP          string       `yaml:"ip"`
	PrivateLink bool         `yaml:"privatelink"`
	Listeners   []Listener   `yaml:"listeners"`
	HealthCheck *HealthCheck `yaml:"health_check"`
}

// HealthCheck overrides the data plane's TCP health-check defaults; a zero
// field keeps the default.
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
// Weight is 0..100; a weight absent from the file is 100 (0 is a real
// weight: the backend takes no new flows).
//
// In a netns lab a backend may be an instance of the CLB's VPC instead of an
// address: {instance: ecs01, port: 80}. The CLB reaches it through the VPC's
// network, from its own address.
type Backend struct {
	Name     string `yaml:"name"`
	Address  string `yaml:"address"`
	Instance string `yaml:"instance"`
	Port     int    `yaml:"port"`
	Weight   int    `yaml:"weight"`
	Builtin  string `yaml:"builtin"`
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

// EndpointZone is one zone (ENI) of a declared endpoint. Zone, when absent
// from the file, is the vSwitch's zone; IP, when empty, is picked from the
// vSwitch by the control plane.
type EndpointZone struct {
	Zone    string `yaml:"zone"`
	VSwitch string `yaml:"vswitch"`
	IP      string `yaml:"ip"`
}

// Lookups. A lab is small (tens of resources) and may be built in Go as well
// as parsed, so they scan the slices rather than keep indexes that a
// hand-built Lab would lack.

// Account returns the account with the given UID.
func (l *Lab) Account(uid string) (Account, bool) {
	for _, a := range l.Accounts {
		if a.UID == uid {
			return a, true
		}
	}
	return Account{}, false
}

// AccountByAccessKey returns the account that holds AccessKey id.
func (l *Lab) AccountByAccessKey(id string) (Account, bool) {
	for _, a := range l.Accounts {
		if _, ok := a.Secret(id); ok {
			return a, true
		}
	}
	return Account{}, false
}

// Secret returns the secret of the account's AccessKey id.
func (a Account) Secret(id string) (string, bool) {
	for _, k := range a.AccessKeys {
		if k.ID == id {
			return k.Secret, true
		}
	}
	return "", false
}

// VPC returns the VPC with the given id.
func (l *Lab) VPC(id string) (VPC, bool) {
	for _, v := range l.VPCs {
		if v.ID == id {
			return v, true
		}
	}
	return VPC{}, false
}

// VSwitch returns the vSwitch with the given id, in whichever VPC.
func (l *Lab) VSwitch(id string) (VSwitch, bool) {
	v, ok := l.VPCOf(id)
	if !ok {
		return VSwitch{}, false
	}
	for _, vsw := range v.VSwitches {
		if vsw.ID == id {
			return vsw, true
		}
	}
	return VSwitch{}, false
}

// VPCOf returns the VPC holding vSwitch vswID.
func (l *Lab) VPCOf(vswID string) (VPC, bool) {
	for _, v := range l.VPCs {
		for _, vsw := range v.VSwitches {
			if vsw.ID == vswID {
				return v, true
			}
		}
	}
	return VPC{}, false
}

// SecurityGroup returns the security group with the given id and its VPC.
func (l *Lab) SecurityGroup(id string) (SecurityGroup, VPC, bool) {
	for _, v := range l.VPCs {
		for _, sg := range v.SecurityGroups {
			if sg.ID == id {
				return sg, v, true
			}
		}
	}
	return SecurityGroup{}, VPC{}, false
}

// LoadBalancer returns the CLB with the given id.
func (l *Lab) LoadBalancer(id string) (LoadBalancer, bool) {
	for _, lb := range l.LoadBalancers {
		if lb.ID == id {
			return lb, true
		}
	}
	return LoadBalancer{}, false
}

// Service returns the declared service with the given id.
func (l *Lab) Service(id string) (Service, bool) {
	for _, s := range l.Services {
		if s.ID == id {
			return s, true
		}
	}
	return Service{}, false
}

// Typed accessors. Values of a parsed (or validated) lab always parse, so
// these return the zero value only for a lab that was never checked.

// Prefix is the VPC's CIDR block.
func (v VPC) Prefix() netip.Prefix {
	p, _ := netip.ParsePrefix(v.CIDR)
	return p
}

// Prefix is the vSwitch's CIDR block, where its ENI addresses come from.
func (s VSwitch) Prefix() netip.Prefix {
	p, _ := netip.ParsePrefix(s.CIDR)
	return p
}

// Addr is the fixed ENI address asked for, or the zero Addr if none was.
func (z EndpointZone) Addr() netip.Addr {
	a, _ := netip.ParseAddr(z.IP)
	return a
}

// ParsedRules returns the group's rules parsed, in file order. Rules of a parsed
// lab always parse; a rule that does not is left out.
func (g SecurityGroup) ParsedRules() []ParsedRule {
	out := make([]ParsedRule, 0, len(g.Rules))
	for _, r := range g.Rules {
		if pr, err := r.Parsed(); err == nil {
			out = append(out, pr)
		}
	}
	return out
}
