package lab

import (
	"fmt"
	"net/netip"
	"regexp"
)

// Front ends (Lab.Network).
const (
	NetworkLoopback = "loopback"
	NetworkNetns    = "netns"
)

// VPCResolver is the address every VPC's DNS resolver answers on, as in the
// cloud; a netns lab's instances have it in resolv.conf.
var VPCResolver = netip.MustParseAddr("100.100.2.136")

// Instance is an ECS host of a netns lab: a network namespace whose eth0 is
// in VSwitch. IP, when left out, is allocated from the vSwitch (from the top
// down, clear of the ENIs the control plane picks from the bottom up).
// Builtin "http" runs the demo server inside it on port 80, answering
// "Hello World ! This is <Name>." (Name defaults to the id).
type Instance struct {
	ID      string `yaml:"id"`
	Name    string `yaml:"name"`
	VSwitch string `yaml:"vswitch"`
	IP      string `yaml:"ip"`
	Builtin string `yaml:"builtin"`
}

// Addr is the instance's address (allocated if the file left it out).
func (in Instance) Addr() netip.Addr {
	a, _ := netip.ParseAddr(in.IP)
	return a
}

// DisplayName is the name the builtin server answers with.
func (in Instance) DisplayName() string {
	if in.Name != "" {
		return in.Name
	}
	return in.ID
}

// Addr is the CLB's address in its vSwitch; zero in a loopback lab.
func (lb LoadBalancer) Addr() netip.Addr {
	a, _ := netip.ParseAddr(lb.IP)
	return a
}

// Netns reports whether the lab uses the netns front end.
func (l *Lab) Netns() bool { return l.Network == NetworkNetns }

// Instance returns the instance with the given id.
func (l *Lab) Instance(id string) (Instance, bool) {
	for _, in := range l.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return Instance{}, false
}

// Gateway is a vSwitch's gateway address, as in the cloud: the last address
// minus two (x.x.x.253 in a /24).
func Gateway(p netip.Prefix) netip.Addr {
	return lastAddr(p).Prev().Prev()
}

