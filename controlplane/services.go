package controlplane

import (
	"sort"
	"strconv"
	"strings"
)

// ResourceRef names a service resource (Resource.N.* or the single
// ResourceId/ResourceType/ZoneId of attach/detach).
type ResourceRef struct {
	Type   string
	ID     string
	ZoneID string
}

// CreateServiceInput is CreateVpcEndpointService's request.
type CreateServiceInput struct {
	ID                   string // fixed id (lab); "" = generate
	ServiceResourceType  string
	Resources            []ResourceRef
	AutoAccept           bool
	ZoneAffinity         bool
	Payer                string
	Description          *string
	SupportIPv6          bool
	PrivateDomainEnabled bool
	PrivateDomain        string
	ResourceGroupID      string
	Tags                 []Tag
	// ConnectBandwidth is the lab's connect_bandwidth (0 = the default).
	ConnectBandwidth int
}

// maxServiceResources bounds Resource.N at creation (docs: older 1–20).
const maxServiceResources = 20

func (cp *ControlPlane) ownService(uid, id string) (*Service, error) {
	if id == "" {
		return nil, missing("ServiceId")
	}
	s := cp.services[id]
	if s == nil || s.Owner != uid {
		return nil, errServiceNotFound.with(id)
	}
	return s, nil
}

func serviceLocked(s *Service) error {
	if s.Phase.busy() {
		return errServiceLocked.with(s.ID, s.Phase.Status)
	}
	return nil
}

func validResourceType(param, t string) error {
	switch t {
	case "slb":
		return nil
	case "alb", "nlb", "gwlb":
		return invalidf(param, "%s resources are not supported by this lab; use slb (CLB)", t)
	}
	return invalid(param, "must be slb, alb, nlb or gwlb")
}

// checkCLB validates a CLB the provider uid wants as a service resource.
func (cp *ControlPlane) checkCLB(uid string, r ResourceRef, prefix string) (*clbInfo, error) {
	if r.ID == "" {
		return nil, missing(prefix + "ResourceId")
	}
	if r.Type != "" {
		if err := validResourceType(prefix+"ResourceType", r.Type); err != nil {
			return nil, err
		}
	}
	lb := cp.w.clbs[r.ID]
	if lb == nil || lb.Owner != uid {
		return nil, errResourceNotFound.with(r.ID)
	}
	if !lb.PrivateLink {
		return nil, errResourceUnsupported.with(r.ID, "only private CLBs with PrivateLink enabled can be service resources")
	}
	if r.ZoneID != "" && r.ZoneID != lb.Zone {
		return nil, invalidf(prefix+"ZoneId", "CLB %s is in zone %s, not %s", r.ID, lb.Zone, r.ZoneID)
	}
	return lb, nil
}

func (cp *ControlPlane) checkBandwidth(param string, bw int) error {
	if bw < cp.w.bw.Min || bw > cp.w.bw.Max {
		return invalidf(param, "must be between %d and %d Mbps", cp.w.bw.Min, cp.w.bw.Max)
	}
	return nil
}

// CreateVpcEndpointService creates a service on the caller's CLBs.
func (cp *ControlPlane) CreateVpcEndpointService(c Caller, in CreateServiceInput) (*ServiceInfo, error) {
	return mutate(cp, c, func(t *txn) (*ServiceInfo, error) { return cp.createService(t, in) })
}

