// Package impair slows or breaks what a connection sends, as toxiproxy's
// toxics act on a flow: latency (± jitter) before each write, a bandwidth
// cap, a reset after N bytes, a stall, and "loss" as a flow can show it.
// The demo backends (dataplane/backend) impair what they send with it, and
// the data plane what it sends to the clients of an impaired ENI, zone or
// CLB.
//
//	Source.Current ──► Conn.Write: stall? ─► latency ± jitter ─► loss delay ─► cut at reset-after ─► bandwidth ─► inner conn
//
// An impairment is read at every write, so changing it acts on the open
// connections at once; a stalled write waits for the change.
package impair

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/time/rate"
)

// RetransmitDelay is what a lost segment costs a flow: Linux's minimum
// retransmission timeout (TCP_RTO_MIN, 200 ms). A flow cannot lose bytes;
// TCP would resend them, so a client sees a loss as this delay.
const RetransmitDelay = 200 * time.Millisecond

// Impairment is what happens to the bytes a connection sends. The zero
// value impairs nothing.
type Impairment struct {
	// Latency (± a uniform Jitter) is added before each write.
	Latency, Jitter time.Duration
	// Loss is the share (0–1) of writes that are "lost" once: on a flow
	// that means held RetransmitDelay, as TCP's retransmission would hold
	// them; the client sees a delay, never an error.
	Loss float64
	// Bandwidth caps each connection's sending, in bytes per second; 0 is
	// no cap.
	Bandwidth int
	// ResetAfter resets a connection once it has sent this many bytes; 0 is
	// never.
	ResetAfter int64
	// Stall holds every write until the impairment is lifted.
	Stall bool
}

// Zero reports whether the impairment impairs nothing.
func (im Impairment) Zero() bool { return im == Impairment{} }

// Source gives a connection's impairment now, and a channel closed when it
// changes.
type Source interface {
	Current() (Impairment, <-chan struct{})
}

// Conn is a connection whose writes go through its source's impairment.
// Reads pass through.
type Conn struct {
	net.Conn
	src       Source
	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.Mutex // one Write at a time
	sent      int64
	limiter   *rate.Limiter
}

// NewConn wraps c.
func NewConn(c net.Conn, src Source) *Conn {
	return &Conn{Conn: c, src: src, closed: make(chan struct{})}
}

// Write implements the net.Conn interface.
func (c *Conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	im, changed := c.src.Current()
	for im.Stall {
		select {
		case <-changed:
			im, changed = c.src.Current()
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	d := im.Latency
	if d > 0 && im.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(2*im.Jitter)+1)) - im.Jitter
	}
	if im.Loss > 0 && rand.Float64() < im.Loss {
		d += RetransmitDelay
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.closed:
			t.Stop()
			return 0, net.ErrClosed
		}
	}
	cut := false
	if im.ResetAfter > 0 && c.sent+int64(len(p)) >= im.ResetAfter {
		p, cut = p[:max(0, im.ResetAfter-c.sent)], true
	}
	n, err := c.write(p, im.Bandwidth)
	c.sent += int64(n)
	if err == nil && cut {
		c.Abort()
		err = syscall.ECONNRESET
	}
	return n, err
}

