package dns

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// udpSockets is how many UDP sockets share the port, one per core: the
// kernel spreads clients over them by address hash, so reads do not all
// queue on one socket.
func udpSockets() int { return runtime.GOMAXPROCS(0) }

// reusePort sets SO_REUSEPORT on a socket before it binds.
func reusePort(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
