package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// writeCharts draws ratios.png (every headline ratio, one bar per target)
// and one PNG per time-series chart; it returns chart name → path relative
// to the report.
func writeCharts(rep *Report, dir string) (map[string]string, error) {
	out := map[string]string{}
	var errs []string
	if rows := rep.headline(); len(rows) > 0 {
		if err := ratioChart(rows, filepath.Join(dir, "ratios.png")); err != nil {
			errs = append(errs, err.Error())
		} else {
			out["ratios"] = "charts/ratios.png"
		}
	}
	for _, s := range rep.Scenarios {
		for _, name := range chartNames(s) {
			file := name + ".png"
			if err := seriesChart(s, name, filepath.Join(dir, file)); err != nil {
				errs = append(errs, err.Error())
				continue
			}
			out[name] = "charts/" + file
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("charts: %s", strings.Join(errs, "; "))
	}
	return out, nil
}

// ratioChart: x = "scenario metric", one bar group per target, a line at 1.
func ratioChart(rows []headRow, path string) error {
	var labels []string
	idx := map[string]int{}
	var targets []string
	vals := map[string]plotter.Values{}
	for _, r := range rows {
		l := r.label()
		if _, ok := idx[l]; !ok {
			idx[l] = len(labels)
			labels = append(labels, l)
		}
		if _, ok := vals[r.Target]; !ok {
			targets = append(targets, r.Target)
		}
		v := vals[r.Target]
		for len(v) < len(labels) {
			v = append(v, 0)
		}
		v[idx[l]] = r.Ratio
		vals[r.Target] = v
	}
	p := plot.New()
	p.Title.Text = "Ratio to the baseline: direct (scale: HAProxy, dns: NSD); dashed line = 1"
	p.Y.Label.Text = "ratio"
	w := vg.Points(14)
	for i, t := range targets {
		v := vals[t]
		for len(v) < len(labels) {
			v = append(v, 0)
		}
		bars, err := plotter.NewBarChart(v, w)
		if err != nil {
			return err
		}
		bars.Color = plotutil.Color(i)
		bars.LineStyle.Width = 0
		bars.Offset = w * vg.Length(float64(i)-float64(len(targets)-1)/2)
		p.Add(bars)
		p.Legend.Add(t, bars)
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	p.Legend.Top = true
	p.NominalX(labels...)
	p.X.Tick.Label.Rotation = math.Pi / 5
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	p.Y.Min = 0
	p.X.Min, p.X.Max = -0.6, float64(len(labels))-0.4
	width := vg.Length(math.Max(8, 0.9*float64(len(labels)))) * vg.Inch
	return p.Save(width, 6*vg.Inch, path)
}

// seriesChart draws the series of one chart as lines and its events as
// dashed vertical markers.
func seriesChart(s *ScenarioResult, name, path string) error {
	var series []Series
	var events []Event
	for _, x := range s.Series {
		if x.Chart == name {
			series = append(series, x)
		}
	}
	for _, e := range s.Events {
		if e.Chart == name {
			events = append(events, e)
		}
	}
	return SeriesChart(name, series, events, path)
}

// SeriesChart draws series as lines and events as dashed vertical markers
// into the PNG at path; failover experiments draw their timelines with it.
func SeriesChart(title string, series []Series, events []Event, path string) error {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "seconds"
	ymax := 0.0
	for i, x := range series {
		p.Y.Label.Text = x.Unit
		pts := make(plotter.XYs, len(x.T))
		for j := range x.T {
			pts[j].X, pts[j].Y = x.T[j], x.V[j]
			ymax = math.Max(ymax, x.V[j])
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return fmt.Errorf("%s: %w", title, err)
		}
		line.Color = plotutil.Color(i)
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(x.Name, line)
	}
	if ymax == 0 {
		ymax = 1
	}
	// Event labels take three rows above the data, so that events close in
	// time do not print over each other; the legend goes below them.
	for i, e := range events {
		top := ymax * (1.05 + 0.1*float64(i%3))
		mark, err := plotter.NewLine(plotter.XYs{{X: e.T, Y: 0}, {X: e.T, Y: top}})
		if err != nil {
			return err
		}
		mark.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(mark)
		lab, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: e.T, Y: top}}, Labels: []string{" " + e.Label}})
		if err != nil {
			return err
		}
		p.Add(lab)
	}
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	if len(events) > 0 {
		p.Y.Max = ymax * 1.32
		p.Legend.Left = false
		p.Legend.YOffs = -vg.Points(42)
	}
	return p.Save(9*vg.Inch, 4.5*vg.Inch, path)
}
