package rpc

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane/rpc/rpctest"
)

// BenchmarkSignedCall measures whole signed calls through the real HTTP
// server on loopback: client signing, HTTP, parameter parsing, signature
// check, replay table, handler, JSON out. 8 clients a core run in parallel, each
// on its own keep-alive connection. The clients are rpctest's lean ones:
// on 2 shared cores, net/http's client would cost as much CPU as the
// server and the benchmark would measure it instead. cpu-µs/call is the
// process's CPU (clients and server) per call, which other people's load
// on the machine does not change as it does calls/s. v1 and v3 are the
// two signatures; v3 should cost within 10% of v1.
func BenchmarkSignedCall(b *testing.B) {
	b.Run("v1", func(b *testing.B) { benchmarkSignedCall(b, false) })
	b.Run("v3", func(b *testing.B) { benchmarkSignedCall(b, true) })
}

func benchmarkSignedCall(b *testing.B, v3 bool) {
	type vpc struct {
		VpcId  string
		Status string
	}
	s := &Server{
		Version: testVersion,
		Actions: map[string]Handler{"DescribeThing": func(_ context.Context, c *Call) (any, error) {
			return struct {
				Vpcs       []vpc
				TotalCount int
			}{[]vpc{{c.Params.Get("VpcId"), "Available"}}, 1}, nil
		}},
		Credentials: func(string) (string, string, bool) { return testSecret, testUID, true },
		MaxNonces:   1 << 24,
	}
	hs := NewHTTPServer("", s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()

	const perProc = 8 // 16 clients on 2 cores: keep the server busy
	clients := perProc * runtime.GOMAXPROCS(0)
	var mu sync.Mutex
	var pool []*rpctest.Client
	for range clients {
		c, err := rpctest.Dial(ln.Addr().String(), testVersion, testAK, testSecret)
		if err != nil {
			b.Fatal(err)
		}
		c.Region = "cn-hangzhou"
		c.V3 = v3
		defer c.Close()
		pool = append(pool, c)
	}
	b.SetParallelism(perProc)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		c := pool[len(pool)-1]
		pool = pool[:len(pool)-1]
		mu.Unlock()
		for pb.Next() {
			status, body, err := c.Call("DescribeThing", "VpcId", "vpc-bench")
			if err != nil {
				b.Error(err)
				return
			}
			if status != http.StatusOK {
				b.Errorf("status %d: %s", status, body)
				return
			}
		}
	})
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkServeHTTP is the server's own share of a call, without sockets:
// parsing, signature check, replay table, handler, JSON out; signed with
// v1 and with v3.
func BenchmarkServeHTTP(b *testing.B) {
	b.Run("v1", func(b *testing.B) { benchmarkServeHTTP(b, false) })
	b.Run("v3", func(b *testing.B) { benchmarkServeHTTP(b, true) })
}

func benchmarkServeHTTP(b *testing.B, v3 bool) {
	newServer := func() *Server {
		return &Server{
			Version:     testVersion,
			Actions:     map[string]Handler{"Nil": func(context.Context, *Call) (any, error) { return struct{ Ok bool }{true}, nil }},
			Credentials: func(string) (string, string, bool) { return testSecret, testUID, true },
			Now:         func() time.Time { return testNow },
		}
	}
	// A bounded set of signed requests, replayed to a fresh server (a fresh
	// replay table) each round.
	reqs := make([]*http.Request, 4096)
	for i := range reqs {
		if v3 {
			q := url.Values{"RegionId": {"cn-hangzhou"}, "VpcId": {"vpc-bench"}}
			r, _ := http.NewRequest("POST", "http://127.0.0.1:8080/?"+q.Encode(), nil)
			r.Header.Set("x-acs-action", "Nil")
			r.Header.Set("x-acs-version", testVersion)
			r.Header.Set("x-acs-date", testNow.Format("2006-01-02T15:04:05Z"))
			r.Header.Set("x-acs-signature-nonce", fmt.Sprintf("%032x", i))
			SignRequestV3(r, nil, testAK, testSecret)
			reqs[i] = r
			continue
		}
		q := baseParams("Nil")
		q.Set("VpcId", "vpc-bench")
		q.Set("Signature", Sign("POST", q, testSecret))
		reqs[i], _ = http.NewRequest("POST", "/?"+q.Encode(), nil)
	}
	w := &discardWriter{h: http.Header{}}
	var s *Server
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%len(reqs) == 0 {
			b.StopTimer()
			s = newServer()
			b.StartTimer()
		}
		s.ServeHTTP(w, reqs[i%len(reqs)])
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }
