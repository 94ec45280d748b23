package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"eplink/console"
	"eplink/controlplane"
	"eplink/controlplane/api"
	"eplink/controlplane/lab"
	"eplink/controlplane/rpc"
	"eplink/controlplane/snapshot"
	"eplink/dataplane"
	"eplink/dataplane/backend"
	"eplink/dataplane/impair"
	"eplink/dns"
	"eplink/metrics"
	"eplink/metrics/cloudmonitor"
)

// serveFlags are `eplink serve`'s flags.
type serveFlags struct {
	labFile         string
	demo            bool
	dataDir         string
	apiAddr         string
	dnsAddr         string
	metricsAddr     string
	transitionDelay time.Duration
	dnsZone         string
	dnsTTL          uint
	dnsUpstream     string
	logLevel        string
	noProfile       bool
	labKey          string
	network         string // "" = the lab's
	netnsPrefix     string
}

// loops is the data plane's event loop count: GOMAXPROCS as the process
// started (the cores, or the GOMAXPROCS the user set), taken before serve
// sets its own (procs).
var loops = runtime.GOMAXPROCS(0)

// procs is how many Ps serve runs with, given the loop count, the front
// end, and whether the user set GOMAXPROCS.
//
// The loopback front end has one data plane loop per core and one P more
// than there are loops. A loop waits for events in epoll_wait; if every P
// is held by a loop waiting, the scheduler's monitor takes the P away from
// any wait over 20 µs and wakes a thread to look for work, so busy loops
// cost a context switch or two per connection. A spare P stops that: on
// two cores, half the context switches and ~10% more connections/s.
//
// The netns front end's flows bypass the loops: its data path is
// goroutines (each TUN's reader, gVisor's TCP processors, each flow's two
// copiers) handing every packet on to the next, and a hand-off to a
// goroutine on another P wakes a thread on another core. On two cores
// shared with the instances' own processes, one P instead of three halved
// eplink's user CPU per keep-alive request (37 to 20 µs) and carried one
// stream faster (4.3 to 5.8 Gbit/s); two Ps were as costly as three. So
// netns runs on half the cores' Ps, at least one: measured on two cores
// only, and what the user sets as GOMAXPROCS is taken as it is.
func procs(loops int, netns, userSet bool) int {
	switch {
	case !netns:
		return loops + 1
	case userSet:
		return loops
	default:
		return max(1, loops/2)
	}
}

const (
	defaultAPIAddr = "127.0.0.1:8080"
	defaultDNSAddr = "127.0.0.1:53"
)

func parseServeFlags(args []string, stderr io.Writer) (*serveFlags, *flag.FlagSet, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.labFile, "lab", "", "lab `FILE` (YAML): accounts, VPCs, security groups, CLBs")
	fs.BoolVar(&f.demo, "demo", false, "run the built-in demo lab (the product guide's scenario)")
	fs.StringVar(&f.dataDir, "data-dir", "", "`DIR` for the state file (default ./eplink-data; a fresh temporary one with --demo)")
	fs.StringVar(&f.apiAddr, "api-addr", defaultAPIAddr, "`HOST:PORT` of the OpenAPI and /metrics")
	fs.StringVar(&f.dnsAddr, "dns-addr", defaultDNSAddr, "`HOST:PORT` of the authoritative DNS server (UDP and TCP)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "extra `HOST:PORT` serving only /metrics")
	fs.DurationVar(&f.transitionDelay, "transition-delay", time.Second, "how long transitional states (Creating, Connecting, Migrating…) stay visible;\n0 allowed")
	fs.StringVar(&f.dnsZone, "dns-zone", "privatelink.aliyuncs.com", "DNS `ZONE` eplink is authoritative for")
	fs.UintVar(&f.dnsTTL, "dns-ttl", 5, "TTL of DNS answers, in seconds")
	fs.StringVar(&f.dnsUpstream, "dns-upstream", "", "forward names outside the zone to this `HOST:PORT` (default: REFUSED)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&f.noProfile, "no-profile", false, "do not write the CLI profile (~/.config/eplink/config.json)")
	fs.StringVar(&f.labKey, "lab-key", os.Getenv("EPLINK_LAB_KEY"), "`KEY` the lab API (/lab/…) requires in the "+api.LabKeyHeader+" header (default $EPLINK_LAB_KEY;\nrandom when --api-addr is not loopback, none on loopback)")
	fs.StringVar(&f.network, "network", "", "front end: `loopback` or netns (default: the lab's network, else loopback)")
	fs.StringVar(&f.netnsPrefix, "netns-prefix", "eplink-", "netns front end: the instances' namespaces are `PREFIX`<instance id>")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, fs, err
		}
		return nil, fs, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, fs, &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	if f.demo == (f.labFile != "") {
		return nil, fs, &usageError{"give exactly one of --demo or --lab FILE"}
	}
	switch f.network {
	case "", lab.NetworkLoopback, lab.NetworkNetns:
	default:
		return nil, fs, &usageError{fmt.Sprintf("--network %q: want loopback or netns", f.network)}
	}
	if f.transitionDelay < 0 {
		return nil, fs, &usageError{"--transition-delay must not be negative"}
	}
	return f, fs, nil
}

func serveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, _, err := parseServeFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return &usageError{"--log-level: " + err.Error()}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	explicit := map[string]bool{}
	for _, a := range args {
		for _, name := range []string{"api-addr", "dns-addr"} {
			if a == "--"+name || a == "-"+name || strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"=") {
				explicit[name] = true
			}
		}
	}
	if rootless(f.network, f.labFile) {
		return runRootless(append([]string{"serve"}, args...), stdout, stderr)
	}
	s := &server{flags: f, logger: logger, stdout: stdout}
	return s.run(ctx, explicit)
}

// server is one running eplink: control plane, data plane, DNS, API.
type server struct {
	flags  *serveFlags
	logger *slog.Logger
	stdout io.Writer
}

func (s *server) run(ctx context.Context, explicit map[string]bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := s.flags

	// Bind the sockets first: a port in use is the most common start-up
	// failure, and the demo picks other ports when it may.
	apiLn, err := listenFallback("tcp", f.apiAddr, !explicit["api-addr"])
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	defer apiLn.Close()

	// Built-in backends are bound before the lab is built: the demo puts
	// their actual ports into its lab.
	var l *lab.Lab
	var builtins []builtinBackend
	if f.demo && f.network == lab.NetworkNetns {
		l = lab.DemoNetns()
	} else if f.demo {
		l, builtins, err = demoLab()
	} else {
		l, err = lab.Load(f.labFile)
		if err == nil && f.network != "" && f.network != l.Network {
			l.Network = f.network
			err = l.Validate() // the lab's rules for the other front end
		}
		if err == nil && !l.Netns() {
			err = checkLoopback(l)
		}
		if err == nil {
			builtins, err = bindBuiltins(l)
		}
	}
	if err == nil && l.Netns() {
		err = netnsReady() // before anything starts: say at once what is missing
	}
	if err != nil {
		return err
	}
	backendFaults := map[string]*backend.FaultListener{}
	for _, b := range builtins {
		b := b
		fl := backend.NewFaultListener(b.ln)
		backendFaults[b.ln.Addr().String()] = fl
		go func() {
			if err := backend.Serve(ctx, fl, b.name); err != nil && ctx.Err() == nil {
				s.logger.Error("builtin backend stopped", "name", b.name, "addr", b.ln.Addr(), "err", err)
			}
		}()
	}

	dataDir := f.dataDir
	if dataDir == "" {
		if f.demo {
			if dataDir, err = os.MkdirTemp("", "eplink-demo-"); err != nil {
				return err
			}
			defer os.RemoveAll(dataDir)
		} else {
			dataDir = "eplink-data"
		}
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg)

	runtime.GOMAXPROCS(procs(loops, l.Netns(), os.Getenv("GOMAXPROCS") != ""))
	dpOpts := dataplane.Options{Loops: loops, Metrics: m, Logger: s.logger.With("component", "dataplane")}
	var vpcNet *vpcNetwork
	if l.Netns() {
		dpOpts.Netns = true
		dpOpts.DialVPC = func(ctx context.Context, vpc string, src netip.Addr, dst netip.AddrPort) (net.Conn, error) {
			return vpcNet.Dial(ctx, vpc, src, dst)
		}
	}
	proxy := dataplane.New(dpOpts)

	pub := &snapshot.Publisher{}
	cp, err := controlplane.Open(controlplane.Config{
		DataDir:         dataDir,
		Lab:             l,
		TransitionDelay: f.transitionDelay,
		DNSZone:         f.dnsZone,
		Publisher:       pub,
		Logger:          s.logger.With("component", "controlplane"),
		ENIStatus:       eniStatus(proxy),
	})
	if err != nil {
		return err
	}
	defer cp.Close()

	dpDone := make(chan error, 1)

	dnsCfg := dns.Config{
		Zone:       f.dnsZone,
		TTL:        uint32(f.dnsTTL),
		Upstream:   f.dnsUpstream,
		Healthy:    proxy.Healthy,
		Served:     proxy.Serves,
		Registerer: reg,
		Logger:     s.logger.With("component", "dns"),
	}
	dnsAddr, dnsSrv, dnsDone, err := startDNS(ctx, dnsCfg, pub, f.dnsAddr, !explicit["dns-addr"])
	if err != nil {
		return fmt.Errorf("dns: %w", err)
	}
	if l.Netns() {
		// The network is built before the data plane runs: its first
		// health checks dial instance backends through it.
		vpcNet, err = startNetwork(ctx, l, f.netnsPrefix, proxy, dnsSrv, s.logger.With("component", "netns"))
		if err != nil {
			return fmt.Errorf("netns: %w", err)
		}
		defer vpcNet.Close()
		go vpcNet.Run(ctx, pub)
	}
	go func() { dpDone <- proxy.Run(ctx, pub) }()

	// CloudMonitor: series from the data plane's counters, rules and alert
	// log in the control plane's store. It stops before the store closes.
	mon, err := cloudmonitor.New(cloudmonitor.Config{
		Store:    cp.Store(),
		Snapshot: pub.Load,
		Counters: cloudmonitor.CountersFrom(m),
		Region:   l.Region,
		Logger:   s.logger.With("component", "cloudmonitor"),
	})
	if err != nil {
		return err
	}
	reg.MustRegister(mon.Collector())
	monDone := make(chan struct{})
	go func() { defer close(monDone); mon.Run(ctx) }()
	defer func() { cancel(); <-monDone }()

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	labKey, generated, err := chooseLabKey(f.labKey, apiLn.Addr())
	if err != nil {
		return err
	}
	labMux := http.NewServeMux()
	labMux.Handle(api.AdminPath, api.Admin(cp))
	labMux.Handle("POST /lab/backend-fault", api.BackendFault(func(addr, mode string) error {
		return setBackendFault(backendFaults, addr, mode)
	}))
	labMux.Handle("POST /lab/backend-impair", api.BackendImpair(func(addr, spec string) (string, error) {
		return impairBackend(backendFaults, addr, spec)
	}))
	labMux.Handle("POST /lab/dataplane-restart", api.DataplaneRestart(proxy.Restart))
	labMux.Handle("POST /lab/impair", api.Impair(func(t api.ImpairTarget, spec string) (string, error) {
		return impairRoute(proxy, t, spec)
	}))
	var admin http.Handler = labMux
	if labKey != "" {
		admin = api.RequireLabKey(labKey, admin)
	}
	mux.Handle(api.AdminPath, admin)
	// PrivateLink and CloudMonitor share the address; Version picks one.
	apiHandler := rpc.Products{
		api.New(cp, s.logger.With("component", "api")),
		mon.API(cp.Credentials, s.logger.With("component", "cms")),
	}
	// The console calls whatever serves "/" (the OpenAPI, and any product beside
	// it on the same address), as the SDK would.
	con := newConsole(cp, mux, reg, f.demo, apiLn.Addr(), l, s.logger)
	go con.Run(ctx)
	mux.Handle(console.Path, con)
	mux.Handle("/", console.RedirectBrowsers(apiHandler))
	apiSrv := rpc.NewHTTPServer("", mux) // bounded: a slow or huge request cannot hold the API
	apiDone := make(chan error, 1)
	go func() { apiDone <- apiSrv.Serve(apiLn) }()

	var metricsSrv *http.Server
	if f.metricsAddr != "" {
		mln, err := net.Listen("tcp", f.metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mm := http.NewServeMux()
		mm.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
		metricsSrv = rpc.NewHTTPServer("", mm)
		go metricsSrv.Serve(mln)
	}

	info := startInfo{API: apiLn.Addr().String(), DNS: dnsAddr, DataDir: dataDir, Lab: l, LabKey: labKey}
	if l.Netns() {
		info.NetnsPrefix = f.netnsPrefix
	}
	if !f.noProfile {
		if w, err := writeProfile(l, info, os.Getpid()); err != nil {
			s.logger.Warn("could not write the CLI profile", "err", err)
		} else {
			info.Profiles = w
			defer func() {
				if err := removeProfiles(os.Getpid()); err != nil {
					s.logger.Warn("could not remove the CLI profiles", "err", err)
				}
			}()
		}
	}
	s.logger.Info("eplink serving", "api", info.API, "dns", info.DNS, "data_dir", dataDir, "version", version)
	if d := info.Profiles.describe(); d != "" && !f.demo { // the demo's banner says it
		fmt.Fprintln(s.stdout, d)
	}
	if !f.demo {
		fmt.Fprintf(s.stdout, "Console: http://%s%s\n", info.API, console.Path)
	}
	if generated {
		where := "eplink fault reads it from the profile"
		if f.noProfile {
			where = "pass it to eplink fault with --lab-key"
		}
		fmt.Fprintf(s.stdout, "The API address %s is not loopback: the lab API (/lab/…) needs the header %s: %s (%s).\n",
			info.API, api.LabKeyHeader, labKey, where)
	}
	if f.demo {
		applied := proxy.Version
		if vpcNet != nil {
			applied = func() uint64 { return min(proxy.Version(), vpcNet.Version()) }
		}
		printDemo(ctx, s.stdout, pub, proxy, applied, info)
	}

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-apiDone:
		runErr = fmt.Errorf("api: %w", err)
	case err := <-dnsDone:
		if err != nil {
			runErr = fmt.Errorf("dns: %w", err)
		}
	case err := <-dpDone:
		if err != nil {
			runErr = fmt.Errorf("dataplane: %w", err)
		}
	}
	s.logger.Info("shutting down")
	cancel()
	shutCtx, shutCancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer shutCancel()
	apiSrv.Shutdown(shutCtx)
	if metricsSrv != nil {
		metricsSrv.Shutdown(shutCtx)
	}
	return runErr
}

