//go:build linux

package dataplane

import (
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"eplink/controlplane/snapshot"
	"eplink/metrics"
)

// exhaustFDs lowers the process's descriptor limit and opens /dev/null
// until it is reached, leaving `leave` descriptors free: eplink at
// RLIMIT_NOFILE. The returned func closes them and restores the limit; call
// it before anything else in the test needs a descriptor (t.Fatal included:
// it is also registered as a cleanup).
func exhaustFDs(t *testing.T, leave int) (restore func()) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	maxFD := 0
	for _, e := range ents {
		var n int
		for _, c := range e.Name() {
			n = n*10 + int(c-'0')
		}
		maxFD = max(maxFD, n)
	}
	flushSplicePipes(t)
	lim := uint64(maxFD + 256)
	if lim > old.Cur {
		t.Skipf("descriptor limit %d too close to the %d open", old.Cur, len(ents))
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: lim, Max: old.Max}); err != nil {
		t.Fatal(err)
	}
	var fillers []int
	for {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			break
		}
		fillers = append(fillers, fd)
	}
	for i := 0; i < leave && len(fillers) > 0; i++ {
		unix.Close(fillers[len(fillers)-1])
		fillers = fillers[:len(fillers)-1]
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		// The old limit first: every descriptor above lim is then free
		// at once. Closing the fillers first would free them one by one,
		// and the proxy (accepting, dialing) could take the first few
		// while the backend's Accept still found none.
		unix.Setrlimit(unix.RLIMIT_NOFILE, &old)
		for _, fd := range fillers {
			unix.Close(fd)
		}
	}
	t.Cleanup(restore)
	return restore
}

// quietEcho is the backend of the descriptor-limit tests: an echo server
// (serveTCP's, which survives EMFILE) that counts the connections it has
// served and closed. It copies with read and write, not io.Copy: splice
// would put a pipe in the runtime's pool (see flushSplicePipes).
func quietEcho(t *testing.T) (addr string, closed *atomic.Int32) {
	t.Helper()
	closed = new(atomic.Int32)
	addr = serveTCP(t, func(c *net.TCPConn) {
		io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, make([]byte, 32<<10))
		c.Close()
		closed.Add(1)
	})
	return addr, closed
}

// flushSplicePipes closes the splice pipes the Go runtime keeps for
// io.Copy between TCP connections (every echoServer of the tests before
// uses them): they wait in a sync.Pool and are closed by a cleanup when a
// garbage collection drops them, at any time. A pair freed while the
// descriptors are exhausted gave the proxy two: it accepted and dialed
// where it should have failed (a flow where TestDialOutOfDescriptors wants
// a reset, a splice pipe where TestBulkWithoutPipeAtDescriptorLimit wants a
// fallback), and the backend's accept found none. Two collections empty the
// pool (its objects survive one, as victims); the cleanups then run on
// their own goroutine, so wait until no pipe descriptor closes any more.
func flushSplicePipes(t *testing.T) {
	t.Helper()
	pipes := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range ents {
			if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); strings.HasPrefix(l, "pipe:") {
				n++
			}
		}
		return n
	}
	runtime.GC()
	runtime.GC()
	start := time.Now()
	for prev, stable := pipes(), 0; stable < 5 && time.Since(start) < 5*time.Second; stable++ {
		time.Sleep(10 * time.Millisecond)
		if n := pipes(); n != prev {
			prev, stable = n, 0
		}
	}
}

// publishQuiet publishes w, whose one backend is a quietEcho, with a health
// check that probes once, and waits until that probe is over on both ends:
// the checker reports the backend up once it has closed its own socket,
// and a backend that closes its end later, with the descriptors exhausted,
// frees one and spoils the test.
func publishQuiet(t *testing.T, l *lab, w *world, closed *atomic.Int32) {
	t.Helper()
	w.health = snapshot.HealthCheck{Interval: time.Hour, Rise: 1}
	l.publish(w.snap())
	waitFor(t, 10*time.Second, "the first health check", func() bool {
		lb := l.p.routes.Load().lbs[w.resourceID]
		return lb != nil && len(lb.checkers) == 1 && lb.checkers[0].state.Load() == healthUp
	})
	waitFor(t, 10*time.Second, "the backend to close the health check's connection",
		func() bool { return closed.Load() >= 1 })
}

// TestDialOutOfDescriptors: a connection accepted with the last free
// descriptor cannot get a socket for its backend. That is eplink's own
// shortage, not the backend's: it is refused with a reason of its own,
// not dial_failed (which sends an operator looking at healthy backends).
func TestDialOutOfDescriptors(t *testing.T) {
	l := newLab(t, Options{Loops: 1})
	backend, closed := quietEcho(t)
	w := newWorld(backend)
	publishQuiet(t, l, w, closed)
	// The client's socket exists before the descriptors run out; its
	// connect needs none, the proxy's accept takes the last one.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 20}) // generous: the race detector on a loaded machine
	restore := exhaustFDs(t, 1)
	err = unix.Connect(fd, &unix.SockaddrInet4{Addr: w.eni.As4(), Port: testPort})
	var rerr error
	if err == nil {
		_, rerr = unix.Read(fd, make([]byte, 1))
	}
	restore()
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if rerr != unix.ECONNRESET {
		t.Fatalf("read: %v, want a reset", rerr)
	}
	refused := func(reason string) float64 {
		return value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", reason))
	}
	if got := refused(metrics.ReasonNoDescriptors); got != 1 {
		t.Errorf("%s refusals = %v, want 1", metrics.ReasonNoDescriptors, got)
	}
	if got := refused(metrics.ReasonDialFailed); got != 0 {
		t.Errorf("dial_failed refusals = %v, want 0: the backend is fine", got)
	}
}

