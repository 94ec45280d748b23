package cloudmonitor

import (
	"math"
	"sort"
	"strings"
	"sync"
)

// DefaultRetention is how many seconds of 1-second points a series keeps:
// 24 h. A point is a float32, so a series costs 4 B × 86400 ≈ 338 KiB once
// it has a day of points; the ring is allocated an hour (14 KiB) at a time
// as points arrive, so a series a minute old costs 14 KiB.
const DefaultRetention = 24 * 3600

// blockPoints is the allocation unit of a ring: an hour of points.
const blockPoints = 3600

// ring is a fixed number of points, allocated block by block on first
// write. An unallocated block reads as NaN (no data).
type ring struct {
	n      int64
	blocks [][]float32
}

func newRing(n int) ring {
	return ring{n: int64(n), blocks: make([][]float32, (n+blockPoints-1)/blockPoints)}
}

func (r *ring) get(i int64) float32 {
	b := r.blocks[i/blockPoints]
	if b == nil {
		return float32(math.NaN())
	}
	return b[i%blockPoints]
}

func (r *ring) set(i int64, v float32) {
	bi := i / blockPoints
	b := r.blocks[bi]
	if b == nil {
		size := min(int64(blockPoints), r.n-bi*blockPoints)
		b = make([]float32, size)
		for j := range b {
			b[j] = float32(math.NaN())
		}
		r.blocks[bi] = b
	}
	b[i%blockPoints] = v
}

// clear marks point i as no data; an unallocated block already is.
func (r *ring) clear(i int64) {
	if b := r.blocks[i/blockPoints]; b != nil {
		b[i%blockPoints] = float32(math.NaN())
	}
}

// series is one metric of one object, at 1-second resolution, in a ring:
// the point of second t is at t % n. NaN is "no data".
type series struct {
	meta  *MetricMeta
	owner string
	dims  []kv // in meta.Dimensions order, userId first
	key   string
	ring  ring
	first int64 // first second written
	last  int64 // last second written; 0 = never
}

type kv struct{ k, v string }

func (s *series) dim(k string) string {
	for _, d := range s.dims {
		if d.k == k {
			return d.v
		}
	}
	return ""
}

// at returns the point of second t, NaN when there is none.
func (s *series) at(t int64) float32 {
	n := s.ring.n
	if s.last == 0 || t > s.last || t < s.first || t <= s.last-n {
		return float32(math.NaN())
	}
	return s.ring.get(t % n)
}

// put stores v at second t (t ≥ s.last), clearing the seconds skipped.
func (s *series) put(t int64, v float32) {
	n := s.ring.n
	if s.last == 0 {
		s.first = t
	} else if t <= s.last {
		s.ring.set(t%n, v)
		return
	} else {
		gap := t - s.last - 1
		if gap > n {
			gap = n
		}
		for i := int64(1); i <= gap; i++ {
			s.ring.clear((s.last + i) % n)
		}
	}
	s.ring.set(t%n, v)
	s.last = t
}

// aggregate is the statistics of the points in [from, to).
type aggregate struct {
	n                  int
	sum, min, max, avg float64
}

func (s *series) aggregate(from, to int64) aggregate {
	var a aggregate
	a.min, a.max = math.Inf(1), math.Inf(-1)
	if s.last == 0 {
		return a
	}
	if lo := s.last - s.ring.n + 1; from < lo {
		from = lo
	}
	if from < s.first {
		from = s.first
	}
	if to > s.last+1 {
		to = s.last + 1
	}
	n := s.ring.n
	for t := from; t < to; t++ {
		v := s.ring.get(t % n)
		if v != v { // NaN
			continue
		}
		f := float64(v)
		a.n++
		a.sum += f
		a.min = math.Min(a.min, f)
		a.max = math.Max(a.max, f)
	}
	if a.n > 0 {
		a.avg = a.sum / float64(a.n)
	}
	return a
}

func (a aggregate) stat(name string) float64 {
	switch name {
	case "Sum":
		return a.sum
	case "Maximum":
		return a.max
	case "Minimum":
		return a.min
	}
	return a.avg
}

// seriesDB holds every series. Writers are the sampler (once a second);
// readers are the evaluator and the API.
type seriesDB struct {
	mu        sync.RWMutex
	retention int
	byKey     map[string]*series
	byMetric  map[string][]*series // sorted by key
	gen       uint64               // bumped when a series is added or removed
}

func newSeriesDB(retention int) *seriesDB {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &seriesDB{retention: retention, byKey: map[string]*series{}, byMetric: map[string][]*series{}}
}

func seriesKey(metric string, dims []kv) string {
	var b strings.Builder
	b.WriteString(metric)
	for _, d := range dims {
		b.WriteByte('|')
		b.WriteString(d.k)
		b.WriteByte('=')
		b.WriteString(d.v)
	}
	return b.String()
}

// point is one second's value of one series, as the sampler produces it.
type point struct {
	meta *MetricMeta
	dims []kv // userId first
	v    float64
}

// write stores one second of points; series not among them get no point
// (no data) for that second, and a series with no point for a whole
// retention is forgotten.
func (db *seriesDB) write(t int64, pts []point) {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, p := range pts {
		k := seriesKey(p.meta.Name, p.dims)
		s := db.byKey[k]
		if s == nil {
			s = &series{meta: p.meta, owner: p.dims[0].v, dims: p.dims, key: k, ring: newRing(db.retention)}
			db.byKey[k] = s
			l := append(db.byMetric[p.meta.Name], s)
			sort.Slice(l, func(i, j int) bool { return l[i].key < l[j].key })
			db.byMetric[p.meta.Name] = l
			db.gen++
		}
		s.put(t, float32(p.v))
	}
	for k, s := range db.byKey {
		if t-s.last > int64(db.retention) {
			delete(db.byKey, k)
			l := db.byMetric[s.meta.Name]
			for i := range l {
				if l[i] == s {
					db.byMetric[s.meta.Name] = append(l[:i:i], l[i+1:]...)
					break
				}
			}
			db.gen++
		}
	}
}

// match reports whether the series has every dimension of filter (userId
// aside: ownership is checked separately).
func (s *series) match(filter map[string]string) bool {
	for k, v := range filter {
		if k == "userId" {
			continue
		}
		if s.dim(k) != v {
			return false
		}
	}
	return true
}

// find returns the owner's series of metric matching any of filters (all of
// them when filters is empty). The caller holds db.mu for reading.
func (db *seriesDB) find(owner, metric string, filters []map[string]string) []*series {
	var out []*series
	for _, s := range db.byMetric[metric] {
		if s.owner != owner {
			continue
		}
		if len(filters) == 0 {
			out = append(out, s)
			continue
		}
		for _, f := range filters {
			if s.match(f) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}
