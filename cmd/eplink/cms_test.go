package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"eplink/controlplane/rpc"
	"eplink/metrics/cloudmonitor"
)

// `eplink api cms ACTION` reaches CloudMonitor, `eplink api ACTION` still
// PrivateLink, on one address; `eplink status` lists the caller's rules.
func TestAPICmsAndStatusRules(t *testing.T) {
	cliEnv(t)
	mon, err := cloudmonitor.New(cloudmonitor.Config{Region: defaultRegion})
	if err != nil {
		t.Fatal(err)
	}
	creds := func(id string) (string, string, bool) {
		if id == consumerKey {
			return consumerSecret, consumerUID, true
		}
		return "", "", false
	}
	pl := &rpc.Server{Version: apiVersion, HostID: "h", Product: "Privatelink", Credentials: creds,
		Actions: map[string]rpc.Handler{"DescribeRegions": func(context.Context, *rpc.Call) (any, error) {
			return map[string]string{"Product": "privatelink"}, nil
		}}}
	hs := httptest.NewServer(rpc.Products{pl, mon.API(creds, nil)})
	defer hs.Close()
	ep := strings.TrimPrefix(hs.URL, "http://")

	call := func(args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		if code := run(append(args, "--endpoint", ep), &stdout, &stderr); code != 0 {
			t.Fatalf("eplink %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		return strings.TrimSpace(stdout.String())
	}
	call("api", "cms", "PutResourceMetricRule", "--RuleId", "r1", "--RuleName", "in", "--Namespace", "acs_privatelink",
		"--MetricName", "VpcEndpointInBps", "--Resources", `[{"instanceId":"ep-1"}]`, "--Period", "60",
		"--Escalations.Warn.Statistics", "Average", "--Escalations.Warn.ComparisonOperator", "GreaterThanThreshold",
		"--Escalations.Warn.Threshold", "1e8")
	if got := call("api", "cms", "DescribeMetricRuleList", "--cli-query", "Alarms.Alarm[0].RuleId"); got != "r1" {
		t.Errorf("cms DescribeMetricRuleList: %q", got)
	}
	// One parser and client for both products: v3 signing and a missing
	// value work for cms as for PrivateLink.
	if got := call("api", "cms", "DescribeMetricRuleList", "--signature", "v3", "--cli-query", "Alarms.Alarm[0].RuleId"); got != "r1" {
		t.Errorf("cms DescribeMetricRuleList with v3: %q", got)
	}
	{
		var stdout, stderr bytes.Buffer
		if code := run([]string{"api", "cms", "DescribeMetricRuleList", "--RuleIds"}, &stdout, &stderr); code != 2 ||
			!strings.Contains(stderr.String(), "--RuleIds needs a value") {
			t.Errorf("cms without a value: exit %d, %s", code, stderr.String())
		}
	}
	// Without cms it is PrivateLink; CloudMonitor has no DescribeRegions.
	if got := call("api", "DescribeRegions", "--cli-query", "Product"); got != "privatelink" {
		t.Errorf("api DescribeRegions: %q", got)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"api", "cms", "DescribeRegions", "--endpoint", ep}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `unknown action "DescribeRegions"`) {
		t.Errorf("api cms DescribeRegions: exit %d, %s", code, stderr.String())
	}
	// A CloudMonitor error prints its code and exits 1.
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"api", "cms", "DeleteMetricRules", "--Id.1", "nope", "--endpoint", ep}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "ResourceNotFound") {
		t.Errorf("exit %d, stderr %s", code, stderr.String())
	}

	c, err := newAPIClient("", "", "", ep, "", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := listRules(context.Background(), c)
	if err != nil || len(rules) != 1 {
		t.Fatalf("listRules: %v %+v", err, rules)
	}
	var out bytes.Buffer
	renderRules(&out, rules)
	if !strings.Contains(out.String(), "r1    in    VpcEndpointInBps  [{\"instanceId\":\"ep-1\"}]  60s     OK") {
		t.Errorf("rules table:\n%s", out.String())
	}
}
