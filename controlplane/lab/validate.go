package lab

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Defaults of the connection bandwidth rules, from the product guide.
const (
	DefaultBandwidthMbps = 1024
	MinBandwidthMbps     = 100
	MaxBandwidthMbps     = 1024
)

var (
	regionRE = regexp.MustCompile(`^[a-z]{2,}(-[a-z0-9]+)+$`)
	uidRE    = regexp.MustCompile(`^[0-9]{16}$`)
	idTailRE = regexp.MustCompile(`^[a-z0-9-]+$`)
)

// Validate fills in the documented defaults, as Parse does, and checks a lab
// built in Go (Demo, tests) with the rules Parse applies to a file. Its errors
// have paths but no lines; a zero Backend.Weight counts as a real 0.
func (l *Lab) Validate() error {
	errs := &errorList{file: "lab"}
	applyDefaults(l, nil)
	c := &checker{errs: errs}
	c.lab(l)
	return errs.err()
}

// applyDefaults fills what the file may leave out. has reports whether the
// file gave a value at a field path; nil means "every field was given".
func applyDefaults(l *Lab, d *decoder) {
	has := func(string) bool { return true }
	if d != nil {
		has = d.has
	}
	bw := &l.Limits.ConnectionBandwidthMbps
	if bw.Default == 0 {
		bw.Default = DefaultBandwidthMbps
	}
	if bw.Min == 0 {
		bw.Min = MinBandwidthMbps
	}
	if bw.Max == 0 {
		bw.Max = MaxBandwidthMbps
	}
	for i := range l.VPCs {
		for j := range l.VPCs[i].SecurityGroups {
			for k := range l.VPCs[i].SecurityGroups[j].Rules {
				r := &l.VPCs[i].SecurityGroups[j].Rules[k]
				r.Protocol = strings.ToLower(r.Protocol)
				r.Policy = strings.ToLower(r.Policy)
				if r.Policy == "" {
					r.Policy = "accept"
				}
				if r.Priority == 0 {
					r.Priority = 1
				}
				if r.PortRange == "" && (r.Protocol == "icmp" || r.Protocol == "all") {
					r.PortRange = "-1/-1"
				}
			}
		}
	}
	ix := newIndex(l)
	allocateNetns(l, ix)
	for i := range l.LoadBalancers {
		lb := &l.LoadBalancers[i]
		if ref, ok := ix.vswitches[lb.VSwitch]; ok && lb.Zone == "" {
			lb.Zone = ref.vsw.Zone
		}
		for j := range lb.Listeners {
			for k := range lb.Listeners[j].Backends {
				path := fmt.Sprintf("load_balancers[%d].listeners[%d].backends[%d].weight", i, j, k)
				if !has(path) {
					lb.Listeners[j].Backends[k].Weight = 100
				}
			}
		}
	}
	for i := range l.Endpoints {
		for j := range l.Endpoints[i].Zones {
			z := &l.Endpoints[i].Zones[j]
			if ref, ok := ix.vswitches[z.VSwitch]; ok && z.Zone == "" {
				z.Zone = ref.vsw.Zone
			}
		}
	}
}

// checker applies the static rules of a lab and records every violation.
type checker struct {
	errs *errorList
	line func(path string) int  // nil: no lines (a lab built in Go)
	skip func(path string) bool // nil: report everything
	has  func(path string) bool // nil: only non-zero values count as given

	l        *Lab
	ix       *index
	zones    map[string]bool
	accounts map[string]bool
	ids      map[string]string    // id → path where it was declared
	ips      map[ipKey]string     // ENI, instance and CLB addresses; vpc "" in a loopback lab
	builtins map[string]builtinAt // builtin backend address → its first declaration
}

// builtinAt is where a builtin backend was first declared, and its name:
// one server on an address answers with one name.
type builtinAt struct{ name, path string }

