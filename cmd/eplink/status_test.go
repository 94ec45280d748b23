package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"eplink/controlplane/rpc"
)

// cannedStatusAPI answers as a server would in the middle of a Graceful
// migration: the caller (consumer and provider at once, as in a one-account
// lab) has ep-1 with zone h migrated from lb-clb1 to lb-clb2, and zone i
// still connecting; its service epsrv-1 sees the same endpoint.
func cannedStatusAPI() map[string]rpc.Handler {
	zones := []any{
		map[string]any{"ZoneId": "cn-hangzhou-i", "ZoneStatus": "Connecting", "EniIp": "127.10.1.5", "ResourceId": "",
			"StatusInfo": "EniNotServed: address already in use"},
		map[string]any{"ZoneId": "cn-hangzhou-h", "ZoneStatus": "Migrated", "EniIp": "127.10.0.6",
			"ResourceId": "lb-clb2", "ReplacedResourceId": "lb-clb1", "ReplacedEniId": "eni-old"},
	}
	return map[string]rpc.Handler{
		"ListVpcEndpoints": func(ctx context.Context, c *rpc.Call) (any, error) {
			return map[string]any{"Endpoints": []any{
				map[string]any{"EndpointId": "ep-1", "ServiceId": "epsrv-1", "EndpointStatus": "Active", "ConnectionStatus": "Connected", "Bandwidth": 1024},
				map[string]any{"EndpointId": "ep-0", "ServiceId": "epsrv-9", "EndpointStatus": "Active", "ConnectionStatus": "Disconnected", "Bandwidth": "100"},
			}, "TotalCount": 2}, nil
		},
		"ListVpcEndpointZones": func(ctx context.Context, c *rpc.Call) (any, error) {
			if c.Params.Get("EndpointId") != "ep-1" {
				return map[string]any{"Zones": []any{}}, nil
			}
			return map[string]any{"Zones": zones}, nil
		},
		"ListVpcEndpointServices": func(ctx context.Context, c *rpc.Call) (any, error) {
			// Two pages, to exercise NextToken.
			if c.Params.Get("NextToken") == "" {
				return map[string]any{"Services": []any{map[string]any{"ServiceId": "epsrv-1"}}, "NextToken": "p2"}, nil
			}
			return map[string]any{"Services": []any{map[string]any{"ServiceId": "epsrv-2"}}, "NextToken": ""}, nil
		},
		"ListVpcEndpointConnections": func(ctx context.Context, c *rpc.Call) (any, error) {
			if c.Params.Get("ServiceId") != "epsrv-1" {
				return map[string]any{"Connections": []any{}}, nil
			}
			return map[string]any{"Connections": []any{map[string]any{
				"EndpointId": "ep-1", "EndpointOwnerId": 1000000000000002, "ConnectionStatus": "Connected",
				"Bandwidth": 1024, "Zones": zones,
			}}}, nil
		},
	}
}

// metricsSeq serves /metrics whose byte counters grow on every scrape.
type metricsSeq struct {
	mu    sync.Mutex
	calls int
	fail  bool
}

func (m *metricsSeq) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	n := m.calls
	m.calls++
	fail := m.fail
	m.mu.Unlock()
	if fail {
		http.NotFound(w, r)
		return
	}
	// Per scrape: 2.5 MB client->backend on lb-clb2 plus 1.25 MB on the
	// old lb-clb1 (3.75 MB = 30 Mbps over 1s), 125 kB back (1 Mbps).
	up := 1e6 + float64(n)*3.75e6
	fmt.Fprintf(w, `# HELP eplink_dataplane_flows_active Flows being forwarded now.
# TYPE eplink_dataplane_flows_active gauge
eplink_dataplane_flows_active{endpoint_id="ep-1",resource_id="lb-clb2",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 3
eplink_dataplane_flows_active{endpoint_id="ep-1",resource_id="lb-clb1",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 2
eplink_dataplane_flows_active{endpoint_id="ep-7",resource_id="lb-x",service_id="epsrv-7",zone_id="cn-hangzhou-h"} 9
# TYPE eplink_dataplane_flow_bytes_total counter
eplink_dataplane_flow_bytes_total{direction="client_to_backend",endpoint_id="ep-1",resource_id="lb-clb2",service_id="epsrv-1",zone_id="cn-hangzhou-h"} %g
eplink_dataplane_flow_bytes_total{direction="client_to_backend",endpoint_id="ep-1",resource_id="lb-clb1",service_id="epsrv-1",zone_id="cn-hangzhou-h"} %g
eplink_dataplane_flow_bytes_total{direction="backend_to_client",endpoint_id="ep-1",resource_id="lb-clb2",service_id="epsrv-1",zone_id="cn-hangzhou-h"} %g
eplink_dataplane_flows_refused_total{endpoint_id="ep-1",reason="sg_denied",service_id="epsrv-1",zone_id="cn-hangzhou-h"} 4
eplink_dataplane_clb_zone{resource_id="lb-clb1",role="primary",zone_id="cn-hangzhou-h"} 1
eplink_dataplane_clb_zone{resource_id="lb-clb2",role="backup",zone_id="cn-hangzhou-i"} 1
eplink_dataplane_clb_zone{resource_id="lb-x",role="unavailable",zone_id=""} 1
`, up*2/3, up/3, float64(n)*125e3)
}

