// Package dataplane is eplink's userspace TCP proxy: it serves the ENI
// addresses of endpoints (kernel sockets in 127.0.0.0/8) and forwards each
// accepted connection to a backend of the CLB the endpoint zone is bound to,
// shaped, filtered, health-checked and migrated as the control plane's
// latest snapshot says.
//
//	snapshot.Publisher ──► Proxy.apply (proxy.go): build routeTable (route.go), swap it
//	                       atomically, open/close listeners by set difference,
//	                       close flows whose assignment ended; health.go checkers
//
//	client ─► ENI listener ─► SG check ─► conn/zone gate ─► CLB pick ─► dial ─► Flow ─► backend
//	          listener.go     sg.go       route.go          balance.go  listener.go  flow.go
//	          serve           allows      route.connected   pool.pick   dialBackend  pipe ×2
//	            │               │           │                 │           │          ├ splice_linux.go (mover)
//	            │               │           │                 │           │          └ shape.go (buckets)
//	          limit          sg_denied   not_connected   no_healthy_backend dial_failed
//	                                     no_resource
//
//	every refusal: RST (SetLinger(0)+Close) and flows_refused_total{reason}
//
// A flow keeps the assignment (endpoint, zone, ENI, CLB) it started with.
// Graceful migration adds a listener on the new ENI and leaves the old ENI's
// flows alone until the replaced binding disappears; Force migration swaps
// the route under the same listener and resets the flows still bound to the
// old CLB. Bandwidth is one token bucket per endpoint connection and
// direction, shared by its flows and resized live; bytes are charged after
// they moved, so splice stays in use. The splice pipe is held only while
// bytes are in it: an idle flow costs two sockets, two parked goroutines
// and about 12 KB (BenchmarkIdleFlowMemory).
//
// Usage:
//
//	p := dataplane.New(dataplane.Options{Metrics: m, Logger: log})
//	go p.Run(ctx, publisher)
//	ok := p.Healthy("lb-clb1")
package dataplane
