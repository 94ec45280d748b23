package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Directions of a flow.
const (
	up   = 0 // client → backend
	down = 1 // backend → client
)

var dirNames = [2]string{"client->backend", "backend->client"}

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

	// eofs counts the directions that ended at their source's EOF.
	eofs    atomic.Int32
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
// (CloseWrite on dst); the peer may still be talking the other way. The
// second direction to reach EOF leaves that to run's Close, which sends the
// same FIN (nothing is left unread by then) one shutdown(2) cheaper; nor is
// src shut for reading, which on TCP only costs a system call. Bytes move with splice(2) (mover), never through user space.
//
// Each round forwards what src has ready (at most one pipe, or one bucket
// bucket chunk when shaped, see buckets.chunk) and then counts the bytes, pays the bucket for what
// moved, and keeps src's read deadline about IdleTimeout ahead — refreshed
// only when a sixteenth of it is used up, so a chatty flow does not touch
// its deadline per message. When the deadline passes, the flow is idle only
// if neither direction moved for IdleTimeout.
//
// Any error (reset, idle timeout, abort) resets the whole flow.
func (f *Flow) pipe(dir int, dst, src *net.TCPConn) (err error) {
	defer func() {
		if err != nil {
			f.abort()
		}
	}()
	m, err := newMover(dst, src, &f.p.pipes)
	if err != nil {
		return err
	}
	defer m.release()
	f.buckets.flows[dir].Add(1)
	defer f.buckets.flows[dir].Add(-1)
	idle := f.p.opts.idleTimeout()
	lim := f.buckets.dir[dir]
	var timer *time.Timer
	var deadline time.Time
	if idle > 0 {
		deadline = time.Now().Add(idle)
		src.SetReadDeadline(deadline)
	}
	for {
		limit := pipeSize
		shaped := f.buckets.shaped.Load()
		if shaped {
			limit = min(limit, f.buckets.chunk(dir, lim.Burst()))
		}
		moved, rerr := m.move(limit)
		now := time.Now()
		if moved > 0 {
			f.bytes[dir].Add(moved)
			f.active[dir].Store(now.UnixNano())
			if c := f.route.c.bytes[dir]; c != nil {
				c.Add(float64(moved))
			}
			if idle > 0 && deadline.Sub(now) < idle-idle/16 {
				deadline = now.Add(idle)
				src.SetReadDeadline(deadline)
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
			if idle > 0 && errors.Is(rerr, os.ErrDeadlineExceeded) {
				last := time.Unix(0, max(f.active[up].Load(), f.active[down].Load()))
				if now.Sub(last) < idle {
					deadline = last.Add(idle)
					src.SetReadDeadline(deadline)
					continue
				}
				rerr = errIdle
			}
			return fmt.Errorf("%s: %w", dirNames[dir], rerr)
		}
		if moved == 0 { // src is at EOF
			if f.eofs.Add(1) == 1 {
				dst.CloseWrite()
			} // else both sides are done: run's Close sends the FIN.
			return nil
		}
	}
}

var errIdle = errors.New("idle timeout")