// ReservedAddr says why ip may not be given to an instance, a CLB or an ENI
// in a netns lab's vSwitch p ("" if it may): the cloud reserves the first
// address and the last three (the gateway is the last but two).
func ReservedAddr(p netip.Prefix, ip netip.Addr) string {
	switch {
	case !p.Contains(ip):
		return "outside the vSwitch CIDR " + p.String()
	case ip == p.Addr():
		return "the network address"
	case ip == Gateway(p):
		return "the vSwitch gateway"
	case ip.Compare(Gateway(p)) > 0:
		return "reserved (the last three addresses of a vSwitch are)"
	}
	return ""
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// allocateNetns gives the instances and CLBs of a netns lab that have no
// address one: the highest free address of their vSwitch below the reserved
// ones. Addresses already given (instances, CLBs, ENIs) are never reused.
// Unknown vSwitches are left to the checker.
func allocateNetns(l *Lab, ix *index) {
	if !l.Netns() {
		return
	}
	used := map[string]map[netip.Addr]bool{} // vSwitch → taken
	take := func(vsw string, ip netip.Addr) {
		if !ip.IsValid() {
			return
		}
		if used[vsw] == nil {
			used[vsw] = map[netip.Addr]bool{}
		}
		used[vsw][ip] = true
	}
	for _, in := range l.Instances {
		take(in.VSwitch, in.Addr())
	}
	for _, lb := range l.LoadBalancers {
		take(lb.VSwitch, lb.Addr())
	}
	for _, e := range l.Endpoints {
		for _, z := range e.Zones {
			take(z.VSwitch, z.Addr())
		}
	}
	next := func(vsw string) string {
		ref, ok := ix.vswitches[vsw]
		if !ok {
			return ""
		}
		p, err := netip.ParsePrefix(ref.vsw.CIDR)
		if err != nil || !p.Addr().Is4() || p.Bits() > 29 {
			return ""
		}
		for ip := Gateway(p).Prev(); p.Contains(ip) && ip != p.Addr(); ip = ip.Prev() {
			if !used[vsw][ip] {
				take(vsw, ip)
				return ip.String()
			}
		}
		return ""
	}
	for i := range l.Instances {
		if in := &l.Instances[i]; in.IP == "" {
			in.IP = next(in.VSwitch)
		}
	}
	for i := range l.LoadBalancers {
		if lb := &l.LoadBalancers[i]; lb.IP == "" {
			lb.IP = next(lb.VSwitch)
		}
	}
}

var instanceIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// network checks the lab's front end and what it asks of the VPCs.
func (c *checker) networkMode(l *Lab) {
	switch l.Network {
	case "", NetworkLoopback, NetworkNetns:
	default:
		c.errorf("network", "%q is not a front end (known: loopback, netns)", l.Network)
		return
	}
	if !l.Netns() {
		if len(l.Instances) > 0 {
			c.errorf("instances", "instances need network: netns (the loopback front end has no hosts to put them in)")
		}
		return
	}
	loop := netip.MustParsePrefix("127.0.0.0/8")
	for i, v := range l.VPCs {
		p, err := netip.ParsePrefix(v.CIDR)
		if err != nil || !p.Addr().Is4() {
			continue // reported by network()
		}
		switch {
		case p.Overlaps(loop):
			c.errorf(fmt.Sprintf("vpcs[%d].cidr", i), "%s is loopback; a netns lab's VPCs use private ranges such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", p)
		case p.Contains(VPCResolver):
			c.errorf(fmt.Sprintf("vpcs[%d].cidr", i), "%s holds %s, the VPC resolver's address", p, VPCResolver)
		}
	}
}

// instance checks one instance of a netns lab.
func (c *checker) instance(in *Instance, path string, seenIPs map[ipKey]string) {
	switch {
	case in.ID == "":
		c.errorf(path+".id", "required, e.g. ecs01")
	case !instanceIDRE.MatchString(in.ID):
		c.errorf(path+".id", "%q is not an instance id: a lower-case letter, then up to 31 lower-case letters, digits or -", in.ID)
	default:
		if first, dup := c.ids[in.ID]; dup {
			c.errorf(path+".id", "id %s is already used at %s", in.ID, c.where(first))
		} else {
			c.ids[in.ID] = path + ".id"
		}
	}
	if in.Name != "" {
		if err := checkName(in.Name); err != nil {
			c.errorf(path+".name", "%v", err)
		}
	}
	switch in.Builtin {
	case "", "http":
	default:
		c.errorf(path+".builtin", "%q is not a builtin server (known: http)", in.Builtin)
	}
	vsw, vpc, ok := c.vswitchRef(path+".vswitch", in.VSwitch)
	if !ok {
		return
	}
	c.netnsAddr(path+".ip", in.IP, vsw, vpc, seenIPs, true)
}

// netnsAddr checks an address given in a netns lab's vSwitch: parseable,
// inside, not reserved, not given twice in the VPC.
func (c *checker) netnsAddr(path, s string, vsw *VSwitch, vpc *VPC, seen map[ipKey]string, required bool) {
	if s == "" {
		if required {
			c.errorf(path, "no free address left in vswitch %s", vsw.ID)
		}
		return
	}
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is4() {
		c.errorf(path, "%q is not an IPv4 address", s)
		return
	}
	p, err := netip.ParsePrefix(vsw.CIDR)
	if err != nil {
		return
	}
	if why := ReservedAddr(p, ip); why != "" {
		c.errorf(path, "%s is %s of vswitch %s", ip, why, vsw.ID)
		return
	}
	k := ipKey{vpc.ID, ip}
	if first, dup := seen[k]; dup {
		c.errorf(path, "%s is already used in %s at %s", ip, vpc.ID, c.where(first))
		return
	}
	seen[k] = path
}

// ipKey is an address within a VPC: a netns lab's VPCs may overlap.
type ipKey struct {
	vpc string
	ip  netip.Addr
}

// instanceBackend checks a backend that names an instance.
func (c *checker) instanceBackend(b Backend, bp string, lbVPC *VPC) {
	if !c.l.Netns() {
		c.errorf(bp+".instance", "instance backends need network: netns; give address: HOST:PORT instead")
		return
	}
	if b.Address != "" {
		c.errorf(bp, "give either address or instance, not both")
	}
	if b.Port < 1 || b.Port > 65535 {
		c.errorf(bp+".port", "%d is not a port 1..65535 (required with instance)", b.Port)
	}
	if b.Builtin != "" {
		c.errorf(bp+".builtin", "put builtin: http on the instance %s, which runs the server", b.Instance)
	}
	in, ok := c.l.Instance(b.Instance)
	if !ok {
		c.errorf(bp+".instance", "instance %q is not declared in instances", b.Instance)
		return
	}
	if ref, ok := c.ix.vswitches[in.VSwitch]; ok && lbVPC != nil && ref.vpc.ID != lbVPC.ID {
		c.errorf(bp+".instance", "%s is in %s; a CLB reaches only instances of its own VPC %s", in.ID, ref.vpc.ID, lbVPC.ID)
	}
}
