//go:build linux

package dataplane

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// eniOf returns the flow table of w's ENI address (nil once it is gone).
func eniOf(l *lab, w *world) *eniFlows {
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	return l.p.enis[w.eni]
}

// expectCountsZero waits until e and b show no flow and no reservation:
// every reserve was released and every flow counted in a bucket uncounted.
func expectCountsZero(t *testing.T, e *eniFlows, b *buckets) {
	t.Helper()
	waitFor(t, 2*time.Second, "ENI and bucket counts back to 0", func() bool {
		e.mu.Lock()
		n := len(e.flows)
		e.mu.Unlock()
		return e.n.Load() == 0 && n == 0 && b.flows[up].Load() == 0 && b.flows[down].Load() == 0
	})
}

// TestShapingTurnedOffMidResize: a loop that sized its read by a burst of
// 0 would read 0 bytes and take that for the client's EOF: the backend
// would get a FIN the client never sent and the flow would be cut. The test
// holds the bucket half way through turning shaping off (as a preempted Run
// goroutine would) while the client talks.
func TestShapingTurnedOffMidResize(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	w.mbps = 1000
	l.publish(w.snap())
	c := dial(t, w.addr())
	if got, err := roundTrip(c, "before"); err != nil || got != "before" {
		t.Fatalf("before: %q, %v", got, err)
	}
	b := l.p.eps["ep-1"].buckets // published: Run does not touch it until the next snapshot
	// The limiters already unlimited, the data path's copy of the burst
	// not yet cleared: resize(0) seen out of order.
	for _, lim := range b.dir {
		lim.SetLimit(rate.Inf)
		lim.SetBurst(0)
	}
	got, err := roundTrip(c, "during")
	b.burst.Store(0)
	if err != nil || got != "during" {
		t.Fatalf("echo while shaping is being turned off: %q, %v (want %q)", got, err, "during")
	}
	if got, err := roundTrip(c, "after"); err != nil || got != "after" {
		t.Fatalf("after: %q, %v", got, err)
	}
}

// TestShapingToggledUnderLoad streams bytes both ways while the
// endpoint's cap is switched on and off as fast as apply could: every byte
// must come back and the stream must not end early.
func TestShapingToggledUnderLoad(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	w.mbps = 2000
	l.publish(w.snap())
	b := l.p.eps["ep-1"].buckets
	c := dial(t, w.addr())
	s := startStream(c, 8<<20)
	stop := make(chan struct{})
	toggled := make(chan struct{})
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); <-toggled }) }
	t.Cleanup(halt) // before the lab's cleanup: nothing resizes after the test
	go func() {
		defer close(toggled)
		for i := 0; ; i++ {
			select {
			case <-stop:
				b.resize(2000, time.Now())
				return
			default:
			}
			b.resize([]int{0, 2000}[i%2], time.Now())
		}
	}()
	// Unshaped, 4 MiB echo in well under a second; a flow cut by a
	// false EOF never gets there.
	waitFor(t, 3*time.Second, "4 MiB echoed", func() bool { return s.echoed.Load() >= 4<<20 })
	halt()
	s.finish(t)
}

// TestFINWithDataWhileDialing: the client sends its whole request and
// its FIN while the first backend's connect hangs; after the dial timeout
// the second backend must get every byte and the EOF, and its reply must
// reach the client. The flow then ends cleanly and releases its counts.
func TestFINWithDataWhileDialing(t *testing.T) {
	const timeout = 200 * time.Millisecond
	hole := blackHole(t)
	backend := serveTCP(t, func(c *net.TCPConn) {
		n, err := io.Copy(io.Discard, c)
		if err != nil {
			return
		}
		fmt.Fprintf(c, "got %d bytes", n)
		c.CloseWrite()
	})
	l := newLab(t, Options{DialTimeout: timeout})
	w := newWorld(hole, backend)
	l.publish(w.snap())
	c := dial(t, w.addr())
	const size = 300000 // more than fits in one read: part waits in the kernel
	if _, err := io.WriteString(c, strings.Repeat("q", size)); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	reply, err := io.ReadAll(c)
	if want := fmt.Sprintf("got %d bytes", size); err != nil || string(reply) != want {
		t.Fatalf("reply %q, %v; want %q", reply, err, want)
	}
	expectCountsZero(t, eniOf(l, w), l.p.eps["ep-1"].buckets)
}

