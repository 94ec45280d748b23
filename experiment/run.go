package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"eplink/controlplane/lab"
)

// Caller makes one signed API call and returns the body of a 2xx answer.
type Caller func(ctx context.Context, action string, params map[string]string) ([]byte, error)

// Credentials are an AccessKey pair.
type Credentials struct{ KeyID, Secret string }

// Options say where a run's eplink is and how to reach it.
type Options struct {
	// Eplink is the eplink binary that lab mode starts.
	Eplink string
	// API, DNS, LabKey and Region locate a running eplink (plans without
	// lab:); Accounts are its profiles by name.
	API, DNS, LabKey, Region string
	Accounts                 map[string]Credentials
	// NewCaller returns the signed API client of one account at api; the
	// CLI's, so that every action it knows (PrivateLink, CloudMonitor)
	// works in a plan.
	NewCaller func(api, region string, c Credentials) Caller
	// Progress receives a line per event; nil for none.
	Progress io.Writer
}

// Result is a finished run.
type Result struct {
	Name     string    `json:"name"`
	Plan     string    `json:"plan"`
	Started  time.Time `json:"started"`
	Duration float64   `json:"duration_s"`
	Pass     bool      `json:"pass"`
	Problems []string  `json:"problems,omitempty"` // steps that failed
	Outcomes []Outcome `json:"expectations"`
	Events   []Event   `json:"events"`
	Loads    []LoadRef `json:"loads"`
	Bins     []*Bin    `json:"bins"`
}

// LoadRef says what a load group connected to, and what it saw.
type LoadRef struct {
	Name string `json:"name"`
	Host string `json:"host"`
	Mode string `json:"mode"`
	Bins []*Bin `json:"bins"`
}

// run is the state of one run.
type run struct {
	p     *Plan
	o     Options
	start time.Time
	rec   *recorder
	api   string
	dns   string
	// netnsPrefix names the instances' namespaces (loads with instance:).
	netnsPrefix string
	labKey      string
	region      string
	accts       map[string]Credentials
	hc          *http.Client

	mu       sync.Mutex
	callers  map[string]Caller
	proc     *exec.Cmd // lab mode
	procDone chan struct{}
	procArgs []string
	procLog  *os.File
}

// Run runs the plan: it starts eplink when the plan names a lab, resolves
// the loads' names, runs load and timeline for the plan's duration, and
// checks the expectations. An error means the run could not be made; a
// run whose expectations fail returns a Result with Pass false.
func Run(ctx context.Context, p *Plan, o Options) (*Result, error) {
	r := &run{p: p, o: o, api: o.API, dns: o.DNS, labKey: o.LabKey, region: o.Region,
		accts: o.Accounts, callers: map[string]Caller{}, hc: &http.Client{Timeout: 5 * time.Second},
		netnsPrefix: p.NetnsPrefix}
	if r.netnsPrefix == "" {
		r.netnsPrefix = "eplink-"
	}
	if p.Lab == "" {
		for _, s := range p.Timeline {
			if strings.HasPrefix(s.Fault, "eplink-") {
				return nil, fmt.Errorf("%s: %s needs a plan with lab: (a run starts and stops only its own eplink)", s.Name, s.Fault)
			}
		}
	} else if err := r.startLab(ctx); err != nil {
		return nil, err
	}
	defer r.stopEplink()
	if err := r.waitUp(ctx, 30*time.Second); err != nil {
		return nil, err
	}
	var clients []*client
	var refs []LoadRef
	for _, l := range p.Load {
		host, err := r.hostOf(ctx, l)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", l.Name, err)
		}
		ns := ""
		if l.Instance != "" {
			ns = r.netnsPrefix + l.Instance
		}
		clients = append(clients, newClientIn(l, ns, host, r.dns, nil))
		mode := fmt.Sprintf("%d connections", l.Connections)
		if l.Rate > 0 {
			mode = fmt.Sprintf("%d requests/s", l.Rate)
		}
		if l.KeepAlive {
			mode += ", keep-alive"
		} else {
			mode += ", a connection per request"
		}
		mode += ", DNS " + l.DNS
		refs = append(refs, LoadRef{Name: l.Name, Host: host, Mode: mode})
	}
	if err := r.waitResolvable(ctx, clients); err != nil {
		return nil, err
	}

	r.start = time.Now()
	r.rec = newRecorder(r.start, p.Duration)
	runCtx, cancel := context.WithDeadline(ctx, r.start.Add(p.Duration))
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range clients {
		c.rec = r.rec.load(c.l.Name)
		wg.Add(1)
		go func() { defer wg.Done(); c.run(runCtx) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); r.sampleState(runCtx) }()
	problems := r.timeline(runCtx)
	<-runCtx.Done()
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	bins, events := r.rec.finish()
	res := &Result{Name: p.Name, Plan: p.file, Started: r.start.UTC(), Duration: p.Duration.Seconds(),
		Problems: problems, Events: events, Loads: refs, Bins: bins, Pass: len(problems) == 0}
	loadBins := map[string][]*Bin{}
	for i, c := range clients {
		loadBins[c.l.Name], _ = c.rec.finish()
		res.Loads[i].Bins = loadBins[c.l.Name]
	}
	at := map[string]float64{"start": 0, "end": p.Duration.Seconds()}
	for _, e := range events {
		if e.Err == "" {
			at[e.Name] = e.T
		}
	}
	for _, x := range p.expectation {
		of := bins
		if x.load != "" {
			of = loadBins[x.load]
		}
		o := x.evaluate(of, at, p.Duration.Seconds())
		res.Outcomes = append(res.Outcomes, o)
		res.Pass = res.Pass && o.Pass
	}
	return res, nil
}

