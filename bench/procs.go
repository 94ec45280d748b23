package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// proc is a server the harness started and must stop: nginx, HAProxy,
// iperf3 -s, NSD, eplink. Its output goes to NAME.log in the work dir so a
// failed start can be explained.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

// start runs a long-lived server in the foreground of its own process group,
// so that stop can reach the children some servers fork (NSD) by group id,
// never by name.
func (h *harness) start(name, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(h.dir, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Dir = h.dir
	// Pdeathsig: if the harness itself is killed, the kernel stops the
	// server too, so no run leaves a process behind.
	cmd.SysProcAttr = serverAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	h.procs = append(h.procs, p)
	h.logger.Debug("started", "name", name, "pid", cmd.Process.Pid, "args", args)
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the process has already ended (a failed start).
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, then SIGKILL after a grace period.
func (p *proc) stop() {
	if p.exited() {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
}

// tail returns the end of the process's log, to explain a failure.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 800 {
		b = b[len(b)-800:]
	}
	return string(b)
}

// waitTCP waits until addr accepts connections or p dies or the timeout passes.
func waitTCP(ctx context.Context, p *proc, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited: %v: %s", p.name, p.err, p.tail())
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not listening after %v: %w", addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// output runs a bounded client command (wrk, iperf3, dnsperf) and returns
// its combined output; the timeout is a backstop over the tool's own limit.
func (h *harness) output(ctx context.Context, timeout time.Duration, bin string, args ...string) ([]byte, error) {
	return h.outputStarted(ctx, timeout, nil, bin, args...)
}

// outputStarted is output that, once the command runs, calls started (if
// not nil) with its pid, before waiting for it: for sampling a command
// that is itself measured (pasta). started must not block; the command may
// end at any moment after it starts.
func (h *harness) outputStarted(ctx context.Context, timeout time.Duration, started func(pid int), bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = h.dir
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = clientAttr()
	var out bytes.Buffer // what CombinedOutput does, with a moment between start and wait
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Start()
	if err == nil {
		if started != nil {
			started(cmd.Process.Pid)
		}
		err = cmd.Wait()
	}
	if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
		return out.Bytes(), fmt.Errorf("%s: %w", bin, ctx.Err())
	}
	return out.Bytes(), err
}

// freePort asks the kernel for a free loopback port. Another process can
// take it before we bind it; the start then fails loudly, which is enough
// for a benchmark harness.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