// TestHalfCloseBothWaysUnderBackPressure: both peers send a bulk
// payload and FIN at once and read only afterwards, so both directions end
// with bytes left over (in the pipe or in pend) when their FIN arrives; both
// payloads must arrive whole, each followed by EOF, and the flow must close
// without a reset.
//
// Only a stall fails it, not a slow machine: every read and every 64 KiB
// written gets a fresh deadline (patient). With one deadline for the whole
// transfer (5 s, then 30 s) it failed now and then under -race on a loaded
// machine although nothing stalled: sampled every 250 ms, a waiting
// direction always had its destination's send queue full (SIOCOUTQ at
// SO_SNDBUF, no POLLOUT) and its peer's receive queue full, so the pace was
// the test's own readers'; 12 MiB took 2 to 16 s through the proxy, and
// 2.3 s between the same two peers directly, at a load average of 4 on 2
// cores. The payloads are built once, and the health check probes once:
// each probe is a connection to this backend, which used to build and write
// a payload of its own every 2 s.
func TestHalfCloseBothWaysUnderBackPressure(t *testing.T) {
	const size = 6 << 20
	fromClient, fromBackend := []byte(strings.Repeat("u", size)), []byte(strings.Repeat("d", size))
	got := make(chan error, 1)
	backend := serveTCP(t, func(c *net.TCPConn) {
		errc := make(chan error, 1)
		go func() {
			err := patient{c}.writeAll(fromBackend)
			if err == nil {
				err = c.CloseWrite()
			}
			errc <- err
		}()
		time.Sleep(100 * time.Millisecond) // let the proxy's buffers fill
		b, err := io.ReadAll(patient{c})
		if len(b) == 0 {
			return // a health check: it connects and goes
		}
		if err == nil && len(b) != size {
			err = fmt.Errorf("backend read %d bytes, want %d", len(b), size)
		}
		if werr := <-errc; err == nil {
			err = werr
		}
		select {
		case got <- err:
		default:
		}
	})
	l := newLab(t, Options{})
	w := newWorld(backend)
	w.health = snapshot.HealthCheck{Interval: time.Hour, Rise: 1}
	l.publish(w.snap())
	c := dial(t, w.addr())
	werr := make(chan error, 1)
	go func() {
		err := patient{c}.writeAll(fromClient)
		if err == nil {
			err = c.CloseWrite()
		}
		werr <- err
	}()
	time.Sleep(100 * time.Millisecond)
	b, err := io.ReadAll(patient{c})
	if err != nil || len(b) != size {
		t.Fatalf("client read %d bytes, %v; want %d", len(b), err, size)
	}
	if err := <-werr; err != nil {
		t.Fatalf("client write: %v", err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * stallTimeout): // its reads and writes have deadlines of their own
		t.Fatal("backend never finished")
	}
	expectCountsZero(t, eniOf(l, w), l.p.eps["ep-1"].buckets)
}

// stallTimeout is how long patient lets a connection go without a byte:
// far longer than any pause of a loaded machine, far shorter than go test's
// own time-out.
const stallTimeout = 20 * time.Second

// patient reads and writes c with a fresh deadline for every call, so a
// transfer may take as long as the machine needs but may not stall.
type patient struct{ c *net.TCPConn }

func (p patient) Read(b []byte) (int, error) {
	p.c.SetReadDeadline(time.Now().Add(stallTimeout))
	return p.c.Read(b)
}

