// Package apitest checks the PrivateLink OpenAPI from the outside: a real
// control plane (controlplane.Open on a temporary data dir) behind a real
// loopback HTTP listener (api.New), driven by the official Alibaba Cloud Go
// SDK exactly as a user's script would drive the cloud.
//
// The tests are written from the API reference, not from the server's code:
// they are the independent check of the control plane.
//
// This file is the harness: the lab (two zones, two CLBs per zone, a
// provider, two consumers and an outsider), the server, SDK clients per
// account, polling waiters, error assertions and a dump of everything each
// account can read (State), which is how "a refused call changes nothing"
// is checked. The tests:
//
//	lifecycle_test.go    the guide's whole story, auto-accept, attributes
//	errors_test.go       every violated precondition, DryRun, locks, transitions
//	lists_test.go        pagination and every filter of every List
//	misc_test.go         ClientToken, tags, regions/zones, resource groups
//	edges_test.go        boundaries, addresses, restart, retiring a service
//	concurrency_test.go  racing SDK clients, pagination under change
//	snapshot_test.go     the published Snapshot follows the API
//	lab_test.go          lab-declared objects and limits
//	crash_test.go        SIGKILL mid-stream, restart, nothing acknowledged lost
//	fuzz_test.go         arbitrary CreateVpcEndpoint input: never a 5xx
//	v3_test.go           the current SDK core (signature v3) through CallApi
//	bench_test.go        calls/s, restart and List page with 10,000 endpoints
//
// The official SDK client is not safe for concurrent use (it races on its
// timeout fields), and an SDK request keeps the parameters of its earlier
// calls: tests use one client per goroutine and a fresh request whenever a
// field is blanked; TestMain fills the SDK's lazily-initialised endpoint map
// before parallel tests. Set EPLINK_APITEST_LOG=1 to see the server's log.
//
// Benchmarks: go test -run '^$' -bench . ./controlplane/apitest/ (the
// default -benchtime; Benchmark10k/Open reopens the store b.N times).
package apitest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/privatelink"

	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
	"eplink/controlplane/snapshot"
)

// The lab's world. Ids are fixed so tests can name them.
const (
	Region = "cn-hangzhou"
	ZoneH  = "cn-hangzhou-h"
	ZoneI  = "cn-hangzhou-i"

	ProviderUID  = "1000000000000001"
	ConsumerUID  = "1000000000000002"
	Consumer2UID = "1000000000000003"
	OutsiderUID  = "1000000000000004"

	ProviderAK, ProviderSK   = "LTAIprovider000001", "provider-secret-1"
	ConsumerAK, ConsumerSK   = "LTAIconsumer000002", "consumer-secret-2"
	Consumer2AK, Consumer2SK = "LTAIconsumer000003", "consumer-secret-3"
	OutsiderAK, OutsiderSK   = "LTAIoutsider000004", "outsider-secret-4"

	// Consumer's main VPC: one vSwitch per zone, two security groups.
	VPCConsumer  = "vpc-consumer1"
	VSwConsumerH = "vsw-consumer1-h" // 127.10.0.0/24
	VSwConsumerI = "vsw-consumer1-i" // 127.10.1.0/24
	SGConsumer   = "sg-consumer1"
	SGConsumerB  = "sg-consumer1b"
	// Consumer's second VPC, for "vSwitch/SG of another VPC" checks.
	VPCConsumerB  = "vpc-consumer1b"
	VSwConsumerBH = "vsw-consumer1b-h" // 127.12.0.0/24
	SGConsumerBB  = "sg-consumer1b-only"

	VPCConsumer2  = "vpc-consumer2"
	VSwConsumer2H = "vsw-consumer2-h" // 127.11.0.0/24
	VSwConsumer2I = "vsw-consumer2-i" // 127.11.1.0/24
	SGConsumer2   = "sg-consumer2"

	VPCOutsider  = "vpc-outsider"
	VSwOutsiderH = "vsw-outsider-h" // 127.13.0.0/24
	SGOutsider   = "sg-outsider"

	VPCProvider  = "vpc-provider2"
	VSwProviderH = "vsw-provider2-h"
	VSwProviderI = "vsw-provider2-i"
	SGProvider   = "sg-provider2"

	// Private, PrivateLink-enabled CLBs of the provider, two per zone.
	CLB1 = "lb-clb1" // zone h
	CLB2 = "lb-clb2" // zone h
	CLB3 = "lb-clb3" // zone i
	CLB4 = "lb-clb4" // zone i
	// CLBs that cannot be service resources.
	CLBNoPL    = "lb-noprivatelink" // provider's, PrivateLink off
	CLBForeign = "lb-outsider"      // PrivateLink on, owned by the outsider

	VSwConsumerHCIDR = "127.10.0.0/24"
	VSwConsumerICIDR = "127.10.1.0/24"
)

