package cloudmonitor_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"
	"github.com/prometheus/client_golang/prometheus"

	"eplink/controlplane/apitest"
	"eplink/controlplane/snapshot"
	"eplink/metrics/cloudmonitor"
)

// fake is a Monitor on a fake clock and synthetic counters: one endpoint
// ep-1 of the consumer on service epsrv-1 of the provider, whose inbound
// byte counter the test sets per second.
type fake struct {
	mon      *cloudmonitor.Monitor
	mu       sync.Mutex // guards now: delivery workers read the clock
	now      time.Time
	bytes    atomic.Int64 // cumulative client→backend bytes
	refused  atomic.Int64 // cumulative refused connections
	gone     atomic.Bool  // the service and endpoint are deleted
	more     atomic.Int32 // endpoints ep-more-N (N < more) of the consumer too
	provider *cms.Client
	consumer *cms.Client
	addr     string
}

func fakeSnapshot() *snapshot.Snapshot {
	s := snapshot.Empty()
	s.Services["epsrv-1"] = &snapshot.Service{ID: "epsrv-1", OwnerUID: apitest.ProviderUID}
	s.Endpoints["ep-1"] = &snapshot.Endpoint{ID: "ep-1", OwnerUID: apitest.ConsumerUID, ServiceID: "epsrv-1",
		ConnectionStatus: snapshot.ConnConnected,
		Zones: []*snapshot.EndpointZone{{ZoneID: apitest.ZoneH, Status: snapshot.ZoneConnected, ResourceID: "lb-clb1",
			ENI: snapshot.ENI{ID: "eni-1"}}}}
	return s
}

func credentials(id string) (string, string, bool) {
	switch id {
	case apitest.ProviderAK:
		return apitest.ProviderSK, apitest.ProviderUID, true
	case apitest.ConsumerAK:
		return apitest.ConsumerSK, apitest.ConsumerUID, true
	}
	return "", "", false
}

func newFake(t *testing.T, cfg cloudmonitor.Config) *fake {
	t.Helper()
	f := &fake{now: time.Unix(1_800_000_000, 0)}
	cfg.Now = func() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.now }
	cfg.Snapshot = func() *snapshot.Snapshot {
		if f.gone.Load() {
			return snapshot.Empty()
		}
		s := fakeSnapshot()
		for i := range f.more.Load() {
			id := fmt.Sprintf("ep-more-%d", i)
			s.Endpoints[id] = &snapshot.Endpoint{ID: id, OwnerUID: apitest.ConsumerUID, ServiceID: "epsrv-1"}
		}
		return s
	}
	cfg.Region = apitest.Region
	cfg.Retention = 3600
	cfg.Counters = func() cloudmonitor.Counters {
		return cloudmonitor.Counters{Bytes: []cloudmonitor.ByteCount{{EndpointID: "ep-1", ServiceID: "epsrv-1",
			ResourceID: "lb-clb1", ZoneID: apitest.ZoneH, In: true, Bytes: float64(f.bytes.Load())}},
			Refused: []cloudmonitor.RefusedCount{{EndpointID: "ep-1", ServiceID: "epsrv-1", ZoneID: apitest.ZoneH,
				Count: float64(f.refused.Load())}}}
	}
	mon, err := cloudmonitor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mon = mon
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); mon.RunDelivery(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	hs := httptest.NewServer(mon.API(credentials, nil))
	t.Cleanup(hs.Close)
	addr := strings.TrimPrefix(hs.URL, "http://")
	f.addr = addr
	f.provider = cmsClient(t, addr, apitest.ProviderAK, apitest.ProviderSK)
	f.consumer = cmsClient(t, addr, apitest.ConsumerAK, apitest.ConsumerSK)
	return f
}

// second advances the clock one second, with bps bits of inbound traffic
// in it, and ticks.
func (f *fake) second(bps int64) {
	f.bytes.Add(bps / 8)
	f.mu.Lock()
	f.now = f.now.Add(time.Second)
	now := f.now
	f.mu.Unlock()
	f.mon.Tick(now)
}

func fakeRule(r *cms.PutResourceMetricRuleRequest) {
	r.RuleId, r.RuleName = "r1", "inbound"
	r.Namespace, r.MetricName = "acs_privatelink", "VpcEndpointServiceInBps"
	r.Resources = `[{"instanceId":"epsrv-1"}]`
	r.Period = "1"
	r.EscalationsCriticalStatistics = "Average"
	r.EscalationsCriticalComparisonOperator = "GreaterThanOrEqualToThreshold"
	r.EscalationsCriticalThreshold = "1000"
	r.EscalationsCriticalTimes = "1"
	r.ContactGroups = "none"
}

