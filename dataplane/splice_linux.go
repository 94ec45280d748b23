//go:build linux

package dataplane

import (
	"errors"

	"golang.org/x/sys/unix"
)

// A bulk direction moves socket → pipe → socket with splice(2), so its
// bytes never enter user space. The pipe is held only while bytes are in
// it (see loop.getPipe), so 10,000 idle flows hold no pipes at all.

// errNoPipe wraps a failure to create a pipe (out of descriptors).
var errNoPipe = errors.New("no splice pipe")

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
	closeFD(p.r)
	closeFD(p.w)
}
