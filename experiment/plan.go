// Package experiment runs failover experiments against eplink: load from a
// built-in client, a timeline of API calls and faults, a recording of what
// the clients saw every 100 ms, expectations checked against it, and a
// report.
//
//	plan.go     the plan file: schema, strict parsing, static checks
//	expect.go   expectations: parsing and evaluation over the recording
//	load.go     the built-in client (HTTP, DNS through eplink's server)
//	record.go   the 100 ms bins
//	run.go      the timeline, eplink's process (lab mode), the run
//	report.go   Markdown, JSON and PNG
package experiment

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"eplink/controlplane/lab"
	"eplink/dataplane/impair"
)

// Plan is a parsed experiment plan.
type Plan struct {
	// Name titles the report; default: the file's base name.
	Name string `yaml:"name"`
	// Lab, when set, is a lab file (relative to the plan) from which the
	// run starts its own eplink; without it the run uses a running one.
	Lab string `yaml:"lab"`
	// Duration of the whole run, load included.
	Duration time.Duration `yaml:"duration"`
	Load     []Load        `yaml:"load"`
	Timeline []Step        `yaml:"timeline"`
	Expect   []string      `yaml:"expect"`
	// NetnsPrefix is the prefix of the instances' namespaces of a running
	// eplink on the netns front end (its serve --netns-prefix; default
	// eplink-). A run that starts its own eplink picks its own.
	NetnsPrefix string `yaml:"netns_prefix"`

	file        string
	line        func(path string) int
	expectation []expectation
}

// Load is one group of built-in clients.
type Load struct {
	Name string `yaml:"name"`
	// Endpoint and Zone name the target the way a consumer does: the zone
	// domain of Zone, or the endpoint domain when Zone is empty. Host is a
	// literal name or address instead.
	Endpoint string `yaml:"endpoint"`
	Zone     string `yaml:"zone"`
	Host     string `yaml:"host"`
	// Instance runs the clients inside this ECS instance of a netns lab:
	// they connect from its namespace and resolve through its VPC's
	// resolver (100.100.2.136), as a process of the instance does.
	Instance string `yaml:"instance"`
	// As is the account (lab mode) or profile whose API call finds the
	// endpoint's domains; default "consumer".
	As   string `yaml:"as"`
	Port int    `yaml:"port"` // default 80
	Path string `yaml:"path"` // default /
	// Rate is requests per second, open loop; Connections is a number of
	// clients each sending its next request when the last is answered.
	// Default: 4 connections.
	Rate        int `yaml:"rate"`
	Connections int `yaml:"connections"`
	// KeepAlive reuses connections; default one connection per request.
	KeepAlive bool `yaml:"keep_alive"`
	// DNS: "per-connection" (default) resolves the name for every new
	// connection; "ttl" keeps an answer for its TTL, as a caching stub
	// resolver does; "cached" keeps it for DNSCache (default 30s, a JVM's
	// networkaddress.cache.ttl) whatever the TTL.
	DNS      string        `yaml:"dns"`
	DNSCache time.Duration `yaml:"dns_cache"`
	// Timeout of one request (connect to last byte); default 1s.
	Timeout time.Duration `yaml:"timeout"`
	// Kind is "http" (default: requests) or "stream": Connections long
	// downloads (GET /bytes of the demo backend), each read at Bandwidth
	// bytes/s (default 1000000); a stream that breaks is a failure of its
	// kind, and is opened again.
	Kind      string `yaml:"kind"`
	Bandwidth int    `yaml:"bandwidth"`
}

