package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// wrkScript makes wrk print its results as one JSON line (prefixed
// EPLINK_WRK) instead of the human summary, and, given the "series"
// argument, count responses per second per backend (X-Backend header).
//
//go:embed wrk.lua
var wrkScript []byte

// WrkResult is one wrk run.
type WrkResult struct {
	DurationUS int64      `json:"duration_us"`
	Requests   int64      `json:"requests"`
	Bytes      int64      `json:"bytes"`
	Errors     WrkErrors  `json:"errors"`
	LatencyUS  WrkLatency `json:"latency_us"`
	// TicksPerSecond is the resolution of Series (5 with wrk's LuaJIT).
	TicksPerSecond int         `json:"ticks_per_second"`
	Series         []WrkSample `json:"series"`
}

// WrkErrors are wrk's socket and status error counts.
type WrkErrors struct {
	Connect int64 `json:"connect"`
	Read    int64 `json:"read"`
	Write   int64 `json:"write"`
	Status  int64 `json:"status"` // non-2xx/3xx responses
	Timeout int64 `json:"timeout"`
}

// Total is the number of errors of every kind.
func (e WrkErrors) Total() int64 { return e.Connect + e.Read + e.Write + e.Status + e.Timeout }

// WrkLatency is wrk's latency distribution, in microseconds.
type WrkLatency struct {
	Mean  float64 `json:"mean"`
	Stdev float64 `json:"stdev"`
	Max   int64   `json:"max"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
}

// WrkSample counts the responses of one backend in one tick of wall-clock
// time: Tick is Unix time in 1/TicksPerSecond s.
type WrkSample struct {
	Backend  string `json:"backend"`
	Tick     int64  `json:"tick"`
	Requests int64  `json:"requests"`
	Bytes    int64  `json:"bytes"`
}

// RequestsPerSec is the run's request rate.
func (r *WrkResult) RequestsPerSec() float64 {
	if r.DurationUS <= 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

const wrkMarker = "EPLINK_WRK "

// ParseWrk reads wrk's output as produced with wrk.lua. wrk exits without
// calling done() when it cannot connect at all; that first line is the error.
func ParseWrk(out []byte) (*WrkResult, error) {
	for _, line := range bytes.Split(out, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte(wrkMarker))
		if !ok {
			continue
		}
		r := &WrkResult{}
		if err := json.Unmarshal(rest, r); err != nil {
			return nil, fmt.Errorf("wrk summary: %w", err)
		}
		if r.TicksPerSecond <= 0 {
			r.TicksPerSecond = 1
		}
		sort.Slice(r.Series, func(i, j int) bool {
			if r.Series[i].Tick != r.Series[j].Tick {
				return r.Series[i].Tick < r.Series[j].Tick
			}
			return r.Series[i].Backend < r.Series[j].Backend
		})
		return r, nil
	}
	msg := strings.TrimSpace(firstLine(out))
	if msg == "" {
		msg = "no output"
	}
	return nil, fmt.Errorf("wrk: no summary: %s", msg)
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	return s
}

// wrkRun describes one wrk invocation.
type wrkRun struct {
	URL         string
	Threads     int
	Connections int
	Duration    time.Duration
	Close       bool // send "Connection: close": one connection per request
	Series      bool // per-second, per-backend counts
}

func (w wrkRun) args(script string) []string {
	t := w.Threads
	if t < 1 {
		t = 1
	}
	if t > w.Connections {
		t = w.Connections
	}
	a := []string{
		"-t", strconv.Itoa(t), "-c", strconv.Itoa(w.Connections),
		"-d", fmt.Sprintf("%ds", max(1, int(w.Duration.Round(time.Second)/time.Second))),
		"--timeout", "5s", "-s", script,
	}
	if w.Close {
		a = append(a, "-H", "Connection: close")
	}
	a = append(a, w.URL)
	if w.Series {
		a = append(a, "--", "series")
	}
	return a
}

// runWrk runs wrk once, bounded by the run's duration plus a grace period.
func (h *harness) runWrk(ctx context.Context, w wrkRun) (*WrkResult, error) {
	script := filepath.Join(h.dir, "wrk.lua")
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(script, wrkScript, 0o644); err != nil {
			return nil, err
		}
	}
	out, err := h.output(ctx, w.Duration+15*time.Second, "wrk", w.args(script)...)
	r, perr := ParseWrk(out)
	if perr != nil {
		if err != nil {
			return nil, fmt.Errorf("%w (%v)", perr, err)
		}
		return nil, perr
	}
	return r, nil
}
