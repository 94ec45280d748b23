package dataplane

import (
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
	// shaped mirrors "the limiters are finite" for the data path: reading
	// it is one atomic load, where Limiter.Limit takes the limiter's mutex,
	// which every flow of the endpoint would contend for on every message.
	shaped atomic.Bool
	// flows counts the flows copying in each direction. Every flow moves
	// one chunk before it pays for it, so the unpaid bytes in flight are
	// flows × chunk: sharing one burst among them keeps that bounded by
	// about one burst however many flows there are (64 flows each moving a
	// whole burst unpaid overshot a 100 Mbps cap by a quarter over 10 s).
	flows [2]atomic.Int32
}

// minChunk keeps many flows on one slow cap from splicing in tiny pieces;
// 64 flows × 16 KiB unpaid is under 1% of 10 s at 100 Mbps.
const minChunk = 16 << 10

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
	b.shaped.Store(lim != rate.Inf)
	return b
}

func (b *buckets) resize(mbps int, now time.Time) {
	if b.mbps == mbps {
		return
	}
	b.mbps = mbps
	lim, burst := bucketSize(mbps)
	// Loops read shaped without a lock: it is cleared before the limiters
	// go unlimited and set after they are finite, so a loop that sees it
	// set finds a finite limit (the data path still checks the burst).
	if lim == rate.Inf {
		b.shaped.Store(false)
	}
	for _, l := range b.dir {
		l.SetLimitAt(now, lim)
		l.SetBurstAt(now, burst)
	}
	b.shaped.Store(lim != rate.Inf)
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

// reserve charges n bytes that already moved (the caller guarantees
// n <= lim.Burst()) and returns how long the flow must wait before moving
// more, or ok=false if n exceeds the burst (it changed under us).
func reserve(lim *rate.Limiter, now time.Time, n int) (time.Duration, bool) {
	r := lim.ReserveN(now, n)
	if !r.OK() {
		return 0, false
	}
	return r.DelayFrom(now), true
}

// debt charges n bytes that moved through lim, in pieces no larger than
// its burst (a larger reservation would never be granted), and returns how
// long the direction must wait before moving more: the delay of the last
// piece, which includes the earlier ones. Paying after the fact keeps an
// idle interactive flow from pre-paying tokens it may never use.
func debt(lim *rate.Limiter, n int, now time.Time) time.Duration {
	var d time.Duration
	for n > 0 {
		if lim.Limit() == rate.Inf || lim.Burst() <= 0 {
			return 0 // unshaped, or a resize is half way
		}
		k := min(n, lim.Burst())
		if k <= 0 {
			k = n
		}
		w, ok := reserve(lim, now, k)
		if !ok {
			continue // burst shrank between Burst and ReserveN; take a smaller piece
		}
		n -= k
		d = max(d, w)
	}
	return d
}
