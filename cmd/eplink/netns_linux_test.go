//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

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
	// as is how its eplink commands are run: os.Args[0], or for a
	// rootless server, setpriv and a copy of it that nobody may run.
	as []string
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
	config := filepath.Join(t.TempDir(), "config.json")
	return runNetns(t, prefix, config, []string{os.Args[0]}, args)
}

// runNetns starts `eplink serve ARGS…` as `AS… ARGS…` (AS runs eplink as
// some user), writing its profile to config, and waits for its banner.
func runNetns(t *testing.T, prefix, config string, as, args []string) *netnsServer {
	t.Helper()
	cmd := exec.Command(as[0], append(as[1:], args...)...)
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "EPLINK_CONFIG="+config)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = &testLogWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &netnsServer{t: t, prefix: prefix, cmd: cmd, done: make(chan error, 1), config: config, as: as}
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// Not after the output ends, and not for long after eplink exits: a
	// process eplink started and left running (a bug) holds stdout and
	// stderr open, and the test would hang instead of failing.
	cmd.WaitDelay = 5 * time.Second
	go func() { s.done <- cmd.Wait() }()
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

// eth0Stat is a counter of an instance's eth0 (/sys/class/net/eth0/statistics).
func (s *netnsServer) eth0Stat(t *testing.T, instance, name string) int64 {
	t.Helper()
	out, err := s.in(instance, "cat", "/sys/class/net/eth0/statistics/"+name)
	if err != nil {
		t.Fatalf("eth0 %s in %s: %v", name, instance, err)
	}
	var n int64
	if _, err := fmt.Sscan(out, &n); err != nil {
		t.Fatalf("eth0 %s in %s: %q", name, instance, out)
	}
	return n
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
	as := s.as
	if len(as) == 0 {
		as = []string{os.Args[0]}
	}
	cmd := exec.CommandContext(ctx, as[0], append(as[1:], args...)...)
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
	// The netns front end runs on its own count of Ps (procs), which the
	// Go collector reports.
	mresp, err := http.Get("http://" + s.banner["api"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	want := fmt.Sprintf("\ngo_sched_gomaxprocs_threads %d\n", procs(loops, true, os.Getenv("GOMAXPROCS") != ""))
	if !strings.Contains(string(mbody), want) {
		t.Errorf("/metrics lacks %q", strings.TrimSpace(want))
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
	counter := func(name string) int64 { return s.eth0Stat(t, "ecs03", name) }
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

// TestNetnsDelayedACK: the VPC's TCP acknowledges as a Linux peer does. A
// request answered at once costs the instance one packet, the answer, not
// also an ACK before it; an ACK held for an answer that does not come
// still arrives, soon and valid: the instance's unacknowledged bytes drain
// without a retransmission.
func TestNetnsDelayedACK(t *testing.T) {
	needRoot(t)
	s := startNetns(t, testPrefix("a"))
	counter := func(file, row, field string) int64 {
		out, err := s.in("ecs03", "cat", file)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		// /proc/net/snmp: a row of names, then a row of values.
		var names []string
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || f[0] != row+":" {
				continue
			}
			if names == nil {
				names = f
				continue
			}
			for i := range names {
				if names[i] == field && i < len(f) {
					var n int64
					fmt.Sscan(f[i], &n)
					return n
				}
			}
		}
		t.Fatalf("no %s %s in %s", row, field, file)
		return 0
	}
	rxPackets := func() int64 { return s.eth0Stat(t, "ecs03", "rx_packets") }
	retrans := func() int64 { return counter("/proc/net/snmp", "Tcp", "RetransSegs") }
	dial := func() *net.TCPConn {
		var c net.Conn
		err := netns.Do(s.prefix+"ecs03", func() (err error) {
			c, err = net.DialTimeout("tcp", net.JoinHostPort(s.banner["eni"], "80"), 8*time.Second)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(30 * time.Second))
		return c.(*net.TCPConn)
	}

	c := dial()
	br := bufio.NewReader(c)
	get := func() {
		fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if !strings.Contains(string(body), "This is ECS01.") {
			t.Fatalf("answer %q", body)
		}
	}
	get() // the connection's first exchange, whatever its packets
	const n = 100
	before := rxPackets()
	for range n {
		get()
	}
	got := rxPackets() - before
	t.Logf("%d requests answered: %d packets to the instance", n, got)
	if got > n*3/2 {
		t.Errorf("%d packets to the instance for %d answers: each answer comes after an ACK of its own", got, n)
	}

	// No answer comes to half a request: the ACK of it is held, then
	// sent on its own, and must be one the instance takes.
	c2 := dial()
	retrans0 := retrans()
	if _, err := fmt.Fprintf(c2, "GET / HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	raw, _ := c2.SyscallConn()
	unacked := func() (n int) {
		raw.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		return n
	}
	// Linux retransmits after 200 ms at the soonest: an ACK the
	// instance dropped would leave the bytes unacknowledged until then.
	deadline := time.Now().Add(150 * time.Millisecond)
	for unacked() > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if u := unacked(); u > 0 {
		t.Errorf("%d bytes still unacknowledged after 150 ms", u)
	}
	time.Sleep(300 * time.Millisecond)
	if r := retrans() - retrans0; r != 0 {
		t.Errorf("the instance retransmitted %d segments", r)
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

// asNobody is a copy of the test binary that user nobody may run, in a
// directory nobody may write (its HOME), and the command prefix that runs
// it as nobody.
func asNobody(t *testing.T) (dir string, as []string) {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("no setpriv (util-linux)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is 0700
	os.Chmod(dir, 0o777)
	bin := filepath.Join(dir, "eplink.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "env", "HOME=" + dir, bin}
}

// withTUN runs AS… in a mount namespace of its own whose /dev/net/tun is a
// device node of the given mode: what the host's mode is does not matter,
// and the host's is not changed.
func withTUN(mode string, as []string) []string {
	const script = `d=$(mktemp -d) && mount -t tmpfs -o mode=0755 tmpfs "$d" && mknod -m "$0" "$d/tun" c 10 200 && mount --bind "$d/tun" /dev/net/tun || exit 97
exec "$@"`
	return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", script, mode}, as...)
}

// TestNetnsRootlessRefused: without root, where /dev/net/tun is closed to
// the user, serve says so and how to fix it, and leaves nothing behind.
func TestNetnsRootlessRefused(t *testing.T) {
	needRoot(t)
	dir, as := asNobody(t)
	prefix := testPrefix("r")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data := filepath.Join(dir, "data")
	args := withTUN("0600", append(as, "serve", "--demo", "--network", "netns", "--netns-prefix", prefix,
		"--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--data-dir", data))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "EPLINK_CONFIG="+filepath.Join(dir, "config.json"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("serve as nobody with /dev/net/tun 0600: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{"/dev/net/tun", "uid 65534", "mode 0600", "chmod 0666 /dev/net/tun", "run eplink as root", "network: loopback"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, out)
		}
	}
	if got := leftovers(prefix); len(got) > 0 {
		t.Errorf("left behind: %v", got)
	}
	for _, p := range []string{data, filepath.Join(dir, "config.json")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a refused start made %s", p)
		}
	}
}

// TestNetnsRootlessInnerFails: when the eplink inside the user namespace
// cannot start (its API port is taken), the one the user started exits
// with its status, and the reason is said once.
func TestNetnsRootlessInnerFails(t *testing.T) {
	needRoot(t)
	dir, as := asNobody(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := withTUN("0666", append(as, "serve", "--demo", "--network", "netns", "--netns-prefix", testPrefix("f"),
		"--api-addr", taken.Addr().String(), "--dns-addr", "127.0.0.1:0", "--no-profile"))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("rootless serve on a taken port: %v, want exit status 1\n%s", err, out)
	}
	if n := strings.Count(string(out), "address already in use"); n != 1 {
		t.Errorf("the reason is said %d times, want once:\n%s", n, out)
	}
}

// TestNetnsRootless is the demo without root: eplink makes a user
// namespace of its own, the instances in it, and the guide's curl from
// ECS03 works through eplink exec, for the user who started it and for
// root. The host's /run/netns never sees its namespaces; SIGTERM stops
// both processes cleanly, and so does kill -9 of the one the user started.
func TestNetnsRootless(t *testing.T) {
	needRoot(t)
	dir, as := asNobody(t)
	prefix := testPrefix("u")
	config := filepath.Join(dir, "config.json")
	args := []string{"serve", "--demo", "--network", "netns", "--netns-prefix", prefix,
		"--api-addr", "127.0.0.1:0", "--dns-addr", "127.0.0.1:0", "--transition-delay", "50ms"}
	s := runNetns(t, prefix, config, withTUN("0666", as), args)
	s.as = as // eplink exec needs no TUN
	zone := s.banner["zone"]
	if want := "eplink exec ecs03 -- curl http://" + zone + "/"; s.banner["exec curl"] != want {
		t.Errorf("banner's curl = %q, want %q", s.banner["exec curl"], want)
	}
	out, err := s.eplink("exec", "ecs03", "--", "curl", "-sS", "-m", "10", "http://"+zone+"/")
	if err != nil || out != "Hello World ! This is ECS01." {
		t.Fatalf("eplink exec ecs03 -- curl (as nobody) = %q, %v", out, err)
	}
	out, err = s.eplink("exec", "ecs03", "--", "sh", "-c", "id -u; dig +short +time=3 +tries=2 "+zone)
	if want := "0\n" + s.banner["eni"]; err != nil || out != want {
		t.Errorf("id and dig in ecs03 = %q, %v; want %q (root of the user namespace; the ENI)", out, err, want)
	}
	if _, err := s.eplink("exec", "ecs03", "--", "sh", "-c", "exit 7"); err == nil || err.(*exec.ExitError).ExitCode() != 7 {
		t.Errorf("eplink exec of exit 7 = %v, want status 7", err)
	}
	out, err = s.eplink("status", "--once", "--interval", "50ms", "--profile", "consumer")
	if want := prefix + "ecs03 (user namespace of eplink "; err != nil || !strings.Contains(out, want) {
		t.Errorf("eplink status lacks %q: %v\n%s", want, err, out)
	}
	// The command runs where the caller stands (the mount namespace is
	// eplink's, and setns into it resets the working directory).
	pwd := exec.Command(as[0], append(as[1:], "exec", "ecs03", "--", "pwd")...)
	pwd.Dir = dir
	pwd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1", "EPLINK_CONFIG="+config)
	if b, err := pwd.CombinedOutput(); err != nil || strings.TrimSpace(string(b)) != dir {
		t.Errorf("pwd in ecs03 = %q, %v; want %s", b, err, dir)
	}
	// Root enters as the user who started eplink.
	s.as = []string{os.Args[0]}
	if out, err := s.eplink("exec", "ecs03", "--", "curl", "-sS", "-m", "10", "http://"+zone+"/"); err != nil || out != "Hello World ! This is ECS01." {
		t.Errorf("eplink exec ecs03 -- curl (as root) = %q, %v", out, err)
	}
	if got := leftovers(prefix); len(got) > 0 {
		t.Errorf("the host sees the rootless namespaces: %v", got)
	}
	inner := profilePID(t, config)
	s.stop(syscall.SIGTERM)
	waitGone(t, inner)

	// kill -9 of the eplink the user started: the one in the user
	// namespace is told to stop, and does.
	s = runNetns(t, prefix, config, withTUN("0666", as), args)
	inner = profilePID(t, config)
	s.stop(syscall.SIGKILL)
	waitGone(t, inner)
}

// profilePID is the pid of the eplink that wrote config's profiles.
func profilePID(t *testing.T, config string) int {
	t.Helper()
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	var pf profileFile
	if err := json.Unmarshal(b, &pf); err != nil {
		t.Fatal(err)
	}
	for _, p := range pf.Profiles {
		if p.PID > 0 {
			return p.PID
		}
	}
	t.Fatalf("no pid in %s", b)
	return 0
}

// waitGone waits for process pid to end.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); processAlive(pid); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("eplink %d still runs 15s later", pid)
		}
	}
}

// TestNetnsRootlessExperiment runs the netns experiment plan (a load
// inside ECS03) without root: the run makes one user namespace for its
// eplink and its loads, and nothing shows in the host's /run/netns.
func TestNetnsRootlessExperiment(t *testing.T) {
	needRoot(t)
	dir, as := asNobody(t)
	// The plan and its lab, where nobody may read them.
	for _, f := range []string{"inside-instance.yaml", "lab.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "experiments", "netns", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := withTUN("0666", append(as, "experiment", "run", filepath.Join(dir, "inside-instance.yaml"), "--out", filepath.Join(dir, "out")))
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "EPLINK_TEST_AS_MAIN=1")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS inside-instance") {
		t.Fatalf("experiment run as nobody: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "report.md")); err != nil {
		t.Errorf("no report: %v", err)
	}
	es, _ := os.ReadDir("/run/netns")
	for _, e := range es {
		if strings.HasPrefix(e.Name(), "x") && strings.HasSuffix(e.Name(), "-ecs03") {
			t.Errorf("the host's /run/netns has %s", e.Name())
		}
	}
}
