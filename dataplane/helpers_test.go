package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// nextIP hands each test its own ENI addresses in 127.201.0.0/16, so tests
// (and other packages' tests) never fight over an address:port.
var nextIP atomic.Uint32

// ipBase spreads test processes over the range, so two `go test` runs at
// once (say, with -count or from two checkouts) rarely meet.
var ipBase = uint32(os.Getpid()%64) * 1000

func freshIP() netip.Addr {
	n := ipBase + nextIP.Add(1)
	return netip.AddrFrom4([4]byte{127, 201, byte(n >> 8), byte(n)})
}

const testPort = 18080

// lab is a running Proxy fed by hand-made snapshots.
type lab struct {
	t   testing.TB
	pub *snapshot.Publisher
	p   *Proxy
	reg *prometheus.Registry
	m   *metrics.Metrics
	ver uint64
	// conns feeds the conn carrier (newLabOn); nil on loopback.
	conns *connFrontEnd
}

func newLab(t testing.TB, opts Options) *lab {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	if opts.Metrics == nil {
		opts.Metrics = m
	}
	l := &lab{t: t, pub: &snapshot.Publisher{}, reg: reg, m: m}
	l.p = New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.p.Run(ctx, l.pub) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return l
}

// publish publishes s with the next version and waits until it is applied.
func (l *lab) publish(s *snapshot.Snapshot) {
	l.t.Helper()
	l.ver++
	s.Version = l.ver
	l.pub.Publish(s)
	deadline := time.Now().Add(5 * time.Second)
	for l.p.applied.Load() < l.ver {
		if time.Now().After(deadline) {
			l.t.Fatalf("snapshot %d not applied", l.ver)
		}
		time.Sleep(time.Millisecond)
	}
	if l.conns != nil {
		l.conns.sync()
	}
}

// world describes a one-endpoint snapshot; tests tweak it and call snap.
type world struct {
	eni        netip.Addr
	eniID      string
	resourceID string
	replaced   *snapshot.Binding
	connStatus string
	zoneStatus string
	mbps       int
	rules      []snapshot.Rule
	lbs        map[string][]snapshot.Backend // CLB id → backends on testPort
	health     snapshot.HealthCheck

	// clbActive and clbDown are the CLBs' ActiveZone and Unavailable
	// (every CLB's primary zone is cn-hangzhou-h, its backup i).
	clbActive map[string]string
	clbDown   map[string]bool
}

func newWorld(backends ...string) *world {
	w := &world{
		eni: freshIP(), eniID: "eni-1", resourceID: "lb-a",
		connStatus: snapshot.ConnConnected, zoneStatus: snapshot.ZoneConnected,
		rules: []snapshot.Rule{{Protocol: "tcp", PortFrom: 1, PortTo: 65535,
			SourceCIDR: netip.MustParsePrefix("0.0.0.0/0"), Accept: true, Priority: 1}},
		lbs: map[string][]snapshot.Backend{}, clbActive: map[string]string{}, clbDown: map[string]bool{},
	}
	for i, b := range backends {
		w.lbs["lb-a"] = append(w.lbs["lb-a"], snapshot.Backend{Name: fmt.Sprintf("ECS%02d", i+1), Address: b, Weight: 100})
	}
	return w
}

func (w *world) addr() string { return netip.AddrPortFrom(w.eni, testPort).String() }

func (w *world) snap() *snapshot.Snapshot {
	s := snapshot.Empty()
	s.SecurityGroups["sg-1"] = &snapshot.SecurityGroup{ID: "sg-1", Rules: w.rules}
	for id, bs := range w.lbs {
		s.LoadBalancers[id] = &snapshot.LoadBalancer{ID: id, Zone: "cn-hangzhou-h", BackupZone: "cn-hangzhou-i",
			ActiveZone: w.clbActive[id], Unavailable: w.clbDown[id], Health: w.health,
			Listeners: []snapshot.Listener{{Port: testPort, Backends: bs}}}
	}
	s.Endpoints["ep-1"] = &snapshot.Endpoint{
		ID: "ep-1", ServiceID: "epsrv-1", ConnectionStatus: w.connStatus, BandwidthMbps: w.mbps,
		SecurityGroupIDs: []string{"sg-1"},
		Zones: []*snapshot.EndpointZone{{
			ZoneID: "cn-hangzhou-h", Status: w.zoneStatus,
			ENI: snapshot.ENI{ID: w.eniID, IP: w.eni}, ResourceID: w.resourceID, Replaced: w.replaced,
		}},
	}
	return s
}

// echoServer accepts on 127.0.0.1:0 and echoes until EOF, then half-closes.
func echoServer(t testing.TB) string {
	t.Helper()
	return serveTCP(t, func(c *net.TCPConn) {
		io.Copy(c, c)
		c.CloseWrite()
	})
}

// serveTCP runs h for every connection on a fresh loopback listener. Its
// accept loop, like net/http's, waits and tries again when accept fails
// for want of a descriptor (tests that exhaust them share the process):
// ending at the first EMFILE would leave the listening socket open with
// nobody accepting, and the proxy's connects to it would succeed in the
// kernel and never be answered.
func serveTCP(t testing.TB, h func(*net.TCPConn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				h(c.(*net.TCPConn))
			}()
		}
	}()
	return ln.Addr().String()
}

// dial connects to addr from the default loopback source.
func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// roundTrip writes msg and reads len(msg) bytes back.
func roundTrip(c net.Conn, msg string) (string, error) {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, msg); err != nil {
		return "", err
	}
	buf := make([]byte, len(msg))
	_, err := io.ReadFull(c, buf)
	return string(buf), err
}

// isReset reports whether err is what a client sees after an RST.
func isReset(err error) bool {
	var ne *net.OpError
	return err != nil && (errors.As(err, &ne) || errors.Is(err, io.EOF)) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF)
}

// waitFor polls cond for up to d.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// value reads a counter or gauge.
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}

// series counts the series of the metric family name in reg.
func series(t testing.TB, reg *prometheus.Registry, name string) int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.Metric)
		}
	}
	return 0
}
