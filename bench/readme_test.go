package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSpliceReadme(t *testing.T) {
	in := "# eplink\n\nintro\n\n" + perfBegin + "\nold numbers\n" + perfEnd + "\n\n## Next\n"
	out, err := SpliceReadme([]byte(in), []byte("## Performance\n\nnew numbers\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "# eplink\n\nintro\n\n" + perfBegin + "\n## Performance\n\nnew numbers\n" + perfEnd + "\n\n## Next\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	// Idempotent: splicing the same section twice changes nothing.
	again, _ := SpliceReadme(out, []byte("## Performance\n\nnew numbers\n"))
	if string(again) != want {
		t.Errorf("second splice differs:\n%s", again)
	}
	for _, bad := range []string{"no markers", perfEnd + perfBegin, perfBegin + " only"} {
		if _, err := SpliceReadme([]byte(bad), []byte("x")); err == nil {
			t.Errorf("spliced into %q", bad)
		}
	}
}

// TestRender writes a report, reads it back and renders it again: the
// Markdown, the README section and the charts come from the JSON alone.
func TestRender(t *testing.T) {
	dir := t.TempDir()
	r := &ScenarioResult{Name: "keepalive", Title: "Keep-alive"}
	for i, v := range []float64{100, 120, 110} {
		r.add(targetDirect, mRPS, v)
		r.add(targetEplink, mRPS, v*0.8)
		r.add(targetHAProxy, mRPS, v*0.9+float64(i))
	}
	r.finish(targetDirect)
	m := &ScenarioResult{Name: "migration", Title: "Migration",
		Series: []Series{{Chart: "migration-force-rps", Name: "backend A", Unit: "req/s", T: []float64{0.5, 1.5, 2.5}, V: []float64{10, 12, 0}}},
		Events: []Event{{Chart: "migration-force-rps", T: 1.8, Label: "Force replace"}}}
	m.add(targetEplink, metric{name: "Force: time to cut", unit: "ms"}, 42)
	m.finish("")
	rep := &Report{Machine: Machine{Cores: 2, Kernel: "6.1", Tools: map[string]string{"wrk": "wrk 4.1.0"}},
		Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Repeats: 3, Seconds: 5,
		Scenarios: []*ScenarioResult{r, m}}
	if err := rep.write(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "README-perf.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := Render(dir); err != nil {
		t.Fatal(err)
	}
	perf, err := os.ReadFile(filepath.Join(dir, "README-perf.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| keepalive | requests/s | eplink | 88 req/s | 0.80× direct |", "2 cores", "2026-01-02"} {
		if !strings.Contains(string(perf), want) {
			t.Errorf("README-perf.md lacks %q:\n%s", want, perf)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "results.md"))
	for _, want := range []string{"| eplink | Force: time to cut | 42 ms |", "![migration-force-rps](charts/migration-force-rps.png)", "wrk `wrk 4.1.0`"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
	for _, f := range []string{"charts/ratios.png", "charts/migration-force-rps.png"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
