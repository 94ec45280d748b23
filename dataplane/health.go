package dataplane

import (
	"context"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"eplink/controlplane/snapshot"
)

// Health-check defaults, those of a CLB's TCP check.
const (
	defaultHealthInterval = 2 * time.Second
	defaultHealthTimeout  = time.Second
	defaultHealthRise     = 2
	defaultHealthFall     = 3
)

// healthSettings fills a CLB's HealthCheck with the defaults.
func healthSettings(h snapshot.HealthCheck) snapshot.HealthCheck {
	if h.Interval <= 0 {
		h.Interval = defaultHealthInterval
	}
	if h.Timeout <= 0 {
		h.Timeout = min(defaultHealthTimeout, h.Interval)
	}
	if h.Rise <= 0 {
		h.Rise = defaultHealthRise
	}
	if h.Fall <= 0 {
		h.Fall = defaultHealthFall
	}
	return h
}

// Backend health states.
const (
	healthUnknown int32 = iota
	healthUp
	healthDown
)

// checker probes one backend of one CLB with TCP connects, one goroutine and
// one ticker per backend. A backend starts unknown and counts as up until
// `fall` checks have failed: a CLB that was just created (or an eplink that
// just restarted) would otherwise refuse every flow for rise×interval
// seconds, although its backends are almost always fine — and a backend that
// is really down fails the dial, which tries the next backend anyway.
type checker struct {
	resourceID string
	addr       string
	cfg        snapshot.HealthCheck
	state      atomic.Int32
	rise, fall int // consecutive successes and failures; run's goroutine only

	cancel context.CancelFunc
	done   chan struct{}
}

// up reports whether the backend may get new flows.
func (c *checker) up() bool {
	return c == nil || c.state.Load() != healthDown
}

func (c *checker) run(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error), log *slog.Logger) {
	defer close(c.done)
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		ok := c.probe(ctx, dial)
		if ctx.Err() != nil {
			return // a check cut by shutdown says nothing about the backend
		}
		switch c.observe(ok) {
		case healthUp:
			log.Info("backend up", "resource_id", c.resourceID, "backend", c.addr)
		case healthDown:
			log.Warn("backend down", "resource_id", c.resourceID, "backend", c.addr)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// observe counts one check result and returns the new state if it changed,
// else healthUnknown.
func (c *checker) observe(ok bool) int32 {
	if ok {
		c.fall = 0
		c.rise++
		if c.rise >= c.cfg.Rise && c.state.Swap(healthUp) != healthUp {
			return healthUp
		}
		return healthUnknown
	}
	c.rise = 0
	c.fall++
	if c.fall >= c.cfg.Fall && c.state.Swap(healthDown) != healthDown {
		return healthDown
	}
	return healthUnknown
}

func (c *checker) probe(ctx context.Context, dial func(context.Context, string, string) (net.Conn, error)) bool {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	conn, err := dial(ctx, "tcp", c.addr)
	if err != nil {
		return false
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a check leaves no TIME_WAIT behind
	}
	conn.Close()
	return true
}

func (c *checker) stop() {
	c.cancel()
	<-c.done
}
