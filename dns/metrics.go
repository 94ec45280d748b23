package dns

import (
	"strconv"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus series; nil fields mean no registry.
type metrics struct {
	requests *prometheus.CounterVec
	duration prometheus.Histogram
	// addrCounters caches the requests series of A and AAAA queries by
	// rcode, created on first use (a series appears once it counts): the
	// UDP fast path then skips hashing the labels per query.
	addrCounters [2][16]atomic.Pointer[prometheus.Counter]
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return &metrics{}
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eplink_dns_requests_total",
			Help: "DNS queries answered, by query type and response code.",
		}, []string{"type", "rcode"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "eplink_dns_request_duration_seconds",
			Help: "Time from receiving a DNS query to writing its answer.",
			// 25µs (an indexed answer) to ~6s (a forward that times out).
			Buckets: prometheus.ExponentialBuckets(25e-6, 3, 13),
		}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

func (m *metrics) observe(qtype string, rcode int, d time.Duration) {
	if m.requests == nil {
		return
	}
	m.requests.WithLabelValues(qtype, rcodeLabel(rcode)).Inc()
	m.duration.Observe(d.Seconds())
}

// typeLabel keeps the type label's cardinality bounded: a client choosing
// query types must not be able to create series at will.
// observeAddr is observe for an A (v6=false) or AAAA query.
func (m *metrics) observeAddr(v6 bool, rcode int, d time.Duration) {
	if m.requests == nil {
		return
	}
	if rcode < 0 || rcode >= len(m.addrCounters[0]) {
		m.observe(typeLabel(addrType(v6)), rcode, d)
		return
	}
	slot := &m.addrCounters[b2u16(v6)][rcode]
	c := slot.Load()
	if c == nil {
		vc := m.requests.WithLabelValues(typeLabel(addrType(v6)), rcodeLabel(rcode))
		c = &vc
		slot.Store(c)
	}
	(*c).Inc()
	m.duration.Observe(d.Seconds())
}

func addrType(v6 bool) uint16 {
	if v6 {
		return mdns.TypeAAAA
	}
	return mdns.TypeA
}

func typeLabel(t uint16) string {
	switch t {
	case mdns.TypeA, mdns.TypeAAAA, mdns.TypeANY, mdns.TypeSOA, mdns.TypeNS,
		mdns.TypeCNAME, mdns.TypePTR, mdns.TypeMX, mdns.TypeTXT, mdns.TypeSRV,
		mdns.TypeHTTPS, mdns.TypeSVCB, mdns.TypeDS, mdns.TypeDNSKEY:
		return mdns.TypeToString[t]
	}
	return "other"
}

func rcodeLabel(rc int) string {
	if s, ok := mdns.RcodeToString[rc]; ok {
		return s
	}
	return strconv.Itoa(rc)
}
