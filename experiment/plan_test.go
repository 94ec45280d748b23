package experiment

import (
	"strings"
	"testing"
	"time"
)

const goodPlan = `lab: lab.yaml
duration: 10s
load:
  - name: web
    endpoint: ep-exp1
    zone: cn-hangzhou-h
    rate: 50
timeline:
  - name: down
    at: 2s
    fault: zone-down ep-exp1 cn-hangzhou-h
  - name: replace
    as: provider
    api:
      action: UpdateVpcEndpointZoneConnectionResourceAttribute
      params: {ServiceId: epsrv-1, Bandwidth: 200}
expect:
  - failed == 0 between start and down
  - recovery < 3s after down+1s
`

func TestParseGood(t *testing.T) {
	p, err := Parse([]byte(goodPlan), "dir/plan.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := p.Load[0]
	if l.Port != 80 || l.Path != "/" || l.DNS != "per-connection" || l.Timeout != time.Second || l.As != "consumer" || l.Connections != 0 {
		t.Errorf("load defaults: %+v", l)
	}
	if p.Name != "plan" || p.LabPath() != "dir/lab.yaml" {
		t.Errorf("name %q, lab %q", p.Name, p.LabPath())
	}
	if got := p.Timeline[1].API.Params["Bandwidth"]; got != "200" {
		t.Errorf("params: Bandwidth = %q", got)
	}
	if len(p.expectation) != 2 || p.expectation[1].from != (mark{"down", time.Second}) {
		t.Errorf("expectations: %+v", p.expectation)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, plan, want string
	}{
		{"empty", "", "p.yaml: the plan is empty"},
		{"syntax", "duration: [", "p.yaml:1: YAML syntax"},
		{"unknown key", "duration: 1s\nloadd: []\n", `p.yaml:2: loadd: unknown key "loadd", did you mean "load"?`},
		{"no duration", "load: [{host: 127.0.0.1}]\n", "p.yaml:1: duration: required"},
		{"duration unit", "duration: 10\nload: [{host: 127.0.0.1}]\n", "p.yaml:1: duration: duration 10 needs a unit"},
		{"too long", "duration: 1h\nload: [{host: 127.0.0.1}]\n", "p.yaml:1: duration: 1h0m0s is longer"},
		{"no load", "duration: 1s\n", "p.yaml:1: load: required"},
		{"load target", "duration: 1s\nload:\n  - {rate: 5}\n", "p.yaml:3: load[0]: needs endpoint"},
		{"host and endpoint", "duration: 1s\nload:\n  - {host: a, endpoint: ep-1}\n", "p.yaml:3: load[0].host: host goes without"},
		{"not an endpoint", "duration: 1s\nload:\n  - {endpoint: epsrv-1}\n", `p.yaml:3: load[0].endpoint: "epsrv-1" is not an endpoint id`},
		{"rate and conns", "duration: 1s\nload:\n  - host: a\n    rate: 5\n    connections: 2\n", "p.yaml:5: load[0].connections: rate and connections exclude"},
		{"rate bound", "duration: 1s\nload:\n  - host: a\n    rate: 9000\n", "p.yaml:4: load[0].rate: 9000 requests per second"},
		{"dns mode", "duration: 1s\nload:\n  - host: a\n    dns: jvm\n", `p.yaml:4: load[0].dns: "jvm": want per-connection, ttl or cached`},
		{"rate type", "duration: 1s\nload:\n  - host: a\n    rate: fast\n", `p.yaml:4: load[0].rate: expected an integer, got "fast"`},
		{"fault name", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: zone-dwon ep-1 z\n", `p.yaml:4: timeline[0].fault: unknown fault "zone-dwon", did you mean "zone-down"?`},
		{"fault args", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: zone-down ep-1\n", "p.yaml:4: timeline[0].fault: zone-down takes 2 arguments, got 1"},
		{"backend mode", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: backend-down 127.0.0.1:80 crash\n", `p.yaml:4: timeline[0].fault: backend-down 127.0.0.1:80: mode "crash" is not stop`},
		{"impair spec", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: backend-impair 127.0.0.1:80 latency=5ms jitter=9ms\n", "p.yaml:4: timeline[0].fault: backend-impair: jitter must not exceed the latency"},
		{"impair none", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: backend-impair 127.0.0.1:80\n", "p.yaml:4: timeline[0].fault: backend-impair takes ADDR and an impairment"},
		{"zone impair short", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: zone-impair ep-a latency=5ms\n", "p.yaml:4: timeline[0].fault: zone-impair takes EP ZONE and an impairment"},
		{"clb impair spec", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: clb-impair lb-a loss=200%\n", "p.yaml:4: timeline[0].fault: clb-impair: loss must be between"},
		{"restart downtime", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: dataplane-restart 1m\n", `p.yaml:4: timeline[0].fault: dataplane-restart: "1m" is not a downtime from 0s to 20s`},
		{"restart args", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: dataplane-restart 1s 2s\n", "p.yaml:4: timeline[0].fault: dataplane-restart takes at most a downtime"},
		{"alarm state", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - wait: alarm r1 FIRING\n", `p.yaml:4: timeline[0].wait: "alarm r1 FIRING": alarm state "FIRING" is not one of OK, ALARM, INSUFFICIENT_DATA`},
		{"alarm args", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - wait: alarm ALARM\n", `p.yaml:4: timeline[0].wait: "alarm ALARM": want`},
		{"instance id", "duration: 5s\nload: [{host: a, instance: ecs 03}]\n", `p.yaml:2: load[0].instance: "ecs 03" is not an instance id`},
		{"eni impair typo", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - fault: eni-impiar eni-a stall\n", `p.yaml:4: timeline[0].fault: unknown fault "eni-impiar", did you mean "eni-impair"?`},
		{"api without as", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - api: {action: DescribeRegions}\n", "p.yaml:4: timeline[0].as: required with api"},
		{"api and fault", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - as: provider\n    api: {action: DescribeRegions}\n    fault: eplink-kill\n", "p.yaml:4: timeline[0]: one step does one thing"},
		{"params type", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - as: p\n    api: {action: A, params: [x]}\n", "p.yaml:5: timeline[0].api.params: expected a mapping"},
		{"at order", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - at: 3s\n  - at: 1s\n", "p.yaml:5: timeline[1].at: 1s is before the previous step's 3s"},
		{"at past end", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - at: 6s\n", "p.yaml:4: timeline[0].at: 6s is outside the run"},
		{"wait form", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - wait: zone Migrated\n", `p.yaml:4: timeline[0].wait: "zone Migrated": want`},
		{"dup step", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - name: x\n  - name: x\n", `p.yaml:5: timeline[1].name: "x" names another step`},
		{"expect metric", "duration: 5s\nload: [{host: a}]\nexpect:\n  - errors == 0\n", `p.yaml:4: expect[0]: unknown metric "errors"`},
		{"expect op", "duration: 5s\nload: [{host: a}]\nexpect:\n  - failed = 0\n", "p.yaml:4: expect[0]: \"failed = 0\": want METRIC OP VALUE"},
		{"expect value", "duration: 5s\nload: [{host: a}]\nexpect:\n  - p99 < 50\n", "p.yaml:4: expect[0]: p99 compares with a duration"},
		{"expect event", "duration: 5s\nload: [{host: a}]\nexpect:\n  - failed == 0 after replace\n", `p.yaml:4: expect[0]: no timeline step is named "replace"`},
		{"expect load", "duration: 5s\nload: [{host: a, name: web}]\nexpect:\n  - api.failed == 0\n", `p.yaml:4: expect[0]: no load is named "api" (loads: web)`},
		{"params dup", "duration: 5s\nload: [{host: a}]\ntimeline:\n  - as: p\n    api: {action: A, params: {X: 1, X: 2}}\n", "p.yaml:5: timeline[0].api.params.X: duplicate key"},
		{"expect window", "duration: 5s\nload: [{host: a}]\nexpect:\n  - failed == 0 during start\n", `p.yaml:4: expect[0]: "during start": a window is`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.plan), "p.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v\nwant %q", err, tc.want)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	bins := make([]*Bin, 30) // 3 s
	for i := range bins {
		bins[i] = &Bin{T: float64(i) / 10, OK: 10, Backend: map[string]int{"ECS01": 10}, lat: []float64{1, 2, 3, 4, 50}}
	}
	bins[12].Failed = map[string]int{KindReset: 2}
	for i := 5; i < 30; i += 5 { // health sampled every 500 ms: out at 1.5 s, in at 2.5 s
		bins[i].Health = map[string]int{"10.0.0.1:80": 1}
		if i == 15 || i == 20 {
			bins[i].Health["10.0.0.1:80"] = 0
		}
	}
	bins[14].Failed = map[string]int{KindRefused: 1}
	// Events fall between bin edges; a bin belongs to the window holding
	// its middle, so that "before" and "after" an event miss nothing.
	at := map[string]float64{"start": 0, "end": 3, "cut": 1.0, "mid": 1.23}
	for _, tc := range []struct {
		expect string
		pass   bool
		value  float64
	}{
		{"failed == 0", false, 3},
		{"failed == 0 before cut", true, 0},
		{"failed <= 3 after cut", true, 3},
		{"reset == 2", true, 2},
		{"refused == 1 between cut and cut+0.5s", true, 1},
		{"refused == 0 between cut and cut+0.4s", true, 0},
		{"recovery < 600ms after cut", true, 500},
		{"recovery < 400ms after cut", false, 500},
		{"recovery == 0s before cut", true, 0},
		{"failed == 3 after mid", true, 3},
		{"failed == 0 before mid", true, 0},
		{"ok == 300", true, 300},
		{"backend_out 10.0.0.1:80 < 600ms after cut", true, 500},
		{"backend_in 10.0.0.1:80 <= 1s after cut+500ms", true, 1000},
		{"backend_out 10.0.0.2:80 < 10s", false, 3000},
		{"requests == 303", true, 303},
		{"answered_by ECS01 >= 300", true, 300},
		{"answered_by ECS02 > 0", false, 0},
		{"p50 <= 3ms", true, 3},
		{"p99 < 50ms", false, 50},
	} {
		x, err := parseExpectation(tc.expect)
		if err != nil {
			t.Fatalf("%s: %v", tc.expect, err)
		}
		o := x.evaluate(bins, at, 3)
		if o.Pass != tc.pass || o.Value != tc.value {
			t.Errorf("%s: pass %v value %v, want %v %v (%s)", tc.expect, o.Pass, o.Value, tc.pass, tc.value, o.Text())
		}
	}
}
