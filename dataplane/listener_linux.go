//go:build linux

package dataplane

import (
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// startLoops starts n event loops (GOMAXPROCS if n <= 0).
func (p *Proxy) startLoops(n int) error {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	loops := make([]*loop, 0, n)
	for range n {
		lp, err := newLoop(p)
		if err != nil {
			for _, lp := range loops {
				lp.close()
			}
			return err
		}
		loops = append(loops, lp)
	}
	for _, lp := range loops {
		lp.peers = loops
		go lp.run()
	}
	p.loops = loops
	return nil
}

// stopLoops resets every flow and ends the loops.
func (p *Proxy) stopLoops() {
	for _, lp := range p.loops {
		lp.stop()
	}
	p.loops = nil
}

// listen opens the listening socket for r and has every loop watch it.
func (p *Proxy) listen(r *route, e *eniFlows) (*listener, error) {
	if len(p.loops) == 0 {
		return nil, errLoopGone
	}
	fd, err := listenTCP(r.addr, p.opts.keepAlive())
	if err != nil {
		return nil, err
	}
	l := &listener{addr: r.addr, eniID: r.eniID, fd: fd, eni: e}
	for _, lp := range p.loops {
		lp.post(func() { lp.addListener(l) })
	}
	return l, nil
}

// closeListener stops every loop watching l, then closes its socket: no
// loop can be accepting on the descriptor (or on a new socket that reused
// its number) when it goes.
func (p *Proxy) closeListener(l *listener) {
	if !l.closed.CompareAndSwap(false, true) {
		return
	}
	var wg sync.WaitGroup
	for _, lp := range p.loops {
		wg.Add(1)
		if !lp.post(func() { lp.removeListener(l); wg.Done() }) {
			wg.Done()
		}
	}
	wg.Wait()
	unix.Close(l.fd)
}

// refuse resets an accepted connection (SO_LINGER 0, then close, sends an
// RST) and counts the reason.
func (p *Proxy) refuse(fd int, r *route, reason string) {
	resetOnClose(fd)
	closeFD(fd)
	p.count(r, reason)
}

// recheckDialing has every loop decide again for its flows still
// connecting to a backend (loop.recheckDialing), once a new route table
// is stored.
func (p *Proxy) recheckDialing() {
	for _, lp := range p.loops {
		lp.post(lp.recheckDialing)
	}
}
