package dataplane

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestGo: jobs run at once and side by side (a busy worker makes another);
// a finished job's worker takes the next one instead of a new goroutine;
// idle workers end.
func TestGo(t *testing.T) {
	idle := workerIdle.Swap(int64(200 * time.Millisecond))
	t.Cleanup(func() { workerIdle.Store(idle) })
	// Let the workers of earlier tests go (they wait out the old idle).
	time.Sleep(200 * time.Millisecond)
	base := runtime.NumGoroutine()

	// Three jobs that wait for each other: they only finish if all three
	// run at once.
	var wg sync.WaitGroup
	release := make(chan struct{})
	started := make(chan struct{}, 3)
	for range 3 {
		wg.Add(1)
		Go(func() {
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
	busy := runtime.NumGoroutine()

	// Idle workers take the next jobs: no new goroutine.
	for range 10 {
		done := make(chan struct{})
		Go(func() { close(done) })
		<-done
	}
	if n := runtime.NumGoroutine(); n > busy {
		t.Errorf("%d goroutines after ten jobs on idle workers, %d before", n, busy)
	}

	// And they end when idle long enough.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left, %d before the jobs", runtime.NumGoroutine(), base)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
