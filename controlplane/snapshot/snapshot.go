// Package snapshot is the contract between the control plane and its readers
// (the data plane, DNS, metrics): an immutable, versioned picture of what
// should be.
//
// The control plane builds a new *Snapshot after every committed change and
// publishes it; readers keep the latest one (atomic.Pointer) and never mutate
// it. Nothing in this package refers back to the control plane, so the data
// path can import it without reaching into the API server. It is also the
// scale-out seam: later, Snapshots can travel to data-plane nodes on other
// machines, so every field is plain data.
package snapshot

import (
	"net/netip"
	"time"
)

// Snapshot is everything the data plane and DNS need at one version.
// Maps are keyed by id. A Snapshot is never modified after it is published.
type Snapshot struct {
	// Version increases by one or more with every published snapshot.
	Version uint64
	Region  string
	// DNSZone is the PrivateLink apex the domains below end in,
	// "privatelink.aliyuncs.com" by default (no trailing dot).
	DNSZone string

	VSwitches      map[string]*VSwitch
	SecurityGroups map[string]*SecurityGroup
	LoadBalancers  map[string]*LoadBalancer
	Services       map[string]*Service
	Endpoints      map[string]*Endpoint
}

// VSwitch is a consumer or provider subnet in one zone.
type VSwitch struct {
	ID    string
	VpcID string
	Zone  string
	CIDR  netip.Prefix
}

// SecurityGroup holds ingress rules. Rules are evaluated across all groups of
// an endpoint by Priority (1 first); at equal priority Drop wins over Accept;
// no matching rule means drop.
type SecurityGroup struct {
	ID    string
	VpcID string
	Rules []Rule
}

// Rule is one ingress rule of a security group.
type Rule struct {
	Protocol   string // "tcp", "udp", "icmp" or "all"
	PortFrom   uint16 // inclusive; 1/65535 means every port
	PortTo     uint16
	SourceCIDR netip.Prefix
	Accept     bool // false = drop
	Priority   int  // 1..100, 1 is evaluated first
}

// LoadBalancer is a CLB: a PrivateLink service resource.
type LoadBalancer struct {
	ID         string
	OwnerUID   string
	Zone       string
	BackupZone string
	VpcID      string
	VSwitchID  string
	// IP is the CLB's address in its vSwitch on the netns front end: the
	// source address of its dials to instance backends. Zero on loopback.
	IP        netip.Addr
	Listeners []Listener
	Health    HealthCheck

	// ActiveZone is the zone carrying the CLB's traffic when it is not
	// Zone: BackupZone while Zone is failed (the CLB switched over). A
	// change of ActiveZone cuts the flows on the CLB, as a switch-over does.
	ActiveZone string
	// Unavailable: neither zone can carry the CLB (its primary is failed
	// and it has no usable backup); it takes no flows.
	Unavailable bool
}

// Listener maps a frontend port of a CLB to weighted backends.
type Listener struct {
	Port     uint16
	Backends []Backend
}

// Backend is one backend server of a listener.
type Backend struct {
	Name    string // e.g. "ECS01"
	Address string // host:port
	// VpcID is set for an instance backend (netns front end): Address is
	// then inside that VPC, reached through its network from the CLB's IP,
	// not from the host.
	VpcID  string
	Weight int // 0..100; 0 gets no new flows
}

// HealthCheck are the TCP health-check settings of a CLB. Zero values mean
// the data plane's defaults (2s, rise 2, fall 3).
type HealthCheck struct {
	Interval time.Duration
	Timeout  time.Duration
	Rise     int
	Fall     int
}

// Service is an endpoint service.
type Service struct {
	ID                  string
	OwnerUID            string
	Domain              string // <epsrv-id>.<region>.<DNSZone>
	ZoneAffinityEnabled bool
	Status              string // ServiceStatus
}

// Connection states (ConnectionStatus) and zone states (ZoneStatus) as the
// API names them.
const (
	ConnConnected    = "Connected"
	ZoneConnected    = "Connected"
	ZoneMigrating    = "Migrating"
	ZoneMigrated     = "Migrated"
	ZoneDisconnected = "Disconnected"
)

// Endpoint is a consumer's interface endpoint together with its endpoint
// connection (there is exactly one per endpoint).
type Endpoint struct {
	ID       string
	OwnerUID string
	VpcID    string
	// ServiceID of the service it connects to.
	ServiceID string
	// Domain is the endpoint domain: <ep-id>.<epsrv-id>.<region>.<DNSZone>.
	Domain string
	// ConnectionStatus is the endpoint connection's state.
	ConnectionStatus string
	// BandwidthMbps is the endpoint connection's cap, shared by all its flows
	// and applied per direction.
	BandwidthMbps int
	// SecurityGroupIDs are the groups every ENI of the endpoint carries.
	SecurityGroupIDs []string
	Zones            []*EndpointZone
}

// EndpointZone is one zone of an endpoint (and its zone connection).
type EndpointZone struct {
	ZoneID    string
	Status    string // ZoneStatus
	VSwitchID string
	// Domain is the zone domain:
	// <ep-id>-<zone-id>.<epsrv-id>.<region>.<DNSZone>.
	Domain string
	// ENI is the zone's current ENI: new flows to its IP go to ResourceID.
	ENI ENI
	// ResourceID is the CLB assigned to the zone ("" while none is).
	ResourceID string
	// Replaced is set between a Graceful replacement and the cleanup of the
	// replaced resource: the old ENI still carries flows to the old CLB
	// (including new flows from clients that cached its address) but DNS no
	// longer answers with it.
	Replaced *Binding
	// Failed is set by fault injection: DNS stops answering with this zone.
	Failed bool
}

// ENI is an elastic network interface: an id and its private address.
type ENI struct {
	ID string
	IP netip.Addr
}

// Binding is an ENI bound to a resource.
type Binding struct {
	ENI        ENI
	ResourceID string
}

// CarriesTraffic reports whether the zone's current ENI accepts new flows:
// the endpoint connection is Connected and the zone is Connected, Migrating
// or Migrated, with a resource assigned.
func (z *EndpointZone) CarriesTraffic(e *Endpoint) bool {
	if e.ConnectionStatus != ConnConnected || z.ResourceID == "" {
		return false
	}
	switch z.Status {
	case ZoneConnected, ZoneMigrating, ZoneMigrated:
		return true
	}
	return false
}

// Empty returns a valid snapshot with nothing in it.
func Empty() *Snapshot {
	return &Snapshot{
		DNSZone:        "privatelink.aliyuncs.com",
		VSwitches:      map[string]*VSwitch{},
		SecurityGroups: map[string]*SecurityGroup{},
		LoadBalancers:  map[string]*LoadBalancer{},
		Services:       map[string]*Service{},
		Endpoints:      map[string]*Endpoint{},
	}
}
