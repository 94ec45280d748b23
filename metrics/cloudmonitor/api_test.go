package cloudmonitor_test

import (
	"fmt"
	"strings"
	"testing"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"

	"eplink/controlplane/apitest"
	"eplink/metrics/cloudmonitor"
)

func listRules(t *testing.T, c *cms.Client, mod func(*cms.DescribeMetricRuleListRequest)) *cms.DescribeMetricRuleListResponse {
	t.Helper()
	req := cms.CreateDescribeMetricRuleListRequest()
	if mod != nil {
		mod(req)
	}
	resp, err := c.DescribeMetricRuleList(req)
	if err != nil {
		t.Fatalf("DescribeMetricRuleList: %v", err)
	}
	return resp
}

// Bad input answers the cloud's error and changes nothing.
func TestBadInput(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	putRule(t, f.provider, fakeRule)
	before := string(listRules(t, f.provider, nil).GetHttpContentBytes())
	before = before[strings.Index(before, `"Code"`):] // without RequestId

	cases := []struct {
		name   string
		mod    func(*cms.PutResourceMetricRuleRequest)
		status int
		code   string
		msg    string
	}{
		{"unknown namespace", func(r *cms.PutResourceMetricRuleRequest) { r.Namespace = "acs_ecs_dashboard" }, 400, "ParameterInvalid", "namespace"},
		{"unknown metric", func(r *cms.PutResourceMetricRuleRequest) { r.MetricName = "cpu_total" }, 400, "ParameterInvalid", "metric"},
		{"Resources not JSON", func(r *cms.PutResourceMetricRuleRequest) { r.Resources = "epsrv-1" }, 400, "ParameterInvalid", "Resources"},
		{"Threshold not a number", func(r *cms.PutResourceMetricRuleRequest) { r.EscalationsCriticalThreshold = "lots" }, 400, "ParameterInvalid", "Threshold"},
		{"Statistics the metric has not", func(r *cms.PutResourceMetricRuleRequest) { r.EscalationsCriticalStatistics = "Sum" }, 400, "ParameterInvalid", "Statistics"},
		{"unknown operator", func(r *cms.PutResourceMetricRuleRequest) {
			r.EscalationsCriticalComparisonOperator = "GreaterThanYesterday"
		}, 400, "ParameterInvalid", "ComparisonOperator"},
		{"Period 0", func(r *cms.PutResourceMetricRuleRequest) { r.Period = "0" }, 400, "ParameterInvalid", "Period"},
		{"no escalation", func(r *cms.PutResourceMetricRuleRequest) {
			r.EscalationsCriticalStatistics, r.EscalationsCriticalComparisonOperator = "", ""
			r.EscalationsCriticalThreshold, r.EscalationsCriticalTimes = "", ""
		}, 400, "ParameterInvalid", "Escalations"},
		{"no RuleId", func(r *cms.PutResourceMetricRuleRequest) { r.RuleId = "" }, 400, "MissingParameter", "RuleId"},
		{"bad NoDataPolicy", func(r *cms.PutResourceMetricRuleRequest) { r.NoDataPolicy = "MAYBE" }, 400, "ParameterInvalid", "NoDataPolicy"},
		{"bad EffectiveInterval", func(r *cms.PutResourceMetricRuleRequest) { r.EffectiveInterval = "9-17" }, 400, "ParameterInvalid", "EffectiveInterval"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := cms.CreatePutResourceMetricRuleRequest()
			fakeRule(req)
			req.EscalationsCriticalThreshold = "999" // would change r1 if accepted
			tc.mod(req)
			_, err := f.provider.PutResourceMetricRule(req)
			apitest.WantError(t, err, tc.code)
			se, ok := err.(*sdkerrors.ServerError)
			if !ok || se.HttpStatus() != tc.status || !strings.Contains(se.Message(), tc.msg) {
				t.Errorf("error %v, want HTTP %d naming %s", err, tc.status, tc.msg)
			}
		})
	}
	// Unknown rule ids: 404, and the known one in the same call is untouched.
	en := cms.CreateDisableMetricRulesRequest()
	en.RuleId = &[]string{"r1", "nope"}
	_, err := f.provider.DisableMetricRules(en)
	apitest.WantError(t, err, "ResourceNotFound")
	del := cms.CreateDeleteMetricRulesRequest()
	del.Id = &[]string{"nope"}
	_, err = f.provider.DeleteMetricRules(del)
	apitest.WantError(t, err, "ResourceNotFound")
	dc := cms.CreateDeleteContactRequest()
	dc.ContactName = "nobody"
	_, err = f.provider.DeleteContact(dc)
	apitest.WantError(t, err, "ResourceNotFound")

	after := string(listRules(t, f.provider, nil).GetHttpContentBytes())
	if after = after[strings.Index(after, `"Code"`):]; after != before {
		t.Errorf("rules changed by rejected calls:\nbefore %s\nafter  %s", before, after)
	}
	// Bad data queries.
	q := cms.CreateDescribeMetricListRequest()
	q.Namespace, q.MetricName = "acs_privatelink", "NoSuchMetric"
	_, err = f.provider.DescribeMetricList(q)
	apitest.WantError(t, err, "ParameterInvalid")
	q.MetricName, q.Dimensions = "VpcEndpointInBps", "{instanceId"
	_, err = f.provider.DescribeMetricList(q)
	apitest.WantError(t, err, "ParameterInvalid")
}

