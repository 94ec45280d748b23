package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux the harness runs on (getconf CLK_TCK).
const clockTicks = 100

// ProcStat is a process's resource use read from /proc.
type ProcStat struct {
	RSSBytes  int64   `json:"rss_bytes"`
	UserSec   float64 `json:"user_s"` // since start
	SystemSec float64 `json:"system_s"`
	Threads   int     `json:"threads"`
}

// CPUSec is the process's user and system time together.
func (p ProcStat) CPUSec() float64 { return p.UserSec + p.SystemSec }

// ParseProcPIDStat reads utime, stime and the thread count from the
// contents of /proc/PID/stat (everything but RSSBytes). The times are the
// whole process's (every thread's, live or ended), not its children's. The
// command name may hold spaces and parentheses, so fields are counted from
// the last ')'.
func ParseProcPIDStat(b []byte) (ProcStat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return ProcStat{}, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// After ")": state(3) … utime(14) stime(15) … num_threads(20), so index = field-3.
	if len(f) < 18 {
		return ProcStat{}, fmt.Errorf("proc stat: %d fields", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 63)
	st, err2 := strconv.ParseUint(f[12], 10, 63)
	th, err3 := strconv.Atoi(f[17])
	if err1 != nil || err2 != nil || err3 != nil || th < 0 {
		return ProcStat{}, fmt.Errorf("proc stat: bad utime/stime/threads %q %q %q", f[11], f[12], f[17])
	}
	user, sys := float64(ut)/clockTicks, float64(st)/clockTicks
	return ProcStat{UserSec: user, SystemSec: sys, Threads: th}, nil
}

// ParseProcStatus reads VmRSS (in bytes) from the contents of /proc/PID/status.
func ParseProcStatus(b []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("proc status: VmRSS %q", v)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("proc status: VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("proc status: no VmRSS")
}

// readProc samples a live process.
func readProc(pid int) (ProcStat, error) {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, err
	}
	ps, err := ParseProcPIDStat(st)
	if err != nil {
		return ProcStat{}, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcStat{}, err
	}
	rss, err := ParseProcStatus(status)
	if err != nil {
		return ProcStat{}, err
	}
	ps.RSSBytes = rss
	return ps, nil
}

// cpuWindow is the CPU time one process spent in a window of wall-clock
// time.
type cpuWindow struct {
	UserSec, SystemSec float64
	Wall               time.Duration
}

// cpuSkip is how much of each end of a load of duration d the CPU window
// leaves out: start-up (a process's own, the client's connections) and
// wind-down are not the steady state. 1 s each, a quarter of a short load.
func cpuSkip(d time.Duration) time.Duration { return min(time.Second, d/4) }

// sampleCPU reads pid's user and system time at start+skip and again at
// start+d-skip (skip = cpuSkip(d)), while a load that started at start runs
// for d, and returns what it spent in between. The process must outlive
// the window; ctx ends the wait early.
func sampleCPU(ctx context.Context, pid int, start time.Time, d time.Duration) (cpuWindow, error) {
	skip := cpuSkip(d)
	at := func(t time.Time) (ProcStat, time.Time, error) {
		if !sleepCtx(ctx, time.Until(t)) {
			return ProcStat{}, time.Time{}, ctx.Err()
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return ProcStat{}, time.Time{}, err
		}
		ps, err := ParseProcPIDStat(b)
		return ps, time.Now(), err
	}
	first, t0, err := at(start.Add(skip))
	if err != nil {
		return cpuWindow{}, err
	}
	last, t1, err := at(start.Add(d - skip))
	if err != nil {
		return cpuWindow{}, err
	}
	return cpuWindow{UserSec: last.UserSec - first.UserSec, SystemSec: last.SystemSec - first.SystemSec, Wall: t1.Sub(t0)}, nil
}
