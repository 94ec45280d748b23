package dataplane

import "time"

// workers runs the per-flow goroutines (the accept path with the
// backend→client copy, and the client→backend copy). A goroutine whose
// flow ended waits a moment for the next one instead of exiting, so a new
// connection usually starts on a stack already grown to what the accept
// and dial path need; a fresh goroutine would copy its stack a few times
// on the way (runtime.newstack was about 7% of BenchmarkConnect's CPU).
type workers struct {
	work chan func()
	idle time.Duration
	stop chan struct{} // closed at shutdown: idle workers exit
}

// workerIdle is how long a worker waits for the next flow; under
// connection churn one arrives within microseconds.
const workerIdle = 2 * time.Second

func newWorkers() *workers {
	return &workers{work: make(chan func()), idle: workerIdle, stop: make(chan struct{})}
}

// run runs fn on an idle worker, or on a new one if none is waiting.
func (w *workers) run(fn func()) {
	select {
	case w.work <- fn:
	default:
		go w.loop(fn)
	}
}

func (w *workers) loop(fn func()) {
	var t *time.Timer
	for {
		fn()
		fn = nil
		if t == nil {
			t = time.NewTimer(w.idle)
		} else {
			t.Reset(w.idle)
		}
		select {
		case fn = <-w.work:
		case <-t.C:
			return
		case <-w.stop:
			t.Stop()
			return
		}
	}
}

// close makes idle workers exit; busy ones exit after their flow.
func (w *workers) close() { close(w.stop) }
