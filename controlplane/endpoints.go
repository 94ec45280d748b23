package controlplane

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// ZoneSpec is one zone of CreateVpcEndpoint (Zone.N.*) or AddZoneToVpcEndpoint.
type ZoneSpec struct {
	ZoneID    string
	VSwitchID string
	IP        string // "" = pick one
}

// CreateEndpointInput is CreateVpcEndpoint's request.
type CreateEndpointInput struct {
	ID               string // fixed id (lab); "" = generate
	VpcID            string
	ServiceID        string
	ServiceName      string
	SecurityGroupIDs []string
	Zones            []ZoneSpec
	Name             *string
	Description      *string
	EndpointType     string
	ZoneIPCount      int // ZonePrivateIpAddressCount; 0 = absent
	Protected        bool
	ResourceGroupID  string
	Tags             []Tag
}

// maxSecurityGroups is how many groups one endpoint can join (docs).
const maxSecurityGroups = 10

func (cp *ControlPlane) ownEndpoint(uid, id string) (*Endpoint, error) {
	if id == "" {
		return nil, missing("EndpointId")
	}
	e := cp.endpoints[id]
	if e == nil || e.Owner != uid {
		return nil, errEndpointNotFound.with(id)
	}
	return e, nil
}

// endpointLocked refuses changes while any part of e is transitional.
func endpointLocked(e *Endpoint) error {
	if e.Phase.busy() {
		return errEndpointLocked.with(e.ID, e.Phase.Status)
	}
	if e.Conn.Phase.busy() {
		return errEndpointLocked.with(e.ID, "connection "+e.Conn.Phase.Status)
	}
	for _, z := range e.Zones {
		if z.Phase.busy() {
			return errEndpointLocked.with(e.ID, "zone "+z.ZoneID+" "+z.Phase.Status)
		}
	}
	return nil
}

// serviceFor finds the service a consumer names by id or by name; services
// the caller may not connect to behave as not found.
func (cp *ControlPlane) serviceFor(uid, id, name string) (*Service, error) {
	if id == "" && name == "" {
		return nil, missing("ServiceId")
	}
	if id == "" {
		prefix := "com.aliyuncs.privatelink." + cp.w.region + "."
		var ok bool
		if id, ok = strings.CutPrefix(name, prefix); !ok {
			return nil, errServiceNotFound.with(name)
		}
	} else if name != "" && name != cp.serviceName(id) {
		return nil, invalid("ServiceName", "does not name the service given as ServiceId")
	}
	s := cp.services[id]
	if s == nil || !s.whitelisted(uid) {
		return nil, errServiceNotFound.with(id)
	}
	return s, nil
}

// checkZone validates one zone spec of endpoint e (VPC vpc) for service s,
// returning the vSwitch and the address to use.
func (cp *ControlPlane) checkZone(uid, vpc string, s *Service, z ZoneSpec, prefix string, reserved []netip.Addr) (*vswInfo, netip.Addr, error) {
	if z.ZoneID == "" {
		return nil, netip.Addr{}, missing(prefix + "ZoneId")
	}
	if z.VSwitchID == "" {
		return nil, netip.Addr{}, missing(prefix + "VSwitchId")
	}
	if !cp.w.zoneOK[z.ZoneID] {
		return nil, netip.Addr{}, errUnsupportedZone.with(z.ZoneID, "not a zone of region "+cp.w.region)
	}
	if !contains(s.zones(), z.ZoneID) {
		return nil, netip.Addr{}, errUnsupportedZone.with(z.ZoneID, "endpoint service "+s.ID+" has no resource in it")
	}
	vs := cp.w.vswitches[z.VSwitchID]
	if vs == nil || vs.owner != uid {
		return nil, netip.Addr{}, errVSwitchNotFound.with(z.VSwitchID)
	}
	if vs.vpc != vpc {
		return nil, netip.Addr{}, invalidf(prefix+"VSwitchId", "vSwitch %s is not in VPC %s", vs.id, vpc)
	}
	if vs.zone != z.ZoneID {
		return nil, netip.Addr{}, invalidf(prefix+"VSwitchId", "vSwitch %s is in zone %s, not %s", vs.id, vs.zone, z.ZoneID)
	}
	ip, err := cp.pickIP(prefix+"ip", vs, z.IP, reserved)
	return vs, ip, err
}

