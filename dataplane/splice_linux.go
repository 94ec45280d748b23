//go:build linux

package dataplane

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A bulk direction moves socket → pipe → socket with splice(2), so its
// bytes never enter user space. The pipe is held only while bytes are in
// it (see loop.getPipe), so 10,000 idle flows hold no pipes at all.

// errNoPipe wraps a failure to create a pipe (out of descriptors).
var errNoPipe = errors.New("no splice pipe")

func splice(from, to, max int) (int64, error) {
	n, err := unix.Splice(from, nil, to, nil, max, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
	return int64(n), err
}

// pipeSize is what each pipe asks for: Go's own splice unit. Without
// CAP_SYS_RESOURCE the kernel may refuse past fs.pipe-user-pages-soft; the
// default 64 KiB then still works, in more calls.
const pipeSize = 1 << 20

type pipe struct{ r, w int }

func newPipe() (pipe, error) {
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return pipe{}, errors.Join(errNoPipe, err)
	}
	unix.FcntlInt(uintptr(fds[0]), unix.F_SETPIPE_SZ, pipeSize)
	return pipe{r: fds[0], w: fds[1]}, nil
}

func (p pipe) close() {
	unix.Close(p.r)
	unix.Close(p.w)
}

// read and write are read(2) and write(2) on non-blocking sockets. They
// skip the runtime's system-call bookkeeping (entersyscall/exitsyscall,
// which lets another goroutine have the P while a call blocks): these
// calls never block, and on small messages the bookkeeping was a visible
// share of the loop's time.
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
