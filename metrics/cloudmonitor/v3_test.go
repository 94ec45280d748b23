package cloudmonitor_test

import (
	"errors"
	"testing"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	openapiutil "github.com/alibabacloud-go/darabonba-openapi/v2/utils"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"eplink/controlplane/apitest"
	"eplink/metrics/cloudmonitor"
)

// The current ("V2") SDK core signs with v3 (ACS3-HMAC-SHA256) and puts the
// action and version in x-acs-* headers; @alicloud/cms20190101 and the Go
// cms-20190101 client are generated on it. CloudMonitor must answer it as
// the classic SDK's v1 calls are answered.

func cmsV3(t *testing.T, addr, ak, sk string) *openapi.Client {
	t.Helper()
	c, err := openapi.NewClient(&openapi.Config{
		AccessKeyId: dara.String(ak), AccessKeySecret: dara.String(sk),
		Endpoint: dara.String(addr), Protocol: dara.String("http"), RegionId: dara.String(apitest.Region),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// callCMSV3 calls a CloudMonitor action as the generated cms-20190101
// client does: RPC style, POST, parameters in the query, JSON out.
func callCMSV3(c *openapi.Client, action string, query map[string]string) (map[string]any, error) {
	q := map[string]*string{"RegionId": dara.String(apitest.Region)}
	for k, v := range query {
		q[k] = dara.String(v)
	}
	params := &openapiutil.Params{
		Action: dara.String(action), Version: dara.String("2019-01-01"), Protocol: dara.String("HTTP"),
		Pathname: dara.String("/"), Method: dara.String("POST"), AuthType: dara.String("AK"),
		Style: dara.String("RPC"), ReqBodyType: dara.String("formData"), BodyType: dara.String("json"),
	}
	res, err := c.CallApi(params, &openapiutil.OpenApiRequest{Query: q}, &dara.RuntimeOptions{})
	if err != nil {
		return nil, err
	}
	body, _ := res["body"].(map[string]any)
	return body, nil
}

func TestV3CoreCloudMonitor(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	provider := cmsV3(t, f.addr, apitest.ProviderAK, apitest.ProviderSK)

	meta, err := callCMSV3(provider, "DescribeMetricMetaList", map[string]string{"Namespace": "acs_privatelink"})
	if err != nil {
		t.Fatalf("DescribeMetricMetaList: %v", err)
	}
	if meta["Success"] != true || meta["Resources"] == nil {
		t.Fatalf("DescribeMetricMetaList: %v", meta)
	}

	// A rule written with v3 is the one the classic SDK (v1) lists.
	if _, err := callCMSV3(provider, "PutResourceMetricRule", map[string]string{
		"RuleId": "v3-rule", "RuleName": "inbound v3", "Namespace": "acs_privatelink",
		"MetricName": "VpcEndpointServiceInBps", "Resources": `[{"instanceId":"epsrv-1"}]`, "Period": "1",
		"Escalations.Warn.Statistics": "Average", "Escalations.Warn.ComparisonOperator": "GreaterThanOrEqualToThreshold",
		"Escalations.Warn.Threshold": "100000000", "Escalations.Warn.Times": "1", "ContactGroups": "none",
	}); err != nil {
		t.Fatalf("PutResourceMetricRule: %v", err)
	}
	if r := listRules(t, f.provider, nil); r.Total != "1" || r.Alarms.Alarm[0].RuleId != "v3-rule" ||
		r.Alarms.Alarm[0].Escalations.Warn.Threshold != "100000000" {
		t.Fatalf("the classic SDK lists %+v", r.Alarms.Alarm)
	}

	// Errors come back as the V2 core reads them, and change nothing.
	_, err = callCMSV3(provider, "PutResourceMetricRule", map[string]string{
		"RuleId": "v3-bad", "RuleName": "bad", "Namespace": "acs_privatelink", "MetricName": "NoSuchMetric",
		"Resources": `[{"instanceId":"epsrv-1"}]`, "ContactGroups": "none",
	})
	if se, ok := errors.AsType[*tea.SDKError](err); !ok || tea.IntValue(se.StatusCode)/100 != 4 {
		t.Errorf("unknown metric: %v", err)
	}
	_, err = callCMSV3(cmsV3(t, f.addr, apitest.ProviderAK, "not-the-secret"), "DescribeMetricRuleList", nil)
	if se, ok := errors.AsType[*tea.SDKError](err); !ok || tea.StringValue(se.Code) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if r := listRules(t, f.provider, nil); r.Total != "1" {
		t.Errorf("refused calls changed the rules: %+v", r.Alarms.Alarm)
	}
}
