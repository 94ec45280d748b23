package bench

import (
	"math"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", []float64{4}, Summary{N: 1, Median: 4, Min: 4, Max: 4}},
		{"odd", []float64{3, 1, 2}, Summary{N: 3, Median: 2, Min: 1, Max: 3, Spread: 1}},
		{"even", []float64{10, 40, 20, 30}, Summary{N: 4, Median: 25, Min: 10, Max: 40, Spread: 1.2}},
		{"nan ignored", []float64{math.NaN(), 5, 5}, Summary{N: 2, Median: 5, Min: 5, Max: 5}},
		{"zero median", []float64{-1, 0, 1}, Summary{N: 3, Median: 0, Min: -1, Max: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestMedianDoesNotReorder(t *testing.T) {
	in := []float64{3, 1, 2}
	if got := Median(in); got != 2 {
		t.Fatalf("Median = %v", got)
	}
	if in[0] != 3 || in[1] != 1 {
		t.Fatalf("input reordered: %v", in)
	}
	if !math.IsNaN(Median(nil)) {
		t.Fatal("Median(nil) is not NaN")
	}
}

func TestJain(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want float64
	}{
		{"equal", []float64{5, 5, 5, 5}, 1},
		{"one of four", []float64{8, 0, 0, 0}, 0.25},
		{"single", []float64{3}, 1},
		{"two to one", []float64{2, 1}, 0.9}, // 9 / (2·5)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Jain(tt.in); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Jain(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	for _, in := range [][]float64{nil, {0, 0}} {
		if !math.IsNaN(Jain(in)) {
			t.Errorf("Jain(%v) is not NaN", in)
		}
	}
}

func TestFinishRatios(t *testing.T) {
	r := &ScenarioResult{}
	rps := metric{name: "requests/s", chart: true}
	for _, v := range []float64{100, 110, 90} {
		r.add("direct", rps, v)
	}
	for _, v := range []float64{50, 60, 40} {
		r.add("eplink", rps, v)
	}
	r.add("eplink", metric{name: "errors"}, 0)
	r.add("eplink", rps, math.Inf(1)) // dropped
	r.finish("direct")
	if len(r.Rows) != 3 {
		t.Fatalf("rows = %d", len(r.Rows))
	}
	e := r.Rows[1]
	if e.Target != "eplink" || e.Median != 50 || e.Ratio != 0.5 || e.Baseline != "direct" || e.N != 3 {
		t.Fatalf("eplink row = %+v", e)
	}
	if r.Rows[2].Baseline != "" {
		t.Fatalf("a metric without a baseline row got a ratio: %+v", r.Rows[2])
	}
}
