package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// `eplink status` is a live view of every endpoint zone the caller can see:
// as a consumer (its endpoints) and as a provider (connections to its
// services). States come from the API; active flows and throughput from
// /metrics on the API address, throughput being the delta of the byte
// counters between two refreshes.

// Metric names the view reads (metrics/doc.go). Flows and bytes are
// labelled endpoint_id and zone_id, and resource_id when the flow's CLB is
// known; bytes also by direction.
const (
	metricActiveFlows = "eplink_dataplane_flows_active"
	metricFlowBytes   = "eplink_dataplane_flow_bytes_total"
	metricCLBZone     = "eplink_dataplane_clb_zone" // resource_id, zone_id, role
)

const statusUsage = `usage: eplink status [--endpoint HOST:PORT] [--interval 1s] [--once]

Live view of each endpoint zone the caller can see: state, ENI address,
assigned and replaced CLB, active flows, and throughput against the
connection's bandwidth cap. Credentials and endpoint as for 'eplink api'.

Throughput (Mbps) is the busier direction, from the data plane's byte
counters between two refreshes; the cap applies to each direction.

`

func statusCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	endpoint := fs.String("endpoint", "", "API address HOST:PORT (default: the profile's, else 127.0.0.1:8080)")
	interval := fs.Duration("interval", time.Second, "refresh interval")
	once := fs.Bool("once", false, "print one view and exit")
	profileName := fs.String("profile", "", "profile NAME from the file 'eplink serve' writes")
	keyID := fs.String("access-key-id", "", "AccessKey id (default $ALIBABA_CLOUD_ACCESS_KEY_ID)")
	secret := fs.String("access-key-secret", "", "AccessKey secret (default $ALIBABA_CLOUD_ACCESS_KEY_SECRET)")
	region := fs.String("region", "", "RegionId (default: the profile's, else cn-hangzhou)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, statusUsage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return nil
		}
		return usagef("%v", err)
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if *interval < 10*time.Millisecond {
		return usagef("--interval %s is too short", *interval)
	}
	c, err := newAPIClient(*keyID, *secret, *profileName, *endpoint, *region, os.Getenv)
	if err != nil {
		return err
	}
	s := &statusWatcher{c: c, now: time.Now}
	if pf, err := loadProfile(); err == nil && pf != nil {
		for _, p := range pf.Profiles {
			if "http://"+p.Endpoint == c.baseURL && !p.gone() {
				s.instances = p.Instances
			}
		}
	}
	if *once {
		// Two metric samples an interval apart give a throughput figure.
		s.sampleMetrics(ctx, s.now())
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
		v, err := s.refresh(ctx)
		if err != nil {
			return err
		}
		return renderStatus(stdout, v)
	}
	live := isTerminal(stdout)
	ticker := time.NewTicker(*interval)
	defer ticker.Stop()
	for {
		v, err := s.refresh(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			v.Err = err // keep the view alive across a server restart
		}
		var buf bytes.Buffer
		if live {
			buf.WriteString("\x1b[H\x1b[2J") // cursor home, clear screen
		}
		renderStatus(&buf, v)
		if !live {
			buf.WriteByte('\n')
		}
		if _, err := stdout.Write(buf.Bytes()); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// statusView is one refresh: what renderStatus draws.
type statusView struct {
	At       time.Time
	API      string
	Consumer []statusRow // the caller's endpoints
	Provider []statusRow // connections to the caller's services
	Rules    []ruleRow   // the caller's CloudMonitor alarm rules
	// MetricsErr: /metrics could not be read; flows and rates show "-".
	MetricsErr error
	// Err: the API could not be read (live mode keeps going).
	Err error
	// Account is the caller's account from the lab API (nil if unknown).
	Account *labAccount
	// CLBNotes say which CLBs of the rows are not in their primary zone.
	CLBNotes []string
	// Instances are the ECS hosts of a netns lab (from the profile the
	// server wrote, when it is the server asked).
	Instances []instanceInfo
}

// labAccount is an account of GET /lab/accounts.
type labAccount struct {
	Uid               string
	AccessKeyIds      []string
	ProductOpen       bool
	ServiceLinkedRole string
	RoleCreateDate    string
}

// fetchAccount finds the caller's account in the lab API, by AccessKey id.
// A server without the lab API (or any error) leaves it unknown.
func (s *statusWatcher) fetchAccount(ctx context.Context) *labAccount {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.c.baseURL+"/lab/accounts", nil)
	if err != nil {
		return nil
	}
	resp, err := s.c.http.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct{ Accounts []labAccount }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&out) != nil {
		return nil
	}
	for i, a := range out.Accounts {
		for _, id := range a.AccessKeyIds {
			if id == s.c.keyID {
				return &out.Accounts[i]
			}
		}
	}
	return nil
}

