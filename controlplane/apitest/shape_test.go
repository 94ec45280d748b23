package apitest

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// checkShape compares a raw JSON object with the SDK struct it is read
// into: every key the server sends that the struct declares must have the
// JSON type of the field's Go type. The SDK's decoder is lenient (a
// number in a string field passes), so this is checked on the raw bytes.
func checkShape(t *testing.T, where string, raw any, typ reflect.Type) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	switch typ.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			t.Errorf("%s: %T, want an object", where, raw)
			return
		}
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if v, ok := m[name]; ok {
				checkShape(t, where+"."+name, v, f.Type)
			}
		}
	case reflect.Slice:
		a, ok := raw.([]any)
		if !ok {
			t.Errorf("%s: %T, want an array", where, raw)
			return
		}
		for _, v := range a {
			checkShape(t, where+"[]", v, typ.Elem())
		}
	case reflect.String:
		// TotalCount is a string in some SDK structs and an int in others;
		// a number suits both (reference §A5).
		if _, num := raw.(float64); num && strings.HasSuffix(where, ".TotalCount") {
			return
		}
		if _, ok := raw.(string); !ok {
			t.Errorf("%s: %T %v, want a string", where, raw, raw)
		}
	case reflect.Bool:
		if _, ok := raw.(bool); !ok {
			t.Errorf("%s: %T %v, want a boolean", where, raw, raw)
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if _, ok := raw.(float64); !ok {
			t.Errorf("%s: %T %v, want a number", where, raw, raw)
		}
	}
}

// TestResponseShapes reads the raw answers of the read actions and checks
// every field's JSON type against the SDK's response structs, and that
// awkward characters in user text survive the round trip exactly.
func TestResponseShapes(t *testing.T) {
	e := New(t, Options{})
	svc := e.CreateService(t, false, Res{CLB1, ZoneH}, Res{CLB2, ZoneH})
	e.AddUser(t, svc, ConsumerUID)
	const desc = "he said \"hi\" \\ back\\slash </script> <&> \u2028 中文 \U0001F600"
	ep := e.CreateEndpoint(t, svc, EP{Name: "shape", Zones: []privatelink.CreateVpcEndpointZone{{ZoneId: ZoneH, VSwitchId: VSwConsumerH}}})
	up := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	up.EndpointId, up.EndpointDescription = ep, desc
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(up); err != nil {
		t.Fatalf("UpdateVpcEndpointAttribute: %v", err)
	}
	e.Accept(t, svc, ep, e.Consumer)
	tr := privatelink.CreateTagResourcesRequest()
	tr.ResourceType, tr.ResourceId = "VpcEndpoint", &[]string{ep}
	tr.Tag = &[]privatelink.TagResourcesTag{{Key: "q\"k", Value: "v\\al"}}
	if _, err := e.Consumer.TagResources(tr); err != nil {
		t.Fatalf("TagResources: %v", err)
	}

	consumer := newRawClient(e.Addr, ConsumerAK, ConsumerSK)
	provider := newRawClient(e.Addr, ProviderAK, ProviderSK)
	cases := []struct {
		c      *rawClient
		action string
		q      url.Values
		typ    any
	}{
		{consumer, "GetVpcEndpointAttribute", url.Values{"EndpointId": {ep}}, privatelink.GetVpcEndpointAttributeResponse{}},
		{consumer, "ListVpcEndpoints", url.Values{}, privatelink.ListVpcEndpointsResponse{}},
		{consumer, "ListVpcEndpointZones", url.Values{"EndpointId": {ep}}, privatelink.ListVpcEndpointZonesResponse{}},
		{consumer, "ListVpcEndpointSecurityGroups", url.Values{"EndpointId": {ep}}, privatelink.ListVpcEndpointSecurityGroupsResponse{}},
		{consumer, "ListVpcEndpointServicesByEndUser", url.Values{}, privatelink.ListVpcEndpointServicesByEndUserResponse{}},
		{provider, "GetVpcEndpointServiceAttribute", url.Values{"ServiceId": {svc}}, privatelink.GetVpcEndpointServiceAttributeResponse{}},
		{provider, "ListVpcEndpointServices", url.Values{}, privatelink.ListVpcEndpointServicesResponse{}},
		{provider, "ListVpcEndpointServiceResources", url.Values{"ServiceId": {svc}}, privatelink.ListVpcEndpointServiceResourcesResponse{}},
		{provider, "ListVpcEndpointServiceUsers", url.Values{"ServiceId": {svc}}, privatelink.ListVpcEndpointServiceUsersResponse{}},
		{provider, "ListVpcEndpointConnections", url.Values{"ServiceId": {svc}}, privatelink.ListVpcEndpointConnectionsResponse{}},
		{provider, "DescribeRegions", url.Values{}, privatelink.DescribeRegionsResponse{}},
		{provider, "DescribeZones", url.Values{}, privatelink.DescribeZonesResponse{}},
		{provider, "CheckProductOpen", url.Values{}, privatelink.CheckProductOpenResponse{}},
	}
	for _, tc := range cases {
		t.Run(tc.action, func(t *testing.T) {
			raw, err := tc.c.send(tc.action, tc.q, nil)
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatalf("not JSON: %v: %s", err, raw)
			}
			checkShape(t, tc.action, v, reflect.TypeOf(tc.typ))
		})
	}

	// The text comes back byte for byte, through the SDK and raw.
	g, err := e.GetEndpoint(e.Consumer, ep)
	if err != nil || g.EndpointDescription != desc {
		t.Errorf("GetVpcEndpointAttribute description = %q, %v; want %q", g.EndpointDescription, err, desc)
	}
	l, err := e.Consumer.ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	if err != nil || len(l.Endpoints) != 1 || l.Endpoints[0].EndpointDescription != desc {
		t.Fatalf("ListVpcEndpoints = %+v, %v", l, err)
	}
	if tg := l.Endpoints[0].Tags; len(tg) != 1 || tg[0].Key != "q\"k" || tg[0].Value != "v\\al" {
		t.Errorf("tags = %+v", tg)
	}
}
