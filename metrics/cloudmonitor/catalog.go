package cloudmonitor

import "strings"

// Namespace is the CloudMonitor namespace of PrivateLink's metrics.
const Namespace = "acs_privatelink"

// Object kinds: what a series is about, and so which dimensions it has.
const (
	objEndpoint         = "endpoint"         // userId, instanceId
	objEndpointZone     = "endpoint_zone"    // userId, instanceId, zoneId
	objEndpointENI      = "endpoint_eni"     // userId, instanceId, zoneId, eniId
	objService          = "service"          // userId, instanceId
	objServiceResource  = "service_resource" // userId, instanceId, zoneId, resourceId
	objServiceConnected = "service_endpoint" // userId, instanceId, endpointId
)

// quantity is what a metric measures of its object's traffic.
type quantity int

const (
	inBits   quantity = iota // client→backend bits/s
	outBits                  // backend→client bits/s
	inPkts                   // client→backend packets/s (estimated, see packetsOf)
	outPkts                  // backend→client packets/s
	refusals                 // connections refused or dropped per second
)

// MetricMeta describes one metric as DescribeMetricMetaList lists it.
type MetricMeta struct {
	Name        string
	Description string
	Unit        string
	Dimensions  []string // in the order the cloud lists them
	Statistics  []string
	object      string
	q           quantity
}

var (
	rateStats  = []string{"Average", "Maximum", "Minimum"}
	countStats = []string{"Sum", "Average", "Maximum", "Minimum"}
)

// Catalog is every metric of the namespace. The endpoint ones carry the
// cloud's names (VpcEndpointInBps, …); the others follow the same pattern.
var Catalog = buildCatalog()

func buildCatalog() []MetricMeta {
	type obj struct {
		prefix, object, what string
		dims                 []string
	}
	objs := []obj{
		{"VpcEndpoint", objEndpoint, "endpoint", []string{"userId", "instanceId"}},
		{"VpcEndpointZone", objEndpointZone, "endpoint zone", []string{"userId", "instanceId", "zoneId"}},
		{"VpcEndpointEni", objEndpointENI, "endpoint ENI", []string{"userId", "instanceId", "zoneId", "eniId"}},
		{"VpcEndpointService", objService, "endpoint service", []string{"userId", "instanceId"}},
		{"VpcEndpointServiceResource", objServiceResource, "endpoint service resource", []string{"userId", "instanceId", "zoneId", "resourceId"}},
		{"VpcEndpointServiceEndpoint", objServiceConnected, "endpoint connected to the endpoint service", []string{"userId", "instanceId", "endpointId"}},
	}
	type qty struct {
		suffix, what, unit string
		q                  quantity
		stats              []string
	}
	qtys := []qty{
		{"InBps", "inbound bandwidth (client to service)", "bits/s", inBits, rateStats},
		{"OutBps", "outbound bandwidth (service to client)", "bits/s", outBits, rateStats},
		{"InPps", "inbound packet rate (estimated: bytes / 1460 per second)", "packets/s", inPkts, rateStats},
		{"OutPps", "outbound packet rate (estimated: bytes / 1460 per second)", "packets/s", outPkts, rateStats},
	}
	var out []MetricMeta
	for _, o := range objs {
		for _, q := range qtys {
			out = append(out, MetricMeta{
				Name: o.prefix + q.suffix, Description: "The " + o.what + "'s " + q.what + ".",
				Unit: q.unit, Dimensions: o.dims, Statistics: q.stats, object: o.object, q: q.q,
			})
		}
		switch o.object {
		case objEndpoint, objEndpointZone, objService:
			out = append(out, MetricMeta{
				Name:        o.prefix + "DropConnections",
				Description: "Connections to the " + o.what + " that eplink refused or dropped (security group, not connected, no resource, no healthy backend, dial failure, limit), per second.",
				Unit:        "count/s", Dimensions: o.dims, Statistics: countStats, object: o.object, q: refusals,
			})
		}
	}
	return out
}

// metaByName indexes Catalog.
var metaByName = func() map[string]*MetricMeta {
	m := make(map[string]*MetricMeta, len(Catalog))
	for i := range Catalog {
		m[Catalog[i].Name] = &Catalog[i]
	}
	return m
}()

// LookupMetric returns the metric's description, ok=false for an unknown name.
func LookupMetric(name string) (*MetricMeta, bool) {
	m, ok := metaByName[name]
	return m, ok
}

func (m *MetricMeta) allows(stat string) bool {
	for _, s := range m.Statistics {
		if s == stat {
			return true
		}
	}
	return false
}

func (m *MetricMeta) statsList() string { return strings.Join(m.Statistics, ",") }
