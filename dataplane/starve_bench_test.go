//go:build linux

package dataplane

import (
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkPingUnderBulk measures a 1-byte request/response flow while
// another flow on the same loop streams bulk data client→backend as fast
// as it can (iperf3's direction). One op is one ping; the metrics are the
// ping's latency percentiles and the bulk flow's throughput meanwhile. A
// loop that lets one pump call run as long as its source has bytes and its
// destination room makes every other flow on it wait that long.
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
	l.publish(w.snap())
	for _, bulk := range []bool{false, true} {
		name := "idle"
		if bulk {
			name = "bulk"
		}
		b.Run(name, func(b *testing.B) {
			var moved atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			if bulk {
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
			}
			// The loop's own delay: how long a function posted to it
			// waits to run, which is the longest turn it is in when the
			// post lands (plus its wake-up), whatever the scheduler does
			// to the test's other goroutines.
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
			c := benchDial(b, w.addr())
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
			if len(waits) > 0 {
				b.ReportMetric(ms(waits[len(waits)*99/100]), "loop-wait-p99-ms")
				b.ReportMetric(ms(waits[len(waits)-1]), "loop-wait-max-ms")
			}
			b.ReportMetric(ms(rtts[len(rtts)/2]), "p50-ms")
			b.ReportMetric(ms(rtts[len(rtts)*99/100]), "p99-ms")
			b.ReportMetric(ms(rtts[len(rtts)-1]), "max-ms")
			if bulk {
				b.ReportMetric(float64(after-before)*8/1e9/elapsed.Seconds(), "bulk-Gbit/s")
			}
		})
	}
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
	for _, h := range f.half {
		if h.held {
			lp.putPipe(&h)
		}
	}
}
