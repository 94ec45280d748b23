package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// tool is an external program the harness drives and the Debian package
// that provides it.
type tool struct {
	bin, pkg    string
	versionArgs []string
	versionLine string // prefix of the line holding the version, "" for the first line
}

var tools = []tool{
	{bin: "wrk", pkg: "wrk", versionArgs: []string{"-v"}},
	{bin: "haproxy", pkg: "haproxy", versionArgs: []string{"-v"}},
	{bin: "nginx", pkg: "nginx", versionArgs: []string{"-v"}},
	{bin: "iperf3", pkg: "iperf3", versionArgs: []string{"-v"}},
	{bin: "dnsperf", pkg: "dnsperf", versionArgs: []string{"-h"}, versionLine: "Version"},
	{bin: "nsd", pkg: "nsd", versionArgs: []string{"-v"}},
}

// lookTool finds a tool on PATH or in the sbin directories, which a
// non-login root shell may not have on PATH.
func lookTool(bin string) (string, error) {
	if p, err := exec.LookPath(bin); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + bin
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found", bin)
}

// missingTools lists the tools not installed.
func missingTools() []tool {
	var out []tool
	for _, t := range tools {
		if _, err := lookTool(t.bin); err != nil {
			out = append(out, t)
		}
	}
	return out
}

// installTools installs the missing tools from Debian's packages with
// apt-get (as root, `apt-get update` once first). The packages' own
// services must not start: they would listen on every address (nginx on
// *:80), and the harness binds to loopback only; a policy-rc.d that says
// "101: action forbidden" is Debian's documented switch for that, and it is
// removed again afterwards.
func installTools(ctx context.Context, progress func(string)) error {
	miss := missingTools()
	if len(miss) == 0 {
		return nil
	}
	var pkgs []string
	for _, t := range miss {
		pkgs = append(pkgs, t.pkg)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("missing %s; install as root: apt-get install %s", strings.Join(pkgs, ", "), strings.Join(pkgs, " "))
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return fmt.Errorf("missing %s and no apt-get to install them", strings.Join(pkgs, ", "))
	}
	const policy = "/usr/sbin/policy-rc.d"
	if _, err := os.Stat(policy); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(policy, []byte("#!/bin/sh\nexit 101\n"), 0o755); err == nil {
			defer os.Remove(policy)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	env := append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	progress("installing " + strings.Join(pkgs, " ") + " (apt-get update, then install)")
	for _, args := range [][]string{
		{"update", "-qq"},
		append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...),
	} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %v: %s", args[0], err, lastLines(out, 5))
		}
	}
	if miss := missingTools(); len(miss) > 0 {
		return fmt.Errorf("still missing after apt-get: %s", miss[0].bin)
	}
	return nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Machine names what the results were measured on.
type Machine struct {
	Cores    int               `json:"cores"`
	CPU      string            `json:"cpu"`
	MemoryMB int64             `json:"memory_mb"`
	Kernel   string            `json:"kernel"`
	OS       string            `json:"os"`
	Go       string            `json:"go"`
	Eplink   string            `json:"eplink"`
	Tools    map[string]string `json:"tools"`
}

// describeMachine reads the machine's facts and each tool's version line.
func describeMachine(ctx context.Context, eplinkBin string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), Tools: map[string]string{}}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryMB = kb / 1024
		}
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	for _, t := range tools {
		m.Tools[t.bin] = toolVersion(ctx, t)
	}
	if eplinkBin != "" {
		m.Eplink = versionOutput(ctx, "", eplinkBin, "version")
	}
	return m
}

func toolVersion(ctx context.Context, t tool) string {
	p, err := lookTool(t.bin)
	if err != nil {
		return "not installed"
	}
	return versionOutput(ctx, t.versionLine, p, t.versionArgs...)
}

// versionOutput returns the first line of a version command's output (or
// the first one starting with prefix); tools disagree on stdout vs stderr
// and on exit codes for -v/-h, so both are read and the code ignored.
func versionOutput(ctx context.Context, prefix, bin string, args ...string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	for _, l := range bytes.Split(out, []byte("\n")) {
		s := strings.TrimSpace(string(l))
		if s != "" && strings.HasPrefix(s, prefix) {
			return s
		}
	}
	return "unknown"
}
