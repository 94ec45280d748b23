package api

import (
	"context"

	"eplink/controlplane/rpc"
)

func (a *api) describeRegions(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return result(a.cp.DescribeRegions(cl))
}

func (a *api) describeZones(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return result(a.cp.DescribeZones(cl, c.Params.Get("ServiceResourceType")))
}

func (a *api) checkProductOpen(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return result(a.cp.CheckProductOpen(cl))
}

func (a *api) openPrivateLinkService(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.Params.Int("OwnerId", 0, 1<<62); err != nil {
		return nil, err
	}
	return result(a.cp.OpenPrivateLinkService(cl))
}

func (a *api) tagResources(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	ids, err := c.Params.List("ResourceId")
	if err != nil {
		return nil, err
	}
	tg, err := tags(c.Params)
	if err != nil {
		return nil, err
	}
	return done(a.cp.TagResources(cl, c.Params.Get("ResourceType"), ids, tg))
}

func (a *api) untagResources(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	ids, err := c.Params.List("ResourceId")
	if err != nil {
		return nil, err
	}
	keys, err := c.Params.List("TagKey")
	if err != nil {
		return nil, err
	}
	all, _, err := c.Params.Bool("All")
	if err != nil {
		return nil, err
	}
	return done(a.cp.UntagResources(cl, c.Params.Get("ResourceType"), ids, keys, all))
}

func (a *api) listTagResources(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	ids, err := c.Params.List("ResourceId")
	if err != nil {
		return nil, err
	}
	tg, err := tags(c.Params)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListTagResources(cl, c.Params.Get("ResourceType"), ids, tg, pg))
}

func (a *api) changeResourceGroup(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	if r := p.Get("ResourceRegionId"); r != "" && cl.Region == "" {
		cl.Region = r
	}
	return done(a.cp.ChangeResourceGroup(cl, p.Get("ResourceType"), p.Get("ResourceId"), p.Get("ResourceGroupId")))
}

func (a *api) checkResourceSupportOperate(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	return result(a.cp.CheckResourceSupportOperate(cl, p.Get("ResourceType"), p.Get("ResourceId"), p.Get("ZoneId")))
}

func (a *api) notifyResourceAddressFamily(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	return done(a.cp.NotifyResourceAddressFamily(cl, p.Get("ResourceType"), p.Get("ResourceId"), p.Get("AddressFamily")))
}
