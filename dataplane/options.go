package dataplane

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"eplink/metrics"
)

// Options configures a Proxy. The zero value works.
type Options struct {
	// DialTimeout bounds each dial to a backend. If zero, 3s is used; if
	// negative, dials are bounded only by the proxy's lifetime.
	DialTimeout time.Duration
	// IdleTimeout closes a flow that moved no byte in either direction for
	// this long. If zero, 900s is used (the CLB's TCP idle timeout); if
	// negative, flows never time out (keepalive still finds dead peers).
	IdleTimeout time.Duration
	// KeepAlive is the TCP keepalive period on both legs of a flow (the
	// backend leg's is turned on within a second of the flow opening, so
	// short flows skip it). If zero, 15s is used; if negative, keepalive
	// is off.
	KeepAlive time.Duration
	// MaxFlowsPerENI bounds the flows (and connection attempts being
	// dialed) on one ENI address; more are reset and counted as "limit".
	// Each flow costs two sockets. If zero, 16384 is
	// used (room for 10,000 long-lived flows plus churn); if negative,
	// there is no bound.
	MaxFlowsPerENI int
	// Loops is the number of event loops that carry flows. If zero or
	// negative, GOMAXPROCS is used. A loop waits in epoll_wait holding a
	// P, so a GOMAXPROCS above Loops keeps the scheduler from taking it
	// (eplink serve runs one loop per core with one P more).
	Loops int
	// Metrics receives counters and scrape-time state. If nil, no metrics.
	Metrics *metrics.Metrics
	// Logger receives listener, health and flow events. If nil, nothing
	// is logged.
	Logger *slog.Logger
	// Netns says the ENI addresses live in the netns front end's VPC
	// stacks, which hand each connection to Admit: no kernel listener is
	// opened.
	Netns bool
	// DialVPC dials an instance backend inside VPC vpcID from src (the
	// CLB's address). If nil, such backends cannot be dialed.
	DialVPC func(ctx context.Context, vpcID string, src netip.Addr, dst netip.AddrPort) (net.Conn, error)
	// Now is the shaper's clock. If nil, the loops' own clock is used
	// (read once per wake-up, monotonic).
	Now func() time.Time
}

func (o *Options) dialTimeout() time.Duration {
	switch {
	case o.DialTimeout == 0:
		return 3 * time.Second
	case o.DialTimeout < 0:
		return 0
	}
	return o.DialTimeout
}

func (o *Options) idleTimeout() time.Duration {
	switch {
	case o.IdleTimeout == 0:
		return 900 * time.Second
	case o.IdleTimeout < 0:
		return 0
	}
	return o.IdleTimeout
}

func (o *Options) keepAlive() time.Duration {
	if o.KeepAlive == 0 {
		return 15 * time.Second
	}
	return o.KeepAlive // negative disables, as in net.Dialer
}

func (o *Options) maxFlowsPerENI() int64 {
	switch {
	case o.MaxFlowsPerENI == 0:
		return 16384
	case o.MaxFlowsPerENI < 0:
		return 1 << 62
	}
	return int64(o.MaxFlowsPerENI)
}
