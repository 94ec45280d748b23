//go:build linux

package dataplane

import (
	"container/heap"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// loop is one event loop of the data plane: a goroutine on its own OS
// thread that waits in epoll_wait on the sockets of the flows it owns and
// on every ENI listener, and moves bytes when the kernel says they are
// ready. A flow belongs to the loop that accepted it for its whole life:
// only that loop reads, writes or closes its sockets, so the data path has
// no locks and never waits on another goroutine.
//
// Why not a goroutine per direction: a parked goroutine costs a netpoll
// wake-up and two scheduler switches per message, which on small
// request/response traffic was most of the CPU and left eplink well behind
// HAProxy (0.73× its requests/s, 0.74× its new connections/s). A loop pays
// one epoll_wait per batch of ready sockets and then only the read and the
// write, as HAProxy does; an idle flow costs its Flow and nothing else.
//
// Other goroutines talk to a loop only through post, which queues a
// function for it and wakes it with its eventfd.
type loop struct {
	p    *Proxy
	ep   int // epoll instance
	wake int // eventfd: post writes here when the inbox was empty

	// peers are all the loops of the proxy, this one included; load is
	// the number of flows this loop owns or has been handed. Accept uses
	// both to keep the loops evenly loaded.
	peers []*loop
	load  atomic.Int32

	mu     sync.Mutex
	inbox  []func()
	woken  bool // an eventfd write is pending
	closed bool // the loop has exited: posts are refused
	done   chan struct{}

	// Owned by the loop goroutine.
	fds     []fdEntry // by descriptor
	flows   []*Flow   // every flow this loop owns, Flow.slot is the index
	dialing dialSet   // the flows whose backend connect is in progress
	timers  timerHeap
	buf     []byte // one read buffer for every flow (small messages)
	pipes   []pipe // empty splice pipes (bulk transfers)
	// more are the directions that used up their turn with bytes left
	// (loop.later); moreNext is the spare slice runLater swaps in.
	more, moreNext []pumpTurn
	now            int64 // monotonic nanoseconds, read once per wake-up
	yielded        int64 // lp.now at the last runtime.Gosched
	sweeping       bool  // a sweep timer is set (armSweep)
	exit           bool
	// passed says this turn passed a message on through the loop's
	// buffer (not a bulk splice); yield is sched_yield(2), a field so
	// that tests can count the calls.
	passed bool
	yield  func()
}

// fdEntry says what a descriptor registered with the loop's epoll is. gen
// is echoed in every event, so an event for a descriptor that was closed and
// reused within the same batch is recognised as stale and dropped.
type fdEntry struct {
	f    *Flow
	l    *listener
	side int8
	gen  uint32
}

// readSize is the loop's read buffer: a read that fills it switches the
// direction to splice (a bulk transfer), where bytes skip user space.
const readSize = 16 << 10

// acceptBatch bounds the connections one wake-up accepts from a listener,
// so a connection storm cannot starve the flows already open.
const acceptBatch = 16

var monoBase = time.Now()

// mono is a monotonic clock in nanoseconds.
func mono() int64 { return int64(time.Since(monoBase)) }

// clock is the shaper's time: the loop's clock of this wake-up (a batch
// of events takes microseconds; the buckets hold 20 ms), which saves a
// clock read per message, unless Options.Now replaces it.
func (lp *loop) clock() time.Time {
	if lp.p.opts.Now != nil {
		return lp.p.opts.Now()
	}
	return monoBase.Add(time.Duration(lp.now))
}

func newLoop(p *Proxy) (*loop, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(ep)
		return nil, err
	}
	lp := &loop{p: p, ep: ep, wake: wake, buf: make([]byte, readSize), done: make(chan struct{}), yield: schedYield}
	if err := lp.register(wake, unix.EPOLLIN, fdEntry{}); err != nil {
		unix.Close(ep)
		unix.Close(wake)
		return nil, err
	}
	return lp, nil
}

// close releases a loop that was never run.
func (lp *loop) close() {
	unix.Close(lp.ep)
	unix.Close(lp.wake)
}