// caller is the API client of the account (or profile) as.
func (r *run) caller(as string) (Caller, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.callers[as]; ok {
		return c, nil
	}
	cred, ok := r.accts[as]
	if !ok {
		return nil, fmt.Errorf("no account or profile %q (have %s)", as, strings.Join(sortedKeys(r.accts), ", "))
	}
	c := r.o.NewCaller(r.api, r.region, cred)
	r.callers[as] = c
	return c, nil
}

func (r *run) call(ctx context.Context, as, action string, params map[string]string, out any) error {
	c, err := r.caller(as)
	if err != nil {
		return err
	}
	body, err := c(ctx, action, params)
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(body, out)
}

// hostOf is the name a load connects to: its host, or the endpoint's zone
// or endpoint domain as the API tells the consumer.
func (r *run) hostOf(ctx context.Context, l Load) (string, error) {
	if l.Host != "" {
		return l.Host, nil
	}
	if l.Zone == "" {
		var ep struct{ EndpointDomain string }
		err := r.call(ctx, l.As, "GetVpcEndpointAttribute", map[string]string{"EndpointId": l.Endpoint}, &ep)
		return ep.EndpointDomain, err
	}
	zones, err := r.zones(ctx, l.As, l.Endpoint)
	if err != nil {
		return "", err
	}
	for _, z := range zones {
		if z.ZoneId == l.Zone {
			return z.ZoneDomain, nil
		}
	}
	return "", fmt.Errorf("endpoint %s has no zone %s", l.Endpoint, l.Zone)
}

type zoneInfo struct{ ZoneId, ZoneStatus, ZoneDomain string }

func (r *run) zones(ctx context.Context, as, ep string) ([]zoneInfo, error) {
	var out struct{ Zones []zoneInfo }
	err := r.call(ctx, as, "ListVpcEndpointZones", map[string]string{"EndpointId": ep}, &out)
	return out.Zones, err
}

// waitResolvable waits until every load's name resolves: the endpoints a
// lab declares connect a moment after eplink starts.
func (r *run) waitResolvable(ctx context.Context, clients []*client) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range clients {
		for {
			if net.ParseIP(c.host) != nil {
				break
			}
			_, _, err := lookupIn(ctx, c.ns, c.dnsAddr, c.host)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("load %s: %s does not resolve at %s: %w", c.l.Name, c.host, c.dnsAddr, err)
			}
			if !sleep(ctx, 100*time.Millisecond) {
				return ctx.Err()
			}
		}
	}
	return nil
}

