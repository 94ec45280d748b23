//go:build !linux

package dns

import "syscall"

// udpSockets is 1 where SO_REUSEPORT does not spread load the Linux way.
func udpSockets() int { return 1 }

func reusePort(network, address string, c syscall.RawConn) error { return nil }