// post runs fn on the loop. It reports false if the loop has exited.
func (lp *loop) post(fn func()) bool {
	lp.mu.Lock()
	if lp.closed {
		lp.mu.Unlock()
		return false
	}
	lp.inbox = append(lp.inbox, fn)
	if !lp.woken {
		// Under the lock: once run has marked the loop closed it may
		// close the eventfd, and its number may be reused.
		lp.woken = true
		var one = [8]byte{1}
		write(lp.wake, one[:])
	}
	lp.mu.Unlock()
	return true
}

// stop resets the loop's flows and ends it; it returns once the loop has
// exited. Listeners must have been removed first.
func (lp *loop) stop() {
	if lp.post(func() { lp.exit = true }) {
		<-lp.done
	}
}

func (lp *loop) run() {
	// Not locked to its thread: a locked goroutine that is preempted (a
	// busy loop is, every 10 ms) must be handed back to its own thread,
	// a futex wake and a sleep each time, for nothing it needs.
	events := make([]unix.EpollEvent, 256)
	for !lp.exit {
		timeout := lp.timeout()
		if len(lp.more) > 0 {
			timeout = 0 // directions wait for their next turn: only look
		}
		n, err := unix.EpollWait(lp.ep, events, timeout)
		lp.now = mono()
		if err != nil && err != unix.EINTR {
			lp.p.log.Error("epoll_wait failed; data plane loop stops", "err", err)
			break
		}
		lp.handle(events[:max(n, 0)])
		if lp.now-lp.yielded >= yieldEvery {
			// The scheduler's monitor treats a goroutine that has not been
			// through the scheduler for 10 ms as hogging its P: it
			// preempts it (a signal) or, caught in epoll_wait, takes the P
			// away (a handoff), and either keeps the monitor waking every
			// 20 µs for a while. Yielding now and then, when idle Ps make
			// it nearly free, keeps a busy loop from looking like a hog.
			lp.yielded = lp.now
			runtime.Gosched()
		}
	}
	lp.mu.Lock()
	lp.closed = true
	inbox := lp.inbox
	lp.inbox = nil
	lp.mu.Unlock()
	for _, fn := range inbox {
		fn()
	}
	for len(lp.flows) > 0 {
		lp.finish(lp.flows[len(lp.flows)-1], true)
	}
	for _, p := range lp.pipes {
		p.close()
	}
	unix.Close(lp.ep)
	unix.Close(lp.wake)
	close(lp.done)
}

// yieldEvery is how often a busy loop passes through the scheduler: well
// inside the monitor's 10 ms.
const yieldEvery = int64(8 * time.Millisecond)

// handle is one turn of the loop: the events of one epoll_wait, the
// timers that are due, then the bulk directions waiting for a share
// (runLater): those that used up the last one, and those an event of this
// turn woke (pumpSoon), so the turn's messages go first.
//
// When the turn passed messages on and bulk directions wait, the loop
// first gives up its CPU once (sched_yield), so that the readers it just
// woke run before it goes back to copying. The kernel wakes a reader on
// the CPU of the thread that wrote to its socket, expecting the writer to
// sleep next; a loop busy with a bulk stream does not, and the reader
// waited until the loop's time slice ran out, which the scheduler checks
// at its tick (4 ms at HZ=250). With one iperf3 stream on the loop and two
// cores, that wait was about half of a 1-byte ping's p99 of about 3 ms
// (BenchmarkPingUnderBulk; README's performance notes have the numbers
// with the yield). A loop with nothing else to do sleeps in epoll_wait
// anyway, and a turn of bulk copying alone has no reader waiting on it:
// neither yields.
func (lp *loop) handle(events []unix.EpollEvent) {
	for i := range events {
		lp.dispatch(&events[i])
	}
	lp.fireTimers()
	if lp.passed && len(lp.more) > 0 {
		lp.yield()
	}
	lp.passed = false
	lp.runLater()
}

// timeout is how long epoll_wait may sleep: until the next timer, in
// milliseconds rounded up, or forever.
func (lp *loop) timeout() int {
	if len(lp.timers) == 0 {
		return -1
	}
	d := lp.timers[0].at - mono()
	if d <= 0 {
		return 0
	}
	return int((d + int64(time.Millisecond) - 1) / int64(time.Millisecond))
}