// statusRow is one endpoint zone.
type statusRow struct {
	EndpointID string
	Owner      string // consumer UID (provider view)
	ServiceID  string
	Connection string // ConnectionStatus
	ZoneID     string
	ZoneStatus string
	EniIP      string
	Resource   string
	Replaced   string
	StatusInfo string  // the zone's StatusInfo: why it does not carry traffic as it reads
	Flows      float64 // on Resource; -1 unknown
	OldFlows   float64 // on Replaced, still running after a Graceful migration; -1 unknown
	Mbps       float64 // busiest direction; -1 unknown
	CapMbps    int64
}

// statusWatcher builds views; it keeps the previous byte counters to turn
// them into rates.
type statusWatcher struct {
	c        *apiClient
	now      func() time.Time
	prev     map[bytesKey]float64
	prevAt   time.Time
	lastRate map[zoneKey]float64
	samples  *metricSet
	// instances are a netns lab's hosts, from the profile.
	instances []instanceInfo
}

type zoneKey struct{ endpoint, zone string }

type bytesKey struct{ endpoint, zone, direction string }

// sampleMetrics reads /metrics and computes rates against the previous read.
func (s *statusWatcher) sampleMetrics(ctx context.Context, at time.Time) error {
	text, err := s.fetchMetrics(ctx)
	if err != nil {
		s.samples = nil
		return err
	}
	ms := parseMetrics(text)
	cur := map[bytesKey]float64{}
	for _, smp := range ms.byName[metricFlowBytes] {
		k := bytesKey{smp.labels["endpoint_id"], smp.labels["zone_id"], smp.labels["direction"]}
		cur[k] += smp.value
	}
	rates := map[zoneKey]float64{}
	if s.prev != nil {
		dt := at.Sub(s.prevAt).Seconds()
		for k, v := range cur {
			p, ok := s.prev[k]
			if !ok || dt <= 0 || v < p { // new series or counter reset
				continue
			}
			mbps := (v - p) * 8 / 1e6 / dt
			zk := zoneKey{k.endpoint, k.zone}
			rates[zk] = math.Max(rates[zk], mbps)
		}
		s.lastRate = rates
	}
	s.prev, s.prevAt, s.samples = cur, at, ms
	return nil
}

func (s *statusWatcher) fetchMetrics(ctx context.Context) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.c.baseURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

// refresh reads the API and /metrics into a view.
func (s *statusWatcher) refresh(ctx context.Context) (*statusView, error) {
	v := &statusView{API: s.c.baseURL, At: s.now(), Instances: s.instances}
	v.MetricsErr = s.sampleMetrics(ctx, v.At)
	v.Account = s.fetchAccount(ctx)

	eps, err := listEndpoints(ctx, s.c)
	if err != nil {
		return v, err
	}
	for _, ep := range eps {
		zones, err := endpointZones(ctx, s.c, ep.EndpointId)
		if err != nil && !isNotFound(err) { // deleted between the two calls
			return v, err
		}
		if len(zones) == 0 {
			v.Consumer = append(v.Consumer, s.row(ep.EndpointId, "", ep.ServiceId, ep.ConnectionStatus, int64(ep.Bandwidth), zoneInfo{}))
		}
		for _, z := range zones {
			v.Consumer = append(v.Consumer, s.row(ep.EndpointId, "", ep.ServiceId, ep.ConnectionStatus, int64(ep.Bandwidth), z))
		}
	}
	v.Rules, _ = listRules(ctx, s.c) // an eplink without CloudMonitor: none
	svcs, err := listServices(ctx, s.c)
	if err != nil {
		return v, err
	}
	for _, svc := range svcs {
		conns, err := serviceConnections(ctx, s.c, svc.ServiceId, "")
		if err != nil && !isNotFound(err) {
			return v, err
		}
		for _, cn := range conns {
			owner := string(cn.EndpointOwnerId)
			if len(cn.Zones) == 0 {
				v.Provider = append(v.Provider, s.row(cn.EndpointId, owner, svc.ServiceId, cn.ConnectionStatus, int64(cn.Bandwidth), zoneInfo{}))
			}
			for _, z := range cn.Zones {
				v.Provider = append(v.Provider, s.row(cn.EndpointId, owner, svc.ServiceId, cn.ConnectionStatus, int64(cn.Bandwidth), z))
			}
		}
	}
	v.CLBNotes = s.clbNotes(v)
	return v, nil
}