// chooseLabKey decides what the lab API requires: the key given, else a
// random one when the API listens on anything but loopback (generated is
// then true), else nothing — on loopback only this machine's users reach it.
func chooseLabKey(given string, apiAddr net.Addr) (key string, generated bool, err error) {
	if given != "" {
		return given, false, nil
	}
	if ta, ok := apiAddr.(*net.TCPAddr); ok && ta.IP.IsLoopback() {
		return "", false, nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false, err
	}
	return hex.EncodeToString(b[:]), true, nil
}

// eniStatus is what a zone's StatusInfo says about its ENI: nothing while
// the data plane serves it, else that it cannot and why.
func eniStatus(proxy *dataplane.Proxy) func(netip.Addr) string {
	return func(ip netip.Addr) string {
		err := proxy.ENIError(ip)
		if err == nil {
			return ""
		}
		var be *dataplane.BindError
		if errors.As(err, &be) {
			err = be.Err
			if errors.Is(err, syscall.EADDRINUSE) {
				return fmt.Sprintf("EniNotServed: %s is held by another process (another eplink?); DNS leaves it out until it is free", be.Addr)
			}
			return fmt.Sprintf("EniNotServed: cannot listen on %s: %v", be.Addr, err)
		}
		return "EniNotServed: " + err.Error()
	}
}