// timeline runs the steps in order until ctx ends; it returns the
// problems (a step that failed or timed out).
func (r *run) timeline(ctx context.Context) []string {
	var problems []string
	for _, s := range r.p.Timeline {
		if !sleep(ctx, time.Until(r.start.Add(s.At))) {
			return append(problems, fmt.Sprintf("step %s: the run ended before it", s.Name))
		}
		ev := Event{Name: s.Name, What: s.what()}
		if s.Wait != "" {
			if err := r.wait(ctx, s); err != nil {
				ev.T, ev.Err = r.since(), err.Error()
				r.event(ev)
				return append(problems, fmt.Sprintf("step %s: %v", s.Name, err))
			}
		}
		ev.T = r.since()
		res, err := r.act(ctx, s)
		ev.Result = res
		if err != nil {
			ev.Err = err.Error()
			problems = append(problems, fmt.Sprintf("step %s: %v", s.Name, err))
		}
		r.event(ev)
		if err != nil {
			return problems
		}
	}
	return problems
}

func (r *run) since() float64 { return time.Since(r.start).Seconds() }

func (r *run) event(e Event) {
	r.rec.event(e)
	if r.o.Progress != nil {
		line := fmt.Sprintf("%6.1fs  %-16s %s", e.T, e.Name, e.What)
		if e.Err != "" {
			line += "  FAILED: " + e.Err
		}
		fmt.Fprintln(r.o.Progress, line)
	}
}

func (s Step) what() string {
	var parts []string
	if s.Wait != "" {
		parts = append(parts, "wait "+s.Wait)
	}
	if s.API != nil {
		parts = append(parts, s.API.Action+" as "+s.As)
	}
	if s.Fault != "" {
		parts = append(parts, "fault "+s.Fault)
	}
	return strings.Join(parts, ", then ")
}

// wait polls the step's condition every 100 ms until it holds.
func (r *run) wait(ctx context.Context, s Step) error {
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	f := strings.Fields(s.Wait)
	var last string
	for {
		ok, now, err := r.holds(ctx, s.As, f)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			now = err.Error()
		}
		last = now
		if !sleep(ctx, 100*time.Millisecond) {
			return fmt.Errorf("wait %s: not within %s (last: %s)", s.Wait, s.Timeout, last)
		}
	}
}

func (r *run) holds(ctx context.Context, as string, f []string) (bool, string, error) {
	switch f[0] {
	case "zone":
		zones, err := r.zones(ctx, as, f[1])
		if err != nil {
			return false, "", err
		}
		for _, z := range zones {
			if z.ZoneId == f[2] {
				return z.ZoneStatus == f[3], z.ZoneStatus, nil
			}
		}
		return false, "no zone " + f[2], nil
	case "connection":
		var ep struct{ ConnectionStatus string }
		err := r.call(ctx, as, "GetVpcEndpointAttribute", map[string]string{"EndpointId": f[1]}, &ep)
		return ep.ConnectionStatus == f[2], ep.ConnectionStatus, err
	case "service":
		var sv struct{ ServiceStatus string }
		err := r.call(ctx, as, "GetVpcEndpointServiceAttribute", map[string]string{"ServiceId": f[1]}, &sv)
		return sv.ServiceStatus == f[2], sv.ServiceStatus, err
	case "alarm":
		// CloudMonitor's word on the rule, as a user's script would ask.
		var out struct {
			Alarms struct {
				Alarm []struct{ RuleId, AlertState string }
			}
		}
		err := r.call(ctx, as, "DescribeMetricRuleList", map[string]string{"RuleIds": f[1]}, &out)
		if err != nil {
			return false, "", err
		}
		for _, a := range out.Alarms.Alarm {
			if a.RuleId == f[1] {
				return a.AlertState == f[2], a.AlertState, nil
			}
		}
		return false, "no rule " + f[1], nil
	default: // eplink up
		err := r.ping(ctx)
		return err == nil, "down", err
	}
}

// act makes the step's API call or fault.
func (r *run) act(ctx context.Context, s Step) (string, error) {
	switch {
	case s.API != nil:
		c, err := r.caller(s.As)
		if err != nil {
			return "", err
		}
		body, err := c(ctx, s.API.Action, s.API.Params)
		return strings.TrimSpace(string(body)), err
	case s.Fault != "":
		return r.fault(ctx, strings.Fields(s.Fault))
	}
	return "", nil
}

