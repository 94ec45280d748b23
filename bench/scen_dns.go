package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
)

// dnsZone is the zone eplink serves by default (serve --dns-zone).
const dnsZone = "privatelink.aliyuncs.com"

// runDNS sends the endpoint's domain and zone domain to eplink's DNS server
// and to NSD serving the same records from a zone file.
func runDNS(ctx context.Context, h *harness, r *ScenarioResult) error {
	names := map[string]string{}
	e, eerr := h.eplink(ctx)
	if eerr == nil {
		var err error
		if names, err = e.domains(); err != nil {
			return err
		}
	} else {
		r.note("eplink left out: %v", eerr)
		names[fmt.Sprintf("%s.%s.%s.%s", benchEndpoint, benchService, benchRegion, dnsZone)] = benchENI
	}
	var q strings.Builder
	for n := range names {
		fmt.Fprintf(&q, "%s A\n", n)
	}
	qfile := filepath.Join(h.dir, "queries.txt")
	if err := os.WriteFile(qfile, []byte(q.String()), 0o644); err != nil {
		return err
	}
	nsd, nsdPort, err := h.startNSD(ctx, dnsZone, names)
	if err != nil {
		return err
	}
	defer nsd.stop()
	type server struct {
		name string
		port int
	}
	servers := []server{{"nsd", nsdPort}}
	if eerr == nil {
		servers = append(servers, server{targetEplink, e.dnsPort})
	}
	defer r.finish("nsd")
	mQPS := metric{name: "queries/s", unit: "q/s", better: "higher", chart: true}
	mLat := metric{name: "average latency", unit: "ms", better: "lower"}
	mLost := metric{name: "queries lost", unit: ""}
	reps := h.opts.repeats()
	for rep := 0; rep < reps; rep++ {
		for i := range servers {
			s := servers[(i+rep)%len(servers)]
			h.progress("dnsperf %s, repeat %d/%d", s.name, rep+1, reps)
			res, err := h.runDNSPerf(ctx, "127.0.0.1", s.port, qfile, h.opts.duration())
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			r.add(s.name, mQPS, res.QPS)
			r.add(s.name, mLat, res.AvgLatencySec*1000)
			r.add(s.name, mLost, float64(res.Lost))
			if rep == 0 && !strings.HasPrefix(res.ResponseCodes, "NOERROR") {
				r.note("%s answered %q, not only NOERROR", s.name, res.ResponseCodes)
			}
		}
	}
	r.note("Names queried (A): %s. dnsperf -c4 -T1, 100 queries in flight per client.", strings.Join(sortedKeys(names), ", "))
	return nil
}

// domains returns the endpoint domain and zone domain with the ENI address
// they should resolve to.
func (e *eplinkInst) domains() (map[string]string, error) {
	z, err := e.zone()
	if err != nil {
		return nil, err
	}
	req := privatelink.CreateListVpcEndpointsRequest()
	req.Scheme = "http"
	req.EndpointId = benchEndpoint
	resp, err := e.consumer.ListVpcEndpoints(req)
	if err != nil {
		return nil, fmt.Errorf("ListVpcEndpoints: %w", err)
	}
	out := map[string]string{}
	for _, ep := range resp.Endpoints {
		if ep.EndpointDomain != "" {
			out[strings.TrimSuffix(ep.EndpointDomain, ".")] = z.EniIp
		}
	}
	if z.ZoneDomain != "" {
		out[strings.TrimSuffix(z.ZoneDomain, ".")] = z.EniIp
	}
	for n := range out {
		if !strings.HasSuffix(n, "."+dnsZone) {
			return nil, fmt.Errorf("domain %q is outside %s", n, dnsZone)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the API lists no endpoint or zone domain")
	}
	return out, nil
}
