package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Report is one bench run: the machine, and every scenario's results.
type Report struct {
	Machine   Machine           `json:"machine"`
	Started   time.Time         `json:"started"`
	Finished  time.Time         `json:"finished"`
	Quick     bool              `json:"quick"`
	Repeats   int               `json:"repeats"`
	Seconds   float64           `json:"seconds_per_measurement"`
	Scenarios []*ScenarioResult `json:"scenarios"`
}

// ScenarioResult is what one scenario measured.
type ScenarioResult struct {
	Name    string   `json:"name"`
	Title   string   `json:"title"`
	Error   string   `json:"error,omitempty"`
	Seconds float64  `json:"seconds"`
	Rows    []*Row   `json:"rows"`
	Series  []Series `json:"series,omitempty"`
	Events  []Event  `json:"events,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Row is one metric of one target over the repeats.
type Row struct {
	Target string `json:"target"`
	Metric string `json:"metric"`
	Unit   string `json:"unit"`
	// Better is "higher" or "lower", or "" where neither is (counts).
	Better string `json:"better,omitempty"`
	Summary
	Samples []float64 `json:"samples"`
	// Ratio is this target's median over the baseline's for the same
	// metric (0 when there is no baseline row).
	Ratio    float64 `json:"ratio,omitempty"`
	Baseline string  `json:"baseline,omitempty"`
	// Headline puts the ratio on the ratio bar chart and in the README.
	Headline bool `json:"headline,omitempty"`
}

// Series is a time series for a chart; charts group series by Chart.
type Series struct {
	Chart string    `json:"chart"`
	Name  string    `json:"name"`
	Unit  string    `json:"unit"`
	T     []float64 `json:"t"` // seconds since the phase started
	V     []float64 `json:"v"`
}

// Event marks a moment on a chart (a migration call).
type Event struct {
	Chart string  `json:"chart"`
	T     float64 `json:"t"`
	Label string  `json:"label"`
}

// metric describes what a row measures.
type metric struct {
	name, unit, better string
	chart              bool // put its ratio on the bar chart
}

// add records one sample of m for target.
func (r *ScenarioResult) add(target string, m metric, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	for _, row := range r.Rows {
		if row.Target == target && row.Metric == m.name {
			row.Samples = append(row.Samples, v)
			return
		}
	}
	r.Rows = append(r.Rows, &Row{Target: target, Metric: m.name, Unit: m.unit, Better: m.better, Headline: m.chart, Samples: []float64{v}})
}

func (r *ScenarioResult) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// finish summarizes every row and computes ratios to the baseline target.
func (r *ScenarioResult) finish(baseline string) {
	base := map[string]float64{}
	for _, row := range r.Rows {
		row.Summary = Summarize(row.Samples)
		if row.Target == baseline {
			base[row.Metric] = row.Median
		}
	}
	for _, row := range r.Rows {
		if b, ok := base[row.Metric]; ok && row.Target != baseline {
			if q := ratio(row.Median, b); !math.IsNaN(q) {
				row.Ratio, row.Baseline = q, baseline
			}
		}
	}
	// Rows read best grouped by metric, targets in their run order.
	order := map[string]int{}
	for _, row := range r.Rows {
		if _, ok := order[row.Metric]; !ok {
			order[row.Metric] = len(order)
		}
	}
	sort.SliceStable(r.Rows, func(i, j int) bool { return order[r.Rows[i].Metric] < order[r.Rows[j].Metric] })
}

// write saves results.json, results.md, README-perf.md and the charts.
func (rep *Report) write(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "charts"), 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(js, '\n'), 0o644); err != nil {
		return err
	}
	charts, chartErr := writeCharts(rep, filepath.Join(dir, "charts"))
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(rep.Markdown(charts)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "README-perf.md"), []byte(rep.PerfSection()), 0o644); err != nil {
		return err
	}
	return chartErr
}

// machineLine names the machine in one line.
func (rep *Report) machineLine() string {
	m := rep.Machine
	return fmt.Sprintf("%d cores (%s), %d MiB, Linux %s, %s, %s", m.Cores, m.CPU, m.MemoryMB, m.Kernel, m.OS, m.Go)
}

// Markdown is the full report: every row of every scenario.
func (rep *Report) Markdown(charts map[string]string) string {
	var b strings.Builder
	b.WriteString("# eplink bench results\n\n")
	fmt.Fprintf(&b, "Run %s → %s", rep.Started.Format(time.RFC3339), rep.Finished.Format("15:04:05Z"))
	if rep.Quick {
		b.WriteString(" (**--quick**: harness check only, numbers are not measurements)")
	}
	fmt.Fprintf(&b, "; %d repeat(s) of %gs per target, targets interleaved; median, min–max, spread = (max−min)/median.\n\n", rep.Repeats, rep.Seconds)
	fmt.Fprintf(&b, "Machine: %s.\n\n", rep.machineLine())
	b.WriteString("Setup: every target reaches the same backends (one nginx worker serving A and B, one iperf3 -s) on loopback; HAProxy 'mode tcp' with its defaults (a thread per core), eplink with one event loop per core (GOMAXPROCS = cores + 1; the netns front end half the cores: see procs in cmd/eplink/serve.go); load generators run on the same cores, so a proxy competes with them for CPU as it would on a small host.\n\n")
	b.WriteString("Tools:")
	for _, t := range sortedKeys(rep.Machine.Tools) {
		fmt.Fprintf(&b, " %s `%s`;", t, rep.Machine.Tools[t])
	}
	fmt.Fprintf(&b, " eplink `%s`.\n\n", rep.Machine.Eplink)
	if c, ok := charts["ratios"]; ok {
		fmt.Fprintf(&b, "![ratios to direct](%s)\n\n", c)
	}
	for i, s := range rep.Scenarios {
		fmt.Fprintf(&b, "## %d. %s (`%s`)\n\n", i+1, s.Title, s.Name)
		if s.Error != "" {
			fmt.Fprintf(&b, "**Failed:** %s\n\n", oneLine(s.Error))
		}
		if len(s.Rows) > 0 {
			b.WriteString("| target | metric | median | min – max | spread | n | ratio |\n|---|---|---:|---:|---:|---:|---:|\n")
			for _, r := range s.Rows {
				q := ""
				if r.Baseline != "" {
					q = fmt.Sprintf("%.3f× %s", r.Ratio, r.Baseline)
				}
				fmt.Fprintf(&b, "| %s | %s | %s %s | %s – %s | %.1f%% | %d | %s |\n", r.Target, r.Metric,
					num(r.Median), r.Unit, num(r.Min), num(r.Max), 100*r.Spread, r.N, q)
			}
			b.WriteString("\n")
		}
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		if len(s.Notes) > 0 {
			b.WriteString("\n")
		}
		for _, name := range chartNames(s) {
			if c, ok := charts[name]; ok {
				fmt.Fprintf(&b, "![%s](%s)\n\n", name, c)
			}
		}
	}
	return b.String()
}

// headRow is a row of the ratio chart, with the scenario it belongs to.
type headRow struct {
	scenario string
	*Row
}

// label names the bar: scenario, metric, and which way is better.
func (h headRow) label() string {
	l := h.scenario + " " + h.Metric
	if h.Better == "lower" {
		l += " (lower=better)"
	}
	return l
}

// headline lists the rows with a ratio that the chart shows.
func (rep *Report) headline() []headRow {
	var out []headRow
	for _, s := range rep.Scenarios {
		for _, r := range s.Rows {
			if r.Headline && r.Baseline != "" {
				out = append(out, headRow{s.Name, r})
			}
		}
	}
	return out
}

// PerfSection is the README's performance section: the headline ratios and
// where the full report is.
func (rep *Report) PerfSection() string {
	var b strings.Builder
	b.WriteString("<!-- Generated by `eplink bench` from bench/results/results.json; do not edit. -->\n")
	b.WriteString("### Latest figures\n\n")
	fmt.Fprintf(&b, "Measured by `make bench` on %s, %s", rep.machineLine(), rep.Started.Format("2006-01-02"))
	if rep.Quick {
		b.WriteString(" (quick run: not a measurement)")
	}
	b.WriteString(". Every target forwards to the same nginx / iperf3 on loopback; medians of interleaved repeats.\n\n")
	b.WriteString("![ratios](bench/results/charts/ratios.png)\n\n")
	b.WriteString("| scenario | metric | target | median | vs baseline |\n|---|---|---|---:|---:|\n")
	for _, s := range rep.Scenarios {
		for _, r := range s.Rows {
			if !r.Headline {
				continue
			}
			q := "—"
			if r.Baseline != "" {
				q = fmt.Sprintf("%.2f× %s", r.Ratio, r.Baseline)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s %s | %s |\n", s.Name, r.Metric, r.Target, num(r.Median), r.Unit, q)
		}
		if s.Error != "" {
			fmt.Fprintf(&b, "| %s | failed | | | %s |\n", s.Name, oneLine(s.Error))
		}
	}
	b.WriteString("\nFull tables, notes and charts: [bench/results/results.md](bench/results/results.md). ")
	b.WriteString("`make bench` measures again (about 15 minutes; it installs wrk, haproxy, nginx, iperf3, dnsperf and nsd if missing); `eplink bench --render-only` redraws the report from results.json.\n")
	return b.String()
}

func num(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case v == math.Trunc(v) && a < 1e15:
		return fmt.Sprintf("%.0f", v)
	case a >= 1000:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 0.1:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.4g", v)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.ReplaceAll(s, "|", "\\|")
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for x := range m {
		k = append(k, x)
	}
	sort.Strings(k)
	return k
}

// chartNames are a scenario's time-series charts, in first-seen order.
func chartNames(s *ScenarioResult) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s.Series {
		if !seen[x.Chart] {
			seen[x.Chart] = true
			out = append(out, x.Chart)
		}
	}
	return out
}