func (cp *ControlPlane) createService(t *txn, in CreateServiceInput) (*ServiceInfo, error) {
	uid := t.c.UID
	if in.ServiceResourceType != "" {
		if err := validResourceType("ServiceResourceType", in.ServiceResourceType); err != nil {
			return nil, err
		}
	}
	if len(in.Resources) > maxServiceResources {
		return nil, invalidf("Resource", "at most %d resources", maxServiceResources)
	}
	var res []*ServiceResource
	for i, r := range in.Resources {
		p := "Resource." + strconv.Itoa(i+1) + "."
		lb, err := cp.checkCLB(uid, r, p)
		if err != nil {
			return nil, err
		}
		for _, have := range res {
			if have.ID == r.ID {
				return nil, invalidf(p+"ResourceId", "resource %s given twice", r.ID)
			}
		}
		res = append(res, &ServiceResource{ID: lb.ID, Type: "slb", ZoneID: lb.Zone, AutoAllocated: true})
	}
	payer := in.Payer
	switch payer {
	case "":
		payer = "Endpoint"
	case "Endpoint", "EndpointService":
	default:
		return nil, invalid("Payer", "must be Endpoint or EndpointService")
	}
	if in.Description != nil {
		if err := validDescription("ServiceDescription", *in.Description); err != nil {
			return nil, err
		}
	}
	if in.PrivateDomainEnabled && in.PrivateDomain == "" {
		return nil, missing("PrivateServiceDomain")
	}
	if err := validResourceGroup(in.ResourceGroupID); err != nil {
		return nil, err
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	bw := in.ConnectBandwidth
	if bw == 0 {
		bw = cp.w.bw.Default
	} else if err := cp.checkBandwidth("ConnectBandwidth", bw); err != nil {
		return nil, err
	}
	id := in.ID
	if id != "" {
		if err := validID("ServiceId", "epsrv-", id); err != nil {
			return nil, err
		}
		if cp.services[id] != nil {
			return nil, invalidf("ServiceId", "endpoint service %s already exists", id)
		}
	}
	if err := t.dryRun(); err != nil {
		return nil, err
	}
	if id == "" {
		id = cp.newID("epsrv-")
	}
	sort.Slice(res, func(i, j int) bool { return res[i].ID < res[j].ID })
	s := &Service{
		ID: id, Owner: uid,
		Phase:                Phase{Status: "Creating", Next: "Active", Due: t.due()},
		AutoAccept:           in.AutoAccept,
		ZoneAffinity:         in.ZoneAffinity,
		Payer:                payer,
		ConnectBandwidth:     bw,
		SupportIPv6:          in.SupportIPv6,
		PrivateDomainEnabled: in.PrivateDomainEnabled,
		PrivateDomain:        in.PrivateDomain,
		Resources:            res,
		Whitelist:            []string{uid},
		Tags:                 in.Tags,
		ResourceGroupID:      in.ResourceGroupID,
		CreateTime:           t.now,
	}
	if s.Resources == nil {
		s.Resources = []*ServiceResource{}
	}
	if in.Description != nil {
		s.Description = *in.Description
	}
	cp.indexService(s)
	t.touchService(id)
	cp.settleService(t, s) // with no delay, answer with the final state
	info := cp.serviceInfo(s)
	return &info, nil
}

// DeleteVpcEndpointService deletes a service without resources whose
// connections have all been rejected.
func (cp *ControlPlane) DeleteVpcEndpointService(c Caller, id string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, err := cp.ownService(t.c.UID, id)
		if err != nil {
			return struct{}{}, err
		}
		if err := serviceLocked(s); err != nil {
			return struct{}{}, err
		}
		if l := cp.epByService[id]; l != nil {
			n := 0
			for _, eid := range *l {
				if st := cp.endpoints[eid].Conn.Phase.Status; st != "Disconnected" && st != "ServiceDeleted" {
					n++
				}
			}
			if n > 0 {
				return struct{}{}, errServiceDependence.with(id, strconv.Itoa(n)+" endpoint connection(s) not rejected")
			}
		}
		if len(s.Resources) > 0 {
			return struct{}{}, errServiceDependence.with(id, strconv.Itoa(len(s.Resources))+" service resource(s)")
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		s.Phase.move("Deleting", gone, t.due())
		t.touchService(id)
		return struct{}{}, nil
	})
	return err
}

// GetVpcEndpointServiceAttribute returns a service the caller owns or is
// whitelisted for.
func (cp *ControlPlane) GetVpcEndpointServiceAttribute(c Caller, id string) (*ServiceInfo, error) {
	return read(cp, c, func() (*ServiceInfo, error) {
		if id == "" {
			return nil, missing("ServiceId")
		}
		s := cp.services[id]
		if s == nil || !s.whitelisted(c.UID) {
			return nil, errServiceNotFound.with(id)
		}
		info := cp.serviceInfo(s)
		return &info, nil
	})
}

// ListServicesInput are the filters of ListVpcEndpointServices and
// ListVpcEndpointServicesByEndUser.
type ListServicesInput struct {
	Page
	ServiceID, ServiceName, ServiceStatus, ServiceBusinessStatus  string
	ServiceResourceType, ResourceID, ResourceGroupID, ServiceType string
	AutoAccept, ZoneAffinity                                      *bool
	Tags                                                          []Tag
}

