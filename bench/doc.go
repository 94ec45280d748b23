// Package bench measures eplink side by side with the alternatives on one
// machine, in one run: the same nginx and iperf3 backends reached directly,
// through HAProxy (mode tcp) and through an eplink ENI.
//
//	wrk / iperf3 / dnsperf ──► direct ─────────────┐
//	                       ──► HAProxy (mode tcp) ──┼──► nginx A|B, iperf3 -s
//	                       ──► eplink ENI ─► CLB ───┘
//	dnsperf ──► eplink DNS | NSD (same records)
//
// Run starts every server itself (run.go, servers.go, eplink.go), on
// loopback only, and stops them by pid; each load is bounded in time.
// Scenarios (Scenarios) interleave their targets and repeat, and a Report
// keeps the samples with their median and spread (stats.go). The tools'
// outputs are parsed from text (wrk.go with wrk.lua, iperf.go, dnsperf.go,
// procstat.go) and the report is written as JSON, Markdown and PNG charts
// (report.go, charts.go), plus README-perf.md, the README's performance
// section.
package bench
