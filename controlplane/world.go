package controlplane

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
)

// world is what the lab declares: accounts, networks and CLBs. It is
// rebuilt from the lab at every start and never changes while running.
type world struct {
	region string
	zones  []string
	zoneOK map[string]bool
	bw     lab.Bandwidth // with defaults applied

	keys      map[string]accessKey // by AccessKey id
	accounts  map[string]bool      // by UID
	closed    map[string]bool      // UIDs declared product_open: false
	vpcs      map[string]*vpcInfo
	vswitches map[string]*vswInfo
	sgs       map[string]*sgInfo
	clbs      map[string]*clbInfo

	// Immutable snapshot parts shared by every published Snapshot.
	snapVSwitches map[string]*snapshot.VSwitch
	snapSGs       map[string]*snapshot.SecurityGroup
	snapLBs       map[string]*snapshot.LoadBalancer
}

type accessKey struct{ secret, uid string }

type vpcInfo struct {
	id, owner string
	cidr      netip.Prefix
}

type vswInfo struct {
	id, vpc, owner, zone string
	cidr                 netip.Prefix
	// reserved are addresses ENIs may not take, and why: on the netns
	// front end the instances', the CLBs' and the cloud's reserved ones.
	reserved map[netip.Addr]string
}

type sgInfo struct {
	id, vpc, owner string
}

type clbInfo struct {
	lab.LoadBalancer
	vpc string
}

// Bandwidth defaults (guide): default 1024 Mbps, adjustable 100–1024.
const (
	defaultBandwidth = 1024
	defaultMinBW     = 100
	defaultMaxBW     = 1024
)

func newWorld(l *lab.Lab) (*world, error) {
	if l == nil {
		return nil, fmt.Errorf("controlplane: no lab")
	}
	if l.Region == "" {
		return nil, fmt.Errorf("lab: region is empty")
	}
	w := &world{
		region:        l.Region,
		zones:         append([]string(nil), l.Zones...),
		zoneOK:        map[string]bool{},
		keys:          map[string]accessKey{},
		accounts:      map[string]bool{},
		closed:        map[string]bool{},
		vpcs:          map[string]*vpcInfo{},
		vswitches:     map[string]*vswInfo{},
		sgs:           map[string]*sgInfo{},
		clbs:          map[string]*clbInfo{},
		snapVSwitches: map[string]*snapshot.VSwitch{},
		snapSGs:       map[string]*snapshot.SecurityGroup{},
		snapLBs:       map[string]*snapshot.LoadBalancer{},
	}
	sort.Strings(w.zones)
	for _, z := range l.Zones {
		w.zoneOK[z] = true
	}
	bw := l.Limits.ConnectionBandwidthMbps
	if bw.Min == 0 {
		bw.Min = defaultMinBW
	}
	if bw.Max == 0 {
		bw.Max = defaultMaxBW
		if bw.Max < bw.Min {
			bw.Max = bw.Min
		}
	}
	if bw.Default == 0 {
		bw.Default = min(max(defaultBandwidth, bw.Min), bw.Max)
	}
	if bw.Min > bw.Max || bw.Default < bw.Min || bw.Default > bw.Max {
		return nil, fmt.Errorf("lab: limits.connection_bandwidth_mbps: need min <= default <= max, got %d <= %d <= %d",
			bw.Min, bw.Default, bw.Max)
	}
	w.bw = bw
	for _, a := range l.Accounts {
		w.accounts[a.UID] = true
		if a.ProductOpen != nil && !*a.ProductOpen {
			w.closed[a.UID] = true
		}
		for _, k := range a.AccessKeys {
			w.keys[k.ID] = accessKey{secret: k.Secret, uid: a.UID}
		}
	}
	for _, v := range l.VPCs {
		p, err := netip.ParsePrefix(v.CIDR)
		if err != nil {
			return nil, fmt.Errorf("lab: vpc %s: cidr: %w", v.ID, err)
		}
		w.vpcs[v.ID] = &vpcInfo{id: v.ID, owner: v.Owner, cidr: p.Masked()}
		for _, s := range v.VSwitches {
			sp, err := netip.ParsePrefix(s.CIDR)
			if err != nil {
				return nil, fmt.Errorf("lab: vswitch %s: cidr: %w", s.ID, err)
			}
			sp = sp.Masked()
			w.vswitches[s.ID] = &vswInfo{id: s.ID, vpc: v.ID, owner: v.Owner, zone: s.Zone, cidr: sp,
				reserved: netnsReserved(l, s.ID, sp)}
			w.snapVSwitches[s.ID] = &snapshot.VSwitch{ID: s.ID, VpcID: v.ID, Zone: s.Zone, CIDR: sp}
		}
		for _, g := range v.SecurityGroups {
			w.sgs[g.ID] = &sgInfo{id: g.ID, vpc: v.ID, owner: v.Owner}
			sg := &snapshot.SecurityGroup{ID: g.ID, VpcID: v.ID}
			for i, r := range g.Rules {
				rule, err := parseRule(r)
				if err != nil {
					return nil, fmt.Errorf("lab: security group %s rule %d: %w", g.ID, i+1, err)
				}
				sg.Rules = append(sg.Rules, rule)
			}
			w.snapSGs[g.ID] = sg
		}
	}
	for _, lb := range l.LoadBalancers {
		vs := w.vswitches[lb.VSwitch]
		if vs == nil {
			return nil, fmt.Errorf("lab: load balancer %s: unknown vswitch %q", lb.ID, lb.VSwitch)
		}
		zone := lb.Zone
		if zone == "" {
			zone = vs.zone
		}
		info := &clbInfo{LoadBalancer: lb, vpc: vs.vpc}
		info.Zone = zone
		w.clbs[lb.ID] = info
		slb := &snapshot.LoadBalancer{
			ID: lb.ID, OwnerUID: lb.Owner, Zone: zone, BackupZone: lb.BackupZone,
			VpcID: vs.vpc, VSwitchID: lb.VSwitch, IP: lb.Addr(),
		}
		for _, ls := range lb.Listeners {
			sl := snapshot.Listener{Port: uint16(ls.Port)}
			for _, b := range ls.Backends {
				sl.Backends = append(sl.Backends, backendOf(l, b))
			}
			slb.Listeners = append(slb.Listeners, sl)
		}
		if hc := lb.HealthCheck; hc != nil {
			slb.Health = snapshot.HealthCheck{Interval: hc.Interval, Timeout: hc.Timeout, Rise: hc.Rise, Fall: hc.Fall}
		}
		w.snapLBs[lb.ID] = slb
	}
	return w, nil
}

