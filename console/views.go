package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Metrics the console samples (metrics/doc.go names them).
const (
	mFlowBytes   = "eplink_dataplane_flow_bytes_total"
	mFlowsActive = "eplink_dataplane_flows_active"
	mFlowsTotal  = "eplink_dataplane_flows_total"
	mRefused     = "eplink_dataplane_flows_refused_total"
	mBackendUp   = "eplink_dataplane_backend_up"
	mZoneState   = "eplink_dataplane_zone_state"
)

var sampled = map[string]bool{mFlowBytes: true, mFlowsActive: true, mFlowsTotal: true, mRefused: true, mBackendUp: true}

// counter says whether a sampled metric is a counter (shown as a rate).
func counter(name string) bool { return strings.HasSuffix(name, "_total") }

// series is one sampled time series.
type series struct {
	name   string
	labels map[string]string
}

// history keeps the last n samples of the sampled metrics.
type history struct {
	mu      sync.Mutex
	n       int
	times   []time.Time
	values  []map[string]float64 // per sample: series key → value
	series  map[string]series
	lastGC  time.Time
	current map[string]float64
}

func newHistory(n int) *history {
	if n < 2 {
		n = 2
	}
	return &history{n: n, series: map[string]series{}}
}

func seriesKey(name string, labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(name)
	for _, k := range keys {
		b.WriteString("|" + k + "=" + labels[k])
	}
	return b.String()
}

// record adds one sample of the gathered families.
func (h *history) record(at time.Time, mfs []*dto.MetricFamily) {
	vals := map[string]float64{}
	newSeries := map[string]series{}
	for _, mf := range mfs {
		if !sampled[mf.GetName()] {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			default:
				continue
			}
			k := seriesKey(mf.GetName(), labels)
			vals[k] = v
			newSeries[k] = series{name: mf.GetName(), labels: labels}
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.times = append(h.times, at)
	h.values = append(h.values, vals)
	if len(h.times) > h.n {
		h.times = h.times[len(h.times)-h.n:]
		h.values = h.values[len(h.values)-h.n:]
	}
	for k, s := range newSeries {
		h.series[k] = s
	}
	// Forget series no kept sample has, now and then.
	if at.Sub(h.lastGC) > time.Minute {
		h.lastGC = at
		for k := range h.series {
			seen := false
			for _, v := range h.values {
				if _, ok := v[k]; ok {
					seen = true
					break
				}
			}
			if !seen {
				delete(h.series, k)
			}
		}
	}
}

// Run samples the metrics every Options.Sample until ctx ends. Without a
// Gatherer it returns at once.
func (c *Console) Run(ctx context.Context) {
	if c.opts.Gatherer == nil {
		return
	}
	c.sample()
	t := time.NewTicker(c.opts.Sample)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.sample()
		}
	}
}

func (c *Console) sample() {
	mfs, err := c.opts.Gatherer.Gather()
	if err != nil {
		c.log.Warn("console: gathering metrics", "err", err)
	}
	c.hist.record(c.now(), mfs)
}

// scope is what one account sees through the API: its endpoints and the
// endpoints connected to its services, its services, and the CLBs of both.
type scope struct {
	endpoints map[string]bool
	services  map[string]bool
	resources map[string]bool
	// owned are the CLBs attached to the account's own services: only for
	// them are backends shown (a consumer never sees a provider's ECS).
	owned map[string]bool
}

func (sc *scope) sees(name string, l map[string]string) bool {
	if ep := l["endpoint_id"]; ep != "" {
		return sc.endpoints[ep]
	}
	if svc := l["service_id"]; svc != "" {
		return sc.services[svc]
	}
	if res := l["resource_id"]; res != "" {
		return sc.owned[res]
	}
	return false
}

// Topology is the lab as one account sees it.
type Topology struct {
	Time      string         `json:"Time"`
	Endpoints []topoEndpoint `json:"Endpoints"`
	Resources []topoResource `json:"Resources"`
	Errors    []string       `json:"Errors,omitempty"`
	scope     *scope
	caps      map[string]int
}

type topoEndpoint struct {
	EndpointID       string     `json:"EndpointId"`
	EndpointName     string     `json:"EndpointName"`
	VpcID            string     `json:"VpcId"`
	ServiceID        string     `json:"ServiceId"`
	EndpointStatus   string     `json:"EndpointStatus,omitempty"`
	ConnectionStatus string     `json:"ConnectionStatus"`
	Bandwidth        int        `json:"Bandwidth"`
	Role             string     `json:"Role"` // consumer (own endpoint) or provider (connection to own service)
	Zones            []topoZone `json:"Zones"`
}

