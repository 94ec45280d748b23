package dns

import (
	"context"
	"errors"
	"time"

	mdns "github.com/miekg/dns"
)

const (
	defaultUpstreamTimeout = 2 * time.Second
	// maxForwards bounds queries waiting on the upstream: each holds a
	// goroutine and a socket for up to the timeout, and a dead upstream
	// would otherwise let a query flood pile them up.
	maxForwards = 256
)

// errBusy is what a forward reports when maxForwards are in flight.
var errBusy = errors.New("too many forwarded queries in flight")

// forwarder sends names outside the zone to an upstream resolver, the way
// the VPC resolver does for everything that is not PrivateLink's.
type forwarder struct {
	upstream string
	timeout  time.Duration
	udp, tcp *mdns.Client
	slots    chan struct{}
}

func newForwarder(upstream string, timeout time.Duration) *forwarder {
	if timeout <= 0 {
		timeout = defaultUpstreamTimeout
	}
	return &forwarder{
		upstream: upstream,
		timeout:  timeout,
		udp:      &mdns.Client{Net: "udp", UDPSize: mdns.DefaultMsgSize},
		tcp:      &mdns.Client{Net: "tcp"},
		slots:    make(chan struct{}, maxForwards),
	}
}

// forward asks the upstream r's question and returns its reply under r's
// id, or reply as SERVFAIL when the upstream fails or times out.
func (f *forwarder) forward(r, reply *mdns.Msg) *mdns.Msg {
	resp, err := f.exchange(r)
	if err != nil {
		reply.Rcode = mdns.RcodeServerFailure
		reply.Authoritative = false
		reply.RecursionAvailable = true
		return reply
	}
	resp.Id = r.Id
	resp.Question = reply.Question // as asked, whatever case the upstream used
	return resp
}

func (f *forwarder) exchange(r *mdns.Msg) (*mdns.Msg, error) {
	select {
	case f.slots <- struct{}{}:
		defer func() { <-f.slots }()
	default:
		return nil, errBusy
	}
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	q := r.Copy()
	q.Id = mdns.Id()
	resp, _, err := f.udp.ExchangeContext(ctx, q, f.upstream)
	if err == nil && resp.Truncated {
		// The full answer only fits over TCP; the reply to our own client
		// is truncated again to its size afterwards. An upstream without
		// TCP still has its truncated answer passed on.
		if full, _, err := f.tcp.ExchangeContext(ctx, q, f.upstream); err == nil {
			resp = full
		}
	}
	return resp, err
}