// Step is one moment of the timeline. Steps run in order: each waits until
// At (from the start) and then until Wait holds, then does its API call or
// fault, and is recorded as the event Name.
type Step struct {
	Name string        `yaml:"name"`
	At   time.Duration `yaml:"at"`
	// Wait is a condition: "zone EP ZONE STATUS" (ListVpcEndpointZones as
	// As, default consumer), "connection EP STATUS" (the endpoint's
	// ConnectionStatus), "service EPSRV STATUS" (as As, default provider),
	// or "eplink up".
	Wait    string        `yaml:"wait"`
	Timeout time.Duration `yaml:"timeout"` // of Wait; default 30s
	// As is the account or profile that makes the call.
	As  string   `yaml:"as"`
	API *APICall `yaml:"api"`
	// Fault is one of: zone-down EP ZONE, zone-up EP ZONE, clb-zone-down
	// ZONE, clb-zone-up ZONE, backend-down ADDR [stop|refuse|blackhole]
	// (a builtin backend; default stop), backend-up ADDR, backend-impair
	// ADDR SPEC… (latency=50ms jitter=5ms bandwidth=BYTES/S
	// reset-after=BYTES stall, or none), eni-impair ENI SPEC…, zone-impair
	// EP ZONE SPEC…, clb-impair LB SPEC… (what eplink sends to those
	// flows' clients), dataplane-restart [DOWNTIME] (the data plane only),
	// eplink-kill, eplink-start, eplink-restart.
	Fault string `yaml:"fault"`
}

// APICall is any API action with its parameters.
type APICall struct {
	Action string            `yaml:"action"`
	Params map[string]string `yaml:"params"`
}

// ParseFile reads and parses the plan at path.
func ParseFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes and checks a plan; every problem is reported as
// file:line: path: message.
func Parse(data []byte, name string) (*Plan, error) {
	var p Plan
	line, err := lab.Decode(data, name, "plan", &p)
	if err != nil {
		return nil, err
	}
	p.file, p.line = name, line
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// LabPath is the plan's lab file, relative to the plan's directory.
func (p *Plan) LabPath() string {
	if p.Lab == "" || filepath.IsAbs(p.Lab) {
		return p.Lab
	}
	return filepath.Join(filepath.Dir(p.file), p.Lab)
}

// maxDuration bounds a run: experiments are short, and the load they make
// must be bounded in time.
const maxDuration = 10 * time.Minute

// faults lists each fault and how many arguments it takes (backend-down's
// mode is optional).
var faults = map[string]int{
	"zone-down": 2, "zone-up": 2, "clb-zone-down": 1, "clb-zone-up": 1,
	"backend-down": 2, "backend-up": 1, "backend-impair": -1,
	"eni-impair": -1, "zone-impair": -1, "clb-impair": -1, "dataplane-restart": -1,
	"eplink-kill": 0, "eplink-start": 0, "eplink-restart": 0,
}

// impairFaults are the impairments and what each names before its spec.
var impairFaults = map[string]string{
	"backend-impair": "ADDR", "eni-impair": "ENI", "zone-impair": "EP ZONE", "clb-impair": "LB",
}

func (p *Plan) check() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, lab.NewError(p.file, p.line(path), path, fmt.Sprintf(format, args...)))
	}
	if p.Name == "" {
		p.Name = strings.TrimSuffix(filepath.Base(p.file), filepath.Ext(p.file))
	}
	switch {
	case p.Duration <= 0:
		bad("duration", "required: how long the run lasts, e.g. 15s")
	case p.Duration > maxDuration:
		bad("duration", "%s is longer than the %s a run may last", p.Duration, maxDuration)
	}
	if len(p.Load) == 0 {
		bad("load", "required: at least one group of clients")
	}
	names := map[string]string{"start": "", "end": ""}
	for i := range p.Load {
		p.checkLoad(i, bad, names)
	}
	var at time.Duration
	for i := range p.Timeline {
		at = p.checkStep(i, at, bad, names)
	}
	for i, e := range p.Expect {
		path := fmt.Sprintf("expect[%d]", i)
		x, err := parseExpectation(e)
		if err != nil {
			bad(path, "%v", err)
			continue
		}
		if x.load != "" && names[x.load] != "load" {
			var loads []string
			for _, l := range p.Load {
				loads = append(loads, l.Name)
			}
			bad(path, "no load is named %q (loads: %s)", x.load, strings.Join(loads, ", "))
		}
		for _, ev := range x.events() {
			if k, ok := names[ev]; !ok || k == "load" {
				bad(path, "no timeline step is named %q (steps: %s)", ev, stepNames(p.Timeline))
			}
		}
		p.expectation = append(p.expectation, x)
	}
	return joinSorted(errs)
}

