//go:build linux

package dataplane

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"eplink/metrics"
)

// TestBackPressureByteExact pushes data both ways at once through one flow
// while the client reads its echo slowly at first, so the proxy's writes
// hit full socket buffers (bytes left in the pipe or copied aside, resumed
// by EPOLLOUT) and the direction switches between reads and splice as the
// sizes change. Every byte must come back, in order.
func TestBackPressureByteExact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mbps  int
		size  int
		chunk func(*rand.Rand) int
	}{
		{"bulk", 0, 24 << 20, func(*rand.Rand) int { return 256 << 10 }},
		{"small writes", 0, 2 << 20, func(r *rand.Rand) int { return 1 + r.IntN(300) }},
		{"mixed", 0, 8 << 20, func(r *rand.Rand) int { return 1 + r.IntN(64<<10) }},
		{"shaped", 200, 3 << 20, func(r *rand.Rand) int { return 1 + r.IntN(100<<10) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, Options{})
			w := newWorld(echoServer(t))
			w.mbps = tc.mbps
			l.publish(w.snap())
			c := dial(t, w.addr())
			c.SetDeadline(time.Now().Add(20 * time.Second))

			r := rand.New(rand.NewPCG(1, uint64(tc.size)))
			data := make([]byte, tc.size)
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			sent := make(chan error, 1)
			go func() {
				rest := data
				for len(rest) > 0 {
					n := min(tc.chunk(r), len(rest))
					if _, err := c.Write(rest[:n]); err != nil {
						sent <- err
						return
					}
					rest = rest[n:]
				}
				sent <- c.CloseWrite()
			}()
			// Read slowly until a few MB are queued in the kernel and the
			// proxy, then at full speed.
			got := make([]byte, 0, tc.size)
			buf := make([]byte, 32<<10)
			for slow := 0; ; slow++ {
				n, err := c.Read(buf)
				got = append(got, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("read after %d bytes: %v", len(got), err)
				}
				if slow < 20 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			if err := <-sent; err != nil {
				t.Fatalf("write: %v", err)
			}
			if len(got) != len(data) || sha256.Sum256(got) != sha256.Sum256(data) {
				i := 0
				for i < min(len(got), len(data)) && got[i] == data[i] {
					i++
				}
				t.Fatalf("echo differs: got %d bytes, want %d; first difference at %d", len(got), len(data), i)
			}
			up, down := flowBytes(t, l)
			if up != int64(tc.size) || down != int64(tc.size) {
				t.Errorf("flow counted %d up and %d down, want %d each", up, down, tc.size)
			}
		})
	}
}

// flowBytes waits for the lab's single flow to end and returns the bytes
// its metrics counted each way.
func flowBytes(t *testing.T, l *lab) (up, down int64) {
	t.Helper()
	waitFor(t, 2*time.Second, "the flow to end", func() bool { return len(l.p.gauges().Flows) == 0 })
	u := value(l.m.FlowBytes.WithLabelValues("ep-1", "epsrv-1", "lb-a", "cn-hangzhou-h", metrics.ClientToBackend))
	d := value(l.m.FlowBytes.WithLabelValues("ep-1", "epsrv-1", "lb-a", "cn-hangzhou-h", metrics.BackendToClient))
	return int64(u), int64(d)
}

// blackHole returns the address of a listener whose accept queue is full:
// the kernel drops further SYNs, so a connect there neither succeeds nor
// fails until the dialer gives up.
func blackHole(t *testing.T) string {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(fd, 0); err != nil { // room for one unaccepted connection
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*unix.SockaddrInet4).Port)).String()
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
}

// TestDialTimeoutTriesNextBackend: a backend whose connect hangs costs one
// DialTimeout, then the next backend carries the flow; with no other
// backend the client is reset and counted as dial_failed.
func TestDialTimeoutTriesNextBackend(t *testing.T) {
	const timeout = 300 * time.Millisecond
	hole := blackHole(t)

	l := newLab(t, Options{DialTimeout: timeout})
	w := newWorld(hole, namedServer(t, "B"))
	l.publish(w.snap())
	start := time.Now()
	name, c, err := hello(w.addr())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if name != "B" {
		t.Errorf("flow went to %q, want B", name)
	}
	if d := time.Since(start); d < timeout {
		t.Errorf("first flow took %v: the hung backend should have cost its %v timeout", d, timeout)
	}

	w2 := newWorld(hole)
	l.publish(w2.snap())
	c2 := dial(t, w2.addr())
	start = time.Now()
	expectReset(t, c2)
	if d := time.Since(start); d < timeout-50*time.Millisecond || d > 3*timeout {
		t.Errorf("reset after %v, want about %v", d, timeout)
	}
	waitFor(t, time.Second, "dial_failed counted", func() bool {
		return value(l.m.FlowsRefused.WithLabelValues("ep-1", "epsrv-1", "cn-hangzhou-h", metrics.ReasonDialFailed)) == 1
	})
}

// TestFlowsSpreadOverLoops: with two loops, many flows at once all work
// and are spread evenly over the loops; closing them leaves every count at
// zero.
func TestFlowsSpreadOverLoops(t *testing.T) {
	l := newLab(t, Options{Loops: 2})
	w := newWorld(echoServer(t))
	l.publish(w.snap())
	const n = 64
	conns := make([]*net.TCPConn, n)
	for i := range conns {
		conns[i] = dial(t, w.addr())
	}
	for i, c := range conns {
		msg := bytes.Repeat([]byte{byte(i)}, 100+i)
		if got, err := roundTrip(c, string(msg)); err != nil || got != string(msg) {
			t.Fatalf("flow %d: %v", i, err)
		}
	}
	// Whichever loop the kernel wakes for the listener, place hands the
	// flows on so that no loop carries more than loadSlack (+1 in flight)
	// over another.
	var per []int
	for _, lp := range l.p.loops {
		done := make(chan int)
		if !lp.post(func() { done <- len(lp.flows) }) {
			t.Fatal("loop gone")
		}
		per = append(per, <-done)
	}
	if len(per) != 2 || per[0]+per[1] != n || max(per[0]-per[1], per[1]-per[0]) > loadSlack+1 {
		t.Errorf("flows per loop %v, want %d in all, within %d of each other", per, n, loadSlack+1)
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, 2*time.Second, "flows to end", func() bool { return len(l.p.gauges().Flows) == 0 })
	b := l.p.eps["ep-1"].buckets
	waitFor(t, time.Second, "bucket flow counts back to 0", func() bool {
		return b.flows[up].Load() == 0 && b.flows[down].Load() == 0
	})
	l.p.mu.Lock()
	e := l.p.enis[netip.MustParseAddrPort(w.addr()).Addr()]
	l.p.mu.Unlock()
	if got := e.n.Load(); got != 0 {
		t.Errorf("ENI flow count %d after every flow ended, want 0", got)
	}
}
