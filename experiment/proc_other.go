//go:build !linux

package experiment

import "syscall"

// dieWithRunner: elsewhere than Linux a child cannot ask to die with its
// parent; a killed runner leaves its eplink running.
func dieWithRunner() *syscall.SysProcAttr { return nil }