func TestStatusView(t *testing.T) {
	cliEnv(t)
	metrics := &metricsSeq{}
	api := newFakeAPI(t, cannedStatusAPI(), metrics)
	c, err := newAPIClient("", "", "", api.URL, "", os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := &statusWatcher{c: c, now: func() time.Time { at = at.Add(time.Second); return at }}
	ctx := context.Background()

	// The first view has no rate yet; the second has one.
	if _, err := s.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := s.refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := renderStatus(&out, v); err != nil {
		t.Fatal(err)
	}
	want := strings.ReplaceAll(`eplink status  URL  2026-01-02 03:04:07 UTC
CLB lb-clb2 runs in its backup zone cn-hangzhou-i (primary zone failed)

MY ENDPOINTS
ENDPOINT  SERVICE  CONNECTION    ZONE           ZONE STATE   ENI IP      CLB      REPLACED CLB  FLOWS       MBPS/CAP
ep-0      epsrv-9  Disconnected  -              -            -           -        -             -           -/100
ep-1      epsrv-1  Connected     cn-hangzhou-h  Migrated     127.10.0.6  lb-clb2  lb-clb1       3 (+2 old)  30.0/1024
ep-1      epsrv-1  Connected     cn-hangzhou-i  Connecting!  127.10.1.5  -        -             0           0.0/1024
! ep-1 cn-hangzhou-i: EniNotServed: address already in use

CONNECTIONS TO MY SERVICES
ENDPOINT  OWNER             SERVICE  CONNECTION  ZONE           ZONE STATE   ENI IP      CLB      REPLACED CLB  FLOWS       MBPS/CAP
ep-1      1000000000000002  epsrv-1  Connected   cn-hangzhou-h  Migrated     127.10.0.6  lb-clb2  lb-clb1       3 (+2 old)  30.0/1024
ep-1      1000000000000002  epsrv-1  Connected   cn-hangzhou-i  Connecting!  127.10.1.5  -        -             0           0.0/1024
! ep-1 cn-hangzhou-i: EniNotServed: address already in use
`, "URL", api.URL)
	if got := out.String(); got != want {
		t.Errorf("view:\n%s\nwant:\n%s", got, want)
	}

	// Without /metrics the view still shows the API's side.
	metrics.mu.Lock()
	metrics.fail = true
	metrics.mu.Unlock()
	v, err = s.refresh(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	renderStatus(&out, v)
	for _, line := range []string{
		"metrics unavailable: GET /metrics: 404 Not Found\n",
		"ep-1      epsrv-1  Connected     cn-hangzhou-h  Migrated     127.10.0.6  lb-clb2  lb-clb1       -      -/1024\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("view without metrics:\n%s\nwant a line:\n%s", out.String(), line)
		}
	}
}

func TestStatusCommand(t *testing.T) {
	cliEnv(t)
	api := newFakeAPI(t, cannedStatusAPI(), &metricsSeq{})
	t.Run("once", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"status", "--endpoint", api.URL, "--once", "--interval", "20ms"}, &stdout, &stderr)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if strings.Contains(stdout.String(), "\x1b[") {
			t.Error("--once output has terminal escapes")
		}
		if !strings.Contains(stdout.String(), "MY ENDPOINTS") || !strings.Contains(stdout.String(), "lb-clb1") {
			t.Errorf("stdout:\n%s", stdout.String())
		}
	})
	t.Run("live until cancelled, not a terminal", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		var stdout bytes.Buffer
		if err := statusCmd(ctx, []string{"--endpoint", api.URL, "--interval", "20ms"}, &stdout, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(stdout.String(), "eplink status  "); n < 2 {
			t.Errorf("%d views drawn in 200ms at 20ms, want several", n)
		}
	})
	t.Run("API error with --once", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"status", "--endpoint", api.URL, "--once", "--interval", "10ms", "--access-key-id", "LTAInobody"}, &stdout, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "InvalidAccessKeyId") {
			t.Fatalf("exit %d, stderr %s", code, stderr.String())
		}
	})
	t.Run("usage", func(t *testing.T) {
		var stderr bytes.Buffer
		if code := run([]string{"status", "--bogus"}, &bytes.Buffer{}, &stderr); code != 2 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	})
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP x
eplink_dataplane_flows_active{endpoint_id="ep-1",zone_id="z",resource_id="a\"b\\c"} 2 1700000000000
eplink_dataplane_flows_active 7
eplink_dataplane_flow_bytes_total{endpoint_id="ep-1", zone_id="z",} 1.5e+06
eplink_dataplane_flows_active{endpoint_id="ep-2" 3
eplink_dataplane_flows_active{endpoint_id="ep-3"} notanumber
other_metric{endpoint_id="ep-1"} 1
`
	ms := parseMetrics([]byte(text))
	flows := ms.byName[metricActiveFlows]
	if len(flows) != 2 || flows[0].value != 2 || flows[0].labels["resource_id"] != `a"b\c` || flows[1].value != 7 {
		t.Errorf("flows = %+v", flows)
	}
	bytesSamples := ms.byName[metricFlowBytes]
	if len(bytesSamples) != 1 || bytesSamples[0].value != 1.5e6 || bytesSamples[0].labels["zone_id"] != "z" {
		t.Errorf("bytes = %+v", bytesSamples)
	}
	if len(ms.byName) != 2 {
		t.Errorf("kept families %v", ms.byName)
	}
}

