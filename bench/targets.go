package bench

import (
	"context"
	"fmt"
)

// target is one way to reach the backends: directly, through HAProxy, or
// through eplink's ENI.
type target struct {
	Name      string
	Host      string
	HTTPPort  int
	IperfPort int
	proc      *proc // the proxy process, nil for direct
}

const (
	targetDirect  = "direct"
	targetHAProxy = "haproxy"
	targetEplink  = "eplink"
)

// targets returns direct, HAProxy and (when it runs) eplink. A target that
// cannot start is left out with a note, so one broken proxy does not hide
// the others' numbers.
func (h *harness) targets(ctx context.Context, r *ScenarioResult) ([]target, error) {
	b, err := h.backends(ctx)
	if err != nil {
		return nil, err
	}
	out := []target{{Name: targetDirect, Host: "127.0.0.1", HTTPPort: b.httpA, IperfPort: b.iperf}}
	if hp, err := h.haproxy(ctx); err != nil {
		r.note("haproxy left out: %v", err)
	} else {
		out = append(out, target{Name: targetHAProxy, Host: "127.0.0.1", HTTPPort: hp.http, IperfPort: hp.iperf, proc: h.haProc})
	}
	if e, err := h.eplink(ctx); err != nil {
		r.note("eplink left out: %v", err)
	} else {
		out = append(out, target{Name: targetEplink, Host: benchENI, HTTPPort: benchHTTPPort, IperfPort: benchIperfPort, proc: e.proc})
	}
	return out, nil
}

// eplink returns the shared eplink instance, starting it on first use. A
// start failure is remembered so that every scenario does not wait for it
// again.
func (h *harness) eplink(ctx context.Context) (*eplinkInst, error) {
	if h.ep != nil {
		return h.ep, nil
	}
	if h.epErr != nil {
		return nil, h.epErr
	}
	e, err := h.startEplink(ctx)
	if err != nil {
		if e != nil {
			e.stop()
		}
		h.epErr = err
		return nil, err
	}
	h.ep = e
	return e, nil
}

// dropEplink stops the shared instance (a scenario that needs a fresh one
// owns the ENI address meanwhile).
func (h *harness) dropEplink() {
	if h.ep != nil {
		h.ep.stop()
		h.ep = nil
	}
}

// rotate returns ts starting at offset i: repeats take turns going first so
// no target always runs right after the same neighbour.
func rotate(ts []target, i int) []target {
	n := len(ts)
	out := make([]target, 0, n)
	for j := 0; j < n; j++ {
		out = append(out, ts[(i+j)%n])
	}
	return out
}

func (t target) url(path string) string {
	return fmt.Sprintf("http://%s%s", hostPort(t.Host, t.HTTPPort), path)
}

// freshTarget restarts the proxy behind t, so that what its process holds
// afterwards is what the next measurement put there.
func (h *harness) freshTarget(ctx context.Context, t target) (target, error) {
	switch t.Name {
	case targetHAProxy:
		if h.haProc != nil {
			h.haProc.stop()
		}
		h.ha, h.haProc = nil, nil
		hp, err := h.haproxy(ctx)
		if err != nil {
			return t, err
		}
		t.HTTPPort, t.IperfPort, t.proc = hp.http, hp.iperf, h.haProc
	case targetEplink:
		h.dropEplink()
		e, err := h.eplink(ctx)
		if err != nil {
			return t, err
		}
		t.proc = e.proc
	}
	return t, nil
}