// ListServicesResult is the answer of both service lists.
type ListServicesResult struct {
	Services   []ServiceInfo `json:"Services"`
	TotalCount int           `json:"TotalCount"`
	MaxResults int           `json:"MaxResults"`
	NextToken  string        `json:"NextToken"`
}

// ListVpcEndpointServices lists the services the caller owns.
func (cp *ControlPlane) ListVpcEndpointServices(c Caller, in ListServicesInput) (*ListServicesResult, error) {
	return read(cp, c, func() (*ListServicesResult, error) {
		var ids idList
		if l := cp.svcByOwner[c.UID]; l != nil {
			ids = *l
		}
		return cp.listServices(ids, in, nil)
	})
}

// ListVpcEndpointServicesByEndUser lists the services the caller may
// connect to (whitelisted, or its own).
func (cp *ControlPlane) ListVpcEndpointServicesByEndUser(c Caller, in ListServicesInput) (*ListServicesResult, error) {
	return read(cp, c, func() (*ListServicesResult, error) {
		return cp.listServices(cp.svcIDs, in, func(s *Service) bool { return s.whitelisted(c.UID) })
	})
}

func (cp *ControlPlane) listServices(ids idList, in ListServicesInput, scope func(*Service) bool) (*ListServicesResult, error) {
	if err := validTagFilter(in.Tags); err != nil {
		return nil, err
	}
	if in.ServiceType != "" && in.ServiceType != "Interface" && in.ServiceType != "Reverse" {
		return nil, invalid("ServiceType", "must be Interface or Reverse")
	}
	var match func(string) bool
	if scope != nil || in.ServiceID != "" || in.ServiceName != "" || in.ServiceStatus != "" || in.ServiceBusinessStatus != "" ||
		in.ServiceResourceType != "" || in.ResourceID != "" || in.ResourceGroupID != "" || in.ServiceType != "" ||
		in.AutoAccept != nil || in.ZoneAffinity != nil || len(in.Tags) > 0 {
		match = func(id string) bool {
			s := cp.services[id]
			return (scope == nil || scope(s)) &&
				(in.ServiceID == "" || s.ID == in.ServiceID) &&
				(in.ServiceName == "" || cp.serviceName(s.ID) == in.ServiceName) &&
				(in.ServiceStatus == "" || s.Phase.Status == in.ServiceStatus) &&
				(in.ServiceBusinessStatus == "" || in.ServiceBusinessStatus == "Normal") &&
				(in.ServiceResourceType == "" || in.ServiceResourceType == "slb") &&
				(in.ResourceID == "" || s.resource(in.ResourceID) != nil) &&
				(in.ResourceGroupID == "" || s.ResourceGroupID == in.ResourceGroupID) &&
				(in.ServiceType == "" || in.ServiceType == "Interface") &&
				(in.AutoAccept == nil || s.AutoAccept == *in.AutoAccept) &&
				(in.ZoneAffinity == nil || s.ZoneAffinity == *in.ZoneAffinity) &&
				hasTags(s.Tags, in.Tags)
		}
		if in.ServiceID != "" {
			ids = singleID(ids, in.ServiceID)
		}
	}
	items, next, total, max, err := paginate(ids, in.Page, match, func(id string) ServiceInfo {
		return cp.serviceInfo(cp.services[id])
	})
	if err != nil {
		return nil, err
	}
	return &ListServicesResult{Services: items, TotalCount: total, MaxResults: max, NextToken: next}, nil
}

// UpdateServiceInput is UpdateVpcEndpointServiceAttribute's request; nil
// fields stay as they are.
type UpdateServiceInput struct {
	ServiceID            string
	AutoAccept           *bool
	ZoneAffinity         *bool
	ConnectBandwidth     *int
	Description          *string
	SupportIPv6          *bool
	PrivateDomainEnabled *bool
	PrivateDomain        *string
}

