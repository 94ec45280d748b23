package controlplane

import (
	"sort"
	"strconv"
	"strings"
)

// RegionInfo and the other types here answer reference §B4's actions.
type RegionInfo struct {
	RegionId       string `json:"RegionId"`
	LocalName      string `json:"LocalName"`
	RegionEndpoint string `json:"RegionEndpoint"`
}

// RegionsResult is DescribeRegions' answer: a wrapped list, as the SDK wants.
type RegionsResult struct {
	Regions struct {
		Region []RegionInfo `json:"Region"`
	} `json:"Regions"`
}

var regionNames = map[string]string{
	"cn-hangzhou": "华东1（杭州）", "cn-shanghai": "华东2（上海）", "cn-beijing": "华北2（北京）",
	"cn-shenzhen": "华南1（深圳）", "cn-huhehaote": "华北5（呼和浩特）", "ap-southeast-1": "新加坡",
}

// DescribeRegions lists the lab's region (any region may ask).
func (cp *ControlPlane) DescribeRegions(c Caller) (*RegionsResult, error) {
	name := regionNames[cp.w.region]
	if name == "" {
		name = cp.w.region
	}
	out := &RegionsResult{}
	out.Regions.Region = []RegionInfo{{
		RegionId: cp.w.region, LocalName: name, RegionEndpoint: "privatelink." + cp.w.region + ".aliyuncs.com",
	}}
	return out, nil
}

// ZoneName is one zone of DescribeZones.
type ZoneName struct {
	ZoneId    string `json:"ZoneId"`
	LocalName string `json:"LocalName"`
}

// ZonesResult is DescribeZones' answer: a wrapped list.
type ZonesResult struct {
	Zones struct {
		Zone []ZoneName `json:"Zone"`
	} `json:"Zones"`
}

// DescribeZones lists the lab's zones. For slb only zones with a CLB that
// can be a service resource are listed.
func (cp *ControlPlane) DescribeZones(c Caller, resourceType string) (*ZonesResult, error) {
	if err := cp.checkRegion(c); err != nil {
		return nil, err
	}
	switch resourceType {
	case "", "slb", "alb", "nlb":
	default:
		return nil, invalid("ServiceResourceType", "must be slb, alb or nlb")
	}
	out := &ZonesResult{}
	out.Zones.Zone = []ZoneName{}
	for _, z := range cp.w.zones {
		if resourceType == "alb" || resourceType == "nlb" {
			continue
		}
		out.Zones.Zone = append(out.Zones.Zone, ZoneName{ZoneId: z, LocalName: zoneLocalName(z)})
	}
	return out, nil
}

// ProductOpenResult is CheckProductOpen's answer.
type ProductOpenResult struct {
	Success bool `json:"Success"`
}

// CheckProductOpen reports whether the caller activated PrivateLink: lab
// accounts have, unless the lab declares product_open: false.
func (cp *ControlPlane) CheckProductOpen(c Caller) (*ProductOpenResult, error) {
	return read(cp, c, func() (*ProductOpenResult, error) {
		return &ProductOpenResult{Success: cp.productOpen(c.UID)}, nil
	})
}

// productOpen reports whether account uid may use PrivateLink. Call it
// with cp.mu held.
func (cp *ControlPlane) productOpen(uid string) bool {
	if !cp.w.closed[uid] {
		return true
	}
	a := cp.accounts[uid]
	return a != nil && a.Opened
}

// checkOpen refuses the calls of an account that has not activated
// PrivateLink, as the cloud does; activating it and asking are allowed.
// Call it with cp.mu held.
func (cp *ControlPlane) checkOpen(c Caller) error {
	if c.UID == "" || c.Action == "CheckProductOpen" || c.Action == "OpenPrivateLinkService" || cp.productOpen(c.UID) {
		return nil
	}
	return errNeedOpenProduct.with(c.UID)
}

// OpenServiceResult is OpenPrivateLinkService's answer.
type OpenServiceResult struct {
	OrderId string `json:"OrderId"`
}

// OpenPrivateLinkService activates PrivateLink for the caller. Lab accounts
// are open unless declared product_open: false; opening an open one is the
// cloud's ORDER.OPEND.
func (cp *ControlPlane) OpenPrivateLinkService(c Caller) (*OpenServiceResult, error) {
	return mutate(cp, c, func(t *txn) (*OpenServiceResult, error) {
		if cp.productOpen(t.c.UID) {
			return nil, errAlreadyOpened.with(t.c.UID)
		}
		if err := t.dryRun(); err != nil {
			return nil, err
		}
		a := cp.account(t, t.c.UID)
		a.Opened = true
		a.OrderID = strconv.FormatInt(t.now.UnixNano()/1000%1e15, 10)
		return &OpenServiceResult{OrderId: a.OrderID}, nil
	})
}