// writeAll writes b in 64 KiB pieces, each with its own deadline.
func (p patient) writeAll(b []byte) error {
	for len(b) > 0 {
		p.c.SetWriteDeadline(time.Now().Add(stallTimeout))
		n, err := p.c.Write(b[:min(len(b), 64<<10)])
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// TestShapedBurstsAfterPause: a shaped flow talks in bursts separated
// by silences, so bytes and FINs arrive while a direction is paused by the
// shaper and after it resumed with nothing to read; nothing may stall.
func TestShapedBurstsAfterPause(t *testing.T) {
	l := newLab(t, Options{})
	w := newWorld(echoServer(t))
	w.mbps = 8 // 1 MB/s, burst 64 KiB: a 100 KiB message pauses the flow
	l.publish(w.snap())
	c := dial(t, w.addr())
	for i, n := range []int{100 << 10, 3, 70 << 10, 1, 20 << 10} {
		msg := strings.Repeat(string(rune('a'+i)), n)
		if got, err := roundTrip(c, msg); err != nil || got != msg {
			t.Fatalf("message %d (%d bytes): got %d bytes, %v", i, n, len(got), err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	// A FIN that lands while the direction is paused is still passed on.
	io.WriteString(c, strings.Repeat("z", 90<<10))
	c.CloseWrite()
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil || len(b) != 90<<10 {
		t.Fatalf("after FIN: read %d bytes, %v", len(b), err)
	}
	expectCountsZero(t, eniOf(l, w), l.p.eps["ep-1"].buckets)
}

// TestLimitDoesNotLeak: refusals of every kind the loop decides
// (dial_failed, no_healthy_backend via a dead pool, SG denied, limit) and
// flows cut while dialing must give their reservation back, or an ENI with
// MaxFlowsPerENI=2 would soon refuse everything.
func TestLimitDoesNotLeak(t *testing.T) {
	l := newLab(t, Options{MaxFlowsPerENI: 2, DialTimeout: 200 * time.Millisecond})
	w := newWorld(closedPort(t))
	l.publish(w.snap())
	for i := 0; i < 6; i++ {
		dialExpectReset(t, w.addr())
	}
	waitFor(t, 2*time.Second, "dial_failed counted", func() bool {
		return value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", metrics.ReasonDialFailed)) == 6
	})
	// Over the limit: two held flows, the third is refused.
	w.lbs["lb-a"] = []snapshot.Backend{{Address: echoServer(t), Weight: 100}}
	l.publish(w.snap())
	var held []*net.TCPConn
	for i := 0; i < 2; i++ {
		c := dial(t, w.addr())
		if got, err := roundTrip(c, "x"); err != nil || got != "x" {
			t.Fatalf("flow %d after refusals: %q, %v (reservations leaked?)", i, got, err)
		}
		held = append(held, c)
	}
	dialExpectReset(t, w.addr())
	for _, c := range held {
		c.Close()
	}
	e := eniOf(l, w)
	expectCountsZero(t, e, l.p.eps["ep-1"].buckets)
	// And the ENI takes two flows again.
	for i := 0; i < 2; i++ {
		c := dial(t, w.addr())
		if got, err := roundTrip(c, "y"); err != nil || got != "y" {
			t.Fatalf("flow %d after the limit: %q, %v", i, got, err)
		}
	}
}

// TestENIRemovedWhileDialing: a flow still connecting when its ENI
// goes away cannot join the closed flow table; it must be reset and give
// its reservation back to the old table.
func TestENIRemovedWhileDialing(t *testing.T) {
	hole := blackHole(t)
	l := newLab(t, Options{DialTimeout: 300 * time.Millisecond})
	w := newWorld(hole, echoServer(t))
	l.publish(w.snap())
	e := eniOf(l, w)
	c := dial(t, w.addr())
	waitFor(t, time.Second, "the flow to reserve", func() bool { return e.n.Load() == 1 })
	s := w.snap()
	s.Endpoints["ep-1"].Zones = nil
	l.publish(s)
	expectReset(t, c)
	expectCountsZero(t, e, l.p.eps["ep-1"].buckets)
}

// TestAbortRacesFinish: Force migration aborts flows from the Run
// goroutine while their clients close them and the loops finish them on
// their own; every flow must end once and every count return to 0.
func TestAbortRacesFinish(t *testing.T) {
	l := newLab(t, Options{Loops: 4})
	w := newWorld()
	w.lbs["lb-a"] = []snapshot.Backend{{Address: echoServer(t), Weight: 100}}
	w.lbs["lb-b"] = []snapshot.Backend{{Address: echoServer(t), Weight: 100}}
	l.publish(w.snap())
	e := eniOf(l, w)
	b := l.p.eps["ep-1"].buckets
	for round := 0; round < 5; round++ {
		const n = 40
		conns := make([]*net.TCPConn, n)
		for i := range conns {
			conns[i] = dial(t, w.addr())
			if _, err := roundTrip(conns[i], "x"); err != nil {
				t.Fatalf("round %d flow %d: %v", round, i, err)
			}
		}
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i%2 == 0 {
					c.CloseWrite() // half-close: the flow ends by itself
				} else {
					c.Close()
				}
			}()
		}
		w.resourceID = []string{"lb-b", "lb-a"}[round%2]
		l.publish(w.snap()) // aborts every flow of the old CLB
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
		expectCountsZero(t, e, b)
	}
}

// TestListenerChurn: the ENI's listener is closed and reopened (a new
// ENI id on the same address) over and over while clients keep connecting
// to it through four loops; the accept path must never touch a closed or
// reused descriptor, and nothing may be left counted.
func TestListenerChurn(t *testing.T) {
	l := newLab(t, Options{Loops: 4})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var bad sync.Map
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.DialTimeout("tcp", w.addr(), time.Second)
				if err != nil {
					continue // refused while no listener is open
				}
				c.SetDeadline(time.Now().Add(2 * time.Second))
				if _, err := io.WriteString(c, "ping"); err == nil {
					buf := make([]byte, 4)
					if _, err := io.ReadFull(c, buf); err == nil && string(buf) != "ping" {
						bad.Store(string(buf), true) // bytes of another flow
					}
				}
				c.Close()
			}
		}()
	}
	var tables []*eniFlows
	for i := 0; i < 30; i++ {
		w.eniID = fmt.Sprintf("eni-%d", i%2)
		l.publish(w.snap())
		tables = append(tables, eniOf(l, w))
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	bad.Range(func(k, _ any) bool { t.Errorf("a flow read %q", k); return true })
	b := l.p.eps["ep-1"].buckets
	for _, e := range tables {
		expectCountsZero(t, e, b)
	}
	c := dial(t, w.addr())
	if got, err := roundTrip(c, "end"); err != nil || got != "end" {
		t.Fatalf("after churn: %q, %v", got, err)
	}
}

// TestShutdownWithFlowsInEveryState: Run returns promptly with flows
// open, half-closed and still dialing, and every client is reset (none is
// left hanging or sees a clean EOF it could mistake for a complete stream).
func TestShutdownWithFlowsInEveryState(t *testing.T) {
	hole := blackHole(t)
	p := New(Options{DialTimeout: 10 * time.Second, Loops: 2})
	pub := &snapshot.Publisher{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, pub) }()
	defer func() {
		cancel()
		<-done
	}()
	w := newWorld(echoServer(t))
	wd := newWorld(hole)
	wd.eniID = "eni-dial"
	s := w.snap()
	for id, lb := range wd.snap().LoadBalancers {
		s.LoadBalancers["hole-"+id] = lb
	}
	s.Endpoints["ep-2"] = &snapshot.Endpoint{ID: "ep-2", ServiceID: "epsrv-1", ConnectionStatus: snapshot.ConnConnected,
		SecurityGroupIDs: []string{"sg-1"}, Zones: []*snapshot.EndpointZone{{ZoneID: "cn-hangzhou-h",
			Status: snapshot.ZoneConnected, ENI: snapshot.ENI{ID: "eni-dial", IP: wd.eni}, ResourceID: "hole-lb-a"}}}
	s.Version = 1
	pub.Publish(s)
	waitFor(t, 2*time.Second, "snapshot applied", func() bool { return p.Version() == 1 })

	open := dial(t, w.addr())
	if _, err := roundTrip(open, "x"); err != nil {
		t.Fatal(err)
	}
	half := dial(t, w.addr())
	if _, err := roundTrip(half, "x"); err != nil {
		t.Fatal(err)
	}
	half.CloseWrite()
	dialing := dial(t, wd.addr())
	waitFor(t, time.Second, "the hung dial to start", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.enis[wd.eni].n.Load() == 1
	})

	cancel()
	select {
	case err := <-done:
		done <- err
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return")
	}
	for name, c := range map[string]net.Conn{"open": open, "dialing": dialing} {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("%s flow after shutdown: %v, want a reset", name, err)
		}
	}
	// The half-closed flow may have ended cleanly before the shutdown (the
	// echo server answers our FIN with its own): EOF or a reset are both
	// right, but it must not hang.
	half.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := half.Read(make([]byte, 1)); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("half-closed flow after shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp", w.addr(), time.Second); err == nil {
		c.Close()
		t.Error("still listening after Run returned")
	}
}