// clbNotes reports the CLBs of v's rows that switched to their backup zone
// or are unavailable (from /metrics), one line each.
func (s *statusWatcher) clbNotes(v *statusView) []string {
	if s.samples == nil {
		return nil
	}
	shown := map[string]bool{}
	for _, r := range append(append([]statusRow(nil), v.Consumer...), v.Provider...) {
		shown[r.Resource], shown[r.Replaced] = true, true
	}
	var notes []string
	for _, smp := range s.samples.byName[metricCLBZone] {
		id := smp.labels["resource_id"]
		if !shown[id] || id == "" {
			continue
		}
		switch smp.labels["role"] {
		case "backup":
			notes = append(notes, "CLB "+id+" runs in its backup zone "+smp.labels["zone_id"]+" (primary zone failed)")
		case "unavailable":
			notes = append(notes, "CLB "+id+" is unavailable (its zone failed and it has no usable backup)")
		}
	}
	sort.Strings(notes)
	return notes
}

func (s *statusWatcher) row(ep, owner, svc, conn string, capMbps int64, z zoneInfo) statusRow {
	r := statusRow{
		EndpointID: ep, Owner: owner, ServiceID: svc, Connection: conn,
		ZoneID: z.ZoneId, ZoneStatus: z.ZoneStatus, EniIP: z.EniIp,
		Resource: z.ResourceId, Replaced: z.ReplacedResourceId, StatusInfo: z.StatusInfo,
		Flows: -1, OldFlows: -1, Mbps: -1, CapMbps: capMbps,
	}
	if s.samples == nil || z.ZoneId == "" {
		return r
	}
	r.Flows, r.OldFlows = s.samples.flows(ep, z.ZoneId, z.ResourceId, z.ReplacedResourceId)
	if s.lastRate != nil {
		r.Mbps = s.lastRate[zoneKey{ep, z.ZoneId}]
	}
	return r
}

// renderStatus draws a view as two tables.
func renderStatus(w io.Writer, v *statusView) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "eplink status  %s  %s\n", v.API, v.At.UTC().Format("2006-01-02 15:04:05 UTC"))
	if v.Err != nil {
		fmt.Fprintf(&b, "API error: %s\n", oneLine(v.Err))
	}
	if v.MetricsErr != nil {
		fmt.Fprintf(&b, "metrics unavailable: %s\n", oneLine(v.MetricsErr))
	}
	if a := v.Account; a != nil {
		role := "service-linked role: none yet (created with the account's first endpoint)"
		if a.ServiceLinkedRole != "" {
			role = "service-linked role: " + a.ServiceLinkedRole + " (created " + a.RoleCreateDate + ")"
		}
		if !a.ProductOpen {
			role += "; PrivateLink not activated (OpenPrivateLinkService)"
		}
		fmt.Fprintf(&b, "account %s  %s\n", a.Uid, role)
	}
	for _, n := range v.CLBNotes {
		fmt.Fprintln(&b, n)
	}
	if len(v.Consumer) == 0 && len(v.Provider) == 0 && v.Err == nil {
		fmt.Fprintln(&b, "\nno endpoints, and no connections to your services")
	}
	if len(v.Consumer) > 0 {
		fmt.Fprintln(&b, "\nMY ENDPOINTS")
		renderRows(&b, v.Consumer, false)
	}
	if len(v.Provider) > 0 {
		fmt.Fprintln(&b, "\nCONNECTIONS TO MY SERVICES")
		renderRows(&b, v.Provider, true)
	}
	if len(v.Rules) > 0 {
		renderRules(&b, v.Rules)
	}
	if len(v.Instances) > 0 {
		fmt.Fprintln(&b, "\nINSTANCES (eplink exec INSTANCE -- CMD)")
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "INSTANCE\tNAME\tVPC\tVSWITCH\tIP\tNAMESPACE")
		for _, in := range v.Instances {
			ns := in.Namespace
			if in.UsernsPID != 0 { // rootless: not in the host's ip netns list
				ns += fmt.Sprintf(" (user namespace of eplink %d)", in.UsernsPID)
			}
			fmt.Fprintln(tw, strings.Join([]string{in.ID, dash(in.Name), in.VpcID, in.VSwitchID, in.IP, ns}, "\t"))
		}
		tw.Flush()
	}
	_, err := w.Write(b.Bytes())
	return err
}

