//go:build !linux

package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os/exec"

	"eplink/controlplane/lab"
	"eplink/dataplane"
	"eplink/dns"
)

// vpcNetwork stands in for the netns front end, which needs Linux.
type vpcNetwork struct{}

func (*vpcNetwork) Dial(context.Context, string, netip.Addr, netip.AddrPort) (net.Conn, error) {
	return nil, errors.ErrUnsupported
}
func (*vpcNetwork) Run(context.Context, any) {}
func (*vpcNetwork) Close() error             { return nil }
func (*vpcNetwork) Version() uint64          { return 0 }

func startNetwork(context.Context, *lab.Lab, string, *dataplane.Proxy, *dns.Server, *slog.Logger) (*vpcNetwork, error) {
	return nil, errors.New("the netns front end needs Linux")
}

func netnsReady() error { return errors.New("the netns front end needs Linux") }

func rootless(string, string) bool { return false }

func runRootless([]string, io.Writer, io.Writer) error {
	return errors.New("the netns front end needs Linux")
}

func usernsMounts() error { return nil }

func usernsPID() int { return 0 }

func enterCommand(context.Context, int, string, []string) (*exec.Cmd, error) {
	return nil, errors.New("the netns front end needs Linux")
}
