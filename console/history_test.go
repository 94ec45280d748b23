package console

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestHistoryKeepsTheWindowAndRates: the history keeps its last n samples,
// and a counter's rate is its increase over the time between the last two
// (a counter that went down, as after a restart, counts from zero).
func TestHistoryKeepsTheWindowAndRates(t *testing.T) {
	reg := prometheus.NewRegistry()
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mFlowBytes}, []string{"endpoint_id", "zone_id", "resource_id", "direction"})
	reg.MustRegister(bytes)
	h := newHistory(3)
	t0 := time.Unix(1000, 0)
	c := bytes.WithLabelValues("ep-1", "z", "lb-1", "client_to_backend")
	for i := 0; i < 5; i++ {
		c.Add(1000)
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		h.record(t0.Add(time.Duration(i)*2*time.Second), mfs)
	}
	if len(h.times) != 3 || !h.times[0].Equal(t0.Add(4*time.Second)) {
		t.Fatalf("kept %d samples from %v, want the last 3 from %v", len(h.times), h.times[0], t0.Add(4*time.Second))
	}
	key := [4]string{"ep-1", "z", "lb-1", "client_to_backend"}
	if r := h.lastRates(mFlowBytes)[key]; r != 500 {
		t.Fatalf("rate %v B/s, want 500 (1000 B in 2 s)", r)
	}
	// A new registry: the counter starts again below its last value.
	reg2 := prometheus.NewRegistry()
	bytes2 := prometheus.NewCounterVec(prometheus.CounterOpts{Name: mFlowBytes}, []string{"endpoint_id", "zone_id", "resource_id", "direction"})
	reg2.MustRegister(bytes2)
	bytes2.WithLabelValues("ep-1", "z", "lb-1", "client_to_backend").Add(400)
	mfs, _ := reg2.Gather()
	h.record(t0.Add(10*time.Second), mfs)
	if r := h.lastRates(mFlowBytes)[key]; r != 200 {
		t.Fatalf("rate after a reset %v B/s, want 200 (400 B from zero in 2 s)", r)
	}
}