func (p *Plan) checkLoad(i int, bad func(string, string, ...any), names map[string]string) {
	l := &p.Load[i]
	path := fmt.Sprintf("load[%d]", i)
	if l.Name == "" {
		l.Name = "load" + strconv.Itoa(i+1)
	}
	if _, dup := names[l.Name]; dup {
		bad(path+".name", "%q names another load or step", l.Name)
	}
	names[l.Name] = "load"
	switch {
	case l.Host == "" && l.Endpoint == "":
		bad(path, "needs endpoint (with zone for the zone domain) or host")
	case l.Host != "" && (l.Endpoint != "" || l.Zone != ""):
		bad(path+".host", "host goes without endpoint and zone")
	case l.Endpoint != "" && !strings.HasPrefix(l.Endpoint, "ep-"):
		bad(path+".endpoint", "%q is not an endpoint id (ep-…)", l.Endpoint)
	case strings.ContainsAny(l.Instance, "/ \t\n") || len(l.Instance) > 40:
		bad(path+".instance", "%q is not an instance id", l.Instance)
	}
	if l.As == "" {
		l.As = "consumer"
	}
	if l.Port == 0 {
		l.Port = 80
	} else if l.Port < 1 || l.Port > 65535 {
		bad(path+".port", "%d is not a port (1-65535)", l.Port)
	}
	if l.Path == "" {
		l.Path = "/"
	} else if !strings.HasPrefix(l.Path, "/") {
		bad(path+".path", "%q must start with /", l.Path)
	}
	switch l.Kind {
	case "", "http":
		l.Kind = "http"
	case "stream":
		if l.Rate > 0 {
			bad(path+".rate", "a stream load has connections, not a rate")
		}
		if l.Bandwidth == 0 {
			l.Bandwidth = 1_000_000
		}
	default:
		bad(path+".kind", "%q: want http or stream", l.Kind)
	}
	if l.Bandwidth < 0 || l.Bandwidth > 1<<30 {
		bad(path+".bandwidth", "%d bytes/s is outside 1-%d", l.Bandwidth, 1<<30)
	} else if l.Bandwidth > 0 && l.Kind != "stream" {
		bad(path+".bandwidth", "bandwidth is for kind: stream")
	}
	switch {
	case l.Rate < 0 || l.Rate > 5000:
		bad(path+".rate", "%d requests per second is outside 1-5000", l.Rate)
	case l.Connections < 0 || l.Connections > 256:
		bad(path+".connections", "%d connections is outside 1-256", l.Connections)
	case l.Rate > 0 && l.Connections > 0:
		bad(path+".connections", "rate and connections exclude each other: an open loop at a rate, or a number of clients")
	case l.Rate == 0 && l.Connections == 0:
		l.Connections = 4
	}
	switch l.DNS {
	case "":
		l.DNS = "per-connection"
	case "per-connection", "ttl", "cached":
	default:
		bad(path+".dns", "%q: want per-connection, ttl or cached", l.DNS)
	}
	if l.DNSCache == 0 {
		l.DNSCache = 30 * time.Second
	}
	if l.DNSCache < 0 {
		bad(path+".dns_cache", "must not be negative")
	}
	if l.Timeout == 0 {
		l.Timeout = time.Second
	}
	if l.Timeout < 0 {
		bad(path+".timeout", "must not be negative")
	}
}

