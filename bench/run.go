package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Options configure a bench run. The zero value runs everything, fully,
// without eplink (Eplink names its binary).
type Options struct {
	// Quick runs each scenario briefly (1 s loads, one repeat, small flow
	// counts): it keeps the harness working in CI; its numbers mean nothing.
	Quick bool
	// Only runs the scenarios named, comma-separated, in the suite's order
	// ("" runs all). Scenarios share one eplink, as in a full run, so
	// "connrate,bulk" measures bulk after connection churn.
	Only string
	// OutDir receives results.json, results.md, README-perf.md and charts/.
	OutDir string
	// Eplink is the path of the eplink binary to measure; "" leaves eplink out.
	Eplink string
	// Repeats per target and Duration per measurement; zero picks 3 and 5 s
	// (1 and 1 s with Quick).
	Repeats  int
	Duration time.Duration
	// Install apt-gets the missing tools (root only).
	Install bool
	// Progress receives one line per step; nil discards.
	Progress io.Writer
	Logger   *slog.Logger
}

func (o *Options) repeats() int {
	switch {
	case o.Repeats > 0:
		return o.Repeats
	case o.Quick:
		return 1
	}
	return 3
}

func (o *Options) duration() time.Duration {
	switch {
	case o.Duration > 0:
		return o.Duration
	case o.Quick:
		return time.Second
	}
	return 5 * time.Second
}

// shapingDuration is how long each shaped run lasts: the goal is stated over
// 10 s, and the one-off burst at the start weighs twice as much in 5 s.
func (o *Options) shapingDuration() time.Duration {
	if o.Duration > 0 || o.Quick {
		return o.duration()
	}
	return 10 * time.Second
}

// Scenario is one measurement of the suite.
type Scenario struct {
	Name  string
	Title string
	run   func(ctx context.Context, h *harness, r *ScenarioResult) error
}

// Scenarios lists the suite in the order it runs.
func Scenarios() []Scenario {
	return []Scenario{
		{"keepalive", "Keep-alive requests/s and latency (wrk -c50)", runKeepalive},
		{"latency", "Added latency per request (wrk -c1)", runLatency},
		{"connrate", "New connections/s (wrk, Connection: close)", runConnRate},
		{"bulk", "Bulk throughput, 1 and 8 streams (iperf3)", runBulk},
		{"shaping", "Shaping accuracy and fairness (iperf3 under a cap)", runShaping},
		{"migration", "Migration under load (Graceful, then Force)", runMigration},
		{"scale", "Idle flows: memory, CPU and flow setup rate", runScale},
		{"dns", "DNS queries/s (dnsperf)", runDNS},
		{"netns", "From a namespace: eplink netns vs pasta vs slirp4netns (root)", runNetns},
	}
}

// harness holds what a run started: the work dir, the servers, the
// scenario position for progress lines.
type harness struct {
	opts   Options
	dir    string
	logger *slog.Logger
	procs  []*proc

	back       *backendSet
	ha         *haproxyPorts
	haProc     *proc
	eplinkRuns int
	ep         *eplinkInst
	epErr      error

	scenario   string
	index, all int
}

// progress prints "[i/n] scenario: what".
func (h *harness) progress(format string, args ...any) {
	if h.opts.Progress == nil {
		return
	}
	fmt.Fprintf(h.opts.Progress, "[%d/%d] %s: %s\n", h.index, h.all, h.scenario, fmt.Sprintf(format, args...))
}

// stopAll stops every process the run started, newest first.
func (h *harness) stopAll() {
	for i := len(h.procs) - 1; i >= 0; i-- {
		h.procs[i].stop()
	}
	h.procs = nil
}

// Run runs the scenarios and writes the report to opts.OutDir.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.OutDir == "" {
		return nil, errors.New("no output directory")
	}
	want := map[string]bool{}
	if opts.Only != "" {
		for _, n := range strings.Split(opts.Only, ",") {
			want[strings.TrimSpace(n)] = true
		}
	}
	var todo []Scenario
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
		if len(want) == 0 || want[s.Name] {
			todo = append(todo, s)
			delete(want, s.Name)
		}
	}
	if len(want) > 0 {
		var unknown []string
		for n := range want {
			unknown = append(unknown, n)
		}
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown scenario %q (have %s)", strings.Join(unknown, ","), strings.Join(names, ", "))
	}
	if opts.Eplink != "" {
		abs, err := filepath.Abs(opts.Eplink)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("eplink binary: %w", err)
		}
		opts.Eplink = abs
	}
	h := &harness{opts: opts, logger: opts.Logger, all: len(todo)}
	say := func(s string) {
		if opts.Progress != nil {
			fmt.Fprintln(opts.Progress, s)
		}
	}
	if opts.Install {
		if err := installTools(ctx, say); err != nil {
			return nil, err
		}
	} else if miss := missingTools(); len(miss) > 0 {
		return nil, fmt.Errorf("%s not installed (run with --install as root, or apt-get install %s)", miss[0].bin, miss[0].pkg)
	}
	raiseFileLimit(h.logger)
	dir, err := os.MkdirTemp("", "eplink-bench-")
	if err != nil {
		return nil, err
	}
	h.dir = dir
	defer os.RemoveAll(dir)
	defer h.stopAll()

	rep := &Report{
		Machine: describeMachine(ctx, opts.Eplink),
		Started: time.Now().UTC(),
		Quick:   opts.Quick,
		Repeats: opts.repeats(),
		Seconds: opts.duration().Seconds(),
	}
	for i, s := range todo {
		h.index, h.scenario = i+1, s.Name
		h.progress("%s", s.Title)
		r := &ScenarioResult{Name: s.Name, Title: s.Title}
		start := time.Now()
		if err := s.run(ctx, h, r); err != nil {
			r.Error = err.Error()
			h.progress("failed: %v", err)
		}
		r.Seconds = time.Since(start).Seconds()
		rep.Scenarios = append(rep.Scenarios, r)
		if ctx.Err() != nil {
			break
		}
	}
	h.stopAll()
	rep.Finished = time.Now().UTC()
	if err := rep.write(opts.OutDir); err != nil {
		return rep, err
	}
	say("report written to " + opts.OutDir)
	return rep, ctx.Err()
}

// raiseFileLimit lifts RLIMIT_NOFILE for this process and the servers it
// starts (they inherit it): the scale scenario holds 10,000 flows, which is
// 20,000 sockets in the proxy alone. Root may raise the hard limit; others
// get the soft limit raised to their hard one.
func raiseFileLimit(log *slog.Logger) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := uint64(100000)
	if lim.Max < want {
		try := syscall.Rlimit{Cur: want, Max: want}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &try); err == nil {
			return
		}
		want = lim.Max
	}
	lim.Cur = want
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot raise the open-file limit", "err", err)
	}
}

// fileLimit is the current soft RLIMIT_NOFILE.
func fileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 1024
	}
	return lim.Cur
}
