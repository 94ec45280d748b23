package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestOutputStarted checks that the pid handed over is the started
// command's own, alive at that moment, and that the output is still the
// combined output.
func TestOutputStarted(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	h := &harness{dir: t.TempDir()}
	var comm string
	calls := 0
	out, err := h.outputStarted(context.Background(), time.Minute, func(pid int) {
		calls++
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Errorf("started pid %d: %v", pid, err)
			return
		}
		comm = string(b)
	}, "sh", "-c", "echo out; echo err >&2")
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || !strings.Contains(comm, "(sh)") {
		t.Errorf("started called %d times; /proc/PID/stat %q, want sh's", calls, comm)
	}
	if got := string(out); !strings.Contains(got, "out\n") || !strings.Contains(got, "err\n") {
		t.Errorf("output %q, want stdout and stderr", got)
	}
	// A command that cannot start calls nothing.
	if _, err := h.outputStarted(context.Background(), time.Minute, func(int) { t.Error("started called") },
		"/nonexistent/eplink-bench-tool"); err == nil {
		t.Error("a missing binary ran")
	}
}

func TestCPUSkip(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{time.Second, 250 * time.Millisecond},
		{2 * time.Second, 500 * time.Millisecond},
		{5 * time.Second, time.Second},
		{10 * time.Second, time.Second},
	} {
		if got := cpuSkip(tc.d); got != tc.want {
			t.Errorf("cpuSkip(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// TestSampleCPU samples this test process while a goroutine spins; how
// much CPU it gets depends on the machine's load, so only the window's
// shape is checked, and the errors.
func TestSampleCPU(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	w, err := sampleCPU(context.Background(), os.Getpid(), time.Now(), 400*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if w.Wall <= 0 || w.UserSec < 0 || w.SystemSec < 0 {
		t.Errorf("window %+v", w)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := sampleCPU(ctx, os.Getpid(), time.Now(), time.Hour); err == nil {
		t.Error("a cancelled sampling returned a window")
	}
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Skip(err)
	}
	if _, err := sampleCPU(context.Background(), gone.Process.Pid, time.Now(), 40*time.Millisecond); err == nil {
		t.Errorf("a reaped process (pid %d) was sampled", gone.Process.Pid)
	}
}