func renderRows(w io.Writer, rows []statusRow, provider bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "ENDPOINT\tSERVICE\tCONNECTION\tZONE\tZONE STATE\tENI IP\tCLB\tREPLACED CLB\tFLOWS\tMBPS/CAP"
	if provider {
		head = "ENDPOINT\tOWNER\tSERVICE\tCONNECTION\tZONE\tZONE STATE\tENI IP\tCLB\tREPLACED CLB\tFLOWS\tMBPS/CAP"
	}
	fmt.Fprintln(tw, head)
	var notes []string
	for _, r := range rows {
		cols := []string{r.EndpointID}
		if provider {
			cols = append(cols, dash(r.Owner))
		}
		state := dash(r.ZoneStatus)
		if r.StatusInfo != "" {
			// A zone can read Connected while its ENI is not served (another
			// process holds the address): flag it, and say why below.
			state += "!"
			notes = append(notes, fmt.Sprintf("! %s %s: %s", r.EndpointID, r.ZoneID, r.StatusInfo))
		}
		cols = append(cols, r.ServiceID, dash(r.Connection), dash(r.ZoneID), state,
			dash(r.EniIP), dash(r.Resource), dash(r.Replaced), flowsCell(r), rateCell(r))
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	tw.Flush()
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func flowsCell(r statusRow) string {
	if r.Flows < 0 {
		return "-"
	}
	s := strconv.FormatFloat(r.Flows, 'f', -1, 64)
	if r.Replaced != "" && r.OldFlows > 0 {
		s += fmt.Sprintf(" (+%s old)", strconv.FormatFloat(r.OldFlows, 'f', -1, 64))
	}
	return s
}

func rateCell(r statusRow) string {
	limit := "-"
	if r.CapMbps > 0 {
		limit = strconv.FormatInt(r.CapMbps, 10)
	}
	if r.Mbps < 0 {
		return "-/" + limit
	}
	return strconv.FormatFloat(r.Mbps, 'f', 1, 64) + "/" + limit
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }

// metricSet is a parsed Prometheus text exposition.
type metricSet struct {
	byName map[string][]metricSample
}

type metricSample struct {
	labels map[string]string
	value  float64
}

// flows returns the active flows of an endpoint zone on its current
// resource and on the replaced one. When the series carry no resource_id,
// every flow of the zone counts as current.
func (m *metricSet) flows(endpoint, zone, resource, replaced string) (cur, old float64) {
	for _, smp := range m.byName[metricActiveFlows] {
		if smp.labels["endpoint_id"] != endpoint || smp.labels["zone_id"] != zone {
			continue
		}
		res, ok := smp.labels["resource_id"]
		switch {
		case ok && replaced != "" && res == replaced:
			old += smp.value
		case !ok || res == resource || res == "":
			cur += smp.value
		}
	}
	return cur, old
}

// parseMetrics reads the Prometheus text format, keeping the samples of
// the families the view uses. Malformed lines are skipped: the view is a
// best-effort reader of someone else's output.
func parseMetrics(text []byte) *metricSet {
	ms := &metricSet{byName: map[string][]metricSample{}}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, rest, ok := splitSample(line)
		if !ok || (name != metricActiveFlows && name != metricFlowBytes && name != metricCLBZone) {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		ms.byName[name] = append(ms.byName[name], metricSample{labels: labels, value: v})
	}
	return ms
}

// splitSample splits `name{a="x",b="y"} value [ts]` into its parts.
func splitSample(line string) (name string, labels map[string]string, rest string, ok bool) {
	labels = map[string]string{}
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return "", nil, "", false
	}
	name = line[:i]
	if line[i] != '{' {
		return name, labels, line[i:], true
	}
	s := line[i+1:]
	for {
		s = strings.TrimLeft(s, " ,")
		if s == "" {
			return "", nil, "", false
		}
		if s[0] == '}' {
			return name, labels, s[1:], true
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || eq+1 >= len(s) || s[eq+1] != '"' {
			return "", nil, "", false
		}
		key := strings.TrimSpace(s[:eq])
		s = s[eq+2:]
		var val strings.Builder
		closed := false
		for j := 0; j < len(s); j++ {
			c := s[j]
			if c == '\\' && j+1 < len(s) {
				j++
				switch s[j] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[j])
				}
				continue
			}
			if c == '"' {
				s = s[j+1:]
				closed = true
				break
			}
			val.WriteByte(c)
		}
		if !closed {
			return "", nil, "", false
		}
		labels[key] = val.String()
	}
}

