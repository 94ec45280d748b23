package apitest

import (
	"errors"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// The current ("V2") SDK core, darabonba-openapi/v2, signs with v3
// (ACS3-HMAC-SHA256). These tests drive the real PrivateLink API with it
// through CallApi, as every generated V2 client does, and check that what
// it does is what the classic SDK (v1) sees, and the reverse.

// v3Client is a V2 SDK core client for the AccessKey, pointed at e.
func (e *Env) v3Client(t testing.TB, ak, sk string) *openapi.Client {
	t.Helper()
	c, err := openapi.NewClient(&openapi.Config{
		AccessKeyId: dara.String(ak), AccessKeySecret: dara.String(sk),
		Endpoint: dara.String(e.Addr), Protocol: dara.String("http"), RegionId: dara.String(Region),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// callV3 calls a PrivateLink action as the generated privatelink-20200415
// client does: RPC style, POST, parameters in the query (form: in a form
// body), JSON out. It returns the response body.
func callV3(c *openapi.Client, action string, query map[string]string, form map[string]any) (map[string]any, error) {
	q := map[string]*string{"RegionId": dara.String(Region)}
	for k, v := range query {
		q[k] = dara.String(v)
	}
	req := &openapiutil.OpenApiRequest{Query: q}
	if form != nil {
		req.Body = form
	}
	params := &openapiutil.Params{
		Action: dara.String(action), Version: dara.String("2020-04-15"), Protocol: dara.String("HTTP"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
	res, err := c.CallApi(params, req, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := res["body"].(map[string]any)
	return body, nil
}

// v3Code is the Code of an API error the V2 core returned, "" if none.
func v3Code(err error) string {
	if se, ok := errors.AsType[*tea.SDKError](err); ok {
		return tea.StringValue(se.Code)
	}
	return ""
}

func TestV3CoreLifecycle(t *testing.T) {
	e := New(t, Options{})
	provider := e.v3Client(t, ProviderAK, ProviderSK)
	consumer := e.v3Client(t, ConsumerAK, ConsumerSK)

	// Provider: a service on CLB1, created with v3; the classic SDK sees it.
	body, err := callV3(provider, "CreateVpcEndpointService", map[string]string{
		"ServiceResourceType": "slb", "AutoAcceptEnabled": "true", "ServiceDescription": "v3 service",
		"Resource.1.ResourceType": "slb", "Resource.1.ResourceId": CLB1, "Resource.1.ZoneId": ZoneH,
	}, nil)
	if err != nil {
		t.Fatalf("CreateVpcEndpointService: %v", err)
	}
	svc, _ := body["ServiceId"].(string)
	if got := e.WaitService(t, svc, "Active"); got.ServiceDescription != "v3 service" {
		t.Errorf("classic SDK sees %+v", got)
	}
	if _, err := callV3(provider, "AddUserToVpcEndpointService", map[string]string{"ServiceId": svc, "UserId": ConsumerUID}, nil); err != nil {
		t.Fatalf("AddUserToVpcEndpointService: %v", err)
	}

	// Consumer: an endpoint created with v3, tags in a form body.
	body, err = callV3(consumer, "CreateVpcEndpoint", map[string]string{
		"ServiceId": svc, "VpcId": VPCConsumer, "SecurityGroupId.1": SGConsumer, "EndpointName": "v3-endpoint",
		"Zone.1.ZoneId": ZoneH, "Zone.1.VSwitchId": VSwConsumerH,
	}, nil)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint: %v", err)
	}
	ep, _ := body["EndpointId"].(string)
	got := e.WaitEndpointStable(t, e.Consumer, ep, "Connected")
	if got.EndpointName != "v3-endpoint" || got.ServiceId != svc {
		t.Errorf("classic SDK sees %+v", got)
	}
	if _, err := callV3(consumer, "TagResources", nil, map[string]any{
		"ResourceType": "VpcEndpoint", "ResourceId": []string{ep}, "Tag": []map[string]string{{"Key": "env", "Value": "v3 & co"}},
	}); err != nil {
		t.Fatalf("TagResources: %v", err)
	}

	// What the classic SDK created or changed, v3 reads back.
	req := privatelink.CreateUpdateVpcEndpointAttributeRequest()
	req.EndpointId = ep
	req.EndpointDescription = "set with v1"
	if _, err := e.Consumer.UpdateVpcEndpointAttribute(req); err != nil {
		t.Fatal(err)
	}
	body, err = callV3(consumer, "ListVpcEndpoints", map[string]string{"EndpointId": ep}, nil)
	if err != nil {
		t.Fatalf("ListVpcEndpoints: %v", err)
	}
	eps, _ := body["Endpoints"].([]any)
	if len(eps) != 1 {
		t.Fatalf("ListVpcEndpoints: %v", body)
	}
	e0, _ := eps[0].(map[string]any)
	tags, _ := e0["Tags"].([]any)
	if e0["EndpointDescription"] != "set with v1" || len(tags) != 1 || tags[0].(map[string]any)["Value"] != "v3 & co" {
		t.Errorf("v3 reads %v", e0)
	}

	// A refused call through v3 is the API's error and changes nothing;
	// so is a call with a wrong secret.
	before := e.State(t)
	if _, err := callV3(provider, "DeleteVpcEndpointService", map[string]string{"ServiceId": svc}, nil); v3Code(err) == "" {
		t.Errorf("DeleteVpcEndpointService with a connected endpoint: %v", err)
	}
	wrong := e.v3Client(t, ConsumerAK, "wrong")
	if _, err := callV3(wrong, "DeleteVpcEndpoint", map[string]string{"EndpointId": ep}, nil); v3Code(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := callV3(e.v3Client(t, OutsiderAK, OutsiderSK), "DeleteVpcEndpoint", map[string]string{"EndpointId": ep}, nil); v3Code(err) == "" {
		t.Errorf("outsider deleting the endpoint: %v", err)
	}
	e.AssertUnchanged(t, before)
}
