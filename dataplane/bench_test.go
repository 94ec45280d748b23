package dataplane

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// Benchmarks compare a direct loopback connection to the same traffic
// through the proxy (no shaping, as with the cap lifted). Both ends run in
// this process too, so on a small machine the ratios, not the absolute
// numbers, are what to read.

func benchProxy(b *testing.B, backend string) string {
	l := newLab(b, Options{})
	w := newWorld(backend)
	l.publish(w.snap())
	return w.addr()
}

func benchDial(b *testing.B, addr string) *net.TCPConn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// BenchmarkBulk streams from a backend that writes as fast as it can; the
// proxy case also reports its throughput as a fraction of a direct stream
// measured alongside.
func BenchmarkBulk(b *testing.B) {
	const block = 1 << 20
	backend := serveTCP(b, func(c *net.TCPConn) {
		buf := make([]byte, 256<<10)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	proxied := benchProxy(b, backend)
	read := func(b *testing.B, c net.Conn, blocks int) {
		buf := make([]byte, 256<<10)
		for i := 0; i < blocks; i++ {
			for n := 0; n < block; {
				k, err := c.Read(buf[:min(len(buf), block-n)])
				if err != nil {
					b.Fatal(err)
				}
				n += k
			}
		}
	}
	b.Run("direct", func(b *testing.B) {
		c := benchDial(b, backend)
		defer c.Close()
		b.SetBytes(block)
		b.ReportAllocs()
		b.ResetTimer()
		read(b, c, b.N)
	})
	b.Run("proxy", func(b *testing.B) {
		d := benchDial(b, backend)
		start := time.Now()
		read(b, d, 256)
		direct := time.Since(start) / 256
		d.Close()
		c := benchDial(b, proxied)
		defer c.Close()
		b.SetBytes(block)
		b.ReportAllocs()
		b.ResetTimer()
		read(b, c, b.N)
		b.StopTimer()
		b.ReportMetric(float64(direct)/float64(b.Elapsed()/time.Duration(b.N)), "x-direct")
	})
}

// roundTrips does n 64-byte request/response exchanges on c.
func roundTrips(b *testing.B, c net.Conn, n int) {
	var req, resp [64]byte
	for i := 0; i < n; i++ {
		if _, err := c.Write(req[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func timeRoundTrips(b *testing.B, addr string, n int) time.Duration {
	c := benchDial(b, addr)
	defer c.Close()
	roundTrips(b, c, 100) // warm up
	start := time.Now()
	roundTrips(b, c, n)
	return time.Since(start) / time.Duration(n)
}

// BenchmarkRoundTrip is keep-alive request/response latency; the proxy
// case also reports its ratio to a direct connection measured alongside.
func BenchmarkRoundTrip(b *testing.B) {
	backend := echoServer(b)
	proxied := benchProxy(b, backend)
	b.Run("direct", func(b *testing.B) {
		c := benchDial(b, backend)
		defer c.Close()
		b.ReportAllocs()
		b.ResetTimer()
		roundTrips(b, c, b.N)
	})
	b.Run("proxy", func(b *testing.B) {
		direct := timeRoundTrips(b, backend, 2000)
		c := benchDial(b, proxied)
		defer c.Close()
		b.ReportAllocs()
		b.ResetTimer()
		roundTrips(b, c, b.N)
		b.StopTimer()
		proxy := b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(direct.Nanoseconds()), "direct-ns/op")
		b.ReportMetric(float64(proxy)/float64(direct), "x-direct")
	})
}

// BenchmarkConnect is a new connection, one round trip, and close; the
// proxy case also reports its time as a multiple of a direct one.
func BenchmarkConnect(b *testing.B) {
	backend := echoServer(b)
	proxied := benchProxy(b, backend)
	connect := func(b *testing.B, addr string, n int) {
		for i := 0; i < n; i++ {
			c := benchDial(b, addr)
			roundTrips(b, c, 1)
			c.SetLinger(0) // no TIME_WAIT pile-up on the client side
			c.Close()
		}
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		connect(b, backend, b.N)
	})
	b.Run("proxy", func(b *testing.B) {
		start := time.Now()
		connect(b, backend, 200)
		direct := time.Since(start) / 200
		b.ReportAllocs()
		b.ResetTimer()
		connect(b, proxied, b.N)
		b.StopTimer()
		b.ReportMetric(float64(b.Elapsed()/time.Duration(b.N))/float64(direct), "x-direct")
	})
}

var idleFlows = flag.Int("idleflows", 1000, "flows BenchmarkIdleFlowMemory opens (4 descriptors each in this process)")

// BenchmarkIdleFlowMemory opens many idle flows and reports what the proxy
// holds per flow (heap and goroutine stacks, and file descriptors), by
// subtracting the same number of direct connections (client and backend
// ends) from the proxied case.
func BenchmarkIdleFlowMemory(b *testing.B) {
	flows := *idleFlows
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < uint64(4*flows+1000) {
		lim.Cur = uint64(4*flows) + 1000
		lim.Max = max(lim.Max, lim.Cur)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			b.Skipf("%d flows need %d descriptors: %v", flows, lim.Cur, err)
		}
	}
	// A userspace echo: Go's own splice would park a pipe per idle
	// connection in the backend and blur the count.
	backend := serveTCP(b, func(c *net.TCPConn) {
		buf := make([]byte, 512)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
	})
	proxied := benchProxy(b, backend)
	inUse := func() (int64, int) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		fds, _ := os.ReadDir("/proc/self/fd")
		return int64(m.HeapInuse + m.StackInuse), len(fds)
	}
	open := func(addr string) ([]*net.TCPConn, int64, int) {
		mem0, fd0 := inUse()
		cs := make([]*net.TCPConn, 0, flows)
		for i := 0; i < flows; i++ {
			c := benchDial(b, addr)
			roundTrips(b, c, 1) // the flow is established end to end
			cs = append(cs, c)
		}
		time.Sleep(100 * time.Millisecond) // let every pipe park
		mem1, fd1 := inUse()
		return cs, mem1 - mem0, fd1 - fd0
	}
	closeAll := func(cs []*net.TCPConn) {
		for _, c := range cs {
			c.SetLinger(0)
			c.Close()
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i := 0; i < b.N; i++ {
		cs, directMem, directFDs := open(backend)
		closeAll(cs)
		cs, proxyMem, proxyFDs := open(proxied)
		closeAll(cs)
		b.ReportMetric((float64(proxyMem)-float64(directMem))/float64(flows), "B/flow")
		b.ReportMetric(float64(proxyFDs-directFDs)/float64(flows), "fds/flow")
		if testing.Verbose() {
			fmt.Printf("%d idle flows: direct %d B %d fds, proxied %d B %d fds\n",
				flows, directMem, directFDs, proxyMem, proxyFDs)
		}
	}
}

// BenchmarkBuild10k is the per-snapshot cost of routing 10,000 endpoints
// (one zone each) with metrics on, after the first snapshot: what every
// control-plane change costs the data plane before listeners are touched.
func BenchmarkBuild10k(b *testing.B) {
	s := newWorld("127.0.0.1:1").snap()
	ep := s.Endpoints["ep-1"]
	delete(s.Endpoints, "ep-1")
	for i := 0; i < 10000; i++ {
		e := *ep
		e.ID = fmt.Sprintf("ep-%05d", i)
		z := *ep.Zones[0]
		z.ENI.IP = netip.AddrFrom4([4]byte{127, 80, byte(i >> 8), byte(i)})
		e.Zones = []*snapshot.EndpointZone{&z}
		s.Endpoints[e.ID] = &e
	}
	p := New(Options{Metrics: metrics.New(prometheus.NewRegistry())})
	p.build(s, nil) // the first snapshot creates every series
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := p.build(s, nil)
		if len(t.routes) != 10000 {
			b.Fatal(len(t.routes))
		}
	}
	b.StopTimer()
	for _, c := range p.checkers {
		c.stop()
	}
}
