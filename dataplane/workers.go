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
// CPU. A worker's stack has grown already. A worker idle for workerIdle
// ends, so a burst of flows leaves no goroutines behind for long.
func Go(f func()) {
	select {
	case idleWorkers <- f: // an idle worker takes it
	default:
		go work(f)
	}
}

// idleWorkers hands a job to a worker waiting for one; unbuffered, a send
// succeeds only when one is.
var idleWorkers = make(chan func())

// workerIdle is a time.Duration; tests shorten it.
var workerIdle atomic.Int64

func init() { workerIdle.Store(int64(10 * time.Second)) }

func work(f func()) {
	idle := time.Duration(workerIdle.Load())
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		f()
		t.Reset(idle)
		select {
		case f = <-idleWorkers:
		case <-t.C:
			return
		}
	}
}
