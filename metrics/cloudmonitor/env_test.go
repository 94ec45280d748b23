package cloudmonitor_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/cms"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"
	"github.com/prometheus/client_golang/prometheus"

	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/apitest"
	"eplink/controlplane/rpc"
	"eplink/controlplane/snapshot"
	"eplink/dataplane"
	"eplink/metrics"
	"eplink/metrics/cloudmonitor"
)

// env is a whole eplink in the test: control plane, data plane, CloudMonitor
// and both APIs on one loopback address, with a sink backend behind CLB1.
type env struct {
	*apitest.Env
	mon      *cloudmonitor.Monitor
	addr     string
	provider *cms.Client
	consumer *cms.Client
	outsider *cms.Client
	backend  string
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	dataDir  string
}

// testLab is apitest's lab with addresses of this package's own (so tests
// of other packages on this host never collide with ours) and CLB1 in front
// of backend.
func testLab(backend string) *apitest.Options {
	l := apitest.Lab()
	for i := range l.VPCs {
		v := &l.VPCs[i]
		if v.ID != apitest.VPCConsumer {
			continue
		}
		v.CIDR = "127.113.0.0/16"
		v.VSwitches[0].CIDR = "127.113.0.0/24"
		v.VSwitches[1].CIDR = "127.113.1.0/24"
	}
	for i := range l.LoadBalancers {
		lb := &l.LoadBalancers[i]
		if lb.ID == apitest.CLB1 || lb.ID == apitest.CLB2 {
			lb.Listeners[0].Backends[0].Address = backend
		}
	}
	return &apitest.Options{Lab: l}
}

// sink accepts connections and reads them to the end: the backend of a
// load test.
func sink(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

func newEnv(t *testing.T, cfg cloudmonitor.Config) *env {
	return newEnvAt(t, t.TempDir(), cfg)
}

func newEnvAt(t *testing.T, dataDir string, cfg cloudmonitor.Config) *env {
	t.Helper()
	e := &env{backend: sink(t), dataDir: dataDir}
	opts := testLab(e.backend)
	pub := &snapshot.Publisher{}
	cp, err := controlplane.Open(controlplane.Config{DataDir: dataDir, Lab: opts.Lab, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	proxy := dataplane.New(dataplane.Options{Loops: 1, Metrics: m})
	cfg.Store = cp.Store()
	cfg.Snapshot = pub.Load
	cfg.Counters = cloudmonitor.CountersFrom(m)
	cfg.Region = apitest.Region
	mon, err := cloudmonitor.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.mon = mon
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Add(2)
	go func() { defer e.wg.Done(); proxy.Run(ctx, pub) }()
	go func() { defer e.wg.Done(); mon.Run(ctx) }()
	hs := httptest.NewServer(rpc.Products{api.New(cp, nil), mon.API(cp.Credentials, nil)})
	e.addr = strings.TrimPrefix(hs.URL, "http://")
	srv := &apitest.Server{CP: cp, Publisher: pub, Addr: e.addr, DataDir: dataDir, HTTP: hs}
	e.Env = srv.Env()
	e.provider = cmsClient(t, e.addr, apitest.ProviderAK, apitest.ProviderSK)
	e.consumer = cmsClient(t, e.addr, apitest.ConsumerAK, apitest.ConsumerSK)
	e.outsider = cmsClient(t, e.addr, apitest.OutsiderAK, apitest.OutsiderSK)
	t.Cleanup(e.close)
	return e
}

func (e *env) close() {
	e.cancel()
	e.wg.Wait()
	e.HTTP.Close()
	e.CP.Close()
}

func cmsClient(t *testing.T, addr, ak, sk string) *cms.Client {
	c, err := cms.NewClientWithAccessKey(apitest.Region, ak, sk)
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = addr
	return c
}

// connect builds the guide's step 2: a service on CLB1 (auto-accept), the
// consumer's endpoint in zone H, connected. It returns the service id, the
// endpoint id and the zone's ENI address:port.
func (e *env) connect(t *testing.T) (svc, ep, eniAddr string) {
	t.Helper()
	svc = e.CreateService(t, true, apitest.Res{ID: apitest.CLB1, Zone: apitest.ZoneH})
	e.AddUser(t, svc, apitest.ConsumerUID)
	ep = e.CreateEndpoint(t, svc, apitest.EP{Zones: []privatelink.CreateVpcEndpointZone{
		{ZoneId: apitest.ZoneH, VSwitchId: apitest.VSwConsumerH}}})
	apitest.Eventually(t, "zone carries traffic", func() (bool, string) {
		s := e.Publisher.Load()
		en := s.Endpoints[ep]
		if en == nil || len(en.Zones) == 0 {
			return false, "no endpoint"
		}
		z := en.Zones[0]
		eniAddr = net.JoinHostPort(z.ENI.IP.String(), "80")
		return z.CarriesTraffic(en), fmt.Sprintf("%s %s", en.ConnectionStatus, z.Status)
	})
	apitest.Eventually(t, "ENI listening", func() (bool, string) {
		c, err := net.DialTimeout("tcp", eniAddr, time.Second)
		if err != nil {
			return false, err.Error()
		}
		c.Close()
		return true, ""
	})
	return svc, ep, eniAddr
}

// load sends bytes to addr as fast as the path takes them until stop is
// closed (bounded by the test's own timeouts).
func load(t *testing.T, addr string, stop <-chan struct{}) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Errorf("load: %v", err)
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.SetWriteDeadline(time.Now().Add(time.Second))
			if _, err := c.Write(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				t.Errorf("load: %v", err)
				return
			}
		}
	}()
	return done
}
