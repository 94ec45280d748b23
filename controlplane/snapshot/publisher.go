package snapshot

import (
	"context"
	"sync"
	"sync/atomic"
)

// Publisher holds the latest Snapshot and tells readers when a newer one is
// there. Readers that fall behind skip straight to the latest: they only ever
// need what should be now, not the history.
//
// The zero value is ready to use; Load returns an empty snapshot until the
// first Publish.
type Publisher struct {
	cur atomic.Pointer[Snapshot]

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every Publish
}

// Publish makes s the latest snapshot. s must not be modified afterwards.
func (p *Publisher) Publish(s *Snapshot) {
	p.cur.Store(s)
	p.mu.Lock()
	if p.changed != nil {
		close(p.changed)
	}
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

// Load returns the latest snapshot (never nil).
func (p *Publisher) Load() *Snapshot {
	if s := p.cur.Load(); s != nil {
		return s
	}
	return Empty()
}

// Changed returns a channel that is closed when a snapshot newer than the
// one Load returns now is published. Take it before calling Load.
func (p *Publisher) Changed() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.changed == nil {
		p.changed = make(chan struct{})
	}
	return p.changed
}

// Watch calls apply with the latest snapshot now and after every change,
// until ctx ends. apply runs on the caller's goroutine, one call at a time.
func (p *Publisher) Watch(ctx context.Context, apply func(*Snapshot)) {
	for {
		ch := p.Changed()
		apply(p.Load())
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}