// listenFallback listens on addr; when fallback is allowed and the port is
// taken or privileged, it takes a free port on the same host instead.
func listenFallback(network, addr string, fallback bool) (net.Listener, error) {
	ln, err := net.Listen(network, addr)
	if err == nil || !fallback {
		return ln, err
	}
	host, _, _ := net.SplitHostPort(addr)
	ln, err2 := net.Listen(network, net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, err
	}
	return ln, nil
}

// startDNS serves DNS on addr. With fallback (the address was not given
// explicitly) it tries port 5353 and then any free port when addr cannot be
// bound: port 53 needs root, or a local resolver holds it. It returns the
// bound address once UDP and TCP both serve, and a channel that yields the
// server's exit.
func startDNS(ctx context.Context, cfg dns.Config, pub *snapshot.Publisher, addr string, fallback bool) (string, *dns.Server, <-chan error, error) {
	candidates := []string{addr}
	if fallback {
		host, _, _ := net.SplitHostPort(addr)
		candidates = append(candidates, net.JoinHostPort(host, "5353"), net.JoinHostPort(host, "0"))
	}
	var firstErr error
	for _, a := range candidates {
		// Each attempt is a new Server; only the one that binds may
		// register its metrics (registering twice would panic).
		held := &heldRegisterer{}
		attempt := cfg
		if cfg.Registerer != nil {
			attempt.Registerer = held
		}
		srv := dns.New(attempt, pub)
		done := make(chan error, 1)
		go func() { done <- srv.ListenAndServe(ctx, a) }()
		select {
		case <-srv.Ready():
			if cfg.Registerer != nil {
				cfg.Registerer.MustRegister(held.cs...)
			}
			return srv.Addr().String(), srv, done, nil
		case err := <-done:
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	return "", nil, nil, firstErr
}

// heldRegisterer keeps collectors until it is known they should be
// registered for real.
type heldRegisterer struct{ cs []prometheus.Collector }

func (h *heldRegisterer) Register(c prometheus.Collector) error {
	h.cs = append(h.cs, c)
	return nil
}
func (h *heldRegisterer) MustRegister(cs ...prometheus.Collector) { h.cs = append(h.cs, cs...) }
func (h *heldRegisterer) Unregister(prometheus.Collector) bool    { return false }

// checkLoopback refuses vSwitch CIDRs outside 127.0.0.0/8: the loopback
// front end serves ENI addresses with kernel sockets on this host, and any
// other address would either fail to bind or be a real network's.
func checkLoopback(l *lab.Lab) error {
	loop := netip.MustParsePrefix("127.0.0.0/8")
	var errs []error
	for i, v := range l.VPCs {
		for j, sw := range v.VSwitches {
			p := sw.Prefix()
			if !loop.Contains(p.Addr()) || p.Bits() < loop.Bits() {
				errs = append(errs, l.Errorf(fmt.Sprintf("vpcs[%d].vswitches[%d].cidr", i, j),
					"%s (vswitch %s of %s) is outside 127.0.0.0/8, which the loopback front end needs (ENI addresses are served by this host's loopback)",
					sw.CIDR, sw.ID, v.ID))
			}
		}
	}
	return errors.Join(errs...)
}

// setBackendFault fails or recovers the builtin backend at addr.
func setBackendFault(faults map[string]*backend.FaultListener, addr, mode string) error {
	if !slices.Contains(backend.FaultModes, mode) {
		return rpc.InvalidParameter("Mode", "must be one of "+strings.Join(backend.FaultModes, ", "))
	}
	fl, err := builtinAt(faults, addr)
	if err != nil {
		return err
	}
	if err := fl.Set(mode); err != nil {
		return rpc.Errorf(http.StatusConflict, "IncorrectStatus.Backend", "%v", err)
	}
	return nil
}

// impairBackend sets the impairment of the builtin backend at addr.
func impairBackend(faults map[string]*backend.FaultListener, addr, spec string) (string, error) {
	im, err := backend.ParseImpairment(spec)
	if err != nil {
		return "", rpc.InvalidParameter("Impairment", err.Error())
	}
	fl, err := builtinAt(faults, addr)
	if err != nil {
		return "", err
	}
	if err := fl.Impair(im); err != nil {
		return "", rpc.InvalidParameter("Impairment", err.Error())
	}
	return im.String(), nil
}

// impairRoute sets the impairment of an ENI's, a zone's or a CLB's flows.
func impairRoute(proxy *dataplane.Proxy, t api.ImpairTarget, spec string) (string, error) {
	im, err := impair.Parse(spec)
	if err != nil {
		return "", rpc.InvalidParameter("Impairment", err.Error())
	}
	err = proxy.Impair(dataplane.ImpairTarget{ENIID: t.EniID, EndpointID: t.EndpointID, ZoneID: t.ZoneID,
		ResourceID: t.ResourceID}, im)
	switch {
	case errors.Is(err, dataplane.ErrImpairTargetNotFound) && t.EniID != "":
		return "", rpc.Errorf(http.StatusNotFound, "InvalidEniId.NotFound", "The ENI %s serves no flow in this lab.", t.EniID)
	case errors.Is(err, dataplane.ErrImpairTargetNotFound) && t.ResourceID != "":
		return "", rpc.Errorf(http.StatusNotFound, "InvalidResourceId.NotFound", "The CLB %s is not in this lab.", t.ResourceID)
	case errors.Is(err, dataplane.ErrImpairTargetNotFound):
		return "", rpc.Errorf(http.StatusNotFound, "EndpointZoneNotFound", "The endpoint %s has no zone %s.", t.EndpointID, t.ZoneID)
	case err != nil:
		return "", rpc.InvalidParameter("Impairment", err.Error())
	}
	return im.String(), nil
}

func builtinAt(faults map[string]*backend.FaultListener, addr string) (*backend.FaultListener, error) {
	fl, ok := faults[addr]
	if !ok {
		have := slices.Sorted(maps.Keys(faults))
		return nil, rpc.Errorf(http.StatusNotFound, "InvalidBackend.NotFound",
			"%s is not a builtin backend of this lab (only builtin: http backends can be failed; have: %s)", addr, strings.Join(have, ", "))
	}
	return fl, nil
}

// builtinBackend is a `builtin: http` backend of the lab, already bound.
type builtinBackend struct {
	name string
	ln   net.Listener
}

// bindBuiltins binds every builtin backend address of the lab.
func bindBuiltins(l *lab.Lab) ([]builtinBackend, error) {
	var out []builtinBackend
	seen := map[string]bool{}
	for _, lb := range l.LoadBalancers {
		for _, li := range lb.Listeners {
			for _, b := range li.Backends {
				if b.Builtin != "http" || seen[b.Address] {
					continue
				}
				seen[b.Address] = true
				ln, err := net.Listen("tcp", b.Address)
				if err != nil {
					for _, o := range out {
						o.ln.Close()
					}
					return nil, fmt.Errorf("builtin backend %s of %s: %w", b.Name, lb.ID, err)
				}
				out = append(out, builtinBackend{name: b.Name, ln: ln})
			}
		}
	}
	return out, nil
}

func backendCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:18081", "`HOST:PORT` to serve on")
	name := fs.String("name", "ECS01", "server `NAME` in the greeting")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return &usageError{err.Error()}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backend %s serving on http://%s/ (and /bytes?n=N)\n", *name, ln.Addr())
	err = backend.Serve(ctx, ln, *name)
	if ctx.Err() != nil {
		return nil
	}
	return err
}