// API answers the CLI reads. Numbers are decoded leniently, as the SDK
// does (reference A5): a JSON number or a numeric string.

type zoneInfo struct {
	ZoneId             string
	ZoneStatus         string
	ZoneDomain         string
	VSwitchId          string
	EniId              string
	EniIp              string
	ResourceId         string
	ReplacedEniId      string
	ReplacedResourceId string
	StatusInfo         string
}

type endpointInfo struct {
	EndpointId       string
	ServiceId        string
	EndpointStatus   string
	ConnectionStatus string
	Bandwidth        flexInt
}

type serviceInfo struct {
	ServiceId     string
	ServiceStatus string
}

type connectionInfo struct {
	EndpointId       string
	EndpointOwnerId  flexString
	ServiceId        string
	ConnectionStatus string
	Bandwidth        flexInt
	Zones            []zoneInfo
}

// flexInt decodes a JSON number, numeric string, "" or null.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = flexInt(v)
	return nil
}

// flexString decodes a JSON string or number (EndpointOwnerId is an int64
// in the SDK; a 16-digit UID must not go through float64).
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	*s = flexString(strings.Trim(string(b), `"`))
	if *s == "null" {
		*s = ""
	}
	return nil
}

// maxPages bounds the pages a list is read through.
const maxPages = 100

// listPaged reads every page of a List action into items.
func listPaged[T any](ctx context.Context, c *apiClient, action string, params map[string]string, field string) ([]T, error) {
	var all []T
	token := ""
	for range maxPages {
		p := map[string]string{}
		for k, v := range params {
			p[k] = v
		}
		if token != "" {
			p["NextToken"] = token
		}
		var page map[string]json.RawMessage
		if err := c.callJSON(ctx, action, p, &page); err != nil {
			return nil, err
		}
		var items []T
		if raw, ok := page[field]; ok && len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", action, field, err)
			}
		}
		all = append(all, items...)
		var next string
		if raw, ok := page["NextToken"]; ok {
			_ = json.Unmarshal(raw, &next) // null or not a string: no further page
		}
		if next == "" || next == token {
			return all, nil
		}
		token = next
	}
	return all, nil
}

func listEndpoints(ctx context.Context, c *apiClient) ([]endpointInfo, error) {
	eps, err := listPaged[endpointInfo](ctx, c, "ListVpcEndpoints", nil, "Endpoints")
	sort.Slice(eps, func(i, j int) bool { return eps[i].EndpointId < eps[j].EndpointId })
	return eps, err
}

func endpointZones(ctx context.Context, c *apiClient, endpointID string) ([]zoneInfo, error) {
	zs, err := listPaged[zoneInfo](ctx, c, "ListVpcEndpointZones", map[string]string{"EndpointId": endpointID}, "Zones")
	sort.Slice(zs, func(i, j int) bool { return zs[i].ZoneId < zs[j].ZoneId })
	return zs, err
}

func listServices(ctx context.Context, c *apiClient) ([]serviceInfo, error) {
	svcs, err := listPaged[serviceInfo](ctx, c, "ListVpcEndpointServices", nil, "Services")
	sort.Slice(svcs, func(i, j int) bool { return svcs[i].ServiceId < svcs[j].ServiceId })
	return svcs, err
}

// serviceConnections lists a service's connections, only endpointID's when
// it is not empty.
func serviceConnections(ctx context.Context, c *apiClient, serviceID, endpointID string) ([]connectionInfo, error) {
	p := map[string]string{"ServiceId": serviceID}
	if endpointID != "" {
		p["EndpointId"] = endpointID
	}
	conns, err := listPaged[connectionInfo](ctx, c, "ListVpcEndpointConnections", p, "Connections")
	sort.Slice(conns, func(i, j int) bool { return conns[i].EndpointId < conns[j].EndpointId })
	for i := range conns {
		zs := conns[i].Zones
		sort.Slice(zs, func(a, b int) bool { return zs[a].ZoneId < zs[b].ZoneId })
	}
	return conns, err
}
