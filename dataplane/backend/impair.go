package backend

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

// Impairment slows or breaks what a backend sends, on the flows already
// open and the ones to come, as toxiproxy's toxics act on a flow: it works
// on the backend leg in any front end, and on bytes, not packets (there is
// no loss: TCP would hide it as a delay anyway).
type Impairment struct {
	// Latency (± a uniform Jitter) is added before each write of an answer.
	Latency, Jitter time.Duration
	// Bandwidth caps each connection's sending, in bytes per second; 0 is
	// no cap.
	Bandwidth int
	// ResetAfter resets a connection once it has sent this many bytes
	// (headers included); 0 is never.
	ResetAfter int64
	// Stall holds every answer until the impairment is lifted.
	Stall bool
}

// Impair sets the impairment of the backend's flows; the zero Impairment
// lifts it.
func (l *FaultListener) Impair(im Impairment) error {
	if err := im.check(); err != nil {
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

func (l *FaultListener) currentImpairment() (Impairment, chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.impair, l.impairChanged
}

// impairedConn is a served connection: its writes go through the
// listener's impairment.
type impairedConn struct {
	net.Conn
	l         *FaultListener
	closeOnce sync.Once
	closed    chan struct{}
	mu        sync.Mutex // one Write at a time (the server writes from one goroutine)
	sent      int64
	limiter   *rate.Limiter
}

func (c *impairedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	im, changed := c.l.currentImpairment()
	for im.Stall {
		select {
		case <-changed:
			im, changed = c.l.currentImpairment()
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	if d := im.Latency; d > 0 {
		if im.Jitter > 0 {
			d += time.Duration(rand.Int64N(int64(2*im.Jitter)+1)) - im.Jitter
		}
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
		reset(c.Conn)
		err = syscall.ECONNRESET
	}
	return n, err
}

// write sends p, at most bw bytes per second when bw > 0.
func (c *impairedConn) write(p []byte, bw int) (int, error) {
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

// Close implements the net.Conn interface; it leaves the listener's set.
func (c *impairedConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// impairKeys are the words of an impairment spec, in order.
var impairKeys = []string{"latency", "jitter", "bandwidth", "reset-after", "stall"}

// ParseImpairment reads a spec such as "latency=50ms jitter=5ms",
// "bandwidth=100000" (bytes/s), "reset-after=4096" (bytes), "stall", or
// "none" (lifts it); words may be separated by spaces or commas.
func ParseImpairment(spec string) (Impairment, error) {
	var im Impairment
	words := strings.FieldsFunc(spec, func(r rune) bool { return r == ' ' || r == ',' })
	if len(words) == 0 {
		return im, errors.New("empty impairment: want latency=D, jitter=D, bandwidth=BYTES/S, reset-after=BYTES, stall, or none")
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
		case "bandwidth":
			im.Bandwidth, err = strconv.Atoi(v)
		case "reset-after":
			im.ResetAfter, err = strconv.ParseInt(v, 10, 64)
		default:
			return im, fmt.Errorf("unknown impairment %q (want %s or none)", k, strings.Join(impairKeys, ", "))
		}
		if err != nil {
			return im, fmt.Errorf("%s: %q is not a valid value", k, v)
		}
	}
	return im, im.check()
}

func (im Impairment) check() error {
	if im.Latency < 0 || im.Jitter < 0 || im.Bandwidth < 0 || im.ResetAfter < 0 {
		return errors.New("latency, jitter, bandwidth and reset-after must not be negative")
	}
	if im.Jitter > im.Latency {
		return errors.New("jitter must not exceed the latency")
	}
	return nil
}

// String is the impairment as ParseImpairment reads it.
func (im Impairment) String() string {
	var w []string
	if im.Latency > 0 {
		w = append(w, "latency="+im.Latency.String())
	}
	if im.Jitter > 0 {
		w = append(w, "jitter="+im.Jitter.String())
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
