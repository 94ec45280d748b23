package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"eplink/bench"
)

// benchCmd runs the side-by-side benchmarks (bench.Run) against this very
// binary's `serve`, unless --eplink names another build.
func benchCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		opts      bench.Options
		noInstall bool
		list      bool
		verbose   bool
		render    bool
		readme    string
		timeout   time.Duration
	)
	fs.BoolVar(&opts.Quick, "quick", false, "run each scenario briefly: checks the harness, measures nothing")
	fs.StringVar(&opts.Only, "only", "", "run only the scenarios `NAMES`, comma-separated (see --list)")
	fs.StringVar(&opts.OutDir, "out", "", "`DIR` for results.json, results.md, README-perf.md and charts/\n(default bench/results, bench/results/quick with --quick)")
	fs.StringVar(&opts.Eplink, "eplink", "", "eplink `BINARY` to measure (default: this one)")
	fs.IntVar(&opts.Repeats, "repeats", 0, "repeats per target (default 3, 1 with --quick)")
	fs.DurationVar(&opts.Duration, "duration", 0, "length of one measurement (default 5s, 1s with --quick)")
	fs.BoolVar(&noInstall, "no-install", false, "do not apt-get missing tools (wrk, haproxy, nginx, iperf3, dnsperf, nsd)")
	fs.BoolVar(&list, "list", false, "list the scenarios and exit")
	fs.BoolVar(&verbose, "v", false, "log the processes the harness starts")
	fs.DurationVar(&timeout, "timeout", 40*time.Minute, "stop the whole run after this long (every load is bounded anyway)")
	fs.BoolVar(&render, "render-only", false, "measure nothing: rewrite results.md, README-perf.md and charts/ from --out's results.json")
	fs.StringVar(&readme, "readme", "", "afterwards, put README-perf.md into `FILE` between <!-- perf:begin --> and <!-- perf:end -->")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if list {
		for _, s := range bench.Scenarios() {
			fmt.Fprintf(stdout, "%-10s %s\n", s.Name, s.Title)
		}
		return nil
	}
	if opts.OutDir == "" {
		opts.OutDir = "bench/results"
		if opts.Quick {
			opts.OutDir = "bench/results/quick"
		}
	}
	if render {
		if _, err := bench.Render(opts.OutDir); err != nil {
			return err
		}
		return spliceReadme(readme, opts.OutDir, stdout)
	}
	if opts.Eplink == "" {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding this binary: %w", err)
		}
		opts.Eplink = self
	}
	opts.Install = !noInstall
	opts.Progress = stderr
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rep, err := bench.Run(ctx, opts)
	if err != nil {
		return err
	}
	failed := 0
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			failed++
			fmt.Fprintf(stderr, "scenario %s failed: %s\n", s.Name, s.Error)
		}
	}
	fmt.Fprint(stdout, rep.PerfSection())
	fmt.Fprintf(stdout, "\nreport: %s/results.md\n", opts.OutDir)
	if err := spliceReadme(readme, opts.OutDir, stdout); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d scenario(s) failed", failed)
	}
	return nil
}

// spliceReadme updates the README's performance section when asked to.
func spliceReadme(readme, dir string, stdout io.Writer) error {
	if readme == "" {
		return nil
	}
	if err := bench.UpdateReadme(readme, dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: performance section updated\n", readme)
	return nil
}
