package api

import (
	"context"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) listVpcEndpointConnections(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointConnections(cl, controlplane.ConnectionsInput{
		Page:               pg,
		ServiceID:          p.Get("ServiceId"),
		EndpointID:         p.Get("EndpointId"),
		EndpointOwnerID:    p.Get("EndpointOwnerId"),
		ConnectionStatus:   p.Get("ConnectionStatus"),
		ResourceID:         p.Get("ResourceId"),
		ReplacedResourceID: p.Get("ReplacedResourceId"),
		EniID:              p.Get("EniId"),
		ZoneID:             p.Get("ZoneId"),
		ResourceGroupID:    p.Get("ResourceGroupId"),
	}))
}

func (a *api) enableVpcEndpointConnection(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	bw, err := optInt(c.Params, "Bandwidth")
	if err != nil {
		return nil, err
	}
	return done(a.cp.EnableVpcEndpointConnection(cl, c.Params.Get("ServiceId"), c.Params.Get("EndpointId"), bw))
}

func (a *api) disableVpcEndpointConnection(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.DisableVpcEndpointConnection(cl, c.Params.Get("ServiceId"), c.Params.Get("EndpointId")))
}

func (a *api) updateVpcEndpointConnectionAttribute(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	bw, err := optInt(c.Params, "Bandwidth")
	if err != nil {
		return nil, err
	}
	return done(a.cp.UpdateVpcEndpointConnectionAttribute(cl, c.Params.Get("ServiceId"), c.Params.Get("EndpointId"), bw))
}

func (a *api) enableVpcEndpointZoneConnection(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	return done(a.cp.EnableVpcEndpointZoneConnection(cl, p.Get("ServiceId"), p.Get("EndpointId"), p.Get("ZoneId")))
}

func (a *api) disableVpcEndpointZoneConnection(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	replaced, _, err := p.Bool("ReplacedResource")
	if err != nil {
		return nil, err
	}
	return done(a.cp.DisableVpcEndpointZoneConnection(cl, p.Get("ServiceId"), p.Get("EndpointId"), p.Get("ZoneId"), replaced))
}

func (a *api) updateZoneConnectionResource(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	return done(a.cp.UpdateVpcEndpointZoneConnectionResourceAttribute(cl, controlplane.ZoneResourceInput{
		ServiceID:    p.Get("ServiceId"),
		EndpointID:   p.Get("EndpointId"),
		ZoneID:       p.Get("ZoneId"),
		AllocateMode: p.Get("ResourceAllocateMode"),
		ReplaceMode:  p.Get("ResourceReplaceMode"),
		ResourceID:   p.Get("ResourceId"),
		ResourceType: p.Get("ResourceType"),
	}))
}
