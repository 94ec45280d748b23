package api

import (
	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) describeRegions(cl controlplane.Caller, p rpc.Params) (any, error) {
	return result(a.cp.DescribeRegions(cl))
}

func (a *api) describeZones(cl controlplane.Caller, p rpc.Params) (any, error) {
	return result(a.cp.DescribeZones(cl, p.Get("ServiceResourceType")))
}

func (a *api) checkProductOpen(cl controlplane.Caller, p rpc.Params) (any, error) {
	return result(a.cp.CheckProductOpen(cl))
}

func (a *api) openPrivateLinkService(cl controlplane.Caller, p rpc.Params) (any, error) {
	if _, _, err := p.Int("OwnerId", 0, 1<<62); err != nil {
		return nil, err
	}
	return result(a.cp.OpenPrivateLinkService(cl))
}

func (a *api) tagResources(cl controlplane.Caller, p rpc.Params) (any, error) {
	ids, err := p.List("ResourceId")
	if err != nil {
		return nil, err
	}
	tg, err := tags(p)
	if err != nil {
		return nil, err
	}
	return done(a.cp.TagResources(cl, p.Get("ResourceType"), ids, tg))
}

func (a *api) untagResources(cl controlplane.Caller, p rpc.Params) (any, error) {
	ids, err := p.List("ResourceId")
	if err != nil {
		return nil, err
	}
	keys, err := p.List("TagKey")
	if err != nil {
		return nil, err
	}
	all, _, err := p.Bool("All")
	if err != nil {
		return nil, err
	}
	return done(a.cp.UntagResources(cl, p.Get("ResourceType"), ids, keys, all))
}

func (a *api) listTagResources(cl controlplane.Caller, p rpc.Params) (any, error) {
	ids, err := p.List("ResourceId")
	if err != nil {
		return nil, err
	}
	tg, err := tags(p)
	if err != nil {
		return nil, err
	}
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListTagResources(cl, p.Get("ResourceType"), ids, tg, pg))
}

func (a *api) changeResourceGroup(cl controlplane.Caller, p rpc.Params) (any, error) {
	if r := p.Get("ResourceRegionId"); r != "" && cl.Region == "" {
		cl.Region = r
	}
	return done(a.cp.ChangeResourceGroup(cl, p.Get("ResourceType"), p.Get("ResourceId"), p.Get("ResourceGroupId")))
}

func (a *api) checkResourceSupportOperate(cl controlplane.Caller, p rpc.Params) (any, error) {
	return result(a.cp.CheckResourceSupportOperate(cl, p.Get("ResourceType"), p.Get("ResourceId"), p.Get("ZoneId")))
}

func (a *api) notifyResourceAddressFamily(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.NotifyResourceAddressFamily(cl, p.Get("ResourceType"), p.Get("ResourceId"), p.Get("AddressFamily")))
}
