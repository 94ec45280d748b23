package dataplane

import (
	"net"
	"testing"
	"time"

	"eplink/controlplane/snapshot"
)

// TestHealthFallAndRise: a backend that stops accepting goes down after
// `fall` failed checks and gets no new flows; it comes back after `rise`.
func TestHealthFallAndRise(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	l := newLab(t, Options{})
	w := newWorld(addr)
	w.health = snapshot.HealthCheck{Interval: 20 * time.Millisecond, Timeout: 50 * time.Millisecond, Rise: 2, Fall: 3}
	l.publish(w.snap())
	up := func() bool { return l.p.Healthy("lb-a") }
	backendUp := func() float64 {
		for _, b := range l.p.gauges().Backends {
			if b.Backend == addr && b.Up {
				return 1
			}
		}
		return 0
	}

	// Unknown counts as healthy until fall checks failed.
	waitFor(t, 3*time.Second, "backend down", func() bool { return !up() })
	if backendUp() != 0 {
		t.Error("backend_up still 1")
	}
	dialExpectReset(t, w.addr())
	counter := l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", "no_healthy_backend")
	waitFor(t, time.Second, "no_healthy_backend counted", func() bool { return value(counter) == 1 })

	// Rise: the backend comes back on the same address.
	ln, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	waitFor(t, 3*time.Second, "backend up", up)
	if backendUp() != 1 {
		t.Error("backend_up still 0")
	}
}

func TestCheckerRiseFall(t *testing.T) {
	c := &checker{cfg: healthSettings(snapshot.HealthCheck{Rise: 2, Fall: 3})}
	steps := []struct {
		ok   bool
		want int32
		up   bool
	}{
		{false, healthUnknown, true}, // unknown counts as up
		{false, healthUnknown, true},
		{true, healthUnknown, true}, // a success resets the failures
		{false, healthUnknown, true},
		{false, healthUnknown, true},
		{false, healthDown, false}, // third failure in a row
		{true, healthDown, false},
		{true, healthUp, true}, // second success in a row
		{false, healthUp, true},
		{true, healthUp, true},
	}
	for i, s := range steps {
		c.observe(s.ok)
		if got := c.state.Load(); got != s.want || c.up() != s.up {
			t.Fatalf("step %d (ok=%v): state %d up=%v, want %d up=%v", i, s.ok, got, c.up(), s.want, s.up)
		}
	}
}
