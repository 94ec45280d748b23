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

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// expectReset reads from c and wants the RST the proxy sends on refusal.
func expectReset(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	_, err := c.Read(make([]byte, 1))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read after refusal: %v, want connection reset", err)
	}
}

// dialExpectReset connects and wants a reset, which may already be there
// when connect(2) returns.
func dialExpectReset(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if errors.Is(err, syscall.ECONNRESET) {
		return
	}
	if err != nil {
		t.Fatalf("dial %s: %v, want a reset", addr, err)
	}
	defer c.Close()
	expectReset(t, c)
}

func TestRefusals(t *testing.T) { onEachFrontEnd(t, testRefusals) }

func testRefusals(t *testing.T, fe frontEnd) {
	tests := []struct {
		reason string
		opts   Options
		// setup returns the world to publish last; first, if set, is
		// published before it.
		setup func(t *testing.T) (first, last *world)
		// hold, if set, opens connections that must stay up.
		hold int
	}{
		{reason: metrics.ReasonSGDenied, setup: func(t *testing.T) (*world, *world) {
			w := newWorld(echoServer(t))
			w.rules = []snapshot.Rule{
				{Protocol: "tcp", PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("127.0.0.0/8"), Accept: false, Priority: 5},
				{Protocol: "tcp", PortFrom: 1, PortTo: 65535, SourceCIDR: netip.MustParsePrefix("0.0.0.0/0"), Accept: true, Priority: 10},
			}
			return nil, w
		}},
		{reason: metrics.ReasonNotConnected, setup: func(t *testing.T) (*world, *world) {
			w := newWorld(echoServer(t))
			w.connStatus = "Disconnected"
			return nil, w
		}},
		{reason: metrics.ReasonNotConnected + "/zone", setup: func(t *testing.T) (*world, *world) {
			w := newWorld(echoServer(t))
			w.zoneStatus = snapshot.ZoneDisconnected
			return nil, w
		}},
		{reason: metrics.ReasonNoResource, setup: func(t *testing.T) (*world, *world) {
			// The CLB is removed while the ENI stays: the ENI keeps its
			// ports and resets clients instead of leaving it to the kernel.
			w := newWorld(echoServer(t))
			w2 := *w
			w2.lbs = map[string][]snapshot.Backend{}
			return w, &w2
		}},
		{reason: metrics.ReasonNoHealthyBackend, setup: func(t *testing.T) (*world, *world) {
			w := newWorld(echoServer(t))
			w.lbs["lb-a"][0].Weight = 0
			return nil, w
		}},
		{reason: metrics.ReasonDialFailed, opts: Options{DialTimeout: time.Second}, setup: func(t *testing.T) (*world, *world) {
			return nil, newWorld(closedPort(t), closedPort(t))
		}},
		{reason: metrics.ReasonLimit, opts: Options{MaxFlowsPerENI: 2}, hold: 2, setup: func(t *testing.T) (*world, *world) {
			return nil, newWorld(echoServer(t))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.reason, func(t *testing.T) {
			l := newLabOn(t, fe, tt.opts)
			first, last := tt.setup(t)
			if first != nil {
				l.publish(first.snap())
			}
			l.publish(last.snap())
			for i := 0; i < tt.hold; i++ {
				c := dial(t, last.addr())
				if got, err := roundTrip(c, "x"); err != nil || got != "x" {
					t.Fatalf("held flow %d: %q, %v", i, got, err)
				}
			}
			dialExpectReset(t, last.addr())
			reason := tt.reason
			if i := len(metrics.ReasonNotConnected); len(reason) > i && reason[:i] == metrics.ReasonNotConnected {
				reason = metrics.ReasonNotConnected
			}
			counter := l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", reason)
			waitFor(t, 2*time.Second, "refusal counter", func() bool { return value(counter) == 1 })
			if n := series(t, l.reg, "eplink_dataplane_flows_refused_total"); n != 1 {
				t.Errorf("%d refusal series, want only %s", n, reason)
			}
		})
	}
}

// An ENI that is gone resets its flows and has no listener at all.
func TestRemovedENIClosesFlows(t *testing.T) { onEachFrontEnd(t, testRemovedENIClosesFlows) }

func testRemovedENIClosesFlows(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	if _, err := roundTrip(c, "hi"); err != nil {
		t.Fatal(err)
	}
	s := w.snap()
	s.Endpoints["ep-1"].Zones = nil
	l.publish(s)
	expectReset(t, c)
	if _, err := net.DialTimeout("tcp", w.addr(), time.Second); err == nil {
		t.Errorf("dial to a removed ENI succeeded")
	}
}

func TestDisconnectClosesFlows(t *testing.T) { onEachFrontEnd(t, testDisconnectClosesFlows) }

func testDisconnectClosesFlows(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	if _, err := roundTrip(c, "hi"); err != nil {
		t.Fatal(err)
	}
	w.connStatus = "Disconnecting"
	l.publish(w.snap())
	expectReset(t, c)
	dialExpectReset(t, w.addr())
}
