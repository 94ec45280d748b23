package experiment

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/time/rate"
)

// client is one load group: it resolves its name through eplink's DNS
// server the way a real client does, and records every request.
type client struct {
	l       Load
	host    string // the name (or address) to connect to
	dnsAddr string // eplink's DNS server, host:port
	ns      string // the network namespace the clients run in; "" = eplink's host
	rec     *recorder
	http    *http.Client

	mu          sync.Mutex
	cached      []string
	cachedUntil time.Time
}

// dnsError is a name that did not resolve.
type dnsError struct{ err error }

func (e *dnsError) Error() string { return "resolving: " + e.err.Error() }
func (e *dnsError) Unwrap() error { return e.err }

func newClient(l Load, host, dnsAddr string, rec *recorder) *client {
	return newClientIn(l, "", host, dnsAddr, rec)
}

// vpcResolver is the resolver every VPC answers on (netns front end).
const vpcResolver = "100.100.2.136:53"

// newClientIn is newClient for clients inside the network namespace ns
// (an instance's): they resolve through its VPC's resolver.
func newClientIn(l Load, ns, host, dnsAddr string, rec *recorder) *client {
	if ns != "" {
		dnsAddr = vpcResolver
	}
	c := &client{l: l, ns: ns, host: host, dnsAddr: dnsAddr, rec: rec}
	tr := &http.Transport{
		DialContext:         c.dial,
		DisableKeepAlives:   !l.KeepAlive,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	c.http = &http.Client{Transport: tr, Timeout: l.Timeout}
	return c
}

// dial resolves the name for this new connection (or takes the cached
// answer) and connects to one of the addresses, as getaddrinfo users do.
func (c *client) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	ip, err := c.resolve(ctx)
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(c.l.Port))
	if c.ns != "" {
		return dialIn(ctx, c.ns, addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

func (c *client) resolve(ctx context.Context) (string, error) {
	if net.ParseIP(c.host) != nil {
		return c.host, nil
	}
	if c.l.DNS != "per-connection" {
		c.mu.Lock()
		addrs, until := c.cached, c.cachedUntil
		c.mu.Unlock()
		if len(addrs) > 0 && time.Now().Before(until) {
			return addrs[rand.IntN(len(addrs))], nil
		}
	}
	addrs, ttl, err := lookupIn(ctx, c.ns, c.dnsAddr, c.host)
	if err != nil {
		return "", &dnsError{err}
	}
	now := time.Now()
	for _, a := range addrs {
		c.rec.dnsAnswer(now, a)
	}
	if c.l.DNS != "per-connection" {
		keep := c.l.DNSCache
		if c.l.DNS == "ttl" {
			keep = ttl
		}
		c.mu.Lock()
		c.cached, c.cachedUntil = addrs, now.Add(keep)
		c.mu.Unlock()
	}
	return addrs[rand.IntN(len(addrs))], nil
}

// lookupA asks server for the A records of name; ttl is their least TTL.
func lookupA(ctx context.Context, server, name string) (addrs []string, ttl time.Duration, err error) {
	return lookupIn(ctx, "", server, name)
}

// lookupIn is lookupA from inside the network namespace ns ("" = this
// process's).
func lookupIn(ctx context.Context, ns, server, name string) (addrs []string, ttl time.Duration, err error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	dc := &dns.Client{Timeout: 500 * time.Millisecond}
	var in *dns.Msg
	if ns == "" {
		in, _, err = dc.ExchangeContext(ctx, m, server)
	} else {
		var conn net.Conn
		if err := doIn(ns, func() error {
			var err error
			conn, err = net.Dial("udp", server) // the socket stays in ns
			return err
		}); err != nil {
			return nil, 0, err
		}
		defer conn.Close()
		in, _, err = dc.ExchangeWithConnContext(ctx, m, &dns.Conn{Conn: conn})
	}
	if err != nil {
		return nil, 0, err
	}
	for _, rr := range in.Answer {
		if a, ok := rr.(*dns.A); ok {
			addrs = append(addrs, a.A.String())
			t := time.Duration(a.Hdr.Ttl) * time.Second
			if ttl == 0 || t < ttl {
				ttl = t
			}
		}
	}
	if len(addrs) == 0 {
		return nil, 0, fmt.Errorf("%s: no address (%s)", name, dns.RcodeToString[in.Rcode])
	}
	return addrs, ttl, nil
}

// greeting is how the demo backends name themselves.
var greeting = regexp.MustCompile(`This is ([A-Za-z0-9_.-]+?)\.`)

// request makes one request and records it.
func (c *client) request(ctx context.Context) {
	begin := time.Now()
	kind, backend := c.do(ctx)
	if ctx.Err() != nil {
		return // cut by the end of the run, not by eplink
	}
	c.rec.result(begin, time.Now(), kind, backend)
}

func (c *client) do(ctx context.Context) (kind, backend string) {
	url := "http://" + net.JoinHostPort(c.host, strconv.Itoa(c.l.Port)) + c.l.Path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return KindBad, ""
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return classify(err), ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return classify(err), ""
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return KindBad, ""
	}
	if m := greeting.FindSubmatch(body); m != nil {
		backend = string(m[1])
	}
	return "", backend
}

// stream downloads from the backend at the load's bandwidth until ctx
// ends or the stream breaks, which it records; false when it broke.
func (c *client) stream(ctx context.Context) bool {
	url := "http://" + net.JoinHostPort(c.host, strconv.Itoa(c.l.Port)) + "/bytes?n=" + strconv.FormatInt(1<<36, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	// The request's timeout would cut a long stream: connect and answer
	// headers within it, then read as long as the run lasts.
	hc := *c.http
	hc.Timeout = 0
	hctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(c.l.Timeout, cancel)
	resp, err := hc.Do(req.WithContext(hctx))
	if err != nil {
		timer.Stop()
		cancel()
		if ctx.Err() == nil {
			c.rec.failure(time.Now(), classify(err))
		}
		return false
	}
	timer.Stop()
	defer cancel()
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.rec.failure(time.Now(), KindBad)
		return false
	}
	lim := rate.NewLimiter(rate.Limit(c.l.Bandwidth), min(c.l.Bandwidth, 16<<10))
	buf := make([]byte, min(c.l.Bandwidth, 16<<10))
	for {
		if lim.WaitN(ctx, len(buf)) != nil {
			return true // the run ended
		}
		n, err := io.ReadFull(resp.Body, buf)
		c.rec.streamBytes(time.Now(), n)
		if err != nil {
			if ctx.Err() == nil {
				c.rec.failure(time.Now(), classify(err))
			}
			return false
		}
	}
}

// classify names the kind of a failed request.
func classify(err error) string {
	var de *dnsError
	var ne net.Error
	switch {
	case errors.As(err, &de):
		return KindDNS
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	default:
		// ECONNRESET, EPIPE, EOF before the answer was whole: the
		// connection was cut.
		return KindReset
	}
}

// run makes load until ctx ends.
func (c *client) run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.http.CloseIdleConnections()
	if c.l.Kind == "stream" {
		for range c.l.Connections {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if !c.stream(ctx) {
						sleep(ctx, 100*time.Millisecond) // as a client backs off
					}
				}
			}()
		}
		return
	}
	if c.l.Connections > 0 {
		for range c.l.Connections {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					c.request(ctx)
				}
			}()
		}
		return
	}
	// Open loop: requests start on schedule whether or not the earlier
	// ones were answered, up to a bound on those in flight.
	const maxInFlight = 512
	sem := make(chan struct{}, maxInFlight)
	interval := time.Second / time.Duration(c.l.Rate)
	start := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		select {
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				c.request(ctx)
			}()
		default:
			// Too many unanswered: this one times out at once.
			now := time.Now()
			c.rec.result(now, now, KindTimeout, "")
		}
		t.Reset(time.Until(start.Add(time.Duration(i+1) * interval)))
	}
}
