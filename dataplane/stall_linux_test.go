//go:build linux

package dataplane

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// fill writes to c until it fails (the reader never reads).
func fill(c *net.TCPConn) {
	chunk := make([]byte, 256<<10)
	for {
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// held returns the bytes the lab's flows hold for direction dir (read from
// the source, not yet taken by a full destination), read on the loops.
func held(t *testing.T, l *lab, dir int) int {
	t.Helper()
	n := 0
	for _, lp := range l.p.loops {
		done := make(chan struct{})
		if !lp.post(func() {
			for _, f := range lp.flows {
				n += f.half[dir].inPipe + len(f.half[dir].pend)
			}
			close(done)
		}) {
			t.Fatal("loop gone")
		}
		<-done
	}
	return n
}

// TestResetWhileOtherDirectionBlocked: one peer writes megabytes the other
// never reads, so the direction carrying them waits on a full socket; then
// the writer resets. pump for that direction only ever tries to write the
// bytes it holds and never reads the source again, so the error edge must
// end the flow by itself: at once, with its ENI slot freed and the other
// peer reset, not after IdleTimeout.
func TestResetWhileOtherDirectionBlocked(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  int // the direction that fills; its source resets
	}{
		{"client resets, backend never reads", up},
		{"backend resets, client never reads", down},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resetNow := make(chan struct{})
			var once sync.Once
			release := func() { once.Do(func() { close(resetNow) }) }
			backendErr := make(chan error, 1)
			backend := serveTCP(t, func(c *net.TCPConn) {
				var one [1]byte
				if _, err := io.ReadFull(c, one[:]); err != nil {
					return // a health check
				}
				if tc.dir == up {
					<-resetNow // the client has reset: now read
					c.SetReadDeadline(time.Now().Add(3 * time.Second))
					_, err := io.Copy(io.Discard, c)
					backendErr <- err
					return
				}
				go fill(c)
				<-resetNow
				c.SetLinger(0)
				c.Close()
			})
			t.Cleanup(release) // before serveTCP's cleanup waits for the handler
			l := newLab(t, Options{IdleTimeout: time.Minute})
			w := newWorld(backend)
			l.publish(w.snap())
			c := dial(t, w.addr())
			io.WriteString(c, "x")
			if tc.dir == up {
				go fill(c)
			}
			waitFor(t, 5*time.Second, "the direction to block on a full socket", func() bool {
				return held(t, l, tc.dir) > 0
			})
			time.Sleep(50 * time.Millisecond) // let the writer fill its own buffer too
			if tc.dir == up {
				c.SetLinger(0)
				c.Close()
			} else {
				release()
			}
			e := eniOf(l, w)
			waitFor(t, 10*time.Second, "the flow to end after the reset", func() bool {
				return len(l.p.gauges().Flows) == 0 && e.n.Load() == 0
			})
			expectCountsZero(t, e, l.p.eps["ep-1"].buckets)
			var err error
			if tc.dir == up {
				release()
				select {
				case err = <-backendErr:
				case <-time.After(5 * time.Second):
					t.Fatal("backend never finished reading")
				}
			} else {
				c.SetReadDeadline(time.Now().Add(3 * time.Second))
				_, err = io.Copy(io.Discard, c)
			}
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("the other peer's read ended with %v, want a reset", err)
			}
		})
	}
}

// TestClientResetWhileDialing: a client that resets while its backend
// connect is in flight is gone; the connect is abandoned at once (the ENI
// slot freed, the dial set emptied), not finished and forwarded to nobody.
func TestClientResetWhileDialing(t *testing.T) {
	hole := blackHole(t)
	l := newLab(t, Options{Loops: 1, DialTimeout: time.Minute})
	w := newWorld(hole)
	l.publish(w.snap())
	e := eniOf(l, w)
	c := dial(t, w.addr())
	lp := l.p.loops[0]
	waitFor(t, 10*time.Second, "the connect to be in flight", func() bool {
		_, n := pendingDialTimers(t, lp)
		return n == 1
	})
	c.SetLinger(0)
	c.Close()
	waitFor(t, 10*time.Second, "the connect to be abandoned", func() bool {
		_, n := pendingDialTimers(t, lp)
		return n == 0 && e.n.Load() == 0
	})
}

// TestForceMigrationWhileDialing: a flow still connecting to the old CLB's
// backend when the zone is rebound (Force) has not forwarded a byte: it is
// decided again against the new table and goes to the new CLB at once,
// rather than finishing (or timing out on) the old CLB's backend and being
// reset for it.
func TestForceMigrationWhileDialing(t *testing.T) {
	l := newLab(t, Options{Loops: 1, DialTimeout: time.Minute})
	w := newWorld()
	w.lbs["lb-a"] = []snapshot.Backend{{Address: blackHole(t), Weight: 100}}
	w.lbs["lb-b"] = []snapshot.Backend{{Address: namedServer(t, "B"), Weight: 100}}
	l.publish(w.snap())
	got := make(chan string, 1)
	go func() {
		name, c, err := hello(w.addr())
		if err != nil {
			got <- err.Error()
			return
		}
		c.Close()
		got <- name
	}()
	lp := l.p.loops[0]
	waitFor(t, 10*time.Second, "the connect to lb-a to be in flight", func() bool {
		_, n := pendingDialTimers(t, lp)
		return n == 1
	})
	w.resourceID = "lb-b" // Force: the same ENI, rebound
	l.publish(w.snap())
	if name := <-got; name != "B" {
		t.Fatalf("flow dialing when the zone moved to lb-b: %q, want B", name)
	}
	refused := value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", metrics.ReasonDialFailed))
	if refused != 0 {
		t.Errorf("dial_failed = %v, want 0", refused)
	}
}

// TestEstablishedRechecksRoute: apply stores a new route table before it
// looks for flows to close, and a flow whose connect completes in between
// was dialed under the old one. established() must check the newest table
// itself: here the connection was disconnected meanwhile, so the flow is
// refused (not_connected) instead of starting to forward. The table is
// swapped by hand and the connect's completion delivered by hand, so that
// nothing else (apply's scan, recheckDialing) gets there first.
func TestEstablishedRechecksRoute(t *testing.T) {
	l := newLab(t, Options{Loops: 1, DialTimeout: time.Minute})
	w := newWorld(blackHole(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	lp := l.p.loops[0]
	waitFor(t, 10*time.Second, "the connect to be in flight", func() bool {
		_, n := pendingDialTimers(t, lp)
		return n == 1
	})
	old := l.p.routes.Load()
	addr := netip.AddrPortFrom(w.eni, testPort)
	gone := *old.routes[addr]
	gone.connected = false
	l.p.routes.Store(&routeTable{routes: map[netip.AddrPort]*route{addr: &gone}, lbs: old.lbs, zones: old.zones})
	done := make(chan struct{})
	lp.post(func() {
		defer close(done)
		for _, f := range lp.flows {
			if f.state == flowDialing {
				lp.established(f)
			}
		}
	})
	<-done
	expectReset(t, c)
	if got := value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", metrics.ReasonNotConnected)); got != 1 {
		t.Errorf("not_connected refusals = %v, want 1", got)
	}
	expectCountsZero(t, eniOf(l, w), l.p.eps["ep-1"].buckets)
	l.p.routes.Store(old)
}
