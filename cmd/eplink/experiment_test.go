package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"eplink/controlplane/apitest"
)

// TestExperimentRunning: `eplink experiment run` with a plan without lab:
// uses the running eplink of the profiles: its accounts sign the plan's
// API calls (a bad call fails the run, naming the step); an expectation
// that cannot hold exits 1 with the number; the report is written.
func TestExperimentRunning(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "Hello World ! This is ECS01.\n")
	}))
	defer backend.Close()
	port := backend.Listener.Addr().(interface{ String() string }).String()
	port = port[strings.LastIndex(port, ":")+1:]
	dir := t.TempDir()
	t.Setenv("EPLINK_CONFIG", filepath.Join(dir, "config.json"))
	pf := &profileFile{Current: "consumer", Endpoint: env.Addr, Region: apitest.Region, Profiles: map[string]profile{
		"consumer": {AccessKeyID: apitest.ConsumerAK, AccessKeySecret: apitest.ConsumerSK, Endpoint: env.Addr, Region: apitest.Region},
		"provider": {AccessKeyID: apitest.ProviderAK, AccessKeySecret: apitest.ProviderSK, Endpoint: env.Addr, Region: apitest.Region},
	}}
	if _, err := saveProfile(pf); err != nil {
		t.Fatal(err)
	}
	plan := func(name, action, expect string) string {
		path := filepath.Join(dir, name+".yaml")
		body := fmt.Sprintf(`duration: 1s
load:
  - {host: 127.0.0.1, port: %s, rate: 20}
timeline:
  - {name: call, at: 200ms, as: provider, api: {action: %s}}
expect:
  - %s
`, port, action, expect)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	exp := func(code int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(append([]string{"experiment", "run"}, args...), &out, &errOut); got != code {
			t.Fatalf("eplink experiment run %v: exit %d, want %d\n%s%s", args, got, code, out.String(), errOut.String())
		}
		return out.String() + errOut.String()
	}

	out := exp(0, plan("good", "DescribeRegions", "answered_by ECS01 > 5"), "--out", filepath.Join(dir, "report"))
	if !strings.Contains(out, "PASS good") || !strings.Contains(out, "ok: answered_by ECS01 > 5") {
		t.Errorf("output:\n%s", out)
	}
	for _, f := range []string{"report.md", "report.json", "timeline.png", "latency.png"} {
		if _, err := os.Stat(filepath.Join(dir, "report", f)); err != nil {
			t.Error(err)
		}
	}
	out = exp(1, plan("never", "DescribeRegions", "failed > 0"))
	if !strings.Contains(out, "FAILED: failed > 0 (measured 0 over 0.0s-1.0s)") {
		t.Errorf("output:\n%s", out)
	}
	out = exp(1, plan("badcall", "NoSuchAction", "ok > 0"))
	if !strings.Contains(out, "FAILED: step call:") {
		t.Errorf("output:\n%s", out)
	}
	if out := exp(1, filepath.Join(dir, "missing.yaml")); !strings.Contains(out, "no such file") {
		t.Errorf("output:\n%s", out)
	}
	exp(2)
}