func history(t *testing.T, c *cms.Client) []cms.AlarmHistory {
	t.Helper()
	req := cms.CreateDescribeAlertHistoryListRequest()
	req.Ascending = "true"
	req.PageSize = "100"
	resp, err := c.DescribeAlertHistoryList(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.AlarmHistoryList.AlarmHistory
}

// SilenceTime: while a rule stays in alarm, a reminder is sent once per
// silence time, no more; recovery is notified at once.
func TestSilenceTimeRepeats(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.SilenceTime = "3"
	})
	f.second(0)
	for i := 0; i < 8; i++ {
		f.second(2000)
	}
	f.second(0)
	var got []string
	for _, h := range history(t, f.provider) {
		got = append(got, h.State+"/"+h.Level+"/"+map[int]string{0: "sent", 2: "reminder"}[h.Status])
	}
	// Alarm at the end of the first loaded second, reminders 3 and 6 s
	// later, recovery after the last loaded second.
	want := []string{"ALARM/CRITICAL/sent", "ALARM/CRITICAL/reminder", "ALARM/CRITICAL/reminder", "OK/OK/sent"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("history %v, want %v", got, want)
	}
	h := history(t, f.provider)
	if len(h) == 4 && (h[1].AlertTime-h[0].AlertTime != 3000 || h[2].AlertTime-h[1].AlertTime != 3000) {
		t.Errorf("reminders at %d %d %d, want 3 s apart", h[0].AlertTime, h[1].AlertTime, h[2].AlertTime)
	}
}

// Times counts consecutive periods, and a period below resets it; Period
// aggregates the 1-second points.
func TestTimesAndPeriod(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.Period = "2"
		r.EscalationsCriticalTimes = "2"
	})
	// Prime the counters, then align: the next second written is even, so
	// each pair below is one window.
	f.second(0)
	for f.now.Unix()%2 != 0 {
		f.second(0)
	}
	// Windows (average): 1500, 500, 1500, 1500 → alarm at the 4th.
	for _, bps := range []int64{2000, 1000, 0, 1000, 1000, 2000, 2000, 1000} {
		f.second(bps)
	}
	h := history(t, f.provider)
	if len(h) != 1 || h[0].State != "ALARM" || h[0].Value != "1500" {
		t.Fatalf("history %+v, want one ALARM at value 1500", h)
	}
	if h[0].AlertTime != f.now.UnixMilli() {
		t.Errorf("alarm at %d, want %d (end of the 4th window)", h[0].AlertTime, f.now.UnixMilli())
	}
}

// NoDataPolicy and the effective interval.
func TestNoDataAndEffectiveInterval(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	outside := f.now.Add(2*time.Hour).Format("15:04") + "-" + f.now.Add(3*time.Hour).Format("15:04")
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.EffectiveInterval = outside
	})
	for i := 0; i < 4; i++ {
		f.second(5000)
	}
	if h := history(t, f.provider); len(h) != 0 {
		t.Fatalf("a rule outside its EffectiveInterval alarmed: %+v", h)
	}
	// The same rule with NoEffectiveInterval around now: still quiet.
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.NoEffectiveInterval = f.now.Add(-time.Hour).Format("15:04") + "-" + f.now.Add(time.Hour).Format("15:04")
	})
	for i := 0; i < 3; i++ {
		f.second(5000)
	}
	if h := history(t, f.provider); len(h) != 0 {
		t.Fatalf("a rule inside its NoEffectiveInterval alarmed: %+v", h)
	}
	del := cms.CreateDeleteMetricRulesRequest()
	del.Id = &[]string{"r1"}
	if _, err := f.provider.DeleteMetricRules(del); err != nil {
		t.Fatal(err)
	}

	// INSUFFICIENT_DATA when the series stops (the service is gone).
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.RuleId = "r2"
		r.NoDataPolicy = "INSUFFICIENT_DATA"
	})
	f.second(0)
	f.second(0)
	if s := ruleState(t, f.provider, "r2"); s != "OK" {
		t.Fatalf("r2 %s with data, want OK", s)
	}
	f.gone.Store(true)
	f.second(0)
	f.second(0)
	h := history(t, f.provider)
	if len(h) != 1 || h[0].State != "INSUFFICIENT_DATA" || h[0].RuleId != "r2" {
		t.Fatalf("history %+v, want one INSUFFICIENT_DATA of r2", h)
	}
	if s := ruleState(t, f.provider, "r2"); s != "INSUFFICIENT_DATA" {
		t.Errorf("r2 AlertState %s, want INSUFFICIENT_DATA", s)
	}
}

// A webhook that hangs and one that answers 500 do not hold evaluation:
// the rule alarms and recovers while the first delivery still hangs, and
// every attempt is logged with its result.
func TestSlowWebhooksDoNotDelayEvaluation(t *testing.T) {
	release := make(chan struct{})
	var hung atomic.Int32
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hung.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	var fails atomic.Int32
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fails.Add(1)
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer fail.Close()
	f := newFake(t, cloudmonitor.Config{NotifyTimeout: time.Hour, NotifyAttempts: 3, RetryBackoff: time.Millisecond})
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.Webhook = hang.URL
	})
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.RuleId = "r-fail"
		r.Webhook = fail.URL
	})
	f.second(0)
	f.second(5000)
	apitest.Eventually(t, "the hanging webhook called", func() (bool, string) { return hung.Load() >= 1, "" })
	f.second(0) // recovery, evaluated while the first delivery hangs
	var states []string
	for _, h := range history(t, f.provider) {
		if h.RuleId == "r1" {
			states = append(states, h.State)
		}
	}
	if strings.Join(states, ",") != "ALARM,OK" {
		t.Fatalf("r1 history %v while its webhook hangs, want ALARM,OK", states)
	}
	// The failing webhook: three attempts for each of two notifications.
	req := cms.CreateDescribeAlertLogListRequest()
	req.RuleId = "r-fail"
	apitest.Eventually(t, "6 attempts logged", func() (bool, string) {
		resp, err := f.provider.DescribeAlertLogList(req)
		if err != nil {
			return false, err.Error()
		}
		n := 0
		for _, l := range resp.AlertLogList {
			for _, w := range l.WebhookList {
				if w.Code != "500" {
					return false, "code " + w.Code
				}
				n++
			}
			if len(l.WebhookList) > 0 && l.SendStatus != "FAILED" {
				return false, "SendStatus " + l.SendStatus
			}
		}
		return n == 6, string(resp.GetHttpContentBytes())
	})
	if fails.Load() != 6 {
		t.Errorf("the failing webhook was called %d times, want 6", fails.Load())
	}
}

