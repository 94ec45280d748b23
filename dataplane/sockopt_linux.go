//go:build linux

package dataplane

import (
	"net/netip"
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
	fd, err := socket(family(addr.Addr()), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	// SO_REUSEADDR, as Go sets it: a listener closed with flows in
	// TIME_WAIT can be reopened at once.
	opts := []sockopt{{unix.SOL_SOCKET, unix.SO_REUSEADDR, 1}, {unix.IPPROTO_TCP, unix.TCP_NODELAY, 1}}
	if ka > 0 {
		kao := keepAliveOpts(ka)
		opts = append(opts, kao[:]...)
		opts = append(opts, sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, keepAliveCount})
	}
	if err = setsockopts(fd, opts); err == nil {
		if err = bind(fd, addr); err == nil {
			err = unix.Listen(fd, listenBacklog)
		}
	}
	if err != nil {
		closeFD(fd)
		return -1, err
	}
	return fd, nil
}

// connectTCP starts a non-blocking connect to addr; EPOLLOUT on the socket
// says when it is done. Keepalive is not set here but by the loop's sweep
// once the flow has lived to see one (setKeepAlive): three setsockopts a
// dial were ~2% of the CPU a short connection costs, and keepalive only
// matters to a flow that goes quiet for seconds.
func connectTCP(addr netip.AddrPort) (int, error) {
	if !addr.IsValid() {
		return -1, unix.EDESTADDRREQ
	}
	fd, err := socket(family(addr.Addr()), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if err = setsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err == nil {
		// EINTR (a signal in the raw call) leaves the connect going on,
		// as EINPROGRESS does: its outcome arrives as EPOLLOUT or EPOLLERR.
		err = connect(fd, addr)
		if err == unix.EINPROGRESS || err == unix.EINTR {
			err = nil
		}
	}
	if err != nil {
		closeFD(fd)
		return -1, err
	}
	return fd, nil
}

// setKeepAlive turns TCP keepalive on for a connected socket with idle
// period ka. The probe count is left at the kernel's default (9, the same
// as Go's), one setsockopt less.
func setKeepAlive(fd int, ka time.Duration) error {
	opts := keepAliveOpts(ka)
	return setsockopts(fd, opts[:])
}

type sockopt struct{ level, opt, v int }

func keepAliveOpts(ka time.Duration) [3]sockopt {
	return [3]sockopt{
		{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
		{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secondsUp(ka)},
		{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secondsUp(keepAliveInterval)},
	}
}

func setsockopts(fd int, opts []sockopt) error {
	for _, o := range opts {
		if err := setsockoptInt(fd, o.level, o.opt, o.v); err != nil {
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

func secondsUp(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