func (c *checker) errorf(path, format string, args ...any) {
	if c.skip != nil && c.skip(path) {
		return
	}
	c.errs.add(c.lineOf(path), path, fmt.Sprintf(format, args...))
}

func (c *checker) lineOf(path string) int {
	if c.line == nil {
		return 0
	}
	return c.line(path)
}

// where names a path for an error message about another place.
func (c *checker) where(path string) string {
	if n := c.lineOf(path); n > 0 {
		return fmt.Sprintf("%s, line %d", path, n)
	}
	return path
}

func (c *checker) given(path string, zero bool) bool {
	if c.has == nil {
		return !zero
	}
	return c.has(path)
}

func (c *checker) lab(l *Lab) {
	c.l = l
	c.ix = newIndex(l)
	c.zones = make(map[string]bool)
	c.accounts = make(map[string]bool)
	c.ids = make(map[string]string)
	c.ips = make(map[ipKey]string)

	c.region(l)
	c.networkMode(l)
	c.limits(l.Limits.ConnectionBandwidthMbps)
	c.accountList(l.Accounts)
	for i := range l.VPCs {
		c.vpc(&l.VPCs[i], fmt.Sprintf("vpcs[%d]", i))
	}
	c.vswitchOverlaps(l)
	if l.Netns() {
		for i := range l.Instances {
			c.instance(&l.Instances[i], fmt.Sprintf("instances[%d]", i), c.ips)
		}
	}
	for i := range l.LoadBalancers {
		c.loadBalancer(&l.LoadBalancers[i], fmt.Sprintf("load_balancers[%d]", i))
	}
	for i := range l.Services {
		c.service(&l.Services[i], fmt.Sprintf("services[%d]", i))
	}
	for i := range l.Endpoints {
		c.endpoint(&l.Endpoints[i], fmt.Sprintf("endpoints[%d]", i))
	}
}

func (c *checker) region(l *Lab) {
	switch {
	case l.Region == "":
		c.errorf("region", "required, e.g. cn-hangzhou")
	case !regionRE.MatchString(l.Region):
		c.errorf("region", "%q is not a region id such as cn-hangzhou", l.Region)
	}
	if len(l.Zones) == 0 {
		c.errorf("zones", "at least one zone is required, e.g. [%s-h]", orExample(l.Region))
	}
	regionOK := regionRE.MatchString(l.Region)
	for i, z := range l.Zones {
		path := fmt.Sprintf("zones[%d]", i)
		switch {
		case c.zones[z]:
			c.errorf(path, "zone %s listed twice", z)
		case regionOK && !c.zoneForm(z):
			// Judged only against a good region: one typo, one error.
			c.errorf(path, "%q is not a zone of region %s: expected %s-<letter>", z, l.Region, l.Region)
		}
		// Declared, even if malformed: references to it are not wrong too.
		c.zones[z] = true
	}
}

func orExample(region string) string {
	if region == "" {
		return "cn-hangzhou"
	}
	return region
}

// zoneForm reports whether z is "<region>-<letter>".
func (c *checker) zoneForm(z string) bool {
	letter, ok := strings.CutPrefix(z, c.l.Region+"-")
	return ok && len(letter) == 1 && letter[0] >= 'a' && letter[0] <= 'z'
}

// zoneRef checks a reference to a zone of the lab.
func (c *checker) zoneRef(path, z string) bool {
	if z == "" {
		c.errorf(path, "required")
		return false
	}
	if !c.zones[z] {
		if len(c.l.Zones) <= 8 { // a list worth reading
			c.errorf(path, "zone %s is not one of the lab's zones %v", z, c.l.Zones)
		} else {
			c.errorf(path, "zone %s is not one of the lab's zones", z)
		}
		return false
	}
	return true
}

