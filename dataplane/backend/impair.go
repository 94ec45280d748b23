package backend

import (
	"eplink/dataplane/impair"
)

// Impairment slows or breaks what a backend sends, on the flows already
// open and the ones to come (dataplane/impair: latency, jitter, loss,
// bandwidth, reset after N bytes, stall). It works on the backend leg in
// any front end, and on bytes, not packets.
type Impairment = impair.Impairment

// ParseImpairment reads a spec such as "latency=50ms jitter=5ms" (see
// impair.Parse).
func ParseImpairment(spec string) (Impairment, error) { return impair.Parse(spec) }

// Impair sets the impairment of the backend's flows; the zero Impairment
// lifts it.
func (l *FaultListener) Impair(im Impairment) error {
	if err := im.Check(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.impair = im
	close(l.impairChanged)
	l.impairChanged = make(chan struct{})
	return nil
}

// Impairment is the current impairment.
func (l *FaultListener) Impairment() Impairment {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.impair
}

// Current implements the impair.Source interface.
func (l *FaultListener) Current() (Impairment, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.impair, l.impairChanged
}

// impairedConn is a served connection: its writes go through the
// listener's impairment, and it leaves the listener's set when closed.
type impairedConn struct {
	*impair.Conn
	l *FaultListener
}

// Close implements the net.Conn interface; it leaves the listener's set.
func (c *impairedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}
