package dataplane

import (
	"testing"
	"time"
)

func TestIdleTimeout(t *testing.T) { onEachFrontEnd(t, testIdleTimeout) }

func testIdleTimeout(t *testing.T, fe frontEnd) {
	l := newLabOn(t, fe, Options{IdleTimeout: 300 * time.Millisecond})
	w := newWorld(echoServer(t))
	l.publish(w.snap())

	// A flow that talks every 100 ms outlives the timeout several times.
	busy := dial(t, w.addr())
	idle := dial(t, w.addr())
	if _, err := roundTrip(idle, "x"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for time.Since(start) < time.Second {
		if got, err := roundTrip(busy, "ping"); err != nil || got != "ping" {
			t.Fatalf("busy flow after %v: %q, %v", time.Since(start), got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The silent one was reset.
	expectReset(t, idle)
	waitFor(t, time.Second, "one active flow", func() bool {
		n := 0
		for _, f := range l.p.gauges().Flows {
			n += f.Active
		}
		return n == 1
	})
}

// TestIdleCutTime: the sweep runs every eighth of the timeout, so a silent
// flow is cut between 1 and 1⅛ timeouts after its last byte. The lower
// bound is exact (the loop's clock never runs ahead of the wall's); the
// upper one allows a busy machine's late timers plenty of slack (3
// timeouts), and still fails a sweep that lets flows live far longer.
func TestIdleCutTime(t *testing.T) {
	const idle = time.Second
	l := newLab(t, Options{IdleTimeout: idle})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	c := dial(t, w.addr())
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	last := time.Now() // the echo's byte went through the proxy before this
	c.SetReadDeadline(last.Add(10 * time.Second))
	_, err := c.Read(make([]byte, 1))
	cut := time.Since(last)
	if !isReset(err) {
		t.Fatalf("idle flow: %v, want a reset", err)
	}
	t.Logf("cut %v after the last byte (timeout %v)", cut, idle)
	if cut < idle {
		t.Errorf("cut after %v, before the %v timeout", cut, idle)
	}
	if limit := 3 * idle; cut > limit {
		t.Errorf("cut after %v, want within 1⅛ timeouts (%v; allowing %v)", cut, idle+idle/8, limit)
	}
}

// TestIdleLoopSleeps: a loop without flows sets no timer, so it sleeps in
// epoll_wait until an event; its first flow arms the sweep, which keeps
// the flow's idle timeout, and the sweep after the last flow ends is the
// loop's last wake-up.
func TestIdleLoopSleeps(t *testing.T) {
	l := newLab(t, Options{Loops: 1, IdleTimeout: 400 * time.Millisecond, DialTimeout: 500 * time.Millisecond})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	lp := l.p.loops[0]
	// timers counts the loop's timers, and its sweeps among them.
	timers := func() (all, sweeps int) {
		n := make(chan [2]int, 1)
		lp.post(func() {
			var c [2]int
			for _, tm := range lp.timers {
				c[0]++
				if tm.kind == timerSweep {
					c[1]++
				}
			}
			n <- c
		})
		c := <-n
		return c[0], c[1]
	}
	if all, _ := timers(); all != 0 {
		t.Fatalf("a loop without flows has %d timers", all)
	}
	c := dial(t, w.addr())
	if _, err := roundTrip(c, "x"); err != nil {
		t.Fatal(err)
	}
	if _, sweeps := timers(); sweeps != 1 {
		t.Fatalf("a loop with a flow has %d sweeps set, want one", sweeps)
	}
	expectReset(t, c) // the idle timeout still cuts it
	// The sweep after the flow is gone, and the dial's timer, are the
	// last.
	waitFor(t, 5*time.Second, "the loop's timers gone", func() bool { all, _ := timers(); return all == 0 })
}
