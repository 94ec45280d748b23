package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	namespace = "eplink"
	dataplane = "dataplane"
)

// Refusal reasons, the values of flows_refused_total's reason label.
const (
	ReasonSGDenied         = "sg_denied"
	ReasonNotConnected     = "not_connected"
	ReasonNoResource       = "no_resource"
	ReasonNoHealthyBackend = "no_healthy_backend"
	ReasonDialFailed       = "dial_failed"
	ReasonLimit            = "limit"
	// ReasonNoDescriptors: eplink itself ran out of file descriptors
	// (RLIMIT_NOFILE) for the backend socket; the backends are not at fault.
	ReasonNoDescriptors = "no_descriptors"
)

// Directions, the values of the direction label.
const (
	ClientToBackend = "client_to_backend"
	BackendToClient = "backend_to_client"
)

// Metrics holds every eplink metric. The data plane bumps the counter vectors
// directly; scrape-time state comes from the func set with ObserveDataplane.
type Metrics struct {
	// FlowsTotal counts flows accepted and forwarded.
	// Labels: endpoint_id, service_id, resource_id, zone_id.
	FlowsTotal *prometheus.CounterVec
	// FlowsRefused counts connections reset before forwarding.
	// Labels: endpoint_id, service_id, zone_id, reason.
	FlowsRefused *prometheus.CounterVec
	// FlowBytes counts forwarded bytes.
	// Labels: endpoint_id, service_id, resource_id, zone_id, direction.
	FlowBytes *prometheus.CounterVec
	// ShaperWait counts seconds flows waited for bandwidth tokens.
	// Labels: endpoint_id, service_id, direction.
	ShaperWait *prometheus.CounterVec
	// BindErrors counts failures to bind an ENI address:port.
	// Labels: endpoint_id, zone_id.
	BindErrors *prometheus.CounterVec
	// SpliceFallbacks counts flow directions that could not get a splice
	// pipe (out of descriptors) and copy through user space instead.
	// Labels: endpoint_id, service_id, direction.
	SpliceFallbacks *prometheus.CounterVec

	state atomic.Pointer[func() DataplaneState]
}

// DataplaneState is what the data plane reports at scrape time. Rows with the
// same labels are summed, so the reporter need not aggregate.
type DataplaneState struct {
	Flows     []FlowGauge
	Backends  []BackendGauge
	Zones     []ZoneGauge
	Listeners []ListenerGauge
	CLBs      []CLBGauge
}

// Roles of the zone a CLB runs in, the values of clb_zone's role label.
const (
	CLBZonePrimary = "primary"
	CLBZoneBackup  = "backup" // the primary zone failed: switched over
	CLBUnavailable = "unavailable"
)

// CLBGauge is the zone a CLB runs in ("" when unavailable).
type CLBGauge struct {
	ResourceID, ZoneID, Role string
}

// FlowGauge is the number of active flows of one zone and resource.
type FlowGauge struct {
	EndpointID, ServiceID, ResourceID, ZoneID string
	Active                                    int
}

// BackendGauge is the health of one backend of a CLB.
type BackendGauge struct {
	ResourceID, Backend string
	Up                  bool
}

// ZoneGauge is the state of one endpoint zone.
type ZoneGauge struct {
	EndpointID, ServiceID, ZoneID, ResourceID, ReplacedResourceID, State string
}

// ListenerGauge is the number of open listeners of one endpoint zone.
type ListenerGauge struct {
	EndpointID, ZoneID string
	Open               int
}

