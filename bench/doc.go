// Package bench measures eplink side by side with the alternatives on one
// machine, in one run: the same nginx and iperf3 backends reached directly,
// through HAProxy (mode tcp) and through an eplink ENI.
//
//	wrk, iperf3 ──► direct ─────────────────────┐
//	            ──► HAProxy (mode tcp) ──────────┼──► nginx A | B, iperf3 -s
//	            ──► eplink ENI ─► CLB A | B ─────┘
//	dnsperf     ──► eplink DNS | NSD (the same records)
//
// Where things are:
//
//	run.go          Options, Run, the scenario list, progress
//	tools.go        apt-get of missing tools, the machine and tool versions
//	procs.go        starting and stopping servers by pid, bounded client runs
//	servers.go      nginx, HAProxy and NSD configurations
//	eplink.go       the bench lab, `eplink serve`, SDK calls, /metrics
//	targets.go      direct / HAProxy / eplink and their interleaving
//	scen_*.go       the scenarios
//	wrk.go wrk.lua  wrk runs and their JSON summary
//	iperf.go dnsperf.go procstat.go   the other tools' and /proc's output
//	stats.go        median, spread, Jain's fairness index
//	report.go charts.go readme.go     JSON, Markdown, PNG, README section
//
// Everything binds to loopback (127.0.0.0/8), every load is bounded in
// time, and every process the run starts is stopped by its pid (its group)
// before Run returns.
package bench
