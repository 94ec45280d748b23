package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane/snapshot"
	"eplink/dataplane"
	"eplink/dataplane/impair"
)

// impairedENI runs a data plane whose one ENI (eni-1 of ep-1, zone H)
// forwards to a demo backend through lb-a; it returns the proxy and the
// ENI's address.
func impairedENI(t *testing.T) (*dataplane.Proxy, string) {
	t.Helper()
	_, port := demoBackend(t)
	// An address of this test process's own in 127.203/16.
	ip := netip.AddrFrom4([4]byte{127, 203, byte(os.Getpid() % 250), byte(1 + os.Getpid()/250%250)})
	s := snapshot.Empty()
	s.Version = 1
	s.SecurityGroups["sg-1"] = &snapshot.SecurityGroup{ID: "sg-1", Rules: []snapshot.Rule{{Protocol: "tcp",
		PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("0.0.0.0/0"), Accept: true, Priority: 1}}}
	s.LoadBalancers["lb-a"] = &snapshot.LoadBalancer{ID: "lb-a", Zone: "cn-hangzhou-h",
		Listeners: []snapshot.Listener{{Port: uint16(port), Backends: []snapshot.Backend{
			{Name: "ECS07", Address: "127.0.0.1:" + strconv.Itoa(port), Weight: 100}}}}}
	s.Endpoints["ep-1"] = &snapshot.Endpoint{ID: "ep-1", ServiceID: "epsrv-1", ConnectionStatus: snapshot.ConnConnected,
		SecurityGroupIDs: []string{"sg-1"}, Zones: []*snapshot.EndpointZone{{ZoneID: "cn-hangzhou-h",
			Status: snapshot.ZoneConnected, ENI: snapshot.ENI{ID: "eni-1", IP: ip}, ResourceID: "lb-a"}}}
	pub := &snapshot.Publisher{}
	pub.Publish(s)
	p := dataplane.New(dataplane.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, pub) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := netip.AddrPortFrom(ip, uint16(port)).String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ENI %s does not listen: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return p, addr
}

func impairOrFail(t *testing.T, p *dataplane.Proxy, target dataplane.ImpairTarget, spec string) {
	t.Helper()
	im, err := impair.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Impair(target, im); err != nil {
		t.Fatal(err)
	}
}

var (
	eniTarget  = dataplane.ImpairTarget{ENIID: "eni-1"}
	zoneTarget = dataplane.ImpairTarget{EndpointID: "ep-1", ZoneID: "cn-hangzhou-h"}
	clbTarget  = dataplane.ImpairTarget{ResourceID: "lb-a"}
)

func hostPort(t *testing.T, addr string) (string, int) {
	h, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return h, n
}

// TestRouteImpairLatency: 50 ms of latency on the ENI, the zone or the CLB
// adds 50 ms ± 5 to what the built-in client measures through the ENI
// (medians of 20; measured again, up to 3 times, should the shared machine
// be busy), and never less than 50.
func TestRouteImpairLatency(t *testing.T) {
	p, addr := impairedENI(t)
	host, port := hostPort(t, addr)
	for _, target := range []dataplane.ImpairTarget{eniTarget, zoneTarget, clbTarget} {
		var added float64
		for try := 0; try < 3; try++ {
			impairOrFail(t, p, target, "none")
			base, _ := latenciesAt(t, host, port, 20, false, 2*time.Second)
			impairOrFail(t, p, target, "latency=50ms")
			slow, failed := latenciesAt(t, host, port, 20, false, 2*time.Second)
			if len(failed) > 0 || len(slow) != 20 {
				t.Fatalf("%s: failed %v", target, failed)
			}
			if slow[0] < 50 {
				t.Fatalf("%s: a request took %.1f ms with 50 ms latency", target, slow[0])
			}
			if added = percentile(slow, 0.5) - percentile(base, 0.5); added >= 45 && added <= 55 {
				break
			}
		}
		if added < 45 || added > 55 {
			t.Errorf("%s: 50 ms latency added %.1f ms", target, added)
		}
		impairOrFail(t, p, target, "none")
	}
}

// TestRouteImpairResetAfter: a client of the impaired ENI receives exactly N
// bytes, then a reset; the built-in client records it as a reset.
func TestRouteImpairResetAfter(t *testing.T) {
	p, addr := impairedENI(t)
	const n = 100_000
	impairOrFail(t, p, zoneTarget, "reset-after="+strconv.Itoa(n))
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /bytes?n=1000000 HTTP/1.1\r\nHost: x\r\n\r\n")
	got, err := io.Copy(io.Discard, c)
	if got != n || !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("received %d bytes, then %v; want %d, then a reset", got, err, n)
	}
	host, port := hostPort(t, addr)
	impairOrFail(t, p, zoneTarget, "reset-after=10")
	if _, failed := latenciesAt(t, host, port, 1, false, 2*time.Second); failed[KindReset] != 1 {
		t.Errorf("reset after 10 bytes: the client recorded %v, want a reset", failed)
	}
}

// TestRouteImpairStall: a stalled CLB's answers wait until the stall is
// lifted; the waiting request then completes.
func TestRouteImpairStall(t *testing.T) {
	p, addr := impairedENI(t)
	host, port := hostPort(t, addr)
	impairOrFail(t, p, clbTarget, "stall")
	if _, failed := latenciesAt(t, host, port, 1, false, 300*time.Millisecond); failed[KindTimeout] != 1 {
		t.Errorf("stalled: %v, want a timeout", failed)
	}
	go func() {
		time.Sleep(400 * time.Millisecond)
		impairOrFail(t, p, clbTarget, "none")
	}()
	lat, failed := latenciesAt(t, host, port, 1, false, 5*time.Second)
	if len(failed) > 0 || len(lat) != 1 || lat[0] < 400 {
		t.Errorf("lifted while waiting: %v failed, latencies %v ms (want one, ≥ 400)", failed, lat)
	}
}

