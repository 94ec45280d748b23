package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// restartReq asks the Run goroutine to restart the data plane.
type restartReq struct {
	down time.Duration
	done chan error
}

// errNotRunning is Restart's error when Run is not running.
var errNotRunning = errors.New("the data plane is not running")

// Restart stops the data plane as a crashed or restarted process stops —
// every listener closed (connections are refused), every flow reset, the
// health checks' state and the shapers' buckets lost — keeps it down for
// down, then starts it again from the latest snapshot, as a new process
// would. It returns once the data plane serves again, or when ctx ends
// (the restart then still completes). The control plane, DNS and the lab's
// faults and impairments are not restarted.
func (p *Proxy) Restart(ctx context.Context, down time.Duration) error {
	req := restartReq{down: down, done: make(chan error, 1)}
	select {
	case p.restart <- req:
	case <-p.stopped:
		return errNotRunning
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// restartNow runs a Restart on the Run goroutine: shutdown, a fresh state,
// the pause, new loops. The caller then applies the latest snapshot. It
// returns false if ctx ended during the pause (Run then returns).
func (p *Proxy) restartNow(ctx context.Context, req restartReq) (bool, error) {
	p.log.Info("data plane restarting", "down", req.down)
	p.shutdown()
	p.last = nil
	p.eps = map[string]*epState{}
	p.pools = map[poolKey]*pool{}
	p.resolved = map[string]netip.AddrPort{}
	p.mu.Lock()
	p.enis = map[netip.Addr]*eniFlows{}
	p.errs = nil
	p.mu.Unlock()
	p.unserved.Store(nil)
	p.conns.reopen()
	if req.down > 0 {
		t := time.NewTimer(req.down)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			req.done <- errNotRunning
			return false, nil
		}
	}
	if err := p.startLoops(p.opts.Loops); err != nil {
		err = fmt.Errorf("data plane: %w", err)
		req.done <- err
		return false, err
	}
	return true, nil
}

// reopen lets the table take flows again after abortAll (a restart).
func (c *connFlows) reopen() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = false
	c.flows = map[*connFlow]struct{}{}
	c.enis = map[vpcAddr]*eniFlows{}
}
