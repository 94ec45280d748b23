//go:build !linux

package dataplane

import (
	"io"
	"net"
)

// mover is the portable fallback: (*net.TCPConn).ReadFrom over a
// LimitedReader, which blocks until max bytes moved or EOF.
type mover struct {
	dst *net.TCPConn
	lr  io.LimitedReader
}

func newMover(dst, src *net.TCPConn, _ *pipePool) (*mover, error) {
	return &mover{dst: dst, lr: io.LimitedReader{R: src}}, nil
}

func (m *mover) move(max int) (int64, error) {
	m.lr.N = int64(max)
	return m.dst.ReadFrom(&m.lr)
}

func (m *mover) release() {}

const pipeSize = 1 << 20

type pipePool struct{}

func (*pipePool) close() {}
