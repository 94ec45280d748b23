package dataplane

import (
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// buckets are one endpoint connection's token buckets, one per direction,
// shared by all its flows. They live as long as the endpoint and are resized
// in place, so flows that hold them see a bandwidth change at once.
type buckets struct {
	mbps int
	dir  [2]*rate.Limiter // indexed by direction
	// burst mirrors the limiters' burst for the data path while they are
	// finite, and is 0 when they are not (unshaped): one atomic load per
	// message where Limiter.Limit and Burst each take the limiter's mutex,
	// which every flow of the endpoint would contend for.
	burst atomic.Int64
	// flows counts the flows copying in each direction. Every flow moves
	// one chunk before it pays for it, so the unpaid bytes in flight are
	// flows × chunk: sharing one burst among them keeps that bounded by
	// about one burst however many flows there are (64 flows each moving a
	// whole burst unpaid overshot a 100 Mbps cap by a quarter over 10 s).
	flows [2]atomic.Int32
	// clock is each direction's limiter's time (see charge).
	clock [2]monoClock
}

// charge charges n bytes that moved in direction dir at now and returns how
// long the direction must wait before moving more (see debt).
//
// The loops share the buckets and each passes its own clock, read once per
// wake-up, so now may be older than a time another loop charged with. A
// rate.Limiter handed such a time moves its last update back, and the next
// charge is credited the interval a second time: tokens minted across
// loops (≤ 1.2% over the cap in the bench). The buckets' clock therefore
// never goes back: an older now is taken as the latest time seen, and the
// wait is counted from the caller's own clock.
func (b *buckets) charge(dir, n int, now time.Time) time.Duration {
	c := &b.clock[dir]
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.at(now)
	return debt(b.dir[dir], n, at) + at.Sub(now)
}

// monoClock is a bucket's time that never goes back; mu also orders the
// limiter's updates by it.
type monoClock struct {
	mu   sync.Mutex
	last time.Time
}

// at returns the later of now and the latest time seen, and remembers it.
// mu is held.
func (c *monoClock) at(now time.Time) time.Time {
	if now.Before(c.last) {
		return c.last
	}
	c.last = now
	return now
}

// minChunk keeps many flows on one slow cap from moving in tiny pieces.
// The bytes moved before paying are a one-off overshoot of flows × chunk
// plus a full bucket: at 100 Mbps with 64 flows, 16 KiB chunks put 2.1%
// over the cap in a 5 s run; 4 KiB keeps it under 1% even then, and a
// 100 Mbps cap is still only ~3,000 moves a second. (Chunks under the
// loop's 16 KiB read buffer go by read and write, not splice; 12.5 MB/s
// of copying is cheap.)
const minChunk = 4 << 10

// chunk is how much one flow may move in direction dir before paying, with
// burst the bucket's current burst.
func (b *buckets) chunk(dir, burst int) int {
	n := max(int(b.flows[dir].Load()), 1)
	return min(burst, max(burst/n, minChunk))
}

func newBuckets(mbps int) *buckets {
	lim, burst := bucketSize(mbps)
	b := &buckets{mbps: mbps, dir: [2]*rate.Limiter{
		rate.NewLimiter(lim, burst), rate.NewLimiter(lim, burst),
	}}
	b.burst.Store(int64(burst))
	return b
}

func (b *buckets) resize(mbps int, now time.Time) {
	if b.mbps == mbps {
		return
	}
	b.mbps = mbps
	lim, burst := bucketSize(mbps)
	// Loops read burst without a lock: it is cleared before the limiters
	// change and set after, so a loop never sizes a read by a burst the
	// limiters do not have yet (debt copes with one that just shrank).
	b.burst.Store(0)
	for dir, l := range b.dir {
		c := &b.clock[dir]
		c.mu.Lock()
		at := c.at(now)
		l.SetLimitAt(at, lim)
		l.SetBurstAt(at, burst)
		c.mu.Unlock()
	}
	b.burst.Store(int64(burst))
}

// minBurst keeps a slow cap from chopping flows into tiny splices.
const minBurst = 64 << 10

// bucketSize turns a cap in Mbps (10^6 bit/s) into bytes/s and a burst.
// The burst is 20 ms of the rate: big enough that one flow moving a burst
// per splice reaches the cap, small enough that over 10 s the bytes moved
// stay within 0.4% of the cap (a full bucket plus one chunk paid after the
// fact = two bursts = 40 ms). A cap of 0 or less means no shaping.
func bucketSize(mbps int) (rate.Limit, int) {
	if mbps <= 0 {
		return rate.Inf, 0
	}
	bps := float64(mbps) * 1e6 / 8
	return rate.Limit(bps), max(int(bps/50), minBurst)
}

// debt charges n bytes that moved through lim and returns how long the
// direction must wait before moving more. Paying after the fact keeps an
// idle interactive flow from pre-paying tokens it may never use. n is
// normally within the burst (one reservation, one lock); if a resize just
// shrank the burst, it is paid in pieces no larger than the new one (a
// larger reservation would never be granted), and the wait is the last
// piece's, which includes the earlier ones.
func debt(lim *rate.Limiter, n int, now time.Time) time.Duration {
	if r := lim.ReserveN(now, n); r.OK() {
		return r.DelayFrom(now)
	}
	var d time.Duration
	for n > 0 {
		burst := lim.Burst()
		if lim.Limit() == rate.Inf || burst <= 0 {
			return d // unshaped now, or a resize is half way
		}
		k := min(n, burst)
		r := lim.ReserveN(now, k)
		if !r.OK() {
			continue // the burst shrank again between Burst and ReserveN
		}
		n -= k
		d = max(d, r.DelayFrom(now))
	}
	return d
}
