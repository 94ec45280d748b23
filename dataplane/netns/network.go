//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"

	mdns "github.com/miekg/dns"

	"eplink/controlplane/snapshot"
	"eplink/dataplane/backend"
	"eplink/dataplane/netstack"
)

// InstanceSpec is an ECS instance of the lab, as the network needs it.
type InstanceSpec struct {
	ID, VpcID string
	// Addr is the instance's address with its vSwitch's prefix length.
	Addr    netip.Prefix
	Gateway netip.Addr
	// Builtin "http" serves the demo page on port 80 as Name.
	Builtin, Name string
}

// Config configures the netns front end's network.
type Config struct {
	// Prefix of the namespace names (DefaultPrefix if "").
	Prefix string
	// RunDir holds the ownership records (DefaultRunDir if "").
	RunDir string
	// MTU of the instances' eth0 (DefaultMTU if 0).
	MTU int
	// NoOffload keeps the TUNs without virtio headers and offloads: every
	// packet crosses as the MTU cuts it (slower; for comparison).
	NoOffload bool
	// VPCs are the ids of the VPCs to build a stack for (every VPC with an
	// instance or an endpoint).
	VPCs      []string
	Instances []InstanceSpec
	// Proxy is the data plane's accept path.
	Proxy netstack.Admitter
	// DNS answers at the VPC resolver.
	DNS    mdns.Handler
	Logger *slog.Logger
}

// Network is the running netns front end: a stack per VPC and a namespace
// per instance.
type Network struct {
	cfg  Config
	log  *slog.Logger
	vpcs map[string]*netstack.VPC
	ns   []*Namespace
	wg   sync.WaitGroup
	stop context.CancelFunc
	// applied is the Version of the last snapshot whose addresses the
	// stacks own (Version).
	applied atomic.Uint64
}

// NamespaceName is the namespace of an instance.
func (c *Config) NamespaceName(instanceID string) string {
	p := c.Prefix
	if p == "" {
		p = DefaultPrefix
	}
	return p + instanceID
}

// Start checks the system, removes what a killed eplink left, and builds
// every VPC's stack and every instance's namespace. On failure nothing is
// left. Close (or ctx's end and then Close) takes it all down.
func Start(ctx context.Context, cfg Config) (_ *Network, err error) {
	if err := Check(); err != nil {
		return nil, err
	}
	if cfg.RunDir == "" {
		cfg.RunDir = DefaultRunDir
	}
	names := make([]string, len(cfg.Instances))
	for i, in := range cfg.Instances {
		names[i] = cfg.NamespaceName(in.ID)
	}
	if err := CleanStale(cfg.RunDir, names); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sctx, stop := context.WithCancel(context.Background())
	n := &Network{cfg: cfg, log: log, vpcs: map[string]*netstack.VPC{}, stop: stop}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	for _, id := range cfg.VPCs {
		v, err := netstack.New(netstack.Config{ID: id, Proxy: cfg.Proxy, DNS: cfg.DNS, Logger: log})
		if err != nil {
			return nil, err
		}
		n.vpcs[id] = v
		if err := v.SetAddresses(nil); err != nil { // the resolver
			return nil, err
		}
	}
	for _, in := range cfg.Instances {
		v := n.vpcs[in.VpcID]
		if v == nil {
			return nil, fmt.Errorf("instance %s: no stack for %s", in.ID, in.VpcID)
		}
		ns, err := Create(ctx, Spec{Name: cfg.NamespaceName(in.ID), Addr: in.Addr, Gateway: in.Gateway,
			Resolver: netstack.Resolver, MTU: cfg.MTU, RunDir: cfg.RunDir, Offload: !cfg.NoOffload})
		if err != nil {
			return nil, fmt.Errorf("instance %s: %w", in.ID, err)
		}
		n.ns = append(n.ns, ns)
		mtu := cfg.MTU
		if mtu == 0 {
			mtu = DefaultMTU
		}
		if err := v.AttachTUN(in.ID, ns.TUN, uint32(mtu), in.Addr.Addr(), !cfg.NoOffload); err != nil {
			return nil, fmt.Errorf("instance %s: %w", in.ID, err)
		}
		if in.Builtin == "http" {
			ln, err := ns.Listen(":80")
			if err != nil {
				return nil, fmt.Errorf("instance %s: builtin http: %w", in.ID, err)
			}
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				if err := backend.Serve(sctx, ln, in.Name); err != nil && sctx.Err() == nil {
					log.Error("builtin server stopped", "instance", in.ID, "err", err)
				}
			}()
		}
	}
	for id, v := range n.vpcs {
		if err := v.ServeDNS(); err != nil {
			log.Debug("no resolver", "vpc_id", id, "err", err) // a VPC without instances has nobody to ask
		}
	}
	return n, nil
}