// TestBulkWithoutPipeAtDescriptorLimit: a healthy flow that turns bulk
// when no descriptor is left for a splice pipe carries on with read and
// write (and says so in a counter) instead of being reset.
func TestBulkWithoutPipeAtDescriptorLimit(t *testing.T) {
	l := newLab(t, Options{Loops: 1})
	backend, closed := quietEcho(t)
	w := newWorld(backend)
	publishQuiet(t, l, w, closed)
	c := dial(t, w.addr())
	if got, err := roundTrip(c, "x"); err != nil || got != "x" {
		t.Fatalf("small echo: %q, %v", got, err)
	}
	msg := strings.Repeat("0123456789abcdef", 16<<10) // 256 KiB
	restore := exhaustFDs(t, 0)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	_, err := io.WriteString(c, msg)
	if err == nil {
		got = make([]byte, len(msg))
		_, err = io.ReadFull(c, got)
	}
	restore()
	if err != nil || string(got) != msg {
		t.Fatalf("256 KiB echo at the descriptor limit: %v (%d bytes)", err, len(got))
	}
	fell := value(l.m.SpliceFallbacks.WithLabelValues("ep-1", "epsrv-1", metrics.ClientToBackend)) +
		value(l.m.SpliceFallbacks.WithLabelValues("ep-1", "epsrv-1", metrics.BackendToClient))
	if fell < 1 {
		t.Errorf("splice fallbacks = %v, want at least 1", fell)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := roundTrip(c, msg); err != nil || got != msg {
		t.Fatalf("256 KiB echo after the limit: %v", err)
	}
}

// TestAcceptBacksOffAtDescriptorLimit: when accept fails for want of a
// descriptor, the listener (level-triggered, so it would wake its loop
// again at once, forever) is unwatched for a back-off; once descriptors
// are free again it is watched again and the waiting connection served.
func TestAcceptBacksOffAtDescriptorLimit(t *testing.T) {
	l := newLab(t, Options{Loops: 1})
	backend, closed := quietEcho(t)
	w := newWorld(backend)
	publishQuiet(t, l, w, closed)
	l.p.mu.Lock()
	ln := l.p.listeners[netip.AddrPortFrom(w.eni, testPort)]
	l.p.mu.Unlock()
	lp := l.p.loops[0]
	watched := func() bool {
		done := make(chan bool)
		if !lp.post(func() { done <- ln.fd < len(lp.fds) && lp.fds[ln.fd].l == ln }) {
			t.Fatal("loop gone")
		}
		return <-done
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 20}) // generous: the race detector on a loaded machine
	restore := exhaustFDs(t, 0)
	err = unix.Connect(fd, &unix.SockaddrInet4{Addr: w.eni.As4(), Port: testPort})
	backedOff := false
	deadline := time.Now().Add(2 * time.Second)
	for err == nil && !backedOff && time.Now().Before(deadline) {
		backedOff = ln.backoff.Load() > 0 && !watched()
		time.Sleep(time.Millisecond)
	}
	restore()
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if !backedOff {
		t.Fatal("the listener was not unwatched after accept failed at the descriptor limit")
	}
	waitFor(t, 10*time.Second, "the listener to be watched again", watched)
	if _, err := unix.Write(fd, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := unix.Read(fd, buf); err != nil || string(buf[:max(n, 0)]) != "hi" {
		t.Fatalf("the connection that waited: %q, %v", buf[:max(n, 0)], err)
	}
	waitFor(t, 10*time.Second, "the back-off to be cleared", func() bool { return ln.backoff.Load() == 0 })
}

// TestAcceptBackoffClearedWhenNothingWaits: accept4 takes a descriptor
// number before it looks for a connection, so at the descriptor limit it
// fails even when nothing is waiting, and the listener backs off. Once
// descriptors are free, the next accept finds nothing (EAGAIN) and the
// back-off must be over: it said the listener was paused while it was
// accepting, and a later shortage would start from the stale pause,
// doubled, instead of 5 ms.
func TestAcceptBackoffClearedWhenNothingWaits(t *testing.T) {
	l := newLab(t, Options{Loops: 1})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	l.p.mu.Lock()
	ln := l.p.listeners[netip.AddrPortFrom(w.eni, testPort)]
	l.p.mu.Unlock()
	lp := l.p.loops[0]
	ln.backoff.Store(int64(time.Second))
	done := make(chan int64)
	if !lp.post(func() { lp.accept(ln); done <- ln.backoff.Load() }) {
		t.Fatal("loop gone")
	}
	if b := <-done; b != 0 {
		t.Fatalf("back-off after an accept that found nothing = %v, want 0", time.Duration(b))
	}
}
