package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of /proc/PID/stat times; it is 100 on
// every Linux the harness runs on (getconf CLK_TCK).
const clockTicks = 100

// ProcStat is a process's resource use read from /proc.
type ProcStat struct {
	RSSBytes int64   `json:"rss_bytes"`
	CPUSec   float64 `json:"cpu_s"` // user + system since start
	Threads  int     `json:"threads"`
}

// ParseProcPIDStat reads utime+stime and the thread count from the contents
// of /proc/PID/stat. The command name may hold spaces and parentheses, so
// fields are counted from the last ')'.
func ParseProcPIDStat(b []byte) (cpuSec float64, threads int, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("proc stat: no command name")
	}
	f := strings.Fields(string(b[i+1:]))
	// After ")": state(3) … utime(14) stime(15) … num_threads(20), so index = field-3.
	if len(f) < 18 {
		return 0, 0, fmt.Errorf("proc stat: %d fields", len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	th, err3 := strconv.Atoi(f[17])
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("proc stat: bad utime/stime/threads %q %q %q", f[11], f[12], f[17])
	}
	return float64(ut+st) / clockTicks, th, nil
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
	cpu, th, err := ParseProcPIDStat(st)
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
	return ProcStat{RSSBytes: rss, CPUSec: cpu, Threads: th}, nil
}
