//go:build linux

package dataplane

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The client leg's keepalive is set on the listening socket only; this
// checks that the kernel hands it on to accepted connections.
func TestAcceptedConnInheritsKeepAlive(t *testing.T) {
	fd, err := listenTCP(netip.MustParseAddrPort("127.0.0.1:0"), 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(sa.(*unix.SockaddrInet4).Port)).String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	unix.SetNonblock(fd, false)
	a, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(a)
	want := map[string]struct{ level, opt, v int }{
		"SO_KEEPALIVE":  {unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		"TCP_KEEPIDLE":  {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, 20},
		"TCP_KEEPINTVL": {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, 15},
		"TCP_KEEPCNT":   {unix.IPPROTO_TCP, unix.TCP_KEEPCNT, 9},
		"TCP_NODELAY":   {unix.IPPROTO_TCP, unix.TCP_NODELAY, 1},
	}
	for name, o := range want {
		var got int
		var gerr error
		got, gerr = unix.GetsockoptInt(a, o.level, o.opt)
		if gerr != nil || got != o.v {
			t.Errorf("%s on the accepted conn = %d (err %v), want %d", name, got, gerr, o.v)
		}
	}
}

// TestRawSocketCalls: connect and accept4 lay out and read back the
// kernel's sockaddrs themselves; a wrong byte order or family would dial
// the wrong port or give security groups the wrong source.
func TestRawSocketCalls(t *testing.T) {
	for _, addr := range []string{"127.0.0.1", "::1"} {
		t.Run(addr, func(t *testing.T) {
			ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
			if err != nil {
				t.Skipf("no %s: %v", addr, err)
			}
			defer ln.Close()
			to := ln.Addr().(*net.TCPAddr).AddrPort()
			fd, err := connectTCP(to)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFD(fd)
			// A sockaddr laid out wrong dials elsewhere: fail, not hang.
			ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second))
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr(); got != to.Addr() {
				t.Errorf("accepted from %v, want %v", got, to.Addr())
			}
			if got, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY); err != nil || got != 1 {
				t.Errorf("dialed socket TCP_NODELAY = %d, %v", got, err)
			}

			lfd, err := listenTCP(netip.AddrPortFrom(to.Addr(), 0), 0)
			if err != nil {
				t.Fatal(err)
			}
			defer closeFD(lfd)
			sa, err := unix.Getsockname(lfd)
			if err != nil {
				t.Fatal(err)
			}
			var port int
			switch sa := sa.(type) {
			case *unix.SockaddrInet4:
				port = sa.Port
			case *unix.SockaddrInet6:
				port = sa.Port
			}
			d, err := net.Dial("tcp", net.JoinHostPort(addr, fmt.Sprint(port)))
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			var afd int
			var src netip.Addr
			for range 100 {
				if afd, src, err = accept4(lfd); err != unix.EAGAIN {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFD(afd)
			if src != to.Addr() {
				t.Errorf("accept4 peer %v, want %v", src, to.Addr())
			}
			if _, err := d.Write([]byte("ping")); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 8)
			var n int
			for range 100 {
				if n, err = read(afd, buf); err != unix.EAGAIN {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err != nil || string(buf[:n]) != "ping" {
				t.Errorf("read %q, %v", buf[:n], err)
			}
		})
	}
}

// TestBackendLegKeepAlive: the dial leaves keepalive off and the loop's
// sweep turns it on, with the configured idle period, for a flow that
// lives to see a sweep; with KeepAlive negative it stays off.
func TestBackendLegKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		ka   time.Duration
		want int // SO_KEEPALIVE
	}{{20 * time.Second, 1}, {-1, 0}} {
		t.Run(fmt.Sprint(tc.ka), func(t *testing.T) {
			// A 400 ms idle timeout sweeps every 50 ms.
			l := newLab(t, Options{KeepAlive: tc.ka, IdleTimeout: 400 * time.Millisecond})
			w := newWorld(echoServer(t))
			l.publish(w.snap())
			c := dial(t, w.addr())
			backendFD := func() int {
				fds := make(chan int, len(l.p.loops))
				for _, lp := range l.p.loops {
					lp.post(func() {
						fd := -1
						for _, f := range lp.flows {
							// With keepalive off, kaSet stays false.
							if f.state == flowOpen && f.kaSet == (tc.want == 1) {
								fd = f.fds[down]
							}
						}
						fds <- fd
					})
				}
				fd := -1
				for range l.p.loops {
					fd = max(fd, <-fds)
				}
				return fd
			}
			time.Sleep(150 * time.Millisecond) // three sweeps
			fd := -1
			waitFor(t, 2*time.Second, "a swept flow", func() bool {
				if _, err := roundTrip(c, "x"); err != nil { // keep it from idling out
					t.Fatal(err)
				}
				fd = backendFD()
				return fd >= 0
			})
			if got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_KEEPALIVE); err != nil || got != tc.want {
				t.Errorf("backend leg SO_KEEPALIVE = %d (%v), want %d", got, err, tc.want)
			}
			if tc.want == 1 {
				if got, err := unix.GetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE); err != nil || got != 20 {
					t.Errorf("backend leg TCP_KEEPIDLE = %d (%v), want 20", got, err)
				}
			}
		})
	}
}