func (r *run) fault(ctx context.Context, f []string) (string, error) {
	switch f[0] {
	case "zone-down", "zone-up":
		return r.lab(ctx, "/lab/zone-fault", url.Values{"EndpointId": {f[1]}, "ZoneId": {f[2]},
			"Failed": {strconv.FormatBool(f[0] == "zone-down")}})
	case "clb-zone-down", "clb-zone-up":
		return r.lab(ctx, "/lab/clb-zone-fault", url.Values{"ZoneId": {f[1]},
			"Failed": {strconv.FormatBool(f[0] == "clb-zone-down")}})
	case "backend-down":
		mode := "stop"
		if len(f) == 3 {
			mode = f[2]
		}
		return r.lab(ctx, "/lab/backend-fault", url.Values{"Address": {f[1]}, "Mode": {mode}})
	case "backend-up":
		return r.lab(ctx, "/lab/backend-fault", url.Values{"Address": {f[1]}, "Mode": {"none"}})
	case "backend-impair":
		return r.lab(ctx, "/lab/backend-impair", url.Values{"Address": {f[1]}, "Impairment": {strings.Join(f[2:], " ")}})
	case "dataplane-restart":
		form, down := url.Values{}, time.Duration(0)
		if len(f) == 2 {
			form.Set("Downtime", f[1])
			down, _ = time.ParseDuration(f[1]) // checked by the parser
		}
		return r.labFor(ctx, "/lab/dataplane-restart", form, down)
	case "eni-impair":
		return r.lab(ctx, "/lab/impair", url.Values{"EniId": {f[1]}, "Impairment": {strings.Join(f[2:], " ")}})
	case "clb-impair":
		return r.lab(ctx, "/lab/impair", url.Values{"ResourceId": {f[1]}, "Impairment": {strings.Join(f[2:], " ")}})
	case "zone-impair":
		return r.lab(ctx, "/lab/impair", url.Values{"EndpointId": {f[1]}, "ZoneId": {f[2]},
			"Impairment": {strings.Join(f[3:], " ")}})
	case "eplink-kill":
		return "", r.signalEplink(syscall.SIGKILL)
	case "eplink-restart":
		if err := r.signalEplink(syscall.SIGTERM); err != nil {
			return "", err
		}
		return "", r.spawn()
	default: // eplink-start
		return "", r.spawn()
	}
}

// lab posts to eplink's lab API.
func (r *run) lab(ctx context.Context, path string, form url.Values) (string, error) {
	return r.labFor(ctx, path, form, 0)
}

