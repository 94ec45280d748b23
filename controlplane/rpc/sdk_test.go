package rpc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// sdkServer serves the stub actions the SDK tests call, on the real clock
// (the SDK stamps requests with time.Now).
func sdkServer(t *testing.T, last *atomic.Pointer[Call], lastQuery *atomic.Value) string {
	t.Helper()
	s := &Server{
		Version: testVersion,
		HostID:  "privatelink.cn-hangzhou.aliyuncs.com",
		Product: "Privatelink",
		Actions: map[string]Handler{
			"DescribeRegions": func(_ context.Context, c *Call) (any, error) {
				last.Store(c)
				type region struct{ RegionId, LocalName, RegionEndpoint string }
				return map[string]any{"Regions": map[string]any{"Region": []region{
					{"cn-hangzhou", "华东1（杭州）", "privatelink.cn-hangzhou.aliyuncs.com"},
					{"cn-shanghai", "华东2（上海）", "privatelink.cn-shanghai.aliyuncs.com"},
				}}}, nil
			},
			"TagResources": func(_ context.Context, c *Call) (any, error) {
				last.Store(c)
				return nil, nil
			},
			"DeleteVpcEndpoint": func(context.Context, *Call) (any, error) {
				return nil, Errorf(http.StatusBadRequest, "EndpointLocked", "The endpoint is locked.")
			},
		},
		Credentials: func(id string) (string, string, bool) {
			if id == testAK {
				return testSecret, testUID, true
			}
			return "", "", false
		},
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lastQuery.Store(r.URL.RawQuery)
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://")
}

func sdkClient(t *testing.T, domain, secret string) *privatelink.Client {
	t.Helper()
	c, err := privatelink.NewClientWithAccessKey("cn-hangzhou", testAK, secret)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = domain
	return c
}

func TestSDKDescribeRegions(t *testing.T) {
	var last atomic.Pointer[Call]
	c := sdkClient(t, sdkServer(t, &last, new(atomic.Value)), testSecret)
	resp, err := c.DescribeRegions(privatelink.CreateDescribeRegionsRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !requestIDForm.MatchString(resp.RequestId) {
		t.Errorf("RequestId %q", resp.RequestId)
	}
	r := resp.Regions.Region
	if len(r) != 2 || r[0].RegionId != "cn-hangzhou" || r[1].LocalName != "华东2（上海）" {
		t.Errorf("Regions %+v", r)
	}
	call := last.Load()
	if call.RegionID != "cn-hangzhou" || call.CallerUID != testUID || len(call.Params) != 0 {
		t.Errorf("Call %+v", call)
	}
}

func TestSDKTagResourcesBody(t *testing.T) {
	var last atomic.Pointer[Call]
	var query atomic.Value
	c := sdkClient(t, sdkServer(t, &last, &query), testSecret)
	req := privatelink.CreateTagResourcesRequest()
	req.ResourceType = "vpcendpoint"
	req.ResourceId = &[]string{"ep-1", "ep-2"}
	req.Tag = &[]privatelink.TagResourcesTag{{Key: "env", Value: "dev & test"}}
	if _, err := c.TagResources(req); err != nil {
		t.Fatal(err)
	}
	if q := query.Load().(string); strings.Contains(q, "ResourceId") || strings.Contains(q, "Tag.1") {
		t.Errorf("the SDK sent TagResources parameters in the query, not the body: %s", q)
	}
	p := last.Load().Params
	ids, err := p.List("ResourceId")
	if err != nil || len(ids) != 2 || ids[1] != "ep-2" {
		t.Errorf("ResourceId %v %v", ids, err)
	}
	tags, err := p.Structs("Tag")
	if err != nil || len(tags) != 1 || tags[0]["Value"] != "dev & test" {
		t.Errorf("Tag %v %v", tags, err)
	}
	if p.Get("ResourceType") != "vpcendpoint" || p.Has("Action") {
		t.Errorf("Params %v", p)
	}
}

func TestSDKErrors(t *testing.T) {
	var last atomic.Pointer[Call]
	domain := sdkServer(t, &last, new(atomic.Value))

	_, err := sdkClient(t, domain, "wrong-secret").DescribeRegions(privatelink.CreateDescribeRegionsRequest())
	se := serverError(t, err)
	if se.ErrorCode() != "SignatureDoesNotMatch" || se.HttpStatus() != 400 {
		t.Errorf("wrong secret: %v", se)
	}
	// The SDK compares our string to sign with its own and, when they are
	// equal, blames the secret: proof the two agree byte for byte.
	if !strings.HasPrefix(se.Recommend(), "InvalidAccessKeySecret") {
		t.Errorf("Recommend %q: the SDK's string to sign differs from ours", se.Recommend())
	}

	_, err = sdkClient(t, domain, testSecret).DeleteVpcEndpoint(privatelink.CreateDeleteVpcEndpointRequest())
	se = serverError(t, err)
	if se.ErrorCode() != "EndpointLocked" || se.Message() != "The endpoint is locked." ||
		se.HttpStatus() != 400 || !requestIDForm.MatchString(se.RequestId()) ||
		se.HostId() != "privatelink.cn-hangzhou.aliyuncs.com" {
		t.Errorf("handler error: %v", se)
	}

	_, err = sdkClient(t, domain, testSecret).ListVpcEndpoints(privatelink.CreateListVpcEndpointsRequest())
	if se = serverError(t, err); se.ErrorCode() != "InvalidAction.NotFound" || se.HttpStatus() != 404 {
		t.Errorf("unknown action: %v", se)
	}
}

func serverError(t *testing.T, err error) *sdkerrors.ServerError {
	t.Helper()
	se, ok := errors.AsType[*sdkerrors.ServerError](err)
	if !ok {
		t.Fatalf("want a ServerError, got %T %v", err, err)
	}
	return se
}
