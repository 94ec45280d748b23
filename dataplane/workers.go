package dataplane

import (
	"sync/atomic"
	"time"
)

// Go runs f on a flow worker: a goroutine that is idle after carrying an
// earlier flow, or a new one when none is. A flow's goroutines go deep (a
// backend dial, gVisor's TCP from the copy down to the TUN write), and a
// new goroutine's stack grows there by copying, several times over: at
// 5,000 new connections/s that copying was 6% of the netns front end's
// CPU. A worker's stack has grown already. A worker idle for 10 s ends,
// so a burst of flows leaves no goroutines behind for long.
func Go(f func()) { flowWorkers.run(f) }

var flowWorkers = newWorkers(10 * time.Second)

// workers is a set of goroutines that take one job after another.
type workers struct {
	idle  chan func() // unbuffered: a send succeeds when a worker waits
	after time.Duration
	live  atomic.Int32 // running or idle
}

func newWorkers(idleFor time.Duration) *workers {
	return &workers{idle: make(chan func()), after: idleFor}
}

func (w *workers) run(f func()) {
	select {
	case w.idle <- f: // an idle worker takes it
	default:
		w.live.Add(1)
		go w.work(f)
	}
}

func (w *workers) work(f func()) {
	defer w.live.Add(-1)
	t := time.NewTimer(w.after)
	defer t.Stop()
	for {
		f()
		t.Reset(w.after)
		select {
		case f = <-w.idle:
		case <-t.C:
			return
		}
	}
}
