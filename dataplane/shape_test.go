package dataplane

import (
	"io"
	"math"
	"net"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestBucketSize(t *testing.T) {
	tests := []struct {
		mbps      int
		wantRate  rate.Limit
		wantBurst int
	}{
		{0, rate.Inf, 0},
		{-1, rate.Inf, 0},
		{1, 125000, minBurst},     // 20 ms of 125 kB/s is below the floor
		{100, 12.5e6, 250000},     // 20 ms of 12.5 MB/s
		{1024, 128e6, 2560000},    // the default cap
		{10000, 1.25e9, 25000000}, // a lifted cap
	}
	for _, tt := range tests {
		r, b := bucketSize(tt.mbps)
		if r != tt.wantRate || b != tt.wantBurst {
			t.Errorf("bucketSize(%d) = %v, %d; want %v, %d", tt.mbps, r, b, tt.wantRate, tt.wantBurst)
		}
	}
}

// simulate runs one greedy flow against lim on a fake clock for d: it moves
// a chunk of at most one burst, pays for it after the fact, and waits the
// delay the reservation asks for. It returns the bytes moved.
func simulate(t *testing.T, lim *rate.Limiter, start time.Time, d time.Duration, resize func(time.Time)) int64 {
	now := start
	var moved int64
	for now.Before(start.Add(d)) {
		if resize != nil {
			resize(now)
		}
		n := lim.Burst()
		moved += int64(n)
		now = now.Add(debt(lim, n, now))
	}
	return moved
}

func TestShaperHoldsTheCapOverTenSeconds(t *testing.T) {
	for _, mbps := range []int{100, 1024, 5000} {
		b := newBuckets(mbps)
		start := time.Unix(1000, 0)
		// A fresh bucket starts full; that first burst is the only gift.
		moved := simulate(t, b.dir[up], start, 10*time.Second, nil)
		want := float64(mbps) * 1e6 / 8 * 10
		if dev := math.Abs(float64(moved)-want) / want; dev > 0.02 {
			t.Errorf("%d Mbps: moved %d bytes in 10s, want %.0f ±2%% (off by %.2f%%)", mbps, moved, want, dev*100)
		}
	}
}

func TestShaperResizeLive(t *testing.T) {
	b := newBuckets(100)
	start := time.Unix(1000, 0)
	half := start.Add(5 * time.Second)
	moved := simulate(t, b.dir[down], start, 10*time.Second, func(now time.Time) {
		if !now.Before(half) {
			b.resize(200, now)
		}
	})
	want := (100*5 + 200*5) * 1e6 / 8.0
	if dev := math.Abs(float64(moved)-want) / want; dev > 0.02 {
		t.Errorf("moved %d bytes, want %.0f ±2%% (off by %.2f%%)", moved, want, dev*100)
	}
	if b.dir[up].Limit() != 25e6 || b.dir[up].Burst() != 500000 {
		t.Errorf("resize left up at %v/%d", b.dir[up].Limit(), b.dir[up].Burst())
	}
}

func TestDebtSplitsIntoBursts(t *testing.T) {
	lim := rate.NewLimiter(1e6, 1000)
	now := time.Unix(1000, 0)
	// 2500 bytes on a full 1000-byte bucket at 1 MB/s: pieces of 1000,
	// 1000 and 500; the first is covered, the other 1500 bytes take 1.5 ms.
	if d := debt(lim, 2500, now); d != 1500*time.Microsecond {
		t.Errorf("debt %v, want 1.5ms", d)
	}
	// The bucket remembers: the next byte waits behind them.
	if d := debt(lim, 1000, now); d != 2500*time.Microsecond {
		t.Errorf("next debt %v, want 2.5ms", d)
	}
	lim.SetLimit(rate.Inf)
	if d := debt(lim, 1<<30, now); d != 0 {
		t.Errorf("unlimited bucket owes %v", d)
	}
}

// TestShapedFlowEndToEnd: a flow capped at 8 Mbps (1 MB/s) cannot move
// 1.5 MB much faster than the cap allows, nor is it held back more than
// the cap asks.
func TestShapedFlowEndToEnd(t *testing.T) { onEachFrontEnd(t, testShapedFlowEndToEnd) }

func testShapedFlowEndToEnd(t *testing.T, fe frontEnd) {
	const size = 1500000
	backend := serveTCP(t, func(c *net.TCPConn) {
		io.CopyN(c, zeroReader{}, size)
		c.CloseWrite()
	})
	l := newLabOn(t, fe, Options{})
	w := newWorld(backend)
	w.mbps = 8
	l.publish(w.snap())
	c := dial(t, w.addr())
	start := time.Now()
	c.SetReadDeadline(start.Add(20 * time.Second))
	n, err := io.Copy(io.Discard, c)
	elapsed := time.Since(start)
	if err != nil || n != size {
		t.Fatalf("read %d, %v", n, err)
	}
	// Two bursts (2×64 KiB) may pass without waiting.
	if min := time.Duration(float64(size-2*minBurst) / 1e6 * float64(time.Second)); elapsed < min {
		t.Errorf("1.5 MB at 1 MB/s took %v, want at least %v", elapsed, min)
	}
	// And not much slower: each byte is paid for once, so the waits add up
	// to at most the bytes' worth at the cap (1.5 s). This is not a
	// wall-clock bound: on a slow machine tokens pile up while the loop is
	// late, and the waits get shorter, never longer. Charging every byte
	// twice would double them; flows would get half the cap.
	wait := value(l.m.ShaperWait.WithLabelValues("ep-1", "epsrv-1", "backend_to_client"))
	if wait <= 0 || wait > 1.2*size/1e6 {
		t.Errorf("shaper wait = %.2fs, want more than 0 and at most %.2fs", wait, 1.2*size/1e6)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestChunkSharesBurst: the bytes flows move before paying stay near one
// burst however many flows share the bucket, and never go below minChunk
// or above the burst.
func TestChunkSharesBurst(t *testing.T) {
	b := newBuckets(100)
	burst := b.dir[0].Burst()
	for _, tc := range []struct{ flows, want int }{
		{0, burst}, {1, burst}, {2, burst / 2}, {8, burst / 8}, {64, minChunk}, {1000, minChunk},
	} {
		b.flows[0].Store(int32(tc.flows))
		if got := b.chunk(0, burst); got != tc.want {
			t.Errorf("%d flows: chunk %d, want %d", tc.flows, got, tc.want)
		}
	}
	if got := b.chunk(0, minChunk/2); got != minChunk/2 {
		t.Errorf("chunk above a small burst: %d", got)
	}
}

// TestChargeClockNeverGoesBack: the loops share an endpoint's buckets and
// each charges with its own clock, read once per wake-up, so a charge may
// come with a time older than the one before it. A limiter handed that
// time moves its last update back, and the next charge is credited the
// interval again: tokens minted out of nothing, across loops.
func TestChargeClockNeverGoesBack(t *testing.T) {
	b := newBuckets(8) // 1 MB/s, burst 64 KiB
	t0 := time.Now()
	if d := b.charge(up, int(b.burst.Load()), t0); d != 0 {
		t.Fatalf("a full burst from a full bucket waits %v", d)
	}
	// Another loop, whose clock was read 10 ms earlier, moves a byte.
	b.charge(up, 1, t0.Add(-10*time.Millisecond))
	// The bucket is empty: 10,000 more bytes owe 10 ms at 1 MB/s.
	if d := b.charge(up, 10000, t0); d < 9*time.Millisecond {
		t.Errorf("10,000 bytes from an empty 1 MB/s bucket wait %v, want about 10ms: tokens were minted", d)
	}
}