// Create, update, list (paging, filters), enable, disable, delete; one
// account never sees another's rules.
func TestRuleLifecycle(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	for i := 1; i <= 15; i++ {
		putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
			fakeRule(r)
			r.RuleId, r.RuleName = fmt.Sprintf("rule-%02d", i), fmt.Sprintf("name %02d", i)
			if i%3 == 0 {
				r.MetricName = "VpcEndpointServiceOutBps"
			}
		})
	}
	p1 := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.PageSize = "10" })
	p2 := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.PageSize, r.Page = "10", "2" })
	if p1.Total != "15" || len(p1.Alarms.Alarm) != 10 || len(p2.Alarms.Alarm) != 5 || p2.Alarms.Alarm[0].RuleId != "rule-11" {
		t.Fatalf("pages: total %s, %d + %d", p1.Total, len(p1.Alarms.Alarm), len(p2.Alarms.Alarm))
	}
	a := p1.Alarms.Alarm[0]
	if a.RuleId != "rule-01" || a.Namespace != "acs_privatelink" || a.Period != "1" || !a.EnableState ||
		a.Escalations.Critical.Threshold != "1000" || a.Escalations.Critical.Times != 1 ||
		a.Escalations.Critical.ComparisonOperator != "GreaterThanOrEqualToThreshold" || a.AlertState != "OK" ||
		a.Resources != `[{"instanceId":"epsrv-1"}]` || a.SilenceTime != 86400 || a.NoDataPolicy != "KEEP_LAST_STATE" {
		t.Errorf("rule-01 as listed: %+v", a)
	}
	if r := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.MetricName = "VpcEndpointServiceOutBps" }); r.Total != "5" {
		t.Errorf("MetricName filter: %s", r.Total)
	}
	if r := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.RuleName = "name 1" }); r.Total != "6" {
		t.Errorf("RuleName filter: %s", r.Total)
	}
	// Update keeps the id, replaces the rest.
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.RuleId, r.RuleName, r.EscalationsCriticalThreshold = "rule-01", "renamed", "2000"
	})
	if r := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.RuleIds = "rule-01" }); r.Total != "1" ||
		r.Alarms.Alarm[0].RuleName != "renamed" || r.Alarms.Alarm[0].Escalations.Critical.Threshold != "2000" {
		t.Errorf("after update: %+v", r.Alarms.Alarm)
	}
	dis := cms.CreateDisableMetricRulesRequest()
	dis.RuleId = &[]string{"rule-01", "rule-02"}
	if _, err := f.provider.DisableMetricRules(dis); err != nil {
		t.Fatal(err)
	}
	if r := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.EnableState = "false" }); r.Total != "2" {
		t.Errorf("disabled: %s", r.Total)
	}
	en := cms.CreateEnableMetricRulesRequest()
	en.RuleId = &[]string{"rule-02"}
	if _, err := f.provider.EnableMetricRules(en); err != nil {
		t.Fatal(err)
	}
	if r := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.EnableState = "false" }); r.Total != "1" {
		t.Errorf("disabled after enable: %s", r.Total)
	}
	// The consumer sees none, and cannot touch them.
	if r := listRules(t, f.consumer, nil); r.Total != "0" {
		t.Errorf("consumer sees %s rules", r.Total)
	}
	del := cms.CreateDeleteMetricRulesRequest()
	del.Id = &[]string{"rule-03"}
	_, err := f.consumer.DeleteMetricRules(del)
	apitest.WantError(t, err, "ResourceNotFound")
	if _, err := f.provider.DeleteMetricRules(del); err != nil {
		t.Fatal(err)
	}
	if r := listRules(t, f.provider, nil); r.Total != "14" {
		t.Errorf("after delete: %s", r.Total)
	}
	// PutResourceMetricRules: one good, one bad.
	batch := cms.CreatePutResourceMetricRulesRequest()
	batch.Rules = &[]cms.PutResourceMetricRulesRules{
		{RuleId: "b1", RuleName: "b1", Namespace: "acs_privatelink", MetricName: "VpcEndpointInBps", Resources: `[{"resource":"_ALL"}]`,
			Period: "60", EscalationsWarnStatistics: "Maximum", EscalationsWarnComparisonOperator: "GreaterThanThreshold", EscalationsWarnThreshold: "1", EscalationsWarnTimes: "3"},
		{RuleId: "b2", RuleName: "b2", Namespace: "acs_privatelink", MetricName: "Nope", Resources: `[]`},
	}
	br, err := f.provider.PutResourceMetricRules(batch)
	if err != nil {
		t.Fatal(err)
	}
	if br.Success || len(br.FailedListResult.Target) != 1 || br.FailedListResult.Target[0].RuleId != "b2" {
		t.Errorf("PutResourceMetricRules: %s", br.GetHttpContentBytes())
	}
	if r := listRules(t, f.provider, func(r *cms.DescribeMetricRuleListRequest) { r.RuleIds = "b1,b2" }); r.Total != "1" {
		t.Errorf("batch saved %s rules, want 1", r.Total)
	}
}

