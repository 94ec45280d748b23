// Package cloudmonitor is CloudMonitor for eplink: the acs_privatelink
// metric series, threshold alarm rules, their notifications, and the
// CloudMonitor OpenAPI (2019-01-01) that manages and reads them — a second
// product on the same RPC front door (controlplane/rpc) and the same bbolt
// store as PrivateLink.
//
//	data plane counters ──► sampler ──► series (1 s points, 24 h ring each)
//	(metrics.Metrics:        │ once a second: deltas per object,
//	 flow bytes, refusals)   │ objects and owners from the Snapshot
//	                         ▼
//	                  evaluator ── rules (Period, Times, levels, silence,
//	                         │     effective interval, no-data policy)
//	                         │ state change: alert log entry (bbolt)
//	                         ▼
//	                  notifier queue ──► workers: webhook (callback form),
//	                                     DingTalk robot; mail/SMS recorded
//
// Files: catalog.go (the metrics), sampler.go (counters → points),
// series.go (rings), rule.go (a rule and its validation), eval.go (the
// evaluator, rule state), notify.go (deliveries), monitor.go (the Monitor,
// persistence, the alert log), api.go and data.go (the actions), prom.go
// (eplink_alarm_state).
//
// Wiring (cmd/eplink serve):
//
//	mon, err := cloudmonitor.New(cloudmonitor.Config{Store: cp.Store(), Snapshot: pub.Load,
//		Counters: cloudmonitor.CountersFrom(m), Region: lab.Region})
//	go mon.Run(ctx)
//	http.Handle("/", rpc.Products{api.New(cp, log), mon.API(cp.Credentials, log)})
//
// Evaluation never waits for a delivery: it queues jobs, and a full queue
// is recorded as a dropped delivery rather than blocking.
package cloudmonitor
