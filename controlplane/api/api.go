// Package api is the PrivateLink OpenAPI (2020-04-15) on top of
// controlplane/rpc: one Handler per action, each a thin decoder of
// rpc.Params into the model's typed request, a call, and the model's
// answer (whose JSON matches the official SDK's response structs).
//
// Files follow the resource families of the API reference: endpoints.go
// (B1), services.go (B2), connections.go (B3), misc.go (B4).
package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sort"
	"strconv"

	"eplink/controlplane"
	"eplink/controlplane/rpc"
)

// Version is the API version served.
const Version = "2020-04-15"

// New returns the PrivateLink OpenAPI as an http.Handler: an rpc.Server
// with every action registered and the control plane's AccessKeys.
func New(cp *controlplane.ControlPlane, logger *slog.Logger) *rpc.Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	a := &api{cp: cp}
	actions := map[string]rpc.Handler{}
	for name, h := range a.handlers() {
		actions[name] = withCaller(h)
	}
	return &rpc.Server{
		Version:     Version,
		HostID:      "privatelink." + cp.Region() + ".aliyuncs.com",
		Product:     "Privatelink",
		Actions:     actions,
		Credentials: cp.Credentials,
		Logger:      logger,
	}
}

type api struct {
	cp *controlplane.ControlPlane
}

// empty is the answer of actions that return only RequestId.
type empty struct{}

// handler is one action: the decoded caller and the action's parameters in,
// the model's answer out.
type handler func(cl controlplane.Caller, p rpc.Params) (any, error)

// withCaller decodes what every action shares (caller, ClientToken, DryRun)
// once, in front of the action's own decoding.
func withCaller(h handler) rpc.Handler {
	return func(_ context.Context, c *rpc.Call) (any, error) {
		cl, err := caller(c)
		if err != nil {
			return nil, err
		}
		return h(cl, c.Params)
	}
}

func (a *api) handlers() map[string]handler {
	return map[string]handler{
		// B1 endpoints
		"CreateVpcEndpoint":                  a.createVpcEndpoint,
		"DeleteVpcEndpoint":                  a.deleteVpcEndpoint,
		"GetVpcEndpointAttribute":            a.getVpcEndpointAttribute,
		"ListVpcEndpoints":                   a.listVpcEndpoints,
		"UpdateVpcEndpointAttribute":         a.updateVpcEndpointAttribute,
		"AddZoneToVpcEndpoint":               a.addZoneToVpcEndpoint,
		"RemoveZoneFromVpcEndpoint":          a.removeZoneFromVpcEndpoint,
		"ListVpcEndpointZones":               a.listVpcEndpointZones,
		"AttachSecurityGroupToVpcEndpoint":   a.attachSecurityGroup,
		"DetachSecurityGroupFromVpcEndpoint": a.detachSecurityGroup,
		"ListVpcEndpointSecurityGroups":      a.listVpcEndpointSecurityGroups,
		// B2 services
		"CreateVpcEndpointService":                  a.createVpcEndpointService,
		"DeleteVpcEndpointService":                  a.deleteVpcEndpointService,
		"GetVpcEndpointServiceAttribute":            a.getVpcEndpointServiceAttribute,
		"ListVpcEndpointServices":                   a.listVpcEndpointServices,
		"ListVpcEndpointServicesByEndUser":          a.listVpcEndpointServicesByEndUser,
		"UpdateVpcEndpointServiceAttribute":         a.updateVpcEndpointServiceAttribute,
		"AttachResourceToVpcEndpointService":        a.attachResource,
		"DetachResourceFromVpcEndpointService":      a.detachResource,
		"ListVpcEndpointServiceResources":           a.listVpcEndpointServiceResources,
		"UpdateVpcEndpointServiceResourceAttribute": a.updateVpcEndpointServiceResourceAttribute,
		"AddUserToVpcEndpointService":               a.addUser,
		"RemoveUserFromVpcEndpointService":          a.removeUser,
		"ListVpcEndpointServiceUsers":               a.listVpcEndpointServiceUsers,
		// B3 connections
		"ListVpcEndpointConnections":                       a.listVpcEndpointConnections,
		"EnableVpcEndpointConnection":                      a.enableVpcEndpointConnection,
		"DisableVpcEndpointConnection":                     a.disableVpcEndpointConnection,
		"UpdateVpcEndpointConnectionAttribute":             a.updateVpcEndpointConnectionAttribute,
		"EnableVpcEndpointZoneConnection":                  a.enableVpcEndpointZoneConnection,
		"DisableVpcEndpointZoneConnection":                 a.disableVpcEndpointZoneConnection,
		"UpdateVpcEndpointZoneConnectionResourceAttribute": a.updateZoneConnectionResource,
		// B4 regions, product, tags, resource groups
		"DescribeRegions":             a.describeRegions,
		"DescribeZones":               a.describeZones,
		"CheckProductOpen":            a.checkProductOpen,
		"OpenPrivateLinkService":      a.openPrivateLinkService,
		"TagResources":                a.tagResources,
		"UntagResources":              a.untagResources,
		"ListTagResources":            a.listTagResources,
		"ChangeResourceGroup":         a.changeResourceGroup,
		"CheckResourceSupportOperate": a.checkResourceSupportOperate,
		"NotifyResourceAddressFamily": a.notifyResourceAddressFamily,
	}
}