// TestConnFlowKeepAlive: the conn carrier (the netns front end's) dials
// its backend without keepalive, as the loops do, and turns it on for both
// legs with the configured idle period once the flow has lived
// keepAliveAfter; with KeepAlive negative it stays off.
func TestConnFlowKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		ka   time.Duration
		want int // SO_KEEPALIVE
	}{{20 * time.Second, 1}, {-1, 0}} {
		t.Run(fmt.Sprint(tc.ka), func(t *testing.T) {
			l := newLabOn(t, connFE, Options{KeepAlive: tc.ka})
			w := newWorld(echoServer(t))
			l.publish(w.snap())
			c := dial(t, w.addr())
			if _, err := roundTrip(c, "x"); err != nil {
				t.Fatal(err)
			}
			var legs []net.Conn
			l.p.conns.mu.Lock()
			for f := range l.p.conns.flows {
				legs = append(legs, f.conns[:]...)
			}
			l.p.conns.mu.Unlock()
			if len(legs) != 2 {
				t.Fatalf("%d conn-carried legs, want 2", len(legs))
			}
			opt := func(c net.Conn, level, name int) int {
				rc, err := c.(syscall.Conn).SyscallConn() // a kernel socket, maybe wrapped
				if err != nil {
					t.Fatal(err)
				}
				v := -1
				rc.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), level, name) })
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			if tc.want == 1 {
				// Within a generous bound of keepAliveAfter.
				waitFor(t, keepAliveAfter+10*time.Second, "keepalive on both legs", func() bool {
					return opt(legs[0], unix.SOL_SOCKET, unix.SO_KEEPALIVE) == 1 && opt(legs[1], unix.SOL_SOCKET, unix.SO_KEEPALIVE) == 1
				})
			} else {
				time.Sleep(keepAliveAfter + 200*time.Millisecond)
			}
			if tc.want == 0 {
				legs = legs[1:] // the test's listener gave the client leg Go's keepalive
			}
			for i, leg := range legs {
				if got := opt(leg, unix.SOL_SOCKET, unix.SO_KEEPALIVE); got != tc.want {
					t.Errorf("leg %d SO_KEEPALIVE = %d, want %d", i, got, tc.want)
				}
				if tc.want == 1 {
					if got := opt(leg, unix.IPPROTO_TCP, unix.TCP_KEEPIDLE); got != 20 {
						t.Errorf("leg %d TCP_KEEPIDLE = %d, want 20", i, got)
					}
				}
			}
		})
	}
}