// Contacts and contact groups: put, list, delete, per account.
func TestContacts(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	for _, n := range []string{"alice", "bob"} {
		req := cms.CreatePutContactRequest()
		req.ContactName, req.Describe, req.ChannelsMail = n, "on call", n+"@example.com"
		if n == "bob" {
			req.ChannelsDingWebHook = "http://127.0.0.1:1/robot/send?access_token=x"
		}
		if _, err := f.provider.PutContact(req); err != nil {
			t.Fatal(err)
		}
	}
	g := cms.CreatePutContactGroupRequest()
	g.ContactGroupName, g.ContactNames, g.Describe = "ops", &[]string{"alice", "bob"}, "ops team"
	if _, err := f.provider.PutContactGroup(g); err != nil {
		t.Fatal(err)
	}
	g.ContactNames = &[]string{"carol"}
	_, err := f.provider.PutContactGroup(g)
	apitest.WantError(t, err, "ResourceNotFound")

	cl, err := f.provider.DescribeContactList(cms.CreateDescribeContactListRequest())
	if err != nil {
		t.Fatal(err)
	}
	if cl.Total != 2 || cl.Contacts.Contact[1].Name != "bob" || cl.Contacts.Contact[1].Channels.DingWebHook == "" ||
		len(cl.Contacts.Contact[0].ContactGroups.ContactGroup) != 1 {
		t.Errorf("DescribeContactList %s", cl.GetHttpContentBytes())
	}
	gl, err := f.provider.DescribeContactGroupList(cms.CreateDescribeContactGroupListRequest())
	if err != nil {
		t.Fatal(err)
	}
	if gl.Total != 1 || len(gl.ContactGroupList.ContactGroup) != 1 || len(gl.ContactGroupList.ContactGroup[0].Contacts.Contact) != 2 {
		t.Errorf("DescribeContactGroupList %s", gl.GetHttpContentBytes())
	}
	if cl, _ := f.consumer.DescribeContactList(cms.CreateDescribeContactListRequest()); cl.Total != 0 {
		t.Errorf("the consumer sees the provider's contacts")
	}
	dg := cms.CreateDeleteContactGroupRequest()
	dg.ContactGroupName = "ops"
	if _, err := f.provider.DeleteContactGroup(dg); err != nil {
		t.Fatal(err)
	}
	dc := cms.CreateDeleteContactRequest()
	dc.ContactName = "alice"
	if _, err := f.provider.DeleteContact(dc); err != nil {
		t.Fatal(err)
	}
	if cl, _ := f.provider.DescribeContactList(cms.CreateDescribeContactListRequest()); cl.Total != 1 {
		t.Errorf("after delete: %d contacts", cl.Total)
	}
}

