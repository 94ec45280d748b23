package api

import (
	"context"
	"strconv"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) createVpcEndpointService(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	in := controlplane.CreateServiceInput{
		ServiceResourceType: p.Get("ServiceResourceType"),
		Payer:               p.Get("Payer"),
		Description:         optString(p, "ServiceDescription"),
		PrivateDomain:       p.Get("PrivateServiceDomain"),
		ResourceGroupID:     p.Get("ResourceGroupId"),
	}
	res, err := p.Structs("Resource")
	if err != nil {
		return nil, err
	}
	for i, r := range res {
		for f := range r {
			if f != "ResourceType" && f != "ResourceId" && f != "ZoneId" {
				return nil, rpc.InvalidParameter("Resource."+strconv.Itoa(i+1)+"."+f, "unknown field")
			}
		}
		in.Resources = append(in.Resources, controlplane.ResourceRef{Type: r["ResourceType"], ID: r["ResourceId"], ZoneID: r["ZoneId"]})
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{
		{"AutoAcceptEnabled", &in.AutoAccept},
		{"ZoneAffinityEnabled", &in.ZoneAffinity},
		{"ServiceSupportIPv6", &in.SupportIPv6},
		{"PrivateServiceDomainEnabled", &in.PrivateDomainEnabled},
	} {
		if *b.dst, _, err = p.Bool(b.name); err != nil {
			return nil, err
		}
	}
	if in.Tags, err = tags(p); err != nil {
		return nil, err
	}
	return result(a.cp.CreateVpcEndpointService(cl, in))
}

func (a *api) deleteVpcEndpointService(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.DeleteVpcEndpointService(cl, c.Params.Get("ServiceId")))
}

func (a *api) getVpcEndpointServiceAttribute(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return result(a.cp.GetVpcEndpointServiceAttribute(cl, c.Params.Get("ServiceId")))
}

func listServicesInput(p rpc.Params) (controlplane.ListServicesInput, error) {
	pg, err := page(p)
	if err != nil {
		return controlplane.ListServicesInput{}, err
	}
	in := controlplane.ListServicesInput{
		Page:                  pg,
		ServiceID:             p.Get("ServiceId"),
		ServiceName:           p.Get("ServiceName"),
		ServiceStatus:         p.Get("ServiceStatus"),
		ServiceBusinessStatus: p.Get("ServiceBusinessStatus"),
		ServiceResourceType:   p.Get("ServiceResourceType"),
		ResourceID:            p.Get("ResourceId"),
		ResourceGroupID:       p.Get("ResourceGroupId"),
		ServiceType:           p.Get("ServiceType"),
	}
	if in.AutoAccept, err = optBool(p, "AutoAcceptEnabled"); err != nil {
		return in, err
	}
	if in.ZoneAffinity, err = optBool(p, "ZoneAffinityEnabled"); err != nil {
		return in, err
	}
	in.Tags, err = tags(p)
	return in, err
}

func (a *api) listVpcEndpointServices(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	in, err := listServicesInput(c.Params)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServices(cl, in))
}

func (a *api) listVpcEndpointServicesByEndUser(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	in, err := listServicesInput(c.Params)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServicesByEndUser(cl, in))
}

func (a *api) updateVpcEndpointServiceAttribute(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	in := controlplane.UpdateServiceInput{
		ServiceID:     p.Get("ServiceId"),
		Description:   optString(p, "ServiceDescription"),
		PrivateDomain: optString(p, "PrivateServiceDomain"),
	}
	if in.AutoAccept, err = optBool(p, "AutoAcceptEnabled"); err != nil {
		return nil, err
	}
	if in.ZoneAffinity, err = optBool(p, "ZoneAffinityEnabled"); err != nil {
		return nil, err
	}
	if in.SupportIPv6, err = optBool(p, "ServiceSupportIPv6"); err != nil {
		return nil, err
	}
	if in.PrivateDomainEnabled, err = optBool(p, "PrivateServiceDomainEnabled"); err != nil {
		return nil, err
	}
	if in.ConnectBandwidth, err = optInt(p, "ConnectBandwidth"); err != nil {
		return nil, err
	}
	return done(a.cp.UpdateVpcEndpointServiceAttribute(cl, in))
}

func resourceRef(p rpc.Params) controlplane.ResourceRef {
	return controlplane.ResourceRef{Type: p.Get("ResourceType"), ID: p.Get("ResourceId"), ZoneID: p.Get("ZoneId")}
}

func (a *api) attachResource(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.AttachResourceToVpcEndpointService(cl, c.Params.Get("ServiceId"), resourceRef(c.Params)))
}

func (a *api) detachResource(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.DetachResourceFromVpcEndpointService(cl, c.Params.Get("ServiceId"), resourceRef(c.Params)))
}

func (a *api) listVpcEndpointServiceResources(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServiceResources(cl, c.Params.Get("ServiceId"), c.Params.Get("ZoneId"), pg))
}

func (a *api) updateVpcEndpointServiceResourceAttribute(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	auto, err := optBool(c.Params, "AutoAllocatedEnabled")
	if err != nil {
		return nil, err
	}
	return done(a.cp.UpdateVpcEndpointServiceResourceAttribute(cl, c.Params.Get("ServiceId"), resourceRef(c.Params), auto))
}

func (a *api) addUser(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.AddUserToVpcEndpointService(cl, c.Params.Get("ServiceId"), c.Params.Get("UserId"), c.Params.Get("UserARN")))
}

func (a *api) removeUser(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.RemoveUserFromVpcEndpointService(cl, c.Params.Get("ServiceId"), c.Params.Get("UserId"), c.Params.Get("UserARN")))
}

func (a *api) listVpcEndpointServiceUsers(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	p := c.Params
	return result(a.cp.ListVpcEndpointServiceUsers(cl, p.Get("ServiceId"), p.Get("UserId"), p.Get("UserListType"), pg))
}
