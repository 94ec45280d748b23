//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"eplink/dataplane/netns"
)

// netnsServer is `eplink serve --demo --network netns` as a child process,
// with a namespace prefix of its own so that tests never meet other
// eplinks' namespaces.
type netnsServer struct {
	t      *testing.T
	prefix string
	cmd    *exec.Cmd
	banner map[string]string
	done   chan error
	config string // the profile it writes
}

func needRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	if os.Geteuid() != 0 {
		t.Skip("the netns front end needs root (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command (iproute2)")
	}
	for _, tool := range []string{"curl", "dig"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s", tool)
		}
	}
}

func testPrefix(tag string) string {
	return fmt.Sprintf("t%d%s-", os.Getpid()%100000, tag)
}

func startNetns(t *testing.T, prefix string, extra ...string) *netnsServer {
	t.Helper()
	args := append([]string{"serve", "--demo", "--network", "netns", "--netns-prefix", prefix,
		"--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--transition-delay", "50ms"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	config := filepath.Join(t.TempDir(), "config.json")
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "EPLINK_CONFIG="+config)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &netnsServer{t: t, prefix: prefix, cmd: cmd, done: make(chan error, 1), config: config}
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		s.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		s.stop(syscall.SIGTERM)
		removeLeftovers(prefix) // whatever a failed test left
	})
	s.banner = waitBanner(t, lines)
	go func() {
		for range lines {
		}
	}()
	return s
}

