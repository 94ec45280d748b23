package controlplane

import (
	"container/heap"
	"sync"
	"time"
)

// scheduler completes transitions when they fall due: a min-heap of due
// times and one timer. Entries are hints: settling an object that has
// nothing due is a no-op, and one that is still busy re-schedules itself.
type scheduler struct {
	cp    *ControlPlane
	mu    sync.Mutex
	h     dueHeap
	wake  chan struct{}
	timer *time.Timer
}

type dueItem struct {
	at      time.Time
	id      string
	service bool
}

type dueHeap []dueItem

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueItem)) }
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func (s *scheduler) init(cp *ControlPlane) {
	s.cp = cp
	s.wake = make(chan struct{}, 1)
	s.timer = time.NewTimer(time.Hour)
}

func (s *scheduler) add(at time.Time, id string, service bool) {
	s.mu.Lock()
	heap.Push(&s.h, dueItem{at: at, id: id, service: service})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scheduler) loop() {
	defer s.cp.wg.Done()
	defer s.timer.Stop()
	for {
		now := s.cp.now()
		var ready []dueItem
		s.mu.Lock()
		for len(s.h) > 0 && !s.h[0].at.After(now) {
			ready = append(ready, heap.Pop(&s.h).(dueItem))
		}
		wait := time.Hour
		if len(s.h) > 0 {
			wait = s.h[0].at.Sub(now)
		}
		s.mu.Unlock()
		if len(ready) > 0 {
			s.cp.settleDue(ready)
			continue
		}
		s.timer.Reset(wait)
		select {
		case <-s.timer.C:
		case <-s.wake:
			if !s.timer.Stop() {
				select {
				case <-s.timer.C:
				default:
				}
			}
		case <-s.cp.closed:
			return
		}
	}
}
