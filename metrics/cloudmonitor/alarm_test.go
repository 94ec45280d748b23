package cloudmonitor_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"

	"eplink/controlplane/apitest"
	"eplink/metrics/cloudmonitor"
)

// receiver is a webhook endpoint that hands over what it is sent.
type received struct {
	contentType string
	body        []byte
}

func receiver(t *testing.T) (string, <-chan received) {
	ch := make(chan received, 64)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- received{r.Header.Get("Content-Type"), b}
		w.Write([]byte(`{"errcode":0,"errmsg":"ok"}`))
	}))
	t.Cleanup(hs.Close)
	return hs.URL, ch
}

func next(t *testing.T, ch <-chan received, what string) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(30 * time.Second):
		t.Fatalf("no %s within 30 s", what)
	}
	return received{}
}

func none(t *testing.T, ch <-chan received, d time.Duration, what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("unexpected %s: %s", what, r.body)
	case <-time.After(d):
	}
}

func putRule(t *testing.T, c *cms.Client, mod func(*cms.PutResourceMetricRuleRequest)) {
	t.Helper()
	req := cms.CreatePutResourceMetricRuleRequest()
	mod(req)
	resp, err := c.PutResourceMetricRule(req)
	if err != nil {
		t.Fatalf("PutResourceMetricRule: %v", err)
	}
	if !resp.Success || resp.Code != "200" {
		t.Fatalf("PutResourceMetricRule: %+v", resp)
	}
}

// The guide's steps 3 and 4 through the SDK: a Warn rule on the service
// resource's inbound bandwidth, real load through the endpoint, the webhook
// called once in CloudMonitor's callback form, ALARM, recovery notified.
func TestRuleFiresUnderLoadAndRecovers(t *testing.T) {
	hookURL, hooks := receiver(t)
	dingURL, dings := receiver(t)
	e := newEnv(t, cloudmonitor.Config{})
	svc, _, eni := e.connect(t)

	pc := cms.CreatePutContactRequest()
	pc.ContactName, pc.Describe = "ops", "on call"
	pc.ChannelsDingWebHook, pc.ChannelsMail = dingURL, "ops@example.com"
	if _, err := e.provider.PutContact(pc); err != nil {
		t.Fatalf("PutContact: %v", err)
	}
	pg := cms.CreatePutContactGroupRequest()
	pg.ContactGroupName, pg.ContactNames = "ops-group", &[]string{"ops"}
	if _, err := e.provider.PutContactGroup(pg); err != nil {
		t.Fatalf("PutContactGroup: %v", err)
	}
	const threshold = 10000000 // 10 Mbit/s
	resources := `[{"instanceId":"` + svc + `","resourceId":"` + apitest.CLB1 + `"}]`
	putRule(t, e.provider, func(r *cms.PutResourceMetricRuleRequest) {
		r.RuleId, r.RuleName = "clb1-inbound", "CLB1 inbound bandwidth"
		r.Namespace, r.MetricName = "acs_privatelink", "VpcEndpointServiceResourceInBps"
		r.Resources = resources
		r.Period = "1"
		r.EscalationsWarnStatistics = "Average"
		r.EscalationsWarnComparisonOperator = "GreaterThanOrEqualToThreshold"
		r.EscalationsWarnThreshold = strconv.Itoa(threshold)
		r.EscalationsWarnTimes = "2"
		r.ContactGroups = "ops-group"
		r.Webhook = hookURL
		r.EffectiveInterval = "00:00-23:59"
	})

	// Idle: the rule is evaluated and stays OK.
	none(t, hooks, 3*time.Second, "webhook while idle")
	if s := ruleState(t, e.provider, "clb1-inbound"); s != "OK" {
		t.Fatalf("AlertState while idle = %s, want OK", s)
	}

	stop := make(chan struct{})
	done := load(t, eni, stop)
	alert := next(t, hooks, "ALERT webhook")
	if alert.contentType != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", alert.contentType)
	}
	f, err := url.ParseQuery(string(alert.body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alertName": "CLB1 inbound bandwidth", "alertState": "ALERT",
		"expression": "$Average>=10000000", "metricName": "VpcEndpointServiceResourceInBps",
		"metricProject": "acs_privatelink", "namespace": "acs_privatelink",
		"userId": apitest.ProviderUID, "ruleId": "clb1-inbound", "triggerLevel": "WARN",
		"preTriggerLevel": "OK", "instanceName": svc, "regionId": apitest.Region,
		"dimensions": "{userId=" + apitest.ProviderUID + ", instanceId=" + svc + ", resourceId=" + apitest.CLB1 + ", zoneId=" + apitest.ZoneH + "}",
	}
	for k, v := range want {
		if got := f.Get(k); got != v {
			t.Errorf("callback %s = %q, want %q", k, got, v)
		}
	}
	cur, err := strconv.ParseFloat(f.Get("curValue"), 64)
	if err != nil || cur < threshold {
		t.Errorf("curValue %q, want ≥ %d", f.Get("curValue"), threshold)
	}
	ts, err := strconv.ParseInt(f.Get("timestamp"), 10, 64)
	if err != nil || time.Since(time.UnixMilli(ts)).Abs() > time.Minute {
		t.Errorf("timestamp %q is not now in ms", f.Get("timestamp"))
	}
	// Not before: the alarm is at the end of the first two seconds in a row
	// over the threshold, by the very series DescribeMetricList shows.
	points := metricList(t, e.provider, "VpcEndpointServiceResourceInBps", resources, "1", ts-30000, ts)
	first := int64(0)
	for i := 1; i < len(points); i++ {
		if points[i-1].Average >= threshold && points[i].Average >= threshold &&
			points[i].Timestamp-points[i-1].Timestamp == 1000 {
			first = points[i].Timestamp
			break
		}
	}
	if first == 0 || ts != first+1000 {
		t.Errorf("alarm at %d, want at the end of the second consecutive period over the threshold (%d + 1000); points %+v", ts, first, points)
	}
	if s := ruleState(t, e.provider, "clb1-inbound"); s != "ALARM" {
		t.Errorf("AlertState under load = %s, want ALARM", s)
	}
	ding := next(t, dings, "DingTalk message")
	var dm struct {
		Msgtype  string
		Markdown struct{ Title, Text string }
	}
	if err := json.Unmarshal(ding.body, &dm); err != nil || dm.Msgtype != "markdown" || !strings.Contains(dm.Markdown.Title, "WARN") {
		t.Errorf("DingTalk message %s (%v)", ding.body, err)
	}

	// Silence: still over the threshold, no reminder within SilenceTime.
	none(t, hooks, 3*time.Second, "webhook within the silence time")
	close(stop)
	<-done

	ok := next(t, hooks, "OK webhook")
	f, _ = url.ParseQuery(string(ok.body))
	if f.Get("alertState") != "OK" || f.Get("preTriggerLevel") != "WARN" || f.Get("triggerLevel") != "OK" {
		t.Errorf("recovery callback %v", f)
	}
	next(t, dings, "DingTalk recovery message")
	apitest.Eventually(t, "rule OK", func() (bool, string) {
		s := ruleState(t, e.provider, "clb1-inbound")
		return s == "OK", s
	})

	// The alert log has both transitions and every delivery.
	req := cms.CreateDescribeAlertLogListRequest()
	req.RuleId = "clb1-inbound"
	var logs *cms.DescribeAlertLogListResponse
	apitest.Eventually(t, "deliveries logged", func() (bool, string) {
		logs, err = e.provider.DescribeAlertLogList(req)
		if err != nil {
			return false, err.Error()
		}
		return len(logs.AlertLogList) == 2 && len(logs.AlertLogList[0].WebhookList) == 1, string(logs.GetHttpContentBytes())
	})
	okLog, alertLog := logs.AlertLogList[0], logs.AlertLogList[1]
	if alertLog.Level != "WARN" || alertLog.LevelChange != "OK->WARN" || okLog.Level != "OK" {
		t.Errorf("alert log levels %q %q / %q", alertLog.Level, alertLog.LevelChange, okLog.Level)
	}
	if w := alertLog.WebhookList; len(w) != 1 || w[0].Code != "200" || w[0].Url != hookURL {
		t.Errorf("WebhookList %+v", w)
	}
	if alertLog.SendStatus != "SUCCESS" || len(alertLog.DingdingWebhookList) != 1 || len(alertLog.ContactMailList) != 1 {
		t.Errorf("deliveries %s", logs.GetHttpContentBytes())
	}
	if !strings.Contains(string(logs.GetHttpContentBytes()), "not-sent") {
		t.Errorf("the mail channel is not recorded as not sent: %s", logs.GetHttpContentBytes())
	}

	// Another account sees none of it.
	lr := cms.CreateDescribeMetricRuleListRequest()
	if r, err := e.consumer.DescribeMetricRuleList(lr); err != nil || r.Total != "0" {
		t.Errorf("consumer's rule list: %v %+v", err, r)
	}
	if p := metricList(t, e.consumer, "VpcEndpointServiceResourceInBps", resources, "1", ts-30000, ts); len(p) != 0 {
		t.Errorf("consumer sees the provider's series: %+v", p)
	}
	if l, err := e.consumer.DescribeAlertLogList(cms.CreateDescribeAlertLogListRequest()); err != nil || len(l.AlertLogList) != 0 {
		t.Errorf("consumer's alert log: %v %+v", err, l)
	}
}

