package cloudmonitor

import "github.com/prometheus/client_golang/prometheus"

var alarmStateDesc = prometheus.NewDesc("eplink_alarm_state",
	"Whether a CloudMonitor alarm rule is in ALARM (1) or not (0); level is CRITICAL, WARN or INFO in alarm, else OK (or NODATA), state the rule's AlertState.",
	[]string{"user_id", "rule_id", "rule_name", "namespace", "metric_name", "level", "state"}, nil)

// Collector returns a Prometheus collector of every rule's alarm state,
// read at scrape time (a deleted rule has no series any more).
func (m *Monitor) Collector() prometheus.Collector { return alarmCollector{m} }

type alarmCollector struct{ m *Monitor }

// Describe implements prometheus.Collector.
func (c alarmCollector) Describe(ch chan<- *prometheus.Desc) { ch <- alarmStateDesc }

// Collect implements prometheus.Collector.
func (c alarmCollector) Collect(ch chan<- prometheus.Metric) {
	for _, r := range c.m.Status() {
		v, level := 0.0, "OK"
		switch r.State {
		case StateAlarm:
			v, level = 1, upper(r.Level)
		case StateInsufficientData:
			level = "NODATA"
		}
		ch <- prometheus.MustNewConstMetric(alarmStateDesc, prometheus.GaugeValue, v,
			r.Owner, r.RuleID, r.RuleName, Namespace, r.MetricName, level, r.State)
	}
}
