package bench

import (
	"context"
	"fmt"
)

// eachTarget runs f for every target and repeat, targets interleaved.
func (h *harness) eachTarget(ctx context.Context, ts []target, what string, f func(t target) error) error {
	reps := h.opts.repeats()
	for rep := 0; rep < reps; rep++ {
		for _, t := range rotate(ts, rep) {
			if err := ctx.Err(); err != nil {
				return err
			}
			h.progress("%s %s, repeat %d/%d", what, t.Name, rep+1, reps)
			if err := f(t); err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
		}
	}
	return nil
}

var (
	mRPS      = metric{name: "requests/s", unit: "req/s", better: "higher", chart: true}
	mP50      = metric{name: "latency p50", unit: "ms", better: "lower"}
	mP99      = metric{name: "latency p99", unit: "ms", better: "lower", chart: true}
	mErrors   = metric{name: "errors", unit: ""}
	mLat50    = metric{name: "c1 latency p50", unit: "µs", better: "lower", chart: true}
	mLat99    = metric{name: "c1 latency p99", unit: "µs", better: "lower"}
	mAdded    = metric{name: "added latency p50", unit: "µs", better: "lower"}
	mConnRate = metric{name: "connections/s", unit: "conn/s", better: "higher", chart: true}
)

// runKeepalive: wrk -c50 over keep-alive connections.
func runKeepalive(ctx context.Context, h *harness, r *ScenarioResult) error {
	ts, err := h.targets(ctx, r)
	if err != nil {
		return err
	}
	defer r.finish(targetDirect)
	return h.eachTarget(ctx, ts, "wrk -c50", func(t target) error {
		w, err := h.runWrk(ctx, wrkRun{URL: t.url("/"), Threads: 2, Connections: 50, Duration: h.opts.duration()})
		if err != nil {
			return err
		}
		r.add(t.Name, mRPS, w.RequestsPerSec())
		r.add(t.Name, mP50, float64(w.LatencyUS.P50)/1000)
		r.add(t.Name, mP99, float64(w.LatencyUS.P99)/1000)
		r.add(t.Name, mErrors, float64(w.Errors.Total()))
		return nil
	})
}

// runLatency: one connection, one request at a time; what a proxy adds to
// each request is its p50 minus direct's p50 in the same repeat.
func runLatency(ctx context.Context, h *harness, r *ScenarioResult) error {
	ts, err := h.targets(ctx, r)
	if err != nil {
		return err
	}
	defer r.finish(targetDirect)
	reps := h.opts.repeats()
	for rep := 0; rep < reps; rep++ {
		p50 := map[string]float64{}
		for _, t := range rotate(ts, rep) {
			if err := ctx.Err(); err != nil {
				return err
			}
			h.progress("wrk -c1 %s, repeat %d/%d", t.Name, rep+1, reps)
			w, err := h.runWrk(ctx, wrkRun{URL: t.url("/"), Threads: 1, Connections: 1, Duration: h.opts.duration()})
			if err != nil {
				return fmt.Errorf("%s: %w", t.Name, err)
			}
			p50[t.Name] = float64(w.LatencyUS.P50)
			r.add(t.Name, mLat50, float64(w.LatencyUS.P50))
			r.add(t.Name, mLat99, float64(w.LatencyUS.P99))
		}
		for _, t := range ts {
			if t.Name != targetDirect {
				r.add(t.Name, mAdded, p50[t.Name]-p50[targetDirect])
			}
		}
	}
	r.note("wrk's latency histogram has 1 µs resolution; added latency is p50(target) − p50(direct) in the same repeat.")
	return nil
}

// runConnRate: every request on a new connection (Connection: close).
func runConnRate(ctx context.Context, h *harness, r *ScenarioResult) error {
	ts, err := h.targets(ctx, r)
	if err != nil {
		return err
	}
	defer r.finish(targetDirect)
	return h.eachTarget(ctx, ts, "wrk Connection: close", func(t target) error {
		w, err := h.runWrk(ctx, wrkRun{URL: t.url("/"), Threads: 2, Connections: 50, Duration: h.opts.duration(), Close: true})
		if err != nil {
			return err
		}
		r.add(t.Name, mConnRate, w.RequestsPerSec())
		r.add(t.Name, mErrors, float64(w.Errors.Total()))
		return nil
	})
}

// runBulk: iperf3 with 1 and 8 streams; eplink's cap is the lab's maximum.
func runBulk(ctx context.Context, h *harness, r *ScenarioResult) error {
	ts, err := h.targets(ctx, r)
	if err != nil {
		return err
	}
	defer r.finish(targetDirect)
	for _, streams := range []int{1, 8} {
		m := metric{name: fmt.Sprintf("throughput P%d", streams), unit: "Mbit/s", better: "higher", chart: true}
		err := h.eachTarget(ctx, ts, fmt.Sprintf("iperf3 -P%d", streams), func(t target) error {
			res, err := h.runIperf(ctx, t.Host, t.IperfPort, streams, h.opts.duration())
			if err != nil {
				return err
			}
			r.add(t.Name, m, res.ReceivedMbps())
			return nil
		})
		if err != nil {
			return err
		}
	}
	r.note("eplink's connection bandwidth is the lab's maximum (%d Mbit/s), so the cap is not what is measured.", maxMbps)
	return nil
}