// TestServerSpeaksFirstLargeGreeting: the backend writes a bulk
// greeting right after accept (it may arrive in the same event as the
// connect's EPOLLOUT) and closes; the client reads all of it before
// sending anything.
func TestServerSpeaksFirstLargeGreeting(t *testing.T) {
	const size = 3 << 20
	backend := serveTCP(t, func(c *net.TCPConn) {
		io.CopyN(c, zeroReader{}, size)
		c.CloseWrite()
		io.Copy(io.Discard, c)
	})
	l := newLab(t, Options{})
	w := newWorld(backend)
	l.publish(w.snap())
	c := dial(t, w.addr())
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != size {
		t.Fatalf("greeting: %d bytes, %v", n, err)
	}
	c.CloseWrite()
	expectCountsZero(t, eniOf(l, w), l.p.eps["ep-1"].buckets)
}

// TestResetAfterFINEndsFlow: a client half-closes, then resets (it
// crashed or gave up) while the backend is still silent. Its direction is
// done, so pump never reads the client socket again and never sees the
// error; the EPOLLERR must still end the flow (and reset the backend)
// instead of holding both sockets until the backend writes or IdleTimeout.
func TestResetAfterFINEndsFlow(t *testing.T) {
	sawEOF := make(chan struct{}, 1)
	quit := make(chan struct{})
	backend := serveTCP(t, func(c *net.TCPConn) {
		if b, _ := io.ReadAll(c); len(b) == 0 {
			return // a health check
		}
		sawEOF <- struct{}{}
		<-quit // silent, and keeps its side open, until the test ends
	})
	t.Cleanup(func() { close(quit) }) // runs before serveTCP's cleanup waits
	l := newLab(t, Options{})
	w := newWorld(backend)
	l.publish(w.snap())
	c := dial(t, w.addr())
	io.WriteString(c, "request")
	c.CloseWrite()
	select {
	case <-sawEOF:
	case <-time.After(2 * time.Second):
		t.Fatal("backend never got the request and FIN")
	}
	c.SetLinger(0)
	c.Close() // RST
	waitFor(t, time.Second, "the flow to end after the client's reset", func() bool {
		return len(l.p.gauges().Flows) == 0
	})
	expectCountsZero(t, eniOf(l, w), l.p.eps["ep-1"].buckets)
}

