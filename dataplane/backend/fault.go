package backend

import (
	"fmt"
	"net"
	"sync"

	"eplink/dataplane/impair"
)

// Fault modes of a FaultListener, as a failover experiment injects them.
const (
	FaultNone      = "none"      // serving
	FaultStop      = "stop"      // the port is closed: connections are refused, open ones reset
	FaultRefuse    = "refuse"    // connections are accepted and reset at once, open ones reset
	FaultBlackhole = "blackhole" // connections are accepted and never answered (a hung process)
)

// FaultModes lists the modes Set accepts.
var FaultModes = []string{FaultNone, FaultStop, FaultRefuse, FaultBlackhole}

// FaultListener is the listener of a demo backend whose failure can be
// switched on and off: Serve it as any listener. While stopped its Accept
// waits (the server does not notice) and the port is closed; back up, it
// listens on the same address again.
//
// A TCP health check (eplink's) sees stop as down, and refuse and
// blackhole as up: the port still accepts, as a hung process's does.
type FaultListener struct {
	addr string

	mu      sync.Mutex
	inner   net.Listener // nil while stopped
	mode    string
	changed chan struct{} // closed and replaced on every change
	conns   map[net.Conn]struct{}
	held    []net.Conn // accepted while blackholed
	closed  bool

	impair        Impairment
	impairChanged chan struct{} // closed and replaced when impair changes
}

// NewFaultListener wraps ln, serving.
func NewFaultListener(ln net.Listener) *FaultListener {
	return &FaultListener{addr: ln.Addr().String(), inner: ln, mode: FaultNone,
		changed: make(chan struct{}), conns: map[net.Conn]struct{}{}, impairChanged: make(chan struct{})}
}

// Accept implements the net.Listener interface.
func (l *FaultListener) Accept() (net.Conn, error) {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return nil, net.ErrClosed
		}
		inner, changed := l.inner, l.changed
		l.mu.Unlock()
		if inner == nil {
			<-changed // stopped: wait for up (or Close)
			continue
		}
		c, err := inner.Accept()
		l.mu.Lock()
		if err != nil {
			stopped := l.inner != inner && !l.closed
			l.mu.Unlock()
			if stopped {
				continue
			}
			return nil, err
		}
		switch l.mode {
		case FaultRefuse:
			l.mu.Unlock()
			reset(c)
			continue
		case FaultBlackhole:
			l.held = append(l.held, c)
			l.mu.Unlock()
			continue
		}
		ic := &impairedConn{Conn: impair.NewConn(c, l), l: l}
		l.conns[ic] = struct{}{}
		l.mu.Unlock()
		return ic, nil
	}
}

// Set switches the fault mode.
func (l *FaultListener) Set(mode string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return net.ErrClosed
	}
	switch mode {
	case FaultNone:
		if l.inner == nil {
			ln, err := net.Listen("tcp", l.addr)
			if err != nil {
				return fmt.Errorf("listening on %s again: %w", l.addr, err)
			}
			l.inner = ln
		}
		l.dropHeld()
	case FaultStop:
		if l.inner != nil {
			l.inner.Close()
			l.inner = nil
		}
		l.resetAll()
	case FaultRefuse:
		if l.inner == nil {
			return fmt.Errorf("%s is stopped: bring it up before it can refuse", l.addr)
		}
		l.resetAll()
	case FaultBlackhole:
		if l.inner == nil {
			return fmt.Errorf("%s is stopped: bring it up before it can blackhole", l.addr)
		}
	default:
		return fmt.Errorf("unknown fault mode %q (want one of %v)", mode, FaultModes)
	}
	l.mode = mode
	close(l.changed)
	l.changed = make(chan struct{})
	return nil
}

// Mode is the current fault mode.
func (l *FaultListener) Mode() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mode
}

// resetAll resets every open connection, as a crashed process's are;
// l.mu held.
func (l *FaultListener) resetAll() {
	for c := range l.conns {
		c.(*impairedConn).Abort()
	}
	clear(l.conns)
	l.dropHeld()
}

func (l *FaultListener) dropHeld() {
	for _, c := range l.held {
		reset(c)
	}
	l.held = nil
}

// Close implements the net.Listener interface.
func (l *FaultListener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	l.dropHeld()
	close(l.changed)
	l.changed = make(chan struct{})
	if l.inner != nil {
		return l.inner.Close()
	}
	return nil
}

// Addr implements the net.Listener interface.
func (l *FaultListener) Addr() net.Addr {
	a, _ := net.ResolveTCPAddr("tcp", l.addr)
	return a
}

// reset closes c with a RST rather than a FIN.
func reset(c net.Conn) { impair.Reset(c) }
