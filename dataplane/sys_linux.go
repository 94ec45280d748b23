//go:build linux

package dataplane

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The loops' system calls on non-blocking sockets, made raw.
//
// unix.Read, unix.Connect and the rest go through the runtime's
// entersyscall/exitsyscall, which let another goroutine have the P while a
// call blocks. None of these calls blocks, yet a connect or close on
// loopback runs the peer's TCP processing inline and can take longer than
// the scheduler's 20 µs monitor tick: the monitor then hands the loop's P
// to another thread, and the loop, back from the call, has to get one
// again. At 10,000 connections a second that was a context switch and a
// futex per connection and kept the monitor waking every 20 µs: ~15% more
// CPU per connection than HAProxy. Raw calls leave the P where it is.
//
// Only epoll_wait, which does block, keeps the runtime's bookkeeping.

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// read and write are read(2) and write(2).
func read(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func write(fd int, p []byte) (int, error) {
	n, _, e := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func splice(from, to, max int) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(from), 0, uintptr(to), 0, uintptr(max),
		unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// closeFD is close(2). A socket with SO_LINGER 0 closes at once with an
// RST; without SO_LINGER close never waits either.
func closeFD(fd int) {
	unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
}

func shutdownWrite(fd int) {
	unix.RawSyscall(unix.SYS_SHUTDOWN, uintptr(fd), unix.SHUT_WR, 0)
}

func setsockoptInt(fd, level, opt, v int) error {
	v32 := int32(v)
	_, _, e := unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
		uintptr(unsafe.Pointer(&v32)), 4, 0)
	return errnoErr(e)
}

// resetOnClose sets SO_LINGER 0: the close that follows sends an RST.
func resetOnClose(fd int) {
	l := unix.Linger{Onoff: 1}
	unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER,
		uintptr(unsafe.Pointer(&l)), unsafe.Sizeof(l), 0)
}

// socketError is a socket's pending error (SO_ERROR), as after a failed
// non-blocking connect.
func socketError(fd int) unix.Errno {
	var v int32
	n := uint32(4)
	unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_ERROR,
		uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&n)), 0)
	return unix.Errno(v)
}

func socket(domain, typ int) (int, error) {
	fd, _, e := unix.RawSyscall(unix.SYS_SOCKET, uintptr(domain), uintptr(typ), 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

func connect(fd int, ap netip.AddrPort) error {
	var rsa unix.RawSockaddrAny
	n := putSockaddr(&rsa, ap)
	_, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), n)
	return errnoErr(e)
}

func bind(fd int, ap netip.AddrPort) error {
	var rsa unix.RawSockaddrAny
	n := putSockaddr(&rsa, ap)
	_, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&rsa)), n)
	return errnoErr(e)
}

// accept4 accepts a connection on a listening socket, non-blocking and
// close-on-exec, and returns its peer's address. (unix.Accept4 also asks
// every IPv4 socket for its protocol, a getsockopt per connection, to
// spot L2TP.)
func accept4(lfd int) (int, netip.Addr, error) {
	var rsa unix.RawSockaddrAny
	n := uint32(unsafe.Sizeof(rsa))
	fd, _, e := unix.RawSyscall6(unix.SYS_ACCEPT4, uintptr(lfd), uintptr(unsafe.Pointer(&rsa)),
		uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0)
	if e != 0 {
		return -1, netip.Addr{}, e
	}
	return int(fd), sockaddrAddr(&rsa), nil
}

// schedYield is sched_yield(2): the thread goes behind the other threads
// ready on its CPU. Raw, like the rest: the loop keeps its P.
func schedYield() {
	unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
}

// epollCtl is epoll_ctl(2); ev may be nil for EPOLL_CTL_DEL.
func epollCtl(ep, op, fd int, ev *unix.EpollEvent) error {
	_, _, e := unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(ep), uintptr(op), uintptr(fd),
		uintptr(unsafe.Pointer(ev)), 0, 0)
	return errnoErr(e)
}

// putSockaddr lays ap out in rsa as the kernel's sockaddr_in or
// sockaddr_in6 and returns its length. rsa is the caller's, on its stack:
// no allocation per dial.
func putSockaddr(rsa *unix.RawSockaddrAny, ap netip.AddrPort) uintptr {
	a := ap.Addr()
	if a.Is4() || a.Is4In6() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		sa.Family, sa.Addr = unix.AF_INET, a.Unmap().As4()
		putPort(&sa.Port, ap.Port())
		return unsafe.Sizeof(*sa)
	}
	sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
	sa.Family, sa.Addr = unix.AF_INET6, a.As16()
	putPort(&sa.Port, ap.Port())
	return unsafe.Sizeof(*sa)
}

// putPort stores port in network byte order, as sockaddrs hold it.
func putPort(dst *uint16, port uint16) {
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(dst))[:], port)
}

// sockaddrAddr is the IP address of a sockaddr the kernel filled in.
func sockaddrAddr(rsa *unix.RawSockaddrAny) netip.Addr {
	switch rsa.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(rsa))
		return netip.AddrFrom4(sa.Addr)
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(rsa))
		return netip.AddrFrom16(sa.Addr).Unmap()
	}
	return netip.Addr{}
}