// Dial connects from src (a CLB's address) to dst inside VPC vpcID: the
// data plane's Options.DialVPC.
func (n *Network) Dial(ctx context.Context, vpcID string, src netip.Addr, dst netip.AddrPort) (net.Conn, error) {
	v := n.vpcs[vpcID]
	if v == nil {
		return nil, fmt.Errorf("no network for %s", vpcID)
	}
	return v.Dial(ctx, src, dst)
}

// Run keeps each VPC's service addresses (ENIs, CLB addresses, vSwitch
// gateways) to the snapshots of pub until ctx ends.
func (n *Network) Run(ctx context.Context, pub *snapshot.Publisher) {
	pub.Watch(ctx, n.apply)
}

func (n *Network) apply(s *snapshot.Snapshot) {
	for id, v := range n.vpcs {
		if err := v.SetAddresses(ServiceAddrs(s, id)); err != nil {
			n.log.Error("vpc addresses", "vpc_id", id, "err", err)
		}
	}
	n.applied.Store(s.Version)
}

// Version is the Version of the last snapshot applied: every VPC's stack
// owns its ENI, CLB and gateway addresses. Like the data plane's, it runs
// behind the control plane's for a moment (Run applies on its own
// goroutine).
func (n *Network) Version() uint64 { return n.applied.Load() }

// ServiceAddrs are the addresses the stack of VPC vpcID owns in s: its
// endpoints' ENIs (a replaced one too, while it carries flows), its CLBs'
// addresses and its vSwitches' gateways.
func ServiceAddrs(s *snapshot.Snapshot, vpcID string) []netip.Addr {
	var out []netip.Addr
	for _, e := range s.Endpoints {
		if e.VpcID != vpcID {
			continue
		}
		for _, z := range e.Zones {
			if z.ENI.IP.IsValid() {
				out = append(out, z.ENI.IP)
			}
			if z.Replaced != nil && z.Replaced.ENI.IP.IsValid() {
				out = append(out, z.Replaced.ENI.IP)
			}
		}
	}
	for _, lb := range s.LoadBalancers {
		if lb.VpcID == vpcID && lb.IP.IsValid() {
			out = append(out, lb.IP)
		}
	}
	for _, vsw := range s.VSwitches {
		if vsw.VpcID == vpcID && vsw.CIDR.Addr().Is4() && vsw.CIDR.Bits() <= 30 {
			out = append(out, Gateway(vsw.CIDR))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}

// Gateway is a vSwitch's gateway, the cloud's last address minus two (the
// lab package computes the same for validation; the data plane may not
// import it).
func Gateway(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= uint32(1)<<(32-p.Bits()) - 1
	v -= 2
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Namespaces are the names of the instances' namespaces.
func (n *Network) Namespaces() []string {
	out := make([]string, len(n.ns))
	for i, ns := range n.ns {
		out[i] = ns.Name
	}
	return out
}

// Close stops the builtin servers and the stacks (closing the TUNs) and
// removes the namespaces.
func (n *Network) Close() error {
	n.stop()
	n.wg.Wait()
	for _, v := range n.vpcs {
		v.Close()
	}
	var errs []error
	for _, ns := range n.ns {
		errs = append(errs, ns.Close())
	}
	n.ns = nil
	return errors.Join(errs...)
}
