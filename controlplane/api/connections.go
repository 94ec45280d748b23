package api

import (
	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) listVpcEndpointConnections(cl controlplane.Caller, p rpc.Params) (any, error) {
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

func (a *api) enableVpcEndpointConnection(cl controlplane.Caller, p rpc.Params) (any, error) {
	bw, err := optInt(p, "Bandwidth")
	if err != nil {
		return nil, err
	}
	// AutoAllocatedEnabled is the console's "accept and allocate
	// automatically" choice; the SDK sends it as an extra query parameter.
	auto, _, err := p.Bool("AutoAllocatedEnabled")
	if err != nil {
		return nil, err
	}
	return done(a.cp.EnableVpcEndpointConnection(cl, controlplane.AcceptInput{
		ServiceID: p.Get("ServiceId"), EndpointID: p.Get("EndpointId"), Bandwidth: bw, AutoAllocate: auto,
	}))
}

func (a *api) disableVpcEndpointConnection(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.DisableVpcEndpointConnection(cl, p.Get("ServiceId"), p.Get("EndpointId")))
}

func (a *api) updateVpcEndpointConnectionAttribute(cl controlplane.Caller, p rpc.Params) (any, error) {
	bw, err := optInt(p, "Bandwidth")
	if err != nil {
		return nil, err
	}
	return done(a.cp.UpdateVpcEndpointConnectionAttribute(cl, p.Get("ServiceId"), p.Get("EndpointId"), bw))
}

func (a *api) enableVpcEndpointZoneConnection(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.EnableVpcEndpointZoneConnection(cl, p.Get("ServiceId"), p.Get("EndpointId"), p.Get("ZoneId")))
}

func (a *api) disableVpcEndpointZoneConnection(cl controlplane.Caller, p rpc.Params) (any, error) {
	replaced, _, err := p.Bool("ReplacedResource")
	if err != nil {
		return nil, err
	}
	return done(a.cp.DisableVpcEndpointZoneConnection(cl, p.Get("ServiceId"), p.Get("EndpointId"), p.Get("ZoneId"), replaced))
}

func (a *api) updateZoneConnectionResource(cl controlplane.Caller, p rpc.Params) (any, error) {
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