func (c *checker) limits(bw Bandwidth) {
	const p = "limits.connection_bandwidth_mbps"
	ok := true
	for _, f := range []struct {
		key string
		v   int
	}{{"default", bw.Default}, {"min", bw.Min}, {"max", bw.Max}} {
		if f.v <= 0 {
			c.errorf(p+"."+f.key, "must be positive, got %d", f.v)
			ok = false
		}
	}
	if ok && (bw.Min > bw.Default || bw.Default > bw.Max) {
		c.errorf(p, "need min ≤ default ≤ max, got min %d, default %d, max %d (absent fields are %d/%d/%d)",
			bw.Min, bw.Default, bw.Max, MinBandwidthMbps, DefaultBandwidthMbps, MaxBandwidthMbps)
	}
}

func (c *checker) accountList(accounts []Account) {
	if len(accounts) == 0 {
		c.errorf("accounts", "at least one account is required")
	}
	keys := make(map[string]string) // AccessKey id → path
	for i, a := range accounts {
		path := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.UID == "":
			c.errorf(path+".uid", "required: the account's 16-digit UID")
		case !uidRE.MatchString(a.UID):
			c.errorf(path+".uid", "%q is not a 16-digit account UID", a.UID)
		case c.accounts[a.UID]:
			c.errorf(path+".uid", "account %s declared twice", a.UID)
		}
		c.accounts[a.UID] = true
		for j, k := range a.AccessKeys {
			kp := fmt.Sprintf("%s.access_keys[%d]", path, j)
			switch {
			case k.ID == "":
				c.errorf(kp+".id", "required")
			case strings.ContainsFunc(k.ID, unicode.IsSpace):
				c.errorf(kp+".id", "AccessKey id %q contains white space", k.ID)
			case keys[k.ID] != "":
				c.errorf(kp+".id", "AccessKey id %s is already used at %s", k.ID, c.where(keys[k.ID]))
			default:
				keys[k.ID] = kp + ".id"
			}
			if k.Secret == "" {
				c.errorf(kp+".secret", "required")
			}
		}
	}
}

// id checks a resource id's form and that no other resource has it.
func (c *checker) id(path, id, prefix string) {
	tail, ok := strings.CutPrefix(id, prefix)
	switch {
	case id == "":
		c.errorf(path, "required, e.g. %sexample1", prefix)
		return
	case !ok || !idTailRE.MatchString(tail):
		c.errorf(path, "%q is not an id of the form %s[a-z0-9-]+", id, prefix)
		return
	}
	if first, dup := c.ids[id]; dup {
		c.errorf(path, "id %s is already used at %s", id, c.where(first))
		return
	}
	c.ids[id] = path
}

// owner checks a reference to a declared account.
func (c *checker) owner(path, uid string) {
	switch {
	case uid == "":
		c.errorf(path, "required: the UID of the owning account")
	case !c.accounts[uid]:
		c.errorf(path, "account %q is not declared in accounts", uid)
	}
}

func (c *checker) vpc(v *VPC, path string) {
	c.id(path+".id", v.ID, "vpc-")
	c.owner(path+".owner", v.Owner)
	vpcNet, vpcOK := c.network(path+".cidr", v.CIDR)
	for i, vsw := range v.VSwitches {
		vp := fmt.Sprintf("%s.vswitches[%d]", path, i)
		c.id(vp+".id", vsw.ID, "vsw-")
		c.zoneRef(vp+".zone", vsw.Zone)
		p, ok := c.network(vp+".cidr", vsw.CIDR)
		if ok && vpcOK && (!vpcNet.Contains(p.Addr()) || p.Bits() < vpcNet.Bits()) {
			c.errorf(vp+".cidr", "%s is outside the VPC's CIDR %s", p, vpcNet)
		}
	}
	for i, sg := range v.SecurityGroups {
		sp := fmt.Sprintf("%s.security_groups[%d]", path, i)
		c.id(sp+".id", sg.ID, "sg-")
		for j, r := range sg.Rules {
			c.rule(r, fmt.Sprintf("%s.rules[%d]", sp, j))
		}
	}
}

