package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"eplink/controlplane/lab"
)

// The catalog of PrivateLink OpenAPI 2020-04-15 actions that `eplink api`
// knows: their parameters with the rules a user needs to call them
// (required, type, range or allowed values), and which object `--wait`
// polls for each. It mirrors the API reference (B1–B4); the server, not the
// CLI, enforces the rules, so that a user can watch the server reject a
// bad value exactly as the cloud would.

// param is one action parameter. Repeated parameters are named with N for
// the index: "SecurityGroupId.N", "Zone.N.ZoneId".
type param struct {
	Name     string
	Type     string // string, integer, boolean
	Required bool
	Enum     []string
	Min, Max int64 // integer range when Max > 0
	Note     string
}

// object is what an action acts on, and so what `--wait STATUS` polls.
type object int

const (
	objNone       object = iota
	objEndpoint          // EndpointStatus or ConnectionStatus, GetVpcEndpointAttribute
	objConnection        // ConnectionStatus, ListVpcEndpointConnections (provider)
	objZone              // ZoneStatus, ListVpcEndpointZones or the provider's connection zones
	objService           // ServiceStatus, GetVpcEndpointServiceAttribute
)

// action is one API action.
type action struct {
	Name   string
	Doc    string
	Params []param
	// Body: the action parameters travel in the form body, as the SDK
	// sends TagResources; every other action sends them in the query.
	Body   bool
	Object object
	// Open: the action has no parameter catalog here (CloudMonitor's), so
	// its parameters go to the server unchecked.
	Open bool
}

// Status values by field (reference C1). Deleted is not an API value: it
// means "gone", and `--wait Deleted` polls until the object is not found.
var (
	endpointStatuses   = []string{"Creating", "Active", "Pending", "Deleting"}
	connectionStatuses = []string{"Pending", "Connecting", "Connected", "Disconnecting", "Disconnected", "Deleting", "ServiceDeleted"}
	zoneStatuses       = []string{"Creating", "Wait", "Connecting", "Connected", "Disconnecting", "Disconnected", "Deleting", "Migrating", "Migrated"}
	serviceStatuses    = []string{"Creating", "Pending", "Active", "Deleting", "Inactive"}
)

const statusDeleted = "Deleted"

// Builders keep the catalog one line per parameter.

func str(name, note string) param { return param{Name: name, Type: "string", Note: note} }
func boolean(name, note string) param {
	return param{Name: name, Type: "boolean", Note: note}
}
func integer(name string, min, max int64, note string) param {
	return param{Name: name, Type: "integer", Min: min, Max: max, Note: note}
}
func enum(name string, values []string, note string) param {
	return param{Name: name, Type: "string", Enum: values, Note: note}
}
func (p param) required() param { p.Required = true; return p }

var (
	resourceTypes    = []string{"slb", "alb", "nlb", "gwlb"}
	tagResourceTypes = []string{"VpcEndpoint", "VpcEndpointService"}
	nameNote         = "2-128 chars, starts with a letter or Chinese character; letters, digits, - and _"
	descNote         = "2-256 chars, must not start with http:// or https://"
)

// mutating are the parameters every changing action takes.
func mutating(ps ...param) []param {
	return append(ps,
		str("ClientToken", "idempotency token, at most 64 ASCII chars"),
		boolean("DryRun", "validate only: success is the DryRunOperation error"))
}

// paged are the parameters every List action takes.
func paged(ps ...param) []param {
	return append(ps,
		integer("MaxResults", 1, 50, "page size, default 50"),
		str("NextToken", "from the previous page's NextToken"))
}

func tags(prefix string) []param {
	return []param{
		str(prefix+".N.Key", "tag key, at most 64 chars; up to 20 tags"),
		str(prefix+".N.Value", "tag value, at most 128 chars"),
	}
}

// catalog lists every action of reference §B in the reference's order.
var catalog = buildCatalog()

