package dataplane

import (
	"sync"
	"testing"
	"time"
)

// TestWorkers: jobs run at once and side by side (a busy worker makes
// another); a finished job's worker takes the next one instead of a new
// goroutine; idle workers end.
func TestWorkers(t *testing.T) {
	w := newWorkers(100 * time.Millisecond)

	// Three jobs that wait for each other: they only finish if all three
	// run at once.
	var wg sync.WaitGroup
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	for range 3 {
		wg.Add(1)
		w.run(func() {
			defer wg.Done()
			started <- struct{}{}
			<-release
		})
	}
	for range 3 {
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("a job did not start while others ran")
		}
	}
	close(release)
	wg.Wait()

	// The idle workers take the next jobs: no new one.
	for range 10 {
		done := make(chan struct{})
		w.run(func() { close(done) })
		<-done
	}
	// One more at most: the first job may come before the three are back
	// waiting for one.
	if n := w.live.Load(); n > 4 {
		t.Errorf("%d workers after ten jobs one at a time, after 3 did three at once", n)
	}

	// And they end when idle long enough.
	deadline := time.Now().Add(10 * time.Second)
	for w.live.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d workers left idle", w.live.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
