//go:build linux

package dataplane

import (
	"errors"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"eplink/dataplane/impair"
	"eplink/metrics"
)

// Both sockets of a flow are watched edge-triggered for everything at once,
// so a flow never changes its epoll registration: an edge sets half.ready
// (or, for EPOLLOUT, resumes the direction writing there) and the loop then
// reads until a read comes back short.
const flowEvents = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// open runs the accept path for one connection: limit → SG → connection and
// zone gate → the CLB listener → a healthy backend → dial.
func (lp *loop) open(l *listener, fd int, src netip.Addr) {
	p := lp.p
	t := p.routes.Load()
	r := t.routes[l.addr]
	if !l.eni.reserve(p.opts.maxFlowsPerENI()) {
		lp.load.Add(-1)
		p.refuse(fd, r, metrics.ReasonLimit)
		return
	}
	if reason := admit(r, src, l.addr.Port()); reason != "" {
		lp.load.Add(-1)
		p.refuse(fd, r, reason)
		l.eni.release()
		return
	}
	if p.impairs.Load() != nil { // one atomic load while nothing is impaired
		if im := p.impairment(r); im != nil {
			lp.load.Add(-1)
			lp.handOver(l, fd, r, t, src, im)
			return
		}
	}
	f := &Flow{route: r, src: src, lp: lp, l: l, table: t, fds: [2]int{fd, -1}, last: lp.now, dslot: -1}
	if err := lp.register(fd, flowEvents, fdEntry{f: f, side: up}); err != nil {
		p.log.Error("cannot watch accepted connection", "addr", l.addr, "err", err)
		lp.load.Add(-1)
		p.refuse(fd, r, metrics.ReasonLimit)
		l.eni.release()
		return
	}
	// The request usually arrived with the handshake: read it as soon as
	// the backend is connected, without waiting for an edge.
	f.half[up].ready = true
	f.slot = len(lp.flows)
	lp.flows = append(lp.flows, f)
	lp.armSweep()
	lp.dial(f)
}

// handOver gives an accepted connection on an impaired route to the conn
// carrier (impair.go), before the loop watches it: the flow is impaired by
// Go copies, the loop's splice path stays free of the impairment's checks.
func (lp *loop) handOver(l *listener, fd int, r *route, t *routeTable, src netip.Addr, im impair.Source) {
	file := os.NewFile(uintptr(fd), "")
	c, err := net.FileConn(file) // a duplicate descriptor, in Go's poller
	if err != nil {
		resetOnClose(fd)
		file.Close()
		lp.p.count(r, metrics.ReasonNoDescriptors)
		l.eni.release()
		return
	}
	file.Close()
	a := &Admission{p: lp.p, r: r, t: t, src: src, eni: l.eni, impair: im}
	go a.carryImpaired(c)
}

// admit is the accept path's decision for a connection from src to port on
// route r: "" to carry it, else the refusal reason.
func admit(r *route, src netip.Addr, port uint16) string {
	switch {
	case r == nil:
		return metrics.ReasonNoResource // the listener is being removed
	case !r.ep.sg.allows(src, port):
		return metrics.ReasonSGDenied
	case !r.connected:
		return metrics.ReasonNotConnected
	case r.pool == nil:
		return metrics.ReasonNoResource
	}
	return ""
}

// redecide decides again, against the newest route table, for a flow that
// has not forwarded a byte yet. A flow keeps its assignment once it
// carries bytes; until then nothing binds it to the CLB it was accepted
// for, and after a Force migration a client expects the new CLB, not a
// connect to the old one that is then reset. It reports whether the route
// changed (the flow must dial the new pool) and false in ok if the flow
// was refused (and finished).
func (lp *loop) redecide(f *Flow) (changed, ok bool) {
	t := lp.p.routes.Load()
	if t == f.table {
		return false, true
	}
	f.table = t
	if t.valid(f.route, f.src) {
		return false, true
	}
	r := t.routes[f.l.addr]
	if reason := admit(r, f.src, f.l.addr.Port()); reason != "" {
		lp.p.count(r, reason)
		lp.finish(f, true)
		return false, false
	}
	f.route, f.tried, f.attempts = r, 0, 0
	return true, true
}

