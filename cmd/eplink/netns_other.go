//go:build !linux

package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"

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

func startNetwork(context.Context, *lab.Lab, string, *dataplane.Proxy, *dns.Server, *slog.Logger) (*vpcNetwork, error) {
	return nil, errors.New("the netns front end needs Linux")
}

func netnsCheck() error { return errors.New("the netns front end needs Linux") }