// taggable finds the caller's endpoint or service by tag resource type.
type taggable struct {
	tags *[]Tag
	rg   *string
	id   string
	ep   bool
}

func (cp *ControlPlane) taggable(uid, typ, id, param string) (taggable, error) {
	switch typ {
	case "VpcEndpoint", "vpcendpoint":
		e, err := cp.ownEndpoint(uid, id)
		if err != nil {
			return taggable{}, err
		}
		return taggable{&e.Tags, &e.ResourceGroupID, id, true}, nil
	case "VpcEndpointService", "vpcendpointservice":
		s, err := cp.ownService(uid, id)
		if err != nil {
			return taggable{}, err
		}
		return taggable{&s.Tags, &s.ResourceGroupID, id, false}, nil
	case "":
		return taggable{}, missing("ResourceType")
	}
	return taggable{}, invalid("ResourceType", "must be VpcEndpoint or VpcEndpointService")
}

func (t *txn) touch(x taggable) {
	if x.ep {
		t.touchEndpoint(x.id)
	} else {
		t.touchService(x.id)
	}
}

// maxTagResources bounds ResourceId.N of the tag actions (docs: 50).
const maxTagResources = 50

// TagResources adds (or overwrites) tags on the caller's endpoints or
// services; a resource carries at most 20 tags.
func (cp *ControlPlane) TagResources(c Caller, typ string, ids []string, tags []Tag) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		if len(ids) == 0 {
			return unit(missing("ResourceId.1"))
		}
		if len(ids) > maxTagResources {
			return unit(invalidf("ResourceId", "at most %d resources", maxTagResources))
		}
		if len(tags) == 0 {
			return unit(missing("Tag.1.Key"))
		}
		if err := validTags(tags); err != nil {
			return unit(err)
		}
		var targets []taggable
		for i, id := range ids {
			x, err := cp.taggable(t.c.UID, typ, id, "ResourceId."+strconv.Itoa(i+1))
			if err != nil {
				return unit(err)
			}
			if n := len(mergeTags(*x.tags, tags)); n > maxTags {
				return unit(errTagLimit.with(id, n, maxTags))
			}
			targets = append(targets, x)
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		for _, x := range targets {
			*x.tags = mergeTags(*x.tags, tags)
			t.touch(x)
		}
		return unit(nil)
	})
	return err
}

// mergeTags returns have with add applied (same key overwrites).
func mergeTags(have, add []Tag) []Tag {
	out := append([]Tag(nil), have...)
	for _, a := range add {
		found := false
		for i := range out {
			if out[i].Key == a.Key {
				out[i].Value, found = a.Value, true
			}
		}
		if !found {
			out = append(out, a)
		}
	}
	return out
}

// UntagResources removes tags by key (or all of them).
func (cp *ControlPlane) UntagResources(c Caller, typ string, ids, keys []string, all bool) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		if len(ids) == 0 {
			return unit(missing("ResourceId.1"))
		}
		if len(ids) > maxTagResources {
			return unit(invalidf("ResourceId", "at most %d resources", maxTagResources))
		}
		if !all && len(keys) == 0 {
			return unit(missing("TagKey.1"))
		}
		var targets []taggable
		for i, id := range ids {
			x, err := cp.taggable(t.c.UID, typ, id, "ResourceId."+strconv.Itoa(i+1))
			if err != nil {
				return unit(err)
			}
			targets = append(targets, x)
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		for _, x := range targets {
			var kept []Tag
			for _, tg := range *x.tags {
				if !all && !contains(keys, tg.Key) {
					kept = append(kept, tg)
				}
			}
			*x.tags = kept
			t.touch(x)
		}
		return unit(nil)
	})
	return err
}

// TagResourceInfo is one item of ListTagResources.
type TagResourceInfo struct {
	ResourceId   string `json:"ResourceId"`
	ResourceType string `json:"ResourceType"`
	TagKey       string `json:"TagKey"`
	TagValue     string `json:"TagValue"`
}

// ListTagResourcesResult is ListTagResources' answer.
type ListTagResourcesResult struct {
	TagResources []TagResourceInfo `json:"TagResources"`
	MaxResults   int               `json:"MaxResults"`
	NextToken    string            `json:"NextToken"`
}