// recheckDialing re-decides the loop's flows that are still connecting
// to a backend, after a new route table was stored: those whose zone
// moved to another CLB dial its backends now.
func (lp *loop) recheckDialing() {
	var ds []*Flow
	for _, f := range lp.flows {
		if f.state == flowDialing {
			ds = append(ds, f)
		}
	}
	for _, f := range ds {
		changed, ok := lp.redecide(f)
		if ok && changed {
			lp.dialing.remove(f)
			lp.closeSide(f, down, true)
			lp.dial(f)
		}
	}
}

// dial connects to the next healthy backend by weighted round robin,
// trying at most three (each failed dial costs up to DialTimeout), and
// refuses the client when none is left.
func (lp *loop) dial(f *Flow) {
	const attempts = 3
	if _, ok := lp.redecide(f); !ok {
		return
	}
	r := f.route
	for f.attempts < attempts {
		idx, pe := r.pool.pick(f.tried)
		if idx < 0 {
			break
		}
		addr := pe.ap
		f.attempts++
		if idx < maxTried {
			f.tried |= 1 << idx
		}
		fd, err := connectTCP(addr)
		if outOfDescriptors(err) {
			// eplink's own shortage: every backend would fail the same
			// way, and none of them is to blame.
			lp.p.log.Warn("no descriptor for a backend socket", "resource_id", r.resourceID, "err", err)
			lp.p.count(r, metrics.ReasonNoDescriptors)
			lp.finish(f, true)
			return
		}
		if err != nil {
			lp.p.log.Debug("dial backend failed", "resource_id", r.resourceID, "backend", addr, "err", err)
			continue
		}
		f.fds[down], f.backend = fd, addr
		if err := lp.register(fd, flowEvents, fdEntry{f: f, side: down}); err != nil {
			closeFD(fd)
			f.fds[down] = -1
			continue
		}
		if d := lp.p.opts.dialTimeout(); d > 0 {
			lp.dialing.add(f, lp.now+int64(d), lp)
		}
		return // EPOLLOUT says when the connect is done
	}
	reason := metrics.ReasonDialFailed
	if f.attempts == 0 {
		reason = metrics.ReasonNoHealthyBackend
	}
	lp.p.count(r, reason)
	lp.finish(f, true)
}

// outOfDescriptors reports whether err says the process (EMFILE) or the
// system (ENFILE) has no file descriptor left.
func outOfDescriptors(err error) bool {
	return err == unix.EMFILE || err == unix.ENFILE
}

// connected handles the end of a connect: on failure the next backend is
// tried, on success the flow starts forwarding.
func (lp *loop) connected(f *Flow, events uint32) {
	if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		lp.p.log.Debug("dial backend failed", "resource_id", f.route.resourceID, "backend", f.backend,
			"err", socketError(f.fds[down]))
		lp.closeSide(f, down, true)
		lp.dial(f)
		return
	}
	f.half[down].note(events) // the server may speak first, in the same event
	lp.established(f)
}

// dialTimeouts gives up the connects that passed their deadline (each
// flow then tries its next backend) and schedules the next check.
func (lp *loop) dialTimeouts() {
	ds := &lp.dialing
	ds.timer = true // the retries below must not push timers of their own
	next := int64(-1)
	for i := 0; i < len(ds.flows); {
		f := ds.flows[i]
		if f.dialAt > lp.now {
			if next < 0 || f.dialAt < next {
				next = f.dialAt
			}
			i++
			continue
		}
		ds.remove(f) // slot i now holds another flow
		lp.p.log.Debug("dial backend timed out", "resource_id", f.route.resourceID, "backend", f.backend)
		lp.closeSide(f, down, true)
		lp.dial(f) // may add f again, at the end, with a later deadline
	}
	if len(ds.flows) > 0 {
		lp.addTimer(timer{at: next, kind: timerDial})
	} else {
		ds.timer = false
	}
}