// stop signals the server and waits for it; it reports whether it had
// still been running.
func (s *netnsServer) stop(sig syscall.Signal) bool {
	if s.cmd.ProcessState != nil || s.cmd.Process.Signal(sig) != nil {
		return false
	}
	select {
	case err := <-s.done:
		if sig == syscall.SIGTERM && err != nil {
			s.t.Errorf("eplink did not exit cleanly on SIGTERM: %v", err)
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("eplink did not stop within 15s of %v", sig)
	}
	return true
}

// in runs a command inside an instance's namespace, as a user would.
func (s *netnsServer) in(instance string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", s.prefix + instance}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// eplink runs `eplink ARGS…` against the server (its profile).
func (s *netnsServer) eplink(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "EPLINK_CONFIG="+s.config)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// leftovers lists what eplink made for prefix and did not remove.
func leftovers(prefix string) []string {
	var out []string
	for _, dir := range []string{"/run/netns", "/etc/netns", "/run/eplink/netns"} {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			if strings.HasPrefix(e.Name(), prefix) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

func removeLeftovers(prefix string) {
	for _, p := range leftovers(prefix) {
		if strings.HasPrefix(p, "/run/netns/") {
			exec.Command("ip", "netns", "delete", filepath.Base(p)).Run()
		}
		os.RemoveAll(p)
	}
}

// TestNetnsDemo is the guide's step from inside VPC1: ECS03 resolves the
// zone domain through the VPC resolver named in its resolv.conf and
// reaches ECS01 behind CLB1; SIGTERM leaves no namespace, file or TUN.
func TestNetnsDemo(t *testing.T) {
	needRoot(t)
	prefix := testPrefix("d")
	s := startNetns(t, prefix)
	zone := s.banner["zone"]
	if zone == "" {
		t.Fatalf("banner lacks the zone domain: %v", s.banner)
	}
	out, err := s.in("ecs03", "curl", "-sS", "-m", "10", "http://"+zone+"/")
	if err != nil || out != "Hello World ! This is ECS01." {
		t.Fatalf("curl from ecs03 = %q, %v", out, err)
	}
	// The banner says to do just that (curl from the host cannot reach
	// an address inside VPC1).
	if want := "ip netns exec " + prefix + "ecs03 curl http://" + zone + "/"; s.banner["netns curl"] != want {
		t.Errorf("banner's curl = %q, want %q", s.banner["netns curl"], want)
	}
	for _, tcp := range []string{"+notcp", "+tcp"} {
		out, err := s.in("ecs03", "dig", "@100.100.2.136", tcp, "+short", "+time=3", "+tries=2", zone)
		if err != nil || out != s.banner["eni"] {
			t.Errorf("dig %s from ecs03 = %q, %v; want the ENI %s", tcp, out, err, s.banner["eni"])
		}
	}
	// eplink exec enters the instance by its id; the command's status is
	// eplink's.
	out, err = s.eplink("exec", "ecs03", "--", "curl", "-sS", "-m", "10", "http://"+zone+"/")
	if err != nil || out != "Hello World ! This is ECS01." {
		t.Errorf("eplink exec ecs03 -- curl = %q, %v", out, err)
	}
	if _, err := s.eplink("exec", "ecs03", "--", "sh", "-c", "exit 7"); err == nil || err.(*exec.ExitError).ExitCode() != 7 {
		t.Errorf("eplink exec of exit 7 = %v, want status 7", err)
	}
	if out, err := s.eplink("exec", "ecs09", "--", "true"); err == nil || !strings.Contains(out, "no instance \"ecs09\"") {
		t.Errorf("eplink exec ecs09 = %q, %v; want no such instance", out, err)
	}
	out, err = s.eplink("status", "--once", "--interval", "50ms", "--profile", "consumer")
	if err != nil || !strings.Contains(out, "INSTANCES") || !strings.Contains(out, prefix+"ecs03") || !strings.Contains(out, "10.10.0.190") {
		t.Errorf("eplink status lacks the instances: %v\n%s", err, out)
	}
	// Nothing routes out of a VPC: not to the host, not to the other VPC.
	if out, err := s.in("ecs03", "curl", "-sS", "-m", "3", "http://192.168.24.246/"); err == nil {
		t.Errorf("ecs03 reached ECS01 directly, across VPCs: %q", out)
	}
	if got := leftovers(prefix); len(got) != 3*3 { // 3 instances: namespace, /etc/netns, record
		t.Errorf("while running: %v, want 9 entries", got)
	}
	s.stop(syscall.SIGTERM)
	if got := leftovers(prefix); len(got) > 0 {
		t.Errorf("after SIGTERM, left behind: %v", got)
	}
}

// TestNetnsKill9 kills eplink with SIGKILL: its namespaces stay (nothing
// could remove them), and the next start removes them and builds anew.
func TestNetnsKill9(t *testing.T) {
	needRoot(t)
	prefix := testPrefix("k")
	s := startNetns(t, prefix)
	s.stop(syscall.SIGKILL)
	if got := leftovers(prefix); len(got) == 0 {
		t.Fatal("SIGKILL left nothing: the test proves nothing")
	}
	s = startNetns(t, prefix)
	out, err := s.in("ecs03", "curl", "-sS", "-m", "10", "http://"+s.banner["zone"]+"/")
	if err != nil || out != "Hello World ! This is ECS01." {
		t.Fatalf("after a restart, curl from ecs03 = %q, %v", out, err)
	}
	s.stop(syscall.SIGTERM)
	if got := leftovers(prefix); len(got) > 0 {
		t.Errorf("after SIGTERM, left behind: %v", got)
	}
}

// TestNetnsOffload: eth0 carries TCP segments far larger than its MTU (the
// TUN's virtio header and offloads at work): 32 MiB from ECS01 arrive in
// fewer packets than a quarter of what 1500-byte packets would take.
func TestNetnsOffload(t *testing.T) {
	needRoot(t)
	s := startNetns(t, testPrefix("o"))
	counter := func(name string) int64 {
		out, err := s.in("ecs03", "cat", "/sys/class/net/eth0/statistics/"+name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var n int64
		fmt.Sscan(out, &n)
		return n
	}
	packets, bytes := counter("rx_packets"), counter("rx_bytes")
	const size = 32 << 20
	out, err := s.in("ecs03", "curl", "-sS", "-m", "30", "-o", "/dev/null", "-w", "%{size_download}",
		fmt.Sprintf("http://%s/bytes?n=%d", s.banner["zone"], size))
	if err != nil || out != fmt.Sprint(size) {
		t.Fatalf("download: %q, %v", out, err)
	}
	packets, bytes = counter("rx_packets")-packets, counter("rx_bytes")-bytes
	t.Logf("%d bytes in %d packets (%d bytes each)", bytes, packets, bytes/max(packets, 1))
	if packets > size/1500/4 {
		t.Errorf("%d packets for %d bytes: the segments are not offloaded", packets, bytes)
	}
}

// TestNetnsPortReuse: a client that connects again from the port it just
// used, right after the server closed first (Connection: close), gets
// through within seconds: eplink's side of the last connection does not
// hold the port in TIME-WAIT for a minute.
func TestNetnsPortReuse(t *testing.T) {
	needRoot(t)
	s := startNetns(t, testPrefix("p"))
	addr := net.JoinHostPort(s.banner["eni"], "80")
	const port = 40123
	for i := 0; i < 3; i++ {
		var body []byte
		err := netns.Do(s.prefix+"ecs03", func() error {
			d := net.Dialer{Timeout: 8 * time.Second, LocalAddr: &net.TCPAddr{Port: port},
				Control: func(_, _ string, c syscall.RawConn) error {
					var serr error
					c.Control(func(fd uintptr) {
						serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
					})
					return serr
				}}
			c, err := d.Dial("tcp", addr)
			for tries := 0; errors.Is(err, syscall.EADDRNOTAVAIL) && tries < 100; tries++ {
				// This side's last socket on the port is still in LAST-ACK.
				time.Sleep(10 * time.Millisecond)
				c, err = d.Dial("tcp", addr)
			}
			if err != nil {
				return err
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(8 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			body, err = io.ReadAll(c)
			return err
		})
		if err != nil || !strings.Contains(string(body), "This is ECS01.") {
			t.Fatalf("connection %d from port %d: %v (%q)", i, port, err, body)
		}
	}
}

// TestNetnsNeedsRoot: without root, serve says what it needs and how to
// get it, and leaves nothing behind.
func TestNetnsNeedsRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the server")
	}
	if os.Geteuid() != 0 {
		t.Skip("runs the server as another user, which needs root")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary must be readable and runnable by nobody.
	dir := t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is 0700
	bin := filepath.Join(dir, "eplink.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	prefix := testPrefix("r")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "serve", "--demo", "--network", "netns", "--netns-prefix", prefix,
		"--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--no-profile", "--data-dir", filepath.Join(dir, "data"))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "HOME="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	os.Chmod(dir, 0o777)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs root") || !strings.Contains(string(out), "network: loopback") {
		t.Fatalf("serve --network netns as nobody: %v\n%s", err, out)
	}
	if got := leftovers(prefix); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
}
