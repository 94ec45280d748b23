//go:build !linux

package dataplane

import (
	"net"
	"time"
)

func listenConfig(ka time.Duration) net.ListenConfig { return net.ListenConfig{KeepAlive: ka} }

func dialer(ka time.Duration) net.Dialer { return net.Dialer{KeepAlive: ka} }
