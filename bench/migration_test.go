package bench

import (
	"errors"
	"reflect"
	"strings"
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

func TestRequestsAfter(t *testing.T) {
	start := time.Unix(1000, 0)
	res := &WrkResult{TicksPerSecond: 5, Series: []WrkSample{
		{Backend: "A", Tick: 5000, Requests: 10}, // [0, 0.2)
		{Backend: "A", Tick: 5003, Requests: 3},  // [0.6, 0.8)
		{Backend: "B", Tick: 5003, Requests: 4},
		{Backend: "B", Tick: 5004, Requests: 5},
	}}
	got := requestsAfter(start, 0.5, res, nil)
	if len(got) != 2 || got["A"] != 3 || got["B"] != 9 {
		t.Errorf("requestsAfter = %v, want A:3 B:9", got)
	}
}

// TestCheckMigration: the migration scenario fails when what it charts
// breaks the mode's promise (a Force that never cuts, a Graceful that
// closes the old flows at the replace), not only when a call fails.
func TestCheckMigration(t *testing.T) {
	ok := map[string]migrationSeen{
		"Graceful": {mode: "Graceful", from: benchLBA, to: benchLBB, openedOnOld: 0, newRan: true, newRequests: 900},
		"Force":    {mode: "Force", from: benchLBB, to: benchLBA, openedOnOld: -1, afterCut: map[string]float64{"A": 700, "B": 0}},
	}
	for mode, s := range ok {
		if err := checkMigration(s); err != nil {
			t.Errorf("%s as promised: %v", mode, err)
		}
	}
	for _, tc := range []struct {
		name string
		edit func(*migrationSeen)
		mode string
		want string
	}{
		{"Force never cuts", func(s *migrationSeen) { s.cutErr = errors.New("timed out") }, "Force", "not cut"},
		{"Force leaves the old backend answering", func(s *migrationSeen) { s.afterCut["B"] = 40 }, "Force", "after the cut"},
		{"Force sends nothing to the new CLB", func(s *migrationSeen) { s.afterCut["A"] = 0 }, "Force", "answered nothing"},
		{"Graceful closes the old flows", func(s *migrationSeen) { s.openedOnOld = migrationConns }, "Graceful", "reopened"},
		{"Graceful's new ENI unanswered", func(s *migrationSeen) { s.newRequests = 0 }, "Graceful", "no answer"},
		{"Graceful's clean-up leaves flows", func(s *migrationSeen) { s.cutErr = errors.New("timed out") }, "Graceful", "not cut"},
	} {
		s := ok[tc.mode]
		s.afterCut = map[string]float64{}
		for k, v := range ok[tc.mode].afterCut {
			s.afterCut[k] = v
		}
		tc.edit(&s)
		if err := checkMigration(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
