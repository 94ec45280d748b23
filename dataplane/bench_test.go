package dataplane

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"testing"
	"time"
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

// BenchmarkBulk streams from a backend that writes as fast as it can.
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
	for _, bc := range []struct{ name, addr string }{{"direct", backend}, {"proxy", proxied}} {
		b.Run(bc.name, func(b *testing.B) {
			c := benchDial(b, bc.addr)
			defer c.Close()
			buf := make([]byte, 256<<10)
			b.SetBytes(block)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for n := 0; n < block; {
					k, err := c.Read(buf[:min(len(buf), block-n)])
					if err != nil {
						b.Fatal(err)
					}
					n += k
				}
			}
		})
	}
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

// BenchmarkConnect is a new connection, one round trip, and close.
func BenchmarkConnect(b *testing.B) {
	backend := echoServer(b)
	proxied := benchProxy(b, backend)
	for _, bc := range []struct{ name, addr string }{{"direct", backend}, {"proxy", proxied}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				c := benchDial(b, bc.addr)
				roundTrips(b, c, 1)
				c.SetLinger(0) // no TIME_WAIT pile-up on the client side
				c.Close()
			}
		})
	}
}

// BenchmarkIdleFlowMemory opens many idle flows and reports what the proxy
// holds per flow (heap and goroutine stacks), by subtracting the same number
// of direct connections (client and backend ends) from the proxied case.
func BenchmarkIdleFlowMemory(b *testing.B) {
	const flows = 1000 // each costs 4 fds here (client, 2 proxy, backend)
	backend := echoServer(b)
	proxied := benchProxy(b, backend)
	inUse := func() int64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapInuse + m.StackInuse)
	}
	open := func(addr string) ([]*net.TCPConn, int64) {
		before := inUse()
		cs := make([]*net.TCPConn, 0, flows)
		for i := 0; i < flows; i++ {
			c := benchDial(b, addr)
			roundTrips(b, c, 1) // the flow is established end to end
			cs = append(cs, c)
		}
		return cs, inUse() - before
	}
	closeAll := func(cs []*net.TCPConn) {
		for _, c := range cs {
			c.SetLinger(0)
			c.Close()
		}
	}
	for i := 0; i < b.N; i++ {
		cs, direct := open(backend)
		closeAll(cs)
		time.Sleep(100 * time.Millisecond)
		cs, proxy := open(proxied)
		perFlow := (float64(proxy) - float64(direct)) / flows
		closeAll(cs)
		b.ReportMetric(perFlow, "B/flow")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		if testing.Verbose() {
			fmt.Printf("idle flows: direct %d B, proxied %d B, proxy share %.0f B/flow\n", direct, proxy, perFlow)
		}
	}
}
