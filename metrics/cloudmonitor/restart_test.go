package cloudmonitor_test

import (
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"

	"eplink/metrics/cloudmonitor"
)

// Rules, contacts and the alert log are in the bbolt file: a restart keeps
// every acknowledged change.
func TestRestartKeepsRulesContactsAndLog(t *testing.T) {
	dir := t.TempDir()
	e := newEnvAt(t, dir, cloudmonitor.Config{})
	pc := cms.CreatePutContactRequest()
	pc.ContactName, pc.Describe, pc.ChannelsSMS = "ops", "on call", "13800000000"
	if _, err := e.provider.PutContact(pc); err != nil {
		t.Fatal(err)
	}
	pg := cms.CreatePutContactGroupRequest()
	pg.ContactGroupName, pg.ContactNames = "ops-group", &[]string{"ops"}
	if _, err := e.provider.PutContactGroup(pg); err != nil {
		t.Fatal(err)
	}
	putRule(t, e.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.ContactGroups = "ops-group"
	})
	dis := cms.CreateDisableMetricRulesRequest()
	dis.RuleId = &[]string{"r1"}
	if _, err := e.provider.DisableMetricRules(dis); err != nil {
		t.Fatal(err)
	}
	e.close()

	e = newEnvAt(t, dir, cloudmonitor.Config{})
	r := listRules(t, e.provider, nil)
	if r.Total != "1" || r.Alarms.Alarm[0].RuleId != "r1" || r.Alarms.Alarm[0].EnableState ||
		r.Alarms.Alarm[0].Escalations.Critical.Threshold != "1000" || r.Alarms.Alarm[0].ContactGroups != "ops-group" {
		t.Errorf("rules after restart: %s", r.GetHttpContentBytes())
	}
	cl, err := e.provider.DescribeContactList(cms.CreateDescribeContactListRequest())
	if err != nil || cl.Total != 1 || cl.Contacts.Contact[0].Channels.SMS != "13800000000" {
		t.Errorf("contacts after restart: %v %s", err, cl.GetHttpContentBytes())
	}
	gl, err := e.provider.DescribeContactGroupList(cms.CreateDescribeContactGroupListRequest())
	if err != nil || gl.Total != 1 {
		t.Errorf("groups after restart: %v %+v", err, gl)
	}
}
