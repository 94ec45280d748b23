package impair

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// fixed is a Source whose impairment the test sets.
type fixed struct {
	mu      sync.Mutex
	im      Impairment
	changed chan struct{}
}

func (f *fixed) Current() (Impairment, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.im, f.changed
}

func (f *fixed) set(im Impairment) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.im = im
	close(f.changed)
	f.changed = make(chan struct{})
}

// TestStallEnds: a stalled write goes on when the stall is lifted, and
// returns net.ErrClosed when the conn is closed instead.
func TestStallEnds(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go io.Copy(io.Discard, b)
	src := &fixed{im: Impairment{Stall: true}, changed: make(chan struct{})}
	c := NewConn(a, src)
	done := make(chan error, 1)
	go func() { _, err := c.Write([]byte("x")); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a stalled write returned %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	src.set(Impairment{})
	if err := <-done; err != nil {
		t.Fatalf("after the stall: %v", err)
	}
	src.set(Impairment{Stall: true})
	go func() { _, err := c.Write([]byte("x")); done <- err }()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("closed while stalled: %v", err)
	}
}

func TestStringParses(t *testing.T) {
	for _, im := range []Impairment{{}, {Latency: time.Second, Jitter: time.Millisecond, Loss: 0.125,
		Bandwidth: 5, ResetAfter: 7, Stall: true}} {
		got, err := Parse(im.String())
		if err != nil || got != im {
			t.Errorf("%v: Parse(String) = %v, %v", im, got, err)
		}
	}
}