func buildCatalog() []action {
	cat := []action{
		// B1. Endpoints (consumer side)
		{Name: "CreateVpcEndpoint", Object: objEndpoint,
			Doc: "Create an endpoint in a consumer VPC, connected to an endpoint service.",
			Params: mutating(append([]param{
				str("VpcId", "consumer VPC (vpc-…)").required(),
				str("ServiceId", "endpoint service (epsrv-…); this or ServiceName"),
				str("ServiceName", "com.aliyuncs.privatelink.<region>.<epsrv-id>; this or ServiceId"),
				str("SecurityGroupId.N", "security groups of the endpoint's ENIs; at least one").required(),
				str("Zone.N.ZoneId", "zone of an ENI; up to 10 zones, each hosting a service resource"),
				str("Zone.N.VSwitchId", "vSwitch the zone's ENI is created in (with Zone.N.ZoneId)"),
				str("Zone.N.ip", "fixed ENI IPv4 address in the vSwitch; else allocated"),
				str("EndpointName", nameNote),
				str("EndpointDescription", descNote),
				enum("EndpointType", []string{"Interface", "Reverse", "GatewayLoadBalancer"}, "default Interface"),
				integer("ZonePrivateIpAddressCount", 1, 1, "must be 1"),
				boolean("ProtectedEnabled", "managed protection"),
				str("ResourceGroupId", "rg-…"),
				str("SystemTag.N.Key", "internal"),
				str("SystemTag.N.Value", "internal"),
				str("SystemTag.N.Scope", "internal"),
			}, tags("Tag")...)...)},
		{Name: "DeleteVpcEndpoint", Object: objEndpoint,
			Doc: "Delete an endpoint; remove its zones first.",
			Params: mutating(
				str("EndpointId", "endpoint (ep-…)").required(),
				boolean("Force", "force deletion")),
		},
		{Name: "GetVpcEndpointAttribute", Object: objEndpoint,
			Doc:    "Show an endpoint.",
			Params: []param{str("EndpointId", "endpoint (ep-…)").required()}},
		{Name: "ListVpcEndpoints",
			Doc: "List the caller's endpoints.",
			Params: paged(append([]param{
				str("EndpointId", "filter"),
				str("EndpointName", "filter"),
				enum("EndpointStatus", endpointStatuses, "filter"),
				enum("EndpointType", []string{"Interface", "Reverse", "GatewayLoadBalancer"}, "filter"),
				enum("ConnectionStatus", connectionStatuses, "filter"),
				str("ServiceName", "filter"),
				str("VpcId", "filter"),
				str("ResourceGroupId", "filter"),
			}, tags("Tag")...)...)},
		{Name: "UpdateVpcEndpointAttribute", Object: objEndpoint,
			Doc: "Change an endpoint's name or description.",
			Params: mutating(
				str("EndpointId", "endpoint (ep-…)").required(),
				str("EndpointName", nameNote),
				str("EndpointDescription", descNote))},
		{Name: "AddZoneToVpcEndpoint", Object: objZone,
			Doc: "Add a zone (and its ENI) to an endpoint.",
			Params: mutating(
				str("EndpointId", "endpoint (ep-…)").required(),
				str("ZoneId", "a zone where the service has a resource").required(),
				str("VSwitchId", "vSwitch in that zone and in the endpoint's VPC").required(),
				str("ip", "fixed ENI IPv4 address in the vSwitch; else allocated"))},
		{Name: "RemoveZoneFromVpcEndpoint", Object: objZone,
			Doc: "Remove a zone (and its ENI) from an endpoint.",
			Params: mutating(
				str("EndpointId", "endpoint (ep-…)").required(),
				str("ZoneId", "zone to remove").required())},
		{Name: "ListVpcEndpointZones",
			Doc:    "List an endpoint's zones: state, ENI, zone domain, service resource.",
			Params: paged(str("EndpointId", "endpoint (ep-…)").required())},
		{Name: "AttachSecurityGroupToVpcEndpoint", Object: objEndpoint,
			Doc: "Add a security group to every ENI of an endpoint.",
			Params: mutating(
				str("EndpointId", "endpoint (ep-…)").required(),
				str("SecurityGroupId", "security group in the endpoint's VPC (sg-…)").required())},
		{Name: "DetachSecurityGroupFromVpcEndpoint", Object: objEndpoint,
			Doc: "Remove a security group from an endpoint; the last one cannot be removed.",
			Params: mutating(
				str("EndpointId", "endpoint (ep-…)").required(),
				str("SecurityGroupId", "security group (sg-…)").required())},
		{Name: "ListVpcEndpointSecurityGroups",
			Doc:    "List an endpoint's security groups.",
			Params: paged(str("EndpointId", "endpoint (ep-…)").required())},

		// B2. Endpoint services (provider side)
		{Name: "CreateVpcEndpointService", Object: objService,
			Doc: "Create an endpoint service on service resources (CLBs).",
			Params: mutating(append([]param{
				enum("ServiceResourceType", resourceTypes, "slb (CLB) is what eplink serves"),
				enum("Resource.N.ResourceType", resourceTypes, "type of a service resource"),
				str("Resource.N.ResourceId", "service resource (lb-…); up to 10"),
				str("Resource.N.ZoneId", "zone of the resource (the CLB's zone)"),
				boolean("AutoAcceptEnabled", "accept new endpoint connections automatically; default false"),
				boolean("ZoneAffinityEnabled", "endpoint domain prefers the client's zone; default false"),
				enum("Payer", []string{"Endpoint", "EndpointService"}, "who pays; default Endpoint; fixed after creation"),
				str("ServiceDescription", descNote),
				boolean("ServiceSupportIPv6", "deprecated"),
				boolean("PrivateServiceDomainEnabled", "custom service domain"),
				str("PrivateServiceDomain", "custom service domain name"),
				str("ResourceGroupId", "rg-…"),
				str("SystemTag.N.Key", "internal"),
				str("SystemTag.N.Value", "internal"),
				str("SystemTag.N.Scope", "internal"),
			}, tags("Tag")...)...)},
		{Name: "DeleteVpcEndpointService", Object: objService,
			Doc: "Delete an endpoint service; reject its connections and detach its resources first.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required())},
		{Name: "GetVpcEndpointServiceAttribute", Object: objService,
			Doc:    "Show an endpoint service.",
			Params: []param{str("ServiceId", "endpoint service (epsrv-…)").required()}},
		{Name: "ListVpcEndpointServices",
			Doc: "List the endpoint services the caller owns.",
			Params: paged(append([]param{
				str("ServiceId", "filter"),
				str("ServiceName", "filter"),
				enum("ServiceStatus", serviceStatuses, "filter"),
				enum("ServiceBusinessStatus", []string{"Normal", "FinancialLocked"}, "filter"),
				enum("ServiceResourceType", resourceTypes, "filter"),
				str("ResourceId", "filter: services using this resource"),
				boolean("AutoAcceptEnabled", "filter"),
				boolean("ZoneAffinityEnabled", "filter"),
				str("ResourceGroupId", "filter"),
			}, tags("Tag")...)...)},
		{Name: "ListVpcEndpointServicesByEndUser",
			Doc: "List the endpoint services the caller may connect to (whitelisted).",
			Params: paged(append([]param{
				str("ServiceId", "filter"),
				str("ServiceName", "filter"),
				enum("ServiceType", []string{"Interface", "Reverse"}, "filter"),
				str("ResourceGroupId", "filter"),
			}, tags("Tag")...)...)},
		{Name: "UpdateVpcEndpointServiceAttribute", Object: objService,
			Doc: "Change an endpoint service; new settings apply to new connections.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				boolean("AutoAcceptEnabled", "accept new connections automatically"),
				boolean("ZoneAffinityEnabled", "endpoint domain prefers the client's zone"),
				integer("ConnectBandwidth", 100, 1024, "Mbps for new connections (lab limits may differ)"),
				str("ServiceDescription", descNote),
				boolean("ServiceSupportIPv6", "deprecated"),
				boolean("PrivateServiceDomainEnabled", "custom service domain"),
				str("PrivateServiceDomain", "custom service domain name"))},
		{Name: "AttachResourceToVpcEndpointService", Object: objService,
			Doc: "Add a service resource (CLB) to an endpoint service.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("ResourceId", "service resource (lb-…)").required(),
				enum("ResourceType", resourceTypes, "slb for a CLB").required(),
				str("ZoneId", "zone of the resource; required for alb, nlb, gwlb"))},
		{Name: "DetachResourceFromVpcEndpointService", Object: objService,
			Doc: "Remove a service resource; no zone connection may use it.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("ResourceId", "service resource (lb-…)").required(),
				enum("ResourceType", resourceTypes, "slb for a CLB"),
				str("ZoneId", "zone of the resource; required for alb, nlb, gwlb"))},
		{Name: "ListVpcEndpointServiceResources",
			Doc: "List an endpoint service's resources with their use counts.",
			Params: paged(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("ZoneId", "filter"))},
		{Name: "UpdateVpcEndpointServiceResourceAttribute", Object: objService,
			Doc: "Turn automatic allocation of a resource on or off; each zone keeps one auto-allocatable resource.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("ResourceId", "service resource (lb-…)").required(),
				str("ZoneId", "zone of the resource").required(),
				boolean("AutoAllocatedEnabled", "allocate this resource to new zone connections").required(),
				enum("ResourceType", resourceTypes, "slb for a CLB"))},
		{Name: "AddUserToVpcEndpointService", Object: objService,
			Doc: "Whitelist an account for an endpoint service.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("UserId", "16-digit account UID, or * for everyone; this or UserARN"),
				str("UserARN", "acs:ram:*:<uid>:*; this or UserId"))},
		{Name: "RemoveUserFromVpcEndpointService", Object: objService,
			Doc: "Remove an account from an endpoint service's whitelist.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("UserId", "16-digit account UID; this or UserARN"),
				str("UserARN", "acs:ram:*:<uid>:*; this or UserId"))},
		{Name: "ListVpcEndpointServiceUsers",
			Doc: "List an endpoint service's whitelist.",
			Params: paged(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("UserId", "filter"),
				enum("UserListType", []string{"Users", "UserARNs"}, "default Users"))},

		// B3. Connections
		{Name: "ListVpcEndpointConnections",
			Doc: "List the endpoint connections of a service (provider view), with their zones.",
			Params: paged(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "filter"),
				str("EndpointOwnerId", "filter: consumer account UID"),
				enum("ConnectionStatus", connectionStatuses, "filter"),
				str("ResourceId", "filter"),
				str("ReplacedResourceId", "filter"),
				str("EniId", "filter"),
				str("ZoneId", "filter"),
				str("ConnectionId", "filter (GWLB)"),
				str("ResourceGroupId", "filter"))},
		{Name: "EnableVpcEndpointConnection", Object: objConnection,
			Doc: "Accept an endpoint connection; its zones connect and get service resources.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "endpoint (ep-…)").required(),
				integer("Bandwidth", 100, 1024, "connection bandwidth cap in Mbps (lab limits may differ)"),
				boolean("AutoAllocatedEnabled", "accept and allocate automatically: clear the zones' pinned resources"))},
		{Name: "DisableVpcEndpointConnection", Object: objConnection,
			Doc: "Reject or disconnect an endpoint connection; traffic stops.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "endpoint (ep-…)").required())},
		{Name: "UpdateVpcEndpointConnectionAttribute", Object: objConnection,
			Doc: "Change an endpoint connection's bandwidth cap, live.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "endpoint (ep-…)").required(),
				integer("Bandwidth", 100, 1024, "Mbps (lab limits may differ)").required())},
		{Name: "EnableVpcEndpointZoneConnection", Object: objZone,
			Doc: "Connect one zone of an endpoint connection.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "endpoint (ep-…)").required(),
				str("ZoneId", "zone").required())},
		{Name: "DisableVpcEndpointZoneConnection", Object: objZone,
			Doc: "Disconnect one zone, or with ReplacedResource=true only the resource it was migrated away from.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "endpoint (ep-…)").required(),
				str("ZoneId", "zone").required(),
				boolean("ReplacedResource", "clean up the replaced resource and ENI after a Graceful migration"))},
		{Name: "UpdateVpcEndpointZoneConnectionResourceAttribute", Object: objZone,
			Doc: "Pin the resource of a disconnected zone (ResourceAllocateMode), or replace a zone's resource (ResourceReplaceMode): a connected zone migrates, a disconnected one connects to it next.",
			Params: mutating(
				str("ServiceId", "endpoint service (epsrv-…)").required(),
				str("EndpointId", "endpoint (ep-…)").required(),
				str("ZoneId", "zone").required(),
				enum("ResourceAllocateMode", []string{"Auto", "Manual"}, "only while the zone is Disconnected"),
				enum("ResourceReplaceMode", []string{"Graceful", "Force"}, "zone Connected or Disconnected, its resource's AutoAllocatedEnabled off; Graceful keeps old flows"),
				str("ResourceId", "the new resource (lb-…), same zone"),
				enum("ResourceType", resourceTypes, "slb for a CLB"))},

		// B4. Region/zone, product, tags, resource group
		{Name: "DescribeRegions", Doc: "List regions."},
		{Name: "DescribeZones", Doc: "List the region's zones.",
			Params: []param{enum("ServiceResourceType", []string{"slb", "alb", "nlb"}, "zones offering this resource type")}},
		{Name: "CheckProductOpen", Doc: "Report whether PrivateLink is activated for the caller."},
		{Name: "OpenPrivateLinkService", Doc: "Activate PrivateLink for the caller.",
			Params: []param{str("OwnerId", "account UID")}},
		{Name: "TagResources", Body: true,
			Doc: "Tag endpoints or endpoint services (parameters travel in the form body).",
			Params: mutating(append([]param{
				enum("ResourceType", tagResourceTypes, "").required(),
				str("ResourceId.N", "resources to tag").required(),
			}, tags("Tag")...)...)},
		{Name: "UntagResources",
			Doc: "Remove tags from endpoints or endpoint services.",
			Params: mutating(
				enum("ResourceType", tagResourceTypes, "").required(),
				str("ResourceId.N", "resources to untag").required(),
				str("TagKey.N", "tag keys to remove"),
				boolean("All", "remove every tag"))},
		{Name: "ListTagResources",
			Doc: "List tags of endpoints or endpoint services.",
			Params: paged(append([]param{
				enum("ResourceType", tagResourceTypes, "").required(),
				str("ResourceId.N", "resources"),
			}, tags("Tag")...)...)},
		{Name: "ChangeResourceGroup",
			Doc: "Move an endpoint or endpoint service to another resource group.",
			Params: []param{
				str("ResourceId", "ep-… or epsrv-…").required(),
				str("ResourceGroupId", "rg-…").required(),
				enum("ResourceType", tagResourceTypes, ""),
				str("ResourceRegionId", "region of the resource"),
				str("Service", "product code"),
			}},
		{Name: "CheckResourceSupportOperate",
			Doc: "Report whether a resource's zone can be removed or downgraded.",
			Params: []param{
				str("ResourceId", "service resource"),
				enum("ResourceType", resourceTypes, ""),
				str("ZoneId", "zone"),
			}},
		{Name: "NotifyResourceAddressFamily",
			Doc: "Internal: notify a resource's address family.",
			Params: []param{
				str("ResourceId", "service resource"),
				enum("ResourceType", resourceTypes, ""),
				str("AddressFamily", "ipv4 or dualstack"),
				str("Ipv6Address", "IPv6 address"),
			}},
	}
	return cat
}