// network checks a VPC or vSwitch CIDR: IPv4, and written as the network.
func (c *checker) network(path, s string) (netip.Prefix, bool) {
	if s == "" {
		c.errorf(path, "required, e.g. 127.10.0.0/16")
		return netip.Prefix{}, false
	}
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		c.errorf(path, "%q is not a CIDR block such as 127.10.0.0/16", s)
		return p, false
	case !p.Addr().Is4():
		c.errorf(path, "%s is not an IPv4 CIDR block", s)
		return p, false
	case p.Masked() != p:
		c.errorf(path, "%s has host bits set; did you mean %s?", s, p.Masked())
		return p, false
	}
	return p, true
}

// vswitchOverlaps checks that no two vSwitches of the lab share an address:
// the loopback front end serves every ENI address on one host, so even
// vSwitches of different VPCs must not overlap.
func (c *checker) vswitchOverlaps(l *Lab) {
	type vswNet struct {
		p             netip.Prefix
		id, vpc, path string
		order         int // in the file
	}
	var nets []vswNet
	for i, v := range l.VPCs {
		for j, vsw := range v.VSwitches {
			p, err := netip.ParsePrefix(vsw.CIDR)
			if err != nil || !p.Addr().Is4() || p.Masked() != p {
				continue // already reported
			}
			path := fmt.Sprintf("vpcs[%d].vswitches[%d].cidr", i, j)
			nets = append(nets, vswNet{p: p, id: vsw.ID, vpc: v.ID, path: path, order: len(nets)})
		}
	}
	// Two prefixes overlap only if one holds the other. Sorted by address,
	// wider first, every prefix inside another comes after it, and the
	// last prefix not inside an earlier one ("cover") holds it: one pass.
	// In a netns lab each VPC is a network of its own: only vSwitches of
	// one VPC must not overlap, so each VPC is scanned on its own.
	slices.SortStableFunc(nets, func(a, b vswNet) int {
		if l.Netns() && a.vpc != b.vpc {
			return strings.Compare(a.vpc, b.vpc)
		}
		if c := a.p.Addr().Compare(b.p.Addr()); c != 0 {
			return c
		}
		return a.p.Bits() - b.p.Bits()
	})
	var cover *vswNet
	for i := range nets {
		n := &nets[i]
		if cover == nil || !cover.p.Overlaps(n.p) || (l.Netns() && cover.vpc != n.vpc) {
			cover = n
			continue
		}
		a, b := cover, n // report at the later one in the file
		if a.order > b.order {
			a, b = b, a
		}
		if a.vpc == b.vpc {
			c.errorf(b.path, "%s overlaps %s (%s at %s)", b.p, a.id, a.p, c.where(a.path))
		} else {
			c.errorf(b.path, "%s overlaps %s (%s, in %s, at %s): vSwitches of all VPCs share one host, so they must not overlap",
				b.p, a.id, a.p, a.vpc, c.where(a.path))
		}
	}
}

func (c *checker) rule(r Rule, path string) {
	if _, err := parseProtocol(r.Protocol); err != nil {
		c.errorf(path+".protocol", "%v", err)
	}
	if _, _, err := parsePortRange(r.PortRange); err != nil {
		c.errorf(path+".port_range", "%v", err)
	}
	if _, err := parseSource(r.SourceCIDR); err != nil {
		c.errorf(path+".source_cidr", "%v", err)
	}
	if _, err := parsePolicy(r.Policy); err != nil {
		c.errorf(path+".policy", "%v", err)
	}
	if r.Priority < 1 || r.Priority > 100 {
		c.errorf(path+".priority", "%d is not a priority 1..100 (1 is evaluated first)", r.Priority)
	}
}

