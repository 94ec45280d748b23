package cloudmonitor_test

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"

	"eplink/controlplane/apitest"
	"eplink/controlplane/store"
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

// The alert log, with its deliveries, survives a restart too.
func TestAlertLogSurvivesRestart(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eplink.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newFake(t, cloudmonitor.Config{Store: st})
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.ContactGroups = "missing-group"
	})
	f.second(0)
	f.second(5000)
	f.second(0)
	// A monitor opened on the same store, as after a restart, has them
	// (the log is written behind evaluation: poll until it is on disk).
	var g *fake
	var h []cms.AlarmHistory
	apitest.Eventually(t, "alert log reloaded", func() (bool, string) {
		g = newFakeQuiet(t, st)
		h = history(t, g.provider)
		return len(h) == 2, ""
	})
	if h[0].State != "ALARM" || h[1].State != "OK" {
		t.Errorf("history after restart %+v", h)
	}
	req := cms.CreateDescribeAlertLogListRequest()
	req.RuleId = "r1"
	l, err := g.provider.DescribeAlertLogList(req)
	if err != nil || len(l.AlertLogList) != 2 || !strings.Contains(string(l.GetHttpContentBytes()), "missing-group") {
		t.Errorf("alert log after restart: %v %s", err, l.GetHttpContentBytes())
	}
}

// newFakeQuiet opens another monitor on st, as a restart would.
func newFakeQuiet(t *testing.T, st *store.Store) *fake {
	return newFake(t, cloudmonitor.Config{Store: st})
}

// Concurrent updates of one rule leave memory and disk agreeing on the
// last one.
func TestConcurrentPutsAgreeWithDisk(t *testing.T) {
	st, err := store.Open(filepath.Join(t.TempDir(), "eplink.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	f := newFake(t, cloudmonitor.Config{Store: st})
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		// One SDK client per goroutine: a client is not safe for
		// concurrent use.
		c := cmsClient(t, f.addr, apitest.ProviderAK, apitest.ProviderSK)
		go func() {
			defer wg.Done()
			req := cms.CreatePutResourceMetricRuleRequest()
			fakeRule(req)
			req.EscalationsCriticalThreshold = strconv.Itoa(1000 + i)
			if _, err := c.PutResourceMetricRule(req); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	inMemory := listRules(t, f.provider, nil).Alarms.Alarm[0].Escalations.Critical.Threshold
	onDisk := listRules(t, newFakeQuiet(t, st).provider, nil).Alarms.Alarm[0].Escalations.Critical.Threshold
	if inMemory != onDisk {
		t.Errorf("threshold in memory %s, on disk %s", inMemory, onDisk)
	}
}
