//go:build linux

package dataplane

import (
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// keepAliveInterval and keepAliveCount are what Go's net package uses when
// only the idle period is given (net.KeepAliveConfig zero fields).
const (
	keepAliveInterval = 15 * time.Second
	keepAliveCount    = 9
)

// listenBacklog is the accept queue asked for; the kernel caps it at
// net.core.somaxconn.
const listenBacklog = 4096

// listenTCP opens a non-blocking listening socket on addr. TCP keepalive
// and TCP_NODELAY are set here, once: Linux copies them into every
// connection the listener accepts, so a new flow's client leg costs no
// setsockopt at all.
func listenTCP(addr netip.AddrPort, ka time.Duration) (int, error) {
	fd, err := unix.Socket(family(addr.Addr()), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// SO_REUSEADDR, as Go sets it: a listener closed with flows in
	// TIME_WAIT can be reopened at once.
	opts := []sockopt{{unix.SOL_SOCKET, unix.SO_REUSEADDR, 1}, {unix.IPPROTO_TCP, unix.TCP_NODELAY, 1}}
	if ka > 0 {
		opts = append(opts, keepAliveOpts(ka)...)
		opts = append(opts, sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, keepAliveCount})
	}
	if err = setsockopts(fd, opts); err == nil {
		if err = unix.Bind(fd, sockaddr(addr)); err == nil {
			err = unix.Listen(fd, listenBacklog)
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// connectTCP starts a non-blocking connect to addr; EPOLLOUT on the socket
// says when it is done. The probe count is left at the kernel's default (9,
// the same as Go's), one setsockopt less per dial.
func connectTCP(addr netip.AddrPort, ka time.Duration) (int, error) {
	if !addr.IsValid() {
		return -1, unix.EDESTADDRREQ
	}
	fd, err := unix.Socket(family(addr.Addr()), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	opts := []sockopt{{unix.IPPROTO_TCP, unix.TCP_NODELAY, 1}}
	if ka > 0 {
		opts = append(opts, keepAliveOpts(ka)...)
	}
	if err = setsockopts(fd, opts); err == nil {
		err = unix.Connect(fd, sockaddr(addr))
		if err == unix.EINPROGRESS {
			err = nil
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

type sockopt struct{ level, opt, v int }

func keepAliveOpts(ka time.Duration) []sockopt {
	return []sockopt{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secondsUp(ka)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secondsUp(keepAliveInterval)},
	}
}

func setsockopts(fd int, opts []sockopt) error {
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.v); err != nil {
			return err
		}
	}
	return nil
}

func family(a netip.Addr) int {
	if a.Is4() || a.Is4In6() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.Unmap().As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}

// sockaddrIP is the address of an accepted connection's peer.
func sockaddrIP(sa syscall.Sockaddr) netip.Addr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr)
	case *syscall.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}

func secondsUp(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
