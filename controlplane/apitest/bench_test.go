package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"eplink/controlplane/rpc/rpctest"
)

// rawClient sends signed RPC calls shaped exactly like the SDK's (same
// common parameters, signature v1 over query ∪ body) over rpctest's lean
// keep-alive connections, so the server, not the client, is what is
// measured. It is safe for concurrent use: each call takes an idle
// connection or dials one.
type rawClient struct {
	addr   string
	ak, sk string
	mu     sync.Mutex
	idle   []*rpctest.Client
}

func newRawClient(addr, ak, sk string) *rawClient {
	return &rawClient{addr: addr, ak: ak, sk: sk}
}

// call sends action with query params q and form body params body; it
// returns the decoded JSON or an error with the status and body.
func (c *rawClient) call(action string, q, body url.Values) (map[string]any, error) {
	raw, err := c.send(action, q, body)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", action, err, raw)
	}
	return m, nil
}

// send is call without decoding the answer (the benchmarks' hot loop).
func (c *rawClient) send(action string, q, body url.Values) ([]byte, error) {
	c.mu.Lock()
	var rc *rpctest.Client
	if n := len(c.idle); n > 0 {
		rc, c.idle = c.idle[n-1], c.idle[:n-1]
	}
	c.mu.Unlock()
	if rc == nil {
		var err error
		if rc, err = rpctest.Dial(c.addr, "2020-04-15", c.ak, c.sk); err != nil {
			return nil, err
		}
		rc.Region, rc.Timeout = Region, 30*time.Second
	}
	status, raw, err := rc.CallForm(action, pairs(q), pairs(body))
	if err != nil {
		rc.Close()
		return nil, err
	}
	raw = bytes.Clone(raw) // rc reuses its buffer
	c.mu.Lock()
	c.idle = append(c.idle, rc)
	c.mu.Unlock()
	if status != 200 {
		return nil, fmt.Errorf("%s: HTTP %d: %s", action, status, raw)
	}
	return raw, nil
}

func pairs(v url.Values) []string {
	var out []string
	for k, vs := range v {
		for _, x := range vs {
			out = append(out, k, x)
		}
	}
	return out
}

// benchWorld is a server with one auto-accept service and n endpoints of
// the consumer (no zones), created through raw signed calls.
func benchWorld(b *testing.B, n int) (*Env, string, []string) {
	b.Helper()
	e := New(b, Options{})
	svc := e.CreateService(b, true, Res{CLB1, ZoneH})
	e.AddUser(b, svc, ConsumerUID)
	return e, svc, createEndpoints(b, e, svc, n)
}

func createEndpoints(b *testing.B, e *Env, svc string, n int) []string {
	b.Helper()
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newRawClient(e.Addr, ConsumerAK, ConsumerSK)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				m, err := c.call("CreateVpcEndpoint", url.Values{
					"ServiceId": {svc}, "VpcId": {VPCConsumer}, "SecurityGroupId.1": {SGConsumer},
					"EndpointName": {fmt.Sprintf("bench-%05d", i)},
				}, nil)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				ids[i], _ = m["EndpointId"].(string)
			}
		}()
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		b.Fatalf("creating endpoints: %v", err)
	}
	return ids
}