// UpdateVpcEndpointServiceAttribute changes a service's settings; existing
// connections keep theirs.
func (cp *ControlPlane) UpdateVpcEndpointServiceAttribute(c Caller, in UpdateServiceInput) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, err := cp.ownService(t.c.UID, in.ServiceID)
		if err != nil {
			return struct{}{}, err
		}
		if in.ConnectBandwidth != nil {
			if err := cp.checkBandwidth("ConnectBandwidth", *in.ConnectBandwidth); err != nil {
				return struct{}{}, err
			}
		}
		if in.Description != nil {
			if err := validDescription("ServiceDescription", *in.Description); err != nil {
				return struct{}{}, err
			}
		}
		enabled := s.PrivateDomainEnabled
		if in.PrivateDomainEnabled != nil {
			enabled = *in.PrivateDomainEnabled
		}
		domain := s.PrivateDomain
		if in.PrivateDomain != nil {
			domain = *in.PrivateDomain
		}
		if enabled && domain == "" {
			return struct{}{}, missing("PrivateServiceDomain")
		}
		if err := serviceLocked(s); err != nil {
			return struct{}{}, err
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		if in.AutoAccept != nil {
			s.AutoAccept = *in.AutoAccept
		}
		if in.ZoneAffinity != nil {
			s.ZoneAffinity = *in.ZoneAffinity
		}
		if in.ConnectBandwidth != nil {
			s.ConnectBandwidth = *in.ConnectBandwidth
		}
		if in.Description != nil {
			s.Description = *in.Description
		}
		if in.SupportIPv6 != nil {
			s.SupportIPv6 = *in.SupportIPv6
		}
		s.PrivateDomainEnabled, s.PrivateDomain = enabled, domain
		t.touchService(s.ID)
		return struct{}{}, nil
	})
	return err
}

// AttachResourceToVpcEndpointService adds a CLB to a service.
func (cp *ControlPlane) AttachResourceToVpcEndpointService(c Caller, serviceID string, r ResourceRef) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, err := cp.ownService(t.c.UID, serviceID)
		if err != nil {
			return struct{}{}, err
		}
		if r.Type == "" {
			return struct{}{}, missing("ResourceType")
		}
		lb, err := cp.checkCLB(t.c.UID, r, "")
		if err != nil {
			return struct{}{}, err
		}
		if s.resource(r.ID) != nil {
			return struct{}{}, errResourceAttached.with(r.ID, s.ID)
		}
		if err := serviceLocked(s); err != nil {
			return struct{}{}, err
		}
		if len(s.Resources) >= maxServiceResources {
			return struct{}{}, invalidf("ResourceId", "endpoint service %s already has %d resources", s.ID, maxServiceResources)
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		s.Resources = append(s.Resources, &ServiceResource{ID: lb.ID, Type: "slb", ZoneID: lb.Zone, AutoAllocated: true})
		sort.Slice(s.Resources, func(i, j int) bool { return s.Resources[i].ID < s.Resources[j].ID })
		s.Phase.move("Pending", "Active", t.due())
		t.touchService(s.ID)
		return struct{}{}, nil
	})
	return err
}

// DetachResourceFromVpcEndpointService removes a resource no zone uses.
func (cp *ControlPlane) DetachResourceFromVpcEndpointService(c Caller, serviceID string, r ResourceRef) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, err := cp.ownService(t.c.UID, serviceID)
		if err != nil {
			return struct{}{}, err
		}
		if r.ID == "" {
			return struct{}{}, missing("ResourceId")
		}
		if r.Type != "" {
			if err := validResourceType("ResourceType", r.Type); err != nil {
				return struct{}{}, err
			}
		}
		res := s.resource(r.ID)
		if res == nil {
			return struct{}{}, errResourceNotAttached.with(r.ID, s.ID)
		}
		if r.ZoneID != "" && r.ZoneID != res.ZoneID {
			return struct{}{}, invalidf("ZoneId", "resource %s is in zone %s", r.ID, res.ZoneID)
		}
		if u := cp.resourceUse(s.ID, r.ID); u.active+u.deprecated > 0 {
			return struct{}{}, errResourceInUse.with(r.ID, u.active+u.deprecated)
		}
		if res.AutoAllocated && !cp.otherAuto(s, res) && cp.zoneHasOthers(s, res) {
			return struct{}{}, errLastAutoAllocated.with(r.ID, res.ZoneID)
		}
		if err := serviceLocked(s); err != nil {
			return struct{}{}, err
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		kept := s.Resources[:0:0]
		for _, x := range s.Resources {
			if x.ID != r.ID {
				kept = append(kept, x)
			}
		}
		s.Resources = kept
		s.Phase.move("Pending", "Active", t.due())
		t.touchService(s.ID)
		return struct{}{}, nil
	})
	return err
}

