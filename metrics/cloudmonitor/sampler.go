package cloudmonitor

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// ByteCount is the data plane's cumulative byte counter of one endpoint
// zone's flows to one resource, in one direction.
type ByteCount struct {
	EndpointID, ServiceID, ResourceID, ZoneID string
	In                                        bool // client→backend
	Bytes                                     float64
}

// RefusedCount is the data plane's cumulative count of connections refused
// on one endpoint zone.
type RefusedCount struct {
	EndpointID, ServiceID, ZoneID string
	Count                         float64
}

// Counters is one reading of the data plane's counters.
type Counters struct {
	Bytes   []ByteCount
	Refused []RefusedCount
}

// CountersFrom reads the counters the data plane bumps in m: the series
// are computed from the very numbers /metrics shows.
func CountersFrom(m *metrics.Metrics) func() Counters {
	return func() Counters {
		var c Counters
		collect(m.FlowBytes, func(l map[string]string, v float64) {
			c.Bytes = append(c.Bytes, ByteCount{
				EndpointID: l["endpoint_id"], ServiceID: l["service_id"], ResourceID: l["resource_id"],
				ZoneID: l["zone_id"], In: l["direction"] == metrics.ClientToBackend, Bytes: v,
			})
		})
		collect(m.FlowsRefused, func(l map[string]string, v float64) {
			c.Refused = append(c.Refused, RefusedCount{
				EndpointID: l["endpoint_id"], ServiceID: l["service_id"], ZoneID: l["zone_id"], Count: v,
			})
		})
		return c
	}
}

func collect(c prometheus.Collector, f func(labels map[string]string, v float64)) {
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	for m := range ch {
		var d dto.Metric
		if m.Write(&d) != nil || d.Counter == nil {
			continue
		}
		l := make(map[string]string, len(d.Label))
		for _, p := range d.Label {
			l[p.GetName()] = p.GetValue()
		}
		f(l, d.Counter.GetValue())
	}
}

// mss is the segment size packet rates are estimated with: the proxy sees
// byte streams, not packets, so a second's packets are its bytes over the
// MSS of a 1500-byte MTU, rounded up (a lower bound for small writes).
const mss = 1460

func packetsOf(bytes float64) float64 { return math.Ceil(bytes / mss) }

// sampler turns successive counter readings into one second of points.
type sampler struct {
	prevBytes   map[ByteCount]float64 // key has Bytes zeroed
	prevRefused map[RefusedCount]float64
	primed      bool
}

// traffic is one second's deltas of one object.
type traffic struct{ inB, outB, inP, outP, refused float64 }