// checkSecurityGroup validates a group for an endpoint in vpc.
func (cp *ControlPlane) checkSecurityGroup(uid, vpc, id, param string) error {
	g := cp.w.sgs[id]
	if g == nil || g.owner != uid {
		return errSGNotFound.with(id)
	}
	if g.vpc != vpc {
		return invalidf(param, "security group %s is not in VPC %s", id, vpc)
	}
	return nil
}

func validEndpointType(t string) (string, error) {
	switch t {
	case "", "Interface":
		return "Interface", nil
	case "Reverse", "GatewayLoadBalancer":
		return "", invalidf("EndpointType", "%s endpoints are not supported by this lab; use Interface", t)
	}
	return "", invalid("EndpointType", "must be Interface, Reverse or GatewayLoadBalancer")
}

func validResourceGroup(id string) error {
	if id == "" {
		return nil
	}
	return validID("ResourceGroupId", "rg-", id)
}

// CreateVpcEndpoint creates an endpoint in the caller's VPC, connected to a
// service the caller may use, with one ENI per zone.
func (cp *ControlPlane) CreateVpcEndpoint(c Caller, in CreateEndpointInput) (*EndpointInfo, error) {
	return mutate(cp, c, func(t *txn) (*EndpointInfo, error) { return cp.createEndpoint(t, in) })
}

func (cp *ControlPlane) createEndpoint(t *txn, in CreateEndpointInput) (*EndpointInfo, error) {
	uid := t.c.UID
	if in.VpcID == "" {
		return nil, missing("VpcId")
	}
	vpc := cp.w.vpcs[in.VpcID]
	if vpc == nil || vpc.owner != uid {
		return nil, errVpcNotFound.with(in.VpcID)
	}
	s, err := cp.serviceFor(uid, in.ServiceID, in.ServiceName)
	if err != nil {
		return nil, err
	}
	if st := s.Phase.Status; st != "Active" && st != "Pending" || s.Phase.Next == gone {
		return nil, errServiceStatus.with("endpoint service", s.ID, "it is "+st)
	}
	typ, err := validEndpointType(in.EndpointType)
	if err != nil {
		return nil, err
	}
	if in.ZoneIPCount != 0 && in.ZoneIPCount != 1 {
		return nil, invalid("ZonePrivateIpAddressCount", "must be 1")
	}
	if in.Name != nil {
		if err := validName("EndpointName", *in.Name); err != nil {
			return nil, err
		}
	}
	if in.Description != nil {
		if err := validDescription("EndpointDescription", *in.Description); err != nil {
			return nil, err
		}
	}
	if err := validResourceGroup(in.ResourceGroupID); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	if len(in.SecurityGroupIDs) == 0 {
		return nil, missing("SecurityGroupId.1")
	}
	if len(in.SecurityGroupIDs) > maxSecurityGroups {
		return nil, invalidf("SecurityGroupId", "at most %d security groups", maxSecurityGroups)
	}
	var sgs []string
	for i, g := range in.SecurityGroupIDs {
		p := "SecurityGroupId." + strconv.Itoa(i+1)
		if contains(sgs, g) {
			return nil, invalidf(p, "duplicate security group %s", g)
		}
		if err := cp.checkSecurityGroup(uid, in.VpcID, g, p); err != nil {
			return nil, err
		}
		sgs = append(sgs, g)
	}
	if n := len(s.zones()); len(in.Zones) > n {
		return nil, errZoneLimit.with("to create", n)
	}
	var zones []*Zone
	var reserved []netip.Addr
	for i, zs := range in.Zones {
		p := "Zone." + strconv.Itoa(i+1) + "."
		for _, z := range zones {
			if z.ZoneID == zs.ZoneID {
				return nil, invalidf(p+"ZoneId", "zone %s given twice", zs.ZoneID)
			}
		}
		vs, ip, err := cp.checkZone(uid, in.VpcID, s, zs, p, reserved)
		if err != nil {
			return nil, err
		}
		reserved = append(reserved, ip)
		zones = append(zones, &Zone{ZoneID: zs.ZoneID, VSwitchID: vs.id, ENI: ENIRecord{IP: ip}})
	}
	id := in.ID
	if id != "" {
		if err := validID("EndpointId", "ep-", id); err != nil {
			return nil, err
		}
		if cp.endpoints[id] != nil {
			return nil, invalidf("EndpointId", "endpoint %s already exists", id)
		}
	}
	if err := t.dryRun(); err != nil {
		return nil, err
	}

	// Apply.
	if id == "" {
		id = cp.newID("ep-")
	}
	due := t.due()
	e := &Endpoint{
		ID: id, Owner: uid, Type: typ, VpcID: in.VpcID,
		ServiceID: s.ID, ServiceOwner: s.Owner,
		Phase:           Phase{Status: "Creating", Next: "Active", Due: due},
		Conn:            Connection{Phase: Phase{Status: "Disconnected"}, Bandwidth: s.ConnectBandwidth, Modified: t.now},
		SecurityGroups:  sgs,
		Tags:            in.Tags,
		ResourceGroupID: in.ResourceGroupID,
		Protected:       in.Protected,
		CreateTime:      t.now,
	}
	if in.Name != nil {
		e.Name = *in.Name
	}
	if in.Description != nil {
		e.Description = *in.Description
	}
	sortZones(zones)
	e.Zones = zones
	for _, z := range zones {
		z.ENI.ID = cp.newID("eni-")
		z.Phase = Phase{Status: "Creating", Next: "Wait", Due: due}
	}
	cp.indexEndpoint(e)
	for _, zs := range in.Zones {
		if z := e.zone(zs.ZoneID); zs.IP == "" {
			cp.pickedAuto(z.VSwitchID, z.ENI.IP)
		}
	}
	if s.AutoAccept {
		cp.connect(t, e, s)
	}
	if a := cp.account(t, uid); a.RoleCreated.IsZero() {
		// The service-linked role comes with the account's first endpoint.
		a.RoleCreated = t.now
	}
	t.touchEndpoint(id)
	cp.settleEndpoint(t, e) // with no delay, answer with the final state
	info := cp.endpointInfo(e)
	return &info, nil
}

