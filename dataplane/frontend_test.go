package dataplane

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
)

// frontEnd is how flows reach the data plane in a test: the loopback
// front end's kernel listeners on the loops, or the conn carrier the netns
// front end uses (Admit → Dial → Run), fed here by kernel sockets so that
// the same behaviour tests run against both. The VPC stacks' own part
// (SYN drop, addresses, routing) is tested with namespaces in
// dataplane/netns.
type frontEnd string

const (
	loopbackFE frontEnd = "loopback"
	connFE     frontEnd = "conn"
)

// onEachFrontEnd runs test once per front end, as a subtest.
func onEachFrontEnd(t *testing.T, test func(t *testing.T, fe frontEnd)) {
	for _, fe := range []frontEnd{loopbackFE, connFE} {
		t.Run(string(fe), func(t *testing.T) { test(t, fe) })
	}
}

// newLabOn is newLab on front end fe.
func newLabOn(t testing.TB, fe frontEnd, opts Options) *lab {
	t.Helper()
	if fe == loopbackFE {
		return newLab(t, opts)
	}
	opts.Netns = true
	l := newLab(t, opts)
	l.conns = &connFrontEnd{t: t, p: l.p, lns: map[netip.AddrPort]net.Listener{}}
	t.Cleanup(l.conns.close)
	return l
}

// connFrontEnd listens on every ENI address:port of the route table with
// a kernel socket and hands each accepted connection to the conn carrier,
// as a VPC stack hands its forwarded connections.
type connFrontEnd struct {
	t   testing.TB
	p   *Proxy
	mu  sync.Mutex
	lns map[netip.AddrPort]net.Listener
	wg  sync.WaitGroup
	// lastWrites counts the WriteClose calls of its client conns.
	lastWrites atomic.Int64
}

// clientConn is an accepted client conn that takes a stream's last bytes
// and its end together, as a VPC stack's conn does.
type clientConn struct {
	*net.TCPConn
	fe *connFrontEnd
}

func (c clientConn) WriteClose(b []byte) (int, error) {
	c.fe.lastWrites.Add(1)
	n, err := c.Write(b)
	if err != nil {
		return n, err
	}
	return n, c.CloseWrite()
}

func (c clientConn) Abort() { reset(c.TCPConn) }

// sync opens and closes listeners to match the applied route table.
func (c *connFrontEnd) sync() {
	c.mu.Lock()
	defer c.mu.Unlock()
	routes := c.p.routes.Load().vpcs[""]
	for addr, ln := range c.lns {
		if routes[addr] == nil {
			ln.Close()
			delete(c.lns, addr)
		}
	}
	for addr := range routes {
		if c.lns[addr] != nil {
			continue
		}
		ln, err := net.Listen("tcp", addr.String())
		if err != nil {
			c.t.Fatalf("conn front end: %v", err)
		}
		c.lns[addr] = ln
		c.wg.Add(1)
		go c.accept(ln, addr)
	}
}

func (c *connFrontEnd) accept(ln net.Listener, dst netip.AddrPort) {
	defer c.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			src := conn.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
			a, _ := c.p.Admit("", dst, src)
			if a == nil {
				reset(conn) // kernel sockets cannot drop the SYN: reset, as the loops do
				return
			}
			backend, err := a.Dial(context.Background())
			if err != nil {
				reset(conn)
				return
			}
			a.Run(clientConn{conn.(*net.TCPConn), c}, backend)
		}()
	}
}

func (c *connFrontEnd) close() {
	c.mu.Lock()
	for addr, ln := range c.lns {
		ln.Close()
		delete(c.lns, addr)
	}
	c.mu.Unlock()
	c.p.conns.abortAll()
	c.wg.Wait()
}