func (s *sampler) sample(c Counters, snap *snapshot.Snapshot) []point {
	cur := make(map[ByteCount]float64, len(c.Bytes))
	for _, b := range c.Bytes {
		v := b.Bytes
		b.Bytes = 0
		cur[b] += v
	}
	curR := make(map[RefusedCount]float64, len(c.Refused))
	for _, r := range c.Refused {
		v := r.Count
		r.Count = 0
		curR[r] += v
	}
	prevB, prevR, primed := s.prevBytes, s.prevRefused, s.primed
	s.prevBytes, s.prevRefused, s.primed = cur, curR, true

	objs := map[string]*traffic{} // object key → traffic
	get := func(k string) *traffic {
		t := objs[k]
		if t == nil {
			t = &traffic{}
			objs[k] = t
		}
		return t
	}
	for k, v := range cur {
		d := v - prevB[k]
		if !primed || d < 0 {
			d = 0 // first reading, or a counter reset: no rate
		}
		eni := eniOf(snap, k.EndpointID, k.ZoneID, k.ResourceID)
		for _, ok := range []string{
			objEndpoint + "|" + k.EndpointID,
			objEndpointZone + "|" + k.EndpointID + "|" + k.ZoneID,
			objEndpointENI + "|" + k.EndpointID + "|" + k.ZoneID + "|" + eni,
			objService + "|" + k.ServiceID,
			objServiceResource + "|" + k.ServiceID + "|" + k.ResourceID,
			objServiceConnected + "|" + k.ServiceID + "|" + k.EndpointID,
		} {
			t := get(ok)
			if k.In {
				t.inB += d * 8
				t.inP += packetsOf(d)
			} else {
				t.outB += d * 8
				t.outP += packetsOf(d)
			}
		}
	}
	for k, v := range curR {
		d := v - prevR[k]
		if !primed || d < 0 {
			d = 0
		}
		get(objEndpoint + "|" + k.EndpointID).refused += d
		get(objEndpointZone + "|" + k.EndpointID + "|" + k.ZoneID).refused += d
		get(objService + "|" + k.ServiceID).refused += d
	}

	// Every object the snapshot has gets a point each second (0 when idle),
	// so a rule sees an idle endpoint as 0 b/s, not as missing data.
	var pts []point
	emit := func(object, key string, dims []kv) {
		t := objs[object+"|"+key]
		if t == nil {
			t = &traffic{}
		}
		for i := range Catalog {
			m := &Catalog[i]
			if m.object != object {
				continue
			}
			var v float64
			switch m.q {
			case inBits:
				v = t.inB
			case outBits:
				v = t.outB
			case inPkts:
				v = t.inP
			case outPkts:
				v = t.outP
			case refusals:
				v = t.refused
			}
			pts = append(pts, point{meta: m, dims: dims, v: v})
		}
	}
	if snap == nil {
		return nil
	}
	for _, e := range snap.Endpoints {
		emit(objEndpoint, e.ID, []kv{{"userId", e.OwnerUID}, {"instanceId", e.ID}})
		for _, z := range e.Zones {
			emit(objEndpointZone, e.ID+"|"+z.ZoneID, []kv{{"userId", e.OwnerUID}, {"instanceId", e.ID}, {"zoneId", z.ZoneID}})
			if z.ENI.ID != "" {
				emit(objEndpointENI, e.ID+"|"+z.ZoneID+"|"+z.ENI.ID, []kv{{"userId", e.OwnerUID}, {"instanceId", e.ID}, {"zoneId", z.ZoneID}, {"eniId", z.ENI.ID}})
			}
			if z.Replaced != nil && z.Replaced.ENI.ID != "" {
				emit(objEndpointENI, e.ID+"|"+z.ZoneID+"|"+z.Replaced.ENI.ID, []kv{{"userId", e.OwnerUID}, {"instanceId", e.ID}, {"zoneId", z.ZoneID}, {"eniId", z.Replaced.ENI.ID}})
			}
		}
		if svc := snap.Services[e.ServiceID]; svc != nil && e.ConnectionStatus == snapshot.ConnConnected {
			emit(objServiceConnected, svc.ID+"|"+e.ID, []kv{{"userId", svc.OwnerUID}, {"instanceId", svc.ID}, {"endpointId", e.ID}})
		}
	}
	for _, svc := range snap.Services {
		emit(objService, svc.ID, []kv{{"userId", svc.OwnerUID}, {"instanceId", svc.ID}})
	}
	// Service resources: every resource an endpoint zone is (or was, until
	// cleanup) bound to, in the resource's zone.
	seen := map[string]bool{}
	for _, e := range snap.Endpoints {
		svc := snap.Services[e.ServiceID]
		if svc == nil {
			continue
		}
		for _, z := range e.Zones {
			for _, res := range []string{z.ResourceID, replacedResource(z)} {
				if res == "" || seen[svc.ID+"|"+res] {
					continue
				}
				seen[svc.ID+"|"+res] = true
				zone := z.ZoneID
				if lb := snap.LoadBalancers[res]; lb != nil {
					zone = lb.Zone
				}
				emit(objServiceResource, svc.ID+"|"+res, []kv{{"userId", svc.OwnerUID}, {"instanceId", svc.ID}, {"zoneId", zone}, {"resourceId", res}})
			}
		}
	}
	return pts
}

func replacedResource(z *snapshot.EndpointZone) string {
	if z.Replaced == nil {
		return ""
	}
	return z.Replaced.ResourceID
}

// eniOf is the ENI that carries the zone's flows to res: the current one,
// or the replaced one that keeps carrying old flows after a Graceful
// migration.
func eniOf(snap *snapshot.Snapshot, ep, zone, res string) string {
	if snap == nil {
		return ""
	}
	e := snap.Endpoints[ep]
	if e == nil {
		return ""
	}
	for _, z := range e.Zones {
		if z.ZoneID != zone {
			continue
		}
		if z.Replaced != nil && z.Replaced.ResourceID == res {
			return z.Replaced.ENI.ID
		}
		return z.ENI.ID
	}
	return ""
}
