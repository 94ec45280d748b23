package bench

import (
	"bytes"
	"testing"
	"time"

	"eplink/controlplane/lab"
)

// TestBenchLabs: both bench labs are valid labs, and their CLBs do no
// health checks during a run: an iperf3 server takes a check's connect
// and close for a client and now and then aborts the test in progress
// (1 of 12 runs of 64 streams).
func TestBenchLabs(t *testing.T) {
	for name, write := range map[string]func(*bytes.Buffer) error{
		"loopback": func(b *bytes.Buffer) error { return writeLab(b, 18081, 18082, 15201) },
		"netns":    func(b *bytes.Buffer) error { return writeNetnsLab(b, 18081, 15201) },
	} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatal(err)
			}
			l, err := lab.Parse(b.Bytes(), name+".yaml")
			if err != nil {
				t.Fatalf("%v\n%s", err, b.String())
			}
			if len(l.LoadBalancers) == 0 {
				t.Fatal("no CLBs")
			}
			for _, lb := range l.LoadBalancers {
				if lb.HealthCheck == nil || lb.HealthCheck.Interval < time.Hour {
					t.Errorf("CLB %s checks its backends during a run: %+v", lb.ID, lb.HealthCheck)
				}
			}
		})
	}
}