func (c *checker) loadBalancer(lb *LoadBalancer, path string) {
	c.id(path+".id", lb.ID, "lb-")
	c.owner(path+".owner", lb.Owner)
	vsw, vpc, vswOK := c.vswitchRef(path+".vswitch", lb.VSwitch)
	if vswOK {
		if lb.Owner != "" && vpc.Owner != lb.Owner {
			c.errorf(path+".vswitch", "%s is in %s of account %s, not of the load balancer's owner %s",
				vsw.ID, vpc.ID, vpc.Owner, lb.Owner)
		}
	}
	if lb.Zone != "" && c.zoneRef(path+".zone", lb.Zone) && vswOK && vsw.Zone != lb.Zone {
		c.errorf(path+".zone", "%s differs from the zone %s of its vswitch %s", lb.Zone, vsw.Zone, vsw.ID)
	}
	if lb.BackupZone != "" && c.zoneRef(path+".backup_zone", lb.BackupZone) && lb.BackupZone == lb.Zone {
		c.errorf(path+".backup_zone", "must differ from the primary zone %s", lb.Zone)
	}
	ports := make(map[int]string)
	for i, ln := range lb.Listeners {
		lp := fmt.Sprintf("%s.listeners[%d]", path, i)
		switch {
		case ln.Port < 1 || ln.Port > 65535:
			c.errorf(lp+".port", "%d is not a port 1..65535", ln.Port)
		case ports[ln.Port] != "":
			c.errorf(lp+".port", "port %d already has a listener at %s", ln.Port, c.where(ports[ln.Port]))
		default:
			ports[ln.Port] = lp + ".port"
		}
		c.backends(ln.Backends, lp+".backends", vpc)
	}
	if lb.IP != "" || (c.l.Netns() && vswOK) {
		if !c.l.Netns() {
			c.errorf(path+".ip", "a CLB address is used only with network: netns")
		} else {
			c.netnsAddr(path+".ip", lb.IP, vsw, vpc, c.ips, true)
		}
	}
	if hc := lb.HealthCheck; hc != nil {
		hp := path + ".health_check"
		for _, f := range []struct {
			key  string
			v    int64
			unit string
		}{
			{"interval", int64(hc.Interval), "duration"},
			{"timeout", int64(hc.Timeout), "duration"},
			{"rise", int64(hc.Rise), "count"},
			{"fall", int64(hc.Fall), "count"},
		} {
			if f.v < 0 || (f.v == 0 && c.given(hp+"."+f.key, true)) {
				c.errorf(hp+"."+f.key, "must be a positive %s (leave it out for the default)", f.unit)
			}
		}
	}
}

func (c *checker) backends(bs []Backend, path string, lbVPC *VPC) {
	if len(bs) == 0 {
		c.errorf(path, "a listener needs at least one backend")
	}
	names := make(map[string]string)
	for i, b := range bs {
		bp := fmt.Sprintf("%s[%d]", path, i)
		if b.Name != "" {
			if first, dup := names[b.Name]; dup {
				c.errorf(bp+".name", "backend %s is already declared at %s", b.Name, c.where(first))
			}
			names[b.Name] = bp + ".name"
		}
		if b.Instance != "" {
			c.instanceBackend(b, bp, lbVPC)
		} else if err := checkHostPort(b.Address); err != nil {
			c.errorf(bp+".address", "%v", err)
		} else if b.Port != 0 {
			c.errorf(bp+".port", "port goes with instance; an address carries its own port")
		}
		if b.Weight < 0 || b.Weight > 100 {
			c.errorf(bp+".weight", "%d is not a weight 0..100", b.Weight)
		}
		switch b.Builtin {
		case "":
		case "http":
			if b.Name == "" {
				c.errorf(bp+".name", "required for a builtin backend: it answers \"This is <name>.\"")
			}
			if c.builtins == nil {
				c.builtins = map[string]builtinAt{}
			}
			if first, ok := c.builtins[b.Address]; ok && first.name != b.Name {
				c.errorf(bp+".name", "the builtin backend at %s is already %s (%s): one server answers with one name; give %s its own address",
					b.Address, first.name, c.where(first.path), b.Name)
			} else if !ok && b.Address != "" {
				c.builtins[b.Address] = builtinAt{name: b.Name, path: bp + ".name"}
			}
		default:
			c.errorf(bp+".builtin", "%q is not a builtin backend (known: http)", b.Builtin)
		}
	}
}

