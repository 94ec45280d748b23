package cloudmonitor

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

	"eplink/controlplane/rpc"
)

// benchMonitor has n series of VpcEndpointInBps (one per endpoint) with
// secs seconds of points, and rules rules, each on one endpoint.
func benchMonitor(b *testing.B, n, secs, rules int, t0 int64) *Monitor {
	m, err := New(Config{Retention: 3600})
	if err != nil {
		b.Fatal(err)
	}
	meta, _ := LookupMetric("VpcEndpointInBps")
	pts := make([]point, n)
	for i := range pts {
		pts[i] = point{meta: meta, dims: []kv{{"userId", "1000000000000001"}, {"instanceId", fmt.Sprintf("ep-%04d", i)}}}
	}
	for s := 0; s < secs; s++ {
		for i := range pts {
			pts[i].v = float64((s*7 + i) % 1000)
		}
		m.db.write(t0+int64(s), pts)
	}
	for i := 0; i < rules; i++ {
		r, err := parseRule("1000000000000001", func(k string) string {
			return map[string]string{
				"RuleId": fmt.Sprintf("r%05d", i), "RuleName": "bench", "Namespace": Namespace,
				"MetricName": "VpcEndpointInBps", "Resources": fmt.Sprintf(`[{"instanceId":"ep-%04d"}]`, i%n),
				"Period": "1", "Escalations.Critical.Statistics": "Average",
				"Escalations.Critical.ComparisonOperator": "GreaterThanOrEqualToThreshold",
				"Escalations.Critical.Threshold":          "100000", "Escalations.Critical.Times": "3",
			}[k]
		})
		if err != nil {
			b.Fatal(err)
		}
		m.rules[r.Owner+"/"+r.RuleID] = r
	}
	return m
}

// BenchmarkEvaluate is one second of the monitor's work at scale: 1,000
// series written and 10,000 rules with Period 1 evaluated (the worst case:
// every rule is due every second). ns/op ÷ 10^7 is the percentage of one
// core it costs.
func BenchmarkEvaluate(b *testing.B) {
	const series, rules = 1000, 10000
	t0 := int64(1_800_000_000)
	m := benchMonitor(b, series, 120, rules, t0)
	meta, _ := LookupMetric("VpcEndpointInBps")
	pts := make([]point, series)
	for i := range pts {
		pts[i] = point{meta: meta, dims: []kv{{"userId", "1000000000000001"}, {"instanceId", fmt.Sprintf("ep-%04d", i)}}, v: 5}
	}
	now := t0 + 120
	m.mu.Lock()
	m.evaluate(now) // first evaluation matches rules to series
	m.mu.Unlock()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now++
		m.db.write(now-1, pts)
		m.mu.Lock()
		m.evaluate(now)
		m.mu.Unlock()
	}
}

// BenchmarkDescribeMetricList is an hour at 1 s of one series, one page,
// through the signed RPC front door.
func BenchmarkDescribeMetricList(b *testing.B) {
	t0 := time.Now().Unix() - 3600
	m := benchMonitor(b, 1, 3600, 0, t0)
	srv := m.API(func(string) (string, string, bool) { return "secret", "1000000000000001", true }, nil)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := url.Values{
			"Action": {"DescribeMetricList"}, "Version": {Version}, "Format": {"JSON"}, "AccessKeyId": {"ak"},
			"SignatureMethod": {rpc.SignatureMethod}, "SignatureVersion": {rpc.SignatureVersion},
			"SignatureNonce": {strconv.Itoa(i)}, "Timestamp": {time.Now().UTC().Format("2006-01-02T15:04:05Z")},
			"Namespace": {Namespace}, "MetricName": {"VpcEndpointInBps"}, "Period": {"1"}, "Length": {"3600"},
			"StartTime": {strconv.FormatInt(t0*1000, 10)}, "EndTime": {strconv.FormatInt((t0+3600)*1000, 10)},
		}
		v.Set("Signature", rpc.Sign("GET", v, "secret"))
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/?"+v.Encode(), nil))
		if w.Code != 200 || w.Body.Len() < 3600*50 {
			b.Fatalf("%d %.200s", w.Code, w.Body.String())
		}
	}
}
