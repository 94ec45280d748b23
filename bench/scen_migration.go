package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

const (
	metricFlowsActive = "eplink_dataplane_flows_active"
	metricFlowsTotal  = "eplink_dataplane_flows_total"
	metricFlowBytes   = "eplink_dataplane_flow_bytes_total"
)

// migrationConns is the first wrk's connections: the flows on the old CLB.
const migrationConns = 8

// runMigration replaces the zone's CLB while wrk runs: Graceful (old flows
// stay on A until the provider cleans the replaced resource; a client that
// re-resolves goes to B), then Force (flows on the old CLB are cut at once
// and reconnect to the new one).
func runMigration(ctx context.Context, h *harness, r *ScenarioResult) error {
	// Migration changes ENI addresses: it gets an eplink of its own, and
	// later scenarios a fresh one again.
	h.dropEplink()
	e, err := h.startEplink(ctx)
	if err != nil {
		return fmt.Errorf("needs eplink: %w", err)
	}
	defer e.stop()
	defer r.finish("")
	z, err := e.zone()
	if err != nil {
		return err
	}
	from, to := z.ResourceId, benchLBB
	if from == benchLBB {
		to = benchLBA
	}
	total := max(6*time.Second, 3*h.opts.duration())
	if h.opts.Quick {
		total = 3 * time.Second
	}
	r.note("Graceful: the first wrk keeps the old ENI address (a client that caches DNS); once the replaced resource is cleaned, that address is gone and its reconnects fail (wrk counts refused connects as connect or read errors). Force: the ENI keeps its address, flows on the old CLB are reset and wrk reconnects to the new one.")
	r.note("Time to cut runs from the API call (its own latency included) until eplink_dataplane_flows_active of the old CLB reads 0, polled every 20 ms; req/s per backend comes from wrk (X-Backend header, 200 ms ticks), Mbit/s per CLB from eplink_dataplane_flow_bytes_total every 200 ms.")
	if err := h.migrate(ctx, e, r, "Graceful", z.EniIp, from, to, total); err != nil {
		return err
	}
	z, err = e.zone()
	if err != nil {
		return err
	}
	return h.migrate(ctx, e, r, "Force", z.EniIp, z.ResourceId, from, total)
}