// dialSet is a loop's flows whose backend connect is in progress, with
// one timer for the earliest deadline. Dials on loopback finish within
// microseconds, so the set is nearly always tiny, and a connection costs
// no timer of its own that would linger for DialTimeout after the connect.
type dialSet struct {
	flows []*Flow
	timer bool // a timerDial is pending, at or before every deadline here
}

func (ds *dialSet) add(f *Flow, deadline int64, lp *loop) {
	f.dialAt = deadline
	if f.dslot < 0 {
		f.dslot = len(ds.flows)
		ds.flows = append(ds.flows, f)
	}
	if !ds.timer {
		// Every deadline is now + DialTimeout, so one already pending is
		// earlier than this one.
		ds.timer = true
		lp.addTimer(timer{at: deadline, kind: timerDial})
	}
}

func (ds *dialSet) remove(f *Flow) {
	if f.dslot < 0 {
		return
	}
	last := ds.flows[len(ds.flows)-1]
	ds.flows[f.dslot] = last
	last.dslot = f.dslot
	ds.flows[len(ds.flows)-1] = nil
	ds.flows = ds.flows[:len(ds.flows)-1]
	f.dslot = -1
}

// established joins the flow to its ENI's flow table and starts both
// directions.
func (lp *loop) established(f *Flow) {
	lp.dialing.remove(f)
	if changed, ok := lp.redecide(f); !ok {
		return
	} else if changed {
		// Connected to the CLB the zone left: not a byte went, so
		// the client loses nothing by a connect to the new one.
		lp.closeSide(f, down, true)
		lp.dial(f)
		return
	}
	r := f.route
	if !f.l.eni.add(f) {
		lp.finish(f, true) // the ENI is being removed
		return
	}
	f.state = flowOpen
	// apply stores a new table before it scans the flow tables; a flow that
	// joined after the scan must check the new table itself.
	if nt := lp.p.routes.Load(); nt != f.table && !nt.valid(r, f.src) {
		lp.finish(f, true)
		return
	}
	f.table = nil
	if r.c.flows != nil {
		r.c.flows.Inc()
	}
	for dir := range f.half {
		f.half[dir].counted = true
		r.ep.buckets.flows[dir].Add(1)
	}
	f.last = lp.now
	lp.pump(f, up)
	if f.state == flowOpen {
		lp.pump(f, down)
	}
}

// event handles an epoll event on one side of a flow.
func (lp *loop) event(f *Flow, side int, events uint32) {
	switch f.state {
	case flowClosed:
		return
	case flowDialing:
		if side == down {
			if events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
				lp.connected(f, events)
			}
			return
		}
		if events&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			// The client reset before its backend answered: abandon the
			// connect rather than finish it for nobody.
			lp.fail(f, up, errOrReset(f.fds[up]))
			return
		}
		f.half[up].note(events) // the client spoke first: read once connected
		return
	}
	if broken(f, side, events) {
		// The peer reset (or the socket failed): both directions are
		// over, whatever the other one is doing. pump would not notice
		// while the direction from this socket waits for room on the
		// other (it reads again only then) or has passed its EOF on.
		lp.fail(f, side, errOrReset(f.fds[side]))
		return
	}
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		f.half[side].note(events)
		lp.pumpSoon(f, side)
	}
	if events&unix.EPOLLOUT != 0 && f.state == flowOpen {
		lp.pumpSoon(f, 1-side)
	}
}

// pumpSoon pumps direction dir now if it carries messages, or, if it is a
// bulk transfer, queues it for the end of the turn (runLater): whatever
// order epoll reports the sockets in, the turn passes its messages on
// first, and a ping arriving with a stream's next 256 KiB waits for none
// of it.
func (lp *loop) pumpSoon(f *Flow, dir int) {
	if h := &f.half[dir]; h.bulk || h.inPipe > 0 {
		lp.later(f, dir)
		return
	}
	lp.pump(f, dir)
}