// The callback form field by field for a Critical alarm (the SDK test
// checks the Warn one end to end).
func TestCallbackFields(t *testing.T) {
	got := make(chan url.Values, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got <- r.PostForm
	}))
	defer hook.Close()
	f := newFake(t, cloudmonitor.Config{})
	putRule(t, f.provider, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.Webhook = hook.URL
	})
	f.second(0)
	f.second(4000)
	var v url.Values
	select {
	case v = <-got:
	case <-time.After(30 * time.Second):
		t.Fatal("no callback")
	}
	want := url.Values{
		"alertName": {"inbound"}, "alertState": {"ALERT"}, "curValue": {"4000"},
		"dimensions": {"{userId=" + apitest.ProviderUID + ", instanceId=epsrv-1}"}, "expression": {"$Average>=1000"},
		"instanceName": {"epsrv-1"}, "metricName": {"VpcEndpointServiceInBps"}, "metricProject": {"acs_privatelink"},
		"namespace": {"acs_privatelink"}, "preTriggerLevel": {"OK"}, "triggerLevel": {"CRITICAL"}, "ruleId": {"r1"},
		"regionId": {apitest.Region}, "timestamp": {"1800000002000"}, "userId": {apitest.ProviderUID},
	}
	for k := range want {
		if v.Get(k) != want.Get(k) {
			t.Errorf("%s = %q, want %q", k, v.Get(k), want.Get(k))
		}
	}
	for k := range v {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %s=%q", k, v.Get(k))
		}
	}
}

// Status (the /metrics collector, eplink status) reads rule states while
// the sampler adds series: run with -race.
func TestStatusWhileSeriesAppear(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	putRule(t, f.consumer, func(r *cms.PutResourceMetricRuleRequest) {
		fakeRule(r)
		r.MetricName, r.Resources = "VpcEndpointInBps", `[{"resource":"_ALL"}]`
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 200; i++ {
			for _, r := range f.mon.Status() {
				_ = len(r.Resources)
			}
		}
	}()
	for i := 0; i < 30; i++ {
		f.more.Add(1)
		f.second(0)
	}
	<-done
	st := f.mon.Status()
	if len(st) != 1 || len(st[0].Resources) < 20 {
		t.Errorf("status %+v", st)
	}
}

// eplink_alarm_state follows a rule through ALARM and back, and the drop
// metric counts refused connections per second.
func TestAlarmStateMetricAndDrops(t *testing.T) {
	f := newFake(t, cloudmonitor.Config{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.mon.Collector())
	putRule(t, f.provider, fakeRule)
	f.second(0)
	f.second(5000)
	if got := alarmSeries(t, reg); got != `level=CRITICAL metric_name=VpcEndpointServiceInBps namespace=acs_privatelink rule_id=r1 rule_name=inbound state=ALARM user_id=1000000000000001 = 1` {
		t.Errorf("in alarm: %s", got)
	}
	f.second(0)
	if got := alarmSeries(t, reg); got != `level=OK metric_name=VpcEndpointServiceInBps namespace=acs_privatelink rule_id=r1 rule_name=inbound state=OK user_id=1000000000000001 = 0` {
		t.Errorf("recovered: %s", got)
	}

	f.refused.Add(7)
	f.second(0)
	req := cms.CreateDescribeMetricLastRequest()
	req.Namespace, req.MetricName, req.Period = "acs_privatelink", "VpcEndpointDropConnections", "1"
	resp, err := f.consumer.DescribeMetricLast(req)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Datapoints, `"Sum":7`) {
		t.Errorf("VpcEndpointDropConnections %s, want Sum 7", resp.Datapoints)
	}
}

// alarmSeries renders the eplink_alarm_state series of reg, one per line.
func alarmSeries(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, mf := range mfs {
		if mf.GetName() != "eplink_alarm_state" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var l []string
			for _, p := range m.GetLabel() {
				l = append(l, p.GetName()+"="+p.GetValue())
			}
			lines = append(lines, strings.Join(l, " ")+fmt.Sprintf(" = %g", m.GetGauge().GetValue()))
		}
	}
	return strings.Join(lines, "\n")
}