// lookupAction finds an action by exact name.
func lookupAction(name string) (*action, bool) {
	for i := range catalog {
		if catalog[i].Name == name {
			return &catalog[i], true
		}
	}
	return nil, false
}

// paramPattern turns a parameter as given ("Zone.2.ZoneId") into its
// catalog name ("Zone.N.ZoneId"); index reports a bad index (not 1..100).
func paramPattern(name string) (pattern string, err error) {
	parts := strings.Split(name, ".")
	for i, p := range parts {
		if i == 0 || p == "" || p[0] < '0' || p[0] > '9' {
			continue
		}
		n, perr := strconv.Atoi(p)
		if perr != nil || n < 1 || n > 100 || strconv.Itoa(n) != p {
			return "", fmt.Errorf("parameter %s: index %q must be 1..100", name, p)
		}
		parts[i] = "N"
	}
	return strings.Join(parts, "."), nil
}

// findParam returns the catalog entry for a parameter as given.
func (a *action) findParam(name string) (*param, error) {
	pat, err := paramPattern(name)
	if err != nil {
		return nil, err
	}
	for i := range a.Params {
		if a.Params[i].Name == pat {
			return &a.Params[i], nil
		}
	}
	return nil, nil
}

// rule describes a parameter's constraints for help output.
func (p *param) rule() string {
	var parts []string
	if p.Required {
		parts = append(parts, "required")
	} else {
		parts = append(parts, "optional")
	}
	t := p.Type
	if strings.Contains(p.Name, ".N") {
		t = "repeated " + t
	}
	parts = append(parts, t)
	if p.Max > 0 {
		if p.Min == p.Max {
			parts = append(parts, fmt.Sprintf("= %d", p.Min))
		} else {
			parts = append(parts, fmt.Sprintf("%d..%d", p.Min, p.Max))
		}
	}
	if len(p.Enum) > 0 {
		parts = append(parts, "one of "+strings.Join(p.Enum, "|"))
	}
	return strings.Join(parts, ", ")
}

// waitStatuses lists the values `--wait` accepts for an action.
func (a *action) waitStatuses() []string {
	var vs []string
	switch a.Object {
	case objEndpoint:
		vs = append(append(vs, endpointStatuses...), connectionStatuses...)
	case objConnection:
		vs = append(vs, connectionStatuses...)
	case objZone:
		vs = append(vs, zoneStatuses...)
	case objService:
		vs = append(vs, serviceStatuses...)
	default:
		return nil
	}
	vs = append(vs, statusDeleted)
	sort.Strings(vs)
	return compactStrings(vs)
}

func compactStrings(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// closest returns the candidate nearest to s, or "" if none is a
// plausible typo.
func closest(s string, candidates []string) string { return lab.Closest(s, candidates) }