func (p *Plan) checkStep(i int, prev time.Duration, bad func(string, string, ...any), names map[string]string) time.Duration {
	s := &p.Timeline[i]
	path := fmt.Sprintf("timeline[%d]", i)
	if s.Name == "" {
		s.Name = "step" + strconv.Itoa(i+1)
	}
	if _, dup := names[s.Name]; dup {
		bad(path+".name", "%q names another step or load (or is start/end)", s.Name)
	}
	names[s.Name] = "step"
	if s.At < 0 || s.At > p.Duration && p.Duration > 0 {
		bad(path+".at", "%s is outside the run (0-%s)", s.At, p.Duration)
	} else if s.At != 0 && s.At < prev {
		bad(path+".at", "%s is before the previous step's %s: steps run in order", s.At, prev)
	}
	acts := 0
	if s.API != nil {
		acts++
		if s.API.Action == "" {
			bad(path+".api.action", "required")
		}
		if s.As == "" {
			bad(path+".as", "required with api: the account (or profile) that calls")
		}
	}
	if s.Fault != "" {
		acts++
		f := strings.Fields(s.Fault)
		n, ok := faults[f[0]]
		switch {
		case !ok:
			msg := fmt.Sprintf("unknown fault %q (known: %s)", f[0], strings.Join(sortedKeys(faults), ", "))
			if c := lab.Closest(f[0], sortedKeys(faults)); c != "" {
				msg = fmt.Sprintf("unknown fault %q, did you mean %q?", f[0], c)
			}
			bad(path+".fault", "%s", msg)
		case f[0] == "backend-down" && len(f) == 3 && !contains([]string{"stop", "refuse", "blackhole"}, f[2]):
			bad(path+".fault", "backend-down %s: mode %q is not stop, refuse or blackhole", f[1], f[2])
		case f[0] == "backend-down" && len(f) == 2:
		case f[0] == "dataplane-restart" && len(f) > 2:
			bad(path+".fault", "dataplane-restart takes at most a downtime, got %d arguments", len(f)-1)
		case f[0] == "dataplane-restart" && len(f) == 2:
			if d, err := time.ParseDuration(f[1]); err != nil || d < 0 || d > 20*time.Second {
				bad(path+".fault", "dataplane-restart: %q is not a downtime from 0s to 20s", f[1])
			}
		case f[0] == "dataplane-restart":
		case impairFaults[f[0]] != "":
			k := len(strings.Fields(impairFaults[f[0]]))
			if len(f) < k+2 {
				bad(path+".fault", "%s takes %s and an impairment (latency=50ms jitter=5ms, none…)", f[0], impairFaults[f[0]])
			} else if _, err := impair.Parse(strings.Join(f[k+1:], " ")); err != nil {
				bad(path+".fault", "%s: %v", f[0], err)
			}
		case len(f)-1 != n:
			bad(path+".fault", "%s takes %d arguments, got %d", f[0], n, len(f)-1)
		}
	}
	if acts > 1 {
		bad(path, "one step does one thing: api or fault")
	}
	if s.Wait != "" {
		if err := checkWait(s.Wait); err != nil {
			bad(path+".wait", "%v", err)
		} else if s.As == "" && (strings.HasPrefix(s.Wait, "service ") || strings.HasPrefix(s.Wait, "alarm ")) {
			s.As = "provider"
		} else if s.As == "" && !strings.HasPrefix(s.Wait, "eplink ") {
			s.As = "consumer"
		}
	}
	if s.Timeout == 0 {
		s.Timeout = 30 * time.Second
	}
	if s.At > prev {
		return s.At
	}
	return prev
}

// checkWait checks the form of a wait condition.
// alarmStates are the AlertStates of CloudMonitor's DescribeMetricRuleList.
var alarmStates = []string{"OK", "ALARM", "INSUFFICIENT_DATA"}

func checkWait(w string) error {
	f := strings.Fields(w)
	switch {
	case len(f) == 4 && f[0] == "zone":
		return nil
	case len(f) == 3 && (f[0] == "connection" || f[0] == "service"):
		return nil
	case len(f) == 2 && f[0] == "eplink" && f[1] == "up":
		return nil
	case len(f) == 3 && f[0] == "alarm" && !contains(alarmStates, f[2]):
		return fmt.Errorf("%q: alarm state %q is not one of %s", w, f[2], strings.Join(alarmStates, ", "))
	case len(f) == 3 && f[0] == "alarm":
		return nil
	}
	return fmt.Errorf("%q: want \"zone EP ZONE STATUS\", \"connection EP STATUS\", \"service EPSRV STATUS\", \"alarm RULEID STATE\" or \"eplink up\"", w)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinSorted joins the problems in the order of their lines.
func joinSorted(errs []error) error {
	line := func(err error) int {
		var le *lab.Error
		if errors.As(err, &le) {
			return le.Line
		}
		return 0
	}
	sort.SliceStable(errs, func(i, j int) bool { return line(errs[i]) < line(errs[j]) })
	return errors.Join(errs...)
}

func stepNames(steps []Step) string {
	var n []string
	for _, s := range steps {
		n = append(n, s.Name)
	}
	if len(n) == 0 {
		return "none; start and end are always there"
	}
	return strings.Join(n, ", ")
}
