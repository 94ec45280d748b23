//go:build linux

package dataplane

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"eplink/controlplane/snapshot"
)

// BenchmarkPingUnderBulk measures a 1-byte request/response flow (one op
// is one ping) on a loop that also carries a bulk stream client→backend.
// A loop that let one pump call run as long as its source had bytes and
// its destination room made every other flow on it wait as long. The
// metrics: the ping's latency percentiles, how long a function posted to
// the loop waits to run (its longest turns, whatever the scheduler does to
// the benchmark's own goroutines), and the stream's throughput meanwhile.
//
//   - idle: no stream;
//   - bulk: the stream's sender and sink are goroutines of this process;
//   - iperf3: the stream is iperf3's (client and server are processes of
//     their own, through a second ENI), as in the measurement of issue 18;
//   - direct-iperf3: the same iperf3 stream and the same ping, both straight
//     to their servers, no eplink: what the machine itself gives a ping
//     while a stream takes its cores (the floor for the iperf3 case);
//   - haproxy-iperf3: the same stream and ping through HAProxy with one
//     thread (one loop, like eplink's here): the baseline proxy in the
//     same run.
func BenchmarkPingUnderBulk(b *testing.B) {
	backend := serveTCP(b, func(c *net.TCPConn) {
		var mode [1]byte
		if _, err := io.ReadFull(c, mode[:]); err != nil {
			return
		}
		if mode[0] == 'B' {
			io.Copy(io.Discard, c)
			return
		}
		io.Copy(c, c)
	})
	l := newLab(b, Options{Loops: 1})
	w := newWorld(backend)
	s := w.snap()
	iperf, iperfErr := exec.LookPath("iperf3")
	eni2 := freshIP()
	var iperfAddr string
	if iperfErr == nil {
		iperfAddr = startIperfServer(b, iperf)
		s.LoadBalancers["lb-iperf"] = &snapshot.LoadBalancer{ID: "lb-iperf", Zone: "cn-hangzhou-h",
			Health:    snapshot.HealthCheck{Interval: time.Hour},
			Listeners: []snapshot.Listener{{Port: testPort, Backends: []snapshot.Backend{{Name: "iperf3", Address: iperfAddr, Weight: 100}}}}}
		s.Endpoints["ep-2"] = &snapshot.Endpoint{ID: "ep-2", ServiceID: "epsrv-2",
			ConnectionStatus: snapshot.ConnConnected, SecurityGroupIDs: []string{"sg-1"},
			Zones: []*snapshot.EndpointZone{{ZoneID: "cn-hangzhou-h", Status: snapshot.ZoneConnected,
				ENI: snapshot.ENI{ID: "eni-2", IP: eni2}, ResourceID: "lb-iperf"}}}
	}
	l.publish(s)
	var haproxy struct{ ping, iperf string }
	if iperfErr == nil {
		haproxy.ping, haproxy.iperf = startHAProxy(b, backend, iperfAddr)
	}
	for _, mode := range []string{"idle", "bulk", "iperf3", "direct-iperf3", "haproxy-iperf3"} {
		b.Run(mode, func(b *testing.B) {
			var moved atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var iperfOut chan iperfResult
			switch mode {
			case "bulk":
				bc := benchDial(b, w.addr())
				defer bc.Close()
				bc.Write([]byte{'B'})
				go func() {
					buf := make([]byte, 256<<10)
					for {
						select {
						case <-stop:
							return
						default:
						}
						n, err := bc.Write(buf)
						moved.Add(int64(n))
						if err != nil {
							return
						}
					}
				}()
				time.Sleep(200 * time.Millisecond) // up to speed
			case "iperf3", "direct-iperf3", "haproxy-iperf3":
				if iperfErr != nil {
					b.Skip("iperf3 not installed")
				}
				to := netip.AddrPortFrom(eni2, testPort).String()
				switch mode {
				case "direct-iperf3":
					to = iperfAddr
				case "haproxy-iperf3":
					if haproxy.iperf == "" {
						b.Skip("haproxy not installed")
					}
					to = haproxy.iperf
				}
				iperfOut = runIperfClient(iperf, to, 6*time.Second)
				time.Sleep(700 * time.Millisecond) // connected and up to speed
			}
			lp := l.p.loops[0]
			var waits []time.Duration
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					t0 := mono()
					done := make(chan struct{})
					lp.post(func() { waits = append(waits, time.Duration(mono()-t0)); close(done) })
					<-done
					time.Sleep(200 * time.Microsecond)
				}
			}()
			pingTo := w.addr()
			switch mode {
			case "direct-iperf3":
				pingTo = backend
			case "haproxy-iperf3":
				pingTo = haproxy.ping
			}
			c := benchDial(b, pingTo)
			defer c.Close()
			c.Write([]byte{'P'})
			var one [1]byte
			rtts := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			start, before := time.Now(), moved.Load()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if _, err := c.Write(one[:]); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one[:]); err != nil {
					b.Fatal(err)
				}
				rtts = append(rtts, time.Since(t0))
			}
			elapsed, after := time.Since(start), moved.Load()
			b.StopTimer()
			close(stop)
			wg.Wait()
			slices.Sort(rtts)
			slices.Sort(waits)
			ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
			b.ReportMetric(ms(rtts[len(rtts)/2]), "p50-ms")
			b.ReportMetric(ms(rtts[len(rtts)*99/100]), "p99-ms")
			b.ReportMetric(ms(rtts[len(rtts)-1]), "max-ms")
			if len(waits) > 0 {
				b.ReportMetric(ms(waits[len(waits)*99/100]), "loop-wait-p99-ms")
				b.ReportMetric(ms(waits[len(waits)-1]), "loop-wait-max-ms")
			}
			switch mode {
			case "bulk":
				b.ReportMetric(float64(after-before)*8/1e9/elapsed.Seconds(), "bulk-Gbit/s")
			case "iperf3", "direct-iperf3", "haproxy-iperf3":
				res := <-iperfOut
				if res.err != nil {
					b.Fatalf("iperf3: %v", res.err)
				}
				if elapsed > res.took {
					b.Logf("the pings (%v) outlasted the stream (%v): use a smaller -benchtime", elapsed, res.took)
				}
				b.ReportMetric(res.gbps, "bulk-Gbit/s")
			}
		})
	}
}

