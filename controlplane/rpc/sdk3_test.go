package rpc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"
)

// The current SDK core (darabonba-openapi/v2, what every generated V2 Go
// SDK calls through) signs with v3 by default. These tests call the
// server through its CallApi, as the generated clients do.

func coreServer(t *testing.T, last *atomic.Pointer[Call]) string {
	t.Helper()
	s := &Server{
		Version: testVersion,
		HostID:  "privatelink.cn-hangzhou.aliyuncs.com",
		Product: "Privatelink",
		Actions: map[string]Handler{
			"ListVpcEndpoints": func(_ context.Context, c *Call) (any, error) {
				last.Store(c)
				return map[string]any{"Endpoints": []any{}, "MaxResults": 50, "TotalCount": 0}, nil
			},
			"DeleteVpcEndpoint": func(context.Context, *Call) (any, error) {
				return nil, Errorf(http.StatusBadRequest, "EndpointLocked", "The endpoint is locked.")
			},
		},
		Credentials: func(id string) (string, string, bool) {
			return testSecret, testUID, id == testAK
		},
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return strings.TrimPrefix(hs.URL, "http://")
}

func coreClient(t *testing.T, endpoint, secret string) *openapi.Client {
	t.Helper()
	c, err := openapi.NewClient(&openapi.Config{
		AccessKeyId: dara.String(testAK), AccessKeySecret: dara.String(secret),
		Endpoint: dara.String(endpoint), Protocol: dara.String("http"), RegionId: dara.String("cn-hangzhou"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rpcParams are the CallApi parameters of an RPC-style action, as the
// generated V2 SDK (privatelink-20200415) passes them.
func rpcParams(action, reqBodyType string) *openapiutil.Params {
	return &openapiutil.Params{
		Action: dara.String(action), Version: dara.String(testVersion), Protocol: dara.String("HTTP"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String(reqBodyType), BodyType: dara.String("json"),
	}
}

func TestCoreV3CallApi(t *testing.T) {
	var last atomic.Pointer[Call]
	c := coreClient(t, coreServer(t, &last), testSecret)
	tests := []struct {
		name        string
		reqBodyType string
		req         *openapiutil.OpenApiRequest
		want        Params
	}{
		{"query", "formData", &openapiutil.OpenApiRequest{Query: map[string]*string{
			"RegionId": dara.String("cn-hangzhou"), "EndpointName": dara.String("my ep*~/中+"), "MaxResults": dara.String("50"),
		}}, Params{"EndpointName": "my ep*~/中+", "MaxResults": "50"}},
		{"query and form body", "formData", &openapiutil.OpenApiRequest{
			Query: map[string]*string{"RegionId": dara.String("cn-hangzhou")},
			Body:  map[string]any{"Tag": []map[string]string{{"Key": "env", "Value": "dev & test"}}, "ServiceId": "epsrv-1"},
		}, Params{"Tag.1.Key": "env", "Tag.1.Value": "dev & test", "ServiceId": "epsrv-1"}},
		{"JSON body", "json", &openapiutil.OpenApiRequest{
			Query: map[string]*string{"RegionId": dara.String("cn-hangzhou")},
			Body:  map[string]any{"ServiceId": "epsrv-1", "MaxResults": 20, "Zone": []map[string]string{{"ZoneId": "cn-hangzhou-h"}}},
		}, Params{"ServiceId": "epsrv-1", "MaxResults": "20", "Zone.1.ZoneId": "cn-hangzhou-h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last.Store(nil)
			res, err := c.CallApi(rpcParams("ListVpcEndpoints", tt.reqBodyType), tt.req, &dara.RuntimeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := res["body"].(map[string]any)
			if id, _ := body["RequestId"].(string); !requestIDForm.MatchString(id) || body["TotalCount"] == nil {
				t.Errorf("body %v", body)
			}
			call := last.Load()
			if call == nil || call.Action != "ListVpcEndpoints" || call.CallerUID != testUID || call.RegionID != "cn-hangzhou" {
				t.Fatalf("call %+v", call)
			}
			if !equalParams(call.Params, tt.want) {
				t.Errorf("Params %v, want %v", call.Params, tt.want)
			}
		})
	}
}

func TestCoreV3Errors(t *testing.T) {
	var last atomic.Pointer[Call]
	endpoint := coreServer(t, &last)
	call := func(secret, action string) *tea.SDKError {
		t.Helper()
		_, err := coreClient(t, endpoint, secret).CallApi(rpcParams(action, "formData"),
			&openapiutil.OpenApiRequest{Query: map[string]*string{"RegionId": dara.String("cn-hangzhou")}},
			&dara.RuntimeOptions{})
		se, ok := errors.AsType[*tea.SDKError](err)
		if !ok {
			t.Fatalf("want an SDKError, got %T %v", err, err)
		}
		return se
	}
	tests := []struct {
		name, secret, action string
		status               int
		code, message        string
	}{
		{"wrong secret", "wrong", "ListVpcEndpoints", 400, "SignatureDoesNotMatch", "server canonical request is:POST\n/\nRegionId=cn-hangzhou\n"},
		{"handler error", testSecret, "DeleteVpcEndpoint", 400, "EndpointLocked", "The endpoint is locked."},
		{"unknown action", testSecret, "DescribeZones", 404, "InvalidAction.NotFound", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			se := call(tt.secret, tt.action)
			if tea.IntValue(se.StatusCode) != tt.status || tea.StringValue(se.Code) != tt.code ||
				!strings.Contains(tea.StringValue(se.Message), tt.message) {
				t.Errorf("got %d %s %s", tea.IntValue(se.StatusCode), tea.StringValue(se.Code), tea.StringValue(se.Message))
			}
		})
	}
}

// TestCoreV3SecondProduct: the front door is product-neutral. A server for
// CloudMonitor's version (2019-01-01), as the CMS actions will be served,
// takes the V2 core's v3 calls for that version and refuses another.
func TestCoreV3SecondProduct(t *testing.T) {
	var last atomic.Pointer[Call]
	s := &Server{
		Version: "2019-01-01", HostID: "metrics.cn-hangzhou.aliyuncs.com", Product: "Cms",
		Actions: map[string]Handler{"DescribeMetricList": func(_ context.Context, c *Call) (any, error) {
			last.Store(c)
			return map[string]any{"Code": "200", "Success": true, "Datapoints": "[]", "Period": c.Params.Get("Period")}, nil
		}},
		Credentials: func(id string) (string, string, bool) { return testSecret, testUID, id == testAK },
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c := coreClient(t, strings.TrimPrefix(hs.URL, "http://"), testSecret)
	params := rpcParams("DescribeMetricList", "formData")
	params.Version = dara.String("2019-01-01")
	res, err := c.CallApi(params, &openapiutil.OpenApiRequest{Query: map[string]*string{
		"Namespace": dara.String("acs_privatelink"), "MetricName": dara.String("VpcEndpointInBps"),
		"Period": dara.String("60"), "Dimensions": dara.String(`[{"endpointId":"ep-1"}]`),
	}}, &dara.RuntimeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := res["body"].(map[string]any); body["Success"] != true || body["Period"] != "60" {
		t.Errorf("body %v", body)
	}
	if call := last.Load(); call == nil || call.Params.Get("Dimensions") != `[{"endpointId":"ep-1"}]` {
		t.Errorf("call %+v", call)
	}
	params.Version = dara.String(testVersion)
	_, err = c.CallApi(params, &openapiutil.OpenApiRequest{}, &dara.RuntimeOptions{})
	if se, ok := errors.AsType[*tea.SDKError](err); !ok || tea.StringValue(se.Code) != "InvalidVersion" {
		t.Errorf("PrivateLink's version on the CMS server: %v", err)
	}
}
