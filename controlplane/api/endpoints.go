package api

import (
	"context"
	"strconv"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

func (a *api) createVpcEndpoint(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
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

func (a *api) deleteVpcEndpoint(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.Params.Bool("Force"); err != nil {
		return nil, err
	}
	return done(a.cp.DeleteVpcEndpoint(cl, c.Params.Get("EndpointId")))
}

func (a *api) getVpcEndpointAttribute(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	info, err := a.cp.GetVpcEndpointAttribute(cl, c.Params.Get("EndpointId"))
	if err != nil {
		return nil, err
	}
	return (*endpointJSON)(info), nil
}

func (a *api) listVpcEndpoints(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
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

func (a *api) updateVpcEndpointAttribute(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	return done(a.cp.UpdateVpcEndpointAttribute(cl, p.Get("EndpointId"),
		optString(p, "EndpointName"), optString(p, "EndpointDescription")))
}

func (a *api) addZoneToVpcEndpoint(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	p := c.Params
	for _, name := range []string{"EndpointId", "ZoneId", "VSwitchId"} {
		if !p.Has(name) {
			return nil, rpc.MissingParameter(name)
		}
	}
	return done(a.cp.AddZoneToVpcEndpoint(cl, p.Get("EndpointId"), controlplane.ZoneSpec{
		ZoneID: p.Get("ZoneId"), VSwitchID: p.Get("VSwitchId"), IP: p.Get("ip"),
	}))
}

func (a *api) removeZoneFromVpcEndpoint(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.RemoveZoneFromVpcEndpoint(cl, c.Params.Get("EndpointId"), c.Params.Get("ZoneId")))
}

func (a *api) listVpcEndpointZones(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointZones(cl, c.Params.Get("EndpointId"), pg))
}

func (a *api) attachSecurityGroup(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.AttachSecurityGroupToVpcEndpoint(cl, c.Params.Get("EndpointId"), c.Params.Get("SecurityGroupId")))
}

func (a *api) detachSecurityGroup(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	return done(a.cp.DetachSecurityGroupFromVpcEndpoint(cl, c.Params.Get("EndpointId"), c.Params.Get("SecurityGroupId")))
}

func (a *api) listVpcEndpointSecurityGroups(_ context.Context, c *rpc.Call) (any, error) {
	cl, err := caller(c)
	if err != nil {
		return nil, err
	}
	pg, err := page(c.Params)
	if err != nil {
		return nil, err
	}
	return result(a.cp.ListVpcEndpointSecurityGroups(cl, c.Params.Get("EndpointId"), pg))
}
