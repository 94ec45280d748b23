//go:build !linux

package bench

import "syscall"

// Elsewhere than Linux a child cannot ask to die with its parent: the
// harness stops what it started when it ends, and a killed harness leaves
// its servers running.
func serverAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func clientAttr() *syscall.SysProcAttr { return nil }
