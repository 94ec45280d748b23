package experiment

import "syscall"

// dieWithRunner has the kernel kill the run's eplink if the runner dies.
func dieWithRunner() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