func (lp *loop) dispatch(ev *unix.EpollEvent) {
	fd := int(ev.Fd)
	if fd == lp.wake {
		lp.drainInbox()
		return
	}
	if fd >= len(lp.fds) {
		return
	}
	e := &lp.fds[fd]
	if e.gen != uint32(ev.Pad) {
		return // the descriptor was closed (and maybe reused) since
	}
	switch {
	case e.l != nil:
		lp.accept(e.l)
	case e.f != nil:
		lp.event(e.f, int(e.side), ev.Events)
	}
}

func (lp *loop) drainInbox() {
	var b [8]byte
	read(lp.wake, b[:])
	lp.mu.Lock()
	inbox := lp.inbox
	lp.inbox, lp.woken = nil, false
	lp.mu.Unlock()
	for _, fn := range inbox {
		fn()
	}
}

// register adds fd to the loop's epoll with events, remembering e for it.
func (lp *loop) register(fd int, events uint32, e fdEntry) error {
	for fd >= len(lp.fds) {
		lp.fds = append(lp.fds, make([]fdEntry, max(64, len(lp.fds)))...)
	}
	e.gen = lp.fds[fd].gen + 1
	lp.fds[fd] = e
	ev := unix.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(e.gen)}
	if err := epollCtl(lp.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		lp.forget(fd)
		return err
	}
	return nil
}

// forget drops fd's entry; events still queued for it become stale. The
// caller closes fd (which also takes it out of the epoll) or deletes it.
func (lp *loop) forget(fd int) {
	if fd < len(lp.fds) {
		g := lp.fds[fd].gen + 1
		lp.fds[fd] = fdEntry{gen: g}
	}
}

// Timers: dial timeouts, shaper pauses and the idle sweep.
type timerKind int8

const (
	timerDial timerKind = iota
	timerResumeUp
	timerResumeDown
	timerSweep
	timerListen // re-arm a listener paused after an accept error
)

type timer struct {
	at   int64
	kind timerKind
	f    *Flow
	l    *listener
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return t
}

func (lp *loop) addTimer(t timer) { heap.Push(&lp.timers, t) }

func (lp *loop) fireTimers() {
	for len(lp.timers) > 0 && lp.timers[0].at <= lp.now {
		t := heap.Pop(&lp.timers).(timer)
		switch t.kind {
		case timerDial:
			lp.dialTimeouts()
		case timerResumeUp, timerResumeDown:
			lp.resume(t.f, int(t.kind-timerResumeUp))
		case timerSweep:
			lp.sweep()
		case timerListen:
			lp.rearm(t.l)
		}
	}
}

// sweep resets the flows that moved nothing either way for IdleTimeout,
// turns keepalive on for the backend legs that do not have it yet, and
// schedules the next sweep. It runs every eighth of the timeout (at most
// every second), so a flow is cut between 1 and 1⅛ timeouts after its last
// byte; no timer per flow, no deadline call per message. A backend leg
// gets its keepalive within a second of opening, long before the first
// probe (KeepAlive after the last byte) could be due; a flow that ends
// sooner never pays for it.
func (lp *loop) sweep() {
	idle := int64(lp.p.opts.idleTimeout())
	ka := lp.p.opts.keepAlive()
	for i := 0; i < len(lp.flows); {
		f := lp.flows[i]
		if f.state != flowOpen {
			i++
			continue
		}
		if idle > 0 && lp.now-f.last >= idle {
			lp.p.log.Debug("flow idle", "endpoint_id", f.route.ep.id, "client", f.src)
			lp.finish(f, true) // moves the last flow into slot i
			continue
		}
		if ka > 0 && !f.kaSet && f.fds[down] >= 0 {
			f.kaSet = true
			if err := setKeepAlive(f.fds[down], ka); err != nil {
				lp.p.log.Debug("backend keepalive", "backend", f.backend, "err", err)
			}
		}
		i++
	}
	lp.sweeping = false
	lp.armSweep()
}