// parallel runs b.N calls of f over 32 client goroutines and reports
// calls/s.
func parallel(b *testing.B, f func(worker int, i int64) error) {
	b.Helper()
	const workers = 32
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				if err := f(w, i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if err := firstErr.Load(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "calls/s")
	// CPU per call of client and server together: on a shared machine
	// calls/s falls with other people's load, this does not.
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

// BenchmarkMutate: UpdateVpcEndpointAttribute from 32 parallel raw signed
// clients, each on its own endpoint; every call is committed with fsync.
func BenchmarkMutate(b *testing.B) {
	e, _, eps := benchWorld(b, 32)
	clients := make([]*rawClient, 32)
	for i := range clients {
		clients[i] = newRawClient(e.Addr, ConsumerAK, ConsumerSK)
	}
	parallel(b, func(w int, i int64) error {
		_, err := clients[w].send("UpdateVpcEndpointAttribute", url.Values{
			"EndpointId": {eps[w]}, "EndpointDescription": {fmt.Sprintf("description %d", i)},
		}, nil)
		return err
	})
}

// BenchmarkTagResources: TagResources (parameters in the form body, as
// the SDK sends them) from 32 parallel raw clients.
func BenchmarkTagResources(b *testing.B) {
	e, _, eps := benchWorld(b, 32)
	clients := make([]*rawClient, 32)
	for i := range clients {
		clients[i] = newRawClient(e.Addr, ConsumerAK, ConsumerSK)
	}
	parallel(b, func(w int, i int64) error {
		_, err := clients[w].send("TagResources", nil, url.Values{
			"ResourceType": {"VpcEndpoint"}, "ResourceId.1": {eps[w]},
			"Tag.1.Key": {"seq"}, "Tag.1.Value": {fmt.Sprint(i)},
		})
		return err
	})
}

// BenchmarkMutateSDK is BenchmarkMutate through the official SDK, to show
// what a user's script sees.
func BenchmarkMutateSDK(b *testing.B) {
	e, _, eps := benchWorld(b, 32)
	clients := make([]*privatelink.Client, 32)
	for i := range clients {
		clients[i] = e.Client(ConsumerAK, ConsumerSK)
	}
	parallel(b, func(w int, i int64) error {
		r := privatelink.CreateUpdateVpcEndpointAttributeRequest()
		r.EndpointId, r.EndpointDescription = eps[w], fmt.Sprintf("description %d", i)
		_, err := clients[w].UpdateVpcEndpointAttribute(r)
		return err
	})
}

// BenchmarkRead: GetVpcEndpointAttribute from 32 parallel raw clients.
func BenchmarkRead(b *testing.B) {
	e, _, eps := benchWorld(b, 32)
	clients := make([]*rawClient, 32)
	for i := range clients {
		clients[i] = newRawClient(e.Addr, ConsumerAK, ConsumerSK)
	}
	parallel(b, func(w int, i int64) error {
		_, err := clients[w].send("GetVpcEndpointAttribute", url.Values{"EndpointId": {eps[int(i)%len(eps)]}}, nil)
		return err
	})
}

// BenchmarkReadSDK is BenchmarkRead through the official SDK.
func BenchmarkReadSDK(b *testing.B) {
	e, _, eps := benchWorld(b, 32)
	clients := make([]*privatelink.Client, 32)
	for i := range clients {
		clients[i] = e.Client(ConsumerAK, ConsumerSK)
	}
	parallel(b, func(w int, i int64) error {
		_, err := e.GetEndpoint(clients[w], eps[int(i)%len(eps)])
		return err
	})
}

// BenchmarkList: ListVpcEndpoints first pages (MaxResults 10) from 32
// parallel raw clients over 100 endpoints.
func BenchmarkList(b *testing.B) {
	e, _, _ := benchWorld(b, 100)
	clients := make([]*rawClient, 32)
	for i := range clients {
		clients[i] = newRawClient(e.Addr, ConsumerAK, ConsumerSK)
	}
	parallel(b, func(w int, i int64) error {
		_, err := clients[w].send("ListVpcEndpoints", url.Values{"MaxResults": {"10"}}, nil)
		return err
	})
}

// Benchmark10k stores 10,000 endpoints, then measures a restart (Open on
// the data dir) and one List page (50 endpoints, any page) through HTTP.
func Benchmark10k(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	s, err := StartServer(Options{DataDir: dir})
	if err != nil {
		b.Fatal(err)
	}
	e := &Env{Server: s, Provider: s.Client(ProviderAK, ProviderSK), Consumer: s.Client(ConsumerAK, ConsumerSK)}
	svc := e.CreateService(b, true, Res{CLB1, ZoneH})
	e.AddUser(b, svc, ConsumerUID)
	start := time.Now()
	createEndpoints(b, e, svc, n)
	b.Logf("created %d endpoints in %v (%.0f/s)", n, time.Since(start), n/time.Since(start).Seconds())
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}

	b.Run("Open", func(b *testing.B) {
		var total time.Duration
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			s, err := StartServer(Options{DataDir: dir})
			total += time.Since(t0)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/open")
	})

	// One server on the stored 10,000 for the per-call measurements below.
	withServer := func(b *testing.B, f func(b *testing.B, s *Server)) {
		s, err := StartServer(Options{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		f(b, s)
	}
	timePages := func(b *testing.B, c *rawClient, action string, q url.Values) {
		b.ResetTimer()
		t0 := time.Now()
		for i := 0; i < b.N; i++ {
			if _, err := c.send(action, q, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "ms/page")
	}
	b.Run("ListByName", func(b *testing.B) {
		withServer(b, func(b *testing.B, s *Server) {
			timePages(b, newRawClient(s.Addr, ConsumerAK, ConsumerSK), "ListVpcEndpoints", url.Values{"EndpointName": {"bench-05000"}})
		})
	})
	b.Run("ListConnectionsPage", func(b *testing.B) {
		withServer(b, func(b *testing.B, s *Server) {
			timePages(b, newRawClient(s.Addr, ProviderAK, ProviderSK), "ListVpcEndpointConnections", url.Values{"ServiceId": {svc}, "MaxResults": {"50"}})
		})
	})
	b.Run("MutateAt10k", func(b *testing.B) {
		withServer(b, func(b *testing.B, s *Server) {
			c := newRawClient(s.Addr, ConsumerAK, ConsumerSK)
			m, err := c.call("ListVpcEndpoints", url.Values{"MaxResults": {"32"}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			var eps []string
			for _, x := range m["Endpoints"].([]any) {
				eps = append(eps, x.(map[string]any)["EndpointId"].(string))
			}
			clients := make([]*rawClient, 32)
			for i := range clients {
				clients[i] = newRawClient(s.Addr, ConsumerAK, ConsumerSK)
			}
			parallel(b, func(w int, i int64) error {
				_, err := clients[w].send("UpdateVpcEndpointAttribute", url.Values{
					"EndpointId": {eps[w%len(eps)]}, "EndpointDescription": {fmt.Sprintf("description %d", i)},
				}, nil)
				return err
			})
		})
	})

	b.Run("ListPage", func(b *testing.B) {
		s, err := StartServer(Options{DataDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		c := newRawClient(s.Addr, ConsumerAK, ConsumerSK)
		// Collect page tokens across the whole list, then time pages.
		tokens := []string{""}
		for tok := ""; ; {
			m, err := c.call("ListVpcEndpoints", url.Values{"MaxResults": {"50"}, "NextToken": {tok}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			tok, _ = m["NextToken"].(string)
			if tok == "" {
				break
			}
			tokens = append(tokens, tok)
		}
		if len(tokens) != n/50 {
			b.Errorf("%d pages of 50 over %d endpoints, want %d", len(tokens), n, n/50)
		}
		b.ResetTimer()
		t0 := time.Now()
		for i := 0; i < b.N; i++ {
			q := url.Values{"MaxResults": {"50"}}
			if tok := tokens[i%len(tokens)]; tok != "" {
				q.Set("NextToken", tok)
			}
			if _, err := c.send("ListVpcEndpoints", q, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds())/1000/float64(b.N), "ms/page")
	})
}

// BenchmarkServerProcess runs the server in its own process (the crash
// test's child) so that its CPU time can be told apart from the clients':
// server-cpu-µs/call is what one call costs the server, whatever else the
// machine is doing; 2 cores / that figure is the server's capacity.
func BenchmarkServerProcess(b *testing.B) {
	c := startChild(b, b.TempDir(), 0)
	defer func() { _ = c.stdin.Close(); _ = c.cmd.Wait() }()
	e := &Env{Server: &Server{Addr: c.addr}, Provider: NewClient(c.addr, ProviderAK, ProviderSK), Consumer: NewClient(c.addr, ConsumerAK, ConsumerSK)}
	svc := e.CreateService(b, true, Res{CLB1, ZoneH})
	e.AddUser(b, svc, ConsumerUID)
	eps := createEndpoints(b, e, svc, 32)
	clients := make([]*rawClient, 32)
	for i := range clients {
		clients[i] = newRawClient(c.addr, ConsumerAK, ConsumerSK)
	}
	measure := func(b *testing.B, f func(w int, i int64) error) {
		cpu0 := procCPU(b, c.cmd.Process.Pid)
		parallel(b, f)
		cpu := procCPU(b, c.cmd.Process.Pid) - cpu0
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "server-cpu-µs/call")
	}
	b.Run("Read", func(b *testing.B) {
		measure(b, func(w int, i int64) error {
			_, err := clients[w].send("GetVpcEndpointAttribute", url.Values{"EndpointId": {eps[int(i)%len(eps)]}}, nil)
			return err
		})
	})
	b.Run("Mutate", func(b *testing.B) {
		measure(b, func(w int, i int64) error {
			_, err := clients[w].send("UpdateVpcEndpointAttribute", url.Values{
				"EndpointId": {eps[w]}, "EndpointDescription": {fmt.Sprintf("description %d", i)},
			}, nil)
			return err
		})
	})
	b.Run("List", func(b *testing.B) {
		measure(b, func(w int, i int64) error {
			_, err := clients[w].send("ListVpcEndpoints", url.Values{"MaxResults": {"10"}}, nil)
			return err
		})
	})
}

// procCPU is the user+system CPU time of process pid (from /proc, in
// clock ticks of 10 ms).
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are
	// fields 14 and 15 of the whole line.
	s := string(raw)
	rest := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var ut, st int64
	fmt.Sscan(rest[11], &ut)
	fmt.Sscan(rest[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
