//go:build linux

package dataplane

import (
	"net"
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

// listenConfig sets TCP keepalive once, on the listening socket: Linux
// copies SO_KEEPALIVE and TCP_KEEPIDLE/INTVL/CNT into every connection it
// accepts, so a new flow's client leg costs no keepalive setsockopt at all
// (net.ListenConfig.KeepAlive would make four per accepted connection).
func listenConfig(ka time.Duration) net.ListenConfig {
	if ka <= 0 {
		return net.ListenConfig{KeepAlive: -1}
	}
	return net.ListenConfig{
		KeepAlive: -1, // the accepted sockets inherit the listener's settings
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				s := int(fd)
				for _, o := range [...]struct{ level, opt, v int }{
					{unix.SOL_SOCKET, unix.SO_KEEPALIVE, 1},
					{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secondsUp(ka)},
					{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secondsUp(keepAliveInterval)},
					{unix.IPPROTO_TCP, unix.TCP_KEEPCNT, keepAliveCount},
				} {
					if serr = unix.SetsockoptInt(s, o.level, o.opt, o.v); serr != nil {
						return
					}
				}
			})
			if err != nil {
				return err
			}
			return serr
		},
	}
}

// dialer leaves the probe count at the kernel's default (9, the same as
// Go's), one setsockopt less per dial.
func dialer(ka time.Duration) net.Dialer {
	if ka <= 0 {
		return net.Dialer{KeepAlive: -1}
	}
	return net.Dialer{KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: ka, Interval: keepAliveInterval, Count: -1}}
}

func secondsUp(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