// connect starts the connection of e: it and its waiting zones go
// Connecting → Connected, each zone with a resource of its zone.
func (cp *ControlPlane) connect(t *txn, e *Endpoint, s *Service) {
	due := t.due()
	e.Conn.Phase.move("Connecting", "Connected", due)
	e.Conn.Modified = t.now
	for _, z := range e.Zones {
		if waiting(z) {
			cp.connectZone(t, e, s, z)
		}
	}
}

// connectZone assigns zone z a resource and starts Connecting → Connected.
// A zone whose service has no resource there stays as it is.
func (cp *ControlPlane) connectZone(t *txn, e *Endpoint, s *Service, z *Zone) bool {
	res := cp.allocate(s, z)
	if res == "" {
		return false
	}
	cp.setResource(e, z, res)
	z.Phase.move("Connecting", "Connected", t.due())
	return true
}

// allocate picks the zone's resource: the pinned one if it is still
// attached, else the least loaded auto-allocatable resource of the zone.
func (cp *ControlPlane) allocate(s *Service, z *Zone) string {
	if z.Manual != "" {
		if r := s.resource(z.Manual); r != nil && r.ZoneID == z.ZoneID {
			return r.ID
		}
	}
	best, load := "", 0
	for _, r := range s.Resources {
		if r.ZoneID != z.ZoneID || !r.AutoAllocated {
			continue
		}
		u := cp.resourceUse(s.ID, r.ID)
		if l := u.active + u.deprecated; best == "" || l < load {
			best, load = r.ID, l
		}
	}
	return best
}

func sortZones(zs []*Zone) {
	for i := 1; i < len(zs); i++ {
		for j := i; j > 0 && zs[j].ZoneID < zs[j-1].ZoneID; j-- {
			zs[j], zs[j-1] = zs[j-1], zs[j]
		}
	}
}

func (cp *ControlPlane) account(t *txn, uid string) *Account {
	a := cp.accounts[uid]
	if a == nil {
		a = &Account{UID: uid}
		cp.accounts[uid] = a
	}
	t.touchAccount(uid)
	return a
}

