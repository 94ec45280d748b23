package experiment

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"eplink/bench"
)

// Summary is the short form of a result: the verdict and every
// expectation with its number, the problems of failed steps.
func (res *Result) Summary() string {
	var b strings.Builder
	verdict := "PASS"
	if !res.Pass {
		verdict = "FAIL"
	}
	ok, failed := 0, 0
	for _, bin := range res.Bins {
		ok += bin.OK
		failed += bin.failed()
	}
	fmt.Fprintf(&b, "%s %s: %d requests ok, %d failed (requests and streams) in %.0fs\n", verdict, res.Name, ok, failed, res.Duration)
	for _, p := range res.Problems {
		fmt.Fprintf(&b, "  FAILED: %s\n", p)
	}
	for _, o := range res.Outcomes {
		fmt.Fprintf(&b, "  %s\n", o.Text())
	}
	return b.String()
}

// Write writes report.md, report.json and timeline.png (requests/s by
// backend and errors/s, with the events) and latency.png into dir.
func (res *Result) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "report.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	rate, lat, events := res.series()
	chartErr := bench.SeriesChart(res.Name+": requests/s by backend, failed/s", rate, events, filepath.Join(dir, "timeline.png"))
	if err := bench.SeriesChart(res.Name+": p99 latency of OK requests", lat, events, filepath.Join(dir, "latency.png")); chartErr == nil {
		chartErr = err
	}
	md := res.Markdown()
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(md), 0o644); err != nil {
		return err
	}
	return chartErr
}

// series turns the bins into chart lines: per-second rates of each
// backend's answers and of failures (by kind), and p99 in ms.
func (res *Result) series() (rate, lat []bench.Series, events []bench.Event) {
	perSec := 1 / BinWidth.Seconds()
	backends := map[string]bool{}
	kinds := map[string]bool{}
	for _, b := range res.Bins {
		for k := range b.Backend {
			backends[k] = true
		}
		for k := range b.Failed {
			kinds[k] = true
		}
	}
	line := func(name, unit string, v func(*Bin) float64) bench.Series {
		s := bench.Series{Name: name, Unit: unit}
		for _, b := range res.Bins {
			s.T = append(s.T, b.T)
			s.V = append(s.V, v(b))
		}
		return s
	}
	for _, name := range sortedKeys(backends) {
		rate = append(rate, line(name, "per second", func(b *Bin) float64 { return float64(b.Backend[name]) * perSec }))
	}
	if other := line("ok (no name)", "per second", func(b *Bin) float64 {
		n := b.OK
		for _, v := range b.Backend {
			n -= v
		}
		return float64(n) * perSec
	}); maxOf(other.V) > 0 {
		rate = append(rate, other)
	}
	for _, k := range Kinds {
		if kinds[k] {
			rate = append(rate, line("failed: "+k, "per second", func(b *Bin) float64 { return float64(b.Failed[k]) * perSec }))
		}
	}
	lat = append(lat, line("p99", "ms", func(b *Bin) float64 { return b.P99 }))
	lat = append(lat, line("p50", "ms", func(b *Bin) float64 { return b.P50 }))
	for _, e := range res.Events {
		events = append(events, bench.Event{T: e.T, Label: e.Name})
	}
	return rate, lat, events
}

func maxOf(xs []float64) float64 {
	m := 0.0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}

// Markdown is the report: verdict, expectations, events, and a table of
// what the clients saw second by second.
func (res *Result) Markdown() string {
	var b strings.Builder
	verdict := "PASS"
	if !res.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "# Experiment %s: %s\n\n", res.Name, verdict)
	fmt.Fprintf(&b, "Plan `%s`, started %s, %.0f s.\n\n", res.Plan, res.Started.Format("2006-01-02 15:04:05Z"), res.Duration)
	b.WriteString("## Load\n\n")
	for _, l := range res.Loads {
		fmt.Fprintf(&b, "- %s: `%s`, %s\n", l.Name, l.Host, l.Mode)
	}
	b.WriteString("\n## Expectations\n\n")
	if len(res.Outcomes) == 0 && len(res.Problems) == 0 {
		b.WriteString("None.\n")
	}
	for _, p := range res.Problems {
		fmt.Fprintf(&b, "- FAILED: %s\n", p)
	}
	for _, o := range res.Outcomes {
		fmt.Fprintf(&b, "- %s\n", o.Text())
	}
	b.WriteString("\n## Timeline\n\n| t (s) | step | what | result |\n|---:|---|---|---|\n")
	for _, e := range res.Events {
		out := oneLine(e.Result, 80)
		if e.Err != "" {
			out = "FAILED: " + oneLine(e.Err, 120)
		}
		fmt.Fprintf(&b, "| %.1f | %s | %s | %s |\n", e.T, e.Name, e.What, strings.ReplaceAll(out, "|", "\\|"))
	}
	b.WriteString("\n![requests per second](timeline.png)\n\n![latency](latency.png)\n")
	b.WriteString("\n## Second by second\n\n")
	b.WriteString("| s | ok | failed | p50 ms | p99 ms | answered by | stream kB/s | DNS answers | flows by CLB | backends out | zones |\n")
	b.WriteString("|---:|---:|---|---:|---:|---|---:|---|---|---|---|\n")
	per := int(1 / BinWidth.Seconds())
	for i := 0; i < len(res.Bins); i += per {
		sec := res.Bins[i:min(i+per, len(res.Bins))]
		var s Bin
		s.Failed, s.Backend, s.DNS = map[string]int{}, map[string]int{}, map[string]int{}
		var lat []float64
		for _, bin := range sec {
			s.OK += bin.OK
			s.Stream += bin.Stream
			add(s.Failed, bin.Failed)
			add(s.Backend, bin.Backend)
			add(s.DNS, bin.DNS)
			lat = append(lat, bin.lat...)
			if bin.Flows != nil {
				// The last sample of the second.
				s.Flows, s.Health, s.Zones = bin.Flows, bin.Health, bin.Zones
			}
		}
		sort.Float64s(lat)
		var out []string
		for _, k := range sortedKeys(s.Health) {
			if s.Health[k] == 0 {
				out = append(out, k)
			}
		}
		var zones []string
		for _, k := range sortedKeys(s.Zones) {
			zones = append(zones, k+" "+s.Zones[k])
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %.1f | %.1f | %s | %.0f | %s | %s | %s | %s |\n", i/per, s.OK, counts(s.Failed),
			percentile(lat, 0.5), percentile(lat, 0.99), counts(s.Backend), float64(s.Stream)/1000/float64(len(sec))*float64(per),
			counts(s.DNS), counts(s.Flows),
			strings.Join(out, ", "), strings.Join(zones, ", "))
	}
	return b.String()
}

func add(dst, src map[string]int) {
	for k, v := range src {
		dst[k] += v
	}
}

// counts reads "a 3, b 1", sorted by key; "" for none.
func counts(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