// otherAuto reports whether the zone of res has another auto-allocatable
// resource.
func (cp *ControlPlane) otherAuto(s *Service, res *ServiceResource) bool {
	for _, x := range s.Resources {
		if x != res && x.ZoneID == res.ZoneID && x.AutoAllocated {
			return true
		}
	}
	return false
}

func (cp *ControlPlane) zoneHasOthers(s *Service, res *ServiceResource) bool {
	for _, x := range s.Resources {
		if x != res && x.ZoneID == res.ZoneID {
			return true
		}
	}
	return false
}

// ListResourcesResult is ListVpcEndpointServiceResources' answer.
type ListResourcesResult struct {
	Resources  []ResourceInfo `json:"Resources"`
	MaxResults int            `json:"MaxResults"`
	NextToken  string         `json:"NextToken"`
}

// ListVpcEndpointServiceResources lists a service's resources.
func (cp *ControlPlane) ListVpcEndpointServiceResources(c Caller, serviceID, zone string, p Page) (*ListResourcesResult, error) {
	return read(cp, c, func() (*ListResourcesResult, error) {
		s, err := cp.ownService(c.UID, serviceID)
		if err != nil {
			return nil, err
		}
		var ids idList
		for _, r := range s.Resources {
			if zone == "" || r.ZoneID == zone {
				ids = append(ids, r.ID)
			}
		}
		items, next, _, max, err := paginate(ids, p, nil, func(id string) ResourceInfo {
			r := s.resource(id)
			lb := cp.w.clbs[id]
			u := cp.resourceUse(s.ID, id)
			return ResourceInfo{
				ResourceId: id, ResourceType: r.Type, ZoneId: r.ZoneID, RegionId: cp.w.region,
				VpcId: lb.vpc, VSwitchId: lb.VSwitch, AutoAllocatedEnabled: r.AutoAllocated,
				RelatedEndpointCount: u.active, RelatedDeprecatedEndpointCount: u.deprecated,
			}
		})
		if err != nil {
			return nil, err
		}
		return &ListResourcesResult{Resources: items, MaxResults: max, NextToken: next}, nil
	})
}

// UpdateVpcEndpointServiceResourceAttribute turns automatic allocation of a
// resource on or off; every zone keeps at least one auto-allocatable one.
func (cp *ControlPlane) UpdateVpcEndpointServiceResourceAttribute(c Caller, serviceID string, r ResourceRef, auto *bool) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, err := cp.ownService(t.c.UID, serviceID)
		if err != nil {
			return struct{}{}, err
		}
		if r.ID == "" {
			return struct{}{}, missing("ResourceId")
		}
		if auto == nil {
			return struct{}{}, missing("AutoAllocatedEnabled")
		}
		if r.Type != "" {
			if err := validResourceType("ResourceType", r.Type); err != nil {
				return struct{}{}, err
			}
		}
		res := s.resource(r.ID)
		if res == nil {
			return struct{}{}, errResourceNotAttached.with(r.ID, s.ID)
		}
		if r.ZoneID != "" && r.ZoneID != res.ZoneID {
			return struct{}{}, invalidf("ZoneId", "resource %s is in zone %s", r.ID, res.ZoneID)
		}
		if !*auto && res.AutoAllocated && !cp.otherAuto(s, res) {
			return struct{}{}, errLastAutoAllocated.with(r.ID, res.ZoneID)
		}
		if err := serviceLocked(s); err != nil {
			return struct{}{}, err
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		res.AutoAllocated = *auto
		t.touchService(s.ID)
		return struct{}{}, nil
	})
	return err
}

// parseUser accepts a UserId (16-digit UID or "*") or a UserARN
// (acs:ram:*:<uid>:*) and returns the whitelist entry.
func parseUser(userID, arn string) (string, error) {
	switch {
	case userID != "" && arn != "":
		return "", invalid("UserARN", "give UserId or UserARN, not both")
	case userID == "*":
		return "*", nil
	case userID != "":
		return userID, validUID("UserId", userID)
	case arn == "*":
		return "*", nil
	case arn != "":
		parts := strings.Split(arn, ":")
		if len(parts) < 4 || parts[0] != "acs" || parts[1] != "ram" {
			return "", invalid("UserARN", "must look like acs:ram:*:<uid>:*")
		}
		return parts[3], validUID("UserARN", parts[3])
	}
	return "", missing("UserId")
}