func checkHostPort(addr string) error {
	if addr == "" {
		return fmt.Errorf("required, e.g. 127.0.0.1:8080")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q: port %q is not 1..65535", addr, port)
	}
	return nil
}

// vswitchRef checks a reference to a declared vSwitch and returns it and
// its VPC.
func (c *checker) vswitchRef(path, id string) (*VSwitch, *VPC, bool) {
	if id == "" {
		c.errorf(path, "required")
		return nil, nil, false
	}
	ref, ok := c.ix.vswitches[id]
	if !ok {
		c.errorf(path, "vswitch %q is not declared in any VPC", id)
	}
	return ref.vsw, ref.vpc, ok
}

func (c *checker) service(s *Service, path string) {
	c.id(path+".id", s.ID, "epsrv-")
	c.owner(path+".owner", s.Owner)
	if s.Description != "" {
		if err := checkDescription(s.Description); err != nil {
			c.errorf(path+".description", "%v", err)
		}
	}
	seen := make(map[string]bool)
	for i, id := range s.Resources {
		rp := fmt.Sprintf("%s.resources[%d]", path, i)
		lb, ok := c.ix.lbs[id]
		switch {
		case !ok:
			c.errorf(rp, "load balancer %q is not declared in load_balancers", id)
		case seen[id]:
			c.errorf(rp, "%s is listed twice", id)
		case s.Owner != "" && lb.Owner != s.Owner:
			c.errorf(rp, "%s belongs to account %s, not to the service's owner %s", id, lb.Owner, s.Owner)
		case !lb.PrivateLink:
			c.errorf(rp, "%s does not have privatelink: true; only PrivateLink-enabled CLBs can be service resources", id)
		}
		seen[id] = true
	}
	bw := c.l.Limits.ConnectionBandwidthMbps
	if s.ConnectBandwidth != 0 && (s.ConnectBandwidth < bw.Min || s.ConnectBandwidth > bw.Max) {
		c.errorf(path+".connect_bandwidth", "%d Mbps is outside %d..%d (see limits)", s.ConnectBandwidth, bw.Min, bw.Max)
	}
	for i, uid := range s.Whitelist {
		if uid != "*" && !uidRE.MatchString(uid) {
			c.errorf(fmt.Sprintf("%s.whitelist[%d]", path, i), "%q is neither a 16-digit account UID nor *", uid)
		}
	}
}

func (c *checker) endpoint(e *Endpoint, path string) {
	c.id(path+".id", e.ID, "ep-")
	c.owner(path+".owner", e.Owner)
	if e.Name != "" {
		if err := checkName(e.Name); err != nil {
			c.errorf(path+".name", "%v", err)
		}
	}
	switch {
	case e.Service == "":
		c.errorf(path+".service", "required: the id of a service in services")
	case !c.ix.services[e.Service]:
		c.errorf(path+".service", "service %q is not declared in services", e.Service)
	}
	vpc, vpcOK := c.ix.vpcs[e.VPC]
	switch {
	case e.VPC == "":
		c.errorf(path+".vpc", "required")
	case !vpcOK:
		c.errorf(path+".vpc", "vpc %q is not declared in vpcs", e.VPC)
	case e.Owner != "" && vpc.Owner != e.Owner:
		c.errorf(path+".vpc", "%s belongs to account %s, not to the endpoint's owner %s", vpc.ID, vpc.Owner, e.Owner)
	}
	if len(e.SecurityGroups) == 0 {
		c.errorf(path+".security_groups", "an endpoint needs at least one security group")
	}
	sgs := make(map[string]bool)
	for i, id := range e.SecurityGroups {
		sp := fmt.Sprintf("%s.security_groups[%d]", path, i)
		sgVPC, ok := c.ix.sgs[id]
		switch {
		case !ok:
			c.errorf(sp, "security group %q is not declared in any VPC", id)
		case sgs[id]:
			c.errorf(sp, "%s is listed twice", id)
		case vpcOK && sgVPC.ID != vpc.ID:
			c.errorf(sp, "%s is in %s, not in the endpoint's vpc %s", id, sgVPC.ID, vpc.ID)
		}
		sgs[id] = true
	}
	zones := make(map[string]bool)
	for i, z := range e.Zones {
		c.endpointZone(z, fmt.Sprintf("%s.zones[%d]", path, i), vpc, vpcOK, zones)
	}
}

