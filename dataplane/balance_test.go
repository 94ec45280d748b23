package dataplane

import (
	"strings"
	"testing"
)

func newPool(weights map[string]int, order ...string) *pool {
	p := &pool{}
	for _, a := range order {
		p.peers = append(p.peers, peer{addr: a, weight: weights[a]})
	}
	return p
}

func picks(p *pool, n int) string {
	var out []string
	for i := 0; i < n; i++ {
		_, pe := p.pick(0)
		out = append(out, pe.addr)
	}
	return strings.Join(out, " ")
}

func TestSmoothWeightedRoundRobin(t *testing.T) {
	tests := []struct {
		name    string
		weights map[string]int
		order   []string
		n       int
		want    string
	}{
		// nginx's own example: {5,1,1} → a a b a c a a.
		{"nginx 5 1 1", map[string]int{"a": 5, "b": 1, "c": 1}, []string{"a", "b", "c"}, 7, "a a b a c a a"},
		{"equal weights alternate", map[string]int{"a": 100, "b": 100}, []string{"a", "b"}, 4, "a b a b"},
		{"zero weight never picked", map[string]int{"a": 0, "b": 1}, []string{"a", "b"}, 3, "b b b"},
		{"all zero", map[string]int{"a": 0}, []string{"a"}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := picks(newPool(tt.weights, tt.order...), tt.n); got != tt.want {
				t.Errorf("picks = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestWeightedDistribution(t *testing.T) {
	p := newPool(map[string]int{"a": 60, "b": 30, "c": 10}, "a", "b", "c")
	count := map[string]int{}
	for i := 0; i < 1000; i++ {
		_, pe := p.pick(0)
		count[pe.addr]++
	}
	// Smooth WRR is exact over every full cycle of the total weight.
	if count["a"] != 600 || count["b"] != 300 || count["c"] != 100 {
		t.Errorf("distribution %v, want 600/300/100", count)
	}
}

func TestPickSkipsTriedAndDown(t *testing.T) {
	p := newPool(map[string]int{"a": 1, "b": 1, "c": 1}, "a", "b", "c")
	down := &checker{}
	down.state.Store(healthDown)
	p.peers[1].health = down
	for i := 0; i < 6; i++ {
		if _, pe := p.pick(0); pe.addr == "b" {
			t.Fatal("picked a down backend")
		}
	}
	idx, pe := p.pick(1 << 0) // a was tried
	if pe.addr != "c" || idx != 2 {
		t.Errorf("pick after a failed = %d %q, want c", idx, pe.addr)
	}
	if idx, _ := p.pick(1<<0 | 1<<2); idx != -1 {
		t.Errorf("pick with every healthy peer tried = %d, want -1", idx)
	}
	if !p.healthy() {
		t.Error("pool with healthy peers reported unhealthy")
	}
	p.peers[0].health, p.peers[2].health = down, down
	if p.healthy() {
		t.Error("pool with every peer down reported healthy")
	}
}
