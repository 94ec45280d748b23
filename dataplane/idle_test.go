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