type topoZone struct {
	ZoneID             string  `json:"ZoneId"`
	ZoneStatus         string  `json:"ZoneStatus"`
	EniID              string  `json:"EniId"`
	EniIP              string  `json:"EniIp,omitempty"`
	ResourceID         string  `json:"ResourceId"`
	ReplacedEniID      string  `json:"ReplacedEniId,omitempty"`
	ReplacedResourceID string  `json:"ReplacedResourceId,omitempty"`
	Flows              float64 `json:"Flows"`
	InMbps             float64 `json:"InMbps"`
	OutMbps            float64 `json:"OutMbps"`
	ReplacedFlows      float64 `json:"ReplacedFlows"`
	ReplacedInMbps     float64 `json:"ReplacedInMbps"`
	ReplacedOutMbps    float64 `json:"ReplacedOutMbps"`
}

type topoResource struct {
	ResourceID string        `json:"ResourceId"`
	ZoneID     string        `json:"ZoneId,omitempty"`
	Owned      bool          `json:"Owned"`
	Backends   []topoBackend `json:"Backends,omitempty"`
}

type topoBackend struct {
	Name string `json:"Name"`
	Up   bool   `json:"Up"`
}

// apiZone is a Zone of ListVpcEndpointZones and ListVpcEndpointConnections.
type apiZone struct {
	ZoneID             string `json:"ZoneId"`
	ZoneStatus         string `json:"ZoneStatus"`
	EniID              string `json:"EniId"`
	EniIP              string `json:"EniIp"`
	ResourceID         string `json:"ResourceId"`
	ReplacedEniID      string `json:"ReplacedEniId"`
	ReplacedResourceID string `json:"ReplacedResourceId"`
}

// listAll pages through a List action, calling add with each page's body.
func (c *Console) listAll(ctx context.Context, s *session, action string, params url.Values, add func(page []byte) error) error {
	next := ""
	for i := 0; i < 100; i++ {
		p := url.Values{}
		for k, v := range params {
			p[k] = v
		}
		p.Set("MaxResults", "50")
		if next != "" {
			p.Set("NextToken", next)
		}
		status, body := c.call(ctx, s, "", action, p)
		if status != http.StatusOK {
			return apiErr(status, body)
		}
		if err := add(body); err != nil {
			return err
		}
		var tok struct{ NextToken string }
		json.Unmarshal(body, &tok)
		if tok.NextToken == "" {
			return nil
		}
		next = tok.NextToken
	}
	return nil
}