// DescribeMetricList and DescribeMetricLast: periods, paging, ownership.
func TestMetricData(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	f.second(0)
	for i := 0; i < 10; i++ {
		f.second(int64(i+1) * 800)
	}
	q := cms.CreateDescribeMetricListRequest()
	q.Namespace, q.MetricName, q.Period = "acs_privatelink", "VpcEndpointInBps", "1"
	q.StartTime = fmt.Sprint(f.now.Add(-10 * 1e9).UnixMilli())
	q.EndTime = fmt.Sprint(f.now.UnixMilli())
	q.Length = "4"
	resp, err := f.consumer.DescribeMetricList(q)
	if err != nil {
		t.Fatal(err)
	}
	if resp.NextToken == "" || !strings.Contains(resp.Datapoints, `"instanceId":"ep-1"`) || strings.Count(resp.Datapoints, "timestamp") != 4 {
		t.Errorf("page 1: %s", resp.GetHttpContentBytes())
	}
	var all int
	for tok := ""; ; {
		q.NextToken = tok
		r, err := f.consumer.DescribeMetricList(q)
		if err != nil {
			t.Fatal(err)
		}
		all += strings.Count(r.Datapoints, "timestamp")
		if tok = r.NextToken; tok == "" {
			break
		}
	}
	if all != 10 {
		t.Errorf("pages hold %d points, want 10", all)
	}
	// A fresh request: the SDK keeps parameters a request object once sent.
	q5 := cms.CreateDescribeMetricListRequest()
	q5.Namespace, q5.MetricName, q5.Period, q5.StartTime, q5.EndTime = q.Namespace, q.MetricName, "5", q.StartTime, q.EndTime
	r5, err := f.consumer.DescribeMetricList(q5)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(r5.Datapoints, "timestamp"); n < 2 || n > 3 {
		t.Errorf("Period 5 over 10 s: %d points: %s", n, r5.Datapoints)
	}
	// The provider does not see the consumer's endpoint.
	if r, _ := f.provider.DescribeMetricList(q5); r.Datapoints != "[]" {
		t.Errorf("provider sees %s", r.Datapoints)
	}
	last := cms.CreateDescribeMetricLastRequest()
	last.Namespace, last.MetricName, last.Period = "acs_privatelink", "VpcEndpointInBps", "1"
	lr, err := f.consumer.DescribeMetricLast(last)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(lr.Datapoints, `"Average":8000`) {
		t.Errorf("DescribeMetricLast %s", lr.Datapoints)
	}
	meta, err := f.consumer.DescribeMetricMetaList(cms.CreateDescribeMetricMetaListRequest())
	if err != nil {
		t.Fatal(err)
	}
	if meta.TotalCount != fmt.Sprint(len(cloudmonitor.Catalog)) {
		t.Errorf("meta: %s", meta.TotalCount)
	}
}