// labFor is lab for a call that takes extra longer than usual to answer.
func (r *run) labFor(ctx context.Context, path string, form url.Values, extra time.Duration) (string, error) {
	hc := *r.hc
	hc.Timeout += extra
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.api+path, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r.labKey != "" {
		req.Header.Set("X-Eplink-Lab-Key", r.labKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return strings.TrimSpace(string(body)), nil
}

// ping checks that eplink's API answers.
func (r *run) ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.api+"/metrics", nil)
	if err != nil {
		return err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	// Any answer means eplink's API is up, even without /metrics.
	resp.Body.Close()
	return nil
}

func (r *run) waitUp(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := r.ping(ctx)
		if err == nil {
			return nil
		}
		if r.procExited() {
			return fmt.Errorf("eplink exited at start; its log: %s", r.logTail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("eplink at %s does not answer: %w", r.api, err)
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// sampleState records eplink's active flows per CLB, backend health and
// zone states every 100 ms.
func (r *run) sampleState(ctx context.Context) {
	t := time.NewTicker(BinWidth)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if st, err := r.state(ctx); err == nil {
			r.rec.state(time.Now(), st)
		}
	}
}

// eplinkState is what a run samples from eplink's /metrics.
type eplinkState struct {
	flows  map[string]int    // active flows by CLB
	health map[string]int    // backend → 1 up, 0 down (health checks)
	zones  map[string]string // "EP ZONE" → state
}

func (r *run) state(ctx context.Context) (eplinkState, error) {
	st := eplinkState{flows: map[string]int{}, health: map[string]int{}, zones: map[string]string{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.api+"/metrics", nil)
	if err != nil {
		return st, err
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return st, err
	}
	labels := func(m *dto.Metric) map[string]string {
		out := map[string]string{}
		for _, l := range m.GetLabel() {
			out[l.GetName()] = l.GetValue()
		}
		return out
	}
	for _, m := range fams["eplink_dataplane_flows_active"].GetMetric() {
		st.flows[labels(m)["resource_id"]] += int(m.GetGauge().GetValue())
	}
	for _, m := range fams["eplink_dataplane_backend_up"].GetMetric() {
		st.health[labels(m)["backend"]] = int(m.GetGauge().GetValue())
	}
	for _, m := range fams["eplink_dataplane_zone_state"].GetMetric() {
		l := labels(m)
		st.zones[l["endpoint_id"]+" "+l["zone_id"]] = l["state"]
	}
	return st, nil
}

// startLab starts eplink from the plan's lab on free loopback ports, with
// a state directory of its own, and takes its accounts from the lab.
func (r *run) startLab(ctx context.Context) error {
	path := r.p.LabPath()
	l, err := lab.Load(path)
	if err != nil {
		return err
	}
	r.region = l.Region
	r.accts = map[string]Credentials{}
	for _, a := range l.Accounts {
		if len(a.AccessKeys) == 0 {
			continue
		}
		c := Credentials{a.AccessKeys[0].ID, a.AccessKeys[0].Secret}
		r.accts[a.UID] = c
		if a.Name != "" {
			r.accts[a.Name] = c
		}
	}
	apiPort, err := freePort()
	if err != nil {
		return err
	}
	dnsPort, err := freePort()
	if err != nil {
		return err
	}
	r.api = "127.0.0.1:" + strconv.Itoa(apiPort)
	r.dns = "127.0.0.1:" + strconv.Itoa(dnsPort)
	dir, err := os.MkdirTemp("", "eplink-experiment-")
	if err != nil {
		return err
	}
	r.procLog, err = os.Create(filepath.Join(dir, "eplink.log"))
	if err != nil {
		return err
	}
	r.procArgs = []string{"serve", "--lab", path, "--data-dir", filepath.Join(dir, "data"),
		"--api-addr", r.api, "--dns-addr", r.dns, "--no-profile"}
	// Namespaces of this run's own, apart from any other eplink's.
	r.netnsPrefix = fmt.Sprintf("x%d-", os.Getpid())
	r.procArgs = append(r.procArgs, "--netns-prefix", r.netnsPrefix)
	return r.spawn()
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// spawn starts eplink (again) with the same state directory.
func (r *run) spawn() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.procArgs == nil {
		return errors.New("eplink faults need a plan with lab:")
	}
	if r.proc != nil {
		select {
		case <-r.procDone:
		default:
			return errors.New("eplink is running")
		}
	}
	cmd := exec.Command(r.o.Eplink, r.procArgs...)
	cmd.Stdout, cmd.Stderr = r.procLog, r.procLog
	// Should this process die without stopping it, eplink goes too.
	cmd.SysProcAttr = dieWithRunner()
	// Pdeathsig fires when the thread that started the child ends, not
	// this process, and a goroutine that ends locked to its thread ends the
	// thread (namespace calls that cannot switch back do, rootless: see
	// dataplane/netns). So eplink is started from a thread kept, and kept
	// for nothing else, until it exits.
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(done)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
	}()
	if err := <-started; err != nil {
		return err
	}
	r.proc, r.procDone = cmd, done
	return nil
}

// signalEplink sends sig to the eplink the run started and waits until it
// has exited.
func (r *run) signalEplink(sig syscall.Signal) error {
	r.mu.Lock()
	cmd, done := r.proc, r.procDone
	r.mu.Unlock()
	if cmd == nil {
		return errors.New("eplink faults need a plan with lab:")
	}
	select {
	case <-done:
		return errors.New("eplink is not running")
	default:
	}
	if err := cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		<-done
		return fmt.Errorf("eplink did not exit on %s within 15s; killed", sig)
	}
}

func (r *run) procExited() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return false
	}
	select {
	case <-r.procDone:
		return true
	default:
		return false
	}
}

func (r *run) stopEplink() {
	if r.proc != nil && !r.procExited() {
		r.signalEplink(syscall.SIGTERM)
	}
	if r.procLog != nil {
		r.procLog.Close()
		os.RemoveAll(filepath.Dir(r.procLog.Name()))
	}
}

func (r *run) logTail() string {
	if r.procLog == nil {
		return ""
	}
	b, _ := os.ReadFile(r.procLog.Name())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// sleep waits d or until ctx ends; false if ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
