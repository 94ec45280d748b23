package api

import (
	"strconv"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) createVpcEndpointService(cl controlplane.Caller, p rpc.Params) (any, error) {
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

func (a *api) deleteVpcEndpointService(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.DeleteVpcEndpointService(cl, p.Get("ServiceId")))
}

func (a *api) getVpcEndpointServiceAttribute(cl controlplane.Caller, p rpc.Params) (any, error) {
	return result(a.cp.GetVpcEndpointServiceAttribute(cl, p.Get("ServiceId")))
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

func (a *api) listVpcEndpointServices(cl controlplane.Caller, p rpc.Params) (any, error) {
	in, err := listServicesInput(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServices(cl, in))
}

func (a *api) listVpcEndpointServicesByEndUser(cl controlplane.Caller, p rpc.Params) (any, error) {
	in, err := listServicesInput(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServicesByEndUser(cl, in))
}

func (a *api) updateVpcEndpointServiceAttribute(cl controlplane.Caller, p rpc.Params) (any, error) {
	var err error
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

func (a *api) attachResource(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.AttachResourceToVpcEndpointService(cl, p.Get("ServiceId"), resourceRef(p)))
}

func (a *api) detachResource(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.DetachResourceFromVpcEndpointService(cl, p.Get("ServiceId"), resourceRef(p)))
}

func (a *api) listVpcEndpointServiceResources(cl controlplane.Caller, p rpc.Params) (any, error) {
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServiceResources(cl, p.Get("ServiceId"), p.Get("ZoneId"), pg))
}

func (a *api) updateVpcEndpointServiceResourceAttribute(cl controlplane.Caller, p rpc.Params) (any, error) {
	auto, err := optBool(p, "AutoAllocatedEnabled")
	if err != nil {
		return nil, err
	}
	return done(a.cp.UpdateVpcEndpointServiceResourceAttribute(cl, p.Get("ServiceId"), resourceRef(p), auto))
}

func (a *api) addUser(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.AddUserToVpcEndpointService(cl, p.Get("ServiceId"), p.Get("UserId"), p.Get("UserARN")))
}

func (a *api) removeUser(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.RemoveUserFromVpcEndpointService(cl, p.Get("ServiceId"), p.Get("UserId"), p.Get("UserARN")))
}

func (a *api) listVpcEndpointServiceUsers(cl controlplane.Caller, p rpc.Params) (any, error) {
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointServiceUsers(cl, p.Get("ServiceId"), p.Get("UserId"), p.Get("UserListType"), pg))
}
