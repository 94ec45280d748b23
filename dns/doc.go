// Package dns is eplink's authoritative DNS server for the PrivateLink zone
// (privatelink.aliyuncs.com by default), answering from the control plane's
// snapshot the way the cloud's resolver does.
//
//	UDP ─► readUDP (udp.go: one reader per SO_REUSEPORT socket, batches
//	  │     of recvmmsg/sendmmsg) ─► fastReply (fast.go): A/AAAA below the
//	  │     apex straight from the query's bytes, the same bytes ServeDNS
//	  │     would send; anything else ─┐
//	TCP ─► miekg/dns server ──────────┴─► ServeDNS (server.go: FORMERR, EDNS0, recover, metrics)
//	          ├─ in the zone ─► index.lookup (lookup.go) ─► A/AAAA, NODATA, NXDOMAIN
//	          │                  index built once per snapshot (index.go)
//	          └─ outside ─► REFUSED, or forwarder (forward.go) ─► upstream
//
// Names it answers (see DESIGN §4):
//
//	<zone>                                  SOA, NS ns1.<zone> (+ glue A when bound to one IP)
//	<ep>-<zone-id>.<epsrv>.<region>.<zone>  the zone's current ENI; after a Graceful
//	                                        migration the new one, never the replaced one
//	<ep>.<epsrv>.<region>.<zone>            the ENIs of the zones that carry traffic, are
//	                                        not failed and whose CLB is healthy; with zone
//	                                        affinity the client's own zone first
//	<epsrv>.<region>.<zone>, <region>.<zone> exist without records (NODATA)
//
// A zone domain or endpoint domain with nothing to answer is NXDOMAIN: the
// cloud deletes the record from the private zone when a zone stops carrying
// traffic, so the name no longer exists; a short negative TTL (the SOA's
// minimum, equal to the TTL) lets clients see it come back within seconds.
package dns
