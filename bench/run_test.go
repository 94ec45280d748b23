package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQuickRun runs the whole suite with --quick against a freshly built
// eplink: every scenario must finish without error and write its report.
// It needs the Debian tools (make deps / eplink bench installs them).
func TestQuickRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers and load generators; skipped with -short")
	}
	if miss := missingTools(); len(miss) > 0 {
		t.Skipf("%s not installed (apt-get install %s)", miss[0].bin, miss[0].pkg)
	}
	t0 := time.Now()
	bin := filepath.Join(t.TempDir(), "eplink")
	build := exec.Command("go", "build", "-o", bin, "eplink/cmd/eplink")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building eplink: %v\n%s", err, out)
	}
	t.Logf("build: %v", time.Since(t0).Round(time.Millisecond))
	out := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	rep, err := Run(ctx, Options{Quick: true, OutDir: out, Eplink: bin, Progress: &progress})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, progress.String())
	}
	for _, s := range rep.Scenarios {
		t.Logf("%s: %.1fs", s.Name, s.Seconds)
	}
	t.Logf("whole run: %v, with report %v", rep.Finished.Sub(rep.Started).Round(time.Second), time.Since(t0).Round(time.Second))
	if len(rep.Scenarios) != len(Scenarios()) {
		t.Fatalf("%d scenarios ran, want %d", len(rep.Scenarios), len(Scenarios()))
	}
	for _, s := range rep.Scenarios {
		if s.Name == "netns" && os.Geteuid() != 0 {
			continue // namespaces and TUN devices need root
		}
		if s.Error != "" {
			t.Errorf("%s: %s", s.Name, s.Error)
		}
		if len(s.Rows) == 0 {
			t.Errorf("%s: no rows", s.Name)
		}
		for _, n := range s.Notes {
			if strings.Contains(n, "left out:") {
				t.Errorf("%s: %s", s.Name, n)
			}
		}
	}
	// The netns scenario measures idle-flow memory last (issue 12's goal of
	// at most 32 KiB per flow): a row with a positive figure.
	for _, s := range rep.Scenarios {
		if s.Name != "netns" || os.Geteuid() != 0 {
			continue
		}
		found := false
		for _, r := range s.Rows {
			if r.Target == targetNetns && strings.HasPrefix(r.Metric, "memory per idle flow") {
				found = r.Median > 0
			}
		}
		if !found {
			t.Errorf("netns: no positive memory-per-idle-flow row for %s", targetNetns)
		}
		// Each path's network process's CPU per keep-alive request, user
		// and system apart: eplink netns always, pasta where installed.
		paths := []string{targetNetns}
		if _, err := exec.LookPath("pasta"); err == nil {
			paths = append(paths, targetPasta)
		}
		for _, target := range paths {
			for _, m := range []metric{mNetnsUser, mNetnsSys} {
				var row *Row
				for _, r := range s.Rows {
					if r.Target == target && r.Metric == m.name {
						row = r
					}
				}
				if row == nil {
					t.Errorf("netns: no %q row for %s; notes: %q", m.name, target, s.Notes)
				} else if row.Unit != "µs" || row.Median < 0 || len(row.Samples) == 0 {
					t.Errorf("netns: %s %q = %+v", target, m.name, row)
				}
			}
		}
		for _, r := range s.Rows {
			if r.Metric == mNetnsUser.name || r.Metric == mNetnsSys.name {
				t.Logf("netns: %s, %s: %.1f µs", r.Target, r.Metric, r.Median)
			}
		}
	}
	targets := map[string]bool{}
	for _, r := range rep.Scenarios[0].Rows {
		targets[r.Target] = true
	}
	for _, want := range []string{targetDirect, targetHAProxy, targetEplink} {
		if !targets[want] {
			t.Errorf("keepalive has no %s row", want)
		}
	}
	for _, f := range []string{"results.json", "results.md", "README-perf.md", "charts/ratios.png", "charts/migration-force-rps.png"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if !back.Quick || back.Machine.Cores == 0 || back.Machine.Tools["wrk"] == "" {
		t.Errorf("results.json does not name the run and machine: %+v", back.Machine)
	}
	if !strings.Contains(progress.String(), "[9/9] netns:") {
		t.Errorf("progress lacks the last scenario:\n%s", progress.String())
	}
}

func TestRunUnknownScenario(t *testing.T) {
	for _, only := range []string{"nope", "bulk,nope"} {
		_, err := Run(context.Background(), Options{Only: only, OutDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "keepalive") {
			t.Errorf("Only %q: err = %v, want the unknown name and the list of scenarios", only, err)
		}
	}
}
