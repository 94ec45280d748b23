package bench

import (
	"context"
	"fmt"
	"time"
)

// runShaping sets the endpoint connection's cap through the API and pushes
// 1, 8 and 64 iperf3 streams through it: achieved payload rate / cap, and
// Jain's fairness index across the streams.
func runShaping(ctx context.Context, h *harness, r *ScenarioResult) error {
	e, err := h.eplink(ctx)
	if err != nil {
		return fmt.Errorf("needs eplink: %w", err)
	}
	defer r.finish("")
	defer func() {
		if err := e.setBandwidth(context.WithoutCancel(ctx), maxMbps); err != nil {
			r.note("restoring the cap failed: %v", err)
		}
	}()
	reps := h.opts.repeats()
	caps, flowCounts := []int{100, 500, 1024}, []int{1, 8, 64}
	if h.opts.Quick {
		caps, flowCounts = []int{100}, []int{1, 64}
	}
	for _, capMbps := range caps {
		if err := e.setBandwidth(ctx, capMbps); err != nil {
			return err
		}
		chart := fmt.Sprintf("shaping-%dmbps", capMbps)
		for _, flows := range flowCounts {
			name := fmt.Sprintf("%d Mbit/s × %d", capMbps, flows)
			mRate := metric{name: name + " rate/cap", unit: "", better: "higher"}
			mJain := metric{name: name + " Jain", unit: "", better: "higher"}
			mPeak := metric{name: name + " busiest second/cap", unit: "", better: "lower"}
			for rep := 0; rep < reps; rep++ {
				if err := ctx.Err(); err != nil {
					return err
				}
				h.progress("cap %d Mbit/s, %d flows, repeat %d/%d", capMbps, flows, rep+1, reps)
				// eplink's byte counters give the rate that left the shaper;
				// iperf3's own intervals are the sender's, socket buffers
				// included.
				start := time.Now()
				smp := startSampler(ctx, e, start, 250*time.Millisecond)
				res, err := h.runIperf(ctx, benchENI, benchIperfPort, flows, h.opts.shapingDuration())
				if err != nil && ctx.Err() == nil {
					// One retry: iperf3 -s serves one test at a time and may
					// still be tearing the last one down.
					r.note("%s, repeat %d: %v; retried", name, rep+1, err)
					sleepCtx(ctx, 2*time.Second)
					res, err = h.runIperf(ctx, benchENI, benchIperfPort, flows, h.opts.shapingDuration())
				}
				smp.stop()
				if err != nil {
					r.note("%s, repeat %d: %v; left out", name, rep+1, err)
					continue
				}
				r.add(targetEplink, mRate, res.ReceivedMbps()/float64(capMbps))
				if peak := smp.peakMbps(1); peak > 0 {
					r.add(targetEplink, mPeak, peak/float64(capMbps))
				}
				if flows > 1 {
					r.add(targetEplink, mJain, Jain(res.StreamMbps()))
				}
				if rep == 0 {
					s := Series{Chart: chart, Name: fmt.Sprintf("%d flows", flows), Unit: "Mbit/s"}
					for _, x := range smp.mbps("") {
						s = mergeSeries(s, x)
					}
					r.Series = append(r.Series, s)
				}
			}
		}
		r.Series = append(r.Series, Series{Chart: chart, Name: "cap", Unit: "Mbit/s",
			T: []float64{0, h.opts.shapingDuration().Seconds()}, V: []float64{float64(capMbps), float64(capMbps)}})
	}
	r.note("Rate is iperf3's received payload over the whole run (slow start included) divided by the cap; the busiest second is the highest rate over any 1 s window of eplink's flow byte counters (sampled every 250 ms, as the chart), over the cap; Jain's index is over the streams' received rates. The cap is one token bucket per endpoint connection and direction, shared by all its flows.")
	return nil
}

// mergeSeries adds y's values to x's at the same sample times (the CLBs of
// one sampler share them).
func mergeSeries(x, y Series) Series {
	if len(x.T) == 0 {
		x.T = append([]float64(nil), y.T...)
		x.V = append([]float64(nil), y.V...)
		return x
	}
	for i := range x.V {
		if i < len(y.V) {
			x.V[i] += y.V[i]
		}
	}
	return x
}
