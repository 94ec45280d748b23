//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"

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

// netnsReady readies this process for the netns front end (in a user
// namespace, its private /run/netns and /etc/netns) and says why it cannot
// build it, if it cannot.
func netnsReady() error {
	if err := usernsMounts(); err != nil {
		return err
	}
	if err := netns.Check(); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	return nil
}

// rootless reports whether a command that runs the netns front end of
// the lab (network, else labFile's) must run itself again in a user
// namespace of its own: it is not root, and not in one yet.
func rootless(network, labFile string) bool {
	if os.Geteuid() == 0 || netns.InUserns() {
		return false
	}
	switch network {
	case lab.NetworkNetns:
		return true
	case "":
		if labFile == "" {
			return false
		}
		l, err := lab.Load(labFile)
		return err == nil && l.Netns() // a bad lab is the command's to report
	}
	return false
}

// runRootless runs `eplink ARGS…` again as root of a user namespace (see
// dataplane/netns), after saying what the system lacks for it, if
// anything; its exit status is this one's.
func runRootless(args []string, stdout, stderr io.Writer) error {
	if err := netns.CheckRootless(); err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	code, err := netns.Reexec(args, os.Stdin, stdout, stderr)
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	if code != 0 {
		return &exitStatus{code: code} // it said why itself
	}
	return nil
}

// usernsMounts gives an eplink run again in its user namespace the
// private /run/netns and /etc/netns the processes it starts share.
func usernsMounts() error {
	if !netns.InUserns() {
		return nil
	}
	if err := netns.PrivateMounts(); err != nil {
		return fmt.Errorf("netns: user namespace: %w", err)
	}
	return nil
}

// usernsPID is, in a user namespace of eplink's own, this process's id:
// `eplink exec` enters the instances through it.
func usernsPID() int {
	if netns.InUserns() {
		return os.Getpid()
	}
	return 0
}

// enterCommand runs cmdline in instance namespace name of the eplink pid,
// which runs in a user namespace of its own.
func enterCommand(ctx context.Context, pid int, name string, cmdline []string) (*exec.Cmd, error) {
	return netns.EnterCommand(ctx, pid, name, cmdline), nil
}