// Lab returns the test lab: DESIGN §4's world widened to two zones, two CLBs
// per zone, a provider, two consumers and an outsider account.
func Lab() *lab.Lab {
	allow := []lab.Rule{{Protocol: "tcp", PortRange: "1/65535", SourceCIDR: "0.0.0.0/0", Policy: "accept", Priority: 1}}
	listeners := func(port int) []lab.Listener {
		return []lab.Listener{{Port: 80, Backends: []lab.Backend{{Name: "ECS", Address: fmt.Sprintf("127.0.0.1:%d", port), Weight: 100}}}}
	}
	clb := func(id, owner, vsw, zone, backup string, pl bool, port int) lab.LoadBalancer {
		return lab.LoadBalancer{ID: id, Owner: owner, VSwitch: vsw, Zone: zone, BackupZone: backup, PrivateLink: pl, Listeners: listeners(port)}
	}
	return &lab.Lab{
		Region: Region,
		Zones:  []string{ZoneH, ZoneI},
		Accounts: []lab.Account{
			{UID: ProviderUID, Name: "provider", AccessKeys: []lab.AccessKey{{ID: ProviderAK, Secret: ProviderSK}}},
			{UID: ConsumerUID, Name: "consumer", AccessKeys: []lab.AccessKey{{ID: ConsumerAK, Secret: ConsumerSK}}},
			{UID: Consumer2UID, Name: "consumer2", AccessKeys: []lab.AccessKey{{ID: Consumer2AK, Secret: Consumer2SK}}},
			{UID: OutsiderUID, Name: "outsider", AccessKeys: []lab.AccessKey{{ID: OutsiderAK, Secret: OutsiderSK}}},
		},
		VPCs: []lab.VPC{
			{ID: VPCConsumer, Owner: ConsumerUID, CIDR: "127.10.0.0/16",
				VSwitches: []lab.VSwitch{
					{ID: VSwConsumerH, Zone: ZoneH, CIDR: VSwConsumerHCIDR},
					{ID: VSwConsumerI, Zone: ZoneI, CIDR: VSwConsumerICIDR},
				},
				SecurityGroups: []lab.SecurityGroup{{ID: SGConsumer, Rules: allow}, {ID: SGConsumerB, Rules: allow}}},
			{ID: VPCConsumerB, Owner: ConsumerUID, CIDR: "127.12.0.0/16",
				VSwitches:      []lab.VSwitch{{ID: VSwConsumerBH, Zone: ZoneH, CIDR: "127.12.0.0/24"}},
				SecurityGroups: []lab.SecurityGroup{{ID: SGConsumerBB, Rules: allow}}},
			{ID: VPCConsumer2, Owner: Consumer2UID, CIDR: "127.11.0.0/16",
				VSwitches: []lab.VSwitch{
					{ID: VSwConsumer2H, Zone: ZoneH, CIDR: "127.11.0.0/24"},
					{ID: VSwConsumer2I, Zone: ZoneI, CIDR: "127.11.1.0/24"},
				},
				SecurityGroups: []lab.SecurityGroup{{ID: SGConsumer2, Rules: allow}}},
			{ID: VPCOutsider, Owner: OutsiderUID, CIDR: "127.13.0.0/16",
				VSwitches:      []lab.VSwitch{{ID: VSwOutsiderH, Zone: ZoneH, CIDR: "127.13.0.0/24"}},
				SecurityGroups: []lab.SecurityGroup{{ID: SGOutsider, Rules: allow}}},
			{ID: VPCProvider, Owner: ProviderUID, CIDR: "127.192.0.0/16",
				VSwitches: []lab.VSwitch{
					{ID: VSwProviderH, Zone: ZoneH, CIDR: "127.192.24.0/24"},
					{ID: VSwProviderI, Zone: ZoneI, CIDR: "127.192.25.0/24"},
				},
				SecurityGroups: []lab.SecurityGroup{{ID: SGProvider, Rules: allow}}},
			{ID: "vpc-outsider-lb", Owner: OutsiderUID, CIDR: "127.193.0.0/16",
				VSwitches: []lab.VSwitch{{ID: "vsw-outsider-lb-h", Zone: ZoneH, CIDR: "127.193.0.0/24"}}},
		},
		LoadBalancers: []lab.LoadBalancer{
			clb(CLB1, ProviderUID, VSwProviderH, ZoneH, ZoneI, true, 18081),
			clb(CLB2, ProviderUID, VSwProviderH, ZoneH, "", true, 18082),
			clb(CLB3, ProviderUID, VSwProviderI, ZoneI, ZoneH, true, 18083),
			clb(CLB4, ProviderUID, VSwProviderI, ZoneI, "", true, 18084),
			clb(CLBNoPL, ProviderUID, VSwProviderH, ZoneH, "", false, 18085),
			clb(CLBForeign, OutsiderUID, "vsw-outsider-lb-h", ZoneH, "", true, 18086),
		},
	}
}

