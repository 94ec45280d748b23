//go:build linux

package dataplane

import (
	"errors"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// mover copies one direction of a flow with splice(2), socket → pipe →
// socket, so bytes never enter user space.
//
// It does what (*net.TCPConn).ReadFrom does with one difference that matters
// for a proxy holding many idle flows: Go's splice keeps its pipe (two file
// descriptors) for the whole ReadFrom call, also while it waits for the
// next byte, so 10,000 idle flows would pin 40,000 extra descriptors. The
// mover returns its pipe to the pool whenever the source has nothing to
// read and waits for readability without one. It also returns after every
// burst it forwards, so byte counters and idle deadlines stay current
// without a timer per read.
type mover struct {
	src, dst syscall.RawConn
	pipes    *pipePool
	p        pipe
	held     bool

	// State of the current move, kept here (not in closures) so that the
	// callbacks below are made once per mover and a round allocates nothing.
	limit  int
	n      int64 // bytes drained into the pipe
	left   int64 // of those, not yet pumped out
	err    error
	drainF func(uintptr) bool
	pumpF  func(uintptr) bool
}

func newMover(dst, src *net.TCPConn, pipes *pipePool) (*mover, error) {
	s, err := src.SyscallConn()
	if err != nil {
		return nil, err
	}
	d, err := dst.SyscallConn()
	if err != nil {
		return nil, err
	}
	m := &mover{src: s, dst: d, pipes: pipes}
	m.drainF, m.pumpF = m.drain, m.pump
	return m, nil
}

// errNoPipe wraps a failure to create a pipe (out of descriptors).
var errNoPipe = errors.New("no splice pipe")

// move forwards what src has ready, at most limit bytes, blocking until
// there is something (or src's read deadline passes). It returns 0, nil at
// EOF.
func (m *mover) move(limit int) (int64, error) {
	m.limit, m.n, m.err = limit, 0, nil
	err := m.src.Read(m.drainF)
	if err == nil {
		err = m.err
	}
	if err != nil || m.n == 0 {
		return 0, err
	}
	m.left, m.err = m.n, nil
	err = m.dst.Write(m.pumpF)
	if err == nil {
		err = m.err
	}
	if m.left > 0 {
		// Bytes stuck in the pipe can never be delivered: drop the pipe.
		m.p.close()
		m.held = false
	}
	return m.n - m.left, err
}

// drain splices from the source socket into the pipe. It returns false
// (wait for readability) on EAGAIN, after handing the pipe back.
func (m *mover) drain(fd uintptr) bool {
	m.err = nil
	if !m.held {
		if m.p, m.err = m.pipes.get(); m.err != nil {
			return true
		}
		m.held = true
	}
	for {
		m.n, m.err = splice(int(fd), m.p.w, m.limit)
		switch m.err {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			// Nothing to read: wait for readability without the pipe.
			m.n, m.err = 0, nil
			m.pipes.put(m.p)
			m.held = false
			return false
		}
		return true
	}
}

// pump splices everything in the pipe into the destination socket.
func (m *mover) pump(fd uintptr) bool {
	for m.left > 0 {
		k, err := splice(m.p.r, int(fd), int(m.left))
		switch err {
		case nil:
			m.left -= k
		case syscall.EINTR:
		case syscall.EAGAIN:
			return false
		default:
			m.err = err
			return true
		}
	}
	return true
}

// release gives back the pipe, if the mover holds one.
func (m *mover) release() {
	if m.held {
		m.pipes.put(m.p)
		m.held = false
	}
}

func splice(from, to, max int) (int64, error) {
	n, err := unix.Splice(from, nil, to, nil, max, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	return int64(n), err
}

// pipeSize is what each pipe asks for: Go's own splice unit. Without
// CAP_SYS_RESOURCE the kernel may refuse past fs.pipe-user-pages-soft; the
// default 64 KiB then still works, in more calls.
const pipeSize = 1 << 20

type pipe struct{ r, w int }

func (p pipe) close() {
	unix.Close(p.r)
	unix.Close(p.w)
}

// pipePool keeps empty pipes for reuse, up to maxFree; busy flows take one
// per direction, idle flows none.
type pipePool struct {
	mu     sync.Mutex
	free   []pipe
	closed bool
}

const maxFreePipes = 256

func (pp *pipePool) get() (pipe, error) {
	pp.mu.Lock()
	if n := len(pp.free); n > 0 {
		p := pp.free[n-1]
		pp.free = pp.free[:n-1]
		pp.mu.Unlock()
		return p, nil
	}
	pp.mu.Unlock()
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return pipe{}, errors.Join(errNoPipe, err)
	}
	unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, pipeSize)
	return pipe{r: fds[0], w: fds[1]}, nil
}

// put takes back an empty pipe.
func (pp *pipePool) put(p pipe) {
	pp.mu.Lock()
	if !pp.closed && len(pp.free) < maxFreePipes {
		pp.free = append(pp.free, p)
		p = pipe{-1, -1}
	}
	pp.mu.Unlock()
	if p.r >= 0 {
		p.close()
	}
}

// close drops the free pipes; pipes put later are closed at once.
func (pp *pipePool) close() {
	pp.mu.Lock()
	free := pp.free
	pp.free, pp.closed = nil, true
	pp.mu.Unlock()
	for _, p := range free {
		p.close()
	}
}