// startIperfServer runs `iperf3 -s` on a free loopback port until the
// benchmark ends and returns its address.
func startIperfServer(b *testing.B, bin string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	ln.Close()
	cmd := exec.Command(bin, "-s", "-B", "127.0.0.1", "-p", strconv.Itoa(addr.Port))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 100; i++ { // until it listens (a connect it would take for a test)
		if out, _ := os.ReadFile("/proc/net/tcp"); strings.Contains(string(out), fmt.Sprintf(":%04X 00000000:0000 0A", addr.Port)) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return addr.String()
}

// startHAProxy runs HAProxy, one thread, in mode tcp in front of the ping
// backend and the iperf3 server until the benchmark ends, and returns its
// two front addresses; none without haproxy.
func startHAProxy(b *testing.B, ping, iperf string) (pingFront, iperfFront string) {
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return "", ""
	}
	fronts := make([]string, 2)
	for i := range fronts {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		fronts[i] = ln.Addr().String()
		ln.Close()
	}
	conf := filepath.Join(b.TempDir(), "haproxy.cfg")
	err = os.WriteFile(conf, []byte(fmt.Sprintf(`global
  nbthread 1
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen ping
  bind %s
  server s1 %s
listen iperf3
  bind %s
  server s1 %s
`, fronts[0], ping, fronts[1], iperf)), 0o644)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-f", conf, "-db")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for i := 0; i < 100; i++ { // until both ports listen
		c1, err1 := net.Dial("tcp", fronts[0])
		if err1 == nil {
			c1.Close()
			if c2, err2 := net.Dial("tcp", fronts[1]); err2 == nil {
				c2.Close()
				return fronts[0], fronts[1]
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.Fatal("haproxy did not listen within a second")
	return "", ""
}

type iperfResult struct {
	gbps float64
	took time.Duration
	err  error
}

// runIperfClient streams to addr for d with `iperf3 -c` and reports the
// receiver's throughput.
func runIperfClient(bin, addr string, d time.Duration) chan iperfResult {
	out := make(chan iperfResult, 1)
	go func() {
		ap := netip.MustParseAddrPort(addr)
		start := time.Now()
		cmd := exec.Command(bin, "-c", ap.Addr().String(), "-p", strconv.Itoa(int(ap.Port())),
			"-t", strconv.Itoa(int(d.Seconds())), "-J")
		raw, err := cmd.Output()
		took := time.Since(start)
		if err != nil {
			out <- iperfResult{err: fmt.Errorf("%v: %s", err, raw)}
			return
		}
		var r struct {
			End struct {
				SumReceived struct {
					BitsPerSecond float64 `json:"bits_per_second"`
				} `json:"sum_received"`
			} `json:"end"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			out <- iperfResult{err: err}
			return
		}
		out <- iperfResult{gbps: r.End.SumReceived.BitsPerSecond / 1e9, took: took}
	}()
	return out
}

// TestPumpTurnIsBounded: a direction whose source never runs dry and
// whose destination always has room must give its loop back after a
// bounded amount of work and carry on in a later turn, or every other flow
// on the loop waits for it (BenchmarkPingUnderBulk). Pipes stand in for
// the two sockets: 1 MiB waits in the source, the destination has room
// for all of it, so nothing but the budget stops a pump call.
func TestPumpTurnIsBounded(t *testing.T) {
	p := New(Options{})
	lp, err := newLoop(p)
	if err != nil {
		t.Fatal(err)
	}
	defer lp.close()
	src, err := newPipe()
	if err != nil {
		t.Fatal(err)
	}
	dst, err := newPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer src.close()
	defer dst.close()
	const size = 1 << 20
	if n, _ := unix.FcntlInt(uintptr(src.w), unix.F_GETPIPE_SZ, 0); n < size {
		t.Skipf("pipes hold %d bytes here, the test needs %d", n, size)
	}
	if n, _ := unix.FcntlInt(uintptr(dst.w), unix.F_GETPIPE_SZ, 0); n < size {
		t.Skipf("pipes hold %d bytes here, the test needs %d", n, size)
	}
	if n, err := unix.Write(src.w, make([]byte, size)); n != size {
		t.Fatalf("filling the source: %d, %v", n, err)
	}
	f := &Flow{route: &route{ep: &endpoint{buckets: newBuckets(0)}}, lp: lp,
		fds: [2]int{src.r, dst.w}, state: flowOpen, dslot: -1}
	f.half[up].ready = true
	lp.pump(f, up)
	first := f.bytes[up].Load()
	if first > pumpBudget+readSize {
		t.Errorf("one pump call moved %d bytes, want at most %d", first, pumpBudget+readSize)
	}
	if !f.half[up].queued || len(lp.more) != 1 {
		t.Fatalf("a direction that stopped with bytes left is not queued for another turn")
	}
	for turns := 0; len(lp.more) > 0 && turns < 100; turns++ {
		before := f.bytes[up].Load()
		lp.runLater()
		if d := f.bytes[up].Load() - before; d > pumpBudget+readSize {
			t.Fatalf("turn %d moved %d bytes", turns, d)
		}
	}
	if got := f.bytes[up].Load(); got != size {
		t.Fatalf("moved %d bytes in all, want %d", got, size)
	}
	for dir := range f.half {
		lp.putPipe(&f.half[dir])
	}
	for _, p := range lp.pipes {
		p.close()
	}
}

// pipeFlow is an open flow on loop lp whose client and backend sockets are
// stood in for by two pipes: direction up reads src and writes dst. The
// source is watched by the loop's epoll, so events built by sourceEvent
// reach the flow through lp.handle.
func pipeFlow(t *testing.T, lp *loop) (f *Flow, src, dst pipe) {
	t.Helper()
	var err error
	if src, err = newPipe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.close)
	if dst, err = newPipe(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dst.close)
	f = &Flow{route: &route{ep: &endpoint{buckets: newBuckets(0)}}, lp: lp,
		fds: [2]int{src.r, dst.w}, state: flowOpen, dslot: -1}
	if err := lp.register(src.r, flowEvents, fdEntry{f: f, side: up}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for dir := range f.half {
			lp.putPipe(&f.half[dir])
		}
	})
	return f, src, dst
}

// sourceEvent is what epoll_wait reports when bytes arrive at f's client.
func sourceEvent(lp *loop, f *Flow) unix.EpollEvent {
	fd := f.fds[up]
	return unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd), Pad: int32(lp.fds[fd].gen)}
}

// bulkLoop is a loop (no epoll_wait: tests run its turns) with one flow on
// pipes whose client has 1 MiB to send, more than one share.
func bulkLoop(t *testing.T) (*loop, *Flow) {
	t.Helper()
	lp, err := newLoop(New(Options{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lp.close()
		for _, p := range lp.pipes {
			p.close()
		}
	})
	bulk, bsrc, _ := pipeFlow(t, lp)
	const size = 1 << 20
	if n, _ := unix.FcntlInt(uintptr(bsrc.w), unix.F_GETPIPE_SZ, 0); n < size {
		t.Skipf("pipes hold %d bytes here, the test needs %d", n, size)
	}
	if n, err := unix.Write(bsrc.w, make([]byte, size)); n != size {
		t.Fatalf("filling the bulk source: %d, %v", n, err)
	}
	return lp, bulk
}

// TestTurnYieldsToReaders: a turn that passed a message on while a bulk
// direction waits for its next share gives up the CPU once before the bulk
// copying, so that the message's reader, woken on this CPU, need not wait
// for the loop's time slice to end (BenchmarkPingUnderBulk). Turns of bulk
// copying alone, and messages with no bulk transfer waiting, never yield:
// an idle loop sleeps in epoll_wait anyway.
func TestTurnYieldsToReaders(t *testing.T) {
	lp, bulk := bulkLoop(t)
	small, ssrc, sdst := pipeFlow(t, lp)
	ping := func() unix.EpollEvent {
		if _, err := unix.Write(ssrc.w, []byte("ping")); err != nil {
			t.Fatal(err)
		}
		return sourceEvent(lp, small)
	}
	pong := func() {
		var b [16]byte
		if n, err := unix.Read(sdst.r, b[:]); n != 4 || err != nil {
			t.Fatalf("the message's reader got %d bytes (%v), want 4", n, err)
		}
	}
	yields := 0
	var bulkAtYield int64
	lp.yield = func() {
		yields++
		bulkAtYield = bulk.bytes[up].Load()
		if small.bytes[up].Load() == 0 {
			t.Error("the loop yielded before passing the message on")
		}
	}
	turn := func(evs ...unix.EpollEvent) { lp.handle(evs) }

	turn(ping()) // a message, no bulk transfer
	pong()
	if yields != 0 {
		t.Fatalf("a turn with a message and nothing else to do yielded %d times", yields)
	}
	turn(sourceEvent(lp, bulk)) // the bulk stream starts and uses its share
	if yields != 0 || !bulk.half[up].queued {
		t.Fatalf("first bulk turn: %d yields, queued %v; want 0 and true", yields, bulk.half[up].queued)
	}
	turn() // bulk copying alone
	if yields != 0 {
		t.Fatalf("a turn of bulk copying alone yielded %d times", yields)
	}
	before := bulk.bytes[up].Load()
	turn(ping())
	pong()
	if yields != 1 {
		t.Fatalf("a turn with a message while bulk bytes wait yielded %d times, want 1", yields)
	}
	if bulkAtYield != before {
		t.Errorf("the bulk direction moved %d bytes before the yield", bulkAtYield-before)
	}
	if bulk.bytes[up].Load() == before {
		t.Error("the bulk direction did not get its share after the yield")
	}
}

// TestTurnPassesMessagesFirst: when epoll reports a bulk transfer's socket
// before a message's, the message still goes first: the bulk direction
// moves nothing of its share before the turn's messages are passed on
// (and the loop has yielded to their readers).
func TestTurnPassesMessagesFirst(t *testing.T) {
	lp, bulk := bulkLoop(t)
	small, ssrc, _ := pipeFlow(t, lp)
	lp.handle([]unix.EpollEvent{sourceEvent(lp, bulk)}) // the stream is under way
	if !bulk.half[up].bulk {
		t.Fatal("the stream did not switch to splice")
	}
	before := bulk.bytes[up].Load()
	yields := 0
	lp.yield = func() {
		yields++
		if got := small.bytes[up].Load(); got != 4 {
			t.Errorf("at the yield the message has moved %d bytes, want 4", got)
		}
		if got := bulk.bytes[up].Load(); got != before {
			t.Errorf("the stream moved %d bytes before the message", got-before)
		}
	}
	if _, err := unix.Write(ssrc.w, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	lp.handle([]unix.EpollEvent{sourceEvent(lp, bulk), sourceEvent(lp, small)})
	if yields != 1 {
		t.Fatalf("yields = %d, want 1", yields)
	}
	if bulk.bytes[up].Load() == before {
		t.Error("the stream got no share in the turn")
	}
}