// Options configure a test server. The zero value is a fresh data dir, the
// test lab and instant transitions.
type Options struct {
	DataDir         string        // "" = a new temporary directory
	Lab             *lab.Lab      // nil = Lab()
	TransitionDelay time.Duration // 0 = transitions complete before the call returns
	DNSZone         string        // "" = the control plane's default
	Logger          *slog.Logger  // nil = discard (EPLINK_APITEST_LOG=1: stderr)
}

// Server is a control plane behind a loopback HTTP listener.
type Server struct {
	CP        *controlplane.ControlPlane
	Publisher *snapshot.Publisher
	Addr      string // 127.0.0.1:PORT
	DataDir   string
	HTTP      *httptest.Server
}

// StartServer opens the control plane on opts.DataDir and serves the API on
// 127.0.0.1 at an ephemeral port. opts.DataDir must be set.
func StartServer(opts Options) (*Server, error) {
	if opts.DataDir == "" {
		return nil, errors.New("apitest: DataDir is required")
	}
	if opts.Lab == nil {
		opts.Lab = Lab()
	}
	logger := opts.Logger
	if logger == nil {
		logger = quietLogger()
	}
	pub := &snapshot.Publisher{}
	cp, err := controlplane.Open(controlplane.Config{
		DataDir:         opts.DataDir,
		Lab:             opts.Lab,
		TransitionDelay: opts.TransitionDelay,
		DNSZone:         opts.DNSZone,
		Publisher:       pub,
		Logger:          logger,
	})
	if err != nil {
		return nil, err
	}
	// The OpenAPI and the lab's own API on one address, as eplink serve has.
	mux := http.NewServeMux()
	mux.Handle(api.AdminPath, api.Admin(cp))
	mux.Handle("/", api.New(cp, logger))
	srv := httptest.NewServer(mux)
	return &Server{
		CP:        cp,
		Publisher: pub,
		Addr:      strings.TrimPrefix(srv.URL, "http://"),
		DataDir:   opts.DataDir,
		HTTP:      srv,
	}, nil
}

// Close stops the listener, then the control plane.
func (s *Server) Close() error {
	s.HTTP.Close()
	return s.CP.Close()
}