// DeleteVpcEndpoint deletes an endpoint whose zones have been removed.
func (cp *ControlPlane) DeleteVpcEndpoint(c Caller, id string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		e, err := cp.ownEndpoint(t.c.UID, id)
		if err != nil {
			return struct{}{}, err
		}
		if err := endpointLocked(e); err != nil {
			return struct{}{}, err
		}
		if len(e.Zones) > 0 {
			return struct{}{}, errEndpointOperationDenied.with(id, "remove its zones first")
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		due := t.due()
		e.Phase.move("Deleting", gone, due)
		if e.Conn.Phase.Status != "ServiceDeleted" {
			e.Conn.Phase.move("Deleting", "", due)
		}
		t.touchEndpoint(id)
		return struct{}{}, nil
	})
	return err
}

// GetVpcEndpointAttribute returns one of the caller's endpoints.
func (cp *ControlPlane) GetVpcEndpointAttribute(c Caller, id string) (*EndpointInfo, error) {
	return read(cp, c, func() (*EndpointInfo, error) {
		e, err := cp.ownEndpoint(c.UID, id)
		if err != nil {
			return nil, err
		}
		info := cp.endpointInfo(e)
		return &info, nil
	})
}

// ListEndpointsInput are ListVpcEndpoints' filters.
type ListEndpointsInput struct {
	Page
	EndpointID, EndpointName, EndpointStatus, EndpointType string
	ConnectionStatus, ServiceName, VpcID, ResourceGroupID  string
	Tags                                                   []Tag
}

// ListVpcEndpointsResult is ListVpcEndpoints' answer.
type ListVpcEndpointsResult struct {
	Endpoints  []EndpointInfo `json:"Endpoints"`
	TotalCount int            `json:"TotalCount"`
	MaxResults int            `json:"MaxResults"`
	NextToken  string         `json:"NextToken"`
}

// ListVpcEndpoints lists the caller's endpoints.
func (cp *ControlPlane) ListVpcEndpoints(c Caller, in ListEndpointsInput) (*ListVpcEndpointsResult, error) {
	return read(cp, c, func() (*ListVpcEndpointsResult, error) {
		if err := validTagFilter(in.Tags); err != nil {
			return nil, err
		}
		// Narrow by the indexed filters first (an id, or the VPC, which one
		// account owns), so that only the rest is matched item by item.
		var ids idList
		if l := cp.epByOwner[c.UID]; l != nil {
			ids = *l
		}
		switch {
		case in.EndpointID != "":
			ids = singleID(ids, in.EndpointID)
		case in.VpcID != "":
			ids = nil
			if v := cp.w.vpcs[in.VpcID]; v != nil && v.owner == c.UID && cp.epByVpc[in.VpcID] != nil {
				ids = *cp.epByVpc[in.VpcID]
			}
		}
		var match func(string) bool
		if in.EndpointName != "" || in.EndpointStatus != "" || in.EndpointType != "" ||
			in.ConnectionStatus != "" || in.ServiceName != "" || in.ResourceGroupID != "" || len(in.Tags) > 0 ||
			in.EndpointID != "" && in.VpcID != "" {
			match = func(id string) bool {
				e := cp.endpoints[id]
				return (in.EndpointName == "" || e.Name == in.EndpointName) &&
					(in.EndpointStatus == "" || e.Phase.Status == in.EndpointStatus) &&
					(in.EndpointType == "" || e.Type == in.EndpointType) &&
					(in.ConnectionStatus == "" || e.Conn.Phase.Status == in.ConnectionStatus) &&
					(in.ServiceName == "" || cp.serviceName(e.ServiceID) == in.ServiceName) &&
					(in.VpcID == "" || e.VpcID == in.VpcID) &&
					(in.ResourceGroupID == "" || e.ResourceGroupID == in.ResourceGroupID) &&
					hasTags(e.Tags, in.Tags)
			}
		}
		items, next, total, max, err := paginate(ids, in.Page, match, func(id string) EndpointInfo {
			return cp.endpointInfo(cp.endpoints[id])
		})
		if err != nil {
			return nil, err
		}
		return &ListVpcEndpointsResult{Endpoints: items, TotalCount: total, MaxResults: max, NextToken: next}, nil
	})
}

