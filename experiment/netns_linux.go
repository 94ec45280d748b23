//go:build linux

package experiment

import (
	"context"
	"net"

	"eplink/dataplane/netns"
)

// dialIn connects to addr from inside the network namespace ns, as a
// process of that instance would.
func dialIn(ctx context.Context, ns, addr string) (net.Conn, error) {
	return netns.Dial(ctx, ns, addr)
}

// doIn runs fn inside the network namespace ns; sockets it opens stay there.
func doIn(ns string, fn func() error) error { return netns.Do(ns, fn) }
