package bench

import "syscall"

// serverAttr starts a server in a process group of its own (so that it
// can be stopped with its children) that gets SIGTERM if the harness dies.
func serverAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// clientAttr has a bounded client tool killed if the harness dies.
func clientAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