// parseRule turns a lab rule into the snapshot's form.
func parseRule(r lab.Rule) (snapshot.Rule, error) {
	out := snapshot.Rule{Protocol: strings.ToLower(r.Protocol), Priority: r.Priority}
	if out.Protocol == "" {
		out.Protocol = "all"
	}
	if out.Priority == 0 {
		out.Priority = 1
	}
	switch strings.ToLower(r.Policy) {
	case "", "accept":
		out.Accept = true
	case "drop":
	default:
		return out, fmt.Errorf("policy %q: want accept or drop", r.Policy)
	}
	pr := r.PortRange
	if pr == "" || pr == "-1/-1" {
		pr = "1/65535"
	}
	a, b, ok := strings.Cut(pr, "/")
	from, err1 := strconv.ParseUint(a, 10, 16)
	to, err2 := strconv.ParseUint(b, 10, 16)
	if !ok || err1 != nil || err2 != nil || from == 0 || from > to {
		return out, fmt.Errorf("port_range %q: want A/B with 1 <= A <= B <= 65535", r.PortRange)
	}
	out.PortFrom, out.PortTo = uint16(from), uint16(to)
	src := r.SourceCIDR
	if src == "" {
		src = "0.0.0.0/0"
	}
	p, err := netip.ParsePrefix(src)
	if err != nil {
		return out, fmt.Errorf("source_cidr: %w", err)
	}
	out.SourceCIDR = p.Masked()
	return out, nil
}

// backendOf turns a lab backend into the snapshot's: an instance backend
// becomes its address and port inside its VPC.
func backendOf(l *lab.Lab, b lab.Backend) snapshot.Backend {
	out := snapshot.Backend{Name: b.Name, Address: b.Address, Weight: b.Weight}
	if b.Instance == "" {
		return out
	}
	in, _ := l.Instance(b.Instance)
	vpc, _ := l.VPCOf(in.VSwitch)
	out.Address = netip.AddrPortFrom(in.Addr(), uint16(b.Port)).String()
	out.VpcID = vpc.ID
	if out.Name == "" {
		out.Name = in.DisplayName()
	}
	return out
}

// netnsReserved returns the addresses of vSwitch vsw that ENIs may not
// take in a netns lab: its instances', its CLBs', the gateway and the
// other addresses the cloud reserves at the end of a vSwitch.
func netnsReserved(l *lab.Lab, vsw string, p netip.Prefix) map[netip.Addr]string {
	if !l.Netns() {
		return nil
	}
	r := map[netip.Addr]string{}
	if last := lab.Gateway(p).Next().Next(); p.Bits() <= 30 {
		r[lab.Gateway(p)] = "the vSwitch gateway"
		r[last.Prev()] = "reserved by the vSwitch"
	}
	for _, in := range l.Instances {
		if in.VSwitch == vsw && in.Addr().IsValid() {
			r[in.Addr()] = "in use by instance " + in.ID
		}
	}
	for _, lb := range l.LoadBalancers {
		if lb.VSwitch == vsw && lb.Addr().IsValid() {
			r[lb.Addr()] = "in use by load balancer " + lb.ID
		}
	}
	return r
}
