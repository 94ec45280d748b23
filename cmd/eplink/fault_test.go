package main

import (
	"bytes"
	"strings"
	"testing"

	"eplink/controlplane/apitest"
)

// TestFaultCLBZone: `eplink fault --clb-zone-id` switches the CLBs of a
// zone to their backup zone through the lab API, and --recover brings them
// back; bad flags are usage errors.
func TestFaultCLBZone(t *testing.T) {
	env := apitest.New(t, apitest.Options{})
	fault := func(code int, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if got := run(append([]string{"fault", "--endpoint", env.Addr}, args...), &out, &errOut); got != code {
			t.Fatalf("eplink fault %v: exit %d, want %d; stderr: %s", args, got, code, errOut.String())
		}
		return out.String() + errOut.String()
	}
	lb := func(id string) (string, bool) {
		x := env.Publisher.Load().LoadBalancers[id]
		return x.ActiveZone, x.Unavailable
	}

	out := fault(0, "--clb-zone-id", apitest.ZoneH)
	if !strings.Contains(out, `"ActiveZoneId":"`+apitest.ZoneI+`"`) {
		t.Errorf("fault output: %s", out)
	}
	if z, down := lb(apitest.CLB1); z != apitest.ZoneI || down {
		t.Errorf("CLB1 (backup i) after the fault: active %q unavailable %v", z, down)
	}
	if _, down := lb(apitest.CLB2); !down {
		t.Error("CLB2 (no backup) after the fault: still available")
	}
	fault(0, "--clb-zone-id", apitest.ZoneH, "--recover")
	if z, down := lb(apitest.CLB1); z != "" || down {
		t.Errorf("CLB1 after recovery: active %q unavailable %v", z, down)
	}

	fault(1, "--clb-zone-id", "cn-hangzhou-x")
	fault(2, "--clb-zone-id", apitest.ZoneH, "--zone-id", apitest.ZoneH)
}
