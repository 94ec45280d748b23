package bench

import (
	"reflect"
	"testing"
	"time"
)

func TestBackendRates(t *testing.T) {
	start := time.Unix(1000, 0)
	// Ticks of 200 ms: tick 5000 is [1000.0, 1000.2) s.
	old := &WrkResult{TicksPerSecond: 5, Series: []WrkSample{
		{Backend: "A", Tick: 5000, Requests: 10},
		{Backend: "A", Tick: 5001, Requests: 20},
	}}
	fresh := &WrkResult{TicksPerSecond: 5, Series: []WrkSample{
		{Backend: "B", Tick: 5001, Requests: 1},
		{Backend: "B", Tick: 5002, Requests: 4},
		{Backend: "A", Tick: 5002, Requests: 2}, // a second client on A adds up
	}}
	got := backendRates("c", start, old, nil, fresh)
	want := []Series{
		{Chart: "c", Name: "backend A", Unit: "req/s", T: []float64{0.1, 0.3, 0.5}, V: []float64{50, 100, 10}},
		{Chart: "c", Name: "backend B", Unit: "req/s", T: []float64{0.1, 0.3, 0.5}, V: []float64{0, 5, 20}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got := backendRates("c", start); len(got) != 0 {
		t.Errorf("no results gave %+v", got)
	}
}

func TestSamplerRates(t *testing.T) {
	s := &sampler{
		t: []float64{0, 0.5, 1, 1.5, 2},
		bytes: []map[string]float64{
			{"lb-a": 0},
			{"lb-a": 6.25e6},               // 100 Mbit/s
			{"lb-a": 12.5e6, "lb-b": 0},    // 100
			{"lb-a": 12.5e6, "lb-b": 25e6}, // B at 400
			{"lb-a": 0, "lb-b": 37.5e6},    // A's counter gone: 0, not negative
		},
	}
	got := s.mbps("m")
	want := []Series{
		{Chart: "m", Name: "lb-a", Unit: "Mbit/s", T: []float64{0.5, 1, 1.5, 2}, V: []float64{100, 100, 0, 0}},
		{Chart: "m", Name: "lb-b", Unit: "Mbit/s", T: []float64{1, 1.5, 2}, V: []float64{0, 400, 200}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mbps got  %+v\nwant %+v", got, want)
	}
	// Busiest 1 s window: from 0.5 to 1.5 s, 31.25 MB → 250 Mbit/s.
	if p := s.peakMbps(1); p != 250 {
		t.Errorf("peakMbps = %v", p)
	}
}
