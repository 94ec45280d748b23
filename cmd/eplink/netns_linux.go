//go:build linux

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"

	"eplink/controlplane/lab"
	"eplink/dataplane"
	"eplink/dataplane/netns"
	"eplink/dns"
)

// vpcNetwork is the netns front end's network (a stack per VPC, a
// namespace per instance).
type vpcNetwork = netns.Network

// startNetwork builds the netns front end of lab l: every VPC a stack,
// every instance a namespace <prefix><id>.
func startNetwork(ctx context.Context, l *lab.Lab, prefix string, proxy *dataplane.Proxy, dnsSrv *dns.Server, log *slog.Logger) (*vpcNetwork, error) {
	cfg := netnsConfig(l, prefix)
	cfg.Proxy = proxy
	cfg.DNS = dnsSrv
	cfg.Logger = log
	return netns.Start(ctx, cfg)
}

// netnsConfig turns the lab's VPCs and instances into the network's terms.
func netnsConfig(l *lab.Lab, prefix string) netns.Config {
	cfg := netns.Config{Prefix: prefix}
	for _, v := range l.VPCs {
		cfg.VPCs = append(cfg.VPCs, v.ID)
	}
	for _, in := range l.Instances {
		vsw, _ := l.VSwitch(in.VSwitch)
		vpc, _ := l.VPCOf(in.VSwitch)
		p := vsw.Prefix()
		cfg.Instances = append(cfg.Instances, netns.InstanceSpec{
			ID: in.ID, VpcID: vpc.ID, Addr: netip.PrefixFrom(in.Addr(), p.Bits()),
			Gateway: lab.Gateway(p), Builtin: in.Builtin, Name: in.DisplayName(),
		})
	}
	return cfg
}

// netnsCheck says why this process cannot build the netns front end, if it
// cannot.
func netnsCheck() error {
	if err := netns.Check(); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}
