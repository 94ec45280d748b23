package dataplane

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Directions of a flow.
const (
	up   = 0 // client → backend
	down = 1 // backend → client
)

var dirNames = [2]string{"client->backend", "backend->client"}

// chunk is the most one splice round moves before the pipe refreshes its
// idle deadline and counts bytes; 1 MiB is Go's own splice unit.
const chunk = 1 << 20

// Flow is one forwarded TCP connection. It owns both conns from the moment
// it is created: nothing else reads, writes or closes them, except abort.
// It keeps the assignment it started with (route: endpoint, zone, ENI, CLB)
// even when newer snapshots route the same address elsewhere; that is what
// makes a Graceful migration leave it alone and lets a Force migration find
// and close it.
type Flow struct {
	route   *route
	src     netip.Addr
	client  *net.TCPConn
	backend *net.TCPConn
	// buckets are the endpoint connection's two shared token buckets.
	buckets *buckets
	p       *Proxy

	bytes  [2]atomic.Int64
	active [2]atomic.Int64 // unix nanos of the last progress, per direction

	once    sync.Once
	aborted atomic.Bool
	done    chan struct{} // closed by abort
}

func newFlow(r *route, src netip.Addr, client, backend *net.TCPConn, p *Proxy) *Flow {
	f := &Flow{route: r, src: src, client: client, backend: backend, buckets: r.ep.buckets, p: p,
		done: make(chan struct{})}
	now := time.Now().UnixNano()
	f.active[up].Store(now)
	f.active[down].Store(now)
	return f
}

// Bytes returns the bytes forwarded so far client→backend and back.
func (f *Flow) Bytes() (toBackend, toClient int64) {
	return f.bytes[up].Load(), f.bytes[down].Load()
}

// abort cuts the flow: both conns are reset (SetLinger(0) then Close), so a
// client never mistakes a cut stream for a complete one. It is the flow's
// cancel func: Force migration, disconnection, SG change, idle timeout,
// shutdown and copy errors all end here.
func (f *Flow) abort() {
	f.once.Do(func() {
		f.aborted.Store(true)
		close(f.done)
		f.client.SetLinger(0)
		f.backend.SetLinger(0)
		f.client.Close()
		f.backend.Close()
	})
}

// run forwards both ways until both directions end, passing half-closes on.
func (f *Flow) run() {
	errc := make(chan error, 1)
	go f.pipeToBackend(errc)
	err := f.pipe(down, f.client, f.backend)
	err2 := <-errc
	if err != nil || err2 != nil {
		f.p.log.Debug("flow ended", "endpoint_id", f.route.ep.id, "client", f.src,
			"err", errors.Join(err, err2))
	}
	if !f.aborted.Load() {
		f.client.Close()
		f.backend.Close()
	}
}

// pipeToBackend is the client→backend copy on its own, named goroutine so
// stack dumps say what it is.
func (f *Flow) pipeToBackend(errc chan<- error) {
	errc <- f.pipe(up, f.backend, f.client)
}

// pipe copies src to dst until src's EOF, then passes the half-close on
// (CloseWrite on dst, CloseRead on src); the peer may still be talking the
// other way. Both ends are *net.TCPConn, and dst.ReadFrom of a LimitedReader
// over src is splice(2), so bytes never enter user space.
//
// Each round moves at most a chunk (or, when shaped, one bucket burst) and
// then: counts the bytes, pays the bucket for what moved, and refreshes
// src's read deadline — one deadline update per chunk instead of a timer
// per read. A round that times out while bytes are still moving, or while
// the other direction is active, is not idle and just goes on.
//
// Any error (reset, idle timeout, abort) resets the whole flow.
func (f *Flow) pipe(dir int, dst, src *net.TCPConn) (err error) {
	defer func() {
		if err != nil {
			f.abort()
		}
	}()
	idle := f.p.opts.idleTimeout()
	lim := f.buckets.dir[dir]
	lr := io.LimitedReader{R: src}
	var timer *time.Timer
	for {
		n := int64(chunk)
		shaped := lim.Limit() != rate.Inf
		if shaped {
			n = min(n, int64(lim.Burst()))
		}
		if idle > 0 {
			src.SetReadDeadline(time.Now().Add(idle))
		}
		lr.N = n
		moved, rerr := dst.ReadFrom(&lr)
		if moved > 0 {
			f.bytes[dir].Add(moved)
			f.active[dir].Store(time.Now().UnixNano())
			if c := f.route.c.bytes[dir]; c != nil {
				c.Add(float64(moved))
			}
			if shaped {
				w, werr := charge(lim, int(moved), f.p.now, &timer, f.done)
				if c := f.route.ep.shapeWait[dir]; c != nil && w > 0 {
					c.Add(w.Seconds())
				}
				if werr != nil {
					return werr
				}
			}
		}
		if rerr != nil {
			if f.aborted.Load() {
				return errAborted
			}
			if idle > 0 && errors.Is(rerr, os.ErrDeadlineExceeded) &&
				(moved > 0 || time.Since(time.Unix(0, f.active[1-dir].Load())) < idle) {
				continue
			}
			if errors.Is(rerr, os.ErrDeadlineExceeded) {
				rerr = errIdle
			}
			return fmt.Errorf("%s: %w", dirNames[dir], rerr)
		}
		if lr.N > 0 { // src is at EOF
			dst.CloseWrite()
			src.CloseRead()
			return nil
		}
	}
}

var errIdle = errors.New("idle timeout")
