//go:build linux

package dataplane

import (
	"net"
	"net/netip"
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