// AddUserToVpcEndpointService puts an account (or "*") on the whitelist.
func (cp *ControlPlane) AddUserToVpcEndpointService(c Caller, serviceID, userID, arn string) error {
	return cp.changeUser(c, serviceID, userID, arn, true)
}

// RemoveUserFromVpcEndpointService takes an account off the whitelist;
// existing connections stay.
func (cp *ControlPlane) RemoveUserFromVpcEndpointService(c Caller, serviceID, userID, arn string) error {
	return cp.changeUser(c, serviceID, userID, arn, false)
}

func (cp *ControlPlane) changeUser(c Caller, serviceID, userID, arn string, add bool) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		s, err := cp.ownService(t.c.UID, serviceID)
		if err != nil {
			return struct{}{}, err
		}
		u, err := parseUser(userID, arn)
		if err != nil {
			return struct{}{}, err
		}
		on := contains(s.Whitelist, u)
		switch {
		case add && on:
			return struct{}{}, errUserExists.with(u, s.ID)
		case !add && u == s.Owner:
			return struct{}{}, invalid("UserId", "the service owner is always on the whitelist")
		case !add && !on:
			return struct{}{}, errUserNotFound.with(u, s.ID)
		}
		// The whitelist does not touch what a transition changes, so only
		// a service on its way out refuses it.
		if s.Phase.Next == gone {
			return struct{}{}, errServiceLocked.with(s.ID, s.Phase.Status)
		}
		if err := t.dryRun(); err != nil {
			return struct{}{}, err
		}
		if add {
			s.Whitelist = append(s.Whitelist, u)
			sort.Strings(s.Whitelist)
		} else {
			kept := s.Whitelist[:0:0]
			for _, x := range s.Whitelist {
				if x != u {
					kept = append(kept, x)
				}
			}
			s.Whitelist = kept
		}
		t.touchService(s.ID)
		return struct{}{}, nil
	})
	return err
}

// UserInfo and UserARNInfo are the items of ListVpcEndpointServiceUsers.
type UserInfo struct {
	UserId int64 `json:"UserId"`
}

// UserARNInfo is a whitelist entry as an ARN.
type UserARNInfo struct {
	UserARN string `json:"UserARN"`
}

// ListUsersResult is ListVpcEndpointServiceUsers' answer.
type ListUsersResult struct {
	Users      []UserInfo    `json:"Users"`
	UserARNs   []UserARNInfo `json:"UserARNs"`
	TotalCount int           `json:"TotalCount"`
	MaxResults int           `json:"MaxResults"`
	NextToken  string        `json:"NextToken"`
}

// ListVpcEndpointServiceUsers lists a service's whitelist. UserListType
// Users (default) lists UIDs; UserARNs lists ARNs (and "*").
func (cp *ControlPlane) ListVpcEndpointServiceUsers(c Caller, serviceID, userID, listType string, p Page) (*ListUsersResult, error) {
	return read(cp, c, func() (*ListUsersResult, error) {
		s, err := cp.ownService(c.UID, serviceID)
		if err != nil {
			return nil, err
		}
		if userID != "" && userID != "*" {
			if err := validUID("UserId", userID); err != nil {
				return nil, err
			}
		}
		arns := false
		switch listType {
		case "", "Users":
		case "UserARNs":
			arns = true
		default:
			return nil, invalid("UserListType", "must be Users or UserARNs")
		}
		var ids idList
		for _, u := range s.Whitelist {
			if (userID == "" || u == userID) && (arns || u != "*") {
				ids = append(ids, u)
			}
		}
		out := &ListUsersResult{Users: []UserInfo{}, UserARNs: []UserARNInfo{}}
		if arns {
			items, next, total, max, err := paginate(ids, p, nil, func(u string) UserARNInfo {
				if u == "*" {
					return UserARNInfo{"*"}
				}
				return UserARNInfo{"acs:ram:*:" + u + ":*"}
			})
			if err != nil {
				return nil, err
			}
			out.UserARNs, out.NextToken, out.TotalCount, out.MaxResults = items, next, total, max
			return out, nil
		}
		items, next, total, max, err := paginate(ids, p, nil, func(u string) UserInfo {
			n, _ := strconv.ParseInt(u, 10, 64)
			return UserInfo{n}
		})
		if err != nil {
			return nil, err
		}
		out.Users, out.NextToken, out.TotalCount, out.MaxResults = items, next, total, max
		return out, nil
	})
}