// armSweep schedules the next sweep while the loop carries flows and there
// is something to sweep for. A loop without flows has no timer at all and
// sleeps in epoll_wait until an event: an idle wake-up would cost little
// on its own, but where the loops' Ps are few (the netns front end's one)
// a loop back in epoll_wait holds the P until the runtime's monitor takes
// it away, as late as 10 ms after.
func (lp *loop) armSweep() {
	if lp.sweeping || len(lp.flows) == 0 || (lp.p.opts.idleTimeout() <= 0 && lp.p.opts.keepAlive() <= 0) {
		return
	}
	lp.sweeping = true
	lp.addTimer(timer{at: lp.now + lp.sweepEvery(), kind: timerSweep})
}

// sweepEvery is an eighth of the idle timeout, between 5 ms and a second
// (a second when flows never time out).
func (lp *loop) sweepEvery() int64 {
	idle := int64(lp.p.opts.idleTimeout())
	if idle <= 0 {
		return int64(time.Second)
	}
	return min(max(idle/8, int64(5*time.Millisecond)), int64(time.Second))
}

// Listeners are registered with every loop (EPOLLEXCLUSIVE: a connection
// wakes one loop, not all) and accepted by whichever loop wakes.

func (lp *loop) addListener(l *listener) {
	if err := lp.register(l.fd, unix.EPOLLIN|unix.EPOLLEXCLUSIVE, fdEntry{l: l}); err != nil {
		lp.p.log.Error("cannot watch listener", "addr", l.addr, "err", err)
	}
}

func (lp *loop) removeListener(l *listener) {
	if l.fd < len(lp.fds) && lp.fds[l.fd].l == l {
		epollCtl(lp.ep, unix.EPOLL_CTL_DEL, l.fd, nil)
		lp.forget(l.fd)
	}
}

// rearm watches a listener again after an accept error paused it.
func (lp *loop) rearm(l *listener) {
	if !l.closed.Load() {
		lp.addListener(l)
	}
}

func (lp *loop) accept(l *listener) {
	for i := 0; i < acceptBatch; i++ {
		fd, src, err := accept4(l.fd)
		switch err {
		case nil:
		case unix.EAGAIN:
			// Accepting works again even if nothing was waiting: a
			// back-off set by a failure with no connection pending
			// (accept4 takes a descriptor number before it looks for
			// one) must not linger and double the next one.
			if l.backoff.Load() != 0 {
				l.backoff.Store(0)
			}
			return
		case unix.EINTR, unix.ECONNABORTED:
			continue
		default:
			// Out of descriptors or the like. The listener is level
			// triggered, so it would wake the loop at once again: stop
			// watching it for a while, as net/http backs off.
			b := min(max(2*time.Duration(l.backoff.Load()), 5*time.Millisecond), time.Second)
			l.backoff.Store(int64(b))
			lp.p.log.Warn("accept failed", "addr", l.addr, "err", err, "retry_in", b)
			lp.removeListener(l)
			lp.addTimer(timer{at: lp.now + int64(b), kind: timerListen, l: l})
			return
		}
		if l.backoff.Load() != 0 {
			l.backoff.Store(0)
		}
		lp.place(l, fd, src)
	}
}

// place gives an accepted connection to the least loaded loop: this one,
// unless another carries fewer flows by more than loadSlack. Which loop
// wakes for a listener is up to the kernel, and a burst of connections
// (wrk opening its 50) tends to land on one; a loop with most of the
// flows then becomes the bottleneck while the other idles. Handing over
// costs a post, once per connection, never per message.
func (lp *loop) place(l *listener, fd int, src netip.Addr) {
	to := lp
	for _, o := range lp.peers {
		if o.load.Load()+loadSlack < to.load.Load() {
			to = o
		}
	}
	to.load.Add(1)
	if to == lp {
		lp.open(l, fd, src)
		return
	}
	if !to.post(func() { to.open(l, fd, src) }) {
		to.load.Add(-1)
		closeFD(fd) // shutting down
	}
}

// loadSlack is how many more flows a loop may carry than another before
// it hands new ones over.
const loadSlack = 2

// errLoopGone is returned when no loop is left to run the data plane.
var errLoopGone = errors.New("data plane stopped")