// ListTagResources lists (resource, tag) pairs of the caller's resources of
// one type, narrowed by ids and tags.
func (cp *ControlPlane) ListTagResources(c Caller, typ string, ids []string, tags []Tag, p Page) (*ListTagResourcesResult, error) {
	return read(cp, c, func() (*ListTagResourcesResult, error) {
		if len(ids) == 0 && len(tags) == 0 {
			return nil, missing("ResourceId.1")
		}
		if err := validTagFilter(tags); err != nil {
			return nil, err
		}
		var pool idList
		switch typ {
		case "VpcEndpoint":
			if l := cp.epByOwner[c.UID]; l != nil {
				pool = *l
			}
		case "VpcEndpointService":
			if l := cp.svcByOwner[c.UID]; l != nil {
				pool = *l
			}
		case "":
			return nil, missing("ResourceType")
		default:
			return nil, invalid("ResourceType", "must be VpcEndpoint or VpcEndpointService")
		}
		// Items are (resource, key) pairs; their page keys sort by both.
		var keys idList
		pairs := map[string]TagResourceInfo{}
		for _, id := range pool {
			if len(ids) > 0 && !contains(ids, id) {
				continue
			}
			x, _ := cp.taggable(c.UID, typ, id, "")
			if !hasTags(*x.tags, tags) {
				continue
			}
			for _, tg := range *x.tags {
				k := id + "\x00" + tg.Key
				keys = append(keys, k)
				pairs[k] = TagResourceInfo{ResourceId: id, ResourceType: typ, TagKey: tg.Key, TagValue: tg.Value}
			}
		}
		sort.Strings(keys)
		items, next, _, max, err := paginate(keys, p, nil, func(k string) TagResourceInfo { return pairs[k] })
		if err != nil {
			return nil, err
		}
		return &ListTagResourcesResult{TagResources: items, MaxResults: max, NextToken: next}, nil
	})
}

// ChangeResourceGroup moves an endpoint or service to another resource group.
func (cp *ControlPlane) ChangeResourceGroup(c Caller, typ, id, group string) error {
	_, err := mutate(cp, c, func(t *txn) (struct{}, error) {
		if id == "" {
			return unit(missing("ResourceId"))
		}
		if group == "" {
			return unit(missing("ResourceGroupId"))
		}
		if err := validResourceGroup(group); err != nil {
			return unit(err)
		}
		if typ == "" {
			// Infer the type from the id, as the console does.
			typ = "VpcEndpoint"
			if strings.HasPrefix(id, "epsrv-") {
				typ = "VpcEndpointService"
			}
		}
		x, err := cp.taggable(t.c.UID, typ, id, "ResourceId")
		if err != nil {
			return unit(err)
		}
		if err := t.dryRun(); err != nil {
			return unit(err)
		}
		*x.rg = group
		t.touch(x)
		return unit(nil)
	})
	return err
}

// ResourceSupportResult is CheckResourceSupportOperate's answer.
type ResourceSupportResult struct {
	ResourceZoneCanBeDeleted bool `json:"ResourceZoneCanBeDeleted"`
	ResourceCanBeDowngraded  bool `json:"ResourceCanBeDowngraded"`
}

// CheckResourceSupportOperate tells whether a CLB of the caller could leave
// a zone or be downgraded: only when no endpoint zone uses it.
func (cp *ControlPlane) CheckResourceSupportOperate(c Caller, typ, id, zone string) (*ResourceSupportResult, error) {
	return read(cp, c, func() (*ResourceSupportResult, error) {
		if id == "" {
			return nil, missing("ResourceId")
		}
		if typ != "" {
			if err := validResourceType("ResourceType", typ); err != nil {
				return nil, err
			}
		}
		lb := cp.w.clbs[id]
		if lb == nil || lb.Owner != c.UID {
			return nil, errResourceNotFound.with(id)
		}
		if zone != "" && zone != lb.Zone && zone != lb.BackupZone {
			return nil, invalidf("ZoneId", "CLB %s is not in zone %s", id, zone)
		}
		used := false
		if l := cp.svcByOwner[c.UID]; l != nil {
			for _, sid := range *l {
				if u := cp.resourceUse(sid, id); u.active+u.deprecated > 0 {
					used = true
				}
			}
		}
		return &ResourceSupportResult{ResourceZoneCanBeDeleted: !used, ResourceCanBeDowngraded: !used}, nil
	})
}

// NotifyResourceAddressFamily is an internal action of the cloud; here it
// checks the resource and changes nothing.
func (cp *ControlPlane) NotifyResourceAddressFamily(c Caller, typ, id, family string) error {
	_, err := read(cp, c, func() (struct{}, error) {
		if id == "" {
			return unit(missing("ResourceId"))
		}
		switch family {
		case "", "IPv4", "DualStack":
		default:
			return unit(invalid("AddressFamily", "must be IPv4 or DualStack"))
		}
		lb := cp.w.clbs[id]
		if lb == nil || lb.Owner != c.UID {
			return unit(errResourceNotFound.with(id))
		}
		return unit(nil)
	})
	return err
}
