package api

import (
	"strconv"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) createVpcEndpoint(cl controlplane.Caller, p rpc.Params) (any, error) {
	var err error
	in := controlplane.CreateEndpointInput{
		VpcID:           p.Get("VpcId"),
		ServiceID:       p.Get("ServiceId"),
		ServiceName:     p.Get("ServiceName"),
		Name:            optString(p, "EndpointName"),
		Description:     optString(p, "EndpointDescription"),
		EndpointType:    p.Get("EndpointType"),
		ResourceGroupID: p.Get("ResourceGroupId"),
	}
	if in.VpcID == "" {
		return nil, rpc.MissingParameter("VpcId")
	}
	if in.SecurityGroupIDs, err = p.List("SecurityGroupId"); err != nil {
		return nil, err
	}
	zones, err := p.Structs("Zone")
	if err != nil {
		return nil, err
	}
	for i, z := range zones {
		for f := range z {
			if f != "ZoneId" && f != "VSwitchId" && f != "ip" && f != "Ipv6Address" {
				return nil, rpc.InvalidParameter("Zone."+strconv.Itoa(i+1)+"."+f, "unknown field")
			}
		}
		in.Zones = append(in.Zones, controlplane.ZoneSpec{ZoneID: z["ZoneId"], VSwitchID: z["VSwitchId"], IP: z["ip"]})
	}
	if n, err := optInt(p, "ZonePrivateIpAddressCount"); err != nil {
		return nil, err
	} else if n != nil {
		in.ZoneIPCount = *n
		if *n == 0 {
			in.ZoneIPCount = -1
		}
	}
	if in.Protected, _, err = p.Bool("ProtectedEnabled"); err != nil {
		return nil, err
	}
	if in.Tags, err = tags(p); err != nil {
		return nil, err
	}
	return result(a.cp.CreateVpcEndpoint(cl, in))
}

func (a *api) deleteVpcEndpoint(cl controlplane.Caller, p rpc.Params) (any, error) {
	if _, _, err := p.Bool("Force"); err != nil {
		return nil, err
	}
	return done(a.cp.DeleteVpcEndpoint(cl, p.Get("EndpointId")))
}

func (a *api) getVpcEndpointAttribute(cl controlplane.Caller, p rpc.Params) (any, error) {
	info, err := a.cp.GetVpcEndpointAttribute(cl, p.Get("EndpointId"))
	if err != nil {
		return nil, err
	}
	return (*endpointJSON)(info), nil
}

func (a *api) listVpcEndpoints(cl controlplane.Caller, p rpc.Params) (any, error) {
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	in := controlplane.ListEndpointsInput{
		Page:             pg,
		EndpointID:       p.Get("EndpointId"),
		EndpointName:     p.Get("EndpointName"),
		EndpointStatus:   p.Get("EndpointStatus"),
		EndpointType:     p.Get("EndpointType"),
		ConnectionStatus: p.Get("ConnectionStatus"),
		ServiceName:      p.Get("ServiceName"),
		VpcID:            p.Get("VpcId"),
		ResourceGroupID:  p.Get("ResourceGroupId"),
	}
	if in.Tags, err = tags(p); err != nil {
		return nil, err
	}
	res, err := a.cp.ListVpcEndpoints(cl, in)
	if err != nil {
		return nil, err
	}
	return (*listEndpointsJSON)(res), nil
}

func (a *api) updateVpcEndpointAttribute(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.UpdateVpcEndpointAttribute(cl, p.Get("EndpointId"),
		optString(p, "EndpointName"), optString(p, "EndpointDescription")))
}

func (a *api) addZoneToVpcEndpoint(cl controlplane.Caller, p rpc.Params) (any, error) {
	for _, name := range []string{"EndpointId", "ZoneId", "VSwitchId"} {
		if !p.Has(name) {
			return nil, rpc.MissingParameter(name)
		}
	}
	return done(a.cp.AddZoneToVpcEndpoint(cl, p.Get("EndpointId"), controlplane.ZoneSpec{
		ZoneID: p.Get("ZoneId"), VSwitchID: p.Get("VSwitchId"), IP: p.Get("ip"),
	}))
}

func (a *api) removeZoneFromVpcEndpoint(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.RemoveZoneFromVpcEndpoint(cl, p.Get("EndpointId"), p.Get("ZoneId")))
}

func (a *api) listVpcEndpointZones(cl controlplane.Caller, p rpc.Params) (any, error) {
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointZones(cl, p.Get("EndpointId"), pg))
}

func (a *api) attachSecurityGroup(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.AttachSecurityGroupToVpcEndpoint(cl, p.Get("EndpointId"), p.Get("SecurityGroupId")))
}

func (a *api) detachSecurityGroup(cl controlplane.Caller, p rpc.Params) (any, error) {
	return done(a.cp.DetachSecurityGroupFromVpcEndpoint(cl, p.Get("EndpointId"), p.Get("SecurityGroupId")))
}

func (a *api) listVpcEndpointSecurityGroups(cl controlplane.Caller, p rpc.Params) (any, error) {
	pg, err := page(p)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointSecurityGroups(cl, p.Get("EndpointId"), pg))
}
