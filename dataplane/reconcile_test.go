package dataplane

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// TestSecurityGroupChangeClosesFlows: a rule that now drops the client's
// address resets its established flow too.
func TestSecurityGroupChangeClosesFlows(t *testing.T) {
	onEachFrontEnd(t, testSecurityGroupChangeClosesFlows)
}

func testSecurityGroupChangeClosesFlows(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	if _, err := roundTrip(c, "hi"); err != nil {
		t.Fatal(err)
	}
	w.rules = append(w.rules, rule("tcp", "127.0.0.1/32", 1, 65535, false, 1))
	l.publish(w.snap())
	expectReset(t, c)
}

// TestBindErrorSurfacedAndRetried: a listener that cannot bind is reported
// by Errors and counted, and is retried with the next snapshot.
func TestBindErrorSurfacedAndRetried(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	// Someone else holds the ENI address:port.
	squatter, err := net.Listen("tcp", w.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	l.publish(w.snap())
	errs := l.p.Errors()
	var be *BindError
	if len(errs) != 1 || !errors.As(errs[0], &be) || be.Addr != netip.MustParseAddrPort(w.addr()) ||
		be.EndpointID != "ep-1" || !errors.Is(errs[0], syscall.EADDRINUSE) {
		t.Fatalf("Errors() = %v", errs)
	}
	if v := value(l.m.BindErrors.WithLabelValues("ep-1", "cn-hangzhou-h")); v != 1 {
		t.Errorf("bind errors counted %v, want 1", v)
	}
	if l.p.Serves(w.eni) || !errors.Is(l.p.ENIError(w.eni), syscall.EADDRINUSE) {
		t.Errorf("Serves(%s) = %v, ENIError = %v; want not served, EADDRINUSE", w.eni, l.p.Serves(w.eni), l.p.ENIError(w.eni))
	}
	if other := freshIP(); !l.p.Serves(other) || l.p.ENIError(other) != nil {
		t.Errorf("an address without a route is reported unserved")
	}
	squatter.Close()
	l.publish(w.snap())
	if errs := l.p.Errors(); len(errs) != 0 {
		t.Fatalf("Errors() after retry = %v", errs)
	}
	if !l.p.Serves(w.eni) || l.p.ENIError(w.eni) != nil {
		t.Errorf("after retry: Serves = false, ENIError = %v", l.p.ENIError(w.eni))
	}
	if got, err := roundTrip(dial(t, w.addr()), "ok"); err != nil || got != "ok" {
		t.Fatalf("after retry: %q, %v", got, err)
	}
}

// TestBindRetriedWithoutSnapshot: when the process holding an ENI address
// goes, the listener opens by itself, with no change published, and the
// retries are not counted as new bind errors.
func TestBindRetriedWithoutSnapshot(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	squatter, err := net.Listen("tcp", w.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer squatter.Close()
	l.publish(w.snap())
	if l.p.Serves(w.eni) {
		t.Fatal("served while another socket holds the address")
	}
	time.Sleep(bindRetry + bindRetry/2) // one retry fails
	if l.p.Serves(w.eni) {
		t.Fatal("served while another socket holds the address")
	}
	squatter.Close()
	waitFor(t, 10*bindRetry, "the listener to open", func() bool { return l.p.Serves(w.eni) })
	if errs := l.p.Errors(); len(errs) != 0 {
		t.Fatalf("Errors() = %v", errs)
	}
	if got, err := roundTrip(dial(t, w.addr()), "ok"); err != nil || got != "ok" {
		t.Fatalf("after the retry: %q, %v", got, err)
	}
	if v := value(l.m.BindErrors.WithLabelValues("ep-1", "cn-hangzhou-h")); v != 1 {
		t.Errorf("bind errors counted %v, want 1 (retries are not new errors)", v)
	}
}

// TestWeightsEndToEnd: backends weighted 3:1 get new flows 3:1.
func TestWeightsEndToEnd(t *testing.T) { onEachFrontEnd(t, testWeightsEndToEnd) }

func testWeightsEndToEnd(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld()
	w.lbs["lb-a"] = []snapshot.Backend{
		{Address: namedServer(t, "A"), Weight: 75},
		{Address: namedServer(t, "B"), Weight: 25},
	}
	l.publish(w.snap())
	count := map[string]int{}
	for i := 0; i < 8; i++ {
		name, c, err := hello(w.addr())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		count[name]++
	}
	if count["A"] != 6 || count["B"] != 2 {
		t.Errorf("flows per backend %v, want A:6 B:2", count)
	}
}

// TestPortsFollowTheCLB: listeners are opened and closed as the CLB's
// listener ports change, without touching the other ports.
func TestPortsFollowTheCLB(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	s := w.snap()
	lb := s.LoadBalancers["lb-a"]
	lb.Listeners = append(lb.Listeners, snapshot.Listener{Port: testPort + 1, Backends: lb.Listeners[0].Backends})
	l.publish(s)
	second := netip.AddrPortFrom(w.eni, testPort+1).String()
	kept := dial(t, w.addr())
	if _, err := roundTrip(dial(t, second), "x"); err != nil {
		t.Fatal(err)
	}
	l.publish(w.snap()) // back to one port
	if c, err := net.Dial("tcp", second); err == nil {
		c.Close()
		t.Error("removed port still listening")
	}
	if got, err := roundTrip(kept, "still here"); err != nil || got != "still here" {
		t.Errorf("flow on the kept port: %q, %v", got, err)
	}
}

// TestCLBSwitchOver: a CLB moving to its backup zone cuts the flows on it,
// as a CLB switch-over does, and takes new ones at once; a CLB no zone can
// carry refuses new flows (no_resource) and is not healthy for DNS; back in
// its primary zone it works again.
func TestCLBSwitchOver(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	if _, err := roundTrip(c, "hi"); err != nil {
		t.Fatal(err)
	}

	w.clbActive["lb-a"] = "cn-hangzhou-i"
	l.publish(w.snap())
	expectReset(t, c)
	if got, err := roundTrip(dial(t, w.addr()), "after"); err != nil || got != "after" {
		t.Fatalf("new flow on the backup zone: %q, %v", got, err)
	}
	if !l.p.Healthy("lb-a") {
		t.Error("a switched-over CLB is not healthy")
	}

	w.clbDown["lb-a"], w.clbActive["lb-a"] = true, ""
	l.publish(w.snap())
	dialExpectReset(t, w.addr())
	if v := value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", metrics.ReasonNoResource)); v != 1 {
		t.Errorf("no_resource refusals = %v, want 1", v)
	}
	if l.p.Healthy("lb-a") {
		t.Error("an unavailable CLB is healthy")
	}

	delete(w.clbDown, "lb-a")
	l.publish(w.snap())
	if got, err := roundTrip(dial(t, w.addr()), "back"); err != nil || got != "back" {
		t.Fatalf("new flow back in the primary zone: %q, %v", got, err)
	}
}
