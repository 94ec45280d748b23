package experiment

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// An expectation is one line of the plan's expect: list:
//
//	METRIC OP VALUE [between A and B | after A | before A]
//
// METRIC is requests, ok, failed, a failure kind (refused, reset, timeout,
// bad, dns), stream_bytes (read by stream loads), answered_by NAME (answers from the backend NAME), p50 or p99
// (of the window's OK requests), recovery: from the window's start to the
// end of its last 100 ms with a failed request (0 when none failed), or
// backend_out ADDR / backend_in ADDR: from the window's start to the first
// sample of eplink's health checks that has the backend out (in). OP is
// one of == != < <= > >=; VALUE a number, or a duration (50ms) for the
// times. A and B name timeline steps (or start, end), optionally
// shifted: zone_down+2s. Without a window it is the whole run. LOAD.METRIC
// (web.failed) counts one load group only.
type expectation struct {
	text     string
	load     string // "" = all loads
	metric   string
	backend  string // of answered_by
	op       string
	value    float64 // ms for durations
	from, to mark
}

// mark is an event name plus an offset.
type mark struct {
	event  string
	offset time.Duration
}

var ops = []string{"==", "!=", "<=", ">=", "<", ">"}

var countMetrics = map[string]bool{"requests": true, "ok": true, "failed": true, "stream_bytes": true,
	KindRefused: true, KindReset: true, KindTimeout: true, KindBad: true, KindDNS: true}

func parseExpectation(s string) (expectation, error) {
	x := expectation{text: s, from: mark{event: "start"}, to: mark{event: "end"}}
	f := strings.Fields(s)
	if len(f) == 0 {
		return x, fmt.Errorf("empty expectation")
	}
	x.metric, f = f[0], f[1:]
	if load, metric, ok := strings.Cut(x.metric, "."); ok {
		x.load, x.metric = load, metric
	}
	switch {
	case x.metric == "answered_by", x.metric == "backend_out", x.metric == "backend_in":
		if len(f) == 0 {
			return x, fmt.Errorf("%s needs a backend (answered_by ECS02 > 0, backend_out 127.0.0.1:8080 < 2s)", x.metric)
		}
		x.backend, f = f[0], f[1:]
	case countMetrics[x.metric], x.metric == "p50", x.metric == "p99", x.metric == "recovery":
	default:
		return x, fmt.Errorf("unknown metric %q: want requests, ok, failed, %s, stream_bytes, answered_by NAME, p50, p99, recovery, backend_out ADDR or backend_in ADDR",
			x.metric, strings.Join(Kinds, ", "))
	}
	if len(f) < 2 || !contains(ops, f[0]) {
		return x, fmt.Errorf("%q: want METRIC OP VALUE, OP one of %s", s, strings.Join(ops, " "))
	}
	x.op = f[0]
	var err error
	if x.isDuration() {
		d, derr := time.ParseDuration(f[1])
		if derr != nil {
			return x, fmt.Errorf("%s compares with a duration such as 50ms, got %q", x.metric, f[1])
		}
		x.value = float64(d) / float64(time.Millisecond)
	} else if x.value, err = strconv.ParseFloat(f[1], 64); err != nil {
		return x, fmt.Errorf("%s compares with a number, got %q", x.metric, f[1])
	}
	f = f[2:]
	switch {
	case len(f) == 0:
	case len(f) == 4 && f[0] == "between" && f[2] == "and":
		if x.from, err = parseMark(f[1]); err == nil {
			x.to, err = parseMark(f[3])
		}
	case len(f) == 2 && f[0] == "after":
		x.from, err = parseMark(f[1])
	case len(f) == 2 && f[0] == "before":
		x.to, err = parseMark(f[1])
	default:
		err = fmt.Errorf("%q: a window is \"between A and B\", \"after A\" or \"before A\"", strings.Join(f, " "))
	}
	return x, err
}

// isDuration: the metric is a time, compared with a duration.
func (x expectation) isDuration() bool {
	return x.metric == "p50" || x.metric == "p99" || x.metric == "recovery" ||
		x.metric == "backend_out" || x.metric == "backend_in"
}