// caller builds the model's Caller: who, which action, ClientToken and the
// fingerprint of the other parameters, DryRun.
func caller(c *rpc.Call) (controlplane.Caller, error) {
	dry, _, err := c.Params.Bool("DryRun")
	if err != nil {
		return controlplane.Caller{}, err
	}
	cl := controlplane.Caller{
		UID:         c.CallerUID,
		Action:      c.Action,
		ClientToken: c.Params.Get("ClientToken"),
		DryRun:      dry,
		Region:      c.RegionID,
	}
	if cl.ClientToken != "" {
		cl.Fingerprint = fingerprint(c.Params)
	}
	return cl, nil
}

// fingerprint hashes the parameters except ClientToken, in key order.
func fingerprint(p rpc.Params) string {
	keys := make([]string, 0, len(p))
	for k, v := range p {
		if k != "ClientToken" && v != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(p[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// optString returns a pointer to the parameter's value, nil when absent.
func optString(p rpc.Params, name string) *string {
	if v, ok := p[name]; ok && v != "" {
		return &v
	}
	return nil
}

func optBool(p rpc.Params, name string) (*bool, error) {
	v, set, err := p.Bool(name)
	if err != nil || !set {
		return nil, err
	}
	return &v, nil
}

func optInt(p rpc.Params, name string) (*int, error) {
	v, set, err := p.Int(name, -1<<31, 1<<31-1)
	if err != nil || !set {
		return nil, err
	}
	n := int(v)
	return &n, nil
}

// page decodes MaxResults (1–50) and NextToken.
func page(p rpc.Params) (controlplane.Page, error) {
	v, set, err := p.Int("MaxResults", -1<<31, 1<<31-1)
	if err != nil {
		return controlplane.Page{}, err
	}
	if set && (v < 1 || v > 50) {
		return controlplane.Page{}, rpc.InvalidParameter("MaxResults", "must be between 1 and 50")
	}
	return controlplane.Page{MaxResults: int(v), NextToken: p.Get("NextToken")}, nil
}

// tags decodes Tag.N.Key / Tag.N.Value.
func tags(p rpc.Params) ([]controlplane.Tag, error) {
	list, err := p.Structs("Tag")
	if err != nil {
		return nil, err
	}
	var out []controlplane.Tag
	for i, m := range list {
		for f := range m {
			if f != "Key" && f != "Value" {
				return nil, rpc.InvalidParameter("Tag."+strconv.Itoa(i+1)+"."+f, "unknown field")
			}
		}
		out = append(out, controlplane.Tag{Key: m["Key"], Value: m["Value"]})
	}
	return out, nil
}

// call adapts a model call returning (T, error) to a Handler result.
func result[T any](v T, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func done(err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return empty{}, nil
}
