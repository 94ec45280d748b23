package api_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/rpc"
	"eplink/controlplane/rpc/rpctest"
	"eplink/controlplane/snapshot"
)

// Benchmarks of signed calls through the real HTTP server (the one
// cmd/eplink serves, fsync on), from rpctest's lean clients, 8 a core,
// each on its own keep-alive connection. cpu-µs/call is the CPU of the
// whole process (clients, server, model) per call: unlike calls/s it does
// not fall when other work shares the machine; 2 cores divided by it is
// the rate an idle machine would reach.

type benchWorld struct {
	addr    string
	eps     []string
	clients []*rpctest.Client
}

func startBench(b *testing.B, endpoints int) *benchWorld {
	b.Helper()
	cp, err := controlplane.Open(controlplane.Config{DataDir: b.TempDir(), Lab: testLab(), Publisher: &snapshot.Publisher{}})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	hs := rpc.NewHTTPServer("", api.New(cp, nil))
	go hs.Serve(ln)
	b.Cleanup(func() { hs.Close(); cp.Close() })
	w := &benchWorld{addr: ln.Addr().String()}

	provider := w.dial(b, "LTAIprovider000001", "provider-secret-1")
	svc := w.call(b, provider, "CreateVpcEndpointService", "ServiceResourceType", "slb", "AutoAcceptEnabled", "true",
		"Resource.1.ResourceType", "slb", "Resource.1.ResourceId", "lb-clb1", "Resource.1.ZoneId", zoneH)["ServiceId"].(string)
	w.waitActive(b, provider, svc)
	w.call(b, provider, "AddUserToVpcEndpointService", "ServiceId", svc, "UserId", consumerUID)
	w.waitActive(b, provider, svc)

	for range 8 * runtime.GOMAXPROCS(0) {
		w.clients = append(w.clients, w.dial(b, "LTAIconsumer000002", "consumer-secret-2"))
	}
	for i := range endpoints {
		c := w.clients[i%len(w.clients)]
		m := w.call(b, c, "CreateVpcEndpoint", "ServiceId", svc, "VpcId", "vpc-consumer1",
			"SecurityGroupId.1", "sg-consumer1", "EndpointName", fmt.Sprintf("bench-%05d", i))
		w.eps = append(w.eps, m["EndpointId"].(string))
	}
	return w
}

func (w *benchWorld) dial(b *testing.B, ak, sk string) *rpctest.Client {
	c, err := rpctest.Dial(w.addr, api.Version, ak, sk)
	if err != nil {
		b.Fatal(err)
	}
	c.Region = "cn-hangzhou"
	b.Cleanup(func() { c.Close() })
	return c
}

func (w *benchWorld) call(b *testing.B, c *rpctest.Client, action string, pairs ...string) map[string]any {
	b.Helper()
	status, body, err := c.Call(action, pairs...)
	if err != nil || status != http.StatusOK {
		b.Fatalf("%s: %d %v %s", action, status, err, body)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		b.Fatal(err)
	}
	return m
}

func (w *benchWorld) waitActive(b *testing.B, c *rpctest.Client, svc string) {
	b.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if w.call(b, c, "GetVpcEndpointServiceAttribute", "ServiceId", svc)["ServiceStatus"] == "Active" {
			return
		}
	}
	b.Fatalf("service %s not Active in 10s", svc)
}

// run makes b.N calls of f spread over the clients, in parallel, and
// reports calls/s and cpu-µs/call.
func (w *benchWorld) run(b *testing.B, f func(c *rpctest.Client, worker int, i int64) (int, []byte, error)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for k, c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				status, body, err := f(c, k, i)
				if err != nil || status != http.StatusOK {
					b.Errorf("%d %v %s", status, err, body)
					return
				}
			}
		}()
	}
	wg.Wait()
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N)/el.Seconds(), "calls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/call")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRead: GetVpcEndpointAttribute over 32 endpoints.
func BenchmarkRead(b *testing.B) {
	w := startBench(b, 32)
	w.run(b, func(c *rpctest.Client, _ int, i int64) (int, []byte, error) {
		return c.Call("GetVpcEndpointAttribute", "EndpointId", w.eps[i%int64(len(w.eps))])
	})
}

// BenchmarkList: ListVpcEndpoints first pages of 10 over 100 endpoints.
func BenchmarkList(b *testing.B) {
	w := startBench(b, 100)
	w.run(b, func(c *rpctest.Client, _ int, _ int64) (int, []byte, error) {
		return c.Call("ListVpcEndpoints", "MaxResults", "10")
	})
}

// BenchmarkMutate: UpdateVpcEndpointAttribute, each client on its own
// endpoint; every call is committed with fsync (group commit).
func BenchmarkMutate(b *testing.B) {
	w := startBench(b, 32)
	w.run(b, func(c *rpctest.Client, k int, i int64) (int, []byte, error) {
		return c.Call("UpdateVpcEndpointAttribute", "EndpointId", w.eps[k%len(w.eps)],
			"EndpointDescription", "description "+fmt.Sprint(i))
	})
}