func (c *checker) endpointZone(z EndpointZone, path string, vpc *VPC, vpcOK bool, zones map[string]bool) {
	vsw, vswVPC, vswOK := c.vswitchRef(path+".vswitch", z.VSwitch)
	if vswOK && vpcOK && vswVPC.ID != vpc.ID {
		c.errorf(path+".vswitch", "%s is in %s, not in the endpoint's vpc %s", vsw.ID, vswVPC.ID, vpc.ID)
	}
	if z.Zone != "" && c.zoneRef(path+".zone", z.Zone) {
		switch {
		case zones[z.Zone]:
			c.errorf(path+".zone", "the endpoint already has an ENI in %s", z.Zone)
		case vswOK && vsw.Zone != z.Zone:
			c.errorf(path+".zone", "%s differs from the zone %s of its vswitch %s", z.Zone, vsw.Zone, vsw.ID)
		}
		zones[z.Zone] = true
	}
	if z.IP == "" {
		return
	}
	ip, err := netip.ParseAddr(z.IP)
	if err != nil {
		c.errorf(path+".ip", "%q is not an IP address", z.IP)
		return
	}
	if p, perr := netip.ParsePrefix(vswCIDR(vsw)); vswOK && perr == nil && !p.Contains(ip) {
		c.errorf(path+".ip", "%s is outside the vswitch %s's CIDR %s", ip, vsw.ID, p)
	} else if vswOK && perr == nil && c.l.Netns() {
		if why := ReservedAddr(p, ip); why != "" {
			c.errorf(path+".ip", "%s is %s of vswitch %s", ip, why, vsw.ID)
		}
	}
	k := ipKey{ip: ip}
	if c.l.Netns() && vswOK {
		k.vpc = vswVPC.ID
	}
	if first, dup := c.ips[k]; dup {
		c.errorf(path+".ip", "%s is already an ENI address at %s", ip, c.where(first))
	}
	c.ips[k] = path + ".ip"
}

func vswCIDR(vsw *VSwitch) string {
	if vsw == nil {
		return ""
	}
	return vsw.CIDR
}

// checkName applies the guide's rule for names: 2–128 characters, starting
// with a letter (Chinese characters are letters), then letters, digits, '-'
// and '_'.
func checkName(s string) error {
	n := utf8.RuneCountInString(s)
	first, _ := utf8.DecodeRuneInString(s)
	ok := n >= 2 && n <= 128 && unicode.IsLetter(first) &&
		!strings.ContainsFunc(s, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' && r != '_'
		})
	if !ok {
		return fmt.Errorf("%q is not a name: 2–128 characters, starting with a letter, then letters, digits, - or _", s)
	}
	return nil
}

// checkDescription applies the guide's rule for descriptions: 2–256
// characters, not starting with http:// or https://.
func checkDescription(s string) error {
	n := utf8.RuneCountInString(s)
	if n < 2 || n > 256 {
		return fmt.Errorf("a description has 2–256 characters, this one %d", n)
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return fmt.Errorf("a description must not start with http:// or https://")
	}
	return nil
}