func parseMark(s string) (mark, error) {
	i := strings.IndexAny(s, "+-")
	if i <= 0 {
		return mark{event: s}, nil
	}
	d, err := time.ParseDuration(s[i:])
	if err != nil {
		return mark{}, fmt.Errorf("%q: want EVENT or EVENT+DURATION (zone_down+2s)", s)
	}
	return mark{event: s[:i], offset: d}, nil
}

func (x expectation) events() []string { return []string{x.from.event, x.to.event} }

// Outcome is an expectation checked against a recording.
type Outcome struct {
	Expect string  `json:"expect"`
	Pass   bool    `json:"pass"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	Window string  `json:"window"` // seconds, e.g. "2.0s-7.5s"
	Note   string  `json:"note,omitempty"`
}

// Text is how a report line reads: the expectation, the value and why.
func (o Outcome) Text() string {
	verdict := "ok"
	if !o.Pass {
		verdict = "FAILED"
	}
	s := fmt.Sprintf("%s: %s (measured %s%s over %s)", verdict, o.Expect, num(o.Value), o.Unit, o.Window)
	if o.Note != "" {
		s += "; " + o.Note
	}
	return s
}

// evaluate checks x against the bins; at gives each event's time.
func (x expectation) evaluate(bins []*Bin, at map[string]float64, end float64) Outcome {
	o := Outcome{Expect: x.text}
	resolve := func(m mark) (float64, bool) {
		t, ok := at[m.event]
		return t + m.offset.Seconds(), ok
	}
	from, ok1 := resolve(x.from)
	to, ok2 := resolve(x.to)
	if !ok1 || !ok2 {
		o.Note = "a step of its window did not happen"
		o.Window = "-"
		return o
	}
	to = math.Min(to, end)
	o.Window = fmt.Sprintf("%.1fs-%.1fs", from, to)
	var in []*Bin
	for _, b := range bins {
		// A bin belongs to the window that holds its middle: adjacent
		// windows (before X, after X) share none, and miss none.
		if mid := b.T + BinWidth.Seconds()/2; mid >= from && mid < to {
			in = append(in, b)
		}
	}
	switch x.metric {
	case "p50", "p99":
		var lat []float64
		for _, b := range in {
			lat = append(lat, b.lat...)
		}
		sort.Float64s(lat)
		q := 0.5
		if x.metric == "p99" {
			q = 0.99
		}
		o.Value, o.Unit = percentile(lat, q), "ms"
		if len(lat) == 0 {
			o.Note = "no request succeeded in the window"
			return o
		}
	case "recovery":
		o.Unit = "ms"
		for _, b := range in {
			if b.failed() > 0 {
				o.Value = (b.T + BinWidth.Seconds() - from) * 1000
			}
		}
	case "backend_out", "backend_in":
		o.Unit = "ms"
		want := 0
		if x.metric == "backend_in" {
			want = 1
		}
		o.Value, o.Note = (to-from)*1000, "not seen in the window"
		seen := false
		for _, b := range in {
			if v, ok := b.Health[x.backend]; ok && v == want {
				o.Value, o.Note, seen = math.Max(0, (b.T-from)*1000), "", true
				break
			}
		}
		if !seen {
			return o // a change never seen meets no bound
		}
	default:
		for _, b := range in {
			switch x.metric {
			case "requests":
				o.Value += float64(b.OK + b.failed())
			case "ok":
				o.Value += float64(b.OK)
			case "failed":
				o.Value += float64(b.failed())
			case "answered_by":
				o.Value += float64(b.Backend[x.backend])
			case "stream_bytes":
				o.Value += float64(b.Stream)
			default:
				o.Value += float64(b.Failed[x.metric])
			}
		}
	}
	o.Pass = compare(o.Value, x.op, x.value)
	return o
}

func compare(a float64, op string, b float64) bool {
	switch op {
	case "==":
		return a == b
	case "!=":
		return a != b
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	default:
		return a >= b
	}
}

func num(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
