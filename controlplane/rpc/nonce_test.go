package rpc

import (
	"fmt"
	"testing"
	"time"
)

func TestNonceTableExpiry(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tab := newNonceTable(15*time.Minute, 1000)
	steps := []struct {
		now, ts time.Duration // offsets from t0
		ak, n   string
		want    nonceResult
	}{
		{0, 0, "a", "n1", nonceFresh},
		{time.Second, 0, "a", "n1", nonceUsed},
		{time.Second, 0, "b", "n1", nonceFresh}, // per AccessKey
		{10 * time.Minute, 0, "a", "n1", nonceUsed},
		// The same nonce with another timestamp is still a reuse.
		{10 * time.Minute, 10 * time.Minute, "a", "n1", nonceUsed},
		// A future-stamped request is remembered until its own stamp expires.
		{10 * time.Minute, 20 * time.Minute, "a", "n2", nonceFresh},
		// n1 (stamped t0) can no longer be replayed past t0+15m: forgotten.
		{16 * time.Minute, 10 * time.Minute, "a", "n1", nonceFresh},
		{34 * time.Minute, 30 * time.Minute, "a", "n2", nonceUsed},
		{36 * time.Minute, 30 * time.Minute, "a", "n2", nonceFresh},
	}
	for i, s := range steps {
		if got := tab.use(t0.Add(s.now), t0.Add(s.ts), s.ak, s.n); got != s.want {
			t.Errorf("step %d (%+v): got %v, want %v", i, s, got, s.want)
		}
	}
}

func TestNonceTableBounded(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	tab := newNonceTable(15*time.Minute, 100)
	for i := range 100 {
		if got := tab.use(t0, t0, "a", fmt.Sprint(i)); got != nonceFresh {
			t.Fatalf("%d: %v", i, got)
		}
	}
	if got := tab.use(t0, t0, "a", "more"); got != nonceFull {
		t.Fatalf("over the cap: %v", got)
	}
	// Once the window has passed, the whole lot is swept and room is back.
	later := t0.Add(17 * time.Minute)
	if got := tab.use(later, later, "a", "more"); got != nonceFresh {
		t.Fatalf("after expiry: %v", got)
	}
	if n := tab.len(); n != 1 {
		t.Fatalf("%d entries held after the sweep, want 1", n)
	}
}