// migrate runs one migration under load and records what the load
// generator and eplink's metrics saw.
func (h *harness) migrate(ctx context.Context, e *eplinkInst, r *ScenarioResult, mode, eni, from, to string, total time.Duration) error {
	chart := "migration-" + strings.ToLower(mode)
	seen := migrationSeen{mode: mode, from: from, to: to, openedOnOld: -1}
	start := time.Now()
	at := func() float64 { return time.Since(start).Seconds() }
	sampler := startSampler(ctx, e, start, 200*time.Millisecond)
	defer sampler.stop()

	h.progress("%s: wrk on %s (CLB %s) for %v", mode, eni, from, total)
	w1 := h.wrkAsync(ctx, wrkRun{URL: fmt.Sprintf("http://%s/blob", hostPort(eni, benchHTTPPort)),
		Threads: 2, Connections: migrationConns, Duration: total, Series: true})
	var w2 *wrkJob
	defer func() {
		w1.wait()
		if w2 != nil {
			w2.wait()
		}
	}()
	if !sleepCtx(ctx, total*3/10) {
		return ctx.Err()
	}
	onOld := e.activeFlows(ctx, from)
	openedBefore := e.flowsOpened(ctx, from)
	callAt, cutStart := at(), time.Now()
	h.progress("%s: replacing %s with %s", mode, from, to)
	if err := e.replaceResource(mode, to); err != nil {
		return err
	}
	r.Events = append(r.Events, Event{Chart: chart + "-rps", T: callAt, Label: mode + " replace"},
		Event{Chart: chart + "-mbps", T: callAt, Label: mode + " replace"})
	if mode == "Graceful" {
		var err error
		if w2, err = h.graceful(ctx, e, r, chart, eni, to, start, total); err != nil {
			return err
		}
		onOld = e.activeFlows(ctx, from)
		if before, after := openedBefore, e.flowsOpened(ctx, from); before >= 0 && after >= 0 {
			seen.openedOnOld = after - before
		}
		cutFrom := at()
		cutStart = time.Now()
		h.progress("%s: cleaning the replaced resource %s", mode, from)
		if err := e.cleanReplaced(); err != nil {
			return err
		}
		r.Events = append(r.Events, Event{Chart: chart + "-rps", T: cutFrom, Label: "old CLB cleaned"},
			Event{Chart: chart + "-mbps", T: cutFrom, Label: "old CLB cleaned"})
	}
	cutErr := e.waitNoFlows(ctx, from, 10*time.Second)
	cut := time.Since(cutStart)
	r1, err1 := w1.wait()
	var r2 *WrkResult
	var err2 error
	if w2 != nil {
		r2, err2 = w2.wait()
	}
	sampler.stop()

	m := func(name, unit string) metric { return metric{name: mode + ": " + name, unit: unit} }
	if onOld >= 0 {
		r.add(targetEplink, m("flows on the old CLB when cut", "flows"), float64(onOld))
	}
	if cutErr != nil {
		r.note("%s: flows on %s did not reach 0: %v", mode, from, cutErr)
	} else {
		r.add(targetEplink, m("time to cut", "ms"), float64(cut.Microseconds())/1000)
	}
	if err1 != nil {
		return fmt.Errorf("%s wrk: %w", mode, err1)
	}
	addWrkErrors(r, mode+": client on the old address", r1)
	if r2 != nil {
		addWrkErrors(r, mode+": client on the new address", r2)
	} else if err2 != nil {
		r.note("%s: second wrk: %v", mode, err2)
	}
	// Requests/s per backend (from wrk) and Mbit/s per CLB (from eplink).
	rates := backendRates(chart+"-rps", start, r1, r2)
	r.Series = append(r.Series, rates...)
	r.Series = append(r.Series, sampler.mbps(chart+"-mbps")...)
	// What the charts show must be what the mode promises.
	seen.cutErr = cutErr
	seen.afterCut = requestsAfter(start, (cutStart.Sub(start)+cut).Seconds()+0.5, r1, r2)
	if r2 != nil {
		seen.newRan, seen.newRequests = true, float64(r2.Requests)
	}
	return checkMigration(seen)
}

// migrationSeen is what one migration under load observed.
type migrationSeen struct {
	mode, from, to string // from, to: CLB ids
	cutErr         error  // flows on the old CLB did not reach 0
	// openedOnOld is the flows opened on the old CLB between the Graceful
	// replace and the clean-up (flows_total), -1 if unknown.
	openedOnOld float64
	// afterCut is the requests each backend answered in wrk's ticks from
	// half a second after the old CLB's flows reached 0.
	afterCut    map[string]float64
	newRan      bool // a re-resolving client ran on the new ENI (Graceful)
	newRequests float64
}

// checkMigration says how a migration broke its mode's promise, if it did.
// Graceful: the old flows stay on the old CLB until the replaced resource
// is cleaned (wrk, whose keep-alive connections nginx never closes, would
// otherwise reconnect to the old ENI: as many new flows there as it has
// connections), a client that re-resolves is served by the new CLB, and
// the clean-up closes what is left. Force: the old CLB's flows are cut at
// once, and from then on only the new CLB answers.
func checkMigration(s migrationSeen) error {
	if s.cutErr != nil {
		return fmt.Errorf("%s: the flows on the old CLB %s were not cut: %w", s.mode, s.from, s.cutErr)
	}
	switch s.mode {
	case "Graceful":
		if s.openedOnOld >= migrationConns {
			return fmt.Errorf("Graceful: %.0f flows reopened on the old CLB %s before its clean-up: the replace closed its flows", s.openedOnOld, s.from)
		}
		if s.newRan && s.newRequests == 0 {
			return fmt.Errorf("Graceful: the client on the new ENI got no answer from %s", s.to)
		}
	case "Force":
		if n := s.afterCut[backendName(s.from)]; n > 0 {
			return fmt.Errorf("Force: backend %s of the old CLB %s answered %.0f requests after the cut", backendName(s.from), s.from, n)
		}
		if s.afterCut[backendName(s.to)] == 0 {
			return fmt.Errorf("Force: the new CLB %s answered nothing after the cut", s.to)
		}
	}
	return nil
}