// Client returns an official SDK client for the AccessKey, pointed at s.
func (s *Server) Client(ak, sk string) *privatelink.Client {
	return NewClient(s.Addr, ak, sk)
}

// NewClient returns an official SDK client for the AccessKey pointed at addr
// (host:port), configured exactly as the reference tells a user to.
func NewClient(addr, ak, sk string) *privatelink.Client {
	c, err := privatelink.NewClientWithAccessKey(Region, ak, sk)
	if err != nil {
		panic(err) // only fails on empty credentials
	}
	c.Domain = addr
	return c
}

func quietLogger() *slog.Logger {
	if os.Getenv("EPLINK_APITEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Env is a started server plus one SDK client per lab account, torn down
// when the test ends.
type Env struct {
	*Server
	Provider  *privatelink.Client
	Consumer  *privatelink.Client
	Consumer2 *privatelink.Client
	Outsider  *privatelink.Client
}

// New starts a server for the test and registers its cleanup.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	s, err := StartServer(opts)
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return s.Env()
}

// Env returns SDK clients for every lab account, pointed at s. The caller
// closes s.
func (s *Server) Env() *Env {
	return &Env{
		Server:    s,
		Provider:  s.Client(ProviderAK, ProviderSK),
		Consumer:  s.Client(ConsumerAK, ConsumerSK),
		Consumer2: s.Client(Consumer2AK, Consumer2SK),
		Outsider:  s.Client(OutsiderAK, OutsiderSK),
	}
}

// ---- waiting ----

// WaitTimeout bounds every poll; transitions in tests last tens of ms.
const WaitTimeout = 10 * time.Second

// Eventually polls f until it reports done, failing the test with f's last
// description of the state after WaitTimeout.
func Eventually(t testing.TB, what string, f func() (done bool, state string)) {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	var state string
	for {
		var done bool
		done, state = f()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; last state: %s", what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitService waits until the provider sees the service in status.
func (e *Env) WaitService(t testing.TB, id, status string) *privatelink.GetVpcEndpointServiceAttributeResponse {
	t.Helper()
	var last *privatelink.GetVpcEndpointServiceAttributeResponse
	Eventually(t, "service "+id+" "+status, func() (bool, string) {
		r, err := e.GetService(e.Provider, id)
		if err != nil {
			return false, err.Error()
		}
		last = r
		return r.ServiceStatus == status, r.ServiceStatus
	})
	return last
}

// WaitServiceGone waits until the service is not found.
func (e *Env) WaitServiceGone(t testing.TB, id string) {
	t.Helper()
	Eventually(t, "service "+id+" gone", func() (bool, string) {
		r, err := e.GetService(e.Provider, id)
		if err != nil {
			return Code(err) == "EndpointServiceNotFound", err.Error()
		}
		return false, r.ServiceStatus
	})
}

// WaitEndpoint waits until the endpoint (seen by its owner c) satisfies ok.
func (e *Env) WaitEndpoint(t testing.TB, c *privatelink.Client, id, what string, ok func(*privatelink.GetVpcEndpointAttributeResponse) bool) *privatelink.GetVpcEndpointAttributeResponse {
	t.Helper()
	var last *privatelink.GetVpcEndpointAttributeResponse
	Eventually(t, "endpoint "+id+" "+what, func() (bool, string) {
		r, err := e.GetEndpoint(c, id)
		if err != nil {
			return false, err.Error()
		}
		last = r
		return ok(r), fmt.Sprintf("EndpointStatus=%s ConnectionStatus=%s Bandwidth=%d", r.EndpointStatus, r.ConnectionStatus, r.Bandwidth)
	})
	return last
}

// WaitEndpointStable waits until the endpoint is Active and its connection
// is in connStatus.
func (e *Env) WaitEndpointStable(t testing.TB, c *privatelink.Client, id, connStatus string) *privatelink.GetVpcEndpointAttributeResponse {
	t.Helper()
	return e.WaitEndpoint(t, c, id, "Active/"+connStatus, func(r *privatelink.GetVpcEndpointAttributeResponse) bool {
		return r.EndpointStatus == "Active" && r.ConnectionStatus == connStatus
	})
}

// WaitEndpointGone waits until the endpoint is not found.
func (e *Env) WaitEndpointGone(t testing.TB, c *privatelink.Client, id string) {
	t.Helper()
	Eventually(t, "endpoint "+id+" gone", func() (bool, string) {
		r, err := e.GetEndpoint(c, id)
		if err != nil {
			return Code(err) == "EndpointNotFound", err.Error()
		}
		return false, r.EndpointStatus
	})
}

// WaitZones waits until the endpoint's zones (seen by c) satisfy ok.
func (e *Env) WaitZones(t testing.TB, c *privatelink.Client, id, what string, ok func([]privatelink.Zone) bool) []privatelink.Zone {
	t.Helper()
	var last []privatelink.Zone
	Eventually(t, "zones of "+id+" "+what, func() (bool, string) {
		zs, err := e.Zones(c, id)
		if err != nil {
			return false, err.Error()
		}
		last = zs
		return ok(zs), fmt.Sprintf("%+v", zs)
	})
	return last
}

// WaitZone waits until the endpoint's zone is in status and returns it.
func (e *Env) WaitZone(t testing.TB, c *privatelink.Client, id, zone, status string) privatelink.Zone {
	t.Helper()
	zs := e.WaitZones(t, c, id, zone+" "+status, func(zs []privatelink.Zone) bool {
		z, ok := FindZone(zs, zone)
		return ok && z.ZoneStatus == status
	})
	z, _ := FindZone(zs, zone)
	return z
}

// FindZone returns the zone with id zone.
func FindZone(zs []privatelink.Zone, zone string) (privatelink.Zone, bool) {
	for _, z := range zs {
		if z.ZoneId == zone {
			return z, true
		}
	}
	return privatelink.Zone{}, false
}

// ---- errors ----

// Code returns the API error code of err ("" if err is not a server error).
func Code(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

// codeMatches reports whether got is want or a sub-code of it
// ("InvalidParameter" matches "InvalidParameter.EndpointName").
func codeMatches(got, want string) bool {
	return got == want || strings.HasPrefix(got, want+".")
}

// WantError asserts that err is a server error with a 4xx status and one of
// the codes (or a dotted sub-code of one).
func WantError(t testing.TB, err error, codes ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("call succeeded; want error %v", codes)
	}
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("error is not a server error: %v; want %v", err, codes)
	}
	if s := se.HttpStatus(); s < 400 || s > 499 {
		t.Errorf("HTTP status %d (code %s); want 4xx", s, se.ErrorCode())
	}
	for _, c := range codes {
		if codeMatches(se.ErrorCode(), c) {
			t.Logf("refused: %d %s: %s", se.HttpStatus(), se.ErrorCode(), se.Message())
			return
		}
	}
	t.Errorf("code %q (status %d, message %q); want one of %v", se.ErrorCode(), se.HttpStatus(), se.Message(), codes)
}

// ---- thin SDK helpers ----

// Bool and Int build SDK parameter values.
func Bool(b bool) requests.Boolean { return requests.NewBoolean(b) }
func Int(i int) requests.Integer   { return requests.NewInteger(i) }

// GetService is GetVpcEndpointServiceAttribute.
func (e *Env) GetService(c *privatelink.Client, id string) (*privatelink.GetVpcEndpointServiceAttributeResponse, error) {
	req := privatelink.CreateGetVpcEndpointServiceAttributeRequest()
	req.ServiceId = id
	return c.GetVpcEndpointServiceAttribute(req)
}

// GetEndpoint is GetVpcEndpointAttribute.
func (e *Env) GetEndpoint(c *privatelink.Client, id string) (*privatelink.GetVpcEndpointAttributeResponse, error) {
	req := privatelink.CreateGetVpcEndpointAttributeRequest()
	req.EndpointId = id
	return c.GetVpcEndpointAttribute(req)
}

// Zones lists all zones of an endpoint (following NextToken).
func (e *Env) Zones(c *privatelink.Client, id string) ([]privatelink.Zone, error) {
	var out []privatelink.Zone
	token := ""
	for {
		req := privatelink.CreateListVpcEndpointZonesRequest()
		req.EndpointId = id
		req.NextToken = token
		r, err := c.ListVpcEndpointZones(req)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Zones...)
		if token = r.NextToken; token == "" {
			return out, nil
		}
	}
}

// Resources lists all resources of a service.
func (e *Env) Resources(t testing.TB, id string) []privatelink.Resource {
	t.Helper()
	req := privatelink.CreateListVpcEndpointServiceResourcesRequest()
	req.ServiceId = id
	r, err := e.Provider.ListVpcEndpointServiceResources(req)
	if err != nil {
		t.Fatalf("ListVpcEndpointServiceResources: %v", err)
	}
	return r.Resources
}

// Connection returns the provider's view of one endpoint's connection.
func (e *Env) Connection(t testing.TB, svc, ep string) privatelink.Connection {
	t.Helper()
	req := privatelink.CreateListVpcEndpointConnectionsRequest()
	req.ServiceId = svc
	req.EndpointId = ep
	r, err := e.Provider.ListVpcEndpointConnections(req)
	if err != nil {
		t.Fatalf("ListVpcEndpointConnections: %v", err)
	}
	if len(r.Connections) != 1 {
		t.Fatalf("ListVpcEndpointConnections(%s, %s): %d connections, want 1", svc, ep, len(r.Connections))
	}
	return r.Connections[0]
}

// Res is a service resource for CreateService.
type Res struct{ ID, Zone string }

// CreateService creates a service (provider) on the resources, waits for it
// to be Active and returns its id.
func (e *Env) CreateService(t testing.TB, autoAccept bool, res ...Res) string {
	t.Helper()
	req := privatelink.CreateCreateVpcEndpointServiceRequest()
	req.ServiceResourceType = "slb"
	req.AutoAcceptEnabled = Bool(autoAccept)
	req.ServiceDescription = "test service"
	rs := make([]privatelink.CreateVpcEndpointServiceResource, len(res))
	for i, r := range res {
		rs[i] = privatelink.CreateVpcEndpointServiceResource{ResourceType: "slb", ResourceId: r.ID, ZoneId: r.Zone}
	}
	req.Resource = &rs
	resp, err := e.Provider.CreateVpcEndpointService(req)
	if err != nil {
		t.Fatalf("CreateVpcEndpointService: %v", err)
	}
	e.WaitService(t, resp.ServiceId, "Active")
	return resp.ServiceId
}

// AddUser whitelists uid on the service and waits for the service to settle.
func (e *Env) AddUser(t testing.TB, svc, uid string) {
	t.Helper()
	req := privatelink.CreateAddUserToVpcEndpointServiceRequest()
	req.ServiceId = svc
	req.UserId = requests.Integer(uid)
	if _, err := e.Provider.AddUserToVpcEndpointService(req); err != nil {
		t.Fatalf("AddUserToVpcEndpointService(%s): %v", uid, err)
	}
	e.WaitService(t, svc, "Active")
}

// SetAutoAllocated turns automatic allocation of a service resource on or
// off (provider). The guide asks for it to be off on the resource a zone
// replacement moves away from.
func (e *Env) SetAutoAllocated(t testing.TB, svc, res string, on bool) {
	t.Helper()
	req := privatelink.CreateUpdateVpcEndpointServiceResourceAttributeRequest()
	req.ServiceId, req.ResourceId, req.AutoAllocatedEnabled = svc, res, Bool(on)
	if _, err := e.Provider.UpdateVpcEndpointServiceResourceAttribute(req); err != nil {
		t.Fatalf("UpdateVpcEndpointServiceResourceAttribute(%s, %v): %v", res, on, err)
	}
}

// AllowReplace readies a zone replacement from resource from to resource
// to: to allows automatic allocation (so the zone keeps one) and from no
// longer does.
func (e *Env) AllowReplace(t testing.TB, svc, from, to string) {
	t.Helper()
	e.SetAutoAllocated(t, svc, to, true)
	e.SetAutoAllocated(t, svc, from, false)
}

// EP describes an endpoint for CreateEndpoint.
type EP struct {
	Client *privatelink.Client // nil = Consumer
	VPC    string              // "" = VPCConsumer
	SGs    []string            // nil = [SGConsumer]
	Zones  []privatelink.CreateVpcEndpointZone
	Name   string
}

// CreateEndpoint creates an endpoint to svc, waits until it is Active (and
// its zones have left Creating) and returns its id.
func (e *Env) CreateEndpoint(t testing.TB, svc string, ep EP) string {
	t.Helper()
	c := ep.Client
	if c == nil {
		c = e.Consumer
	}
	req := e.EndpointRequest(svc, ep)
	resp, err := c.CreateVpcEndpoint(req)
	if err != nil {
		t.Fatalf("CreateVpcEndpoint: %v", err)
	}
	e.WaitEndpoint(t, c, resp.EndpointId, "Active", func(r *privatelink.GetVpcEndpointAttributeResponse) bool {
		return r.EndpointStatus == "Active" && !transitional(r.ConnectionStatus)
	})
	e.WaitZones(t, c, resp.EndpointId, "settled", func(zs []privatelink.Zone) bool {
		for _, z := range zs {
			if transitional(z.ZoneStatus) {
				return false
			}
		}
		return len(zs) == len(ep.Zones)
	})
	return resp.EndpointId
}

// EndpointRequest builds the CreateVpcEndpoint request CreateEndpoint sends.
func (e *Env) EndpointRequest(svc string, ep EP) *privatelink.CreateVpcEndpointRequest {
	req := privatelink.CreateCreateVpcEndpointRequest()
	req.ServiceId = svc
	req.VpcId = ep.VPC
	if req.VpcId == "" {
		req.VpcId = VPCConsumer
	}
	sgs := ep.SGs
	if sgs == nil {
		sgs = []string{SGConsumer}
	}
	req.SecurityGroupId = &sgs
	if len(ep.Zones) > 0 {
		zs := ep.Zones
		req.Zone = &zs
	}
	req.EndpointName = ep.Name
	return req
}

// transitional reports whether a status is one the API documents as
// in-progress.
func transitional(s string) bool {
	switch s {
	case "Creating", "Pending", "Connecting", "Disconnecting", "Deleting", "Migrating":
		return true
	}
	return false
}

// Accept enables the endpoint's connection and waits until it and its
// zones are Connected.
func (e *Env) Accept(t testing.TB, svc, ep string, c *privatelink.Client) {
	t.Helper()
	req := privatelink.CreateEnableVpcEndpointConnectionRequest()
	req.ServiceId = svc
	req.EndpointId = ep
	if _, err := e.Provider.EnableVpcEndpointConnection(req); err != nil {
		t.Fatalf("EnableVpcEndpointConnection: %v", err)
	}
	if c == nil {
		c = e.Consumer
	}
	e.WaitEndpointStable(t, c, ep, "Connected")
	e.WaitZones(t, c, ep, "Connected", func(zs []privatelink.Zone) bool {
		for _, z := range zs {
			if z.ZoneStatus != "Connected" {
				return false
			}
		}
		return true
	})
}

// ---- state dump, for "nothing changed" ----

// State returns everything every lab account can read through the API, as
// canonical JSON without request ids. Two equal States mean no visible
// change.
func (e *Env) State(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	add := func(label string, v any, err error) {
		if err != nil {
			t.Fatalf("state: %s: %v", label, err)
		}
		raw, _ := json.Marshal(v)
		var m any
		_ = json.Unmarshal(raw, &m)
		stripRequestID(m)
		raw, _ = json.Marshal(m)
		fmt.Fprintf(&b, "%s %s\n", label, raw)
	}
	// Provider side.
	var svcs []privatelink.Service
	for token := ""; ; {
		req := privatelink.CreateListVpcEndpointServicesRequest()
		req.NextToken = token
		r, err := e.Provider.ListVpcEndpointServices(req)
		if err != nil {
			t.Fatalf("state: ListVpcEndpointServices: %v", err)
		}
		svcs = append(svcs, r.Services...)
		if token = r.NextToken; token == "" {
			break
		}
	}
	add("services", svcs, nil)
	for _, s := range svcs {
		g, err := e.GetService(e.Provider, s.ServiceId)
		add("service "+s.ServiceId, g, err)
		rr := privatelink.CreateListVpcEndpointServiceResourcesRequest()
		rr.ServiceId = s.ServiceId
		res, err := e.Provider.ListVpcEndpointServiceResources(rr)
		add("resources "+s.ServiceId, res, err)
		ur := privatelink.CreateListVpcEndpointServiceUsersRequest()
		ur.ServiceId = s.ServiceId
		users, err := e.Provider.ListVpcEndpointServiceUsers(ur)
		add("users "+s.ServiceId, users, err)
		var conns []privatelink.Connection
		for token := ""; ; {
			cr := privatelink.CreateListVpcEndpointConnectionsRequest()
			cr.ServiceId = s.ServiceId
			cr.NextToken = token
			r, err := e.Provider.ListVpcEndpointConnections(cr)
			if err != nil {
				t.Fatalf("state: ListVpcEndpointConnections: %v", err)
			}
			conns = append(conns, r.Connections...)
			if token = r.NextToken; token == "" {
				break
			}
		}
		add("connections "+s.ServiceId, conns, nil)
	}
	// Every account's endpoints and visible services.
	for _, acc := range []struct {
		name string
		c    *privatelink.Client
	}{{"provider", e.Provider}, {"consumer", e.Consumer}, {"consumer2", e.Consumer2}, {"outsider", e.Outsider}} {
		var eps []privatelink.Endpoint
		for token := ""; ; {
			req := privatelink.CreateListVpcEndpointsRequest()
			req.NextToken = token
			r, err := acc.c.ListVpcEndpoints(req)
			if err != nil {
				t.Fatalf("state: ListVpcEndpoints: %v", err)
			}
			eps = append(eps, r.Endpoints...)
			if token = r.NextToken; token == "" {
				break
			}
		}
		add(acc.name+" endpoints", eps, nil)
		for _, ep := range eps {
			g, err := e.GetEndpoint(acc.c, ep.EndpointId)
			add(acc.name+" endpoint "+ep.EndpointId, g, err)
			zs, err := e.Zones(acc.c, ep.EndpointId)
			add(acc.name+" zones "+ep.EndpointId, zs, err)
			sr := privatelink.CreateListVpcEndpointSecurityGroupsRequest()
			sr.EndpointId = ep.EndpointId
			sgs, err := acc.c.ListVpcEndpointSecurityGroups(sr)
			add(acc.name+" sgs "+ep.EndpointId, sgs, err)
		}
		br := privatelink.CreateListVpcEndpointServicesByEndUserRequest()
		bu, err := acc.c.ListVpcEndpointServicesByEndUser(br)
		add(acc.name+" visible services", bu, err)
	}
	return b.String()
}

func stripRequestID(v any) {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "RequestId")
		for _, x := range v {
			stripRequestID(x)
		}
	case []any:
		for _, x := range v {
			stripRequestID(x)
		}
	}
}

// AssertUnchanged fails the test if the visible state differs from before.
func (e *Env) AssertUnchanged(t testing.TB, before string) {
	t.Helper()
	after := e.State(t)
	if after == before {
		return
	}
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	for i := 0; i < len(bl) || i < len(al); i++ {
		var x, y string
		if i < len(bl) {
			x = bl[i]
		}
		if i < len(al) {
			y = al[i]
		}
		if x != y {
			t.Errorf("state changed by a rejected call:\n before: %s\n after:  %s", x, y)
			return
		}
	}
}