// New creates the metrics and registers them on reg.
func New(reg prometheus.Registerer) *Metrics {
	flowLabels := []string{"endpoint_id", "service_id", "resource_id", "zone_id"}
	m := &Metrics{
		FlowsTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: dataplane, Name: "flows_total",
			Help: "Flows accepted on an endpoint ENI and forwarded to a backend.",
		}, flowLabels),
		FlowsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: dataplane, Name: "flows_refused_total",
			Help: "Connections to an endpoint ENI that were reset before forwarding, by reason.",
		}, []string{"endpoint_id", "service_id", "zone_id", "reason"}),
		FlowBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: dataplane, Name: "flow_bytes_total",
			Help: "Bytes forwarded between clients and backends, by direction.",
		}, append(flowLabels, "direction")),
		ShaperWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: dataplane, Name: "shaper_wait_seconds_total",
			Help: "Seconds flows waited for the endpoint connection's bandwidth tokens.",
		}, []string{"endpoint_id", "service_id", "direction"}),
		BindErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: dataplane, Name: "listener_bind_errors_total",
			Help: "Failures to bind a listener on an ENI address and port.",
		}, []string{"endpoint_id", "zone_id"}),
		SpliceFallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: dataplane, Name: "splice_fallbacks_total",
			Help: "Flow directions that got no splice pipe (out of file descriptors) and copied through user space instead.",
		}, []string{"endpoint_id", "service_id", "direction"}),
	}
	reg.MustRegister(m.FlowsTotal, m.FlowsRefused, m.FlowBytes, m.ShaperWait, m.BindErrors,
		m.SpliceFallbacks, stateCollector{m})
	return m
}

// ObserveDataplane sets the func the collector calls at every scrape.
// It must be safe to call concurrently with the data plane's work.
func (m *Metrics) ObserveDataplane(f func() DataplaneState) {
	m.state.Store(&f)
}

var (
	flowsActiveDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, dataplane, "flows_active"),
		"Flows being forwarded now.",
		[]string{"endpoint_id", "service_id", "resource_id", "zone_id"}, nil)
	backendUpDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, dataplane, "backend_up"),
		"Whether a CLB backend passes TCP health checks (1) or not (0).",
		[]string{"resource_id", "backend"}, nil)
	zoneStateDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, dataplane, "zone_state"),
		"The current state of an endpoint zone (always 1; the state is a label).",
		[]string{"endpoint_id", "service_id", "zone_id", "resource_id", "replaced_resource_id", "state"}, nil)
	clbZoneDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, dataplane, "clb_zone"),
		"The zone carrying a CLB's traffic (always 1): its primary, its backup after a switch-over, or none.",
		[]string{"resource_id", "zone_id", "role"}, nil)
	listenersDesc = prometheus.NewDesc(
		prometheus.BuildFQName(namespace, dataplane, "listeners"),
		"Listeners open on an endpoint zone's ENI addresses.",
		[]string{"endpoint_id", "zone_id"}, nil)
)

// stateCollector emits the data plane's scrape-time state as const metrics,
// so nothing that ended lingers as a stale series.
type stateCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- flowsActiveDesc
	ch <- backendUpDesc
	ch <- zoneStateDesc
	ch <- listenersDesc
	ch <- clbZoneDesc
}

// Collect implements prometheus.Collector.
func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.m.state.Load()
	if f == nil {
		return
	}
	s := (*f)()
	// Rows with equal labels are summed: a registry refuses duplicate series.
	emit := func(desc *prometheus.Desc, n int, rows map[[6]string]float64) {
		for k, v := range rows {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, k[:n]...)
		}
	}
	flows := map[[6]string]float64{}
	for _, r := range s.Flows {
		flows[[6]string{r.EndpointID, r.ServiceID, r.ResourceID, r.ZoneID}] += float64(r.Active)
	}
	emit(flowsActiveDesc, 4, flows)
	backends := map[[6]string]float64{}
	for _, r := range s.Backends {
		k := [6]string{r.ResourceID, r.Backend}
		if r.Up {
			backends[k] = 1
		} else if _, ok := backends[k]; !ok {
			backends[k] = 0
		}
	}
	emit(backendUpDesc, 2, backends)
	zones := map[[6]string]float64{}
	for _, r := range s.Zones {
		zones[[6]string{r.EndpointID, r.ServiceID, r.ZoneID, r.ResourceID, r.ReplacedResourceID, r.State}] = 1
	}
	emit(zoneStateDesc, 6, zones)
	listeners := map[[6]string]float64{}
	for _, r := range s.Listeners {
		listeners[[6]string{r.EndpointID, r.ZoneID}] += float64(r.Open)
	}
	emit(listenersDesc, 2, listeners)
	clbs := map[[6]string]float64{}
	for _, r := range s.CLBs {
		clbs[[6]string{r.ResourceID, r.ZoneID, r.Role}] = 1
	}
	emit(clbZoneDesc, 3, clbs)
}