// singleID narrows ids to id when it is there: an id filter is a lookup.
func singleID(ids idList, id string) idList {
	i := sort.SearchStrings(ids, id)
	if i < len(ids) && ids[i] == id {
		return ids[i : i+1]
	}
	return nil
}

// hasTags reports whether have carries every tag of want (a want with an
// empty value matches any value of the key).
func hasTags(have, want []Tag) bool {
	for _, w := range want {
		ok := false
		for _, h := range have {
			if h.Key == w.Key && (w.Value == "" || h.Value == w.Value) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// UpdateVpcEndpointAttribute changes an endpoint's name or description.
func (cp *ControlPlane) UpdateVpcEndpointAttribute(c Caller, id string, name, description *string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		e, err := cp.ownEndpoint(t.c.UID, id)
		if err != nil {
			return struct{}{}, err
		}
		if name != nil {
			if err := validName("EndpointName", *name); err != nil {
				return struct{}{}, err
			}
		}
		if description != nil {
			if err := validDescription("EndpointDescription", *description); err != nil {
				return struct{}{}, err
			}
		}
		if e.Phase.busy() {
			return struct{}{}, errEndpointLocked.with(id, e.Phase.Status)
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		if name != nil {
			e.Name = *name
		}
		if description != nil {
			e.Description = *description
		}
		t.touchEndpoint(id)
		return struct{}{}, nil
	})
	return err
}

// AddZoneToVpcEndpoint adds a zone (and its ENI) to an endpoint.
func (cp *ControlPlane) AddZoneToVpcEndpoint(c Caller, id string, zs ZoneSpec) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		e, err := cp.ownEndpoint(t.c.UID, id)
		if err != nil {
			return struct{}{}, err
		}
		if err := endpointLocked(e); err != nil {
			return struct{}{}, err
		}
		s := cp.services[e.ServiceID]
		if s == nil {
			return struct{}{}, errEndpointStatus.with("endpoint", id, "its endpoint service "+e.ServiceID+" was deleted")
		}
		if e.zone(zs.ZoneID) != nil {
			return struct{}{}, errZoneExists.with(zs.ZoneID, id)
		}
		vs, ip, err := cp.checkZone(t.c.UID, e.VpcID, s, zs, "", nil)
		if err != nil {
			return struct{}{}, err
		}
		if n := len(s.zones()); len(e.Zones)+1 > n {
			return struct{}{}, errZoneLimit.with(id, n)
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		z := &Zone{ZoneID: zs.ZoneID, VSwitchID: vs.id, ENI: ENIRecord{ID: cp.newID("eni-"), IP: ip}}
		z.Phase = Phase{Status: "Creating", Next: "Wait", Due: t.due()}
		e.Zones = append(e.Zones, z)
		sortZones(e.Zones)
		cp.takeIP(vs.id, z.ENI)
		if zs.IP == "" {
			cp.pickedAuto(vs.id, ip)
		}
		if e.Conn.Phase.Status == "Connected" {
			cp.connectZone(t, e, s, z)
		}
		t.touchEndpoint(id)
		return struct{}{}, nil
	})
	return err
}

// RemoveZoneFromVpcEndpoint removes a zone and deletes its ENI.
func (cp *ControlPlane) RemoveZoneFromVpcEndpoint(c Caller, id, zone string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		e, err := cp.ownEndpoint(t.c.UID, id)
		if err != nil {
			return struct{}{}, err
		}
		if zone == "" {
			return struct{}{}, missing("ZoneId")
		}
		z := e.zone(zone)
		if z == nil {
			return struct{}{}, errZoneNotFound.with(zone, id)
		}
		if err := endpointLocked(e); err != nil {
			return struct{}{}, err
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		z.Phase.move("Deleting", gone, t.due())
		t.touchEndpoint(id)
		return struct{}{}, nil
	})
	return err
}

// ListVpcEndpointZonesResult is ListVpcEndpointZones' answer.
type ListVpcEndpointZonesResult struct {
	Zones      []ZoneInfo `json:"Zones"`
	MaxResults int        `json:"MaxResults"`
	NextToken  string     `json:"NextToken"`
}