func ruleState(t *testing.T, c *cms.Client, id string) string {
	t.Helper()
	req := cms.CreateDescribeMetricRuleListRequest()
	req.RuleIds = id
	resp, err := c.DescribeMetricRuleList(req)
	if err != nil {
		t.Fatalf("DescribeMetricRuleList: %v", err)
	}
	if len(resp.Alarms.Alarm) != 1 {
		t.Fatalf("DescribeMetricRuleList %s: %d rules", id, len(resp.Alarms.Alarm))
	}
	return resp.Alarms.Alarm[0].AlertState
}

type datapoint struct {
	Timestamp  int64
	Average    float64
	Maximum    float64
	Minimum    float64
	InstanceID string `json:"instanceId"`
	UserID     string `json:"userId"`
}

func metricList(t *testing.T, c *cms.Client, metric, dims, period string, from, to int64) []datapoint {
	t.Helper()
	req := cms.CreateDescribeMetricListRequest()
	req.Namespace, req.MetricName, req.Dimensions, req.Period = "acs_privatelink", metric, dims, period
	req.StartTime, req.EndTime = strconv.FormatInt(from, 10), strconv.FormatInt(to, 10)
	resp, err := c.DescribeMetricList(req)
	if err != nil {
		t.Fatalf("DescribeMetricList: %v", err)
	}
	var out []datapoint
	if err := json.Unmarshal([]byte(resp.Datapoints), &out); err != nil {
		t.Fatalf("Datapoints %q: %v", resp.Datapoints, err)
	}
	return out
}
