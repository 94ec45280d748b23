package dns

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"eplink/controlplane/snapshot"
)

// TestDig asks with dig, the tool users reach for, when it is installed.
func TestDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not installed")
	}
	pub := new(snapshot.Publisher)
	pub.Publish(world())
	_, addr := startServer(t, Config{}, pub)
	host, port, _ := net.SplitHostPort(addr)

	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		args = append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)
		out, err := exec.CommandContext(ctx, dig, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	out := run("+short", zoneDomain("ep-one", zoneH, "epsrv-plain"))
	if strings.TrimSpace(out) != "127.10.0.10" {
		t.Errorf("dig +short zone domain: %q", out)
	}
	for _, proto := range []string{"+notcp", "+tcp"} {
		out = run(proto, epDomain("ep-one", "epsrv-plain"), "A")
		for _, want := range []string{"status: NOERROR", " aa ", "127.10.0.10", "127.10.1.10", "EDNS: version: 0"} {
			if !strings.Contains(out, want) {
				t.Errorf("dig %s: no %q in\n%s", proto, want, out)
			}
		}
	}
	out = run("nope."+apex, "A")
	if !strings.Contains(out, "status: NXDOMAIN") || !strings.Contains(out, "SOA") {
		t.Errorf("dig NXDOMAIN:\n%s", out)
	}
	out = run("-b", "127.10.1.5", "+short", epDomain("ep-aff", "epsrv-aff"))
	if lines := strings.Fields(out); len(lines) != 2 || lines[0] != "127.10.1.20" {
		t.Errorf("dig from zone i with affinity: %q", out)
	}
}