// FuzzParseMetrics: whatever the text, parsing does not panic, keeps only
// the families the view reads, and reads each line on its own; a sample
// written in the exposition format (any label values, escapes included)
// comes back exactly, and flows() counts it on the current or the replaced
// resource as its resource_id says.
func FuzzParseMetrics(f *testing.F) {
	f.Add(`eplink_dataplane_flows_active{endpoint_id="ep-1",zone_id="z"} 2`, "ep-1", "z", "lb-1", 2.0)
	f.Add(`eplink_dataplane_flow_bytes_total{a="\\",b="\""} 1e3 123`, `a"b`, "z\\n", "", 1e3)
	f.Add(`eplink_dataplane_flows_active{`, "", "line\nbreak", "lb-2", -0.5)
	f.Fuzz(func(t *testing.T, text, ep, zone, res string, v float64) {
		ms := parseMetrics([]byte(text))
		ms.flows(ep, zone, res, "") // must not panic
		n := 0
		for name, smps := range ms.byName {
			if name != metricActiveFlows && name != metricFlowBytes {
				t.Fatalf("kept family %q", name)
			}
			n += len(smps)
		}
		// Line by line gives the same samples.
		perLine := 0
		for _, line := range strings.Split(text, "\n") {
			for _, smps := range parseMetrics([]byte(line)).byName {
				perLine += len(smps)
			}
		}
		if len(text) < 64<<10 && perLine != n {
			t.Fatalf("%d samples from the text, %d from its lines", n, perLine)
		}
		if v != v {
			return // NaN never equals itself
		}
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
		line := fmt.Sprintf(`%s{endpoint_id="%s",zone_id="%s",resource_id="%s"} %s`,
			metricActiveFlows, esc.Replace(ep), esc.Replace(zone), esc.Replace(res), strconv.FormatFloat(v, 'g', -1, 64))
		one := parseMetrics([]byte(line)).byName[metricActiveFlows]
		if len(one) != 1 {
			t.Fatalf("%q parsed into %d samples", line, len(one))
		}
		want := map[string]string{"endpoint_id": ep, "zone_id": zone, "resource_id": res}
		if !maps.Equal(one[0].labels, want) || one[0].value != v {
			t.Fatalf("%q parsed as %v %v", line, one[0].labels, one[0].value)
		}
		set := &metricSet{byName: map[string][]metricSample{metricActiveFlows: one}}
		if cur, old := set.flows(ep, zone, res, ""); cur != v || old != 0 {
			t.Fatalf("on its own resource: cur %v old %v, want %v 0", cur, old, v)
		}
		if res != "" {
			if cur, old := set.flows(ep, zone, res+"x", res); cur != 0 || old != v {
				t.Fatalf("on the replaced resource: cur %v old %v, want 0 %v", cur, old, v)
			}
		}
		if cur, old := set.flows(ep+"x", zone, res, ""); cur != 0 || old != 0 {
			t.Fatalf("another endpoint's flows counted: %v %v", cur, old)
		}
	})
}
