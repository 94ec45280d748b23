//go:build !linux

package bench

import (
	"context"
	"errors"
	"net"
)

func dialIn(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("network namespaces need Linux")
}