// topology builds the account's view through the API, then adds the data
// plane's figures.
func (c *Console) topology(ctx context.Context, s *session) *Topology {
	t := &Topology{Time: c.now().UTC().Format(time.RFC3339), Endpoints: []topoEndpoint{}, Resources: []topoResource{},
		scope: &scope{endpoints: map[string]bool{}, services: map[string]bool{}, resources: map[string]bool{}, owned: map[string]bool{}},
		caps:  map[string]int{}}
	fail := func(what string, err error) {
		if err != nil {
			t.Errors = append(t.Errors, what+": "+err.Error())
		}
	}
	byID := map[string]int{}
	// Consumer side: the account's endpoints and their zones.
	// ListVpcEndpoints' items carry the fields of topoEndpoint by the
	// same names.
	var eps []topoEndpoint
	fail("ListVpcEndpoints", c.listAll(ctx, s, "ListVpcEndpoints", nil, func(b []byte) error {
		var page struct{ Endpoints []topoEndpoint }
		err := json.Unmarshal(b, &page)
		eps = append(eps, page.Endpoints...)
		return err
	}))
	for _, te := range eps {
		te.Role = "consumer"
		var zs []apiZone
		fail("ListVpcEndpointZones "+te.EndpointID, c.listAll(ctx, s, "ListVpcEndpointZones", url.Values{"EndpointId": {te.EndpointID}}, func(b []byte) error {
			var page struct{ Zones []apiZone }
			err := json.Unmarshal(b, &page)
			zs = append(zs, page.Zones...)
			return err
		}))
		te.Zones = topoZones(zs)
		byID[te.EndpointID] = len(t.Endpoints)
		t.Endpoints = append(t.Endpoints, te)
	}
	// Provider side: the account's services, their CLBs and connections.
	var svcs []string
	fail("ListVpcEndpointServices", c.listAll(ctx, s, "ListVpcEndpointServices", nil, func(b []byte) error {
		var page struct {
			Services []struct {
				ServiceID string `json:"ServiceId"`
			}
		}
		err := json.Unmarshal(b, &page)
		for _, x := range page.Services {
			svcs = append(svcs, x.ServiceID)
		}
		return err
	}))
	resZone := map[string]string{}
	for _, svc := range svcs {
		t.scope.services[svc] = true
		fail("ListVpcEndpointServiceResources "+svc, c.listAll(ctx, s, "ListVpcEndpointServiceResources", url.Values{"ServiceId": {svc}}, func(b []byte) error {
			var page struct {
				Resources []struct {
					ResourceID string `json:"ResourceId"`
					ZoneID     string `json:"ZoneId"`
				}
			}
			err := json.Unmarshal(b, &page)
			for _, r := range page.Resources {
				t.scope.owned[r.ResourceID] = true
				resZone[r.ResourceID] = r.ZoneID
			}
			return err
		}))
		fail("ListVpcEndpointConnections "+svc, c.listAll(ctx, s, "ListVpcEndpointConnections", url.Values{"ServiceId": {svc}}, func(b []byte) error {
			var page struct {
				Connections []struct {
					EndpointID       string `json:"EndpointId"`
					EndpointVpcID    string `json:"EndpointVpcId"`
					ConnectionStatus string
					Bandwidth        int
					Zones            []apiZone
				}
			}
			err := json.Unmarshal(b, &page)
			for _, cn := range page.Connections {
				if i, ok := byID[cn.EndpointID]; ok { // own endpoint on own service
					t.Endpoints[i].Role = "both"
					continue
				}
				byID[cn.EndpointID] = len(t.Endpoints)
				t.Endpoints = append(t.Endpoints, topoEndpoint{EndpointID: cn.EndpointID, VpcID: cn.EndpointVpcID, ServiceID: svc,
					ConnectionStatus: cn.ConnectionStatus, Bandwidth: cn.Bandwidth, Role: "provider", Zones: topoZones(cn.Zones)})
			}
			return err
		}))
	}
	for _, e := range t.Endpoints {
		t.scope.endpoints[e.EndpointID] = true
		t.caps[e.EndpointID] = e.Bandwidth
		for _, z := range e.Zones {
			for _, r := range []string{z.ResourceID, z.ReplacedResourceID} {
				if r != "" {
					t.scope.resources[r] = true
				}
			}
		}
	}
	for r := range t.scope.owned {
		t.scope.resources[r] = true
	}
	c.addFigures(t, resZone)
	return t
}

func topoZones(zs []apiZone) []topoZone {
	out := make([]topoZone, 0, len(zs))
	for _, z := range zs {
		out = append(out, topoZone{ZoneID: z.ZoneID, ZoneStatus: z.ZoneStatus, EniID: z.EniID, EniIP: z.EniIP,
			ResourceID: z.ResourceID, ReplacedEniID: z.ReplacedEniID, ReplacedResourceID: z.ReplacedResourceID})
	}
	return out
}