// ListVpcEndpointZones lists an endpoint's zones.
func (cp *ControlPlane) ListVpcEndpointZones(c Caller, id string, p Page) (*ListVpcEndpointZonesResult, error) {
	return read(cp, c, func() (*ListVpcEndpointZonesResult, error) {
		e, err := cp.ownEndpoint(c.UID, id)
		if err != nil {
			return nil, err
		}
		ids := make(idList, 0, len(e.Zones))
		for _, z := range e.Zones {
			ids = append(ids, z.ZoneID)
		}
		items, next, _, max, err := paginate(ids, p, nil, func(zid string) ZoneInfo { return cp.zoneInfo(e, e.zone(zid)) })
		if err != nil {
			return nil, err
		}
		return &ListVpcEndpointZonesResult{Zones: items, MaxResults: max, NextToken: next}, nil
	})
}

// AttachSecurityGroupToVpcEndpoint adds a security group to every ENI.
func (cp *ControlPlane) AttachSecurityGroupToVpcEndpoint(c Caller, id, sg string) error {
	return cp.changeSecurityGroup(c, id, sg, true)
}

// DetachSecurityGroupFromVpcEndpoint removes a security group; the last
// one stays.
func (cp *ControlPlane) DetachSecurityGroupFromVpcEndpoint(c Caller, id, sg string) error {
	return cp.changeSecurityGroup(c, id, sg, false)
}

func (cp *ControlPlane) changeSecurityGroup(c Caller, id, sg string, attach bool) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		e, err := cp.ownEndpoint(t.c.UID, id)
		if err != nil {
			return struct{}{}, err
		}
		if sg == "" {
			return struct{}{}, missing("SecurityGroupId")
		}
		if err := cp.checkSecurityGroup(t.c.UID, e.VpcID, sg, "SecurityGroupId"); err != nil {
			return struct{}{}, err
		}
		if err := endpointLocked(e); err != nil {
			return struct{}{}, err
		}
		has := contains(e.SecurityGroups, sg)
		switch {
		case attach && has:
			return struct{}{}, invalidf("SecurityGroupId", "security group %s is already attached to %s", sg, id)
		case attach && len(e.SecurityGroups) >= maxSecurityGroups:
			return struct{}{}, invalidf("SecurityGroupId", "endpoint %s already has %d security groups", id, maxSecurityGroups)
		case !attach && !has:
			return struct{}{}, invalidf("SecurityGroupId", "security group %s is not attached to %s", sg, id)
		case !attach && len(e.SecurityGroups) == 1:
			return struct{}{}, errLastSecurityGroup.with(sg, id)
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		if attach {
			e.SecurityGroups = append(e.SecurityGroups, sg)
		} else {
			kept := e.SecurityGroups[:0:0]
			for _, g := range e.SecurityGroups {
				if g != sg {
					kept = append(kept, g)
				}
			}
			e.SecurityGroups = kept
		}
		e.Phase.move("Pending", "Active", t.due())
		t.touchEndpoint(id)
		return struct{}{}, nil
	})
	return err
}

// SecurityGroupInfo is one item of ListVpcEndpointSecurityGroups.
type SecurityGroupInfo struct {
	SecurityGroupId string `json:"SecurityGroupId"`
}

// ListVpcEndpointSecurityGroupsResult is ListVpcEndpointSecurityGroups' answer.
type ListVpcEndpointSecurityGroupsResult struct {
	SecurityGroups []SecurityGroupInfo `json:"SecurityGroups"`
	MaxResults     int                 `json:"MaxResults"`
	NextToken      string              `json:"NextToken"`
}

// ListVpcEndpointSecurityGroups lists an endpoint's security groups.
func (cp *ControlPlane) ListVpcEndpointSecurityGroups(c Caller, id string, p Page) (*ListVpcEndpointSecurityGroupsResult, error) {
	return read(cp, c, func() (*ListVpcEndpointSecurityGroupsResult, error) {
		e, err := cp.ownEndpoint(c.UID, id)
		if err != nil {
			return nil, err
		}
		ids := append(idList(nil), e.SecurityGroups...)
		sort.Strings(ids)
		items, next, _, max, err := paginate(ids, p, nil, func(g string) SecurityGroupInfo { return SecurityGroupInfo{g} })
		if err != nil {
			return nil, err
		}
		return &ListVpcEndpointSecurityGroupsResult{SecurityGroups: items, MaxResults: max, NextToken: next}, nil
	})
}
