// Package dataplane is eplink's userspace TCP proxy: it serves the ENI
// addresses of endpoints (kernel sockets in 127.0.0.0/8, or, on the netns
// front end, connections a VPC stack hands over) and forwards each
// accepted connection to a backend of the CLB the endpoint zone is bound to,
// shaped, filtered, health-checked and migrated as the control plane's
// latest snapshot says.
//
//	snapshot.Publisher ──► Proxy.apply (proxy.go): build routeTable (route.go), swap it
//	                       atomically, open/close listeners by set difference,
//	                       close flows whose assignment ended; health.go checkers
//
//	client ─► ENI listener ─► SG check ─► conn/zone gate ─► CLB pick ─► dial ─► Flow ─► backend
//	          loop_linux.go   sg.go       route.go          balance.go  flow_linux.go
//	          accept          allows      route.connected   pool.pick   loop.dial  loop.pump ×2
//	            │               │           │                 │           │        ├ read/write (small)
//	            │               │           │                 │           │        ├ splice_linux.go (bulk)
//	            │               │           │                 │           │        └ shape.go (buckets)
//	          limit          sg_denied   not_connected   no_healthy_backend dial_failed
//	                                     no_resource                        no_descriptors
//
//	every refusal: RST (SO_LINGER 0, then close) and flows_refused_total{reason}
//
// Flows are carried by a few event loops (loop_linux.go, one per core by
// default), each a goroutine on its own thread waiting in epoll_wait; every
// listener is watched by all loops, and a flow stays on the loop that
// accepted it, which alone touches its sockets. Other goroutines reach a
// flow only through its loop's inbox (Flow.abort). No goroutine per flow:
// an idle flow costs its two sockets and its Flow (BenchmarkIdleFlowMemory).
//
// A flow keeps the assignment (endpoint, zone, ENI, CLB) it started
// forwarding with. Graceful migration adds a listener on the new ENI and
// leaves the old ENI's flows alone until the replaced binding disappears;
// Force migration swaps the route under the same listener and resets the
// flows still bound to the old CLB, while a flow still connecting to a
// backend (not a byte forwarded yet) is decided again and dials the new CLB.
// A reset or error on either socket ends a flow at once. One pump call moves
// at most 256 KiB, so a bulk stream cannot keep its loop from the other
// flows on it. Bandwidth is one token bucket per endpoint connection and
// direction, shared by its flows and resized live; bytes are charged after
// they moved, so splice stays in use, and a direction in debt stops reading
// until a loop timer says the tokens are there. Small messages move through
// the loop's one read buffer; a read that fills it switches the direction to
// splice, whose pipe is held only while bytes are in it.
//
// Two carriers, one decision. On the netns front end the ENI addresses
// live in the VPC stacks (dataplane/netstack), which hand each connection
// attempt to Admit (conn.go): the same route, limit, security-group
// (sg.go, on the real source), gate and pool decisions as the loops, the
// same refusal reasons and counters; Admission.Dial picks and dials as
// loop.dial does (instance backends through Options.DialVPC), and
// Admission.Run copies under the same buckets, charged after the bytes
// moved, with two goroutines per flow. Its flows sit in a table apply scans
// as it scans the loops', so Force migration and disconnection end them
// alike. frontend_test.go runs the behaviour tests over both carriers.
//
//	VPC stack SYN ─► Admit ─► Admission.Dial ─► Admission.Run ─► backend
//	                 conn.go  pool.pick, dial    pipe ×2 + debt (shape.go)
//
// Impairments (impair.go) of an ENI, a zone or a CLB, set by the lab API
// through Proxy.Impair: the loops hand a connection accepted on an impaired
// route to the conn carrier before they watch it, and Admission.Run wraps
// its client conn in dataplane/impair's Conn; nothing impaired, the accept
// path pays one atomic load.
//
// Usage:
//
//	p := dataplane.New(dataplane.Options{Metrics: m, Logger: log})
//	go p.Run(ctx, publisher)
//	ok := p.Healthy("lb-clb1")
package dataplane
