package rpc

import (
	"hash/maphash"
	"sync"
	"time"
)

// nonceTable remembers the SignatureNonces of accepted requests so a replay
// is refused. A nonce only has to be remembered until its request's
// Timestamp leaves the accepted window: after that a replay fails the
// Timestamp check anyway. So each entry carries that expiry, and entries
// are grouped in one-minute buckets by expiry and dropped a bucket at a
// time, which keeps the sweep cheap and the memory proportional to the
// requests of the last window.
//
// Entries are 64-bit hashes of (AccessKeyId, nonce) under a per-process
// random seed: ~46 bytes each (measured), and a false "nonce used" needs a
// collision among the live entries (below 1e-12 per request at the default
// cap). When the cap is reached the table refuses rather than forgets:
// forgetting early would let a replay through.
type nonceTable struct {
	window time.Duration
	max    int

	mu      sync.Mutex
	seed    maphash.Seed
	expiry  map[uint64]int64   // hash → expiry, Unix seconds
	buckets map[int64][]uint64 // expiry minute (rounded up) → hashes
	swept   int64              // the minute of the last sweep
}

func newNonceTable(window time.Duration, max int) *nonceTable {
	return &nonceTable{
		window:  window,
		max:     max,
		seed:    maphash.MakeSeed(),
		expiry:  make(map[uint64]int64),
		buckets: make(map[int64][]uint64),
	}
}

// nonceResult is what use says of a nonce.
type nonceResult int

const (
	nonceFresh nonceResult = iota // recorded
	nonceUsed                     // seen before, within its window
	nonceFull                     // table at its cap: nothing recorded
)

// use records (accessKeyID, nonce) for a request stamped ts, unless it is
// already there.
func (t *nonceTable) use(now, ts time.Time, accessKeyID, nonce string) nonceResult {
	var h maphash.Hash
	h.SetSeed(t.seed)
	h.WriteString(accessKeyID)
	h.WriteByte(0)
	h.WriteString(nonce)
	key := h.Sum64()
	exp := ts.Add(t.window).Unix()
	nowSec := now.Unix()

	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep(nowSec)
	if e, ok := t.expiry[key]; ok && e > nowSec {
		return nonceUsed
	}
	if len(t.expiry) >= t.max {
		return nonceFull
	}
	t.expiry[key] = exp
	b := (exp + 59) / 60
	t.buckets[b] = append(t.buckets[b], key)
	return nonceFresh
}

// sweep drops the buckets whose every entry has expired by now. It runs at
// most once a minute.
func (t *nonceTable) sweep(now int64) {
	minute := now / 60
	if minute == t.swept {
		return
	}
	t.swept = minute
	for b, keys := range t.buckets {
		if b*60 > now {
			continue
		}
		for _, k := range keys {
			// The key may have been recorded again, later, in another
			// bucket after expiring here: leave that entry alone.
			if e, ok := t.expiry[k]; ok && (e+59)/60 == b {
				delete(t.expiry, k)
			}
		}
		delete(t.buckets, b)
	}
}

// len returns the number of entries held (expired ones included until
// their bucket is swept).
func (t *nonceTable) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.expiry)
}