// pendingDialTimers counts the timerDial entries in lp's heap, read on the
// loop itself.
func pendingDialTimers(t *testing.T, lp *loop) (timers, dialing int) {
	t.Helper()
	done := make(chan struct{})
	if !lp.post(func() {
		for _, tm := range lp.timers {
			if tm.kind == timerDial {
				timers++
			}
		}
		dialing = len(lp.dialing.flows)
		close(done)
	}) {
		t.Fatal("loop gone")
	}
	<-done
	return timers, dialing
}

// TestDialTimersDoNotPileUp: the loop keeps one timer for the
// earliest connect deadline. When dialTimeouts retries a flow, dial's
// dialSet.add sees ds.timer == false (dialTimeouts cleared it) and pushes a
// timer, and dialTimeouts then pushes its own for `next`: one extra timer
// per retry that keeps re-arming itself as long as some connect is in
// progress. Under a steady trickle of connections to a hung backend the
// heap grows without bound and every deadline runs dialTimeouts once per
// stray timer.
func TestDialTimersDoNotPileUp(t *testing.T) {
	hole := blackHole(t)
	l := newLab(t, Options{Loops: 1, DialTimeout: 60 * time.Millisecond})
	w := newWorld()
	// The hung backend takes nearly every first attempt; the retry goes to
	// the echo server, so each flow spends one DialTimeout in the dial set.
	w.lbs["lb-a"] = []snapshot.Backend{{Address: hole, Weight: 100}, {Address: echoServer(t), Weight: 1}}
	l.publish(w.snap())
	lp := l.p.loops[0]
	maxTimers := 0
	for i := 0; i < 60; i++ { // one new flow every 15 ms: the set is never empty
		c := dial(t, w.addr())
		defer c.Close()
		time.Sleep(15 * time.Millisecond)
		n, _ := pendingDialTimers(t, lp)
		maxTimers = max(maxTimers, n)
	}
	if maxTimers > 2 {
		t.Errorf("%d dial timers pending at once, want 1 (2 while one is being replaced)", maxTimers)
	}
}