// broken reports whether events say socket side of an open flow is dead:
// an error (an RST, a keepalive timeout), or a hang-up both ways that we did
// not ask for. A hang-up after we passed the other direction's EOF on
// (shutdown SHUT_WR) is the peer's FIN after ours, a clean close: its
// bytes are still read to EOF.
func broken(f *Flow, side int, events uint32) bool {
	return events&unix.EPOLLERR != 0 || events&unix.EPOLLHUP != 0 && !f.half[1-side].done
}

// errOrReset is the socket's pending error, or ECONNRESET if it has none.
func errOrReset(fd int) error {
	if e := socketError(fd); e != 0 {
		return e
	}
	return unix.ECONNRESET
}

// note records a readable edge (or a hang-up) on the direction's source.
func (h *half) note(events uint32) {
	if events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		h.ready = true
	}
	if events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		h.hup = true
	}
}

// pump moves direction dir as far as it can go now: it first writes what
// is left from before, then reads and writes until the source has nothing
// more (a short read), the destination is full (its EPOLLOUT resumes), or
// the shaper says wait (a timer resumes).
//
// Small messages go through the loop's buffer: one read, one write. A read
// that fills the buffer marks a bulk transfer, which then moves with
// splice(2) through a pipe held only while bytes are in it, so bytes skip
// user space; a short splice goes back to reads. When the flow is shaped,
// a read takes at most its share of the bucket's burst (buckets.chunk) and
// the bucket is charged after the bytes moved, so splice stays in use.
//
// Any error resets the whole flow. At the source's EOF the half-close is
// passed on (shutdown SHUT_WR); the second direction to end closes both
// sockets, which sends the last FIN.
func (lp *loop) pump(f *Flow, dir int) {
	h := &f.half[dir]
	src, dst := f.fds[dir], f.fds[1-dir]
	b := f.route.ep.buckets
	spent := 0
	for f.state == flowOpen && !h.done {
		if h.inPipe > 0 {
			k, err := splice(h.pipe.r, dst, h.inPipe)
			n, ok := lp.took(f, dir, k, err)
			if !ok {
				return
			}
			if h.inPipe -= n; h.inPipe > 0 {
				continue
			}
			lp.putPipe(h)
		}
		if len(h.pend) > 0 {
			k, err := write(dst, h.pend)
			n, ok := lp.took(f, dir, k, err)
			if !ok {
				return
			}
			if h.pend = h.pend[n:]; len(h.pend) > 0 {
				continue
			}
			h.pend = nil
		}
		if h.eof {
			lp.halfClose(f, dir)
			return
		}
		if h.paused || !h.ready {
			return
		}
		var n int
		var err error
		if h.bulk && !h.held {
			if h.pipe, err = lp.getPipe(); err != nil {
				lp.noPipe(f, dir, err)
			} else {
				h.held = true
			}
		}
		viaPipe := h.bulk
		limit := readSize
		if viaPipe {
			limit = min(pipeSize, pumpBudget)
		}
		burst := int(b.burst.Load())
		shaped := burst > 0
		if shaped {
			limit = min(limit, b.chunk(dir, burst))
		}
		if viaPipe {
			n, err = splice(src, h.pipe.w, limit)
			if err == nil && n < readSize {
				h.bulk = false // short: back to reads (the pipe goes once empty)
			}
		} else {
			n, err = read(src, lp.buf[:limit])
		}
		switch {
		case err == unix.EAGAIN:
			h.ready = false
			if h.held && h.inPipe == 0 {
				lp.putPipe(h)
			}
			return
		case err == unix.EINTR:
			continue
		case err != nil:
			lp.fail(f, dir, err)
			return
		case n == 0:
			h.eof = true
			if h.held && h.inPipe == 0 {
				lp.putPipe(h)
			}
			continue
		}
		if !viaPipe && n < limit && !h.hup {
			// A read that came back short emptied the socket; new bytes
			// bring a new edge.
			h.ready = false
		}
		if viaPipe {
			h.inPipe = n
		} else {
			if n < readSize {
				lp.passed = true // a message: the read emptied the socket
			} else if !h.copying {
				h.bulk = true
			}
			// Whatever dst does not take now waits in pend, which the
			// next turn writes (took) before reading again.
			w, err := write(dst, lp.buf[:n])
			switch err {
			case nil, unix.EAGAIN, unix.EINTR:
			default:
				lp.fail(f, dir, err)
				return
			}
			if w < n {
				h.pend = append([]byte(nil), lp.buf[w:n]...)
			}
		}
		lp.moved(f, dir, n, shaped)
		if spent += n; spent >= pumpBudget && !h.paused {
			// Enough for one turn: the loop's other flows, accepts and
			// timers go first, then this direction carries on (later).
			lp.later(f, dir)
			return
		}
	}
}