// write sends p, at most bw bytes per second when bw > 0.
func (c *Conn) write(p []byte, bw int) (int, error) {
	if bw <= 0 {
		return c.Conn.Write(p)
	}
	burst := min(bw, 16<<10)
	if c.limiter == nil {
		c.limiter = rate.NewLimiter(rate.Limit(bw), burst)
	} else if c.limiter.Limit() != rate.Limit(bw) {
		c.limiter.SetLimit(rate.Limit(bw))
		c.limiter.SetBurst(burst)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	total := 0
	for len(p) > 0 {
		k := min(len(p), burst)
		if err := c.limiter.WaitN(ctx, k); err != nil {
			return total, net.ErrClosed
		}
		n, err := c.Conn.Write(p[:k])
		total += n
		if err != nil {
			return total, err
		}
		p = p[k:]
	}
	return total, nil
}

// Close implements the net.Conn interface; a write waiting on the
// impairment returns.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// Abort closes the connection with an RST rather than a FIN.
func (c *Conn) Abort() {
	c.closeOnce.Do(func() { close(c.closed) })
	Reset(c.Conn)
}

// CloseWrite passes a half-close on to the inner connection.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Reset closes c with an RST rather than a FIN, where c can send one.
func Reset(c net.Conn) {
	switch c := c.(type) {
	case interface{ Abort() }: // a netstack conn, or a Conn
		c.Abort()
	case *net.TCPConn:
		c.SetLinger(0)
	}
	c.Close()
}

// keys are the words of a spec, in order.
var keys = []string{"latency", "jitter", "loss", "bandwidth", "reset-after", "stall"}

// Parse reads a spec such as "latency=50ms jitter=5ms", "loss=10%",
// "bandwidth=100000" (bytes/s), "reset-after=4096" (bytes), "stall", or
// "none" (no impairment); words may be separated by spaces or commas.
func Parse(spec string) (Impairment, error) {
	var im Impairment
	words := strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' })
	if len(words) == 0 {
		return im, errors.New("empty impairment: want latency=D, jitter=D, loss=PCT%, bandwidth=BYTES/S, reset-after=BYTES, stall, or none")
	}
	for _, w := range words {
		k, v, _ := strings.Cut(w, "=")
		var err error
		switch k {
		case "none":
			if len(words) > 1 {
				return im, errors.New("none goes alone")
			}
		case "stall":
			im.Stall = true
		case "latency":
			im.Latency, err = time.ParseDuration(v)
		case "jitter":
			im.Jitter, err = time.ParseDuration(v)
		case "loss":
			im.Loss, err = parsePercent(v)
		case "bandwidth":
			im.Bandwidth, err = strconv.Atoi(v)
		case "reset-after":
			im.ResetAfter, err = strconv.ParseInt(v, 10, 64)
		default:
			return im, fmt.Errorf("unknown impairment %q (want %s or none)", k, strings.Join(keys, ", "))
		}
		if err != nil {
			return im, fmt.Errorf("%s: %q is not a valid value", k, v)
		}
	}
	return im, im.Check()
}

// parsePercent reads "10%" as 0.1.
func parsePercent(v string) (float64, error) {
	s, ok := strings.CutSuffix(v, "%")
	if !ok {
		return 0, errors.New("want a percentage")
	}
	f, err := strconv.ParseFloat(s, 64)
	return f / 100, err
}

// Check reports what makes the impairment invalid.
func (im Impairment) Check() error {
	if im.Latency < 0 || im.Jitter < 0 || im.Bandwidth < 0 || im.ResetAfter < 0 {
		return errors.New("latency, jitter, bandwidth and reset-after must not be negative")
	}
	if im.Jitter > im.Latency {
		return errors.New("jitter must not exceed the latency")
	}
	if !(im.Loss >= 0 && im.Loss <= 1) {
		return errors.New("loss must be between 0% and 100%")
	}
	return nil
}

// String is the impairment as Parse reads it.
func (im Impairment) String() string {
	var w []string
	if im.Latency > 0 {
		w = append(w, "latency="+im.Latency.String())
	}
	if im.Jitter > 0 {
		w = append(w, "jitter="+im.Jitter.String())
	}
	if im.Loss > 0 {
		w = append(w, "loss="+strconv.FormatFloat(im.Loss*100, 'g', -1, 64)+"%")
	}
	if im.Bandwidth > 0 {
		w = append(w, "bandwidth="+strconv.Itoa(im.Bandwidth))
	}
	if im.ResetAfter > 0 {
		w = append(w, "reset-after="+strconv.FormatInt(im.ResetAfter, 10))
	}
	if im.Stall {
		w = append(w, "stall")
	}
	if len(w) == 0 {
		return "none"
	}
	return strings.Join(w, " ")
}
