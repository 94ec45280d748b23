// Package metrics is eplink's Prometheus instrumentation: one Metrics value,
// registered on a registry the caller passes in (never the default one).
//
// Counters the data path bumps are plain vectors. Per-flow and per-zone state
// (active flows, backend health, zone state, open listeners) is not kept in
// gauges that someone must remember to delete: a collector reads it from the
// data plane at scrape time, so a flow, zone or backend that is gone simply
// has no series any more.
//
// Names (all prefixed eplink_dataplane_):
//
//	flows_active{endpoint_id,service_id,resource_id,zone_id}                  gauge    flows being forwarded now
//	flows_total{endpoint_id,service_id,resource_id,zone_id}                   counter  flows accepted and forwarded
//	flows_refused_total{endpoint_id,service_id,zone_id,reason}                counter  connections reset; reason is one of
//	                                                                                   sg_denied, not_connected, no_resource,
//	                                                                                   no_healthy_backend, dial_failed, limit,
//	                                                                                   no_descriptors (eplink out of file descriptors)
//	flow_bytes_total{endpoint_id,service_id,resource_id,zone_id,direction}    counter  bytes forwarded; direction is
//	                                                                                   client_to_backend or backend_to_client
//	shaper_wait_seconds_total{endpoint_id,service_id,direction}               counter  time flows waited for bandwidth tokens
//	backend_up{resource_id,backend}                                           gauge    1 if the backend passes TCP health checks
//	zone_state{endpoint_id,service_id,zone_id,resource_id,replaced_resource_id,state} gauge 1 for the zone's current state
//	                                                                                   (Connected, Migrating, Migrated, …)
//	listeners{endpoint_id,zone_id}                                            gauge    ENI listeners open
//	listener_bind_errors_total{endpoint_id,zone_id}                           counter  failures to bind an ENI address:port
//	clb_zone{resource_id,zone_id,role}                                        gauge    1 for the zone carrying a CLB; role is
//	                                                                                   primary, backup (switched over) or
//	                                                                                   unavailable (zone_id "")
//	splice_fallbacks_total{endpoint_id,service_id,direction}                  counter  flow directions copied through user space
//	                                                                                   for want of a splice pipe (out of descriptors)
//
// Byte counters advance per forwarded chunk (at most 1 MiB) and when a flow
// ends, so a long idle-then-busy flow is visible while it runs.
package metrics
