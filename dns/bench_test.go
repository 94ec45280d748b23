package dns

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
)

// bigWorld has n endpoints with two zones each: labs larger than most, to
// show the index cost per snapshot and that lookups do not grow with it.
func bigWorld(n int) *snapshot.Snapshot {
	s := world()
	for i := range n {
		id := fmt.Sprintf("ep-bench%05d", i)
		s.Endpoints[id] = endpoint(id, "epsrv-aff",
			zoneOf(id, "epsrv-aff", zoneH, fmt.Sprintf("127.12.%d.%d", i/250, i%250+1), "lb-clb1"),
			zoneOf(id, "epsrv-aff", zoneI, fmt.Sprintf("127.13.%d.%d", i/250, i%250+1), "lb-clb2"))
	}
	return s
}

func BenchmarkIndexBuild(b *testing.B) {
	s := bigWorld(2000)
	b.ReportAllocs()
	for b.Loop() {
		buildIndex(s, "", 5, netip.Addr{})
	}
}

func BenchmarkLookup(b *testing.B) {
	ix := buildIndex(bigWorld(10000), "", 5, netip.Addr{})
	healthy := func(string) bool { return true }
	for _, bc := range []struct {
		desc, name, client string
	}{
		{"endpoint", epDomain("ep-bench04242", "epsrv-aff"), "127.0.0.1"},
		{"endpoint-affinity", epDomain("ep-bench04242", "epsrv-aff"), "127.10.1.9"},
		{"zone", zoneDomain("ep-bench04242", zoneH, "epsrv-aff"), "127.0.0.1"},
		{"nxdomain", "nope." + apex, "127.0.0.1"},
	} {
		b.Run(bc.desc, func(b *testing.B) {
			q := query{name: bc.name, qtype: mdns.TypeA, qclass: mdns.ClassINET,
				client: netip.MustParseAddr(bc.client), health: healthy}
			b.ReportAllocs()
			for b.Loop() {
				q.rotate++
				ix.lookup(q)
			}
		})
	}
}

// BenchmarkServeUDP measures queries/s over loopback UDP with the miekg/dns
// client, a few clients in parallel, each on its own socket.
func BenchmarkServeUDP(b *testing.B) {
	pub := new(snapshot.Publisher)
	pub.Publish(bigWorld(1000))
	_, addr := startServer(b, Config{}, pub)
	name := epDomain("ep-bench00042", "epsrv-aff")
	b.ReportAllocs()
	b.SetParallelism(4)
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		c := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
		conn, err := c.Dial(addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(mdns.Msg).SetQuestion(name, mdns.TypeA)
		for pb.Next() {
			r, _, err := c.ExchangeWithConn(m, conn)
			if err != nil || len(r.Answer) != 2 {
				b.Errorf("answer %v: %v", r, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "queries/s")
}

// BenchmarkFastReply is the UDP fast path's own cost per query, no sockets.
func BenchmarkFastReply(b *testing.B) {
	pub := new(snapshot.Publisher)
	pub.Publish(bigWorld(10000))
	s := New(Config{Healthy: func(string) bool { return true }}, pub)
	sc := newScratch()
	client := netip.MustParseAddr("127.0.0.1")
	for _, bc := range []struct{ desc, name string }{
		{"endpoint", epDomain("ep-bench04242", "epsrv-aff")},
		{"zone", zoneDomain("ep-bench04242", zoneH, "epsrv-aff")},
		{"nxdomain", "nope." + apex},
	} {
		b.Run(bc.desc, func(b *testing.B) {
			req, _ := new(mdns.Msg).SetQuestion(bc.name, mdns.TypeA).Pack()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, _, ok := s.fastReply(sc, req, client); !ok {
					b.Fatal("not on the fast path")
				}
			}
		})
	}
}