// addFigures puts flows, Mbit/s and backend health on the topology: flows
// and health as the data plane reports them now, throughput from the last
// two samples.
func (c *Console) addFigures(t *Topology, resZone map[string]string) {
	flows := map[[3]string]float64{}
	backends := map[string][]topoBackend{}
	if c.opts.Gatherer != nil {
		mfs, _ := c.opts.Gatherer.Gather()
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				l := map[string]string{}
				for _, lp := range m.GetLabel() {
					l[lp.GetName()] = lp.GetValue()
				}
				switch mf.GetName() {
				case mFlowsActive:
					flows[[3]string{l["endpoint_id"], l["zone_id"], l["resource_id"]}] += m.GetGauge().GetValue()
				case mBackendUp:
					if t.scope.owned[l["resource_id"]] {
						backends[l["resource_id"]] = append(backends[l["resource_id"]], topoBackend{Name: l["backend"], Up: m.GetGauge().GetValue() == 1})
					}
				}
			}
		}
	}
	rates := c.hist.lastRates(mFlowBytes)
	mbps := func(ep, zone, res, dir string) float64 {
		return rates[[4]string{ep, zone, res, dir}] * 8 / 1e6
	}
	for i := range t.Endpoints {
		e := &t.Endpoints[i]
		for j := range e.Zones {
			z := &e.Zones[j]
			z.Flows = flows[[3]string{e.EndpointID, z.ZoneID, z.ResourceID}]
			z.InMbps = mbps(e.EndpointID, z.ZoneID, z.ResourceID, "client_to_backend")
			z.OutMbps = mbps(e.EndpointID, z.ZoneID, z.ResourceID, "backend_to_client")
			if z.ReplacedResourceID != "" {
				z.ReplacedFlows = flows[[3]string{e.EndpointID, z.ZoneID, z.ReplacedResourceID}]
				z.ReplacedInMbps = mbps(e.EndpointID, z.ZoneID, z.ReplacedResourceID, "client_to_backend")
				z.ReplacedOutMbps = mbps(e.EndpointID, z.ZoneID, z.ReplacedResourceID, "backend_to_client")
			}
		}
	}
	ids := make([]string, 0, len(t.scope.resources))
	for r := range t.scope.resources {
		ids = append(ids, r)
	}
	sort.Strings(ids)
	for _, r := range ids {
		bs := backends[r]
		sort.Slice(bs, func(i, j int) bool { return bs[i].Name < bs[j].Name })
		t.Resources = append(t.Resources, topoResource{ResourceID: r, ZoneID: resZone[r], Owned: t.scope.owned[r], Backends: bs})
	}
}

// lastRates is the per-second rate of a counter between the last two
// samples, by (endpoint_id, zone_id, resource_id, direction).
func (h *history) lastRates(name string) map[[4]string]float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[[4]string]float64{}
	n := len(h.times)
	if n < 2 {
		return out
	}
	dt := h.times[n-1].Sub(h.times[n-2]).Seconds()
	if dt <= 0 {
		return out
	}
	for k, v := range h.values[n-1] {
		s, ok := h.series[k]
		if !ok || s.name != name {
			continue
		}
		prev, ok := h.values[n-2][k]
		if !ok || v < prev {
			prev = 0
		}
		l := s.labels
		out[[4]string{l["endpoint_id"], l["zone_id"], l["resource_id"], l["direction"]}] += (v - prev) / dt
	}
	return out
}

func (c *Console) serveTopology(w http.ResponseWriter, r *http.Request, s *session) {
	writeJSON(w, http.StatusOK, c.topology(r.Context(), s))
}

// metricSeries is one chart line of the monitoring page.
type metricSeries struct {
	Metric string            `json:"Metric"`
	Labels map[string]string `json:"Labels"`
	// Values align with Times: per second for counters (the first is
	// null), the value for gauges; null where the series had no sample.
	Values []*float64 `json:"Values"`
}

// serveMetrics answers the last 15 minutes of samples the session's
// account may see, with each endpoint's bandwidth cap.
func (c *Console) serveMetrics(w http.ResponseWriter, r *http.Request, s *session) {
	t := c.topology(r.Context(), s)
	h := c.hist
	h.mu.Lock()
	times := make([]int64, len(h.times))
	for i, at := range h.times {
		times[i] = at.UnixMilli()
	}
	var out []metricSeries
	for k, sr := range h.series {
		if !t.scope.sees(sr.name, sr.labels) {
			continue
		}
		ms := metricSeries{Metric: strings.TrimPrefix(sr.name, "eplink_dataplane_"), Labels: sr.labels, Values: make([]*float64, len(h.times))}
		for i := range h.times {
			v, ok := h.values[i][k]
			if !ok {
				continue
			}
			if counter(sr.name) {
				if i == 0 {
					continue
				}
				prev, ok := h.values[i-1][k]
				if !ok || prev > v {
					prev = 0
				}
				dt := h.times[i].Sub(h.times[i-1]).Seconds()
				if dt <= 0 {
					continue
				}
				v = (v - prev) / dt
			}
			ms.Values[i] = &v
		}
		out = append(out, ms)
	}
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		return seriesKey(out[i].Metric, out[i].Labels) < seriesKey(out[j].Metric, out[j].Labels)
	})
	if out == nil {
		out = []metricSeries{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"IntervalSeconds": c.opts.Sample.Seconds(), "Times": times, "Series": out,
		"Caps": t.caps, "Topology": t, "Sampling": c.opts.Gatherer != nil, "Now": strconv.FormatInt(c.now().UnixMilli(), 10),
	})
}

// Sample takes one metrics sample now (Run does it on its ticker).
func (c *Console) Sample() { c.sample() }