// requestsAfter sums the requests each backend answered in wrk's ticks
// that begin more than t seconds after start.
func requestsAfter(start time.Time, t float64, results ...*WrkResult) map[string]float64 {
	out := map[string]float64{}
	for _, res := range results {
		if res == nil || res.TicksPerSecond <= 0 {
			continue
		}
		tps := float64(res.TicksPerSecond)
		for _, s := range res.Series {
			if float64(s.Tick)/tps-float64(start.UnixNano())/1e9 > t {
				out[s.Backend] += float64(s.Requests)
			}
		}
	}
	return out
}

// backendName is the name of the backend behind a bench CLB (X-Backend).
func backendName(id string) string {
	switch id {
	case benchLBA:
		return "A"
	case benchLBB:
		return "B"
	}
	return id
}

// flowsOpened is eplink's count of flows opened on a CLB so far, or -1
// when the metric cannot be read.
func (e *eplinkInst) flowsOpened(ctx context.Context, resource string) float64 {
	ss, err := e.metrics(ctx)
	if err != nil {
		return -1
	}
	return sumMetric(ss, metricFlowsTotal, "resource_id", nil)[resource]
}

// backendRates turns wrk's per-tick, per-backend counts into one req/s
// series per backend, in seconds since start. Every tick any backend
// answered in is on every series: a backend silent in a tick (cut off, not
// yet reached) shows as 0 there rather than as a gap.
func backendRates(chart string, start time.Time, results ...*WrkResult) []Series {
	type key struct {
		backend string
		t       float64
	}
	rate := map[key]float64{}
	var backends []string
	var ticks []float64
	for _, res := range results {
		if res == nil {
			continue
		}
		tps := float64(res.TicksPerSecond)
		for _, s := range res.Series {
			// The middle of the tick, rounded so that ticks of two wrk
			// runs land on the same key.
			t := (float64(s.Tick)+0.5)/tps - float64(start.UnixNano())/1e9
			t = math.Round(t*1000) / 1000
			if !slices.Contains(backends, s.Backend) {
				backends = append(backends, s.Backend)
			}
			if !slices.Contains(ticks, t) {
				ticks = append(ticks, t)
			}
			rate[key{s.Backend, t}] += float64(s.Requests) * tps
		}
	}
	sort.Strings(backends)
	sort.Float64s(ticks)
	out := make([]Series, 0, len(backends))
	for _, b := range backends {
		s := Series{Chart: chart, Name: "backend " + b, Unit: "req/s"}
		for _, t := range ticks {
			s.T = append(s.T, t)
			s.V = append(s.V, rate[key{b, t}])
		}
		out = append(out, s)
	}
	return out
}

// graceful follows a Graceful replace: it starts a second wrk on the new
// ENI (a client that re-resolves the zone domain) and waits until it is
// time to clean the replaced resource.
func (h *harness) graceful(ctx context.Context, e *eplinkInst, r *ScenarioResult, chart, eni, to string, start time.Time, total time.Duration) (*wrkJob, error) {
	var newENI string
	var w2 *wrkJob
	err := poll(ctx, 5*time.Second, func() (bool, error) {
		z, err := e.zone()
		if err != nil {
			return false, err
		}
		newENI = z.EniIp
		return z.EniIp != "" && z.EniIp != eni, nil
	})
	if err != nil {
		r.note("Graceful: the zone kept ENI %s (%v); no re-resolving client started", eni, err)
	} else {
		rest := total - time.Since(start)
		r.note("Graceful: new ENI %s on %s; a second wrk (a client that re-resolves the zone domain) runs there for %v.", newENI, to, rest.Round(time.Second))
		w2 = h.wrkAsync(ctx, wrkRun{URL: fmt.Sprintf("http://%s/blob", hostPort(newENI, benchHTTPPort)),
			Threads: 1, Connections: 4, Duration: rest, Series: true})
	}
	if !sleepCtx(ctx, time.Until(start.Add(total*65/100))) {
		return w2, ctx.Err()
	}
	return w2, nil
}

