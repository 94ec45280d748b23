package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// runScale holds 1,000 and 10,000 idle flows open through each proxy and
// reads its memory and idle CPU from /proc; opening them gives the flow
// setup rate (connect + one request, 64 at a time).
func runScale(ctx context.Context, h *harness, r *ScenarioResult) error {
	ts, err := h.targets(ctx, r)
	if err != nil {
		return err
	}
	defer r.finish(targetHAProxy)
	counts, idle := []int{1000, 10000}, 3*time.Second
	if h.opts.Quick {
		counts, idle = []int{200}, 300*time.Millisecond
	}
	// Each proxied flow is a socket here and two in the proxy.
	limit := int(fileLimit())
	reps := h.opts.repeats()
	for _, n := range counts {
		if fit := (limit - 500) / 2; n > fit {
			r.note("%d flows need %d sockets in the proxy, more than the open-file limit (%d) allows here; measured %d flows instead", n, 2*n, limit, fit)
			n = fit
		}
		mRate := metric{name: fmt.Sprintf("setup rate, %d flows", n), unit: "flows/s", better: "higher", chart: n >= counts[len(counts)-1]/2}
		mRSS := metric{name: fmt.Sprintf("memory per idle flow, %d flows", n), unit: "KiB", better: "lower", chart: n >= counts[len(counts)-1]/2}
		mTotal := metric{name: fmt.Sprintf("RSS with %d idle flows", n), unit: "MiB", better: "lower"}
		mCPU := metric{name: fmt.Sprintf("idle CPU, %d flows", n), unit: "% of a core", better: "lower"}
		for rep := 0; rep < reps; rep++ {
			for _, t := range rotate(ts, rep) {
				if err := ctx.Err(); err != nil {
					return err
				}
				h.progress("%d idle flows via %s, repeat %d/%d", n, t.Name, rep+1, reps)
				var before ProcStat
				if t.proc != nil {
					// A fresh process: memory a previous run left in its heap
					// or pools would hide this run's growth.
					if t, err = h.freshTarget(ctx, t); err != nil {
						return fmt.Errorf("restarting %s: %w", t.Name, err)
					}
					sleepCtx(ctx, 300*time.Millisecond)
					before, _ = readProc(t.proc.pid())
				}
				start := time.Now()
				conns, failed := openFlows(ctx, hostPort(t.Host, t.HTTPPort), dialHost, n, 64)
				elapsed := time.Since(start)
				if failed > 0 {
					r.note("%s: %d of %d flows failed to open (repeat %d)", t.Name, failed, n, rep+1)
				}
				r.add(t.Name, mRate, float64(len(conns))/elapsed.Seconds())
				if t.proc != nil && len(conns) > 0 {
					sleepCtx(ctx, 300*time.Millisecond)
					mid, err1 := readProc(t.proc.pid())
					sleepCtx(ctx, idle)
					after, err2 := readProc(t.proc.pid())
					if err1 == nil && err2 == nil {
						r.add(t.Name, mRSS, float64(after.RSSBytes-before.RSSBytes)/1024/float64(len(conns)))
						r.add(t.Name, mTotal, float64(after.RSSBytes)/(1<<20))
						r.add(t.Name, mCPU, 100*(after.CPUSec()-mid.CPUSec())/idle.Seconds())
					}
				}
				for _, c := range conns {
					c.Close()
				}
				sleepCtx(ctx, 500*time.Millisecond) // let the proxies tear down before the next target
			}
		}
	}
	r.note("Each measurement starts a fresh proxy process. Memory per flow is its RSS growth from just before the flows open to after %v of idle, over the flow count; CPU is its user+system time over that idle time, from /proc/PID/stat (10 ms ticks).", idle)
	r.note("Ratios are to HAProxy; direct has no proxy process, only a setup rate.")
	return nil
}

// openFlows opens n connections to addr with dial, each carrying one
// request and response so the flow is set up end to end, with conc
// dialers at a time.
func openFlows(ctx context.Context, addr string, dial dialFunc, n, conc int) ([]net.Conn, int) {
	var (
		mu     sync.Mutex
		conns  = make([]net.Conn, 0, n)
		failed atomic.Int64
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				c, err := openFlow(ctx, addr, dial)
				if err != nil {
					failed.Add(1)
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return conns, int(failed.Load())
}

// dialFunc connects to addr: from this host (dialHost), or from inside a
// namespace.
type dialFunc func(ctx context.Context, addr string) (net.Conn, error)

func dialHost(ctx context.Context, addr string) (net.Conn, error) {
	return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
}

func openFlow(ctx context.Context, addr string, dial dialFunc) (net.Conn, error) {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	c, err := dial(dctx, addr)
	cancel()
	if err != nil {
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
		c.Close()
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_ = c.SetDeadline(time.Time{})
	return c, nil
}
