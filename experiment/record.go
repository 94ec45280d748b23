package experiment

import (
	"math"
	"sort"
	"sync"
	"time"
)

// BinWidth is the recording's resolution.
const BinWidth = 100 * time.Millisecond

// Failure kinds a client can see.
const (
	KindRefused = "refused" // connection refused
	KindReset   = "reset"   // reset or closed before the answer was whole
	KindTimeout = "timeout" // no answer within the request timeout
	KindBad     = "bad"     // an answer, but not a 2xx one from a backend
	KindDNS     = "dns"     // the name did not resolve
)

// Kinds lists the failure kinds in report order.
var Kinds = []string{KindRefused, KindReset, KindTimeout, KindBad, KindDNS}

// Bin is what happened in one 100 ms slice of the run.
type Bin struct {
	T       float64        `json:"t"` // seconds from the start to the bin's start
	OK      int            `json:"ok"`
	Failed  map[string]int `json:"failed,omitempty"`  // by kind
	Backend map[string]int `json:"backend,omitempty"` // answers by backend name
	DNS     map[string]int `json:"dns,omitempty"`     // answers the clients got, by address
	// Sampled from eplink: active flows by CLB, backend health (1 up, 0
	// down) and zone states ("EP ZONE" → state); nil when not sampled.
	Flows  map[string]int    `json:"flows,omitempty"`
	Health map[string]int    `json:"health,omitempty"`
	Zones  map[string]string `json:"zones,omitempty"`
	Stream int64             `json:"stream_bytes,omitempty"` // bytes the streams read
	P50    float64           `json:"p50_ms,omitempty"`       // latency of the OK requests
	P99    float64           `json:"p99_ms,omitempty"`       //
	lat    []float64         // ms
}

func (b *Bin) failed() int {
	n := 0
	for _, v := range b.Failed {
		n += v
	}
	return n
}

// Event is a timeline step as it happened.
type Event struct {
	Name   string  `json:"name"`
	T      float64 `json:"t"`
	What   string  `json:"what"`
	Result string  `json:"result,omitempty"`
	Err    string  `json:"error,omitempty"`
}

// recorder collects results into bins; safe for concurrent use.
type recorder struct {
	start  time.Time
	d      time.Duration
	parent *recorder // a load's recorder also records into the run's
	mu     sync.Mutex
	bins   []*Bin
	evs    []Event
	loads  map[string]*recorder
}

func newRecorder(start time.Time, d time.Duration) *recorder {
	r := &recorder{start: start, d: d, loads: map[string]*recorder{}}
	n := int((d + BinWidth - 1) / BinWidth)
	for i := range n {
		r.bins = append(r.bins, &Bin{T: float64(i) * BinWidth.Seconds()})
	}
	return r
}

// load returns the recorder of one load group, which records into r too.
func (r *recorder) load(name string) *recorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := newRecorder(r.start, r.d)
	l.parent = r
	r.loads[name] = l
	return l
}

// bin is the bin of t, nil past the end; r.mu held.
func (r *recorder) bin(t time.Time) *Bin {
	i := int(t.Sub(r.start) / BinWidth)
	if i < 0 || i >= len(r.bins) {
		return nil
	}
	return r.bins[i]
}

// result records one request that started at begin and ended at end.
func (r *recorder) result(begin, end time.Time, kind, backend string) {
	if r.parent != nil {
		r.parent.result(begin, end, kind, backend)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// A request counts in the bin where its answer (or failure) came.
	b := r.bin(end)
	if b == nil {
		return
	}
	if kind != "" {
		if b.Failed == nil {
			b.Failed = map[string]int{}
		}
		b.Failed[kind]++
		return
	}
	b.OK++
	b.lat = append(b.lat, float64(end.Sub(begin))/float64(time.Millisecond))
	if backend != "" {
		if b.Backend == nil {
			b.Backend = map[string]int{}
		}
		b.Backend[backend]++
	}
}

func (r *recorder) streamBytes(t time.Time, n int) {
	if r.parent != nil {
		r.parent.streamBytes(t, n)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.bin(t); b != nil {
		b.Stream += int64(n)
	}
}

// failure records a failure that is not a request's (a stream broke).
func (r *recorder) failure(t time.Time, kind string) {
	r.result(t, t, kind, "")
}

func (r *recorder) dnsAnswer(t time.Time, addr string) {
	if r.parent != nil {
		r.parent.dnsAnswer(t, addr)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.bin(t); b != nil {
		if b.DNS == nil {
			b.DNS = map[string]int{}
		}
		b.DNS[addr]++
	}
}

func (r *recorder) state(t time.Time, st eplinkState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b := r.bin(t); b != nil {
		b.Flows, b.Health, b.Zones = st.flows, st.health, st.zones
	}
}

func (r *recorder) event(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, e)
}

// finish computes the bins' percentiles and returns the recording.
func (r *recorder) finish() ([]*Bin, []Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.bins {
		sort.Float64s(b.lat)
		b.P50, b.P99 = percentile(b.lat, 0.50), percentile(b.lat, 0.99)
	}
	return r.bins, append([]Event(nil), r.evs...)
}

// percentile of sorted xs by the nearest-rank method; 0 for none.
func percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[max(0, min(i, len(xs)-1))]
}