// pumpBudget bounds the bytes one pump call reads. Without it a direction
// whose source never runs dry and whose destination always has room (a
// bulk stream on loopback) kept its loop for tens of milliseconds at a
// time, and every other flow on it waited as long: a 1-byte ping behind
// one iperf3 stream went from 0.19 ms to 17.6 ms p99. 256 KiB is about
// 0.1 ms of copying at loopback speed; it costs a bulk stream one pass
// through epoll_wait (with no wait) per 256 KiB, which is lost in the noise
// (BenchmarkPingUnderBulk, BenchmarkBulk).
const pumpBudget = 256 << 10

// later queues direction dir for another share at the end of a turn
// (runLater): a bulk direction an event woke (pumpSoon), to go after the
// turn's messages, or one that used up its share, to go on after the loop
// has looked at its other sockets again.
func (lp *loop) later(f *Flow, dir int) {
	if h := &f.half[dir]; !h.queued {
		h.queued = true
		lp.more = append(lp.more, pumpTurn{f, int8(dir)})
	}
}

// pumpTurn is a direction queued by later.
type pumpTurn struct {
	f   *Flow
	dir int8
}

// runLater gives every direction queued by later its next turn, in the
// order they were queued; those that use it up again queue for the next.
func (lp *loop) runLater() {
	q := lp.more
	lp.more = lp.moreNext[:0]
	for i, t := range q {
		q[i] = pumpTurn{}
		t.f.half[t.dir].queued = false
		if t.f.state == flowOpen {
			lp.pump(t.f, int(t.dir))
		}
	}
	lp.moreNext = q[:0]
}

// noPipe turns direction dir to read and write for the rest of the flow:
// no splice pipe could be made (out of descriptors), and a flow that works
// must not be reset for that. The loop's buffer carries bulk bytes as well,
// with one copy more.
func (lp *loop) noPipe(f *Flow, dir int, err error) {
	h := &f.half[dir]
	h.bulk, h.copying = false, true
	r := f.route
	lp.p.log.Warn("no splice pipe; the flow copies through user space", "endpoint_id", r.ep.id,
		"client", f.src, "dir", dirNames[dir], "err", err)
	if m := lp.p.opts.Metrics; m != nil {
		m.SpliceFallbacks.WithLabelValues(r.ep.id, r.ep.serviceID, dirLabels[dir]).Inc()
	}
}

// dirLabels are the metrics' names of the directions.
var dirLabels = [2]string{metrics.ClientToBackend, metrics.BackendToClient}

// took returns what pump needs from a write or splice of held bytes into
// dst: how many went, and whether to go on. Only EAGAIN means dst is full
// and its EPOLLOUT will come; a call that comes back short may have stopped
// for another reason with room left (a signal: the loop's calls are raw
// syscalls, where the runtime's preemption signal can land), and then no
// edge ever comes, so pump writes again until EAGAIN. Any other error, or
// no progress without one (writing again would spin), fails the flow.
func (lp *loop) took(f *Flow, dir, n int, err error) (int, bool) {
	switch {
	case err == unix.EAGAIN:
		return 0, false // EPOLLOUT resumes
	case err == unix.EINTR:
		return 0, true
	case err != nil:
		lp.fail(f, dir, err)
		return 0, false
	case n == 0:
		lp.fail(f, dir, errNoProgress)
		return 0, false
	}
	return n, true
}

// errNoProgress ends a flow whose socket took none of the bytes it was
// offered without saying why.
var errNoProgress = errors.New("socket accepted no bytes")