// TestAnswerAndClose: a backend answers and closes, its FIN in the
// answer's packet: the client gets the answer whole and then the end. The
// conn carrier hands both to the client's conn in one WriteClose (a VPC
// stack puts the FIN on the answer's last packet); on a connection that
// answered once before and waited, it no longer looks for the end.
func TestAnswerAndClose(t *testing.T) { onEachFrontEnd(t, testAnswerAndClose) }

func testAnswerAndClose(t *testing.T, fe frontEnd) {
	answer := strings.Repeat("a", 3000)
	backend := serveTCP(t, func(c *net.TCPConn) {
		var b [1]byte
		if _, err := c.Read(b[:]); err != nil {
			return // a health check
		}
		if b[0] == 'k' { // an exchange first
			io.WriteString(c, "first")
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
		// Corked, the kernel sends what is written with the FIN of the
		// close: eplink finds both at once.
		rc, _ := c.SyscallConn()
		rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, unix.TCP_CORK, 1) })
		io.WriteString(c, answer)
		c.Close()
	})
	l := newLabOn(t, fe, Options{})
	w := newWorld(backend)
	l.publish(w.snap())
	for _, tc := range []struct {
		name, send string
		want       string
		lastWrites int64
	}{
		{"answer", "c", answer, 1},
		{"exchange, then answer", "kk", "first" + answer, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before int64
			if l.conns != nil {
				before = l.conns.lastWrites.Load()
			}
			c := dial(t, w.addr())
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, tc.send[:1])
			if len(tc.send) > 1 {
				b := make([]byte, len("first"))
				if _, err := io.ReadFull(c, b); err != nil || string(b) != "first" {
					t.Fatalf("first answer %q, %v", b, err)
				}
				io.WriteString(c, tc.send[1:])
				tc.want = tc.want[len("first"):]
			}
			got, err := io.ReadAll(c)
			if err != nil || string(got) != tc.want {
				t.Fatalf("answer of %d bytes (want %d), %v", len(got), len(tc.want), err)
			}
			if l.conns == nil {
				return
			}
			// The client has the end; Run's last steps may still be going.
			if n := l.conns.lastWrites.Load() - before; n != tc.lastWrites {
				t.Errorf("%d WriteClose calls, want %d", n, tc.lastWrites)
			}
		})
	}
}