func addWrkErrors(r *ScenarioResult, who string, w *WrkResult) {
	r.add(targetEplink, metric{name: who + " requests", unit: "req"}, float64(w.Requests))
	r.add(targetEplink, metric{name: who + " connect errors", unit: ""}, float64(w.Errors.Connect))
	r.add(targetEplink, metric{name: who + " read/write errors", unit: ""}, float64(w.Errors.Read+w.Errors.Write))
	r.add(targetEplink, metric{name: who + " timeouts", unit: ""}, float64(w.Errors.Timeout))
	r.add(targetEplink, metric{name: who + " bad status", unit: ""}, float64(w.Errors.Status))
}

// activeFlows is eplink's count of flows on a CLB, or -1 when the metric
// cannot be read.
func (e *eplinkInst) activeFlows(ctx context.Context, resource string) int {
	ss, err := e.metrics(ctx)
	if err != nil {
		return -1
	}
	return int(sumMetric(ss, metricFlowsActive, "resource_id", nil)[resource])
}

// waitNoFlows polls until no flow is left on resource.
func (e *eplinkInst) waitNoFlows(ctx context.Context, resource string, timeout time.Duration) error {
	return poll(ctx, timeout, func() (bool, error) {
		ss, err := e.metrics(ctx)
		if err != nil {
			return false, err
		}
		return sumMetric(ss, metricFlowsActive, "resource_id", nil)[resource] == 0, nil
	})
}

// wrkJob is a wrk run in the background.
type wrkJob struct {
	done chan struct{}
	res  *WrkResult
	err  error
}

func (h *harness) wrkAsync(ctx context.Context, w wrkRun) *wrkJob {
	j := &wrkJob{done: make(chan struct{})}
	go func() {
		defer close(j.done)
		j.res, j.err = h.runWrk(ctx, w)
	}()
	return j
}

func (j *wrkJob) wait() (*WrkResult, error) {
	<-j.done
	return j.res, j.err
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// sampler scrapes eplink's metrics periodically: bytes per CLB over time.
type sampler struct {
	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
	t        []float64
	bytes    []map[string]float64
}

func startSampler(ctx context.Context, e *eplinkInst, start time.Time, every time.Duration) *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if ss, err := e.metrics(ctx); err == nil {
				s.t = append(s.t, time.Since(start).Seconds())
				s.bytes = append(s.bytes, sumMetric(ss, metricFlowBytes, "resource_id", nil))
			}
			select {
			case <-ctx.Done():
				return
			case <-s.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) stop() {
	s.stopOnce.Do(func() { close(s.quit) })
	<-s.done
}

// peakMbps is the highest rate over any window of at least w between two
// samples, from the total bytes of every CLB.
func (s *sampler) peakMbps(w float64) float64 {
	total := make([]float64, len(s.bytes))
	for i, m := range s.bytes {
		for _, v := range m {
			total[i] += v
		}
	}
	peak := 0.0
	for i := range s.t {
		for j := i + 1; j < len(s.t); j++ {
			if dt := s.t[j] - s.t[i]; dt >= w {
				peak = max(peak, (total[j]-total[i])*8/dt/1e6)
				break
			}
		}
	}
	return peak
}

// mbps turns the byte counters into Mbit/s per CLB between samples.
func (s *sampler) mbps(chart string) []Series {
	byRes := map[string]*Series{}
	var order []string
	for i := 1; i < len(s.t); i++ {
		dt := s.t[i] - s.t[i-1]
		if dt <= 0 {
			continue
		}
		for res, v := range s.bytes[i] {
			x, ok := byRes[res]
			if !ok {
				x = &Series{Chart: chart, Name: clbLabel(res), Unit: "Mbit/s"}
				byRes[res] = x
				order = append(order, res)
			}
			d := v - s.bytes[i-1][res]
			if d < 0 {
				d = 0 // counter reset: a flow table gone
			}
			x.T = append(x.T, s.t[i])
			x.V = append(x.V, d*8/dt/1e6)
		}
	}
	sort.Strings(order)
	out := make([]Series, 0, len(order))
	for _, k := range order {
		out = append(out, *byRes[k])
	}
	return out
}

// clbLabel names a CLB with the backend behind it, as the req/s chart does.
func clbLabel(id string) string {
	switch id {
	case benchLBA:
		return id + " (backend A)"
	case benchLBB:
		return id + " (backend B)"
	}
	return id
}