// moved accounts for n bytes read in direction dir and charges the shaper.
func (lp *loop) moved(f *Flow, dir, n int, shaped bool) {
	f.bytes[dir].Add(int64(n))
	f.last = lp.now
	r := f.route
	if c := r.c.bytes[dir]; c != nil {
		c.Add(float64(n))
	}
	if !shaped {
		return
	}
	d := r.ep.buckets.charge(dir, n, lp.clock())
	if d <= 0 {
		return
	}
	f.half[dir].paused = true
	lp.addTimer(timer{at: lp.now + int64(d), kind: timerResumeUp + timerKind(dir), f: f})
	if c := r.ep.shapeWait[dir]; c != nil {
		c.Add(d.Seconds())
	}
}

// resume restarts a direction the shaper paused.
func (lp *loop) resume(f *Flow, dir int) {
	if f.state != flowOpen {
		return
	}
	f.half[dir].paused = false
	lp.pump(f, dir)
}

// halfClose passes direction dir's EOF on, or closes the flow if the other
// direction has ended too.
func (lp *loop) halfClose(f *Flow, dir int) {
	h := &f.half[dir]
	h.done = true
	lp.uncount(f, dir)
	if f.half[1-dir].done {
		lp.finish(f, false)
		return
	}
	shutdownWrite(f.fds[1-dir])
}

func (lp *loop) uncount(f *Flow, dir int) {
	if h := &f.half[dir]; h.counted {
		h.counted = false
		f.route.ep.buckets.flows[dir].Add(-1)
	}
}

func (lp *loop) fail(f *Flow, dir int, err error) {
	lp.p.log.Debug("flow ended", "endpoint_id", f.route.ep.id, "client", f.src, "dir", dirNames[dir], "err", err)
	lp.finish(f, true)
}

// finish ends a flow: both sockets are closed (reset first if reset) and
// the flow leaves its loop and its ENI's table.
func (lp *loop) finish(f *Flow, reset bool) {
	if f.state == flowClosed {
		return
	}
	open := f.state == flowOpen
	f.state = flowClosed
	lp.load.Add(-1)
	lp.dialing.remove(f)
	for side := range f.fds {
		lp.closeSide(f, side, reset)
		if h := &f.half[side]; h.held {
			lp.putPipe(h) // bytes still in it were never delivered: the pool drops such a pipe
		}
		lp.uncount(f, side)
		f.half[side].done = true
	}
	last := lp.flows[len(lp.flows)-1]
	lp.flows[f.slot] = last
	last.slot = f.slot
	lp.flows[len(lp.flows)-1] = nil
	lp.flows = lp.flows[:len(lp.flows)-1]
	if open {
		f.l.eni.remove(f)
	} else {
		f.l.eni.release()
	}
}

// closeSide closes one socket of the flow, with an RST if reset.
func (lp *loop) closeSide(f *Flow, side int, reset bool) {
	fd := f.fds[side]
	if fd < 0 {
		return
	}
	lp.forget(fd)
	if reset {
		resetOnClose(fd)
	}
	closeFD(fd)
	f.fds[side] = -1
}

// getPipe takes an empty pipe from the loop's pool, or makes one.
func (lp *loop) getPipe() (pipe, error) {
	if n := len(lp.pipes); n > 0 {
		p := lp.pipes[n-1]
		lp.pipes = lp.pipes[:n-1]
		return p, nil
	}
	return newPipe()
}

// putPipe takes h's pipe back: into the pool if empty, else it is closed
// (its bytes can never be delivered).
func (lp *loop) putPipe(h *half) {
	if !h.held {
		return
	}
	if h.inPipe == 0 && len(lp.pipes) < maxFreePipes {
		lp.pipes = append(lp.pipes, h.pipe)
	} else {
		h.pipe.close()
	}
	h.held, h.inPipe = false, 0
}

// maxFreePipes bounds the empty pipes a loop keeps for the next bulk
// transfer; busy flows hold one per direction, idle flows none.
const maxFreePipes = 256