// TestRouteImpairBandwidth: at 100 kB/s per flow, 60 kB (less one 16 kB
// burst) take at least 0.4 s, and all arrive.
func TestRouteImpairBandwidth(t *testing.T) {
	p, addr := impairedENI(t)
	impairOrFail(t, p, eniTarget, "bandwidth=100000")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	start := time.Now()
	io.WriteString(c, "GET /bytes?n=60000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	got, err := io.Copy(io.Discard, c)
	if took := time.Since(start); err != nil || got < 60_000 || took < 400*time.Millisecond {
		t.Errorf("%d bytes in %v (%v); want ≥ 60000 in ≥ 0.4 s", got, took, err)
	}
}

// TestRouteImpairLoss: a flow cannot lose bytes, so loss shows as TCP's
// retransmission delay (≥ 200 ms on some answers), never as an error.
func TestRouteImpairLoss(t *testing.T) {
	p, addr := impairedENI(t)
	host, port := hostPort(t, addr)
	impairOrFail(t, p, zoneTarget, "loss=50%")
	lat, failed := latenciesAt(t, host, port, 20, false, 2*time.Second)
	if len(failed) > 0 || len(lat) != 20 {
		t.Fatalf("failed %v", failed)
	}
	if lat[len(lat)-1] < float64(impair.RetransmitDelay/time.Millisecond) {
		t.Errorf("50%% loss: the slowest of 20 took %.1f ms, want ≥ 200 (P of no loss: 1e-6)", lat[len(lat)-1])
	}
}

// TestRouteImpairTargets: an impairment names one known target; lifting
// needs none.
func TestRouteImpairTargets(t *testing.T) {
	p, _ := impairedENI(t)
	slow := impair.Impairment{Latency: time.Millisecond}
	for _, tc := range []struct {
		target dataplane.ImpairTarget
		im     impair.Impairment
		err    string
	}{
		{dataplane.ImpairTarget{ENIID: "eni-nope"}, slow, "ENI eni-nope: not found"},
		{dataplane.ImpairTarget{EndpointID: "ep-1", ZoneID: "cn-hangzhou-i"}, slow, "zone cn-hangzhou-i of ep-1: not found"},
		{dataplane.ImpairTarget{ResourceID: "lb-b"}, slow, "CLB lb-b: not found"},
		{dataplane.ImpairTarget{ResourceID: "lb-b"}, impair.Impairment{}, ""},
		{dataplane.ImpairTarget{ResourceID: "lb-a", ENIID: "eni-1"}, slow, "one ENI, one endpoint zone or one CLB"},
		{dataplane.ImpairTarget{EndpointID: "ep-1"}, slow, "one ENI, one endpoint zone or one CLB"},
		{eniTarget, impair.Impairment{Latency: time.Millisecond, Jitter: time.Second}, "jitter must not exceed"},
	} {
		err := p.Impair(tc.target, tc.im)
		if got := fmt.Sprint(err); (tc.err == "" && err != nil) || (tc.err != "" && !containsStr(got, tc.err)) {
			t.Errorf("%+v: %v, want %q", tc.target, err, tc.err)
		}
	}
}

// TestDataplaneRestart: restarting the data plane resets its open flows,
// refuses connections while it is down, and serves again when Restart
// returns; the built-in client records the reset and the refusal.
func TestDataplaneRestart(t *testing.T) {
	p, addr := impairedENI(t)
	host, port := hostPort(t, addr)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /bytes?n=100000000 HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := io.ReadFull(c, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Restart(context.Background(), 500*time.Millisecond) }()
	if _, err := io.Copy(io.Discard, c); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the open flow ended with %v, want a reset", err)
	}
	time.Sleep(100 * time.Millisecond)
	if _, failed := latenciesAt(t, host, port, 1, false, time.Second); failed[KindRefused] != 1 {
		t.Errorf("while down: %v, want refused", failed)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lat, failed := latenciesAt(t, host, port, 5, false, 2*time.Second); len(failed) > 0 || len(lat) != 5 {
		t.Errorf("after the restart: %v failed", failed)
	}
}

// TestRouteImpairPrecedence: the most specific target's impairment acts
// (ENI, then zone, then CLB), and lifting it lets the next one act.
func TestRouteImpairPrecedence(t *testing.T) {
	p, addr := impairedENI(t)
	host, port := hostPort(t, addr)
	impairOrFail(t, p, clbTarget, "latency=300ms")
	impairOrFail(t, p, eniTarget, "bandwidth=10000000") // no delay for a small answer
	if lat, failed := latenciesAt(t, host, port, 3, false, 2*time.Second); len(failed) > 0 || lat[len(lat)-1] >= 300 {
		t.Errorf("the ENI's impairment should act, not the CLB's: %v ms, %v", lat, failed)
	}
	impairOrFail(t, p, eniTarget, "none")
	if lat, failed := latenciesAt(t, host, port, 1, false, 2*time.Second); len(failed) > 0 || lat[0] < 300 {
		t.Errorf("the CLB's impairment should act now: %v ms, %v", lat, failed)
	}
	impairOrFail(t, p, clbTarget, "none")
}
