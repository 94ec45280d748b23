package bench

import (
	"context"
	"net"

	"eplink/dataplane/netns"
)

// dialIn connects to addr from inside the network namespace called name.
func dialIn(ctx context.Context, name, addr string) (net.Conn, error) {
	return netns.Dial(ctx, name, addr)
}
